#pragma once
/// @file config.hpp
/// YAML configuration -> validated run description. Every problem is collected with its
/// file:line:column and dotted key, then thrown together as a ConfigError.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "propagon/boundary.hpp"
#include "propagon/kernel.hpp"

namespace propagon {

enum class Mode { deterministic, stochastic, collapse, spectral };
enum class Precision { float32, float64 };
const char* mode_name(Mode m);
const char* precision_name(Precision p);
inline bool is_stochastic(Mode m) { return m == Mode::stochastic || m == Mode::collapse; }

struct SyntheticInput {
  std::vector<std::int64_t> shape;  ///< [nx], [ny, nx] or [nz, ny, nx]
  std::string pattern = "point";    ///< point, uniform, gaussian, checkerboard, random, tanks
  std::vector<double> at;           ///< point / gaussian centre, cells; default: the middle
  double value = 1.0;
  double sigma = 4.0;               ///< gaussian width, cells
  std::int64_t period = 8;          ///< checkerboard square size, cells
  std::uint64_t seed = 1;           ///< random pattern
};

struct InputDescription {
  enum class Kind { image, synthetic, hdf5 } kind = Kind::image;
  std::filesystem::path image;              ///< resolved against the config file's folder
  SyntheticInput synthetic;
  std::filesystem::path hdf5_file;
  std::vector<std::string> hdf5_datasets;
  std::vector<std::int64_t> hdf5_shape;    ///< shape of the datasets, read while validating
  double scale = 1.0;                       ///< concentration of a full-intensity pixel
  std::vector<double> spacing, origin;      ///< rank entries, slowest first
  int rank = 2;
};

struct RunDescription {
  std::filesystem::path config_file;
  std::string name;
  InputDescription input;
  RawKernel kernel;
  Propagator propagator;  ///< the normalised kernel that every mode applies
  Mode mode = Mode::deterministic;
  std::int64_t steps = 100;
  double dt = 1.0;
  Boundary boundary = Boundary::reflect;
  Precision precision = Precision::float32;
  std::uint64_t seed = 20240611;        ///< stochastic modes: RNG key, with the replicate index
  double particles_per_unit = 255.0;    ///< stochastic modes: particles = round(concentration x this)
  std::int64_t replicates = 1;          ///< stochastic modes: independent realisations
  std::filesystem::path output_dir;
  std::int64_t output_every = 10;
  bool output_png = false;
  std::string effective_yaml;  ///< the whole effective configuration, after overrides and defaults
  std::vector<std::filesystem::path> catalyst_scripts;  ///< in situ: ParaView Catalyst V2 scripts
  std::int64_t catalyst_every = 1;                     ///< in situ: hand every N-th step to Catalyst
  std::vector<std::string> notes;  ///< harmless oddities worth telling the user (ignored keys)
};

/// Reads, overrides (`key.path=value` from --set) and validates a configuration file.
/// Throws ConfigError with every problem found, InputError if the file cannot be read.
RunDescription load_run_description(const std::filesystem::path& config_file,
                                    const std::vector<std::string>& overrides = {});

/// The same from YAML text (for tests); `origin` names it in messages and anchors relative paths.
RunDescription parse_run_description(const std::string& yaml_text, const std::filesystem::path& origin,
                                     const std::vector<std::string>& overrides = {});

/// The whole effective configuration as YAML: every key with the value the run uses.
std::string effective_yaml(const RunDescription& run);

/// Closest candidate by edit distance, or "" when none is close: for "did you mean" hints.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace propagon
