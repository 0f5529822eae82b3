"""Random numbers: torch's CPU streams bit for bit on NumPy; CuPy's own generator on the GPU.

Each transform below is torch's (aten/src/ATen/core/TransformationHelper.h, DistributionsHelper.h,
native/cpu/DistributionTemplates.h), vectorised over the raw words of minigrad.generator.Generator, which
are torch's mt19937 words. docs/random.md says what is reproduced and which CPU paths (x86-64 Linux wheels)
were followed. On CuPy, draws come from CuPy's generator, seeded by the same manual_seed (not torch's Philox).
"""
import numpy

from . import avx_mathfun, cuda
from .backend import get_xp, move, to_numpy
from .generator import Generator, default_generator, fork_rng, get_rng_state, set_rng_state  # noqa: F401
from .kernels import random_cpu as libm

_generators = {}  # CuPy's generator per non-CPU backend, made on first use from the last manual_seed
_gpu_seed = {"seed": None}
_F32, _F64 = numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)
_TWO_PI = 2.0 * 3.141592653589793  # torch's 2.0f * c10::pi<double>, a double


def manual_seed(seed):
    """Seed the global CPU generator (torch's numbers follow) and every backend's; returns the CPU Generator."""
    default_generator.manual_seed(seed)
    _gpu_seed["seed"] = default_generator.initial_seed()
    _generators.clear()
    return default_generator


def _cuda_manual_seed(seed):
    """torch.cuda.manual_seed(_all): here one seed serves every backend, CuPy's generator too (returns None)."""
    manual_seed(seed)


cuda.manual_seed = cuda.manual_seed_all = _cuda_manual_seed


def seed():
    """Re-seed from the OS, as torch.seed()."""
    s = default_generator.seed()
    manual_seed(s)
    return s


def initial_seed():
    """The seed the global CPU generator was last seeded with (torch.initial_seed)."""
    return default_generator.initial_seed()


def generator(backend="cupy"):
    """The CuPy generator of a GPU backend (cupy.random.Generator), seeded from the last manual_seed."""
    if backend not in _generators:
        _generators[backend] = get_xp(backend).random.default_rng(_gpu_seed["seed"])
    return _generators[backend]


def _cpu(backend, gen):
    """The Generator to draw from on the CPU, or None where CuPy's generator draws."""
    if backend == "numpy" or gen is not None:
        return gen if gen is not None else default_generator
    return None


# ---- transforms of raw words (one per torch formula) ---------------------------------------------------------------
def uniform_real(g, n, dtype):
    """U[0, 1): float: (random() & (2^24 - 1)) * 2^-24; double: (random64() & (2^53 - 1)) * 2^-53."""
    if numpy.dtype(dtype) == _F64:
        return (g.random64(n) & numpy.uint64(2**53 - 1)).astype(_F64) * 2.0**-53
    return (g.random(n) & numpy.uint64(2**24 - 1)).astype(_F32) * numpy.float32(2.0**-24)


def uniform_from_to(g, n, low, high, dtype):
    """uniform_(from, to): x * (to - from) + from in the dtype (one fma, as the AVX512 build contracts it);
    a value that rounds up to `to` becomes `from` (torch's clamp)."""
    d = _F64 if numpy.dtype(dtype) == _F64 else _F32
    lo, hi = d.type(low), d.type(high)
    x = uniform_real(g, n, d)
    y = libm.call("fma", x, numpy.full_like(x, hi - lo), numpy.full_like(x, lo))
    return numpy.where(y == hi, lo, y)


def normal_scalar(g, n, mean, std, dtype):
    """torch's normal_distribution<double> (sizes < 16, or not contiguous): pairs of U = random64 uniforms,
    r = sqrt(-2 log1p(-u2)), theta = 2 pi u1; gives r cos(theta) * std + mean and caches r sin(theta) for the next."""
    out, k = [], 0
    if n and g.next_double_normal is not None:
        out.append(numpy.array([g.next_double_normal]))
        g.next_double_normal, k = None, 1
    pairs = (n - k + 1) // 2
    u = uniform_real(g, 2 * pairs, _F64).reshape(-1, 2)
    r = numpy.sqrt(-2.0 * libm.call("log1p", -u[:, 1]))
    theta = _TWO_PI * u[:, 0]
    z = numpy.stack([r * libm.call("cos", theta), r * libm.call("sin", theta)], axis=1).reshape(-1)
    if (n - k) % 2:
        g.next_double_normal = float(z[-1])
        z = z[:-1]
    z = numpy.concatenate(out + [z])
    return libm.call("fma", z, numpy.full_like(z, std), numpy.full_like(z, mean)).astype(dtype)


