// The separable, temporally blocked step against the literal push reference, and its promises:
// fused steps, row blocks and fused statistics change nothing but speed.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "helpers.hpp"
#include "propagon/separable_step.hpp"

using namespace propagon;
using namespace propagon::testing;

namespace {

const Boundary all_boundaries[] = {Boundary::periodic, Boundary::reflect, Boundary::clamp, Boundary::absorb};

// An asymmetric separable propagator: the outer product of two different 1D distributions.
Propagator asymmetric_product(int ky, int kx) {
  std::vector<double> py(ky), px(kx), w;
  for (int a = 0; a < ky; ++a) py[a] = 1.0 + a;
  for (int b = 0; b < kx; ++b) px[b] = 1.0 + 2.0 * ((b * 7) % kx);
  double sy = 0, sx = 0;
  for (double v : py) sy += v;
  for (double v : px) sx += v;
  for (int a = 0; a < ky; ++a)
    for (int b = 0; b < kx; ++b) w.push_back(py[a] / sy * px[b] / sx);
  return normalize_kernel(make_explicit({ky, kx}, w), Normalization::sum);
}

template <class T>
std::vector<double> separable_steps(const Grid& g, const Propagator& p, Boundary b, const std::vector<double>& u, int steps,
                                    int fused, int blocks, std::vector<FieldStats>* all_stats = nullptr) {
  const SeparableStep<T> step(g, p, b, blocks, /*fuse_small_fields=*/true);
  Field<T> f = make_field<T>("c", u);
  FieldView<T> scratch("scratch", g.cells());
  std::vector<FieldStats> stats;
  for (int done = 0; done < steps;) {
    const int n = std::min({fused, steps - done, step.max_fused_steps()});
    step.apply(f.values, scratch, n, &stats);
    std::swap(f.values, scratch);
    done += n;
    if (all_stats) all_stats->insert(all_stats->end(), stats.begin(), stats.end());
  }
  return to_host_vector<T>(f.values);
}

std::vector<double> reference_steps(const Grid& g, const Propagator& p, Boundary b, std::vector<double> u, int steps) {
  for (int i = 0; i < steps; ++i) u = scatter_reference(g, p, b, u);
  return u;
}

}  // namespace

TEST(SeparableStep, RecognisesProductPropagators) {
  EXPECT_TRUE(separable_factors(normalize_kernel(make_preset("gaussian", 2, {5, 5}, 1.3), Normalization::softmax)));
  EXPECT_TRUE(separable_factors(normalize_kernel(make_preset("box", 2, {3, 7}, 0), Normalization::softmax)));
  EXPECT_TRUE(separable_factors(asymmetric_product(3, 5)));
  EXPECT_FALSE(separable_factors(normalize_kernel(make_preset("sobel_x", 2, {3, 3}, 0), Normalization::softmax)));
  EXPECT_FALSE(separable_factors(normalize_kernel(make_preset("laplacian", 2, {3, 3}, 0), Normalization::softmax)));
  // A raw filter is not a propagator, even when it is a product.
  EXPECT_FALSE(separable_factors(normalize_kernel(make_preset("box", 2, {3, 3}, 0), Normalization::none)));
  const auto f = *separable_factors(asymmetric_product(3, 5));
  EXPECT_NEAR(f.py[2], 3.0 / 6.0, 1e-15);
}

TEST(SeparableStep, MatchesThePushReferenceForEveryBoundaryAndFusion) {
  const Grid g = Grid::from_shape({13, 17});
  const auto u = random_field(static_cast<std::size_t>(g.cells()), 7);
  for (const Propagator& p : {asymmetric_product(3, 3), asymmetric_product(5, 3), asymmetric_product(3, 7),
                              normalize_kernel(make_preset("gaussian", 2, {5, 5}, 1.0), Normalization::softmax)})
    for (Boundary b : all_boundaries) {
      const auto ref = reference_steps(g, p, b, u, 9);
      for (int fused : {1, 2, 4, 8})
        for (int blocks : {1, 3, 13}) {
          const auto got = separable_steps<double>(g, p, b, u, 9, fused, blocks);
          for (std::size_t i = 0; i < ref.size(); ++i)
            ASSERT_NEAR(got[i], ref[i], 1e-13) << boundary_name(b) << " fused " << fused << " blocks " << blocks << " cell " << i;
        }
    }
}

