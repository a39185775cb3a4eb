#!/usr/bin/python3
"""Record the GEMMs a PyTorch model executes as an stcsim trace (format v1, traces/README.md).

    scripts/record_trace.py bert-base --batch 32 --seq 128 -o traces/recorded/bert-base_b32_s128.trace
    scripts/record_trace.py llama-7b --batch 1 --seq 1 --past 2047 --compare traces/llama-7b_decode.trace
    scripts/record_trace.py mypackage.models:make_net --input 8x3x32x32 -o net.trace

A model is a built-in name (scripts/trace_models.py: bert-base, bert-large, gpt2, llama-7b,
resnet-50, vit-b16, each from its published configuration) or `package.module:factory`, a function
of no arguments returning a torch.nn.Module, run on zero tensors of the --input shapes. From Python:
record(model, example_inputs) returns a Recording (rows, unmapped, text()).

The model runs once, forward, in eval mode, by default on PyTorch's "meta" device: shapes are
propagated without computing anything, so recording needs neither a GPU nor weights (nothing is
downloaded). Every GEMM the forward pass executes is recorded where it happens:

  linear        x[..., in] @ W^T          m = prod(leading dims), n = out, k = in
  convolution   implicit GEMM (1-3 d)     m = batch x output positions, n = out_channels / groups,
                                          k = in_channels / groups x kernel positions, count = groups
  matmul, mm, bmm, addmm, baddbmm, 2-operand einsum
                a[..., m, k] @ b[..., k, n]  count = prod(batch dims)
  multi-head attention (nn.MultiheadAttention) and scaled_dot_product_attention
                the projections, then scores L x S x head_dim and context L x head_dim x S per head

An operand that is one of the model's parameters (or a view of one) is the weight: its GEMM gets
--pattern on that side (A or B); products of two activations are dense ("-"). Any other operator that
multiplies matrices (seen below the functions, e.g. an LSTM or a fused attention kernel) is reported
by name and module as NOT MAPPED, on standard error and in the trace's comments, never dropped
silently; --strict makes that an error.

Layer names are the module path of the call (the model's name, then e.g. "encoder.layer.3.attention.
query"). Unless --no-merge, lines that differ only in the numbers of repeated blocks and have the same
shape are merged into one line whose count is the sum, and whose name gives the range
("encoder.layer.0-11.attention.query"), as the traces generated from workloads/ do.
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


_NUMBER = re.compile(r"(?<=[._])(\d+)(?=\.|$)")


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


# Recording (needs PyTorch)

# Functions the recorder maps to GEMMs, by name: the functional forms reach a mode as builtins whose
# identity differs between versions (torch.nn.functional.linear or its C binding), their names do not.
_MATMULS = ("matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "addmm", "baddbmm")
_CONVS = ("conv1d", "conv2d", "conv3d")
# Operators (below the functions) that multiply matrices: one of them running outside a mapped
# function is a GEMM the recorder could not map, reported by name, never dropped silently.
_ATEN_GEMMS = ("mm", "addmm", "bmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot", "convolution",
               "_convolution", "convolution_overrideable", "_scaled_dot_product_attention",
               "_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention",
               "_native_multi_head_attention", "linear", "matmul", "einsum", "tensordot", "bilinear",
               "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "lstm", "gru", "rnn_tanh",
               "rnn_relu")


class Unmapped:
    """A GEMM-carrying operation the recorder did not turn into a trace line: which op, where, how often."""
    __slots__ = ("op", "layer", "count", "shapes")

    def __init__(self, op, layer, count, shapes):
        self.op, self.layer, self.count, self.shapes = op, layer, count, shapes

    def describe(self):
        return f"{self.op} x{self.count} in {self.layer} (operand shapes {self.shapes})"


class Recording:
    """What record() returns: the trace rows (merged unless asked not to), the operations it could not
    map (merged by op, layer and shapes), and the PyTorch version that ran."""

    def __init__(self, name, rows, unmapped, torch_version):
        self.name, self.rows, self.unmapped, self.torch_version = name, rows, unmapped, torch_version

    def macs(self):
        return sum(r.macs() for r in self.rows)

    def comments(self):
        lines = [f"PyTorch {self.torch_version}",
                 f"{len(self.rows)} GEMM line{'s' if len(self.rows) != 1 else ''}, {self.macs()} MACs"]
        if self.unmapped:
            lines.append(f"NOT MAPPED ({len(self.unmapped)}): GEMM-carrying operations missing from this trace:")
            lines += ["  " + u.describe() for u in self.unmapped]
        return lines

    def text(self, comments=()):
        """The trace text (format v1) with `comments` and this recording's own."""
        return format_trace(self.rows, list(comments) + self.comments())


