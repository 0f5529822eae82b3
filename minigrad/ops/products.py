"""Products: einsum and cross (one class each), and outer inner dot vdot mv bmm addmm addmv addr baddbmm addbmm
kron tensordot cdist chain_matmul matrix_power vander, composed of matmul, mul, sum and the shape ops."""
import string

from ..autograd import Function
from ..tensor import Tensor
from . import arith as A
from . import shape as S
from .index import _dim


def _parse(equation, shapes):
    """'ij,jk->ik' with '...' spelled out in letters; the output is implicit (sorted once-only letters) if absent."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum(): {len(ins)} operands in the equation but {len(shapes)} given")
    spare = [c for c in string.ascii_letters if c not in eq]
    n_ell = max((len(s) - len(t.replace("...", "")) for t, s in zip(ins, shapes) if "..." in t), default=0)
    ell = "".join(spare[:n_ell])
    ins = [t.replace("...", ell[n_ell - (len(s) - len(t.replace("...", ""))):]) for t, s in zip(ins, shapes)]
    if not arrow:
        letters = "".join(ins)
        rhs = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return ins, rhs.replace("...", ell)


class Einsum(Function):
    """y = einsum(equation, *xs), one node (EinsumBackward) where torch composes permute, bmm and sum."""
    torch_name = "EinsumBackward"  # torch has no single node (it composes permute / bmm / sum)
    promote = True

    def __init__(self, ins, out):
        self.ins, self.out = ins, out

    def forward(self, *xs):
        self.xs = xs
        self.sizes = {}
        for sub, x in zip(self.ins, xs):
            for c, n in zip(sub, x.shape):
                self.sizes[c] = max(self.sizes.get(c, 1), n)
        return self.xp.einsum(",".join(self.ins) + "->" + self.out, *xs)

    def backward(self, gy):
        # dL/dx_k = einsum(gy and every other operand -> x_k's letters); letters only x_k had broadcast back
        xp, out = self.xp, []
        for k, (sub, x) in enumerate(zip(self.ins, self.xs)):
            others = [(s, v) for i, (s, v) in enumerate(zip(self.ins, self.xs)) if i != k]
            seen = set(self.out).union(*[set(s) for s, _ in others])
            keep = "".join(c for c in dict.fromkeys(sub) if c in seen)
            g = xp.einsum(",".join([self.out] + [s for s, _ in others]) + "->" + keep, gy, *[v for _, v in others])
            full = "".join(dict.fromkeys(sub))
            g = xp.expand_dims(g, tuple(i for i, c in enumerate(full) if c not in keep)) if len(keep) < len(full) else g
            # to every letter's full size; Function then sums dims that x broadcast (size 1) back
            out.append(xp.broadcast_to(g, [self.sizes[c] for c in full]) if len(full) == len(sub) else
                       _undiagonal(xp, g, sub, full, x.shape))
        return tuple(out)


def _undiagonal(xp, g, sub, full, shape):
    """A gradient over distinct letters back onto an operand that repeats one (einsum('ii->i')): its diagonal."""
    gx = xp.zeros(shape, dtype=g.dtype)
    grids = xp.indices(g.shape)
    gx[tuple(grids[full.index(c)] for c in sub)] = g
    return gx


class Cross(Function):
    """y = a x b, the cross product of 3-vectors along dim; node LinalgCrossBackward0."""
    torch_name = "LinalgCrossBackward0"
    promote = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.cross(a, b, axis=self.dim)

    def backward(self, gy):
        # d(a x b) = da x b + a x db:  dL/da = b x gy, dL/db = gy x a
        xp, d = self.xp, self.dim
        return xp.cross(self.b, gy, axis=d), xp.cross(gy, self.a, axis=d)


def einsum(equation, *operands):
    """Sum of products over the repeated subscripts (torch.einsum; '...' and implicit outputs allowed)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse(equation, [t.shape for t in operands])
    for sub, t in zip(ins, operands):
        if len(sub) != t.ndim:
            raise RuntimeError(f"einsum(): the subscript {sub!r} has {len(sub)} letters for an operand of "
                               f"{t.ndim} dims")
    return Einsum(ins, out)(*operands)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along dim (default: the first dim of size 3, as torch.cross)."""
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {input.ndim} and "
                           f"{other.ndim}")
    if input.shape != other.shape:  # broadcast first, so dim names one axis of both
        from .joining import broadcast_tensors

        input, other = broadcast_tensors(input, other)
    if dim is None:
        dim = next((i for i, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input {list(input.shape)}")
    d = _dim(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    return Cross(d)(input, other)


def _check_dims(name, **ts):
    for label, (t, n) in ts.items():
        if t.ndim != n:
            raise RuntimeError(f"{name}: {label} must be a {n}D tensor, got {t.ndim}D")


def outer(input, vec2):
    """input[i] * vec2[j]."""
    _check_dims("outer", input=(input, 1), vec2=(vec2, 1))
    return A.mul(S.unsqueeze(input, 1), vec2)


ger = outer


def inner(input, other):
    """Sum over the last dims of the two tensors (a product of scalars for 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return A.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def dot(input, tensor):
    """The sum of input * tensor for two 1-d tensors of one dtype (RuntimeError otherwise): (n,), (n,) -> ()."""
    _check_dims("dot", input=(input, 1), tensor=(tensor, 1))
    if input.dtype != tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {input.dtype} and "
                           f"{tensor.dtype}")
    return A.matmul(input, tensor)


