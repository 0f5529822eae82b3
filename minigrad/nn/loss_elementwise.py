"""The elementwise losses, L1, MSE, BCE and BCE-with-logits: each loss's Function (forward, and its backward written by
hand), its function (torch.nn.functional's name) and its Module. BCE-with-logits is a fused op (sigmoid and the
loss in one, backward (sigmoid(z) - y)/N); binary_cross_entropy_with_logits_composed is its reference from
primitive ops.
"""
import warnings

from .. import backend, kernels, ops
from ..autograd import Function
from ..tensor import Tensor
from .loss import _Loss, _WeightedLoss, _const, _quiet, _reduce, _reduction, _scale


# ---- ops ----------------------------------------------------------------------------------------------------------
def _log_sigmoid(xp, z):
    # min(z, 0) - log1p(exp(-|z|)): never overflows
    return xp.minimum(z, 0) - xp.log1p(xp.exp(-xp.abs(z)))


def _sigmoid(xp, z):
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


class MSELossFunction(Function):
    """mean((x - y)^2). x, y: same (broadcastable) shape."""
    torch_name = "MseLossBackward0"

    promote = True

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, x, y):
        self.d = x - y
        return _reduce(self.d * self.d, self.reduction)

    def backward(self, gy):
        # dL/dx = 2 (x - y) / N,  dL/dy = -dL/dx
        norm = 2.0 / self.d.size if self.reduction == "mean" else 2.0
        gx = self.d * norm * gy
        return gx, -gx


class L1LossFunction(Function):
    """mean(|x - y|). x, y: same (broadcastable) shape."""

    promote = True

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, x, y):
        self.d = x - y
        return _reduce(self.xp.abs(self.d), self.reduction)

    def backward(self, gy):
        # dL/dx = sign(x - y) / N (0 where x == y, as torch),  dL/dy = -dL/dx
        gx = self.xp.sign(self.d) * _scale(gy, self.reduction, self.d.size)
        return gx, -gx


class BCELossFunction(Function):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100 as torch. x in [0, 1]."""
    torch_name = "BinaryCrossEntropyBackward0"

    promote = True

    def __init__(self, reduction="mean", weight=None):
        self.reduction, self.w = reduction, weight

    def forward(self, x, y):
        xp = self.xp
        backend.check_values((x < 0) | (x > 1) | xp.isnan(x), None, "all elements of input should be between 0 and 1")
        backend.check_values((y < 0) | (y > 1) | xp.isnan(y), None, "all elements of target should be between 0 and 1")
        self.x, self.y = x, y
        with _quiet(x):  # torch's kernel: (y - 1) max(log1p(-x), -100) - y max(log x, -100)
            loss = (y - 1) * xp.maximum(xp.log1p(-x), -100.0) - y * xp.maximum(xp.log(x), -100.0)
        if self.w is not None:
            loss = loss * self.w
        self.n = loss.size
        return _reduce(loss, self.reduction)

    def backward(self, gy):
        # dL/dx = w (x - y) / max(x (1 - x), 1e-12);  dL/dy = -w log(x / (1 - x))  (torch's formulas)
        xp, x, y = self.xp, self.x, self.y
        g = _scale(gy, self.reduction, self.n)
        if self.w is not None:
            g = g * self.w
        gx = (x - y) / xp.maximum((1 - x) * x, 1e-12) * g if self.needs_input_grad[0] else None
        with _quiet(x):
            gt = -xp.log(x / (1 - x)) * g if self.needs_input_grad[1] else None
        return gx, gt


class BCEWithLogitsLossFunction(Function):
    """(1 - y) z - (1 + (pw - 1) y) log_sigmoid(z), times weight: sigmoid + BCE fused, stable for any z."""
    torch_name = "BinaryCrossEntropyWithLogitsBackward0"

    promote = True

    def __init__(self, reduction="mean", weight=None, pos_weight=None):
        self.reduction, self.w, self.pw = reduction, weight, pos_weight

    def forward(self, z, y):
        xp = self.xp
        self.z, self.y = z, y
        ls = _log_sigmoid(xp, z)
        if self.pw is not None:
            ls = ls * ((self.pw - 1) * y + 1)
        loss = (1 - y) * z - ls
        if self.w is not None:
            loss = loss * self.w
        self.n = loss.size
        return _reduce(loss, self.reduction)

    def backward(self, gy):
        # dL/dz = (sigmoid(z) - y) / N;  with pos_weight: (sigmoid(z) (1 + (pw - 1) y) - pw y) / N
        xp, z, y, pw = self.xp, self.z, self.y, self.pw
        g = _scale(gy, self.reduction, self.n)
        if self.w is not None:
            g = g * self.w
        s = _sigmoid(xp, z)
        gz = (s - y if pw is None else s * ((pw - 1) * y + 1) - pw * y) * g
        # dL/dy = -z;  with pos_weight: log_sigmoid(-z) - pw log_sigmoid(z)
        if self.needs_input_grad[1]:
            gt = (-z if pw is None else _log_sigmoid(xp, -z) - pw * _log_sigmoid(xp, z)) * g
            return gz, gt
        return gz, None

    # ---- the twin: CuPy without weight / pos_weight, forward and backward each in one launch (kernels/cuda.py)
    def forward_fast(self, z, y):
        l_i = kernels.bce_with_logits(z, y) if self.w is None and self.pw is None else None
        if l_i is None:
            return None
        self.z, self.y, self.n = z, y, l_i.size
        return _reduce(l_i, self.reduction)

    def backward_fast(self, gy):
        if self.w is not None or self.pw is not None:
            return None
        g = _scale(gy, self.reduction, self.n)
        gz = kernels.bce_with_logits_backward(self.z, self.y, g)  # dL/dz = (sigmoid(z) - y) g
        if gz is None:
            return None
        return gz, (-self.z * g if self.needs_input_grad[1] else None)  # dL/dy = -z g


# ---- functions (torch.nn.functional's names; nn.functional re-exports them) ----------------------------------------
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """|input - target|, reduced by reduction ('mean', 'sum' or 'none'); gradient 0 where they are equal.
    Shapes: input and target alike; another target shape broadcasts, with torch's warning."""
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    return L1LossFunction(reduction)(input, target)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """(input - target)**2, reduced by reduction ('mean', 'sum' or 'none').
    Shapes: input and target alike; another target shape broadcasts, with torch's warning."""
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    return MSELossFunction(reduction)(input, target)


def _warn_size(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """BCE on probabilities; each log clamped at -100 as torch. input, target: same shape, in [0, 1]."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    return BCELossFunction(reduction, _const(weight, input))(input, target)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """sigmoid + BCE fused: stable for any logit. input, target: same shape; pos_weight: (C,)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_logits_target(input, target)
    return BCEWithLogitsLossFunction(reduction, _const(weight, input), _const(pos_weight, input))(input, target)


def _check_logits_target(input, target):
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")


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


# ---- modules ------------------------------------------------------------------------------------------------------
class L1Loss(_Loss):
    """mean |input - target|."""

    def forward(self, input, target):
        return l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """mean (input - target)^2."""

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1] (logs clamped at -100)."""

    def forward(self, input, target):
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable op; pos_weight weighs the positive term."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                pos_weight=self.pos_weight)
