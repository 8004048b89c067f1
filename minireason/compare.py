"""Training runs side by side: `python verify.py --compare RUN RUN ...`.

A table of each run's held-out base → final (summary.json, per domain) and of its training batches over
the last WINDOW RL steps (metrics.jsonl), and one figure of all the runs' curves. Runs that differ only
by a trailing `-seedN` are one *variant*: they share a colour in the figure, and when a variant has two
runs or more the table adds a row of their mean and [min–max], so that a difference between variants can
be read against the spread between seeds.

Only the run folder's JSON files are read (no checkpoint, no JAX); matplotlib is optional, as in plots.py.
"""
from __future__ import annotations

import os
import re
from typing import NamedTuple

from minireason.metrics import fmt, rate
from minireason.plots import _figure, _save, _series, trailing_mean
from minireason.runfolder import Jsonl, RunFolderError, read_json

HELDOUT_KEYS = ("accuracy", "length_mean", "reflection_rate", "effective_reflection_rate")  # run.SUMMARY_KEYS
BATCH_KEYS = ("reward", "length_correct", "length_incorrect")
RATIO = "length_incorrect/correct"     # length_incorrect / length_correct of the window means
WINDOW = 20        # the table's training-batch columns: mean of the last 20 RL steps that logged the key
SMOOTH = 10        # the figure's batch curves: trailing mean of 10 steps (one batch a step is noisy)

# Panels of the figure: (metrics.jsonl key, title, y label). Batch keys are drawn as the SMOOTH-step mean,
# the held-out key (logged every rl.eval_every steps) as its raw points.
PANELS = [
    ("reward", "Reward (training batch)", "mean reward"),
    ("length_correct", "Length of correct answers (batch)", "tokens"),
    ("length_incorrect", "Length of wrong answers (batch)", "tokens"),
    ("reflection_rate", "Reflection (batch)", "share of completions that check or revise"),
    ("heldout_accuracy", "Accuracy on held-out problems", "share of completions"),
]
SHARES = ("reward", "reflection_rate", "heldout_accuracy")      # y from 0 to 1
LINE_STYLES = ("-", "--", ":", "-.")     # the runs of one variant, in order
MARKERS = ("o", "s", "^", "D")


class Run(NamedTuple):
    """One run folder, as read by load_runs."""
    name: str                  # the folder's basename
    config: dict               # config.json ({} if absent)
    summary: dict | None       # summary.json (None while the run has not finished)
    rows: list[dict]           # the `stage: rl` rows of metrics.jsonl, by step


def load_run(path: str) -> Run:
    """Read one run folder; RunFolderError if it is missing or holds neither summary.json nor metrics.jsonl."""
    if not os.path.isdir(path):
        raise RunFolderError(f"{path}: no such run folder")
    summary_path, metrics_path = os.path.join(path, "summary.json"), os.path.join(path, "metrics.jsonl")
    if not os.path.exists(summary_path) and not os.path.exists(metrics_path):
        raise RunFolderError(f"{path}: not a run folder (no summary.json and no metrics.jsonl)")
    config_path = os.path.join(path, "config.json")
    config = read_json(config_path) if os.path.exists(config_path) else {}
    summary = read_json(summary_path) if os.path.exists(summary_path) else None
    rows = [r for r in Jsonl(metrics_path).rows() if isinstance(r, dict) and r.get("stage") == "rl"]
    rows.sort(key=lambda r: r.get("step", 0))
    return Run(os.path.basename(os.path.normpath(path)), config, summary, rows)


def load_runs(paths) -> list[Run]:
    """The runs to compare, in the order given; RunFolderError (one line) for a bad folder, fewer than two
    runs, or two runs of the same name (the table and the legend would not tell them apart)."""
    if len(paths) < 2:
        raise RunFolderError(f"--compare needs at least 2 runs, got {len(paths)}")
    runs = [load_run(p) for p in paths]
    names = [r.name for r in runs]
    for name in names:
        if names.count(name) > 1:
            raise RunFolderError(f"two runs are named {name!r}; give each run folder its own name")
    return runs


def variant_of(name: str) -> str:
    """The run's name without a trailing `-seedN`: `grpo-seed0` and `grpo-seed1` are the variant `grpo`."""
    return re.sub(r"-seed\d+$", "", name)


def variants(runs) -> list[tuple[str, list[Run]]]:
    """(variant, its runs) in the order each variant first appears."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(variant_of(run.name), []).append(run)
    return list(groups.items())


def final_window(rows, key: str, window: int = WINDOW) -> float | None:
    """Mean of the last `window` values of `key` that are numbers (null is skipped); None if there are none."""
    _, values = _series(rows, key)
    return rate(values[-window:])


# ---- the table ----------------------------------------------------------------------------------------


def heldout(run: Run, domain: str, model: str, key: str):
    """summary.json's `key` of the `model` ("base" or "final") on `domain`; None where the run has none."""
    side = ((run.summary or {}).get("domains", {}).get(domain) or {}).get(model) or {}
    return side.get(key)


