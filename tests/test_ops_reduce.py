"""Reduction parity with torch: sum/mean/max/min/amax/amin, argmax/argmin, softmax family, var/std.

Ties are drawn on purpose (tie_prone values): the full max splits the gradient evenly among ties,
max(dim) sends it to the returned index, amax(dim) splits it evenly; all as the installed torch does.
"""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from support.helpers import assert_close, check_op, to_torch
from support.strategies import DTYPES, array_and_dim, array_and_dims, arrays, floats, shapes, tie_prone

dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])


def _dims(data, dtype, elements=None, unique=False):
    """Draw (x, dim) with dim None, an int, or a tuple of ints."""
    kind = data.draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return data.draw(arrays(dtype, shapes(), elements, unique)), None
    if kind == "int":
        return data.draw(array_and_dim(dtype, elements, unique))
    return data.draw(array_and_dims(dtype, elements, unique))


@dtypes
@pytest.mark.parametrize("name", ["sum", "mean"])
@given(data=st.data(), keepdim=st.booleans())
def test_sum_mean(backend, dtype, name, data, keepdim):
    x, dim = _dims(data, dtype)
    if dim is None:
        check_op(getattr(minigrad, name), getattr(torch, name), [x], backend)
        check_op(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x], backend)
    else:
        check_op(lambda t: getattr(t, name)(dim, keepdim=keepdim), lambda t: getattr(t, name)(dim, keepdim=keepdim),
                 [x], backend)
        check_op(lambda t: getattr(minigrad, name)(t, dim=dim, keepdim=keepdim),
                 lambda t: getattr(torch, name)(t, dim=dim, keepdim=keepdim), [x], backend)


@dtypes
@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_full_max_min_splits_ties_evenly(backend, dtype, name, data):
    x = data.draw(arrays(dtype, shapes(), st.one_of(tie_prone(dtype), floats(dtype))))
    check_op(getattr(minigrad, name), getattr(torch, name), [x], backend)
    check_op(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x], backend)


@dtypes
@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), keepdim=st.booleans())
def test_max_min_dim_values_and_indices(backend, dtype, name, data, keepdim):
    x, dim = data.draw(array_and_dim(dtype, st.one_of(tie_prone(dtype), floats(dtype)), min_dims=0))
    y, ty = check_op(lambda t: getattr(minigrad, name)(t, dim, keepdim)[0],
                     lambda t: getattr(torch, name)(t, dim, keepdim)[0], [x], backend)
    mg = getattr(minigrad, name)(minigrad.tensor(x, device=backend), dim=dim, keepdim=keepdim)
    tt = getattr(torch, name)(to_torch(x, backend), dim=dim, keepdim=keepdim)
    assert mg.indices.dtype == minigrad.int64
    assert_close(mg.indices, tt.indices)  # with ties: the same (first) index as torch
    values, indices = getattr(minigrad.tensor(x, device=backend), name)(dim)  # `_, predicted = ...` works
    t_values, t_indices = getattr(to_torch(x, backend), name)(dim)
    assert_close(values, t_values)
    assert_close(indices, t_indices)


@dtypes
@pytest.mark.parametrize("name", ["amax", "amin"])
@given(data=st.data(), keepdim=st.booleans())
def test_amax_amin_split_ties(backend, dtype, name, data, keepdim):
    x, dim = _dims(data, dtype, st.one_of(tie_prone(dtype), floats(dtype)))
    if dim is None:
        check_op(getattr(minigrad, name), getattr(torch, name), [x], backend)
    else:
        check_op(lambda t: getattr(minigrad, name)(t, dim, keepdim), lambda t: getattr(torch, name)(t, dim, keepdim),
                 [x], backend)


@dtypes
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data(), keepdim=st.booleans(), use_dim=st.booleans())
def test_argmax_argmin(backend, dtype, name, data, keepdim, use_dim):
    x, dim = data.draw(array_and_dim(dtype, st.one_of(tie_prone(dtype), floats(dtype)), min_dims=0))
    dim = dim if use_dim else None
    y, _ = check_op(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
                    lambda t: getattr(t, name)(dim=dim, keepdim=keepdim), [x], backend)
    assert y.dtype == minigrad.int64 and not y.requires_grad


LOGITS = {"moderate": lambda d: floats(d, -10.0, 10.0),
          "large": lambda d: st.one_of(floats(d, -1e3, 1e3), st.sampled_from([-1e3, 1e3]))}


