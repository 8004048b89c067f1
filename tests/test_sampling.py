"""The sampler: the completion mask by hand, the token draw, the generate loop, and compile counts.

A tiny model (D=32, 2 layers, 2 heads, V=20) with pad id 0 and eos (`</answer>`) id 5.
"""
import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minireason import model as model_lib
from minireason import rl
from minireason.config import ModelConfig, RLConfig
from minireason.sampling import Rollout, completion_mask, make_generate, sample_logits

pytestmark = pytest.mark.usefixtures("fast_compiles")     # conftest.py: compile time dominates here

CFG = ModelConfig(d_model=32, n_layers=2, n_heads=2, d_mlp=64)
V, PAD, EOS = 20, 0, 5
N, P, T = 24, 4, 10     # rows, prompt width, completion width


@pytest.fixture(scope="module")
def tiny():
    """(graphdef, params) of a freshly initialised tiny model."""
    return model_lib.init(CFG, V, seed=0)


def make_prompts(seed: int) -> jnp.ndarray:
    """[N, P] int32 prompts of real ids 1..V-1, row n left-padded with n % P pads (as encode_prompts does)."""
    rng = np.random.default_rng(seed)
    prompts = rng.integers(1, V, size=(N, P)).astype(np.int32)
    for n in range(N):
        prompts[n, :n % P] = PAD
    return jnp.asarray(prompts)


@contextlib.contextmanager
def count_compiles(fun_name: str):
    """Count the XLA compilations of the jitted function `fun_name` (e.g. "jit(generate)") in the block.

    JAX reports each backend compilation as a monitoring event carrying the function's name; a retrace
    that hits the in-memory cache reports nothing, and one that misses it compiles again.
    """
    compiles = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration" and kwargs.get("fun_name") == fun_name:
            compiles.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield compiles
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


# ----------------------------------------------------------------------------- completion_mask

@pytest.mark.parametrize("row, want", [
    ([1, 5, 0, 0], [1, 1, 0, 0]),        # eos included, pads after it excluded
    ([1, 2, 3, 4], [1, 1, 1, 1]),        # no eos: the whole (truncated) row
    ([5, 1, 2, 3], [1, 0, 0, 0]),        # eos first: only the eos
    ([1, 5, 5, 2], [1, 1, 0, 0]),        # only the first eos counts
])
def test_completion_mask_by_hand(row, want):
    got = completion_mask(jnp.array([row]), EOS)
    np.testing.assert_array_equal(got, np.array([want], bool))


# ----------------------------------------------------------------------------- sample_logits

# Draws for a batch of keys: draw(keys [K], logits [R, V], temperature, top_k) -> [K, R]. Jitted, with one
# logits shape [3, 5] throughout, so each top_k compiles once instead of every op compiling eagerly.
draw = jax.jit(jax.vmap(sample_logits, in_axes=(0, None, None, None)), static_argnums=3)


def keys(seed: int = 0, n: int = 300):
    return jax.random.split(jax.random.key(seed), n)


def test_top_k_1_is_argmax():
    logits = jnp.array([[0.0, 0.1, 0.05, -1.0, 0.0],     # near-ties: only top-k makes these deterministic
                        [2.0, 1.99, 0.0, 0.0, 1.98],
                        [-3.0, -2.0, -2.5, -2.01, -9.0]])
    argmax = np.array([1, 0, 1])
    assert np.all(np.asarray(draw(keys(), logits, 1.0, 1)) == argmax)
    # Control: without top-k the same keys do not always give the argmax.
    assert not np.all(np.asarray(draw(keys(), logits, 1.0, 0)) == argmax)


def test_top_k_2_samples_only_the_two_best():
    logits = jnp.array([[0.0, 3.0, 2.9, -5.0, 2.0],
                        [1.0, 1.0, 0.0, 0.0, 0.5],      # a tie for first place: both kept
                        [0.0, 0.0, 0.0, 4.0, 4.5]])
    draws = np.asarray(draw(keys(), logits, 1.0, 2))                       # [300, 3]
    assert [set(draws[:, r].tolist()) for r in range(3)] == [{1, 2}, {0, 1}, {3, 4}]


