#pragma once
/// @file snapshot.hpp
/// The snapshot file format (one HDF5 file per dump). This header is the single source of truth
/// for the layout; the writer, the reader, the XDMF index and the tests all use these names.
///
///   /                    attributes: format = "propagon-snapshot", format_version = 1, step (int64),
///                        time (float64), mode, propagon_version, boundary, precision, channels,
///                        spacing and origin (float64, slowest axis first)
///   /fields/<channel>    concentration in the run's precision, shape (nx), (ny, nx) or (nz, ny, nx)
///   /propagator          float64, the normalised kernel applied; attributes preset, normalize,
///                        temperature, sigma
///   /config              the effective YAML configuration, as a string
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "propagon/config.hpp"
#include "propagon/grid.hpp"
#include "propagon/kernel.hpp"

namespace propagon::snapshot_layout {
inline constexpr const char* format_name = "propagon-snapshot";
inline constexpr std::int64_t format_version = 1;
inline constexpr const char* fields_group = "/fields";
inline constexpr const char* propagator_dataset = "/propagator";
inline constexpr const char* config_dataset = "/config";
inline constexpr const char* snapshots_dir = "snapshots";
/// "step_000042.h5": zero-padded to at least 6 digits.
std::string file_name(std::int64_t step);
/// HDF5 path of a channel's field.
inline std::string field_path(const std::string& channel) { return std::string(fields_group) + "/" + channel; }
}  // namespace propagon::snapshot_layout

namespace propagon {

/// What a snapshot says about the run that wrote it.
struct SnapshotHeader {
  std::int64_t step = 0;
  double time = 0.0;
  std::string mode = "deterministic";
  std::string boundary = "reflect";
  std::string precision = "float32";
  std::string propagon_version;
};

/// Writes one snapshot to `path` through a temporary name in the same folder, renamed when complete,
/// so a crash never leaves a half-written file under the final name. `channels[i]` points to
/// grid.cells() values in host memory. Throws RunError.
template <class T>
void write_snapshot(const std::filesystem::path& path, const SnapshotHeader& header, const Grid& grid,
                    const std::vector<std::string>& channel_names, const std::vector<const T*>& channels,
                    const Propagator& propagator, const std::string& config_yaml);

/// A snapshot read back (values converted to float64).
struct SnapshotData {
  std::string format;
  std::int64_t format_version = 0;
  SnapshotHeader header;
  std::vector<std::int64_t> shape;
  std::vector<double> spacing, origin;
  std::vector<std::string> channels;              ///< in the order of the `channels` attribute
  std::vector<std::vector<double>> values;        ///< per channel
  std::vector<std::string> field_types;           ///< per channel: "float32" or "float64"
  std::vector<double> propagator;
  std::vector<std::int64_t> propagator_shape;
  std::string preset, normalize;
  double temperature = 0.0;
  std::string config_yaml;
};

/// Reads a snapshot. Throws InputError when the file is missing or not a propagon snapshot.
SnapshotData read_snapshot(const std::filesystem::path& path);

}  // namespace propagon
