"""The trace notation, how to write it, and the one parser that metrics and the verifier share.

A completion is `THINKING</think><answer>ANSWER</answer>`; the prompt already ends with `<think>`.
THINKING is a space-separated sequence of items:

    E=V              a step: the expression E (integers joined by + and -, read left to right)
                     claimed to equal the integer V, e.g. `8+7+0=15` or `3-5+8=6`
    x=E=V            a step that assigns its value to a variable (code tasks: `s=7+2=9`)
    check E=V ok     a check: E recomputed and compared with V; the verdict is `ok` or `no`
    check E=V no
    wait             a revision: the step before it is dropped and redone by the steps after it

The three styles of the corpus are recognisable from these items alone:
    direct      no items at all                          `</think><answer>579</answer>`
    step        steps only                               `9+6=15 7+8+1=16</think><answer>165</answer>`
    reflect     at least one check or revision           `9+6=14 check 14-6=9 no wait 9+6=15 ...`

`parse` recovers the structure (steps, checks, revisions, answer) without knowing the task; tasks
judge whether a revision fixed something (see `revision_fixed` of each family).
"""
from __future__ import annotations

import re
from typing import NamedTuple

THINK_END, ANSWER_START, ANSWER_END = "</think>", "<answer>", "</answer>"

_INT = r"-?[0-9]+"
_EXPR_RE = re.compile(rf"^{_INT}(?:[+-][0-9]+)*$", re.ASCII)
_STEP_RE = re.compile(rf"^(?:([a-z])=)?({_INT}(?:[+-][0-9]+)*)=({_INT})$", re.ASCII)
MAX_DIGITS = 12    # longer numbers are treated as unparsable (the model's output is untrusted)


class Step(NamedTuple):
    expr: str        # e.g. "8+7+0"
    value: int       # the value the trace claims
    truth: int       # the value of `expr`, computed here
    name: str = ""   # the variable it assigns (`s=7+2=9`), "" for a plain step

    @property
    def correct(self) -> bool:
        return self.value == self.truth


class Check(NamedTuple):
    step: Step       # `check E=V`: E recomputed, compared with V
    verdict: bool    # True for `ok`, False for `no`

    @property
    def correct(self) -> bool:
        """The verdict is right: `ok` exactly when E really equals V."""
        return self.verdict == (self.step.truth == self.step.value)


class Revision(NamedTuple):
    before: Step | None   # the last step written before `wait`
    after: list[Step]     # the steps written after it, up to the next check, `wait` or the end


class Trace(NamedTuple):
    steps: list[Step]
    checks: list[Check]
    revisions: list[Revision]
    answer: str | None    # the text inside the single answer block, or None
    error: str            # "" if the completion is well formed, else why not (one phrase)
    thinking_error: str = ""   # "" if every thinking item parsed; events after a bad item are not counted

    @property
    def style(self) -> str:
        """direct, step or reflect; `other` when the thinking holds text the notation does not know."""
        if self.thinking_error:
            return "other"
        if self.checks or self.revisions:
            return "reflect"
        return "step" if self.steps else "direct"

    @property
    def reflects(self) -> bool:
        """At least one check or revision event (the `reflection_rate` numerator)."""
        return bool(self.checks or self.revisions)


def evaluate(expr: str) -> int | None:
    """Value of an integer +/- expression read left to right, or None if `expr` is not one."""
    if not _EXPR_RE.match(expr):
        return None
    numbers = re.findall(r"[+-]?[0-9]+", expr, re.ASCII)
    if any(len(n.lstrip("+-")) > MAX_DIGITS for n in numbers):
        return None
    return sum(int(n) for n in numbers)


def parse_step(text: str) -> Step | None:
    """`E=V` or `x=E=V` -> Step, or None when the text is not a step."""
    m = _STEP_RE.match(text)
    if not m or len(m.group(3).lstrip("-")) > MAX_DIGITS:
        return None
    truth = evaluate(m.group(2))
    return None if truth is None else Step(m.group(2), int(m.group(3)), truth, m.group(1) or "")


def parse_thinking(thinking: str) -> tuple[list[Step], list[Check], list[Revision], str]:
    """Split the thinking into steps, checks and revisions; the last value says what was malformed."""
    steps, checks, revisions = [], [], []
    redo: Revision | None = None         # the revision whose redo steps are being collected
    last_step: Step | None = None
    items = thinking.split(" ") if thinking else []
    error, i = "", 0
    while i < len(items):
        item = items[i]
        if item == "wait":
            if redo is not None:
                revisions.append(redo)
            redo = Revision(last_step, [])
            i += 1
        elif item == "check":
            step = parse_step(items[i + 1]) if i + 1 < len(items) else None
            verdict = items[i + 2] if i + 2 < len(items) else None
            if step is None or verdict not in ("ok", "no"):
                error = "malformed check"
                break
            checks.append(Check(step, verdict == "ok"))
            if redo is not None:
                revisions.append(redo)
                redo = None
            i += 3
        else:
            step = parse_step(item)
            if step is None:
                error = "unrecognised item"
                break
            steps.append(step)
            if redo is not None:
                redo.after.append(step)
            last_step = step
            i += 1
    if redo is not None:
        revisions.append(redo)
    return steps, checks, revisions, error


def parse(completion: str) -> Trace:
    """Parse a completion (the text after the prompt) into its structure and final answer.

    The answer counts only if the completion is exactly THINKING</think><answer>ANSWER</answer>:
    one thinking block, one answer block, nothing after it.
    """
    if completion.count(THINK_END) != 1:
        steps, checks, revisions, error = parse_thinking(completion.split(THINK_END)[0].split("<")[0])
        return Trace(steps, checks, revisions, None,
                     "no </think>" if THINK_END not in completion else "several </think>", error)
    thinking, rest = completion.split(THINK_END)
    steps, checks, revisions, thinking_error = parse_thinking(thinking)
    error, answer = thinking_error, None
    if not rest.startswith(ANSWER_START) or not rest.endswith(ANSWER_END):
        error = "no answer block"            # answer problems are reported before thinking problems
    elif rest.count(ANSWER_START) != 1 or rest.count(ANSWER_END) != 1:
        error = "several answer blocks"
    else:
        answer = rest[len(ANSWER_START):-len(ANSWER_END)]
    return Trace(steps, checks, revisions, answer, error, thinking_error)


def completion_text(thinking: list[str], answer: str) -> str:
    """Join trace items and an answer into the completion format above."""
    return " ".join(thinking) + THINK_END + ANSWER_START + answer + ANSWER_END
