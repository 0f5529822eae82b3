"""dtype names as torch spells them, mapped onto NumPy dtypes (CuPy shares them)."""
import builtins

import numpy

float32 = float = numpy.dtype("float32")
float64 = double = numpy.dtype("float64")
float16 = half = numpy.dtype("float16")
int64 = long = numpy.dtype("int64")
int32 = int = numpy.dtype("int32")
int16 = short = numpy.dtype("int16")
int8 = numpy.dtype("int8")
uint8 = numpy.dtype("uint8")
bool = numpy.dtype("bool")

_default_dtype = float32


def get_default_dtype():
    return _default_dtype


def set_default_dtype(d):
    """Default float dtype for new float tensors (float32 or float64), as torch.set_default_dtype."""
    global _default_dtype
    d = as_dtype(d)
    if d.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d


# legacy tensor-type names (x.type() -> 'torch.FloatTensor'; x.type('torch.DoubleTensor'))
TENSOR_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
                     int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor",
                     bool: "BoolTensor"}


def as_dtype(d):
    """Accept minigrad/numpy dtypes, Python types (float -> float64, as torch) and names like 'float32'."""
    if d is None:
        return None
    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if isinstance(d, str):
        names = {"float": float32, "double": float64, "long": int64, "int": int32, "half": float16,
                 "short": int16}
        d = d.replace("torch.", "").replace("minigrad.", "").replace("cuda.", "")
        names.update({v: k for k, v in TENSOR_TYPE_NAMES.items()})
        if d in names:
            return names[d]
    try:
        return numpy.dtype(d)
    except TypeError:
        raise TypeError(f"{d!r} is not a dtype: use minigrad.float32, minigrad.float64, minigrad.int64, ...")


def is_floating(d):
    return d.kind == "f"


def promote_types(a, b, a_is_scalar_like=False, b_is_scalar_like=False):
    """Result dtype of a binary op, following torch: int op float -> that float; a 0-d operand
    does not widen a dimensioned operand of the same category."""
    if a == b:
        return a
    ka, kb = _category(a), _category(b)
    if ka != kb:
        return a if ka > kb else b
    if a_is_scalar_like and not b_is_scalar_like:
        return b
    if b_is_scalar_like and not a_is_scalar_like:
        return a
    return numpy.promote_types(a, b)


def _category(d):
    return {"b": 0, "u": 1, "i": 1, "f": 2}.get(d.kind, 2)
