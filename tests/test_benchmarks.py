"""Smoke tests of the benchmark suite: each main() runs at tiny sizes and writes the JSON keys RESULTS.md needs.

No speed is asserted (numbers at these sizes mean nothing); the device dispatch and its error are tested.
"""
import argparse
import importlib
import json
import os
import sys

import numpy as np
import pytest

from benchmarks import common, memory, run_all
from minigrad.backend import cupy_available

MODULES = ("epoch", "ops", "overhead", "memory", "scaling", "subnormal", "rng", "breakdown", "peers")
TINY = {
    "epoch": ["--rounds", "1", "--warmup", "0", "--n", "50", "--data", "random"],
    "ops": ["--rounds", "1", "--warmup", "0", "--iters", "1", "--batch-size", "4"],
    "overhead": ["--rounds", "2", "--warmup", "0", "--iters", "2"],
    "memory": ["--n", "50", "--no-tracemalloc", "--data", "random"],
    "scaling": ["--rounds", "1", "--warmup", "0", "--n", "32", "--data", "random", "--n-small", "4",
                "--small-below", "8", "--batch-sizes", "1", "16", "--widths", "8", "16"],
    "subnormal": ["--rounds", "1", "--warmup", "0", "--iters", "1", "--n", "2000", "--frac", "0.25"],
    "rng": ["--rounds", "1", "--warmup", "0", "--iters", "1", "--n", "1000"],
    "breakdown": ["--rounds", "2", "--warmup", "0", "--steps", "2", "--n", "90", "--batch-size", "30", "--sizes",
                  "784", "16", "10", "--data", "random"],
    "peers": ["--rounds", "2", "--warmup", "0", "--steps", "2", "--n", "100", "--batch-sizes", "4", "--wide", "0",
              "--data", "random"],  # every installed engine, one configuration: each worker costs seconds to start
}


def _gpu_usable():
    if not cupy_available():
        return False
    import torch

    return torch.cuda.is_available()


@pytest.fixture(scope="session")
def suite(tmp_path_factory):
    """Run every benchmark once at tiny sizes into one folder; name -> parsed JSON, plus the folder."""
    out = tmp_path_factory.mktemp("bench_out")
    data = {}
    for name in MODULES:
        argv = TINY[name] + ["--json", str(out / f"{name}.json")]
        if name == "scaling":
            argv += ["--plot", str(out / "scaling.png")]
        importlib.import_module(f"benchmarks.{name}").main(argv)
        with open(out / f"{name}.json") as f:
            data[name] = json.load(f)
    return out, data


@pytest.mark.parametrize("name", MODULES + ("run_all",))
def test_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        importlib.import_module(f"benchmarks.{name}").main(["--help"])
    assert e.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.skipif(_gpu_usable(), reason="a GPU is present: --device cuda would run, not fail")
@pytest.mark.parametrize("name", MODULES + ("run_all",))
def test_cuda_without_gpu_fails_clearly(name, tmp_path, capsys):
    argv = ["--device", "cuda"] + (["--out-dir", str(tmp_path)] if name == "run_all" else [])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(f"benchmarks.{name}").main(argv)
    msg = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in msg
    assert "--device cuda" in msg and "GPU" in msg and "--device cpu" in msg


