#include "propagon/solver.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "propagon/error.hpp"
#include "propagon/separable_step.hpp"
#include "propagon/spectral.hpp"
#include "propagon/stencil.hpp"
#include "propagon/stochastic.hpp"

namespace propagon {

namespace {

// Host copies are real copies, even where the fields already live on the host: a snapshot is
// written in the background while the solver goes on changing its fields.
template <class T>
using HostView = Kokkos::View<T*, Kokkos::HostSpace>;

template <class T>
HostView<T> host_copy(const Kokkos::View<T*>& v, const char* label) {
  HostView<T> h = streamed_view<T, Kokkos::HostSpace>(label, v.extent(0));
  Kokkos::deep_copy(h, v);
  return h;
}

// ---------------------------------------------------------------- deterministic

template <class T>
class DeterministicArrays : public HostArrays {
 public:
  std::vector<HostView<T>> fields;
  std::vector<SnapshotChannel> list;
  const std::vector<SnapshotChannel>& channels() const override { return list; }
};

template <class T>
class DeterministicSolver : public Solver {
 public:
  DeterministicSolver(const RunDescription& run, const InitialState& initial, InitialState* release = nullptr)
      : grid_(initial.grid), boundary_(run.boundary), stepper_(initial.grid, run.propagator, run.boundary),
        absorbed_(initial.channels.size(), 0.0) {
    if (SeparableStep<T>::usable(initial.grid, run.propagator))
      separable_.emplace(initial.grid, run.propagator, run.boundary);
    // One scratch buffer shared by all channels: channels step one after another and swap.
    for (std::size_t c = 0; c < initial.channels.size(); ++c) {
      fields_.push_back(make_field<T>(initial.channels[c], initial.values[c]));
      if (release) std::vector<double>().swap(release->values[c]);
    }
    scratch_ = streamed_view<T>("scratch", static_cast<std::size_t>(grid_.cells()));
  }
  void advance(std::int64_t) override { step_channels(1, nullptr); }
  std::int64_t advance_fused(std::int64_t, std::int64_t max_steps, std::vector<std::vector<FieldStats>>& stats) override {
    return step_channels(max_steps, &stats);
  }
  std::vector<FieldStats> stats() const override {
    std::vector<FieldStats> s;
    for (const auto& f : fields_) s.push_back(field_stats<T>(f.values, grid_));
    return s;
  }
  std::vector<double> absorbed() const override { return absorbed_; }
  std::shared_ptr<const HostArrays> host_arrays() const override {
    // The last copy's buffers are reused once nobody else holds it (its snapshot is written):
    // fresh 64 MB buffers would cost page faults and zeroing at every snapshot.
    if (!last_copy_ || last_copy_.use_count() > 1) {
      last_copy_ = std::make_shared<DeterministicArrays<T>>();
      for (std::size_t c = 0; c < fields_.size(); ++c)
        last_copy_->fields.push_back(host_copy(fields_[c].values, "snapshot_field"));
    } else {
      for (std::size_t c = 0; c < fields_.size(); ++c) Kokkos::deep_copy(last_copy_->fields[c], fields_[c].values);
    }
    last_copy_->list.clear();
    for (std::size_t c = 0; c < fields_.size(); ++c) {
      SnapshotChannel ch;
      ch.name = fields_[c].channel;
      ch.field = last_copy_->fields[c].data();
      ch.absorbed = absorbed_[c];
      last_copy_->list.push_back(std::move(ch));
    }
    return last_copy_;
  }
  void restore(const RestartState& s) override {
    for (std::size_t c = 0; c < fields_.size(); ++c) {
      auto host = Kokkos::create_mirror_view(fields_[c].values);
      if constexpr (std::is_same_v<T, float>) std::copy(s.fields_f32.at(c).begin(), s.fields_f32.at(c).end(), host.data());
      else std::copy(s.fields_f64.at(c).begin(), s.fields_f64.at(c).end(), host.data());
      Kokkos::deep_copy(fields_[c].values, host);
      absorbed_[c] = s.absorbed.at(c);
    }
  }

