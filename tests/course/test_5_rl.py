"""Assignment 5, the RL step (`pytest -m rl`): rl.Curriculum.weights, rl.Curriculum.update and
rl.update_on_batch.

The unit tests need no other assignment: the curriculum is plain numpy, and update_on_batch is driven
with a fake `update` and a fake `token_logp` that record every call (their arguments by identity, in
order) and return simple values, so what is checked is the loop itself: mu = cfg.updates_per_batch
steps chained on each other's params, old_logp (mu > 1) and ref_logp (beta > 0) computed once before
the first step and held fixed, None when not needed, and the stats averaged over the steps.
Hard cases: pass rates of exactly 0 and 1 (the floor binds), a floor above the largest variance 1/4,
a curriculum switched off with skewed rates, repeated rows of one cell, cells absent from the batch.
"""
import dataclasses
import json

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minireason import rl
from minireason.config import RLConfig

pytestmark = pytest.mark.rl


# ---- units

FAMILIES, DIFFICULTIES = ("sum", "countdown"), (1, 2, 3)
CELLS = [f"{f}/{d}" for f in FAMILIES for d in DIFFICULTIES]


def curriculum(rates: dict | None = None, enabled: bool = True, floor: float = 0.05, decay: float = 0.8,
               difficulties=DIFFICULTIES) -> rl.Curriculum:
    """A curriculum over FAMILIES x difficulties with the given pass rates (the others at 0.5)."""
    c = rl.Curriculum(FAMILIES, difficulties, enabled=enabled, floor=floor, decay=decay)
    if rates:
        c.load(rates)
    return c


def rows(family: str, difficulty: int, n: int = 1) -> list[dict]:
    return [{"family": family, "difficulty": difficulty}] * n


# ----------------------------------------------------------------------------- Curriculum.weights

def test_weights_by_hand():
    """p = (1, 0.5, 0.1, 0): p (1 - p) = (0, 0.25, 0.09, 0), floored at 0.05 -> (0.05, 0.25, 0.09, 0.05),
    normalised by their sum 0.44."""
    c = curriculum({"sum/1": 1.0, "sum/2": 0.5, "sum/3": 0.1, "sum/4": 0.0}, difficulties=(1, 2, 3, 4))
    np.testing.assert_allclose(c.weights("sum"), np.array([5, 25, 9, 5]) / 44, rtol=1e-12)


def test_weights_are_the_variance_where_it_is_above_the_floor():
    """floor 0.01 binds nowhere: p = (0.2, 0.9, 0.6) gives (0.16, 0.09, 0.24) / 0.49."""
    c = curriculum({"sum/1": 0.2, "sum/2": 0.9, "sum/3": 0.6}, floor=0.01)
    np.testing.assert_allclose(c.weights("sum"), np.array([16, 9, 24]) / 49, rtol=1e-12)


def test_a_floor_above_every_variance_gives_uniform_weights():
    """p (1 - p) <= 1/4 < floor = 0.3 everywhere: every weight is the floor, so they are uniform."""
    c = curriculum({"sum/1": 0.0, "sum/2": 0.5, "sum/3": 0.8}, floor=0.3)
    np.testing.assert_allclose(c.weights("sum"), [1 / 3] * 3, rtol=1e-12)


def test_disabled_curriculum_is_uniform_whatever_the_pass_rates():
    c = curriculum({"sum/1": 1.0, "sum/2": 0.5, "sum/3": 0.0}, enabled=False)
    np.testing.assert_allclose(c.weights("sum"), [1 / 3] * 3, rtol=1e-12)
    c = curriculum({"sum/1": 0.1, "sum/2": 0.5, "sum/3": 0.9, "sum/4": 1.0}, enabled=False, difficulties=(1, 2, 3, 4))
    np.testing.assert_allclose(c.weights("sum"), [0.25] * 4, rtol=1e-12)


