"""Elementwise functions of one float tensor: trigonometric, hyperbolic, exp2 expm1 log2 log10 rsqrt, sinc logit,
deg2rad rad2deg. Integer inputs compute in the default float dtype, as torch's (torch.sin(int) is float32)."""
import math

from ..autograd import Function

_LN2, _LN10 = math.log(2.0), math.log(10.0)


class Sin(Function):
    """y = sin(x) elementwise."""
    torch_name = "SinBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.sin(x)

    def backward(self, gy):
        # d sin(x)/dx = cos(x)
        return gy * self.xp.cos(self.x)


class Cos(Function):
    """y = cos(x) elementwise."""
    torch_name = "CosBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.cos(x)

    def backward(self, gy):
        # d cos(x)/dx = -sin(x)
        return gy * -self.xp.sin(self.x)


class Tan(Function):
    """y = tan(x) elementwise."""
    torch_name = "TanBackward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.tan(x)
        return self.y

    def backward(self, gy):
        # d tan(x)/dx = 1 + tan(x)^2
        return gy * (1 + self.y * self.y)


class Asin(Function):
    """y = asin(x) elementwise (NaN outside [-1, 1])."""
    torch_name = "AsinBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.arcsin(x)

    def backward(self, gy):
        # d asin(x)/dx = 1 / sqrt(1 - x^2)
        return gy / self.xp.sqrt(1 - self.x * self.x)


class Acos(Function):
    """y = acos(x) elementwise (NaN outside [-1, 1])."""
    torch_name = "AcosBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.arccos(x)

    def backward(self, gy):
        # d acos(x)/dx = -1 / sqrt(1 - x^2)
        return -gy / self.xp.sqrt(1 - self.x * self.x)


class Atan(Function):
    """y = atan(x) elementwise."""
    torch_name = "AtanBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.arctan(x)

    def backward(self, gy):
        # d atan(x)/dx = 1 / (1 + x^2)
        return gy / (self.x * self.x + 1)


class Sinh(Function):
    """y = sinh(x) elementwise."""
    torch_name = "SinhBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.sinh(x)

    def backward(self, gy):
        # d sinh(x)/dx = cosh(x)
        return gy * self.xp.cosh(self.x)


class Cosh(Function):
    """y = cosh(x) elementwise."""
    torch_name = "CoshBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.cosh(x)

    def backward(self, gy):
        # d cosh(x)/dx = sinh(x)
        return gy * self.xp.sinh(self.x)


class Asinh(Function):
    """y = asinh(x) elementwise."""
    torch_name = "AsinhBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.arcsinh(x)

    def backward(self, gy):
        # d asinh(x)/dx = 1 / sqrt(x^2 + 1)
        return gy / self.xp.sqrt(self.x * self.x + 1)


class Acosh(Function):
    """y = acosh(x) elementwise (NaN below 1)."""
    torch_name = "AcoshBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.arccosh(x)

    def backward(self, gy):
        # d acosh(x)/dx = 1 / sqrt(x^2 - 1)
        return gy / self.xp.sqrt(self.x * self.x - 1)


class Atanh(Function):
    """y = atanh(x) elementwise (+-inf at +-1, NaN outside)."""
    torch_name = "AtanhBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.arctanh(x)

    def backward(self, gy):
        # d atanh(x)/dx = 1 / (1 - x^2)
        return gy / (1 - self.x * self.x)


class Exp2(Function):
    """y = 2 ** x elementwise."""
    torch_name = "Exp2Backward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.exp2(x)
        return self.y

    def backward(self, gy):
        # d 2^x/dx = 2^x ln 2
        return gy * self.y * _LN2


class Expm1(Function):
    """y = exp(x) - 1 elementwise, accurate near x = 0."""
    torch_name = "Expm1Backward0"
    float_only = True

    def forward(self, x):
        self.y = self.xp.expm1(x)
        return self.y

    def backward(self, gy):
        # d (e^x - 1)/dx = e^x = y + 1
        return gy * (self.y + 1)


class Log2(Function):
    """y = log2(x) elementwise."""
    torch_name = "Log2Backward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.log2(x)

    def backward(self, gy):
        # d log2(x)/dx = 1 / (x ln 2)
        return gy / (self.x * _LN2)


class Log10(Function):
    """y = log10(x) elementwise."""
    torch_name = "Log10Backward0"
    float_only = True

    def forward(self, x):
        self.x = x
        return self.xp.log10(x)

    def backward(self, gy):
        # d log10(x)/dx = 1 / (x ln 10)
        return gy / (self.x * _LN10)


