#!/usr/bin/python3
"""Tests of scripts/compare.py on small hand-written results files (synthetic times chosen so that every
error is a round number; not measurements):

- the library: aggregate() on known numbers, scatter_plot() writes a PNG (title with MAPE and r, the
  largest errors labelled, no temporary file left), write_csv_atomic(), importing runs nothing;
- the join: the backends asked for, per-row time and speedup errors, MAPE and Pearson r, and the same
  numbers in PREFIX_rows.csv from the command line;
- the measured schema: no backend column, total_time_s with count, several backends refused (listing
  them) without --backend, a backend that is not there refused, a replay file's time_s read as a total,
  rows whose status is not ok left out;
- --where on a sweep-like file (numeric match), the duplicate key refused naming the column that
  differs, a line in several runs used once;
- every bad input is one line `compare.py: error: ...`, no traceback, a non-zero exit.

    compare_test.py SOURCE_DIR
"""

import contextlib
import io
import math
import os
import subprocess
import sys
import tempfile

source = os.path.abspath(sys.argv[1])
scripts = os.path.join(source, "scripts")
sys.path.insert(0, scripts)
import compare  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, failures, finish  # noqa: E402,F401

fix = os.path.join(source, "tests/scripts/fixtures")
SIM = os.path.join(fix, "compare_sim.csv")
SWEEP = os.path.join(fix, "compare_sweep_sim.csv")
MEAS = os.path.join(fix, "compare_measured.csv")  # backends cublas (dense), own (dense, 2:4), cusparselt (2:4)
NOBACKEND = os.path.join(fix, "compare_measured_nobackend.csv")
TOTAL = os.path.join(fix, "compare_measured_total.csv")
SCRIPT = os.path.join(scripts, "compare.py")


def close(a, b, tol=1e-9):
    return a == b or abs(a - b) <= tol * max(1.0, abs(b))


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(*args, proc=False):
    """compare.py ARGS: in this process through compare.main (quicker), or as its own process."""
    if proc:
        return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = compare.main(list(args))
    return Result(rc, out.getvalue(), err.getvalue())


def one_line_error(r, what, *needles):
    """r failed with exactly one stderr line `compare.py: error: ...` holding every needle, no traceback."""
    lines = r.stderr.strip().splitlines()
    ok = (r.returncode != 0 and len(lines) == 1 and lines[0].startswith("compare.py: error: ")
          and "Traceback" not in r.stderr + r.stdout and all(n in lines[0] for n in needles))
    check(ok, f"{what}: rc {r.returncode}, want one error line with {needles}: stderr {r.stderr!r}")
    return lines[0] if lines else ""


def rows_of(prefix):
    df = pd.read_csv(prefix + "_rows.csv", keep_default_na=False, na_values=[""])
    return {(r["layer"], r["pattern"]): r for _, r in df.iterrows()}


# --- the library ------------------------------------------------------------------------------------------------------

a = compare.aggregate([1.1, 2.0], [1.0, 2.0])
check(a["n"] == 2, f"aggregate n {a}")
check(close(a["mape"], 0.05), f"aggregate mape {a['mape']} (want 0.05)")
check(close(a["max_abs_error"], 0.1), f"aggregate max_abs_error {a['max_abs_error']}")
check(close(a["median_abs_error"], 0.05), f"aggregate median_abs_error {a['median_abs_error']}")
check(close(a["pearson_r"], 1.0), f"aggregate pearson_r {a['pearson_r']}")
a = compare.aggregate([1.0, 3.0, 2.0, 5.0], [2.0, 2.0, 2.0, 4.0])
# errors 0.5, 0.5, 0, 0.25: mean 0.3125, median 0.375, max 0.5; r of (1,3,2,5) and (2,2,2,4) = 4.5 / sqrt(8.75 x 3)
check(close(a["mape"], 0.3125) and close(a["median_abs_error"], 0.375) and close(a["max_abs_error"], 0.5), f"aggregate {a}")
check(close(a["pearson_r"], 4.5 / math.sqrt(8.75 * 3)), f"pearson_r {a['pearson_r']}")
check(math.isnan(compare.aggregate([1.0], [2.0])["pearson_r"]), "pearson_r is nan with n < 2")
check(math.isnan(compare.aggregate([1.0, 2.0], [3.0, 3.0])["pearson_r"]), "pearson_r is nan with a constant series")
check(compare.aggregate([], [])["n"] == 0, "aggregate of nothing")
for bad in (([1.0], [1.0, 2.0]), ([1.0], [0.0]), ([1.0], [-1.0]), ([float("nan")], [1.0])):
    try:
        compare.aggregate(*bad)
        check(False, f"aggregate{bad} raises CompareError")
    except compare.CompareError:
        pass
