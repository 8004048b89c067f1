"""The mutation matrix of assignment 1 (the transformer); the format is that of mutants_losses.py."""
M = Mutant  # noqa: F821  (given by the loader, minireason.course.load_mutants)

MODEL = "minireason/model.py"

MUTANTS = [
    M(f"{MODEL}:rms_norm", "no eps (a zero row divides by 0)", "keepdims=True) + eps)", "keepdims=True))"),
    M(f"{MODEL}:rms_norm", "sum of squares, not their mean", "jnp.mean(x * x", "jnp.sum(x * x"),
    M(f"{MODEL}:rms_norm", "normalised over the wrong axis", "axis=-1, keepdims=True", "axis=0, keepdims=True"),
    M(f"{MODEL}:rms_norm", "the scale forgotten", "+ eps) * scale", "+ eps)"),
    M(f"{MODEL}:rope", "the rotation's sine with the wrong sign", "x1 * cos - x2 * sin, x1 * sin + x2 * cos",
      "x1 * cos + x2 * sin, -x1 * sin + x2 * cos"),
    M(f"{MODEL}:rope", "frequencies that grow instead of fall", "base ** (-jnp.arange", "base ** (jnp.arange"),
    M(f"{MODEL}:rope", "interleaved pairs (x_2i, x_2i+1) instead of halves", "x[..., :half], x[..., half:]",
      "x[..., 0::2], x[..., 1::2]"),
    M(f"{MODEL}:rope", "positions off by one", "positions[..., None].astype", "(positions[..., None] + 1).astype"),
    M(f"{MODEL}:attention", "no 1/sqrt(Dh) scaling", "q * q.shape[-1] ** -0.5", "q"),
    M(f"{MODEL}:attention", "the cache written one slot late", "cache[0], k, index, axis=2",
      "cache[0], k, index + 1, axis=2"),
    M(f"{MODEL}:attention", "the mask's bias forgotten", "k) + bias", "k)"),
    M(f"{MODEL}:attention", "the cache written with a Python slice (no traced index)",
      "k = jax.lax.dynamic_update_slice_in_dim(cache[0], k, index, axis=2)",
      "k = cache[0].at[:, :, index:index + k.shape[2]].set(k)"),
    M(f"{MODEL}:attention", "values written into the key cache", "cache[1], v, index", "cache[0], v, index"),
    M(f"{MODEL}:attention", "softmax normalised over the queries", "weights.sum(-1).transpose(0, 2, 1)[..., None]",
      "weights.sum(-2).transpose(0, 2, 1)[..., None]"),
    M(f"{MODEL}:causal_mask", "upper triangle: queries see the future", "jnp.tril(", "jnp.triu("),
    M(f"{MODEL}:causal_mask", "padding masked on the query axis", "valid[:, None, :]", "valid[:, :, None]"),
    M(f"{MODEL}:causal_mask", "a query cannot see itself", "jnp.tril(jnp.ones((length, length), bool))",
      "jnp.tril(jnp.ones((length, length), bool), -1)"),
]
