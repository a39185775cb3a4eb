#!/usr/bin/env bash
# The measured set of the replay backend (docs/backend.md, "The fixed set"), run on a GPU machine from the
# repository root with build-gpu/ carried there (scripts/gpu_bundle.sh):
#   scripts/replay_fixed_set.sh PART [OUT]      PART: selftest | traces | square | bert | resnet | all
# OUT defaults to workloads/measured/h100. Each part writes its own folder under OUT (results.csv,
# replay.yaml with the device, clocks, versions and the exact command), so parts can run in separate
# calls. The patterns: dense, 2:4, and tw and tvw (g = 128, 2:4 inside tvw's tiles) at tile sparsity 0.5
# and 0.75, on configs/h100_mma_sp.yaml (the own kernels' mma.sync / mma.sp tiling).
set -euo pipefail
cd "$(dirname "$0")/.."
part="${1:?usage: scripts/replay_fixed_set.sh selftest|traces|square|bert|resnet|all [OUT]}"
out="${2:-workloads/measured/h100}"
gpu=build-gpu/stcsim-gpu.sh
config=configs/h100_mma_sp.yaml
patterns=(--pattern dense --pattern 2:4
          --pattern 'tw(g=128,sparsity=0.5)' --pattern 'tw(g=128,sparsity=0.75)'
          --pattern 'tvw(g=128,sparsity=0.5,n=2,m=4)' --pattern 'tvw(g=128,sparsity=0.75,n=2,m=4)')
timing=(--warmup 3 --repeats 10 --energy-window 0.2 --seed 1)
mkdir -p "$out"

run_selftest() { "$gpu" selftest | tee "$out/selftest.txt"; }

run_traces() {
  mkdir -p traces/recorded
  python3 scripts/record_trace.py bert-base --batch 32 --seq 128 -o traces/recorded/bert-base_b32_s128.trace
  python3 scripts/record_trace.py resnet-50 --batch 32 -o traces/recorded/resnet-50_b32.trace
  {
    python3 scripts/record_trace.py bert-base --batch 32 --seq 128 --compare traces/bert-base_b32_s128.trace || true
    python3 scripts/record_trace.py resnet-50 --batch 32 --compare traces/resnet-50_b32.trace || true
  } 2>&1 | tee "$out/trace_comparison.txt"
}

run_square() {
  for n in 1024 2048 4096 8192 16384; do
    "$gpu" replay --config "$config" --gemm "${n}x${n}x${n}" "${patterns[@]}" "${timing[@]}" --out "$out/square_$n"
  done
}

run_trace() { "$gpu" replay --config "$config" --trace "traces/$1.trace" "${patterns[@]}" "${timing[@]}" --out "$out/$1"; }

case "$part" in
  selftest) run_selftest ;;
  traces) run_traces ;;
  square) run_square ;;
  bert) run_trace bert-base_b32_s128 ;;
  resnet) run_trace resnet-50_b32 ;;
  all) run_selftest && run_traces && run_square && run_trace bert-base_b32_s128 && run_trace resnet-50_b32 ;;
  *) echo "replay_fixed_set: unknown part '$part'" >&2; exit 2 ;;
esac
