#!/usr/bin/env bash
# End-to-end tests of `stcsim sweep`: expansion, results layout, refusal of bad sweep files, and that a
# sweep killed with kill -9 half-way and resumed gives exactly the rows of an uninterrupted run.
# Usage: sweep_test.sh CASE STCSIM_BINARY SOURCE_DIR
set -u
CASE=$1
STCSIM=$2
SRC=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$SRC" || exit 1
# shellcheck source=tests/cli/lib.sh
. "$SRC/tests/cli/lib.sh"
GRID=tests/sweep/fixtures/grid.yaml

case_sweep_list() {
  expect_ok "$STCSIM" sweep "$GRID" --list
  contains "13 points x 1 trace = 13 jobs"
  # The first axis outermost, the zip advancing together, labels in point names, the named point last.
  contains "^   0  sms=44,sweep_pattern=2:4,dram=slow,l2=3900 "
  contains "^   1  sms=44,sweep_pattern=2:4,dram=slow,l2=7800 "
  contains "^   2  sms=44,sweep_pattern=tw\\(g=128,sparsity=0.5\\),dram=fast,l2=3900 "
  contains "^  11  sms=132,sweep_pattern=tw"
  contains "^  12  fast-dram +runs dense, 2:4  set arch.dram.bandwidth_gbps=6700"
}

case_sweep_results() {
  sed 's/range: {from: 44, to: 132, step: 44}/values: [132]/' "$GRID" > "$TMP/g.yaml"
  cp tests/sweep/fixtures/small.trace "$TMP/"
  sed -i "s|../../../configs/h100.yaml|$SRC/configs/h100.yaml|" "$TMP/g.yaml"
  expect_ok "$STCSIM" sweep "$TMP/g.yaml" --out "$TMP/sw" --jobs 2
  [ -f "$TMP/sw/manifest.yaml" ] || fail "no manifest"
  grep -q "^commit: " "$TMP/sw/manifest.yaml" || fail "manifest lacks the commit"
  grep -q "sha256: [0-9a-f]\{64\}" "$TMP/sw/manifest.yaml" || fail "manifest lacks input hashes"
  head -1 "$TMP/sw/results.csv" | grep -q "^point,sms,sweep_pattern,dram,l2,trace,run,layer,m,n,k," || fail "results header: $(head -1 "$TMP/sw/results.csv")"
  # 5 points x (baseline + 1 run) x 3 lines
  [ "$(tail -n +2 "$TMP/sw/results.csv" | wc -l)" -eq 30 ] || fail "expected 30 rows, got $(tail -n +2 "$TMP/sw/results.csv" | wc -l)"
  grep -q "^fast-dram,,2:4,6700,,small.trace,dense,fc1," "$TMP/sw/results.csv" || fail "named point row"
  # Running into the same folder again needs --resume; --resume with nothing missing runs nothing.
  expect_err "give --resume" "$STCSIM" sweep "$TMP/g.yaml" --out "$TMP/sw"
  expect_ok "$STCSIM" sweep "$TMP/g.yaml" --out "$TMP/sw" --resume
  contains "0 jobs run, 0 failed, 5 were done before"
  # A changed sweep file cannot resume into the old folder.
  sed -i 's/seed: 3/seed: 4/' "$TMP/g.yaml"
  expect_err "differs from" "$STCSIM" sweep "$TMP/g.yaml" --out "$TMP/sw" --resume
}

# small_sweep NAME BODY: $TMP/NAME.yaml, a sweep of the H100 config on the small trace plus BODY
# (printf escapes).
small_sweep() {
  printf "name: x\nconfig: %s/configs/h100.yaml\ntraces: [%s/tests/sweep/fixtures/small.trace]\n$2" "$SRC" "$SRC" > "$TMP/$1.yaml"
}

