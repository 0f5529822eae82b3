"""What a run tells and leaves besides its numbers: where its data came from and where its outputs go (one line
each, every training experiment), and TensorBoard event files mirroring metrics.csv (when tensorboardX is there).
"""
import csv
import os
import struct
import sys

import numpy as np
import pytest

from experiments import common

DATA = os.environ.get("MINIGRAD_DATA")
TINY = {  # module, flags: one short epoch on the real files
    "mnist_mlp": ["--epochs", "1", "--limit", "200", "--n-val", "200"],
    "mnist_final": ["--epochs", "1", "--limit", "200", "--hidden", "16"],
    "fashion_mnist": ["--epochs", "1", "--limit", "200", "--n-val", "200", "--variant", "single"],
    "mnist_binary": ["--epochs", "1", "--limit", "200", "--hidden", "8"],
}


def main(module, argv):
    import importlib

    return importlib.import_module(f"experiments.{module}").main(argv + ["--no-progress"])


@pytest.mark.parametrize("module", list(TINY))
def test_run_prints_where_its_data_came_from_and_where_its_outputs_go(module, tmp_path, capsys):
    if not DATA:
        pytest.skip("MINIGRAD_DATA is not set: the MNIST files are needed")
    out = tmp_path / "o"
    main(module, TINY[module] + ["--data-dir", DATA, "--out", str(out)])
    lines = capsys.readouterr().out.splitlines()
    key = "fashion-mnist" if module == "fashion_mnist" else "mnist"
    data = [ln for ln in lines if ln.startswith("data: ")]
    assert data == [f"data: {key}: 4 files from {os.path.join(os.path.abspath(DATA), key)}; every file's MD5 "
                    "matches the published checksum"]
    assert f"{module}: outputs go to {out}" in lines and f"{module}: outputs in {out}" in lines
    assert lines.index(data[0]) < lines.index(f"{module}: outputs go to {out}")  # both before the first epoch


def test_downloaded_data_names_the_address(tmp_path, monkeypatch, capsys):
    """Files fetched from a mirror (here a file:// one, offline) are named by their address, then found locally."""
    if not DATA:
        pytest.skip("MINIGRAD_DATA is not set: the MNIST files are needed")
    from minigrad.data import datasets

    monkeypatch.delenv("MINIGRAD_DATA")
    monkeypatch.setenv("MINIGRAD_MIRRORS", "file://" + os.path.abspath(DATA))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(datasets, "_CACHE", {})
    root = tmp_path / "fresh"
    common.load_arrays("mnist", str(root))
    base = f"file://{os.path.abspath(DATA)}/mnist/"
    assert capsys.readouterr().out.splitlines() == [
        f"data: mnist: 4 files downloaded from {base}; every file's MD5 matches the published checksum"]
    common.load_arrays("mnist", str(root))  # the second time they are on this machine
    assert f"4 files from {root / 'mnist'};" in capsys.readouterr().out


# ---- TensorBoard --------------------------------------------------------------------------------------------------
def tb_scalars(folder):
    """{(tag, step): value} of every scalar in the event files of folder (TFRecord framing, Event protos)."""
    from tensorboardX.proto.event_pb2 import Event

    found = {}
    for name in sorted(os.listdir(folder)):
        buf = open(os.path.join(folder, name), "rb").read()
        i = 0
        while i < len(buf):
            n = struct.unpack("<Q", buf[i:i + 8])[0]  # length, its CRC, the record, its CRC
            ev = Event.FromString(buf[i + 12:i + 12 + n])
            i += 12 + n + 4
            for v in ev.summary.value:
                assert (v.tag, ev.step) not in found, f"{v.tag} at step {ev.step} written twice"
                found[(v.tag, ev.step)] = v.simple_value
    return found


@pytest.fixture
def fake_data(monkeypatch):
    from tests.test_runs import fake_arrays

    monkeypatch.setattr(common, "load_arrays", fake_arrays)


@pytest.mark.parametrize("module,argv,prefixes", [
    ("mnist_mlp", ["--epochs", "2", "--limit", "300", "--n-val", "200", "--batch-size", "50"], [""]),
    ("mnist_binary", ["--epochs", "2", "--limit", "300", "--batch-size", "50"], ["l1/", "bce/"]),
])
def test_tensorboard_event_files_hold_metrics_csv(module, argv, prefixes, tmp_path, fake_data):
    pytest.importorskip("tensorboardX", reason="the optional tensorboard extra (tensorboardX) is not installed")
    out = tmp_path / "o"
    main(module, argv + ["--out", str(out)])
    got = tb_scalars(out / "tb")
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    want = {}
    for r in rows:
        prefix = f"{r.pop('loss')}/" if "loss" in r else ""
        step = int(r.pop("epoch"))
        want.update({(prefix + k, step): np.float32(float(v)) for k, v in r.items() if v != ""})
    assert {p for p in prefixes} == {t.rpartition("/")[0] + "/" if "/" in t else "" for t, _ in got}
    assert got.keys() == want.keys() and all(got[k] == want[k] for k in want)  # float32, as TensorBoard keeps it


def test_without_tensorboardx_one_line_and_no_event_files(tmp_path, fake_data, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails as when it is not installed
    out = tmp_path / "o"
    main("mnist_mlp", ["--epochs", "1", "--limit", "100", "--n-val", "100", "--out", str(out)])
    said = [ln for ln in capsys.readouterr().out.splitlines() if "TensorBoard" in ln]
    assert said == ["mnist_mlp: no TensorBoard event files (tensorboardX is not installed: "
                    "pip install tensorboardX, or pip install -e '.[tensorboard]' in the repository)"]
    assert not (out / "tb").exists() and (out / "metrics.csv").exists()
