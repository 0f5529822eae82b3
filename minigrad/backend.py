"""The one place that picks the array module (numpy or cupy) and names devices."""
import os

import numpy

try:  # CuPy is an optional extra; a missing or broken install must not break import.
    import cupy as _cupy

    _CUPY_IMPORT_ERROR = None
except Exception as e:  # pragma: no cover - depends on the machine
    _cupy = None
    _CUPY_IMPORT_ERROR = e


class _MissingCupy:
    """Sentinel standing in for cupy when it is absent, so `xp is cupy` is always valid."""

    def __getattr__(self, name):
        raise require_cupy_error()

    def __repr__(self):
        return "<cupy: not available>"


cupy = _cupy if _cupy is not None else _MissingCupy()

# minigrad-engine is not on PyPI: name CuPy's own package, and the extra for a clone of the repository
CUPY_INSTALL_HINT = (
    "Install CuPy with `pip install cupy-cuda12x` (CUDA 12; cupy-cuda13x for CUDA 13), or `pip install -e '.[gpu]'` "
    "in a clone of minigrad, on a machine with an NVIDIA GPU; or use device='cpu'/'numpy'."
)

_ALIASES = {"cpu": "numpy", "numpy": "numpy", "np": "numpy", "cuda": "cupy", "cupy": "cupy", "gpu": "cupy"}


def cupy_available():
    """True when CuPy imports and sees at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def require_cupy_error():
    """The RuntimeError to raise when CuPy is asked for: why it cannot be used and how to install it."""
    if _cupy is None:
        why = f"CuPy is not installed ({_CUPY_IMPORT_ERROR})."
    else:
        why = "CuPy is installed but no CUDA GPU is visible."
    return RuntimeError(f"The cupy/cuda backend was requested but cannot be used: {why} {CUPY_INSTALL_HINT}")


def backend_name(device):
    """Normalise a device spec ('cpu', 'cuda', 'cuda:0', 'numpy', 'cupy', device object) to 'numpy' or 'cupy'."""
    if device is None:
        return get_default_backend()
    if isinstance(device, Device):
        return device.backend
    if isinstance(device, str):
        base = device.split(":")[0].strip().lower()
        if base in _ALIASES:
            return _ALIASES[base]
    raise ValueError(
        f"Unknown device {device!r}: expected one of 'cpu', 'numpy', 'cuda', 'cuda:0', 'cupy'."
    )


def get_xp(device=None):
    """Array module for a device spec; raises a clear error if cupy is asked for but unusable."""
    name = backend_name(device)
    if name == "numpy":
        return numpy
    if not cupy_available():
        raise require_cupy_error()
    return _cupy


def get_array_module(x):
    """numpy or cupy, whichever owns the array x (DeZero's cuda.get_array_module)."""
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return _cupy
    return numpy


def name_of(xp):
    """'numpy' or 'cupy' for an array module."""
    return "cupy" if xp is not numpy else "numpy"


def to_numpy(a):
    """Host copy of a backend array (no copy for numpy)."""
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        from . import device_checks

        device_checks.sync()  # a host copy syncs anyway: raise what the device checks found since the last one
        return _cupy.asnumpy(a)
    return numpy.asarray(a)


def move(a, backend):
    """Move array a to backend 'numpy' or 'cupy'; returns a itself when already there."""
    if backend == "numpy":
        return to_numpy(a)
    xp = get_xp("cupy")
    return xp.asarray(a)


class Device:
    """torch.device look-alike: Device('cuda').type == 'cuda'."""

    def __init__(self, spec="cpu", index=None):
        self.backend = backend_name(spec)
        self.type = "cuda" if self.backend == "cupy" else "cpu"
        if index is None and isinstance(spec, str) and ":" in spec:
            index = int(spec.split(":")[1])
        self.index = index

    def __eq__(self, other):
        try:
            return backend_name(other) == self.backend
        except ValueError:
            return False

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"


def parse_to(args, kwargs, who, allow_copy=True):
    """(device, dtype) from to()'s arguments, as torch takes them on Tensor.to and Module.to: to(device),
    to(dtype), to(device, dtype), to(other_tensor), device=/dtype= keywords; non_blocking (and copy) ignored."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    if allow_copy:
        kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"{who}() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, (str, Device)):
            device = a
        elif hasattr(a, "device") and hasattr(a, "dtype"):  # a Tensor: its device and dtype
            device, dtype = a.device, a.dtype
        elif a is not None:
            dtype = a
    return device, dtype


def _initial_default():
    spec = os.environ.get("MINIGRAD_BACKEND") or os.environ.get("MINIGRAD_DEVICE") or "numpy"
    return backend_name(spec)


_default_backend = _initial_default()


def get_default_backend():
    """The backend new tensors land on: 'numpy' or 'cupy'."""
    return _default_backend


def set_default_backend(device):
    """Set the backend new tensors land on ('numpy'/'cpu' or 'cupy'/'cuda'); env MINIGRAD_BACKEND sets it at import."""
    global _default_backend
    name = backend_name(device)
    if name == "cupy":
        get_xp("cupy")  # fail now, with the clear message, not at first tensor
    _default_backend = name