case_sweep_bad_files() {
  small_sweep a 'axes:\n  - {key: arch.smz, values: [1]}\n'
  expect_err "a.yaml:4: point 0 'arch.smz=1'.*arch.smz" "$STCSIM" sweep "$TMP/a.yaml" --list
  # A named point's bad override names that point's line.
  small_sweep p 'points:\n  - {name: ok, set: {arch.sms: 2}}\n  - {name: bad, set: {arch.sms: 0}}\n'
  expect_err "p.yaml:6: point 1 'bad'.*arch.sms: must be >= 1" "$STCSIM" sweep "$TMP/p.yaml" --list
  # A misspelt key is named, with every key valid there; an empty list says it is empty.
  small_sweep v 'axes:\n  - {key: arch.sms, valeus: [1]}\n'
  expect_err "v.yaml:5: axes\\[0\\].valeus: unknown key \\(known here: key, labels, name, range, values, zip\\)" "$STCSIM" sweep "$TMP/v.yaml" --list
  small_sweep w 'axes:\n  - {key: arch.sms, values: []}\n'
  expect_err "axes\\[0\\].values: must list at least one value \\(got an empty list\\)" "$STCSIM" sweep "$TMP/w.yaml" --list
  small_sweep b 'axes:\n  - zip:\n      - {key: arch.sms, values: [1, 2]}\n      - {key: arch.l2.bytes, values: [1]}\n'
  expect_err "b.yaml:[0-9]+: axes\\[0\\].zip: .*equally long" "$STCSIM" sweep "$TMP/b.yaml" --list
  printf 'name: x\nconfig: %s/configs/h100.yaml\ntraces: [nowhere.trace]\n' "$SRC" > "$TMP/c.yaml"
  expect_err "c.yaml:3: traces\\[0\\]: no file" "$STCSIM" sweep "$TMP/c.yaml" --list
  small_sweep d 'patterns: [2:4]\naxes:\n  - {key: pattern, values: [dense]}\n'
  expect_err "not with a .pattern. axis" "$STCSIM" sweep "$TMP/d.yaml" --list
  small_sweep e 'speed: 3\n'
  expect_err "e.yaml:4: speed: unknown key \\(known here: .*axes.*patterns.*points.*set" "$STCSIM" sweep "$TMP/e.yaml" --list
  small_sweep f 'axes:\n  - {key: arch.sms, name: layer, values: [1]}\n'
  expect_err "column 'layer'" "$STCSIM" sweep "$TMP/f.yaml" --list
  small_sweep g 'axes:\n  - {key: pattern, values: ["2:4:8:1"]}\n'
  expect_err "pattern '2:4:8:1'" "$STCSIM" sweep "$TMP/g.yaml" --list
}

# kill -9 half-way (the whole process group: the sweep and its workers), then --resume: the same
# results.csv, byte for byte, as a run never interrupted, and no row twice.
case_sweep_kill_resume() {
  expect_ok "$STCSIM" sweep "$GRID" --out "$TMP/whole" --jobs 2
  setsid "$STCSIM" sweep "$GRID" --out "$TMP/cut" --jobs 2 >/dev/null 2>&1 &
  local pid=$!
  local n=0
  for _ in $(seq 1 600); do
    n=$(find "$TMP/cut/jobs" -name '*.csv' 2>/dev/null | wc -l)
    [ "$n" -ge 4 ] && break
    sleep 0.05
  done
  kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid"
  wait "$pid" 2>/dev/null
  n=$(find "$TMP/cut/jobs" -name '*.csv' | wc -l)
  [ "$n" -ge 4 ] && [ "$n" -lt 13 ] || fail "the kill did not land half-way ($n of 13 jobs done)"
  expect_ok "$STCSIM" sweep "$GRID" --out "$TMP/cut" --resume --jobs 2
  contains "were done before"
  cmp "$TMP/whole/results.csv" "$TMP/cut/results.csv" || fail "resumed results differ from an uninterrupted run"
  [ "$(sort "$TMP/cut/results.csv" | uniq -d | wc -l)" -eq 0 ] || fail "a row appears twice"
  # The killed sweep's job folders (jobs/*.tmp.PID) are gone after the resume.
  [ -z "$(find "$TMP/cut/jobs" -name '*.tmp.*')" ] || { ls "$TMP/cut/jobs" >&2; fail "stale job folders remain"; }
}

