"""The sampler: prefill then decode with the KV cache, over a fixed batch and length, in compiled loops.

Dimensions: N rows (B prompts x G completions), P prompt width, T completion width, L = P + T, V vocab.

Layout of every sequence, shared with pretraining and the RL update:

    [ pad ... pad  prompt tokens ][ completion tokens ... </answer>  pad ... pad ]
      <------------ P ----------->  <------------------- T ------------------->

Prompts are left-padded to P, so every completion starts at position P. Rotary positions only see
distances, so the pads (masked out of attention) change nothing. Decoding is a `lax.while_loop` that
stops once every row has written `</answer>` (or after T tokens): no Python runs per token and the
shapes never change, so it compiles exactly once.

Why the cache grows in chunks. A decode step's attention reads the whole cache, and on a CPU that
read, not arithmetic, is most of the step. So the T completion tokens are decoded in chunks of
`chunk` tokens, one `while_loop` per chunk, and chunk c's cache holds only the P + (c+1)*chunk
positions it can need. A few static shapes (T / chunk of them, unrolled at trace time), still no
Python per token and one compilation; the cache is padded once at each chunk boundary. Rows that
finish early make the later loops exit at once.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from minireason import model as model_lib

CHUNK = 32   # completion tokens per cache size (see the module docstring)


class Rollout(NamedTuple):
    """What the sampler returns for N rows."""
    tokens: jax.Array     # [N, T] int32 completion tokens, pad after the end
    mask: jax.Array       # [N, T] bool, True on completion tokens up to and including </answer>
    finished: jax.Array   # [N] bool, False when the row hit the length limit (truncated)


def sample_logits(key, logits, temperature, top_k: int):
    """Draw one token per row from softmax(logits / temperature), optionally among the top_k only.

    Inverse-CDF sampling: with c_i = sum_{j<=i} exp(z_j - max z) and u ~ U[0, 1), the token is the
    first i with c_i > u * c_V, i.e. #{i : c_i <= u * c_V}. One uniform number per row (the Gumbel-max
    trick needs V of them, and drawing those was 8% of a decode step on the CPU). A token of
    probability 0 adds nothing to c, so it can never be chosen.
    """
    logits = logits / temperature
    if top_k > 0:
        kth = jax.lax.top_k(logits, top_k)[0][:, -1:]                  # [N, 1]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    cdf = jnp.cumsum(jnp.exp(logits - logits.max(axis=-1, keepdims=True)), axis=-1)   # [N, V]
    u = jax.random.uniform(key, (logits.shape[0], 1))
    return (cdf <= u * cdf[:, -1:]).sum(axis=-1).astype(jnp.int32)


def grow_cache(cache, length: int):
    """Pad every layer's (k, v) [N, H, K, Dh] with zeros to K = length along the key axis."""
    def pad(x):
        return jnp.pad(x, ((0, 0), (0, 0), (0, length - x.shape[2]), (0, 0)))
    return tuple((pad(k), pad(v)) for k, v in cache)


def make_generate(graphdef, model_cfg, completion_len: int, pad_id: int, eos_id: int, top_k: int = 0,
                  chunk: int = CHUNK):
    """Build the jitted `generate(params, key, prompts, temperature) -> Rollout`."""

    def generate(params, key, prompts, temperature):
        model = nnx.merge(graphdef, params)
        n, p = prompts.shape
        valid = jnp.zeros((n, p + completion_len), bool).at[:, :p].set(prompts != pad_id)   # [N, L] real keys

        # Prefill: run the whole prompt once, filling the cache at [0, P).
        keys = p + min(chunk, completion_len)                                   # chunk 0's cache length
        cache = model_lib.empty_cache(model_cfg, n, keys)
        causal = jnp.arange(keys)[None, :] <= jnp.arange(p)[:, None]            # [P, K]
        positions = jnp.broadcast_to(jnp.arange(p), (n, p))
        logits, cache = model(prompts, positions, causal[None] & valid[:, None, :keys], cache, 0)

        def body(state, keys):
            t, key, last, cache, valid, done, tokens = state
            key, sub = jax.random.split(key)
            token = jnp.where(done, pad_id, sample_logits(sub, last, temperature, top_k))   # [N]
            tokens = tokens.at[:, t].set(token)
            done = done | (token == eos_id)
            pos = p + t
            valid = valid.at[:, pos].set(True)
            mask = (jnp.arange(keys) <= pos)[None, None, :] & valid[:, None, :keys]   # [N, 1, K]
            logits, cache = model(token[:, None], jnp.full((n, 1), pos), mask, cache, pos)
            return t + 1, key, logits[:, 0], cache, valid, done, tokens

        tokens = jnp.full((n, completion_len), pad_id, jnp.int32)                # [N, T]
        state = (jnp.int32(0), key, logits[:, -1], cache, valid, jnp.zeros((n,), bool), tokens)
        for start in range(0, completion_len, chunk):       # a few cache sizes, unrolled: not a loop per token
            stop = min(start + chunk, completion_len)
            state = state[:3] + (grow_cache(state[3], p + stop),) + state[4:]
            state = jax.lax.while_loop(lambda s, stop=stop: (s[0] < stop) & ~jnp.all(s[5]),
                                       lambda s, keys=p + stop: body(s, keys), state)
        done, tokens = state[5], state[6]
        return Rollout(tokens, completion_mask(tokens, eos_id), done)

    return jax.jit(generate)


def completion_mask(tokens, eos_id: int):
    """[N, T] bool: True up to and including the first `eos_id` (everything, if there is none)."""
    is_eos = tokens == eos_id
    before_eos = jnp.cumsum(is_eos, axis=1) - is_eos                            # eos seen strictly before
    return before_eos == 0
