"""The MLP study's outputs from its trial records: results.csv/json, table.md (mean and 95% CI over seeds), figures.

Figures (each only when its trials exist): val_error_vs_width.png (one line per depth, joint search),
val_error_vs_depth.png, optimizer.png, activation.png, regularisation.png (error bars: 95% CI over seeds),
stopping_curves.png (validation error per epoch under each stopping rule), joint_heatmap.png.
"""
import csv
import json
import math
import os
from collections import defaultdict

import numpy as np

from experiments import common

COLUMNS = ["key", "status", "group", "factor", "value", "seed", "optimizer", "lr", "activation", "hidden",
           "regularisation", "stopping", "epochs", "subset", "best_val_error", "last_val_error", "epochs_run",
           "seconds"]
# t_{0.975, df} for df = 1..10; above that the normal 1.96 is within 2% of t
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def mean_ci(values):
    """(mean, half-width of the 95% t interval) over seeds; half-width nan for a single value."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    t = _T975[len(v) - 2] if len(v) - 1 <= len(_T975) else 1.96
    return float(v.mean()), float(t * v.std(ddof=1) / math.sqrt(len(v)))


def flat(rec):
    c = rec["config"]
    row = {k: c.get(k) for k in COLUMNS if k in c}
    row.update({k: rec.get(k) for k in ("key", "status", "best_val_error", "last_val_error", "epochs_run", "seconds")})
    row["hidden"] = "-".join(map(str, c["hidden"]))
    return row


def by_config(rows):
    """{(group, value): [rows over seeds]} of the trials that produced a validation error."""
    out = defaultdict(list)
    for r in rows:
        if r.get("best_val_error") is not None:
            out[(r["group"], str(r["value"]))].append(r)
    return out


def write_outputs(out, records, label=None):
    rows = sorted((flat(r) for r in records), key=lambda r: (r["group"], str(r["value"]), r["seed"]))
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    full = [{**flat(r), "val_curve": r.get("val_curve", []), "error": r.get("error")} for r in records]
    common.write_json(os.path.join(out, "results.json"), {"label": label, "trials": full})
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table(rows, label))
    figures(out, rows, {r["key"]: r for r in records}, label)


def table(rows, label=None, top=10):
    """Markdown: per factor, each value's mean best validation error and 95% CI over seeds; best first overall."""
    groups = by_config(rows)
    stats = []
    for (group, value), rs in groups.items():
        m, h = mean_ci([r["best_val_error"] for r in rs])
        stats.append((m, h, group, value, len(rs), np.mean([r["epochs_run"] for r in rs])))
    lines = [f"> {label}\n"] if label else []
    lines += ["| rank | group | configuration | best val. error (%) mean ± 95% CI | seeds | epochs run (mean) |",
              "|---|---|---|---|---|---|"]
    for i, (m, h, group, value, n, ep) in enumerate(sorted(stats)[:top]):
        ci = "n/a" if math.isnan(h) else f"{100 * h:.2f}"
        lines.append(f"| {i + 1} | {group} | {value} | {100 * m:.2f} ± {ci} | {n} | {ep:.1f} |")
    lines.append("\nEvery configuration, by group:\n")
    lines += ["| group | value | mean (%) | ± 95% CI | seeds |", "|---|---|---|---|---|"]
    for m, h, group, value, n, _ in sorted(stats, key=lambda s: (s[2], s[3])):
        lines.append(f"| {group} | {value} | {100 * m:.2f} | {'n/a' if math.isnan(h) else f'{100 * h:.2f}'} | {n} |")
    n_fail = sum(r["status"] == "failed" for r in rows)
    lines.append(f"\n{len(rows)} trials: {n_fail} failed, "
                 f"{sum(r['status'] == 'stopped_early' for r in rows)} stopped by ASHA.\n")
    return "\n".join(lines)


def _bars(ax, groups, group, order=None):
    vals = [v for (g, v) in groups if g == group]
    if order:
        vals = [str(o) for o in order if str(o) in vals]
    stats = [mean_ci([r["best_val_error"] for r in groups[(group, v)]]) for v in vals]
    ax.bar(range(len(vals)), [100 * m for m, _ in stats],
           yerr=[0 if math.isnan(h) else 100 * h for _, h in stats], capsize=4, color="tab:blue", alpha=0.8)
    ax.set_xticks(range(len(vals)))
    ax.set_xticklabels(vals, rotation=30, ha="right")
    ax.set(ylabel="best validation error (%)", title=f"{group} (mean, 95% CI over seeds)")


def _save(fig, path, label):
    """Save a figure; a quick or reduced run says so on the figure itself, as in table.md."""
    if label:
        fig.suptitle(label, fontsize=6, wrap=True)
        fig.tight_layout()
    return common.savefig(fig, path)


