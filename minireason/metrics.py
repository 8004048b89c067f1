"""Metrics of a batch of completions, all computed from the one trace parser and the one verifier.

Definitions (DESIGN.md, "Metrics must not flatter"):
    accuracy                   share of completions whose final answer the verifier accepts (= mean reward)
    pass_fraction              mean share of hidden tests passed (write tasks; equals accuracy elsewhere)
    length_mean                completion tokens (up to and including </answer>), mean over completions;
                               also length_correct / length_incorrect
    truncation_rate            share of completions that hit the length limit without </answer>
    zero_variance_groups       share of prompt groups whose G rewards are all equal (no learning signal)
    reflection_rate            share of completions with at least one check or revision event
    effective_reflection_rate  share of revision events (`wait`) that turned a wrong value into a right
                               one (Family.revision_fixed: a wrong column redone right; a missed
                               Countdown attempt followed by one that reaches the target)
    step_accuracy              share of written steps whose arithmetic is right
    style_share_*, accuracy_*  share and accuracy of each style (direct, step, reflect, and `other` for
                               thinking the parser cannot read)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minireason import traces, verifiers
from minireason.tasks import STYLES, family_of


class Graded(NamedTuple):
    """One completion, parsed and verified once."""
    problem: dict
    completion: str
    length: int            # tokens
    truncated: bool
    trace: traces.Trace
    verdict: verifiers.Verdict


def grade(problems, completions, lengths, truncated) -> list[Graded]:
    """Parse and verify each completion once."""
    out = []
    for p, c, n, t in zip(problems, completions, lengths, truncated):
        tr = traces.parse(c)
        out.append(Graded(p, c, int(n), bool(t), tr, verifiers.verify(p, c, tr)))
    return out


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else 0.0


def _effective(g: Graded) -> tuple[int, int]:
    """(revisions that turned a wrong step right, all revisions) of one completion."""
    fam = family_of(g.problem)
    good = sum(1 for r in g.trace.revisions if fam.revision_fixed(g.problem, r))
    return good, len(g.trace.revisions)


def summarize(graded: list[Graded], group_size: int | None = None) -> dict:
    """The metrics above for a list of graded completions (in groups of `group_size` if given)."""
    if not graded:
        return {}
    correct = [g.verdict.correct for g in graded]
    eff = [_effective(g) for g in graded]
    steps = [s for g in graded for s in g.trace.steps]
    out = {
        "count": len(graded),
        "count_reflect": sum(g.trace.reflects for g in graded),
        "reward": _mean(g.verdict.reward for g in graded),
        "accuracy": _mean(correct),
        "pass_fraction": _mean(g.verdict.pass_fraction for g in graded),
        "length_mean": _mean(g.length for g in graded),
        "length_correct": _mean(g.length for g in graded if g.verdict.correct),
        "length_incorrect": _mean(g.length for g in graded if not g.verdict.correct),
        "truncation_rate": _mean(g.truncated for g in graded),
        "reflection_rate": _mean(g.trace.reflects for g in graded),
        "effective_reflection_rate": sum(e[0] for e in eff) / max(sum(e[1] for e in eff), 1),
        "step_accuracy": _mean(s.correct for s in steps),
        "accuracy_reflect": _mean(g.verdict.correct for g in graded if g.trace.reflects),
        "accuracy_noreflect": _mean(g.verdict.correct for g in graded if not g.trace.reflects),
    }
    for style in STYLES + ("other",):
        members = [g for g in graded if g.trace.style == style]
        out[f"style_share_{style}"] = len(members) / len(graded)
        out[f"accuracy_{style}"] = _mean(g.verdict.correct for g in members)
    if group_size:
        rewards = np.array([g.verdict.reward for g in graded]).reshape(-1, group_size)
        out["zero_variance_groups"] = float(np.mean(rewards.min(axis=1) == rewards.max(axis=1)))
    return out


def breakdown(graded: list[Graded], key) -> dict:
    """summarize() per value of key(g), e.g. per family or per difficulty; keys sorted."""
    groups: dict = {}
    for g in graded:
        groups.setdefault(key(g), []).append(g)
    return {str(k): summarize(v) for k, v in sorted(groups.items())}


def per_domain(graded: list[Graded], keys) -> dict:
    """`{domain}_{key}` (e.g. `code_accuracy`) for each key of summarize(), when the completions span more
    than one domain (arith, code); empty otherwise, so single-domain runs log no duplicates."""
    by_domain = breakdown(graded, lambda g: family_of(g.problem).domain)
    if len(by_domain) < 2:
        return {}
    return {f"{dom}_{k}": m[k] for dom, m in by_domain.items() for k in keys}
