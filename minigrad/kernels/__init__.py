"""Fused kernels (optimizer updates, ReLU): when they run, and the switch that turns them off.

The NumPy formulas in minigrad/optim are the reference a learner reads. With Numba installed, the same update
runs as one compiled pass over memory (minigrad/kernels/cpu.py) and gives bit-identical results; NumPy alone
needs ~10 passes and temporaries for Adam. Anything a kernel does not cover (CuPy arrays, float16, strided or
read-only arrays, amsgrad) takes the NumPy path. Turn the kernels off to step through the NumPy code:
    MINIGRAD_FUSED=0 python ...      or      minigrad.kernels.set_enabled(False)
"""
import os
import warnings
from contextlib import contextmanager

import numpy

_OFF = ("0", "false", "no", "off")
_state = {"enabled": os.environ.get("MINIGRAD_FUSED", "1").strip().lower() not in _OFF,
          "cpu": None, "error": None}


def set_enabled(flag):
    """Use the fused kernels (True, the default) or always the NumPy reference formulas (False)."""
    _state["enabled"] = bool(flag)


def is_enabled():
    return _state["enabled"]


@contextmanager
def disabled():
    """with minigrad.kernels.disabled(): ... runs the NumPy reference formulas."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


def available():
    """True when the CPU kernels can run (Numba importable)."""
    return bool(_cpu_kernels())


def status():
    """One line for logs and benchmark headers: what runs optimizer updates on the CPU."""
    if not _state["enabled"]:
        return "off (NumPy reference formulas; MINIGRAD_FUSED=0 or set_enabled(False))"
    if not available():
        return f"unavailable ({_state['error']}); NumPy reference formulas"
    import numba

    return f"numba {numba.__version__} (fused optimizer updates, one thread)"


def load(names=None, dtypes=("float32",)):
    """Compile (or load from the disk cache) kernels ahead of their first use, e.g. in a notebook's first cell,
    so the first optimizer step does not pause for it. Returns the names loaded ([] without Numba)."""
    table = _cpu_kernels() if _state["enabled"] else None
    if not table:
        return []
    from .cpu import ARGS, FLOAT32

    names = [n for n in table if n not in FLOAT32.values()] if names is None else list(names)
    for name in names:
        for dt in dtypes:
            kernel = FLOAT32.get(name, name) if numpy.dtype(dt) == numpy.float32 else name  # what run() calls
            args = {"a": lambda: numpy.zeros(1, dt), "m": lambda: numpy.zeros(1, bool), "b": lambda: False,
                    "f": lambda: numpy.dtype(dt).type(1)}
            table[kernel](*[args[k]() for k in ARGS[kernel]])
    return names


def _cpu_kernels():
    if _state["cpu"] is None:
        try:
            from . import cpu

            _state["cpu"] = cpu._build()
        except ImportError as e:  # Numba not installed: the NumPy formulas run instead
            _state["cpu"], _state["error"] = False, f"{type(e).__name__}: {e}"
        except Exception as e:  # a broken Numba must not stop training: say so once, then use NumPy
            _state["cpu"], _state["error"] = False, f"{type(e).__name__}: {e}"
            warnings.warn(f"minigrad: fused optimizer kernels disabled ({_state['error']}); "
                          "using the NumPy formulas", RuntimeWarning, stacklevel=2)
    return _state["cpu"]


def _flat(arrays):
    """1-D views of arrays sharing one NumPy float dtype, shape and contiguous layout; None if not so."""
    first = arrays[0]
    if type(first) is not numpy.ndarray or first.dtype not in (numpy.float32, numpy.float64):
        return None
    if not (first.flags.c_contiguous or first.flags.f_contiguous):
        return None
    for a in arrays:
        if (type(a) is not numpy.ndarray or a.dtype != first.dtype or a.shape != first.shape
                or a.strides != first.strides or not a.flags.writeable):
            return None
    return [a.ravel(order="K") for a in arrays]


def _plain(a):
    """A row-major NumPy float32/float64 array: what the elementwise kernels take as it is."""
    return type(a) is numpy.ndarray and a.dtype in (numpy.float32, numpy.float64) and a.flags.c_contiguous


def relu(x):
    """(maximum(x, 0), keep-mask) in one pass, or None when the kernel cannot run (the caller uses NumPy)."""
    if not (_state["enabled"] and _plain(x) and _cpu_kernels()):
        return None
    y, keep = numpy.empty_like(x), numpy.empty(x.shape, dtype=bool)
    _state["cpu"]["relu"](x.reshape(-1), y.reshape(-1), keep.reshape(-1))
    return y, keep


def relu_backward(gy, keep):
    """gy * keep + 0.0 in one pass, or None when the kernel cannot run."""
    if not (_state["enabled"] and _plain(gy) and keep.shape == gy.shape and keep.flags.c_contiguous
            and _cpu_kernels()):
        return None
    gx, cast = numpy.empty_like(gy), gy.dtype.type
    _state["cpu"]["relu_backward"](gy.reshape(-1), keep.reshape(-1), gx.reshape(-1), cast(1), cast(0))
    return gx


def run(name, arrays, *consts):
    """Run kernel `name` in place on `arrays` with scalar `consts`; False (nothing done) if it cannot."""
    if not _state["enabled"]:
        return False
    flat = _flat(arrays)
    if flat is None or not _cpu_kernels():
        return False
    cast = flat[0].dtype.type  # constants in the arrays' dtype, as NumPy applies a Python float
    consts = [c if isinstance(c, bool) else cast(c) for c in consts]
    table = _state["cpu"]
    kernel = table.get(name + "_f32", table[name]) if cast is numpy.float32 else table[name]  # cpu.FLOAT32
    kernel(*flat, *consts)
    return True
