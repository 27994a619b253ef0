#pragma once
/// @file history.hpp
/// history.csv: one row per step and channel,
/// step,time,channel,mass,min,max,mean_x,mean_y,mean_z,var_x,var_y,var_z,absorbed
/// (moments in grid-index units; absorbed = cumulative mass removed by absorbing walls).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "propagon/field_stats.hpp"

namespace propagon {

class HistoryWriter {
 public:
  static constexpr const char* header = "step,time,channel,mass,min,max,mean_x,mean_y,mean_z,var_x,var_y,var_z,absorbed";
  explicit HistoryWriter(const std::filesystem::path& file);
  void write(std::int64_t step, double time, const std::string& channel, const FieldStats& stats, double absorbed);
  void flush();

 private:
  std::filesystem::path file_;
  std::ofstream out_;
};

}  // namespace propagon
