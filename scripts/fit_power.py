#!/usr/bin/python3
"""Fit one energy key of a machine to measured points: energy.core_overhead (the default) or
energy.sm_active_pj_per_cycle, the fitted parts of the power model (docs/model.md, "Energy") that set how much
power a GEMM draws, and so, under arch.power_cap_w, the clock it sustains.

    scripts/fit_power.py --config configs/a100.yaml --point 8192x8192x8192:fp16:tflops=258
    scripts/fit_power.py --config configs/v100_pcie.yaml --point 2560x512x2560:fp16:power_w=178 ...
    scripts/fit_power.py --key energy.sm_active_pj_per_cycle --set energy.core_overhead=1 --config ... --point ...

Each --point is MxNxK:DTYPE:METRIC=VALUE, a dense GEMM with its measured TFLOP/s (tflops), time per
GEMM in microseconds (time_us) or average board power in watts (power_w). The fit minimises the sum of
squared relative errors over the key's value in [--low, --high] (a scan of 25 values, then golden-section search on its
logarithm, to within 0.5 %), running build/stcsim for each trial with --set KEY=VALUE (and
kernel.dense_fallback=false). A time or TFLOP/s point constrains the value only where the power cap
binds: if no trial moves it, the fit says so and fails. Prints the fitted value, each point's
simulated value and error, and the command, for the config file's comment. Exit status: 0, 1 when the
points do not constrain the key, 2 on bad input (one line on stderr).
"""

import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import script_main  # noqa: E402

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


KEYS = {"energy.sm_active_pj_per_cycle": (10.0, 20000.0), "energy.core_overhead": (1.0, 100.0)}


def simulate(stcsim, config, points, key, value, extra_sets):
    """Simulated value of each point with KEY = value, each GEMM alone on a cold machine (as
    validate.py runs them)."""
    out = []
    for p in points:
        with tempfile.TemporaryDirectory() as tmp:
            # A trace line with no weight operand, as validate.py writes it (--gemm would put weights on B).
            trace = os.path.join(tmp, "fit.trace")
            with open(trace, "w") as f:
                f.write("stcsim-trace v1\n# layer m n k dtype sparse pattern count\n")
                f.write(f"p {p['m']} {p['n']} {p['k']} {p['dtype']} - dense 1\n")
            cmd = [stcsim, "run", "--config", config, "--trace", trace,
                   "--out", tmp, "--set", f"{key}={value:.6g}", "--set", "kernel.dense_fallback=false"]
            for s in extra_sets:
                cmd += ["--set", s]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
                raise InputError(f"stcsim run failed: {last}")
            with open(os.path.join(tmp, "results.csv"), newline="") as f:
                row = next(csv.DictReader(f))
        t = float(row["time_s"])
        if p["metric"] == "tflops":
            out.append(2.0 * p["m"] * p["n"] * p["k"] / t / 1e12)
        elif p["metric"] == "time_us":
            out.append(t * 1e6)
        else:
            out.append(float(row["power_w"]))
        p["clock_mhz"] = f"{float(row['clock_mhz']):.0f}" if row.get("clock_mhz") else ""
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--point", action="append", default=[], required=True)
    ap.add_argument("--set", action="append", default=[], help="further config overrides, as stcsim run --set")
    ap.add_argument("--stcsim", default=os.path.join(ROOT, "build", "stcsim"))
    ap.add_argument("--key", default="energy.core_overhead", help=f"one of {', '.join(KEYS)}")
    ap.add_argument("--low", type=float, help="lowest value tried (default: the key's, see KEYS)")
    ap.add_argument("--high", type=float, help="highest value tried")
    a = ap.parse_args()
    if not os.access(a.stcsim, os.X_OK):
        raise InputError(f"{a.stcsim}: no stcsim binary there (build it, or give --stcsim)")
    if not os.path.isfile(a.config):
        raise InputError(f"{a.config}: no such config file")
    if a.key not in KEYS:
        raise InputError(f"--key {a.key}: one of {', '.join(KEYS)}")
    low, high = KEYS[a.key]
    a.low = low if a.low is None else a.low
    a.high = high if a.high is None else a.high
    if not (0 < a.low < a.high and a.low >= low and a.high <= high):
        raise InputError(f"--low and --high: {low:g} <= low < high <= {high:g} for {a.key}")
    points = [parse_point(t) for t in a.point]

    def cost(c):
        sim = simulate(a.stcsim, a.config, points, a.key, c, a.set)
        return sum(((s - p["value"]) / p["value"]) ** 2 for s, p in zip(sim, points)), sim

    # A coarse scan first (the error is flat wherever the cap does not bind, which would mislead a
    # bracketing search), then golden-section search between the best scan point's neighbours.
    grid = [math.log(a.low) + (math.log(a.high) - math.log(a.low)) * i / 24 for i in range(25)]
    scan = [cost(math.exp(x)) for x in grid]
    ends = (scan[0][1], scan[-1][1])
    if all(abs(u - v) <= 1e-9 * abs(v) for u, v in zip(*ends)):
        print(f"fit_power: no point moves between {a.key} {a.low:g} and {a.high:g} "
              "(no time or TFLOP/s point reaches the power cap): the points do not constrain it", file=sys.stderr)
        return 1
    i = min(range(len(scan)), key=lambda j: (scan[j][0], j))
    lo, hi = grid[max(0, i - 1)], grid[min(len(grid) - 1, i + 1)]
    g = (math.sqrt(5) - 1) / 2
    x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
    f1, f2 = cost(math.exp(x1))[0], cost(math.exp(x2))[0]
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
    print(f"{a.key} {best:.4g} on {a.config} (sum of squared relative errors {err:.3g})")
    for p, s in zip(points, sim):
        print(f"  {p['text']:40} simulated {s:10.4g}  error {100 * (s / p['value'] - 1):+6.1f}%  clock {p['clock_mhz']} MHz")
    print("command: " + " ".join(["scripts/fit_power.py", "--key", a.key, "--config", a.config] +
                                 [f"--point {p['text']}" for p in points] + [f"--set {s}" for s in a.set]))
    return 0


if __name__ == "__main__":
    script_main.run(main, "fit_power.py", (InputError,))