 private:
  // Up to max_steps steps of every channel, with the statistics after each when `stats` is
  // given. The separable path fuses steps and takes the statistics on the way; the general
  // stencil takes one step, and the statistics are a pass of their own.
  std::int64_t step_channels(std::int64_t max_steps, std::vector<std::vector<FieldStats>>* stats) {
    const std::int64_t n = separable_ ? std::min<std::int64_t>(max_steps, separable_->max_fused_steps()) : 1;
    if (stats) stats->assign(static_cast<std::size_t>(n), std::vector<FieldStats>(fields_.size()));
    std::vector<FieldStats> per_step;
    for (std::size_t c = 0; c < fields_.size(); ++c) {
      if (boundary_ == Boundary::absorb) absorbed_[c] += stepper_.leaving_mass(fields_[c].values);
      if (separable_) separable_->apply(fields_[c].values, scratch_, static_cast<int>(n), stats ? &per_step : nullptr);
      else stepper_.apply(fields_[c].values, scratch_);
      std::swap(fields_[c].values, scratch_);
      if (!stats) continue;
      if (separable_)
        for (std::int64_t k = 0; k < n; ++k) (*stats)[k][c] = per_step[k];
      else
        (*stats)[0][c] = field_stats<T>(fields_[c].values, grid_);
    }
    return n;
  }

