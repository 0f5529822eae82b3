"""Whole-run parity: minigrad and torch train the same model side by side and must agree at every step.

Same initial weights (copied from minigrad into torch), the same batches in the same order, and the same
dropout masks (drawn once, handed to both engines). float64: every step's loss agrees to 1e-9 relative.
float32: at every `check_every`-th step, torch recomputes the gradients from minigrad's exact state and they
must agree within torch.testing.assert_close's float32 defaults; final test accuracies agree within 0.2 points;
and over the whole run the loss curves stay within the band that float32 rounding itself opens: two float32
runs drift apart chaotically after a few hundred steps, so the band is calibrated in the same run by torch's own
float32-vs-float64 drift (`band_factor` x max |L_torch32 - L_torch64| on `band_window`-step means; needs the
float64 run of the same model, which `--dtypes float64,float32` provides). One float32 run is one draw of that
chaotic drift (four draws of torch's, 2026-12-02: 0.80e-3 to 1.30e-3 on mlp-adam; minigrad's: 0.61e-3 to
1.97e-3), so torch trains `band_realizations` float32 runs in the same lockstep, each from the same weights
with 1 ulp added to 1% of them (another rounding realization), and the band uses the largest drift among them.
    python -m experiments.parity --runs mlp-adam,ffn-sgd --dtypes float64,float32 --epochs 1
--from-seed (experiments/parity_seed.py): no weights copied, no masks replayed; each engine starts from the
seed, shuffles with its own DataLoader and draws its own dropout masks; float64 agrees to 1e-12 at every step.
    python -m experiments.parity --from-seed --runs ffn-sgd,mlp-adam --dtypes float64 --epochs 1
"""
import argparse

import numpy as np

from experiments import common, parity_seed

# ---- config --------------------------------------------------------------------------------------------------
CONFIG = dict(
    runs="mlp-adam,ffn-sgd",   # which of RUNS to train
    dtypes="float64,float32",
    epochs=1,
    batch_size=100,
    lr=None,                   # None: each run's course default
    optimizer=None,            # None: each run's course default
    seed=0,
    n_val=6000,                # 54,000 training images, as the course's split
    check_every=50,            # float32: recompute gradients in torch from minigrad's state every N steps
    rtol64=1e-9,               # float64: per-step loss, relative
    from_seed=False,           # True: both engines from the seed alone (own init, shuffles, dropout masks)
    rtol_seed64=1e-12,         # ... and then float64 per-step losses agree to this, relative
    band_factor=2.0,           # float32: engines' drift <= 2 x torch's own float32-vs-float64 drift ...
    band_window=20,            # ... compared on 20-step means of the training loss ...
    band_realizations=3,       # ... the largest of this many torch float32 runs (1-ulp-perturbed starts)
    acc_points=0.2,            # float32: final test accuracies within this many percentage points
    out="results/parity",
)

RUNS = {
    "mlp-adam": dict(model="mlp", data="mnist", normalize=None, optimizer="adam", lr=1e-3),
    "ffn-sgd": dict(model="feedforward", data="fashion-mnist", normalize=(0.5, 0.5), optimizer="sgd", lr=1e-3),
}


class MaskTape:
    """Dropout keep-masks drawn once (seeded) by the first engine, replayed in the same order to the others."""

    def __init__(self, seed, p):
        self.rng, self.p = np.random.default_rng(seed), p
        self.step_masks = []

    def draw(self, shape, backend=None):
        keep = self.rng.random(shape, dtype=np.float32) >= self.p
        self.step_masks.append(keep)
        return keep

    def replayer(self):
        """A callable handing out this step's masks in the order they were drawn."""
        it = iter(list(self.step_masks))
        return lambda shape, backend=None: next(it)


