"""Tensor-level random functions (torch.bernoulli, torch.multinomial) and the in-place samplers (uniform_,
normal_, exponential_, random_, bernoulli_): each draws with minigrad/random.py and writes torch's order.

setup_tensor (minigrad/tensor_ops.py) puts the in-place ones on Tensor as methods.
"""
import numpy

from . import dtypes, ops, random
from .autograd import no_grad
from .backend import move, to_numpy
from .tensor import Tensor


def _write(t, draw):
    """Fill t with draw(contiguous) (a flat array on t's backend), in t's memory order as torch's TensorIterator,
    through Tensor._apply_ (version counter, views, autograd's in-place rules)."""
    a = t.array
    if a.flags.c_contiguous:
        values = draw(True).reshape(a.shape)
    else:
        order = sorted(range(a.ndim), key=lambda i: -abs(a.strides[i]))  # slowest-moving axis first
        values = t.xp.empty(a.shape, dtype=a.dtype)
        values.transpose(order)[...] = draw(False).reshape(tuple(a.shape[i] for i in order))
    return t._apply_(lambda x: ops.mutate.copy(x, Tensor._wrap(values)))


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with U(a, b) (torch's uniform_)."""
    return _write(self, lambda c: random.uniform((self.numel(),), float(a), float(b), self.dtype, self.backend,
                                                 generator))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std^2); torch's 16-block path needs a contiguous tensor, others take the scalar path."""
    return _write(self, lambda c: random.normal((self.numel(),), float(mean), float(std), self.dtype, self.backend,
                                                generator, contiguous=c))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill in place with Exp(lambd) samples, density lambd exp(-lambd x); returns the tensor."""
    return _write(self, lambda c: random.exponential((self.numel(),), float(lambd), self.dtype, self.backend,
                                                     generator))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill in place with Cauchy(median, sigma) samples; returns the tensor."""
    return _write(self, lambda c: move(random.cauchy((self.numel(),), float(median), float(sigma), self.dtype,
                                                     generator), self.backend))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill in place with exp(N(mean, std)) samples; returns the tensor."""
    return _write(self, lambda c: move(random.log_normal((self.numel(),), mean, std, self.dtype, generator),
                                       self.backend))


def geometric_(self, p, *, generator=None):
    """Fill in place with the number of Bernoulli(p) trials up to the first success (1, 2, ...); returns the tensor."""
    return _write(self, lambda c: move(random.geometric((self.numel(),), p, self.dtype, generator), self.backend))


def random_(self, from_=0, to=None, *, generator=None):
    """random_(): the dtype's whole range; random_(to) or random_(from, to): [from, to)."""
    n = (self.numel(),)
    if to is None and from_ == 0:
        return _write(self, lambda c: random.random_words(n, self.dtype, self.backend, generator))
    lo, hi = (0, from_) if to is None else (from_, to)
    return _write(self, lambda c: random.integers(lo, hi, n, self.dtype, self.backend, generator))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1: U < p per element, p a number or a tensor broadcast to self's shape."""
    if isinstance(p, Tensor):
        pa = numpy.broadcast_to(to_numpy(p.array), self.shape).reshape(-1)
        return _write(self, lambda c: random.bernoulli_tensor(pa, self.dtype, self.backend, generator))
    return _write(self, lambda c: random.bernoulli_scalar((self.numel(),), float(p), self.dtype, self.backend,
                                                          generator))


def bernoulli(input, p=None, *, generator=None):
    """torch.bernoulli: 0/1 of input's dtype, each 1 with probability input (or p when given)."""
    out = Tensor._wrap(input.xp.empty(input.shape, dtype=input.dtype))
    with no_grad():
        return bernoulli_(out, input if p is None else p, generator=generator)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices (int64) drawn from the rows of input (weights, not necessarily normalised), as torch.multinomial."""
    p = to_numpy(input.array)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {p.ndim} dims")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError(f"cannot sample n_sample ({num_samples}) > prob_dist.size(-1) ({p.shape[-1]}) "
                           "samples without replacement")
    if (p < 0).any() or not numpy.isfinite(p).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    idx = random.multinomial(p, int(num_samples), bool(replacement), generator)
    return Tensor._wrap(move(idx.astype(dtypes.int64), input.backend))


def setup(Tensor):
    """Tensor.uniform_, normal_, exponential_, random_, bernoulli_, bernoulli, multinomial (torch's methods)."""
    Tensor.uniform_, Tensor.normal_, Tensor.exponential_ = uniform_, normal_, exponential_
    Tensor.random_, Tensor.bernoulli_ = random_, bernoulli_
    Tensor.cauchy_, Tensor.log_normal_, Tensor.geometric_ = cauchy_, log_normal_, geometric_
    Tensor.bernoulli, Tensor.multinomial = bernoulli, multinomial