  Grid grid_;
  Boundary boundary_;
  DeterministicStep<T> stepper_;
  std::optional<SeparableStep<T>> separable_;  ///< for separable propagators on the host
  std::vector<Field<T>> fields_;
  FieldView<T> scratch_;
  std::vector<double> absorbed_;
  mutable std::shared_ptr<DeterministicArrays<T>> last_copy_;  ///< see host_arrays()
};

// ---------------------------------------------------------------- stochastic and collapse

template <class T>
class StochasticArrays : public HostArrays {
 public:
  std::vector<std::vector<T>> fields, mean, var;
  std::vector<HostView<Count>> counts;
  std::vector<SnapshotChannel> list;
  const std::vector<SnapshotChannel>& channels() const override { return list; }
};

/// The most particles any cell starts with (it sizes the binomial tables).
inline Count largest_count(const InitialState& initial, double particles_per_unit) {
  double most = 0;
  for (const auto& v : initial.values)
    for (double x : v) most = std::max(most, x * particles_per_unit);
  return static_cast<Count>(std::llround(std::min(most, 1e18)));
}

template <class T>
class StochasticSolver : public Solver {
 public:
  StochasticSolver(const RunDescription& run, const InitialState& initial)
      : grid_(initial.grid), names_(initial.channels), replicates_(run.replicates), ppu_(run.particles_per_unit),
        rule_(make_cell_scatter(initial.grid, run.propagator, run.boundary,
                                run.mode == Mode::collapse ? StochasticKind::collapse : StochasticKind::multinomial,
                                run.seed, largest_count(initial, run.particles_per_unit))) {
    const std::int64_t cells = grid_.cells();
    scratch_ = streamed_view<Count>("counts_scratch", static_cast<std::size_t>(cells * replicates_));
    for (std::size_t c = 0; c < names_.size(); ++c) {
      // Every replicate starts from the same integer field: round(concentration x particles_per_unit).
      CountView v = streamed_view<Count>("counts_" + names_[c], static_cast<std::size_t>(cells * replicates_));
      auto h = Kokkos::create_mirror_view(v);
      for (std::int64_t i = 0; i < cells; ++i) {
        const double x = initial.values[c][static_cast<std::size_t>(i)] * ppu_;
        if (x < 0) {
          const std::int64_t nx = grid_.nx(), ny = grid_.ny();
          const std::string where = grid_.rank == 1   ? fmt::format("x = {}", i)
                                    : grid_.rank == 2 ? fmt::format("y = {}, x = {}", i / nx, i % nx)
                                                      : fmt::format("z = {}, y = {}, x = {}", i / (nx * ny), (i / nx) % ny, i % nx);
          throw InputError(fmt::format("channel '{}' is negative at {}: particles cannot be negative, so the "
                                       "stochastic modes need non-negative input",
                                       names_[c], where));
        }
        if (x > 1.8e19) throw InputError(fmt::format("channel '{}': {} particles in one cell is too many", names_[c], x));
        const Count n = static_cast<Count>(std::llround(x));
        for (std::int64_t r = 0; r < replicates_; ++r) h(r * cells + i) = n;
      }
      Kokkos::deep_copy(v, h);
      counts_.push_back(v);
      absorbed_.push_back(Kokkos::View<Count*>("absorbed_" + names_[c], replicates_));
    }
  }
  void advance(std::int64_t step) override {
    for (std::size_t c = 0; c < counts_.size(); ++c) {
      stochastic_step(rule_, grid_, counts_[c], scratch_, replicates_, static_cast<std::uint64_t>(step), absorbed_[c]);
      std::swap(counts_[c], scratch_);
    }
  }
  std::vector<FieldStats> stats() const override {
    std::vector<FieldStats> s;
    for (const auto& v : counts_)
      s.push_back(field_stats<Count>(Kokkos::subview(v, std::make_pair(std::int64_t(0), grid_.cells())), grid_, 1.0 / ppu_));
    return s;
  }
  std::vector<double> absorbed() const override {
    std::vector<double> a;
    for (const auto& v : absorbed_) {
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
      a.push_back(double(h(0)) / ppu_);
    }
    return a;
  }
  std::shared_ptr<const HostArrays> host_arrays() const override {
    auto a = std::make_shared<StochasticArrays<T>>();
    const std::int64_t cells = grid_.cells();
    const std::size_t n = static_cast<std::size_t>(cells);
    for (std::size_t c = 0; c < counts_.size(); ++c) {
      a->counts.push_back(host_copy(counts_[c], "snapshot_counts"));
      const Count* k = a->counts.back().data();
      std::vector<T> f(n);
      for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<T>(double(k[i]) / ppu_);
      a->fields.push_back(std::move(f));
      if (replicates_ > 1) {
        std::vector<T> mean(n), var(n);
        const double R = double(replicates_);
        for (std::size_t i = 0; i < n; ++i) {
          double s = 0, ss = 0;
          for (std::int64_t r = 0; r < replicates_; ++r) {
            const double x = double(k[static_cast<std::size_t>(r * cells) + i]) / ppu_;
            s += x;
            ss += x * x;
          }
          const double m = s / R;
          mean[i] = static_cast<T>(m);
          var[i] = static_cast<T>(std::max(0.0, (ss - R * m * m) / (R - 1)));
        }
        a->mean.push_back(std::move(mean));
        a->var.push_back(std::move(var));
      }
    }
    for (std::size_t c = 0; c < counts_.size(); ++c) {
      SnapshotChannel ch;
      ch.name = names_[c];
      ch.field = a->fields[c].data();
      ch.counts = a->counts[c].data();
      auto ab = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), absorbed_[c]);
      ch.absorbed = double(ab(0)) / ppu_;
      ch.absorbed_particles.assign(ab.data(), ab.data() + ab.extent(0));
      if (replicates_ > 1) {
        ch.mean = a->mean[c].data();
        ch.var = a->var[c].data();
        ch.replicate_counts = a->counts[c].data();
      }
      a->list.push_back(std::move(ch));
    }
    return a;
  }
  void restore(const RestartState& s) override {
    for (std::size_t c = 0; c < counts_.size(); ++c) {
      const auto& k = s.counts.at(c);
      if (k.size() != counts_[c].extent(0))
        throw InputError(fmt::format("the snapshot holds {} counts for channel '{}', the run needs {}", k.size(), names_[c],
                                     counts_[c].extent(0)));
      auto h = Kokkos::create_mirror_view(counts_[c]);
      std::copy(k.begin(), k.end(), h.data());
      Kokkos::deep_copy(counts_[c], h);
      auto ha = Kokkos::create_mirror_view(absorbed_[c]);
      for (std::int64_t r = 0; r < replicates_; ++r) ha(r) = s.absorbed_particles.at(c).at(static_cast<std::size_t>(r));
      Kokkos::deep_copy(absorbed_[c], ha);
    }
  }

