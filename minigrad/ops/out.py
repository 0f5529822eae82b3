"""out= on the functions torch gives it: compute, then write into `out` as torch does.

`minigrad.add(a, b, out=c)` writes the result into c and returns c. As torch: c is resized when its shape
differs (with torch's warning if c had elements), the result is cast to c's dtype unless that would go
float -> int or int -> bool, and the call is refused while autograd would need a graph through c.
Only the minigrad.* functions take out=; Tensor methods and operators do not, as in torch.
"""
import functools
import warnings

from .. import dtypes
from ..autograd import is_grad_enabled
from ..tensor import Tensor
from . import arith, binary, compare, index, indexing, reduce, shape, stats, unary
from .softmax import log_softmax as _log_softmax, logsumexp as _logsumexp, softmax as _softmax

_AUTOGRAD_MSG = ("{}(): functions with out=... arguments don't support automatic differentiation, but one of the "
                 "arguments requires grad. Call it under minigrad.no_grad(), or drop out= and assign the result.")


def _requires_grad(values):
    for v in values:
        if isinstance(v, Tensor) and v.requires_grad:
            return True
        if isinstance(v, (list, tuple)) and _requires_grad(v):
            return True
    return False


def write_out(out, result, name):
    """Put result's values in `out` (resizing it if needed) and return out."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.backend != result.backend:
        raise RuntimeError(f"{name}(): out is on {out.device} but the result is on {result.device}")
    if dtypes.category(result.dtype) > dtypes.category(out.dtype):
        raise RuntimeError(f"{name}(): result type {dtypes.type_name(result.dtype)} can't be cast to the desired "
                           f"output type {dtypes.type_name(out.dtype)}")
    if out.shape != result.shape:
        if out.numel():
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                          f"which does not match the required output shape {list(result.shape)}. Pass an out "
                          "tensor of the result's shape, or one with zero elements, to avoid this warning.",
                          UserWarning, stacklevel=3)
        out.array = out.xp.empty(result.shape, dtype=out.array.dtype)
    out.array[...] = result.array  # in place, so views of out (from_numpy arrays) see the values
    out._vc[0] += 1
    return out


def with_out(fn, name=None, needs_dim=False):
    """fn with torch's keyword-only out=; needs_dim: torch takes out= only with a dim (torch.sum)."""
    name = name or fn.__name__

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if needs_dim and len(args) < 2 and kwargs.get("dim", kwargs.get("axis")) is None:
            raise TypeError(f"{name}(): out= needs dim, as in torch.{name}(x, dim, out=...)")
        if is_grad_enabled() and _requires_grad((*args, *kwargs.values(), out)):
            raise RuntimeError(_AUTOGRAD_MSG.format(name))
        result = fn(*args, **kwargs)
        if isinstance(result, tuple):  # max/min along a dim: out=(values, indices)
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{name}(): out= must be a tuple of {len(result)} Tensors here")
            return type(result)(*(write_out(o, r, name) for o, r in zip(out, result)))
        return write_out(out, result, name)

    return call


add, sub, mul, div, pow, neg, matmul = (
    with_out(f) for f in (arith.add, arith.sub, arith.mul, arith.div, arith.pow, arith.neg, arith.matmul))
mm, multiply, divide, subtract = (
    with_out(f, n) for f, n in ((arith.matmul, "mm"), (arith.mul, "multiply"), (arith.div, "divide"),
                                (arith.sub, "subtract")))
exp, log, log1p, sqrt, abs, clamp, clip, clamp_min, clamp_max, maximum, minimum, sigmoid, tanh, square = (
    with_out(getattr(unary, n), n) for n in ("exp", "log", "log1p", "sqrt", "abs", "clamp", "clip", "clamp_min",
                                             "clamp_max", "maximum", "minimum", "sigmoid", "tanh", "square"))
sum = with_out(reduce.sum, needs_dim=True)
mean, max, min, amax, amin, argmax, argmin, cumsum, norm = (
    with_out(getattr(reduce, n), n) for n in ("mean", "max", "min", "amax", "amin", "argmax", "argmin", "cumsum",
                                              "norm"))
logsumexp, softmax, log_softmax = (with_out(f, n) for f, n in (
    (_logsumexp, "logsumexp"), (_softmax, "softmax"), (_log_softmax, "log_softmax")))
std, var = (with_out(getattr(stats, n), n) for n in ("std", "var"))
cat, concat, concatenate, stack = (with_out(getattr(shape, n), n) for n in ("cat", "concat", "concatenate", "stack"))
(eq, ne, lt, le, gt, ge, greater, less, logical_and, logical_or, logical_not, bitwise_not, all, any) = (
    with_out(getattr(compare, n), n) for n in (
        "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "logical_and", "logical_or", "logical_not",
        "bitwise_not", "all", "any"))
floor, ceil, round, sign = (with_out(getattr(unary, n), n) for n in ("floor", "ceil", "round", "sign"))
reciprocal, floor_divide = (with_out(getattr(arith, n), n) for n in ("reciprocal", "floor_divide"))
remainder = with_out(binary.remainder, "remainder")
where = with_out(indexing.where, "where")  # where(cond) alone too: nonzero(cond, as_tuple=True)
gather, index_select, take_along_dim, scatter, scatter_add = (
    with_out(getattr(index, n), n) for n in ("gather", "index_select", "take_along_dim", "scatter",
                                             "scatter_add"))

__all__ = [n for n, v in list(globals().items()) if callable(v) and getattr(v, "__wrapped__", None) is not None]