def test_require_device_dispatch(monkeypatch):
    import torch

    import minigrad.backend

    assert common.require_device("cpu") is None and common.sync_for("cpu") is None
    monkeypatch.setattr(minigrad.backend, "cupy_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(common.UsageError, match="torch .* sees no CUDA GPU"):
        common.require_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert common.require_device("cuda") is None  # both engines see a GPU: no error
    monkeypatch.setattr(minigrad.backend, "cupy_available", lambda: False)
    with pytest.raises(common.UsageError, match="CuPy"):
        common.require_device("cuda")


def test_summary_ratio_is_pairwise():
    res = common.summary({"minigrad": [1.0, 4.0, 3.0], "torch": [2.0, 2.0, 1.0]})
    assert res["minigrad"]["median_s"] == 3.0 and res["torch"]["median_s"] == 2.0
    assert res["minigrad"]["ratio_median"] == 2.0  # ratios 0.5, 2, 3: not 3.0 / 2.0
    assert (res["minigrad"]["ratio_min"], res["minigrad"]["ratio_max"]) == (0.5, 3.0)
    assert "ratio_median" not in res["torch"]


def test_command_quotes_arguments():
    assert common.command("ops", ["--ops", "relu", "--json", "a b.json"]) == \
        "python -m benchmarks.ops --ops relu --json 'a b.json'"


@pytest.mark.parametrize("name", MODULES)
def test_json_common_keys(suite, name):
    d = suite[1][name]
    assert {"command", "machine", "args"} <= set(d)
    assert d["command"].startswith(f"python -m benchmarks.{name} ")
    assert {"date", "cpu", "cores", "numpy", "torch", "blas", "minigrad_kernels"} <= set(d["machine"])
    assert d["args"]["device"] == "cpu"


def test_epoch_times_the_numpy_update_too_when_kernels_run(suite):
    from minigrad import kernels

    res = suite[1]["epoch"]["results"]
    assert ("minigrad_numpy_update" in res) == kernels.available()
    if "minigrad_numpy_update" in res:
        assert "ratio_median" in res["minigrad_numpy_update"]
        lines = run_all.section_rows("epoch", suite[1]["epoch"])[0]
        assert [h[0] for h in lines] == ["MNIST MLP epoch, s", "same, fused kernels off, s"]


def test_ops_json(suite):
    res = suite[1]["ops"]["results"]
    from benchmarks.ops import ALL

    assert set(res) == set(ALL)
    for row in res.values():
        assert {"median_us", "min_us", "max_us", "ratio_median", "ratio_min", "ratio_max"} <= set(row["minigrad"])
        assert row["torch"]["median_us"] > 0 and row["minigrad"]["rounds"] == 1


def test_overhead_json(suite):
    d = suite[1]["overhead"]
    assert d["args"]["sizes"] == [4, 8, 3] and d["args"]["batch_size"] == 1
    assert len(d["times"]["minigrad"]) == 2 and {"median_us", "ratio_median"} <= set(d["results"]["minigrad"])


def test_memory_json(suite):
    d = suite[1]["memory"]
    for engine in ("minigrad", "torch"):
        run = d["runs"][engine][0]
        assert run["engine"] == engine and {"rss_baseline", "rss_hwm", "rss_growth", "hwm_reset"} <= set(run)
        assert run["rss_growth"] == run["rss_hwm"] - run["rss_baseline"]
        assert "gpu_peak_growth" not in run  # CPU run
        assert run["library_rss"] > 0  # importing either engine costs memory, reported beside the epoch's
    assert {"median", "min", "max", "ratio_median"} <= set(d["results"]["minigrad"]["rss_growth"])
    assert "ratio_median" in d["results"]["minigrad"]["library_rss"]
    heads = [h[0] for h in run_all.section_rows("memory", d)[0]]
    assert "library import (RSS), MiB" in heads and "epoch peak rss_growth, MiB" in heads


def test_memory_tracemalloc_in_child(capsys):
    memory.main(["--child", "minigrad", "--n", "20", "--data", "random"])
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(memory.MARK)][-1]
    out = json.loads(line[len(memory.MARK):])
    assert out["tracemalloc_peak"] > 0  # numpy buffers are seen by tracemalloc


def test_memory_peak_counter_and_summary():
    c = memory.PeakCounter()
    c.malloc_postprocess(0, 100, 512, 1, 1)
    c.malloc_postprocess(0, 100, 1024, 2, 2)
    c.free_postprocess(0, 512, 1, 1)
    c.malloc_postprocess(0, 10, 512, 3, 3)
    assert (c.used, c.peak) == (1536, 1536)
    runs = {"minigrad": [{"rss_growth": 10}, {"rss_growth": 30}], "torch": [{"rss_growth": 20}, {"rss_growth": 10}]}
    res = memory.summarize(runs)
    assert res["minigrad"]["rss_growth"]["ratio_median"] == pytest.approx(1.75)  # mean of 0.5 and 3
    assert res["torch"]["rss_growth"]["median"] == 15


