"""The CPU loops (Numba): array -> array, in place, knowing no op, module or optimizer.

Fused loops for NumPy arrays, compiled by Numba (minigrad/kernels/__init__.py compiles and calls them): optimizer
updates in one pass over memory instead of ~10, and ReLU's forward (output and mask) and backward in one pass each
instead of three and two. The float32 Adam loop for subnormal moments is in subnormal.py.
"""
import numpy


# Fused loops for NumPy arrays, compiled by Numba: optimizer updates in one pass over memory instead of ~10,
# and ReLU's forward (output and mask) and backward in one pass each instead of three and two.
#
# Each kernel is the per-element form of the NumPy reference in minigrad/optim, written op for op in the same
# order and the same precision, so the results are bit-identical (tests/test_kernels.py checks it):
#   * every constant arrives already cast to the arrays' dtype (a float64 literal would promote float32 math);
#   * error_model="numpy": x / 0 gives inf/nan as NumPy does, and lets LLVM vectorize the loop;
#   * no fastmath: LLVM may not reassociate or contract a * b + c into one FMA, which would round differently.
# Arrays are 1-D views of the same length. The loops are serial on purpose: NumPy's OpenBLAS keeps its own
# threads busy-waiting between matrix products, and a second thread pool (Numba's parallel=True) fighting them made
# a training epoch 3x slower on 2 cores (measured). Serial, the update is still ~4x faster than the NumPy formulas.
def adam_loop(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step):
    """Adam, in place on 1-D views: m = lerp(m, g, lerp_w); v = v * b2 + c2 * g * g;
    w += m / (sqrt(v) / bc2 + eps) * neg_step."""
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
        w[i] = w[i] + (mi / (numpy.sqrt(vi) / bc2 + eps)) * neg_step


# float32 Adam is bound by the divider (sqrt(v), / bc2 and m / denom: three divider operations per element, a
# fixed cost per lane that wider vectors do not lower). sqrt(v) / bc2 is the one with a constant divisor, so it is
# computed as float32(float64(sqrt(v)) * inv), inv = float64(1 / bc2): the same bits, on the multiplier. Why: s =
# sqrt(v) >= 2**-75 (v >= 2**-149) is 0, inf, NaN or normal, and bc2 is in (0, 1], so s / bc2 is a normal float32
# (or 0, inf, NaN, given exactly by the product too). The exact quotient of two 24-bit numbers is never a float32
# midpoint, and is at least 2**-49 (relative) away from one (s - bc2 * mid is a nonzero integer multiple of the
# unit of a 49-bit product); the float64 path errs by under 2**-52 (relative): it rounds to the same float32.
# tests/test_kernels.py compares every bit with the NumPy formula, over exponents from subnormal to near overflow.
def adam_f32_plain_loop(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step):
    """adam_loop for float32, with sqrt(v) / bc2 as a float64 product (above): the same bits, faster."""
    inv = 1.0 / numpy.float64(bc2)
    for i in range(w.size):
        gi = g[i]
        mi = m[i]
        if lerp_big:
            mi = gi - (gi - mi) * lerp_w
        else:
            mi = mi + (gi - mi) * lerp_w
        m[i] = mi
        vi = v[i] * b2 + (gi * c2) * gi
        v[i] = vi
        w[i] = w[i] + (mi / (numpy.float32(numpy.float64(numpy.sqrt(vi)) * inv) + eps)) * neg_step


def sgd_loop(w, g, lr):
    """w -= g * lr, in place on 1-D views."""
    for i in range(w.size):
        w[i] = w[i] - g[i] * lr


def sgd_momentum_loop(w, g, b, momentum, damp, use_damp, nesterov, lr):
    """SGD with momentum, in place on 1-D views: b = momentum * b + (damp * g if use_damp else g);
    w -= (g + momentum * b if nesterov else b) * lr."""
    for i in range(w.size):
        gi = g[i]
        bi = b[i] * momentum + (gi * damp if use_damp else gi)
        b[i] = bi
        d = gi + bi * momentum if nesterov else bi
        w[i] = w[i] - d * lr


def rmsprop_loop(w, g, v, gbar, buf, alpha, c, lerp_w, lerp_big, neg_one, eps, centered, use_momentum, momentum, lr):
    """RMSprop, in place on 1-D views: v = alpha * v + c * g * g; centered: gbar = lerp(gbar, g, lerp_w) and
    the denominator is sqrt(v - gbar**2) + eps; with momentum the step goes through buf."""
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
            avg = numpy.sqrt((gb * neg_one) * gb + vi) + eps
        else:
            avg = numpy.sqrt(vi) + eps
        if use_momentum:
            bi = buf[i] * momentum + gi / avg
            buf[i] = bi
            w[i] = w[i] - bi * lr
        else:
            w[i] = w[i] + (gi * (-lr)) / avg


def adagrad_loop(w, g, s, one, eps, neg_clr):
    """Adagrad, in place on 1-D views: s += g * g; w += g * neg_clr / (sqrt(s) + eps)."""
    for i in range(w.size):
        gi = g[i]
        si = s[i] + (gi * one) * gi
        s[i] = si
        w[i] = w[i] + (gi * neg_clr) / (numpy.sqrt(si) + eps)


def adadelta_loop(w, g, v, u, rho, c, eps, lr):
    """Adadelta, in place on 1-D views: v = rho * v + c * g * g; delta = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho * u + c * delta**2; w -= delta * lr."""
    for i in range(w.size):
        gi = g[i]
        vi = v[i] * rho + (gi * c) * gi
        v[i] = vi
        delta = numpy.sqrt(u[i] + eps) / numpy.sqrt(vi + eps) * gi
        u[i] = u[i] * rho + (delta * c) * delta
        w[i] = w[i] - delta * lr


def relu_loop(x, y, keep):
    """y = relu(x) and keep = (x > 0 or NaN) in one pass, written into y and keep (1-D, same length)."""
    for i in range(x.size):
        xi = x[i]
        k = xi > 0 or xi != xi  # NaN passes, as in the NumPy form: maximum(x, 0) keeps it and ~(y <= 0) is True
        keep[i] = k
        y[i] = xi if k else 0  # +0.0 for -0.0 too, as numpy.maximum(-0.0, 0) gives


def relu_backward_loop(gy, keep, gx, one, zero):
    """gx = gy * keep + 0 (never -0.0) in one pass, written into gx (1-D, same length)."""
    for i in range(gy.size):
        gx[i] = gy[i] * (one if keep[i] else zero) + zero  # gy * mask, then + 0.0 (no -0.0), as the NumPy form
