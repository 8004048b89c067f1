"""Task families: problem generators, worked traces, and answer checks, behind one small interface.

A *problem* is a plain JSON-able dict such as {"family": "add", "difficulty": 2, "a": 381, "b": 907};
it is what `samples.jsonl` stores and what the verifier needs to check a completion again.

A *family* (see `Family`) knows how to sample a problem of a given difficulty, write its prompt, write a
worked trace in one of three styles, and check a final answer. Families are registered in `FAMILIES`;
a domain (arithmetic in tasks/arith.py, code in tasks/code.py) adds its families here without touching
the RL loop.

The held-out split is a pure function of the problem's prompt text (`is_heldout`): a problem is held out
when a hash of its prompt falls in the lowest `percent` of the hash range. Training generators reject
held-out problems and evaluation generators keep only them, so the two sets cannot overlap.
"""
from __future__ import annotations

import hashlib

import numpy as np

from minireason.tasks.arith import AddFamily, CountdownFamily, SubFamily, SumFamily
from minireason.tasks.code import TraceFamily

STYLES = ("direct", "step", "reflect")   # the trace style mixture, in DataConfig.style_weights order

FAMILIES = {f.name: f for f in (CountdownFamily(), SumFamily(), AddFamily(), SubFamily(), TraceFamily())}


def family_of(problem: dict):
    """The family object that owns `problem`; a KeyError names an unknown family."""
    return FAMILIES[problem["family"]]


def is_heldout(prompt: str, percent: int) -> bool:
    """True when the problem with this prompt belongs to the held-out (evaluation) split."""
    h = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big")
    return h % 100 < percent


def sample_problem(rng: np.random.Generator, family: str, difficulty: int, heldout: bool,
                   percent: int) -> dict:
    """Draw a problem of one family and difficulty from the training or the held-out split."""
    fam = FAMILIES[family]
    for _ in range(10_000):
        p = fam.sample(rng, difficulty)
        if is_heldout(fam.prompt(p), percent) == heldout:
            return p
    raise RuntimeError(f"no {'held-out' if heldout else 'training'} problem found for {family}/{difficulty}")


def heldout_set(seed: int, families, difficulties, n_per: int, percent: int) -> list[dict]:
    """A fixed list of held-out problems, n_per for each (family, difficulty), distinct where possible."""
    out = []
    for fi, family in enumerate(families):
        for difficulty in difficulties:
            rng = np.random.default_rng([seed, 7919, fi, difficulty])
            seen, chosen = set(), []
            for _ in range(50 * n_per):
                p = sample_problem(rng, family, difficulty, True, percent)
                key = FAMILIES[family].prompt(p)
                if key not in seen:
                    seen.add(key)
                    chosen.append(p)
                if len(chosen) == n_per:
                    break
            while len(chosen) < n_per:      # tiny problem spaces: repeat the distinct ones in order
                chosen.append(chosen[len(chosen) % len(seen)])
            out.extend(chosen)
    return out
