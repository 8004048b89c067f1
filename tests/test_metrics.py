"""Every logged metric against a value computed by hand from four completions."""
import pytest

from minireason import metrics

ADD = {"family": "add", "difficulty": 1, "a": 57, "b": 68}
# right, reflects, 1 effective revision:
C1 = "7+8+0=14 check 14-8-0=7 no wait 7+8+0=15 5+6+1=12 check 12-6-1=5 ok</think><answer>125</answer>"
C2 = "</think><answer>124</answer>"                                  # wrong, direct
C3 = "7+8+0=15 5+6+1=12</think><answer>125</answer>"                 # right, step-by-step
C4 = "7+8+0=15 wait 7+8+0=16"                                         # truncated; a revision that broke a right step


@pytest.fixture
def graded():
    # order [C1, C3, C2, C4]: with G = 2 the groups are (right, right) and (wrong, wrong)
    return metrics.grade([ADD] * 4, [C1, C3, C2, C4], [30, 15, 6, 144], [False, False, False, True])


def test_summary_by_hand(graded):
    m = metrics.summarize(graded, group_size=2)
    want = {
        "count": 4, "problems": 1, "count_correct": 2, "count_reflect": 2, "count_noreflect": 2,
        "revisions": 2, "checks": 2, "steps": 7, "count_direct": 1, "count_step": 1,
        "count_other": 0,
        "reward": 0.5, "accuracy": 0.5,
        "length_mean": (30 + 15 + 6 + 144) / 4, "length_correct": (30 + 15) / 2, "length_incorrect": (6 + 144) / 2,
        "truncation_rate": 0.25,
        "reflection_rate": 0.5,               # C1 and C4
        "effective_reflection_rate": 0.5,     # C1's revision fixed 14 -> 15; C4's broke 15 -> 16
        "step_accuracy": 5 / 7,               # C1: 14 x, 15, 12; C3: 15, 12; C4: 15, 16 x
        "check_accuracy": 1.0,                # C1: `14-8-0=7 no` (right: 6 != 7), `12-6-1=5 ok` (right)
        "accuracy_noreflect": 0.5,
        "style_share_direct": 0.25, "style_share_step": 0.25, "style_share_reflect": 0.5,
        "accuracy_direct": 0.0, "accuracy_step": 1.0, "accuracy_reflect": 0.5,
        "zero_variance_groups": 1.0,
        "accuracy_other": None,               # no completion of that style: undefined, not 0
    }
    for k, v in want.items():
        assert m[k] == (v if v is None else pytest.approx(v)), k


def test_a_rate_with_an_empty_denominator_is_none_not_zero():
    """One direct, wrong answer: no revisions, no steps, no checks, nothing correct, no reflection."""
    m = metrics.summarize(metrics.grade([ADD], [C2], [6], [False]))
    assert m["accuracy"] == 0.0 and m["reflection_rate"] == 0.0           # denominators of 1: real zeros
    for k in ("effective_reflection_rate", "step_accuracy", "check_accuracy", "length_correct",
              "accuracy_reflect", "accuracy_step", "accuracy_other"):
        assert m[k] is None, k
    assert m["revisions"] == m["steps"] == m["checks"] == m["count_correct"] == m["count_reflect"] == 0
    assert metrics.fmt(None) == "–" and metrics.fmt(0.5) == "0.50"


def test_check_accuracy_counts_superficial_checks():
    """`check -3+8=5 no` says no to a true equation, `check -1=1 ok` ok to a false one; `check 16=16 ok` is right."""
    p = {"family": "countdown", "difficulty": 2, "numbers": [5, 8, 2], "target": 1}
    c = "5-8=-3 check -3+8=5 no wait 5-8=-3 -3+2=-1 check -1=1 ok 16=16 check 16=16 ok</think><answer>5-8+2</answer>"
    m = metrics.summarize(metrics.grade([p], [c], [40], [False]))
    assert m["checks"] == 3 and m["check_accuracy"] == pytest.approx(1 / 3)

def test_per_domain_by_hand(graded):
    assert metrics.per_domain(graded, ["accuracy"]) == {}                  # one domain: nothing extra
    program = {"family": "trace", "difficulty": 1, "program": "a=2;b=5;c=a+b;print c"}
    code = metrics.grade([program] * 2, ["c=2+5=7</think><answer>7</answer>", "</think><answer>8</answer>"],
                         [9, 4], [False, False])
    m = metrics.per_domain(graded + code, ["accuracy", "length_mean", "reflection_rate"])
    assert m == pytest.approx({"arith_accuracy": 0.5, "arith_length_mean": (30 + 15 + 6 + 144) / 4,
                               "arith_reflection_rate": 0.5,
                               "code_accuracy": 0.5, "code_length_mean": 6.5, "code_reflection_rate": 0.0})


