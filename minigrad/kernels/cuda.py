"""Fused CUDA kernels for CuPy arrays: each optimizer's update of a whole parameter group in one launch, ReLU
(and bias + ReLU) with its mask, ReLU's backward, softmax-cross-entropy and sigmoid-BCE-with-logits.

Why: a batch-100 MLP step on the GPU is launch-bound. CuPy's xp formulas cost ~10 launches per parameter for
Adam (60 for the course MLP); here it is one. The kernels are CUDA C++ text (SOURCES, data a test can list and
compile with NVRTC on a machine without a GPU) run as cupy.RawKernel: what CI compiles is exactly what runs.

Same numbers as the xp code: each line below is the per-element form of the reference in minigrad/optim and
minigrad/ops, op for op in the same order as minigrad/kernels, in the arrays' dtype (T), compiled with
--fmad=false so no a * b + c is contracted into one FMA (the xp code rounds each op separately). NVRTC's defaults
keep IEEE division and sqrt (-prec-div=true, -prec-sqrt=true) and subnormals (-ftz=false), as CuPy's own
elementwise kernels do, so the optimizer updates, ReLU, BCE-with-logits and the cross-entropy gradient (from a
given softmax p) are bit for bit the xp code's; exp/log/log1p call the CUDA math functions CuPy's ufuncs call.
Where only the order differs, the softmax row sum s (CuPy's reduction adds in its own tree order, here left to
right; 1 <= s <= C), the results differ by the rounding of that sum: the loss by at most ~C eps absolute (through
log s), p = e / s by ~C eps relative (eps of the dtype; tests/test_kernels_gpu.py checks these bounds on a GPU).

Multi-tensor launch (the torch "fused"/"foreach" idea): the kernel takes up to SLOTS parameters, each as its
own pointers (w, g, m, v) and length, as plain kernel arguments, and blockIdx.y picks the parameter. Chosen
over one flat buffer per dtype because minigrad's parameters, gradients and optimizer state are separate
arrays that users replace (p.array = ..., p.grad = None after zero_grad, load_state_dict): a flat buffer would
need them all re-homed and kept so. Chosen over a pointer table in device memory because the gradients are
new arrays every step, so a table would need a host->device copy per step; kernel arguments travel with the
launch itself (and are recorded by CUDA-graph capture), so there is no copy and no sync.
"""
import numpy

SLOTS = 16  # parameters per launch: 16 x 5 pointers/lengths = 640 bytes of arguments (CUDA allows 4 KiB)
BLOCK = 256
MAX_BLOCKS = 1024  # grid-stride loops beyond this: enough to fill an H100 (132 SMs x 8 blocks)
OPTIONS = ("--fmad=false",)
CTYPES = {"float32": "float", "float64": "double"}

# ---- the optimizer updates: arrays, scalar arguments (in kernels.run's order), per-element body --------------
# Scalars: T = the arrays' dtype (kernels.run casts each Python float to it, as NumPy/CuPy apply a Python float
# to a float32 array), bool = a flag. The bodies index element i of the current parameter's arrays.
OPTIMIZERS = {
    "adam": (("w", "g", "m", "v"),
             ("T lerp_w", "bool lerp_big", "T b2", "T c2", "T bc2", "T eps", "T neg_step"), """
        T gi = g[i];
        T mi = m[i];
        if (lerp_big) mi = gi - (gi - mi) * lerp_w;  /* torch's lerp for weights >= 0.5 */
        else mi = mi + (gi - mi) * lerp_w;
        m[i] = mi;
        T vi = v[i] * b2 + (gi * c2) * gi;
        v[i] = vi;
        w[i] = w[i] + (mi / (sqrt(vi) / bc2 + eps)) * neg_step;"""),
    "sgd": (("w", "g"), ("T lr",), """
        w[i] = w[i] - g[i] * lr;"""),
    "sgd_momentum": (("w", "g", "b"),
                     ("T momentum", "T damp", "bool use_damp", "bool nesterov", "T lr"), """
        T gi = g[i];
        T bi = b[i] * momentum + (use_damp ? gi * damp : gi);
        b[i] = bi;
        T d = nesterov ? gi + bi * momentum : bi;
        w[i] = w[i] - d * lr;"""),
    "rmsprop": (("w", "g", "v", "gbar", "buf"),
                ("T alpha", "T c", "T lerp_w", "bool lerp_big", "T neg_one", "T eps", "bool centered",
                 "bool use_momentum", "T momentum", "T lr"), """
        T gi = g[i];
        T vi = v[i] * alpha + (gi * c) * gi;
        v[i] = vi;
        T avg;
        if (centered) {  /* gbar is v's placeholder otherwise: not touched */
            T gb = gbar[i];
            if (lerp_big) gb = gi - (gi - gb) * lerp_w;
            else gb = gb + (gi - gb) * lerp_w;
            gbar[i] = gb;
            avg = sqrt((gb * neg_one) * gb + vi) + eps;
        } else {
            avg = sqrt(vi) + eps;
        }
        if (use_momentum) {  /* buf is w's placeholder otherwise */
            T bi = buf[i] * momentum + gi / avg;
            buf[i] = bi;
            w[i] = w[i] - bi * lr;
        } else {
            w[i] = w[i] + (gi * (-lr)) / avg;
        }"""),
    "adagrad": (("w", "g", "s"), ("T one", "T eps", "T neg_clr"), """
        T gi = g[i];
        T si = s[i] + (gi * one) * gi;
        s[i] = si;
        w[i] = w[i] + (gi * neg_clr) / (sqrt(si) + eps);"""),
    "adadelta": (("w", "g", "v", "u"), ("T rho", "T c", "T eps", "T lr"), """
        T gi = g[i];
        T vi = v[i] * rho + (gi * c) * gi;
        v[i] = vi;
        T delta = sqrt(u[i] + eps) / sqrt(vi + eps) * gi;
        u[i] = u[i] * rho + (delta * c) * delta;
        w[i] = w[i] - delta * lr;"""),
}


