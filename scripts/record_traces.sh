#!/usr/bin/env bash
# Records every built-in model of scripts/record_trace.py into traces/recorded/, at the sizes of the
# traces generated from workloads/ in traces/ (scripts/gen_traces.sh), and prints each recording's
# total MACs beside the generated trace's. Needs PyTorch (scripts/install-deps.sh installs Debian's).
# tests/scripts/record_trace_test.py fails when a committed recording differs from a fresh one.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p traces/recorded

# model, batch, seq ("-" for CNNs), past (0: none), the generated trace it is compared with.
MODELS=(
  "bert-base  32  128   0     bert-base_b32_s128.trace"
  "bert-large 32  128   0     bert-large_b32_s128.trace"
  "gpt2       8   1024  0     gpt2_b8_s1024.trace"
  "llama-7b   1   512   0     llama-7b_b1_s512.trace"
  "llama-7b   16  1     2047  llama-7b_b16_s1_past2047.trace"
  "resnet-50  32  -     0     resnet-50_b32.trace"
  "vit-b16    32  -     0     vit-b16_b32.trace"
)

for row in "${MODELS[@]}"; do
  read -r model batch seq past generated <<<"$row"
  out="traces/recorded/${generated}"
  args=(--batch "$batch")
  if [ "$seq" != "-" ]; then args+=(--seq "$seq"); fi
  if [ "$past" != 0 ]; then args+=(--past "$past"); fi
  /usr/bin/python3 scripts/record_trace.py "$model" "${args[@]}" --strict -o "$out" --compare "traces/${generated}" |
    sed -n "s|^total MACs: |${out}: |p"
done
