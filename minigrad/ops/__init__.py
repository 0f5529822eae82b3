"""Every differentiable op (one class each) and its lowercase function."""
from .arith import add, div, floor_divide, matmul, mm, mul, neg, pow, reciprocal, sub  # noqa: F401
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
# torch's "Math operations" surface (issue 19): docs/torch-coverage.md lists what is here and what is not
from .binary import (  # noqa: F401,E402
    addcdiv, addcmul, arctan2, atan2, copysign, float_power, fmax, fmin, fmod, hypot, ldexp, lerp, logaddexp,
    logaddexp2, nan_to_num, negative, positive, remainder, true_divide, xlogy,
)
from .bitwise import (  # noqa: F401,E402
    bitwise_and, bitwise_left_shift, bitwise_or, bitwise_right_shift, bitwise_xor, gcd, heaviside, lcm, logical_xor,
    nextafter,
)
from .counting import (  # noqa: F401,E402
    bincount, bucketize, count_nonzero, frexp, histc, histogram, histogramdd, isin, isneginf, isposinf, isreal,
    searchsorted, unique, unique_consecutive,
)
from .indexing import (  # noqa: F401,E402
    argwhere, index_add, index_copy, index_fill, index_reduce, masked_select, nonzero, scatter_reduce, select_scatter,
    slice_scatter, take, where,
)
from .joining import (  # noqa: F401,E402
    adjoint, atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_shapes, broadcast_tensors, broadcast_to,
    cartesian_prod, chunk, column_stack, combinations, dsplit, dstack, hsplit, hstack, meshgrid, moveaxis, movedim,
    narrow, narrow_copy, ravel, repeat_interleave, row_stack, select, split, swapdims, tensor_split, tile,
    tril_indices, triu_indices, unbind, unflatten, unravel_index, vsplit, vstack,
)
from .pointwise import (  # noqa: F401,E402
    acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctanh, asin, asinh, atan, atanh, cos, cosh, deg2rad,
    exp2, expm1, log10, log2, logit, rad2deg, rsqrt, sin, sinc, sinh, tan,
)
from .products import (  # noqa: F401,E402
    addbmm, addmm, addmv, addr, baddbmm, bmm, chain_matmul, cross, dot, einsum, ger, inner, kron,
    mv, outer, tensordot, vander, vdot,
)
from .rearrange import (  # noqa: F401,E402
    diag, diag_embed, diagflat, diagonal, diagonal_scatter, flip, fliplr, flipud, rot90, roll, trace, tril, triu,
)
from .rounding import angle, conj, fix, frac, real, resolve_conj, resolve_neg, sgn, signbit, trunc  # noqa: F401,E402
from .sorting import argsort, cummax, cummin, kthvalue, median, mode, msort, nanmedian, sort, topk  # noqa: F401,E402
from .special import (  # noqa: F401,E402
    digamma, erf, erfc, erfinv, i0, igamma, igammac, lgamma, mvlgamma, polygamma,
)
from .stats import (  # noqa: F401,E402
    aminmax, corrcoef, cov, diff, dist, gradient, logcumsumexp, nanmean, nanquantile, nansum, quantile, renorm,
    std_mean, var_mean,
)
from . import surface  # noqa: F401,E402  (Tensor methods, in-place twins and out= forms of the ops above)
from .surface import absolute, cdist, det, divide, greater_equal, less_equal, matrix_power, multiply, not_equal, subtract  # noqa: F401,E402,E501
from .poisson import poisson  # noqa: F401,E402
