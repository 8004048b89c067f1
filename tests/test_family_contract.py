"""The contract every task family in FAMILIES must keep (tasks.Family); a new family passes this file
unchanged, with no test of its own needed to plug it into the corpus, the split, the verifier and the
metrics. (tests/test_split.py checks the split at scale; this file keeps to a few hundred draws.)"""
import json

import numpy as np
import pytest

from minireason import traces
from minireason.config import Config, DataConfig
from minireason.tasks import (
    FAMILIES,
    PLAIN_FAMILIES,
    STYLES,
    Family,
    heldout_set,
    is_heldout,
    problem_from_prompt,
    sample_problem,
    split_key,
)
from minireason.tasks.arith import Noise
from minireason.verifiers import verify

DIFFICULTIES = (1, 2, 3)
CLEAN = Noise(step_noise=0, first_pass_error=0, direct_noise=0, oneshot_guess=0)
SLIPS = Noise(step_noise=0, first_pass_error=1, direct_noise=0, oneshot_guess=0)   # every first pass wrong
PERCENT = DataConfig().heldout_percent

CONTRACTED = [*PLAIN_FAMILIES, "fill-own-prompt"]   # and a respelled one (the others wrap alike)
per_family = pytest.mark.parametrize("name", CONTRACTED)
per_cell = pytest.mark.parametrize("difficulty", DIFFICULTIES)


def problems(name: str, difficulty: int, n: int = 5) -> list[dict]:
    rng = np.random.default_rng([11, difficulty])
    return [FAMILIES[name].sample(rng, difficulty) for _ in range(n)]


@per_family
def test_has_the_protocols_attributes_and_methods(name):
    fam = FAMILIES[name]
    assert fam.name == name
    assert fam.domain in ("arith", "code")
    assert type(fam.min_heldout_percent) is int and 0 <= fam.min_heldout_percent < 100
    assert fam.max_difficulty is None or (type(fam.max_difficulty) is int and fam.max_difficulty >= 3)
    methods = [m for m, v in vars(Family).items() if callable(v) and not m.startswith("_")]
    assert "revision_fixed" in methods
    missing = [m for m in methods if not callable(getattr(fam, m, None))]
    assert not missing, f"{name} lacks {missing}"


@per_family
@per_cell
def test_sample_is_deterministic_and_json(name, difficulty):
    fam = FAMILIES[name]
    a = fam.sample(np.random.default_rng([3, difficulty]), difficulty)
    assert a == fam.sample(np.random.default_rng([3, difficulty]), difficulty)
    assert (a["family"], a["difficulty"]) == (name, difficulty)
    assert json.loads(json.dumps(a)) == a                  # what samples.jsonl stores reads back the same
    for style in STYLES:                                   # the corpus is a function of the seed too
        assert fam.trace(a, style, np.random.default_rng(5), Noise()) == \
            fam.trace(a, style, np.random.default_rng(5), Noise())


@per_family
@per_cell
def test_correct_answer_is_right(name, difficulty):
    fam = FAMILIES[name]
    for p in problems(name, difficulty):
        assert fam.check_answer(p, fam.correct_answer(p)) == (True, "")
        if hasattr(fam, "grade"):                          # partial credit: the verifier prefers grade
            assert fam.grade(p, fam.correct_answer(p)) == (True, "", 1.0)


@per_family
@per_cell
@pytest.mark.parametrize("style", STYLES)
def test_clean_traces_parse_to_their_style_and_verify(name, difficulty, style):
    fam = FAMILIES[name]
    for p in problems(name, difficulty):
        text = fam.trace(p, style, np.random.default_rng(0), CLEAN)
        t = traces.parse(text)
        assert (t.error, t.style) == ("", style), text
        assert all(s.correct for s in t.steps) and all(c.correct for c in t.checks), text
        v = verify(json.loads(json.dumps(p)), text)
        assert v.correct and v.reward == 1.0, (text, v.reason)


