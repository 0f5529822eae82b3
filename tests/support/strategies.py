"""Hypothesis strategies shared by the op parity tests (shapes, bounded values, ties, dims)."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = [np.float32, np.float64]


def floats(dtype, lo=-3.0, hi=3.0):
    """Bounded finite floats exactly representable in dtype (so no rounding on the way in)."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    lo, hi = (float(np.dtype(dtype).type(v)) for v in (lo, hi))  # hypothesis wants exact bounds
    return st.floats(lo, hi, width=width, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def nonzero(dtype, lo=0.5, hi=3.0):
    """Floats with |x| in [lo, hi]: safe denominators."""
    return st.one_of(floats(dtype, lo, hi), floats(dtype, -hi, -lo))


def tie_prone(dtype, values=(-1.0, 0.0, 0.5, 1.0)):
    """A handful of values, so equal elements (ties, kinks) appear often."""
    return st.sampled_from([np.dtype(dtype).type(v) for v in values])


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(dtype, shape, elements=None, unique=False):
    """Array of dtype/shape; elements default to floats in [-3, 3]. A strategy for shape is allowed."""
    elements = floats(dtype) if elements is None else elements
    return hnp.arrays(dtype, shape, elements=elements, unique=unique)


@st.composite
def array_and_dim(draw, dtype, elements=None, unique=False, min_dims=1, max_dims=4):
    """(array, dim) with dim a valid (possibly negative) axis of the array."""
    x = draw(arrays(dtype, shapes(min_dims, max_dims), elements, unique))
    dim = draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim else 0
    return x, dim


@st.composite
def array_and_dims(draw, dtype, elements=None, unique=False, min_dims=1, max_dims=4):
    """(array, dims) with dims a non-empty tuple of distinct axes (some given negatively)."""
    x = draw(arrays(dtype, shapes(min_dims, max_dims), elements, unique))
    axes = draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True))
    signs = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
    return x, tuple(a - x.ndim if neg else a for a, neg in zip(axes, signs))


@st.composite
def broadcast_pair(draw, dtype, a_elements=None, b_elements=None, max_dims=4):
    """Two arrays whose shapes broadcast together (including 0-d and size-1 axes)."""
    sh = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=4))
    a = draw(arrays(dtype, sh.input_shapes[0], a_elements))
    b = draw(arrays(dtype, sh.input_shapes[1], b_elements))
    return a, b
