"""Index ops along a dim: index_add index_copy index_fill, and masked_select take nonzero argwhere
select_scatter slice_scatter. For a 1-d index along dim 0: index_add: y[index[i]] += alpha * source[i];
index_copy: y[index[i]] = source[i]; index_fill: y[index[i]] = value."""
import builtins

from ..autograd import Function
from ..tensor import Tensor, as_operand
from . import shape as S
from .index import _dim
from .mutate import index_put


def _at(dim, index):
    """The NumPy index that addresses rows `index` along dim."""
    return (builtins.slice(None),) * dim + (index,)


class IndexAdd(Function):
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
