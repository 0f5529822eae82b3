"""minigrad.gradcheck on compositions (float64), and proof that it catches a wrong backward."""
import sys

import numpy as np
import pytest
import torch

import minigrad
from minigrad.ops import unary


def _t(shape, seed, backend="numpy", low=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) if low is None else rng.uniform(low, low + 2.0, shape)
    return minigrad.tensor(a, dtype=minigrad.float64, requires_grad=True, device=backend)


def test_mlp_with_softmax_and_log(backend):
    x, W1, b1, W2, b2 = _t((4, 3), 0, backend), _t((3, 5), 1, backend), _t((5,), 2, backend), \
        _t((5, 3), 3, backend), _t((3,), 4, backend)
    y = minigrad.tensor([0, 2, 1, 2], device=backend)

    def loss(x, W1, b1, W2, b2):
        h = minigrad.tanh(x @ W1 + b1).relu() + (x @ W1).sigmoid()
        p = minigrad.softmax(h @ W2 + b2, dim=1)
        return -minigrad.log(p[minigrad.arange(4, device=backend), y]).mean()

    assert minigrad.gradcheck(loss, (x, W1, b1, W2, b2))


def test_log_softmax_logsumexp_var_std(backend):
    x = _t((3, 4), 5, backend)
    assert minigrad.gradcheck(lambda t: minigrad.log_softmax(t, 0) * t, (x,))
    assert minigrad.gradcheck(lambda t: minigrad.logsumexp(t, (0, 1)) + t.var(1).sum() + t.std(), (x,))


def test_broadcasting_chain(backend):
    a, b, c = _t((2, 1, 3), 6, backend), _t((4, 1), 7, backend), _t((3,), 8, backend, low=0.5)
    f = lambda a, b, c: ((a * b - c) / c).exp() + (a + b) ** 2 + c.sqrt() * a  # noqa: E731
    assert minigrad.gradcheck(f, (a, b, c))
    assert minigrad.gradcheck(lambda a, c: c ** a.abs(), (a, c))


def test_indexing_and_shape_ops(backend):
    x = _t((4, 3), 9, backend)
    idx = minigrad.tensor([0, 3, 3, 1], device=backend)  # repeats accumulate

    def f(t):
        return t[idx, 1:] * t[:, None, 0] + t.T[::2].sum() + t[t > 0].sum() + t.reshape(2, 6).permute(1, 0)[3]

    assert minigrad.gradcheck(f, (x,))
    assert minigrad.gradcheck(lambda t: minigrad.cat([t, t * 2], 1).max(1)[0] + t.amax(0).sum(), (x,))
    assert minigrad.gradcheck(lambda t: minigrad.stack([t, t.exp()], 0).mean((0, 2)), (x,))


def test_multiple_outputs_and_non_grad_inputs(backend):
    x, w = _t((3,), 10, backend), minigrad.ones(3, dtype=minigrad.float64, device=backend)
    assert minigrad.gradcheck(lambda a, b: (a * b, a.exp()), (x, w))


def test_matches_torch_gradcheck_verdict():
    x = np.random.default_rng(11).standard_normal((3, 3))
    ok_mg = minigrad.gradcheck(lambda t: (t @ t).tanh(), (minigrad.tensor(x, requires_grad=True),))
    ok_t = torch.autograd.gradcheck(lambda t: (t @ t).tanh(), (torch.tensor(x, requires_grad=True),))
    assert ok_mg and ok_t


def test_float32_inputs_raise_a_clear_error():
    with pytest.raises(ValueError, match="float64"):
        minigrad.gradcheck(lambda t: t * 2, (minigrad.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="requires_grad"):
        minigrad.gradcheck(lambda t: t * 2, (minigrad.ones(2, dtype=minigrad.float64),))


def test_catches_a_wrong_backward(monkeypatch):
    """A deliberately wrong tanh derivative (1 - y instead of 1 - y^2) must be reported."""
    x = _t((2, 3), 12)
    assert minigrad.gradcheck(lambda t: t.tanh(), (x,))
    monkeypatch.setattr(unary.TanhFunction, "backward", lambda self, gy: gy * (1 - self.y))
    with pytest.raises(sys.modules["minigrad.gradcheck"].GradcheckError, match="Jacobian mismatch"):
        minigrad.gradcheck(lambda t: t.tanh() * 2, (x,))
    assert minigrad.gradcheck(lambda t: t.tanh(), (x,), raise_exception=False) is False


def test_catches_a_broadcasting_bug(monkeypatch):
    """A Mul whose gradient ignores the other operand is caught through a broadcast."""
    a, b = _t((2, 3), 13), _t((3,), 14)
    monkeypatch.setattr(minigrad.ops.arith.Mul, "backward", lambda self, gy: (gy, gy))
    assert minigrad.gradcheck(lambda a, b: a * b, (a, b), raise_exception=False) is False


def test_tolerances_are_used():
    """Central differences with eps=1e-3 are off by ~eps^2/6 relative: inside rtol=1e-3, outside 1e-7."""
    x = _t((3,), 15)
    assert minigrad.gradcheck(lambda t: t.exp(), (x,), eps=1e-3, atol=0.0)
    assert minigrad.gradcheck(lambda t: t.exp(), (x,), eps=1e-3, atol=0.0, rtol=1e-7, raise_exception=False) is False