def ratio(numerator, denominator):
    """numerator / denominator; None if either is None or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def batch_values(run: Run) -> list[tuple]:
    """The training-batch cells of a run: BATCH_KEYS over the last WINDOW steps, then RATIO."""
    means = [final_window(run.rows, key) for key in BATCH_KEYS]
    by_key = dict(zip(BATCH_KEYS, means))
    return [(m,) for m in means] + [(ratio(by_key["length_incorrect"], by_key["length_correct"]),)]


def spread(values, spec: str) -> str:
    """`mean [min–max]` of the values that are not None (`–` when none is)."""
    values = [v for v in values if v is not None]
    if not values:
        return fmt(None)
    return f"{fmt(rate(values), spec)} [{fmt(min(values), spec)}–{fmt(max(values), spec)}]"


def table_body(runs, values_of, specs) -> list[tuple[str, list[tuple[str, ...]]]]:
    """(label, cells) rows: one per run, grouped by variant, and after each variant of two runs or more a
    row of its mean [min–max]. values_of(run) gives a tuple of numbers (or None) per column, one per part
    of the cell (base and final, or a single value); specs give each column's number format."""
    body = []
    for variant, group in variants(runs):
        values = [values_of(run) for run in group]                          # [run][column] -> parts
        for run, row in zip(group, values):
            body.append((run.name, [tuple(fmt(v, spec) for v in parts) for parts, spec in zip(row, specs)]))
        if len(group) >= 2:
            columns = zip(*values)                                          # [column][run] -> parts
            body.append((f"{variant}: mean [min–max] of {len(group)}",
                         [tuple(spread(part, spec) for part in zip(*column)) for column, spec in zip(columns, specs)]))
    return body


def render(title: str, headers, body, markdown: bool) -> str:
    """One titled table; the parts of a cell are joined by ` → `. In plain text each part is aligned down
    its column from the left, so that a run's value sits above its variant's mean and the [min–max] hangs
    to the right of it."""
    if markdown:
        lines = [f"**{title}**", "", "| " + " | ".join(("run", *headers)) + " |",
                 "|:---|" + "---:|" * len(headers)]
        lines += ["| " + " | ".join((label, *(" → ".join(parts) for parts in cells))) + " |" for label, cells in body]
        return "\n".join(lines)
    part_widths = [[max(len(cells[c][p]) for _, cells in body) for p in range(len(body[0][1][c]))]
                   for c in range(len(headers))]
    texts = [[" → ".join(s.ljust(w) for s, w in zip(parts, part_widths[c])).rstrip() for c, parts in enumerate(cells)]
             for _, cells in body]
    label_width = max(len("run"), *(len(label) for label, _ in body))
    widths = [max(len(h), *(len(row[c]) for row in texts)) for c, h in enumerate(headers)]
    lines = [title, "  ".join(["run".ljust(label_width), *(h.ljust(w) for h, w in zip(headers, widths))]).rstrip()]
    lines += ["  ".join([label.ljust(label_width), *(t.ljust(w) for t, w in zip(row, widths))]).rstrip()
              for (label, _), row in zip(body, texts)]
    return "\n".join(lines)


def spec_of(key: str) -> str:
    return ".1f" if key.startswith("length_") and key != RATIO else ".2f"


def compare_table(runs, markdown: bool = False) -> str:
    """The runs side by side: per domain of their summary.json, base → final of HELDOUT_KEYS; then the
    training batch, mean of the last WINDOW RL steps: BATCH_KEYS and RATIO. `–` where a value is null."""
    domains = list(dict.fromkeys(dom for run in runs for dom in (run.summary or {}).get("domains", {})))
    sections = []
    for dom in domains:
        def values_of(run, dom=dom):
            return [(heldout(run, dom, "base", k), heldout(run, dom, "final", k)) for k in HELDOUT_KEYS]
        sections.append(render(f"held-out {dom}: base → final (summary.json)", HELDOUT_KEYS,
                               table_body(runs, values_of, [spec_of(k) for k in HELDOUT_KEYS]), markdown))
    headers = (*BATCH_KEYS, RATIO)
    sections.append(render(f"training batch: mean of the last {WINDOW} RL steps (metrics.jsonl)", headers,
                           table_body(runs, batch_values, [spec_of(k) for k in headers]), markdown))
    return "\n\n".join(sections)


# ---- the figure ---------------------------------------------------------------------------------------


def run_styles(runs) -> dict[str, dict]:
    """Per run name, its matplotlib style: a colour per variant, a line style and marker per run in it."""
    styles = {}
    for i, (_, group) in enumerate(variants(runs)):
        for j, run in enumerate(group):
            styles[run.name] = dict(color=f"C{i % 10}", ls=LINE_STYLES[j % len(LINE_STYLES)],
                                    marker=MARKERS[j % len(MARKERS)])
    return styles


def compare_plot(runs, path: str) -> None:
    """One PNG: a panel per PANELS entry with a line per run, and the legend in the sixth panel."""
    from matplotlib.lines import Line2D

    styles = run_styles(runs)
    fig = _figure(figsize=(13.8, 7.0))
    axes = fig.subplots(2, 3).ravel()
    for ax, (key, title, ylabel) in zip(axes, PANELS):
        drawn = False
        for run in runs:
            st = styles[run.name]
            steps, values = _series(run.rows, key)
            drawn = drawn or bool(steps)
            if key.startswith("heldout_"):
                ax.plot(steps, values, color=st["color"], ls=st["ls"], marker=st["marker"], lw=0.8, ms=4)
            else:
                ax.plot(steps, trailing_mean(values, SMOOTH), color=st["color"], ls=st["ls"], lw=1.3)
        if not drawn:
            ax.text(0.5, 0.5, f"no run logged {key}", ha="center", va="center", transform=ax.transAxes)
        ax.set(title=title, xlabel="RL step", ylabel=ylabel)
        if key in SHARES:
            ax.set_ylim(-0.02, 1.02)
        else:
            ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    legend = axes[len(PANELS)]
    legend.set_axis_off()
    legend.legend(handles=[Line2D([], [], label=run.name, **styles[run.name]) for run in runs],
                  loc="center", fontsize=9, title="run (colour: variant)")
    fig.suptitle(f"Runs compared (lines: {SMOOTH}-step mean of the training batches; "
                 "markers: held-out problems)", fontsize=11)
    _save(fig, path)
