#pragma once
/// @file binomial.hpp
/// Exact binomial sampling: inversion by the pmf recurrence for small n*p, and Hormann's BTRD
/// (transformed rejection with decomposition, 1993) for n*min(p, 1-p) >= 10. Kokkos has no
/// binomial sampler; this one runs on host and device and draws from any stream with uniform().
#include "propagon/compat.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace propagon {

namespace binomial_detail {

/// log(k!) - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi)/2]: the Stirling remainder BTRD needs.
KOKKOS_INLINE_FUNCTION double stirling_tail(double k) {
  // Exact values for small k (checked against lgamma in the tests), the series beyond.
  constexpr double table[10] = {0.08106146679532726, 0.04134069595540929, 0.02767792568499834,
                                0.02079067210376509, 0.01664469118982119, 0.01387612882307075,
                                0.01189670994589177, 0.01041126526197209, 0.009255462182712733,
                                0.008330563433362871};
  if (k < 10) return table[static_cast<int>(k)];
  const double n2 = (k + 1) * (k + 1);
  return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - 1.0 / 1680 / n2) / n2) / n2) / (k + 1);
}

/// 1/x for the first terms of the inversion recurrence: a division is the slowest step of its loop.
KOKKOS_INLINE_FUNCTION double reciprocal(std::uint64_t x) {
  constexpr double table[17] = {0,        1.0,      1.0 / 2,  1.0 / 3,  1.0 / 4,  1.0 / 5,
                                1.0 / 6,  1.0 / 7,  1.0 / 8,  1.0 / 9,  1.0 / 10, 1.0 / 11,
                                1.0 / 12, 1.0 / 13, 1.0 / 14, 1.0 / 15, 1.0 / 16};
  return x < 17 ? table[x] : 1.0 / double(x);
}

/// Inversion with log(1 - p) and p / (1 - p) given (they depend on p only).
template <class Stream>
KOKKOS_INLINE_FUNCTION std::uint64_t inversion(std::uint64_t n, double log_q, double s, Stream& rng) {
  // P(0) = q^n, P(x+1) = P(x) * (n - x)/(x + 1) * p/q. n*p < 10 keeps q^n above e^-10.5.
  const double a = (double(n) + 1) * s;
  const double r0 = kmath::exp(double(n) * log_q);
  while (true) {
    double u = rng.uniform(), r = r0;
    std::uint64_t x = 0;
    bool ok = true;
    while (u > r) {
      u -= r;
      ++x;
      if (x > n || r <= 0) {  // rounding left u above the whole mass: draw again
        ok = false;
        break;
      }
      r *= a * reciprocal(x) - s;
    }
    if (ok) return x;
  }
}

template <class Stream>
KOKKOS_INLINE_FUNCTION std::uint64_t btrd(std::uint64_t n_int, double p, Stream& rng) {
  namespace M = kmath;
  const double n = double(n_int);
  const double npq = n * p * (1 - p);
  const double sqrt_npq = M::sqrt(npq);
  const double b = 1.15 + 2.53 * sqrt_npq;
  const double inv_b = 1.0 / b;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = n * p + 0.5;
  const double v_r = 0.92 - 4.2 * inv_b;
  const double u_rv_r = 0.86 * v_r;
  const double inv_v_r = 1.0 / v_r;
  // Only the rejection branch needs these; most draws never get there.
  double alpha = 0, m = 0, r = 0, nr = 0;
  bool slow_setup = false;
  while (true) {
    double v = rng.uniform(), u;
    if (v <= u_rv_r) {  // the triangle-shaped centre: accepted at once (~86% of draws)
      u = v * inv_v_r - 0.43;
      return static_cast<std::uint64_t>(M::floor((2 * a / (0.5 - M::fabs(u)) + b) * u + c));
    }
    if (!slow_setup) {
      alpha = (2.83 + 5.1 * inv_b) * sqrt_npq;
      m = M::floor((n + 1) * p);
      r = p / (1 - p);
      nr = (n + 1) * r;
      slow_setup = true;
    }
    if (v >= v_r) {
      u = rng.uniform() - 0.5;
    } else {
      u = v * inv_v_r - 0.93;
      u = (u < 0 ? -0.5 : 0.5) - u;
      v = rng.uniform() * v_r;
    }
    const double us = 0.5 - M::fabs(u);
    const double k = M::floor((2 * a / us + b) * u + c);
    if (k < 0 || k > n) continue;
    v = v * alpha / (a / (us * us) + b);
    const double km = M::fabs(k - m);
    if (km <= 15) {
      // Recursive evaluation of f(k)/f(m).
      double f = 1;
      if (m < k) {
        for (double i = m + 1; i <= k; ++i) f *= nr / i - r;
      } else if (m > k) {
        for (double i = k + 1; i <= m; ++i) v *= nr / i - r;
      }
      if (v <= f) return static_cast<std::uint64_t>(k);
      continue;
    }
    // Squeeze with the normal approximation, then the exact log-density ratio.
    v = M::log(v);
    const double rho = (km / npq) * (((km / 3 + 0.625) * km + 1.0 / 6) / npq + 0.5);
    const double t = -km * km / (2 * npq);
    if (v < t - rho) return static_cast<std::uint64_t>(k);
    if (v > t + rho) continue;
    const double nm = n - m + 1;
    const double h = (m + 0.5) * M::log((m + 1) / (r * nm)) + stirling_tail(m) + stirling_tail(n - m);
    const double nk = n - k + 1;
    if (v <= h + (n + 1) * M::log(nm / nk) + (k + 0.5) * M::log(nk * r / (k + 1)) - stirling_tail(k) -
                 stirling_tail(n - k))
      return static_cast<std::uint64_t>(k);
  }
}

}  // namespace binomial_detail

