"""One helper that checks a minigrad op against torch: forward and every input gradient."""
import numpy as np
import torch

import minigrad
from minigrad.backend import to_numpy


def torch_device(backend):
    """torch's device for a minigrad backend: on the CuPy double (no GPU) torch runs on the CPU."""
    return "cuda" if backend == "cupy" and not on_cupy_double() else "cpu"


def on_cupy_double():
    from support.cupy_double import cupy as double

    return minigrad.backend._cupy is double


def to_torch(t, backend="numpy"):
    """A torch tensor with the same values as a minigrad tensor or array (host copy)."""
    a = to_numpy(t.array if isinstance(t, minigrad.Tensor) else t)
    return torch.from_numpy(np.array(a, copy=True)).to(torch_device(backend))


def assert_close(actual, expected, **kw):
    """torch.testing.assert_close with its dtype defaults; minigrad side may be Tensor or array."""
    if isinstance(actual, minigrad.Tensor):
        actual = actual.array
    actual = torch.from_numpy(np.array(to_numpy(actual), copy=True))
    expected = expected.detach().cpu() if isinstance(expected, torch.Tensor) else torch.as_tensor(expected)
    torch.testing.assert_close(actual, expected, equal_nan=True, **kw)


def check_op(mg_fn, torch_fn, arrays, backend="numpy", grad=True, upstream_seed=0, **tol):
    """Run mg_fn and torch_fn on the same inputs; compare outputs, dtypes and every input gradient.

    arrays: NumPy arrays (float arrays get requires_grad when grad=True). Returns (mg_out, torch_out).
    """
    mg_in, t_in = [], []
    for a in arrays:
        a = np.asarray(a)
        rg = grad and a.dtype.kind == "f"
        mg_in.append(minigrad.tensor(a, device=backend, requires_grad=rg))
        t_in.append(torch.tensor(a, device=torch_device(backend), requires_grad=rg))
    y = mg_fn(*mg_in)
    ty = torch_fn(*t_in)
    assert y.dtype == _np_dtype(ty.dtype), f"dtype {y.dtype} != torch {ty.dtype}"
    assert y.shape == tuple(ty.shape), f"shape {y.shape} != torch {tuple(ty.shape)}"
    assert_close(y, ty, **tol)
    if grad and ty.requires_grad:
        rng = np.random.default_rng(upstream_seed)
        g = rng.standard_normal(ty.shape).astype(_np_dtype(ty.dtype))
        y.backward(minigrad.tensor(g, device=backend))
        ty.backward(torch.tensor(g, device=torch_device(backend)))
        for i, (m, t) in enumerate(zip(mg_in, t_in)):
            if not t.requires_grad:
                continue
            if t.grad is None:
                assert m.grad is None or not np.any(to_numpy(m.grad.array)), f"input {i}: torch has no grad"
                continue
            assert m.grad is not None, f"input {i}: minigrad produced no gradient"
            assert m.grad.dtype == m.dtype and m.grad.shape == m.shape
            assert_close(m.grad, t.grad, **tol)
    return y, ty


def _np_dtype(torch_dtype):
    return np.dtype(str(torch_dtype).replace("torch.", ""))
