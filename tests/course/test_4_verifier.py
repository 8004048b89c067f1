"""Assignment 4, the verifier and the reflection metrics (`pytest -m verifier`): traces.parse_step,
Trace.reflects, and Countdown's CountdownFamily.check_answer and CountdownFamily.revision_fixed.

Every expected value is worked out by hand in the test (no snapshots: the outputs are small). The hard
cases: the `x=E=V` form, numbers of too many digits, text that is no step; answers with the numbers
reordered, zero-padded, a leading minus, too long, or of the wrong value; revisions after nothing, in
the middle of an attempt, redone with a wrong step, with the numbers out of order, or missing the target.
"""
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minireason import traces
from minireason.tasks.arith import CountdownFamily
from minireason.traces import Check, Revision, Step, Trace, parse, parse_step, value_of

pytestmark = pytest.mark.verifier

COUNTDOWN = CountdownFamily()
P = {"family": "countdown", "difficulty": 2, "numbers": [3, 5, 8], "target": 6}   # 3-5+8 = 6, nothing else
TWELVE = "9" * traces.MAX_DIGITS                                                  # the longest number allowed


def s(text: str) -> Step:
    """A step built by hand (value_of is the ungraded evaluator): `9+6=14` -> Step("9+6", 14, 15)."""
    expr, value = text.rsplit("=", 1)
    return Step(expr, int(value), value_of(expr))


# ----------------------------------------------------------------------------- parse_step

@pytest.mark.parametrize("text, step", [
    ("9+6=15", Step("9+6", 15, 15)),
    ("9+6=14", Step("9+6", 14, 15)),                     # a wrong step: the claim and the truth differ
    ("3-5+8=6", Step("3-5+8", 6, 6)),                    # read left to right
    ("3-5=-2", Step("3-5", -2, -2)),                     # a negative value
    ("-2+8=6", Step("-2+8", 6, 6)),                      # an expression that starts with a minus
    ("16=6", Step("16", 6, 16)),                         # a lone number is an expression (Countdown's checks)
    ("s=7+2=9", Step("7+2", 9, 9, "s")),                 # x=E=V: the variable, then the step
    ("c=9-4=6", Step("9-4", 6, 5, "c")),
    ("x=-1+2=1", Step("-1+2", 1, 1, "x")),
    (f"1+{TWELVE}=0", Step(f"1+{TWELVE}", 0, 10 ** 12)),  # 12 digits: allowed, in E and in V
    (f"1-1={TWELVE}", Step("1-1", 10 ** 12 - 1, 0)),
    (f"0=-{TWELVE}", Step("0", -(10 ** 12 - 1), 0)),     # the minus sign is no digit
])
def test_parse_step_by_hand(text, step):
    got = parse_step(text)
    assert got == step
    assert got.correct == (step.value == step.truth)


@pytest.mark.parametrize("text", [
    "", "banana", "wait", "check", "ok", "9+6", "=15", "9+6=", "9++6=15", "9+-6=3", "9*6=54", "9+6=15=15",
    "+9+6=15", "9+6=+15", "9+6=--15", "9 + 6=15", "9+6=15 ", "ab=1+2=3", "X=1+2=3", "x=y=3", "x=3", "x==1+2=3",
    "9+6=1.5", "1e3=1000",
])
def test_parse_step_rejects_text_that_is_no_step(text):
    assert parse_step(text) is None


@pytest.mark.parametrize("text", [
    f"1+1=1{TWELVE}",          # V of 13 digits
    f"1+1=-1{TWELVE}",         # ... negative
    f"1{TWELVE}+1=2",          # a number of E of 13 digits
    f"1+1{TWELVE}=2",
    f"s=-1{TWELVE}+1=2",
])
def test_parse_step_rejects_numbers_of_too_many_digits(text):
    assert parse_step(text) is None


@settings(max_examples=80, deadline=None)
@given(st.integers(-10 ** 12 + 1, 10 ** 12 - 1), st.integers(0, 10 ** 12 - 1), st.integers(-10 ** 12 + 1, 10 ** 12 - 1),
       st.sampled_from(["+", "-"]), st.sampled_from(["", "a", "s", "z"]))
