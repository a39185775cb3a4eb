#!/usr/bin/python3
"""Tests of scripts/accuracy_study.py: a --quick run of the digits model writes every output, its
masks have the patterns' densities, it is deterministic (two runs, the same runs.csv), recipes
that retrain recover accuracy a one-shot prune loses, and bad input is one line.

    accuracy_study_test.py STCSIM_BINARY SOURCE_DIR
"""

import csv
import os
import subprocess
import sys
import tempfile

stcsim, source = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402

script = os.path.join(source, "scripts", "accuracy_study.py")


def run(args):
    return subprocess.run(["/usr/bin/python3", script, "--stcsim", stcsim] + args, capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    outs = []
    for i in range(2):
        out = os.path.join(tmp, f"a{i}")
        r = run(["--quick", "--models", "digits-mlp", "--out", out])
        check(r.returncode == 0, f"quick run {i}: {r.returncode} {r.stderr[-500:]}")
        outs.append(out)
    for name in ("runs.csv", "summary.csv", "pareto.png", "README.md"):
        check(os.path.getsize(os.path.join(outs[0], name)) > 0, f"{name} written")
    with open(os.path.join(outs[0], "runs.csv")) as f, open(os.path.join(outs[1], "runs.csv")) as g:
        first, second = f.read(), g.read()
    check(first == second, "two identical runs give the same runs.csv")
    rows = list(csv.DictReader(first.splitlines()))
    check(len(rows) == 4 * 3, f"{len(rows)} runs (4 patterns, dense included, x 3 recipes)")
    value = {(r["pattern"], r["recipe"]): float(r["value"]) for r in rows}
    density = {(r["pattern"], r["recipe"]): float(r["density"]) for r in rows}
    check(value[("dense", "oneshot")] > 0.9, f"dense accuracy {value[('dense', 'oneshot')]}")
    for (pattern, recipe), d in density.items():
        nominal = {"dense": 1.0, "2:4": 0.5, "1:8": 0.125, "tw(g=128,sparsity=0.5)": 0.5}[pattern]
        check(abs(d - nominal) < 0.01, f"{pattern} {recipe}: density {d}, nominal {nominal}")
    # 1:8 keeps an eighth of the weights: one-shot loses accuracy, retraining wins some of it back.
    check(value[("1:8", "oneshot")] < value[("dense", "oneshot")], "1:8 one-shot is below dense")
    check(value[("1:8", "retrain")] > value[("1:8", "oneshot")], "retraining recovers accuracy")
    check(density[("dense", "retrain")] == 1.0, "dense fine-tuned keeps every weight")
    with open(os.path.join(outs[0], "summary.csv")) as f:
        summary = list(csv.DictReader(f))
    speed = {r["pattern"]: float(r["speedup"]) for r in summary}
    check(speed["dense"] == 1.0 and speed["2:4"] > 1.0, f"simulated speedups {speed}")
    # Bad input: one line, exit 2.
    for args, needle in ((["--models", "gpt9"], "--models: 'gpt9' is not one of"),
                         (["--seeds", "0"], "--seeds must be >= 1"),
                         (["--trace", os.path.join(tmp, "none.trace")], "no such file")):
        r = run(args + ["--out", os.path.join(tmp, "bad")])
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1 and needle in lines[0], f"{args}: {r.returncode} {r.stderr}")
    r = subprocess.run(["/usr/bin/python3", script, "--stcsim", os.path.join(tmp, "nothing")], capture_output=True,
                       text=True)
    check(r.returncode == 2 and "not an executable" in r.stderr, f"missing stcsim: {r.stderr}")

finish("accuracy_study")
