"""Whole-run parity from the seed alone (experiments.parity --from-seed): each engine seeds its own global
generator, builds its model, shuffles with its own DataLoader and draws its own dropout masks. Nothing is copied
or replayed: minigrad's CPU streams are torch's (minigrad/random.py), so in float64 the two runs must agree to
`rtol_seed64` relative at every step. CPU only (on CuPy, minigrad draws from CuPy's generator, not torch's)."""
import numpy as np

from experiments import common


def run_one_from_seed(cfg, spec, run_name, dtype):
    """Train one run in both engines, each from the seed only; returns its record."""
    engines = [common.Engine("minigrad", "numpy", dtype), common.Engine("torch", "numpy", dtype)]
    X_all, y_all, X_test, y_test = common.load_arrays(spec["data"], cfg.get("data_dir"), spec["normalize"])
    tr, _ = common.split_indices(len(X_all), cfg["n_val"], cfg["seed"])
    if cfg.get("limit"):
        tr = tr[: cfg["limit"]]
    X_tr, y_tr = X_all[tr].astype(dtype), y_all[tr]
    opt_name, lr = cfg.get("optimizer") or spec["optimizer"], cfg.get("lr") or spec["lr"]
    side = {}
    for E in engines:
        E.seed(cfg["seed"])  # the only thing the engines share
        model = E.model(spec["model"])
        data = E.lib.utils.data
        loader = data.DataLoader(data.TensorDataset(E.tensor(X_tr), E.tensor(y_tr)), batch_size=cfg["batch_size"],
                                 shuffle=True)
        side[E.name] = dict(E=E, model=model, loader=loader, opt=E.make_optimizer(opt_name, model.parameters(), lr),
                            loss_fn=E.nn.CrossEntropyLoss(), losses=[], labels=[])
    for s in side.values():  # one engine's whole run, then the other's: their streams are their own
        E, model = s["E"], s["model"]
        for _ in range(cfg["epochs"]):
            for xb, yb in s["loader"]:
                model.train()
                loss = s["loss_fn"](model(xb), yb)
                s["opt"].zero_grad()
                loss.backward()
                s["opt"].step()
                s["losses"].append(float(loss.item()))
                s["labels"].append(E.numpy(yb))
        model.eval()
        s["acc"] = float((common.predict(E, model, E.tensor(X_test.astype(dtype))).argmax(1) == y_test).mean())
    m, t = side["minigrad"], side["torch"]
    lm, lt = np.array(m["losses"]), np.array(t["losses"])
    same_batches = len(m["labels"]) == len(t["labels"]) and all(
        np.array_equal(a, b) for a, b in zip(m["labels"], t["labels"]))
    rel = float((np.abs(lm - lt) / np.abs(lt)).max()) if len(lm) == len(lt) and len(lt) else float("inf")
    return {"run": run_name, "dtype": dtype, "backend": "numpy", "mode": "from-seed", "steps": len(lm),
            "optimizer": opt_name, "lr": lr, "same_batches": same_batches,
            "losses_minigrad": lm.tolist(), "losses_torch": lt.tolist(),
            "max_abs_loss_diff": float(np.abs(lm - lt).max()) if len(lm) == len(lt) else float("inf"),
            "max_rel_loss_diff": rel, "grad_checks": [], "test_acc_minigrad": m["acc"], "test_acc_torch": t["acc"]}


def verdict_from_seed(rec, cfg):
    """Failures of a from-seed run (empty = pass): the same batches, and float64 losses within rtol_seed64."""
    bad = [] if rec["same_batches"] else ["the engines' DataLoaders gave different batches"]
    if rec["dtype"] == "float64" and not rec["max_rel_loss_diff"] <= cfg["rtol_seed64"]:
        bad.append(f"float64 loss rel diff {rec['max_rel_loss_diff']:.2e} > {cfg['rtol_seed64']:.0e} (from the seed)")
    return bad
