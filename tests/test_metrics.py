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
        "count": 4, "count_reflect": 2,
        "reward": 0.5, "accuracy": 0.5,
        "length_mean": (30 + 15 + 6 + 144) / 4, "length_correct": (30 + 15) / 2, "length_incorrect": (6 + 144) / 2,
        "truncation_rate": 0.25,
        "reflection_rate": 0.5,               # C1 and C4
        "effective_reflection_rate": 0.5,     # C1's revision fixed 14 -> 15; C4's broke 15 -> 16
        "step_accuracy": 5 / 7,               # C1: 14 x, 15, 12; C3: 15, 12; C4: 15, 16 x
        "accuracy_noreflect": 0.5,
        "style_share_direct": 0.25, "style_share_step": 0.25, "style_share_reflect": 0.5,
        "accuracy_direct": 0.0, "accuracy_step": 1.0, "accuracy_reflect": 0.5,
        "zero_variance_groups": 1.0,
    }
    for k, v in want.items():
        assert m[k] == pytest.approx(v), k


def test_per_domain_by_hand(graded):
    assert metrics.per_domain(graded, ["accuracy"]) == {}                  # one domain: nothing extra
    program = {"family": "trace", "difficulty": 1, "program": "a=2;b=5;c=a+b;print c"}
    code = metrics.grade([program] * 2, ["c=2+5=7</think><answer>7</answer>", "</think><answer>8</answer>"],
                         [9, 4], [False, False])
    m = metrics.per_domain(graded + code, ["accuracy", "length_mean", "reflection_rate"])
    assert m == pytest.approx({"arith_accuracy": 0.5, "arith_length_mean": (30 + 15 + 6 + 144) / 4,
                               "arith_reflection_rate": 0.5,
                               "code_accuracy": 0.5, "code_length_mean": 6.5, "code_reflection_rate": 0.0})


def test_zero_variance_groups_with_mixed_rewards(graded):
    assert metrics.summarize(graded, group_size=4)["zero_variance_groups"] == 0.0


def test_countdown_revision_is_effective_only_when_it_reaches_the_target():
    p = {"family": "countdown", "difficulty": 2, "numbers": [3, 5, 8], "target": 6}
    c = ("3+5=8 8+8=16 check 16=6 no wait 3+5=8 8-8=0 check 0=6 no wait 3-5=-2 -2+8=6 check 6=6 ok"
         "</think><answer>3-5+8</answer>")
    m = metrics.summarize(metrics.grade([p], [c], [40], [False]))
    assert m["effective_reflection_rate"] == pytest.approx(0.5)   # 2 revisions, the second hits
    assert m["accuracy"] == 1.0 and m["reflection_rate"] == 1.0


def test_breakdown_by_difficulty(graded):
    hard = dict(ADD, difficulty=3)
    more = graded + metrics.grade([hard], [C2], [6], [False])
    by = metrics.breakdown(more, lambda g: g.problem["difficulty"])
    assert list(by) == ["1", "3"] and by["3"]["accuracy"] == 0.0 and by["1"]["accuracy"] == 0.5
