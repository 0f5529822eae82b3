"""The CuPy double itself (strict where CuPy is), and what it proves about minigrad's CuPy path:
no host<->device copy in a training step, device-side checks raising at the next sync point, results equal
to the NumPy backend's bit for bit."""
import copy
import io

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.utils.data  # noqa: F401
from conftest import install_cupy_double
from support.cupy_double import MANIFEST, NEWEST, OLDEST, copies, cupy as cp, make_manifest, ndarray


def _looser(manifest, installed):
    """What the double (built from `manifest`) allows that the installed CuPy does not have: names gone since,
    parameters gone, ufunc methods gone. Additions in a newer CuPy only make the double stricter than it."""
    out = []
    for key in ("ndarray", "flags", "random_Generator"):
        out += [f"{key}.{n}" for n in sorted(set(manifest[key]) - set(installed[key]))]
    for table in ("module", "random"):
        for name, entry in manifest[table].items():
            new = installed[table].get(name)
            if new is None or new["kind"] != entry["kind"]:
                out.append(f"{table}.{name}")
            elif entry["kind"] == "function" and None not in (entry["params"], new["params"]):  # None: unreadable
                gone = {p[0] for p in entry["params"]} - {p[0] for p in new["params"] or ()}
                out += [f"{table}.{name}({p}=)" for p in sorted(gone)]
            elif entry["kind"] == "ufunc":
                out += [f"{table}.{name}.{m}" for m in sorted(set(entry["methods"]) - set(new["methods"]))]
    return out


def test_manifest_matches_installed_cupy():
    """The committed manifests are CuPy's surface: equal to it for the version each was made from (the newest, and
    the oldest that setup.cfg claims); for any installed version the double (what both have) must allow nothing
    that version lacks. Regenerate them (make_manifest.py) when CuPy moves."""
    pytest.importorskip("cupy")
    installed = make_manifest.build()
    for made in (NEWEST, OLDEST):
        if installed["cupy_version"] == made["cupy_version"]:
            assert installed == made
    assert _looser(MANIFEST, installed) == [], f"CuPy {installed['cupy_version']} lacks these: regenerate"


def test_double_allows_only_what_every_supported_cupy_has():
    assert OLDEST["cupy_version"] != NEWEST["cupy_version"]
    assert _looser(MANIFEST, NEWEST) == [] and _looser(MANIFEST, OLDEST) == []
    assert _looser(NEWEST, OLDEST) != []  # the newest has names the oldest lacks: the double refuses them
    assert not hasattr(cp, "put_along_axis") and "put_along_axis" in NEWEST["module"]


def test_looser_names_what_a_cupy_lacks():
    fewer = copy.deepcopy(MANIFEST)
    fewer["ndarray"].remove("get")
    del fewer["module"]["exp"]
    fewer["module"]["where"]["params"] = fewer["module"]["where"]["params"][:1]
    assert _looser(MANIFEST, MANIFEST) == []
    assert set(_looser(MANIFEST, fewer)) == {"ndarray.get", "module.exp"} | {
        f"module.where({p[0]}=)" for p in MANIFEST["module"]["where"]["params"][1:]}


def test_ndarray_is_a_wrapper_with_cupys_names_only():
    a = cp.zeros((2, 3), dtype=np.float32)
    assert not isinstance(a, np.ndarray) and type(a) is cp.ndarray
    public = {n for n in dir(a) if not n.startswith("_")}
    assert public <= set(MANIFEST["ndarray"]) and "sum" in public and "get" in public
    for missing in ("writeable", "ctypes", "tofile_not_a_name", "itemset", "newbyteorder"):
        assert not hasattr(a, missing) or missing in MANIFEST["ndarray"]
    assert {n for n in dir(type(a.flags)) if not n.startswith("_")} == set(MANIFEST["flags"])
    with pytest.raises(AttributeError):
        a.flags.writeable
    assert a.flags.c_contiguous and a.flags.owndata and not a.T.flags.owndata and a.T.flags.f_contiguous
    with pytest.raises(TypeError):
        hash(a)


def test_no_implicit_conversion_to_numpy():
    a, h = cp.arange(3.0), np.arange(3.0)
    for convert in (np.asarray, np.array, lambda x: h + x, lambda x: x + h, lambda x: x * h, lambda x: h < x,
                    lambda x: np.add(x, h), lambda x: np.concatenate([x, h]), lambda x: cp.maximum(x, h),
                    lambda x: cp.where(x > 1, x, h), lambda x: cp.matmul(x, h), lambda x: x + [1.0, 2.0, 3.0]):
        with pytest.raises(TypeError):
            convert(a)
    # NumPy's functions dispatch to CuPy's, and stay on the device
    assert type(np.exp(a)) is cp.ndarray and type(np.concatenate([a, a])) is cp.ndarray


def test_reductions_and_indexing_give_device_arrays():
    a = cp.arange(6.0).reshape(2, 3)
    for r in (a.sum(), a.max(), a.argmax(), cp.sum(a), a[1, 2], cp.array_equal(a, a), (a > 2).any()):
        assert type(r) is cp.ndarray and r.shape == ()
    assert a.argmax().dtype == np.int64


def test_random_generator_has_cupys_methods_only():
    g = cp.random.default_rng(0)
    assert type(g.random((3,), dtype=np.float32)) is cp.ndarray
    for name in ("permutation", "shuffle", "choice", "bytes"):
        assert name not in MANIFEST["random_Generator"]
        with pytest.raises(AttributeError):
            getattr(g, name)


