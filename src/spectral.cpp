#include "propagon/spectral.hpp"

#include <fftw3.h>

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
  // H = DFT of the propagator placed at its offsets, wrapped onto the grid (any kernel width).
  std::vector<double> kernel(cells, 0.0);
  const auto r = p.radius();
  for (int c = 0; c < p.extent[0]; ++c)
    for (int a = 0; a < p.extent[1]; ++a)
      for (int b = 0; b < p.extent[2]; ++b) {
        auto wrap = [](std::int64_t o, std::int64_t n) { return ((o % n) + n) % n; };
        const std::int64_t z = wrap(c - r[0], grid.nz()), y = wrap(a - r[1], grid.ny()), x = wrap(b - r[2], grid.nx());
        kernel[static_cast<std::size_t>((z * grid.ny() + y) * grid.nx() + x)] += p.at(c, a, b);
      }
  transfer_.resize(nspec);
  {
    fftw_plan plan = fftw_plan_dft_r2c(rank, dims.data(), kernel.data(), reinterpret_cast<fftw_complex*>(transfer_.data()),
                                       FFTW_ESTIMATE);
    fftw_execute(plan);
    fftw_destroy_plan(plan);
  }
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
  // squaring, so exact zeros of H stay zero. Complex products are written out: std::complex's
  // operator* calls a library routine for the Inf/NaN cases, several times slower.
  for (std::size_t k = 0; k < transfer_.size(); ++k) {
    double hr = 1, hi = 0, br = transfer_[k].real(), bi = transfer_[k].imag();
    for (std::int64_t e = n; e > 0; e >>= 1) {
      if (e & 1) {
        const double r = hr * br - hi * bi;
        hi = hr * bi + hi * br;
        hr = r;
      }
      const double r = br * br - bi * bi;
      bi = 2 * br * bi;
      br = r;
    }
    const double sr = spectrum0_[k].real(), si = spectrum0_[k].imag();
    work_[k] = std::complex<T>(T(sr * hr - si * hi), T(sr * hi + si * hr));
  }
  Fftw<T>::execute(plans_->inverse);  // work_ -> real_work_ (c2r overwrites its input)
  const T scale = T(1.0 / double(grid_.cells()));
  for (std::size_t i = 0; i < real_work_.size(); ++i) out[i] = real_work_[i] * scale;
}

template class SpectralPropagation<float>;
template class SpectralPropagation<double>;

}  // namespace propagon
