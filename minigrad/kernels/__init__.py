"""Faster twins of the formulas (optimizer updates, ReLU, Linear's one-row backward, GPU losses): the one place that
picks them, the switch that turns them off, and the CPU loops themselves.

The xp formulas in minigrad/optim, minigrad/nn and minigrad/ops are the reference a learner reads. NumPy arrays go
to the Numba loops at the end of this file (one compiled pass over memory instead of ~10 with temporaries for
Adam), CuPy arrays to CUDA kernels (minigrad/kernels/cuda.py, one launch where CuPy's xp code makes ~10 per
parameter). Both give the reference's bits (cuda.py names the one documented exception). An op asks for its twin
by its `kernel` name (autograd.Function calls forward()/backward() here), an optimizer by run(); anything a twin
does not cover (float16, strided or read-only arrays, amsgrad, a CPU loss) takes the xp path. Turn every twin off
to step through the reference code:
    MINIGRAD_FUSED=0 python ...      or      minigrad.kernels.set_enabled(False)
"""
import os
import platform
import warnings
from contextlib import contextmanager

import numpy

from .. import backend

_OFF = ("0", "false", "no", "off")
_state = {"enabled": os.environ.get("MINIGRAD_FUSED", "1").strip().lower() not in _OFF,
          "cpu": None, "error": None, "batch": None,
          "capturing": False}


def set_enabled(flag):
    """Use the fused kernels (True, the default) or always the NumPy reference formulas (False)."""
    _state["enabled"] = bool(flag)


def is_enabled():
    return _state["enabled"]


@contextmanager
def disabled():
    """with minigrad.kernels.disabled(): ... runs the NumPy reference formulas."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


def available():
    """True when the CPU kernels can run (Numba importable)."""
    return bool(_cpu_kernels())


def status():
    """One line for logs and benchmark headers: what runs the fused paths on the CPU and on the GPU."""
    if not _state["enabled"]:
        return "off (xp reference formulas on CPU and GPU; MINIGRAD_FUSED=0 or set_enabled(False))"
    gpu = ("cuda: CuPy RawKernels (multi-tensor optimizer updates, ReLU, softmax-CE, BCE-with-logits; "
           "--fmad=false)" if backend.cupy_available() else "cuda: no GPU visible")
    if not available():
        return f"unavailable ({_state['error']}); NumPy reference formulas on the CPU; {gpu}"
    import numba

    return f"numba {numba.__version__} (fused optimizer updates, one thread); {gpu}"


def load(names=None, dtypes=("float32",)):
    """Compile (or load from the disk cache) kernels ahead of their first use, e.g. in a notebook's first cell,
    so the first optimizer step does not pause for it. Returns the names loaded ([] without Numba)."""
    table = _cpu_kernels() if _state["enabled"] else None
    if not table:
        return []
    names = [n for n in table if n not in FLOAT32.values()] if names is None else list(names)
    for name in names:
        for dt in dtypes:
            kernel = FLOAT32.get(name, name) if numpy.dtype(dt) == numpy.float32 else name  # what run() calls
            args = {"a": lambda: numpy.zeros(1, dt), "m": lambda: numpy.zeros(1, bool), "b": lambda: False,
                    "f": lambda: numpy.dtype(dt).type(1)}
            table[kernel](*[args[k]() for k in ARGS[kernel]])
    return names


def _cpu_kernels():
    if _state["cpu"] is None:
        try:
            _state["cpu"] = _build()
        except ImportError as e:  # Numba not installed: the NumPy formulas run instead
            _state["cpu"], _state["error"] = False, f"{type(e).__name__}: {e}"
        except Exception as e:  # a broken Numba must not stop training: say so once, then use NumPy
            _state["cpu"], _state["error"] = False, f"{type(e).__name__}: {e}"
            warnings.warn(f"minigrad: fused optimizer kernels disabled ({_state['error']}); "
                          "using the NumPy formulas", RuntimeWarning, stacklevel=2)
    return _state["cpu"]


def _flat(arrays):
    """1-D views of arrays sharing one NumPy float dtype, shape and contiguous layout; None if not so."""
    first = arrays[0]
    if type(first) is not numpy.ndarray or first.dtype not in (numpy.float32, numpy.float64):
        return None
    if not (first.flags.c_contiguous or first.flags.f_contiguous):
        return None
    for a in arrays:
        if (type(a) is not numpy.ndarray or a.dtype != first.dtype or a.shape != first.shape
                or a.strides != first.strides or not a.flags.writeable):
            return None
    return [a.ravel(order="K") for a in arrays]


def _plain(a):
    """A row-major NumPy float32/float64 array: what the elementwise kernels take as it is."""
    return type(a) is numpy.ndarray and a.dtype in (numpy.float32, numpy.float64) and a.flags.c_contiguous


def _gpu(*arrays):
    """The CuPy module when every array is a CuPy array (read from backend at call time: tests swap in a
    double), else None."""
    cp = backend._cupy
    if cp is None or not all(isinstance(a, cp.ndarray) for a in arrays):
        return None
    return cp


def _gpu_plain(cp, a, dtypes=(numpy.float32, numpy.float64)):
    return type(a) is cp.ndarray and a.dtype in dtypes and a.flags.c_contiguous


def _gpu_flat(cp, arrays):
    """True when CuPy arrays share a float dtype, shape, strides and one contiguous layout: element i of one is
    element i of the others in memory, so the kernels can walk them as 1-D."""
    first = arrays[0]
    if first.dtype not in (numpy.float32, numpy.float64) or not (first.flags.c_contiguous or first.flags.f_contiguous):
        return False
    return all(type(a) is cp.ndarray and a.dtype == first.dtype and a.shape == first.shape
               and a.strides == first.strides for a in arrays)


def forward(op, xs):
    """op.forward(*xs) by op's faster twin, which also sets what op.backward reads; None where no twin fits or
    kernels are off (the caller then runs op.forward: the reference formulas)."""
    twin = _FORWARD.get(op.kernel) if _state["enabled"] else None
    return None if twin is None else twin(op, *xs)


def backward(op, gy):
    """op.backward(gy) by op's faster twin; None where no twin fits or kernels are off."""
    twin = _BACKWARD.get(op.kernel) if _state["enabled"] else None
    return None if twin is None else twin(op, gy)


