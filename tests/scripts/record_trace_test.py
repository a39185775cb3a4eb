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

stcsim, source = sys.argv[1], os.path.abspath(sys.argv[2])
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

# Einsum and --input parsing (no PyTorch needed).
check(rt.einsum_gemm("btc,cd->btd", (4, 60, 16), (16, 24)) == (240, 24, 16, 1, "-"), "einsum with a weight")
check(rt.einsum_gemm("bhqd,bhkd->bhqk", (2, 3, 5, 8), (2, 3, 7, 8)) == (5, 7, 8, 6, "-"), "einsum scores")
for eq, a, b in (("...c,cd->...d", (2, 3), (3, 4)), ("ij,jk,kl->il", (2, 3), (3, 4)), ("ii,ij->j", (3, 3), (3, 3))):
    try:
        rt.einsum_gemm(eq, a, b)
        check(False, f"einsum {eq} accepted")
    except ValueError:
        pass
check(rt.parse_input("8x128:int64") == ((8, 128), "int64"), "parse_input with a dtype")
check(rt.parse_input("2x3x8x8") == ((2, 3, 8, 8), "float32"), "parse_input")
for bad in ("8x", "0x3", "8x3:float8", "a"):
    try:
        rt.parse_input(bad)
        check(False, f"--input {bad} accepted")
    except ValueError:
        pass


def run(args, cwd=None, python=("/usr/bin/python3",)):
    return subprocess.run(list(python) + [os.path.join(source, "scripts", "record_trace.py")] + args,
                          capture_output=True, text=True, cwd=cwd)


