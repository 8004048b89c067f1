"""The code domain's second task kind, **write**: given input/output examples, write the program.

    prompt   write f(4)=9 f(7)=12
    answer   print n+5                   (a program in minireason.lang; the input arrives as variable n)

The verifier runs the answer in the sandbox on hidden tests (inputs the prompt never showed) and
rewards it only if every test prints exactly the expected value; `pass_fraction` reports the share of
tests passed, so a program that is right on some inputs is visible in the metrics.

The programs are the three forms `n+c`, `c-n` and `n+n+c`. Two examples with different inputs pin the
form down (their slopes are 1, -1 and 2), but the form cannot be read off one example: as in Countdown,
a first attempt fails for lack of information, and checking a candidate on the second example and
trying the next form after `wait` is what pays. The worked trace computes the constant from the first
example, runs the candidate on the second input as a step of its own, and checks the value against
the expected output, in the shared notation (`c=E=V`, `E=V`, `check V=W ok|no`, as on Countdown):

    step     c=9-4=5</think><answer>print n+5</answer>
    reflect  c=5-2=3 4+3=7 check 7=3 no wait c=5+2=7 7-4=3 check 3=3 ok</think><answer>print 7-n</answer>

(The run is written out, not folded into the check, so that the check only compares two numbers: a
check that has to do arithmetic in its head is one a small model gets wrong.)

Difficulty knob: 1 = the form `n+c` (one form to consider), 2 = `n+c` or `c-n`, 3 = `c-n` or `n+n+c`
(never the first form tried, so a one-shot guess is rarer). One-shot writers (direct, step) commit to
a form at random with probability `oneshot_guess`, as on Countdown.

The held-out split is by the function (form and constant), not by the examples shown: a held-out
problem asks for a function no training problem asks for. The constant has up to two digits
(|c| <= 99), and the family holds out 30% of its functions (`min_heldout_percent`): with one form at
difficulty 1 there are only 198 functions, and 10% of them would be too few to measure.
"""
from __future__ import annotations

import numpy as np

from minireason import lang
from minireason.tasks.arith import Noise, _slip
from minireason.traces import Revision, Step, completion_text

FORMS = ("n+c", "c-n", "n+n+c")             # the search order of the reflective trace
LEVEL_FORMS = {1: FORMS[:1], 2: FORMS[:2], 3: FORMS[1:]}
LIMITS = lang.Limits(max_steps=200, max_length=64, max_output=4)   # an answer is one short line
N_TESTS = 4
_CONSTANTS = [k for k in range(-99, 100) if k]   # c of n+c and n+n+c (c-n: 1..99)


def _apply(form: str, c: int, n: int) -> int:
    """f(n) for a form and constant: n+c, c-n or n+n+c."""
    return {"n+c": n + c, "c-n": c - n, "n+n+c": n + n + c}[form]


def _plus(expr: str, c: int) -> str:
    """`expr+c`, written `expr-4` for a negative c and `expr` alone for zero (the notation has no `+-`)."""
    return expr if c == 0 else f"{expr}+{c}" if c > 0 else f"{expr}-{-c}"


def program(form: str, c: int) -> str:
    """The canonical program of a form and constant: `print n+5`, `print 7-n`, `print n+n-3`."""
    if form == "c-n":
        return f"print {c}-n"
    return "print " + _plus("n" if form == "n+c" else "n+n", c)


def solve_expr(form: str, x: int, y: int) -> str:
    """The expression that gives c from one example f(x)=y under `form`: y-x, y+x or y-x-x."""
    return {"n+c": f"{y}-{x}", "c-n": f"{y}+{x}", "n+n+c": f"{y}-{x}-{x}"}[form]


def run_expr(form: str, c: int, x: int) -> str:
    """The candidate run on input x, as the left side of a step: `7+5`, `13-7`, `7+7+1`."""
    return f"{c}-{x}" if form == "c-n" else _plus(f"{x}" if form == "n+c" else f"{x}+{x}", c)


