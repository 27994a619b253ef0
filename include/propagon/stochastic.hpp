#pragma once
/// @file stochastic.hpp
/// The stochastic steps: integer particles hop to neighbours.
///  multinomial (mode: stochastic): a cell's n particles are split among the offsets by conditional
///    binomials; the last offset receives the remainder, so counts are never negative and the total
///    is conserved exactly (absorb counts what leaves).
///  collapse: the whole content of a cell moves, as one, to a single offset drawn from P.
/// Each cell draws from its own counter-based stream (seed, replicate; step, cell), and arrivals are
/// integer additions, so the result does not depend on the order cells are processed in.
#include <cstdint>
#include <vector>

#include "propagon/binomial.hpp"
#include "propagon/boundary.hpp"
#include "propagon/grid.hpp"
#include "propagon/kernel.hpp"
#include "propagon/rng.hpp"

namespace propagon {

using Count = std::uint64_t;
using CountView = Kokkos::View<Count*>;

enum class StochasticKind { multinomial, collapse };

/// The per-cell rule with its tables, copyable into device kernels.
struct CellScatter {
  StochasticKind kind = StochasticKind::multinomial;
  std::uint64_t seed = 0;
  std::int64_t ny = 1, nx = 1;
  int kz = 1, ky = 1, kx = 1;
  int n_offsets = 0;  ///< offsets with P > 0, the most probable one last
  Kokkos::View<int*> offset_index;        ///< c * ky * kx + a * kx + b of each used offset
  Kokkos::View<int*> offset_c, offset_a, offset_b;  ///< the same split per axis (no division per draw)
  Kokkos::View<BinomialP*> conditional;   ///< P_j / sum_{i >= j} P_i, prepared for sampling (multinomial)
  BinomialTables tables;                  ///< the conditionals in use, tabulated for small counts
  /// Separable propagators (P[a][b] = py[a] px[b], 1D/2D): the particles are split by x offset
  /// first, then each group by y offset, an exact multinomial with only kx + ky - 2 distinct
  /// conditionals (tables that stay in cache) instead of ky * kx - 1.
  bool separable = false;
  Kokkos::View<BinomialP*> separable_conditional;  ///< px_b / sum_{b' >= b} px_b', then the same for py
  Kokkos::View<int*> separable_table;              ///< the table of each (equal conditionals share one)
  Kokkos::View<double*> cumulative;       ///< sum_{i <= j} P_i (collapse)
  Kokkos::View<std::int64_t*> tz, ty, tx;  ///< per axis: map_index(s + j - r) for source s, tap j; -1 = gone

  /// Index of the cell that offset `j` of the used list sends cell (z, y, x) to, or -1 (absorbed).
  KOKKOS_INLINE_FUNCTION std::int64_t target(int j, std::int64_t z, std::int64_t y, std::int64_t x) const {
    const std::int64_t z2 = tz(z * kz + offset_c(j)), y2 = ty(y * ky + offset_a(j)), x2 = tx(x * kx + offset_b(j));
    if (z2 < 0 || y2 < 0 || x2 < 0) return -1;
    return (z2 * ny + y2) * nx + x2;
  }

  /// Moves the n particles of `cell` (replicate `replicate`, step `step`): calls sink(target, k)
  /// for every group of k > 0 particles, target -1 meaning absorbed.
  template <class Sink>
  KOKKOS_INLINE_FUNCTION void operator()(std::uint64_t replicate, std::uint64_t step, std::int64_t cell, Count n,
                                         const Sink& sink) const {
    (*this)(replicate, step, cell, cell / (nx * ny), (cell / nx) % ny, cell % nx, n, sink);
  }
  /// The separable multinomial for two neighbours in a row, (y, x) and (y, x + 1), their draws
  /// interleaved: each cell's draws form a dependent chain of table reads, and two independent
  /// chains side by side keep the CPU busy while either waits. The counts are the same as two
  /// calls of operator() (each cell still draws from its own stream; an empty cell's draws are
  /// all zero).
  template <class Sink>
  KOKKOS_INLINE_FUNCTION void separable_pair(std::uint64_t replicate, std::uint64_t step, std::int64_t cell,
                                             std::int64_t y, std::int64_t x, Count n0, Count n1,
                                             const Sink& sink) const {
    CellStream rng0(seed, replicate, step, static_cast<std::uint64_t>(cell));
    CellStream rng1(seed, replicate, step, static_cast<std::uint64_t>(cell + 1));
    Count left0 = n0, left1 = n1;
    for (int b = 0; b < kx; ++b) {
      const bool last_b = b + 1 == kx;
      const Count nb0 = last_b ? left0 : separable_draw(b, left0, rng0);
      const Count nb1 = last_b ? left1 : separable_draw(b, left1, rng1);
      left0 -= nb0;
      left1 -= nb1;
      const std::int64_t xa = tx(x * kx + b), xb = tx((x + 1) * kx + b);
      Count rest0 = nb0, rest1 = nb1;
      for (int a = 0; a < ky; ++a) {
        const bool last_a = a + 1 == ky;
        const int j = kx - 1 + a;
        const Count k0 = last_a ? rest0 : separable_draw(j, rest0, rng0);
        const Count k1 = last_a ? rest1 : separable_draw(j, rest1, rng1);
        rest0 -= k0;
        rest1 -= k1;
        const std::int64_t y2 = ty(y * ky + a);
        sink(xa < 0 || y2 < 0 ? std::int64_t(-1) : y2 * nx + xa, k0);
        sink(xb < 0 || y2 < 0 ? std::int64_t(-1) : y2 * nx + xb, k1);
      }
    }
  }

