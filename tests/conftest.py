"""Backends injected into every test (Chainer style) and hypothesis profiles (MyGrad style)."""
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

import minigrad
import minigrad.backend  # noqa: F401
import minigrad.kernels  # noqa: F401  (the switch the double turns off)
import minigrad.random  # noqa: F401
from minigrad.backend import cupy_available

settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, max_examples=150, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# cupy_contract: minigrad's "cupy" backend on the CuPy double (tests/support/cupy_double), so every CI run checks the
# CuPy code paths against CuPy's API without a GPU; the real "cupy" case runs where a GPU is usable.
BACKENDS = ["numpy", "cupy_contract", "cupy"]


def install_cupy_double(monkeypatch, launch=None, capture=False):
    """Make minigrad see the CuPy double as its cupy for one test (every module that cached the module), with a
    pending device check of its own (one this test never synced must not fail the next test). The fused kernels are
    off, as the double's RawKernels refuse to run, unless launch= "emulate" or "source" lets them launch
    (support/cupy_double/_launch.py: each launch checked against the kernel's C signature and recorded in LAUNCHES).
    capture=True lets its streams capture CUDA graphs (logged in _launch.GRAPH) instead of refusing."""
    from support.cupy_double import _launch, cupy as double

    monkeypatch.setattr(minigrad.kernels.switch, "on", launch is not None)
    monkeypatch.setitem(_launch.MODE, "mode", launch)
    _launch.LAUNCHES.clear()
    monkeypatch.setitem(_launch.GRAPH, "allowed", capture)
    monkeypatch.setitem(_launch.GRAPH, "log", [])
    monkeypatch.setattr(minigrad.backend, "_pending", {})

    real = (minigrad.backend._cupy, minigrad.backend.cupy)
    for name, mod in list(sys.modules.items()):
        if name == "minigrad" or name.startswith("minigrad."):
            for attr in ("_cupy", "cupy"):  # a module holding the name (None where CuPy is not installed)
                if attr in vars(mod) and any(vars(mod)[attr] is r for r in real):
                    monkeypatch.setattr(mod, attr, double)
    # a generator drawn before the swap belongs to the other module
    sys.modules["minigrad.random"]._generators.clear()
    return double


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request):
    """'numpy' or 'cupy' (the device name tests pass to minigrad); cupy_contract gives 'cupy' on the CuPy double
    (installed per test by _cupy_contract below); the real cupy case skips, with the reason, where no GPU is usable."""
    if request.param == "cupy_contract":
        return "cupy"
    if request.param == "cupy" and not cupy_available():
        pytest.skip("cupy backend: CuPy not installed or no CUDA GPU visible")
    if request.param == "cupy":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return request.param


@pytest.fixture(autouse=True)
def _cupy_contract(request):
    """For a cupy_contract case: the double is minigrad's cupy for this test only (see install_cupy_double).
    Function scope and autouse, so no other test sees the double and hypothesis accepts it."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or callspec.params.get("backend") != "cupy_contract":
        yield
        return
    install_cupy_double(request.getfixturevalue("monkeypatch"))
    yield
    sys.modules["minigrad.random"]._generators.clear()


@pytest.fixture(autouse=True)
def _seed_everything():
    minigrad.manual_seed(0)
    yield
