"""Function (one op = one class) and the reverse-mode engine that walks the graph."""
import contextlib
import threading

import numpy

from . import dtypes, kernels
from .backend import _cupy, get_array_module, name_of

Tensor = as_operand = None  # set by tensor_ops.setup_tensor(): ops make Tensors, and Tensor runs ops


_state = threading.local()
# NumPy 1.x casts by value: a 0-d float32 result met with a Python float (sigmoid of a 0-d tensor, a loss sum / N)
# comes out float64. NumPy 2 (NEP 50) and torch keep float32; Function narrows such results back.
_VALUE_BASED_CASTING = int(numpy.__version__.split(".")[0]) < 2


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set_enabled(flag):
    _state.enabled = flag


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager / decorator switching graph recording on or off (torch.set_grad_enabled)."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        self.mode = mode
        _set_enabled(mode)  # also works as a plain call, as in torch

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_enabled(self.prev)
        return False


class no_grad(contextlib.ContextDecorator):
    """`with minigrad.no_grad():` runs ops without building a graph."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(False)

    def __exit__(self, *exc):
        _set_enabled(self.prev)
        return False


class enable_grad(no_grad):
    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(True)


inference_mode = no_grad


def unbroadcast(g, shape):
    """Sum gradient g down to `shape`, undoing numpy broadcasting (the one place this happens)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape)


class Function:
    """Base op. Subclasses write `forward(*arrays) -> array` and `backward(gy) -> grad per input`."""

    torch_name = None  # the name torch gives the same op's node (AddBackward0); an op may set its own per call
    promote = False  # binary arithmetic: cast inputs to one torch-promoted dtype first
    float_only = False  # integer inputs are cast to the default float dtype (torch.exp(int) is float)
    differentiable = True
    changes_dtype = False  # only Cast widens a float on purpose; see _narrow_0d
    kernel = None  # the name of a faster twin of forward/backward in minigrad/kernels, which picks it or not

    def __call__(self, *inputs):
        ts = inputs
        for x in inputs:
            if not isinstance(x, Tensor):  # a Python/NumPy scalar operand: wrap it (rare path)
                first = next((t for t in inputs if isinstance(t, Tensor)), None)
                ts = [as_operand(t, first) for t in inputs]
                break
        if _cupy is not None:  # with numpy alone every array is on one backend
            _check_same_backend(ts, type(self).__name__)
        xs = [t.array for t in ts]
        if self.promote and len(xs) > 1 and xs[0].dtype != xs[1].dtype:
            xs = _promote(ts, xs)
        if self.float_only:
            xs = [x if x.dtype.kind == "f" else x.astype(dtypes.get_default_dtype()) for x in xs]
        self.xp = _xp(xs[0])
        y = kernels.forward(self, xs) if self.kernel is not None else None
        if y is None:
            y = self.forward(*xs)
        if _VALUE_BASED_CASTING and not self.changes_dtype:
            y = _narrow_0d(y, xs)
        needs = False
        if self.differentiable and getattr(_state, "enabled", True):
            for t in ts:
                if t.requires_grad:
                    needs = True
                    break
        out = Tensor._wrap(y, needs)
        if needs:
            self.inputs = ts
            self.needs_input_grad = tuple(t.requires_grad for t in ts)
            self.in_meta = [(t.array.shape, t.array.dtype) for t in ts]
            out._ctx = self
        return out

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    def _input_grads(self, gy):
        """Run backward, then un-broadcast and cast each gradient to its input's shape and dtype."""
        gxs = kernels.backward(self, gy) if self.kernel is not None else None
        if gxs is None:
            gxs = self.backward(gy)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        out = []
        for t, (shape, dtype), gx in zip(self.inputs, self.in_meta, gxs):
            if gx is None or not t.requires_grad:
                out.append(None)
                continue
            gx = unbroadcast(gx, shape)
            if gx.dtype != dtype:
                gx = gx.astype(dtype)
            assert gx.shape == shape, f"{type(self).__name__}: grad {gx.shape} != input {shape}"
            out.append(gx)
        return out

    def _free(self):
        # Drop what forward saved so memory goes back, as torch does after backward; the node keeps
        # its name and its edges (next_functions), as torch's does.
        keep = {"_next": self.next_functions}
        if "torch_name" in self.__dict__:
            keep["torch_name"] = self.torch_name
        self.__dict__.clear()
        self.__dict__.update(keep)
        self._freed = True

    def name(self):
        """torch's name for this node ('AddBackward0'); ops torch has no single node for keep ours."""
        return self.torch_name or type(self).__name__.replace("Function", "") + "Backward"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        """((node, 0), ...) per input, as torch: the input's grad_fn, AccumulateGrad for a leaf that
        requires grad, None for an input without gradient."""
        if "_next" in self.__dict__:
            return self._next
        return tuple((t._ctx if t._ctx is not None else AccumulateGrad(t) if t.requires_grad else None, 0)
                     for t in getattr(self, "inputs", ()))


