"""Pretrain, RL and evaluate in one command: `python train.py` (see README.md)."""
import sys

from minireason.alarms import Diverged
from minireason.checkpoint import CheckpointError
from minireason.cli import parse_train_args
from minireason.config import ConfigError
from minireason.runfiles import RunFolderError
from minireason.tokenizer import TokenizerError


def main(argv: list[str]) -> int:
    try:
        cfg, out, resume = parse_train_args(argv)
        from minireason.run import (
            run,  # imports JAX; after argument errors are reported
        )
        run(cfg, out, resume)
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
    sys.exit(main(sys.argv[1:]))
