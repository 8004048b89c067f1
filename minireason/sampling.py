"""The sampler: prefill then decode with the KV cache, over a fixed batch and length, in compiled loops.

Dimensions: N rows (B prompts x G completions), P prompt width, T completion width, L = P + T, V vocab.

Layout of every sequence, shared with pretraining and the RL update:

    [ pad ... pad  prompt tokens ][ completion tokens ... </answer>  pad ... pad ]
      <------------ P ----------->  <------------------- T ------------------->

Prompts are left-padded to P, so every completion starts at position P. Rotary positions only see
distances, so the pads (masked out of attention) change nothing. Decoding runs in `lax.while_loop`s
that stop once every row has written `</answer>` (or after T tokens): no Python runs per token, and
the shapes are fixed when the function is traced, so it compiles exactly once.

minireason/reference.py has the textbook sampler (`generate_simple`: one cache of width L, one
`fori_loop`, `jax.random.categorical`); read it first. What this one changes, and why (timings and
history in docs/performance.md):

- the cache grows `chunk` tokens at a time, so a step reads only the keys it can need (much of a CPU step);
- the loops stop once every row has ended, rather than always running T steps;
- `sample_logits` draws by inverse CDF, one uniform per row, where `jax.random.categorical` needs V;
- temperature is traced, so one compile serves every temperature (greedy is a temperature near 0).
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


class DecodeState(NamedTuple):
    """What the decode loops carry from one token to the next."""
    t: jax.Array          # [] int32, completion tokens written so far
    key: jax.Array        # PRNG key, split once per token
    logits: jax.Array     # [N, V] the model's logits for the next token
    cache: tuple          # per layer (k, v), each [N, H, K, Dh], K = this chunk's cache width
    valid: jax.Array      # [N, L] bool, keys written so far that are real (not pads)
    done: jax.Array       # [N] bool, row has written </answer>
    tokens: jax.Array     # [N, T] int32 completion tokens, pad where none was written


def sample_logits(key, logits, temperature, top_k: int):
    """Draw one token per row from softmax(logits / temperature), optionally among the top_k only.

    Inverse-CDF sampling: with weights w_i = exp(z_i - max z), c_i = sum_{j<=i} w_j and u ~ U[0, 1),
    the token is the first i with c_i > u * c_V. Changed from reference.draw (`jax.random.categorical`,
    the Gumbel-max trick): one uniform number per row instead of V, a cheaper draw.
    With top_k the draw runs over the k largest logits only, so a token outside them cannot be drawn
    even where float rounding makes the running sum c wobble by an ulp. (Without top_k, a token whose
    weight underflows to 0, more than 87 nats below the best, can rarely be drawn that way.)
    """
    # BEGIN SOLUTION sampler: scale by 1/temperature, keep the top_k best (if top_k > 0), draw by inverse CDF
    logits = logits / temperature
    candidates = None
    if top_k > 0:
        logits, candidates = jax.lax.top_k(logits, top_k)                       # [N, k] each
    cdf = jnp.cumsum(jnp.exp(logits - logits.max(axis=-1, keepdims=True)), axis=-1)
    u = jax.random.uniform(key, (logits.shape[0], 1))
    choice = jnp.argmax(cdf > u * cdf[:, -1:], axis=-1)                        # first index past u
    if candidates is not None:
        choice = jnp.take_along_axis(candidates, choice[:, None], axis=-1)[:, 0]
    return choice.astype(jnp.int32)
    # END SOLUTION


def decode_step(model, s: DecodeState, *, width: int, prompt_len: int, temperature, top_k: int, pad_id: int,
                eos_id: int) -> DecodeState:
    """One decode step for all N rows: draw token t from s.logits, write it, and run the model on it.

    model(tokens [N, 1], positions [N, 1], mask [N, 1, K], cache, index) -> (logits [N, 1, V], cache) is the
    transformer with its KV cache of width K = `width`. Token t of the completion sits at position
    prompt_len + t: it is written into the cache there, and it may attend to every real key up to and
    including itself. A row that has ended (s.done) writes pad from then on; a row ends when it writes eos.
    """
    # BEGIN SOLUTION sampler: split the key, draw (pad once done), mark the key valid, run the model at position P + t
    key, sub = jax.random.split(s.key)
    token = jnp.where(s.done, pad_id, sample_logits(sub, s.logits, temperature, top_k))   # [N]
    pos = prompt_len + s.t
    valid = s.valid.at[:, pos].set(True)
    mask = (jnp.arange(width) <= pos)[None, None, :] & valid[:, None, :width]    # [N, 1, K]
    n = token.shape[0]
    logits, cache = model(token[:, None], jnp.full((n, 1), pos), mask, s.cache, pos)
    return DecodeState(s.t + 1, key, logits[:, 0], cache, valid, s.done | (token == eos_id),
                       s.tokens.at[:, s.t].set(token))
    # END SOLUTION


def grow_cache(cache, width: int):
    """Pad every layer's (k, v) [N, H, K, Dh] with zeros to K = width along the key axis."""
    def pad(x):
        return jnp.pad(x, ((0, 0), (0, 0), (0, width - x.shape[2]), (0, 0)))
    return tuple((pad(k), pad(v)) for k, v in cache)


