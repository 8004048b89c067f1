"""The frontier curriculum (minireason/frontier.py), against hand-worked cases."""
import numpy as np
import pytest

from minireason import rl
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
    assert f.state()["sum"] == {"frontier": 2, "pass_rate": None, "batches": 0}   # p = 0.75: opened
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


def test_budget_is_the_smallest_compiled_width_that_holds_the_need():
    need = lambda level: 30 * level      # noqa: E731
    assert [budget(level, (128, 64, 256), need) for level in (1, 2, 3, 8, 9)] == [64, 64, 128, 256, 256]
