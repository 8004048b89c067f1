"""The run folder: what it holds, and writing its files so that a crash never leaves half a file.

    config.json       the full configuration of the run
    tokenizer.model   the SentencePiece model trained on this run's corpus
    pretrain/         checkpoints of pretraining (the last one is the base model)
    rl/               checkpoints of RL
    metrics.jsonl     one JSON object a line; every row has `stage` and `step`
    samples.jsonl     sampled completions: `step`, `task` (the problem), `completion`, `reward` (the
                      verifier's) and `trained_reward` (what the update used: the same, or a judge's)
    eval_base.json    held-out evaluation of the base model (kept so a resumed run need not redo it)
    summary.json      base vs final model on held-out problems, and wall seconds per stage
    plots/            training.png, the curves of metrics.jsonl (when matplotlib is installed);
                      testtime.png, written by `verify.py --run`
    eval.json         `verify.py --run`: pass@k, maj@k, budget forcing, length vs difficulty
    report.html       `verify.py --run --report`: one self-contained page of all the above
    .lock             held by the process training in the folder (`lock`): a second one is refused
    reference.json    (a `--base` run) the base run's summary, the transfer measures' reference
    judge/            (rl.reward=judge) the judge: tokenizer.model, train/ checkpoints, corpus.json,
                      judge_eval.json (judge.py)

Several hosts (sharding.py): every process runs the same program, and only the first one writes.
`WRITER` is False on the others, and every writer here (`write_json`, `Jsonl.write`, `truncate_jsonl`,
checkpoint.save_checkpoint) then does nothing; on one host it is always True.
"""
from __future__ import annotations

import json
import os

try:
    import fcntl
except ImportError:            # not POSIX: no lock (two processes in one folder are then the user's care)
    fcntl = None

WRITER = True       # False on every process but the first of a multi-host run (sharding.initialize)


class RunFolderError(ValueError):
    """A run folder that cannot be used; the message is one line for the user."""


def lock(out: str):
    """Hold an exclusive lock on out/.lock for as long as the returned file stays open: a second process
    training in the same folder (a sweep restarted while an orphaned run goes on) gets RunFolderError."""
    f = open(os.path.join(out, ".lock"), "w")
    if fcntl is not None:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise RunFolderError(f"another process is training in {out}; wait for it or stop it first") from None
    return f


def write_json(path: str, obj) -> None:
    """Write JSON atomically: a temporary file, flushed and fsynced, then renamed over `path`."""
    if not WRITER:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: str):
    """Read a JSON file; RunFolderError with a one-line message if it cannot be read."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise RunFolderError(f"cannot read {path}: {e}") from None


class Jsonl:
    """Append-only JSON-lines log; each row is appended and flushed on its own (a few rows a second)."""

    def __init__(self, path: str):
        self.path = path

    def write(self, row: dict) -> None:
        if not WRITER:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")

    def rows(self) -> list[dict]:
        """Every row logged so far (a half-written last line from a crash is skipped)."""
        if not os.path.exists(self.path):
            return []
        rows = []
        with open(self.path) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return rows

    def truncate_after(self, stage: str | None, step: int) -> None:
        """Resuming at `step`: drop rows (of `stage`, or all rows if None) logged after it."""
        truncate_jsonl(self.path, lambda row: (stage is not None and row.get("stage") != stage)
                       or row.get("step", 0) <= step)


def truncate_jsonl(path: str, keep) -> None:
    """On resume: drop rows written after the checkpoint we resume from (keep(row) is False)."""
    if not WRITER or not os.path.exists(path):
        return
    rows = []
    with open(path) as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue                      # a half-written last line from a crash
            if keep(row):
                rows.append(line if line.endswith("\n") else line + "\n")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(rows)
    os.replace(tmp, path)
