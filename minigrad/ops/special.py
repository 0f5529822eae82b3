"""Special functions: erf erfc erfinv lgamma digamma polygamma mvlgamma i0 igamma igammac.

NumPy has no erf or lgamma: on the CPU they run Python's math.erf / math.lgamma (C's libm, as torch's) element by
element, on the GPU cupyx.scipy.special. digamma and polygamma are series in xp (recurrence up to a large enough
x, then the asymptotic expansion); trigamma is aten's calc_trigamma.
"""
import math

from ..autograd import Function
from ..tensor import Tensor

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _elementwise(xp, x, host_fn, gpu_name):
    """host_fn (a math.* function of one float) on every element, or cupyx.scipy.special.<gpu_name> on CuPy."""
    import numpy

    if xp is numpy:
        return numpy.asarray(numpy.frompyfunc(host_fn, 1, 1)(x)).astype(x.dtype)  # 0-d: a float, not an array
    import cupyx.scipy.special

    return getattr(cupyx.scipy.special, gpu_name)(x)


def _erf(xp, x):
    return _elementwise(xp, x, math.erf, "erf")


def _digamma(xp, x):
    """psi(x): reflection for x < 0.5, recurrence up to 6, then ln x - 1/2x - sum B_2k / (2k x^2k)."""
    z = xp.where(x < 0.5, 1 - x, x)
    acc = xp.zeros_like(z)
    for _ in range(6):
        small = z < 6
        acc = acc - xp.where(small, 1 / z, 0)
        z = xp.where(small, z + 1, z)
    w = 1 / (z * z)
    series = w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (1 / 240 - w * (1 / 132)))))
    psi = acc + xp.log(z) - 0.5 / z - series
    reflected = psi - math.pi / xp.tan(math.pi * x)
    psi = xp.where(x < 0.5, reflected, psi)
    return xp.where((x <= 0) & (x == xp.floor(x)), xp.where(x == 0, -xp.inf, xp.nan), psi).astype(x.dtype)


