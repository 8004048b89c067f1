"""Assignment 1, the transformer (`pytest -m transformer`): rms_norm, rope, attention, causal_mask in
minireason/model.py, then the whole model on random weights (cached decoding must match a full pass).

Snapshots use seeded random inputs with the hard cases in them: a zero row (eps matters), positions
far from 0, a query that may see no key (a pad query: uniform weights, never NaN), a KV cache whose
unwritten slots hold garbage, a write at an index other than 0.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minireason import model as model_lib
from minireason.config import ModelConfig

pytestmark = pytest.mark.transformer


def normal(rng, *shape, scale=1.0):
    return jnp.asarray(rng.normal(0.0, scale, shape), jnp.float32)


# ----------------------------------------------------------------------------- RMSNorm

def test_rms_norm_snapshot(snapshot):
    rng = np.random.default_rng(10)
    x = np.array(normal(rng, 3, 4, 16, scale=3.0))
    x[0, 0] = 0.0                                        # eps keeps a zero row finite
    x[1, 1] *= 1e-3                                      # a tiny row: eps is visible in the result
    y = model_lib.rms_norm(jnp.asarray(x), normal(rng, 16), 1e-6)
    snapshot.check("rms_norm", y=y)


def test_rms_norm_by_hand():
    y = model_lib.rms_norm(jnp.array([[3.0, 4.0]]), jnp.array([1.0, 2.0]), 0.0)   # rms = sqrt(12.5)
    np.testing.assert_allclose(y, [[3 / np.sqrt(12.5), 8 / np.sqrt(12.5)]], rtol=1e-6)
    z = model_lib.rms_norm(jnp.zeros((1, 4)), jnp.ones(4), 1e-6)
    assert np.all(np.asarray(z) == 0.0)


@settings(max_examples=30, deadline=None)
@given(st.floats(1.0, 100.0), st.integers(0, 10_000))
def test_rms_norm_has_unit_rms_and_ignores_the_scale_of_x(c, seed):
    x = normal(np.random.default_rng(seed), 2, 8) + 0.5
    y = model_lib.rms_norm(x, jnp.ones(8), 1e-6)
    np.testing.assert_allclose(np.sqrt(np.mean(np.asarray(y) ** 2, axis=-1)), 1.0, rtol=1e-4)
    np.testing.assert_allclose(model_lib.rms_norm(c * x, jnp.ones(8), 1e-6), y, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- rotary positions

def test_rope_snapshot(snapshot):
    rng = np.random.default_rng(11)
    x = normal(rng, 2, 5, 2, 8)
    positions = jnp.asarray(rng.integers(0, 300, (2, 5)), jnp.int32)
    snapshot.check("rope", y=model_lib.rope(x, positions, 10000.0))


def test_rope_by_hand():
    """Dh = 4: pairs (x0, x2) at frequency 1 and (x1, x3) at base^(-1/2); position 1, base 100 -> angles 1, 0.1."""
    x = jnp.array([[[[1.0, 1.0, 0.0, 0.0]]]])
    y = np.asarray(model_lib.rope(x, jnp.array([[1]]), 100.0))[0, 0, 0]
    np.testing.assert_allclose(y, [np.cos(1.0), np.cos(0.1), np.sin(1.0), np.sin(0.1)], rtol=1e-5)
    np.testing.assert_allclose(model_lib.rope(x, jnp.array([[0]]), 100.0), x)      # position 0: no rotation


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 500), st.integers(0, 500), st.integers(-200, 200), st.integers(0, 10_000))
def test_rope_keeps_norms_and_makes_scores_depend_on_distance_only(m, n, shift, seed):
    rng = np.random.default_rng(seed)
    q, k = normal(rng, 1, 1, 1, 8), normal(rng, 1, 1, 1, 8)

    def score(a, b):
        qa = model_lib.rope(q, jnp.array([[a]]), 10000.0)
        kb = model_lib.rope(k, jnp.array([[b]]), 10000.0)
        return float(jnp.sum(qa * kb))

    np.testing.assert_allclose(jnp.linalg.norm(model_lib.rope(q, jnp.array([[m]]), 10000.0)), jnp.linalg.norm(q),
                               rtol=1e-5)
    if min(m, n) + shift >= 0:
        np.testing.assert_allclose(score(m + shift, n + shift), score(m, n), rtol=1e-3, atol=1e-3)


# ----------------------------------------------------------------------------- attention

def attention_inputs(seed, s, k_len):
    rng = np.random.default_rng(seed)
    q, k, v = normal(rng, 2, 2, s, 8), normal(rng, 2, 2, s, 8), normal(rng, 2, 2, s, 8)
    mask = rng.random((2, s, k_len)) < 0.7
    return rng, q, k, v, mask


def test_attention_snapshot_without_cache(snapshot):
    _, q, k, v, mask = attention_inputs(12, 4, 4)
    mask[:, :, 0] = True
    mask[1, 2] = False                                   # a query that sees no key: uniform, not NaN
    y, (k2, v2) = model_lib.attention(q, k, v, model_lib.attention_bias(jnp.asarray(mask)))
    assert np.all(np.isfinite(np.asarray(y)))
    snapshot.check("attention", y=y, k=k2, v=v2)


def test_attention_snapshot_with_cache(snapshot):
    rng, q, k, v, mask = attention_inputs(13, 2, 7)
    cache = (normal(rng, 2, 2, 7, 8), normal(rng, 2, 2, 7, 8))    # garbage in the slots not written yet
    mask[:, :, 5:] = False                               # written: [0, 5); this call writes [3, 5)
    mask[:, :, 3] = True
    y, (k2, v2) = model_lib.attention(q, k, v, model_lib.attention_bias(jnp.asarray(mask)), cache, 3)
    snapshot.check("attention_cache", y=y, k=k2, v=v2)


def test_attention_writes_the_cache_at_index():
    rng = np.random.default_rng(14)
    q = k = v = normal(rng, 1, 1, 2, 4)
    cache = (jnp.zeros((1, 1, 6, 4)), jnp.full((1, 1, 6, 4), 7.0))
    _, (k2, v2) = model_lib.attention(q, k, v, jnp.zeros((1, 1, 2, 6)), cache, 3)
    np.testing.assert_array_equal(np.asarray(k2)[0, 0, 3:5], np.asarray(k)[0, 0])
    np.testing.assert_array_equal(np.asarray(v2)[0, 0, 3:5], np.asarray(v)[0, 0])
    assert np.all(np.asarray(k2)[0, 0, [0, 1, 2, 5]] == 0.0) and np.all(np.asarray(v2)[0, 0, [0, 1, 2, 5]] == 7.0)


def test_attention_writes_the_cache_under_jit_at_a_traced_index():
    """The sampler calls attention inside compiled loops, where `index` is a traced value: the write must
    work there (a Python slice `cache[..., index:index + S]` cannot take a traced index)."""
    rng = np.random.default_rng(15)
    q = k = v = normal(rng, 1, 2, 1, 4)
    cache = (normal(rng, 1, 2, 6, 4), normal(rng, 1, 2, 6, 4))
    bias = jnp.zeros((1, 1, 1, 6))
    eager = model_lib.attention(q, k, v, bias, cache, 4)
    jitted = jax.jit(model_lib.attention)(q, k, v, bias, cache, jnp.int32(4))
    for a, b in zip(jax.tree_util.tree_leaves(eager), jax.tree_util.tree_leaves(jitted)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(jitted[1][0])[0, :, 4], np.asarray(k)[0, :, 0])


def test_attention_is_the_textbook_formula():
    """softmax(q k^T / sqrt(Dh) + bias) v, written out in numpy; and one visible key returns its value."""
    _, q, k, v, mask = attention_inputs(15, 3, 3)
    mask[:, :, 0] = True
    bias = model_lib.attention_bias(jnp.asarray(mask))
    y, _ = model_lib.attention(q, k, v, bias)
    s = np.einsum("nhsd,nhkd->nhsk", np.asarray(q), np.asarray(k)) / np.sqrt(8) + np.asarray(bias)
    w = np.exp(s - s.max(-1, keepdims=True))
    want = np.einsum("nhsk,nhkd->nshd", w / w.sum(-1, keepdims=True), np.asarray(v))
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    only_first = np.zeros_like(mask)
    only_first[:, :, 0] = True
    y1, _ = model_lib.attention(q, k, v, model_lib.attention_bias(jnp.asarray(only_first)))
    np.testing.assert_allclose(y1, np.broadcast_to(np.asarray(v)[:, :, :1].transpose(0, 2, 1, 3), y1.shape),
                               rtol=1e-6)


# ----------------------------------------------------------------------------- masks

def test_causal_mask_by_hand_and_snapshot(snapshot):
    valid = jnp.array([[False, True, True], [True, True, True]])
    want = np.array([[[0, 0, 0], [0, 1, 0], [0, 1, 1]], [[1, 0, 0], [1, 1, 0], [1, 1, 1]]], bool)
    np.testing.assert_array_equal(model_lib.causal_mask(valid), want)
    rng = np.random.default_rng(16)
    snapshot.check("causal_mask", mask=model_lib.causal_mask(jnp.asarray(rng.random((3, 6)) < 0.7)))


# ----------------------------------------------------------------------------- the whole model

CFG = ModelConfig(d_model=16, n_layers=2, n_heads=2, d_mlp=32)
V = 11


def random_model(seed: int = 17):
    """The transformer with weights drawn by numpy (so the snapshot does not rest on Flax's initialisers)."""
    graphdef, params = model_lib.init(CFG, V, 0)
    rng = np.random.default_rng(seed)
    leaves, tree = jax.tree_util.tree_flatten(params)
    leaves = [jnp.asarray(rng.normal(0.0, 0.3, np.shape(x)) + (1.0 if np.ndim(x) == 1 else 0.0), jnp.float32)
              for x in leaves]                         # norm scales near 1, matrices small
    return graphdef, jax.tree_util.tree_unflatten(tree, leaves)


def test_transformer_logits_snapshot(snapshot):
    graphdef, params = random_model()
    rng = np.random.default_rng(18)
    tokens = jnp.asarray(rng.integers(0, V, (2, 6)), jnp.int32)
    valid = jnp.array([[False, False, True, True, True, True], [True] * 6])       # a left-padded row
    positions = jnp.broadcast_to(jnp.arange(6), (2, 6))
    logits = model_lib.forward(graphdef, params, tokens, positions, model_lib.causal_mask(valid))
    snapshot.check("transformer_logits", logits=np.asarray(logits)[np.asarray(valid)])


def test_cached_decoding_matches_the_full_pass():
    """Prefill 3 tokens into a cache of 6, then feed tokens 3, 4, 5 one at a time: every step's logits
    equal the full forward pass's at that position."""
    from flax import nnx
    graphdef, params = random_model()
    model = nnx.merge(graphdef, params)
    tokens = jnp.asarray(np.random.default_rng(19).integers(0, V, (2, 6)), jnp.int32)
    positions = jnp.broadcast_to(jnp.arange(6), (2, 6))
    full = model_lib.forward(graphdef, params, tokens, positions, model_lib.causal_mask(jnp.ones((2, 6), bool)))
    cache = model_lib.empty_cache(CFG, 2, 6)
    prefill_mask = jnp.broadcast_to(jnp.arange(6)[None, :] <= jnp.arange(3)[:, None], (2, 3, 6))
    logits, cache = model(tokens[:, :3], positions[:, :3], prefill_mask, cache, 0)
    np.testing.assert_allclose(logits, full[:, :3], rtol=1e-4, atol=1e-5)
    for t in range(3, 6):
        step_mask = jnp.broadcast_to(jnp.arange(6) <= t, (2, 1, 6))
        logits, cache = model(tokens[:, t:t + 1], positions[:, t:t + 1], step_mask, cache, t)
        np.testing.assert_allclose(logits[:, 0], full[:, t], rtol=1e-4, atol=1e-5)
