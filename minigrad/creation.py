"""Tensor factories: tensor, zeros, ones, arange, linspace, rand, randn, ... (torch's signatures)."""
import math

import numpy

from . import dtypes, random
from .backend import backend_name, get_xp
from .tensor import Tensor, size_args


def _finish(array, requires_grad):
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def tensor(data, dtype=None, device=None, requires_grad=False):
    """New tensor copied from data; floats default to float32, ints to int64 (as torch.tensor)."""
    t = Tensor.__new__(Tensor)
    t._build(data, dtype, requires_grad, device)
    return t


def as_tensor(data, dtype=None, device=None):
    """Tensor from data without a copy where it can: a Tensor of the same dtype and device comes back as is."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, Tensor):
        return data.to(*(a for a in (device, dtype) if a is not None))
    return tensor(data, dtype=dtype, device=device)


def _legacy(dtype, name):
    def make(*data):
        """torch's legacy constructor: FloatTensor([1, 2]) or FloatTensor(2, 3) (zeros here)."""
        if data and all(isinstance(n, int) for n in data):
            return zeros(*data, dtype=dtype)
        return tensor(data[0] if data else [], dtype=dtype)

    make.__name__ = name
    return make


FloatTensor = _legacy(dtypes.float32, "FloatTensor")
DoubleTensor = _legacy(dtypes.float64, "DoubleTensor")
LongTensor = _legacy(dtypes.int64, "LongTensor")
IntTensor = _legacy(dtypes.int32, "IntTensor")
BoolTensor = _legacy(dtypes.bool, "BoolTensor")


