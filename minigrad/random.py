"""Per-backend random generators, seeded together by minigrad.manual_seed."""
import numpy

from . import cuda
from .backend import get_xp, move

_seed = None
_generators = {}


def manual_seed(seed):
    """Seed every backend's generator (numpy now, cupy when first used)."""
    global _seed
    _seed = int(seed)
    _generators.clear()
    return _seed


def _cuda_manual_seed(seed):
    """torch.cuda.manual_seed(_all): here one seed serves every backend, CuPy's generator too (returns None)."""
    manual_seed(seed)


cuda.manual_seed = cuda.manual_seed_all = _cuda_manual_seed


def seed():
    """Re-seed from the OS, as torch.seed()."""
    s = int(numpy.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed():
    return _seed


class Generator:
    """torch.Generator look-alike: `Generator().manual_seed(42)` for random_split, DataLoader, rand(generator=)."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = int(numpy.random.SeedSequence().entropy % (2**63))
        self.rng = numpy.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = numpy.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def permutation(self, n):
        return self.rng.permutation(n)

    def __getattr__(self, name):  # random(), integers(), ... of the numpy Generator underneath
        return getattr(self.__dict__["rng"], name)


def generator(backend="numpy"):
    """The backend's Generator (numpy.random.Generator or cupy.random.Generator)."""
    if backend not in _generators:
        xp = get_xp(backend)
        _generators[backend] = xp.random.default_rng(_seed)
    return _generators[backend]


def _source(backend, gen):
    """Draw from a user's Generator (on the host, then moved) or from the backend's own generator."""
    if gen is None:
        return generator(backend), (lambda a: a)
    return gen.rng, (lambda a: move(a, backend))


def uniform(shape, low, high, dtype, backend="numpy", gen=None):
    """U(low, high) samples of `dtype` (drawn in that dtype, never through float64 for float32)."""
    g, place = _source(backend, gen)
    u = place(g.random(shape, dtype=_float(dtype)))
    return (u * (high - low) + low).astype(dtype, copy=False)


def normal(shape, mean, std, dtype, backend="numpy", gen=None):
    g, place = _source(backend, gen)
    z = place(g.standard_normal(shape, dtype=_float(dtype)))
    return (z * std + mean).astype(dtype, copy=False)


def integers(low, high, shape, dtype="int64", backend="numpy"):
    return generator(backend).integers(low, high, size=shape).astype(dtype, copy=False)


def permutation(n, backend="numpy"):
    g = generator(backend)
    if backend == "numpy":
        return g.permutation(n).astype("int64", copy=False)
    # cupy.random.Generator has no permutation(): sort random keys on the device (as cupy.random.permutation does)
    return g.random(n).argsort().astype("int64", copy=False)


def bernoulli_keep(shape, p_drop, backend="numpy"):
    """Boolean keep-mask: each unit kept with probability 1 - p_drop."""
    return generator(backend).random(shape, dtype=numpy.float32) >= p_drop


def _float(dtype):
    d = numpy.dtype(dtype)
    return d if d in (numpy.float32, numpy.float64) else numpy.float64
