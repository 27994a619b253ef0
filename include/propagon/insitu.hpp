#pragma once
/// @file insitu.hpp
/// In situ visualisation through ParaView Catalyst (5.11, legacy vtkCPProcessor API with "V2"
/// Python scripts). The adaptor lives in a separate module (libpropagon_catalyst.so), loaded only
/// when a run asks for it, so propagon starts without ParaView's ~200 libraries otherwise.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "propagon/grid.hpp"
#include "propagon/snapshot.hpp"

namespace propagon {

/// The grid name the adaptor provides: scripts must read it with TrivialProducer(registrationName="input").
inline constexpr const char* catalyst_input_name = "input";

struct CatalystSetup {
  std::vector<std::filesystem::path> scripts;
  std::filesystem::path output_dir;   ///< scripts find it in $PROPAGON_CATALYST_OUTPUT
  std::vector<std::string> channels;  ///< and the channel names in $PROPAGON_CATALYST_CHANNELS
  Grid grid;                          ///< and the point counts "nx,ny,nz" in $PROPAGON_CATALYST_DIMS
};

/// One step's data in host memory (what a snapshot would hold).
struct InSituFrame {
  std::int64_t step = 0;
  double time = 0.0;
  Grid grid;
  bool float32 = true;  ///< fields, means and variances are float (else double)
  const std::vector<SnapshotChannel>* channels = nullptr;
};

class InSituAdaptor {
 public:
  virtual ~InSituAdaptor() = default;
  /// Hands one step to Catalyst (zero-copy: the arrays point at the frame's memory).
  virtual void execute(const InSituFrame& frame) = 0;
  virtual void finalize() = 0;
};

/// The Catalyst module this build loads, or "" when it was built without ParaView.
std::string catalyst_module_path();
/// Why this build has no Catalyst (built with PROPAGON_ENABLE_CATALYST=OFF, or ParaView not found).
std::string catalyst_missing_reason();

/// Loads the module and initialises Catalyst with the scripts, after checking each script (syntax,
/// imports, and a TrivialProducer named "input"). Throws InputError when this build has no
/// Catalyst, the module cannot be loaded, or a script fails its checks.
std::unique_ptr<InSituAdaptor> make_catalyst_adaptor(const CatalystSetup& setup);

}  // namespace propagon
