#!/usr/bin/python3
"""Record the GEMMs a PyTorch model executes as an stcsim trace (format v1, traces/README.md).

    scripts/record_trace.py bert-base --batch 32 --seq 128 -o traces/recorded/bert-base_b32_s128.trace
    scripts/record_trace.py resnet-50 --batch 32 -o traces/recorded/resnet-50_b32.trace
    scripts/record_trace.py bert-base --batch 32 --seq 128 --compare traces/bert-base_b32_s128.trace

The model runs once, forward, in eval mode, by default on PyTorch's "meta" device: shapes are
propagated without computing anything, so recording needs neither a GPU nor weights (there is no
network: nothing is downloaded). Every GEMM the forward pass executes is recorded where it happens:

  linear        x[..., in] @ W^T          m = prod(leading dims), n = out, k = in; weights on B
  convolution   implicit GEMM             m = batch x out_h x out_w, n = out_channels / groups,
                                          k = in_channels / groups x kh x kw, count = groups; weights on B
  matmul, bmm   a[..., m, k] @ b[..., k, n]  count = prod(batch dims); both operands activations ("-")

Layer names are the module path of the call (the model's name, then e.g. "encoder.layer.3.attention.
query"). With --merge (the default) lines that differ only in the numbers of repeated blocks and have
the same shape are merged into one line whose count is the sum, and whose name gives the range
("encoder.layer.0-11.attention.query"), as the traces generated from workloads/ do.

Models: bert-base and bert-large, built here from their published configuration (Devlin et al.,
2019: hidden 768 / 1024, 12 / 24 layers, 12 / 16 heads, feed-forward 3072 / 4096), with separate
query, key and value projections as the published implementation has; resnet-50 from torchvision
when it is installed (weights=None), else the same architecture defined here (He et al., 2016:
bottleneck blocks [3, 4, 6, 3], stride on the 3x3 convolution).
"""

import argparse
import math
import re
import sys
from collections import OrderedDict

TRACE_HEADER = "stcsim-trace v1"
DTYPES = ("fp16", "bf16", "tf32", "int8", "fp8")


# ----------------------------------------------------------------------------------------------
# GEMM shapes of the recorded operations (pure functions: tested without PyTorch)


def linear_gemm(input_shape, out_features, in_features):
    """(m, n, k, count, sparse) of y = x W^T for x of input_shape [..., in_features]."""
    if not input_shape or input_shape[-1] != in_features:
        raise ValueError(f"linear: input {tuple(input_shape)} does not end in {in_features}")
    m = math.prod(input_shape[:-1]) if len(input_shape) > 1 else 1
    return m, out_features, in_features, 1, "B"


def conv_gemm(input_shape, output_shape, weight_shape, groups):
    """(m, n, k, count, sparse) of a 2-d convolution as an implicit GEMM, one GEMM per group."""
    n_batch, c_in = input_shape[0], input_shape[1]
    c_out, c_in_per_group = weight_shape[0], weight_shape[1]
    if c_in != c_in_per_group * groups or c_out % groups != 0:
        raise ValueError(f"conv: input {tuple(input_shape)}, weight {tuple(weight_shape)}, groups {groups}")
    m = n_batch * math.prod(output_shape[2:])
    k = c_in_per_group * math.prod(weight_shape[2:])
    return m, c_out // groups, k, groups, "B"


def matmul_gemm(a_shape, b_shape):
    """(m, n, k, count, sparse) of a @ b with broadcast batch dimensions (vectors promoted)."""
    a = list(a_shape) if len(a_shape) > 1 else [1] + list(a_shape)
    b = list(b_shape) if len(b_shape) > 1 else list(b_shape) + [1]
    if a[-1] != b[-2]:
        raise ValueError(f"matmul: {tuple(a_shape)} @ {tuple(b_shape)}")
    batch_a, batch_b = a[:-2], b[:-2]
    width = max(len(batch_a), len(batch_b))
    batch_a = [1] * (width - len(batch_a)) + batch_a
    batch_b = [1] * (width - len(batch_b)) + batch_b
    count = math.prod(max(x, y) for x, y in zip(batch_a, batch_b)) if width else 1
    return a[-2], b[-1], a[-1], count, "-"


