"""Metrics of a batch of completions, all computed from the one trace parser and the one verifier.

A rate whose denominator is empty is None (JSON null, printed `–`), never 0: "no revision fixed
anything" and "there was no revision" are different findings. Each rate's denominator is logged
beside it (count, count_<style>, count_reflect, revisions, checks, steps, count_correct).

Definitions:
    problems                   distinct problems (by canonical key, tasks.split_key) the completions answer
    accuracy                   share of completions whose final answer the verifier accepts (= mean reward)
    pass_fraction              mean share of hidden tests passed (write tasks; equals accuracy elsewhere)
    length_mean                completion tokens (up to and including </answer>), mean over completions;
                               also length_correct / length_incorrect
    truncation_rate            share of completions that hit the length limit without </answer>
    zero_variance_groups       share of prompt groups whose G rewards are all equal (no learning signal)
    reflection_rate            share of completions with at least one check or revision event
    effective_reflection_rate  share of revision events (`wait`) that turned a wrong value into a right
                               one (Family.revision_fixed: a wrong step redone right; a missed Countdown
                               attempt followed by a full attempt over the numbers that reaches the target)
    step_accuracy              share of written steps whose arithmetic is right
    check_accuracy             share of `check` verdicts that are right (`ok` exactly when the checked
                               equation holds); a check that says `no` to a right step, or `ok` to a
                               wrong one, is superficial reflection
    style_share_*, accuracy_*  share and accuracy of each style (direct, step, reflect, and `other` for
                               thinking the parser cannot read)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minireason import traces, verifiers
from minireason.tasks import STYLES, family_of, split_key


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


def fmt(value, spec: str = ".2f") -> str:
    """A metric for a table: `–` for None (an empty denominator), else format(value, spec)."""
    return "–" if value is None else format(value, spec)


def rate(values) -> float | None:
    """The mean of `values`, or None when there are none (an empty denominator is not a 0)."""
    values = list(values)
    return float(np.mean(values)) if values else None


def auroc(scores, labels) -> float | None:
    """Area under the ROC curve of `scores` for the 0/1 `labels`: the chance that a random positive
    scores above a random negative, a tie counting one half (the Mann-Whitney U statistic divided by
    n_pos * n_neg). 1.0 separates the classes perfectly, 0.5 is chance. None when a class is empty."""
    s, y = np.asarray(scores, float), np.asarray(labels, bool)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return None
    above = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(above / (len(pos) * len(neg)))


def _fixes(g: Graded) -> list[bool]:
    """For each revision of one completion: did it turn a wrong value into a right one?"""
    fam = family_of(g.problem)
    return [fam.revision_fixed(g.problem, r) for r in g.trace.revisions]


def summarize(graded: list[Graded], group_size: int | None = None) -> dict:
    """The metrics above for a list of graded completions (in groups of `group_size` if given)."""
    if not graded:
        return {}
    correct = [g.verdict.correct for g in graded]
    fixed = [fix for g in graded for fix in _fixes(g)]
    steps = [s for g in graded for s in g.trace.steps]
    checks = [c for g in graded for c in g.trace.checks]
    out = {
        "count": len(graded),
        "problems": len({split_key(g.problem) for g in graded}),
        "count_correct": sum(correct),
        "count_reflect": sum(g.trace.reflects for g in graded),
        "count_noreflect": sum(not g.trace.reflects for g in graded),
        "revisions": len(fixed),
        "checks": len(checks),
        "steps": len(steps),
        "reward": rate(g.verdict.reward for g in graded),
        "accuracy": rate(correct),
        "pass_fraction": rate(g.verdict.pass_fraction for g in graded),
        "length_mean": rate(g.length for g in graded),
        "length_correct": rate(g.length for g in graded if g.verdict.correct),
        "length_incorrect": rate(g.length for g in graded if not g.verdict.correct),
        "truncation_rate": rate(g.truncated for g in graded),
        "reflection_rate": rate(g.trace.reflects for g in graded),
        "effective_reflection_rate": rate(fixed),
        "step_accuracy": rate(s.correct for s in steps),
        "check_accuracy": rate(c.correct for c in checks),
        "accuracy_reflect": rate(g.verdict.correct for g in graded if g.trace.reflects),
        "accuracy_noreflect": rate(g.verdict.correct for g in graded if not g.trace.reflects),
    }
    for style in STYLES + ("other",):
        members = [g for g in graded if g.trace.style == style]
        out[f"count_{style}"] = len(members)
        out[f"style_share_{style}"] = len(members) / len(graded)
        out[f"accuracy_{style}"] = rate(g.verdict.correct for g in members)
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


def domain_of(problem: dict) -> str:
    """The domain (arith, code) of a problem's family."""
    return family_of(problem).domain


def report(graded: list[Graded]) -> dict:
    """Per domain: the metrics overall, per family, per difficulty and per both (summary.json's tables).

    Per family *and* difficulty matters for "does reflecting pay?": pooled over families, the
    completions that reflect and those that do not come from different families in different shares,
    so their accuracies can differ for that reason alone (Simpson's paradox)."""
    out = {}
    for dom in sorted({domain_of(g.problem) for g in graded}):
        gs = [g for g in graded if domain_of(g.problem) == dom]
        out[dom] = {
            **summarize(gs),
            "by_family": breakdown(gs, lambda g: g.problem["family"]),
            "by_difficulty": breakdown(gs, lambda g: g.problem["difficulty"]),
            "by_family_difficulty": breakdown(gs, lambda g: f"{g.problem['family']}/{g.problem['difficulty']}"),
        }
    return out


def per_domain(graded: list[Graded], keys) -> dict:
    """`{domain}_{key}` (e.g. `code_accuracy`) for each key of summarize(), when the completions span more
    than one domain (arith, code); empty otherwise, so single-domain runs log no duplicates."""
    by_domain = breakdown(graded, lambda g: domain_of(g.problem))
    if len(by_domain) < 2:
        return {}
    return {f"{dom}_{k}": m[k] for dom, m in by_domain.items() for k in keys}
