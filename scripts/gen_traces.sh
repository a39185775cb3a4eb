#!/usr/bin/env bash
# Regenerates every shipped trace in traces/ from its workload in workloads/, with the stcsim binary
# (default build/stcsim; build it first with scripts/build.sh). Usage: scripts/gen_traces.sh [STCSIM]
# tests/workload/shipped_workload_traces_test.cpp fails when a shipped trace differs from what its
# workload now generates, so run this after changing a workload, and commit the traces with it.
set -euo pipefail
cd "$(dirname "$0")/.."
STCSIM=${1:-build/stcsim}
[ -x "$STCSIM" ] || { echo "gen_traces.sh: $STCSIM not found; run scripts/build.sh first" >&2; exit 1; }

# workload, batch, seq ("-" for CNNs), pattern, and optionally one --set (named in the file: _past2047).
# Dense traces use each workload's defaults.
TRACES=(
  "alexnet          32  -     dense"
  "bert-base        32  128   dense"
  "bert-base        32  128   2:4"
  "bert-large       32  128   dense"
  "gpt2             8   1024  dense"
  "llama-7b         1   512   dense"
  "llama-7b         16  1     dense params.past=2047"
  "resnet-50        32  -     dense"
  "resnet-50        32  -     2:4"
  "transformer-base 32  128   dense"
  "vgg-16           32  -     dense"
  "vit-b16          32  -     dense"
)

for row in "${TRACES[@]}"; do
  read -r workload batch seq pattern set <<<"$row"
  name="${workload}_b${batch}"
  args=(--batch "$batch")
  if [ "$seq" != "-" ]; then
    name+="_s${seq}"
    args+=(--seq "$seq")
  fi
  if [ "$pattern" != "dense" ]; then name+="_${pattern//:/-}"; fi
  if [ -n "$set" ]; then
    args+=(--set "$set")
    value="${set#params.}"
    name+="_${value//=/}"
  fi
  "$STCSIM" trace "workloads/${workload}.yaml" "${args[@]}" --pattern "$pattern" -o "traces/${name}.trace"
done
