"""Task generators: determinism, the held-out split, traces of every style, and answer checks."""
import numpy as np
import pytest

from minireason import traces
from minireason.config import DataConfig
from minireason.corpus import make_examples
from minireason.tasks import FAMILIES, STYLES, sample_problem, split_key
from minireason.tasks.arith import Noise

CLEAN = Noise(step_noise=0.0, first_pass_error=0.0, direct_noise=0.0, oneshot_guess=0.0)


def test_generators_are_deterministic_from_the_seed():
    a = make_examples(DataConfig(), seed=3, n=50)
    b = make_examples(DataConfig(), seed=3, n=50)
    c = make_examples(DataConfig(), seed=4, n=50)
    assert [e.completion for e in a] == [e.completion for e in b]
    assert [e.completion for e in a] != [e.completion for e in c]


def test_corpus_never_contains_heldout_problems():
    data = DataConfig()
    held = {split_key(e.problem) for e in make_examples(data, 0, 300, heldout=True)}
    train = {split_key(e.problem) for e in make_examples(data, 0, 3000)}
    assert held and train and not (held & train)


def test_corpus_difficulties_limit_the_corpus_only():
    """data.corpus_difficulties (the long-thinking stretch): the corpus writes those levels only; empty
    leaves it exactly as data.difficulties makes it."""
    data = DataConfig(families=("countdown",), family_weights=(1.0,), difficulties=(1, 2, 3, 4, 5))
    low = make_examples(DataConfig(**{**data.__dict__, "corpus_difficulties": (1, 2, 3)}), 0, 300)
    assert {e.problem["difficulty"] for e in low} == {1, 2, 3}
    assert {e.problem["difficulty"] for e in make_examples(data, 0, 300)} == {1, 2, 3, 4, 5}
    same = DataConfig(**{**data.__dict__, "corpus_difficulties": data.difficulties})
    assert make_examples(same, 0, 100) == make_examples(data, 0, 100)


def test_difficulty_knob():
    rng = np.random.default_rng(0)
    cd = FAMILIES["countdown"]
    for d in (1, 2, 3):
        p = FAMILIES["add"].sample(rng, d)
        assert len(str(p["a"])) == len(str(p["b"])) == d + 1
        assert len(FAMILIES["sum"].sample(rng, d)["numbers"]) == d + 1
        c = cd.sample(rng, d)
        assert len(c["numbers"]) == (2 if d == 1 else 3) and c["target"] >= 0 and max(c["numbers"]) <= 9
    for _ in range(30):
        (sol,) = cd.solutions(cd.sample(rng, 3))            # exactly one solution, using a minus
        assert "-" in sol


def test_add_traces_by_hand():
    p = {"family": "add", "difficulty": 1, "a": 57, "b": 68}
    rng = np.random.default_rng(0)
    assert FAMILIES["add"].trace(p, "direct", rng, CLEAN) == "</think><answer>125</answer>"
    assert FAMILIES["add"].trace(p, "step", rng, CLEAN) == "7+8=15 5+6+1=12</think><answer>125</answer>"
    assert FAMILIES["add"].trace(p, "reflect", rng, CLEAN) == (
        "7+8=15 check 15-8=7 ok 5+6+1=12 check 12-6-1=5 ok</think><answer>125</answer>")


def test_sub_trace_borrows_by_hand():
    p = {"family": "sub", "difficulty": 2, "a": 503, "b": 278}
    got = FAMILIES["sub"].trace(p, "step", np.random.default_rng(0), CLEAN)
    assert got == "13-8=5 10-7-1=2 5-2-1=2</think><answer>225</answer>"


def test_reflective_slip_is_caught_and_revised():
    p = {"family": "add", "difficulty": 1, "a": 57, "b": 68}
    noisy = Noise(step_noise=0.0, first_pass_error=1.0, direct_noise=0.0)
    text = FAMILIES["add"].trace(p, "reflect", np.random.default_rng(0), noisy)
    t = traces.parse(text)
    assert t.answer == "125" and len(t.revisions) == 2
    assert all(not c.verdict and c.correct for c in t.checks)           # every check says `no`, rightly
    assert all(not r.before.correct and r.after[0].correct for r in t.revisions)
    assert all(FAMILIES["add"].revision_fixed(p, r) for r in t.revisions)


def test_countdown_search_is_systematic():
    p = {"family": "countdown", "difficulty": 2, "numbers": [3, 5, 8], "target": 6}
    text = FAMILIES["countdown"].trace(p, "reflect", np.random.default_rng(0), CLEAN)
    assert text == ("3+5=8 8+8=16 check 16=6 no wait 3+5=8 8-8=0 check 0=6 no wait 3-5=-2 -2+8=6 check 6=6 ok"
                    "</think><answer>3-5+8</answer>")
    t = traces.parse(text)
    assert [len(r.after) for r in t.revisions] == [2, 2]
    assert [FAMILIES["countdown"].revision_fixed(p, r) for r in t.revisions] == [False, True]
    assert FAMILIES["countdown"].solutions(p) == ["3-5+8"]


