"""The mutation matrix of assignment 6 (testtime): plausible wrong versions of each graded function,
one mistake each (the other assignments: mutants_<name>.py beside this file).

`python -m minireason.course mutants -a testtime` swaps each one in alone (in a scratch copy of the
tree) and runs its assignment's public tests (`pytest -x -m testtime tests/course`, hidden tests left
out): every mutant must make them fail, and the reference must pass. This file quotes the solutions,
so it is a hidden file: the student tree leaves it out.

Mutant(function, name, old, new): in the region of `function` ("path:qualified name"), the text `old`
(which occurs there exactly once) becomes `new`.
"""
M = Mutant  # noqa: F821  (given by the loader, minireason.course.load_mutants)

TESTTIME = "minireason/testtime.py"

MUTANTS = [
    # ---- assignment 6: testtime
    M(f"{TESTTIME}:pass_at_k", "the biased estimator 1 - (1 - c/n)^k",
      "float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))", "float(1.0 - (1.0 - c / n) ** k)"),
    M(f"{TESTTIME}:pass_at_k", "the product's range off by one", "np.arange(n - c + 1, n + 1)",
      "np.arange(n - c, n + 1)"),
    M(f"{TESTTIME}:pass_at_k", "`<=` for `<` in the early return", "if n - c < k:", "if n - c <= k:"),
    M(f"{TESTTIME}:pass_at_k", "the complement forgotten (C(n-c,k)/C(n,k))", "float(1.0 - np.prod(",
      "float(np.prod("),
    M(f"{TESTTIME}:pass_at_k", "k > n allowed (no ValueError)", "not 1 <= k <= n", "not 1 <= k"),
    M(f"{TESTTIME}:majority_vote", "None votes (and can win)",
      "Counter(a for a in answers if a is not None)\n    if not votes:\n        return False\n"
      "    top = max(votes.values())\n    winner = next(a for a in answers if a is not None and votes[a] == top)",
      "Counter(answers)\n    if not votes:\n        return False\n"
      "    top = max(votes.values())\n    winner = next(a for a in answers if votes[a] == top)"),
    M(f"{TESTTIME}:majority_vote", "ties go to the answer seen last",
      "next(a for a in answers if", "next(a for a in reversed(answers) if"),
    M(f"{TESTTIME}:majority_vote", "the first sample's correctness returned", "return correct[answers.index(winner)]",
      "return correct[0]"),
    M(f"{TESTTIME}:majority_vote", "no guard for no votes (max of nothing)",
      "    if not votes:\n        return False\n", ""),
    M(f"{TESTTIME}:rank", "ties take the lowest rank", "ranks[tied] = ranks[tied].mean()",
      "ranks[tied] = ranks[tied].min()"),
    M(f"{TESTTIME}:rank", "ranks from 0", "np.arange(1, len(values) + 1)", "np.arange(len(values))"),
    M(f"{TESTTIME}:rank", "argsort taken for the ranks (order + 1)",
      "ranks[order] = np.arange(1, len(values) + 1)", "ranks[:] = order + 1"),
    M(f"{TESTTIME}:rank", "ties not shared (the loop left out)",
      "    for v in np.unique(values):\n        tied = values == v\n        ranks[tied] = ranks[tied].mean()\n", ""),
    M(f"{TESTTIME}:rank", "descending (rank 1 for the largest)", 'np.argsort(values, kind="stable")',
      'np.argsort(-values, kind="stable")'),
]
