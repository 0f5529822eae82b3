"""minigrad.save/load (.npz + JSON structure, no pickle; whole models pickled as torch) and torch state-dict
conversion both ways."""
import io
import json
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.backend import to_numpy
from reference.convert import from_torch_state_dict, to_torch_state_dict
from support.helpers import assert_close, to_torch, torch_device


def assert_same(a, b):
    """Recursive exact equality: same types, key order, dtypes and values."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, minigrad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(to_numpy(a.array), to_numpy(b.array))
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_round_trip_exact_with_dtypes(tmp_path, backend):
    obj = OrderedDict([
        ("w32", minigrad.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32), device=backend)),
        ("w64", minigrad.tensor(np.random.default_rng(1).standard_normal(5), device=backend, requires_grad=True)),
        ("idx", minigrad.tensor([1, 2, 3], device=backend)),
        ("mask", minigrad.tensor([True, False], device=backend)),
        ("scalar", minigrad.tensor(2.5, device=backend)),
        ("arr16", np.arange(4, dtype=np.int16)),
        ("npfloat", np.float32(1.5)),
        ("nested", {0: {"step": 3.0, "betas": (0.9, 0.999), "flags": [True, None, "x"]}, "1": -7}),
        ("floats", [0.1, float("inf"), float("nan"), -0.0, 1e-300]),
        ("big", 2**70),
    ])
    path = tmp_path / "ckpt.pt"
    minigrad.save(obj, path)
    assert path.exists() and not (tmp_path / "ckpt.pt.npz").exists()  # the exact name, as torch.save
    back = minigrad.load(path, map_location=backend)
    assert_same(back, obj)
    assert type(back["npfloat"]) is np.float32
    assert back["w32"].backend == backend


def test_file_objects_and_no_pickle():
    buf = io.BytesIO()
    minigrad.save({"a": minigrad.ones(2)}, buf)
    buf.seek(0)
    z = np.load(buf, allow_pickle=False)  # every entry reads without pickle
    assert json.loads(bytes(z["__structure__"]).decode())["format"] == "minigrad-npz-1"
    buf.seek(0)
    assert_same(minigrad.load(buf), {"a": minigrad.ones(2)})
    buf = io.BytesIO()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):  # as torch.save: a lambda won't pickle
        minigrad.save({"f": lambda: 0}, buf)
    assert buf.getvalue() == b""  # nothing half-written


def test_optimizer_state_dict_round_trip(tmp_path):
    w = minigrad.randn(3, 2, requires_grad=True)
    opt = optim.Adam([w], lr=0.1, amsgrad=True)
    w.grad = minigrad.ones(3, 2)
    opt.step()
    minigrad.save(opt.state_dict(), tmp_path / "opt.npz")
    sd = minigrad.load(tmp_path / "opt.npz")
    assert_same(sd, opt.state_dict())
    opt2 = optim.Adam([minigrad.tensor(w.array, requires_grad=True)], lr=0.1, amsgrad=True)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)


def _pair(dtype):
    torch.manual_seed(1)
    tnet = torch.nn.Sequential(torch.nn.Linear(10, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    tnet = tnet.to(getattr(torch, np.dtype(dtype).name))
    net = nn.Sequential(nn.Linear(10, 7), nn.ReLU(), nn.Linear(7, 3)).to(np.dtype(dtype))
    return net, tnet


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_to_minigrad_gives_identical_outputs(dtype, backend):
    net, tnet = _pair(dtype)
    net.to(backend)
    net.load_state_dict(from_torch_state_dict(tnet.state_dict(), device=backend))
    x = np.random.default_rng(2).standard_normal((5, 10)).astype(dtype)
    y = net(minigrad.tensor(x, device=backend))
    ty = tnet.to(torch_device(backend))(to_torch(x, backend))
    assert y.dtype == np.dtype(dtype)
    assert_close(y, ty)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minigrad_to_torch_gives_identical_outputs(dtype):
    _, tnet = _pair(dtype)
    minigrad.manual_seed(7)  # minigrad's own init, different from torch's draw
    net = nn.Sequential(nn.Linear(10, 7), nn.ReLU(), nn.Linear(7, 3)).to(np.dtype(dtype))
    tsd = to_torch_state_dict(net.state_dict())
    assert isinstance(tsd, OrderedDict) and list(tsd) == list(tnet.state_dict())
    assert all(t.dtype == getattr(torch, np.dtype(dtype).name) for t in tsd.values())
    tnet.load_state_dict(tsd)
    for k, v in net.state_dict().items():  # bit-identical weights
        np.testing.assert_array_equal(tnet.state_dict()[k].numpy(), v.array)
    x = np.random.default_rng(3).standard_normal((4, 10)).astype(dtype)
    assert_close(net(minigrad.tensor(x)), tnet(torch.from_numpy(x)))


def test_save_load_model_then_torch(tmp_path):
    """minigrad.save a model, load it back, hand it to torch: the same function."""
    net, tnet = _pair(np.float32)
    minigrad.save(net.state_dict(), tmp_path / "net.npz")
    tnet.load_state_dict(to_torch_state_dict(minigrad.load(tmp_path / "net.npz")))
    x = np.random.default_rng(4).standard_normal((6, 10)).astype(np.float32)
    assert_close(net(minigrad.tensor(x)), tnet(torch.from_numpy(x)))


def test_torch_optimizer_state_converts():
    tw = torch.randn(3, requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    tw.grad = torch.ones(3)
    topt.step()
    sd = from_torch_state_dict(topt.state_dict())
    assert isinstance(sd["state"][0]["momentum_buffer"], minigrad.Tensor)
    back = to_torch_state_dict(sd)
    torch.testing.assert_close(back["state"][0]["momentum_buffer"], topt.state_dict()["state"][0]["momentum_buffer"])
    assert back["param_groups"] == topt.state_dict()["param_groups"]


# ---- whole models: pickled, as torch.save(model); loaded only with weights_only=False ----------------
class TinyNet(nn.Module):
    def __init__(self, L):
        super().__init__()
        self.flatten = L.nn.Flatten()
        self.stack = L.nn.Sequential(L.nn.Linear(6, 5), L.nn.ReLU(), L.nn.Linear(5, 3))
        self.scale = 2.0

    def forward(self, x):
        return self.stack(self.flatten(x)) * self.scale


class TorchTinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = torch.nn.Flatten()
        self.stack = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
        self.scale = 2.0

    def forward(self, x):
        return self.stack(self.flatten(x)) * self.scale


# torch.load's default became weights_only=True in torch 2.6, the default minigrad follows; torch 2.4 unpickles by
# default, so there only the explicit weights_only=True is compared with torch (minigrad's default is still checked)
_TORCH_LOADS_SAFELY_BY_DEFAULT = tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 6)


def test_whole_model_round_trip_needs_weights_only_false_like_torch(tmp_path):
    net, tnet = TinyNet(minigrad), TorchTinyNet()
    net.eval()
    for L, model, path in ((minigrad, net, tmp_path / "model.pth"), (torch, tnet, tmp_path / "tmodel.pth")):
        L.save(model, path)
        for kw in ({}, {"weights_only": True}):  # the safe default refuses, and says how to opt in
            if L is torch and not kw and not _TORCH_LOADS_SAFELY_BY_DEFAULT:
                continue
            with pytest.raises(pickle.UnpicklingError, match="weights_only"):
                L.load(path, **kw)
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        minigrad.load(tmp_path / "model.pth")
    back = minigrad.load(tmp_path / "model.pth", weights_only=False)
    tback = torch.load(tmp_path / "tmodel.pth", weights_only=False)
    assert type(back) is TinyNet and type(tback) is TorchTinyNet and back is not net
    assert back.training is False and back.scale == 2.0 and list(back.state_dict()) == list(tback.state_dict())
    for (k, p), (tk, tp) in zip(back.named_parameters(), tback.named_parameters()):
        assert k == tk and type(p) is nn.Parameter and p.requires_grad and p.grad is None
        np.testing.assert_array_equal(p.array, dict(net.named_parameters())[k].array)
    x = np.random.default_rng(5).standard_normal((4, 2, 3)).astype(np.float32)
    assert minigrad.equal(back(minigrad.tensor(x)), net(minigrad.tensor(x)))
    back(minigrad.tensor(x)).sum().backward()  # the loaded model trains
    assert all(p.grad is not None for p in back.parameters())


def test_state_dict_and_checkpoint_dicts_stay_safe(tmp_path):
    """state_dict()s and {'epoch', 'model_state_dict', 'optimizer_state_dict', 'loss'} checkpoints are plain
    data: no pickle, so the default weights_only=True loads them (as torch)."""
    net = TinyNet(minigrad)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(minigrad.ones(2, 6)).sum().backward()
    opt.step()
    ckpt = {"epoch": 3, "model_state_dict": net.state_dict(), "optimizer_state_dict": opt.state_dict(), "loss": 0.5}
    minigrad.save(ckpt, tmp_path / "ckpt.tar")
    assert (tmp_path / "ckpt.tar").read_bytes()[:2] == b"PK"  # the .npz format, not a pickle
    back = minigrad.load(tmp_path / "ckpt.tar", weights_only=True)
    net2 = TinyNet(minigrad)
    net2.load_state_dict(back["model_state_dict"])
    assert back["epoch"] == 3 and minigrad.equal(net2(minigrad.ones(1, 6)), net(minigrad.ones(1, 6)))
    minigrad.save({"model": net, "epoch": 3}, tmp_path / "mixed.pth")  # a module inside: pickled
    with pytest.raises(pickle.UnpicklingError):
        minigrad.load(tmp_path / "mixed.pth")
    assert minigrad.load(tmp_path / "mixed.pth", weights_only=False)["epoch"] == 3


@pytest.mark.parametrize("map_location", [None, "cpu", minigrad.device("cpu"), {"cuda:0": "cpu"},
                                          lambda storage, loc: storage])
def test_pickled_tensors_land_where_map_location_says(tmp_path, backend, map_location):
    net = TinyNet(minigrad).to(backend)
    buf = io.BytesIO()
    minigrad.save(net, buf)
    buf.seek(0)
    back = minigrad.load(buf, map_location=map_location, weights_only=False)
    want = backend if map_location is None else "numpy"
    assert all(p.backend == want for p in back.parameters())
    for p, q in zip(back.parameters(), net.parameters()):
        np.testing.assert_array_equal(to_numpy(p.array), to_numpy(q.array))


def test_tensor_pickle_and_copies_keep_what_torch_keeps():
    w = minigrad.randn(3, requires_grad=True)
    y = w * 2  # not a leaf: pickles as its values, requires_grad kept, graph dropped
    back = pickle.loads(pickle.dumps(y))
    assert back.is_leaf and back.requires_grad and back.grad_fn is None and minigrad.equal(back.detach(), y.detach())
    w.grad = minigrad.ones(3)
    import copy

    c = copy.deepcopy(w)
    assert c is not w and c.array is not w.array and minigrad.equal(c.grad, w.grad) and c.requires_grad
    assert copy.copy(w).array is w.array


# ---- files that are not ours: each error names the file, what it found and what to do ------------------------
def test_load_torch_pt_names_it_and_the_conversion(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    with pytest.raises(ValueError, match="model.pt") as e:
        minigrad.load(path)
    assert "PyTorch" in str(e.value) and "from_torch_state_dict" in str(e.value)


def test_load_plain_npz_names_its_arrays(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weight=np.zeros(3), bias=np.ones(2))
    with pytest.raises(ValueError, match="plain.npz") as e:
        minigrad.load(str(path))
    assert "numpy.load" in str(e.value) and "weight" in str(e.value) and "bias" in str(e.value)


@pytest.mark.parametrize("keep", [0.5, 0.9, 30])
def test_load_truncated_archive_names_the_file(tmp_path, keep):
    path = tmp_path / "cut.npz"
    minigrad.save({"w": minigrad.tensor(np.arange(1000.0))}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep) if keep < 1 else keep])
    with pytest.raises(RuntimeError, match="cut.npz") as e:
        minigrad.load(path)
    assert "truncated" in str(e.value)


def test_load_empty_and_foreign_files_name_them(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(pickle.UnpicklingError, match="empty.npz.*empty"):
        minigrad.load(tmp_path / "empty.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(pickle.UnpicklingError, match="text.npz"):
        minigrad.load(tmp_path / "text.npz")
