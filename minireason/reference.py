"""The textbook versions of the model's forward pass and of the sampler; read these first.

`forward_3d` and `generate_simple` compute what `model.forward` and `sampling.make_generate` compute,
written the plain way; tests/test_reference.py checks that the fast versions equal them (logits to
float tolerance, greedy tokens exactly). Both use the model's own parameters (`nnx.merge`), its RMSNorm
and rotary embedding, and its cache layout (per layer a (k, v) pair of [N, H, L, Dh]).

Dimensions: N rows, S query positions in a call, K key positions, D width, H heads, Dh = D / H,
V vocabulary; for the sampler P prompt width, T completion width, L = P + T.

What the fast versions change, and where (why in their docstrings, timings in docs/performance.md):

- model.py, Transformer: the residual stream is flat, [N*S, D], so every dense layer is one 2-D matmul;
- model.py, Attention: softmax's division comes after the weighted sum (it divides [S, Dh], not [S, K]);
- sampling.py, make_generate: the cache grows CHUNK tokens at a time, one while_loop per chunk, not width L;
- sampling.py, make_generate: the loops stop once every row has ended, where this one always runs T steps;
- sampling.py, sample_logits: inverse-CDF draws, one uniform per row, instead of `jax.random.categorical`;
- sampling.py, make_generate: temperature is traced (one compile for all), so greedy is temperature ~1e-6.

The fast sampler also has top-k, and splits its key per token where this one folds in the step, so for
one key the two samplers' draws differ; at temperature 0 (~1e-6 there) their tokens are the same.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from minireason.model import NEG_INF, rope
from minireason.sampling import Rollout, completion_mask


def attention(attn, x, positions, mask, cache=None, index=0):
    """softmax(q k^T / sqrt(Dh) + bias) v over heads, with the weights of a model.Attention `attn`.

    x [N, S, D], positions [N, S], mask [N, S, K] bool. With a cache (k, v), each [N, H, L, Dh], this
    call's keys and values are written at [index, index + S) and the queries attend to all L of them.
    Returns (y [N, S, D], (k, v)).
    """
    # BEGIN WITHHELD transformer: it is the textbook answer to model.attention
    n, s, d = x.shape
    h = attn.n_heads
    q, k, v = jnp.split(attn.qkv(x), 3, axis=-1)                              # each [N, S, D]
    q, k, v = (t.reshape(n, s, h, d // h) for t in (q, k, v))                 # each [N, S, H, Dh]
    q, k = rope(q, positions, attn.rope_base), rope(k, positions, attn.rope_base)
    q, k, v = (t.transpose(0, 2, 1, 3) for t in (q, k, v))                    # each [N, H, S, Dh]
    if cache is not None:
        k = jax.lax.dynamic_update_slice_in_dim(cache[0], k, index, axis=2)   # [N, H, L, Dh]
        v = jax.lax.dynamic_update_slice_in_dim(cache[1], v, index, axis=2)
    bias = jnp.where(mask, 0.0, NEG_INF)[:, None]                             # [N, 1, S, K]
    scores = q @ k.transpose(0, 1, 3, 2) / jnp.sqrt(d // h) + bias            # [N, H, S, K]
    y = jax.nn.softmax(scores, axis=-1) @ v                                   # [N, H, S, Dh]
    y = y.transpose(0, 2, 1, 3).reshape(n, s, d)                              # [N, S, D]
    return attn.out(y), (k, v)
    # END WITHHELD


def transformer(model, tokens, positions, mask, cache=None, index=0):
    """tokens [N, S] -> (logits [N, S, V], new cache or None), the residual stream x kept [N, S, D]."""
    x = model.embed(tokens)                                                   # [N, S, D]
    new_cache = []
    for i, block in enumerate(model.blocks):
        a, layer_cache = attention(block.attn, block.norm1(x), positions, mask,
                                   None if cache is None else cache[i], index)
        x = x + a                                                             # pre-norm residual blocks
        x = x + block.mlp(block.norm2(x))
        new_cache.append(layer_cache)
    logits = model.head(model.norm(x))                                        # [N, S, V]
    return logits, (tuple(new_cache) if cache is not None else None)


def forward_3d(graphdef, params, tokens, positions, mask):
    """Full-sequence logits [N, S, V], as model.forward: tokens, positions [N, S], mask [N, S, S] bool."""
    logits, _ = transformer(nnx.merge(graphdef, params), tokens, positions, mask)
    return logits


def draw(key, logits, temperature: float):
    """Token ids [N] from logits [N, V]: argmax at temperature 0, else drawn from softmax(logits / temperature)."""
    if temperature == 0:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    return jax.random.categorical(key, logits / temperature, axis=-1).astype(jnp.int32)


def generate_simple(graphdef, params, key, prompts, temperature: float, completion_len: int,
                    pad_id: int, eos_id: int) -> Rollout:
    """Sample `completion_len` tokens after left-padded prompts [N, P]: the same Rollout as make_generate.

    One cache of width L = P + T, a prefill of the prompt, then one decode step per token in a
    `lax.fori_loop`. A row that has written `eos_id` writes `pad_id` from then on. `temperature` is a
    Python float (0: greedy); under jit, make it, like the lengths and ids, a static argument.
    """
    # BEGIN WITHHELD sampler: it is the textbook answer to sampling.decode_step
    model = nnx.merge(graphdef, params)
    n, p = prompts.shape
    length = p + completion_len
    h = model.blocks[0].attn.n_heads
    dh = model.embed.features // h
    cache = tuple((jnp.zeros((n, h, length, dh)), jnp.zeros((n, h, length, dh)))
                  for _ in model.blocks)                                      # per layer (k, v) [N, H, L, Dh]
    valid = jnp.zeros((n, length), bool).at[:, :p].set(prompts != pad_id)     # [N, L] keys that are real tokens
    causal = jnp.tril(jnp.ones((length, length), bool))                       # [L, L] query q sees keys <= q

    # Prefill: the whole prompt in one call, filling the cache at [0, P).
    positions = jnp.broadcast_to(jnp.arange(p), (n, p))                       # [N, P]
    logits, cache = transformer(model, prompts, positions, causal[None, :p] & valid[:, None], cache, 0)

    def step(t, state):
        """Draw completion token t for every row, write it, and run the model on it alone (position P + t)."""
        logits, cache, valid, done, tokens = state
        token = jnp.where(done, pad_id, draw(jax.random.fold_in(key, t), logits, temperature))   # [N]
        pos = p + t
        valid = valid.at[:, pos].set(True)
        mask = causal[pos][None, None, :] & valid[:, None, :]                 # [N, 1, L]
        logits, cache = transformer(model, token[:, None], jnp.full((n, 1), pos), mask, cache, pos)
        return logits[:, 0], cache, valid, done | (token == eos_id), tokens.at[:, t].set(token)

    state = (logits[:, -1],                                     # [N, V] logits for the next token
             cache,                                             # per layer (k, v) [N, H, L, Dh]
             valid,                                             # [N, L] real keys written so far
             jnp.zeros((n,), bool),                             # [N] row has written eos
             jnp.full((n, completion_len), pad_id, jnp.int32))  # [N, T] completion tokens
    _, _, _, done, tokens = jax.lax.fori_loop(0, completion_len, step, state)
    return Rollout(tokens, completion_mask(tokens, eos_id), done)
    # END WITHHELD
