"""Figures of a run as PNG files: training curves, test-time compute, reliability, the frontier's curves.

The training curves of metrics.jsonl; the test-time figure of an evaluation (accuracy against tokens
spent per problem; completion length against difficulty); the reliability diagrams of a run that
states its confidence; the frontier's curves of a run with the frontier curriculum.

matplotlib is optional (`pip install -e '.[plot]'`), so it is imported inside the functions and the
rest of the package never needs it; `available()` says whether it is installed. The figures are built
with `matplotlib.figure.Figure` rather than pyplot: no window, no display and no global backend to
switch (the Agg canvas renders PNGs on its own), and a figure is freed when it goes out of scope.
"""
from __future__ import annotations

import os
import re

from minireason.metrics import fmt

SKIPPED = "plots skipped: matplotlib is not installed (pip install -e '.[plot]')"

# Panels of the training figure: (title, y label, [(metrics.jsonl key, legend label, colour)]).
# Training-batch metrics are lines; held-out metrics (logged every rl.eval_every steps) are markers in
# the colour of their batch twin. A panel none of whose keys is logged is left out.
RL_PANELS = [
    ("Reward and accuracy", "share of completions",
     [("reward", "reward (batch)", "C7"), ("judge_reward", "judge's reward, the proxy (batch)", "C1"),
      ("accuracy", "accuracy (batch)", "C0"),
      ("heldout_accuracy", "accuracy (held-out)", "C0")]),
    ("Completion length", "tokens",
     [("length_mean", "mean (batch)", "C0"), ("length_correct", "correct answers (batch)", "C2"),
      ("length_incorrect", "wrong answers (batch)", "C3"), ("heldout_length_mean", "mean (held-out)", "C0")]),
    ("Reflection", "share",
     [("reflection_rate", "completions that check or revise", "C0"),
      ("effective_reflection_rate", "revisions that fix an error", "C1"),
      ("heldout_reflection_rate", "completions that check or revise (held-out)", "C0"),
      ("heldout_effective_reflection_rate", "revisions that fix an error (held-out)", "C1")]),
    ("Wasted samples", "share",
     [("truncation_rate", "completions cut at the length limit", "C3"),
      ("zero_variance_groups", "groups with equal rewards (no signal)", "C7")]),
    ("KL divergence to the base model", "nats per token (k3 estimate)",
     [("kl", "KL", "C4")]),
    ("Calibration (stated confidence)", "share",            # runs with data.confidence (calibration.py)
     [("confidence_mean", "mean confidence (batch)", "C0"), ("ece", "ECE (batch)", "C3"),
      ("confidence_auroc", "AUROC of confidence (batch)", "C2"),
      ("heldout_confidence_mean", "mean confidence (held-out)", "C0"), ("heldout_ece", "ECE (held-out)", "C3"),
      ("heldout_confidence_auroc", "AUROC of confidence (held-out)", "C2")]),
]
SHARE_PANELS = ("Reward and accuracy", "Reflection", "Wasted samples", "Calibration (stated confidence)")   # y 0..1
SMOOTH = 5         # batch metrics (one batch of B*G completions a step) are drawn raw and as a 5-step mean


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(**kw):
    from matplotlib.figure import Figure
    return Figure(layout="constrained", **kw)


