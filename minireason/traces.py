"""The trace notation, how to write it, and the one parser that metrics and the verifier share.

A completion is `THINKING</think><answer>ANSWER</answer>`; the prompt already ends with `<think>`.
A run that states its confidence (calibration.py) ends it with `<confidence>K</confidence>`, K in 0..10
for a confidence q = K/10 that the answer is right; `parse` reads it apart from the answer, so a stated
confidence never changes what is correct.
THINKING is a space-separated sequence of items:

    E=V              a step: the expression E (integers joined by + and -, read left to right)
                     claimed to equal the integer V, e.g. `8+7+0=15` or `3-5+8=6`
    x=E=V            a step that assigns its value to a variable (code tasks: `s=7+2=9`)
    check E=V ok     a check: E recomputed and compared with V; the verdict is `ok` or `no`
    check E=V no
    wait             a revision: the step before it is dropped and redone by the steps after it

The transfer experiment's *own-notation* families (tasks/respelled.py) spell the same items with
markers of their own, `test E=V pass|fail` and `redo`; the parser reads both spellings as the same
items (CHECK_WORDS, WAIT_WORDS), so reflection is counted alike.

The three styles of the corpus are recognisable from these items alone:
    direct      no items at all                          `</think><answer>579</answer>`
    step        steps only                               `9+6=15 7+8+1=16</think><answer>165</answer>`
    reflect     at least one check or revision           `9+6=14 check 14-6=9 no wait 9+6=15 ...`

`items` cuts the thinking into these items, typed (Step, Check, Wait, or Unknown for text the notation
does not know), each with its exact source text: the one walker over a trace, which `parse` builds on
and sample.py and report.py only colour. `parse` recovers the structure (steps, checks, revisions,
answer) without knowing the task; tasks judge whether a revision fixed something (see
`revision_fixed` of each family).
"""
from __future__ import annotations

import re
from typing import NamedTuple

THINK_END, ANSWER_START, ANSWER_END = "</think>", "<answer>", "</answer>"
CONFIDENCE_START, CONFIDENCE_END = "<confidence>", "</confidence>"
CONFIDENCE_LEVELS = 11    # K = 0..10 in `<confidence>K</confidence>`: q = K / 10

_INT = r"-?[0-9]+"
_EXPR_RE = re.compile(rf"^{_INT}(?:[+-][0-9]+)*\Z", re.ASCII)
_STEP_RE = re.compile(rf"^(?:([a-z])=)?({_INT}(?:[+-][0-9]+)*)=({_INT})\Z", re.ASCII)
MAX_DIGITS = 12    # longer numbers are treated as unparsable (the model's output is untrusted)
# A check word and its verdicts (True = the values agree): the shared spelling, then the own-notation one.
CHECK_WORDS = {"check": {"ok": True, "no": False}, "test": {"pass": True, "fail": False}}
WAIT_WORDS = ("wait", "redo")


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


class Wait(NamedTuple):
    """`wait`: the step before it is dropped and redone by the steps after it."""


class Unknown(NamedTuple):
    """Text the notation does not know; `parse` counts nothing from the first one on."""
    reason: str      # "unrecognised item", or "malformed check" for a `check` not followed by `E=V ok|no`


class Item(NamedTuple):
    text: str                              # its exact source text: `9+6=14`, `check 14-6=8 no`, `wait`, `banana`
    parsed: Step | Check | Wait | Unknown  # what the text says


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
    confidence: float | None = None   # q = K/10 of a trailing `<confidence>K</confidence>`; None if absent or malformed
    states_confidence: bool = False   # a confidence block follows the answer block (parsable, malformed or cut)

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
        # BEGIN SOLUTION verifier: True when the trace has at least one check or one revision
        return bool(self.checks or self.revisions)
        # END SOLUTION


def value_of(expr: str) -> int | None:
    """Value of an integer +/- expression read left to right, or None if `expr` is not one."""
    if not _EXPR_RE.match(expr):
        return None
    numbers = re.findall(r"[+-]?[0-9]+", expr, re.ASCII)
    if any(len(n.lstrip("+-")) > MAX_DIGITS for n in numbers):
        return None
    return sum(int(n) for n in numbers)


def parse_step(text: str) -> Step | None:
    """`E=V` or `x=E=V` -> Step, or None when the text is not a step."""
    # BEGIN SOLUTION verifier: match `E=V` or `x=E=V`; None if not a step, V too long, or E not an expression
    m = _STEP_RE.match(text)
    if not m or len(m.group(3).lstrip("-")) > MAX_DIGITS:
        return None
    truth = value_of(m.group(2))
    return None if truth is None else Step(m.group(2), int(m.group(3)), truth, m.group(1) or "")
    # END SOLUTION


