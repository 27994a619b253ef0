#include "propagon/spectral.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace propagon {

namespace {
// FFTW's float and double interfaces behind one name. Plans are owned (destroyed) by Plan.
template <class T>
struct Fftw;
template <>
struct Fftw<double> {
  using plan = fftw_plan;
  using complex = fftw_complex;
  static plan r2c(int rank, const int* n, double* in, std::complex<double>* out) {
    return fftw_plan_dft_r2c(rank, n, in, reinterpret_cast<complex*>(out), FFTW_ESTIMATE);
  }
  static plan c2r(int rank, const int* n, std::complex<double>* in, double* out) {
    return fftw_plan_dft_c2r(rank, n, reinterpret_cast<complex*>(in), out, FFTW_ESTIMATE);
  }
  static void execute(plan p) { fftw_execute(p); }
  static void destroy(plan p) { fftw_destroy_plan(p); }
};
template <>
struct Fftw<float> {
  using plan = fftwf_plan;
  using complex = fftwf_complex;
  static plan r2c(int rank, const int* n, float* in, std::complex<float>* out) {
    return fftwf_plan_dft_r2c(rank, n, in, reinterpret_cast<complex*>(out), FFTW_ESTIMATE);
  }
  static plan c2r(int rank, const int* n, std::complex<float>* in, float* out) {
    return fftwf_plan_dft_c2r(rank, n, reinterpret_cast<complex*>(in), out, FFTW_ESTIMATE);
  }
  static void execute(plan p) { fftwf_execute(p); }
  static void destroy(plan p) { fftwf_destroy_plan(p); }
};

std::vector<int> dims_of(const Grid& g) {
  std::vector<int> d;
  for (auto n : g.shape()) d.push_back(static_cast<int>(n));
  return d;
}
std::size_t spectrum_size(const Grid& g) {
  const auto d = dims_of(g);
  std::size_t n = static_cast<std::size_t>(d.back() / 2 + 1);
  for (std::size_t i = 0; i + 1 < d.size(); ++i) n *= static_cast<std::size_t>(d[i]);
  return n;
}
}  // namespace

template <class T>
struct SpectralPropagation<T>::Plans {
  typename Fftw<T>::plan forward{}, inverse{};
  ~Plans() {
    if (forward) Fftw<T>::destroy(forward);
    if (inverse) Fftw<T>::destroy(inverse);
  }
};

template <class T>
SpectralPropagation<T>::SpectralPropagation(const Grid& grid, const Propagator& p, const std::vector<T>& initial,
                                            std::int64_t base_step)
    : grid_(grid), plans_(std::make_unique<Plans>()) {
  const auto dims = dims_of(grid);
  const int rank = static_cast<int>(dims.size());
  const std::size_t cells = static_cast<std::size_t>(grid.cells()), nspec = spectrum_size(grid);
  // H(k) = sum over offsets o of P(o) exp(-2 pi i k.o / n): the DFT of the propagator wrapped onto
  // the grid (any kernel width), evaluated axis by axis from per-axis tables of exponentials
  // (much cheaper than a float64 transform of a whole grid-sized array).
  const auto r = p.radius();
  const std::int64_t nz = grid.nz(), ny = grid.ny(), nxh = grid.nx() / 2 + 1;
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
  const auto ex = exponentials(kx, r[2], grid.nx(), nxh), ey = exponentials(ky, r[1], ny, ny),
             ez = exponentials(kz, r[0], nz, nz);
  std::vector<std::complex<double>> gx(static_cast<std::size_t>(kz * ky * nxh)), gy(static_cast<std::size_t>(kz * ny * nxh));
  for (int c = 0; c < kz; ++c)
    for (int a = 0; a < ky; ++a)
      for (int b = 0; b < kx; ++b)
        for (std::int64_t k = 0; k < nxh; ++k) gx[(c * ky + a) * nxh + k] += p.at(c, a, b) * ex[b * nxh + k];
  for (int c = 0; c < kz; ++c)
    for (int a = 0; a < ky; ++a)
      for (std::int64_t j = 0; j < ny; ++j)
        for (std::int64_t k = 0; k < nxh; ++k) gy[(c * ny + j) * nxh + k] += ey[a * ny + j] * gx[(c * ky + a) * nxh + k];
  transfer_.assign(nspec, 0.0);
  for (int c = 0; c < kz; ++c)
    for (std::int64_t i = 0; i < nz; ++i)
      for (std::int64_t j = 0; j < ny; ++j)
        for (std::int64_t k = 0; k < nxh; ++k) transfer_[(i * ny + j) * nxh + k] += ez[c * nz + i] * gy[(c * ny + j) * nxh + k];
  // A point-symmetric propagator has a real transfer function; what the sums leave in the
  // imaginary part is rounding, and dropping it lets H^n be taken in real arithmetic.
  real_transfer_ = true;
  for (int c = 0; c < kz && real_transfer_; ++c)
    for (int a = 0; a < ky && real_transfer_; ++a)
      for (int b = 0; b < kx; ++b)
        if (p.at(c, a, b) != p.at(kz - 1 - c, ky - 1 - a, kx - 1 - b)) {
          real_transfer_ = false;
          break;
        }
  if (real_transfer_)
    for (auto& h : transfer_) h = h.real();
  spectrum0_.resize(nspec);
  work_.resize(nspec);
  real_work_.resize(cells);
  plans_->forward = Fftw<T>::r2c(rank, dims.data(), real_work_.data(), spectrum0_.data());
  plans_->inverse = Fftw<T>::c2r(rank, dims.data(), work_.data(), real_work_.data());
  if (!plans_->forward || !plans_->inverse) throw std::runtime_error("FFTW could not make a plan");
  reset(initial, base_step);
}

