"""The frontier curriculum (minireason/frontier.py), against hand-worked cases."""
import json
import os

import numpy as np
import pytest

from minireason import frontier, rl
from minireason.config import DataConfig
from minireason.frontier import Frontier, budget


def test_weights_put_most_at_the_frontier_and_the_rest_below():
    f = Frontier(["sum"], start=1, top=5, easy_share=0.25)
    assert f.weights("sum").tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]          # nothing below level 1
    f.load({"sum": {"frontier": 3, "pass_rate": None, "batches": 0}})
    assert f.weights("sum").tolist() == [0.125, 0.125, 0.75, 0.0, 0.0]      # 0.25 shared by levels 1 and 2


def test_the_frontier_opens_after_patience_at_the_threshold():
    f = Frontier(["sum", "add"], start=1, top=2, threshold=0.6, decay=0.5, patience=2)
    one = [{"family": "sum", "difficulty": 1}] * 4
    f.update(one, [1, 1, 1, 1])                 # p = 1.0 (the first batch sets it), 1 batch: too soon
    assert f.state()["sum"] == {"frontier": 1, "pass_rate": 1.0, "batches": 1}
    f.update(one, [0, 0, 0, 0])                 # p = 0.5 * 1.0 + 0.5 * 0.0 = 0.5 < 0.6
    assert f.state()["sum"]["frontier"] == 1 and f.state()["sum"]["pass_rate"] == pytest.approx(0.5)
    f.update(one + [{"family": "sum", "difficulty": 2}], [1, 1, 1, 0, 0])   # level 2 rows do not count
    assert f.state()["sum"] == {"frontier": 2, "pass_rate": None, "batches": 0}   # p = 0.625: opened
    assert f.state()["add"] == {"frontier": 1, "pass_rate": None, "batches": 0}   # no rows: untouched
    for _ in range(5):
        f.update([{"family": "sum", "difficulty": 2}], [1])
    assert f.state()["sum"]["frontier"] == 2 and f.level() == 2                  # the top stays the top


def test_state_round_trips_and_bad_settings_are_refused():
    f = Frontier(["sum"], start=2, top=4)
    f.update([{"family": "sum", "difficulty": 2}], [1])
    g = Frontier(["sum"], start=1, top=4)
    g.load(f.state())
    assert g.state() == f.state()
    with pytest.raises(ValueError, match="outside 1..4"):
        Frontier(["sum"], start=5, top=4)
    with pytest.raises(ValueError, match="threshold"):
        Frontier(["sum"], start=1, top=4, easy_share=1.0)


def test_prompt_batch_draws_nothing_above_the_frontier():
    data = DataConfig(families=("sum",), family_weights=(1.0,), difficulties=(1, 2, 3))
    f = Frontier(["sum"], start=2, top=3, easy_share=0.25)
    problems = rl.prompt_batch(np.random.default_rng(0), data, f, 400, 2)
    levels = np.array([p["difficulty"] for p in problems[::2]])
    assert set(levels) == {1, 2} and 0.15 < np.mean(levels == 1) < 0.35


def test_budget_is_the_smallest_width_that_holds_the_need():
    assert [budget(tokens, (128, 64, 256)) for tokens in (30, 64, 65, 240, 270)] == [64, 64, 128, 256, 256]


def test_budgeted_builds_each_width_once_and_follows_every_familys_frontier():
    from minireason.frontier import Budgeted
    built = []
    f = Frontier(["sum", "add"], start=1, top=3, threshold=0.5, patience=1)
    need = {"sum": {1: 20, 2: 50, 3: 90}, "add": {1: 30, 2: 60, 3: 100}}
    sampler = Budgeted(f, (128, 32, 64), need, lambda w: built.append(w) or f"generate{w}")
    assert built == [32, 64, 128]                                    # built once each, up front
    assert sampler() == ("generate32", {"budget": 32, "frontier": 1})    # the most needed: add's 30
    f.update([{"family": "sum", "difficulty": 1}], [1])              # sum opens level 2 (50), add stays at 1 (30)
    assert sampler() == ("generate64", {"budget": 64, "frontier": 2})
    f.update([{"family": "sum", "difficulty": 2}], [1])              # sum at 3 (90)
    assert sampler() == ("generate128", {"budget": 128, "frontier": 3}) and built == [32, 64, 128]
    state = json.loads(json.dumps(f.state()))                        # through a checkpoint's meta
    g = Frontier(["sum", "add"], start=1, top=3, threshold=0.5, patience=1)
    g.load(state)
    assert Budgeted(g, (32, 64, 128), need, str)() == ("128", {"budget": 128, "frontier": 3})


def test_needs_grow_with_the_level(smoke_run):
    from minireason.frontier import needs
    from minireason.tokenizer import Tokenizer
    tok = Tokenizer.load(f"{smoke_run[0]}/tokenizer.model")
    data = DataConfig(families=("sum",), family_weights=(1.0,), difficulties=(1, 2, 3, 4, 5, 6))
    need = needs(data, ("sum",), 0, tok)["sum"]
    assert list(need) == [1, 2, 3, 4, 5, 6] and all(a < b for a, b in zip(need.values(), list(need.values())[1:]))


