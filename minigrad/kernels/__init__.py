"""Faster twins of the formulas as array -> array functions, and the one switch that turns every twin off.

The xp formulas in minigrad/optim, minigrad/nn and minigrad/ops are the reference a learner reads; each op or
optimizer names its fast twin beside its formula (ReLUFunction.forward_fast, adam.py's _fused_adam) and calls the
functions here. They know no op, module or optimizer: arrays in, arrays out (or updated in place). NumPy arrays go
to the Numba loops (cpu.py; subnormal.py for float32 Adam), CuPy arrays to CUDA kernels (cuda.py, one launch where
CuPy's xp code makes ~10 per parameter). Both give the formulas' bits (cuda.py names the one documented
exception). Each function returns None / False where no kernel fits (float16, strided or read-only arrays, no
Numba), and the caller's formula runs. The switch is `switch.on`, read by autograd.Function and Optimizer.step
before they call a twin, so with it off no code of this package runs:
    MINIGRAD_FUSED=0 python ...      or      minigrad.kernels.set_enabled(False)
"""
import os
import warnings
from contextlib import contextmanager

import numpy

from .. import backend
from . import cpu, subnormal

_OFF = ("0", "false", "no", "off")


class _Switch:
    """The one switch: `on` is read (an attribute, no call) by autograd.Function and Optimizer.step."""
    on = os.environ.get("MINIGRAD_FUSED", "1").strip().lower() not in _OFF


switch = _Switch()
_state = {"cpu": None, "error": None, "batch": None}


def set_enabled(flag):
    """Use the fused kernels (True, the default) or always the reference formulas (False)."""
    switch.on = bool(flag)


def is_enabled():
    """True when the fused kernels may run (set_enabled / MINIGRAD_FUSED); False: the reference formulas."""
    return switch.on


@contextmanager
def disabled():
    """with minigrad.kernels.disabled(): ... runs the reference formulas."""
    before = switch.on
    switch.on = False
    try:
        yield
    finally:
        switch.on = before


def available():
    """True when the CPU kernels can run (Numba importable)."""
    return bool(_cpu_kernels())


def status():
    """One line for logs and benchmark headers: what runs the fused paths on the CPU and on the GPU."""
    if not switch.on:
        return "off (xp reference formulas on CPU and GPU; MINIGRAD_FUSED=0 or set_enabled(False))"
    gpu = ("cuda: CuPy RawKernels (multi-tensor optimizer updates, ReLU, softmax-CE, BCE-with-logits; "
           "--fmad=false)" if backend.cupy_available() else "cuda: no GPU visible")
    if not available():
        return f"unavailable ({_state['error']}); NumPy reference formulas on the CPU; {gpu}"
    import numba

    return f"numba {numba.__version__} (fused optimizer updates, one thread); {gpu}"


def load(names=None, dtypes=("float32",)):
    """Compile (or load from the disk cache) kernels ahead of their first use, e.g. in a notebook's first cell,
    so the first optimizer step does not pause for it. Returns the names loaded ([] without Numba)."""
    table = _cpu_kernels() if switch.on else None
    if not table:
        return []
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
            _state["cpu"] = _build()
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


def _gpu(*arrays):
    """The CuPy module when every array is a CuPy array (read from backend at call time: tests swap in a
    double), else None."""
    cp = backend._cupy
    if cp is None or type(arrays[0]) is numpy.ndarray or not all(isinstance(a, cp.ndarray) for a in arrays):
        return None  # (a NumPy first array settles it at once: the CPU case, every step)
    return cp


def _gpu_plain(cp, a, dtypes=(numpy.float32, numpy.float64)):
    return type(a) is cp.ndarray and a.dtype in dtypes and a.flags.c_contiguous


def _gpu_flat(cp, arrays):
    """True when CuPy arrays share a float dtype, shape, strides and one contiguous layout: element i of one is
    element i of the others in memory, so the kernels can walk them as 1-D."""
    first = arrays[0]
    if first.dtype not in (numpy.float32, numpy.float64) or not (first.flags.c_contiguous or first.flags.f_contiguous):
        return False
    return all(type(a) is cp.ndarray and a.dtype == first.dtype and a.shape == first.shape
               and a.strides == first.strides for a in arrays)


