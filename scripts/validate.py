#!/usr/bin/python3
"""Run the validation suite: every published measurement in validation/ against the simulator.

    scripts/validate.py [--stcsim build/stcsim] [--out build/validation] [--check] [--jobs N]
                        [--source ID]... [--write-expected] [--keep-runs]

Reads validation/sources/*.csv (one file per source; columns in validation/README.md), simulates each
point's GEMMs on the machine its GPU maps to (MACHINES below; a stated locked clock is applied with
--set arch.clock_mhz), and compares:
  - speedup points (a published sparse-over-dense speedup, or one derived from a source's dense and
    sparse absolute rows of the same shape) with the simulated speedup of the same two GEMMs;
  - absolute points (TFLOP/s or time per GEMM) with the simulated time;
  - validation/power/*.csv (average board power under a GEMM load) with the simulated average power.
Sparse lines run with kernel.dense_fallback off: a published sparse figure is the sparse kernel's.

Prints one row per point (published, simulated, error, the kernel the simulator chose) and the
aggregates (MAPE, Pearson r, max error; overall, per family = GPU x instruction x pattern, and for the
held-out sources of validation/holdout.txt apart). Writes OUT/points.csv, OUT/power.csv,
OUT/aggregates.json, OUT/speedup.png, OUT/absolute.png (through compare.py's functions) and the A100
2:4 speedup by shape, OUT/a100_shapes.csv and .png. The stcsim runs go to a temporary folder, removed
after (--keep-runs keeps them under OUT/runs).
--check compares the aggregates with validation/expected.json and exits 1 when one is worse than
the committed figure by more than its stated margin. --write-expected rewrites that file from this run.
Exit status: 0 ok, 1 a check failed, 2 bad input or a failed simulation (one line on stderr).
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import compare  # noqa: E402  (the same table, aggregate and plot code as user comparisons)
import script_main  # noqa: E402

POINT_COLUMNS = ["id", "gpu", "clock_mhz", "library", "kernel", "dtype", "m", "n", "k", "count", "sparse", "pattern",
                 "metric", "value", "baseline", "read_from", "note"]
POWER_COLUMNS = ["id", "gpu", "clock_mhz", "workload", "dtype", "m", "n", "k", "pattern", "power_w", "read_from", "note"]
METRICS = ("tflops", "time_us", "speedup")

# The machine each GPU of the sources runs on: (default config, config for an Ampere-style mma.sync kernel).
MACHINES = {
    "V100-SXM2-16GB": ("configs/v100.yaml", None),
    "V100-SXM2-32GB": ("configs/v100.yaml", None),
    "V100-PCIE-16GB": ("configs/v100_pcie.yaml", None),
    "V100-PCIE-32GB": ("configs/v100_pcie.yaml", None),
    "A100-SXM4-40GB": ("configs/a100.yaml", None),
    "A100-SXM4-80GB": ("configs/a100_80gb.yaml", None),
    "A100-PCIE-40GB": ("configs/a100_pcie.yaml", None),
    "A100-PCIE-80GB": ("configs/a100_pcie_80gb.yaml", None),
    "H100-SXM5-80GB": ("configs/h100.yaml", "configs/h100_mma_sp.yaml"),
    "H800-SXM5-80GB": ("configs/h100.yaml", "configs/h100_mma_sp.yaml"),
    "H100-PCIE-80GB": ("configs/h100_pcie.yaml", "configs/h100_pcie_mma_sp.yaml"),
    "H800-PCIE-80GB": ("configs/h100_pcie.yaml", "configs/h100_pcie_mma_sp.yaml"),
}
# The instruction family a machine's kernel issues, for the per-family aggregates.
FAMILY = {"v100": "wmma", "a100": "mma.sp", "h100": "wgmma", "h100_mma_sp": "mma.sp", "h100_pcie": "wgmma",
          "h100_pcie_mma_sp": "mma.sp", "v100_pcie": "wmma", "a100_80gb": "mma.sp", "a100_pcie": "mma.sp",
          "a100_pcie_80gb": "mma.sp"}


# The A100 2:4 shape curve (OUT/a100_shapes.png): square GEMMs, the published A100 shapes, and
# BERT-base's weight GEMMs at batch 32, sequence 128 (m = 4096 tokens), as m x n x k.
CURVE_CONFIG = "configs/a100.yaml"
CURVE_SHAPES = [(4096, 4096, 4096), (8192, 8192, 8192), (16384, 16384, 16384), (3072, 3072, 10240),
                (4096, 2304, 768), (4096, 768, 768), (4096, 3072, 768), (4096, 768, 3072),
                (3072, 768, 3072), (12288, 768, 3072), (49152, 768, 3072), (196608, 768, 3072),
                (12288, 3072, 768), (49152, 3072, 768)]


class InputError(Exception):
    pass


def read_table(path, columns):
    """Rows of a validation CSV (leading '#' lines are its citation) as dicts with their line numbers."""
    try:
        with open(path, newline="") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}")
    first = 0
    while first < len(lines) and (lines[first].startswith("#") or not lines[first].strip()):
        first += 1
    if first == len(lines):
        raise InputError(f"{path}: no header line")
    reader = csv.reader(lines[first:])
    header = [h.strip() for h in next(reader)]
    if header != columns:
        raise InputError(f"{path}:{first + 1}: the header must be exactly {','.join(columns)}")
    # Points name their file relative to the repository when it is inside it (what the outputs record),
    # else as given.
    shown = os.path.relpath(path, ROOT) if os.path.abspath(path).startswith(ROOT + os.sep) else path
    rows = []
    for i, cells in enumerate(reader):
        lineno = first + 2 + i
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            raise InputError(f"{path}:{lineno}: {len(cells)} fields, the header has {len(columns)}")
        row = {c: v.strip() for c, v in zip(columns, cells)}
        row["_where"] = f"{shown}:{lineno}"
        rows.append(row)
    return rows


def as_int(row, key, minimum=1):
    v = row[key]
    try:
        x = int(v)
    except ValueError:
        raise InputError(f"{row['_where']}: {key} must be an integer (got '{v}')")
    if x < minimum:
        raise InputError(f"{row['_where']}: {key} must be >= {minimum} (got {x})")
    return x


def as_float(row, key):
    v = row[key]
    try:
        x = float(v)
    except ValueError:
        raise InputError(f"{row['_where']}: {key} must be a number (got '{v}')")
    if not math.isfinite(x) or x <= 0:
        raise InputError(f"{row['_where']}: {key} must be a positive number (got '{v}')")
    return x


def machine_of(row):
    gpu = row["gpu"]
    if gpu not in MACHINES:
        raise InputError(f"{row['_where']}: gpu '{gpu}' has no machine; known: {', '.join(sorted(MACHINES))}")
    default, mma = MACHINES[gpu]
    config = default
    if row.get("kernel") in ("mma.sync", "mma.sp") and mma:
        config = mma
    sets = []
    if row.get("clock_mhz"):
        sets.append(f"arch.clock_mhz={as_int(row, 'clock_mhz')}")
    return config, tuple(sets)


class Gemm:
    """One GEMM line to simulate; equal ones are simulated once per machine."""

    def __init__(self, row, pattern, sparse, machine=None):
        self.machine = machine if machine is not None else machine_of(row)  # (config, --set overrides)
        self.m, self.n, self.k = as_int(row, "m"), as_int(row, "n"), as_int(row, "k")
        self.count = as_int(row, "count") if row["count"] else 1
        self.dtype = row["dtype"]
        self.pattern = pattern
        self.sparse = sparse if pattern != "dense" else "-"
        self.key = (self.m, self.n, self.k, self.dtype, self.sparse, self.pattern, self.count)

    def layer(self, i):
        return f"g{i}"


def load_points(sources, only):
    """Points: dicts with source, row, machine, published value and the GEMMs it needs."""
    points = []
    for path in sources:
        source = os.path.splitext(os.path.basename(path))[0]
        if only and source not in only:
            continue
        rows = read_table(path, POINT_COLUMNS)
        for r in rows:
            if r["metric"] not in METRICS:
                raise InputError(f"{r['_where']}: metric must be one of {', '.join(METRICS)} (got '{r['metric']}')")
            if r["sparse"] not in ("A", "B", "none"):
                raise InputError(f"{r['_where']}: sparse must be A, B or none (got '{r['sparse']}')")
            if (r["pattern"] == "dense") != (r["sparse"] == "none"):
                raise InputError(f"{r['_where']}: a dense pattern goes with sparse 'none', and only it")
            if r["metric"] == "speedup" and r["pattern"] == "dense":
                raise InputError(f"{r['_where']}: a speedup point needs a sparse pattern")
            as_float(r, "value")
            machine_of(r)
        ids = [r["id"] for r in rows]
        for r in rows:
            if ids.count(r["id"]) > 1:
                raise InputError(f"{r['_where']}: id '{r['id']}' appears more than once in the file")
        for r in rows:
            config, sets = machine_of(r)
            base = {"source": source, "id": r["id"], "gpu": r["gpu"], "config": config, "sets": sets,
                    "dtype": r["dtype"], "shape": f"{r['m']}x{r['n']}x{r['k']}", "pattern": r["pattern"],
                    "library": r["library"], "kernel_family": FAMILY[os.path.splitext(os.path.basename(config))[0]],
                    "where": r["_where"]}
            sparse = Gemm(r, r["pattern"], r["sparse"])
            dense = Gemm(r, "dense", "-")
            if r["metric"] == "speedup":
                points.append(dict(base, kind="speedup", published=float(r["value"]), gemms=(dense, sparse),
                                   derived=""))
            else:
                # The simulated time covers all `count` GEMMs of the line: so does the published one.
                value = float(r["value"])
                flops = 2.0 * sparse.m * sparse.n * sparse.k * sparse.count
                time_s = value * 1e-6 * sparse.count if r["metric"] == "time_us" else flops / (value * 1e12)
                points.append(dict(base, kind="time", published=time_s, gemms=(sparse,), derived="", metric=r["metric"]))
        # Speedups a source gives as a dense and a sparse absolute row of the same shape.
        for r in rows:
            if r["metric"] == "speedup" or r["pattern"] == "dense":
                continue
            same = [d for d in rows if d["metric"] in ("tflops", "time_us") and d["pattern"] == "dense" and
                    all(d[c] == r[c] for c in ("gpu", "clock_mhz", "dtype", "m", "n", "k", "count"))]
            if len(same) > 1:
                same = [d for d in same if d["library"] == r["library"]] or same
            if not same:
                continue
            d = same[0]  # of several dense rows (a source timing its baseline twice), the first in the file

            def t(x):  # seconds per GEMM (the pair has equal counts)
                v = float(x["value"])
                return v * 1e-6 if x["metric"] == "time_us" else 2.0 * int(x["m"]) * int(x["n"]) * int(x["k"]) / (v * 1e12)

            config, sets = machine_of(r)
            points.append({"source": source, "id": f"{r['id']}/{d['id']}", "gpu": r["gpu"], "config": config,
                           "sets": sets, "dtype": r["dtype"], "shape": f"{r['m']}x{r['n']}x{r['k']}",
                           "pattern": r["pattern"], "library": r["library"],
                           "kernel_family": FAMILY[os.path.splitext(os.path.basename(config))[0]],
                           "where": r["_where"], "kind": "speedup", "published": t(d) / t(r),
                           # Each row's GEMM on its own row's machine: a dense row of another kernel family
                           # (Hopper wgmma against an Ampere-style mma.sp, say) runs on that family's config.
                           "gemms": (Gemm(d, "dense", "-"), Gemm(r, r["pattern"], r["sparse"])),
                           "derived": f"from rows {d['id']} and {r['id']}"})
    return points


def simulate(stcsim, machines, out, jobs, model="fast"):
    """Simulated time per (machine, GEMM key): one stcsim run per GEMM, `jobs` at a time."""
    # One run per GEMM: lines of one trace share a memory system (the L2 a line leaves warms the
    # next), so each GEMM alone, on a cold machine, makes its result independent of what else is
    # validated and of --jobs.
    work = []
    for (config, sets), gemms in sorted(machines.items()):
        for key in sorted(gemms):
            work.append((config, sets, [key], gemms))

    def run(item):
        config, sets, keys, gemms = item
        folder = tempfile.mkdtemp(prefix="run-", dir=out)
        trace = os.path.join(folder, "points.trace")
        with open(trace, "w") as f:
            f.write("stcsim-trace v1\n# validation points (scripts/validate.py)\n")
            f.write("# layer m n k dtype sparse pattern count\n")
            for i, key in enumerate(keys):
                g = gemms[key]
                f.write(f"{g.layer(i)} {g.m} {g.n} {g.k} {g.dtype} {g.sparse} {g.pattern} {g.count}\n")
        cmd = [stcsim, "run", "--config", os.path.join(ROOT, config), "--trace", trace, "--out", folder,
               "--model", model, "--set", "kernel.dense_fallback=false"]
        for s in sets:
            cmd += ["--set", s]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise InputError(f"stcsim run on {config} {' '.join(sets)} failed: {last}")
        with open(os.path.join(folder, "results.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        got = {}
        for i, key in enumerate(keys):
            match = [r for r in rows if r["layer"] == f"g{i}"]
            if len(match) != 1:
                raise InputError(f"{folder}/results.csv: no single row for line g{i}")
            got[(config, sets, key)] = match[0]
        return got

    results = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for got in pool.map(run, work):
            results.update(got)
    return results


def family(p):
    """GPU x instruction x pattern: a dense GEMM on a sparse kernel config issues that family's dense
    instruction (mma.sp.sync kernels: mma.sync; wgmma.sp: wgmma)."""
    instr = p["kernel_family"]
    if p["pattern"] == "dense" and instr == "mma.sp":
        instr = "mma.sync"
    return f"{p['gpu'].split('-')[0]} {instr} {p['pattern'].split('(')[0]}"


def summarize(points, holdout):
    """Aggregates of the speedup and time points: all, fitted, held out, and per family."""
    def agg(sel, kind):
        pts = [p for p in sel if p["kind"] == kind]
        if not pts:
            return None
        a = compare.aggregate([p["simulated"] for p in pts], [p["published"] for p in pts])
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in a.items()}

    out = {}
    for name, sel in (("all", points), ("fitted", [p for p in points if p["source"] not in holdout]),
                      ("held_out", [p for p in points if p["source"] in holdout])):
        out[name] = {"speedup": agg(sel, "speedup"), "time": agg(sel, "time"),
                     "sources": sorted({p["source"] for p in sel})}
    fams = {}
    for p in points:
        fams.setdefault(family(p), []).append(p)
    out["families"] = {f: {"speedup": agg(sel, "speedup"), "time": agg(sel, "time")} for f, sel in sorted(fams.items())}
    # Dense absolute throughput of large GEMMs (>= 4096^3) per machine.
    large = {}
    for p in points:
        g = p["gemms"][0]
        if p["kind"] == "time" and p["pattern"] == "dense" and min(g.m, g.n, g.k) >= 4096:
            large.setdefault(p["gpu"].split("-")[0], []).append(p)
    out["dense_large"] = {gpu: agg(sel, "time") for gpu, sel in sorted(large.items())}
    return out


def fmt_agg(a):
    if not a:
        return "-"
    r = "n/a" if a["pearson_r"] is None else f"{a['pearson_r']:.2f}"
    return f"n={a['n']:3d}  MAPE {100 * a['mape']:5.1f}%  r {r:>5}  max {100 * a['max_abs_error']:5.1f}%"


def shape_curve(out, curve, rows, points):
    """OUT/a100_shapes.csv and .png: the simulated A100 2:4 speedup over dense on CURVE_SHAPES, with the
    published A100 2:4 fp16 speedups of the same shapes (any A100 machine) beside it."""
    import pandas as pd
    table = []
    for i, (d, sp) in enumerate(curve):
        rd, rs = rows[2 * i], rows[2 * i + 1]
        shape = f"{d.m}x{d.n}x{d.k}"
        pub = [p for p in points if p["kind"] == "speedup" and p["gpu"].startswith("A100") and p["shape"] == shape
               and p["pattern"] == "2:4" and p["dtype"] == "fp16" and not p["excluded"]]
        table.append({"shape": shape, "macs": d.m * d.n * d.k, "simulated": float(rd["time_s"]) / float(rs["time_s"]),
                      "dense_kernel": rd.get("kernel", ""), "sparse_kernel": rs.get("kernel", ""),
                      "published": ";".join(f"{p['published']:.3f}" for p in pub),
                      "published_by": ";".join(f"{p['source']}:{p['library']}" for p in pub)})
    compare.write_csv_atomic(pd.DataFrame(table), os.path.join(out, "a100_shapes.csv"))
    plt = compare._pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = list(range(len(table)))
    ax.plot(xs, [t["simulated"] for t in table], "o-", color="black", label="simulated (a100.yaml)", zorder=3)
    marks = {}
    for x, t in zip(xs, table):
        for v, by in zip(t["published"].split(";") if t["published"] else [], t["published_by"].split(";")):
            lib = by.split(":", 1)[1] or "?"
            marks.setdefault(lib, ([], []))
            marks[lib][0].append(x)
            marks[lib][1].append(float(v))
    for lib, (mx, my) in sorted(marks.items()):
        ax.scatter(mx, my, marker="s", s=34, label=f"published, {lib}", zorder=4)
    ax.set_xticks(xs)
    ax.set_xticklabels([t["shape"] for t in table], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("2:4 speedup over dense (x)")
    ax.set_title("A100 fp16 2:4 speedup by GEMM shape (m x n x k): simulated, and published where measured", fontsize=9)
    ax.axhline(1.0, color="k", lw=0.5)
    ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = os.path.join(out, "a100_shapes.png.tmp")
    fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    os.replace(tmp, os.path.join(out, "a100_shapes.png"))


def check(aggs, expected_path):
    """Failures: aggregates worse than the committed ones by more than their margins. Compared: all,
    fitted and held out (speedup and time), the dense large-GEMM time per GPU, and power."""
    try:
        with open(expected_path) as f:
            exp = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"{expected_path}: cannot read the expected aggregates: {e}")
    if not isinstance(exp, dict):
        raise InputError(f"{expected_path}: not a JSON object of aggregates")
    margin = exp.get("margin", {})
    m_mape = float(margin.get("mape", 0.02))
    m_r = float(margin.get("pearson_r", 0.03))
    pairs = []
    for scope in ("all", "fitted", "held_out"):
        for kind in ("speedup", "time"):
            pairs.append((f"{scope} {kind}", (exp.get(scope) or {}).get(kind), (aggs.get(scope) or {}).get(kind)))
    for gpu, want in sorted((exp.get("dense_large") or {}).items()):
        pairs.append((f"dense large {gpu} time", want, (aggs.get("dense_large") or {}).get(gpu)))
    pairs.append(("power", exp.get("power"), aggs.get("power")))
    bad = []
    for what, want, got in pairs:
        if not want:
            continue
        if not got:
            bad.append(f"{what}: no points now (expected {want['n']})")
            continue
        if got["mape"] > want["mape"] + m_mape:
            bad.append(f"{what} MAPE {100 * got['mape']:.1f}% > committed {100 * want['mape']:.1f}% "
                       f"+ {100 * m_mape:.0f} points")
        if want.get("pearson_r") is not None and got.get("pearson_r") is not None and \
                got["pearson_r"] < want["pearson_r"] - m_r:
            bad.append(f"{what} Pearson r {got['pearson_r']:.3f} < committed {want['pearson_r']:.3f} - {m_r}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stcsim", default=os.path.join(ROOT, "build", "stcsim"))
    ap.add_argument("--validation", default=os.path.join(ROOT, "validation"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "validation"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--source", action="append", default=[], help="only this source (file name without .csv)")
    ap.add_argument("--check", action="store_true", help="fail if the aggregates got worse than expected.json")
    ap.add_argument("--write-expected", action="store_true", help="write expected.json from this run")
    ap.add_argument("--keep-runs", action="store_true", help="keep each stcsim run's folder under OUT/runs")
    ap.add_argument("--model", choices=("fast", "cycle"), default="fast",
                    help="the simulator's model (cycle: no shape curve; with --max-macs for a subset it can finish)")
    ap.add_argument("--gpu", action="append", default=[],
                    help="only points on a GPU whose name starts with this (H100-SXM5, V100, ...)")
    ap.add_argument("--max-macs", type=float, default=0,
                    help="leave out points with a GEMM of more dense MACs (m n k count) than this; 0: none left out")
    a = ap.parse_args()
    if a.model != "fast" and (a.write_expected or a.check):
        raise InputError("--write-expected and --check compare the fast model's figures: run them without --model cycle")
    if a.max_macs < 0:
        raise InputError(f"--max-macs must be >= 0 (got {a.max_macs:g})")
    if a.jobs < 1:
        raise InputError(f"--jobs must be >= 1 (got {a.jobs})")
    if a.write_expected and a.source:
        raise InputError("--write-expected writes the whole suite's figures: run it without --source")
    if not os.access(a.stcsim, os.X_OK):
        raise InputError(f"{a.stcsim}: no stcsim binary there (build it, or give --stcsim)")
    os.makedirs(a.out, exist_ok=True)
    if not os.access(a.out, os.W_OK):
        raise InputError(f"{a.out}: the output folder is not writable")

    src_dir = os.path.join(a.validation, "sources")
    try:
        sources = sorted(os.path.join(src_dir, f) for f in os.listdir(src_dir) if f.endswith(".csv"))
    except OSError as e:
        raise InputError(f"{src_dir}: cannot list the sources: {e.strerror}")
    holdout_path = os.path.join(a.validation, "holdout.txt")
    try:
        with open(holdout_path) as f:
            holdout = {ln.split("#")[0].strip() for ln in f if ln.split("#")[0].strip()}
    except OSError as e:
        raise InputError(f"{holdout_path}: cannot read: {e.strerror}")
    known = {os.path.splitext(os.path.basename(s))[0] for s in sources}
    excluded_path = os.path.join(a.validation, "excluded.txt")
    excluded = {}
    try:
        with open(excluded_path) as f:
            for i, ln in enumerate(f, 1):
                body, _, why = ln.partition("#")
                if not body.strip():
                    continue
                parts = body.split()
                if len(parts) != 2 or not why.strip():
                    raise InputError(f"{excluded_path}:{i}: want 'source point  # reason'")
                excluded[(parts[0], parts[1])] = why.strip()
    except OSError as e:
        raise InputError(f"{excluded_path}: cannot read: {e.strerror}")
    for h in sorted(holdout - known):
        raise InputError(f"{holdout_path}: '{h}' names no file in {src_dir}")
    points = load_points(sources, set(a.source))
    ids = {(p["source"], p["id"]) for p in points}
    for (src, pid) in sorted(excluded):
        if src not in known:
            raise InputError(f"{excluded_path}: '{src}' names no file in {src_dir}")
        if (not a.source or src in a.source) and (src, pid) not in ids:
            raise InputError(f"{excluded_path}: {src} has no point '{pid}'")
    for p in points:
        # A derived speedup goes with its rows: out if either row is out.
        rows = p["id"].split("/")
        p["excluded"] = next((excluded[(p["source"], r)] for r in rows if (p["source"], r) in excluded), "")
    if a.gpu:
        points = [p for p in points if any(p["gpu"].startswith(g) for g in a.gpu)]
        if a.write_expected:
            raise InputError("--write-expected needs the whole suite: run it without --gpu")
    if a.max_macs > 0:
        big = [p for p in points if any(g.m * g.n * g.k * g.count > a.max_macs for g in p["gemms"])]
        if big:
            print(f"validate: {len(big)} points over --max-macs {a.max_macs:g} left out", flush=True)
        points = [p for p in points if p not in big]
        if a.write_expected:
            raise InputError("--write-expected needs the whole suite: run it without --max-macs")
    power_dir = os.path.join(a.validation, "power")
    power = []
    unshaped = []  # power rows without a GEMM shape: listed, not simulated
    if os.path.isdir(power_dir):
        for f in sorted(os.listdir(power_dir)):
            if f.endswith(".csv") and (not a.source or os.path.splitext(f)[0] in a.source):
                for r in read_table(os.path.join(power_dir, f), POWER_COLUMNS):
                    if not (r["m"] and r["n"] and r["k"]):
                        unshaped.append(f"{os.path.splitext(f)[0]} {r['id']}")  # no GEMM to simulate
                        continue
                    if a.gpu and not any(r["gpu"].startswith(g) for g in a.gpu):
                        continue
                    as_float(r, "power_w")
                    config, sets = machine_of(r)
                    r2 = dict(r, count="1", sparse="B" if r["pattern"] != "dense" else "-")
                    power.append({"source": os.path.splitext(f)[0], "id": r["id"], "gpu": r["gpu"], "config": config,
                                  "sets": sets, "published": float(r["power_w"]), "workload": r["workload"],
                                  "gemm": Gemm(r2, r["pattern"], r2["sparse"]), "where": r["_where"]})
                    g = power[-1]["gemm"]
                    if a.max_macs > 0 and g.m * g.n * g.k * g.count > a.max_macs:
                        power.pop()
    if not points:
        raise InputError(f"{src_dir}: no points to run")

    machines = {}
    for p in points:
        for g in p["gemms"]:
            machines.setdefault(g.machine, {})[g.key] = g
    for p in power:
        machines.setdefault(p["gemm"].machine, {})[p["gemm"].key] = p["gemm"]
    curve = []
    for (m, n, k) in (CURVE_SHAPES if a.model == "fast" else []):
        row = {"m": str(m), "n": str(n), "k": str(k), "count": "1", "dtype": "fp16", "_where": "CURVE_SHAPES"}
        pair = (Gemm(row, "dense", "-", (CURVE_CONFIG, ())), Gemm(row, "2:4", "B", (CURVE_CONFIG, ())))
        curve.append(pair)
        for g in pair:
            machines.setdefault((CURVE_CONFIG, ()), {})[g.key] = g
    n_gemms = sum(len(v) for v in machines.values())
    print(f"validate: {len(points)} points from {len({p['source'] for p in points})} sources, {len(power)} power "
          f"points; {n_gemms} distinct GEMMs on {len(machines)} machines, {a.jobs} at a time", flush=True)
    if a.keep_runs:
        runs = os.path.join(a.out, "runs")
        os.makedirs(runs, exist_ok=True)
        sim = simulate(a.stcsim, machines, runs, a.jobs, a.model)
    else:
        with tempfile.TemporaryDirectory(prefix="validate-runs-") as runs:
            sim = simulate(a.stcsim, machines, runs, a.jobs, a.model)

    def row_of(p, g):
        return sim[(g.machine[0], g.machine[1], g.key)]

    for p in points:
        if p["kind"] == "speedup":
            d, s = (float(row_of(p, g)["time_s"]) for g in p["gemms"])
            p["simulated"] = d / s
            p["kernel"] = row_of(p, p["gemms"][1]).get("kernel", "")
        else:
            r = row_of(p, p["gemms"][0])
            p["simulated"] = float(r["time_s"])
            p["kernel"] = r.get("kernel", "")
        p["error"] = (p["simulated"] - p["published"]) / p["published"]
        p["held_out"] = p["source"] in holdout
    for p in power:
        r = row_of(p, p["gemm"])
        p["simulated"] = float(r["power_w"]) if "power_w" in r else float("nan")
        p["clock_mhz"] = r.get("clock_mhz", "")
        p["error"] = (p["simulated"] - p["published"]) / p["published"]

    print(f"\n{'source':28} {'point':26} {'gpu':15} {'shape':17} {'dtype':5} {'pattern':18} {'metric':8} "
          f"{'published':>10} {'simulated':>10} {'error':>7}  kernel")
    for p in points:
        scale = 1e6 if p["kind"] == "time" else 1
        unit = "us" if p["kind"] == "time" else "x"
        mark = (" (held out)" if p["held_out"] else "") + (" (excluded: see excluded.txt)" if p["excluded"] else "")
        print(f"{p['source'][:28]:28} {p['id'][:26]:26} {p['gpu'][:15]:15} {p['shape']:17} {p['dtype']:5} "
              f"{p['pattern'][:18]:18} {('speedup' if p['kind'] == 'speedup' else 'time'):8} "
              f"{p['published'] * scale:9.3f}{unit} {p['simulated'] * scale:9.3f}{unit} {100 * p['error']:+6.1f}%  "
              f"{p['kernel']}{mark}")
    aggs = summarize([p for p in points if not p["excluded"]], holdout)
    aggs["excluded"] = sum(1 for p in points if p["excluded"])
    if power:
        pw = [p for p in power if math.isfinite(p["simulated"])]
        aggs["power"] = None
        if pw:
            a_pw = compare.aggregate([p["simulated"] for p in pw], [p["published"] for p in pw])
            aggs["power"] = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in a_pw.items()}
        print(f"\n{'source':28} {'point':26} {'gpu':15} {'workload':40} {'published':>9} {'simulated':>9} {'error':>7}")
        for p in power:
            print(f"{p['source'][:28]:28} {p['id'][:26]:26} {p['gpu'][:15]:15} {p['workload'][:40]:40} "
                  f"{p['published']:8.0f}W {p['simulated']:8.0f}W {100 * p['error']:+6.1f}%")
    if unshaped:
        print(f"power rows without a GEMM shape, not simulated: {', '.join(unshaped)}")
    print(f"\naggregates (error = simulated / published - 1; {aggs['excluded']} excluded points left out)")
    for scope in ("all", "fitted", "held_out"):
        s = aggs[scope]
        print(f"  {scope:9} speedup {fmt_agg(s['speedup'])}   time {fmt_agg(s['time'])}   ({len(s['sources'])} sources)")
    print("  per family (GPU, instruction, pattern):")
    for f, s in aggs["families"].items():
        print(f"    {f:28} speedup {fmt_agg(s['speedup'])}   time {fmt_agg(s['time'])}")
    print("  dense absolute time, GEMMs >= 4096^3:")
    for gpu, s in aggs["dense_large"].items():
        print(f"    {gpu:28} {fmt_agg(s)}")
    if power:
        print(f"  average power under GEMM load: {fmt_agg(aggs['power'])}")

    import pandas as pd
    cols = ["source", "id", "held_out", "excluded", "gpu", "config", "kernel_family", "library", "dtype", "shape", "pattern",
            "kind", "published", "simulated", "error", "kernel", "derived", "where"]
    compare.write_csv_atomic(pd.DataFrame([{c: p.get(c, "") for c in cols} for p in points]),
                             os.path.join(a.out, "points.csv"))
    if power:
        pcols = ["source", "id", "gpu", "config", "workload", "published", "simulated", "clock_mhz", "error", "where"]
        compare.write_csv_atomic(pd.DataFrame([{c: p.get(c, "") for c in pcols} for p in power]),
                                 os.path.join(a.out, "power.csv"))
    sp = [p for p in points if p["kind"] == "speedup" and not p["excluded"]]
    if sp:
        compare.scatter_plot(os.path.join(a.out, "speedup.png"), [p["simulated"] for p in sp],
                             [p["published"] for p in sp], [f"{p['gpu'].split('-')[0]} {p['shape']} {p['pattern']}"
                                                            for p in sp],
                             "Sparse speedup over dense: simulated vs published", "published speedup (x)",
                             "simulated speedup (x)", groups=[family(p) for p in sp])
    tp = [p for p in points if p["kind"] == "time" and not p["excluded"]]
    if tp:
        compare.scatter_plot(os.path.join(a.out, "absolute.png"), [p["simulated"] * 1e6 for p in tp],
                             [p["published"] * 1e6 for p in tp],
                             [f"{p['gpu'].split('-')[0]} {p['shape']} {p['pattern']}" for p in tp],
                             "GEMM time: simulated vs published", "published time per GEMM (us)",
                             "simulated time per GEMM (us)", log=True, groups=[family(p) for p in tp])
    if curve:
        shape_curve(a.out, curve, [sim[(CURVE_CONFIG, (), g.key)] for pair in curve for g in pair], points)
    tmp = os.path.join(a.out, "aggregates.json.tmp")
    with open(tmp, "w") as f:
        json.dump(aggs, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(a.out, "aggregates.json"))
    wrote = ["points.csv"] + (["power.csv"] if power else []) + (["speedup.png"] if sp else []) + \
        (["absolute.png"] if tp else []) + (["a100_shapes.csv", "a100_shapes.png"] if curve else []) + ["aggregates.json"]
    print(f"\nwrote {a.out}/: {', '.join(wrote)}")

    expected = os.path.join(a.validation, "expected.json")
    if a.write_expected:
        keep = {s: {k: aggs[s][k] for k in ("speedup", "time")} for s in ("all", "fitted", "held_out")}
        keep["dense_large"] = aggs["dense_large"]
        keep["power"] = aggs.get("power")
        keep["margin"] = {"mape": 0.02, "pearson_r": 0.03,
                          "why": "a check fails when a MAPE rises by more than 2 points or r falls by more than 0.03"}
        tmp = expected + ".tmp"
        with open(tmp, "w") as f:
            json.dump(keep, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, expected)
        print(f"wrote {expected}")
    if a.check:
        bad = check(aggs, expected)
        for b in bad:
            print(f"validate: worse than committed: {b}", file=sys.stderr)
        if bad:
            return 1
        print("validate: no aggregate is worse than the committed figures by more than the margin")
    return 0


if __name__ == "__main__":
    script_main.run(main, "validate.py", (InputError, compare.CompareError), interrupted_status=2)
