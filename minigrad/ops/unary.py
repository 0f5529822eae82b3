"""Elementwise functions: exp log sqrt abs clamp maximum minimum, and the activations."""
from .. import kernels
from ..autograd import Function


class Exp(Function):
    torch_name = "ExpBackward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, gy):
        # d exp(x)/dx = exp(x)
        return gy * self.y


class Log(Function):
    torch_name = "LogBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, gy):
        # d log(x)/dx = 1/x
        return gy / self.x


class Log1p(Function):
    torch_name = "Log1PBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.log1p(x)

    def backward(self, gy):
        # d log(1+x)/dx = 1/(1+x)
        return gy / (self.x + 1)


class Sqrt(Function):
    torch_name = "SqrtBackward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, gy):
        # d sqrt(x)/dx = 1 / (2 sqrt(x))
        return gy / (2 * self.y)


class Abs(Function):
    torch_name = "AbsBackward0"

    def forward(self, x):
        self.x = x
        return self.xp.abs(x)

    def backward(self, gy):
        # d|x|/dx = sign(x), 0 at x = 0 and at NaN (torch's sgn)
        xp = self.xp
        return xp.where(self.x > 0, gy, xp.where(self.x < 0, -gy, 0))


class Clamp(Function):
    torch_name = "ClampBackward1"

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = self.xp
        self.mask = xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            self.mask &= x > self.lo
        if self.hi is not None:
            self.mask &= x < self.hi
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        # d clamp(x)/dx = 1 strictly inside (lo, hi), 0 on the bounds and outside (as the pinned torch)
        return gy * self.mask


class Maximum(Function):
    torch_name = "MaximumBackward0"
    promote = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.maximum(a, b)

    def backward(self, gy):
        # gradient to the larger input; ties split it in half; NaN sends it to both (torch)
        xp, a, b = self.xp, self.a, self.b
        g = xp.where(a == b, gy / 2, gy)
        return xp.where(a < b, 0, g), xp.where(a > b, 0, g)


class Minimum(Function):
    torch_name = "MinimumBackward0"
    promote = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.minimum(a, b)

    def backward(self, gy):
        # gradient to the smaller input; ties split it in half; NaN sends it to both (torch)
        xp, a, b = self.xp, self.a, self.b
        g = xp.where(a == b, gy / 2, gy)
        return xp.where(a > b, 0, g), xp.where(a < b, 0, g)


class Sigmoid(Function):
    torch_name = "SigmoidBackward0"
    float_only = True

    def forward(self, x):
        xp = self.xp
        # exp of -|x| only, so large |x| never overflows
        e = xp.exp(-xp.abs(x))
        self.y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.y

    def backward(self, gy):
        # d sigmoid(x)/dx = (1 - y) y
        return gy * (1 - self.y) * self.y


class Tanh(Function):
    torch_name = "TanhBackward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        # d tanh(x)/dx = 1 - y^2
        return gy * (1 - self.y * self.y)


class ReLU(Function):
    torch_name = "ReluBackward0"

    def forward(self, x):
        fused = kernels.relu(x)  # the same two lines in one compiled pass (minigrad/kernels/cpu.py)
        if fused is not None:
            y, self.mask = fused
            return y
        zero = x.dtype.type(0)  # not a Python 0: NumPy 1.x would widen a 0-d float32 x against it to float64
        y = self.xp.maximum(x, zero)
        self.mask = ~(y <= 0)  # NaN passes its gradient, as torch's threshold_backward
        return y

    def backward(self, gy):
        # d relu(x)/dx = 1 if x > 0 else 0  (0 at the kink, as torch)
        gx = kernels.relu_backward(gy, self.mask)
        if gx is None:
            gx = gy * self.mask
            gx += gx.dtype.type(0)  # -0.0 + 0.0 = +0.0: torch's zeros carry no sign; cheaper than where()
        return gx


class LeakyReLU(Function):
    torch_name = "LeakyReluBackward0"

    def __init__(self, negative_slope=0.01):
        self.slope = negative_slope

    def forward(self, x):
        self.mask = x > 0
        return self.xp.where(self.mask, x, x * self.slope)

    def backward(self, gy):
        # d/dx = 1 if x > 0 else negative_slope
        return self.xp.where(self.mask, gy, gy * self.slope)


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def log1p(x):
    return Log1p()(x)


def sqrt(x):
    return Sqrt()(x)


def abs(x):
    return Abs()(x)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    from ..tensor import Tensor

    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # tensor bounds: torch splits the gradient at a tie with a bound, as maximum/minimum do
        y = x if min is None else maximum(x, min)
        return y if max is None else minimum(y, max)
    return Clamp(_scalar(min), _scalar(max))(x)


def _scalar(v):
    # a NumPy scalar bound (np.float64) would promote a float32 result under NumPy 2: use Python's
    return v.item() if hasattr(v, "item") else v


clip = clamp


def maximum(a, b):
    return Maximum()(a, b)


def minimum(a, b):
    return Minimum()(a, b)


def sigmoid(x):
    return Sigmoid()(x)


def tanh(x):
    return Tanh()(x)


def relu(x):
    return ReLU()(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(negative_slope)(x)


def square(x):
    from .arith import mul

    return mul(x, x)


def clamp_min(x, min):
    return _renamed(clamp(x, min=min), Clamp, "ClampMinBackward0")


def clamp_max(x, max):
    return _renamed(clamp(x, max=max), Clamp, "ClampMaxBackward0")


def _renamed(y, cls, name):
    if type(y._ctx) is cls:
        y._ctx.torch_name = name  # the same op under the name torch gives this entry point
    return y
