"""Peak memory of one MNIST-MLP training epoch (784-500-300-10, Adam, batch 100): minigrad vs torch.

Method. Each engine runs in its own fresh subprocess (`--child ENGINE`), so neither sees the other's
allocations or allocator caches. The child first imports its engine, as a program does before training, and
records what that costs:
  library_rss = VmRSS after `import torch`, or after `import minigrad` and loading the kernels an epoch uses
                (Numba, LLVM), - VmRSS before.
Then it loads the images, puts them on the device
and builds model, loss and optimizer; then, after `gc.collect()`, it takes the baseline: VmRSS from
/proc/self/status, and it resets the kernel's high-water mark (writing "5" to /proc/self/clear_refs sets VmHWM
back to the current RSS; where the kernel refuses, VmHWM still holds the data-loading peak, which the JSON flags
as `hwm_reset: false`). It trains one epoch (optimizer state is created inside it, as in real training) and
reads VmHWM again:
  rss_growth = VmHWM after the epoch - VmRSS baseline   (host memory, both engines, the headline number).
This sees every allocation, NumPy's and torch's native CPU allocator alike (tracemalloc cannot see torch's).
For minigrad on CPU the child then runs a second epoch under tracemalloc, which NumPy reports its buffers to:
  tracemalloc_peak = peak bytes traced during that epoch (steady-state working set: activations, gradients,
  temporaries; optimizer state already exists); for torch it is null.
With --device cuda the GPU peak over the same baseline is added:
  minigrad: a cupy.cuda.MemoryHook sums the memory pool's malloc minus free sizes and keeps the maximum
  (the peak of `MemoryPool.used_bytes()` over the epoch, not just its end value); pool total_bytes() is noted.
  torch: torch.cuda.max_memory_allocated() after torch.cuda.reset_peak_memory_stats(), minus
  memory_allocated() at the baseline; max_memory_reserved() is noted.
The growth includes first-use set-up inside the epoch (torch's thread pools and kernels, optimizer state);
`--warm-step` takes one training step before the baseline to leave those out.
`--rounds` repeats the pair of subprocesses; medians, min-max and pairwise ratios minigrad/torch are reported.
    python -m benchmarks.memory --n 54000
"""
import argparse
import gc
import json
import os
import statistics
import subprocess
import sys

import numpy as np

from benchmarks import common
from benchmarks.epoch import build_mlp, load_images

MARK = "MEMORY_JSON "
ENGINES = ("minigrad", "torch")


def proc_status():
    """VmRSS and VmHWM of this process in bytes (Linux)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, val = line.split(":", 1)
                out[key] = int(val.split()[0]) * 1024
    return out


def reset_hwm():
    """Set VmHWM back to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakCounter:
    """Bytes taken from the pool minus bytes given back, and the maximum of that running sum."""

    name = "minigrad_peak"

    def __init__(self):
        self.used = self.peak = 0

    def malloc_postprocess(self, device_id, size, mem_size, mem_ptr, pmem_id):
        self.used += mem_size
        self.peak = max(self.peak, self.used)

    def free_postprocess(self, device_id, mem_size, mem_ptr, pmem_id):
        self.used -= mem_size


class _CupyPeak:
    """Peak of the CuPy pool's used bytes since start(), via a cupy.cuda.MemoryHook (PeakCounter)."""

    def __init__(self):
        import cupy

        hook_cls = type("PeakHook", (PeakCounter, cupy.cuda.MemoryHook), {})
        self.cupy, self.hook = cupy, hook_cls()

    def start(self):
        self.cupy.cuda.Device().synchronize()
        self.hook.__enter__()
        return self.cupy.get_default_memory_pool().used_bytes()

    def stop(self):
        self.cupy.cuda.Device().synchronize()
        self.hook.__exit__(None, None, None)
        return {"gpu_peak_growth": self.hook.peak, "gpu_pool_total": self.cupy.get_default_memory_pool().total_bytes()}


