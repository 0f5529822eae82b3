"""Runs that survive (experiments/runs.py): interrupted by a real signal, then resumed, a run ends bit for bit where
an uninterrupted one does; writes are atomic under failure; an --out holding a run is not silently replaced.

The experiments run in-process on small synthetic data (common.load_arrays replaced), so no data files are needed.
"""
import csv
import errno
import json
import os
import signal

import numpy as np
import pytest

import minigrad
from experiments import common, runs, tblog
from minigrad.utils.cli import cli


def fake_arrays(name="mnist", data_dir=None, normalize=None, download=True):
    """(X_train, y_train, X_test, y_test): 1,200 + 400 random images, every class present (1s and 7s included)."""
    rng = np.random.default_rng(7)
    X, Xt = rng.random((1200, 784), dtype=np.float32), rng.random((400, 784), dtype=np.float32)
    y, yt = np.arange(1200) % 10, np.arange(400) % 10
    if normalize is not None:
        X, Xt = (X - np.float32(normalize[0])) / np.float32(normalize[1]), (Xt - np.float32(normalize[0])) / np.float32(
            normalize[1])
    return X, y.astype(np.int64), Xt, yt.astype(np.int64)


@pytest.fixture(autouse=True)
def small_data(monkeypatch):
    monkeypatch.setattr(common, "load_arrays", fake_arrays)


CASES = {  # module, flags, checkpoint after which the signal arrives
    "mlp": ("mnist_mlp", ["--epochs", "3", "--limit", "300", "--n-val", "200", "--batch-size", "50"], 1),
    "final": ("mnist_final", ["--epochs", "3", "--limit", "300", "--n-val", "200", "--batch-size", "50",
                              "--hidden", "32", "32"], 2),
    "fashion": ("fashion_mnist", ["--epochs", "2", "--limit", "300", "--n-val", "200", "--batch-size", "50"], 2),
    "tuned": ("fashion_mnist", ["--variant", "tuned", "--epochs", "2", "--limit", "300", "--n-val", "200"], 1),
    "binary": ("mnist_binary", ["--epochs", "3", "--limit", "300", "--eval-every", "2", "--batch-size", "50"], 4),
}


def main(module, argv):
    import importlib

    return importlib.import_module(f"experiments.{module}").main(argv + ["--no-progress"])


def without_seconds(o):
    """What must match bit for bit: all but wall-clock times (and the --out path in the config)."""
    if isinstance(o, dict):
        return {k: without_seconds(v) for k, v in o.items() if "seconds" not in str(k) and k != "out"}
    if isinstance(o, list):
        return [without_seconds(v) for v in o]
    return o


def csv_rows(path):
    with open(path) as f:
        return [{k: v for k, v in r.items() if "seconds" not in k} for r in csv.DictReader(f)]


def models(folder):
    return {f: minigrad.load(os.path.join(folder, f)) for f in sorted(os.listdir(folder)) if f.endswith(".npz")}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_then_resumed_equals_uninterrupted(case, sig, tmp_path, monkeypatch, capsys):
    if sig == signal.SIGINT and case != "mlp":
        pytest.skip("SIGINT takes the same path as SIGTERM: one case is enough")
    module, argv, after = CASES[case]
    real, calls = runs.Run.checkpoint, []

    def checkpoint_then_signal(self, state):
        real(self, state)
        calls.append(1)
        if len(calls) == after:
            os.kill(os.getpid(), sig)  # a real signal: the handler only sets the flag; the next step stops

    stop_resume_compare(module, argv, tmp_path, monkeypatch, capsys, ("checkpoint", checkpoint_then_signal), sig)


MID = {  # signal before this step boundary (counted over the whole run), then (epochs done, steps done) of that epoch
    "mlp": (9, (1, 2)),       # 6 steps an epoch: epoch 2, after its 2nd step
    "final": (16, (2, 3)),
    "fashion": (15, (0, 2)),  # sgd's 2 epochs took 12 steps: adam's first epoch, after 2 steps
    "tuned": (5, (1, 1)),     # 3 steps an epoch (batch 128)
    "binary": (23, (1, 2)),   # 240 1s and 7s: 5 steps an epoch; l1 took 15: bce epoch 1, after 2 steps
}


