#!/usr/bin/python3
"""How closely the fast model agrees with the cycle model (docs/model.md, "The two models").

Runs every point of a grid (GEMM shape x pattern x machine config) with `stcsim run --model fast` and
`--model cycle`, one stcsim run per config and model (all shapes and patterns of the config in one
trace), and compares the cycles line by line: error = fast / cycle - 1. Writes agreement.csv (one row
per point) and prints the per-point table, the median and the largest |error|.

--check asserts the agreement the project promises: every point within --point-limit (5%) and the
median of |error| within --median-limit (2%), except the points listed in --explained (a file of
`config shape pattern` lines, each with a comment saying why the models differ there; docs/model.md
explains them). A point listed but no longer outside the limit is reported too, so the list cannot go
stale. Exit status: 0 pass, 1 a check failed, 2 bad input.

  scripts/model_agreement.py --grid small --out /tmp/agree --check
  scripts/model_agreement.py --configs configs/a100.yaml --shapes 1024x1024x1024 --patterns dense,2:4
"""

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import script_main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The grid the test runs (small enough for CI) and a fuller one for studies.
GRIDS = {
    "small": {
        "configs": ["configs/h100.yaml", "configs/a100.yaml", "configs/v100.yaml"],
        "shapes": ["256x256x256", "512x512x1024", "128x2048x512", "2048x128x512"],
        "patterns": ["dense", "2:4", "1:4", "2:8", "64:2:8", "tw(g=128,sparsity=0.5)",
                     "tvw(g=128,sparsity=0.5,n=2,m=4)", "block(b=32,sparsity=0.5)"],
    },
    "full": {
        "configs": ["configs/h100.yaml", "configs/h100_mma_sp.yaml", "configs/a100.yaml", "configs/v100.yaml",
                    "configs/h200.yaml"],
        "shapes": ["256x256x256", "1024x1024x1024", "2048x2048x2048", "128x4096x1024", "4096x128x1024",
                   "768x3072x768"],
        "patterns": ["dense", "2:4", "1:4", "2:8", "64:2:8", "tw(g=128,sparsity=0.5)",
                     "tvw(g=128,sparsity=0.5,n=2,m=4)", "block(b=32,sparsity=0.5)"],
    },
}


class InputError(Exception):
    pass


def parse_shape(s):
    parts = s.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise InputError(f"--shapes: '{s}' is not MxNxK with positive integers")
    return tuple(int(p) for p in parts)


def read_explained(path):
    """The explained points: {(config, shape, pattern): reason}."""
    out = {}
    if not path:
        return out
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from e
    for n, line in enumerate(lines, 1):
        text, _, comment = line.partition("#")
        fields = text.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise InputError(f"{path}:{n}: expected 'config shape pattern  # reason', got {line.strip()!r}")
        if not comment.strip():
            raise InputError(f"{path}:{n}: an explained point needs a comment saying why")
        out[tuple(fields)] = comment.strip()
    return out


def write_trace(path, shapes, patterns):
    with open(path, "w", encoding="utf-8") as f:
        f.write("stcsim-trace v1\n# layer m n k dtype sparse pattern count\n")
        for m, n, k in shapes:
            for p in patterns:
                f.write(f"g{m}x{n}x{k} {m} {n} {k} fp16 B {p} 1\n")


