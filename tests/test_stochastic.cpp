// The stochastic and collapse modes: samplers, exact conservation, statistics, convergence and
// independence from traversal order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "propagon/binomial.hpp"
#include <fmt/format.h>

#include "propagon/config.hpp"
#include "propagon/error.hpp"
#include "propagon/input.hpp"
#include "propagon/solver.hpp"
#include "propagon/stochastic.hpp"

using namespace propagon;

namespace {

// A host stream for the sampler tests: the same Philox streams the solver uses, one per draw group.
struct TestStream {
  CellStream s;
  explicit TestStream(std::uint64_t seed, std::uint64_t cell = 0) : s(seed, 0, 0, cell) {}
  // Callable wherever the samplers are (on a CUDA build they are host and device functions).
  KOKKOS_INLINE_FUNCTION double uniform() { return s.uniform(); }
  KOKKOS_INLINE_FUNCTION std::uint64_t bits() { return s.bits(); }
};

// A sink for CellScatter on the host: adds each share to its target (a functor, because the rule
// calls its sink from a host and device function, which may not call a host lambda on CUDA builds).
struct AddTo {
  Count* result;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t target, Count k) const {
    if (target >= 0) result[target] += k;
  }
};

double log_pmf(std::uint64_t n, double p, std::uint64_t k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + k * std::log(p) + (n - k) * std::log1p(-p);
}

// Pearson chi-square of binomial samples against the exact pmf, bins with expectation < 5 merged.
// With `tables`, draws come from table j of the alias sampler instead of sample_binomial().
void expect_binomial(std::uint64_t n, double p, int samples, std::uint64_t seed, const BinomialTables* tables = nullptr,
                     int j = 0) {
  std::map<std::uint64_t, int> counts;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < samples; ++i) {
    TestStream rng(seed, static_cast<std::uint64_t>(i));
    const std::uint64_t k = tables ? tables->sample(j, n, rng) : sample_binomial(n, p, rng);
    ASSERT_LE(k, n);
    ++counts[k];
    sum += double(k);
    sum2 += double(k) * double(k);
  }
  const double mean = sum / samples, var = sum2 / samples - mean * mean;
  EXPECT_NEAR(mean, n * p, 5 * std::sqrt(n * p * (1 - p) / samples)) << "n " << n << " p " << p;
  EXPECT_NEAR(var / (n * p * (1 - p)), 1.0, 5 * std::sqrt(2.0 / samples) + 1e-3) << "n " << n << " p " << p;
  const double centre = n * p, width = 8 * std::sqrt(n * p * (1 - p)) + 10;
  const std::uint64_t lo = centre > width ? std::uint64_t(centre - width) : 0;
  const std::uint64_t hi = std::min<std::uint64_t>(n, std::uint64_t(centre + width));
  double chi2 = 0, expected_acc = 0, observed_acc = 0;
  int bins = 0;
  double tail_expected = 1.0;
  for (std::uint64_t k = lo; k <= hi; ++k) {
    const double e = samples * std::exp(log_pmf(n, p, k));
    tail_expected -= e / samples;
    expected_acc += e;
    observed_acc += counts.count(k) ? counts[k] : 0;
    if (expected_acc >= 5) {
      chi2 += (observed_acc - expected_acc) * (observed_acc - expected_acc) / expected_acc;
      ++bins;
      expected_acc = observed_acc = 0;
    }
  }
  if (expected_acc > 0) chi2 += (observed_acc - expected_acc) * (observed_acc - expected_acc) / std::max(expected_acc, 1.0);
  const int df = bins - 1;
  // Far beyond any plausible fluctuation (about 6 sigma of the chi-square distribution).
  EXPECT_LT(chi2, df + 6 * std::sqrt(2.0 * df)) << "n " << n << " p " << p << " df " << df;
  EXPECT_GT(chi2, df - 6 * std::sqrt(2.0 * df)) << "too good to be random: n " << n << " p " << p;
}

