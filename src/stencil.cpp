#include "propagon/stencil.hpp"

#include <algorithm>

namespace propagon {

AxisGather build_axis_gather(std::int64_t n, int taps, Boundary boundary) {
  AxisGather g;
  g.n = n;
  g.taps = taps;
  const int r = taps / 2;
  // Bucket every (source, tap) push by its target: a counting pass, then a fill pass.
  std::vector<std::int64_t> count(static_cast<std::size_t>(n * taps) + 1, 0);
  for (std::int64_t s = 0; s < n; ++s)
    for (int j = 0; j < taps; ++j) {
      const std::int64_t t = map_index(s + j - r, n, boundary);
      if (t >= 0) ++count[t * taps + j + 1];
    }
  for (std::size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
  g.offsets = count;
  g.sources.resize(static_cast<std::size_t>(g.offsets.back()));
  std::vector<std::int64_t> cursor(g.offsets.begin(), g.offsets.end() - 1);
  for (std::int64_t s = 0; s < n; ++s)
    for (int j = 0; j < taps; ++j) {
      const std::int64_t t = map_index(s + j - r, n, boundary);
      if (t >= 0) g.sources[cursor[t * taps + j]++] = s;
    }
  // Interior band: every tap has exactly its direct source. Found by checking, not assumed.
  auto direct = [&](std::int64_t t) {
    for (int j = 0; j < taps; ++j) {
      const std::int64_t s = t - (j - r);
      if (g.end(t, j) - g.begin(t, j) != 1 || g.sources[g.begin(t, j)] != s) return false;
    }
    return true;
  };
  std::int64_t lo = std::min<std::int64_t>(r, n), hi = std::max<std::int64_t>(n - r, lo);
  for (std::int64_t t = lo; t < hi; ++t)
    if (!direct(t)) {
      lo = hi = 0;  // cannot happen for the boundaries we have; fall back to the table everywhere
      break;
    }
  g.interior_begin = lo;
  g.interior_end = hi;
  return g;
}

template <class T>
DeviceAxisGather DeterministicStep<T>::upload(const AxisGather& g, const char* label) {
  DeviceAxisGather d;
  d.offsets = Kokkos::View<std::int64_t*>(std::string(label) + "_offsets", g.offsets.size());
  d.sources = Kokkos::View<std::int64_t*>(std::string(label) + "_sources", std::max<std::size_t>(g.sources.size(), 1));
  auto ho = Kokkos::create_mirror_view(d.offsets);
  auto hs = Kokkos::create_mirror_view(d.sources);
  std::copy(g.offsets.begin(), g.offsets.end(), ho.data());
  std::copy(g.sources.begin(), g.sources.end(), hs.data());
  Kokkos::deep_copy(d.offsets, ho);
  Kokkos::deep_copy(d.sources, hs);
  d.interior_begin = g.interior_begin;
  d.interior_end = g.interior_end;
  return d;
}

template <class T>
DeterministicStep<T>::DeterministicStep(const Grid& grid, const Propagator& propagator, Boundary boundary)
    : grid_(grid), boundary_(boundary), extent_(propagator.extent), flux_form_(propagator.is_probability()) {
  weights_ = Kokkos::View<T*>("propagator_weights", propagator.weights.size());
  auto hw = Kokkos::create_mirror_view(weights_);
  for (std::size_t i = 0; i < propagator.weights.size(); ++i) hw(i) = static_cast<T>(propagator.weights[i]);
  Kokkos::deep_copy(weights_, hw);
  const AxisGather gx = build_axis_gather(grid.nx(), extent_[2], boundary);
  z_ = upload(build_axis_gather(grid.nz(), extent_[0], boundary), "gather_z");
  y_ = upload(build_axis_gather(grid.ny(), extent_[1], boundary), "gather_y");
  x_ = upload(gx, "gather_x");
  std::vector<std::int64_t> edges;
  for (std::int64_t x = 0; x < grid.nx(); ++x)
    if (x < gx.interior_begin || x >= gx.interior_end) edges.push_back(x);
  edge_columns_ = Kokkos::View<std::int64_t*>("edge_columns", std::max<std::size_t>(edges.size(), 1));
  auto he = Kokkos::create_mirror_view(edge_columns_);
  std::copy(edges.begin(), edges.end(), he.data());
  Kokkos::deep_copy(edge_columns_, he);
  n_edge_columns_ = static_cast<std::int64_t>(edges.size());
}

namespace {

// Adds to one output row o the push of one source row s through one kernel row w (kx taps).
// Flux form (SUBTRACT): each tap adds w_b * (s[x + rx - b] - u[x]) instead of w_b * s[...]. With
// o initialised to u this is the same update when the weights sum to 1, but the mass it moves in
// and out of cells balances exactly whatever the rounding of the weights, so float32 runs do not
// drift by (sum of rounded weights - 1) per step. KX > 0 fixes the tap count at compile time so the
// tap loop unrolls and the x loop vectorises; KX == 0 is the general path.
template <int KX, bool SUBTRACT, class T, class Member>
KOKKOS_INLINE_FUNCTION void push_interior(const Member& team, T* KOKKOS_RESTRICT o, const T* KOKKOS_RESTRICT s,
                                          const T* KOKKOS_RESTRICT u, const T* wrow, int kx_runtime,
                                          std::int64_t xlo, std::int64_t xhi) {
  if constexpr (KX > 0) {
    constexpr int rx = KX / 2;
    T w[KX];
    for (int b = 0; b < KX; ++b) w[b] = wrow[b];
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, xlo, xhi), [&](const std::int64_t x) {
      T acc = 0;
      if constexpr (SUBTRACT) {
        const T ux = u[x];
        for (int b = 0; b < KX; ++b) acc += w[b] * (s[x + rx - b] - ux);
      } else {
        for (int b = 0; b < KX; ++b) acc += w[b] * s[x + rx - b];
      }
      o[x] += acc;
    });
  } else {
    const int kx = kx_runtime, rx = kx / 2;
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, xlo, xhi), [&](const std::int64_t x) {
      T acc = 0;
      const T ux = SUBTRACT ? u[x] : T(0);
      for (int b = 0; b < kx; ++b) acc += wrow[b] * (s[x + rx - b] - ux);
      o[x] += acc;
    });
  }
}

