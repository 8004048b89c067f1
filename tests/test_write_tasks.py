"""The code domain's `write` family: examples -> program, judged by hidden tests in the sandbox."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minireason import lang, metrics, traces
from minireason.tasks import FAMILIES
from minireason.tasks.arith import Noise
from minireason.tasks.write import LIMITS, program
from minireason.verifiers import verify

WRITE = FAMILIES["write"]
CLEAN = Noise(step_noise=0.0, first_pass_error=0.0, direct_noise=0.0, oneshot_guess=0.0)
# f(n) = 7 - n: examples f(2)=5, f(4)=3; hidden tests at 0, 6, 9, 1
P = {"family": "write", "difficulty": 2, "examples": [[2, 5], [4, 3]], "tests": [[0, 7], [6, 1], [9, -2], [1, 6]]}


def test_traces_by_hand():
    rng = np.random.default_rng(0)
    assert WRITE.prompt(P) == "write f(2)=5 f(4)=3"
    assert WRITE.correct_answer(P) == "print 7-n"
    assert WRITE.trace(P, "direct", rng, CLEAN) == "</think><answer>print 7-n</answer>"
    assert WRITE.trace(P, "step", rng, CLEAN) == "c=5+2=7</think><answer>print 7-n</answer>"
    # the search tries n+c first (c = 5-2 = 3; run on 4: 4+3 = 7, not 3), then c-n (c = 5+2 = 7; 7-4 = 3)
    assert WRITE.trace(P, "reflect", rng, CLEAN) == (
        "c=5-2=3 4+3=7 check 7=3 no wait c=5+2=7 7-4=3 check 3=3 ok</think><answer>print 7-n</answer>")


def test_a_negative_constant_is_written_in_the_notation():
    p = {"family": "write", "difficulty": 3, "examples": [[5, 7], [1, -1]], "tests": [[0, -3]]}   # n+n-3
    text = WRITE.trace(p, "reflect", np.random.default_rng(0), CLEAN)
    assert text == ("c=7-5=2 1+2=3 check 3=-1 no wait c=7+5=12 12-1=11 check 11=-1 no wait c=7-5-5=-3 1+1-3=-1 "
                    "check -1=-1 ok</think><answer>print n+n-3</answer>")
    t = traces.parse(text)
    assert all(s.correct for s in t.steps) and all(c.correct for c in t.checks)
    assert [WRITE.revision_fixed(p, r) for r in t.revisions] == [False, True]


@pytest.mark.parametrize("answer, ok, fraction, reason", [
    ("print 7-n", True, 1.0, ""),
    ("x=7;print x-n", True, 1.0, ""),                        # any program that passes every test is right
    ("print n+3", False, 0.0, "wrong output on 4 of 4 hidden tests"),
    ("if n<9 {print 7-n} else {print 0}", False, 0.75, "wrong output on 1 of 4 hidden tests"),
    ("print 7-n;print 1", False, 0.0, "wrong output on 4 of 4 hidden tests"),   # exactly one line of output
    ("print m", False, 0.0, "sandbox: runtime error"),
    ("print 7-", False, 0.0, "sandbox: syntax error"),
    ("while 1 {n=n}", False, 0.0, "sandbox: step limit"),
    ("x=n;repeat 50 {x=x*x};print x", False, 0.0, "sandbox: size limit"),
    ("print " + "9" * 80, False, 0.0, "sandbox: syntax error"),      # longer than the answer limit
])
def test_hidden_tests_decide(answer, ok, fraction, reason):
    v = verify(P, f"</think><answer>{answer}</answer>")
    assert (v.correct, v.pass_fraction, v.reason) == (ok, fraction, reason)


def test_pass_fraction_metric_by_hand():
    answers = ["print 7-n", "if n<9 {print 7-n} else {print 0}", "print 0"]   # 4/4, 3/4, 0/4 tests
    graded = metrics.grade([P] * 3, [f"</think><answer>{a}</answer>" for a in answers], [5, 9, 4], [False] * 3)
    m = metrics.summarize(graded)
    assert m["pass_fraction"] == pytest.approx((1 + 0.75 + 0) / 3) and m["accuracy"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("difficulty, forms", [(1, {"n+c"}), (2, {"n+c", "c-n"}), (3, {"c-n", "n+n+c"})])
def test_difficulty_knob_and_clean_traces(difficulty, forms):
    rng = np.random.default_rng(difficulty)
    seen = set()
    for _ in range(300):
        p = WRITE.sample(rng, difficulty)
        seen.add(WRITE.solution(p)[0])
        xs = [x for x, _ in p["examples"] + p["tests"]]
        assert len(set(xs)) == len(xs), "hidden tests use inputs the prompt never showed"
        for style in ("direct", "step", "reflect"):
            text = WRITE.trace(p, style, rng, CLEAN)
            t = traces.parse(text)
            assert t.error == "" and t.style == style and verify(p, text).correct, (p, text)
            assert all(s.correct for s in t.steps) and all(c.correct for c in t.checks)
    assert seen == forms


def test_oneshot_guess_is_blind_but_search_finds():
    rng = np.random.default_rng(0)
    guess = Noise(step_noise=0.0, first_pass_error=0.0, direct_noise=0.0, oneshot_guess=1.0)
    problems = [WRITE.sample(rng, 3) for _ in range(400)]
    direct = np.mean([verify(p, WRITE.trace(p, "direct", rng, guess)).correct for p in problems])
    search = np.mean([verify(p, WRITE.trace(p, "reflect", rng, guess)).correct for p in problems])
    assert 0.2 < direct < 0.45 and search == 1.0          # a blind pick among three forms: about 1/3


def test_a_caught_slip_is_redone_in_the_same_form():
    p = {"family": "write", "difficulty": 1, "examples": [[4, 9], [7, 12]], "tests": [[0, 5]]}
    slips = Noise(step_noise=1.0, first_pass_error=0.0, direct_noise=0.0, oneshot_guess=0.0)
    text = WRITE.trace(p, "reflect", np.random.default_rng(0), slips)
    t = traces.parse(text)
    assert text.split(" wait ")[1].startswith("c=9-4=5 7+5=12 check 12=12 ok") and verify(p, text).correct
    assert not t.steps[0].correct and [WRITE.revision_fixed(p, r) for r in t.revisions] == [True]


@pytest.mark.parametrize("tests", [[], "0,7", [[0]], [[0, "7"]], [[10 ** 9, 1]], [[0, 7]] * 17, None])
def test_a_malformed_task_record_is_a_verdict(tests):
    v = verify({**P, "tests": tests}, "</think><answer>print 7-n</answer>")
    assert not v.correct and v.reason == "malformed task record"


def test_answer_limits_are_small():
    assert LIMITS.max_length == 64 and program("n+c", -4) == "print n-4" and program("n+n+c", 0) == "print n+n"


PIECES = ["print ", "n", "7", "-", "+", "*", "/", "%", "<", "==", "x=", ";", "while 1 {", "repeat 99 {", "if n {",
          "} else {", "}", "(", ")", "x*x", "9" * 13, "\x00", "é", " "]
REASONS = {"", "wrong output on 1 of 4 hidden tests", "wrong output on 2 of 4 hidden tests",
           "wrong output on 3 of 4 hidden tests", "wrong output on 4 of 4 hidden tests", "sandbox: syntax error",
           "sandbox: runtime error", "sandbox: step limit", "sandbox: size limit"}


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(PIECES), max_size=30).map("".join)))
def test_any_written_program_gets_a_structured_verdict_within_the_budget(answer):
    v = verify(P, f"</think><answer>{answer}</answer>")
    assert v.reason in REASONS or v.answer is None       # a program that ran, or no well-formed answer at all
    assert 0.0 <= v.pass_fraction <= 1.0 and (v.pass_fraction == 1.0) == v.correct
    for x, _ in P["tests"]:
        assert lang.run(answer, LIMITS, {"n": x}).steps <= LIMITS.max_steps + 1


def test_a_wait_after_a_candidate_that_fits_fixes_nothing():
    p = {"family": "write", "difficulty": 1, "examples": [[4, 9], [7, 12]], "tests": [[0, 5]]}
    t = traces.parse("c=9-4=5 wait c=9-4=5 7+5=12 check 12=12 ok</think><answer>print n+5</answer>")
    assert [WRITE.revision_fixed(p, r) for r in t.revisions] == [False]
    t = traces.parse("c=9-4=6 wait c=9-4=5 7+5=12 check 12=12 ok</think><answer>print n+5</answer>")
    assert [WRITE.revision_fixed(p, r) for r in t.revisions] == [True]       # a slip in c, redone


def test_a_wait_before_any_step_fixes_nothing():
    p = {"family": "write", "difficulty": 2, "examples": [[5, 2], [2, 5]], "tests": [[0, 7]]}
    t = traces.parse("wait c=2+5=7 7-2=5 check 5=5 ok</think><answer>print 7-n</answer>")
    assert [WRITE.revision_fixed(p, r) for r in t.revisions] == [False]
