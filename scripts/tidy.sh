#!/usr/bin/env bash
# clang-tidy over the simulator's sources (sim/, the CUDA device code aside) with the checks in
# .clang-tidy, using build/compile_commands.json (scripts/build.sh writes it). Prints each finding
# and exits 1 when there is any; scripts/test.sh runs it.
#   scripts/tidy.sh [--analyzer] [FILE-REGEX]     (default: every .cpp under sim/ but sim/cuda/device)
# Without --analyzer the clang-analyzer-* checks (path-sensitive, three quarters of the time: about 9
# CPU-minutes over sim/) are left out; scripts/test.sh runs it so. Run it with --analyzer when sim/
# changes before a commit lands.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
checks=()
if [ "${1:-}" = --analyzer ]; then
  shift
else
  checks=(-checks=-clang-analyzer-*)
fi
command -v run-clang-tidy >/dev/null || { echo "tidy: run-clang-tidy is missing (scripts/install-deps.sh installs clang-tidy)" >&2; exit 1; }
[ -f build/compile_commands.json ] || { echo "tidy: build/compile_commands.json is missing: run scripts/build.sh first" >&2; exit 1; }
regex="${1:-$root/sim/(?!cuda/device/).*\\.cpp\$}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run-clang-tidy -quiet -p build -j "$(nproc)" "${checks[@]}" "$regex" 2>&1 | sed "s/\x1b\[[0-9;]*m//g" >"$log" || true
findings=$(grep -E "^$root/.*: (warning|error):" "$log" || true)
files=$(grep -c "^clang-tidy" "$log" || true)
if [ -n "$findings" ]; then
  echo "$findings"
  echo "tidy: $(echo "$findings" | wc -l) finding(s) in $files files" >&2
  exit 1
fi
echo "tidy: $files files, no findings$([ ${#checks[@]} -gt 0 ] && echo " (without the analyzer checks)")"
