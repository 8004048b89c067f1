"""The verifier: the one place that decides whether a completion is correct.

The RL reward, held-out accuracy and `verify.py` all call `verify`, so "correct" means one thing in
training and in evaluation. Model output is untrusted: it is parsed by regular expressions and
integer arithmetic only, never evaluated as Python.
"""
from __future__ import annotations

from typing import NamedTuple

from minireason import traces
from minireason.tasks import FAMILIES


class Verdict(NamedTuple):
    reward: float        # 1.0 for a verified correct final answer, else 0.0
    correct: bool
    answer: str | None   # the parsed final answer, if there was exactly one in the expected place
    reason: str          # "" when correct, else why not: "no answer block", "wrong value", ...
    pass_fraction: float = 0.0   # share of hidden tests passed (write tasks); the reward elsewhere


def verify(problem: dict, completion: str, trace: traces.Trace | None = None) -> Verdict:
    """Check `completion` against `problem`; reward 1 only for exactly one correct final answer."""
    family = FAMILIES.get(problem.get("family")) if isinstance(problem, dict) else None
    if family is None:
        return Verdict(0.0, False, None, "unknown task family")
    if not isinstance(completion, str):
        return Verdict(0.0, False, None, "completion is not a string")
    trace = trace or traces.parse(completion)
    if trace.answer is None:
        return Verdict(0.0, False, None, trace.error or "no answer block")
    try:
        if hasattr(family, "grade"):         # families with partial credit (write: hidden tests passed)
            ok, reason, fraction = family.grade(problem, trace.answer)
        else:
            ok, reason = family.check_answer(problem, trace.answer)
            fraction = float(ok)
    except (KeyError, TypeError, ValueError):
        return Verdict(0.0, False, trace.answer, "malformed task record")
    return Verdict(float(ok), ok, trace.answer, reason, fraction)