def test_top_k_never_draws_outside_the_k_best_at_scale():
    """V = 512, k = 100: no draw outside the k best logits. The first key is one where the earlier
    version (mask to -inf, inverse CDF over all V) drew an excluded token: XLA sums the running total in
    blocks, so it can dip by an ulp at a zero-weight token, and a uniform landing in that ulp picked it."""
    rng = np.random.default_rng(1)
    z = jnp.asarray(rng.standard_normal((2000, 512)).astype(np.float32) * 2)
    kth = np.sort(np.asarray(z), axis=1)[:, -100]                          # [rows] the 100th largest
    drawn = int(sample_logits(jax.random.fold_in(jax.random.key(0), 456789), z[1:2], 1.0, 100)[0])
    assert float(z[1, drawn]) >= kth[1]
    for seed in range(5):
        draws = np.asarray(sample_logits(jax.random.key(seed), z, 1.0, 100))
        assert np.all(np.asarray(z)[np.arange(len(draws)), draws] >= kth)


def test_tiny_temperature_is_argmax():
    logits = jnp.array([[0.0, 1.0, 0.5, -1.0, 0.0],      # top gaps >= 0.5, i.e. >= 50 at T = 0.01
                        [2.0, 0.0, 1.5, 0.0, 0.0],
                        [0.0, 0.0, 0.0, 0.0, 1.0]])
    assert np.all(np.asarray(draw(keys(), logits, 0.01, 0)) == np.array([1, 0, 4]))


def test_temperature_sharpens_by_hand():
    """softmax(log p / tau): p = (0.2, 0.8), tau = 0.5 -> p^2 normalised = (1/17, 16/17)."""
    rows = 20000
    logits = jnp.log(jnp.tile(jnp.array([[0.2, 0.8]]), (rows, 1)))
    draws = np.asarray(sample_logits(jax.random.key(3), logits, 0.5, 0))
    assert draws.mean() == pytest.approx(16 / 17, abs=0.01)          # std of the mean ~ 0.0017
    draws = np.asarray(sample_logits(jax.random.key(4), logits, 1.0, 0))
    assert draws.mean() == pytest.approx(0.8, abs=0.01)


# ----------------------------------------------------------------------------- generate

TEMPERATURES = [1.0, 0.7, 1e-6]     # the last is greedy up to ties closer than ~1e-6 (see the greedy test)


@pytest.fixture(scope="module")
def rollouts(tiny):
    """A fresh jitted generate, called with three keys, prompts and temperatures under a compile counter.

    Returns (generate, calls, rollouts, compilations); shared by the tests below, since every
    compilation of the loop costs seconds.
    """
    graphdef, params = tiny
    generate = make_generate(graphdef, CFG, T, PAD, EOS)
    calls = [(jax.random.key(i), make_prompts(i), temp) for i, temp in enumerate(TEMPERATURES)]
    with count_compiles("jit(generate)") as compiles:
        outs = jax.block_until_ready([generate(params, *call) for call in calls])
    return generate, calls, outs, len(compiles)


def test_generate_compiles_once(rollouts):
    """New keys, new prompts of the same shape and a new temperature reuse the one executable."""
    *_, compilations = rollouts
    assert compilations == 1


def test_compile_counter_counts():
    """The counter itself: one compilation per new input shape, none for a repeated one."""
    @jax.jit
    def double(x):
        return 2 * x

    with count_compiles("jit(double)") as compiles:
        double(jnp.ones(3))
        double(jnp.zeros(3))
        assert len(compiles) == 1
        double(jnp.ones(4))
        assert len(compiles) == 2


