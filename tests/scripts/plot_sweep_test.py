#!/usr/bin/python3
"""Tests of scripts/plot_sweep.py on a real sweep of the test grid (run here with stcsim sweep): the
totals per point, trace and run equal the sums of results.csv's lines, speedups and energy ratios are
over each point's own baseline run, the Pareto front is right on a hand-made set, the PNGs are written,
and bad options are refused.

    plot_sweep_test.py STCSIM_BINARY SOURCE_DIR
"""

import os
import subprocess
import sys
import tempfile

stcsim, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(source, "scripts"))
import pandas as pd  # noqa: E402
import plot_sweep as ps  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, failures, finish  # noqa: E402,F401


check(ps.pareto_front([(1, 5), (2, 4), (3, 6), (4, 1), (2, 5)]) == [0, 1, 3], "Pareto front")

with tempfile.TemporaryDirectory() as tmp:
    grid = open(os.path.join(source, "tests/sweep/fixtures/grid.yaml")).read()
    grid = grid.replace("range: {from: 44, to: 132, step: 44}", "values: [66, 132]")
    grid = grid.replace("../../../configs/h100.yaml", os.path.join(source, "configs/h100.yaml"))
    grid = grid.replace("[small.trace]", "[" + os.path.join(source, "tests/sweep/fixtures/small.trace") + "]")
    sweep = os.path.join(tmp, "grid.yaml")
    with open(sweep, "w") as f:
        f.write(grid)
    out = os.path.join(tmp, "sw")
    r = subprocess.run([stcsim, "sweep", sweep, "--out", out, "--jobs", "2"], capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)

    df, columns = ps.totals(out)
    check(columns == ["sms", "sweep_pattern", "dram", "l2"], f"columns {columns}")
    raw = pd.read_csv(os.path.join(out, "results.csv"))
    first = df.iloc[0]
    lines = raw[(raw["point"] == first["point"]) & (raw["run"] == first["run"])]
    check(abs(first["time_s"] - lines["time_s"].sum()) < 1e-15, "time is the sum over the lines")
    for _, row in df.iterrows():
        base = df[(df["point"] == row["point"]) & (df["trace"] == row["trace"]) & (df["run"] == "dense")].iloc[0]
        check(abs(row["speedup"] - base["time_s"] / row["time_s"]) < 1e-12, f"speedup of {row['point']} {row['run']}")
        check(abs(row["energy_ratio"] - row["energy_j"] / base["energy_j"]) < 1e-12, "energy ratio")
    check((df[df["run"] == "dense"]["speedup"] == 1).all(), "the baseline's own speedup is 1")

    prefix = os.path.join(tmp, "plots", "g")
    r = subprocess.run([sys.executable, os.path.join(source, "scripts/plot_sweep.py"), out, "--x", "sms", "--lines", "sweep_pattern",
                        "--where", "l2=3900", "--metrics", "speedup,energy_ratio,imbalance", "--out", prefix],
                       capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)
    for suffix in ("_metrics.png", "_pareto.png", "_summary.csv"):
        check(os.path.exists(prefix + suffix) and os.path.getsize(prefix + suffix) > 0, suffix)
    summary = pd.read_csv(prefix + "_summary.csv")
    check(set(summary["l2"].astype(str)) == {"3900"}, "--where kept only l2=3900")
    r = subprocess.run([sys.executable, os.path.join(source, "scripts/plot_sweep.py"), out, "--x", "nope"], capture_output=True, text=True)
    check(r.returncode != 0 and "no column 'nope'" in r.stderr, r.stderr)
    r = subprocess.run([sys.executable, os.path.join(source, "scripts/plot_sweep.py"), out, "--metrics", "speed"], capture_output=True, text=True)
    check(r.returncode != 0 and "'speed' is not one of" in r.stderr, r.stderr)
    # Bad input: one line, exit 2, never a traceback.
    run_dir = os.path.join(tmp, "run")
    r = subprocess.run([stcsim, "run", "--gemm", "64x64x64", "--out", run_dir], capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)
    bad_csv = os.path.join(tmp, "badcsv")
    os.makedirs(bad_csv)
    with open(os.path.join(bad_csv, "manifest.yaml"), "w") as f:
        f.write("columns: [sms]\npoints: [{name: a, patterns: [dense]}]\n")
    with open(os.path.join(bad_csv, "results.csv"), "w") as f:
        f.write("point,x\na,1\n")
    for args, needle in (([run_dir], "no manifest.yaml: not the --out folder of a finished stcsim sweep"),
                         ([os.path.join(tmp, "nowhere")], "not a folder"),
                         ([bad_csv], "results.csv: no column trace"),
                         ([out, "--where", "sms"], "--where sms: expected COL=VALUE"),
                         ([out, "--where", "sms=7"], "no point has sms = 7 (sms has 132"),
                         ([out, "--out", "/proc/x/plot"], "--out /proc/x/plot: cannot write")):
        r = subprocess.run([sys.executable, os.path.join(source, "scripts/plot_sweep.py")] + args, capture_output=True,
                           text=True)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr,
              f"{args}: {r.returncode} {r.stderr}")

finish("plot_sweep")
