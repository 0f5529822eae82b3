"""The GPU check (`make gpu-check`): everything a lent GPU machine should confirm, in under 8 minutes.

Runs from the working tree (PYTHONPATH=., no pip install). Prints the device, driver, CUDA, CuPy and torch
versions first, then runs, each with its own time limit inside one overall budget:
  kernels  tests/test_kernels_gpu.py: the CUDA kernels against the xp formulas, graph capture
  tests    the whole suite on the real CuPy backend (HYPOTHESIS_PROFILE=ci, -k "cupy and not cupy_contract")
  mnist    python -m experiments.mnist_mlp --backend cupy, 20 epochs: test error, seconds per epoch
  parity   python -m experiments.parity --backend cupy: CuPy vs torch CUDA (float64 per step, float32 from
           identical state)
  bench    python -m benchmarks.run_all --device cuda with short rounds (RESULTS.md rows for the GPU)
Logs and gpu_check.json go to $OUT when set (else benchmarks/out/gpu_check). Without a GPU it runs what it can (the
CUDA sources through NVRTC and on the CPU, the graph fallbacks), says in one line what it skipped and why, exits 0.
    PYTHONPATH=. python -m benchmarks.gpu_check [--budget 450] [--only kernels tests]
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (name, seconds allowed, needs MNIST files); together under the 8 minutes with room for start-up
PARTS = (("kernels", 40, False), ("tests", 160, False), ("mnist", 100, True), ("parity", 60, True),
         ("bench", 90, False))


def versions():
    """Device, driver, CUDA runtime, CuPy, torch: what a result is about. Values are strings ('-' if absent)."""
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": platform.python_version()}
    try:
        import cupy

        rt = cupy.cuda.runtime
        info["cupy"] = cupy.__version__
        info["device"] = rt.getDeviceProperties(0)["name"].decode()
        info["driver"] = _cuda_version(rt.driverGetVersion())
        info["cuda_runtime"] = _cuda_version(rt.runtimeGetVersion())
    except Exception as e:  # no GPU (or no CuPy): said once, below
        info["cupy_error"] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
    try:
        import torch

        info["torch"] = f"{torch.__version__} (CUDA {torch.version.cuda}, GPU visible: {torch.cuda.is_available()})"
    except ImportError:
        info["torch"] = "-"
    return info


def _cuda_version(v):
    return f"{v // 1000}.{v % 1000 // 10}"


def gpu_problem(info):
    """Why the GPU parts cannot run here, or None."""
    if "device" not in info:
        return f"no CUDA GPU usable by CuPy ({info.get('cupy_error', 'CuPy missing')})"
    if "GPU visible: True" not in info.get("torch", ""):
        return "torch sees no CUDA GPU (the tests and parity compare against torch CUDA)"
    return None


def commands(out):
    py = sys.executable
    bench_dir = os.path.join(out, "bench")
    return {
        "kernels": [py, "-m", "pytest", "-q", "-ra", "tests/test_kernels_gpu.py"],
        "tests": [py, "-m", "pytest", "-q", "-ra", "--durations=10", "-k", "cupy and not cupy_contract", "tests"],
        "mnist": [py, "-m", "experiments.mnist_mlp", "--backend", "cupy", "--epochs", "20", "--no-progress",
                  "--out", os.path.join(out, "mnist_mlp")],
        "parity": [py, "-m", "experiments.parity", "--backend", "cupy", "--no-progress",
                   "--out", os.path.join(out, "parity")],
        "bench": [py, "-m", "benchmarks.run_all", "--device", "cuda", "--short", "--out-dir", bench_dir,
                  "--only", "epoch", "memory", "scaling", "overhead", "ops",  # subnormals: a CPU matter
                  "--results", os.path.join(out, "RESULTS_cuda.md")],
        "compile": [py, "-m", "pytest", "-q", "-ra", "tests/test_kernels_cuda.py", "tests/test_kernels_source.py",
                    "tests/test_cuda_graph.py"],
    }


def run_part(name, cmd, limit, out):
    """Run one part with its time limit; its output goes to OUT/NAME.log and, line by line, to the console."""
    env = {**os.environ, "HYPOTHESIS_PROFILE": "ci", "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log_path = os.path.join(out, f"{name}.log")
    print(f"\n=== {name} (limit {limit:.0f}s): {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        try:
            p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=limit)
            status = "passed" if p.returncode == 0 else f"failed (exit {p.returncode})"
        except subprocess.TimeoutExpired:
            status = f"timed out after {limit:.0f}s"
    with open(log_path) as f:
        text = f.read()
    print("\n".join(text.rstrip().splitlines()[-25:]))
    row = {"status": status, "seconds": round(time.perf_counter() - t0, 1), "log": log_path}
    row.update(FIGURES.get(name, lambda t, o: {})(text, out))
    print(f"=== {name}: {status} in {row['seconds']}s", flush=True)
    return row


def _pytest_figures(text, out):
    m = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s", text, re.M)
    return {"summary": m[-1] if m else None}


def _mnist_figures(text, out):
    path = os.path.join(out, "mnist_mlp", "metrics.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        m = json.load(f)
    return {"test": m.get("test"), "median_epoch_seconds": m.get("median_epoch_seconds")}


def _parity_figures(text, out):
    return {"table": [line for line in text.splitlines() if "PASS" in line or "FAIL" in line]}


def _bench_figures(text, out):
    rows = {}
    from benchmarks.run_all import NAMES

    for name in NAMES:
        path = os.path.join(out, "bench", f"{name}_cuda.json")
        if os.path.exists(path):
            with open(path) as f:
                res = json.load(f).get("results", {})
            rows[name] = {k: {kk: v for kk, v in r.items() if kk.startswith(("median", "ratio"))}
                          for k, r in res.items() if isinstance(r, dict)}
    return {"results": rows}


FIGURES = {"kernels": _pytest_figures, "tests": _pytest_figures, "compile": _pytest_figures,
           "mnist": _mnist_figures, "parity": _parity_figures, "bench": _bench_figures}


def data_present():
    """True when MNIST and Fashion-MNIST load as the experiments find them ($MINIGRAD_DATA, ./data, ...)."""
    try:
        from minigrad.data.datasets import MNIST, FashionMNIST

        MNIST(train=False), FashionMNIST(train=False)
        return True
    except Exception:  # not found, or a bad checksum: the experiments would fail the same way
        return False


def parse_args(argv=None):
    """Every flag checked, and the output folder ($OUT), before any part runs."""
    from minigrad.utils.cli import positive_float, writable_dir

    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--budget", type=positive_float, default=450, help="seconds for all parts together")
    p.add_argument("--only", nargs="+", choices=[n for n, _, _ in PARTS], help="run only these parts")
    args = p.parse_args(argv)
    args.out = os.environ.get("OUT") or os.path.join(ROOT, "benchmarks", "out", "gpu_check")
    writable_dir(args.out, "$OUT")
    return args


def main(argv=None):
    from minigrad.utils.cli import cli

    return cli(_main)(argv)


def _main(argv=None):
    args = parse_args(argv)
    out = args.out
    info = versions()
    print("gpu-check: " + "; ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    problem, data_ok = gpu_problem(info), data_present()
    cmds, report, skipped = commands(out), {"versions": info, "parts": {}}, {}
    start = time.perf_counter()
    wanted = [(n, lim, d) for n, lim, d in PARTS if not args.only or n in args.only]
    if problem:  # what runs without a GPU: every CUDA source through NVRTC, the dispatch and capture fallbacks
        report["parts"]["compile"] = run_part("compile", cmds["compile"], 120, out)
    for name, limit, needs_data in wanted:
        left = args.budget - (time.perf_counter() - start)
        if problem:
            skipped[name] = problem
        elif needs_data and not data_ok:
            skipped[name] = "MNIST / Fashion-MNIST not found (set MINIGRAD_DATA to the folder holding mnist/)"
        elif left < 15:
            skipped[name] = "time budget spent"
        else:
            report["parts"][name] = run_part(name, cmds[name], min(limit, left), out)
    report["skipped"] = skipped
    if skipped:
        by_reason = {}
        for name, why in skipped.items():
            by_reason.setdefault(why, []).append(name)
        print("gpu-check: skipped " + "; ".join(f"{', '.join(n)} ({why})" for why, n in by_reason.items()))
    report["seconds"] = round(time.perf_counter() - start, 1)
    with open(os.path.join(out, "gpu_check.json"), "w") as f:
        json.dump(report, f, indent=2, default=str)
    failed = [n for n, r in report["parts"].items() if r["status"] != "passed"]
    print(f"gpu-check: {'FAILED: ' + ', '.join(failed) if failed else 'all run parts passed'} "
          f"({report['seconds']}s); wrote {os.path.join(out, 'gpu_check.json')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
