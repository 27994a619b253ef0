#include "propagon/history.hpp"

#include <fmt/format.h>

#include "propagon/error.hpp"

namespace propagon {

HistoryWriter::HistoryWriter(const std::filesystem::path& file) : file_(file), out_(file, std::ios::trunc) {
  if (!out_) throw RunError(fmt::format("cannot create {}", file.string()));
  out_ << header << '\n';
}

void HistoryWriter::write(std::int64_t step, double time, const std::string& channel, const FieldStats& s,
                          double absorbed) {
  out_ << fmt::format("{},{:.17g},{},{:.17g},{:.9g},{:.9g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n",
                      step, time, channel, s.mass, s.min, s.max, s.mean[2], s.mean[1], s.mean[0], s.variance[2],
                      s.variance[1], s.variance[0], absorbed);
}

void HistoryWriter::flush() {
  out_.flush();
  if (!out_) throw RunError(fmt::format("cannot write {}", file_.string()));
}

}  // namespace propagon
