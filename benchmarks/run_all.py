"""Run every benchmark with modest defaults, then regenerate benchmarks/RESULTS.md from the JSON they wrote.

Each benchmark runs as `python -m benchmarks.NAME ...` in its own process (the command is recorded in its JSON);
RESULTS.md is built only from those JSON files (date, machine, command, medians, ratios with min-max), never
from numbers typed by hand. `--report-only` skips the runs and just rebuilds RESULTS.md from the JSON present.
    python -m benchmarks.run_all                  # CPU, on a quiet machine
    python -m benchmarks.run_all --device cuda    # then the GPU rows are added to the same RESULTS.md
"""
import argparse
import glob
import importlib
import json
import os
import subprocess
import sys

from benchmarks import common

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("epoch", "ops", "overhead", "memory", "scaling", "subnormal", "rng", "breakdown", "peers")
# rng: torch's CPU streams; breakdown: the CPU mirror of the engine's NumPy calls; peers: the other engines, CPU here
CPU_ONLY = ("rng", "breakdown", "peers")
DEFAULTS = {  # modest: the whole CPU suite in roughly 15-25 minutes
    "epoch": ["--rounds", "20"],  # this VM's speed drifts ±20% over minutes: more pairs, steadier median
    "ops": ["--rounds", "10", "--iters", "50"],
    "overhead": ["--rounds", "10", "--iters", "200"],
    "memory": ["--rounds", "3"],
    "scaling": ["--rounds", "3", "--n", "6000", "--n-small", "600"],
    "subnormal": ["--rounds", "10", "--iters", "20", "--train-epochs", "3"],
    "rng": ["--rounds", "10", "--iters", "20"],
    "breakdown": ["--rounds", "7", "--steps", "200"],
    "peers": ["--rounds", "3", "--steps", "30"],  # the 4096-wide MLP in the slowest peers: ~1 s a step
}
SHORT = {  # a few rounds at full size: the GPU check's budget (benchmarks/gpu_check.py), numbers indicative
    "epoch": ["--rounds", "3"],
    "ops": ["--rounds", "3", "--iters", "20"],
    "overhead": ["--rounds", "3", "--iters", "100"],
    "memory": ["--rounds", "1"],
    "scaling": ["--rounds", "2", "--n", "6000", "--n-small", "600"],
    "subnormal": ["--rounds", "2", "--iters", "5", "--train-epochs", "1"],
    "rng": ["--rounds", "3", "--iters", "5"],
    "breakdown": ["--rounds", "3", "--steps", "100"],
    "peers": ["--rounds", "2", "--steps", "50"],
}
QUICK = {  # smoke sizes: checks the plumbing, the numbers mean nothing
    "epoch": ["--rounds", "1", "--warmup", "0", "--n", "300"],
    "ops": ["--rounds", "1", "--warmup", "0", "--iters", "1", "--batch-size", "8"],
    "overhead": ["--rounds", "1", "--warmup", "0", "--iters", "3"],
    "memory": ["--n", "300", "--no-tracemalloc"],
    "scaling": ["--rounds", "1", "--warmup", "0", "--n", "128", "--n-small", "16", "--batch-sizes", "1", "64",
                "--widths", "32", "64"],
    "subnormal": ["--rounds", "1", "--warmup", "0", "--iters", "1", "--n", "2000"],
    "rng": ["--rounds", "1", "--warmup", "0", "--iters", "1", "--n", "1000"],
    "breakdown": ["--rounds", "1", "--warmup", "0", "--steps", "2", "--n", "300"],
    "peers": ["--rounds", "1", "--warmup", "0", "--steps", "2", "--n", "300", "--batch-sizes", "8", "--wide", "64"],
}


