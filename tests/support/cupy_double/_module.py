"""The double's `cupy` module: built name by name from manifest.json, NumPy underneath.

A name CuPy lacks is absent (AttributeError); a CuPy function checks its arguments against CuPy's recorded
signature before NumPy runs it; ufuncs take only CuPy's keywords (out, casting, dtype) and refuse NumPy arrays.
"""
import inspect
import types
import warnings

import numpy

from ._array import SIZE_FROM_VALUES, ndarray, needs_gpu, operand, quiet, unwrap, wrap
from ._state import MANIFEST, count

# CuPy returns 0-d device arrays where NumPy returns a Python bool
_BOOL_TO_ARRAY = {"array_equal", "array_equiv", "allclose"}
# host data is copied to the device here (counted); every other function refuses NumPy arrays
_CREATION = {"array", "asarray", "asanyarray"}


def _signature(params):
    if params is None:
        return None
    kinds = inspect.Parameter
    return inspect.Signature([kinds(n, getattr(kinds, k), default=None if d else kinds.empty)
                              for n, k, d in params])


def _function(name, params):
    np_func = getattr(numpy, name)
    sig = _signature(params)

    def f(*args, **kwargs):
        if sig is not None:
            sig.bind(*args, **kwargs)  # TypeError where CuPy's signature refuses the call
        args, kwargs = unwrap(args), {k: unwrap(v) for k, v in kwargs.items()}
        if name in SIZE_FROM_VALUES:
            count("d2h")
        with quiet():
            out = np_func(*args, **kwargs)
        return wrap(numpy.asarray(out) if name in _BOOL_TO_ARRAY else out)
    f.__name__ = f.__qualname__ = name
    f.__module__ = "cupy"
    return f


class ufunc:
    """cupy.ufunc: positional operands (device arrays or scalars), out/casting/dtype keywords only."""

    def __init__(self, name, nin, nout, methods):
        self.__name__ = self.name = name
        self.nin, self.nout, self.nargs = nin, nout, nin + nout
        self._np = getattr(numpy, name)
        for m in methods:
            setattr(self, m, getattr(self, "_" + m))

    def __repr__(self):
        return f"<ufunc '{self.name}'>"

    def __call__(self, *args, out=None, casting="same_kind", dtype=None):
        if not self.nin <= len(args) <= self.nargs:
            raise TypeError(f"Wrong number of arguments for {self.name!r}")
        if len(args) > self.nin:
            out = args[self.nin:] if len(args) - self.nin > 1 else args[self.nin]
        ins = [operand(a) for a in args[:self.nin]]
        outs = out if isinstance(out, tuple) else (out,) if out is not None else None
        if outs is not None:
            for o in outs:
                if not isinstance(o, ndarray):
                    raise TypeError(f"Output arguments must be cupy.ndarray, not {type(o)}")
            with quiet():
                self._np(*ins, out=tuple(o._a for o in outs), casting=casting, dtype=dtype)
            return outs[0] if len(outs) == 1 else outs
        with quiet():
            return wrap(self._np(*ins, casting=casting, dtype=dtype))

    def _at(self, a, indices, b=None):
        if not isinstance(a, ndarray):
            raise TypeError(f"Unsupported type {type(a)}")
        idx = unwrap(indices, host_ok=True)
        self._np.at(a._a, idx) if b is None else self._np.at(a._a, idx, operand(b))

    def _reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        o = None if out is None else out._a
        r = wrap(self._np.reduce(operand(array), axis=axis, dtype=dtype, out=o, keepdims=keepdims))
        return out if out is not None else r

    def _accumulate(self, array, axis=0, dtype=None, out=None):
        return wrap(self._np.accumulate(operand(array), axis=axis, dtype=dtype))

    def _outer(self, A, B, **kwargs):
        return wrap(self._np.outer(operand(A), operand(B), **kwargs))

    def _reduceat(self, array, indices, axis=0, dtype=None, out=None):
        return wrap(self._np.reduceat(operand(array), unwrap(indices), axis=axis, dtype=dtype))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """Device -> host copy (counted); a NumPy array passes through."""
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out)
    return numpy.asarray(a, order=order)


