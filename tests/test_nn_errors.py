"""Bad inputs to layers and losses raise what torch raises: the same exception type, and a message that names
the facts a user needs (the shapes, the bad value). torch's exact wording is never compared: it changes between
releases (2.15 prefixed the matmul message with "addmm: ")."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F


def _both_raise(mg_call, torch_call, exc, *facts):
    """Both calls raise `exc`; our message names every fact (a substring) given. Returns our message."""
    with pytest.raises(exc) as ours:
        mg_call()
    with pytest.raises(exc):
        torch_call()
    msg = str(ours.value)
    for fact in facts:
        assert fact in msg, (fact, msg)
    return msg


def _pair(a):
    return minigrad.tensor(a), torch.tensor(a)


def test_linear_shape_mismatch_names_both_shapes():
    m, t = nn.Linear(500, 300), torch.nn.Linear(500, 300)
    _both_raise(lambda: m(minigrad.randn(64, 784)), lambda: t(torch.randn(64, 784)), RuntimeError,
                "64x784", "500x300", "cannot be multiplied")
    _both_raise(lambda: m(minigrad.randn(2, 3, 784)), lambda: t(torch.randn(2, 3, 784)), RuntimeError,
                "6x784", "500x300")


@pytest.mark.parametrize("shape", [(4, 3), (5, 4, 3), (3,)])
@pytest.mark.parametrize("dx,dw,db", [("float32", "float64", None), ("float64", "float32", "float32"),
                                      ("float32", "float32", "float64"), ("float64", "float32", None)])
def test_linear_dtype_mismatch(shape, dx, dw, db):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(shape).astype(dx), rng.standard_normal((2, 3)).astype(dw)]
    if db is not None:
        arrs.append(rng.standard_normal(2).astype(db))
    msg = _both_raise(lambda: F.linear(*[minigrad.tensor(a) for a in arrs]),
                      lambda: TF.linear(*[torch.tensor(a) for a in arrs]), RuntimeError)
    assert "float" in msg.lower() and "double" in msg.lower()  # names both dtypes


@pytest.mark.parametrize("target", [[1, 2, 10, 11], [1, -5, 2, 3]])
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_target_out_of_bounds(fn, target):
    z, tz = _pair(np.zeros((4, 10), np.float32))
    y, ty = _pair(np.array(target))
    bad = next(t for t in target if not 0 <= t < 10)
    _both_raise(lambda: getattr(F, fn)(z, y), lambda: getattr(TF, fn)(tz, ty), IndexError,
                f"Target {bad} ", "out of bounds")


def test_ignored_targets_may_be_out_of_range():
    z = minigrad.zeros(3, 4, requires_grad=True)
    F.cross_entropy(z, minigrad.tensor([1, -100, 2])).backward()
    assert z.grad is not None


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_class_targets_need_long(fn, dtype):
    z, tz = _pair(np.zeros((4, 10), np.float32))
    y, ty = _pair(np.array([1, 2, 3, 4], dtype=dtype))
    msg = _both_raise(lambda: getattr(F, fn)(z, y), lambda: getattr(TF, fn)(tz, ty), RuntimeError)
    assert "Long" in msg


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_batch_size_mismatch(fn):
    z, tz = _pair(np.zeros((64, 10), np.float32))
    y, ty = _pair(np.zeros(32, np.int64))
    _both_raise(lambda: getattr(F, fn)(z, y), lambda: getattr(TF, fn)(tz, ty), ValueError, "(64)", "(32)")


def test_multi_target_and_spatial_shape_errors():
    z, tz = _pair(np.zeros((4, 10), np.float32))
    y, ty = _pair(np.zeros((4, 2), np.int64))
    _both_raise(lambda: F.cross_entropy(z, y), lambda: TF.cross_entropy(tz, ty), RuntimeError)
    z, tz = _pair(np.zeros((4, 10, 3), np.float32))
    _both_raise(lambda: F.cross_entropy(z, y), lambda: TF.cross_entropy(tz, ty), RuntimeError)
    p, tp = _pair(np.zeros((4, 10, 3), np.int64))  # probability targets must be floating
    _both_raise(lambda: F.cross_entropy(z, p), lambda: TF.cross_entropy(tz, tp), RuntimeError)


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "nll_loss", "cross_entropy"])
def test_invalid_reduction(name):
    x, tx = _pair(np.full((2, 3), 0.5, np.float32))
    if name in ("nll_loss", "cross_entropy"):
        y, ty = _pair(np.array([0, 1]))
    else:
        y, ty = _pair(np.full((2, 3), 0.5, np.float32))
    _both_raise(lambda: getattr(F, name)(x, y, reduction="avg"),
                lambda: getattr(TF, name)(tx, ty, reduction="avg"), ValueError, "avg", "reduction")


@pytest.mark.parametrize("cls", ["L1Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss"])
def test_invalid_reduction_in_module(cls):
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        getattr(nn, cls)(reduction="avg")(minigrad.zeros(2, 3), minigrad.zeros(2, 3))


def test_label_smoothing_range():
    z, tz = _pair(np.zeros((2, 3), np.float32))
    y, ty = _pair(np.array([0, 1]))
    # torch raises RuntimeError; ours is both a ValueError and a RuntimeError, same text
    _both_raise(lambda: F.cross_entropy(z, y, label_smoothing=1.5),
                lambda: TF.cross_entropy(tz, ty, label_smoothing=1.5), RuntimeError, "label_smoothing", "1.5")
    for eps in (1.5, -0.1):  # torch silently treats a negative value as 0; we refuse it
        with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
            nn.CrossEntropyLoss(label_smoothing=eps)
        with pytest.raises(ValueError):
            F.cross_entropy(z, y, label_smoothing=eps)


@pytest.mark.parametrize("x,y", [([1.5, 0.5], [1.0, 0.0]), ([-0.1, 0.5], [1.0, 0.0]), ([0.5, 0.5], [1.0, 1.5]),
                                 ([0.5, 0.5], [-1.0, 0.0])])
def test_bce_range(x, y):
    (a, ta), (b, tb) = _pair(np.array(x, np.float32)), _pair(np.array(y, np.float32))
    msg = _both_raise(lambda: F.binary_cross_entropy(a, b), lambda: TF.binary_cross_entropy(ta, tb), RuntimeError,
                      "between 0 and 1")
    assert ("input" in msg) == (not 0 <= min(x) <= max(x) <= 1)  # names which argument is out of range


def test_bce_size_mismatch():
    (a, ta), (b, tb) = _pair(np.full(2, 0.5, np.float32)), _pair(np.ones((2, 1), np.float32))
    _both_raise(lambda: F.binary_cross_entropy(a, b), lambda: TF.binary_cross_entropy(ta, tb), ValueError,
                "[2, 1]", "[2]")
    _both_raise(lambda: F.binary_cross_entropy_with_logits(a, b),
                lambda: TF.binary_cross_entropy_with_logits(ta, tb), ValueError, "[2, 1]", "[2]")


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability(p):
    _both_raise(lambda: nn.Dropout(p), lambda: torch.nn.Dropout(p), ValueError, str(p))
    x, tx = _pair(np.ones(3, np.float32))
    _both_raise(lambda: F.dropout(x, p), lambda: TF.dropout(tx, p), ValueError, "between 0 and 1", str(p))


def test_dropout_mask_shape():
    with pytest.raises(ValueError, match="mask shape"):
        F.dropout(minigrad.ones(2, 3), 0.5, True, mask=np.ones((3, 2), bool))


def test_load_state_dict_errors_match_torch():
    m, t = nn.Sequential(nn.Linear(2, 3)), torch.nn.Sequential(torch.nn.Linear(2, 3))
    bad = {"0.weight": np.zeros((3, 3), np.float32), "foo": np.zeros(1, np.float32)}
    tbad = {k: torch.from_numpy(v) for k, v in bad.items()}
    _both_raise(lambda: m.load_state_dict(bad), lambda: t.load_state_dict(tbad), RuntimeError,
                "Missing key(s)", "0.bias", "Unexpected key(s)", "foo", "size mismatch for 0.weight",
                "[3, 3]", "[3, 2]")
    # a size mismatch is an error even when strict=False
    _both_raise(lambda: m.load_state_dict(bad, strict=False), lambda: t.load_state_dict(tbad, strict=False),
                RuntimeError, "size mismatch for 0.weight")
    w0 = m[0].weight.detach().numpy().copy()
    with pytest.raises(RuntimeError):
        m.load_state_dict({"0.weight": np.ones((3, 2), np.float32)})  # missing 0.bias
    assert m[0].bias is not None and m[0].weight.shape == w0.shape


def test_one_hot_errors():
    for cls in ([1, 5], [-1, 0]):
        a, ta = _pair(np.array(cls))
        _both_raise(lambda: F.one_hot(a, 3), lambda: TF.one_hot(ta, 3), RuntimeError, "Class values")
    a, ta = _pair(np.array([1, 2]))
    assert np.array_equal(F.one_hot(a).numpy(), TF.one_hot(ta).numpy()) and F.one_hot(a).dtype == np.int64
    assert np.array_equal(F.one_hot(a, 5).numpy(), TF.one_hot(ta, 5).numpy())


def test_module_assignment_errors():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)  # before super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign"):
        m.weight = minigrad.zeros(2, 2)  # a plain tensor where a Parameter is registered
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope
    with pytest.raises(NotImplementedError):
        nn.Module()(1)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(minigrad.tensor([1, 2]))  # integer parameters cannot require grad