def _multi_tensor_source(name, ctype):
    """One __global__ function updating up to SLOTS parameters: blockIdx.y = parameter, grid-stride over x."""
    arrays, scalars, body = OPTIMIZERS[name]
    params = [f"T* {a}{k}" for k in range(SLOTS) for a in arrays] + [f"long long n{k}" for k in range(SLOTS)]
    params += [s.replace("T ", "const T ").replace("bool ", "const bool ") for s in scalars]
    # pointer arguments into local arrays so blockIdx.y can index them (a few register/local loads per thread)
    tables = "".join(f"    T* const {a}_[{SLOTS}] = {{{', '.join(f'{a}{k}' for k in range(SLOTS))}}};\n"
                     for a in arrays)
    tables += f"    const long long n_[{SLOTS}] = {{{', '.join(f'n{k}' for k in range(SLOTS))}}};\n"
    picks = "".join(f"    T* const {a} = {a}_[blockIdx.y];\n" for a in arrays)
    return (f"typedef {ctype} T;\n"
            f'extern "C" __global__ void {name}_{ctype}({", ".join(params)}) {{\n{tables}{picks}'
            "    const long long n = n_[blockIdx.y];\n"
            "    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;\n"
            "         i += (long long)gridDim.x * blockDim.x) {" + body + "\n    }\n}\n")


# ---- layers and losses: (C++ template text, kernel name); T as above, one thread per element or per row -------
_ELEMENTS = "for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; " \
            "i += (long long)gridDim.x * blockDim.x)"
