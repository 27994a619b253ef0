#!/usr/bin/env bash
# Configures and builds Propagon in ./build (Release). Extra arguments go to CMake, e.g.
#   scripts/build.sh -DKokkos_ROOT=/opt/kokkos-4.6-openmp
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake -S . -B build "$@"
fi
cmake --build build --parallel "$(nproc)"