def test_parse_step_computes_the_truth_of_two_numbers(a, b, c, sign, name):
    """`a+b=c` claims c; its truth is a+b (a-b for `a-b=c`), whatever c says; `x=` names the variable."""
    text = (f"{name}=" if name else "") + f"{a}{sign}{b}={c}"
    truth = a + b if sign == "+" else a - b
    assert parse_step(text) == Step(f"{a}{sign}{b}", c, truth, name)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 99), st.lists(st.tuples(st.sampled_from("+-"), st.integers(0, 99)), max_size=6))
def test_parse_step_reads_left_to_right(first, rest):
    expr = str(first) + "".join(sign + str(x) for sign, x in rest)
    truth = first + sum(x if sign == "+" else -x for sign, x in rest)
    assert parse_step(f"{expr}={truth}") == Step(expr, truth, truth)
    assert parse_step(f"{expr}={truth + 1}").correct is False


def test_parse_builds_on_parse_step():
    t = parse("9+6=14 check 14-6=8 no wait 9+6=15 s=1+2=3</think><answer>153</answer>")
    assert t.steps == [Step("9+6", 14, 15), Step("9+6", 15, 15), Step("1+2", 3, 3, "s")]
    assert t.checks == [Check(Step("14-6", 8, 8), False)]
    assert parse(f"1+1=1{TWELVE}</think><answer>2</answer>").thinking_error == "unrecognised item"


# ----------------------------------------------------------------------------- Trace.reflects

@pytest.mark.parametrize("completion, reflects", [
    ("</think><answer>15</answer>", False),                                   # direct
    ("9+6=15 7+8+1=16</think><answer>165</answer>", False),                   # steps only
    ("9+6=15 check 15-6=9 ok</think><answer>15</answer>", True),              # a check, no revision
    ("9+6=14 wait 9+6=15</think><answer>15</answer>", True),                  # a revision, no check
    ("wait</think><answer>15</answer>", True),                                # a revision after nothing
    ("9+6=14 check 14-6=9 no wait 9+6=15</think><answer>15</answer>", True),  # both
    ("9+6=14 check 14-6=9 no", True),                                         # cut off: the check still counts
    ("9+6=15 check 15-6=9 ok banana</think><answer>15</answer>", True),       # a check before unknown text
    ("9+6=15 banana check 15-6=9 ok</think><answer>15</answer>", False),      # ... after it: not counted
])
def test_reflects_on_parsed_traces(completion, reflects):
    assert parse(completion).reflects is reflects


def test_reflects_on_traces_built_by_hand():
    step = Step("9+6", 14, 15)
    check, revision = Check(Step("14-6", 9, 8), False), Revision(step, [Step("9+6", 15, 15)])
    assert Trace([step], [], [], "14", "").reflects is False
    assert Trace([step], [check], [], "14", "").reflects is True
    assert Trace([step], [], [revision], "15", "").reflects is True
    assert Trace([step], [check], [revision], "15", "").reflects is True
    assert Trace([], [], [Revision(None, [])], None, "no </think>").reflects is True
    # unknown text after a check: the style is `other`, but the trace did reflect
    other = Trace([step], [check], [], "14", "unrecognised item", "unrecognised item")
    assert other.style == "other" and other.reflects is True


# ----------------------------------------------------------------------------- CountdownFamily.check_answer