check(issubclass(compare.CompareError, Exception), "CompareError is an Exception")

r = subprocess.run([sys.executable, "-c", f"import sys; sys.argv = ['x', '--bogus']; sys.path.insert(0, {scripts!r}); import compare"],
                   capture_output=True, text=True)
check(r.returncode == 0 and r.stdout == "" and r.stderr == "", f"importing compare runs nothing: {r.returncode} {r.stderr!r}")

with tempfile.TemporaryDirectory() as tmp:
    seen = {}
    save = compare._save_figure

    def spy(fig, path):
        ax = fig.axes[0]
        seen["title"] = ax.get_title()
        seen["notes"] = [t.get_text() for t in ax.texts]
        seen["lines"] = [(list(ln.get_xdata()), list(ln.get_ydata())) for ln in ax.get_lines()]
        save(fig, path)

    compare._save_figure = spy
    png = os.path.join(tmp, "s.png")
    agg = compare.scatter_plot(png, [1.1, 2.0, 3.0, 8.0, 5.0], [1.0, 2.0, 4.0, 4.0, 5.0], ["a", "b", "c", "d", "e"],
                               "sim vs meas", "measured (ms)", "simulated (ms)")
    compare._save_figure = save
    with open(png, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "scatter_plot writes a PNG")
    check(os.listdir(tmp) == ["s.png"], f"no temporary file left beside the PNG: {os.listdir(tmp)}")
    check(close(agg["mape"], (0.1 + 0 + 0.25 + 1.0 + 0) / 5), f"scatter_plot returns the aggregate {agg}")
    title = seen.get("title", "")
    check(title.startswith("sim vs meas\n") and "MAPE 27.00%" in title and "Pearson r" in title, f"scatter title {title!r}")
    # The 3 largest relative errors: d (+100%), c (-25%), a (+10%); b and e (0%) are not labelled.
    notes = seen.get("notes", [])
    check(len(notes) == 3 and notes[0].startswith("d ") and notes[1].startswith("c ") and notes[2].startswith("a "),
          f"outliers labelled: {notes}")
    check(any(x == y and len(x) == 2 for x, y in seen.get("lines", [])), "the y = x line is drawn")
    compare.scatter_plot(os.path.join(tmp, "two.png"), [1.0, 2.0], [1.0, 3.0], ["x", "y"], "t", "x", "y", log=True)
    check(os.path.exists(os.path.join(tmp, "two.png")), "fewer points than outliers, log axes")
    try:
        compare.scatter_plot(os.path.join(tmp, "none.png"), [], [], [], "t", "x", "y")
        check(False, "scatter_plot of no points raises CompareError")
    except compare.CompareError:
        pass
    csvp = os.path.join(tmp, "t.csv")
    compare.write_csv_atomic(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), csvp)
    back = pd.read_csv(csvp)
    check(list(back["a"]) == [1, 2] and list(back["b"]) == ["x", "y"], "write_csv_atomic")
    check(sorted(os.listdir(tmp)) == ["s.png", "t.csv", "two.png"], f"no temporary files: {os.listdir(tmp)}")
    try:
        compare.write_csv_atomic(pd.DataFrame({"a": [1]}), os.path.join(tmp, "no", "t.csv"))
        check(False, "write_csv_atomic into a missing folder raises CompareError")
    except compare.CompareError:
        pass

