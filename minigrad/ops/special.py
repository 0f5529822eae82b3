"""Special functions: erf erfc erfinv lgamma digamma polygamma(1, x) mvlgamma.

NumPy has no erf or lgamma: on the CPU they run Python's math.erf / math.lgamma (C's libm, as torch's) element by
element, on the GPU cupyx.scipy.special. digamma and trigamma are series in xp (recurrence up to x >= 6, then
the asymptotic expansion), exact to float64 rounding.
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
    """psi'(x): reflection for x < 0.5, recurrence up to 6, then 1/x + 1/2x^2 + sum B_2k / x^(2k+1)."""
    z = xp.where(x < 0.5, 1 - x, x)
    acc = xp.zeros_like(z)
    for _ in range(6):
        small = z < 6
        acc = acc + xp.where(small, 1 / (z * z), 0)
        z = xp.where(small, z + 1, z)
    w = 1 / (z * z)
    series = (1 + w * (1 / 6 - w * (1 / 30 - w * (1 / 42 - w * (1 / 30 - w * (5 / 66)))))) / z
    psi1 = acc + 0.5 * w + series
    reflected = (math.pi / xp.sin(math.pi * x)) ** 2 - psi1
    return xp.where(x < 0.5, reflected, psi1).astype(x.dtype)


class Erf(Function):
    torch_name = "ErfBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return _erf(self.xp, x)

    def backward(self, gy):
        # d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
        return gy * (_TWO_OVER_SQRT_PI * self.xp.exp(-self.x * self.x))


class Erfc(Function):
    torch_name = "ErfcBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return _elementwise(self.xp, x, math.erfc, "erfc")

    def backward(self, gy):
        # d erfc(x)/dx = -2/sqrt(pi) exp(-x^2)
        return gy * (-_TWO_OVER_SQRT_PI * self.xp.exp(-self.x * self.x))


class Erfinv(Function):
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


def lgamma(input):
    """log |Gamma(x)|."""
    return Lgamma()(input)


def digamma(input):
    """d lgamma(x)/dx; -inf at 0, NaN at negative integers, as torch."""
    return Digamma()(input)


def polygamma(n, input):
    """The n-th derivative of digamma: n = 0 (digamma) and n = 1 (trigamma, no gradient) here."""
    if n == 0:
        return digamma(input)
    if n == 1:
        x = input.array if input.dtype.kind == "f" else input.array.astype("float32")
        return Tensor._wrap(_trigamma(input.xp, x))
    raise NotImplementedError(f"polygamma: only n = 0 and n = 1 are implemented, got n={n}")


def mvlgamma(input, p):
    """Multivariate log-gamma: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi), composed as torch's."""
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got p={p}")
    from .reduce import sum as sum_
    from .shape import unsqueeze

    offsets = Tensor._wrap(input.xp.arange(p, dtype=input.array.dtype if input.dtype.kind == "f" else "float32") / -2)
    return sum_(lgamma(unsqueeze(input, -1) + offsets), -1) + p * (p - 1) / 4 * math.log(math.pi)
