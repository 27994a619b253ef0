#pragma once
// Internal: the per-row partial sums behind FieldStats, shared by field_stats() and the fused
// statistics of the separable step, so both give the same bits for the same row.
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <limits>

#include "propagon/field_stats.hpp"

namespace propagon::detail {

/// Partial results of one row: sum u, sum x u, sum x^2 u, min, max.
constexpr int row_terms = 5;

/// A SIMD reduction: the sums are split over vector lanes and added at the end, a fixed order for
/// a given build (so independent of threads and of who calls it), and about 3x faster than a
/// scalar chain. x fits in 32 bits (it indexes a row), and int32 -> double converts in vector
/// registers. NaN fails both comparisons; it is recorded through the sum instead (s0 becomes NaN).
template <class T>
KOKKOS_INLINE_FUNCTION void row_partials(const T* KOKKOS_RESTRICT u, std::int64_t nx, double* out) {
  double s0 = 0, s1 = 0, s2 = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
#ifdef PROPAGON_OPENMP_SIMD
#pragma omp simd reduction(+ : s0, s1, s2) reduction(min : lo) reduction(max : hi)
#endif
  for (std::int64_t x = 0; x < nx; ++x) {
    const double v = static_cast<double>(u[x]), xd = double(static_cast<std::int32_t>(x));
    const double xv = xd * v;
    s0 += v;
    s1 += xv;
    s2 += xd * xv;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = lo;
  out[4] = hi;
}

/// Adds the rows' partials (rows x row_terms, host memory) in row order into FieldStats;
/// `scale` multiplies every value.
FieldStats combine_row_partials(const double* partials, const Grid& grid, double scale);

}  // namespace propagon::detail
