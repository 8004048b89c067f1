"""Rebuild a run's summary.json from its checkpoints with today's metrics code.

    python bench/regrade.py runs/demo-seed0 [runs/demo-seed1 ...]

The held-out evaluation samples with a fixed key (run.heldout_report), so the base model (the last
pretraining checkpoint) and the final model (the last RL checkpoint) write exactly the completions
they wrote when the run ended; this script grades them again with the current verifier and metrics
and rewrites summary.json, keeping its wall seconds. Use it after a metric's definition changes, so
that a stored figure never comes from an older definition than the code's. It prints every value
that changed (and `unchanged` when none did); the old file is kept as summary.before-regrade.json.
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minireason import calibration  # noqa: E402
from minireason import run as run_lib  # noqa: E402
from minireason.load import load_params, load_run  # noqa: E402
from minireason.runfolder import RunFolderError, read_json, write_json  # noqa: E402


def changes(old, new, path=""):
    """(path, old, new) of every leaf that differs between two JSON values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            out += changes(old.get(k), new.get(k), f"{path}/{k}")
        return out
    return [] if old == new else [(path, old, new)]


def regrade(run_dir: str) -> list:
    """Rewrite run_dir/summary.json with today's metrics (the held-out tables and the calibration block;
    the judge's and transfer blocks are kept as they were); returns what changed."""
    run = load_run(run_dir, echo=lambda *a: None)
    base_params, _ = load_params(run_dir, run.cfg, run.graphdef, run.params, base=True, echo=lambda *a: None)
    base = run_lib.heldout_report(run.cfg, run.generate, run.tokenizer, base_params)
    final = run_lib.heldout_report(run.cfg, run.generate, run.tokenizer, run.params)
    path = os.path.join(run_dir, "summary.json")
    old = read_json(path)
    new = run_lib.make_summary(base, final, old["wall_seconds"])
    if run.cfg.data.confidence != "none":
        new["calibration"] = calibration.summary_block(base, final)
    for key in old.keys() - new.keys():                   # judge, transfer: not rebuilt here, kept as they were
        new[key] = old[key]
    new = json.loads(json.dumps(new))                      # the types JSON gives back, for the comparison
    diff = changes(old, new)
    if diff:
        write_json(os.path.join(run_dir, "summary.before-regrade.json"), old)
        write_json(path, new)
    return diff


def main(paths) -> int:
    if not paths:
        print(__doc__.split("\n\n")[1])
        return 2
    for run_dir in paths:
        try:
            diff = regrade(run_dir)
        except RunFolderError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"{run_dir}: " + ("unchanged" if not diff else f"{len(diff)} values changed"))
        for where, a, b in diff:
            print(f"  {where}: {a} -> {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
