"""Function (one op = one class) and the reverse-mode engine that walks the graph.

A node (a Function that ran with grad on) keeps what its backward reads under plain names and, as torch's, its
`next_functions`: for each input, where that input's gradient goes (the input's own node, an AccumulateGrad for a
leaf that requires grad, or None). Grad mode lives in minigrad/grad_mode.py, torch's user-facing
`autograd.Function` API (ctx, apply) in minigrad/function.py, both built on this file.
"""
import numpy

from . import dtypes
from .backend import _cupy, check_same_backend, get_array_module
from .kernels import switch
from .grad_mode import (  # noqa: F401  (torch.autograd.no_grad, ...)
    _state, enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)

Tensor = as_operand = None  # set by tensor_ops.setup_tensor(): ops make Tensors, and Tensor runs ops
make_user_function = None  # set by minigrad/function.py (torch's user-defined Function), which builds on this file

# NumPy 1.x casts by value: a 0-d float32 result met with a Python float (sigmoid of a 0-d tensor, a loss sum / N)
# comes out float64. NumPy 2 (NEP 50) and torch keep float32; Function narrows such results back.
_VALUE_BASED_CASTING = int(numpy.__version__.split(".")[0]) < 2
_NO_GRAD = [(False,) * n for n in range(8)]


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
    """Base op. Subclasses write `forward(*arrays) -> array` and `backward(gy) -> grad per input`.

    Subclassing with `@staticmethod forward(ctx, ...)` / `backward(ctx, ...)` instead gives torch's user-defined
    Function (minigrad/function.py): call it with `MyFn.apply(...)`.
    """

    torch_name = None  # the name torch gives the same op's node (AddBackward0); an op may set its own per call
    promote = False  # binary arithmetic: cast inputs to one torch-promoted dtype first
    float_only = False  # integer inputs are cast to the default float dtype (torch.exp(int) is float)
    differentiable = True
    changes_dtype = False  # only Cast widens a float on purpose; see _narrow_0d
    forward_fast = backward_fast = None  # an op's compiled twin, beside its formula; None where it has none
    is_view = False  # the result may share the input's memory (x[1:], reshape, permute, expand), as torch's views
    saves_output = False  # torch's node keeps the result (ReluBackward0) where ours keeps a mask instead
    saves_inputs = ()  # inputs torch's node keeps where ours keeps something derived (LeakyReluBackward0: x)
    next_functions = ()
    _freed = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        import inspect

        if isinstance(inspect.getattr_static(cls, "forward"), staticmethod):  # torch's user API: forward(ctx, ...)
            make_user_function(cls)

    def __call__(self, *inputs):
        ts = inputs if _all_tensors(inputs) else [as_operand(x, _first_tensor(inputs)) for x in inputs]
        if _cupy is not None and len(ts) > 1:  # with numpy alone every array is on one backend
            check_same_backend([t.array for t in ts], type(self).__name__)
        needs = _wants_grad(ts) and self.differentiable and _state.enabled
        # set before forward, so an op keeps only what the gradients asked for need (as torch's nodes)
        self.needs_input_grad = tuple(t.requires_grad for t in ts) if needs else _NO_GRAD[len(ts)]
        xs = _arrays(self, ts)
        self.xp = get_array_module(xs[0])
        y = self.forward_fast(*xs) if switch.on and self.forward_fast is not None else None
        if y is None:  # no twin, twins off, or the twin declined: the formula
            y = self.forward(*xs)
        if _VALUE_BASED_CASTING and not self.changes_dtype:
            y = _narrow_0d(y, xs)
        out = Tensor._wrap(y, needs)
        if self.is_view:
            out._track_view(ts[0], self)
        if needs:
            _record(self, ts, xs, y, out)
        return out

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    def _input_grads(self, gy):
        """Run backward, then un-broadcast and cast each gradient to its input's shape and dtype."""
        for counter, version, i in self.saved_versions:
            if counter[0] != version:
                raise RuntimeError(_modified_message(self, i, counter[0], version))
        gxs = self.backward_fast(gy) if switch.on and self.backward_fast is not None else None
        if gxs is None:
            gxs = self.backward(gy)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        out = []
        for need, (shape, dtype), gx in zip(self.needs_input_grad, self.in_meta, gxs):
            if gx is None or not need:
                out.append(None)
                continue
            gx = unbroadcast(gx, shape)
            if gx.dtype != dtype:
                gx = gx.astype(dtype)
            assert gx.shape == shape, f"{type(self).__name__}: grad {gx.shape} != input {shape}"
            out.append(gx)
        return out

    saved_versions = saved_keys = ()

    def _free(self):
        """Drop the arrays forward saved so memory goes back, as torch does after backward. The node keeps its
        name, its edges and its settings, so a node that saved nothing can run again (as torch's)."""
        d = self.__dict__
        d.pop("inputs", None)
        for k in self.saved_keys:  # found when forward ran (_saved_versions)
            d.pop(k, None)
            self._freed = True

    def name(self):
        """torch's name for this node ('AddBackward0'); ops torch has no single node for keep ours."""
        return self.torch_name or type(self).__name__.replace("Function", "") + "Backward"

    def __repr__(self):
        return f"<{self.name().split('::')[-1]} object at {hex(id(self))}>"


