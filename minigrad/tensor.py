"""Tensor: a backend array (`.array`), its gradient and the op that made it. `.data` is torch's detached alias."""
import builtins
from collections import namedtuple

import numpy

from . import device_checks, dtypes
from .autograd import CopySlices, edge, refresh_view, run_backward
from .grad_mode import _state
from .tensor_ops import TensorOps
from .backend import (
    Device, backend_name, get_array_module, get_default_backend, get_xp, name_of, parse_to, to_numpy,
)

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _infer_array(data, dtype, xp):
    """Array for minigrad.tensor(data): Python floats become the default dtype, ints int64 (as torch)."""
    if isinstance(data, Tensor):
        data = data.array
    if get_array_module(data) is not numpy or isinstance(data, numpy.ndarray):
        a = data  # an array keeps its dtype, as torch.tensor(np_array) does
    else:
        a = numpy.asarray(data if not isinstance(data, (list, tuple)) else _host_list(data))
        if dtype is not None and a.dtype.kind in "biuf":
            pass  # the dtype asked for is applied below, straight from the exact values (no rounding through float32)
        elif a.dtype.kind == "f" and not isinstance(data, numpy.generic):
            a = a.astype(dtypes.get_default_dtype())
        elif a.dtype.kind in "iu" and not isinstance(data, numpy.generic):
            a = a.astype(dtypes.int64)
        listed = _list_dtype(data, set()) if (dtype is None and isinstance(data, (list, tuple))
                                             and a.dtype.kind in "biuf") else None
        if listed is not None:
            a = a.astype(listed, copy=False)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"can't convert data of dtype {a.dtype} to a tensor: only bool, int and float are supported")
    return xp.array(a, copy=True) if xp is numpy else xp.asarray(a).copy()


def _list_dtype(data, kinds):
    """torch's dtype for a list holding NumPy scalars ([np.float64(1), 2.0] -> float64), else None."""
    for d in data:
        if isinstance(d, (list, tuple)):
            _list_dtype(d, kinds)
        else:
            kinds.add(d.array.dtype if isinstance(d, Tensor) else d.dtype if isinstance(d, numpy.generic) else type(d))
    if not any(isinstance(k, numpy.dtype) for k in kinds):
        return None  # plain Python values: the rules above already apply
    py = {builtins.bool: dtypes.bool, builtins.int: dtypes.int64, builtins.float: dtypes.get_default_dtype()}
    out = None
    for k in kinds:
        k = py.get(k, k) if not isinstance(k, numpy.dtype) else k
        out = k if out is None else dtypes.promote_types(out, k)
    return out


def _host_list(data):
    # lists of tensors (e.g. [t.item() ...] forgotten) are turned into plain values
    return [_host_list(d) if isinstance(d, (list, tuple)) else (d.item() if isinstance(d, Tensor) else d)
            for d in data]


def size_args(dims):
    """A shape given as dims or as one sequence, as torch takes it: f(2, 3), f((2, 3)), f([2, 3]) -> (2, 3)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return tuple(int(d) for d in dims)


class Size(tuple):
    """torch.Size look-alike: a tuple of dims that prints as torch.Size([...]), as dtypes print as torch's."""

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self):
        return f"torch.Size({list(self)})"


def as_operand(x, like):
    """Wrap a Python/NumPy scalar as a 0-d tensor whose dtype follows torch's scalar rules."""
    if isinstance(x, Tensor):
        return x
    xp = get_array_module(like.array) if like is not None else get_xp()
    if like is not None and isinstance(x, (builtins.bool, builtins.int, builtins.float)):
        k = like.array.dtype
        if isinstance(x, builtins.bool):
            d = k
        elif isinstance(x, builtins.int):
            d = k if k.kind != "b" else dtypes.int64
        else:
            d = k if k.kind == "f" else dtypes.get_default_dtype()
        return Tensor._wrap(xp.asarray(x, dtype=d))
    if isinstance(x, numpy.ndarray) or get_array_module(x) is not numpy:
        return Tensor._wrap(xp.asarray(x))
    return Tensor._wrap(_infer_array(x, None, xp))


