"""The fast model and sampler equal the textbook versions in minireason/reference.py.

A tiny model (D=16, 2 layers, 2 heads, V=20) with pad id 0. The fast forward pass must give the
reference's logits to float tolerance; the fast sampler at temperature ~0 must write the reference's
greedy tokens exactly, over a completion long enough to cross its cache-chunk boundary.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from minireason import model as model_lib
from minireason import reference
from minireason.config import ModelConfig
from minireason.sampling import CHUNK, make_generate

pytestmark = pytest.mark.usefixtures("fast_compiles")     # conftest.py: compile time dominates here

CFG = ModelConfig(d_model=16, n_layers=2, n_heads=2, d_mlp=32)
V, PAD = 20, 0
N, P, T = 8, 4, 40      # rows, prompt width, completion width: T crosses the fast sampler's first chunk
assert T > CHUNK

forward = jax.jit(model_lib.forward, static_argnums=0)
forward_3d = jax.jit(reference.forward_3d, static_argnums=0)
# (graphdef, params, key, prompts, temperature, completion_len, pad_id, eos_id)
generate_simple = jax.jit(reference.generate_simple, static_argnums=(0, 4, 5, 6, 7))


@pytest.fixture(scope="module")
def tiny():
    """(graphdef, params) of a freshly initialised tiny model, as model_lib.init(CFG, V, seed=0) returns
    them; the params are built by one compiled call, which is quicker than compiling each op eagerly."""
    graphdef = nnx.graphdef(nnx.eval_shape(lambda: model_lib.Transformer(CFG, V, nnx.Rngs(0))))
    return graphdef, jax.jit(lambda: model_lib.init(CFG, V, seed=0)[1])()


def make_prompts(seed: int) -> jnp.ndarray:
    """[N, P] int32 prompts of real ids 1..V-1, row r left-padded with r % P pads."""
    rng = np.random.default_rng(seed)
    prompts = rng.integers(1, V, size=(N, P)).astype(np.int32)
    for r in range(N):
        prompts[r, :r % P] = PAD
    return jnp.asarray(prompts)


def full_greedy(graphdef, params, prompts, out):
    """[N, T] argmax of a cache-free reference forward over the prompt and the completion so far."""
    seq = jnp.concatenate([prompts, out.tokens], axis=1)                     # [N, L]
    valid = jnp.concatenate([prompts != PAD, out.mask], axis=1)
    positions = jnp.broadcast_to(jnp.arange(seq.shape[1]), seq.shape)
    logits = forward_3d(graphdef, params, seq, positions, model_lib.causal_mask(valid))
    return np.asarray(jnp.argmax(logits[:, P - 1:-1], axis=-1))


def test_fast_forward_equals_forward_3d(tiny):
    """Left-padded rows under a causal mask: the flat-stream, late-normalised model gives the textbook logits."""
    graphdef, params = tiny
    length = 12
    tokens = jax.random.randint(jax.random.key(1), (3, length), 1, V)
    valid = jnp.arange(length)[None, :] >= jnp.array([0, 3, 5])[:, None]    # [3, L], pads on the left
    tokens = jnp.where(valid, tokens, PAD)
    positions = jnp.broadcast_to(jnp.arange(length), (3, length))
    mask = model_lib.causal_mask(valid)
    fast = np.asarray(forward(graphdef, params, tokens, positions, mask))
    plain = np.asarray(forward_3d(graphdef, params, tokens, positions, mask))
    real = np.asarray(valid)            # a pad query sees no key at all; its logits are meaningless
    assert np.abs(plain[real]).max() > 0.1                                  # not a trivial zero model
    np.testing.assert_allclose(fast[real], plain[real], atol=1e-5)
    # Control: another mask (packing splits row 0 in two) changes the logits of both versions alike.
    segments = jnp.array([[1] * 6 + [2] * 6, [1] * length, [1] * length])
    packed = model_lib.packed_mask(segments)
    plain_packed = np.asarray(forward_3d(graphdef, params, tokens, positions, packed))
    np.testing.assert_allclose(forward(graphdef, params, tokens, positions, packed), plain_packed, atol=1e-5)
    assert np.abs(plain_packed[0, 6:] - plain[0, 6:]).max() > 1e-3


@pytest.fixture(scope="module")
def no_end(tiny):
    """The reference's greedy rollout of all T tokens (end id -1, never written): (prompts, rollout)."""
    graphdef, params = tiny
    prompts = make_prompts(0)
    return prompts, generate_simple(graphdef, params, jax.random.key(0), prompts, 0.0, T, PAD, -1)


