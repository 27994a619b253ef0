#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (ParaView included: the suite checks the
# output in real ParaView and runs Catalyst), builds, then runs every test with CTest.
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then  # the comment above is the help
  sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-
  exit 0
fi
cd "$(dirname "$0")/.."
scripts/install-deps.sh --paraview
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc)"