RunDescription run_of(const std::string& yaml) {
  return parse_run_description(yaml, std::filesystem::path(PROPAGON_SOURCE_DIR) / "tests" / "s.yaml");
}

std::vector<Count> counts_of(const Solver& s, std::size_t channel = 0, std::size_t n = 0) {
  const auto a = s.host_arrays();
  const auto& c = a->channels()[channel];
  const std::size_t size = n ? n : 0;
  return std::vector<Count>(c.counts, c.counts + size);
}

Count total(const std::vector<Count>& v) { return std::accumulate(v.begin(), v.end(), Count(0)); }

// Mean and unbiased variance over cells, and the counts of one uniform field after a single step.
std::pair<double, double> mean_and_variance(const std::vector<Count>& c) {
  double mean = 0, var = 0;
  for (Count k : c) mean += double(k);
  mean /= double(c.size());
  for (Count k : c) var += (double(k) - mean) * (double(k) - mean);
  return {mean, var / double(c.size() - 1)};
}

std::vector<Count> one_step_of_uniform(const char* mode, std::int64_t n) {
  const RunDescription d = run_of(fmt::format("input: {{synthetic: {{shape: [{0}, {0}], pattern: uniform, value: 1}}}}\n"
                                              "kernel: {{preset: box}}\npropagation: {{mode: {1}, boundary: periodic, "
                                              "particles_per_unit: 1000}}\n",
                                              n, mode));
  auto solver = make_solver(d, load_initial_state(d));
  solver->advance(1);
  return counts_of(*solver, 0, static_cast<std::size_t>(n * n));
}

}  // namespace

TEST(Binomial, StirlingTableMatchesLgamma) {
  for (int k = 0; k < 30; ++k) {
    const double exact = std::lgamma(k + 1.0) - ((k + 0.5) * std::log(k + 1.0) - (k + 1) + 0.5 * std::log(2 * M_PI));
    EXPECT_NEAR(binomial_detail::stirling_tail(k), exact, 2e-12) << k;
  }
}

TEST(Binomial, InversionRegimeMatchesThePmf) {
  expect_binomial(20, 0.2, 200000, 11);
  expect_binomial(1000, 0.004, 200000, 12);
  expect_binomial(3, 0.5, 100000, 13);
}

TEST(Binomial, BtrdRegimeMatchesThePmf) {
  expect_binomial(255, 1.0 / 9, 200000, 21);
  expect_binomial(1000, 0.3, 200000, 22);
  expect_binomial(1000000, 0.45, 200000, 23);
  expect_binomial(90, 0.5, 200000, 24);
}

TEST(Binomial, LargePIsFlippedAndEdgesAreExact) {
  expect_binomial(50, 0.9, 200000, 31);
  expect_binomial(400, 0.97, 200000, 32);
  TestStream rng(1);
  EXPECT_EQ(sample_binomial(0, 0.3, rng), 0u);
  EXPECT_EQ(sample_binomial(17, 0.0, rng), 0u);
  EXPECT_EQ(sample_binomial(17, 1.0, rng), 17u);
}

TEST(Binomial, AliasTablesMatchThePmf) {
  const std::vector<double> ps = {1.0 / 9, 0.5, 0.02, 0.97, 0.0, 1.0};
  const BinomialTables t = make_binomial_tables(ps, 511);
  ASSERT_EQ(t.max_n, 511);
  expect_binomial(255, 1.0 / 9, 200000, 41, &t, 0);
  expect_binomial(28, 1.0 / 9, 200000, 42, &t, 0);
  expect_binomial(300, 0.5, 200000, 43, &t, 1);
  expect_binomial(40, 0.02, 200000, 44, &t, 2);
  expect_binomial(511, 0.97, 200000, 45, &t, 3);
  expect_binomial(1, 0.5, 100000, 46, &t, 1);
  TestStream rng(2);
  for (std::uint64_t n : {0u, 1u, 17u, 511u}) {
    EXPECT_EQ(t.sample(4, n, rng), 0u);  // p = 0
    EXPECT_EQ(t.sample(5, n, rng), n);   // p = 1
  }
  // A budget too small for 511 gives smaller tables, not larger memory.
  EXPECT_LT(make_binomial_tables(ps, 511, 1u << 16).max_n, 511);
}

