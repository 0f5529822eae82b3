"""Adam's update with float32 subnormals in its first moment: minigrad and torch, with and without them.

Where a gradient entry stays exactly zero (a pixel that is 0 in every image, a dead ReLU unit), Adam's
m <- 0.9 m decays geometrically into the subnormal range (|m| < 1.18e-38) and stays there: rounding stops the
decay at a few units of 2**-149. Many CPUs compute with subnormal operands far more slowly. Here each engine
steps Adam in two conditions, alternated: "subnormal" and "flushed", the same arrays with the subnormal entries
of m set to 0 (the same work otherwise). The arrays are either synthetic, one parameter of the MNIST MLP's size
(545,810 entries) with --frac of m subnormal and the gradient zero there, or (--train-epochs K) the MLP's own
parameters, gradients and Adam state after K epochs of the epoch benchmark's training (784-500-300-10, Adam
1e-3, batch 100, MNIST), with the share of subnormal m printed per parameter. A third series times NumPy's
m / d alone, the division that the update contains. Reported per step in microseconds, each series' slowdown
(subnormal / flushed, median of per-round ratios, min-max), and minigrad / torch per condition.
    python -m benchmarks.subnormal --rounds 10 --iters 20 --train-epochs 3
"""
import numpy as np

from benchmarks import common

N_MLP = 784 * 500 + 500 + 500 * 300 + 300 + 300 * 10 + 10  # parameters of the 784-500-300-10 MLP


def synthetic(n, frac, seed=0):
    """[(w, g, m, v)]: float32 arrays with about `frac` of m subnormal and g == 0 there."""
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal(n) * 0.05).astype(np.float32)
    g = (rng.standard_normal(n) * 1e-3).astype(np.float32)
    m = (rng.standard_normal(n) * 1e-4).astype(np.float32)
    v = (rng.random(n) * 1e-6 + 1e-8).astype(np.float32)
    sel = rng.random(n) < frac
    k = int(sel.sum())
    bits = rng.integers(1, 2**23, k, dtype=np.int32) | (rng.integers(0, 2, k, dtype=np.int32) << 31)
    m[sel] = bits.view(np.float32)  # exponent field 0, mantissa nonzero: subnormal, either sign
    g[sel] = 0
    return [(w, g, m, v)]


def trained(epochs, seed=0):
    """[(w, g, m, v)] per parameter of the epoch benchmark's MLP after `epochs` epochs of its training."""
    from benchmarks import epoch

    X, y, _ = epoch.load_images(54000)
    run = epoch.setup("cpu", X, y, 100, seed=seed)["minigrad"]
    for _ in range(epochs):
        run()
    opt = run.optimizer
    return [(p.array.copy(), p.grad.array.copy(), opt.state[p]["exp_avg"].array.copy(),
             opt.state[p]["exp_avg_sq"].array.copy()) for p in opt.param_groups[0]["params"]]


def flush(params):
    """The same arrays with the subnormal entries of m set to 0."""
    out = []
    for w, g, m, v in params:
        m = m.copy()
        m[(m != 0) & (np.abs(m) < np.finfo(m.dtype).tiny)] = 0
        out.append((w, g, m, v))
    return out


def subnormal_count(m):
    a = np.abs(m)
    return int(np.count_nonzero((a > 0) & (a < np.finfo(m.dtype).tiny)))


def adam_steppers(device, params, lr=1e-3):
    """{engine: step()} for minigrad and torch Adam over one parameter per (w, g, m, v) in `params`, the state
    set to those arrays after a first step.

    With the gradient held fixed, the conditions do not drift: entries of m that are subnormal (g == 0) stay
    subnormal, flushed entries stay 0, the others stay normal."""
    import minigrad

    torch = common.torch_setup(device)
    mg_dev = "cuda" if device == "cuda" else "cpu"
    mg_ps, t_ps = [], []
    for w, g, _, _ in params:
        mg_ps.append(minigrad.nn.Parameter(minigrad.tensor(w.copy(), device=mg_dev)))
        mg_ps[-1].grad = minigrad.tensor(g.copy(), device=mg_dev)
        t_ps.append(torch.nn.Parameter(torch.from_numpy(w.copy()).to(device)))
        t_ps[-1].grad = torch.from_numpy(g.copy()).to(device)
    mg_opt, t_opt = minigrad.optim.Adam(mg_ps, lr=lr), torch.optim.Adam(t_ps, lr=lr)
    mg_opt.step()
    t_opt.step()
    for (w, _, m, v), mg_p, t_p in zip(params, mg_ps, t_ps):
        xp = mg_p.xp
        for name, arr in (("exp_avg", m), ("exp_avg_sq", v)):
            mg_opt.state[mg_p][name].array[...] = xp.asarray(arr)
            t_opt.state[t_p][name].copy_(torch.from_numpy(arr).to(device))
        mg_p.array[...] = xp.asarray(w)
        with torch.no_grad():
            t_p.copy_(torch.from_numpy(w).to(device))
    return {"minigrad": mg_opt.step, "torch": t_opt.step}


