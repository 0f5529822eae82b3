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
import os
import sys

# the config block (course baseline, factors) and the trial records live in mlp_study_design.py, which the
# tune and report modules read too
from experiments.mlp_study_design import (  # noqa: F401  (the study's names, as mlp_study.X)
    ASHA, CONFIG, DEPTH_WIDTH, FACTORS, JOINT, LRS, QUICK, SEEDS, STATUSES, UserError, fail, load_records, parse_only,
    record_problem, search_space, trial_config, trial_key, write_record,
)

# ---- command line --------------------------------------------------------------------------------------------
def parse_args(argv=None):
    """Every flag checked (types, ranges, conflicts, a writable --out) before Ray starts or data is read."""
    from minigrad.utils.cli import explicit, int_in, nonempty_path, nonnegative_int, positive_float, positive_int, seed_int
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
        from minigrad.utils.cli import UsageError, writable_dir

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
