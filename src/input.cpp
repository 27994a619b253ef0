#include "propagon/input.hpp"

#include <Random123/philox.h>
#include <fmt/format.h>

#include <cmath>

#include "hdf5.hpp"
#include "propagon/error.hpp"
#include "propagon/image.hpp"

namespace propagon {

namespace {

std::vector<double> synthetic_values(const Grid& g, const SyntheticInput& s) {
  std::vector<double> v(static_cast<std::size_t>(g.cells()), 0.0);
  // Pattern coordinates per axis, slowest first, padded to z, y, x.
  std::array<double, 3> at{0, 0, 0};
  for (std::size_t i = 0; i < s.at.size(); ++i) at[3 - s.at.size() + i] = s.at[i];
  const std::int64_t nz = g.nz(), ny = g.ny(), nx = g.nx();
  if (s.pattern == "point") {
    v[static_cast<std::size_t>((std::int64_t(at[0]) * ny + std::int64_t(at[1])) * nx + std::int64_t(at[2]))] = s.value;
    return v;
  }
  using Philox = r123::Philox4x32;
  const Philox philox;
  for (std::int64_t z = 0; z < nz; ++z)
    for (std::int64_t y = 0; y < ny; ++y)
      for (std::int64_t x = 0; x < nx; ++x) {
        const std::size_t i = static_cast<std::size_t>((z * ny + y) * nx + x);
        if (s.pattern == "uniform") {
          v[i] = s.value;
        } else if (s.pattern == "gaussian") {
          const double r2 = (z - at[0]) * (z - at[0]) + (y - at[1]) * (y - at[1]) + (x - at[2]) * (x - at[2]);
          v[i] = s.value * std::exp(-r2 / (2 * s.sigma * s.sigma));
        } else if (s.pattern == "checkerboard") {
          const std::int64_t parity = z / s.period + y / s.period + x / s.period;
          v[i] = parity % 2 == 0 ? s.value : 0.0;
        } else if (s.pattern == "random") {
          // Counter-based, keyed by the seed: the same pattern whatever the machine.
          const Philox::ctr_type ctr = {{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i >> 32), 0x70617474u, 0}};
          const Philox::key_type key = {{static_cast<std::uint32_t>(s.seed), static_cast<std::uint32_t>(s.seed >> 32)}};
          const auto r = philox(ctr, key);
          v[i] = s.value * (r[0] * (1.0 / 4294967296.0));
        } else if (s.pattern == "tanks") {
          v[i] = x < nx / 2 ? s.value : 0.0;  // a full tank beside an empty one
        }
      }
  return v;
}

}  // namespace

InitialState load_initial_state(const RunDescription& run) {
  const InputDescription& in = run.input;
  InitialState st;
  switch (in.kind) {
    case InputDescription::Kind::image: {
      ImageData img;
      try {
        img = load_image(in.image);
      } catch (const InputError& e) {
        throw InputError(fmt::format("input.image: {}", e.what()));
      }
      st.grid = Grid::from_shape({img.height, img.width});
      st.channels = img.channels;
      st.values = std::move(img.planes);
      st.description = fmt::format("{} ({} {}x{}, {}-bit, {}{})", in.image.filename().string(), img.format, img.width,
                                   img.height, img.bits_per_sample, img.channels.size() == 3 ? "RGB" : "gray",
                                   img.alpha_dropped ? ", alpha dropped" : "");
      break;
    }
    case InputDescription::Kind::synthetic: {
      st.grid = Grid::from_shape(in.synthetic.shape);
      st.channels = {"c"};
      st.values = {synthetic_values(st.grid, in.synthetic)};
      st.description = fmt::format("synthetic {} pattern", in.synthetic.pattern);
      break;
    }
    case InputDescription::Kind::hdf5: {
      try {
        h5::Handle file = h5::open_file_readonly(in.hdf5_file);
        for (const auto& name : in.hdf5_datasets) {
          h5::Handle ds = h5::open_dataset(file, name);
          if (st.channels.empty()) st.grid = Grid::from_shape(h5::dataset_shape(ds));
          const std::size_t slash = name.find_last_of('/');
          st.channels.push_back(slash == std::string::npos ? name : name.substr(slash + 1));
          st.values.push_back(h5::read_dataset_as_double(ds));
        }
      } catch (const RunError& e) {
        throw InputError(fmt::format("{}: {}", in.hdf5_file.string(), e.what()));
      }
      st.description = fmt::format("{} ({} dataset{})", in.hdf5_file.filename().string(), in.hdf5_datasets.size(),
                                   in.hdf5_datasets.size() == 1 ? "" : "s");
      break;
    }
  }
  for (std::size_t c = 0; c < st.values.size(); ++c)
    for (double& x : st.values[c]) {
      if (!std::isfinite(x))
        throw InputError(fmt::format("input channel '{}' ({}) contains NaN or infinite values", st.channels[c],
                                     in.kind == InputDescription::Kind::hdf5
                                         ? in.hdf5_file.string() + ":" + in.hdf5_datasets[c]
                                         : std::string("input")));
      x *= in.scale;
    }
  const int rank = st.grid.rank;
  for (int i = 0; i < rank; ++i) {
    st.grid.spacing[3 - rank + i] = in.spacing.at(static_cast<std::size_t>(i));
    st.grid.origin[3 - rank + i] = in.origin.at(static_cast<std::size_t>(i));
  }
  return st;
}

}  // namespace propagon
