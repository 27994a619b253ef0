#pragma once
// A fresh folder per test and process: test binaries may run side by side (ctest -j, or two builds
// of the suite at once), so a fixed name would let one remove the other's files.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace propagon::testing {
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("propagon_test_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}
}  // namespace propagon::testing
