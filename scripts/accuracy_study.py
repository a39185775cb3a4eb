#!/usr/bin/python3
"""What each sparsity pattern costs in accuracy and buys on hardware, from one command.

    scripts/accuracy_study.py [--out docs/plots/accuracy] [--seeds 3] [--stcsim build/stcsim]
                              [--config configs/h100.yaml] [--trace traces/bert-base_b32_s128.trace]
                              [--quick]

Accuracy. Two small models are trained on CPU from data Debian ships (nothing is downloaded):
  digits-mlp  an MLP 64-512-512-10 on scikit-learn's bundled digits (1797 8x8 images; 70/30 split,
              fixed by the seed); accuracy on the held-out 30%.
  gpl-charlm  a 2-layer causal Transformer language model (d 64, 4 heads, feed-forward 256,
              context 32) over the characters of /usr/share/common-licenses/GPL-3 (base-files); the
              last 10% of the text is held out; perplexity per character.
Per seed the dense model is trained once; then every pattern prunes its linear layers' weights
(the weight GEMMs the simulator times; embeddings, biases and the output layer stay dense) with
each recipe:
  oneshot  magnitude pruning of the trained weights, no retraining (dense: the trained model);
  retrain  the same mask, then fine-tuning with the mask fixed (the 2:4 workflow; dense: the same
           fine-tuning steps with nothing pruned, the fair baseline of the retrained models);
  decay    pruning-mask decay (Kao et al., "Training Recipe for N:M Structured Sparsity with
           Decaying Pruning Mask", 2022): fine-tuning in phases, each recomputing the mask from the
           current weights and scaling the pruned weights by a factor decaying 1 -> 0 (the last
           phase is the hard mask).
Every mask is stcsim's own: the weights go to `stcsim prune --pattern P --npy` and its mask.npy comes
back, so the masks are exactly those the simulator's pattern code builds and times.

Hardware. The same patterns run on the trace (default BERT-base, batch 32, seq 128, on the H100
config): `stcsim run --pattern dense --pattern P ...`; speedup = dense time / time and energy ratio
= energy / dense energy of the whole trace.

Writes into --out: runs.csv (model, pattern, recipe, seed, density, metric), summary.csv (mean and
standard deviation over seeds beside the simulated speedup and energy ratio), pareto.png (metric
against speedup per model and recipe, the Pareto front of the best recipe marked) and README.md (the
table, the command, commit and machine). Seeds, data splits and masks are deterministic: the same
command gives the same runs.csv. --quick (a test): 1 seed, few steps, 4 patterns.
"""

import argparse
import csv
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import script_main  # noqa: E402

PATTERNS = [
    # (spec, nominal density)
    ("dense", 1.0),
    ("2:4", 0.5), ("4:8", 0.5), ("tw(g=128,sparsity=0.5)", 0.5), ("tvw(g=64,sparsity=0.333,n=3,m=4)", 0.5),
    ("unstructured(sparsity=0.5)", 0.5),
    ("1:4", 0.25), ("2:8", 0.25), ("64:2:8", 0.25), ("tw(g=128,sparsity=0.75)", 0.25),
    ("tvw(g=128,sparsity=0.5,n=2,m=4)", 0.25), ("unstructured(sparsity=0.75)", 0.25),
    ("1:8", 0.125), ("unstructured(sparsity=0.875)", 0.125),
]
QUICK_PATTERNS = ["dense", "2:4", "tw(g=128,sparsity=0.5)", "1:8"]
RECIPES = ("oneshot", "retrain", "decay")
TEXT = "/usr/share/common-licenses/GPL-3"


class StudyError(Exception):
    """Bad input or a failed step: one line `accuracy_study.py: error: ...`, exit status 2."""


# ----------------------------------------------------------------------------------------------
# Masks from stcsim


