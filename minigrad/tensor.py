"""Tensor: a backend array (`.array`), its gradient and the op that made it. `.data` is torch's detached alias."""
import builtins
from collections import namedtuple

import numpy

from . import dtypes
from .autograd import run_backward
from .grad_mode import _state
from .tensor_convert import ConvertOps
from .tensor_inplace import InPlaceOps
from .tensor_ops import TensorOps
from .views import refresh_view, track_view
from .backend import (
    Device, get_array_module, get_default_backend, get_xp, name_of, to_numpy,
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
        """The product of the dims (1 for torch.Size([]))."""
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


class Tensor(TensorOps, InPlaceOps, ConvertOps):
    """An n-d array with reverse-mode autodiff, shaped like torch.Tensor."""

    __array_priority__ = 1000  # numpy_array * tensor -> Tensor.__rmul__, not an object array
    _track_view = track_view  # out shares x's memory: make it a view of x's base (minigrad/views.py)
    _refresh_view = refresh_view  # the base changed in place since: the view's history follows the base's

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
        """The dims, as a torch.Size (a tuple)."""
        return Size(self.array.shape)

    @property
    def dtype(self):
        """The element dtype: prints as torch's (torch.float32) and equals the array's NumPy dtype."""
        return dtypes.of(self.array.dtype)  # torch.float32, equal to the array's numpy.float32

    @property
    def ndim(self):
        """The number of dims (0 for a scalar tensor)."""
        return self.array.ndim

    @property
    def device(self):
        """Where the array lives: device(type='cpu') for NumPy, device(type='cuda') for CuPy."""
        return Device(self.backend)

    @property
    def backend(self):
        """'numpy' or 'cupy': the array module behind this tensor, by name."""
        return name_of(get_array_module(self.array))

    @property
    def xp(self):
        """The array module (numpy or cupy) to compute on this tensor's array with."""
        return numpy if type(self.array) is numpy.ndarray else get_array_module(self.array)

    @property
    def is_cuda(self):
        """True when the array is a CuPy (GPU) array."""
        return self.backend == "cupy"

    @property
    def is_leaf(self):
        """True when grad_fn is None: made by the user, or by ops that recorded no graph (as torch)."""
        return self.grad_fn is None

    @property
    def grad_fn(self):
        """The graph node that made this tensor (None for a leaf); a view's follows in-place changes of its base."""
        if self._base is not None:
            self._refresh_view()
        return self._ctx

    @property
    def _version(self):
        """How many in-place changes this tensor's storage has seen (views share the count), as torch's."""
        return self._vc[0]

    def is_inference(self):
        """True when made under inference_mode: backward cannot save it, nor can it change in place outside the mode."""
        return self._inference

    @property
    def T(self):
        """All dims reversed, a view: (m, n) -> (n, m)."""
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        """The last two dims swapped, a view: (*, m, n) -> (*, n, m)."""
        return ops.transpose(self, -2, -1)

    def size(self, dim=None):
        """The shape as a torch.Size, or the size of dim (an int)."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        """The number of dims, as ndim."""
        return self.ndim

    def numel(self):
        """The number of elements, an int; nelement is the same."""
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
        if inputs is not None:  # only into these tensors' .grad
            inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        run_backward(self, gradient, builtins.bool(retain_graph), inputs)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place, return self. RuntimeError for a non-float tensor, or to turn it off
        below a grad_fn (only leaves may)."""
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
        """Take this tensor out of the graph in place (no grad_fn, requires_grad False); a view refuses."""
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self):
        """A copy in new memory that stays in the graph (CloneBackward0); not a view."""
        return ops.clone(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)


ops = None  # minigrad.ops, set by tensor_ops.setup_tensor() (ops import this module: it cannot import them)


_NOT_PICKLED = {"array", "grad", "_ctx", "requires_grad", "_vc", "_base", "_view_ops", "_view_version", "_out_nr",
                "_acc"}


def is_tensor(obj):
    """True for a minigrad Tensor (a Parameter too), as torch.is_tensor."""
    return isinstance(obj, Tensor)


def numel(x):
    """The number of elements of x, an int."""
    return x.numel()
