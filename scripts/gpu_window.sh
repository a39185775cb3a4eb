#!/usr/bin/env bash
# The GPU window plan (docs/backend.md "The GPU window"): everything a short lease of a GPU machine
# should measure, in order, each step under its own timeout and writing only under OUT:
#   1 preflight    the libraries the binary needs and where they are, the cuSPARSELt plugin built
#                  against the machine's library when found, and `stcsim-gpu info`
#   2 selftest     every backend and pattern on small GEMMs (its failure does not stop the rest)
#   3 square_4096  4096^3 fp16, the six fixed-set patterns
#   4 square_8192  8192^3, the same
#   5 square_16384 16384^3, dense and 2:4
#   6 bert         traces/bert-base_b32_s128.trace, the six patterns
#   7 resnet       traces/resnet-50_b32.trace, the six patterns, if the budget has room
# The six patterns: dense, 2:4, tw(g=128) and tvw(g=128, 2:4 tiles) at tile sparsity 0.5 and 0.75, on
# configs/h200_mma_sp.yaml (the machine lent: an H200; the own kernels' mma.sync / mma.sp tiling).
#
#   scripts/gpu_window.sh [--dry-run] [--budget SECONDS] [--gpu BINARY] [--archive FILE] [--steps LIST] OUT
#
# --steps LIST (comma-separated names from the list above) runs only those steps, in the plan's order:
# e.g. a window that ended before bert and resnet can be finished with --steps preflight,bert,resnet.
#
# A replay step appends each row to its results.csv as it is measured, so a step cut by its timeout
# keeps the rows it finished. A step starts only if the budget has room for its timeout's floor; the
# log says what was skipped. --archive FILE rewrites FILE (a .tar.gz of OUT) after every step, so that
# one file carries everything back even if the window ends early. --dry-run runs the host side of every
# step here, without a GPU (kernels skipped), measures it, and adds the GPU time each replay estimates
# (stcsim-gpu replay --dry-run): the plan's wall-time estimate, step by step; it exits 1 if the estimate
# is over the budget. Default budget: 480 s. Default binary: build-gpu/stcsim-gpu.sh (scripts/gpu_bundle.sh),
# build/stcsim-gpu for --dry-run.
set -uo pipefail
cd "$(dirname "$0")/.."
dry=0
budget=480
gpu=""
archive=""
steps=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --budget) budget="${2:?--budget needs seconds}"; shift ;;
    --gpu) gpu="${2:?--gpu needs a binary}"; shift ;;
    --archive) archive="${2:?--archive needs a file}"; shift ;;
    --steps) steps="${2:?--steps needs a list of step names}"; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    -*) echo "gpu_window: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "gpu_window: one OUT folder, not '$out' and '$1'" >&2; exit 2; }; out="$1" ;;
  esac
  shift
done
[ -n "$out" ] || { echo "gpu_window: usage: scripts/gpu_window.sh [--dry-run] [--budget S] [--gpu BINARY] [--archive FILE] [--steps LIST] OUT" >&2; exit 2; }
all_steps=" preflight selftest square_4096 square_8192 square_16384 bert resnet "
if [ -n "$steps" ]; then
  IFS=, read -r -a picked <<< "$steps"
  [ ${#picked[@]} -gt 0 ] || { echo "gpu_window: --steps: no step named" >&2; exit 2; }
  for s in "${picked[@]}"; do
    case "$all_steps" in *" $s "*) ;; *) echo "gpu_window: --steps: unknown step '$s' (steps:$all_steps)" >&2; exit 2 ;; esac
  done
  steps=" ${picked[*]} "
fi
case "$budget" in ''|*[!0-9]*) echo "gpu_window: --budget: '$budget' is not a whole number of seconds" >&2; exit 2 ;; esac
if [ -z "$gpu" ]; then
  if [ $dry = 1 ]; then gpu=build/stcsim-gpu; else gpu=build-gpu/stcsim-gpu.sh; fi
fi
[ -x "$gpu" ] || { echo "gpu_window: $gpu is not an executable (build it: scripts/build.sh, or scripts/gpu_bundle.sh)" >&2; exit 2; }
mkdir -p "$out" || { echo "gpu_window: cannot create $out" >&2; exit 1; }
[ -w "$out" ] || { echo "gpu_window: $out is not writable" >&2; exit 1; }

config=configs/h200_mma_sp.yaml
patterns=(--pattern dense --pattern 2:4
          --pattern 'tw(g=128,sparsity=0.5)' --pattern 'tw(g=128,sparsity=0.75)'
          --pattern 'tvw(g=128,sparsity=0.5,n=2,m=4)' --pattern 'tvw(g=128,sparsity=0.75,n=2,m=4)')
timing=(--repeats 10 --warmup-s 0.1 --min-sample-s 0.002 --energy-window 0.1 --seed 1)
dryflag=()
[ $dry = 1 ] && dryflag=(--dry-run)
log="$out/window.log"
start=$(date +%s.%N)
: > "$log"
say() { echo "$*" | tee -a "$log"; }
elapsed() { echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1 - $2}'; }
total_estimate=0
add_estimate() { total_estimate=$(echo "$total_estimate $1" | awk '{printf "%.1f", $1 + $2}'); }