  /// Binomial(m, j-th separable conditional): from its table for small m, else BTRD.
  KOKKOS_INLINE_FUNCTION Count separable_draw(int j, Count m, CellStream& rng) const {
    return m <= Count(tables.max_n) ? tables.sample(separable_table(j), m, rng)
                                    : sample_binomial(m, separable_conditional(j), rng);
  }

  /// The same with the cell's coordinates given (no divisions in a loop that walks the rows).
  template <class Sink>
  KOKKOS_INLINE_FUNCTION void operator()(std::uint64_t replicate, std::uint64_t step, std::int64_t cell, std::int64_t z,
                                         std::int64_t y, std::int64_t x, Count n, const Sink& sink) const {
    if (n == 0) return;
    CellStream rng(seed, replicate, step, static_cast<std::uint64_t>(cell));
    if (kind == StochasticKind::collapse) {
      const double u = rng.uniform();
      int j = 0;
      while (j < n_offsets - 1 && u > cumulative(j)) ++j;
      sink(target(j, z, y, x), n);
      return;
    }
    auto draw = [&](int j, Count m, const BinomialP& b) {
      return m <= Count(tables.max_n) ? tables.sample(j, m, rng) : sample_binomial(m, b, rng);
    };
    if (separable) {
      // No early exits and no tests on the counts: with nothing to mispredict, the CPU overlaps
      // the dependent chains of table reads of consecutive draws and cells.
      Count left = n;
      for (int b = 0; b < kx; ++b) {
        const Count nb = b + 1 < kx ? separable_draw(b, left, rng) : left;
        left -= nb;
        const std::int64_t x2 = tx(x * kx + b);
        Count rest = nb;
        for (int a = 0; a < ky; ++a) {
          const int j = kx - 1 + a;
          const Count k = a + 1 < ky ? separable_draw(j, rest, rng) : rest;
          rest -= k;
          const std::int64_t y2 = ty(y * ky + a);
          sink(x2 < 0 || y2 < 0 ? std::int64_t(-1) : y2 * nx + x2, k);
        }
      }
      return;
    }
    Count left = n;
    for (int j = 0; j < n_offsets - 1; ++j) {
      const Count k = draw(j, left, conditional(j));
      if (k > 0) {
        sink(target(j, z, y, x), k);
        left -= k;
        if (left == 0) return;
      }
    }
    sink(target(n_offsets - 1, z, y, x), left);
  }
};

/// Builds the tables for a probability propagator (throws std::invalid_argument otherwise).
/// `largest_count`, when known (> 0), sizes the binomial tables: counts a little beyond it are
/// tabulated, and smaller tables stay in cache.
CellScatter make_cell_scatter(const Grid& grid, const Propagator& propagator, Boundary boundary, StochasticKind kind,
                              std::uint64_t seed, Count largest_count = 0);

/// One step of `replicates` realisations stored back to back in `in` (replicate r at r * cells).
/// `out` is overwritten; absorbed(r) grows by the particles replicate r lost to absorbing walls.
void stochastic_step(const CellScatter& rule, const Grid& grid, const CountView& in, const CountView& out,
                     std::int64_t replicates, std::uint64_t step, const Kokkos::View<Count*>& absorbed);

}  // namespace propagon
