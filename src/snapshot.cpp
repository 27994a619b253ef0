#include "propagon/snapshot.hpp"

#include <fmt/format.h>

#include <regex>
#include <sstream>

#include "hdf5.hpp"
#include "propagon/error.hpp"

namespace propagon {

std::string snapshot_layout::file_name(std::int64_t step) { return fmt::format("step_{:06d}.h5", step); }

std::optional<std::int64_t> snapshot_layout::step_of(const std::string& name) {
  static const std::regex pattern(R"(step_([0-9]{6,})\.h5)");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) return std::nullopt;
  return std::stoll(m[1].str());
}

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string p; std::getline(ss, p, ',');) out.push_back(p);
  return out;
}

void write_real(hid_t loc, const std::string& path, const void* data, bool f32, const std::vector<std::int64_t>& shape) {
  if (f32) h5::write_dataset(loc, path, static_cast<const float*>(data), shape);
  else h5::write_dataset(loc, path, static_cast<const double*>(data), shape);
}
}  // namespace

void write_snapshot(const std::filesystem::path& path, const SnapshotHeader& header, const Grid& grid,
                    const std::vector<SnapshotChannel>& channels, const Propagator& propagator,
                    const std::string& config_yaml) {
  namespace L = snapshot_layout;
  const std::filesystem::path tmp = path.string() + ".tmp";
  const bool f32 = header.precision == "float32";
  const auto shape = grid.shape();
  {
    h5::Handle file = h5::create_file(tmp);
    h5::write_attribute(file, "format", std::string(L::format_name));
    h5::write_attribute(file, "format_version", L::format_version);
    h5::write_attribute(file, "step", header.step);
    h5::write_attribute(file, "time", header.time);
    h5::write_attribute(file, "mode", header.mode);
    h5::write_attribute(file, "boundary", header.boundary);
    h5::write_attribute(file, "precision", header.precision);
    h5::write_attribute(file, "propagon_version", header.propagon_version);
    std::vector<std::string> names;
    for (const auto& c : channels) names.push_back(c.name);
    h5::write_attribute(file, "channels", join(names));
    const std::size_t first = static_cast<std::size_t>(3 - grid.rank);
    h5::write_attribute(file, "spacing", std::vector<double>(grid.spacing.begin() + first, grid.spacing.end()));
    h5::write_attribute(file, "origin", std::vector<double>(grid.origin.begin() + first, grid.origin.end()));
    if (header.stochastic) {
      h5::write_attribute(file, "seed", header.seed);
      h5::write_attribute(file, "replicate", header.replicate);
      h5::write_attribute(file, "replicates", header.replicates);
      h5::write_attribute(file, "particles_per_unit", header.particles_per_unit);
    }
    auto group = [&](const char* g) { h5::Handle h = h5::create_group(file, g); };
    auto groups_for = [&](const char* path) {
      // Intermediate groups ("/ensemble") are created once, before their children.
      const std::string p = path;
      const std::size_t slash = p.find('/', 1);
      if (slash != std::string::npos && !h5::exists(file, p.substr(0, slash))) group(p.substr(0, slash).c_str());
      group(path);
    };
    groups_for(L::fields_group);
    const bool has_counts = !channels.empty() && channels[0].counts;
    const bool has_ensemble = !channels.empty() && channels[0].mean;
    const bool has_replicates = !channels.empty() && channels[0].replicate_counts;
    if (has_counts) groups_for(L::counts_group);
    if (has_ensemble) groups_for(L::ensemble_mean_group), groups_for(L::ensemble_var_group);
    if (has_replicates) groups_for(L::replicate_counts_group);
    for (const auto& c : channels) {
      write_real(file, L::field_path(c.name), c.field, f32, shape);
      {
        h5::Handle ds = h5::open_dataset(file, L::field_path(c.name));
        h5::write_attribute(ds, L::absorbed_attribute, c.absorbed);
      }
      if (has_counts) {
        h5::write_dataset(file, L::counts_path(c.name), c.counts, shape);
        h5::Handle ds = h5::open_dataset(file, L::counts_path(c.name));
        h5::write_attribute(ds, L::absorbed_particles_attribute, c.absorbed_particles.at(0));
      }
      if (has_ensemble) {
        write_real(file, L::mean_path(c.name), c.mean, f32, shape);
        write_real(file, L::var_path(c.name), c.var, f32, shape);
      }
      if (has_replicates) {
        std::vector<std::int64_t> rshape{header.replicates};
        rshape.insert(rshape.end(), shape.begin(), shape.end());
        h5::write_dataset(file, L::replicate_counts_path(c.name), c.replicate_counts, rshape, true);
        h5::Handle ds = h5::open_dataset(file, L::replicate_counts_path(c.name));
        std::vector<double> absorbed(c.absorbed_particles.begin(), c.absorbed_particles.end());
        h5::write_attribute(ds, L::absorbed_particles_attribute, absorbed);
      }
    }
    std::vector<std::int64_t> pshape;
    for (int a = 3 - propagator.rank; a < 3; ++a) pshape.push_back(propagator.extent[static_cast<std::size_t>(a)]);
    h5::write_dataset(file, L::propagator_dataset, propagator.weights.data(), pshape);
    {
      h5::Handle p = h5::open_dataset(file, L::propagator_dataset);
      h5::write_attribute(p, "preset", propagator.preset);
      h5::write_attribute(p, "normalize", std::string(normalization_name(propagator.normalize)));
      h5::write_attribute(p, "temperature", propagator.temperature);
      h5::write_attribute(p, "sigma", propagator.sigma);
    }
    h5::write_string_dataset(file, L::config_dataset, config_yaml);
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) throw RunError(fmt::format("cannot flush {}", tmp.string()));
  }  // the file is closed here, before it gets its final name
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw RunError(fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), ec.message()));
}

