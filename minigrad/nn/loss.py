"""The class-target losses, cross-entropy and NLL: each loss's Function (forward, and its backward written by hand),
its function (torch.nn.functional's name) and its Module; torch's argument rules below the fence at the end.

Loss Functions take `reduction` in "mean" | "sum" | "none", 2-D input (N, C) and 1-D int targets (N,); their
functions reshape the other layouts into that. `cross_entropy()` picks `SoftmaxCrossEntropyFunction` (the course's
formula, backward (p - y)/N) for plain class targets and `GeneralSoftmaxCrossEntropyFunction` for torch's options
(weights, ignored targets, label smoothing, probabilities). Elementwise losses (L1, MSE, BCE, BCE-with-logits) are
in loss_elementwise.py. Each fused loss has a `*_composed` reference built from primitive ops (tests check
fused == composed == torch).
"""
import contextlib
import warnings

import numpy

from .. import backend, dtypes, kernels, ops
from ..autograd import Function
from ..backend import move
from ..tensor import Tensor
from .module import Module


# ---- the reductions every loss ends with ------------------------------------------------------------------------
def _reduce(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with _quiet(loss):  # 0/0 = nan when every target is ignored, as torch
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


def _quiet(a):
    # log(0) = -inf is expected (torch clamps it at -100); silence NumPy's warning only (CuPy warns of nothing)
    return numpy.errstate(divide="ignore", invalid="ignore") if type(a) is numpy.ndarray else contextlib.nullcontext()


# ---- ops -----------------------------------------------------------------------------------------------------------
class SoftmaxCrossEntropyFunction(Function):
    """The course's softmax cross-entropy: log_softmax + NLL in one op. z: (N, C) logits, t: (N,) int classes."""
    torch_name = "NllLossBackward0"  # torch's graph ends in nll_loss(log_softmax(z)); ours fuses both

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, z, t):
        xp, N = self.xp, len(t)
        shifted = z - z.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        logp = shifted - xp.log(s)  # torch's log_softmax: x - max - log(sum(exp(x - max)))
        loss = -logp[xp.arange(N), t]
        e /= s
        self.p, self.t = e, t  # softmax(z): the only (N, C) array kept for backward
        return _reduce(loss, self.reduction, N)

    def backward(self, gy):
        # dL/dz = (softmax(z) - onehot(y)) / N
        gz = self.p.copy()
        gz[self.xp.arange(len(self.t)), self.t] -= 1
        g = _scale(gy, self.reduction, len(self.t))
        gz *= g[:, None] if g.ndim == 1 else g  # gz is our own array
        return gz, None


class GeneralSoftmaxCrossEntropyFunction(Function):
    """log_softmax + NLL fused, with torch's options: class weights, ignore_index, label smoothing, or class
    probabilities as targets. z: (N, C) logits; t: (N,) int classes or (N, C) probabilities."""
    fused = False  # True once the twin below ran forward (its backward reads the twin's layout)

    def __init__(self, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0, probs=False):
        self.reduction, self.weight, self.ignore_index = reduction, weight, ignore_index
        self.eps, self.probs = float(label_smoothing), probs

    def forward(self, z, t):
        xp = self.xp
        N, C = z.shape
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

    def _class_loss(self, xp, logp, t):
        valid = t != self.ignore_index
        valid = None if backend.all_true(valid) else valid
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
        g = g[:, None] if g.ndim == 1 else g
        if not self.probs and self.weight is None and self.eps == 0 and self.valid is None:
            gz = p.copy()
            gz[xp.arange(len(self.t)), self.t] -= 1
        else:
            T = self._target_matrix()
            gz = p * T.sum(axis=1, keepdims=True) - T
        gz *= g  # gz is our own array
        return gz, None

    # ---- the twin: CuPy, class targets without weight or smoothing, each pass in one launch (kernels/cuda.py)
    def forward_fast(self, z, t):
        out = None if self.probs or self.weight is not None or self.eps != 0 else \
            kernels.softmax_cross_entropy(z, t, self.ignore_index)
        if out is None:
            return None
        l_i, self.p, w_t, _ = out  # targets out of range: cross_entropy() checked them before this op
        self.fused, self.t, self.C, self.valid, self.w_t = True, t, z.shape[1], None, w_t
        self.torch_name = "NllLossBackward0"  # as the formulas' forward names it
        denom = w_t.sum()
        self.safe_denom = _safe(self.xp, denom)
        return _reduce(l_i, self.reduction, denom)

    def backward_fast(self, gy):
        if not self.fused:
            return None
        g = _scale(gy, self.reduction, self.safe_denom)
        gz = kernels.softmax_cross_entropy_backward(self.p, self.t, g, self.ignore_index)
        if gz is None:  # the formulas' backward runs: give it the masked layout it reads
            self.valid = self.t != self.ignore_index
            self.t = self.xp.where(self.valid, self.t, 0)
            return None
        return gz, None


