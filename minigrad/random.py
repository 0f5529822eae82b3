"""Per-backend random generators, seeded together by minigrad.manual_seed."""
import numpy

from .backend import get_xp

_seed = None
_generators = {}


def manual_seed(seed):
    """Seed every backend's generator (numpy now, cupy when first used)."""
    global _seed
    _seed = int(seed)
    _generators.clear()
    return _seed


def seed():
    """Re-seed from the OS, as torch.seed()."""
    s = int(numpy.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed():
    return _seed


def generator(backend="numpy"):
    """The backend's Generator (numpy.random.Generator or cupy.random.Generator)."""
    if backend not in _generators:
        xp = get_xp(backend)
        _generators[backend] = xp.random.default_rng(_seed)
    return _generators[backend]


def uniform(shape, low, high, dtype, backend="numpy"):
    """U(low, high) samples of `dtype` (drawn in that dtype, never through float64 for float32)."""
    g = generator(backend)
    u = g.random(shape, dtype=_float(dtype))
    return (u * (high - low) + low).astype(dtype, copy=False)


def normal(shape, mean, std, dtype, backend="numpy"):
    g = generator(backend)
    z = g.standard_normal(shape, dtype=_float(dtype))
    return (z * std + mean).astype(dtype, copy=False)


def integers(low, high, shape, dtype="int64", backend="numpy"):
    return generator(backend).integers(low, high, size=shape).astype(dtype, copy=False)


def permutation(n, backend="numpy"):
    return generator(backend).permutation(n).astype("int64", copy=False)


def bernoulli_keep(shape, p_drop, backend="numpy"):
    """Boolean keep-mask: each unit kept with probability 1 - p_drop."""
    return generator(backend).random(shape, dtype=numpy.float32) >= p_drop


def _float(dtype):
    d = numpy.dtype(dtype)
    return d if d in (numpy.float32, numpy.float64) else numpy.float64
