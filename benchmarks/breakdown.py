"""Where one training step's time goes: matrix products, elementwise, optimizer, allocation, Python overhead.

One minigrad step of the course MLP (784-500-300-10 ReLU, CrossEntropyLoss, Adam 1e-3, float32, batch 100) is
timed beside the same step's array work done without the engine: a mirror (Mirror below) that makes the engine's
own NumPy and kernel calls on plain arrays, bit for bit the same numbers (tests/test_benchmarks.py). Its parts
are timed apart on its arrays; allocation is the mirror minus its twin that writes every result into arrays
allocated once; Python overhead is the step minus the mirror. Every series alternates with the others in one
process (warm-up, then timed rounds); each row is the median over rounds and its min-max, in ms per step.
    python -m benchmarks.breakdown --rounds 7 --steps 200
"""
import contextlib
import statistics

import numpy as np

from benchmarks import common
from minigrad import kernels
from minigrad.optim.optimizer import lerp, lerp_consts, typed

SIZES = (784, 500, 300, 10)
PARTS = ("matrix products", "elementwise", "optimizer kernel")
WHAT = {  # row -> how it is got (the JSON and the table say it beside each number)
    "step": "measured: loss = loss_fn(model(x), y); opt.zero_grad(); loss.backward(); opt.step()",
    "forward+backward": "measured: the step without opt.step()",
    "optimizer": "measured: opt.step() alone, gradients in place",
    "mirror": "measured: the step's NumPy/kernel calls on plain arrays, no engine",
    "matrix products": "measured: the mirror's 3 forward, 3 weight-gradient, 2 input-gradient products (out=)",
    "elementwise": "measured: bias adds, ReLU and its backward, cross-entropy and its backward, bias sums (out=)",
    "optimizer kernel": "measured: the mirror's Adam update of every parameter (the kernel, or the formulas, out=)",
    "allocation": "derived: mirror - mirror with out=",
    "rest of the mirror": "derived: mirror with out= - its three measured parts (cache effects, noise)",
    "Python overhead": "derived: step - mirror (modules, autograd's graph and walk, optimizer loop, checks)",
    "mirror with out=": "measured: the mirror, every result written into arrays allocated once",
}
DERIVED = {"allocation": {"mirror": 1, "mirror with out=": -1},
           "rest of the mirror": {"mirror with out=": 1, **{p: -1 for p in PARTS}},
           "Python overhead": {"step": 1, "mirror": -1}}
ROWS = [("step", 0), ("forward+backward", 1), ("optimizer", 1), ("mirror", 0), ("matrix products", 1),
        ("elementwise", 1), ("optimizer kernel", 1), ("allocation", 1), ("rest of the mirror", 1),
        ("Python overhead", 0), ("mirror with out=", 0)]


def _loop(name):
    """The compiled loop behind kernels.relu / relu_backward, for the out= mirror to hand it its outputs (the
    public functions allocate them); None where the kernels are off or missing, as the engine then runs formulas."""
    table = kernels._cpu_kernels() if kernels.switch.on else None
    return table[name] if table else None