TEST(SeparableStep, Float32MatchesThePushReference) {
  // The float32 path has its own vector code (one pass per step on AVX machines).
  const Grid g = Grid::from_shape({21, 45});
  const auto u = random_field(static_cast<std::size_t>(g.cells()), 17);
  for (const Propagator& p : {normalize_kernel(make_preset("gaussian", 2, {3, 3}, 1.0), Normalization::softmax),
                              normalize_kernel(make_preset("gaussian", 2, {5, 5}, 1.0), Normalization::softmax),
                              normalize_kernel(make_preset("box", 2, {7, 7}, 0), Normalization::softmax),
                              asymmetric_product(3, 3)})
    for (Boundary b : all_boundaries) {
      const auto ref = reference_steps(g, p, b, u, 6);
      for (int fused : {1, 3})
        for (int blocks : {1, 4}) {
          const auto got = separable_steps<float>(g, p, b, u, 6, fused, blocks);
          for (std::size_t i = 0; i < ref.size(); ++i)
            ASSERT_NEAR(got[i], ref[i], 2e-6) << boundary_name(b) << " fused " << fused << " blocks " << blocks << " cell " << i;
        }
    }
}

TEST(SeparableStep, OneDimensionalGridAndWideKernels) {
  // A 1D grid, and kernels wider than the grid (folded several times; no fusion then for walls).
  for (const auto& [shape, kshape] : std::vector<std::pair<std::vector<std::int64_t>, std::pair<int, int>>>{
           {{11}, {1, 5}}, {{2, 5}, {7, 7}}, {{4, 3}, {5, 9}}}) {
    const Grid g = Grid::from_shape(shape);
    const int ky = kshape.first, kx = kshape.second;  // named: lambdas capture structured bindings only from C++20
    const Propagator p = embed_in_rank(asymmetric_product(ky, kx), 2);
    const Propagator pg = g.rank == 1 ? normalize_kernel(make_explicit({kx}, [&] {
                                                           std::vector<double> w;
                                                           for (int b = 0; b < kx; ++b) w.push_back(p.at(0, ky / 2, b));
                                                           return w;
                                                         }()),
                                                         Normalization::sum)
                                      : p;
    const auto u = random_field(static_cast<std::size_t>(g.cells()), 3);
    for (Boundary b : all_boundaries) {
      const auto ref = reference_steps(g, pg, b, u, 5);
      const auto got = separable_steps<double>(g, pg, b, u, 5, 8, 2);
      for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-13) << boundary_name(b) << " cell " << i;
    }
  }
}

TEST(SeparableStep, FusionAndBlocksAreBitIdenticalAndStatsMatchFieldStats) {
  const Grid g = Grid::from_shape({64, 99});  // 99: rows that are not whole vectors
  const auto u = random_field(static_cast<std::size_t>(g.cells()), 11);
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {3, 3}, 1.0), Normalization::softmax);
  for (Boundary b : {Boundary::periodic, Boundary::reflect}) {
    std::vector<FieldStats> one_by_one;
    const auto single = separable_steps<float>(g, p, b, u, 12, 1, 1, &one_by_one);
    std::vector<FieldStats> fused_stats;
    const auto fused = separable_steps<float>(g, p, b, u, 12, 8, 5, &fused_stats);
    ASSERT_EQ(single, fused) << boundary_name(b);
    ASSERT_EQ(fused_stats.size(), 12u);
    // The statistics taken on the way equal field_stats() of the field, bit for bit.
    Field<float> f = make_field<float>("c", single);
    const FieldStats direct = field_stats<float>(f.values, g);
    EXPECT_EQ(fused_stats.back().mass, direct.mass);
    EXPECT_EQ(fused_stats.back().variance, direct.variance);
    EXPECT_EQ(fused_stats.back().max, direct.max);
    for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(fused_stats[i].mass, one_by_one[i].mass) << i;
  }
}

TEST(SeparableStep, ConservesMassFloat32Over500Steps) {
  const Grid g = Grid::from_shape({40, 56});
  const auto u = random_field(static_cast<std::size_t>(g.cells()), 5);
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {5, 5}, 1.5), Normalization::softmax);
  for (Boundary b : {Boundary::periodic, Boundary::reflect, Boundary::clamp}) {
    const auto got = separable_steps<float>(g, p, b, u, 500, 8, 3);
    EXPECT_NEAR(sum(got) / sum(u), 1.0, 1e-6) << boundary_name(b);
  }
}

TEST(SeparableStep, AbsorbingWallsAndSmallFieldsDoNotFuse) {
  const Grid g = Grid::from_shape({16, 16});
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {3, 3}, 1.0), Normalization::softmax);
  EXPECT_EQ(SeparableStep<float>(g, p, Boundary::absorb, 0, true).max_fused_steps(), 1);
  EXPECT_GT(SeparableStep<float>(g, p, Boundary::periodic, 0, true).max_fused_steps(), 1);
  // A field that stays in cache is not fused unless asked; a large one is.
  EXPECT_EQ(SeparableStep<float>(g, p, Boundary::periodic).max_fused_steps(), 1);
  EXPECT_GT(SeparableStep<float>(Grid::from_shape({2048, 2048}), p, Boundary::periodic).max_fused_steps(), 1);
}