 private:
  Grid grid_;
  std::vector<std::string> names_;
  std::int64_t replicates_;
  double ppu_;
  CellScatter rule_;
  std::vector<CountView> counts_;
  CountView scratch_;
  std::vector<Kokkos::View<Count*>> absorbed_;
};

// ---------------------------------------------------------------- spectral

template <class T>
class SpectralArrays : public HostArrays {
 public:
  std::vector<std::vector<T>> fields;
  std::vector<SnapshotChannel> list;
  const std::vector<SnapshotChannel>& channels() const override { return list; }
};

template <class T>
class SpectralSolver : public Solver {
 public:
  SpectralSolver(const RunDescription& run, const InitialState& initial) : grid_(initial.grid), names_(initial.channels) {
    for (const auto& v : initial.values) {
      const std::vector<T> typed(v.begin(), v.end());
      spectra_.push_back(std::make_unique<SpectralPropagation<T>>(grid_, run.propagator, typed, 0));
      fields_.push_back(typed);
    }
  }
  void advance(std::int64_t step) override { step_ = step; }
  std::vector<FieldStats> stats() const override {
    materialise();
    std::vector<FieldStats> s;
    for (const auto& f : fields_) {
      FieldView<T> v("spectral_stats", f.size());
      auto h = Kokkos::create_mirror_view(v);
      std::copy(f.begin(), f.end(), h.data());
      Kokkos::deep_copy(v, h);
      s.push_back(field_stats<T>(v, grid_));
    }
    return s;
  }
  std::vector<double> absorbed() const override { return std::vector<double>(names_.size(), 0.0); }
  std::shared_ptr<const HostArrays> host_arrays() const override {
    materialise();
    auto a = std::make_shared<SpectralArrays<T>>();
    a->fields = fields_;
    for (std::size_t c = 0; c < names_.size(); ++c) {
      SnapshotChannel ch;
      ch.name = names_[c];
      ch.field = a->fields[c].data();
      a->list.push_back(std::move(ch));
    }
    return a;
  }
  void restore(const RestartState& s) override {
    for (std::size_t c = 0; c < spectra_.size(); ++c) {
      if constexpr (std::is_same_v<T, float>) fields_[c] = s.fields_f32.at(c);
      else fields_[c] = s.fields_f64.at(c);
      spectra_[c]->reset(fields_[c], s.step);
    }
    step_ = computed_ = s.step;
  }
  bool jumps() const override { return true; }

 private:
  // The fields at the current step, computed once however often they are asked for.
  void materialise() const {
    if (computed_ == step_) return;
    for (std::size_t c = 0; c < spectra_.size(); ++c) spectra_[c]->field_at(step_, fields_[c].data());
    computed_ = step_;
  }
  Grid grid_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<SpectralPropagation<T>>> spectra_;
  mutable std::vector<std::vector<T>> fields_;
  std::int64_t step_ = 0;
  mutable std::int64_t computed_ = 0;
};

template <class T>
std::unique_ptr<Solver> make_typed(const RunDescription& run, const InitialState& initial) {
  if (is_stochastic(run.mode)) return std::make_unique<StochasticSolver<T>>(run, initial);
  if (run.mode == Mode::spectral) return std::make_unique<SpectralSolver<T>>(run, initial);
  return std::make_unique<DeterministicSolver<T>>(run, initial);
}

}  // namespace

std::unique_ptr<Solver> make_solver(const RunDescription& run, const InitialState& initial) {
  if (run.precision == Precision::float64) return make_typed<double>(run, initial);
  return make_typed<float>(run, initial);
}

std::unique_ptr<Solver> make_solver_releasing_input(const RunDescription& run, InitialState& initial) {
  if (run.mode == Mode::deterministic) {
    if (run.precision == Precision::float32) return std::make_unique<DeterministicSolver<float>>(run, initial, &initial);
    return std::make_unique<DeterministicSolver<double>>(run, initial, &initial);
  }
  auto solver = make_solver(run, initial);
  for (auto& v : initial.values) std::vector<double>().swap(v);
  return solver;
}

}  // namespace propagon