# --- the join, in the library ---------------------------------------------------------------------------------------

sim = compare.load_simulated(SIM)
meas = compare.load_measured(MEAS)
j = compare.join(sim, meas, "own", "own")
check(len(j) == 4, f"4 joined rows, got {len(j)}")
fc1 = j[(j["layer"] == "fc1") & (j["pattern"] == "dense")].iloc[0]
check(close(fc1["time_s_measured"], 0.010), "dense rows from the own backend, not cuBLAS")
# Time errors: fc1 dense 0, fc2 dense -0.2, fc1 2:4 +0.25, fc2 2:4 -0.2 -> MAPE 0.1625.
s = compare.summary(j)
check(close(s["time"]["mape"], 0.1625) and close(s["mape_time"], 0.1625), f"MAPE of time {s['time']}")
check(close(s["time"]["max_abs_error"], 0.25) and close(s["time"]["median_abs_error"], 0.2), f"max, median {s['time']}")
# Speedups: fc1 sim 2 vs measured 2.5 (-0.2); fc2 sim 2 vs measured 2 (0) -> MAPE 0.1.
check(s["speedup"]["n"] == 2, f"speedup rows {s['speedup']}")
check(close(s["speedup"]["mape"], 0.1), f"MAPE of speedup {s['speedup']}")
check(math.isnan(s["speedup"]["pearson_r"]), "Pearson of constant simulated speedups is undefined (nan)")
j2 = compare.join(sim, meas, "own", "cublas")
fc1b = j2[(j2["layer"] == "fc1") & (j2["pattern"] == "2:4")].iloc[0]
check(close(fc1b["speedup_measured"], 2.0), "measured speedup over the cuBLAS dense row")
try:
    compare.join(sim, meas)
    check(False, "several backends without a choice raise CompareError")
except compare.CompareError as e:
    check("cublas" in str(e) and "own" in str(e) and "cusparselt" in str(e) and "--backend" in str(e), str(e))

