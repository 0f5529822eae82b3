"""Fused loops for NumPy arrays, compiled by Numba: optimizer updates in one pass over memory instead of ~10,
and ReLU's forward (output and mask) and backward in one pass each instead of three and two.

Each kernel is the per-element form of the NumPy reference in minigrad/optim, written op for op in the same
order and the same precision, so the results are bit-identical (tests/test_kernels.py checks it):
  * every constant arrives already cast to the arrays' dtype (a float64 literal would promote float32 math);
  * error_model="numpy": x / 0 gives inf/nan as NumPy does, and lets LLVM vectorize the loop;
  * no fastmath: LLVM may not reassociate or contract a * b + c into one FMA, which would round differently.
Arrays are 1-D views of the same length. The loops are serial on purpose: NumPy's OpenBLAS keeps its own
threads busy-waiting between matrix products, and a second thread pool (Numba's parallel=True) fighting them made
a training epoch 3x slower on 2 cores (measured). Serial, the update is still ~4x faster than the NumPy formulas.
"""
import platform

import numba
import numpy as np  # these kernels are CPU-only by construction: they exist for NumPy arrays
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic, register_jitable


@register_jitable  # also callable from adam_f32's compiled code
def adam(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step):
    for i in range(w.size):
        gi = g[i]
        mi = m[i]
        if lerp_big:  # torch's lerp for weights >= 0.5: end - (end - start) * (1 - weight)
            mi = gi - (gi - mi) * lerp_w
        else:
            mi = mi + (gi - mi) * lerp_w
        m[i] = mi
        vi = v[i] * b2 + (gi * c2) * gi
        v[i] = vi
        w[i] = w[i] + (mi / (np.sqrt(vi) / bc2 + eps)) * neg_step


# ---- Adam in float32 when its first moment holds subnormals ----------------------------------------------------
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
@intrinsic
def _bits(typingctx, x):
    """float32 -> its IEEE bits as int32."""
    if x != types.float32:
        return None
    return types.int32(types.float32), lambda context, builder, sig, args: builder.bitcast(args[0], ir.IntType(32))


