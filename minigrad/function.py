"""torch's user-facing autograd API, built on the engine in autograd.py:

- subclasses of `autograd.Function` with `@staticmethod forward(ctx, ...)` / `backward(ctx, *grads)` (or the
  `setup_context` form), called through `.apply(...)`; `ctx.save_for_backward`, `ctx.saved_tensors`,
  `ctx.needs_input_grad`, `ctx.mark_non_differentiable`, `ctx.mark_dirty`, `ctx.set_materialize_grads`;
- `grad(outputs, inputs, ...)`, `backward(tensors, ...)`, `Variable` (torch's deprecated alias), `once_differentiable`.

A user Function's node is an engine Function (UserNode) whose backward calls the user's backward on Tensors.
"""
import builtins
import functools

from . import autograd
from .autograd import Function, edge, run_engine, run_into, seed_grad, unbroadcast
from .grad_mode import _state, no_grad


class FunctionCtx:
    """The `ctx` a user Function's forward and backward share (torch.autograd.function.FunctionCtx)."""

    def __init__(self):
        self._saved = None
        self._dirty = ()
        self._non_differentiable = ()
        self.materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for backward; backward refuses them if they were changed in place since."""
        for t in tensors:
            if t is not None and not isinstance(t, autograd.Tensor):
                raise TypeError(f"save_for_backward can only save tensors or None, but got {type(t).__name__}; keep "
                                "other values as attributes of ctx (ctx.k = k)")
            if t is not None and t._inference:
                raise RuntimeError("Inference tensors cannot be saved for backward. To work around you can make a "
                                   "clone to get a normal tensor and use it in autograd.")
        self._saved = [(t, t._version) if t is not None else None for t in tensors]

    save_for_forward = save_for_backward

    @property
    def saved_tensors(self):
        """The tensors given to save_for_backward, as a tuple; RuntimeError if one was changed in
        place since, or if the graph was already freed by a backward."""
        if self._saved is None:
            if getattr(self, "_freed", False):
                raise RuntimeError(autograd._FREED_MSG)
            return ()
        out = []
        for item in self._saved:
            if item is None:
                out.append(None)
                continue
            t, version = item
            if t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.dtype} {list(t.shape)}], saved by {self._name}, is at version {t._version}; "
                    f"expected version {version} instead. Save a .clone() of it, or change it after backward.")
            out.append(t)
        return tuple(out)

    def mark_dirty(self, *tensors):
        """Say which inputs forward changed in place (they then carry this Function's history)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Say which outputs have no gradient (indices, masks): they come out with requires_grad=False."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """True (default): backward gets zeros for outputs that had no gradient; False: it gets None."""
        self.materialize_grads = bool(value)


class UserNode(Function):
    """The graph node of one call of a user Function: backward runs the user's backward on Tensors."""

    def _input_grads(self, gys):
        ctx, cls = self.ctx, self.user_cls
        if not isinstance(gys, list):
            gys = [gys]
        grads = []
        for g, (shape, dtype) in zip(gys, self.out_meta):
            if g is None and ctx.materialize_grads:
                g = self.xp.zeros(shape, dtype=dtype)
            grads.append(None if g is None else autograd.Tensor._wrap(g))
        with no_grad():
            result = cls.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != self.n_args:
            if len(result) > self.n_args and all(r is None for r in result[self.n_args:]):
                result = result[:self.n_args]  # torch allows trailing Nones
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                                   f"{self.n_args}, got {len(result)}): return one per argument of forward, None "
                                   "for those without one")
        out = []
        for pos, (shape, dtype) in zip(self.tensor_pos, self.in_meta):
            g = result[pos]
            if g is None:
                out.append(None)
                continue
            if not isinstance(g, autograd.Tensor):
                raise TypeError(f"function {self.name()} returned a {type(g).__name__} as the gradient of argument "
                                f"{pos}: return a Tensor or None")
            a = g.array
            if a.shape != shape:
                try:
                    a = unbroadcast(a, shape)
                except ValueError:
                    a = None
                if a is None or a.shape != shape:
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index {pos} - got "
                                       f"{list(g.shape)} but expected shape compatible with {list(shape)}")
            out.append(a if a.dtype == dtype else a.astype(dtype))
        for pos, r in enumerate(result):
            if r is not None and pos not in self.tensor_pos:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                   f"{pos}, but the corresponding forward input was not a Tensor")
        return out

    def _free(self):
        self.__dict__.pop("inputs", None)
        if self.ctx._saved is not None:
            self.ctx._saved, self.ctx._freed = None, True
            self._freed = True


