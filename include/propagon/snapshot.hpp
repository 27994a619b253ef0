#pragma once
/// @file snapshot.hpp
/// The snapshot file format (one HDF5 file per dump). This header is the single source of truth
/// for the layout; the writer, the reader, the XDMF index, restart, compare and the tests all use
/// these names.
///
///   /                       attributes: format = "propagon-snapshot", format_version = 1,
///                           step (int64), time (float64), mode, propagon_version, boundary,
///                           precision, channels, spacing and origin (float64, slowest axis first);
///                           stochastic and collapse runs add seed, replicate (of /fields),
///                           replicates and particles_per_unit
///   /fields/<channel>       concentration in the run's precision, shape (nx), (ny, nx) or
///                           (nz, ny, nx); attribute absorbed = cumulative mass removed by absorbing
///                           walls (float64)
///   /counts/<channel>       stochastic modes: particles per cell (uint64) of replicate 0;
///                           attribute absorbed_particles (uint64)
///   /ensemble/mean/<ch>     replicates > 1: mean and variance (unbiased, R - 1) over replicates
///   /ensemble/var/<ch>      of the concentration, in the run's precision
///   /replicates/counts/<ch> replicates > 1: counts of every replicate, shape (R, ...) (for restarts),
///                           attribute absorbed_particles (uint64 per replicate, float64 array)
///   /propagator             float64, the normalised kernel applied; attributes preset, normalize,
///                           temperature, sigma
///   /config                 the effective YAML configuration, as a string
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "propagon/grid.hpp"
#include "propagon/kernel.hpp"

namespace propagon::snapshot_layout {
inline constexpr const char* format_name = "propagon-snapshot";
inline constexpr std::int64_t format_version = 1;
inline constexpr const char* fields_group = "/fields";
inline constexpr const char* counts_group = "/counts";
inline constexpr const char* ensemble_mean_group = "/ensemble/mean";
inline constexpr const char* ensemble_var_group = "/ensemble/var";
inline constexpr const char* replicate_counts_group = "/replicates/counts";
inline constexpr const char* propagator_dataset = "/propagator";
inline constexpr const char* config_dataset = "/config";
inline constexpr const char* snapshots_dir = "snapshots";
inline constexpr const char* absorbed_attribute = "absorbed";
inline constexpr const char* absorbed_particles_attribute = "absorbed_particles";
/// "step_000042.h5": zero-padded to at least 6 digits.
std::string file_name(std::int64_t step);
/// The step of a snapshot file name, or nothing if the name is not a snapshot's.
std::optional<std::int64_t> step_of(const std::string& file_name);
inline std::string field_path(const std::string& channel) { return std::string(fields_group) + "/" + channel; }
inline std::string counts_path(const std::string& channel) { return std::string(counts_group) + "/" + channel; }
inline std::string mean_path(const std::string& channel) { return std::string(ensemble_mean_group) + "/" + channel; }
inline std::string var_path(const std::string& channel) { return std::string(ensemble_var_group) + "/" + channel; }
inline std::string replicate_counts_path(const std::string& channel) {
  return std::string(replicate_counts_group) + "/" + channel;
}
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
  bool stochastic = false;            ///< the four attributes below are written only when true
  std::uint64_t seed = 0;
  std::int64_t replicate = 0;
  std::int64_t replicates = 1;
  double particles_per_unit = 0.0;
};

/// One channel's arrays in host memory, as written to a snapshot. Pointers may be null where a
/// mode has no such array. `fields`, `mean` and `var` hold float or double as `precision` says.
struct SnapshotChannel {
  std::string name;
  const void* field = nullptr;
  const std::uint64_t* counts = nullptr;  ///< replicate 0
  const void* mean = nullptr;
  const void* var = nullptr;
  const std::uint64_t* replicate_counts = nullptr;  ///< R x cells
  double absorbed = 0.0;
  std::vector<std::uint64_t> absorbed_particles;  ///< per replicate
};

/// Writes one snapshot to `path` through a temporary name in the same folder, renamed when complete,
/// so a crash never leaves a half-written file under the final name. Throws RunError.
void write_snapshot(const std::filesystem::path& path, const SnapshotHeader& header, const Grid& grid,
                    const std::vector<SnapshotChannel>& channels, const Propagator& propagator,
                    const std::string& config_yaml);

/// A snapshot read back. Values are converted to float64, except the exact copies kept for restarts.
struct SnapshotData {
  std::string format;
  std::int64_t format_version = 0;
  SnapshotHeader header;
  std::vector<std::int64_t> shape;
  std::vector<double> spacing, origin;
  std::vector<std::string> channels;              ///< in the order of the `channels` attribute
  std::vector<std::vector<double>> values;        ///< /fields, per channel
  std::vector<std::string> field_types;           ///< per channel: "float32" or "float64"
  std::vector<double> absorbed;                   ///< per channel
  std::vector<std::vector<double>> ensemble_mean, ensemble_var;  ///< empty unless present
  std::vector<double> propagator;
  std::vector<std::int64_t> propagator_shape;
  std::string preset, normalize;
  double temperature = 0.0;
  double sigma = 0.0;
  std::string config_yaml;
};

/// Reads only the root attributes (cheap). Throws InputError like read_snapshot.
SnapshotHeader read_snapshot_header(const std::filesystem::path& path);

/// Reads a snapshot. Throws InputError when the file is missing or not a propagon snapshot.
SnapshotData read_snapshot(const std::filesystem::path& path);

/// The exact state a run needs to continue from a snapshot.
struct RestartState {
  std::int64_t step = 0;
  std::vector<std::vector<float>> fields_f32;      ///< deterministic float32 runs
  std::vector<std::vector<double>> fields_f64;     ///< deterministic float64 runs
  std::vector<double> absorbed;                    ///< per channel
  std::vector<std::vector<std::uint64_t>> counts;  ///< stochastic runs: per channel, R x cells
  std::vector<std::vector<std::uint64_t>> absorbed_particles;  ///< per channel, per replicate
};
RestartState read_restart_state(const std::filesystem::path& path, const std::vector<std::string>& channels,
                                bool stochastic, std::int64_t replicates);

}  // namespace propagon
