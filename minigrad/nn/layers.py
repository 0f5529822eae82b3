"""The layers: each op's Function (forward, and its backward written by hand) beside the Module that uses it.

Linear, ReLU, LeakyReLU and Dropout own their op here; Sigmoid, Tanh, Softmax, LogSoftmax and Flatten are tensor
functions too (minigrad.sigmoid, ...), so their ops live in minigrad/ops. A `forward_fast` / `backward_fast` beside
an op's formulas is its compiled twin (same bits; autograd.Function calls it while minigrad.kernels.switch is on,
and runs the formula where the twin returns None; MINIGRAD_FUSED=0 runs the formulas alone).
"""
import math

from .. import dtypes, kernels, ops, random
from ..autograd import Function
from ..backend import get_xp, move
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


# ---- ops -----------------------------------------------------------------------------------------------------------
class LinearFunction(Function):
    """y = x @ W^T + b.  x: (*, in), W: (out, in) as torch, b: (out,) -> y: (*, out)."""
    torch_name = "AddmmBackward0"

    def forward(self, x, W, b=None):
        out_f, in_f = W.shape
        if x.shape[-1] != in_f:
            rows = x.size // x.shape[-1] if x.shape[-1] else 0
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and {in_f}x{out_f})")
        if x.dtype != W.dtype or (b is not None and b.dtype != W.dtype):
            raise RuntimeError(_dtype_message(x.dtype, W.dtype, None if b is None else b.dtype))
        need = self.needs_input_grad
        self.x = x if need[1] else None  # dL/dW reads x and dL/dx reads W: keep only those (torch's addmm too)
        self.W = W if need[0] else None
        self.x_shape, self.W_shape = x.shape, W.shape
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
        if not gy.flags.c_contiguous:  # broadcast (stride-0) grads would push numpy off BLAS
            gy = self.xp.ascontiguousarray(gy)
        out_f, in_f = self.W_shape
        gy2, need = gy.reshape(-1, out_f), self.needs_input_grad
        gx = (gy2 @ self.W).reshape(self.x_shape) if need[0] else None
        gW = gy2.T @ self.x.reshape(-1, in_f) if need[1] else None
        gb = gy2.sum(axis=0) if len(need) > 2 and need[2] else None
        return (gx, gW, gb)[:len(need)]

    def backward_fast(self, gy):
        """The twin for a batch of one row: dL/dW = gy^T x as an outer product (kernels.weight_grad; BLAS's GEMM
        is ~4x slower there), the same bits. None otherwise: backward runs."""
        out_f, in_f = self.W_shape
        if gy.size != out_f or out_f * in_f < 4096:
            return None
        gy2, need = gy.reshape(1, out_f), self.needs_input_grad
        gx = (gy2 @ self.W).reshape(self.x_shape) if need[0] else None
        gW = kernels.weight_grad(gy2, self.x.reshape(1, in_f)) if need[1] else None
        gb = gy2.sum(axis=0) if len(need) > 2 and need[2] else None
        return (gx, gW, gb)[:len(need)]


def _dtype_message(x, W, b):
    """torch's three wordings (matmul, addmm on x, addmm on the bias)."""
    if b is None:
        return f"expected m1 and m2 to have the same dtype, but got: {dtypes.scalar_name(x)} != {dtypes.scalar_name(W)}"
    if x != W:
        return f"mat1 and mat2 must have the same dtype, but got {dtypes.type_name(x)} and {dtypes.type_name(W)}"
    return f"self and mat2 must have the same dtype, but got {dtypes.type_name(b)} and {dtypes.type_name(W)}"


class ReLUFunction(Function):
    """y = max(x, 0) elementwise."""
    torch_name = "ReluBackward0"
    saves_output = True  # torch keeps the result; ours, the mask made from it: changing either in place is refused

    def forward(self, x):
        zero = x.dtype.type(0)  # not a Python 0: NumPy 1.x would widen a 0-d float32 x against it to float64
        y = self.xp.maximum(x, zero)
        self.mask = ~(y <= 0)  # NaN passes its gradient, as torch's threshold_backward
        return y

    def backward(self, gy):
        # d relu(x)/dx = 1 if x > 0 else 0  (0 at the kink, as torch)
        gx = gy * self.mask
        gx += gx.dtype.type(0)  # -0.0 + 0.0 = +0.0: torch's zeros carry no sign; cheaper than where()
        return gx

    def forward_fast(self, x):
        """The twin: y and the mask in one pass (kernels.relu), the same bits; None where no kernel fits."""
        out = kernels.relu(x)
        if out is None:
            return None
        y, self.mask = out
        return y

    def backward_fast(self, gy):
        return kernels.relu_backward(gy, self.mask)  # gy * mask + 0.0 in one pass


class LeakyReLUFunction(Function):
    """y = x if x > 0 else negative_slope * x."""
    torch_name = "LeakyReluBackward0"
    saves_inputs = (0,)  # torch keeps x (ours, the mask from it)

    def __init__(self, negative_slope=0.01):
        self.slope = negative_slope

    def forward(self, x):
        self.mask = x > 0
        return self.xp.where(self.mask, x, x * self.slope)

    def backward(self, gy):
        # d/dx = 1 if x > 0 else negative_slope
        return self.xp.where(self.mask, gy, gy * self.slope)