def _relu_forward(op, x):
    out = relu(x)
    if out is None:
        return None
    y, op.mask = out
    return y


def _relu_backward(op, gy):
    return relu_backward(gy, op.mask)


def _linear_backward(op, gy):
    """LinearFunction.backward for a batch of one row: dW = gy^T x as an outer product (same bits as the GEMM)."""
    out_f, in_f = op.W_shape
    if gy.size != out_f or out_f * in_f < 4096:
        return None
    gy2, x2, W = op.rows(gy)
    need = op.needs_input_grad
    gx = (gy2 @ W).reshape(op.x_shape) if need[0] else None
    gW = weight_grad(gy2, x2) if need[1] else None
    gb = gy2.sum(axis=0) if len(need) > 2 and need[2] else None
    return (gx, gW, gb)[:len(need)]


def weight_grad(gy2, x2):
    """gy2^T @ x2, (out, in), for gy2: (N, out) and x2: (N, in)."""
    if gy2.shape[0] != 1 or gy2.shape[1] * x2.shape[1] < 4096:
        return gy2.T @ x2
    # one row: an outer product, which BLAS's GEMM computes ~4x slower here (under ~4k entries, faster)
    gW = gy2.T * x2
    gW += 0  # -0 -> +0, as the GEMM's sum (started at 0) gives: the same bits either way
    return gW


def relu(x):
    """(maximum(x, 0), keep-mask) in one pass, or None when no kernel can run (the caller uses the xp code)."""
    if not _state["enabled"]:
        return None
    cp = _gpu(x)
    if cp is not None:
        return _cuda().relu(cp, x) if _gpu_plain(cp, x) else None
    if not (_plain(x) and _cpu_kernels()):
        return None
    y, keep = numpy.empty_like(x), numpy.empty(x.shape, dtype=bool)
    _state["cpu"]["relu"](x.reshape(-1), y.reshape(-1), keep.reshape(-1))
    return y, keep


def relu_backward(gy, keep):
    """gy * keep + 0.0 in one pass, or None when no kernel can run."""
    if not _state["enabled"]:
        return None
    cp = _gpu(gy, keep)
    if cp is not None:
        ok = _gpu_plain(cp, gy) and _gpu_plain(cp, keep, (numpy.bool_,)) and keep.shape == gy.shape
        return _cuda().relu_backward(cp, gy, keep) if ok else None
    if not (_plain(gy) and keep.shape == gy.shape and keep.flags.c_contiguous and _cpu_kernels()):
        return None
    gx, cast = numpy.empty_like(gy), gy.dtype.type
    _state["cpu"]["relu_backward"](gy.reshape(-1), keep.reshape(-1), gx.reshape(-1), cast(1), cast(0))
    return gx


