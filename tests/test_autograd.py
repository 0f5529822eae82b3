"""The reverse-mode engine against torch: accumulation, errors, grad modes, deep/diamond graphs, aliasing."""
import numpy as np
import pytest
import torch

import minigrad
from minigrad import autograd
from support.helpers import assert_close, to_torch, torch_device


def _pair(values, backend="numpy", dtype="float32", requires_grad=True):
    a = np.asarray(values, dtype=dtype)
    return (minigrad.tensor(a, device=backend, requires_grad=requires_grad),
            torch.tensor(a, device=torch_device(backend), requires_grad=requires_grad))


def test_grads_accumulate_over_two_backward_calls(backend):
    x, tx = _pair([1.0, -2.0, 3.0], backend)
    for _ in range(2):
        (x * x).sum().backward()
        (tx * tx).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(x.grad, 2 * 2 * np.array([1.0, -2.0, 3.0], np.float32))


def test_backward_on_non_scalar_without_gradient_raises(backend):
    x, tx = _pair([1.0, 2.0], backend)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (tx * 2).backward()
    (x * 2).backward(minigrad.ones(2, device=backend))  # an explicit gradient works
    (tx * 2).backward(torch.ones(2, device=tx.device))
    assert_close(x.grad, tx.grad)


def test_backward_wrong_gradient_shape_raises():
    x = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(minigrad.ones(2))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.ones(2).sum().backward()


def test_second_backward_through_freed_graph_raises(backend):
    x, tx = _pair([1.0, 2.0], backend)
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward()
    ty.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ty.backward()


def test_retain_graph_allows_second_backward(backend):
    x, tx = _pair([1.0, 2.0], backend)
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward(retain_graph=True)
    ty.backward(retain_graph=True)
    y.backward()
    ty.backward()
    assert_close(x.grad, tx.grad)


def test_no_grad_enable_grad_set_grad_enabled():
    x = minigrad.ones(2, requires_grad=True)
    with minigrad.no_grad():
        assert not minigrad.is_grad_enabled()
        y = x * 2
        with minigrad.enable_grad():
            assert minigrad.is_grad_enabled()
            z = x * 2
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    with minigrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    minigrad.set_grad_enabled(False)  # a plain call switches the mode, as in torch
    try:
        assert not (x * 2).requires_grad
    finally:
        minigrad.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_no_grad_as_decorator_and_restores_after_exception():
    @minigrad.no_grad()
    def f(t):
        return t * 2

    x = minigrad.ones(2, requires_grad=True)
    assert not f(x).requires_grad and minigrad.is_grad_enabled()
    with pytest.raises(ValueError):
        with minigrad.no_grad():
            raise ValueError
    assert minigrad.is_grad_enabled()


def test_graph_only_built_when_an_input_requires_grad():
    a, b = minigrad.ones(2), minigrad.ones(2)
    y = (a * b).exp().sum()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    c = minigrad.ones(2, requires_grad=True)
    y = (a * c).sum()
    assert y.requires_grad and y.grad_fn is not None and not y.is_leaf
    assert y.grad_fn.name() == "SumBackward0"
    y.backward()
    assert a.grad is None and c.grad is not None


def test_deep_chain_of_10000_ops_has_no_recursion_limit(backend):
    x, tx = _pair([0.5], backend, dtype="float64")
    y, ty = x, tx
    for _ in range(10_000):
        y = y * 1.0001
        ty = ty * 1.0001
    y.sum().backward()
    ty.sum().backward()
    assert_close(x.grad, tx.grad)


def test_diamond_graph_sums_both_paths(backend):
    x, tx = _pair([1.0, -2.0, 0.5], backend)

    def f(t, lib):
        a = lib.exp(t)  # x feeds two branches that meet again
        return (a * t + lib.tanh(a) * a).sum()

    f(x, minigrad).backward()
    f(tx, torch).backward()
    assert_close(x.grad, tx.grad)


def test_same_tensor_used_twice_in_one_op(backend):
    x, tx = _pair([1.0, -2.0, 3.0], backend)
    (x * x + x / x).sum().backward()
    (tx * tx + tx / tx).sum().backward()
    assert_close(x.grad, tx.grad)


def test_leaf_grads_never_alias_each_other(backend):
    a, ta = _pair([1.0, 2.0], backend)
    b, tb = _pair([3.0, 4.0], backend)
    (a + b).sum().backward()
    a.grad.zero_()
    assert_close(b.grad, np.ones(2, np.float32))
    # the seed gradient handed to backward is not aliased by a leaf's .grad either
    x = minigrad.ones(2, requires_grad=True, device=backend)
    g = minigrad.ones(2, device=backend)
    x.backward(g)
    x.grad.zero_()
    assert_close(g, np.ones(2, np.float32))


