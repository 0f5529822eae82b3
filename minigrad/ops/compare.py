"""Comparisons, logic and rounding: results carry no gradient. Plus where / masked_fill."""
import builtins

from ..autograd import Function
from ..tensor import Tensor, as_operand
from .. import dtypes
from .reduce import torch_aliases


def _binary_nograd(a, b, name):
    first = a if isinstance(a, Tensor) else b
    ta, tb = as_operand(a, first), as_operand(b, first)
    if ta.backend != tb.backend:
        raise RuntimeError(f"{name}: expected all tensors to be on the same device, but found "
                           f"tensors on {ta.backend} and {tb.backend}")
    return Tensor._wrap(getattr(first.xp, name)(ta.data, tb.data))


def eq(a, b):
    return _binary_nograd(a, b, "equal")


def ne(a, b):
    return _binary_nograd(a, b, "not_equal")


def lt(a, b):
    return _binary_nograd(a, b, "less")


def le(a, b):
    return _binary_nograd(a, b, "less_equal")


def gt(a, b):
    return _binary_nograd(a, b, "greater")


def ge(a, b):
    return _binary_nograd(a, b, "greater_equal")


greater, less = gt, lt


def equal(a, b):
    """True if a and b have the same shape and elements (a Python bool, as torch.equal)."""
    return a.shape == b.shape and builtins.bool(a.xp.array_equal(a.data, b.data))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    first = a if isinstance(a, Tensor) else b
    ta, tb = as_operand(a, first), as_operand(b, first)
    return Tensor._wrap(first.xp.isclose(ta.data, tb.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol |b| everywhere (a Python bool, as torch.allclose)."""
    return builtins.bool(isclose(a, b, rtol, atol, equal_nan).data.all())


def logical_op(a, b, name):
    return _binary_nograd(a, b, name)


def logical_and(a, b):
    return _binary_nograd(a, b, "logical_and")


def logical_or(a, b):
    return _binary_nograd(a, b, "logical_or")


def logical_not(x):
    return Tensor._wrap(x.xp.logical_not(x.data))


def bitwise_not(x):
    return Tensor._wrap(x.xp.invert(x.data))


def floor_divide(a, b):
    return _binary_nograd(a, b, "floor_divide")


def remainder(a, b):
    return _binary_nograd(a, b, "remainder")


def _unary_nograd(name):
    def fn(x):
        return Tensor._wrap(getattr(x.xp, name)(x.data))

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} (no gradient, as its derivative is 0 almost everywhere)."
    return fn


isnan, isinf, isfinite = _unary_nograd("isnan"), _unary_nograd("isinf"), _unary_nograd("isfinite")
floor, ceil, sign = _unary_nograd("floor"), _unary_nograd("ceil"), _unary_nograd("sign")


def round(x, decimals=0):
    return Tensor._wrap(x.xp.round(x.data, decimals))


@torch_aliases
def all(x, dim=None, keepdim=False):
    return Tensor._wrap(x.xp.all(x.data, axis=dim, keepdims=keepdim))


@torch_aliases
def any(x, dim=None, keepdim=False):
    return Tensor._wrap(x.xp.any(x.data, axis=dim, keepdims=keepdim))


class Where(Function):
    torch_name = "WhereBackward0"

    def forward(self, cond, a, b):
        self.cond = cond.astype(bool, copy=False)
        return self.xp.where(self.cond, a, b)

    def backward(self, gy):
        # the gradient flows to whichever input was chosen
        xp = self.xp
        return None, xp.where(self.cond, gy, 0), xp.where(self.cond, 0, gy)


def where(cond, a, b):
    first = a if isinstance(a, Tensor) else (b if isinstance(b, Tensor) else cond)
    ta, tb = as_operand(a, first), as_operand(b, first)
    want = dtypes.promote_types(ta.dtype, tb.dtype, ta.ndim == 0, tb.ndim == 0)
    return Where()(as_operand(cond, first), ta.to(want), tb.to(want))


def masked_fill(x, mask, value):
    y = where(mask, as_operand(value, x).to(x.dtype), x)
    if y._ctx is not None:
        y._ctx.torch_name = "MaskedFillBackward0"  # the same selection under torch's name for it
    return y


def reciprocal(x):
    from .arith import div

    return div(1.0, x)
