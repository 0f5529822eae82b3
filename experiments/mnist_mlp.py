"""MNIST MLP 784-500-300-10 (ReLU, cross-entropy, Adam): train/validation error per epoch, test error with its 95% CI.

Course Ex. 1 and Ex. 3: 54,000/6,000 split of the official training set, error curves, then the final test
error on the official 10,000 test images with a 95% confidence interval (Wilson score).
    python -m experiments.mnist_mlp --epochs 20 --out results/mnist_mlp
"""
import itertools
import time

import numpy as np

from experiments import common, runs

# ---- config: defaults from the course material -------------------------------------------------------------
CONFIG = dict(
    epochs=20,             # the course trains 20 epochs
    batch_size=100,
    lr=1e-3,               # Adam's default
    optimizer="adam",
    n_val=6000,            # 54,000 train / 6,000 validation
    sizes=(784, 500, 300, 10),
    weight_decay=0.0,      # LeCun's 1.53% used weight decay; the course does not
    seed=0,
    out="results/mnist_mlp",
)


def run(cfg, argv=None):
    """Train and evaluate; returns the metrics dict (also written to cfg['out']/metrics.json).

    A checkpoint after every epoch in cfg['out']; cfg['resume'] continues from it (argv: for the resume hint)."""
    cfg = {**CONFIG, **cfg}
    from minigrad.metrics import error_rate_ci

    E = common.Engine(cfg.get("engine", "minigrad"), cfg.get("backend", "numpy"), cfg.get("dtype", "float32"))
    E.seed(cfg["seed"])
    X_all, y_all, X_test, y_test = common.load_arrays("mnist", cfg.get("data_dir"))
    tr, va = common.split_indices(len(X_all), cfg["n_val"], cfg["seed"])
    if cfg.get("limit"):
        tr = tr[: cfg["limit"]]
    dt = np.dtype(cfg.get("dtype", "float32"))
    X_tr, y_tr = E.tensor(X_all[tr].astype(dt)), E.tensor(y_all[tr])
    X_va, y_va = E.tensor(X_all[va].astype(dt)), E.tensor(y_all[va])
    X_te, y_te = E.tensor(X_test.astype(dt)), E.tensor(y_test)

    model = E.model("mlp", sizes=tuple(cfg["sizes"]))
    loss_fn = E.nn.CrossEntropyLoss()
    opt = E.make_optimizer(cfg["optimizer"], model.parameters(), cfg["lr"],
                           **({"weight_decay": cfg["weight_decay"]} if cfg["weight_decay"] else {}))
    train_loader = E.loader(X_tr, y_tr, cfg["batch_size"], cfg["seed"])  # shuffled anew each epoch
    history = {"train_loss": [], "train_error": [], "val_loss": [], "val_error": [], "epoch_seconds": []}
    cfg["out"] = cfg.get("out") or CONFIG["out"]
    r = runs.Run(cfg, "mnist_mlp", E, argv)
    state = r.restore()  # after everything that draws random numbers: the RNG continues from the checkpoint
    if state is not None:
        r.set_rng(state)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        train_loader.sampler.epoch, history = state["sampler_epoch"], state["history"]
    r.log_rows(_rows(history))
    with r.guard(lambda: {"config": _config(cfg), "history": history}):
        for epoch in range(r.epochs_done, cfg["epochs"]):
            _epoch(E, cfg, r, epoch, model, loss_fn, opt, train_loader, (X_tr, y_tr, X_va, y_va), history, state)
            state = None
    test_loss, test_acc, pred = common.evaluate(E, model, loss_fn, X_te, y_te)
    n_err = int((pred != y_test).sum())
    rate, lo, hi = error_rate_ci(n_err, len(y_test), 0.95, method="wilson")
    metrics = {
        "config": _config(cfg),
        "history": history,
        "test": {"loss": test_loss, "accuracy": test_acc, "errors": n_err, "n": len(y_test),
                 "error_rate": rate, "ci95_wilson": [lo, hi]},
        "best_val_error": min(history["val_error"]) if history["val_error"] else None,
        "median_epoch_seconds": float(np.median(history["epoch_seconds"])) if history["epoch_seconds"] else None,
    }
    print(f"test error {100 * rate:.2f}%  95% CI [{100 * lo:.2f}%, {100 * hi:.2f}%]  ({n_err}/{len(y_test)})")
    out = common.out_dir(cfg, CONFIG["out"])
    r.save_model(model)
    plot(history, f"{out}/error_curves.png", metrics["test"])
    r.finish(metrics)
    return metrics


