#include "propagon/spectral.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace propagon {

namespace {
// FFTW's float and double interfaces behind one name. Plans are owned (destroyed) by Plans.
template <class T>
struct Fftw;
template <>
struct Fftw<double> {
  using plan = fftw_plan;
  using complex = fftw_complex;
  static complex* c(std::complex<double>* p) { return reinterpret_cast<complex*>(p); }
  static plan rows_r2c(int n, int rows, double* in, std::complex<double>* out) {
    return fftw_plan_many_dft_r2c(1, &n, rows, in, nullptr, 1, n, c(out), nullptr, 1, n / 2 + 1, FFTW_ESTIMATE);
  }
  static plan rows_c2r(int n, int rows, std::complex<double>* in, double* out) {
    return fftw_plan_many_dft_c2r(1, &n, rows, c(in), nullptr, 1, n / 2 + 1, out, nullptr, 1, n,
                                  FFTW_ESTIMATE | FFTW_PRESERVE_INPUT);
  }
  static plan columns(int rank, const int* n, int howmany, int stride, std::complex<double>* data, int sign) {
    return fftw_plan_many_dft(rank, n, howmany, c(data), nullptr, stride, 1, c(data), nullptr, stride, 1, sign,
                              FFTW_ESTIMATE);
  }
  static void r2c(plan p, const double* in, std::complex<double>* out) {
    // An out-of-place r2c transform leaves its input as it is (FFTW's default), so the cast is safe.
    fftw_execute_dft_r2c(p, const_cast<double*>(in), c(out));
  }
  static void c2r(plan p, std::complex<double>* in, double* out) { fftw_execute_dft_c2r(p, c(in), out); }
  static int alignment_of(const double* p) { return fftw_alignment_of(const_cast<double*>(p)); }
  static void execute_in_place(plan p, std::complex<double>* data) { fftw_execute_dft(p, c(data), c(data)); }
  static void destroy(plan p) { fftw_destroy_plan(p); }
};
template <>
struct Fftw<float> {
  using plan = fftwf_plan;
  using complex = fftwf_complex;
  static complex* c(std::complex<float>* p) { return reinterpret_cast<complex*>(p); }
  static plan rows_r2c(int n, int rows, float* in, std::complex<float>* out) {
    return fftwf_plan_many_dft_r2c(1, &n, rows, in, nullptr, 1, n, c(out), nullptr, 1, n / 2 + 1, FFTW_ESTIMATE);
  }
  static plan rows_c2r(int n, int rows, std::complex<float>* in, float* out) {
    return fftwf_plan_many_dft_c2r(1, &n, rows, c(in), nullptr, 1, n / 2 + 1, out, nullptr, 1, n,
                                  FFTW_ESTIMATE | FFTW_PRESERVE_INPUT);
  }
  static plan columns(int rank, const int* n, int howmany, int stride, std::complex<float>* data, int sign) {
    return fftwf_plan_many_dft(rank, n, howmany, c(data), nullptr, stride, 1, c(data), nullptr, stride, 1, sign,
                               FFTW_ESTIMATE);
  }
  static void r2c(plan p, const float* in, std::complex<float>* out) {
    // An out-of-place r2c transform leaves its input as it is (FFTW's default), so the cast is safe.
    fftwf_execute_dft_r2c(p, const_cast<float*>(in), c(out));
  }
  static void c2r(plan p, std::complex<float>* in, float* out) { fftwf_execute_dft_c2r(p, c(in), out); }
  static int alignment_of(const float* p) { return fftwf_alignment_of(const_cast<float*>(p)); }
  static void execute_in_place(plan p, std::complex<float>* data) { fftwf_execute_dft(p, c(data), c(data)); }
  static void destroy(plan p) { fftwf_destroy_plan(p); }
};

std::vector<int> dims_of(const Grid& g) {
  std::vector<int> d;
  for (auto n : g.shape()) d.push_back(static_cast<int>(n));
  return d;
}

// x frequencies per block: one 64-byte cache line of complex values in each row, so the
// other-axis transforms of a block read whole lines, and every block starts as aligned as the
// array the plans were made for (which FFTW's new-array execution requires).
template <class T>
constexpr std::size_t block_width = 64 / sizeof(std::complex<T>);

// scale x H^n for `m` contiguous frequencies into hr (and hi), from H's parts br (and bi), which
// are overwritten. By squaring, so exact zeros of H stay zero. The exponent's bits are the same
// for every frequency, so the bit loop is outside and the inner loops are element-wise products
// that vectorise (a per-frequency loop does not).
void real_power(std::int64_t n, double scale, std::size_t m, double* hr, double* br) {
  for (std::size_t k = 0; k < m; ++k) hr[k] = scale;
  for (std::int64_t e = n; e > 0; e >>= 1) {
    if (e & 1)
      for (std::size_t k = 0; k < m; ++k) hr[k] *= br[k];
    if (e > 1)
      for (std::size_t k = 0; k < m; ++k) br[k] *= br[k];
  }
}
void complex_power(std::int64_t n, double scale, std::size_t m, double* hr, double* hi, double* br, double* bi) {
  for (std::size_t k = 0; k < m; ++k) hr[k] = scale, hi[k] = 0;
  for (std::int64_t e = n; e > 0; e >>= 1) {
    if (e & 1)
      for (std::size_t k = 0; k < m; ++k) {
        const double r = hr[k] * br[k] - hi[k] * bi[k];
        hi[k] = hr[k] * bi[k] + hi[k] * br[k];
        hr[k] = r;
      }
    if (e > 1)
      for (std::size_t k = 0; k < m; ++k) {
        const double r = br[k] * br[k] - bi[k] * bi[k];
        bi[k] = 2 * br[k] * bi[k];
        br[k] = r;
      }
  }
}
}  // namespace

