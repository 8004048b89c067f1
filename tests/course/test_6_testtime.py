"""Assignment 6, test-time compute (`pytest -m testtime`): testtime.pass_at_k, testtime.majority_vote and
testtime.rank.

Every expected value is worked out by hand in the test or by a brute-force definition (no snapshots: the
outputs are small). The hard cases: pass@k when fewer than k samples are wrong (n - c < k), when none is
right (c = 0), and arguments that cannot be (ValueError); votes that tie, answers that are None (they
never vote), no votes at all; ranks of tied values.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minireason.testtime import maj_at_k, majority_vote, pass_at_k, rank

pytestmark = pytest.mark.testtime


# ----------------------------------------------------------------------------- pass@k

@pytest.mark.parametrize("n, c, k, want", [
    (10, 3, 1, 0.3),                 # pass@1 is the share of right samples
    (5, 1, 1, 0.2),
    (4, 2, 2, 5 / 6),                # 1 - C(2,2)/C(4,2) = 1 - 1/6: n - c = k, the last case below 1
    (10, 2, 5, 7 / 9),               # 1 - C(8,5)/C(10,5) = 1 - 56/252
    (16, 1, 8, 0.5),                 # 1 - C(15,8)/C(16,8) = 1 - 8/16
    (6, 3, 2, 0.8),                  # 1 - C(3,2)/C(6,2) = 1 - 3/15
    (5, 3, 3, 1.0),                  # n - c = 2 < k = 3: every draw of 3 holds a right one
    (16, 1, 16, 1.0),                # k = n: the one right sample is always drawn
    (5, 5, 1, 1.0),
    (5, 0, 3, 0.0),                  # c = 0: nothing to find
    (1, 0, 1, 0.0),
    (1, 1, 1, 1.0),
])
def test_pass_at_k_by_hand(n, c, k, want):
    got = pass_at_k(n, c, k)
    assert isinstance(got, float)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n, c, k", [
    (3, 1, 0),      # k < 1
    (3, 1, 4),      # k > n
    (3, 4, 1),      # c > n
    (3, -1, 1),     # c < 0
    (0, 0, 1),      # no samples
    (0, 0, 0),
    (-1, 0, 1),
])
def test_pass_at_k_rejects_impossible_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_is_the_unbiased_estimator(nck):
    """pass@k = 1 - C(n-c, k) / C(n, k), exactly (Python's integers; C(n-c, k) = 0 when n - c < k)."""
    n, c, k = nck
    want = 1.0 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_pass_at_k_is_stable_for_many_samples():
    """C(1000, 100) has 140 digits, far past a float; the product form stays exact enough."""
    want = 1.0 - math.comb(990, 100) / math.comb(1000, 100)
    assert pass_at_k(1000, 10, 100) == pytest.approx(want, rel=1e-9)
    assert pass_at_k(2000, 1, 1000) == pytest.approx(0.5, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_is_monotone_in_k_and_c_and_bounded(nck):
    n, c, k = nck
    p = pass_at_k(n, c, k)
    assert 0.0 <= p <= 1.0
    assert (p == 0.0) == (c == 0)
    if n - c < k:
        assert p == 1.0
    if k < n:
        assert pass_at_k(n, c, k + 1) >= p - 1e-12     # one more draw can only help
    if c < n:
        assert pass_at_k(n, c + 1, k) >= p - 1e-12     # so can one more right sample
    assert pass_at_k(n, c, 1) == pytest.approx(c / n, rel=1e-12, abs=1e-12)


# ----------------------------------------------------------------------------- majority vote

@pytest.mark.parametrize("answers, correct, want", [
    (["5", "5", "7"], [True, True, False], True),
    (["7", "5", "5"], [False, True, True], True),          # the winner need not come first
    (["5", "7", "7"], [True, False, False], False),
    (["3", "4", "4", "5"], [False, True, True, False], True),
    (["5", "7"], [True, False], True),                     # a tie: the answer seen first
    (["7", "5"], [False, True], False),
    (["7", "5", "7", "5"], [False, True, False, True], False),
    (["5", "7", "7", "5"], [True, False, False, True], True),
    (["5", "7", "8", "8", "7"], [False, True, False, False, True], True),   # 7 and 8 tie; 7 was seen first
    ([None, None, "7"], [False, False, True], True),       # None never votes, however many there are
    ([None, None, None, "7", "8", "8"], [False, False, False, True, False, False], False),
    ([None, "7", None, "8", "7"], [False, True, False, False, True], True),
    (["12"], [True], True),
    (["12"], [False], False),
    ([None, None], [False, False], False),                 # nobody voted: nothing is correct
    ([None], [False], False),
    ([], [], False),
])
def test_majority_vote_by_hand(answers, correct, want):
    assert majority_vote(answers, correct) is want


def brute_force_winner(answers):
    """The non-None answer with the most votes, the earliest first occurrence among ties; None if none."""
    seen = [a for a in dict.fromkeys(answers) if a is not None]
    if not seen:
        return None
    return max(seen, key=lambda a: (answers.count(a), -answers.index(a)))


ANSWERS = st.lists(st.sampled_from(["1", "2", "3", "10", None]), min_size=0, max_size=10)


@settings(max_examples=150, deadline=None)
@given(ANSWERS, st.sampled_from(["1", "2", "3", "10"]))
def test_majority_vote_agrees_with_a_brute_force_count(answers, right):
    """Correctness goes with the answer's text: `right` is the one right answer."""
    correct = [a == right for a in answers]
    winner = brute_force_winner(answers)
    assert majority_vote(answers, correct) is (winner is not None and winner == right)


@settings(max_examples=100, deadline=None)
@given(ANSWERS, st.sampled_from(["1", "2", "3", "10"]), st.randoms(use_true_random=False))
def test_majority_vote_is_invariant_to_permutations_keeping_the_winner_first(answers, right, rnd):
    correct = [a == right for a in answers]
    want = majority_vote(answers, correct)
    winner = brute_force_winner(answers)
    rest = list(answers)
    if winner is not None:
        rest.remove(winner)                    # one copy of the winner goes first, the rest in any order
    rnd.shuffle(rest)
    shuffled = ([winner] if winner is not None else []) + rest
    assert majority_vote(shuffled, [a == right for a in shuffled]) is want


def test_maj_at_k_averages_majority_votes_over_groups():
    answers = ["5", "7", "7", None, None, "5", "5", "5"]
    correct = [a == "5" for a in answers]
    assert maj_at_k(answers, correct, 4) == 0.5               # group 1: 7 wins; group 2: 5 (None never votes)
    assert maj_at_k(answers, correct, 2) == 0.75              # 5 (tie, first), 7, 5, 5
    assert maj_at_k(answers, correct, 1) == 0.5               # pass@1


# ----------------------------------------------------------------------------- ranks

@pytest.mark.parametrize("values, ranks", [
    ([30, 10, 20], [3, 1, 2]),
    ([10, 20, 30], [1, 2, 3]),
    ([20, 30, 40, 10], [2, 3, 4, 1]),
    ([10, 20, 20, 5], [2, 3.5, 3.5, 1]),                  # the tie shares ranks 3 and 4
    ([7, 7, 7], [2, 2, 2]),
    ([2.5, -1.0, 2.5, 2.5], [3, 1, 3, 3]),                # ranks 2, 3, 4 shared
    ([1, 2, 1, 2, 0], [2.5, 4.5, 2.5, 4.5, 1]),
    ([4], [1]),
    ([], []),
])
def test_rank_by_hand(values, ranks):
    got = rank(values)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, ranks, rtol=0, atol=1e-12)


def brute_force_ranks(values):
    """rank_i = 1 + #{j: v_j < v_i} + (#{j: v_j == v_i} - 1) / 2."""
    return [1 + sum(w < v for w in values) + (sum(w == v for w in values) - 1) / 2 for v in values]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-3, 3), max_size=12) | st.lists(st.floats(-1e6, 1e6), max_size=12))
def test_rank_agrees_with_the_definition(values):
    got = rank(values)
    n = len(values)
    assert got.shape == (n,)
    np.testing.assert_allclose(got, brute_force_ranks(values), rtol=0, atol=1e-9)
    assert got.sum() == pytest.approx(n * (n + 1) / 2)
    if n:
        assert got.min() >= 1 and got.max() <= n


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_rank_follows_the_values_through_a_permutation(values, rnd):
    order = list(range(len(values)))
    rnd.shuffle(order)
    np.testing.assert_allclose(rank([values[i] for i in order]), rank(values)[order], rtol=0, atol=1e-12)
