#!/usr/bin/env bash
# Faults: kill -9 at random moments, a full disk, a read-only output folder, and inputs too large to
# hold. Each leaves either the old or the new results (never a torn file), exits with a one-line
# error, and never runs the machine out of memory.
# Usage: fault_test.sh CASE STCSIM_BINARY SOURCE_DIR. Cases that need a tmpfs mount (root) exit 77,
# which ctest reports as skipped, where mounting is not allowed.
set -u
CASE=$1
STCSIM=$2
SRC=$3
TMP=$(mktemp -d)
MNT=""
cleanup() {
  [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
cd "$SRC" || exit 1
# shellcheck source=tests/cli/lib.sh
. "$SRC/tests/cli/lib.sh"
TRACE=tests/sweep/fixtures/small.trace
FILES="results.csv stats.yaml config.yaml gemms.trace"

# A tmpfs of SIZE at $TMP/mnt, or exit 77 (skip) where this machine does not allow mounting.
mount_tmpfs() {
  MNT="$TMP/mnt"
  mkdir -p "$MNT"
  if ! mount -t tmpfs -o "size=$1" tmpfs "$MNT" 2>/dev/null; then
    MNT=""
    echo "SKIP: cannot mount a tmpfs here (needs root)"
    exit 77
  fi
}

# Caps the address space of this (sub)shell at KB, except for a sanitizer build (its shadow memory
# needs terabytes of address space; the sizes are checked before allocating either way).
limit_memory() {
  grep -q __asan_init "$STCSIM" && return 0
  ulimit -v "$1"
}

# same_as DIR REF: every result file in DIR equals REF's.
same_as() {
  for f in $FILES; do cmp -s "$1/$f" "$2/$f" || fail "$1/$f differs from $2/$f"; done
}

# Old results (one run), then a bigger run into the same folder killed at a random moment, 30 times:
# each file is whole, the old one or the new one, and only temporaries are left beside them.
case_kill_run_at_random_moments() {
  local old=(run --trace "$TRACE" --pattern dense)
  local new=(run --trace "$TRACE" --pattern dense --pattern 2:4 --pattern "tw(g=64,sparsity=0.7)")
  expect_ok "$STCSIM" "${old[@]}" --out "$TMP/old"
  local t0 t1
  t0=$(date +%s%N)
  expect_ok "$STCSIM" "${new[@]}" --out "$TMP/new"
  t1=$(date +%s%N)
  local span_us=$(( (t1 - t0) / 1000 ))
  local killed=0 olds=0 news=0
  RANDOM=20261124
  for i in $(seq 1 30); do
    rm -rf "$TMP/out"
    cp -r "$TMP/old" "$TMP/out"
    "$STCSIM" "${new[@]}" --out "$TMP/out" >/dev/null 2>&1 &
    local pid=$!
    local wait_us=$(( (RANDOM * 32768 + RANDOM) % (span_us + span_us / 5 + 1) ))
    sleep "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
    local state=""
    for f in $FILES; do
      if cmp -s "$TMP/out/$f" "$TMP/old/$f"; then state="$state o"
      elif cmp -s "$TMP/out/$f" "$TMP/new/$f"; then state="$state n"
      else fail "kill $i after ${wait_us} us: $f is neither the old nor the new file"; fi
    done
    case "$state" in *n*) news=$((news + 1)) ;; *) olds=$((olds + 1)) ;; esac
    local other
    other=$(find "$TMP/out" -type f ! -name results.csv ! -name stats.yaml ! -name config.yaml ! -name gemms.trace ! -name '*.tmp-*')
    [ -z "$other" ] || fail "kill $i left $other"
  done
  echo "30 runs: $killed killed while running, $olds left the old results, $news had new files in place"
  [ "$killed" -ge 10 ] || fail "only $killed kills landed while the run was going"
  [ "$olds" -ge 1 ] || fail "no kill landed before the results were written"
}

