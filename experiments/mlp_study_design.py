"""The MLP study's design and its ledger: the course baseline and the factors studied around it (the config block
below), the search space they span, and the trial records (one JSON per finished trial) that --resume reads.
experiments/mlp_study.py (the command), mlp_study_tune.py (the trials on Ray Tune) and mlp_study_report.py
(tables and figures) all read it; it imports none of them.
"""
import hashlib
import json
import os
import sys

# ---- config: the course baseline and the factors studied around it ------------------------------------------
CONFIG = dict(
    optimizer="adam", lr=1e-3,     # the course: Adam at its default lr
    activation="relu",
    hidden=[500, 300],             # the course's 784-500-300-10
    regularisation="none",
    stopping="fixed",              # "fixed": all epochs; "early": patience on val error; "asha": Tune's ASHA
    epochs=20, batch_size=100,
    patience=3,                    # early stopping: epochs without a new best validation error
    dropout=0.5,                   # regularisation="dropout": on every hidden layer
    weight_decay=1e-4,             # regularisation="weight_decay" (L2 in the optimizer)
    n_val=6000, split_seed=0,      # the course's 54,000/6,000 split, the same for every trial
    subset=None,                   # use only the first N of the 54,000 training images (quick runs)
)
# Each optimizer with a learning rate that suits it on this problem (the usual defaults; SGD needs larger steps).
LRS = {"sgd": 0.1, "sgd_momentum": 0.01, "adagrad": 0.01, "adadelta": 1.0, "rmsprop": 1e-3, "adam": 1e-3,
       "adamw": 1e-3}
DEPTH_WIDTH = 500                  # factor "depth": that many hidden layers of 500 units
FACTORS = {                        # one at a time: every other setting stays at CONFIG
    "optimizer": list(LRS),
    "activation": ["relu", "leaky_relu", "sigmoid", "tanh"],
    "depth": [1, 2, 3, 4],
    "width": [100, 200, 300, 400, 500, 600, 700, 800],   # two hidden layers of this width
    "stopping": ["fixed", "early", "asha"],
    "regularisation": ["none", "dropout", "weight_decay", "batchnorm"],
}
JOINT = dict(width=[200, 400, 800], depth=[1, 2, 3], activation=["relu", "tanh"])  # factors that interact
SEEDS = [0, 1, 2]
ASHA = dict(grace_period=2, reduction_factor=3)  # ASHA compares trials of its group (the optimizers) per epoch
QUICK = dict(subset=1000, n_val=1000, epochs=2, seeds=[0, 1], factors=["activation", "depth"],
             only={"depth": [1, 2]})  # CI and smoke runs: minutes, not days


class UserError(Exception):
    """A bad command line or results folder: one message, exit code 2, no traceback."""


def fail(msg):
    print(f"mlp_study: error: {msg}", file=sys.stderr)
    sys.exit(2)


# ---- the search space --------------------------------------------------------------------------------------
def _value(factor, text):
    return int(text) if factor in ("depth", "width") else text


def parse_only(items):
    """['width=100,800', ...] -> {'width': [100, 800]}; unknown factors or values are a UserError."""
    out = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        choices = FACTORS.get(name) or JOINT.get(name)
        if not sep or choices is None:
            raise UserError(f"--only {item!r}: expected FACTOR=V1,V2 with FACTOR one of {sorted(FACTORS)}")
        vals = [v for v in values.split(",") if v]
        try:
            vals = [_value(name, v) for v in vals]
        except ValueError:
            raise UserError(f"--only {item!r}: {name} takes integers") from None
        bad = [v for v in vals if v not in choices and not (name in JOINT and v in JOINT[name])]
        if bad:
            raise UserError(f"unknown value(s) {bad} for factor {name!r}: choose from {choices}")
        out[name] = vals
    return out


def trial_config(base, group, factor, value, seed):
    cfg = {**base, "group": group, "factor": factor, "value": value, "seed": seed}
    if factor == "optimizer":
        cfg.update(optimizer=value, lr=LRS[value])
    elif factor == "depth":
        cfg["hidden"] = [DEPTH_WIDTH] * value
    elif factor == "width":
        cfg["hidden"] = [value, value]
    elif factor == "joint":
        w, d, a = value
        cfg.update(hidden=[w] * d, activation=a, value=f"{w}x{d}-{a}")
    else:
        cfg[factor] = value
    return cfg


