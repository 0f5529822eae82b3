"""nn.BatchNorm1d (fused op, composed twin, running statistics) and nn.utils.clip_grad_* against torch."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.backend import to_numpy
from support.helpers import assert_close, check_op, to_torch, torch_device

DTYPES = [np.float32, np.float64]


def _tol(dtype):
    # a normalisation divides by a batch std: float64 to ~1e-12, float32 at assert_close's defaults
    return dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else {}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@given(n=st.integers(2, 9), c=st.integers(1, 5), length=st.sampled_from([None, 1, 4]), affine=st.booleans(),
       scale=st.sampled_from([1e-2, 1.0, 1e3]), seed=st.integers(0, 2**16))
def test_batch_norm_training_forward_and_grads_match_torch(backend, dtype, n, c, length, affine, scale, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c) if length is None else (n, c, length)
    x = (rng.standard_normal(shape) * scale + rng.standard_normal()).astype(dtype)
    arrays = [x]
    if affine:
        arrays += [rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)]

    def reference(*a):
        # torch's float32 CPU forward is x * alpha + beta (alpha = w / std, beta = b - mean * alpha), which loses
        # |mean| / std ulps to cancellation; we compute (x - mean) / std. The reference is torch in float64,
        # rounded to float32 (the cast's backward casts the gradients too), held to float32's default tolerances.
        out = torch.nn.functional.batch_norm(a[0].double(), None, None, *[t.double() for t in a[1:]], training=True)
        return out.to(a[0].dtype)

    # dL/dx sums three terms of size ~ 1/std that cancel: with std << |x| float32 cannot carry it to 1e-6
    # (torch's float32 neither), so float32 gradients are held to the defaults on well-scaled data only
    grad = dtype == np.float64 or scale == 1.0
    check_op(lambda *a: F.batch_norm(a[0], None, None, *a[1:], training=True), reference, arrays, backend,
             grad=grad, **_tol(dtype))
    if scale == 1.0:  # well-conditioned data: torch in float32 agrees with us at the default tolerances too
        y = F.batch_norm(minigrad.tensor(x, device=backend), None, None, training=True)
        assert_close(y, torch.nn.functional.batch_norm(to_torch(x, backend), None, None, training=True))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(8, 3), (5, 4, 6)])
def test_fused_equals_composed(backend, dtype, shape):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape).astype(dtype) * 3 + 1, rng.standard_normal(shape[1]).astype(dtype),
              rng.standard_normal(shape[1]).astype(dtype)]
    g = rng.standard_normal(shape).astype(dtype)
    outs = []
    for fn in (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), F.batch_norm_composed):
        ts = [minigrad.tensor(a, device=backend, requires_grad=True) for a in arrays]
        y = fn(*ts)
        y.backward(minigrad.tensor(g, device=backend))
        outs.append([to_numpy(y.array)] + [to_numpy(t.grad.array) for t in ts])
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for a, b in zip(*outs):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kwargs", [dict(), dict(momentum=0.3, eps=1e-3), dict(momentum=None),
                                    dict(affine=False), dict(track_running_stats=False)])
def test_batchnorm1d_module_train_then_eval_matches_torch(backend, dtype, kwargs):
    """Several training steps (running stats, the optimizer moving weight and bias), then eval, as torch."""
    rng = np.random.default_rng(11)
    C = 4
    bn = nn.BatchNorm1d(C, **kwargs).to(np.dtype(dtype)).to(backend)
    tdt = getattr(torch, np.dtype(dtype).name)
    tbn = torch.nn.BatchNorm1d(C, **kwargs).to(dtype=tdt, device=torch_device(backend))
    params, tparams = list(bn.parameters()), list(tbn.parameters())
    opt = minigrad.optim.SGD(params, lr=0.1) if params else None
    topt = torch.optim.SGD(tparams, lr=0.1) if tparams else None
    for step in range(4):
        x = (rng.standard_normal((6 + step, C)) * (step + 1) + step).astype(dtype)
        g = rng.standard_normal(x.shape).astype(dtype)
        y, ty = bn(minigrad.tensor(x, device=backend)), tbn(to_torch(x, backend))
        assert_close(y, ty, **_tol(dtype))
        if params:
            opt.zero_grad()
            topt.zero_grad()
            y.backward(minigrad.tensor(g, device=backend))
            ty.backward(to_torch(g, backend))
            opt.step()
            topt.step()
    for name, tb in tbn.named_buffers():
        b = getattr(bn, name)
        assert b.dtype == _np(tb.dtype), name
        assert_close(b, tb, **_tol(dtype))
    assert set(dict(bn.named_buffers())) == set(dict(tbn.named_buffers()))
    bn.eval()
    tbn.eval()
    x = rng.standard_normal((5, C)).astype(dtype)
    xt = to_torch(x, backend).requires_grad_(True)
    xm = minigrad.tensor(x, device=backend, requires_grad=True)
    y, ty = bn(xm), tbn(xt)
    assert_close(y, ty, **_tol(dtype))
    g = rng.standard_normal(x.shape).astype(dtype)
    y.backward(minigrad.tensor(g, device=backend))
    ty.backward(to_torch(g, backend))
    assert_close(xm.grad, xt.grad, **_tol(dtype))


def _np(tdtype):
    return {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64}[tdtype]


def test_batchnorm1d_state_dict_keys_match_torch():
    assert list(nn.BatchNorm1d(3).state_dict()) == list(torch.nn.BatchNorm1d(3).state_dict())


def test_batchnorm1d_errors(backend):
    bn = nn.BatchNorm1d(3).to(backend)
    with pytest.raises(ValueError) as e:
        bn(minigrad.zeros(1, 3, device=backend))  # one value per channel: no variance in training
    assert "1" in str(e.value)
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(3)(torch.zeros(1, 3))
    with pytest.raises(ValueError) as e:
        bn(minigrad.zeros(2, 3, 4, 5, device=backend))
    assert "4D" in str(e.value)
    bn.eval()
    assert bn(minigrad.zeros(1, 3, device=backend)).shape == (1, 3)  # eval: running stats, one row is fine


# ---- clip_grad -----------------------------------------------------------------------------------
def _with_grads(dtype, backend, scale, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    mg, tt = [], []
    for s in shapes:
        w, g = rng.standard_normal(s).astype(dtype), (rng.standard_normal(s) * scale).astype(dtype)
        p, tp = minigrad.tensor(w, device=backend, requires_grad=True), to_torch(w, backend).requires_grad_(True)
        p.grad, tp.grad = minigrad.tensor(g, device=backend), to_torch(g, backend)
        mg.append(p)
        tt.append(tp)
    return mg, tt


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 100.0])  # below, near and above max_norm
def test_clip_grad_norm_matches_torch(backend, dtype, norm_type, scale):
    mg, tt = _with_grads(dtype, backend, scale)
    total = nn.utils.clip_grad_norm_(mg, 1.0, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tt, 1.0, norm_type=norm_type, foreach=False)
    assert total.dtype == dtype
    assert_close(total, ttotal, **_tol(dtype))
    for p, tp in zip(mg, tt):
        assert p.grad.dtype == dtype
        assert_close(p.grad, tp.grad, **_tol(dtype))


def test_clip_grad_norm_nonfinite_and_value(backend):
    mg, tt = _with_grads(np.float32, backend, 1.0)
    mg[0].grad.array[0, 0] = np.inf if backend == "numpy" else mg[0].grad.array[0, 0] * np.inf
    with pytest.raises(RuntimeError) as e:
        nn.utils.clip_grad_norm_(mg, 1.0, error_if_nonfinite=True)
    assert "non-finite" in str(e.value)
    mg, tt = _with_grads(np.float32, backend, 3.0)
    nn.utils.clip_grad_value_(mg, 0.5)
    torch.nn.utils.clip_grad_value_(tt, 0.5, foreach=False)
    for p, tp in zip(mg, tt):
        assert p.grad.dtype == np.float32
        assert_close(p.grad, tp.grad)
    assert max(float(abs(to_numpy(p.grad.array)).max()) for p in mg) == 0.5


def test_batch_norm_leaves_the_norm_function_in_place():
    """The BatchNorm op's module must not be named ops.norm: importing it would replace minigrad.ops.norm()."""
    minigrad.nn.functional.batch_norm(minigrad.ones(4, 3), None, None, training=True)
    assert callable(minigrad.ops.norm) and callable(minigrad.norm)