def _save(fig, path: str) -> None:
    """Render to a temporary file, then rename it over `path`: a crash never leaves half a PNG."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    fig.savefig(tmp, format="png", dpi=110)
    os.replace(tmp, path)


def _series(rows, key):
    """(steps, values) of the rows that hold a number under `key` (kl is null between measurements)."""
    points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
    return [s for s, _ in points], [v for _, v in points]


def trailing_mean(values, window: int):
    """Mean of each value and the window-1 before it (fewer at the start)."""
    return [sum(values[max(0, i - window + 1):i + 1]) / (i + 1 - max(0, i - window + 1))
            for i in range(len(values))]


def rl_panels(rows):
    """RL_PANELS as drawn for these rows: only the series that are logged; reward only where it is not
    accuracy under another name (it differs only if a reward other than 0/1 is ever given); held-out accuracy per
    domain beside the overall one when the run has several domains."""
    keys = {k for r in rows for k in r}
    domains = sorted(k[len("heldout_"):-len("_length_mean")] for k in keys
                     if k.startswith("heldout_") and k.endswith("_length_mean") and k != "heldout_length_mean"
                     and not re.fullmatch(r"heldout_d[0-9]+_length_mean", k))     # per level: frontier_curves
    same = all(r.get("reward") == r.get("accuracy") for r in rows)
    panels = []
    for title, ylabel, series in RL_PANELS:
        if title == "Reward and accuracy":
            if same:
                series = [(k, "accuracy = reward (batch)" if k == "accuracy" else label, c)
                          for k, label, c in series if k != "reward"]
            series = series + [(f"heldout_{d}_accuracy", f"{d} accuracy (held-out)", f"C{5 + i}")
                               for i, d in enumerate(domains)]
        series = [s for s in series if _series(rows, s[0])[0]]
        if series:
            panels.append((title, ylabel, series))
    return panels


def training_curves(rows: list[dict], path: str) -> None:
    """One PNG of a run's metrics.jsonl rows: pretraining loss, then a panel per group of RL metrics."""
    from matplotlib.ticker import FuncFormatter

    pre = [r for r in rows if r.get("stage") == "pretrain"]
    rl = [r for r in rows if r.get("stage") == "rl"]
    panels = rl_panels(rl) if rl else []
    n = len(panels) + bool(pre)
    cols = min(3, max(n, 1))
    rows_of_axes = -(-max(n, 1) // cols)
    fig = _figure(figsize=(4.6 * cols, 3.4 * rows_of_axes))
    axes = fig.subplots(rows_of_axes, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.remove()
    if pre:
        ax = axes[0]
        ax.plot(*_series(pre, "loss"), color="C0", lw=1.2, label="training batch")
        ax.plot(*_series(pre, "heldout_loss"), "o", color="C1", ms=4, label="held-out")
        ax.set(title="Pretraining loss", xlabel="pretraining step", ylabel="cross-entropy (nats per token)",
               yscale="log")
        # plain numbers on the log axis (0.2, 0.5, 1, 2), not 2x10^-1
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
    for ax, (title, ylabel, series) in zip(axes[bool(pre):], panels):
        for key, label, colour in series:
            if key.startswith("heldout_"):
                marker = "s" if key.endswith("_accuracy") and key != "heldout_accuracy" else "o"
                ax.plot(*_series(rl, key), marker, color=colour, ms=4, mec="white", mew=0.5, label=label)
            elif key == "kl":                  # measured every step, or only every eval_every steps (beta = 0)
                ax.plot(*_series(rl, key), "o-", color=colour, lw=1.1, ms=3, label=label)
            else:
                steps, values = _series(rl, key)
                ax.plot(steps, values, color=colour, lw=0.7, alpha=0.25)
                ax.plot(steps, trailing_mean(values, SMOOTH), color=colour, lw=1.4, label=label)
        ax.set(title=title, xlabel="RL step", ylabel=ylabel)
        if title in SHARE_PANELS:
            ax.set_ylim(-0.02, 1.02)
        else:
            ax.set_ylim(bottom=0)
    for ax in axes[:n]:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    if n == 0:
        axes[0].text(0.5, 0.5, "no rows in metrics.jsonl yet", ha="center", va="center")
        axes[0].set_axis_off()
    fig.suptitle(f"Training curves (faint: each training batch; lines: its {SMOOTH}-step mean; "
                 "markers: held-out problems)", fontsize=11)
    _save(fig, path)


def levels_of(rows) -> list[int]:
    """The difficulty levels of the per-level held-out metrics (`heldout_d{level}_accuracy`), sorted."""
    middles = {k[len("heldout_d"):-len("_accuracy")] for r in rows for k in r
               if k.startswith("heldout_d") and k.endswith("_accuracy")}
    return sorted(int(m) for m in middles if m.isdigit())


def frontier_curves(rows: list[dict], path: str) -> None:
    """One PNG of a frontier run (frontier.py): (a) the training batch's mean length of correct and of wrong
    completions against RL step, the thinking budget on the same axis and the frontier on a second;
    (b) held-out accuracy and (c) held-out length per difficulty level over the run; (d) the reflection
    rate over the run, with the frontier again."""
    from matplotlib import colormaps

    rl = [r for r in rows if r.get("stage") == "rl" and "frontier" in r]
    fig = _figure(figsize=(11.5, 7.6))
    (ax, bx), (cx, dx) = fig.subplots(2, 2)
    if not rl:
        ax.text(0.5, 0.5, "no frontier rows in metrics.jsonl", ha="center", va="center")
        _save(fig, path)
        return
    opened = [r["step"] for prev, r in zip(rl, rl[1:]) if r["frontier"] != prev["frontier"]]

    def frontier_axis(axis):
        twin = axis.twinx()
        twin.step(*_series(rl, "frontier"), where="post", color="k", lw=1.3, alpha=0.6, label="frontier level")
        twin.set_ylabel("frontier (difficulty level)")
        twin.set_ylim(0.5, max(levels_of(rl) + [r["frontier"] for r in rl]) + 0.5)
        return twin

    for key, label, colour in [("length_correct", "correct answers", "C2"), ("length_incorrect", "wrong answers", "C3"),
                               ("length_mean", "all", "C0")]:
        steps, values = _series(rl, key)
        ax.plot(steps, values, color=colour, lw=0.7, alpha=0.25)
        ax.plot(steps, trailing_mean(values, SMOOTH), color=colour, lw=1.5, label=f"{label} (batch)")
    ax.step(*_series(rl, "budget"), where="post", color="C7", ls=":", lw=1.2, label="thinking budget")
    ax.set(title="(a) Completion length as the frontier rises", xlabel="RL step", ylabel="tokens")
    ax.set_ylim(bottom=0)
    twin = frontier_axis(ax)
    handles = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="upper left", framealpha=0.8)
    levels = levels_of(rl)
    cmap = colormaps["viridis"]
    for axis, metric, title, ylabel in [(bx, "accuracy", "(b) Held-out accuracy per level", "accuracy"),
                                        (cx, "length_mean", "(c) Held-out completion length per level", "tokens")]:
        for i, level in enumerate(levels):
            colour = cmap(i / max(len(levels) - 1, 1))
            axis.plot(*_series(rl, f"heldout_d{level}_{metric}"), "o-", color=colour, ms=3, lw=1.1,
                      label=f"level {level}")
        for step in opened:
            axis.axvline(step, color="k", lw=0.6, alpha=0.25)
        axis.set(title=title, xlabel="RL step (grey lines: a level opens)", ylabel=ylabel)
        axis.set_ylim(*((-0.02, 1.02) if metric == "accuracy" else (0, None)))
        axis.legend(fontsize=7, loc="best", framealpha=0.8, ncol=2)
    steps, values = _series(rl, "reflection_rate")
    dx.plot(steps, values, color="C0", lw=0.7, alpha=0.25)
    dx.plot(steps, trailing_mean(values, SMOOTH), color="C0", lw=1.5, label="completions that check or revise (batch)")
    steps, values = _series(rl, "effective_reflection_rate")
    dx.plot(steps, trailing_mean(values, SMOOTH), color="C1", lw=1.2, label="revisions that fix an error (batch)")
    dx.plot(*_series(rl, "heldout_reflection_rate"), "o", color="C0", ms=4, mec="white", mew=0.5,
            label="check or revise (held-out)")
    dx.set(title="(d) Reflection as the frontier rises", xlabel="RL step", ylabel="share")
    dx.set_ylim(-0.02, 1.02)
    twin = frontier_axis(dx)
    handles, extra = dx.get_legend_handles_labels(), twin.get_legend_handles_labels()
    dx.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="upper left", framealpha=0.8)
    for axis in (ax, bx, cx, dx):
        axis.grid(alpha=0.3)
    fig.suptitle(f"The frontier curriculum (faint: each training batch; lines: its {SMOOTH}-step mean)", fontsize=11)
    _save(fig, path)


