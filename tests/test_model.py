"""The transformer: KV-cache decoding equals the full pass, causality by gradient, packing, rotary.

Everything runs on a tiny model (D=32, 2 layers, 2 heads, V=20). Run eagerly, every op of the model
compiles on its own and this file would take a minute; so the model calls go through a few jitted
functions, and nearly every batch has the one shape [N, L] = [3, 12], so they compile once.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from minireason import model as model_lib
from minireason.config import ModelConfig

pytestmark = pytest.mark.usefixtures("fast_compiles")     # conftest.py: compile time dominates here

CFG = ModelConfig(d_model=32, n_layers=2, n_heads=2, d_mlp=64)
V = 20        # vocabulary
PAD = 0
N, L = 3, 12

forward = jax.jit(model_lib.forward, static_argnums=0)     # (graphdef, params, tokens, positions, mask)
rope = jax.jit(model_lib.rope, static_argnums=2)            # (x, positions, base)


@pytest.fixture(scope="module")
def tiny():
    """(graphdef, params) of a freshly initialised tiny model."""
    return model_lib.init(CFG, V, seed=0)


def arange_positions():
    return jnp.broadcast_to(jnp.arange(L), (N, L))


def left_padded_batch(key, pads):
    """Random real tokens (ids 1..V-1) with pads[n] pad tokens on the left of row n: (tokens, valid) [N, L]."""
    tokens = jax.random.randint(key, (N, L), 1, V)
    valid = jnp.arange(L)[None, :] >= jnp.asarray(pads)[:, None]            # [N, L]
    return jnp.where(valid, tokens, PAD), valid


# ----------------------------------------------------------------------------- KV cache

def test_kv_cache_decoding_equals_full_forward(tiny):
    """Prefill P tokens into an empty cache, then decode one token at a time, exactly as sampling.py does."""
    graphdef, params = tiny
    tokens, valid = left_padded_batch(jax.random.key(1), pads=[0, 3, 1])
    p = 5
    positions = arange_positions()
    full = forward(graphdef, params, tokens, positions, model_lib.causal_mask(valid))     # [N, L, V]

    @jax.jit
    def call(params, tokens, positions, mask, cache, index):
        return nnx.merge(graphdef, params)(tokens, positions, mask, cache, index)

    causal = jnp.tril(jnp.ones((L, L), bool))
    cache = model_lib.empty_cache(CFG, N, L)
    mask = causal[None, :p, :] & valid[:, None, :]                          # [N, P, L]
    logits, cache = call(params, tokens[:, :p], positions[:, :p], mask, cache, 0)
    pieces = [logits]
    for pos in range(p, L):
        mask = causal[None, pos][:, None, :] & valid[:, None, :]            # [N, 1, L]
        logits, cache = call(params, tokens[:, pos][:, None], positions[:, pos][:, None], mask, cache, pos)
        pieces.append(logits)
    cached = jnp.concatenate(pieces, axis=1)                                # [N, L, V]

    assert cached.shape == full.shape == (N, L, V)
    real = np.asarray(valid)            # a pad query sees no key at all; its logits are meaningless
    np.testing.assert_allclose(np.asarray(cached)[real], np.asarray(full)[real], atol=1e-5)


def test_pad_tokens_change_nothing(tiny):
    """Whatever id sits under a masked pad position, the logits of real positions are bit-identical."""
    graphdef, params = tiny
    tokens, valid = left_padded_batch(jax.random.key(2), pads=[0, 4, 2])
    positions, mask = arange_positions(), model_lib.causal_mask(valid)
    other = jnp.where(valid, tokens, 7)                                      # pads replaced by id 7
    real = np.asarray(valid)
    a = np.asarray(forward(graphdef, params, tokens, positions, mask))
    b = np.asarray(forward(graphdef, params, other, positions, mask))
    np.testing.assert_array_equal(a[real], b[real])


# ----------------------------------------------------------------------------- causality

def logits_from_embeddings(graphdef, params, x, positions, mask):
    """Transformer.__call__ from the embedding output on: x [N, L, D] -> logits [N, L, V]
    (the model keeps its residual stream flat, [N*L, D], as here)."""
    model = nnx.merge(graphdef, params)
    n, length, d = x.shape
    x = x.reshape(n * length, d)
    for block in model.blocks:
        x, _ = block(x, positions, model_lib.attention_bias(mask))
    return model.head(model.norm(x)).reshape(n, length, -1)


def test_causality_by_gradient(tiny):
    """d logits[n, t] / d x[m, s] is exactly 0 for s > t or m != n, and nonzero for s <= t, m = n."""
    graphdef, params = tiny
    t = 4
    tokens = jax.random.randint(jax.random.key(3), (N, L), 1, V)
    positions = arange_positions()
    mask = model_lib.causal_mask(jnp.ones((N, L), bool))
    x = nnx.merge(graphdef, params).embed(tokens)                            # [N, L, D]
    of_x = jax.jit(lambda x: logits_from_embeddings(graphdef, params, x, positions, mask))
    # The helper must compute what the model computes, or the test proves nothing about the model.
    np.testing.assert_allclose(of_x(x), forward(graphdef, params, tokens, positions, mask), atol=1e-5)

    jac = jax.jit(jax.jacrev(lambda x: of_x(x)[:, t]))(x)                   # [N, V, N, L, D]
    size = np.abs(np.asarray(jac)).sum(axis=(1, 4))                          # [N out, N in, L in]
    for row in range(N):
        assert np.all(size[row, row, t + 1:] == 0.0), "logits at t depend on a later position"
        assert np.all(size[row, row, :t + 1] > 0.0), "logits at t ignore an earlier position"
        others = [m for m in range(N) if m != row]
        assert np.all(size[row, others] == 0.0), "rows of a batch see each other"


def test_future_tokens_leave_past_logits_unchanged(tiny):
    graphdef, params = tiny
    t = 5
    tokens = jax.random.randint(jax.random.key(4), (N, L), 1, V)
    changed = tokens.at[:, t + 1:].set(tokens[:, t + 1:] % (V - 1) + 1)       # every later id differs
    positions = arange_positions()
    mask = model_lib.causal_mask(jnp.ones((N, L), bool))
    a = np.asarray(forward(graphdef, params, tokens, positions, mask))
    b = np.asarray(forward(graphdef, params, changed, positions, mask))
    np.testing.assert_array_equal(a[:, :t + 1], b[:, :t + 1])
    assert np.abs(a[:, t + 1:] - b[:, t + 1:]).max() > 1e-3      # the change did reach the future


# ----------------------------------------------------------------------------- masks and packing

def test_causal_mask_by_hand():
    valid = jnp.array([[False, True, True]])
    want = np.array([[[0, 0, 0],      # a pad query sees nothing
                      [0, 1, 0],      # and no query sees the pad key
                      [0, 1, 1]]], bool)
    np.testing.assert_array_equal(model_lib.causal_mask(valid), want)


def test_packed_mask_by_hand():
    segments = jnp.array([[1, 1, 1, 2, 2, 0]])
    want = np.array([[[1, 0, 0, 0, 0, 0],
                      [1, 1, 0, 0, 0, 0],
                      [1, 1, 1, 0, 0, 0],
                      [0, 0, 0, 1, 0, 0],      # segment 2 starts afresh: it never sees segment 1
                      [0, 0, 0, 1, 1, 0],
                      [0, 0, 0, 0, 0, 0]]], bool)   # padding attends to nothing and is never attended to
    np.testing.assert_array_equal(model_lib.packed_mask(segments), want)


@pytest.mark.parametrize("restart", [True, False], ids=["positions-restart", "positions-continue"])
def test_packed_row_equals_each_example_alone(tiny, restart):
    """Two examples packed in one row give the logits each gives alone at positions 0, 1, ... .

    corpus.pack restarts positions at each example; rotary attention sees only distances, so positions
    that keep counting across the row (restart=False) must give the same logits too. One batch:
    row 0 = [a b pad], rows 1 and 2 = a and b alone (right padding is invisible to a causal query).
    """
    graphdef, params = tiny
    a, b = [3, 9, 4, 11], [7, 2, 15, 8, 1]

    def pad(xs):
        return xs + [PAD] * (L - len(xs))

    tokens = jnp.array([pad(a + b), pad(a), pad(b)])                                    # [3, 12]
    segments = jnp.array([pad([1] * 4 + [2] * 5), pad([1] * 4), pad([1] * 5)])
    packed_positions = list(range(4)) + list(range(5)) if restart else list(range(9))
    positions = jnp.array([pad(packed_positions), list(range(L)), list(range(L))])
    logits = np.asarray(forward(graphdef, params, tokens, positions, model_lib.packed_mask(segments)))

    np.testing.assert_allclose(logits[0, :4], logits[1, :4], atol=1e-5)
    np.testing.assert_allclose(logits[0, 4:9], logits[2, :5], atol=1e-5)
    # Control: a plain causal mask over the packed row lets b see a, and b's logits change.
    leaky = np.asarray(forward(graphdef, params, tokens, positions,
                               model_lib.causal_mask(jnp.ones((N, L), bool))))
    assert np.abs(leaky[0, 4:9] - logits[2, :5]).max() > 1e-3


# ----------------------------------------------------------------------------- rotary positions

def test_rope_by_hand():
    """Dh = 2: the single pair (x1, x2) is rotated by angle pos * base^0 = pos radians."""
    x = jnp.array([1.0, 0.0]).reshape(1, 1, 1, 2)
    got = rope(jnp.tile(x, (1, 3, 1, 1)), jnp.array([[0, 1, 2]]), 10000.0)   # [1, 3, 1, 2]
    want = [[np.cos(p), np.sin(p)] for p in [0, 1, 2]]
    np.testing.assert_allclose(got[0, :, 0], want, atol=1e-6)


def test_rope_dot_product_depends_only_on_distance():
    rng = np.random.default_rng(5)
    q, k = rng.standard_normal((2, 1, 1, 1, 16)).astype(np.float32)      # each [N=1, S=1, H=1, Dh=16]

    def score(q_pos, k_pos):
        rq = np.asarray(rope(q, jnp.array([[q_pos]]), 10000.0))
        rk = np.asarray(rope(k, jnp.array([[k_pos]]), 10000.0))
        return float(np.sum(rq * rk))

    base = score(5, 2)                                   # distance 3
    for offset in [7, 40]:
        assert score(5 + offset, 2 + offset) == pytest.approx(base, abs=1e-4)
    assert abs(score(6, 2) - base) > 1e-3                # a different distance gives a different score
    # a rotation keeps every vector's norm
    np.testing.assert_allclose(np.linalg.norm(rope(q, jnp.array([[9]]), 10000.0)), np.linalg.norm(q), rtol=1e-5)
