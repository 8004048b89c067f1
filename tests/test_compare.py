"""compare.py and `verify.py --compare`: variants, the final-window mean, the table against hand-computed
values, the one-line errors, and the command line end to end on small run folders written here."""
import json
import os
import subprocess
import sys

import pytest

from minireason import plots
from minireason.compare import compare_table, final_window, load_runs, run_styles, variant_of
from minireason.runfolder import RunFolderError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG = b"\x89PNG\r\n\x1a\n"


def side(acc, length, refl, eff):
    return {"accuracy": acc, "length_mean": length, "reflection_rate": refl, "effective_reflection_rate": eff,
            "problems": 10, "count": 10, "revisions": 0 if eff is None else 4}


def rl_row(step, reward, correct, incorrect, **extra):
    return {"stage": "rl", "step": step, "reward": reward, "accuracy": reward, "length_mean": 20.0,
            "length_correct": correct, "length_incorrect": incorrect, "reflection_rate": 0.25,
            "effective_reflection_rate": None, "kl": None, "entropy": 1.0, **extra}


def write_run(root, name, base, final, rows=None):
    """A run folder with config.json, summary.json (one domain, `arith`) and, if rows, metrics.jsonl."""
    path = root / name
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"rl": {"loss": "grpo"}}))
    summary = {"domains": {"arith": {"base": base, "final": final, "by_difficulty": {}}}, "wall_seconds": {}}
    (path / "summary.json").write_text(json.dumps(summary))
    if rows is not None:
        with open(path / "metrics.jsonl", "w") as f:
            f.write(json.dumps({"stage": "pretrain", "step": 10, "loss": 2.0}) + "\n")
            f.writelines(json.dumps(r) + "\n" for r in rows)
    return str(path)


@pytest.fixture
def three_runs(tmp_path):
    """grpo-seed0 and grpo-seed1 (one variant) and noreflect-seed0 (no reflection, so no revisions: its
    effective_reflection_rate is null), each with two RL steps whose last-20 means are easy to compute."""
    a = write_run(tmp_path, "grpo-seed0", side(0.2, 10.0, 0.1, 0.5), side(0.6, 30.0, 0.5, 0.25),
                  [rl_row(1, 0.0, 10.0, 10.0), rl_row(2, 1.0, 10.0, 30.0)])        # means 0.5, 10, 20 -> ratio 2
    b = write_run(tmp_path, "grpo-seed1", side(0.4, 12.0, 0.2, 0.5), side(0.8, 34.0, 0.7, 0.75),
                  [rl_row(1, 0.5, 20.0, 30.0), rl_row(2, 0.5, None, None)])       # means 0.5, 20, 30 -> ratio 1.5
    c = write_run(tmp_path, "noreflect-seed0", side(0.3, 8.0, 0.0, None), side(0.5, 9.0, 0.0, None),
                  [rl_row(1, 0.25, 8.0, 8.0)])
    return [a, c, b]


def test_variant_of_drops_a_trailing_seed_only():
    assert variant_of("grpo-seed0") == variant_of("grpo-seed1") == "grpo"
    assert variant_of("dr-grpo-seed12") == "dr-grpo"
    assert variant_of("grpo") == "grpo"
    assert variant_of("grpo-seed") == "grpo-seed"
    assert variant_of("a-seed1-b") == "a-seed1-b"


def test_final_window_is_the_mean_of_the_last_values_that_are_numbers():
    rows = [{"step": s, "x": x} for s, x in enumerate([1.0, None, 3.0, 5.0, None], start=1)] + [{"step": 6}]
    assert final_window(rows, "x", window=2) == 4.0           # (3 + 5) / 2: the nulls are skipped
    assert final_window(rows, "x", window=20) == 3.0          # fewer values than the window: (1 + 3 + 5) / 3
    assert final_window(rows, "x") == 3.0
    assert final_window([{"step": 1, "x": None}], "x") is None
    assert final_window(rows, "missing") is None
    assert final_window([], "x") is None


def test_load_runs_reads_names_summaries_and_the_rl_rows_by_step(three_runs):
    runs = load_runs(three_runs)
    assert [r.name for r in runs] == ["grpo-seed0", "noreflect-seed0", "grpo-seed1"]
    assert runs[0].config == {"rl": {"loss": "grpo"}}
    assert runs[0].summary["domains"]["arith"]["final"]["accuracy"] == 0.6
    assert [r["step"] for r in runs[0].rows] == [1, 2]             # the pretrain row is not an RL row


def row_of(table, label):
    """The line of the plain table that starts with `label` (the first, if several sections have one)."""
    return next(line for line in table.splitlines() if line.startswith(label + " "))


def test_compare_table_gives_each_run_and_the_variant_mean_and_range(three_runs):
    table = compare_table(load_runs(three_runs))
    assert "held-out arith: base → final" in table
    # runs grouped by variant: grpo-seed1 comes before noreflect-seed0, then the variant's row
    labels = [line.split()[0] for line in table.splitlines()[2:6]]
    assert labels == ["grpo-seed0", "grpo-seed1", "grpo:", "noreflect-seed0"]
    assert row_of(table, "grpo-seed0").split() == ["grpo-seed0", "0.20", "→", "0.60", "10.0", "→", "30.0",
                                                   "0.10", "→", "0.50", "0.50", "→", "0.25"]
    variant = row_of(table, "grpo: mean [min–max] of 2")
    assert "0.30 [0.20–0.40] → 0.70 [0.60–0.80]" in variant                   # accuracy
    assert "11.0 [10.0–12.0] → 32.0 [30.0–34.0]" in variant                   # length_mean
    assert "0.50 [0.50–0.50] → 0.50 [0.25–0.75]" in variant                   # effective_reflection_rate
    assert row_of(table, "noreflect-seed0").split()[-3:] == ["–", "→", "–"]  # null: no revisions