@pytest.mark.parametrize("problem, answer, right", [
    (P, "3-5+8", True),
    (P, "3+5+8", False),            # the numbers in order, the wrong value
    (P, "3+5-8", False),
    (P, "8-5+3", False),            # reaches 6, but the numbers are reordered
    (P, "5-3+8", False),
    (P, "3+3", False),              # reaches 6 with other numbers
    (P, "3-5+8+0", False),          # a number too many
    (P, "3-5+8-0", False),
    (P, "6", False),
    (P, "03-5+8", False),           # leading zeros: not the number written in the problem
    (P, "3-05+8", False),
    (P, "3-5+008", False),
    (P, "3-5+8=6", False),          # no extra text
    (P, "3 - 5 + 8", False),
    (P, "3-5+8 ", False),
    (P, "+3-5+8", False),
    (P, "3--5+8", False),
    (P, "3*5+8", False),
    (P, "", False),
    (P, "three", False),
    (P, "3-5+8" + "+0" * 40, False),                      # too long
    (P, "3-5+1" + "0" * 12 + "-1" + "0" * 12 + "+8", False),  # numbers of too many digits
    # a leading minus is no sign the problem allows, even though -2+5-3 = 0 is the target
    ({"family": "countdown", "difficulty": 2, "numbers": [2, 5, 3], "target": 0}, "2-5+3", True),
    ({"family": "countdown", "difficulty": 2, "numbers": [2, 5, 3], "target": 0}, "-2+5-3", False),
    # two-digit first number: its digits are one number, not two
    ({"family": "countdown", "difficulty": 1, "numbers": [47, 8], "target": 39}, "47-8", True),
    ({"family": "countdown", "difficulty": 1, "numbers": [47, 8], "target": 39}, "47+8", False),
    ({"family": "countdown", "difficulty": 1, "numbers": [47, 8], "target": 39}, "4+7-8", False),
    ({"family": "countdown", "difficulty": 1, "numbers": [47, 8], "target": 39}, "047-8", False),
    # two solutions: both are right, not only the first in search order
    ({"family": "countdown", "difficulty": 2, "numbers": [4, 2, 2], "target": 4}, "4+2-2", True),
    ({"family": "countdown", "difficulty": 2, "numbers": [4, 2, 2], "target": 4}, "4-2+2", True),
    ({"family": "countdown", "difficulty": 2, "numbers": [4, 2, 2], "target": 4}, "4-2-2", False),
])
def test_check_answer_by_hand(problem, answer, right):
    ok, reason = COUNTDOWN.check_answer(problem, answer)
    assert ok is right
    assert isinstance(reason, str) and (reason == "") == right         # a reason exactly when wrong


def test_check_answer_rejects_a_huge_answer():
    ok, reason = COUNTDOWN.check_answer(P, "3-5+8" * 20_000)
    assert ok is False and reason != ""


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=4), st.data())
def test_check_answer_accepts_exactly_the_sign_patterns_that_reach_the_target(numbers, data):
    """For numbers kept in order, an answer is right exactly when its value is the target; the same
    signs over the numbers in another order are wrong, whatever they reach."""
    n_ops = len(numbers) - 1
    patterns = ["".join(x) for x in itertools.product("+-", repeat=n_ops)]
    target = value_of(str(numbers[0]) + "".join(a + str(b) for a, b in zip(data.draw(st.sampled_from(patterns)),
                                                                            numbers[1:])))
    p = {"family": "countdown", "difficulty": 2, "numbers": numbers, "target": target}
    for signs in patterns:
        expr = str(numbers[0]) + "".join(a + str(b) for a, b in zip(signs, numbers[1:]))
        ok, reason = COUNTDOWN.check_answer(p, expr)
        assert ok is (value_of(expr) == target) and (reason == "") is ok
        other = data.draw(st.permutations(numbers))
        if other != numbers:
            wrong = str(other[0]) + "".join(a + str(b) for a, b in zip(signs, other[1:]))
            assert COUNTDOWN.check_answer(p, wrong)[0] is False
        padded = "0" + expr
        assert COUNTDOWN.check_answer(p, padded)[0] is False


# ----------------------------------------------------------------------------- CountdownFamily.revision_fixed

FULL_RIGHT = [s("3-5=-2"), s("-2+8=6")]            # the one attempt that reaches 6


