"""Views, as torch's: x[1:], reshape, permute, expand share the base's memory and its version counter, and an
in-place change through a view gives the base torch's CopySlices node (its gradient) and the view AsStridedBackward0.
Tensor calls these as its methods `_track_view` and `_refresh_view` (minigrad/tensor.py)."""
import numpy

from .autograd import Function, edge
from .backend import get_array_module


def track_view(out, x, op):
    """Make `out` a view of x's base when its array shares x's memory (NumPy's reshape may copy)."""
    y, a = out.array, x.array
    if y.base is None or not get_array_module(a).may_share_memory(y, a):
        return
    out._base = x._base if x._base is not None else x
    out._view_ops = (x._view_ops if x._base is not None else ()) + (op,)
    out._vc = x._vc
    out._view_version = x._vc[0]


def refresh_view(t):
    """A view whose base was changed in place after the view's history was set: its gradient now goes through the
    base's new history (torch regenerates the view's grad_fn the same way, as AsStridedBackward0)."""
    if t._view_version == t._vc[0]:
        return
    t._view_version = t._vc[0]
    base = t._base
    if base.requires_grad:
        node = ViewOfBase(t._view_ops, base.array.shape)
        node.next_functions = (edge(base),)
        node.needs_input_grad = (True,)
        node.in_meta = [(base.array.shape, base.array.dtype)]
        node.xp, node.inputs = get_array_module(base.array), (base,)
        t._ctx, t._out_nr, t.requires_grad = node, 0, True


def view_positions(xp, view_ops, base_shape):
    """For each element of the view, its flat position in the base: the view ops replayed on arange(base.size)."""
    idx = xp.arange(int(numpy.prod(base_shape)), dtype=numpy.int64).reshape(base_shape)
    for op in view_ops:
        idx = op.view(idx)
    return idx


class ViewOfBase(Function):
    """y = a view of the base (the ops in view_ops replayed). torch: AsStridedBackward0."""
    torch_name = "AsStridedBackward0"

    def __init__(self, view_ops, base_shape):
        self.view_ops, self.base_shape = view_ops, base_shape

    def backward(self, gy):
        # each element of the view came from one base position: its gradient goes there (summed where several do)
        xp = self.xp
        gx = xp.zeros(int(numpy.prod(self.base_shape)), dtype=gy.dtype)
        xp.add.at(gx, view_positions(xp, self.view_ops, self.base_shape).reshape(-1), gy.reshape(-1))
        return gx.reshape(self.base_shape)


class CopySlices(Function):
    """base[view] = src, in place: the base's new value (torch's node for an in-place op through a view or
    x[i] = v). Inputs: the base's old value and the view's new value src."""
    torch_name = "torch::autograd::CopySlices"

    def __init__(self, view_ops, base_shape):
        self.view_ops, self.base_shape = view_ops, base_shape

    def backward(self, gy):
        # the view's places hold src now: their gradient goes to src, and none to the old base there
        pos = view_positions(self.xp, self.view_ops, self.base_shape)
        g_base = gy.copy()
        g_src = g_base.reshape(-1)[pos]
        g_base.reshape(-1)[pos.reshape(-1)] = 0
        return g_base, g_src
