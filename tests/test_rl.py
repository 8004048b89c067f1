"""The RL step's pieces: token log-probs and entropy, advantages in groups, the curriculum, prompt groups."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minireason import model as model_lib
from minireason import rl
from minireason.config import DataConfig, ModelConfig, RLConfig

CFG = ModelConfig(d_model=16, n_layers=1, n_heads=2, d_mlp=32)
V = 11


@pytest.fixture(scope="module")
def tiny():
    return model_lib.init(CFG, V, seed=0)


def _batch():
    prompts = jnp.array([[0, 0, 3, 4], [5, 6, 7, 8]], jnp.int32)            # row 0 left-padded
    tokens = jnp.array([[9, 2, 0, 0], [4, 4, 2, 0]], jnp.int32)             # eos = 2, then pads
    mask = jnp.array([[1, 1, 0, 0], [1, 1, 1, 0]], jnp.float32)
    return prompts, tokens, mask


def test_uniform_policy_gives_hand_computed_logp_and_entropy(tiny):
    graphdef, params = tiny
    params = jax.tree_util.tree_map(lambda x: x, params)
    params["head"]["kernel"].set_value(jnp.zeros_like(params["head"]["kernel"][...]))   # logits all 0
    logp, entropy = rl.make_token_logp(graphdef, pad_id=0)(params, *_batch())
    np.testing.assert_allclose(logp, -math.log(V), rtol=1e-6)
    np.testing.assert_allclose(entropy, math.log(V), rtol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_token_logp_aligns_each_completion_token_with_the_logits_before_it(tiny, temperature):
    graphdef, params = tiny
    prompts, tokens, mask = _batch()
    logp, _ = rl.make_token_logp(graphdef, pad_id=0, temperature=temperature)(params, prompts, tokens, mask)
    seq = jnp.concatenate([prompts, tokens], axis=1)
    valid = jnp.concatenate([prompts != 0, mask > 0], axis=1)
    positions = jnp.broadcast_to(jnp.arange(seq.shape[1]), seq.shape)
    logits = model_lib.forward(graphdef, params, seq, positions, model_lib.causal_mask(valid))
    full = jax.nn.log_softmax(logits / temperature, axis=-1)     # the policy that sampled
    for n in range(2):
        for t in range(2):    # completion token t sits at P + t and is predicted at P + t - 1
            assert float(logp[n, t]) == pytest.approx(float(full[n, 4 + t - 1, tokens[n, t]]), abs=1e-5)


def test_pad_tokens_after_eos_change_nothing(tiny):
    graphdef, params = tiny
    prompts, tokens, mask = _batch()
    token_logp = rl.make_token_logp(graphdef, pad_id=0)
    a, _ = token_logp(params, prompts, tokens, mask)
    b, _ = token_logp(params, prompts, tokens.at[0, 3].set(7), mask)
    np.testing.assert_array_equal(np.asarray(a) * np.asarray(mask), np.asarray(b) * np.asarray(mask))


def test_advantages_are_computed_per_group():
    cfg = RLConfig(group_size=2, loss="dr_grpo")
    np.testing.assert_allclose(rl.advantages(cfg, np.array([1, 0, 1, 1], np.float32)), [0.5, -0.5, 0, 0])


def test_curriculum_weights_by_hand():
    c = rl.Curriculum(["sum"], [1, 2, 3], enabled=True, floor=0.05, decay=0.5)
    c.pass_rate = {"sum/1": 1.0, "sum/2": 0.5, "sum/3": 0.0}
    w = np.array([0.05, 0.25, 0.05])
    np.testing.assert_allclose(c.weights("sum"), w / w.sum())
    c.update([{"family": "sum", "difficulty": 2}] * 2, [1.0, 1.0])          # EMA with decay 0.5
    assert c.pass_rate["sum/2"] == pytest.approx(0.75)
    off = rl.Curriculum(["sum"], [1, 2, 3], enabled=False)
    np.testing.assert_allclose(off.weights("sum"), [1 / 3] * 3)


def test_prompt_batch_keeps_groups_intact():
    data = DataConfig()
    c = rl.Curriculum(data.families, data.difficulties, enabled=True)
    problems = rl.prompt_batch(np.random.default_rng(0), data, c, n_prompts=5, group_size=3)
    assert len(problems) == 15
    for i in range(5):
        assert all(p == problems[3 * i] for p in problems[3 * i:3 * i + 3])
    assert problems[0] != problems[3] or problems[3] != problems[6]


def test_rl_families_restrict_the_prompts_and_renormalise_the_weights():
    data = DataConfig(families=("countdown", "sum", "trace"), family_weights=(0.45, 0.3, 0.25))
    families, weights = rl.rl_families(data, ("countdown", "sum"))
    assert families == ("countdown", "sum")
    np.testing.assert_allclose(weights, [0.6, 0.4])
    assert rl.rl_families(data)[0] == data.families                    # empty: every pretrained family
    c = rl.Curriculum(families, data.difficulties, enabled=True)
    problems = rl.prompt_batch(np.random.default_rng(0), data, c, 200, 1, families)
    assert {p["family"] for p in problems} == {"countdown", "sum"}


def test_kl_is_zero_to_itself_and_matches_the_update_with_beta(tiny):
    """make_kl(params, params) = 0; with beta > 0 the update reports the same KL as make_kl (before the
    step); at beta = 0 it reports none (the reference pass is skipped) but still learns."""
    graphdef, params = tiny
    prompts, tokens, mask = _batch()
    batch = rl.Batch(prompts, tokens, mask, jnp.array([1.0, -1.0]))
    kl = rl.make_kl(graphdef, pad_id=0)
    assert float(kl(params, params, batch)) == 0.0
    other = jax.tree.map(lambda x: x * 1.1, params)
    with_beta = RLConfig(group_size=2, beta=0.1)
    update, _ = rl.make_update(graphdef, rl.make_optimizer(with_beta), with_beta, pad_id=0)
    _, _, stats = update(other, rl.make_optimizer(with_beta).init(other), params, batch)
    assert float(stats["kl"]) == pytest.approx(float(kl(other, params, batch)), rel=1e-5) and float(stats["kl"]) > 0
    no_beta = RLConfig(group_size=2, beta=0.0)
    update, _ = rl.make_update(graphdef, rl.make_optimizer(no_beta), no_beta, pad_id=0)
    new, _, stats = update(other, rl.make_optimizer(no_beta).init(other), params, batch)
    assert "kl" not in stats and float(stats["grad_norm"]) > 0
    assert not all(bool(jnp.array_equal(a, b)) for a, b in zip(jax.tree.leaves(new), jax.tree.leaves(other)))
