#!/usr/bin/env bash
# Every test, as CI runs it (the README's second command runs this after scripts/install-deps.sh):
#   1. the normal build (build/, warnings are errors) and its whole ctest suite;
#   2. the same suite built with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/), leaks
#      checked; the CUDA backend's device side is left out there (its host side is in);
#   3. every fuzz target for FUZZ_SECONDS seconds (default 60; FUZZ_JOBS at once, default all cores)
#      on its seed corpus, which holds each input a past run found (build-fuzz/, clang; scripts/fuzz.sh);
#   4. clang-tidy with the repository's .clang-tidy checks over sim/ (scripts/tidy.sh): no findings.
# Set STCSIM_TEST_QUICK=1 to run step 1 only. PyTorch is required (scripts/install-deps.sh installs
# Debian's): the recorder's tests fail rather than skip without it.
set -euo pipefail
cd "$(dirname "$0")/.."
export STCSIM_REQUIRE_TORCH=1
scripts/build.sh -DSTCSIM_WERROR=ON
ctest --test-dir build --output-on-failure -j2
[ "${STCSIM_TEST_QUICK:-0}" = 1 ] && exit 0
generator=()
if [ ! -f build-asan/CMakeCache.txt ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B build-asan "${generator[@]}" -DSTCSIM_SANITIZE=ON -DSTCSIM_BUILD_GPU=OFF -DSTCSIM_WERROR=ON >/dev/null
cmake --build build-asan --parallel "$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}" scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
scripts/tidy.sh
