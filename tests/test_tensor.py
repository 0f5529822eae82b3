"""Tensor API against torch: dtype inference, conversions, repr, shape queries, factories, devices."""
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from support.helpers import assert_close, to_torch


def _same(mg, t, exact=True):
    """Same dtype, shape and values (exactly, or within assert_close tolerances)."""
    assert str(mg.dtype) == str(t.dtype) and repr(mg.dtype) == repr(t.dtype), (mg.dtype, t.dtype)
    assert mg.shape == tuple(t.shape)
    if exact:
        assert np.array_equal(mg.numpy(), t.numpy(), equal_nan=True)
    else:
        assert_close(mg, t)


# ---- construction and dtype inference ----------------------------------------------------------
@pytest.mark.parametrize("data", [
    [1.0, 2.5], [1, 2, 3], [True, False], [True, 1], [True, 1.0], [1, 2.5], [[1, 2], [3, 4]], 3.5, 7, False,
    [], [[]], np.array([1.0, 2.0]), np.array([1.0], np.float32), np.array([1, 2], np.int32), np.float64(2.0),
    np.float32(2.0), np.int64(3), np.array(5.0), [np.float64(1.0), 2.0],
], ids=repr)
def test_tensor_dtype_inference_like_torch(data):
    """Python floats -> float32, ints -> int64, bools -> bool; a NumPy array keeps its dtype."""
    _same(minigrad.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("name", ["float32", "float", "float64", "double", "long", "int64", "int32", "bool"])
def test_tensor_dtype_argument(name):
    _same(minigrad.tensor([0.0, 1.5, -2.0], dtype=getattr(minigrad, name)),
          torch.tensor([0.0, 1.5, -2.0], dtype=getattr(torch, name)))


def test_tensor_copies_its_input():
    a = np.ones(3, np.float32)
    t = minigrad.tensor(a)
    a[0] = 5
    assert t[0].item() == 1.0
    assert minigrad.from_numpy(a)[0].item() == 5.0  # from_numpy shares memory, as torch


def test_unsupported_data_raises():
    with pytest.raises(TypeError):
        minigrad.tensor(["a", "b"])


# ---- conversions -------------------------------------------------------------------------------
def test_item_numpy_tolist():
    t = minigrad.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert minigrad.tensor(3.5).item() == 3.5 and isinstance(minigrad.tensor(3).item(), int)
    assert isinstance(t.sum().item(), float) and isinstance(minigrad.tensor([True]).item(), bool)
    assert t.tolist() == torch.tensor([[1.5, 2.0], [3.0, 4.0]]).tolist()
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().dtype == np.float32
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar|elements"):
        t.item()
    r = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        r.numpy()
    assert r.detach().numpy().tolist() == [1.0]


def test_detach_clone_requires_grad_():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.data[0] = 9.0  # detach shares storage, as in torch
    assert x[0].item() == 9.0
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    y = minigrad.tensor([1.0, 2.0])
    assert y.requires_grad_() is y and y.requires_grad
    y.requires_grad_(False)
    assert not y.requires_grad
    with pytest.raises(RuntimeError):
        (x * 2).requires_grad_(False)


@pytest.mark.parametrize("conv", [
    lambda t, L: t.to(L.float64), lambda t, L: t.to(L.int64), lambda t, L: t.to(dtype=L.float16),
    lambda t, L: t.type(L.float64), lambda t, L: t.type(L.long), lambda t, L: t.float(), lambda t, L: t.long(),
    lambda t, L: t.double(), lambda t, L: t.int(), lambda t, L: t.bool(), lambda t, L: t.half(),
    lambda t, L: t.to("cpu", L.float64), lambda t, L: t.to(L.device("cpu")), lambda t, L: t.type_as(L.ones(1).long()),
    lambda t, L: t.to(L.zeros(1, dtype=L.float64)),
])
def test_dtype_conversions(conv):
    data = [-1.7, 0.0, 0.5, 2.9, 3.0]
    _same(conv(minigrad.tensor(data), minigrad), conv(torch.tensor(data), torch))


def test_type_names_like_torch():
    for data, dt in [([1.0], "float32"), ([1], "int64"), ([1.0], "float64"), ([True], "bool"), ([1], "int32")]:
        mg, t = minigrad.tensor(data, dtype=getattr(minigrad, dt)), torch.tensor(data, dtype=getattr(torch, dt))
        assert mg.type() == t.type()
    assert minigrad.ones(2).type("torch.DoubleTensor").dtype == minigrad.float64


def test_to_dtype_keeps_gradient_path():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == minigrad.float32 and x.grad.tolist() == [3.0, 3.0]


# ---- repr ---------------------------------------------------------------------------------------
@given(a=hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.bool_]),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12)),
       scale=st.sampled_from([1e-6, 1e-3, 1.0, 1e3, 1e9]), rounded=st.booleans(), grad=st.booleans())
