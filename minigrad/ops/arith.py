"""Arithmetic: + - * / ** neg reciprocal matmul, and floor_divide / remainder (no gradient). Broadcasting is
undone by Function, not here."""
from ..autograd import Function
from ..tensor import Tensor
from .compare import lt, nograd_binary


class Add(Function):
    """y = a + b, inputs promoted to one dtype as torch; both gradients are gy."""
    torch_name = "AddBackward0"
    promote = True

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        # d(a+b)/da = d(a+b)/db = 1
        return gy, gy


class Sub(Function):
    """y = a - b, inputs promoted to one dtype as torch; gradients gy and -gy."""
    torch_name = "SubBackward0"
    promote = True

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        # d(a-b)/da = 1, d(a-b)/db = -1
        return gy, -gy


class Mul(Function):
    """y = a * b, inputs promoted to one dtype as torch; keeps only the input the wanted gradients read."""
    torch_name = "MulBackward0"
    promote = True

    def forward(self, a, b):
        need = self.needs_input_grad
        self.a = a if need[1] else None  # keep only what the wanted gradients read, as torch's node
        self.b = b if need[0] else None
        return a * b

    def backward(self, gy):
        # d(ab)/da = b, d(ab)/db = a
        ga = gy * self.b if self.needs_input_grad[0] else None
        gb = gy * self.a if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b, true division: integer inputs give a float result, as torch."""
    torch_name = "DivBackward0"
    promote = True
    float_only = True  # true division: int / int is float, as in torch

    def forward(self, a, b):
        self.a = a if self.needs_input_grad[1] else None
        self.b = b
        return a / b

    def backward(self, gy):
        # d(a/b)/da = 1/b, d(a/b)/db = -(a/b)/b  (torch's order of operations)
        ga = gy / self.b if self.needs_input_grad[0] else None
        gb = -gy * ((self.a / self.b) / self.b) if self.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """y = a ** b for two tensors (or a tensor and a number); b's gradient is 0 where a == 0 and b >= 0."""
    torch_name = "PowBackward1"  # tensor ** tensor; pow() names the scalar cases
    promote = True

    def forward(self, a, b):
        self.a, self.b = a, b
        y = a ** b
        self.y = y if self.needs_input_grad[1] else None  # only b's gradient reads it
        return y

    def backward(self, gy):
        # d(a^b)/da = b a^(b-1), d(a^b)/db = a^b log(a)  (0 where a = 0 and b >= 0, as torch)
        xp = self.xp
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = xp.where(self.b == 0, 0, gy * self.b * self.a ** (self.b - 1))
        if self.needs_input_grad[1]:
            with_log = gy * (self.y * xp.log(xp.where(self.a == 0, 1, self.a)))
            gb = xp.where((self.a == 0) & (self.b >= 0), 0, with_log)
        return ga, gb


class Neg(Function):
    """y = -x."""
    torch_name = "NegBackward0"

    def forward(self, x):
        return -x

    def backward(self, gy):
        # d(-x)/dx = -1
        return -gy


class MatMul(Function):
    """y = a @ b as torch.matmul (1-D operands as row / column, batch dims broadcast); 0-d refused."""
    promote = True

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                               f"{a.ndim}D and {b.ndim}D")
        k_a = a.shape[-1]
        k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({_fmt(a.shape)} and {_fmt(b.shape)}): "
                f"the last dim of the first ({k_a}) must equal the first dim of the second ({k_b})"
            )
        need = self.needs_input_grad
        self.a = a if need[1] else None  # a's gradient reads b, b's reads a
        self.b = b if need[0] else None
        self.a_ndim, self.b_ndim = a.ndim, b.ndim
        # torch's node depends on the operand dims (torch.matmul dispatches to dot / mv / mm / bmm)
        self.torch_name = _MATMUL_NAMES.get((a.ndim, b.ndim), "UnsafeViewBackward0")
        return a @ b

    def backward(self, gy):
        # y = a @ b:  dL/da = gy @ b^T,  dL/db = a^T @ gy  (1-D operands treated as row / column)
        g = gy
        if self.b_ndim == 1:  # restore the column first, so a 0-d gy (1-D @ 1-D) works too
            g = g[..., None]
        if self.a_ndim == 1:
            g = g[..., None, :]
        ga = gb = None
        if self.needs_input_grad[0]:
            b = self.b if self.b_ndim > 1 else self.b[:, None]
            ga = g @ b.swapaxes(-1, -2)
            ga = ga[..., 0, :] if self.a_ndim == 1 else ga
        if self.needs_input_grad[1]:
            a = self.a if self.a_ndim > 1 else self.a[None, :]
            gb = a.swapaxes(-1, -2) @ g
            gb = gb[..., 0] if self.b_ndim == 1 else gb
        return ga, gb