@pytest.mark.parametrize("case", list(CASES))
def test_stopped_mid_epoch_resumes_from_that_step_bit_for_bit(case, tmp_path, monkeypatch, capsys):
    """The signal arrives in the middle of an epoch: the checkpoint holds that step (model, optimizer, scheduler,
    RNG, the epoch's losses so far), and --resume runs only the rest of the epoch, ending bit for bit as a run
    never stopped."""
    module, argv, _ = CASES[case]
    at, (epochs_done, step) = MID[case]
    real, calls = runs.Run.step, []

    def signal_then_step(self, snapshot=None):
        calls.append(1)
        if len(calls) == at:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(self, snapshot)

    def check(cut, err):
        state = minigrad.load(os.path.join(cut, runs.CHECKPOINT))
        assert (state["epochs_done"], state["step"]) == (epochs_done, step)
        assert len(state.get("step_losses", [0] * step)) == step  # mnist_mlp keeps no step losses
        assert f"step {step} of" in err

    stop_resume_compare(module, argv, tmp_path, monkeypatch, capsys, ("step", signal_then_step), signal.SIGTERM,
                        check)
    assert f"step {step} of" in capsys.readouterr().out  # "resuming ... after [variant] step S of N in epoch E"


def stop_resume_compare(module, argv, tmp_path, monkeypatch, capsys, patch, sig, check=None):
    """Run uninterrupted; run with `patch` (Run attribute, replacement) sending sig; resume; compare bit for bit."""
    whole, cut = str(tmp_path / "whole"), str(tmp_path / "cut")
    main(module, argv + ["--out", whole])
    with monkeypatch.context() as m:
        m.setattr(runs.Run, *patch)
        capsys.readouterr()
        with pytest.raises(SystemExit) as e:
            main(module, argv + ["--out", cut])
    err = capsys.readouterr().err
    assert e.value.code == 128 + sig and "Traceback" not in err
    assert f"python -m experiments.{module}" in err and "--resume" in err
    partial = json.load(open(os.path.join(cut, "metrics.json")))
    assert partial["partial"] is True and partial["epochs_done"] >= 0  # of the variant (loss) it stopped in
    assert os.path.exists(os.path.join(cut, runs.CHECKPOINT))
    if check is not None:
        check(cut, err)

    with pytest.raises(SystemExit) as e:  # without --resume: refused, the checkpoint kept
        main(module, argv + ["--out", cut])
    assert e.value.code == 2 and "--resume" in capsys.readouterr().err

    main(module, argv + ["--out", cut, "--resume"])
    a, b = (json.load(open(os.path.join(d, "metrics.json"))) for d in (whole, cut))
    assert without_seconds(a) == without_seconds(b)  # every per-epoch number, every test number, bit for bit
    assert csv_rows(os.path.join(whole, "metrics.csv")) == csv_rows(os.path.join(cut, "metrics.csv"))
    ma, mb = models(whole), models(cut)
    assert ma.keys() == mb.keys() and ma
    for f in ma:
        for k in ma[f]:
            assert np.array_equal(ma[f][k].numpy(), mb[f][k].numpy()), (f, k)
    assert not os.path.exists(os.path.join(cut, runs.CHECKPOINT))  # a finished run keeps no checkpoint
    if tblog.writer_class() is not None:  # TensorBoard's curves too: each epoch once, the same numbers
        from tests.test_run_outputs import tb_scalars

        a, b = (without_seconds(tb_scalars(os.path.join(d, "tb"))) for d in (whole, cut))
        assert a == b and a


def test_finished_out_refused_unless_overwrite_or_resume(tmp_path, capsys):
    module, argv, _ = CASES["mlp"]
    out = str(tmp_path / "o")
    argv = argv[:1] + ["1"] + argv[2:] + ["--out", out]
    main(module, argv)
    parse = cli(__import__("experiments.mnist_mlp", fromlist=["x"]).parse_args)
    for extra, words in [([], "--overwrite"), (["--resume"], "finished")]:
        with pytest.raises(SystemExit) as e:
            parse(argv + extra)
        err = capsys.readouterr().err
        assert e.value.code == 2 and words in err and out in err
    with pytest.raises(SystemExit):
        parse(argv + ["--resume", "--overwrite"])  # exclusive
    parse(argv + ["--overwrite"])
    with pytest.raises(SystemExit) as e:
        parse(["--out", str(tmp_path / "empty"), "--resume"])
    assert e.value.code == 2 and "no checkpoint" in capsys.readouterr().err


