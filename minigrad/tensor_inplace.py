"""Tensor's in-place ops, as torch's: views see the change, the version counter counts it, autograd records it.

One mechanism, `_apply_`: the op runs out of place on a snapshot of the old value (its node is the gradient) and
the result is written into the tensor's own storage; through a view the base gets torch's CopySlices node.
"""
from . import dtypes
from .autograd import edge
from .grad_mode import _state
from .views import CopySlices, refresh_view

Tensor = ops = None  # set by tensor_ops.setup_tensor(): Tensor is built from this mixin, and ops make Tensors


class InPlaceOps:
    """Mixin for Tensor: add_, mul_, zero_, x += y, x[i] = v, ..."""

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
        """Fill self with zeros in place; return self."""
        return self._apply_(ops.mutate.zero)

    def fill_(self, value):
        """Fill self with value (a number or a 0-d tensor) in place; return self."""
        return self._apply_(lambda x: ops.mutate.fill(x, value), value)

    def copy_(self, src, non_blocking=False):
        """Copy src into self in place: broadcast to self's shape, cast to its dtype, moved to its device."""
        src = src.to(self.device) if isinstance(src, Tensor) else src
        return self._apply_(lambda x: ops.mutate.copy(x, src), src)

    def add_(self, other, alpha=1):
        """self += alpha * other in place (other broadcasts to self's shape; self keeps its dtype)."""
        return self._apply_(lambda x: ops.add(x, other if alpha == 1 else other * alpha), other)

    def sub_(self, other, alpha=1):
        """self -= alpha * other in place (other broadcasts to self's shape; self keeps its dtype)."""
        return self._apply_(lambda x: ops.sub(x, other if alpha == 1 else other * alpha), other)

    def mul_(self, other):
        """self *= other in place (other broadcasts to self's shape; self keeps its dtype)."""
        return self._apply_(lambda x: ops.mul(x, other), other)

    def div_(self, other, rounding_mode=None):
        """self /= other in place; an integer self needs rounding_mode (a float result is refused, as torch)."""
        return self._apply_(lambda x: ops.div(x, other, rounding_mode=rounding_mode), other)

    def pow_(self, exponent):
        """self = self ** exponent in place; return self."""
        return self._apply_(lambda x: ops.pow(x, exponent), exponent)

    def clamp_(self, min=None, max=None):
        """Clamp self into [min, max] in place (either may be None); clip_ is the same."""
        return self._apply_(lambda x: ops.clamp(x, min, max), min, max)

    clip_ = clamp_

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        """In-place scatter: self[index[i][j]][j] = src[i][j] (dim 0), or = value."""
        return self._apply_(lambda x: ops.scatter(x, dim, index, src, value=value, reduce=reduce), src)

    def scatter_add_(self, dim, index, src):
        """In-place scatter_add: self[index[i][j]][j] += src[i][j] (dim 0); repeated indices add up."""
        return self._apply_(lambda x: ops.scatter_add(x, dim, index, src), src)

    def masked_fill_(self, mask, value):
        """Write value where mask is True, in place; mask broadcasts to self's shape."""
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