def box_muller16(u, mean, std):
    """torch's normal_fill_16 over rows of 16 uniforms u: u1 = 1 - u[:8], u2 = u[8:]; radius = sqrt(-2 log u1),
    theta = 2 pi u2; out = [fma(radius cos theta, std, mean), fma(radius sin theta, std, mean)] in u's dtype."""
    d = u.dtype
    u1, u2 = d.type(1) - u[:, :8], u[:, 8:]
    radius = numpy.sqrt(d.type(-2) * libm.call("log", u1))
    theta = (_TWO_PI * u2.astype(_F64)).astype(d)
    z = numpy.concatenate([radius * libm.call("cos", theta), radius * libm.call("sin", theta)], axis=1)
    return libm.call("fma", z, numpy.full_like(z, std), numpy.full_like(z, mean))


def normal_fill(g, n, mean, std, dtype):
    """torch's normal_fill (sizes >= 16, contiguous): n uniforms, Box-Muller on each block of 16; when 16 does not
    divide n, 16 fresh uniforms redo the last 16 values."""
    d = _F64 if numpy.dtype(dtype) == _F64 else _F32
    mean, std = d.type(mean), d.type(std)
    u = uniform_real(g, n, d)
    out = numpy.empty(n, d)
    fill16 = box_muller16 if d == _F64 else avx_mathfun.box_muller16_avx2  # float32: torch's AVX2 kernel
    full = n // 16 * 16
    out[:full] = fill16(u[:full].reshape(-1, 16), mean, std).reshape(-1)
    if n % 16:
        out[n - 16:] = fill16(uniform_real(g, 16, d).reshape(1, 16), mean, std).reshape(-1)
    return out


def normal(shape, mean, std, dtype, backend="numpy", gen=None, contiguous=True):
    """N(mean, std^2) samples of `dtype` in torch's order (torch.randn, normal_)."""
    g = _cpu(backend, gen)
    if g is None:
        z = generator(backend).standard_normal(shape, dtype=_float(dtype))
        return (z * std + mean).astype(dtype, copy=False)
    n = _numel(shape)
    if n >= 16 and contiguous:
        a = normal_fill(g, n, mean, std, _float(dtype)).astype(dtype, copy=False)
    else:
        a = normal_scalar(g, n, float(mean), float(std), dtype)
    return move(a.reshape(shape), backend)


def uniform(shape, low, high, dtype, backend="numpy", gen=None):
    """U(low, high) samples of `dtype` (torch.rand, uniform_)."""
    g = _cpu(backend, gen)
    if g is None:
        u = generator(backend).random(shape, dtype=_float(dtype))
        return (u * (high - low) + low).astype(dtype, copy=False)
    return move(uniform_from_to(g, _numel(shape), low, high, _float(dtype)).astype(dtype).reshape(shape), backend)


def integers(low, high, shape, dtype="int64", backend="numpy", gen=None):
    """randint / random_(from, to): (word % range) + from, a 64-bit word when range >= 2^28 (torch's threshold)."""
    g = _cpu(backend, gen)
    if g is None:
        return generator(backend).integers(low, high, size=shape).astype(dtype, copy=False)
    span, n = int(high) - int(low), _numel(shape)
    if span <= 0:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    w = g.random64(n) if span >= 2**28 else g.random(n)
    v = (w % numpy.uint64(span)).astype(numpy.int64) + numpy.int64(low)  # wraps as torch's int64 cast does
    return move(v.astype(dtype).reshape(shape), backend)


def random_words(shape, dtype, backend="numpy", gen=None):
    """random_() with no range: random64 % 2^63 (int64), % (2^53 + 1) (double), random % (2^mantissa + 1) or
    % (max + 1) otherwise (torch's uniform_int)."""
    d, n = numpy.dtype(dtype), _numel(shape)
    g = _cpu(backend, gen) or default_generator
    if d == numpy.bool_:
        return move((g.random(n) & numpy.uint64(1)).astype(d).reshape(shape), backend)
    if d.kind == "f":
        digits = {2: 11, 4: 24, 8: 53}[d.itemsize]
        w = g.random64(n) if d == _F64 else g.random(n)
        return move((w % numpy.uint64(2**digits + 1)).astype(d).reshape(shape), backend)
    top = int(numpy.iinfo(d).max) + 1
    w = g.random64(n) if d == numpy.int64 else g.random(n)
    return move((w % numpy.uint64(top)).astype(d).reshape(shape), backend)


