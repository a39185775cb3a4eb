#!/usr/bin/python3
"""Summarise stcsim-gpu replay results: per GEMM line, the own dense kernel as a fraction of cuBLAS,
and every sparse row's speedup over both dense kernels (cuBLAS and own) of the same line.

    scripts/replay_summary.py RESULTS.csv [RESULTS.csv ...] [--markdown]

Rows are matched by (layer, m, n, k, dtype); times are the results' time_s (median launch time x
count). A line's "total" row sums time_s over the file's lines for each (pattern, backend) that has
every line. Speedup = dense time / sparse time: above 1 is faster. Uses only the standard library.
"""

import csv
import sys
from collections import OrderedDict


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if "backend" not in r:
            raise SystemExit(f"{path}: no backend column: not a stcsim-gpu replay results.csv")
    return rows


def summarise(rows):
    """[(line key, {(pattern, backend): time_s})] in file order, plus a total entry."""
    lines = OrderedDict()
    for r in rows:
        key = (r["layer"], r["m"], r["n"], r["k"], r["dtype"])
        lines.setdefault(key, {})[(r["pattern"], r["backend"])] = float(r["time_s"])
    combos = set()
    for times in lines.values():
        combos |= set(times)
    total = {c: sum(t[c] for t in lines.values()) for c in combos if all(c in t for t in lines.values())}
    out = list(lines.items())
    if len(lines) > 1:
        out.append((("total", "", "", "", ""), total))
    return out


def table(entries):
    """Rows of text: line, own/cuBLAS dense, then per sparse (pattern, backend): x vs cuBLAS, x vs own."""
    head = ["layer", "m", "n", "k", "dtype", "cublas dense s", "own dense s", "own/cublas"]
    sparse = []
    for _, times in entries:
        for c in times:
            if c[0] != "dense" and c not in sparse:
                sparse.append(c)
    for pat, be in sparse:
        head += [f"{pat} {be} s", "vs cublas", "vs own"]
    body = []
    for key, t in entries:
        cb, own = t.get(("dense", "cublas")), t.get(("dense", "own"))
        row = list(key) + [fmt(cb), fmt(own), ratio(own, cb)]
        for c in sparse:
            s = t.get(c)
            row += [fmt(s), ratio(s, cb), ratio(s, own)]
        body.append(row)
    return head, body


def fmt(x):
    return "" if x is None else f"{x:.6g}"


def ratio(a, b):
    """b / a: the speedup of a over b (own/cublas: cuBLAS time over own time, the own kernel's speed as a
    fraction of cuBLAS')."""
    if a is None or b is None or a <= 0:
        return ""
    return f"{b / a:.3f}"


def main(argv):
    markdown = "--markdown" in argv
    paths = [a for a in argv if a != "--markdown"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for path in paths:
        head, body = table(summarise(load(path)))
        print(f"## {path}" if markdown else f"== {path}")
        if markdown:
            print("| " + " | ".join(head) + " |")
            print("|" + "---|" * len(head))
            for r in body:
                print("| " + " | ".join(r) + " |")
        else:
            w = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
            print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
            for r in body:
                print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
