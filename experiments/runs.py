"""A training run that survives: a checkpoint after every epoch, --resume, clean stops on Ctrl-C/SIGTERM.

Every training experiment (mnist_mlp, mnist_final, fashion_mnist, mnist_binary) goes through this one module:
- `atomic_write`: temp file in the same folder, fsync, rename; the previous file stays whole until then.
- `Run`: its --out folder. After each epoch it appends a row to metrics.csv and writes checkpoint.npz (model,
  optimizer, scheduler, RNG state, epoch counters, history); `restore()` hands that state back on --resume, so
  the resumed run ends with the same weights and history, bit for bit, as one that was never stopped.
- `run.guard()`: SIGINT/SIGTERM set a flag that the training loop reads at each step boundary
  (`run.step(snapshot)`); there the run writes snapshot() as the checkpoint (model, optimizer, RNG and the
  position inside the epoch: --resume continues from that very step), writes metrics.json marked partial, prints
  the command that resumes, and exits 130/143.
- The run prints where its outputs go when it starts; metrics.csv is mirrored into TensorBoard event files in
  <out>/tb/ when tensorboardX is installed (experiments/tblog.py).
Finished: model.npz (minigrad.save; torch engine: model.pt), figures, then metrics.json last (the marker of a
finished run); an --out holding one is refused unless --overwrite or --resume.
"""
import contextlib
import csv
import io
import os
import shlex
import shutil
import signal
import sys

import numpy

from minigrad.utils.cli import UsageError
from experiments.tblog import FOLDER as TB, EventLog

CHECKPOINT, METRICS, CSV = "checkpoint.npz", "metrics.json", "metrics.csv"
RUN_FLAGS = ("resume", "overwrite")  # how to run, not what: kept out of the config a checkpoint must match
UNCHECKED = RUN_FLAGS + ("no_progress", "out", "data_dir", "backend")  # may differ on --resume


