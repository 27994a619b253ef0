#pragma once
// Small helpers shared by the tests: run the real solver on host vectors, and an independent
// scatter (push) reference built directly from the conventions, cell by cell.
#include <cstdint>
#include <random>
#include <vector>

#include "propagon/boundary.hpp"
#include "propagon/field.hpp"
#include "propagon/field_stats.hpp"
#include "propagon/kernel.hpp"
#include "propagon/stencil.hpp"

namespace propagon::testing {

inline Propagator from_weights(const std::vector<int>& shape, const std::vector<double>& w, int grid_rank) {
  return embed_in_rank(normalize_kernel(make_explicit(shape, w), Normalization::none), grid_rank);
}

template <class T>
std::vector<double> run_steps(const Grid& g, const Propagator& p, Boundary b, std::vector<double> u, int steps,
                              double* absorbed = nullptr) {
  DeterministicStep<T> step(g, p, b);
  Field<T> f = make_field<T>("c", u);
  FieldView<T> scratch("scratch", g.cells());
  for (int i = 0; i < steps; ++i) {
    if (absorbed) *absorbed += step.leaving_mass(f.values);
    step.apply(f.values, scratch);
    std::swap(f.values, scratch);
  }
  return to_host_vector<T>(f.values);
}

/// Push semantics written out literally: content at p moves to map(p + o - r) with weight P[o].
inline std::vector<double> scatter_reference(const Grid& g, const Propagator& p, Boundary b, const std::vector<double>& u) {
  std::vector<double> out(u.size(), 0.0);
  const auto r = p.radius();
  for (std::int64_t z = 0; z < g.nz(); ++z)
    for (std::int64_t y = 0; y < g.ny(); ++y)
      for (std::int64_t x = 0; x < g.nx(); ++x) {
        const double v = u[static_cast<std::size_t>((z * g.ny() + y) * g.nx() + x)];
        for (int c = 0; c < p.extent[0]; ++c)
          for (int a = 0; a < p.extent[1]; ++a)
            for (int bb = 0; bb < p.extent[2]; ++bb) {
              const auto tz = map_index(z + c - r[0], g.nz(), b), ty = map_index(y + a - r[1], g.ny(), b),
                         tx = map_index(x + bb - r[2], g.nx(), b);
              if (tz < 0 || ty < 0 || tx < 0) continue;
              out[static_cast<std::size_t>((tz * g.ny() + ty) * g.nx() + tx)] += p.at(c, a, bb) * v;
            }
      }
  return out;
}

/// n values uniform in [0, 1), reproducible from the seed.
inline std::vector<double> random_field(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(0, 1);
  std::vector<double> u(n);
  for (double& v : u) v = uni(rng);
  return u;
}

inline double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

}  // namespace propagon::testing
