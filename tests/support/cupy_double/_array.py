"""The double's ndarray: a wrapper around a NumPy array that allows only what cupy.ndarray allows.

NumPy does the arithmetic underneath, so results equal the NumPy backend's bit for bit. The rules copied from
CuPy (cupy/_core/core.pyx, cupy/_core/_kernel.pyx):
- no implicit conversion to NumPy: __array__ raises TypeError; NumPy ufuncs/functions dispatch to the double's
  own functions (__array_ufunc__/__array_function__), which refuse NumPy arrays as operands;
- an operand of an op must be a device array or a Python/NumPy scalar ("Unsupported type" TypeError otherwise);
- reductions and integer indexing give 0-d device arrays, never NumPy scalars;
- only the attribute names cupy.ndarray has (manifest.json); flags has CuPy's five names only;
- every device->host read (get, item, tolist, float(), bool(), printing, ...) and host->device write is counted.
"""
import numpy

from ._state import MANIFEST, count

_NAMES = frozenset(MANIFEST["ndarray"])
_SCALARS = (bool, int, float, complex, numpy.generic)
# results whose size depends on the values: CuPy reads a count back to the host (a sync), counted as d2h
SIZE_FROM_VALUES = frozenset({"nonzero", "argwhere", "flatnonzero", "unique", "extract", "compress"})


def needs_gpu(what):
    return RuntimeError(f"{what} needs a real GPU (this is the CuPy double: NumPy underneath, no kernels)")


def wrap(x):
    """NumPy results -> device arrays (scalars become 0-d arrays, as CuPy returns them)."""
    if isinstance(x, numpy.ndarray):
        return ndarray._from(x)
    if isinstance(x, numpy.generic):
        return ndarray._from(numpy.asarray(x))
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    if isinstance(x, list):
        return [wrap(v) for v in x]
    return x


def operand(x):
    """An op's operand as CuPy's kernels take it: device array or scalar, else TypeError."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _SCALARS):
        return x
    raise TypeError(f"Unsupported type {type(x)}")


def unwrap(x, host_ok=False):
    """Arguments of a function or index: device arrays unwrapped, nested in lists/tuples too.

    NumPy arrays are refused (TypeError), except where CuPy copies them over (host_ok: indices, creation)."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, numpy.ndarray):
        if not host_ok:
            raise TypeError(f"Unsupported type {type(x)}")
        count("h2d")
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(unwrap(v, host_ok) for v in x)
    return x


def _index_parts(key):
    """An index's parts: device arrays stay on the device; NumPy arrays and lists are copied over, as CuPy does."""
    if isinstance(key, list):
        count("h2d")
        return numpy.asarray(unwrap(key, host_ok=True))
    return unwrap(key, host_ok=True)


def _index(key, shape):
    """The NumPy index for key on an array of `shape`. Integer-array indices wrap around (i mod n) instead of
    raising: CuPy does not bounds-check them on the device ("Differences between CuPy and NumPy")."""
    parts = [_index_parts(k) for k in (key if isinstance(key, tuple) else (key,))]
    used = sum(p.ndim if isinstance(p, numpy.ndarray) and p.dtype == bool else 0 if p is None or p is Ellipsis
               else 1 for p in parts)
    axis, out = 0, []
    for p in parts:
        if p is Ellipsis:
            axis += len(shape) - used
        elif isinstance(p, numpy.ndarray) and p.dtype.kind in "iu" and axis < len(shape) and shape[axis] > 0:
            p = p % shape[axis]
            axis += 1
        elif isinstance(p, numpy.ndarray) and p.dtype == bool:
            axis += p.ndim
        elif p is not None:
            axis += 1
        out.append(p)
    return tuple(out) if isinstance(key, tuple) else out[0]


class Flags:
    """cupy._core.flags.Flags: c_contiguous, f_contiguous, owndata (+ fnc, forc), read-only."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, c, f, own):
        object.__setattr__(self, "c_contiguous", c)
        object.__setattr__(self, "f_contiguous", f)
        object.__setattr__(self, "owndata", own)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'cupy._core.flags.Flags' objects is not writable")

    @property
    def fnc(self):
        return self.f_contiguous and not self.c_contiguous

    @property
    def forc(self):
        return self.f_contiguous or self.c_contiguous

    def __getitem__(self, name):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[name]

    def __repr__(self):
        return "\n".join(f"  {k.upper()} : {getattr(self, k)}" for k in self.__slots__)


class _MemoryPointer:
    """cupy.cuda.MemoryPointer stand-in: only the address, for identity/aliasing checks."""

    def __init__(self, a):
        self.ptr = a.__array_interface__["data"][0]
        self.device_id = 0


def quiet():
    """CuPy's kernels never warn about inf/nan: neither does the double."""
    return numpy.errstate(all="ignore")


def _binary(name):
    def op(self, other):
        if isinstance(other, numpy.ndarray) or isinstance(other, (ndarray,) + _SCALARS):
            with quiet():
                return wrap(getattr(self._a, name)(operand(other)))
        if getattr(type(other), "__array_ufunc__", 0) is None or \
                getattr(other, "__array_priority__", 0) > ndarray.__array_priority__:
            return NotImplemented  # defer to the other operand (e.g. a Tensor), as CuPy's _should_use_rop
        raise TypeError(f"Unsupported type {type(other)}")
    op.__name__ = name
    return op


def _inplace(name):
    def op(self, other):
        with quiet():
            getattr(self._a, name)(operand(other))
        return self
    op.__name__ = name
    return op


def _unary(name):
    def op(self):
        with quiet():
            return wrap(getattr(self._a, name)())
    op.__name__ = name
    return op


def _to_host_scalar(name):
    def op(self):
        count("d2h")
        return getattr(self._a, name)()
    op.__name__ = name
    return op


