"""Benchmark W1: one RL step of minireason's own sampler and update, side by side with TRL (and Tunix).

W1, the project's standard RL workload: a Llama-style decoder with random weights, vocab 512, d_model 128, 4 layers,
4 heads, SwiGLU MLP 512, float32; 16 prompts of 32 tokens, 8 completions each (N = 128), 128 new
tokens with no early stop, temperature 1.0; reward = number of `a` tokens; GRPO advantages; one AdamW
step with a k3 KL term to the frozen reference (beta 0.04).

    python bench/w1.py                                    # our side only (ratio null)
    python bench/w1.py --peer-python /tmp/peers-torch/bin/python   # + TRL, alternating, ratio
    PEER_PYTHON=/tmp/peers-torch/bin/python python bench/w1.py --tunix-python /tmp/peers-jax/bin/python

The sides never run at the same time: each round runs our steps, then the peer's script in its own
process (its import and model build are not timed). The last line printed is one JSON object:
minireason_step_s, trl_step_s, ratio (TRL over ours), update_mfu, sample_mfu, and the rest.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minireason import model as model_lib  # noqa: E402
from minireason import rl, sampling, sharding  # noqa: E402
from minireason.config import ModelConfig, RLConfig  # noqa: E402

VOCAB, PROMPTS, GROUP, PROMPT_LEN, NEW_TOKENS, BETA = 512, 16, 8, 32, 128, 0.04
MODEL = ModelConfig(d_model=128, n_layers=4, n_heads=4, d_mlp=512)
PAD, BOS, A_TOKEN = 0, 1, 4 + ord("a") - 32      # ids as in the peers' character vocabulary
PEERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers")   # the TRL and Tunix scripts


# ----------------------------------------------------------------------------- model FLOPs
#
# Counted from the shapes, as in the PaLM paper's MFU (Chowdhery et al. 2022, appendix B): a matmul of
# [n, k] by [k, m] costs 2*n*k*m. Per token and layer: qkv 2*D*3D, output 2*D*D, SwiGLU 3 * 2*D*F;
# attention scores and weighted sum 2 * 2*c*D for a token that sees c keys (causal: only the keys it
# may attend to, not the masked ones our fixed-shape kernels also compute); unembedding 2*D*V once per
# token (the embedding is a lookup, no FLOPs). Backward costs twice the forward. Norms, rotary,
# softmax and the optimizer are left out: they are a few percent and not matmuls.

def forward_flops(n_tokens: int, mean_keys: float, cfg: ModelConfig = MODEL, vocab: int = VOCAB) -> float:
    """Model FLOPs of a forward pass over n_tokens tokens that each attend to mean_keys keys on average."""
    d, f, layers = cfg.d_model, cfg.d_mlp, cfg.n_layers
    per_token = layers * (2 * d * 3 * d + 2 * d * d + 3 * 2 * d * f + 2 * 2 * mean_keys * d) + 2 * d * vocab
    return n_tokens * per_token


def step_flops(n: int = PROMPTS * GROUP, p: int = PROMPT_LEN, t: int = NEW_TOKENS) -> dict:
    """FLOPs of one W1 step: sampling (prefill P tokens, then T decode steps), reference log-probs
    (one forward over P+T-1 positions), policy forward + backward (3x a forward)."""
    prefill = forward_flops(n * p, (p + 1) / 2)
    decode = forward_flops(n * t, p + (t + 1) / 2)          # decode token i sees P + i keys
    full = forward_flops(n * (p + t - 1), (p + t) / 2)      # one forward of the update's sequence
    return {"sample": prefill + decode, "ref_logp": full, "update": 3 * full}


def matmul_peak(n: int = 2048, reps: int = 10) -> float:
    """The machine's float32 matmul rate with JAX, FLOP/s: best of reps for an n x n by n x n product."""
    x = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda a, b: a @ b)
    f(x, x).block_until_ready()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f(x, x).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


# ----------------------------------------------------------------------------- our side

class CallCounter:
    """Counts Python calls of the model (Transformer.__call__) and backend compilations.

    A steady-state RL step must show zero of both: the sampler's per-token loop runs inside one compiled
    `lax.while_loop` (so Python never calls the model per token), and fixed shapes mean no recompiles.
    """
    def __init__(self):
        self.model_calls, self.compiles = 0, 0
        original = model_lib.Transformer.__call__

        def counted(module, *args, **kwargs):
            self.model_calls += 1
            return original(module, *args, **kwargs)
        model_lib.Transformer.__call__ = counted

        def listener(event, duration, **kwargs):
            if event == "/jax/core/compile/backend_compile_duration":
                self.compiles += 1
        jax.monitoring.register_event_duration_secs_listener(listener)

    def snapshot(self) -> tuple[int, int]:
        return self.model_calls, self.compiles