TEST(Stochastic, ConservationIsExactInEveryBoundary) {
  for (const char* b : {"periodic", "reflect", "clamp", "absorb"})
    for (const char* mode : {"stochastic", "collapse"}) {
      const RunDescription d = run_of(std::string("input: {synthetic: {shape: [17, 23], pattern: random, value: 3}}\n") +
                                      "kernel: {preset: gaussian, size: 5, sigma: 1.3}\npropagation: {mode: " + mode +
                                      ", boundary: " + b + ", particles_per_unit: 1000}\n");
      const InitialState init = load_initial_state(d);
      auto solver = make_solver(d, init);
      const std::size_t cells = 17 * 23;
      const Count start = total(counts_of(*solver, 0, cells));
      ASSERT_GT(start, 0u);
      for (int step = 1; step <= 100; ++step) {
        solver->advance(step);
        const auto a = solver->host_arrays();
        const Count now = total(std::vector<Count>(a->channels()[0].counts, a->channels()[0].counts + cells));
        const Count gone = a->channels()[0].absorbed_particles[0];
        ASSERT_EQ(now + gone, start) << b << " " << mode << " step " << step;
        if (std::string(b) != "absorb") {
          ASSERT_EQ(gone, 0u);
        }
      }
    }
}

TEST(Stochastic, ExtremePropagatorsNeverMakeNegativeCounts) {
  // Unsigned counts would wrap around on a negative: the totals and the maximum reveal it.
  const std::vector<std::string> kernels = {"{preset: laplacian}", "{values: [[0, 0, 0], [0, 1000, 0], [0, 0, 0]]}",
                                            "{values: [[0, 0, 0], [0, -50, 0], [0, 0, 50]]}", "{preset: sharpen}"};
  for (const auto& k : kernels) {
    const RunDescription d = run_of("input: {synthetic: {shape: [9, 9], pattern: point, value: 1}}\nkernel: " + k +
                                    "\npropagation: {mode: stochastic, boundary: reflect, particles_per_unit: 1000000}\n");
    auto solver = make_solver(d, load_initial_state(d));
    for (int step = 1; step <= 30; ++step) {
      solver->advance(step);
      const auto c = counts_of(*solver, 0, 81);
      ASSERT_EQ(total(c), 1000000u) << k;
      ASSERT_LE(*std::max_element(c.begin(), c.end()), 1000000u) << k;
    }
  }
}

TEST(Stochastic, OneStepFromAUniformFieldHasTheMultinomialVariance) {
  const auto [mean, var] = mean_and_variance(one_step_of_uniform("stochastic", 256));
  EXPECT_EQ(mean, 1000.0);  // exactly: the total is conserved
  const double expected = 1000.0 * 8.0 / 9.0;  // n * sum P(1 - P) = n * 9 * (1/9)(8/9)
  EXPECT_NEAR(var / expected, 1.0, 0.11) << var;
  EXPECT_NEAR(var / expected, 1.0, 0.03) << var;  // the 256^2 cells pin it far closer than the 11% asked
}

TEST(Stochastic, CollapseHasTheMeanButALargerVariance) {
  const auto [mean, var] = mean_and_variance(one_step_of_uniform("collapse", 128));
  EXPECT_EQ(mean, 1000.0);
  // Each target receives whole cells of 1000 with probability 1/9 from each of 9 sources:
  // variance 9 * 1000^2 * (1/9)(8/9) = 888889, a thousand times the multinomial 888.9.
  EXPECT_NEAR(var / 888888.9, 1.0, 0.05);
  EXPECT_GT(var, 100 * 1000.0 * 8 / 9);
}