template <class T>
struct SpectralPropagation<T>::Plans {
  typename Fftw<T>::plan rows_forward{}, rows_inverse{};
  // The other axes, for a full block of x frequencies [0] and for the last, narrower one [1].
  typename Fftw<T>::plan columns_forward[2]{}, columns_inverse[2]{};
  ~Plans() {
    for (auto p : {rows_forward, rows_inverse, columns_forward[0], columns_forward[1], columns_inverse[0],
                   columns_inverse[1]})
      if (p) Fftw<T>::destroy(p);
  }
};

template <class T>
SpectralPropagation<T>::SpectralPropagation(const Grid& grid, const Propagator& p, const std::vector<T>& initial,
                                            std::int64_t base_step)
    : grid_(grid), plans_(std::make_unique<Plans>()) {
  const auto dims = dims_of(grid);
  const int rank = static_cast<int>(dims.size()), nx = dims.back();
  rows_ = static_cast<std::size_t>(grid.cells() / grid.nx());
  half_ = static_cast<std::size_t>(nx / 2 + 1);
  constexpr std::size_t width = block_width<T>;
  blocks_ = (half_ + width - 1) / width;

  // H(k) = sum over offsets o of P(o) exp(-2 pi i k.o / n): the DFT of the propagator wrapped onto
  // the grid (any kernel width), evaluated axis by axis from per-axis tables of exponentials
  // (much cheaper than a float64 transform of a whole grid-sized array): here, per x frequency,
  // the sums over the kernel's x offsets for each of its (z, y) planes; the y and z sums are made
  // per block, the first time a step needs it (transfer_block).
  const auto r = p.radius();
  const std::int64_t nz = grid.nz(), ny = grid.ny(), nh = static_cast<std::int64_t>(half_);
  taps_z_ = p.extent[0], taps_y_ = p.extent[1];
  const int kx = p.extent[2];
  auto exponentials = [](int taps, int radius, std::int64_t n, std::int64_t count) {
    std::vector<std::complex<double>> e(static_cast<std::size_t>(taps * count));
    for (int t = 0; t < taps; ++t)
      for (std::int64_t k = 0; k < count; ++k) {
        const std::int64_t phase = (((k * (t - radius)) % n) + n) % n;  // reduced exactly, in integers
        e[static_cast<std::size_t>(t * count + k)] = std::polar(1.0, -2.0 * M_PI * double(phase) / double(n));
      }
    return e;
  };
  const auto ex = exponentials(kx, r[2], grid.nx(), nh);
  y_phase_ = exponentials(taps_y_, r[1], ny, ny);
  z_phase_ = exponentials(taps_z_, r[0], nz, nz);
  // Real and imaginary parts in separate arrays, so that the sums vectorise.
  const std::size_t planes = static_cast<std::size_t>(taps_z_ * taps_y_);
  x_sums_re_.assign(planes * half_, 0.0);
  x_sums_im_.assign(planes * half_, 0.0);
  for (std::size_t ca = 0; ca < planes; ++ca)
    for (std::size_t b = 0; b < static_cast<std::size_t>(kx); ++b) {
      const double w = p.weights[ca * static_cast<std::size_t>(kx) + b];
      for (std::size_t k = 0; k < half_; ++k) {
        x_sums_re_[ca * half_ + k] += w * ex[b * half_ + k].real();
        x_sums_im_[ca * half_ + k] += w * ex[b * half_ + k].imag();
      }
    }
  // |H(k)| <= sum over planes of |x sums(k)| (the y and z exponentials have modulus 1): the bound
  // that decides which blocks a step needs, without H itself. It is exact for a separable
  // propagator (the planes' sums are then one function of k times the plane's weight, and the
  // y and z factors are 1 at frequency 0).
  block_bound_.assign(blocks_, 0.0);
  for (std::size_t k = 0; k < half_; ++k) {
    double bound = 0;
    for (std::size_t ca = 0; ca < planes; ++ca) bound += std::hypot(x_sums_re_[ca * half_ + k], x_sums_im_[ca * half_ + k]);
    block_bound_[k / width] = std::max(block_bound_[k / width], bound);
  }
  // A point-symmetric propagator has a real transfer function; what the sums leave in the
  // imaginary part is rounding, and dropping it lets H^n be taken in real arithmetic.
  bool real = true;
  for (std::size_t i = 0; i < p.weights.size() && real; ++i) real = p.weights[i] == p.weights[p.weights.size() - 1 - i];
  // Block by block ([block][row][frequency in the block]), so that the pages of blocks no step
  // needs are never touched.
  transfer_re_ = HostBuffer<double>(blocks_ * rows_ * width);
  if (!real) transfer_im_ = HostBuffer<double>(blocks_ * rows_ * width);
  block_has_transfer_.assign(blocks_, 0);
  work_zero_.assign(blocks_, 1);  // a HostBuffer starts as zeros

  spectrum0_ = HostBuffer<std::complex<T>>(rows_ * half_);
  work_ = HostBuffer<std::complex<T>>(rows_ * half_);
  real_work_ = HostBuffer<T>(static_cast<std::size_t>(grid.cells()));  // no pages unless used (see reset)
  auto& plans = *plans_;
  const int rows = static_cast<int>(rows_), stride = static_cast<int>(half_);
  plans.rows_forward = Fftw<T>::rows_r2c(nx, rows, real_work_.data(), spectrum0_.data());
  plans.rows_inverse = Fftw<T>::rows_c2r(nx, rows, work_.data(), real_work_.data());
  bool planned = plans.rows_forward && plans.rows_inverse;
  if (rank > 1) {
    const int widths[2] = {static_cast<int>(block_size(0)), static_cast<int>(block_size(blocks_ - 1))};
    for (int w = 0; w < 2; ++w) {
      plans.columns_forward[w] =
          Fftw<T>::columns(rank - 1, dims.data(), widths[w], stride, spectrum0_.data(), FFTW_FORWARD);
      plans.columns_inverse[w] =
          Fftw<T>::columns(rank - 1, dims.data(), widths[w], stride, work_.data(), FFTW_BACKWARD);
      planned = planned && plans.columns_forward[w] && plans.columns_inverse[w];
    }
  }
  if (!planned) throw std::runtime_error("FFTW could not make a plan");
  reset(initial, base_step);
}