class WriteFamily:
    """Write the program f(n) from two input/output examples; hidden tests decide."""
    name = "write"
    domain = "code"
    min_heldout_percent = 30
    max_difficulty = 3

    def sample(self, rng: np.random.Generator, difficulty: int) -> dict:
        """A random problem of this difficulty (either split; see tasks.sample_problem)."""
        forms = LEVEL_FORMS[difficulty]
        form = forms[int(rng.integers(len(forms)))]
        c = int(rng.integers(1, 100)) if form == "c-n" else int(rng.choice(_CONSTANTS))
        inputs = [int(x) for x in rng.permutation(10)[:2 + N_TESTS]]
        pairs = [[x, _apply(form, c, x)] for x in inputs]
        return {"family": self.name, "difficulty": difficulty, "examples": pairs[:2], "tests": pairs[2:]}

    def prompt(self, p: dict) -> str:
        """The question text (the examples)."""
        return "write " + " ".join(f"f({x})={y}" for x, y in p["examples"])

    def split_key(self, p: dict) -> str:
        """The function asked for (its canonical program), whatever examples show it."""
        return self.correct_answer(p)

    def solution(self, p: dict) -> tuple[str, int]:
        """The (form, c) that fits both examples (exactly one does)."""
        x2, y2 = p["examples"][1]
        for form in FORMS:
            c = self.constant(p, form)
            if _apply(form, c, x2) == y2:
                return form, c
        raise ValueError("no form fits the examples")

    def correct_answer(self, p: dict) -> str:
        """The canonical program (other programs that pass every test are right too)."""
        return program(*self.solution(p))

    def attempt(self, p: dict, form: str, rng: np.random.Generator, slip: float) -> tuple[list[str], int, bool]:
        """`c=E=V E2=V2 check V2=y2 ok|no` for one form; c slips with probability `slip`. -> (items, c, fits)."""
        (x1, y1), (x2, y2) = p["examples"]
        true = self.constant(p, form)
        c = _slip(rng, true, -99) if rng.random() < slip else true
        value = _apply(form, c, x2)
        return [f"c={solve_expr(form, x1, y1)}={c}", f"{run_expr(form, c, x2)}={value}", "check",
                f"{value}={y2}", "ok" if value == y2 else "no"], c, value == y2

    def trace(self, p: dict, style: str, rng: np.random.Generator, noise: Noise) -> str:
        """A worked completion in the given style (direct, step or reflect)."""
        forms = FORMS if p["difficulty"] > 1 else FORMS[:1]
        if style in ("direct", "step"):                        # one shot: a guess, or the known form
            form = str(rng.choice(forms)) if rng.random() < noise.oneshot_guess else self.solution(p)[0]
            if style == "direct":
                true = self.constant(p, form)
                c = _slip(rng, true, -99) if rng.random() < noise.direct_noise else true
                return completion_text([], program(form, c))
            items, c, _ = self.attempt(p, form, rng, noise.step_noise)
            return completion_text(items[:1], program(form, c))          # the constant only: no run, no check
        items: list[str] = []
        for form in forms:                                     # systematic search in a fixed order
            steps, c, fits = self.attempt(p, form, rng, noise.step_noise)
            if not fits and c != self.constant(p, form):       # the check caught a slip: redo this form
                items += steps + ["wait"]
                steps, c, fits = self.attempt(p, form, rng, 0.0)
            items += steps
            if fits or form == forms[-1]:
                break
            items.append("wait")                               # the form does not fit: try the next
        return completion_text(items, program(form, c))

    @staticmethod
    def constant(p: dict, form: str) -> int:
        """The constant c that makes `form` fit the first example."""
        x1, y1 = p["examples"][0]
        return y1 - _apply(form, 0, x1)

    def run_tests(self, p: dict, answer: str) -> tuple[int, str]:
        """(hidden tests passed, the sandbox's status of the first test that did not run `ok`)."""
        tests = p["tests"]
        if not (isinstance(tests, list) and 0 < len(tests) <= 16 and all(
                isinstance(t, list) and len(t) == 2 and all(type(v) is int and abs(v) < 10 ** 6 for v in t)
                for t in tests)):
            raise ValueError("malformed tests in the task record")
        passed, status = 0, "ok"
        for x, y in tests:
            result = lang.run(answer, LIMITS, {"n": x})
            if result.status != "ok":
                status = status if status != "ok" else result.status
            elif result.output == [y]:
                passed += 1
        return passed, status

    def grade(self, p: dict, answer: str) -> tuple[bool, str, float]:
        """(right, reason, pass_fraction): right when the program prints exactly the expected value on
        every hidden test; pass_fraction is the share of tests it passes."""
        passed, status = self.run_tests(p, answer)
        n = len(p["tests"])
        if passed == n:
            return True, "", 1.0
        if status != "ok":
            return False, f"sandbox: {status.replace('_', ' ')}", passed / n
        return False, f"wrong output on {n - passed} of {n} hidden tests", passed / n

    def check_answer(self, p: dict, answer: str) -> tuple[bool, str]:
        """(right, reason), as every family answers (see grade)."""
        return self.grade(p, answer)[:2]

    def candidate_fits(self, p: dict, step: Step) -> bool:
        """The step computes c for some form from the first example, correctly, and that candidate
        fits the second example too."""
        (x1, y1), (x2, y2) = p["examples"]
        form = next((f for f in FORMS if solve_expr(f, x1, y1) == step.expr), None)
        return form is not None and step.correct and _apply(form, step.value, x2) == y2

    def revision_fixed(self, p: dict, revision: Revision) -> bool:
        """A revision fixed the program when the run before `wait` missed the second example's output
        (or was miscomputed) and the candidate after it fits both examples, every step right."""
        y2, before = p["examples"][1][1], revision.before
        if before is None:                                     # `wait` before any step: nothing to fix
            return False
        if before.name == "c":                               # `wait` right after a candidate
            before_ok = self.candidate_fits(p, before)
        else:                                                  # `wait` after the run on the second input
            before_ok = before.correct and before.truth == y2
        after = revision.after
        return (not before_ok and any(s.name == "c" and self.candidate_fits(p, s) for s in after)
                and all(s.correct for s in after))

