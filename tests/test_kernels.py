"""Fused optimizer kernels (minigrad/kernels): bit-identical to the NumPy reference formulas, and the dispatch
that decides when they run (and falls back to those formulas when they cannot)."""
import os
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager, nullcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.optim as optim
from minigrad import kernels

# () and (1,) are 0-d / 1-element edge cases; (5, 6) is stored column-major like nn.Linear's weights
SHAPES = [(), (1,), (7,), (3, 4), (5, 6), (300,)]
COLUMN_MAJOR = {(5, 6)}


@contextmanager
def spying():
    """Counts kernel calls by name, so a test knows the fused path really ran; skips without Numba."""
    if not kernels.available():
        pytest.skip(f"fused kernels unavailable here: {kernels.status()}")
    counts = Counter()

    def spy(name, fn):
        def counted(*args):
            counts[name] += 1
            return fn(*args)
        return counted

    saved, on = dict(kernels._state), kernels.switch.on
    kernels._state.update(cpu={k: spy(k, f) for k, f in saved["cpu"].items()})
    kernels.switch.on = True
    try:
        yield counts
    finally:
        kernels._state.update(saved)
        kernels.switch.on = on


@pytest.fixture
def calls():
    with spying() as counts:
        yield counts


def _array(rng, shape, dtype, scale, zeros=0.0):
    a = (rng.standard_normal(shape) * scale).astype(dtype)
    if zeros:
        a = np.where(rng.random(shape) < zeros, 0, a).astype(dtype)
    return np.asfortranarray(a) if shape in COLUMN_MAJOR else np.ascontiguousarray(a)


def train(name, kw, dtype, fused, steps=4, scale=1.0, seed=0):
    """Params and every optimizer-state array after `steps` updates with the kernels on or off."""
    rng = np.random.default_rng(seed)
    params = [minigrad.tensor(0.0, dtype=dtype, requires_grad=True) for _ in SHAPES]
    for p, s in zip(params, SHAPES):
        p.array = _array(rng, s, dtype, 1.0)
    opt = getattr(optim, name)(params, **kw)
    with (nullcontext() if fused else kernels.disabled()), np.errstate(all="ignore"):
        for t in range(steps):
            for p, s in zip(params, SHAPES):
                p.grad = minigrad.tensor(0.0, dtype=dtype)
                p.grad.array = _array(rng, s, dtype, scale, zeros=0.2)
            if t == 1:
                params[2].grad = None  # a parameter without a gradient is skipped, state untouched
            opt.step()
    state = [v.array.copy() for st_ in opt.state.values() for v in st_.values() if isinstance(v, minigrad.Tensor)]
    return [p.array.copy() for p in params] + state


def check_same(name, kw, dtype, kernel, **run):
    with spying() as calls:
        fused = train(name, kw, dtype, True, **run)
        ref = train(name, kw, dtype, False, **run)
    assert calls[kernel] + calls[kernel + "_f32"] > 0, f"{kernel} kernel never ran"  # float32 twin: kernels.FLOAT32
    assert len(fused) == len(ref)
    for a, b in zip(fused, ref):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)  # bit for bit (NaNs at the same places)


dtypes = st.sampled_from([np.float32, np.float64])
unit = st.floats(0.0, 0.999)
scales = st.sampled_from([1.0, 1e-3, 1e3, 1e-30, 1e30])  # tiny/huge: subnormals, overflow to inf and nan
wds = st.sampled_from([0.0]) | st.floats(1e-4, 0.5)


@st.composite
def sgd_kw(draw):
    momentum = draw(st.floats(1e-3, 0.99))
    nesterov = draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.sampled_from([0.0]) | st.floats(0.0, 1.0))
    return dict(lr=draw(st.floats(1e-4, 1.0)), momentum=momentum, dampening=dampening, weight_decay=draw(wds),
                nesterov=nesterov, maximize=draw(st.booleans()))