# ----------------------------------------------------------------------------------------------
# Trace rows, merging and formatting


class Row:
    __slots__ = ("layer", "m", "n", "k", "dtype", "sparse", "pattern", "count")

    def __init__(self, layer, m, n, k, dtype, sparse, pattern, count):
        self.layer, self.m, self.n, self.k = layer, m, n, k
        self.dtype, self.sparse, self.pattern, self.count = dtype, sparse, pattern, count

    def macs(self):
        return self.m * self.n * self.k * self.count

    def shape_key(self):
        return (self.m, self.n, self.k, self.dtype, self.sparse)


_NUMBER = re.compile(r"(?<=\.)(\d+)(?=\.|$)")


def merge_rows(rows):
    """Merges rows whose names differ only in block numbers and whose shapes agree, in order of
    first appearance; the merged name shows each varying number as a range ("0-11")."""
    groups = OrderedDict()
    for r in rows:
        key = (_NUMBER.sub("*", r.layer),) + r.shape_key() + (r.pattern,)
        groups.setdefault(key, []).append(r)
    merged = []
    for key, members in groups.items():
        first = members[0]
        numbers = [_NUMBER.findall(r.layer) for r in members]
        name = first.layer
        if len(members) > 1:
            parts = _NUMBER.split(first.layer)
            # parts alternates text, number, text, ...; replace the numbers that vary by their range.
            index = 0
            out = []
            for i, part in enumerate(parts):
                if i % 2 == 0:
                    out.append(part)
                    continue
                values = sorted({int(n[index]) for n in numbers})
                out.append(part if len(values) == 1 else f"{values[0]}-{values[-1]}")
                index += 1
            name = "".join(out)
        merged.append(Row(name, first.m, first.n, first.k, first.dtype, first.sparse, first.pattern,
                          sum(r.count for r in members)))
    return merged


_LAYER_OK = re.compile(r"[^A-Za-z0-9_.\-/\[\]]")


def format_trace(rows, comments=()):
    """Trace text in format v1: the header, '#' comments, one aligned line per row."""
    lines = [TRACE_HEADER]
    lines += ["# " + c if c else "#" for c in comments]
    lines.append(f"# {'layer':<40} {'m':>9} {'n':>7} {'k':>7} {'dtype':<5} {'sparse':<6} {'pattern':<12} count")
    for r in rows:
        layer = _LAYER_OK.sub("_", r.layer)
        lines.append(f"{layer:<42} {r.m:>9} {r.n:>7} {r.k:>7} {r.dtype:<5} {r.sparse:<6} {r.pattern:<12} {r.count}")
    return "\n".join(lines) + "\n"


def read_trace(path):
    """Rows of a trace file (format v1), for --compare; raises ValueError naming path:line."""
    rows = []
    seen_header = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            if not seen_header:
                if text != TRACE_HEADER:
                    raise ValueError(f"{path}:{number}: expected '{TRACE_HEADER}'")
                seen_header = True
                continue
            fields = text.split()
            if len(fields) != 8:
                raise ValueError(f"{path}:{number}: expected 8 fields, got {len(fields)}")
            try:
                m, n, k, count = int(fields[1]), int(fields[2]), int(fields[3]), int(fields[7])
            except ValueError:
                raise ValueError(f"{path}:{number}: m, n, k and count must be integers") from None
            rows.append(Row(fields[0], m, n, k, fields[4], fields[5], fields[6], count))
    if not seen_header:
        raise ValueError(f"{path}: empty, no '{TRACE_HEADER}' header")
    return rows


