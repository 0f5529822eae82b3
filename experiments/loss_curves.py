"""BCE, L1 and squared error, and their gradients dL/dp, as the prediction p moves from 0 to 1 (target 0).

Each loss is computed by autograd (p a leaf with requires_grad, loss.backward()) in the chosen engine
(minigrad by default) and checked against torch: the largest absolute differences are printed and stored,
and the run fails (AssertionError) if they differ beyond torch.testing.assert_close's defaults.
BCE's p runs over the open interval (0, 1): at p = 1 torch clamps log(0) to -100 and its gradient is 1/1e-12.
Writes metrics.json, losses.png and gradients.png to --out.
    python -m experiments.loss_curves --out results/loss_curves
"""
import numpy as np

from experiments import common

# ---- config: defaults from the course material -------------------------------------------------------------
CONFIG = dict(
    points=201,            # p = 0, 0.005, ..., 1 (BCE drops both ends)
    target=0.0,            # the course's plot: what each loss charges for predicting p when the truth is 0
    dtype="float32",
    seed=0,
    out="results/loss_curves",
)
# name -> (functional name, label, closed interval?, analytic loss and gradient for target y)
LOSSES = {
    "bce": ("binary_cross_entropy", "BCE  -[y log p + (1-y) log(1-p)]", False,
            lambda p, y: -(y * np.log(p) + (1 - y) * np.log1p(-p)), lambda p, y: (p - y) / (p * (1 - p))),
    "l1": ("l1_loss", "L1  |p - y|", True, lambda p, y: np.abs(p - y), lambda p, y: np.sign(p - y)),
    "mse": ("mse_loss", "squared error  (p - y)^2", True, lambda p, y: (p - y) ** 2, lambda p, y: 2 * (p - y)),
}


def grid(points, closed):
    p = np.linspace(0.0, 1.0, points)
    return p if closed else p[1:-1]


def loss_and_grad(E, name, p_host, target, dtype):
    """(per-point loss, dloss/dp) in engine E by autograd, as host float64 arrays."""
    fn = getattr(E.F, LOSSES[name][0])
    p = E.tensor(p_host.astype(dtype)).requires_grad_()
    y = E.tensor(np.full(p_host.shape, target, dtype=dtype))
    values = fn(p, y, reduction="none")
    loss = values.sum()  # each term depends on its own p_i only, so d(sum)/dp_i = dl_i/dp_i
    loss.backward()
    return E.numpy(values).astype(np.float64), E.numpy(p.grad).astype(np.float64)


def run(cfg):
    """Compute the curves in cfg's engine and in torch, compare them; returns the metrics dict."""
    cfg = {**CONFIG, **cfg}
    import torch

    dt = np.dtype(cfg["dtype"])
    E = common.Engine(cfg.get("engine", "minigrad"), cfg.get("backend", "numpy"), cfg["dtype"])
    T = common.Engine("torch", cfg.get("backend", "numpy"), cfg["dtype"])
    curves, failures = {}, []
    for name, (_, label, closed, f, df) in LOSSES.items():
        p = grid(cfg["points"], closed)
        value, grad = loss_and_grad(E, name, p, cfg["target"], dt)
        t_value, t_grad = loss_and_grad(T, name, p, cfg["target"], dt)
        p_eval = p.astype(dt).astype(np.float64)  # the p the engines actually saw
        with np.errstate(divide="ignore"):
            a_value, a_grad = f(p_eval, cfg["target"]), df(p_eval, cfg["target"])
        row = {"label": label, "p": p_eval, "loss": value, "grad": grad,
               "max_abs_diff_torch": {"loss": float(np.abs(value - t_value).max()),
                                      "grad": float(np.abs(grad - t_grad).max())},
               "max_abs_diff_formula": {"loss": float(np.abs(value - a_value).max()),
                                        "grad": float(np.abs(grad - a_grad).max())}}
        for what, mine, ref in (("loss", value, t_value), ("grad", grad, t_grad)):
            try:  # in the computation dtype, so assert_close applies that dtype's default tolerances
                torch.testing.assert_close(torch.from_numpy(mine.astype(dt)), torch.from_numpy(ref.astype(dt)))
            except AssertionError as e:
                failures.append(f"{name} {what}: {e}")
        row["matches_torch"] = not any(s.startswith(f"{name} ") for s in failures)
        curves[name] = row
        d, fd = row["max_abs_diff_torch"], row["max_abs_diff_formula"]
        print(f"{name:>4}: p in [{p_eval[0]:.3f}, {p_eval[-1]:.3f}] ({len(p)} points)  max |{E.name} - torch|: "
              f"loss {d['loss']:.3g}, grad {d['grad']:.3g}   max |{E.name} - formula|: loss {fd['loss']:.3g}, "
              f"grad {fd['grad']:.3g}")

    metrics = {
        "config": dict(cfg),
        "engine": E.name,
        "tolerance": "torch.testing.assert_close defaults for " + cfg["dtype"],
        "all_match_torch": not failures,
        "failures": failures,
        "curves": curves,
    }
    out = common.out_dir(cfg, CONFIG["out"])
    common.write_json(f"{out}/metrics.json", metrics)
    plot(curves, cfg["target"], "loss", f"{out}/losses.png", E.name)
    plot(curves, cfg["target"], "grad", f"{out}/gradients.png", E.name)
    if failures:  # after writing the files, so the numbers that failed can be inspected
        raise AssertionError(f"{E.name} differs from torch beyond assert_close defaults:\n" + "\n".join(failures))
    print(f"all curves match torch (assert_close defaults, {cfg['dtype']})")
    return metrics


def plot(curves, target, what, path, engine):
    plt = common.pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, c in curves.items():
        ax.plot(c["p"], c[what], label=c["label"])
    if what == "loss":
        ax.set(xlabel="prediction p", ylabel="loss", ylim=(-0.05, 5), title=f"losses for target y = {target:g}")
    else:  # BCE's gradient 1/(1-p) grows without bound as p -> 1: clip the view, not the data
        ax.set(xlabel="prediction p", ylabel="dL/dp", ylim=(-0.5, 10),
               title=f"gradients dL/dp for target y = {target:g} ({engine} autograd)")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend()
    return common.savefig(fig, path)


def parse_args(argv=None):
    """Every flag checked, and the machine (torch, GPU, --out), before any work starts."""
    parser = common.parser_for(__doc__, CONFIG, training=False)
    parser.add_argument("--points", type=common.positive_int, default=CONFIG["points"],
                        help="points on each curve")
    parser.add_argument("--target", type=float, default=CONFIG["target"], choices=[0.0, 1.0],
                        help="the label the curves are drawn for")
    return common.parse(parser, argv, uses_torch=True)


@common.cli
def main(argv=None):
    return run(common.config_from_args(parse_args(argv)))


if __name__ == "__main__":
    main()
