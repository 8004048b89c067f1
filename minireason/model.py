"""A compact decoder-only transformer in Flax NNX: RMSNorm, rotary positions, causal attention, SwiGLU.

Dimensions: N sequences, S query positions in this call, K key positions (S without a cache, the
cache length L with one), D width, H heads, Dh = D / H, F MLP width, V vocabulary.

The module is built once and then used functionally: `nnx.split(model)` gives a static
`graphdef` and a `params` pytree; jitted functions call `nnx.merge(graphdef, params)` inside. The
KV cache is an explicit argument, a tuple with one (k, v) pair of [N, H, L, Dh] arrays per layer,
so the sampler can carry it through `lax.while_loop`.

minireason/reference.py computes the same logits the textbook way (`forward_3d`); read it first. What
this version changes, and why (timings in docs/performance.md):

- the residual stream is flat, x [N*S, D]: XLA's CPU backend then forms weight gradients without transposes;
- attention divides by the softmax's sum after the weighted sum, [.., S, Dh] instead of [.., S, K]: less work.

Masks are explicit too: `mask[n, s, k]` says whether query s may attend to key k. `causal_mask` and
`packed_mask` build them for the two layouts the project uses.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from minireason.config import ModelConfig

NEG_INF = -1e9   # finite, so a fully masked row (a pad query) gives a uniform softmax, not NaN


class RMSNorm(nnx.Module):
    """y = x / sqrt(mean(x^2) + eps) * g   (Zhang & Sennrich 2019, arXiv:1910.07467)."""

    def __init__(self, d: int, eps: float = 1e-6):
        self.scale = nnx.Param(jnp.ones((d,)))
        self.eps = eps

    def __call__(self, x):
        return rms_norm(x, self.scale[...], self.eps)


def rms_norm(x, scale, eps: float):
    """RMSNorm over the last axis: y = x / sqrt(mean(x^2) + eps) * scale   (x [..., D], scale [D])."""
    # BEGIN SOLUTION transformer: divide x by the root of its mean square over the last axis (plus eps), times scale
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * scale
    # END SOLUTION


def rope(x, positions, base: float):
    """Rotary position embedding (Su et al. 2021, arXiv:2104.09864), half-split pairs.

    x [N, S, H, Dh], positions [N, S]. Each pair (x_i, x_{i+Dh/2}) is rotated by angle
    pos * base^(-2i/Dh), so q·k depends only on the distance between positions.
    """
    # BEGIN SOLUTION transformer: rotate each pair (x_i, x_{i+Dh/2}) by the angle pos * base^(-2i/Dh)
    half = x.shape[-1] // 2
    freq = base ** (-jnp.arange(half, dtype=jnp.float32) / half)          # [Dh/2]
    angle = positions[..., None].astype(jnp.float32) * freq                # [N, S, Dh/2]
    cos, sin = jnp.cos(angle)[:, :, None, :], jnp.sin(angle)[:, :, None, :]
    x1, x2 = x[..., :half], x[..., half:]
    return jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
    # END SOLUTION


def attention(q, k, v, bias, cache=None, index=None):
    """Scaled dot-product attention, softmax(q k^T / sqrt(Dh) + bias) v (Vaswani et al. 2017,
    arXiv:1706.03762, eq. 1), with an optional KV cache.

    q, k, v [N, H, S, Dh] (q and k already rotated); bias [N, 1, S, K], 0 where a query may see a key and
    NEG_INF where not. With a cache ((k, v) pair of [N, H, L, Dh]), this call's k and v are first written
    at key positions [index, index + S) and the queries attend over all L cached keys (K = L).
    Returns (y [N, S, H, Dh], (k, v) the keys and values attended over: the updated cache).

    reference.attention normalises the weights before multiplying by v; this one divides after the
    product, [.., S, Dh] instead of [.., S, K]: less work.
    """
    # BEGIN SOLUTION transformer: write k, v into the cache at index, then softmax(q k^T / sqrt(Dh) + bias) v
    if cache is not None:            # write this call's keys/values at [index, index + S)
        k = jax.lax.dynamic_update_slice_in_dim(cache[0], k, index, axis=2)     # [N, H, L, Dh]
        v = jax.lax.dynamic_update_slice_in_dim(cache[1], v, index, axis=2)
    scores = jnp.einsum("nhsd,nhkd->nhsk", q * q.shape[-1] ** -0.5, k) + bias  # [N, H, S, K]
    weights = jnp.exp(scores - jax.lax.stop_gradient(scores.max(axis=-1, keepdims=True)))
    y = jnp.einsum("nhsk,nhkd->nshd", weights, v) / weights.sum(-1).transpose(0, 2, 1)[..., None]
    return y, (k, v)
    # END SOLUTION


class Attention(nnx.Module):
    """Multi-head causal self-attention with rotary positions and an optional KV cache.

    x [N*S, D] (the flat residual stream); positions [N, S], one per row and query (not broadcast:
    its shape is how the layer recovers N and S).
    """
    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        d = cfg.d_model
        self.n_heads, self.rope_base = cfg.n_heads, cfg.rope_base
        self.qkv = nnx.Linear(d, 3 * d, use_bias=False, rngs=rngs)
        self.out = nnx.Linear(d, d, use_bias=False, rngs=rngs)

    def __call__(self, x, positions, bias, cache=None, index=None):
        n, s = positions.shape
        d, h = x.shape[-1], self.n_heads
        q, k, v = jnp.split(self.qkv(x).reshape(n, s, 3 * h, d // h), 3, axis=2)  # each [N, S, H, Dh]
        q, k = rope(q, positions, self.rope_base), rope(k, positions, self.rope_base)
        q, k, v = (t.transpose(0, 2, 1, 3) for t in (q, k, v))                   # each [N, H, S, Dh]
        y, new_cache = attention(q, k, v, bias, cache, index)                     # y [N, S, H, Dh]
        return self.out(y.reshape(n * s, d)), new_cache


class MLP(nnx.Module):
    """SwiGLU (Shazeer 2020, arXiv:2002.05202): W_down(silu(W_gate x) * W_up x)."""

    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        self.gate = nnx.Linear(cfg.d_model, cfg.d_mlp, use_bias=False, rngs=rngs)
        self.up = nnx.Linear(cfg.d_model, cfg.d_mlp, use_bias=False, rngs=rngs)
        self.down = nnx.Linear(cfg.d_mlp, cfg.d_model, use_bias=False, rngs=rngs)

    def __call__(self, x):
        return self.down(jax.nn.silu(self.gate(x)) * self.up(x))


class Block(nnx.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x)); x [N*S, D]."""

    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        self.norm1, self.attn = RMSNorm(cfg.d_model), Attention(cfg, rngs)
        self.norm2, self.mlp = RMSNorm(cfg.d_model), MLP(cfg, rngs)

    def __call__(self, x, positions, bias, cache=None, index=None):
        a, new_cache = self.attn(self.norm1(x), positions, bias, cache, index)
        x = x + a
        return x + self.mlp(self.norm2(x)), new_cache


