"""Every differentiable op (one class each) and its lowercase function."""
from .arith import add, div, floor_divide, matmul, mm, mul, neg, pow, reciprocal, remainder, sub  # noqa: F401
from .compare import (  # noqa: F401
    all, allclose, any, bitwise_not, eq, equal, ge, greater, gt, isclose, isfinite, isinf, isnan, le, less,
    logical_and, logical_not, logical_op, logical_or, lt, ne,
)
from .index import gather, index_select, masked_fill, scatter, scatter_add, take_along_dim, where  # noqa: F401
from . import mutate  # noqa: F401  (the out-of-place forms of Tensor's in-place writers)
from .reduce import (  # noqa: F401
    amax, amin, argmax, argmin, cumprod, cumsum, prod, max, mean, min, norm, sum,
)
from .softmax import log_softmax, logsumexp, softmax  # noqa: F401
from .stats import std, var  # noqa: F401
from .shape import (  # noqa: F401
    cast, cat, clone, concat, concatenate, expand, flatten, getitem, move_to, permute, raw_index, repeat,
    reshape, squeeze, stack, swapaxes, t, transpose, unsqueeze, view,
)
from .unary import (  # noqa: F401
    abs, ceil, clamp, clamp_max, clamp_min, clip, exp, floor, log, log1p, maximum, minimum, round, sigmoid, sign,
    sqrt, square, tanh,
)
