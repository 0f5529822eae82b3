"""MNIST MLP hyper-parameter study (course Ex. 2) on Ray Tune: validation error vs each factor, with error bars.

One factor at a time around the course baseline (784-500-300-10, ReLU, Adam 1e-3, batch 100, 20 epochs,
54,000/6,000 split), plus a joint width x depth x activation search; every configuration with several seeds.
Trials run on a local Ray instance the command starts (all cores), or on a cluster by --address / RAY_ADDRESS.
Results live under --out (Tune's storage path); --resume reruns no finished trial, and a trial cut short goes on
from its last Tune checkpoint (experiments/mlp_study_tune.py). Writes results.csv,
results.json, table.md and figures (see experiments/mlp_study_report.py).
    python -m experiments.mlp_study --out results/mlp_study
    python -m experiments.mlp_study --quick --out results/mlp_study_quick
    python -m experiments.mlp_study --factors width depth --only width=100,800 --seeds 0 1 2 --epochs 5
Needs Ray Tune: pip install -e '.[study]' (in the repository's root), or pip install 'ray[tune]'.
"""
import argparse
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


# ---- command line --------------------------------------------------------------------------------------------
def parse_args(argv=None):
    """Every flag checked (types, ranges, conflicts, a writable --out) before Ray starts or data is read."""
    from experiments.cli import explicit, int_in, nonempty_path, nonnegative_int, positive_float, positive_int, seed_int
    from experiments.common import _HelpFormatter

    lines = __doc__.strip().splitlines()
    p = argparse.ArgumentParser(description=lines[0], epilog="\n".join(lines[1:]), formatter_class=_HelpFormatter)
    p.add_argument("--out", type=nonempty_path, default="results/mlp_study",
                   help="results folder (Tune's storage path)")
    p.add_argument("--resume", action="store_true", help="keep finished trials in --out, run the rest")
    p.add_argument("--address", default=os.environ.get("RAY_ADDRESS"),
                   help="Ray cluster address (host:port or 'auto'); default: a local Ray on all cores")
    p.add_argument("--factors", nargs="+", default=list(FACTORS) + ["joint"], choices=list(FACTORS) + ["joint"],
                   help="which factors to study")
    p.add_argument("--only", nargs="+", metavar="FACTOR=V1,V2", help="restrict a factor to these values")
    p.add_argument("--seeds", type=seed_int, nargs="+", default=SEEDS, help="seeds of every configuration")
    p.add_argument("--epochs", type=positive_int, default=CONFIG["epochs"], help="epochs per trial")
    p.add_argument("--subset", type=positive_int, default=CONFIG["subset"], help="first N training images only")
    p.add_argument("--n-val", type=int_in(1, 59999), default=CONFIG["n_val"],
                   help="training images held out for validation")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run, sets its own sizes (not combinable with them): {QUICK}")
    p.add_argument("--cpus-per-trial", type=positive_float, default=1, help="CPU cores Ray gives each trial")
    p.add_argument("--retries", type=nonnegative_int, default=1,
                   help="reruns of a crashed trial before it is recorded failed")
    p.add_argument("--data-dir", type=nonempty_path, default=None,
                   help="folder with the IDX files (default: $MINIGRAD_DATA)")
    args = p.parse_args(argv)
    if args.quick:  # --quick picks these itself: silently overriding the user's value would be a lie
        clash = explicit(argv, "--seeds", "--epochs", "--subset", "--n-val", "--factors")
        if clash:
            p.error(f"argument --quick: not allowed with {' '.join(clash)} (--quick sets them: {QUICK})")
    try:
        parse_only(args.only)
    except UserError as e:
        p.error(f"argument --only: {e}")
    return args


def plan(args):
    """(base config, {group: configs}) from the arguments; UserError on bad input."""
    if args.quick:
        args.subset, args.n_val, args.epochs = QUICK["subset"], QUICK["n_val"], QUICK["epochs"]
        args.seeds, args.factors = QUICK["seeds"], QUICK["factors"]
        args.only = args.only or [f"{k}={','.join(map(str, v))}" for k, v in QUICK["only"].items()]
    unknown = [f for f in args.factors if f not in FACTORS and f != "joint"]
    if unknown:
        raise UserError(f"unknown factor(s) {unknown}: choose from {list(FACTORS) + ['joint']}")
    if args.epochs < 1 or (args.subset is not None and args.subset < 1) or not 0 < args.n_val < 60000:
        raise UserError("--epochs and --subset must be >= 1 and --n-val in (0, 60000)")
    data_dir = os.path.abspath(args.data_dir or os.environ.get("MINIGRAD_DATA") or "data")
    base = {**CONFIG, "epochs": args.epochs, "subset": args.subset, "n_val": args.n_val, "data_dir": data_dir}
    return base, search_space(base, args.factors, sorted(set(args.seeds)), parse_only(args.only))


