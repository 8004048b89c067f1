"""Calibration (calibration.py): the confidence block, its metrics against hand-computed values, the
rewards, the corpus, the tokenizer's end token, the config, and a tiny run end to end."""
import dataclasses
import math

import numpy as np
import pytest

from minireason import calibration, corpus, metrics, traces, verifiers
from minireason.config import ConfigError, DataConfig, preset, smoke, validate
from minireason.config import override as set_key
from minireason.tokenizer import Tokenizer

pytestmark = pytest.mark.usefixtures("fast_compiles")

SUM = {"family": "sum", "difficulty": 1, "numbers": [7, 5]}


def graded(completions, problem=SUM):
    return metrics.grade([problem] * len(completions), completions, [5] * len(completions),
                         [False] * len(completions))


# ----------------------------------------------------------------------------- the format

def test_the_confidence_block_is_read_apart_from_the_answer():
    t = traces.parse("7+5=12</think><answer>12</answer><confidence>7</confidence>")
    assert (t.answer, t.confidence, t.states_confidence, t.error) == ("12", 0.7, True, "")
    assert traces.parse("</think><answer>12</answer><confidence>10</confidence>").confidence == 1.0
    assert traces.parse("</think><answer>12</answer><confidence>0</confidence>").confidence == 0.0
    plain = traces.parse("</think><answer>12</answer>")
    assert (plain.confidence, plain.states_confidence) == (None, False)


@pytest.mark.parametrize("block", [
    "<confidence>11</confidence>", "<confidence>07</confidence>", "<confidence>-1</confidence>",
    "<confidence>0.7</confidence>", "<confidence></confidence>", "<confidence> 7</confidence>",
    "<confidence><answer>12</answer></confidence>", "<confidence>7</confidence>junk",
    "<confidence>7",                                            # cut short by the length limit
    "<confidence>1", "<confidence>x</answer><confidence>7</confidence>",
])
def test_a_confidence_block_that_does_not_parse_states_none_and_keeps_the_answer(block):
    t = traces.parse("</think><answer>12</answer>" + block)
    assert t.answer == "12" and t.error == "" and t.states_confidence and t.confidence is None


@pytest.mark.parametrize("completion", [
    "</think><answer>12</answer>junk<confidence>7</confidence>",
    "</think><answer>12</answer>junk",
    "</think><confidence>7</confidence><answer>12</answer>x",
    "</think><answer>12</answer><answer>13</answer><confidence>7</confidence>",
])
def test_anything_else_after_the_answer_is_still_malformed(completion):
    assert traces.parse(completion).answer is None


def test_the_confidence_never_changes_what_is_correct():
    for k in (0, 5, 10):
        for answer, ok in (("12", True), ("13", False)):
            v = verifiers.verify(SUM, f"</think><answer>{answer}</answer>" + traces.confidence_block(k))
            assert v.correct is ok
    # a second answer block hidden in the confidence does not count
    v = verifiers.verify(SUM, "</think><answer>13</answer><confidence><answer>12</answer></confidence>")
    assert v.correct is False and v.answer == "13"


# ----------------------------------------------------------------------------- metrics, by hand

Q = [0.2, 0.2, 0.8, 0.8, 1.0]
Y = [0, 1, 1, 1, 0]


def test_ece_brier_auroc_by_hand():
    # bins: 0.2 -> bin 2 (accuracy 0.5, |0.5-0.2| = 0.3, twice); 0.8 -> bin 8 (1.0, 0.2, twice); 1.0 -> bin 9 (0, 1)
    assert metrics.ece(Q, Y) == pytest.approx((2 * 0.3 + 2 * 0.2 + 1.0) / 5)
    assert metrics.brier(Q, Y) == pytest.approx((0.04 + 0.64 + 0.04 + 0.04 + 1.0) / 5)
    # positives 0.2, 0.8, 0.8; negatives 0.2, 1.0: pairs above 0+0.5... = 0.5 + 1 + 1 out of 6
    assert metrics.auroc(Q, Y) == pytest.approx(2.5 / 6)
    assert metrics.ece([], []) is None and metrics.brier([], []) is None


