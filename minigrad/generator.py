"""torch's CPU generator, bit for bit: mt19937 seeded as torch seeds it, with torch's state layout.

NumPy's MT19937 bit generator is the same Mersenne Twister (Matsumoto & Nishimura's mt19937), so its raw
32-bit outputs are torch's `generator->random()`; only the seeding and the state's byte layout are torch's own
(aten/src/ATen/core/MT19937RNGEngine.h, aten/src/ATen/CPUGeneratorImpl.cpp). The transforms that turn raw
words into numbers live in minigrad/random.py.
"""
import struct
from contextlib import contextmanager

import numpy

DEFAULT_SEED = 67280421310721  # torch's default_rng_seed_val: the seed of a fresh Generator and of the global one
_N = 624  # words of mt19937 state
_TAIL = struct.Struct("<dddif?7x")  # normal_x, normal_y (cached double normal), normal_rho, valid, cached float, valid


def init_genrand(seed):
    """mt19937's classic seeding, as torch's init_with_uint32: only the low 32 bits of the seed count."""
    key = [seed & 0xFFFFFFFF]
    for i in range(1, _N):  # state[i] = 1812433253 * (state[i-1] ^ (state[i-1] >> 30)) + i   (mod 2^32)
        key.append((1812433253 * (key[-1] ^ (key[-1] >> 30)) + i) & 0xFFFFFFFF)
    return numpy.array(key, dtype=numpy.uint32)


class Generator:
    """torch.Generator on the CPU: `Generator().manual_seed(2147483647)` draws torch's very numbers."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        """Reseed with torch's mt19937 seeding (a negative seed as its uint64 bits); returns the generator."""
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise RuntimeError(f"Overflow when unpacking long: seed {seed} is outside [-2^63, 2^64)")
        self._seed = seed % 2**64  # torch keeps a negative seed as its uint64 bits
        self._mt = numpy.random.MT19937()
        self._mt.state = {"bit_generator": "MT19937", "state": {"key": init_genrand(self._seed), "pos": _N}}
        self._fresh = True  # torch's `next` is 0 until the first draw (only get_state can tell)
        self.next_double_normal = None  # Box-Muller's second value, cached as torch's normal_distribution does
        self.next_float_normal = None
        return self

    def seed(self):
        """Re-seed from the OS's entropy (as torch.Generator.seed) and return the new seed."""
        s = int(numpy.random.SeedSequence().entropy % 2**64)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    # ---- raw words --------------------------------------------------------------------------------------------------
    def random(self, n):
        """n raw 32-bit words (uint64 array), torch's generator->random()."""
        self._fresh = False
        return self._mt.random_raw(int(n))

    def random64(self, n):
        """n 64-bit words: torch's random64() glues two 32-bit draws, the first one high."""
        w = self.random(2 * int(n)).reshape(-1, 2)
        return (w[:, 0] << numpy.uint64(32)) | w[:, 1]

    # ---- state: torch's CPUGeneratorImplState bytes (5056 of them) ------------------------------------------------
    def get_state(self):
        """The state as torch's uint8 Tensor: seed, left, seeded, next, 624 words (as uint64), normal caches."""
        from .tensor import Tensor

        st = self._mt.state["state"]
        pos = int(st["pos"])
        left, nxt = (1, 0) if self._fresh else (_N + 1 - pos, pos)
        head = struct.pack("<QiiQ", self._seed, left, 1, nxt)
        words = numpy.asarray(st["key"], dtype="<u8").tobytes()
        d, f = self.next_double_normal, self.next_float_normal
        tail = _TAIL.pack(0.0, d or 0.0, 0.0, d is not None, f or 0.0, f is not None)
        return Tensor._wrap(numpy.frombuffer(head + words + tail, dtype=numpy.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from get_state() (ours or torch's: the bytes are the same)."""
        raw = bytes(numpy.asarray(getattr(new_state, "array", new_state), dtype=numpy.uint8))
        if len(raw) != 24 + 8 * _N + _TAIL.size:
            raise RuntimeError(f"Expected either a THGeneratorState of size {24 + 8 * _N + _TAIL.size} but found "
                               f"the input RNG state size to be {len(raw)}")
        seed, left, _, nxt = struct.unpack_from("<QiiQ", raw)
        key = numpy.frombuffer(raw, dtype="<u8", count=_N, offset=24).astype(numpy.uint32)
        self._seed = seed
        self._mt.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": _N if left == 1 else nxt}}
        self._fresh = left == 1 and nxt == 0
        _, d, _, d_ok, f, f_ok = _TAIL.unpack_from(raw, 24 + 8 * _N)
        self.next_double_normal = d if d_ok else None
        self.next_float_normal = f if f_ok else None
        return self

    def clone_state(self):
        """A new Generator in this one's state (torch's Generator.clone_state)."""
        return Generator().set_state(self.get_state())

    def __repr__(self):
        return f"<minigrad.Generator device={self.device} initial_seed={self._seed}>"


default_generator = Generator()


def get_rng_state():
    """The global CPU generator's state (torch.get_rng_state: a uint8 Tensor of torch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the global CPU generator from get_rng_state()'s bytes (torch's 5056-byte layout)."""
    default_generator.set_state(new_state)


@contextmanager
def fork_rng(devices=None, enabled=True):
    """Run a block and then put the global CPU generator back where it was (torch.random.fork_rng)."""
    if not enabled:
        yield
        return
    saved = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(saved)
