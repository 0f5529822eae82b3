"""Rounding and signs: floor ceil round trunc (fix) frac sign sgn signbit.

torch gives floor/ceil/round/trunc/sign a graph node whose gradient is 0 (the derivative almost everywhere), so
`(x.floor() * w).sum().backward()` works and x.grad is zeros; frac's gradient is 1. Integer inputs keep their
dtype and carry no gradient.
"""
import math

from ..autograd import Function
from ..tensor import Tensor


class _ZeroGrad(Function):
    """A step function: gradient 0 everywhere (torch's choice at the jumps too)."""

    def backward(self, gy):
        # d step(x)/dx = 0
        return self.xp.zeros_like(gy)


class Floor(_ZeroGrad):
    """y = floor(x) elementwise (integer x unchanged); gradient 0."""
    torch_name = "FloorBackward0"

    def forward(self, x):
        return x if x.dtype.kind in "biu" else self.xp.floor(x)


class Ceil(_ZeroGrad):
    """y = ceil(x) elementwise (integer x unchanged); gradient 0."""
    torch_name = "CeilBackward0"

    def forward(self, x):
        return x if x.dtype.kind in "biu" else self.xp.ceil(x)


class Trunc(_ZeroGrad):
    """y = trunc(x), rounded toward zero (integer x unchanged); gradient 0."""
    torch_name = "TruncBackward0"

    def forward(self, x):
        return x if x.dtype.kind in "biu" else self.xp.trunc(x)


class Round(_ZeroGrad):
    """Round half to even; with decimals, x * 10^d rounded then divided back, as torch."""
    torch_name = "RoundBackward0"

    def __init__(self, decimals=0):
        self.decimals = decimals
        if decimals:
            self.torch_name = "RoundBackward1"

    def forward(self, x):
        if x.dtype.kind in "biu" and self.decimals == 0:
            return x
        return self.xp.round(x, self.decimals)


class Sign(_ZeroGrad):
    """y = sign(x): -1, 0 or 1 elementwise (bool x unchanged); gradient 0."""
    torch_name = "SignBackward0"

    def forward(self, x):
        return x if x.dtype.kind == "b" else self.xp.sign(x)


class Sgn(Sign):
    """sign for real tensors (torch.sgn differs from sign only on complex ones)."""
    torch_name = "SgnBackward0"


class Angle(_ZeroGrad):
    """The angle of a real number: 0 for x >= 0, pi for x < 0 (NaN stays NaN); gradient 0."""
    torch_name = "AngleBackward0"
    float_only = True

    def forward(self, x):
        return self.xp.where(x < 0, math.pi, self.xp.where(self.xp.isnan(x), x, 0)).astype(x.dtype)


class Frac(Function):
    """y = x - trunc(x) for float x (NotImplementedError otherwise); gradient 1."""
    torch_name = "FracBackward0"

    def forward(self, x):
        if x.dtype.kind != "f":
            raise NotImplementedError(f"frac is not implemented for {x.dtype} tensors: frac needs a float tensor")
        return x - self.xp.trunc(x)

    def backward(self, gy):
        # d (x - trunc(x))/dx = 1
        return gy


def floor(input):
    """Largest integer <= x (gradient 0)."""
    return Floor()(input)


def ceil(input):
    """Smallest integer >= x (gradient 0)."""
    return Ceil()(input)


def trunc(input):
    """x rounded toward zero (gradient 0)."""
    return Trunc()(input)


fix = trunc


def round(input, decimals=0):
    """x rounded half to even, to `decimals` places (gradient 0)."""
    return Round(int(decimals))(input)


def sign(input):
    """-1, 0 or 1 (gradient 0)."""
    return Sign()(input)


def sgn(input):
    """sign for real tensors (torch.sgn differs only on complex ones); its node is SgnBackward0."""
    return Sgn()(input)


def frac(input):
    """x - trunc(x) (gradient 1)."""
    return Frac()(input)


def signbit(input):
    """True where the sign bit is set (-0.0 included); a bool tensor, no gradient."""
    return Tensor._wrap(input.xp.signbit(input.array))


def angle(input):
    """0 or pi (the argument of a real number), gradient 0."""
    return Angle()(input)


def real(input):
    """A real tensor is its own real part (the same tensor, as torch)."""
    return input


conj = resolve_conj = resolve_neg = real
