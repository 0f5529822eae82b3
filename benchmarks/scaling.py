"""Time per epoch against batch size and against hidden width: minigrad, torch and the GEMM floor.

Batch sweep: the 784-500-300-10 MLP (Adam, as benchmarks.epoch) over `--n` images at each batch size; batches
below `--small-below` run on only `--n-small` images (batch 1 over 6,000 images is slow) and their time is
scaled by n / n_small to a whole `--n`-image epoch (the JSON keeps the measured time and n_used).
Width sweep: a 784-h-h-10 MLP at `--width-batch` for each h in `--widths`.
Each point is its own paired run (warm-up, then rounds alternating engines; median, min-max; ratio to torch
pair by pair). Saves a two-panel log-log plot (GEMM floor dashed) and the JSON.
    python -m benchmarks.scaling --n 6000 --n-small 600
"""
import os

from benchmarks import common
from benchmarks.epoch import load_images, setup

ENGINES = ("minigrad", "torch", "gemm_floor")


def point(args, X, y, batch_size, sizes, n_used, sync):
    """One setting: paired timing on the first n_used images, times scaled to an epoch of args.n images."""
    fns = setup(args.device, X[:n_used], y[:n_used], batch_size, dtype=args.dtype, sizes=sizes)
    res = common.summary(common.paired(fns, args.rounds, args.warmup, sync), ref="torch")
    scale = args.n / n_used
    for row in res.values():
        row["epoch_s"] = row["median_s"] * scale
        row["epoch_min_s"], row["epoch_max_s"] = row["min_s"] * scale, row["max_s"] * scale
    out = {"batch_size": batch_size, "sizes": list(sizes), "n_used": n_used, "results": res}
    mg, t, g = (res[k] for k in ENGINES)
    print(f"  batch {batch_size:>5} sizes {'-'.join(map(str, sizes)):>16} (n={n_used:>6}): epoch minigrad "
          f"{mg['epoch_s']:.3f}s torch {t['epoch_s']:.3f}s gemm {g['epoch_s']:.3f}s  ratio {mg['ratio_median']:.2f}"
          f" ({mg['ratio_min']:.2f}-{mg['ratio_max']:.2f})")
    return out


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = [("batch", "batch_size", "batch size", "784-500-300-10"),
              ("width", None, "hidden width h", f"784-h-h-10, batch {result['args']['width_batch']}")]
    styles = {"minigrad": dict(marker="o"), "torch": dict(marker="s"), "gemm_floor": dict(ls="--", color="gray")}
    for ax, (key, xkey, xlabel, title) in zip(axes, panels):
        pts = result[key]
        xs = [p[xkey] if xkey else p["sizes"][1] for p in pts]
        for eng in ENGINES:
            ax.plot(xs, [p["results"][eng]["epoch_s"] for p in pts], label=eng.replace("_", " "), **styles[eng])
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=f"seconds per epoch of {result['args']['n']} images",
               title=title)
        ax.set_xticks(xs, [str(x) for x in xs], minor=False)
        ax.set_xticks([], minor=True)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    m = result["machine"]
    fig.suptitle(f"minigrad vs torch ({result['args']['device']}; {m.get('gpu') or m.get('cpu')}, {m['date']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any timing starts."""
    p = common.base_parser(__doc__)
    p.set_defaults(rounds=3, warmup=1)
    p.add_argument("--n", type=common.positive_int, default=6000, help="images per epoch")
    p.add_argument("--n-small", type=common.positive_int, default=600,
                   help="images actually run for batches below --small-below")
    p.add_argument("--small-below", type=common.positive_int, default=64,
                   help="batch sizes below this run only --n-small images")
    p.add_argument("--batch-sizes", type=common.positive_int, nargs="+", default=[1, 4, 16, 64, 256, 1024, 4096],
                   help="batch sizes of the batch sweep")
    p.add_argument("--widths", type=common.positive_int, nargs="+", default=[100, 200, 400, 800],
                   help="hidden widths of the width sweep")
    p.add_argument("--width-batch", type=common.positive_int, default=100, help="batch size of the width sweep")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="floating-point type of data and parameters")
    common.add_data_arg(p)
    p.add_argument("--plot", default=None, help="figure path (default benchmarks/scaling[_cuda].png)")
    p.add_argument("--no-plot", action="store_true", help="write no figure")
    return common.check(p, argv, "scaling")


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "scaling")
    X, y, source = load_images(args.n, source=args.data)
    sync = common.sync_for(args.device)
    print("batch-size sweep:")
    batch = [point(args, X, y, bs, (784, 500, 300, 10),
                   min(args.n, args.n_small) if bs < args.small_below else args.n, sync) for bs in args.batch_sizes]
    print("width sweep:")
    width = [point(args, X, y, args.width_batch, (784, h, h, 10), args.n, sync) for h in args.widths]
    name = common.out_name("scaling", args.device)
    result = {"command": cmd, "machine": info, "args": vars(args), "data": source, "batch": batch, "width": width}
    if not args.no_plot:
        path = args.plot or os.path.join(os.path.dirname(__file__), name + ".png")
        plot(result, path)
        result["plot"] = path
    common.write(name, result, args.json)
    return result


if __name__ == "__main__":
    main()
