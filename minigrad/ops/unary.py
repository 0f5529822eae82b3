"""Elementwise functions: exp log log1p sqrt abs clamp maximum minimum sigmoid tanh (ReLU is nn/layers.py's),
and rounding: floor ceil sign round (now in rounding.py: nodes whose gradient is 0, as torch's)."""
from ..autograd import Function
from ..tensor import Tensor


class Exp(Function):
    """y = exp(x) elementwise."""
    torch_name = "ExpBackward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, gy):
        # d exp(x)/dx = exp(x)
        return gy * self.y


class Log(Function):
    """y = log(x) elementwise."""
    torch_name = "LogBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, gy):
        # d log(x)/dx = 1/x
        return gy / self.x


class Log1p(Function):
    """y = log(1 + x) elementwise, accurate near x = 0."""
    torch_name = "Log1PBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.log1p(x)

    def backward(self, gy):
        # d log(1+x)/dx = 1/(1+x)
        return gy / (self.x + 1)


class Sqrt(Function):
    """y = sqrt(x) elementwise."""
    torch_name = "SqrtBackward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, gy):
        # d sqrt(x)/dx = 1 / (2 sqrt(x))
        return gy / (2 * self.y)


class Abs(Function):
    """y = |x| elementwise; gradient sign(x), 0 at x = 0 (torch's)."""
    torch_name = "AbsBackward0"

    def forward(self, x):
        self.x = x
        return self.xp.abs(x)

    def backward(self, gy):
        # d|x|/dx = sign(x), 0 at x = 0 and at NaN (torch's sgn)
        xp = self.xp
        return xp.where(self.x > 0, gy, xp.where(self.x < 0, -gy, 0))


class Clamp(Function):
    """y = clip(x, lo, hi) for number bounds (None: no bound); gradient 1 strictly inside, 0 on a bound and beyond."""
    saves_inputs = (0,)  # torch keeps x (ours, the mask from it)
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
    """y = max(a, b) elementwise; a tie splits the gradient in half, a NaN (y NaN) sends it to both."""
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
    """y = min(a, b) elementwise; a tie splits the gradient in half, a NaN (y NaN) sends it to both."""
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


class SigmoidFunction(Function):
    """y = 1 / (1 + exp(-x)) elementwise, from exp(-|x|) so it never overflows."""
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


class TanhFunction(Function):
    """y = tanh(x) elementwise."""
    torch_name = "TanhBackward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        # d tanh(x)/dx = 1 - y^2
        return gy * (1 - self.y * self.y)


def exp(x):
    """e ** x elementwise; an integer tensor gives the default float dtype, as torch."""
    return Exp()(x)


def log(x):
    """The natural log elementwise (-inf at 0, NaN below); an integer tensor gives the default float dtype."""
    return Log()(x)


def log1p(x):
    """log(1 + x) elementwise, accurate near 0; an integer tensor gives the default float dtype."""
    return Log1p()(x)


def sqrt(x):
    """The square root elementwise (NaN below 0); an integer tensor gives the default float dtype."""
    return Sqrt()(x)


def abs(x):
    """|x| elementwise, in x's dtype; its gradient at 0 is 0, as torch's."""
    return Abs()(x)


def clamp(x, min=None, max=None):
    """x limited to [min, max] (either may be None, not both: RuntimeError); clip is the same function.
    Number bounds pass the gradient strictly inside only; tensor bounds broadcast and split it in half at a tie."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
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
    """max(a, b) elementwise (shapes broadcast, dtypes promote); ties split the gradient, NaN propagates."""
    return Maximum()(a, b)


def minimum(a, b):
    """min(a, b) elementwise (shapes broadcast, dtypes promote); ties split the gradient, NaN propagates."""
    return Minimum()(a, b)


def sigmoid(x):
    """1 / (1 + exp(-x)) elementwise, without overflow for large |x|."""
    return SigmoidFunction()(x)


def tanh(x):
    """tanh(x) elementwise."""
    return TanhFunction()(x)


def square(x):
    """x * x elementwise (through mul, so its node is MulBackward0)."""
    from .arith import mul

    return mul(x, x)


def clamp_min(x, min):
    """clamp(x, min=min); node ClampMinBackward0 for a number bound, as torch."""
    return _renamed(clamp(x, min=min), Clamp, "ClampMinBackward0")


def clamp_max(x, max):
    """clamp(x, max=max); node ClampMaxBackward0 for a number bound, as torch."""
    return _renamed(clamp(x, max=max), Clamp, "ClampMaxBackward0")


def _renamed(y, cls, name):
    if type(y._ctx) is cls:
        y._ctx.torch_name = name  # the same op under the name torch gives this entry point
    return y


from .rounding import ceil, floor, round, sign  # noqa: E402,F401  (zero-gradient nodes, as torch's)
