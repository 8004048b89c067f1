"""The RL step, by hand: sample G completions per prompt, verify, group-relative advantages, update.

`rl_step` is one whole step, numbered as in the README:
    1. pick B training prompts (difficulties from the curriculum) and repeat each G times   `prompt_batch`
    2. sample N = B*G completions with the jitted KV-cache sampler                          `sampling`
    3. decode and verify them; reward 1 for an exact final answer, else 0                  `metrics.grade`
       (or another reward through the same small interface: `exact_reward`'s, e.g. judge.make_reward)
    4. group-relative advantages A = (r - mean_group) / (std_group + eps)                  `losses`
    5. mu jitted updates: token log-probs, clipped-ratio loss (+ beta * KL), AdamW        `update_on_batch`
    6. the batch's metrics row, and the curriculum's pass rates                             `metrics`
run.py repeats it and does the rest (held-out probes, alarms, logs, checkpoints, progress bar, Ctrl-C).

Why the step is Python around jitted functions (generate, update, token log-probs):
the verifier reads strings, so rewards, data and logging stay on the host; everything per token runs
inside compiled code with fixed shapes.

Dimensions: B prompts, G group size, N = B*G, P prompt width, T completion width, V vocab.
"""
from __future__ import annotations

import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from minireason import metrics, sharding
from minireason import model as model_lib
from minireason.config import DataConfig, RLConfig
from minireason.corpus import prompt_text
from minireason.losses import KL_ESTIMATORS, LOSSES, kl_k3, masked_mean
from minireason.tasks import sample_problem


class Batch(NamedTuple):
    """One RL update's inputs: N = B*G sampled completions with their advantages."""
    prompts: jax.Array    # [N, P] int32, left-padded
    tokens: jax.Array     # [N, T] int32 sampled completions
    mask: jax.Array       # [N, T] float32 completion mask
    adv: jax.Array        # [N] float32 advantages


# ----------------------------------------------------------------------------- curriculum

class Curriculum:
    """Keeps training prompts near the edge of competence, per family and difficulty.

    It tracks an exponential moving average of the pass rate p of each (family, difficulty) and
    samples difficulties with weight max(p * (1 - p), floor): the variance of a 0/1 reward, which is
    largest at p = 0.5 and is what gives group-relative advantages a signal. The floor keeps every
    difficulty in play, so RL never narrows to one band (narrowing hurt the other bands in early prototypes).
    """

    def __init__(self, families, difficulties, enabled: bool, floor: float = 0.05, decay: float = 0.8):
        self.enabled, self.floor, self.decay = enabled, floor, decay
        self.difficulties = list(difficulties)
        self.pass_rate = {f"{f}/{d}": 0.5 for f in families for d in difficulties}

    def weights(self, family: str) -> np.ndarray:
        """Sampling probabilities of the difficulties for one family."""
        # BEGIN SOLUTION rl: uniform when disabled; else max(p (1 - p), floor) per difficulty, normalised
        if not self.enabled:
            return np.ones(len(self.difficulties)) / len(self.difficulties)
        p = np.array([self.pass_rate[f"{family}/{d}"] for d in self.difficulties])
        w = np.maximum(p * (1 - p), self.floor)
        return w / w.sum()
        # END SOLUTION

    def update(self, problems, rewards) -> None:
        """Fold one batch's rewards into the moving pass rates."""
        # BEGIN SOLUTION rl: per cell: pass_rate = decay * pass_rate + (1 - decay) * the batch's mean reward
        seen: dict = {}
        for prob, r in zip(problems, rewards):
            seen.setdefault(f"{prob['family']}/{prob['difficulty']}", []).append(r)
        for k, rs in seen.items():
            self.pass_rate[k] = self.decay * self.pass_rate[k] + (1 - self.decay) * float(np.mean(rs))
        # END SOLUTION

    def state(self) -> dict:
        """The pass rates, for the checkpoint."""
        return dict(self.pass_rate)

    def load(self, state: dict) -> None:
        """Restore pass rates saved by state()."""
        self.pass_rate.update(state)