def _install_masks(E, model, tape):
    """Route every Dropout of `model` through the tape: minigrad draws, torch replays."""
    if E.name == "minigrad":
        for m in model.modules():
            if isinstance(m, E.nn.Dropout):
                m.mask_fn = tape.draw
        return None
    import torch

    class ReplayDropout(torch.nn.Module):
        """torch twin of minigrad's dropout with a given mask: x * (keep / (1 - p))."""

        def __init__(self, p):
            super().__init__()
            self.p, self.source = p, None

        def forward(self, x):
            if not self.training or self.p == 0:
                return x
            keep = torch.from_numpy(self.source(tuple(x.shape))).to(x.device)
            return x * (keep.to(x.dtype) / (1.0 - self.p))

    replaced = []
    for name, m in list(model.named_modules()):
        for child_name, child in list(m.named_children()):
            if isinstance(child, torch.nn.Dropout):
                r = ReplayDropout(child.p)
                setattr(m, child_name, r)
                replaced.append(r)
    return replaced


def _set_source(replaced, tape):
    for r in replaced or ():
        r.source = None
    if replaced:
        play = tape.replayer()
        for r in replaced:
            r.source = play


def run_one(cfg, run_name, dtype):
    """Train one run in both engines in lockstep; returns its record (losses, checks, accuracies)."""
    spec = RUNS[run_name]
    backend = cfg.get("backend", "numpy")
    Em = common.Engine("minigrad", backend, dtype)
    Et = common.Engine("torch", cfg.get("torch_backend", backend), dtype)  # tests on the CuPy double: torch on CPU
    Em.seed(cfg["seed"])
    Et.seed(cfg["seed"])
    X_all, y_all, X_test, y_test = common.load_arrays(spec["data"], cfg.get("data_dir"), spec["normalize"])
    tr, _ = common.split_indices(len(X_all), cfg["n_val"], cfg["seed"])
    if cfg.get("limit"):
        tr = tr[: cfg["limit"]]
    X_tr, y_tr = X_all[tr].astype(dtype), y_all[tr]
    data = {E.name: (E.tensor(X_tr), E.tensor(y_tr), E.tensor(X_test.astype(dtype)), E.tensor(y_test))
            for E in (Em, Et)}

    mg, tm = Em.model(spec["model"]), Et.model(spec["model"])
    from reference.convert import copy_weights, state_arrays

    copy_weights(mg, tm)
    p_drop = next((m.p for m in mg.modules() if isinstance(m, Em.nn.Dropout)), 0.0)
    tape = MaskTape(cfg["seed"] + 1, p_drop)
    _install_masks(Em, mg, tape)
    replaced = _install_masks(Et, tm, tape)
    opt_name, lr = cfg.get("optimizer") or spec["optimizer"], cfg.get("lr") or spec["lr"]
    mg_opt = Em.make_optimizer(opt_name, mg.parameters(), lr)
    t_opt = Et.make_optimizer(opt_name, tm.parameters(), lr)
    mg_loss_fn, t_loss_fn = Em.nn.CrossEntropyLoss(), Et.nn.CrossEntropyLoss()
    probe = Et.model(spec["model"]) if dtype == "float32" else None
    probe_replaced = _install_masks(Et, probe, tape) if probe is not None else None
    extras = [] if dtype != "float32" else [
        _realization(Et, mg, spec, tape, opt_name, lr, cfg["seed"] + k) for k in range(1, cfg["band_realizations"])]

    losses_m, losses_t, checks = [], [], []
    bs, step = cfg["batch_size"], 0
    bar = common.progress(cfg["epochs"] * -(-len(tr) // bs), f"parity {run_name} {dtype}",
                          not cfg.get("no_progress"))
    for epoch in range(cfg["epochs"]):
        order = common.epoch_order(len(tr), cfg["seed"], epoch)
        for start in range(0, len(order), bs):
            idx = order[start:start + bs]
            tape.step_masks = []
            mg.train()
            xb, yb = data["minigrad"][0][Em.tensor(idx)], data["minigrad"][1][Em.tensor(idx)]
            loss_m = mg_loss_fn(mg(xb), yb)
            mg_opt.zero_grad()
            loss_m.backward()
            if probe is not None and step % cfg["check_every"] == 0:
                checks.append(_check_grads(Et, mg, probe, probe_replaced, tape, t_loss_fn, data["torch"], idx, step))
            mg_opt.step()
            _set_source(replaced, tape)
            tm.train()
            ti = Et.tensor(idx)
            loss_t = t_loss_fn(tm(data["torch"][0][ti]), data["torch"][1][ti])
            t_opt.zero_grad()
            loss_t.backward()
            t_opt.step()
            for x in extras:  # the other float32 rounding realizations, same batch and masks
                _set_source(x["replaced"], tape)
                x["model"].train()
                loss_x = t_loss_fn(x["model"](data["torch"][0][ti]), data["torch"][1][ti])
                x["opt"].zero_grad()
                loss_x.backward()
                x["opt"].step()
                x["losses"].append(float(loss_x.item()))
            losses_m.append(float(loss_m.item()))
            losses_t.append(float(loss_t.item()))
            step += 1
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    acc_m = _accuracy(Em, mg, data["minigrad"][2], y_test)
    acc_t = _accuracy(Et, tm, data["torch"][2], y_test)
    wm, wt = state_arrays(mg), state_arrays(tm)
    weight_rel = max(float(np.abs(wm[k] - wt[k]).max() / max(np.abs(wt[k]).max(), 1e-30)) for k in wm)
    lm, lt = np.array(losses_m), np.array(losses_t)
    return {"run": run_name, "dtype": dtype, "backend": backend, "steps": step, "optimizer": opt_name, "lr": lr,
            "losses_minigrad": lm.tolist(), "losses_torch": lt.tolist(),
            "max_abs_loss_diff": float(np.abs(lm - lt).max()),
            "max_rel_loss_diff": float((np.abs(lm - lt) / np.abs(lt)).max()),
            "grad_checks": checks, "test_acc_minigrad": acc_m, "test_acc_torch": acc_t,
            "losses_torch_realizations": [x["losses"] for x in extras],
            "final_weight_max_rel_diff": weight_rel}


def _realization(Et, mg, spec, tape, opt_name, lr, seed):
    """A torch twin of the run from minigrad's initial weights with 1 ulp added to (or taken from) 1% of them:
    the same computation under another float32 rounding draw."""
    import torch

    from reference.convert import copy_weights

    model = Et.model(spec["model"])
    copy_weights(mg, model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            hit = (torch.rand(p.shape, generator=g) < 0.01).to(p.device)
            up = (torch.rand(p.shape, generator=g) < 0.5).to(p.device)
            toward = torch.where(up, torch.full_like(p, float("inf")), torch.full_like(p, float("-inf")))
            p.copy_(torch.where(hit, torch.nextafter(p, toward), p))
    return {"model": model, "replaced": _install_masks(Et, model, tape), "losses": [],
            "opt": Et.make_optimizer(opt_name, model.parameters(), lr)}


def _check_grads(Et, mg, probe, probe_replaced, tape, loss_fn, tdata, idx, step):
    """torch gradients from minigrad's exact weights on this batch (same masks) vs minigrad's gradients."""
    import torch

    from reference.convert import copy_weights

    copy_weights(mg, probe)
    _set_source(probe_replaced, tape)
    probe.train()
    probe.zero_grad()
    ti = Et.tensor(idx)
    loss = loss_fn(probe(tdata[0][ti]), tdata[1][ti])
    loss.backward()
    worst, ok = 0.0, True
    for (name, pm), (_, pt) in zip(mg.named_parameters(), probe.named_parameters()):
        gm = torch.from_numpy(_host(pm.grad))
        gt = pt.grad.detach().cpu()
        worst = max(worst, float((gm - gt).abs().max()))
        try:
            torch.testing.assert_close(gm, gt)
        except AssertionError:
            ok = False
    return {"step": step, "max_abs_grad_diff": worst, "assert_close_ok": ok}


def _host(t):
    from minigrad.backend import to_numpy

    return np.array(to_numpy(t.array), copy=True)


def _accuracy(E, model, X, y):
    model.eval()
    pred = common.predict(E, model, X).argmax(1)
    return float((pred == y).mean())


def _window(x, w):
    x = np.asarray(x)
    return np.convolve(x, np.ones(w) / w, "valid") if len(x) >= w else x


def band(rec, ref64, cfg):
    """float32 drift between engines vs torch's own float32-vs-float64 drift (windowed means), the largest over
    torch's float32 realizations."""
    w = cfg["band_window"]
    drift = float(np.abs(_window(rec["losses_minigrad"], w) - _window(rec["losses_torch"], w)).max())
    exact = _window(ref64["losses_torch"], w)
    draws = [rec["losses_torch"]] + rec.get("losses_torch_realizations", [])
    noises = [float(np.abs(_window(d, w) - exact).max()) for d in draws]
    return {"engines_drift": drift, "float32_rounding_drift": max(noises), "float32_rounding_drifts": noises,
            "limit": cfg["band_factor"] * max(noises)}


def verdict(rec, cfg, ref64=None):
    """Did this run meet its criteria? (a list of failures; empty = pass)"""
    bad = []
    if rec["dtype"] == "float64":
        if rec["max_rel_loss_diff"] > cfg["rtol64"]:
            bad.append(f"float64 loss rel diff {rec['max_rel_loss_diff']:.2e} > {cfg['rtol64']:.0e}")
    else:
        if not all(c["assert_close_ok"] for c in rec["grad_checks"]):
            bad.append("float32 gradients from identical state not within assert_close defaults")
        if ref64 is not None:
            rec["band"] = band(rec, ref64, cfg)
            # a drift of float32 noise size always passes: both are float32-eps-level early in the run
            if rec["band"]["engines_drift"] > max(rec["band"]["limit"], 1e-5):
                bad.append(f"float32 loss curves drift {rec['band']['engines_drift']:.2e} > band "
                           f"{rec['band']['limit']:.2e} ({cfg['band_factor']} x torch's float32-vs-float64 drift)")
        gap = 100 * abs(rec["test_acc_minigrad"] - rec["test_acc_torch"])
        if gap > cfg["acc_points"]:
            bad.append(f"float32 test accuracies differ by {gap:.2f} points > {cfg['acc_points']}")
    return bad


def run(cfg):
    cfg = {**CONFIG, **{k: v for k, v in cfg.items() if v is not None}}
    records = []
    for run_name in [r for r in cfg["runs"].split(",") if r]:
        for dtype in [d for d in cfg["dtypes"].split(",") if d]:
            if cfg["from_seed"]:
                rec = parity_seed.run_one_from_seed(cfg, RUNS[run_name], run_name, dtype)
                rec["failures"] = parity_seed.verdict_from_seed(rec, cfg)
                records.append(rec)
                continue
            rec = run_one(cfg, run_name, dtype)
            ref64 = next((r for r in records if r["run"] == run_name and r["dtype"] == "float64"), None)
            rec["failures"] = verdict(rec, cfg, ref64)
            records.append(rec)
    print_table(records)
    out = common.out_dir(cfg, CONFIG["out"])
    common.write_json(f"{out}/parity.json", {"config": {k: v for k, v in cfg.items() if k != "no_progress"},
                                             "records": records})
    plot(records, f"{out}/parity.png")
    return records


def print_table(records):
    print(f"{'run':<10} {'dtype':<8} {'steps':>5} {'max|dloss|':>11} {'max rel':>9} {'grad checks':>12} "
          f"{'band (drift/limit)':>19} {'acc mg':>7} {'acc torch':>9}  verdict")
    for r in records:
        gc = r["grad_checks"]
        g = f"{sum(c['assert_close_ok'] for c in gc)}/{len(gc)} ok" if gc else "-"
        b = f"{r['band']['engines_drift']:.1e}/{r['band']['limit']:.1e}" if "band" in r else "-"
        print(f"{r['run']:<10} {r['dtype']:<8} {r['steps']:>5} {r['max_abs_loss_diff']:>11.2e} "
              f"{r['max_rel_loss_diff']:>9.1e} {g:>12} {b:>19} {100 * r['test_acc_minigrad']:>6.2f}% "
              f"{100 * r['test_acc_torch']:>8.2f}%  "
              f"{'PASS' if not r['failures'] else 'FAIL: ' + '; '.join(r['failures'])}")


def plot(records, path):
    plt = common.pyplot()
    fig, axes = plt.subplots(2, len(records), figsize=(4.5 * len(records), 6.5), squeeze=False)
    for j, r in enumerate(records):
        lm, lt = np.array(r["losses_minigrad"]), np.array(r["losses_torch"])
        ax = axes[0, j]
        ax.plot(lt, lw=2.5, alpha=0.5, label="torch")
        ax.plot(lm, lw=0.8, label="minigrad")
        ax.set(title=f"{r['run']} {r['dtype']}", xlabel="step", ylabel="training loss", yscale="log")
        ax.legend()
        d = np.abs(lm - lt)
        axes[1, j].semilogy(np.maximum(d, 1e-18), lw=0.8)
        axes[1, j].set(xlabel="step", ylabel="|loss difference|")
    return common.savefig(fig, path)


def comma_list(allowed):
    """argparse type: a comma-separated list whose items are all in `allowed`."""
    def parse(text):
        items = [t for t in text.split(",") if t]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"{','.join(bad) or 'nothing'}: choose from {', '.join(allowed)}")
        return ",".join(items)
    parse.__name__ = "comma-separated list"
    return parse


def parse_args(argv=None):
    """Every flag checked, and the machine (torch, GPU, --out), before any data is read."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--runs", type=comma_list(list(RUNS)), default=CONFIG["runs"],
                   help=f"comma-separated, of {', '.join(RUNS)}")
    p.add_argument("--dtypes", type=comma_list(["float32", "float64"]), default=CONFIG["dtypes"],
                   help="comma-separated, of float32, float64")
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy",
                   help="numpy vs torch CPU, or cupy vs torch CUDA (TF32 off in both)")
    for flag in ("epochs", "batch_size", "limit", "check_every"):
        p.add_argument("--" + flag.replace("_", "-"), type=common.positive_int, default=CONFIG.get(flag),
                       help=PARITY_HELP[flag])
    p.add_argument("--seed", type=common.seed_int, default=CONFIG.get("seed"), help="random seed")
    p.add_argument("--lr", type=common.positive_float, default=None, help="learning rate (default: each run's own)")
    p.add_argument("--optimizer", default=None, choices=["sgd", "adam", "adamw", "adagrad", "adadelta", "rmsprop"],
                   help="optimizer (default: each run's own)")
    p.add_argument("--data-dir", type=common.nonempty_path, default=None,
                   help="folder with the IDX files (default: $MINIGRAD_DATA, then ./data)")
    p.add_argument("--out", type=common.nonempty_path, default=CONFIG["out"], help="folder for the JSON and figures")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    p.add_argument("--from-seed", action="store_true",
                   help="each engine from the seed alone: own init, DataLoader shuffles and dropout masks (CPU)")
    return common.parse(p, argv, uses_torch=True)


PARITY_HELP = dict(epochs="passes over the training set", batch_size="images per training step",
                   limit="use only the first N training images", check_every="compare the engines every N steps")


@common.cli
def main(argv=None):
    records = run(vars(parse_args(argv)))
    failed = [r for r in records if r["failures"]]
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
