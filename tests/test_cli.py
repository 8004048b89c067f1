"""The command line: the `--section.field=value` parser, validate(), and train.py failing fast and cleanly.

A bad argument must end train.py with exit status 2 and one line `error: ...` on stderr, before any
training starts and without a traceback.
"""
import os
import subprocess
import sys
import time

import pytest

from minireason.config import PRESETS, ConfigError, override, preset, smoke, validate
from train import parse_train_args

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- the override parser

def test_float_int_bool_and_top_level_fields():
    cfg = smoke()
    assert override(cfg, "rl.lr", "3e-4").rl.lr == 3e-4
    assert override(cfg, "rl.steps", "7").rl.steps == 7
    assert override(cfg, "rl.curriculum", "false").rl.curriculum is False
    assert override(cfg, "rl.loss", "grpo").rl.loss == "grpo"
    assert override(cfg, "seed", "3").seed == 3
    # Nothing else moves, and the input config is not modified (configs are frozen values).
    changed = override(cfg, "rl.lr", "3e-4")
    assert changed.rl.steps == cfg.rl.steps and changed.model == cfg.model and changed.data == cfg.data
    assert cfg == smoke()


def test_tuple_fields():
    cfg = smoke()
    assert override(cfg, "data.style_weights", "0.5,0.5,0").data.style_weights == (0.5, 0.5, 0.0)
    assert override(cfg, "data.difficulties", "1,3").data.difficulties == (1, 3)
    assert override(cfg, "data.families", "add").data.families == ("add",)


def test_parse_train_args():
    cfg, out, resume, _ = parse_train_args(["--preset", "smoke", "--rl.lr=3e-4", "--data.style_weights=0.5,0.5,0",
                                         "--seed", "4"])
    assert (cfg.preset, cfg.seed, cfg.rl.lr, cfg.data.style_weights) == ("smoke", 4, 3e-4, (0.5, 0.5, 0.0))
    assert (out, resume) == ("runs/smoke-seed4", False)
    _, out, resume, _ = parse_train_args(["--preset=smoke", "--out", "somewhere", "--resume"])
    assert (out, resume) == ("somewhere", True)


@pytest.mark.parametrize("key, value, message", [
    ("rl.nope", "1", "unknown config key 'rl.nope'"),
    ("nope.lr", "1", "unknown config key 'nope.lr'"),
    ("rl.lr.x", "1", "unknown config key 'rl.lr.x'"),
    ("rl", "1", "'rl' is a section"),
    ("rl.steps", "abc", "rl.steps: expected int, got 'abc'"),
    ("rl.steps", "1.5", "rl.steps: expected int, got '1.5'"),
    ("rl.lr", "fast", "rl.lr: expected float, got 'fast'"),
    ("rl.curriculum", "maybe", "rl.curriculum: expected bool, got 'maybe'"),
    ("data.style_weights", "0.5,x,0", "data.style_weights: expected float, got 'x'"),
    ("seed", "abc", "seed: expected int, got 'abc'"),
])
def test_bad_overrides_raise_one_line_config_errors(key, value, message):
    with pytest.raises(ConfigError) as e:
        override(smoke(), key, value)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'nope'; choose one of demo, smoke"):
        preset("nope")


@pytest.mark.parametrize("argv, message", [
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--preset", "smoke", "--rl.steps", "5"], "unrecognised argument '--rl.steps'"),   # needs the '='
    (["--preset", "smoke", "--resume", "--rl.steps=5"], "--resume continues a run with its stored config"),
])
def test_parse_train_args_errors(argv, message):
    with pytest.raises(ConfigError) as e:
        parse_train_args(argv)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


# ----------------------------------------------------------------------------- validate

def test_presets_are_valid():
    for name in PRESETS:
        assert validate(preset(name)) == preset(name)


@pytest.mark.parametrize("key, value, message", [
    ("rl.group_size", "1", "rl.group_size (G) must be at least 2"),
    ("data.families", "countdown,sudoku", "data.families: choose from"),
    ("rl.families", "trace", "rl.families: distinct families that are also in data.families"),
    ("rl.families", "sum,sum", "rl.families: distinct families that are also in data.families"),
    ("data.families", "add", "data.families and data.family_weights differ in length"),
    ("data.style_weights", "0.5,0.5", "data.style_weights: three non-negative weights"),
    ("data.style_weights", "0.5,-0.1,0.6", "data.style_weights: three non-negative weights"),
    ("data.difficulties", "1,13", "data.difficulties: countdown has no level above 12"),
    ("data.difficulties", "0,1", "data.difficulties: levels from 1 up"),
    ("data.corpus_difficulties", "3", "data.corpus_difficulties: empty, or some of data.difficulties"),
    ("frontier.start", "3", "frontier.start: 0 (off), or a level of data.difficulties"),     # smoke's are 1, 2
    ("frontier.budgets", "200", "frontier.budgets: completion widths from 8 up to data.completion_len"),
    ("frontier.threshold", "0", "frontier: threshold in (0, 1]"),
    ("frontier.budgets", "80", "frontier.budgets: only with frontier.start > 0"),
    ("model.n_heads", "3", "model.d_model / model.n_heads must be an even integer"),
    ("rl.loss", "ppo", "rl.loss: choose grpo, dr_grpo, dapo or reinforce"),
    ("rl.temperature", "0", "rl.temperature must be positive"),
])
def test_validate_rejects(key, value, message):
    cfg = override(smoke(), key, value)           # parses fine: the error is across fields or of range
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


# ----------------------------------------------------------------------------- train.py end to end

def run_train(args, timeout: float = 60):
    """Run train.py from the repository root; returns (exit status, stderr, seconds)."""
    start = time.time()
    proc = subprocess.run([sys.executable, "train.py", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)       # a check that fails to fire would start training: cut it off
    return proc.returncode, proc.stderr, time.time() - start


def assert_clean_error(rc, stderr, seconds, message):
    assert rc == 2
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert message in lines[0]
    assert seconds < 20, f"took {seconds:.0f}s: the error should come before any work"


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--preset", "smoke", "--rl.nope=1"], "unknown config key 'rl.nope'"),
    (["--preset", "smoke", "--rl.steps=abc"], "rl.steps: expected int, got 'abc'"),
    (["--preset", "smoke", "--rl.group_size=1"], "rl.group_size (G) must be at least 2"),
], ids=["unknown-preset", "unknown-key", "wrong-type", "invalid-value"])
def test_train_rejects_bad_arguments(tmp_path, args, message):
    out = tmp_path / "run"
    assert_clean_error(*run_train([*args, "--out", str(out)]), message)
    assert not out.exists()                       # nothing was written


def test_train_refuses_to_overwrite_a_run(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"preset": "smoke"}')
    assert_clean_error(*run_train(["--preset", "smoke", "--out", str(tmp_path)]), "already holds a run")
    assert config.read_text() == '{"preset": "smoke"}'          # untouched
    assert os.listdir(tmp_path) == ["config.json"]


def test_train_resume_needs_a_run(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert_clean_error(*run_train(["--preset", "smoke", "--out", str(out), "--resume"]), "nothing to resume")
    assert os.listdir(out) == []
