#include "propagon/run.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "propagon/background.hpp"
#include "propagon/compat.hpp"
#include "propagon/error.hpp"
#include "propagon/history.hpp"
#include "propagon/insitu.hpp"
#include "propagon/interrupt.hpp"
#include "propagon/preview.hpp"
#include "propagon/progress.hpp"
#include "propagon/snapshot.hpp"
#include "propagon/solver.hpp"
#include "propagon/version.hpp"
#include "propagon/xdmf.hpp"

namespace propagon {

namespace {

namespace fs = std::filesystem;
namespace L = snapshot_layout;

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (auto n : shape) s += (s.empty() ? "" : " x ") + std::to_string(n);
  return s;
}

/// What observers see after each step.
struct StepState {
  std::int64_t step;
  double time;
  const std::vector<FieldStats>& stats;
  const std::vector<double>& absorbed;  ///< cumulative, per channel
  const Solver& solver;
  bool final;  ///< the last step of this process (end of the run, or a requested stop)
  bool current;  ///< the solver's arrays are this step's (not so inside a group of fused steps)

  /// The solver's arrays on the host, copied once per step however many observers ask. The copy
  /// is the observers' own: a background writer may keep it while the solver goes on.
  std::shared_ptr<const HostArrays> shared_arrays() const {
    if (!current) throw std::logic_error("arrays asked for inside a group of fused steps");
    if (!host) host = solver.host_arrays();
    return host;
  }
  const HostArrays& arrays() const { return *shared_arrays(); }
  mutable std::shared_ptr<const HostArrays> host;
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void observe(const StepState& state) = 0;
  virtual void finish() {}
};

/// Previews map [0, max of the initial field] for conserving propagators, so a picture keeps its
/// brightness as it diffuses; raw filters (normalize: none) are stretched per snapshot.
double preview_top(const InitialState& initial) {
  double hi = 0.0;
  for (const auto& v : initial.values)
    for (double x : v) hi = std::max(hi, x);
  return hi > 0 ? hi : 1.0;
}

SnapshotHeader header_for(const RunDescription& run, std::int64_t step) {
  SnapshotHeader h;
  h.step = step;
  h.time = double(step) * run.dt;
  h.mode = mode_name(run.mode);
  h.boundary = boundary_name(run.boundary);
  h.precision = precision_name(run.precision);
  h.propagon_version = version_string;
  h.stochastic = is_stochastic(run.mode);
  h.seed = run.seed;
  h.replicate = 0;
  h.replicates = run.replicates;
  h.particles_per_unit = run.particles_per_unit;
  return h;
}

/// Snapshots (HDF5 + XDMF index + optional PNG previews) at step 0, every N steps, the last step,
/// and the step at which a stop was requested.
class SnapshotObserver : public Observer {
 public:
  /// `preview_hi`: the largest initial value (see preview_top()).
  SnapshotObserver(const RunDescription& run, const Grid& grid, double preview_hi, XdmfIndex& xdmf, std::function<void()> on_write)
      : run_(run), grid_(grid), xdmf_(xdmf), on_write_(std::move(on_write)), preview_hi_(preview_hi) {}
  /// The file, its entry in the index and its preview are written by a background thread, from
  /// the step's own host copy, while the next steps run; the next snapshot waits for it, so one is
  /// in flight at most. The index names a snapshot only once its file is complete.
  void observe(const StepState& s) override {
    if (!(s.step % run_.output_every == 0 || s.step == run_.steps || s.final)) return;
    writer_.wait();  // one copy in flight at most; a failed write surfaces here
    std::shared_ptr<const HostArrays> arrays = s.shared_arrays();
    const std::string name = L::file_name(s.step);
    last_ = run_.output_dir / L::snapshots_dir / name;
    ++count_;
    double lo = 0.0, hi = preview_hi_;
    if (run_.propagator.normalize == Normalization::none) {
      lo = s.stats[0].min;
      hi = s.stats[0].max;
      for (const auto& st : s.stats) lo = std::min(lo, st.min), hi = std::max(hi, st.max);
    }
    on_write_();  // history.csv up to this step, from this thread (the history is not shared)
    const std::int64_t step = s.step;
    const double time = s.time;
    const fs::path path = last_;
    writer_.submit([this, arrays, name, path, step, time, lo, hi] {
      write_snapshot(path, header_for(run_, step), grid_, arrays->channels(), run_.propagator, run_.effective_yaml);
      xdmf_.add(step, time, std::string(L::snapshots_dir) + "/" + name);
      if (run_.output_png && previewable(grid_)) {
        const fs::path png = run_.output_dir / "previews" / (name.substr(0, name.size() - 3) + ".png");
        std::vector<std::string> names;
        for (const auto& c : arrays->channels()) names.push_back(c.name);
        if (run_.precision == Precision::float32) {
          std::vector<const float*> ptrs;
          for (const auto& c : arrays->channels()) ptrs.push_back(static_cast<const float*>(c.field));
          write_preview<float>(png, grid_, names, ptrs, lo, hi);
        } else {
          std::vector<const double*> ptrs;
          for (const auto& c : arrays->channels()) ptrs.push_back(static_cast<const double*>(c.field));
          write_preview<double>(png, grid_, names, ptrs, lo, hi);
        }
      }
    });
  }
  void finish() override { writer_.wait(); }
  std::int64_t count() const { return count_; }
  const fs::path& last() const { return last_; }