def divider(device, params):
    """NumPy's (CuPy's) m / (sqrt(v) + eps) into preallocated buffers: the division inside the update."""
    from minigrad.backend import get_xp

    xp = get_xp("cuda" if device == "cuda" else "cpu")
    ops = [(xp.asarray(m), xp.sqrt(xp.asarray(v)) + m.dtype.type(1e-8), xp.empty(m.shape, m.dtype))
           for _, _, m, v in params]

    def run():
        for m, d, out in ops:
            xp.divide(m, d, out=out)

    return run


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any timing starts."""
    p = common.base_parser(__doc__)
    p.set_defaults(rounds=10)
    p.add_argument("--iters", type=common.positive_int, default=20, help="steps per timed round")
    p.add_argument("--n", type=common.positive_int, default=N_MLP,
                   help="entries in the parameter (default: the MLP's count)")
    p.add_argument("--frac", type=common.unit_interval, default=0.06, help="synthetic: share of m made subnormal")
    p.add_argument("--train-epochs", type=common.nonnegative_int, default=0,
                   help="use the MLP's own state after this many epochs of training instead (0: synthetic)")
    common.add_data_arg(p)
    return common.check(p, argv, "subnormal")


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "subnormal")
    if args.train_epochs > 0:
        if args.data == "random":
            raise common.UsageError("--train-epochs trains on MNIST; --data random is for synthetic arrays only")
        params = trained(args.train_epochs)
    else:
        params = synthetic(args.n, args.frac)
    counts = [subnormal_count(m) for _, _, m, _ in params]
    sizes = [m.size for _, _, m, _ in params]
    for shape, c, n in zip([w.shape for w, _, _, _ in params], counts, sizes):
        print(f"m of parameter {shape}: {c / n:.4f} subnormal")
    fraction = sum(counts) / sum(sizes)
    fns = {}
    for cond, state in (("subnormal", params), ("flushed", flush(params))):
        for engine, step in adam_steppers(args.device, state).items():
            fns[f"{engine}_{cond}"] = common.repeat(step, args.iters)
        fns[f"divide_{cond}"] = common.repeat(divider(args.device, state), args.iters)
    times = common.paired(fns, args.rounds, args.warmup, common.sync_for(args.device))
    res = {}
    print(f"{fraction:.4f} of m subnormal, {sum(sizes)} entries; microseconds per step")
    for engine in ("minigrad", "torch", "divide"):
        sub, fl = times[f"{engine}_subnormal"], times[f"{engine}_flushed"]
        row = {cond: {"median_us": float(np.median(ts)) * 1e6 / args.iters,
                      "min_us": min(ts) * 1e6 / args.iters, "max_us": max(ts) * 1e6 / args.iters}
               for cond, ts in (("subnormal", sub), ("flushed", fl))}
        row.update(common.pairwise(sub, fl, prefix="slowdown"))
        if engine == "minigrad":  # minigrad / torch, pair by pair, in each condition
            for cond in ("subnormal", "flushed"):
                row[cond].update(common.pairwise(times[f"minigrad_{cond}"], times[f"torch_{cond}"]))
        res[engine] = row
        print(f"{engine:>9}: subnormal {row['subnormal']['median_us']:8.1f}  flushed {row['flushed']['median_us']:8.1f}"
              f"  slowdown {row['slowdown_median']:.2f} ({row['slowdown_min']:.2f}-{row['slowdown_max']:.2f})")
    common.write(common.out_name("subnormal", args.device), {
        "command": cmd, "machine": info, "args": vars(args), "subnormal_fraction": fraction,
        "subnormal_per_parameter": [{"shape": list(w.shape), "fraction": c / n}
                                    for (w, _, _, _), c, n in zip(params, counts, sizes)],
        "results": res, "times": times}, args.json)
    return res


if __name__ == "__main__":
    main()
