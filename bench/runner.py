"""What the experiment scripts of bench/ share: run train.py into a run folder, resumably, and pin an
output folder to one config.

A run folder with a summary.json is done; one with a config.json is resumed (`train.py --resume`); a
run started from a base model (`--base`) that stopped before it adopted that base is started over.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from minireason import runfolder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BenchError(Exception):
    """A bad argument or a failed run; one line for the user."""


def check_choices(chosen: list[str], allowed, what: str) -> None:
    """BenchError naming the first of CHOSEN that is not one of ALLOWED."""
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise BenchError(f"unknown {what} {unknown[0]!r}; choose from {', '.join(allowed)}")


def cli(body) -> int:
    """Run body() as a bench script's main: exit 0; 1 with a one-line error on a BenchError or a bad run
    folder; 130 on Ctrl-C, saying that the same command continues (the runs resume)."""
    try:
        body()
    except (BenchError, runfolder.RunFolderError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to continue", file=sys.stderr)
        return 130
    return 0


def train(args: list[str], folder: str) -> None:
    """train.py ARGS, its output appended to FOLDER/train.log; BenchError if it fails."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "train.log"), "a") as log:
        rc = subprocess.call([sys.executable, os.path.join(ROOT, "train.py"), *args], stdout=log,
                             stderr=subprocess.STDOUT, cwd=ROOT)
    if rc:
        raise BenchError(f"train.py {' '.join(args)} failed (exit {rc}); see {folder}/train.log")


def ensure(out: str, name: str, args: list[str], echo=print) -> str:
    """The finished run OUT/runs/NAME: made, resumed, or found done."""
    folder = os.path.join(out, "runs", name)
    if os.path.exists(os.path.join(folder, "summary.json")):
        return folder
    resume = os.path.exists(os.path.join(folder, "config.json")) and (
        "--base" not in args or os.path.exists(os.path.join(folder, "reference.json")))
    if not resume and os.path.exists(folder):
        shutil.rmtree(folder)
    echo(f"{'resuming' if resume else 'running'} {name}")
    train(["--resume", "--out", folder] if resume else [*args, "--out", folder], folder)
    return folder


def pin_config(out: str, preset: str, sets: list[str]) -> None:
    """OUT/bench.json fixes the preset and --set overrides of the runs in OUT; another config is refused."""
    os.makedirs(out, exist_ok=True)
    meta_path, meta = os.path.join(out, "bench.json"), {"preset": preset, "sets": list(sets)}
    if os.path.exists(meta_path) and runfolder.read_json(meta_path) != meta:
        stored = runfolder.read_json(meta_path)
        sets_text = " ".join(stored["sets"]) or "(none)"
        raise BenchError(f"{out} holds runs of preset {stored['preset']} with --set {sets_text}; "
                         "pick another --out for this config")
    runfolder.write_json(meta_path, meta)