 private:
  const RunDescription& run_;
  Grid grid_;
  XdmfIndex& xdmf_;
  std::function<void()> on_write_;
  double preview_hi_ = 1.0;
  std::int64_t count_ = 0;
  fs::path last_;
  BackgroundWorker writer_;  // last: destroyed (joined) before the members its jobs use
};

class HistoryObserver : public Observer {
 public:
  HistoryObserver(const fs::path& file, std::vector<std::string> channels, std::int64_t continue_after)
      : writer_(file, continue_after), channels_(std::move(channels)) {}
  void observe(const StepState& s) override {
    for (std::size_t c = 0; c < channels_.size(); ++c) writer_.write(s.step, s.time, channels_[c], s.stats[c], s.absorbed[c]);
  }
  void flush() { writer_.flush(); }
  void finish() override { writer_.flush(); }

 private:
  HistoryWriter writer_;
  std::vector<std::string> channels_;
};

/// Hands steps to ParaView Catalyst (every N-th, and the last).
class CatalystObserver : public Observer {
 public:
  CatalystObserver(const RunDescription& run, const Grid& grid, std::unique_ptr<InSituAdaptor> adaptor)
      : run_(run), grid_(grid), adaptor_(std::move(adaptor)) {}
  void observe(const StepState& s) override {
    if (!(s.step % run_.catalyst_every == 0 || s.final)) return;
    InSituFrame f;
    f.step = s.step;
    f.time = s.time;
    f.grid = grid_;
    f.float32 = run_.precision == Precision::float32;
    f.channels = &s.arrays().channels();
    try {
      adaptor_->execute(f);
    } catch (const std::runtime_error& e) {
      // The first frame is where a script's mistakes show: that is bad input, not a failed run.
      if (first_) throw StartError(e.what());
      throw RunError(e.what());
    }
    first_ = false;
  }
  void finish() override { adaptor_->finalize(); }

 private:
  const RunDescription& run_;
  Grid grid_;
  std::unique_ptr<InSituAdaptor> adaptor_;
  bool first_ = true;
};

class ProgressObserver : public Observer {
 public:
  explicit ProgressObserver(ProgressReporter& p) : progress_(p) {}
  void observe(const StepState& s) override { progress_.update(s.step); }
  void finish() override { progress_.finish(); }