def end_token(tokens) -> int:
    """An id that some rows of tokens [N, T] write and others never do; of those, the one whose first
    appearance in some row is latest (so that row ends as late as possible, past the chunk boundary if any)."""
    tokens = np.asarray(tokens)
    latest = {}
    for i in range(1, V):
        seen = (tokens == i).any(axis=1)                                    # [N]
        if seen.any() and not seen.all():
            latest[i] = max(int(np.argmax(row == i)) for row in tokens[seen])
    return max(latest, key=latest.get)


def test_reference_greedy_is_the_full_forward_argmax(tiny, no_end):
    """The reference's own check: its cached decode writes the argmax of its cache-free forward."""
    graphdef, params = tiny
    prompts, plain = no_end
    assert np.asarray(plain.mask).all() and not np.asarray(plain.finished).any()
    np.testing.assert_array_equal(full_greedy(graphdef, params, prompts, plain), plain.tokens)


def test_fast_greedy_rollout_equals_the_reference(tiny, no_end):
    """Tokens, mask and finished agree exactly, with an end token that some rows write and others never do:
    those others run all T = 40 tokens, across the fast sampler's chunk boundary at CHUNK = 32."""
    graphdef, params = tiny
    prompts, plain_no_end = no_end
    eos = end_token(plain_no_end.tokens)
    fast = make_generate(graphdef, CFG, T, PAD, eos_id=eos)(params, jax.random.key(0), prompts, 1e-6)
    plain = generate_simple(graphdef, params, jax.random.key(0), prompts, 0.0, T, PAD, eos)
    finished = np.asarray(plain.finished)
    assert finished.any() and not finished.all(), "the test needs both ended and truncated rows"
    for x, y in zip(fast, plain):            # tokens, mask, finished
        np.testing.assert_array_equal(x, y)
    tokens, mask = np.asarray(plain.tokens), np.asarray(plain.mask)
    np.testing.assert_array_equal(tokens[~finished], np.asarray(plain_no_end.tokens)[~finished])
    for r in np.flatnonzero(finished):       # pads after the end token, which the mask includes
        end = int(np.argmax(tokens[r] == eos))
        assert np.all(tokens[r, end + 1:] == PAD) and mask[r].sum() == end + 1


@pytest.mark.parametrize("temperature, want", [
    (1.0, [0.1, 0.2, 0.3, 0.4]),
    (0.5, [1 / 30, 4 / 30, 9 / 30, 16 / 30]),       # softmax(log p / 0.5) = p^2 normalised
])
def test_reference_draws_follow_the_softmax(temperature, want):
    """8000 draws from the logits log p: frequencies within 0.02 of softmax(log p / temperature)
    (the std of each frequency is at most 0.0056)."""
    rows = 8000
    logits = jnp.log(jnp.tile(jnp.array([[0.1, 0.2, 0.3, 0.4]]), (rows, 1)))     # [rows, 4]
    draws = np.asarray(reference.draw(jax.random.key(3), logits, temperature))
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / rows, want, atol=0.02)


def test_reference_draw_at_temperature_0_is_the_argmax():
    logits = jnp.array([[0.0, 1.0, 0.5], [2.0, 0.0, 1.999], [-1.0, -3.0, -0.5]])
    np.testing.assert_array_equal(reference.draw(jax.random.key(0), logits, 0.0), [1, 0, 2])
