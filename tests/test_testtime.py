"""Test-time compute estimators against hand-computed values, and budget forcing on a fake sampler."""
from math import comb
from types import SimpleNamespace

import jax
import numpy as np
import pytest

from minireason import testtime


@pytest.mark.parametrize("n, c, k", [(16, 0, 1), (16, 3, 1), (16, 3, 4), (16, 15, 2), (16, 16, 16), (5, 2, 3)])
def test_pass_at_k_is_the_unbiased_estimator(n, c, k):
    assert testtime.pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_k_by_hand():
    assert testtime.pass_at_k(4, 1, 1) == 0.25
    assert testtime.pass_at_k(4, 1, 2) == pytest.approx(0.5)      # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert testtime.pass_at_k(4, 3, 2) == 1.0                      # any 2 of 4 include a correct one
    with pytest.raises(ValueError):
        testtime.pass_at_k(4, 5, 1)


def test_majority_vote_by_hand():
    assert testtime.majority_vote(["7", "8", "7"], [True, False, True])
    assert not testtime.majority_vote(["8", "7", "8"], [False, True, False])
    assert testtime.majority_vote(["7", "8"], [True, False])             # a tie goes to the first seen
    assert not testtime.majority_vote(["8", "7"], [False, True])
    assert testtime.majority_vote([None, None, "7"], [False, False, True])   # no answer, no vote
    assert not testtime.majority_vote([None, None], [False, False])
    # maj@2 over 4 samples: groups (7, 8) -> 7 right, (8, 8) -> wrong: 0.5; maj@4: 8 wins 3 to 1
    answers, correct = ["7", "8", "8", "8"], [True, False, False, False]
    assert testtime.maj_at_k(answers, correct, 2) == 0.5 and testtime.maj_at_k(answers, correct, 4) == 0.0
    assert testtime.maj_at_k(answers, correct, 1) == 0.25
    with pytest.raises(ValueError):
        testtime.maj_at_k(answers, correct, 3)


def test_spearman_by_hand():
    assert testtime.rank([10, 30, 20, 20]).tolist() == [1.0, 4.0, 2.5, 2.5]
    assert testtime.spearman([1, 2, 3], [5, 9, 20]) == pytest.approx(1.0)     # monotone, not linear
    assert testtime.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert testtime.spearman([1, 1, 1], [3, 2, 1]) is None          # constant: undefined, not 0
    # ranks x: 1.5 1.5 3.5 3.5; y: 1 3 2 4 -> Pearson of the ranks = 2/sqrt(5)/... computed: 0.4472
    assert testtime.spearman([1, 1, 2, 2], [10, 30, 20, 40]) == pytest.approx(1 / 5 ** 0.5)


THINK_END, ANSWER, EOS, PAD = 2, 3, 4, 0


def fake_answerer(seen):
    """A sampler stand-in that records its prompts and always answers the token 9, then </answer>."""
    def generate(params, key, prompts, temperature):
        seen.append(np.asarray(prompts))
        n = len(prompts)
        tokens = np.tile(np.array([[9, EOS, PAD]]), (n, 1))
        mask = np.tile(np.array([[True, True, False]]), (n, 1))
        return SimpleNamespace(tokens=tokens, mask=mask, finished=np.ones(n, bool))
    return generate


def test_budget_forcing_cuts_long_thinking_and_keeps_short():
    prompts = np.array([[PAD, 7], [PAD, 7]])
    # row 0 thinks 2 tokens then answers; row 1 thinks 5 tokens and is cut at budget 3
    tokens = np.array([[11, 12, THINK_END, ANSWER, 5, EOS], [11, 12, 13, 14, 15, 16]])
    mask = np.array([[True] * 6, [True] * 6])
    seen = []
    done, spent = testtime.force_answers(fake_answerer(seen), None, jax.random.key(0), prompts, tokens, mask, budget=3,
                                         think_end=THINK_END, answer_start=ANSWER, pad=PAD, width=8, batch_size=4)
    assert done[0] == [11, 12, THINK_END, ANSWER, 5, EOS] and spent[0] == 6
    assert done[1] == [11, 12, 13, THINK_END, ANSWER, 9, EOS] and spent[1] == 7
    assert seen[0].shape == (4, 8)                                     # a fixed batch, padded
    assert seen[0][0].tolist() == [PAD, PAD, 7, 11, 12, 13, THINK_END, ANSWER]   # left-padded, prompt first
    _, spent0 = testtime.force_answers(fake_answerer([]), None, jax.random.key(0), prompts, tokens, mask, budget=0,
                                       think_end=THINK_END, answer_start=ANSWER, pad=PAD, width=8, batch_size=4)
    assert spent0 == [4, 4]                                            # both forced at once: </think><answer>9</answer>


def test_budget_forcing_leaves_a_row_that_stopped_without_closing_its_thinking():
    """A row that wrote </answer> within the budget but never </think> is graded as it was: the cut never
    takes in its end token and the pads after it."""
    prompts = np.array([[PAD, 7]])
    tokens = np.array([[11, 12, EOS, PAD, PAD, PAD]])
    mask = np.array([[True, True, True, False, False, False]])
    done, spent = testtime.force_answers(fake_answerer([]), None, jax.random.key(0), prompts, tokens, mask, budget=4,
                                         think_end=THINK_END, answer_start=ANSWER, pad=PAD, width=8, batch_size=4)
    assert done == [[11, 12, EOS]] and spent == [3]
    done, spent = testtime.force_answers(fake_answerer([]), None, jax.random.key(0), prompts, tokens, mask, budget=2,
                                         think_end=THINK_END, answer_start=ANSWER, pad=PAD, width=8, batch_size=4)
    assert done == [[11, 12, THINK_END, ANSWER, 9, EOS]] and spent == [6]      # longer than 2: cut and forced
