"""Classification metrics on Tensors or arrays: accuracy, confusion matrix, precision/recall/F1, error-rate CIs.

Arguments follow scikit-learn's order, (y_true, y_pred). y_pred may be labels (N,) or scores
(N, C), which are argmax-ed. Work happens on host NumPy copies (metrics are bookkeeping, not
part of the graph); results are Python floats or NumPy arrays.
"""
import math
from collections import namedtuple
from statistics import NormalDist

import numpy

from .backend import to_numpy
from .tensor import Tensor

BinaryCounts = namedtuple("BinaryCounts", ["tp", "tn", "fp", "fn"])


def _labels(a):
    """Host int64 labels (N,) from labels, a Tensor, or scores (N, C) (argmax over C)."""
    a = numpy.asarray(to_numpy(a.array if isinstance(a, Tensor) else a))
    if a.ndim == 2 and a.shape[1] > 1:
        a = a.argmax(axis=1)
    a = a.reshape(-1)
    if a.dtype.kind == "f":
        if not numpy.all(a == numpy.round(a)):
            raise ValueError("labels must be integers; pass scores as a 2-D (N, C) array to take their argmax")
    return a.astype(numpy.int64)


def _pair(y_true, y_pred):
    t, p = _labels(y_true), _labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    return t, p


def accuracy(y_true, y_pred):
    """Fraction of y_pred equal to y_true (float)."""
    t, p = _pair(y_true, y_pred)
    if t.size == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(numpy.mean(t == p))


def error_rate(y_true, y_pred):
    """1 - accuracy (float)."""
    return 1.0 - accuracy(y_true, y_pred)


def confusion_matrix(y_true, y_pred, num_classes=None):
    """C x C int64 counts; rows = true class, columns = predicted class; C = num_classes or max label + 1."""
    t, p = _pair(y_true, y_pred)
    C = int(num_classes) if num_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= C):
        raise ValueError(f"labels must lie in [0, {C}) for num_classes={C}")
    return numpy.bincount(t * C + p, minlength=C * C).reshape(C, C).astype(numpy.int64)


def binary_counts(y_true, y_pred, pos_label=1):
    """(tp, tn, fp, fn) as ints, with pos_label the positive class and every other label negative."""
    t, p = _pair(y_true, y_pred)
    tp = int(numpy.sum((t == pos_label) & (p == pos_label)))
    tn = int(numpy.sum((t != pos_label) & (p != pos_label)))
    fp = int(numpy.sum((t != pos_label) & (p == pos_label)))
    fn = int(numpy.sum((t == pos_label) & (p != pos_label)))
    return BinaryCounts(tp, tn, fp, fn)


def _per_class(t, p, num_classes):
    """tp, fp, fn, support per class over the label set (0..C-1, or the labels present as scikit-learn)."""
    labels = numpy.arange(num_classes) if num_classes is not None else numpy.union1d(t, p)
    tp = numpy.array([numpy.sum((t == c) & (p == c)) for c in labels], dtype=numpy.float64)
    fp = numpy.array([numpy.sum((t != c) & (p == c)) for c in labels], dtype=numpy.float64)
    fn = numpy.array([numpy.sum((t == c) & (p != c)) for c in labels], dtype=numpy.float64)
    return tp, fp, fn, tp + fn


def _safe_div(num, den, zero_division):
    num, den = numpy.asarray(num, dtype=numpy.float64), numpy.asarray(den, dtype=numpy.float64)
    out = numpy.full(num.shape, float(zero_division))
    numpy.divide(num, den, out=out, where=den != 0)
    return out


def _score(kind, y_true, y_pred, average, pos_label, num_classes, zero_division):
    t, p = _pair(y_true, y_pred)
    if average == "binary":
        c = binary_counts(t, p, pos_label)
        tp, fp, fn = numpy.array([c.tp]), numpy.array([c.fp]), numpy.array([c.fn])
        support = tp + fn
    else:
        tp, fp, fn, support = _per_class(t, p, num_classes)
        if average == "micro":
            tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    if kind == "precision":
        s = _safe_div(tp, tp + fp, zero_division)
    elif kind == "recall":
        s = _safe_div(tp, tp + fn, zero_division)
    else:  # F1 = 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall
        s = _safe_div(2 * tp, 2 * tp + fp + fn, zero_division)
    if average is None:
        return s
    if average == "macro":
        return float(s.mean())
    if average == "weighted":
        return float(_safe_div((s * support).sum(), support.sum(), zero_division))
    if average in ("binary", "micro"):
        return float(s[0])
    raise ValueError(f"average must be 'binary', 'macro', 'micro', 'weighted' or None, got {average!r}")


def precision(y_true, y_pred, average="binary", pos_label=1, num_classes=None, zero_division=0.0):
    """tp / (tp + fp): for pos_label (binary), averaged over classes (macro/micro/weighted), or per class (None)."""
    return _score("precision", y_true, y_pred, average, pos_label, num_classes, zero_division)


def recall(y_true, y_pred, average="binary", pos_label=1, num_classes=None, zero_division=0.0):
    """tp / (tp + fn); `average` as in precision."""
    return _score("recall", y_true, y_pred, average, pos_label, num_classes, zero_division)


def f1_score(y_true, y_pred, average="binary", pos_label=1, num_classes=None, zero_division=0.0):
    """Harmonic mean of precision and recall; `average` as in precision."""
    return _score("f1", y_true, y_pred, average, pos_label, num_classes, zero_division)


f1 = f1_score
precision_score = precision
recall_score = recall


def error_rate_ci(n_errors, n, confidence=0.95, method="wilson"):
    """(rate, low, high): error rate n_errors / n with a two-sided confidence interval.

    method='wilson': the Wilson score interval (good even near 0 or 1 and for small n);
    method='normal': the Wald interval rate +- z sqrt(rate (1 - rate) / n), clipped to [0, 1].
    """
    n_errors, n = int(n_errors), int(n)
    if n <= 0 or not 0 <= n_errors <= n:
        raise ValueError(f"need 0 <= n_errors <= n and n > 0, got n_errors={n_errors}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)  # 1.959964 for 95 %
    p = n_errors / n
    if method == "wilson":
        denom = 1.0 + z * z / n
        center = (p + z * z / (2.0 * n)) / denom
        half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    elif method == "normal":
        center, half = p, z * math.sqrt(p * (1.0 - p) / n)
    else:
        raise ValueError(f"method must be 'wilson' or 'normal', got {method!r}")
    low = 0.0 if n_errors == 0 else max(0.0, center - half)  # exact bounds: rounding must not leave 1e-17
    high = 1.0 if n_errors == n else min(1.0, center + half)
    return p, low, high


__all__ = ["accuracy", "error_rate", "confusion_matrix", "binary_counts", "BinaryCounts", "precision", "recall",
           "f1_score", "f1", "precision_score", "recall_score", "error_rate_ci"]