def _trigamma(xp, x):
    """psi'(x), aten's calc_trigamma: reflection for x < 0.5, six recurrence steps, then its asymptotic series."""
    z = xp.where(x < 0.5, 1 - x, x)
    acc = xp.zeros_like(z)
    for _ in range(6):
        acc = acc + 1 / (z * z)
        z = z + 1
    w = 1 / (z * z)
    psi1 = acc + (1 + 1 / (2 * z) + w * (1 / 6 - w * (1 / 30 - w * (1 / 42)))) / z
    reflected = (math.pi / xp.sin(math.pi * x)) ** 2 - psi1
    return xp.where(x < 0.5, reflected, psi1).astype(x.dtype)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _polygamma(xp, n, x):
    """psi^(n)(x), n >= 1: recurrence psi^(n)(x) = psi^(n)(x+1) + (-1)^(n+1) n! / x^(n+1) up to x >= 10 + n, then
    (-1)^(n+1) [(n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)! / ((2k)! z^(2k+n))]; +-inf at the poles."""
    if n == 1:
        return _trigamma(xp, x)
    sign, limit = (-1.0) ** (n + 1), 10.0 + n
    z, acc = x.astype("float64"), xp.zeros(x.shape, dtype="float64")
    steps = min(int(max(0.0, math.ceil(limit - float(z.min())))) if z.size else 0, 100000)
    for _ in range(steps):
        small = z < limit
        acc = acc + xp.where(small, 1 / xp.where(small, z, 1) ** (n + 1), 0)
        z = xp.where(small, z + 1, z)
    series = math.factorial(n - 1) / z ** n + math.factorial(n) / (2 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / z ** (2 * k + n)
    y = sign * (math.factorial(n) * acc + series)
    pole = (x <= 0) & (x == xp.floor(x))
    return xp.where(pole, sign * xp.inf, y).astype(x.dtype)


class Polygamma(Function):
    """y = polygamma(n, x), the n-th derivative of digamma (n >= 1); +-inf at the poles x = 0, -1, -2, ..."""
    torch_name = "PolygammaBackward0"
    float_only = True

    def __init__(self, n):
        self.n = n

    def forward(self, x):
        self.x = x
        return _polygamma(self.xp, self.n, x)

    def backward(self, gy):
        # d psi^(n)(x)/dx = psi^(n+1)(x)
        return gy * _polygamma(self.xp, self.n + 1, self.x)


def _bessel_i(xp, x, order):
    """Modified Bessel function I0 or I1 by its power series (x/2)^order sum (x^2/4)^k / (k! (k+order)!): positive
    terms, no cancellation, in float64, as many as the largest |x| needs (NumPy's i0 is no CuPy ufunc on the double)."""
    z = x.astype("float64")
    q = z * z / 4
    term = z / 2 if order else xp.ones_like(z)
    total = term
    for k in range(1, int(float(xp.abs(z).max())) + 40 if z.size else 1):
        term = term * q / (k * (k + order))
        total = total + term
    return total.astype(x.dtype)


class I0(Function):
    """y = I0(x), the modified Bessel function of the first kind of order 0; gradient I1(x)."""
    torch_name = "I0Backward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return _bessel_i(self.xp, x, 0)

    def backward(self, gy):
        # d I0(x)/dx = I1(x)
        return gy * _bessel_i(self.xp, self.x, 1)


def _igamma(xp, a, x, upper):
    """Regularized incomplete gamma P(a, x) (or Q = 1 - P): its series below x = a + 1, the continued fraction
    (modified Lentz) above, in float64; torch's conventions at the edges (a = 0, x = 0, x = inf, a < 0)."""
    a64, x64 = xp.broadcast_arrays(a.astype("float64"), x.astype("float64"))
    ok = (a64 > 0) & (x64 > 0) & xp.isfinite(x64)
    a_, x_ = xp.where(ok, a64, 1.0), xp.where(ok, x64, 1.0)
    log_front = a_ * xp.log(x_) - x_ - _elementwise(xp, a_, math.lgamma, "gammaln")
    use_series = x_ < a_ + 1  # each element runs only the expansion that converges fast for it
    xs, xc = xp.where(use_series, x_, 0.0), xp.where(use_series, a_ + 2, x_)
    term = total = 1 / a_  # series: sum x^n / (a (a+1) ... (a+n))
    for n in range(1, 2000):
        term = term * xs / (a_ + n)
        total = total + term
        if n % 8 == 0 and not bool((xp.abs(term) > 1e-17 * xp.abs(total)).any()):
            break
    p_series = xp.exp(log_front) * total
    b, c, d = xc + 1 - a_, 1 / 1e-300, 1 / (xc + 1 - a_)  # continued fraction for Q
    h = d
    for n in range(1, 2000):
        an, b = -n * (n - a_), b + 2
        d = an * d + b
        d = 1 / xp.where(xp.abs(d) < 1e-300, 1e-300, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < 1e-300, 1e-300, c)
        h = h * d * c
        if n % 8 == 0 and not bool((xp.abs(d * c - 1) > 1e-16).any()):
            break
    q_frac = xp.exp(log_front) * h
    p = xp.where(use_series, p_series, 1 - q_frac)
    q = xp.where(use_series, 1 - p_series, q_frac)
    y = q if upper else p
    edge_p = xp.where((a64 == 0) & (x64 > 0) | xp.isinf(x64) & (a64 >= 0), 1.0, 0.0)  # a = 0 or x = inf: P = 1
    edge = 1 - edge_p if upper else edge_p
    y = xp.where(ok, y, xp.where((a64 < 0) | (x64 < 0) | xp.isnan(a64) | xp.isnan(x64), xp.nan, edge))
    return y.astype(a.dtype)


class Igamma(Function):
    """P(a, x) (igamma) or Q(a, x) (igammac); torch has a gradient for x only."""
    torch_name = "IgammaBackward0"
    promote, float_only = True, True

    def __init__(self, upper):
        self.upper = upper
        if upper:
            self.torch_name = "IgammacBackward0"

    def forward(self, a, x):
        self.a, self.x = a, x
        return _igamma(self.xp, a, x, self.upper)

    def backward(self, gy):
        # dP/dx = x^(a-1) e^(-x) / Gamma(a) (Q: its negative); d/da is not implemented, as in torch
        if self.needs_input_grad[0]:
            raise RuntimeError(f"the derivative for '{'igammac' if self.upper else 'igamma'}: input' is not "
                               "implemented.")
        xp, a, x = self.xp, self.a, self.x
        g = gy * xp.exp((a - 1) * xp.log(x) - x - _elementwise(xp, a, math.lgamma, "gammaln"))
        return None, -g if self.upper else g


class Erf(Function):
    """y = erf(x) elementwise."""
    torch_name = "ErfBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return _erf(self.xp, x)

    def backward(self, gy):
        # d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
        return gy * (_TWO_OVER_SQRT_PI * self.xp.exp(-self.x * self.x))


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x) elementwise."""
    torch_name = "ErfcBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return _elementwise(self.xp, x, math.erfc, "erfc")

    def backward(self, gy):
        # d erfc(x)/dx = -2/sqrt(pi) exp(-x^2)
        return gy * (-_TWO_OVER_SQRT_PI * self.xp.exp(-self.x * self.x))


class Erfinv(Function):
    """y = erfinv(x), the inverse of erf on (-1, 1); +-inf at +-1, NaN outside."""
    torch_name = "ErfinvBackward0"
    float_only = True

    def forward(self, y):
        xp = self.xp
        if xp.__name__ != "numpy":
            import cupyx.scipy.special

            self.x = cupyx.scipy.special.erfinv(y)
            return self.x
        # a first guess from the logistic-like inverse, then Newton on erf(x) = y in float64
        t = y.astype("float64")
        a = 0.147
        ln = xp.log1p(-xp.where(xp.abs(t) < 1, t * t, 0))
        b = 2 / (math.pi * a) + ln / 2
        x = xp.sign(t) * xp.sqrt(xp.sqrt(b * b - ln / a) - b)
        for _ in range(4):
            x = x - (_erf(xp, x) - t) / (_TWO_OVER_SQRT_PI * xp.exp(-x * x))
        x = xp.where(xp.abs(t) == 1, t * xp.inf, xp.where(xp.abs(t) > 1, xp.nan, x))
        self.x = x.astype(y.dtype)
        return self.x

    def backward(self, gy):
        # d erfinv(y)/dy = sqrt(pi)/2 exp(erfinv(y)^2)
        return gy * (0.5 * math.sqrt(math.pi) * self.xp.exp(self.x * self.x))


class Lgamma(Function):
    """y = log |Gamma(x)| elementwise; inf at the poles x = 0, -1, -2, ...; gradient digamma(x)."""
    torch_name = "LgammaBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        xp = self.xp
        pole = (x <= 0) & (x == xp.floor(x))  # math.lgamma raises at poles; torch gives inf
        y = _elementwise(xp, xp.where(pole, 1, x), math.lgamma, "gammaln")
        return xp.where(pole, xp.inf, y).astype(x.dtype)

    def backward(self, gy):
        # d lgamma(x)/dx = digamma(x)
        return gy * _digamma(self.xp, self.x)


class Digamma(Function):
    """y = digamma(x) = d lgamma(x)/dx; -inf at 0, NaN at negative integers; gradient trigamma(x)."""
    torch_name = "DigammaBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return _digamma(self.xp, x)

    def backward(self, gy):
        # d digamma(x)/dx = polygamma(1, x)
        return gy * _trigamma(self.xp, self.x)


def erf(input):
    """2/sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    return Erf()(input)


def erfc(input):
    """1 - erf(x), exact for large x."""
    return Erfc()(input)


def erfinv(input):
    """The inverse of erf on (-1, 1); +-inf at +-1, NaN outside."""
    return Erfinv()(input)


def i0(input):
    """The modified Bessel function of the first kind, order 0."""
    return I0()(input)


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other)."""
    return Igamma(False)(input, other)


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    return Igamma(True)(input, other)


def lgamma(input):
    """log |Gamma(x)|."""
    return Lgamma()(input)


def digamma(input):
    """d lgamma(x)/dx; -inf at 0, NaN at negative integers, as torch."""
    return Digamma()(input)


def polygamma(n, input):
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n}")
    if n == 0:
        return digamma(input)
    return Polygamma(int(n))(input)


def mvlgamma(input, p):
    """Multivariate log-gamma: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi), composed as torch's."""
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got p={p}")
    from .reduce import sum as sum_
    from .shape import unsqueeze

    offsets = Tensor._wrap(input.xp.arange(p, dtype=input.array.dtype if input.dtype.kind == "f" else "float32") / -2)
    return sum_(lgamma(unsqueeze(input, -1) + offsets), -1) + p * (p - 1) / 4 * math.log(math.pi)
