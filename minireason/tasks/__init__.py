"""Task families: problem generators, worked traces, and answer checks, behind one small interface.

A *problem* is a plain JSON-able dict such as {"family": "add", "difficulty": 2, "a": 381, "b": 907};
it is what `samples.jsonl` stores and what the verifier needs to check a completion again.

A *family* (see `Family`) knows how to sample a problem of a given difficulty, write its prompt, write a
worked trace in one of three styles, and check a final answer. Families are registered in `FAMILIES`;
a domain (arithmetic in tasks/arith.py, code in tasks/code.py) adds its families here without touching
the RL loop.

The held-out split is a pure function of what a problem *is*, not of how it is spelled: each family
gives a canonical `split_key` (a sum's numbers as a multiset, a program with its variables renamed in
order of first use, a write task's function), and a problem is held out when a hash of its key falls
in the lowest `percent` of the hash range (`is_heldout`). So `5+7+9` and `9+7+5`, or `a=3;print a` and
`x=3;print x`, always land on the same side. Training generators reject held-out problems and
evaluation generators keep only them, so the two sets share no key (tests/test_split.py).
"""
from __future__ import annotations

import hashlib
import re
import zlib
from typing import Protocol

import numpy as np

from minireason.tasks.arith import AddFamily, CountdownFamily, SubFamily, SumFamily
from minireason.tasks.code import FillFamily, TraceFamily
from minireason.tasks.respelled import VARIANTS, Respelled
from minireason.tasks.write import WriteFamily

STYLES = ("direct", "step", "reflect")   # the trace style mixture, in DataConfig.style_weights order


class Family(Protocol):
    """What a task family provides. Register a new one in FAMILIES, give `_read_prompt` a branch for its
    prompts (for `sample.py --prompt`), list its other spellings of a problem in tests/test_split.py
    (TWINS: what its split_key must not tell apart), and run tests/test_family_contract.py."""
    name: str                 # the `family` field of its problems, e.g. "sum"
    domain: str               # "arith" or "code": results are reported per domain
    min_heldout_percent: int  # held out at least this share of its keys (small spaces need more to measure)
    max_difficulty: int | None  # its highest difficulty level (None: open-ended, each level longer to think)

    def sample(self, rng, difficulty: int) -> dict:
        """A random problem (a JSON-able dict with `family` and `difficulty`) of this difficulty."""

    def prompt(self, p: dict) -> str:
        """The question text the model reads (before `<think>`)."""

    def split_key(self, p: dict) -> str:
        """The canonical form of the problem: problems with equal keys are the same problem."""

    def correct_answer(self, p: dict) -> str:
        """One correct answer, computed from the problem (never from a trace)."""

    def trace(self, p: dict, style: str, rng, noise) -> str:
        """A worked completion in one of STYLES, with the corpus's injected errors."""

    def check_answer(self, p: dict, answer: str) -> tuple[bool, str]:
        """(right, reason) for a final answer; the reason is "" when right."""

    def revision_fixed(self, p: dict, revision) -> bool:
        """Whether a `wait` revision (traces.Revision) turned a wrong value into a right one."""

PLAIN_FAMILIES = {f.name: f for f in (CountdownFamily(), SumFamily(), AddFamily(), SubFamily(), TraceFamily(),
                                       WriteFamily(), FillFamily())}
# and each respelled for the transfer experiment's notation dial: `write-own`, `write-own-prompt`, ...
FAMILIES = {**PLAIN_FAMILIES,
            **{v.name: v for f in PLAIN_FAMILIES.values() for v in (Respelled(f, k) for k in VARIANTS)}}


def family_of(problem: dict):
    """The family object that owns `problem`; a KeyError names an unknown family."""
    return FAMILIES[problem["family"]]


def split_family(name: str) -> str:
    """The family whose split a family shares: itself, or the family whose problems it poses in other
    words (`split_as`: fill poses Countdown's, a respelled family its plain family's)."""
    return getattr(FAMILIES[name], "split_as", name)


def split_key(problem: dict) -> str:
    """The problem's canonical form, prefixed with its family: what the held-out split hashes."""
    return f"{split_family(problem['family'])}:{family_of(problem).split_key(problem)}"


