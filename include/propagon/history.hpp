#pragma once
/// @file history.hpp
/// history.csv: one row per step and channel,
/// step,time,channel,mass,min,max,mean_x,mean_y,mean_z,var_x,var_y,var_z,absorbed
/// (moments in grid-index units; absorbed = cumulative mass removed by absorbing walls).
/// Rows are kept in memory and appended with one write() at every snapshot, so after a crash the
/// file ends with a whole row: the history is complete up to the last snapshot.
#include <cstdint>
#include <filesystem>
#include <string>

#include "propagon/field_stats.hpp"

namespace propagon {

class HistoryWriter {
 public:
  static constexpr const char* header = "step,time,channel,mass,min,max,mean_x,mean_y,mean_z,var_x,var_y,var_z,absorbed";
  /// Starts a new file, or with `continue_after` >= 0 keeps the rows of steps <= continue_after of
  /// an existing one (a restart) and drops the rest.
  explicit HistoryWriter(const std::filesystem::path& file, std::int64_t continue_after = -1);
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;
  void write(std::int64_t step, double time, const std::string& channel, const FieldStats& stats, double absorbed);
  /// Appends the rows written so far to the file.
  void flush();

 private:
  std::filesystem::path file_;
  int fd_ = -1;
  std::string pending_;
};

}  // namespace propagon
