"""Every experiment's and benchmark's command line: a user's mistake is one `error:` message and exit code 2.

(--device cuda without a GPU and contradicting benchmark flags: tests/test_benchmarks.py.)

Each case stops before any training or timing starts, so these run in milliseconds (main(argv) in-process);
one subprocess per family checks the whole path a user sees: no traceback on stderr.
"""
import importlib
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.backend import cupy_available

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ["mnist_mlp", "fashion_mnist", "mnist_binary", "parity"]
EXPERIMENTS = TRAINING + ["loss_curves", "backprop_walkthrough"]
BENCHMARKS = ["epoch", "memory", "ops", "overhead", "scaling", "subnormal", "rng", "breakdown", "peers"]


def exits_2(module, argv, capsys):
    """Run module.main(argv); assert exit code 2 and return stderr."""
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert "Traceback" not in err and "error:" in err
    return err


@pytest.fixture
def unwritable(tmp_path):
    """A path nobody can create, even root: its parent is a regular file."""
    f = tmp_path / "a_file"
    f.write_text("x")
    return str(f / "out")


@pytest.mark.parametrize("name", TRAINING)
@pytest.mark.parametrize("flag, value", [("--epochs", "-1"), ("--epochs", "0"), ("--batch-size", "0"),
                                         ("--lr", "-0.1"), ("--lr", "nan"), ("--limit", "-5"), ("--epochs", "two")])
def test_bad_training_flag(name, flag, value, capsys):
    err = exits_2(f"experiments.{name}", [flag, value], capsys)
    assert flag in err and value in err  # names the flag and the offending value


@pytest.mark.parametrize("module, argv", [
    ("experiments.loss_curves", ["--points", "0"]),
    ("experiments.fashion_mnist", ["--adam-lr", "0"]),
    ("experiments.mnist_binary", ["--eval-every", "-1"]),
    ("experiments.mnist_mlp", ["--weight-decay", "-0.0001"]),
    ("experiments.parity", ["--runs", "mlp-adam,nope"]),
    ("experiments.parity", ["--dtypes", "float16"]),
])
def test_bad_experiment_specific_flag(module, argv, capsys):
    err = exits_2(module, argv, capsys)
    assert argv[0] in err and argv[1].split(",")[-1] in err


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_unwritable_out(name, unwritable, capsys):
    err = exits_2(f"experiments.{name}", ["--out", unwritable], capsys)
    assert "--out" in err and unwritable in err


@pytest.mark.skipif(cupy_available(), reason="a GPU is usable here: --backend cupy is not a mistake")
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_cupy_without_gpu(name, tmp_path, capsys):
    err = exits_2(f"experiments.{name}", ["--backend", "cupy", "--out", str(tmp_path)], capsys)
    assert "--backend cupy" in err and "CUDA GPU" in err


@pytest.mark.parametrize("module, argv", [("experiments.loss_curves", []),
                                          ("experiments.mnist_mlp", ["--engine", "torch"])])
def test_torch_missing(module, argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    err = exits_2(module, argv + ["--out", str(tmp_path)], capsys)
    assert "PyTorch" in err and "pip install" in err


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_data_no_network_subprocess(tmp_path):
    """What `make demo` shows where the data is neither beside it nor downloadable: one paragraph, exit 2."""
    env = {"PATH": "/usr/bin:/bin", "MINIGRAD_MIRRORS": f"http://127.0.0.1:{closed_port()}/",
           "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "experiments.mnist_mlp", "--out", str(tmp_path / "out")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: MNIST"), r.stderr
    assert str(tmp_path / "data" / "mnist") in lines[0] and "127.0.0.1" in lines[0] and "MINIGRAD_DATA" in lines[0]
    assert not list((tmp_path / "data" / "mnist").iterdir())  # nothing half-downloaded left


# ---- benchmarks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", BENCHMARKS)
@pytest.mark.parametrize("flag, value", [("--rounds", "0"), ("--warmup", "-1"), ("--rounds", "x")])
def test_benchmark_bad_common_flag(name, flag, value, capsys):
    err = exits_2(f"benchmarks.{name}", [flag, value], capsys)
    assert flag in err and value in err


@pytest.mark.parametrize("name, argv", [
    ("epoch", ["--batch-size", "0"]), ("memory", ["--n", "-1"]), ("ops", ["--iters", "0"]),
    ("overhead", ["--sizes", "4", "0"]), ("scaling", ["--batch-sizes", "1", "-4"]),
    ("subnormal", ["--frac", "1.5"]), ("subnormal", ["--train-epochs", "-1"]),
    ("breakdown", ["--steps", "0"]), ("breakdown", ["--sizes", "100", "10"]), ("breakdown", ["--sizes", "784", "5"]),
    ("breakdown", ["--batch-size", "500", "--n", "100"]), ("breakdown", ["--kernels", "fast"]),
])
def test_benchmark_bad_specific_flag(name, argv, capsys):
    err = exits_2(f"benchmarks.{name}", argv, capsys)
    assert argv[0] in err and argv[-1] in err


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_unwritable_json(name, unwritable, capsys):
    err = exits_2(f"benchmarks.{name}", ["--json", unwritable + "/r.json"], capsys)
    assert "--json" in err and unwritable in err


def test_run_all_unwritable_out_dir(unwritable, capsys):
    err = exits_2("benchmarks.run_all", ["--report-only", "--out-dir", unwritable], capsys)
    assert "--out-dir" in err and unwritable in err


def test_benchmark_error_subprocess():
    r = subprocess.run([sys.executable, "-m", "benchmarks.ops", "--rounds", "-3"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--rounds" in r.stderr