def plan(args):
    """[(name, argv)] for the benchmarks to run; --json/--plot only when writing outside benchmarks/out."""
    out = []
    for name in args.only or [n for n in NAMES if n not in CPU_ONLY or args.device == "cpu"]:
        preset = QUICK if args.quick else SHORT if getattr(args, "short", False) else DEFAULTS
        argv = list(preset[name]) + ["--device", args.device]
        stem = common.out_name(name, args.device)
        if os.path.abspath(args.out_dir) != os.path.join(HERE, "out"):
            argv += ["--json", os.path.join(args.out_dir, stem + ".json")]
            if name == "scaling":
                argv += ["--plot", os.path.join(args.out_dir, stem + ".png")]
        out.append((name, argv))
    return out


def run(name, argv, in_process=False):
    print(f"\n=== {common.command(name, argv)}", flush=True)
    if in_process:
        return importlib.import_module(f"benchmarks.{name}").main(argv)
    root = os.path.dirname(HERE)
    code = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *argv], cwd=root).returncode
    if code:  # the benchmark has said why on stderr; stop with its exit code, no second traceback
        raise SystemExit(code)


# ---- RESULTS.md ------------------------------------------------------------------------------------------
def _ratio(row):
    if row is None or "ratio_median" not in row:
        return ""
    return f"{row['ratio_median']:.3g} ({row['ratio_min']:.3g}-{row['ratio_max']:.3g})"


def _machine(m):
    keys = ("cpu", "cores", "blas", "numpy", "torch", "torch_threads", "cupy", "gpu", "python", "minigrad_kernels")
    return "; ".join(f"{k} {m[k]}" for k in keys if m.get(k) is not None)


def _command(d, name):
    if d.get("command"):
        return d["command"]
    flags = [f"--{k.replace('_', '-')} {v}" for k, v in d.get("args", {}).items() if v not in (None, False)]
    return f"python -m benchmarks.{name} " + " ".join(flags)  # JSON from before commands were recorded