LAYERS = {
    # y = maximum(x, 0), keep = ~(y <= 0): NaN passes (value and gradient), -0.0 gives +0.0 (ops/unary.py ReLU)
    "relu": f"""
extern "C" __global__ void relu_CT(const T* x, T* y, bool* keep, long long n) {{
    {_ELEMENTS} {{
        const T xi = x[i];
        const bool k = xi > (T)0 || xi != xi;
        keep[i] = k;
        y[i] = k ? xi : (T)0;
    }}
}}""",
    # gx = gy * keep + 0.0 (the + 0.0 turns -0.0 into +0.0, as the xp form)
    "relu_backward": f"""
extern "C" __global__ void relu_backward_CT(const T* gy, const bool* keep, T* gx, long long n) {{
    {_ELEMENTS} {{
        gx[i] = gy[i] * (keep[i] ? (T)1 : (T)0) + (T)0;
    }}
}}""",
    # Linear's `y += b` then ReLU, in one pass over y (N, C) row-major; y may be the output buffer itself
    "bias_relu": f"""
extern "C" __global__ void bias_relu_CT(const T* xw, const T* b, T* y, bool* keep, long long n, long long C) {{
    {_ELEMENTS} {{
        const T t = xw[i] + b[i % C];
        const bool k = t > (T)0 || t != t;
        keep[i] = k;
        y[i] = k ? t : (T)0;
    }}
}}""",
    # log_softmax + NLL per row (nn/loss.py SoftmaxCrossEntropyFunction, no weight / smoothing / probabilities):
    # shifted = z - max; s = sum(exp(shifted)); loss = -(shifted[t] - log(s)); p = exp(shifted) / s.
    # valid[row] = (t != ignore_index) as T (the xp code's w_t); a target outside [0, C) sets bad[0] = 1 (read
    # at the next sync point, no host copy here) and gives loss NaN.
    "softmax_cross_entropy": """
extern "C" __global__ void softmax_cross_entropy_CT(const T* z, const long long* t, T* p, T* loss, T* valid,
                                                    int* bad, long long N, long long C, long long ignore_index) {
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < N;
         r += (long long)gridDim.x * blockDim.x) {
        const T* zr = z + r * C;
        T* pr = p + r * C;
        T mx = zr[0];
        for (long long j = 1; j < C; ++j) {
            const T zj = zr[j];
            if (zj > mx || zj != zj) mx = zj;  /* max propagates NaN, as numpy/cupy max */
        }
        T s = (T)0;
        for (long long j = 0; j < C; ++j) {
            const T e = exp(zr[j] - mx);
            pr[j] = e;
            s += e;
        }
        const long long tr = t[r];
        const bool ignored = tr == ignore_index;
        valid[r] = ignored ? (T)0 : (T)1;
        if (ignored) {
            loss[r] = (T)0;
        } else if (tr < 0 || tr >= C) {
            loss[r] = (T)nan("");
            atomicExch(bad, 1);
        } else {
            loss[r] = -((zr[tr] - mx) - log(s));
        }
        for (long long j = 0; j < C; ++j) pr[j] = pr[j] / s;
    }
}""",
    # dL/dz = (p - onehot(t)) * g, g[row * gs] (gs = 0: one scalar, 1: per row); ignored rows get 0
    "softmax_cross_entropy_backward": f"""
extern "C" __global__ void softmax_cross_entropy_backward_CT(const T* p, const long long* t, const T* g,
                                                             T* gz, long long n, long long C, long long gs,
                                                             long long ignore_index) {{
    {_ELEMENTS} {{
        const long long r = i / C;
        const long long tr = t[r];
        const T pi = p[i];
        if (tr == ignore_index) gz[i] = (T)0;
        else gz[i] = ((i - r * C) == tr ? pi - (T)1 : pi) * g[r * gs];
    }}
}}""",
    # (1 - y) z - log_sigmoid(z), log_sigmoid(z) = min(z, 0) - log1p(exp(-|z|)) (ops/loss.py BCEWithLogitsLoss)
    "bce_with_logits": f"""
extern "C" __global__ void bce_with_logits_CT(const T* z, const T* y, T* loss, long long n) {{
    {_ELEMENTS} {{
        const T zi = z[i];
        const T ls = (zi < (T)0 || zi != zi ? zi : (T)0) - log1p(exp(-fabs(zi)));
        loss[i] = ((T)1 - y[i]) * zi - ls;
    }}
}}""",
    # dL/dz = (sigmoid(z) - y) * g, sigmoid(z) = 1 / (1 + e) for z >= 0 else e / (1 + e), e = exp(-|z|)
    "bce_with_logits_backward": f"""
extern "C" __global__ void bce_with_logits_backward_CT(const T* z, const T* y, const T* g, T* gz, long long n,
                                                       long long gs) {{
    {_ELEMENTS} {{
        const T zi = z[i];
        const T e = exp(-fabs(zi));
        const T s = zi >= (T)0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
        gz[i] = (s - y[i]) * g[i * gs];
    }}
}}""",
}


def source(name, dtype):
    """(CUDA source, kernel name) of kernel `name` for float32/float64 arrays."""
    ctype = CTYPES[numpy.dtype(dtype).name]
    if name in OPTIMIZERS:
        return _multi_tensor_source(name, ctype), f"{name}_{ctype}"
    return f"typedef {ctype} T;\n" + LAYERS[name].replace("_CT(", f"_{ctype}("), f"{name}_{ctype}"


SOURCES = {(name, dt): source(name, dt) for name in (*OPTIMIZERS, *LAYERS) for dt in CTYPES}

_cache = {}


def kernel(cp, name, dtype):
    """The compiled cupy.RawKernel (compiled on first use, then cached here and on disk by CuPy)."""
    key = (name, numpy.dtype(dtype).name, id(cp))
    k = _cache.get(key)
    if k is None:
        code, fn = SOURCES[key[:2]]
        k = _cache[key] = cp.RawKernel(code, fn, options=OPTIONS)
    return k


