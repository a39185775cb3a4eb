#!/usr/bin/env bash
# Configures and builds stcsim into build/ (binary: build/stcsim). Extra arguments go to cmake's
# configure step, e.g. scripts/build.sh -DCMAKE_BUILD_TYPE=Debug.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
if [ ! -f build/CMakeCache.txt ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B build "${generator[@]}" "$@" >/dev/null
cmake --build build --parallel "$(nproc)"