@per_family
def test_reflective_traces_revise_and_the_family_counts_the_fix(name):
    """With every first pass wrong, a reflective trace still ends right, and each trace that revises has
    its last revision counted as a fix by revision_fixed (effective_reflection_rate's numerator). On the
    search families (countdown, write) the revisions come from attempts that miss, not from slips, so
    some traces have none; every family must revise somewhere over difficulties 1..3."""
    fam, revised = FAMILIES[name], 0
    for difficulty in DIFFICULTIES:
        for p in problems(name, difficulty, 8):
            text = fam.trace(p, "reflect", np.random.default_rng(0), SLIPS)
            t = traces.parse(text)
            assert t.style == "reflect" and verify(p, text).correct, text
            if t.revisions:
                revised += 1
                assert fam.revision_fixed(p, t.revisions[-1]), text
            assert not fam.revision_fixed(p, traces.Revision(None, []))    # a bare `wait` fixes nothing
    assert revised > 0


@per_family
@per_cell
def test_split_is_disjoint_by_key(name, difficulty):
    held = heldout_set(0, [name], [difficulty], 16, PERCENT)
    assert held and all(is_heldout(p, PERCENT) for p in held)
    rng = np.random.default_rng([1, difficulty])
    train = {split_key(sample_problem(rng, name, difficulty, False, PERCENT)) for _ in range(200)}
    assert not {split_key(p) for p in held} & train


@pytest.mark.parametrize("name, difficulty", [(name, d) for name in CONTRACTED for d in DIFFICULTIES])
def test_prompt_reads_back_as_the_same_problem(name, difficulty):
    """What `sample.py --prompt` needs: tasks._read_prompt has a branch for the family."""
    fam = FAMILIES[name]
    for p in problems(name, difficulty):
        q = problem_from_prompt(fam.prompt(p), [name])
        assert q is not None, f"tasks._read_prompt does not read {name} prompts: {fam.prompt(p)!r}"
        assert (q["family"], q["difficulty"]) == (name, 0)            # a typed prompt's difficulty is unknown
        assert fam.prompt(q) == fam.prompt(p) and split_key(q) == split_key(p)
        assert fam.check_answer(p, fam.correct_answer(q)) == (True, "")


HIGH = (4, 7, 10, 40)    # levels above the demo's, for the families that have them
HIGHER = [n for n in CONTRACTED if FAMILIES[n].max_difficulty is None or FAMILIES[n].max_difficulty > 3]
CAPPED = [n for n in CONTRACTED if n not in HIGHER]


@pytest.mark.parametrize("name", CAPPED)
def test_a_level_above_a_familys_top_is_refused(name):
    from minireason.config import ConfigError, validate
    data = DataConfig(families=(name,), family_weights=(1.0,), difficulties=(1, FAMILIES[name].max_difficulty + 1))
    with pytest.raises(ConfigError, match=f"data.difficulties: {name} has no level above"):
        validate(Config(data=data))


@pytest.mark.parametrize("name", HIGHER)
def test_levels_above_three_work_and_their_thinking_grows(name):
    """Every level a family has above 3 samples problems whose clean traces verify and whose prompts
    read back, and the reflective trace takes more steps at each of those levels than at the one
    before (the family docstrings say how many)."""
    fam = FAMILIES[name]
    levels = [d for d in HIGH if fam.max_difficulty is None or d <= fam.max_difficulty]
    from minireason.tasks import problem_from_prompt
    steps = []
    for d in (3, *levels):
        ps = problems(name, d, n=20)
        for p in ps:
            assert p["difficulty"] == d
            for style in STYLES:
                text = fam.trace(p, style, np.random.default_rng(0), CLEAN)
                assert verify(json.loads(json.dumps(p)), text).correct, text
            revised = traces.parse(fam.trace(p, "reflect", np.random.default_rng(0), SLIPS)).revisions
            assert not revised or fam.revision_fixed(p, revised[-1])      # the last revision is a fix
            read = problem_from_prompt(fam.prompt(p), [name])
            assert read is not None and fam.check_answer(read, fam.correct_answer(p))[0]
        steps.append(np.mean([len(traces.parse(fam.trace(p, "reflect", np.random.default_rng(0), CLEAN)).steps)
                              for p in ps]))
    assert all(a < b for a, b in zip(steps, steps[1:])), steps
