"""Elementwise functions of two or three tensors: atan2 hypot fmod copysign xlogy logaddexp(2) fmax fmin lerp
addcmul addcdiv nan_to_num, and the integer / no-gradient ones (gcd lcm bitwise_* logical_xor heaviside nextafter).
Operands broadcast; Function sums each gradient back to its input's shape."""
import math

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor, as_operand


class Atan2(Function):
    """y = atan2(a, b) elementwise, the angle of the point (b, a)."""
    torch_name = "Atan2Backward0"
    promote, float_only = True, True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.arctan2(a, b)

    def backward(self, gy):
        # d atan2(a, b) = (b da - a db) / (a^2 + b^2)
        r = gy / (self.a * self.a + self.b * self.b)
        return self.b * r, -self.a * r


class Hypot(Function):
    """y = sqrt(a^2 + b^2) elementwise."""
    torch_name = "HypotBackward0"
    promote, float_only = True, True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = self.xp.hypot(a, b)
        return self.y

    def backward(self, gy):
        # d sqrt(a^2 + b^2) = (a da + b db) / y
        return gy * self.a / self.y, gy * self.b / self.y


class Fmod(Function):
    """y = a - trunc(a / b) * b elementwise (the sign of a)."""
    torch_name = "FmodBackward1"
    promote = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.fmod(a, b)

    def backward(self, gy):
        # fmod(a, b) = a - trunc(a/b) b:  d/da = 1, d/db = -trunc(a/b)
        return gy, -gy * self.xp.trunc(self.a / self.b)


class Remainder(Function):
    """Python's %: the remainder has the divisor's sign."""
    torch_name = "RemainderBackward0"
    promote = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.remainder(a, b)

    def backward(self, gy):
        # remainder(a, b) = a - floor(a/b) b:  d/da = 1, d/db = -floor(a/b)
        return gy, -gy * self.xp.floor(self.a / self.b)


class Copysign(Function):
    """y = |a| with the sign of b; gradient y / a (+-1, 0 at a = 0) to a, 0 to b."""
    torch_name = "CopysignBackward0"
    promote, float_only = True, True

    def forward(self, a, b):
        self.a = a
        self.y = self.xp.copysign(a, b)
        return self.y

    def backward(self, gy):
        # d copysign(a, b)/da = y / a (+-1), 0 at a = 0; b only gives the sign: 0
        xp, a = self.xp, self.a
        return xp.where(a == 0, 0, gy * (self.y / xp.where(a == 0, 1, a))), xp.zeros_like(gy)


class Xlogy(Function):
    """y = x * log(y) elementwise, 0 where x == 0 unless y is NaN."""
    torch_name = "XlogyBackward0"
    promote, float_only = True, True

    def forward(self, x, y):
        xp = self.xp
        self.x, self.y = x, y
        return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log(y)).astype(x.dtype)

    def backward(self, gy):
        # d x log(y)/dx = log(y) (at x = 0 too, as torch 2.15), d/dy = x / y
        return gy * self.xp.log(self.y), gy * self.x / self.y


class LogAddExp(Function):
    """y = log(exp(a) + exp(b)) elementwise."""
    torch_name = "LogaddexpBackward0"
    promote, float_only = True, True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.logaddexp(a, b)

    def backward(self, gy):
        # d log(e^a + e^b)/da = 1 / (1 + e^(b - a))
        xp = self.xp
        return gy / (1 + xp.exp(self.b - self.a)), gy / (1 + xp.exp(self.a - self.b))


class LogAddExp2(Function):
    """y = log2(2 ** a + 2 ** b) elementwise."""
    torch_name = "Logaddexp2Backward0"
    promote, float_only = True, True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.logaddexp2(a, b)

    def backward(self, gy):
        # d log2(2^a + 2^b)/da = 1 / (1 + 2^(b - a))
        xp = self.xp
        return gy / (1 + xp.exp2(self.b - self.a)), gy / (1 + xp.exp2(self.a - self.b))


