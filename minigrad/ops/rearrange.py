"""Ops that move or mask elements without arithmetic: flip roll rot90 tril triu diagonal diag_embed trace,
and the functions torch builds on them (fliplr flipud diag diagflat)."""
from ..autograd import Function
from ..tensor import size_args
from .index import _dim


class Flip(Function):
    """y = x reversed along dims (a copy)."""
    torch_name = "FlipBackward0"

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return self.xp.flip(x, self.dims) if self.dims else x.copy()

    def backward(self, gy):
        # flipping is its own inverse
        return self.xp.flip(gy, self.dims) if self.dims else gy


class Roll(Function):
    """y = x shifted by shifts along dims, wrapping around (dims None: the flattened x)."""
    torch_name = "RollBackward0"

    def __init__(self, shifts, dims):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        if self.dims is None:
            return self.xp.roll(x.reshape(-1), self.shifts).reshape(x.shape)
        return self.xp.roll(x, self.shifts, self.dims)

    def backward(self, gy):
        # roll back by the opposite shifts
        back = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        if self.dims is None:
            return self.xp.roll(gy.reshape(-1), back).reshape(gy.shape)
        return self.xp.roll(gy, back, self.dims)


class Rot90(Function):
    """y = x rotated by k quarter turns in the plane of dims (a copy)."""
    torch_name = "Rot90Backward0"

    def __init__(self, k, dims):
        self.k, self.dims = k, dims

    def forward(self, x):
        return self.xp.rot90(x, self.k, self.dims).copy()

    def backward(self, gy):
        # rotate back by -k quarter turns
        return self.xp.rot90(gy, -self.k, self.dims)


def _triangle(xp, shape, k, lower):
    """The mask of the kept triangle of the last two dims: j - i <= k (lower) or j - i >= k (upper)."""
    i, j = xp.arange(shape[-2])[:, None], xp.arange(shape[-1])[None, :]
    return (j - i <= k) if lower else (j - i >= k)


class Tril(Function):
    """y = x with the elements above the k-th diagonal of the last two dims set to 0."""
    torch_name = "TrilBackward0"

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        self.mask = _triangle(self.xp, x.shape, self.k, True)  # batched, where cupy.tril takes one matrix
        return self.xp.where(self.mask, x, 0).astype(x.dtype)

    def backward(self, gy):
        # the kept triangle passes its gradient, the zeroed part none
        return self.xp.where(self.mask, gy, 0)


class Triu(Function):
    """y = x with the elements below the k-th diagonal of the last two dims set to 0."""
    torch_name = "TriuBackward0"

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        self.mask = _triangle(self.xp, x.shape, self.k, False)
        return self.xp.where(self.mask, x, 0).astype(x.dtype)

    def backward(self, gy):
        # the kept triangle passes its gradient, the zeroed part none
        return self.xp.where(self.mask, gy, 0)


def _diag_index(xp, n_rows, n_cols, offset):
    """Row and column indices of the offset diagonal of an n_rows x n_cols matrix."""
    n = max(0, min(n_rows - max(-offset, 0), n_cols - max(offset, 0)))
    i = xp.arange(n)
    return i + max(-offset, 0), i + max(offset, 0)


class Diagonal(Function):
    """The offset diagonal of the (dim1, dim2) matrices, as a new last dim."""
    torch_name = "DiagonalBackward0"

    def __init__(self, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, x):
        self.x_shape = x.shape
        return self.xp.diagonal(x, self.offset, self.dim1, self.dim2).copy()

    def backward(self, gy):
        # gy goes back onto the diagonal; everything else had no effect
        xp = self.xp
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        view = xp.moveaxis(gx, (self.dim1, self.dim2), (-2, -1))
        rows, cols = _diag_index(xp, view.shape[-2], view.shape[-1], self.offset)
        view[..., rows, cols] = gy
        return gx


class DiagEmbed(Function):
    """Put the last dim of x on the offset diagonal of new (dim1, dim2) matrices of zeros."""
    torch_name = "DiagEmbedBackward0"

    def __init__(self, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, x):
        xp = self.xp
        n = x.shape[-1] + abs(self.offset)
        y = xp.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
        rows, cols = _diag_index(xp, n, n, self.offset)
        y[..., rows, cols] = x
        return xp.moveaxis(y, (-2, -1), (self.dim1, self.dim2))

    def backward(self, gy):
        # the gradient of each embedded element is gy on its diagonal place
        return self.xp.diagonal(gy, self.offset, self.dim1, self.dim2)


