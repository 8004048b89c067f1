"""The sampler: one compiled loop, prefill then decode with the KV cache, over a fixed batch and length.

Dimensions: N rows (B prompts x G completions), P prompt width, T completion width, L = P + T, V vocab.

Layout of every sequence, shared with pretraining and the RL update:

    [ pad ... pad  prompt tokens ][ completion tokens ... </answer>  pad ... pad ]
      <------------ P ----------->  <------------------- T ------------------->

Prompts are left-padded to P, so every completion starts at position P. Rotary positions only see
distances, so the pads (masked out of attention) change nothing. The loop is a `lax.while_loop`
that stops once every row has written `</answer>` (or after T tokens): no Python runs per token and
the shapes never change, so it compiles exactly once.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from minireason import model as model_lib


class Rollout(NamedTuple):
    """What the sampler returns for N rows."""
    tokens: jax.Array     # [N, T] int32 completion tokens, pad after the end
    mask: jax.Array       # [N, T] bool, True on completion tokens up to and including </answer>
    finished: jax.Array   # [N] bool, False when the row hit the length limit (truncated)


def sample_logits(key, logits, temperature, top_k: int):
    """Draw one token per row from softmax(logits / temperature), optionally among the top_k only."""
    logits = logits / temperature
    if top_k > 0:
        kth = jax.lax.top_k(logits, top_k)[0][:, -1:]                  # [N, 1]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)


def make_generate(graphdef, model_cfg, completion_len: int, pad_id: int, eos_id: int, top_k: int = 0):
    """Build the jitted `generate(params, key, prompts, temperature) -> Rollout`."""

    def generate(params, key, prompts, temperature):
        model = nnx.merge(graphdef, params)
        n, p = prompts.shape
        length = p + completion_len
        valid = jnp.zeros((n, length), bool).at[:, :p].set(prompts != pad_id)   # [N, L] real keys
        causal = jnp.tril(jnp.ones((length, length), bool))                      # [L, L]
        positions = jnp.broadcast_to(jnp.arange(length), (n, length))            # [N, L]

        # Prefill: run the whole prompt once, filling the cache at [0, P).
        cache = model_lib.empty_cache(model_cfg, n, length)
        mask = causal[None, :p, :] & valid[:, None, :]                           # [N, P, L]
        logits, cache = model(prompts, positions[:, :p], mask, cache, 0)
        last = logits[:, -1]                                                     # [N, V]

        def cond(state):
            t, _, _, _, _, done, _ = state
            return (t < completion_len) & ~jnp.all(done)

        def body(state):
            t, key, last, cache, valid, done, tokens = state
            key, sub = jax.random.split(key)
            token = jnp.where(done, pad_id, sample_logits(sub, last, temperature, top_k))   # [N]
            tokens = tokens.at[:, t].set(token)
            done = done | (token == eos_id)
            pos = p + t
            valid = valid.at[:, pos].set(True)
            mask = causal[None, pos][:, None, :] & valid[:, None, :]             # [N, 1, L]
            logits, cache = model(token[:, None], positions[:, pos][:, None], mask, cache, pos)
            return t + 1, key, logits[:, 0], cache, valid, done, tokens

        tokens = jnp.full((n, completion_len), pad_id, jnp.int32)                # [N, T]
        done = jnp.zeros((n,), bool)
        state = (jnp.int32(0), key, last, cache, valid, done, tokens)
        _, _, _, _, _, done, tokens = jax.lax.while_loop(cond, body, state)
        mask = completion_mask(tokens, eos_id)
        return Rollout(tokens, mask, done)

    return jax.jit(generate)


def completion_mask(tokens, eos_id: int):
    """[N, T] bool: True up to and including the first `eos_id` (everything, if there is none)."""
    is_eos = tokens == eos_id
    before_eos = jnp.cumsum(is_eos, axis=1) - is_eos                            # eos seen strictly before
    return before_eos == 0
