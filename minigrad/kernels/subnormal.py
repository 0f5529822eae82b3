"""Adam in float32 when its first moment holds subnormals: the same bits as the plain loop, without float math on
subnormal operands (x86 cores stall on them). Compiled by Numba like cpu.py's loops; prepare() makes the intrinsics.
"""
import platform

import numpy

from .cpu import adam_f32_plain_loop

# Where a gradient entry stays exactly 0 (a pixel that is 0 in every image, a dead ReLU unit), m <- 0.9 m decays
# into float32's subnormal range (|m| < 2**-126) and stays there: rounding stops the decay at a few units of
# 2**-149. x86 CPUs compute with subnormal operands much more slowly, so these lanes dominate the update
# after a few epochs (benchmarks/subnormal.py measures it). adam_f32 gets the same bits with no float math on them:
#   * m: with g = +0 and m = s * k * 2**-149 (k < 2**23 an integer), lerp's (g - m) * w is the exact product
#     s * k * w * 2**-149 rounded to the subnormal grid, i.e. to the integer r = round-half-even(k * w), and the
#     sum is exact: m_new = s * (k - r) * 2**-149 (other branch: s * r * 2**-149, +0 when r = 0). r is found in
#     float32: p = k * w rounded, e = fma(k, w, -p) its exact error, and p is corrected when it sits on a tie.
#   * w: w + (m / d) * step with |m| < 2**-126 and d >= 2**-30 adds u, |u| <= 2**-96 * |step| (+ rounding): under
#     half a unit in the last place of w when |w| >= w_lo (below), so w + u == w and w keeps its value.
# Each is proved lane by lane, and tests/test_kernels.py compares every bit with the NumPy formulas. The path
# assumes IEEE gradual underflow (no flush-to-zero mode, which e.g. torch.set_flush_denormal(True) sets): the
# kernel checks that first, and otherwise runs the plain loop, as it does when few lanes are subnormal (the
# exact loop costs more per lane than it saves there).
def _bits_typer(typingctx, x):
    """float32 -> its IEEE bits as int32."""
    from llvmlite import ir
    from numba.core import types

    if x != types.float32:
        return None
    return types.int32(types.float32), lambda context, builder, sig, args: builder.bitcast(args[0], ir.IntType(32))


def _from_bits_typer(typingctx, x):
    """int32 bits -> the float32 they encode."""
    from llvmlite import ir
    from numba.core import types

    if x != types.int32:
        return None
    return types.float32(types.int32), lambda context, builder, sig, args: builder.bitcast(args[0], ir.FloatType())


def _fma_typer(typingctx, a, b, c):
    """a * b + c with one rounding (float32)."""
    from numba.core import types

    if not (a == b == c == types.float32):
        return None
    return types.float32(a, b, c), lambda context, builder, sig, args: builder.fma(*args)


