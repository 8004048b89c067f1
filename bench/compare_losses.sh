#!/usr/bin/env bash
# Dr. GRPO's length-bias claim on the demo: grpo vs dr_grpo vs dapo, 3 seeds, each loss on its seed's one
# base model (train.py --base). Measured 2026-12-01 on 2 cores shared with other jobs: 14-18 min for the
# first run of a seed (pretraining), 4.5-11 min for each of the other two, 86 min in all (wall_seconds
# of docs/runs/losses/*; a --base run's `pretrain` figure is its base's). Then:
#   python bench/tables.py --runs docs/runs/losses --store runs/losses/*   (keep what the handout reads)
#   python verify.py --compare docs/runs/losses/* --markdown
# Usage: bench/compare_losses.sh [PYTHON] [SEEDS...]   (default: .venv/bin/python, seeds 0 1 2)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
shift || true
SEEDS=${*:-0 1 2}
for s in $SEEDS; do
  [ -f runs/losses/dapo-seed$s/summary.json ] || $PY train.py --seed $s --rl.loss=dapo --out runs/losses/dapo-seed$s
  for loss in grpo dr_grpo; do
    [ -f runs/losses/$loss-seed$s/summary.json ] || \
      $PY train.py --seed $s --rl.loss=$loss --base runs/losses/dapo-seed$s --out runs/losses/$loss-seed$s
  done
done
