#!/usr/bin/env bash
# End-to-end tests of build/stcsim-gpu that hold with or without a GPU: usage, bad input caught before
# the device is opened, and the no-GPU exit. Usage: gpu_cli_test.sh CASE STCSIM_GPU_BINARY SOURCE_DIR
set -u
CASE=$1
GPU=$2
SRC=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$SRC" || exit 1
# shellcheck source=tests/cli/lib.sh
. "$SRC/tests/cli/lib.sh"

case_gpu_help() {
  expect_ok "$GPU" --help
  contains "replay"; contains "selftest"; contains "info"
  for sub in replay selftest info; do
    expect_ok "$GPU" "$sub" --help
    contains "Examples"
  done
  "$GPU" >/dev/null 2>&1
  [ $? -eq 2 ] || fail "no command should exit 2"
}

case_gpu_bad_input() {
  expect_err "--repeats: must be >= 1" "$GPU" replay --gemm 64x64x64 --repeats 0
  expect_err "--warmup-s: must be >= 0" "$GPU" replay --gemm 64x64x64 --warmup-s -1
  expect_err "pattern '2:4:8:1'" "$GPU" replay --gemm 64x64x64 --pattern 2:4:8:1
  expect_err "exactly one of --trace and --gemm" "$GPU" replay --pattern dense
  expect_err "'magma'" "$GPU" replay --gemm 64x64x64 --backends cublas,magma
  expect_err "--gemm: expected MxNxK" "$GPU" replay --gemm 64x64
  printf 'stcsim-trace v1\nfc 64 64 zz fp16 B dense 1\n' > "$TMP/bad.trace"
  expect_err "bad.trace:2" "$GPU" replay --trace "$TMP/bad.trace"
  expect_err "nowhere.yaml" "$GPU" replay --config "$TMP/nowhere.yaml" --gemm 64x64x64
  [ ! -e "$TMP/out_dir" ] || fail "a failed replay left its output folder"
}

# Where there is no GPU, every device command says so on one line and exits 77; where there is one,
# info prints the device.
case_gpu_no_device_or_info() {
  "$GPU" info >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ $rc -eq 77 ]; then
    grep -q "no GPU" "$TMP/err" || fail "exit 77 without saying 'no GPU'"
    expect_err "no GPU" "$GPU" replay --gemm 64x64x64 --out "$TMP/o"
    [ ! -e "$TMP/o" ] || fail "replay without a GPU created its output folder"
    "$GPU" selftest >"$TMP/out" 2>&1
    [ $? -eq 77 ] && grep -q "^SKIP: no GPU" "$TMP/out" || fail "selftest without a GPU must print SKIP and exit 77"
  else
    [ $rc -eq 0 ] || { cat "$TMP/err" >&2; fail "info exit $rc"; }
    contains "compute_capability"
  fi
}

# csv_rows FILE: data rows of a results.csv; fails if any line is not a whole row (field count as the header's).
csv_rows() {
  /usr/bin/python3 - "$1" <<'PY' || fail "$1 is not a whole CSV"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows, "empty"
for r in rows[1:]:
    assert len(r) == len(rows[0]), f"a row of {len(r)} fields under a header of {len(rows[0])}"
print(len(rows) - 1)
PY
}

# The host side of a replay without a GPU: every row prepared, staged, written as "dry-run", with the
# GPU estimate in replay.yaml.
case_gpu_dry_run() {
  expect_ok "$GPU" replay --dry-run --config configs/h200_mma_sp.yaml --gemm 256x512x384 --pattern dense --pattern 2:4 \
    --pattern 'tvw(g=64,sparsity=0.5,n=2,m=4)' --pattern 'block(b=16,sparsity=0.5)' --out "$TMP/d"
  contains "summary: 6 rows: 0 ok, 0 failed, 6 dry-run"
  contains "GPU estimate on H200-SXM-141GB"
  [ "$(csv_rows "$TMP/d/results.csv")" = 6 ] || fail "results.csv should hold 6 rows"
  grep -q '^status: done' "$TMP/d/replay.yaml" || fail "replay.yaml does not say done"
  grep -q '^  gpu_s: ' "$TMP/d/replay.yaml" || fail "replay.yaml has no estimate"
  grep -q 'dry-run' "$TMP/d/results.csv" || fail "rows are not marked dry-run"
  expect_err "--min-sample-s: must be > 0" "$GPU" replay --dry-run --gemm 64x64x64 --min-sample-s 0
  expect_err "--threads: must be 1..1024" "$GPU" replay --dry-run --gemm 64x64x64 --threads 0
}

