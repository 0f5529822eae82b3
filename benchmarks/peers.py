"""One training step of the MNIST MLP in each peer engine: minigrad, torch, JAX, HIPS autograd, MyGrad, tinygrad.

The step is the course's (Linear/ReLU MLP, cross-entropy mean, Adam lr 1e-3 with torch's formula, float32), on
batches of the first --n MNIST training images (random pixels where the files are missing), in each engine's own
idiom: minigrad and torch eager; JAX one jax.jit of the whole step (params + Adam state + batch -> new ones);
autograd and MyGrad with Adam by hand in NumPy; tinygrad its Adam under TinyJit on its CPU device (DEV=CPU, kernels
compiled by clang). "matmul_floor" is the step's 8 matrix products alone in NumPy: the machine's floor.
Each engine runs in its own process, started once per configuration (imports, compilation and 3 untimed steps
first); the parent then alternates timed rounds of --steps steps between them, the order reversed every other
round. All start from the same weights (torch's Linear init, seed 0) and see the same batches in the same order;
each reports the loss of its first step, and the run stops, naming the engine, unless every one equals the float64
NumPy loss of those weights on that batch (rtol 1e-5). Reported: ms per step (median, min-max over rounds) and the
ratio to torch, round by round. An engine not installed is skipped with one line (pip install -e '.[peers]').
    python -m benchmarks.peers --rounds 5 --steps 200
    python -m benchmarks.peers --batch-sizes 100 --wide 0 --engines minigrad torch jax
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks import common, peers_engines
from benchmarks.epoch import SIZES, build_mlp, load_images
from minigrad.utils.cli import int_in

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINES = tuple(peers_engines.IMPORTS)
RTOL = 1e-5  # float32 forward of the same weights: ~1e-6 apart, whatever each engine's order of summation
WIDE_BATCH = 100


class EnginesDisagree(common.UsageError):
    """An engine's first loss is not the reference's: it does not compute the same step, so its time would mislead."""


class WorkerFailed(Exception):
    """A worker ended without answering; the message holds its exit code and the last lines of its stderr."""


def missing(engine):
    """Why `engine` cannot run here, in one line that names what to install; None when it can."""
    module = peers_engines.IMPORTS[engine]
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed: {peers_engines.INSTALL}"
    if engine == "tinygrad" and peers_engines.tinygrad_compiler() is None:
        return "tinygrad's CPU device compiles its kernels with clang, which is not on PATH (e.g. apt install clang)"
    return None


def thread_env(n):
    """Environment variables that cap each engine at n threads: OpenMP (torch), OpenBLAS and MKL (NumPy), Numba
    (minigrad's kernels), tinygrad's CPU device, and for n = 1 XLA (JAX); {} for n = 0, each engine's default."""
    if not n:
        return {}
    env = {v: str(n) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                               "NUM_CPU_THREADS")}
    if n == 1:  # XLA's CPU client has a switch for one thread, no count: for 1 < n < cores, pin_cpus caps it
        env["XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("XLA_FLAGS"), "--xla_cpu_multi_thread_eigen=false"]))
    return env


def pin_cpus(n):
    """For a worker's preexec_fn: keep it on n of the CPUs it may use (Linux), or None where nothing needs pinning.

    Only for 1 < n < those CPUs, where an engine without a thread setting (XLA) would take them all; one-thread
    workers stay free to move, so another program's load on one core does not hold them back.
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not 1 < n < len(cpus):
        return None
    return lambda: os.sched_setaffinity(0, cpus[:n])


def worker_command(engine, setup):
    """The command that starts one engine's worker on a setup file (a seam: tests swap one engine's command)."""
    code = "import sys; from benchmarks.peers_engines import serve; serve(*sys.argv[1:])"
    return [sys.executable, "-c", code, engine, setup]


class Worker:
    """One engine in its own process: JSON lines on its stdin and stdout, its stderr in a file (kept for errors)."""

    def __init__(self, engine, setup, tmp, threads=0):
        self.engine = engine
        self.err_path = os.path.join(tmp, f"{engine}.stderr")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
                   **thread_env(threads))
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(worker_command(engine, setup), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, text=True, cwd=ROOT, env=env, preexec_fn=pin_cpus(threads))

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            with open(self.err_path) as f:
                tail = [ln.rstrip() for ln in f.read().splitlines() if ln.strip()][-8:]
            raise WorkerFailed(f"worker exited {code}; its last stderr lines:\n" + "\n".join("    " + t for t in tail))
        return json.loads(line)

    def run(self, steps):
        """Seconds for `steps` steps (timed in the worker, queued work waited for) and the last step's loss."""
        try:
            self.proc.stdin.write(json.dumps({"run": steps}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it has died: read() says how
        return self.read()

    def close(self):
        try:
            self.proc.stdin.close()  # end of input: the worker's loop returns
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def make_setup(path, X, y, batch_size, sizes, n_batches, seed=0):
    """Write the weights (torch's Linear init from seed) and the batches, in order, to path; returns the float64
    loss of those weights on the first batch, which every engine's first step must give."""
    import minigrad

    minigrad.manual_seed(seed)  # minigrad draws torch's numbers: the weights torch.manual_seed(seed) would give
    ps = [p.array.copy() for p in build_mlp(minigrad.nn, sizes).parameters()]
    Ws = list(zip(ps[::2], ps[1::2]))
    order = np.random.default_rng(seed).permutation(len(X))[:n_batches * batch_size]
    Xb, yb = X[order].reshape(n_batches, batch_size, -1), y[order].reshape(n_batches, batch_size)
    np.savez(path, layers=len(Ws), X=Xb, y=yb, **{f"W{i}": W for i, (W, _) in enumerate(Ws)},
             **{f"b{i}": b for i, (_, b) in enumerate(Ws)})
    return reference_loss(Ws, Xb[0], yb[0])


def reference_loss(Ws, x, y):
    """Cross-entropy (mean) of the MLP with weights Ws on one batch x (N, in), y (N,), in float64 NumPy."""
    h = x.astype(np.float64)
    for i, (W, b) in enumerate(Ws):
        h = h @ W.T.astype(np.float64) + b
        if i < len(Ws) - 1:
            h = np.maximum(h, 0.0)
    z = h - h.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def check_agreement(first, ref, rtol=RTOL):
    """Raise EnginesDisagree naming each engine whose first loss (engine -> float; None: no loss) is not ref."""
    bad = {e: v for e, v in first.items() if v is not None and not abs(v - ref) <= rtol * abs(ref)}
    if bad:
        good = [e for e, v in first.items() if v is not None and e not in bad]
        raise EnginesDisagree(
            "the engines do not compute the same step: first loss " + ", ".join(f"{e} {v:.7g}" for e, v in bad.items())
            + f", not the {ref:.7g} of float64 NumPy on the same weights and batch (rtol {rtol:g})"
            + (f"; {', '.join(good)} agree" if good else ""))


def time_config(args, X, y, batch_size, sizes, engines, skipped, tmp):
    """Start a worker per engine, check the first losses, alternate timed rounds; this configuration's results."""
    name = f"batch {batch_size}, {'-'.join(map(str, sizes))}"
    print(f"\n{name}:", flush=True)
    n_batches = min(len(X) // batch_size, peers_engines.READY_STEPS + (args.warmup + args.rounds) * args.steps)
    path = os.path.join(tmp, f"setup_{batch_size}_{'-'.join(map(str, sizes))}.npz")
    ref = make_setup(path, X, y, batch_size, sizes, n_batches)
    workers = {e: Worker(e, path, tmp, args.threads) for e in engines}  # all at once: imports and compiles overlap
    ready, failed = {}, {}
    try:
        for e, w in list(workers.items()):
            try:
                msg = w.read()
            except WorkerFailed as f:
                failed[e] = str(f)
                print(f"  {e}: failed, {f}")
                workers.pop(e).close()
                continue
            if "missing" in msg:  # importable in name only: skipped here and in the configurations after this one
                skipped[e] = f"{msg['missing']} ({peers_engines.INSTALL})"
                print(f"  {e}: skipped ({skipped[e]})")
                workers.pop(e).close()
                continue
            ready[e] = msg
        check_agreement({e: m["first_loss"] for e, m in ready.items()}, ref)
        started = ", ".join(f"{e} {m['ready_s']:.1f}" for e, m in ready.items())
        print(f"  ready (imports, compilation, 3 steps), s: {started}", flush=True)
        times, last_loss = {e: [] for e in workers}, {}
        for r in range(args.warmup + args.rounds):
            seen = {}
            for e in list(workers) if r % 2 == 0 else list(workers)[::-1]:  # as common.paired: no side favoured
                try:
                    msg = workers[e].run(args.steps)
                except WorkerFailed as f:
                    failed[e] = str(f)
                    print(f"  {e}: failed, {f}")
                    workers.pop(e).close()
                    times.pop(e)
                    continue
                seen[e] = msg["seconds"] * 1000 / args.steps
                if r >= args.warmup:
                    times[e].append(msg["seconds"])
                    last_loss[e] = msg["loss"]
            kind = "warm-up" if r < args.warmup else "timed"
            print(f"  round {r + 1}/{args.warmup + args.rounds} ({kind}), ms/step: "
                  + ", ".join(f"{e} {ms:.4g}" for e, ms in seen.items()), flush=True)
    finally:
        for w in workers.values():
            w.close()
    results = common.summary(times, ref="torch")
    for e, row in results.items():
        row.update({f"{k}_ms": row[f"{k}_s"] * 1000 / args.steps for k in ("median", "min", "max")})
        row.update(first_loss=ready[e]["first_loss"], last_loss=last_loss[e], version=ready[e]["version"],
                   info=ready[e]["info"], cpus=ready[e]["cpus"], ready_s=ready[e]["ready_s"])
    print_table(results, ref)
    return {"batch_size": batch_size, "sizes": list(sizes), "batches": n_batches, "reference_first_loss": ref,
            "results": results, "times": times, "failed": failed}


def print_table(results, ref):
    print(f"  first loss {ref:.6f} (float64 NumPy); every engine's within rtol {RTOL:g}")
    print(f"  {'engine':>12} {'ms/step':>9} {'min-max':>17} {'rounds':>6}  {'ratio to torch (min-max)':<26}"
          f"{'first loss':>10} {'last loss':>10}  version")
    for e, r in results.items():
        ratio = f"{r['ratio_median']:.3f} ({r['ratio_min']:.3f}-{r['ratio_max']:.3f})" if "ratio_median" in r else ""
        losses = "".join(f" {v:>10.6f}" if v is not None else f" {'-':>10}" for v in (r["first_loss"], r["last_loss"]))
        print(f"  {e:>12} {r['median_ms']:>9.4g} {r['min_ms']:>8.4g}-{r['max_ms']:<8.4g} {r['rounds']:>6}  "
              f"{ratio:<26}{losses}  {r['version']} ({r['info']})")


def configs(args):
    """[(batch size, layer sizes)]: the course MLP at each --batch-sizes, then the --wide one at batch 100."""
    out = [(b, SIZES) for b in args.batch_sizes]
    return out + ([(WIDE_BATCH, (SIZES[0], args.wide, args.wide, SIZES[-1]))] if args.wide else [])


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any worker starts."""
    p = common.base_parser(__doc__)
    p._option_string_actions["--rounds"].help = "timed rounds per engine and configuration"
    p._option_string_actions["--warmup"].help = "untimed rounds of --steps steps first (after 3 untimed steps)"
    p._option_string_actions["--device"].help = "cpu only: the peers are timed on the CPU (cuda is refused)"
    p.add_argument("--steps", type=common.positive_int, default=200, help="training steps per timed round")
    p.add_argument("--batch-sizes", type=common.positive_int, nargs="+", default=[1, 100, 1000],
                   help="batch sizes at which the course MLP (784-500-300-10) is timed, one table each")
    p.add_argument("--wide", type=common.nonnegative_int, default=4096,
                   help=f"hidden width W of the wide MLP (784-W-W-10, batch {WIDE_BATCH}); 0 skips it")
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES),
                   help="engines to time (torch gives the ratios)")
    p.add_argument("--n", type=common.positive_int, default=20000, help="training images the batches are drawn from")
    p.add_argument("--threads", type=int_in(0, os.cpu_count()), default=0,
                   help="threads per engine (OpenMP, BLAS, Numba, tinygrad, XLA); 0: each engine's own default")
    common.add_data_arg(p)
    if p.parse_args(argv).device == "cuda":
        raise common.UsageError("benchmarks.peers times the engines on the CPU: --device cuda is not supported (the "
                                "GPU is timed by benchmarks.epoch --device cuda); run it with --device cpu")
    args = common.check(p, argv, "peers")
    largest = max([b for b, _ in configs(args)])
    if args.n < largest:
        raise common.UsageError(f"--n {args.n} is smaller than the batch size {largest}: not one whole batch")
    return args


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "peers")
    skipped = {e: why for e in args.engines if (why := missing(e))}
    for e, why in skipped.items():
        print(f"{e}: skipped ({why})")
    X, y, source = load_images(args.n, source=args.data)
    out = []
    with tempfile.TemporaryDirectory(prefix="peers_") as tmp:
        for batch_size, sizes in configs(args):
            engines = [e for e in args.engines if e not in skipped]
            out.append(time_config(args, X, y, batch_size, sizes, engines, skipped, tmp))
    versions = {e: r["version"] for c in out for e, r in c["results"].items()}
    common.write("peers", {"command": cmd, "machine": info, "args": vars(args), "data": source, "versions": versions,
                           "skipped": skipped, "configs": out}, args.json)
    return out


if __name__ == "__main__":
    main()