def weight_grad(gy2, x2):
    """gy2^T @ x2, (out, in), for gy2: (N, out) and x2: (N, in)."""
    if gy2.shape[0] != 1 or gy2.shape[1] * x2.shape[1] < 4096:
        return gy2.T @ x2
    # one row: an outer product, which BLAS's GEMM computes ~4x slower here (under ~4k entries, faster)
    gW = gy2.T * x2
    gW += 0  # -0 -> +0, as the GEMM's sum (started at 0) gives: the same bits either way
    return gW


def relu(x):
    """(maximum(x, 0), keep-mask) in one pass, or None when no kernel can run (the caller uses the xp code)."""
    cp = _gpu(x)
    if cp is not None:
        return _cuda().relu(cp, x) if _gpu_plain(cp, x) else None
    if not (_plain(x) and _cpu_kernels()):
        return None
    y, keep = numpy.empty_like(x), numpy.empty(x.shape, dtype=bool)
    _state["cpu"]["relu"](x.reshape(-1), y.reshape(-1), keep.reshape(-1))
    return y, keep


def relu_backward(gy, keep):
    """gy * keep + 0.0 in one pass, or None when no kernel can run."""
    cp = _gpu(gy, keep)
    if cp is not None:
        ok = _gpu_plain(cp, gy) and _gpu_plain(cp, keep, (numpy.bool_,)) and keep.shape == gy.shape
        return _cuda().relu_backward(cp, gy, keep) if ok else None
    if not (_plain(gy) and keep.shape == gy.shape and keep.flags.c_contiguous and _cpu_kernels()):
        return None
    gx, cast = numpy.empty_like(gy), gy.dtype.type
    _state["cpu"]["relu_backward"](gy.reshape(-1), keep.reshape(-1), gx.reshape(-1), cast(1), cast(0))
    return gx


def bias_relu(xw, b):
    """(relu(xw + b), keep) in one pass for CuPy xw (N, C) and b (C,); None otherwise (no CPU twin: NumPy's
    in-place add is already one pass)."""
    cp = _gpu(xw, b)
    if cp is None or not (_gpu_plain(cp, xw) and _gpu_plain(cp, b) and b.dtype == xw.dtype and xw.ndim == 2
                          and b.shape == xw.shape[1:] and b.size > 0):
        return None
    return _cuda().bias_relu(cp, xw, b)


def _class_targets(cp, z, t):
    return (_gpu_plain(cp, z) and z.ndim == 2 and z.shape[0] > 0 and z.shape[1] > 0
            and _gpu_plain(cp, t, (numpy.int64,)) and t.shape == z.shape[:1])


def softmax_cross_entropy(z, t, ignore_index=-100):
    """CuPy z (N, C), t (N,) int64 -> (loss per row, softmax p, valid per row as z's dtype, bad: 0-d int32,
    1 when a target is outside [0, C) and not ignore_index); None when no kernel can run."""
    cp = _gpu(z, t)
    if cp is None or not _class_targets(cp, z, t):
        return None
    return _cuda().softmax_cross_entropy(cp, z, t, int(ignore_index))


def softmax_cross_entropy_backward(p, t, g, ignore_index=-100):
    """(p - onehot(t)) * g, 0 on ignored rows; g: 0-d/size-1 or (N,) in p's dtype. None when no kernel can run."""
    cp = _gpu(p, t, g)
    if cp is None or not (_class_targets(cp, p, t) and _gpu_plain(cp, g) and g.dtype == p.dtype
                          and g.size in (1, p.shape[0])):
        return None
    return _cuda().softmax_cross_entropy_backward(cp, p, t, g, int(ignore_index))


def bce_with_logits(z, y):
    """Per-element (1 - y) z - log_sigmoid(z) for CuPy z, y of one shape and dtype; None otherwise."""
    cp = _gpu(z, y)
    if cp is None or not (_gpu_plain(cp, z) and _gpu_plain(cp, y) and y.dtype == z.dtype and y.shape == z.shape):
        return None
    return _cuda().bce_with_logits(cp, z, y)


