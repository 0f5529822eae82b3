"""softmax, log_softmax and logsumexp over one dim, each with its backward (torch's max-shifted formulas)."""
from ..autograd import Function
from .reduce import _axes, _restore, torch_aliases


class SoftmaxFunction(Function):
    """y = exp(x - max) / sum(exp(x - max)) along one dim; integer x computes in the default float dtype."""
    torch_name = "SoftmaxBackward0"
    float_only = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = self.xp
        self.axis = _axes(self.dim, x.ndim) or None
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        # dL/dx = y * (gy - sum(gy * y))
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmaxFunction(Function):
    """y = x - max - log(sum(exp(x - max))) along one dim (torch's formula)."""
    torch_name = "LogSoftmaxBackward0"
    float_only = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = self.xp
        self.axis = _axes(self.dim, x.ndim) or None
        # torch's formula: x - max - log(sum(exp(x - max)))
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self.y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, gy):
        # dL/dx = gy - softmax(x) * sum(gy)
        return gy - self.xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


class LogSumExp(Function):
    """y = m + log(sum(exp(x - m))) over dims, m the max (0 where it is infinite, so no inf - inf)."""
    torch_name = "LogsumexpBackward0"
    float_only = True

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        xp = self.xp
        self.axes = _axes(self.dim, x.ndim)
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        y = m + xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True))
        self.x, self.y = x, y
        reduced = self.axes or range(x.ndim)
        return y if self.keepdim else y.reshape([n for i, n in enumerate(y.shape) if i not in reduced])

    def backward(self, gy):
        # d logsumexp(x)/dx = softmax(x) = exp(x - y)
        return _restore(gy, self.x.shape, self.axes, self.keepdim) * self.xp.exp(self.x - self.y)


@torch_aliases
def softmax(x, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along dim, shifted by the max; x's shape, float. dtype= casts x first.
    dim=None warns and picks torch's legacy dim (0 for 0-d, 1-d, 3-d x, else 1)."""
    if dtype is not None:
        x = x.to(dtype)
    return SoftmaxFunction(_implicit_dim(x, dim, "softmax"))(x)


@torch_aliases
def log_softmax(x, dim=None, dtype=None):
    """x - max - log(sum(exp(x - max))) along dim (torch's formula); x's shape, float.
    dim=None warns and picks torch's legacy dim, as softmax."""
    if dtype is not None:
        x = x.to(dtype)
    return LogSoftmaxFunction(_implicit_dim(x, dim, "log_softmax"))(x)


def _implicit_dim(x, dim, name):
    if dim is not None:
        return dim
    # torch's legacy rule for dim=None (it warns); say which dim we picked
    import warnings

    d = 0 if x.ndim in (0, 1, 3) else 1
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument (using dim={d}).", stacklevel=3)
    return d


@torch_aliases
def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over dim (an int or tuple), shifted by the max, so large x does not overflow."""
    return LogSumExp(dim, keepdim)(x)
