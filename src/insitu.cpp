#include "propagon/insitu.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>

#include "propagon/error.hpp"

namespace propagon {

std::string catalyst_module_path() {
  // PROPAGON_CATALYST_MODULE (environment) points a build at another module, e.g. an installed one.
  if (const char* env = std::getenv("PROPAGON_CATALYST_MODULE")) return env;
#ifdef PROPAGON_CATALYST_MODULE
  return PROPAGON_CATALYST_MODULE;
#else
  return "";
#endif
}

std::string catalyst_missing_reason() {
#ifdef PROPAGON_CATALYST_SWITCHED_OFF
  return "this build of propagon has no Catalyst support: it was configured with PROPAGON_ENABLE_CATALYST=OFF "
         "(rebuild with scripts/build.sh -DPROPAGON_ENABLE_CATALYST=AUTO)";
#else
  return "this build of propagon has no Catalyst support: ParaView 5.11 with its development files was not found "
         "when it was built (install them with scripts/install-deps.sh --paraview, then rebuild with scripts/build.sh)";
#endif
}

std::unique_ptr<InSituAdaptor> make_catalyst_adaptor(const CatalystSetup& setup) {
  const std::string module = catalyst_module_path();
  if (module.empty()) throw InputError(catalyst_missing_reason());
  // RTLD_GLOBAL: the Python extension modules ParaView imports expect libpython's symbols to be global.
  void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) throw InputError(fmt::format("cannot load the Catalyst module {}: {}", module, dlerror()));
  using Create = InSituAdaptor* (*)(const CatalystSetup*);
  auto create = reinterpret_cast<Create>(dlsym(handle, "propagon_catalyst_create"));
  if (!create) throw InputError(fmt::format("{} is not a propagon Catalyst module: {}", module, dlerror()));
  // The module stays loaded for the life of the process: ParaView does not support unloading.
  try {
    return std::unique_ptr<InSituAdaptor>(create(&setup));
  } catch (const std::exception& e) {
    throw InputError(e.what());
  }
}

}  // namespace propagon
