"""Adam's float32 kernel when its first moment holds subnormals (adam_f32_loop in minigrad/kernels/subnormal.py): the
exact integer path gives the NumPy formulas' bits lane by lane, and it runs only where it can (IEEE subnormals in
effect, enough such lanes). The arrays mix the cases its proofs lean on: subnormal m with a gradient of +0, -0 or
not 0, rounding ties (k * w exactly on .5 after float32 rounding), weights near the no-change bound, powers of
two, subnormal/zero/inf/nan weights, denominators around 2**-30, eps = 0 with v = 0."""
from contextlib import contextmanager, nullcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.optim as optim
from minigrad import kernels
from minigrad.kernels import subnormal

F32 = np.float32
N = 600  # > subnormal.SAMPLES, so the kernel samples with a stride


def needs_exact_path():
    if not subnormal.SUBNORMALS_SLOW:
        pytest.skip("the exact subnormal loop runs on x86 only (subnormal.SUBNORMALS_SLOW)")


@contextmanager
def paths():
    """The list of loops adam_f32 ran (True = exact subnormal path); skips without Numba."""
    if not kernels.available():
        pytest.skip(f"fused kernels unavailable here: {kernels.status()}")
    ran, saved, on = [], dict(kernels._state), kernels.switch.on
    f32 = saved["cpu"]["adam_f32"]

    def spy(*args):
        ran.append(bool(f32(*args)))

    kernels._state.update(cpu={**saved["cpu"], "adam_f32": spy})
    kernels.switch.on = True
    try:
        yield ran
    finally:
        kernels._state.update(saved)
        kernels.switch.on = on


def lanes(rng, quiet, step_size):
    """(w, g, m, v), N float32 lanes; about `quiet` of them subnormal m with g == +0, the rest mixed."""
    pick = rng.random(N)
    k = np.where(rng.random(N) < 0.5, rng.integers(1, 64, N), rng.integers(1, 2**23, N))  # small k: ties
    m = (k | (rng.integers(0, 2, N) << 31)).astype(np.uint32).view(F32)  # subnormal, either sign
    g = np.zeros(N, F32)
    other = pick >= quiet
    kind = rng.integers(0, 5, N)
    m = np.where(other & (kind == 0), (rng.standard_normal(N) * 1e-3).astype(F32), m)
    m = np.where(other & (kind == 1), F32(-0.0), m)
    g = np.where(other & (kind == 2), F32(-0.0), g)  # subnormal m, g = -0: the float path's job
    g = np.where(other & (kind == 3), (rng.standard_normal(N) * 1e-3).astype(F32), g)
    g = np.where(other & (kind == 4), F32(1e-45) * rng.integers(1, 100, N).astype(F32), g)
    w_lo = 2.0 ** -71 * step_size  # about where a weight stops moving for a subnormal m (cpu.py: w_lo)
    w = np.select(
        [pick < 0.3, pick < 0.5, pick < 0.6, pick < 0.7, pick < 0.8],
        [rng.standard_normal(N) * 0.05,
         np.ldexp(1.0, rng.integers(-127, 2, N)),  # powers of two: the spacing halves below them
         w_lo * 2.0 ** rng.uniform(-3, 3, N),
         np.ldexp(1.0, np.floor(np.log2(w_lo)).astype(int) + rng.integers(-2, 3, N)) if w_lo > 0 else 0.0,
         rng.integers(1, 2**23, N) * 2.0 ** -149],  # subnormal weights
        rng.choice([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30], N)).astype(F32)
    w = np.where(rng.random(N) < 0.5, -w, w).astype(F32)
    v = np.select([pick < 0.4, pick < 0.7, pick < 0.85],
                  [rng.random(N) * 1e-6, 2.0 ** rng.uniform(-150, -40, N), 0.0],  # d around 2**-30, and 0
                  rng.integers(1, 2**23, N) * 2.0 ** -149).astype(F32)
    return w, g, m, v


def run_adam(arrays, kw, t0, steps, fused):
    w, g, m, v = (a.copy() for a in arrays)
    p = minigrad.tensor(w, requires_grad=True)
    opt = optim.Adam([p], **kw)
    opt.state[p] = {"step": float(t0), "exp_avg": minigrad.tensor(m), "exp_avg_sq": minigrad.tensor(v)}
    with (nullcontext() if fused else kernels.disabled()), np.errstate(all="ignore"):
        for _ in range(steps):
            p.grad = minigrad.tensor(g)
            opt.step()
    st_ = opt.state[p]
    return [p.array, st_["exp_avg"].array, st_["exp_avg_sq"].array]


def assert_same_bits(fused, ref):
    for a, b in zip(fused, ref):
        assert a.dtype == b.dtype == F32
        nan = np.isnan(a)
        np.testing.assert_array_equal(nan, np.isnan(b))
        np.testing.assert_array_equal(a.view(np.int32)[~nan], b.view(np.int32)[~nan])  # every bit, signs of 0 too