def _table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def section_rows(name, d, results_dir=HERE):
    """(headline rows for the summary, detail table lines) for one benchmark's JSON."""
    if name == "epoch":
        r = d["results"]
        rows = [[k, f"{v['median_s']:.3f}", f"{v['min_s']:.3f}-{v['max_s']:.3f}", v["rounds"], _ratio(v)]
                for k, v in r.items()]
        head = [("MNIST MLP epoch, s", f"{r['minigrad']['median_s']:.3f}", f"{r['torch']['median_s']:.3f}",
                 _ratio(r["minigrad"]))]
        if "minigrad_numpy_update" in r:
            head.append(("same, fused kernels off, s", f"{r['minigrad_numpy_update']['median_s']:.3f}",
                         f"{r['torch']['median_s']:.3f}", _ratio(r["minigrad_numpy_update"])))
        return (head,
                _table(["engine", "median s", "min-max s", "rounds", "ratio to torch (min-max)"], rows))
    if name in ("ops", "overhead", "rng"):
        r = d["results"] if name != "overhead" else {"train step (tiny MLP, batch 1)": d["results"]}
        rows = [[op, f"{v['minigrad']['median_us']:.1f}", f"{v['torch']['median_us']:.1f}", _ratio(v["minigrad"])]
                for op, v in r.items()]
        head = [(f"{op}, us", a, b, c) for op, a, b, c in rows]
        return head, _table(["op", "minigrad us", "torch us", "ratio (min-max)"], rows)
    if name == "memory":
        r, mib = d["results"], 2 ** 20
        metrics = [m for m in ("rss_growth", "tracemalloc_peak", "gpu_peak_growth", "library_rss")
                   if any(m in v for v in r.values())]

        def fmt(v):
            return "" if v is None else f"{v['median'] / mib:.1f} ({v['min'] / mib:.1f}-{v['max'] / mib:.1f})"

        rows = []
        for m in metrics:
            mg, t = r.get("minigrad", {}).get(m), r.get("torch", {}).get(m)
            rows.append([m, fmt(mg), fmt(t), _ratio(mg)])
        head = [(f"epoch peak {m}, MiB" if m != "library_rss" else "library import (RSS), MiB",
                 a.split(" ")[0], b.split(" ")[0], c) for m, a, b, c in rows]
        return head, _table(["metric", "minigrad MiB (min-max)", "torch MiB (min-max)", "ratio (min-max)"], rows)
    if name == "scaling":
        rows = []
        for sweep in ("batch", "width"):
            for pt in d[sweep]:
                res = pt["results"]
                rows.append([sweep, pt["batch_size"], "-".join(map(str, pt["sizes"])), pt["n_used"],
                             f"{res['minigrad']['epoch_s']:.3f}", f"{res['torch']['epoch_s']:.3f}",
                             f"{res['gemm_floor']['epoch_s']:.3f}", _ratio(res["minigrad"])])
        n = d["args"]["n"]
        lines = _table(["sweep", "batch", "sizes", "images run", f"minigrad s/epoch ({n})", "torch s/epoch",
                        "GEMM floor s/epoch", "ratio (min-max)"], rows)
        if d.get("plot"):
            rel = os.path.relpath(os.path.abspath(d["plot"]), results_dir)
            lines += ["", f"![scaling]({rel})"]
        head = [(f"scaling batch {r[1]} {r[2]}, s/epoch", r[4], r[5], r[7]) for r in rows]
        return head, lines
    if name == "subnormal":
        r, pct = d["results"], f"{100 * d['subnormal_fraction']:.1f}%"
        rows = [[engine, f"{v['subnormal']['median_us']:.1f}", f"{v['flushed']['median_us']:.1f}",
                 f"{v['slowdown_median']:.3g} ({v['slowdown_min']:.3g}-{v['slowdown_max']:.3g})"]
                for engine, v in r.items()]
        head = [(f"Adam step, {pct} of m subnormal, us", f"{r['minigrad']['subnormal']['median_us']:.1f}",
                 f"{r['torch']['subnormal']['median_us']:.1f}", _ratio(r["minigrad"]["subnormal"])),
                ("same, those entries set to 0, us", f"{r['minigrad']['flushed']['median_us']:.1f}",
                 f"{r['torch']['flushed']['median_us']:.1f}", _ratio(r["minigrad"]["flushed"]))]
        per = ", ".join(f"{'x'.join(map(str, q['shape']))}: {100 * q['fraction']:.1f}%"
                        for q in d.get("subnormal_per_parameter", []))
        return head, [f"{pct} of Adam's m subnormal ({d['args'].get('train_epochs') or 0} training epochs; "
                      f"0 = synthetic arrays); per parameter: {per}", "",
                      *_table(["series", "subnormal us", "flushed us", "slowdown (min-max)"], rows)]
    if name == "breakdown":
        head, lines = [], []
        parts = ("step", "matrix products", "elementwise", "optimizer kernel", "allocation", "Python overhead")
        for mode, rows in d["results"].items():
            off = "" if mode == "on" else ", fused kernels off"
            head += [(f"step breakdown{off}: {part}, ms", f"{rows[part]['median_ms']:.3f}", "", "")
                     for part in (parts if mode == "on" else ("step",))]
            lines += [f"fused kernels {mode}:", "", *_table(
                ["part", "ms/step median", "min-max", "share of step", "how"],
                [[k, f"{r['median_ms']:.3f}", f"{r['min_ms']:.3f}-{r['max_ms']:.3f}", f"{100 * r['share']:.1f}%",
                  r["how"]] for k, r in rows.items()]), ""]
        return head, lines
    if name == "peers":
        return _peers_rows(d)
    raise ValueError(name)


