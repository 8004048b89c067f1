#!/usr/bin/env bash
# The figures of the README's accelerator table, in one go: the W1 step, the `demo` preset and the
# `gpu` preset, each with its wall time, on whatever accelerator JAX finds.
#
#   bench/accelerator.sh OUTDIR [PYTHON] [STAGES]       e.g. bench/accelerator.sh out python "w1 demo gpu"
#
# OUTDIR gets device.txt, walls.txt, w1.json and each run's summary.json, metrics.jsonl and log; the
# run folders go to runs/accelerator. Each stage has a time limit (LIMIT_W1, LIMIT_DEMO, LIMIT_GPU
# seconds) so one slow stage cannot eat the rest; a stage that fails says so in walls.txt. The stage
# `long-gpu` (not in the default list; LIMIT_LONG_GPU) runs the long-thinking preset sized for one GPU.
set -u
out=${1:?usage: bench/accelerator.sh OUTDIR [PYTHON] [STAGES]}
py=${2:-python}
stages=${3:-w1 demo gpu}
: "${LIMIT_LONG_GPU:=1800}"     # pretraining and 400 RL steps: minutes, not the 300 s of the other runs
runs=runs/accelerator
mkdir -p "$out" "$runs"
export PYTHONUNBUFFERED=1

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
  $py -c "import jax, flax, optax; print('jax', jax.__version__, 'flax', flax.__version__, 'optax', optax.__version__, jax.devices())"
} > "$out/device.txt" 2>&1
cat "$out/device.txt"

stage() {   # stage NAME LIMIT_S COMMAND...: run, time, record
    local name=$1 limit=$2; shift 2
    local t0=$(date +%s%N)
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$? t1=$(date +%s%N)
    echo "$name rc=$rc wall_s=$(( (t1 - t0) / 1000000000 ))" | tee -a "$out/walls.txt"
}

for s in $stages; do
    case $s in
    w1)   stage w1 "${LIMIT_W1:-150}" $py bench/w1.py --steps 5 --rounds 1 --out "$out/w1.json"
          tail -n 1 "$out/w1.log" ;;
    demo|gpu|smoke|long-gpu)
          limit=LIMIT_${s^^}; limit=${limit//-/_}
          stage "$s" "${!limit:-300}" $py train.py --preset "$s" --out "$runs/$s-seed0"
          cp "$runs/$s-seed0/summary.json" "$out/${s}_summary.json" 2>/dev/null
          cp "$runs/$s-seed0/metrics.jsonl" "$out/${s}_metrics.jsonl" 2>/dev/null
          tr '\r' '\n' < "$out/$s.log" | grep -v "it/s\|s/it" | tail -n 22 ;;
    *)    echo "unknown stage $s" ;;
    esac
done