def test_one_device_and_kernels_that_need_a_gpu():
    assert cp.cuda.runtime.getDeviceCount() == 1
    kernels = [cp.ElementwiseKernel("T x", "T y", "y = x", "copy"), cp.ReductionKernel(
        "T x", "T y", "x", "a + b", "y = a", "0", "sum"), cp.RawKernel("extern \"C\" void f() {}", "f"),
        cp.RawModule(code="").get_function("f"), cp.fuse(lambda x: x + 1)]
    for k in kernels:
        with pytest.raises(RuntimeError, match="real GPU"):
            k(cp.zeros(2))


def test_copies_are_counted():
    before = copies()
    a = cp.asarray(np.ones(3))
    b = cp.exp(a) * 2.0 + a  # on the device: no copy
    assert copies() == {"d2h": before["d2h"], "h2d": before["h2d"] + 1}
    for read in (cp.asnumpy, lambda x: x.get(), lambda x: x.sum().item(), lambda x: x.tolist(), repr, str,
                 lambda x: float(x[0]), lambda x: bool(x[0])):
        n = copies()["d2h"]
        read(b)
        assert copies()["d2h"] == n + 1
    for sized_by_values in (lambda x: x[x > 2.0], cp.nonzero, lambda x: x.nonzero(), cp.unique):
        n = copies()["d2h"]
        sized_by_values(b)
        assert copies()["d2h"] == n + 1


def test_contract_backend_puts_minigrad_on_the_double(backend, request):
    x = minigrad.ones(2, device=backend)
    on_double = request.node.callspec.params["backend"] == "cupy_contract"
    assert (type(x.array) is ndarray) == on_double
    assert minigrad.cuda.is_available() == (backend == "cupy")


def _mlp_step_setup(backend):
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 300), nn.ReLU(), nn.Linear(300, 10))
    model.to(backend)
    rng = np.random.default_rng(0)
    X = minigrad.tensor(rng.random((300, 784), dtype=np.float32), device=backend)
    y = minigrad.tensor(rng.integers(0, 10, 300), device=backend)
    loader = minigrad.utils.data.DataLoader(minigrad.utils.data.TensorDataset(X, y), batch_size=100, shuffle=True)
    return model, nn.CrossEntropyLoss(), minigrad.optim.Adam(model.parameters(), lr=1e-3), loader


def _train(backend, steps_checked):
    model, loss_fn, opt, loader = _mlp_step_setup(backend)
    losses = []
    for epoch in range(2):
        it = iter(loader)  # the epoch's order goes to the device once, here
        for _ in range(3):
            before = copies()
            xb, yb = next(it)  # the batch gather, on the device
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps_checked.append(copies() == before)
            losses.append(loss.detach())
    return model, losses


def test_training_step_makes_no_host_device_copy(monkeypatch):
    """The course MLP (784-500-300-10 ReLU, CrossEntropy, Adam) with its DataLoader, data on the device: no copy
    per step; the losses and weights equal the NumPy backend's bit for bit (same arithmetic underneath)."""
    install_cupy_double(monkeypatch)
    with minigrad.kernels.disabled():
        ref_model, ref_losses = _train("numpy", [])  # the NumPy reference formulas, as the double runs them
        clean = []
        model, losses = _train("cuda", clean)
    assert len(clean) == 6 and all(clean)
    assert [float(v.item()) for v in losses] == [float(v.item()) for v in ref_losses]
    for (k, p), q in zip(model.state_dict().items(), ref_model.state_dict().values()):
        np.testing.assert_array_equal(p.cpu().numpy(), q.numpy(), err_msg=k)


def test_bad_class_target_raises_at_the_next_sync_point(monkeypatch):
    z = np.zeros((4, 3), np.float32)
    t = np.array([0, 2, 7, 1])
    with pytest.raises(IndexError, match="7"):  # NumPy: at the loss, as before
        nn.functional.cross_entropy(minigrad.tensor(z), minigrad.tensor(t))
    install_cupy_double(monkeypatch)
    before = copies()
    loss = nn.functional.cross_entropy(minigrad.tensor(z, device="cuda"), minigrad.tensor(t, device="cuda"))
    assert copies()["d2h"] == before["d2h"]  # no hidden sync at the loss
    with pytest.raises(IndexError, match="7"):
        loss.item()
    assert float(loss.item()) == float(loss.item())  # reported once, then cleared


@pytest.mark.parametrize("sync", [lambda t: t.cpu(), lambda t: t.tolist(), repr, lambda t: minigrad.cuda.synchronize()])
def test_bce_range_check_raises_at_each_sync_point(monkeypatch, sync):
    install_cupy_double(monkeypatch)
    x = minigrad.tensor(np.array([0.5, 1.5], np.float32), device="cuda")
    y = minigrad.tensor(np.array([0.0, 1.0], np.float32), device="cuda")
    loss = nn.functional.binary_cross_entropy(x, y)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        sync(loss)


def test_serialization_goes_through_the_host(monkeypatch, tmp_path):
    install_cupy_double(monkeypatch)
    w = minigrad.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), device="cuda")
    buf = io.BytesIO()
    minigrad.save({"w": w}, buf)
    buf.seek(0)
    back = minigrad.load(buf)["w"]
    np.testing.assert_array_equal(back.cpu().numpy(), w.cpu().numpy())
    assert type(copy.deepcopy(w).array) is ndarray


def test_randperm_on_the_device(monkeypatch):
    """cupy.random.Generator has no permutation(): randperm sorts random keys on the device instead."""
    install_cupy_double(monkeypatch)
    before = copies()
    p = minigrad.randperm(50, device="cuda")
    assert copies() == before and type(p.array) is ndarray and p.dtype == np.int64
    assert sorted(p.tolist()) == list(range(50))
