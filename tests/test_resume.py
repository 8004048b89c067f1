"""Exact resume: a run killed with SIGKILL in the middle of RL, then restarted with --resume, logs the same
metrics, step for step, and ends with the same summary as a run that was never interrupted."""
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = [sys.executable, "train.py", "--preset", "smoke", "--rl.steps=6", "--rl.checkpoint_every=2",
        "--rl.eval_every=3"]
TIMING = ("time_generate", "time_update")          # wall-clock fields: the only ones allowed to differ


def rows(run: str) -> list[dict]:
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items() if k not in TIMING} for line in f]


def summary(run: str) -> dict:
    with open(os.path.join(run, "summary.json")) as f:
        return {k: v for k, v in json.load(f).items() if k != "wall_seconds"}


def rl_steps_logged(run: str) -> int:
    try:
        with open(os.path.join(run, "metrics.jsonl")) as f:
            return sum(1 for line in f if '"stage": "rl"' in line)
    except OSError:
        return 0


def test_sigkill_mid_rl_then_resume_equals_the_uninterrupted_run(tmp_path):
    full, killed = str(tmp_path / "full"), str(tmp_path / "killed")
    subprocess.run(ARGS + ["--out", full], cwd=ROOT, check=True, capture_output=True, timeout=600)

    proc = subprocess.Popen(ARGS + ["--out", killed], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while rl_steps_logged(killed) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)                  # after step 3: past the checkpoint at step 2
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not os.path.exists(os.path.join(killed, "summary.json"))

    resumed = subprocess.run(ARGS + ["--out", killed, "--resume"], cwd=ROOT, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert rows(killed) == rows(full)
    assert summary(killed) == summary(full)
