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
import re

import numpy as np

from minireason.tasks.arith import AddFamily, CountdownFamily, SubFamily, SumFamily
from minireason.tasks.code import TraceFamily
from minireason.tasks.write import WriteFamily

STYLES = ("direct", "step", "reflect")   # the trace style mixture, in DataConfig.style_weights order

FAMILIES = {f.name: f for f in (CountdownFamily(), SumFamily(), AddFamily(), SubFamily(), TraceFamily(), WriteFamily())}


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


def problem_from_prompt(text: str, families) -> dict | None:
    """The task record whose prompt is `text` (typed by a user, e.g. `reach 6 with 3 5 8`), read by the first
    of `families` whose prompt format matches; None when none does. Its difficulty is 0 (unknown); a
    `write` prompt's examples double as its tests, since the user gave no hidden ones."""
    text = text.strip()
    for name in families:
        p = _read_prompt(name, text)
        if p is not None and FAMILIES[name].prompt(p) == text:
            try:
                FAMILIES[name].correct_answer(p)
            except (ValueError, IndexError):        # a program that does not run, no solution at all
                continue
            return p
    return None


def _read_prompt(name: str, text: str) -> dict | None:
    record = {"family": name, "difficulty": 0}
    if name == "countdown" and (m := re.fullmatch(r"reach ([0-9]{1,4}) with ([1-9]( [1-9]){1,3})", text)):
        return {**record, "target": int(m.group(1)), "numbers": [int(x) for x in m.group(2).split()]}
    if name == "sum" and re.fullmatch(r"[1-9](\+[1-9]){1,5}", text):
        return {**record, "numbers": [int(x) for x in text.split("+")]}
    if name in ("add", "sub") and (m := re.fullmatch(r"([1-9][0-9]{0,5})([+-])([1-9][0-9]{0,5})", text)):
        if m.group(2) == FAMILIES[name].symbol and (name == "add" or int(m.group(1)) >= int(m.group(3))):
            return {**record, "a": int(m.group(1)), "b": int(m.group(3))}
    if name == "trace" and "print" in text:
        return {**record, "program": text}
    if name == "write" and re.fullmatch(r"write( f\([0-9]\)=-?[0-9]{1,3}){2}", text):
        pairs = [[int(x), int(y)] for x, y in re.findall(r"f\(([0-9])\)=(-?[0-9]+)", text)]
        return {**record, "examples": pairs, "tests": pairs}
    return None