def make_w1(seed: int = 0, mesh=None, counter=None):
    """Build W1's model, prompts and jitted functions; returns step() -> dict of seconds. With `mesh`
    (sharding.make_mesh), every array goes through sharding.py as in train.py: prompts and the update's
    batch split over the mesh's devices, parameters and optimizer state placed by `sharding.state`."""
    counter = counter or CallCounter()
    graphdef, params = model_lib.init(MODEL, VOCAB, seed)
    ref_params = params
    cfg = RLConfig(loss="grpo", prompts_per_step=PROMPTS, group_size=GROUP, beta=BETA, lr=1e-4,
                   temperature=1.0, weight_decay=0.0)
    optimizer = rl.make_optimizer(cfg)
    update, token_logp = rl.make_update(graphdef, optimizer, cfg, PAD)
    # eos_id -1 is never sampled: every completion runs the full 128 tokens, as W1 asks
    generate = sampling.make_generate(graphdef, MODEL, NEW_TOKENS, PAD, eos_id=-1)
    rng = np.random.default_rng(seed)
    distinct = np.concatenate([np.full((PROMPTS, 1), BOS), rng.integers(4, 4 + 95, (PROMPTS, PROMPT_LEN - 1))], 1)
    prompts = jnp.asarray(np.repeat(distinct, GROUP, axis=0), jnp.int32)          # [N, P], groups contiguous
    state = {"params": params, "opt_state": optimizer.init(params), "step": 0}
    if mesh is not None:
        with sharding.use(mesh):
            prompts = sharding.batch(np.asarray(prompts))
            ref_params = sharding.state(ref_params)
            state.update(sharding.state({"params": params, "opt_state": state["opt_state"]}))

    def step() -> dict:
        t0 = time.perf_counter()
        rollout = generate(state["params"], jax.random.key(state["step"]), prompts, 1.0)
        tokens = np.asarray(rollout.tokens)                                      # waits for the sampler
        t1 = time.perf_counter()
        rewards = (tokens == A_TOKEN).sum(axis=1).astype(np.float32)             # reward: count of 'a'
        if mesh is None:
            batch = rl.Batch(prompts, rollout.tokens, rollout.mask.astype(jnp.float32),
                             jnp.asarray(rl.advantages(cfg, rewards)))
        else:                                                                    # as rl.rl_step builds it
            with sharding.use(mesh):
                batch = sharding.batch(rl.Batch(np.asarray(prompts), tokens, np.asarray(rollout.mask, np.float32),
                                                rl.advantages(cfg, rewards)))
        t2 = time.perf_counter()
        state["params"], state["opt_state"], stats = update(state["params"], state["opt_state"], ref_params, batch)
        jax.block_until_ready((state["params"], stats))
        t3 = time.perf_counter()
        # The reference log-probs run inside the update (one fused program); time them once apart, for the split.
        jax.block_until_ready(token_logp(ref_params, batch.prompts, batch.tokens, batch.mask))
        t4 = time.perf_counter()
        state["step"] += 1
        return {"step": t3 - t0, "generate": t1 - t0, "reward_adv": t2 - t1, "update": t3 - t2, "ref_logp": t4 - t3}

    return step, counter


def run_ours(step, counter, n_steps: int) -> list[dict]:
    """n_steps timed steps; each records how many model calls and compilations it caused."""
    out = []
    for _ in range(n_steps):
        calls, compiles = counter.snapshot()
        row = step()
        calls2, compiles2 = counter.snapshot()
        row.update(model_calls=calls2 - calls, compiles=compiles2 - compiles)
        out.append(row)
    return out


# ----------------------------------------------------------------------------- the peers

