"""Metrics of a batch of completions, all computed from the one trace parser and the one verifier.

A rate whose denominator is empty is None (JSON null, printed `–`), never 0: "no revision fixed
anything" and "there was no revision" are different findings. Each rate's denominator is logged
beside it (count, count_<style>, count_reflect, revisions, checks, steps, count_correct).

Definitions:
    problems                   distinct problems (by canonical key, tasks.split_key) the completions answer
    accuracy                   share of completions whose final answer the verifier accepts (= mean reward)
    pass_fraction              mean share of hidden tests passed (write tasks; equals accuracy elsewhere)
    length_mean                completion tokens (up to and including </answer>, or </confidence> in a run that
                               states its confidence), mean over completions;
                               also length_correct / length_incorrect
    truncation_rate            share of completions that hit the length limit before their end token
    zero_variance_groups       share of prompt groups whose G rewards are all equal (no learning signal); in
                               RL rows, of the rewards RL trained on (a judge's, or with a confidence term)
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

Calibration, only when some completion states a confidence (`<confidence>K</confidence>`, q = K/10:
calibration.py). A completion that states none, or one that does not parse, counts as q = 1, as
Humanity's Last Exam records 100% for an answer without a confidence: a missing confidence never helps.
    confidence_stated          share of completions with a parsable confidence (the rest count as q = 1)
    confidence_mean            mean q
    ece                        expected calibration error over 10 equal-width bins of q (RLCR's):
                               sum_b (n_b / N) |accuracy_b - mean q_b|                           `ece`
    brier                      mean (q - 1[correct])^2                                           `brier`
    confidence_auroc           AUROC of q for correctness (0.5: q says nothing about being right)
    rms_calibration_error      HLE's: completions sorted by q, cut into bins of 100 (the last takes the
                               rest), sqrt(sum_b (n_b / N) (mean q_b - accuracy_b)^2)   `rms_calibration_error`
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


# ----------------------------------------------------------------------------- calibration

def _checked(conf, correct) -> tuple[np.ndarray, np.ndarray]:
    q, y = np.asarray(conf, float), np.asarray(correct, float)
    if q.shape != y.shape or q.ndim != 1:
        raise ValueError(f"confidences {q.shape} and outcomes {y.shape} must be two lists of one length")
    if len(q) and (q.min() < 0 or q.max() > 1):
        raise ValueError("confidences must lie in [0, 1]")
    return q, y


def reliability_bins(conf, correct, bins: int = 10) -> list[dict]:
    """The reliability diagram: per equal-width bin of q ([0, 0.1), ..., [0.9, 1.0], 1.0 in the last),
    its count, mean q and accuracy (None for an empty bin)."""
    q, y = _checked(conf, correct)
    index = np.minimum((q * bins + 1e-9).astype(int), bins - 1)      # 1e-9: 0.7 - 0.4 (2.999... * 10) is in bin 3
    return [{"low": b / bins, "high": (b + 1) / bins, "count": int((index == b).sum()),
             "confidence": rate(q[index == b]), "accuracy": rate(y[index == b])} for b in range(bins)]


def ece(conf, correct, bins: int = 10) -> float | None:
    """Expected calibration error: sum over equal-width bins of (n_b / N) |accuracy_b - mean q_b|; None for none."""
    if not len(conf):
        return None
    cells = [c for c in reliability_bins(conf, correct, bins) if c["count"]]
    return float(sum(c["count"] * abs(c["accuracy"] - c["confidence"]) for c in cells) / len(conf))


def brier(conf, correct) -> float | None:
    """Brier score: the mean of (q - 1[correct])^2; 0 is perfect, 0.25 is q = 0.5 always."""
    q, y = _checked(conf, correct)
    return rate((q - y) ** 2)


def rms_calibration_error(conf, correct, beta: int = 100, skip_last: bool = False) -> float | None:
    """Humanity's Last Exam's calibration error: sort by q, cut into consecutive bins of `beta` (the last
    takes the remainder; one bin when there are fewer than beta), sqrt(sum_b (n_b / N) (mean q_b -
    accuracy_b)^2). With 11 levels of q ties are the rule, and the order among equal q decides which bin
    a completion lands in: the completions are shuffled (a fixed permutation) before a stable sort, so
    the result does not depend on the order they came in (held-out lists are grouped by family and
    difficulty, which would sort right and wrong answers of one level into separate bins).
    HLE's script loops over all bins but the last, so it never scores the most confident one;
    skip_last=True copies that (None when only one bin is left to skip), the default scores every bin."""
    q, y = _checked(conf, correct)
    if not len(q):
        return None
    shuffle = np.random.default_rng(0).permutation(len(q))
    order = shuffle[np.argsort(q[shuffle], kind="stable")]
    q, y = q[order], y[order]
    edges = list(range(0, max(len(q) // beta, 1) * beta, beta)) + [len(q)]
    cells = list(zip(edges[:-1], edges[1:]))
    if skip_last:
        cells = cells[:-1]
    if not cells:                                      # skip_last with a single bin: nothing is scored
        return None
    return float(np.sqrt(sum((b - a) / len(q) * (q[a:b].mean() - y[a:b].mean()) ** 2 for a, b in cells)))


def stated_confidence(g: Graded) -> float:
    """The q a completion is scored with: its stated confidence, or 1 when it states none that parses."""
    return 1.0 if g.trace.confidence is None else g.trace.confidence


def calibration(graded: list[Graded]) -> dict:
    """The calibration measures of the module docstring; {} when no completion states a confidence."""
    if not any(g.trace.states_confidence for g in graded):
        return {}
    q = [stated_confidence(g) for g in graded]
    y = [g.verdict.correct for g in graded]
    return {"confidence_stated": rate(g.trace.confidence is not None for g in graded),
            "confidence_mean": rate(q), "ece": ece(q, y), "brier": brier(q, y),
            "confidence_auroc": auroc(q, y), "rms_calibration_error": rms_calibration_error(q, y)}


CALIBRATION_KEYS = ("confidence_stated", "confidence_mean", "ece", "brier", "confidence_auroc",
                    "rms_calibration_error")


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
    out.update(calibration(graded))
    if group_size:
        out["zero_variance_groups"] = zero_variance_share([g.verdict.reward for g in graded], group_size)
    return out


def zero_variance_share(rewards, group_size: int) -> float:
    """The share of groups (G consecutive rewards) whose rewards are all equal: no learning signal."""
    r = np.asarray(rewards, float).reshape(-1, group_size)
    return float(np.mean(r.min(axis=1) == r.max(axis=1)))


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
            **({"reliability": reliability_bins([stated_confidence(g) for g in gs], [g.verdict.correct for g in gs])}
               if any(g.trace.states_confidence for g in gs) else {}),
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
    return {f"{dom}_{k}": m.get(k) for dom, m in by_domain.items() for k in keys}


def per_difficulty(graded: list[Graded], keys) -> dict:
    """`d{level}_{key}` (e.g. `d4_accuracy`) for each key and each difficulty among the completions: what
    the frontier curriculum's plots draw per level over the run."""
    by_level = breakdown(graded, lambda g: int(g.problem["difficulty"]))
    return {f"d{level}_{k}": m.get(k) for level, m in by_level.items() for k in keys}