@given(kw=sgd_kw(), dtype=dtypes, scale=scales)
def test_sgd_momentum_kernel_equals_numpy(kw, dtype, scale):
    check_same("SGD", kw, dtype, "sgd_momentum", scale=scale)


@given(lr=st.floats(1e-4, 1.0), wd=wds, maximize=st.booleans(), dtype=dtypes, scale=scales)
def test_sgd_kernel_equals_numpy(lr, wd, maximize, dtype, scale):
    check_same("SGD", dict(lr=lr, weight_decay=wd, maximize=maximize), dtype, "sgd", scale=scale)


# betas below 0.5 take lerp's other branch; eps = 0 lets 0 / 0 make nan exactly where NumPy does
@given(kw=st.fixed_dictionaries(dict(lr=st.floats(1e-4, 1.0), betas=st.tuples(unit, unit),
                                     eps=st.sampled_from([0.0, 1e-8]) | st.floats(1e-10, 1e-1), weight_decay=wds,
                                     maximize=st.booleans())),
       name=st.sampled_from(["Adam", "AdamW"]), dtype=dtypes, scale=scales)
def test_adam_kernel_equals_numpy(kw, name, dtype, scale):
    check_same(name, kw, dtype, "adam", scale=scale)


@pytest.mark.parametrize("beta2", [0.0, 0.5, 0.9, 0.999, 0.99999, 1 - 2.0 ** -40])
def test_adam_f32_reciprocal_equals_division(beta2):
    """float32 Adam's sqrt(v) / bc2 as a float64 product (cpu.adam_f32_plain_loop) gives the division's bits for
    v over every float32 exponent (subnormal to near overflow, 0, inf, NaN) and many bias corrections bc2."""
    numba = pytest.importorskip("numba")
    from minigrad.kernels import cpu

    plain = numba.njit(error_model="numpy")(cpu.adam_loop)
    recip = numba.njit(error_model="numpy")(cpu.adam_f32_plain_loop)
    rng = np.random.default_rng(0)
    n = 20000
    f = np.float32
    for step in (1, 2, 3, 7, 100, 1000, 123457):
        bc2 = (1.0 - beta2 ** step) ** 0.5
        consts = (f(0.1), False, f(beta2), f(1 - beta2), f(bc2), f(1e-8), f(-1e-3))
        v = np.abs(rng.standard_normal(n)) * 2.0 ** rng.integers(-149, 127, n)  # every exponent
        v = np.concatenate([v.clip(0, 3.4e38).astype(f), np.array([0, np.inf, np.nan, 2 ** -149, 2 ** -126, 1], f)])
        w, g, m = (rng.standard_normal(v.size).astype(f) * f(2.0) ** rng.integers(-60, 60, v.size).astype(f)
                   for _ in range(3))
        a, b = [x.copy() for x in (w, g, m, v)], [x.copy() for x in (w, g, m, v)]
        with np.errstate(all="ignore"):
            plain(*a, *consts)
            recip(*b, *consts)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.view(np.int32), y.view(np.int32))  # every bit, NaN payloads too


@given(kw=st.fixed_dictionaries(dict(lr=st.floats(1e-4, 0.5), alpha=unit, eps=st.floats(0.0, 1e-2),
                                     weight_decay=wds, momentum=st.sampled_from([0.0]) | unit,
                                     centered=st.booleans(), maximize=st.booleans())),
       dtype=dtypes, scale=scales)
def test_rmsprop_kernel_equals_numpy(kw, dtype, scale):
    check_same("RMSprop", kw, dtype, "rmsprop", scale=scale)


@given(kw=st.fixed_dictionaries(dict(lr=st.floats(1e-4, 1.0), lr_decay=st.floats(0.0, 1.0), weight_decay=wds,
                                     initial_accumulator_value=st.floats(0.0, 1.0), eps=st.floats(0.0, 1e-2),
                                     maximize=st.booleans())),
       dtype=dtypes, scale=scales)
