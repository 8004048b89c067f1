"""plots.py: which panels are drawn, the small helpers, and that each figure is a whole PNG file."""
import os

import pytest

from minireason import plots

PNG = b"\x89PNG\r\n\x1a\n"


def rl_row(step, **extra):
    """An RL row of metrics.jsonl with the batch keys run.py logs (hand-picked values)."""
    row = {"stage": "rl", "step": step, "reward": 0.5, "accuracy": 0.5, "length_mean": 20.0,
           "length_correct": 24.0, "length_incorrect": 16.0, "reflection_rate": 0.25,
           "effective_reflection_rate": 0.5, "truncation_rate": 0.0, "zero_variance_groups": 0.125, "kl": None}
    return {**row, **extra}


ROWS = [
    {"stage": "pretrain", "step": 10, "loss": 3.0},
    {"stage": "pretrain", "step": 20, "loss": 1.0, "heldout_loss": 1.2},
    rl_row(1),
    rl_row(2, accuracy=0.75, reward=0.75, heldout_accuracy=0.7, heldout_length_mean=22.0,
           heldout_reflection_rate=0.3, heldout_effective_reflection_rate=0.4, kl=0.01),
    rl_row(3, accuracy=1.0, reward=1.0),
]


def titles(panels):
    return [p[0] for p in panels]


def keys(panels, title):
    return [s[0] for p in panels if p[0] == title for s in p[2]]


def test_rl_panels_draw_what_is_logged():
    rl = [r for r in ROWS if r["stage"] == "rl"]
    panels = plots.rl_panels(rl)
    assert titles(panels) == ["Reward and accuracy", "Completion length", "Reflection", "Wasted samples",
                              "KL divergence to the base model"]
    assert keys(panels, "Reward and accuracy") == ["accuracy", "heldout_accuracy"]   # reward == accuracy
    # kl is null on the rows where it was not measured (beta = 0): no panel at all when it never was
    no_kl = plots.rl_panels([{**r, "kl": None} for r in rl])
    assert "KL divergence to the base model" not in titles(no_kl)


def test_rl_panels_reward_and_domains():
    rl = [rl_row(1, reward=0.6), rl_row(2, heldout_accuracy=0.5, heldout_arith_accuracy=0.6,
                                        heldout_arith_length_mean=20.0, heldout_code_accuracy=0.4,
                                        heldout_code_length_mean=18.0, heldout_step_accuracy=0.9,
                                        heldout_d2_accuracy=0.3, heldout_d2_length_mean=30.0)]   # a level, not a domain
    assert keys(plots.rl_panels(rl), "Reward and accuracy") == [
        "reward", "accuracy", "heldout_accuracy", "heldout_arith_accuracy", "heldout_code_accuracy"]


def test_trailing_mean():
    assert plots.trailing_mean([1.0, 2.0, 3.0, 4.0], 2) == [1.0, 1.5, 2.5, 3.5]
    assert plots.trailing_mean([3.0, 6.0], 5) == [3.0, 4.5]


def test_ks_of_reads_the_keys():
    m = {"pass@1": 0.5, "pass@2": 0.6, "pass@4": 0.7, "maj@1": 0.5, "maj@2": 0.5, "maj@4": 0.6, "accuracy": 0.5}
    assert plots.ks_of(m, "maj") == [1, 2, 4]


def test_training_curves_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "plots" / "training.png"            # the folder is made
    plots.training_curves(ROWS, str(path))
    assert path.read_bytes().startswith(PNG)
    assert os.listdir(path.parent) == ["training.png"]     # no temporary file left behind
    only_pretrain = tmp_path / "pretrain.png"
    plots.training_curves(ROWS[:2], str(only_pretrain))
    assert only_pretrain.read_bytes().startswith(PNG)


def test_testtime_png_one_domain(tmp_path):
    pytest.importorskip("matplotlib")
    model = {"overall": {"length_mean": 20.0, "pass@1": 0.5, "pass@2": 0.6, "maj@1": 0.5, "maj@2": 0.55}}
    ev = {"models": {"base": model, "final": model},
          "budget_forcing": {"base": [{"budget": 0, "accuracy": 0.4, "tokens_mean": 7.0}],
                             "final": [{"budget": 0, "accuracy": 0.4, "tokens_mean": 7.0},
                                       {"budget": 8, "accuracy": 0.6, "tokens_mean": 14.0}]},
          "length_vs_difficulty": {"base": {"arith": {"by_difficulty": {"1": 10.0, "2": 12.0}, "spearman": None}},
                                   "final": {"arith": {"by_difficulty": {"1": 14.0, "2": 20.0}, "spearman": 0.5}}}}
    path = tmp_path / "testtime.png"
    plots.testtime(ev, str(path))
    assert path.read_bytes().startswith(PNG)
