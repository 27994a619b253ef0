#pragma once
/// @file spectral.hpp
/// The convolution theorem: n steps at once. With periodic boundaries one step multiplies the
/// field's spectrum by the propagator's transfer function H (the DFT of P placed at its offsets,
/// wrapped), so step n is IDFT(DFT(u0) x H^n): one forward transform, and one inverse transform per
/// field that is asked for, whatever n. FFTW, real-to-complex, plans made once; runs on the host.
///
/// The multi-dimensional transforms are taken axis by axis: real-to-complex along x for every row,
/// then the other axes for blocks of x frequencies. |H| < 1 away from the conserved mode, so after
/// many steps H^n vanishes on most x frequencies; a block where a bound on |H|^n is below
/// 2^-(digits+16) / cells changes no value by more than 2^-15 of an ulp of the mean magnitude
/// (|DFT(u)| <= sum |u| at every frequency, and each stored frequency stands for two), and its
/// other-axis transforms and its product are skipped. H and the forward transforms of a block are
/// made the first time a step needs it.
#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "propagon/grid.hpp"
#include "propagon/host_buffer.hpp"
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
  /// The share of the x frequencies whose other-axis transforms a jump of `steps` steps makes
  /// (1 for small jumps, much less for long ones; for benchmarks and tests).
  double kept_fraction(std::int64_t steps) const;

 private:
  struct Plans;
  std::size_t block_size(std::size_t block) const;  ///< x frequencies in it (the last may be narrower)
  bool block_needed(std::size_t block, std::int64_t steps) const;
  void transfer_block(std::size_t block);  ///< H in one block of x frequencies
  Grid grid_;
  std::int64_t base_step_ = 0;
  std::size_t rows_ = 0;    ///< cells / nx
  std::size_t half_ = 0;    ///< nx / 2 + 1: x frequencies per row
  std::size_t blocks_ = 0;  ///< blocks of x frequencies
  // H's factors: per (z, y) plane of the kernel the sums over its x offsets at every x frequency,
  // and the y and z exponentials per tap and frequency.
  int taps_y_ = 1, taps_z_ = 1;
  std::vector<double> x_sums_re_, x_sums_im_;
  std::vector<std::complex<double>> y_phase_, z_phase_;
  std::vector<double> block_bound_;               ///< an upper bound on |H| in each block
  HostBuffer<double> transfer_re_, transfer_im_;  ///< H block by block (im empty when H is real)
  std::vector<char> block_has_transfer_;          ///< H is made in that block
  std::vector<char> block_transformed_;           ///< spectrum0_ holds the full DFT in that block
  std::vector<char> work_zero_;                   ///< work_ holds zeros in that block
  HostBuffer<std::complex<T>> spectrum0_;  ///< DFT of the field at the base step (x-only where not transformed)
  HostBuffer<std::complex<T>> work_;
  HostBuffer<T> real_work_;
  std::unique_ptr<Plans> plans_;
};

extern template class SpectralPropagation<float>;
extern template class SpectralPropagation<double>;

}  // namespace propagon
