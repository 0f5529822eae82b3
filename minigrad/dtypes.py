"""dtypes as torch's: `minigrad.float32` prints as torch.float32 and equals numpy.float32, and NumPy / CuPy
take it wherever they take a dtype (they read its `.dtype`, the NumPy dtype it stands for)."""
import builtins

import numpy


class dtype:
    """torch.dtype look-alike: one object per type; == compares with minigrad and NumPy dtypes alike."""

    __slots__ = ("dtype", "_name")

    def __init__(self, np_dtype, name):
        object.__setattr__(self, "dtype", numpy.dtype(np_dtype))
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr):  # kind, name, itemsize, type, char ...: the NumPy dtype's
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.dtype, attr)

    def __setattr__(self, attr, value):
        raise AttributeError("dtypes are immutable")

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self is other
        try:
            return self.dtype == other
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.dtype)  # as the NumPy dtype's, so either finds the other in a dict

    def __repr__(self):
        return f"torch.{self._name}"

    def __reduce__(self):
        return _by_name, (self._name,)

    @property
    def is_floating_point(self):
        """True for float16/32/64."""
        return self.dtype.kind == "f"

    @property
    def is_signed(self):
        """True for the signed integers and the floats."""
        return self.dtype.kind in "if"

    @property
    def is_complex(self):
        """False: minigrad has no complex dtypes."""
        return False


_BY_NAME = {}
_BY_NUMPY = {}


def _make(name):
    d = dtype(name, name)
    _BY_NAME[name] = d
    _BY_NUMPY[d.dtype] = d
    return d


def _by_name(name):
    return _BY_NAME[name]


float32 = float = _make("float32")
float64 = double = _make("float64")
float16 = half = _make("float16")
int64 = long = _make("int64")
int32 = int = _make("int32")
int16 = short = _make("int16")
int8 = _make("int8")
uint8 = _make("uint8")
uint16, uint32, uint64 = _make("uint16"), _make("uint32"), _make("uint64")
bool = _make("bool")


def of(np_dtype):
    """The minigrad dtype of a NumPy dtype (a backend array's .dtype); the NumPy dtype if there is none."""
    return _BY_NUMPY.get(np_dtype) or as_dtype(np_dtype)


_default_dtype = float32


def get_default_dtype():
    """The dtype of new float tensors (float32 unless set_default_dtype changed it)."""
    return _default_dtype


def set_default_dtype(d):
    """Default float dtype for new float tensors (float32 or float64), as torch.set_default_dtype."""
    global _default_dtype
    d = as_dtype(d)
    if d.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d


# torch's names of each dtype, the one table every message and legacy name reads: (type name, C++ scalar name).
# "Float" is x.type()'s 'torch.FloatTensor' and "expected ... Long" in errors; "float" is what matmul errors say.
TORCH_NAMES = {float32: ("Float", "float"), float64: ("Double", "double"), float16: ("Half", "c10::Half"),
               int64: ("Long", "long int"), int32: ("Int", "int"), int16: ("Short", "short int"),
               int8: ("Char", "signed char"), uint8: ("Byte", "unsigned char"), bool: ("Bool", "bool")}
# legacy tensor-type names (x.type() -> 'torch.FloatTensor'; x.type('torch.DoubleTensor'))
TENSOR_TYPE_NAMES = {d: names[0] + "Tensor" for d, names in TORCH_NAMES.items()}


def type_name(d):
    """torch's type name of dtype d in messages: 'Float', 'Long', ... (str(d) for one torch has no name for)."""
    names = TORCH_NAMES.get(d)
    return names[0] if names else str(d)


def scalar_name(d):
    """torch's C++ scalar name of dtype d in matmul messages: 'float', 'long int', ..."""
    names = TORCH_NAMES.get(d)
    return names[1] if names else str(d)


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
        if d in _BY_NAME:
            return _BY_NAME[d]
        names.update({v: k for k, v in TENSOR_TYPE_NAMES.items()})
        if d in names:
            return names[d]
    if isinstance(d, dtype):
        return d
    try:
        d = numpy.dtype(d)
    except TypeError:
        raise TypeError(f"{d!r} is not a dtype: use minigrad.float32, minigrad.float64, minigrad.int64, ...")
    return _BY_NUMPY.get(d.newbyteorder("=") if d.byteorder not in "=|" else d, d)


def is_floating(d):
    """True if the NumPy dtype d is a float dtype."""
    return d.kind == "f"


def promote_types(a, b, a_is_scalar_like=False, b_is_scalar_like=False):
    """Result dtype of a binary op, following torch: int op float -> that float; a 0-d operand
    does not widen a dimensioned operand of the same category."""
    if a == b:
        return a
    ka, kb = category(a), category(b)
    if ka != kb:
        return a if ka > kb else b
    if a_is_scalar_like and not b_is_scalar_like:
        return b
    if b_is_scalar_like and not a_is_scalar_like:
        return a
    return numpy.promote_types(a, b)


def category(d):
    """bool < integer < float: torch's casting order between kinds."""
    return {"b": 0, "u": 1, "i": 1, "f": 2}.get(d.kind, 2)


def promote_arrays(xs):
    """The arrays of a binary op cast to the one dtype torch's promotion gives them (0-d ones count as scalars)."""
    scalar_like = [x.ndim == 0 for x in xs]
    want = xs[0].dtype
    for x, s in zip(xs[1:], scalar_like[1:]):
        want = promote_types(want, x.dtype, scalar_like[0] and want == xs[0].dtype, s)
    return [x if x.dtype == want else x.astype(want) for x in xs]
