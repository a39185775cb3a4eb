#!/usr/bin/python3
"""Tests of scripts/compare.py on two small hand-written results files (synthetic times chosen so that
every error is a round number; not measurements): the join picks the asked backends, the per-row time
and speedup errors, MAPE and Pearson correlation, the plots and the joined rows are written, and files
that are not results are refused.

    compare_test.py SOURCE_DIR
"""

import os
import subprocess
import sys
import tempfile

source = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.join(source, "scripts"))
import compare  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, failures, finish  # noqa: E402,F401


fix = os.path.join(source, "tests/scripts/fixtures")
sim = compare.load(os.path.join(fix, "compare_sim.csv"), "simulated")
meas = compare.load(os.path.join(fix, "compare_measured.csv"), "measured")
j = compare.join(sim, meas, "own", "own")
check(len(j) == 4, f"4 joined rows, got {len(j)}")
fc1 = j[(j["layer"] == "fc1") & (j["pattern"] == "dense")].iloc[0]
check(abs(fc1["time_s_measured"] - 0.010) < 1e-12, "dense rows from the own backend, not cuBLAS")
# Time errors: fc1 dense 0, fc2 dense -0.2, fc1 2:4 +0.25, fc2 2:4 -0.2 -> MAPE 0.1625.
agg = compare.aggregate(j)
check(abs(agg["mape_time"] - 0.1625) < 1e-9, f"MAPE of time {agg['mape_time']}")
# Speedups: fc1 sim 2 vs measured 2.5 (-0.2); fc2 sim 2 vs measured 2 (0) -> MAPE 0.1.
check(agg["speedup_rows"] == 2, f"speedup rows {agg['speedup_rows']}")
check(abs(agg["mape_speedup"] - 0.1) < 1e-9, f"MAPE of speedup {agg['mape_speedup']}")
check(agg["pearson_speedup"] != agg["pearson_speedup"], "Pearson of constant simulated speedups is undefined (nan)")
j2 = compare.join(sim, meas, "own", "cublas")
fc1b = j2[(j2["layer"] == "fc1") & (j2["pattern"] == "2:4")].iloc[0]
check(abs(fc1b["speedup_measured"] - 2.0) < 1e-9, "measured speedup over the cuBLAS dense row")

with tempfile.TemporaryDirectory() as tmp:
    prefix = os.path.join(tmp, "cmp")
    out = subprocess.run([sys.executable, os.path.join(source, "scripts/compare.py"), os.path.join(fix, "compare_sim.csv"),
                          os.path.join(fix, "compare_measured.csv"), "--out", prefix], capture_output=True, text=True)
    check(out.returncode == 0, out.stderr)
    check("MAPE of time 16.25%" in out.stdout, out.stdout)
    for suffix in ("_scatter.png", "_layers.png", "_rows.csv"):
        path = prefix + suffix
        check(os.path.exists(path) and os.path.getsize(path) > 0, f"{suffix} written")
    with open(prefix + "_scatter.png", "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "the scatter is a PNG")
    # The simulated file given where the measured one belongs: refused, saying why.
    out = subprocess.run([sys.executable, os.path.join(source, "scripts/compare.py"), os.path.join(fix, "compare_sim.csv"),
                          os.path.join(fix, "compare_sim.csv")], capture_output=True, text=True, cwd=tmp)
    check(out.returncode != 0 and "no backend column" in out.stderr, out.stderr)
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("a,b\n1,2\n")
    out = subprocess.run([sys.executable, os.path.join(source, "scripts/compare.py"), bad, bad], capture_output=True, text=True, cwd=tmp)
    check(out.returncode != 0 and "not a results.csv" in out.stderr, out.stderr)

finish("compare")
