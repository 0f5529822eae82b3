"""Comparisons and logic (== < isclose isnan logical_and all any): results carry no gradient.

nograd_binary / nograd_unary also serve arith's floor_divide, remainder and unary's floor, ceil, sign.
"""
import builtins

from ..tensor import Tensor, as_operand
from .reduce import torch_aliases


def nograd_binary(a, b, name):
    """xp.<name>(a, b) on two operands of one backend; the result carries no gradient."""
    first = a if isinstance(a, Tensor) else b
    ta, tb = as_operand(a, first), as_operand(b, first)
    if ta.backend != tb.backend:
        raise RuntimeError(f"{name}: expected all tensors to be on the same device, but found "
                           f"tensors on {ta.backend} and {tb.backend}")
    return Tensor._wrap(getattr(first.xp, name)(ta.array, tb.array))


def eq(a, b):
    return nograd_binary(a, b, "equal")


def ne(a, b):
    return nograd_binary(a, b, "not_equal")


def lt(a, b):
    return nograd_binary(a, b, "less")


def le(a, b):
    return nograd_binary(a, b, "less_equal")


def gt(a, b):
    return nograd_binary(a, b, "greater")


def ge(a, b):
    return nograd_binary(a, b, "greater_equal")


greater, less = gt, lt


def equal(a, b):
    """True if a and b have the same shape and elements (a Python bool, as torch.equal)."""
    return a.shape == b.shape and builtins.bool(a.xp.array_equal(a.array, b.array))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    first = a if isinstance(a, Tensor) else b
    ta, tb = as_operand(a, first), as_operand(b, first)
    return Tensor._wrap(first.xp.isclose(ta.array, tb.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol |b| everywhere (a Python bool, as torch.allclose)."""
    return builtins.bool(isclose(a, b, rtol, atol, equal_nan).array.all())


def logical_op(a, b, name):
    return nograd_binary(a, b, name)


def logical_and(a, b):
    return nograd_binary(a, b, "logical_and")


def logical_or(a, b):
    return nograd_binary(a, b, "logical_or")


def logical_not(x):
    return Tensor._wrap(x.xp.logical_not(x.array))


def bitwise_not(x):
    return Tensor._wrap(x.xp.invert(x.array))


def nograd_unary(name):
    def fn(x):
        return Tensor._wrap(getattr(x.xp, name)(x.array))

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} (no gradient, as its derivative is 0 almost everywhere)."
    return fn


isnan, isinf, isfinite = nograd_unary("isnan"), nograd_unary("isinf"), nograd_unary("isfinite")


@torch_aliases
def all(x, dim=None, keepdim=False):
    return Tensor._wrap(x.xp.all(x.array, axis=dim, keepdims=keepdim))


@torch_aliases
def any(x, dim=None, keepdim=False):
    return Tensor._wrap(x.xp.any(x.array, axis=dim, keepdims=keepdim))