def compare(recorded, generated):
    """Report lines comparing two traces by GEMM shape (m, n, k, dtype, sparse) and total MACs."""
    def by_shape(rows):
        out = OrderedDict()
        for r in rows:
            out[r.shape_key()] = out.get(r.shape_key(), 0) + r.count
        return out

    a, b = by_shape(recorded), by_shape(generated)
    lines = [f"{'m':>9} {'n':>7} {'k':>7} {'dtype':<5} {'sparse':<6} {'recorded':>9} {'generated':>9}"]
    for key in list(a) + [k for k in b if k not in a]:
        ca, cb = a.get(key, 0), b.get(key, 0)
        mark = "" if ca == cb else "   <- differs"
        lines.append(f"{key[0]:>9} {key[1]:>7} {key[2]:>7} {key[3]:<5} {key[4]:<6} {ca:>9} {cb:>9}{mark}")
    macs_a = sum(r.macs() for r in recorded)
    macs_b = sum(r.macs() for r in generated)
    lines.append(f"total MACs: recorded {macs_a}, generated {macs_b} ({'equal' if macs_a == macs_b else 'differ'})")
    weights_a = sum(r.macs() for r in recorded if r.sparse != "-")
    weights_b = sum(r.macs() for r in generated if r.sparse != "-")
    lines.append(f"weight-GEMM MACs: recorded {weights_a}, generated {weights_b}")
    return lines


# ----------------------------------------------------------------------------------------------
# Models and recording (need PyTorch)


def build_model(name, torch):
    nn = torch.nn
    if name in ("bert-base", "bert-large"):
        hidden, layers, heads, ffn = (768, 12, 12, 3072) if name == "bert-base" else (1024, 24, 16, 4096)

        class SelfAttention(nn.Module):
            def __init__(self):
                super().__init__()
                self.heads = heads
                self.query = nn.Linear(hidden, hidden)
                self.key = nn.Linear(hidden, hidden)
                self.value = nn.Linear(hidden, hidden)
                self.output = nn.Linear(hidden, hidden)
                self.norm = nn.LayerNorm(hidden)

            def forward(self, x):
                b, s, _ = x.shape
                d = hidden // self.heads

                def split(t):
                    return t.view(b, s, self.heads, d).transpose(1, 2)

                q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
                scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
                context = torch.matmul(scores.softmax(dim=-1), v)
                context = context.transpose(1, 2).reshape(b, s, hidden)
                return self.norm(x + self.output(context))

        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.attention = SelfAttention()
                self.intermediate = nn.Linear(hidden, ffn)
                self.output = nn.Linear(ffn, hidden)
                self.norm = nn.LayerNorm(hidden)

            def forward(self, x):
                x = self.attention(x)
                return self.norm(x + self.output(torch.nn.functional.gelu(self.intermediate(x))))

        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = nn.ModuleList(Layer() for _ in range(layers))

            def forward(self, x):
                for layer in self.layer:
                    x = layer(x)
                return x

        model = nn.Module()
        model.encoder = Encoder()
        model.forward = model.encoder.forward
        return model, hidden
    if name == "resnet-50":
        try:
            import torchvision  # noqa: F401  (optional)
            return torchvision.models.resnet50(weights=None), None
        except ImportError:
            pass

        class Bottleneck(nn.Module):
            def __init__(self, c_in, width, stride):
                super().__init__()
                c_out = width * 4
                self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(width)
                self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(width)
                self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
                self.bn3 = nn.BatchNorm2d(c_out)
                self.downsample = None
                if stride != 1 or c_in != c_out:
                    self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                                    nn.BatchNorm2d(c_out))

            def forward(self, x):
                relu = torch.nn.functional.relu
                y = relu(self.bn1(self.conv1(x)))
                y = relu(self.bn2(self.conv2(y)))
                y = self.bn3(self.conv3(y))
                return relu(y + (x if self.downsample is None else self.downsample(x)))

        class ResNet50(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
                self.bn1 = nn.BatchNorm2d(64)
                self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
                c_in = 64
                for index, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
                    layer = []
                    for i in range(blocks):
                        layer.append(Bottleneck(c_in, width, stride if i == 0 else 1))
                        c_in = width * 4
                    setattr(self, f"layer{index}", nn.Sequential(*layer))
                self.fc = nn.Linear(2048, 1000)

            def forward(self, x):
                x = self.maxpool(torch.nn.functional.relu(self.bn1(self.conv1(x))))
                x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
                return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))

        return ResNet50(), None
    raise ValueError(f"unknown model '{name}' (known: bert-base, bert-large, resnet-50)")