vdot = dot


def mv(input, vec):
    """Matrix times vector: (n, m) @ (m,) -> (n,)."""
    _check_dims("mv", input=(input, 2), vec=(vec, 1))
    return A.matmul(input, vec)


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p)."""
    _check_dims("bmm", input=(input, 3), mat2=(mat2, 3))
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {input.shape[0]} and {mat2.shape[0]}")
    y = A.matmul(input, mat2)
    if y._ctx is not None:
        y._ctx.torch_name = "BmmBackward0"
    return y


def _scaled_add(input, prod, beta, alpha):
    prod = prod if alpha == 1 else A.mul(prod, alpha)
    if beta == 0:  # torch ignores input (NaN and inf in it too) when beta is 0
        return S.expand(prod, *_broadcast(input.shape, prod.shape))
    return A.add(input if beta == 1 else A.mul(input, beta), prod)


def _broadcast(a, b):
    from .joining import broadcast_shapes

    return broadcast_shapes(a, b)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    _check_dims("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
    return _scaled_add(input, A.matmul(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_add(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_add(input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_add(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    from .reduce import sum as sum_

    return _scaled_add(input, sum_(bmm(batch1, batch2), 0), beta, alpha)


def tensordot(a, b, dims=2):
    """Sum over a's dims[0] and b's dims[1] (dims=n: a's last n and b's first n)."""
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([dims[0]] if isinstance(dims[0], int) else list(dims[0])), (
            [dims[1]] if isinstance(dims[1], int) else list(dims[1]))
    da, db = [_dim(d, a.ndim) for d in da], [_dim(d, b.ndim) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has size {a.shape[i]} in "
                               f"dim {i} and second has size {b.shape[j]} in dim {j}")
    free_a, free_b = [d for d in range(a.ndim) if d not in da], [d for d in range(b.ndim) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    am = S.reshape(S.permute(a, free_a + da), (-1, k))
    bm = S.reshape(S.permute(b, db + free_b), (k, -1))
    return S.reshape(A.matmul(am, bm), tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))


def kron(input, other):
    """Kronecker product: blocks input[i, j] * other."""
    n = max(input.ndim, other.ndim)
    a = S.reshape(input, (1,) * (n - input.ndim) + input.shape)
    b = S.reshape(other, (1,) * (n - other.ndim) + other.shape)
    a_ = S.reshape(a, tuple(x for s in a.shape for x in (s, 1)))
    b_ = S.reshape(b, tuple(x for s in b.shape for x in (1, s)))
    return S.reshape(A.mul(a_, b_), tuple(p * q for p, q in zip(a.shape, b.shape)))


def chain_matmul(*matrices):
    """matrices[0] @ matrices[1] @ ..., multiplied left to right."""
    y = matrices[0]
    for m in matrices[1:]:
        y = A.matmul(y, m)
    return y


def vander(x, N=None, increasing=False):
    """Columns x^0, x^1, ... x^(N-1) (decreasing powers unless increasing)."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    powers = list(range(n)) if increasing else list(range(n - 1, -1, -1))
    cols = [A.pow(x, k) for k in powers]
    return S.stack(cols, 1) if cols else Tensor._wrap(x.xp.empty((x.shape[0], 0), dtype=x.array.dtype))
