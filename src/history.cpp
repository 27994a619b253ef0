#include "propagon/history.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "propagon/error.hpp"

namespace propagon {

HistoryWriter::HistoryWriter(const std::filesystem::path& file, std::int64_t continue_after) : file_(file) {
  std::string kept = std::string(header) + "\n";
  if (continue_after >= 0) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      const std::size_t comma = line.find(',');
      if (comma == std::string::npos) continue;
      try {
        if (std::stoll(line.substr(0, comma)) <= continue_after) kept += line + "\n";
      } catch (const std::exception&) {
      }
    }
  }
  // Rewritten through a temporary file, so the old history survives a failure here.
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept;
    if (!out.flush()) throw RunError(fmt::format("cannot write {}", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw RunError(fmt::format("cannot create {}: {}", file.string(), ec.message()));
  fd_ = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw RunError(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
}

HistoryWriter::~HistoryWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void HistoryWriter::write(std::int64_t step, double time, const std::string& channel, const FieldStats& s,
                          double absorbed) {
  pending_ += fmt::format("{},{:.17g},{},{:.17g},{:.9g},{:.9g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n",
                          step, time, channel, s.mass + 0.0, s.min + 0.0, s.max + 0.0, s.mean[2] + 0.0, s.mean[1] + 0.0,
                          s.mean[0] + 0.0, s.variance[2] + 0.0, s.variance[1] + 0.0, s.variance[0] + 0.0,
                          absorbed + 0.0);  // + 0.0 turns -0 into 0
}

void HistoryWriter::flush() {
  std::size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw RunError(fmt::format("cannot write {}: {}", file_.string(), std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  pending_.clear();
}

}  // namespace propagon
