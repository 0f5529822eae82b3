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
    """a == b elementwise, a bool tensor with no gradient; shapes broadcast, either may be a number."""
    return nograd_binary(a, b, "equal")


def ne(a, b):
    """a != b elementwise, a bool tensor with no gradient; shapes broadcast."""
    return nograd_binary(a, b, "not_equal")


def lt(a, b):
    """a < b elementwise, a bool tensor with no gradient; shapes broadcast. less is the same."""
    return nograd_binary(a, b, "less")


def le(a, b):
    """a <= b elementwise, a bool tensor with no gradient; shapes broadcast."""
    return nograd_binary(a, b, "less_equal")


def gt(a, b):
    """a > b elementwise, a bool tensor with no gradient; shapes broadcast. greater is the same."""
    return nograd_binary(a, b, "greater")


def ge(a, b):
    """a >= b elementwise, a bool tensor with no gradient; shapes broadcast."""
    return nograd_binary(a, b, "greater_equal")


greater, less = gt, lt


def equal(a, b):
    """True if a and b have the same shape and elements (a Python bool, as torch.equal)."""
    return a.shape == b.shape and builtins.bool(a.xp.array_equal(a.array, b.array))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b| elementwise, a bool tensor; equal_nan=True counts NaN == NaN."""
    first = a if isinstance(a, Tensor) else b
    ta, tb = as_operand(a, first), as_operand(b, first)
    return Tensor._wrap(first.xp.isclose(ta.array, tb.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol |b| everywhere (a Python bool, as torch.allclose)."""
    return builtins.bool(isclose(a, b, rtol, atol, equal_nan).array.all())


def logical_op(a, b, name):
    """xp.<name>(a, b) with no gradient: Tensor's &, | and ^ (bitwise_and, bitwise_or, bitwise_xor)."""
    return nograd_binary(a, b, name)


def logical_and(a, b):
    """a and b elementwise (nonzero is True), a bool tensor with no gradient."""
    return nograd_binary(a, b, "logical_and")


def logical_or(a, b):
    """a or b elementwise (nonzero is True), a bool tensor with no gradient."""
    return nograd_binary(a, b, "logical_or")


def logical_not(x):
    """not x elementwise (nonzero is True), a bool tensor with no gradient."""
    return Tensor._wrap(x.xp.logical_not(x.array))


def bitwise_not(x):
    """~x: the bits inverted for integers, logical not for bool; no gradient."""
    return Tensor._wrap(x.xp.invert(x.array))


def nograd_unary(name):
    """An elementwise function x -> xp.<name>(x) with no gradient (isnan, floor, sign, ...)."""
    def fn(x):
        return Tensor._wrap(getattr(x.xp, name)(x.array))

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} (no gradient, as its derivative is 0 almost everywhere)."
    return fn


isnan, isinf, isfinite = nograd_unary("isnan"), nograd_unary("isinf"), nograd_unary("isfinite")


@torch_aliases
def all(x, dim=None, keepdim=False):
    """True where every element (of x, or along dim) is nonzero; a bool tensor."""
    return Tensor._wrap(x.xp.all(x.array, axis=dim, keepdims=keepdim))


@torch_aliases
def any(x, dim=None, keepdim=False):
    """True where some element (of x, or along dim) is nonzero; a bool tensor."""
    return Tensor._wrap(x.xp.any(x.array, axis=dim, keepdims=keepdim))