class Masker:
    """stcsim prune on a weight matrix [out, in] (K = in), returning its mask as a float tensor."""

    def __init__(self, stcsim, tmp):
        self.stcsim, self.tmp, self.calls = stcsim, tmp, 0

    def mask(self, torch, np, weight, pattern):
        if pattern == "dense":
            return torch.ones_like(weight)
        self.calls += 1
        w_path = os.path.join(self.tmp, "w.npy")
        out = os.path.join(self.tmp, "prune")
        np.save(w_path, weight.detach().cpu().numpy().astype(np.float32))
        r = subprocess.run([self.stcsim, "prune", "--pattern", pattern, "--npy", w_path, "--out", out, "--json"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise StudyError(f"stcsim prune --pattern {pattern}: {r.stderr.strip()}")
        m = np.load(os.path.join(out, "mask.npy"))
        if m.shape != tuple(weight.shape):
            raise StudyError(f"stcsim prune --pattern {pattern}: mask {m.shape} for weights {tuple(weight.shape)}")
        return torch.from_numpy(m.astype(np.float32))


# ----------------------------------------------------------------------------------------------
# Models and data


def digits_task(torch, np, seed, quick):
    from sklearn.datasets import load_digits
    nn = torch.nn
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1000 + seed))
    cut = int(0.7 * len(x))
    tr, te = order[:cut], order[cut:]

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.out = nn.Linear(64, 512), nn.Linear(512, 512), nn.Linear(512, 10)

        def forward(self, v):
            return self.out(torch.relu(self.fc2(torch.relu(self.fc1(v)))))

    torch.manual_seed(seed)
    model = Mlp()

    def batches(steps, g):
        for _ in range(steps):
            idx = tr[torch.randint(len(tr), (64,), generator=g)]
            yield x[idx], y[idx]

    def loss(model, batch):
        return torch.nn.functional.cross_entropy(model(batch[0]), batch[1])

    def metric(model):
        with torch.no_grad():
            return float((model(x[te]).argmax(1) == y[te]).float().mean())

    return {"model": model, "prunable": [model.fc1, model.fc2], "batches": batches, "loss": loss, "metric": metric,
            "metric_name": "accuracy", "higher_better": True, "train_steps": 150 if quick else 1000,
            "tune_steps": 50 if quick else 300, "lr": 1e-3}


