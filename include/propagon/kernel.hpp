#pragma once
/// @file kernel.hpp
/// User kernels (presets or explicit values) and their normalisation into a propagator.
///
/// Orientation (push/scatter) is fixed here and nowhere else: entry P[c][a][b] with centre
/// r = size/2 per axis is the probability that content at (z, y, x) moves to
/// (z + c - rz, y + a - ry, x + b - rx). The expected next field is therefore the true
/// convolution u'(p) = sum_o P(o) u(p - o), as scipy.ndimage.convolve computes it.
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace propagon {

enum class Normalization { softmax, sum, none };
const char* normalization_name(Normalization n);

/// A raw kernel: logits for softmax, weights for sum/none. Stored 3D (leading axes of size 1 for
/// lower ranks), C order.
struct RawKernel {
  int rank = 2;
  std::array<int, 3> extent{1, 1, 1};  ///< kz, ky, kx: odd
  std::vector<double> values;
  std::string preset = "custom";       ///< preset name, or "custom" for explicit values
  double sigma = 0.0;                  ///< gaussian only
  /// The user-facing shape, `rank` entries.
  std::vector<int> shape() const { return std::vector<int>(extent.begin() + (3 - rank), extent.end()); }
  std::size_t size() const { return values.size(); }
};

/// A normalised kernel, the thing every mode applies. Weights are float64.
struct Propagator {
  int rank = 2;
  std::array<int, 3> extent{1, 1, 1};
  std::vector<double> weights;
  std::string preset = "custom";
  Normalization normalize = Normalization::softmax;
  double temperature = 1.0;
  double sigma = 0.0;

  std::array<int, 3> radius() const { return {extent[0] / 2, extent[1] / 2, extent[2] / 2}; }
  double at(int c, int a, int b) const { return weights[(static_cast<std::size_t>(c) * extent[1] + a) * extent[2] + b]; }
  double total() const;
  /// Mean displacement per step along z, y, x (cells), under push orientation.
  std::array<double, 3> mean_displacement() const;
  /// Variance of the displacement per step along z, y, x (cells^2).
  std::array<double, 3> displacement_variance() const;
  /// True if every weight is >= 0 and they sum to 1 (within rounding): a probability distribution.
  bool is_probability() const;
};

/// Description of one preset for `propagon kernels`.
struct PresetInfo {
  const char* name;
  const char* summary;
  const char* sizes;  ///< which sizes and ranks it accepts
};
const std::vector<PresetInfo>& presets();

/// Builds a preset's raw kernel. `size` has `rank` entries (odd). Throws std::invalid_argument
/// with a user-facing message for unknown names, even sizes or unsupported ranks.
RawKernel make_preset(const std::string& name, int rank, const std::vector<int>& size, double sigma);

/// Validates explicit values of the given shape (1 to 3 odd extents). Throws std::invalid_argument.
RawKernel make_explicit(const std::vector<int>& shape, std::vector<double> values);

/// Turns a raw kernel into a propagator: softmax P = exp((K - max K)/T) / sum, computed in
/// float64 with the max shift; sum P = K / sum K (non-negative K with a positive sum); none P = K.
/// Non-finite entries and T <= 0 throw std::invalid_argument.
Propagator normalize_kernel(const RawKernel& kernel, Normalization method, double temperature = 1.0);

/// The 1D factors of a 2D (or 1D) propagator, when it is a probability distribution that is an
/// outer product within 1e-12 of its largest weight. py has one tap for a 1D kernel.
struct SeparableFactors {
  std::vector<double> py, px;
};
std::optional<SeparableFactors> separable_factors(const Propagator& p);

/// Raises a propagator to a grid of higher rank: extra leading axes of size 1.
Propagator embed_in_rank(const Propagator& p, int rank);

}  // namespace propagon

namespace propagon {
/// A kernel's values as an aligned text table (rows of x, one block per z slice), for the CLI.
std::string format_kernel_table(const std::vector<double>& values, const std::array<int, 3>& extent, int rank,
                                int significant_digits = 5);
}  // namespace propagon
