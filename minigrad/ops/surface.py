"""Wiring for the ops of issue 19 (torch's "Math operations"): their Tensor methods, in-place twins and out= forms,
plus torch's aliases of older ops. setup_tensor (tensor_ops.py) calls setup(); minigrad/__init__ imports the out=
forms from here after ops/out.py's."""
from . import arith, binary, bitwise, compare, counting, indexing, joining, pointwise, products, rearrange, rounding
from . import sorting, special, stats, unary
from .out import with_out

# x.f(...) == minigrad.f(x, ...) where torch.Tensor has f
METHODS = [
    "acos", "acosh", "addbmm", "addcdiv", "addcmul", "addmm", "addmv", "addr", "adjoint", "aminmax", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argsort", "argwhere", "asin", "asinh", "atan",
    "atan2", "atanh", "baddbmm", "bincount", "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "bmm", "broadcast_to", "chunk", "copysign", "corrcoef", "cos", "cosh", "count_nonzero", "cov",
    "cross", "cummax", "cummin", "deg2rad", "diag", "diag_embed", "diagflat", "diagonal", "diff", "digamma", "dist",
    "dot", "dsplit", "erf", "erfc", "erfinv", "exp2", "expm1", "fix", "flip", "fliplr", "flipud", "float_power",
    "fmax", "fmin", "fmod", "frac", "frexp", "gcd", "ger", "heaviside", "histc", "histogram", "hsplit", "hypot",
    "index_add", "index_copy", "index_fill", "inner", "isneginf", "isposinf", "isreal", "kron", "kthvalue", "lcm",
    "ldexp", "lerp", "lgamma", "log10", "log2", "logaddexp", "logaddexp2", "logcumsumexp", "logical_xor", "logit",
    "masked_select", "matrix_power", "median", "mode", "moveaxis", "movedim", "msort", "mv", "mvlgamma",
    "nan_to_num", "nanmean", "nanmedian", "nanquantile", "nansum", "narrow", "narrow_copy", "negative", "nextafter",
    "nonzero", "outer", "positive", "quantile", "rad2deg", "ravel", "repeat_interleave", "roll", "rot90", "rsqrt",
    "select", "select_scatter", "sgn", "signbit", "sin", "sinc", "sinh", "slice_scatter", "sort", "split",
    "swapdims", "take", "tan", "tensor_split", "tile", "topk", "trace", "tril", "triu", "true_divide", "trunc",
    "unbind", "unflatten", "unique", "unique_consecutive", "vdot", "vsplit", "xlogy", "absolute", "greater_equal",
    "less_equal", "not_equal", "logical_and", "logical_or", "logical_not", "isclose", "allclose", "equal", "swapaxes",
    "clamp_min", "clamp_max", "remainder", "floor_divide", "isin", "det", "angle", "conj", "resolve_conj",
    "resolve_neg", "renorm", "i0", "igamma", "igammac", "bitwise_not", "greater", "less", "diagonal_scatter",
    "scatter_reduce", "index_reduce",
]

# x.f_(...) stores minigrad.f(x, ...) in x (torch's in-place twins)
INPLACE = [
    "acos", "acosh", "addbmm", "addcdiv", "addcmul", "addmm", "addmv", "addr", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "baddbmm", "bitwise_and",
    "bitwise_left_shift", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "copysign", "cos", "cosh", "deg2rad",
    "digamma", "erf", "erfc", "erfinv", "exp2", "expm1", "fix", "fmod", "frac", "gcd", "heaviside", "hypot",
    "index_add", "index_copy", "index_fill", "lcm", "ldexp", "lerp", "lgamma", "log10", "log2", "logical_xor",
    "logit", "mvlgamma", "nan_to_num", "negative", "nextafter", "rad2deg", "rsqrt", "sgn", "sin", "sinc", "sinh",
    "tan", "tril", "triu", "true_divide", "trunc", "xlogy", "clamp", "clip", "remainder", "floor_divide",
    "logical_and", "logical_or", "logical_not", "renorm", "i0", "igamma", "igammac", "scatter_reduce", "index_reduce",
    "absolute",
    "divide", "multiply", "subtract", "eq", "ne",
    "lt", "le", "gt", "ge", "greater_equal", "greater", "less_equal", "less", "not_equal", "cumsum", "cumprod",
    "bitwise_not",
]

# torch's other names for ops minigrad already has
absolute = unary.abs
greater_equal, less_equal, not_equal = compare.ge, compare.le, compare.ne
multiply, divide, subtract = arith.mul, arith.div, arith.sub


def det(input):
    """The determinant of each square matrix (torch.det is torch.linalg.det)."""
    from ..linalg import det as _det

    return _det(input)


def matrix_power(input, n):
    """input @ input @ ... (n times); n = 0 the identity, n < 0 powers of the inverse (torch.linalg.matrix_power)."""
    from ..linalg import matrix_power as _matrix_power

    return _matrix_power(input, n)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M)."""
    from ..linalg import cdist as _cdist

    return _cdist(x1, x2, p, compute_mode)


def _polygamma_method(self, n):
    return special.polygamma(n, self)


def setup(Tensor):
    """The Tensor members that are not `minigrad.f(self, ...)` (tensor_ops.setup_tensor puts METHODS and INPLACE)."""
    Tensor.real = property(rounding.real)  # a real tensor is its own real part (torch's property)
    Tensor.polygamma = _polygamma_method
    Tensor.polygamma_ = lambda self, n: self._apply_(lambda x: special.polygamma(n, x))


_OUT = {
    binary: "addcdiv addcmul atan2 arctan2 copysign float_power fmax fmin fmod hypot ldexp lerp logaddexp logaddexp2 "
            "nan_to_num negative true_divide xlogy",
    bitwise: "bitwise_and bitwise_left_shift bitwise_or bitwise_right_shift bitwise_xor gcd heaviside lcm logical_xor "
             "nextafter",
    pointwise: "acos acosh asin asinh atan atanh arccos arccosh arcsin arcsinh arctan arctanh cos cosh deg2rad exp2 "
               "expm1 log10 log2 logit rad2deg rsqrt sin sinc sinh tan",
    special: "digamma erf erfc erfinv i0 igamma igammac lgamma mvlgamma polygamma",
    rounding: "angle fix frac sgn signbit trunc",
    counting: "bucketize frexp histc histogram histogramdd searchsorted",
    indexing: "index_add index_copy index_fill masked_select nonzero take",
    joining: "column_stack dstack hstack narrow_copy row_stack vstack",
    products: "addbmm addmm addmv addr baddbmm bmm chain_matmul cross dot ger inner kron mv outer "
              "tensordot vdot",
    rearrange: "diag tril triu",
    sorting: "argsort cummax cummin kthvalue median mode msort nanmedian sort topk",
    stats: "diff logcumsumexp nanmean nanquantile nansum quantile",
}
for _module, _names in _OUT.items():
    for _name in _names.split():
        globals()[_name] = with_out(getattr(_module, _name), _name)
absolute = with_out(unary.abs, "absolute")
matrix_power = with_out(matrix_power, "matrix_power")
multiply, divide, subtract = (with_out(getattr(arith, n), m) for n, m in (
    ("mul", "multiply"), ("div", "divide"), ("sub", "subtract")))
greater_equal, less_equal, not_equal = (with_out(getattr(compare, n), m) for n, m in (
    ("ge", "greater_equal"), ("le", "less_equal"), ("ne", "not_equal")))

__all__ = [n for n, v in list(globals().items()) if callable(v) and getattr(v, "__wrapped__", None) is not None]