class Fmax(Function):
    """maximum that ignores NaN: ties split the gradient; a NaN input passes it to the other one (torch)."""
    torch_name = "FmaxBackward0"
    promote = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.fmax(a, b)

    def backward(self, gy):
        # gradient to the larger input (the non-NaN one); at a tie half to each
        return _pick(self.xp, gy, self.a > self.b, self.b > self.a, self.a, self.b)


class Fmin(Function):
    """minimum that ignores NaN: ties split the gradient; a NaN input passes it to the other one (torch)."""
    torch_name = "FminBackward0"
    promote = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.fmin(a, b)

    def backward(self, gy):
        # gradient to the smaller input (the non-NaN one); at a tie half to each
        return _pick(self.xp, gy, self.a < self.b, self.b < self.a, self.a, self.b)


def _pick(xp, gy, a_wins, b_wins, a, b):
    """fmax/fmin's gradient split: the winner gets gy, a tie gy/2 each; NaN loses (both NaN: a gets it)."""
    na, nb = xp.isnan(a), xp.isnan(b)
    half = xp.where(a == b, gy / 2, 0)
    ga = xp.where(a_wins | nb, gy, half)
    gb = xp.where(b_wins | (na & ~nb), gy, xp.where(nb, 0, half))
    return ga, gb


class Lerp(Function):
    """start + weight (end - start), in torch's two-sided form (exact at weight 0 and 1)."""
    torch_name = "LerpBackward1"

    def forward(self, start, end, weight):
        self.w, self.d = weight, end - start
        return self.xp.where(self.xp.abs(weight) < 0.5, start + weight * self.d, end - self.d * (1 - weight))

    def backward(self, gy):
        # d/dstart = 1 - w, d/dend = w, d/dweight = end - start
        return gy * (1 - self.w), gy * self.w, gy * self.d


class Addcmul(Function):
    """y = x + value * t1 * t2 (broadcast)."""
    torch_name = "AddcmulBackward0"

    def __init__(self, value):
        self.value = value

    def forward(self, x, t1, t2):
        self.t1, self.t2 = t1, t2
        return x + self.value * (t1 * t2)

    def backward(self, gy):
        # d (x + v t1 t2) = dx + v t2 dt1 + v t1 dt2
        g = gy * self.value
        return gy, g * self.t2, g * self.t1


class Addcdiv(Function):
    """y = x + value * t1 / t2 (broadcast)."""
    torch_name = "AddcdivBackward0"

    def __init__(self, value):
        self.value = value

    def forward(self, x, t1, t2):
        self.t1, self.t2 = t1, t2
        return x + self.value * (t1 / t2)

    def backward(self, gy):
        # d (x + v t1/t2) = dx + v/t2 dt1 - v t1/t2^2 dt2
        g = gy * self.value
        return gy, g / self.t2, -g * self.t1 / (self.t2 * self.t2)


class NanToNum(Function):
    """y = x with NaN, +inf and -inf replaced; gradient 0 where x was replaced."""
    torch_name = "NanToNumBackward0"

    def __init__(self, nan, posinf, neginf):
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        self.finite = self.xp.isfinite(x)
        if x.dtype.kind != "f":
            return x.copy()
        info = self.xp.finfo(x.dtype)
        hi = info.max if self.posinf is None else self.posinf
        lo = info.min if self.neginf is None else self.neginf
        y = self.xp.where(self.xp.isnan(x), self.nan, x)
        return self.xp.where(y == math.inf, hi, self.xp.where(y == -math.inf, lo, y)).astype(x.dtype)

    def backward(self, gy):
        # identity where x is finite, 0 where it was replaced
        return self.xp.where(self.finite, gy, 0)