 private:
  ProgressReporter& progress_;
};

bool is_inside(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  return fs::equivalent(file.parent_path(), dir / L::snapshots_dir, ec);
}

/// Clears what an earlier run left in the folder (or, for a restart in the same folder, what lies
/// beyond the restart step), so the index and history describe this run only.
void prepare_output_dir(const RunDescription& run, const Grid& grid_of_run, std::int64_t keep_up_to, bool announce) {
  const fs::path& dir = run.output_dir;
  std::error_code ec;
  bool replaced = false;
  for (const char* sub : {L::snapshots_dir, "previews"}) {
    if (!fs::exists(dir / sub, ec)) continue;
    for (const auto& e : fs::directory_iterator(dir / sub, ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("step_", 0) != 0) continue;
      const std::string h5name = n.size() > 4 && n.substr(n.size() - 4) == ".png" ? n.substr(0, n.size() - 4) + ".h5" : n;
      const auto step = L::step_of(h5name);
      if (step && *step <= keep_up_to) continue;
      fs::remove(e.path(), ec);
      replaced = true;
    }
  }
  if (keep_up_to < 0) {
    if (fs::remove(dir / "history.csv", ec)) replaced = true;
    if (fs::remove_all(dir / "catalyst", ec) > 0) replaced = true;  // an earlier run's extracts
    // Every index in the folder points into snapshots/, whatever run name wrote it: all are stale.
    if (fs::exists(dir, ec))
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".xmf" && fs::remove(e.path(), ec)) replaced = true;
  }
  if (replaced && announce && keep_up_to < 0) fmt::print("note: replacing the earlier run in {}\n", dir.string());
  fs::create_directories(dir / L::snapshots_dir, ec);
  if (ec) throw RunError(fmt::format("cannot create the output folder {}: {}", dir.string(), ec.message()));
  if (run.output_png && previewable(grid_of_run)) {
    fs::create_directories(dir / "previews", ec);
    if (ec) throw RunError(fmt::format("cannot create {}: {}", (dir / "previews").string(), ec.message()));
  }
}

/// Refuses a restart snapshot that does not belong to this run.
void check_restart(const fs::path& path, const RunDescription& run, const InitialState& initial) {
  const SnapshotData s = read_snapshot(path);
  std::vector<std::string> problems;
  auto differ = [&](const char* what, const std::string& snap, const std::string& now) {
    if (snap != now) problems.push_back(fmt::format("{}: the snapshot has {}, this run {}", what, snap, now));
  };
  differ("mode", s.header.mode, mode_name(run.mode));
  differ("boundary", s.header.boundary, boundary_name(run.boundary));
  differ("precision", s.header.precision, precision_name(run.precision));
  differ("grid", shape_text(s.shape), shape_text(initial.grid.shape()));
  differ("channels", fmt::format("{}", fmt::join(s.channels, ",")), fmt::format("{}", fmt::join(initial.channels, ",")));
  if (s.propagator != run.propagator.weights) problems.push_back("the propagator differs");
  if (std::abs(s.header.time - double(s.header.step) * run.dt) > 1e-9 * std::max(1.0, std::abs(s.header.time)))
    problems.push_back("dt differs");
  if (is_stochastic(run.mode)) {
    differ("seed", std::to_string(s.header.seed), std::to_string(run.seed));
    differ("replicates", std::to_string(s.header.replicates), std::to_string(run.replicates));
    differ("particles_per_unit", fmt::format("{}", s.header.particles_per_unit), fmt::format("{}", run.particles_per_unit));
  }
  if (s.header.step > run.steps)
    problems.push_back(fmt::format("the snapshot is at step {}, beyond this run's {} steps (raise propagation.steps)",
                                   s.header.step, run.steps));
  if (!problems.empty())
    throw InputError(fmt::format("{}: cannot continue this run from it:\n  {}", path.string(), fmt::join(problems, "\n  ")));
}

}  // namespace