def heldout_percent(family: str, percent: int) -> int:
    """The share of a family's keys held out: DataConfig.heldout_percent, or more where the family's
    problem space is too small to measure otherwise (Family.min_heldout_percent)."""
    return max(percent, FAMILIES[family].min_heldout_percent)


def is_heldout(problem: dict, percent: int) -> bool:
    """True when the problem belongs to the held-out (evaluation) split: a hash of its canonical key
    falls in the lowest `percent` (raised to the family's minimum) of the hash range."""
    h = int.from_bytes(hashlib.sha256(split_key(problem).encode()).digest()[:8], "big")
    return h % 100 < heldout_percent(problem["family"], percent)


def sample_problem(rng: np.random.Generator, family: str, difficulty: int, heldout: bool,
                   percent: int) -> dict:
    """Draw a problem of one family and difficulty from the training or the held-out split."""
    fam = FAMILIES[family]
    for _ in range(10_000):
        p = fam.sample(rng, difficulty)
        if is_heldout(p, percent) == heldout:
            return p
    raise RuntimeError(f"no {'held-out' if heldout else 'training'} problem found for {family}/{difficulty}")


def heldout_set(seed: int, families, difficulties, n_per: int, percent: int) -> list[dict]:
    """A fixed list of held-out problems: for each (family, difficulty), up to n_per problems with
    distinct keys, never a repeat. A cell whose held-out space holds fewer keys than n_per gets fewer
    problems (summary.json and the tables report how many, as `problems`). The draws of a family
    depend on its name, not on its place in `families`, so `--task write` sees the same problems."""
    out = []
    for family in families:
        for difficulty in difficulties:
            rng = np.random.default_rng([seed, 7919, zlib.crc32(split_family(family).encode()), difficulty])
            seen, misses = set(), 0
            while len(seen) < n_per and misses < 1000:     # 1000 draws in a row with no new key: all found
                p = sample_problem(rng, family, difficulty, True, percent)
                key = split_key(p)
                if key in seen:
                    misses += 1
                    continue
                seen.add(key)
                misses = 0
                out.append(p)
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
    family = FAMILIES[name]
    if isinstance(family, Respelled):          # a respelled family reads its plain family's prompts
        inner = family.strip_prompt(text)
        p = None if inner is None else _read_prompt(family.inner.name, inner)
        return None if p is None else {**p, "family": name}
    record = {"family": name, "difficulty": 0}
    countdown = r"reach ([0-9]{1,4}) with ([1-9][0-9]?( [1-9]){1,11})"     # up to 12 numbers (level 12)
    if name == "countdown" and (m := re.fullmatch(countdown, text)):
        return {**record, "target": int(m.group(1)), "numbers": [int(x) for x in m.group(2).split()]}
    if name == "sum" and re.fullmatch(r"[1-9][0-9]?(\+[1-9])+", text):
        return {**record, "numbers": [int(x) for x in text.split("+")]}
    if name in ("add", "sub") and (m := re.fullmatch(r"([1-9][0-9]{0,10})([+-])([1-9][0-9]{0,10})", text)):
        if m.group(2) == FAMILIES[name].symbol and (name == "add" or int(m.group(1)) >= int(m.group(3))):
            return {**record, "a": int(m.group(1)), "b": int(m.group(3))}
    fill = r"x=([1-9][0-9]?)((?:;x=x\?[1-9]){1,3});print x gives ([0-9]{1,4})"
    if name == "fill" and (m := re.fullmatch(fill, text)):
        return {**record, "target": int(m.group(3)),
                "numbers": [int(m.group(1))] + [int(x) for x in re.findall(r"[0-9]+", m.group(2))]}
    if name == "trace" and "print" in text:
        return {**record, "program": text}
    if name == "write" and re.fullmatch(r"write( f\([0-9]\)=-?[0-9]{1,3}){2}", text):
        pairs = [[int(x), int(y)] for x, y in re.findall(r"f\(([0-9])\)=(-?[0-9]+)", text)]
        return {**record, "examples": pairs, "tests": pairs}
    return None
