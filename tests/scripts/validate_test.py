#!/usr/bin/python3
"""Tests of scripts/validate.py on a small validation folder written here (synthetic values, not
measurements; the shipped suite itself runs as the ctest entry validation.suite):

- a source with a dense and a 2:4 absolute row of one shape gives two time points and one derived
  speedup point, whose published value is the ratio of the two rows and whose simulated value is the
  ratio of the simulated times in points.csv; the error is simulated / published - 1; a derived
  speedup of two kernel families (Hopper dense, Ampere-style 2:4) runs each GEMM on its own family's
  config; time_us is per GEMM, so a line of 3 GEMMs is compared with 3 times it;
- a held-out source is aggregated apart, an excluded point (and the speedup derived from it) is left
  out of the aggregates but written to points.csv;
- --write-expected then --check passes; an expected.json with a tighter figure makes --check exit 1
  naming the aggregate;
- every bad input is one line `validate.py: error: FILE:LINE: ...` (or the path), no traceback, exit 2,
  and --write-expected with --source (partial figures) is refused.

    validate_test.py STCSIM SOURCE_DIR
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

stcsim = os.path.abspath(sys.argv[1])
source = os.path.abspath(sys.argv[2])
script = os.path.join(source, "scripts", "validate.py")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, failures, finish  # noqa: E402,F401

HEADER = "id,gpu,clock_mhz,library,kernel,dtype,m,n,k,count,sparse,pattern,metric,value,baseline,read_from,note"
# Synthetic: 1000 us dense, 625 us 2:4 (published speedup 1.6), a 500 TFLOP/s point, on small GEMMs.
ROWS_A = [
    "d1,H100-SXM5-80GB,,lib,wgmma,fp16,1024,1024,2048,1,none,dense,time_us,40,,synthetic,",
    "s1,H100-SXM5-80GB,,lib,wgmma,fp16,1024,1024,2048,1,B,2:4,time_us,25,,synthetic,",
    "t1,H100-SXM5-80GB,,lib,wgmma,fp16,2048,2048,2048,1,none,dense,tflops,500,,synthetic,",
    # A Hopper dense kernel against an Ampere-style sparse one: each on its own kernel family's config.
    "hd,H100-SXM5-80GB,,lib,wgmma,bf16,768,1024,1024,1,none,dense,time_us,20,,synthetic,",
    "hs,H100-SXM5-80GB,,lib2,mma.sp,bf16,768,1024,1024,1,B,2:4,time_us,30,,synthetic,",
    # A line of 3 GEMMs timed per GEMM.
    "c3,H100-SXM5-80GB,,lib,wgmma,fp16,512,512,512,3,none,dense,time_us,10,,synthetic,",
]
ROWS_B = [
    "p1,A100-SXM4-40GB,1410,lib,mma.sp,fp16,2048,1024,1024,1,B,2:4,speedup,1.5,,synthetic,",
    "x1,A100-SXM4-40GB,,lib,mma.sp,fp16,1024,1024,1024,1,none,dense,time_us,30,,synthetic,",
]


def write_suite(root, rows_a=ROWS_A, rows_b=ROWS_B, holdout="src_b\n", excluded="src_b x1  # synthetic reason\n"):
    os.makedirs(os.path.join(root, "sources"), exist_ok=True)
    for name, rows in (("src_a", rows_a), ("src_b", rows_b)):
        with open(os.path.join(root, "sources", name + ".csv"), "w") as f:
            f.write(f"# synthetic source {name} for validate_test.py\n{HEADER}\n" + "\n".join(rows) + "\n")
    with open(os.path.join(root, "holdout.txt"), "w") as f:
        f.write("# held out\n" + holdout)
    with open(os.path.join(root, "excluded.txt"), "w") as f:
        f.write("# excluded\n" + excluded)


def run(root, out, *extra):
    return subprocess.run([sys.executable, script, "--stcsim", stcsim, "--validation", root, "--out", out,
                           "--jobs", "2", *extra], capture_output=True, text=True)


def one_line_error(p, want, what):
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2, f"{what}: exit 2 (got {p.returncode})")
    check(len(lines) == 1 and lines[0].startswith("validate.py: error: ") and want in lines[0],
          f"{what}: one line naming '{want}' (got {p.stderr.strip()!r})")
    check("Traceback" not in p.stderr, f"{what}: no traceback")


with tempfile.TemporaryDirectory() as tmp:
    suite = os.path.join(tmp, "validation")
    out = os.path.join(tmp, "out")
    write_suite(suite)
    p = run(suite, out, "--write-expected")
    check(p.returncode == 0, f"a good suite runs (exit {p.returncode}: {p.stderr.strip()})")
    with open(os.path.join(out, "points.csv"), newline="") as f:
        pts = {r["id"]: r for r in csv.DictReader(f)}
    check(set(pts) == {"d1", "s1", "t1", "p1", "x1", "s1/d1", "hd", "hs", "hs/hd", "c3"}, f"points: {sorted(pts)}")
    if {"hd", "hs", "hs/hd"} <= set(pts):
        check(pts["hd"]["config"] == "configs/h100.yaml" and pts["hs"]["config"] == "configs/h100_mma_sp.yaml",
              f"kernel families pick configs ({pts['hd']['config']}, {pts['hs']['config']})")
        want = float(pts["hd"]["simulated"]) / float(pts["hs"]["simulated"])
        check(abs(float(pts["hs/hd"]["simulated"]) / want - 1) < 1e-9,
              "a derived speedup runs each row's GEMM on its own row's config")
    if "c3" in pts:
        check(abs(float(pts["c3"]["published"]) - 30e-6) < 1e-15, "time_us is per GEMM: a line of 3 is 3 times it")
    if "s1/d1" in pts and "s1" in pts and "d1" in pts:
        sp, s1, d1 = pts["s1/d1"], pts["s1"], pts["d1"]
        check(abs(float(sp["published"]) - 1.6) < 1e-12, f"derived published speedup 40 / 25 = 1.6 (got {sp['published']})")
        sim = float(d1["simulated"]) / float(s1["simulated"])
        check(abs(float(sp["simulated"]) - sim) < 1e-9 * sim, "derived simulated speedup = dense / sparse simulated time")
        check(abs(float(sp["error"]) - (sim / 1.6 - 1)) < 1e-9, "error = simulated / published - 1")
        check(abs(float(d1["published"]) - 40e-6) < 1e-15, "time_us read as seconds per GEMM")
        check(sp["kind"] == "speedup" and d1["kind"] == "time", "kinds")
    if "t1" in pts:
        want = 2.0 * 2048 ** 3 / 500e12
        check(abs(float(pts["t1"]["published"]) - want) < 1e-9 * want, "tflops read as time = 2mnk / (TFLOP/s x 1e12)")
    check(pts.get("x1", {}).get("excluded") == "synthetic reason", "the excluded point is written with its reason")
    with open(os.path.join(out, "aggregates.json")) as f:
        aggs = json.load(f)
    check(aggs["excluded"] == 1, f"one excluded point (got {aggs['excluded']})")
    check(aggs["held_out"]["sources"] == ["src_b"] and aggs["fitted"]["sources"] == ["src_a"], "held out apart")
    check(aggs["held_out"]["speedup"]["n"] == 1 and aggs["held_out"]["time"] is None,
          "held out: the speedup point only (its time point is excluded)")
    check(aggs["all"]["time"]["n"] == 6 and aggs["all"]["speedup"]["n"] == 3, "all: 6 time and 3 speedup points")
    for f in ("speedup.png", "absolute.png"):
        check(os.path.getsize(os.path.join(out, f)) > 1000, f"{f} written")
    check(not [f for f in os.listdir(out) if f.endswith(".tmp")], "no temporary file left")

    p = run(suite, out, "--check")
    check(p.returncode == 0 and "no aggregate is worse" in p.stdout, f"--check against its own figures passes ({p.stderr})")
    exp_path = os.path.join(suite, "expected.json")
    with open(exp_path) as f:
        exp = json.load(f)
    check(exp["margin"]["mape"] == 0.02, "the margin is stated in expected.json")
    exp["all"]["time"]["mape"] = max(0.0, aggs["all"]["time"]["mape"] - 0.05)
    with open(exp_path, "w") as f:
        json.dump(exp, f)
    p = run(suite, out, "--check")
    check(p.returncode == 1 and "all time MAPE" in p.stderr, f"a tighter committed figure fails --check ({p.stderr})")

    # Bad inputs: one line each, naming the file and line.
    bad = os.path.join(tmp, "bad")
    cases = [
        ("wrong header", dict(rows_a=ROWS_A), "src_a.csv:2: the header must be exactly", "header"),
        ("unknown gpu", dict(rows_a=[ROWS_A[0].replace("H100-SXM5-80GB", "X999")]), "src_a.csv:3: gpu 'X999' has no machine", None),
        ("bad metric", dict(rows_a=[ROWS_A[0].replace("time_us", "walltime")]), "src_a.csv:3: metric must be one of", None),
        ("negative value", dict(rows_a=[ROWS_A[0].replace(",40,", ",-4,")]), "src_a.csv:3: value must be a positive number", None),
        ("not a number", dict(rows_a=[ROWS_A[0].replace(",1024,1024,", ",1024,x,")]), "src_a.csv:3: n must be an integer", None),
        ("duplicate id", dict(rows_a=[ROWS_A[0], ROWS_A[0]]), "src_a.csv:3: id 'd1' appears more than once", None),
        ("dense speedup", dict(rows_a=[ROWS_A[0].replace("time_us", "speedup")]), "a speedup point needs a sparse pattern", None),
        ("short row", dict(rows_a=["d1,H100-SXM5-80GB,,lib"]), "src_a.csv:3: 4 fields, the header has 17", None),
        ("unknown holdout", dict(holdout="nowhere\n"), "holdout.txt: 'nowhere' names no file", None),
        ("excluded point missing", dict(excluded="src_a zz  # r\n"), "excluded.txt: src_a has no point 'zz'", None),
        ("excluded without reason", dict(excluded="src_a d1\n"), "excluded.txt:2: want 'source point  # reason'", None),
    ]
    p = run(suite, out, "--source", "src_a", "--write-expected")
    one_line_error(p, "--write-expected writes the whole suite's figures", "partial --write-expected")
    one_line_error(run(suite, out, "--model", "cycle", "--check"), "compare the fast model's figures", "--check, cycle")
    one_line_error(run(suite, out, "--max-macs", "-1"), "--max-macs must be >= 0", "negative --max-macs")
    # The cycle model on a subset: H100 points of at most 2^31 MACs (not t1, 2048^3; not src_b's A100
    # points), simulated and compared as the fast model's are; no shape curve.
    sub = os.path.join(tmp, "cycle_out")
    p = run(suite, sub, "--model", "cycle", "--gpu", "H100", "--max-macs", str(2 ** 31))
    check(p.returncode == 0, f"cycle subset: exit {p.returncode}: {p.stderr.strip()[-300:]}")
    if p.returncode == 0:
        rows = list(csv.DictReader(open(os.path.join(sub, "points.csv"))))
        ids = sorted(r["id"] for r in rows)
        check("d1" in ids and "c3" in ids, f"cycle subset lost a point within the limit: {ids}")
        check("t1" not in ids and "p1" not in ids, f"cycle subset kept a point over the limit or off the GPU: {ids}")
        check(not os.path.exists(os.path.join(sub, "a100_shapes.csv")), "cycle subset wrote the shape curve")
    for what, kw, want, special in cases:
        shutil.rmtree(bad, ignore_errors=True)
        write_suite(bad, **kw)
        if special == "header":
            path = os.path.join(bad, "sources", "src_a.csv")
            text = open(path).read().replace("count,sparse", "sparse,count")
            open(path, "w").write(text)
        one_line_error(run(bad, os.path.join(tmp, "bad_out")), want, what)
    p = subprocess.run([sys.executable, script, "--stcsim", os.path.join(tmp, "none"), "--validation", suite,
                        "--out", out], capture_output=True, text=True)
    one_line_error(p, "no stcsim binary there", "missing binary")
    ro = os.path.join(tmp, "ro")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    if not os.access(ro, os.W_OK):  # root writes anywhere: the case cannot be made there
        one_line_error(run(suite, ro), "is not writable", "read-only output")
    os.chmod(ro, 0o755)

finish("validate_test")
