"""Assignment 2, the KV-cache sampler (`pytest -m sampler`): sample_logits, decode_step and
completion_mask in minireason/sampling.py.

decode_step is tested with a fake model that reports what it was called with (token, position, mask,
cache index), so this assignment does not rest on assignment 1; the last test runs the real sampler.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minireason import sampling

pytestmark = pytest.mark.sampler


# ----------------------------------------------------------------------------- temperature and top-k

def frequencies(logits, temperature, top_k=0, rows=20000, seed=0):
    """Share of each token among `rows` draws from the same logits [V]."""
    batch = jnp.broadcast_to(jnp.asarray(logits, jnp.float32), (rows, len(logits)))
    tokens = sampling.sample_logits(jax.random.key(seed), batch, temperature, top_k)
    return np.bincount(np.asarray(tokens), minlength=len(logits)) / rows


@pytest.mark.parametrize("temperature", [1.0, 2.0, 0.5])
def test_draws_follow_the_tempered_softmax(temperature):
    """Logits (0, log 3, -1): at temperature tau the draw follows softmax(logits / tau). 20,000 draws: a
    share's standard error is at most 0.0035, so 0.015 is more than 4 of them."""
    logits = np.array([0.0, np.log(3.0), -1.0])
    want = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
    np.testing.assert_allclose(frequencies(logits, temperature), want, atol=0.015)


def test_top_k_draws_only_among_the_k_best_in_their_proportions():
    logits = np.array([0.0, 2.0, -3.0, 1.0, 1.0 + np.log(2.0)])
    got = frequencies(logits, 1.0, top_k=2)                     # tokens 1 and 4: weights e^2 : 2e
    assert got[[0, 2, 3]].sum() == 0.0
    np.testing.assert_allclose(got[1], np.e ** 2 / (np.e ** 2 + 2 * np.e), atol=0.015)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.3, 1.0, 3.0]))
def test_top_1_is_the_argmax_at_any_temperature(seed, temperature):
    logits = jax.random.normal(jax.random.key(seed), (16, 12))
    tokens = sampling.sample_logits(jax.random.key(seed + 1), logits, temperature, 1)
    np.testing.assert_array_equal(tokens, np.argmax(np.asarray(logits), axis=-1))


def test_the_draw_snapshot(snapshot):
    """The exact tokens of the docstring's inverse-CDF draw (u = uniform(key, (N, 1))) for a fixed key."""
    logits = jax.random.normal(jax.random.key(20), (64, 10)) * 2.0
    snapshot.check("sample_logits", t1=sampling.sample_logits(jax.random.key(21), logits, 1.0, 0),
                   t07_top4=sampling.sample_logits(jax.random.key(22), logits, 0.7, 4))


# ----------------------------------------------------------------------------- the decode step

P, T, V, EOS, PAD = 3, 5, 7, 6, 0


class FakeModel:
    """Stands in for the transformer: logits put all weight on a token named by the call, and the
    'cache' holds, per row, the token written at each position."""

    def __init__(self, next_token):
        self.next_token = next_token                 # [N] int: the token each row draws next
        self.calls = []

    def __call__(self, tokens, positions, mask, cache, index):
        self.calls.append(dict(tokens=np.asarray(tokens), positions=np.asarray(positions), mask=np.asarray(mask),
                               index=int(index)))
        written = jax.lax.dynamic_update_slice_in_dim(cache, tokens, index, axis=1)
        logits = jax.nn.one_hot(self.next_token, V)[:, None, :] * 50.0
        return logits, written


def start_state(done=(False, False, True), t=0):
    n = len(done)
    valid = np.zeros((n, P + T), bool)
    valid[:, 1:P] = True                             # one left pad per prompt
    valid[:, P:P + t] = True
    return sampling.DecodeState(jnp.int32(t), jax.random.key(3), jax.nn.one_hot(jnp.array([2, EOS, 4]), V) * 50.0,
                                jnp.full((n, P + T), -1, jnp.int32), jnp.asarray(valid), jnp.asarray(done),
                                jnp.full((n, T), PAD, jnp.int32))


def step(model, s, width=P + T):
    return sampling.decode_step(model, s, width=width, prompt_len=P, temperature=1.0, top_k=0, pad_id=PAD,
                                eos_id=EOS)