def _tensor_args(*args):
    """Scalars as 0-d tensors (torch's scalar dtype rules) next to the first tensor, promoted to one dtype."""
    first = next(a for a in args if isinstance(a, Tensor))
    ts = [as_operand(a, first) for a in args]
    want, want_0d = ts[0].dtype, ts[0].ndim == 0
    for t in ts[1:]:
        new = dtypes.promote_types(want, t.dtype, want_0d, t.ndim == 0)
        want_0d = want_0d and t.ndim == 0 if new == want else t.ndim == 0
        want = new
    return [t if t.dtype == want else t.to(want) for t in ts]


def atan2(input, other):
    """Angle of the point (other, input), in (-pi, pi]."""
    return Atan2()(input, other)


arctan2 = atan2


def hypot(input, other):
    """sqrt(input^2 + other^2) without overflow."""
    return Hypot()(input, other)


def fmod(input, other):
    """C's fmod: the remainder has the sign of input (remainder() takes the divisor's)."""
    f = Fmod()
    if not isinstance(other, Tensor):
        f.torch_name = "FmodBackward0"
    return f(input, other)


def remainder(input, other):
    """Python's %: input - floor(input / other) * other, with other's sign (fmod takes input's)."""
    f = Remainder()
    if not isinstance(other, Tensor):
        f.torch_name = "RemainderBackward1"
    return f(input, other)


def copysign(input, other):
    """|input| with the sign of other."""
    f = Copysign()
    if not isinstance(other, Tensor):
        f.torch_name = "CopysignBackward1"
    return f(input, other)


def xlogy(input, other):
    """input * log(other), 0 where input is 0 (unless other is NaN)."""
    f = Xlogy()
    if not isinstance(input, Tensor):
        f.torch_name = "XlogyBackward1"
    return f(input, other)


def logaddexp(input, other):
    """log(exp(input) + exp(other)) elementwise, without overflow."""
    return LogAddExp()(input, other)


def logaddexp2(input, other):
    """log2(2 ** input + 2 ** other) elementwise, without overflow."""
    return LogAddExp2()(input, other)


def fmax(input, other):
    """max(input, other) elementwise ignoring NaN (NaN only where both are); a tie splits the gradient in half."""
    return Fmax()(input, other)


def fmin(input, other):
    """min(input, other) elementwise ignoring NaN (NaN only where both are); a tie splits the gradient in half."""
    return Fmin()(input, other)


def lerp(input, end, weight):
    """input + weight * (end - input); weight a number or a tensor."""
    for t in (input, end):
        if isinstance(t, Tensor) and t.dtype.kind != "f":
            raise NotImplementedError(f"lerp is not implemented for {t.dtype} tensors: pass floating point tensors")
    start, end_, w = _tensor_args(input, end, weight)
    f = Lerp()
    if not isinstance(weight, Tensor):
        f.torch_name = "LerpBackward0"
    return f(start, end_, w)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return Addcmul(value)(*_tensor_args(input, tensor1, tensor2))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2."""
    x, t1, t2 = _tensor_args(input, tensor1, tensor2)
    if t1.dtype.kind in "biu" and t2.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported: use a float tensor1 or tensor2")
    return Addcdiv(value)(x, t1, t2)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf (default: the dtype's max), -inf -> neginf (default: its min)."""
    return NanToNum(nan, posinf, neginf)(input)


def float_power(input, exponent):
    """pow computed in float64 (the result is float64), as torch."""
    from .arith import pow

    def f64(v):
        return v.to(dtypes.float64) if isinstance(v, Tensor) else float(v)
    return pow(f64(input), f64(exponent))


def ldexp(input, other):
    """input * 2 ** other (composed, as torch's)."""
    from .arith import mul, pow

    return mul(input, pow(2.0, other))


def true_divide(input, other):
    """input / other (div): true division, integer inputs give a float result."""
    from .arith import div

    return div(input, other)


def negative(input):
    """-input (neg)."""
    from .arith import neg

    return neg(input)


def positive(input):
    """The input itself (torch refuses bool tensors)."""
    if input.dtype == dtypes.bool:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input