def make_generate(graphdef, model_cfg, completion_len: int, pad_id: int, eos_id: int, top_k: int = 0,
                  chunk: int = CHUNK):
    """Build the jitted `generate(params, key, prompts, temperature) -> Rollout`, decoding `chunk`
    tokens per cache width: ceil(T / chunk) `while_loop`s, unrolled at trace time, chunk c's over a cache
    of the P + (c+1)*chunk positions it can need, zero-padded once at each chunk boundary."""
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")

    def generate(params, key, prompts, temperature):
        model = nnx.merge(graphdef, params)
        n, p = prompts.shape
        valid = jnp.zeros((n, p + completion_len), bool).at[:, :p].set(prompts != pad_id)   # [N, L] real keys

        # Prefill: run the whole prompt once, filling the cache at [0, P).
        width = p + min(chunk, completion_len)                                  # chunk 0's cache width
        cache = model_lib.empty_cache(model_cfg, n, width)
        causal = jnp.arange(width)[None, :] <= jnp.arange(p)[:, None]           # [P, K]
        positions = jnp.broadcast_to(jnp.arange(p), (n, p))
        logits, cache = model(prompts, positions, causal[None] & valid[:, None, :width], cache, 0)

        def step(s: DecodeState, width: int) -> DecodeState:
            return decode_step(model, s, width=width, prompt_len=p, temperature=temperature, top_k=top_k,
                               pad_id=pad_id, eos_id=eos_id)

        s = DecodeState(jnp.int32(0), key, logits[:, -1], cache, valid, jnp.zeros((n,), bool),
                        jnp.full((n, completion_len), pad_id, jnp.int32))
        for start in range(0, completion_len, chunk):       # a few cache widths, unrolled: not a loop per token
            stop = min(start + chunk, completion_len)
            s = s._replace(cache=grow_cache(s.cache, p + stop))
            s = jax.lax.while_loop(lambda s, stop=stop: (s.t < stop) & ~jnp.all(s.done),
                                   lambda s, width=p + stop: step(s, width), s)
        return Rollout(s.tokens, completion_mask(s.tokens, eos_id), s.done)

    return jax.jit(generate)


def completion_mask(tokens, eos_id: int):
    """[N, T] bool: True up to and including the first `eos_id` (everything, if there is none)."""
    # BEGIN SOLUTION sampler: True up to and including the first eos of each row
    is_eos = tokens == eos_id
    before_eos = jnp.cumsum(is_eos, axis=1) - is_eos                            # eos seen strictly before
    return before_eos == 0
    # END SOLUTION
