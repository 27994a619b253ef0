#pragma once
/// @file stencil.hpp
/// The deterministic step u_{n+1} = P (*) u_n with a boundary, written for bandwidth: one team per
/// grid row, x innermost and contiguous, no per-access wrapping. Boundary handling is precomputed
/// per axis as a gather table (which source cells push into each target cell for each kernel
/// offset), built from map_index() so that it has the same meaning as every other mode.
#include <cstdint>
#include <vector>

#include "propagon/boundary.hpp"
#include "propagon/field.hpp"
#include "propagon/grid.hpp"
#include "propagon/kernel.hpp"

namespace propagon {

/// For one axis of n cells and a kernel of k taps (radius r = k/2): for every target t and tap j,
/// the list of sources s with map_index(s + j - r) == t, stored CSR-style. Cells in
/// [interior_begin, interior_end) receive exactly from s = t - (j - r) for every tap, so the hot loop
/// needs no table there.
struct AxisGather {
  std::int64_t n = 1;
  int taps = 1;
  std::int64_t interior_begin = 0, interior_end = 0;
  std::vector<std::int64_t> offsets;  ///< size n * taps + 1
  std::vector<std::int64_t> sources;

  std::int64_t begin(std::int64_t t, int j) const { return offsets[t * taps + j]; }
  std::int64_t end(std::int64_t t, int j) const { return offsets[t * taps + j + 1]; }
};
AxisGather build_axis_gather(std::int64_t n, int taps, Boundary boundary);

/// An AxisGather's tables in the memory of the default execution space (the device on a GPU build).
struct DeviceAxisGather {
  Kokkos::View<std::int64_t*> offsets, sources;
  std::int64_t interior_begin = 0, interior_end = 0;
};

template <class T>
class DeterministicStep {
 public:
  DeterministicStep(const Grid& grid, const Propagator& propagator, Boundary boundary);

  /// out = P (*) in. `in` and `out` must be different views of grid.cells() entries.
  void apply(const FieldView<T>& in, const FieldView<T>& out) const;

  /// Mass that one step from `in` sends out of the grid (absorb only; 0 for the other boundaries),
  /// computed from the propagator weights of the leaving offsets, not from a mass difference.
  double leaving_mass(const FieldView<T>& in) const;

 private:
  static DeviceAxisGather upload(const AxisGather& g, const char* label);

  Grid grid_;
  Boundary boundary_;
  std::array<int, 3> extent_{1, 1, 1};
  bool flux_form_ = true;  ///< weights sum to 1: update in flux form (exact mass balance)
  Kokkos::View<T*> weights_;
  DeviceAxisGather z_, y_, x_;
  Kokkos::View<std::int64_t*> edge_columns_;  ///< x outside the interior band
  std::int64_t n_edge_columns_ = 0;
  mutable Kokkos::View<double*> leaving_per_row_;  ///< workspace of leaving_mass()
};

extern template class DeterministicStep<float>;
extern template class DeterministicStep<double>;

}  // namespace propagon
