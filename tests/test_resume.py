"""Exact resume: a run killed with SIGKILL in the middle of RL, then restarted with --resume, logs the same
metrics, step for step, and ends with the same summary as a run that was never interrupted."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

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


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("full") / "run")
    proc = subprocess.run(ARGS + ["--out", out], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def start_and_stop(out: str, sig: int) -> subprocess.CompletedProcess:
    """Start a run, send `sig` once RL has logged step 3 (past the checkpoint at step 2), wait for it."""
    log = out + ".log"                   # a file, not a pipe: a full pipe would block the run
    with open(log, "w") as f:
        # SIG_DFL: a shell without job control starts background jobs with SIGINT ignored, and Python
        # then installs no KeyboardInterrupt handler; the run must see Ctrl-C as a user would
        proc = subprocess.Popen(ARGS + ["--out", out], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 600
        while rl_steps_logged(out) < 3 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(sig)
        proc.wait(timeout=600)
    with open(log) as f:
        return subprocess.CompletedProcess(proc.args, proc.returncode, f.read(), "")


def resume(out: str) -> subprocess.CompletedProcess:
    """`--resume` takes the run's stored config, so it is given no preset or overrides."""
    return subprocess.run([sys.executable, "train.py", "--out", out, "--resume"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_sigkill_mid_rl_then_resume_equals_the_uninterrupted_run(full, tmp_path):
    killed = str(tmp_path / "killed")
    stopped = start_and_stop(killed, signal.SIGKILL)
    assert stopped.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not os.path.exists(os.path.join(killed, "summary.json"))

    resumed = resume(killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert rows(killed) == rows(full)
    assert summary(killed) == summary(full)


def test_ctrl_c_saves_the_last_step_and_resume_equals_the_uninterrupted_run(full, tmp_path):
    out = str(tmp_path / "interrupted")
    stopped = start_and_stop(out, signal.SIGINT)
    assert stopped.returncode == 130, stopped.stdout[-2000:]
    assert "continue with --resume" in stopped.stdout
    saved = int(stopped.stdout.split("saved a checkpoint at RL step ")[1].split()[0])
    assert saved >= 3 and os.path.exists(os.path.join(out, "rl", "checkpoints", f"ckpt_{saved:07d}.ckpt"))
    resumed = resume(out)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert rows(out) == rows(full)
    assert summary(out) == summary(full)
