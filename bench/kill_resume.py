"""Kill a run with SIGKILL at random moments, resume it each time, and compare it with an uninterrupted run.

    python bench/kill_resume.py --compare runs/demo-seed0 --out runs/kill-seed0 --kills 10 [--seed 0]

The run (`python train.py --seed S --out OUT`, plus any `--preset`) is killed `--kills` times, each
after a random wait of `--min-wait` to `--max-wait` seconds from its (re)start, and resumed with
`--resume`; then it runs to the end. Its metrics (without wall-clock fields) and summary (without wall
seconds) must equal those of the `--compare` run, step for step. Prints one JSON line with the kill
times, the stage and step each kill landed in, and whether everything matched.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WALL_CLOCK = ("time_generate", "time_update", "alarms")    # alarms: absent from runs made before alarms existed


def rows(run: str) -> list[dict]:
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items() if k not in WALL_CLOCK} for line in f]


def summary(run: str) -> dict:
    with open(os.path.join(run, "summary.json")) as f:
        return {k: v for k, v in json.load(f).items() if k != "wall_seconds"}


def last_row(run: str) -> tuple[str, int]:
    try:
        with open(os.path.join(run, "metrics.jsonl")) as f:
            lines = [line for line in f if line.strip()]
        row = json.loads(lines[-1])
        return row["stage"], row["step"]
    except (OSError, IndexError, ValueError, KeyError):
        return "setup", 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", required=True, help="the uninterrupted run folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preset", default="demo")
    ap.add_argument("--min-wait", type=float, default=40.0)
    ap.add_argument("--max-wait", type=float, default=120.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = [sys.executable, "train.py", "--preset", args.preset, "--seed", str(args.seed), "--out", args.out]
    kills = []
    with open(args.out + ".log", "a") as log:
        for k in range(args.kills + 1):
            cmd = base + (["--resume"] if k else [])
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            if k == args.kills:
                proc.wait()
                break
            wait = rng.uniform(args.min_wait, args.max_wait)
            try:
                proc.wait(timeout=wait)
                print(f"run ended before kill {k + 1}", flush=True)
                break
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            stage, step = last_row(args.out)
            kills.append({"after_s": round(wait, 1), "last_logged": f"{stage} {step}"})
            print(f"kill {k + 1}: after {wait:.0f} s, last logged {stage} step {step}", flush=True)
    same_rows, same_summary = rows(args.out) == rows(args.compare), summary(args.out) == summary(args.compare)
    print(json.dumps({"kills": kills, "exit": proc.returncode, "metrics_identical": same_rows,
                      "summary_identical": same_summary}))
    return 0 if same_rows and same_summary and proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
