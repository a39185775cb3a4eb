#!/usr/bin/python3
"""Draw a sweep's standard plots from its output folder (stcsim sweep --out DIR).

    scripts/plot_sweep.py DIR [--x COL] [--lines COL[,COL]] [--where COL=VALUE]... [--metrics M,M]
                          [--out PREFIX]

Per point, trace and run the lines of results.csv are totalled: time and energy summed; imbalance
time-weighted; weight_density and magnitude_kept averaged over the weight lines weighted by their
dense MACs; metadata bytes and selector energy summed. Each run is compared with its point's
baseline (the point's first run, on the same trace): speedup = baseline time / time, energy_ratio =
energy / baseline energy. Writes:

  PREFIX_metrics.png  each metric against the swept column --x (a line per --lines combination, or
                      grouped bars when --x is not numeric), one panel per metric and trace
  PREFIX_pareto.png   energy against time of every point's runs per trace, the Pareto front marked
  PREFIX_summary.csv  the totals the plots are drawn from (point, swept columns, trace, run, ...)

--where keeps the points whose COL equals VALUE (repeatable). Metrics: speedup, energy_ratio,
imbalance, wave_efficiency, weight_density, magnitude_kept, metadata_mib, selector_energy_ratio
(default speedup,energy_ratio). PREFIX defaults to DIR/plot.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import script_main  # noqa: E402

script_main.need_modules("plot_sweep.py", ["numpy", "pandas", "matplotlib", "yaml"])
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

METRICS = {
    "speedup": "speedup over the baseline (x)",
    "energy_ratio": "energy / baseline energy (x)",
    "imbalance": "tile imbalance (max K / mean K, time-weighted)",
    "wave_efficiency": "wave efficiency (time-weighted)",
    "weight_density": "weights kept (fraction)",
    "magnitude_kept": "sum |w| kept / sum |w|",
    "metadata_mib": "metadata (MiB, all weight lines)",
    "selector_energy_ratio": "selector + metadata energy / baseline energy",
}


class PlotError(Exception):
    """Bad input: printed as one line `plot_sweep.py: error: ...`, exit status 2."""


def weighted(values, weights):
    v = pd.to_numeric(values, errors="coerce")
    w = pd.to_numeric(weights, errors="coerce")
    ok = v.notna() & w.notna() & (w > 0)
    return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")


def totals(sweep_dir):
    """One row per (point, trace, run) with the totals and the comparison with the point's baseline."""
    if not os.path.isdir(sweep_dir):
        raise PlotError(f"{sweep_dir}: not a folder (give the --out folder of a stcsim sweep)")
    for name in ("manifest.yaml", "results.csv"):
        if not os.path.isfile(os.path.join(sweep_dir, name)):
            raise PlotError(f"{sweep_dir}: no {name}: not the --out folder of a finished stcsim sweep "
                            "(a `stcsim run --out` folder holds no sweep)")
    try:
        with open(os.path.join(sweep_dir, "manifest.yaml")) as f:
            manifest = yaml.safe_load(f)
        columns = list(manifest.get("columns") or [])
        baseline = {p["name"]: p["patterns"][0] for p in manifest["points"]}
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError, IndexError) as e:
        raise PlotError(f"{sweep_dir}/manifest.yaml: not a sweep manifest ({type(e).__name__}: {e})") from None
    try:
        df = pd.read_csv(os.path.join(sweep_dir, "results.csv"), keep_default_na=False, na_values=[""],
                         dtype={c: str for c in ["point", "trace", "run"] + columns})
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise PlotError(f"{sweep_dir}/results.csv: cannot read it ({e})") from None
    needed = ["point", "trace", "run", "time_s", "energy_j", "energy_selector_metadata_j", "imbalance",
              "wave_efficiency", "dense_macs"] + columns
    lacking = [c for c in needed if c not in df.columns]
    if lacking:
        raise PlotError(f"{sweep_dir}/results.csv: no column {', '.join(lacking)} (not a sweep's results?)")
    for c in columns:
        df[c] = df[c].fillna("")
    if df.empty:
        raise PlotError(f"{sweep_dir}/results.csv has no rows: has the sweep run?")
    keys = ["point"] + columns + ["trace", "run"]
    rows = []
    for key, g in df.groupby(keys, sort=False, dropna=False):
        rec = dict(zip(keys, key))
        t = g["time_s"].astype(float)
        rec["time_s"] = t.sum()
        rec["energy_j"] = g["energy_j"].astype(float).sum()
        rec["selector_energy_j"] = g["energy_selector_metadata_j"].astype(float).sum()
        rec["imbalance"] = weighted(g["imbalance"], t)
        rec["wave_efficiency"] = weighted(g["wave_efficiency"], t)
        rec["weight_density"] = weighted(g.get("weight_density", pd.Series(dtype=float)), g["dense_macs"])
        rec["magnitude_kept"] = weighted(g.get("magnitude_kept", pd.Series(dtype=float)), g["dense_macs"])
        md = pd.to_numeric(g.get("metadata_bytes", pd.Series(dtype=float)), errors="coerce")
        rec["metadata_mib"] = md.sum() / 2**20 if md.notna().any() else float("nan")
        rows.append(rec)
    out = pd.DataFrame(rows)
    base = out[out.apply(lambda r: r["run"] == baseline.get(r["point"]), axis=1)].set_index(["point", "trace"])
    def ratio(r, col, inverse):
        b = base.loc[(r["point"], r["trace"])][col] if (r["point"], r["trace"]) in base.index else float("nan")
        return b / r[col] if inverse else r[col] / b
    out["speedup"] = out.apply(lambda r: ratio(r, "time_s", True), axis=1)
    out["energy_ratio"] = out.apply(lambda r: ratio(r, "energy_j", False), axis=1)
    out["selector_energy_ratio"] = out.apply(
        lambda r: r["selector_energy_j"] / base.loc[(r["point"], r["trace"])]["energy_j"]
        if (r["point"], r["trace"]) in base.index else float("nan"), axis=1)
    out["baseline"] = out["point"].map(baseline)
    return out, columns