with tempfile.TemporaryDirectory() as tmp:
    # --- the command line: the old fixture, own backend -----------------------------------------------------------------
    prefix = os.path.join(tmp, "cmp")
    r = cli(SIM, MEAS, "--backend", "own", "--out", prefix, proc=True)
    check(r.returncode == 0, r.stderr)
    check("MAPE of time 16.25%" in r.stdout and "MAPE of speedup 10.00%" in r.stdout, r.stdout)
    for suffix in ("_scatter.png", "_time_scatter.png", "_layers.png", "_rows.csv"):
        path = prefix + suffix
        check(os.path.exists(path) and os.path.getsize(path) > 0, f"{suffix} written")
    with open(prefix + "_scatter.png", "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "the scatter is a PNG")
    check(not [f for f in os.listdir(tmp) if f.endswith(".tmp")], f"no temporary files: {os.listdir(tmp)}")
    rows = rows_of(prefix)
    check(len(rows) == 4, f"rows.csv has 4 rows: {list(rows)}")
    check(close(rows[("fc1", "2:4")]["time_error"], 0.25) and close(rows[("fc2", "dense")]["time_error"], -0.2), "rows.csv time errors")
    check(close(rows[("fc1", "2:4")]["speedup_measured"], 2.5) and close(rows[("fc1", "2:4")]["speedup_error"], -0.2),
          "rows.csv speedups")
    check(rows[("fc1", "2:4")]["backend"] == "own", "rows.csv backend")

    # own for the sparse rows, cuBLAS for the dense ones: fc1 measured speedup 0.008 / 0.004 = 2, fc2 has no cuBLAS row.
    r = cli(SIM, MEAS, "--backend", "own", "--dense-backend", "cublas", "--out", prefix)
    check(r.returncode == 0, r.stderr)
    rows = rows_of(prefix)
    check(set(rows) == {("fc1", "dense"), ("fc1", "2:4"), ("fc2", "2:4")}, f"cublas dense rows: {list(rows)}")
    check(close(rows[("fc1", "dense")]["time_s_measured"], 0.008) and close(rows[("fc1", "2:4")]["speedup_measured"], 2.0),
          "dense rows from cuBLAS")
    check(math.isnan(rows[("fc2", "2:4")]["speedup_sim"]), "no speedup without the layer's dense row")

    # Several backends, none chosen: refused, listing them.
    r = cli(SIM, MEAS, "--out", prefix, proc=True)
    one_line_error(r, "several backends", "cublas", "cusparselt", "own", "--backend", "--dense-backend")
    r = cli(SIM, MEAS, "--backend", "nope", "--out", prefix)
    one_line_error(r, "unknown backend", "--backend nope", "cublas", "cusparselt", "own")
    r = cli(SIM, MEAS, "--backend", "own", "--dense-backend", "nope", "--out", prefix)
    one_line_error(r, "unknown dense backend", "--dense-backend nope", "cublas")
    # cuSPARSELt has no dense rows and two backends have some: --dense-backend is asked for.
    r = cli(SIM, MEAS, "--backend", "cusparselt", "--out", prefix)
    one_line_error(r, "sparse backend without dense rows", "cusparselt", "--dense-backend", "cublas, own")

    # --- no backend column ---------------------------------------------------------------------------------------------
    # errors fc1 dense -0.2, fc2 dense 0, fc1 2:4 0, fc2 2:4 +0.25 -> 0.1125; speedups 2 vs 2.5 twice -> 0.2.
    r = cli(SIM, NOBACKEND, "--out", prefix)
    check(r.returncode == 0, r.stderr)
    check("MAPE of time 11.25%" in r.stdout and "MAPE of speedup 20.00%" in r.stdout, r.stdout)
    rows = rows_of(prefix)
    check(len(rows) == 4 and close(rows[("fc1", "dense")]["time_error"], -0.2) and close(rows[("fc2", "2:4")]["time_error"], 0.25),
          "no-backend rows")
    check(close(rows[("fc2", "2:4")]["speedup_measured"], 2.5), "no-backend speedup")
    r = cli(SIM, NOBACKEND, "--backend", "own", "--out", prefix)
    one_line_error(r, "--backend without a backend column", "no backend column")

    # --- total_time_s with count: per launch total / count (2 copies measured, 1 simulated: compared per launch) ---
    r = cli(SIM, TOTAL, "--out", prefix)
    check(r.returncode == 0, r.stderr)
    rows = rows_of(prefix)
    check(close(rows[("fc1", "dense")]["launch_s_measured"], 0.0125), "total_time_s / count")
    check(close(rows[("fc1", "dense")]["time_s_measured"], 0.0125), "measured time of the simulated line (count 1)")
    check("MAPE of time 11.25%" in r.stdout and "another count" in r.stdout, r.stdout)

    # --- --where on a sweep-like file ----------------------------------------------------------------------------------
    r = cli(SWEEP, NOBACKEND, "--out", prefix)
    line = one_line_error(r, "duplicate key", "sms", "--where")
    check("config" not in line.split(":")[-1].split(";")[0], f"config does not differ: {line}")
    # sms=132: the fixture's times plus scores (count 8, 0.008 simulated = 8 x 0.001 measured; in two runs,
    # the first used): errors -0.2, 0, 0, +0.25, 0 -> MAPE 0.09.
    r = cli(SWEEP, NOBACKEND, "--where", "sms=132", "--out", prefix)
    check(r.returncode == 0, r.stderr)
    check("MAPE of time 9.00%" in r.stdout, r.stdout)
    check("several runs" in r.stdout, "the line in two runs is noted")
    rows = rows_of(prefix)
    check(len(rows) == 5 and close(rows[("scores", "dense")]["time_s_measured"], 0.008) and
          close(rows[("scores", "dense")]["time_s_sim"], 0.008), "scores: count x per launch, the first run's row")
    # Numeric match (66.0 = 66), with a string column too: times doubled, errors 0.6, 1, 1, 1.5, 1 -> 1.02.
    r = cli(SWEEP, TOTAL, "--where", "sms=66.0", "--where", "config=h100", "--out", prefix)
    check(r.returncode == 0, r.stderr)
    check("MAPE of time 102.00%" in r.stdout and "MAPE of speedup 20.00%" in r.stdout, r.stdout)
    rows = rows_of(prefix)
    check(close(rows[("fc2", "2:4")]["time_error"], 1.5), "sms=66 rows")
    # A line in two runs of two points: the points differ, so it is refused, not taken as one line.
    runs = os.path.join(tmp, "runs.csv")
    with open(SWEEP) as f:
        text = f.read().splitlines()
    with open(runs, "w") as f:
        f.write("\n".join([text[0]] + [t for t in text if ",scores," in t]) + "\n")
    one_line_error(cli(runs, NOBACKEND, "--out", prefix), "a line in two runs of two points", "sms", "--where sms=66")
    r = cli(SWEEP, NOBACKEND, "--where", "gpu=h100", "--out", prefix)
    one_line_error(r, "unknown --where column", "no column gpu", "sms", "config")
    r = cli(SWEEP, NOBACKEND, "--where", "sms=7", "--out", prefix)
    one_line_error(r, "--where matching nothing", "sms=7", "66", "132")
    r = cli(SWEEP, NOBACKEND, "--where", "sms", "--out", prefix)
    one_line_error(r, "--where without =", "COL=VALUE")

    # --- replay's results.csv: time_s is the total of count launches; rows not ok left out ----------------------------
    replay = os.path.join(tmp, "replay.csv")
    with open(replay, "w") as f:
        f.write("run,layer,m,n,k,dtype,pattern,count,time_s,backend,status,time_median_s,launches_per_sample\n"
                "dense,fc1,64,64,64,fp16,dense,2,0.025,own,ok,0.0125,10\n"
                "2:4,fc1,64,64,64,fp16,2:4,2,0.010,own,ok,0.005,10\n"
                "2:4,fc2,64,64,32,fp16,2:4,2,,own,failed,,\n")
    r = cli(SIM, replay, "--out", prefix)
    check(r.returncode == 0, r.stderr)
    rows = rows_of(prefix)
    check(set(rows) == {("fc1", "dense"), ("fc1", "2:4")}, f"the failed row is left out: {list(rows)}")
    check(close(rows[("fc1", "dense")]["launch_s_measured"], 0.0125), "replay time_s read as the total of count launches")
    check("status is not ok" in r.stdout, r.stdout)

    # --- bad input: one line, no traceback, non-zero exit --------------------------------------------------------------
    def measured(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    head = "layer,m,n,k,dtype,pattern,time_s\n"
    good = "fc1,64,64,64,fp16,dense,0.01\n"
    cases = [
        ("non-numeric time", measured("nan.csv", head + good + "fc1,64,64,64,fp16,2:4,fast\n"), ["nan.csv line 3", "time_s", "fast"]),
        ("empty time", measured("empty.csv", head + good + "fc1,64,64,64,fp16,2:4,\n"), ["empty.csv line 3", "time_s", "empty"]),
        ("zero time", measured("zero.csv", head + good + "fc1,64,64,64,fp16,2:4,0\n"), ["zero.csv line 3", "time_s", "> 0"]),
        ("negative time", measured("neg.csv", head + "fc1,64,64,64,fp16,2:4,0.005\n" + good.replace("0.01", "-0.01")),
         ["neg.csv line 3", "time_s", "-0.01"]),
        ("zero count", measured("count.csv", "layer,m,n,k,dtype,pattern,count,total_time_s\nfc1,64,64,64,fp16,dense,0,0.01\n"),
         ["count.csv line 2", "count"]),
        ("missing column", measured("nopat.csv", "layer,m,n,k,dtype,time_s\nfc1,64,64,64,fp16,0.01\n"), ["nopat.csv", "pattern"]),
        ("no time column", measured("notime.csv", "layer,m,n,k,dtype,pattern\nfc1,64,64,64,fp16,dense\n"),
         ["notime.csv", "time_s", "total_time_s"]),
        ("total without count", measured("nocount.csv", "layer,m,n,k,dtype,pattern,total_time_s\nfc1,64,64,64,fp16,dense,1\n"),
         ["nocount.csv", "count"]),
        ("both time columns", measured("both.csv", "layer,m,n,k,dtype,pattern,time_s,total_time_s\nfc1,64,64,64,fp16,dense,1,1\n"),
         ["both.csv", "time_s", "total_time_s"]),
        ("bad shape", measured("shape.csv", head + "fc1,64,6x4,64,fp16,dense,0.01\n"), ["shape.csv line 2", "column n"]),
        ("ragged line", measured("ragged.csv", head + "fc1,64,64,64,fp16,dense\n"), ["ragged.csv line 2", "fields"]),
        ("empty file", measured("void.csv", ""), ["void.csv", "empty"]),
        ("no joined rows", measured("other.csv", head + "attn,8,8,8,fp16,dense,0.01\n"), ["no row", "match"]),
        ("duplicate measured", measured("dup.csv", head + good + good.replace("0.01", "0.02")), ["dup.csv", "lines 2, 3", "time_s"]),
        ("missing file", os.path.join(tmp, "absent.csv"), ["absent.csv", "no such file"]),
        ("a folder", tmp, ["cannot read", "folder"]),
    ]
    for i, (what, path, needles) in enumerate(cases):
        one_line_error(cli(SIM, path, "--out", prefix, proc=i < 3), what, *needles)
    # The simulated file is checked too.
    one_line_error(cli(measured("simneg.csv", head + good.replace("0.01", "-1")), NOBACKEND, "--out", prefix), "negative simulated time",
                   "simneg.csv line 2", "time_s")
    # The output prefix is checked before anything is computed (the inputs here are fine).
    r = cli(SIM, NOBACKEND, "--out", os.path.join(tmp, "nofolder", "cmp"), proc=True)
    one_line_error(r, "missing output folder", "nofolder", "does not exist")
    r = cli(SIM, NOBACKEND, "--out", os.path.join(SIM, "cmp"))
    one_line_error(r, "output folder that is a file", "not a folder")
    r = cli(SIM, os.path.join(tmp, "absent.csv"), "--out", os.path.join(tmp, "nofolder", "cmp"))
    one_line_error(r, "prefix checked first", "nofolder")
    if os.geteuid() != 0:  # root writes anywhere
        ro = os.path.join(tmp, "ro")
        os.mkdir(ro, 0o500)
        one_line_error(cli(SIM, NOBACKEND, "--out", os.path.join(ro, "cmp")), "read-only output folder", "not writable")
    # Usage errors stay argparse's (exit 2).
    r = cli(SIM, proc=True)
    check(r.returncode == 2 and "Traceback" not in r.stderr, f"usage error: {r.returncode} {r.stderr!r}")

    # An unexpected exception inside main is still one line with exit 2.
    real = compare.run

    def boom(a):
        raise ValueError("something\nunexpected")

    compare.run = boom
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = compare.main([SIM, NOBACKEND, "--out", prefix])
    compare.run = real
    lines = err.getvalue().strip().splitlines()
    check(rc == 2 and len(lines) == 1 and lines[0].startswith("compare.py: error: ") and "ValueError" in lines[0]
          and "something unexpected" in lines[0], f"unexpected exception: rc {rc} {err.getvalue()!r}")

finish("compare")
