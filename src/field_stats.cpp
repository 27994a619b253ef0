#include "propagon/field_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "row_stats.hpp"

namespace propagon {

template <class T>
FieldStats field_stats(const FieldView<T>& values, const Grid& grid, double scale) {
  const std::int64_t nx = grid.nx();
  Kokkos::View<double**, Kokkos::LayoutRight> per_row(Kokkos::view_alloc("stats_per_row", Kokkos::WithoutInitializing),
                                                      grid.rows(), detail::row_terms);
  Kokkos::parallel_for(
      "propagon::field_stats", Kokkos::RangePolicy<>(0, grid.rows()), KOKKOS_LAMBDA(const std::int64_t row) {
        detail::row_partials(values.data() + row * nx, nx, &per_row(row, 0));
      });
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), per_row);
  return detail::combine_row_partials(h.data(), grid, scale);
}

namespace detail {

FieldStats combine_row_partials(const double* partials, const Grid& grid, double scale) {
  FieldStats st;
  double m = 0, mx = 0, mxx = 0, my = 0, myy = 0, mz = 0, mzz = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const std::int64_t ny = grid.ny();
  for (std::int64_t row = 0; row < grid.rows(); ++row) {
    const double* h = partials + row * row_terms;
    const double z = double(row / ny), y = double(row % ny), rm = h[0];
    m += rm;
    mx += h[1];
    mxx += h[2];
    my += y * rm;
    myy += y * y * rm;
    mz += z * rm;
    mzz += z * z * rm;
    lo = std::min(lo, h[3]);
    hi = std::max(hi, h[4]);
  }
  // Moments are ratios and do not change with the scale; mass and extremes do.
  st.mass = m * scale;
  st.min = lo * scale;
  st.max = hi * scale;
  st.finite = std::isfinite(m) && std::isfinite(mxx) && std::isfinite(lo) && std::isfinite(hi);
  if (m != 0.0 && std::isfinite(m)) {
    st.mean = {mz / m, my / m, mx / m};
    st.variance = {mzz / m - st.mean[0] * st.mean[0], myy / m - st.mean[1] * st.mean[1],
                   mxx / m - st.mean[2] * st.mean[2]};
  }
  return st;
}

}  // namespace detail

template FieldStats field_stats<float>(const FieldView<float>&, const Grid&, double);
template FieldStats field_stats<double>(const FieldView<double>&, const Grid&, double);
template FieldStats field_stats<std::uint64_t>(const FieldView<std::uint64_t>&, const Grid&, double);

}  // namespace propagon
