// Exact one-step results, conservation and moments of the deterministic step.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "helpers.hpp"

using namespace propagon;
using namespace propagon::testing;

namespace {
const Boundary all_boundaries[] = {Boundary::periodic, Boundary::reflect, Boundary::clamp, Boundary::absorb};

Propagator box3x3() { return normalize_kernel(make_preset("box", 2, {3, 3}, 0), Normalization::softmax); }

std::vector<double> unit_at(const Grid& g, std::int64_t y, std::int64_t x) {
  std::vector<double> u(static_cast<std::size_t>(g.cells()), 0.0);
  u[static_cast<std::size_t>(y * g.nx() + x)] = 1.0;
  return u;
}
}  // namespace

// The conventions' orientation check: mass moves right by +0.5 cells per step.
TEST(DeterministicStep, OrientationIsPushNotCorrelation) {
  const Grid g = Grid::from_shape({7});
  const Propagator p = from_weights({3}, {1.0 / 8, 2.0 / 8, 5.0 / 8}, 1);
  std::vector<double> u(7, 0.0);
  u[3] = 1.0;
  const auto out = run_steps<double>(g, p, Boundary::periodic, u, 1);
  const std::vector<double> expected{0, 0, 0.125, 0.25, 0.625, 0, 0};
  for (int i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(out[i], expected[i]) << "index " << i;
  EXPECT_DOUBLE_EQ(p.mean_displacement()[2], 0.5);
}

TEST(DeterministicStep, CornerReflectAndClamp) {
  const Grid g = Grid::from_shape({5, 5});
  for (Boundary b : {Boundary::reflect, Boundary::clamp}) {
    const auto out = run_steps<double>(g, box3x3(), b, unit_at(g, 0, 0), 1);
    EXPECT_NEAR(out[0], 4.0 / 9, 1e-15) << boundary_name(b);
    EXPECT_NEAR(out[1], 2.0 / 9, 1e-15);
    EXPECT_NEAR(out[5], 2.0 / 9, 1e-15);
    EXPECT_NEAR(out[6], 1.0 / 9, 1e-15);
    EXPECT_NEAR(sum(out), 1.0, 1e-15);
    for (int i : {2, 3, 4, 7, 10, 12, 24}) EXPECT_EQ(out[i], 0.0) << i;
  }
}

TEST(DeterministicStep, CornerAbsorb) {
  const Grid g = Grid::from_shape({5, 5});
  double absorbed = 0;
  const auto out = run_steps<double>(g, box3x3(), Boundary::absorb, unit_at(g, 0, 0), 1, &absorbed);
  for (int i : {0, 1, 5, 6}) EXPECT_NEAR(out[i], 1.0 / 9, 1e-15) << i;
  EXPECT_NEAR(sum(out), 4.0 / 9, 1e-15);
  EXPECT_NEAR(absorbed, 5.0 / 9, 1e-15);
}

TEST(DeterministicStep, CornerPeriodic) {
  const Grid g = Grid::from_shape({5, 5});
  const auto out = run_steps<double>(g, box3x3(), Boundary::periodic, unit_at(g, 0, 0), 1);
  for (int y : {4, 0, 1})
    for (int x : {4, 0, 1}) EXPECT_NEAR(out[y * 5 + x], 1.0 / 9, 1e-15) << y << "," << x;
  EXPECT_NEAR(sum(out), 1.0, 1e-15);
  EXPECT_EQ(out[2 * 5 + 2], 0.0);
}

// A kernel wider than the grid wraps repeatedly: offsets -2..2 on 2 cells.
TEST(DeterministicStep, FiveTapKernelOnTwoCellPeriodicGrid) {
  const Grid g = Grid::from_shape({2});
  const std::vector<double> w{0.1, 0.15, 0.2, 0.25, 0.3};  // offsets -2, -1, 0, +1, +2
  const Propagator p = from_weights({5}, w, 1);
  const auto out = run_steps<double>(g, p, Boundary::periodic, {1.0, 0.0}, 1);
  EXPECT_NEAR(out[0], 0.1 + 0.2 + 0.3, 1e-15);
  EXPECT_NEAR(out[1], 0.15 + 0.25, 1e-15);
}

TEST(DeterministicStep, WideKernelsFoldLikeTheReference) {
  // 7-tap and 9x5 kernels on grids narrower than the kernel, every boundary, against the literal
  // scatter reference.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  for (Boundary b : all_boundaries) {
    for (auto shape : {std::vector<std::int64_t>{3}, std::vector<std::int64_t>{2, 3}, std::vector<std::int64_t>{6, 40}}) {
      const Grid g = Grid::from_shape(shape);
      std::vector<int> kshape = g.rank == 1 ? std::vector<int>{7} : std::vector<int>{9, 5};
      std::vector<double> k(g.rank == 1 ? 7 : 45);
      for (double& v : k) v = uni(rng);
      const Propagator p = normalize_kernel(make_explicit(kshape, k), Normalization::sum);
      std::vector<double> u(static_cast<std::size_t>(g.cells()));
      for (double& v : u) v = uni(rng);
      const auto out = run_steps<double>(g, p, b, u, 1);
      const auto ref = scatter_reference(g, p, b, u);
      for (std::size_t i = 0; i < u.size(); ++i) EXPECT_NEAR(out[i], ref[i], 1e-14) << boundary_name(b) << " cell " << i;
    }
  }
}

