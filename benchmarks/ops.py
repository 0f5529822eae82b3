"""Forward + backward of single ops, and one optimizer step per optimizer: minigrad vs torch, in microseconds.

Ops (float32, the MNIST MLP's shapes): Linear 100x784 -> 500 (input gradient included, as for a hidden layer),
ReLU on 100x500, softmax-cross-entropy on 100x10 logits, BCE-with-logits on 100x10, each as forward then
backward with the leaves' gradients cleared every call; then one `step()` of SGD, SGD+momentum, Adam, AdamW,
Adagrad, Adadelta and RMSprop over the 784-500-300-10 MLP's parameters with fixed gradients (torch with its
default implementation for the device: for-loop on CPU, foreach on CUDA). Both engines start from the same
arrays, already on the device. One round = `--iters` calls; rounds alternate engines; the ratio
minigrad/torch is the median of the per-round ratios, with their min-max.
    python -m benchmarks.ops --rounds 10 --iters 50
"""
import numpy as np

from benchmarks import common
from benchmarks.epoch import SIZES, build_mlp

OPS = ("linear", "relu", "cross_entropy", "bce_with_logits")
OPTIMIZERS = {  # name -> (class name, kwargs): the same hyper-parameters in both engines
    "sgd": ("SGD", dict(lr=0.01)),
    "sgd_momentum": ("SGD", dict(lr=0.01, momentum=0.9)),
    "adam": ("Adam", dict(lr=1e-3)),
    "adamw": ("AdamW", dict(lr=1e-3, weight_decay=1e-2)),
    "adagrad": ("Adagrad", dict(lr=1e-2)),
    "adadelta": ("Adadelta", dict(lr=1.0)),
    "rmsprop": ("RMSprop", dict(lr=1e-2)),
}
ALL = OPS + tuple(OPTIMIZERS)


class _Engines:
    """minigrad and torch side by side on one device: make the same tensor in both from one NumPy array."""

    def __init__(self, device, dtype):
        import minigrad

        self.mg, self.torch = minigrad, common.torch_setup(device)
        self.device, self.mg_dev, self.dtype = device, ("cuda" if device == "cuda" else "cpu"), dtype

    def pair(self, a, requires_grad=False):
        mg = self.mg.tensor(a, device=self.mg_dev, requires_grad=requires_grad)
        t = self.torch.from_numpy(np.ascontiguousarray(a)).to(self.device).requires_grad_(requires_grad)
        return mg, t

    def modules(self, build):
        from reference.convert import copy_weights

        mg_m = build(self.mg.nn).to(self.mg_dev)
        t_m = build(self.torch.nn).to(self.device)
        if self.dtype == "float64":
            mg_m, t_m = mg_m.double(), t_m.double()
        copy_weights(mg_m, t_m)
        return mg_m, t_m


def _fwd_bwd(out_fn, leaves, gy=None):
    """One call: forward, backward (with gy for a non-scalar output), then clear the leaves' gradients."""
    def run():
        y = out_fn()
        y.backward(gy)
        for t in leaves:
            t.grad = None

    return run


