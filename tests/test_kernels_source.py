"""The CUDA sources' arithmetic, run on the CPU (support/cupy_double/cuda_on_cpu.py: g++, IEEE, no FMA
contraction) through the real dispatch (minigrad.kernels on the CuPy double, its RawKernels let launch), against
the xp formulas: bit for bit for the optimizer updates and ReLU, as on the GPU; the kernels calling exp/log/log1p within a few ulps (glibc here, CUDA's
math library there). What it cannot show, CUDA's own compiler and math library, tests/test_kernels_gpu.py does."""
import numpy as np
import pytest
from support.cupy_double import _launch, cuda_on_cpu, cupy as _double

from minigrad import kernels
from minigrad.kernels import cuda

pytestmark = pytest.mark.skipif(not cuda_on_cpu.available(), reason="g++ not found: cannot build the CPU harness")

SHAPES = [(), (1,), (7,), (3, 4), (300,), (5, 6)]


@pytest.fixture
def fake(monkeypatch):
    if not kernels.available():
        pytest.skip(f"the reference runs the Numba kernels: {kernels.status()}")
    from conftest import install_cupy_double

    double = install_cupy_double(monkeypatch, launch="source")  # its RawKernels launch: checked, recorded
    cuda._cache.clear()
    yield double
    cuda._cache.clear()


# constants as each optimizer computes them (kernels.run's order), with the extremes that matter: lerp on both
# branches, nesterov, centered, dampening
CONSTS = {"adam": [(0.1, False, 0.999, 0.001, 0.97, 1e-8, -0.01), (0.7, True, 0.2, 0.8, 0.5, 1e-3, -0.3)],
          "sgd": [(0.1,)], "sgd_momentum": [(0.9, 0.7, True, False, 0.1), (0.9, 1.0, False, True, 0.1)],
          "rmsprop": [(0.99, 0.01, 0.01, False, -1.0, 1e-8, True, True, 0.5, 0.01),
                      (0.3, 0.7, 0.7, True, -1.0, 1e-8, False, False, 0.0, 0.01)],
          "adagrad": [(1.0, 1e-10, -0.1)], "adadelta": [(0.9, 0.1, 1e-6, 1.0)]}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CONSTS))
def test_optimizer_sources_equal_the_reference_bit_for_bit(fake, name, dtype):
    rng = np.random.default_rng(0)
    n_arrays = len(cuda.OPTIMIZERS[name][0])
    for consts in CONSTS[name]:
        host, dev = [], []
        for s in SHAPES * 3:  # 18 parameters: two launches
            arrays = [np.array(rng.standard_normal(s) * 2, dtype) for _ in range(n_arrays)]
            arrays[1][rng.random(s) < 0.2] = 0  # exact zero gradients
            for a in arrays[2:]:
                a[...] = np.abs(a)  # optimizer state: square averages are >= 0
            host.append(arrays)
            dev.append([_double.asarray(a.copy()) for a in arrays])
        with kernels.batch():
            for arrays in dev:
                assert kernels.run(name, tuple(arrays), *consts)
        assert _launch.LAUNCHES and all(fn == f"{name}_{cuda.CTYPES[np.dtype(dtype).name]}" for fn, *_ in _launch.LAUNCHES)
        _launch.LAUNCHES.clear()
        with np.errstate(all="ignore"):
            for arrays in host:  # the Numba twins: bit for bit the NumPy formulas (tests/test_kernels.py)
                assert kernels.run(name, tuple(arrays), *consts)
        for h, d in zip(host, dev):
            for a, b in zip(h, d):
                np.testing.assert_array_equal(b._a, a)


def _specials(rng, shape, dtype):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.reshape(-1)[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_sources_equal_the_xp_formulas_bit_for_bit(fake, dtype):
    rng = np.random.default_rng(1)
    x, gy, b = _specials(rng, (30, 20), dtype), _specials(rng, (30, 20), dtype), _specials(rng, (20,), dtype)
    y, keep = kernels.relu(_double.asarray(x))
    gx = kernels.relu_backward(_double.asarray(gy), keep)
    yb, kb = kernels.bias_relu(_double.asarray(x), _double.asarray(b))
    y_ref = np.maximum(x, 0)
    xb = x + b
    with np.errstate(invalid="ignore"):  # inf * 0 = nan, in both
        gx_ref = gy * ~(y_ref <= 0) + 0.0
    for got, ref in ((y, y_ref), (keep, ~(y_ref <= 0)), (gx, gx_ref), (yb, np.maximum(xb, 0)),
                     (kb, ~(np.maximum(xb, 0) <= 0))):
        np.testing.assert_array_equal(got._a, ref)
        assert np.array_equal(np.signbit(got._a), np.signbit(ref))  # +0.0, never -0.0, as the xp code


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_sources_match_the_xp_formulas(fake, dtype):
    rng = np.random.default_rng(2)
    N, C = 40, 7
    ulps = 4 * np.finfo(dtype).eps
    z = (rng.standard_normal((N, C)) * 8).astype(dtype)
    t = rng.integers(0, C, N)
    t[[3, 9]] = -100
    loss, p, valid, bad = kernels.softmax_cross_entropy(_double.asarray(z), _double.asarray(t))
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    ok = t != -100
    ref = np.where(ok, -(shifted - np.log(s))[np.arange(N), np.where(ok, t, 0)], 0)
    np.testing.assert_allclose(loss._a, ref, rtol=ulps, atol=C * ulps)
    np.testing.assert_allclose(p._a, e / s, rtol=(C + 1) * ulps)
    assert valid._a.tolist() == ok.tolist() and bad._a == 0
    g = _double.asarray(np.asarray(1 / N, dtype))
    gz = kernels.softmax_cross_entropy_backward(p, _double.asarray(t), g)
    ref_gz = p._a.copy()
    ref_gz[np.arange(N)[ok], t[ok]] -= 1
    ref_gz *= g._a
    ref_gz[~ok] = 0
    np.testing.assert_array_equal(gz._a, ref_gz)  # the same p in: the same bits out
    t_bad = t.copy()
    t_bad[5] = C
    assert kernels.softmax_cross_entropy(_double.asarray(z), _double.asarray(t_bad))[3]._a == 1
    zz, y = _specials(rng, (20, 9), dtype) * 10, rng.random((20, 9)).astype(dtype)
    with np.errstate(invalid="ignore"):  # inf - inf = nan, in both
        ref_bce = (1 - y) * zz - (np.minimum(zz, 0) - np.log1p(np.exp(-np.abs(zz))))
    np.testing.assert_allclose(kernels.bce_with_logits(_double.asarray(zz), _double.asarray(y))._a, ref_bce, rtol=ulps, atol=0)
    g = _double.asarray(np.asarray(0.5, dtype))
    ee = np.exp(-np.abs(zz))
    ref_g = (np.where(zz >= 0, 1 / (1 + ee), ee / (1 + ee)) - y) * g._a
    got = kernels.bce_with_logits_backward(_double.asarray(zz), _double.asarray(y), g)._a
    np.testing.assert_allclose(got, ref_g, rtol=ulps, atol=ulps)
