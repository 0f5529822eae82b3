"""Order statistics along a dim: sort argsort msort topk kthvalue median nanmedian mode, cummax cummin.

Each returns (values, indices) as torch; the gradient of values goes back to the input at the indices, so ties
follow the index each op picks: a stable sort (torch's CPU sort is stable; NaN sorts as the largest value), the
lower median, the last index of the most frequent value (mode), the latest extreme so far (cummax/cummin).
topk picks among equal values in stable order, where torch's partial sort may pick another of them.
"""
from ..autograd import Function
from ..tensor import Tensor, ValuesIndices
from .index import _coords, _dim


def stable_argsort(xp, x, axis, descending=False):
    """Stable argsort along axis; descending keeps equal elements in their original order, NaN first."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    return (n - 1) - xp.flip(xp.argsort(xp.flip(x, axis), axis=axis, kind="stable"), axis)


class _Selected(Function):
    """values = x picked at indices along a dim (indices come from the subclass's `pick`)."""

    def __init__(self, dim, keepdim=True):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        self.x_shape = x.shape
        self.idx = self.pick(x)  # the same ndim as x; size along dim may differ
        y = self.xp.take_along_axis(x, self.idx, axis=self.dim)
        return y if self.keepdim else y.squeeze(self.dim)

    def backward(self, gy):
        # dL/dx = zeros with gy added at the picked indices (repeats, as cummax's, add up)
        xp = self.xp
        g = gy if self.keepdim else xp.expand_dims(gy, self.dim)
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        xp.add.at(gx, _coords(xp, self.idx, self.dim), g)
        return gx


class Sort(_Selected):
    """values = x sorted along dim, stably (NaN as the largest value); indices from pick."""
    torch_name = "SortBackward0"

    def __init__(self, dim, descending, stable=False):
        super().__init__(dim)
        self.descending = descending
        if stable:
            self.torch_name = "SortBackward1"  # torch's sort.stable overload

    def pick(self, x):
        """The stable argsort of x along dim (descending keeps equal elements in their order)."""
        return stable_argsort(self.xp, x, self.dim, self.descending)


class Topk(_Selected):
    """values = the k largest (or smallest) of x along dim, in order; equal values taken in stable order."""
    torch_name = "TopkBackward0"

    def __init__(self, dim, k, largest, sort):
        super().__init__(dim)
        self.k, self.largest = k, largest

    def pick(self, x):
        """The first k indices of x's stable argsort along dim (descending when largest)."""
        idx = stable_argsort(self.xp, x, self.dim, self.largest)
        return self.xp.take(idx, self.xp.arange(self.k), axis=self.dim)


class Kthvalue(_Selected):
    """values = the k-th smallest of x along dim (k from 1); among equal values the first in stable order."""
    torch_name = "KthvalueBackward0"

    def __init__(self, dim, k, keepdim):
        super().__init__(dim, keepdim)
        self.k = k

    def pick(self, x):
        """The index of the k-th entry of x's stable ascending argsort along dim, as a dim of size 1."""
        idx = stable_argsort(self.xp, x, self.dim)
        return self.xp.take(idx, self.xp.asarray([self.k - 1]), axis=self.dim)


class MedianDim(_Selected):
    """The lower median along dim (ignoring NaN for nanmedian; any NaN makes median NaN)."""
    torch_name = "MedianBackward1"

    def __init__(self, dim, keepdim, ignore_nan=False):
        super().__init__(dim, keepdim)
        self.ignore_nan = ignore_nan
        if ignore_nan:
            self.torch_name = "NanmedianBackward1"

    def pick(self, x):
        """The index of the lower median along dim (of the non-NaN values for nanmedian; median: the first NaN)."""
        xp = self.xp
        idx = stable_argsort(xp, x, self.dim)
        nan = xp.isnan(x).sum(axis=self.dim, keepdims=True)
        n = x.shape[self.dim]
        # median: the first NaN (sorted last) if any; nanmedian: the lower median of the non-NaN values
        pos = (n - nan - 1) // 2 if self.ignore_nan else xp.where(nan > 0, n - nan, (n - 1) // 2)
        return xp.take_along_axis(idx, xp.clip(pos, 0, n - 1), axis=self.dim)


class Mode(_Selected):
    """The most frequent value along dim (the smallest of equally frequent ones), at its last index."""
    torch_name = "ModeBackward0"

    def pick(self, x):
        """The last index of the most frequent value along dim (the smallest of equally frequent ones)."""
        xp = self.xp
        xs = xp.moveaxis(x, self.dim, -1)
        idx = xp.argsort(xs, axis=-1, kind="stable")
        s = xp.take_along_axis(xs, idx, axis=-1)
        n = s.shape[-1]
        new_run = xp.concatenate([xp.ones(s.shape[:-1] + (1,), dtype=bool), s[..., 1:] != s[..., :-1]], axis=-1)
        start = xp.maximum.accumulate(xp.where(new_run, xp.arange(n), 0), axis=-1)
        count = xp.arange(n) - start + 1  # position within its run of equal values
        last = xp.concatenate([new_run[..., 1:], xp.ones(s.shape[:-1] + (1,), dtype=bool)], axis=-1)
        best = xp.argmax(xp.where(last, count, 0), axis=-1)[..., None]  # first (smallest) of the longest runs
        return xp.moveaxis(xp.take_along_axis(idx, best, axis=-1), -1, self.dim)


class _Cumulative(_Selected):
    """Running max/min along dim; at ties the latest index, as torch."""

    def pick(self, x):
        xp = self.xp
        xs = xp.moveaxis(x, self.dim, -1)
        n = xs.shape[-1]
        best = xp.zeros(xs.shape[:-1], dtype="int64")
        out = xp.empty(xs.shape, dtype="int64")
        for i in range(n):  # one pass along the dim, vectorised over the others
            cur = xp.take_along_axis(xs, best[..., None], axis=-1)[..., 0]
            take = self.better(xs[..., i], cur) | xp.isnan(xs[..., i]) & ~xp.isnan(cur)
            best = xp.where(take | (i == 0), i, best)
            out[..., i] = best
        return xp.moveaxis(out, -1, self.dim)


class Cummax(_Cumulative):
    """values = the running max of x along dim; a tie moves to the later index; a NaN, once met, stays."""
    torch_name = "CummaxBackward0"

    def better(self, v, cur):
        """True where v replaces the running max cur (v >= cur, so a tie moves to the later index)."""
        return v >= cur


class Cummin(_Cumulative):
    """values = the running min of x along dim; a tie moves to the later index; a NaN, once met, stays."""
    torch_name = "CumminBackward0"

    def better(self, v, cur):
        """True where v replaces the running min cur (v <= cur, so a tie moves to the later index)."""
        return v <= cur


def _run(f, input, keepdim_result=True):
    """Run a _Selected op on a tensor (0-d ones as 1-d), and return (values, int64 indices)."""
    x = input.reshape(1) if input.ndim == 0 else input
    values = f(x)
    idx = f.idx if f.keepdim else f.idx.squeeze(f.dim)
    indices = Tensor._wrap(idx.astype("int64", copy=False))
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return ValuesIndices(values, indices)


def sort(input, dim=-1, descending=False, stable=None):
    """(values, indices) sorted along dim; stable always (torch's CPU sort is stable)."""
    return _run(Sort(_dim(dim, input.ndim), descending, stable is True), input)


def argsort(input, dim=-1, descending=False, stable=False):
    """The int64 indices that sort input along dim (always stable, as torch's CPU sort)."""
    return sort(input, dim, descending, stable).indices


def msort(input):
    """sort along dim 0, values only."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along dim, in order, and their indices."""
    d = _dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k={k} is out of range for a dimension of size {n}")
    return _run(Topk(d, k, largest, sorted), input)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value along dim (k from 1) and its index."""
    d = _dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k={k} out of range for dimension {d} of size {n}")
    return _run(Kthvalue(d, k, keepdim or input.ndim == 0), input)


def _median(input, dim, keepdim, ignore_nan):
    from .reduce import AMaxMin  # noqa: F401  (the all-elements form below is its own op)

    if dim is None:
        return MedianAll(ignore_nan)(input.reshape(-1))
    d = _dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    return _run(MedianDim(d, keepdim or input.ndim == 0, ignore_nan), input)


class MedianAll(Function):
    """The lower median of all elements; ties share the gradient evenly (torch's evenly_distribute_backward)."""
    torch_name = "MedianBackward0"

    def __init__(self, ignore_nan):
        self.ignore_nan = ignore_nan
        if ignore_nan:
            self.torch_name = "NanmedianBackward0"

    def forward(self, x):
        xp = self.xp
        if x.size == 0:
            return xp.asarray(xp.nan, dtype=x.dtype)
        s = xp.sort(x)
        nan = int(xp.isnan(x).sum())
        k = (x.size - nan - 1) // 2 if self.ignore_nan else (x.size - 1) // 2
        self.x, self.y = x, s[max(k, 0)] if nan == 0 or self.ignore_nan else xp.asarray(xp.nan, dtype=x.dtype)
        return xp.asarray(self.y, dtype=x.dtype).reshape(())

    def backward(self, gy):
        # dL/dx = gy / (#elements equal to the median) on each of them (NaN counts as equal to a NaN median)
        xp = self.xp
        mask = (self.x == self.y) | (xp.isnan(self.x) & xp.isnan(self.y))
        return xp.where(mask, gy / mask.sum(), 0).astype(gy.dtype)


def median(input, dim=None, keepdim=False):
    """median(x): the lower median; median(x, dim): (values, indices) along dim."""
    return _median(input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaN."""
    return _median(input, dim, keepdim, True)


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along dim (the smallest if several), at its last index."""
    return _run(Mode(_dim(dim, input.ndim), keepdim or input.ndim == 0), input)


def cummax(input, dim):
    """(values, indices) of the running maximum along dim."""
    return _run(Cummax(_dim(dim, input.ndim)), input)


def cummin(input, dim):
    """(values, indices) of the running minimum along dim."""
    return _run(Cummin(_dim(dim, input.ndim)), input)
