"""The out-of-place forms of torch's writers (zero_, fill_, copy_, x[index] = v): Tensor's in-place methods run
these on a snapshot of the old value and store the result, so each has a backward like any op."""
from ..autograd import Function
from ..tensor import Tensor, as_operand
from .shape import _is_advanced, raw_index


class Zero(Function):
    """y = 0 everywhere (x.zero_())."""
    torch_name = "ZeroBackward0"

    def forward(self, x):
        return self.xp.zeros_like(x)

    def backward(self, gy):
        # y does not depend on x
        return self.xp.zeros_like(gy)


class Fill(Function):
    """y = value everywhere (x.fill_(value)); value a Python number or a 0-d tensor."""
    torch_name = "FillBackward0"

    def forward(self, x, value):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions; pass a number or a 0-d tensor")
        return self.xp.full_like(x, value)

    def backward(self, gy):
        # dy/dx = 0; every element is the value: d/dvalue = sum of gy
        return self.xp.zeros_like(gy), gy.sum()


class Copy(Function):
    """y = src, broadcast to x's shape and cast to x's dtype (x.copy_(src)). torch: CopyBackwards."""
    torch_name = "torch::autograd::CopyBackwards"

    def forward(self, x, src):
        y = self.xp.empty_like(x)
        y[...] = src
        return y

    def backward(self, gy):
        # y does not depend on x; src's gradient is gy (Function sums it back over broadcast dims)
        return self.xp.zeros_like(gy), gy


class IndexPut(Function):
    """y = x with y[index] = v (an advanced index: integer arrays, lists, masks). torch: IndexPutBackward0."""
    torch_name = "IndexPutBackward0"

    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        y = x.copy()
        y[self.index] = v
        return y

    def backward(self, gy):
        # the written places hold v now: their gradient goes to v, none to x there
        gx = gy.copy()
        gx[self.index] = 0
        return gx, gy[self.index]


def zero(x):
    """Out-of-place x.zero_(): zeros of x's shape and dtype; x's gradient is 0."""
    return Zero()(x)


def fill(x, value):
    """Out-of-place x.fill_(value): value (a number or a 0-d tensor, cast to x's dtype) everywhere."""
    f = Fill()
    f.torch_name = "FillBackward3" if isinstance(value, Tensor) else "FillBackward2"  # torch's fill_ overloads
    return f(x, _value(value, x))


def copy(x, src):
    """Out-of-place x.copy_(src): src broadcast to x's shape and cast to x's dtype; the gradient goes to src."""
    return Copy()(x, _value(src, x))


def index_put(x, index, value):
    """x with x[index] = value (out of place)."""
    index = _index_array(raw_index(index), x)
    f = IndexPut(index)
    parts = [i for i in (index if isinstance(index, tuple) else (index,)) if hasattr(i, "dtype")]
    if not isinstance(value, Tensor) and len(parts) == 1:  # torch's nodes for a number written at one index
        f.torch_name = "MaskedFillBackward0" if parts[0].dtype.kind == "b" else "IndexFillBackward0"
    return f(x, _value(value, x))


def is_basic_index(index):
    """True for ints, slices, None and Ellipsis only: x[index] is then a view of x."""
    return not _is_advanced(index)


def _value(v, like):
    """A number as a 0-d tensor of like's dtype, a tensor as it is (the write casts it)."""
    if isinstance(v, Tensor):
        return v
    t = as_operand(v, like)
    return Tensor._wrap(t.array.astype(like.array.dtype, copy=False))


def _index_array(index, like):
    """Host index arrays follow x to its backend (a CuPy x takes no NumPy index)."""
    xp = like.xp
    if isinstance(index, tuple):
        return tuple(_index_array(i, like) for i in index)
    if isinstance(index, range):
        index = list(index)
    if hasattr(index, "dtype") or isinstance(index, list):
        return xp.asarray(index)
    return index
