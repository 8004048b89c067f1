"""The frontier curriculum: difficulty opens one level at a time, and the thinking budget follows it.

R1-Zero's response length kept rising because its problems kept getting harder than what it had
mastered. Here each RL family has a *frontier* F, the highest difficulty it trains on. A batch draws
difficulty F with probability 1 − easy_share and one of the levels below it (uniformly) with
easy_share, so mastered levels are rehearsed but never dominate; nothing above F is drawn. The pass
rate at the frontier is an exponential moving average of the verifier's verdicts,

    p_F ← decay · p_F + (1 − decay) · mean(solved of the batch's rows at F),

and when p_F ≥ threshold, after at least `patience` batches at F, the frontier opens the next level
(up to `top`) and its pass rate starts afresh. `state()` (in every RL row's `curriculum` field and in
the checkpoint) holds each family's frontier, so a plot can draw it against step and a resumed run
goes on where it was.

The thinking budget grows with it: each step's width is the smallest of a few completion widths
(`frontier.budgets`) that holds what every family needs at its own frontier (`needs`, measured on
the corpus's reflective traces). The sampler, the update, the token log-probs and the KL measurement
each compile once per width, on its first step (4 compilations per width), never again: the frontier only
rises, so a width never comes back.

The frontier opens on what the trainer counts as solved: the verifier's verdict, or, under
rl.reward=judge, the judge's.

It has the interface of `rl.Curriculum` (`difficulties`, `weights(family)`, `update`, `state`, `load`),
so `rl.prompt_batch` and `rl.rl_step` use it unchanged.
"""
from __future__ import annotations

import math

import numpy as np

from minireason.corpus import noise_of
from minireason.tasks import FAMILIES, sample_problem
from minireason.testtime import spearman
from minireason.traces import CONFIDENCE_LEVELS, confidence_block

MARGIN = 1.25        # room over the longest reflective corpus trace of a level: RL's searches run longer
PROBE = 32           # training problems per family and level that measure a level's need


class Frontier:
    """Per family: a frontier level, the moving pass rate there, and how many batches it has seen."""

    def __init__(self, families, start: int, top: int, threshold: float = 0.6, easy_share: float = 0.25,
                 decay: float = 0.8, patience: int = 5):
        if not 1 <= start <= top:
            raise ValueError(f"the frontier starts at {start}, outside 1..{top}")
        if not (0 < threshold <= 1 and 0 <= easy_share < 1 and 0 <= decay < 1 and patience >= 1):
            raise ValueError("threshold in (0, 1], easy_share and decay in [0, 1), patience >= 1")
        self.threshold, self.easy_share, self.decay, self.patience = threshold, easy_share, decay, patience
        self.top = top
        self.difficulties = list(range(1, top + 1))
        self.cells = {f: {"frontier": start, "pass_rate": None, "batches": 0} for f in families}

    def weights(self, family: str) -> np.ndarray:
        """Sampling probabilities over `difficulties` for one family: the frontier 1 − easy_share, the
        levels below it easy_share between them (all of it at the frontier when there are none)."""
        f = self.cells[family]["frontier"]
        w = np.zeros(len(self.difficulties))
        w[f - 1] = 1.0 if f == 1 else 1.0 - self.easy_share
        if f > 1:
            w[:f - 1] = self.easy_share / (f - 1)
        return w

    def update(self, problems, solved) -> None:
        """Fold one batch's verdicts at each family's frontier into its pass rate; open the next level
        when the rate has reached the threshold after `patience` batches."""
        at: dict = {}
        for p, s in zip(problems, solved):
            cell = self.cells.get(p["family"])
            if cell is not None and p["difficulty"] == cell["frontier"]:
                at.setdefault(p["family"], []).append(float(s))
        for family, got in at.items():
            cell = self.cells[family]
            mean = float(np.mean(got))
            cell["pass_rate"] = mean if cell["pass_rate"] is None else \
                self.decay * cell["pass_rate"] + (1 - self.decay) * mean
            cell["batches"] += 1
            if cell["batches"] >= self.patience and cell["pass_rate"] >= self.threshold \
                    and cell["frontier"] < self.top:
                cell.update(frontier=cell["frontier"] + 1, pass_rate=None, batches=0)

    def level(self) -> int:
        """The highest frontier over the families (what the thinking budget must hold)."""
        return max(c["frontier"] for c in self.cells.values())

    def state(self) -> dict:
        """Each family's frontier, pass rate there and batches seen (for the row and the checkpoint)."""
        return {f: dict(c) for f, c in self.cells.items()}

    def load(self, state: dict) -> None:
        """Restore what state() saved."""
        for family, cell in state.items():
            if family in self.cells:
                self.cells[family] = dict(cell)


def needs(data, families, seed: int, tokenizer) -> dict[str, dict[int, int]]:
    """Per RL family and level of data.difficulties: the completion tokens its thinking needs, MARGIN
    times the longest of PROBE reflective traces of training problems as the corpus's writer makes them
    (its own noise, so with its slips and redos; with the confidence block of a run that states one,
    and the EOS), also at levels data.corpus_difficulties leaves out of the corpus."""
    rng = np.random.default_rng([seed, 43])
    noise = noise_of(data)
    tail = confidence_block(CONFIDENCE_LEVELS - 1) if data.confidence != "none" else ""
    out: dict[str, dict[int, int]] = {}
    for f in families:
        out[f] = {}
        for level in data.difficulties:
            traces = [FAMILIES[f].trace(sample_problem(rng, f, level, False, data.heldout_percent), "reflect",
                                        rng, noise) for _ in range(PROBE)]
            out[f][level] = math.ceil(MARGIN * (max(len(tokenizer.encode(t + tail)) for t in traces) + 1))
    return out


