"""torch.nn.functional: every function by torch's name. Each layer's and loss's function lives beside its op and
its Module (nn/layers.py, nn/loss.py, nn/loss_elementwise.py); the tensor functions (sigmoid, softmax, ...) are minigrad.ops'."""
from .. import dtypes, ops
from ..tensor import Tensor
from .layers import dropout, leaky_relu, linear, relu  # noqa: F401
from .loss import cross_entropy, cross_entropy_composed, nll_loss  # noqa: F401
from .loss_elementwise import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_composed, l1_loss,
    mse_loss,
)


def sigmoid(input):
    """1 / (1 + exp(-input)), elementwise; any shape."""
    return ops.sigmoid(input)


def tanh(input):
    """tanh(input), elementwise; any shape."""
    return ops.tanh(input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x - max) / sum exp(x - max) along dim; same shape as input (dtype= casts first, as torch)."""
    return ops.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - max - log sum exp(x - max) along dim; same shape as input (dtype= casts first)."""
    return ops.log_softmax(input, dim, dtype)


def one_hot(tensor, num_classes=-1):
    """(*,) int64 class indices -> (*, num_classes) int64 one-hot."""
    if tensor.dtype != dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a, xp = tensor.array, tensor.xp
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and int(a.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and int(a.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._wrap((a[..., None] == xp.arange(num_classes)).astype(dtypes.int64))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Per-channel normalisation of (N, C) or (N, C, L); in training updates the running stats in place (torch's
    rule: running = (1 - momentum) * running + momentum * batch stat, the variance unbiased)."""
    from ..ops.batchnorm import batch_norm as _bn  # not ops.norm: that name is the norm() function

    _check_batch_norm(input, training)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in eval mode needs running_mean and running_var")
        y, _ = _bn(input, weight, bias, False, eps, running_mean.array, running_var.array)
        return y
    y, op = _bn(input, weight, bias, True, eps)
    M = input.array.size // input.shape[1]
    if running_mean is not None:
        running_mean.array = ((1.0 - momentum) * running_mean.array + momentum * op.mean).astype(running_mean.dtype)
    if running_var is not None:
        unbiased = op.var * (M / (M - 1))
        running_var.array = ((1.0 - momentum) * running_var.array + momentum * unbiased).astype(running_var.dtype)
    return y


def batch_norm_composed(input, weight=None, bias=None, eps=1e-5):
    """Training-mode batch norm from primitives (mean, sub, mul, sqrt, div): the fused op's twin for tests."""
    _check_batch_norm(input, True)
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, -1) + (1,) * (input.ndim - 2)
    d = input - input.mean(dims, keepdim=True)
    var = (d * d).mean(dims, keepdim=True)
    y = d / ops.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _check_batch_norm(input, training):
    if input.ndim not in (2, 3):
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    if training and input.array.size // max(input.shape[1], 1) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
