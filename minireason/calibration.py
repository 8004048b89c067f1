"""Calibration: the model states how sure it is, and a proper scoring rule makes that honest.

RLCR (Damani et al. 2025, "Beyond Binary Rewards: Training LMs to Reason About Their Uncertainty",
arXiv:2507.16806): after its answer the model states a confidence q, and the reward adds a proper
scoring rule, so the best policy answers as well as it can *and* says how often it is right. Their
finding, which this module lets a learner test: RL on correctness alone ("RLVR") leaves the stated
confidence unrewarded and it drifts (to 1 in their runs, AUROC 0.50), while RLCR brings the expected
calibration error from 0.37 to 0.03 at the same accuracy.

The format. With `data.confidence` on, every completion ends `...</answer><confidence>K</confidence>`,
K in 0..10, q = K / 10 (traces.parse reads it apart from the answer, so it never changes what is
correct; the tokenizer gains the two tags and `</confidence>` ends the completion).

What the corpus states (`data.confidence`):
    none     no confidence block: the default, and every run before this module
    uniform  K uniform in 0..10, drawn apart from the trace (corpus.make_examples). The base model then
             states confidence at chance: AUROC 0.5 by construction, and its calibration error is
             what a random q costs. Whatever calibration the final model has, RL taught it. Labelling
             each trace with its writer's accuracy for that style and difficulty would hand the model
             a lookup table from the prompt to q before RL starts (calibration by pretraining, not by
             RL); labelling every trace 10 (the writer's answers are nearly all right) would leave RL
             almost no other value to try.

The rewards (`rl.reward`), per completion with c = 1[the verifier accepts the answer]:
    exact  c                                                    RLVR: the confidence is unrewarded
    rlcr   c - (q - c)^2                                        RLCR: the Brier rule
    log    c + max(log p, log EPS) / |log EPS|,  p = q if c else 1 - q
                                                                the log rule, clipped at EPS so that
                                                                q = 0 or 1 costs -1, not -infinity
A completion whose confidence is missing or does not parse gets the worst term, -1: no calibration
credit. Both rules are proper (the expected term is highest at q = the true chance of being right;
the clipping moves that only for chances within EPS of 0 or 1), and both terms lie in [-1, 0], so a
right answer never scores below a wrong one, however well judged. The verifier alone decides c.

The measures (ECE, Brier, AUROC of q, HLE's RMS calibration error, mean q) are metrics.py's, in every
metrics row and held-out report of a run that states confidences; `summary_block` puts base -> final
per domain and difficulty into summary.json, and bench/calibration.py runs the experiments.
"""
from __future__ import annotations

import zlib

import numpy as np

from minireason import metrics, rl
from minireason.metrics import fmt
from minireason.tasks import split_key
from minireason.traces import CONFIDENCE_END, CONFIDENCE_START

PRIORS = ("none", "uniform")          # data.confidence
REWARDS = ("rlcr", "log")             # the rl.reward values that score the confidence
EPS = 0.01                            # the log rule's clip: p below EPS scores as EPS
TAGS = (CONFIDENCE_START, CONFIDENCE_END)   # the tokenizer's extra symbols when data.confidence is on
KEYS = ("accuracy",) + metrics.CALIBRATION_KEYS


def calibration_term(kind: str, q: float | None, correct: bool) -> float:
    """The scoring rule's term for one completion, in [-1, 0]; -1 when q is None (no parsable confidence)."""
    if q is None:
        return -1.0
    c = float(correct)
    if kind == "rlcr":
        return -(q - c) ** 2
    if kind == "log":
        p = q if correct else 1.0 - q
        return float(np.log(max(p, EPS)) / -np.log(EPS))
    raise ValueError(f"unknown calibration reward {kind!r}; choose one of {', '.join(REWARDS)}")


def make_reward(kind: str):
    """rl_step's reward interface (see rl.exact_reward): the verifier's reward plus the scoring rule's term.
    The curriculum counts the verifier's verdict as solved; the row logs the term's mean as
    `calibration_term`, the verifier's `reward` beside it."""
    if kind not in REWARDS:
        raise ValueError(f"unknown calibration reward {kind!r}; choose one of {', '.join(REWARDS)}")

    def reward(problems, graded):
        correct = np.array([g.verdict.reward for g in graded], np.float32)
        terms = np.array([calibration_term(kind, g.trace.confidence, g.verdict.correct) for g in graded],
                         np.float32)
        return rl.Reward(correct + terms, correct, {"calibration_term": float(terms.mean())})

    return reward