class Tensor(TensorOps):
    """An n-d array with reverse-mode autodiff, shaped like torch.Tensor."""

    __array_priority__ = 1000  # numpy_array * tensor -> Tensor.__rmul__, not an object array

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        """Tensor(list) is float, as torch.Tensor([1, 2]); minigrad.tensor(...) infers int64/bool/float."""
        if dtype is None and isinstance(data, (list, tuple)):
            dtype = dtypes.get_default_dtype()
        self._build(data, dtype, requires_grad, device)

    def _build(self, data, dtype, requires_grad, device):
        xp = get_xp(device) if device is not None else (
            get_array_module(data) if not isinstance(data, Tensor) else get_array_module(data.array)
        )
        if device is None and xp is numpy and get_default_backend() == "cupy":
            xp = get_xp("cupy")
        self.array = _infer_array(data, dtypes.as_dtype(dtype), xp)
        self.grad = None
        self._ctx = None
        self.requires_grad = False
        self._vc = [0]
        if _state.inference:
            self._inference = True
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        """Fast constructor from a backend array (no copy, no checks); used by ops."""
        t = object.__new__(cls)
        if type(array) is not numpy.ndarray and (isinstance(array, numpy.generic) or get_array_module(array) is numpy):
            array = numpy.asarray(array)  # numpy reductions return scalars; keep 0-d arrays
        t.array = array
        t.grad = None
        t._ctx = None
        t.requires_grad = requires_grad
        t._vc = [0]  # the version counter, shared with views: how many in-place changes the storage has seen
        if _state.inference:
            t._inference = True
        return t

    # What a view or an in-place change sets; plain tensors keep these class defaults.
    _base = None  # the tensor whose storage this view shares (torch's ._base)
    _view_ops = ()  # the view ops that make this view from _base's array
    _view_version = 0  # the version at which this view's history was last set
    _out_nr = 0  # which output of its grad_fn this tensor is (user Functions return several)
    _acc = None  # weak reference to the leaf's AccumulateGrad node while a graph uses it
    _inference = False  # made under inference_mode

    # ---- attributes -------------------------------------------------------------------------
    @property
    def data(self):
        """torch's `.data`: a Tensor sharing this one's storage, detached (no grad_fn, requires_grad=False), with a
        version counter of its own, so autograd never sees in-place changes made through it (p.data -= lr * g)."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value):
        """`p.data = t` makes p use t's storage (shape and dtype may change, as torch's set_data)."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}: "
                            "wrap it first, e.g. p.data = minigrad.tensor(values)")
        if self.requires_grad and value.array.dtype.kind != "f":
            raise RuntimeError(f"data set to a tensor that requires gradients must be floating point, but got "
                               f"{value.dtype}; convert it first, e.g. p.data = t.float()")
        self.array = value.array

    @property
    def shape(self):
        return Size(self.array.shape)

    @property
    def dtype(self):
        return dtypes.of(self.array.dtype)  # torch.float32, equal to the array's numpy.float32

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def device(self):
        return Device(self.backend)

    @property
    def backend(self):
        return name_of(get_array_module(self.array))

    @property
    def xp(self):
        return numpy if type(self.array) is numpy.ndarray else get_array_module(self.array)

    @property
    def is_cuda(self):
        return self.backend == "cupy"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad_fn(self):
        if self._base is not None:
            refresh_view(self)
        return self._ctx

    @property
    def _version(self):
        """How many in-place changes this tensor's storage has seen (views share the count), as torch's."""
        return self._vc[0]

    def is_inference(self):
        return self._inference

    @property
    def T(self):
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self):
        return id(self)

    # ---- pickling (minigrad.save of a whole model) and copies ---------------------------------
    def __reduce_ex__(self, protocol):
        """Pickled as a host array + device + requires_grad (the graph and .grad are not kept, as torch)."""
        from .serialization import _rebuild_tensor

        state = {k: v for k, v in self.__dict__.items() if k not in _NOT_PICKLED}
        return _rebuild_tensor, (type(self), to_numpy(self.array), self.backend, self.requires_grad, state)

    def __deepcopy__(self, memo):
        import copy

        new = object.__new__(type(self))  # on the same device, .grad included (as torch's deepcopy)
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k != "_acc":  # the copy is a leaf of its own: its gradient must not go to this one's accumulator
                setattr(new, k, copy.deepcopy(v, memo))
        return new

    def __copy__(self):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_acc", None)
        return new

    # ---- autograd ---------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's .grad (gradient= for non-scalar outputs)."""
        if create_graph:
            raise NotImplementedError("create_graph=True (higher-order gradients) is not supported")
        if inputs is not None:
            from .function import backward

            return backward(self, gradient, retain_graph, create_graph, inputs=inputs)
        run_backward(self, gradient, retain_graph=builtins.bool(retain_graph))

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (got {self.dtype}); "
                "convert first, e.g. x.float().requires_grad_()"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep .grad on a non-leaf tensor after backward."""
        if self._ctx is not None:
            import weakref

            self._ctx._retained = weakref.ref(self)
        return self

    def detach(self):
        """The same storage and version counter, out of the graph (in-place changes to it are seen by autograd)."""
        t = Tensor._wrap(self.array)
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self):
        return ops.clone(self)

    # ---- conversion -------------------------------------------------------------------------
    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted to Scalar")
        device_checks.sync()  # a sync point: raise what the device-side checks found
        return self.array.reshape(()).item()

    def tolist(self):
        return to_numpy(self.array).tolist()

    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.backend == "cupy" and not force:
            raise TypeError("can't convert cuda tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory "
                            "first.")
        return to_numpy(self.array)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def to(self, *args, **kwargs):
        """to(device), to(dtype) or to(device, dtype); 'cpu'/'numpy' and 'cuda'/'cupy' name the backends."""
        device, dtype = parse_to(args, kwargs, "to")
        out = self
        if dtype is not None:
            out = ops.cast(out, dtypes.as_dtype(dtype))
        if device is not None and backend_name(device) != out.backend:
            out = ops.move_to(out, backend_name(device))
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def type(self, dtype=None):
        """x.type() -> 'torch.FloatTensor' (torch's legacy names); x.type(dtype or name) converts."""
        if dtype is None:
            cuda = "cuda." if self.backend == "cupy" else ""
            return f"torch.{cuda}{dtypes.TENSOR_TYPE_NAMES.get(self.dtype, str(self.dtype))}"
        return self.to(dtypes.as_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.array.size} values is ambiguous")
        return builtins.bool(self.item())

    def __format__(self, spec):
        if self.array.size == 1 and self.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self):
        from .printing import tensor_repr

        device = "device='cuda:0'" if self.backend == "cupy" else None
        grad = f"grad_fn=<{self._ctx.name()}>" if self._ctx is not None else (
            "requires_grad=True" if self.requires_grad else None)
        return tensor_repr(to_numpy(self.array), dtypes.get_default_dtype(), device, grad)

    # ---- in place, as torch: views see the change, the version counter counts it, autograd records it -------------
    def _apply_(self, f, *operands):
        """self := f(self), in self's own storage. f computes the new value out of place with the ops (so their
        backward is the gradient); with grad on, it reads a snapshot of the old value, which its node may keep."""
        if self._base is not None:
            refresh_view(self)
        if self._inference and not _state.inference:
            raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed: "
                               "clone() it outside inference_mode first.")
        record = _state.enabled and (self.requires_grad or any(
            isinstance(o, Tensor) and o.requires_grad for o in operands))
        if not record:
            self._write(f(Tensor._wrap(self.array)).array)
            return self
        base = self._base
        if base is None and self._ctx is None and self.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation: wrap the "
                               "update in `with minigrad.no_grad():`, or use the out-of-place form (x = x + 1).")
        if base is not None and base._ctx is None and base.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation: "
                               "wrap it in `with minigrad.no_grad():`, or change a clone() of the leaf.")
        old = Tensor._wrap(self.array.copy(), self.requires_grad)  # the value before, for nodes that keep it
        old._ctx, old._out_nr = self._ctx, self._out_nr
        new = f(old)
        if base is None:
            self._write(new.array)
            self._ctx, self._out_nr, self.requires_grad = new._ctx, new._out_nr, new.requires_grad
            _rebind_output(new, self)
            return self
        base_edge, base_grad = edge(base), base.requires_grad  # the base's history before the change
        self._write(new.array)  # through the view, into the base's storage
        node = CopySlices(self._view_ops, base.array.shape)
        node.xp, node.next_functions, node.inputs = self.xp, (base_edge, edge(new)), (base, new)
        node.needs_input_grad = (base_grad, new.requires_grad)
        node.in_meta = [(base.array.shape, base.array.dtype), (self.array.shape, self.array.dtype)]
        base._ctx, base._out_nr, base.requires_grad = node, 0, True
        refresh_view(self)  # the view's history is now a view of the base's new one
        return self

    def _write(self, y):
        """Store y (the op's result) in self's array, which keeps its shape and dtype, and count the change."""
        a = self.array
        if y.shape != a.shape:
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast shape {list(y.shape)}: "
                               "an in-place op cannot grow its tensor; use the out-of-place form")
        if y.dtype != a.dtype and not _can_cast(y.dtype, a.dtype):
            raise RuntimeError(f"result type {dtypes.scalar_name(y.dtype)} can't be cast to the desired output type "
                               f"{dtypes.scalar_name(a.dtype)}: convert the tensor first (e.g. x = x.float())")
        if 0 in a.strides and a.size > 1 and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")
        a[...] = y
        self._vc[0] += 1

    def _raw(self, other):
        if isinstance(other, Tensor):
            if other.backend != self.backend:
                raise RuntimeError(
                    f"expected both tensors on the same device, got {self.backend} and {other.backend}"
                )
            return other.array
        return other

    def zero_(self):
        return self._apply_(ops.mutate.zero)

    def fill_(self, value):
        return self._apply_(lambda x: ops.mutate.fill(x, value), value)

    def copy_(self, src, non_blocking=False):
        src = src.to(self.device) if isinstance(src, Tensor) else src
        return self._apply_(lambda x: ops.mutate.copy(x, src), src)

    def add_(self, other, alpha=1):
        return self._apply_(lambda x: ops.add(x, other if alpha == 1 else other * alpha), other)

    def sub_(self, other, alpha=1):
        return self._apply_(lambda x: ops.sub(x, other if alpha == 1 else other * alpha), other)

    def mul_(self, other):
        return self._apply_(lambda x: ops.mul(x, other), other)

    def div_(self, other, rounding_mode=None):
        return self._apply_(lambda x: ops.div(x, other, rounding_mode=rounding_mode), other)

    def pow_(self, exponent):
        return self._apply_(lambda x: ops.pow(x, exponent), exponent)

    def clamp_(self, min=None, max=None):
        return self._apply_(lambda x: ops.clamp(x, min, max), min, max)

    clip_ = clamp_

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        """In-place scatter: self[index[i][j]][j] = src[i][j] (dim 0), or = value."""
        return self._apply_(lambda x: ops.scatter(x, dim, index, src, value=value, reduce=reduce), src)

    def scatter_add_(self, dim, index, src):
        return self._apply_(lambda x: ops.scatter_add(x, dim, index, src), src)

    def masked_fill_(self, mask, value):
        return self._apply_(lambda x: ops.masked_fill(x, mask, value), value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __ifloordiv__(self, other):
        return self._apply_(lambda x: ops.floor_divide(x, other), other)

    def __imod__(self, other):
        return self._apply_(lambda x: ops.remainder(x, other), other)

    def __iand__(self, other):
        return self._apply_(lambda x: x & other)

    def __ior__(self, other):
        return self._apply_(lambda x: x | other)

    def __ixor__(self, other):
        return self._apply_(lambda x: x ^ other)

    def __setitem__(self, index, value):
        """x[index] = value, as torch: a basic index writes through a view (CopySlices), an advanced one is
        index_put_; either records a gradient when x or value requires grad."""
        if self._base is not None:
            refresh_view(self)
        if not (_state.enabled and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad))):
            if self._inference and not _state.inference:
                raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed.")
            self.array[ops.raw_index(index)] = self._raw(value.to(self.device) if isinstance(value, Tensor)
                                                         else value)
            self._vc[0] += 1
            return
        if ops.mutate.is_basic_index(index):
            self[index].copy_(value)
        else:
            self._apply_(lambda x: ops.mutate.index_put(x, index, value), value)

    def __getitem__(self, index):
        return ops.getitem(self, index)


ops = None  # minigrad.ops, set by tensor_ops.setup_tensor() (ops import this module: it cannot import them)


_NOT_PICKLED = {"array", "grad", "_ctx", "requires_grad", "_vc", "_base", "_view_ops", "_view_version", "_out_nr",
                "_acc"}


def _can_cast(src, dst):
    """torch's rule for writing a result into a tensor in place: no float into an integer, nothing else into bool."""
    if src.kind == "f" and dst.kind in "biu":
        return False
    return not (dst.kind == "b" and src.kind != "b")


def _rebind_output(new, t):
    """An in-place op's node kept its result's array (exp_ keeps exp(x)): point it at t's storage, which now holds
    those values, so the node follows t's later in-place changes as torch's does."""
    fn = new._ctx
    if fn is None or not fn.saves_output or new.array.dtype != t.array.dtype:
        return
    for k, v in fn.__dict__.items():
        if v is new.array:
            fn.__dict__[k] = t.array
    fn.saved_versions = [(t._vc, t._vc[0], what) if counter is new._vc else (counter, version, what)
                         for counter, version, what in fn.saved_versions]


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(x):
    return x.numel()
