"""Index ops with torch's dim semantics: gather, scatter, scatter_add, index_select; and where / masked_fill.

For index idx of the same number of dims as x, along `dim` (torch's docs, dim=0):
gather: y[i][j] = x[idx[i][j]][j];  scatter: y[idx[i][j]][j] = src[i][j];  scatter_add: y[idx[i][j]][j] += src[i][j].
"""
from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor, as_operand


def _coords(xp, index, dim):
    """Open-mesh coordinates addressing, for every position of `index`, the element it picks along dim."""
    nd = index.ndim
    out = []
    for d, n in enumerate(index.shape):
        if d == dim:
            out.append(index)
        else:
            shape = [1] * nd
            shape[d] = n
            out.append(xp.arange(n).reshape(shape))
    return tuple(out)


def _src_part(src, index):
    """The leading index.shape block of src (torch reads only that much of a larger src)."""
    return src[tuple(slice(0, n) for n in index.shape)]


class Gather(Function):
    """y = x gathered along dim at index (see gather); backward adds gy back, so repeated indices add up."""
    torch_name = "GatherBackward0"

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.x_shape = x.shape
        return x[_coords(self.xp, self.index, self.dim)]

    def backward(self, gy):
        # dL/dx = zeros.scatter_add(dim, idx, gy): each picked element gets back its gradient (repeats add up)
        gx = self.xp.zeros(self.x_shape, dtype=gy.dtype)
        self.xp.add.at(gx, _coords(self.xp, self.index, self.dim), gy)
        return gx


class Scatter(Function):
    """y = x with y[idx[i][j]][j] = src[i][j] (dim 0); src a tensor, or a value when `value` is given."""
    torch_name = "ScatterBackward0"

    def __init__(self, dim, index, value=None):
        self.dim, self.index, self.value = dim, index, value
        if value is not None:
            self.torch_name = "ScatterBackward1"  # torch's scatter(dim, index, value)

    def forward(self, x, src=None):
        self.coords = _coords(self.xp, self.index, self.dim)
        y = x.copy()
        y[self.coords] = self.value if src is None else _src_part(src, self.index)
        return y

    def backward(self, gy):
        # dL/dx = gy with the overwritten places zeroed;  dL/dsrc = gy.gather(dim, idx) (padded to src's shape)
        gx = gy.copy()
        gx[self.coords] = 0
        if len(self.in_meta) == 1:
            return gx
        return gx, _pad_to(self.xp, gy[self.coords], self.in_meta[1][0])


class ScatterAdd(Function):
    """y = x with y[idx[i][j]][j] += src[i][j] (dim 0); gradients: gy for x, gy gathered at idx for src."""
    torch_name = "ScatterAddBackward0"

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x, src):
        self.coords = _coords(self.xp, self.index, self.dim)
        y = x.copy()
        self.xp.add.at(y, self.coords, _src_part(src, self.index))
        return y

    def backward(self, gy):
        # dL/dx = gy;  dL/dsrc = gy.gather(dim, idx) (zero where src was not read)
        return gy, _pad_to(self.xp, gy[self.coords], self.in_meta[1][0])


class IndexSelect(Function):
    """y = the slices of x along dim at a 1-d index; backward adds gy back, so repeated indices add up."""
    torch_name = "IndexSelectBackward0"

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.x_shape = x.shape
        return self.xp.take(x, self.index, axis=self.dim)

    def backward(self, gy):
        # dL/dx = zeros.index_add(dim, idx, gy): repeated indices add up
        xp = self.xp
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        where = (slice(None),) * self.dim + (self.index,)
        xp.add.at(gx, where, gy)
        return gx


def _pad_to(xp, g, shape):
    """g (index-shaped) inside zeros of src's shape: src elements past index.shape got no gradient."""
    if g.shape == tuple(shape):
        return g
    out = xp.zeros(shape, dtype=g.dtype)
    out[tuple(slice(0, n) for n in g.shape)] = g
    return out