namespace {
// Relative L2 distance between replicate-ensemble means and the deterministic field.
double ensemble_error(double ppu, std::int64_t replicates, const char* mode) {
  const std::string base = "input: {synthetic: {shape: [24, 24], pattern: checkerboard, period: 3, value: 1}}\n"
                           "kernel: {preset: gaussian, sigma: 1}\n";
  const RunDescription det = run_of(base + "propagation: {mode: deterministic, boundary: reflect, precision: float64}\n");
  const RunDescription sto = run_of(base + fmt::format("propagation: {{mode: {}, boundary: reflect, precision: float64, "
                                                       "particles_per_unit: {}, replicates: {}, seed: 5}}\n",
                                                       mode, ppu, replicates));
  auto a = make_solver(det, load_initial_state(det));
  auto b = make_solver(sto, load_initial_state(sto));
  for (int step = 1; step <= 4; ++step) a->advance(step), b->advance(step);
  const auto ha = a->host_arrays();
  const auto hb = b->host_arrays();
  const double* x = static_cast<const double*>(ha->channels()[0].field);
  const double* y = static_cast<const double*>(replicates > 1 ? hb->channels()[0].mean : hb->channels()[0].field);
  double d2 = 0, n2 = 0;
  for (int i = 0; i < 24 * 24; ++i) d2 += (x[i] - y[i]) * (x[i] - y[i]), n2 += x[i] * x[i];
  return std::sqrt(d2 / n2);
}
}  // namespace

TEST(Stochastic, EnsembleMeanConvergesAsOneOverSqrtOfParticles) {
  // 10^4 and 10^6 particles x replicates, reached both through particles and through replicates.
  const double coarse = ensemble_error(1e4, 1, "stochastic"), fine = ensemble_error(1e6, 1, "stochastic");
  EXPECT_GE(coarse / fine, 5.0) << coarse << " " << fine;
  EXPECT_LE(coarse / fine, 20.0) << coarse << " " << fine;
  const double coarse_r = ensemble_error(100, 100, "stochastic"), fine_r = ensemble_error(10000, 100, "stochastic");
  EXPECT_GE(coarse_r / fine_r, 5.0) << coarse_r << " " << fine_r;
  EXPECT_LE(coarse_r / fine_r, 20.0) << coarse_r << " " << fine_r;
  // Collapse converges to the same mean, with a larger error at the same effort.
  const double collapse_coarse = ensemble_error(1e4, 100, "collapse"), collapse_fine = ensemble_error(1e4, 1600, "collapse");
  EXPECT_GE(collapse_coarse / collapse_fine, 2.0) << collapse_coarse << " " << collapse_fine;  // sqrt(16) = 4
  EXPECT_LE(collapse_coarse / collapse_fine, 8.0) << collapse_coarse << " " << collapse_fine;
  EXPECT_GT(collapse_fine, ensemble_error(1e4, 1600, "stochastic"));
}