def _grid(n):
    return max(1, min((n + BLOCK - 1) // BLOCK, MAX_BLOCKS))


def optimizer_step(cp, name, groups, consts):
    """Update every parameter in `groups` (tuples of arrays of one dtype, e.g. (w, g, m, v)) with the same
    scalar `consts`, SLOTS parameters per launch."""
    arrays, scalars, _ = OPTIMIZERS[name]
    dtype = groups[0][0].dtype
    cast = dtype.type
    args_c = [numpy.bool_(c) if s.startswith("bool") else cast(c) for s, c in zip(scalars, consts)]
    k = kernel(cp, name, dtype)
    for start in range(0, len(groups), SLOTS):
        chunk = groups[start:start + SLOTS]
        pad = chunk + [chunk[0]] * (SLOTS - len(chunk))  # unused slots: any valid pointers, length 0
        sizes = [numpy.int64(t[0].size) for t in chunk] + [numpy.int64(0)] * (SLOTS - len(chunk))
        ptrs = [a for t in pad for a in t]
        k((_grid(max(int(s) for s in sizes)), len(chunk)), (BLOCK,), (*ptrs, *sizes, *args_c))


def relu(cp, x):
    """(y, keep) = (relu(x), x > 0 or NaN) in one launch; y has x's shape and dtype, keep is bool."""
    y, keep = cp.empty_like(x), cp.empty(x.shape, dtype=numpy.bool_)
    kernel(cp, "relu", x.dtype)((_grid(x.size),), (BLOCK,), (x, y, keep, numpy.int64(x.size)))
    return y, keep


def relu_backward(cp, gy, keep):
    """gx = gy * keep (+0.0 for -0.0) in one launch; gx has gy's shape and dtype."""
    gx = cp.empty_like(gy)
    kernel(cp, "relu_backward", gy.dtype)((_grid(gy.size),), (BLOCK,), (gy, keep, gx, numpy.int64(gy.size)))
    return gx


def bias_relu(cp, xw, b, out=None):
    """(y, keep) = relu(xw + b) in one launch. Shapes: xw (N, C), b (C,); y into `out` when given."""
    y = cp.empty_like(xw) if out is None else out
    keep = cp.empty(xw.shape, dtype=numpy.bool_)
    kernel(cp, "bias_relu", xw.dtype)((_grid(xw.size),), (BLOCK,),
                                      (xw, b, y, keep, numpy.int64(xw.size), numpy.int64(b.size)))
    return y, keep


def softmax_cross_entropy(cp, z, t, ignore_index):
    """Per-row log_softmax + NLL in one launch: returns (loss (N,), p (N, C), valid (N,), bad ()).
    z (N, C), t (N,) int64; ignored rows give loss 0, valid 0; a target outside [0, C) gives NaN and bad = 1."""
    N, C = z.shape
    p, loss, valid = cp.empty_like(z), cp.empty(N, dtype=z.dtype), cp.empty(N, dtype=z.dtype)
    bad = cp.zeros((), dtype=numpy.int32)
    kernel(cp, "softmax_cross_entropy", z.dtype)(
        (_grid(N),), (BLOCK,), (z, t, p, loss, valid, bad, numpy.int64(N), numpy.int64(C), numpy.int64(ignore_index)))
    return loss, p, valid, bad


def softmax_cross_entropy_backward(cp, p, t, g, ignore_index):
    """gz = (p - onehot(t)) * g in one launch; p (N, C), t (N,), g a scalar or (N,); ignored rows get 0."""
    gz = cp.empty_like(p)
    kernel(cp, "softmax_cross_entropy_backward", p.dtype)(
        (_grid(p.size),), (BLOCK,), (p, t, g, gz, numpy.int64(p.size), numpy.int64(p.shape[1]),
                                     numpy.int64(0 if g.size == 1 else 1), numpy.int64(ignore_index)))
    return gz


def bce_with_logits(cp, z, y):
    """Elementwise (1 - y) * z - log_sigmoid(z) in one launch (no reduction); z and y of one shape."""
    loss = cp.empty_like(z)
    kernel(cp, "bce_with_logits", z.dtype)((_grid(z.size),), (BLOCK,), (z, y, loss, numpy.int64(z.size)))
    return loss


def bce_with_logits_backward(cp, z, y, g):
    """gz = (sigmoid(z) - y) * g in one launch; g a scalar or z's shape."""
    gz = cp.empty_like(z)
    kernel(cp, "bce_with_logits_backward", z.dtype)(
        (_grid(z.size),), (BLOCK,), (z, y, g, gz, numpy.int64(z.size), numpy.int64(0 if g.size == 1 else 1)))
    return gz