template <class T>
SpectralPropagation<T>::~SpectralPropagation() = default;

template <class T>
void SpectralPropagation<T>::reset(const std::vector<T>& state, std::int64_t step) {
  // Along x only, into spectrum0_. FFTW runs a plan on other arrays than it was made for when they
  // are as aligned as those: then straight from `state`, else through real_work_.
  const T* in = state.data();
  if (Fftw<T>::alignment_of(in) != Fftw<T>::alignment_of(real_work_.data())) {
    std::memcpy(real_work_.data(), in, state.size() * sizeof(T));
    in = real_work_.data();
  }
  Fftw<T>::r2c(plans_->rows_forward, in, spectrum0_.data());
  // A 1D grid has no other axes: its row transform is already the whole DFT.
  block_transformed_.assign(blocks_, grid_.rank == 1);
  base_step_ = step;
}

template <class T>
std::size_t SpectralPropagation<T>::block_size(std::size_t block) const {
  return std::min(block_width<T>, half_ - block * block_width<T>);
}

template <class T>
bool SpectralPropagation<T>::block_needed(std::size_t block, std::int64_t steps) const {
  if (steps == 0) return true;
  if (block_bound_[block] == 0) return false;
  // |H|^n >= 2^-(digits+16) / cells, compared in logarithms (|H|^n itself underflows).
  const double log_threshold =
      -double(std::numeric_limits<T>::digits + 16) * std::log(2.0) - std::log(double(grid_.cells()));
  return double(steps) * std::log(block_bound_[block]) >= log_threshold;
}