def _config(cfg):
    return {k: v for k, v in cfg.items() if k not in ("no_progress",) + runs.RUN_FLAGS}


def _rows(history):
    n = len(history["train_loss"])
    return [{"epoch": i + 1, **{k: v[i] for k, v in history.items()}} for i in range(n)]


def _epoch(E, cfg, r, epoch, model, loss_fn, opt, train_loader, data, history, state=None):
    """One epoch: train, measure, then the row in metrics.csv and the checkpoint.

    state: a checkpoint written part way through this epoch (its "step"): the epoch goes on after that step."""
    X_tr, y_tr, X_va, y_va = data
    part = state if state is not None and "step" in state else None
    done, before = (part["step"], part["seconds"]) if part else (0, 0.0)
    n_steps, t0 = len(train_loader), time.perf_counter()

    def snapshot():  # the state at this step boundary: --resume goes on from the next batch, bit for bit
        return {"model": model.state_dict(), "optimizer": opt.state_dict(), "history": history,
                "sampler_epoch": epoch, "epochs_done": epoch, "step": done,
                "seconds": before + time.perf_counter() - t0, "label": f"step {done} of {n_steps} in epoch {epoch + 1}"}

    model.train()
    with common.Timer() as t:
        batches = iter(train_loader)       # draws the loader's base seed from the RNG, as torch's does
        if part is not None:
            r.set_rng(part)                # so the RNG is put back after that draw
            batches = itertools.islice(batches, done, None)  # the same order (seed, epoch): skip the steps done
        for x, y in common.progress(batches, f"epoch {epoch + 1}/{cfg['epochs']}", not cfg.get("no_progress")):
            r.step(snapshot)               # a Ctrl-C stops here, between steps
            out = model(x)                 # forward
            loss = loss_fn(out, y)         # mean cross-entropy of the batch
            opt.zero_grad()
            loss.backward()                # every parameter's .grad
            opt.step()                     # Adam's update
            done += 1
        E.sync()
    seconds = before + t.seconds
    tl, ta, _ = common.evaluate(E, model, loss_fn, X_tr, y_tr)
    vl, vacc, _ = common.evaluate(E, model, loss_fn, X_va, y_va)
    for k, v in zip(history, (tl, 1 - ta, vl, 1 - vacc, seconds)):
        history[k].append(v)
    print(f"epoch {epoch + 1:3d}  train loss {tl:.4f} err {100 * (1 - ta):.2f}%  "
          f"val loss {vl:.4f} err {100 * (1 - vacc):.2f}%  ({seconds:.1f}s)")
    r.log(_rows(history)[-1])
    r.checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(), "history": history,
                  "sampler_epoch": train_loader.sampler.epoch, "epochs_done": epoch + 1})


def plot(history, path, test):
    plt = common.pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ep = np.arange(1, len(history["train_error"]) + 1)
    ax[0].plot(ep, 100 * np.array(history["train_error"]), "o-", label="train")
    ax[0].plot(ep, 100 * np.array(history["val_error"]), "s-", label="validation")
    ax[0].axhline(100 * test["error_rate"], color="k", ls="--", lw=1,
                  label=f"test {100 * test['error_rate']:.2f}% (95% CI {100 * test['ci95_wilson'][0]:.2f}"
                        f"–{100 * test['ci95_wilson'][1]:.2f}%)")
    ax[0].set(xlabel="epoch", ylabel="error (%)", title="MNIST 784-500-300-10: error", yscale="log")
    ax[0].legend()
    ax[1].plot(ep, history["train_loss"], "o-", label="train")
    ax[1].plot(ep, history["val_loss"], "s-", label="validation")
    ax[1].set(xlabel="epoch", ylabel="cross-entropy", title="loss", yscale="log")
    ax[1].legend()
    return common.savefig(fig, path)


def parse_args(argv=None):
    """Every flag checked, and the machine (torch, GPU, --out), before any data is read."""
    parser = common.parser_for(__doc__, CONFIG)
    parser.add_argument("--weight-decay", type=common.nonnegative_float, default=CONFIG["weight_decay"],
                        help="L2 penalty in the optimizer")
    parser.add_argument("--n-val", type=common.int_in(1, 59999), default=CONFIG["n_val"],
                        help="training images held out for validation (seeded)")
    runs.add_run_args(parser)
    return common.parse(parser, argv)


@common.cli
def main(argv=None):
    return run(common.config_from_args(parse_args(argv)), argv)


if __name__ == "__main__":
    main()