template <class T>
SpectralPropagation<T>::~SpectralPropagation() = default;

template <class T>
void SpectralPropagation<T>::reset(const std::vector<T>& state, std::int64_t step) {
  std::memcpy(real_work_.data(), state.data(), state.size() * sizeof(T));
  Fftw<T>::execute(plans_->forward);  // real_work_ -> spectrum0_
  base_step_ = step;
}

template <class T>
void SpectralPropagation<T>::field_at(std::int64_t step, T* out) {
  const std::int64_t n = step - base_step_;
  if (n < 0) throw std::invalid_argument("SpectralPropagation: a step before the starting point");
  // H^n in double (|H| <= 1 for a probability propagator, so the power is well conditioned), by
  // squaring, so exact zeros of H stay zero. The exponent's bits are the same for every frequency,
  // so the squaring runs over blocks of frequencies with the bit loop outside: the inner loops are
  // plain element-wise complex products, which vectorise (a per-frequency loop does not).
  constexpr std::size_t block = 256;
  alignas(64) double hr[block], hi[block], br[block], bi[block];
  if (real_transfer_) {
    for (std::size_t k0 = 0; k0 < transfer_.size(); k0 += block) {
      const std::size_t m = std::min(block, transfer_.size() - k0);
      for (std::size_t k = 0; k < m; ++k) hr[k] = 1, br[k] = transfer_[k0 + k].real();
      for (std::int64_t e = n; e > 0; e >>= 1) {
        if (e & 1)
          for (std::size_t k = 0; k < m; ++k) hr[k] *= br[k];
        if (e > 1)
          for (std::size_t k = 0; k < m; ++k) br[k] *= br[k];
      }
      for (std::size_t k = 0; k < m; ++k) work_[k0 + k] = spectrum0_[k0 + k] * T(hr[k]);
    }
  } else {
    for (std::size_t k0 = 0; k0 < transfer_.size(); k0 += block) {
      const std::size_t m = std::min(block, transfer_.size() - k0);
      for (std::size_t k = 0; k < m; ++k) {
        hr[k] = 1, hi[k] = 0;
        br[k] = transfer_[k0 + k].real(), bi[k] = transfer_[k0 + k].imag();
      }
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
      for (std::size_t k = 0; k < m; ++k) {
        const double sr = spectrum0_[k0 + k].real(), si = spectrum0_[k0 + k].imag();
        work_[k0 + k] = std::complex<T>(T(sr * hr[k] - si * hi[k]), T(sr * hi[k] + si * hr[k]));
      }
    }
  }
  Fftw<T>::execute(plans_->inverse);  // work_ -> real_work_ (c2r overwrites its input)
  const T scale = T(1.0 / double(grid_.cells()));
  for (std::size_t i = 0; i < real_work_.size(); ++i) out[i] = real_work_[i] * scale;
}

template class SpectralPropagation<float>;
template class SpectralPropagation<double>;

}  // namespace propagon
