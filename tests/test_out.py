"""out= as torch: written in place, resized (warning only when out had elements), cast when torch casts,
returned, refused while autograd would need a graph through out."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from support.helpers import assert_close, to_torch, torch_device
from support.strategies import arrays, shapes

A = np.array([[0.5, 1.5, 2.0], [3.0, 0.25, 1.0]], np.float32)
B = np.array([[1.0, 2.0, 0.5], [0.75, 1.25, 4.0]], np.float32)
CALLS = {  # name -> (args builder); each gets the same inputs in both libraries
    "add": lambda L, a, b: (a, b), "sub": lambda L, a, b: (a, b), "mul": lambda L, a, b: (a, b),
    "div": lambda L, a, b: (a, b), "pow": lambda L, a, b: (a, b), "neg": lambda L, a, b: (a,),
    "matmul": lambda L, a, b: (a, b.T), "mm": lambda L, a, b: (a, b.T), "multiply": lambda L, a, b: (a, b),
    "divide": lambda L, a, b: (a, b), "subtract": lambda L, a, b: (a, b), "exp": lambda L, a, b: (a,),
    "log": lambda L, a, b: (a,), "log1p": lambda L, a, b: (a,), "sqrt": lambda L, a, b: (a,),
    "abs": lambda L, a, b: (a,), "clamp": lambda L, a, b: (a, 0.6, 1.8), "clip": lambda L, a, b: (a, 0.6),
    "clamp_min": lambda L, a, b: (a, 0.6), "clamp_max": lambda L, a, b: (a, 0.6),
    "maximum": lambda L, a, b: (a, b), "minimum": lambda L, a, b: (a, b), "sigmoid": lambda L, a, b: (a,),
    "tanh": lambda L, a, b: (a,), "square": lambda L, a, b: (a,), "sum": lambda L, a, b: (a, 1),
    "mean": lambda L, a, b: (a, 0), "max": lambda L, a, b: (a,), "min": lambda L, a, b: (a,),
    "amax": lambda L, a, b: (a, 1), "amin": lambda L, a, b: (a, 0), "argmax": lambda L, a, b: (a, 1),
    "argmin": lambda L, a, b: (a,), "cumsum": lambda L, a, b: (a, 1), "logsumexp": lambda L, a, b: (a, 1),
    "std": lambda L, a, b: (a, 1), "var": lambda L, a, b: (a, 0), "softmax": lambda L, a, b: (a, 1),
    "log_softmax": lambda L, a, b: (a, 0), "norm": lambda L, a, b: (a,), "cat": lambda L, a, b: ([a, b],),
    "concat": lambda L, a, b: ([a, b], 1), "stack": lambda L, a, b: ([a, b],),
    "where": lambda L, a, b: (a > b, a, b), "eq": lambda L, a, b: (a, b), "lt": lambda L, a, b: (a, b),
    "ge": lambda L, a, b: (a, b), "floor": lambda L, a, b: (a,), "round": lambda L, a, b: (a,),
    "sign": lambda L, a, b: (a,), "reciprocal": lambda L, a, b: (a,), "logical_not": lambda L, a, b: (a > b,),
    "remainder": lambda L, a, b: (a, b), "all": lambda L, a, b: (a,), "any": lambda L, a, b: (a > b,),
    "gather": lambda L, a, b: (a, 1, L.tensor([[2, 0], [1, 1]], device=a.device)),
    "index_select": lambda L, a, b: (a, 1, L.tensor([2, 0], device=a.device)),
    "scatter": lambda L, a, b: (a, 1, L.tensor([[2], [0]], device=a.device), b),
    "scatter_add": lambda L, a, b: (a, 1, L.tensor([[2, 2], [0, 1]], device=a.device), b),
    "take_along_dim": lambda L, a, b: (a, L.tensor([[2], [0]], device=a.device), 1),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_out_writes_into_out_and_returns_it_like_torch(name, backend):
    def run(L, dev):
        a, b = L.tensor(A, device=dev), L.tensor(B, device=dev)
        args = CALLS[name](L, a, b)
        expected = getattr(L, name)(*args)
        out = L.empty(expected.shape, dtype=expected.dtype, device=dev)
        got = getattr(L, name)(*args, out=out)
        assert got is out
        return out, expected

    (mg, mg_plain), (t, _) = run(minigrad, backend), run(torch, torch_device(backend))
    assert repr(mg.dtype) == repr(t.dtype) and mg.shape == tuple(t.shape)
    assert_close(mg, t)
    assert_close(mg, to_torch(mg_plain))


@given(a=arrays(np.float64, shapes(0, 3)), out_shape=shapes(0, 2, min_side=0),
       out_dtype=st.sampled_from(["float32", "float64", "float16", "int64", "bool"]))
def test_resize_cast_and_refusals_like_torch(a, out_shape, out_dtype):
    """Same outcome for any out shape / dtype: the values, torch's resize warning, or the same refusal."""
    outcomes = []
    for L in (minigrad, torch):
        x, out = L.tensor(a), L.zeros(out_shape, dtype=getattr(L, out_dtype))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                r = L.exp(x, out=out)
            except RuntimeError:
                outcomes.append("refused")
                continue
        assert r is out
        resized = [w for w in caught if "resized" in str(w.message)]
        outcomes.append((tuple(out.shape), repr(out.dtype), bool(resized), np.asarray(out.tolist(), np.float64)))
    mg, t = outcomes
    assert (mg == "refused") == (t == "refused")
    if mg != "refused":
        assert mg[:3] == t[:3]
        np.testing.assert_allclose(mg[3], t[3], rtol=1e-3 if out_dtype == "float16" else 1e-6)