def permutation(n, backend="numpy", gen=None):
    """randperm(n): for i < n-1, swap r[i] with r[i + random() % (n - i)] (torch's randperm_cpu, n < 2^32/20)."""
    g = _cpu(backend, gen)
    if g is None:  # cupy.random.Generator has no permutation(): sort random keys on the device
        return generator(backend).random(n).argsort().astype("int64", copy=False)
    if n >= 2**32 // 20:
        raise NotImplementedError("randperm: n >= 2^32/20 takes torch's other (64-bit) path, not reproduced here")
    if n == 0:
        return move(numpy.zeros(0, numpy.int64), backend)
    z = g.random(n - 1) % numpy.arange(n, 1, -1, dtype=numpy.uint64)
    return move(libm.fisher_yates(z.astype(numpy.int64)), backend)


def bernoulli_scalar(shape, p, dtype, backend="numpy", gen=None):
    """bernoulli_(p) for a number p: U < p with U a double uniform (random64) per element."""
    g = _cpu(backend, gen)
    if g is None:
        return (generator(backend).random(shape) < p).astype(dtype, copy=False)
    return move((uniform_real(g, _numel(shape), _F64) < float(p)).astype(dtype).reshape(shape), backend)


def bernoulli_tensor(p, dtype, backend="numpy", gen=None):
    """bernoulli(p) for an array p: U < p, U double (random64) for float64 p, else float (random) in p's dtype."""
    g = _cpu(backend, gen)
    if g is None:
        return (generator(backend).random(p.shape) < p).astype(dtype, copy=False)
    host = to_numpy(p)
    d = _F64 if host.dtype == _F64 else _F32
    u = uniform_real(g, host.size, d).reshape(host.shape)
    return move((u < host.astype(d)).astype(dtype), backend)


def exponential(shape, lambd, dtype, backend="numpy", gen=None):
    """exponential_(lambd): -1 / lambd * log1p(-U), U a double uniform (random64), in double, then the dtype."""
    g = _cpu(backend, gen)
    if g is None:
        return generator(backend).exponential(1.0 / lambd, size=shape).astype(dtype, copy=False)
    u = uniform_real(g, _numel(shape), _F64)
    return move(((-1.0 / lambd) * libm.call("log1p", -u)).astype(dtype).reshape(shape), backend)


def cauchy(shape, median, sigma, dtype, gen=None):
    """cauchy_: median + sigma * tan(pi * (U - 0.5)), U double, glibc's tan."""
    u = uniform_real(gen or default_generator, _numel(shape), _F64)
    return (median + sigma * libm.call("tan", 3.141592653589793 * (u - 0.5))).astype(dtype).reshape(shape)


def log_normal(shape, mean, std, dtype, gen=None):
    """log_normal_: exp of normal_distribution<double>(mean, std) (the scalar path, its cache included)."""
    z = normal_scalar(gen or default_generator, _numel(shape), float(mean), float(std), _F64)
    return libm.call("exp", z).astype(dtype).reshape(shape)


def geometric(shape, p, dtype, gen=None):
    """geometric_: ceil(log(U) / log1p(-p)), U double."""
    u = uniform_real(gen or default_generator, _numel(shape), _F64)
    return numpy.ceil(libm.call("log", u) / libm.call("log1p", numpy.array([-float(p)]))).astype(dtype).reshape(shape)


def multinomial(p, num_samples, replacement, gen=None):
    """torch.multinomial on the host. Without replacement (or one sample): argmax/topk of p / q with
    q ~ Exp(1) (torch's Gumbel trick). With replacement: per row, a double U searched in the cumulative sums."""
    p = numpy.asarray(p)
    g = gen if gen is not None else default_generator
    rows = p.reshape(-1, p.shape[-1])
    if not replacement or num_samples == 1:
        q = exponential(rows.shape, 1.0, rows.dtype, gen=g)
        ratio = rows / q
        return numpy.argsort(-ratio, axis=-1, kind="stable")[:, :num_samples].reshape(p.shape[:-1] + (-1,))
    out = numpy.empty((rows.shape[0], num_samples), numpy.int64)
    for i, row in enumerate(rows):
        cum = numpy.cumsum(row, dtype=row.dtype)  # torch: running sum in the dtype, then / sum
        cum = cum / cum[-1] if cum[-1] > 0 else cum
        cum[-1] = 1
        out[i] = numpy.searchsorted(cum, uniform_real(g, num_samples, _F64), side="left")
    return out.reshape(p.shape[:-1] + (num_samples,))


def bernoulli_keep(shape, p_drop, backend="numpy", dtype="float32", gen=None):
    """Dropout's keep-mask, as torch's noise.bernoulli_(1 - p) (a double uniform per unit)."""
    return bernoulli_scalar(shape, 1.0 - float(p_drop), numpy.bool_, backend, gen)


def _numel(shape):
    return int(numpy.prod(shape, dtype=numpy.int64))


def _float(dtype):
    d = numpy.dtype(dtype)
    return d if d in (_F32, _F64) else _F32
