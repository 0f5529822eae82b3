"""MNIST 1-vs-7 with BinaryNet 784-64-1 (LeakyReLU + Sigmoid): L1 loss against BCE from the same initial weights.

Course exercise: digits 1 and 7, positive class 7 (target 1.0 for a 7, 0.0 for a 1); the official test set's
1s and 7s split 50/50 (seeded, stratified) into validation and test; SGD lr 1e-3, batch 256, 51 epochs,
validation loss and accuracy every 5 epochs; then TP, TN, FP, FN, accuracy, precision and recall on test.
Writes metrics.json, curves.png and confusion.png to --out.
    python -m experiments.mnist_binary --out results/mnist_binary
    python -m experiments.mnist_binary --epochs 3 --lr 0.1 --limit 3000   # a quick look
    python -m experiments.mnist_binary --tuned --out results/mnist_binary_tuned   # TUNED below, not the course
"""
import time

import numpy as np

from experiments import common, runs

# ---- config: defaults from the course material -------------------------------------------------------------
CONFIG = dict(
    epochs=51,             # range(51): epochs 0..50, so the every-5 evaluation includes epoch 50
    batch_size=256,
    lr=1e-3,
    optimizer="sgd",
    digits=(1, 7),
    positive_class=7,      # target 1.0 for a 7, 0.0 for a 1
    losses=("l1", "bce"),  # both trained from the same initial weights
    eval_every=5,
    threshold=0.5,         # predict 7 when sigmoid output > 0.5
    val_fraction=0.5,      # of the test set's 1s and 7s, per class
    hidden=64,             # BinaryNet's hidden units
    seed=0,
    out="results/mnist_binary",
)
# --tuned: beyond the course recipe (97.1% at SGD lr 1e-3): BCE, Adam, smaller batches, 256 hidden units
TUNED = dict(losses=("bce",), optimizer="adam", lr=1e-3, batch_size=64, epochs=20, eval_every=1, hidden=256)
LOSS_NAMES = {"l1": ("L1Loss", "L1 loss |p - y|"), "bce": ("BCELoss", "binary cross-entropy")}


def run(cfg, argv=None):
    """Train one BinaryNet per loss; returns the metrics dict (also written to cfg['out']/metrics.json).

    A checkpoint after every epoch in cfg['out']; cfg['resume'] continues from it (argv: for the resume hint)."""
    cfg = {**CONFIG, **cfg}
    from minigrad.data import filter_by_labels, stratified_split

    E = common.Engine(cfg.get("engine", "minigrad"), cfg.get("backend", "numpy"), cfg.get("dtype", "float32"))
    E.seed(cfg["seed"])
    X_all, y_all, X_test, y_test = common.load_arrays("mnist", cfg.get("data_dir"))
    X_tr, d_tr = filter_by_labels((X_all, y_all), cfg["digits"])  # d_*: the digits themselves (1 or 7)
    X_te, d_te = filter_by_labels((X_test, y_test), cfg["digits"])
    va, te = stratified_split(d_te, cfg["val_fraction"], seed=cfg["seed"])
    if cfg.get("limit"):
        X_tr, d_tr = X_tr[: cfg["limit"]], d_tr[: cfg["limit"]]
    dt = np.dtype(cfg.get("dtype", "float32"))
    pos = cfg["positive_class"]

    def arrays(X, digits):
        y = E.tensor(digits)
        target = 1 * (y == pos).to(E.dtype)  # the course's line: float 0/1, then (N, 1) like the output
        return E.tensor(X.astype(dt)), target.view(-1, 1)

    data = {"train": arrays(X_tr, d_tr), "val": arrays(X_te[va], d_te[va]), "test": arrays(X_te[te], d_te[te])}
    t_test = (d_te[te] == pos).astype(np.int64)

    init = E.model("binary", hidden=cfg["hidden"])  # both losses start from these weights
    cfg["out"] = cfg.get("out") or CONFIG["out"]
    r = runs.Run(cfg, "mnist_binary", E, argv)
    state = r.restore()
    results = dict(state["results"]) if state is not None else {}
    r.log_rows(_rows(results, state))
    with r.guard(lambda: {"config": _config(cfg), "losses": results}):
        for name in cfg["losses"]:
            if name not in results:  # losses finished before the checkpoint are in it whole
                mine = state if state is not None and state["loss_name"] == name else None
                results[name] = train_one(E, cfg, data, init, name, t_test, r, results, mine)
    results = {name: results[name] for name in cfg["losses"]}
    metrics = {
        "config": _config(cfg),
        "task": f"digits {cfg['digits']}, positive class {pos} (target 1), BinaryNet 784-{cfg['hidden']}-1",
        "n_train": int(len(d_tr)), "n_val": int(len(va)), "n_test": int(len(te)),
        "class_counts": {"train_pos": int((d_tr == pos).sum()), "train_neg": int((d_tr != pos).sum()),
                         "test_pos": int(t_test.sum()), "test_neg": int((t_test == 0).sum())},
        "losses": results,
    }
    out = common.out_dir(cfg, CONFIG["out"])
    plot_curves(results, f"{out}/curves.png")
    plot_confusions(results, cfg, f"{out}/confusion.png")
    r.finish(metrics)
    return metrics


