"""gather / scatter / scatter_add / index_select / take_along_dim against torch: values, every gradient, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from support.helpers import check_op, to_torch, torch_device
from support.strategies import DTYPES, arrays, floats, shapes


@st.composite
def index_case(draw, unique):
    """(x shape, dim, index array, src shape): index no larger than x outside dim, values in range;
    unique=True gives distinct targets along dim (scatter's result is undefined for repeats)."""
    xshape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dim = draw(st.integers(-len(xshape), len(xshape) - 1))
    d = dim % len(xshape)
    ishape = [draw(st.integers(1, n)) for n in xshape]
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if unique:
        full = list(ishape)
        full[d] = xshape[d]
        order = np.argsort(rng.random(full), axis=d)  # a permutation along dim: distinct targets
        ishape[d] = draw(st.integers(1, xshape[d]))
        index = np.take(order, np.arange(ishape[d]), axis=d)
    else:
        ishape[d] = draw(st.integers(1, 5))  # gather/scatter_add may read or add a place many times
        index = rng.integers(0, xshape[d], size=ishape)
    extra = [draw(st.integers(0, 1)) for _ in ishape]  # src may be larger than index: torch reads a block
    return tuple(xshape), dim, index.astype(np.int64), tuple(n + e for n, e in zip(ishape, extra))


@given(case=index_case(unique=False), dtype=st.sampled_from(DTYPES), data=st.data())
def test_gather_matches_torch(case, dtype, data, backend):
    xshape, dim, index, _ = case
    x = data.draw(arrays(dtype, xshape))
    ix = minigrad.tensor(index, device=backend)
    tix = to_torch(index, backend)
    check_op(lambda a: minigrad.gather(a, dim, ix), lambda a: torch.gather(a, dim, tix), [x], backend)
    check_op(lambda a: a.gather(dim, ix), lambda a: a.gather(dim, tix), [x], backend)


@given(case=index_case(unique=True), dtype=st.sampled_from(DTYPES), data=st.data())
def test_scatter_matches_torch(case, dtype, data, backend):
    xshape, dim, index, sshape = case
    x, src = data.draw(arrays(dtype, xshape)), data.draw(arrays(dtype, sshape))
    ix, tix = minigrad.tensor(index, device=backend), to_torch(index, backend)
    grad = sshape == index.shape  # torch has no gradient for a src larger than index
    check_op(lambda a, s: a.scatter(dim, ix, s), lambda a, s: a.scatter(dim, tix, s), [x, src], backend, grad=grad)
    value = data.draw(floats(dtype))
    check_op(lambda a: minigrad.scatter(a, dim, ix, value=value), lambda a: torch.scatter(a, dim, tix, value=value),
             [x], backend)


@given(case=index_case(unique=False), dtype=st.sampled_from(DTYPES), data=st.data())
def test_scatter_add_matches_torch(case, dtype, data, backend):
    xshape, dim, index, sshape = case
    x, src = data.draw(arrays(dtype, xshape)), data.draw(arrays(dtype, sshape))
    ix, tix = minigrad.tensor(index, device=backend), to_torch(index, backend)
    grad = sshape == index.shape  # torch has no gradient for a src larger than index
    check_op(lambda a, s: a.scatter_add(dim, ix, s), lambda a, s: torch.scatter_add(a, dim, tix, s), [x, src], backend,
             grad=grad)


@given(x=arrays(np.float64, shapes(min_dims=1, max_dims=3)), data=st.data())
def test_index_select_and_take_along_dim_match_torch(x, data, backend):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    idx = np.asarray(data.draw(st.lists(st.integers(0, x.shape[dim] - 1), min_size=1, max_size=5)), np.int64)
    ix, tix = minigrad.tensor(idx, device=backend), to_torch(idx, backend)
    check_op(lambda a: a.index_select(dim, ix), lambda a: a.index_select(dim, tix), [x], backend)
    along = np.random.default_rng(0).integers(0, x.shape[dim], size=x.shape)
    A, tA = minigrad.tensor(along, device=backend), to_torch(along, backend)
    check_op(lambda a: minigrad.take_along_dim(a, A, dim), lambda a: torch.take_along_dim(a, tA, dim), [x], backend)
    check_op(lambda a: a.take_along_dim(A), lambda a: a.take_along_dim(tA), [x], backend)


def test_one_hot_target_transform_of_the_quickstart(backend):
    """torch.zeros(10).scatter_(0, torch.tensor(y), value=1): a 0-d index on a 1-d tensor."""
    for L, dev in ((minigrad, backend), (torch, torch_device(backend))):
        got = [L.zeros(10, dtype=L.float, device=dev).scatter_(0, L.tensor(y, device=dev), value=1) for y in (0, 3, 9)]
        got += [L.zeros(10, dtype=L.float, device=dev).scatter_(dim=0, index=L.tensor(3, device=dev), value=1)]
        if L is minigrad:
            mine = [g.tolist() for g in got]
        else:
            assert mine == [g.tolist() for g in got]
    y = minigrad.tensor([1, 0, 2], device=backend)
    assert minigrad.zeros(3, 3, device=backend).scatter_(1, y.unsqueeze(1), 1.0).tolist() == \
        minigrad.nn.functional.one_hot(y, 3).float().tolist()


def _int32_index(L):
    """int32: minigrad takes int32 indices as newer torch does; torch 2.4 (the oldest supported) refuses them
    ("Expected dtype int64 for index"), so there the torch side of the comparison uses the same index as int64."""
    if L is torch:
        try:
            torch.zeros(1).gather(0, torch.zeros(1, dtype=torch.int32))
        except RuntimeError:
            return torch.int64
    return L.int32


@pytest.mark.parametrize("make", [
    lambda L: L.tensor(5.0).gather(0, L.tensor(0)), lambda L: L.tensor(5.0).gather(0, L.tensor([0, 0])),
    lambda L: L.arange(4.0).gather(0, L.tensor(2)), lambda L: L.tensor(2.0).scatter(0, L.tensor([0]), 5.0),
    lambda L: L.zeros(3, dtype=L.long).scatter(0, L.tensor([1]), 2.7),
    lambda L: L.zeros(3).scatter(0, L.tensor([1]), True),
    lambda L: L.zeros(3, dtype=L.bool).scatter(0, L.tensor([1]), True),
    lambda L: L.zeros(2, 3).scatter(1, L.zeros(0, 1, dtype=L.long), 2.0),
    lambda L: L.arange(3.0).gather(0, L.tensor([1], dtype=_int32_index(L))),
    lambda L: L.zeros(2, 3).scatter(1, L.tensor([[2], [0]]), L.arange(12.0).reshape(3, 4)),
    lambda L: L.zeros(3).scatter_add(0, L.tensor([1, 1, 0]), L.ones(3)),
    lambda L: L.zeros(4).masked_fill_(L.tensor([True, False, True, False]), 2.5),
])
def test_edge_cases_match_torch(make):
    mg, t = make(minigrad), make(torch)
    assert mg.shape == tuple(t.shape) and str(mg.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert mg.tolist() == t.tolist()


@pytest.mark.parametrize("call, exc", [
    (lambda L: L.zeros(3).scatter(0, L.tensor([3]), 1.0), RuntimeError),
    (lambda L: L.zeros(3).scatter(0, L.tensor([-1]), 1.0), RuntimeError),
    (lambda L: L.arange(3.0).gather(0, L.tensor([3])), RuntimeError),
    (lambda L: L.zeros(2, 3).gather(0, L.zeros(2, 4, dtype=L.long)), RuntimeError),
    (lambda L: L.zeros(2, 3).scatter(1, L.tensor([1]), 5.0), RuntimeError),
    (lambda L: L.zeros(3).scatter(0, L.tensor([1]), L.ones(1, dtype=L.float64)), RuntimeError),
    (lambda L: L.zeros(3).scatter(1, L.tensor([1]), 2.0), IndexError),
    (lambda L: L.zeros(3).scatter_add(0, L.tensor([1]), 2.0), TypeError),
    (lambda L: L.zeros(2, 3).scatter(1, L.tensor([[2, 0], [0, 1]]), L.ones(1, 1)), RuntimeError),
    (lambda L: L.arange(6.0).reshape(2, 3).index_select(1, L.tensor([[2]])), IndexError),
    (lambda L: L.zeros(3, requires_grad=True).scatter_(0, L.tensor([1]), 1.0), RuntimeError),
])
def test_errors_like_torch(call, exc):
    with pytest.raises(exc):
        call(torch)
    with pytest.raises(exc):
        call(minigrad)


def test_messages_name_the_bad_index():
    with pytest.raises(RuntimeError, match="index 3 .*size 3"):
        minigrad.zeros(3).scatter(0, minigrad.tensor([3]), 1.0)
    with pytest.raises(RuntimeError, match=r"\[2, 4\].*\[2, 3\]"):
        minigrad.zeros(2, 3).gather(0, minigrad.zeros(2, 4, dtype=minigrad.long))


def test_grad_fn_of_gather_feeds_scatter_add_gradient():
    """gather's backward is scatter_add: repeated picks accumulate (torch's GatherBackward)."""
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x.gather(0, minigrad.tensor([2, 2, 0])) * minigrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    (tx.gather(0, torch.tensor([2, 2, 0])) * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist() == [100.0, 0.0, 11.0]
