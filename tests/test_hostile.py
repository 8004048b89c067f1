"""Hostile input, property-based: random command lines and config files either work or fail with one
ConfigError line, never another exception; a run folder with a tokenizer that is not one is refused."""
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minireason.config import ConfigError, from_dict, to_dict, validate
from train import parse_train_args

KEYS = ["rl.lr", "rl.steps", "rl.group_size", "rl.loss", "rl.curriculum", "data.style_weights", "model.d_model",
        "data.families", "seed", "preset", "rl", "rl.", ".lr", "nope.nope", "alarms.kl", "eval.temperature"]
VALUES = ["1", "0", "-1", "1e-4", "abc", "", "true", "nan", "inf", "1,2,3", "grpo", "dapo", "9" * 40, "=", "é", "0x10"]
arguments = st.one_of(
    st.builds(lambda k, v: f"--{k}={v}", st.sampled_from(KEYS), st.sampled_from(VALUES)),
    st.sampled_from(["--preset", "smoke", "demo", "--seed", "3", "--resume", "--out", "x", "-h2", "--", "--rl.lr"]),
    st.text(max_size=20),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(arguments, max_size=6))
def test_any_command_line_parses_or_gives_one_config_error(argv):
    try:
        cfg, out, resume, _ = parse_train_args(argv)
        validate(cfg)
    except ConfigError as e:
        assert "\n" not in str(e) and str(e)
    except SystemExit:            # argparse's own usage errors (e.g. '--out' without a value): exit 2
        pass


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3), max_leaves=8)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.sampled_from(["preset", "seed", "model", "data", "rl", "eval", "alarms", "x"]), json_values,
                       max_size=5))
def test_any_config_json_loads_or_gives_one_config_error(raw):
    try:
        validate(from_dict(raw))
    except ConfigError as e:
        assert "\n" not in str(e) and str(e)


def test_a_valid_config_survives_the_round_trip():
    from minireason.config import smoke
    assert from_dict(json.loads(json.dumps(to_dict(smoke())))) == smoke()


@pytest.mark.parametrize("content", [b"", b"not a tokenizer", os.urandom(256)])
def test_resume_with_a_tokenizer_that_is_not_one_is_a_one_line_error(tmp_path, content):
    from test_cli import assert_clean_error, run_train
    out = tmp_path / "run"
    out.mkdir()
    from minireason.config import smoke
    (out / "config.json").write_text(json.dumps(to_dict(smoke())))
    (out / "tokenizer.model").write_bytes(content)
    assert_clean_error(*run_train(["--out", str(out), "--resume"]), "tokenizer")


def _field_values():
    import dataclasses
    import typing

    from minireason.config import Config
    out = []
    for name, typ in typing.get_type_hints(Config).items():
        if dataclasses.is_dataclass(typ):
            out += [(name, f) for f in typing.get_type_hints(typ)]
    return out


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_field_values()),
                          st.one_of(st.integers(-3, 3), st.integers(), st.floats(), st.booleans(), st.text(max_size=6),
                                    st.lists(st.one_of(st.integers(-2, 2), st.floats(-1, 2), st.text(max_size=8)),
                                             max_size=4))), max_size=4))
def test_any_field_value_validates_or_gives_one_config_error(changes):
    from minireason.config import smoke
    raw = to_dict(smoke())
    for (section, field), value in changes:
        raw[section][field] = value
    try:
        validate(from_dict(raw))
    except ConfigError as e:
        assert "\n" not in str(e) and str(e)