def _config(cfg):
    return {k: v for k, v in cfg.items() if k not in ("no_progress",) + runs.RUN_FLAGS}


def _rows(results, state=None):
    """metrics.csv rows: one per loss and epoch (validation columns empty where not measured)."""
    hs = [(name, r["history"]) for name, r in results.items()]
    if state is not None:
        hs.append((state["loss_name"], state["history"]))
    return [_row(name, h, i) for name, h in hs for i in range(len(h["train_loss"]))]


def _row(name, h, epoch):
    val = dict(zip(h["epoch"], zip(h["val_loss"], h["val_accuracy"]))).get(epoch, ("", ""))
    return {"loss": name, "epoch": epoch, "train_loss": h["train_loss"][epoch], "val_loss": val[0],
            "val_accuracy": val[1]}


def evaluate_binary(E, model, loss_fn, X, target, threshold):
    """(mean loss, accuracy, predicted 0/1 labels) of a sigmoid-output model on (X, target (N, 1))."""
    model.eval()
    with E.lib.no_grad():
        p = model(X)
        loss = float(loss_fn(p, target).item())
    pred = (E.numpy(p)[:, 0] > threshold).astype(np.int64)
    return loss, float((pred == E.numpy(target)[:, 0]).mean()), pred


def train_one(E, cfg, data, init, loss_name, t_test, r, results, state=None):
    """Train a copy of `init` with loss loss_name ('l1' or 'bce'); history and test counts.

    r: the run (checkpoint after every epoch, holding `results` of the losses before); state: this loss's
    checkpoint on --resume."""
    from minigrad.metrics import binary_counts, confusion_matrix, f1_score, precision, recall
    from reference.convert import copy_weights

    model = copy_weights(init, E.model("binary", hidden=cfg["hidden"]))
    loss_fn = getattr(E.nn, LOSS_NAMES[loss_name][0])()
    opt = E.make_optimizer(cfg["optimizer"], model.parameters(), cfg["lr"])
    X, t = data["train"]
    n = int(X.shape[0])
    steps = -(-n // cfg["batch_size"])
    h = {"epoch": [], "val_loss": [], "val_accuracy": [], "train_loss": []}
    seconds = 0.0
    if state is not None:
        r.set_rng(state)  # now: building this loss's model above drew from the RNG before the checkpoint too
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        h, seconds = state["history"], state["seconds"]
    part = state if state is not None and "step" in state else None  # stopped part way through an epoch
    for epoch in range(state["epochs_done"] if state is not None else 0, cfg["epochs"]):
        order = common.epoch_order(n, cfg["seed"], epoch)
        losses, part, t0 = (list(part["step_losses"]) if part else []), None, time.perf_counter()

        def snapshot():  # the state at this step boundary: --resume goes on from the next batch, bit for bit
            return {"results": results, "loss_name": loss_name, "model": model.state_dict(),
                    "optimizer": opt.state_dict(), "history": h, "seconds": seconds + time.perf_counter() - t0,
                    "epochs_done": epoch, "step": len(losses), "step_losses": [common.loss_value(v) for v in losses],
                    "label": f"{loss_name} step {len(losses)} of {steps} in epoch {epoch}"}

        bar = common.progress(steps, f"{loss_name} epoch {epoch}/{cfg['epochs'] - 1}", not cfg.get("no_progress"))
        with common.Timer() as tm:
            step_losses = common.train_epoch(E, model, loss_fn, opt, X, t, order, cfg["batch_size"], bar,
                                             at_step=lambda: r.step(snapshot), losses=losses)
            E.sync()
        seconds += tm.seconds
        if bar is not None:
            bar.close()
        h["train_loss"].append(float(step_losses.mean()))
        if epoch % cfg["eval_every"] == 0 or epoch == cfg["epochs"] - 1:
            vl, vacc, _ = evaluate_binary(E, model, loss_fn, *data["val"], cfg["threshold"])
            h["epoch"].append(epoch)
            h["val_loss"].append(vl)
            h["val_accuracy"].append(vacc)
            print(f"{loss_name:>3} epoch {epoch:3d}  train loss {step_losses.mean():.4f}  "
                  f"val loss {vl:.4f}  val accuracy {100 * vacc:.2f}%")
        r.log(_row(loss_name, h, epoch))
        r.checkpoint({"results": results, "loss_name": loss_name, "model": model.state_dict(),
                      "optimizer": opt.state_dict(), "history": h, "seconds": seconds, "epochs_done": epoch + 1,
                      "label": f"{loss_name} epoch {epoch}"})
    r.save_model(model, f"model_{loss_name}")
    test_loss, test_acc, pred = evaluate_binary(E, model, loss_fn, *data["test"], cfg["threshold"])
    c = binary_counts(t_test, pred, pos_label=1)
    test = {"loss": test_loss, "accuracy": test_acc, "tp": c.tp, "tn": c.tn, "fp": c.fp, "fn": c.fn,
            "precision": precision(t_test, pred), "recall": recall(t_test, pred), "f1": f1_score(t_test, pred),
            "confusion_matrix": confusion_matrix(t_test, pred, num_classes=2)}
    print(f"{loss_name:>3} test: TP {c.tp} TN {c.tn} FP {c.fp} FN {c.fn}  accuracy {100 * test_acc:.2f}%  "
          f"precision {test['precision']:.4f}  recall {test['recall']:.4f}")
    return {"loss": LOSS_NAMES[loss_name][1], "history": h, "test": test, "train_seconds": seconds}


def plot_curves(results, path):
    plt = common.pyplot()
    fig, ax = plt.subplots(1, len(results) + 1, figsize=(5 * (len(results) + 1), 4))
    for a, (name, r) in zip(ax, results.items()):
        h = r["history"]
        a.plot(np.arange(len(h["train_loss"])), h["train_loss"], "-", label="train (mean over epoch)")
        a.plot(h["epoch"], h["val_loss"], "o-", label="validation")
        a.set(xlabel="epoch", ylabel=name, title=f"{r['loss']}")
        a.legend()
    for name, r in results.items():
        ax[-1].plot(r["history"]["epoch"], 100 * np.array(r["history"]["val_accuracy"]), "o-",
                    label=f"{name} (test {100 * r['test']['accuracy']:.2f}%)")
    ax[-1].set(xlabel="epoch", ylabel="validation accuracy (%)", title="1 vs 7: validation accuracy")
    ax[-1].legend()
    return common.savefig(fig, path)


def plot_confusions(results, cfg, path):
    plt = common.pyplot()
    fig, ax = plt.subplots(1, len(results), figsize=(4.5 * len(results), 4), squeeze=False)
    neg = [d for d in cfg["digits"] if d != cfg["positive_class"]][0]
    names = [f"{neg} (neg)", f"{cfg['positive_class']} (pos)"]
    for a, (name, r) in zip(ax[0], results.items()):
        tst = r["test"]
        common.plot_confusion(a, tst["confusion_matrix"], names,
                              f"{name}: acc {100 * tst['accuracy']:.2f}%  P {tst['precision']:.3f}  "
                              f"R {tst['recall']:.3f}")
    return common.savefig(fig, path)


def parse_args(argv=None):
    """Every flag checked, and the machine (torch, GPU, --out), before any data is read."""
    parser = common.parser_for(__doc__, CONFIG)
    parser.add_argument("--losses", nargs="+", choices=["l1", "bce"], default=list(CONFIG["losses"]),
                        help="losses to train, each from the same initial weights")
    parser.add_argument("--eval-every", type=common.positive_int, default=CONFIG["eval_every"],
                        help="validation loss and accuracy every N epochs")
    parser.add_argument("--hidden", type=common.positive_int, default=CONFIG["hidden"], help="hidden units")
    parser.add_argument("--tuned", action="store_true", help=f"TUNED defaults: {TUNED}")
    runs.add_run_args(parser)
    args = common.parse(parser, argv)
    if args.tuned:  # TUNED replaces the course defaults; flags given explicitly still win
        parser.set_defaults(**{k: list(v) if isinstance(v, tuple) else v for k, v in TUNED.items()})
        args = common.parse(parser, argv)
    return args


@common.cli
def main(argv=None):
    return run(common.config_from_args(parse_args(argv)), argv)


if __name__ == "__main__":
    main()
