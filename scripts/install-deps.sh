#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages Propagon needs. Idempotent: installs only what is
# missing. Needs root (or sudo).
#   scripts/install-deps.sh             build and run (what the quick start needs)
#   scripts/install-deps.sh --paraview  also ParaView 5.11 with Catalyst, pvpython/pvbatch, Xvfb and
#                                       ffmpeg, for the ParaView tests, render scripts and in situ
#                                       visualisation (about 2 GB installed), and scipy and OpenCV
#                                       for scripts/bench.py
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then  # the comment above is the help
  sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-
  exit 0
fi

packages=(
  build-essential cmake ninja-build pkg-config
  libtrilinos-kokkos-dev      # Kokkos 3.4.1, Serial backend
  libhdf5-dev libyaml-cpp-dev libcli11-dev libstb-dev libpng-dev libfmt-dev
  librandom123-dev libfftw3-dev
  libgtest-dev libbenchmark-dev
  python3 python3-matplotlib python3-numpy   # test helpers, scripts/compare_plot.py
)
if [ "${1:-}" = "--paraview" ]; then
  packages+=(
    paraview paraview-dev python3-paraview xvfb xauth ffmpeg python3-h5py python3-scipy python3-opencv
    # what ParaView's CMake package needs to build a Catalyst adaptor on Debian
    libopenmpi-dev libglew-dev libnetcdf-dev libboost-dev libx11-dev libfreetype-dev libxml2-dev
  )
elif [ -n "${1:-}" ]; then
  echo "usage: $0 [--paraview]" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