def ks_of(m: dict, prefix: str) -> list[int]:
    """The ks for which `m` holds `{prefix}@k` (powers of two up to the run's k), sorted."""
    return sorted(int(k.split("@")[1]) for k in m if k.startswith(prefix + "@"))


def testtime(ev: dict, path: str) -> None:
    """One PNG of an evaluation dict: (a) accuracy against tokens spent per problem, for the final model
    and the base model: one sample (pass@1), majority vote over k samples (maj@k, k samples cost k times
    the mean length) and budget forcing; (b) mean length by difficulty per domain, base vs final."""
    fig = _figure(figsize=(12.5, 4.6))
    ax, bx = fig.subplots(1, 2, width_ratios=[1.1, 1])
    styles = {"base": dict(ls="--", alpha=0.55), "final": dict(ls="-", alpha=1.0)}
    for name in ("base", "final"):
        m = ev["models"][name]["overall"]
        ks = ks_of(m, "maj")
        st = styles[name]
        ax.plot([k * m["length_mean"] for k in ks], [m[f"maj@{k}"] for k in ks], "o", color="C0", ms=4, lw=1.5,
                label=f"{name}: majority vote of k samples", **st)
        for k in ks[1:] if name == "final" else []:
            ax.annotate(f"k={k}", (k * m["length_mean"], m[f"maj@{k}"]), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=7, color="C0")
        forced = ev.get("budget_forcing", {}).get(name, [])
        if forced:
            ax.plot([b["tokens_mean"] for b in forced], [b["accuracy"] for b in forced], "D", color="C1", ms=4,
                    lw=1.5, label=f"{name}: budget forcing", **st)
        ax.plot([m["length_mean"]], [m["pass@1"]], "*", color="black", ms=13 if name == "final" else 10,
                alpha=st["alpha"], ls="none", label=f"{name}: one sample (pass@1)")
    ax.set(xscale="log", ylim=(-0.02, 1.08), xlabel="tokens generated per problem (log scale)",
           ylabel="accuracy", title="(a) Accuracy against test-time compute")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right", framealpha=0.85)

    lvd = ev.get("length_vs_difficulty", {})
    domains = sorted(lvd.get("final", {}))
    x, ticks, labels = 0.0, [], []
    for dom in domains:
        diffs = sorted(lvd["final"][dom]["by_difficulty"], key=int)
        start = x
        for d in diffs:
            for offset, name in ((-0.2, "base"), (0.2, "final")):
                value = lvd.get(name, {}).get(dom, {}).get("by_difficulty", {}).get(d)
                if value is not None:
                    bx.bar(x + offset, value, 0.4, color="C0", alpha=0.4 if name == "base" else 1.0,
                           hatch="//" if name == "base" else None, edgecolor="white",
                           label=name if dom == domains[0] and d == diffs[0] else None)
            ticks.append(x)
            labels.append(f"difficulty {d}")
            x += 1
        rho = " → ".join(fmt(lvd.get(name, {}).get(dom, {}).get("spearman")) for name in ("base", "final"))
        bx.text((start + x - 1) / 2, -0.1, f"{dom}   (ρ {rho})",
                transform=bx.get_xaxis_transform(), ha="center", va="top", fontsize=9)
        x += 0.6
    bx.set_xticks(ticks, labels, fontsize=8)
    bx.set(ylabel="mean completion length (tokens)", title="(b) Mean length by difficulty, base vs final\n"
           "ρ: Spearman rank correlation of length with difficulty, base → final")
    bx.grid(alpha=0.3, axis="y")
    if domains:
        bx.legend(fontsize=8, loc="upper left")
    _save(fig, path)



