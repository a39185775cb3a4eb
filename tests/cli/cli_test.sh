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

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
  contains '"density": 0.5,'
  # --json: standard output is the JSON alone.
  /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$TMP/out" || fail "--json output is not JSON alone"
  grep -q "^wrote " "$TMP/err" || fail "the wrote line belongs on stderr with --json"
  expect_ok "$STCSIM" prune --pattern 2:4 --rows 256 --cols 512
  contains "^density +0.5$"
  contains "^index_bits_per_value +2$"
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
  expect_err "pattern '2:4:8': 2N = M selects every column.*write 4:8" "$STCSIM" prune --pattern 2:4:8 --rows 8 --cols 8
  expect_err "pattern 'tw\\(g=0,sparsity=0.5\\)': g" "$STCSIM" prune --pattern 'tw(g=0,sparsity=0.5)' --rows 8 --cols 8
  expect_err "pattern 'unstructured\\(sparsity=1.5\\)': sparsity" "$STCSIM" prune --pattern 'unstructured(sparsity=1.5)' --rows 8 --cols 8
  expect_err "pattern 'block\\(b=4\\)': missing parameter sparsity" "$STCSIM" prune --pattern 'block(b=4)' --rows 8 --cols 8
  expect_err "unknown parameter 'x'" "$STCSIM" prune --pattern 'tw(g=4,sparsity=0.5,x=1)' --rows 8 --cols 8
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

case_run_gemm() {
  expect_ok "$STCSIM" run --config configs/a100.yaml --gemm 8192x8192x8192 --dtype bf16 --pattern 2:4 --set arch.clock_mhz=1200 --out "$TMP/r"
  contains "A100"
  contains "2:4 sparse tensor-core path"
  contains "^total .* [0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+%"
  contains "energy by component"
  for f in config.yaml gemms.trace results.csv stats.yaml; do [ -s "$TMP/r/$f" ] || fail "run --out did not write $f"; done
  head -1 "$TMP/r/results.csv" | grep -q "^run,layer,m,n,k,dtype,pattern,count,math_path,cycles,time_s," || fail "results.csv header"
  [ "$(wc -l < "$TMP/r/results.csv")" -eq 2 ] || fail "results.csv: one row expected"
  grep -q "sm107:" "$TMP/r/stats.yaml" || fail "stats.yaml lacks per-SM stats"
  grep -q "tensor_core:" "$TMP/r/stats.yaml" || fail "stats.yaml lacks tensor-core stats"
  grep -q "clock_mhz: 1200" "$TMP/r/config.yaml" || fail "--set not in the resolved config"
  # The resolved config and the GEMMs as run load back.
  expect_ok "$STCSIM" run --config "$TMP/r/config.yaml" --trace "$TMP/r/gemms.trace"
  expect_ok "$STCSIM" validate "$TMP/r/config.yaml" "$TMP/r/gemms.trace"
  # Without --config the H100 machine is the default.
  expect_ok "$STCSIM" run --gemm 1024x1024x1024
  contains "H100"
  # A pattern the hardware lacks runs dense on zeros, or is refused when the config says so.
  expect_ok "$STCSIM" run --gemm 1024x1024x1024 --pattern 1:4
  contains "run dense on explicit zeros"
  expect_err "1:4 is not supported by H100.*unsupported_sparsity: error" "$STCSIM" run --gemm 1024x1024x1024 --pattern 1:4 --set arch.tensor_core.unsupported_sparsity=error
}

