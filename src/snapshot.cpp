#include "propagon/snapshot.hpp"

#include <fmt/format.h>

#include <sstream>

#include "hdf5.hpp"
#include "propagon/error.hpp"

namespace propagon {

std::string snapshot_layout::file_name(std::int64_t step) { return fmt::format("step_{:06d}.h5", step); }

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
}  // namespace

template <class T>
void write_snapshot(const std::filesystem::path& path, const SnapshotHeader& header, const Grid& grid,
                    const std::vector<std::string>& channel_names, const std::vector<const T*>& channels,
                    const Propagator& propagator, const std::string& config_yaml) {
  namespace L = snapshot_layout;
  const std::filesystem::path tmp = path.string() + ".tmp";
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
    h5::write_attribute(file, "channels", join(channel_names));
    const std::size_t first = static_cast<std::size_t>(3 - grid.rank);
    h5::write_attribute(file, "spacing", std::vector<double>(grid.spacing.begin() + first, grid.spacing.end()));
    h5::write_attribute(file, "origin", std::vector<double>(grid.origin.begin() + first, grid.origin.end()));
    {
      h5::Handle fields = h5::create_group(file, L::fields_group);
      for (std::size_t c = 0; c < channels.size(); ++c) h5::write_dataset(fields, channel_names[c], channels[c], grid.shape());
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

template void write_snapshot<float>(const std::filesystem::path&, const SnapshotHeader&, const Grid&,
                                    const std::vector<std::string>&, const std::vector<const float*>&,
                                    const Propagator&, const std::string&);
template void write_snapshot<double>(const std::filesystem::path&, const SnapshotHeader&, const Grid&,
                                     const std::vector<std::string>&, const std::vector<const double*>&,
                                     const Propagator&, const std::string&);

SnapshotData read_snapshot(const std::filesystem::path& path) {
  namespace L = snapshot_layout;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(fmt::format("{}: no such snapshot file", path.string()));
  try {
    h5::Handle file = h5::open_file_readonly(path);
    SnapshotData s;
    if (!h5::has_attribute(file, "format") || (s.format = h5::read_string_attribute(file, "format")) != L::format_name)
      throw InputError(fmt::format("{}: not a propagon snapshot (no format = \"{}\" attribute)", path.string(), L::format_name));
    s.format_version = h5::read_int_attribute(file, "format_version");
    s.header.step = h5::read_int_attribute(file, "step");
    s.header.time = h5::read_double_attribute(file, "time");
    s.header.mode = h5::read_string_attribute(file, "mode");
    s.header.boundary = h5::read_string_attribute(file, "boundary");
    s.header.precision = h5::read_string_attribute(file, "precision");
    s.header.propagon_version = h5::read_string_attribute(file, "propagon_version");
    s.spacing = h5::read_double_array_attribute(file, "spacing");
    s.origin = h5::read_double_array_attribute(file, "origin");
    s.channels = split(h5::read_string_attribute(file, "channels"));
    for (const auto& c : s.channels) {
      h5::Handle ds = h5::open_dataset(file, L::field_path(c));
      s.shape = h5::dataset_shape(ds);
      s.field_types.push_back(h5::dataset_type_name(ds));
      s.values.push_back(h5::read_dataset_as_double(ds));
    }
    {
      h5::Handle p = h5::open_dataset(file, L::propagator_dataset);
      s.propagator_shape = h5::dataset_shape(p);
      s.propagator = h5::read_dataset_as_double(p);
      s.preset = h5::read_string_attribute(p, "preset");
      s.normalize = h5::read_string_attribute(p, "normalize");
      s.temperature = h5::read_double_attribute(p, "temperature");
    }
    s.config_yaml = h5::read_string_dataset(file, L::config_dataset);
    return s;
  } catch (const RunError& e) {
    throw InputError(fmt::format("{}: {}", path.string(), e.what()));
  }
}

}  // namespace propagon