# A replay killed half-way keeps the rows it finished, each whole (results.csv is rewritten atomically
# per row), and replay.yaml says it did not finish.
case_gpu_killed_keeps_rows() {
  "$GPU" replay --dry-run --config configs/h200_mma_sp.yaml --trace traces/resnet-50_b32.trace --pattern dense --pattern 2:4 \
    --pattern 'tw(g=128,sparsity=0.5)' --threads 1 --out "$TMP/k" >/dev/null 2>&1 &
  local pid=$! n=0 i
  for i in $(seq 1 600); do
    if [ -f "$TMP/k/results.csv" ]; then n=$(($(wc -l < "$TMP/k/results.csv") - 1)); fi
    [ "$n" -ge 5 ] && break
    sleep 0.05
  done
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  [ "$n" -ge 5 ] || fail "no rows appeared within 30 s"
  local rows
  rows=$(csv_rows "$TMP/k/results.csv")
  [ "$rows" -ge 5 ] || fail "the killed replay kept $rows rows"
  [ "$rows" -lt 150 ] || fail "the replay finished before it was killed ($rows rows): the test proves nothing"
  grep -q '^status: running' "$TMP/k/replay.yaml" || fail "replay.yaml of a killed replay should say running"
  ! ls "$TMP/k" | grep -q '\.tmp' || fail "a temporary file was left behind"
}

# The cuSPARSELt plugin: built by scripts/build_cusparselt_plugin.sh against a stand-in library (the
# stand-in header's entry points) and loaded by stcsim-gpu from STCSIM_CUSPARSELT_PLUGIN; without a
# library the script names what it looked for and exits 3.
case_gpu_cusparselt_plugin() {
  [ -f /usr/local/cuda/include/cusparse.h ] || { echo "SKIP: no CUDA headers"; exit 77; }
  if "$GPU" info 2>&1 | grep -q "no CUDA backend"; then echo "SKIP: this stcsim-gpu has no CUDA backend"; exit 77; fi
  local cc=${CC:-cc}
  command -v "$cc" >/dev/null || { echo "SKIP: no C compiler"; exit 77; }
  mkdir -p "$TMP/lt/include" "$TMP/lt/lib"
  cp tests/cuda/stub/cusparseLt.h "$TMP/lt/include/"
  "$cc" -shared -fPIC -Wno-deprecated-declarations -Itests/cuda/stub -I/usr/local/cuda/include tests/cuda/stub/fake_cusparselt.c \
    -o "$TMP/lt/lib/libcusparseLt.so.0" || fail "building the stand-in library"
  STCSIM_CUSPARSELT_ROOT="$TMP/lt" expect_ok scripts/build_cusparselt_plugin.sh "$TMP/plug"
  [ -f "$TMP/plug/libstcsim_cusparselt.so" ] || fail "no plugin built"
  STCSIM_CUSPARSELT_PLUGIN="$TMP/plug/libstcsim_cusparselt.so" "$GPU" info >"$TMP/out" 2>"$TMP/err"
  grep -q "cuSPARSELt: cuSPARSELt 0.0.0 (plugin $TMP/plug/libstcsim_cusparselt.so)" "$TMP/out" || fail "info did not load the plugin"
  STCSIM_CUSPARSELT_PLUGIN="$TMP/nowhere.so" "$GPU" info >"$TMP/out" 2>"$TMP/err"
  grep -q "no cuSPARSELt plugin: looked in $TMP/nowhere.so (absent)" "$TMP/out" || fail "info did not say where it looked"
  STCSIM_CUSPARSELT_ROOT="$TMP/none" PATH=/usr/bin:/bin "$SRC/scripts/build_cusparselt_plugin.sh" "$TMP/p2" >"$TMP/out" 2>"$TMP/err"
  [ $? -eq 3 ] || fail "a missing library should exit 3"
  grep -q "cusparseLt.h not found (looked under: $TMP/none" "$TMP/err" || fail "the script did not say where it looked"
}

