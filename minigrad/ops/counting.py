"""Counting and bucketing (no gradient, as in torch): searchsorted bucketize bincount histc histogram(dd) unique
unique_consecutive isin count_nonzero, and the float tests isposinf isneginf isreal, frexp."""
import builtins
from collections import namedtuple

import numpy

from ..tensor import Tensor, as_operand
from .index import _dim


_Histogram = namedtuple("histogram", ["hist", "bin_edges"])
builtins_range = builtins.range  # histogramdd's `range` argument shadows the builtin there


def _wrap(a, dtype=None):
    return Tensor._wrap(a if dtype is None else a.astype(dtype))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Insertion points of input's values into the sorted last dim of sorted_sequence (left: first place)."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites")
        right = side == "right"
    seq = sorted_sequence.array
    xp = sorted_sequence.xp
    values = as_operand(input, sorted_sequence).array
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter.array, axis=-1)
    kind, dt = ("right" if right else "left"), ("int32" if out_int32 else "int64")
    if seq.ndim == 1:
        return _wrap(xp.searchsorted(seq, values, side=kind), dt)
    if seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries {list(seq.shape)} and input value {list(values.shape)} "
                           "must have the same leading dims")
    rows = seq.reshape(-1, seq.shape[-1])
    vals = values.reshape(-1, values.shape[-1])
    out = xp.stack([xp.searchsorted(r, v, side=kind) for r, v in zip(rows, vals)]) if rows.shape[0] else vals
    return _wrap(out.reshape(values.shape), dt)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket index of each value: boundaries[i-1] < x <= boundaries[i] (right=True: <= x <)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    """Count of each value 0..max in a 1-d non-negative integer tensor (sums of weights if given)."""
    if input.ndim != 1 or input.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {input.ndim}-d "
                           f"{input.dtype}")
    xp, a = input.xp, input.array
    if a.size and int(a.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _wrap(xp.bincount(a, minlength=minlength), "int64")
    w = weights.array
    out_dtype = w.dtype if w.dtype.kind == "f" else numpy.dtype("float64")  # torch: integer weights count in double
    n = max(int(a.max()) + 1 if a.size else 0, minlength)
    out = xp.zeros(n, dtype=out_dtype)
    xp.add.at(out, a, w.astype(out_dtype))  # element by element in the weights' dtype, as torch's loop
    return _wrap(out)


def histc(input, bins=100, min=0, max=0):
    """Histogram of bins equal-width bins over [min, max] (both 0: the data's range); values outside are left
    out; a float tensor of input's dtype."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"torch.histc: input tensor and bins tensors should have the same dtype, got {input.dtype}")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins}")
    xp, x = input.xp, input.array.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc(): max must be larger than min, got min {min} and max {max}")
    x = x[(x >= lo) & (x <= hi)]
    # torch's formula, in the input's dtype: floor((x - lo) / (hi - lo) * bins), x == hi in the last bin
    lo_, hi_ = xp.asarray(lo, dtype=x.dtype), xp.asarray(hi, dtype=x.dtype)
    pos = xp.floor((x - lo_) / (hi_ - lo_) * bins).astype("int64")
    pos = xp.clip(pos, 0, bins - 1)
    return _wrap(xp.bincount(pos, minlength=bins), input.array.dtype)


def histogram(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): bins an int (equal widths over range or the data's range) or a 1-d tensor of edges."""
    hist, edges = histogramdd(input.reshape(-1, 1), bins if isinstance(bins, int) else [bins], range=range,
                              weight=weight, density=density)
    return _Histogram(hist, edges[0])


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of the points in input's rows (last dim D): bins an int, D ints or D tensors of edges;
    range [min_0, max_0, min_1, ...]; each bin holds lo <= x < hi, the last one its upper edge too."""
    xp, dtype = input.xp, input.array.dtype
    pts = input.array.reshape(-1, input.shape[-1])
    n_dims = pts.shape[1]
    bins = [bins] * n_dims if isinstance(bins, int) else list(bins)
    if len(bins) != n_dims:
        raise RuntimeError(f"torch.histogramdd(): expected {n_dims} sequences of bin edges or bin counts, got "
                           f"{len(bins)}")
    keep, flat, edges, shape = xp.ones(pts.shape[0], dtype=bool), xp.zeros(pts.shape[0], dtype="int64"), [], []
    for d, b in enumerate(bins):
        x = pts[:, d]
        if isinstance(b, Tensor):
            e = b.array
        else:
            lo, hi = (float(range[2 * d]), float(range[2 * d + 1])) if range is not None else (
                (float(x.min()), float(x.max())) if x.size else (0.0, 0.0))
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5  # numpy's and torch's widening of an empty range
            e = _linspace(xp, lo, hi, int(b) + 1, dtype)
        n = e.shape[0] - 1
        pos = xp.where(x == e[-1], n - 1, xp.searchsorted(e, x, side="right") - 1)
        keep = keep & (pos >= 0) & (pos < n) & (x >= e[0]) & (x <= e[-1])
        flat = flat * n + xp.clip(pos, 0, n - 1)
        edges.append(e)
        shape.append(n)
    hist = xp.zeros(int(numpy.prod(shape)), dtype=dtype)
    w = xp.ones(pts.shape[0], dtype=dtype) if weight is None else weight.array.reshape(-1).astype(dtype)
    xp.add.at(hist, flat[keep], w[keep])  # in the dtype, point by point
    hist = hist.reshape(shape)
    if density:  # torch's order: by the total, then by each dim's bin widths
        hist = hist / hist.sum()
        for d, e in enumerate(edges):
            hist = hist / xp.diff(e).reshape([-1 if i == d else 1 for i in builtins_range(n_dims)])
    return _Histogram(_wrap(hist.astype(dtype)), [_wrap(e) for e in edges])


def _linspace(xp, start, end, steps, dtype):
    """torch's linspace kernel in the dtype: start + i * step for the first half, end - (steps - 1 - i) * step after."""
    lo, hi = xp.asarray(start, dtype=dtype), xp.asarray(end, dtype=dtype)
    step = (hi - lo) / dtype.type(steps - 1)
    i = xp.arange(steps)
    return xp.where(i < steps // 2, lo + step * i.astype(dtype), hi - step * (steps - 1 - i).astype(dtype))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), with the inverse indices and counts if asked for."""
    xp = input.xp
    a = input.array
    if dim is None:
        vals, inv, counts = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        d = _dim(dim, input.ndim)
        moved = xp.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        vals, inv, counts = xp.unique(moved, return_inverse=True, return_counts=True, axis=0)
        vals = xp.moveaxis(vals.reshape((-1,) + tuple(xp.moveaxis(a, d, 0).shape[1:])), 0, d)
        inv = inv.reshape(-1)
    out = (_wrap(vals),)
    if return_inverse:
        out += (_wrap(inv, "int64"),)
    if return_counts:
        out += (_wrap(counts, "int64"),)
    return out[0] if len(out) == 1 else out


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (flattened when dim is None)."""
    xp = input.xp
    d = 0 if dim is None else _dim(dim, input.ndim)
    a = input.array.reshape(-1) if dim is None else xp.moveaxis(input.array, d, 0)
    flat = a.reshape(a.shape[0], -1)
    if a.shape[0] == 0:
        starts = xp.zeros(0, dtype=bool)
    else:
        starts = xp.concatenate([xp.ones(1, dtype=bool), (flat[1:] != flat[:-1]).any(axis=1)])
    vals = a[starts]
    if dim is not None:
        vals = xp.moveaxis(vals, 0, d)
    out = (_wrap(vals),)
    if return_inverse:
        inv = xp.cumsum(starts) - 1
        out += (_wrap(inv.reshape(input.shape) if dim is None else inv, "int64"),)
    if return_counts:
        pos = xp.concatenate([xp.nonzero(starts)[0], xp.asarray([a.shape[0]])])
        out += (_wrap(xp.diff(pos), "int64"),)
    return out[0] if len(out) == 1 else out


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of `elements` is in test_elements."""
    first = elements if isinstance(elements, Tensor) else test_elements
    a, b = as_operand(elements, first).array, as_operand(test_elements, first).array
    return _wrap(first.xp.isin(a, b, invert=invert))


def count_nonzero(input, dim=None):
    """Number of nonzero elements (over dims if given), int64."""
    return _wrap(input.xp.asarray(input.xp.count_nonzero(input.array, axis=dim)), "int64")  # NumPy 1: an int


def isposinf(input):
    """True where input is +inf; a bool tensor, no gradient."""
    return _wrap(input.xp.isposinf(input.array))


def isneginf(input):
    """True where input is -inf; a bool tensor, no gradient."""
    return _wrap(input.xp.isneginf(input.array))


def isreal(input):
    """True everywhere for a real tensor."""
    return _wrap(input.xp.ones(input.shape, dtype=bool))


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1); no gradient."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got {input.dtype}")
    m, e = input.xp.frexp(input.array)
    from collections import namedtuple

    return namedtuple("frexp", ["mantissa", "exponent"])(_wrap(m), _wrap(e, "int32"))
