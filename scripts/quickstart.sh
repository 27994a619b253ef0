#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a finished run: installs the packages, builds,
# and runs the main job (configs/default.yaml: the astronaut photo under a Gaussian propagator).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
PROPAGON_BUILD_TESTS=OFF scripts/build.sh   # the tests are built by scripts/test.sh
./build/propagon run configs/default.yaml
