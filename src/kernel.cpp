#include "propagon/kernel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace propagon {

const char* normalization_name(Normalization n) {
  switch (n) {
    case Normalization::softmax: return "softmax";
    case Normalization::sum: return "sum";
    case Normalization::none: return "none";
  }
  return "?";
}

double Propagator::total() const {
  double s = 0.0;
  for (double w : weights) s += w;
  return s;
}

namespace {
// Calls f(weight, {dz, dy, dx}) for every entry, with the displacement of its offset in cells.
template <class F>
void for_each_offset(const Propagator& p, F&& f) {
  const auto r = p.radius();
  for (int c = 0; c < p.extent[0]; ++c)
    for (int a = 0; a < p.extent[1]; ++a)
      for (int b = 0; b < p.extent[2]; ++b) f(p.at(c, a, b), std::array<double, 3>{double(c - r[0]), double(a - r[1]), double(b - r[2])});
}
}  // namespace

std::array<double, 3> Propagator::mean_displacement() const {
  std::array<double, 3> mean{0, 0, 0};
  for_each_offset(*this, [&](double w, const std::array<double, 3>& d) {
    for (int i = 0; i < 3; ++i) mean[i] += w * d[i];
  });
  const double t = total();
  for (double& m : mean) m /= t;
  return mean;
}

std::array<double, 3> Propagator::displacement_variance() const {
  const auto mean = mean_displacement();
  std::array<double, 3> var{0, 0, 0};
  for_each_offset(*this, [&](double w, const std::array<double, 3>& d) {
    for (int i = 0; i < 3; ++i) var[i] += w * (d[i] - mean[i]) * (d[i] - mean[i]);
  });
  const double t = total();
  for (double& v : var) v /= t;
  return var;
}

bool Propagator::is_probability() const {
  for (double w : weights)
    if (!(w >= 0.0)) return false;
  return std::abs(total() - 1.0) < 1e-12;
}

const std::vector<PresetInfo>& presets() {
  static const std::vector<PresetInfo> list = {
      {"identity", "keeps everything in place (a delta at the centre)", "any odd size, 1D/2D/3D"},
      {"box", "constant kernel: its softmax or sum is uniform (1/9 each for 3x3)", "any odd size, 1D/2D/3D"},
      {"gaussian", "logits -r^2/(2 sigma^2): softmax gives the normalised discrete Gaussian", "any odd size, 1D/2D/3D; needs sigma > 0"},
      {"laplacian", "discrete Laplacian: [1,-2,1] in 1D, 5-point in 2D, 7-point in 3D", "size 3, 1D/2D/3D"},
      {"sobel_x", "Sobel derivative along x: [[-1,0,1],[-2,0,2],[-1,0,1]]", "size 3, 2D"},
      {"sobel_y", "Sobel derivative along y: [[-1,-2,-1],[0,0,0],[1,2,1]]", "size 3, 2D"},
      {"sharpen", "sharpening: [[0,-1,0],[-1,5,-1],[0,-1,0]]", "size 3, 2D"},
      {"edge", "the essay's edge detector: [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]", "size 3, 2D"},
  };
  return list;
}