@given(seed=st.integers(0, 2**32 - 1), quiet=st.sampled_from([0.0, 0.02, 0.3, 0.9]),
       lr=st.sampled_from([0.0, 1e-3, 1.0, 1e30]) | st.floats(1e-6, 10.0),
       beta1=st.sampled_from([0.0, 0.5, 0.9]) | st.floats(0.0, 0.999),  # <= 0.5: lerp's other branch
       beta2=st.floats(0.0, 0.999), eps=st.sampled_from([0.0, 1e-8]) | st.floats(1e-12, 1e-2),
       t0=st.sampled_from([0, 7, 10_000]), steps=st.integers(1, 3),
       wd=st.sampled_from([0.0, 0.0, 1e-2]), maximize=st.booleans())
def test_adam_f32_equals_numpy_with_subnormal_m(seed, quiet, lr, beta1, beta2, eps, t0, steps, wd, maximize):
    kw = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd, maximize=maximize)
    arrays = lanes(np.random.default_rng(seed), quiet, lr / (1 - beta1 ** (t0 + 1)))
    with paths():
        fused = run_adam(arrays, kw, t0, steps, True)
    assert_same_bits(fused, run_adam(arrays, kw, t0, steps, False))


@pytest.mark.parametrize("beta1", [0.9, 0.3])
def test_m_decaying_through_the_subnormal_range_keeps_numpys_bits(beta1):
    """g = 0 from step 1 on: m decays from normal to subnormal and stalls, as in training; 60 steps, each compared."""
    needs_exact_path()
    rng = np.random.default_rng(1)
    w = (rng.standard_normal(N) * 0.05).astype(F32)
    m = (rng.standard_normal(N) * 1e-36).astype(F32)  # a few steps above the subnormal range
    v = (rng.random(N) * 1e-8).astype(F32)
    g = np.where(rng.random(N) < 0.7, F32(0), (rng.standard_normal(N) * 1e-3).astype(F32)).astype(F32)
    kw = dict(lr=1e-3, betas=(beta1, 0.999))
    with paths() as ran:
        for t in range(60):
            state = (w, g, m, v)
            fused = run_adam(state, kw, t, 1, True)
            assert_same_bits(fused, run_adam(state, kw, t, 1, False))
            w, m, v = fused
    assert not ran[0] and any(ran), "expected the plain loop first, the exact one once m is subnormal"
    assert ran[-1] == (beta1 > 0.5)  # 0.9 m stalls in the subnormal range; 0.3 m reaches 0


def test_the_exact_path_runs_only_where_it_can():
    needs_exact_path()
    rng = np.random.default_rng(2)
    kw = dict(lr=1e-3)
    with paths() as ran:
        run_adam(lanes(rng, 0.9, 1e-2), kw, 5, 1, True)  # many quiet lanes
        run_adam(lanes(rng, 0.0, 1e-2), kw, 5, 1, True)  # none
        run_adam(lanes(rng, 1.0, 1e-2), dict(lr=1e-3, maximize=True), 5, 1, True)  # -g = -0: not quiet
        run_adam(lanes(rng, 0.9, 1e-2), dict(lr=np.inf), 5, 1, True)  # no finite bound on the update
    assert ran == [True, False, False, False]


def test_flush_to_zero_mode_takes_the_plain_loop():
    """Under FTZ/DAZ (torch.set_flush_denormal(True)) NumPy flushes subnormals; the kernel must do as NumPy does."""
    torch = pytest.importorskip("torch")
    arrays = lanes(np.random.default_rng(3), 0.9, 1e-2)
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU has no flush-to-zero mode")
    try:
        with paths() as ran:
            fused = run_adam(arrays, dict(lr=1e-3), 5, 2, True)
        ref = run_adam(arrays, dict(lr=1e-3), 5, 2, False)
    finally:
        torch.set_flush_denormal(False)
    assert ran == [False, False]
    assert_same_bits(fused, ref)
    assert not np.any((ref[1] != 0) & (np.abs(ref[1]) < np.finfo(F32).tiny))  # NumPy did flush


def test_where_subnormals_are_not_known_to_be_slow_the_plain_loop_runs(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(subnormal, "SUBNORMALS_SLOW", False)  # as on ARM; read when the kernel compiles
    subnormal.prepare()  # the intrinsics the loop calls
    kernel = numba.njit(error_model="numpy")(subnormal.adam_f32_loop)
    w, g, m, v = lanes(np.random.default_rng(4), 1.0, 1e-2)
    assert kernel(w, g, m, v, F32(0.1), False, F32(0.999), F32(1e-3), F32(1.0), F32(1e-8), F32(-1e-3)) is False