std::string describe_run(const RunDescription& run, const InitialState& initial) {
  const Propagator& p = run.propagator;
  std::string s;
  s += fmt::format("run        {}  (config {})\n", run.name, run.config_file.string());
  s += fmt::format("input      {}\n", initial.description);
  s += fmt::format("grid       {}D, shape {} (slowest axis first), spacing {}, origin {}\n", initial.grid.rank,
                   shape_text(initial.grid.shape()), fmt::join(run.input.spacing, " "), fmt::join(run.input.origin, " "));
  s += fmt::format("channels   {}  (scale {})\n", fmt::join(initial.channels, ", "), run.input.scale);
  s += fmt::format("kernel     {} {}, normalize {}", p.preset,
                   shape_text(std::vector<std::int64_t>(p.extent.begin() + (3 - p.rank), p.extent.end())),
                   normalization_name(p.normalize));
  if (p.normalize == Normalization::softmax) s += fmt::format(", temperature {}", p.temperature);
  if (p.preset == "gaussian") s += fmt::format(", sigma {}", p.sigma);
  s += "\npropagator (push orientation: entry [a][b] sends content from (y, x) to (y+a-r, x+b-r))\n";
  s += format_kernel_table(p.weights, p.extent, p.rank);
  if (p.is_probability()) {
    const auto m = p.mean_displacement();
    const auto v = p.displacement_variance();
    const char* axes[3] = {"z", "y", "x"};
    s += "           per step:";
    auto clean = [](double x) { return std::abs(x) < 1e-12 ? 0.0 : x; };  // rounding noise of a symmetric kernel
    for (int a = 3 - p.rank; a < 3; ++a)
      s += fmt::format(" {} drift {:+.4g}, variance {:.4g};", axes[a], clean(m[a]), clean(v[a]));
    s += "\n";
  } else {
    const bool negative = std::any_of(p.weights.begin(), p.weights.end(), [](double w) { return w < 0; });
    s += fmt::format("           a raw filter (weights sum to {:.6g}{}): not a probability distribution, so mass is\n"
                     "           {} and repeated steps can amplify the field\n",
                     p.total(), negative ? ", some negative" : "",
                     std::abs(p.total() - 1) < 1e-12 ? "conserved only while values stay finite" : "not conserved");
  }
  s += fmt::format("mode       {}, {} step{} of dt {}, boundary {}, {}\n", mode_name(run.mode), run.steps,
                   run.steps == 1 ? "" : "s", run.dt,
                   boundary_name(run.boundary), precision_name(run.precision));
  if (is_stochastic(run.mode)) {
    s += fmt::format("particles  {} per unit of concentration (rounded per cell), seed {}, {} replicate{}\n",
                     run.particles_per_unit, run.seed, run.replicates, run.replicates == 1 ? "" : "s");
    for (std::size_t c = 0; c < initial.channels.size(); ++c) {
      double exact = 0, particles = 0;
      for (double v : initial.values[c]) exact += v, particles += std::round(std::max(v, 0.0) * run.particles_per_unit);
      const double rounded = particles / run.particles_per_unit;
      s += fmt::format("           {}: {:.0f} particles, mass {:.10g} (input mass {:.10g})\n", initial.channels[c],
                       particles, rounded, exact);
      if (std::abs(rounded - exact) > 1e-3 * std::abs(exact))
        s += fmt::format("note: rounding channel '{}' to whole particles changes its mass by {:+.2f}%; raise "
                         "propagation.particles_per_unit for a closer match\n",
                         initial.channels[c], 100 * (rounded - exact) / (exact != 0 ? exact : 1));
    }
  }
  const std::int64_t snaps = run.steps / run.output_every + 1 + (run.steps % run.output_every != 0 ? 1 : 0);
  s += fmt::format("output     {}: {} snapshot{} (every {}), history.csv, {}.xmf{}\n", run.output_dir.string(), snaps,
                   snaps == 1 ? "" : "s", run.output_every == 1 ? std::string("step") : fmt::format("{} steps", run.output_every),
                   run.name,
                   !run.output_png ? "" : (initial.grid.rank >= 2 ? ", PNG previews" : " (no PNG previews: they need a 2D or 3D grid)"));
  if (!run.catalyst_scripts.empty()) {
    s += fmt::format("catalyst   every {}:", run.catalyst_every == 1 ? std::string("step") : fmt::format("{} steps", run.catalyst_every));
    for (const auto& sc : run.catalyst_scripts) s += " " + sc.string();
    s += fmt::format("  (output in {})\n", (run.output_dir / "catalyst").string());
  }
  s += fmt::format("backend    Kokkos {} ({})\n", KOKKOS_VERSION, Kokkos::DefaultExecutionSpace::name());
  for (const auto& n : run.notes) s += fmt::format("note: {}\n", n);
  return s;
}

