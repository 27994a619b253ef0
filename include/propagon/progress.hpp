#pragma once
/// @file progress.hpp
/// Progress of a long run on stderr: percentage, throughput in Mpixel-steps/s and ETA. On a
/// terminal one line is redrawn a few times a second; in a log a line is printed every 10%.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace propagon {

class ProgressReporter {
 public:
  ProgressReporter(std::int64_t total_steps, double pixels_per_step, std::FILE* stream, bool enabled);
  void update(std::int64_t step);
  void finish();
  double seconds() const;
  /// "1.2 s", "3 min 4 s", "2 h 5 min".
  static std::string format_duration(double seconds);

 private:
  std::int64_t total_;
  double pixels_per_step_;
  std::FILE* stream_;
  bool enabled_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_print_;
  int last_decile_ = 0;
  bool drawn_ = false;
};

}  // namespace propagon