def run_label(args):
    """What the outputs must say when the run is not the study at the course's size (None when it is)."""
    if args.quick:
        return "QUICK (smoke) run: not the study's numbers"
    n_train = min(args.subset or 60000, 60000 - args.n_val)
    if n_train != 60000 - CONFIG["n_val"] or args.epochs != CONFIG["epochs"] or args.n_val != CONFIG["n_val"]:
        return (f"REDUCED run: {n_train:,} training images, {args.epochs} epochs, {args.n_val:,} validation images "
                f"(the course's study: {60000 - CONFIG['n_val']:,}, {CONFIG['epochs']}, {CONFIG['n_val']:,}); "
                "trends at this size, not the course-size numbers")
    return None


def check_address(address):
    """A host:port that does not answer fails here in seconds, not after Ray's long connection retries."""
    import socket

    if address in (None, "", "auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as e:
        raise UserError(f"no Ray cluster answers at --address {address!r} ({e})") from None


def start_ray(address):
    import ray

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    try:
        if address:  # a cluster: ship our two packages to its workers
            import minigrad

            mods = [os.path.dirname(minigrad.__file__), os.path.join(root, "experiments")]
            ray.init(address=address, runtime_env={"py_modules": mods}, log_to_driver=False)
        else:
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise UserError(f"could not start or reach Ray ({'address ' + address if address else 'local'}): {e}") \
            from None
    return ray


def main(argv=None):
    args = parse_args(argv)
    try:
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's older reporter honours verbose=0
        # a checkpoint every epoch with num_to_keep=1 snapshots the experiment each epoch, by design: no warning
        os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
        try:
            from ray import tune
        except ImportError:
            raise UserError("the study runs on Ray Tune, which is not installed: pip install -e '.[study]' "
                            "in the repository's root (or: pip install 'ray[tune]')") from None
        base, groups = plan(args)
        out = os.path.abspath(args.out)
        from experiments.cli import UsageError, writable_dir

        try:
            writable_dir(out)
        except UsageError as e:
            raise UserError(str(e)) from None
        records = load_records(out, resume=args.resume)
        if records and not args.resume:
            raise UserError(f"{out} already holds {len(records)} trial records: pass --resume to keep them and run "
                            "the rest, or choose another --out")
        done = {k for k, r in records.items() if r.get("status") != "failed"}  # --resume gives failed ones a rerun
        check_address(args.address)
        ray = start_ray(args.address)
        totals = dict(skipped=0, ran=0, failed=0, stopped=0)
        try:
            for name, configs in groups.items():
                todo = [c for c in configs if trial_key(c) not in done]
                totals["skipped"] += len(configs) - len(todo)
                if todo:
                    from experiments.mlp_study_tune import run_group

                    ran, failed, stopped = run_group(tune, name, todo, out, args)
                    totals["ran"] += ran
                    totals["failed"] += failed
                    totals["stopped"] += stopped
                    print(f"{name}: {ran} ran to the end, {failed} failed, {stopped} stopped early "
                          f"({len(configs) - len(todo)} already done)", flush=True)
        except KeyboardInterrupt:
            kept = len(load_records(out))
            print(f"mlp_study: interrupted; {kept} trial records kept in {out}: run the same command with --resume "
                  "to run the rest", file=sys.stderr, flush=True)
            sys.exit(130)
        finally:
            ray.shutdown()
        from experiments.mlp_study_report import write_outputs

        wanted = {trial_key(c) for cs in groups.values() for c in cs}
        rows = [r for k, r in load_records(out).items() if k in wanted]
        write_outputs(out, rows, label=run_label(args))
        print(f"summary: {totals['ran']} trials ran to the end, {totals['failed']} failed, {totals['stopped']} "
              f"stopped early, {totals['skipped']} finished before (resume); outputs in {out}")
        if totals["failed"]:  # recorded in results.csv with their error; --resume runs them again
            print(f"mlp_study: {totals['failed']} trial(s) failed after {args.retries} retries: see results.csv",
                  file=sys.stderr)
            sys.exit(1)
        return totals
    except UserError as e:
        fail(str(e))


if __name__ == "__main__":
    main()