def make_user_function(cls):
    """Called for each subclass written in torch's style: give it apply() and its node class (MyFnBackward)."""
    cls._node_class = type(cls.__name__ + "Backward", (UserNode,), {"torch_name": cls.__name__ + "Backward"})
    cls.apply = classmethod(_apply)
    if getattr(cls, "setup_context", None) is None:
        cls.setup_context = None  # forward(ctx, *args); with setup_context: forward(*args), then setup_context


def _apply(cls, *args, **kwargs):
    """Run forward on the inputs (grad off inside, as torch), then connect the outputs to a node whose backward is
    cls.backward."""
    Tensor = autograd.Tensor
    if kwargs:
        raise TypeError(f"{cls.__name__}.apply takes positional arguments only, as torch's; got {sorted(kwargs)}")
    tensors = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
    for _, t in tensors:
        if t._base is not None:
            t._refresh_view()
    record = _state.enabled and builtins.any(t.requires_grad for _, t in tensors)
    ctx = FunctionCtx()
    ctx._name = cls.__name__ + "Backward"
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad and record for a in args)
    with no_grad():
        if cls.setup_context is None:
            outputs = cls.forward(ctx, *args)
        else:
            outputs = cls.forward(*args)
            cls.setup_context(ctx, args, outputs)
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    if not record:
        return outputs
    node = cls._node_class()
    node.ctx, node.user_cls, node.n_args = ctx, cls, len(args)
    node.tensor_pos = [i for i, _ in tensors]
    node.xp = tensors[0][1].xp
    node.needs_input_grad = tuple(t.requires_grad for _, t in tensors)
    node.in_meta = [(t.array.shape, t.array.dtype) for _, t in tensors]
    node.next_functions = tuple(edge(t) for _, t in tensors)
    node.inputs = [t for _, t in tensors]
    dirty = {id(t) for t in ctx._dirty}
    for _, t in tensors:
        if id(t) in dirty and t.is_leaf and t.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation "
                               f"(marked dirty in {cls.__name__}.forward): clone it first")
    non_diff = {id(t) for t in ctx._non_differentiable}
    input_ids = {id(t) for _, t in tensors}
    result, meta = [], []
    for nr, o in enumerate(outs):
        if not isinstance(o, Tensor):
            result.append(o)
            meta.append(((), None))
            continue
        if id(o) in input_ids and id(o) not in dirty:  # an input returned as it is: a new alias of it
            o = o.detach()
        meta.append((o.array.shape, o.array.dtype))
        if id(o) in non_diff:
            o.requires_grad = False
        elif o.array.dtype.kind == "f":
            o._ctx, o._out_nr, o.requires_grad = node, nr, True
        result.append(o)
    node.out_meta, node.n_outputs = meta, len(outs)
    return result[0] if single else tuple(result)


def once_differentiable(backward):
    """Mark a backward that cannot itself be differentiated (here: it runs with grad off, as every backward)."""
    @functools.wraps(backward)
    def run(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)

    return run


# ---- functions -------------------------------------------------------------------------------------------------------
def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _seeds(outputs, grad_outputs):
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(grad_outputs)} entries but there are {len(outputs)} outputs: "
                           "give one per output (None for a one-element output)")
    roots, grads = [], []
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append(t)
        grads.append(seed_grad(t, g))
    return roots, grads


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any .grad (torch.autograd.grad)."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported")
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported")
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("grad requires non-empty inputs.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    roots, seeds = _seeds(outputs, grad_outputs)
    edges = [edge(t) for t in inputs]
    found = run_engine(roots, seeds, builtins.bool(retain_graph), capture=edges)
    out = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if materialize_grads:
                out.append(autograd.Tensor._wrap(t.xp.zeros_like(t.array)))
                continue
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been used in "
                                   "the graph. Set allow_unused=True if this is the desired behavior.")
            out.append(None)
        else:
            out.append(autograd.Tensor._wrap(g.copy()))
    return tuple(out)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate the gradients of tensors into the leaves' .grad (torch.autograd.backward); with inputs=, only
    into those tensors' .grad."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported")
    tensors = _as_tuple(tensors)
    roots, seeds = _seeds(tensors, grad_tensors if grad_tensors is not None else grad_variables)
    run_into(roots, seeds, builtins.bool(retain_graph), None if inputs is None else _as_tuple(inputs))


def Variable(data, requires_grad=False, volatile=False):
    """torch's deprecated Variable: now just a Tensor (sharing data's storage), as torch's returns."""
    t = data.detach() if isinstance(data, autograd.Tensor) else autograd.Tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t
