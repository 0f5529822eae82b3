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


class _Capture:
    """`capture.open` is True while minigrad.cuda.graph captures a CUDA graph (it sets it); Optimizer.step reads it."""
    open = False


capture = _Capture()


def check_same_backend(arrays, opname):
    """Refuse an op whose input arrays live on different backends, as torch refuses cpu and cuda tensors mixed."""
    if len(arrays) < 2 or all(type(a) is numpy.ndarray for a in arrays):
        return
    names = {name_of(get_array_module(a)) for a in arrays}
    if len(names) > 1:
        raise RuntimeError(
            f"{opname}: expected all tensors to be on the same device, but found tensors on "
            f"{' and '.join(sorted(names))} (numpy = cpu, cupy = cuda). Move them with .to(...)."
        )


def to_numpy(a):
    """Host copy of a backend array (no copy for numpy)."""
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        sync_checks()  # a host copy syncs anyway: raise what the device checks found since the last one
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


# ---- checks of device values with no hidden sync: at once on NumPy, at the next sync point on CuPy -------------
# They live here because reading device data (to_numpy above) is where they surface.
# Why: reading a GPU value on the host (`bool(bad.any())`) copies it back and waits for every queued kernel, so a
# check on every loss call (class-target range, BCE input range, NaN) would stall the GPU once per step. torch
# checks on the device instead (CUDA_KERNEL_ASSERT) and the error surfaces at the next synchronising call.
# minigrad does the same, here and only here:
# - check_values() folds `bad.any()` into one pending 0-d device flag per kind of check, with the first offending value,
#   using device ops only (no copy, no sync);
# - sync_checks() reads the pending flags and raises the first failed check's error. It runs where the user asks for
#   host data anyway: to_numpy (.numpy(), .cpu(), .tolist(), printing), Tensor.item() (and float(),
#   bool(), ...), minigrad.cuda.synchronize().
# On NumPy the value is on the host already: check_values() raises where it is called.
#
# (error type, message) -> [flag: 0-d device bool, first offending value: 0-d device array]; insertion-ordered,
# so sync_checks() reports the check that was registered first
_pending = {}


def check_values(bad, values, message, error=RuntimeError):
    """Raise error(message.format(v)) if any element of the boolean array `bad` is True; v is the first offending
    element of `values` (same shape as bad), or None. Now on NumPy; at the next sync point on CuPy."""
    if bad.size == 0:
        return
    xp = get_array_module(bad)
    if xp is numpy:
        if bad.any():
            raise error(message.format(None if values is None else values[bad][0].item()))
        return
    flag = bad.any()  # 0-d device array: no copy
    first = flag if values is None else values.ravel()[bad.ravel().argmax()]
    key = (error, message)
    if key not in _pending:
        _pending[key] = [flag, first]
    else:  # keep the earliest failure's value; all on the device
        prev_flag, prev_first = _pending[key]
        _pending[key] = [prev_flag | flag, xp.where(prev_flag, prev_first, first)]


def sync_checks():
    """Raise the first pending failed check (reads the flags: a device->host copy, at a point that syncs anyway)."""
    if not _pending:
        return
    items = list(_pending.items())
    _pending.clear()
    for (error, message), (flag, first) in items:
        if bool(flag):
            raise error(message.format(first.item()))


def all_true(a):
    """True if every element of the boolean array a is True, where knowing costs no sync (NumPy); on CuPy always
    False, so the caller takes its general path (e.g. the masked loss), which gives the same numbers."""
    return get_array_module(a) is numpy and bool(a.all())
