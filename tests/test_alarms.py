"""Every alarm provoked by hand, the NaN stop, group integrity, and one alarm end to end (truncation)."""
import dataclasses
import json
import math
import os

import pytest

from minireason import rl
from minireason.alarms import Alarms, Diverged, check_finite
from minireason.config import AlarmConfig, smoke

HEALTHY = {"step": 1, "reward": 0.5, "truncation_rate": 0.0, "zero_variance_groups": 0.25, "kl": 0.01,
           "entropy": 0.5}


@pytest.mark.parametrize("field, value, name", [
    ("truncation_rate", 0.75, "truncated"),
    ("zero_variance_groups", 1.0, "no_signal"),
    ("kl", 5.0, "kl_exploding"),
    ("entropy", 0.001, "entropy_collapse"),
])
def test_each_threshold_alarm_fires_alone_and_is_announced_once(field, value, name):
    alarms = Alarms(AlarmConfig())
    assert alarms.check(HEALTHY) == ([], [])
    bad = {**HEALTHY, field: value}
    active, messages = alarms.check(bad)
    assert active == [name] and len(messages) == 1 and name in messages[0] and "step 1" in messages[0]
    active, messages = alarms.check(bad)
    assert active == [name] and messages == []                # recorded every step, printed once


def test_kl_none_between_measurements_raises_nothing():
    assert Alarms(AlarmConfig()).check({**HEALTHY, "kl": None}) == ([], [])


def test_zero_reward_needs_a_streak_and_a_success_resets_it():
    alarms = Alarms(AlarmConfig(zero_reward_steps=3))
    zero = {**HEALTHY, "reward": 0.0}
    assert [alarms.check(zero)[0] for _ in range(3)] == [[], [], ["zero_reward"]]
    assert alarms.check(HEALTHY)[0] == []
    assert alarms.check(zero)[0] == []
    restored = Alarms(AlarmConfig(zero_reward_steps=3))
    restored.load(alarms.state())                             # a resumed run carries the streak on
    assert restored.check(zero)[0] == [] and restored.check(zero)[0] == ["zero_reward"]


@pytest.mark.parametrize("loss, grad_norm", [(math.nan, 1.0), (1.0, math.inf), (-math.inf, math.nan)])
def test_nan_or_inf_stops_and_names_the_step(loss, grad_norm):
    with pytest.raises(Diverged, match="RL step 7: .* NaN or inf.*RL step 6"):
        check_finite(7, {"loss": loss, "grad_norm": grad_norm}, last_checkpoint=6)
    check_finite(7, {"loss": 0.3, "grad_norm": 2.0}, last_checkpoint=6)


def test_group_integrity():
    a, b = {"family": "sum", "numbers": [1, 2]}, {"family": "sum", "numbers": [2, 2]}
    rl.check_groups([a, a, b, b], 2)
    with pytest.raises(ValueError, match="group 0 mixes prompts"):
        rl.check_groups([a, b, b, b], 2)
    with pytest.raises(ValueError, match="groups of 2"):
        rl.check_groups([a, a, b], 2)


def test_a_tiny_length_limit_raises_the_truncation_alarm_in_metrics(tmp_path):
    from minireason.run import run
    cfg = smoke()
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, completion_len=8),
                              rl=dataclasses.replace(cfg.rl, steps=2))
    out = str(tmp_path / "run")
    run(cfg, out, echo=lambda *a: None)
    with open(os.path.join(out, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f if '"rl"' in line]
    assert all("truncated" in r["alarms"] and r["truncation_rate"] > 0.5 for r in rows)
