#!/usr/bin/python3
"""Fit energy.core_overhead of one machine to measured points: the one factor on the core energies
(docs/model.md, "Energy") that sets how much power a GEMM draws, and so, under arch.power_cap_w, the
clock it sustains.

    scripts/fit_core_overhead.py --config configs/a100.yaml --point 8192x8192x8192:fp16:tflops=258
    scripts/fit_core_overhead.py --config configs/v100_pcie.yaml --point 2560x512x2560:fp16:power_w=178 ...

Each --point is MxNxK:DTYPE:METRIC=VALUE, a dense GEMM with its measured TFLOP/s (tflops), time per
GEMM in microseconds (time_us) or average board power in watts (power_w). The fit minimises the sum of
squared relative errors over core_overhead in [--low, --high] (golden-section search on its logarithm,
to within 0.5 %), running build/stcsim for each trial with --set energy.core_overhead=C (and
kernel.dense_fallback=false). A time or TFLOP/s point constrains the factor only where the power cap
binds: if no trial moves it, the fit says so and fails. Prints the fitted factor, each point's
simulated value and error, and the command, for the config file's comment. Exit status: 0, 1 when the
points do not constrain the factor, 2 on bad input (one line on stderr).
"""

import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METRICS = ("tflops", "time_us", "power_w")


class InputError(Exception):
    pass


def parse_point(text):
    m = re.fullmatch(r"(\d+)x(\d+)x(\d+):([a-z0-9]+):([a-z_]+)=([0-9.eE+-]+)", text)
    if not m:
        raise InputError(f"--point {text}: want MxNxK:DTYPE:METRIC=VALUE (e.g. 8192x8192x8192:fp16:tflops=258)")
    mm, n, k = (int(m.group(i)) for i in (1, 2, 3))
    metric = m.group(5)
    if metric not in METRICS:
        raise InputError(f"--point {text}: metric must be one of {', '.join(METRICS)}")
    try:
        value = float(m.group(6))
    except ValueError:
        raise InputError(f"--point {text}: the value is not a number")
    if not math.isfinite(value) or value <= 0 or min(mm, n, k) < 1:
        raise InputError(f"--point {text}: the value and the sizes must be > 0")
    return {"m": mm, "n": n, "k": k, "dtype": m.group(4), "metric": metric, "value": value, "text": text}


def simulate(stcsim, config, points, overhead, extra_sets):
    """Simulated value of each point with energy.core_overhead = overhead."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "fit.trace")
        with open(trace, "w") as f:
            f.write("stcsim-trace v1\n# layer m n k dtype sparse pattern count\n")
            for i, p in enumerate(points):
                f.write(f"p{i} {p['m']} {p['n']} {p['k']} {p['dtype']} - dense 1\n")
        cmd = [stcsim, "run", "--config", config, "--trace", trace, "--out", tmp,
               "--set", f"energy.core_overhead={overhead:.6g}", "--set", "kernel.dense_fallback=false"]
        for s in extra_sets:
            cmd += ["--set", s]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise InputError(f"stcsim run failed: {last}")
        with open(os.path.join(tmp, "results.csv"), newline="") as f:
            rows = {row["layer"]: row for row in csv.DictReader(f)}
    out = []
    for i, p in enumerate(points):
        row = rows[f"p{i}"]
        t = float(row["time_s"])
        if p["metric"] == "tflops":
            out.append(2.0 * p["m"] * p["n"] * p["k"] / t / 1e12)
        elif p["metric"] == "time_us":
            out.append(t * 1e6)
        else:
            out.append(float(row["power_w"]))
        p["clock_mhz"] = row.get("clock_mhz", "")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--point", action="append", default=[], required=True)
    ap.add_argument("--set", action="append", default=[], help="further config overrides, as stcsim run --set")
    ap.add_argument("--stcsim", default=os.path.join(ROOT, "build", "stcsim"))
    ap.add_argument("--low", type=float, default=1.0)
    ap.add_argument("--high", type=float, default=30.0)
    a = ap.parse_args()
    if not os.access(a.stcsim, os.X_OK):
        raise InputError(f"{a.stcsim}: no stcsim binary there (build it, or give --stcsim)")
    if not os.path.isfile(a.config):
        raise InputError(f"{a.config}: no such config file")
    if not (1.0 <= a.low < a.high <= 100.0):
        raise InputError("--low and --high: 1 <= low < high <= 100 (energy.core_overhead's range)")
    points = [parse_point(t) for t in a.point]

    def cost(c):
        sim = simulate(a.stcsim, a.config, points, c, a.set)
        return sum(((s - p["value"]) / p["value"]) ** 2 for s, p in zip(sim, points)), sim

    lo, hi = math.log(a.low), math.log(a.high)
    g = (math.sqrt(5) - 1) / 2
    x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
    f1, f2 = cost(math.exp(x1))[0], cost(math.exp(x2))[0]
    ends = (cost(a.low)[1], cost(a.high)[1])
    if all(abs(u - v) <= 1e-9 * abs(v) for u, v in zip(*ends)):
        print(f"fit_core_overhead: no point moves between core_overhead {a.low} and {a.high} "
              "(no time or TFLOP/s point reaches the power cap): the points do not constrain it", file=sys.stderr)
        return 1
    while hi - lo > math.log(1.005):
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - g * (hi - lo)
            f1 = cost(math.exp(x1))[0]
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + g * (hi - lo)
            f2 = cost(math.exp(x2))[0]
    best = math.exp((lo + hi) / 2)
    err, sim = cost(best)
    print(f"core_overhead {best:.3g} on {a.config} (sum of squared relative errors {err:.3g})")
    for p, s in zip(points, sim):
        print(f"  {p['text']:40} simulated {s:10.4g}  error {100 * (s / p['value'] - 1):+6.1f}%  clock {p['clock_mhz']} MHz")
    print("command: " + " ".join(["scripts/fit_core_overhead.py", "--config", a.config] +
                                 [f"--point {p['text']}" for p in points] + [f"--set {s}" for s in a.set]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InputError as e:
        print(f"fit_core_overhead.py: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("fit_core_overhead.py: interrupted", file=sys.stderr)
        sys.exit(130)
