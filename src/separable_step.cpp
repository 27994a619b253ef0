#include "propagon/separable_step.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "row_stats.hpp"
#include "stream_store.hpp"

namespace propagon {

namespace {

// Only 512 KiB of L2 per core are assumed; the rings of the fused steps take at most this much.
constexpr std::size_t ring_budget_bytes = 384 * 1024;
constexpr int most_fused_steps = 8;
constexpr std::size_t stream_threshold_bytes = 8u << 20;
// Cells per chunk of the last level's row: with its source chunks it stays in a 32 KiB L1 cache.
constexpr std::int64_t stream_chunk = 1024;

std::int64_t wrap(std::int64_t t, std::int64_t n) {
  const std::int64_t m = t % n;
  return m < 0 ? m + n : m;
}

// Cells of a 64-byte cache line of T, and how many cells from `p` to the next line boundary (0 when
// `p` is on one).
template <class T>
constexpr std::int64_t cells_per_line = 64 / sizeof(T);
template <class T>
std::int64_t cells_to_line(const T* p) {
  constexpr std::int64_t line = cells_per_line<T>;
  return (line - std::int64_t(reinterpret_cast<std::uintptr_t>(p) / sizeof(T)) % line) % line;
}

// o = c + sum over taps a != centre of w[a] * (s[a] - c): the flux form of one 1D pass across rows,
// for a row whose every tap has exactly its direct source row. K > 0 unrolls the taps.
template <int K, class T>
void vertical_direct(T* KOKKOS_RESTRICT o, const T* KOKKOS_RESTRICT c, const T* const* s, const T* w, int k_runtime,
                     std::int64_t nx) {
  constexpr bool fixed = K > 0;
  const int k = fixed ? K : k_runtime, r = k / 2;
  if constexpr (fixed) {
    T wk[K];
    const T* sk[K];
    for (int a = 0; a < K; ++a) wk[a] = w[a], sk[a] = s[a];
    for (std::int64_t x = 0; x < nx; ++x) {
      const T cx = c[x];
      T acc = 0;
      for (int a = 0; a < K; ++a)
        if (a != K / 2) acc += wk[a] * (sk[a][x] - cx);
      o[x] = cx + acc;
    }
  } else {
    std::copy(c, c + nx, o);
    for (int a = 0; a < k; ++a) {
      if (a == r) continue;
      const T wa = w[a];
      const T* KOKKOS_RESTRICT sa = s[a];
      for (std::int64_t x = 0; x < nx; ++x) o[x] += wa * (sa[x] - c[x]);
    }
  }
}

// The same along x, inside the interior band [lo, hi) of the x axis: o[x] = v[x] + sum over
// b != centre of w[b] * (v[x + r - b] - v[x]).
template <int K, class T>
inline void horizontal_cells(T* KOKKOS_RESTRICT o, const T* KOKKOS_RESTRICT v, const T* w, int k_runtime,
                             std::int64_t lo, std::int64_t hi) {
  const int k = K > 0 ? K : k_runtime, r = k / 2;  // a constant K unrolls the taps
  for (std::int64_t x = lo; x < hi; ++x) {
    const T vx = v[x];
    T acc = 0;
    for (int b = 0; b < k; ++b)
      if (b != r) acc += w[b] * (v[x + r - b] - vx);
    o[x] = vx + acc;
  }
}

// The band is walked as four strands, a quarter each, advanced together one cache line at a time:
// four concurrent read streams keep more of the memory system busy than one, as glibc's large
// memcpy does (a one-step sweep, which reads its input row here, measured 5-15% faster on this
// project's machine). Every cell is computed as before, so the results are the same bits.
template <int K, class T>
void horizontal_interior(T* KOKKOS_RESTRICT o, const T* KOKKOS_RESTRICT v, const T* w, int k_runtime, std::int64_t lo,
                         std::int64_t hi) {
  constexpr std::int64_t line = cells_per_line<T>, strands = 4;
  // The strands start on cache-line boundaries of `o` (the band starts one radius into the row):
  // a vector store that straddles two lines costs about twice one that does not.
  const std::int64_t head = std::min(hi - lo, cells_to_line(o + lo));
  horizontal_cells<K>(o, v, w, k_runtime, lo, lo + head);
  lo += head;
  const std::int64_t strand = (hi - lo) / strands / line * line;
  if (strand < 4 * line) return horizontal_cells<K>(o, v, w, k_runtime, lo, hi);
  for (std::int64_t j = 0; j < strand; j += line)
    for (std::int64_t p = 0; p < strands; ++p) {
      const std::int64_t x = lo + p * strand + j;
      horizontal_cells<K>(o, v, w, k_runtime, x, x + line);
    }
  horizontal_cells<K>(o, v, w, k_runtime, lo + strands * strand, hi);
}

// Not inlined: inside the block loop the compiler lost the restrict qualifiers and reloaded the
// output pointer from the stack at every vector store.
#if defined(__GNUC__)
#define PROPAGON_NOINLINE __attribute__((noinline))
#else
#define PROPAGON_NOINLINE
#endif

template <class T>
PROPAGON_NOINLINE void vertical_any(T* o, const T* c, const T* const* s, const T* w, int k, std::int64_t nx) {
  switch (k) {
    case 1: std::copy(c, c + nx, o); return;
    case 3: vertical_direct<3>(o, c, s, w, k, nx); return;
    case 5: vertical_direct<5>(o, c, s, w, k, nx); return;
    case 7: vertical_direct<7>(o, c, s, w, k, nx); return;
    default: vertical_direct<0>(o, c, s, w, k, nx);
  }
}

template <class T>
PROPAGON_NOINLINE void horizontal_any(T* o, const T* v, const T* w, int k, std::int64_t lo, std::int64_t hi) {
  switch (k) {
    case 1: std::copy(v + lo, v + hi, o + lo); return;
    case 3: horizontal_interior<3>(o, v, w, k, lo, hi); return;
    case 5: horizontal_interior<5>(o, v, w, k, lo, hi); return;
    case 7: horizontal_interior<7>(o, v, w, k, lo, hi); return;
    default: horizontal_interior<0>(o, v, w, k, lo, hi);
  }
}

#ifdef PROPAGON_AVX_ROW_STATS
// The vertical pass of a float32 row, eight cells per instruction, with the statistics taken from
// the registers (the same accumulator, and so the same bits, as field_stats()). With STREAM the
// row goes straight to memory with streaming stores (`o` 32-byte aligned): no copy through a
// buffer, which measured about 15% of a one-step sweep. Every level of every schedule uses this
// one function, so fused and single steps stay bit-identical.
template <int K, bool STREAM>
void vertical_avx(float* o, const float* c, const float* const* s, const float* w, std::int64_t nx, double* partials) {
  constexpr int r = K / 2;
  __m256 wk[K];
  float ws[K];
  const float* sk[K];
  for (int a = 0; a < K; ++a) wk[a] = _mm256_set1_ps(w[a]), ws[a] = w[a], sk[a] = s[a];
  detail::RowAccumulator acc;
  std::int64_t x = 0;
  for (; x + 8 <= nx; x += 8) {
    const __m256 cx = _mm256_loadu_ps(c + x);
    __m256 sum = _mm256_setzero_ps();
    for (int a = 0; a < K; ++a)
      if (a != r) sum = _mm256_fmadd_ps(wk[a], _mm256_sub_ps(_mm256_loadu_ps(sk[a] + x), cx), sum);
    const __m256 v = _mm256_add_ps(cx, sum);
    if constexpr (STREAM) _mm256_stream_ps(o + x, v);
    else _mm256_storeu_ps(o + x, v);
    if (partials) acc.add8(v, x);
  }
  const std::int64_t tail = x;
  for (; x < nx; ++x) {
    const float cx = c[x];
    float sum = 0;
    for (int a = 0; a < K; ++a)
      if (a != r) sum = std::fma(ws[a], sk[a][x] - cx, sum);
    o[x] = cx + sum;
  }
  if (partials) acc.finish(o, tail, nx, partials);
}

// Runs vertical_avx for a K it has, and says whether it did.
bool vertical_avx_any(int k, bool stream, float* o, const float* c, const float* const* s, const float* w,
                      std::int64_t nx, double* partials) {
  switch (k * 2 + (stream ? 1 : 0)) {
    case 6: vertical_avx<3, false>(o, c, s, w, nx, partials); return true;
    case 7: vertical_avx<3, true>(o, c, s, w, nx, partials); return true;
    case 10: vertical_avx<5, false>(o, c, s, w, nx, partials); return true;
    case 11: vertical_avx<5, true>(o, c, s, w, nx, partials); return true;
    case 14: vertical_avx<7, false>(o, c, s, w, nx, partials); return true;
    case 15: vertical_avx<7, true>(o, c, s, w, nx, partials); return true;
    default: return false;
  }
}
#endif

}  // namespace

template <class T>
bool SeparableStep<T>::usable(const Grid& grid, const Propagator& propagator) {
  using Space = typename FieldView<T>::memory_space;
  if constexpr (!Kokkos::SpaceAccessibility<Kokkos::HostSpace, Space>::accessible) {
    return false;
  } else {
    return grid.extent[0] == 1 && separable_factors(propagator).has_value();
  }
}

template <class T>
SeparableStep<T>::SeparableStep(const Grid& grid, const Propagator& propagator, Boundary boundary, int blocks,
                                bool fuse_small_fields)
    : grid_(grid), boundary_(boundary) {
  const SeparableFactors f = *separable_factors(propagator);
  auto make_axis = [&](const std::vector<double>& w, std::int64_t n) {
    Axis a;
    static_cast<AxisGather&>(a) = build_axis_gather(n, static_cast<int>(w.size()), boundary);
    a.radius = a.taps / 2;
    for (double v : w) a.weights.push_back(static_cast<T>(v));
    return a;
  };
  y_ = make_axis(f.py, grid.ny());
  x_ = make_axis(f.px, grid.nx());
  for (std::int64_t x = 0; x < grid.nx(); ++x)
    if (x < x_.interior_begin || x >= x_.interior_end) x_edges_.push_back(x);

  // Fusing steps needs every source row of a row within one radius of it (true for every boundary
  // while the kernel is narrower than the grid; a periodic grid is handled as an endless one), and
  // no absorbing walls: their loss is counted step by step.
  bool local = true;
  for (std::int64_t t = 0; t < grid.ny() && boundary != Boundary::periodic; ++t)
    for (int a = 0; a < y_.taps; ++a)
      for (std::int64_t i = y_.offsets[t * y_.taps + a]; i < y_.offsets[t * y_.taps + a + 1]; ++i)
        if (std::abs(y_.sources[i] - t) > y_.radius) local = false;
  large_field_ = static_cast<std::size_t>(grid.cells()) * sizeof(T) >= stream_threshold_bytes;
  if (boundary != Boundary::absorb && local && (large_field_ || fuse_small_fields)) {
    const std::size_t level_bytes = static_cast<std::size_t>(y_.taps) * grid.nx() * sizeof(T);
    max_fused_ = static_cast<int>(std::clamp<std::size_t>(ring_budget_bytes / std::max<std::size_t>(level_bytes, 1), 1,
                                                          most_fused_steps));
  }

  // A few blocks per thread balance the load; one thread takes the whole grid (no halo to redo).
  const int threads = Kokkos::DefaultHostExecutionSpace().concurrency();
  const std::int64_t ny = grid.ny();
  const std::int64_t nblocks = std::min<std::int64_t>(ny, blocks > 0 ? blocks : threads <= 1 ? 1 : 4 * threads);
  for (std::int64_t b = 0; b < nblocks; ++b) {
    Block blk;
    blk.begin = ny * b / nblocks;
    blk.end = ny * (b + 1) / nblocks;
    blk.ring = HostBuffer<T>(static_cast<std::size_t>(max_fused_) * y_.taps * grid.nx());
    blk.vertical = HostBuffer<T>(static_cast<std::size_t>(grid.nx()));
    blocks_.push_back(std::move(blk));
  }
}

template <class T>
void SeparableStep<T>::apply(const FieldView<T>& in, const FieldView<T>& out, int steps,
                             std::vector<FieldStats>* stats) const {
  const int S = std::clamp(steps, 1, max_fused_);
  const std::int64_t ny = grid_.ny(), nx = grid_.nx(), rows = grid_.rows();
  const bool periodic = boundary_ == Boundary::periodic;
  // Streaming stores pay off when the field would not stay in cache anyway; a small field is
  // better written normally and found in the cache by the next step (measured: 4 MiB no,
  // 16 MiB yes).
  const bool stream_output = large_field_;
  if (stats) partials_.resize(static_cast<std::size_t>(S) * rows * detail::row_terms);
  const T* input = in.data();
  T* output = out.data();
  const Axis& ya = y_;
  const Axis& xa = x_;
  const std::vector<std::int64_t>& x_edges = x_edges_;

  auto run_block = [&](const Block& blk) {
    const int ky = ya.taps, ry = ya.radius;
    const T* wy = ya.weights.data();
    const T* wx = xa.weights.data();
    // Level k = the field after k of the S steps; level 0 is `in`, level S is `out`. The horizontal
    // pass comes first: ring k holds the x-filtered rows of level k (ky of them, the ones the next
    // vertical pass needs), so every row is x-filtered once. Row indices of a periodic grid are
    // "virtual" (they run past the edges and wrap when read), so a block near an edge needs no
    // special case.
    std::array<std::int64_t, most_fused_steps + 1> lo{}, hi{}, next{};
    for (int k = 0; k <= S; ++k) {
      lo[k] = blk.begin - std::int64_t(S - k) * ry;
      hi[k] = blk.end + std::int64_t(S - k) * ry;
      if (!periodic) lo[k] = std::max<std::int64_t>(lo[k], 0), hi[k] = std::min(hi[k], ny);
      next[k] = lo[k];
    }
    auto ring_row = [&](int k, std::int64_t t) {
      return blk.ring.data() + (std::size_t(k) * ky + std::size_t(wrap(t, ky))) * nx;
    };
    // The horizontal pass (flux form) of one row; the columns next to a wall (or the wrap) go
    // through the x gather table.
    auto horizontal = [&](T* o, const T* v) {
      horizontal_any(o, v, wx, xa.taps, xa.interior_begin, xa.interior_end);
      for (const std::int64_t x : x_edges) {
        T acc = 0;
        for (int b = 0; b < xa.taps; ++b) {
          T gathered = 0;
          for (std::int64_t i = xa.offsets[x * xa.taps + b]; i < xa.offsets[x * xa.taps + b + 1]; ++i)
            gathered += v[xa.sources[i]];
          acc += wx[b] * (gathered - v[x]);
        }
        o[x] = v[x] + acc;
      }
    };
    const T* sources[32];
    // Row t of level k >= 1: the vertical pass over ring k - 1, then either the x filter into ring
    // k, or (last level) the store into `out`.
    auto compute = [&](int k, std::int64_t t) {
      T* v = blk.vertical.data();
      const T* c = ring_row(k - 1, t);
      // Where the last level streams to `out`: whole 64-byte lines only; the partial lines at
      // both ends get plain stores (mixing both kinds of store in one line would flush the
      // write-combining buffer early).
      T* dst = output + t * nx;
      const std::int64_t s_begin = std::min(nx, cells_to_line(dst));
      const std::int64_t s_end = std::max(s_begin, nx - (nx - s_begin) % cells_per_line<T>);
      bool stored = false;
      if (periodic || (t >= ya.interior_begin && t < ya.interior_end)) {
        if (ky <= 32) {
          for (int a = 0; a < ky; ++a) sources[a] = ring_row(k - 1, t + ry - a);
#ifdef PROPAGON_AVX_ROW_STATS
          if constexpr (std::is_same_v<T, float>) {
            double* part = stats && t >= blk.begin && t < blk.end
                               ? partials_.data() + (std::size_t(k - 1) * rows + t) * detail::row_terms
                               : nullptr;
            const bool last = k == S;
            const bool stream = last && stream_output && reinterpret_cast<std::uintptr_t>(dst) % 32 == 0;
            if (vertical_avx_any(ky, stream, last ? dst : v, c, sources, wy, nx, part)) {
              if (!last) horizontal(ring_row(k, t), v);
              return;
            }
          }
#endif
          if (k < S) {
            vertical_any(v, c, sources, wy, ky, nx);
          } else {
            // The last level in chunks that fit L1, each streamed out while it is there.
            const T* shifted[32];
            for (std::int64_t x0 = 0; x0 < nx;) {
              const std::int64_t x1 = x0 < s_begin ? s_begin : x0 < s_end ? std::min(s_end, x0 + stream_chunk) : nx;
              for (int a = 0; a < ky; ++a) shifted[a] = sources[a] + x0;
              vertical_any(v + x0, c + x0, shifted, wy, ky, x1 - x0);
              if (stream_output && x0 >= s_begin && x1 <= s_end) detail::stream_copy(dst + x0, v + x0, x1 - x0);
              else std::copy(v + x0, v + x1, dst + x0);
              x0 = x1;
            }
            stored = true;
          }
        } else {
          std::copy(c, c + nx, v);
          for (int a = 0; a < ky; ++a)
            if (a != ry)
              for (std::int64_t x = 0; x < nx; ++x) v[x] += wy[a] * (ring_row(k - 1, t + ry - a)[x] - c[x]);
        }
      } else {
        // A row next to a wall: through the gather table (several sources, or none when absorbed).
        std::copy(c, c + nx, v);
        for (int a = 0; a < ky; ++a) {
          const std::int64_t b = ya.offsets[t * ky + a], e = ya.offsets[t * ky + a + 1];
          for (std::int64_t x = 0; x < nx; ++x) {
            T gathered = 0;
            for (std::int64_t i = b; i < e; ++i) gathered += ring_row(k - 1, ya.sources[i])[x];
            v[x] += wy[a] * (gathered - c[x]);
          }
        }
      }
      if (stats && t >= blk.begin && t < blk.end)
        detail::row_partials(v, nx, partials_.data() + (std::size_t(k - 1) * rows + t) * detail::row_terms);
      if (k < S) {
        horizontal(ring_row(k, t), v);
      } else if (!stored) {
        std::copy(v, v + s_begin, dst);
        if (stream_output) detail::stream_copy(dst + s_begin, v + s_begin, s_end - s_begin);
        else std::copy(v + s_begin, v + s_end, dst + s_begin);
        std::copy(v + s_end, v + nx, dst + s_end);
      }
    };
    // A row of level k can be made once level k - 1 has every row within ry of it. The highest
    // level that can advance goes first: a level then never overwrites a ring row that the level
    // above still needs (its ring keeps the last ky rows).
    auto ready = [&](int k) { return next[k] < hi[k] && std::min(next[k] + ry, hi[k - 1] - 1) < next[k - 1]; };
    for (std::int64_t t = lo[0]; t < hi[0]; ++t) {
      horizontal(ring_row(0, t), input + wrap(t, ny) * nx);
      next[0] = t + 1;
      for (int k = S; k >= 1;) {
        if (ready(k)) {
          compute(k, next[k]++);
          k = S;
        } else {
          --k;
        }
      }
    }
    detail::stream_fence();
  };
  const std::int64_t nblocks = static_cast<std::int64_t>(blocks_.size());
  Kokkos::parallel_for("propagon::separable_step", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, nblocks),
                       [&](const std::int64_t b) { run_block(blocks_[b]); });
  Kokkos::DefaultHostExecutionSpace().fence();
  if (stats) {
    stats->clear();
    for (int k = 0; k < S; ++k)
      stats->push_back(detail::combine_row_partials(partials_.data() + std::size_t(k) * rows * detail::row_terms, grid_, 1.0));
  }
}

template class SeparableStep<float>;
template class SeparableStep<double>;

}  // namespace propagon
