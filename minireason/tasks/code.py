"""The code domain: programs in the project's tiny language (`minireason.lang`).

**trace**: given a program, predict what it prints. Example (difficulty 3):

    prompt   s=5;repeat 3 {s=s+2};print s
    step     s=5+2=7 s=7+2=9 s=9+2=11</think><answer>11</answer>
    reflect  s=5+2=7 check 7-2=5 ok s=7+2=10 check 10-2=7 no wait s=7+2=9 s=9+2=11 check 11-2=9 ok ...

The worked trace writes the state after each assignment that computes something, as `x=E=V`: the
variable, the expression with the current values substituted, and the value. That is the notation of
the arithmetic domain with a variable in front (`traces.parse` reads both), and the three styles
(direct, step, reflect) are written exactly as for running sums, so the style prior a model learns in
pretraining is shared across domains. The correct answer comes from running the program in the
sandboxed interpreter, never from the trace writer.

Difficulty knob: 1 = two literals, one computed assignment; 2 = three computed assignments that
overwrite variables; 3 = a `repeat` loop (3 iterations of one assignment, or 2 of one or two); d ≥ 4
= a loop of d − 1 iterations of one or two assignments, with no top level. Literals are 1..9 and the
operators + and -. How the thinking grows: one written step per assignment the program runs, so the
trace grows linearly with d (d − 1 to 2(d − 1) steps in the loop), and so do the values (a body
`a=a+b;b=a+b` grows them like Fibonacci numbers: more digits per step at high d; a program whose
values outgrow the sandbox's 12 digits is drawn again, so at very high d the bodies that grow slowly
are the ones left).

**fill** (FillFamily, at the end of this file): fill the holes of a program so that it prints a target,
`x=3;x=x?5;x=x?8;print x gives 6` -> `x=3;x=x-5;x=x+8;print x`: Countdown's search, spelled as code.
"""
from __future__ import annotations

import re

import numpy as np

from minireason import lang
from minireason.tasks.arith import CountdownFamily, Noise, SumFamily, _slip
from minireason.traces import ANSWER_END, ANSWER_START, THINK_END, completion_text

_INT_RE = re.compile(r"^(0|-?[1-9][0-9]{0,11})\Z", re.ASCII)
LIMITS = lang.Limits(max_steps=500)      # generated programs need a few dozen steps


def _assignment(rng: np.random.Generator, target: str, names: list[str]) -> str:
    """`target=u+v` or `target=u-v`: a variable and a literal 1..9 (either order), or the two variables."""
    var, other = (str(n) for n in rng.permutation(names))
    literal = str(int(rng.integers(1, 10)))
    left, right = [(var, literal), (literal, var), (var, other)][int(rng.choice(3, p=[0.5, 0.15, 0.35]))]
    return f"{target}={left}{'+' if rng.random() < 0.5 else '-'}{right}"


