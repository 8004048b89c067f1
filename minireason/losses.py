"""The policy-gradient objectives: group-relative advantages, the clipped ratio, k3 and k2 KL, and four losses.

Dimensions: B prompts, G completions per prompt, N = B*G rows, T completion tokens.
Inputs shared by every loss:
    logp      [N, T]  log pi_theta(o_t | q, o_<t) under the policy being updated
    old_logp  [N, T]  the same under the policy that sampled (equal to logp, detached, when mu = 1)
    ref_logp  [N, T]  the same under the frozen reference (the base model); used by the KL term
    adv       [N]     one advantage per completion, broadcast over its tokens
    mask      [N, T]  1 on completion tokens (up to and including </answer>), 0 on pads
    beta, kl_estimator    the KL term's weight and per-token estimator (KL_ESTIMATORS; k3 by default)

Deviations from the papers (DEVIATION markers below):
  - Advantages use the population std (ddof=0) plus eps = 1e-4; GRPO's paper does not say which.
  - REINFORCE uses the batch-mean reward as its baseline and no ratio or clip (the textbook form).
  - DAPO's dynamic sampling (re-drawing zero-variance groups) and overlong reward shaping are not
    implemented; the share of zero-variance groups is logged instead.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

ADV_EPS = 1e-4


# ----------------------------------------------------------------------------- advantages

def group_advantages(rewards, scale_by_std: bool = True, eps: float = ADV_EPS):
    """Group-relative advantage (GRPO, Shao et al. 2024, arXiv:2402.03300, sec. 4.1.2).

        A_i = (r_i - mean(r_group)) / (std(r_group) + eps)       rewards [B, G] -> A [B, G]

    With scale_by_std=False this is Dr. GRPO's A_i = r_i - mean(r_group) (Liu et al. 2025,
    arXiv:2503.20783, sec. 3.2), which does not up-weight groups whose rewards barely differ.
    # DEVIATION: population std (ddof=0).
    """
    # BEGIN SOLUTION losses: r - group mean, divided by (group std (ddof=0) + eps) if scale_by_std
    centred = rewards - rewards.mean(axis=1, keepdims=True)
    if not scale_by_std:
        return centred
    return centred / (rewards.std(axis=1, keepdims=True) + eps)
    # END SOLUTION


def batch_mean_baseline(rewards):
    """REINFORCE with a mean baseline (Williams 1992): A_i = r_i - mean(r_batch)."""
    return rewards - rewards.mean()


# ----------------------------------------------------------------------------- per-token pieces

def clipped_objective(logp, old_logp, adv, eps_low: float, eps_high: float):
    """PPO's clipped surrogate per token (Schulman et al. 2017, arXiv:1707.06347, eq. 7), as a loss:

        ratio_t = exp(logp_t - old_logp_t)
        l_t = -min(ratio_t * A, clip(ratio_t, 1 - eps_low, 1 + eps_high) * A)

    Returns (l [N, T], clipped [N, T]: True where the clipped branch is the one taken, so no gradient).
    """
    # BEGIN SOLUTION losses: -min(ratio A, clip(ratio, 1 - eps_low, 1 + eps_high) A), and where the clip won
    ratio = jnp.exp(logp - old_logp)
    adv = adv[:, None]
    unclipped = ratio * adv
    clipped = jnp.clip(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
    return -jnp.minimum(unclipped, clipped), clipped < unclipped
    # END SOLUTION


def kl_k3(logp, ref_logp):
    """The k3 estimator of KL(pi_theta || pi_ref) per token (Schulman 2020, "Approximating KL divergence"):

        k3_t = exp(ref_logp_t - logp_t) - (ref_logp_t - logp_t) - 1   >= 0, and 0 when the two agree.

    Its value, on samples from pi_theta, estimates KL(pi_theta || pi_ref). Its gradient in the loss
    (samples held fixed) is that of the other KL:
        E_{pi_theta}[grad k3] = E_{pi_theta}[(1 - pi_ref / pi_theta) grad logp] = grad KL(pi_ref || pi_theta).
    GRPO's loss uses it so; `kl_k2` has the gradient of KL(pi_theta || pi_ref).
    """
    # BEGIN SOLUTION losses: exp(ref_logp - logp) - (ref_logp - logp) - 1 per token
    delta = ref_logp - logp
    return jnp.exp(delta) - delta - 1.0
    # END SOLUTION


def kl_k2(logp, ref_logp):
    """The k2 estimator per token (Schulman 2020): k2_t = 0.5 * (logp_t - ref_logp_t)^2   >= 0.

    Its value is a biased estimate of KL(pi_theta || pi_ref), but its gradient in the loss (on-policy
    samples held fixed) is that KL's: E_{pi_theta}[(logp - ref_logp) grad logp] = grad KL(pi_theta || pi_ref).
    """
    return 0.5 * (logp - ref_logp) ** 2


KL_ESTIMATORS = {"k3": kl_k3, "k2": kl_k2}   # RLConfig.kl: the estimator in the loss's beta term


def masked_mean(x, mask):
    """sum(x * mask) / max(sum(mask), 1): the mean over the masked-in entries, 0 when there are none."""
    # BEGIN SOLUTION losses: sum(x * mask) / max(sum(mask), 1)
    return (x * mask).sum() / jnp.maximum(mask.sum(), 1.0)
    # END SOLUTION


# ----------------------------------------------------------------------------- the four losses

class LossParts(NamedTuple):
    loss: jax.Array
    clip_fraction: jax.Array   # share of completion tokens whose ratio was clipped
    kl: jax.Array              # mean k3 KL over completion tokens, whichever estimator is in the loss


def _token_losses(logp, old_logp, ref_logp, adv, mask, eps_low, eps_high, beta, kl_estimator):
    """Per-token l_t + beta * kl_estimator_t, the clip fraction, and the logged mean k3 (always k3: the
    estimate of KL(pi_theta || pi_ref) that the alarms read)."""
    pg, clipped = clipped_objective(logp, old_logp, adv, eps_low, eps_high)
    penalty = kl_estimator(logp, ref_logp)
    return pg + beta * penalty, masked_mean(clipped, mask), masked_mean(kl_k3(logp, ref_logp), mask)


def grpo_loss(logp, old_logp, ref_logp, adv, mask, clip_eps, clip_eps_high, beta, kl_estimator=kl_k3):
    """GRPO (arXiv:2402.03300, eq. 3): mean over completions of each completion's token mean.

        L = (1/N) sum_i (1/|o_i|) sum_t l_it          (symmetric clip, eps_low = eps_high = clip_eps)
    """
    # BEGIN SOLUTION losses: token losses (symmetric clip); each completion's mean; their mean
    tok, clip_frac, kl = _token_losses(logp, old_logp, ref_logp, adv, mask, clip_eps, clip_eps, beta, kl_estimator)
    per_seq = (tok * mask).sum(axis=1) / jnp.maximum(mask.sum(axis=1), 1.0)
    return LossParts(per_seq.mean(), clip_frac, kl)
    # END SOLUTION


def dr_grpo_loss(logp, old_logp, ref_logp, adv, mask, clip_eps, clip_eps_high, beta, kl_estimator=kl_k3):
    """Dr. GRPO (arXiv:2503.20783, sec. 3.2): divide by a constant, not by each completion's length.

        L = (1 / (N * T)) sum_i sum_t l_it            (T = the fixed completion width)
    Per-length normalisation lets long wrong answers get cheaper per token; a constant does not.
    """
    # BEGIN SOLUTION losses: per-token losses (symmetric clip), summed over the batch, divided by N * T
    tok, clip_frac, kl = _token_losses(logp, old_logp, ref_logp, adv, mask, clip_eps, clip_eps, beta, kl_estimator)
    return LossParts((tok * mask).sum() / mask.size, clip_frac, kl)
    # END SOLUTION


def dapo_loss(logp, old_logp, ref_logp, adv, mask, clip_eps, clip_eps_high, beta, kl_estimator=kl_k3):
    """DAPO (Yu et al. 2025, arXiv:2503.14476, eq. 8): token-level mean over the batch, clip-higher.

        L = (1 / sum_i |o_i|) sum_i sum_t l_it        (eps_low = clip_eps, eps_high = clip_eps_high)
    Every token weighs the same, so length cannot hide in the normaliser.
    # DEVIATION: no dynamic sampling, no overlong shaping (see the module docstring).
    """
    # BEGIN SOLUTION losses: per-token losses (clip-higher), averaged over every completion token of the batch
    tok, clip_frac, kl = _token_losses(logp, old_logp, ref_logp, adv, mask, clip_eps, clip_eps_high, beta,
                                     kl_estimator)
    return LossParts(masked_mean(tok, mask), clip_frac, kl)
    # END SOLUTION


def reinforce_loss(logp, old_logp, ref_logp, adv, mask, clip_eps, clip_eps_high, beta, kl_estimator=kl_k3):
    """REINFORCE with a baseline (Williams 1992): the plain score-function gradient.

        L = -(1/N) sum_i A_i sum_t logp_it  (+ beta * mean KL estimate)     no ratio, no clip
    """
    pg = -(adv[:, None] * logp * mask).sum(axis=1).mean()
    penalty = masked_mean(kl_estimator(logp, ref_logp), mask)
    return LossParts(pg + beta * penalty, jnp.zeros(()), masked_mean(kl_k3(logp, ref_logp), mask))


class Variant(NamedTuple):
    advantages: Callable   # rewards [B, G] -> A [B, G]
    loss: Callable


LOSSES = {
    "grpo": Variant(lambda r: group_advantages(r, True), grpo_loss),
    "dr_grpo": Variant(lambda r: group_advantages(r, False), dr_grpo_loss),
    "dapo": Variant(lambda r: group_advantages(r, True), dapo_loss),
    "reinforce": Variant(batch_mean_baseline, reinforce_loss),
}
