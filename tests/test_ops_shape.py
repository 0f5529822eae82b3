"""Shape and indexing parity with torch: reshape/view/flatten/transpose/T/permute/(un)squeeze/expand,
getitem (basic slices, integer arrays with repeats, boolean masks, None), cat/stack, where/masked_fill."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from support.helpers import check_op, to_torch
from support.strategies import DTYPES, arrays, shapes

dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])


@st.composite
def reshape_target(draw, shape):
    """A new shape with the same number of elements, sometimes with one -1."""
    n = int(np.prod(shape))
    factors = [p for p in range(2, n + 1) for _ in range(_multiplicity(n, p))] if n > 1 else []
    draw(st.randoms()).shuffle(factors)
    k = draw(st.integers(1, 4))
    out = [1] * k
    for f in factors:
        out[draw(st.integers(0, k - 1))] *= f
    if draw(st.booleans()):
        out[draw(st.integers(0, k - 1))] = -1
    return tuple(out)


def _multiplicity(n, p):
    if any(p % q == 0 for q in range(2, p)):
        return 0
    m = 0
    while n % p == 0:
        n, m = n // p, m + 1
    return m


@dtypes
@given(data=st.data())
def test_reshape_view_flatten(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes()))
    target = data.draw(reshape_target(x.shape))
    check_op(lambda t: t.reshape(target), lambda t: t.reshape(target), [x], backend)
    check_op(lambda t: t.view(*target), lambda t: t.view(*target), [x], backend)
    check_op(lambda t: minigrad.reshape(t, target), lambda t: torch.reshape(t, target), [x], backend)
    check_op(lambda t: t.view(t.size(0), -1) if t.ndim else t.view(-1),
             lambda t: t.view(t.size(0), -1) if t.ndim else t.view(-1), [x], backend)
    check_op(lambda t: t.flatten(), lambda t: t.flatten(), [x], backend)
    if x.ndim >= 2:
        s = data.draw(st.integers(-x.ndim, x.ndim - 2))
        e = data.draw(st.integers(s % x.ndim, x.ndim - 1))
        check_op(lambda t: minigrad.flatten(t, s, e), lambda t: torch.flatten(t, s, e), [x], backend)


@dtypes
@given(data=st.data())
def test_transpose_permute_T(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes(min_dims=1)))
    d0, d1 = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
    check_op(lambda t: t.transpose(d0, d1), lambda t: t.transpose(d0, d1), [x], backend)
    perm = data.draw(st.permutations(range(x.ndim)))
    check_op(lambda t: t.permute(*perm), lambda t: t.permute(*perm), [x], backend)
    check_op(lambda t: minigrad.permute(t, perm), lambda t: torch.permute(t, perm), [x], backend)
    if x.ndim <= 2:
        check_op(lambda t: t.T, lambda t: t.T, [x], backend)
        check_op(lambda t: t.t(), lambda t: t.t(), [x], backend)


@dtypes
@given(data=st.data())
def test_unsqueeze_squeeze(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes(max_side=2)))  # sides of 1 are common
    d = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check_op(lambda t: t.unsqueeze(d), lambda t: t.unsqueeze(d), [x], backend)
    check_op(lambda t: t.squeeze(), lambda t: t.squeeze(), [x], backend)
    if x.ndim:
        d = data.draw(st.integers(-x.ndim, x.ndim - 1))
        check_op(lambda t: t.squeeze(d), lambda t: t.squeeze(d), [x], backend)
        check_op(lambda t: minigrad.squeeze(t, d), lambda t: torch.squeeze(t, d), [x], backend)


@dtypes
@given(data=st.data())
def test_expand(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes(max_side=2)))
    lead = tuple(data.draw(st.lists(st.integers(1, 3), min_size=0 if x.ndim else 1, max_size=2)))
    target = lead + tuple(data.draw(st.sampled_from([-1, 3])) if n == 1 else data.draw(st.sampled_from([-1, n]))
                          for n in x.shape)
    check_op(lambda t: t.expand(*target), lambda t: t.expand(*target), [x], backend)
    full = tuple(x.shape[i - len(lead)] if n == -1 else n for i, n in enumerate(target))
    check_op(lambda t: t.expand_as(minigrad.zeros(full, device=backend)), lambda t: t.expand_as(torch.zeros(full)),
             [x], backend)


def _no_negative_steps(index):
    index = index if isinstance(index, tuple) else (index,)
    return all(not (isinstance(i, slice) and i.step is not None and i.step < 0) for i in index)


@dtypes
@given(data=st.data())
def test_basic_indexing(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes()))
    # torch has no negative slice steps; everything else numpy calls "basic" works in both
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True).filter(_no_negative_steps))
    check_op(lambda t: t[index], lambda t: t[index], [x], backend)


@dtypes
@given(data=st.data())
def test_integer_array_indexing_with_repeats(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes(min_dims=1)))
    idx = data.draw(hnp.integer_array_indices(x.shape, result_shape=shapes(min_dims=1, max_dims=2, max_side=6)))
    check_op(lambda t: t[tuple(minigrad.tensor(i, device=backend) for i in idx)],
             lambda t: t[tuple(torch.tensor(i) for i in idx)], [x], backend)
    # a single index list on the first dim, with repeats: gradients add up
    rows = data.draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=1, max_size=6))
    check_op(lambda t: t[minigrad.tensor(rows, device=backend)], lambda t: t[torch.tensor(rows)], [x], backend)
    check_op(lambda t: t[rows], lambda t: t[rows], [x], backend)
    if x.ndim >= 2:  # mixed: a slice, then an integer array
        cols = data.draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=1, max_size=5))
        check_op(lambda t: t[:, cols], lambda t: t[:, cols], [x], backend)


@dtypes
@given(data=st.data())
def test_boolean_mask_indexing(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes(min_dims=1)))
    k = data.draw(st.integers(1, x.ndim))
    mask = data.draw(hnp.arrays(np.bool_, x.shape[:k]))
    check_op(lambda t: t[minigrad.tensor(mask, device=backend)], lambda t: t[torch.tensor(mask)], [x], backend)
    check_op(lambda t: t[t > 0], lambda t: t[t > 0], [x], backend)


@dtypes
@given(data=st.data())
def test_none_indexing_column(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes(min_dims=1, max_dims=2)))
    check_op(lambda t: t[:, None], lambda t: t[:, None], [x], backend)
    check_op(lambda t: t[None], lambda t: t[None], [x], backend)
    check_op(lambda t: t[None, ..., None], lambda t: t[None, ..., None], [x], backend)


@dtypes
@pytest.mark.parametrize("name", ["cat", "stack"])
@given(data=st.data())
def test_cat_stack(backend, dtype, name, data):
    base = data.draw(shapes(min_dims=1, max_dims=3))
    n = data.draw(st.integers(1, 4))
    if name == "cat":
        d = data.draw(st.integers(-len(base), len(base) - 1))
        sizes = data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
        shapes_ = [base[:d % len(base)] + (s,) + base[d % len(base) + 1:] for s in sizes]
    else:
        d = data.draw(st.integers(-len(base) - 1, len(base)))
        shapes_ = [base] * n
    xs = [data.draw(arrays(dtype, s)) for s in shapes_]
    check_op(lambda *ts: getattr(minigrad, name)(ts, d), lambda *ts: getattr(torch, name)(ts, d), xs, backend)
    check_op(lambda *ts: getattr(minigrad, name)(list(ts), dim=d), lambda *ts: getattr(torch, name)(list(ts), dim=d),
             xs, backend)


@dtypes
@given(data=st.data())
def test_where_and_masked_fill(backend, dtype, data):
    sh = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    c = data.draw(hnp.arrays(np.bool_, sh.input_shapes[0]))
    a, b = (data.draw(arrays(dtype, s)) for s in sh.input_shapes[1:])
    check_op(lambda x, y: minigrad.where(minigrad.tensor(c, device=backend), x, y),
             lambda x, y: torch.where(torch.tensor(c), x, y), [a, b], backend)
    check_op(lambda x: minigrad.where(minigrad.tensor(c, device=backend), x, 0.0),
             lambda x: torch.where(torch.tensor(c), x, 0.0), [a], backend)
    check_op(lambda x: x.where(x > 0, -1.0), lambda x: x.where(x > 0, -1.0), [a], backend)
    # masked_fill: the mask broadcasts to x (a suffix of x's shape, some sides set to 1)
    keep = data.draw(st.integers(0, a.ndim))
    m_shape = tuple(n if data.draw(st.booleans()) else 1 for n in a.shape[a.ndim - keep:])
    m = data.draw(hnp.arrays(np.bool_, m_shape))
    value = data.draw(st.sampled_from([0.0, -1e9, float("-inf"), 2]))
    check_op(lambda x: x.masked_fill(minigrad.tensor(m, device=backend), value),
             lambda x: x.masked_fill(torch.tensor(m), value), [a], backend)
    check_op(lambda x: minigrad.masked_fill(x, minigrad.tensor(m, device=backend), value),
             lambda x: torch.masked_fill(x, torch.tensor(m), value), [a], backend)


@dtypes
@given(data=st.data())
def test_clone_cast_detach(backend, dtype, data):
    x = data.draw(arrays(dtype, shapes()))
    check_op(lambda t: t.clone() * 2, lambda t: t.clone() * 2, [x], backend)
    other = {np.float32: "float64", np.float64: "float32"}[dtype]
    check_op(lambda t: t.to(getattr(minigrad, other)) * 3, lambda t: t.to(getattr(torch, other)) * 3, [x], backend)
    check_op(lambda t: t.double().sum(), lambda t: t.double().sum(), [x], backend)
    y = minigrad.tensor(x, requires_grad=True, device=backend).detach()
    assert not y.requires_grad and y.grad_fn is None
    assert to_torch(y, backend).dtype == torch.tensor(x).dtype


def test_shape_errors_like_torch():
    x = minigrad.ones(2, 3)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        x.view(4, -1)
    with pytest.raises(RuntimeError):
        x.permute(0, 0)
    with pytest.raises(RuntimeError):
        minigrad.cat([])