class Rsqrt(Function):
    """y = 1 / sqrt(x) elementwise."""
    torch_name = "RsqrtBackward0"
    float_only = True

    def forward(self, x):
        self.y = 1 / self.xp.sqrt(x)
        return self.y

    def backward(self, gy):
        # d x^(-1/2)/dx = -y^3 / 2
        return -0.5 * gy * self.y ** 3


class Sinc(Function):
    """y = sin(pi x) / (pi x) elementwise, 1 at x = 0 (gradient 0 there)."""
    torch_name = "SincBackward0"
    float_only = True

    def forward(self, x):
        self.x = x
        px = x * math.pi
        return self.xp.where(x == 0, 1, self.xp.sin(px) / self.xp.where(x == 0, 1, px)).astype(x.dtype)

    def backward(self, gy):
        # d sin(pi x)/(pi x) dx = (cos(pi x) pi x - sin(pi x)) / (pi x^2), 0 where pi x^2 is 0 (torch's guard)
        xp, x = self.xp, self.x
        px, sq = x * math.pi, x * x * math.pi
        g = gy * (xp.cos(px) * px - xp.sin(px)) / xp.where(sq == 0, 1, sq)
        return xp.where(sq == 0, 0, g)


class Logit(Function):
    """y = log(z / (1 - z)), z = x clamped to [eps, 1 - eps] if eps is given (gradient 0 outside that range)."""
    torch_name = "LogitBackward0"
    float_only = True

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x):
        self.x = x
        z = x if self.eps is None else self.xp.clip(x, self.eps, 1 - self.eps)
        return self.xp.log(z / (1 - z))

    def backward(self, gy):
        # d log(x/(1-x))/dx = 1 / (x (1 - x)); 0 outside [eps, 1-eps] when eps is given, as torch
        xp, x = self.xp, self.x
        g = gy / (x * (1 - x))
        if self.eps is None:
            return xp.where((x < 0) | (x > 1), xp.nan, g)
        return xp.where((x < self.eps) | (x > 1 - self.eps), 0, g)


class Deg2Rad(Function):
    """y = x * pi / 180 elementwise."""
    torch_name = "Deg2RadBackward0"
    float_only = True

    def forward(self, x):
        return x * (math.pi / 180)

    def backward(self, gy):
        # d (x pi/180)/dx = pi/180
        return gy * (math.pi / 180)


class Rad2Deg(Function):
    """y = x * 180 / pi elementwise."""
    torch_name = "Rad2DegBackward0"
    float_only = True

    def forward(self, x):
        return x * (180 / math.pi)

    def backward(self, gy):
        # d (x 180/pi)/dx = 180/pi
        return gy * (180 / math.pi)


def _fn(cls, name, doc):
    def f(input):
        return cls()(input)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


sin, cos, tan = _fn(Sin, "sin", "sin(x)"), _fn(Cos, "cos", "cos(x)"), _fn(Tan, "tan", "tan(x)")
asin, acos, atan = _fn(Asin, "asin", "asin(x)"), _fn(Acos, "acos", "acos(x)"), _fn(Atan, "atan", "atan(x)")
sinh, cosh = _fn(Sinh, "sinh", "sinh(x)"), _fn(Cosh, "cosh", "cosh(x)")
asinh, acosh, atanh = _fn(Asinh, "asinh", "asinh(x)"), _fn(Acosh, "acosh", "acosh(x)"), _fn(Atanh, "atanh", "atanh(x)")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
exp2, expm1 = _fn(Exp2, "exp2", "2 ** x"), _fn(Expm1, "expm1", "exp(x) - 1, exact near 0")
log2, log10 = _fn(Log2, "log2", "log base 2"), _fn(Log10, "log10", "log base 10")
rsqrt, sinc = _fn(Rsqrt, "rsqrt", "1 / sqrt(x)"), _fn(Sinc, "sinc", "sin(pi x) / (pi x), 1 at 0")
deg2rad, rad2deg = _fn(Deg2Rad, "deg2rad", "degrees to radians"), _fn(Rad2Deg, "rad2deg", "radians to degrees")


def logit(input, eps=None):
    """log(x / (1 - x)); with eps, x is first clamped to [eps, 1 - eps]."""
    return Logit(None if eps is None else float(eps))(input)