def rl_families(data: DataConfig, families: tuple[str, ...] = ()) -> tuple[tuple[str, ...], np.ndarray]:
    """The families RL trains on (`rl.families`, or all of data.families when empty) and their shares,
    data.family_weights renormalised over them."""
    families = tuple(families) or data.families
    weights = np.asarray([data.family_weights[data.families.index(f)] for f in families], float)
    return families, weights / weights.sum()


def prompt_batch(rng: np.random.Generator, data: DataConfig, curriculum: Curriculum, n_prompts: int,
                 group_size: int, families: tuple[str, ...] = ()) -> list[dict]:
    """B training problems, each repeated G times in a row: rows [i*G, (i+1)*G) share problem i."""
    families, fam_p = rl_families(data, families)
    problems = []
    for _ in range(n_prompts):
        family = families[rng.choice(len(fam_p), p=fam_p)]
        difficulty = curriculum.difficulties[rng.choice(len(curriculum.difficulties), p=curriculum.weights(family))]
        problems.append(sample_problem(rng, family, int(difficulty), False, data.heldout_percent))
    return [p for p in problems for _ in range(group_size)]


def check_groups(problems: list[dict], group_size: int) -> None:
    """Group integrity: every block of G consecutive rows holds G completions of one prompt (advantages are
    computed per block; a group that mixed prompts would compare answers to different questions)."""
    if len(problems) % group_size:
        raise ValueError(f"{len(problems)} rows do not split into groups of {group_size}")
    for i in range(0, len(problems), group_size):
        if any(p != problems[i] for p in problems[i:i + group_size]):
            raise ValueError(f"group {i // group_size} mixes prompts")


# ----------------------------------------------------------------------------- the jitted update

def make_token_logp(graphdef, pad_id: int, temperature: float = 1.0):
    """(params, prompts [N,P], tokens [N,T], mask [N,T]) -> (logp [N,T], entropy [N,T]).

    The log-probs are those of the policy that sampled: softmax(logits / temperature).
    """

    def token_logp(params, prompts, tokens, mask):
        seq = jnp.concatenate([prompts, tokens], axis=1)[:, :-1]                   # [N, L-1] inputs
        valid = jnp.concatenate([prompts != pad_id, mask > 0], axis=1)[:, :-1]
        positions = jnp.broadcast_to(jnp.arange(seq.shape[1]), seq.shape)
        logits = model_lib.forward(graphdef, params, seq, positions, model_lib.causal_mask(valid))
        return token_logprobs(logits, tokens, prompts.shape[1], temperature)

    return token_logp


def token_logprobs(logits, tokens, prompt_len: int, temperature: float):
    """Log-probs and entropies of the completion tokens under softmax(logits / temperature).

    logits [N, L-1, V] are the model's outputs on the sequence [prompt ; completion] without its last
    token, so logits[:, i] predicts token i + 1: completion token t (at position P + t) is predicted by
    logits[:, P - 1 + t]. tokens [N, T]. Returns (logp [N, T], entropy [N, T]), both of the tempered
    distribution, the one the sampler drew from.
    """
    # BEGIN SOLUTION losses: align logits[:, P-1+t] with tokens[:, t], log-softmax at the temperature, gather
    logp_all = jax.nn.log_softmax(logits[:, prompt_len - 1:] / temperature, axis=-1)     # [N, T, V]
    logp = jnp.take_along_axis(logp_all, tokens[..., None], axis=-1)[..., 0]          # [N, T]
    entropy = -(jnp.exp(logp_all) * logp_all).sum(-1)                                 # [N, T]
    return logp, entropy
    # END SOLUTION


def make_optimizer(cfg: RLConfig):
    """AdamW at a constant learning rate after global-norm clipping."""
    return optax.chain(optax.clip_by_global_norm(cfg.grad_clip),
                       optax.adamw(cfg.lr, b1=0.9, b2=0.99, weight_decay=cfg.weight_decay))