class AccumulateGrad:
    """The node at a leaf that requires grad: backward adds into `variable.grad` (torch's name)."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _narrow_0d(y, xs):
    """A 0-d float result wider than every float input back to the widest input float dtype (NumPy 1.x only)."""
    if getattr(y, "ndim", None) != 0 or y.dtype.kind != "f":
        return y
    floats = [x.dtype for x in xs if x.dtype.kind == "f"]
    if not floats:
        return y
    want = max(floats, key=lambda d: d.itemsize)
    return y.astype(want) if y.dtype.itemsize > want.itemsize else y


def _promote(ts, xs):
    scalar_like = [x.ndim == 0 for x in xs]
    want = xs[0].dtype
    for x, s in zip(xs[1:], scalar_like[1:]):
        want = dtypes.promote_types(want, x.dtype, scalar_like[0] and want == xs[0].dtype, s)
    return [x if x.dtype == want else x.astype(want) for x in xs]


def _xp(a):
    """numpy or cupy for array a (backend.get_array_module, without the call for a host array). Not a fast path
    inside get_array_module: a NumPy training step then never enters backend.py (tests/test_learner_path.py)."""
    return numpy if type(a) is numpy.ndarray else get_array_module(a)


def _check_same_backend(ts, opname):
    if len(ts) < 2 or all(type(t.array) is numpy.ndarray for t in ts):
        return
    names = {name_of(get_array_module(t.array)) for t in ts}
    if len(names) > 1:
        raise RuntimeError(
            f"{opname}: expected all tensors to be on the same device, but found tensors on "
            f"{' and '.join(sorted(names))} (numpy = cpu, cupy = cuda). Move them with .to(...)."
        )


def _topological(root_fn):
    """Functions reachable from root_fn, each before the functions that produced its inputs."""
    order, seen, stack = [], set(), [(root_fn, False)]
    while stack:  # iterative DFS: deep graphs must not hit Python's recursion limit
        fn, done = stack.pop()
        if done:
            order.append(fn)
            continue
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.append((fn, True))
        for t in getattr(fn, "inputs", ()):
            if t._ctx is not None and id(t._ctx) not in seen:
                stack.append((t._ctx, False))
    order.reverse()
    return order


_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward(). Specify retain_graph=True if you need to backward through the graph a second time."
)


def run_backward(root, gradient=None, retain_graph=False):
    """Reverse-mode sweep from `root`, accumulating into the .grad of leaves."""
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    xp = _xp(root.array)
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs (got shape {tuple(root.shape)}); "
                "pass gradient=... of the output's shape, or reduce it first (e.g. .sum())."
            )
        g = xp.ones_like(root.array)
    else:
        g = gradient.array if isinstance(gradient, Tensor) else xp.asarray(gradient)
        if g.shape != root.array.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output has a shape of {tuple(g.shape)} and output has a "
                f"shape of {tuple(root.shape)}."
            )
        g = g.astype(root.array.dtype, copy=False)
    handed_out = {id(g)}  # the seed may be the caller's array: never let a leaf's .grad alias it
    if root._ctx is None:
        _accumulate(root, g, handed_out)
        return
    grads = {id(root._ctx): g}
    for fn in _topological(root._ctx):
        if getattr(fn, "_freed", False):
            raise RuntimeError(_FREED_MSG)
        gy = grads.pop(id(fn), None)
        if gy is None:  # not on a path from root (cannot happen) or no grad flowed
            continue
        retained = getattr(fn, "_retained", None)
        if retained is not None and retained() is not None:
            _accumulate(retained(), gy, handed_out)
        for t, gx in zip(fn.inputs, fn._input_grads(gy)):
            if gx is None:
                continue
            if t._ctx is None:
                _accumulate(t, gx, handed_out)
            else:
                key = id(t._ctx)
                grads[key] = gx if key not in grads else grads[key] + gx
        if not retain_graph:
            fn._free()


def _accumulate(t, g, handed_out):
    """Add g into t.grad. A fresh .grad owns its array, so in-place edits of one leaf's grad
    (t.grad.zero_(), optimizer updates) can never reach another leaf's."""
    if t.grad is None:
        # CuPy's flags have no `writeable` (device arrays always are): read it only where it exists
        if not g.flags.owndata or id(g) in handed_out or not getattr(g.flags, "writeable", True):
            g = g.copy()
        handed_out.add(id(g))
        t.grad = Tensor._wrap(g)
    else:  # asarray: NumPy returns a scalar, not a 0-d array, for 0-d + 0-d, and .grad.zero_() needs an array
        t.grad.array = _xp(g).asarray(t.grad.array + g)