# ----------------------------------------------------------------------------- how much can a confidence know?

def observable(g) -> tuple:
    """What a completion shows about its own chances, without re-solving the problem: the family and
    difficulty, the trace's style, its revisions (0, 1, 2 or more), and whether a check said `no`."""
    t = g.trace
    return (g.problem["family"], g.problem["difficulty"], t.style, min(len(t.revisions), 2),
            any(not c.verdict for c in t.checks))


def feature_scores(graded, features=observable) -> list[float]:
    """A confidence that knows only features(g): each completion is scored with the accuracy of the
    completions that share its features in the *other* half of the problems (two folds by the problem's
    key; that half's overall accuracy for a cell it lacks), so its own outcome never scores it."""
    fold = [zlib.crc32(repr(split_key(g.problem)).encode()) % 2 for g in graded]
    correct = [g.verdict.correct for g in graded]
    scores = [0.0] * len(graded)
    for f in (0, 1):
        other = [i for i in range(len(graded)) if fold[i] != f]
        cells: dict = {}
        for i in other:
            cells.setdefault(features(graded[i]), []).append(correct[i])
        fallback = metrics.rate(correct[i] for i in other)
        for i in range(len(graded)):
            if fold[i] == f:
                seen = cells.get(features(graded[i]))
                scores[i] = float(np.mean(seen)) if seen else (fallback if fallback is not None else 0.5)
    return scores


def feature_auroc(graded, features=observable) -> float | None:
    """The AUROC of feature_scores: what a model that states its confidence from those features alone
    would reach, a ceiling for a policy that cannot tell its own unnoticed slips from right answers."""
    return metrics.auroc(feature_scores(graded, features), [g.verdict.correct for g in graded])


# ----------------------------------------------------------------------------- summary.json

def _side(rep: dict) -> dict:
    return {k: rep.get(k) for k in KEYS + ("count", "problems")}


def summary_block(base: dict, final: dict) -> dict:
    """summary.json's `calibration` (a run with data.confidence on): per domain, the calibration measures
    base -> final overall, per difficulty and per family, and both models' reliability diagrams (None
    for a model none of whose completions in the domain stated a confidence)."""
    out = {}
    for dom, f in final.items():
        b = base[dom]
        out[dom] = {"base": _side(b), "final": _side(f),
                    "reliability": {"base": b.get("reliability"), "final": f.get("reliability")},
                    **{f"by_{axis}": {k: {"base": _side(b[f"by_{axis}"][k]), "final": _side(f[f"by_{axis}"][k])}
                                      for k in f[f"by_{axis}"]}
                       for axis in ("difficulty", "family")}}
    return out


def diagrams(block: dict) -> dict:
    """plots.reliability's panels from summary.json's `calibration`: per domain, base and final."""
    return {dom: {name: {"bins": rep["reliability"][name], "ece": rep[name]["ece"]} for name in ("base", "final")
                  if rep["reliability"][name] is not None}
            for dom, rep in block.items()}


def format_block(block: dict) -> str:
    """The printed calibration table: base -> final per domain, then per difficulty."""
    names = {"accuracy": "accuracy", "confidence_mean": "mean conf", "ece": "ECE", "brier": "Brier",
             "confidence_auroc": "AUROC", "rms_calibration_error": "RMS (HLE)", "confidence_stated": "stated"}
    lines = ["calibration, held-out (q = stated confidence; none stated counts as q = 1):"]
    for dom, rep in block.items():
        lines.append(f"  {dom} ({rep['final']['count']} completions of {rep['final']['problems']} problems): "
                     + ", ".join(f"{names[k]} {fmt(rep['base'][k])} -> {fmt(rep['final'][k])}" for k in names))
        for d, row in rep["by_difficulty"].items():
            lines.append(f"    difficulty {d}: " + ", ".join(
                f"{names[k]} {fmt(row['base'][k])} -> {fmt(row['final'][k])}"
                for k in ("accuracy", "confidence_mean", "ece", "confidence_auroc")))
    return "\n".join(lines)
