"""RawKernel launches on the double, for the tests of the CUDA kernels' dispatch (off by default: a launch then
raises, as on a machine without a GPU). Switched on by `launching(mode)` (conftest's install_cupy_double(...,
launch=mode)):
- every launch's arguments are checked against the kernel's C signature (a float where the kernel reads a double
  would corrupt silently on a GPU; a scalar must come in exactly its NumPy type), and recorded in LAUNCHES;
- mode "emulate": the launch is carried out, optimizer launches slot by slot with the Numba loops (proven equal
  to the xp formulas by tests/test_kernels.py), the layer and loss kernels by the NumPy lines of their formulas;
- mode "source": the kernel's CUDA source itself runs, compiled for the CPU (cuda_on_cpu.py).
"""
import re
from contextlib import contextmanager

import numpy as np

from minigrad import kernels
from minigrad.kernels import cuda

from . import cuda_on_cpu

_C_TYPES = {"float": np.float32, "double": np.float64, "bool": np.bool_, "long long": np.int64, "int": np.int32}
LAUNCHES = []  # (kernel name, grid, block, args) of each launch since launching() began
MODE = {"mode": None}
# CUDA graph capture on the double (minigrad.cuda.graph): refused unless allowed; then the calls are logged, and
# the allocator that using_allocator() set is kept here
GRAPH = {"allowed": False, "log": [], "allocator": None}


@contextmanager
def launching(mode):
    """RawKernels launch ("emulate" or "source") inside; LAUNCHES starts empty."""
    assert mode in ("emulate", "source")
    before = MODE["mode"]
    MODE["mode"] = mode
    LAUNCHES.clear()
    try:
        yield LAUNCHES
    finally:
        MODE["mode"] = before
        LAUNCHES.clear()


def signature(code, name):
    """[(NumPy type, is a pointer)] for each parameter of kernel `name` in CUDA source `code`."""
    typedef = re.search(r"typedef (\w+) T;", code).group(1)
    sig = re.search(rf'extern "C" __global__ void {name}\((.*?)\)\s*{{', code, re.S).group(1)
    params = []
    for p in (s.strip() for s in sig.split(",")):
        ctype = re.sub(r"^const\s+|\s*\*.*$|\s+\w+$", "", p.replace("* const", "*"))
        ctype = typedef if ctype == "T" else ctype
        params.append((_C_TYPES[ctype], "*" in p))
    return params


def launch(kernel, grid, block, args):
    """Check a launch of the double's RawKernel `kernel` (code, name, options) against its signature, record it,
    carry it out."""
    params = signature(kernel.code, kernel.name)
    assert len(args) == len(params), (kernel.name, len(args), len(params))
    for i, (a, (dt, ptr)) in enumerate(zip(args, params)):
        if ptr:  # CuPy passes an array's data pointer: it must hold what the kernel reads
            assert hasattr(a, "_a") and a.dtype == dt, (kernel.name, i, type(a), dt)
        else:  # a scalar goes by value in exactly its NumPy type
            assert type(a) is dt, (kernel.name, i, type(a), dt)
    assert "--fmad=false" in kernel.options
    LAUNCHES.append((kernel.name, grid, block, args))
    if MODE["mode"] == "source":
        cuda_on_cpu.launch(kernel.code, kernel.name, grid, block, args)
    else:
        emulate(kernel.name, args)


def emulate(fn, args):
    """Carry out a launch: optimizers slot by slot with the CPU twin (kernels/__init__.py), the others in NumPy."""
    name = fn.rsplit("_", 1)[0]
    if name not in cuda.OPTIMIZERS:
        return LAYERS[name](*[a._a if hasattr(a, "_a") else a for a in args])
    n_arrays = len(cuda.OPTIMIZERS[name][0])
    ptrs, sizes = args[:n_arrays * cuda.SLOTS], args[n_arrays * cuda.SLOTS:(n_arrays + 1) * cuda.SLOTS]
    consts = args[(n_arrays + 1) * cuda.SLOTS:]
    twin = kernels._cpu_kernels()[name]
    for k, n in enumerate(sizes):
        if n:
            arrays = [a._a.ravel(order="K") for a in ptrs[k * n_arrays:(k + 1) * n_arrays]]
            assert all(a.size == n and np.shares_memory(a, b._a) for a, b in zip(arrays, ptrs[k * n_arrays:]))
            twin(*arrays, *consts)


def _relu(x, y, keep, n):
    keep[...] = ~(np.maximum(x, 0) <= 0)
    y[...] = np.maximum(x, 0)


def _relu_backward(gy, keep, gx, n):
    gx[...] = gy * keep + 0.0


def _bias_relu(xw, b, y, keep, n, C):
    _relu(xw + b, y, keep, n)


def _softmax_cross_entropy(z, t, p, loss, valid, bad, N, C, ignore_index):
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    ok = t != ignore_index
    inside = (t >= 0) & (t < C)
    rows = np.arange(N)
    ts = np.where(ok & inside, t, 0)
    loss[...] = np.where(ok, np.where(inside, -(shifted[rows, ts] - np.log(s[:, 0])), np.nan), 0)
    valid[...] = ok
    bad[...] = bool((ok & ~inside).any())
    p[...] = e / s


def _softmax_cross_entropy_backward(p, t, g, gz, n, C, gs, ignore_index):
    g = g.reshape(-1, 1) if gs else g.reshape(())
    gz[...] = np.where(np.arange(C)[None, :] == t[:, None], p - 1, p) * g
    gz[t == ignore_index] = 0


def _bce_with_logits(z, y, loss, n):
    loss[...] = (1 - y) * z - (np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z))))


def _bce_with_logits_backward(z, y, g, gz, n, gs):
    e = np.exp(-np.abs(z))
    gz[...] = (np.where(z >= 0, 1 / (1 + e), e / (1 + e)) - y) * g


LAYERS = {"relu": _relu, "relu_backward": _relu_backward, "bias_relu": _bias_relu,
          "softmax_cross_entropy": _softmax_cross_entropy,
          "softmax_cross_entropy_backward": _softmax_cross_entropy_backward,
          "bce_with_logits": _bce_with_logits, "bce_with_logits_backward": _bce_with_logits_backward}
assert set(LAYERS) == set(cuda.LAYERS)
