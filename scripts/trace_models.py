"""The models scripts/record_trace.py knows by name, each built from its published configuration
(shapes only: every layer is created on the device asked for, by default PyTorch's "meta" device, so
a 7B-parameter model costs no memory and nothing is downloaded).

    bert-base, bert-large  Devlin et al., 2019, Sec. 3: hidden 768 / 1024, 12 / 24 layers, 12 / 16
                           heads, feed-forward 3072 / 4096; separate query, key and value projections
                           as the published implementation has.
    gpt2                   Radford et al., 2019, Table 2 and the released "gpt2" checkpoint's hparams:
                           12 layers, n_embd 768, 12 heads, MLP 4 x n_embd, vocabulary 50257, n_ctx
                           1024; Q, K and V in one projection (c_attn) as released; LM head tied to
                           the token embedding, computed as a GEMM.
    llama-7b               Touvron et al., 2023, Table 2 and the released 7B params.json: dim 4096,
                           32 layers, 32 heads, SwiGLU feed-forward 11008, vocabulary 32000. Prefill
                           (past 0) or decoding (seq new tokens after `past` cached ones: keys and
                           values of past + seq positions).
    resnet-50              torchvision's resnet50 (v1.5: stride on the 3x3 convolution), weights=None.
    vit-b16                torchvision's vit_b_16 (Dosovitskiy et al., 2021: 12 layers, hidden 768,
                           12 heads, MLP 3072, 16 x 16 patches of a 224 x 224 image), weights=None.

Each entry gives the model and its example inputs for a batch (and sequence) size, and the trace
generated from workloads/ that a recording is compared with."""

import math


class Builtin:
    def __init__(self, name, build, sequence, workload, note):
        self.name, self.build, self.sequence, self.workload, self.note = name, build, sequence, workload, note


