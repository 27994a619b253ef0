#pragma once
/// @file run.hpp
/// The driver: run description + initial state -> fields and propagator -> step loop -> observers
/// (snapshots with their XDMF index and previews, history, progress). The solver knows nothing of
/// files; observers never reach back into the solver.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "propagon/config.hpp"
#include "propagon/input.hpp"

namespace propagon {

struct RunOptions {
  bool progress = true;  ///< progress lines on stderr
  bool quiet = false;    ///< no start-up and final summaries on stdout
  /// Continue from this snapshot instead of step 0 (same bits as the uninterrupted run).
  std::filesystem::path restart;
};

struct ChannelSummary {
  std::string channel;
  double mass_start = 0.0, mass_end = 0.0, absorbed = 0.0;
};

struct RunSummary {
  std::int64_t steps = 0;
  std::int64_t snapshots = 0;
  double seconds = 0.0;
  double pixel_steps_per_second = 0.0;
  std::vector<ChannelSummary> channels;
  std::filesystem::path output_dir, xdmf_file;
  std::int64_t first_step = 0;      ///< 0, or the restart snapshot's step
  std::int64_t last_step = 0;       ///< the step the run ended at
  int stopped_by_signal = 0;        ///< SIGINT or SIGTERM if the run was asked to stop early
  std::filesystem::path last_snapshot;
};

/// A human-readable description of the effective run (used by `validate` and at start-up).
std::string describe_run(const RunDescription& run, const InitialState& initial);

/// Runs the simulation and writes its outputs. Throws RunError on I/O failures.
RunSummary run_simulation(const RunDescription& run, const InitialState& initial, const RunOptions& options = {});
/// The same, freeing the input values once the solver holds its own copy (lower peak memory).
RunSummary run_simulation(const RunDescription& run, InitialState&& initial, const RunOptions& options = {});

}  // namespace propagon
