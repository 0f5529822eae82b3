"""A test-only stand-in for the little of CuPy the kernel dispatch touches, and NumPy emulations of the CUDA
kernels' effects (by argument position, as the C signatures in minigrad/kernels/cuda.py lay them out).

FakeCupy.RawKernel parses each kernel's C signature and checks every argument against it (a float where the
kernel reads a double would corrupt silently on a GPU), records the launch, then carries it out: optimizer
launches slot by slot with the Numba twins (kernels/__init__.py, proven equal to the xp formulas), the layer and loss
kernels with the NumPy lines of their xp formulas; or, with source=True, every launch runs the kernel's CUDA
source itself, compiled for the CPU (tests/cuda_on_cpu.py). Works on FakeArray and on the CuPy double's arrays
(both keep their NumPy array in `_a`).
"""
import re

import cuda_on_cpu
import numpy as np

from minigrad import kernels
from minigrad.kernels import cuda

_C_TYPES = {"float": np.float32, "double": np.float64, "bool": np.bool_, "long long": np.int64, "int": np.int32}


class _Flags:
    def __init__(self, a):
        self.c_contiguous, self.f_contiguous = a.flags.c_contiguous, a.flags.f_contiguous


class FakeArray:
    """Device-array look-alike over a NumPy array (never converted implicitly)."""

    def __init__(self, a):
        self._a = a
        self.dtype, self.shape, self.size, self.ndim, self.strides = a.dtype, a.shape, a.size, a.ndim, a.strides
        self.flags = _Flags(a)

    def __getitem__(self, index):
        return FakeArray(self._a[index])

    @property
    def T(self):
        return FakeArray(self._a.T)

    def __array__(self, *args, **kwargs):
        raise TypeError("implicit conversion of a device array")


class FakeCupy:
    """source=True: launches run the kernel's CUDA source compiled for the CPU (tests/cuda_on_cpu.py)."""

    def __init__(self, source=False):
        self.ndarray, self.launches = FakeArray, []
        outer = self

        class RawKernel:
            def __init__(self, code, name, options=()):
                self.code, self.name, self.options = code, name, options
                typedef = re.search(r"typedef (\w+) T;", code).group(1)
                sig = re.search(rf'extern "C" __global__ void {name}\((.*?)\)\s*{{', code, re.S).group(1)
                self.params = []
                for p in (s.strip() for s in sig.split(",")):
                    ctype = re.sub(r"^const\s+|\s*\*.*$|\s+\w+$", "", p.replace("* const", "*"))
                    ctype = typedef if ctype == "T" else ctype
                    self.params.append((_C_TYPES[ctype], "*" in p))

            def __call__(self, grid, block, args):
                assert len(args) == len(self.params), (self.name, len(args), len(self.params))
                for i, (a, (dt, ptr)) in enumerate(zip(args, self.params)):
                    if ptr:  # CuPy passes an array's data pointer: it must hold what the kernel reads
                        assert hasattr(a, "_a") and a.dtype == dt, (self.name, i, type(a), dt)  # or the double's
                    else:  # a scalar goes by value in exactly its NumPy type
                        assert type(a) is dt, (self.name, i, type(a), dt)
                assert "--fmad=false" in self.options
                outer.launches.append((self.name, grid, block, args))
                if source:
                    cuda_on_cpu.launch(self.code, self.name, grid, block, args)
                else:
                    emulate(self.name, args)

        self.RawKernel = RawKernel

    def empty(self, shape, dtype):
        return FakeArray(np.full(shape, 7, dtype))  # garbage, as cupy.empty

    def zeros(self, shape, dtype):
        return FakeArray(np.zeros(shape, dtype))

    def empty_like(self, a):
        return self.empty(a.shape, a.dtype)


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
