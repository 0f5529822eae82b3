"""How the loss ops use the CUDA loss kernels (the twins beside the loss ops' formulas, nn/loss.py and nn/loss_elementwise.py), checked on the CPU: the kernels are
swapped for NumPy emulations of what their CUDA source computes (minigrad/kernels/cuda.py), and the op must give
what its xp formulas give with the kernels off: the denominators, ignored rows, reductions and the fallback when a
kernel declines are the hooks' business, and those are what this checks. The CUDA code itself is compared with
the xp formulas on a GPU (tests/test_kernels_gpu.py)."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import kernels


def _ce(z, t, ignore_index=-100):
    """softmax_cross_entropy_CT, row by row in NumPy."""
    N, C = z.shape
    mx = z.max(axis=1, keepdims=True)
    shifted = z - mx
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    ok = t != ignore_index
    ts = np.where(ok, t, 0)
    loss = np.where(ok, -(shifted[np.arange(N), ts] - np.log(s[:, 0])), 0).astype(z.dtype)
    return loss, e / s, ok.astype(z.dtype), np.zeros((), np.int32)


def _ce_backward(p, t, g, ignore_index=-100):
    N, C = p.shape
    onehot = np.arange(C)[None, :] == t[:, None]
    gz = np.where(onehot, p - 1, p) * (g.reshape(-1, 1) if g.size == N and N > 1 else g.reshape(()))
    return np.where((t == ignore_index)[:, None], 0, gz).astype(p.dtype)


def _bce(z, y):
    ls = np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z)))
    return (1 - y) * z - ls


def _bce_backward(z, y, g):
    e = np.exp(-np.abs(z))
    return (np.where(z >= 0, 1 / (1 + e), e / (1 + e)) - y) * g


@pytest.fixture
def emulated(monkeypatch):
    calls = []

    def rec(name, fn):
        def wrapped(*args):
            if not kernels.is_enabled():  # as the real dispatch: off means the xp formulas
                return None
            calls.append(name)
            return fn(*args)
        return wrapped

    # as on the GPU, where knowing that no target is ignored would cost a sync: cross_entropy() takes the general
    # op, whose twin these kernels are (on the host, plain class targets take the course's formula, no twin)
    monkeypatch.setattr(minigrad.backend, "all_true", lambda a: False)
    for name, fn in (("softmax_cross_entropy", _ce), ("softmax_cross_entropy_backward", _ce_backward),
                     ("bce_with_logits", _bce), ("bce_with_logits_backward", _bce_backward)):
        monkeypatch.setattr(kernels, name, rec(name, fn))
    return calls


def _run(fn, arrays, upstream=None):
    ts = [minigrad.tensor(a, requires_grad=a.dtype.kind == "f" and i == 0) for i, a in enumerate(arrays)]
    out = fn(*ts)
    out.backward(None if upstream is None else minigrad.tensor(upstream))
    return out.array.copy(), ts[0].grad.array.copy()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy_through_the_kernels_equals_the_xp_formulas(emulated, reduction, dtype, ignored):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((9, 5)) * 4).astype(dtype)
    t = rng.integers(0, 5, 9)
    if ignored:
        t[[2, 7]] = -100
    up = rng.standard_normal(9).astype(dtype) if reduction == "none" else None
    fused = _run(lambda a, b: F.cross_entropy(a, b, reduction=reduction), [z, t], up)
    assert emulated == ["softmax_cross_entropy", "softmax_cross_entropy_backward"]
    with kernels.disabled():
        ref = _run(lambda a, b: F.cross_entropy(a, b, reduction=reduction), [z, t], up)
    assert len(emulated) == 2
    for a, b in zip(fused, ref):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_cross_entropy_backward_falls_back_when_its_kernel_declines(emulated, monkeypatch):
    monkeypatch.setattr(kernels, "softmax_cross_entropy_backward", lambda *a: None)
    rng = np.random.default_rng(1)
    z, t = rng.standard_normal((6, 4)), np.array([0, 3, -100, 1, 2, -100])
    fused = _run(F.cross_entropy, [z, t])
    with kernels.disabled():
        ref = _run(F.cross_entropy, [z, t])
    for a, b in zip(fused, ref):
        np.testing.assert_array_equal(a, b)


def test_options_without_a_kernel_keep_the_xp_path(emulated):
    z, t = np.ones((3, 4)), np.array([0, 1, 2])
    F.cross_entropy(minigrad.tensor(z), minigrad.tensor(t), label_smoothing=0.1)
    F.cross_entropy(minigrad.tensor(z), minigrad.tensor(t), weight=minigrad.ones(4, dtype=minigrad.float64))
    F.binary_cross_entropy_with_logits(minigrad.tensor(z), minigrad.tensor(z), pos_weight=minigrad.tensor(z[0]))
    assert emulated == []


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_through_the_kernels_equals_the_xp_formulas(emulated, reduction):
    rng = np.random.default_rng(2)
    z = (rng.standard_normal((7, 3)) * 30).astype(np.float32)
    y = rng.random((7, 3)).astype(np.float32)
    up = rng.standard_normal((7, 3)).astype(np.float32) if reduction == "none" else None
    f = lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction)  # noqa: E731
    fused = _run(f, [z, y], up)
    assert emulated == ["bce_with_logits", "bce_with_logits_backward"]
    with kernels.disabled():
        ref = _run(f, [z, y], up)
    assert len(emulated) == 2
    for a, b in zip(fused, ref):
        np.testing.assert_array_equal(a, b)