template <class T>
double SpectralPropagation<T>::kept_fraction(std::int64_t steps) const {
  std::size_t kept = 0;
  for (std::size_t b = 0; b < blocks_; ++b)
    if (block_needed(b, steps)) kept += block_size(b);
  return double(kept) / double(half_);
}

template <class T>
void SpectralPropagation<T>::transfer_block(std::size_t block) {
  constexpr std::size_t width = block_width<T>;
  const std::size_t k0 = block * width, m = block_size(block);
  const std::int64_t nz = grid_.nz(), ny = grid_.ny();
  double* hr = transfer_re_.data() + block * rows_ * width;
  double* hi = transfer_im_.size() ? transfer_im_.data() + block * rows_ * width : nullptr;
  std::vector<double> yr(static_cast<std::size_t>(taps_z_) * width), yi(yr.size());
  for (std::int64_t j = 0; j < ny; ++j) {
    // Per z tap c: the sums over the kernel's y offsets for grid row j.
    std::fill(yr.begin(), yr.end(), 0.0);
    std::fill(yi.begin(), yi.end(), 0.0);
    for (int c = 0; c < taps_z_; ++c)
      for (int a = 0; a < taps_y_; ++a) {
        const auto e = y_phase_[static_cast<std::size_t>(a * ny + j)];
        const double* xr = &x_sums_re_[static_cast<std::size_t>(c * taps_y_ + a) * half_ + k0];
        const double* xi = &x_sums_im_[static_cast<std::size_t>(c * taps_y_ + a) * half_ + k0];
        for (std::size_t k = 0; k < m; ++k) {
          yr[c * width + k] += e.real() * xr[k] - e.imag() * xi[k];
          yi[c * width + k] += e.real() * xi[k] + e.imag() * xr[k];
        }
      }
    // Then over its z offsets for every slab (the buffers start as zeros).
    for (std::int64_t i = 0; i < nz; ++i) {
      const std::size_t row = static_cast<std::size_t>(i * ny + j) * width;
      for (int c = 0; c < taps_z_; ++c) {
        const auto e = z_phase_[static_cast<std::size_t>(c * nz + i)];
        for (std::size_t k = 0; k < m; ++k) hr[row + k] += e.real() * yr[c * width + k] - e.imag() * yi[c * width + k];
        if (hi)
          for (std::size_t k = 0; k < m; ++k) hi[row + k] += e.real() * yi[c * width + k] + e.imag() * yr[c * width + k];
      }
    }
  }
  block_has_transfer_[block] = 1;
}

