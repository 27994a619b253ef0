#include "propagon/stochastic.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace propagon {

namespace {
template <class T>
Kokkos::View<T*> upload(const std::vector<T>& v, const char* label) {
  Kokkos::View<T*> d(std::string(label), std::max<std::size_t>(v.size(), 1));
  auto h = Kokkos::create_mirror_view(d);
  std::copy(v.begin(), v.end(), h.data());
  Kokkos::deep_copy(d, h);
  return d;
}

Kokkos::View<std::int64_t*> axis_targets(std::int64_t n, int taps, Boundary b, const char* label) {
  std::vector<std::int64_t> t(static_cast<std::size_t>(n * taps));
  for (std::int64_t s = 0; s < n; ++s)
    for (int j = 0; j < taps; ++j) t[static_cast<std::size_t>(s * taps + j)] = map_index(s + j - taps / 2, n, b);
  return upload(t, label);
}
}  // namespace

CellScatter make_cell_scatter(const Grid& grid, const Propagator& p, Boundary boundary, StochasticKind kind,
                              std::uint64_t seed, Count largest_count) {
  if (!p.is_probability())
    throw std::invalid_argument("the stochastic modes need a propagator that is a probability distribution "
                                "(normalize: softmax or sum), not a raw filter");
  CellScatter r;
  r.kind = kind;
  r.seed = seed;
  r.ny = grid.ny();
  r.nx = grid.nx();
  r.kz = p.extent[0];
  r.ky = p.extent[1];
  r.kx = p.extent[2];
  std::vector<int> used;
  for (std::size_t i = 0; i < p.weights.size(); ++i)
    if (p.weights[i] > 0) used.push_back(static_cast<int>(i));
  // The most probable offset takes the remainder: the binomials before it then have small p,
  // where sampling is cheapest, and it needs no draw at all.
  const auto top = std::max_element(used.begin(), used.end(), [&](int a, int b) { return p.weights[a] < p.weights[b]; });
  std::rotate(top, top + 1, used.end());
  std::vector<BinomialP> conditional(used.size());
  std::vector<double> cumulative(used.size());
  double tail = 0.0;
  for (std::size_t j = used.size(); j-- > 0;) {
    tail += p.weights[used[j]];
    conditional[j] = BinomialP::of(std::min(1.0, p.weights[used[j]] / tail));
  }
  double run = 0.0;
  for (std::size_t j = 0; j < used.size(); ++j) cumulative[j] = (run += p.weights[used[j]]);
  r.n_offsets = static_cast<int>(used.size());
  r.offset_index = upload(used, "offset_index");
  std::vector<int> oc, oa, ob;
  for (int o : used) oc.push_back(o / (r.ky * r.kx)), oa.push_back((o / r.kx) % r.ky), ob.push_back(o % r.kx);
  r.offset_c = upload(oc, "offset_c");
  r.offset_a = upload(oa, "offset_a");
  r.offset_b = upload(ob, "offset_b");
  r.conditional = upload(conditional, "conditional");
  const auto factors = p.extent[0] == 1 ? separable_factors(p) : std::nullopt;
  if (kind == StochasticKind::multinomial && used.size() > 1) {
    std::vector<double> ps;
    if (factors) {
      r.separable = true;
      std::vector<BinomialP> sc;
      std::vector<int> table;
      for (const auto* f : {&factors->px, &factors->py}) {
        double rest = 0;
        for (double w : *f) rest += w;
        for (std::size_t i = 0; i + 1 < f->size(); ++i) {
          const double c = rest > 0 ? std::min(1.0, (*f)[i] / rest) : 0.0;
          sc.push_back(BinomialP::of(c));
          const auto same = std::find(ps.begin(), ps.end(), c);
          table.push_back(static_cast<int>(same - ps.begin()));
          if (same == ps.end()) ps.push_back(c);
          rest -= (*f)[i];
        }
      }
      r.separable_conditional = upload(sc, "separable_conditional");
      r.separable_table = upload(table, "separable_table");
    } else {
      for (std::size_t j = 0; j + 1 < conditional.size(); ++j) ps.push_back(conditional[j].p);
    }
    // Diffusion does not raise the largest count, but fluctuations can exceed it a little.
    const double margin = largest_count > 0 ? double(largest_count) + 4 * std::sqrt(double(largest_count)) + 16 : 511;
    r.tables = make_binomial_tables(ps, static_cast<std::int64_t>(std::min(margin, 511.0)));
  }
  r.cumulative = upload(cumulative, "cumulative");
  r.tz = axis_targets(grid.nz(), r.kz, boundary, "targets_z");
  r.ty = axis_targets(grid.ny(), r.ky, boundary, "targets_y");
  r.tx = axis_targets(grid.nx(), r.kx, boundary, "targets_x");
  return r;
}

void stochastic_step(const CellScatter& rule, const Grid& grid, const CountView& in, const CountView& out,
                     std::int64_t replicates, std::uint64_t step, const Kokkos::View<Count*>& absorbed) {
  const std::int64_t cells = grid.cells();
  Kokkos::deep_copy(out, Count(0));
  const CellScatter r = rule;
  const std::int64_t rows = grid.rows(), ny = grid.ny(), nx = grid.nx();
  const bool pairs = r.kind == StochasticKind::multinomial && r.separable;
  // One team per (replicate, row), the cells of the row spread over its threads: the coordinates
  // come from the loop, not from divisions per cell.
  using Policy = Kokkos::TeamPolicy<>;
  Kokkos::parallel_for(
      "propagon::stochastic_step", Policy(rows * replicates, Kokkos::AUTO), KOKKOS_LAMBDA(const Policy::member_type& team) {
        const std::int64_t league = team.league_rank();
        const std::int64_t rep = league / rows, row = league - rep * rows;
        const std::int64_t z = row / ny, y = row - z * ny;
        Count* dest = out.data() + rep * cells;
        const Count* src = in.data() + rep * cells + row * nx;
        if (pairs) {
          // Two neighbours at a time (see CellScatter::separable_pair), an odd last cell alone.
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, (nx + 1) / 2), [&](const std::int64_t p) {
            const std::int64_t x = 2 * p;
            auto sink = [&](std::int64_t target, Count k) {
              if (target < 0) Kokkos::atomic_add(&absorbed(rep), k);
              else Kokkos::atomic_add(dest + target, k);
            };
            if (x + 1 < nx) r.separable_pair(static_cast<std::uint64_t>(rep), step, row * nx + x, y, x, src[x], src[x + 1], sink);
            else r(static_cast<std::uint64_t>(rep), step, row * nx + x, z, y, x, src[x], sink);
          });
        } else {
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nx), [&](const std::int64_t x) {
            r(static_cast<std::uint64_t>(rep), step, row * nx + x, z, y, x, src[x], [&](std::int64_t target, Count k) {
              if (target < 0) Kokkos::atomic_add(&absorbed(rep), k);
              else Kokkos::atomic_add(dest + target, k);
            });
          });
        }
      });
}

}  // namespace propagon
