"""Smoke tests of the experiments: each run() on a small slice, its metrics' structure and sanity, its files.

The training experiments need the data (MINIGRAD_DATA); without it they skip with the reason.
"""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["mnist_mlp", "fashion_mnist", "mnist_binary", "loss_curves", "backprop_walkthrough", "mnist_final"]
needs_data = pytest.mark.skipif(not os.environ.get("MINIGRAD_DATA"),
                                reason="MINIGRAD_DATA is not set: the MNIST / Fashion-MNIST files are needed")


def _files(path, *names):
    for name in names:
        f = path / name
        assert f.is_file() and f.stat().st_size > 0, f"{name} was not written"


def _finite(xs):
    return all(math.isfinite(float(x)) for x in xs)


@pytest.mark.parametrize("name", MODULES)
def test_help(name):
    r = subprocess.run([sys.executable, "-m", f"experiments.{name}", "--help"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "--engine" in r.stdout and "--out" in r.stdout and "--backend" in r.stdout


@needs_data
def test_mnist_mlp(tmp_path, backend):
    from experiments import mnist_mlp

    m = mnist_mlp.run(dict(limit=2000, epochs=1, out=str(tmp_path), no_progress=True, backend=backend))
    _files(tmp_path, "metrics.json", "error_curves.png")
    assert len(m["history"]["val_error"]) == 1
    assert m["test"]["n"] == 10000
    assert m["test"]["error_rate"] < 0.5  # chance is 0.9; one Adam epoch on 2,000 images does far better
    lo, hi = m["test"]["ci95_wilson"]
    assert lo <= m["test"]["error_rate"] <= hi


@needs_data
def test_fashion_mnist(tmp_path):
    from experiments import fashion_mnist

    m = fashion_mnist.run(dict(limit=2000, epochs=1, out=str(tmp_path), no_progress=True))
    _files(tmp_path, "metrics.json", "curves.png", "samples.png", "prediction.png", "confusion.png")
    assert json.loads((tmp_path / "metrics.json").read_text())["note"].startswith("trained 1 epochs")
    assert set(m["variants"]) == {"sgd", "adam"}
    assert m["classes"][9] == "Ankle boot"
    for r in m["variants"].values():
        h = r["history"]
        assert all(len(h[k]) == 1 for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"))
        assert _finite(h["train_loss"] + h["val_loss"])
        cm = np.asarray(r["test"]["confusion_matrix"])
        assert cm.shape == (10, 10) and cm.sum() == m["n_test"] == 10000
        assert math.isclose(np.trace(cm) / cm.sum(), r["test"]["accuracy"])
        ex = r["example"]
        assert ex["predicted"] in m["classes"] and math.isclose(sum(ex["probabilities"]), 1.0, rel_tol=1e-6)
        assert ex["probability"] == max(ex["probabilities"])
    # Adam at lr 1e-3 learns in 20 steps (chance is 0.1); plain SGD at lr 1e-3 barely moves (the course's point)
    assert m["variants"]["adam"]["test"]["accuracy"] > 0.4


@needs_data
def test_mnist_binary(tmp_path, backend):
    from experiments import mnist_binary

    # a high lr so two epochs on 3,000 images are enough to separate 1s from 7s
    m = mnist_binary.run(dict(limit=3000, epochs=2, lr=0.1, eval_every=1, out=str(tmp_path), no_progress=True,
                              backend=backend))
    _files(tmp_path, "metrics.json", "curves.png", "confusion.png")
    assert set(m["losses"]) == {"l1", "bce"}
    assert m["n_train"] == 3000
    # the test set's 1s (1135) and 7s (1028) split 50/50 per class into validation and test
    assert m["n_val"] + m["n_test"] == 1135 + 1028 and abs(m["n_val"] - m["n_test"]) <= 1
    for r in m["losses"].values():
        t = r["test"]
        assert t["tp"] + t["tn"] + t["fp"] + t["fn"] == m["n_test"]
        assert t["tp"] + t["fn"] == m["class_counts"]["test_pos"]
        assert math.isclose(t["accuracy"], (t["tp"] + t["tn"]) / m["n_test"])
        assert math.isclose(t["precision"], t["tp"] / (t["tp"] + t["fp"]))
        assert math.isclose(t["recall"], t["tp"] / (t["tp"] + t["fn"]))
        assert t["accuracy"] > 0.9
        assert r["history"]["epoch"] == [0, 1] and len(r["history"]["val_accuracy"]) == 2


@needs_data
def test_mnist_binary_torch_engine_single_loss(tmp_path):
    from experiments import mnist_binary

    m = mnist_binary.run(dict(engine="torch", losses=["bce"], limit=1000, epochs=1, lr=0.1, out=str(tmp_path),
                              no_progress=True))
    assert list(m["losses"]) == ["bce"] and m["config"]["engine"] == "torch"
    assert m["losses"]["bce"]["test"]["accuracy"] > 0.9


def test_mnist_binary_eval_schedule():
    from experiments.mnist_binary import CONFIG

    # the course's range(51) with evaluation every 5 epochs evaluates at 0, 5, ..., 50
    assert [e for e in range(CONFIG["epochs"]) if e % CONFIG["eval_every"] == 0] == list(range(0, 51, 5))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_curves(tmp_path, dtype):
    from experiments import loss_curves

    m = loss_curves.run(dict(dtype=dtype, out=str(tmp_path)))
    _files(tmp_path, "metrics.json", "losses.png", "gradients.png")
    assert m["all_match_torch"] and not m["failures"]
    tol = 1e-5 if dtype == "float32" else 1e-7  # assert_close's default atol; the curves are O(1) to O(100)
    for name in ("bce", "l1", "mse"):
        c = m["curves"][name]
        g = np.asarray(c["grad"])
        assert c["max_abs_diff_torch"]["loss"] <= tol
        assert c["max_abs_diff_torch"]["grad"] <= tol * max(1.0, np.abs(g).max())
        assert np.all(np.diff(c["loss"]) >= 0)  # target 0: every loss grows with p
    bce = m["curves"]["bce"]
    assert 0 < bce["p"][0] and bce["p"][-1] < 1  # open interval for BCE
    np.testing.assert_allclose(m["curves"]["mse"]["grad"], 2 * np.asarray(m["curves"]["mse"]["p"]), rtol=1e-6)
    l1 = np.asarray(m["curves"]["l1"]["grad"])
    assert l1[0] == 0 and np.all(l1[1:] == 1)  # |p|' = sign(p), 0 at the kink as torch


def test_loss_curves_fail_loudly(tmp_path, monkeypatch):
    from experiments import loss_curves

    real = loss_curves.loss_and_grad

    def wrong(E, name, p, target, dtype):  # a minigrad whose MSE gradient is off by 1e-3
        value, grad = real(E, name, p, target, dtype)
        return value, grad + (1e-3 if (E.name == "minigrad" and name == "mse") else 0.0)

    monkeypatch.setattr(loss_curves, "loss_and_grad", wrong)
    with pytest.raises(AssertionError, match="mse grad"):
        loss_curves.run(dict(out=str(tmp_path)))
    assert json.loads((tmp_path / "metrics.json").read_text())["all_match_torch"] is False


@pytest.mark.parametrize("engine", ["minigrad", "torch"])
def test_backprop_walkthrough(tmp_path, engine, capsys):
    from experiments import backprop_walkthrough as bw

    m = bw.run(dict(engine=engine, out=str(tmp_path)))
    _files(tmp_path, "walkthrough.txt", "walkthrough.json")
    printed = capsys.readouterr().out
    assert "dL/dz = (p - y) / N" in printed and "dL/dW1 = (dL/dh)^T X" in printed
    assert (tmp_path / "walkthrough.txt").read_text().strip() == printed.strip()
    p1, p2 = m["part1_softmax_ce"], m["part2_mlp"]
    assert set(p2) >= {"h", "a", "z", "p", "loss", "dL/dz", "dL/dW2", "dL/db2", "dL/da", "dL/dh", "dL/dW1",
                       "dL/db1", "dL/dX"}
    for rec in [*p1.values(), *p2.values()]:  # autograd == hand formula == torch, in float64
        np.testing.assert_allclose(rec["engine"], rec["hand"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(rec["torch"], rec["hand"], rtol=1e-12, atol=1e-12)
    assert m["max_abs_diff"] < 1e-12
    # the worked example itself: 3 samples, 4 classes, gradient rows sum to 0, loss the mean of -log p_k
    z, p = np.asarray(p1["z"]["hand"]), np.asarray(p1["p"]["hand"])
    assert z.shape == (3, 4) and np.allclose(p.sum(1), 1)
    assert np.allclose(np.asarray(p1["dL/dz"]["hand"]).sum(1), 0)
    assert math.isclose(float(np.asarray(p1["loss"]["hand"])), float(np.mean(p1["losses"]["hand"])))
    assert not np.any(np.asarray(p2["h"]["hand"]) == 0)  # no ReLU kink in the example
    saved = json.loads((tmp_path / "walkthrough.json").read_text())
    assert saved["engine"] == engine and saved["max_abs_diff"] == m["max_abs_diff"]


def test_walkthrough_hand_gradient_matches_finite_difference():
    from experiments import backprop_walkthrough as bw

    X, W1, b1, W2, b2 = bw.mlp_inputs((5, 4, 4), [0, 1, 2], 0)
    hand = bw.hand_mlp(X, [0, 1, 2], W1, b1, W2, b2)
    # a numerical derivative of the loss along one weight agrees with the hand formula
    eps, (i, j) = 1e-6, (2, 3)
    Wp, Wm = W1.copy(), W1.copy()
    Wp[i, j] += eps
    Wm[i, j] -= eps
    num = (bw.hand_mlp(X, [0, 1, 2], Wp, b1, W2, b2)["loss"] - bw.hand_mlp(X, [0, 1, 2], Wm, b1, W2, b2)["loss"])
    assert math.isclose(float(num) / (2 * eps), hand["dL/dW1"][i, j], rel_tol=1e-6, abs_tol=1e-9)


@needs_data
def test_mnist_final_small(tmp_path):
    from experiments import mnist_final
    from minigrad.metrics import error_rate_ci

    # 16 steps: at 8 (limit=1000) seed 0 ends at 58% error in minigrad and in torch alike (torch's streams)
    m = mnist_final.run(dict(limit=2000, epochs=1, hidden=(64,), out=str(tmp_path), no_progress=True))
    _files(tmp_path, "metrics.json", "curves.png", "comparison.md")
    assert m["n_train"] == 2000 and m["test"]["n"] == 10000
    assert m["test"]["error_rate"] < 0.5
    assert tuple(m["test"]["ci95_wilson"]) == error_rate_ci(m["test"]["errors"], 10000)[1:]
    table = (tmp_path / "comparison.md").read_text()
    assert all(f"{pub:.2f}" in table for _, pub in mnist_final.PUBLISHED)


def test_mnist_final_comparison_verdicts_follow_the_interval():
    from experiments.mnist_final import PUBLISHED, comparison_table
    from minigrad.metrics import error_rate_ci

    _, lo, hi = error_rate_ci(120, 10000)  # 1.20%: about [1.00%, 1.43%]
    rows = {line.split(" | ")[0].lstrip("| "): line for line in comparison_table(120, 10000).splitlines()}
    verdicts = set()
    for name, pub in PUBLISHED:
        p, q = pub / 100, 0.012
        inside = lo <= p <= hi
        resolved = abs(p - q) > 1.959964 * math.sqrt(p * (1 - p) / 1e4 + q * (1 - q) / 1e4)
        assert ("inside our interval" in rows[name]) == (inside and not resolved), rows[name]
        assert (": resolved" in rows[name]) == resolved, rows[name]
        verdicts.add((inside, resolved))
    assert verdicts == {(True, False), (False, True)}  # 1.53/1.60 resolved, 1.06-1.30 not


@needs_data
def test_tuned_options_small(tmp_path):
    from experiments import fashion_mnist

    m = fashion_mnist.run(dict(variant="tuned", limit=500, epochs=1, explicit=["epochs"], out=str(tmp_path / "f"),
                               no_progress=True))
    assert set(m["variants"]) == {"tuned"} and m["config"]["hidden"] == (1024, 1024)
    args = ["--tuned", "--limit", "500", "--epochs", "1", "--no-progress", "--out", str(tmp_path / "b")]
    r = subprocess.run([sys.executable, "-m", "experiments.mnist_binary", *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    cfg = json.loads((tmp_path / "b" / "metrics.json").read_text())["config"]
    assert (cfg["hidden"], cfg["optimizer"], cfg["losses"], cfg["epochs"]) == (256, "adam", ["bce"], 1)