def test_reliability_bins_put_each_level_in_its_bin():
    bins = metrics.reliability_bins([k / 10 for k in range(11)], [1] * 11)
    assert [b["count"] for b in bins] == [1] * 9 + [2]          # 0.9 and 1.0 share the last bin
    assert metrics.reliability_bins([0.7 - 0.4], [1])[3]["count"] == 1   # 2.9999999999999996 / 10: bin 3, not 2
    empty = metrics.reliability_bins([0.5], [1])[0]
    assert empty["count"] == 0 and empty["accuracy"] is None and empty["confidence"] is None
    with pytest.raises(ValueError):
        metrics.reliability_bins([1.5], [1])


def test_hle_rms_calibration_error_by_hand():
    # beta = 2: bins [0, 2) and [2, 5) (the last takes the rest)
    first = 2 / 5 * (0.2 - 0.5) ** 2
    second = 3 / 5 * ((0.8 + 0.8 + 1.0) / 3 - 2 / 3) ** 2
    assert metrics.rms_calibration_error(Q, Y, beta=2) == pytest.approx(math.sqrt(first + second))
    assert metrics.rms_calibration_error(Q, Y, beta=2, skip_last=True) == pytest.approx(math.sqrt(first))
    assert metrics.rms_calibration_error([0.2, 0.8], [0, 1]) == pytest.approx(0.0)   # fewer than beta: one bin
    assert metrics.rms_calibration_error([0.2, 0.8], [0, 1], skip_last=True) is None
    shuffled = [4, 0, 3, 1, 2]
    assert metrics.rms_calibration_error([Q[i] for i in shuffled], [Y[i] for i in shuffled], beta=2) == \
        pytest.approx(math.sqrt(first + second))


def test_rms_does_not_depend_on_the_order_of_tied_completions():
    """Held-out lists come grouped (family, difficulty): 300 right answers then 300 wrong ones, all at
    q = 1. Sorted as they came, the bins would be all right then all wrong (RMS 0.71); in a fixed random
    order each bin holds about half of each, as the 600 completions do (RMS near 0.5)."""
    q, y = [1.0] * 600, [1] * 300 + [0] * 300
    blocked = metrics.rms_calibration_error(q, y)
    assert abs(blocked - 0.5) < 0.05
    assert metrics.rms_calibration_error(q, y[::-1]) == pytest.approx(blocked, abs=0.05)


def test_the_calibration_measures_of_graded_completions():
    gs = graded(["</think><answer>12</answer><confidence>8</confidence>",
                 "</think><answer>13</answer><confidence>2</confidence>",
                 "</think><answer>13</answer>",                              # none stated: q = 1
                 "</think><answer>12</answer><confidence>x</confidence>"])   # unparsable: q = 1
    m = metrics.calibration(gs)
    q, y = [0.8, 0.2, 1.0, 1.0], [1, 0, 0, 1]
    assert m["confidence_stated"] == 0.5 and m["confidence_mean"] == pytest.approx(0.75)
    assert m["ece"] == pytest.approx(metrics.ece(q, y)) and m["brier"] == pytest.approx((0.04 + 0.04 + 1) / 4)
    assert m["confidence_auroc"] == pytest.approx(metrics.auroc(q, y))
    assert metrics.summarize(gs)["ece"] == m["ece"]
    assert "reliability" in metrics.report(gs)["arith"]
    plain = graded(["</think><answer>12</answer>"])
    assert metrics.calibration(plain) == {} and "ece" not in metrics.summarize(plain)
    assert "reliability" not in metrics.report(plain)["arith"]


# ----------------------------------------------------------------------------- rewards

