"""One trial of the MLP study: train one configuration with one seed, validation error after every epoch.

`run_trial(config, report)` depends only on `config` (seed included): the same numbers alone or inside a Ray
Tune sweep. `report(metrics, state)` receives {"epoch", "val_error", "train_loss"} after each epoch and state(),
the trial's whole state then (model, optimizer, RNG, curve: Tune's checkpoint); `run_trial(config, state=...)`
continues from such a state and ends with the numbers of a trial never stopped, bit for bit.
"""
import time

import numpy as np

from experiments import common
from experiments.mlp_build import build_mlp

_DATA = {}  # per process: a Ray worker runs many trials, the IDX files are read once


def _arrays(data_dir):
    if data_dir not in _DATA:
        _DATA[data_dir] = common.load_arrays("mnist", data_dir)
    return _DATA[data_dir]


def make_optimizer(E, params, cfg):
    """The study's optimizer names -> engine optimizers (sgd_momentum: SGD with momentum 0.9)."""
    name, lr, wd = cfg["optimizer"], cfg["lr"], cfg.get("weight_decay", 0.0)
    kw = {"weight_decay": wd} if wd else {}
    if name == "sgd_momentum":
        return E.optim.SGD(params, lr=lr, momentum=0.9, **kw)
    return E.make_optimizer(name, params, lr, **kw)


def run_trial(cfg, report=None, state=None):
    """Train cfg (see mlp_study.CONFIG), from `state` (a report's state()) when given; returns the trial's row
    (best/last validation error, epochs, seconds)."""
    t0 = time.perf_counter()
    E = common.Engine("minigrad", "numpy", "float32")
    E.seed(cfg["seed"])
    X_all, y_all, _, _ = _arrays(cfg.get("data_dir"))
    # the course's 54,000/6,000 split is fixed (split_seed), so seeds vary only the weights and batch order
    tr, va = common.split_indices(len(X_all), cfg["n_val"], cfg["split_seed"])
    if cfg.get("subset"):
        tr = tr[: cfg["subset"]]
    X_tr, y_tr = E.tensor(X_all[tr]), E.tensor(y_all[tr])
    X_va, y_va = E.tensor(X_all[va]), E.tensor(y_all[va])
    reg = cfg["regularisation"]
    model = build_mlp(E.nn, (784, *cfg["hidden"], 10), cfg["activation"],
                      dropout=cfg["dropout"] if reg == "dropout" else 0.0, batchnorm=reg == "batchnorm")
    wd = cfg["weight_decay"] if reg == "weight_decay" else 0.0
    opt = make_optimizer(E, model.parameters(), {**cfg, "weight_decay": wd})
    loss_fn = E.nn.CrossEntropyLoss()
    curve, best, bad, before = [], float("inf"), 0, 0.0
    if state is not None:  # after building the model: its initial weights drew from the RNG the state puts back
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        E.lib.set_rng_state(state["rng"])  # dropout masks go on as they would have
        curve, best, bad, before = list(state["curve"]), state["best"], state["bad"], state["seconds"]
    stopped_by_patience = False
    for epoch in range(len(curve), cfg["epochs"]):
        order = common.epoch_order(len(tr), cfg["seed"], epoch)
        losses = common.train_epoch(E, model, loss_fn, opt, X_tr, y_tr, order, cfg["batch_size"])
        val_error = 1.0 - common.evaluate(E, model, loss_fn, X_va, y_va)[1]
        curve.append(val_error)
        if val_error < best:
            best, bad = val_error, 0
        else:
            bad += 1
        if report is not None:
            report({"epoch": epoch + 1, "val_error": val_error, "train_loss": float(np.mean(losses))},
                   lambda: {"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": E.lib.get_rng_state(),
                            "curve": curve, "best": best, "bad": bad, "seconds": before + time.perf_counter() - t0})
        if cfg["stopping"] == "early" and bad >= cfg["patience"]:
            stopped_by_patience = True
            break
    return {"best_val_error": min(curve), "last_val_error": curve[-1], "epochs_run": len(curve),
            "val_curve": curve, "stopped_by_patience": stopped_by_patience,
            "seconds": before + time.perf_counter() - t0}
