#pragma once
/// @file spectral.hpp
/// The convolution theorem: n steps at once. With periodic boundaries one step multiplies the
/// field's spectrum by the propagator's transfer function H (the DFT of P placed at its offsets,
/// wrapped), so step n is IDFT(DFT(u0) x H^n): one forward transform, and one inverse transform per
/// field that is asked for, whatever n. FFTW, real-to-complex, plans made once; runs on the host.
#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "propagon/grid.hpp"
#include "propagon/kernel.hpp"

namespace propagon {

template <class T>
class SpectralPropagation {
 public:
  /// `initial`: grid.cells() values, C order, at step `base_step`.
  SpectralPropagation(const Grid& grid, const Propagator& propagator, const std::vector<T>& initial,
                      std::int64_t base_step = 0);
  ~SpectralPropagation();
  SpectralPropagation(const SpectralPropagation&) = delete;
  SpectralPropagation& operator=(const SpectralPropagation&) = delete;

  /// The field at `step` (>= the base step) into `out` (grid.cells() values).
  void field_at(std::int64_t step, T* out);
  /// Makes `state` (at `step`) the new starting point, e.g. after a restart.
  void reset(const std::vector<T>& state, std::int64_t step);

 private:
  struct Plans;
  Grid grid_;
  std::int64_t base_step_ = 0;
  std::vector<std::complex<double>> transfer_;  ///< H, in the r2c layout
  bool real_transfer_ = false;                   ///< P(o) = P(-o): H is real, and so is H^n
  std::vector<std::complex<T>> spectrum0_;      ///< DFT of the field at the base step
  std::vector<std::complex<T>> work_;
  std::vector<T> real_work_;
  std::unique_ptr<Plans> plans_;
};

extern template class SpectralPropagation<float>;
extern template class SpectralPropagation<double>;

}  // namespace propagon