def _peers_rows(d):
    """A headline row per configuration (minigrad and torch, ms per step) and each one's table of every engine."""
    head, lines = [], []
    for c in d["configs"]:
        r, what = c["results"], f"step, batch {c['batch_size']} {'-'.join(map(str, c['sizes']))}"
        mg, t = r.get("minigrad"), r.get("torch")
        head.append((f"{what}, ms", f"{mg['median_ms']:.4g}" if mg else "", f"{t['median_ms']:.4g}" if t else "",
                     _ratio(mg)))
        rows = [[e, f"{v['median_ms']:.4g}", f"{v['min_ms']:.4g}-{v['max_ms']:.4g}", v["rounds"], _ratio(v),
                 v["version"]] for e, v in r.items()]
        lines += [f"{what}: every engine's first loss {c['reference_first_loss']:.6f} (float64 NumPy, rtol 1e-5)",
                  "", *_table(["engine", "ms/step median", "min-max", "rounds", "ratio to torch (min-max)",
                               "version"], rows), ""]
        lines += [f"- {e} failed: {msg.splitlines()[-1].strip()}" for e, msg in c.get("failed", {}).items()]
    lines += [f"- {e} skipped: {why}" for e, why in d.get("skipped", {}).items()]
    return head, lines


def report(out_dir, results_path):
    """Rebuild RESULTS.md from every NAME[_cuda].json in out_dir; returns its text."""
    found = []
    for name in NAMES:
        for suffix, device in (("", "cpu"), ("_cuda", "cuda")):
            path = os.path.join(out_dir, f"{name}{suffix}.json")
            if os.path.exists(path):
                with open(path) as f:
                    found.append((name, device, json.load(f)))
    summary, sections = [], []
    for name, device, d in found:
        cmd, date = _command(d, name), d["machine"].get("date", "?")
        head, lines = section_rows(name, d, os.path.dirname(os.path.abspath(results_path)))
        summary += [[what, device, a, b, ratio, date, f"`{cmd}`"] for what, a, b, ratio in head]
        sections += [f"## {name} ({device})", "",
                     f"- date: {date}", f"- machine: {_machine(d['machine'])}", f"- command: `{cmd}`",
                     *([f"- data: {d['data']}"] if d.get("data") else []), "", *lines, ""]
    text = "\n".join([
        "# minigrad benchmark results", "",
        "Generated by `python -m benchmarks.run_all` from the JSON files the benchmarks wrote "
        f"({', '.join(os.path.basename(p) for p in sorted(glob.glob(os.path.join(out_dir, '*.json'))))}); "
        "do not edit by hand. Ratio = minigrad / torch, the median of per-round ratios (min-max over rounds); "
        "below 1 means minigrad is faster (or smaller). Each row is reproduced by the command on it.", "",
        *_table(["measurement", "device", "minigrad", "torch", "ratio (min-max)", "date", "command"], summary), "",
        *sections])
    with open(results_path, "w") as f:
        f.write(text)
    print(f"wrote {results_path}")
    return text


def parse_args(argv=None):
    """Every flag checked, and the output paths (torch and the device unless --report-only), before any run."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cpu: numpy vs torch CPU; cuda: cupy vs torch CUDA")
    p.add_argument("--only", nargs="+", choices=NAMES, help="run only these benchmarks")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, numbers meaningless")
    p.add_argument("--short", action="store_true", help="few rounds at full size (the GPU check's budget)")
    p.add_argument("--report-only", action="store_true", help="no runs: rebuild RESULTS.md from existing JSON")
    p.add_argument("--in-process", action="store_true", help="call each main() here instead of a subprocess")
    p.add_argument("--out-dir", type=common.nonempty_path, default=os.path.join(HERE, "out"),
                   help="where the JSON files are")
    p.add_argument("--results", type=common.nonempty_path, default=os.path.join(HERE, "RESULTS.md"),
                   help="the report to write")
    args = p.parse_args(argv)
    if args.quick and args.short:
        p.error("argument --short: not allowed with --quick (one picks tiny sizes, the other few rounds)")
    common.writable_dir(args.out_dir, "--out-dir")
    common.writable_dir(os.path.dirname(os.path.abspath(args.results)), "--results")
    if not args.report_only:
        common.require_torch("benchmarks.run_all")
        common.require_device(args.device)
    return args


@common.cli
def main(argv=None):
    args = parse_args(argv)
    if not args.report_only:
        for name, bench_argv in plan(args):
            run(name, bench_argv, args.in_process)
    return report(args.out_dir, args.results)


if __name__ == "__main__":
    main()