class ndarray:
    """cupy.ndarray look-alike; NumPy array in `_a`."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise needs_gpu("ndarray(memptr=..., strides=...)")
        self._a = numpy.empty(shape, dtype=dtype, order=order)

    @classmethod
    def _from(cls, a):
        self = object.__new__(cls)
        self._a = a
        return self

    # -- attributes CuPy computes itself ----------------------------------------------------------
    @property
    def flags(self):
        return Flags(bool(self._a.flags.c_contiguous), bool(self._a.flags.f_contiguous), self.base is None)

    @property
    def base(self):
        b = self._a.base
        return ndarray._from(b) if isinstance(b, numpy.ndarray) else None

    @property
    def data(self):
        return _MemoryPointer(self._a)

    @property
    def device(self):
        from ._module import cuda

        return cuda.Device(0)

    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def T(self):
        return self if self._a.ndim < 2 else ndarray._from(self._a.T)

    @property
    def mT(self):
        return ndarray._from(self._a.mT)

    @property
    def real(self):
        return ndarray._from(self._a.real)

    @property
    def imag(self):
        return ndarray._from(self._a.imag)

    @property
    def flat(self):
        raise needs_gpu("ndarray.flat")

    @property
    def cstruct(self):
        raise needs_gpu("ndarray.cstruct")

    # -- NumPy interop: refused as CuPy refuses it -----------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from . import _module

        for x in inputs + tuple(kwargs.get("out", ()) or ()):
            if not isinstance(x, (ndarray, numpy.ndarray) + _SCALARS):
                return NotImplemented
        mine = getattr(_module.cupy, ufunc.__name__, None)
        if mine is None:
            return NotImplemented
        return getattr(mine, method)(*inputs, **kwargs) if method != "__call__" else mine(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from . import _module

        mine = getattr(_module.cupy, func.__name__, None) if func.__module__ == "numpy" else None
        if mine is None or not all(issubclass(t, (ndarray, numpy.ndarray)) for t in types):
            return NotImplemented
        return mine(*args, **kwargs)

    # -- device -> host: explicit, counted -------------------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        count("d2h")
        host = numpy.array(self._a, order=order, copy=True)
        if out is not None:
            out[...] = host
            return out
        return host

    def set(self, arr, stream=None):
        if not isinstance(arr, numpy.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        count("h2d")
        self._a[...] = arr

    def item(self):
        if self._a.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        count("d2h")
        return self._a.item()

    def tolist(self):
        count("d2h")
        return self._a.tolist()

    def tobytes(self, order="C"):
        count("d2h")
        return self._a.tobytes(order)

    def __repr__(self):
        count("d2h")
        return repr(self._a)

    def __str__(self):
        count("d2h")
        return str(self._a)

    def __format__(self, spec):
        count("d2h")
        return format(self._a, spec)

    __bool__ = _to_host_scalar("__bool__")
    __float__ = _to_host_scalar("__float__")
    __int__ = _to_host_scalar("__int__")
    __complex__ = _to_host_scalar("__complex__")

    def __reduce__(self):  # pickling goes through the host, as CuPy's
        count("d2h")
        return (ndarray._from, (self._a.copy(),))

    # -- on the device ---------------------------------------------------------------------------
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __getitem__(self, key):
        idx = _index(key, self._a.shape)
        if any(isinstance(p, numpy.ndarray) and p.dtype == bool for p in (idx if isinstance(idx, tuple) else (idx,))):
            count("d2h")  # a boolean mask's result size is read back to the host: a sync, as CuPy's nonzero()
        return wrap(self._a[idx])

    def __setitem__(self, key, value):
        if isinstance(value, list):
            count("h2d")
        self._a[_index(key, self._a.shape)] = unwrap(value, host_ok=True)

    def __copy__(self):
        return ndarray._from(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._from(self._a.copy())

    def copy(self, order="C"):
        return ndarray._from(self._a.copy(order=order))

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        return ndarray._from(self._a.astype(dtype, order=order, copy=copy))

    def scatter_add(self, slices, value):
        numpy.add.at(self._a, _index(slices, self._a.shape), operand(value))

    def scatter_max(self, slices, value):
        numpy.maximum.at(self._a, _index(slices, self._a.shape), operand(value))

    def scatter_min(self, slices, value):
        numpy.minimum.at(self._a, _index(slices, self._a.shape), operand(value))

    def reduced_view(self, dtype=None):
        return self

    def __getattr__(self, name):
        """Any other cupy.ndarray method: NumPy's, with device arguments and device results."""
        if name not in _NAMES or not hasattr(numpy.ndarray, name):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        attr = getattr(self._a, name)
        if not callable(attr):
            return attr
        if name in SIZE_FROM_VALUES:
            count("d2h")

        def method(*args, **kwargs):
            args = unwrap(args)
            kwargs = {k: unwrap(v) for k, v in kwargs.items()}
            with quiet():
                return wrap(attr(*args, **kwargs))
        return method

    def __dir__(self):
        return sorted(_NAMES)


for _n in ("add sub mul truediv floordiv mod pow matmul and or xor lshift rshift divmod "
           "eq ne lt le gt ge").split():
    for _name in (f"__{_n}__", f"__r{_n}__", f"__i{_n}__"):
        if _name in _NAMES and hasattr(numpy.ndarray, _name):
            setattr(ndarray, _name, (_inplace if _name.startswith("__i") and _n not in ("eq",) else _binary)(_name))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(ndarray, _name, _unary(_name))
if MANIFEST["ndarray_hash_is_none"]:
    ndarray.__hash__ = None
for _name in ("dtype", "ndim", "size", "itemsize", "nbytes", "strides"):
    setattr(ndarray, _name, property(lambda self, _name=_name: getattr(self._a, _name)))
