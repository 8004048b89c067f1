"""The RL step's pieces: token log-probs and entropy, advantages in groups, the curriculum, prompt groups."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minireason import model as model_lib
from minireason import rl
from minireason.config import Config, ConfigError, DataConfig, ModelConfig, RLConfig, validate

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


def test_logp_and_entropy_by_hand_at_non_uniform_logits():
    """No blocks, every embedding 1 (so the final RMSNorm gives 1s) and the head's first row log p: the
    logits are log p at every position, p = [1/6, 1/2, 1/3] over a 3-token vocabulary."""
    graphdef, params = model_lib.init(ModelConfig(d_model=16, n_layers=0, n_heads=2, d_mlp=32), 3, seed=0)
    p = np.array([1 / 6, 1 / 2, 1 / 3])
    params["embed"]["embedding"].set_value(jnp.ones((3, 16)))
    params["head"]["kernel"].set_value(jnp.zeros((16, 3)).at[0].set(jnp.log(jnp.asarray(p, jnp.float32))))
    prompts, tokens = jnp.array([[0, 1, 2]], jnp.int32), jnp.array([[1, 2, 0]], jnp.int32)
    logp, entropy = rl.make_token_logp(graphdef, pad_id=0)(params, prompts, tokens, jnp.array([[1.0, 1.0, 0.0]]))
    np.testing.assert_allclose(logp[0, :2], [math.log(1 / 2), math.log(1 / 3)], rtol=1e-5)
    h = (1 / 6) * math.log(6) + (1 / 2) * math.log(2) + (1 / 3) * math.log(3)    # -sum_v p_v log p_v = 1.0114
    np.testing.assert_allclose(entropy[0], [h] * 3, rtol=1e-5)


def test_left_pads_change_no_logp(tiny):
    """The same prompts and completions scored at prompt width P and P + 3 (three more left pads)."""
    graphdef, params = tiny
    prompts, tokens, mask = _batch()
    token_logp = rl.make_token_logp(graphdef, pad_id=0)
    a, _ = token_logp(params, prompts, tokens, mask)
    b, _ = token_logp(params, jnp.pad(prompts, ((0, 0), (3, 0))), tokens, mask)
    np.testing.assert_allclose(np.asarray(a) * np.asarray(mask), np.asarray(b) * np.asarray(mask), atol=1e-5)


@pytest.mark.parametrize("adv", [1.0, -1.0])
def test_one_update_moves_the_completion_logp_the_way_its_advantage_says(tiny, adv):
    """One step of the default loss on one completion: A > 0 raises its summed logp, A < 0 lowers it."""
    graphdef, params = tiny
    prompts, tokens, mask = (x[1:] for x in _batch())
    batch = rl.Batch(prompts, tokens, mask, jnp.array([adv]))
    cfg = RLConfig(group_size=2, lr=1e-4)
    token_logp = rl.make_token_logp(graphdef, pad_id=0)
    update, _ = rl.make_update(graphdef, rl.make_optimizer(cfg), cfg, pad_id=0)
    new, _, _ = update(params, rl.make_optimizer(cfg).init(params), params, batch)
    before = float((token_logp(params, prompts, tokens, mask)[0] * mask).sum())
    after = float((token_logp(new, prompts, tokens, mask)[0] * mask).sum())
    assert (after - before) * adv > 1e-4


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


def test_kl_estimator_reaches_the_loss_and_the_logged_kl_stays_k3(tiny):
    """rl.kl = k2 changes the gradient (the KL term's estimator), not stats["kl"] (always the k3 value)."""
    graphdef, params = tiny
    prompts, tokens, mask = _batch()
    batch = rl.Batch(prompts, tokens, mask, jnp.array([1.0, -1.0]))
    other = jax.tree.map(lambda x: x * 1.1, params)
    stats = {}
    for name in ("k3", "k2"):
        cfg = RLConfig(group_size=2, beta=1.0, kl=name)
        update, _ = rl.make_update(graphdef, rl.make_optimizer(cfg), cfg, pad_id=0)
        stats[name] = update(other, rl.make_optimizer(cfg).init(other), params, batch)[2]
    k3 = float(rl.make_kl(graphdef, pad_id=0)(other, params, batch))
    assert float(stats["k2"]["kl"]) == pytest.approx(k3, rel=1e-5)
    assert float(stats["k3"]["kl"]) == pytest.approx(k3, rel=1e-5)
    assert abs(float(stats["k2"]["grad_norm"]) - float(stats["k3"]["grad_norm"])) > 1e-4


def test_update_on_batch_holds_old_and_ref_logp_fixed_and_averages_its_steps(tiny):
    """mu = 2: both steps use the sampling policy's logp as old_logp, so the second step's ratio moves
    away from 1 and can clip (the first cannot: its ratio is 1); the stats are the two steps' mean.
    ref_logp, computed once, gives what the update computes itself from ref_params."""
    graphdef, params = tiny
    prompts, tokens, mask = _batch()
    batch = rl.Batch(prompts, tokens, mask, jnp.array([1.0, -1.0]))
    ref_params = jax.tree.map(lambda x: x * 1.1, params)
    cfg = RLConfig(group_size=2, updates_per_batch=2, lr=0.01, beta=0.1)
    optimizer = rl.make_optimizer(cfg)
    update, token_logp = rl.make_update(graphdef, optimizer, cfg, pad_id=0)
    new, _, stats = rl.update_on_batch(update, token_logp, cfg, params, optimizer.init(params), ref_params, batch)

    old_logp = token_logp(params, prompts, tokens, mask)[0]
    p1, o1, first = update(params, optimizer.init(params), ref_params, batch, old_logp)      # ref inside
    p2, _, second = update(p1, o1, ref_params, batch, old_logp)
    assert float(first["clip_fraction"]) == 0.0 and float(second["clip_fraction"]) > 0.0
    assert set(stats) == {"loss", "clip_fraction", "entropy", "grad_norm", "kl"}
    for k in stats:
        assert float(stats[k]) == pytest.approx((float(first[k]) + float(second[k])) / 2, rel=1e-5, abs=1e-7), k
    for a, b in zip(jax.tree.leaves(new), jax.tree.leaves(p2)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    calls = []                          # the log-prob passes: once for old_logp, once for the reference

    def counted(p, *args):
        calls.append("ref" if p is ref_params else "policy")
        return token_logp(p, *args)

    rl.update_on_batch(update, counted, cfg, params, optimizer.init(params), ref_params, batch)
    assert calls == ["policy", "ref"]


@pytest.mark.parametrize("rl_cfg", [RLConfig(loss="reinforce", updates_per_batch=2), RLConfig(kl="k1")])
def test_validate_rejects_reinforce_with_inner_steps_and_unknown_kl(rl_cfg):
    with pytest.raises(ConfigError) as err:
        validate(Config(rl=rl_cfg))
    assert "\n" not in str(err.value)
    validate(Config(rl=RLConfig(loss="reinforce", updates_per_batch=1)))
    validate(Config(rl=RLConfig(loss="grpo", updates_per_batch=2, kl="k2")))
