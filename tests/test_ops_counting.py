"""Counting, bucketing and set ops of issue 19 (no gradient in torch either) and the random-sampling gap (poisson):
values and dtypes equal to torch's on hypothesis-drawn inputs, poisson's stream bit for bit."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from support.helpers import to_torch
from support.strategies import arrays, shapes, tie_prone

ints = st.integers(0, 6)


def _flat(result):
    """(hist, [edges...]) as one list of tensors."""
    return [result[0], *result[1]]


def same(got, want):
    got = got if isinstance(got, (tuple, list)) else (got,)
    want = want if isinstance(want, (tuple, list)) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = w.cpu().numpy()
        g = g.cpu().numpy() if hasattr(g, "cpu") else g.numpy()
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_array_equal(g, w)


CALLS = {  # name: (draw inputs, call(lib, *tensors))
    "bincount": (lambda d: [d.draw(arrays(np.int64, shapes(1, 1, 0, 8), ints))],
                 lambda m, x: m.bincount(x, minlength=3)),
    "bincount_w": (lambda d: [d.draw(arrays(np.int64, (5,), ints)), d.draw(arrays(np.float32, (5,)))],
                   lambda m, x, w: m.bincount(x, w)),
    "bucketize": (lambda d: [d.draw(arrays(np.float32, shapes(0, 2), tie_prone(np.float32, (-1.0, 0.0, 0.5, 2.0))))],
                  lambda m, x: [m.bucketize(x, m.tensor([-1.0, 0.0, 1.0], device=x.device)),
                                m.bucketize(x, m.tensor([-1.0, 0.0, 1.0], device=x.device), right=True)]),
    "searchsorted": (lambda d: [np.sort(d.draw(arrays(np.float64, (2, 4), tie_prone(np.float64))), -1),
                                d.draw(arrays(np.float64, (2, 3), tie_prone(np.float64)))],
                     lambda m, s, v: [m.searchsorted(s, v), m.searchsorted(s, v, side="right"),
                                      m.searchsorted(s[0], v, out_int32=True)]),
    "histc": (lambda d: [d.draw(arrays(np.float32, shapes(1, 2, 1, 6), tie_prone(np.float32, (0.0, 0.3, 1.0, 2.0))))],
              lambda m, x: [m.histc(x, 4), m.histc(x, 3, min=0, max=1)]),
    "histogram": (lambda d: [d.draw(arrays(np.float64, shapes(1, 2, 1, 6), tie_prone(np.float64, (0.0, 0.3, 1.0))))],
                  lambda m, x: [*m.histogram(x, 3), *m.histogram(x, 2, range=(0.0, 1.0), density=True)]),
    "histogramdd": (lambda d: [d.draw(arrays(np.float32, st.sampled_from([(5, 2), (4, 3)]),
                                             tie_prone(np.float32, (0.0, 0.3, 1.0, 2.0))))],
                    lambda m, x: [*_flat(m.histogramdd(x, 2)),
                                  *_flat(m.histogramdd(x, [1, 2, 3][:x.shape[1]], density=True))]),
    "histogram_weighted": (lambda d: [d.draw(arrays(np.float64, (6,), tie_prone(np.float64, (0.0, 0.3, 1.0)))),
                                      d.draw(arrays(np.float64, (6,)))],
                           lambda m, x, w: list(m.histogram(x, m.tensor([0.0, 0.5, 1.0], dtype=x.dtype,
                                                                        device=x.device), weight=w))),
    "unique": (lambda d: [d.draw(arrays(np.int64, shapes(1, 2), ints))],
               lambda m, x: m.unique(x, return_inverse=True, return_counts=True)),
    "unique_dim": (lambda d: [d.draw(arrays(np.int64, (4, 2), st.integers(0, 1)))],
                   lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True)),
    "unique_consecutive": (lambda d: [d.draw(arrays(np.int64, shapes(1, 1), st.integers(0, 2)))],
                           lambda m, x: m.unique_consecutive(x, return_inverse=True, return_counts=True)),
    "isin": (lambda d: [d.draw(arrays(np.int64, shapes(0, 2), ints)), d.draw(arrays(np.int64, (3,), ints))],
             lambda m, a, b: [m.isin(a, b), m.isin(a, b, invert=True)]),
    "count_nonzero": (lambda d: [d.draw(arrays(np.float32, shapes(1, 3), tie_prone(np.float32)))],
                      lambda m, x: [m.count_nonzero(x), m.count_nonzero(x, dim=0)]),
    "isposinf": (lambda d: [d.draw(arrays(np.float32, shapes(), st.sampled_from([np.float32(v) for v in
                                                                                 (np.inf, -np.inf, 0.0, np.nan)])))],
                 lambda m, x: [m.isposinf(x), m.isneginf(x), m.isreal(x), m.signbit(x)]),
    "frexp": (lambda d: [d.draw(arrays(np.float32, shapes(), tie_prone(np.float32, (0.0, 3.0, -0.75, 1e-3))))],
              lambda m, x: list(m.frexp(x))),
}


@pytest.mark.parametrize("name", list(CALLS))
@settings(max_examples=8)
@given(data=st.data())
def test_counting_parity(backend, name, data):
    draw, call = CALLS[name]
    xs = draw(data)
    mg = [minigrad.tensor(x, device=backend) for x in xs]
    same(call(minigrad, *mg), call(torch, *[to_torch(t, backend) for t in mg]))


def test_counting_errors():
    for call in (lambda m: m.bincount(m.tensor([-1, 2])), lambda m: m.histc(m.tensor([1.0]), bins=0),
                 lambda m: m.bucketize(m.tensor([1.0]), m.tensor([[1.0]])),
                 lambda m: m.searchsorted(m.tensor([1.0, 2.0]), m.tensor([1.0]), side="up")):
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError):
            call(minigrad)


TORCH = tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3])
@pytest.mark.parametrize("use_generator", [False, True])
def test_poisson_draws_torchs_stream(dtype, seed, use_generator):
    rates = np.array([0.0, 0.3, 2.5, 9.99, 10.0, 37.0, 500.0, 1e5] * 4, dtype=dtype)
    if use_generator:
        g, tg = minigrad.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    else:
        g = tg = None
        minigrad.manual_seed(seed)
        torch.manual_seed(seed)
    got = minigrad.poisson(minigrad.tensor(rates), generator=g)
    want = torch.poisson(torch.tensor(rates), generator=tg)
    assert got.dtype == minigrad.dtypes.of(np.dtype(dtype)) and got.numpy().tobytes() == want.numpy().tobytes()
    after = minigrad.rand(3, generator=g) if g else minigrad.rand(3)
    np.testing.assert_array_equal(after.numpy(), (torch.rand(3, generator=tg) if tg else torch.rand(3)).numpy())


def test_poisson_gradient_is_zero_and_rates_checked():
    x, t = minigrad.tensor([1.0, 4.0], requires_grad=True), torch.tensor([1.0, 4.0], requires_grad=True)
    y, ty = minigrad.poisson(x), torch.poisson(t)
    (y * 2).sum().backward()
    (ty * 2).sum().backward()
    assert y.grad_fn.name() == ty.grad_fn.name() == "PoissonBackward0"
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    with pytest.raises(RuntimeError):
        minigrad.poisson(minigrad.tensor([-1.0]))
    with pytest.raises(RuntimeError):
        torch.poisson(torch.tensor([-1.0]))


def test_poisson_on_cupy_contract_runs(backend):
    y = minigrad.poisson(minigrad.full((50,), 3.0, device=backend))
    assert y.shape == (50,) and y.dtype == minigrad.float32 and float(y.sum().item()) > 0
