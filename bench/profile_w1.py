"""Where W1's update time goes on this machine: the model's forward and forward+backward at W1's shapes,
with parts switched off, and the matrix-multiply rate XLA reaches at those shapes.

    python bench/profile_w1.py

Each line is the median of 3 timed calls after one warm-up. "no attention" replaces attention by its
output projection, "no mlp" the MLP by the identity: the difference is what that part costs.
"4 MLPs alone" times the same MLPs outside the model, so the two can be compared. The GEMM lines
compare XLA's rate for W1-shaped products ([N*L, 128] x [128, 512] and the like) with a square
2048 x 2048 one and with numpy's BLAS on the same shapes. The sampler line gives the decode loop's cost per
generated token and the model-FLOP rate that makes: a decode step is 128 one-token rows, so its
matmuls are small ([128, 128] x [128, 512]) and its attention is 512 matrix-vector products over the
cache. `bench/op_profile.py` splits both programs op by op.
"""
from __future__ import annotations

import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minireason import model as model_lib  # noqa: E402
from minireason import sampling  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from w1 import GROUP, MODEL, NEW_TOKENS, PROMPT_LEN, PROMPTS, VOCAB, forward_flops  # noqa: E402

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


def sampler_times(graphdef, params) -> None:
    """Where the sampler's time goes: the whole loop at two lengths (the difference is the cost per
    generated token, whatever the prefill costs), as a rate of model FLOPs, and one draw alone."""
    prompts = jnp.asarray(np.random.default_rng(0).integers(4, VOCAB, (N, PROMPT_LEN)), jnp.int32)
    key = jax.random.key(0)
    loops = {}
    for t in (NEW_TOKENS // 4, NEW_TOKENS):
        generate = sampling.make_generate(graphdef, MODEL, t, 0, eos_id=-1)
        loops[t] = median_time(lambda: generate(params, key, prompts, 1.0))
    per_token = (loops[NEW_TOKENS] - loops[NEW_TOKENS // 4]) / (NEW_TOKENS - NEW_TOKENS // 4)
    draw = jax.jit(lambda key, logits: sampling.sample_logits(key, logits, 1.0, 0))
    draw_ms = median_time(draw, key, jnp.zeros((N, VOCAB))) * 1e3
    flops = forward_flops(N, PROMPT_LEN + NEW_TOKENS / 2)        # one decode step, mean keys over the loop
    print(f"sampler        {NEW_TOKENS} tokens {loops[NEW_TOKENS]:6.3f} s   per generated token "
          f"{per_token * 1e3:5.1f} ms = {flops / per_token / 1e9:4.0f} GFLOP/s of model FLOPs; "
          f"one draw alone {draw_ms:4.2f} ms")


def mlp_alone(graphdef, params) -> None:
    """The four SwiGLU MLPs' forward+backward on [N*L, D] inputs, outside the model: compare with what
    switching the MLP off saves inside it."""
    mlps = [block.mlp for block in nnx.merge(graphdef, params).blocks]
    graph, weights = nnx.split(mlps)
    x = jnp.asarray(np.random.default_rng(0).standard_normal((N * L, MODEL.d_model)), jnp.float32)

    def loss(weights, x):
        return sum(mlp(x).sum() for mlp in nnx.merge(graph, weights))

    both = median_time(jax.jit(jax.grad(loss, argnums=(0, 1))), weights, x)
    print(f"{'4 MLPs alone':14s} forward+backward {both:6.3f} s")


def main() -> None:
    print(f"jax {jax.__version__} on {jax.devices()[0]}; W1 model, {N} sequences of {L} tokens")
    graphdef, params = model_lib.init(MODEL, VOCAB, 0)
    tokens = jnp.asarray(np.random.default_rng(0).integers(4, VOCAB, (N, L)), jnp.int32)
    positions = jnp.broadcast_to(jnp.arange(L), (N, L))
    mask = model_lib.causal_mask(jnp.ones((N, L), bool))
    sampler_times(graphdef, params)
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
    mlp_alone(graphdef, params)
    for m, k, n in ((N * L, 128, 512), (N * L, 512, 128), (N * L, 128, 384), (2048, 2048, 2048)):
        xla, npy = gemm_rate(m, k, n)
        print(f"GEMM [{m}, {k}] x [{k}, {n}]: XLA {xla:5.0f} GFLOP/s, numpy {npy:5.0f} GFLOP/s")


if __name__ == "__main__":
    main()