def bias_relu(xw, b):
    """(relu(xw + b), keep) in one pass for CuPy xw (N, C) and b (C,); None otherwise (no CPU twin: NumPy's
    in-place add is already one pass)."""
    cp = _gpu(xw, b) if _state["enabled"] else None
    if cp is None or not (_gpu_plain(cp, xw) and _gpu_plain(cp, b) and b.dtype == xw.dtype and xw.ndim == 2
                          and b.shape == xw.shape[1:] and b.size > 0):
        return None
    return _cuda().bias_relu(cp, xw, b)


def _class_targets(cp, z, t):
    return (_gpu_plain(cp, z) and z.ndim == 2 and z.shape[0] > 0 and z.shape[1] > 0
            and _gpu_plain(cp, t, (numpy.int64,)) and t.shape == z.shape[:1])


def softmax_cross_entropy(z, t, ignore_index=-100):
    """CuPy z (N, C), t (N,) int64 -> (loss per row, softmax p, valid per row as z's dtype, bad: 0-d int32,
    1 when a target is outside [0, C) and not ignore_index); None when no kernel can run."""
    cp = _gpu(z, t) if _state["enabled"] else None
    if cp is None or not _class_targets(cp, z, t):
        return None
    return _cuda().softmax_cross_entropy(cp, z, t, int(ignore_index))


def softmax_cross_entropy_backward(p, t, g, ignore_index=-100):
    """(p - onehot(t)) * g, 0 on ignored rows; g: 0-d/size-1 or (N,) in p's dtype. None when no kernel can run."""
    cp = _gpu(p, t, g) if _state["enabled"] else None
    if cp is None or not (_class_targets(cp, p, t) and _gpu_plain(cp, g) and g.dtype == p.dtype
                          and g.size in (1, p.shape[0])):
        return None
    return _cuda().softmax_cross_entropy_backward(cp, p, t, g, int(ignore_index))


def bce_with_logits(z, y):
    """Per-element (1 - y) z - log_sigmoid(z) for CuPy z, y of one shape and dtype; None otherwise."""
    cp = _gpu(z, y) if _state["enabled"] else None
    if cp is None or not (_gpu_plain(cp, z) and _gpu_plain(cp, y) and y.dtype == z.dtype and y.shape == z.shape):
        return None
    return _cuda().bce_with_logits(cp, z, y)


def bce_with_logits_backward(z, y, g):
    """(sigmoid(z) - y) * g for CuPy arrays; g: size 1 or z's shape. None otherwise."""
    cp = _gpu(z, y, g) if _state["enabled"] else None
    if cp is None or not (_gpu_plain(cp, z) and _gpu_plain(cp, y) and _gpu_plain(cp, g) and y.shape == z.shape
                          and y.dtype == z.dtype == g.dtype and (g.size == 1 or g.shape == z.shape)):
        return None
    return _cuda().bce_with_logits_backward(cp, z, y, g)


def _softmax_ce_forward(op, z, t):
    """SoftmaxCrossEntropyFunction.forward for CuPy class targets (ignored rows masked), no weight or smoothing."""
    out = None if op.probs or op.weight is not None or op.eps != 0 else softmax_cross_entropy(z, t, op.ignore_index)
    if out is None:
        return None
    from ..nn import loss

    l_i, op.p, w_t, _ = out  # targets out of range: cross_entropy() checked them before this op
    op.fused, op.t, op.C, op.valid, op.w_t = True, t, z.shape[1], None, w_t
    op.torch_name = "NllLossBackward0"  # as the formulas' forward names it
    denom = w_t.sum()
    op.safe_denom = loss._safe(op.xp, denom)
    return loss._reduce(l_i, op.reduction, denom)


def _softmax_ce_backward(op, gy):
    """(p - onehot(t)) * g in one launch, 0 on ignored rows, after the twin's forward."""
    if not op.fused:
        return None
    from ..nn import loss

    gz = softmax_cross_entropy_backward(op.p, op.t, loss._scale(gy, op.reduction, op.safe_denom), op.ignore_index)
    if gz is None:  # the formulas' backward runs: give it the masked layout it reads
        op.valid = op.t != op.ignore_index
        op.t = op.xp.where(op.valid, op.t, 0)
        return None
    return gz, None