# A `config` axis sweeps machine config files; ~ in a zip leaves a key as that point's config has it.
case_sweep_config_axis() {
  cat > "$TMP/m.yaml" <<YAML
name: machines
config: $SRC/configs/h100.yaml
traces: [$SRC/tests/sweep/fixtures/small.trace]
patterns: ["2:4"]
axes:
  - zip:
      - {key: config, name: gpu, values: [$SRC/configs/a100.yaml, $SRC/configs/h100.yaml], labels: [a100, h100]}
      - {key: kernel.cluster_m, values: [~, 2]}
YAML
  expect_ok "$STCSIM" sweep "$TMP/m.yaml" --list
  contains "2 points x 1 trace = 2 jobs"
  contains "gpu=a100,kernel.cluster_m=unset"
  contains "gpu=h100,kernel.cluster_m=2"
  expect_ok "$STCSIM" sweep "$TMP/m.yaml" --out "$TMP/m" --jobs 2
  grep -q "config: .*a100.yaml" "$TMP/m/manifest.yaml" || fail "the manifest names the point's config"
  # The A100 point and the H100 one (clusters of 2) give different rows.
  [ "$(awk -F, 'NR > 1' "$TMP/m/results.csv" | wc -l)" -eq 6 ] || fail "results.csv: 2 points x 3 lines expected"
  /usr/bin/python3 - "$TMP/m/results.csv" <<'PY' || fail "the two machines' rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
a = [r for r in rows if r["point"].startswith("gpu=a100")]
h = [r for r in rows if r["point"].startswith("gpu=h100")]
assert len(a) == 3 and len(h) == 3, (len(a), len(h))
assert a[0]["gpu"].endswith("a100.yaml") and h[0]["kernel.cluster_m"] == "2" and a[0]["kernel.cluster_m"] == ""
assert a[0]["cycles"] != h[0]["cycles"], "the same cycles on both machines"
PY
  # A missing config file names the line of the axes.
  sed "s|configs/a100.yaml|configs/nowhere.yaml|" "$TMP/m.yaml" > "$TMP/n.yaml"
  expect_err "n.yaml:[0-9]+: point 0 .*nowhere.yaml: no such file" "$STCSIM" sweep "$TMP/n.yaml" --list
  # ~ outside a zip, or for a pattern, is refused.
  small_sweep u 'axes:\n  - {key: arch.sms, values: [~, 2]}\n'
  expect_err "u.yaml:[0-9]+: axes\\[0\\].values: entry 0 must be a single value" "$STCSIM" sweep "$TMP/u.yaml" --list
}

case_sweep_shared_baseline() {
  # Two machines x two patterns, and a named point on the first machine again (arch.sms 132 is the
  # H100's own): the dense baseline is simulated once per machine, and every point's results hold it.
  cat > "$TMP/b.yaml" <<YAML
name: shared
config: $SRC/configs/h100.yaml
traces: [$SRC/tests/sweep/fixtures/small.trace]
baseline: dense
axes:
  - {key: arch.sms, name: sms, values: [132, 66]}
  - {key: pattern, values: ["2:4", "tw(g=64,sparsity=0.5)"]}
points:
  - {name: again, set: {arch.sms: 132, pattern: "tw(g=64,sparsity=0.5)"}}
YAML
  expect_ok "$STCSIM" sweep "$TMP/b.yaml" --list
  contains "^   0  sms=132,sweep_pattern=2:4 +runs dense, 2:4  set"
  contains "^   1  sms=132,sweep_pattern=tw\\(g=64,sparsity=0.5\\) +runs tw\\(g=64,sparsity=0.5\\) \\(its dense rows from point 0\\)"
  contains "^   2  sms=66,sweep_pattern=2:4 +runs dense, 2:4  set"
  contains "^   3  sms=66,.* \\(its dense rows from point 2\\)"
  contains "^   4  again +runs tw\\(g=64,sparsity=0.5\\) \\(its dense rows from point 0\\)"
  expect_ok "$STCSIM" sweep "$TMP/b.yaml" --out "$TMP/b" --jobs 2
  grep -q "baseline_from: 2 " "$TMP/b/manifest.yaml" || fail "the manifest says which point's baseline a point shares"
  # Point 1's own job ran only its pattern.
  [ "$(tail -n +2 "$TMP/b/jobs/1-0.csv" | wc -l)" -eq 3 ] || fail "jobs/1-0.csv: 3 rows (its pattern only) expected"
  # Each point's dense rows are what that machine's dense run gives alone.
  expect_ok "$STCSIM" run --config configs/h100.yaml --trace tests/sweep/fixtures/small.trace --set arch.sms=66 \
    --pattern dense --out "$TMP/alone"
  /usr/bin/python3 - "$TMP/b/results.csv" "$TMP/alone/results.csv" <<'PY' || fail "shared baseline rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
alone = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 5 * 2 * 3, len(rows)
skip = ("point", "sms", "sweep_pattern", "trace")
def dense(point):
    got = [{k: v for k, v in r.items() if k not in skip} for r in rows if r["point"] == point and r["run"] == "dense"]
    assert len(got) == 3, (point, len(got))
    return got
assert dense("sms=132,sweep_pattern=2:4") == dense("sms=132,sweep_pattern=tw(g=64,sparsity=0.5)") == dense("again")
assert dense("sms=66,sweep_pattern=tw(g=64,sparsity=0.5)") == dense("sms=66,sweep_pattern=2:4") == alone
assert dense("sms=66,sweep_pattern=2:4") != dense("again"), "the two machines' baselines are the same"
PY
}

