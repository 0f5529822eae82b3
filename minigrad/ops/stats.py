"""Reductions and scans beyond reduce.py: var std (composed of primitive ops) nansum nanmean aminmax std_mean var_mean dist diff logcumsumexp
quantile nanquantile cov corrcoef. Composed from existing ops where torch composes them."""
import builtins as _b
from collections import namedtuple

from ..autograd import Function
from ..tensor import Tensor
from . import reduce as R
from .index import _dim

_MinMax = namedtuple("aminmax", ["min", "max"])


class NanSum(Function):
    """y = sum of x over dim with NaN counted as 0 (integers sum in int64); NaN elements get gradient 0."""
    torch_name = "NansumBackward0"

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        self.axes = R._axes(self.dim, x.ndim)
        self.x = x
        return self.xp.nansum(x, axis=self.axes, keepdims=self.keepdim, dtype=R._int_acc(x))

    def backward(self, gy):
        # d nansum(x)/dx = 1 where x is not NaN, 0 where it is
        g = R._restore(gy, self.x.shape, self.axes, self.keepdim)
        return self.xp.where(self.xp.isnan(self.x), 0, g)


class LogCumSumExp(Function):
    """y = log(cumsum(exp(x))) along dim, shifted by the max so exp never overflows."""
    torch_name = "LogcumsumexpBackward0"
    float_only = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = self.xp
        xs = xp.moveaxis(x, self.dim, -1)
        m = xp.max(xs, axis=-1, keepdims=True) if xs.size else xs
        m = xp.where(xp.isfinite(m), m, 0)
        y = xp.log(xp.cumsum(xp.exp(xs - m), axis=-1)) + m  # shift by the max so exp never overflows
        self.x, self.y = xs, y
        return xp.moveaxis(y, -1, self.dim)

    def backward(self, gy):
        # dy_j/dx_i = exp(x_i - y_j) for j >= i:  dL/dx_i = sum_{j >= i} gy_j exp(x_i - y_j)  (each term <= |gy_j|)
        xp = self.xp
        g = xp.moveaxis(gy, self.dim, -1)
        n = g.shape[-1]
        later = xp.arange(n)[:, None] <= xp.arange(n)[None, :]  # [i, j]: j >= i
        w = xp.where(later, xp.exp(self.x[..., :, None] - self.y[..., None, :]), 0)
        return xp.moveaxis((w * g[..., None, :]).sum(axis=-1), -1, self.dim)


@R.torch_aliases
def nansum(input, dim=None, keepdim=False, dtype=None):
    """sum treating NaN as 0."""
    return NanSum(dim, keepdim)(input if dtype is None else input.to(dtype))


@R.torch_aliases
def nanmean(input, dim=None, keepdim=False, dtype=None):
    """mean of the non-NaN elements (nansum / count), as torch composes it."""
    from .arith import div
    from .compare import isnan, logical_not

    x = input if dtype is None else input.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {x.dtype}")
    count = R.sum(logical_not(isnan(x)), dim, keepdim)
    return div(nansum(x, dim, keepdim), count)