pack() {
  [ -n "$archive" ] || return 0
  local tmp="$archive.tmp.$$"
  tar -czf "$tmp" -C "$(dirname "$out")" "$(basename "$out")" 2>/dev/null && mv -f "$tmp" "$archive" || rm -f "$tmp"
}

# step NAME TIMEOUT FLOOR COMMAND...: runs COMMAND under TIMEOUT seconds (less if the budget has less
# left), its output in OUT/NAME.txt; skipped when the budget has under 20 s left. In a dry run the
# step's estimate is what its replay prints, and at least FLOOR s (what a dry run cannot see: the
# plugin's compile in the preflight).
step() {
  local name=$1 limit=$2 floor=$3
  shift 3
  local used left t0 rc dt
  if [ -n "$steps" ] && [ "${steps#* "$name" }" = "$steps" ]; then
    say "step $name: not selected (--steps)"
    return 0
  fi
  used=$(elapsed)
  left=$(echo "$budget $used" | awk '{printf "%d", $1 - $2}')
  if [ "$left" -lt 20 ]; then
    say "step $name: skipped: $left s of the $budget s budget left"
    return 0
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  say "step $name: timeout $limit s (at $used s of $budget s)"
  t0=$(date +%s.%N)
  timeout -k 5 "$limit" "$@" > "$out/$name.txt" 2>&1
  rc=$?
  dt=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}')
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    say "step $name: TIMED OUT after $dt s (rows measured so far are kept)"
  else
    say "step $name: exit $rc after $dt s"
  fi
  local est
  est=$(sed -n 's/^estimate: host \([0-9.]*\) s measured here.* = \([0-9.]*\) s$/\2/p' "$out/$name.txt" | tail -n1)
  if [ $dry = 1 ]; then
    [ -n "$est" ] || est=$dt
    est=$(echo "$est $floor" | awk '{printf "%.1f", ($1 > $2 ? $1 : $2)}')
    say "step $name: estimate on the lent machine $est s"
    add_estimate "$est"
  fi
  grep -E '^(summary:|selftest|phases:|GPU estimate)' "$out/$name.txt" | sed "s/^/  $name: /" | tee -a "$log"
  pack
  return 0
}

# The preflight runs as its own shell under its timeout.
export STCSIM_WINDOW_GPU="$gpu" STCSIM_WINDOW_DRY="$dry" STCSIM_WINDOW_OUT="$out"
preflight='
  if [ "$STCSIM_WINDOW_DRY" = 0 ]; then
    "$STCSIM_WINDOW_GPU" --check-libs || echo "preflight: a library is missing (above); the steps below will fail"
    scripts/build_cusparselt_plugin.sh "$(dirname "$STCSIM_WINDOW_GPU")/lib" || echo "preflight: no cuSPARSELt plugin: its rows are left out"
  else
    scripts/build_cusparselt_plugin.sh "$STCSIM_WINDOW_OUT/plugin" || echo "preflight: no cuSPARSELt here (expected on a machine without it)"
  fi
  "$STCSIM_WINDOW_GPU" info
  rc=$?
  if [ "$STCSIM_WINDOW_DRY" = 1 ] && [ $rc -eq 77 ]; then echo "preflight: no GPU here (dry run)"; exit 0; fi
  exit $rc'
replay=("$gpu" replay "${dryflag[@]}" --config "$config")

say "gpu_window: $( [ $dry = 1 ] && echo dry run || echo GPU run ) into $out, budget $budget s, binary $gpu, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
step preflight 60 30 bash -c "$preflight"
if [ $dry = 1 ]; then
  step selftest 90 5 "$gpu" selftest --dry-run --config "$config"
else
  step selftest 90 5 "$gpu" selftest
fi
step square_4096 60 0 "${replay[@]}" --gemm 4096x4096x4096 "${patterns[@]}" "${timing[@]}" --out "$out/square_4096"
step square_8192 90 0 "${replay[@]}" --gemm 8192x8192x8192 "${patterns[@]}" "${timing[@]}" --out "$out/square_8192"
step square_16384 120 0 "${replay[@]}" --gemm 16384x16384x16384 --pattern dense --pattern 2:4 "${timing[@]}" --out "$out/square_16384"
step bert 90 0 "${replay[@]}" --trace traces/bert-base_b32_s128.trace "${patterns[@]}" "${timing[@]}" --out "$out/bert"
step resnet 150 0 "${replay[@]}" --trace traces/resnet-50_b32.trace "${patterns[@]}" "${timing[@]}" --out "$out/resnet"
say "gpu_window: done after $(elapsed) s"
rc=0
if [ $dry = 1 ]; then
  what="the plan's estimate"
  [ -n "$steps" ] && what="the estimate of the steps selected ($(echo $steps | tr ' ' ,))"
  say "gpu_window: $what on the lent machine: $total_estimate s of the $budget s budget (host parts as measured here, GPU parts as each replay estimates)"
  if awk -v e="$total_estimate" -v b="$budget" 'BEGIN { exit !(e > b) }'; then
    say "gpu_window: OVER BUDGET"
    rc=1
  fi
fi
pack
exit $rc