// The same for the columns outside the interior band, through the x gather table (a tap may have
// several sources near a reflecting wall, or none at an absorbing one).
template <bool SUBTRACT, class T, class Member, class Table>
KOKKOS_INLINE_FUNCTION void push_edges(const Member& team, T* o, const T* s, const T* u, const T* wrow, int kx,
                                       const Table& offsets, const Table& sources, const Table& edge_columns,
                                       std::int64_t n_edges) {
  Kokkos::parallel_for(Kokkos::TeamVectorRange(team, std::int64_t(0), n_edges), [&](const std::int64_t e) {
    const std::int64_t x = edge_columns(e);
    const T ux = SUBTRACT ? u[x] : T(0);
    T acc = 0;
    for (int b = 0; b < kx; ++b) {
      T gathered = 0;
      for (std::int64_t i = offsets(x * kx + b); i < offsets(x * kx + b + 1); ++i) gathered += s[sources(i)];
      acc += wrow[b] * (gathered - ux);
    }
    o[x] += acc;
  });
}

// Interior rows (every kernel row has exactly its direct source row): one fused pass over x with
// all NP source rows and KX taps unrolled, so each output cell is written once and the x loop
// vectorises. This is the hot loop of every deterministic run.
template <int NP, int KX, class T, class Member>
KOKKOS_INLINE_FUNCTION void fused_interior_row(const Member& team, T* KOKKOS_RESTRICT o, const T* const* rows,
                                               const T* KOKKOS_RESTRICT u, const T* wall, bool flux,
                                               std::int64_t xlo, std::int64_t xhi) {
  constexpr int rx = KX / 2;
  T w[NP * KX];
  for (int i = 0; i < NP * KX; ++i) w[i] = wall[i];
  const T* r[NP];
  for (int p = 0; p < NP; ++p) r[p] = rows[p];
  if (flux) {
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, xlo, xhi), [&](const std::int64_t x) {
      const T ux = u[x];
      T acc = 0;
      for (int p = 0; p < NP; ++p)
        for (int b = 0; b < KX; ++b) acc += w[p * KX + b] * (r[p][x + rx - b] - ux);
      o[x] = ux + acc;
    });
  } else {
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, xlo, xhi), [&](const std::int64_t x) {
      T acc = 0;
      for (int p = 0; p < NP; ++p)
        for (int b = 0; b < KX; ++b) acc += w[p * KX + b] * r[p][x + rx - b];
      o[x] = acc;
    });
  }
}