class TraceFamily:
    """Predict what a program prints (one printed integer)."""
    name = "trace"
    domain = "code"
    min_heldout_percent = 0
    max_difficulty = None          # open-ended: longer loops (see the module docstring)

    def sample(self, rng: np.random.Generator, difficulty: int) -> dict:
        """A random problem of this difficulty (either split; see tasks.sample_problem); from level 4 on,
        one whose values fit the sandbox's digits (drawn again until they do)."""
        while True:
            p = self._draw(rng, difficulty)
            if difficulty < 4 or lang.run(p["program"], LIMITS).status == "ok":
                return p

    def _draw(self, rng: np.random.Generator, difficulty: int) -> dict:
        names = ["a", "b"] if rng.random() < 0.5 else ["x", "y"]
        lines = [f"{v}={int(rng.integers(1, 10))}" for v in names]
        if difficulty == 1:
            target = "c" if names[0] == "a" else "z"
            lines.append(_assignment(rng, target, names))
            shown = target
        elif difficulty == 2:
            lines += [_assignment(rng, str(names[int(rng.integers(2))]), names) for _ in range(3)]
            shown = str(names[int(rng.integers(2))])
        else:
            if difficulty == 3:
                times, size = [(2, 1), (3, 1), (2, 2)][int(rng.integers(3))]     # at most 4 steps in all
            else:                   # 4 and up: d - 1 passes through a body of one or two assignments
                times, size = difficulty - 1, 1 + int(rng.integers(2))
            body = [_assignment(rng, str(names[int(rng.integers(2))]), names) for _ in range(size)]
            lines.append(f"repeat {times} {{{';'.join(body)}}}")
            shown = body[-1].split("=")[0]
        program = ";".join(lines + [f"print {shown}"])
        return {"family": self.name, "difficulty": difficulty, "program": program}

    def prompt(self, p: dict) -> str:
        """The question text (the program itself)."""
        return p["program"]

    def split_key(self, p: dict) -> str:
        """The program with its variables renamed in order of first use (a, b, c, ...): `x=3;y=x+1`
        and `a=3;b=a+1` are one program."""
        names: dict[str, str] = {}
        return re.sub(r"\b[a-z]\b", lambda m: names.setdefault(m.group(0), "abcdefghijklmnopqrstuvwxyz"[len(names)]),
                      p["program"])

    def correct_answer(self, p: dict) -> str:
        """What the sandboxed interpreter prints last; ValueError for a program that does not run."""
        result = lang.run(p["program"], LIMITS)
        if result.status != "ok" or not result.output:
            raise ValueError(f"the task's program does not run: {result.status}")
        return str(result.output[-1])

    def trace(self, p: dict, style: str, rng: np.random.Generator, noise: Noise) -> str:
        """A worked completion in the given style (direct, step or reflect)."""
        if style == "direct":
            answer = int(self.correct_answer(p))
            return completion_text([], str(_slip(rng, answer, -999) if rng.random() < noise.direct_noise else answer))
        env: dict[str, int] = {}
        items: list[str] = []
        answer = 0

        def value(node) -> int:
            return node[1] if node[0] == "num" else env[node[1]]

        def run(body) -> None:
            nonlocal answer
            for stmt in body:
                if stmt[0] == "print":
                    answer = value(stmt[1])
                elif stmt[0] == "repeat":
                    for _ in range(value(stmt[1])):
                        run(stmt[2])
                elif stmt[2][0] == "num":                      # a literal: nothing to compute
                    env[stmt[1]] = stmt[2][1]
                else:
                    env[stmt[1]] = self.step(stmt[1], stmt[2], value, items, style, rng, noise)

        run(lang.parse(p["program"], LIMITS))
        return completion_text(items, str(answer))

    @staticmethod
    def step(name: str, node, value, items: list[str], style: str, rng: np.random.Generator, noise: Noise) -> int:
        """Write one assignment `name = left op right` as `name=l+r=v`: in the step style, wrong with
        probability step_noise (and carried on); in the reflect style checked by the inverse, and a
        first pass wrong with probability first_pass_error is caught (`no`) and redone after `wait`,
        as in the running sums of the arithmetic domain. Returns the value written."""
        _, op, left, right = node
        lv, rv = value(left), value(right)
        if rv < 0:                                  # `5+-3` is not in the notation: write `5-3`
            op, rv = ("-" if op == "+" else "+"), -rv
        true = lv + rv if op == "+" else lv - rv
        expr = f"{lv}{op}{rv}"
        undo = "-" if op == "+" else "+"            # the inverse: v - r = l, or v + r = l
        if style == "step":
            written = _slip(rng, true, -999) if rng.random() < noise.step_noise else true
            items.append(f"{name}={expr}={written}")
            return written
        if rng.random() < noise.first_pass_error:
            wrong = _slip(rng, true, -999)
            items += [f"{name}={expr}={wrong}", "check", f"{wrong}{undo}{rv}={lv}", "no", "wait",
                      f"{name}={expr}={true}"]
        else:
            items += [f"{name}={expr}={true}", "check", f"{true}{undo}{rv}={lv}", "ok"]
        return true

    def check_answer(self, p: dict, answer: str) -> tuple[bool, str]:
        """Exact integer answer (a minus sign allowed), ASCII digits, no leading zeros, no extra text."""
        if not _INT_RE.match(answer):
            return False, "unparsable answer"
        ok = answer == self.correct_answer(p)
        return ok, ("" if ok else "wrong value")

    # A revision fixed a step when the step before `wait` was wrong and its redo is right: as for sums.
    revision_fixed = SumFamily.revision_fixed