def test_adagrad_kernel_equals_numpy(kw, dtype, scale):
    check_same("Adagrad", kw, dtype, "adagrad", scale=scale)


@given(kw=st.fixed_dictionaries(dict(lr=st.floats(1e-3, 2.0), rho=st.floats(0.0, 1.0), eps=st.floats(0.0, 1e-2),
                                     weight_decay=wds, maximize=st.booleans())),
       dtype=dtypes, scale=scales)
def test_adadelta_kernel_equals_numpy(kw, dtype, scale):
    check_same("Adadelta", kw, dtype, "adadelta", scale=scale)


def test_amsgrad_and_first_momentum_step_take_the_numpy_path(calls):
    """Options without a kernel still train, on the NumPy formulas."""
    p = minigrad.tensor(np.ones(4, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = minigrad.ones(4)
    opt.step()
    assert calls["adam"] == calls["adam_f32"] == 0 and np.allclose(p.array, 0.9)
    q = minigrad.tensor(np.ones(4, np.float32), requires_grad=True)
    sgd = optim.SGD([q], lr=0.1, momentum=0.9)
    q.grad = minigrad.ones(4)
    sgd.step()  # step 1 creates the momentum buffer (NumPy); step 2 runs fused
    assert calls["sgd_momentum"] == 0
    sgd.step()
    assert calls["sgd_momentum"] == 1 and np.allclose(q.array, 1 - 0.1 - 0.1 * 1.9)


def test_dispatch_declines_what_it_cannot_fuse(calls):
    a = np.ones((4, 6), np.float32)
    assert kernels.run("sgd", (a, np.ones_like(a)), 0.5) and np.all(a == 0.5)
    declined = [
        (a.astype(np.float16), np.ones((4, 6), np.float16)),  # no float16 kernels
        (a, np.ones((4, 6), np.float64)),  # mixed dtypes
        (a, np.ones((6, 4), np.float32).T),  # different memory layouts
        (a[:, ::2], np.ones((4, 3), np.float32)),  # strided view
        (np.ones(4, np.int64), np.ones(4, np.int64)),  # integers
        ([1.0, 2.0], [1.0, 2.0]),  # not arrays at all (e.g. CuPy's: checked by type)
    ]
    for arrays in declined:
        assert kernels.run("sgd", arrays, 0.5) is False
    frozen = np.ones(3, np.float32)
    frozen.flags.writeable = False
    assert kernels.run("sgd", (frozen, np.ones(3, np.float32)), 0.5) is False
    assert calls["sgd"] == 1


def test_switch_and_context_manager(calls):
    """The switch is read by the callers (autograd.Function, Optimizer.step): off, no twin runs."""
    def step():
        w = minigrad.tensor(np.ones(3, np.float32), requires_grad=True)
        minigrad.relu(w * 2.0).sum().backward()
        minigrad.optim.SGD([w], lr=1.0).step()

    with kernels.disabled():
        assert not kernels.is_enabled() and kernels.status().startswith("off")
        step()
    assert sum(calls.values()) == 0
    assert kernels.is_enabled() and kernels.status().startswith("numba")
    kernels.set_enabled(False)
    try:
        step()
    finally:
        kernels.set_enabled(True)
    assert sum(calls.values()) == 0
    step()
    assert calls["sgd"] == 1 and calls["relu"] == 1  # (sum's gradient is a stride-0 broadcast: no relu_backward)


def test_env_var_turns_kernels_off():
    code = "from minigrad import kernels; print(kernels.is_enabled(), kernels.status())"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "MINIGRAD_FUSED": "0"},
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("False off")


def test_without_numba_the_numpy_formulas_run(monkeypatch, backend):
    """Numba missing (or CuPy arrays): the optimizer silently uses the reference formulas, same numbers."""
    monkeypatch.setitem(kernels._state, "cpu", False)
    monkeypatch.setitem(kernels._state, "error", "ImportError: No module named 'numba'")
    assert not kernels.available() and ("unavailable" in kernels.status() or not kernels.is_enabled())
    p = minigrad.tensor(np.ones(4, np.float32), device=backend, requires_grad=True)
    opt = optim.SGD([p], lr=0.25)
    p.grad = minigrad.ones(4, device=backend)
    opt.step()
    assert np.all(minigrad.backend.to_numpy(p.array) == 0.75)


def test_broken_numba_warns_once_and_the_numpy_formulas_run(monkeypatch):
    def broken():
        raise OSError("libllvmlite.so: cannot open shared object file")

    monkeypatch.setattr(kernels, "_build", broken)
    monkeypatch.setitem(kernels._state, "cpu", None)
    with pytest.warns(RuntimeWarning, match="fused optimizer kernels disabled .*OSError"):
        assert kernels.available() is False
    assert "unavailable (OSError" in kernels.status()
    p = minigrad.tensor(np.ones(3, np.float32), requires_grad=True)
    p.grad = minigrad.ones(3)
    optim.SGD([p], lr=0.5).step()
    assert np.all(p.array == 0.5)


def test_without_a_writable_cache_the_kernels_compile_in_memory(monkeypatch):
    numba = pytest.importorskip("numba")

    def njit(**kw):
        if kw.get("cache"):
            raise RuntimeError("cannot cache function 'sgd': no locator available for file '__init__.py'")
        return numba.njit(**kw)

    monkeypatch.setattr(kernels, "numba", type("FakeNumba", (), {"njit": staticmethod(njit)}))
    table = kernels._build()
    assert set(table) == set(kernels.KERNELS)
    w, g = np.ones(4, np.float32), np.full(4, 2.0, np.float32)
    table["sgd"](w, g, np.float32(0.25))
    assert np.all(w == 0.5)


def test_load_compiles_ahead_and_knows_every_signature(calls):
    for name in kernels.KERNELS:  # the argument table matches the kernels' signatures
        assert len(kernels.ARGS[name]) == kernels.LOOPS[name].__code__.co_argcount
    public = [name for name in kernels.KERNELS if name not in kernels.FLOAT32.values()]
    assert kernels.load(dtypes=("float32", "float64")) == public
    for name in public:  # float32 runs the twin where there is one, as kernels.run does
        twin = kernels.FLOAT32.get(name)
        assert (calls[name], calls[twin]) == (1, 1) if twin else calls[name] == 2
    with kernels.disabled():
        assert kernels.load() == []


special = st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45])