# A full disk: the run says so in one line, and the results already there stay whole.
case_disk_full() {
  mount_tmpfs 512k
  expect_ok "$STCSIM" run --trace "$TRACE" --pattern dense --out "$MNT/r"
  cp -r "$MNT/r" "$TMP/before"
  # Fill what is left, so that the next run's first file does not fit.
  dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
  expect_err "r/(results.csv|stats.yaml|config.yaml|gemms.trace): write failed: No space left on device \(results not written; the files already in .*r are as they were\)" \
    "$STCSIM" run --trace "$TRACE" --pattern dense --pattern 2:4 --out "$MNT/r"
  same_as "$MNT/r" "$TMP/before"
  [ -z "$(find "$MNT/r" -name '*.tmp-*')" ] || fail "temporary files left on the full disk: $(ls "$MNT/r")"
  # A sweep into the full disk fails cleanly too.
  expect_err "No space left on device" "$STCSIM" sweep tests/sweep/fixtures/grid.yaml --out "$MNT/sw" --jobs 1
}

# A read-only folder: refused before the simulation starts, earlier results untouched.
case_read_only_output() {
  mount_tmpfs 4m
  expect_ok "$STCSIM" run --trace "$TRACE" --pattern dense --out "$MNT/r"
  cp -r "$MNT/r" "$TMP/before"
  mkdir -p "$MNT/sw"
  mount -o remount,ro "$MNT" || fail "cannot remount read-only"
  expect_err "r: cannot write results here: Read-only file system" \
    "$STCSIM" run --trace "$TRACE" --pattern dense --pattern 2:4 --out "$MNT/r"
  grep -q "== run" "$TMP/out" && fail "the run simulated before finding out it could not write"
  same_as "$MNT/r" "$TMP/before"
  expect_err "Read-only file system" "$STCSIM" sweep tests/sweep/fixtures/grid.yaml --out "$MNT/sw" --jobs 1
  expect_err "Read-only file system" "$STCSIM" prune --pattern 2:4 --rows 64 --cols 64 --out "$MNT/p"
}

# A trace of a million lines is refused before anything is simulated, within a memory limit far
# below what simulating it would take; a trace file over 64 MiB is refused before it is read.
case_huge_trace() {
  awk 'BEGIN { print "stcsim-trace v1"; for (i = 0; i < 1000000; i++) printf "l%d %d 768 3072 fp16 B 2:4 1\n", i, 64 * (1 + i % 16) }' > "$TMP/million.trace"
  ( limit_memory 2000000; expect_err "1000000 GEMM lines over 1 run\(s\); one simulation takes at most 200000" \
      "$STCSIM" run --trace "$TMP/million.trace" ) || exit 1
  truncate -s 65M "$TMP/huge.trace"
  ( limit_memory 500000; expect_err "huge.trace: 68157440 bytes; trace files are read whole and may hold at most 67108864" \
      "$STCSIM" run --trace "$TMP/huge.trace" ) || exit 1
}

# Operands that would not fit in memory are refused by size, before anything is allocated.
case_operands_too_large() {
  ( limit_memory 1000000
    # 2^30 MACs but 2^31 operand values: functional mode refuses it by values.
    expect_err "gemm: 1x1x1073741824 holds 2147483649 operand and output values, over functional mode's limit" \
      "$STCSIM" run --gemm 1x1x1073741824 --functional
    # A tw mask is cut from generated weights: a 65536 x 65536 operand is refused by values.
    expect_err "the 65536x65536 weight operand its tw\(g=128,sparsity=0.5\) mask is cut from holds 4294967296 values" \
      "$STCSIM" run --gemm 1024x65536x65536 --pattern "tw(g=128,sparsity=0.5)"
    # The same GEMM with 2:4 needs no mask and simulates.
    expect_ok "$STCSIM" run --gemm 1024x65536x65536 --pattern 2:4
  ) || exit 1
}

"$CASE"
