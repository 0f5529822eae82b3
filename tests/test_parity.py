"""Whole-run parity with torch (experiments.parity): full MNIST epochs, float64 and float32."""
import os

import pytest
import torch

from experiments import parity
from support.helpers import torch_device

needs_data = pytest.mark.skipif(not os.environ.get("MINIGRAD_DATA"),
                                reason="MINIGRAD_DATA not set: whole-run parity needs the MNIST files")


def _torch_backend(backend):
    return "numpy" if torch_device(backend) == "cpu" else backend  # on the CuPy double torch runs on the CPU


def _limit(backend, full):
    """Training images used. The CuPy double does NumPy's arithmetic through a checking wrapper (~10x slower):
    there the parity runs prove the CuPy code paths over 60 steps; numpy and a real GPU run the full epoch."""
    return 6000 if backend == "cupy" and torch_device(backend) == "cpu" else full


@needs_data
def test_mlp_adam_full_epoch_matches_torch(backend, tmp_path):
    """784-500-300-10, Adam: one full epoch (540 steps) in lockstep with torch, float64 then float32."""
    limit = _limit(backend, 54000)
    r64, r32 = parity.run({"runs": "mlp-adam", "dtypes": "float64,float32", "epochs": 1, "backend": backend,
                           "torch_backend": _torch_backend(backend), "limit": limit, "out": str(tmp_path),
                           "no_progress": True})
    assert r64["steps"] == r32["steps"] == limit // 100
    assert r64["max_rel_loss_diff"] <= 1e-9
    assert r32["grad_checks"] and all(c["assert_close_ok"] for c in r32["grad_checks"])
    assert "band" in r32 and abs(r32["test_acc_minigrad"] - r32["test_acc_torch"]) <= 0.002
    assert r64["failures"] == [] and r32["failures"] == [], r32["failures"]


@needs_data
def test_feedforward_dropout_sgd_matches_torch(backend, tmp_path):
    """FeedforwardNN with dropout (same masks in both engines) and SGD on Fashion-MNIST."""
    r64, r32 = parity.run({"runs": "ffn-sgd", "dtypes": "float64,float32", "epochs": 1, "backend": backend,
                           "torch_backend": _torch_backend(backend), "limit": _limit(backend, 20000),
                           "out": str(tmp_path), "no_progress": True})
    assert r64["steps"] == r32["steps"] == _limit(backend, 20000) // 100
    assert r64["max_rel_loss_diff"] <= 1e-9
    assert r64["failures"] == [] and r32["failures"] == [], r32["failures"]


def test_mask_tape_replays_the_same_masks():
    tape = parity.MaskTape(seed=3, p=0.2)
    drawn = [tape.draw((4, 5)), tape.draw((4, 3))]
    play = tape.replayer()
    assert all((play(m.shape) == m).all() for m in drawn)
    assert 0 < sum(m.sum() for m in drawn) < 32  # some kept, some dropped


def test_verdict_flags_a_float64_mismatch():
    rec = {"dtype": "float64", "max_rel_loss_diff": 1e-6}
    assert parity.verdict(rec, parity.CONFIG)


def test_verdict_flags_float32_drift_beyond_the_rounding_band():
    steps = 100
    ref64 = {"losses_torch": [1.0] * steps}
    ok = {"dtype": "float32", "grad_checks": [], "test_acc_minigrad": 0.9, "test_acc_torch": 0.9,
          "losses_torch": [1.0 + 1e-3] * steps, "losses_minigrad": [1.0 + 2e-3] * steps}
    assert parity.verdict(ok, parity.CONFIG, ref64) == []
    bad = dict(ok, losses_minigrad=[1.0 + 5e-3] * steps)
    assert parity.verdict(bad, parity.CONFIG, ref64)


def test_band_is_calibrated_on_the_largest_torch_rounding_draw():
    """One float32 run is one draw of the chaotic drift: the band uses the largest of torch's draws."""
    steps = 100
    ref64 = {"losses_torch": [1.0] * steps}
    rec = {"dtype": "float32", "grad_checks": [], "test_acc_minigrad": 0.9, "test_acc_torch": 0.9,
           "losses_torch": [1.0 + 1e-3] * steps, "losses_minigrad": [1.0 + 4e-3] * steps}
    assert parity.verdict(dict(rec), parity.CONFIG, ref64)  # 3e-3 apart > 2 x 1e-3
    drawn = dict(rec, losses_torch_realizations=[[1.0 + 2e-3] * steps, [1.0 - 5e-4] * steps])
    assert parity.verdict(drawn, parity.CONFIG, ref64) == []  # 3e-3 <= 2 x 2e-3
    assert drawn["band"]["float32_rounding_drifts"] == pytest.approx([1e-3, 2e-3, 5e-4])


@needs_data
@pytest.mark.skipif(tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]) < (2, 15),
                    reason="minigrad draws torch 2.15's streams; older torch draws other initial weights and masks")
def test_from_seed_alone_float64_matches_torch_every_step(tmp_path):
    """No weights copied, no masks replayed: each engine seeds, builds, shuffles and drops out on its own (CPU)."""
    records = parity.run({"runs": "ffn-sgd,mlp-adam", "dtypes": "float64", "epochs": 1, "from_seed": True,
                          "limit": 2000, "out": str(tmp_path), "no_progress": True})
    for r in records:
        assert r["steps"] == 20 and r["same_batches"]
        assert r["max_rel_loss_diff"] <= 1e-12, r["max_rel_loss_diff"]
        assert r["failures"] == []
