"""Where W1's time goes, op by op: XLA's own per-op timings of one sampler call and one RL update.

    python bench/op_profile.py                 # W1's sampler (128 tokens) and update (beta 0.04)
    python bench/op_profile.py --top 20        # also the 20 slowest ops of each

XLA's CPU backend can time every op it runs (`--xla_cpu_enable_xprof_traceme`, set below before JAX
starts); `jax.profiler.trace` records them and writes a Perfetto JSON file, which is read here with
nothing but the standard library. Ops are grouped by what XLA named them:

    matmul (YNNPACK)      ynn_fusion.*: dense products handed to the YNNPACK library, with the
                          elementwise work fused around them
    batched dot (XLA)     dot.*, dot_general.*: XLA's own emitter, here attention's per-(row, head)
                          products q.k and w.v
    copy / transpose      copy*, transpose*: data moved into another layout, no arithmetic
    in-place writes       *dynamic-update-slice*: a decode step writing its key and value into the
                          cache, and its token into the output
    sampling cumsum       *reduce-window*: the inverse-CDF draw's running sum
    other elementwise     every other fusion (norms, rotary, softmax, SwiGLU, the loss, AdamW)

The shares add the ops' own durations; two ops can run at once on the two cores, so the sum can
exceed the wall time, which is printed apart.
"""
from __future__ import annotations

import os

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true").strip()

import argparse  # noqa: E402
import collections  # noqa: E402
import glob  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minireason import model as model_lib  # noqa: E402
from minireason import rl, sampling  # noqa: E402
from minireason.config import RLConfig  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from w1 import BETA, GROUP, MODEL, NEW_TOKENS, PAD, PROMPT_LEN, PROMPTS, VOCAB  # noqa: E402

N = PROMPTS * GROUP
KINDS = (("matmul (YNNPACK)", r"^ynn"), ("batched dot (XLA)", r"^dot"), ("copy / transpose", r"copy|transpose"),
         ("in-place writes", r"dynamic-update-slice"), ("sampling cumsum", r"reduce-window"),
         ("other elementwise", r""))
NOT_OPS = ("$", "ThunkExecutor", "SlinkyThreadPool", "PjitFunction", "CommonPjRt", "ParseArguments", "end: ")
LOOPS = re.compile(r"^while(\.\d+)?$")   # a while op spans the ops inside it: counting it would count them twice


def kind_of(op: str) -> str:
    """The group of an XLA op name (first pattern that matches; the last matches everything)."""
    return next(kind for kind, pattern in KINDS if re.search(pattern, op))


def op_times(fn) -> tuple[float, dict[str, float]]:
    """Run fn() once under the profiler: (wall seconds, {op name: summed duration in seconds})."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        with jax.profiler.trace(folder, create_perfetto_trace=True):
            jax.block_until_ready(fn())
        wall = time.perf_counter() - start
        [path] = glob.glob(os.path.join(folder, "plugins", "profile", "*", "perfetto_trace.json.gz"))
        with gzip.open(path) as f:
            trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    ops: dict[str, float] = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and not e["name"].startswith(NOT_OPS) and not LOOPS.match(e["name"]):
            ops[e["name"]] += e.get("dur", 0) / 1e6            # microseconds -> seconds
    return wall, ops


def report(title: str, wall: float, ops: dict[str, float], top: int, per: int = 1, unit: str = "") -> None:
    """Print the time by kind (and the slowest ops); per divides every figure (e.g. by decode steps)."""
    kinds: dict[str, float] = collections.Counter()
    for op, seconds in ops.items():
        kinds[kind_of(op)] += seconds
    total = sum(kinds.values())
    print(f"\n{title}: wall {wall:.3f} s (with the profiler writing its trace), ops {total:.3f} s")
    for kind, _ in KINDS:
        print(f"  {kind:20s} {kinds[kind] / per * 1e3:8.2f} ms{unit}  {kinds[kind] / total:6.1%}")
    for op, seconds in sorted(ops.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {op:40s} {seconds / per * 1e3:8.2f} ms{unit}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=0, help="also list the N slowest ops of each program")
    args = ap.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.devices()[0]}; W1: {N} rows, {PROMPT_LEN} prompt + {NEW_TOKENS} new tokens")
    graphdef, params = model_lib.init(MODEL, VOCAB, 0)
    rng = np.random.default_rng(0)
    prompts = jnp.asarray(rng.integers(4, VOCAB, (N, PROMPT_LEN)), jnp.int32)

    generate = sampling.make_generate(graphdef, MODEL, NEW_TOKENS, PAD, eos_id=-1)     # no early stop
    sample = lambda: generate(params, jax.random.key(0), prompts, 1.0)               # noqa: E731
    jax.block_until_ready(sample())                                                  # compile first
    wall, ops = op_times(sample)
    # per decode step: the whole call over NEW_TOKENS, so the prefill and the cache growth are spread in
    report("sampler, per decode step", wall, ops, args.top, per=NEW_TOKENS, unit="/step")

    cfg = RLConfig(loss="grpo", prompts_per_step=PROMPTS, group_size=GROUP, beta=BETA, lr=1e-4, weight_decay=0.0)
    optimizer = rl.make_optimizer(cfg)
    update, _ = rl.make_update(graphdef, optimizer, cfg, PAD)
    batch = rl.Batch(prompts, jnp.asarray(rng.integers(4, VOCAB, (N, NEW_TOKENS)), jnp.int32),
                     jnp.ones((N, NEW_TOKENS)), jnp.asarray(rng.standard_normal(N), jnp.float32))
    opt_state = optimizer.init(params)
    step = lambda: update(params, opt_state, params, batch)                          # noqa: E731
    jax.block_until_ready(step())
    wall, ops = op_times(step)
    report("RL update (policy forward + backward, reference forward, AdamW)", wall, ops, args.top)


if __name__ == "__main__":
    main()