def test_countdown_above_three_searches_the_last_two_signs():
    """Level 5: five numbers whose first solution is the 2nd-4th pattern; the search writes its attempts of
    four steps in binary-counting order, and after a slip that makes all four miss, the four once more."""
    p = {"family": "countdown", "difficulty": 5, "numbers": [3, 5, 2, 4, 1], "target": 13}   # 15 - 2*1
    text = FAMILIES["countdown"].trace(p, "reflect", np.random.default_rng(0), CLEAN)
    assert text == ("3+5=8 8+2=10 10+4=14 14+1=15 check 15=13 no wait "
                    "3+5=8 8+2=10 10+4=14 14-1=13 check 13=13 ok</think><answer>3+5+2+4-1</answer>")
    assert FAMILIES["countdown"].correct_answer(p) == "3+5+2+4-1"
    rng = np.random.default_rng(0)
    for _ in range(50):                                  # every level-5 problem is found by attempt 2 to 4
        q = sample_problem(rng, "countdown", 5, False, 15)
        t = traces.parse(FAMILIES["countdown"].trace(q, "reflect", rng, CLEAN))
        assert len(q["numbers"]) == 5 and 2 <= len(t.checks) <= 4 and len(t.steps) == 4 * len(t.checks)
    always = Noise(step_noise=1.0, first_pass_error=0.0, direct_noise=0.0)   # every step slips: nothing hits
    runs = [traces.parse(FAMILIES["countdown"].trace(p, "reflect", np.random.default_rng(s), always))
            for s in range(20)]
    missed = [t for t in runs if not any(c.verdict for c in t.checks)]
    assert missed and all(len(t.checks) == 8 for t in missed)               # the four, twice, then it stops
    assert all(len(t.checks) <= 8 for t in runs)                            # a slip that hits stops it early
    from minireason.tasks import problem_from_prompt
    assert problem_from_prompt("reach 100 with 1 2 3", ["countdown"]) is None   # no signs reach it
    with pytest.raises(ValueError, match="no sign pattern reaches 100"):
        FAMILIES["countdown"].correct_answer({"numbers": [1, 2, 3], "target": 100})


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("style", STYLES)
def test_clean_traces_parse_to_their_style_and_verify(family, style):
    rng = np.random.default_rng(1)
    fam = FAMILIES[family]
    for d in (1, 2, 3):
        p = fam.sample(rng, d)
        t = traces.parse(fam.trace(p, style, rng, CLEAN))
        assert t.error == ""
        assert fam.check_answer(p, t.answer) == (True, "")
        assert all(s.correct for s in t.steps)
        # a search that hits on its first attempt has a check but no revision; still reflective
        assert t.style == style


def test_countdown_answer_checks():
    p = {"family": "countdown", "difficulty": 2, "numbers": [3, 5, 8], "target": 6}
    check = FAMILIES["countdown"].check_answer
    assert check(p, "3-5+8") == (True, "")
    assert check(p, "3+5+8") == (False, "wrong value")
    assert check(p, "8-5+3") == (False, "numbers differ from the problem's")   # order matters
    assert check(p, "03-5+8")[0] is False
    assert check(p, "6")[0] is False
    assert check(p, "3-5+8 ")[0] is False
    assert check(p, "3*5+8")[0] is False


def test_column_answer_checks():
    p = {"family": "add", "difficulty": 1, "a": 57, "b": 68}
    check = FAMILIES["add"].check_answer
    assert check(p, "125") == (True, "")
    assert check(p, "0125")[0] is False
    assert check(p, "124") == (False, "wrong value")
    assert check(p, "١٢٥")[0] is False          # unicode digits are not ASCII digits
    assert check(p, "125.")[0] is False
    assert check(p, "+125")[0] is False


def test_sum_traces_by_hand():
    p = {"family": "sum", "difficulty": 2, "numbers": [7, 5, 9]}
    fam = FAMILIES["sum"]
    assert fam.trace(p, "step", np.random.default_rng(0), CLEAN) == "7+5=12 12+9=21</think><answer>21</answer>"
    assert fam.trace(p, "reflect", np.random.default_rng(0), CLEAN) == (
        "7+5=12 check 12-5=7 ok 12+9=21 check 21-9=12 ok</think><answer>21</answer>")
    slips = Noise(step_noise=0.0, first_pass_error=1.0, direct_noise=0.0)
    t = traces.parse(fam.trace(p, "reflect", np.random.default_rng(0), slips))
    assert t.answer == "21" and len(t.revisions) == 2
    assert all(fam.revision_fixed(p, r) for r in t.revisions)
    assert fam.check_answer(p, "21") == (True, "") and fam.check_answer(p, "22") == (False, "wrong value")


def test_countdown_oneshot_guess_is_blind_but_search_finds():
    """With oneshot_guess=1 a direct trace picks one of the 4 sign patterns at random: on hard problems
    (one solution) it is right about a quarter of the time, while the clean search is always right."""
    rng = np.random.default_rng(0)
    fam, guess = FAMILIES["countdown"], Noise(step_noise=0.0, first_pass_error=0.0, direct_noise=0.0,
                                             oneshot_guess=1.0)
    hits = {"direct": 0, "step": 0, "reflect": 0}
    for _ in range(800):
        p = fam.sample(rng, 3)
        for style in hits:
            hits[style] += fam.check_answer(p, traces.parse(fam.trace(p, style, rng, guess)).answer)[0]
    assert 0.18 < hits["direct"] / 800 < 0.32 and 0.18 < hits["step"] / 800 < 0.32
    assert hits["reflect"] == 800