template <class T>
void SpectralPropagation<T>::field_at(std::int64_t step, T* out) {
  const std::int64_t n = step - base_step_;
  if (n < 0) throw std::invalid_argument("SpectralPropagation: a step before the starting point");
  constexpr std::size_t width = block_width<T>;
  const auto& plans = *plans_;
  std::vector<char> needed(blocks_);
  for (std::size_t b = 0; b < blocks_; ++b) needed[b] = block_needed(b, n);
  auto narrow = [&](std::size_t b) { return block_size(b) == width ? 0 : 1; };  // which plan fits
  for (std::size_t b = 0; b < blocks_; ++b) {
    if (!needed[b]) continue;
    if (!block_has_transfer_[b]) transfer_block(b);
    if (!block_transformed_[b]) {
      Fftw<T>::execute_in_place(plans.columns_forward[narrow(b)], spectrum0_.data() + b * width);
      block_transformed_[b] = 1;
    }
  }
  // work = spectrum0 x H^n / cells (the inverse transform's scale folded in) in the needed blocks,
  // zero elsewhere. H^n in double (|H| <= 1 for a probability propagator, so the power is well
  // conditioned), over chunks of a run of needed blocks, which lie one after the other in the
  // block-by-block layout of H.
  const double scale = 1.0 / double(grid_.cells());
  constexpr std::size_t chunk = 256;  // a multiple of the block width
  alignas(64) double hr[chunk], hi[chunk], br[chunk], bi[chunk];
  const bool real = transfer_im_.size() == 0;
  for (std::size_t b = 0; b < blocks_; ++b) {
    if (!needed[b] && !work_zero_[b])
      for (std::size_t row = 0; row < rows_; ++row)
        std::fill_n(work_.data() + row * half_ + b * width, block_size(b), std::complex<T>(0));
    work_zero_[b] = !needed[b];
  }
  for (std::size_t b0 = 0; b0 < blocks_;) {
    if (!needed[b0]) {
      ++b0;
      continue;
    }
    std::size_t b1 = b0;
    while (b1 < blocks_ && needed[b1]) ++b1;
    const std::size_t end = b1 * rows_ * width;
    for (std::size_t l0 = b0 * rows_ * width; l0 < end; l0 += chunk) {
      const std::size_t count = std::min(chunk, end - l0);
      std::copy_n(transfer_re_.data() + l0, count, br);
      if (real) {
        real_power(n, scale, count, hr, br);
      } else {
        std::copy_n(transfer_im_.data() + l0, count, bi);
        complex_power(n, scale, count, hr, hi, br, bi);
      }
      // Each run of `width` values is one row of one block.
      for (std::size_t g = 0; g < count; g += width) {
        const std::size_t b = (l0 + g) / (rows_ * width), row = (l0 + g) / width % rows_;
        const std::size_t k0 = b * width, m = block_size(b);
        const std::complex<T>* s = spectrum0_.data() + row * half_ + k0;
        std::complex<T>* w = work_.data() + row * half_ + k0;
        if (real)
          for (std::size_t k = 0; k < m; ++k) w[k] = s[k] * T(hr[g + k]);
        else
          for (std::size_t k = 0; k < m; ++k) {
            const double sr = s[k].real(), si = s[k].imag();
            w[k] = std::complex<T>(T(sr * hr[g + k] - si * hi[g + k]), T(sr * hi[g + k] + si * hr[g + k]));
          }
      }
    }
    b0 = b1;
  }
  if (grid_.rank > 1)
    for (std::size_t b = 0; b < blocks_; ++b)
      if (needed[b]) Fftw<T>::execute_in_place(plans.columns_inverse[narrow(b)], work_.data() + b * width);
  // Straight into `out` when it is aligned as real_work_ is (see reset). The plan keeps its input,
  // so the blocks that are not needed stay zero for the next jump.
  if (Fftw<T>::alignment_of(out) == Fftw<T>::alignment_of(real_work_.data())) {
    Fftw<T>::c2r(plans.rows_inverse, work_.data(), out);
  } else {
    Fftw<T>::c2r(plans.rows_inverse, work_.data(), real_work_.data());
    std::memcpy(out, real_work_.data(), real_work_.size() * sizeof(T));
  }
}

template class SpectralPropagation<float>;
template class SpectralPropagation<double>;

}  // namespace propagon