def test_families_are_independent():
    """Each family's weights read its own cells only."""
    c = curriculum({"sum/1": 0.5, "sum/2": 0.0, "sum/3": 1.0, "countdown/1": 0.0, "countdown/2": 0.9,
                    "countdown/3": 0.5})
    np.testing.assert_allclose(c.weights("sum"), np.array([25, 5, 5]) / 35, rtol=1e-12)
    np.testing.assert_allclose(c.weights("countdown"), np.array([5, 9, 25]) / 39, rtol=1e-12)
    before = c.weights("sum")
    c.load({"countdown/1": 0.3, "countdown/2": 0.3})                 # another family's rates move
    np.testing.assert_array_equal(c.weights("sum"), before)


rate = st.floats(0.0, 1.0) | st.sampled_from([0.0, 1.0, 0.5])


@settings(max_examples=80, deadline=None)
@given(st.lists(rate, min_size=1, max_size=6), st.floats(0.001, 0.3))
def test_weights_properties(rates, floor):
    """The weights are a distribution; none is below the floor's share (floor over the largest possible
    sum, n * max(1/4, floor)); swapping every p for 1 - p changes nothing; the difficulty whose pass rate
    is nearest 0.5 weighs the most."""
    difficulties = tuple(range(1, len(rates) + 1))
    c = curriculum({f"sum/{d}": p for d, p in zip(difficulties, rates)}, floor=floor, difficulties=difficulties)
    w = c.weights("sum")
    assert w.shape == (len(rates),)
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-9)
    assert np.all(w >= floor / (len(rates) * max(0.25, floor)) - 1e-12)
    flipped = curriculum({f"sum/{d}": 1.0 - p for d, p in zip(difficulties, rates)}, floor=floor,
                         difficulties=difficulties)
    np.testing.assert_allclose(flipped.weights("sum"), w, rtol=1e-9, atol=1e-12)
    nearest = int(np.argmin([abs(p - 0.5) for p in rates]))
    assert w[nearest] >= w.max() - 1e-12


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_weights_rank_by_distance_from_one_half(p, q):
    """Two difficulties, the floor out of the way: the one nearer 0.5 gets the larger weight."""
    assume(abs(abs(p - 0.5) - abs(q - 0.5)) > 1e-6 and min(p * (1 - p), q * (1 - q)) > 1e-4)
    w = curriculum({"sum/1": p, "sum/2": q}, floor=1e-5, difficulties=(1, 2)).weights("sum")
    assert (w[0] > w[1]) == (abs(p - 0.5) < abs(q - 0.5))


# ----------------------------------------------------------------------------- Curriculum.update

def test_update_by_hand_two_cells_repeated_rows():
    """decay 0.8. sum/1 sees rewards (1, 0, 1), mean 2/3: 0.8 * 0.5 + 0.2 * 2/3 = 0.5333...; sum/2 sees
    (0, 0): 0.4. The rows interleave; every other cell keeps 0.5. A second batch folds into the new rate:
    sum/1 sees (0,): 0.8 * 0.5333... = 0.42666..."""
    c = curriculum(decay=0.8)
    problems = rows("sum", 1) + rows("sum", 2) + rows("sum", 1, 2) + rows("sum", 2)
    c.update(problems, np.array([1.0, 0.0, 0.0, 1.0, 0.0], np.float32))
    want = {k: 0.5 for k in CELLS} | {"sum/1": 0.4 + 0.2 * 2 / 3, "sum/2": 0.4}
    assert c.state() == pytest.approx(want, rel=1e-6)
    c.update(rows("sum", 1), np.array([0.0], np.float32))
    assert c.state() == pytest.approx(want | {"sum/1": 0.8 * (0.4 + 0.2 * 2 / 3)}, rel=1e-6)