def test_scaling_json_and_plot(suite):
    out, data = suite
    d = data["scaling"]
    assert [p["batch_size"] for p in d["batch"]] == [1, 16]
    assert [p["n_used"] for p in d["batch"]] == [4, 32]  # --n-small only below --small-below
    assert [p["sizes"] for p in d["width"]] == [[784, 8, 8, 10], [784, 16, 16, 10]]
    for p in d["batch"] + d["width"]:
        assert set(p["results"]) == {"minigrad", "torch", "gemm_floor"}
        assert "epoch_s" in p["results"]["gemm_floor"] and "ratio_median" in p["results"]["minigrad"]
    assert os.path.getsize(out / "scaling.png") > 1000


def test_subnormal_json(suite):
    d = suite[1]["subnormal"]
    assert 0.15 < d["subnormal_fraction"] < 0.35
    assert d["subnormal_per_parameter"] == [{"shape": [2000], "fraction": d["subnormal_fraction"]}]
    for engine in ("minigrad", "torch", "divide"):
        row = d["results"][engine]
        assert {"slowdown_median", "slowdown_min", "slowdown_max"} <= set(row)
        assert row["subnormal"]["median_us"] > 0 and row["flushed"]["median_us"] > 0


def test_subnormal_arrays_differ_only_where_m_is_subnormal_and_g_zero():
    from benchmarks import subnormal

    [(w, g, m, v)] = subnormal.synthetic(5000, 0.3)
    [(w2, g2, m2, v2)] = subnormal.flush([(w, g, m, v)])
    tiny = np.finfo(np.float32).tiny
    sub = (m != 0) & (np.abs(m) < tiny)
    assert m.dtype == np.float32 and 0.25 < sub.mean() < 0.35 and (m[sub] < 0).any() and (m[sub] > 0).any()
    assert (g[sub] == 0).all() and (np.abs(m[~sub]) >= tiny).all()
    assert (m2[sub] == 0).all() and np.array_equal(m2[~sub], m[~sub])
    assert w2 is w and g2 is g and v2 is v
    assert subnormal.subnormal_count(m) == sub.sum() and subnormal.subnormal_count(m2) == 0


def test_subnormal_conditions_hold_while_stepping():
    """The timed steps keep each condition: subnormal entries stay subnormal, flushed ones stay 0 (both engines)."""
    from benchmarks import subnormal

    params = subnormal.synthetic(3000, 0.2)
    for state in (params, subnormal.flush(params)):
        want = subnormal.subnormal_count(state[0][2])
        steps = subnormal.adam_steppers("cpu", state)
        for _ in range(30):
            steps["minigrad"](), steps["torch"]()
        mg_m = steps["minigrad"].__self__.state
        t_m = steps["torch"].__self__.state
        for st in list(mg_m.values()) + list(t_m.values()):
            m = np.asarray(st["exp_avg"].numpy() if hasattr(st["exp_avg"], "numpy") else st["exp_avg"].array)
            assert subnormal.subnormal_count(m) == want


def test_subnormal_train_epochs_refuses_random_data(tmp_path, capsys):
    from benchmarks import subnormal

    with pytest.raises(SystemExit) as e:
        subnormal.main(["--train-epochs", "1", "--data", "random", "--json", str(tmp_path / "s.json")])
    msg = capsys.readouterr().err
    assert e.value.code == 2 and "MNIST" in msg and "--data random" in msg


def test_results_md_is_built_from_json(suite, tmp_path):
    out, data = suite
    text = run_all.main(["--report-only", "--out-dir", str(out), "--results", str(tmp_path / "RESULTS.md")])
    assert (tmp_path / "RESULTS.md").read_text() == text
    for name in MODULES:
        assert f"## {name} (cpu)" in text and f"`{data[name]['command']}`" in text
    assert data["ops"]["machine"]["cpu"] in text and data["ops"]["machine"]["date"] in text
    adam = data["ops"]["results"]["adam"]["minigrad"]
    assert f"{adam['ratio_median']:.3g} ({adam['ratio_min']:.3g}-{adam['ratio_max']:.3g})" in text