def make_update(graphdef, optimizer, cfg: RLConfig, pad_id: int):
    """The jitted update: (params, opt_state, ref_params, batch, old_logp|None, ref_logp|None)
    -> (params, opt_state, stats).

    With old_logp None (mu = 1, fully on-policy) the ratio is exp(logp - stop_gradient(logp)) = 1,
    whose gradient is the plain policy gradient; clipping then never triggers.
    At beta = 0 the KL term weighs nothing, so the reference's forward pass is skipped (a quarter of
    the update's compute) and stats hold no "kl"; `make_kl` measures it apart when it is wanted.
    At beta > 0 the reference's log-probs are ref_logp when given (`update_on_batch` computes them once
    per batch), else computed here from ref_params. The loss's KL term uses cfg.kl (KL_ESTIMATORS);
    stats["kl"] is always the mean k3, the estimate of KL(pi_theta || pi_ref).
    Also returns the jitted token_logp (for old_logp and ref_logp).
    """
    token_logp = make_token_logp(graphdef, pad_id, cfg.temperature)
    loss_fn, kl_estimator = LOSSES[cfg.loss].loss, KL_ESTIMATORS[cfg.kl]

    def objective(params, ref_logp, batch, old_logp):
        logp, entropy = token_logp(params, batch.prompts, batch.tokens, batch.mask)
        old = jax.lax.stop_gradient(logp) if old_logp is None else old_logp
        ref = jax.lax.stop_gradient(logp) if ref_logp is None else ref_logp       # beta = 0: KL term is 0
        parts = loss_fn(logp, old, ref, batch.adv, batch.mask, cfg.clip_eps, cfg.clip_eps_high, cfg.beta,
                        kl_estimator)
        return parts.loss, (parts, masked_mean(jax.lax.stop_gradient(entropy), batch.mask))

    @jax.jit
    def update(params, opt_state, ref_params, batch, old_logp=None, ref_logp=None):
        if cfg.beta == 0:
            ref_logp = None
        elif ref_logp is None:
            ref_logp = jax.lax.stop_gradient(token_logp(ref_params, batch.prompts, batch.tokens, batch.mask)[0])
        (loss, (parts, entropy)), grads = jax.value_and_grad(objective, has_aux=True)(
            params, ref_logp, batch, old_logp)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        stats = {"loss": loss, "clip_fraction": parts.clip_fraction, "entropy": entropy,
                 "grad_norm": optax.tree.norm(grads)}
        if cfg.beta > 0:
            stats["kl"] = parts.kl
        return params, opt_state, stats

    return update, jax.jit(token_logp)


def update_on_batch(update, token_logp, cfg: RLConfig, params, opt_state, ref_params, batch: Batch):
    """mu = cfg.updates_per_batch updates on one batch of rollouts -> (params, opt_state, stats).

    old_logp (mu > 1: the sampling policy's) and ref_logp (beta > 0) are computed once, before the
    first step, and held fixed, so step k's ratio is pi_theta_k / pi_old (PPO, arXiv:1707.06347, sec. 5).
    stats: the mean over the mu steps of each one's loss, clip_fraction, entropy, grad_norm (and kl).
    """
    # BEGIN SOLUTION rl: old_logp (mu > 1) and ref_logp (beta > 0) once, then mu updates; stats = their mean
    old_logp = ref_logp = None                     # mu = 1: the ratio is 1 (see make_update)
    if cfg.updates_per_batch > 1:
        old_logp = token_logp(params, batch.prompts, batch.tokens, batch.mask)[0]
    if cfg.beta > 0:                               # the reference never changes: once per batch
        ref_logp = token_logp(ref_params, batch.prompts, batch.tokens, batch.mask)[0]
    steps = []
    for _ in range(cfg.updates_per_batch):
        params, opt_state, stats = update(params, opt_state, ref_params, batch, old_logp, ref_logp)
        steps.append(stats)
    return params, opt_state, {k: jnp.mean(jnp.stack([s[k] for s in steps])) for k in steps[0]}
    # END SOLUTION


def make_kl(graphdef, pad_id: int, temperature: float = 1.0):
    """Jitted (params, ref_params, batch) -> mean k3 KL(pi_theta || pi_ref) over the batch's completion tokens."""
    token_logp = make_token_logp(graphdef, pad_id, temperature)

    @jax.jit
    def kl(params, ref_params, batch):
        logp = token_logp(params, batch.prompts, batch.tokens, batch.mask)[0]
        ref_logp = token_logp(ref_params, batch.prompts, batch.tokens, batch.mask)[0]
        return masked_mean(kl_k3(logp, ref_logp), batch.mask)

    return kl


