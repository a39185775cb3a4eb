#!/usr/bin/env bash
# The measured set of the replay backend (docs/backend.md, "The fixed set"), part by part, on a GPU
# machine from the repository root with build-gpu/ carried there (scripts/gpu_bundle.sh):
#   scripts/replay_fixed_set.sh PART OUT        PART: selftest | square | bert | resnet | all | traces
# Everything is written under OUT (one folder per part, each with results.csv and replay.yaml: the
# device, clocks, versions and the exact command), so that a GPU run's OUT is what comes back. `all`
# runs selftest, square, bert and resnet, and goes on past a failed part (the exit status says whether
# any failed). `traces` needs no GPU (it records bert-base and resnet-50 with scripts/record_trace.py
# into OUT/traces and compares them with the generated traces): run it on the development machine, not
# in a GPU window. For a short GPU window use scripts/gpu_window.sh, which fits a budget. The patterns:
# dense, 2:4, and tw and tvw (g = 128, 2:4 inside tvw's tiles) at tile sparsity 0.5 and 0.75, on
# $CONFIG (default configs/h200_mma_sp.yaml, the own kernels' mma.sync / mma.sp tiling on the H200).
set -uo pipefail
cd "$(dirname "$0")/.."
part="${1:-}"
out="${2:-}"
if [ -z "$part" ] || [ -z "$out" ]; then
  echo "replay_fixed_set: usage: scripts/replay_fixed_set.sh selftest|square|bert|resnet|all|traces OUT" >&2
  exit 2
fi
gpu="${STCSIM_GPU:-build-gpu/stcsim-gpu.sh}"
config="${CONFIG:-configs/h200_mma_sp.yaml}"
patterns=(--pattern dense --pattern 2:4
          --pattern 'tw(g=128,sparsity=0.5)' --pattern 'tw(g=128,sparsity=0.75)'
          --pattern 'tvw(g=128,sparsity=0.5,n=2,m=4)' --pattern 'tvw(g=128,sparsity=0.75,n=2,m=4)')
timing=(--repeats 10 --warmup-s 0.1 --min-sample-s 0.002 --energy-window 0.2 --seed 1)
mkdir -p "$out" || { echo "replay_fixed_set: cannot create $out" >&2; exit 1; }

run_selftest() { "$gpu" selftest > "$out/selftest.txt" 2>&1; local rc=$?; tail -n1 "$out/selftest.txt"; return $rc; }

run_traces() {
  mkdir -p "$out/traces"
  /usr/bin/python3 scripts/record_trace.py bert-base --batch 32 --seq 128 -o "$out/traces/bert-base_b32_s128.trace" || return 1
  /usr/bin/python3 scripts/record_trace.py resnet-50 --batch 32 -o "$out/traces/resnet-50_b32.trace" || return 1
  {
    /usr/bin/python3 scripts/record_trace.py bert-base --batch 32 --seq 128 --compare traces/bert-base_b32_s128.trace
    /usr/bin/python3 scripts/record_trace.py resnet-50 --batch 32 --compare traces/resnet-50_b32.trace
  } > "$out/traces/trace_comparison.txt" 2>&1
  return 0
}

run_square() {
  local rc=0 n
  for n in 1024 2048 4096 8192 16384; do
    "$gpu" replay --config "$config" --gemm "${n}x${n}x${n}" "${patterns[@]}" "${timing[@]}" --out "$out/square_$n" || rc=1
  done
  return $rc
}

run_trace() { "$gpu" replay --config "$config" --trace "traces/$1.trace" "${patterns[@]}" "${timing[@]}" --out "$out/$1"; }

case "$part" in
  selftest) run_selftest ;;
  traces) run_traces ;;
  square) run_square ;;
  bert) run_trace bert-base_b32_s128 ;;
  resnet) run_trace resnet-50_b32 ;;
  all)
    rc=0
    run_selftest || { rc=1; echo "replay_fixed_set: selftest failed; going on"; }
    run_square || rc=1
    run_trace bert-base_b32_s128 || rc=1
    run_trace resnet-50_b32 || rc=1
    exit $rc ;;
  *) echo "replay_fixed_set: unknown part '$part' (selftest, square, bert, resnet, all, traces)" >&2; exit 2 ;;
esac