def bce_with_logits_backward(z, y, g):
    """(sigmoid(z) - y) * g for CuPy arrays; g: size 1 or z's shape. None otherwise."""
    cp = _gpu(z, y, g)
    if cp is None or not (_gpu_plain(cp, z) and _gpu_plain(cp, y) and _gpu_plain(cp, g) and y.shape == z.shape
                          and y.dtype == z.dtype == g.dtype and (g.size == 1 or g.shape == z.shape)):
        return None
    return _cuda().bce_with_logits_backward(cp, z, y, g)


def _cuda():
    from . import cuda  # text and NumPy only: imports anywhere; compiling needs a GPU (or NVRTC in the test)

    return cuda


@contextmanager
def batch():
    """Optimizer.step runs inside this: CuPy updates that run() accepts are queued and launched together on
    exit, one launch per kernel, dtype and constants (usually one per step). NumPy updates run at once."""
    if _state["batch"] is not None:  # nested: the outer one launches
        yield
        return
    pending = _state["batch"] = {}
    try:
        yield
    finally:
        _state["batch"] = None
        _launch(pending)


def _launch(pending):
    for (name, cp_id, _, consts), groups in pending.items():
        _cuda().optimizer_step(groups[0][1], name, [g for g, _ in groups], consts)


def run(name, arrays, *consts):
    """Run kernel `name` in place on `arrays` with scalar `consts`; False (nothing done) if it cannot. Inside
    batch(), a CuPy update may be queued: it has run when batch() exits."""
    cp = _gpu(*arrays)
    if cp is not None:
        if not _gpu_flat(cp, arrays):
            return False
        groups = [(tuple(arrays), cp)]
        pending = _state["batch"]
        if pending is None:
            _launch({(name, id(cp), arrays[0].dtype.name, consts): groups})
            return True
        if any(arrays[0] is a[0] for queued in pending.values() for a, _ in queued):
            _launch(dict(pending))  # the same parameter twice in one step: its first update must land first
            pending.clear()
        pending.setdefault((name, id(cp), arrays[0].dtype.name, consts), []).extend(groups)
        return True
    flat = _flat(arrays)
    if flat is None or not _cpu_kernels():
        return False
    cast = flat[0].dtype.type  # constants in the arrays' dtype, as NumPy applies a Python float
    consts = [c if isinstance(c, bool) else cast(c) for c in consts]
    table = _state["cpu"]
    kernel = table.get(name + "_f32", table[name]) if cast is numpy.float32 else table[name]  # cpu.FLOAT32
    kernel(*flat, *consts)
    return True


# ---- the CPU loops' registry: names, argument kinds, compilation ------------------------------------------------
# each kernel's arguments: a = array, m = bool array, f = scalar in the arrays' dtype, b = bool (for load())
ARGS = {"adam": "aaaafbfffff", "adam_f32": "aaaafbfffff", "sgd": "aaf", "sgd_momentum": "aaaffbbf",
        "rmsprop": "aaaaafffbffbbff", "adagrad": "aaafff", "adadelta": "aaaaffff", "relu": "aam",
        "relu_backward": "amaff"}
KERNELS = tuple(ARGS)
LOOPS = {name: getattr(subnormal if name == "adam_f32" else cpu, name + "_loop") for name in KERNELS}
FLOAT32 = {"adam": "adam_f32"}  # float32-only twins, named name + "_f32": run() picks them for float32


numba = None  # the module, imported by _build() (only once a kernel is wanted: it takes ~0.5 s)


def _build():
    """{name: compiled kernel}; each compiles on its first call, and the machine code is cached on disk."""
    global numba
    if numba is None:
        import numba as real

        numba = real
    subnormal.prepare()
    try:
        return {name: numba.njit(cache=True, error_model="numpy", nogil=True)(LOOPS[name]) for name in KERNELS}
    except RuntimeError:  # no writable cache directory (read-only install, no home): compile in memory each run
        return {name: numba.njit(error_model="numpy", nogil=True)(LOOPS[name]) for name in KERNELS}