/// What a binomial draw needs of p alone, computed once where p is fixed (the multinomial's
/// conditional probabilities): p, and for the inversion method log(1 - p') and p' / (1 - p') with
/// p' = min(p, 1 - p).
struct BinomialP {
  double p = 0, pp = 0, log_q = 0, s = 0;
  bool flip = false;
  static BinomialP of(double p) {
    BinomialP b;
    b.p = p;
    b.flip = p > 0.5;  // both methods want p <= 1/2
    b.pp = b.flip ? 1 - p : p;
    if (b.pp > 0 && b.pp < 1) {
      b.log_q = std::log1p(-b.pp);
      b.s = b.pp / (1 - b.pp);
    }
    return b;
  }
};

/// A Binomial(n, p) variate for a prepared p.
template <class Stream>
KOKKOS_INLINE_FUNCTION std::uint64_t sample_binomial(std::uint64_t n, const BinomialP& b, Stream& rng) {
  if (n == 0 || !(b.p > 0)) return 0;
  if (b.p >= 1) return n;
  const std::uint64_t k = double(n) * b.pp < 10 ? binomial_detail::inversion(n, b.log_q, b.s, rng)
                                                : binomial_detail::btrd(n, b.pp, rng);
  return b.flip ? n - k : k;
}

/// A Binomial(n, p) variate. p outside [0, 1] is clamped.
template <class Stream>
KOKKOS_INLINE_FUNCTION std::uint64_t sample_binomial(std::uint64_t n, double p, Stream& rng) {
  if (n == 0 || !(p > 0)) return 0;
  if (p >= 1) return n;
  const bool flip = p > 0.5;
  const double pp = flip ? 1 - p : p;
  const std::uint64_t k = double(n) * pp < 10 ? binomial_detail::inversion(n, kmath::log1p(-pp), pp / (1 - pp), rng)
                                              : binomial_detail::btrd(n, pp, rng);
  return flip ? n - k : k;
}

/// Binomial(n, p_j) for a few fixed p_j (a multinomial's conditional probabilities) and every
/// n <= max_n, by Walker's alias method: one uniform, two table reads and no data-dependent loop
/// per draw, where BTRD or a CDF walk spend most of their time in mispredicted branches.
/// Built in float64 from the exact pmf (Vose's construction). To stay in cache, a row keeps only
/// the values of k inside the tails of probability below 2^-60 each (rarer than the 53-bit
/// uniform can resolve), and an entry packs its threshold as a 48-bit fraction with its 16-bit
/// alias, so the distribution is exact to about 2^-48 per value. Larger n use sample_binomial().
/// hi:lo = a * b (the full 128-bit product).
KOKKOS_INLINE_FUNCTION void multiply_64x64(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  hi = __umul64hi(a, b);
  lo = a * b;
#else
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  hi = static_cast<std::uint64_t>(p >> 64);
  lo = static_cast<std::uint64_t>(p);
#endif
}

struct BinomialTables {
  /// Per (j, n) at j * (max_n + 1) + n: first entry (32 bits) | smallest k kept (16) | width (16).
  Kokkos::View<std::uint64_t*> rows;
  /// Per kept k: threshold * 2^48 (48 bits) | alias k (16).
  Kokkos::View<std::uint64_t*> entries;
  std::int64_t max_n = -1;

  template <class Stream>
  KOKKOS_INLINE_FUNCTION std::uint64_t sample(int j, std::uint64_t n, Stream& rng) const {
    const std::uint64_t row = rows(j * (max_n + 1) + std::int64_t(n));
    const std::uint64_t first = row >> 32, k_min = (row >> 16) & 0xFFFF, width = row & 0xFFFF;
    // 64 random bits r times the width: the high word floor(r * width / 2^64) is the column, the
    // low word its fraction, whose top 48 bits are the coin. Integer arithmetic only: the draws
    // of a cell form a dependent chain, and conversions to and from double would lengthen it.
    std::uint64_t column, fraction;
    multiply_64x64(rng.bits(), width, column, fraction);
    const std::uint64_t e = entries(std::int64_t(first + column));
    // A mask, not a branch: the coin is random, so a branch would be mispredicted half the time.
    const std::uint64_t keep = std::uint64_t(0) - static_cast<std::uint64_t>((fraction >> 16) < (e >> 16));
    return ((k_min + column) & keep) | ((e & 0xFFFF) & ~keep);
  }
};

