#pragma once
/// @file field_stats.hpp
/// Mass, extremes and spatial moments of a field, accumulated in float64. Moments are in grid-index
/// units (cell centres at 0, 1, ...), weighted by concentration.
#include <array>

#include "propagon/field.hpp"
#include "propagon/grid.hpp"

namespace propagon {

struct FieldStats {
  double mass = 0.0;
  double min = 0.0, max = 0.0;
  std::array<double, 3> mean{0, 0, 0};      ///< z, y, x
  std::array<double, 3> variance{0, 0, 0};  ///< z, y, x
  bool finite = true;                       ///< false if any value is NaN or infinite
};

/// One pass over the field. Per-row partial sums are combined on the host in row order, so the
/// result is the same whatever the thread count or backend.
/// `scale` multiplies every value (particle counts / particles_per_unit = concentration).
template <class T>
FieldStats field_stats(const FieldView<T>& values, const Grid& grid, double scale = 1.0);

extern template FieldStats field_stats<float>(const FieldView<float>&, const Grid&, double);
extern template FieldStats field_stats<double>(const FieldView<double>&, const Grid&, double);
extern template FieldStats field_stats<std::uint64_t>(const FieldView<std::uint64_t>&, const Grid&, double);

}  // namespace propagon
