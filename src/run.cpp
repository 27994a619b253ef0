#include "propagon/run.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include "propagon/compat.hpp"
#include "propagon/error.hpp"
#include "propagon/field.hpp"
#include "propagon/field_stats.hpp"
#include "propagon/history.hpp"
#include "propagon/preview.hpp"
#include "propagon/progress.hpp"
#include "propagon/snapshot.hpp"
#include "propagon/stencil.hpp"
#include "propagon/version.hpp"
#include "propagon/xdmf.hpp"

namespace propagon {

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (auto n : shape) s += (s.empty() ? "" : " x ") + std::to_string(n);
  return s;
}

/// What observers see after each step. Fields live in the execution space's memory.
template <class T>
struct StepState {
  std::int64_t step;
  double time;
  const Grid& grid;
  const std::vector<Field<T>>& fields;
  const std::vector<FieldStats>& stats;
  const std::vector<double>& absorbed;  ///< cumulative, per channel
};

template <class T>
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void observe(const StepState<T>& state) = 0;
  virtual void finish() {}
};

/// Snapshots (HDF5 + XDMF index + optional PNG previews) at step 0, every N steps and the last step.
template <class T>
class SnapshotObserver : public Observer<T> {
 public:
  SnapshotObserver(const RunDescription& run, const InitialState& initial, std::filesystem::path dir)
      : run_(run), dir_(std::move(dir)),
        xdmf_(dir_ / (run.name + ".xmf"), initial.grid, initial.channels, run.precision) {
    // Previews map [0, max of the initial field] for conserving propagators, so a picture keeps its
    // brightness as it diffuses; raw filters (normalize: none) are stretched per snapshot.
    double hi = 0.0;
    for (const auto& v : initial.values)
      for (double x : v) hi = std::max(hi, x);
    preview_hi_ = hi > 0 ? hi : 1.0;
  }
  void observe(const StepState<T>& s) override {
    if (!(s.step % run_.output_every == 0 || s.step == run_.steps)) return;
    namespace L = snapshot_layout;
    std::vector<Kokkos::View<T*, Kokkos::HostSpace>> host;
    std::vector<const T*> ptrs;
    std::vector<std::string> names;
    for (const auto& f : s.fields) {
      host.push_back(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), f.values));
      ptrs.push_back(host.back().data());
      names.push_back(f.channel);
    }
    SnapshotHeader h;
    h.step = s.step;
    h.time = s.time;
    h.mode = mode_name(run_.mode);
    h.boundary = boundary_name(run_.boundary);
    h.precision = precision_name(run_.precision);
    h.propagon_version = version_string;
    const std::string name = L::file_name(s.step);
    write_snapshot<T>(dir_ / L::snapshots_dir / name, h, s.grid, names, ptrs, run_.propagator, run_.effective_yaml);
    xdmf_.add(s.step, s.time, std::string(L::snapshots_dir) + "/" + name);
    ++count_;
    if (run_.output_png && previewable(s.grid)) {
      double lo = 0.0, hi = preview_hi_;
      if (run_.propagator.normalize == Normalization::none) {
        lo = s.stats[0].min;
        hi = s.stats[0].max;
        for (const auto& st : s.stats) lo = std::min(lo, st.min), hi = std::max(hi, st.max);
      }
      const std::string png = name.substr(0, name.size() - 3) + ".png";
      write_preview<T>(dir_ / "previews" / png, s.grid, names, ptrs, lo, hi);
    }
  }
  std::int64_t count() const { return count_; }
  const std::filesystem::path& xdmf_path() const { return xdmf_.path(); }

 private:
  const RunDescription& run_;
  std::filesystem::path dir_;
  XdmfIndex xdmf_;
  double preview_hi_ = 1.0;
  std::int64_t count_ = 0;
};

template <class T>
class HistoryObserver : public Observer<T> {
 public:
  explicit HistoryObserver(const std::filesystem::path& file) : writer_(file) {}
  void observe(const StepState<T>& s) override {
    for (std::size_t c = 0; c < s.fields.size(); ++c)
      writer_.write(s.step, s.time, s.fields[c].channel, s.stats[c], s.absorbed[c]);
    if (s.step % 100 == 0) writer_.flush();
  }
  void finish() override { writer_.flush(); }

 private:
  HistoryWriter writer_;
};

template <class T>
class ProgressObserver : public Observer<T> {
 public:
  explicit ProgressObserver(ProgressReporter& p) : progress_(p) {}
  void observe(const StepState<T>& s) override { progress_.update(s.step); }
  void finish() override { progress_.finish(); }

 private:
  ProgressReporter& progress_;
};

// Clears what an earlier run left in the folder, so the index and history describe this run only.
void prepare_output_dir(const std::filesystem::path& dir, const std::string& name, bool png, bool announce) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool replaced = false;
  if (fs::exists(dir / snapshot_layout::snapshots_dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir / snapshot_layout::snapshots_dir, ec))
      if (e.path().filename().string().rfind("step_", 0) == 0) fs::remove(e.path(), ec), replaced = true;
  }
  if (fs::exists(dir / "previews", ec))
    for (const auto& e : fs::directory_iterator(dir / "previews", ec))
      if (e.path().filename().string().rfind("step_", 0) == 0) fs::remove(e.path(), ec), replaced = true;
  for (const char* f : {"history.csv"})
    if (fs::remove(dir / f, ec)) replaced = true;
  if (fs::remove(dir / (name + ".xmf"), ec)) replaced = true;
  if (replaced && announce) fmt::print("note: replacing the earlier run in {}\n", dir.string());
  fs::create_directories(dir / snapshot_layout::snapshots_dir, ec);
  if (ec) throw RunError(fmt::format("cannot create the output folder {}: {}", dir.string(), ec.message()));
  if (png) {
    fs::create_directories(dir / "previews", ec);
    if (ec) throw RunError(fmt::format("cannot create {}: {}", (dir / "previews").string(), ec.message()));
  }
}

