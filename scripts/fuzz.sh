#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, clang with AddressSanitizer and UBSan) into build-fuzz/ and
# runs each for SECONDS on its seed corpus (tests/fuzz/corpus/TARGET, the shipped files), keeping new
# inputs in build-fuzz/corpus/TARGET and any crash, leak or timeout input in build-fuzz/artifacts/.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]      (default 60 s each; targets: all)
# FUZZ_JOBS (default 1) targets run at once. FUZZ_TIMEOUT (default 10) is the seconds one input may take before it counts as a hang; raise it
# when the machine is busy with other work.
# Prints per target the executions, coverage (cov: edges, ft: features) and corpus size; exits 1 when a
# target found a crash, a leak, a timeout or a sanitizer report (its input is named).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(trace config set pattern npy sweep workload)
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (scripts/install-deps.sh installs clang)" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTCSIM_FUZZ=ON >/dev/null
cmake --build build-fuzz --target fuzz_all --parallel "$(nproc)" >/dev/null
mkdir -p build-fuzz/artifacts
# FUZZ_JOBS targets run at once (default 1; CI uses its cores).
jobs="${FUZZ_JOBS:-1}"

run_target() {
  local t=$1 seed="tests/fuzz/corpus/$1" work="build-fuzz/corpus/$1" log="build-fuzz/fuzz_$1.log"
  mkdir -p "$work" "build-fuzz/artifacts/$t"
  set +e
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build-fuzz/fuzz/fuzz_$t" "$work" "$seed" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t/" >"$log" 2>&1
  echo $? > "build-fuzz/fuzz_$t.rc"
}

for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_target "$t" &
done
wait

status=0
printf '%-10s %10s %8s %8s %8s  %s\n' target execs cov ft corpus result
for t in "${targets[@]}"; do
  log="build-fuzz/fuzz_$t.log"
  rc=$(cat "build-fuzz/fuzz_$t.rc")
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  corpus=$(find "build-fuzz/corpus/$t" -type f | wc -l)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FOUND: $(grep -m1 -E 'ERROR: |fuzz property failed|timeout|leak' "$log" || echo "exit $rc") (log $log; input in build-fuzz/artifacts/$t/)"
    status=1
  fi
  printf '%-10s %10s %8s %8s %8s  %s\n' "$t" "$execs" "$cov" "$ft" "$corpus" "$result"
done
exit $status