def test_retain_grad_on_non_leaf(backend):
    x, tx = _pair([1.0, 2.0, 3.0], backend)
    h, th = x * 2, tx * 2
    h.retain_grad()
    th.retain_grad()
    (h * h).sum().backward()
    (th * th).sum().backward()
    assert_close(h.grad, th.grad)
    assert_close(x.grad, tx.grad)
    h2 = x * 3
    (h2 * h2).sum().backward()
    assert h2.grad is None  # without retain_grad a non-leaf keeps no .grad (torch warns, returns None)


def test_requires_grad_on_int_tensor_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.tensor([1, 2, 3]).requires_grad_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2, 3], requires_grad=True)


def test_inplace_on_leaf_requiring_grad(backend):
    w = minigrad.ones(3, requires_grad=True, device=backend)
    for op in (lambda: w.sub_(1.0), lambda: w.add_(1.0), lambda: w.mul_(2.0), lambda: w.zero_(),
               lambda: w.__isub__(0.1)):
        with pytest.raises(RuntimeError, match="in-place"):
            op()
    with minigrad.no_grad():
        w -= 0.5
        w.mul_(2.0)
    assert w.requires_grad and w.is_leaf
    assert_close(w, np.ones(3, np.float32))


def test_two_backends_error_names_both(monkeypatch):
    """On the CuPy double: an op given a cpu and a cuda tensor refuses, naming the op and both devices."""
    from conftest import install_cupy_double

    install_cupy_double(monkeypatch)
    a, b = minigrad.ones(2), minigrad.ones(2, device="cuda")
    with pytest.raises(RuntimeError) as err:
        a + b
    msg = str(err.value)
    assert "Add" in msg and "numpy" in msg and "cupy" in msg and "same device" in msg
    assert (b + b).device.type == "cuda" and (a + a).device.type == "cpu"  # one backend: no error


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["add", "mul", "div", "exp", "log", "sqrt", "relu", "sigmoid", "tanh",
                                  "softmax", "log_softmax", "sum", "max", "abs", "pow", "maximum", "minimum",
                                  "leaky_relu", "clamp", "mean", "amax", "max_dim", "matmul"])
def test_nan_and_inf_flow_like_torch(backend, name):
    values = [np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0]
    x, tx = _pair(values, backend)
    fns = {
        "add": lambda t, m: t + t, "mul": lambda t, m: t * 2.0, "div": lambda t, m: 1.0 / t,
        "exp": lambda t, m: m.exp(t), "log": lambda t, m: m.log(t), "sqrt": lambda t, m: m.sqrt(t),
        "relu": lambda t, m: m.relu(t), "sigmoid": lambda t, m: m.sigmoid(t), "tanh": lambda t, m: m.tanh(t),
        "softmax": lambda t, m: m.softmax(t, 0), "log_softmax": lambda t, m: m.log_softmax(t, 0),
        "sum": lambda t, m: m.sum(t), "max": lambda t, m: m.max(t), "abs": lambda t, m: m.abs(t),
        "pow": lambda t, m: t ** 2, "maximum": lambda t, m: m.maximum(t, t * 0.0 + 0.5),
        "minimum": lambda t, m: m.minimum(t, m.zeros_like(t)), "clamp": lambda t, m: m.clamp(t, -0.5, 0.5),
        "leaky_relu": lambda t, m: (m.leaky_relu if m is minigrad else torch.nn.functional.leaky_relu)(t, 0.1),
        "mean": lambda t, m: t.mean(), "amax": lambda t, m: m.amax(t.reshape(2, 3), 1),
        "max_dim": lambda t, m: m.max(t.reshape(3, 2), 1)[0], "matmul": lambda t, m: t.reshape(2, 3) @ t[:3],
    }
    y, ty = fns[name](x, minigrad), fns[name](tx, torch)
    assert_close(y, ty)
    g = np.linspace(-1, 1, ty.numel()).astype(np.float32).reshape(tuple(ty.shape))
    y.backward(minigrad.tensor(g, device=backend))
    ty.backward(to_torch(g, backend))
    assert_close(x.grad, tx.grad)


def test_zero_dim_grad_stays_an_array_when_it_accumulates(backend):
    # the course's scalar-weight regression: backward, update under no_grad, grad.zero_(), again
    w, tw = _pair(0.0, backend)
    x, tx = _pair([1.0, 2.0, 3.0, 4.0], backend, requires_grad=False)
    for _ in range(3):
        for a, b, lib in ((w, x, minigrad), (tw, tx, torch)):
            ((a * b - 2 * b) ** 2).mean().backward()
            with lib.no_grad():
                a -= 0.01 * a.grad
            a.grad.zero_()
    ((w * x) ** 2).mean().backward()
    ((tw * tx) ** 2).mean().backward()  # a second accumulation into the zeroed 0-d grad
    assert w.grad.shape == () and w.grad.array.ndim == 0 and hasattr(w.grad.array, "flags")
    assert_close(w.grad, tw.grad)
    assert_close(w, tw)