def body(text):
    """A trace's GEMM lines, without comments (the PyTorch version and command line)."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


# Without PyTorch (the interpreter with no site packages): one line naming the interpreter.
result = run(["bert-base", "--batch", "1", "--seq", "8"], python=("/usr/bin/python3", "-S"))
check(result.returncode == 1 and "/usr/bin/python3 has no module torch" in result.stderr
      and len(result.stderr.strip().splitlines()) == 1, f"no PyTorch: {result.returncode} {result.stderr}")

try:
    import torch
    have_torch = True
except ImportError:
    have_torch = False
if not have_torch and os.environ.get("STCSIM_REQUIRE_TORCH") == "1":
    check(False, "PyTorch is required here (STCSIM_REQUIRE_TORCH=1) but /usr/bin/python3 cannot import it")
if have_torch:
    # Every built-in model: its recording equals the committed one (scripts/record_traces.sh), and
    # its total MACs equal those of the trace generated from its workload.
    with open(os.path.join(source, "scripts", "record_traces.sh")) as f:
        table = [line.strip().strip('"').split() for line in f if line.startswith('  "')]
    check(len(table) >= 7, f"record_traces.sh lists {len(table)} recordings")
    built_in = set()
    for model, batch, seq, past, generated in table:
        built_in.add(model)
        recording = rt.record_builtin(model, int(batch), None if seq == "-" else int(seq), int(past))
        check(not recording.unmapped, f"{model}: not mapped: {[u.describe() for u in recording.unmapped]}")
        shipped = rt.read_trace(os.path.join(source, "traces", generated))
        generated_macs = sum(r.macs() for r in shipped)
        print(f"{model} (batch {batch}, seq {seq}, past {past}): recorded {recording.macs()} MACs, "
              f"generated {generated_macs}")
        check(recording.macs() == generated_macs, f"{model}: MACs differ from traces/{generated}")
        with open(os.path.join(source, "traces", "recorded", generated)) as f:
            committed = body(f.read())
        check(body(recording.text()) == committed,
              f"{model}: traces/recorded/{generated} differs from a fresh recording (rerun scripts/record_traces.sh)")
    import trace_models
    check(built_in == set(trace_models.BUILTINS), f"record_traces.sh records {sorted(built_in)}")

    # The forward hooks leave every module's output alone (a hook that returned the popped name
    # replaced outputs with strings once), and are removed afterwards.
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    rec = rt.record(net, torch.ones(3, 4), "seq", device=None)
    check([(r.layer, r.m, r.n, r.k, r.sparse) for r in rec.rows] == [("seq.0", 3, 6, 4, "B"), ("seq.2", 3, 2, 6, "B")],
          f"Sequential rows: {[(r.layer, r.m, r.n, r.k) for r in rec.rows]}")
    check(all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules()), "hooks removed")
    check(torch.equal(net(torch.ones(3, 4)), net(torch.ones(3, 4))), "the model still runs")
    # A weight on the left: W @ x puts the pattern on A.
    class Left(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(5, 4))

        def forward(self, x):
            return self.w @ x
    rec = rt.record(Left(), torch.ones(4, 3), "left", pattern="2:4")
    check([(r.m, r.n, r.k, r.sparse, r.pattern) for r in rec.rows] == [(5, 3, 4, "A", "2:4")], "weight on A")

    # A user-defined module by package.module:factory, through the command line.
    fixtures = os.path.join(source, "tests", "scripts", "fixtures")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "net.trace")
        result = run(["tiny_models:make_net", "--input", "2x3x8x8", "--pattern", "2:4", "-o", out], cwd=fixtures)
        check(result.returncode == 0 and not result.stderr, f"make_net: {result.returncode} {result.stderr}")
        rows = [(r.layer, r.m, r.n, r.k, r.sparse, r.pattern, r.count) for r in rt.read_trace(out)]
        expected = [("make_net.conv", 128, 8, 27, "B", "2:4", 1),          # 2 x 8 x 8 positions, 3 x 3 x 3
                    ("make_net.seq", 120, 8, 20, "B", "2:4", 2),           # conv1d, 2 groups: 8 / 2 x 5
                    ("make_net.attn.in_proj", 120, 48, 16, "B", "2:4", 1),
                    ("make_net.attn.matmul0", 60, 60, 4, "-", "dense", 8),
                    ("make_net.attn.matmul1", 60, 4, 60, "-", "dense", 8),
                    ("make_net.attn.out_proj", 120, 16, 16, "B", "2:4", 1),
                    ("make_net.matmul0", 120, 24, 16, "B", "2:4", 1),      # einsum with a parameter
                    ("make_net.fc", 2, 10, 24, "B", "2:4", 1)]
        check(rows == expected, f"make_net rows: {rows}")
        check(subprocess.run([stcsim, "validate", out], capture_output=True).returncode == 0, "stcsim validate")
        result = run(["tiny_models:make_net", "--input", "2x3x8x8", "-o", "-"], cwd=fixtures)
        check(result.returncode == 0 and result.stdout.startswith("stcsim-trace v1"), "-o - writes to stdout")
        # An LSTM's products are below any mapped function: reported by name, never dropped.
        result = run(["tiny_models:make_rnn", "--input", "2x7x32", "-o", out], cwd=fixtures)
        check(result.returncode == 0 and "not mapped: aten.addmm x7 in make_rnn.lstm" in result.stderr,
              f"make_rnn: {result.stderr}")
        with open(out) as f:
            check("NOT MAPPED (2)" in f.read(), "the trace names what it lacks")
        result = run(["tiny_models:make_rnn", "--input", "2x7x32", "--strict", "-o", out + "2"], cwd=fixtures)
        check(result.returncode == 1 and not os.path.exists(out + "2"), "--strict fails and writes nothing")
    # Bad input: one line, exit 1 or 2, no traceback.
    for args, cwd, needle in ((["tiny_models:nope", "--input", "2x3"], fixtures, "tiny_models has no 'nope'"),
                              (["no_such_module:make", "--input", "2x3"], fixtures, "cannot import no_such_module"),
                              (["tiny_models:make_rnn", "--input", "2x7x31"], fixtures, "input_size"),
                              (["tiny_models:make_net"], fixtures, "--input"),
                              (["gpt3", "--batch", "1", "--seq", "8"], None, "unknown model 'gpt3'"),
                              (["gpt2", "--batch", "1", "--seq", "2048"], None, "1024 positions"),
                              (["resnet-50", "--batch", "1", "--seq", "8"], None, "takes no --seq"),
                              (["gpt2", "--batch", "1", "--seq", "8", "--past", "3"], None, "--past is for llama-7b"),
                              (["gpt2", "--batch", "1", "--seq", "8", "-o", "/nonexistent/x.trace"], None, "/nonexistent")):
        result = run(args, cwd=cwd)
        lines = result.stderr.strip().splitlines()
        check(result.returncode in (1, 2) and len(lines) == 1 and needle in lines[-1] and "Traceback" not in result.stderr,
              f"{args}: {result.returncode} {result.stderr}")
else:
    print("SKIP: PyTorch is not installed; the recording itself is not exercised here")

finish("record_trace")