namespace {
template <class F>
auto guarded(const std::filesystem::path& path, F&& f) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(fmt::format("{}: no such snapshot file", path.string()));
  try {
    h5::Handle file = h5::open_file_readonly(path);
    if (!h5::has_attribute(file, "format") || h5::read_string_attribute(file, "format") != snapshot_layout::format_name)
      throw InputError(fmt::format("{}: not a propagon snapshot (no format = \"{}\" attribute)", path.string(),
                                   snapshot_layout::format_name));
    return f(file);
  } catch (const RunError& e) {
    throw InputError(fmt::format("{}: {}", path.string(), e.what()));
  }
}
SnapshotHeader header_of(const h5::Handle& file) {
  SnapshotHeader h;
  h.step = h5::read_int_attribute(file, "step");
  h.time = h5::read_double_attribute(file, "time");
  h.mode = h5::read_string_attribute(file, "mode");
  h.boundary = h5::read_string_attribute(file, "boundary");
  h.precision = h5::read_string_attribute(file, "precision");
  h.propagon_version = h5::read_string_attribute(file, "propagon_version");
  h.stochastic = h5::has_attribute(file, "seed");
  if (h.stochastic) {
    h.seed = h5::read_uint_attribute(file, "seed");
    h.replicate = h5::read_int_attribute(file, "replicate");
    h.replicates = h5::read_int_attribute(file, "replicates");
    h.particles_per_unit = h5::read_double_attribute(file, "particles_per_unit");
  }
  return h;
}
}  // namespace

SnapshotHeader read_snapshot_header(const std::filesystem::path& path) {
  return guarded(path, [&](const h5::Handle& file) { return header_of(file); });
}

SnapshotData read_snapshot(const std::filesystem::path& path) {
  namespace L = snapshot_layout;
  return guarded(path, [&](const h5::Handle& file) {
    SnapshotData s;
    s.format = h5::read_string_attribute(file, "format");
    s.format_version = h5::read_int_attribute(file, "format_version");
    s.header = header_of(file);
    s.spacing = h5::read_double_array_attribute(file, "spacing");
    s.origin = h5::read_double_array_attribute(file, "origin");
    s.channels = split(h5::read_string_attribute(file, "channels"));
    for (const auto& c : s.channels) {
      h5::Handle ds = h5::open_dataset(file, L::field_path(c));
      s.shape = h5::dataset_shape(ds);
      s.field_types.push_back(h5::dataset_type_name(ds));
      s.values.push_back(h5::read_dataset_as_double(ds));
      s.absorbed.push_back(h5::has_attribute(ds, L::absorbed_attribute) ? h5::read_double_attribute(ds, L::absorbed_attribute) : 0.0);
      if (h5::exists(file, L::mean_path(c))) {
        s.ensemble_mean.push_back(h5::read_dataset_as_double(h5::open_dataset(file, L::mean_path(c))));
        s.ensemble_var.push_back(h5::read_dataset_as_double(h5::open_dataset(file, L::var_path(c))));
      }
    }
    {
      h5::Handle p = h5::open_dataset(file, L::propagator_dataset);
      s.propagator_shape = h5::dataset_shape(p);
      s.propagator = h5::read_dataset_as_double(p);
      s.preset = h5::read_string_attribute(p, "preset");
      s.normalize = h5::read_string_attribute(p, "normalize");
      s.temperature = h5::read_double_attribute(p, "temperature");
      s.sigma = h5::has_attribute(p, "sigma") ? h5::read_double_attribute(p, "sigma") : 0.0;
    }
    s.config_yaml = h5::read_string_dataset(file, L::config_dataset);
    return s;
  });
}

RestartState read_restart_state(const std::filesystem::path& path, const std::vector<std::string>& channels,
                                bool stochastic, std::int64_t replicates) {
  namespace L = snapshot_layout;
  return guarded(path, [&](const h5::Handle& file) {
    RestartState r;
    r.step = h5::read_int_attribute(file, "step");
    const bool f32 = h5::read_string_attribute(file, "precision") == "float32";
    for (const auto& c : channels) {
      if (!h5::exists(file, L::field_path(c)))
        throw InputError(fmt::format("{}: has no channel '{}'", path.string(), c));
      h5::Handle ds = h5::open_dataset(file, L::field_path(c));
      r.absorbed.push_back(h5::has_attribute(ds, L::absorbed_attribute) ? h5::read_double_attribute(ds, L::absorbed_attribute) : 0.0);
      if (!stochastic) {
        if (f32) r.fields_f32.push_back(h5::read_dataset_as_float(ds));
        else r.fields_f64.push_back(h5::read_dataset_as_double(ds));
        continue;
      }
      if (replicates == 1) {
        if (!h5::exists(file, L::counts_path(c))) throw InputError(fmt::format("{}: has no particle counts", path.string()));
        h5::Handle cs = h5::open_dataset(file, L::counts_path(c));
        r.counts.push_back(h5::read_dataset_as_uint64(cs));
        r.absorbed_particles.push_back({h5::read_uint_attribute(cs, L::absorbed_particles_attribute)});
      } else {
        if (!h5::exists(file, L::replicate_counts_path(c)))
          throw InputError(fmt::format("{}: has no per-replicate counts", path.string()));
        h5::Handle cs = h5::open_dataset(file, L::replicate_counts_path(c));
        r.counts.push_back(h5::read_dataset_as_uint64(cs));
        std::vector<std::uint64_t> a;
        for (double v : h5::read_double_array_attribute(cs, L::absorbed_particles_attribute)) a.push_back(std::uint64_t(v));
        r.absorbed_particles.push_back(a);
      }
    }
    return r;
  });
}

}  // namespace propagon