TEST(Stochastic, ResultsDoNotDependOnTraversalOrderOrPartition) {
  const Grid g = Grid::from_shape({13, 19});
  std::vector<Count> start(static_cast<std::size_t>(g.cells()));
  for (std::size_t i = 0; i < start.size(); ++i) start[i] = (i * 7919) % 3000;
  // A separable propagator (the kernel draws for two neighbours at once, interleaved) and one that
  // is not; counts up to 3000 take both the tables and BTRD; 19 columns leave an odd cell.
  for (const Propagator& p : {normalize_kernel(make_preset("gaussian", 2, {5, 5}, 1.0), Normalization::softmax),
                              normalize_kernel(make_preset("sobel_x", 2, {3, 3}, 0), Normalization::softmax)})
  for (auto kind : {StochasticKind::multinomial, StochasticKind::collapse}) {
    const CellScatter rule = make_cell_scatter(g, p, Boundary::reflect, kind, 99);
    // The parallel kernel...
    CountView in("in", start.size()), out("out", start.size());
    Kokkos::View<Count*> gone("gone", 1);
    auto h = Kokkos::create_mirror_view(in);
    std::copy(start.begin(), start.end(), h.data());
    Kokkos::deep_copy(in, h);
    stochastic_step(rule, g, in, out, 1, 7, gone);
    auto parallel = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
    // ...against the same rule applied on the host in reverse order and in 4x5 tiles.
    auto host_order = [&](const std::vector<std::int64_t>& order) {
      std::vector<Count> result(start.size(), 0);
      const AddTo sink{result.data()};
      for (std::int64_t cell : order) rule(0, 7, cell, start[static_cast<std::size_t>(cell)], sink);
      return result;
    };
    std::vector<std::int64_t> reverse(start.size());
    std::iota(reverse.rbegin(), reverse.rend(), 0);
    std::vector<std::int64_t> tiles;
    for (std::int64_t ty = 0; ty < 13; ty += 4)
      for (std::int64_t tx = 0; tx < 19; tx += 5)
        for (std::int64_t y = ty; y < std::min<std::int64_t>(ty + 4, 13); ++y)
          for (std::int64_t x = tx; x < std::min<std::int64_t>(tx + 5, 19); ++x) tiles.push_back(y * 19 + x);
    std::vector<std::int64_t> shuffled(reverse);
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
    for (const auto& order : {reverse, tiles, shuffled}) {
      const auto r = host_order(order);
      for (std::size_t i = 0; i < r.size(); ++i) ASSERT_EQ(r[i], parallel(i)) << "cell " << i;
    }
  }
}

TEST(Stochastic, SameSeedSameBitsOtherSeedOtherField) {
  auto final_counts = [](std::uint64_t seed, std::int64_t replicates) {
    const RunDescription d = run_of(fmt::format("input: {{synthetic: {{shape: [20, 20], pattern: random}}}}\n"
                                                "propagation: {{mode: stochastic, seed: {}, replicates: {}}}\n",
                                                seed, replicates));
    auto s = make_solver(d, load_initial_state(d));
    for (int step = 1; step <= 5; ++step) s->advance(step);
    return counts_of(*s, 0, 400);
  };
  EXPECT_EQ(final_counts(1, 1), final_counts(1, 1));
  EXPECT_NE(final_counts(1, 1), final_counts(2, 1));
  // Replicate 0 of an ensemble is the single run with the same seed.
  EXPECT_EQ(final_counts(1, 1), final_counts(1, 3));
}

TEST(Stochastic, RawFiltersAndNegativeInputAreRefused) {
  EXPECT_THROW(run_of("input: {synthetic: {shape: [5, 5]}}\nkernel: {preset: edge, normalize: none}\npropagation: {mode: stochastic}\n"),
               ConfigError);
  const RunDescription d = run_of("input: {synthetic: {shape: [5, 5], pattern: uniform, value: -1}}\npropagation: {mode: collapse}\n");
  EXPECT_THROW(make_solver(d, load_initial_state(d)), InputError);
}

TEST(Binomial, PreparedProbabilitiesDrawTheSameNumbers) {
  // The multinomial uses the prepared form; the chi-square tests above use the plain one.
  for (double p : {0.01, 0.111, 0.3, 0.5, 0.62, 0.97})
    for (std::uint64_t n : {1u, 7u, 60u, 255u, 5000u}) {
      const BinomialP prepared = BinomialP::of(p);
      for (std::uint64_t i = 0; i < 200; ++i) {
        TestStream a(77, i), b(77, i);
        ASSERT_EQ(sample_binomial(n, p, a), sample_binomial(n, prepared, b)) << "n " << n << " p " << p;
      }
    }
}