/// Tables for these probabilities and n <= max_n (at most 65535), fewer if they would take more
/// than `budget_bytes`.
inline BinomialTables make_binomial_tables(const std::vector<double>& probabilities, std::int64_t max_n = 511,
                                           std::size_t budget_bytes = 16u << 20) {
  BinomialTables t;
  const std::size_t m = std::max<std::size_t>(probabilities.size(), 1);
  std::int64_t n_max = std::min<std::int64_t>(max_n, 65535);
  while (n_max > 0 && std::size_t((n_max + 1) * (n_max + 2) / 2) * m * sizeof(std::uint64_t) > budget_bytes) --n_max;
  t.max_n = n_max;
  std::vector<std::uint64_t> rows(m * std::size_t(n_max + 1), 0), entries;
  std::vector<double> pmf, scaled;
  std::vector<std::int64_t> small, large;
  constexpr double tail = 8.673617379884035e-19;  // 2^-60
  constexpr double one48 = 281474976710656.0;     // 2^48
  for (std::size_t j = 0; j < probabilities.size(); ++j) {
    const double p = std::clamp(probabilities[j], 0.0, 1.0);
    const double log_p = std::log(p), log_q = std::log1p(-p);
    for (std::int64_t n = 0; n <= n_max; ++n) {
      // log pmf(k + 1) = log pmf(k) + log((n - k) / (k + 1)) + log(p / q), from log pmf(0) = n log q.
      pmf.assign(std::size_t(n + 1), 0.0);
      double log_pmf = double(n) * log_q;
      for (std::int64_t k = 0; k <= n; ++k) {
        pmf[k] = p <= 0 ? (k == 0 ? 1.0 : 0.0) : p >= 1 ? (k == n ? 1.0 : 0.0) : std::exp(log_pmf);
        if (p > 0 && p < 1) log_pmf += std::log(double(n - k) / double(k + 1)) + log_p - log_q;
      }
      std::int64_t lo = 0, hi = n;
      for (double dropped = pmf[lo]; lo < hi && dropped < tail; dropped += pmf[++lo]) {}
      for (double dropped = pmf[hi]; hi > lo && dropped < tail; dropped += pmf[--hi]) {}
      const std::int64_t width = hi - lo + 1;
      double kept = 0;
      for (std::int64_t k = lo; k <= hi; ++k) kept += pmf[k];
      // Column c (value lo + c) keeps itself with probability scaled[c], else gives its alias.
      scaled.assign(std::size_t(width), 0.0);
      for (std::int64_t c = 0; c < width; ++c) scaled[c] = pmf[lo + c] / kept * double(width);
      const std::size_t first = entries.size();
      entries.resize(first + std::size_t(width));
      auto put = [&](std::int64_t c, double threshold, std::int64_t alias_k) {
        // At most 2^48 - 1, so that the shift cannot overflow; a column kept with probability 1
        // has itself as its alias, so the missing 2^-48 changes nothing.
        const double th = std::min(std::clamp(threshold, 0.0, 1.0) * one48, one48 - 1);
        entries[first + c] = (static_cast<std::uint64_t>(th) << 16) | static_cast<std::uint64_t>(alias_k);
      };
      small.clear();
      large.clear();
      for (std::int64_t c = 0; c < width; ++c) (scaled[c] < 1.0 ? small : large).push_back(c);
      while (!small.empty() && !large.empty()) {
        const std::int64_t sm = small.back(), lg = large.back();
        small.pop_back();
        put(sm, scaled[sm], lo + lg);
        scaled[lg] -= 1.0 - scaled[sm];
        if (scaled[lg] < 1.0) {
          large.pop_back();
          small.push_back(lg);
        }
      }
      // What is left is 1 up to rounding: those columns keep themselves.
      for (std::int64_t c : large) put(c, 1.0, lo + c);
      for (std::int64_t c : small) put(c, 1.0, lo + c);
      rows[j * std::size_t(n_max + 1) + std::size_t(n)] =
          (std::uint64_t(first) << 32) | (std::uint64_t(lo) << 16) | std::uint64_t(width);
    }
  }
  auto upload = [](const std::vector<std::uint64_t>& v, const char* label) {
    Kokkos::View<std::uint64_t*> d(std::string(label), std::max<std::size_t>(v.size(), 1));
    auto h = Kokkos::create_mirror_view(d);
    std::copy(v.begin(), v.end(), h.data());
    Kokkos::deep_copy(d, h);
    return d;
  };
  t.rows = upload(rows, "binomial_rows");
  t.entries = upload(entries, "binomial_entries");
  return t;
}

}  // namespace propagon
