"""Held-out evaluation: sample completions for a fixed list of problems and grade them.

The same jitted sampler and the same verifier as RL; the problems come from the held-out split
(`tasks.heldout_set`), which pretraining and RL never draw from.
"""
from __future__ import annotations

import jax
import numpy as np

from minireason import metrics
from minireason.corpus import prompt_text


def sample_completions(generate, params, key, tokenizer, problems, batch_size: int, prompt_len: int,
                       temperature: float):
    """Completions (text), lengths (tokens) and truncation flags for `problems`, in fixed-size batches."""
    n = len(problems)
    padded = problems + [problems[-1]] * (-n % batch_size)          # fixed shape: pad the last batch
    prompts = tokenizer.encode_prompts([prompt_text(p) for p in padded], prompt_len)
    texts, lengths, truncated = [], [], []
    for i in range(0, len(padded), batch_size):
        rollout = generate(params, jax.random.fold_in(key, i), prompts[i:i + batch_size], temperature)
        tokens, mask = np.asarray(rollout.tokens), np.asarray(rollout.mask)
        texts += tokenizer.decode_completions(tokens, mask)
        lengths += mask.sum(axis=1).tolist()
        truncated += (~np.asarray(rollout.finished)).tolist()
    return texts[:n], lengths[:n], truncated[:n]


def evaluate(generate, params, key, tokenizer, problems, batch_size, prompt_len, temperature):
    """Grade the sampled completions of `problems`: a list of metrics.Graded."""
    texts, lengths, truncated = sample_completions(generate, params, key, tokenizer, problems, batch_size,
                                                   prompt_len, temperature)
    return metrics.grade(problems, texts, lengths, truncated)


def report(graded) -> dict:
    """Overall metrics, per family, per difficulty and per both, as stored in summary.json.

    Per family *and* difficulty matters for "does reflecting pay?": pooled over families, the
    completions that reflect and those that do not come from different families in different shares,
    so their accuracies can differ for that reason alone (Simpson's paradox)."""
    return {
        **metrics.summarize(graded),
        "by_family": metrics.breakdown(graded, lambda g: g.problem["family"]),
        "by_difficulty": metrics.breakdown(graded, lambda g: g.problem["difficulty"]),
        "by_family_difficulty": metrics.breakdown(graded, lambda g: f"{g.problem['family']}/{g.problem['difficulty']}"),
    }