def test_resume_with_other_settings_refused(tmp_path, monkeypatch, capsys):
    module, argv, _ = CASES["mlp"]
    out = str(tmp_path / "o")
    monkeypatch.setattr(runs.Run, "finish", lambda self, m: None)  # leave the checkpoint as an interrupted run would
    main(module, argv + ["--out", out])
    with pytest.raises(SystemExit) as e:
        main(module, ["--epochs", "3", "--limit", "300", "--n-val", "200", "--batch-size", "60", "--out", out,
                      "--resume"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "batch_size" in err and "50" in err and "60" in err


def test_model_npz_loads_into_the_torch_reference(tmp_path):
    torch = pytest.importorskip("torch")
    from reference.convert import to_torch_state_dict
    from reference.models import build

    module, argv, _ = CASES["mlp"]
    out = str(tmp_path / "o")
    main(module, ["--epochs", "1"] + argv[2:] + ["--out", out])
    sd = minigrad.load(os.path.join(out, "model.npz"))
    tm = build("torch", "mlp", sizes=(784, 500, 300, 10))
    tm.load_state_dict(to_torch_state_dict(sd))
    mm = build("minigrad", "mlp", sizes=(784, 500, 300, 10))
    mm.load_state_dict(sd)
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    np.testing.assert_allclose(tm(torch.from_numpy(x)).detach().numpy(), mm(minigrad.tensor(x)).detach().numpy(),
                               rtol=1.3e-6, atol=1e-5)


# ---- atomic writes under failure ------------------------------------------------------------------------------
def leftovers(folder):
    return [f for f in os.listdir(folder) if ".tmp" in f]


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = str(tmp_path / "f.bin")
    runs.atomic_write(path, lambda fh: fh.write(b"old"))

    def half_then_fail(fh):
        fh.write(b"ne")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        runs.atomic_write(path, half_then_fail)
    assert open(path, "rb").read() == b"old" and not leftovers(tmp_path)


@pytest.mark.parametrize("fails", ["fsync", "replace"])
def test_checkpoint_on_a_full_disk_keeps_the_previous_one(fails, tmp_path, monkeypatch):
    module, argv, _ = CASES["mlp"]
    out = str(tmp_path / "o")
    real, calls = runs.Run.checkpoint, []

    def second_fails(self, state):
        calls.append(1)
        if len(calls) == 2:
            def broken(*a, **k):
                raise OSError(errno.ENOSPC, "No space left on device")
            monkeypatch.setattr(os, fails, broken)
        real(self, state)

    monkeypatch.setattr(runs.Run, "checkpoint", second_fails)
    with pytest.raises(OSError):
        main(module, argv + ["--out", out])
    monkeypatch.undo()
    state = minigrad.load(os.path.join(out, runs.CHECKPOINT))  # whole, and the first epoch's
    assert state["epochs_done"] == 1 and not leftovers(out)


def test_stop_whose_checkpoint_cannot_be_written_names_the_one_kept(tmp_path, monkeypatch, capsys):
    """A full disk at the stop: the step's checkpoint is not written, the last epoch's stays, and the message says so
    (resume then redoes that epoch's first steps, still bit for bit)."""
    module, argv, _ = CASES["mlp"]
    out = str(tmp_path / "o")
    real_step, real_ck, calls = runs.Run.step, runs.Run.checkpoint, []

    def signal_then_step(self, snapshot=None):
        calls.append(1)
        if len(calls) == 9:  # epoch 2, after 2 steps
            os.kill(os.getpid(), signal.SIGTERM)
        return real_step(self, snapshot)

    def full_disk_at_the_stop(self, state):
        if "step" in state:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_ck(self, state)

    monkeypatch.setattr(runs.Run, "step", signal_then_step)
    monkeypatch.setattr(runs.Run, "checkpoint", full_disk_at_the_stop)
    with pytest.raises(SystemExit) as e:
        main(module, argv + ["--out", out])
    err = capsys.readouterr().err
    assert e.value.code == 143 and "No space left on device" in err and "Traceback" not in err
    assert "the checkpoint after epoch 1 is in" in err
    assert minigrad.load(os.path.join(out, runs.CHECKPOINT))["epochs_done"] == 1
