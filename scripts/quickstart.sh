#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a finished run: installs the packages, builds,
# and runs the main job (configs/default.yaml: the astronaut photo under a Gaussian propagator).
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then  # the comment above is the help
  sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-
  exit 0
fi
cd "$(dirname "$0")/.."
scripts/install-deps.sh
PROPAGON_BUILD_TESTS=OFF scripts/build.sh   # the tests are built by scripts/test.sh
./build/propagon run configs/default.yaml
