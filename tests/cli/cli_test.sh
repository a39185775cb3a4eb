#!/usr/bin/env bash
# End-to-end tests of build/stcsim. Usage: cli_test.sh CASE STCSIM_BINARY SOURCE_DIR
# Each function case_* is registered as its own ctest entry by tests/CMakeLists.txt.
set -u
CASE=$1
STCSIM=$2
SRC=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$SRC" || exit 1

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_ok CMD...: runs, must exit 0; output in $TMP/out
expect_ok() { "$@" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/out" "$TMP/err" >&2; fail "exit $? from: $*"; }; }
# expect_err PATTERN CMD...: must exit non-zero with exactly one line on stderr matching PATTERN, no crash
expect_err() {
  local pat=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ $rc -ne 0 ] || fail "expected failure from: $*"
  [ $rc -lt 128 ] || fail "crashed with signal $((rc - 128)): $*"
  [ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err" >&2; fail "expected one line on stderr from: $*"; }
  grep -Eq -- "$pat" "$TMP/err" || { cat "$TMP/err" >&2; fail "stderr does not match '$pat': $*"; }
}
contains() { grep -Eq -- "$1" "$TMP/out" || { cat "$TMP/out" >&2; fail "output lacks '$1'"; }; }

case_help() {
  expect_ok "$STCSIM" --help
  contains "trace"; contains "prune"; contains "validate"; contains "run"
  for sub in trace prune validate run; do
    expect_ok "$STCSIM" "$sub" --help
    contains "Examples"
  done
}

case_prune_2_4() {
  expect_ok "$STCSIM" prune --pattern 2:4 --rows 256 --cols 512 --json --out "$TMP/p"
  contains "^density +0.5$"
  contains "^index_bits_per_value +2$"
  contains '"density": 0.5,'
  for f in weights.npy mask.npy values.npy metadata.npy stats.json; do
    [ -s "$TMP/p/$f" ] || fail "missing $f"
  done
  # Same seed, same bytes.
  expect_ok "$STCSIM" prune --pattern 2:4 --rows 256 --cols 512 --out "$TMP/q"
  cmp -s "$TMP/p/mask.npy" "$TMP/q/mask.npy" || fail "masks differ between identical runs"
  cmp -s "$TMP/p/metadata.npy" "$TMP/q/metadata.npy" || fail "metadata differs between identical runs"
}

case_prune_npy() {
  expect_ok "$STCSIM" prune --pattern 2:4 --rows 8 --cols 16 --seed 3 --out "$TMP/a"
  # Pruning the weights it wrote out gives the same mask.
  expect_ok "$STCSIM" prune --pattern 2:4 --npy "$TMP/a/weights.npy" --out "$TMP/b"
  cmp -s "$TMP/a/mask.npy" "$TMP/b/mask.npy" || fail "mask from .npy differs"
}

case_prune_bad_input() {
  expect_err "pattern '4:2': N must be in 1..M-1" "$STCSIM" prune --pattern 4:2 --rows 8 --cols 8
  expect_err "pattern '0:4'" "$STCSIM" prune --pattern 0:4 --rows 8 --cols 8
  expect_err "pattern '2:4:8:1'" "$STCSIM" prune --pattern 2:4:8:1 --rows 8 --cols 8
  expect_err "unknown pattern 'bogus' \\(known: dense" "$STCSIM" prune --pattern bogus --rows 8 --cols 8
  expect_err "--rows and --cols" "$STCSIM" prune --pattern 2:4
  expect_err "either --npy or --rows" "$STCSIM" prune --pattern 2:4 --npy x.npy --rows 3 --cols 3
  expect_err "missing.npy: cannot open" "$STCSIM" prune --pattern 2:4 --npy "$TMP/missing.npy"
  expect_err "too large to prune in memory" "$STCSIM" prune --pattern 2:4 --rows 4000000000 --cols 4000000000
  expect_err "--dtype: 'fp64'" "$STCSIM" prune --pattern 2:4 --rows 8 --cols 8 --dtype fp64
  expect_err "unrecognised option|unrecognized option" "$STCSIM" prune --pattern 2:4 --rows 8 --cols 8 --bogus
  echo "not a folder" > "$TMP/file"
  expect_err "exists and is not a folder" "$STCSIM" prune --pattern 2:4 --rows 8 --cols 8 --out "$TMP/file"
}

"$CASE"