@R.torch_aliases
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over all elements or one dim (the gradients of amin and amax)."""
    if input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    return _MinMax(R.amin(input, dim, keepdim), R.amax(input, dim, keepdim))


@R.torch_aliases
def var_mean(input, dim=None, *, correction=None, unbiased=None, keepdim=False):
    """(var, mean) over dim (all elements if None); correction 1 (Bessel) by default, as torch."""
    return var(input, dim, unbiased, keepdim, correction), R.mean(input, dim, keepdim)


@R.torch_aliases
def std_mean(input, dim=None, *, correction=None, unbiased=None, keepdim=False):
    """(std, mean) over dim (all elements if None); correction 1 (Bessel) by default, as torch."""
    return std(input, dim, unbiased, keepdim, correction), R.mean(input, dim, keepdim)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast)."""
    from ..linalg import vector_norm
    from .arith import sub

    return vector_norm(sub(input, other), p)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim: x[1:] - x[:-1], n times (after prepend/append)."""
    from .arith import sub
    from .shape import cat, getitem

    d = _dim(dim, input.ndim)
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    pre = (slice(None),) * d
    for _ in range(n):
        if x.shape[d] == 0:
            break
        if x.dtype.kind == "b":
            x = getitem(x, pre + (slice(1, None),)) != getitem(x, pre + (slice(None, -1),))
        else:
            x = sub(getitem(x, pre + (slice(1, None),)), getitem(x, pre + (slice(None, -1),)))
    return x


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) along dim, without overflow."""
    if input.ndim == 0:
        return LogCumSumExp(0)(input.reshape(1)).reshape(())
    return LogCumSumExp(_dim(dim, input.ndim))(input)


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    """Sort, then interpolate between the two order statistics around q (n - 1), as torch's composition."""
    from .arith import add, mul, sub
    from .shape import reshape
    from .index import gather
    from .sorting import sort

    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                         f"Got {interpolation}")
    qs = q.array.reshape(-1) if isinstance(q, Tensor) else input.xp.asarray([q], dtype=input.array.dtype).reshape(-1)
    if qs.size and (float(qs.min()) < 0 or float(qs.max()) > 1):
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    x = reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else _dim(dim, input.ndim)
    s = sort(x, d).values
    xp = input.xp
    nan = xp.isnan(x.array).sum(axis=d, keepdims=True)
    n = (x.shape[d] - nan) if ignore_nan else xp.full_like(nan, x.shape[d])
    outs = []
    for qv in qs.tolist():
        rank = qv * (n - 1).astype(input.array.dtype)
        lo = xp.floor(rank)
        if interpolation == "nearest":
            lo = xp.round(rank)
        hi = xp.ceil(rank) if interpolation != "nearest" else lo
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        w = {"linear": rank - lo, "midpoint": xp.where(hi > lo, 0.5, 0.0)}.get(interpolation, xp.zeros_like(rank))
        bad = (n == 0) | (xp.isnan(x.array).any(axis=d, keepdims=True) & (not ignore_nan))
        top = x.shape[d] - 1
        ilo = xp.clip(xp.where(bad, top, lo), 0, top).astype("int64")
        ihi = xp.clip(xp.where(bad, top, hi), 0, top).astype("int64")
        a, b = gather(s, d, Tensor._wrap(ilo)), gather(s, d, Tensor._wrap(ihi))
        w = Tensor._wrap(w.astype(input.array.dtype))
        v = add(a, mul(sub(b, a), w))
        outs.append(v if keepdim and dim is not None else reshape(v, tuple(m for i, m in enumerate(v.shape) if i != d)))
    if dim is None and keepdim:
        outs = [reshape(o, (1,) * input.ndim) for o in outs]
    if isinstance(q, Tensor) and q.ndim:
        from .shape import stack

        return stack(outs, 0)
    return outs[0]


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-quantile(s) along dim (all elements if None); NaN if any value along dim is NaN."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"quantile() input tensor must be either float or double dtype, got {input.dtype}")
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaN."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"quantile() input tensor must be either float or double dtype, got {input.dtype}")
    return _quantile(input, q, dim, keepdim, interpolation, True)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) of a 1-d or 2-d tensor over its columns (observations)."""
    from .arith import div, matmul, sub

    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov(): fweights / aweights are not supported")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    x = x if x.dtype.kind == "f" else x.float()
    centered = sub(x, R.mean(x, 1, keepdim=True))
    c = div(matmul(centered, centered.t()), max(x.shape[1] - correction, 0))
    return c.reshape(()) if input.ndim < 2 else c


def corrcoef(input):
    """Pearson correlation of the rows: cov / (std_i std_j), clipped to [-1, 1] as torch."""
    from .arith import div
    from .rearrange import diagonal
    from .shape import unsqueeze
    from .unary import clamp, sqrt

    c = cov(input)
    if c.ndim == 0:
        return div(c, c)
    d = sqrt(diagonal(c))
    return clamp(div(div(c, unsqueeze(d, 1)), unsqueeze(d, 0)), -1, 1)


def renorm(input, p, dim, maxnorm):
    """Each slice along dim rescaled to p-norm maxnorm where its norm exceeds it (torch's factor
    maxnorm / (norm + 1e-7)); composed, so the gradient runs through the norm too."""
    from ..linalg import vector_norm
    from .arith import div, mul
    from .index import where

    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    d = _dim(dim, input.ndim)
    norm = vector_norm(input, p, dim=tuple(i for i in range(input.ndim) if i != d), keepdim=True)
    factor = where(norm > maxnorm, div(float(maxnorm), norm + 1e-7), 1.0)
    return mul(input, factor)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences along each dim (one-sided at the edges, of order edge_order), as a tuple of tensors.
    spacing: one number, or one number per dim (coordinate tensors are not supported)."""
    from .arith import add, div, mul, sub
    from .shape import cat, getitem

    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [_dim(d, input.ndim) for d in dims]
    hs = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(hs) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or a list of length "
                           f"{len(dims)}, but got a list of length {len(hs)}")
    if any(isinstance(h, Tensor) for h in hs):
        raise NotImplementedError("torch.gradient with coordinate tensors as spacing is not supported: pass numbers")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    out = []
    for d, h in zip(dims, hs):
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")

        def at(i, d=d):  # the slice i:i+1 along d (i may be negative)
            return getitem(input, (slice(None),) * d + (slice(i, i + 1 if i != -1 else None),))

        n = input.shape[d]
        inner_hi, inner_lo = getitem(input, (slice(None),) * d + (slice(2, n),)), getitem(
            input, (slice(None),) * d + (slice(0, n - 2),))
        h = float(h)
        inner = div(sub(inner_hi, inner_lo), 2 * h)
        if edge_order == 1:  # (x1 - x0) / h and (x[-1] - x[-2]) / h
            first, last = div(sub(at(1), at(0)), h), div(sub(at(-1), at(-2)), h)
        else:  # (-3 x0 + 4 x1 - x2) / 2h and (3 x[-1] - 4 x[-2] + x[-3]) / 2h
            first = div(sub(sub(mul(at(1), 4.0), mul(at(0), 3.0)), at(2)), 2 * h)
            last = div(add(sub(mul(at(-1), 3.0), mul(at(-2), 4.0)), at(-3)), 2 * h)
        out.append(cat([first, inner, last], d))
    return tuple(out)