template <class T>
RunSummary run_typed(const RunDescription& run, const InitialState& initial, const RunOptions& options) {
  const Grid& grid = initial.grid;
  std::vector<Field<T>> fields;
  for (std::size_t c = 0; c < initial.channels.size(); ++c)
    fields.push_back(make_field<T>(initial.channels[c], initial.values[c]));
  // One scratch buffer shared by all channels: channels step one after another and swap.
  FieldView<T> scratch(Kokkos::view_alloc("scratch", Kokkos::WithoutInitializing), static_cast<std::size_t>(grid.cells()));
  const DeterministicStep<T> stepper(grid, run.propagator, run.boundary);

  prepare_output_dir(run.output_dir, run.name, run.output_png, !options.quiet);
  ProgressReporter progress(run.steps, double(grid.cells()) * double(fields.size()), stderr, options.progress);
  auto snapshots = std::make_unique<SnapshotObserver<T>>(run, initial, run.output_dir);
  SnapshotObserver<T>* snapshot_ptr = snapshots.get();
  std::vector<std::unique_ptr<Observer<T>>> observers;
  observers.push_back(std::move(snapshots));
  observers.push_back(std::make_unique<HistoryObserver<T>>(run.output_dir / "history.csv"));
  observers.push_back(std::make_unique<ProgressObserver<T>>(progress));

  std::vector<FieldStats> stats(fields.size());
  std::vector<double> absorbed(fields.size(), 0.0);
  auto measure = [&]() {
    Kokkos::Profiling::pushRegion("propagon::stats");
    for (std::size_t c = 0; c < fields.size(); ++c) stats[c] = field_stats<T>(fields[c].values, grid);
    Kokkos::Profiling::popRegion();
  };
  auto notify = [&](std::int64_t step) {
    Kokkos::Profiling::pushRegion("propagon::observers");
    const StepState<T> state{step, double(step) * run.dt, grid, fields, stats, absorbed};
    for (auto& o : observers) o->observe(state);
    Kokkos::Profiling::popRegion();
  };

  measure();
  RunSummary summary;
  for (std::size_t c = 0; c < fields.size(); ++c) summary.channels.push_back({fields[c].channel, stats[c].mass, 0, 0});
  notify(0);
  for (std::int64_t step = 1; step <= run.steps; ++step) {
    Kokkos::Profiling::pushRegion("propagon::step");
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (run.boundary == Boundary::absorb) absorbed[c] += stepper.leaving_mass(fields[c].values);
      stepper.apply(fields[c].values, scratch);
      std::swap(fields[c].values, scratch);
    }
    Kokkos::Profiling::popRegion();
    measure();
    for (std::size_t c = 0; c < fields.size(); ++c)
      if (!stats[c].finite)
        throw RunError(fmt::format("channel '{}' became NaN or infinite at step {}: the propagator is unstable "
                                   "(normalize: none with weights summing above 1 grows without bound)",
                                   fields[c].channel, step));
    notify(step);
  }
  for (auto& o : observers) o->finish();
  compat::fence("propagon::run_end");

  summary.steps = run.steps;
  summary.snapshots = snapshot_ptr->count();
  summary.seconds = progress.seconds();
  summary.pixel_steps_per_second =
      summary.seconds > 0 ? double(run.steps) * double(grid.cells()) * double(fields.size()) / summary.seconds : 0.0;
  for (std::size_t c = 0; c < fields.size(); ++c) {
    summary.channels[c].mass_end = stats[c].mass;
    summary.channels[c].absorbed = absorbed[c];
  }
  summary.output_dir = run.output_dir;
  summary.xdmf_file = snapshot_ptr->xdmf_path();
  return summary;
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
    for (int a = 3 - p.rank; a < 3; ++a) s += fmt::format(" {} drift {:+.4g}, variance {:.4g};", axes[a], m[a], v[a]);
    s += "\n";
  } else {
    s += fmt::format("           weights sum to {:.6g}: not a probability distribution, mass is not conserved\n", p.total());
  }
  s += fmt::format("mode       {}, {} steps of dt {}, boundary {}, {}\n", mode_name(run.mode), run.steps, run.dt,
                   boundary_name(run.boundary), precision_name(run.precision));
  const std::int64_t snaps = run.steps / run.output_every + 1 + (run.steps % run.output_every != 0 ? 1 : 0);
  s += fmt::format("output     {}: {} snapshot{} (every {} steps), history.csv, {}.xmf{}\n", run.output_dir.string(),
                   snaps, snaps == 1 ? "" : "s", run.output_every, run.name, run.output_png ? ", PNG previews" : "");
  s += fmt::format("backend    Kokkos {} ({})\n", KOKKOS_VERSION, Kokkos::DefaultExecutionSpace::name());
  for (const auto& n : run.notes) s += fmt::format("note: {}\n", n);
  return s;
}

RunSummary run_simulation(const RunDescription& run, const InitialState& initial, const RunOptions& options) {
  if (run.precision == Precision::float64) return run_typed<double>(run, initial, options);
  return run_typed<float>(run, initial, options);
}

}  // namespace propagon