def test_a_frontier_run_logs_its_frontier_and_budget(tmp_path):
    from minireason.config import override, smoke
    from minireason.run import run
    cfg = smoke()
    for k, v in {"data.families": "sum", "data.family_weights": "1", "data.difficulties": "1,2,3,4",
                 "frontier.start": "1", "frontier.budgets": "64,80"}.items():
        cfg = override(cfg, k, v)
    said = []
    run(cfg, str(tmp_path / "run"), echo=said.append)
    from minireason.frontier import needs
    from minireason.tokenizer import Tokenizer
    need = needs(cfg.data, ("sum",), cfg.seed, Tokenizer.load(str(tmp_path / "run" / "tokenizer.model")))["sum"]
    assert need[1] <= 64                                   # so level 1 runs on the narrower sampler
    assert any("frontier: tokens needed per level (budgets 64, 80)" in line for line in said)
    rows = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
    rl_rows = [r for r in rows if r["stage"] == "rl"]      # the smoke model solves nothing: the frontier stays
    assert all(r["frontier"] == 1 and r["budget"] == 64 for r in rl_rows)
    assert all(set(r["curriculum"]) == {"sum"} and r["curriculum"]["sum"]["frontier"] == 1 for r in rl_rows)
    probed = [r for r in rl_rows if "heldout_accuracy" in r]        # the held-out probe, per level too
    assert probed and all(f"heldout_d{lv}_accuracy" in r for r in probed for lv in (1, 2, 3, 4))
    block = json.load(open(tmp_path / "run" / "summary.json"))["frontier"]
    assert (block["start"], block["end"], block["opened"]) == (1, 1, [])
    assert any(line.startswith("frontier: level 1 -> 1 (opened none)") for line in said)


def _rows(levels, lengths, reflection):
    return [{"stage": "rl", "step": i + 1, "frontier": f, "length_mean": n, "reflection_rate": r, "budget": 64}
            for i, (f, n, r) in enumerate(zip(levels, lengths, reflection))]


def test_summary_block_by_hand():
    rows = [{"stage": "pretrain", "step": 1, "loss": 2.0}] + _rows(
        [1, 1, 2, 2, 3, 3], [10, 12, 20, 22, 40, 44], [0.1, 0.3, 0.4, 0.4, 0.6, 0.8])
    def cell(acc, n):
        return {"base": {"accuracy": 0.1, "length_mean": n}, "final": {"accuracy": acc, "length_mean": 2 * n}}
    summary = {"domains": {"arith": {"by_difficulty": {"1": cell(0.9, 10), "2": cell(0.7, 20), "3": cell(0.4, 30)}}}}
    b = frontier.summary_block(rows, summary)
    assert (b["start"], b["end"], b["levels_advanced"]) == (1, 3, 2)
    assert b["opened"] == [{"step": 3, "level": 2}, {"step": 5, "level": 3}]
    assert b["length_base"] == 10 and b["length_end"] == pytest.approx(148 / 6)   # fewer than TAIL rows: all
    assert b["length_ratio"] == pytest.approx(14.8 / 6) and b["rho_length"] == pytest.approx(1.0)
    assert b["reflection_by_frontier"] == pytest.approx({"1": 0.2, "2": 0.4, "3": 0.7})
    assert b["heldout"]["arith"] == {"accuracy_passed": {"1": 0.9, "2": 0.7},
                                     "length_at_end_level": {"base": 30, "final": 60}}
    assert "level 1 -> 3 (opened 2 at step 3, 3 at step 5)" in frontier.format_block(b)
    assert frontier.summary_block(rows[:1], summary) is None                   # no frontier rows
    many = _rows([1] * 12, list(range(1, 13)), [0.5] * 12)                     # more rows than TAIL = 10
    assert frontier.summary_block(many, summary)["length_end"] == pytest.approx(7.5)   # mean of 3..12, the last 10


def test_frontier_curves_png(tmp_path):
    pytest.importorskip("matplotlib")
    from minireason import plots
    rows = _rows([1, 1, 2, 2], [10, 12, 20, 22], [0.1, 0.3, 0.4, 0.4])
    for r in rows:
        r.update(length_correct=r["length_mean"], length_incorrect=None, effective_reflection_rate=0.5)
    rows[1].update(heldout_d1_accuracy=0.5, heldout_d1_length_mean=11, heldout_d2_accuracy=0.2,
                   heldout_d2_length_mean=25, heldout_reflection_rate=0.3)
    assert plots.levels_of(rows) == [1, 2]
    path = tmp_path / "plots" / "frontier.png"
    plots.frontier_curves(rows, str(path))
    assert path.read_bytes().startswith(b"\x89PNG") and os.listdir(path.parent) == ["frontier.png"]
