"""The pretraining corpus: worked traces in the style mixture, tokenized and packed into fixed rows.

Packing: examples (prompt + completion) are laid end to end in rows of L = P + T tokens. Each row
carries `segments` (which example a token belongs to; 0 = padding), so attention never crosses
examples (`model.packed_mask`), and positions restart at 0 for every example. Rotary positions see
only distances, so a packed example looks to the model exactly as it does to the sampler.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minireason.config import DataConfig
from minireason.tasks import FAMILIES, STYLES, sample_problem
from minireason.tasks.arith import Noise
from minireason.traces import CONFIDENCE_LEVELS, confidence_block


class Example(NamedTuple):
    """One worked trace of the corpus."""
    prompt: str        # ends with <think>
    completion: str    # ends with </answer> (or a confidence block: calibration.py)
    problem: dict
    style: str


class Packed(NamedTuple):
    """Packed pretraining rows: R rows of L = P + T tokens."""
    tokens: np.ndarray     # [R, L] int32 inputs
    targets: np.ndarray    # [R, L] int32 next token of the same example
    loss_mask: np.ndarray  # [R, L] float32, 1 where the target is a completion token
    segments: np.ndarray   # [R, L] int32, 0 = padding
    positions: np.ndarray  # [R, L] int32, restarting at each example


def noise_of(data: DataConfig) -> Noise:
    """The error-injection settings of the corpus."""
    return Noise(data.step_noise, data.first_pass_error, data.direct_noise, data.oneshot_guess)


def prompt_text(problem: dict) -> str:
    """The prompt of a problem as the model reads it: the question, then <think>."""
    return FAMILIES[problem["family"]].prompt(problem) + "<think>"


def style_probabilities(data: DataConfig) -> np.ndarray:
    """[families, 3] chance of each style (direct, step, reflect) per family of data.families: the
    style_weights, or, where data.reflect_share sets a family's reflective share r, r for reflect and
    1 - r split between direct and step in the style_weights' ratio."""
    style_p = np.asarray(data.style_weights, float) / sum(data.style_weights)
    out = np.tile(style_p, (len(data.families), 1))
    for i, r in enumerate(data.reflect_share):
        one_shot = np.asarray(data.style_weights[:2], float)
        one_shot = one_shot / one_shot.sum() if one_shot.sum() > 0 else np.array([0.5, 0.5])
        out[i] = [*(one_shot * (1 - r)), r]
    return out


def make_examples(data: DataConfig, seed: int, n: int, heldout: bool = False) -> list[Example]:
    """n worked traces: family by data.corpus_weights (or data.family_weights), difficulty uniform, style
    by style_probabilities. With data.confidence=uniform each completion ends with a stated confidence K
    uniform in 0..10, apart from the trace (calibration.py says why), drawn from its own generator so
    the traces are those of the run without it."""
    rng = np.random.default_rng([seed, 17, int(heldout)])
    stated = np.random.default_rng([seed, 17, int(heldout), 11])
    weights = data.corpus_weights or data.family_weights
    fam_p = np.asarray(weights, float) / sum(weights)
    style_p = style_probabilities(data)
    noise = noise_of(data)
    out = []
    for _ in range(n):
        f = rng.choice(len(fam_p), p=fam_p)
        family = data.families[f]
        difficulty = int(rng.choice(data.corpus_difficulties or data.difficulties))
        style = STYLES[rng.choice(3, p=style_p[f])]
        problem = sample_problem(rng, family, difficulty, heldout, data.heldout_percent)
        completion = FAMILIES[family].trace(problem, style, rng, noise)
        if data.confidence == "uniform":
            completion += confidence_block(int(stated.integers(CONFIDENCE_LEVELS)))
        out.append(Example(prompt_text(problem), completion, problem, style))
    return out


def pack(examples: list[Example], tokenizer, row_len: int, max_prompt: int, max_completion: int):
    """Tokenize and pack examples greedily into rows of `row_len`.

    Returns (Packed, number of examples dropped because their completion exceeds `max_completion`).
    """
    rows, row, dropped = [], [], 0
    for ex in examples:
        p, c = tokenizer.encode(ex.prompt), tokenizer.encode(ex.completion)
        if len(p) > max_prompt:
            raise ValueError(f"a prompt of {ex.problem['family']} needs {len(p)} tokens, more than "
                             f"data.prompt_len={max_prompt}")
        if len(c) > max_completion:       # longer than the thinking budget: the model never sees it
            dropped += 1
            continue
        if sum(len(a) + len(b) for a, b in row) + len(p) + len(c) > row_len:
            rows.append(row)
            row = []
        row.append((p, c))
    if row:
        rows.append(row)
    shape = (len(rows), row_len)
    tokens, targets = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    loss_mask, segments = np.zeros(shape, np.float32), np.zeros(shape, np.int32)
    positions = np.zeros(shape, np.int32)
    for r, row in enumerate(rows):
        at = 0
        for s, (p, c) in enumerate(row, start=1):
            seq = p + c
            k = len(seq)
            tokens[r, at:at + k] = seq
            targets[r, at:at + k - 1] = seq[1:]
            loss_mask[r, at + len(p) - 1:at + k - 1] = 1.0   # positions whose next token is completion
            segments[r, at:at + k] = s
            positions[r, at:at + k] = np.arange(k)
            at += k
    return Packed(tokens, targets, loss_mask, segments, positions), dropped
