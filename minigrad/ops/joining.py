"""Splitting, joining and reshaping built from the shape ops (getitem, reshape, permute, expand, cat, stack), as
torch builds them, so their gradients are those ops' gradients: split chunk unbind tensor_split h/v/dsplit narrow
select movedim h/v/d/column_stack atleast_nd tile broadcast_* meshgrid cartesian_prod combinations block_diag
unflatten ravel repeat_interleave tril_indices triu_indices unravel_index."""
import builtins
import itertools
import math

import numpy

from .. import dtypes
from ..tensor import Tensor, size_args
from . import shape as S
from .index import _dim, index_select


def _named(y, name):
    if y._ctx is not None:
        y._ctx.torch_name = name  # the same view under the node name torch gives this entry point
    return y


def _slice(x, dim, start, stop, name=None):
    index = (builtins.slice(None),) * dim + (builtins.slice(start, stop),)
    y = S.getitem(x, index)
    return _named(y, name) if name else y


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of split_size along dim (the last may be smaller), or of the given sizes."""
    d = _dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split expects split_size be positive, but got split_size={size}")
        cuts = list(range(0, n, size)) if n else [0]
        return tuple(_slice(tensor, d, c, c + size, "SplitBackward0") for c in cuts)
    sizes = list(split_size_or_sections)
    if builtins.sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {d}), but got split_sizes={sizes}")
    starts = list(itertools.accumulate([0] + sizes[:-1]))
    return tuple(_slice(tensor, d, s, s + k, "SplitWithSizesBackward0") for s, k in zip(starts, sizes))


def chunk(input, chunks, dim=0):
    """At most `chunks` pieces of ceil(size / chunks) along dim."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input.shape[_dim(dim, input.ndim)]
    return split(input, builtins.max(1, math.ceil(n / chunks)), dim)


def unbind(input, dim=0):
    """The slices along dim, without it."""
    d = _dim(dim, input.ndim)
    return tuple(_named(S.getitem(input, (builtins.slice(None),) * d + (i,)), "UnbindBackward0")
                 for i in range(input.shape[d]))


def tensor_split(input, indices_or_sections, dim=0):
    """numpy.array_split: n nearly equal pieces, or pieces cut at the given indices."""
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        cuts = list(itertools.accumulate(sizes))[:-1]
    else:
        cuts = list(indices_or_sections)
    bounds = [0] + cuts + [n]
    return tuple(_slice(input, d, a, builtins.max(a, b)) for a, b in zip(bounds[:-1], bounds[1:]))


def _split_dim(input, sections, dim, name, min_dims):
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {input.ndim} dimensions!")
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{input.shape[dim]} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, sections):
    """tensor_split along dim 1 (dim 0 for a 1-d tensor); sections, if an int, must divide that dim."""
    return _split_dim(input, sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, sections):
    """tensor_split along dim 0 of a tensor of at least 2 dims; sections, if an int, must divide that dim."""
    return _split_dim(input, sections, 0, "vsplit", 2)


def dsplit(input, sections):
    """tensor_split along dim 2 of a tensor of at least 3 dims; sections, if an int, must divide that dim."""
    return _split_dim(input, sections, 2, "dsplit", 3)


def narrow(input, dim, start, length):
    """input[..., start:start + length] along dim (a view)."""
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    start = int(start.item() if isinstance(start, Tensor) else start)
    start = start + n if start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _slice(input, d, start, start + length)


def narrow_copy(input, dim, start, length):
    """narrow(input, dim, start, length) as a new tensor (a copy, not a view)."""
    return S.clone(narrow(input, dim, start, length))


def select(input, dim, index):
    """input[..., index] along dim, that dim removed (a view)."""
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    return S.getitem(input, (builtins.slice(None),) * d + (index,))