# --emit slurm with hostile names: a sweep file, an output folder and a sweep name holding $(...),
# quotes and spaces run nothing when the script runs, and the job still finds its files; an output
# folder that an #SBATCH line cannot hold is refused with one line.
case_sweep_slurm_hostile_names() {
  local dir="$TMP/it's here"
  mkdir -p "$dir"
  local sweep="$dir/x\$(touch PWNED1).yaml"
  sed "s/range: {from: 44, to: 132, step: 44}/values: [132]/; s/values: \\[3900, 7800\\]/values: [3900]/;
       s|^name: .*|name: \"a\$(touch PWNED2) \`touch PWNED3\`\"|;
       s|../../../configs/h100.yaml|$SRC/configs/h100.yaml|; s|\\[small.trace\\]|[$SRC/tests/sweep/fixtures/small.trace]|" \
    "$GRID" > "$sweep"
  local out="$TMP/o\$(touch\${IFS}PWNED4)\`touch\${IFS}PWNED5\`;touch\${IFS}PWNED6"
  expect_ok "$STCSIM" sweep "$sweep" --out "$out" --emit slurm
  contains "^submit: sbatch '"
  grep -q "^#SBATCH --job-name=stcsim-a__touch_PWNED2___touch_PWNED3_$" "$out/sweep.slurm" ||
    fail "job name: $(grep job-name "$out/sweep.slurm")"
  (cd "$TMP" && SLURM_ARRAY_TASK_ID=0 bash "$out/sweep.slurm" >/dev/null 2>"$TMP/job.err") ||
    fail "array task 0 failed: $(cat "$TMP/job.err")"
  [ -z "$(find "$TMP" "$SRC" -maxdepth 3 -name 'PWNED*' 2>/dev/null)" ] || fail "the script ran a command from a name"
  [ "$(find "$out/jobs" -name '*.csv' | wc -l)" -eq 1 ] || fail "array task 0 wrote no results"
  # The hint's sbatch command, pasted into a shell, names the same script.
  local hint
  hint=$(sed -n 's/^submit: sbatch \(.*\); then: .*/\1/p' "$TMP/out")
  [ "$(eval "printf %s $hint")" = "$out/sweep.slurm" ] || fail "the hint quotes another path: $hint"
  expect_err "#SBATCH --output line cannot hold spaces" "$STCSIM" sweep "$sweep" --out "$TMP/with space" --emit slurm
  expect_err "'%' as a file-name pattern" "$STCSIM" sweep "$sweep" --out "$TMP/p%j" --emit slurm
  [ ! -e "$TMP/with space" ] || fail "a refused --emit left its folder"
}

"$CASE"