def run_model(stcsim, config, trace, model, out):
    cmd = [stcsim, "run", "--config", config, "--trace", trace, "--model", model, "--out", out]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise InputError(f"{config}: stcsim run --model {model} failed: {tail}")
    with open(os.path.join(out, "results.csv"), encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", choices=sorted(GRIDS), help="a shipped grid (default small, unless the lists are given)")
    ap.add_argument("--configs", help="comma-separated machine configs")
    ap.add_argument("--shapes", help="comma-separated MxNxK")
    ap.add_argument("--patterns", help="comma-separated pattern specs (use ; to separate if a spec has commas)")
    ap.add_argument("--stcsim", default=os.path.join(ROOT, "build", "stcsim"), help="the stcsim binary")
    ap.add_argument("--out", help="folder for agreement.csv")
    ap.add_argument("--check", action="store_true", help="fail unless the agreement holds (see above)")
    ap.add_argument("--explained", default=os.path.join(ROOT, "tests", "model_agreement_explained.txt"),
                    help="points allowed outside the limit, with reasons")
    ap.add_argument("--point-limit", type=float, default=0.05)
    ap.add_argument("--median-limit", type=float, default=0.02)
    a = ap.parse_args()

    grid = dict(GRIDS[a.grid or "small"])
    if a.configs:
        grid["configs"] = [c for c in a.configs.split(",") if c]
    if a.shapes:
        grid["shapes"] = [s for s in a.shapes.split(",") if s]
    if a.patterns:
        sep = ";" if ";" in a.patterns else ","
        grid["patterns"] = [p for p in a.patterns.split(sep) if p]
    shapes = [parse_shape(s) for s in grid["shapes"]]
    if not os.access(a.stcsim, os.X_OK):
        raise InputError(f"{a.stcsim}: not an executable (build first, or give --stcsim)")
    explained = read_explained(a.explained) if a.check else {}
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        if not os.access(a.out, os.W_OK):
            raise InputError(f"{a.out}: not writable")

    rows = []
    with tempfile.TemporaryDirectory(prefix="stcsim-agree-") as tmp:
        trace = os.path.join(tmp, "grid.trace")
        write_trace(trace, shapes, grid["patterns"])
        for config in grid["configs"]:
            res = {}
            for model in ("fast", "cycle"):
                res[model] = run_model(a.stcsim, config, trace, model, os.path.join(tmp, model))
            if len(res["fast"]) != len(res["cycle"]):
                raise InputError(f"{config}: the two models returned different numbers of lines")
            for f, c in zip(res["fast"], res["cycle"]):
                fc, cc = int(f["cycles"]), int(c["cycles"])
                err = fc / cc - 1.0 if cc > 0 else 0.0
                rows.append({"config": config, "shape": f"{f['m']}x{f['n']}x{f['k']}", "pattern": f["pattern"],
                             "fast_cycles": fc, "cycle_cycles": cc, "error": err,
                             "fast_kernel": f["kernel"], "cycle_kernel": c["kernel"]})

    print(f"{'config':28} {'shape':16} {'pattern':34} {'fast':>10} {'cycle':>10} {'error':>8}")
    for r in rows:
        print(f"{r['config']:28} {r['shape']:16} {r['pattern']:34} {r['fast_cycles']:>10} {r['cycle_cycles']:>10} "
              f"{100 * r['error']:>+7.1f}%")
    errs = [abs(r["error"]) for r in rows]
    median = statistics.median(errs) if errs else 0.0
    worst = max(errs) if errs else 0.0
    print(f"points {len(rows)}: median |error| {100 * median:.2f}%, max {100 * worst:.2f}%, "
          f"within {100 * a.point_limit:.0f}%: {sum(e <= a.point_limit for e in errs)}")
    if a.out:
        path = os.path.join(a.out, "agreement.csv")
        tmp_path = path + ".tmp"
        with open(tmp_path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["config"])
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp_path, path)
        print(f"wrote {path}")
    if not a.check:
        return 0
    failed = False
    if median > a.median_limit:
        print(f"check: median |error| {100 * median:.2f}% exceeds {100 * a.median_limit:.0f}%")
        failed = True
    for r in rows:
        key = (r["config"], r["shape"], r["pattern"])
        outside = abs(r["error"]) > a.point_limit
        if outside and key not in explained:
            print(f"check: {' '.join(key)}: {100 * r['error']:+.1f}% is outside {100 * a.point_limit:.0f}% "
                  "and not explained")
            failed = True
        elif not outside and key in explained:
            print(f"check: {' '.join(key)} is listed as explained but now agrees ({100 * r['error']:+.1f}%): "
                  "remove it from the list")
            failed = True
    print("check: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    script_main.run(main, "model_agreement.py", (InputError, OSError))