def movedim(input, source, destination):
    """Move dims from source to destination positions; the others keep their order."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src}) and destination ({dst}) "
                           "must have the same number of elements")
    n = input.ndim
    src, dst = [_dim(s, n) for s in src], [_dim(d, n) for d in dst]
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    return S.permute(input, [o if o is not None else next(rest) for o in order])


moveaxis = movedim


def swapdims(input, dim0, dim1):
    """transpose(input, dim0, dim1)."""
    return S.transpose(input, dim0, dim1)


def adjoint(input):
    """transpose of the last two dims (the conjugate of a real tensor is itself)."""
    return S.transpose(input, -2, -1)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim: () -> (1,); one tensor in gives one out, else a tuple."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims: () -> (1, 1), (k,) -> (1, k); one tensor in gives one out, else a tuple."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """() -> (1, 1, 1), (k,) -> (1, k, 1), (m, k) -> (m, k, 1); one tensor in gives one out, else a tuple."""
    return _atleast(tensors, 3)


def _atleast(tensors, n):
    one = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    ts = [tensors[0]] if one else list(tensors[0] if len(tensors) == 1 else tensors)
    # torch's shapes: () -> (1,)*n; (k,) -> (1, k) or (1, k, 1); (m, k) -> (m, k, 1)
    grow = {1: {0: (1,)}, 2: {0: (1, 1), 1: (1, -1)}, 3: {0: (1, 1, 1), 1: (1, -1, 1), 2: None}}[n]
    out = []
    for t in ts:
        if t.ndim < n:
            shape = grow[t.ndim]
            t = S.reshape(t, t.shape + (1,) if shape is None else shape)
        out.append(t)
    return out[0] if one else tuple(out)


def hstack(tensors):
    """cat along dim 1 (dim 0 for 1-d tensors), after atleast_1d."""
    ts = atleast_1d(*tensors)
    return S.cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """cat along dim 0 after atleast_2d: a 1-d tensor (k,) becomes a row (1, k)."""
    return S.cat(atleast_2d(*tensors), 0)


row_stack = vstack


def dstack(tensors):
    """cat along dim 2 after atleast_3d."""
    return S.cat(atleast_3d(*tensors), 2)


def column_stack(tensors):
    """cat along dim 1, 0-d and 1-d tensors first reshaped to columns (n, 1)."""
    return S.cat([S.reshape(t, (t.numel(), 1)) if t.ndim < 2 else t for t in tensors], 1)


def tile(input, *dims):
    """repeat, with dims padded by leading 1s to the input's rank (x.tile(2, 3) or tile(x, (2, 3)))."""
    dims = size_args(dims)
    return S.repeat(input, (1,) * (input.ndim - len(dims)) + tuple(dims))


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to, a tuple (an int counts as a 1-d shape)."""
    return tuple(numpy.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))


def broadcast_to(input, size):
    """expand(input, size): input broadcast to size as a view (-1 keeps a dim)."""
    return S.expand(input, *size_args((size,)))


def broadcast_tensors(*tensors):
    """The tensors expanded (views) to their common broadcast shape, as a tuple."""
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(S.expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids (views) from 1-d tensors; indexing 'ij' (matrix) or 'xy' (Cartesian)."""
    ts = list(tensors[0]) if len(tensors) == 1 and not isinstance(tensors[0], Tensor) else list(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    shape = [t.numel() for t in ts]
    swap = indexing == "xy" and len(ts) > 1
    if swap:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        pos = (1 - i if i < 2 else i) if swap else i
        view = [1] * len(ts)
        view[pos] = t.numel()
        out.append(S.expand(S.reshape(t, view), shape))
    return tuple(out)


def cartesian_prod(*tensors):
    """All tuples of one element from each 1-d tensor, as rows (a 1-d tensor for one input)."""
    if len(tensors) == 1:
        return tensors[0]
    return S.stack([S.reshape(g, (-1,)) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """Rows of r elements of a 1-d tensor, as itertools.combinations(_with_replacement)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    if not rows:
        return Tensor._wrap(input.xp.empty((0,) if r == 0 else (0, r), dtype=input.array.dtype))
    idx = input.xp.asarray(numpy.asarray(rows, dtype=numpy.int64).reshape(-1))
    return S.reshape(S.getitem(input, idx), (len(rows), r))


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-d) as blocks along the diagonal of one matrix of zeros."""
    ts = [S.reshape(t, (1, 1)) if t.ndim == 0 else S.reshape(t, (1, -1)) if t.ndim == 1 else t for t in tensors]
    want = ts[0].dtype
    for t in ts[1:]:
        want = dtypes.promote_types(want, t.dtype)
    ts = [t.to(want) for t in ts]
    cols = builtins.sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        xp = t.xp
        parts = [Tensor._wrap(xp.zeros((t.shape[0], left), dtype=t.array.dtype)), t,
                 Tensor._wrap(xp.zeros((t.shape[0], cols - left - t.shape[1]), dtype=t.array.dtype))]
        rows.append(S.cat(parts, 1))
        left += t.shape[1]
    return S.cat(rows, 0)


def unflatten(input, dim, sizes):
    """Split dim into the given sizes (one may be -1)."""
    d = _dim(dim, input.ndim)
    sizes = list(sizes)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes[sizes.index(-1)] = input.shape[d] // builtins.max(known, 1)
    if math.prod(sizes) != input.shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} "
                           f"({input.shape[d]}) in the input tensor")
    return S.reshape(input, input.shape[:d] + tuple(sizes) + input.shape[d + 1:])


def ravel(input):
    """input flattened to a 1-d tensor (reshape to (-1,))."""
    return S.reshape(input, (-1,))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along dim) repeated `repeats` times; repeat_interleave(r) gives 0,0,1,... indices."""
    from ..backend import move, to_numpy

    if repeats is None:  # torch.repeat_interleave(repeats): index i repeated repeats[i] times
        r = to_numpy(input.array)  # the counts shape the result: read on the host (CuPy's repeat takes no array)
        return Tensor._wrap(move(numpy.repeat(numpy.arange(r.shape[0]), r), input.backend))
    x = S.reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else _dim(dim, input.ndim)
    n = x.shape[d]
    r = to_numpy(repeats.array).reshape(-1) if isinstance(repeats, Tensor) else int(repeats)
    if isinstance(repeats, Tensor) and r.shape[0] not in (1, n):
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{r.shape[0]} and input.size({d}) = {n}")
    idx = numpy.repeat(numpy.arange(n), r).astype(numpy.int64)
    return index_select(x, d, Tensor._wrap(move(idx, x.backend)))


def _indices(rows, cols, offset, upper, dtype, device):
    from ..backend import get_xp

    r, c = (numpy.triu_indices if upper else numpy.tril_indices)(rows, offset, cols)
    d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    return Tensor._wrap(get_xp(device).asarray(numpy.stack([r, c]).astype(d)))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """(2, N) coordinates of the lower triangle of a row x col matrix."""
    return _indices(row, col, offset, False, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """(2, N) coordinates of the upper triangle of a row x col matrix."""
    return _indices(row, col, offset, True, dtype, device)


def unravel_index(indices, shape):
    """Flat indices to a tuple of coordinate tensors for the given shape."""
    shape = size_args((shape,)) if not isinstance(shape, int) else (shape,)
    a = indices.array if isinstance(indices, Tensor) else numpy.asarray(indices)
    if a.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {a.dtype}")
    n = math.prod(shape)
    if a.size and (int(a.min()) < -n or int(a.max()) >= n):
        raise RuntimeError(f"unravel_index: index out of bounds for shape {list(shape)}")
    xp = indices.xp if isinstance(indices, Tensor) else numpy
    coords = xp.unravel_index(a % n, shape)
    return tuple(Tensor._wrap(c.astype("int64")) for c in coords)