def record(model_name, batch, seq, dtype, pattern, device):
    """Runs the model forward once and returns the Rows of every GEMM it executed, in order."""
    import torch
    from torch.overrides import TorchFunctionMode

    model, hidden = build_model(model_name, torch)
    model.eval()
    stack = [model_name]
    handles = []
    for path, module in model.named_modules():
        if not path:
            continue
        handles.append(module.register_forward_pre_hook(lambda m, args, p=path: stack.append(p)))
        handles.append(module.register_forward_hook(lambda m, args, out: stack.pop()))
    rows = []
    weight_pattern = pattern

    def add(suffix, gemm):
        m, n, k, count, sparse = gemm
        name = stack[-1] if len(stack) == 1 else f"{model_name}.{stack[-1]}"
        rows.append(Row(name + suffix, m, n, k, dtype, sparse, weight_pattern if sparse != "-" else "dense", count))

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            # By name: the functional forms reach a mode as builtins whose identity differs between
            # versions (torch.nn.functional.linear or its C binding), their names do not.
            name = getattr(func, "__name__", "")
            if name == "linear":
                x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
                add("", linear_gemm(tuple(x.shape), w.shape[0], w.shape[1]))
            elif name == "conv2d":
                x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
                groups = args[6] if len(args) > 6 else kwargs.get("groups", 1)
                add("", conv_gemm(tuple(x.shape), tuple(out.shape), tuple(w.shape), groups))
            elif name in ("matmul", "bmm", "__matmul__"):
                add(".matmul", matmul_gemm(tuple(args[0].shape), tuple(args[1].shape)))
            return out

    with torch.no_grad():
        if hidden is not None:
            x = torch.zeros(batch, seq, hidden, device=device)
        else:
            x = torch.zeros(batch, 3, 224, 224, device=device)
        model.to(device)
        with Recorder():
            model(x)
    for h in handles:
        h.remove()
    # Two matmuls per attention module: name them by their order within the module.
    counter = {}
    for r in rows:
        if r.layer.endswith(".matmul"):
            i = counter.get(r.layer, 0)
            counter[r.layer] = i + 1
            r.layer = f"{r.layer}{i}"
    return rows, torch.__version__


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("model", help="bert-base, bert-large or resnet-50")
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--seq", type=int, help="sequence length (BERT)")
    p.add_argument("--dtype", default="fp16", choices=DTYPES, help="dtype written to the trace")
    p.add_argument("--pattern", default="dense", help="pattern of the weight GEMMs (default dense)")
    p.add_argument("--device", default="meta", help="PyTorch device to run on (default meta: shapes only)")
    p.add_argument("--no-merge", action="store_true", help="one line per executed GEMM")
    p.add_argument("-o", "--out", help="trace file to write (default: standard output)")
    p.add_argument("--compare", metavar="TRACE", help="compare the recording with this trace")
    a = p.parse_args(argv)
    if a.batch < 1 or (a.seq is not None and a.seq < 1):
        p.error("--batch and --seq must be >= 1")
    if a.model.startswith("bert") and a.seq is None:
        p.error("--seq is needed for BERT")
    try:
        import torch  # noqa: F401
    except ImportError:
        print("record_trace: PyTorch is not installed (python3 -c 'import torch' fails); "
              "run this on a machine that has it", file=sys.stderr)
        return 1
    try:
        rows, version = record(a.model, a.batch, a.seq or 0, a.dtype, a.pattern, a.device)
    except (ValueError, RuntimeError) as e:
        print(f"record_trace: {a.model}: {e}", file=sys.stderr)
        return 1
    if not a.no_merge:
        rows = merge_rows(rows)
    command = "scripts/record_trace.py " + " ".join(argv)
    comments = [f"recorded by: {command}", f"PyTorch {version}, device {a.device}",
                f"{len(rows)} GEMM lines, {sum(r.macs() for r in rows)} MACs"]
    text = format_trace(rows, comments)
    if a.out:
        tmp = a.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        import os
        os.replace(tmp, a.out)
    elif not a.compare:
        sys.stdout.write(text)
    if a.compare:
        try:
            generated = read_trace(a.compare)
        except (OSError, ValueError) as e:
            print(f"record_trace: {e}", file=sys.stderr)
            return 1
        print("\n".join(compare(rows, generated)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