def test_rollout_shapes_and_end_of_sequence(rollouts):
    _, _, outs, _ = rollouts
    out = outs[0]
    assert isinstance(out, Rollout)
    assert out.tokens.shape == out.mask.shape == (N, T) and out.finished.shape == (N,)
    assert out.tokens.dtype == jnp.int32 and out.mask.dtype == bool and out.finished.dtype == bool
    tokens, mask, finished = np.asarray(out.tokens), np.asarray(out.mask), np.asarray(out.finished)
    has_eos = (tokens == EOS).any(axis=1)
    # Both kinds of row occur (an untrained model puts ~1/20 of its mass on eos), or this proves little.
    assert has_eos.any() and not has_eos.all()
    np.testing.assert_array_equal(finished, has_eos)
    np.testing.assert_array_equal(mask, np.asarray(completion_mask(out.tokens, EOS)))
    for row in np.flatnonzero(has_eos):
        first = np.argmax(tokens[row] == EOS)
        assert np.all(tokens[row, first + 1:] == PAD), f"row {row}: tokens after </answer> are not pad"


def test_same_key_same_rollout_other_key_other_rollout(tiny, rollouts):
    _, params = tiny
    generate, calls, outs, _ = rollouts
    key, prompts, temperature = calls[0]
    again = generate(params, key, prompts, temperature)
    for x, y in zip(again, outs[0]):
        np.testing.assert_array_equal(x, y)
    other = generate(params, jax.random.key(99), prompts, temperature)
    assert not np.array_equal(other.tokens, outs[0].tokens)


def test_each_step_draws_fresh_randomness(tiny, rollouts):
    """With the head zeroed every logit is 0, so each token is uniform over V whatever came before: a row
    repeats one token only if its draws do (probability 1/V per step), not because a key was reused."""
    _, params = tiny
    generate, calls, _, _ = rollouts
    uniform = jax.tree_util.tree_map_with_path(
        lambda path, x: jnp.zeros_like(x) if "head" in jax.tree_util.keystr(path) else x, params)
    out = generate(uniform, *calls[0])
    tokens, lengths = np.asarray(out.tokens), np.asarray(out.mask).sum(axis=1)
    rows = [tokens[r, :n] for r, n in enumerate(lengths) if n >= 3]
    assert len(rows) >= N // 2
    constant = [row for row in rows if np.all(row == row[0])]
    assert len(constant) <= 1, f"rows repeating one token: {constant}"


def test_greedy_rollout_is_the_full_forward_argmax(tiny, rollouts):
    """At temperature ~0 each sampled token is the argmax of a full (cache-free) forward pass over the
    prompt and the completion so far: the loop's cache, positions and masks are right."""
    graphdef, params = tiny
    _, calls, outs, _ = rollouts
    (_, prompts, _), out = calls[2], outs[2]
    assert greedy_matches_full_forward(graphdef, params, out, prompts) == 1.0


def greedy_matches_full_forward(graphdef, params, out, prompts):
    """Share of completion tokens that are the argmax of a cache-free forward over prompt + completion so far."""
    seq = jnp.concatenate([prompts, out.tokens], axis=1)
    valid = jnp.concatenate([prompts != PAD, out.mask], axis=1)
    positions = jnp.broadcast_to(jnp.arange(seq.shape[1]), seq.shape)
    logits = model_lib.forward(graphdef, params, seq, positions, model_lib.causal_mask(valid))
    greedy = np.asarray(jnp.argmax(logits[:, P - 1:-1], axis=-1))
    mask = np.asarray(out.mask)
    return float((greedy[mask] == np.asarray(out.tokens)[mask]).mean())


def test_growing_cache_across_chunk_boundaries(tiny):
    """With chunks of 3 tokens (T = 10: cache sizes P+3, P+6, P+9, P+10) every greedy token is still the
    full forward's argmax, the rollout is the one-chunk sampler's, and it all compiles once."""
    graphdef, params = tiny
    assert T > 3 * 3, "the test needs at least three chunk boundaries"
    prompts = make_prompts(5)
    chunked = make_generate(graphdef, CFG, T, PAD, eos_id=-1, chunk=3)      # -1: no early stop, all T tokens
    whole = make_generate(graphdef, CFG, T, PAD, eos_id=-1, chunk=T)
    with count_compiles("jit(generate)") as compiles:
        out = chunked(params, jax.random.key(0), prompts, 1e-6)
        jax.block_until_ready(chunked(params, jax.random.key(1), make_prompts(6), 1e-6))
    assert len(compiles) == 1
    assert greedy_matches_full_forward(graphdef, params, out, prompts) == 1.0
    np.testing.assert_array_equal(out.tokens, whole(params, jax.random.key(0), prompts, 1e-6).tokens)
    # Sampling at temperature 1 draws the same uniforms in the same order: the same tokens.
    a = chunked(params, jax.random.key(2), prompts, 1.0).tokens
    b = whole(params, jax.random.key(2), prompts, 1.0).tokens
    # Measured: equal everywhere. The slack allows for a float near-tie resolved differently by another
    # CPU's kernels at a different cache width; a broken cache or mask disagrees on most tokens.
    assert np.mean(np.asarray(a) == np.asarray(b)) > 0.95