namespace {

RawKernel blank(int rank, const std::vector<int>& size) {
  if (rank < 1 || rank > 3) throw std::invalid_argument(fmt::format("kernel rank must be 1, 2 or 3, got {}", rank));
  if (static_cast<int>(size.size()) != rank)
    throw std::invalid_argument(fmt::format("kernel size needs {} entries (one per axis), got {}", rank, size.size()));
  RawKernel k;
  k.rank = rank;
  for (int i = 0; i < rank; ++i) {
    if (size[i] < 1 || size[i] % 2 == 0)
      throw std::invalid_argument(fmt::format("kernel size must be odd and positive on every axis, got {}", size[i]));
    k.extent[3 - rank + i] = size[i];
  }
  k.values.assign(static_cast<std::size_t>(k.extent[0]) * k.extent[1] * k.extent[2], 0.0);
  return k;
}

template <class F>
void fill(RawKernel& k, F&& f) {
  const int rz = k.extent[0] / 2, ry = k.extent[1] / 2, rx = k.extent[2] / 2;
  std::size_t i = 0;
  for (int c = 0; c < k.extent[0]; ++c)
    for (int a = 0; a < k.extent[1]; ++a)
      for (int b = 0; b < k.extent[2]; ++b) k.values[i++] = f(c - rz, a - ry, b - rx) + 0.0;  // no -0 in tables
}

RawKernel fixed_3x3(const std::string& name, int rank, const std::vector<int>& size, const std::array<double, 9>& v) {
  if (rank != 2) throw std::invalid_argument(fmt::format("preset '{}' exists only in 2D (asked for {}D)", name, rank));
  if (size != std::vector<int>{3, 3}) throw std::invalid_argument(fmt::format("preset '{}' exists only as 3x3", name));
  RawKernel k = blank(2, size);
  std::copy(v.begin(), v.end(), k.values.begin());
  return k;
}

}  // namespace

RawKernel make_preset(const std::string& name, int rank, const std::vector<int>& size, double sigma) {
  RawKernel k;
  if (name == "identity") {
    k = blank(rank, size);
    fill(k, [](int c, int a, int b) { return (c == 0 && a == 0 && b == 0) ? 1.0 : 0.0; });
    // softmax of a one-hot kernel is not the identity: give the centre a logit that dominates.
    // normalize_kernel treats the identity preset specially so all three methods keep it exact.
  } else if (name == "box") {
    k = blank(rank, size);
    fill(k, [](int, int, int) { return 1.0; });
  } else if (name == "gaussian") {
    if (!(sigma > 0.0) || !std::isfinite(sigma))
      throw std::invalid_argument(fmt::format("gaussian needs sigma > 0, got {}", sigma));
    k = blank(rank, size);
    fill(k, [sigma](int c, int a, int b) { return -double(c * c + a * a + b * b) / (2.0 * sigma * sigma); });
    k.sigma = sigma;
  } else if (name == "laplacian") {
    for (int s : size)
      if (s != 3) throw std::invalid_argument("preset 'laplacian' exists only with size 3 per axis");
    k = blank(rank, size);
    fill(k, [rank](int c, int a, int b) {
      const int d = std::abs(c) + std::abs(a) + std::abs(b);
      return d == 0 ? -2.0 * rank : (d == 1 ? 1.0 : 0.0);
    });
  } else if (name == "sobel_x") {
    k = fixed_3x3(name, rank, size, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  } else if (name == "sobel_y") {
    k = fixed_3x3(name, rank, size, {-1, -2, -1, 0, 0, 0, 1, 2, 1});
  } else if (name == "sharpen") {
    k = fixed_3x3(name, rank, size, {0, -1, 0, -1, 5, -1, 0, -1, 0});
  } else if (name == "edge") {
    k = fixed_3x3(name, rank, size, {-1, -1, -1, -1, 8, -1, -1, -1, -1});
  } else {
    std::string names;
    for (const auto& p : presets()) names += (names.empty() ? "" : ", ") + std::string(p.name);
    throw std::invalid_argument(fmt::format("unknown kernel preset '{}' (choose one of: {})", name, names));
  }
  k.preset = name;
  return k;
}

RawKernel make_explicit(const std::vector<int>& shape, std::vector<double> values) {
  RawKernel k = blank(static_cast<int>(shape.size()), shape);
  if (values.size() != k.values.size())
    throw std::invalid_argument(fmt::format("kernel values: expected {} entries, got {}", k.values.size(), values.size()));
  k.values = std::move(values);
  k.preset = "custom";
  return k;
}

Propagator normalize_kernel(const RawKernel& kernel, Normalization method, double temperature) {
  for (std::size_t i = 0; i < kernel.values.size(); ++i)
    if (!std::isfinite(kernel.values[i]))
      throw std::invalid_argument(fmt::format("kernel entry {} is {}: every entry must be a finite number", i, kernel.values[i]));
  Propagator p;
  p.rank = kernel.rank;
  p.extent = kernel.extent;
  p.preset = kernel.preset;
  p.normalize = method;
  p.temperature = temperature;
  p.sigma = kernel.sigma;
  p.weights.assign(kernel.values.size(), 0.0);
  const auto& k = kernel.values;

  if (kernel.preset == "identity") {
    // The identity keeps everything in place whatever the normalisation or size.
    if (method == Normalization::softmax && !(temperature > 0.0 && std::isfinite(temperature)))
      throw std::invalid_argument(fmt::format("temperature must be a finite number > 0, got {}", temperature));
    p.weights = k;
    return p;
  }
  switch (method) {
    case Normalization::softmax: {
      if (!(temperature > 0.0) || !std::isfinite(temperature))
        throw std::invalid_argument(fmt::format("temperature must be a finite number > 0, got {}", temperature));
      const double kmax = *std::max_element(k.begin(), k.end());
      double sum = 0.0;
      for (std::size_t i = 0; i < k.size(); ++i) sum += (p.weights[i] = std::exp((k[i] - kmax) / temperature));
      for (double& w : p.weights) w /= sum;
      break;
    }
    case Normalization::sum: {
      double sum = 0.0;
      for (double v : k) {
        if (v < 0.0)
          throw std::invalid_argument(
              fmt::format("normalize: sum needs non-negative kernel entries (found {}); use softmax for logits such as "
                          "the gaussian preset, or none for a raw filter",
                          v));
        sum += v;
      }
      if (!(sum > 0.0)) throw std::invalid_argument("normalize: sum needs a kernel with a positive sum");
      for (std::size_t i = 0; i < k.size(); ++i) p.weights[i] = k[i] / sum;
      break;
    }
    case Normalization::none:
      p.weights = k;
      break;
  }
  return p;
}

Propagator embed_in_rank(const Propagator& p, int rank) {
  if (rank < p.rank) throw std::invalid_argument(fmt::format("a {}D kernel cannot act on a {}D grid", p.rank, rank));
  Propagator q = p;
  q.rank = rank;
  return q;
}

}  // namespace propagon