def _shape(t):
    return tuple(t.shape) if hasattr(t, "shape") else ()


def einsum_gemm(equation, a_shape, b_shape):
    """(m, n, k, count, sparse) of a two-operand einsum that is a (batched) matrix product: indices in
    both operands and the output are batch, in one operand and the output m (first) or n (second), in
    both operands only k. Raises ValueError for anything else (ellipsis, traces, repeated indices)."""
    eq = equation.replace(" ", "")
    if "->" not in eq or "..." in eq:
        raise ValueError(f"einsum '{equation}': only explicit 'ab,bc->ac' forms without '...' are mapped")
    inputs, out = eq.split("->")
    parts = inputs.split(",")
    if len(parts) != 2:
        raise ValueError(f"einsum '{equation}': {len(parts)} operands, only 2 are mapped")
    a, b = parts
    if len(a) != len(a_shape) or len(b) != len(b_shape) or len(set(a)) != len(a) or len(set(b)) != len(b):
        raise ValueError(f"einsum '{equation}': operands {a_shape} and {b_shape} do not fit")
    size = dict(zip(a, a_shape))
    for letter, extent in zip(b, b_shape):
        if size.setdefault(letter, extent) != extent:
            raise ValueError(f"einsum '{equation}': index {letter} is {size[letter]} and {extent}")
    batch = m = n = k = 1
    for letter, extent in size.items():
        in_a, in_b, in_out = letter in a, letter in b, letter in out
        if in_a and in_b and in_out:
            batch *= extent
        elif in_a and in_out:
            m *= extent
        elif in_b and in_out:
            n *= extent
        elif in_a and in_b:
            k *= extent
        else:
            raise ValueError(f"einsum '{equation}': index {letter} is summed within one operand")
    return m, n, k, batch, "-"


def _arg(args, kwargs, index, name, default=None):
    return args[index] if len(args) > index else kwargs.get(name, default)