def advantages(cfg: RLConfig, rewards: np.ndarray) -> np.ndarray:
    """Rewards [N] (groups contiguous) -> advantages [N] with the configured variant's estimator."""
    r = jnp.asarray(rewards, jnp.float32).reshape(-1, cfg.group_size)              # [B, G]
    return np.asarray(LOSSES[cfg.loss].advantages(r)).reshape(-1)


# ----------------------------------------------------------------------------- one RL step

class Reward(NamedTuple):
    """What a reward function returns for N graded completions."""
    rewards: np.ndarray   # [N] the rewards the advantages are computed from
    solved: np.ndarray    # [N] 0/1: what the trainer counts as solved (the curriculum's pass rates)
    stats: dict           # extra metrics for the step's row


def exact_reward(problems: list[dict], graded: list) -> Reward:
    """The reward interface: (problems, graded completions) -> Reward. This one is the verifier's: 1 for
    a verified correct final answer. A learned judge plugs in here instead (judge.make_reward), or a
    scoring rule of the stated confidence (calibration.make_reward); the row keeps the verifier's
    `reward` beside theirs."""
    r = np.array([g.verdict.reward for g in graded], np.float32)
    return Reward(r, r, {})


class StepResult(NamedTuple):
    params: object        # the policy after the update
    opt_state: object
    row: dict             # the batch's metrics (metrics.summarize) and the update's stats
    graded: list          # the N graded completions (metrics.Graded), groups of G contiguous
    batch: Batch          # what the update saw (run.py measures KL to the base model on it)
    rewards: np.ndarray   # [N] the rewards the update used (the verifier's, or a judge's)


def rl_step(step: int, params, opt_state, base_params, *, key, seed: int, data: DataConfig, cfg: RLConfig,
            tokenizer, generate, update, token_logp, curriculum: Curriculum, domain_keys=(),
            reward=exact_reward) -> StepResult:
    """One RL step, steps 1-6 of the module docstring. Randomness is a pure function of (seed, step):
    prompts from a generator seeded with (seed, step), samples with fold_in(key, step)."""
    # 1. prompts: B problems near the edge of competence, each repeated G times
    problems = prompt_batch(np.random.default_rng([seed, 101, step]), data, curriculum, cfg.prompts_per_step,
                            cfg.group_size, cfg.families)
    check_groups(problems, cfg.group_size)
    prompts = tokenizer.encode_prompts([prompt_text(p) for p in problems], data.prompt_len)       # [N, P]
    # 2. sample N = B*G completions in one compiled loop
    t_start = time.time()
    rollout = generate(params, jax.random.fold_in(key, step), sharding.batch(prompts), cfg.temperature)
    tokens, mask = sharding.host(rollout.tokens), sharding.host(rollout.mask)                    # [N, T]
    t_generate = time.time() - t_start
    # 3. verify: reward 1 for an exact final answer (the verifier reads strings: this runs on the host)
    texts = tokenizer.decode_completions(tokens, mask)
    graded = metrics.grade(problems, texts, mask.sum(axis=1), ~sharding.host(rollout.finished))
    rewards, solved, reward_stats = reward(problems, graded)                                      # [N]
    # 4. group-relative advantages
    batch = sharding.batch(Batch(prompts, tokens, mask.astype(np.float32), advantages(cfg, rewards)))  # groups whole
    # 5. the update: mu gradient steps on this batch; stats are their mean
    t_start = time.time()
    params, opt_state, stats = update_on_batch(update, token_logp, cfg, params, opt_state, base_params, batch)
    stats = {k: float(v) for k, v in stats.items()}
    t_update = time.time() - t_start
    # 6. the batch's metrics, and the curriculum's pass rates
    row = {"stage": "rl", "step": step + 1, **metrics.summarize(graded, cfg.group_size),
           "zero_variance_groups": metrics.zero_variance_share(rewards, cfg.group_size),   # of what trained
           **metrics.per_domain(graded, domain_keys), **stats, **reward_stats,
           "time_generate": t_generate, "time_update": t_update,
           "curriculum": curriculum.state() if cfg.curriculum else None}
    curriculum.update(problems, solved)
    return StepResult(params, opt_state, row, graded, batch, rewards)