namespace {

/// The run itself. With `release` (the same object as `initial`), the input values are freed once
/// the solver holds them.
RunSummary run_with(const RunDescription& run, const InitialState& initial, InitialState* release,
                    const RunOptions& options) {
  const double preview_hi = preview_top(initial);
  std::unique_ptr<Solver> solver = release ? make_solver_releasing_input(run, *release) : make_solver(run, initial);
  std::int64_t first = 0;
  bool same_folder = false;
  if (!options.restart.empty()) {
    check_restart(options.restart, run, initial);
    const RestartState state =
        read_restart_state(options.restart, initial.channels, is_stochastic(run.mode), run.replicates);
    solver->restore(state);
    first = state.step;
    same_folder = is_inside(options.restart, run.output_dir);
  }
  const std::int64_t keep = same_folder ? first : -1;
  // Catalyst scripts are checked before anything is written.
  std::unique_ptr<InSituAdaptor> catalyst;
  if (!run.catalyst_scripts.empty())
    catalyst = make_catalyst_adaptor({run.catalyst_scripts, run.output_dir, initial.channels, initial.grid});
  // Catalyst's Python took SIGINT and SIGTERM for itself: take them back, so a stop still finishes
  // the step and writes the final snapshot.
  if (catalyst) reinstall_stop_handlers();
  prepare_output_dir(run, initial.grid, keep, !options.quiet);

  XdmfIndex xdmf(run.output_dir / (run.name + ".xmf"), initial.grid,
                 snapshot_attributes(initial.channels, run.precision, is_stochastic(run.mode), run.replicates > 1));
  if (keep >= 0) {
    // Re-index the snapshots this run keeps, in step order.
    std::vector<std::pair<std::int64_t, fs::path>> kept;
    for (const auto& e : fs::directory_iterator(run.output_dir / L::snapshots_dir))
      if (const auto step = L::step_of(e.path().filename().string()); step && *step <= keep) kept.emplace_back(*step, e.path());
    std::sort(kept.begin(), kept.end());
    for (const auto& [step, path] : kept)
      xdmf.add(step, read_snapshot_header(path).time, std::string(L::snapshots_dir) + "/" + path.filename().string(), false);
  }

  ProgressReporter progress(run.steps - first, double(initial.grid.cells()) * double(initial.channels.size()) *
                                                   double(is_stochastic(run.mode) ? run.replicates : 1),
                            stderr, options.progress);
  auto history = std::make_unique<HistoryObserver>(run.output_dir / "history.csv", initial.channels, keep);
  HistoryObserver* history_ptr = history.get();
  auto snapshots = std::make_unique<SnapshotObserver>(run, initial.grid, preview_hi, xdmf, [history_ptr] { history_ptr->flush(); });
  SnapshotObserver* snapshot_ptr = snapshots.get();
  // History first, so that a snapshot flushes the rows up to and including its own step.
  std::vector<std::unique_ptr<Observer>> observers;
  observers.push_back(std::move(history));
  observers.push_back(std::move(snapshots));
  if (catalyst) observers.push_back(std::make_unique<CatalystObserver>(run, initial.grid, std::move(catalyst)));
  auto progress_observer = std::make_unique<ProgressObserver>(progress);
  ProgressObserver* progress_ptr = progress_observer.get();

  // `current`: the solver holds this step's arrays (false for the inner steps of a fused group).
  auto notify = [&](std::int64_t step, const std::vector<FieldStats>& stats, bool final, bool current) {
    Kokkos::Profiling::pushRegion("propagon::observers");
    const std::vector<double> absorbed = solver->absorbed();
    const StepState state{step, double(step) * run.dt, stats, absorbed, *solver, final, current, nullptr};
    for (auto& o : observers) o->observe(state);
    progress_ptr->observe(state);
    Kokkos::Profiling::popRegion();
  };

  RunSummary summary;
  std::vector<FieldStats> stats = solver->stats();
  for (std::size_t c = 0; c < initial.channels.size(); ++c) summary.channels.push_back({initial.channels[c], stats[c].mass, 0, 0});
  if (first == 0 || !same_folder) notify(first, stats, run.steps == first, true);
  // Steps may be fused (temporal blocking) between the steps at which an observer needs the
  // arrays: snapshot steps, Catalyst steps and the last step. History and progress see every step.
  auto next_observed = [&](std::int64_t s) {
    std::int64_t n = (s / run.output_every + 1) * run.output_every;
    if (!run.catalyst_scripts.empty()) n = std::min(n, (s / run.catalyst_every + 1) * run.catalyst_every);
    return std::min(n, run.steps);
  };
  std::int64_t step = first;
  std::vector<std::vector<FieldStats>> fused_stats;
  while (step < run.steps) {
    Kokkos::Profiling::pushRegion("propagon::step");
    // The group of steps this pass takes: group_first .. group_first + taken - 1.
    std::int64_t group_first = step + 1, taken = 1;
    if (solver->jumps()) {
      group_first = next_observed(step);
      solver->advance(group_first);
      fused_stats.assign(1, solver->stats());
    } else {
      taken = solver->advance_fused(group_first, next_observed(step) - step, fused_stats);
    }
    Kokkos::Profiling::popRegion();
    summary.stopped_by_signal = stop_signal();
    for (std::int64_t i = 0; i < taken; ++i) {
      const std::int64_t s_i = group_first + i;
      stats = fused_stats[static_cast<std::size_t>(i)];
      for (std::size_t c = 0; c < stats.size(); ++c)
        if (!stats[c].finite)
          throw RunError(fmt::format("channel '{}' became NaN or infinite at step {}: this raw filter (normalize: none) "
                                     "amplifies the field at every step until it overflows; use fewer steps, or "
                                     "normalize: softmax or sum for a propagator",
                                     initial.channels[c], s_i));
      const bool last = i + 1 == taken;
      notify(s_i, stats, last && (s_i == run.steps || summary.stopped_by_signal != 0), last);
    }
    step = group_first + taken - 1;
    if (summary.stopped_by_signal) break;
  }
  for (auto& o : observers) o->finish();
  progress_ptr->finish();
  compat::fence("propagon::run_end");

  summary.first_step = first;
  summary.last_step = step;
  summary.steps = step - first;
  summary.snapshots = snapshot_ptr->count();
  summary.last_snapshot = snapshot_ptr->last();
  summary.seconds = progress.seconds();
  summary.pixel_steps_per_second =
      summary.seconds > 0 ? double(summary.steps) * double(initial.grid.cells()) * double(initial.channels.size()) *
                                double(is_stochastic(run.mode) ? run.replicates : 1) / summary.seconds
                          : 0.0;
  const std::vector<double> absorbed = solver->absorbed();
  for (std::size_t c = 0; c < stats.size(); ++c) {
    summary.channels[c].mass_end = stats[c].mass;
    summary.channels[c].absorbed = absorbed[c];
  }
  summary.output_dir = run.output_dir;
  summary.xdmf_file = xdmf.path();
  return summary;
}

}  // namespace

RunSummary run_simulation(const RunDescription& run, const InitialState& initial, const RunOptions& options) {
  return run_with(run, initial, nullptr, options);
}

RunSummary run_simulation(const RunDescription& run, InitialState&& initial, const RunOptions& options) {
  return run_with(run, initial, &initial, options);
}

}  // namespace propagon
