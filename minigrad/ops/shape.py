"""Shape ops: reshape/view, permute/transpose, (un)squeeze, expand, indexing, cat, stack, casts."""
from ..autograd import Function
from ..backend import get_array_module, move
from ..tensor import Tensor, size_args


class Reshape(Function):
    """y = x.reshape(shape): a view where NumPy reshapes without copying, else a copy."""
    torch_name = "ViewBackward0"
    is_view = True  # where NumPy can reshape without copying

    def __init__(self, shape):
        self.shape = shape

    def view(self, a):
        """Replay this reshape on another array (views.py maps a view's elements to its base)."""
        return a.reshape(self.shape)

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(self.shape)}' is invalid for input of size {x.size}") from None

    def backward(self, gy):
        # reshape moves no values: the gradient is reshaped back
        return gy.reshape(self.x_shape)


class Permute(Function):
    """y = x with its axes permuted, a view; backward applies the inverse permutation."""
    torch_name = "PermuteBackward0"
    is_view = True

    def __init__(self, axes):
        self.axes = axes

    def view(self, a):
        """Replay this permutation on another array (views.py maps a view's elements to its base)."""
        return a.transpose(self.axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        # undo the permutation with its inverse
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return gy.transpose(inverse)


class Expand(Function):
    """y = x broadcast to shape, a view (stride 0 on the new dims); Function sums the gradient back."""
    torch_name = "ExpandBackward0"
    is_view = True

    def __init__(self, shape):
        self.shape = shape

    def view(self, a):
        """Replay this broadcast on another array (views.py maps a view's elements to its base)."""
        return get_array_module(a).broadcast_to(a, self.shape)

    def forward(self, x):
        return self.xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        # Function sums the gradient back over the expanded dims
        return gy


class GetItem(Function):
    """y = x[index]: a view for basic indices; advanced ones copy, and repeated indices' gradients add up."""
    torch_name = "SliceBackward0"

    def __init__(self, index):
        self.torch_name = _index_node_name(index)
        self.is_view = not _is_advanced(index)  # ints, slices, None, ...: a view, as torch's
        if self.is_view and not any(i is Ellipsis for i in (index if isinstance(index, tuple) else (index,))):
            index = (index if isinstance(index, tuple) else (index,)) + (Ellipsis,)  # x[0] of a vector: a 0-d view
        self.index = index

    def view(self, a):
        """Replay this basic index on another array (views.py maps a view's elements to its base)."""
        return a[self.index]

    def forward(self, x):
        self.x_shape = x.shape
        return x[self.index]

    def backward(self, gy):
        # scatter gy back into zeros; add.at sums repeated integer indices
        xp = self.xp
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        if _is_advanced(self.index):
            xp.add.at(gx, self.index, gy)
        else:
            gx[self.index] = gy
        return gx


class Cat(Function):
    """y = the inputs joined along an existing axis; each input's gradient is its slice of gy."""
    torch_name = "CatBackward0"

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        # each input gets back its own slice of gy
        xp = self.xp
        cuts = list(xp.cumsum(xp.asarray(self.sizes[:-1]))) if len(self.sizes) > 1 else []
        return tuple(xp.split(gy, [int(c) for c in cuts], axis=self.axis))


class Stack(Function):
    """y = the inputs joined along a new axis; each input's gradient is its slice of gy."""
    torch_name = "StackBackward0"

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return self.xp.stack(xs, axis=self.axis)

    def backward(self, gy):
        # each input gets back its own slice of gy
        xp = self.xp
        return tuple(xp.take(gy, i, axis=self.axis) for i in range(gy.shape[self.axis]))


class Cast(Function):
    """y = x as another dtype; Function casts the gradient back to x's dtype."""
    torch_name = "ToCopyBackward0"
    changes_dtype = True

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        # identity; Function casts gy back to the input's dtype
        return gy


class MoveTo(Function):
    """y = x on another backend (numpy / cupy); the gradient moves back to x's."""
    torch_name = "ToCopyBackward0"

    def __init__(self, backend):
        self.backend = backend

    def forward(self, x):
        self.src = "numpy" if get_array_module(x).__name__ == "numpy" else "cupy"
        return move(x, self.backend)

    def backward(self, gy):
        # identity; the gradient goes back to where the input lives
        return move(gy, self.src)


class Clone(Function):
    """y = a copy of x in new memory; the gradient passes through."""
    torch_name = "CloneBackward0"

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        # identity
        return gy


def _index_node_name(index):
    """torch's node for x[index]: the last view it applies (select/slice/unsqueeze), or Index for
    tensor/list/mask indices; full slices inside a tuple apply nothing."""
    if _is_advanced(index):
        return "IndexBackward0"
    name = "AliasBackward0"
    for i in index if isinstance(index, tuple) else (index,):
        if i is None:
            name = "UnsqueezeBackward0"
        elif isinstance(i, int):
            name = "SelectBackward0"
        elif isinstance(i, slice) and (i != slice(None) or not isinstance(index, tuple)):
            name = "SliceBackward0"
    return name


def _named(f, name):
    f.torch_name = name
    return f


def _is_advanced(index):
    index = index if isinstance(index, tuple) else (index,)
    return any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in index)


