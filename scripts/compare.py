#!/usr/bin/python3
"""Compare simulated with measured results: stcsim's results.csv against measured times of the same GEMMs.

    scripts/compare.py SIM.csv MEASURED.csv [--backend B] [--dense-backend D] [--where COL=VALUE]...
                       [--out PREFIX]

SIM.csv is `stcsim run`'s results.csv or `stcsim sweep`'s (which has more columns: the sweep point, its
swept values, the trace). MEASURED.csv is `stcsim-gpu replay`'s results.csv or any user's measured
times, in the schema below. Rows join on (layer, m, n, k, dtype, pattern).

The MEASURED file
-----------------
A CSV file with a header line. Required columns:

    layer, m, n, k, dtype, pattern   the join key: a trace line's layer name, its GEMM shape (integers),
                                     its dtype (fp16, bf16, ...) and the weight pattern (dense, 2:4, ...),
                                     spelled as in SIM.csv
    and one time column, which one states what it holds:
    time_s                           seconds per launch of the line (one of its `count` copies), or
    total_time_s                     seconds for all `count` copies of the line; a `count` column is then
                                     required, and the time per launch is total_time_s / count.

Optional columns: `count` (the line's copies; with time_s it only serves to notice a line whose count
differs from the simulated one), `backend` (the kernel that ran: no backend column is required, and then
every row is used), `status` (when present, only rows whose status is `ok` are used). Other columns are
ignored. Times must be numbers > 0. stcsim-gpu replay's results.csv (recognised by its time_median_s and
launches_per_sample columns) has time_s = the median time per launch x count, the line's total: it is
read as total_time_s.

Backends: with one backend (or no backend column), its rows are used. With several, --backend B gives
the sparse rows (pattern other than dense) and --dense-backend D the dense rows (default: B where it has
dense rows, else the only backend that has any); without them compare.py lists the backends found and
refuses, as it does when a backend given is not in the file.

The SIMULATED file's time_s is the time of the line, all `count` copies (stcsim simulates a line as one
launch of its copies); the measured time of the line is the time per launch x the simulated count, so
the two are compared per line and, equally, per launch (time_s / count).

--where COL=VALUE (repeatable) keeps only the simulated rows whose column COL equals VALUE, compared as
strings and, when both parse as numbers, numerically (--where sms=66 matches 66.0): a sweep's points
differ in such columns. A join key left on more than one simulated row is refused, naming the columns
that differ among those rows.

Per joined row: simulated and measured time and the relative error (sim - meas) / meas. Per sparse row
whose layer has a dense row: the speedup over dense, simulated and measured, and its relative error.
Aggregates: MAPE (mean |error|), max and median |error|, Pearson r, of the times and of the speedups.

Writes PREFIX_rows.csv (the joined rows), PREFIX_time_scatter.png (simulated vs measured time per line,
log axes), PREFIX_scatter.png (simulated vs measured speedup over dense; only when there are speedups)
and PREFIX_layers.png (per-layer time, simulated and measured, per pattern). PREFIX defaults to
"compare" in the working folder; its folder must exist and be writable (checked before anything is
computed). Every file is written to a temporary file in the same folder, then renamed into place.

Errors (missing or unreadable file, missing column, bad time with its file, line and column, several
backends, duplicate key, unwritable prefix, nothing joined) are one line `compare.py: error: ...` on
stderr. Exit status: 0 done, 1 bad input, 2 bad usage or an internal error.

As a library (`sys.path.insert(0, scripts_dir); import compare`; importing runs nothing):

    aggregate(simulated, measured) -> dict      n, mape, pearson_r, max_abs_error, median_abs_error
    scatter_plot(path, simulated, measured, labels, title, xlabel, ylabel, outliers=3, log=False)
    write_csv_atomic(df, path)
    CompareError                                the exception raised for bad input
    load_simulated(path, where=()), load_measured(path), join(sim, measured, backend, dense_backend),
    summary(joined), check_prefix(prefix)       the steps of main
"""

import argparse
import csv
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import script_main  # noqa: E402

script_main.need_modules("compare.py", ["numpy", "pandas", "matplotlib"])
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

KEY = ["layer", "m", "n", "k", "dtype", "pattern"]
SHAPE = ["m", "n", "k"]
PROG = "compare.py"


class CompareError(Exception):
    """Bad input to compare.py's functions (a file, a column, a value, an option); its message is one line."""


# ---------------------------------------------------------------------------------------------------------------------
# Aggregates


