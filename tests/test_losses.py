"""Loss parity with torch: forward and every input gradient, all reductions, both float dtypes.

Fused ops (softmax-CE, sigmoid-BCE) are also checked against their composed twins (fused == composed
== torch). Argument and input errors live in test_nn_errors.py.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from support.helpers import assert_close, check_op, to_torch
from support.strategies import DTYPES, arrays, floats

dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
reductions = pytest.mark.parametrize("reduction", ["mean", "sum", "none"])


def logits(dtype):
    """Ordinary logits, or huge ones (|z| ~ 1e3) where a naive softmax would overflow."""
    big = st.sampled_from([-1000.0, -999.5, -30.0, 0.0, 30.0, 999.25, 1000.0])
    return st.one_of(floats(dtype, -4.0, 4.0), big.map(np.dtype(dtype).type))


@st.composite
def class_problem(draw, dtype, max_extra_dims=0):
    """Logits (N, C[, d...]), int64 targets, optional weight, ignore_index and label_smoothing."""
    N, C = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=max_extra_dims)))
    z = draw(arrays(dtype, (N, C) + extra, logits(dtype)))
    t = draw(arrays(np.int64, (N,) + extra, st.integers(0, C - 1)))
    ignore = draw(st.sampled_from([None, -100, 0]))
    if ignore == -100:  # hide a few targets behind the ignore value
        t = np.where(draw(arrays(np.bool_, t.shape, st.booleans())), -100, t)
    w = draw(st.none() | arrays(dtype, (C,), floats(dtype, 0.25, 3.0)))
    eps = draw(st.sampled_from([0.0, 0.0, 0.1, 0.37]))
    kw = {"weight": w, "label_smoothing": eps}
    if ignore is not None:
        kw["ignore_index"] = ignore
    return z, t, kw


def _kw(kw, backend, to):
    out = dict(kw)
    if out.get("weight") is not None:
        out["weight"] = to(out["weight"])
    if out.get("pos_weight") is not None:
        out["pos_weight"] = to(out["pos_weight"])
    return out


def _mg(backend):
    return lambda a: minigrad.tensor(a, device=backend)


def _tt(backend):
    return lambda a: to_torch(a, backend)


def _some_valid(t, kw):
    ign = kw.get("ignore_index", -100)
    return bool((t != ign).any())


# ---- cross-entropy --------------------------------------------------------------------------------
@dtypes
@reductions
@given(data=st.data())
def test_cross_entropy_class_targets(backend, dtype, reduction, data):
    z, t, kw = data.draw(class_problem(dtype))
    mk, tk = _kw(kw, backend, _mg(backend)), _kw(kw, backend, _tt(backend))
    t_mg, t_t = minigrad.tensor(t, device=backend), to_torch(t, backend)
    check_op(lambda x: F.cross_entropy(x, t_mg, reduction=reduction, **mk),
             lambda x: TF.cross_entropy(x, t_t, reduction=reduction, **tk), [z], backend)
    if _some_valid(t, kw):  # (all ignored: torch's mean is nan with a 0 gradient; the composed twin gives nan)
        check_op(lambda x: F.cross_entropy_composed(x, t_mg, reduction=reduction, **mk),
                 lambda x: TF.cross_entropy(x, t_t, reduction=reduction, **tk), [z], backend)
        _fused_equals_composed(F.cross_entropy, F.cross_entropy_composed, z, [t_mg], backend, reduction, mk)


def _fused_equals_composed(fused, composed, z, extra, backend, reduction, kw):
    outs = []
    for fn in (fused, composed):
        x = minigrad.tensor(z, device=backend, requires_grad=True)
        y = fn(x, *extra, reduction=reduction, **kw)
        y.sum().backward()
        outs.append((y, x.grad))
    (y1, g1), (y2, g2) = outs
    assert y1.dtype == y2.dtype == z.dtype and g1.dtype == z.dtype
    assert_close(y1, torch.from_numpy(y2.detach().cpu().numpy()))  # .cpu(): a cuda tensor refuses .numpy()
    assert_close(g1, torch.from_numpy(g2.cpu().numpy()))


@dtypes
@reductions
@given(data=st.data())
def test_cross_entropy_spatial_targets(backend, dtype, reduction, data):
    """(N, C, d1, d2) logits with (N, d1, d2) targets, as torch's nll_loss2d."""
    z, t, kw = data.draw(class_problem(dtype, max_extra_dims=2))
    mk, tk = _kw(kw, backend, _mg(backend)), _kw(kw, backend, _tt(backend))
    t_mg, t_t = minigrad.tensor(t, device=backend), to_torch(t, backend)
    check_op(lambda x: F.cross_entropy(x, t_mg, reduction=reduction, **mk),
             lambda x: TF.cross_entropy(x, t_t, reduction=reduction, **tk), [z], backend)


