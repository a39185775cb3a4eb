"""pytest tests of `import stcsim` (sim/python): simulations agree with the binary's results.csv,
repeat in one process, take GEMMs, traces and recorded models; prune gives the binary's masks;
loaders read what the command line writes; errors are stcsim.Error with the one-line message.
Run by ctest (python.api) with PYTHONPATH=build/python and STCSIM_BINARY set."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

import stcsim

BINARY = os.environ["STCSIM_BINARY"]
SOURCE = stcsim._SOURCE


def cli_rows(tmp_path, *args):
    out = tmp_path / "cli"
    subprocess.run([BINARY, "run", *args, "--out", str(out)], check=True, capture_output=True)
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f)), out


def test_gemm_runs_match_the_binary(tmp_path):
    res = stcsim.run(gemms=["1024x1024x1024"], patterns=["dense", "2:4"])
    assert [r["run"] for r in res.rows] == ["dense", "2:4"]
    rows, _ = cli_rows(tmp_path, "--gemm", "1024x1024x1024", "--pattern", "dense", "--pattern", "2:4")
    assert [int(r["cycles"]) for r in rows] == [r["cycles"] for r in res.rows]
    assert res.rows[1]["time_s"] < res.rows[0]["time_s"]
    totals = res.totals()
    assert totals["dense"]["cycles"] == res.rows[0]["cycles"]
    assert list(res.dataframe()["run"]) == ["dense", "2:4"]


def test_runs_repeat_in_one_process_and_are_deterministic():
    a = stcsim.run(gemms=[(4096, 4096, 512)], patterns=["2:4"], sets=["arch.sms=66"])
    b = stcsim.run(gemms=[(4096, 4096, 512)], patterns=["2:4"], sets=["arch.sms=66"])
    assert a.results_csv == b.results_csv
    c = stcsim.run(gemms=[(4096, 4096, 512)], patterns=["2:4"])
    assert c.rows[0]["cycles"] != a.rows[0]["cycles"]  # 132 SMs, not 66


def test_several_gemms_and_the_cycle_model():
    res = stcsim.run(gemms=[(256, 256, 256), {"layer": "attn", "m": 128, "n": 128, "k": 64, "sparse": "-", "count": 4}],
                     patterns=["dense"], model="cycle")
    assert [r["layer"] for r in res.rows] == ["gemm0", "attn"]
    assert res.rows[1]["count"] == 4
    assert "runs" in res.stats or res.stats  # the stats tree came back


def test_a_trace_and_a_recorded_model(tmp_path):
    res = stcsim.run(trace=os.path.join(SOURCE, "traces", "bert-base_b32_s128.trace"), patterns=["dense"])
    assert len(res.rows) == 6
    torch = pytest.importorskip("torch")
    sys.path.insert(0, os.path.join(SOURCE, "scripts"))
    import record_trace
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 64))
    rec = record_trace.record(model, torch.zeros(512, 64), name="mlp", pattern="2:4")
    path = tmp_path / "mlp.trace"
    path.write_text(rec.text())
    res = stcsim.run(trace=str(path))
    assert [(r["layer"], r["m"], r["n"], r["k"], r["pattern"]) for r in res.rows] == [
        ("mlp.0", 512, 256, 64, "2:4"), ("mlp.2", 512, 64, 256, "2:4")]


def test_errors_are_stcsim_errors_with_the_cli_message(tmp_path):
    with pytest.raises(stcsim.Error, match="arch.bogus: unknown key"):
        stcsim.run(gemms=["64x64x64"], sets=["arch.bogus=1"])
    with pytest.raises(stcsim.Error, match="N must be in 1..M-1"):
        stcsim.run(gemms=["64x64x64"], patterns=["4:2"])
    with pytest.raises(stcsim.Error, match="cannot open"):
        stcsim.run(trace=str(tmp_path / "nowhere.trace"))
    with pytest.raises(stcsim.Error, match="is not fast or cycle"):
        stcsim.run(gemms=["64x64x64"], model="slow")
    with pytest.raises(stcsim.Error, match="exactly one of trace and gemms"):
        stcsim.run()
    with pytest.raises(stcsim.Error, match="expected 'MxNxK'"):
        stcsim.run(gemms=["64x64", "1x2x3"])
    with pytest.raises(stcsim.Error, match="2-d array"):
        stcsim.prune(np.zeros(8), "2:4")
    with pytest.raises(stcsim.Error, match="unknown pattern 'zz'"):
        stcsim.prune(np.zeros((4, 8)), "zz")


def test_prune_gives_the_binarys_mask(tmp_path):
    w = np.random.default_rng(3).standard_normal((64, 128)).astype(np.float32)
    pr = stcsim.prune(w, "2:4")
    assert pr.mask.shape == (64, 128) and pr.mask.dtype == np.uint8
    assert (pr.mask.reshape(64, 32, 4).sum(axis=2) == 2).all()
    assert pr.stats["density"] == 0.5 and pr.stats["pattern"] == "2:4"
    assert "values.npy" in pr.arrays and "metadata.npy" in pr.arrays
    np.save(tmp_path / "w.npy", w)
    subprocess.run([BINARY, "prune", "--pattern", "2:4", "--npy", str(tmp_path / "w.npy"), "--out", str(tmp_path / "p")],
                   check=True, capture_output=True)
    assert (np.load(tmp_path / "p" / "mask.npy").astype(np.uint8) == pr.mask).all()
    assert (np.load(tmp_path / "p" / "values.npy") == pr.arrays["values.npy"]).all()
    tw = stcsim.prune(w, "tw(g=32,sparsity=0.5)")
    assert abs(tw.stats["density"] - 0.5) < 0.02


def test_loaders_read_what_the_command_line_writes(tmp_path):
    _, out = cli_rows(tmp_path, "--gemm", "256x256x256", "--pattern", "2:4")
    df = stcsim.load_results(str(out))
    assert list(df["run"]) == ["2:4"]
    stats = stcsim.load_stats(str(out / "stats.yaml"))
    assert isinstance(stats, dict) and stats
    with pytest.raises(stcsim.Error, match="no manifest.yaml"):
        stcsim.load_sweep(str(out))
    sweep = os.path.join(SOURCE, "tests", "sweep", "fixtures", "grid.yaml")
    subprocess.run([BINARY, "sweep", sweep, "--out", str(tmp_path / "sw"), "--jobs", "2"], check=True, capture_output=True)
    manifest, results = stcsim.load_sweep(str(tmp_path / "sw"))
    assert len(manifest["points"]) == 13 and len(results) > 0
    with pytest.raises(stcsim.Error, match="cannot read results"):
        stcsim.load_results(str(tmp_path / "nothing.csv"))