def test_rows_ended_in_an_early_chunk_stay_ended(tiny):
    """A row that writes the end token in chunk 0 keeps pads after it through the later chunks."""
    graphdef, params = tiny
    plain = make_generate(graphdef, CFG, T, PAD, eos_id=-1)
    first = np.asarray(plain(params, jax.random.key(0), make_prompts(7), 1e-6).tokens)
    eos = int(first[0, 0])                            # row 0 writes this token first: call it the end token
    assert eos != PAD
    out = make_generate(graphdef, CFG, T, PAD, eos_id=eos, chunk=3)(params, jax.random.key(0), make_prompts(7), 1e-6)
    tokens, mask = np.asarray(out.tokens), np.asarray(out.mask)
    assert tokens[0, 0] == eos and mask[0].sum() == 1 and np.all(tokens[0, 1:] == PAD)
    ended = np.asarray(out.finished)
    for r in np.flatnonzero(ended):                   # every finished row: pads after its end token
        end = int(np.argmax(tokens[r] == eos))
        assert np.all(tokens[r, end + 1:] == PAD)

# ----------------------------------------------------------------------------- the RL update

def test_rl_update_compiles_once(tiny):
    """Three RL updates on different rollouts of the same shape compile the update once."""
    graphdef, base_params = tiny
    cfg = RLConfig(group_size=4, prompts_per_step=2)
    optimizer = rl.make_optimizer(cfg)
    update, _ = rl.make_update(graphdef, optimizer, cfg, PAD)
    params, opt_state = base_params, optimizer.init(base_params)
    rng = np.random.default_rng(0)
    with count_compiles("jit(update)") as compiles:
        for step in range(3):
            tokens = rng.integers(1, V, size=(8, 6)).astype(np.int32)         # [N=B*G, T]
            mask = np.ones((8, 6), np.float32)
            mask[:, 6 - step:] = 0.0                                          # shorter completions each step
            rewards = rng.integers(0, 2, size=8).astype(np.float32)
            batch = rl.Batch(make_prompts(step)[:8], jnp.asarray(tokens), jnp.asarray(mask),
                             jnp.asarray(rl.advantages(cfg, rewards)))
            params, opt_state, stats = update(params, opt_state, base_params, batch, None)
            assert all(np.isfinite(float(v)) for v in stats.values())
        assert len(compiles) == 1


def test_no_python_runs_per_generated_token(tiny, monkeypatch):
    """The model's Python code runs only while tracing: once for the prefill and once per cache size (each
    chunk's loop body is traced once), however many tokens are generated, and never again on later calls."""
    from minireason import model as model_lib
    graphdef, params = tiny
    calls = []
    original = model_lib.Transformer.__call__
    monkeypatch.setattr(model_lib.Transformer, "__call__", lambda *a, **k: calls.append(1) or original(*a, **k))
    generate = make_generate(graphdef, CFG, T, PAD, eos_id=-1, chunk=4)  # -1 never sampled: all T tokens
    jax.block_until_ready(generate(params, jax.random.key(0), make_prompts(0), 1.0))
    assert len(calls) == 1 + 3 and T == 10          # prefill + chunks of 4, 4, 2 tokens
    jax.block_until_ready(generate(params, jax.random.key(1), make_prompts(1), 0.5))
    assert len(calls) == 4
