"""The held-out split is by what a problem *is* (its canonical key), never by its spelling.

A reordering of a sum, a renaming of a program's variables, other examples of the same function to
write: each is the same problem, so it must land on the same side of the split. Then no training
draw may share a key with a held-out problem, and every demo cell holds at least 48 distinct
held-out problems, none repeated.
"""
import itertools
import re

import numpy as np
import pytest

from minireason.config import demo
from minireason.tasks import FAMILIES, PLAIN_FAMILIES, heldout_set, is_heldout, sample_problem, split_key
from minireason.tasks.write import _apply as apply_form

CELLS = [(f, d) for f in PLAIN_FAMILIES for d in (1, 2, 3)]   # respelled ones share these splits (test_transfer)
DEMO_CELLS = [(f, d) for f in demo().data.families for d in demo().data.difficulties]
PERCENT = 10


def _permuted(p, rng):
    return [{**p, "numbers": [int(x) for x in rng.permutation(p["numbers"])]} for _ in range(3)]


def _renamed(p, rng):
    swap = dict(zip("abcxyz", "xyzabc"))
    return [{**p, "program": re.sub(r"\b[a-z]\b", lambda m: swap[m.group(0)], p["program"])}]


def _shown_otherwise(p, rng):               # the same function shown on other inputs
    form, c = FAMILIES["write"].solution(p)
    return [{**p, "examples": [[x, apply_form(form, c, x)] for x in (0, 9)]}]


# Other spellings of the same problem, per family. A new family registers its own here (an empty list
# says it has none, as for sub, where a-b and b-a differ): the test below fails for a family that did not.
TWINS = {"sum": _permuted, "countdown": _permuted, "add": lambda p, rng: [{**p, "a": p["b"], "b": p["a"]}],
         "sub": lambda p, rng: [], "trace": _renamed, "write": _shown_otherwise, "fill": _permuted}


def twins(p: dict, rng: np.random.Generator) -> list[dict]:
    """Other spellings of the same problem: permuted numbers, renamed variables, other examples."""
    return TWINS[p["family"]](p, rng)


def test_every_family_says_how_its_problems_can_be_spelled():
    assert set(TWINS) == set(PLAIN_FAMILIES), "register the new family's spellings in tests/test_split.py TWINS"


def test_keys_by_hand():
    assert split_key({"family": "sum", "numbers": [5, 7, 9]}) == split_key({"family": "sum", "numbers": [9, 7, 5]})
    assert split_key({"family": "sum", "numbers": [5, 7, 9]}) != split_key({"family": "sum", "numbers": [5, 7, 8]})
    cd = {"family": "countdown", "numbers": [3, 5, 8], "target": 6}
    assert split_key(cd) == split_key({**cd, "numbers": [8, 3, 5]}) != split_key({**cd, "target": 16})
    assert (split_key({"family": "trace", "program": "x=3;y=x+1;print y"})
            == split_key({"family": "trace", "program": "a=3;b=a+1;print b"})
            != split_key({"family": "trace", "program": "a=3;b=a+1;print a"}))
    w = {"family": "write", "examples": [[4, 9], [7, 12]], "tests": []}
    assert split_key(w) == split_key({**w, "examples": [[0, 5], [1, 6]]}) == "write:print n+5"
    assert split_key({"family": "add", "a": 12, "b": 34}) == split_key({"family": "add", "a": 34, "b": 12})
    assert split_key({"family": "sub", "a": 34, "b": 12}) != split_key({"family": "sub", "a": 43, "b": 21})


@pytest.mark.parametrize("family,difficulty", CELLS)
def test_every_spelling_of_a_problem_lands_on_the_same_side(family, difficulty):
    rng = np.random.default_rng([1, difficulty])
    for _ in range(2000):
        p = FAMILIES[family].sample(rng, difficulty)
        for twin in twins(p, rng):
            assert split_key(twin) == split_key(p), (p, twin)
            assert is_heldout(twin, PERCENT) == is_heldout(p, PERCENT)


@pytest.mark.parametrize("family,difficulty", CELLS)
def test_no_training_problem_shares_a_key_with_a_heldout_one(family, difficulty):
    """10^4 training draws per cell (enough to cover the small spaces several times over; 10^5, as the
    issue asked, takes minutes for Countdown's rejection sampler) against up to 500 held-out problems of
    the cell (all of them where the space is small). The split is a function of the key, so what this
    guards is the generators: that sample_problem and heldout_set keep to their sides."""
    rng = np.random.default_rng([2, difficulty])
    train = {split_key(sample_problem(rng, family, difficulty, False, PERCENT)) for _ in range(10_000)}
    held = {split_key(p) for p in heldout_set(0, [family], [difficulty], 500, PERCENT)}
    assert train and held and not (train & held)


def test_small_spaces_enumerated():
    """Where a cell's space is small, enumerate it: the held-out list is exactly its held-out keys."""
    spaces = {
        ("sum", 1): [{"family": "sum", "difficulty": 1, "numbers": [a, b]}
                     for a in range(1, 100) for b in range(1, 10)],
        ("countdown", 1): [{"family": "countdown", "difficulty": 1, "numbers": [a, b], "target": t}
                           for a in range(1, 100) for b in range(1, 10) for t in (a + b, a - b) if t >= 0],
        ("countdown", 3): [p for ns in itertools.product(range(1, 10), repeat=3) for t in range(0, 28)
                           if (p := {"family": "countdown", "difficulty": 3, "numbers": list(ns), "target": t})
                           and len(s := FAMILIES["countdown"].solutions(p)) == 1 and "-" in s[0]],
    }
    for (family, difficulty), space in spaces.items():
        held_space = {split_key(p) for p in space if is_heldout(p, PERCENT)}
        held_list = [split_key(p) for p in heldout_set(0, [family], [difficulty], 1000, PERCENT)]
        assert len(held_list) == len(set(held_list))                 # no problem repeated
        assert set(held_list) == held_space, (family, difficulty)
        assert len(held_space) >= 48


@pytest.mark.parametrize("family,difficulty", DEMO_CELLS)
def test_every_demo_cell_has_48_distinct_heldout_problems(family, difficulty):
    d = demo().data
    problems = heldout_set(0, [family], [difficulty], 64, d.heldout_percent)
    keys = [split_key(p) for p in problems]
    assert len(keys) == len(set(keys)) >= 48
    assert all(p["family"] == family and p["difficulty"] == difficulty for p in problems)


def test_a_familys_draws_do_not_depend_on_its_place_in_the_list():
    alone = heldout_set(3, ["write"], [2], 16, PERCENT)
    among = [p for p in heldout_set(3, ["sum", "write"], [2], 16, PERCENT) if p["family"] == "write"]
    assert alone == among