def items(thinking: str) -> list[Item]:
    """The thinking (the text before `</think>`) as typed items, in order; joining their texts with spaces
    gives back the thinking. The walk goes on past text it does not know (each space-separated piece of
    it an Unknown; a `check` not followed by `E=V ok|no` is one on its own), so a renderer can show all of
    it; `parse` stops at the first Unknown."""
    pieces = thinking.split(" ") if thinking else []
    out, i = [], 0
    while i < len(pieces):
        piece = pieces[i]
        if piece in CHECK_WORDS:
            step = parse_step(pieces[i + 1]) if i + 1 < len(pieces) else None
            verdict = pieces[i + 2] if i + 2 < len(pieces) else None
            if step is not None and verdict in CHECK_WORDS[piece]:
                out.append(Item(" ".join(pieces[i:i + 3]), Check(step, CHECK_WORDS[piece][verdict])))
                i += 3
                continue
            out.append(Item(piece, Unknown("malformed check")))
        elif piece in WAIT_WORDS:
            out.append(Item(piece, Wait()))
        else:
            step = parse_step(piece)
            out.append(Item(piece, step if step is not None else Unknown("unrecognised item")))
        i += 1
    return out


def parse_thinking(thinking: str) -> tuple[list[Step], list[Check], list[Revision], str]:
    """Split the thinking into steps, checks and revisions; the last value says what was malformed."""
    steps, checks, revisions = [], [], []
    redo: Revision | None = None         # the revision whose redo steps are being collected
    last_step: Step | None = None
    error = ""
    for item in items(thinking):
        match item.parsed:
            case Unknown(reason=reason):
                error = reason
                break
            case Wait():
                if redo is not None:
                    revisions.append(redo)
                redo = Revision(last_step, [])
            case Check() as check:
                checks.append(check)
                if redo is not None:
                    revisions.append(redo)
                    redo = None
            case Step() as step:
                steps.append(step)
                if redo is not None:
                    redo.after.append(step)
                last_step = step
    if redo is not None:
        revisions.append(redo)
    return steps, checks, revisions, error


def split_confidence(rest: str) -> tuple[str, str | None]:
    """Cut the text after `</think>` where a confidence block starts: `<answer>A</answer><confidence>...`
    -> (`<answer>A</answer>`, `<confidence>...`, all of the rest); (rest, None) when there is none. The
    block may be cut short or garbled (the length limit can end it anywhere): the answer is graded all
    the same, and confidence_of reads nothing from a block that is not exactly `<confidence>K</confidence>`."""
    at = rest.find(ANSWER_END + CONFIDENCE_START)
    if at < 0:
        return rest, None
    cut = at + len(ANSWER_END)
    return rest[:cut], rest[cut:]


def confidence_of(block: str | None) -> float | None:
    """K/10 for the block `<confidence>K</confidence>`, K an integer 0..10 written plainly (`7`, `10`);
    None for anything else."""
    m = re.fullmatch(rf"{CONFIDENCE_START}(10|[0-9]){CONFIDENCE_END}", block or "", re.ASCII)
    return None if m is None else int(m.group(1)) / (CONFIDENCE_LEVELS - 1)


def parse(completion: str) -> Trace:
    """Parse a completion (the text after the prompt) into its structure and final answer.

    The answer counts only if the completion is exactly THINKING</think><answer>ANSWER</answer>:
    one thinking block, one answer block, nothing after it but, optionally, a confidence block (whose
    text, however malformed, never changes the answer: split_confidence).
    """
    if completion.count(THINK_END) != 1:
        steps, checks, revisions, error = parse_thinking(completion.split(THINK_END)[0].split("<")[0])
        return Trace(steps, checks, revisions, None,
                     "no </think>" if THINK_END not in completion else "several </think>", error)
    thinking, rest = completion.split(THINK_END)
    rest, stated = split_confidence(rest)
    steps, checks, revisions, thinking_error = parse_thinking(thinking)
    error, answer = thinking_error, None
    if not rest.startswith(ANSWER_START) or not rest.endswith(ANSWER_END):
        error = "no answer block"            # answer problems are reported before thinking problems
    elif rest.count(ANSWER_START) != 1 or rest.count(ANSWER_END) != 1:
        error = "several answer blocks"
    else:
        answer = rest[len(ANSWER_START):-len(ANSWER_END)]
    return Trace(steps, checks, revisions, answer, error, thinking_error, confidence_of(stated), stated is not None)


def completion_text(thinking: list[str], answer: str) -> str:
    """Join trace items and an answer into the completion format above."""
    return " ".join(thinking) + THINK_END + ANSWER_START + answer + ANSWER_END


def confidence_block(k: int) -> str:
    """`<confidence>K</confidence>`: the stated confidence K/10 that follows the answer block."""
    return f"{CONFIDENCE_START}{k}{CONFIDENCE_END}"