def run_peer(python: str, script: str, warmup: int, measure: int) -> dict | None:
    """Run a peer script in its own interpreter; return its RESULT json (None if it failed)."""
    path = os.path.join(PEERS_DIR, script)
    cmd = [python, path, "--beta", str(BETA), "--warmup", str(warmup), "--measure", str(measure)]
    print(f"[w1] running {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(f"[w1] {script} failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}", flush=True)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=5, help="measured steps per side and round (after warm-up)")
    ap.add_argument("--warmup", type=int, default=2, help="warm-up steps of each side (first one compiles)")
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two sides")
    ap.add_argument("--peer-python", default=os.environ.get("PEER_PYTHON"),
                    help="interpreter with torch + trl for bench/peers/trl_w1.py (default $PEER_PYTHON)")
    ap.add_argument("--tunix-python", default=None, help="interpreter with google-tunix for tunix_w1.py")
    ap.add_argument("--out", default=None, help="also write the full result (per-step times) to this JSON file")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.rounds < 1 or args.warmup < 1:
        ap.error("--steps, --rounds and --warmup must be at least 1")
    for flag, python in (("--peer-python", args.peer_python), ("--tunix-python", args.tunix_python)):
        if python and not os.path.exists(python):
            ap.error(f"{flag}: no interpreter at {python}")

    device = str(jax.devices()[0])
    print(f"[w1] jax {jax.__version__} on {device}; measuring the float32 matmul peak", flush=True)
    peak = matmul_peak()
    print(f"[w1] matmul peak {peak / 1e9:.0f} GFLOP/s", flush=True)
    step, counter = make_w1()
    warm = run_ours(step, counter, args.warmup)
    ours, trl, tunix = [], [], []
    for r in range(args.rounds):
        ours += run_ours(step, counter, args.steps)
        print(f"[w1] round {r + 1}: minireason median step {median(ours, 'step'):.3f} s", flush=True)
        if args.peer_python:
            trl.append(run_peer(args.peer_python, "trl_w1.py", 2, args.steps))
        if args.tunix_python:
            tunix.append(run_peer(args.tunix_python, "tunix_w1.py", 2, args.steps))
    if not args.peer_python:
        print("[w1] no TRL peer: set PEER_PYTHON or pass --peer-python (see bench/peers/README.md "
              "to build its virtual environment)", flush=True)

    flops = step_flops()
    ours_step, ours_gen, ours_upd = median(ours, "step"), median(ours, "generate"), median(ours, "update")
    peak_mem = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = jax.devices()[0].memory_stats() or {}
    trl_ok = [x for x in trl if x]
    trl_step = statistics.median(x["median_step_s"] for x in trl_ok) if trl_ok else None
    tunix_ok = [x for x in tunix if x]
    result = {
        "device": device, "jax": jax.__version__, "matmul_peak_gflops": round(peak / 1e9, 1),
        "measured_steps": len(ours), "warmup_steps": args.warmup,
        "minireason_step_s": round(ours_step, 4),
        "minireason_min_step_s": round(min(r["step"] for r in ours), 4),
        "minireason_max_step_s": round(max(r["step"] for r in ours), 4),
        "generate_s": round(ours_gen, 4), "update_s": round(ours_upd, 4),
        "ref_logp_s (inside update)": round(median(ours, "ref_logp"), 4),
        "reward_adv_s": round(median(ours, "reward_adv"), 4),
        "generated_tokens_per_s": round(PROMPTS * GROUP * NEW_TOKENS / ours_gen),
        "step_gflop": round(sum(flops.values()) / 1e9, 1),
        "sample_mfu": round(flops["sample"] / ours_gen / peak, 3),
        "update_mfu": round((flops["ref_logp"] + flops["update"]) / ours_upd / peak, 3),
        "recompiles_after_first_step": sum(r["compiles"] for r in warm[1:] + ours),
        "python_model_calls_after_first_step": sum(r["model_calls"] for r in warm[1:] + ours),
        "peak_rss_mib": round(peak_mem, 1),
        "peak_device_bytes": stats.get("peak_bytes_in_use"),
        "trl_step_s": round(trl_step, 4) if trl_step else None,
        "trl_generate_s": statistics.median(x["median_generate_s"] for x in trl_ok) if trl_ok else None,
        "trl_update_s": statistics.median(x["median_update_loss_bwd_opt_s"] for x in trl_ok) if trl_ok else None,
        "trl_runs": [x["median_step_s"] if x else None for x in trl],
        "ratio": round(trl_step / ours_step, 2) if trl_step else None,
        "tunix_step_s": statistics.median(x["median_step_s"] for x in tunix_ok) if tunix_ok else None,
    }
    if result["tunix_step_s"]:
        result["tunix_ratio"] = round(result["tunix_step_s"] / ours_step, 2)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({**result, "per_step": ours, "trl": trl, "tunix": tunix}, f, indent=1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
