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


# ----------------------------------------------------------------------------- the clip inside each loss

# Two completions, T = 3, old_logp = 0 and logp = log(ratio). Row 0 has A = +1 and three tokens; row 1
# has A = -1 and two (its pad has ratio 0.25, which would count as clipped if the mask were ignored).
CLIP_RATIO = jnp.array([[1.5, 0.5, 1.0], [1.5, 0.5, 0.25]])
CLIP_ADV = jnp.array([1.0, -1.0])
CLIP_MASK = jnp.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
# Per-token l = -min(r * A, clip(r, 1 - 0.2, 1 + eps_high) * A), and dl/dlogp = -r * A where unclipped:
#   row 0 (A = +1): r = 1.5 -> -min(1.5, 1 + eps_high) = -(1 + eps_high), clipped (grad 0)
#                   r = 0.5 -> -min(0.5, 0.8) = -0.5, unclipped (grad -0.5);  r = 1 -> -1, grad -1
#   row 1 (A = -1): r = 1.5 -> -min(-1.5, -(1 + eps_high)) = 1.5, unclipped (grad +1.5)
#                   r = 0.5 -> -min(-0.5, -0.8) = 0.8, clipped (grad 0)
# Symmetric clip (eps_high = 0.2): row sums -1.2 - 0.5 - 1 = -2.7 and 1.5 + 0.8 = 2.3.
#   grpo:    ((-2.7 / 3) + (2.3 / 2)) / 2 = (-0.9 + 1.15) / 2 = 0.125; token weights 1/(2*3), 1/(2*2)
#   dr_grpo: (-2.7 + 2.3) / (N * T = 6) = -0.4 / 6;                      token weight 1/6
# Clip-higher (eps_high = 0.28): row 0 sums -1.28 - 0.5 - 1 = -2.78.
#   dapo:    (-2.78 + 2.3) / 5 tokens = -0.096;                          token weight 1/5
@pytest.mark.parametrize("name, want_loss, want_grad", [
    ("grpo", 0.125, [[0.0, -0.5 / 6, -1 / 6], [1.5 / 4, 0.0, 0.0]]),
    ("dr_grpo", -0.4 / 6, [[0.0, -0.5 / 6, -1 / 6], [1.5 / 6, 0.0, 0.0]]),
    ("dapo", -0.48 / 5, [[0.0, -0.5 / 5, -1 / 5], [1.5 / 5, 0.0, 0.0]]),
])
def test_clipped_loss_value_gradient_and_clip_fraction_by_hand(name, want_loss, want_grad):
    def loss(logp):
        return losses.LOSSES[name].loss(logp, jnp.zeros((2, 3)), logp, CLIP_ADV, CLIP_MASK, 0.2, 0.28, 0.0)
    logp = jnp.log(CLIP_RATIO)
    parts = loss(logp)
    assert float(parts.loss) == pytest.approx(want_loss, rel=1e-5)
    assert float(parts.clip_fraction) == pytest.approx(2 / 5)          # two clipped of five completion tokens
    grad = np.asarray(jax.grad(lambda lp: loss(lp).loss)(logp))
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5)
    assert grad[0, 0] == 0.0 and grad[1, 1] == 0.0 and grad[1, 2] == 0.0   # clipped and pad: exactly zero
    assert np.all(grad[[0, 0, 1], [1, 2, 0]] != 0.0)


# ----------------------------------------------------------------------------- masked means and empty rows

def test_masked_mean_by_hand_and_zero_when_nothing_is_masked_in():
    x = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert float(losses.masked_mean(x, jnp.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))) == pytest.approx(3.0)  # 9/3
    assert float(losses.masked_mean(x, jnp.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))) == 1.0   # all-masked row
    assert float(losses.masked_mean(x, jnp.zeros((2, 3)))) == 0.0                           # 0 / max(0, 1)
    grad = jax.grad(lambda v: losses.masked_mean(v, jnp.zeros((2, 3))))(x)
    assert np.all(np.asarray(grad) == 0.0)


