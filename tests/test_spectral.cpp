// The spectral mode (convolution theorem) against the direct path.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "helpers.hpp"
#include "propagon/config.hpp"
#include "propagon/error.hpp"
#include "propagon/spectral.hpp"

using namespace propagon;
using namespace propagon::testing;

namespace {
double rel_l2(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]), n += b[i] * b[i];
  return std::sqrt(d / n);
}

template <class T>
std::vector<double> spectral(const Grid& g, const Propagator& p, const std::vector<double>& u, int steps) {
  SpectralPropagation<T> s(g, p, std::vector<T>(u.begin(), u.end()));
  std::vector<T> out(u.size());
  s.field_at(steps, out.data());
  return std::vector<double>(out.begin(), out.end());
}

}  // namespace

TEST(Spectral, MatchesTheDirectPathInEveryRank) {
  struct Case {
    std::vector<std::int64_t> shape;
    std::vector<int> kernel;
  };
  for (const Case& c : {Case{{50}, {5}}, Case{{24, 30}, {3, 3}}, Case{{8, 10, 12}, {3, 3, 3}}, Case{{2, 3}, {5, 7}}}) {
    const Grid g = Grid::from_shape(c.shape);
    std::vector<double> k(1);
    std::size_t n = 1;
    for (int e : c.kernel) n *= static_cast<std::size_t>(e);
    const Propagator p = normalize_kernel(make_explicit(c.kernel, random_field(n, 4)), Normalization::softmax);
    const auto u = random_field(static_cast<std::size_t>(g.cells()), 9);
    for (int steps : {0, 1, 7, 40}) {
      const auto direct = run_steps<double>(g, p, Boundary::periodic, u, steps);
      EXPECT_LT(rel_l2(spectral<double>(g, p, u, steps), direct), 1e-12) << g.rank << "D, " << steps << " steps";
    }
  }
}

TEST(Spectral, SymmetricPropagatorsTakeTheRealPathAndStillMatch) {
  // Point-symmetric kernels (gaussian, box) give a real transfer function (H^n in real arithmetic);
  // an odd-sized grid and a kernel wider than the grid included.
  for (const auto& [shape, size] : std::vector<std::pair<std::vector<std::int64_t>, std::vector<int>>>{
           {{31}, {5}}, {{17, 23}, {3, 5}}, {{3, 4}, {7, 7}}, {{6, 7, 5}, {3, 3, 3}}}) {
    const Grid g = Grid::from_shape(shape);
    const Propagator p = normalize_kernel(make_preset("gaussian", g.rank, size, 1.2), Normalization::softmax);
    const auto u = random_field(static_cast<std::size_t>(g.cells()), 13);
    for (int steps : {1, 9, 64}) {
      const auto direct = run_steps<double>(g, p, Boundary::periodic, u, steps);
      EXPECT_LT(rel_l2(spectral<double>(g, p, u, steps), direct), 1e-12) << g.rank << "D, " << steps << " steps";
    }
  }
}

TEST(Spectral, Float32AgreesWithTheDirectPathToRounding) {
  // The goal is 1e-5 relative L2; both paths are float32 rounding apart (about 1e-7 here, 2e-7
  // after 1000 steps of the photo), so a tenfold margin over that is asserted.
  const Grid g = Grid::from_shape({256, 256});
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {3, 3}, 1.0), Normalization::softmax);
  const auto u = random_field(static_cast<std::size_t>(g.cells()), 2);
  const auto direct = run_steps<float>(g, p, Boundary::periodic, u, 300);
  EXPECT_LT(rel_l2(spectral<float>(g, p, u, 300), direct), 1e-6);
}

TEST(Spectral, ConservesMassAndRestartsFromAnyStep) {
  const Grid g = Grid::from_shape({32, 40});
  const Propagator p = normalize_kernel(make_preset("box", 2, {5, 5}, 0), Normalization::softmax);
  const auto u = random_field(static_cast<std::size_t>(g.cells()), 5);
  const auto later = spectral<double>(g, p, u, 500);
  EXPECT_NEAR(sum(later), sum(u), 1e-10 * sum(u));
  // Continuing from step 200's field reaches step 500's to rounding.
  SpectralPropagation<double> s(g, p, u);
  std::vector<double> mid(u.size()), end(u.size());
  s.field_at(200, mid.data());
  s.reset(mid, 200);
  s.field_at(500, end.data());
  EXPECT_LT(rel_l2(end, later), 1e-12);
}

TEST(Spectral, OnlyPeriodicBoundariesAreAccepted) {
  const std::filesystem::path here = std::filesystem::path(PROPAGON_SOURCE_DIR) / "tests" / "s.yaml";
  EXPECT_NO_THROW(parse_run_description("input: {synthetic: {shape: [8, 8]}}\npropagation: {mode: spectral, boundary: wrap}\n", here));
  try {
    parse_run_description("input: {synthetic: {shape: [8, 8]}}\npropagation: {mode: spectral, boundary: reflect}\n", here);
    FAIL() << "spectral with reflect was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("periodic"), std::string::npos) << e.what();
  }
}

TEST(Spectral, LongJumpsSkipTheFrequenciesThatHaveDecayedAndStillMatch) {
  // After many steps |H|^n is below the threshold on most x frequencies; those blocks are
  // skipped. The jumps go long, short (blocks come back: their transforms are made then), long
  // again (blocks go back to zero) and to the start; an odd half-width (41 and 16 frequencies)
  // leaves a narrow last block. 2D with a point-symmetric kernel, 3D with an asymmetric one.
  struct Case {
    std::vector<std::int64_t> shape;
    Propagator propagator;
  };
  const Case cases[] = {
      {{64, 80}, normalize_kernel(make_preset("box", 2, {5, 5}, 0), Normalization::softmax)},
      {{6, 10, 30}, normalize_kernel(make_explicit({3, 3, 3}, random_field(27, 8)), Normalization::softmax)}};
  for (const Case& c : cases) {
    const Grid g = Grid::from_shape(c.shape);
    const auto u = random_field(static_cast<std::size_t>(g.cells()), 21);
    SpectralPropagation<double> s(g, c.propagator, u);
    EXPECT_EQ(s.kept_fraction(0), 1.0);
    EXPECT_LT(s.kept_fraction(400), 0.5) << g.rank << "D";
    EXPECT_GT(s.kept_fraction(5), s.kept_fraction(400)) << g.rank << "D";
    std::vector<double> out(u.size());
    for (int steps : {400, 5, 400, 0}) {
      s.field_at(steps, out.data());
      EXPECT_LT(rel_l2(out, run_steps<double>(g, c.propagator, Boundary::periodic, u, steps)), 1e-12)
          << g.rank << "D, " << steps << " steps";
    }
    // An output array that is not aligned like the transform's own takes the copying path.
    std::vector<double> shifted(u.size() + 1);
    s.field_at(400, shifted.data() + 1);
    EXPECT_LT(rel_l2(std::vector<double>(shifted.begin() + 1, shifted.end()),
                     run_steps<double>(g, c.propagator, Boundary::periodic, u, 400)),
              1e-12);
  }
}