TEST(DeterministicStep, RawFilterMatchesReference) {
  // normalize: none (no flux form) on a 3D grid with an asymmetric kernel.
  const Grid g = Grid::from_shape({4, 5, 6});
  std::vector<double> k(27);
  for (int i = 0; i < 27; ++i) k[i] = std::sin(1.0 + i);
  const Propagator p = normalize_kernel(make_explicit({3, 3, 3}, k), Normalization::none);
  std::vector<double> u(static_cast<std::size_t>(g.cells()));
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = std::cos(0.3 * i);
  for (Boundary b : all_boundaries) {
    const auto out = run_steps<double>(g, p, b, u, 1);
    const auto ref = scatter_reference(g, p, b, u);
    for (std::size_t i = 0; i < u.size(); ++i) EXPECT_NEAR(out[i], ref[i], 1e-13) << boundary_name(b) << " cell " << i;
  }
}

TEST(DeterministicStep, ThreeDimensionalBoxOnOneSliceEqualsTwoDimensionalBox) {
  const Grid g2 = Grid::from_shape({6, 7});
  const Grid g3 = Grid::from_shape({1, 6, 7});
  const Propagator p2 = normalize_kernel(make_preset("box", 2, {3, 3}, 0), Normalization::softmax);
  const Propagator p3 = normalize_kernel(make_preset("box", 3, {3, 3, 3}, 0), Normalization::softmax);
  std::vector<double> u(42);
  for (int i = 0; i < 42; ++i) u[i] = (i * 37) % 11;
  for (Boundary b : {Boundary::periodic, Boundary::reflect, Boundary::clamp}) {
    const auto a = run_steps<double>(g2, p2, b, u, 3);
    const auto c = run_steps<double>(g3, p3, b, u, 3);
    for (int i = 0; i < 42; ++i) EXPECT_NEAR(a[i], c[i], 1e-14) << boundary_name(b) << " " << i;
  }
}