def figures(out, rows, records, label=None):
    plt = common.pyplot()
    groups = by_config(rows)
    present = {g for g, _ in groups}
    from experiments.mlp_study_design import FACTORS, JOINT

    for group in ("optimizer", "activation", "regularisation"):
        if group in present:
            fig, ax = plt.subplots(figsize=(6, 4))
            _bars(ax, groups, group, FACTORS[group])
            _save(fig, os.path.join(out, f"{group}.png"), label)
    for group, xlabel in (("depth", "hidden layers (500 units each)"), ("width", "units per layer (2 layers)")):
        if group in present:
            xs = [x for x in FACTORS[group] if (group, str(x)) in groups]
            st = [mean_ci([r["best_val_error"] for r in groups[(group, str(x))]]) for x in xs]
            fig, ax = plt.subplots(figsize=(6, 4))
            ax.errorbar(xs, [100 * m for m, _ in st], yerr=[0 if math.isnan(h) else 100 * h for _, h in st],
                        marker="o", capsize=4)
            ax.set(xlabel=xlabel, ylabel="best validation error (%)", title=f"validation error vs {group}")
            _save(fig, os.path.join(out, f"val_error_vs_{group}.png"), label)
    if "joint" in present:
        _joint(plt, out, groups, JOINT, label)
    _stopping(plt, out, rows, records, label)


def _joint(plt, out, groups, joint, label):
    acts = [a for a in joint["activation"] if any(v.endswith("-" + a) for g, v in groups if g == "joint")]
    fig, axes = plt.subplots(1, len(acts), figsize=(5 * len(acts), 4), squeeze=False)
    hfig, haxes = plt.subplots(1, len(acts), figsize=(4.5 * len(acts), 3.8), squeeze=False)
    for ax, hax, act in zip(axes[0], haxes[0], acts):
        grid = np.full((len(joint["depth"]), len(joint["width"])), np.nan)
        for i, d in enumerate(joint["depth"]):
            pts = [(w, mean_ci([r["best_val_error"] for r in groups[("joint", f"{w}x{d}-{act}")]]))
                   for w in joint["width"] if ("joint", f"{w}x{d}-{act}") in groups]
            if pts:
                ax.errorbar([w for w, _ in pts], [100 * m for _, (m, _) in pts],
                            yerr=[0 if math.isnan(h) else 100 * h for _, (_, h) in pts],
                            marker="o", capsize=3, label=f"{d} hidden layer{'s' * (d > 1)}")
            for w, (m, _) in pts:
                grid[i, joint["width"].index(w)] = 100 * m
        ax.set(xlabel="units per hidden layer", ylabel="best validation error (%)", title=f"width x depth, {act}")
        ax.legend()
        im = hax.imshow(grid, cmap="viridis_r")
        hax.set(xticks=range(len(joint["width"])), yticks=range(len(joint["depth"])), xlabel="width",
                ylabel="hidden layers", title=f"mean val. error (%), {act}")
        hax.set_xticklabels(joint["width"])
        hax.set_yticklabels(joint["depth"])
        for (i, j), v in np.ndenumerate(grid):
            if not np.isnan(v):
                hax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w", fontsize=8)
        hfig.colorbar(im, ax=hax)
    _save(fig, os.path.join(out, "joint_width_depth.png"), label)  # one line per depth
    _save(hfig, os.path.join(out, "joint_heatmap.png"), label)


def _stopping(plt, out, rows, records, label):
    """Validation error per epoch of the baseline (seed 0) under each stopping rule, ASHA's trials in grey."""
    curves = {}
    for r in rows:
        rec = records[r["key"]]
        if r["group"] == "stopping" and r["seed"] == min(x["seed"] for x in rows) and rec.get("val_curve"):
            curves[str(r["value"])] = rec["val_curve"]
    asha = [records[r["key"]] for r in rows if r["group"] == "stopping-asha" and records[r["key"]].get("val_curve")]
    if not curves and not asha:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, rec in enumerate(asha):
        c = rec["val_curve"]
        ax.plot(range(1, len(c) + 1), 100 * np.array(c), color="0.6", lw=1, label="ASHA trials" if i == 0 else None)
    for name, c in curves.items():
        ax.plot(range(1, len(c) + 1), 100 * np.array(c), marker="o", label=f"baseline, {name}")
    ax.set(xlabel="epoch", ylabel="validation error (%)", yscale="log", title="stopping rules")
    ax.legend()
    _save(fig, os.path.join(out, "stopping_curves.png"), label)


def parse_args(argv=None):
    """The results folder, checked: it exists and holds trial records (valid ones: see mlp_study.record_problem)."""
    import argparse

    p = argparse.ArgumentParser(description="Rebuild the MLP study's outputs (results.csv/json, table.md, figures) "
                                "from the trial records in a results folder.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("folder", type=common.nonempty_path,
                   help="results folder of python -m experiments.mlp_study (holds records/)")
    args = p.parse_args(argv)
    if not os.path.isdir(os.path.join(args.folder, "records")):
        p.error(f"argument folder: {args.folder} holds no records/ folder (not an mlp_study --out)")
    common.writable_dir(args.folder, "folder")
    return args


@common.cli
def main(argv=None):
    from experiments.mlp_study_design import UserError, load_records

    folder = parse_args(argv).folder
    try:
        recs = list(load_records(folder).values())
        results = os.path.join(folder, "results.json")
        label = json.load(open(results)).get("label") if os.path.exists(results) else None
    except (UserError, ValueError, OSError, AttributeError) as e:
        raise common.UsageError(f"{folder}: {e}") from None
    if not recs:
        raise common.UsageError(f"{folder}/records holds no trial records: nothing to report")
    write_outputs(folder, recs, label)


if __name__ == "__main__":  # rebuild the outputs of a results folder: python -m experiments.mlp_study_report DIR
    main()
