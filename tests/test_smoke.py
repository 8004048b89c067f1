"""The whole pipeline on the `smoke` preset: every file of the run folder, with the documented keys."""
import json
import os

import pytest

from minireason.config import smoke
from minireason.run import run
from minireason.runfolder import RunFolderError

RL_KEYS = ("reward", "accuracy", "length_mean", "length_correct", "length_incorrect", "truncation_rate",
           "zero_variance_groups", "reflection_rate", "effective_reflection_rate", "kl", "entropy",
           "clip_fraction", "step_accuracy", "style_share_reflect", "accuracy_reflect")


def _rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_smoke_run_writes_every_file(smoke_run):
    out, _ = smoke_run
    for name in ("config.json", "tokenizer.model", "metrics.jsonl", "samples.jsonl", "summary.json", "eval_base.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0, name
    assert os.listdir(os.path.join(out, "pretrain", "checkpoints"))
    assert os.listdir(os.path.join(out, "rl", "checkpoints"))
    assert not [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".tmp")]


def test_metrics_rows(smoke_run):
    out, _ = smoke_run
    rows = _rows(os.path.join(out, "metrics.jsonl"))
    assert all("stage" in r and "step" in r for r in rows)
    rl_rows = [r for r in rows if r["stage"] == "rl"]
    assert [r["step"] for r in rl_rows] == [1, 2, 3, 4]
    for r in rl_rows:
        for k in RL_KEYS:
            assert k in r, k
        assert 0.0 <= r["reflection_rate"] <= 1.0 and r["length_mean"] > 0
    assert any("heldout_loss" in r for r in rows if r["stage"] == "pretrain")


def test_samples_can_be_verified_again(smoke_run):
    from minireason.verifiers import verify
    out, _ = smoke_run
    rows = _rows(os.path.join(out, "samples.jsonl"))
    assert rows and {r["step"] for r in rows} == {1, 2, 4}
    for r in rows:
        assert verify(r["task"], r["completion"]).reward == r["reward"]


def test_summary_shape(smoke_run):
    out, summary = smoke_run
    with open(os.path.join(out, "summary.json")) as f:
        assert json.load(f) == json.loads(json.dumps(summary))
    arith = summary["domains"]["arith"]
    for side in ("base", "final"):
        assert set(arith[side]) == {"accuracy", "length_mean", "reflection_rate", "effective_reflection_rate",
                                    "problems", "count", "revisions"}
        assert all(0.0 <= arith[side][k] <= 1.0 for k in ("accuracy", "reflection_rate"))
        eff = arith[side]["effective_reflection_rate"]           # null exactly when there was no revision
        assert (eff is None) == (arith[side]["revisions"] == 0) and (eff is None or 0.0 <= eff <= 1.0)
        assert arith[side]["problems"] == arith[side]["count"]   # one completion per distinct problem
    assert set(arith["by_difficulty"]) == {"1", "2"}
    assert set(summary["wall_seconds"]) == {"pretrain", "rl", "eval", "total"}


def test_out_folder_holding_a_run_is_refused_without_resume(smoke_run):
    out, _ = smoke_run
    with pytest.raises(RunFolderError, match="already holds a run"):
        run(smoke(), out, echo=lambda *a: None)


def test_resume_of_a_finished_run_reproduces_its_summary(smoke_run):
    out, summary = smoke_run
    again = run(smoke(), out, resume=True, echo=lambda *a: None)
    assert again["domains"] == json.loads(json.dumps(summary["domains"]))


def test_resume_with_only_corrupt_checkpoints_is_a_one_line_error(smoke_run, tmp_path):
    import shutil
    import subprocess
    import sys
    out, _ = smoke_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    for folder in ("pretrain", "rl"):
        for name in os.listdir(copy / folder / "checkpoints"):
            path = copy / folder / "checkpoints" / name
            path.write_bytes(path.read_bytes()[:100])          # truncated mid-file
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "train.py", "--resume", "--out", str(copy)], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "corrupt" in proc.stderr and "Traceback" not in proc.stderr


def test_a_run_on_another_runs_base_model_reproduces_it(smoke_run, tmp_path):
    """`train.py --base RUN`: the same RL on RUN's base model gives RUN's summary (nothing re-pretrained)."""
    out, summary = smoke_run
    again = run(smoke(), str(tmp_path / "again"), echo=lambda *a: None, base=out)
    assert again["domains"] == json.loads(json.dumps(summary["domains"]))
    pretrain_rows = [[r for r in _rows(os.path.join(d, "metrics.jsonl")) if r["stage"] == "pretrain"]
                     for d in (out, tmp_path / "again")]
    assert pretrain_rows[0] == pretrain_rows[1] and pretrain_rows[0]
    assert sorted(os.listdir(tmp_path / "again" / "pretrain" / "checkpoints")) == \
        sorted(os.listdir(os.path.join(out, "pretrain", "checkpoints")))


@pytest.mark.parametrize("change, message", [
    (dict(seed=1), "made with another seed"),
    (dict(pretrain_steps=13), "made with another pretrain"),
])
def test_a_base_of_another_config_is_refused(smoke_run, tmp_path, change, message):
    import dataclasses
    out, _ = smoke_run
    cfg = smoke()
    if "seed" in change:
        cfg = dataclasses.replace(cfg, seed=change["seed"])
    else:
        cfg = dataclasses.replace(cfg, pretrain=dataclasses.replace(cfg.pretrain, steps=change["pretrain_steps"]))
    with pytest.raises(RunFolderError, match=message):
        run(cfg, str(tmp_path / "other"), echo=lambda *a: None, base=out)


def test_a_base_without_finished_pretraining_is_refused(smoke_run, tmp_path):
    import shutil
    out, _ = smoke_run
    half = tmp_path / "half"
    shutil.copytree(out, half)
    shutil.rmtree(half / "pretrain")
    with pytest.raises(RunFolderError, match="no finished pretraining"):
        run(smoke(), str(tmp_path / "new"), echo=lambda *a: None, base=str(half))