def test_run_all_plan_and_run(tmp_path):
    args = argparse.Namespace(only=None, quick=True, device="cuda", out_dir=str(tmp_path))
    plan = run_all.plan(args)
    assert [n for n, _ in plan] == [n for n in run_all.NAMES if n not in run_all.CPU_ONLY]  # rng, breakdown, peers
    for name, argv in plan:
        assert argv[argv.index("--device") + 1] == "cuda"
        assert argv[argv.index("--json") + 1] == str(tmp_path / f"{name}_cuda.json")
    text = run_all.main(["--only", "overhead", "--quick", "--in-process", "--out-dir", str(tmp_path),
                         "--results", str(tmp_path / "R.md")])
    assert os.path.exists(tmp_path / "overhead.json") and "## overhead (cpu)" in text


def test_breakdown_json(suite):
    """Every part for both kernel settings; the derived rows are the measured series' arithmetic, round by round."""
    from benchmarks import breakdown

    d = suite[1]["breakdown"]
    assert d["args"]["sizes"] == [784, 16, 10] and d["batches"] == 3
    assert set(d["results"]) == {"on", "off"}
    for mode, prefix in (("on", ""), ("off", "off: ")):
        rows, times = d["results"][mode], {k: d["times"][prefix + k] for k in breakdown.WHAT
                                           if k not in breakdown.DERIVED}
        assert set(rows) == set(breakdown.WHAT) and all(len(t) == 2 for t in times.values())
        assert rows["step"]["share"] == 1.0
        for k, row in rows.items():
            assert row["min_ms"] <= row["median_ms"] <= row["max_ms"] and row["how"] == breakdown.WHAT[k]
            assert row["share"] == pytest.approx(row["median_ms"] / rows["step"]["median_ms"])
        ms = {k: [t * 1e3 / 2 for t in v] for k, v in times.items()}
        per_round = [ms["step"][r] - ms["mirror"][r] for r in range(2)]
        assert rows["Python overhead"]["median_ms"] == pytest.approx(sum(per_round) / 2)
        rest = [ms["mirror with out="][r] - sum(ms[p][r] for p in breakdown.PARTS) for r in range(2)]
        assert (rows["rest of the mirror"]["min_ms"], rows["rest of the mirror"]["max_ms"]) == \
            pytest.approx((min(rest), max(rest)))
    heads = [h[0] for h in run_all.section_rows("breakdown", d)[0]]
    assert "step breakdown: matrix products, ms" in heads and "step breakdown: Python overhead, ms" in heads


@pytest.mark.parametrize("fused", [True, False], ids=["kernels on", "kernels off"])
@pytest.mark.parametrize("batch_size", [100, 1])
def test_breakdown_mirror_is_the_engine_step(fused, batch_size, monkeypatch):
    """The mirror makes the engine's calls: the same loss and the same parameters, bit for bit, step after step
    (its out= twin too), and the same kernel calls (ReLU both ways, Adam, the outer product of a one-row batch)."""
    import contextlib

    import numpy as np

    import minigrad
    from benchmarks.breakdown import Mirror
    from benchmarks.epoch import build_mlp
    from minigrad import kernels

    calls = {}
    for name in ("relu", "relu_backward", "run", "weight_grad"):
        def counted(*a, _name=name, _fn=getattr(kernels, name)):
            calls[_name] = calls.get(_name, 0) + 1
            return _fn(*a)

        monkeypatch.setattr(kernels, name, counted)
    with contextlib.nullcontext() if fused else kernels.disabled():
        minigrad.manual_seed(0)
        model = build_mlp(minigrad.nn)
        opt, loss_fn = minigrad.optim.Adam(model.parameters(), lr=1e-3), minigrad.nn.CrossEntropyLoss()
        params = [p.array for p in model.parameters()]
        mirrors = Mirror(params, batch_size), Mirror(params, batch_size, out=True)
        rng = np.random.default_rng(1)
        for _ in range(3):
            x, t = rng.random((batch_size, 784), dtype=np.float32), rng.integers(0, 10, batch_size)
            calls.clear()
            loss = loss_fn(model(minigrad.tensor(x)), minigrad.tensor(t))
            opt.zero_grad()
            loss.backward()
            opt.step()
            engine_calls = dict(calls)
            calls.clear()
            got = [mirrors[0].step(x, t)]
            assert calls == engine_calls
            assert (bool(calls.get("relu")), bool(calls.get("weight_grad"))) == (fused, fused and batch_size == 1)
            got.append(mirrors[1].step(x, t))
            for m, value in zip(mirrors, got):
                assert value.dtype == np.float32 and np.asarray(value).tobytes() == loss.array.tobytes()
                for p, q in zip(model.parameters(), m.params):
                    assert q.dtype == p.dtype and q.tobytes() == p.array.tobytes()
