#!/usr/bin/python3
"""Compare simulated with measured results: stcsim run's results.csv against stcsim-gpu replay's.

    scripts/compare.py SIM.csv MEASURED.csv [--backend own] [--dense-backend cublas] [--out PREFIX]

Rows join on (layer, m, n, k, dtype, pattern). A measured file has one row per backend: sparse rows are
taken from --backend (default own: the kernel whose tiling the simulator's config describes), dense
rows from --dense-backend (default the same backend). Per joined row: simulated and measured time and
the relative error of the time. Per sparse row (pattern other than dense): the speedup over the same
layer's dense row, simulated and measured, and its relative error. Aggregates: MAPE of time, MAPE of
speedup, and the Pearson correlation of simulated and measured speedups (with at least two rows).

Writes PREFIX_scatter.png (simulated vs measured speedup, with y = x), PREFIX_layers.png (per-layer
time, simulated and measured, per pattern) and PREFIX_rows.csv (the joined rows). PREFIX defaults to
"compare" in the working folder.
"""

import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

KEY = ["layer", "m", "n", "k", "dtype", "pattern"]


def load(path, what):
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise SystemExit(f"{path}: cannot read the {what} results: {e}")
    missing = [c for c in KEY + ["time_s"] if c not in df.columns]
    if missing:
        raise SystemExit(f"{path}: not a results.csv (no column {', '.join(missing)})")
    return df


def join(sim, measured, backend, dense_backend):
    if "backend" not in measured.columns:
        raise SystemExit("the measured file has no backend column: give stcsim-gpu replay's results.csv second")
    sim = sim.drop_duplicates(subset=KEY).copy()
    m = measured.copy()
    sparse = m[(m["pattern"] != "dense") & (m["backend"] == backend)]
    dense = m[(m["pattern"] == "dense") & (m["backend"] == dense_backend)]
    m = pd.concat([sparse, dense]).drop_duplicates(subset=KEY)
    j = sim[KEY + ["time_s"]].merge(m[KEY + ["time_s", "backend"]], on=KEY, suffixes=("_sim", "_measured"))
    if j.empty:
        raise SystemExit("no row of the two files matches on layer, shape, dtype and pattern (and backend)")
    j["time_error"] = (j["time_s_sim"] - j["time_s_measured"]) / j["time_s_measured"]
    dense_rows = j[j["pattern"] == "dense"].set_index(["layer", "m", "n", "k", "dtype"])
    sp_sim, sp_meas = [], []
    for _, r in j.iterrows():
        idx = (r["layer"], r["m"], r["n"], r["k"], r["dtype"])
        if r["pattern"] == "dense" or idx not in dense_rows.index:
            sp_sim.append(np.nan)
            sp_meas.append(np.nan)
            continue
        d = dense_rows.loc[idx]
        sp_sim.append(d["time_s_sim"] / r["time_s_sim"])
        sp_meas.append(d["time_s_measured"] / r["time_s_measured"])
    j["speedup_sim"] = sp_sim
    j["speedup_measured"] = sp_meas
    j["speedup_error"] = (j["speedup_sim"] - j["speedup_measured"]) / j["speedup_measured"]
    return j


def pearson(a, b):
    """The correlation of two series; nan with fewer than two rows or a constant series."""
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def aggregate(j):
    sp = j.dropna(subset=["speedup_sim", "speedup_measured"])
    out = {
        "rows": len(j),
        "mape_time": float(np.mean(np.abs(j["time_error"]))),
        "speedup_rows": len(sp),
        "mape_speedup": float(np.mean(np.abs(sp["speedup_error"]))) if len(sp) else float("nan"),
        "pearson_speedup": pearson(sp["speedup_sim"], sp["speedup_measured"]),
    }
    return out


def plots(j, prefix):
    sp = j.dropna(subset=["speedup_sim", "speedup_measured"])
    fig, ax = plt.subplots(figsize=(5, 5))
    for pat, g in sp.groupby("pattern", sort=False):
        ax.scatter(g["speedup_measured"], g["speedup_sim"], label=pat, s=18)
    lo = min([0.5] + list(sp["speedup_measured"]) + list(sp["speedup_sim"]))
    hi = max([2.0] + list(sp["speedup_measured"]) + list(sp["speedup_sim"]))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="y = x")
    ax.set_xlabel("measured speedup over dense")
    ax.set_ylabel("simulated speedup over dense")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(prefix + "_scatter.png", dpi=110)
    plt.close(fig)

    pats = list(dict.fromkeys(j["pattern"]))
    fig, axes = plt.subplots(len(pats), 1, figsize=(max(6, 0.5 * j["layer"].nunique() + 3), 2.8 * len(pats)), squeeze=False)
    for ax, pat in zip(axes[:, 0], pats):
        g = j[j["pattern"] == pat]
        x = np.arange(len(g))
        ax.bar(x - 0.2, g["time_s_sim"] * 1e3, 0.4, label="simulated")
        ax.bar(x + 0.2, g["time_s_measured"] * 1e3, 0.4, label="measured")
        ax.set_xticks(x)
        ax.set_xticklabels(g["layer"], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("time (ms)")
        ax.set_title(pat, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(prefix + "_layers.png", dpi=110)
    plt.close(fig)


def main(argv):
    p = argparse.ArgumentParser(description="Compare simulated with measured results.")
    p.add_argument("sim")
    p.add_argument("measured")
    p.add_argument("--backend", default="own")
    p.add_argument("--dense-backend")
    p.add_argument("--out", default="compare")
    a = p.parse_args(argv)
    j = join(load(a.sim, "simulated"), load(a.measured, "measured"), a.backend, a.dense_backend or a.backend)
    agg = aggregate(j)
    pd.set_option("display.width", 200)
    cols = KEY + ["time_s_sim", "time_s_measured", "time_error", "speedup_sim", "speedup_measured", "speedup_error"]
    print(j[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\nrows {agg['rows']}: MAPE of time {agg['mape_time'] * 100:.2f}%")
    print(f"sparse rows {agg['speedup_rows']}: MAPE of speedup {agg['mape_speedup'] * 100:.2f}%, "
          f"Pearson r of speedups {agg['pearson_speedup']:.4f}")
    j.to_csv(a.out + "_rows.csv", index=False, float_format="%.6g")
    plots(j, a.out)
    print(f"wrote {a.out}_rows.csv, {a.out}_scatter.png and {a.out}_layers.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
