"""torch.poisson: one Poisson draw per rate, torch's CPU sampler on torch's stream (aten's sample_poisson: Hoermann's
transformed rejection for rate >= 10, products of uniforms below; each uniform a double from random64). Its graph
node passes a zero gradient, as torch's PoissonBackward0."""
import math

import numpy

from .. import random
from ..autograd import Function
from ..backend import move, to_numpy
from ..tensor import Tensor


def _uniform(g):
    return float(random.uniform_real(g, 1, numpy.float64)[0])


def _sample(lam, g):
    """One draw, aten/src/ATen/native/Distributions.h sample_poisson, step for step."""
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            U = _uniform(g) - 0.5
            V = _uniform(g)
            us = 0.5 - abs(U)
            k = math.floor((2 * a / us + b) * U + lam + 0.43)
            if us >= 0.07 and V <= vr:
                return k
            if k < 0 or (us < 0.013 and V > us):
                continue
            log_accept = -lam + k * loglam - math.lgamma(k + 1.0)
            if math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b) <= log_accept:
                return k
    if lam == 0:
        return 0
    enlam, x, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= _uniform(g)
        if prod > enlam:
            x += 1
        else:
            return x


class Poisson(Function):
    """y = one Poisson(rate) draw per element of x, in x's dtype (RuntimeError for a negative rate); gradient 0."""
    torch_name = "PoissonBackward0"

    def __init__(self, generator):
        self.generator = generator

    def forward(self, rates):
        if rates.size and not bool((rates >= 0).all()):
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
        g = random._cpu("numpy" if self.xp is numpy else "cupy", self.generator)
        if g is None:  # CuPy: its own generator
            return random.generator("cupy").poisson(rates).astype(rates.dtype)
        host = to_numpy(rates).reshape(-1)
        out = numpy.array([_sample(float(lam), g) for lam in host], dtype=rates.dtype).reshape(rates.shape)
        return move(out, "numpy" if self.xp is numpy else "cupy")

    def backward(self, gy):
        # the draw does not move with the rate: gradient 0 (torch)
        return self.xp.zeros_like(gy)


def poisson(input, generator=None):
    """Poisson(rate) counts, one per element of input (a float tensor of rates), in input's dtype."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise RuntimeError("poisson: expected a floating point tensor of rates")
    return Poisson(generator)(input)