def aggregate(simulated, measured):
    """The agreement of two sequences of floats, simulated against measured (measured > 0).

    Returns {n, mape, pearson_r, max_abs_error, median_abs_error}: with e_i = |sim_i - meas_i| / meas_i,
    mape is mean(e) (a fraction: 0.05 is 5%), max_abs_error max(e), median_abs_error median(e);
    pearson_r is the correlation of simulated and measured, nan with n < 2 or a constant sequence. With
    n = 0 every value but n is nan. Raises CompareError on sequences of different lengths, non-finite
    values or a measured value <= 0.
    """
    s = np.asarray(list(simulated), dtype=float)
    m = np.asarray(list(measured), dtype=float)
    if s.shape != m.shape:
        raise CompareError(f"aggregate: {len(s)} simulated values but {len(m)} measured")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(m))):
        raise CompareError("aggregate: a value is not a finite number")
    if np.any(m <= 0):
        raise CompareError("aggregate: a measured value is <= 0 (relative errors need measured > 0)")
    n = int(len(s))
    if n == 0:
        nan = float("nan")
        return {"n": 0, "mape": nan, "pearson_r": nan, "max_abs_error": nan, "median_abs_error": nan}
    e = np.abs(s - m) / m
    return {"n": n, "mape": float(np.mean(e)), "pearson_r": pearson(s, m), "max_abs_error": float(np.max(e)),
            "median_abs_error": float(np.median(e))}


def pearson(a, b):
    """The correlation of two series; nan with fewer than two values or a constant series."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if len(a) < 2:
        return float("nan")
    for v in (a, b):
        sd = np.std(v)
        if sd == 0 or sd <= 1e-12 * max(np.max(np.abs(v)), 1e-300):
            return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _wrap(text, width):
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _n(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _fmt_pct(v):
    return "n/a" if v != v else f"{v * 100:.2f}%"


def _fmt_r(v):
    return "n/a" if v != v else f"{v:.3f}"


# ---------------------------------------------------------------------------------------------------------------------
# Writing files atomically


def _atomic(path, write):
    """Calls write(file object opened in binary) on a temporary file beside path, then renames it onto path."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_csv_atomic(df, path):
    """Writes the pandas DataFrame df to the CSV file path (no index, floats in full precision): to a
    temporary file in the same folder, then os.replace. Raises CompareError when it cannot be written."""
    text = df.to_csv(index=False, lineterminator="\n")
    try:
        _atomic(path, lambda f: f.write(text.encode()))
    except OSError as e:
        raise CompareError(f"cannot write {path}: {e.strerror or e}")


def _pyplot():
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(fig, path):
    plt = _pyplot()
    try:
        _atomic(path, lambda f: fig.savefig(f, format="png", dpi=110))
    except OSError as e:
        raise CompareError(f"cannot write {path}: {e.strerror or e}")
    finally:
        plt.close(fig)


