"""torch.linalg for learners: vector_norm matrix_norm norm cross inv det solve (and matmul, vecdot, matrix_power).

inv, det and solve are one op each, with backward written out; the norms compose sum, abs, pow, amax and
ops/reduce.py's 2-norm (whose subgradient at 0 is 0, as torch's).
"""
import math

from .autograd import Function
from .tensor import Tensor
from .ops import arith as A
from .ops import reduce as R
from .ops.products import cross as _cross
from .ops import shape as S
from .ops.rounding import sign as _sign
from .ops.unary import abs as _abs


class Inv(Function):
    """y = inv(x) for each square matrix: (*, n, n) -> (*, n, n)."""
    torch_name = "LinalgInvExBackward0"
    float_only = True

    def forward(self, x):
        _square(x, "linalg.inv")
        self.y = self.xp.linalg.inv(x)
        return self.y

    def backward(self, gy):
        # d inv(A) = -inv(A) dA inv(A):  dL/dA = -inv(A)^T gy inv(A)^T
        yt = self.y.swapaxes(-1, -2)
        return -(yt @ gy @ yt)


class Det(Function):
    """y = det(x) for each square matrix: (*, n, n) -> (*); gradient det(x) inv(x)^T (invertible x only)."""
    torch_name = "LinalgDetBackward0"
    float_only = True

    def forward(self, x):
        _square(x, "linalg.det")
        self.x = x
        self.y = self.xp.linalg.det(x)
        return self.y

    def backward(self, gy):
        # d det(A)/dA = det(A) inv(A)^T  (the adjugate, transposed; for an invertible A)
        xp = self.xp
        return (gy * self.y)[..., None, None] * xp.linalg.inv(self.x).swapaxes(-1, -2)


class Solve(Function):
    """X with A X = B (B a batch of vectors or matrices)."""
    torch_name = "LinalgSolveExBackward0"
    promote, float_only = True, True

    def __init__(self, vector):
        self.vector = vector

    def forward(self, a, b):
        _square(a, "linalg.solve")
        self.a = a
        b_ = b[..., None] if self.vector else b
        self.x = self.xp.linalg.solve(a, b_)
        return self.x[..., 0] if self.vector else self.x

    def backward(self, gy):
        # dL/dB = solve(A^T, gy);  dL/dA = -dL/dB X^T
        g = gy[..., None] if self.vector else gy
        gb = self.xp.linalg.solve(self.a.swapaxes(-1, -2), g)
        ga = -(gb @ self.x.swapaxes(-1, -2))
        return ga, gb[..., 0] if self.vector else gb


def _square(x, name):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{' by '.join(str(n) for n in x.shape[-2:])} matrices")


def inv(A):
    """The inverse of each square matrix in A (raises for a singular one, as torch)."""
    import numpy

    try:
        return Inv()(A)
    except numpy.linalg.LinAlgError as e:
        raise RuntimeError(f"linalg.inv: The diagonal element is zero, the inversion could not be completed because "
                           f"the input matrix is singular ({e})") from None


def det(A):
    """The determinant of each square matrix in A."""
    return Det()(A)


def solve(A, B, *, left=True):
    """X with A @ X = B; B one vector per matrix (shape A.shape[:-1]) or a batch of matrices."""
    import numpy

    if not left:
        raise NotImplementedError("linalg.solve(left=False) is not supported: solve A^T X^T = B^T instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    try:
        return Solve(vector)(A, B)
    except numpy.linalg.LinAlgError as e:
        raise RuntimeError(f"linalg.solve: The solver failed because the input matrix is singular ({e})") from None


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over dim (all elements if None); ord inf / -inf: max / min |x|; 0: count of nonzeros."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype}")
    if isinstance(dim, int):
        dim = (dim,)
    if ord == 2:
        return R.Norm(dim, keepdim)(x)
    if ord == math.inf:
        return R.amax(_abs(x), dim, keepdim)
    if ord == -math.inf:
        return R.amin(_abs(x), dim, keepdim)
    if ord == 0:  # the count of nonzeros, through sign's zero-gradient node (torch's gradient is 0 too)
        return R.sum(_sign(_abs(x)), dim, keepdim)
    if ord == 1:
        return R.sum(_abs(x), dim, keepdim)
    return A.pow(R.sum(A.pow(_abs(x), float(ord)), dim, keepdim), 1.0 / float(ord))


def matrix_norm(A_, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """'fro' (Frobenius), 1 / -1 (max / min column sum of |a|), inf / -inf (max / min row sum)."""
    if dtype is not None:
        A_ = A_.to(dtype)
    if A_.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions, got {A_.ndim}")
    d0, d1 = (d % A_.ndim for d in dim)
    if ord == "fro":
        return vector_norm(A_, 2, (d0, d1), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = R.sum(_abs(A_), inner, keepdim=True)
        pick = R.amax if ord > 0 else R.amin
        y = pick(sums, outer, keepdim=True)
        return y if keepdim else y.squeeze((d0, d1))
    raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} (nuclear / spectral norms need an SVD) is not "
                              "supported; use 'fro', 1, -1, inf or -inf")


def norm(A_, ord=None, dim=None, keepdim=False, *, dtype=None):
    """vector_norm when dim is an int or ord is None over a flattened tensor, else matrix_norm (torch.linalg.norm)."""
    if isinstance(dim, int) or (dim is not None and len(dim) == 1):
        return vector_norm(A_, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and ord is None:
        return vector_norm(A_, 2, None, keepdim, dtype=dtype)
    if dim is None and A_.ndim == 1:
        return vector_norm(A_, ord, None, keepdim, dtype=dtype)
    if dim is None and A_.ndim != 2:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A_.ndim}D.")
    return matrix_norm(A_, "fro" if ord is None else ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)


def cross(input, other, *, dim=-1):
    """linalg.cross: the cross product along dim (default the last; inputs broadcast)."""
    return _cross(input, other, dim)


def matmul(input, other):
    """linalg.matmul: input @ other, the same as minigrad.matmul."""
    return A.matmul(input, other)


def vecdot(x, y, *, dim=-1):
    """sum(x * y) over dim (real tensors)."""
    return R.sum(A.mul(x, y), dim)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 {list(x1.shape)} and X2 {list(x2.shape)} must be at least 2-d with the same "
                           "number of columns")
    d = A.sub(S.unsqueeze(x1, -2), S.unsqueeze(x2, -3))
    y = vector_norm(d, p, dim=-1)
    return y


def matrix_power(input, n):
    """input @ input @ ... (n times); n = 0 the identity; n < 0 powers of the inverse."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{list(input.shape[-2:])} matrices")
    if n == 0:
        eye = input.xp.broadcast_to(input.xp.eye(input.shape[-1], dtype=input.array.dtype), input.shape)
        return Tensor._wrap(eye.copy())
    x = inv(input) if n < 0 else input
    y = x
    for _ in range(abs(n) - 1):
        y = A.matmul(y, x)
    return y