def test_decode_step_writes_the_drawn_token_and_runs_the_model_on_it():
    model = FakeModel(jnp.array([1, 1, 1]))
    s = step(model, start_state(t=2))
    call = model.calls[0]
    np.testing.assert_array_equal(call["tokens"][:, 0], [2, EOS, PAD])      # row 2 had ended: it writes pad
    np.testing.assert_array_equal(call["positions"], np.full((3, 1), P + 2))
    assert call["index"] == P + 2
    np.testing.assert_array_equal(np.asarray(s.tokens)[:, 2], [2, EOS, PAD])
    assert int(s.t) == 3
    np.testing.assert_array_equal(s.done, [False, True, True])             # row 1 wrote eos
    np.testing.assert_array_equal(np.asarray(s.cache)[:, P + 2], [2, EOS, PAD])
    np.testing.assert_array_equal(np.argmax(np.asarray(s.logits), -1), [1, 1, 1])   # the model's new logits


def test_decode_step_mask_sees_real_keys_up_to_and_including_itself():
    model = FakeModel(jnp.array([1, 1, 1]))
    s = step(model, start_state(t=2))
    want = np.zeros(P + T, bool)
    want[1:P + 3] = True                             # the prompt's real keys, tokens 0 and 1, and itself
    for row in range(3):
        np.testing.assert_array_equal(model.calls[0]["mask"][row, 0], want)
    np.testing.assert_array_equal(np.asarray(s.valid)[0], want)


def test_decode_step_mask_is_as_wide_as_the_cache():
    model = FakeModel(jnp.array([1, 1, 1]))
    step(model, start_state(t=0)._replace(cache=jnp.full((3, P + 2), -1, jnp.int32)), width=P + 2)
    assert model.calls[0]["mask"].shape == (3, 1, P + 2)


def test_decode_step_splits_the_key():
    """Each step draws with a fresh subkey and carries a new key: two steps from one state differ from
    a step that reuses the key."""
    model = FakeModel(jnp.array([1, 1, 1]))
    s = start_state()
    s = s._replace(logits=jnp.zeros_like(s.logits))  # uniform logits: the draw is all randomness
    a = step(model, s)
    assert not np.array_equal(jax.random.key_data(a.key), jax.random.key_data(s.key))
    sub = jax.random.split(s.key)[1]
    np.testing.assert_array_equal(np.asarray(a.tokens)[:2, 0],
                                  np.asarray(sampling.sample_logits(sub, s.logits, 1.0, 0))[:2])


# ----------------------------------------------------------------------------- completion masks

def test_completion_mask_by_hand():
    tokens = jnp.array([[5, 6, 5, 6], [6, 5, 5, 5], [5, 5, 5, 5], [5, 6, 6, 6]])
    want = [[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1], [1, 1, 0, 0]]
    np.testing.assert_array_equal(sampling.completion_mask(tokens, 6), np.array(want, bool))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=6, max_size=6), min_size=1, max_size=4))
def test_completion_mask_is_the_prefix_through_the_first_eos(rows):
    got = np.asarray(sampling.completion_mask(jnp.asarray(rows), 3))
    for row, m in zip(rows, got):
        length = row.index(3) + 1 if 3 in row else len(row)
        np.testing.assert_array_equal(m, np.arange(len(row)) < length)


# ----------------------------------------------------------------------------- the whole sampler

def test_the_sampler_with_a_fake_model_writes_a_fixed_completion():
    """make_generate's loops over the fake model's fixed next tokens: rows end at eos, pads after."""
    from minireason.config import ModelConfig

    class Graph:
        pass

    cfg = ModelConfig(d_model=4, n_layers=1, n_heads=1, d_mlp=4)
    plan = jnp.array([[1, 2, EOS, 4, 4], [3, 3, 3, 3, 3]])           # row 0 ends at token 2; row 1 never

    def fake(tokens, positions, mask, cache=None, index=None):
        n, s = tokens.shape
        t = jnp.clip(positions[:, -1] - P + 1, 0, T - 1)            # next completion index
        logits = jax.nn.one_hot(plan[jnp.arange(n), t], V)[:, None, :] * 50.0
        return jnp.broadcast_to(logits, (n, s, V)), cache

    import minireason.sampling as smp
    real_merge = smp.nnx.merge
    smp.nnx.merge = lambda graphdef, params: fake
    try:
        generate = sampling.make_generate(Graph(), cfg, T, PAD, EOS, chunk=2)
        out = generate({}, jax.random.key(0), jnp.array([[PAD, 1, 2], [3, 1, 2]]), 1.0)
    finally:
        smp.nnx.merge = real_merge
    np.testing.assert_array_equal(out.tokens, [[1, 2, EOS, PAD, PAD], [3, 3, 3, 3, 3]])
    np.testing.assert_array_equal(out.mask, [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    np.testing.assert_array_equal(out.finished, [True, False])