namespace propagon {
std::string format_kernel_table(const std::vector<double>& values, const std::array<int, 3>& extent, int rank,
                                int significant_digits) {
  std::vector<std::string> cells;
  std::size_t width = 0;
  for (double v : values) {
    cells.push_back(fmt::format("{:.{}g}", v, significant_digits));
    width = std::max(width, cells.back().size());
  }
  std::string s;
  std::size_t i = 0;
  for (int c = 0; c < extent[0]; ++c) {
    if (rank == 3) s += fmt::format("  z offset {:+d}:\n", c - extent[0] / 2);
    for (int a = 0; a < extent[1]; ++a) {
      s += "    ";
      for (int b = 0; b < extent[2]; ++b) s += fmt::format("{:>{}} ", cells[i++], width);
      s += "\n";
    }
  }
  return s;
}
std::optional<SeparableFactors> separable_factors(const Propagator& p) {
  if (p.extent[0] != 1 || !p.is_probability()) return std::nullopt;
  const int ky = p.extent[1], kx = p.extent[2];
  SeparableFactors f;
  f.py.assign(static_cast<std::size_t>(ky), 0.0);
  f.px.assign(static_cast<std::size_t>(kx), 0.0);
  double largest = 0.0;
  for (int a = 0; a < ky; ++a)
    for (int b = 0; b < kx; ++b) {
      f.py[a] += p.at(0, a, b);  // the marginals of a product distribution are its factors
      f.px[b] += p.at(0, a, b);
      largest = std::max(largest, p.at(0, a, b));
    }
  for (int a = 0; a < ky; ++a)
    for (int b = 0; b < kx; ++b)
      if (std::abs(p.at(0, a, b) - f.py[a] * f.px[b]) > 1e-12 * largest) return std::nullopt;
  return f;
}

}  // namespace propagon