def test_the_rewards_by_hand():
    gs = graded(["</think><answer>12</answer><confidence>7</confidence>",      # right, q 0.7
                 "</think><answer>13</answer><confidence>7</confidence>",      # wrong, q 0.7
                 "</think><answer>12</answer><confidence>x</confidence>",      # right, no confidence
                 "</think><answer>13</answer><confidence>0</confidence>"])     # wrong, q 0
    rlcr = calibration.make_reward("rlcr")([SUM] * 4, gs)
    assert rlcr.rewards.tolist() == pytest.approx([1 - 0.09, -0.49, 0.0, 0.0])
    assert rlcr.solved.tolist() == [1, 0, 1, 0]                                 # the curriculum's: the verifier's
    assert rlcr.stats["calibration_term"] == pytest.approx((-0.09 - 0.49 - 1 + 0) / 4)
    log = calibration.make_reward("log")([SUM] * 4, gs)
    lg = math.log(100)
    assert log.rewards.tolist() == pytest.approx([1 + math.log(0.7) / lg, math.log(0.3) / lg, 0.0, 0.0], abs=1e-6)
    wrong_sure = graded(["</think><answer>13</answer><confidence>10</confidence>"])
    assert calibration.make_reward("log")([SUM], wrong_sure).rewards.tolist() == [-1.0]   # clipped, not -inf
    with pytest.raises(ValueError):
        calibration.make_reward("brier")


@pytest.mark.parametrize("kind", calibration.REWARDS)
def test_both_rules_are_proper_on_the_grid(kind):
    """For a true chance p of being right, the expected term is highest at q = p."""
    grid = [k / 10 for k in range(11)]
    for p in (0.1, 0.3, 0.5, 0.8, 0.9):
        term = calibration.calibration_term
        expected = [p * term(kind, q, True) + (1 - p) * term(kind, q, False) for q in grid]
        assert grid[int(np.argmax(expected))] == pytest.approx(p)


# ----------------------------------------------------------------------------- corpus, tokenizer, config

def test_the_uniform_corpus_states_every_level_and_keeps_the_traces():
    data = DataConfig(difficulties=(1, 2))
    plain = corpus.make_examples(data, 0, 2200)
    stated = corpus.make_examples(dataclasses.replace(data, confidence="uniform"), 0, 2200)
    levels = []
    for a, b in zip(plain, stated):
        assert traces.CONFIDENCE_START not in a.completion
        head, block = b.completion[:len(a.completion)], b.completion[len(a.completion):]
        assert head == a.completion and a.prompt == b.prompt
        levels.append(traces.parse(b.completion).confidence)
        assert block == traces.confidence_block(round(levels[-1] * 10))
    counts = np.bincount(np.round(np.array(levels) * 10).astype(int), minlength=11)
    assert counts.min() > 150 and counts.max() < 250                         # about 200 each


def test_a_tokenizer_with_the_confidence_tags_ends_at_the_confidence(tmp_path):
    texts = [e.prompt + e.completion for e in corpus.make_examples(
        DataConfig(difficulties=(1,), confidence="uniform"), 0, 300)]
    tok = Tokenizer.train(texts, 64, str(tmp_path / "t.model"), symbols=calibration.TAGS)
    assert tok.states_confidence and tok.eos_id == tok.encode(traces.CONFIDENCE_END)[0]
    plain = Tokenizer.train(texts, 64, str(tmp_path / "p.model"))
    assert not plain.states_confidence and plain.eos_id == plain.encode(traces.ANSWER_END)[0]


def test_the_config_refuses_rewards_without_a_confidence():
    with pytest.raises(ConfigError, match="data.confidence=uniform"):
        validate(set_key(smoke(), "rl.reward", "rlcr"))
    with pytest.raises(ConfigError, match="data.confidence"):
        validate(set_key(smoke(), "data.confidence", "writer"))
    with pytest.raises(ConfigError, match="judge"):
        validate(set_key(preset("judge"), "data.confidence", "uniform"))
    with pytest.raises(ConfigError, match="samples_per_problem"):
        validate(set_key(smoke(), "eval.samples_per_problem", "0"))
    cfg = validate(preset("calibration"))
    assert cfg.data.confidence == "uniform" and cfg.rl.reward == "rlcr"


# ----------------------------------------------------------------------------- end to end

