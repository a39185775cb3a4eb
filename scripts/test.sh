#!/usr/bin/env bash
# Every test, as CI runs it (the README's second command runs this after scripts/install-deps.sh):
#   1. the normal build (build/, warnings are errors) and its ctest suite but the unit tests: the
#      command line, sweeps, faults, scripts, the Python module, validation and model agreement;
#   2. the build with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/, -O1, leaks
#      checked; the CUDA backend's device side left out, its host side in): the unit tests (label
#      `unit`) and the command-line, sweep and fault cases;
#   3. every fuzz target for FUZZ_SECONDS seconds (default 20; FUZZ_JOBS at once, default all cores)
#      on its seed corpus, which holds each input a past run found (build-fuzz/, clang; scripts/fuzz.sh);
#   4. clang-tidy with the repository's .clang-tidy checks over sim/ but the path-sensitive analyzer
#      (scripts/tidy.sh; scripts/tidy.sh --analyzer runs those too): no findings.
# Set STCSIM_TEST_QUICK=1 to run step 1 only, with the unit tests. PyTorch is required
# (scripts/install-deps.sh installs Debian's): the recorder's tests fail rather than skip without it.
set -euo pipefail
cd "$(dirname "$0")/.."
export STCSIM_REQUIRE_TORCH=1
start=$(date +%s)
phase() { echo "test.sh: $1 done at $(( $(date +%s) - start )) s"; }
scripts/build.sh -DSTCSIM_WERROR=ON
phase "normal build"
if [ "${STCSIM_TEST_QUICK:-0}" = 1 ]; then
  ctest --test-dir build --output-on-failure -j2
  exit 0
fi
ctest --test-dir build --output-on-failure -j2 -LE unit
phase "normal suite"
generator=()
if [ ! -f build-asan/CMakeCache.txt ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B build-asan "${generator[@]}" -DSTCSIM_SANITIZE=ON -DSTCSIM_BUILD_GPU=OFF -DSTCSIM_WERROR=ON >/dev/null
cmake --build build-asan --parallel "$(nproc)"
phase "sanitizer build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
phase "sanitizer suite"
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}" scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
phase "fuzzing"
scripts/tidy.sh
phase "tidy"
