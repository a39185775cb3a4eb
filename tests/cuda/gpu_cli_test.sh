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

"$CASE"
