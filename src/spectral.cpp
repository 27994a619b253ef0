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
  // (much cheaper than a float64 transform of a whole grid-sized array): per x frequency the sums
  // over the kernel's x offsets, then per y row over its y offsets, then per z slab over z.
  const auto r = p.radius();
  const std::int64_t nz = grid.nz(), ny = grid.ny(), nh = static_cast<std::int64_t>(half_);
  const int kz = p.extent[0], ky = p.extent[1], kx = p.extent[2];
  auto exponentials = [](int taps, int radius, std::int64_t n, std::int64_t count) {
    std::vector<std::complex<double>> e(static_cast<std::size_t>(taps * count));
    for (int t = 0; t < taps; ++t)
      for (std::int64_t k = 0; k < count; ++k) {
        const std::int64_t phase = (((k * (t - radius)) % n) + n) % n;  // reduced exactly, in integers
        e[static_cast<std::size_t>(t * count + k)] = std::polar(1.0, -2.0 * M_PI * double(phase) / double(n));
      }
    return e;
  };
  const auto ex = exponentials(kx, r[2], grid.nx(), nh), ey = exponentials(ky, r[1], ny, ny),
             ez = exponentials(kz, r[0], nz, nz);
  // Real and imaginary parts in separate arrays, so that the sums vectorise.
  const std::size_t planes = static_cast<std::size_t>(kz * ky);
  std::vector<double> gxr(planes * half_, 0.0), gxi(planes * half_, 0.0);
  for (std::size_t ca = 0; ca < planes; ++ca)
    for (std::size_t b = 0; b < static_cast<std::size_t>(kx); ++b) {
      const double w = p.weights[ca * static_cast<std::size_t>(kx) + b];
      for (std::size_t k = 0; k < half_; ++k) {
        gxr[ca * half_ + k] += w * ex[b * half_ + k].real();
        gxi[ca * half_ + k] += w * ex[b * half_ + k].imag();
      }
    }
  // A point-symmetric propagator has a real transfer function; what the sums leave in the
  // imaginary part is rounding, and dropping it lets H^n be taken in real arithmetic.
  bool real = true;
  for (std::size_t i = 0; i < p.weights.size() && real; ++i) real = p.weights[i] == p.weights[p.weights.size() - 1 - i];
  transfer_re_ = HostBuffer<double>(rows_ * half_);
  if (!real) transfer_im_ = HostBuffer<double>(rows_ * half_);
  std::vector<double> peak(blocks_, 0.0);  // the largest |H|^2 in each block
  auto note_peaks = [&](const double* hr, const double* hi) {
    for (std::size_t b = 0; b < blocks_; ++b) {
      double m = peak[b];
      for (std::size_t k = b * width; k < std::min(half_, (b + 1) * width); ++k)
        m = std::max(m, hr[k] * hr[k] + (hi ? hi[k] * hi[k] : 0.0));
      peak[b] = m;
    }
  };
  // yr (and yi, unless null) += the sums over the kernel's y offsets for grid row j and z tap c.
  auto add_y_sums = [&](std::int64_t j, int c, double* yr, double* yi) {
    for (int a = 0; a < ky; ++a) {
      const double er = ey[a * ny + j].real(), ei = ey[a * ny + j].imag();
      const double *xr = &gxr[(c * ky + a) * half_], *xi = &gxi[(c * ky + a) * half_];
      for (std::size_t k = 0; k < half_; ++k) yr[k] += er * xr[k] - ei * xi[k];
      if (yi)
        for (std::size_t k = 0; k < half_; ++k) yi[k] += er * xi[k] + ei * xr[k];
    }
  };
  std::vector<double> gyr(static_cast<std::size_t>(kz) * half_), gyi(gyr.size());
  for (std::int64_t j = 0; j < ny; ++j) {
    if (kz == 1) {
      // One z tap (2D, or a flat 3D kernel): the z factor is exactly 1, so H's row is the y sums,
      // the same in every slab (and a real H needs only their real parts).
      double* hr = &transfer_re_[static_cast<std::size_t>(j) * half_];
      double* hi = real ? nullptr : &transfer_im_[static_cast<std::size_t>(j) * half_];
      add_y_sums(j, 0, hr, hi);  // the buffers start as zeros
      note_peaks(hr, hi);
      for (std::int64_t i = 1; i < nz; ++i) {
        const std::size_t row = static_cast<std::size_t>(i * ny + j) * half_;
        std::memcpy(&transfer_re_[row], hr, half_ * sizeof(double));
        if (hi) std::memcpy(&transfer_im_[row], hi, half_ * sizeof(double));
      }
      continue;
    }
    std::fill(gyr.begin(), gyr.end(), 0.0);
    std::fill(gyi.begin(), gyi.end(), 0.0);
    for (int c = 0; c < kz; ++c) add_y_sums(j, c, &gyr[c * half_], &gyi[c * half_]);
    for (std::int64_t i = 0; i < nz; ++i) {
      const std::size_t row = static_cast<std::size_t>(i * ny + j) * half_;
      double* hr = &transfer_re_[row];
      double* hi = real ? nullptr : &transfer_im_[row];
      for (int c = 0; c < kz; ++c) {
        const double er = ez[c * nz + i].real(), ei = ez[c * nz + i].imag();
        const double *yr = &gyr[c * half_], *yi = &gyi[c * half_];
        for (std::size_t k = 0; k < half_; ++k) hr[k] += er * yr[k] - ei * yi[k];
        if (hi)
          for (std::size_t k = 0; k < half_; ++k) hi[k] += er * yi[k] + ei * yr[k];
      }
      note_peaks(hr, hi);
    }
  }
  block_peak_.resize(blocks_);
  work_zero_.assign(blocks_, 1);  // a HostBuffer starts as zeros
  for (std::size_t b = 0; b < blocks_; ++b) block_peak_[b] = std::sqrt(peak[b]);

  spectrum0_ = HostBuffer<std::complex<T>>(rows_ * half_);
  work_ = HostBuffer<std::complex<T>>(rows_ * half_);
  real_work_ = HostBuffer<T>(static_cast<std::size_t>(grid.cells()));  // no pages unless used (see reset)
  auto& plans = *plans_;
  const int rows = static_cast<int>(rows_), stride = static_cast<int>(half_);
  plans.rows_forward = Fftw<T>::rows_r2c(nx, rows, real_work_.data(), spectrum0_.data());
  plans.rows_inverse = Fftw<T>::rows_c2r(nx, rows, work_.data(), real_work_.data());
  bool planned = plans.rows_forward && plans.rows_inverse;
  if (rank > 1) {
    const int widths[2] = {static_cast<int>(std::min(width, half_)), static_cast<int>(half_ - (blocks_ - 1) * width)};
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
bool SpectralPropagation<T>::block_needed(std::size_t block, std::int64_t steps) const {
  if (steps == 0) return true;
  if (block_peak_[block] == 0) return false;
  // |H|^n >= 2^-(digits+16) / cells, compared in logarithms (|H|^n itself underflows).
  const double log_threshold =
      -double(std::numeric_limits<T>::digits + 16) * std::log(2.0) - std::log(double(grid_.cells()));
  return double(steps) * std::log(block_peak_[block]) >= log_threshold;
}

template <class T>
double SpectralPropagation<T>::kept_fraction(std::int64_t steps) const {
  std::size_t kept = 0;
  for (std::size_t b = 0; b < blocks_; ++b)
    if (block_needed(b, steps)) kept += std::min(block_width<T>, half_ - b * block_width<T>);
  return double(kept) / double(half_);
}

template <class T>
void SpectralPropagation<T>::field_at(std::int64_t step, T* out) {
  const std::int64_t n = step - base_step_;
  if (n < 0) throw std::invalid_argument("SpectralPropagation: a step before the starting point");
  constexpr std::size_t width = block_width<T>;
  const auto& plans = *plans_;
  std::vector<char> needed(blocks_);
  for (std::size_t b = 0; b < blocks_; ++b) needed[b] = block_needed(b, n);
  auto narrow = [&](std::size_t b) { return b + 1 == blocks_ && half_ - b * width != width ? 1 : 0; };
  for (std::size_t b = 0; b < blocks_; ++b)
    if (needed[b] && !block_transformed_[b]) {
      Fftw<T>::execute_in_place(plans.columns_forward[narrow(b)], spectrum0_.data() + b * width);
      block_transformed_[b] = 1;
    }
  // work = spectrum0 x H^n / cells (the inverse transform's scale folded in) where a block is
  // needed, zero elsewhere. H^n in double (|H| <= 1 for a probability propagator, so the power is
  // well conditioned), over the runs of needed blocks in each row.
  const double scale = 1.0 / double(grid_.cells());
  constexpr std::size_t chunk = 256;
  alignas(64) double hr[chunk], hi[chunk], br[chunk], bi[chunk];
  for (std::size_t row = 0; row < rows_; ++row) {
    const std::complex<T>* s = spectrum0_.data() + row * half_;
    std::complex<T>* w = work_.data() + row * half_;
    const double* tr = transfer_re_.data() + row * half_;
    const double* ti = transfer_im_.size() ? transfer_im_.data() + row * half_ : nullptr;
    for (std::size_t b0 = 0; b0 < blocks_;) {
      std::size_t b1 = b0;
      while (b1 < blocks_ && needed[b1] == needed[b0]) ++b1;
      const std::size_t k0 = b0 * width, k1 = std::min(b1 * width, half_);
      if (!needed[b0] && !work_zero_[b0]) std::fill(w + k0, w + k1, std::complex<T>(0));
      for (std::size_t c0 = k0; needed[b0] && c0 < k1; c0 += chunk) {
        const std::size_t m = std::min(chunk, k1 - c0);
        std::copy(tr + c0, tr + c0 + m, br);
        if (!ti) {
          real_power(n, scale, m, hr, br);
          for (std::size_t k = 0; k < m; ++k) w[c0 + k] = s[c0 + k] * T(hr[k]);
        } else {
          std::copy(ti + c0, ti + c0 + m, bi);
          complex_power(n, scale, m, hr, hi, br, bi);
          for (std::size_t k = 0; k < m; ++k) {
            const double sr = s[c0 + k].real(), si = s[c0 + k].imag();
            w[c0 + k] = std::complex<T>(T(sr * hr[k] - si * hi[k]), T(sr * hi[k] + si * hr[k]));
          }
        }
      }
      b0 = b1;
    }
  }
  for (std::size_t b = 0; b < blocks_; ++b) work_zero_[b] = !needed[b];
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
