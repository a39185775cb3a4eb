#!/usr/bin/python3
"""Tests of scripts/record_trace.py: the GEMM shapes of each recorded operation, merging, the trace
text (checked by `stcsim validate`), reading and comparing traces; and, where PyTorch is installed,
a recording of BERT-base and ResNet-50 on the meta device against the shipped traces' totals.

    record_trace_test.py STCSIM_BINARY SOURCE_DIR
"""

import os
import subprocess
import sys
import tempfile

stcsim, source = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(source, "scripts"))
import record_trace as rt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, failures, finish  # noqa: E402,F401


# Shapes. ResNet-50's first convolution at batch 32: the shipped trace's first line.
check(rt.conv_gemm((32, 3, 224, 224), (32, 64, 112, 112), (64, 3, 7, 7), 1) == (401408, 64, 147, 1, "B"), "conv1")
check(rt.conv_gemm((2, 8, 10, 10), (2, 8, 10, 10), (8, 2, 3, 3), 4) == (200, 2, 18, 4, "B"), "grouped conv")
check(rt.linear_gemm((32, 128, 768), 2304, 768) == (4096, 2304, 768, 1, "B"), "linear 3-d")
check(rt.linear_gemm((32, 2048), 1000, 2048) == (32, 1000, 2048, 1, "B"), "linear 2-d")
check(rt.matmul_gemm((32, 12, 128, 64), (32, 12, 64, 128)) == (128, 128, 64, 384, "-"), "attention scores")
check(rt.matmul_gemm((12, 128, 64), (64, 32)) == (128, 32, 64, 12, "-"), "broadcast matmul")
check(rt.matmul_gemm((5,), (5, 3)) == (1, 3, 5, 1, "-"), "vector matmul")
for bad in (lambda: rt.linear_gemm((4, 5), 3, 6), lambda: rt.matmul_gemm((2, 3), (4, 5)),
            lambda: rt.conv_gemm((1, 3, 8, 8), (1, 4, 8, 8), (4, 2, 3, 3), 1)):
    try:
        bad()
        check(False, "bad shape accepted")
    except ValueError:
        pass

# Merging: repeated blocks with equal shapes become one line with the summed count and a range.
R = rt.Row
rows = [R(f"bert-base.encoder.layer.{i}.attention.query", 4096, 768, 768, "fp16", "B", "2:4", 1) for i in range(12)]
rows += [R("resnet-50.layer1.1.conv1", 100352, 64, 256, "fp16", "B", "dense", 1),
         R("resnet-50.layer1.2.conv1", 100352, 64, 256, "fp16", "B", "dense", 1),
         R("resnet-50.layer1.0.conv1", 100352, 64, 64, "fp16", "B", "dense", 1)]
merged = rt.merge_rows(rows)
names = [(r.layer, r.count) for r in merged]
check(names == [("bert-base.encoder.layer.0-11.attention.query", 12), ("resnet-50.layer1.1-2.conv1", 2),
                ("resnet-50.layer1.0.conv1", 1)], f"merge: {names}")
check(sum(r.macs() for r in merged) == sum(r.macs() for r in rows), "merge keeps MACs")

# The text is a valid trace, and reads back.
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "t.trace")
    with open(path, "w") as f:
        f.write(rt.format_trace(merged, ["recorded by a test"]))
    result = subprocess.run([stcsim, "validate", path], capture_output=True, text=True)
    check(result.returncode == 0, f"stcsim validate: {result.stdout}{result.stderr}")
    back = rt.read_trace(path)
    check([(r.layer, r.shape_key(), r.count) for r in back] == [(r.layer, r.shape_key(), r.count) for r in merged],
          "read back")
    with open(os.path.join(tmp, "bad.trace"), "w") as f:
        f.write("stcsim-trace v1\nx 1 2 3 fp16 B dense\n")
    try:
        rt.read_trace(os.path.join(tmp, "bad.trace"))
        check(False, "short line accepted")
    except ValueError as e:
        check("bad.trace:2" in str(e), f"error names the line: {e}")

# Comparing by shape: three separate projections against one fused one have equal MACs.
three = [R(f"q{i}", 4096, 768, 768, "fp16", "B", "dense", 12) for i in range(3)]
fused = [R("qkv", 4096, 2304, 768, "fp16", "B", "dense", 12)]
report = rt.compare(three, fused)
check(any("<- differs" in line for line in report), "compare shows the shape difference")
check(report[-2].endswith("(equal)"), f"compare totals: {report[-2]}")

# With PyTorch: record on the meta device and compare totals with the shipped traces.
try:
    import torch  # noqa: F401
    have_torch = True
except ImportError:
    have_torch = False
if have_torch:
    for model, seq, shipped in (("bert-base", 128, "bert-base_b32_s128.trace"), ("resnet-50", None, "resnet-50_b32.trace")):
        rows, _ = rt.record(model, 32, seq or 0, "fp16", "dense", "meta")
        generated = rt.read_trace(os.path.join(source, "traces", shipped))
        recorded_macs = sum(r.macs() for r in rows)
        generated_macs = sum(r.macs() for r in generated)
        print(f"{model}: recorded {recorded_macs} MACs, shipped trace {generated_macs}")
        check(recorded_macs == generated_macs, f"{model}: MACs differ")
else:
    print("SKIP: PyTorch is not installed; the recording itself is not exercised here")

finish("record_trace")