def search_space(base, factors, seeds, only):
    """{group: [trial configs]}; group 'stopping-asha' runs under ASHA (over the optimizers)."""
    groups = {}
    for factor in factors:
        if factor == "joint":
            vals = [(w, d, a) for w in only.get("width", JOINT["width"]) for d in only.get("depth", JOINT["depth"])
                    for a in only.get("activation", JOINT["activation"])]
            groups["joint"] = [trial_config(base, "joint", "joint", v, s) for v in vals for s in seeds]
            continue
        for v in only.get(factor, FACTORS[factor]):
            if factor == "stopping" and v == "asha":
                opts = only.get("optimizer", FACTORS["optimizer"])
                groups["stopping-asha"] = [{**trial_config(base, "stopping-asha", "optimizer", o, s),
                                            "stopping": "asha"} for o in opts for s in seeds]
            else:
                groups.setdefault(factor, []).extend(trial_config(base, factor, factor, v, s) for s in seeds)
    if not any(groups.values()):
        raise UserError("empty search space: no factor value and seed left to run")
    return groups


def trial_key(cfg):
    """Stable id of a trial: its configuration and seed (data_dir left out: the same data anywhere)."""
    blob = json.dumps({k: v for k, v in cfg.items() if k != "data_dir"}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


# ---- records: one JSON per finished trial, the ledger --resume reads ---------------------------------------
def load_records(out, resume=False):
    """{key: record} of out/records, each checked (record_problem). A bad record is a UserError naming it; with
    resume=True it is moved aside to NAME.corrupt instead, so its trial runs again."""
    recs = {}
    folder = os.path.join(out, "records")
    if not os.path.isdir(folder):
        return recs
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not name.endswith(".json"):
            continue
        try:
            with open(path) as f:
                rec = json.load(f)
            problem = record_problem(rec, name[:-len(".json")])
        except (OSError, ValueError) as e:
            problem = f"unreadable ({type(e).__name__}: {e})"
        if problem is None:
            recs[rec["key"]] = rec
        elif resume:
            os.replace(path, path[:-len(".json")] + ".corrupt")
            print(f"mlp_study: {path} is not a valid trial record ({problem}); moved to .corrupt, its trial runs "
                  "again", file=sys.stderr, flush=True)
        else:
            raise UserError(f"results folder is corrupted: {path} is not a valid trial record ({problem}); "
                            "rerun with --resume (the record is moved aside and its trial runs again)")
    return recs


STATUSES = ("finished", "stopped_early", "failed")


def record_problem(rec, key):
    """None when rec is a whole trial record for `key`; else what is wrong with it, in a few words."""
    if not isinstance(rec, dict):
        return f"a JSON {type(rec).__name__}, not an object"
    if rec.get("key") != key:
        return f"key {rec.get('key')!r} does not match the file name {key!r}"
    if rec.get("status") not in STATUSES:
        return f"status {rec.get('status')!r}, expected one of {STATUSES}"
    c = rec.get("config")
    if not isinstance(c, dict):
        return "no config object"
    for k in ("group", "factor", "seed", "hidden", "epochs"):
        if k not in c:
            return f"config has no {k!r}"
    if not (isinstance(c["hidden"], list) and all(isinstance(h, int) and h > 0 for h in c["hidden"])):
        return f"config hidden {c['hidden']!r} is not a list of positive integers"
    if rec["status"] == "failed":
        return None
    for k in ("best_val_error", "last_val_error"):
        v = rec.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            return f"{k} {v!r} is not an error rate in [0, 1]"
    curve = rec.get("val_curve")
    if not isinstance(curve, list) or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in curve):
        return "val_curve is not a list of error rates"
    return None


def write_record(out, rec):
    folder = os.path.join(out, "records")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, rec["key"] + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump(rec, f, default=str)
    os.replace(path + ".tmp", path)  # atomic: a killed sweep never leaves half a record
