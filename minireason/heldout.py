"""Held-out evaluation: sample completions for a fixed list of problems and grade them.

The same jitted sampler and the same verifier as RL; the problems come from the held-out split
(`tasks.heldout_set`), which pretraining and RL never draw from (by canonical key: tasks.split_key).
`metrics.report` turns the graded completions into the tables of summary.json.
"""
from __future__ import annotations

import jax
import numpy as np

from minireason import metrics, sharding
from minireason.corpus import prompt_text


def sample_rows(generate, params, key, tokenizer, problems, k: int, batch_size: int, prompt_len: int,
                temperature: float):
    """k completions of each problem, problem-major, in fixed-size batches (the last one padded):
    (prompts [N*k, P], tokens [N*k, T], mask [N*k, T], finished [N*k]) as numpy arrays."""
    rows = [p for p in problems for _ in range(k)]
    n = len(rows)
    padded = rows + [rows[-1]] * (-n % batch_size)                  # fixed shape: pad the last batch
    prompts = tokenizer.encode_prompts([prompt_text(p) for p in padded], prompt_len)
    parts = []
    for i in range(0, len(padded), batch_size):
        r = generate(params, jax.random.fold_in(key, i), sharding.batch(prompts[i:i + batch_size]), temperature)
        parts.append((sharding.host(r.tokens), sharding.host(r.mask), sharding.host(r.finished)))
    tokens, mask, finished = (np.concatenate(x)[:n] for x in zip(*parts))
    return prompts[:n], tokens, mask, finished


def sample_completions(generate, params, key, tokenizer, problems, batch_size: int, prompt_len: int,
                       temperature: float, k: int = 1):
    """Completions (text), lengths (tokens) and truncation flags for `problems`, k each (problem-major)."""
    _, tokens, mask, finished = sample_rows(generate, params, key, tokenizer, problems, k, batch_size,
                                            prompt_len, temperature)
    return tokenizer.decode_completions(tokens, mask), mask.sum(axis=1).tolist(), (~finished).tolist()


def sample_and_grade(generate, params, key, tokenizer, problems, batch_size, prompt_len, temperature, k: int = 1):
    """Grade k sampled completions of each of `problems`: a list of metrics.Graded, problem-major."""
    texts, lengths, truncated = sample_completions(generate, params, key, tokenizer, problems, batch_size,
                                                   prompt_len, temperature, k)
    return metrics.grade([p for p in problems for _ in range(k)], texts, lengths, truncated)