@dtypes
@reductions
@given(data=st.data())
def test_cross_entropy_probability_targets(backend, dtype, reduction, data):
    N, C = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    z = data.draw(arrays(dtype, (N, C), logits(dtype)))
    raw = data.draw(arrays(dtype, (N, C), floats(dtype, 0.0, 1.0)))
    p = (raw / np.maximum(raw.sum(1, keepdims=True), 1e-3)).astype(dtype)
    w = data.draw(st.none() | arrays(dtype, (C,), floats(dtype, 0.25, 3.0)))
    eps = data.draw(st.sampled_from([0.0, 0.2]))
    kw = {"weight": w, "label_smoothing": eps}
    mk, tk = _kw(kw, backend, _mg(backend)), _kw(kw, backend, _tt(backend))
    # target as a constant: the fused op
    p_mg, p_t = minigrad.tensor(p, device=backend), to_torch(p, backend)
    check_op(lambda x: F.cross_entropy(x, p_mg, reduction=reduction, **mk),
             lambda x: TF.cross_entropy(x, p_t, reduction=reduction, **tk), [z], backend)
    _fused_equals_composed(F.cross_entropy, F.cross_entropy_composed, z, [p_mg], backend, reduction, mk)
    # target requiring grad too: torch differentiates w.r.t. the probabilities as well
    check_op(lambda x, q: F.cross_entropy(x, q, reduction=reduction, **mk),
             lambda x, q: TF.cross_entropy(x, q, reduction=reduction, **tk), [z, p], backend)


@dtypes
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_unbatched(backend, dtype, smoothing):
    z = np.array([0.5, -1.0, 2.0, 0.25], dtype=dtype)
    for red in ("mean", "sum", "none"):
        t_mg, t_t = minigrad.tensor(2, device=backend), to_torch(np.array(2), backend)
        check_op(lambda x: F.cross_entropy(x, t_mg, reduction=red, label_smoothing=smoothing),
                 lambda x: TF.cross_entropy(x, t_t, reduction=red, label_smoothing=smoothing), [z], backend)


@dtypes
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_all_targets_ignored(backend, dtype, smoothing, weighted):
    """torch: mean over zero weight is nan, yet the gradient is exactly 0 (not nan)."""
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(dtype)
    t = np.full(3, -100)
    kw = {"label_smoothing": smoothing, "weight": np.ones(4, dtype) if weighted else None}
    check_op(lambda x: F.cross_entropy(x, minigrad.tensor(t, device=backend), **_kw(kw, backend, _mg(backend))),
             lambda x: TF.cross_entropy(x, to_torch(t, backend), **_kw(kw, backend, _tt(backend))), [z], backend)


def test_cross_entropy_module_matches_functional(backend):
    rng = np.random.default_rng(1)
    z, t = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 5, 8)
    w = np.linspace(0.5, 2.0, 5).astype(np.float32)
    loss = nn.CrossEntropyLoss(weight=minigrad.tensor(w, device=backend), ignore_index=3, label_smoothing=0.1)
    tloss = torch.nn.CrossEntropyLoss(weight=to_torch(w, backend), ignore_index=3, label_smoothing=0.1)
    t_mg, t_t = minigrad.tensor(t, device=backend), to_torch(t, backend)
    check_op(lambda x: loss(x, t_mg), lambda x: tloss(x, t_t), [z], backend)
    assert list(loss.state_dict()) == list(tloss.state_dict()) == ["weight"]
    assert repr(loss) == repr(tloss)


