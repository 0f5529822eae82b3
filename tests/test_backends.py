"""torch.backends / torch.accelerator look-alikes: the device-choice lines of the tutorials, and the flags."""
import importlib

import pytest
import torch

import minigrad
from minigrad import backend as mg_backend


def test_tutorial_device_lines_pick_what_is_usable():
    want = "cuda" if mg_backend.cupy_available() else "cpu"
    for L in (minigrad,):
        dev = L.accelerator.current_accelerator().type if L.accelerator.is_available() else "cpu"
        old = "cuda" if L.cuda.is_available() else "mps" if L.backends.mps.is_available() else "cpu"
        assert dev == old == want
        assert L.ones(2).to(dev).device.type == want


def test_mps_is_never_there():
    assert minigrad.backends.mps.is_available() is False and minigrad.backends.mps.is_built() is False


def test_accelerator_answers_as_torch_does_for_its_build():
    """Without a GPU: is_available False, device_count 0; current_accelerator names the build's device
    (CuPy installed = a CUDA build, as a CUDA torch says 'cuda' on a machine without a GPU)."""
    acc = minigrad.accelerator
    assert acc.is_available() == minigrad.cuda.is_available() == mg_backend.cupy_available()
    assert acc.device_count() == minigrad.cuda.device_count()
    built = acc.current_accelerator()
    assert (built is None) == (mg_backend._cupy is None)
    if built is not None:
        assert built.type == "cuda" and built == minigrad.device("cuda") and str(built) == "cuda"
    checked = acc.current_accelerator(check_available=True)
    assert (checked is not None) == acc.is_available()
    if not acc.is_available():
        assert acc.device_count() == 0
        with pytest.raises(RuntimeError):
            acc.current_device_index()
    # torch answers the same kinds of values (torch.accelerator appeared in torch 2.6: torch 2.4 has none to ask)
    if hasattr(torch, "accelerator"):
        assert isinstance(torch.accelerator.is_available(), bool)
        assert isinstance(torch.accelerator.device_count(), int)


def test_cudnn_and_tf32_flags_are_settable_and_harmless():
    import minigrad.backends.cudnn as cudnn  # the `import torch.backends.cudnn as cudnn` idiom

    saved = (cudnn.benchmark, cudnn.deterministic, minigrad.backends.cuda.matmul.allow_tf32)
    try:
        for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
            assert type(getattr(cudnn, name)) is type(getattr(torch.backends.cudnn, name)) is bool
        assert cudnn.enabled is True and cudnn.benchmark is False and cudnn.deterministic is False
        assert minigrad.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is False
        cudnn.benchmark = cudnn.deterministic = True
        minigrad.backends.cuda.matmul.allow_tf32 = True
        x = minigrad.tensor([[1.0, 2.0]])
        assert (x @ x.T).item() == 5.0
        assert cudnn.is_available() is False  # minigrad never calls cuDNN
        assert minigrad.backends.cuda.is_built() == (mg_backend._cupy is not None)
    finally:
        cudnn.benchmark, cudnn.deterministic, minigrad.backends.cuda.matmul.allow_tf32 = saved
    assert importlib.import_module("minigrad.backends.mps").is_available() is False


def test_float32_matmul_precision_like_torch():
    assert minigrad.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    try:
        minigrad.set_float32_matmul_precision("high")
        assert minigrad.get_float32_matmul_precision() == "high" and minigrad.backends.cuda.matmul.allow_tf32
        with pytest.raises(RuntimeError, match="'fastest'"):
            minigrad.set_float32_matmul_precision("fastest")
    finally:
        minigrad.set_float32_matmul_precision("highest")
    assert minigrad.backends.cuda.matmul.allow_tf32 is False


def test_default_device_like_torch():
    saved = mg_backend.get_default_backend()
    if saved == "numpy":
        assert repr(minigrad.get_default_device()) == repr(torch.get_default_device()) == "device(type='cpu')"
    try:
        minigrad.set_default_device("cpu")
        assert minigrad.ones(2).device.type == "cpu"
        if not mg_backend.cupy_available():
            with pytest.raises(RuntimeError):
                minigrad.set_default_device("cuda")
            assert minigrad.get_default_device().type == "cpu"
        minigrad.set_default_device(None)
        assert minigrad.get_default_device().type == "cpu"
    finally:
        mg_backend.set_default_backend(saved)