class Budgeted:
    """The sampler of the frontier's thinking budget: one `generate` per width in `sizes` (make(width)
    builds them up front; each compiles on its first use), and each step the one whose width holds
    what every family needs at its own frontier."""

    def __init__(self, frontier: Frontier, sizes, need: dict[str, dict[int, int]], make):
        self.frontier, self.need = frontier, need
        self.sizes = sorted(sizes)
        self.samplers = {w: make(w) for w in self.sizes}

    def tokens(self) -> int:
        """The most any family needs at its frontier."""
        return max(self.need[f][c["frontier"]] for f, c in self.frontier.cells.items())

    def __call__(self):
        """(generate, the row's extra fields) for the coming step."""
        width = budget(self.tokens(), self.sizes)
        return self.samplers[width], {"budget": width, "frontier": self.frontier.level()}


def describe(need: dict[str, dict[int, int]], sizes) -> str:
    """What each level needs and the budget it gets, for the log; a warning where the largest budget
    is short of a level's need (its completions will be cut: the truncation alarm fires)."""
    lines = [f"frontier: tokens needed per level (budgets {', '.join(map(str, sorted(sizes)))})"]
    for f, levels in need.items():
        lines.append(f"  {f}: " + ", ".join(f"{lv}: {n} -> {budget(n, sizes)}" for lv, n in levels.items()))
        short = [lv for lv, n in levels.items() if n > max(sizes)]
        if short:
            lines.append(f"  warning: {f} at level {', '.join(map(str, short))} needs more than the largest budget "
                         f"({max(sizes)}); raise data.completion_len and frontier.budgets")
    return "\n".join(lines)


def budget(tokens: int, sizes) -> int:
    """The smallest of the completion widths `sizes` that holds `tokens` (the largest when none does:
    the truncation alarm then says so)."""
    sizes = sorted(sizes)
    return next((s for s in sizes if s >= tokens), sizes[-1])


# ----------------------------------------------------------------------------- what the run showed

TAIL = 10            # the last RL rows whose mean is "the length at the end"


def summary_block(rows: list[dict], summary: dict) -> dict | None:
    """What a frontier run showed (summary.json's `frontier`), from its RL rows and held-out tables:
    where the frontier started and ended and when each level opened; the training batch's mean length at
    RL step 1 (the base model, before any update) and over the last TAIL steps, their ratio, and
    Spearman's rho between step and the logged length; the mean batch reflection rate of the steps
    while the frontier stood at each level (their batches hold easy_share of lower levels too) and rho
    between frontier and reflection; per domain, the final held-out accuracy at every level the frontier
    passed, and the held-out length of the base and final models at the last frontier (the same
    problems: what RL added at equal difficulty). The frontier is the highest over the RL families
    (Frontier.level), so with several families "passed" is the leading family's. None for a run
    without a frontier."""
    rl_rows = [r for r in rows if r.get("stage") == "rl" and "frontier" in r]
    if not rl_rows:
        return None
    steps = [r["step"] for r in rl_rows]
    length = [r["length_mean"] for r in rl_rows]
    level = [r["frontier"] for r in rl_rows]
    reflection = [r["reflection_rate"] for r in rl_rows]
    opened = [{"step": r["step"], "level": r["frontier"]} for prev, r in zip(rl_rows, rl_rows[1:])
              if r["frontier"] != prev["frontier"]]
    end_length = float(np.mean(length[-TAIL:]))
    by_level = {str(lv): float(np.mean([x for x, f in zip(reflection, level) if f == lv])) for lv in sorted(set(level))}
    start, end = level[0], level[-1]
    heldout = {}
    for domain, block in summary.get("domains", {}).items():
        cells = block.get("by_difficulty", {})
        last = cells.get(str(end), {})
        heldout[domain] = {
            "accuracy_passed": {str(lv): cells[str(lv)]["final"]["accuracy"]
                                for lv in range(start, end) if str(lv) in cells},
            "length_at_end_level": {m: last.get(m, {}).get("length_mean") for m in ("base", "final")},
        }
    return {"start": start, "end": end, "levels_advanced": end - start, "opened": opened,
            "length_base": length[0], "length_end": end_length,
            "length_ratio": end_length / length[0] if length[0] else None,
            "rho_length": spearman(steps, length), "reflection_by_frontier": by_level,
            "rho_reflection": spearman(level, reflection), "heldout": heldout}


def format_block(block: dict) -> str:
    """summary_block as the lines train.py prints at the end of a frontier run."""
    fmt = lambda v, spec=".2f": "-" if v is None else format(v, spec)   # noqa: E731
    opened = ", ".join(f"{o['level']} at step {o['step']}" for o in block["opened"]) or "none"
    lines = [f"frontier: level {block['start']} -> {block['end']} (opened {opened})",
             f"  training batch length: {block['length_base']:.1f} at step 1 (the base model) -> "
             f"{block['length_end']:.1f} over the last {TAIL} steps (x{fmt(block['length_ratio'], '.1f')}); "
             f"Spearman rho(step, length) {fmt(block['rho_length'])}",
             "  batch reflection rate while the frontier was at: " + ", ".join(f"{lv}: {v:.2f}" for lv, v in
                                                             block["reflection_by_frontier"].items())
             + f"; rho(frontier, reflection) {fmt(block['rho_reflection'])}"]
    for domain, h in block["heldout"].items():
        passed = ", ".join(f"{lv}: {fmt(a)}" for lv, a in h["accuracy_passed"].items()) or "none passed"
        at = h["length_at_end_level"]
        lines.append(f"  {domain} held-out accuracy at the levels passed: {passed}; length at level {block['end']}: "
                     f"base {fmt(at['base'], '.1f')} -> final {fmt(at['final'], '.1f')}")
    return "\n".join(lines)
