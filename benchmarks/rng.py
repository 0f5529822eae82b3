"""The random draws of training, minigrad (torch's CPU streams on NumPy) vs torch's own, on the CPU.

dropout masks: the keep-masks of one training step of the course's dropout MLP (batch 100: input 784 at p=0.2,
hidden 500 and 300 at p=0.5), drawn as nn.Dropout draws them (bernoulli_(1 - p): a 64-bit word per unit).
shuffle: one epoch's DataLoader order over 60,000 images (torch's base seed, RandomSampler's seed, randperm).
Both give the same numbers (tests/test_random.py); times per call in microseconds, ratio minigrad/torch.
    python -m benchmarks.rng --rounds 10 --iters 20
"""
from benchmarks import common

SHAPES = [((100, 784), 0.2), ((100, 500), 0.5), ((100, 300), 0.5)]


def draw_pairs(n_shuffle=60000):
    """name -> (minigrad fn, torch fn): the same draws in both engines."""
    import torch

    import minigrad
    from minigrad import random as R
    from minigrad.data.loader import _permutation

    def mg_masks():
        for shape, p in SHAPES:
            R.bernoulli_keep(shape, p)

    def t_masks():
        for shape, p in SHAPES:
            torch.empty(shape).bernoulli_(1 - p)

    def mg_shuffle():
        R.random_words((), "int64")  # the loader iterator's base seed
        _permutation(n_shuffle, None, own_seed=True)

    def t_shuffle():
        torch.empty((), dtype=torch.int64).random_()
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        torch.randperm(n_shuffle, generator=torch.Generator().manual_seed(seed)).tolist()

    minigrad.manual_seed(0)
    torch.manual_seed(0)
    return {"dropout masks (one step)": (mg_masks, t_masks), "shuffle (one epoch, 60k)": (mg_shuffle, t_shuffle)}


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any timing starts."""
    p = common.base_parser(__doc__)
    p.set_defaults(rounds=10, warmup=2)
    p.add_argument("--iters", type=common.positive_int, default=20, help="calls per timed round")
    p.add_argument("--n", type=common.positive_int, default=60000, help="images shuffled")
    args = common.check(p, argv, "rng")
    if args.device != "cpu":
        p.error("--device cuda: this benchmark times torch's CPU streams; use --device cpu")
    return args


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "rng")
    results, times = {}, {}
    for name, (mg_fn, t_fn) in draw_pairs(args.n).items():
        fns = {"minigrad": common.repeat(mg_fn, args.iters), "torch": common.repeat(t_fn, args.iters)}
        times[name] = common.paired(fns, args.rounds, args.warmup)
        res = common.summary(times[name], ref="torch")
        for row in res.values():
            row.update({k.replace("_s", "_us"): row[k] * 1e6 / args.iters for k in ("median_s", "min_s", "max_s")})
        results[name] = res
        mg = res["minigrad"]
        print(f"{name:>26} minigrad {mg['median_us']:9.1f} us  torch {res['torch']['median_us']:9.1f} us  "
              f"ratio {mg['ratio_median']:.2f} ({mg['ratio_min']:.2f}-{mg['ratio_max']:.2f})")
    common.write(common.out_name("rng", args.device), {
        "command": cmd, "machine": info, "args": vars(args), "results": results, "times": times}, args.json)
    return results


if __name__ == "__main__":
    main()