def test_compare_table_batch_columns_over_the_last_steps(three_runs):
    table = compare_table(load_runs(three_runs))
    batch = table.split("training batch: mean of the last 20 RL steps")[1]
    assert row_of(batch, "grpo-seed0").split()[1:] == ["0.50", "10.0", "20.0", "2.00"]
    assert row_of(batch, "grpo-seed1").split()[1:] == ["0.50", "20.0", "30.0", "1.50"]
    variant = row_of(batch, "grpo: mean [min–max] of 2")
    assert "15.0 [10.0–20.0]" in variant and "25.0 [20.0–30.0]" in variant
    assert "1.75 [1.50–2.00]" in variant           # the mean of the runs' ratios, not the ratio of the means


def test_a_run_without_rl_rows_still_tabulates(tmp_path):
    a = write_run(tmp_path, "pre-only", side(0.2, 10.0, 0.1, 0.5), side(0.2, 10.0, 0.1, 0.5),
                  rows=[])                                                     # metrics.jsonl: pretrain rows
    b = write_run(tmp_path, "no-metrics", side(0.4, 12.0, 0.2, 0.5), side(0.8, 34.0, 0.7, 0.75))
    table = compare_table(load_runs([a, b]))
    batch = table.split("training batch")[1]
    for name in ("pre-only", "no-metrics"):
        assert row_of(table, name).split()[1:4] == ["0.20" if name == "pre-only" else "0.40", "→",
                                                   "0.20" if name == "pre-only" else "0.80"]
        assert row_of(batch, name).split()[1:] == ["–"] * 4


def test_a_run_still_training_has_no_summary(tmp_path):
    finished = write_run(tmp_path, "done", side(0.2, 10.0, 0.1, 0.5), side(0.6, 30.0, 0.5, 0.25))
    running = tmp_path / "running"
    running.mkdir()
    (running / "metrics.jsonl").write_text(json.dumps(rl_row(1, 1.0, 12.0, 6.0)) + "\n")
    runs = load_runs([finished, str(running)])
    assert runs[1].summary is None and runs[1].config == {}
    table = compare_table(runs)
    assert row_of(table, "running").split()[1:4] == ["–", "→", "–"]
    assert row_of(table.split("training batch")[1], "running").split()[1:] == ["1.00", "12.0", "6.0", "0.50"]


def test_markdown_table(three_runs):
    table = compare_table(load_runs(three_runs), markdown=True)
    assert "**held-out arith: base → final (summary.json)**" in table
    assert "| run | accuracy | length_mean | reflection_rate | effective_reflection_rate |" in table
    assert "| grpo-seed0 | 0.20 → 0.60 | 10.0 → 30.0 | 0.10 → 0.50 | 0.50 → 0.25 |" in table
    assert "| grpo: mean [min–max] of 2 | 0.30 [0.20–0.40] → 0.70 [0.60–0.80] |" in table
    assert "| grpo-seed0 | 0.50 | 10.0 | 20.0 | 2.00 |" in table


def test_runs_of_one_variant_share_a_colour_and_differ_by_line_style(three_runs):
    styles = run_styles(load_runs(three_runs))
    assert styles["grpo-seed0"]["color"] == styles["grpo-seed1"]["color"] != styles["noreflect-seed0"]["color"]
    assert styles["grpo-seed0"]["ls"] != styles["grpo-seed1"]["ls"]


def one_line_error(paths):
    with pytest.raises(RunFolderError) as e:
        load_runs(paths)
    message = str(e.value)
    assert "\n" not in message
    return message


def test_errors_are_one_line_and_name_the_folder(tmp_path, three_runs):
    assert str(tmp_path / "nope") in one_line_error([three_runs[0], str(tmp_path / "nope")])
    (tmp_path / "empty").mkdir()
    assert "empty" in one_line_error([three_runs[0], str(tmp_path / "empty")])
    assert "at least 2 runs" in one_line_error([three_runs[0]])
    assert "grpo-seed0" in one_line_error([three_runs[0], three_runs[0]])


def run_cli(*args):
    return subprocess.run([sys.executable, "verify.py", "--compare", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli_prints_the_table_and_writes_the_figure(tmp_path, three_runs):
    out = tmp_path / "figs" / "compare.png"
    pre = write_run(tmp_path, "pre-only", side(0.2, 10.0, 0.1, None), side(0.2, 10.0, 0.1, None), rows=[])
    proc = run_cli(*three_runs, pre, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "grpo: mean [min–max] of 2" in proc.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert plots.SKIPPED in proc.stdout
        return
    assert f"wrote {out}" in proc.stdout
    assert out.read_bytes().startswith(PNG)


def test_cli_markdown(three_runs, tmp_path):
    proc = run_cli(*three_runs, "--markdown", "--out", str(tmp_path / "c.png"))
    assert proc.returncode == 0, proc.stderr
    assert "| grpo-seed0 | 0.20 → 0.60 |" in proc.stdout


@pytest.mark.parametrize("bad", ["missing", "one"])
def test_cli_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, three_runs, bad):
    args = [three_runs[0], str(tmp_path / "nope")] if bad == "missing" else [three_runs[0]]
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