def _split_heads(t, heads):
    """[b, s, heads * d] -> [b, heads, s, d]."""
    b, s, width = t.shape
    return t.view(b, s, heads, width // heads).transpose(1, 2)


def _attend(torch, q, k, v, causal=False):
    """Scaled dot-product attention per head as two matmuls (the GEMMs recorded), then the heads
    joined back: [b, heads, s, d] -> [b, s, heads * d]."""
    d = q.shape[-1]
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
    if causal:
        s = scores.shape[-1]
        scores = scores.masked_fill(~torch.ones(s, s, dtype=torch.bool, device=q.device).tril(), float("-inf"))
    context = torch.matmul(scores.softmax(dim=-1), v)
    b, heads, s, _ = context.shape
    return context.transpose(1, 2).reshape(b, s, heads * d)


def _bert(torch, device, hidden, layers, heads, ffn):
    nn = torch.nn

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(hidden, hidden, device=device)
            self.key = nn.Linear(hidden, hidden, device=device)
            self.value = nn.Linear(hidden, hidden, device=device)
            self.output = nn.Linear(hidden, hidden, device=device)
            self.norm = nn.LayerNorm(hidden, device=device)

        def forward(self, x):
            q, k, v = (_split_heads(t, heads) for t in (self.query(x), self.key(x), self.value(x)))
            return self.norm(x + self.output(_attend(torch, q, k, v)))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = SelfAttention()
            self.intermediate = nn.Linear(hidden, ffn, device=device)
            self.output = nn.Linear(ffn, hidden, device=device)
            self.norm = nn.LayerNorm(hidden, device=device)

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

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()

        def forward(self, x):
            return self.encoder(x)

    return Bert()


def _bert_build(hidden, layers, heads, ffn):
    def build(torch, device, batch, seq, past):
        del past
        return _bert(torch, device, hidden, layers, heads, ffn), (torch.zeros(batch, seq, hidden, device=device),)
    return build


def _gpt2_build(torch, device, batch, seq, past):
    del past
    nn = torch.nn
    hidden, layers, heads, vocab, ctx = 768, 12, 12, 50257, 1024
    if seq > ctx:
        raise ValueError(f"gpt2 has {ctx} positions, --seq {seq} is longer")

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(hidden, 3 * hidden, device=device)
            self.c_proj = nn.Linear(hidden, hidden, device=device)

        def forward(self, x):
            q, k, v = (_split_heads(t, heads) for t in self.c_attn(x).split(hidden, dim=-1))
            return self.c_proj(_attend(torch, q, k, v, causal=True))

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(hidden, 4 * hidden, device=device)
            self.c_proj = nn.Linear(4 * hidden, hidden, device=device)

        def forward(self, x):
            return self.c_proj(torch.nn.functional.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(hidden, device=device)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(hidden, device=device)
            self.mlp = Mlp()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class Gpt2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, hidden, device=device)
            self.wpe = nn.Embedding(ctx, hidden, device=device)
            self.h = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(hidden, device=device)
            self.lm_head = nn.Linear(hidden, vocab, bias=False, device=device)
            self.lm_head.weight = self.wte.weight  # tied to the token embedding, as released

        def forward(self, ids):
            positions = torch.arange(ids.shape[1], device=ids.device)
            x = self.wte(ids) + self.wpe(positions)
            for block in self.h:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    return Gpt2(), (torch.zeros(batch, seq, dtype=torch.long, device=device),)


def _llama_build(torch, device, batch, seq, past):
    nn = torch.nn
    hidden, layers, heads, ffn, vocab = 4096, 32, 32, 11008, 32000
    d = hidden // heads

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj = nn.Linear(hidden, hidden, bias=False, device=device)
            self.k_proj = nn.Linear(hidden, hidden, bias=False, device=device)
            self.v_proj = nn.Linear(hidden, hidden, bias=False, device=device)
            self.o_proj = nn.Linear(hidden, hidden, bias=False, device=device)

        def forward(self, x):
            q, k, v = (_split_heads(t, heads) for t in (self.q_proj(x), self.k_proj(x), self.v_proj(x)))
            if past:
                # The cache of the `past` positions decoded before (its contents do not change shapes).
                cache = torch.zeros(x.shape[0], heads, past, d, dtype=x.dtype, device=x.device)
                k, v = torch.cat([cache, k], dim=2), torch.cat([cache, v], dim=2)
            return self.o_proj(_attend(torch, q, k, v))

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate_proj = nn.Linear(hidden, ffn, bias=False, device=device)
            self.up_proj = nn.Linear(hidden, ffn, bias=False, device=device)
            self.down_proj = nn.Linear(ffn, hidden, bias=False, device=device)

        def forward(self, x):
            return self.down_proj(torch.nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.self_attn = Attention()
            self.mlp = Mlp()

        def forward(self, x):
            x = x + self.self_attn(x)
            return x + self.mlp(x)

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(vocab, hidden, device=device)
            self.layers = nn.ModuleList(Layer() for _ in range(layers))
            self.lm_head = nn.Linear(hidden, vocab, bias=False, device=device)

        def forward(self, ids):
            x = self.embed_tokens(ids)
            for layer in self.layers:
                x = layer(x)
            return self.lm_head(x)

    return Llama(), (torch.zeros(batch, seq, dtype=torch.long, device=device),)


def _torchvision_build(factory_name):
    def build(torch, device, batch, seq, past):
        del seq, past
        import torchvision
        model = getattr(torchvision.models, factory_name)(weights=None)
        return model.to(device), (torch.zeros(batch, 3, 224, 224, device=device),)
    return build


BUILTINS = {b.name: b for b in (
    Builtin("bert-base", _bert_build(768, 12, 12, 3072), True, "bert-base",
            "query, key and value recorded as three GEMMs; the workload fuses them into one qkv GEMM of "
            "the same MACs"),
    Builtin("bert-large", _bert_build(1024, 24, 16, 4096), True, "bert-large",
            "query, key and value recorded as three GEMMs; the workload fuses them into one qkv GEMM"),
    Builtin("gpt2", _gpt2_build, True, "gpt2", "the same GEMMs as the workload"),
    Builtin("llama-7b", _llama_build, True, "llama-7b",
            "q, k, v recorded as three GEMMs and gate, up as two; the workload fuses each group"),
    Builtin("resnet-50", _torchvision_build("resnet50"), False, "resnet-50", "the same GEMMs as the workload"),
    Builtin("vit-b16", _torchvision_build("vit_b_16"), False, "vit-b16",
            "the same GEMMs as the workload"),
)}
