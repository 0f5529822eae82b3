"""torch.nn.functional look-alike: layers, activations, dropout, losses (fused + composed twins), one_hot."""
import warnings

from .. import device_checks, dtypes, ops, random
from ..backend import move
from ..ops.loss import (
    BCELoss, BCEWithLogitsLoss, L1Loss, MSELoss, NLLLoss, SoftmaxCrossEntropy,
)
from ..ops.nn import Dropout, linear  # noqa: F401  (linear re-exported as F.linear)
from ..ops import leaky_relu as _leaky_relu
from ..tensor import Tensor

_TORCH_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


# ---- activations ------------------------------------------------------------------------------
def relu(input, inplace=False):
    return ops.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _leaky_relu(input, float(negative_slope))


def sigmoid(input):
    return ops.sigmoid(input)


def tanh(input):
    return ops.tanh(input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return ops.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return ops.log_softmax(input, dim, dtype)


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
        keep = move(mask.data if isinstance(mask, Tensor) else mask, input.backend)
        if tuple(keep.shape) != input.shape:
            raise ValueError(f"dropout mask shape {tuple(keep.shape)} != input shape {input.shape}")
        keep = keep.astype(dtypes.bool, copy=False)
    return Dropout(float(p), keep)(input)


def one_hot(tensor, num_classes=-1):
    """(*,) int64 class indices -> (*, num_classes) int64 one-hot."""
    if tensor.dtype != dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a, xp = tensor.data, tensor.xp
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and int(a.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and int(a.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._wrap((a[..., None] == xp.arange(num_classes)).astype(dtypes.int64))


# ---- argument checks shared by the losses -----------------------------------------------------
def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:  # torch's legacy arguments
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", stacklevel=3)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


class _SmoothingError(ValueError, RuntimeError):
    """torch raises RuntimeError here; ValueError is what the argument check means. Catch either."""


def _check_smoothing(label_smoothing):
    if not 0.0 <= label_smoothing <= 1.0:
        raise _SmoothingError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    return float(label_smoothing)


def _const(x, like):
    """A weight argument as a raw array on like's backend and in like's dtype (no float64 leaks)."""
    if x is None:
        return None
    a = move(x.data if isinstance(x, Tensor) else x, like.backend)
    return like.xp.asarray(a, dtype=like.dtype)


def _size(shape):
    return f"torch.Size({list(shape)})"


def _check_class_target(input, target):
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    N = target.shape[0] if target.ndim else None
    if input.ndim != 1 and input.shape[0] != N:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({N or 0}).")
    if input.ndim <= 2 and target.ndim != input.ndim - 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.ndim > 2 and target.shape != (input.shape[0],) + input.shape[2:]:
        raise RuntimeError(f"Expected target size {[input.shape[0], *input.shape[2:]]}, got {list(target.shape)}")
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_tname(target.dtype)}")


def _check_range(t, C, ignore_index):
    a = t.data
    bad = ((a < 0) | (a >= C)) & (a != ignore_index)
    device_checks.check(bad, a, "Target {} is out of bounds.", IndexError)  # on CuPy: at the next sync point


def _tname(dtype):
    return _TORCH_TYPE.get(str(dtype), str(dtype))


def _class_layout(input, target, allow_probs):
    """(N, C, d1..dk) logits and targets -> (M, C) and (M,) [or (M, C) probabilities], plus the
    shape a reduction='none' result takes back."""
    probs = allow_probs and target.shape == input.shape and input.ndim > 0
    if probs:
        if target.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{_tname(target.dtype)}")
        target = target.to(input.dtype) if target.dtype != input.dtype else target
    else:
        _check_class_target(input, target)
    C = input.shape[1] if input.ndim > 1 else input.shape[0]
    if input.ndim == 1:
        return input.reshape(1, C), target.reshape((1, C) if probs else (1,)), (), probs
    if input.ndim == 2:
        return input, target, (input.shape[0],), probs
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)  # class dim last, then flatten the rest
    z = input.permute(perm).reshape(-1, C)
    t = target.permute(perm).reshape(-1, C) if probs else target.reshape(-1)
    return z, t, (input.shape[0],) + input.shape[2:], probs


def _finish(loss, reduction, shape):
    return loss.reshape(shape) if reduction == "none" and loss.shape != shape else loss


# ---- losses -----------------------------------------------------------------------------------
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    return L1Loss(reduction)(input, target)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    return MSELoss(reduction)(input, target)


def _warn_size(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({_size(target.shape)}) that is different to the input size "
                      f"({_size(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """BCE on probabilities; each log clamped at -100 as torch. input, target: same shape, in [0, 1]."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({_size(target.shape)}) that is different to the input size "
                         f"({_size(input.shape)}) is deprecated. Please ensure they have the same size.")
    return BCELoss(reduction, _const(weight, input))(input, target)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """sigmoid + BCE fused: stable for any logit. input, target: same shape; pos_weight: (C,)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_logits_target(input, target)
    return BCEWithLogitsLoss(reduction, _const(weight, input), _const(pos_weight, input))(input, target)


def _check_logits_target(input, target):
    if target.shape != input.shape:
        raise ValueError(f"Target size ({_size(target.shape)}) must be the same as input size ({_size(input.shape)})")


def binary_cross_entropy_with_logits_composed(input, target, weight=None, reduction="mean", pos_weight=None):
    """Same as binary_cross_entropy_with_logits, from primitive ops: the fused op's reference."""
    reduction = _reduction(None, None, reduction)
    _check_logits_target(input, target)
    z, y = input, target
    log_sig = ops.minimum(z, 0.0) - ops.log1p(ops.exp(-ops.abs(z)))  # log(sigmoid(z)), stable
    if pos_weight is not None:
        log_sig = log_sig * ((Tensor._wrap(_const(pos_weight, z)) - 1.0) * y + 1.0)
    loss = (1.0 - y) * z - log_sig
    if weight is not None:
        loss = loss * Tensor._wrap(_const(weight, z))
    return loss if reduction == "none" else (loss.sum() if reduction == "sum" else loss.mean())


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """input: (N, C) or (N, C, d1..) log-probabilities; target: (N,) / (N, d1..) int64 classes."""
    reduction = _reduction(size_average, reduce, reduction)
    z, t, shape, _ = _class_layout(input, target, allow_probs=False)
    _check_range(t, z.shape[1], ignore_index)
    return _finish(NLLLoss(reduction, _const(weight, z), ignore_index)(z, t), reduction, shape)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax + nll_loss as one fused op. target: int64 classes, or probabilities of input's shape."""
    reduction = _reduction(size_average, reduce, reduction)
    eps = _check_smoothing(label_smoothing)
    z, t, shape, probs = _class_layout(input, target, allow_probs=True)
    if probs and t.requires_grad:  # the fused op gives the target no gradient; the composed one does
        return cross_entropy_composed(input, target, weight, ignore_index, reduction, label_smoothing)
    if not probs:
        _check_range(t, z.shape[1], ignore_index)
    op = SoftmaxCrossEntropy(reduction, _const(weight, z), ignore_index, eps, probs)
    return _finish(op(z, t), reduction, shape)


def cross_entropy_composed(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Same as cross_entropy, from primitive ops (log_softmax, indexing, sum): the fused op's reference."""
    reduction = _reduction(None, None, reduction)
    eps = _check_smoothing(label_smoothing)
    z, t, shape, probs = _class_layout(input, target, allow_probs=True)
    N, C = z.shape
    logp = ops.log_softmax(z, 1)
    w = None if weight is None else Tensor._wrap(_const(weight, z))
    if probs:
        T = t * (1.0 - eps) + eps / C if eps > 0 else t
        loss = -(logp * (T if w is None else T * w)).sum(1)
        denom = float(N)
    else:
        _check_range(t, C, ignore_index)
        xp, valid = z.xp, t.data != ignore_index
        t_safe = xp.where(valid, t.data, 0)
        w_t = valid.astype(z.dtype) if w is None else w.data[t_safe] * valid  # per-sample weight, 0 if ignored
        loss = -logp[xp.arange(N), t_safe] * Tensor._wrap(w_t)
        if eps > 0:  # torch: (1 - eps) nll + eps / C * (-sum_c w_c logp_c)
            smooth = -(logp if w is None else logp * w).sum(1) * Tensor._wrap(valid.astype(z.dtype))
            loss = loss * (1.0 - eps) + smooth * (eps / C)
        denom = Tensor._wrap(w_t.sum())
    if reduction == "none":
        return loss.reshape(shape)
    return loss.sum() if reduction == "sum" else loss.sum() / denom


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Per-channel normalisation of (N, C) or (N, C, L); in training updates the running stats in place (torch's
    rule: running = (1 - momentum) * running + momentum * batch stat, the variance unbiased)."""
    from ..ops.batchnorm import batch_norm as _bn  # not ops.norm: that name is the norm() function

    _check_batch_norm(input, training)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in eval mode needs running_mean and running_var")
        y, _ = _bn(input, weight, bias, False, eps, running_mean.data, running_var.data)
        return y
    y, op = _bn(input, weight, bias, True, eps)
    M = input.data.size // input.shape[1]
    if running_mean is not None:
        running_mean.data = ((1.0 - momentum) * running_mean.data + momentum * op.mean).astype(running_mean.dtype)
    if running_var is not None:
        unbiased = op.var * (M / (M - 1))
        running_var.data = ((1.0 - momentum) * running_var.data + momentum * unbiased).astype(running_var.dtype)
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
    if training and input.data.size // max(input.shape[1], 1) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