case_run_cycle_model() {
  # The cycle model runs a trace of every kind of line, reports the sub-cores' counters, and gives
  # byte-identical results and stats on identical input.
  printf 'stcsim-trace v1\nl0 300 200 512 fp16 B dense 1\nl1 256 256 256 fp16 B 2:4 1\nl2 128 512 256 fp16 B tw(g=64,sparsity=0.5) 2\nl3 64 64 64 fp16 - dense 3\n' > "$TMP/t.trace"
  expect_ok "$STCSIM" run --config configs/a100.yaml --trace "$TMP/t.trace" --model cycle --out "$TMP/a"
  contains "^total "
  expect_ok "$STCSIM" run --config configs/a100.yaml --trace "$TMP/t.trace" --model cycle --out "$TMP/b"
  cmp -s "$TMP/a/results.csv" "$TMP/b/results.csv" || fail "cycle model: results.csv differs between identical runs"
  cmp -s "$TMP/a/stats.yaml" "$TMP/b/stats.yaml" || fail "cycle model: stats.yaml differs between identical runs"
  grep -q "warp_cycles_long_scoreboard:" "$TMP/a/stats.yaml" || fail "stats.yaml lacks the sub-cores' stall reasons"
  grep -q "selector_stall_cycles:" "$TMP/a/stats.yaml" || fail "stats.yaml lacks the tensor cores' selector stalls"
  # Every shipped config runs the trace in the cycle model.
  for c in configs/*.yaml; do
    expect_ok "$STCSIM" run --config "$c" --trace "$TMP/t.trace" --model cycle --pattern dense --pattern 2:4
    contains "^total "
  done
  # Bad values are one-line errors.
  expect_err "--model: 'slow' is not fast or cycle" "$STCSIM" run --gemm 256x256x256 --model slow
  expect_err "unrecognised option|unrecognized option" "$STCSIM" run --gemm 256x256x256 --exact
  expect_err "arch.sm.math_queue_depth: must be >= 1 \\(got 0\\)" "$STCSIM" run --gemm 256x256x256 --model cycle --set arch.sm.math_queue_depth=0
}

case_load_window() {
  # A window of outstanding loads smaller than a k-block (arch.sm.max_outstanding_bytes) holds each
  # SM to one load in flight and its loads are counted as held back; a window larger than anything in
  # flight changes no byte of the results. In both models. (Fewer cycles under a window are possible:
  # loads held back contend less for the L2.)
  for model in fast cycle; do
    expect_ok "$STCSIM" run --gemm 1024x1024x4096 --model "$model" --out "$TMP/open_$model"
    expect_ok "$STCSIM" run --gemm 1024x1024x4096 --model "$model" --set arch.sm.max_outstanding_bytes=16384 --out "$TMP/held_$model"
    expect_ok "$STCSIM" run --gemm 1024x1024x4096 --model "$model" --set arch.sm.max_outstanding_bytes=1073741824 --out "$TMP/wide_$model"
    held_back=$(awk '/throttled_requests:/ { s += $2 } END { print s + 0 }' "$TMP/held_$model/stats.yaml")
    [ "$held_back" -gt 0 ] || fail "$model: no load was held back by a 16 KiB window"
    none=$(awk '/throttled_requests:/ { s += $2 } END { print s + 0 }' "$TMP/open_$model/stats.yaml")
    [ "$none" -eq 0 ] || fail "$model: loads held back with no window"
    cmp -s "$TMP/open_$model/results.csv" "$TMP/wide_$model/results.csv" || fail "$model: a 1 GiB window changed the results"
    cmp -s "$TMP/open_$model/results.csv" "$TMP/held_$model/results.csv" && fail "$model: a 16 KiB window changed nothing"
  done
  expect_err "arch.sm.max_outstanding_bytes: must be >= 0" "$STCSIM" run --gemm 256x256x256 --set arch.sm.max_outstanding_bytes=-1
}

case_smem_swizzle() {
  # Unswizzled tiles (kernel.smem_swizzle: false): A100's ldmatrix reads of 128-byte rows conflict
  # 8 ways on 32 banks of 4 bytes, in both models: conflict cycles counted, the GEMM slower, the two
  # models within 5% of each other; 64 banks halve the conflict.
  for model in fast cycle; do
    expect_ok "$STCSIM" run --config configs/a100.yaml --gemm 1024x1024x1024 --model "$model" --out "$TMP/sw_$model"
    expect_ok "$STCSIM" run --config configs/a100.yaml --gemm 1024x1024x1024 --model "$model" --set kernel.smem_swizzle=false --out "$TMP/plain_$model"
    sw=$(awk -F, 'NR == 2 { print $10 }' "$TMP/sw_$model/results.csv")
    plain=$(awk -F, 'NR == 2 { print $10 }' "$TMP/plain_$model/results.csv")
    [ "$plain" -gt $((sw * 2)) ] || fail "$model: $plain cycles unswizzled, $sw swizzled: 8-way conflicts should more than double them"
    conflicts=$(awk '/^ *shared_memory:/ { s = 1; next } s && /conflict_cycles:/ { c += $2; s = 0 } END { print c + 0 }' "$TMP/plain_$model/stats.yaml")
    [ "$conflicts" -gt 0 ] || fail "$model: no shared-memory conflict cycles counted"
  done
  f=$(awk -F, 'NR == 2 { print $10 }' "$TMP/plain_fast/results.csv")
  c=$(awk -F, 'NR == 2 { print $10 }' "$TMP/plain_cycle/results.csv")
  awk -v f="$f" -v c="$c" 'BEGIN { d = f / c - 1; exit !(d < 0.05 && d > -0.05) }' || fail "fast $f and cycle $c cycles differ by over 5%"
  expect_ok "$STCSIM" run --config configs/a100.yaml --gemm 1024x1024x1024 --set kernel.smem_swizzle=false --set arch.sm.shared_memory.banks=64 --out "$TMP/wide"
  wide=$(awk -F, 'NR == 2 { print $10 }' "$TMP/wide/results.csv")
  [ "$wide" -lt "$f" ] || fail "64 banks: $wide cycles, not fewer than 32 banks' $f"
}

case_run_compare() {
  # Dense and 2:4 side by side; identical inputs give byte-identical results and stats.
  expect_ok "$STCSIM" run --trace traces/bert-base_b32_s128.trace --pattern dense --pattern 2:4 --out "$TMP/a"
  contains "side by side over 'dense'"
  contains "^bert-base.ffn1 +dense +[0-9]+ +[0-9.]+ +1.000x +1.000x$"
  contains "^ +2:4 +[0-9]+ +[0-9.]+ +1\\.[0-9]+x +0\\.[0-9]+x$"
  [ "$(wc -l < "$TMP/a/results.csv")" -eq 13 ] || fail "results.csv: 12 rows expected"
  expect_ok "$STCSIM" run --trace traces/bert-base_b32_s128.trace --pattern dense --pattern 2:4 --out "$TMP/b"
  cmp -s "$TMP/a/results.csv" "$TMP/b/results.csv" || fail "results.csv differs between identical runs"
  cmp -s "$TMP/a/stats.yaml" "$TMP/b/stats.yaml" || fail "stats.yaml differs between identical runs"
  # A run alone gives the rows it gives beside another run (each run starts on a cold memory system).
  expect_ok "$STCSIM" run --trace traces/bert-base_b32_s128.trace --pattern 2:4 --out "$TMP/c"
  [ "$(tail -n +2 "$TMP/c/results.csv")" = "$(tail -n 6 "$TMP/a/results.csv")" ] || fail "2:4 alone differs from 2:4 beside dense"
}

case_run_functional() {
  # Every pattern computed through the datapath equals the reference GEMM; over-limit GEMMs are refused.
  expect_ok "$STCSIM" run --gemm 200x72x136 --pattern dense --pattern 2:4 --pattern 1:4 --pattern 2:8 --pattern 16:2:8 \
    --pattern 'tw(g=32,sparsity=0.5)' --pattern 'tvw(g=32,sparsity=0.5,n=2,m=4)' --pattern 'block(b=8,sparsity=0.5)' \
    --pattern 'unstructured(sparsity=0.8)' --functional --out "$TMP/f"
  contains "every GEMM equals the reference bit for bit"
  contains "sparse 2:4 MMAs through the operand selector"
  [ "$(grep -c ',0,0,1$' "$TMP/f/functional.csv")" -eq 9 ] || fail "functional.csv: 9 exact rows expected"
  # Labels with commas (the tw, tvw, block and unstructured runs) are quoted: every row has 12 fields.
  /usr/bin/python3 -c 'import csv, sys; sys.exit(any(len(r) != 12 for r in csv.reader(open(sys.argv[1]))))' \
    "$TMP/f/functional.csv" || fail "functional.csv: a row without 12 fields (an unquoted label)"
  # With a selector that takes M = 8, 1:4 and 2:8 go through it.
  expect_ok "$STCSIM" run --gemm 72x40x200 --pattern 2:8 --functional --set arch.tensor_core.operand_selector.max_m=8 \
    --set arch.tensor_core.dtypes.fp16.sparse.2:8=2048
  contains "sparse 2:8 MMAs through the operand selector"
  expect_err "over functional mode's limit" "$STCSIM" run --gemm 4096x4096x4096 --functional
}

case_run_functional_cycle() {
  # Through the cycle model's MMAs every pattern equals the reference GEMM, and --functional changes
  # no byte of the timing results; split-K launches are refused in one line.
  local pats=(--pattern dense --pattern 2:4 --pattern 16:2:8 --pattern 'tw(g=32,sparsity=0.5)'
    --pattern 'tvw(g=32,sparsity=0.5,n=2,m=4)' --pattern 'block(b=8,sparsity=0.5)' --pattern 'unstructured(sparsity=0.8)')
  for c in configs/h100.yaml configs/a100.yaml configs/v100.yaml; do
    expect_ok "$STCSIM" run --config "$c" --gemm 200x72x136 --model cycle "${pats[@]}" --functional --out "$TMP/fc"
    contains "every GEMM equals the reference bit for bit"
    [ "$(grep -c ',0,0,1$' "$TMP/fc/functional.csv")" -eq 7 ] || fail "$c: functional.csv: 7 exact rows expected"
    grep -q "cycle model: .* MMAs as its warps issued them" "$TMP/fc/functional.csv" || fail "$c: functional.csv does not name the cycle model's MMAs"
    expect_ok "$STCSIM" run --config "$c" --gemm 200x72x136 --model cycle "${pats[@]}" --out "$TMP/fc0"
    cmp -s "$TMP/fc/results.csv" "$TMP/fc0/results.csv" || fail "$c: --functional changed results.csv"
    cmp -s "$TMP/fc/stats.yaml" "$TMP/fc0/stats.yaml" || fail "$c: --functional changed stats.yaml"
  done
  expect_err "functional mode through the cycle model takes no split-k launch" \
    "$STCSIM" run --gemm 256x256x4096 --model cycle --functional --set kernel.split_k=2 --set 'kernel.candidates=[]'
}

case_run_cluster() {
  # D tiles multicast in 2-CTA clusters: fewer L2 bytes, the same DRAM bytes, no more cycles (the
  # machine's kernel alone, without the candidates it could choose among).
  expect_ok "$STCSIM" run --gemm 4096x4096x4096 --set 'kernel.candidates=[]' --out "$TMP/c1"
  expect_ok "$STCSIM" run --gemm 4096x4096x4096 --set 'kernel.candidates=[]' --set kernel.cluster_m=2 --out "$TMP/c2"
  col() { awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i } NR == 2 { print $c }' "$1"; }
  [ "$(col "$TMP/c2/results.csv" l2_bytes)" -lt "$(col "$TMP/c1/results.csv" l2_bytes)" ] || fail "multicast did not cut L2 bytes"
  # DRAM sees whole tiles either way; the timing shift changes which tiles L2 evicts (the 64 MB of
  # operands do not fit its 50 MB): within 10% (5.5% at this commit).
  [ "$(col "$TMP/c2/results.csv" dram_bytes)" -le "$(( $(col "$TMP/c1/results.csv" dram_bytes) * 110 / 100 ))" ] || fail "multicast changed DRAM bytes"
  [ "$(col "$TMP/c2/results.csv" cycles)" -le "$(col "$TMP/c1/results.csv" cycles)" ] || fail "multicast made it slower"
  expect_err "kernel.cluster_m: multicast to 2 CTAs needs global_loads: tma" "$STCSIM" run --config configs/a100.yaml --gemm 64x64x64 --set kernel.cluster_m=2
}

case_run_vcd() {
  expect_ok "$STCSIM" run --gemm 512x512x512 --pattern 2:4 --vcd "$TMP/w.vcd"
  [ -s "$TMP/w.vcd" ] || fail "no waveform written"
  grep -q '\$var .* resident_ctas' "$TMP/w.vcd" || fail "waveform lacks resident_ctas"
  grep -q '\$var .* dram_backlog_cycles' "$TMP/w.vcd" || fail "waveform lacks dram_backlog_cycles"
  grep -q '^#[1-9]' "$TMP/w.vcd" || fail "waveform has no time steps"
}

case_run_shipped() {
  # Every shipped config runs every shipped trace and writes its results; the recordings, whose
  # shapes are the generated traces', run on H100. STCSIM_SHIPPED_SUBSET=1 (the sanitizer build):
  # every config runs the BERT-base trace and every trace is validated, and H100 runs one trace of
  # each kind of line (convolutions, sparse weights, attention).
  if [ "${STCSIM_SHIPPED_SUBSET:-0}" = 1 ]; then
    for t in traces/*.trace traces/recorded/*.trace; do
      expect_ok "$STCSIM" validate "$t"
    done
  fi
  for c in configs/*.yaml; do
    for t in traces/*.trace traces/recorded/*.trace; do
      if [ "${STCSIM_SHIPPED_SUBSET:-0}" = 1 ]; then
        case "$c $t" in
          *" traces/bert-base_b32_s128.trace") ;;
          "configs/h100.yaml traces/alexnet_b32.trace" | "configs/h100.yaml traces/resnet-50_b32_2-4.trace" | \
            "configs/h100.yaml traces/gpt2_b8_s1024.trace") ;;
          *) continue ;;
        esac
      elif [ "${t#traces/recorded/}" != "$t" ] && [ "$c" != configs/h100.yaml ]; then
        continue
      fi
      expect_ok "$STCSIM" run --config "$c" --trace "$t" --out "$TMP/s"
      contains "^total "
      [ -s "$TMP/s/results.csv" ] && [ -s "$TMP/s/stats.yaml" ] || fail "$c $t: results not written"
    done
  done
}

case_rough_edges() {
  # trace -o - writes the trace to standard output, and no file named '-'.
  (cd "$TMP" && "$STCSIM" trace "$SRC/workloads/gpt2.yaml" -o - >"$TMP/out" 2>"$TMP/err") || fail "trace -o -"
  head -1 "$TMP/out" | grep -q "^stcsim-trace v1$" || fail "trace -o - did not write the trace"
  [ ! -e "$TMP/-" ] || fail "trace -o - wrote a file named -"
  # A header-only trace is refused; a spec with a space says why its line has too many fields.
  printf 'stcsim-trace v1\n# nothing\n' > "$TMP/h.trace"
  expect_err "h.trace:2: trace: holds no GEMM lines" "$STCSIM" run --trace "$TMP/h.trace"
  printf 'stcsim-trace v1\nl 64 64 64 fp16 B tw(g=32, sparsity=0.5) 1\n' > "$TMP/s.trace"
  expect_err "s.trace:2: line: expected 8 fields .* got 9: a pattern spec cannot hold spaces" "$STCSIM" run --trace "$TMP/s.trace"
  # A file that is not one stcsim reads is named as such, not as a YAML syntax error.
  expect_err "README.md: \(document\): not a file stcsim knows" "$STCSIM" validate README.md
  # Singular counts, small amounts with their unit, a --gemm run named gemm.
  expect_ok "$STCSIM" run --gemm 64x64x64
  contains "^workload: --gemm 64x64x64 \(1 GEMM line, 262.144 kMACs dense\)$"
  contains "^== run: gemm \(1 GEMM line\) at"
  contains "; 1 CTA in 1 wave \("
  contains "^traffic: L2 [0-9.]+ kB, DRAM [0-9.]+ kB; MACs executed"
  # The peaks in the datasheets' order, widest type first, int8 in TOPS.
  contains "^peak .*: tf32 494.7 \\(1:2 989.4\\), bf16 989.4 \\(2:4 1978.9\\), fp16 989.4 \\(2:4 1978.9\\), fp8 1978.9 \\(2:4 3957.7\\), int8 1978.9 \\(2:4 3957.7\\) TOPS$"
}

case_run_bad_input() {
  expect_err "arch.bogus: unknown key" "$STCSIM" run --gemm 64x64x64 --set arch.bogus=1
  expect_err "--set arch.sms=0: arch.sms: must be >= 1 \\(got 0\\)" "$STCSIM" run --gemm 64x64x64 --set arch.sms=0
  expect_err "expected key.path=value" "$STCSIM" run --gemm 64x64x64 --set arch.sms
  expect_err "nowhere.yaml: cannot open" "$STCSIM" run --config "$TMP/nowhere.yaml" --gemm 64x64x64
  expect_err "nowhere.trace: cannot open" "$STCSIM" run --trace "$TMP/nowhere.trace"
  expect_err "exactly one of --trace and --gemm" "$STCSIM" run
  expect_err "--gemm: expected MxNxK" "$STCSIM" run --gemm 64x64
  expect_err "--gemm: 'y' in '64xyx64' is not an integer" "$STCSIM" run --gemm 64xyx64
  expect_err "overflows 64-bit sizes" "$STCSIM" run --gemm 2147483647x2147483647x2147483647
  expect_err "--gemm: m: must be in 1.." "$STCSIM" run --gemm 0x64x64
  expect_err "pattern 'tw\\(g=0" "$STCSIM" run --gemm 64x64x64 --pattern 'tw(g=0,sparsity=0.5)'
  expect_err "gemm: fp8 is not supported by the tensor cores of V100" "$STCSIM" run --config configs/v100.yaml --gemm 64x64x64 --dtype fp8
  printf 'stcsim-trace v1\nok 8 8 8 fp16 B 2:4 1\nbad 8 8 8 fp16 B 2:4 1.5\n' > "$TMP/bad.trace"
  expect_err "bad.trace:3: count: '1.5' is not an integer" "$STCSIM" run --trace "$TMP/bad.trace"
  expect_err "cannot create the waveform file" "$STCSIM" run --gemm 64x64x64 --vcd "$TMP/no/such/dir/w.vcd"
  expect_err "--seed" "$STCSIM" run --gemm 64x64x64 --seed -3
}

case_validate() {
  expect_ok "$STCSIM" validate configs/h100.yaml configs/arch/a100.yaml configs/energy/4nm.yaml
  contains "^ok +configs/h100.yaml"
  printf 'arch:\n  sms: 132\n  bogus: 1\n' > "$TMP/c.yaml"
  expect_err "c.yaml:3: arch.bogus: unknown key|c.yaml:.*arch" "$STCSIM" validate "$TMP/c.yaml"
  printf 'hello: 1\n' > "$TMP/h.yaml"
  expect_err "h.yaml: \\(document\\): not a trace" "$STCSIM" validate "$TMP/h.yaml"
  printf 'stcsim-trace v1\nl 1 1 1 fp16 B 4:2 1\n' > "$TMP/t.trace"
  expect_err "t.trace:2: pattern: pattern '4:2'" "$STCSIM" validate "$TMP/t.trace"
  expect_err "give at least one file" "$STCSIM" validate
}

case_trace() {
  expect_ok "$STCSIM" trace workloads/bert-base.yaml --batch 32 --seq 128 -o "$TMP/b.trace"
  contains "6 GEMM lines"
  expect_ok "$STCSIM" validate "$TMP/b.trace"
  # The shipped trace is what the command writes.
  cmp -s "$TMP/b.trace" traces/bert-base_b32_s128.trace || fail "generated trace differs from the shipped one"
  expect_ok "$STCSIM" trace workloads/resnet-50.yaml --batch 8 --pattern 'tvw(g=64,sparsity=0.5,n=2,m=4)' -o "$TMP/r.trace"
  grep -q "tvw(g=64,sparsity=0.5,n=2,m=4)" "$TMP/r.trace" || fail "pattern not in the trace"
  expect_ok "$STCSIM" run --trace "$TMP/r.trace"
  contains "compacted tiles"
}

case_trace_bad_input() {
  expect_err "-o" "$STCSIM" trace workloads/bert-base.yaml --batch 32 --seq 128
  expect_err "takes no --seq" "$STCSIM" trace workloads/resnet-50.yaml --batch 32 --seq 128 -o "$TMP/x.trace"
  expect_err "nowhere.yaml: cannot open" "$STCSIM" trace "$TMP/nowhere.yaml" --batch 1 -o "$TMP/x.trace"
  expect_err "pattern '2:4:8:1'" "$STCSIM" trace workloads/bert-base.yaml --batch 1 --seq 8 --pattern 2:4:8:1 -o "$TMP/x.trace"
  expect_err "seq" "$STCSIM" trace workloads/bert-base.yaml --batch 1 --seq 100000 -o "$TMP/x.trace"
  printf 'name: w\ndescription: d\nsource: s\ndefaults: {batch: 1}\nlayers:\n  - {name: a, m: batch*zz, n: 4, k: 4, weights: B}\n' > "$TMP/w.yaml"
  expect_err "w.yaml:6: layers\\[0\\]" "$STCSIM" trace "$TMP/w.yaml" --batch 1 -o "$TMP/x.trace"
  [ ! -e "$TMP/x.trace" ] || fail "a failed trace command left a file"
}

"$CASE"