class DiagonalScatter(Function):
    """x with its offset diagonal of the (dim1, dim2) matrices replaced by src."""
    torch_name = "DiagonalScatterBackward0"

    def __init__(self, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def _diag(self, a):
        """a's diagonal places, as a writable view index: (a with dim1, dim2 moved last, rows, cols)."""
        view = self.xp.moveaxis(a, (self.dim1, self.dim2), (-2, -1))
        return view, _diag_index(self.xp, view.shape[-2], view.shape[-1], self.offset)

    def forward(self, x, src):
        y = x.copy()
        view, (rows, cols) = self._diag(y)
        view[..., rows, cols] = src
        return y

    def backward(self, gy):
        # the diagonal now holds src: its gradient goes to src, none of it to x there
        gx = gy.copy()
        view, (rows, cols) = self._diag(gx)
        view[..., rows, cols] = 0
        return gx, self.xp.diagonal(gy, self.offset, self.dim1, self.dim2)


class Trace(Function):
    """y = the sum of the main diagonal of a 2-d x: (n, m) -> ()."""
    torch_name = "TraceBackward0"

    def forward(self, x):
        self.x_shape = x.shape
        return self.xp.trace(x)

    def backward(self, gy):
        # d trace(x)/dx = identity (ones on the main diagonal)
        xp = self.xp
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        rows, cols = _diag_index(xp, *self.x_shape, 0)
        gx[rows, cols] = gy
        return gx


def flip(input, *dims):
    """Reverse the order of elements along dims (a tuple, or ints as x.flip(0, 1) takes them)."""
    dims = size_args(dims)
    dims = tuple(_dim(d, input.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip: dims {dims} has a dim given more than once")
    return Flip(dims)(input)


def fliplr(input):
    """flip along dim 1 (input at least 2-d)."""
    if input.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """flip along dim 0 (input at least 1-d)."""
    if input.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Shift elements along dims, wrapping around (dims=None: the flattened tensor)."""
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise RuntimeError("roll: shifts must be one number when dims is not given")
        return Roll(shifts if isinstance(shifts, int) else int(shifts[0]), None)(input)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts ({len(shifts)}) and dims ({len(dims)}) must align")
    return Roll(shifts, tuple(_dim(d, input.ndim) for d in dims))(input)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims (from the first toward the second)."""
    dims = tuple(dims)
    if len(dims) != 2 or input.ndim < 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2 and input dims >= 2, got dims={dims} on a "
                           f"{input.ndim}-d tensor")
    d0, d1 = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"rot90: the rotation dims must differ, got {dims}")
    return Rot90(k % 4, (d0, d1))(input)


def _matrix(input, name):
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got {input.ndim}")


def tril(input, diagonal=0):
    """Lower triangle of the last two dims (elements above `diagonal` set to 0)."""
    _matrix(input, "tril")
    return Tril(int(diagonal))(input)


def triu(input, diagonal=0):
    """Upper triangle of the last two dims (elements below `diagonal` set to 0)."""
    _matrix(input, "triu")
    return Triu(int(diagonal))(input)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The offset diagonal of the (dim1, dim2) matrices as a new last dim (a copy, where torch gives a view)."""
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal(int(offset), d1, d2)(input)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with input.diagonal(offset, dim1, dim2) replaced by src (of that diagonal's shape)."""
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    want = tuple(input.xp.diagonal(input.array, offset, d1, d2).shape)
    if tuple(src.shape) != want:
        raise RuntimeError(f"diagonal_scatter: src must have the shape of the diagonal {list(want)}, got "
                           f"{list(src.shape)}")
    return DiagonalScatter(int(offset), d1, d2)(input, src)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """input's last dim on the offset diagonal of new zero matrices in dims (dim1, dim2):
    (*, n) -> (*, n + |offset|, n + |offset|) with the default dims (-2, -1)."""
    n = input.ndim + 1
    d1, d2 = _dim(dim1, n), _dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed(int(offset), d1, d2)(input)


def diag(input, diagonal=0):
    """1-d: a matrix with input on the diagonal; 2-d: the diagonal as a 1-d tensor."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal(int(diagonal), 0, 1)(input)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input, offset=0):
    """input flattened onto the offset diagonal of a 2-d matrix of zeros: (n,) -> (n + |offset|, n + |offset|)."""
    return diag_embed(input.reshape(-1), offset, 0, 1)


def trace(input):
    """Sum of the main diagonal of a 2-d tensor."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Trace()(input)
