#pragma once
// Internal: the per-row partial sums behind FieldStats, shared by field_stats() and the fused
// statistics of the separable step, so both give the same bits for the same row.
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "propagon/field_stats.hpp"

namespace propagon::detail {

/// Partial results of one row: sum u, sum x u, sum x^2 u, min, max.
constexpr int row_terms = 5;

#if defined(__AVX__) && !defined(__CUDA_ARCH__) && !defined(__HIP_DEVICE_COMPILE__)
#define PROPAGON_AVX_ROW_STATS 1
}  // namespace propagon::detail
#include <immintrin.h>
namespace propagon::detail {

/// The float32 row sums in four double lanes, lane l taking the cells x = l (mod 4) in increasing
/// x: one fixed order, so that field_stats() and the separable step's fused statistics (which
/// feed the same accumulator from registers, eight cells at a time) give the same bits.
struct RowAccumulator {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), s2 = _mm256_setzero_pd();
  __m256d lo = _mm256_set1_pd(std::numeric_limits<double>::infinity()), hi = _mm256_set1_pd(-std::numeric_limits<double>::infinity());
  /// Cells x .. x + 7 (x a multiple of 8).
  void add8(__m256 v8, std::int64_t x) {
    add4(_mm256_cvtps_pd(_mm256_castps256_ps128(v8)), x);
    add4(_mm256_cvtps_pd(_mm256_extractf128_ps(v8, 1)), x + 4);
  }
  void add4(__m256d v, std::int64_t x) {
    const double xd = double(static_cast<std::int32_t>(x));
    const __m256d xs = _mm256_add_pd(_mm256_set1_pd(xd), _mm256_setr_pd(0, 1, 2, 3));
    const __m256d xv = _mm256_mul_pd(xs, v);
    s0 = _mm256_add_pd(s0, v);
    s1 = _mm256_add_pd(s1, xv);
    s2 = _mm256_add_pd(s2, _mm256_mul_pd(xs, xv));
    lo = _mm256_min_pd(v, lo);  // NaN in v keeps lo (as v < lo ? v : lo); the sum records it
    hi = _mm256_max_pd(v, hi);
  }
  /// The cells from `x` to the end of the row one by one (fewer than 8), then the five partials.
  void finish(const float* u, std::int64_t x, std::int64_t nx, double* out) const {
    alignas(32) double a0[4], a1[4], a2[4], l[4], h[4];
    _mm256_store_pd(a0, s0);
    _mm256_store_pd(a1, s1);
    _mm256_store_pd(a2, s2);
    _mm256_store_pd(l, lo);
    _mm256_store_pd(h, hi);
    for (; x < nx; ++x) {
      const int lane = int(x & 3);
      const double v = double(u[x]), xd = double(static_cast<std::int32_t>(x));
      const double xv = xd * v;
      a0[lane] = a0[lane] + v;
      a1[lane] = a1[lane] + xv;
      a2[lane] = a2[lane] + xd * xv;
      l[lane] = v < l[lane] ? v : l[lane];
      h[lane] = v > h[lane] ? v : h[lane];
    }
    out[0] = (a0[0] + a0[1]) + (a0[2] + a0[3]);
    out[1] = (a1[0] + a1[1]) + (a1[2] + a1[3]);
    out[2] = (a2[0] + a2[1]) + (a2[2] + a2[3]);
    out[3] = std::min(std::min(l[0], l[1]), std::min(l[2], l[3]));
    out[4] = std::max(std::max(h[0], h[1]), std::max(h[2], h[3]));
    // std::min/max drop a NaN that a lane never saw; the sums keep it.
  }
};
#endif

/// A SIMD reduction: the sums are split over vector lanes and added at the end, a fixed order for
/// a given build (so independent of threads and of who calls it), and about 3x faster than a
/// scalar chain. x fits in 32 bits (it indexes a row), and int32 -> double converts in vector
/// registers. NaN fails both comparisons; it is recorded through the sum instead (s0 becomes NaN).
/// float32 rows on an AVX host go through RowAccumulator instead.
template <class T>
KOKKOS_INLINE_FUNCTION void row_partials(const T* KOKKOS_RESTRICT u, std::int64_t nx, double* out) {
#ifdef PROPAGON_AVX_ROW_STATS
  if constexpr (std::is_same_v<T, float>) {
    RowAccumulator acc;
    std::int64_t x = 0;
    for (; x + 8 <= nx; x += 8) acc.add8(_mm256_loadu_ps(u + x), x);
    acc.finish(u, x, nx, out);
    return;
  }
#endif
  double s0 = 0, s1 = 0, s2 = 0;
  // HUGE_VAL (infinity) rather than numeric_limits, whose functions CUDA device code may not call.
  double lo = HUGE_VAL, hi = -HUGE_VAL;
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