_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0", (1, 2): "SqueezeBackward4"}


def _fmt(shape):
    return "x".join(str(n) for n in shape)


def add(a, b, alpha=1):
    """a + alpha * b, as torch.add."""
    return Add()(a, b if alpha == 1 else mul(b, alpha))


def sub(a, b, alpha=1):
    """a - alpha * b, as torch.sub."""
    if alpha != 1:
        b = mul(b, alpha)
    f = Sub()
    if not isinstance(a, Tensor):
        f.torch_name = "RsubBackward1"  # 1 - x
    return f(a, b)


def mul(a, b):
    """a * b elementwise; shapes broadcast, dtypes promote as torch's do."""
    return Mul()(a, b)


def div(a, b, rounding_mode=None):
    """a / b; rounding_mode 'trunc' or 'floor' rounds the quotient, whose gradient is 0 (torch's DivBackward2)."""
    if rounding_mode is None:
        return Div()(a, b)
    if rounding_mode == "floor":
        q = nograd_binary(a, b, "floor_divide")
    elif rounding_mode == "trunc":
        q = nograd_binary(a, b, "floor_divide")
        if q.dtype.kind == "f":
            q = Tensor._wrap(q.xp.trunc(Div()(a, b).detach().array))
        else:  # integers: floor rounds down; step back up where the exact quotient is negative and not whole
            r, neg = nograd_binary(a, b, "remainder").array, (lt(a, 0) != lt(b, 0)).array
            q = Tensor._wrap(q.array + ((r != 0) & neg).astype(q.array.dtype))
    else:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"'{rounding_mode}'")
    return RoundedQuotient(q.array)(a, b) if _wants_grad(a, b) and q.dtype.kind == "f" else q


class RoundedQuotient(Function):
    """y = a / b rounded to an integer value (div's rounding_mode, computed before); gradient 0, as torch's."""
    torch_name = "DivBackward2"

    def __init__(self, q):
        self.q = q

    def forward(self, a, b):
        q, self.q = self.q, None  # nothing kept for backward
        return q

    def backward(self, gy):
        # d round(a / b) = 0 almost everywhere
        z = self.xp.zeros_like(gy)
        return z, z


def _wants_grad(*xs):
    return any(isinstance(x, Tensor) and x.requires_grad for x in xs)


def pow(a, b):
    """a ** b elementwise; either may be a number (x ** 2, 2 ** x); shapes broadcast."""
    f = Pow()
    if not isinstance(b, Tensor):
        f.torch_name = "PowBackward0"  # x ** 2
    elif not isinstance(a, Tensor):
        f.torch_name = "PowBackward2"  # 2 ** x
    return f(a, b)


def neg(x):
    """-x elementwise."""
    return Neg()(x)


def reciprocal(x):
    """1 / x elementwise; integer x gives the default float dtype, as torch."""
    return div(1.0, x)


def floor_divide(a, b):
    """floor(a / b) elementwise (rounds toward -inf, as torch). As torch's, a float result of inputs that require
    grad requires grad too, and backward through it raises: its derivative is not implemented."""
    q = nograd_binary(a, b, "floor_divide")
    return NoDerivative(q.array, "floor_divide")(a, b) if _wants_grad(a, b) and q.dtype.kind == "f" else q


class NoDerivative(Function):
    """y computed before; backward refuses, as torch's NotImplemented node (floor_divide)."""
    torch_name = "NotImplemented"

    def __init__(self, y, what):
        self.y, self.what = y, what

    def forward(self, a, b):
        y, self.y = self.y, None
        return y

    def backward(self, gy):
        raise RuntimeError(f"the derivative for '{self.what}' is not implemented.")


def matmul(a, b):
    """a @ b as torch.matmul: (n,) @ (n,) -> (); (m, n) @ (n,) -> (m,); (*, m, n) @ (*, n, p) -> (*, m, p).
    RuntimeError for a 0-d operand or unequal inner sizes; a mix of dtypes is promoted. mm is the same function."""
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.ndim == 1 and b.ndim == 2 and a.shape[0] == b.shape[0]:
        # vector @ matrix as torch computes it: unsqueeze, mm, squeeze (so the graph is torch's too)
        from .shape import Reshape, unsqueeze

        y = MatMul()(unsqueeze(a, 0), b)
        f = Reshape(y.shape[1:])
        f.torch_name = "SqueezeBackward4"
        return f(y)
    return MatMul()(a, b)


mm = matmul
