#!/usr/bin/python3
"""Tests of scripts/fit_power.py:

- it recovers a value from points the simulator itself produced with it: TFLOP/s of a power-capped
  GEMM on the A100 PCIe config (250 W) with sm_active_pj_per_cycle 2000, and a power point on the V100
  config with core_overhead 4;
- points that the factor does not move (a GEMM far below the cap, timed) are refused with exit 1;
- bad input is one line `fit_power.py: error: ...`, exit 2, no traceback.

    fit_power_test.py STCSIM SOURCE_DIR
"""

import csv
import os
import re
import subprocess
import sys
import tempfile

stcsim = os.path.abspath(sys.argv[1])
source = os.path.abspath(sys.argv[2])
script = os.path.join(source, "scripts", "fit_power.py")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, failures, finish  # noqa: E402,F401


def fit(config, *points, extra=()):
    cmd = [sys.executable, script, "--stcsim", stcsim, "--config", os.path.join(source, config), *extra]
    for p in points:
        cmd += ["--point", p]
    return subprocess.run(cmd, capture_output=True, text=True)


def simulated(config, gemm, key, value, *sets):
    """TFLOP/s, power and clock of a dense fp16 GEMM simulated with KEY = value (and further --set)."""
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([stcsim, "run", "--config", os.path.join(source, config), "--gemm", gemm, "--out", tmp,
                            "--set", f"{key}={value}", *[x for v in sets for x in ("--set", v)]], capture_output=True, text=True)
        check(r.returncode == 0, f"stcsim run {gemm}: {r.stderr.strip()}")
        with open(os.path.join(tmp, "results.csv"), newline="") as f:
            row = next(csv.DictReader(f))
    return float(row["tflops"]), float(row["power_w"]), float(row["clock_mhz"])


def fitted(p):
    m = re.search(r"^energy\.[a-z_0-9]+ ([0-9.]+) on", p.stdout, re.M)
    return float(m.group(1)) if m else None


# A capped GEMM: its TFLOP/s pins the factor.
tflops, _, clock = simulated("configs/a100_pcie.yaml", "2048x2048x2048", "energy.sm_active_pj_per_cycle", 2000)
check(clock < 1400, f"the test GEMM is power-capped at 2000 pJ (clock {clock} MHz)")
p = fit("configs/a100_pcie.yaml", f"2048x2048x2048:fp16:tflops={tflops!r}",
        extra=("--key", "energy.sm_active_pj_per_cycle"))
check(p.returncode == 0, f"fit on a capped GEMM runs ({p.stderr.strip()})")
got = fitted(p)
check(got is not None and abs(got / 2000 - 1) < 0.01, f"recovers 2000 from its own TFLOP/s (got {got})")
check("command: scripts/fit_power.py --key energy.sm_active_pj_per_cycle --config" in p.stdout,
      "prints the command for the config's comment")

# Power points pin it below the cap too.
_, watts, _ = simulated("configs/v100_pcie.yaml", "2560x512x2560", "energy.core_overhead", 4,
                        "energy.sm_active_pj_per_cycle=0")
p = fit("configs/v100_pcie.yaml", f"2560x512x2560:fp16:power_w={watts!r}")
got = fitted(p)
check(p.returncode == 0 and got is not None and abs(got / 4 - 1) < 0.01, f"recovers 4 from its own power (got {got})")

# A timed GEMM far below the cap does not constrain it.
p = fit("configs/h100.yaml", "256x256x256:fp16:time_us=10")
check(p.returncode == 1 and "do not constrain it" in p.stderr, f"unconstrained points refused ({p.returncode}: {p.stderr.strip()})")

for args, want in [
    (("configs/h100.yaml", "8192x8192:fp16:tflops=1"), "want MxNxK:DTYPE:METRIC=VALUE"),
    (("configs/h100.yaml", "64x64x64:fp16:watts=1"), "metric must be one of"),
    (("configs/h100.yaml", "64x64x64:fp16:tflops=0"), "must be > 0"),
    (("configs/nowhere.yaml", "64x64x64:fp16:tflops=1"), "no such config file"),
]:
    p = fit(*args)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("fit_power.py: error: ") and want in lines[0],
          f"{args}: one line naming '{want}' (got {p.returncode}: {p.stderr.strip()!r})")
p = fit("configs/h100.yaml", "64x64x64:fp16:tflops=1", extra=("--low", "5", "--high", "2"))
check(p.returncode == 2 and "--low and --high" in p.stderr, "a bad range is refused")
p = fit("configs/h100.yaml", "64x64x64:fp16:tflops=1", extra=("--key", "energy.l2_pj_per_byte"))
check(p.returncode == 2 and "--key energy.l2_pj_per_byte: one of" in p.stderr, "an unknown key is refused")
p = fit("configs/h100.yaml", "64x64x64:bogus:tflops=1")
check(p.returncode == 2 and "stcsim run failed" in p.stderr and "Traceback" not in p.stderr, "a failed simulation is one line")

finish("fit_power_test")
