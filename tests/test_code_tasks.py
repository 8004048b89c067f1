"""The code domain's `trace` family: programs, worked traces in the three styles, and the answer check."""
import numpy as np
import pytest

from minireason import lang, traces
from minireason.tasks import FAMILIES
from minireason.tasks.arith import Noise
from minireason.tasks.code import LIMITS
from minireason.verifiers import verify

TRACE = FAMILIES["trace"]
CLEAN = Noise(step_noise=0.0, first_pass_error=0.0, direct_noise=0.0)


def test_traces_by_hand():
    p = {"family": "trace", "difficulty": 3, "program": "s=5;t=1;repeat 3 {s=s+2};print s"}
    rng = np.random.default_rng(0)
    assert TRACE.correct_answer(p) == "11"
    assert TRACE.trace(p, "direct", rng, CLEAN) == "</think><answer>11</answer>"
    assert TRACE.trace(p, "step", rng, CLEAN) == "s=5+2=7 s=7+2=9 s=9+2=11</think><answer>11</answer>"
    assert TRACE.trace(p, "reflect", rng, CLEAN) == (
        "s=5+2=7 check 7-2=5 ok s=7+2=9 check 9-2=7 ok s=9+2=11 check 11-2=9 ok</think><answer>11</answer>")


def test_a_negative_operand_is_written_in_the_notation():
    p = {"family": "trace", "difficulty": 2, "program": "a=1;b=5;a=a-b;b=b+a;print b"}
    text = TRACE.trace(p, "reflect", np.random.default_rng(0), CLEAN)
    assert text == "a=1-5=-4 check -4+5=1 ok b=5-4=1 check 1+4=5 ok</think><answer>1</answer>"
    t = traces.parse(text)
    assert [s.name for s in t.steps] == ["a", "b"] and all(s.correct for s in t.steps)
    assert all(c.verdict and c.correct for c in t.checks)


def test_difficulty_knob():
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert "repeat" not in TRACE.sample(rng, 1)["program"] and "repeat" not in TRACE.sample(rng, 2)["program"]
        assert "repeat" in TRACE.sample(rng, 3)["program"]
    steps = {d: np.mean([len(traces.parse(TRACE.trace(TRACE.sample(rng, d), "step", rng, CLEAN)).steps)
                         for _ in range(200)]) for d in (1, 2, 3)}
    assert steps[1] == 1 and steps[2] == 3 and steps[3] > 3


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_clean_traces_agree_with_the_interpreter(difficulty):
    """The trace writer simulates the program itself; the answer key comes from lang.run. They agree."""
    rng = np.random.default_rng(difficulty)
    for _ in range(300):
        p = TRACE.sample(rng, difficulty)
        for style in ("direct", "step", "reflect"):
            text = TRACE.trace(p, style, rng, CLEAN)
            t = traces.parse(text)
            assert t.error == "" and t.style == style
            assert verify(p, text).correct, (p, text)
            assert all(s.correct for s in t.steps) and all(c.correct for c in t.checks)


def test_reflective_slips_are_caught_and_revised():
    rng = np.random.default_rng(0)
    noisy = Noise(step_noise=0.0, first_pass_error=1.0, direct_noise=0.0)
    for _ in range(100):
        p = TRACE.sample(rng, 3)
        t = traces.parse(TRACE.trace(p, "reflect", rng, noisy))
        assert verify(p, TRACE.trace(p, "reflect", rng, noisy)).correct
        assert len(t.revisions) == len(t.checks) == len([s for s in t.steps if not s.correct])
        assert all(not c.verdict and c.correct for c in t.checks)          # every check says `no`, rightly
        assert all(TRACE.revision_fixed(p, r) for r in t.revisions)


def test_step_slips_carry_on_to_a_wrong_answer():
    rng = np.random.default_rng(0)
    noisy = Noise(step_noise=1.0, first_pass_error=0.0, direct_noise=0.0)
    wrong = sum(not verify(p, TRACE.trace(p, "step", rng, noisy)).correct
                for p in (TRACE.sample(rng, 1) for _ in range(100)))
    assert wrong == 100


@pytest.mark.parametrize("answer,ok,reason", [
    ("-7", True, ""), ("7", False, "wrong value"), ("-07", False, "unparsable answer"),
    ("-0", False, "unparsable answer"), (" -7", False, "unparsable answer"), ("-7.0", False, "unparsable answer"),
    ("\u0667", False, "unparsable answer"), ("-" + "9" * 40, False, "unparsable answer"),
])
def test_answer_check(answer, ok, reason):
    p = {"family": "trace", "difficulty": 1, "program": "x=3;y=8;z=1-y;print z"}
    assert TRACE.check_answer(p, answer) == (ok, reason)


@pytest.mark.parametrize("program", ["while 1 {x=1}", "x=1;repeat 999999 {x=x*x}", "print y", "garbage {{",
                                     "x=1", 12, None])
def test_a_hostile_task_record_gets_a_verdict_within_the_step_budget(program):
    """samples.jsonl is user-editable: a task whose program does not run is a malformed record, not a crash,
    and the sandbox stops it within the task family's step budget (not a wall-clock limit)."""
    v = verify({"family": "trace", "difficulty": 1, "program": program}, "</think><answer>1</answer>")
    assert not v.correct and v.reason == "malformed task record"
    assert lang.run(program, LIMITS).steps <= LIMITS.max_steps + 1


def test_variable_steps_parse_and_others_do_not():
    assert traces.parse_step("s=7+2=9") == traces.Step("7+2", 9, 9, "s")
    assert traces.parse_step("s=7+2=8").correct is False
    for text in ("S=7+2=9", "ab=7+2=9", "s=s+2=9", "=7+2=9", "s==9"):
        assert traces.parse_step(text) is None
    assert lang.run("s=5;t=1;repeat 3 {s=s+2};print s").output == [11]