def raw_index(index):
    """Translate a Tensor-bearing index into one of backend arrays."""
    if isinstance(index, tuple):
        return tuple(raw_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, (list, range)):
        import numpy

        return numpy.asarray([i.item() if isinstance(i, Tensor) else i for i in index])
    return index


def reshape(x, *shape):
    """x with a new shape (one -1 inferred), the same elements in order; RuntimeError if the sizes differ.
    A view sharing x's memory where NumPy can reshape without copying, else a copy, as torch.reshape.
    view is the same function: it copies where torch's view would raise."""
    return Reshape(size_args(shape))(x)


view = reshape


def flatten(x, start_dim=0, end_dim=-1):
    """Dims start_dim..end_dim merged into one: (N, C, H, W) with start_dim=1 -> (N, C*H*W); 0-d -> (1,)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = start_dim % x.ndim, end_dim % x.ndim
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1:])


def permute(x, *dims):
    """x with its dims reordered, a view: permute(x, 2, 0, 1) of (A, B, C) -> (C, A, B).
    RuntimeError unless dims is a permutation of x's dims."""
    dims = size_args(dims)
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute(): dims {dims} are not a permutation of the {x.ndim} dims of the input")
    return Permute(tuple(d % x.ndim for d in dims))(x)


def transpose(x, dim0, dim1):
    """x with dims dim0 and dim1 swapped, a view: (A, B, C) with 0, 2 -> (C, B, A); swapaxes is the same."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return _named(Permute(tuple(range(x.ndim))), "TransposeBackward0")(x)  # a no-op view, as torch
    axes = list(range(x.ndim))
    d0, d1 = dim0 % x.ndim, dim1 % x.ndim
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return _named(Permute(tuple(axes)), "TransposeBackward0")(x)


swapaxes = transpose


def t(x):
    """The transpose of a matrix, a view: (m, n) -> (n, m); 0-d and 1-d x as they are; more dims: RuntimeError."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return _named(Permute((1, 0) if x.ndim == 2 else tuple(range(x.ndim))), "TBackward0")(x)


def unsqueeze(x, dim):
    """x with a size-1 dim inserted at dim (negative counts from the end: -1 appends), a view."""
    d = dim % (x.ndim + 1)
    return _named(Reshape(x.shape[:d] + (1,) + x.shape[d:]), "UnsqueezeBackward0")(x)


def squeeze(x, dim=None):
    """x without its size-1 dims, or without those of dim (an int or tuple) that have size 1; a view."""
    if dim is None:
        return _named(Reshape(tuple(n for n in x.shape if n != 1)), "SqueezeBackward0")(x)
    name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"  # one dim / a tuple, as torch
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = {d % max(x.ndim, 1) for d in dims}
    return _named(Reshape(tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))), name)(x)


def expand(x, *shape):
    """x broadcast to shape without copying, a view (-1 keeps a dim, new dims go in front).
    Shapes: (3, 1) -> expand(2, 3, 4) -> (2, 3, 4); only size-1 dims grow. The gradient sums back."""
    shape = size_args(shape)
    lead = len(shape) - x.ndim
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return Expand(full)(x)


def repeat(x, *reps):
    """x tiled: each dim repeated reps times, as numpy.tile (reps may add leading dims); a copy.
    Shapes: (2, 3) with repeat(2, 2) -> (4, 6)."""
    reps = size_args(reps)
    out = reshape(x, (1,) * (len(reps) - x.ndim) + x.shape)
    # repeat == tile: expand a new axis before each dim, then merge
    inter, final = [], []
    for r, n in zip(reps, out.shape):
        inter += [1, n]
        final.append(r * n)
    exp_shape = []
    for r, n in zip(reps, out.shape):
        exp_shape += [r, n]
    return reshape(expand(reshape(out, tuple(inter)), tuple(exp_shape)), tuple(final))


def getitem(x, index):
    """x[index] as torch: ints, slices, None and ... give a view; tensors, lists and masks a copy."""
    return GetItem(raw_index(index))(x)


def cat(tensors, dim=0):
    """Tensors joined along an existing dim; the other dims must match: (a, n), (b, n) -> (a + b, n).
    RuntimeError for an empty list. concat and concatenate are the same."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    return Cat(dim % max(tensors[0].ndim, 1))(*tensors)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Tensors of one shape joined along a new dim: k tensors (m, n), dim=0 -> (k, m, n)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    return Stack(dim % (tensors[0].ndim + 1))(*tensors)


def cast(x, dtype):
    """x as dtype (x itself if it has it); the result of an integer or bool cast of x carries no gradient."""
    if x.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return Tensor._wrap(x.array.astype(dtype))  # integer results carry no gradient
    return Cast(dtype)(x)


def move_to(x, backend):
    """x on backend ('numpy' or 'cupy'), as torch's .to(device); the gradient moves back."""
    return MoveTo(backend)(x)


def clone(x):
    """A copy of x in new memory, not a view; the gradient passes through (torch.clone)."""
    return Clone()(x)
