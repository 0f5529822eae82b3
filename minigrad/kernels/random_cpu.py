"""The loops under torch's CPU random transforms (minigrad/random.py): the C math library's own functions over
arrays (glibc's logf, cosf, log1p, fma, ...; NumPy's SIMD log and log1p differ from glibc's in the last bit), and
randperm's Fisher-Yates swaps, which run in order.

Reference twins: ctypes calls / a Python loop, element by element (exact, slow). Fast twins: Numba, whose math.log
on a float32 calls the same logf of the same libm (tests/test_random.py proves them equal). minigrad.kernels'
switch (MINIGRAD_FUSED=0) picks the reference.
"""
import ctypes
import ctypes.util
import math

import numpy

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_C = {numpy.dtype(numpy.float32): ctypes.c_float, numpy.dtype(numpy.float64): ctypes.c_double}
_SUFFIX = {numpy.dtype(numpy.float32): "f", numpy.dtype(numpy.float64): ""}
_state = {"numba": None}


def _c_function(name, dtype, nargs):
    f = getattr(_libm, name + _SUFFIX[dtype])
    f.restype, f.argtypes = _C[dtype], [_C[dtype]] * nargs
    return f


def _reference(name, *arrays):
    """name(x...) element by element through ctypes: libm's exact results."""
    dtype = arrays[0].dtype
    f = numpy.frompyfunc(_c_function(name, dtype, len(arrays)), len(arrays), 1)
    return numpy.asarray(f(*arrays), dtype=dtype).reshape(arrays[0].shape)


def _build():
    import numba

    sigs = ["float32(float32)", "float64(float64)"]

    @numba.vectorize(sigs)
    def log(x):
        return math.log(x)

    @numba.vectorize(sigs)
    def log1p(x):
        return math.log1p(x)

    @numba.vectorize(sigs)
    def cos(x):
        return math.cos(x)

    @numba.vectorize(sigs)
    def sin(x):
        return math.sin(x)

    @numba.vectorize(sigs)
    def tan(x):
        return math.tan(x)

    @numba.vectorize(sigs)
    def exp(x):
        return math.exp(x)

    fmaf, fma = _c_function("fma", numpy.dtype(numpy.float32), 3), _c_function("fma", numpy.dtype(numpy.float64), 3)

    @numba.vectorize(["float32(float32, float32, float32)"])
    def fma32(a, b, c):
        return fmaf(a, b, c)

    @numba.vectorize(["float64(float64, float64, float64)"])
    def fma64(a, b, c):
        return fma(a, b, c)

    @numba.njit
    def fisher_yates(z):
        r = numpy.arange(z.size + 1)
        for i in range(z.size):
            j = i + z[i]
            r[i], r[j] = r[j], r[i]
        return r

    return {"fisher_yates": fisher_yates, "log": log, "log1p": log1p, "cos": cos, "sin": sin, "tan": tan, "exp": exp,
            "fma": {numpy.dtype(numpy.float32): fma32, numpy.dtype(numpy.float64): fma64}}


def _fast():
    from . import is_enabled

    if not is_enabled():
        return None
    if _state["numba"] is None:
        try:
            _state["numba"] = _build()
        except Exception:  # no Numba: the ctypes loop gives the same bits, slower
            _state["numba"] = False
    return _state["numba"]


def fisher_yates(z):
    """r = arange(len(z) + 1); for each i in order, swap r[i] and r[i + z[i]] (int64 arrays)."""
    table = _fast()
    if table:
        return table["fisher_yates"](z)
    r = list(range(len(z) + 1))
    for i, step in enumerate(z.tolist()):
        r[i], r[i + step] = r[i + step], r[i]
    return numpy.array(r, dtype=numpy.int64)


def call(name, *arrays):
    """libm's `name` (log, log1p, cos, sin, tan, exp, fma) of float32/float64 arrays, in their dtype."""
    arrays = [numpy.ascontiguousarray(a) for a in arrays]
    table = _fast()
    if not table or arrays[0].size == 0:
        return _reference(name, *arrays)
    f = table[name]
    return f[arrays[0].dtype](*arrays) if name == "fma" else f(*arrays)
