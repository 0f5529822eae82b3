"""Per-step framework overhead: a tiny MLP (4-8-3) at batch 1, one full training step, minigrad vs torch.

A step is forward, cross-entropy, zero_grad, backward and an Adam step; at these sizes the arithmetic is
negligible, so the time is the engine's Python/dispatch cost per step. Both engines start from the same
weights and see the same fixed batch, already on the device. One round = `--iters` steps; rounds alternate
engines; reported in microseconds per step, ratio minigrad/torch as the median of per-round ratios (min-max).
    python -m benchmarks.overhead --rounds 10 --iters 200
"""
import numpy as np

from benchmarks import common
from benchmarks.epoch import build_mlp


def setup(device, sizes=(4, 8, 3), batch_size=1, dtype="float32", seed=0):
    """Both engines' step functions on the same weights and the same (batch_size, sizes[0]) batch."""
    import minigrad
    from reference.convert import copy_weights

    torch = common.torch_setup(device)
    minigrad.manual_seed(seed)
    mg_dev = "cuda" if device == "cuda" else "cpu"
    mg_model, t_model = build_mlp(minigrad.nn, sizes).to(mg_dev), build_mlp(torch.nn, sizes).to(device)
    if dtype == "float64":
        mg_model, t_model = mg_model.double(), t_model.double()
    copy_weights(mg_model, t_model)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch_size, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch_size)
    mg_X, mg_y = minigrad.tensor(X, device=mg_dev), minigrad.tensor(y, device=mg_dev)
    t_X, t_y = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)

    def stepper(model, opt, loss_fn, X, y):
        def step():
            loss = loss_fn(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    return {"minigrad": stepper(mg_model, minigrad.optim.Adam(mg_model.parameters(), lr=1e-3),
                                minigrad.nn.CrossEntropyLoss(), mg_X, mg_y),
            "torch": stepper(t_model, torch.optim.Adam(t_model.parameters(), lr=1e-3),
                             torch.nn.CrossEntropyLoss(), t_X, t_y)}


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any timing starts."""
    p = common.base_parser(__doc__)
    p.set_defaults(rounds=10, warmup=2)
    p.add_argument("--iters", type=common.positive_int, default=200, help="training steps per timed round")
    p.add_argument("--sizes", type=common.positive_int, nargs="+", default=[4, 8, 3], help="layer widths of the MLP")
    p.add_argument("--batch-size", type=common.positive_int, default=1, help="samples per training step")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="floating-point type of data and parameters")
    return common.check(p, argv, "overhead")


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "overhead")
    steps = setup(args.device, tuple(args.sizes), args.batch_size, args.dtype)
    fns = {k: common.repeat(fn, args.iters) for k, fn in steps.items()}
    times = common.paired(fns, args.rounds, args.warmup, common.sync_for(args.device))
    res = common.summary(times, ref="torch")
    for row in res.values():  # per step, in microseconds
        row.update({k.replace("_s", "_us"): row[k] * 1e6 / args.iters for k in ("median_s", "min_s", "max_s")})
    mg = res["minigrad"]
    print(f"step ({'-'.join(map(str, args.sizes))} MLP, batch {args.batch_size}, Adam): "
          f"minigrad {mg['median_us']:.1f} us, torch {res['torch']['median_us']:.1f} us, "
          f"ratio {mg['ratio_median']:.2f} ({mg['ratio_min']:.2f}-{mg['ratio_max']:.2f})")
    common.write(common.out_name("overhead", args.device), {
        "command": cmd, "machine": info, "args": vars(args), "results": res, "times": times}, args.json)
    return res


if __name__ == "__main__":
    main()
