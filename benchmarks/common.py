"""Shared benchmark machinery: machine description, paired timing (minigrad vs torch), JSON output."""
import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time

import numpy as np

from minigrad.utils.cli import (  # noqa: F401  (re-exported: benchmarks use common.cli, common.positive_int, ...)
    UsageError, cli, nonempty_path, nonnegative_int, positive_int, unit_interval, writable_dir,
)
from reference.checks import require_gpu, require_torch  # noqa: F401  (what torch's side needs: reference/)


def machine():
    """CPU, cores, BLAS, GPU and library versions, printed by every benchmark."""
    info = {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(), "numpy": np.__version__,
            "cpu": _cpu_model(), "cores": os.cpu_count()}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = ", ".join(f"{d.get('internal_api')} {d.get('version')} ({d.get('num_threads')} threads, "
                                 f"{d.get('architecture')})" for d in threadpool_info() if d.get("user_api") == "blas")
    except ImportError:
        info["blas"] = "unknown (threadpoolctl not installed)"
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        info["torch"] = None
    from minigrad import kernels
    from minigrad.backend import cupy_available

    info["minigrad_kernels"] = kernels.status()

    if cupy_available():
        import cupy

        info["cupy"] = cupy.__version__
        info["gpu"] = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var):
            info[var] = os.environ[var]
    return info


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_machine(info):
    print("machine: " + "; ".join(f"{k}={v}" for k, v in info.items()))


def paired(fns, rounds, warmup=1, sync=None):
    """Time each callable in `fns` (dict name -> fn) alternately, `rounds` times after `warmup` untimed rounds.

    Returns name -> list of seconds. Alternating keeps slow drifts of the machine from favouring one side.
    """
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
            if sync:
                sync()
    times = {n: [] for n in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            if sync:
                sync()
            t0 = time.perf_counter()
            fns[n]()
            if sync:
                sync()
            times[n].append(time.perf_counter() - t0)
    return times


def summary(times, ref="torch"):
    """Median, spread (min-max) per name and the ratio name/ref computed pair by pair."""
    out = {}
    for n, ts in times.items():
        row = {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts), "rounds": len(ts)}
        if ref in times and n != ref:
            row.update(pairwise(ts, times[ref]))
        out[n] = row
    return out


def pairwise(times, ref_times, prefix="ratio"):
    """Median, min and max of times[i] / ref_times[i], round by round."""
    ratios = [a / b for a, b in zip(times, ref_times)]
    return {f"{prefix}_median": statistics.median(ratios), f"{prefix}_min": min(ratios),
            f"{prefix}_max": max(ratios)}


def base_parser(doc):
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--rounds", type=positive_int, default=5, help="timed rounds per engine")
    p.add_argument("--warmup", type=nonnegative_int, default=1, help="untimed rounds first")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cpu: numpy vs torch CPU; cuda: cupy vs torch CUDA (TF32 off)")
    p.add_argument("--json", type=nonempty_path, default=None,
                   help="write results here (default benchmarks/out/NAME.json)")
    return p


def add_data_arg(p):
    p.add_argument("--data", choices=["mnist", "random"], default="mnist",
                   help="MNIST training images (random pixels of the same shape where the files are missing), "
                        "or random pixels outright (same shapes, same work)")


def default_json(name):
    return os.path.join(os.path.dirname(__file__), "out", f"{name}.json")


def write(name, result, path=None):
    path = path or default_json(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {path}")
    return path


def require_device(device):
    """UsageError (exit code 2 under `cli`) when --device cuda is asked for on a machine that cannot run it."""
    if device == "cuda":
        require_gpu(("minigrad", "torch"), "--device cuda", "--device cpu")


def check(parser, argv, name):
    """Parse the flags, check torch, the device and the output paths: every check before any timing starts."""
    args = parser.parse_args(argv)
    require_torch("every benchmark (it times minigrad against torch)")
    require_device(args.device)
    json_path = args.json or default_json(out_name(name, args.device))
    writable_dir(os.path.dirname(os.path.abspath(json_path)), "--json")
    if getattr(args, "plot", None):
        writable_dir(os.path.dirname(os.path.abspath(args.plot)), "--plot")
    return args


def start(args, argv, name):
    """Print the machine; returns (machine info, the command line that reproduces this run)."""
    info = machine()
    print_machine(info)
    return info, command(name, argv)


def command(name, argv=None):
    """The shell command that reproduces this run (written into the JSON and into RESULTS.md)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python -m benchmarks." + name] + [shlex.quote(str(a)) for a in argv])


def out_name(name, device):
    return name + ("_cuda" if device == "cuda" else "")


def repeat(fn, iters):
    """fn called `iters` times: one timed round of a microsecond-scale op."""
    def run():
        for _ in range(iters):
            fn()

    return run


def torch_setup(device):
    import torch

    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch


def sync_for(device):
    if device != "cuda":
        return None
    import cupy
    import torch

    def sync():
        torch.cuda.synchronize()
        cupy.cuda.Device().synchronize()

    return sync