def from_numpy(a):
    """Tensor sharing memory with a NumPy array (as torch.from_numpy)."""
    if not isinstance(a, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    return Tensor._wrap(a)


def _size(dims, size):
    """zeros(2, 3), zeros((2, 3)) and zeros(size=(2, 3)) alike, as torch."""
    return size_args(dims if size is None else (size,))


def zeros(*dims, size=None, dtype=None, device=None, requires_grad=False):
    """Tensor of 0s, shape dims (zeros(2, 3), zeros((2, 3)) or size=); the default float dtype unless dtype=."""
    return _finish(get_xp(device).zeros(_size(dims, size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*dims, size=None, dtype=None, device=None, requires_grad=False):
    """Tensor of 1s, shape dims (as zeros)."""
    return _finish(get_xp(device).ones(_size(dims, size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*dims, size=None, dtype=None, device=None, requires_grad=False):
    """Uninitialised tensor, shape dims (as zeros); its values are whatever the memory held."""
    return _finish(get_xp(device).empty(_size(dims, size), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """Tensor of shape size filled with fill_value; dtype as torch picks it (float: default, bool, else int64)."""
    if dtype is None:
        dtype = dtypes.get_default_dtype() if isinstance(fill_value, float) else (
            dtypes.bool if isinstance(fill_value, bool) else dtypes.int64)
    shape = size_args((size,))
    return _finish(get_xp(device).full(shape, fill_value, dtype=dtypes.as_dtype(dtype)), requires_grad)


def _like(x, dtype, device):
    dev = device if device is not None else x.backend
    return get_xp(dev), (dtypes.as_dtype(dtype) if dtype is not None else x.dtype)


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    """Tensor of 0s with x's shape, and its dtype and device unless given."""
    xp, d = _like(x, dtype, device)
    return _finish(xp.zeros(x.shape, dtype=d), requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    """Tensor of 1s with x's shape, and its dtype and device unless given."""
    xp, d = _like(x, dtype, device)
    return _finish(xp.ones(x.shape, dtype=d), requires_grad)


def empty_like(x, dtype=None, device=None, requires_grad=False):
    """Uninitialised tensor with x's shape, and its dtype and device unless given."""
    xp, d = _like(x, dtype, device)
    return _finish(xp.empty(x.shape, dtype=d), requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    """Tensor of fill_value with x's shape, and its dtype and device unless given."""
    xp, d = _like(x, dtype, device)
    return _finish(xp.full(x.shape, fill_value, dtype=d), requires_grad)


def rand_like(x, *, generator=None, dtype=None, device=None, requires_grad=False):
    """U[0, 1) samples with x's shape, dtype and device (as rand)."""
    return rand(x.shape, dtype=dtype or x.dtype, device=device or x.backend, requires_grad=requires_grad,
                generator=generator)


def randn_like(x, *, generator=None, dtype=None, device=None, requires_grad=False):
    """N(0, 1) samples with x's shape, dtype and device (as randn)."""
    return randn(x.shape, dtype=dtype or x.dtype, device=device or x.backend, requires_grad=requires_grad,
                 generator=generator)


def randint_like(x, low=0, high=None, *, generator=None, dtype=None, device=None):
    """Integers in [low, high) with x's shape, dtype and device; randint_like(x, high) draws from [0, high)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, x.shape, generator=generator, dtype=dtype or x.dtype, device=device or x.backend)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """1-D tensor start, start + step, ... < end; int64 for integer arguments, else the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    d = dtypes.as_dtype(dtype)
    if d.kind != "f":
        return _finish(get_xp(device).arange(start, end, step, dtype=d), requires_grad)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    # start + i * step in float64, rounded once to the dtype (numpy accumulates in the dtype). torch's
    # vectorised kernel rounds some chunk bases first, so a few values may differ by one ulp.
    n = max(0, math.ceil((end - start) / step))
    a = (numpy.arange(n, dtype=numpy.float64) * step + start).astype(d)
    return _finish(get_xp(device).asarray(a), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """1-D tensor of steps values evenly spaced from start to end, both included."""
    # computed in float64 and rounded once; torch's vectorised kernel may differ by one ulp
    a = numpy.linspace(start, end, int(steps), dtype=numpy.float64).astype(_float_dtype(dtype))
    return _finish(get_xp(device).asarray(a), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """(n, m) tensor (m = n by default) with 1s on the diagonal, 0s elsewhere."""
    return _finish(get_xp(device).eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*dims, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """U[0, 1) samples: torch's numbers on the CPU (minigrad.manual_seed or generator=), CuPy's on the GPU."""
    d = _float_dtype(dtype)
    return _finish(random.uniform(_size(dims, size), 0.0, 1.0, d, backend_name(device), generator), requires_grad)


def randn(*dims, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """N(0, 1) samples, shape dims: torch's numbers on the CPU (manual_seed or generator=), CuPy's on the GPU."""
    d = _float_dtype(dtype)
    return _finish(random.normal(_size(dims, size), 0.0, 1.0, d, backend_name(device), generator), requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """N(mean, std) samples, as torch.normal: mean and/or std tensors (broadcast together; the result has no
    gradient), or numbers with size=."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        m = mean.array if isinstance(mean, Tensor) else mean
        s = std.array if isinstance(std, Tensor) else std
        shape = numpy.broadcast_shapes(numpy.shape(m), numpy.shape(s))
        if not isinstance(std, Tensor):  # torch: normal_(0, std), then add_(mean)
            z = random.normal(shape, 0.0, float(std), like.array.dtype, like.backend, generator)
            return Tensor._wrap((z + m).astype(like.array.dtype, copy=False))
        z = random.normal(shape, 0.0, 1.0, like.array.dtype, like.backend, generator)  # torch: normal_(0, 1) ...
        return Tensor._wrap((z * s + m).astype(like.array.dtype, copy=False))  # ... .mul_(std).add_(mean)
    if size is None:
        raise TypeError("normal(): with a number for mean and std, pass size=, as torch.normal(0.0, 1.0, size=(2, 3))")
    d = _float_dtype(dtype)
    return _finish(random.normal(size_args((size,)), float(mean), float(std), d, backend_name(device), generator),
                   requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None):
    """Integers in [low, high) of shape size (int64 unless dtype=); randint(high, size) draws from [0, high)."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size), as torch
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    return Tensor._wrap(random.integers(low, high, size_args((size,)), d, backend_name(device), generator))


def randperm(n, *, generator=None, dtype=None, device=None):
    """A random permutation of 0 .. n-1 (int64), torch's on the CPU."""
    p = random.permutation(int(n), backend_name(device), generator)
    return Tensor._wrap(p if dtype is None else p.astype(dtypes.as_dtype(dtype)))
