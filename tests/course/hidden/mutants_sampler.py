"""The mutation matrix of assignment 2 (the sampler); the format is that of mutants_losses.py."""
M = Mutant  # noqa: F821  (given by the loader, minireason.course.load_mutants)

SAMPLING = "minireason/sampling.py"

MUTANTS = [
    M(f"{SAMPLING}:sample_logits", "temperature ignored", "logits = logits / temperature", "logits = logits"),
    M(f"{SAMPLING}:sample_logits", "multiplied by the temperature", "logits = logits / temperature",
      "logits = logits * temperature"),
    M(f"{SAMPLING}:sample_logits", "top-k positions returned, not their token ids",
      "choice = jnp.take_along_axis(candidates, choice[:, None], axis=-1)[:, 0]", "choice = choice"),
    M(f"{SAMPLING}:sample_logits", "u not scaled by the total weight", "cdf > u * cdf[:, -1:]", "cdf > u"),
    M(f"{SAMPLING}:sample_logits", "argmax of the weights (greedy), no draw",
      "jnp.argmax(cdf > u * cdf[:, -1:], axis=-1)", "jnp.argmax(logits, axis=-1)"),
    M(f"{SAMPLING}:decode_step", "position off by one", "pos = prompt_len + s.t", "pos = prompt_len + s.t + 1"),
    M(f"{SAMPLING}:decode_step", "ended rows keep drawing", "jnp.where(s.done, pad_id, sample_logits(sub, s.logits, "
      "temperature, top_k))", "sample_logits(sub, s.logits, temperature, top_k)"),
    M(f"{SAMPLING}:decode_step", "the new token cannot see itself", "jnp.arange(width) <= pos",
      "jnp.arange(width) < pos"),
    M(f"{SAMPLING}:decode_step", "rows never end", "s.done | (token == eos_id)", "s.done"),
    M(f"{SAMPLING}:decode_step", "the key reused, never split", "key, sub = jax.random.split(s.key)",
      "key, sub = s.key, s.key"),
    M(f"{SAMPLING}:decode_step", "the new key not marked valid", "valid = s.valid.at[:, pos].set(True)",
      "valid = s.valid"),
    M(f"{SAMPLING}:completion_mask", "eos itself left out", "jnp.cumsum(is_eos, axis=1) - is_eos",
      "jnp.cumsum(is_eos, axis=1)"),
    M(f"{SAMPLING}:completion_mask", "kept up to the second eos", "return before_eos == 0", "return before_eos <= 1"),
    M(f"{SAMPLING}:completion_mask", "cumsum over the batch axis", "jnp.cumsum(is_eos, axis=1)",
      "jnp.cumsum(is_eos, axis=0)"),
]