def _strip(x):
    """Host data with any device arrays in it unwrapped (no counting: the caller counts one copy)."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, (list, tuple)):
        return type(x)(_strip(v) for v in x)
    return x


def _to_device(name, params):
    sig = _signature(params)

    def f(*args, **kwargs):
        bound = sig.bind(*args, **kwargs).arguments
        a, dtype, order = bound.get("a", bound.get("obj")), bound.get("dtype"), bound.get("order") or "K"
        if isinstance(a, ndarray):  # already on the device: no transfer
            if name == "array" and bound.get("copy", True) is not False:
                return ndarray._from(numpy.array(a._a, dtype=dtype, order=order, copy=True))
            return ndarray._from(numpy.asarray(a._a, dtype=dtype, order=None if order == "K" else order))
        count("h2d")
        # a fresh device buffer: never a view of the caller's host memory
        return ndarray._from(numpy.array(_strip(a), dtype=dtype, order=order, copy=True,
                                         ndmin=bound.get("ndmin", 0)))
    f.__name__ = name
    return f


def get_array_module(*args):
    return cupy if any(isinstance(a, ndarray) for a in args) else numpy


# -- compiled kernels: they construct, and refuse to run -------------------------------------------
class _Kernel:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.name = kwargs.get("name", args[-1] if args and isinstance(args[-1], str) else "kernel")

    def __call__(self, *args, **kwargs):
        raise needs_gpu(f"{type(self).__name__} {self.name!r}")


class ElementwiseKernel(_Kernel):
    pass


class ReductionKernel(_Kernel):
    pass


class RawKernel(_Kernel):
    """RawKernel(code, name, options=...): refuses to run, unless a test lets it launch (_launch.py)."""

    def __init__(self, code, name, options=(), *args, **kwargs):
        super().__init__(code, name, options, *args, **kwargs)
        self.code, self.name, self.options = code, name, options

    def __call__(self, *args, **kwargs):
        from . import _launch

        if _launch.MODE["mode"] is None:
            raise needs_gpu(f"RawKernel {self.name!r}")
        grid, block, kernel_args = args[:3]
        _launch.launch(self, grid, block, kernel_args)


class RawModule:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def get_function(self, name):
        return RawKernel("", name)


def fuse(*args, **kwargs):
    def decorate(f):
        return RawKernel("", getattr(f, "__name__", "fused"))
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return decorate(args[0])
    return decorate


# -- random: CuPy's Generator has fewer methods than NumPy's (no permutation, no shuffle) ------------
class Generator:
    """cupy.random.Generator: only CuPy's methods; draws on the device (no copy)."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator
        self._np = numpy.random.Generator(numpy.random.PCG64(bit_generator._seed))

    def __getattr__(self, name):
        if name not in MANIFEST["random_Generator"]:
            raise AttributeError(f"'cupy.random._generator_api.Generator' object has no attribute '{name}'")
        method = getattr(self._np, name)

        def draw(*args, **kwargs):
            return wrap(numpy.asarray(method(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})))
        return draw


class XORWOW:
    def __init__(self, seed=None, *, size=-1):
        self._seed = seed


def default_rng(seed=None):
    return Generator(XORWOW(seed))


def _random_module():
    mod = types.ModuleType("cupy.random")
    legacy = numpy.random.RandomState(0)
    for name, entry in MANIFEST["random"].items():
        if entry["kind"] == "function" and hasattr(legacy, name):
            method = getattr(legacy, name)
            setattr(mod, name, (lambda m: lambda *a, **k: wrap(numpy.asarray(m(*unwrap(a), **k))))(method))
    mod.seed = legacy.seed
    mod.default_rng, mod.Generator, mod.XORWOW = default_rng, Generator, XORWOW
    return mod


# -- cuda: one device, streams that cannot capture -------------------------------------------------
class _Runtime:
    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def getDevice():
        return 0

    @staticmethod
    def getDeviceProperties(index):
        return {"name": b"CuPy double (NumPy)", "totalGlobalMem": 0, "major": 9, "minor": 0}

    @staticmethod
    def deviceSynchronize():
        pass


class Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def synchronize(self):
        pass

    def use(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __int__(self):
        return self.id

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)


