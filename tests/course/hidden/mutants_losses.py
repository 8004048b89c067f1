"""The mutation matrix of assignment 3 (losses): plausible wrong versions of each graded function,
one mistake each (the other assignments: mutants_<name>.py beside this file).

`python -m minireason.course mutants` swaps each one in alone (in a scratch copy of the tree) and runs
its assignment's public tests (`pytest -x -m A tests/course`, hidden tests left out): every mutant must
make them fail, and the reference must pass. This file quotes the solutions, so it is a hidden file:
the student tree leaves it out.

Mutant(function, name, old, new): in the region of `function` ("path:qualified name"), the text `old`
(which occurs there exactly once) becomes `new`.
"""
M = Mutant  # noqa: F821  (given by the loader, minireason.course.load_mutants)

LOSSES = "minireason/losses.py"
RL = "minireason/rl.py"

MUTANTS = [
    # ---- assignment 3: losses
    M(f"{RL}:token_logprobs", "logits aligned with the token itself (off by one)",
      "logits[:, prompt_len - 1:]", "logits[:, prompt_len:]"),
    M(f"{RL}:token_logprobs", "temperature ignored", "logits[:, prompt_len - 1:] / temperature",
      "logits[:, prompt_len - 1:]"),
    M(f"{RL}:token_logprobs", "temperature applied after the log-softmax",
      "jax.nn.log_softmax(logits[:, prompt_len - 1:] / temperature, axis=-1)",
      "jax.nn.log_softmax(logits[:, prompt_len - 1:], axis=-1) / temperature"),
    M(f"{RL}:token_logprobs", "entropy with the wrong sign", "entropy = -(jnp.exp", "entropy = (jnp.exp"),
    M(f"{LOSSES}:group_advantages", "std with ddof=1", "rewards.std(axis=1, keepdims=True)",
      "rewards.std(axis=1, keepdims=True, ddof=1)"),
    M(f"{LOSSES}:group_advantages", "the batch mean instead of the group mean", "rewards.mean(axis=1, keepdims=True)",
      "rewards.mean()"),
    M(f"{LOSSES}:group_advantages", "no eps (zero-variance groups divide by 0)",
      "(rewards.std(axis=1, keepdims=True) + eps)", "rewards.std(axis=1, keepdims=True)"),
    M(f"{LOSSES}:group_advantages", "scale_by_std read the wrong way round", "if not scale_by_std:",
      "if scale_by_std:"),
    M(f"{LOSSES}:clipped_objective", "max for min", "-jnp.minimum(unclipped, clipped)",
      "-jnp.maximum(unclipped, clipped)"),
    M(f"{LOSSES}:clipped_objective", "the objective's sign (a gain, not a loss)", "return -jnp.minimum(",
      "return jnp.minimum("),
    M(f"{LOSSES}:clipped_objective", "a symmetric clip (eps_high ignored)", "1.0 + eps_high", "1.0 + eps_low"),
    M(f"{LOSSES}:clipped_objective", "the ratio inverted", "jnp.exp(logp - old_logp)", "jnp.exp(old_logp - logp)"),
    M(f"{LOSSES}:clipped_objective", "clipped flag the wrong way round", "clipped < unclipped", "clipped > unclipped"),
    M(f"{LOSSES}:kl_k3", "delta the wrong way round (k3 of the other KL)", "delta = ref_logp - logp",
      "delta = logp - ref_logp"),
    M(f"{LOSSES}:kl_k3", "the -1 dropped", "jnp.exp(delta) - delta - 1.0", "jnp.exp(delta) - delta"),
    M(f"{LOSSES}:kl_k3", "+ delta for - delta", "jnp.exp(delta) - delta - 1.0", "jnp.exp(delta) + delta - 1.0"),
    M(f"{LOSSES}:masked_mean", "divided by every entry, pads included", "jnp.maximum(mask.sum(), 1.0)", "mask.size"),
    M(f"{LOSSES}:masked_mean", "the mask dropped from the sum", "(x * mask).sum()", "x.sum()"),
    M(f"{LOSSES}:masked_mean", "no guard for an all-pad mask (0/0)", "jnp.maximum(mask.sum(), 1.0)", "mask.sum()"),
    M(f"{LOSSES}:grpo_loss", "each completion divided by T, not its length",
      "/ jnp.maximum(mask.sum(axis=1), 1.0)", "/ mask.shape[1]"),
    M(f"{LOSSES}:grpo_loss", "clip-higher in GRPO", "clip_eps, clip_eps, beta", "clip_eps, clip_eps_high, beta"),
    M(f"{LOSSES}:grpo_loss", "summed over completions, not averaged", "per_seq.mean()", "per_seq.sum()"),
    M(f"{LOSSES}:grpo_loss", "pad tokens summed in", "(tok * mask).sum(axis=1)", "tok.sum(axis=1)"),
    M(f"{LOSSES}:dr_grpo_loss", "divided by the token count (that is DAPO)", "/ mask.size", "/ mask.sum()"),
    M(f"{LOSSES}:dr_grpo_loss", "pad tokens summed in", "(tok * mask).sum()", "tok.sum()"),
    M(f"{LOSSES}:dr_grpo_loss", "clip-higher in Dr. GRPO", "clip_eps, clip_eps, beta", "clip_eps, clip_eps_high, beta"),
    M(f"{LOSSES}:dapo_loss", "no clip-higher", "clip_eps, clip_eps_high, beta", "clip_eps, clip_eps, beta"),
    M(f"{LOSSES}:dapo_loss", "mean over every entry, pads included", "masked_mean(tok, mask)", "tok.mean()"),
    M(f"{LOSSES}:dapo_loss", "divided by N * T (that is Dr. GRPO)", "masked_mean(tok, mask)",
      "(tok * mask).sum() / mask.size"),
]