def test_repr_like_torch(a, scale, rounded, grad):
    if a.dtype.kind == "f":
        a = np.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-2.0).clip(-1e3, 1e3) * a.dtype.type(scale)
        a = np.round(a) if rounded else a
    grad = grad and a.dtype.kind == "f"
    mg, t = minigrad.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)
    assert repr(mg) == repr(t)
    if grad:
        assert repr(mg * 2) == repr(t * 2)


@pytest.mark.parametrize("make", [
    lambda L: L.arange(2000), lambda L: L.ones(40, 40), lambda L: L.tensor([float("nan"), float("inf"), 1.0]),
    lambda L: L.tensor([1e-8, 1.0]), lambda L: L.zeros(2, 0), lambda L: L.tensor(-0.0),
    lambda L: L.linspace(-5, 5, 30, dtype=L.float64), lambda L: L.tensor(1.5, requires_grad=True),
])
def test_repr_special_cases(make):
    assert repr(make(minigrad)) == repr(make(torch))


def test_format_of_0d_tensor():
    loss = minigrad.tensor(0.123456)
    assert f"{loss:.3f}" == f"{torch.tensor(0.123456):.3f}" == "0.123"
    assert f"{minigrad.tensor(3)}" == f"{torch.tensor(3)}"


# ---- shape queries ------------------------------------------------------------------------------
@given(a=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
                    elements=st.just(1.0)))
def test_shape_size_numel_ndim_len_iter(a):
    mg, t = minigrad.tensor(a), torch.tensor(a)
    assert mg.shape == tuple(t.shape) and mg.size() == tuple(t.size())
    assert mg.numel() == t.numel() and mg.ndim == t.ndim and mg.dim() == t.dim()
    if a.ndim:
        assert len(mg) == len(t) and mg.size(-1) == t.size(-1)
        assert [r.shape for r in mg] == [tuple(r.shape) for r in t]
    else:
        with pytest.raises(TypeError):
            len(mg)


# ---- factories -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda L: L.zeros(2, 3), lambda L: L.zeros((2, 3)), lambda L: L.ones([4]), lambda L: L.ones(2, dtype=L.int64),
    lambda L: L.zeros_like(L.tensor([1, 2])), lambda L: L.ones_like(L.tensor([1.0]), dtype=L.float64),
    lambda L: L.full((2, 2), 1.5), lambda L: L.full((3,), 7), lambda L: L.full((2,), True),
    lambda L: L.full_like(L.ones(2, 2), 3.0), lambda L: L.arange(5), lambda L: L.arange(1, 10, 3),
    lambda L: L.arange(10, 0, -3), lambda L: L.arange(5, dtype=L.float32), lambda L: L.eye(3),
    lambda L: L.eye(2, 4), lambda L: L.empty(3, 2).fill_(0.5), lambda L: L.linspace(0, 1, 5),
    lambda L: L.linspace(-3, 7, 11, dtype=L.float64), lambda L: L.zeros(0),
], ids=lambda f: "")
def test_factories_exact(make):
    _same(make(minigrad), make(torch))


@given(start=st.integers(-20, 20), n=st.integers(0, 60), step=st.sampled_from([0.1, 0.25, 0.3, 1.5, 0.07]),
       steps=st.integers(0, 50), f64=st.booleans())
def test_float_arange_linspace_close_to_torch(start, n, step, steps, f64):
    """Values agree to float tolerance (torch's vectorised kernels round a few values differently)."""
    mdt, tdt = (minigrad.float64, torch.float64) if f64 else (minigrad.float32, torch.float32)
    end = start / 3 + n * step
    _same(minigrad.arange(start / 3, end, step, dtype=mdt), torch.arange(start / 3, end, step, dtype=tdt), exact=False)
    _same(minigrad.linspace(start / 7, end, steps, dtype=mdt), torch.linspace(start / 7, end, steps, dtype=tdt),
          exact=False)


def test_random_factories_shapes_dtypes_ranges():
    r, n = minigrad.rand(1000), minigrad.randn(200, 5, dtype=minigrad.float64)
    assert r.dtype == minigrad.float32 and r.shape == (1000,) and 0 <= r.min().item() and r.max().item() < 1
    assert n.dtype == minigrad.float64 and n.shape == (200, 5) and abs(n.mean().item()) < 0.2
    assert 0.8 < n.std().item() < 1.2
    i = minigrad.randint(3, 10, (500,))
    assert i.dtype == minigrad.int64 and i.min().item() >= 3 and i.max().item() <= 9
    assert minigrad.randint(5, (2, 2)).shape == (2, 2)  # randint(high, size)
    p = minigrad.randperm(50)
    assert p.dtype == minigrad.int64 and sorted(p.tolist()) == list(range(50))
    assert minigrad.rand(2, 3, requires_grad=True).requires_grad
    assert minigrad.rand_like(n).dtype == minigrad.float64 and minigrad.randn_like(r).shape == r.shape