def numeric(series):
    return pd.to_numeric(series, errors="coerce").notna().all()


def pareto_front(points):
    """Indices of the points no other point beats in both time and energy (lower is better)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front, best = [], float("inf")
    for i in order:
        if points[i][1] < best:
            front.append(i)
            best = points[i][1]
    return front


# Markers and dash styles cycled per line, so that lines that coincide stay distinguishable.
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
DASHES = ["-", "--", "-.", ":"]


def plot_metrics(df, x, lines, metrics, path):
    traces = list(dict.fromkeys(df["trace"]))
    n_lines = max(1, len(df[lines].drop_duplicates())) if lines else 1
    ncol = 1 if len(traces) == 1 else min(3, n_lines + 1)
    legend_in = 0.25 * (-(-(n_lines + 1) // ncol)) + 0.3  # inches below the panels for the legend
    fig, axes = plt.subplots(len(metrics), len(traces), figsize=(6.4 * len(traces), 3.3 * len(metrics) + legend_in),
                             squeeze=False)
    baselines = ", ".join(sorted(set(df["baseline"].dropna().astype(str))))
    runs = df[(df["run"] != df["baseline"]) & (df[x].astype(str) != "")]  # points off the x axis (named) left out
    is_num = numeric(runs[x])
    for ti, trace in enumerate(traces):
        d = runs[runs["trace"] == trace]
        if not lines:
            groups = [((), d)]
        else:
            groups = [((k,) if len(lines) == 1 else k, g) for k, g in d.groupby(lines[0] if len(lines) == 1 else lines, sort=False)]
        for mi, metric in enumerate(metrics):
            ax = axes[mi][ti]
            if is_num:
                for gi, (key, g) in enumerate(groups):
                    g = g.assign(_x=pd.to_numeric(g[x])).sort_values("_x")
                    label = ", ".join(f"{c}={v}" for c, v in zip(lines, key if isinstance(key, tuple) else (key,)))
                    ax.plot(g["_x"], g[metric], marker=MARKERS[gi % len(MARKERS)], ls=DASHES[gi % len(DASHES)],
                            ms=7 - 1.2 * (gi % 3), alpha=0.85, label=label or None)
            else:
                cats = list(dict.fromkeys(d[x].astype(str)))
                width = 0.8 / max(len(groups), 1)
                for gi, (key, g) in enumerate(groups):
                    vals = [g[g[x].astype(str) == c][metric].mean() if (g[x].astype(str) == c).any() else np.nan for c in cats]
                    label = ", ".join(f"{c}={v}" for c, v in zip(lines, key if isinstance(key, tuple) else (key,)))
                    ax.bar(np.arange(len(cats)) + gi * width - 0.4 + width / 2, vals, width, label=label or None)
                ax.set_xticks(np.arange(len(cats)))
                ax.set_xticklabels(cats, rotation=30, ha="right", fontsize=8)
            if metric in ("speedup", "energy_ratio"):
                ax.axhline(1.0, color="grey", lw=0.8, ls="--", label=f"baseline ({baselines})" if mi == 0 else None)
            ax.set_ylabel(METRICS[metric], fontsize=8)
            ax.set_title(f"{METRICS[metric].split(' (')[0]} on {os.path.basename(str(trace))}", fontsize=9)
            if mi == len(metrics) - 1:
                ax.set_xlabel(f"{x} (swept)")
            ax.grid(alpha=0.3)
    # One legend for the figure, below the panels: off the data.
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, legend_in / (3.3 * len(metrics) + legend_in), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_pareto(df, path):
    traces = list(dict.fromkeys(df["trace"]))
    fig, axes = plt.subplots(1, len(traces), figsize=(6.4 * len(traces), 5.2), squeeze=False)
    for ti, trace in enumerate(traces):
        d = df[df["trace"] == trace].reset_index(drop=True)
        ax = axes[0][ti]
        pts = list(zip(d["time_s"] * 1e3, d["energy_j"]))
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12, alpha=0.5, label="runs (point: pattern)")
        front = pareto_front(pts)
        ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], "r-o", ms=4, label="Pareto front")
        # Front labels alternate above and below their point and skip a label too close to the last one
        # drawn, so that they do not overlap; every front point is in the summary CSV.
        last = None
        span_x = (max(p[0] for p in pts) - min(p[0] for p in pts)) or 1.0
        for n, i in enumerate(front):
            if last is not None and abs(pts[i][0] - last) < 0.04 * span_x:
                continue
            name = str(d.loc[i, "point"])
            name = name if len(name) <= 32 else name[:31] + "~"
            ax.annotate(f"{name}: {d.loc[i, 'run']}", pts[i], fontsize=6, alpha=0.85, annotation_clip=True,
                        textcoords="offset points", xytext=(4, 8 if n % 2 == 0 else -12))
            last = pts[i][0]
        ax.set_xlabel("time of the trace (ms)")
        ax.set_ylabel("energy of the trace (J)")
        ax.set_title(f"energy against time on {os.path.basename(str(trace))}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv):
    p = argparse.ArgumentParser(description="Draw a sweep's standard plots.")
    p.add_argument("dir")
    p.add_argument("--x", help="swept column on the x axis (default: the first)")
    p.add_argument("--lines", default="", help="columns whose combinations are separate lines or bars")
    p.add_argument("--where", action="append", default=[], help="COL=VALUE: keep only those points")
    p.add_argument("--metrics", default="speedup,energy_ratio")
    p.add_argument("--out", help="prefix of the files written (default DIR/plot)")
    a = p.parse_args(argv)
    df, columns = totals(a.dir)
    for w in a.where:
        col, eq, val = w.partition("=")
        if not eq or not col:
            raise PlotError(f"--where {w}: expected COL=VALUE (columns: {', '.join(columns)})")
        if col not in df.columns:
            raise PlotError(f"--where: no column '{col}' (columns: {', '.join(columns)})")
        kept = df[df[col].astype(str) == val]
        if kept.empty:
            shown = ", ".join(sorted({v for v in df[col].astype(str) if v})[:8]) or "no values"
            raise PlotError(f"--where {w}: no point has {col} = {val} ({col} has {shown})")
        df = kept
    x = a.x or (columns[0] if columns else "point")
    if x not in df.columns:
        raise PlotError(f"--x: no column '{x}' (columns: {', '.join(columns)})")
    lines = [c for c in a.lines.split(",") if c]
    for c in lines:
        if c not in df.columns:
            raise PlotError(f"--lines: no column '{c}'")
    metrics = [m for m in a.metrics.split(",") if m]
    for m in metrics:
        if m not in METRICS:
            raise PlotError(f"--metrics: '{m}' is not one of {', '.join(METRICS)}")
    prefix = a.out or os.path.join(a.dir, "plot")
    try:
        os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
        df.to_csv(prefix + "_summary.csv", index=False, float_format="%.6g")
        plot_metrics(df, x, lines, metrics, prefix + "_metrics.png")
        plot_pareto(df, prefix + "_pareto.png")
    except OSError as e:
        raise PlotError(f"--out {prefix}: cannot write ({e.strerror or e})") from None
    print(f"wrote {prefix}_metrics.png, {prefix}_pareto.png and {prefix}_summary.csv")
    return 0


if __name__ == "__main__":
    script_main.run(lambda: main(sys.argv[1:]), "plot_sweep.py", (PlotError,))
