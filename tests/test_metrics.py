"""Metrics against scikit-learn, and the error-rate intervals against an independent scipy implementation."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import norm
from sklearn import metrics as skm

import minigrad
from minigrad import metrics as M


@st.composite
def label_pairs(draw, max_c=6):
    C = draw(st.integers(2, max_c))
    n = draw(st.integers(1, 60))
    t = draw(arrays(np.int64, n, elements=st.integers(0, C - 1)))
    p = draw(arrays(np.int64, n, elements=st.integers(0, C - 1)))
    return t, p, C


# scikit-learn calls cost milliseconds each: fewer examples than the profile's default
@settings(max_examples=max(10, settings.default.max_examples // 6))
@given(label_pairs())
def test_vs_sklearn(tpc):
    t, p, C = tpc
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p), abs=0)
    assert M.error_rate(t, p) == pytest.approx(1 - skm.accuracy_score(t, p), abs=1e-15)
    cm = M.confusion_matrix(t, p, num_classes=C)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(t, p, labels=list(range(C))))
    assert cm.dtype == np.int64
    for ours, ref in ((M.precision, skm.precision_score), (M.recall, skm.recall_score), (M.f1_score, skm.f1_score)):
        for avg in ("macro", "micro", "weighted", None):
            # labels present only (scikit-learn's default) and all C classes (num_classes=)
            np.testing.assert_allclose(ours(t, p, average=avg), ref(t, p, average=avg, zero_division=0), rtol=1e-12)
            np.testing.assert_allclose(ours(t, p, average=avg, num_classes=C),
                                       ref(t, p, average=avg, labels=list(range(C)), zero_division=0), rtol=1e-12)
        tb, pb = (t == 1).astype(np.int64), (p == 1).astype(np.int64)
        for pos in (0, 1):
            np.testing.assert_allclose(ours(tb, pb, pos_label=pos), ref(tb, pb, pos_label=pos, zero_division=0),
                                       rtol=1e-12)


@given(label_pairs(max_c=2))
def test_binary_counts_vs_sklearn(tpc):
    t, p, _ = tpc
    tn, fp, fn, tp = skm.confusion_matrix(t, p, labels=[0, 1]).ravel()
    assert M.binary_counts(t, p) == (tp, tn, fp, fn)
    c = M.binary_counts(t, p, pos_label=0)
    assert (c.tp, c.tn, c.fp, c.fn) == (tn, tp, fn, fp)


def test_tensors_and_scores():
    scores = minigrad.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    y = minigrad.tensor([1, 0, 0, 0])
    assert M.accuracy(y, scores) == 0.75 and isinstance(M.accuracy(y, scores), float)
    np.testing.assert_array_equal(M.confusion_matrix(y, scores), [[2, 1], [0, 1]])
    assert M.precision(y, scores) == 0.5 and M.recall(y, scores) == 1.0
    assert M.f1_score(y, scores) == pytest.approx(2 / 3)
    assert M.precision([0, 0], [0, 0]) == 0.0  # no predicted positives: zero_division
    with pytest.raises(ValueError):
        M.accuracy([1, 2], [1])
    with pytest.raises(ValueError):
        M.precision([1], [1], average="samples")
    with pytest.raises(ValueError):
        M.confusion_matrix([0, 3], [0, 1], num_classes=2)


def wilson_ref(k, n, conf):
    """Wilson score interval written from its textbook formula with scipy's normal quantile."""
    z = norm.ppf(1 - (1 - conf) / 2)
    p = k / n
    c = (k + z**2 / 2) / (n + z**2)
    h = z * math.sqrt(n) / (n + z**2) * math.sqrt(p * (1 - p) + z**2 / (4 * n))
    return p, c - h, c + h


@given(st.integers(1, 100000), st.floats(0, 1), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_vs_independent(n, frac, conf):
    k = int(frac * n)
    rate, lo, hi = M.error_rate_ci(k, n, confidence=conf, method="wilson")
    r, l2, h2 = wilson_ref(k, n, conf)
    assert rate == r
    assert lo == pytest.approx(max(l2, 0.0), rel=1e-9, abs=1e-12)
    assert hi == pytest.approx(min(h2, 1.0), rel=1e-9, abs=1e-12)
    assert 0.0 <= lo <= rate <= hi <= 1.0
    z = norm.ppf(1 - (1 - conf) / 2)
    p, nlo, nhi = M.error_rate_ci(k, n, confidence=conf, method="normal")
    half = z * math.sqrt(r * (1 - r) / n)
    assert nlo == pytest.approx(max(0.0, r - half), abs=1e-12) and nhi == pytest.approx(min(1.0, r + half), abs=1e-12)


def test_ci_known_values_and_errors():
    rate, lo, hi = M.error_rate_ci(10, 100)  # the classic example: Wilson 95% for 10/100 is [0.0552, 0.1744]
    assert rate == 0.1 and round(lo, 4) == 0.0552 and round(hi, 4) == 0.1744
    assert M.error_rate_ci(0, 50)[1] == 0.0 and M.error_rate_ci(50, 50)[2] == 1.0
    assert M.error_rate_ci(0, 50, method="normal")[1:] == (0.0, 0.0)  # the Wald interval collapses at 0
    for bad in ((5, 0), (-1, 10), (11, 10)):
        with pytest.raises(ValueError):
            M.error_rate_ci(*bad)
    with pytest.raises(ValueError):
        M.error_rate_ci(1, 10, method="exact")
    with pytest.raises(ValueError):
        M.error_rate_ci(1, 10, confidence=1.0)
