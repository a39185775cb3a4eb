# Helpers of the command-line tests (cli_test.sh, ../cuda/gpu_cli_test.sh); expects $TMP.
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