# The bundle's wrapper finds each library the binary needs in lib/, the CUDA folders, the pip packages'
# folders (python3's nvidia namespace) or the system, and names what is missing and where it looked.
case_gpu_wrapper_libs() {
  mkdir -p "$TMP/b/lib" "$TMP/py/nvidia/cublas/lib"
  printf '#!/bin/sh\necho "ran with $*: $LD_LIBRARY_PATH"\n' > "$TMP/b/stcsim-gpu"
  chmod +x "$TMP/b/stcsim-gpu"
  printf 'libc.so.6\nlibstcsim_test_only.so.13\n' > "$TMP/b/needed.txt"
  expect_ok scripts/gpu_wrapper.sh "$TMP/b"
  PYTHONPATH="$TMP/py" "$TMP/b/stcsim-gpu.sh" --check-libs >"$TMP/out" 2>"$TMP/err"
  [ $? -eq 1 ] || fail "a missing library should exit 1"
  grep -q "missing: libstcsim_test_only.so.13" "$TMP/err" || fail "the missing library is not named"
  grep -q "looked in: $TMP/b/lib" "$TMP/out" || fail "the folders looked in are not named"
  touch "$TMP/py/nvidia/cublas/lib/libstcsim_test_only.so.13"
  PYTHONPATH="$TMP/py" "$TMP/b/stcsim-gpu.sh" --check-libs >"$TMP/out" 2>"$TMP/err" || fail "the pip package's library was not found"
  grep -q "libstcsim_test_only.so.13: $TMP/py/nvidia/cublas/lib" "$TMP/out" || fail "not found in the pip package's folder"
  PYTHONPATH="$TMP/py" "$TMP/b/stcsim-gpu.sh" info >"$TMP/out" 2>&1 || fail "the wrapper did not run the binary"
  grep -q "ran with info: $TMP/py/nvidia/cublas/lib" "$TMP/out" || fail "LD_LIBRARY_PATH does not hold the pip folder"
}

# The GPU window's plan, run here without a GPU: every step's host side, its estimate on the lent
# machine, the total within the 8-minute budget, and one archive of everything.
case_gpu_window_dry_run() {
  # The plan's machinery on every step but the two largest squares (their host side alone takes over a
  # minute on two cores; `scripts/gpu_window.sh --dry-run OUT` estimates the whole plan: docs/backend.md).
  expect_ok scripts/gpu_window.sh --dry-run --gpu "$GPU" --archive "$TMP/w.tar.gz" \
    --steps preflight,selftest,square_4096,bert,resnet "$TMP/w"
  for s in preflight selftest square_4096 bert resnet; do
    grep -q "step $s: estimate on the lent machine" "$TMP/w/window.log" || fail "step $s has no estimate"
  done
  for s in square_8192 square_16384; do
    grep -q "^step $s: not selected (--steps)$" "$TMP/w/window.log" || fail "step $s ran though not selected"
    [ ! -e "$TMP/w/$s" ] || fail "step $s wrote results though not selected"
  done
  grep -q "the estimate of the steps selected (preflight,selftest,square_4096,bert,resnet) on the lent machine: .* of the 480 s budget" \
    "$TMP/w/window.log" || fail "no total estimate"
  ! grep -q "OVER BUDGET\|TIMED OUT\|skipped" "$TMP/w/window.log" || fail "the plan does not fit"
  for s in square_4096 bert resnet; do
    grep -q '^status: done' "$TMP/w/$s/replay.yaml" || fail "$s did not finish"
    [ "$(csv_rows "$TMP/w/$s/results.csv")" -gt 0 ] || fail "$s has no rows"
    ! grep -q ',failed,' "$TMP/w/$s/results.csv" || fail "$s has failed rows"
  done
  grep -q "summary: 8 rows: 0 ok, 0 failed, 8 dry-run" "$TMP/w/square_4096.txt" || fail "square_4096 should have 8 rows"
  tar -tzf "$TMP/w.tar.gz" | grep -q 'w/bert/results.csv' || fail "the archive lacks bert's results"
  expect_err "--budget: 'x' is not a whole number" scripts/gpu_window.sh --dry-run --budget x "$TMP/w2"
  expect_err "--steps: unknown step 'bogus' \(steps: preflight selftest" scripts/gpu_window.sh --dry-run --steps bert,bogus "$TMP/w2"
}

"$CASE"