@pytest.mark.parametrize("name, want", [
    ("grpo", (-1.0 + 0.0) / 2),       # the all-pad row's token mean is 0 / max(0, 1) = 0; it still counts in N
    ("dr_grpo", -3.0 / (2 * 4)),
    ("dapo", -3.0 / 3),
    ("reinforce", -(1.0 * -3.0) / 2),
])
def test_an_all_pad_row_is_finite_and_adds_nothing(name, want):
    mask = jnp.array([[1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    def loss(logp):
        return losses.LOSSES[name].loss(logp, jax.lax.stop_gradient(logp), logp, ADV, mask, 0.2, 0.28, 0.0).loss
    logp = -jnp.ones((2, 4))
    assert float(loss(logp)) == pytest.approx(want, rel=1e-6)
    grad = np.asarray(jax.grad(loss)(logp))
    assert np.all(np.isfinite(grad)) and np.all(grad[1] == 0.0)


# ----------------------------------------------------------------------------- which KL the gradient follows

# A 4-way categorical with logits theta: pi = softmax(theta) = [0.1, 0.2, 0.3, 0.4], pi_ref uniform.
PI = np.array([0.1, 0.2, 0.3, 0.4])
REF = np.full(4, 0.25)


def _expected_surrogate_grad(estimator):
    """E_{x ~ pi_theta}[grad_theta estimator(log pi_theta(x), log pi_ref(x))], samples held fixed:
    sum_x pi(x) grad estimator_x, with pi(x) outside the gradient."""
    def surrogate(theta):
        logp = jax.nn.log_softmax(theta)
        return (jax.lax.stop_gradient(jnp.exp(logp)) * estimator(logp, jnp.log(REF))).sum()
    return np.asarray(jax.grad(surrogate)(jnp.log(jnp.array(PI))))


def test_k3_gradient_is_that_of_kl_ref_to_theta_and_k2_that_of_kl_theta_to_ref():
    # For softmax logits, grad_theta log pi(x) = e_x - pi. Closed forms:
    #   grad KL(ref || theta) = grad sum_x ref log(ref / pi) = pi - ref = [-0.15, -0.05, 0.05, 0.15]
    #   grad KL(theta || ref) = grad sum_x pi log(pi / ref) = pi * (log(pi / ref) - KL(theta || ref))
    kl_theta_ref = float((PI * np.log(PI / REF)).sum())
    grad_ref_theta = PI - REF
    grad_theta_ref = PI * (np.log(PI / REF) - kl_theta_ref)
    np.testing.assert_allclose(grad_ref_theta, [-0.15, -0.05, 0.05, 0.15], atol=1e-12)
    theta = jnp.log(jnp.array(PI))             # the closed forms agree with autodiff of the exact KLs
    np.testing.assert_allclose(jax.grad(lambda t: (REF * (jnp.log(REF) - jax.nn.log_softmax(t))).sum())(theta),
                               grad_ref_theta, atol=1e-6)
    np.testing.assert_allclose(jax.grad(lambda t: (jax.nn.softmax(t) * (jax.nn.log_softmax(t) - jnp.log(REF))).sum())(
        theta), grad_theta_ref, atol=1e-6)

    k3 = _expected_surrogate_grad(losses.kl_k3)
    np.testing.assert_allclose(k3, grad_ref_theta, atol=1e-6)               # k3: the gradient of KL(ref || theta)
    assert np.abs(k3 - grad_theta_ref).max() > 0.01                          # ... not of KL(theta || ref)
    k2 = _expected_surrogate_grad(losses.kl_k2)
    np.testing.assert_allclose(k2, grad_theta_ref, atol=1e-6)               # k2: the gradient of KL(theta || ref)
    assert np.abs(k2 - grad_ref_theta).max() > 0.01


def test_k2_by_hand():
    logp, ref = jnp.log(jnp.array([0.5])), jnp.log(jnp.array([0.25]))
    assert float(losses.kl_k2(logp, ref)[0]) == pytest.approx(0.5 * math.log(2) ** 2, rel=1e-6)
    assert float(losses.kl_k2(logp, logp)[0]) == 0.0


# At A = 0 the policy term is 0, so the loss is beta * (the estimator aggregated like the loss); MASK holds
# 4 tokens of 8, so dr_grpo's sum / (N * T) is half the token mean. The logged kl is k3 whatever the loss uses.
@pytest.mark.parametrize("name, scale", [("grpo", 1.0), ("dr_grpo", 0.5), ("dapo", 1.0), ("reinforce", 1.0)])
def test_the_kl_estimator_is_chosen_by_name_and_the_logged_kl_stays_k3(name, scale):
    logp, ref = jnp.full((2, 4), math.log(0.5)), jnp.full((2, 4), math.log(0.25))
    k2, k3 = 0.5 * math.log(2) ** 2, 0.5 + math.log(2) - 1
    for key, want in (("k2", k2), ("k3", k3)):
        parts = losses.LOSSES[name].loss(logp, logp, ref, jnp.zeros(2), MASK, 0.2, 0.28, 2.0, losses.KL_ESTIMATORS[key])
        assert float(parts.loss) == pytest.approx(2.0 * scale * want, rel=1e-6)
        assert float(parts.kl) == pytest.approx(k3, rel=1e-6)
