"""torch.accelerator look-alike. minigrad's one accelerator is CUDA through CuPy.

The tutorials pick their device with
`torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"`.
"""
from . import backend
from .backend import Device


def is_available():
    """True when CuPy imports and sees a GPU."""
    return backend.cupy_available()


def current_accelerator(check_available=False):
    """device('cuda') when CuPy is installed (with check_available=True: and a GPU is visible), else None.

    As torch, without check_available this names what the install supports, not what is usable now."""
    if backend._cupy is None or (check_available and not is_available()):
        return None
    return Device("cuda")


def device_count():
    """Number of visible CUDA GPUs (0 without CuPy or a GPU), as torch.accelerator.device_count."""
    return backend.cupy.cuda.runtime.getDeviceCount() if is_available() else 0


def current_device_index():
    """Index of the current CUDA device; raises RuntimeError without CuPy or a GPU."""
    if not is_available():
        raise backend.require_cupy_error()
    return backend.cupy.cuda.runtime.getDevice()


current_device_idx = current_device_index


def synchronize(device=None):
    """Wait for the GPU's queued work to finish (nothing to wait for on the CPU)."""
    if is_available():
        backend.cupy.cuda.Device().synchronize()


def get_default_device():
    """torch.get_default_device: where new tensors go (cpu = NumPy, cuda = CuPy)."""
    return Device(backend.get_default_backend())


def set_default_device(device):
    """torch.set_default_device: None or 'cpu' for NumPy, 'cuda' for CuPy (which must be usable)."""
    backend.set_default_backend("cpu" if device is None else device)
