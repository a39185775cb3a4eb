#!/usr/bin/env bash
# Builds stcsim in Release (folder build-release) and runs the speed benchmark, printing its figures
# and, given a file, writing them there too. Arguments after the file go to stcsim_bench.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-}
[ $# -gt 0 ] && shift
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target stcsim_bench >/dev/null
if [ -n "$out" ]; then
  build-release/stcsim_bench "$@" | tee "$out"
else
  build-release/stcsim_bench "$@"
fi