@pytest.mark.parametrize("draw", [
    lambda: minigrad.rand(3, 4), lambda: minigrad.randn(5), lambda: minigrad.randint(0, 100, (6,)),
    lambda: minigrad.randperm(10), lambda: minigrad.rand(2, dtype=minigrad.float64),
])
def test_manual_seed_reproducibility(draw):
    minigrad.manual_seed(123)
    a, b = draw(), draw()
    minigrad.manual_seed(123)
    a2, b2 = draw(), draw()
    minigrad.manual_seed(124)
    c = draw()
    assert np.array_equal(a.numpy(), a2.numpy()) and np.array_equal(b.numpy(), b2.numpy())
    assert not np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a.numpy(), c.numpy())


# ---- devices -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dev", ["cpu", "numpy", "cpu:0", minigrad.device("cpu")])
def test_to_cpu_aliases(dev):
    t = minigrad.tensor([1.0, 2.0])
    assert t.to(dev) is t and t.cpu() is t and t.device.type == "cpu" and t.device == "cpu"
    assert minigrad.zeros(2, device=dev).backend == "numpy"
    assert str(minigrad.device(dev) if isinstance(dev, str) else dev).startswith("cpu")


def test_to_cuda_without_gpu_raises_with_install_hint():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is available: .to('cuda') works here")
    for make in (lambda: minigrad.ones(2).to("cuda"), lambda: minigrad.ones(2).cuda(),
                 lambda: minigrad.ones(2, device="cuda"), lambda: minigrad.tensor([1.0], device="cupy")):
        with pytest.raises(RuntimeError) as err:
            make()
        msg = str(err.value)
        assert "CuPy" in msg and "pip install" in msg


def test_backend_round_trip(backend):
    t = minigrad.tensor([1.0, 2.0], device=backend, requires_grad=True)
    u = t.to(backend).cpu().to(backend)
    assert u.backend == backend
    (u * 2).sum().backward()
    assert t.grad.backend == backend
    assert_close(t.grad, to_torch(np.array([2.0, 2.0], np.float32)))


# ---- dtypes as torch's ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float32", "float", "float64", "double", "float16", "half", "int64", "long",
                                  "int32", "int", "int16", "short", "int8", "uint8", "bool"])
def test_dtypes_print_compare_and_feed_numpy_as_torch(name):
    d, td = getattr(minigrad, name), getattr(torch, name)
    assert str(d) == str(td) and repr(d) == repr(td) and f"{d}" == f"{td}"
    assert isinstance(d, minigrad.dtype) and d is getattr(minigrad, str(td).split(".")[1])  # aliases are one object
    assert d.is_floating_point == td.is_floating_point and d.is_signed == td.is_signed and d.itemsize == td.itemsize
    np_d = np.dtype(str(td).split(".")[1])
    assert d == np_d and np_d == d and d == np_d.type and not (d != np_d) and hash(d) == hash(np_d)
    assert {np_d: 1}[d] == 1 and {d: 2}[np_d] == 2
    assert np.zeros(3, dtype=d).dtype == np_d and np.ones(2).astype(d).dtype == np_d and np.dtype(d) == np_d
    t = minigrad.zeros(2, dtype=d)
    assert t.dtype is d and t.dtype == d and t.numpy().dtype == np_d
    assert str(t.dtype) == str(torch.zeros(2, dtype=td).dtype)
    assert pickle.loads(pickle.dumps(d)) is d


def test_dtype_equality_is_by_type():
    assert minigrad.float32 != minigrad.float64 and minigrad.float32 != np.float64 and minigrad.int64 != "x"
    assert minigrad.get_default_dtype() is minigrad.float32 == torch.get_default_dtype().__repr__().split(".")[1]
    assert minigrad.tensor([1.0]).dtype == minigrad.float and minigrad.tensor([1]).dtype == minigrad.long
    assert minigrad.float32 in (np.float32, np.float64) and minigrad.ones(1).dtype in (minigrad.float32,)


def test_shape_and_type_print_as_torch():
    for L in (minigrad, torch):
        assert repr(L.ones(2, 3).shape) == "torch.Size([2, 3])" and L.ones(2).type() == "torch.FloatTensor"
        assert repr(L.tensor([1.0, 2.0], dtype=L.float64)) == "tensor([1., 2.], dtype=torch.float64)"


def test_list_of_0d_tensors_keeps_their_dtype():
    for make in (lambda L: [L.tensor(1.0, dtype=L.float64), L.tensor(2.0, dtype=L.float64)],
                 lambda L: [L.tensor(1), 2.5], lambda L: [L.tensor(1, dtype=L.int32), L.tensor(2, dtype=L.int32)]):
        assert repr(minigrad.tensor(make(minigrad))) == repr(torch.tensor(make(torch)))