class AccumulateGrad:
    """The node at a leaf that requires grad: backward adds into `variable.grad` (torch's name). One per leaf, kept
    by the leaf while a graph uses it, so every node's next_functions names the same object for that leaf."""

    next_functions = ()
    _freed = False

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        """torch's node name, 'torch::autograd::AccumulateGrad'."""
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


def edge(t):
    """(node, output number) that receives t's gradient: torch's gradient edge."""
    if t._ctx is not None:
        return t._ctx, t._out_nr
    if t.requires_grad:
        acc = t._acc() if t._acc is not None else None
        if acc is None:
            import weakref

            acc = AccumulateGrad(t)
            t._acc = weakref.ref(acc)
        return acc, 0
    return None, 0


_NODE_KEYS = frozenset(("next_functions", "needs_input_grad", "in_meta", "inputs"))  # not saved data  # not saved data


def _is_array(v):
    return type(v) is numpy.ndarray or (_cupy is not None and isinstance(v, _cupy.ndarray))


def _holds_array(v):
    """An array, or a list / tuple holding one: what a node saved for backward."""
    if type(v) is tuple or type(v) is list:
        for a in v:
            if _is_array(a):
                return True
        return False
    return _is_array(v)


# ---- saved tensors and their versions (torch's SavedVariable) --------------------------------------------------------
def _saved_versions(fn, ts, xs, y, out):
    """(version counter, version now, input number or -1 for the output) for each input or output array the op
    kept for backward: backward refuses to run if one of them was changed in place since (its counter moved on)."""
    saved, keys = [], []
    keeps_y = fn.saves_output
    for k, v in fn.__dict__.items():
        tv = type(v)
        if tv is not numpy.ndarray and (_cupy is None or tv is not _cupy.ndarray):
            if (tv is tuple or tv is list) and k not in _NODE_KEYS and _holds_array(v):
                keys.append(k)  # a tuple of arrays (scatter's coordinates): freed by backward too
            continue
        keys.append(k)
        if v is y:
            keeps_y = True
            continue
        for i, x in enumerate(xs):
            if v is x or (v.base is not None and fn.xp.may_share_memory(v, x)):
                t = ts[i]
                saved.append((t._vc, t._vc[0], i))
                break
    for i in fn.saves_inputs:
        saved.append((ts[i]._vc, ts[i]._vc[0], i))
    if keeps_y:
        fn.saves_output = True
        fn.out_meta = [(y.shape, y.dtype)]
        saved.append((out._vc, out._vc[0], -1))
    fn.saved_keys = keys
    return saved


def _modified_message(fn, i, now, expected):
    shape, dtype = fn.in_meta[i] if i >= 0 else fn.out_meta[0]
    who = f"input {i}" if i >= 0 else "the output"
    return (f"one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{dtypes.of(dtype)} {list(shape)}], {who} of {fn.name()}, is at version {now}; expected version "
            f"{expected} instead. Compute it again instead of changing it in place, or change a .clone() of it.")


# ---- helpers of __call__ ---------------------------------------------------------------------------------------------
def _narrow_0d(y, xs):
    """NumPy 1.x casts by value: a 0-d float32 result met with a Python float comes out float64, where NumPy 2
    (NEP 50) and torch keep float32. Narrow such a result back to the widest input float dtype."""
    if getattr(y, "ndim", None) != 0 or y.dtype.kind != "f":
        return y
    floats = [x.dtype for x in xs if x.dtype.kind == "f"]
    if not floats:
        return y
    want = max(floats, key=lambda d: d.itemsize)
    return y.astype(want) if y.dtype.itemsize > want.itemsize else y


def _all_tensors(inputs):
    for x in inputs:
        if not isinstance(x, Tensor):
            return False
    return True


def _first_tensor(inputs):
    """The tensor a Python/NumPy scalar operand is wrapped like (its backend and dtype rules)."""
    return next((t for t in inputs if isinstance(t, Tensor)), None)


def _wants_grad(ts):
    """True if an input requires grad. A view whose base was changed in place since gets the base's history."""
    needs = False
    for t in ts:
        if t._base is not None:
            t._refresh_view()
        if t.requires_grad:
            needs = True
    return needs


def _arrays(fn, ts):
    """The inputs' arrays as the op computes on them: promoted to one dtype, or cast to float, where it asks."""
    xs = [t.array for t in ts]
    if fn.promote and len(xs) > 1 and xs[0].dtype != xs[1].dtype:
        xs = dtypes.promote_arrays(xs)
    if fn.float_only:
        xs = [x if x.dtype.kind == "f" else x.astype(dtypes.get_default_dtype()) for x in xs]
    return xs


