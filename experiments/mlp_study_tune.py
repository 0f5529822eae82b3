"""The study's trials on Ray Tune: the trainable, its checkpoints, and the Tuner of each group of trials.

Each trial reports every epoch to Tune with a checkpoint (Tune's own: ray.tune.report(..., checkpoint=...)) of its
whole state (model, optimizer, RNG, curve: experiments/mlp_trial.py). A trial Tune restores, after a crash (its
FailureConfig retries) or with its whole run (Tuner.restore, which `mlp_study --resume` does for a run cut short),
continues after its last reported epoch and ends with the numbers of a trial never stopped, bit for bit.
tune_runs.json under --out says which Tune run (folder) holds which trials, so --resume finds the one to restore.
"""
import glob
import json
import os
import sys

from experiments.mlp_study_design import ASHA, load_records, trial_key, write_record

TRIAL_STATE = "trial.npz"  # the file in each of Tune's trial checkpoints: mlp_trial's state after an epoch
FAULT = "MLP_STUDY_FAULT"  # tests: JSON {factor value: [N1, N2, ...]}: the i-th start crashes after epoch Ni


def tune_api():
    """(report, get_checkpoint, Checkpoint) of the installed Ray: Tune's own, else Ray Train's, where
    Ray 2.10 (setup.cfg's oldest) keeps them for Tune's function trainables too."""
    from ray import tune

    if hasattr(tune, "get_checkpoint"):
        return tune.report, tune.get_checkpoint, tune.Checkpoint
    from ray import train

    return train.report, train.get_checkpoint, train.Checkpoint


def trainable(config):
    """Runs in a Ray worker: one trial; reports each epoch to Tune with a checkpoint of the trial's state, so a trial
    Tune restores (a retry after a crash, Tuner.restore on --resume) continues after its last epoch instead of from
    epoch 0; records itself when it ran to its end."""
    import tempfile

    import minigrad
    from experiments.mlp_trial import run_trial

    report, get_checkpoint, Checkpoint = tune_api()
    config = config["_trial"]  # the grid's one axis: whole trial configurations
    out = config["_out"]
    cfg = {k: v for k, v in config.items() if not k.startswith("_")}
    state, checkpoint = None, get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            state = minigrad.load(os.path.join(folder, TRIAL_STATE))
    starts = os.path.join(out, "starts", config["_key"])
    os.makedirs(os.path.dirname(starts), exist_ok=True)
    n = len(open(starts).readlines()) if os.path.exists(starts) else 0  # starts before this one
    with open(starts, "a") as f:  # one line per start: the tests count starts and restores from it
        f.write("start\n" if state is None else f"resume after epoch {len(state['curve'])}\n")
    faults = json.loads(os.environ.get(FAULT) or "{}").get(str(cfg["value"]), [])
    crash_after = faults[n] if n < len(faults) else None

    def report_epoch(metrics, trial_state):
        with tempfile.TemporaryDirectory() as folder:  # Tune copies it into the trial's folder under --out
            minigrad.save(trial_state(), os.path.join(folder, TRIAL_STATE))
            report(metrics, checkpoint=Checkpoint.from_directory(folder))
        if metrics["epoch"] == crash_after:
            raise RuntimeError(f"{FAULT}: start {n + 1} crashes after epoch {crash_after}")

    row = run_trial(cfg, report=report_epoch, state=state)
    write_record(out, {"key": config["_key"], "status": "finished", "config": cfg, **row})


LEDGER = "tune_runs.json"  # {Tune run name: {"group", "keys"}}: which Tune run (folder under --out) holds which trials


def read_ledger(out):
    try:
        with open(os.path.join(out, LEDGER)) as f:
            ledger = json.load(f)
        return ledger if isinstance(ledger, dict) else {}
    except (OSError, ValueError):
        return {}


def add_to_ledger(out, name, group, keys):
    ledger = {**read_ledger(out), name: {"group": group, "keys": sorted(keys), "out": out}}
    path = os.path.join(out, LEDGER)
    with open(path + ".tmp", "w") as f:
        json.dump(ledger, f, indent=1)
    os.replace(path + ".tmp", path)


