"""Loss ops with hand-written backward: MSE, L1, BCE, fused sigmoid-BCE, NLL, fused softmax-CE.

Each takes `reduction` in "mean" | "sum" | "none". Class-target ops see 2-D input (N, C) and
1-D int targets (N,); nn.functional reshapes the other layouts into that.
"""
import contextlib

from .. import kernels
from ..autograd import Function
from ..backend import get_array_module
from ..device_checks import all_true, check


def _reduce(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with _quiet(get_array_module(loss)):  # 0/0 = nan when every target is ignored, as torch
        return total / (loss.size if denom is None else denom)


def _scale(gy, reduction, n):
    """Upstream gradient per loss element: gy / n for mean, gy for sum and none."""
    if reduction != "mean":
        return gy
    # a count n as gy's dtype: NumPy 1.x divides a 0-d float32 gy by a Python int in float64 (NEP 50 keeps float32)
    return gy / (gy.dtype.type(n) if isinstance(n, int) else n)


def _safe(xp, denom):
    # all targets ignored: torch's mean is 0/0 = nan but its gradient is 0, not nan * 0
    # (1 as denom's dtype: NumPy 1.x makes where(0-d float32, int, ...) float64)
    return denom if isinstance(denom, int) else xp.where(denom == 0, denom.dtype.type(1), denom)


def _quiet(xp):
    # log(0) = -inf is expected (torch clamps it at -100); silence NumPy's warning only
    errstate = getattr(xp, "errstate", None)
    return errstate(divide="ignore", invalid="ignore") if errstate else contextlib.nullcontext()


def _log_sigmoid(xp, z):
    # min(z, 0) - log1p(exp(-|z|)): never overflows
    return xp.minimum(z, 0) - xp.log1p(xp.exp(-xp.abs(z)))


def _sigmoid(xp, z):
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


class MSELoss(Function):
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


class L1Loss(Function):
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


class BCELoss(Function):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100 as torch. x in [0, 1]."""
    torch_name = "BinaryCrossEntropyBackward0"

    promote = True

    def __init__(self, reduction="mean", weight=None):
        self.reduction, self.w = reduction, weight

    def forward(self, x, y):
        xp = self.xp
        # on CuPy these raise at the next sync point (minigrad/device_checks.py)
        check((x < 0) | (x > 1) | xp.isnan(x), None, "all elements of input should be between 0 and 1")
        check((y < 0) | (y > 1) | xp.isnan(y), None, "all elements of target should be between 0 and 1")
        self.x, self.y = x, y
        with _quiet(xp):  # torch's kernel: (y - 1) max(log1p(-x), -100) - y max(log x, -100)
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
        with _quiet(xp):
            gt = -xp.log(x / (1 - x)) * g if self.needs_input_grad[1] else None
        return gx, gt


class BCEWithLogitsLoss(Function):
    """(1 - y) z - (1 + (pw - 1) y) log_sigmoid(z), times weight: sigmoid + BCE fused, stable for any z."""
    torch_name = "BinaryCrossEntropyWithLogitsBackward0"

    promote = True

    def __init__(self, reduction="mean", weight=None, pos_weight=None):
        self.reduction, self.w, self.pw = reduction, weight, pos_weight

    def forward(self, z, y):
        xp = self.xp
        self.z, self.y = z, y
        plain = self.w is None and self.pw is None
        fused = kernels.bce_with_logits(z, y) if plain else None  # CuPy: the lines below in one launch
        if fused is not None:
            self.n = fused.size
            return _reduce(fused, self.reduction)
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
        gz = kernels.bce_with_logits_backward(z, y, g) if self.w is None and pw is None else None
        if gz is None:
            s = _sigmoid(xp, z)
            gz = (s - y if pw is None else s * ((pw - 1) * y + 1) - pw * y) * g
        # dL/dy = -z;  with pos_weight: log_sigmoid(-z) - pw log_sigmoid(z)
        if self.needs_input_grad[1]:
            gt = (-z if pw is None else _log_sigmoid(xp, -z) - pw * _log_sigmoid(xp, z)) * g
            return gz, gt
        return gz, None


def _class_weights(xp, t, valid, weight, dtype):
    """Per-sample weight w[t_i] (0 where t_i is ignored) and safe targets (ignored -> class 0)."""
    t_safe = t if valid is None else xp.where(valid, t, 0)
    if weight is None:
        w_t = None if valid is None else valid.astype(dtype)
    else:
        w_t = weight[t_safe] if valid is None else weight[t_safe] * valid
    return t_safe, w_t


class NLLLoss(Function):
    """-w[t_i] logp[i, t_i], weighted mean over non-ignored i. logp: (N, C), t: (N,) int."""
    torch_name = "NllLossBackward0"

    def __init__(self, reduction="mean", weight=None, ignore_index=-100):
        self.reduction, self.weight, self.ignore_index = reduction, weight, ignore_index

    def forward(self, logp, t):
        xp = self.xp
        valid = t != self.ignore_index
        valid = None if all_true(valid) else valid  # on CuPy: the masked path, no sync
        self.t, self.w_t = _class_weights(xp, t, valid, self.weight, logp.dtype)
        self.shape = logp.shape
        loss = -logp[xp.arange(len(t)), self.t]
        if self.w_t is not None:
            loss = loss * self.w_t
        denom = len(t) if self.w_t is None else self.w_t.sum()
        self.safe_denom = _safe(xp, denom)
        return _reduce(loss, self.reduction, denom)

    def backward(self, gy):
        # dL/dlogp[i, j] = -w[t_i] / sum(w) if j == t_i else 0
        xp = self.xp
        g = -_scale(gy, self.reduction, self.safe_denom) * (1 if self.w_t is None else self.w_t)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        gx[xp.arange(len(self.t)), self.t] = g
        return gx, None


class SoftmaxCrossEntropy(Function):
    """log_softmax + NLL fused. z: (N, C) logits; t: (N,) int classes or (N, C) probabilities."""

    def __init__(self, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0, probs=False):
        self.reduction, self.weight, self.ignore_index = reduction, weight, ignore_index
        self.eps, self.probs = float(label_smoothing), probs

    def forward(self, z, t):
        xp = self.xp
        N, C = z.shape
        self.fused = False
        if not self.probs and self.weight is None and self.eps == 0:
            out = self._fused_forward(z, t)
            if out is not None:
                return out
        shifted = z - z.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        logp = shifted - xp.log(s)  # torch's log_softmax: x - max - log(sum(exp(x - max)))
        self.t, self.C, self.valid, self.w_t = t, C, None, None
        if not self.probs and self.eps == 0:
            self.torch_name = "NllLossBackward0"  # torch's graph ends in nll_loss(log_softmax(z)); ours fuses both
        if self.probs:
            loss, denom = -(logp * self._target_matrix()).sum(axis=1), N
        else:
            loss, denom = self._class_loss(xp, logp, t)
        self.safe_denom = _safe(xp, denom)
        e /= s
        self.p = e  # softmax(z): the only (N, C) array kept for backward
        return _reduce(loss, self.reduction, denom)

    def _fused_forward(self, z, t):
        """CuPy: the class-target forward below (rows with ignore_index masked) in one launch; None elsewhere."""
        out = kernels.softmax_cross_entropy(z, t, self.ignore_index)
        if out is None:
            return None
        loss, self.p, w_t, _ = out  # targets out of range: nn.functional checks them before this op
        self.fused, self.t, self.C, self.valid, self.w_t = True, t, z.shape[1], None, w_t
        denom = w_t.sum()
        self.safe_denom = _safe(self.xp, denom)
        return _reduce(loss, self.reduction, denom)

    def _class_loss(self, xp, logp, t):
        valid = t != self.ignore_index
        valid = None if all_true(valid) else valid  # on CuPy: the masked path, no sync
        self.t, self.w_t = _class_weights(xp, t, valid, self.weight, logp.dtype)
        self.valid = valid
        loss = -logp[xp.arange(len(t)), self.t]
        if self.w_t is not None:
            loss = loss * self.w_t
        denom = len(t) if self.w_t is None else self.w_t.sum()
        if self.eps > 0:  # torch: (1 - eps) nll + eps / C * (-sum_c w_c logp_c)
            smooth = -(logp if self.weight is None else logp * self.weight).sum(axis=1)
            if valid is not None:
                smooth = smooth * valid
            loss = loss * (1.0 - self.eps) + smooth * (self.eps / self.C)
        return loss, denom

    def _target_matrix(self):
        """T with loss_i = -sum_c T[i, c] logp[i, c]: weighted, smoothed one-hot or probabilities."""
        xp, C, eps = self.xp, self.C, self.eps
        if self.probs:
            T = self.t * (1.0 - eps) + eps / C if eps > 0 else self.t
            return T if self.weight is None else T * self.weight
        T = xp.zeros((len(self.t), C), dtype=self.p.dtype)
        T[xp.arange(len(self.t)), self.t] = (1.0 - eps) * (1 if self.w_t is None else self.w_t)
        if eps > 0:
            T += (eps / C) * (1 if self.weight is None else self.weight)
            if self.valid is not None:
                T *= self.valid[:, None]
        return T

    def backward(self, gy):
        # dL/dz = (softmax(z) - onehot(y)) / N;  in general p * sum_c T_c - T (T: weighted/smoothed target)
        xp, p = self.xp, self.p
        g = _scale(gy, self.reduction, self.safe_denom)
        if self.fused:  # CuPy: (p - onehot(t)) * g in one launch, 0 on ignored rows
            gz = kernels.softmax_cross_entropy_backward(p, self.t, g, self.ignore_index)
            if gz is not None:
                return gz, None
            self.valid = self.t != self.ignore_index  # the masked layout the lines below read
            self.t = xp.where(self.valid, self.t, 0)
        g = g[:, None] if g.ndim == 1 else g
        if not self.probs and self.weight is None and self.eps == 0 and self.valid is None:
            gz = p.copy()
            gz[xp.arange(len(self.t)), self.t] -= 1
        else:
            T = self._target_matrix()
            gz = p * T.sum(axis=1, keepdims=True) - T
        gz *= g  # gz is our own array
        return gz, None
