"""Fashion-MNIST FeedforwardNN 784-128-64-10 (ReLU, Dropout 0.2, cross-entropy): SGD as in the course, and Adam.

Course exercise: Normalize(0.5, 0.5), SGD lr 1e-3, batch 100, 100 epochs. This script defaults to 10 epochs
(SGD at lr 1e-3 is still climbing then: pass --epochs 100 for the course's run). --variant both (the default)
trains SGD (--lr) and Adam (--adam-lr) from the same initial weights and plots them side by side;
--variant single trains only --optimizer. Validation: 6,000 images held out of the training set (seeded);
test: the official 10,000. Writes metrics.json, curves.png, samples.png, prediction.png, confusion.png.
    python -m experiments.fashion_mnist --epochs 10 --out results/fashion_mnist
    python -m experiments.fashion_mnist --variant single --optimizer adam --epochs 5
    python -m experiments.fashion_mnist --variant tuned --out results/fashion_mnist_tuned   # TUNED below
"""
import time

import numpy as np

from experiments import common, runs

# ---- config: defaults from the course material -------------------------------------------------------------
CONFIG = dict(
    epochs=10,             # the course trains 100; 10 keeps a CPU run to minutes (see the docstring)
    course_epochs=100,
    batch_size=100,
    lr=1e-3,               # SGD, plain (no momentum), as in the course
    optimizer="sgd",
    variant="both",        # "both": SGD (lr) and Adam (adam_lr) side by side; "single": only `optimizer`
    adam_lr=1e-3,          # Adam's default
    dropout=0.2,
    normalize=(0.5, 0.5),  # transforms.Normalize((0.5,), (0.5,)): pixels in [-1, 1]
    n_val=6000,
    show_index=0,          # which validation image prediction.png shows
    seed=0,
    out="results/fashion_mnist",
)
# --variant tuned: beyond the course, a wide dropout MLP (the benchmark table's best MLP: 90.0%) under 1cycle
TUNED = dict(hidden=(1024, 1024), activation="relu", dropout_in=0.1, dropout=0.3, lr=0.1, momentum=0.9,
             schedule="onecycle", batch_size=128, epochs=25)


def run(cfg, argv=None):
    """Train each variant, evaluate on the test set; returns the metrics dict (also in cfg['out']/metrics.json).

    A checkpoint after every epoch in cfg['out']; cfg['resume'] continues from it (argv: for the resume hint)."""
    cfg = {**CONFIG, **cfg}
    from minigrad.data import FashionMNIST

    names = list(FashionMNIST.classes)
    E = common.Engine(cfg.get("engine", "minigrad"), cfg.get("backend", "numpy"), cfg.get("dtype", "float32"))
    E.seed(cfg["seed"])
    X_all, y_all, X_test, y_test = common.load_arrays("fashion_mnist", cfg.get("data_dir"),
                                                      normalize=tuple(cfg["normalize"]))
    tr, va = common.split_indices(len(X_all), cfg["n_val"], cfg["seed"])
    if cfg.get("limit"):
        tr = tr[: cfg["limit"]]
    dt = np.dtype(cfg.get("dtype", "float32"))
    data = dict(X_tr=E.tensor(X_all[tr].astype(dt)), y_tr=E.tensor(y_all[tr]),
                X_va=E.tensor(X_all[va].astype(dt)), y_va=E.tensor(y_all[va]),
                X_te=E.tensor(X_test.astype(dt)), y_te=E.tensor(y_test))

    if cfg["variant"] == "tuned":
        cfg.update({k: v for k, v in TUNED.items() if k not in cfg.get("explicit", ())})
        variants = [("tuned", cfg["lr"])]
    elif cfg["variant"] == "both":
        variants = [("sgd", cfg["lr"]), ("adam", cfg["adam_lr"])]
    else:
        variants = [(cfg["optimizer"], cfg["lr"])]
    init = E.model("feedforward", p=cfg["dropout"])  # every variant starts from these weights
    cfg["out"] = cfg.get("out") or CONFIG["out"]
    r = runs.Run(cfg, "fashion_mnist", E, argv)
    state = r.restore()
    results = dict(state["results"]) if state is not None else {}
    r.log_rows(_rows(results, state))
    with r.guard(lambda: {"config": _config(cfg), "variants": results}):
        for opt_name, lr in variants:
            if opt_name not in results:  # variants finished before the checkpoint are in it whole
                mine = state if state is not None and state["variant"] == opt_name else None
                results[opt_name] = train_variant(E, cfg, data, init, opt_name, lr, y_test, names, r, results, mine)
    results = {name: results[name] for name, _ in variants}

    metrics = {
        "config": _config(cfg),
        "note": f"trained {cfg['epochs']} epochs per variant; the course trains {cfg['course_epochs']}",
        "classes": names,
        "n_train": int(len(tr)), "n_val": int(len(va)), "n_test": int(len(y_test)),
        "variants": results,
    }
    out = common.out_dir(cfg, CONFIG["out"])
    plot_curves(results, f"{out}/curves.png")
    plot_samples(X_all[tr[:9]], y_all[tr[:9]], names, cfg["normalize"], f"{out}/samples.png")
    plot_prediction(results, X_all[va[cfg["show_index"]]], names, cfg["normalize"], f"{out}/prediction.png")
    plot_confusions(results, names, f"{out}/confusion.png")
    r.finish(metrics)
    return metrics