def charlm_task(torch, np, seed, quick):
    nn = torch.nn
    try:
        with open(TEXT, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise StudyError(f"{TEXT}: {e.strerror} (Debian's base-files ships it)") from None
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    cut = int(0.9 * len(data))
    train, held = data[:cut], data[cut:]
    vocab, d, heads, ctx = len(chars), 64, 4, 32

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.ffn1, self.ffn2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, h):
            b, s, _ = h.shape
            q, k, v = (t.view(b, s, heads, d // heads).transpose(1, 2) for t in self.qkv(self.ln1(h)).split(d, -1))
            att = (q @ k.transpose(-1, -2)) / math.sqrt(d // heads)
            att = att.masked_fill(torch.ones(s, s, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
            h = h + self.proj((att @ v).transpose(1, 2).reshape(b, s, d))
            return h + self.ffn2(torch.nn.functional.gelu(self.ffn1(self.ln2(h))))

    class CharLm(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.pos = nn.Embedding(vocab, d), nn.Parameter(torch.zeros(ctx, d))
            self.blocks = nn.ModuleList(Block() for _ in range(2))
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

        def forward(self, ids):
            h = self.emb(ids) + self.pos[: ids.shape[1]]
            for blk in self.blocks:
                h = blk(h)
            return self.head(self.ln(h))

    torch.manual_seed(seed)
    model = CharLm()

    def windows(source, starts):
        return (torch.stack([source[s:s + ctx] for s in starts.tolist()]),
                torch.stack([source[s + 1:s + ctx + 1] for s in starts.tolist()]))

    def batches(steps, g):
        for _ in range(steps):
            yield windows(train, torch.randint(len(train) - ctx - 1, (16,), generator=g))

    def loss(model, batch):
        logits = model(batch[0])
        return torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), batch[1].reshape(-1))

    starts = torch.arange(0, len(held) - ctx - 1, ctx)

    def metric(model):
        with torch.no_grad():
            total, n = 0.0, 0
            for i in range(0, len(starts), 64):
                xb, yb = windows(held, starts[i:i + 64])
                total += float(torch.nn.functional.cross_entropy(model(xb).reshape(-1, vocab), yb.reshape(-1),
                                                                 reduction="sum"))
                n += yb.numel()
            return math.exp(total / n)

    prunable = [m for blk in model.blocks for m in (blk.qkv, blk.proj, blk.ffn1, blk.ffn2)]
    return {"model": model, "prunable": prunable, "batches": batches, "loss": loss, "metric": metric,
            "metric_name": "perplexity", "higher_better": False, "train_steps": 60 if quick else 1500,
            "tune_steps": 20 if quick else 150, "lr": 3e-3}


TASKS = {"digits-mlp": digits_task, "gpl-charlm": charlm_task}


# ----------------------------------------------------------------------------------------------
# Training with masks


def train(torch, task, steps, seed, masks=None, decay=None):
    """Adam on the task's loss; with masks, each prunable weight is used as w * (m + lam (1 - m)),
    lam = decay (0 when None): the pruned weights are out of the forward pass (and get no gradient)."""
    model = task["model"]
    opt = torch.optim.Adam(model.parameters(), lr=task["lr"])
    g = torch.Generator().manual_seed(50_000 + seed)
    originals = [layer.weight for layer in task["prunable"]]
    lam = 0.0 if decay is None else decay
    for batch in task["batches"](steps, g):
        if masks is not None:
            for layer, w, m in zip(task["prunable"], originals, masks):
                del layer.weight
                layer.weight = w * (m + lam * (1 - m))
        loss = task["loss"](model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if masks is not None:
            for layer, w in zip(task["prunable"], originals):
                del layer.weight
                layer.weight = w


def set_state(model, state):
    model.load_state_dict({k: v.clone() for k, v in state.items()})


def apply_masks(torch, task, masks):
    with torch.no_grad():
        for layer, m in zip(task["prunable"], masks):
            layer.weight.mul_(m)


def evaluate(task):
    task["model"].eval()
    value = task["metric"](task["model"])
    task["model"].train()
    return value


def run_task(torch, np, name, seed, patterns, masker, quick, progress):
    task = TASKS[name](torch, np, seed, quick)
    model = task["model"]
    train(torch, task, task["train_steps"], seed)
    dense_state = {k: v.clone() for k, v in model.state_dict().items()}
    rows = []
    for pattern in patterns:
        for recipe in RECIPES:
            # Dense runs every recipe too (its mask keeps everything): the baseline with the same
            # extra fine-tuning steps as the pruned models, so that a gain from training longer is
            # not read as a gain from pruning.
            set_state(model, dense_state)
            if recipe == "decay":
                phases = 4
                for p in range(phases):
                    masks = [masker.mask(torch, np, layer.weight, pattern) for layer in task["prunable"]]
                    lam = 1.0 - (p + 1) / phases  # 0.75, 0.5, 0.25, then the hard mask
                    train(torch, task, task["tune_steps"] // phases, seed + 7 * p, masks, decay=lam)
                masks = [masker.mask(torch, np, layer.weight, pattern) for layer in task["prunable"]]
                apply_masks(torch, task, masks)
            else:
                masks = [masker.mask(torch, np, layer.weight, pattern) for layer in task["prunable"]]
                apply_masks(torch, task, masks)
                if recipe == "retrain":
                    train(torch, task, task["tune_steps"], seed, masks)
                    apply_masks(torch, task, masks)
            kept = sum(float(m.sum()) for m in masks)
            total = sum(m.numel() for m in masks)
            rows.append({"model": name, "pattern": pattern, "recipe": recipe, "seed": seed,
                         "density": kept / total, "metric": task["metric_name"], "value": evaluate(task)})
            progress()
    return rows


# ----------------------------------------------------------------------------------------------
# Hardware side


def simulate(stcsim, config, trace, patterns, tmp):
    out = os.path.join(tmp, "sim")
    cmd = [stcsim, "run", "--config", config, "--trace", trace, "--out", out]
    for p in patterns:
        cmd += ["--pattern", p]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise StudyError(f"stcsim run: {r.stderr.strip()}")
    time_s, energy = {}, {}
    with open(os.path.join(out, "results.csv"), newline="") as f:
        for row in csv.DictReader(f):
            time_s[row["run"]] = time_s.get(row["run"], 0.0) + float(row["time_s"])
            energy[row["run"]] = energy.get(row["run"], 0.0) + float(row["energy_j"])
    canonical = list(time_s)  # in --pattern order, as stcsim names them
    if len(canonical) != len(patterns):
        raise StudyError(f"stcsim run gave {len(canonical)} runs for {len(patterns)} patterns")
    base = canonical[0]
    return {p: (time_s[base] / time_s[c], energy[c] / energy[base]) for p, c in zip(patterns, canonical)}


# ----------------------------------------------------------------------------------------------
# Outputs


def summarize(rows, hw):
    groups = {}
    for r in rows:
        groups.setdefault((r["model"], r["pattern"], r["recipe"]), []).append(r)
    out = []
    for (model, pattern, recipe), rs in groups.items():
        values = [r["value"] for r in rs]
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        speedup, energy = hw[pattern]
        out.append({"model": model, "pattern": pattern, "recipe": recipe, "seeds": len(values),
                    "density": sum(r["density"] for r in rs) / len(rs), "metric": rs[0]["metric"], "mean": mean,
                    "std": sd, "speedup": speedup, "energy_ratio": energy})
    return out


def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    os.replace(tmp, path)


def pareto(points, higher_better):
    """Indices of points (speedup, value) no other point beats on both (faster and better)."""
    front = []
    for i, (s, v) in enumerate(points):
        dominated = any((s2 >= s and (v2 >= v if higher_better else v2 <= v)) and (s2, v2) != (s, v)
                        for s2, v2 in points)
        if not dominated:
            front.append(i)
    return front


def plot(summary, path, trace_name, config_name):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = list(dict.fromkeys(r["model"] for r in summary))
    fig, axes = plt.subplots(1, len(models), figsize=(7.5 * len(models), 6.2))
    axes = axes if len(models) > 1 else [axes]
    styles = {"oneshot": ("o", "tab:gray"), "retrain": ("s", "tab:blue"), "decay": ("^", "tab:orange")}
    for ax, model in zip(axes, models):
        rows = [r for r in summary if r["model"] == model]
        higher = rows[0]["metric"] == "accuracy"
        dense = next(r for r in rows if r["pattern"] == "dense" and r["recipe"] == "oneshot")
        dense_tuned = next((r for r in rows if r["pattern"] == "dense" and r["recipe"] == "retrain"), None)
        for recipe in RECIPES:
            rs = [r for r in rows if r["recipe"] == recipe and r["pattern"] != "dense"]
            marker, color = styles[recipe]
            ax.errorbar([r["speedup"] for r in rs], [r["mean"] for r in rs], yerr=[r["std"] for r in rs],
                        fmt=marker, color=color, alpha=0.8, capsize=2, label=f"{recipe} (mean +- sd over seeds)")
        best = [r for r in rows if r["pattern"] != "dense" and r["recipe"] in ("retrain", "decay")]
        by_pattern = {}
        for r in best:
            cur = by_pattern.get(r["pattern"])
            if cur is None or (r["mean"] > cur["mean"] if higher else r["mean"] < cur["mean"]):
                by_pattern[r["pattern"]] = r
        pts = list(by_pattern.values())
        front = sorted((pts[i] for i in pareto([(p["speedup"], p["mean"]) for p in pts], higher)),
                       key=lambda r: r["speedup"])
        ax.plot([r["speedup"] for r in front], [r["mean"] for r in front], "-", color="tab:green", lw=1.5,
                label="Pareto front (best of retrain, decay)")
        ax.axhline(dense["mean"], color="black", ls="--", lw=1, label=f"dense, trained ({dense['mean']:.4g})")
        if dense_tuned is not None:
            ax.axhline(dense_tuned["mean"], color="black", ls=":", lw=1.2,
                       label=f"dense, fine-tuned as the retrained ones ({dense_tuned['mean']:.4g})")
        # Labels on the front only, alternating above and below so that they do not overlap.
        for i, r in enumerate(front):
            ax.annotate(r["pattern"], (r["speedup"], r["mean"]), textcoords="offset points",
                        xytext=(6, 10 if i % 2 == 0 else -16), fontsize=8, color="tab:green")
        ax.set_xlabel(f"simulated speedup over dense ({trace_name} on {config_name})")
        ax.set_ylabel("held-out accuracy (fraction)" if higher else "held-out perplexity per character (lower is better)")
        ax.set_title(f"{model}: {rows[0]['metric']} against speedup, per pattern and recipe")
        if not higher:
            ax.set_yscale("log")  # one-shot perplexities reach 8x the retrained ones
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left" if higher else "upper left")
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=110)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


def git_commit():
    """HEAD's short hash, marked when the working tree differs from it (the figures then come from
    uncommitted code)."""
    try:
        r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "sim", "scripts"],
                               capture_output=True, text=True).stdout.strip()
        return (r.stdout.strip() or "unknown") + (" with uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def write_readme(path, summary, command, seconds, trace_name, config_name):
    lines = ["# Accuracy against speedup per sparsity pattern", "",
             f"Produced by `{command}` at commit {git_commit()} on {platform.machine()} "
             f"({os.cpu_count()} cores) in {seconds / 60:.1f} min. Recipes and models: the docstring of "
             "`scripts/accuracy_study.py`. Speedup and energy ratio: the whole trace "
             f"`{trace_name}` on `{config_name}` with that pattern on every weight GEMM, against dense.", ""]
    for model in dict.fromkeys(r["model"] for r in summary):
        rows = [r for r in summary if r["model"] == model]
        metric = rows[0]["metric"]
        lines += [f"## {model} ({metric})", "",
                  f"| pattern | density | speedup | energy | oneshot | retrain | decay |",
                  "|---|---|---|---|---|---|---|"]
        for pattern in dict.fromkeys(r["pattern"] for r in rows):
            cell = {r["recipe"]: r for r in rows if r["pattern"] == pattern}
            first = next(iter(cell.values()))

            def fmt(recipe):
                r = cell.get(recipe)
                return "" if r is None else f"{r['mean']:.4f} +- {r['std']:.4f}"
            lines.append(f"| `{pattern}` | {first['density']:.3f} | {first['speedup']:.3f}x | "
                         f"{first['energy_ratio']:.3f} | {fmt('oneshot')} | {fmt('retrain')} | {fmt('decay')} |")
        lines.append("")
    lines += ["![accuracy against speedup](pareto.png)", ""]
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(path + ".tmp", path)


def main(argv):
    p = argparse.ArgumentParser(prog="accuracy_study.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "plots", "accuracy"))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--stcsim", default=os.path.join(ROOT, "build", "stcsim"))
    p.add_argument("--config", default=os.path.join(ROOT, "configs", "h100.yaml"))
    p.add_argument("--trace", default=os.path.join(ROOT, "traces", "bert-base_b32_s128.trace"))
    p.add_argument("--models", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)}")
    p.add_argument("--quick", action="store_true", help="1 seed, few steps, 4 patterns (a test)")
    a = p.parse_args(argv)
    if a.seeds < 1:
        raise StudyError("--seeds must be >= 1")
    models = [m for m in a.models.split(",") if m]
    for m in models:
        if m not in TASKS:
            raise StudyError(f"--models: '{m}' is not one of {', '.join(TASKS)}")
    if not os.access(a.stcsim, os.X_OK):
        raise StudyError(f"--stcsim {a.stcsim}: not an executable (build it with scripts/build.sh)")
    for what, path in (("--config", a.config), ("--trace", a.trace)):
        if not os.path.isfile(path):
            raise StudyError(f"{what} {path}: no such file")
    script_main.need_modules("accuracy_study.py", ["torch", "numpy", "sklearn", "matplotlib"])
    import numpy as np
    import torch
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    torch.use_deterministic_algorithms(True)
    patterns = QUICK_PATTERNS if a.quick else [s for s, _ in PATTERNS]
    seeds = 1 if a.quick else a.seeds
    try:
        os.makedirs(a.out, exist_ok=True)
    except OSError as e:
        raise StudyError(f"--out {a.out}: {e.strerror}") from None
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        hw = simulate(a.stcsim, a.config, a.trace, patterns, tmp)
        masker = Masker(a.stcsim, tmp)
        total = len(models) * seeds * len(patterns) * len(RECIPES)
        done = [0]

        def progress():
            done[0] += 1
            elapsed = time.time() - started
            eta = elapsed / done[0] * (total - done[0])
            print(f"\r[{done[0]}/{total}] {elapsed:.0f} s elapsed, about {eta:.0f} s left   ", end="",
                  file=sys.stderr, flush=True)

        rows = []
        for model in models:
            for seed in range(seeds):
                rows += run_task(torch, np, model, seed, patterns, masker, a.quick, progress)
        print("", file=sys.stderr)
    summary = summarize(rows, hw)
    write_csv(os.path.join(a.out, "runs.csv"), rows)
    write_csv(os.path.join(a.out, "summary.csv"), summary)
    trace_name = os.path.relpath(a.trace, ROOT)
    config_name = os.path.relpath(a.config, ROOT)
    plot(summary, os.path.join(a.out, "pareto.png"), trace_name, config_name)
    command = "scripts/accuracy_study.py" + ("".join(" " + x for x in argv) if argv else "")
    write_readme(os.path.join(a.out, "README.md"), summary, command, time.time() - started, trace_name, config_name)
    print(f"wrote {a.out}/runs.csv, summary.csv, pareto.png and README.md ({len(rows)} runs, "
          f"{masker.calls} stcsim prune masks, {time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    script_main.run(lambda: main(sys.argv[1:]), "accuracy_study.py", (StudyError,))
