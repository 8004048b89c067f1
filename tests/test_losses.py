"""Advantages, the clipped objective, k3 KL and every loss aggregation against hand-computed values."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minireason import losses

# two completions: 3 and 1 completion tokens (T = 4)
MASK = jnp.array([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
ADV = jnp.array([1.0, 0.5])


def test_group_advantages_by_hand():
    r = jnp.array([[0.0, 0.0, 0.0, 1.0]])
    std = math.sqrt(0.25 * 0.75)                        # population std of [0, 0, 0, 1]
    want = np.array([[-0.25, -0.25, -0.25, 0.75]]) / (std + 1e-4)
    np.testing.assert_allclose(losses.group_advantages(r), want, rtol=1e-6)
    np.testing.assert_allclose(losses.group_advantages(r, scale_by_std=False), [[-0.25, -0.25, -0.25, 0.75]])


def test_zero_variance_group_gets_zero_advantage():
    r = jnp.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    assert np.all(losses.group_advantages(r) == 0.0)


def test_groups_are_independent():
    r = jnp.array([[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(losses.group_advantages(r, False), [[0.5, -0.5], [0.0, 0.0]])


def test_batch_mean_baseline():
    np.testing.assert_allclose(losses.batch_mean_baseline(jnp.array([[1.0, 0.0], [1.0, 1.0]])),
                               [[0.25, -0.75], [0.25, 0.25]])


@pytest.mark.parametrize("ratio, adv, loss, clipped", [
    (1.5, 1.0, -1.2, True),     # above 1 + eps with A > 0: capped at 1.2
    (1.5, -1.0, 1.5, False),    # A < 0: the unclipped (more pessimistic) term is taken
    (0.5, 1.0, -0.5, False),
    (0.5, -1.0, 0.8, True),     # below 1 - eps with A < 0: capped at 0.8
    (1.1, 1.0, -1.1, False),    # inside [0.8, 1.2]: no clip
])
def test_clip_acts_only_outside_the_trust_region(ratio, adv, loss, clipped):
    logp = jnp.array([[math.log(ratio)]])
    got, was_clipped = losses.clipped_objective(logp, jnp.zeros((1, 1)), jnp.array([adv]), 0.2, 0.2)
    assert float(got[0, 0]) == pytest.approx(loss, rel=1e-6)
    assert bool(was_clipped[0, 0]) is clipped


def test_clip_higher_uses_its_own_upper_bound():
    logp = jnp.array([[math.log(1.5)]])
    got, _ = losses.clipped_objective(logp, jnp.zeros((1, 1)), jnp.array([1.0]), 0.2, 0.28)
    assert float(got[0, 0]) == pytest.approx(-1.28)


def test_k3_by_hand_and_zero_when_policies_match():
    logp, ref = jnp.log(jnp.array([0.5])), jnp.log(jnp.array([0.25]))
    assert float(losses.kl_k3(logp, ref)[0]) == pytest.approx(0.5 + math.log(2) - 1, rel=1e-6)
    assert float(losses.kl_k3(logp, logp)[0]) == 0.0
    x = jnp.linspace(-3, 3, 13)
    assert bool(jnp.all(losses.kl_k3(x[:, None], x[None, :]) >= 0))


def _loss(name, logp, adv=ADV, ref=None, beta=0.0):
    ref = logp if ref is None else ref
    return losses.LOSSES[name].loss(logp, jax.lax.stop_gradient(logp), ref, adv, MASK, 0.2, 0.28, beta)


# With logp == old_logp the ratio is 1 and each token's loss is -A (A = 1 for row 0, 0.5 for row 1).
@pytest.mark.parametrize("name, want", [
    ("grpo", (-1.0 + -0.5) / 2),                  # mean of per-sequence means
    ("dapo", (-1.0 * 3 + -0.5 * 1) / 4),          # token mean over the batch
    ("dr_grpo", (-1.0 * 3 + -0.5 * 1) / (2 * 4)), # sum / (N * T)
    ("reinforce", -(1.0 * -3.0 + 0.5 * -1.0) / 2),  # -(1/N) sum_i A_i sum_t logp_it, logp = -1
])
def test_aggregations_by_hand(name, want):
    logp = -jnp.ones((2, 4))
    assert float(_loss(name, logp).loss) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_zero_advantage_gives_zero_gradient(name):
    grad = jax.grad(lambda lp: _loss(name, lp, adv=jnp.zeros(2)).loss)(-jnp.ones((2, 4)))
    assert np.all(np.asarray(grad) == 0.0)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_pad_tokens_give_no_gradient(name):
    grad = np.asarray(jax.grad(lambda lp: _loss(name, lp, beta=0.1, ref=-2 * jnp.ones((2, 4))).loss)(-jnp.ones((2, 4))))
    assert np.all(grad[np.asarray(MASK) == 0] == 0.0)
    assert np.all(grad[np.asarray(MASK) == 1] != 0.0)


def test_grpo_gradient_by_hand():
    # dL/dlogp_it = -A_i / |o_i| / N at ratio 1
    grad = jax.grad(lambda lp: _loss("grpo", lp).loss)(-jnp.ones((2, 4)))
    np.testing.assert_allclose(grad, [[-1 / 3 / 2] * 3 + [0.0], [-0.5 / 2, 0, 0, 0]], rtol=1e-6)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_kl_term_is_zero_when_policies_match(name):
    logp = -jnp.ones((2, 4))
    with_kl, without = _loss(name, logp, beta=0.5), _loss(name, logp, beta=0.0)
    assert float(with_kl.kl) == 0.0 and float(with_kl.loss) == pytest.approx(float(without.loss))


def test_kl_metric_is_the_masked_token_mean():
    logp, ref = jnp.full((2, 4), math.log(0.5)), jnp.full((2, 4), math.log(0.25))
    k3 = 0.5 + math.log(2) - 1
    assert float(_loss("dapo", logp, ref=ref).kl) == pytest.approx(k3, rel=1e-6)