@dtypes
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data(), scale=st.sampled_from(list(LOGITS)))
def test_softmax_log_softmax_any_dim(backend, dtype, name, data, scale):
    x, dim = data.draw(array_and_dim(dtype, LOGITS[scale](dtype)))
    check_op(lambda t: getattr(minigrad, name)(t, dim), lambda t: getattr(torch, name)(t, dim), [x], backend)
    check_op(lambda t: getattr(t, name)(dim=dim), lambda t: getattr(t, name)(dim=dim), [x], backend)


@dtypes
@given(data=st.data(), keepdim=st.booleans(), scale=st.sampled_from(list(LOGITS)))
def test_logsumexp(backend, dtype, data, keepdim, scale):
    kind = data.draw(st.sampled_from(["int", "tuple"]))
    strat = array_and_dim if kind == "int" else array_and_dims
    x, dim = data.draw(strat(dtype, LOGITS[scale](dtype)))
    check_op(lambda t: minigrad.logsumexp(t, dim, keepdim), lambda t: torch.logsumexp(t, dim, keepdim), [x], backend)


@dtypes
@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data(), keepdim=st.booleans(), correction=st.sampled_from([None, 0, 1]))
def test_var_std(backend, dtype, name, data, keepdim, correction):
    # unique values on a grid: std's gradient is infinite where a group is constant (or its square underflows)
    x, dim = _dims(data, dtype, st.integers(-3000, 3000).map(lambda i: dtype(i / 1000)), unique=True)
    n = x.size if dim is None else int(np.prod([x.shape[d] for d in np.atleast_1d(dim)]))
    if n < 2 + (correction or 0):  # need a non-degenerate denominator
        return
    kw = {} if correction is None else {"correction": correction}
    if dim is None:
        check_op(lambda t: getattr(t, name)(**kw), lambda t: getattr(t, name)(**kw), [x], backend)
    else:
        check_op(lambda t: getattr(minigrad, name)(t, dim, keepdim=keepdim, **kw),
                 lambda t: getattr(torch, name)(t, dim, keepdim=keepdim, **kw), [x], backend)


@dtypes
def test_var_unbiased_flag(backend, dtype):
    x = np.arange(12, dtype=dtype).reshape(3, 4) ** 1.5
    check_op(lambda t: t.var(1, unbiased=False), lambda t: t.var(1, unbiased=False), [x], backend)
    check_op(lambda t: t.std(0, unbiased=True), lambda t: t.std(0, unbiased=True), [x], backend)


@given(data=st.data(), keepdim=st.booleans())
def test_int_and_bool_reductions(backend, data, keepdim):
    x, dim = data.draw(array_and_dim(np.int64, st.integers(-5, 5), min_dims=1))
    for fn in (lambda t: t.sum(), lambda t: t.sum(dim, keepdim=keepdim), lambda t: (t > 0).sum(),
               lambda t: (t > 0).sum(dim), lambda t: t.max(), lambda t: t.argmax(dim), lambda t: t.amax(dim)):
        y, ty = check_op(fn, fn, [x], backend)
        assert y.dtype == minigrad.int64


def test_reduction_dim_out_of_range_raises():
    x = minigrad.ones(2, 3)
    for fn in (lambda: x.sum(2), lambda: x.mean(-3), lambda: x.max(5), lambda: minigrad.softmax(x, 2)):
        with pytest.raises(IndexError, match="Dimension out of range"):
            fn()


@dtypes
@given(data=st.data(), keepdim=st.booleans())
def test_cumsum_and_norm(backend, dtype, data, keepdim):
    x, dim = data.draw(array_and_dim(dtype, st.one_of(floats(dtype), st.just(0.0))))
    check_op(lambda t: minigrad.cumsum(t, dim), lambda t: torch.cumsum(t, dim), [x], backend)
    check_op(lambda t: t.norm(), lambda t: t.norm(), [x], backend)
    check_op(lambda t: minigrad.norm(t, dim=dim, keepdim=keepdim), lambda t: torch.norm(t, dim=dim, keepdim=keepdim),
             [x], backend)
    check_op(lambda t: t.norm() * 0 + minigrad.norm(t * 0), lambda t: t.norm() * 0 + torch.norm(t * 0), [x], backend)