def record(model, example_inputs, name="model", dtype="fp16", pattern="dense", merge=True, device=None):
    """Runs `model` forward once (eval mode, no gradients) on `example_inputs` (a tensor, a tuple of
    them, or a dict of keyword arguments) and returns a Recording of every GEMM it executed, in order.
    Weight GEMMs (an operand that is one of the model's parameters, or a view of one) get `pattern`,
    the others are dense activation GEMMs. With `device` the model and inputs are moved there first
    ("meta": shapes only). Layers are named `name` + "." + the module path of the call."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    if dtype not in DTYPES:
        raise ValueError(f"dtype '{dtype}' is not one of {', '.join(DTYPES)}")
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if isinstance(example_inputs, dict):
        args, kwargs = (), dict(example_inputs)
    elif isinstance(example_inputs, (tuple, list)):
        args, kwargs = tuple(example_inputs), {}
    else:
        args, kwargs = (example_inputs,), {}
    if device is not None:
        model = model.to(device)
        args = tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)
        kwargs = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    model.eval()

    params = {id(p) for p in model.parameters()}

    def is_weight(t):
        while isinstance(t, torch.Tensor):
            if id(t) in params:
                return True
            t = t._base  # a view (W.t(), W.T) of a parameter is still the weight
        return False

    stack = [""]
    handles = []

    def push(module, inputs, path):
        stack.append(path)

    def pop(module, inputs, output):
        stack.pop()
        return None  # a forward hook that returns a value replaces the module's output

    for path, module in model.named_modules():
        if path:
            handles.append(module.register_forward_pre_hook(lambda m, i, p=path: push(m, i, p)))
            handles.append(module.register_forward_hook(pop))

    rows = []
    unmapped = OrderedDict()

    def layer():
        return name if not stack[-1] else f"{name}.{stack[-1]}"

    def add(suffix, gemm):
        m, n, k, count, sparse = gemm
        rows.append(Row(layer() + suffix, m, n, k, dtype, sparse, pattern if sparse != "-" else "dense", count))

    def operands(a, b, gemm):
        m, n, k, count, _ = gemm
        return m, n, k, count, "B" if is_weight(b) else ("A" if is_weight(a) else "-")

    def not_mapped(op, shapes):
        key = (op, layer(), shapes)
        if key in unmapped:
            unmapped[key].count += 1
        else:
            unmapped[key] = Unmapped(op, layer(), 1, shapes)

    inside = [0]  # depth of mapped calls running: the operators below them are accounted for

    def map_call(fname, args, kwargs, out):
        if fname == "linear":
            x, w = args[0], _arg(args, kwargs, 1, "weight")
            gemm = linear_gemm(_shape(x), w.shape[0], w.shape[1])
            add("", gemm[:4] + ("B" if is_weight(w) else "-",))
        elif fname in _CONVS:
            x, w = args[0], _arg(args, kwargs, 1, "weight")
            groups = _arg(args, kwargs, 6, "groups", 1)
            add("", conv_gemm(_shape(x), _shape(out), _shape(w), groups))
        elif fname in ("addmm", "baddbmm"):
            a, b = _arg(args, kwargs, 1, "mat1" if fname == "addmm" else "batch1"), \
                _arg(args, kwargs, 2, "mat2" if fname == "addmm" else "batch2")
            add(".matmul", operands(a, b, matmul_gemm(_shape(a), _shape(b))))
        elif fname in _MATMULS:
            a, b = (args[1], args[0]) if fname == "__rmatmul__" else (args[0], args[1])
            add(".matmul", operands(a, b, matmul_gemm(_shape(a), _shape(b))))
        elif fname == "einsum":
            equation, tensors = args[0], args[1:]
            if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
                tensors = tuple(tensors[0])
            if len(tensors) != 2:
                raise ValueError(f"einsum with {len(tensors)} operands")
            add(".matmul", operands(tensors[0], tensors[1],
                                    einsum_gemm(equation, _shape(tensors[0]), _shape(tensors[1]))))
        elif fname == "scaled_dot_product_attention":
            q, k, v = args[0], args[1], args[2]
            batch = math.prod(_shape(q)[:-2])
            length, source, e, ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
            add(".matmul", (length, source, e, batch, "-"))
            add(".matmul", (length, ev, source, batch, "-"))
        elif fname == "multi_head_attention_forward":
            query, key, value = args[0], args[1], args[2]
            heads = _arg(args, kwargs, 4, "num_heads")
            separate = _arg(args, kwargs, 17, "use_separate_proj_weight", False)
            length, batch, embed = (_shape(query) if query.dim() == 3 else (query.shape[0], 1, query.shape[1]))
            source = key.shape[0]
            if not separate and query is key and key is value:
                add(".in_proj", (length * batch, 3 * embed, embed, 1, "B"))
            else:
                add(".q_proj", (length * batch, embed, embed, 1, "B"))
                add(".k_proj", (source * batch, embed, key.shape[-1], 1, "B"))
                add(".v_proj", (source * batch, embed, value.shape[-1], 1, "B"))
            head = embed // heads
            add(".matmul", (length, source, head, batch * heads, "-"))
            add(".matmul", (length, head, source, batch * heads, "-"))
            add(".out_proj", (length * batch, embed, embed, 1, "B"))
        else:
            return False
        return True

    mapped_names = {"linear", "einsum", "scaled_dot_product_attention", "multi_head_attention_forward"}
    mapped_names.update(_MATMULS, _CONVS)

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            fname = getattr(func, "__name__", "")
            if fname not in mapped_names:
                return func(*args, **kwargs)
            inside[0] += 1
            try:
                out = func(*args, **kwargs)
            finally:
                inside[0] -= 1
            try:
                map_call(fname, args, kwargs, out)
            except (ValueError, IndexError, TypeError, AttributeError) as e:
                not_mapped(f"{fname} ({e})", tuple(_shape(a) for a in args if hasattr(a, "shape")))
            return out

    class Operators(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if inside[0] == 0:
                op = func.overloadpacket.__name__ if hasattr(func, "overloadpacket") else str(func)
                if op in _ATEN_GEMMS:
                    not_mapped(f"aten.{op}", tuple(_shape(a) for a in args if hasattr(a, "shape")))
            return func(*args, **(kwargs or {}))

    try:
        with torch.no_grad(), Functions(), Operators():
            model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    # Matrix products of activations are numbered in their order within the module.
    counter = {}
    for r in rows:
        if r.layer.endswith(".matmul"):
            i = counter.get(r.layer, 0)
            counter[r.layer] = i + 1
            r.layer = f"{r.layer}{i}"
    return Recording(name, merge_rows(rows) if merge else rows, list(unmapped.values()), torch.__version__)


def record_builtin(model_name, batch, seq=None, past=0, dtype="fp16", pattern="dense", merge=True, device="meta"):
    """A Recording of a built-in model (trace_models.BUILTINS) at this batch and sequence length."""
    import torch
    import trace_models

    spec = trace_models.BUILTINS.get(model_name)
    if spec is None:
        raise ValueError(f"unknown model '{model_name}' (built in: {', '.join(trace_models.BUILTINS)}; "
                         "or give package.module:factory with --input)")
    if spec.sequence and seq is None:
        raise ValueError(f"{model_name} needs --seq")
    if not spec.sequence and seq is not None:
        raise ValueError(f"{model_name} takes no --seq")
    if past and model_name != "llama-7b":
        raise ValueError("--past is for llama-7b (decoding after cached positions)")
    model, inputs = spec.build(torch, device, batch, seq or 0, past)
    return record(model, inputs, model_name, dtype, pattern, merge, device)


_INPUT = re.compile(r"^(\d+(?:x\d+)*)(?::(float32|float16|bfloat16|int64|int32|bool))?$")


def parse_input(text):
    """'8x3x32x32' or '8x128:int64' -> (shape tuple, dtype name); ValueError otherwise."""
    match = _INPUT.match(text)
    if not match:
        raise ValueError(f"--input '{text}': expected dimensions joined by x, e.g. 8x3x224x224 or 8x128:int64")
    shape = tuple(int(x) for x in match.group(1).split("x"))
    if any(x < 1 for x in shape):
        raise ValueError(f"--input '{text}': every dimension must be >= 1")
    return shape, match.group(2) or "float32"


def load_factory(spec):
    """The callable named by 'package.module:factory' (imported with the current folder on the path)."""
    import importlib
    import os
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"'{spec}': expected package.module:factory")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"'{spec}': cannot import {module_name}: {e}") from None
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ValueError(f"'{spec}': {module_name} has no '{attr}'")
    if not callable(factory):
        raise ValueError(f"'{spec}': {attr} is not callable")
    return factory


def record_factory(spec, inputs, dtype="fp16", pattern="dense", merge=True, device="meta", name=None):
    """A Recording of the model `factory()` returns (spec 'package.module:factory'), run on zero
    tensors of the given (shape, dtype name) inputs; layers are named `name` (default: the factory's)."""
    import torch
    factory = load_factory(spec)
    if not inputs:
        raise ValueError(f"'{spec}': give the model's inputs with --input SHAPE[:dtype]")
    model = factory()
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"'{spec}' returned {type(model).__name__}, not a torch.nn.Module")
    tensors = tuple(torch.zeros(shape, dtype=getattr(torch, dt)) for shape, dt in inputs)
    name = name or spec.partition(":")[2].split(".")[-1]
    return record(model, tensors, re.sub(r"[^A-Za-z0-9_.\-]", "_", name), dtype, pattern, merge, device)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("model", help="a built-in model (bert-base, bert-large, gpt2, llama-7b, resnet-50, vit-b16) "
                                 "or package.module:factory")
    p.add_argument("--batch", type=int, help="batch size (built-in models)")
    p.add_argument("--seq", type=int, help="sequence length (built-in sequence models)")
    p.add_argument("--past", type=int, default=0, help="llama-7b: cached positions before --seq new ones (decoding)")
    p.add_argument("--input", action="append", default=[], metavar="SHAPE[:DTYPE]",
                   help="package.module:factory models: one per forward argument, e.g. 8x3x32x32 or 8x128:int64")
    p.add_argument("--name", help="package.module:factory models: the name layers start with (default: the factory's)")
    p.add_argument("--dtype", default="fp16", choices=DTYPES, help="dtype written to the trace")
    p.add_argument("--pattern", default="dense", help="pattern of the weight GEMMs (default dense)")
    p.add_argument("--device", default="meta", help="PyTorch device to run on (default meta: shapes only)")
    p.add_argument("--no-merge", action="store_true", help="one line per executed GEMM")
    p.add_argument("--strict", action="store_true", help="fail if any GEMM-carrying operation is not mapped")
    p.add_argument("-o", "--out", help="trace file to write ('-' or none: standard output)")
    p.add_argument("--compare", metavar="TRACE", help="compare the recording with this trace")
    a = p.parse_args(argv)
    factory = ":" in a.model
    if factory and (a.batch is not None or a.seq is not None or a.past):
        p.error("--batch, --seq and --past are for built-in models; give a factory's inputs with --input")
    if not factory and (a.input or a.name):
        p.error("--input and --name are for package.module:factory models")
    if not factory and a.batch is None:
        p.error("--batch is needed for built-in models")
    if (a.batch is not None and a.batch < 1) or (a.seq is not None and a.seq < 1) or a.past < 0:
        p.error("--batch and --seq must be >= 1, --past >= 0")
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import script_main
    script_main.need_modules("record_trace", ["torch"])
    try:
        if factory:
            recording = record_factory(a.model, [parse_input(t) for t in a.input], a.dtype, a.pattern,
                                       not a.no_merge, a.device, a.name)
        else:
            recording = record_builtin(a.model, a.batch, a.seq, a.past, a.dtype, a.pattern, not a.no_merge, a.device)
    except (ValueError, RuntimeError, TypeError, NotImplementedError) as e:
        print(f"record_trace: {a.model}: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 1
    for u in recording.unmapped:
        print(f"record_trace: {a.model}: not mapped: {u.describe()}", file=sys.stderr)
    if a.strict and recording.unmapped:
        print(f"record_trace: {a.model}: {len(recording.unmapped)} operation(s) not mapped (--strict)", file=sys.stderr)
        return 1
    text = recording.text([f"recorded by: scripts/record_trace.py {' '.join(argv)}", f"device {a.device}"])
    to_stdout = a.out in (None, "-")
    if not to_stdout:
        import os
        tmp = a.out + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, a.out)
        except OSError as e:
            print(f"record_trace: {a.out}: {e.strerror}", file=sys.stderr)
            return 1
    elif not a.compare:
        sys.stdout.write(text)
    if a.compare:
        try:
            generated = read_trace(a.compare)
        except (OSError, ValueError) as e:
            print(f"record_trace: {e}", file=sys.stderr)
            return 1
        print("\n".join(compare(recording.rows, generated)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