class FillFamily(CountdownFamily):
    """Fill the holes of a program so that it prints the target: Countdown's search in the code domain.

    Example (difficulty 2):

        prompt   x=3;x=x?5;x=x?8;print x gives 6
        reflect  x=3+5=8 x=8+8=16 check 16=6 no wait x=3+5=8 x=8-8=0 check 0=6 no wait x=3-5=-2 x=-2+8=6
                 check 6=6 ok</think><answer>x=3;x=x-5;x=x+8;print x</answer>

    Each `?` is `+` or `-`; the answer is the whole program, run in the sandbox, and it must be the
    prompt's program with the holes filled. The problems are Countdown's (the same generator, the same
    difficulties, the same held-out share), the thinking is written in the trace family's notation
    (`x=E=V`), and the search is Countdown's: attempt, check against the target, `wait`, next pattern.
    It is the transfer experiment's target (bench/transfer.py): a code task that shares a reasoning
    primitive (search with checks) with the arithmetic family RL trains on, spelled differently.
    """
    name = "fill"
    domain = "code"
    split_as = "countdown"   # the same problems as Countdown's, so held out exactly when Countdown's are:
                             # RL on Countdown never trains on a held-out fill problem in other clothes
    max_difficulty = 3       # not grown with Countdown's: its prompt reader takes up to 4 numbers, and from
                             # level 10 a program is longer than an answer may be (64 characters)

    def prompt(self, p: dict) -> str:
        """The program with holes, and the value it must print."""
        first, *rest = p["numbers"]
        return ";".join([f"x={first}", *(f"x=x?{n}" for n in rest), "print x"]) + f" gives {p['target']}"

    @staticmethod
    def program(expression: str) -> str:
        """`3-5+8` -> `x=3;x=x-5;x=x+8;print x`."""
        first, *rest = re.findall(r"[+-]?[0-9]+", expression, re.ASCII)
        return ";".join([f"x={first}", *(f"x=x{t[0]}{t[1:]}" for t in rest), "print x"])

    def correct_answer(self, p: dict) -> str:
        """The program of the first solution in search order."""
        return self.program(self.solutions(p)[0])

    def attempt(self, numbers, signs, rng, step_noise):
        """Countdown's attempt, each step assigning to x (`x=3+5=8`)."""
        items, value = super().attempt(numbers, signs, rng, step_noise)
        return [f"x={item}" for item in items], value

    def trace(self, p: dict, style: str, rng, noise) -> str:
        """Countdown's trace in the code notation, answered with the filled program."""
        thinking, _, rest = super().trace(p, style, rng, noise).partition(THINK_END)
        expression = rest[len(ANSWER_START):-len(ANSWER_END)]
        return completion_text(thinking.split(" ") if thinking else [], self.program(expression))

    def check_answer(self, p: dict, answer: str) -> tuple[bool, str]:
        """The prompt's program with every hole filled by + or -, printing the target in the sandbox."""
        first, *rest = p["numbers"]
        shape = ";".join([f"x={first}", *(f"x=x[+-]{n}" for n in rest), "print x"])
        if len(answer) > 64 or not re.fullmatch(shape, answer, re.ASCII):
            return False, ("unparsable answer" if not answer.startswith("x=") else "program differs from the prompt's")
        result = lang.run(answer, LIMITS)
        ok = result.status == "ok" and result.output == [p["target"]]
        return ok, ("" if ok else "wrong value")
