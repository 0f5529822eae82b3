"""torch's float32 log and sincos for randn (aten/src/ATen/native/cpu/avx_mathfun.h: Cephes polynomials, Julien
Pommier's AVX port), step for step in NumPy float32, so that randn's Box-Muller gives torch's bits.

torch's x86-64 wheels run normal_ through their AVX2 kernel even on AVX512 CPUs, built by GCC with -mfma, which
fuses a multiply that feeds an add into one fma: `fma(a, b, c)` below marks each place GCC chose (where two
products meet one add, the choice was found by comparing with torch over 160k draws: tests/test_random.py).
"""
import numpy

from .kernels import random_cpu

f32 = numpy.float32
_LOG_P = [7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
          -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1]
_Q1, _Q2, _SQRTHF = f32(-2.12194440e-4), f32(0.693359375), f32(0.707106781186547524)
_DP = [f32(-0.78515625), f32(-2.4187564849853515625e-4), f32(-3.77489497744594108e-8)]
_SINCOF = [f32(-1.9515295891E-4), f32(8.3321608736E-3), f32(-1.6666654611E-1)]
_COSCOF = [f32(2.443315711809948E-005), f32(-1.388731625493765E-003), f32(4.166664568298827E-002)]
_FOPI = f32(1.27323954473516)  # 4 / pi


def fma(a, b, c):
    """a * b + c in float32 with one rounding (as GCC's fused multiply-add), broadcast together."""
    a, b, c = numpy.broadcast_arrays(f32(a), f32(b), f32(c))
    return random_cpu.call("fma", a, b, c)


def log256(x):
    """log(x) = e * ln2 + log1p(m - 1) for x = m 2^e, m in [sqrt(1/2), sqrt(2)): a degree-9 polynomial in m - 1."""
    x = numpy.maximum(x, f32(1.17549435e-38))  # cut off denormals (min_norm_pos)
    e = ((x.view(numpy.int32) >> 23) - 0x7F).astype(f32) + f32(1)
    x = ((x.view(numpy.int32) & ~0x7F800000) | f32(0.5).view(numpy.int32)).view(f32)  # mantissa in [0.5, 1)
    small = x < _SQRTHF  # then e -= 1 and x = x + x - 1, else x = x - 1
    x, e = (x - f32(1)) + numpy.where(small, x, f32(0)), e - numpy.where(small, f32(1), f32(0))
    z = x * x
    y = numpy.full_like(x, f32(_LOG_P[0]))
    for p in _LOG_P[1:]:
        y = fma(y, x, p)
    y = fma(y * x, z, e * _Q1)  # GCC fuses (y x) z with the add, e q1 stays a product
    y = fma(-z, f32(0.5), y)
    return fma(e, _Q2, x + y)


def sincos256(x):
    """(sin x, cos x): reduce by pi/4 (octant j, x - j pi/4 in three parts), then the Cephes sin and cos
    polynomials, swapped and signed by the octant."""
    sign_sin = x.view(numpy.uint32) & numpy.uint32(0x80000000)
    x = numpy.abs(x)
    j = ((x * _FOPI).astype(numpy.int32) + 1) & ~1  # truncation toward zero, then round up to even
    y = j.astype(f32)
    swap_sin = ((j & 4) << 29).astype(numpy.uint32)
    poly_sin = (j & 2) == 0  # octants where sin takes the sin polynomial
    for dp in _DP:
        x = fma(y, dp, x)
    sign_cos = ((~(j - 2) & 4) << 29).astype(numpy.uint32)
    sign_sin = sign_sin ^ swap_sin
    z = x * x
    c = fma(fma(numpy.full_like(z, _COSCOF[0]), z, _COSCOF[1]), z, _COSCOF[2])
    c = fma(c * z, z, -(z * f32(0.5))) + f32(1)  # (c z) z fused with the subtraction of z / 2
    s = fma(fma(numpy.full_like(z, _SINCOF[0]), z, _SINCOF[1]), z, _SINCOF[2])
    s = fma(s * z, x, x)
    sin = numpy.where(poly_sin, s, c)
    cos = numpy.where(poly_sin, c, s)
    return ((sin.view(numpy.uint32) ^ sign_sin).view(f32), (cos.view(numpy.uint32) ^ sign_cos).view(f32))


def box_muller16_avx2(u, mean, std):
    """torch's NormalFill16<float> (AVX2): radius = sqrt(-2 log256(1 - u[:8])), theta = 2 pi u[8:];
    out = [fma(radius cos theta, std, mean), fma(radius sin theta, std, mean)]."""
    radius = numpy.sqrt(f32(-2) * log256(f32(1) - u[:, :8]))
    theta = f32(2.0 * 3.141592653589793) * u[:, 8:]
    sin, cos = sincos256(theta)
    return numpy.concatenate([fma(radius * cos, std, mean), fma(radius * sin, std, mean)], axis=1)
