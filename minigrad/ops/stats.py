"""Statistics composed of primitive ops (their gradient is the composition's): var, std."""
import builtins as _b

from .arith import div, mul, sub
from .reduce import _reduced_size, mean, sum, torch_aliases
from .unary import sqrt


@torch_aliases
def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance from primitives (mean, sub, mul, sum), so its gradient is the composition's."""
    c = 1 if correction is None and unbiased is None else (correction if correction is not None else int(unbiased))
    d = sub(x, mean(x, dim, keepdim=True))
    n = x.array.size // _b.max(1, _reduced_size(x, dim))  # elements per reduced group
    return div(sum(mul(d, d), dim, keepdim), _b.max(n - c, 0))


@torch_aliases
def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """sqrt(var(x)) over all elements or dims; correction 1 (Bessel) by default, as torch; unbiased=False or
    correction=0 for the population std."""
    return sqrt(var(x, dim, unbiased, keepdim, correction))
