"""Index ops along a dim: index_add index_copy index_fill scatter_reduce index_reduce, and masked_select take
nonzero argwhere select_scatter slice_scatter. For a 1-d index along dim 0: index_add: y[index[i]] += alpha * source[i];
index_copy: y[index[i]] = source[i]; index_fill: y[index[i]] = value."""
import builtins

from ..autograd import Function
from ..tensor import Tensor, as_operand
from . import shape as S
from .index import _coords, _dim, _index, _pad_to, _src_part, where as _where
from .mutate import index_put


def _at(dim, index):
    """The NumPy index that addresses rows `index` along dim."""
    return (builtins.slice(None),) * dim + (index,)


class IndexAdd(Function):
    """y = x with y[index[i]] += alpha * source[i] along dim (repeated indices add up)."""
    torch_name = "IndexAddBackward0"

    def __init__(self, dim, index, alpha):
        self.dim, self.index, self.alpha = dim, index, alpha

    def forward(self, x, source):
        y = x.copy()
        self.xp.add.at(y, _at(self.dim, self.index), source * self.alpha if self.alpha != 1 else source)
        return y

    def backward(self, gy):
        # dy/dx = 1;  dy/dsource[i] = alpha at row index[i]
        return gy, self.xp.take(gy, self.index, axis=self.dim) * self.alpha


class IndexCopy(Function):
    """y = x with y[index[i]] = source[i] along dim; the overwritten rows pass their gradient to source."""
    torch_name = "IndexCopyBackward0"

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x, source):
        y = x.copy()
        y[_at(self.dim, self.index)] = source
        return y

    def backward(self, gy):
        # overwritten rows pass no gradient to x; source gets the gradient of the rows it wrote
        gx = gy.copy()
        gx[_at(self.dim, self.index)] = 0
        return gx, self.xp.take(gy, self.index, axis=self.dim)


class IndexFill(Function):
    """y = x with y[index[i]] = value along dim; the filled rows pass no gradient to x."""
    torch_name = "IndexFillBackward0"

    def __init__(self, dim, index, value):
        self.dim, self.index, self.value = dim, index, value

    def forward(self, x):
        y = x.copy()
        y[_at(self.dim, self.index)] = self.value
        return y

    def backward(self, gy):
        # the filled rows no longer depend on x
        gx = gy.copy()
        gx[_at(self.dim, self.index)] = 0
        return gx


class ScatterReduce(Function):
    """y = x with src reduced into the places index points at (dim 0: y[index[i][j]][j] = reduce(..., src[i][j]))."""
    torch_name = "ScatterReduceBackward0"

    def __init__(self, dim, index, reduce, include_self):
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self

    def forward(self, x, src):
        xp, r = self.xp, self.reduce
        self.coords, self.src = _coords(xp, self.index, self.dim), _src_part(src, self.index)
        self.hit = xp.zeros(x.shape, dtype=bool)
        self.hit[self.coords] = True
        y = x.copy()
        if not self.include_self:  # start the reduction from its identity where anything lands
            y[self.hit] = _identity(xp, r, x.dtype)
        _UFUNC[r](xp).at(y, self.coords, self.src)
        if r == "mean":
            self.count = xp.zeros(x.shape, dtype=x.dtype)
            xp.add.at(self.count, self.coords, 1)
            self.count = xp.maximum(self.count + int(self.include_self), 1)
            y = y // self.count if x.dtype.kind in "iu" else y / self.count
        self.x, self.y = x, y
        return y

    def backward(self, gy):
        # sum: 1; mean: 1/count; prod: (product of the others); amax/amin: split among the inputs equal to y
        gx, gsrc = self._grads(gy)
        return gx, _pad_to(self.xp, gsrc, self.in_meta[1][0])  # src elements past index's shape: no gradient

    def _grads(self, gy):
        xp, r, c, hit = self.xp, self.reduce, self.coords, self.hit
        keep_x = xp.where(hit, float(self.include_self), 1.0).astype(gy.dtype)
        if r in ("sum", "mean"):
            g = gy / self.count if r == "mean" else gy
            return xp.where(hit, g * keep_x, gy), g[c]
        if r == "prod":
            others = xp.ones(self.x.shape, dtype=gy.dtype)
            _MultiplyAt(xp).at(others, c, self.src)  # product of what src put at each place (self left out)
            return xp.where(hit, gy * others * keep_x, gy), _prod_src_grad(self, gy)
        return _extreme_grad(self, gy, keep_x > 0)


