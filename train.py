"""Pretrain, RL and evaluate in one command: `python train.py` (see README.md).

Arguments: `--preset`, `--out`, `--seed`, `--resume`, `--base RUN`, and any config field as
`--section.field=value`.
"""
from __future__ import annotations

import argparse
import sys

from minireason.alarms import Diverged
from minireason.checkpoint import CheckpointError
from minireason.config import PRESETS, Config, ConfigError, override, preset
from minireason.runfolder import RunFolderError
from minireason.tokenizer import TokenizerError

USAGE = f"""python train.py [--preset NAME] [--out DIR] [--seed N] [--resume] [--base RUN] [--section.field=value ...]
       presets: {", ".join(PRESETS)} (default demo; README, "More commands")
       e.g. --rl.steps=50 --rl.loss=grpo --data.style_weights=0.5,0.4,0.1
       --base RUN: start RL from RUN's base model (same seed and model/data/pretrain config), e.g. to
       compare losses on one pretrained model: --base runs/demo-seed0 --rl.loss=grpo --out runs/grpo-seed0
       --mesh.data=N --mesh.fsdp=M: the devices (default all of them on the data axis; README, "Many devices")"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):           # argparse's own errors become our one-line ConfigError
        raise ConfigError(message)


def parse_train_args(argv: list[str]) -> tuple[Config, str, bool, str | None]:
    """Returns (config, run folder, resume, base run or None). Raises ConfigError with a one-line message."""
    parser = _Parser(prog="train.py", usage=USAGE, add_help=True, allow_abbrev=False)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--out", default=None, help="run folder (default runs/<preset>-seed<seed>)")
    parser.add_argument("--seed", type=str, default=None)
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    parser.add_argument("--base", default=None, help="reuse the tokenizer and pretrained model of this run folder")
    known, rest = parser.parse_known_args(argv)
    cfg = preset(known.preset)
    if known.seed is not None:
        cfg = override(cfg, "seed", known.seed)
    for item in rest:
        if not item.startswith("--") or "=" not in item:
            raise ConfigError(f"unrecognised argument {item!r}; overrides look like --rl.lr=1e-4")
        key, value = item[2:].split("=", 1)
        cfg = override(cfg, key, value)
    if known.resume and any(not item.startswith("--mesh.") for item in rest):
        raise ConfigError("--resume continues a run with its stored config; drop the overrides (only --mesh.* "
                          "may change: the devices are the command's)")
    if known.resume and known.base:
        raise ConfigError("--resume continues a run that already has its base model; drop --base")
    out = known.out or f"runs/{cfg.preset}-seed{cfg.seed}"
    return cfg, out, known.resume, known.base


def main(argv: list[str]) -> int:
    try:
        cfg, out, resume, base = parse_train_args(argv)
        from minireason import sharding  # imports JAX; after argument errors are reported
        from minireason.run import run
        sharding.initialize(cfg.mesh)      # several hosts (--mesh.distributed=true): connect them first
        run(cfg, out, resume, base=base)
    except (ConfigError, RunFolderError, CheckpointError, TokenizerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Diverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: the last completed step was saved; continue with --resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    from minireason.course import run_script  # a course stub (docs/course.md) stops with one line
    sys.exit(run_script(main, sys.argv[1:]))