class Transformer(nnx.Module):
    """tokens [N, S] -> logits [N, S, V] (and the updated KV cache when one is given); inside, x is [N*S, D]."""

    def __init__(self, cfg: ModelConfig, vocab_size: int, rngs: nnx.Rngs):
        self.embed = nnx.Embed(vocab_size, cfg.d_model, rngs=rngs)
        self.blocks = nnx.List([Block(cfg, rngs) for _ in range(cfg.n_layers)])
        self.norm = RMSNorm(cfg.d_model)
        self.head = nnx.Linear(cfg.d_model, vocab_size, use_bias=False, rngs=rngs)

    def __call__(self, tokens, positions, mask, cache=None, index=None):
        n, s = tokens.shape
        x = self.embed(tokens.reshape(n * s))                                     # [N*S, D]
        bias = attention_bias(mask)
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(x, positions, bias, None if cache is None else cache[i], index)
            new_cache.append(layer_cache)
        logits = self.head(self.norm(x)).reshape(n, s, -1)                        # [N, S, V]
        return logits, (tuple(new_cache) if cache is not None else None)


def attention_bias(mask):
    """mask [N, S, K] bool -> additive bias [N, 1, S, K] (broadcast over heads): 0 where a query may see a
    key, NEG_INF where not. Built once per call and shared by every layer."""
    return jnp.where(mask, 0.0, NEG_INF)[:, None]


def init(cfg: ModelConfig, vocab_size: int, seed: int):
    """Build the model and split it: returns (graphdef, params)."""
    return nnx.split(Transformer(cfg, vocab_size, nnx.Rngs(seed)))


def forward(graphdef, params, tokens, positions, mask):
    """Full-sequence logits [N, S, V] (no cache): the pretraining and RL-update path."""
    logits, _ = nnx.merge(graphdef, params)(tokens, positions, mask)
    return logits


def empty_cache(cfg: ModelConfig, n: int, length: int):
    """Zeroed KV cache: one (k, v) pair of [N, H, L, Dh] per layer (heads outside, so that a decode step's
    q.k and weights.v are batched matrix products over (N, H) that read the cache in place)."""
    shape = (n, cfg.n_heads, length, cfg.d_model // cfg.n_heads)
    return tuple((jnp.zeros(shape), jnp.zeros(shape)) for _ in range(cfg.n_layers))


def causal_mask(valid):
    """valid [N, L] (False for pad tokens) -> mask [N, L, L]: key k visible to query q iff k <= q and k is real."""
    # BEGIN SOLUTION transformer: mask[n, q, k] = (k <= q) and valid[n, k]
    length = valid.shape[1]
    causal = jnp.tril(jnp.ones((length, length), bool))
    return causal[None] & valid[:, None, :]
    # END SOLUTION


def packed_mask(segments):
    """segments [N, L] (0 = padding, 1, 2, ... = packed examples) -> mask [N, L, L], causal within a segment."""
    length = segments.shape[1]
    causal = jnp.tril(jnp.ones((length, length), bool))
    same = segments[:, :, None] == segments[:, None, :]
    return causal[None] & same & (segments[:, None, :] > 0)


def count_params(params) -> int:
    """Number of scalar parameters."""
    return sum(x.size for x in jax.tree_util.tree_leaves(params))