class DropoutFunction(Function):
    """y = x * keep / (1 - p): keep is a bool mask of x's shape (True = unit kept)."""
    torch_name = "MulBackward0"

    def __init__(self, p, keep):
        self.p, self.keep = p, keep

    def forward(self, x):
        if self.p == 1.0:  # torch multiplies by zero rather than dividing by 0
            self.m = self.xp.zeros(x.shape, dtype=x.dtype)
        else:
            # torch's noise tensor: keep.to(dtype) / (1 - p), in x's dtype
            self.m = self.keep.astype(x.dtype) / (1.0 - self.p)
        return x * self.m

    def backward(self, gy):
        # d(x * m)/dx = m  with m = keep / (1 - p)
        return gy * self.m


# ---- functions (torch.nn.functional's names; nn.functional re-exports them) ----------------------------------------
def linear(input, weight, bias=None):
    """input @ weight.T + bias, as torch's F.linear. Shapes: input (*, in), weight (out, in), bias (out,) -> (*, out).
    RuntimeError when in sizes or dtypes differ (no promotion, as torch)."""
    return LinearFunction()(input, weight) if bias is None else LinearFunction()(input, weight, bias)


def relu(input, inplace=False):
    """max(input, 0) elementwise (gradient 0 at 0, NaN passes); inplace is accepted and ignored: a new tensor."""
    return ReLUFunction()(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where input > 0, else negative_slope * input (gradient negative_slope at 0); inplace is ignored."""
    return LeakyReLUFunction(float(negative_slope))(input)


def dropout(input, p=0.5, training=True, inplace=False, mask=None):
    """Zero each unit with probability p, scale the kept ones by 1/(1-p); identity in eval.

    mask: optional bool keep-mask (Tensor or array, True = keep) of input's shape, used instead of
    the RNG so a run can be replayed against torch with the very same masks.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if mask is None:
        keep = random.bernoulli_keep(input.shape, float(p), input.backend)
    else:
        keep = move(mask.array if isinstance(mask, Tensor) else mask, input.backend)
        if tuple(keep.shape) != input.shape:
            raise ValueError(f"dropout mask shape {tuple(keep.shape)} != input shape {input.shape}")
        keep = keep.astype(dtypes.bool, copy=False)
    return DropoutFunction(float(p), keep)(input)


# ---- modules -------------------------------------------------------------------------------------------------------
class Linear(Module):
    """y = x W^T + b.  x: (*, in_features) -> y: (*, out_features); W: (out, in) as torch."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        xp, dtype = get_xp(device), dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        self.weight = Parameter(_empty(xp, (out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(_empty(xp, (out_features,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw weight and bias anew, in place, as torch: both ~ U(-1/sqrt(in_features), 1/sqrt(in_features))."""
        # torch's law: kaiming_uniform(a=sqrt(5)) == U(+-1/sqrt(fan_in)) for W, U(+-1/sqrt(fan_in)) for b
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        """'in_features=.., out_features=.., bias=..' for the module's repr, as torch prints it."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class LazyLinear(Linear):
    """Linear whose in_features comes from its first input (torch.nn.LazyLinear); after that call it is a Linear.

    The weight and bias Parameters are the same objects before and after, so an optimizer made earlier keeps them."""

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, bias, device, dtype)

    def reset_parameters(self):
        """Nothing until the first input fixes in_features; then Linear's initialisation."""
        if self.in_features:  # nothing to initialise until the input size is known
            super().reset_parameters()

    def forward(self, input):
        self.in_features = input.shape[-1]
        self.weight.array = self.weight.xp.empty((self.out_features, self.in_features), dtype=self.weight.array.dtype)
        if self.bias is not None:
            self.bias.array = self.bias.xp.empty((self.out_features,), dtype=self.bias.array.dtype)
        self.reset_parameters()
        self.__class__ = Linear  # as torch's cls_to_become
        return Linear.forward(self, input)


def _empty(xp, shape, dtype):
    return Tensor._wrap(xp.empty(shape, dtype=dtype))


class Identity(Module):
    """Returns its input unchanged (placeholder layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class ReLU(Module):
    """max(x, 0) elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace  # accepted for torch compatibility; we always compute out of place

    def forward(self, input):
        return relu(input)

    def extra_repr(self):
        """'inplace=True' when set, else empty, as torch prints it."""
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x; any shape."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        """'negative_slope=..' (and ', inplace=True') for the module's repr."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise; any shape."""

    def forward(self, input):
        return ops.sigmoid(input)


class Tanh(Module):
    """tanh(x) elementwise; any shape."""

    def forward(self, input):
        return ops.tanh(input)


class Softmax(Module):
    """softmax along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return ops.softmax(input, self.dim)

    def extra_repr(self):
        """'dim=..' for the module's repr."""
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim`, computed stably."""

    def forward(self, input):
        return ops.log_softmax(input, self.dim)


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...) for the default start_dim=1, end_dim=-1."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        """'start_dim=.., end_dim=..' for the module's repr."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zeroes units with probability p and scales the rest by 1/(1-p) in training; identity in eval.

    mask_fn: None, or a callable (shape, backend) -> bool keep-mask used instead of the RNG.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace
        self.mask_fn = None

    def forward(self, input):
        mask = None
        if self.mask_fn is not None and self.training and self.p > 0:
            mask = self.mask_fn(input.shape, input.backend)
        return dropout(input, self.p, self.training, mask=mask)

    def extra_repr(self):
        """'p=.., inplace=..' for the module's repr."""
        return f"p={self.p}, inplace={self.inplace}"