@R.torch_aliases
def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance from primitives (mean, sub, mul, sum), so its gradient is the composition's."""
    from .arith import div, mul, sub

    c = 1 if correction is None and unbiased is None else (correction if correction is not None else int(unbiased))
    d = sub(x, R.mean(x, dim, keepdim=True))
    n = x.array.size // _b.max(1, R._reduced_size(x, dim))  # elements per reduced group
    return div(R.sum(mul(d, d), dim, keepdim), _b.max(n - c, 0))


@R.torch_aliases
def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """sqrt(var(x)) over all elements or dims; correction 1 (Bessel) by default, as torch; unbiased=False or
    correction=0 for the population std. Where the spread is 0 the gradient is 0, as torch's (not 0/0)."""
    return StdFromVar()(var(x, dim, unbiased, keepdim, correction))


class StdFromVar(Function):
    """y = sqrt(v) for a variance v (std's last step); torch's StdBackward0 gradient, 0 where y == 0."""
    torch_name = "StdBackward0"

    def forward(self, v):
        self.y = self.xp.sqrt(v)
        return self.y

    def backward(self, gy):
        # d sqrt(v)/dv = 1 / (2 sqrt(v)), and 0 where sqrt(v) == 0 (torch masks it there)
        y = self.y
        return self.xp.where(y == 0, y.dtype.type(0), gy / (2 * self.xp.where(y == 0, y.dtype.type(1), y)))
