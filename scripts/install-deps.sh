#!/usr/bin/env bash
# Installs what stcsim needs to build and test on Debian 12, skipping what is already there.
# Idempotent: a second run installs nothing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libsystemc-dev libboost-program-options-dev libyaml-cpp-dev libfmt-dev catch2
  python3 python3-numpy python3-pandas python3-matplotlib python3-yaml python3-pytest
  python3-torch python3-torchvision python3-sklearn libopenblas0-pthread
  pybind11-dev python3-pybind11 python3-dev
  slurm-wlm munge
  clang libclang-rt-14-dev clang-tidy
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