# ---- NLL ---------------------------------------------------------------------------------------------
@dtypes
@reductions
@given(data=st.data())
def test_nll_loss(backend, dtype, reduction, data):
    z, t, kw = data.draw(class_problem(dtype, max_extra_dims=1))
    kw.pop("label_smoothing")
    mk, tk = _kw(kw, backend, _mg(backend)), _kw(kw, backend, _tt(backend))
    t_mg, t_t = minigrad.tensor(t, device=backend), to_torch(t, backend)
    check_op(lambda x: F.nll_loss(F.log_softmax(x, 1), t_mg, reduction=reduction, **mk),
             lambda x: TF.nll_loss(TF.log_softmax(x, 1), t_t, reduction=reduction, **tk), [z], backend)
    # raw scores (not log-probs) of either sign: keep them moderate, since a float32 sum of +-1e3 terms
    # cancels and its rounding then depends on the summation order, not on the loss
    z = np.clip(z, -4, 4)
    check_op(lambda x: nn.NLLLoss(reduction=reduction, **mk)(x, t_mg),
             lambda x: torch.nn.NLLLoss(reduction=reduction, **tk)(x, t_t), [z], backend)


# ---- binary cross-entropy ----------------------------------------------------------------------
@st.composite
def binary_problem(draw, dtype, logits_in=True):
    shape = draw(st.sampled_from([(1,), (5,), (3, 4), (2, 3, 2)]))
    if logits_in:  # saturated sigmoids and huge logits included
        el = st.one_of(floats(dtype, -6.0, 6.0),
                       st.sampled_from([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0]).map(np.dtype(dtype).type))
    else:  # probabilities, exact 0 and 1 included
        el = st.one_of(floats(dtype, 0.0, 1.0), st.sampled_from([0.0, 1.0, 1e-7, 1 - 1e-7]).map(np.dtype(dtype).type))
    x = draw(arrays(dtype, shape, el))
    exact = st.sampled_from([0.0, 1.0]).map(np.dtype(dtype).type)
    y = draw(arrays(dtype, shape, st.one_of(floats(dtype, 0.0, 1.0), exact)))
    C = shape[-1]
    w = draw(st.none() | arrays(dtype, st.sampled_from([(C,), shape]), floats(dtype, 0.25, 2.0)))
    pw = draw(st.none() | arrays(dtype, (C,), floats(dtype, 0.25, 4.0))) if logits_in else None
    kw = {"weight": w}
    if logits_in:
        kw["pos_weight"] = pw
    return x, y, kw


@dtypes
@reductions
@given(data=st.data())
def test_bce_with_logits(backend, dtype, reduction, data):
    z, y, kw = data.draw(binary_problem(dtype))
    mk, tk = _kw(kw, backend, _mg(backend)), _kw(kw, backend, _tt(backend))
    torch_fn = lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction, **tk)  # noqa: E731
    check_op(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **mk), torch_fn, [z, y],
             backend)
    check_op(lambda a, b: F.binary_cross_entropy_with_logits_composed(a, b, reduction=reduction, **mk),
             torch_fn, [z, y], backend)
    y_mg = minigrad.tensor(y, device=backend)
    _fused_equals_composed(F.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits_composed,
                           z, [y_mg], backend, reduction, mk)
    check_op(lambda a, b: nn.BCEWithLogitsLoss(reduction=reduction, **mk)(a, b),
             lambda a, b: torch.nn.BCEWithLogitsLoss(reduction=reduction, **tk)(a, b), [z, y], backend)


