#pragma once
/// @file solver.hpp
/// The state of a run and how it advances: one interface for every mode, so the step loop and the
/// observers need not know which mode runs. A solver knows nothing about files; it hands out host
/// copies of its arrays for whoever writes them.
#include <memory>
#include <vector>

#include "propagon/config.hpp"
#include "propagon/field_stats.hpp"
#include "propagon/input.hpp"
#include "propagon/snapshot.hpp"

namespace propagon {

/// Host copies of a solver's arrays at one step (zero-copy where the data already lives on the
/// host), with the SnapshotChannel views a writer needs.
class HostArrays {
 public:
  virtual ~HostArrays() = default;
  virtual const std::vector<SnapshotChannel>& channels() const = 0;
};

class Solver {
 public:
  virtual ~Solver() = default;
  /// Advances the state from step - 1 to step.
  virtual void advance(std::int64_t step) = 0;
  /// Advances from first_step - 1 by up to max_steps steps at once when the solver can fuse them
  /// (temporal blocking), and returns how many it took (at least 1). `stats` receives the
  /// statistics after each of those steps. The default takes one step.
  virtual std::int64_t advance_fused(std::int64_t first_step, std::int64_t max_steps, std::vector<std::vector<FieldStats>>& stats) {
    (void)max_steps;
    advance(first_step);
    stats.assign(1, this->stats());
    return 1;
  }
  /// Statistics of the concentration (replicate 0 in the stochastic modes).
  virtual std::vector<FieldStats> stats() const = 0;
  /// Cumulative mass removed by absorbing walls, per channel (replicate 0).
  virtual std::vector<double> absorbed() const = 0;
  /// A copy that the caller may keep while the solver goes on (a background writer does).
  virtual std::shared_ptr<const HostArrays> host_arrays() const = 0;
  /// Replaces the state by one read from a snapshot.
  virtual void restore(const RestartState& state) = 0;
  /// True when a step costs nothing until its field is asked for (the spectral mode): the step
  /// loop then visits only the steps an observer needs.
  virtual bool jumps() const { return false; }
};

/// The solver for the run's mode and precision. Throws InputError (e.g. negative input for the
/// stochastic modes).
std::unique_ptr<Solver> make_solver(const RunDescription& run, const InitialState& initial);
/// The same, freeing each of initial.values once the solver holds its own copy, so that a large
/// run does not keep the float64 input beside its fields (grid and channels stay).
std::unique_ptr<Solver> make_solver_releasing_input(const RunDescription& run, InitialState& initial);

}  // namespace propagon
