"""Elementwise ops with no gradient, as torch's: integer and logic ops (gcd, lcm, bitwise_*, logical_xor),
heaviside and nextafter."""
from ..tensor import Tensor
from .compare import nograd_binary


def _int_only(name):
    def f(input, other):
        for v in (input, other):
            if isinstance(v, Tensor) and v.dtype.kind == "f":
                raise RuntimeError(f"{name}: not implemented for floating point tensors ({v.dtype}): pass integers")
        return nograd_binary(input, other, _NP_NAMES.get(name, name))

    f.__name__ = name
    f.__doc__ = f"Elementwise {name} of integer (or bool) tensors; no gradient."
    return f


_NP_NAMES = {"bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift"}
gcd, lcm = _int_only("gcd"), _int_only("lcm")
bitwise_and, bitwise_or, bitwise_xor = _int_only("bitwise_and"), _int_only("bitwise_or"), _int_only("bitwise_xor")
bitwise_left_shift, bitwise_right_shift = _int_only("bitwise_left_shift"), _int_only("bitwise_right_shift")


def logical_xor(input, other):
    """True where exactly one of input and other is nonzero; a bool tensor, no gradient."""
    return nograd_binary(input, other, "logical_xor")


def heaviside(input, values):
    """0 where input < 0, values where input == 0, 1 where input > 0. torch has no derivative for it either."""
    return nograd_binary(input, values, "heaviside")


def nextafter(input, other):
    """The next float after input toward other (no derivative, as torch)."""
    return nograd_binary(input, other, "nextafter")
