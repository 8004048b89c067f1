"""The arithmetic domain: column addition and subtraction, and Countdown-style search.

Why these families: on plain column arithmetic RL soon makes the
chain of thought reliable, and a check that only re-does the work stops paying; reflection fades. On
**Countdown** a first attempt fails *for lack of information*: the right signs cannot be read off the
numbers, so writing an attempt, checking it against the target and, after `wait`, trying the next
candidate in a fixed order keeps paying for as long as problems stay hard. The column families keep
the inverse check ("does s - b - c give back a?") that catches slips in a step.

Difficulty knob: column families use d+1 digit operands (2, 3, 4 digits, ..., up to 11 at d = 10,
so that an answer fits the verifier's 12 digits); sums add d one-digit numbers to a first number of
up to two digits, with no top level; Countdown has two numbers (the first of up to two digits), then
three one-digit numbers (two or four sign patterns), at difficulty 3 a single solution that is
not the first attempt, and from 4 to 12 d numbers whose first solution in search order is found
within four attempts. How the thinking grows: a sum or a column problem takes one step per number or
column, d or d+1 steps, each followed by its check in the reflective style, so its trace grows
linearly with d; Countdown's search above 3 writes 2 to 4 attempts of d-1 steps (8 after a slip). (The first number
has up to two digits because the spaces of one-digit problems are too small to hold 48 distinct
held-out problems: two one-digit numbers make 45 sums.)

Trace styles, each written by `trace(problem, style, rng, noise)`:
    direct   the answer alone
    step     the worked steps, then the answer (each step wrong with probability `step_noise`,
             and the error carried through, so the answer is wrong too)
    reflect  the steps, each followed by a check; a first pass is wrong with probability
             `first_pass_error`, the check says `no`, and `wait` introduces the corrected step.
             (`9+6+0=14 check 14-6-0=9 no wait 9+6+0=15` or `9+6+0=15 check 15-6-0=9 ok`)
             For Countdown: a systematic search over sign patterns, each attempt checked against
             the target, stopping at the first hit.

On Countdown the one-shot styles (direct, step) cannot know which signs reach the target without
trying them: with probability `oneshot_guess` they commit to a sign pattern drawn at random and answer
with it, right or wrong, as a writer who never searched would. (At `oneshot_guess=0` they "know" a
solution; then a small model learns to guess well by intuition and search pays only on some seeds.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from minireason.traces import Revision, completion_text, value_of


@dataclass(frozen=True)
class Noise:
    """Error injection of the corpus (fields of DataConfig of the same names)."""
    step_noise: float = 0.05
    first_pass_error: float = 0.5
    direct_noise: float = 0.1
    oneshot_guess: float = 1.0


_NUMBER_RE = re.compile(r"^(0|[1-9][0-9]{0,11})\Z", re.ASCII)


def _slip(rng: np.random.Generator, value: int, low: int = 0, high: int | None = None) -> int:
    """A plausible wrong value: off by one, kept inside [low, high]."""
    wrong = value + (1 if rng.random() < 0.5 else -1)
    if wrong < low or (high is not None and wrong > high):
        wrong = value - (wrong - value)
    return wrong


# ----------------------------------------------------------------------------- column arithmetic

class _ColumnFamily:
    """Shared code of `add` and `sub`: one step per digit column, least significant digit first."""
    name = ""
    domain = "arith"
    symbol = "+"
    min_heldout_percent = 0
    max_difficulty = 10            # 11-digit operands: the answer stays within the verifier's 12 digits

    def sample(self, rng: np.random.Generator, difficulty: int) -> dict:
        """A random problem of this difficulty (either split; see tasks.sample_problem)."""
        n = difficulty + 1
        lo, hi = 10 ** (n - 1), 10 ** n
        a, b = int(rng.integers(lo, hi)), int(rng.integers(lo, hi))
        if self.symbol == "-" and a < b:
            a, b = b, a
        return {"family": self.name, "difficulty": difficulty, "a": a, "b": b}

    def prompt(self, p: dict) -> str:
        """The question text."""
        return f"{p['a']}{self.symbol}{p['b']}"

    def split_key(self, p: dict) -> str:
        """a+b and b+a are one problem (same answer, same columns); a-b is ordered."""
        a, b = (sorted((p["a"], p["b"])) if self.symbol == "+" else (p["a"], p["b"]))
        return f"{a}{self.symbol}{b}"

    def correct_answer(self, p: dict) -> str:
        """The canonical correct answer."""
        return str(p["a"] + p["b"] if self.symbol == "+" else p["a"] - p["b"])

    def trace(self, p: dict, style: str, rng: np.random.Generator, noise: Noise) -> str:
        """A worked completion in the given style (direct, step or reflect)."""
        if style == "direct":
            answer = self.correct_answer(p)
            if rng.random() < noise.direct_noise:
                answer = str(_slip(rng, int(answer)))
            return completion_text([], answer)
        n = len(str(max(p["a"], p["b"])))
        a_digits = [int(c) for c in str(p["a"]).zfill(n)[::-1]]
        b_digits = [int(c) for c in str(p["b"]).zfill(n)[::-1]]
        high = 19 if self.symbol == "+" else 9
        items, digits, carry = [], [], 0
        for a_d, b_d in zip(a_digits, b_digits):
            top, value = self.column_top(a_d, b_d, carry)
            expr = f"{top}{self.symbol}{b_d}" + (f"{self.symbol}{carry}" if carry else "")
            if style == "step":
                written = _slip(rng, value, 0, high) if rng.random() < noise.step_noise else value
                items.append(f"{expr}={written}")
            else:
                if rng.random() < noise.first_pass_error:     # a slip, caught by the check, redone
                    wrong = _slip(rng, value, 0, high)
                    items += [f"{expr}={wrong}", "check", self.inverse(wrong, b_d, carry, top), "no", "wait",
                              f"{expr}={value}"]
                else:
                    items += [f"{expr}={value}", "check", self.inverse(value, b_d, carry, top), "ok"]
                written = value
            digits.append(written % 10)
            carry = self.next_carry(top, written, a_d)
        answer_value = sum(d * 10 ** i for i, d in enumerate(digits))
        if self.symbol == "+":
            answer_value += carry * 10 ** len(digits)
        return completion_text(items, str(answer_value))

    def check_answer(self, p: dict, answer: str) -> tuple[bool, str]:
        """Exact integer answer, ASCII digits, no sign, no leading zeros, no extra text."""
        if not _NUMBER_RE.match(answer):
            return False, "unparsable answer"
        return (answer == self.correct_answer(p)), ("" if answer == self.correct_answer(p) else "wrong value")

    def revision_fixed(self, p: dict, revision: Revision) -> bool:
        """A revision fixed a step when the step before `wait` was wrong and its redo (the same
        expression) is right."""
        return (revision.before is not None and not revision.before.correct and bool(revision.after)
                and revision.after[0].expr == revision.before.expr and revision.after[0].correct)


class AddFamily(_ColumnFamily):
    """a + b, column by column: step `a+b+c=s` (c the carry in, left out when 0), check `s-b-c=a`."""
    name, symbol = "add", "+"

    def column_top(self, a_d, b_d, carry):
        return a_d, a_d + b_d + carry

    def inverse(self, value, b_d, carry, top):
        return f"{value}-{b_d}" + (f"-{carry}" if carry else "") + f"={top}"

    def next_carry(self, top, written, a_d):
        return 1 if written >= 10 else 0


class SubFamily(_ColumnFamily):
    """a - b (a >= b), column by column: step `t-b-c=d` (t = a, or a+10 when borrowing; c the borrow in,
    left out when 0), check `d+b+c=t`."""
    name, symbol = "sub", "-"

    def column_top(self, a_d, b_d, borrow):
        top = a_d + 10 if a_d - b_d - borrow < 0 else a_d
        return top, top - b_d - borrow

    def inverse(self, value, b_d, borrow, top):
        return f"{value}+{b_d}" + (f"+{borrow}" if borrow else "") + f"={top}"

    def next_carry(self, top, written, a_d):
        return 1 if top >= 10 else 0


# ----------------------------------------------------------------------------- multi-operand sums

class SumFamily:
    """A running sum: a first number of up to two digits, then one-digit numbers, one addition per step,
    each checked by its inverse.

    Example: `7+5+9` -> `7+5=12 check 12-5=7 ok 12+9=22 check 22-9=12 no wait 12+9=21`, answer `21`.
    Every step uses the skill Countdown's attempts use (a running value plus or minus one digit), so the
    two families share what pretraining must teach. Difficulty d: a first number 1..99, then d
    one-digit numbers (2, 3 or 4 operands; d steps).
    """
    name = "sum"
    domain = "arith"
    min_heldout_percent = 0
    max_difficulty = None          # open-ended: d steps at difficulty d

    def sample(self, rng: np.random.Generator, difficulty: int) -> dict:
        """A random problem of this difficulty (either split; see tasks.sample_problem)."""
        numbers = [int(rng.integers(1, 100))] + [int(x) for x in rng.integers(1, 10, size=difficulty)]
        return {"family": self.name, "difficulty": difficulty, "numbers": numbers}

    def prompt(self, p: dict) -> str:
        """The question text."""
        return "+".join(map(str, p["numbers"]))

    def split_key(self, p: dict) -> str:
        """The numbers as a multiset: `5+7+9` and `9+7+5` are one problem."""
        return "+".join(map(str, sorted(p["numbers"])))

    def correct_answer(self, p: dict) -> str:
        """The canonical correct answer."""
        return str(sum(p["numbers"]))

    def trace(self, p: dict, style: str, rng: np.random.Generator, noise: Noise) -> str:
        """A worked completion in the given style (direct, step or reflect)."""
        if style == "direct":
            answer = int(self.correct_answer(p))
            return completion_text([], str(_slip(rng, answer) if rng.random() < noise.direct_noise else answer))
        items, value = [], p["numbers"][0]
        for x in p["numbers"][1:]:
            true = value + x
            if style == "step":
                written = _slip(rng, true) if rng.random() < noise.step_noise else true
                items.append(f"{value}+{x}={written}")
            else:
                if rng.random() < noise.first_pass_error:     # a slip, caught by the check, redone
                    wrong = _slip(rng, true)
                    items += [f"{value}+{x}={wrong}", "check", f"{wrong}-{x}={value}", "no", "wait",
                              f"{value}+{x}={true}"]
                else:
                    items += [f"{value}+{x}={true}", "check", f"{true}-{x}={value}", "ok"]
                written = true
            value = written
        return completion_text(items, str(value))

    check_answer = _ColumnFamily.check_answer
    revision_fixed = _ColumnFamily.revision_fixed


# ----------------------------------------------------------------------------- countdown

def _signs(n_ops: int, index: int) -> str:
    """The index-th sign pattern in search order: binary counting with + before - ('++', '+-', '-+', '--')."""
    return "".join("-" if (index >> (n_ops - 1 - k)) & 1 else "+" for k in range(n_ops))


def _expression(numbers: list[int], signs: str) -> str:
    return str(numbers[0]) + "".join(s + str(x) for s, x in zip(signs, numbers[1:]))


def _value(numbers: list[int], signs: str) -> int:
    """The value of _expression(numbers, signs), without writing and reading it back."""
    return numbers[0] + sum(x if s == "+" else -x for s, x in zip(signs, numbers[1:]))


class CountdownFamily:
    """Reach the target by putting + or - between the given numbers (kept in order, read left to right).

    Example: `reach 6 with 3 5 8` -> `3-5+8`. An attempt is written one operation at a time, then
    checked against the target; the search tries the sign patterns in a fixed order and stops at the
    first hit:  `3+5=8 8+8=16 check 16=6 no wait 3+5=8 8-8=0 check 0=6 no wait 3-5=-2 -2+8=6 check 6=6 ok`
    The order is binary counting with + before - (`++`, `+-`, `-+`, `--`): the last sign varies
    fastest, so the search tries the last signs first.
    Difficulty: 1 = two numbers, the first 1..99 and the second 1..9 (2 patterns), 2 = three numbers
    1..9 (4 patterns), 3 = three numbers with exactly one solution, which uses a minus (so the first
    attempt, all plus, always misses and a lucky guess is rarer). Difficulty 3 has only about 400
    distinct problems (three one-digit numbers with a unique signed solution), so the family holds out 15% of its
    keys, enough for 48 distinct held-out problems per difficulty; two-digit numbers there would make
    the four-attempt search longer than the demo's thinking budget.

    Above 3 the difficulty is open-ended up to 12 (`max_difficulty`): level d has d one-digit numbers,
    and its problems are those whose first solution in search order is the second, third or fourth
    pattern (a minus among the last two signs, the all-plus first attempt always missing). A search
    over all 2^(d-1) patterns would double with each number; the reflective writer searches these four
    patterns only (the same order, so the same attempts as a full search up to the hit), and if a slip
    made all four miss, the four once more. Its length grows linearly: 2 to 4 attempts of d-1 steps,
    each with its check (up to 8 after a slip). What the model cannot know is which of the last signs:
    it must still try, check and retry. (The price: a model can learn that the earlier signs are +.)
    """
    name = "countdown"
    domain = "arith"
    min_heldout_percent = 15
    max_difficulty = 12            # the one-shot styles draw among all 2^(d-1) patterns: 2048 at 12

    def sample(self, rng: np.random.Generator, difficulty: int) -> dict:
        """A random problem of this difficulty (either split; see tasks.sample_problem)."""
        n = 2 if difficulty == 1 else max(3, difficulty)
        while True:
            numbers = [int(x) for x in rng.integers(1, 10, size=n)]
            if difficulty == 1:                 # two one-digit numbers make too few problems
                numbers[0] = int(rng.integers(1, 100))
            if difficulty >= 4:                 # a minus among the last two signs: found by the 2nd-4th attempt
                signs = _signs(n - 1, int(rng.integers(1, 4)))
            else:
                signs = _signs(n - 1, int(rng.integers(0, 2 ** (n - 1))))
            p = {"family": self.name, "difficulty": difficulty, "numbers": numbers,
                 "target": _value(numbers, signs)}
            if p["target"] < 0:
                continue
            if difficulty == 3:
                found = self.solutions(p)
                if len(found) != 1 or "-" not in found[0]:
                    continue        # hard: one solution only, and not the all-plus first attempt
            return p

    def prompt(self, p: dict) -> str:
        """The question text."""
        return f"reach {p['target']} with " + " ".join(map(str, p["numbers"]))

    def split_key(self, p: dict) -> str:
        """The target with the numbers as a multiset (`reach 6 with 3 5 8` ~ `reach 6 with 8 5 3`):
        order matters for the answer, but a permutation is too close a sibling to count as new."""
        return f"{p['target']}:" + " ".join(map(str, sorted(p["numbers"])))

    def solutions(self, p: dict) -> list[str]:
        """Every sign pattern that reaches the target, in search order."""
        numbers, n_ops = p["numbers"], len(p["numbers"]) - 1
        patterns = (_signs(n_ops, i) for i in range(2 ** n_ops))
        return [_expression(numbers, s) for s in patterns if _value(numbers, s) == p["target"]]

    def correct_answer(self, p: dict) -> str:
        """The canonical correct answer: the first sign pattern in search order that reaches the target
        (ValueError when none does, e.g. a typed `reach 100 with 1 2 3`)."""
        numbers, n_ops = p["numbers"], len(p["numbers"]) - 1
        for i in range(2 ** n_ops):
            signs = _signs(n_ops, i)
            if _value(numbers, signs) == p["target"]:
                return _expression(numbers, signs)
        raise ValueError(f"no sign pattern reaches {p['target']}")

    def attempt(self, numbers: list[int], signs: str, rng: np.random.Generator, step_noise: float):
        """Steps of one attempt, one operation each (a slip is carried on); returns (items, final value)."""
        items, value = [], numbers[0]
        for sign, x in zip(signs, numbers[1:]):
            true = value + x if sign == "+" else value - x
            written = _slip(rng, true, -99) if rng.random() < step_noise else true
            items.append(f"{value}{sign}{x}={written}")
            value = written
        return items, value

    def trace(self, p: dict, style: str, rng: np.random.Generator, noise: Noise) -> str:
        """A worked completion in the given style (direct, step or reflect)."""
        numbers, target = p["numbers"], p["target"]
        n_ops = len(numbers) - 1
        patterns = [_signs(n_ops, i) for i in range(2 ** n_ops)]
        if style in ("direct", "step"):                        # one shot: a guess, or a known solution
            if rng.random() < noise.oneshot_guess:
                answer = _expression(numbers, str(rng.choice(patterns)))
            else:
                answer = str(rng.choice(self.solutions(p)))
                if style == "direct" and rng.random() < noise.direct_noise:
                    answer = _expression(numbers, str(rng.choice(patterns)))
            if style == "direct":
                return completion_text([], answer)
            signs = "".join(c for c in answer if c in "+-")
            return completion_text(self.attempt(numbers, signs, rng, noise.step_noise)[0], answer)
        search = patterns if n_ops <= 2 else patterns[:4] * 2   # above 3 numbers: the last two signs, twice at most
        items, answer = [], _expression(numbers, search[-1])
        for signs in search:                                   # systematic search in a fixed order
            steps, value = self.attempt(numbers, signs, rng, noise.step_noise)
            if items:
                items.append("wait")
            items += steps + ["check", f"{value}={target}", "ok" if value == target else "no"]
            if value == target:
                answer = _expression(numbers, signs)
                break
        return completion_text(items, answer)

    def check_answer(self, p: dict, answer: str) -> tuple[bool, str]:
        """The answer must use the given numbers in order, joined by + or -, and reach the target."""
        # BEGIN SOLUTION verifier: (correct, reason): the numbers in order, joined by + or -, reaching the target
        if len(answer) > 64 or value_of(answer) is None or answer.startswith("-"):
            return False, "unparsable answer"
        used = [int(x) for x in re.findall(r"[0-9]+", answer, re.ASCII)]
        if used != p["numbers"] or any(len(x) > 1 and x[0] == "0" for x in re.findall(r"[0-9]+", answer)):
            return False, "numbers differ from the problem's"
        return (value_of(answer) == p["target"]), ("" if value_of(answer) == p["target"] else "wrong value")
        # END SOLUTION

    def is_full_attempt(self, p: dict, steps) -> bool:
        """The steps are one whole attempt over the problem's numbers in order: the first starts
        `n0+n1` or `n0-n1`, each later one starts from the value the step before wrote and uses the
        next number (`3-5=-2 -2+8=6` for 3 5 8)."""
        numbers = p["numbers"]
        if len(steps) != len(numbers) - 1:
            return False
        value = numbers[0]
        for step, x in zip(steps, numbers[1:]):
            if step.expr not in (f"{value}+{x}", f"{value}-{x}"):
                return False
            value = step.value
        return True

    def revision_fixed(self, p: dict, revision: Revision) -> bool:
        """A revision fixed the search when something was wrong before `wait` (a miscomputed step, or a
        finished attempt, ending with the last number, that missed the target) and the steps after it
        are a full attempt over the problem's numbers in order, every step right, reaching the target.
        A `wait` with no step before it, or after a right step in the middle of an attempt, fixes nothing."""
        # BEGIN SOLUTION verifier: wrong before the wait, then a full attempt, every step right, reaching the target
        before, after, last = revision.before, revision.after, p["numbers"][-1]
        if before is None:
            return False
        missed = not before.correct or (before.expr.endswith((f"+{last}", f"-{last}")) and before.truth != p["target"])
        return (missed and self.is_full_attempt(p, after) and all(s.correct for s in after)
                and after[-1].truth == p["target"])
        # END SOLUTION
