#include "propagon/field_stats.hpp"

#include <cmath>
#include <limits>

namespace propagon {

namespace {
// Partial results of one row: sum u, sum x u, sum x^2 u, min, max.
constexpr int row_terms = 5;
// Independent accumulators so the compiler can vectorise the sums without reassociating them.
constexpr int lanes = 8;
}  // namespace

template <class T>
FieldStats field_stats(const FieldView<T>& values, const Grid& grid, double scale) {
  const std::int64_t nx = grid.nx();
  Kokkos::View<double**, Kokkos::LayoutRight> per_row("stats_per_row", grid.rows(), row_terms);
  Kokkos::parallel_for(
      "propagon::field_stats", Kokkos::RangePolicy<>(0, grid.rows()), KOKKOS_LAMBDA(const std::int64_t row) {
        const T* u = values.data() + row * nx;
        double s0[lanes] = {}, s1[lanes] = {}, s2[lanes] = {};
        double lo[lanes], hi[lanes];
        for (int l = 0; l < lanes; ++l) {
          lo[l] = std::numeric_limits<double>::infinity();
          hi[l] = -std::numeric_limits<double>::infinity();
        }
        std::int64_t x = 0;
        for (; x + lanes <= nx; x += lanes)
          for (int l = 0; l < lanes; ++l) {
            const double v = u[x + l], xd = double(x + l);
            s0[l] += v;
            s1[l] += xd * v;
            s2[l] += xd * xd * v;
            lo[l] = v < lo[l] ? v : lo[l];
            hi[l] = v > hi[l] ? v : hi[l];
            // NaN fails both comparisons above; record it through the sum instead (s0 becomes NaN).
          }
        for (; x < nx; ++x) {
          const double v = u[x], xd = double(x);
          s0[0] += v;
          s1[0] += xd * v;
          s2[0] += xd * xd * v;
          lo[0] = v < lo[0] ? v : lo[0];
          hi[0] = v > hi[0] ? v : hi[0];
        }
        double t0 = 0, t1 = 0, t2 = 0, tlo = lo[0], thi = hi[0];
        for (int l = 0; l < lanes; ++l) {
          t0 += s0[l];
          t1 += s1[l];
          t2 += s2[l];
          tlo = lo[l] < tlo ? lo[l] : tlo;
          thi = hi[l] > thi ? hi[l] : thi;
        }
        per_row(row, 0) = t0;
        per_row(row, 1) = t1;
        per_row(row, 2) = t2;
        per_row(row, 3) = tlo;
        per_row(row, 4) = thi;
      });
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), per_row);

  FieldStats st;
  double m = 0, mx = 0, mxx = 0, my = 0, myy = 0, mz = 0, mzz = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const std::int64_t ny = grid.ny();
  for (std::int64_t row = 0; row < grid.rows(); ++row) {
    const double z = double(row / ny), y = double(row % ny), rm = h(row, 0);
    m += rm;
    mx += h(row, 1);
    mxx += h(row, 2);
    my += y * rm;
    myy += y * y * rm;
    mz += z * rm;
    mzz += z * z * rm;
    lo = std::min(lo, h(row, 3));
    hi = std::max(hi, h(row, 4));
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

template FieldStats field_stats<float>(const FieldView<float>&, const Grid&, double);
template FieldStats field_stats<double>(const FieldView<double>&, const Grid&, double);
template FieldStats field_stats<std::uint64_t>(const FieldView<std::uint64_t>&, const Grid&, double);

}  // namespace propagon