def _extreme_grad(f, gy, keep_x):
    """amax/amin: gy shared evenly among the inputs (self and src) equal to the result at each place. As torch, self
    counts in the share where it equals the result even with include_self=False (it then gets none of it)."""
    xp, c = f.xp, f.coords
    x_wins, src_wins = f.x == f.y, f.src == f.y[c]
    n = x_wins.astype(gy.dtype)
    xp.add.at(n, c, src_wins.astype(gy.dtype))
    share = gy / xp.maximum(n, 1)
    return xp.where(x_wins & keep_x, share, 0), xp.where(src_wins, share[c], 0)


def _prod_src_grad(f, gy):
    """d y[p] / d src[j] = the product of every other factor at p (self included when include_self), exact with
    zeros: one pass per src element."""
    xp = f.xp
    flat = f.src.reshape(-1)
    out = xp.empty(flat.shape, dtype=gy.dtype)
    start = f.x.copy() if f.include_self else xp.where(f.hit, 1, f.x).astype(f.x.dtype)
    for j in range(flat.size):
        left_out = flat.copy()
        left_out[j] = 1
        acc = start.copy()
        _MultiplyAt(xp).at(acc, f.coords, left_out.reshape(f.src.shape))
        p = tuple(xp.broadcast_to(k, f.src.shape).reshape(-1)[j] for k in f.coords)
        out[j] = gy[p] * acc[p]
    return out.reshape(f.src.shape)


class _MultiplyAt:
    """multiply.at on the host for CuPy arrays (CuPy's ufunc.at covers add / maximum / minimum, not multiply)."""

    def __init__(self, xp):
        self.xp = xp

    def at(self, a, index, v):
        import numpy

        if self.xp is numpy:
            return numpy.multiply.at(a, index, v)
        from ..backend import move, to_numpy

        host = to_numpy(a)
        numpy.multiply.at(host, tuple(to_numpy(i) for i in index), to_numpy(v))
        a[...] = move(host, "cupy")


_UFUNC = {"sum": lambda xp: xp.add, "mean": lambda xp: xp.add, "prod": _MultiplyAt,
          "amax": lambda xp: xp.maximum, "amin": lambda xp: xp.minimum}