def _epoch_fn(engine, device, X, y, batch_size, dtype, seed=0):
    """One engine's model, optimizer and device-resident data; returns the epoch callable (as epoch.setup)."""
    if engine == "minigrad":
        import minigrad as lib

        lib.manual_seed(seed)
        dev = "cuda" if device == "cuda" else "cpu"
    else:
        lib = common.torch_setup(device)
        lib.manual_seed(seed)
        dev = device
    model = build_mlp(lib.nn).to(dev)
    if dtype == "float64":
        model = model.double()
    opt, loss_fn = lib.optim.Adam(model.parameters(), lr=1e-3), lib.nn.CrossEntropyLoss()
    order = np.random.default_rng(seed).permutation(len(X))
    if engine == "minigrad":
        Xd, yd, od = (lib.tensor(a, device=dev) for a in (X.astype(dtype), y, order))
    else:
        Xd, yd, od = (lib.from_numpy(a).to(dev) for a in (X.astype(dtype), y, order))
    n = len(X)

    def epoch(steps=None):
        for s in range(0, n if steps is None else steps * batch_size, batch_size):
            idx = od[s:s + batch_size]
            loss = loss_fn(model(Xd[idx]), yd[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch


def library(engine, dtype):
    """Import the engine, as a program does before it trains: torch, or minigrad and its compiled kernels."""
    if engine == "torch":
        import torch  # noqa: F401
    else:
        from minigrad import kernels

        # Numba, LLVM and the kernels the epoch runs (from the disk cache when present)
        kernels.load(["adam", "relu", "relu_backward"], (dtype,))


def child(args):
    """Measure one engine in this (fresh) process; print the result as one JSON line."""
    rss0 = proc_status()["VmRSS"]
    library(args.child, args.dtype)
    library_rss = proc_status()["VmRSS"] - rss0
    X, y, source = load_images(args.n, source=args.data)
    epoch = _epoch_fn(args.child, args.device, X, y, args.batch_size, args.dtype)
    if args.warm_step:  # one step first: library initialisation and optimizer state fall before the baseline
        epoch(steps=1)
    gpu = None
    if args.device == "cuda":
        if args.child == "minigrad":
            gpu = _CupyPeak()
        else:
            import torch

            torch.cuda.synchronize()
    gc.collect()
    base = proc_status()["VmRSS"]
    hwm_reset = reset_hwm()
    if args.device == "cuda":
        if gpu is not None:
            gpu_base = gpu.start()
        else:
            torch.cuda.reset_peak_memory_stats()
            gpu_base = torch.cuda.memory_allocated()
    epoch()
    out = {"engine": args.child, "data": source, "hwm_reset": hwm_reset, "rss_baseline": base,
           "library_rss": library_rss}
    if args.device == "cuda":
        if gpu is not None:
            out.update(gpu.stop(), gpu_baseline=gpu_base)
        else:
            torch.cuda.synchronize()
            out.update(gpu_peak_growth=torch.cuda.max_memory_allocated() - gpu_base, gpu_baseline=gpu_base,
                       gpu_reserved_peak=torch.cuda.max_memory_reserved())
    st = proc_status()
    out.update(rss_hwm=st["VmHWM"], rss_growth=st["VmHWM"] - base, rss_after=st["VmRSS"])
    out["tracemalloc_peak"] = None
    if args.child == "minigrad" and args.device == "cpu" and not args.no_tracemalloc:
        import tracemalloc

        tracemalloc.start()
        epoch()
        out["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(MARK + json.dumps(out), flush=True)


def run_child(engine, args):
    cmd = [sys.executable, "-m", "benchmarks.memory", "--child", engine, "--device", args.device, "--n",
           str(args.n), "--batch-size", str(args.batch_size), "--dtype", args.dtype, "--data", args.data]
    cmd += ["--no-tracemalloc"] * args.no_tracemalloc + ["--warm-step"] * args.warm_step
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"memory child for {engine} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(MARK):])


METRICS = ("rss_growth", "tracemalloc_peak", "gpu_peak_growth", "library_rss")


def summarize(runs):
    """engine -> metric -> median/min/max over rounds; minigrad's ratio to torch pair by pair (round by round)."""
    res = {}
    for engine, rs in runs.items():
        res[engine] = {}
        for m in METRICS:
            vals = [r.get(m) for r in rs]
            if any(v is None for v in vals):
                continue
            row = {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}
            other = runs.get("torch") if engine != "torch" else None
            if other and all(o.get(m) for o in other):
                ratios = [a / o[m] for a, o in zip(vals, other)]
                row.update(ratio_median=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios))
            res[engine][m] = row
    return res


def build_parser():
    p = common.base_parser(__doc__)
    p.set_defaults(rounds=1, warmup=0)
    p._option_string_actions["--rounds"].help = "pairs of fresh subprocesses (one per engine) to run"
    p._option_string_actions["--warmup"].help = argparse.SUPPRESS  # nothing to warm: each run is a fresh process
    p.add_argument("--n", type=common.positive_int, default=54000, help="images in the epoch")
    p.add_argument("--batch-size", type=common.positive_int, default=100, help="images per training step")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="floating-point type of data and parameters")
    common.add_data_arg(p)
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES), help="engines to measure")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip minigrad's second, traced epoch")
    p.add_argument("--warm-step", action="store_true",
                   help="take one training step before the baseline (excludes first-use library set-up and "
                        "optimizer state from the growth)")
    p.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    return p


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any timing starts."""
    return common.check(build_parser(), argv, "memory")


@common.cli
def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if "--child" in argv:  # inside the fresh subprocess: no machine print, no JSON file
        return child(build_parser().parse_args(argv))
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "memory")
    runs = {e: [] for e in args.engines}
    for r in range(args.rounds):
        order = args.engines if r % 2 == 0 else args.engines[::-1]
        for e in order:
            runs[e].append(run_child(e, args))
    res = summarize(runs)
    mib = 2 ** 20
    for e, rows in res.items():
        parts = [f"{m} {row['median'] / mib:.1f} MiB" + (
            f" (ratio to torch {row['ratio_median']:.2f}, {row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
            if "ratio_median" in row else "") for m, row in rows.items()]
        print(f"{e:>9}: " + "; ".join(parts))
    common.write(common.out_name("memory", args.device), {
        "command": cmd, "machine": info, "args": vars(args), "data": runs[args.engines[0]][0]["data"],
        "results": res, "runs": runs}, args.json)
    return res


if __name__ == "__main__":
    main()
