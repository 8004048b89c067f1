"""Test-time compute: what more samples, or more thinking, buy. Used by `verify.py --run`.

pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"): the chance that at
least one of k samples is correct, estimated without bias from n >= k samples of which c are correct:

    pass@k = 1 - C(n - c, k) / C(n, k)

maj@k (majority vote, "self-consistency", Wang et al. 2022): sample k answers, keep the most frequent
one (ties: the one seen first; a completion with no answer does not vote) and grade it. Estimated as
the mean over the n/k disjoint groups of k consecutive samples. Votes go by the answer's text, so two
different right programs of a write task (`print n+5`, `print 5+n`) do not pool their votes.

Budget forcing (Muennighoff et al. 2025, "s1: Simple test-time scaling"): cut the thinking after B
tokens, append `</think><answer>`, and let the model write only the answer. A completion that closed
its thinking within B tokens is left as it was. Sweeping B shows how accuracy grows with thinking.

Spearman's rank correlation: Pearson's correlation of the ranks (ties get their mean rank); here
between a problem's difficulty and the tokens spent on it.
"""
from __future__ import annotations

from collections import Counter

import jax
import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k) (as a stable product)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def majority_vote(answers: list[str | None], correct: list[bool]) -> bool:
    """Is the most frequent answer correct? Ties go to the answer seen first; None never votes."""
    votes = Counter(a for a in answers if a is not None)
    if not votes:
        return False
    top = max(votes.values())
    winner = next(a for a in answers if a is not None and votes[a] == top)
    return correct[answers.index(winner)]


def maj_at_k(answers: list[str | None], correct: list[bool], k: int) -> float:
    """maj@k averaged over the disjoint groups of k consecutive samples (n must be a multiple of k)."""
    n = len(answers)
    if k < 1 or n % k:
        raise ValueError(f"{n} samples do not split into groups of {k}")
    return float(np.mean([majority_vote(answers[i:i + k], correct[i:i + k]) for i in range(0, n, k)]))


def rank(values) -> np.ndarray:
    """Ranks 1..n of `values`, ties sharing their mean rank."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):
        tied = values == v
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x, y) -> float:
    """Spearman's rank correlation of x and y; 0.0 when either is constant (no ordering to agree with)."""
    rx, ry = rank(x), rank(y)
    if len(rx) < 2 or rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def force_answers(generate_answer, params, key, prompts, tokens, mask, budget: int, think_end: int,
                  answer_start: int, pad: int, width: int, batch_size: int, temperature: float = 1.0):
    """Budget forcing on sampled completions: rows whose thinking runs past `budget` tokens are cut there
    and continued with `</think><answer>` by `generate_answer` (a sampler of a few answer tokens whose
    prompts are `width` wide). Returns (completion token lists, tokens spent per row).

    prompts [N, P] left-padded, tokens/mask [N, T] as the sampler wrote them (the full, uncut run)."""
    n = len(tokens)
    # Thinking length: the index of </think>, or the whole completion when it never closed its thinking
    # (a row that stopped within the budget that way is left as it was, never cut into its end and pads).
    ends = [int(np.argmax(row == think_end)) if (row[m] == think_end).any() else int(m.sum())
            for row, m in zip(tokens, mask)]
    forced = [i for i in range(n) if ends[i] > budget]
    out = [list(tokens[i][mask[i]]) for i in range(n)]          # natural rows: as sampled
    spent = [int(mask[i].sum()) for i in range(n)]
    if not forced:
        return out, spent
    rows = np.full((len(forced), width), pad, dtype=np.int32)
    heads = []
    for r, i in enumerate(forced):
        head = [int(t) for t in tokens[i][:budget]] + [think_end, answer_start]
        ids = [int(t) for t in prompts[i] if t != pad] + head
        rows[r, width - len(ids):] = ids
        heads.append(head)
    rows = np.concatenate([rows, np.repeat(rows[-1:], -len(forced) % batch_size, axis=0)])   # fixed shape
    for b in range(0, len(rows), batch_size):
        rollout = generate_answer(params, jax.random.fold_in(key, b), rows[b:b + batch_size], temperature)
        toks, m = np.asarray(rollout.tokens), np.asarray(rollout.mask)
        for r in range(b, min(b + batch_size, len(forced))):
            i = forced[r]
            answer = [int(t) for t in toks[r - b][m[r - b]]]
            out[i] = heads[r] + answer
            spent[i] = len(out[i])
    return out, spent