@given(data=st.data(), dtype=dtypes, shape=st.sampled_from([(), (1,), (7,), (3, 5), (2, 3, 4)]))
def test_relu_kernels_equal_numpy(data, dtype, shape):
    """ReLU forward (output and mask) and backward, fused vs NumPy: same bits, signed zeros and NaN included."""
    from minigrad.nn.layers import ReLUFunction

    size = int(np.prod(shape))
    values = st.floats(-1e3, 1e3, width=32) | special
    x = np.array(data.draw(st.lists(values, min_size=size, max_size=size)), dtype).reshape(shape)
    gy = np.array(data.draw(st.lists(values, min_size=size, max_size=size)), dtype).reshape(shape)
    out = []
    with spying() as calls:
        for fused in (True, False):
            with np.errstate(all="ignore"):
                op = ReLUFunction()
                op.xp = np
                y = op.forward_fast(x) if fused else op.forward(x)
                out.append((y, op.mask, op.backward_fast(gy) if fused else op.backward(gy)))
    assert calls["relu"] == 1 and calls["relu_backward"] == 1
    for a, b in zip(*out):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
        assert np.array_equal(np.signbit(a), np.signbit(b))  # assert_array_equal treats -0.0 == 0.0


def test_relu_kernels_decline_strided_input(calls):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert kernels.relu(x[:, ::2]) is None and kernels.relu(x.T) is None
    assert kernels.relu_backward(x.T, np.ones((4, 3), bool)) is None
    assert kernels.relu(x.astype(np.float16)) is None
    assert calls["relu"] == 0