// One team per grid row: out's row from the in rows the kernel reaches. NP = kz * ky source rows
// and KX taps fixed at compile time for the common small kernels; NP == 0 means no fused path
// (every row goes through the per-source-row passes). Larger fused kernels (5x5, 7x7) were measured
// slower than the per-row passes: they run out of registers. KX == 0 is the fully general path (x
// extent known only at run time). A functor rather than a lambda, because CUDA's extended lambdas
// may be defined neither inside the generic dispatch of apply() nor capture in `if constexpr`.
template <class T, int NP, int KX>
struct StepRows {
  using Member = Kokkos::TeamPolicy<>::member_type;
  Kokkos::View<T*> in, out, w;
  DeviceAxisGather zg, yg, xg;
  Kokkos::View<std::int64_t*> edges;
  std::int64_t n_edges = 0, ny = 1, nx = 1;
  int kz = 1, ky = 1, kx = 1, rz = 0, ry = 0;
  std::int64_t xlo = 0, xhi = 0, ylo = 0, yhi = 0, zlo = 0, zhi = 0;
  bool flux = true;

  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const std::int64_t row = team.league_rank();
    const std::int64_t z = row / ny, y = row - (row / ny) * ny;
    T* o = out.data() + row * nx;
    const T* u = in.data() + row * nx;
    if constexpr (NP > 0) {
      if (z >= zlo && z < zhi && y >= ylo && y < yhi) {
        const T* rows[NP];
        for (int p = 0; p < NP; ++p) {
          const int c = p / ky, a = p - (p / ky) * ky;
          rows[p] = in.data() + ((z + rz - c) * ny + (y + ry - a)) * nx;
        }
        fused_interior_row<NP, KX>(team, o, rows, u, w.data(), flux, xlo, xhi);
        Kokkos::parallel_for(Kokkos::TeamVectorRange(team, std::int64_t(0), n_edges),
                             [&](const std::int64_t e) { o[edges(e)] = flux ? u[edges(e)] : T(0); });
        for (int c = 0; c < kz; ++c)
          for (int a = 0; a < ky; ++a) {
            const T* wrow = w.data() + (c * ky + a) * kx;
            if (flux) push_edges<true>(team, o, rows[c * ky + a], u, wrow, kx, xg.offsets, xg.sources, edges, n_edges);
            else push_edges<false>(team, o, rows[c * ky + a], u, wrow, kx, xg.offsets, xg.sources, edges, n_edges);
          }
        return;
      }
    }
    // General path (rows near a wall, larger kernels): one pass per source row.
    constexpr int KXG = KX;
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, nx), [&](const std::int64_t x) { o[x] = flux ? u[x] : T(0); });
    for (int c = 0; c < kz; ++c)
      for (int a = 0; a < ky; ++a) {
        const T* wrow = w.data() + (c * ky + a) * kx;
        // In flux form the outflow -w*u is counted once per kernel offset: with the first
        // source row of this kernel row, or alone when there is none (absorbed).
        bool first = true;
        for (std::int64_t iz = zg.offsets(z * kz + c); iz < zg.offsets(z * kz + c + 1); ++iz)
          for (std::int64_t iy = yg.offsets(y * ky + a); iy < yg.offsets(y * ky + a + 1); ++iy) {
            const T* s = in.data() + (zg.sources(iz) * ny + yg.sources(iy)) * nx;
            if (flux && first) {
              push_interior<KXG, true>(team, o, s, u, wrow, kx, xlo, xhi);
              push_edges<true>(team, o, s, u, wrow, kx, xg.offsets, xg.sources, edges, n_edges);
            } else {
              push_interior<KXG, false>(team, o, s, u, wrow, kx, xlo, xhi);
              push_edges<false>(team, o, s, u, wrow, kx, xg.offsets, xg.sources, edges, n_edges);
            }
            first = false;
          }
        if (flux && first) {
          Kokkos::parallel_for(Kokkos::TeamVectorRange(team, nx), [&](const std::int64_t x) {
            T acc = 0;
            for (int b = 0; b < kx; ++b) acc -= wrow[b] * u[x];
            o[x] += acc;
          });
        }
      }
  }
};

}  // namespace