# ---- benchmarks.peers ------------------------------------------------------------------------------------------------
PEERS_TINY = ["--rounds", "1", "--warmup", "0", "--steps", "2", "--n", "100", "--data", "random"]


def _peers(tmp_path, argv):
    from benchmarks import peers

    peers.main(PEERS_TINY + argv + ["--json", str(tmp_path / "peers.json")])
    with open(tmp_path / "peers.json") as f:
        return json.load(f)


def test_peers_json_every_engine_starts_from_the_same_loss(suite):
    from benchmarks import peers

    d = suite[1]["peers"]
    [c] = d["configs"]
    assert (c["batch_size"], c["sizes"]) == (4, [784, 500, 300, 10])
    runnable = [e for e in peers.ENGINES if peers.missing(e) is None and e not in d["skipped"]]
    assert {"minigrad", "torch", "matmul_floor"} <= set(c["results"]) == set(runnable)
    assert set(d["skipped"]) == {e for e in peers.ENGINES if peers.missing(e)}
    ref = c["reference_first_loss"]
    assert 2.0 < ref < 2.6  # ten classes, small random logits: about ln 10
    for e, row in c["results"].items():
        assert row["first_loss"] is None if e == "matmul_floor" else row["first_loss"] == pytest.approx(ref, rel=1e-5)
        assert row["rounds"] == 2 and len(c["times"][e]) == 2 and row["median_ms"] > 0
        assert ("ratio_median" in row) == (e != "torch") and d["versions"][e] == row["version"]
    head, lines = run_all.section_rows("peers", d)
    assert head[0][0] == "step, batch 4 784-500-300-10, ms" and head[0][3] == run_all._ratio(c["results"]["minigrad"])
    assert any(line.startswith("| jax |") for line in lines) == ("jax" in c["results"])


def test_peers_configurations_threads_and_reference_loss():
    import torch

    from benchmarks import peers

    args = argparse.Namespace(batch_sizes=[1, 100], wide=64)
    assert peers.configs(args) == [(1, (784, 500, 300, 10)), (100, (784, 500, 300, 10)), (100, (784, 64, 64, 10))]
    assert peers.configs(argparse.Namespace(batch_sizes=[8], wide=0)) == [(8, (784, 500, 300, 10))]
    assert peers.thread_env(0) == {} and peers.pin_cpus(0) is None and peers.pin_cpus(1) is None
    one, two = peers.thread_env(1), peers.thread_env(2)
    assert one["OMP_NUM_THREADS"] == one["OPENBLAS_NUM_THREADS"] == one["NUM_CPU_THREADS"] == "1"
    assert "--xla_cpu_multi_thread_eigen=false" in one["XLA_FLAGS"] and "XLA_FLAGS" not in two
    rng = np.random.default_rng(1)
    Ws = [(rng.standard_normal((5, 6)).astype(np.float32), rng.standard_normal(5).astype(np.float32)),
          (rng.standard_normal((3, 5)).astype(np.float32), rng.standard_normal(3).astype(np.float32))]
    x, y = rng.standard_normal((4, 6)).astype(np.float32), np.array([0, 2, 1, 2])
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)).double()
    with torch.no_grad():
        for p, a in zip(model.parameters(), [a for W in Ws for a in W]):
            p.copy_(torch.from_numpy(a))
    want = torch.nn.functional.cross_entropy(model(torch.from_numpy(x).double()), torch.from_numpy(y)).item()
    assert peers.reference_loss(Ws, x, y) == pytest.approx(want, rel=1e-12)
    peers.check_agreement({"a": want * (1 + 5e-6), "floor": None}, want)
    with pytest.raises(peers.EnginesDisagree, match="first loss b [0-9.]+, .*; a agree$"):
        peers.check_agreement({"a": want, "b": want * (1 + 1e-4)}, want)
    with pytest.raises(peers.EnginesDisagree, match="b nan"):
        peers.check_agreement({"a": want, "b": float("nan")}, want)