@intrinsic
def _from_bits(typingctx, x):
    """int32 bits -> the float32 they encode."""
    if x != types.int32:
        return None
    return types.float32(types.int32), lambda context, builder, sig, args: builder.bitcast(args[0], ir.FloatType())


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c with one rounding (float32)."""
    if not (a == b == c == types.float32):
        return None
    return types.float32(a, b, c), lambda context, builder, sig, args: builder.fma(*args)


MAGNITUDE, SIGN, MIN_NORMAL = np.int32(0x7FFFFFFF), np.int32(-0x80000000), np.int32(0x00800000)
SAMPLES, MIN_SHARE = 256, 64  # the exact loop pays from ~1.5% quiet lanes on (measured): >= 1/64 of a sample
# x86 cores stall on subnormal operands (measured here, AMD Zen 4). Elsewhere (ARM) it is not measured, and
# the exact loop only pays where they stall, so the plain loop runs there.
SUBNORMALS_SLOW = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def adam_f32(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step):
    zero = lerp_w - lerp_w  # float32 0 from a runtime value (lerp_w is finite), so nothing below is folded
    one, half = zero + np.float32(1), zero + np.float32(0.5)
    # IEEE subnormals in effect here? (no denormals-are-zero on input, no flush-to-zero on output)
    ieee = ((_bits(_from_bits(np.int32(3)) + zero) == 3)
            & (_bits((_from_bits(MIN_NORMAL) + zero) * half) == MIN_NORMAL // 2))
    n = w.size
    samples = min(n, SAMPLES) if SUBNORMALS_SLOW else 0
    stride = n // samples if samples else 1
    quiet_seen = 0
    for j in range(samples):
        i = j * stride
        mag = _bits(m[i]) & MAGNITUDE
        quiet_seen += (mag != 0) & (mag < MIN_NORMAL) & (_bits(g[i]) == 0)
    if not (ieee and np.isfinite(neg_step) and quiet_seen * MIN_SHARE >= samples > 0):
        adam(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step)
        return False
    # w_lo: |w| >= w_lo makes |update| < |w| * 2**-25 <= half an ulp of w, also just above a power of two
    bound = 2.0 ** -96 * abs(np.float64(neg_step)) * (1 + 2.0 ** -22) * 2.0 ** 25
    w_lo = np.float32(bound)
    if np.float64(w_lo) < bound:
        w_lo = np.nextafter(w_lo, np.float32(np.inf))
    w_lo = max(w_lo, _from_bits(MIN_NORMAL))  # > 0: w = -0 must see the update (-0 + +0 is +0)
    d_lo = zero + np.float32(2.0 ** -30)
    for i in range(n):
        gi = g[i]
        m_bits = _bits(m[i])
        mag = m_bits & MAGNITUDE
        quiet = (mag != 0) & (mag < MIN_NORMAL) & (_bits(gi) == 0)  # subnormal m, gradient exactly +0
        # the float path sees 0 for those lanes (so never a subnormal); the integer path computes them
        mi = zero if quiet else m[i]
        k = np.float32(mag)
        p = k * lerp_w
        e = _fma(k, lerp_w, -p)
        r = np.rint(p)
        tie = p - r  # +-0.5 when p is a tie; then the exact k * lerp_w = p + e decides the side
        r = r + (one if (tie == half) & (e > zero) else zero) - (one if (tie == -half) & (e < zero) else zero)
        if lerp_big:
            mi = gi - (gi - mi) * lerp_w
            r_bits = np.int32(r) | (m_bits & SIGN if r != zero else np.int32(0))
        else:
            mi = mi + (gi - mi) * lerp_w
            r_bits = np.int32(k - r) | (m_bits & SIGN)
        mi = _from_bits(np.int32(r_bits)) if quiet else mi
        m[i] = mi
        vi = v[i] * b2 + (gi * c2) * gi
        v[i] = vi
        d = np.sqrt(vi) / bc2 + eps
        wi = w[i]
        same = ((_bits(mi) & MAGNITUDE) < MIN_NORMAL) & (d >= d_lo) & (abs(wi) >= w_lo)  # w + update == w
        updated = wi + ((zero if same else mi) / d) * neg_step  # 0 / d for those: no subnormal division
        w[i] = wi if same else updated
    return True  # which loop ran, for tests and benchmarks/subnormal.py


def sgd(w, g, lr):
    for i in range(w.size):
        w[i] = w[i] - g[i] * lr


def sgd_momentum(w, g, b, momentum, damp, use_damp, nesterov, lr):
    for i in range(w.size):
        gi = g[i]
        bi = b[i] * momentum + (gi * damp if use_damp else gi)
        b[i] = bi
        d = gi + bi * momentum if nesterov else bi
        w[i] = w[i] - d * lr


def rmsprop(w, g, v, gbar, buf, alpha, c, lerp_w, lerp_big, neg_one, eps, centered, use_momentum, momentum, lr):
    for i in range(w.size):
        gi = g[i]
        vi = v[i] * alpha + (gi * c) * gi
        v[i] = vi
        if centered:
            gb = gbar[i]
            if lerp_big:
                gb = gi - (gi - gb) * lerp_w
            else:
                gb = gb + (gi - gb) * lerp_w
            gbar[i] = gb
            avg = np.sqrt((gb * neg_one) * gb + vi) + eps
        else:
            avg = np.sqrt(vi) + eps
        if use_momentum:
            bi = buf[i] * momentum + gi / avg
            buf[i] = bi
            w[i] = w[i] - bi * lr
        else:
            w[i] = w[i] + (gi * (-lr)) / avg


def adagrad(w, g, s, one, eps, neg_clr):
    for i in range(w.size):
        gi = g[i]
        si = s[i] + (gi * one) * gi
        s[i] = si
        w[i] = w[i] + (gi * neg_clr) / (np.sqrt(si) + eps)


def adadelta(w, g, v, u, rho, c, eps, lr):
    for i in range(w.size):
        gi = g[i]
        vi = v[i] * rho + (gi * c) * gi
        v[i] = vi
        delta = np.sqrt(u[i] + eps) / np.sqrt(vi + eps) * gi
        u[i] = u[i] * rho + (delta * c) * delta
        w[i] = w[i] - delta * lr


def relu(x, y, keep):
    for i in range(x.size):
        xi = x[i]
        k = xi > 0 or xi != xi  # NaN passes, as in the NumPy form: maximum(x, 0) keeps it and ~(y <= 0) is True
        keep[i] = k
        y[i] = xi if k else 0  # +0.0 for -0.0 too, as numpy.maximum(-0.0, 0) gives


def relu_backward(gy, keep, gx, one, zero):
    for i in range(gy.size):
        gx[i] = gy[i] * (one if keep[i] else zero) + zero  # gy * mask, then + 0.0 (no -0.0), as the NumPy form


# each kernel's arguments: a = array, m = bool array, f = scalar in the arrays' dtype, b = bool (for kernels.load)
ARGS = {"adam": "aaaafbfffff", "adam_f32": "aaaafbfffff", "sgd": "aaf", "sgd_momentum": "aaaffbbf",
        "rmsprop": "aaaaafffbffbbff", "adagrad": "aaafff", "adadelta": "aaaaffff", "relu": "aam",
        "relu_backward": "amaff"}
KERNELS = tuple(ARGS)
FLOAT32 = {"adam": "adam_f32"}  # float32-only twins, named name + "_f32": kernels.run picks them for float32


def _build():
    """{name: compiled kernel}; each compiles on its first call, and the machine code is cached on disk."""
    try:
        return {name: numba.njit(cache=True, error_model="numpy", nogil=True)(globals()[name]) for name in KERNELS}
    except RuntimeError:  # no writable cache directory (read-only install, no home): compile in memory each run
        return {name: numba.njit(error_model="numpy", nogil=True)(globals()[name]) for name in KERNELS}