def test_per_difficulty_by_hand():
    """Two sums at level 1 (one right, 10 and 20 tokens), one at level 3 (wrong, 6 tokens, a check)."""
    one = {"family": "sum", "difficulty": 1, "numbers": [7, 5]}
    three = {"family": "sum", "difficulty": 3, "numbers": [7, 5, 1, 1]}
    graded = metrics.grade([one, one, three], ["7+5=12</think><answer>12</answer>", "</think><answer>13</answer>",
                                               "7+5=12 check 12-5=7 ok</think><answer>9</answer>"],
                           [10, 20, 6], [False, False, False])
    m = metrics.per_difficulty(graded, ["accuracy", "length_mean", "reflection_rate"])
    assert m == pytest.approx({"d1_accuracy": 0.5, "d1_length_mean": 15.0, "d1_reflection_rate": 0.0,
                               "d3_accuracy": 0.0, "d3_length_mean": 6.0, "d3_reflection_rate": 1.0})


def test_zero_variance_groups_with_mixed_rewards(graded):
    assert metrics.summarize(graded, group_size=4)["zero_variance_groups"] == 0.0


def test_countdown_revision_is_effective_only_when_it_reaches_the_target():
    p = {"family": "countdown", "difficulty": 2, "numbers": [3, 5, 8], "target": 6}
    c = ("3+5=8 8+8=16 check 16=6 no wait 3+5=8 8-8=0 check 0=6 no wait 3-5=-2 -2+8=6 check 6=6 ok"
         "</think><answer>3-5+8</answer>")
    m = metrics.summarize(metrics.grade([p], [c], [40], [False]))
    assert m["effective_reflection_rate"] == pytest.approx(0.5)   # 2 revisions, the second hits
    assert m["accuracy"] == 1.0 and m["reflection_rate"] == 1.0


@pytest.mark.parametrize("completion,fixed,correct", [
    # the redo is no attempt at all: `6=6` uses none of the numbers (review A1)
    ("3+5=8 8+8=16 check 16=6 no wait 6=6 check 6=6 ok</think><answer>3-5+8</answer>", 0, True),
    # a right-looking step that is not an attempt over 3 5 8 in order, and the answer is wrong
    ("3+5=8 8+8=16 check 16=6 no wait 1+5=6 check 6=6 ok</think><answer>3+5+8</answer>", 0, False),
    # half an attempt (one step of two) that happens to reach the target
    ("3+5=8 8+8=16 check 16=6 no wait 3+3=6 check 6=6 ok</think><answer>3-5+8</answer>", 0, True),
    # a full attempt over the numbers in order, every step right, reaching the target
    ("3+5=8 8+8=16 check 16=6 no wait 3-5=-2 -2+8=6 check 6=6 ok</think><answer>3-5+8</answer>", 1, True),
    # a miscomputed step, redone by a full attempt that reaches the target
    ("3-5=-3 wait 3-5=-2 -2+8=6 check 6=6 ok</think><answer>3-5+8</answer>", 1, True),
    # a `wait` with nothing before it fixes nothing, however right what follows
    ("wait 3-5=-2 -2+8=6 check 6=6 ok</think><answer>3-5+8</answer>", 0, True),
    # two right steps that reach the target but are no attempt over 3 5 8 in order (other numbers, a
    # second step that does not start from the first one's value)
    ("3+5=8 8+8=16 check 16=6 no wait 5+3=8 8-2=6 check 6=6 ok</think><answer>3-5+8</answer>", 0, True),
    ("3+5=8 8+8=16 check 16=6 no wait 3-5=-2 -1+7=6 check 6=6 ok</think><answer>3-5+8</answer>", 0, True),
    # a `wait` after a right step in the middle of an attempt fixes nothing either
    ("3-5=-2 wait 3-5=-2 -2+8=6 check 6=6 ok</think><answer>3-5+8</answer>", 0, True),
])
def test_countdown_revision_counts_only_a_full_attempt_over_the_numbers(completion, fixed, correct):
    p = {"family": "countdown", "difficulty": 2, "numbers": [3, 5, 8], "target": 6}
    m = metrics.summarize(metrics.grade([p], [completion], [40], [False]))
    assert m["revisions"] == 1 and m["effective_reflection_rate"] == fixed and m["accuracy"] == correct


def test_breakdown_by_difficulty(graded):
    hard = dict(ADD, difficulty=3)
    more = graded + metrics.grade([hard], [C2], [6], [False])
    by = metrics.breakdown(more, lambda g: g.problem["difficulty"])
    assert list(by) == ["1", "3"] and by["3"]["accuracy"] == 0.0 and by["1"]["accuracy"] == 0.5