def test_a_tiny_rlcr_run_reports_calibration(tmp_path):
    from minireason import runfolder
    from minireason.run import run
    cfg = smoke()
    for key, value in (("data.confidence", "uniform"), ("rl.reward", "rlcr"), ("pretrain.steps", "150"),
                       ("eval.samples_per_problem", "2")):
        cfg = set_key(cfg, key, value)
    out = str(tmp_path / "run")
    summary = run(cfg, out, echo=lambda *a: None)
    block = summary["calibration"]["arith"]
    assert set(calibration.KEYS) <= set(block["final"]) and block["final"]["count"] == 2 * block["final"]["problems"]
    assert len(block["reliability"]["base"]) == 10
    rows = [r for r in runfolder.Jsonl(f"{out}/metrics.jsonl").rows() if r["stage"] == "rl"]
    assert all(-1 <= r["calibration_term"] <= 0 and "ece" in r for r in rows)
    assert "heldout_ece" in rows[-1] and "heldout_confidence_auroc" in rows[-1]
    assert all(0 <= p <= 1 for r in rows for p in r["curriculum"].values())


# ----------------------------------------------------------------------------- bench/calibration.py's arithmetic

def _bench():
    from bench_module import load
    return load("calibration")


def test_pooled_reliability_bins_weigh_by_count():
    bench = _bench()
    a = metrics.reliability_bins([0.2, 0.2, 0.9], [1, 0, 1])
    b = metrics.reliability_bins([0.25, 0.95, 1.0], [1, 1, 0])
    pooled = bench.pooled([a, b])
    assert pooled[2]["count"] == 3 and pooled[2]["confidence"] == pytest.approx((0.2 + 0.2 + 0.25) / 3)
    assert pooled[2]["accuracy"] == pytest.approx(2 / 3)
    assert pooled[9]["count"] == 3 and pooled[9]["accuracy"] == pytest.approx(2 / 3)
    assert pooled[0]["count"] == 0 and pooled[0]["accuracy"] is None
    assert bench._mean_sd([0.1, 0.3]) == "0.20±0.14" and bench._mean_sd([None]) == "–"


def test_the_bar_line_reads_each_seed():
    bench = _bench()
    final = lambda ece, auroc, acc: {"final": {"ece": ece, "confidence_auroc": auroc, "accuracy": acc}}  # noqa: E731
    by = {"rlcr": [{"seed": 0, "calibration": {"arith": final(0.04, 0.8, 0.70), "code": final(0.06, 0.9, 0.8)}}],
          "rlvr": [{"seed": 0, "calibration": {"arith": final(0.3, 0.5, 0.72), "code": final(0.3, 0.5, 0.8)}}]}
    line = bench.bar_line(by, ["arith", "code"])
    assert "arith ECE 0.04 AUROC 0.80 meets; accuracy - RLVR's -0.02" in line
    assert "code ECE 0.06 AUROC 0.90 misses" in line


def test_feature_auroc_scores_each_half_with_the_other_by_hand():
    """Two cells (direct: wrong, reflect: right) seen in both folds: the cross-fitted scores separate
    them perfectly; with one feature for all, every score is its fold's mean and AUROC is 0.5 or less."""
    rows, texts = [], []
    for n in range(2, 42):
        p = {"family": "sum", "difficulty": 1, "numbers": [n, 1]}
        rows += [p, p]
        texts += [f"</think><answer>{n}</answer>",                                  # direct, wrong
                  f"{n}+1={n + 1} check {n + 1}-1={n} ok</think><answer>{n + 1}</answer>"]   # reflect, right
    gs = metrics.grade(rows, texts, [5] * len(rows), [False] * len(rows))
    assert calibration.feature_auroc(gs) == 1.0
    assert calibration.feature_auroc(gs, features=lambda g: 0) <= 0.5
    # a cell seen only in its own fold scores the other fold's accuracy (0.5 here), never its own outcome
    lone = metrics.grade([{"family": "sum", "difficulty": 2, "numbers": [5, 5]}], ["</think><answer>10</answer>"],
                         [5], [False])
    scores = calibration.feature_scores(gs + lone)
    assert scores[-1] == 0.5 and sorted(set(scores[:-1])) == [0.0, 1.0]


def test_the_noise_floor_of_ece_shrinks_with_n():
    bench = _bench()
    small, large = bench.ece_noise(96, draws=40), bench.ece_noise(1672, draws=40)
    assert small[0] > large[0] > 0 and small[0] <= small[1]