MAGNITUDE, SIGN, MIN_NORMAL = numpy.int32(0x7FFFFFFF), numpy.int32(-0x80000000), numpy.int32(0x00800000)
SAMPLES, MIN_SHARE = 256, 64  # the exact loop pays from ~1.5% quiet lanes on (measured): >= 1/64 of a sample
# x86 cores stall on subnormal operands (measured here, AMD Zen 4). Elsewhere (ARM) it is not measured, and
# the exact loop only pays where they stall, so the plain loop runs there.
SUBNORMALS_SLOW = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def adam_f32_loop(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step):
    """adam_loop's bits for float32, with no float math on quiet lanes (subnormal m, g == +0); runs the plain
    float32 loop (cpu.adam_f32_plain_loop) when few lanes are quiet or subnormals are flushed. Returns True when the
    exact loop ran."""
    zero = lerp_w - lerp_w  # float32 0 from a runtime value (lerp_w is finite), so nothing below is folded
    one, half = zero + numpy.float32(1), zero + numpy.float32(0.5)
    # IEEE subnormals in effect here? (no denormals-are-zero on input, no flush-to-zero on output)
    ieee = ((_bits(_from_bits(numpy.int32(3)) + zero) == 3)
            & (_bits((_from_bits(MIN_NORMAL) + zero) * half) == MIN_NORMAL // 2))
    n = w.size
    samples = min(n, SAMPLES) if SUBNORMALS_SLOW else 0
    stride = n // samples if samples else 1
    quiet_seen = 0
    for j in range(samples):
        i = j * stride
        mag = _bits(m[i]) & MAGNITUDE
        quiet_seen += (mag != 0) & (mag < MIN_NORMAL) & (_bits(g[i]) == 0)
    if not (ieee and numpy.isfinite(neg_step) and quiet_seen * MIN_SHARE >= samples > 0):
        adam_f32_plain_loop(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step)
        return False
    # w_lo: |w| >= w_lo makes |update| < |w| * 2**-25 <= half an ulp of w, also just above a power of two
    bound = 2.0 ** -96 * abs(numpy.float64(neg_step)) * (1 + 2.0 ** -22) * 2.0 ** 25
    w_lo = numpy.float32(bound)
    if numpy.float64(w_lo) < bound:
        w_lo = numpy.nextafter(w_lo, numpy.float32(numpy.inf))
    w_lo = max(w_lo, _from_bits(MIN_NORMAL))  # > 0: w = -0 must see the update (-0 + +0 is +0)
    d_lo = zero + numpy.float32(2.0 ** -30)
    inv = 1.0 / numpy.float64(bc2)  # sqrt(v) / bc2 as a float64 product: the same bits (cpu.adam_f32_plain_loop)
    for i in range(n):
        gi = g[i]
        m_bits = _bits(m[i])
        mag = m_bits & MAGNITUDE
        quiet = (mag != 0) & (mag < MIN_NORMAL) & (_bits(gi) == 0)  # subnormal m, gradient exactly +0
        # the float path sees 0 for those lanes (so never a subnormal); the integer path computes them
        mi = zero if quiet else m[i]
        k = numpy.float32(mag)
        p = k * lerp_w
        e = _fma(k, lerp_w, -p)
        r = numpy.rint(p)
        tie = p - r  # +-0.5 when p is a tie; then the exact k * lerp_w = p + e decides the side
        r = r + (one if (tie == half) & (e > zero) else zero) - (one if (tie == -half) & (e < zero) else zero)
        if lerp_big:
            mi = gi - (gi - mi) * lerp_w
            r_bits = numpy.int32(r) | (m_bits & SIGN if r != zero else numpy.int32(0))
        else:
            mi = mi + (gi - mi) * lerp_w
            r_bits = numpy.int32(k - r) | (m_bits & SIGN)
        mi = _from_bits(numpy.int32(r_bits)) if quiet else mi
        m[i] = mi
        vi = v[i] * b2 + (gi * c2) * gi
        v[i] = vi
        d = numpy.float32(numpy.float64(numpy.sqrt(vi)) * inv) + eps
        wi = w[i]
        same = ((_bits(mi) & MAGNITUDE) < MIN_NORMAL) & (d >= d_lo) & (abs(wi) >= w_lo)  # w + update == w
        updated = wi + ((zero if same else mi) / d) * neg_step  # 0 / d for those: no subnormal division
        w[i] = wi if same else updated
    return True  # which loop ran, for tests and benchmarks/subnormal.py


_bits = _from_bits = _fma = None  # Numba intrinsics, made by prepare() (they need Numba, imported on first use)


def prepare():
    """Make the intrinsics adam_f32_loop calls (imports Numba: only once a kernel is wanted, it takes ~0.5 s)."""
    global _bits, _from_bits, _fma
    from numba.extending import intrinsic, register_jitable

    if _bits is None:
        _bits, _from_bits, _fma = intrinsic(_bits_typer), intrinsic(_from_bits_typer), intrinsic(_fma_typer)
        register_jitable(adam_f32_plain_loop)  # adam_f32's compiled code calls it