@dtypes
@reductions
@given(data=st.data())
def test_bce(backend, dtype, reduction, data):
    """Probabilities including exact 0 and 1 (torch clamps each log at -100)."""
    x, y, kw = data.draw(binary_problem(dtype, logits_in=False))
    mk, tk = _kw(kw, backend, _mg(backend)), _kw(kw, backend, _tt(backend))
    check_op(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction, **mk),
             lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction, **tk), [x, y], backend)
    check_op(lambda a, b: nn.BCELoss(reduction=reduction, **mk)(a, b),
             lambda a, b: torch.nn.BCELoss(reduction=reduction, **tk)(a, b), [x, y], backend)


def test_bce_after_sigmoid_saturates_like_torch(backend):
    z = np.array([-200.0, -20.0, 0.0, 20.0, 200.0], dtype=np.float32)
    y = np.array([1.0, 0.0, 0.5, 1.0, 0.0], dtype=np.float32)
    y_mg, y_t = minigrad.tensor(y, device=backend), to_torch(y, backend)
    check_op(lambda a: F.binary_cross_entropy(F.sigmoid(a), y_mg),
             lambda a: TF.binary_cross_entropy(torch.sigmoid(a), y_t), [z], backend)


# ---- regression losses --------------------------------------------------------------------------
@dtypes
@reductions
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss"])
@given(data=st.data())
def test_regression_losses(backend, dtype, reduction, name, data):
    shape = data.draw(st.sampled_from([(), (1,), (4,), (3, 4), (2, 3, 2)]))
    el = st.one_of(floats(dtype), st.sampled_from([-1.0, 0.0, 1.0]).map(np.dtype(dtype).type))  # ties: |0|' = 0
    x, y = data.draw(arrays(dtype, shape, el)), data.draw(arrays(dtype, shape, el))
    check_op(lambda a, b: getattr(F, name)(a, b, reduction=reduction),
             lambda a, b: getattr(TF, name)(a, b, reduction=reduction), [x, y], backend)
    mod = {"l1_loss": "L1Loss", "mse_loss": "MSELoss"}[name]
    check_op(lambda a, b: getattr(nn, mod)(reduction=reduction)(a, b),
             lambda a, b: getattr(torch.nn, mod)(reduction=reduction)(a, b), [x, y], backend)


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss"])
def test_regression_broadcast_warns_like_torch(backend, name):
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    y = np.array([0.5, -1.0], dtype=np.float32)
    with pytest.warns(UserWarning, match="different to the input size"):
        check_op(lambda a, b: getattr(F, name)(a, b), lambda a, b: getattr(TF, name)(a, b), [x, y], backend)


# ---- dtype hygiene: no float64 temporaries for float32 inputs ------------------------------------
def _raw_backward_dtypes(op, *arrays):
    """Run op's own forward/backward on raw arrays (bypassing the base class's cast)."""
    ts = [minigrad.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    y = op(*ts)
    grads = op.backward(np.ones(y.shape, dtype=y.dtype))
    return y.dtype, [g.dtype for g in grads if g is not None]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_ops_stay_float32(reduction):
    from minigrad.nn import loss as L, loss_elementwise as E

    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 4)).astype(np.float32)
    p = rng.random((6, 4)).astype(np.float32)
    t = rng.integers(0, 4, 6)
    w = np.linspace(0.5, 1.5, 4).astype(np.float32)
    ops = [
        (L.SoftmaxCrossEntropyFunction(reduction), z, t),
        (L.GeneralSoftmaxCrossEntropyFunction(reduction, w, 1, 0.1), z, t),
        (L.GeneralSoftmaxCrossEntropyFunction(reduction, w, -100, 0.1, probs=True), z, p),
        (L.NLLLossFunction(reduction, w, 2), z, t),
        (E.BCEWithLogitsLossFunction(reduction, w, w), z, p),
        (E.BCELossFunction(reduction, w), p, p),
        (E.MSELossFunction(reduction), z, p),
        (E.L1LossFunction(reduction), z, p),
    ]
    for op, a, b in ops:
        out_dtype, grad_dtypes = _raw_backward_dtypes(op, a, b)
        assert out_dtype == np.float32, type(op).__name__
        assert grad_dtypes and all(d == np.float32 for d in grad_dtypes), (type(op).__name__, grad_dtypes)