def test_peers_hand_written_adam_is_torchs():
    import torch

    from benchmarks.peers_engines import adam_numpy

    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 5))
    tw = torch.tensor(w, requires_grad=True)
    opt = torch.optim.Adam([tw], lr=1e-3)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, 6):
        g = rng.standard_normal(w.shape)
        tw.grad = torch.tensor(g)
        opt.step()
        adam_numpy([w], [g], [m], [v], t)
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-13, atol=1e-15)
    w32, m32, v32 = np.ones(4, np.float32), np.zeros(4, np.float32), np.zeros(4, np.float32)
    adam_numpy([w32], [w32.copy()], [m32], [v32], 1)
    assert w32.dtype == m32.dtype == v32.dtype == np.float32  # Python-float scalars: no float64 upcast


def test_peers_skips_a_missing_engine_and_reports_a_crashed_one(tmp_path, monkeypatch, capsys):
    """Neither stops the others: a missing engine is one line naming the extra; a crash, its stderr's last lines."""
    from benchmarks import peers, peers_engines

    monkeypatch.setitem(peers_engines.IMPORTS, "mygrad", "no_such_module_for_peers_test")
    real = peers.worker_command
    crash = [sys.executable, "-c", "import sys; sys.stderr.write('deliberate crash in a test\\n'); sys.exit(3)"]
    monkeypatch.setattr(peers, "worker_command", lambda e, setup: crash if e == "matmul_floor" else real(e, setup))
    d = _peers(tmp_path, ["--batch-sizes", "2", "--wide", "8", "--engines", "torch", "mygrad", "matmul_floor",
                          "--threads", "1"])
    out = capsys.readouterr()
    assert [ln for ln in out.out.splitlines() if "mygrad" in ln] == [
        "mygrad: skipped (no_such_module_for_peers_test is not installed: pip install -e '.[peers]')"]
    assert "Traceback" not in out.err + out.out and set(d["skipped"]) == {"mygrad"}
    assert out.out.count("matmul_floor: failed, worker exited 3") == 2 and "deliberate crash in a test" in out.out
    assert [c["sizes"] for c in d["configs"]] == [[784, 500, 300, 10], [784, 8, 8, 10]]
    for c in d["configs"]:  # the crashed engine is tried again in each configuration
        assert set(c["results"]) == {"torch"} and "deliberate crash" in c["failed"]["matmul_floor"]
        assert c["results"]["torch"]["info"].startswith("1 threads")  # --threads reached the worker
    lines = run_all.section_rows("peers", d)[1]
    assert "- matmul_floor failed: deliberate crash in a test" in lines and "- mygrad skipped: " + d["skipped"][
        "mygrad"] in lines


def test_peers_refuses_engines_that_disagree(tmp_path, monkeypatch, capsys):
    from benchmarks import peers

    real = peers.worker_command

    def torch_on_other_weights(engine, setup):
        if engine != "torch":
            return real(engine, setup)
        d = dict(np.load(setup))
        d["W0"] = d["W0"] * 1.5
        np.savez(str(tmp_path / "other.npz"), **d)
        return real(engine, str(tmp_path / "other.npz"))

    monkeypatch.setattr(peers, "worker_command", torch_on_other_weights)
    with pytest.raises(SystemExit) as e:
        peers.main(PEERS_TINY + ["--batch-sizes", "2", "--wide", "0", "--engines", "minigrad", "torch",
                                 "--json", str(tmp_path / "peers.json")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert "first loss torch " in err and "minigrad agree" in err
    assert not (tmp_path / "peers.json").exists()


@pytest.mark.parametrize("argv, words", [(["--device", "cuda"], ["--device cuda", "CPU", "--device cpu"]),
                                         (["--n", "50", "--batch-sizes", "8"], ["--n 50", "100"])])
def test_peers_refuses_before_starting(argv, words, tmp_path, capsys):
    from benchmarks import peers

    with pytest.raises(SystemExit) as e:
        peers.main(argv + ["--json", str(tmp_path / "p.json")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and all(w in err for w in words)
