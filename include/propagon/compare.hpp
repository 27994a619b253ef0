#pragma once
/// @file compare.hpp
/// `propagon compare A B`: differences between two snapshots, or two runs matched by step, per step
/// and channel. When a side is stochastic it also measures the difference against the expected
/// statistical noise (z-scores).
///
/// What is compared: each side's ensemble mean (/ensemble/mean) when it has one, else its field
/// (/fields, replicate 0). z = (A - B) / sqrt(v), where v is the ensemble variance / R for an
/// ensemble side, and for a single stochastic realisation the variance of independent random
/// walkers, at most mean / particles_per_unit (the Poisson bound, used here; it is exact in the
/// limit of many steps and slightly generous after the first ones). Two random sides add their v.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace propagon {

struct CompareRow {
  std::int64_t step = 0;
  std::string channel;
  std::int64_t cells = 0;
  double l1 = 0, l2 = 0, linf = 0, rel_l2 = 0;  ///< norms of A - B: sum |d|, sqrt(sum d^2), max |d|, L2 / L2(B)
  double mass_a = 0, mass_b = 0, mass_diff = 0;
  std::int64_t nonfinite_a = 0, nonfinite_b = 0;  ///< NaN or Inf cells on each side
  bool has_z = false;
  double max_abs_z = 0, fraction_z_above_3 = 0;
};

struct CompareReport {
  std::string a, b;  ///< what was compared (paths)
  std::string a_kind, b_kind;  ///< "deterministic", "stochastic (1 replicate)", "ensemble of 100", ...
  std::string z_variance;  ///< how v was obtained, or "" when neither side is random
  std::vector<std::string> notes;  ///< mismatches worth knowing (steps, spacing, missing z)
  std::vector<CompareRow> rows;
};

/// Compares two snapshot files or two run folders (matched by step). With `output_dir`, writes the
/// difference fields (and z maps) as snapshots with an XDMF index there. Throws InputError.
CompareReport compare_runs(const std::filesystem::path& a, const std::filesystem::path& b,
                           const std::optional<std::filesystem::path>& output_dir = std::nullopt);

/// Human-readable table.
std::string format_table(const CompareReport& report);
/// JSON for scripts (non-finite numbers are written as null).
std::string format_json(const CompareReport& report);
/// The value of a metric (l1, l2, linf, rel_l2, mass_diff, max_abs_z) of a row. Throws
/// std::invalid_argument for an unknown name.
double metric_value(const CompareRow& row, const std::string& metric);
const std::vector<std::string>& metric_names();

}  // namespace propagon