template <class T>
void DeterministicStep<T>::apply(const FieldView<T>& in, const FieldView<T>& out) const {
  auto launch = [&](auto np_tag, auto kx_tag) {
    StepRows<T, decltype(np_tag)::value, decltype(kx_tag)::value> rows;
    rows.in = in;
    rows.out = out;
    rows.w = weights_;
    rows.zg = z_, rows.yg = y_, rows.xg = x_;
    rows.edges = edge_columns_;
    rows.n_edges = n_edge_columns_;
    rows.ny = grid_.ny(), rows.nx = grid_.nx();
    rows.kz = extent_[0], rows.ky = extent_[1], rows.kx = extent_[2];
    rows.rz = rows.kz / 2, rows.ry = rows.ky / 2;
    rows.xlo = x_.interior_begin, rows.xhi = x_.interior_end;
    rows.ylo = y_.interior_begin, rows.yhi = y_.interior_end;
    rows.zlo = z_.interior_begin, rows.zhi = z_.interior_end;
    rows.flux = flux_form_;
    Kokkos::parallel_for("propagon::deterministic_step", Kokkos::TeamPolicy<>(grid_.rows(), Kokkos::AUTO), rows);
  };
  const int kz = extent_[0], ky = extent_[1], kx = extent_[2];
  using std::integral_constant;
  const int np = kz * ky;
  if (np == 1 && kx == 3) launch(integral_constant<int, 1>{}, integral_constant<int, 3>{});
  else if (np == 1 && kx == 5) launch(integral_constant<int, 1>{}, integral_constant<int, 5>{});
  else if (np == 1 && kx == 7) launch(integral_constant<int, 1>{}, integral_constant<int, 7>{});
  else if (np == 3 && kx == 3) launch(integral_constant<int, 3>{}, integral_constant<int, 3>{});
  else if (np == 9 && kx == 3) launch(integral_constant<int, 9>{}, integral_constant<int, 3>{});
  else if (kx == 3) launch(integral_constant<int, 0>{}, integral_constant<int, 3>{});
  else if (kx == 5) launch(integral_constant<int, 0>{}, integral_constant<int, 5>{});
  else if (kx == 7) launch(integral_constant<int, 0>{}, integral_constant<int, 7>{});
  else launch(integral_constant<int, 0>{}, integral_constant<int, 0>{});
}

template <class T>
double DeterministicStep<T>::leaving_mass(const FieldView<T>& in) const {
  if (boundary_ != Boundary::absorb) return 0.0;
  const auto w = weights_;
  const std::int64_t nz = grid_.nz(), ny = grid_.ny(), nx = grid_.nx();
  const int kz = extent_[0], ky = extent_[1], kx = extent_[2];
  const int rz = kz / 2, ry = ky / 2, rx = kx / 2;
  // Per-row partial sums, added on the host in row order: the total does not depend on threads.
  // The buffer is made once, not at every step.
  if (leaving_per_row_.extent(0) != static_cast<std::size_t>(grid_.rows()))
    leaving_per_row_ = Kokkos::View<double*>("leaving_per_row", grid_.rows());
  const auto per_row = leaving_per_row_;
  Kokkos::parallel_for(
      "propagon::leaving_mass", Kokkos::RangePolicy<>(0, grid_.rows()), KOKKOS_LAMBDA(const std::int64_t row) {
        const std::int64_t z = row / ny, y = row - (row / ny) * ny;
        bool row_inside = true;
        for (int c = 0; c < kz; ++c)
          for (int a = 0; a < ky; ++a) {
            const std::int64_t tz = z + c - rz, ty = y + a - ry;
            if (tz < 0 || tz >= nz || ty < 0 || ty >= ny) row_inside = false;
          }
        const T* s = in.data() + row * nx;
        double total = 0.0;
        for (std::int64_t x = 0; x < nx; ++x) {
          if (row_inside && x >= rx && x < nx - rx) {
            x = nx - rx - 1;  // interior columns of an interior row lose nothing
            continue;
          }
          double leaving = 0.0;
          for (int c = 0; c < kz; ++c)
            for (int a = 0; a < ky; ++a) {
              const std::int64_t tz = z + c - rz, ty = y + a - ry;
              const bool ca_inside = tz >= 0 && tz < nz && ty >= 0 && ty < ny;
              for (int b = 0; b < kx; ++b) {
                const std::int64_t tx = x + b - rx;
                if (!(ca_inside && tx >= 0 && tx < nx)) leaving += w((c * ky + a) * kx + b);
              }
            }
          total += leaving * s[x];
        }
        per_row(row) = total;
      });
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), per_row);
  double sum = 0.0;
  for (std::size_t i = 0; i < host.extent(0); ++i) sum += host(i);
  return sum;
}

template class DeterministicStep<float>;
template class DeterministicStep<double>;

}  // namespace propagon