def _config(cfg):
    return {k: v for k, v in cfg.items() if k not in ("no_progress",) + runs.RUN_FLAGS}


def _rows(results, state=None):
    """metrics.csv rows: one per variant and epoch (finished variants, then the checkpoint's current one)."""
    hs = [(name, r["history"]) for name, r in results.items()]
    if state is not None:
        hs.append((state["variant"], state["history"]))
    return [{"variant": name, "epoch": i + 1, **{k: v[i] for k, v in h.items()}}
            for name, h in hs for i in range(len(h["train_loss"]))]


def train_variant(E, cfg, d, init, opt_name, lr, y_test, names, r, results, state=None):
    """Train one copy of `init` with optimizer opt_name; history per epoch, then test metrics.

    r: the run (checkpoint after every epoch, holding `results` of the variants before); state: this variant's
    checkpoint on --resume."""
    from minigrad.metrics import confusion_matrix
    from reference.convert import copy_weights

    loss_fn = E.nn.CrossEntropyLoss()
    sched = None
    if opt_name == "tuned":  # TUNED: its own MLP, SGD + Nesterov momentum under a per-batch schedule
        from experiments.mlp_build import build_mlp, make_scheduler

        model = build_mlp(E.nn, (784, *cfg["hidden"], 10), cfg["activation"], cfg["dropout"],
                          cfg["dropout_in"]).to(E.device)
        opt = E.optim.SGD(model.parameters(), lr=lr, momentum=cfg["momentum"], nesterov=True)
        n_steps = -(-int(d["X_tr"].shape[0]) // cfg["batch_size"])
        sched, _ = make_scheduler(E, cfg["schedule"], opt, cfg["epochs"], n_steps, lr)
    else:
        model = copy_weights(init, E.model("feedforward", p=cfg["dropout"]))
        opt = E.make_optimizer(opt_name, model.parameters(), lr)
    h = {k: [] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "train_running_loss",
                         "epoch_seconds")}
    n = int(d["X_tr"].shape[0])
    steps = -(-n // cfg["batch_size"])
    if state is not None:
        r.set_rng(state)  # now: building this variant's model above drew from the RNG before the checkpoint too
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None:
            sched.load_state_dict(state["scheduler"])
        h = state["history"]
    part = state if state is not None and "step" in state else None  # stopped part way through an epoch
    for epoch in range(state["epochs_done"] if state is not None else 0, cfg["epochs"]):
        order = common.epoch_order(n, cfg["seed"], epoch)
        losses, before = (list(part["step_losses"]), part["seconds"]) if part else ([], 0.0)
        part, t0 = None, time.perf_counter()

        def snapshot():  # the state at this step boundary: --resume goes on from the next batch, bit for bit
            return {"results": results, "variant": opt_name, "model": model.state_dict(),
                    "optimizer": opt.state_dict(), "scheduler": sched.state_dict() if sched is not None else None,
                    "history": h, "epochs_done": epoch, "step": len(losses),
                    "step_losses": [common.loss_value(v) for v in losses], "seconds": before + time.perf_counter() - t0,
                    "label": f"{opt_name} step {len(losses)} of {steps} in epoch {epoch + 1}"}

        bar = common.progress(steps, f"{opt_name} epoch {epoch + 1}/{cfg['epochs']}", not cfg.get("no_progress"))
        with common.Timer() as t:
            if sched is not None:
                from experiments.mlp_build import train_epoch

                step_losses = np.array([train_epoch(E, model, loss_fn, opt, d["X_tr"], d["y_tr"], order,
                                                    cfg["batch_size"], sched, at_step=lambda: r.step(snapshot),
                                                    losses=losses)])
            else:
                step_losses = common.train_epoch(E, model, loss_fn, opt, d["X_tr"], d["y_tr"], order,
                                                 cfg["batch_size"], bar, at_step=lambda: r.step(snapshot),
                                                 losses=losses)
            E.sync()
        seconds = before + t.seconds
        if bar is not None:
            bar.close()
        # train loss/accuracy re-measured in eval mode (no dropout) so they compare with validation;
        # the running loss is the mean over the epoch's steps, with dropout, as the course prints it
        tl, ta, _ = common.evaluate(E, model, loss_fn, d["X_tr"], d["y_tr"])
        vl, vacc, _ = common.evaluate(E, model, loss_fn, d["X_va"], d["y_va"])
        for k, v in zip(h, (tl, ta, vl, vacc, float(step_losses.mean()), seconds)):
            h[k].append(v)
        print(f"{opt_name:>5} epoch {epoch + 1:3d}  running loss {step_losses.mean():.4f}  "
              f"train loss {tl:.4f} acc {100 * ta:.2f}%  val loss {vl:.4f} acc {100 * vacc:.2f}%  ({seconds:.1f}s)")
        r.log({"variant": opt_name, "epoch": epoch + 1, **{k: v[-1] for k, v in h.items()}})
        r.checkpoint({"results": results, "variant": opt_name, "model": model.state_dict(),
                      "optimizer": opt.state_dict(), "scheduler": sched.state_dict() if sched is not None else None,
                      "history": h, "epochs_done": epoch + 1, "label": f"{opt_name} epoch {epoch + 1}"})
    r.save_model(model, f"model_{opt_name}")
    test_loss, test_acc, pred = common.evaluate(E, model, loss_fn, d["X_te"], d["y_te"])
    cm = confusion_matrix(y_test, pred, num_classes=len(names))
    print(f"{opt_name:>5} test loss {test_loss:.4f}  test accuracy {100 * test_acc:.2f}%")

    i = cfg["show_index"]
    logits = common.predict(E, model, d["X_va"][i:i + 1])
    p = softmax(logits[0].astype(np.float64))
    k, true = int(p.argmax()), int(E.numpy(d["y_va"][i:i + 1])[0])
    return {
        "optimizer": opt_name, "lr": lr, "history": h,
        "test": {"loss": test_loss, "accuracy": test_acc, "confusion_matrix": cm,
                 "per_class_accuracy": {names[c]: float(cm[c, c] / max(cm[c].sum(), 1)) for c in range(len(names))}},
        "example": {"val_index": i, "true": names[true], "predicted": names[k], "probability": float(p[k]),
                    "probabilities": p},
    }


def softmax(z):
    e = np.exp(z - z.max())  # shift by the max so exp cannot overflow
    return e / e.sum()


def _image(x, normalize):
    mean, std = normalize
    return (np.asarray(x).reshape(28, 28) * std + mean).clip(0, 1)  # undo Normalize for display


def plot_curves(results, path):
    plt = common.pyplot()
    fig, ax = plt.subplots(2, len(results), figsize=(5 * len(results), 7), squeeze=False)
    for j, (name, r) in enumerate(results.items()):
        h = r["history"]
        ep = np.arange(1, len(h["train_loss"]) + 1)
        ax[0, j].plot(ep, h["train_loss"], "o-", label="train")
        ax[0, j].plot(ep, h["val_loss"], "s-", label="validation")
        ax[0, j].plot(ep, h["train_running_loss"], ":", color="gray", label="train (running, dropout on)")
        ax[0, j].set(xlabel="epoch", ylabel="cross-entropy", title=f"{name} (lr {r['lr']:g}): loss")
        ax[1, j].plot(ep, 100 * np.array(h["train_accuracy"]), "o-", label="train")
        ax[1, j].plot(ep, 100 * np.array(h["val_accuracy"]), "s-", label="validation")
        ax[1, j].axhline(100 * r["test"]["accuracy"], color="k", ls="--", lw=1,
                         label=f"test {100 * r['test']['accuracy']:.2f}%")
        ax[1, j].set(xlabel="epoch", ylabel="accuracy (%)", title=f"{name}: accuracy")
        for a in ax[:, j]:
            a.legend(fontsize=8)
    return common.savefig(fig, path)


def plot_samples(X, y, names, normalize, path):
    plt = common.pyplot()
    fig, ax = plt.subplots(3, 3, figsize=(6, 6.5))
    for a, x, label in zip(ax.flat, X, y):
        a.imshow(_image(x, normalize), cmap="gray")
        a.set_title(names[int(label)], fontsize=9)
        a.axis("off")
    return common.savefig(fig, path)


def plot_prediction(results, x, names, normalize, path):
    plt = common.pyplot()
    fig, ax = plt.subplots(len(results), 2, figsize=(9, 3.2 * len(results)), squeeze=False)
    for i, (name, r) in enumerate(results.items()):
        ex = r["example"]
        ax[i, 0].imshow(_image(x, normalize), cmap="gray")
        ax[i, 0].set_title(f"{name}: predicted {ex['predicted']} ({100 * ex['probability']:.1f}%), "
                           f"true {ex['true']}", fontsize=9)
        ax[i, 0].axis("off")
        ax[i, 1].barh(range(len(names)), ex["probabilities"])
        ax[i, 1].set(yticks=range(len(names)), xlim=(0, 1), xlabel="softmax probability")
        ax[i, 1].set_yticklabels(names, fontsize=8)
        ax[i, 1].invert_yaxis()
    return common.savefig(fig, path)


def plot_confusions(results, names, path):
    plt = common.pyplot()
    fig, ax = plt.subplots(1, len(results), figsize=(6 * len(results), 5.5), squeeze=False)
    for a, (name, r) in zip(ax[0], results.items()):
        common.plot_confusion(a, r["test"]["confusion_matrix"], names,
                              f"{name}: test accuracy {100 * r['test']['accuracy']:.2f}%")
    return common.savefig(fig, path)


def parse_args(argv=None):
    """Every flag checked, and the machine (torch, GPU, --out), before any data is read."""
    parser = common.parser_for(__doc__, CONFIG)
    parser.add_argument("--variant", choices=["both", "single", "tuned"], default=CONFIG["variant"],
                        help="both: SGD (--lr) and Adam (--adam-lr) side by side; single: only --optimizer; "
                             f"tuned: {TUNED} (explicit --epochs/--lr/--batch-size win)")
    parser.add_argument("--adam-lr", type=common.positive_float, default=CONFIG["adam_lr"],
                        help="Adam's learning rate in --variant both")
    parser.add_argument("--n-val", type=common.int_in(1, 59999), default=CONFIG["n_val"],
                        help="training images held out for validation (seeded)")
    parser.add_argument("--show-index", type=common.nonnegative_int, default=CONFIG["show_index"],
                        help="which validation image prediction.png shows")
    runs.add_run_args(parser)
    args = common.parse(parser, argv)
    if args.show_index >= args.n_val:
        parser.error(f"argument --show-index: must be below --n-val {args.n_val}, got {args.show_index}")
    args.explicit = [f[2:].replace("-", "_") for f in common.explicit(argv, "--epochs", "--lr", "--batch-size")]
    return args


@common.cli
def main(argv=None):
    return run(common.config_from_args(parse_args(argv)), argv)


if __name__ == "__main__":
    main()