def _identity(xp, reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    info = xp.finfo(dtype) if dtype.kind == "f" else xp.iinfo(dtype)
    lo, hi = (-xp.inf, xp.inf) if dtype.kind == "f" else (info.min, info.max)
    return lo if reduce == "amax" else hi


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src reduced ('sum', 'prod', 'mean', 'amax', 'amin') into the places index points at along dim."""
    if reduce not in _UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and "
                           f"{src.dtype})")
    d = _dim(dim, input.ndim)
    x, s = (input.reshape(1) if input.ndim == 0 else input), (src.reshape(1) if src.ndim == 0 else src)
    idx = _index(x, d, index, "scatter_reduce", s)
    y = ScatterReduce(d, idx, reduce, bool(include_self))(x, s)
    return y.reshape(()) if input.ndim == 0 else y


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with source's rows reduced ('prod', 'mean', 'amax', 'amin') into rows index along dim."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin, got {reduce}.")
    d, idx = _check(input, dim, index, "index_reduce", source)
    shape = [1] * source.ndim
    shape[d] = -1
    full = Tensor._wrap(input.xp.broadcast_to(idx.reshape(shape), source.shape).astype("int64"))
    y = scatter_reduce(input, d, full, source, reduce, include_self=include_self)
    if y._ctx is not None:
        y._ctx.torch_name = "IndexReduceBackward0"
    return y


def _check(input, dim, index, name, source=None):
    if not isinstance(index, Tensor) or index.ndim > 1 or index.dtype.kind not in "iu":
        raise IndexError(f"{name}(): index must be a 0-d or 1-d integer tensor")
    d = _dim(dim, input.ndim)
    idx = index.array.reshape(-1)
    n = input.shape[d] if input.ndim else 1
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        raise IndexError(f"{name}(): index out of range for dimension {d} of size {n}")
    if source is not None:
        if source.dtype != input.dtype:
            raise RuntimeError(f"{name}(): self ({input.dtype}) and source ({source.dtype}) must have the same "
                               "scalar type")
        want = input.shape[:d] + (idx.size,) + input.shape[d + 1:] if input.ndim else (idx.size,)
        if source.numel() != _prod(want) or (source.ndim and source.shape != want):
            raise RuntimeError(f"{name}(): source {list(source.shape)} must have shape {list(want)} (input "
                               f"{list(input.shape)} with dim {d} of size index.numel() = {idx.size})")
    return d, idx % n


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source's rows added at rows index along dim (repeats add up)."""
    d, idx = _check(input, dim, index, "index_add", source)
    x = input.reshape(1) if input.ndim == 0 else input
    y = IndexAdd(d, idx, alpha)(x, source.reshape(x.shape[:d] + (idx.size,) + x.shape[d + 1:]))
    return y.reshape(()) if input.ndim == 0 else y


def index_copy(input, dim, index, source):
    """input with source's rows written at rows index along dim."""
    d, idx = _check(input, dim, index, "index_copy", source)
    x = input.reshape(1) if input.ndim == 0 else input
    y = IndexCopy(d, idx)(x, source.reshape(x.shape[:d] + (idx.size,) + x.shape[d + 1:]))
    return y.reshape(()) if input.ndim == 0 else y


def index_fill(input, dim, index, value):
    """input with rows index along dim set to value (a number or a 0-d tensor)."""
    d, idx = _check(input, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = value.item()
    x = input.reshape(1) if input.ndim == 0 else input
    y = IndexFill(d, idx, value)(x)
    return y.reshape(()) if input.ndim == 0 else y


def masked_select(input, mask):
    """The elements of input where mask (broadcast together) is True, as a 1-d tensor."""
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        raise RuntimeError("masked_select: expected a bool tensor as mask")
    x, m = S.expand(input, *_bshape(input, mask)), mask.expand(*_bshape(input, mask))
    y = S.getitem(x, m)
    if y._ctx is not None:
        y._ctx.torch_name = "MaskedSelectBackward0"
    return y


def _bshape(a, b):
    from .joining import broadcast_shapes

    return broadcast_shapes(a.shape, b.shape)


def take(input, index):
    """input flattened, then picked at index (any shape)."""
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        raise RuntimeError("take(): index must be an integer tensor")
    n = input.numel()
    a = index.array
    if a.size and (int(a.min()) < -n or int(a.max()) >= n):
        raise IndexError(f"take(): index out of range in self (size {n})")
    y = S.getitem(S.reshape(input, (-1,)), Tensor._wrap(a % builtins.max(n, 1)))
    if y._ctx is not None:
        y._ctx.torch_name = "TakeBackward0"
    return y


def nonzero(input, *, as_tuple=False):
    """Coordinates of the nonzero elements: an (N, ndim) int64 tensor, or a tuple of 1-d ones."""
    xp = input.xp
    a = input.array if input.ndim else input.array.reshape(1)
    coords = [c.astype("int64") for c in xp.nonzero(a)]
    if as_tuple:
        return tuple(Tensor._wrap(c) for c in coords)
    if input.ndim == 0:
        return Tensor._wrap(xp.zeros((int(coords[0].size), 0), dtype="int64"))
    return Tensor._wrap(xp.stack(coords, axis=1) if coords else xp.zeros((0, 0), dtype="int64"))


def argwhere(input):
    """nonzero(input): the coordinates of the nonzero elements, an (N, input.ndim) int64 tensor."""
    return nonzero(input)


def select_scatter(input, src, dim, index):
    """input with input.select(dim, index) replaced by src."""
    d = _dim(dim, input.ndim)
    y = index_put(input, _at(d, index), as_operand(src, input))
    y._ctx is not None and setattr(y._ctx, "torch_name", "SelectScatterBackward0")
    return y


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """input with input[start:end:step] along dim replaced by src."""
    d = _dim(dim, input.ndim)
    y = index_put(input, _at(d, builtins.slice(start, end, step)), as_operand(src, input))
    y._ctx is not None and setattr(y._ctx, "torch_name", "SliceScatterBackward0")
    return y


def where(cond, input=None, other=None):
    """input where cond else other (ops/index.py); where(cond) alone is nonzero(cond, as_tuple=True), as torch."""
    if input is None and other is None:
        return nonzero(cond, as_tuple=True)
    return _where(cond, input, other)