def op_pair(name, E, rng, batch=100):
    """(minigrad fn, torch fn) doing forward + backward of op `name` once."""
    def f(*shape):
        return rng.standard_normal(shape).astype(E.dtype)

    mgF, tF = E.mg.nn.functional, E.torch.nn.functional
    if name == "linear":
        mg_l, t_l = E.modules(lambda nn: nn.Linear(SIZES[0], SIZES[1]))
        (mg_x, t_x), (mg_gy, t_gy) = E.pair(f(batch, SIZES[0]), True), E.pair(f(batch, SIZES[1]))
        return (_fwd_bwd(lambda: mg_l(mg_x), [mg_x, *mg_l.parameters()], mg_gy),
                _fwd_bwd(lambda: t_l(t_x), [t_x, *t_l.parameters()], t_gy))
    if name == "relu":
        (mg_x, t_x), (mg_gy, t_gy) = E.pair(f(batch, SIZES[1]), True), E.pair(f(batch, SIZES[1]))
        return (_fwd_bwd(lambda: mgF.relu(mg_x), [mg_x], mg_gy), _fwd_bwd(lambda: tF.relu(t_x), [t_x], t_gy))
    if name == "cross_entropy":
        (mg_z, t_z), (mg_y, t_y) = E.pair(f(batch, SIZES[-1]), True), E.pair(rng.integers(0, SIZES[-1], batch))
        return (_fwd_bwd(lambda: mgF.cross_entropy(mg_z, mg_y), [mg_z]),
                _fwd_bwd(lambda: tF.cross_entropy(t_z, t_y), [t_z]))
    if name == "bce_with_logits":
        target = (rng.random((batch, SIZES[-1])) < 0.5).astype(E.dtype)
        (mg_z, t_z), (mg_y, t_y) = E.pair(f(batch, SIZES[-1]), True), E.pair(target)
        return (_fwd_bwd(lambda: mgF.binary_cross_entropy_with_logits(mg_z, mg_y), [mg_z]),
                _fwd_bwd(lambda: tF.binary_cross_entropy_with_logits(t_z, t_y), [t_z]))
    if name in OPTIMIZERS:
        cls, kwargs = OPTIMIZERS[name]
        mg_m, t_m = E.modules(build_mlp)
        for mg_p, t_p in zip(mg_m.parameters(), t_m.parameters()):
            mg_p.grad, t_p.grad = E.pair(f(*mg_p.shape))  # fixed gradients: the step alone is timed
        mg_opt = getattr(E.mg.optim, cls)(mg_m.parameters(), **kwargs)
        t_opt = getattr(E.torch.optim, cls)(t_m.parameters(), **kwargs)
        return mg_opt.step, t_opt.step
    raise ValueError(f"unknown op {name!r}; choose from {', '.join(ALL)}")


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any timing starts."""
    p = common.base_parser(__doc__)
    p.set_defaults(rounds=10, warmup=2)
    p.add_argument("--iters", type=common.positive_int, default=50,
                   help="calls per timed round (the time reported is per call)")
    p.add_argument("--batch-size", type=common.positive_int, default=100, help="images per training step")
    p.add_argument("--ops", nargs="+", choices=ALL, default=list(ALL), metavar="OP",
                   help=f"which ops to time: {' '.join(ALL)}")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="floating-point type of data and parameters")
    return common.check(p, argv, "ops")


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "ops")
    E = _Engines(args.device, args.dtype)
    E.mg.manual_seed(0)
    sync = common.sync_for(args.device)
    results, times = {}, {}
    print(f"{'op':>16} {'minigrad us':>12} {'torch us':>10}  ratio (min-max)")
    for name in args.ops:
        mg_fn, t_fn = op_pair(name, E, np.random.default_rng(0), args.batch_size)
        fns = {"minigrad": common.repeat(mg_fn, args.iters), "torch": common.repeat(t_fn, args.iters)}
        times[name] = common.paired(fns, args.rounds, args.warmup, sync)
        res = common.summary(times[name], ref="torch")
        for row in res.values():  # per call, in microseconds
            row.update({k.replace("_s", "_us"): row[k] * 1e6 / args.iters for k in ("median_s", "min_s", "max_s")})
        results[name] = res
        mg = res["minigrad"]
        print(f"{name:>16} {mg['median_us']:12.1f} {res['torch']['median_us']:10.1f}  "
              f"{mg['ratio_median']:.2f} ({mg['ratio_min']:.2f}-{mg['ratio_max']:.2f})")
    common.write(common.out_name("ops", args.device), {
        "command": cmd, "machine": info, "args": vars(args), "results": results, "times": times}, args.json)
    return results


if __name__ == "__main__":
    main()