template <class T>
void check_conservation(double tolerance) {
  const Grid g = Grid::from_shape({48, 64});
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::vector<double> u(static_cast<std::size_t>(g.cells()));
  for (double& v : u) v = uni(rng);
  // Centre-heavy and flat propagators, 3x3 and 5x5, including an asymmetric (drifting) one.
  std::vector<Propagator> props = {
      normalize_kernel(make_preset("gaussian", 2, {3, 3}, 1.0), Normalization::softmax),
      normalize_kernel(make_preset("box", 2, {5, 5}, 0), Normalization::softmax),
      normalize_kernel(make_preset("laplacian", 2, {3, 3}, 0), Normalization::softmax),
      normalize_kernel(make_explicit({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), Normalization::sum)};
  for (const auto& p : props)
    for (Boundary b : {Boundary::periodic, Boundary::reflect, Boundary::clamp}) {
      const auto out = run_steps<T>(g, p, b, u, 500);
      const double m0 = sum(u), m1 = sum(out);
      EXPECT_LT(std::abs(m1 - m0) / m0, tolerance) << p.preset << " " << boundary_name(b);
    }
}

TEST(DeterministicStep, ConservesMassFloat32Over500Steps) { check_conservation<float>(1e-6); }
TEST(DeterministicStep, ConservesMassFloat64Over500Steps) { check_conservation<double>(1e-12); }

TEST(DeterministicStep, AbsorbedMassEqualsLostMass) {
  const Grid g = Grid::from_shape({20, 24});
  std::vector<double> u(static_cast<std::size_t>(g.cells()));
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = 1.0 + std::sin(0.1 * i);
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {5, 5}, 1.5), Normalization::softmax);
  double absorbed = 0;
  const auto out = run_steps<double>(g, p, Boundary::absorb, u, 200, &absorbed);
  EXPECT_GT(absorbed, 0.5 * sum(u));
  EXPECT_NEAR(sum(u) - sum(out), absorbed, 1e-10 * sum(u));
  double absorbed32 = 0;
  const auto out32 = run_steps<float>(g, p, Boundary::absorb, u, 200, &absorbed32);
  EXPECT_NEAR(sum(u) - sum(out32), absorbed32, 1e-5 * sum(u));
}

TEST(DeterministicStep, PointSourceVarianceGrowsByPropagatorVariance) {
  const Grid g = Grid::from_shape({101, 101});
  const Propagator p = box3x3();
  EXPECT_NEAR(p.displacement_variance()[1], 2.0 / 3, 1e-15);
  EXPECT_NEAR(p.displacement_variance()[2], 2.0 / 3, 1e-15);
  DeterministicStep<double> step(g, p, Boundary::reflect);
  Field<double> f = make_field<double>("c", unit_at(g, 50, 50));
  FieldView<double> scratch("s", g.cells());
  for (int n = 1; n <= 40; ++n) {  // 40 steps move at most 40 cells: the walls are 50 away
    step.apply(f.values, scratch);
    std::swap(f.values, scratch);
    const FieldStats st = field_stats<double>(f.values, g);
    EXPECT_NEAR(st.variance[1], n * 2.0 / 3, 1e-9) << "step " << n;
    EXPECT_NEAR(st.variance[2], n * 2.0 / 3, 1e-9) << "step " << n;
    EXPECT_NEAR(st.mean[1], 50.0, 1e-9);
    EXPECT_NEAR(st.mean[2], 50.0, 1e-9);
    EXPECT_NEAR(st.mass, 1.0, 1e-12);
  }
}

TEST(DeterministicStep, DriftMovesTheMeanByTheMeanDisplacement) {
  const Grid g = Grid::from_shape({200});
  const Propagator p = from_weights({3}, {1.0 / 8, 2.0 / 8, 5.0 / 8}, 1);
  std::vector<double> u(200, 0.0);
  u[50] = 1.0;
  const auto out = run_steps<double>(g, p, Boundary::absorb, u, 60);
  double m = 0, mx = 0, mxx = 0;
  for (int i = 0; i < 200; ++i) m += out[i], mx += i * out[i], mxx += double(i) * i * out[i];
  const double var1 = 2.0 / 8 * 0.25 + 1.0 / 8 * 2.25 + 5.0 / 8 * 0.25;  // about the mean +0.5
  EXPECT_NEAR(mx / m, 50 + 60 * 0.5, 1e-9);
  EXPECT_NEAR(mxx / m - (mx / m) * (mx / m), 60 * var1, 1e-8);
}

TEST(DeterministicStep, Float32MatchesFloat64) {
  const Grid g = Grid::from_shape({33, 47});
  std::vector<double> u(static_cast<std::size_t>(g.cells()));
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = (i * 13) % 17;
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {3, 3}, 0.8), Normalization::softmax);
  for (Boundary b : all_boundaries) {
    const auto a = run_steps<float>(g, p, b, u, 20);
    const auto c = run_steps<double>(g, p, b, u, 20);
    for (std::size_t i = 0; i < u.size(); ++i) ASSERT_NEAR(a[i], c[i], 2e-5 * 16) << boundary_name(b);
  }
}
