"""Assignment 3, advantages and losses (`pytest -m losses`): minireason/losses.py and rl.token_logprobs.

Snapshots use seeded random inputs with the hard cases in them: ratios far from 1 (so the clip acts on
both sides), advantages of both signs, random masks with an all-pad row, zero-variance groups, beta > 0.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minireason import losses, rl

pytestmark = pytest.mark.losses

N, T = 6, 7


def loss_inputs(seed: int = 0):
    """logp, old_logp, ref_logp [N, T] with ratios spread over about [0.5, 2]; adv [N] of both signs;
    a random mask [N, T] whose last row is all pad."""
    rng = np.random.default_rng(seed)
    logp = rng.normal(-2.0, 1.0, (N, T)).astype(np.float32)
    old_logp = (logp + rng.normal(0.0, 0.35, (N, T))).astype(np.float32)
    ref_logp = (logp + rng.normal(0.0, 0.5, (N, T))).astype(np.float32)
    adv = rng.normal(0.0, 1.0, N).astype(np.float32)
    lengths = rng.integers(1, T + 1, N)
    lengths[-1] = 0
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float32)
    return tuple(jnp.asarray(a) for a in (logp, old_logp, ref_logp, adv, mask))


# ----------------------------------------------------------------------------- token log-probs

def test_token_logprobs_snapshot(snapshot):
    rng = np.random.default_rng(1)
    p, t, v = 4, 5, 9
    logits = jnp.asarray(rng.normal(0, 2, (3, p + t - 1, v)), jnp.float32)
    tokens = jnp.asarray(rng.integers(0, v, (3, t)), jnp.int32)
    logp, entropy = rl.token_logprobs(logits, tokens, p, 0.7)
    snapshot.check("token_logprobs", logp=logp, entropy=entropy)


def test_token_logprobs_reads_the_logits_one_position_before_each_token():
    """Completion token t sits at position P + t and is predicted by the logits at P - 1 + t."""
    p, t, v = 3, 4, 6
    tokens = jnp.array([[1, 4, 2, 5]], jnp.int32)
    logits = np.zeros((1, p + t - 1, v), np.float32)
    for i, tok in enumerate([1, 4, 2, 5]):
        logits[0, p - 1 + i, tok] = 20.0                      # the right logit sure of the right token
    logp, _ = rl.token_logprobs(jnp.asarray(logits), tokens, p, 1.0)
    np.testing.assert_allclose(logp, 0.0, atol=1e-6)


def test_token_logprobs_use_the_temperature():
    """Uniform logits: entropy log V at any temperature; two logits 0 and 1 at temperature 2 give
    log-probs of softmax([0, 0.5])."""
    logp, entropy = rl.token_logprobs(jnp.zeros((1, 2, 5)), jnp.array([[3, 0]]), 2, 0.5)
    np.testing.assert_allclose(entropy, np.log(5.0), rtol=1e-6)
    np.testing.assert_allclose(logp, -np.log(5.0), rtol=1e-6)
    logp, _ = rl.token_logprobs(jnp.array([[[0.0, 1.0]]]), jnp.array([[1]]), 1, 2.0)
    np.testing.assert_allclose(logp, [[0.5 - np.log(1 + np.exp(0.5))]], rtol=1e-6)


# ----------------------------------------------------------------------------- advantages

def test_group_advantages_snapshot(snapshot):
    rng = np.random.default_rng(2)
    rewards = rng.integers(0, 2, (5, 4)).astype(np.float32)
    rewards[0] = 1.0                                   # zero-variance groups
    rewards[1] = 0.0
    rewards[2] = [0.0, 0.25, 1.0, 0.5]                 # a partial (pass-fraction) reward
    r = jnp.asarray(rewards)
    snapshot.check("group_advantages", scaled=losses.group_advantages(r), centred=losses.group_advantages(r, False))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=4, max_size=4), min_size=1, max_size=5),
       st.floats(-3, 3))
def test_group_advantages_are_centred_within_each_group_and_shift_invariant(groups, shift):
    r = jnp.asarray(groups, jnp.float32)
    a = np.asarray(losses.group_advantages(r))
    np.testing.assert_allclose(a.sum(axis=1), 0.0, atol=1e-4)
    np.testing.assert_allclose(losses.group_advantages(r + shift), a, atol=1e-3)
    std = np.asarray(r).std(axis=1)                    # population std: the scaled advantages have std/(std+eps)
    np.testing.assert_allclose(a.std(axis=1), std / (std + losses.ADV_EPS), atol=1e-4)


# ----------------------------------------------------------------------------- the per-token pieces

def test_clipped_objective_snapshot(snapshot):
    logp, old_logp, _, adv, _ = loss_inputs(3)
    loss, clipped = losses.clipped_objective(logp, old_logp, adv, 0.2, 0.28)
    snapshot.check("clipped_objective", loss=loss, clipped=clipped)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1.5, 1.5), st.floats(0.05, 2) | st.floats(-2, -0.05), st.floats(0.05, 0.4), st.floats(0.05, 0.4))
def test_clipped_objective_is_ppo_by_cases(log_ratio, a, eps_low, eps_high):
    """A > 0: the ratio counts up to 1 + eps_high; A < 0: down to 1 - eps_low; no gradient past the cap."""
    assume(min(abs(np.exp(log_ratio) - 1 - eps_high), abs(np.exp(log_ratio) - 1 + eps_low)) > 1e-3)  # float32 ties
    old = jnp.zeros((1, 1))
    loss, clipped = losses.clipped_objective(jnp.full((1, 1), log_ratio), old, jnp.array([a]), eps_low, eps_high)
    ratio = np.exp(log_ratio)
    capped = min(ratio, 1 + eps_high) if a > 0 else max(ratio, 1 - eps_low)
    np.testing.assert_allclose(float(loss[0, 0]), -capped * a, rtol=1e-5, atol=1e-6)
    grad = jax.grad(lambda lp: losses.clipped_objective(lp, old, jnp.array([a]), eps_low, eps_high)[0].sum())
    g = float(grad(jnp.full((1, 1), log_ratio))[0, 0])
    past_cap = (a > 0 and ratio > 1 + eps_high) or (a < 0 and ratio < 1 - eps_low)
    assert bool(clipped[0, 0]) == past_cap
    if past_cap:
        assert g == 0.0
    else:
        np.testing.assert_allclose(g, -ratio * a, rtol=1e-5, atol=1e-6)


def test_kl_k3_snapshot(snapshot):
    logp, _, ref_logp, _, _ = loss_inputs(4)
    snapshot.check("kl_k3", kl=losses.kl_k3(logp, ref_logp))


@settings(max_examples=60, deadline=None)
@given(st.floats(-4, 0), st.floats(-4, 0))
def test_kl_k3_is_nonnegative_zero_when_equal_and_exact_at_a_point(logp, ref_logp):
    k3 = float(losses.kl_k3(jnp.float32(logp), jnp.float32(ref_logp)))
    r = np.exp(np.float32(ref_logp) - np.float32(logp))
    np.testing.assert_allclose(k3, r - np.log(r) - 1, rtol=1e-4, atol=1e-6)
    assert k3 >= 0.0
    assert float(losses.kl_k3(jnp.float32(logp), jnp.float32(logp))) == 0.0


def test_masked_mean_by_hand_and_all_pad():
    x = jnp.array([[1.0, 2.0, 30.0], [4.0, 50.0, 60.0]])
    m = jnp.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert float(losses.masked_mean(x, m)) == pytest.approx(7.0 / 3.0)
    assert float(losses.masked_mean(x, jnp.zeros_like(m))) == 0.0            # no tokens: 0, not NaN


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.booleans()), min_size=1, max_size=12))
def test_masked_mean_is_the_mean_of_the_kept_entries(entries):
    x = jnp.asarray([e[0] for e in entries], jnp.float32)
    m = jnp.asarray([float(e[1]) for e in entries])
    kept = [e[0] for e in entries if e[1]]
    want = float(np.mean(np.float32(kept))) if kept else 0.0
    np.testing.assert_allclose(float(losses.masked_mean(x, m)), want, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- the aggregations

LOSS_FNS = {"grpo": losses.grpo_loss, "dr_grpo": losses.dr_grpo_loss, "dapo": losses.dapo_loss}


@pytest.mark.parametrize("name", sorted(LOSS_FNS))
def test_loss_snapshot(snapshot, name):
    logp, old_logp, ref_logp, adv, mask = loss_inputs(5)
    parts = LOSS_FNS[name](logp, old_logp, ref_logp, adv, mask, 0.2, 0.28, 0.04)
    grad = jax.grad(lambda lp: LOSS_FNS[name](lp, old_logp, ref_logp, adv, mask, 0.2, 0.28, 0.04).loss)(logp)
    snapshot.check(f"loss_{name}", loss=parts.loss, clip_fraction=parts.clip_fraction, kl=parts.kl, grad=grad)


def test_the_three_normalisers_by_hand():
    """Two completions of 3 and 1 tokens in T = 4, ratio 1 (l_t = -A), beta = 0, A = (1, 0.5):
    GRPO: mean of per-completion means = (-1 - 0.5) / 2; Dr. GRPO: sum / (N T) = (-3 - 0.5) / 8;
    DAPO: sum / tokens = (-3 - 0.5) / 4."""
    mask = jnp.array([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    z, adv = jnp.zeros((2, 4)), jnp.array([1.0, 0.5])
    got = {n: float(f(z, z, z, adv, mask, 0.2, 0.28, 0.0).loss) for n, f in LOSS_FNS.items()}
    assert got == pytest.approx({"grpo": -0.75, "dr_grpo": -3.5 / 8, "dapo": -3.5 / 4})


@pytest.mark.parametrize("name, eps_high_counts", [("grpo", False), ("dr_grpo", False), ("dapo", True)])
def test_which_losses_clip_higher(name, eps_high_counts):
    """A ratio of 1.25 with A > 0 sits between 1 + clip_eps (1.2) and 1 + clip_eps_high (1.28): only DAPO's
    clip-higher lets it count (loss -1.25 per token instead of -1.2)."""
    mask = jnp.ones((1, 2))
    logp, old = jnp.full((1, 2), np.log(1.25)), jnp.zeros((1, 2))
    parts = LOSS_FNS[name](logp, old, old, jnp.array([1.0]), mask, 0.2, 0.28, 0.0)
    want = -1.25 if eps_high_counts else -1.2            # T = 2, both tokens real: every normaliser is 2
    assert float(parts.loss) == pytest.approx(want, rel=1e-5)
    assert float(parts.clip_fraction) == (0.0 if eps_high_counts else 1.0)


@pytest.mark.parametrize("name", sorted(LOSS_FNS))
def test_pad_tokens_change_nothing(name):
    """Whatever sits on the pad positions (mask 0) leaves the loss and its gradient unchanged."""
    logp, old_logp, ref_logp, adv, mask = loss_inputs(6)
    noisy = jnp.where(mask > 0, logp, logp + 5.0)

    def f(lp):
        return LOSS_FNS[name](lp, old_logp, ref_logp, adv, mask, 0.2, 0.28, 0.04).loss

    np.testing.assert_allclose(float(f(noisy)), float(f(logp)), rtol=1e-6)
    g = jax.grad(f)(logp)
    assert np.all(np.asarray(g)[np.asarray(mask) == 0] == 0.0)