def reliability(panels: dict, path: str, title: str = "Reliability diagrams") -> None:
    """One PNG of reliability diagrams, a panel per key of `panels` (e.g. a domain), each holding
    {curve name: {"bins": metrics.reliability_bins output, "ece": float | None}}: accuracy against mean
    stated confidence per bin (marker area by count), the diagonal of perfect calibration, and each
    curve's ECE in its legend."""
    fig = _figure(figsize=(4.4 * max(len(panels), 1), 4.3))
    axes = fig.subplots(1, max(len(panels), 1), squeeze=False).ravel()
    for ax, (name, curves) in zip(axes, panels.items()):
        ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls=":", label="perfect calibration")
        for i, (label, curve) in enumerate(curves.items()):
            cells = [b for b in curve["bins"] or [] if b["count"]]
            total = sum(b["count"] for b in cells) or 1
            x, y = [b["confidence"] for b in cells], [b["accuracy"] for b in cells]
            ax.plot(x, y, "-", color=f"C{i}", lw=1.2, alpha=0.8)
            ax.scatter(x, y, s=[12 + 400 * b["count"] / total for b in cells], color=f"C{i}", alpha=0.7,
                       edgecolors="white", label=f"{label} (ECE {fmt(curve.get('ece'))})")
        ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="stated confidence (bin mean)",
               ylabel="accuracy in the bin", title=name, aspect="equal")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right", framealpha=0.85)
    fig.suptitle(f"{title} (marker area: share of completions in the bin)", fontsize=10)
    _save(fig, path)