class Mirror:
    """The engine's array calls for one step of an MLP, without the engine. x: (N, in) float, t: (N,) int64.

    params: the model's arrays in its order (W1, b1, W2, b2, ...), copied. out=True writes every result into an
    array allocated here once (np.matmul(..., out=), the kernels' loops given their outputs): the same numbers.
    """

    def __init__(self, params, N, out=False, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = [p.copy() for p in params]
        self.W, self.b, L = self.params[0::2], self.params[1::2], len(params) // 2
        self.m, self.v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
        self.count, self.lr, self.betas, self.eps, self.out = 0.0, lr, betas, eps, out
        dt = self.W[0].dtype
        self.zero, self.one, self.seed = dt.type(0), dt.type(1), np.ones((), dt)  # seed: backward's ones_like(loss)
        # a[i+1] = relu(z[i]); ga, gz: their gradients. Kept until the next step replaces them (the parts run on
        # them), where the engine frees its own in backward: one more generation alive, as many allocations
        self.a, self.z, self.gz, self.ga = [None] * L, [None] * L, [None] * L, [None] * L
        self.mask, self.grads = [None] * (L - 1), [None] * (2 * L)  # grads: gW1, gb1, gW2, ...
        if out:
            self._allocate(N, L, dt)
        # the step's calls in the engine's order: forward layer by layer, the loss, then backward as the graph walk
        # visits the nodes (each Linear: gx, gW, gb, as LinearFunction.backward), then Adam; each tagged with its part
        plan = []
        for i in range(L):
            plan += [("matrix products", self._product, i), ("elementwise", self._bias_add, i)]
            plan += [("elementwise", self._relu, i)] if i < L - 1 else []
        plan.append(("elementwise", self._loss, L - 1))
        for i in reversed(range(L)):
            plan.append(("elementwise", self._loss_backward if i == L - 1 else self._relu_backward, i))
            plan += [("matrix products", self._input_grad, i)] if i > 0 else []  # layer 1's x needs no gradient
            plan += [("matrix products", self._weight_grad, i), ("elementwise", self._bias_grad, i)]
        self.plan = plan + [("optimizer kernel", self._update, None)]
        self.parts = {p: [(f, i) for k, f, i in self.plan if k == p] for p in PARTS}

    def _allocate(self, N, L, dt):
        C = self.W[-1].shape[0]
        self.z = [np.empty((N, W.shape[0]), dt) for W in self.W]
        self.gz = [np.empty_like(z) for z in self.z]
        self.a[1:] = [np.empty_like(z) for z in self.z[:-1]]
        self.ga[1:] = [np.empty((N, W.shape[1]), dt) for W in self.W[1:]]
        self.mask = [np.empty(z.shape, bool) for z in self.z[:-1]]
        self.grads = [np.empty_like(p) for p in self.params]
        self.tmp = [(np.empty_like(p), np.empty_like(p)) for p in self.params]  # Adam's formulas' temporaries
        self.zmax, self.s, self.logs = np.empty((N, 1), dt), np.empty((N, 1), dt), np.empty((N, 1), dt)
        self.shifted, self.logp, self.p = np.empty((N, C), dt), np.empty((N, C), dt), np.empty((N, C), dt)
        self.row_start, self.flat, self.rows = np.arange(N) * C, np.empty(N, np.int64), np.empty(N, dt)

    def step(self, x, t):
        """One training step on x (N, in), t (N,); returns the loss (0-d, x's dtype)."""
        self.a[0], self.t = x, t
        for _, f, i in self.plan:
            f(i)
        return self.loss

    def run_part(self, part):
        """The calls of one part of the step alone, on the arrays the last step left."""
        for f, i in self.parts[part]:
            f(i)

    # ---- the calls, each as the op that makes it (LinearFunction, ReLUFunction, SoftmaxCrossEntropyFunction) ----
    def _product(self, i):
        if self.out:
            np.matmul(self.a[i], self.W[i].T, out=self.z[i])
        else:
            self.z[i] = self.a[i] @ self.W[i].T

    def _bias_add(self, i):
        self.z[i] += self.b[i]  # in place in the engine too

    def _relu(self, i):
        z, loop = self.z[i], _loop("relu")
        if self.out and loop:
            loop(z.reshape(-1), self.a[i + 1].reshape(-1), self.mask[i].reshape(-1))
        elif self.out:
            np.maximum(z, self.zero, out=self.a[i + 1])
            np.invert(np.less_equal(self.a[i + 1], 0, out=self.mask[i]), out=self.mask[i])
        else:
            out = kernels.relu(z) if kernels.switch.on else None  # ReLUFunction.forward_fast
            if out is None:  # ReLUFunction.forward
                y = np.maximum(z, self.zero)
                out = y, ~(y <= 0)
            self.a[i + 1], self.mask[i] = out

    def _relu_backward(self, i):
        gy, keep, loop = self.ga[i + 1], self.mask[i], _loop("relu_backward")
        if self.out and loop:
            loop(gy.reshape(-1), keep.reshape(-1), self.gz[i].reshape(-1), self.one, self.zero)
        elif self.out:
            np.multiply(gy, keep, out=self.gz[i])
            self.gz[i] += self.zero
        else:
            gx = kernels.relu_backward(gy, keep) if kernels.switch.on else None
            if gx is None:
                gx = gy * keep
                gx += self.zero  # -0.0 -> +0.0, as ReLUFunction.backward
            self.gz[i] = gx

    def _loss(self, i):
        z, t = self.z[i], self.t
        if self.out:  # the same arithmetic; the gather by flat index (np.take) in place of logp[arange(N), t]
            np.subtract(z, np.max(z, axis=1, keepdims=True, out=self.zmax), out=self.shifted)
            np.exp(self.shifted, out=self.p)
            np.subtract(self.shifted, np.log(np.sum(self.p, axis=1, keepdims=True, out=self.s), out=self.logs),
                        out=self.logp)
            np.add(self.row_start, t, out=self.flat)
            loss = np.negative(np.take(self.logp.reshape(-1), self.flat, out=self.rows, mode="clip"), out=self.rows)
            self.p /= self.s
        else:
            shifted = z - z.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            logp = shifted - np.log(s)
            loss = -logp[np.arange(len(t)), t]
            e /= s
            self.p = e
        total = loss.sum()
        with np.errstate(divide="ignore", invalid="ignore"):  # loss.py's _reduce
            loss = total / len(t)
        self.loss = loss.astype(z.dtype) if loss.dtype != z.dtype else loss  # autograd's _narrow_0d (NumPy 1.x)

    def _loss_backward(self, i):
        # dL/dz = (softmax(z) - onehot(t)) / N
        if self.out:
            gz = self.gz[i]
            np.copyto(gz, self.p)
            rows = np.take(gz.reshape(-1), self.flat, out=self.rows, mode="clip")
            rows -= 1
            np.put(gz, self.flat, rows)
        else:
            gz = self.gz[i] = self.p.copy()
            gz[np.arange(len(self.t)), self.t] -= 1
        gz *= self.seed / self.seed.dtype.type(len(self.t))  # loss.py's _scale of the seed gradient

    def _input_grad(self, i):
        if self.out:
            np.matmul(self.gz[i], self.W[i], out=self.ga[i])
        else:
            self.ga[i] = self.gz[i] @ self.W[i]

    def _weight_grad(self, i):
        gy, x = self.gz[i], self.a[i]
        outer = kernels.switch.on and gy.shape[0] == 1 and gy.shape[1] * x.shape[1] >= 4096  # backward_fast's case
        if not self.out:  # LinearFunction.backward_fast (an outer product) or .backward
            self.grads[2 * i] = kernels.weight_grad(gy, x) if outer else gy.T @ x
        elif outer:  # kernels.weight_grad's two calls
            np.multiply(gy.T, x, out=self.grads[2 * i])
            self.grads[2 * i] += 0
        else:
            np.matmul(gy.T, x, out=self.grads[2 * i])

    def _bias_grad(self, i):
        if self.out:
            np.sum(self.gz[i], axis=0, out=self.grads[2 * i + 1])
        else:
            self.grads[2 * i + 1] = self.gz[i].sum(axis=0)

    def _update(self, _):
        (beta1, beta2), lr, eps = self.betas, self.lr, self.eps
        self.count += 1.0
        for k, (w, g, m, v) in enumerate(zip(self.params, self.grads, self.m, self.v)):
            step_size = lr / (1.0 - beta1**self.count)  # per parameter, as Adam._step_group
            bias_correction2_sqrt = (1.0 - beta2**self.count) ** 0.5
            if kernels.switch.on and kernels.run("adam", (w, g, m, v), *lerp_consts(m.dtype, 1.0 - beta1), beta2,
                                                 1.0 - beta2, bias_correction2_sqrt, eps, -step_size):
                continue  # adam.py's _fused_adam: the same call
            b2, one_minus_b2, bc2, eps_, neg_step = typed(w.dtype, beta2, 1.0 - beta2, bias_correction2_sqrt, eps,
                                                          -step_size)
            if self.out:
                self._adam_out(w, g, m, v, *self.tmp[k], 1.0 - beta1, b2, one_minus_b2, bc2, eps_, neg_step)
                continue
            m[...] = lerp(m, g, 1.0 - beta1)  # Adam's formulas, line for line
            v[...] = v * b2 + one_minus_b2 * g * g
            denom = np.sqrt(v) / bc2 + eps_
            w += neg_step * (m / denom)

    @staticmethod
    def _adam_out(w, g, m, v, t1, t2, weight, b2, one_minus_b2, bc2, eps_, neg_step):
        """Adam's formulas op for op (the same roundings) into two temporaries allocated once."""
        c, big = lerp_consts(m.dtype, weight)
        np.multiply(np.subtract(g, m, out=t1), m.dtype.type(c), out=t1)  # lerp: d = (g - m) c
        np.subtract(g, t1, out=m) if big else np.add(m, t1, out=m)
        np.multiply(v, b2, out=t1)
        np.multiply(np.multiply(one_minus_b2, g, out=t2), g, out=t2)
        np.add(t1, t2, out=v)
        np.add(np.divide(np.sqrt(v, out=t1), bc2, out=t1), eps_, out=t1)
        np.multiply(np.divide(m, t1, out=t1), neg_step, out=t1)
        w += t1


def cycling(batches, fn, steps):
    """A timed round: fn(x, t) on the next `steps` batches, round and round the list."""
    at = [0]

    def run():
        i = at[0]
        for _ in range(steps):
            fn(*batches[i])
            i = (i + 1) % len(batches)
        at[0] = i

    return run


def setup(batches, sizes, steps, seed=0):
    """Series name -> one timed round (`steps` steps) on batches [(x Tensor (N, sizes[0]), y Tensor (N,))]."""
    import minigrad
    from benchmarks.epoch import build_mlp

    def engine():  # the same initial weights each time
        minigrad.manual_seed(seed)
        model = build_mlp(minigrad.nn, sizes)
        return model, minigrad.optim.Adam(model.parameters(), lr=1e-3), minigrad.nn.CrossEntropyLoss()

    model, opt, loss_fn = engine()
    params = [p.array for p in model.parameters()]
    arrays = [(x.array, y.array) for x, y in batches]
    N = len(arrays[0][1])
    mirror, mirror_out, parts = Mirror(params, N), Mirror(params, N, out=True), Mirror(params, N, out=True)
    parts.step(*arrays[0])  # its arrays filled: each part then runs on them alone

    def step(x, y):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    # a second model for the engine's two halves: opt.step() repeated on the same gradients moves the weights
    # far from a training run's, which must not touch the step's series
    model2, opt2, loss_fn2 = engine()

    def forward_backward(x, y):
        loss = loss_fn2(model2(x), y)
        opt2.zero_grad()
        loss.backward()

    forward_backward(*batches[0])  # gradients in place, should the optimizer series run first
    fns = {"step": cycling(batches, step, steps), "forward+backward": cycling(batches, forward_backward, steps),
           "optimizer": common.repeat(opt2.step, steps), "mirror": cycling(arrays, mirror.step, steps),
           "mirror with out=": cycling(arrays, mirror_out.step, steps)}
    for part in PARTS:
        fns[part] = common.repeat(lambda part=part: parts.run_part(part), steps)
    return fns


def breakdown(times, steps, prefix=""):
    """Row -> median, min, max in ms per step, share of the step's median, how it is got; derived rows are
    computed round by round from the series timed in that round."""
    rounds = len(times[prefix + "step"])
    ms = {k: [t * 1e3 / steps for t in times[prefix + k]] for k in WHAT if k not in DERIVED}
    for k, terms in DERIVED.items():
        ms[k] = [sum(sign * ms[name][r] for name, sign in terms.items()) for r in range(rounds)]
    step = statistics.median(ms["step"])
    return {k: {"median_ms": statistics.median(ms[k]), "min_ms": min(ms[k]), "max_ms": max(ms[k]),
                "share": statistics.median(ms[k]) / step, "how": WHAT[k]} for k, _ in ROWS}


def print_table(rows, title):
    print(f"\n{title}\n{'part':<24} {'ms/step median':>14} {'min-max':>15} {'share of step':>13}  how")
    for k, indent in ROWS:
        r = rows[k]
        span = f"{r['min_ms']:.3f}-{r['max_ms']:.3f}"
        print(f"{'  ' * indent + k:<24} {r['median_ms']:>14.3f} {span:>15} {100 * r['share']:>12.1f}%  {r['how']}")


def parse_args(argv=None):
    """Every flag checked, and the output path, before any data is read or timing starts."""
    p = common.base_parser(__doc__)
    p.set_defaults(rounds=7)
    helps = {"device": "cpu (cuda is refused: the mirror is of the CPU path)",
             "rounds": "timed rounds, each running every series once"}
    for action in p._actions:
        action.help = helps.get(action.dest, action.help)
    p.add_argument("--steps", type=common.positive_int, default=200, help="training steps per timed round")
    p.add_argument("--batch-size", type=common.positive_int, default=100, help="images per training step")
    p.add_argument("--n", type=common.positive_int, default=20000,
                   help="first N training images, cut into whole batches the steps cycle through")
    p.add_argument("--sizes", type=common.positive_int, nargs="+", default=list(SIZES),
                   help="layer widths of the MLP: 784 (the image) first, at least 10 (the classes) last")
    p.add_argument("--kernels", choices=["on", "off", "both"], default="both",
                   help="minigrad's fused kernels on (the default path), off (the NumPy formulas), or both")
    common.add_data_arg(p)
    if p.parse_args(argv).device == "cuda":  # before check(): its message would suggest a GPU makes this work
        raise common.UsageError("--device cuda: benchmarks.breakdown mirrors the engine's NumPy calls on the CPU; "
                                "the GPU path runs other kernels. Use --device cpu")
    args = common.check(p, argv, "breakdown")
    if len(args.sizes) < 2 or args.sizes[0] != SIZES[0] or args.sizes[-1] < 10:
        p.error(f"argument --sizes: expected {SIZES[0]} first (the image), then widths, the last at least 10 "
                f"(the classes); got {' '.join(map(str, args.sizes))}")
    if args.batch_size > args.n:
        p.error(f"argument --batch-size: {args.batch_size} is more than --n {args.n}: not one whole batch")
    return args


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "breakdown")
    import minigrad
    from benchmarks.epoch import fused, load_images

    X, y, source = load_images(args.n, source=args.data)
    B = args.batch_size
    if len(X) < B:  # --n beyond the data set's size
        raise common.UsageError(f"--batch-size {B}: the data has {len(X)} images, not one whole batch")
    batches = [(minigrad.tensor(X[s:s + B]), minigrad.tensor(y[s:s + B])) for s in range(0, len(X) - B + 1, B)]
    kernels.load()  # compiled (or read from the disk cache) before any round
    modes = ["on", "off"] if args.kernels == "both" else [args.kernels]
    fns = {}
    for mode in modes:  # one alternation over every series of both settings: drifts of the machine hit all alike
        with kernels.disabled() if mode == "off" else contextlib.nullcontext():
            series = setup(batches, tuple(args.sizes), args.steps)
        fns.update({("" if mode == "on" else "off: ") + k: fused(fn, mode == "on") for k, fn in series.items()})
    times = common.paired(fns, args.rounds, args.warmup)
    results = {}
    for mode in modes:
        results[mode] = breakdown(times, args.steps, "" if mode == "on" else "off: ")
        print_table(results[mode], f"fused kernels {mode} ({'-'.join(map(str, args.sizes))} MLP, batch {B}, "
                                   f"{len(batches)} batches, {source}; {args.rounds} rounds of {args.steps} steps)")
    common.write("breakdown", {"command": cmd, "machine": info, "args": vars(args), "data": source,
                               "batches": len(batches), "results": results, "times": times}, args.json)
    return results


if __name__ == "__main__":
    main()