def run_group(tune, name, configs, out, args):
    """The group's trials on Tune, ASHA for the stopping-asha group; returns (finished, failed, stopped).

    Trials of an earlier Tune run that was cut short (Ctrl-C, a killed driver) go on in that run, restored by
    Tuner.restore: each from its last checkpoint. The others run in a new Tuner over their grid."""
    todo = {trial_key(c): c for c in configs}
    counts = [0, 0, 0]
    for run_name, entry in read_ledger(out).items():
        keys = [k for k in entry.get("keys", ()) if k in todo]
        if entry.get("group") != name or not keys:
            continue
        if entry.get("out") != out:  # its trials would write to the folder it was in: they start again here
            print(f"mlp_study: the Tune run {run_name} was made in {entry.get('out')}, not {out}; its {len(keys)} "
                  "unfinished trial(s) start again", file=sys.stderr, flush=True)
            continue
        path = os.path.join(out, run_name)
        try:
            if not tune.Tuner.can_restore(path):
                continue
            tuner = tune.Tuner.restore(path, trainable=tune.with_resources(trainable, {"cpu": args.cpus_per_trial}),
                                       resume_unfinished=True, resume_errored=True)
        except Exception as e:  # noqa: BLE001 (any failure to restore: those trials start again, from epoch 0)
            print(f"mlp_study: cannot restore the Tune run {path} ({type(e).__name__}: {e}); its {len(keys)} "
                  "unfinished trial(s) start again", file=sys.stderr, flush=True)
            continue
        print(f"{name}: {len(keys)} unfinished trial(s) of the Tune run {run_name} go on from their last checkpoint",
              flush=True)
        counts = [a + b for a, b in zip(counts, collect(tuner, out, keys))]
        for k in keys:
            todo.pop(k)
    if not todo:
        return tuple(counts)
    from ray.tune.schedulers import ASHAScheduler

    space = [{**c, "_key": k, "_out": out} for k, c in todo.items()]
    scheduler = None
    if name == "stopping-asha":
        epochs = space[0]["epochs"]
        scheduler = ASHAScheduler(time_attr="epoch", metric="val_error", mode="min", max_t=epochs,
                                  grace_period=min(ASHA["grace_period"], epochs),
                                  reduction_factor=ASHA["reduction_factor"])
    i = len(load_records(out))
    while os.path.exists(os.path.join(out, f"{name}-{i}")):
        i += 1
    run_name = f"{name}-{i}"
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": args.cpus_per_trial}),
        param_space={"_trial": tune.grid_search(space)},
        tune_config=tune.TuneConfig(scheduler=scheduler, reuse_actors=True),
        run_config=tune.RunConfig(name=run_name, storage_path=out, verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=args.retries),
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
    )
    add_to_ledger(out, run_name, name, todo)  # before it runs: a --resume after a kill finds it
    return tuple(a + b for a, b in zip(counts, collect(tuner, out, todo)))


def collect(tuner, out, keys):
    """Fit tuner; record each trial of `keys` that has no record of its own yet; (finished, failed, stopped)."""
    import shutil

    results, interrupted = fit(tuner)
    records = load_records(out)
    ran = failed = stopped = 0
    for res in results:
        if not res.config:  # never started (an interrupted run): no record, so --resume runs it
            continue
        c = res.config["_trial"]
        rec = records.get(c["_key"])
        if rec is not None and rec.get("status") != "failed" and not interrupted and res.path:
            for ck in glob.glob(os.path.join(res.path, "checkpoint_*")):  # a finished trial needs none
                shutil.rmtree(ck, ignore_errors=True)
        if c["_key"] not in keys:  # a trial of a restored Tune run that had finished before
            continue
        if rec is not None and rec.get("status") != "failed":  # the trial recorded itself: it ran to its end
            stop = rec.get("stopped_by_patience", False)
            stopped += stop
            ran += not stop
            continue
        cfg = {k: v for k, v in c.items() if not k.startswith("_")}
        hist = res.metrics_dataframe
        curve = [float(v) for v in hist["val_error"]] if hist is not None and "val_error" in hist else []
        if res.error is not None:  # crashed even after the retries: recorded, never dropped
            failed += 1
            write_record(out, {"key": c["_key"], "status": "failed", "config": cfg, "error": repr(res.error)[:500],
                               "val_curve": curve, "epochs_run": len(curve)})
        elif curve and not interrupted:  # ended without its own record: ASHA stopped it, early or at max_t
            early = len(curve) < cfg["epochs"]
            stopped += early
            ran += not early
            write_record(out, {"key": c["_key"], "status": "stopped_early" if early else "finished", "config": cfg,
                               "best_val_error": min(curve), "last_val_error": curve[-1], "epochs_run": len(curve),
                               "val_curve": curve, "seconds": float(hist["time_total_s"].iloc[-1])})
    if interrupted:  # trials cut short by Ctrl-C keep no record: --resume runs them again
        raise KeyboardInterrupt
    return ran, failed, stopped


def fit(tuner):
    """(tuner.fit(), whether Ctrl-C interrupted it). Tune ends a run on the first SIGINT and returns normally,
    putting back the handler it found; so ours is back afterwards exactly when it was interrupted."""
    import signal
    import threading

    def ours(sig, frame):  # Tune did not catch SIGINT (TUNE_DISABLE_SIGINT_HANDLER): stop as Python does
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        return tuner.fit(), False
    before = signal.signal(signal.SIGINT, ours)
    try:
        results = tuner.fit()
        catches = os.environ.get("TUNE_DISABLE_SIGINT_HANDLER", "0") in ("", "0")
        return results, catches and signal.getsignal(signal.SIGINT) is ours
    finally:
        signal.signal(signal.SIGINT, before)
