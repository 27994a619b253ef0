#!/usr/bin/env bash
# Configures and builds Propagon in ./build (Release). Extra arguments go to CMake, e.g.
#   scripts/build.sh -DKokkos_ROOT=/opt/kokkos-4-openmp
# PROPAGON_BUILD_TESTS=OFF builds only the library and the propagon program.
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then  # the comment above is the help
  sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-
  exit 0
fi
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
tests="-DPROPAGON_BUILD_TESTS=${PROPAGON_BUILD_TESTS:-ON}"
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$tests" "$@"
else
  cmake -S . -B build "$tests" "$@" >/dev/null
fi
cmake --build build --parallel "$(nproc)"
