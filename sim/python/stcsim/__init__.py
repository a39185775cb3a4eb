"""stcsim from Python: simulate GEMMs, traces or recorded models, prune arrays with stcsim's
patterns, and load what the command line wrote.

    import stcsim
    res = stcsim.run(gemms=["4096x4096x4096"], patterns=["dense", "2:4"])
    res.rows[1]["cycles"], res.dataframe(), res.stats["runs"]
    pr = stcsim.prune(weights, "2:4")          # weights: a 2-d NumPy array [out, in]
    pr.mask, pr.stats["density"], pr.arrays["values.npy"]
    stcsim.load_results("out/results.csv"), stcsim.load_stats("out/stats.yaml"), stcsim.load_sweep("sweeps/x")

Every simulation runs in a child process of its own (the SystemC kernel elaborates one model per
process), so run() may be called any number of times; its rows and stats are exactly what
`stcsim run --out` writes. Errors raise stcsim.Error with the command line's one-line message.
"""

import csv
import io
import json
import os
import struct
import tempfile

from . import _stcsim

Error = _stcsim.Error
__version__ = _stcsim.version

_SOURCE = _stcsim.source_dir  # the source tree it was built from: configs/ and traces/


def _number(text):
    """A results.csv field as int, float or the text it is."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _rows(text):
    return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


class Result:
    """One simulation: rows (one dict per run and trace line, results.csv's columns), stats (the
    stats.yaml tree), config (the resolved machine as YAML text)."""

    def __init__(self, results_csv, stats_yaml, config_yaml):
        self.results_csv, self.stats_yaml, self.config = results_csv, stats_yaml, config_yaml
        self.rows = _rows(results_csv)
        self._stats = None

    @property
    def stats(self):
        if self._stats is None:
            import yaml
            self._stats = yaml.safe_load(self.stats_yaml)
        return self._stats

    def dataframe(self):
        """The rows as a pandas DataFrame."""
        import pandas as pd
        return pd.read_csv(io.StringIO(self.results_csv))

    def totals(self):
        """Per run: time_s and energy_j summed over its lines, in run order."""
        out = {}
        for r in self.rows:
            t = out.setdefault(r["run"], {"time_s": 0.0, "energy_j": 0.0, "cycles": 0})
            t["time_s"] += r["time_s"]
            t["energy_j"] += r["energy_j"]
            t["cycles"] += r["cycles"]
        return out


def _gemm_text(g):
    if isinstance(g, str):
        return g
    if isinstance(g, (tuple, list)) and len(g) == 3:
        return "x".join(str(int(v)) for v in g)
    raise Error(f"gemms: {g!r} is neither 'MxNxK' nor (m, n, k)")


def _trace_text(gemms, dtype):
    lines = ["stcsim-trace v1"]
    for i, g in enumerate(gemms):
        if isinstance(g, dict):
            lines.append(f"{g.get('layer', f'gemm{i}')} {g['m']} {g['n']} {g['k']} {g.get('dtype', dtype)} "
                         f"{g.get('sparse', 'B')} {g.get('pattern', 'dense')} {g.get('count', 1)}")
        else:
            parts = _gemm_text(g).split("x")
            if len(parts) != 3:
                raise Error(f"gemms[{i}]: expected 'MxNxK', got {g!r}")
            lines.append(f"gemm{i} {parts[0]} {parts[1]} {parts[2]} {dtype} B dense 1")
    return "\n".join(lines) + "\n"


def _in_child(work):
    """work() in a forked child; its JSON-able result, or its stcsim.Error, comes back over a pipe."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        try:
            payload = {"ok": True, "value": work()}
        except Error as e:
            payload = {"ok": False, "message": str(e)}
        except BaseException as e:  # anything else is a bug; say what it was
            payload = {"ok": False, "message": f"{type(e).__name__}: {e}"}
        data = json.dumps(payload).encode()
        with os.fdopen(write_fd, "wb") as f:
            f.write(struct.pack("<Q", len(data)) + data)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if len(data) < 8 or len(data) != 8 + struct.unpack("<Q", data[:8])[0]:
        if os.WIFSIGNALED(status):
            raise Error(f"the simulation process died with signal {os.WTERMSIG(status)}")
        raise Error(f"the simulation process ended without a result (status {status})")
    payload = json.loads(data[8:])
    if not payload["ok"]:
        raise Error(payload["message"])
    return payload["value"]