@pytest.mark.parametrize("before, after, fixed", [
    # a finished attempt that missed the target (3+5+8 = 16), redone by the right attempt
    ("8+8=16", FULL_RIGHT, True),
    # a miscomputed step, redone by the right attempt
    ("3-5=-3", FULL_RIGHT, True),
    ("8+8=15", FULL_RIGHT, True),
    # a wait with nothing before it fixes nothing, however right what follows
    (None, FULL_RIGHT, False),
    # a wait after a right step in the middle of an attempt fixes nothing either
    ("3-5=-2", FULL_RIGHT, False),
    ("3+5=8", FULL_RIGHT, False),
    # nothing was wrong: a finished attempt that reached the target
    ("-2+8=6", FULL_RIGHT, False),
    # the redo is a full attempt, every step right, but it misses the target
    ("8+8=16", [s("3+5=8"), s("8-8=0")], False),
    # the redo has a wrong step (its chain still reaches 6, or its last truth does)
    ("8+8=16", [s("3+5=14"), s("14-8=6")], False),
    ("8+8=16", [s("3-5=-2"), s("-2+8=7")], False),
    ("8+8=16", [s("3-5=-3"), s("-3+8=5")], False),
    # the redo does not use the numbers in order, or does not chain its steps, or is no attempt
    ("8+8=16", [s("5+3=8"), s("8-2=6")], False),
    ("8+8=16", [s("3-5=-2"), s("-1+7=6")], False),
    ("8+8=16", [s("3+3=6")], False),
    ("8+8=16", [s("6=6")], False),
    ("8+8=16", [], False),
    ("8+8=16", FULL_RIGHT + [s("6+0=6")], False),
])
def test_revision_fixed_by_hand(before, after, fixed):
    revision = Revision(None if before is None else s(before), after)
    assert COUNTDOWN.revision_fixed(P, revision) is fixed


def test_revision_fixed_with_two_numbers():
    p = {"family": "countdown", "difficulty": 1, "numbers": [47, 8], "target": 39}
    assert COUNTDOWN.revision_fixed(p, Revision(s("47+8=55"), [s("47-8=39")])) is True
    assert COUNTDOWN.revision_fixed(p, Revision(s("47+8=55"), [s("47-8=38")])) is False     # a wrong redo
    assert COUNTDOWN.revision_fixed(p, Revision(s("47+8=55"), [s("47+8=55")])) is False     # misses again
    assert COUNTDOWN.revision_fixed(p, Revision(s("47-8=39"), [s("47-8=39")])) is False     # nothing was wrong


@pytest.mark.parametrize("completion, fixed", [
    # the search of the corpus: two missed attempts, the second redo hits the target
    ("3+5=8 8+8=16 check 16=6 no wait 3+5=8 8-8=0 check 0=6 no wait 3-5=-2 -2+8=6 check 6=6 ok"
     "</think><answer>3-5+8</answer>", [False, True]),
    ("3-5=-3 wait 3-5=-2 -2+8=6 check 6=6 ok</think><answer>3-5+8</answer>", [True]),
    ("wait 3-5=-2 -2+8=6 check 6=6 ok</think><answer>3-5+8</answer>", [False]),
    ("3-5=-2 wait 3-5=-2 -2+8=6 check 6=6 ok</think><answer>3-5+8</answer>", [False]),
    ("3+5=8 8+8=16 check 16=6 no wait 6=6 check 6=6 ok</think><answer>3-5+8</answer>", [False]),
])
def test_revision_fixed_on_parsed_traces(completion, fixed):
    assert [COUNTDOWN.revision_fixed(P, r) for r in parse(completion).revisions] == fixed


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=4), st.data())
def test_a_right_attempt_after_a_finished_one_fixes_exactly_when_the_first_missed(numbers, data):
    """`wait` after the last step of a right attempt with signs s1, redone by a right attempt with signs
    s2: fixed exactly when s1 missed the target and s2 reaches it."""
    n_ops = len(numbers) - 1
    patterns = ["".join(x) for x in itertools.product("+-", repeat=n_ops)]

    def attempt(signs):
        steps, v = [], numbers[0]
        for sign, x in zip(signs, numbers[1:]):
            steps.append(Step(f"{v}{sign}{x}", v + x if sign == "+" else v - x, v + x if sign == "+" else v - x))
            v = steps[-1].value
        return steps

    target = attempt(data.draw(st.sampled_from(patterns)))[-1].value
    p = {"family": "countdown", "difficulty": 2, "numbers": numbers, "target": target}
    s1, s2 = data.draw(st.sampled_from(patterns)), data.draw(st.sampled_from(patterns))
    first, second = attempt(s1), attempt(s2)
    want = first[-1].value != target and second[-1].value == target
    assert COUNTDOWN.revision_fixed(p, Revision(first[-1], second)) is want
