"""Layer ops: Linear (y = x W^T + b as one op) and Dropout (with an injectable keep-mask)."""
from ..autograd import Function

_TORCH_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
                "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}
_CAP_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
              "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


class Linear(Function):
    """y = x @ W^T + b.  x: (*, in), W: (out, in) as torch, b: (out,) -> y: (*, out)."""
    torch_name = "AddmmBackward0"

    def forward(self, x, W, b=None):
        out_f, in_f = W.shape
        if x.shape[-1] != in_f:
            rows = x.size // x.shape[-1] if x.shape[-1] else 0
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and {in_f}x{out_f})")
        if x.dtype != W.dtype or (b is not None and b.dtype != W.dtype):
            raise RuntimeError(_dtype_message(x.dtype, W.dtype, None if b is None else b.dtype))
        self.x, self.W = x, W
        if x.ndim != 2:  # torch's node for 1-D / batched input: the view after its addmm
            self.torch_name = "UnsafeViewBackward0" if b is not None or x.ndim > 1 else "SqueezeBackward4"
        elif b is None:
            self.torch_name = "MmBackward0"
        # W.T is a view: BLAS reads the transposed layout directly, nothing is copied
        y = x.reshape(-1, in_f) @ W.T if x.ndim != 2 else x @ W.T
        if b is not None:
            y += b  # y is our own fresh array, so in place is safe and saves a pass
        return y.reshape(x.shape[:-1] + (out_f,)) if x.ndim != 2 else y

    def backward(self, gy):
        # y = x W^T + b:  dL/dx = gy W,  dL/dW = gy^T x,  dL/db = sum over rows of gy
        xp, x, W = self.xp, self.x, self.W
        if not gy.flags.c_contiguous:  # broadcast (stride-0) grads would push numpy off BLAS
            gy = xp.ascontiguousarray(gy)
        gy2 = gy.reshape(-1, W.shape[0])
        need = self.needs_input_grad
        gx = (gy2 @ W).reshape(x.shape) if need[0] else None
        gW = weight_grad(gy2, x.reshape(-1, W.shape[1])) if need[1] else None
        gb = gy2.sum(axis=0) if len(need) > 2 and need[2] else None
        return (gx, gW, gb)[:len(need)]


def weight_grad(gy2, x2):
    """gy2^T @ x2, (out, in), for gy2: (N, out) and x2: (N, in)."""
    if gy2.shape[0] != 1 or gy2.shape[1] * x2.shape[1] < 4096:
        return gy2.T @ x2
    # one row: an outer product, which BLAS's GEMM computes ~4x slower here (under ~4k entries, faster)
    gW = gy2.T * x2
    gW += 0  # -0 -> +0, as the GEMM's sum (started at 0) gives: the same bits either way
    return gW


class Dropout(Function):
    """y = x * keep / (1 - p): keep is a bool mask of x's shape (True = unit kept)."""
    torch_name = "MulBackward0"

    def __init__(self, p, keep):
        self.p, self.keep = p, keep

    def forward(self, x):
        xp = self.xp
        if self.p == 1.0:  # torch multiplies by zero rather than dividing by 0
            self.m = xp.zeros(x.shape, dtype=x.dtype)
        else:
            # torch's noise tensor: keep.to(dtype) / (1 - p), in x's dtype
            self.m = self.keep.astype(x.dtype) / (1.0 - self.p)
        return x * self.m

    def backward(self, gy):
        # d(x * m)/dx = m  with m = keep / (1 - p)
        return gy * self.m


def _dtype_message(x, W, b):
    """torch's three wordings (matmul, addmm on x, addmm on the bias)."""
    if b is None:
        return f"expected m1 and m2 to have the same dtype, but got: {_TORCH_NAMES[x.name]} != {_TORCH_NAMES[W.name]}"
    if x != W:
        return f"mat1 and mat2 must have the same dtype, but got {_CAP_NAMES[x.name]} and {_CAP_NAMES[W.name]}"
    return f"self and mat2 must have the same dtype, but got {_CAP_NAMES[b.name]} and {_CAP_NAMES[W.name]}"


def linear(x, W, b=None):
    return Linear()(x, W) if b is None else Linear()(x, W, b)