def test_update_by_hand_other_rates_decay_and_families():
    """decay 0.6, sum/2 at 0.9 sees (0, 0, 0, 0): 0.54; countdown/2 at 0.1 sees (1, 1): 0.46 (the same
    difficulty in another family is another cell); countdown/3 at 0.2 stays."""
    c = curriculum({"sum/2": 0.9, "countdown/2": 0.1, "countdown/3": 0.2}, decay=0.6)
    c.update(rows("sum", 2, 4) + rows("countdown", 2, 2), [0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    want = {k: 0.5 for k in CELLS} | {"sum/2": 0.54, "countdown/2": 0.46, "countdown/3": 0.2}
    assert c.state() == pytest.approx(want, rel=1e-6)


def test_update_of_an_empty_batch_changes_nothing():
    c = curriculum({"sum/1": 0.3})
    before = c.state()
    c.update([], np.zeros(0, np.float32))
    assert c.state() == before


problem_rows = st.lists(st.tuples(st.sampled_from(FAMILIES), st.sampled_from(DIFFICULTIES),
                                  st.floats(0.0, 1.0) | st.sampled_from([0.0, 1.0])), min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(problem_rows, st.lists(rate, min_size=len(CELLS), max_size=len(CELLS)), st.floats(0.0, 0.99))
def test_update_properties(batch, start, decay):
    """Rates stay in [0, 1]; a cell in the batch moves from its old rate toward the batch's mean reward
    on that cell (lands between the two, and no farther from the mean); a cell not in it is unchanged."""
    c = curriculum(dict(zip(CELLS, start)), decay=decay)
    old = c.state()
    c.update([{"family": f, "difficulty": d} for f, d, _ in batch], np.array([r for *_, r in batch], np.float32))
    new = c.state()
    assert set(new) == set(old)
    for k in CELLS:
        assert 0.0 <= new[k] <= 1.0, k
        rewards = [np.float32(r) for f, d, r in batch if f"{f}/{d}" == k]
        if not rewards:
            assert new[k] == old[k], k
            continue
        mean = float(np.mean(rewards))
        assert min(old[k], mean) - 1e-6 <= new[k] <= max(old[k], mean) + 1e-6, k
        assert abs(new[k] - mean) <= abs(old[k] - mean) + 1e-6, k


def test_state_load_round_trip():
    """state() is a copy of the rates that survives JSON (it goes into the checkpoint); load() into a
    fresh curriculum gives the same rates and weights."""
    c = curriculum(decay=0.5)
    c.update(rows("sum", 3, 2) + rows("countdown", 1), [1.0, 1.0, 0.0])
    saved = json.loads(json.dumps(c.state()))
    fresh = curriculum(decay=0.5)
    fresh.load(saved)
    assert fresh.state() == c.state()
    for f in FAMILIES:
        np.testing.assert_array_equal(fresh.weights(f), c.weights(f))
    saved["sum/3"] = 0.0                                              # the copy, not the live rates
    assert c.state()["sum/3"] == 0.75


# ----------------------------------------------------------------------------- update_on_batch

N, P, T = 4, 3, 5
STAT_KEYS = ("loss", "clip_fraction", "entropy", "grad_norm")
# the fake update's stats at step k = 0, 1, 2 (kl only at beta > 0)
STEP_STATS = {"loss": (0.5, 2.0, -1.0), "clip_fraction": (0.0, 0.25, 0.5), "entropy": (1.5, 1.2, 0.6),
              "grad_norm": (3.0, 1.0, 2.0), "kl": (0.0, 0.02, 0.07)}


class Recorder:
    """A fake `update` and a fake `token_logp` that log their calls, in order, in one list."""

    def __init__(self, beta: float):
        self.beta, self.events, self.logp_calls, self.update_calls, self.returned = beta, [], [], [], []

    def token_logp(self, params, prompts, tokens, mask):
        i = len(self.logp_calls)
        logp = jnp.full((N, T), -1.0 - i)                             # a different array on every call
        entropy = jnp.full((N, T), 10.0 + i)
        self.logp_calls.append({"params": params, "prompts": prompts, "tokens": tokens, "mask": mask,
                                "logp": logp, "entropy": entropy})
        self.events.append(("token_logp", i))
        return logp, entropy

    def update(self, params, opt_state, ref_params, batch, old_logp=None, ref_logp=None):
        k = len(self.update_calls)
        self.update_calls.append({"params": params, "opt_state": opt_state, "ref_params": ref_params,
                                  "batch": batch, "old_logp": old_logp, "ref_logp": ref_logp})
        self.events.append(("update", k))
        stats = {key: jnp.float32(STEP_STATS[key][k % 3]) for key in STAT_KEYS + (("kl",) if self.beta > 0 else ())}
        out = ({"w": params["w"] + 1.0}, {"count": opt_state["count"] + 1}, stats)
        self.returned.append(out)
        return out


def run_update_on_batch(mu: int, beta: float):
    """update_on_batch with the fakes: (its result, the recorder, params, opt_state, ref_params, batch)."""
    rng = np.random.default_rng(mu)
    batch = rl.Batch(jnp.asarray(rng.integers(1, 9, (N, P)), jnp.int32), jnp.asarray(rng.integers(1, 9, (N, T)),
                     jnp.int32), jnp.ones((N, T), jnp.float32), jnp.asarray([1.0, -1.0, 0.5, -0.5]))
    cfg = dataclasses.replace(RLConfig(group_size=2), updates_per_batch=mu, beta=beta)
    params, opt_state, ref_params = {"w": jnp.float32(0.0)}, {"count": 0}, {"w": jnp.float32(-5.0)}
    rec = Recorder(beta)
    out = rl.update_on_batch(rec.update, rec.token_logp, cfg, params, opt_state, ref_params, batch)
    return out, rec, params, opt_state, ref_params, batch


def logp_calls_on(rec: Recorder, params) -> list[dict]:
    return [c for c in rec.logp_calls if c["params"] is params]


@pytest.mark.parametrize("beta", [0.0, 0.1])
@pytest.mark.parametrize("mu", [1, 2, 3])
def test_mu_chained_updates_and_the_last_ones_results(mu, beta):
    """mu updates; the first starts from the given params and opt_state, each next one from the previous
    one's; all see ref_params and the batch; the result is the last update's params and opt_state."""
    (new, new_opt, _), rec, params, opt_state, ref_params, batch = run_update_on_batch(mu, beta)
    assert len(rec.update_calls) == mu
    assert rec.update_calls[0]["params"] is params and rec.update_calls[0]["opt_state"] is opt_state
    for k in range(1, mu):
        assert rec.update_calls[k]["params"] is rec.returned[k - 1][0]
        assert rec.update_calls[k]["opt_state"] is rec.returned[k - 1][1]
    for call in rec.update_calls:
        assert call["ref_params"] is ref_params and call["batch"] is batch
    assert new is rec.returned[-1][0] and new_opt is rec.returned[-1][1]
    assert float(new["w"]) == mu and new_opt["count"] == mu


def test_on_policy_without_kl_calls_no_token_logp():
    """mu = 1 and beta = 0: the ratio is 1 and there is no KL term, so no log-prob pass; None for both."""
    _, rec, *_ = run_update_on_batch(1, 0.0)
    assert rec.logp_calls == []
    assert rec.update_calls[0]["old_logp"] is None and rec.update_calls[0]["ref_logp"] is None


@pytest.mark.parametrize("mu", [2, 3])
def test_old_logp_once_from_the_params_before_the_first_step(mu):
    """mu > 1, beta = 0: one log-prob pass, on the given params and the batch's arrays, before any
    update; its logp (not the entropy) is the old_logp of every step; ref_logp stays None."""
    _, rec, params, _, _, batch = run_update_on_batch(mu, 0.0)
    assert len(rec.logp_calls) == 1
    call = rec.logp_calls[0]
    assert call["params"] is params
    assert call["prompts"] is batch.prompts and call["tokens"] is batch.tokens and call["mask"] is batch.mask
    assert rec.events[0] == ("token_logp", 0)
    for step in rec.update_calls:
        assert step["old_logp"] is call["logp"]
        assert step["ref_logp"] is None


@pytest.mark.parametrize("mu", [1, 3])
def test_ref_logp_once_from_ref_params(mu):
    """beta > 0: one log-prob pass on ref_params, before any update; every step gets its logp."""
    _, rec, params, _, ref_params, batch = run_update_on_batch(mu, 0.1)
    ref_calls = logp_calls_on(rec, ref_params)
    assert len(ref_calls) == 1
    call = ref_calls[0]
    assert call["prompts"] is batch.prompts and call["tokens"] is batch.tokens and call["mask"] is batch.mask
    assert len(rec.logp_calls) == (1 if mu == 1 else 2)               # plus old_logp when mu > 1
    assert all(e[0] == "token_logp" for e in rec.events[:len(rec.logp_calls)])
    for step in rec.update_calls:
        assert step["ref_logp"] is call["logp"]
    if mu == 1:
        assert rec.update_calls[0]["old_logp"] is None


def test_old_and_ref_logp_together_are_two_passes_held_fixed():
    """mu = 3, beta > 0: exactly one pass on params and one on ref_params, both before the first step;
    every step gets the first as old_logp and the second as ref_logp, the very same arrays."""
    _, rec, params, _, ref_params, _ = run_update_on_batch(3, 0.1)
    (old,), (ref,) = logp_calls_on(rec, params), logp_calls_on(rec, ref_params)
    assert len(rec.logp_calls) == 2
    assert [e[0] for e in rec.events] == ["token_logp"] * 2 + ["update"] * 3
    for step in rec.update_calls:
        assert step["old_logp"] is old["logp"] and step["ref_logp"] is ref["logp"]


@pytest.mark.parametrize("beta", [0.0, 0.1])
def test_stats_are_the_mean_over_the_steps_by_hand(beta):
    """mu = 3, the fake steps' stats as in STEP_STATS: loss (0.5 + 2 - 1) / 3 = 0.5, clip_fraction 0.25,
    entropy 1.1, grad_norm 2, kl 0.03 (only at beta > 0)."""
    (_, _, stats), *_ = run_update_on_batch(3, beta)
    want = {"loss": 0.5, "clip_fraction": 0.25, "entropy": 1.1, "grad_norm": 2.0} | ({"kl": 0.03} if beta else {})
    assert set(stats) == set(want)
    for k, v in want.items():
        assert float(stats[k]) == pytest.approx(v, rel=1e-6), k


def test_stats_of_two_steps_and_of_one():
    """mu = 2: the mean of the first two rows of STEP_STATS; mu = 1: the single step's values."""
    (_, _, two), *_ = run_update_on_batch(2, 0.1)
    (_, _, one), *_ = run_update_on_batch(1, 0.1)
    for k, values in STEP_STATS.items():
        assert float(two[k]) == pytest.approx((values[0] + values[1]) / 2, rel=1e-6, abs=1e-9), k
        assert float(one[k]) == pytest.approx(values[0], rel=1e-6, abs=1e-9), k


# ---- end to end: the student's whole path trains a model that gets better (marked slow: ~3 min)

ACCURACY_MARGIN = 0.04     # measured over 3 seeds: +0.06 to +0.09 (docs/course.md, docs/runs/course-seed*)
REFLECTION_MARGIN = 0.2    # measured: +0.43 to +0.61


@pytest.mark.slow
def test_the_course_preset_raises_the_held_out_reward(tmp_path):
    """Pretrain and RL with every assignment's code in it (`python train.py --preset course`, seed 0). The
    reward is 0/1, so the held-out reward is the held-out accuracy: on the same 128 held-out problems the
    final model beats the base by ACCURACY_MARGIN, and its reflection rate by REFLECTION_MARGIN (RL picks
    the reflective traces, which search, over one-shot guesses). The training batch's reward is no
    measure here: the curriculum keeps it near 0.5 on purpose."""
    from minireason.config import course
    from minireason.run import run
    arith = run(course(), str(tmp_path / "run"), echo=lambda *a: None)["domains"]["arith"]
    b, f = arith["base"], arith["final"]
    assert f["accuracy"] - b["accuracy"] >= ACCURACY_MARGIN, f"accuracy {b['accuracy']:.3f} -> {f['accuracy']:.3f}"
    assert f["reflection_rate"] - b["reflection_rate"] >= REFLECTION_MARGIN, \
        f"reflection {b['reflection_rate']:.3f} -> {f['reflection_rate']:.3f}"
