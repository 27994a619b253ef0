// Throughput of the deterministic step (Google Benchmark). Reports pixel-steps/s and the bytes/s
// of the streaming bound (one read and one write of every cell per step).
#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>

#include "propagon/compat.hpp"
#include "propagon/field_stats.hpp"
#include "propagon/image.hpp"
#include "propagon/separable_step.hpp"
#include "propagon/stencil.hpp"
#include "propagon/stochastic.hpp"

namespace {

using namespace propagon;

// Fields as the solver makes them (huge pages advised before the first write).
template <class T>
FieldView<T> bench_field(const char* name, std::int64_t n) {
  FieldView<T> v(Kokkos::view_alloc(std::string(name), Kokkos::WithoutInitializing), n);
  advise_huge_pages(v);
  return v;
}

template <class T>
void BM_DeterministicStep(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const int k = static_cast<int>(state.range(1));
  const int rank = static_cast<int>(state.range(2));
  const Boundary boundary = static_cast<Boundary>(state.range(3));
  Grid grid = rank == 3 ? Grid::from_shape({n, n, n}) : Grid::from_shape({n, n});
  const Propagator p = normalize_kernel(make_preset("gaussian", rank, std::vector<int>(rank, k), 1.0), Normalization::softmax);
  FieldView<T> a = bench_field<T>("a", grid.cells()), b = bench_field<T>("b", grid.cells());
  Kokkos::parallel_for(grid.cells(), KOKKOS_LAMBDA(std::int64_t i) { a(i) = T((i * 7919) % 256), b(i) = T(0); });
  const DeterministicStep<T> step(grid, p, boundary);
  for (auto _ : state) {
    step.apply(a, b);
    compat::fence("bench");
    std::swap(a, b);
  }
  state.counters["pixel_steps_per_s"] = benchmark::Counter(double(grid.cells()) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(int64_t(state.iterations()) * grid.cells() * 2 * int64_t(sizeof(T)));
}

template <class T>
void BM_FieldStats(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Grid grid = Grid::from_shape({n, n});
  FieldView<T> a("a", grid.cells());
  Kokkos::deep_copy(a, T(1));
  for (auto _ : state) benchmark::DoNotOptimize(field_stats<T>(a, grid).mass);
  state.counters["pixel_steps_per_s"] = benchmark::Counter(double(grid.cells()) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(int64_t(state.iterations()) * grid.cells() * int64_t(sizeof(T)));
}

// The separable path (1D passes, streaming stores), `fused` steps per sweep (temporal blocking).
// Counts pixel-steps, so a fused sweep of 8 steps counts 8.
template <class T>
void BM_SeparableStep(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const int k = static_cast<int>(state.range(1));
  const int fused = static_cast<int>(state.range(2));
  const Boundary boundary = static_cast<Boundary>(state.range(3));
  const Grid grid = Grid::from_shape({n, n});
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {k, k}, 1.0), Normalization::softmax);
  FieldView<T> a = bench_field<T>("a", grid.cells()), b = bench_field<T>("b", grid.cells());
  Kokkos::parallel_for(grid.cells(), KOKKOS_LAMBDA(std::int64_t i) { a(i) = T((i * 7919) % 256), b(i) = T(0); });
  const SeparableStep<T> step(grid, p, boundary);
  const int s = std::min(fused, step.max_fused_steps());
  for (auto _ : state) {
    step.apply(a, b, s);
    std::swap(a, b);
  }
  state.counters["fused"] = s;
  state.counters["pixel_steps_per_s"] =
      benchmark::Counter(double(grid.cells()) * s * state.iterations(), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(int64_t(state.iterations()) * grid.cells() * 2 * int64_t(sizeof(T)));
}

constexpr int periodic = static_cast<int>(Boundary::periodic);
constexpr int reflect = static_cast<int>(Boundary::reflect);

}  // namespace

BENCHMARK_TEMPLATE(BM_DeterministicStep, float)
    ->ArgNames({"n", "k", "rank", "boundary"})
    ->Args({512, 3, 2, periodic})
    ->Args({2048, 3, 2, periodic})
    ->Args({4096, 3, 2, periodic})
    ->Args({4096, 3, 2, reflect})
    ->Args({4096, 5, 2, periodic})
    ->Args({4096, 7, 2, periodic})
    ->Args({256, 3, 3, periodic})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_DeterministicStep, double)
    ->ArgNames({"n", "k", "rank", "boundary"})
    ->Args({4096, 3, 2, periodic})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_SeparableStep, float)
    ->ArgNames({"n", "k", "fused", "boundary"})
    ->Args({512, 3, 1, periodic})
    ->Args({1024, 3, 1, periodic})
    ->Args({1024, 3, 8, periodic})
    ->Args({2048, 3, 1, periodic})
    ->Args({4096, 3, 1, periodic})
    ->Args({4096, 3, 1, reflect})
    ->Args({4096, 5, 1, periodic})
    ->Args({4096, 7, 1, periodic})
    ->Args({4096, 3, 4, periodic})
    ->Args({4096, 3, 8, periodic})
    ->Args({4096, 3, 8, reflect})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_SeparableStep, double)
    ->ArgNames({"n", "k", "fused", "boundary"})
    ->Args({4096, 3, 1, periodic})
    ->Args({4096, 3, 8, periodic})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_FieldStats, float)->Arg(4096)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