def run(config=None, trace=None, gemms=None, patterns=(), sets=(), model="fast", seed=1, dtype="fp16"):
    """Simulates a trace file (trace=PATH), or GEMMs (gemms=["MxNxK", (m, n, k), {m, n, k, layer,
    sparse, pattern, count, dtype}, ...]; weights on B), on a machine config (default
    configs/h100.yaml of the source tree) with --set style overrides (sets=["arch.sms=66"]), once per
    pattern (patterns=["dense", "2:4"]: each weight GEMM with that pattern; none: the lines as given).
    Returns a Result. A recorded model: trace=record_trace.record(...).text() written to a file, or
    its rows as dicts in gemms."""
    if (trace is None) == (gemms is None):
        raise Error("give exactly one of trace and gemms")
    config = config or os.path.join(_SOURCE, "configs", "h100.yaml")
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    sets = [sets] if isinstance(sets, str) else list(sets)
    with tempfile.TemporaryDirectory(prefix="stcsim-") as tmp:
        gemm = ""
        if gemms is not None:
            gemms = list(gemms)
            if not gemms:
                raise Error("gemms: the list is empty")
            if len(gemms) == 1 and not isinstance(gemms[0], dict):
                gemm = _gemm_text(gemms[0])
            else:
                trace = os.path.join(tmp, "gemms.trace")
                with open(trace, "w") as f:
                    f.write(_trace_text(gemms, dtype))
        trace_arg = "" if gemm else str(trace)

        def work():
            return _stcsim.run_once(str(config), sets, trace_arg, gemm, dtype, patterns, model, int(seed))

        out = _in_child(work)
    return Result(out["results_csv"], out["stats_yaml"], out["config_yaml"])


class Pruned:
    """prune()'s result: mask (uint8, 1 = kept), stats (what `stcsim prune --json` prints), arrays
    (the compressed form: file name -> NumPy array, as `stcsim prune --out` writes them)."""

    def __init__(self, mask, stats, arrays):
        self.mask, self.stats, self.arrays = mask, stats, arrays


def prune(weights, pattern, dtype="fp16"):
    """Prunes a 2-d array [rows, cols] (cols along K: a linear layer's [out, in]) by magnitude with
    `pattern` (any spec stcsim takes: "2:4", "64:2:8", "tw(g=128,sparsity=0.75)", ...)."""
    import numpy as np
    w = np.ascontiguousarray(np.asarray(weights, dtype=np.float32))
    with tempfile.TemporaryDirectory(prefix="stcsim-") as tmp:
        out = _stcsim.prune(w, str(pattern), str(dtype), tmp)
        arrays = {name: np.load(os.path.join(tmp, name)) for name in out["files"] if name.endswith(".npy")}
    return Pruned(np.asarray(out["mask"]), dict(out["stats"]), arrays)


def load_results(path):
    """A results.csv (stcsim run --out, stcsim sweep, stcsim-gpu replay) as a pandas DataFrame."""
    import pandas as pd
    if os.path.isdir(path):
        path = os.path.join(path, "results.csv")
    try:
        return pd.read_csv(path, comment=None)
    except (OSError, ValueError) as e:
        raise Error(f"{path}: cannot read results ({e})") from None


def load_stats(path):
    """A stats.yaml (stcsim run --out) as nested dicts."""
    import yaml
    if os.path.isdir(path):
        path = os.path.join(path, "stats.yaml")
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise Error(f"{path}: cannot read stats ({e})") from None


def load_sweep(folder):
    """A sweep's --out folder: (manifest as dicts, results as a DataFrame)."""
    import yaml
    manifest = os.path.join(folder, "manifest.yaml")
    if not os.path.isfile(manifest):
        raise Error(f"{folder}: no manifest.yaml: not the --out folder of a stcsim sweep")
    with open(manifest) as f:
        m = yaml.safe_load(f)
    return m, load_results(os.path.join(folder, "results.csv"))