def _bce_logits_forward(op, z, y):
    """BCEWithLogitsLossFunction.forward for CuPy arrays without weight / pos_weight."""
    l_i = bce_with_logits(z, y) if op.w is None and op.pw is None else None
    if l_i is None:
        return None
    from ..nn import loss

    op.z, op.y, op.n = z, y, l_i.size
    return loss._reduce(l_i, op.reduction)


def _bce_logits_backward(op, gy):
    """dL/dz = (sigmoid(z) - y) g in one launch; dL/dy = -z g."""
    if op.w is not None or op.pw is not None:
        return None
    from ..nn import loss

    g = loss._scale(gy, op.reduction, op.n)
    gz = bce_with_logits_backward(op.z, op.y, g)
    if gz is None:
        return None
    return gz, (-op.z * g if op.needs_input_grad[1] else None)


# op.kernel -> twin(op, *xs) / twin(op, gy)
_FORWARD = {"relu": _relu_forward, "softmax_cross_entropy": _softmax_ce_forward, "bce_with_logits": _bce_logits_forward}
_BACKWARD = {"relu": _relu_backward, "linear": _linear_backward, "softmax_cross_entropy": _softmax_ce_backward,
             "bce_with_logits": _bce_logits_backward}


def _cuda():
    from . import cuda  # text and NumPy only: imports anywhere; compiling needs a GPU (or NVRTC in the test)

    return cuda


@contextmanager
def batch():
    """Optimizer.step runs inside this: CuPy updates that run() accepts are queued and launched together on
    exit, one launch per kernel, dtype and constants (usually one per step). NumPy updates run at once."""
    if _state["capturing"]:
        raise RuntimeError(
            "optimizer.step() inside minigrad.cuda.graph capture: its scalars (learning rate, Adam's bias correction "
            "for this step count) would be frozen into the graph. Capture forward and backward only, then call "
            "optimizer.step() after each g.replay() (one fused launch).")
    if _state["batch"] is not None:  # nested: the outer one launches
        yield
        return
    pending = _state["batch"] = {}
    try:
        yield
    finally:
        _state["batch"] = None
        _launch(pending)


def _launch(pending):
    for (name, cp_id, _, consts), groups in pending.items():
        _cuda().optimizer_step(groups[0][1], name, [g for g, _ in groups], consts)


def run(name, arrays, *consts):
    """Run kernel `name` in place on `arrays` with scalar `consts`; False (nothing done) if it cannot. Inside
    batch(), a CuPy update may be queued: it has run when batch() exits."""
    if not _state["enabled"]:
        return False
    cp = _gpu(*arrays)
    if cp is not None:
        if not _gpu_flat(cp, arrays):
            return False
        groups = [(tuple(arrays), cp)]
        pending = _state["batch"]
        if pending is None:
            _launch({(name, id(cp), arrays[0].dtype.name, consts): groups})
            return True
        if any(arrays[0] is a[0] for queued in pending.values() for a, _ in queued):
            _launch(dict(pending))  # the same parameter twice in one step: its first update must land first
            pending.clear()
        pending.setdefault((name, id(cp), arrays[0].dtype.name, consts), []).extend(groups)
        return True
    flat = _flat(arrays)
    if flat is None or not _cpu_kernels():
        return False
    cast = flat[0].dtype.type  # constants in the arrays' dtype, as NumPy applies a Python float
    consts = [c if isinstance(c, bool) else cast(c) for c in consts]
    table = _state["cpu"]
    kernel = table.get(name + "_f32", table[name]) if cast is numpy.float32 else table[name]  # cpu.FLOAT32
    kernel(*flat, *consts)
    return True