def check_prefix(prefix):
    """Checks that files PREFIX_* can be written: the folder exists, is a folder and takes a new file.
    Raises CompareError saying which it is not."""
    folder = os.path.dirname(prefix) or "."
    if not os.path.exists(folder):
        raise CompareError(f"--out {prefix}: the folder {folder} does not exist")
    if not os.path.isdir(folder):
        raise CompareError(f"--out {prefix}: {folder} is not a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".compare-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise CompareError(f"--out {prefix}: the folder {folder} is not writable ({e.strerror or e})")


# ---------------------------------------------------------------------------------------------------------------------
# Plots


def scatter_plot(path, simulated, measured, labels, title, xlabel, ylabel, outliers=3, log=False, groups=None):
    """Writes a PNG scatter of simulated (y) against measured (x) to path, atomically.

    The line y = x is drawn; the title is `title`, then a line with the points' MAPE and Pearson r (and
    n); the `outliers` points (3 by default, fewer when there are fewer) of largest relative error
    |sim - meas| / meas are annotated with their entry of labels. log: logarithmic axes. groups
    (optional, one entry per point): points of one group share a colour and a legend entry. Returns
    aggregate(simulated, measured). Raises CompareError on no points, lengths that differ, measured
    values <= 0, or non-positive values on log axes.
    """
    s = np.asarray(list(simulated), dtype=float)
    m = np.asarray(list(measured), dtype=float)
    labels = [str(v) for v in labels]
    if len(s) == 0:
        raise CompareError(f"scatter_plot {path}: no points")
    if not (len(s) == len(m) == len(labels)) or (groups is not None and len(groups) != len(s)):
        raise CompareError(f"scatter_plot {path}: {len(s)} simulated values, {len(m)} measured, {len(labels)} labels")
    agg = aggregate(s, m)
    if log and np.any(s <= 0):
        raise CompareError(f"scatter_plot {path}: log axes need simulated values > 0")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    if groups is None:
        ax.scatter(m, s, s=18, zorder=3)
    else:
        groups = [str(g) for g in groups]
        for g in dict.fromkeys(groups):
            sel = np.array([x == g for x in groups])
            ax.scatter(m[sel], s[sel], s=18, label=g, zorder=3)
    lo = float(min(np.min(s), np.min(m)))
    hi = float(max(np.max(s), np.max(m)))
    if log:
        lo, hi = lo / 1.5, hi * 1.5
    else:
        pad = 0.08 * (hi - lo) if hi > lo else 0.1 * max(abs(hi), 1.0)
        lo, hi = lo - pad, hi + pad
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="y = x", zorder=2)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    err = np.abs(s - m) / m
    mid = math.sqrt(lo * hi) if log else (lo + hi) / 2
    placed = []  # anchors labelled so far, in axes fractions: a label near one is moved up a line
    def frac(v):
        return (math.log(v / lo) / math.log(hi / lo)) if log else (v - lo) / (hi - lo)
    for i in np.argsort(-err, kind="stable")[:max(0, int(outliers))]:
        right = m[i] > mid  # labels of points on the right half go to their left, inside the axes
        at = (frac(m[i]), frac(s[i]))
        near = sum(1 for q in placed if abs(q[0] - at[0]) < 0.35 and abs(q[1] - at[1]) < 0.06)
        placed.append(at)
        ax.annotate(f"{labels[i]} ({(s[i] - m[i]) / m[i] * 100:+.0f}%)", (m[i], s[i]),
                    xytext=(-5 if right else 5, 5 + 11 * near),
                    textcoords="offset points", ha="right" if right else "left", fontsize=7, color="tab:red",
                    arrowprops={"arrowstyle": "-", "color": "tab:red", "lw": 0.5})
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator

        plain = FuncFormatter(lambda v, _: f"{v:g}")
        for axis in (ax.xaxis, ax.yaxis):
            if hi / lo < 1e3:
                axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_title(f"{_wrap(title, 60)}\nMAPE {_fmt_pct(agg['mape'])}, Pearson r {_fmt_r(agg['pearson_r'])} (n = {agg['n']})",
                 fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both" if log else "major")
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save_figure(fig, path)
    return agg


def time_unit(values):
    """(scale, unit) that show the largest of values (seconds) as a number between 1 and 1000."""
    top = max([abs(float(v)) for v in values] + [0.0])
    for scale, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs")):
        if top >= 1.0 / scale:
            return scale, unit
    return 1e9, "ns"


def layers_plot(path, j, title):
    """Per pattern, bars of each layer's simulated and measured time per line; the 3 layers of largest
    relative error are marked with it."""
    plt = _pyplot()
    pats = list(dict.fromkeys(j["pattern"]))
    scale, unit = time_unit(list(j["time_s_sim"]) + list(j["time_s_measured"]))
    width = max(6.0, 0.5 * j["layer"].nunique() + 3)
    fig, axes = plt.subplots(len(pats), 1, figsize=(width, 3.0 * len(pats) + 0.6), squeeze=False)
    for ax, pat in zip(axes[:, 0], pats):
        g = j[j["pattern"] == pat]
        x = np.arange(len(g))
        sim = g["time_s_sim"].to_numpy(float) * scale
        meas = g["time_s_measured"].to_numpy(float) * scale
        ax.bar(x - 0.2, sim, 0.4, label="simulated")
        ax.bar(x + 0.2, meas, 0.4, label="measured")
        err = (sim - meas) / meas
        for i in np.argsort(-np.abs(err), kind="stable")[:3]:
            ax.annotate(f"{err[i] * 100:+.0f}%", (x[i], max(sim[i], meas[i])), xytext=(0, 2), textcoords="offset points",
                        ha="center", fontsize=7, color="tab:red")
        agg = aggregate(g["time_s_sim"], g["time_s_measured"])
        ax.set_xticks(x)
        ax.set_xticklabels(g["layer"], rotation=30, ha="right", fontsize=7)
        ax.set_xlabel("layer")
        ax.set_ylabel(f"time per line ({unit})")
        ax.set_title(f"{pat}: simulated vs measured time, MAPE {_fmt_pct(agg['mape'])}, Pearson r {_fmt_r(agg['pearson_r'])}",
                     fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        ax.margins(y=0.12)
        ax.legend(fontsize=7)
    fig.suptitle(_wrap(title, int(width * 11)), fontsize=10)
    fig.tight_layout()
    _save_figure(fig, path)


# ---------------------------------------------------------------------------------------------------------------------
# Reading and checking the files


def read_table(path, what):
    """The CSV file path as a DataFrame of stripped strings, with `_line` the line of each row in the file
    (the header is line 1). what names the file in errors ("simulated", "measured")."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header, rows, lines = None, [], []
            while True:
                start = reader.line_num + 1
                try:
                    rec = next(reader)
                except StopIteration:
                    break
                if not rec or all(not c.strip() for c in rec):
                    continue
                rec = [c.strip() for c in rec]
                if header is None:
                    header = rec
                    continue
                if len(rec) != len(header):
                    raise CompareError(f"{path} line {start}: {len(rec)} fields, the header has {len(header)}")
                rows.append(rec)
                lines.append(start)
    except CompareError:
        raise
    except FileNotFoundError:
        raise CompareError(f"cannot read the {what} results {path}: no such file")
    except IsADirectoryError:
        raise CompareError(f"cannot read the {what} results {path}: it is a folder")
    except OSError as e:
        raise CompareError(f"cannot read the {what} results {path}: {e.strerror or e}")
    except UnicodeDecodeError:
        raise CompareError(f"cannot read the {what} results {path}: not a text (UTF-8) file")
    except csv.Error as e:
        raise CompareError(f"cannot read the {what} results {path} (line {reader.line_num}): {e}")
    if header is None:
        raise CompareError(f"{path}: empty (no header line): not a results file")
    dup = [c for c in dict.fromkeys(header) if header.count(c) > 1]
    if dup:
        raise CompareError(f"{path}: column {dup[0]} appears twice in the header")
    if "_line" in header:
        raise CompareError(f"{path}: has a column named _line, which compare.py reserves")
    df = pd.DataFrame(rows, columns=header, dtype=object)
    df["_line"] = lines
    df.attrs["path"] = path
    return df


def _require(df, path, columns, what):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CompareError(f"{path}: not a {what} results file: no column {', '.join(missing)} "
                           f"(columns: {', '.join(c for c in df.columns if c != '_line')})")


def _number(path, line, col, text):
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v):
        shown = "empty" if text == "" else f"'{text}' is not a number"
        raise CompareError(f"{path} line {line}, column {col}: {shown}")
    return v


def _positive(df, path, col):
    """Column col as floats > 0, or CompareError naming the file, line and column of the first that is not."""
    out = []
    for text, line in zip(df[col], df["_line"]):
        v = _number(path, line, col, text)
        if v <= 0:
            raise CompareError(f"{path} line {line}, column {col}: {text} is not > 0 (a {col} must be positive)")
        out.append(v)
    return pd.Series(out, index=df.index, dtype=float)


def _shape(df, path):
    for col in SHAPE:
        vals = []
        for text, line in zip(df[col], df["_line"]):
            v = _number(path, line, col, text)
            if v != int(v) or v <= 0:
                raise CompareError(f"{path} line {line}, column {col}: {text} is not a positive integer")
            vals.append(int(v))
        df[col] = pd.Series(vals, index=df.index, dtype="int64")


def _key_text(row):
    return " ".join(f"{c}={row[c]}" for c in KEY)


def _lines(rows):
    ls = [str(v) for v in rows["_line"]]
    return ", ".join(ls[:6]) + (", ..." if len(ls) > 6 else "")


def _matches(series, value):
    """Cells of series equal to value as strings, or as numbers when both parse as numbers."""
    try:
        num = float(value)
    except ValueError:
        num = None

    def eq(cell):
        if cell == value:
            return True
        if num is None:
            return False
        try:
            return float(cell) == num
        except ValueError:
            return False

    return series.map(eq).astype(bool)


def apply_where(df, where, path):
    """Keeps the rows of df matching every COL=VALUE of where (a list of strings)."""
    for w in where:
        col, eq, val = w.partition("=")
        col, val = col.strip(), val.strip()
        if not eq or not col:
            raise CompareError(f"--where {w}: expected COL=VALUE")
        if col not in df.columns or col == "_line":
            raise CompareError(f"--where {w}: {path} has no column {col} "
                               f"(columns: {', '.join(c for c in df.columns if c != '_line')})")
        kept = df[_matches(df[col], val)]
        if kept.empty:
            values = [v if v != "" else "(empty)" for v in dict.fromkeys(df[col])]
            shown = ", ".join(values[:10]) + (", ..." if len(values) > 10 else "")
            raise CompareError(f"--where {w}: no row of {path} has it ({col} has {shown})")
        df = kept
    return df


def _differing(rows, order):
    """Columns of rows (in the order of order) whose values are not all equal, the key and _line aside."""
    return [c for c in order if c not in KEY and c != "_line" and rows[c].nunique(dropna=False) > 1]


def _one_row_per_key(df, path, what, hint, notes):
    """df with one row per join key. Identical rows count once. Rows of one key that differ in the run
    column and in no other identifying column (those before layer, as in results.csv) are one line in
    several runs (a line without weights keeps its pattern in every run): the first is kept, and a note
    says so. Any other key on several rows is refused (CompareError), hint(rows, differing, header)
    saying how to choose."""
    header = [c for c in df.columns if c != "_line"]
    ident = set(header[:header.index("layer")]) | {"run"}
    df = df.drop_duplicates(subset=header)
    dup = df.duplicated(subset=KEY, keep=False)
    if not dup.any():
        return df
    drop, collapsed, refused = [], 0, []
    for _, rows in df[dup].groupby(KEY, sort=False):
        differ = _differing(rows, header)
        if "run" in differ and not (set(differ) & ident) - {"run"}:
            drop.extend(rows.index[1:])
            collapsed += 1
        else:
            refused.append((rows, differ))
    if refused:
        rows, differ = refused[0]
        more = f" (and {len(refused) - 1} more keys)" if len(refused) > 1 else ""
        raise CompareError(f"{path}: {len(rows)} {what} rows (lines {_lines(rows)}) have the same "
                           f"{_key_text(rows.iloc[0])}{more}: {hint(rows, differ, header)}")
    r = df.loc[drop[0]]
    notes.append(f"{path}: {_n(collapsed, 'line')} appear in several runs with the same pattern (e.g. {r['layer']} {r['pattern']}): "
                 "the first run's row is used")
    return df.drop(index=drop)


def _sim_hint(rows, differ, header):
    # The columns before layer identify a row in results.csv (run; a sweep's point, swept values, trace):
    # suggest those, else whatever differs.
    ident = header[:header.index("layer")]
    suggest = [c for c in differ if c in ident] or differ
    if not suggest:
        return "they are the same line: keep one"
    pick = [c for c in suggest if c != "point"] or suggest
    first = rows.iloc[0]
    example = " ".join(f"--where {c}={first[c]}" for c in pick)
    return f"they differ in {', '.join(suggest)}; keep one with --where, e.g. {example}"


def _measured_hint(rows, differ, header):
    if differ:
        return f"they differ in {', '.join(differ[:8])}; keep one row per line (and backend)"
    return "keep one row per line (and backend)"


def load_simulated(path, where=()):
    """SIM.csv as a DataFrame: the key (m, n, k as integers), time_s (floats > 0), count (floats > 0; 1
    when the file has none), _line and the file's other columns (strings), with only the rows --where
    keeps (where: a list of COL=VALUE); one row per key. Raises CompareError."""
    df = read_table(path, "simulated")
    _require(df, path, KEY + ["time_s"], "simulated")
    if df.empty:
        raise CompareError(f"{path}: has no rows")
    df = apply_where(df, list(where), path).copy()
    _shape(df, path)
    notes = []
    df = _one_row_per_key(df, path, "simulated", _sim_hint, notes).copy()
    df["time_s"] = _positive(df, path, "time_s")
    df["count"] = _positive(df, path, "count") if "count" in df.columns else 1.0
    df.attrs.update(path=path, notes=notes)
    return df


def load_measured(path):
    """MEASURED.csv (the schema of the module's docstring) as a DataFrame of its rows (strings, with
    _line), its structure checked: the key columns, one time column (attrs time_column; attrs total: it
    holds the line's total over count copies), count where needed. Rows whose status is not ok are left
    out (when there is a status column); a backend column that is empty everywhere is dropped. The times,
    counts and shapes are checked on the rows join() selects. Raises CompareError."""
    df = read_table(path, "measured")
    _require(df, path, KEY, "measured")
    cols = set(df.columns)
    notes = []
    replay = {"time_median_s", "launches_per_sample"} <= cols
    if "time_s" in cols and "total_time_s" in cols:
        raise CompareError(f"{path}: has both time_s (per launch) and total_time_s (all count copies): keep one")
    if "total_time_s" in cols or (replay and "time_s" in cols):
        tcol = "total_time_s" if "total_time_s" in cols else "time_s"
        if "count" not in cols:
            raise CompareError(f"{path}: total_time_s needs a count column (time per launch = total_time_s / count)")
        if replay:
            notes.append(f"{path} is stcsim-gpu replay's: its time_s is the total of the line's count launches")
    elif "time_s" in cols:
        tcol = "time_s"
    else:
        raise CompareError(f"{path}: no time column: give time_s (seconds per launch) or total_time_s "
                           f"(seconds for the line's count copies, with a count column)")
    if "status" in cols:
        bad = df[df["status"] != "ok"]
        if len(bad):
            counts = bad["status"].replace("", "(empty)").value_counts()
            what = ", ".join(f"{k} {v}" for k, v in counts.items())
            if len(bad) == len(df):
                raise CompareError(f"{path}: no row has status ok ({what}): nothing measured to compare")
            notes.append(f"{path}: left out {_n(len(bad), 'row')} whose status is not ok ({what})")
            df = df[df["status"] == "ok"]
    if df.empty:
        raise CompareError(f"{path}: has no rows")
    if "backend" in cols and (df["backend"] == "").all():
        df = df.drop(columns=["backend"])
    df = df.copy()
    df.attrs.update(path=path, time_column=tcol, total=tcol == "total_time_s" or replay, notes=notes)
    return df


def _backend_list(df):
    parts = []
    for b, g in df.groupby("backend", sort=True):
        pats = list(dict.fromkeys(g["pattern"]))
        parts.append(f"{b or '(empty)'} ({', '.join(pats)})")
    return "; ".join(parts)


def select_backends(measured, backend=None, dense_backend=None):
    """The rows of measured from the chosen backends: (rows, sparse backend, dense backend, notes). The
    backends are None where the file has no backend column. Raises CompareError when several backends are
    present and the choice is not given, or a backend given is not in the file."""
    path = measured.attrs.get("path", "the measured file")
    notes = []
    if "backend" not in measured.columns:
        if backend is not None or dense_backend is not None:
            given = backend if backend is not None else dense_backend
            raise CompareError(f"{path} has no backend column: --backend/--dense-backend {given} does not apply (leave them out)")
        return measured, None, None, notes
    present = sorted(set(measured["backend"]))
    for opt, b in (("--backend", backend), ("--dense-backend", dense_backend)):
        if b is not None and b not in present:
            raise CompareError(f"{opt} {b}: no such backend in {path} (backends: {_backend_list(measured)})")
    is_dense = measured["pattern"] == "dense"
    sparse_b = sorted(set(measured.loc[~is_dense, "backend"]))
    dense_b = sorted(set(measured.loc[is_dense, "backend"]))
    if len(present) == 1:
        backend = dense_backend = present[0]
    elif backend is None and dense_backend is None:
        raise CompareError(f"{path} has several backends: {_backend_list(measured)}; choose with --backend B "
                           f"(the sparse rows) and, if B has no dense rows, --dense-backend D (the dense rows)")
    if backend is None:
        if len(sparse_b) > 1:
            raise CompareError(f"{path} has sparse rows of several backends ({', '.join(sparse_b)}): choose one with --backend")
        backend = sparse_b[0] if sparse_b else dense_backend
    if dense_backend is None:
        if backend in dense_b or not dense_b:
            dense_backend = backend
        elif len(dense_b) == 1:
            dense_backend = dense_b[0]
            notes.append(f"dense rows from backend {dense_backend}, the only one with dense rows ({backend} has none)")
        else:
            raise CompareError(f"backend {backend} has no dense rows in {path}: choose them with --dense-backend "
                               f"({', '.join(dense_b)})")
    rows = measured[(~is_dense & (measured["backend"] == backend)) | (is_dense & (measured["backend"] == dense_backend))]
    if dense_b and not (is_dense & (measured["backend"] == dense_backend)).any():
        notes.append(f"backend {dense_backend} has no dense rows: no speedups")
    return rows, backend, dense_backend, notes


def join(sim, measured, backend=None, dense_backend=None):
    """Joins load_simulated's and load_measured's frames on the key, the measured rows from the chosen
    backends. One row per joined line: the key, count (simulated), backend, time_s_sim and time_s_measured
    (the line's time, all count copies), launch_s_sim and launch_s_measured (per launch), time_error,
    speedup_sim, speedup_measured and speedup_error (nan on dense rows and where the layer has no dense
    row), line_sim and line_measured (lines in the files). j.attrs["notes"]: what the reader should know.
    Raises CompareError when nothing joins."""
    mpath = measured.attrs.get("path", "the measured file")
    spath = sim.attrs.get("path", "the simulated file")
    notes = list(sim.attrs.get("notes", [])) + list(measured.attrs.get("notes", []))
    rows, backend, dense_backend, more = select_backends(measured, backend, dense_backend)
    notes += more
    if rows.empty:
        raise CompareError(f"{mpath}: no row of backend {backend} (sparse) or {dense_backend} (dense)")
    m = rows.copy()
    _shape(m, mpath)
    m = _one_row_per_key(m, mpath, "measured", _measured_hint, notes).copy()
    tcol = measured.attrs.get("time_column", "time_s")
    t = _positive(m, mpath, tcol)
    if measured.attrs.get("total", False):
        m["count"] = _positive(m, mpath, "count")
        m["launch_s"] = t / m["count"]
    else:
        m["launch_s"] = t
        m["count"] = _positive(m, mpath, "count") if "count" in m.columns else float("nan")
    if "backend" not in m.columns:
        m["backend"] = ""
    s = sim[KEY + ["time_s", "count", "_line"]]
    mm = m[KEY + ["launch_s", "count", "backend", "_line"]].rename(columns={"count": "count_measured", "_line": "line_measured"})
    j = s.rename(columns={"time_s": "time_s_sim", "_line": "line_sim"}).merge(mm, on=KEY, how="inner", sort=False)
    if j.empty:
        def example(df):
            r = df.iloc[0]
            return f"{r['layer']} {r['m']}x{r['n']}x{r['k']} {r['dtype']} {r['pattern']}"

        raise CompareError(f"no row of {spath} and {mpath} matches on layer, m, n, k, dtype and pattern "
                           f"(e.g. simulated {example(sim)}, measured {example(m)})")
    j["launch_s_sim"] = j["time_s_sim"] / j["count"]
    j["launch_s_measured"] = j["launch_s"]
    j["time_s_measured"] = j["launch_s"] * j["count"]
    j["time_error"] = (j["time_s_sim"] - j["time_s_measured"]) / j["time_s_measured"]
    differ = j[j["count_measured"].notna() & (j["count_measured"] != j["count"])]
    if len(differ):
        notes.append(f"{_n(len(differ), 'joined row')} with another count in {mpath} than in {spath} (e.g. {differ.iloc[0]['layer']}): "
                     "compared per launch")
    dense = j[j["pattern"] == "dense"].set_index(["layer", "m", "n", "k", "dtype"])
    sp_sim, sp_meas = [], []
    for _, r in j.iterrows():
        idx = (r["layer"], r["m"], r["n"], r["k"], r["dtype"])
        if r["pattern"] == "dense" or idx not in dense.index:
            sp_sim.append(np.nan)
            sp_meas.append(np.nan)
            continue
        d = dense.loc[idx]
        sp_sim.append(d["launch_s_sim"] / r["launch_s_sim"])
        sp_meas.append(d["launch_s_measured"] / r["launch_s_measured"])
    j["speedup_sim"] = sp_sim
    j["speedup_measured"] = sp_meas
    j["speedup_error"] = (j["speedup_sim"] - j["speedup_measured"]) / j["speedup_measured"]
    unmatched_sim = len(sim) - len(j)
    unmatched_meas = len(m) - len(j)
    if unmatched_sim:
        notes.append(f"{_n(unmatched_sim, 'simulated row')} without a measured row")
    if unmatched_meas:
        notes.append(f"{_n(unmatched_meas, 'measured row')} without a simulated row")
    cols = KEY + ["count", "backend", "time_s_sim", "time_s_measured", "time_error", "speedup_sim", "speedup_measured",
                  "speedup_error", "launch_s_sim", "launch_s_measured", "line_sim", "line_measured"]
    j = j[cols].copy()
    j.attrs.update(notes=notes, backend=backend, dense_backend=dense_backend)
    return j


def summary(j):
    """The aggregates of a joined frame: {"time": aggregate of the line times, "speedup": aggregate of the
    speedups (sparse rows with a dense row)}, plus the old flat keys rows, mape_time, speedup_rows,
    mape_speedup, pearson_speedup."""
    sp = j.dropna(subset=["speedup_sim", "speedup_measured"])
    t = aggregate(j["time_s_sim"], j["time_s_measured"])
    s = aggregate(sp["speedup_sim"], sp["speedup_measured"])
    return {"time": t, "speedup": s, "rows": t["n"], "mape_time": t["mape"], "speedup_rows": s["n"],
            "mape_speedup": s["mape"], "pearson_speedup": s["pearson_r"]}


def _label(r):
    return f"{r['layer']}/{r['pattern']}"


def write_outputs(j, prefix, sim_name="simulated", meas_name="measured"):
    """Writes PREFIX_rows.csv and the plots; returns the paths written."""
    written = []
    path = prefix + "_rows.csv"
    write_csv_atomic(j, path)
    written.append(path)
    labels = [_label(r) for _, r in j.iterrows()]
    scale, unit = time_unit(list(j["time_s_sim"]) + list(j["time_s_measured"]))
    path = prefix + "_time_scatter.png"
    scatter_plot(path, j["time_s_sim"] * scale, j["time_s_measured"] * scale, labels,
                 f"Time per line: simulated ({sim_name}) vs measured ({meas_name})",
                 f"measured time per line ({unit})", f"simulated time per line ({unit})", log=True, groups=list(j["pattern"]))
    written.append(path)
    sp = j.dropna(subset=["speedup_sim", "speedup_measured"])
    if len(sp):
        path = prefix + "_scatter.png"
        scatter_plot(path, sp["speedup_sim"], sp["speedup_measured"], [_label(r) for _, r in sp.iterrows()],
                     f"Speedup over dense: simulated ({sim_name}) vs measured ({meas_name})",
                     "measured speedup over dense (x)", "simulated speedup over dense (x)", groups=list(sp["pattern"]))
        written.append(path)
    path = prefix + "_layers.png"
    layers_plot(path, j, f"Time per layer: simulated ({sim_name}) vs measured ({meas_name})")
    written.append(path)
    return written


# ---------------------------------------------------------------------------------------------------------------------
# Command line


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, description="Compare simulated with measured results (schema: see the module docstring).")
    p.add_argument("sim", help="stcsim run's or stcsim sweep's results.csv")
    p.add_argument("measured", help="measured times: stcsim-gpu replay's results.csv or the documented schema")
    p.add_argument("--backend", help="backend of the sparse rows (needed when MEASURED has several)")
    p.add_argument("--dense-backend", help="backend of the dense rows (default: --backend where it has dense rows)")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                   help="keep only the simulated rows whose COL equals VALUE (repeatable)")
    p.add_argument("--out", default="compare", metavar="PREFIX", help="prefix of the files written (default compare)")
    return p.parse_args(argv)


def run(a):
    check_prefix(a.out)
    sim = load_simulated(a.sim, a.where)
    meas = load_measured(a.measured)
    j = join(sim, meas, a.backend, a.dense_backend)
    agg = summary(j)
    for n in j.attrs.get("notes", []):
        print("note:", n)
    if j.attrs.get("backend") is not None:
        print(f"measured backends: {j.attrs['backend']} (sparse rows), {j.attrs['dense_backend']} (dense rows)")
    pd.set_option("display.width", 250)
    cols = KEY + ["time_s_sim", "time_s_measured", "time_error", "speedup_sim", "speedup_measured", "speedup_error"]
    print(j[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    t, s = agg["time"], agg["speedup"]
    print(f"\nrows {t['n']}: MAPE of time {t['mape'] * 100:.2f}%, max {_fmt_pct(t['max_abs_error'])}, "
          f"median {_fmt_pct(t['median_abs_error'])}, Pearson r of times {t['pearson_r']:.4f}")
    print(f"sparse rows {s['n']}: MAPE of speedup {s['mape'] * 100:.2f}%, Pearson r of speedups {s['pearson_r']:.4f}")
    backend = j.attrs.get("backend")
    meas_name = os.path.basename(a.measured) + (f", {backend}" if backend is not None else "")
    written = write_outputs(j, a.out, os.path.basename(a.sim), meas_name)
    if len(j.dropna(subset=["speedup_sim"])) == 0:
        print("note: no sparse row has its layer's dense row: no speedup scatter")
    print("wrote " + ", ".join(written))
    return 0


def _one_line(text):
    return " ".join(str(text).split())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        a = parse_args(argv)
    except SystemExit as e:  # argparse has printed its usage and error
        return e.code if isinstance(e.code, int) else 2
    try:
        with np.errstate(all="ignore"):
            return run(a)
    except CompareError as e:
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # stdout closed early (| head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # anything unforeseen: still one line, no traceback
        print(f"{PROG}: error: internal error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