# ---- argument checks (torch's rules) and the functions ---------------------------------------------
def _dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _index(x, dim, index, name, src=None):
    """Raw index array, checked as torch checks it; 0-d tensors count as 1-d with one element."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype.kind not in "iu" or index.dtype.itemsize < 4:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index, got {index.dtype}")
    if index.backend != x.backend:
        raise RuntimeError(f"{name}(): index is on {index.device}, input on {x.device}; move one with .to(...)")
    idx = index.array
    if max(idx.ndim, 1) != max(x.ndim, 1):
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as the input "
                           f"(index {tuple(idx.shape)}, input {tuple(x.shape)})")
    xs, ishape = (tuple(x.shape) or (1,)), (tuple(idx.shape) or (1,))
    for d, (ni, nx) in enumerate(zip(ishape, xs)):
        if d != dim and ni > nx:
            raise RuntimeError(f"{name}(): Size does not match at dimension {d}: index {list(ishape)} must be no "
                               f"larger than input {list(xs)} apart from dimension {dim}")
        if src is not None and ni > (tuple(src.shape) or (1,))[d]:
            raise RuntimeError(f"{name}(): index {list(ishape)} must be no larger than src {list(src.shape)}")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= xs[dim]:
            bad = lo if lo < 0 else hi
            raise RuntimeError(f"{name}(): index {bad} is out of bounds for dimension {dim} with size {xs[dim]}")
    return idx.reshape(ishape) if idx.ndim == 0 else idx


def _as_1d(x):
    return x.reshape(1) if x.ndim == 0 else x


def _back(y, like):
    """Undo the 0-d -> 1-d view: results take index's shape (gather) or x's shape (scatter)."""
    return y.reshape(()) if like.ndim == 0 and y.ndim == 1 else y


def gather(input, dim, index, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] along dim; out has index's shape."""
    dim = _dim(dim, input.ndim)
    idx = _index(input, dim, index, "gather")
    return _back(Gather(dim, idx)(_as_1d(input)), index)


def take_along_dim(input, indices, dim=None):
    """gather with input and indices broadcast against each other outside dim (dim=None: both flattened)."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = _dim(dim, input.ndim)
    shape = [max(a, b) for a, b in zip(input.shape, indices.shape)]
    return gather(input.expand(*shape[:d], input.shape[d], *shape[d + 1:]), d,
                  indices.expand(*shape[:d], indices.shape[d], *shape[d + 1:]))


def scatter(input, dim, index, src=None, value=None, reduce=None):
    """Copy of input with input[index[i][j]][j] = src[i][j] (dim 0); a Python number as src or value= fills."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported: use scatter_add for reduce='add'")
    if src is None and value is None:
        raise TypeError("scatter(): pass src (a Tensor) or value (a number)")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src  # scatter(dim, index, 1.0): the value overload, as torch
    dim = _dim(dim, input.ndim)
    if src is None:
        idx = _index(input, dim, index, "scatter")
        v = value.item() if hasattr(value, "item") else value
        return _back(Scatter(dim, idx, input.xp.asarray(v).astype(input.array.dtype))(_as_1d(input)), input)
    if src.dtype != input.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and "
                           f"{src.dtype})")
    idx = _index(input, dim, index, "scatter", _as_1d(src))
    return _back(Scatter(dim, idx)(_as_1d(input), _as_1d(src)), input)


def scatter_add(input, dim, index, src):
    """Copy of input with input[index[i][j]][j] += src[i][j] (dim 0); repeated indices add up."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and "
                           f"{src.dtype})")
    dim = _dim(dim, input.ndim)
    idx = _index(input, dim, index, "scatter_add", _as_1d(src))
    return _back(ScatterAdd(dim, idx)(_as_1d(input), _as_1d(src)), input)


def index_select(input, dim, index):
    """Slices of input along dim at the 1-d (or 0-d) index."""
    if not isinstance(index, Tensor) or index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype.kind not in "iu" or index.dtype.itemsize < 4:
        raise RuntimeError(f"index_select(): Expected dtype int32/int64 for index, got {index.dtype}")
    dim = _dim(dim, input.ndim)
    x = _as_1d(input)
    idx = index.array.reshape(-1)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= x.shape[dim]):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(f"index_select(): index {bad} is out of bounds for dimension {dim} with size {x.shape[dim]}")
    y = IndexSelect(dim, idx)(x)
    return y.reshape(()) if input.ndim == 0 and index.ndim == 0 else y


class Where(Function):
    """y = a where cond else b; the gradient goes to the chosen input only (cond gets none)."""
    torch_name = "WhereBackward0"

    def forward(self, cond, a, b):
        self.cond = cond.astype(bool, copy=False)
        return self.xp.where(self.cond, a, b)

    def backward(self, gy):
        # the gradient flows to whichever input was chosen
        xp = self.xp
        return None, xp.where(self.cond, gy, 0), xp.where(self.cond, 0, gy)


def where(cond, a, b):
    """a where cond else b, as torch.where: a, b may be numbers, promoted to one dtype; all three broadcast.
    (minigrad.where(cond) alone, torch's nonzero(cond, as_tuple=True), is ops/indexing.py's where.)"""
    first = a if isinstance(a, Tensor) else (b if isinstance(b, Tensor) else cond)
    ta, tb = as_operand(a, first), as_operand(b, first)
    want = dtypes.promote_types(ta.dtype, tb.dtype, ta.ndim == 0, tb.ndim == 0)
    return Where()(as_operand(cond, first), ta.to(want), tb.to(want))


def masked_fill(x, mask, value):
    """A copy of x with value (cast to x's dtype) where mask is True; mask broadcasts to x.
    x's gradient is 0 at the filled places."""
    y = where(mask, as_operand(value, x).to(x.dtype), x)
    if y._ctx is not None:
        y._ctx.torch_name = "MaskedFillBackward0"  # the same selection under torch's name for it
    return y
