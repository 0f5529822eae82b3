"""Reductions: sum mean prod max min amax amin (dim, keepdim), argmax argmin, cumsum cumprod, norm."""
import builtins as _b
import functools

from ..autograd import Function
from ..tensor import Tensor, ValuesIndices


def torch_aliases(fn):
    """Accept NumPy's spellings axis= / keepdims= for dim= / keepdim=, as torch does (x.sum(axis=1, keepdims=True))."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    return call


def _axes(dim, ndim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = _b.max(ndim, 1)
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return tuple(d % n for d in dims) if ndim else None


def _restore(gy, x_shape, axes, keepdim):
    """Give gy back the reduced axes (size 1) so it broadcasts against the input."""
    if keepdim or axes is None:
        return gy.reshape([1] * len(x_shape)) if axes is None and gy.ndim == 0 else gy
    shape = list(gy.shape)
    for a in sorted(axes):
        shape.insert(a, 1)
    return gy.reshape(shape)


class Sum(Function):
    """Sum over all elements or dims; bool and integer inputs sum in int64, as torch."""
    torch_name = "SumBackward0"

    def __init__(self, dim=None, keepdim=False):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        self.axes = _axes(self.dim, x.ndim)
        self.x_shape = x.shape
        if self.dim is not None:
            self.torch_name = "SumBackward1"  # torch's sum over dims
        return x.sum(axis=self.axes, keepdims=self.keepdim, dtype=_int_acc(x))

    def backward(self, gy):
        # d sum(x)/dx = 1 for every summed element
        return self.xp.broadcast_to(_restore(gy, self.x_shape, self.axes, self.keepdim), self.x_shape)


class Mean(Function):
    """Mean over all elements or dims; the gradient is gy / N on each averaged element."""
    torch_name = "MeanBackward0"

    def __init__(self, dim=None, keepdim=False):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        self.axes = _axes(self.dim, x.ndim)
        self.x_shape = x.shape
        if self.dim is not None:
            self.torch_name = "MeanBackward1"
        y = x.mean(axis=self.axes, keepdims=self.keepdim)
        self.n = x.size // _b.max(y.size, 1) if x.size else 0
        return y

    def backward(self, gy):
        # d mean(x)/dx = 1/N for every averaged element
        g = _restore(gy, self.x_shape, self.axes, self.keepdim) / self.n
        return self.xp.broadcast_to(g, self.x_shape)


class MaxMinDim(Function):
    """max/min along one dim: the gradient goes to the selected index, as torch."""
    torch_name = "MaxBackward0"

    def __init__(self, dim, keepdim, is_max):
        self.dim, self.keepdim, self.is_max = dim, keepdim, is_max
        if not is_max:
            self.torch_name = "MinBackward0"

    def forward(self, x):
        xp = self.xp
        self.axis = _axes(self.dim, x.ndim)
        self.axis = self.axis[0] if self.axis else 0
        x_ = x if x.ndim else x.reshape(1)
        if x_.shape[self.axis] == 0:
            raise IndexError("max(): Expected reduction dim to have non-zero size.")
        idx = (xp.argmax if self.is_max else xp.argmin)(x_, axis=self.axis, keepdims=True)
        self.x_shape = x.shape
        self.idx = idx
        y = xp.take_along_axis(x_, idx, axis=self.axis)
        if not self.keepdim:
            y, self.indices = y.squeeze(self.axis), idx.squeeze(self.axis)
        else:
            self.indices = idx
        if x.ndim == 0:
            y, self.indices = y.reshape(()), self.indices.reshape(())
        return y

    def backward(self, gy):
        # dL/dx = gy at the chosen index, 0 elsewhere
        xp = self.xp
        shape = self.x_shape if len(self.x_shape) else (1,)
        g = gy.reshape(self.idx.shape)
        # g where the position along axis is the chosen index (cupy.put_along_axis is newer than CuPy 13.0)
        axis = self.axis % len(shape)
        pos = xp.arange(shape[axis]).reshape([-1 if d == axis else 1 for d in range(len(shape))])
        gx = xp.where(pos == self.idx, g, gy.dtype.type(0))
        return gx.reshape(self.x_shape)


class AMaxMin(Function):
    """max/min over all elements (or amax over dims): ties share the gradient evenly, as torch."""
    torch_name = "AmaxBackward0"

    def __init__(self, dim, keepdim, is_max, nan_ties=False):
        # nan_ties: max()/min() share the gradient among NaNs; amax/amin give NaN gradients (torch)
        self.dim, self.keepdim, self.is_max, self.nan_ties = dim, keepdim, is_max, nan_ties
        # torch: max()/min() over everything are MaxBackward1/MinBackward1, amax/amin AmaxBackward0/AminBackward0
        self.torch_name = ("MaxBackward1" if is_max else "MinBackward1") if nan_ties else (
            "AmaxBackward0" if is_max else "AminBackward0")

    def forward(self, x):
        if x.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0.")
        self.axes = _axes(self.dim, x.ndim)
        self.x = x
        self.y = (x.max if self.is_max else x.min)(axis=self.axes, keepdims=self.keepdim)
        return self.y

    def backward(self, gy):
        # dL/dx = gy / (#ties) on every element equal to the extreme value
        xp = self.xp
        y = _restore(self.y, self.x.shape, self.axes, self.keepdim)
        mask = (self.x == y) | (xp.isnan(self.x) & xp.isnan(y)) if self.nan_ties else self.x == y
        count = mask.sum(axis=self.axes, keepdims=True).astype(gy.dtype)
        return mask * (_restore(gy, self.x.shape, self.axes, self.keepdim) / count)


class CumSum(Function):
    """Cumulative sum along dim; integers in int64, float16/32 accumulated in float64 (torch's CPU kernel)."""
    torch_name = "CumsumBackward0"

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        self.axis = _axes(self.dim, x.ndim)[0] if x.ndim else None
        return _scan(self.xp.cumsum, x, self.axis)

    def backward(self, gy):
        # dL/dx_i = sum_{j >= i} gy_j: a cumulative sum from the end
        xp, a = self.xp, self.axis
        return gy if a is None else xp.flip(_scan(xp.cumsum, xp.flip(gy, a), a), a)


class Prod(Function):
    """Product over all elements or one dim."""
    torch_name = "ProdBackward0"

    def __init__(self, dim=None, keepdim=False):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        self.axes = _axes(self.dim, x.ndim)
        if self.dim is not None:
            self.torch_name = "ProdBackward1"
        self.x = x
        self.y = x.prod(axis=self.axes, keepdims=self.keepdim, dtype=_int_acc(x))
        return self.y

    def backward(self, gy):
        # d prod(x)/dx_i = prod of the others: y / x_i where no x is 0, else the exclusive products (torch's)
        xp, x = self.xp, self.x
        g = _restore(gy, x.shape, self.axes, self.keepdim)
        if xp.all(x != 0):
            return g * (_restore(self.y, x.shape, self.axes, self.keepdim) / x)
        axis = 0 if self.axes is None else self.axes[0]
        flat = x.reshape(-1) if self.axes is None else x
        before = _exclusive_cumprod(xp, flat, axis)
        after = xp.flip(_exclusive_cumprod(xp, xp.flip(flat, axis), axis), axis)
        return g * (before * after).reshape(x.shape)


class CumProd(Function):
    """Cumulative product along dim (accumulated as CumSum); its backward also handles zeros in x."""
    torch_name = "CumprodBackward0"

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        self.axis = _axes(self.dim, x.ndim)[0] if x.ndim else None
        self.x = x
        self.y = _scan(self.xp.cumprod, x, self.axis)
        return self.y

    def backward(self, gy):
        # dL/dx_k = sum_{i >= k} gy_i y_i / x_k where no x is 0 (torch's formula); else the products without x_k
        xp, a, x = self.xp, self.axis, self.x
        if a is None:
            return gy
        if xp.all(x != 0):
            return xp.flip(_scan(xp.cumsum, xp.flip(gy * self.y, a), a), a) / x
        gx = xp.zeros_like(x)
        n = x.shape[a]
        for k in range(n):  # zeros: for each k, the running products with x_k left out (n passes)
            others = xp.moveaxis(x, a, -1).copy()
            others[..., k] = 1
            p = xp.moveaxis(xp.cumprod(others, axis=-1), -1, a)
            sl = [slice(None)] * x.ndim
            sl[a] = slice(k, n)
            total = (xp.moveaxis(gy, a, -1)[..., k:] * xp.moveaxis(p, a, -1)[..., k:]).sum(axis=-1)
            sel = [slice(None)] * x.ndim
            sel[a] = k
            gx[tuple(sel)] = total
        return gx


def _int_acc(x):
    """torch sums and multiplies bool and integer tensors in int64 (uint8 images: no wrap-around)."""
    return "int64" if x.dtype.kind in "biu" else None


def _scan(f, x, axis):
    """cumsum / cumprod as torch's CPU kernel: integers in int64, float16/32 accumulated in float64 then rounded."""
    if x.dtype.kind in "biu":
        return f(x, axis=axis, dtype="int64").reshape(x.shape)
    if x.dtype.itemsize < 8:
        return f(x, axis=axis, dtype="float64").astype(x.dtype).reshape(x.shape)
    return f(x, axis=axis).reshape(x.shape)


def _exclusive_cumprod(xp, x, axis):
    """[1, x0, x0 x1, ...] along axis: the product of everything before each element."""
    shifted = xp.concatenate([xp.ones_like(xp.take(x, [0], axis=axis)), xp.take(x, range(x.shape[axis] - 1),
                                                                               axis=axis)], axis=axis)
    return xp.cumprod(shifted, axis=axis)


class Norm(Function):
    """Euclidean norm over all elements or dims (p=2 only)."""
    torch_name = "LinalgVectorNormBackward0"

    float_only = True

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        self.axes = _axes(self.dim, x.ndim)
        xp = self.xp
        self.x = x
        y = xp.sqrt((x * x).sum(axis=self.axes, keepdims=True))  # in the dtype: may under/overflow, as torch
        if x.size and y.size == x.size:
            y = xp.abs(x)  # one element per group: torch returns |x| without squaring
        self.y = y if self.keepdim else y.reshape(_restore_shape(y.shape, self.axes, x.ndim))
        return self.y

    def backward(self, gy):
        # d||x||/dx = x / ||x||, and 0 where ||x|| = 0 (torch's subgradient)
        y = _restore(self.y, self.x.shape, self.axes, self.keepdim)
        g = _restore(gy, self.x.shape, self.axes, self.keepdim)
        return self.xp.where(y == 0, 0, g * self.x / self.xp.where(y == 0, 1, y))


def _restore_shape(shape, axes, ndim):
    return tuple(n for i, n in enumerate(shape) if i not in (axes if axes is not None else range(ndim)))


@torch_aliases
def cumsum(x, dim, dtype=None):
    """Cumulative sum along dim, x's shape; bool and integer x give int64, as torch; dtype= casts x first."""
    return CumSum(dim)(x if dtype is None else x.to(dtype))


@torch_aliases
def cumprod(x, dim, dtype=None):
    """Cumulative product along dim, x's shape; bool and integer x give int64, as torch; dtype= casts x first."""
    return CumProd(dim)(x if dtype is None else x.to(dtype))


@torch_aliases
def prod(x, dim=None, keepdim=False, dtype=None):
    """Product of all elements, or along one dim (a tuple is refused: TypeError); bool and integer x give int64."""
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod(): dim must be one int (torch's prod reduces one dim or all of them)")
    return Prod(dim, keepdim)(x)


@torch_aliases
def norm(x, p="fro", dim=None, keepdim=False):
    """Euclidean norm (p=2 / 'fro' only) over all elements or dims; float result; gradient 0 where it is 0."""
    if p not in ("fro", 2, 2.0):
        raise NotImplementedError(f"norm: only p=2 ('fro') is supported, got p={p!r}")
    return Norm(dim, keepdim)(x)


@torch_aliases
def sum(x, dim=None, keepdim=False, dtype=None):
    """Sum over all elements (0-d) or dims; bool and integer x give int64, as torch; dtype= casts x first."""
    if dtype is not None:
        x = x.to(dtype)
    return Sum(dim, keepdim)(x)


@torch_aliases
def mean(x, dim=None, keepdim=False, dtype=None):
    """Mean over all elements (0-d) or dims; integer x raises (a RuntimeError, as torch): pass dtype= or cast."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise NotImplementedError(  # a RuntimeError too: older torch raised that
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {x.dtype}. Convert first, e.g. x.float().mean()"
        )
    return Mean(dim, keepdim)(x)


def _max_min(x, dim, keepdim, is_max, other=None):
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum (ops/unary.py, through the method)
        return x.maximum(dim) if is_max else x.minimum(dim)
    if dim is None:
        return AMaxMin(None, False, is_max, nan_ties=True)(x)
    f = MaxMinDim(dim, keepdim, is_max)
    values = f(x)
    return ValuesIndices(values, Tensor._wrap(f.indices.astype("int64", copy=False)))


@torch_aliases
def max(x, dim=None, keepdim=False):
    """max(x) -> tensor; max(x, dim) -> (values, indices); max(a, b) -> elementwise maximum."""
    return _max_min(x, dim, keepdim, True)


@torch_aliases
def min(x, dim=None, keepdim=False):
    """min(x) -> tensor; min(x, dim) -> (values, indices); min(a, b) -> elementwise minimum."""
    return _max_min(x, dim, keepdim, False)


@torch_aliases
def amax(x, dim=None, keepdim=False):
    """Max over all elements or dims (a tuple allowed), no indices; ties share the gradient evenly, as torch."""
    return AMaxMin(dim, keepdim, True)(x)


@torch_aliases
def amin(x, dim=None, keepdim=False):
    """Min over all elements or dims (a tuple allowed), no indices; ties share the gradient evenly, as torch."""
    return AMaxMin(dim, keepdim, False)(x)


@torch_aliases
def argmax(x, dim=None, keepdim=False):
    """int64 index of the max: over the flattened x (dim=None), or along dim; the first on ties."""
    return _arg(x, dim, keepdim, "argmax")


@torch_aliases
def argmin(x, dim=None, keepdim=False):
    """int64 index of the min: over the flattened x (dim=None), or along dim; the first on ties."""
    return _arg(x, dim, keepdim, "argmin")


def _arg(x, dim, keepdim, name):
    xp = x.xp
    if dim is None:
        i = getattr(xp, name)(x.array)
        return Tensor._wrap(xp.asarray(i, dtype="int64").reshape((1,) * x.ndim if keepdim else ()))
    axis = _axes(dim, x.ndim)[0] if x.ndim else None
    return Tensor._wrap(getattr(xp, name)(x.array, axis=axis, keepdims=keepdim).astype("int64", copy=False))


def _reduced_size(x, dim):
    axes = _axes(dim, x.ndim)
    if axes is None:
        return 1
    out = x.array.size
    for a in axes:
        out //= x.shape[a]
    return out
