"""Hidden tests (nbgrader's convention): the instructor's extra checks, left out of the student tree.

The public tests compare against stored snapshots, whose values a student can read; these compare
the student's functions with plain numpy versions written here, on inputs drawn afresh from seeds
and shapes the public tests do not use. `python -m minireason.course grade TREE --reference REFERENCE`
grades a submission with the reference tree's tests, this folder included.
"""
import jax.numpy as jnp
import numpy as np
import pytest

from minireason import losses, model, rl, sampling, testtime, traces
from minireason.tasks import FAMILIES


def numpy_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.transformer
@pytest.mark.parametrize("seed", [101, 102])
def test_rms_norm_and_rope_against_numpy(seed):
    rng = np.random.default_rng(seed)
    x, g = rng.normal(0, 2, (3, 24)).astype(np.float32), rng.normal(1, 0.3, 24).astype(np.float32)
    want = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * g
    np.testing.assert_allclose(model.rms_norm(jnp.asarray(x), jnp.asarray(g), 1e-5), want, rtol=1e-5, atol=1e-6)
    q = rng.normal(0, 1, (1, 3, 1, 6)).astype(np.float32)
    pos = np.array([[0, 7, 123]])
    half = 3
    angle = pos[..., None] * 500.0 ** (-np.arange(half) / half)
    c, s = np.cos(angle)[:, :, None], np.sin(angle)[:, :, None]
    want = np.concatenate([q[..., :half] * c - q[..., half:] * s, q[..., :half] * s + q[..., half:] * c], -1)
    np.testing.assert_allclose(model.rope(jnp.asarray(q), jnp.asarray(pos), 500.0), want, rtol=1e-4, atol=1e-5)


@pytest.mark.transformer
def test_attention_with_cache_against_numpy():
    rng = np.random.default_rng(103)
    q, k, v = (rng.normal(0, 1, (1, 3, 1, 4)).astype(np.float32) for _ in range(3))
    ck, cv = rng.normal(0, 1, (1, 3, 5, 4)).astype(np.float32), rng.normal(0, 1, (1, 3, 5, 4)).astype(np.float32)
    mask = np.array([[[True, True, True, False, False]]])
    y, (k2, v2) = model.attention(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v),
                                  model.attention_bias(jnp.asarray(mask)), (jnp.asarray(ck), jnp.asarray(cv)), 2)
    ck[:, :, 2:3], cv[:, :, 2:3] = k, v
    w = numpy_softmax(np.einsum("nhsd,nhkd->nhsk", q, ck) / 2.0 + np.where(mask, 0, -1e9)[:, None])
    np.testing.assert_allclose(y, np.einsum("nhsk,nhkd->nshd", w, cv), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(k2, ck)


@pytest.mark.sampler
def test_completion_mask_of_an_all_eos_row_and_an_empty_batch():
    np.testing.assert_array_equal(sampling.completion_mask(jnp.array([[9, 9, 9]]), 9), [[True, False, False]])
    assert sampling.completion_mask(jnp.zeros((0, 4), jnp.int32), 9).shape == (0, 4)


@pytest.mark.losses
def test_losses_against_numpy():
    rng = np.random.default_rng(104)
    n, t = 4, 5
    logp, old = rng.normal(-1, 0.5, (n, t)), rng.normal(-1, 0.5, (n, t))
    adv = np.array([1.0, -1.0, 0.3, 0.0])
    mask = (np.arange(t)[None] < np.array([5, 2, 1, 3])[:, None]).astype(float)
    ratio = np.exp(logp - old)
    tok = -np.minimum(ratio * adv[:, None], np.clip(ratio, 0.8, 1.2) * adv[:, None])
    args = [jnp.asarray(a, jnp.float32) for a in (logp, old, logp, adv, mask)]
    np.testing.assert_allclose(losses.grpo_loss(*args, 0.2, 0.28, 0.0).loss,
                               ((tok * mask).sum(1) / mask.sum(1)).mean(), rtol=1e-5)
    np.testing.assert_allclose(losses.dr_grpo_loss(*args, 0.2, 0.28, 0.0).loss, (tok * mask).sum() / (n * t), rtol=1e-5)
    r = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
    want = (r - r.mean(1, keepdims=True)) / (r.std(1, keepdims=True) + losses.ADV_EPS)
    np.testing.assert_allclose(losses.group_advantages(jnp.asarray(r)), want, rtol=1e-5, atol=1e-6)
    logits = rng.normal(0, 1, (2, 4, 5)).astype(np.float32)
    toks = np.array([[1, 2], [3, 4]])
    lp = np.log(numpy_softmax(logits[:, 2:] / 1.5))
    got, _ = rl.token_logprobs(jnp.asarray(logits), jnp.asarray(toks), 3, 1.5)      # P = 3: logits[:, 2:] score them
    np.testing.assert_allclose(got, np.take_along_axis(lp, toks[..., None], -1)[..., 0], rtol=1e-5)


@pytest.mark.verifier
def test_a_countdown_completion_end_to_end():
    fam, p = FAMILIES["countdown"], {"family": "countdown", "difficulty": 2, "numbers": [7, 4, 2], "target": 1}
    text = "7+4=11 11-2=9 check 9=1 no wait 7-4=3 3-2=1 check 1=1 ok</think><answer>7-4-2</answer>"
    t = traces.parse(text)
    assert t.reflects and fam.check_answer(p, t.answer) == (True, "")
    assert [fam.revision_fixed(p, r) for r in t.revisions] == [True]
    assert fam.check_answer(p, "7+4-2")[0] is False and fam.check_answer(p, "4-7+2")[0] is False


@pytest.mark.rl
def test_curriculum_prefers_the_edge_of_competence():
    c = rl.Curriculum(["sum"], [1, 2, 3], True)
    c.load({"sum/1": 0.95, "sum/2": 0.5, "sum/3": 0.02})
    w = c.weights("sum")
    assert w.argmax() == 1 and w.sum() == pytest.approx(1.0)


@pytest.mark.testtime
def test_pass_at_k_and_votes_on_a_small_case():
    assert testtime.pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert testtime.majority_vote(["3", None, "4", "4"], [True, False, False, False]) is False
    np.testing.assert_allclose(testtime.rank([3, 1, 3]), [2.5, 1.0, 2.5])