namespace {
void BM_StochasticStep(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const auto kind = state.range(1) ? propagon::StochasticKind::collapse : propagon::StochasticKind::multinomial;
  const propagon::Grid grid = propagon::Grid::from_shape({n, n});
  const propagon::Propagator p =
      propagon::normalize_kernel(propagon::make_preset("box", 2, {3, 3}, 0), propagon::Normalization::softmax);
  const propagon::CellScatter rule = propagon::make_cell_scatter(grid, p, propagon::Boundary::periodic, kind, 1);
  propagon::CountView a("a", grid.cells()), b("b", grid.cells());
  Kokkos::View<propagon::Count*> gone("gone", 1);
  // A photo-like field: 0..255 particles per pixel.
  Kokkos::parallel_for(grid.cells(), KOKKOS_LAMBDA(std::int64_t i) { a(i) = propagon::Count((i * 7919) % 256); });
  std::uint64_t step = 0;
  for (auto _ : state) {
    propagon::stochastic_step(rule, grid, a, b, 1, ++step, gone);
    propagon::compat::fence("bench");
    std::swap(a, b);
  }
  state.counters["pixel_steps_per_s"] = benchmark::Counter(double(grid.cells()) * state.iterations(), benchmark::Counter::kIsRate);
}
}  // namespace
// The case: a photo (the bundled astronaut, red channel) at 255 particles per pixel, 3x3 box.
void BM_StochasticPhoto(benchmark::State& state) {
  const propagon::ImageData img = propagon::load_image(PROPAGON_SOURCE_DIR "/configs/images/astronaut.png");
  const propagon::Grid grid = propagon::Grid::from_shape({img.height, img.width});
  const propagon::Propagator p =
      propagon::normalize_kernel(propagon::make_preset("box", 2, {3, 3}, 0), propagon::Normalization::softmax);
  const propagon::CellScatter rule =
      propagon::make_cell_scatter(grid, p, propagon::Boundary::reflect, propagon::StochasticKind::multinomial, 1, 255);
  propagon::CountView a("a", grid.cells()), b("b", grid.cells());
  auto h = Kokkos::create_mirror_view(a);
  for (std::int64_t i = 0; i < grid.cells(); ++i) h(i) = propagon::Count(std::llround(img.planes[0][i] * 255));
  Kokkos::deep_copy(a, h);
  Kokkos::View<propagon::Count*> gone("gone", 1);
  std::uint64_t step = 0;
  for (auto _ : state) {
    propagon::stochastic_step(rule, grid, a, b, 1, ++step, gone);
    propagon::compat::fence("bench");
    std::swap(a, b);
  }
  state.counters["pixel_steps_per_s"] = benchmark::Counter(double(grid.cells()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StochasticPhoto)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StochasticStep)->ArgNames({"n", "collapse"})->Args({512, 0})->Args({512, 1})->Unit(benchmark::kMillisecond);

#include "propagon/spectral.hpp"

namespace {
// The convolution theorem against the direct path: n steps of a 3x3 Gaussian on n^2, periodic.
void BM_SpectralSteps(benchmark::State& state) {
  const std::int64_t n = state.range(0), steps = state.range(1);
  const propagon::Grid grid = propagon::Grid::from_shape({n, n});
  const propagon::Propagator p =
      propagon::normalize_kernel(propagon::make_preset("gaussian", 2, {3, 3}, 1.0), propagon::Normalization::softmax);
  std::vector<float> u(static_cast<std::size_t>(grid.cells()));
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = float((i * 7919) % 256);
  std::vector<float> out(u.size());
  for (auto _ : state) {
    propagon::SpectralPropagation<float> s(grid, p, u);  // forward transform (and plans) included
    s.field_at(steps, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["pixel_steps_per_s"] =
      benchmark::Counter(double(grid.cells()) * double(steps) * state.iterations(), benchmark::Counter::kIsRate);
}
}  // namespace
// The same with the plans, the forward transform and the transfer function made once (as in a run
// with several snapshots): only the jump of `steps` steps (H^n, product, inverse transform).
void BM_SpectralJump(benchmark::State& state) {
  const std::int64_t n = state.range(0), steps = state.range(1);
  const propagon::Grid grid = propagon::Grid::from_shape({n, n});
  const propagon::Propagator p =
      propagon::normalize_kernel(propagon::make_preset("gaussian", 2, {3, 3}, 1.0), propagon::Normalization::softmax);
  std::vector<float> u(static_cast<std::size_t>(grid.cells()));
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = float((i * 7919) % 256);
  std::vector<float> out(u.size());
  propagon::SpectralPropagation<float> s(grid, p, u);
  for (auto _ : state) {
    s.field_at(steps, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["pixel_steps_per_s"] =
      benchmark::Counter(double(grid.cells()) * double(steps) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SpectralJump)->ArgNames({"n", "steps"})->Args({1024, 1000})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SpectralSteps)->ArgNames({"n", "steps"})->Args({1024, 1000})->Unit(benchmark::kMillisecond);
