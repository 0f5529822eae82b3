"""torch.cuda look-alike: availability, seeding and synchronisation for the cupy backend."""
from . import backend, device_checks


def is_available():
    """True when CuPy is installed and sees a GPU (minigrad's 'cuda' device is CuPy)."""
    return backend.cupy_available()


def device_count():
    return backend.cupy.cuda.runtime.getDeviceCount() if is_available() else 0


def synchronize():
    if is_available():
        backend.cupy.cuda.Device().synchronize()
        device_checks.sync()


def manual_seed(seed):
    from .random import manual_seed as _ms

    _ms(seed)


manual_seed_all = manual_seed


def get_device_name(index=0):
    if not is_available():
        raise backend.require_cupy_error()
    return backend.cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()
