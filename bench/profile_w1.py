"""Where W1's update time goes on this machine: the model's forward and forward+backward at W1's shapes,
with parts switched off, and the matrix-multiply rate XLA reaches at those shapes.

    python bench/profile_w1.py

Each line is the median of 3 timed calls after one warm-up. "no attention" replaces attention by its
output projection, "no mlp" the MLP by the identity: the difference is what that part costs.
The GEMM lines compare XLA's rate for a W1-shaped product ([N*L, 128] x [128, 512]) with a square
2048 x 2048 one and with numpy's BLAS on the same shapes: the model's matmuls are thin (inner
dimension 128), and that, not Python or recompilation, is what bounds the update on a CPU.
"""
from __future__ import annotations

import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minireason import model as model_lib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from w1 import GROUP, MODEL, NEW_TOKENS, PROMPT_LEN, PROMPTS, VOCAB  # noqa: E402

N, L = PROMPTS * GROUP, PROMPT_LEN + NEW_TOKENS - 1


def median_time(f, *args, n: int = 3) -> float:
    jax.block_until_ready(f(*args))
    times = []
    for _ in range(n):
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - t)
    return sorted(times)[n // 2]


def model_times(tag: str, graphdef, params, tokens, positions, mask) -> None:
    def logits(p):
        return model_lib.forward(graphdef, p, tokens, positions, mask)

    forward = jax.jit(logits)
    grad = jax.jit(jax.grad(lambda p: jax.nn.log_softmax(logits(p)).mean()))
    fwd, both = median_time(forward, params), median_time(grad, params)
    print(f"{tag:14s} forward {fwd:6.3f} s   forward+backward {both:6.3f} s")


def gemm_rate(m: int, k: int, n: int) -> tuple[float, float]:
    """GFLOP/s of an [m, k] x [k, n] product: XLA (jit) and numpy."""
    x = np.random.default_rng(0).standard_normal((m, k), dtype=np.float32)
    w = np.random.default_rng(1).standard_normal((k, n), dtype=np.float32)
    xj, wj = jnp.asarray(x), jnp.asarray(w)
    f = jax.jit(lambda a, b: a @ b)
    xla = 2 * m * k * n / median_time(f, xj, wj, n=10) / 1e9
    x @ w
    t = time.perf_counter()
    for _ in range(10):
        x @ w
    return xla, 2 * m * k * n / ((time.perf_counter() - t) / 10) / 1e9


def main() -> None:
    print(f"jax {jax.__version__} on {jax.devices()[0]}; W1 model, {N} sequences of {L} tokens")
    graphdef, params = model_lib.init(MODEL, VOCAB, 0)
    tokens = jnp.asarray(np.random.default_rng(0).integers(4, VOCAB, (N, L)), jnp.int32)
    positions = jnp.broadcast_to(jnp.arange(L), (N, L))
    mask = model_lib.causal_mask(jnp.ones((N, L), bool))
    model_times("full", graphdef, params, tokens, positions, mask)
    attention, mlp = model_lib.Attention.__call__, model_lib.MLP.__call__
    try:
        model_lib.Attention.__call__ = lambda self, x, positions, bias, cache=None, index=None: (self.out(x), None)
        model_times("no attention", graphdef, params, tokens, positions, mask)
        model_lib.Attention.__call__ = attention
        model_lib.MLP.__call__ = lambda self, x: x
        model_times("no mlp", graphdef, params, tokens, positions, mask)
    finally:
        model_lib.Attention.__call__, model_lib.MLP.__call__ = attention, mlp
    for m, k, n in ((N * L, 128, 512), (N * L, 512, 128), (N * L, 128, 384), (2048, 2048, 2048)):
        xla, npy = gemm_rate(m, k, n)
        print(f"GEMM [{m}, {k}] x [{k}, {n}]: XLA {xla:5.0f} GFLOP/s, numpy {npy:5.0f} GFLOP/s")


if __name__ == "__main__":
    main()