class Stream:
    """A stream; `with s:` makes it current. Graph capture refuses (needs a GPU) unless a test lets the double
    capture (_launch.GRAPH["allowed"]): then capture and launches are recorded in _launch.GRAPH["log"]."""
    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False):
        self.ptr = 0 if null else id(self)
        self._capturing = False

    def synchronize(self):
        pass

    def use(self):
        return self

    def __enter__(self):
        _CURRENT.append(self)
        return self

    def __exit__(self, *exc):
        _CURRENT.pop()
        return False

    def record(self, event=None):
        return Event() if event is None else event

    def wait_event(self, event):
        from ._launch import GRAPH

        GRAPH["log"].append(("wait", type(event).__name__))

    def begin_capture(self, mode=None):
        from ._launch import GRAPH

        if not GRAPH["allowed"]:
            raise needs_gpu("Stream.begin_capture (CUDA graph capture)")
        assert _CURRENT[-1] is self, "capture must begin on the current stream"
        self._capturing = True
        GRAPH["log"].append("begin")

    def end_capture(self):
        from ._launch import GRAPH

        if not GRAPH["allowed"]:
            raise needs_gpu("Stream.end_capture (CUDA graph capture)")
        self._capturing = False
        GRAPH["log"].append("end")
        return _Graph()

    def is_capturing(self):
        return self._capturing


class _Graph:
    """What Stream.end_capture returns (cupy.cuda.graph.Graph): launch() replays it (recorded)."""

    def launch(self, stream=None):
        from ._launch import GRAPH

        GRAPH["log"].append("launch")


Stream.null = Stream(null=True)
_CURRENT = [Stream.null]  # the current stream: the innermost `with stream:`


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        pass

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


class MemoryPool:
    """Nothing lives on a device here: every figure is 0."""

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass

    def malloc(self, size):
        raise needs_gpu("MemoryPool.malloc")


class using_allocator:
    """with cupy.cuda.using_allocator(pool.malloc): arrays made inside come from that allocator."""

    def __init__(self, allocator=None):
        self.allocator = allocator

    def __enter__(self):
        from ._launch import GRAPH

        self.before, GRAPH["allocator"] = GRAPH["allocator"], self.allocator
        return self

    def __exit__(self, *exc):
        from ._launch import GRAPH

        GRAPH["allocator"] = self.before
        return False


_POOL, _PINNED = MemoryPool(), MemoryPool()


def _cuda_module():
    mod = types.ModuleType("cupy.cuda")
    mod.runtime = _Runtime()
    mod.Device, mod.Stream, mod.Event, mod.MemoryPool = Device, Stream, Event, MemoryPool
    mod.get_current_stream = lambda device_id=-1: _CURRENT[-1]
    mod.using_allocator = using_allocator
    mod.is_available = lambda: True
    mod.get_elapsed_time = lambda start, end: 0.0
    return mod


def _build():
    mod = types.ModuleType("cupy", "CuPy double: CuPy's API (manifest.json), NumPy underneath; tests only.")
    mod.__version__ = MANIFEST["cupy_version"]
    for name, entry in MANIFEST["module"].items():
        kind = entry["kind"]
        with warnings.catch_warnings():  # numpy.bytes & co. warn on access
            warnings.simplefilter("ignore")
            has_np = hasattr(numpy, name)
        if kind == "numpy" and has_np:  # NumPy 1.x lacks some (numpy.bool): so does CuPy over it
            setattr(mod, name, getattr(numpy, name))
        elif kind == "ufunc" and has_np:
            setattr(mod, name, ufunc(name, entry["nin"], entry["nout"], entry["methods"]))
        elif kind == "function" and has_np and callable(getattr(numpy, name)):
            setattr(mod, name, _function(name, entry["params"]))
    for name in _CREATION:
        setattr(mod, name, _to_device(name, MANIFEST["module"][name]["params"]))
    mod.ndarray, mod.ufunc, mod.asnumpy, mod.get_array_module = ndarray, ufunc, asnumpy, get_array_module
    mod.ElementwiseKernel, mod.ReductionKernel, mod.RawKernel, mod.RawModule = (
        ElementwiseKernel, ReductionKernel, RawKernel, RawModule)
    mod.fuse = fuse
    mod.random, mod.cuda = _random_module(), _cuda_module()
    mod.get_default_memory_pool, mod.get_default_pinned_memory_pool = lambda: _POOL, lambda: _PINNED
    return mod


cupy = _build()