# ---- the CPU loops (Numba) -----------------------------------------------------------------------------------------
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
        adam_loop(w, g, m, v, lerp_w, lerp_big, b2, c2, bc2, eps, neg_step)
        return False
    # w_lo: |w| >= w_lo makes |update| < |w| * 2**-25 <= half an ulp of w, also just above a power of two
    bound = 2.0 ** -96 * abs(numpy.float64(neg_step)) * (1 + 2.0 ** -22) * 2.0 ** 25
    w_lo = numpy.float32(bound)
    if numpy.float64(w_lo) < bound:
        w_lo = numpy.nextafter(w_lo, numpy.float32(numpy.inf))
    w_lo = max(w_lo, _from_bits(MIN_NORMAL))  # > 0: w = -0 must see the update (-0 + +0 is +0)
    d_lo = zero + numpy.float32(2.0 ** -30)
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
        d = numpy.sqrt(vi) / bc2 + eps
        wi = w[i]
        same = ((_bits(mi) & MAGNITUDE) < MIN_NORMAL) & (d >= d_lo) & (abs(wi) >= w_lo)  # w + update == w
        updated = wi + ((zero if same else mi) / d) * neg_step  # 0 / d for those: no subnormal division
        w[i] = wi if same else updated
    return True  # which loop ran, for tests and benchmarks/subnormal.py


def sgd_loop(w, g, lr):
    for i in range(w.size):
        w[i] = w[i] - g[i] * lr


def sgd_momentum_loop(w, g, b, momentum, damp, use_damp, nesterov, lr):
    for i in range(w.size):
        gi = g[i]
        bi = b[i] * momentum + (gi * damp if use_damp else gi)
        b[i] = bi
        d = gi + bi * momentum if nesterov else bi
        w[i] = w[i] - d * lr


def rmsprop_loop(w, g, v, gbar, buf, alpha, c, lerp_w, lerp_big, neg_one, eps, centered, use_momentum, momentum, lr):
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
    for i in range(w.size):
        gi = g[i]
        si = s[i] + (gi * one) * gi
        s[i] = si
        w[i] = w[i] + (gi * neg_clr) / (numpy.sqrt(si) + eps)


def adadelta_loop(w, g, v, u, rho, c, eps, lr):
    for i in range(w.size):
        gi = g[i]
        vi = v[i] * rho + (gi * c) * gi
        v[i] = vi
        delta = numpy.sqrt(u[i] + eps) / numpy.sqrt(vi + eps) * gi
        u[i] = u[i] * rho + (delta * c) * delta
        w[i] = w[i] - delta * lr


def relu_loop(x, y, keep):
    for i in range(x.size):
        xi = x[i]
        k = xi > 0 or xi != xi  # NaN passes, as in the NumPy form: maximum(x, 0) keeps it and ~(y <= 0) is True
        keep[i] = k
        y[i] = xi if k else 0  # +0.0 for -0.0 too, as numpy.maximum(-0.0, 0) gives


def relu_backward_loop(gy, keep, gx, one, zero):
    for i in range(gy.size):
        gx[i] = gy[i] * (one if keep[i] else zero) + zero  # gy * mask, then + 0.0 (no -0.0), as the NumPy form


# each kernel's arguments: a = array, m = bool array, f = scalar in the arrays' dtype, b = bool (for load())
ARGS = {"adam": "aaaafbfffff", "adam_f32": "aaaafbfffff", "sgd": "aaf", "sgd_momentum": "aaaffbbf",
        "rmsprop": "aaaaafffbffbbff", "adagrad": "aaafff", "adadelta": "aaaaffff", "relu": "aam",
        "relu_backward": "amaff"}
KERNELS = tuple(ARGS)
LOOPS = {name: globals()[name + "_loop"] for name in KERNELS}
FLOAT32 = {"adam": "adam_f32"}  # float32-only twins, named name + "_f32": run() picks them for float32
_bits = _from_bits = _fma = None  # Numba intrinsics, made by _prepare() (they need Numba, imported on first use)
numba = None  # the module, imported by _prepare()


def _prepare():
    """Import Numba (only once a kernel is wanted: it takes ~0.5 s) and make the intrinsics the loops call."""
    global numba, _bits, _from_bits, _fma
    import numba as real
    from numba.extending import intrinsic, register_jitable

    if numba is None:
        numba = real
    if _bits is None:
        _bits, _from_bits, _fma = intrinsic(_bits_typer), intrinsic(_from_bits_typer), intrinsic(_fma_typer)
        register_jitable(adam_loop)  # adam_f32's compiled code calls it


def _build():
    """{name: compiled kernel}; each compiles on its first call, and the machine code is cached on disk."""
    _prepare()
    try:
        return {name: numba.njit(cache=True, error_model="numpy", nogil=True)(LOOPS[name]) for name in KERNELS}
    except RuntimeError:  # no writable cache directory (read-only install, no home): compile in memory each run
        return {name: numba.njit(error_model="numpy", nogil=True)(LOOPS[name]) for name in KERNELS}
