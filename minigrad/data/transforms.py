"""torchvision-style transforms: ToTensor, Normalize, Compose, Lambda (per sample, and whole-batch when possible).

Each transform that can also run on a whole stacked set at once has `batch(X)`: X holds N samples
along axis 0 and the result equals stacking the per-sample results (datasets use it to skip the
per-sample Python loop). Numerics copy torchvision: ToTensor is float(uint8) / 255 in the default
float dtype; Normalize is (x - mean) / std with mean and std cast to x's dtype first.
"""
from .. import dtypes
from ..backend import get_array_module
from ..tensor import Tensor


def _array(x):
    """Backend array behind a Tensor, ndarray or PIL image (PIL -> numpy HxW[xC])."""
    if isinstance(x, Tensor):
        return x.array
    if hasattr(x, "getbands") and hasattr(x, "tobytes"):  # a PIL image, without importing PIL
        import numpy

        return numpy.asarray(x)
    return x


def to_float_chw(X, dtype=None, batched=False):
    """uint8 (N,)H,W[,C] -> float (N,)C,H,W scaled to [0, 1]; other dtypes keep their values (as torchvision)."""
    xp = get_array_module(X)
    lead = 1 if batched else 0
    if X.ndim == 2 + lead:
        X = X[..., None]
    X = xp.moveaxis(X, -1, lead)  # HWC -> CHW
    if X.dtype != xp.uint8:
        return xp.ascontiguousarray(X)
    dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    Y = X.astype(dtype)
    Y /= 255  # in place: one big allocation, not two; int 255 keeps float32 float32; true division as torch
    return Y


def normalize(X, mean, std, inplace=False):
    """(X - mean) / std per channel; X (..., C, H, W) float; mean, std scalars or length-C sequences."""
    xp = get_array_module(X)
    m = xp.asarray(mean, dtype=X.dtype)
    s = xp.asarray(std, dtype=X.dtype)
    if bool((s == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {X.dtype}, leading to division by zero.")
    if m.ndim == 1:
        m = m.reshape(-1, 1, 1)
    if s.ndim == 1:
        s = s.reshape(-1, 1, 1)
    if inplace:  # same rounding as the out-of-place form; saves two N-sized allocations
        X -= m
        X /= s
        return X
    return (X - m) / s


class ToTensor:
    """PIL image / array / uint8 Tensor H x W (x C) -> float Tensor C x H x W in [0, 1] (default dtype)."""

    def __call__(self, pic):
        return Tensor._wrap(to_float_chw(_array(pic)))

    def batch(self, X):
        """A whole batch at once: uint8 (N, H, W[, C]) array -> float (N, C, H, W) in [0, 1]."""
        return to_float_chw(X, batched=True)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """x -> (x - mean) / std per channel, on a float Tensor C x H x W."""

    def __init__(self, mean, std, inplace=False):
        self.mean = _seq(mean)
        self.std = _seq(std)
        self.inplace = inplace  # accepted for torchvision compatibility; we always return a new tensor

    def __call__(self, x):
        y = normalize(_array(x), self.mean, self.std)
        return Tensor._wrap(y) if isinstance(x, Tensor) else y

    def batch(self, X):
        """A whole batch at once: (X - mean) / std per channel, X (N, C, H, W)."""
        return normalize(X, self.mean, self.std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    @property
    def batchable(self):
        """True if every transform can run on a whole batch (the DataLoader then does so)."""
        return all(is_batchable(t) for t in self.transforms)

    def batch(self, X):
        """A whole batch through every transform in order, writing in place once a copy is owned."""
        owned = False  # may X be overwritten? only once a transform here allocated it
        for t in self.transforms:
            if isinstance(t, Normalize):
                X, owned = normalize(X, t.mean, t.std, inplace=owned), True
            else:
                owned = isinstance(t, ToTensor) and X.dtype == "uint8"  # uint8 input -> fresh float array
                X = t.batch(X)
        return X

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class Lambda:
    """Wrap any function as a transform (runs per sample; no batch path)."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self):
        return "Lambda()"


def is_batchable(t):
    """True when transform t (or None) can run on the whole stacked set at once."""
    if t is None:
        return True
    if isinstance(t, Compose):
        return t.batchable
    return isinstance(t, (ToTensor, Normalize))


def apply_batch(t, X):
    """Run a batchable transform on stacked samples X (None = identity)."""
    return X if t is None else t.batch(X)


def _seq(v):
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return tuple(float(a) for a in v)
    return float(v)