def test_out_refused_while_autograd_records(backend):
    for L, dev in ((minigrad, backend), (torch, torch_device(backend))):
        w = L.ones(2, requires_grad=True, device=dev)
        for call in (lambda: L.add(w, 1, out=L.empty(2, device=dev)),
                     lambda: L.add(L.ones(2, device=dev), 1, out=L.empty(2, requires_grad=True, device=dev)),
                     lambda: L.cat([L.ones(1, device=dev), w], out=L.empty(3, device=dev))):
            with pytest.raises(RuntimeError, match="out="):
                call()
        with L.no_grad():
            out = L.empty(2, device=dev)
            assert L.mul(w, 3, out=out) is out and out.tolist() == [3.0, 3.0] and not out.requires_grad


def test_out_keeps_views_and_may_alias_an_input():
    a = np.zeros(3, np.float32)
    out = minigrad.from_numpy(a)
    minigrad.add(minigrad.ones(3), 2, out=out)
    assert a.tolist() == [3.0, 3.0, 3.0]  # written in place: the shared NumPy array sees it, as in torch
    x = minigrad.tensor([1.0, 2.0])
    assert minigrad.mul(x, x, out=x) is x and x.tolist() == [1.0, 4.0]


def test_tuple_out_and_dimless_sum_like_torch():
    for L in (minigrad, torch):
        x = L.tensor(A)
        v, i = L.empty(2), L.empty(2, dtype=L.long)
        r = L.max(x, 1, out=(v, i))
        assert r[0] is v and r[1] is i and v.tolist() == [2.0, 3.0] and i.tolist() == [2, 0]
        with pytest.raises(TypeError):
            L.sum(x, out=L.empty(()))  # torch.sum takes out= only with a dim
        with pytest.raises(TypeError):
            L.relu(x, out=L.empty(2, 3))  # no out= where torch has none
        assert L.add(x, x, alpha=2)[0, 0].item() == L.sub(x, x, alpha=-2)[0, 0].item() == 1.5


def test_the_tensors_tutorial_out_lines():
    """torch.matmul(tensor, tensor.T, out=y3) and torch.mul(tensor, tensor, out=z3), as the tutorial writes them."""
    tensor = minigrad.ones(4, 4)
    tensor[:, 1] = 0
    y1, y2 = tensor @ tensor.T, tensor.matmul(tensor.T)
    y3 = minigrad.rand_like(y1)
    minigrad.matmul(tensor, tensor.T, out=y3)
    z1, z2 = tensor * tensor, tensor.mul(tensor)
    z3 = minigrad.rand_like(tensor)
    minigrad.mul(tensor, tensor, out=z3)
    assert minigrad.equal(y1, y3) and minigrad.equal(y2, y3) and minigrad.equal(z1, z3) and minigrad.equal(z2, z3)
