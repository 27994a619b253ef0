#include "propagon/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

namespace propagon {

ProgressReporter::ProgressReporter(std::int64_t total_steps, double pixels_per_step, std::FILE* stream, bool enabled)
    : total_(total_steps), pixels_per_step_(pixels_per_step), stream_(stream), enabled_(enabled),
      terminal_(isatty(fileno(stream)) != 0), start_(std::chrono::steady_clock::now()), last_print_(start_) {}

double ProgressReporter::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressReporter::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.1f} s", s);
  if (s < 3600) return fmt::format("{} min {} s", int(s / 60), int(std::fmod(s, 60)));
  return fmt::format("{} h {} min", int(s / 3600), int(std::fmod(s, 3600) / 60));
}

void ProgressReporter::update(std::int64_t step) {
  if (!enabled_ || total_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const int decile = int(10 * step / total_);
  const bool due = terminal_ ? std::chrono::duration<double>(now - last_print_).count() >= 0.25
                             : decile > last_decile_;
  if (!due && step != total_) return;
  if (!terminal_ && decile == last_decile_) return;
  last_print_ = now;
  last_decile_ = decile;
  const double elapsed = seconds();
  const double rate = elapsed > 0 ? step * pixels_per_step_ / elapsed / 1e6 : 0.0;
  const double eta = step > 0 ? elapsed * double(total_ - step) / double(step) : NAN;
  const std::string line = fmt::format("step {:>{}}/{} [{:3d}%]  {:.1f} Mpixel-steps/s  elapsed {}  ETA {}", step,
                                       std::to_string(total_).size(), total_, int(100 * step / total_), rate,
                                       format_duration(elapsed), format_duration(eta));
  if (terminal_) fmt::print(stream_, "\r{:<78}", line);
  else fmt::print(stream_, "{}\n", line);
  drawn_ = true;
  std::fflush(stream_);
}

void ProgressReporter::finish() {
  if (enabled_ && terminal_ && drawn_) fmt::print(stream_, "\n");
  std::fflush(stream_);
}

}  // namespace propagon
