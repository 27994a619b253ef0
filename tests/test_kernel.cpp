// Presets and their normalisation into propagators.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "propagon/kernel.hpp"

using namespace propagon;

TEST(Kernel, GaussianSoftmaxIsTheNormalisedDiscreteGaussian) {
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {3, 3}, 1.0), Normalization::softmax);
  EXPECT_NEAR(p.at(0, 1, 1), 0.20418, 5e-6);
  EXPECT_NEAR(p.at(0, 0, 1), 0.12384, 5e-6);
  EXPECT_NEAR(p.at(0, 1, 0), 0.12384, 5e-6);
  EXPECT_NEAR(p.at(0, 0, 0), 0.07511, 5e-6);
  EXPECT_NEAR(p.total(), 1.0, 1e-15);
  // Exact form: exp(-r^2/2) / Z
  const double z = 1 + 4 * std::exp(-0.5) + 4 * std::exp(-1.0);
  EXPECT_NEAR(p.at(0, 1, 1), 1 / z, 1e-15);
}

TEST(Kernel, BoxIsUniform) {
  const Propagator s = normalize_kernel(make_preset("box", 2, {3, 3}, 0), Normalization::softmax);
  const Propagator m = normalize_kernel(make_preset("box", 2, {3, 3}, 0), Normalization::sum);
  for (double w : s.weights) EXPECT_NEAR(w, 1.0 / 9, 1e-16);
  for (double w : m.weights) EXPECT_NEAR(w, 1.0 / 9, 1e-16);
  const Propagator b3 = normalize_kernel(make_preset("box", 3, {3, 5, 7}, 0), Normalization::softmax);
  EXPECT_EQ(b3.weights.size(), 105u);
  for (double w : b3.weights) EXPECT_NEAR(w, 1.0 / 105, 1e-16);
}

TEST(Kernel, IdentityKeepsEverythingWhateverTheSizeOrNormalisation) {
  for (auto norm : {Normalization::softmax, Normalization::sum, Normalization::none})
    for (int size : {1, 3, 7}) {
      const Propagator p = normalize_kernel(make_preset("identity", 2, {size, size}, 0), norm);
      for (int a = 0; a < size; ++a)
        for (int b = 0; b < size; ++b) EXPECT_EQ(p.at(0, a, b), (a == size / 2 && b == size / 2) ? 1.0 : 0.0);
    }
}

TEST(Kernel, SoftmaxExtremes) {
  // A dominant centre gives the identity; equal huge entries give a uniform propagator (the max
  // shift keeps exp() finite).
  std::vector<double> centre(9, 0.0);
  centre[4] = 1000.0;
  const Propagator id = normalize_kernel(make_explicit({3, 3}, centre), Normalization::softmax);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(id.weights[i], i == 4 ? 1.0 : 0.0);
  for (double v : {1e4, -1e4}) {
    const Propagator u = normalize_kernel(make_explicit({3, 3}, std::vector<double>(9, v)), Normalization::softmax);
    for (double w : u.weights) EXPECT_NEAR(w, 1.0 / 9, 1e-16);
  }
}

TEST(Kernel, NonFiniteEntriesAndBadTemperaturesAreRejected) {
  for (double bad : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    std::vector<double> k(9, 1.0);
    k[3] = bad;
    EXPECT_THROW(normalize_kernel(make_explicit({3, 3}, k), Normalization::softmax), std::invalid_argument);
    EXPECT_THROW(normalize_kernel(make_explicit({3, 3}, k), Normalization::none), std::invalid_argument);
  }
  const RawKernel box = make_preset("box", 2, {3, 3}, 0);
  EXPECT_THROW(normalize_kernel(box, Normalization::softmax, 0.0), std::invalid_argument);
  EXPECT_THROW(normalize_kernel(box, Normalization::softmax, -1.0), std::invalid_argument);
}

TEST(Kernel, SoftmaxIsNotScaleInvariant) {
  const RawKernel k = make_explicit({3}, {1, 2, 16});
  RawKernel k16 = k;
  for (double& v : k16.values) v /= 16;
  const Propagator a = normalize_kernel(k, Normalization::softmax);
  const Propagator b = normalize_kernel(k16, Normalization::softmax);
  EXPECT_GT(a.weights[2], 0.99);
  EXPECT_LT(b.weights[2], 0.6);
  // Temperature T divides the logits: T = 16 on K equals K/16.
  const Propagator c = normalize_kernel(k, Normalization::softmax, 16.0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(b.weights[i], c.weights[i], 1e-15);
}

TEST(Kernel, SumNeedsNonNegativeEntries) {
  EXPECT_THROW(normalize_kernel(make_preset("laplacian", 2, {3, 3}, 0), Normalization::sum), std::invalid_argument);
  EXPECT_THROW(normalize_kernel(make_explicit({3}, {0, 0, 0}), Normalization::sum), std::invalid_argument);
  const Propagator p = normalize_kernel(make_explicit({3}, {1, 2, 5}), Normalization::sum);
  EXPECT_DOUBLE_EQ(p.weights[2], 5.0 / 8);
}

TEST(Kernel, ClassicFiltersHaveTheirTextbookValues) {
  const auto sx = make_preset("sobel_x", 2, {3, 3}, 0).values;
  EXPECT_EQ(sx, (std::vector<double>{-1, 0, 1, -2, 0, 2, -1, 0, 1}));
  const auto lap = make_preset("laplacian", 2, {3, 3}, 0).values;
  EXPECT_EQ(lap, (std::vector<double>{0, 1, 0, 1, -4, 1, 0, 1, 0}));
  const auto lap1 = make_preset("laplacian", 1, {3}, 0).values;
  EXPECT_EQ(lap1, (std::vector<double>{1, -2, 1}));
  const auto edge = make_preset("edge", 2, {3, 3}, 0).values;
  EXPECT_EQ(edge, (std::vector<double>{-1, -1, -1, -1, 8, -1, -1, -1, -1}));
  // The essay's propagator: softmax of the raw filter, still a probability distribution.
  const Propagator p = normalize_kernel(make_preset("sobel_y", 2, {3, 3}, 0), Normalization::softmax);
  EXPECT_TRUE(p.is_probability());
  EXPECT_GT(p.at(0, 2, 1), p.at(0, 0, 1));  // +2 below the centre pulls content down (push +y)
}

TEST(Kernel, BadSizesAndNamesAreRejected) {
  EXPECT_THROW(make_preset("box", 2, {4, 3}, 0), std::invalid_argument);
  EXPECT_THROW(make_preset("box", 2, {3}, 0), std::invalid_argument);
  EXPECT_THROW(make_preset("sobel_x", 2, {5, 5}, 0), std::invalid_argument);
  EXPECT_THROW(make_preset("sobel_x", 3, {3, 3, 3}, 0), std::invalid_argument);
  EXPECT_THROW(make_preset("gaussian", 2, {3, 3}, 0.0), std::invalid_argument);
  EXPECT_THROW(make_preset("gausian", 2, {3, 3}, 1.0), std::invalid_argument);
}

TEST(Kernel, TinySigmaGivesTheIdentity) {
  const Propagator p = normalize_kernel(make_preset("gaussian", 2, {5, 5}, 0.01), Normalization::softmax);
  EXPECT_EQ(p.at(0, 2, 2), 1.0);
  EXPECT_EQ(p.at(0, 2, 3), 0.0);
}
