"""Backends injected into every test (Chainer style) and hypothesis profiles (MyGrad style)."""
import os

import pytest
from hypothesis import HealthCheck, settings

import minigrad
from minigrad.backend import cupy_available

settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, max_examples=150, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

BACKENDS = ["numpy", "cupy"]


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request):
    """'numpy' or 'cupy'; the cupy case skips, with the reason, where no GPU is usable."""
    if request.param == "cupy" and not cupy_available():
        pytest.skip("cupy backend: CuPy not installed or no CUDA GPU visible")
    if request.param == "cupy":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return request.param


@pytest.fixture(autouse=True)
def _seed_everything():
    minigrad.manual_seed(0)
    yield