def _class_weights(xp, t, valid, weight, dtype):
    """Per-sample weight w[t_i] (0 where t_i is ignored) and safe targets (ignored -> class 0)."""
    t_safe = t if valid is None else xp.where(valid, t, 0)
    if weight is None:
        w_t = None if valid is None else valid.astype(dtype)
    else:
        w_t = weight[t_safe] if valid is None else weight[t_safe] * valid
    return t_safe, w_t


class NLLLossFunction(Function):
    """-w[t_i] logp[i, t_i], weighted mean over non-ignored i. logp: (N, C), t: (N,) int."""
    torch_name = "NllLossBackward0"

    def __init__(self, reduction="mean", weight=None, ignore_index=-100):
        self.reduction, self.weight, self.ignore_index = reduction, weight, ignore_index

    def forward(self, logp, t):
        xp = self.xp
        valid = t != self.ignore_index
        valid = None if backend.all_true(valid) else valid
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


# ---- functions (torch.nn.functional's names; nn.functional re-exports them) ----------------------------------------
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
    if not probs and weight is None and eps == 0 and backend.all_true(t.array != ignore_index):
        op = SoftmaxCrossEntropyFunction(reduction)  # the course's case: the plain formula
    else:
        op = GeneralSoftmaxCrossEntropyFunction(reduction, _const(weight, z), ignore_index, eps, probs)
    return _finish(op(z, t), reduction, shape)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """input: (N, C) or (N, C, d1..) log-probabilities; target: (N,) / (N, d1..) int64 classes."""
    reduction = _reduction(size_average, reduce, reduction)
    z, t, shape, _ = _class_layout(input, target, allow_probs=False)
    _check_range(t, z.shape[1], ignore_index)
    return _finish(NLLLossFunction(reduction, _const(weight, z), ignore_index)(z, t), reduction, shape)


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
        xp, valid = z.xp, t.array != ignore_index
        t_safe = xp.where(valid, t.array, 0)
        w_t = valid.astype(z.dtype) if w is None else w.array[t_safe] * valid  # per-sample weight, 0 if ignored
        loss = -logp[xp.arange(N), t_safe] * Tensor._wrap(w_t)
        if eps > 0:  # torch: (1 - eps) nll + eps / C * (-sum_c w_c logp_c)
            smooth = -(logp if w is None else logp * w).sum(1) * Tensor._wrap(valid.astype(z.dtype))
            loss = loss * (1.0 - eps) + smooth * (eps / C)
        denom = Tensor._wrap(w_t.sum())
    if reduction == "none":
        return loss.reshape(shape)
    return loss.sum() if reduction == "sum" else loss.sum() / denom


# ---- modules ------------------------------------------------------------------------------------------------------
class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)  # a buffer, as torch: saved in state_dict, moved by .to()


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) at int64 targets (N,)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """log_softmax + NLL fused; int64 class targets or class probabilities; label smoothing."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = _check_smoothing(label_smoothing)

    def forward(self, input, target):
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


# ---- torch's argument rules (shared by every loss) ================================================================
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
    a = move(x.array if isinstance(x, Tensor) else x, like.backend)
    return like.xp.asarray(a, dtype=like.dtype)


_CLASS_DTYPES = (numpy.dtype("int64"), numpy.dtype("uint8"))  # what torch takes as class targets


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
    if target.array.dtype not in _CLASS_DTYPES:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {dtypes.type_name(target.dtype)}")


def _check_range(t, C, ignore_index):
    """Refuse a target outside [0, C) that is not ignore_index."""
    a = t.array
    if type(a) is numpy.ndarray and a.size and 0 <= a.min() and a.max() < C:  # on NumPy, two reductions say it
        return
    bad = ((a < 0) | (a >= C)) & (a != ignore_index)
    backend.check_values(bad, a, "Target {} is out of bounds.", IndexError)


def _class_layout(input, target, allow_probs):
    """(N, C, d1..dk) logits and targets -> (M, C) and (M,) [or (M, C) probabilities], plus the
    shape a reduction='none' result takes back."""
    probs = allow_probs and target.shape == input.shape and input.ndim > 0
    if probs:
        if target.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{dtypes.type_name(target.dtype)}")
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