def atomic_write(path, write, mode="wb"):
    """write(fh) into a temp file beside path, flush, fsync, rename over path (then fsync the folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself reaches the disk (not possible on every OS)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


def add_run_args(parser):
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint (same flags as the first command)")
    g.add_argument("--overwrite", action="store_true", help="replace the run --out already holds")
    return parser


def state_of(out):
    """'finished', 'partial' (a checkpoint to resume) or None (nothing of ours) for the folder out."""
    metrics = os.path.join(out, METRICS)
    if os.path.exists(metrics):
        import json

        try:
            with open(metrics) as f:
                if not json.load(f).get("partial"):
                    return "finished"
        except (OSError, ValueError, AttributeError):
            pass  # a damaged metrics.json is no finished run
    return "partial" if os.path.exists(os.path.join(out, CHECKPOINT)) else None


def check_out(args, name):
    """Refuse, before any work, an --out that holds a run unless --overwrite/--resume say what to do with it."""
    out = args.out
    state = state_of(out)
    if args.resume:
        if state is None:
            raise UsageError(f"--resume: {out} holds no checkpoint of an interrupted run ({CHECKPOINT}); "
                             "run without --resume to start one")
        if state == "finished":
            raise UsageError(f"--resume: {out} holds a finished run (its {METRICS}); nothing to resume. "
                             "Pass --overwrite to train it again, or choose another --out")
    elif state and not args.overwrite:
        what = "a finished run" if state == "finished" else "an interrupted run"
        raise UsageError(f"--out {out} holds {what} of {name}: pass --resume to continue it, --overwrite to replace "
                         "it, or choose another --out" if state == "partial" else
                         f"--out {out} holds {what} of {name}: pass --overwrite to replace it, or choose another --out")


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; raised at the next step boundary."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Run:
    """One run's --out folder: checkpoints, metrics.csv, the clean stop, the finished outputs."""

    def __init__(self, cfg, name, E, argv=None):
        self.cfg, self.name, self.E = cfg, name, E
        self.out = cfg["out"]
        os.makedirs(self.out, exist_ok=True)
        self.argv = [a for a in (sys.argv[1:] if argv is None else argv) if a not in ("--resume", "--overwrite")]
        self.signum = None
        self.epochs_done, self.label = 0, None  # label: where the checkpoint stands ("sgd epoch 3") when not plain
        self.tb = EventLog(self.out, name)
        if cfg.get("overwrite"):  # nothing of the old run may end up beside the new one
            for f in (METRICS, CHECKPOINT, CSV, "model.npz", "model.pt"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(self.out, f))
            shutil.rmtree(os.path.join(self.out, TB), ignore_errors=True)
        print(f"{name}: outputs go to {os.path.abspath(self.out)}", flush=True)

    def path(self, name):
        return os.path.join(self.out, name)

    # ---- checkpoints ---------------------------------------------------------------------------------------
    def config(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.cfg.items() if k not in UNCHECKED}

    def checkpoint(self, state):
        """Write state (a dict of state dicts, counters, history) and the config atomically to checkpoint.npz."""
        full = {**state, "config": self.config(), "rng": rng_state(self.E)}
        if self.E.name == "torch":
            save = self.E.lib.save
        else:
            import minigrad

            save = minigrad.save
        atomic_write(self.path(CHECKPOINT), lambda fh: save(full, fh))
        self.epochs_done, self.label = state["epochs_done"], state.get("label")  # what the file on disk now holds

    def restore(self):
        """The checkpoint's state on --resume (RNG restored now), else None."""
        if not self.cfg.get("resume"):
            return None
        path = self.path(CHECKPOINT)
        try:
            if self.E.name == "torch":
                state = self.E.lib.load(path, weights_only=False)
            else:
                import minigrad

                state = minigrad.load(path)
        except (OSError, ValueError, RuntimeError) as e:
            raise UsageError(f"--resume: cannot read {path} ({e}); start again with --overwrite") from None
        saved, now = state["config"], self.config()
        diff = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
        if diff:
            raise UsageError(f"--resume: {path} was written with other settings ("
                             + ", ".join(f"{k}: {saved.get(k)!r} then, {now.get(k)!r} now" for k in diff)
                             + "); resume with the first command's flags, or start again with --overwrite")
        self.epochs_done, self.label = state.get("epochs_done", 0), state.get("label")
        print(f"resuming {self.name} from {path} after {self.label or f'epoch {self.epochs_done}'}", flush=True)
        return state

    def set_rng(self, state):
        """Put back the RNG state of the checkpoint: call it after rebuilding whatever drew random numbers."""
        set_rng_state(self.E, state["rng"])

    # ---- per-epoch log -------------------------------------------------------------------------------------
    def log_rows(self, rows):
        """metrics.csv and tb/ rewritten to exactly these rows (a fresh start, or the restored history on --resume)."""
        def write(fh):
            if rows:
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        atomic_write(self.path(CSV), write, "w")
        self.tb.rows(rows)

    def log(self, row):
        """Append one epoch's row to metrics.csv as it happens."""
        new = not os.path.exists(self.path(CSV)) or os.path.getsize(self.path(CSV)) == 0
        with open(self.path(CSV), "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)
            fh.flush()
            os.fsync(fh.fileno())
        self.tb.row(row)

    # ---- clean stop ----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def guard(self, partial_metrics):
        """Install the SIGINT/SIGTERM flag; on a stop write partial_metrics() marked partial and exit 130/143."""
        import threading

        if threading.current_thread() is not threading.main_thread():  # signals reach only the main thread
            try:
                yield self
            finally:
                self.tb.close()
            return

        def flag(signum, frame):
            if self.signum is not None:  # a second Ctrl-C: stop now, as Python would
                raise KeyboardInterrupt
            self.signum = signum
            print(f"\n{signal.Signals(signum).name}: stopping at the next step boundary (again to stop at once)",
                  file=sys.stderr, flush=True)

        before = {s: signal.signal(s, flag) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        except Interrupted as e:
            self.stop(e.signum, partial_metrics())
        finally:
            self.tb.close()
            for s, h in before.items():
                signal.signal(s, h)

    def step(self, snapshot=None):
        """Call at each step boundary: once a signal has arrived, write snapshot() (the state at this boundary, its
        position in the epoch included) as the checkpoint, then raise Interrupted."""
        if self.signum is None:
            return
        if snapshot is not None:
            try:
                self.checkpoint(snapshot())
            except OSError as e:  # a full disk: the checkpoint of the last whole epoch is still whole
                print(f"{self.name}: could not write the checkpoint at this step ({e.strerror or e}); the one "
                      f"before stays", file=sys.stderr, flush=True)
        raise Interrupted(self.signum)

    def stop(self, signum, metrics):
        metrics = {**metrics, "partial": True, "status": f"interrupted by {signal.Signals(signum).name}",
                   "epochs_done": self.epochs_done}
        write_json(self.path(METRICS), metrics)
        cmd = " ".join(["python -m experiments." + self.name] + [shlex.quote(a) for a in self.argv] + ["--resume"])
        ck = (f"the checkpoint after {self.label or f'epoch {self.epochs_done}'} is in {self.path(CHECKPOINT)} "
              "(--resume continues from there, bit for bit)"
              if os.path.exists(self.path(CHECKPOINT)) else "no epoch had finished: there is no checkpoint yet")
        print(f"{self.name}: interrupted; {ck}; partial metrics in {self.path(METRICS)}.\n"
              f"resume with: {cmd}", file=sys.stderr, flush=True)
        raise SystemExit(128 + signum)

    # ---- finished ------------------------------------------------------------------------------------------
    def save_model(self, model, name="model"):
        """NAME.npz through minigrad.save (torch engine: NAME.pt); reference/convert.py moves either across."""
        if self.E.name == "torch":
            return atomic_write(self.path(name + ".pt"), lambda fh: self.E.lib.save(model.state_dict(), fh))
        import minigrad

        return atomic_write(self.path(name + ".npz"), lambda fh: minigrad.save(model.state_dict(), fh))

    def finish(self, metrics):
        """metrics.json last (it marks the run finished), then the checkpoint goes."""
        write_json(self.path(METRICS), metrics)
        self.tb.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path(CHECKPOINT))
        print(f"{self.name}: outputs in {os.path.abspath(self.out)}", flush=True)


def write_json(path, obj):
    import json

    text = json.dumps(obj, indent=2, default=jsonable)
    return atomic_write(path, lambda fh: fh.write(text), "w")


def rng_state(E):
    """The engine's random state (dropout masks and initial weights draw from it) as plain data."""
    s = {"cpu": E.lib.get_rng_state()}  # minigrad's CPU generator is torch's, state bytes included (issue 20)
    if E.name == "torch" and E.device == "cuda":
        s["cuda"] = E.lib.cuda.get_rng_state()
    return s


def set_rng_state(E, s):
    if "cpu" not in s:
        raise RuntimeError("this checkpoint holds the random state minigrad had before it drew torch's streams "
                           "(issue 20): it cannot resume the same run; start it again")
    E.lib.set_rng_state(s["cpu"])
    if E.name == "torch" and "cuda" in s:
        E.lib.cuda.set_rng_state(s["cuda"])


def savefig_atomic(fig, path):
    """A figure written whole or not at all."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, dpi=110, format=os.path.splitext(path)[1][1:] or "png")
    return atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def jsonable(o):
    """json.dumps's default= for NumPy scalars and arrays."""
    if isinstance(o, (numpy.floating, numpy.integer)):
        return o.item()
    if isinstance(o, numpy.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")
