#!/usr/bin/python3
"""Tests of scripts/replay_summary.py on a hand-written results.csv (synthetic times chosen to give
round ratios; not measurements): own dense as a fraction of cuBLAS, sparse speedups over both dense
kernels, totals over lines, and refusal of a file that is not a replay's.

    replay_summary_test.py SOURCE_DIR
"""

import os
import subprocess
import sys
import tempfile

source = sys.argv[1]
sys.path.insert(0, os.path.join(source, "scripts"))
import replay_summary as rs  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, failures, finish  # noqa: E402,F401


CSV = """layer,m,n,k,dtype,pattern,count,time_s,backend
fc1,64,64,64,fp16,dense,1,0.004,cublas
fc1,64,64,64,fp16,dense,1,0.005,own
fc1,64,64,64,fp16,2:4,1,0.002,own
fc2,64,64,32,fp16,dense,2,0.002,cublas
fc2,64,64,32,fp16,dense,2,0.004,own
fc2,64,64,32,fp16,2:4,2,0.001,own
"""

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "results.csv")
    with open(path, "w") as f:
        f.write(CSV)
    entries = rs.summarise(rs.load(path))
    check(len(entries) == 3, "two lines and a total")
    check(entries[2][1][("dense", "cublas")] == 0.006, "total cublas")
    head, body = rs.table(entries)
    check(head[7] == "own/cublas" and body[0][7] == "0.800", f"own as a fraction of cublas: {body[0][7]}")
    check(head[9:11] == ["vs cublas", "vs own"], f"columns {head}")
    check(body[0][9] == "2.000" and body[0][10] == "2.500", f"fc1 speedups {body[0][9:11]}")
    check(body[2][9] == "2.000" and body[2][10] == "3.000", f"total speedups {body[2][9:11]}")
    out = subprocess.run([sys.executable, os.path.join(source, "scripts/replay_summary.py"), path, "--markdown"],
                         capture_output=True, text=True)
    check(out.returncode == 0 and "| fc1 | 64 | 64 | 64 | fp16 | 0.004 | 0.005 | 0.800 |" in out.stdout, out.stdout)
    bad = os.path.join(tmp, "sim.csv")
    with open(bad, "w") as f:
        f.write("layer,m,n,k,dtype,pattern,count,time_s\nfc,1,1,1,fp16,dense,1,1\n")
    out = subprocess.run([sys.executable, os.path.join(source, "scripts/replay_summary.py"), bad], capture_output=True, text=True)
    check(out.returncode != 0 and "no backend column" in out.stderr, out.stderr)

finish("replay_summary")