def _record(fn, ts, xs, y, out):
    """Make fn out's node, as torch's: its edges (next_functions), and what it saved with their versions."""
    fn.next_functions = tuple([(t._ctx, t._out_nr) if t._ctx is not None else edge(t) for t in ts])
    fn.inputs = ts  # the tensors themselves, for drawing the graph (minigrad.viz); freed by backward
    fn.in_meta = [(t.array.shape, t.array.dtype) for t in ts]
    fn.saved_versions = _saved_versions(fn, ts, xs, y, out)
    out._ctx = fn


# ---- the backward pass -----------------------------------------------------------------------------------------------
def _topological(roots):
    """Nodes reachable from roots, each before the nodes that produced its inputs."""
    order, seen, stack = [], set(), [(r, False) for r in roots]
    while stack:  # iterative DFS: deep graphs must not hit Python's recursion limit
        fn, done = stack.pop()
        if done:
            order.append(fn)
            continue
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.append((fn, True))
        for nxt, _ in fn.next_functions:
            if nxt is not None and id(nxt) not in seen:
                stack.append((nxt, False))
    order.reverse()
    return order


_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward(). Specify retain_graph=True if you need to backward through the graph a second time."
)


def seed_grad(root, gradient, what="grad can be implicitly created only for scalar outputs"):
    """The gradient a backward starts from: ones for a one-element output, else `gradient` checked against it."""
    xp = get_array_module(root.array)
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"{what} (got shape {tuple(root.shape)}); "
                "pass gradient=... of the output's shape, or reduce it first (e.g. .sum())."
            )
        return xp.ones_like(root.array)
    g = gradient.array if isinstance(gradient, Tensor) else xp.asarray(gradient)
    if g.shape != root.array.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output has a shape of {tuple(g.shape)} and output has a "
            f"shape of {tuple(root.shape)}."
        )
    return g.astype(root.array.dtype, copy=False)


def run_backward(root, gradient=None, retain_graph=False, inputs=None):
    """Reverse-mode sweep from `root`, accumulating into the .grad of leaves (with inputs=, only of those)."""
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    run_into([root], [seed_grad(root, gradient)], retain_graph, inputs)


def run_into(roots, grads, retain_graph=False, inputs=None):
    """run_engine into every leaf's .grad, or with inputs (tensors) only into those tensors' .grad."""
    if inputs is None:
        run_engine(roots, grads, retain_graph)
        return
    found = run_engine(roots, grads, retain_graph, capture=[edge(t) for t in inputs])
    for t, g in zip(inputs, found):
        if g is not None:
            _accumulate(t, g, set())


def run_engine(roots, grads, retain_graph=False, capture=None):
    """Push grads (arrays) from the tensors `roots` to every leaf. With capture (a list of (node, output number)),
    return the gradient that reaches each of those instead of accumulating into .grad (autograd.grad)."""
    handed_out = {id(g) for g in grads}  # the seeds may be the caller's arrays: a leaf's .grad never aliases them
    buffers = {}
    nodes = []
    for t, g in zip(roots, grads):
        if t._base is not None:
            t._refresh_view()
        node, nr = edge(t)
        if node is None:
            continue
        _add(buffers, node, nr, g)
        nodes.append(node)
    wanted = {(id(n), nr): k for k, (n, nr) in enumerate(capture)} if capture is not None else None
    found = [None] * len(capture) if capture is not None else None
    for fn in _topological(nodes):
        gys = buffers.pop(id(fn), None)
        if gys is None:  # no gradient flowed here
            continue
        if wanted is not None:
            for nr, g in enumerate(gys):
                k = wanted.get((id(fn), nr))
                if k is not None:
                    found[k] = g
        if type(fn) is AccumulateGrad:
            if capture is None:
                _accumulate(fn.variable, gys[0], handed_out)
            continue
        if fn._freed:
            raise RuntimeError(_FREED_MSG)
        retained = getattr(fn, "_retained", None)
        if retained is not None and retained() is not None and capture is None:
            _accumulate(retained(), gys[0], handed_out)
        gxs = fn._input_grads(gys[0] if len(gys) == 1 else gys)
        for (nxt, nr), gx in zip(fn.next_functions, gxs):
            if gx is not None and nxt is not None:
                _add(buffers, nxt, nr, gx)
        if not retain_graph:
            fn._free()
    return found


def _add(buffers, node, nr, g):
    """Sum the gradients that reach output `nr` of `node`."""
    gys = buffers.get(id(node))
    if gys is None:
        gys = buffers[id(node)] = [None] * getattr(node, "n_outputs", 1)
    gys[nr] = g if gys[nr] is None else gys[nr] + g


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
        t.grad.array = get_array_module(g).asarray(t.grad.array + g)
