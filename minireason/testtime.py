"""Test-time compute: what more samples, or more thinking, buy. Used by `verify.py --run`.

pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"): the chance that at
least one of k samples is correct, estimated without bias from n >= k samples of which c are correct:

    pass@k = 1 - C(n - c, k) / C(n, k)

maj@k (majority vote, "self-consistency", Wang et al. 2022): sample k answers, keep the most frequent
one (ties: the one seen first; a completion with no answer does not vote) and grade it. Estimated as
the mean over the n/k disjoint groups of k consecutive samples. Votes go by the answer's text, so two
different right programs of a write task (`print n+5`, `print 5+n`) do not pool their votes.

Budget forcing (Muennighoff et al. 2025, "s1: Simple test-time scaling"): cut the thinking after B
tokens, append `</think><answer>`, and let the model write only the answer. A completion that closed
its thinking within B tokens is left as it was. Sweeping B shows how accuracy grows with thinking.

Spearman's rank correlation: Pearson's correlation of the ranks (ties get their mean rank); here
between a problem's difficulty and the tokens spent on it.

A run that states its confidence (calibration.py) gets its calibration measures and reliability bins
in every block as well.

`evaluate_run` (the second half of this file) is `python verify.py --run DIR`: it evaluates a run's
base and final model on held-out problems with test-time compute and returns the dict of `eval.json`.

For each model, k completions of every problem (per family and difficulty, from the held-out split)
are sampled by the same jitted sampler as RL and graded by the same verifier. From them: pass@1
(= accuracy), pass@k and maj@k for k = 1, 2, 4, ... up to k, length_mean, reflection_rate and
effective_reflection_rate, per domain and per difficulty; the Spearman correlation, over completions,
of the problem's difficulty and the completion's length; and a budget-forcing sweep on the first few
samples of each problem.
"""
from __future__ import annotations

import time
from collections import Counter

import jax
import numpy as np

from minireason import metrics, sampling
from minireason.heldout import sample_rows
from minireason.load import load_params, load_run
from minireason.runfolder import RunFolderError
from minireason.tasks import FAMILIES, heldout_set


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k) (as a stable product)."""
    # BEGIN SOLUTION testtime: 1 - C(n-c, k) / C(n, k) as a stable product; ValueError for impossible n, c, k
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
    # END SOLUTION


def majority_vote(answers: list[str | None], correct: list[bool]) -> bool:
    """Is the most frequent answer correct? Ties go to the answer seen first; None never votes."""
    # BEGIN SOLUTION testtime: the most frequent non-None answer (ties: the one seen first) and whether it is correct
    votes = Counter(a for a in answers if a is not None)
    if not votes:
        return False
    top = max(votes.values())
    winner = next(a for a in answers if a is not None and votes[a] == top)
    return correct[answers.index(winner)]
    # END SOLUTION


def maj_at_k(answers: list[str | None], correct: list[bool], k: int) -> float:
    """maj@k averaged over the disjoint groups of k consecutive samples (n must be a multiple of k)."""
    n = len(answers)
    if k < 1 or n % k:
        raise ValueError(f"{n} samples do not split into groups of {k}")
    return float(np.mean([majority_vote(answers[i:i + k], correct[i:i + k]) for i in range(0, n, k)]))


def rank(values) -> np.ndarray:
    """Ranks 1..n of `values`, ties sharing their mean rank."""
    # BEGIN SOLUTION testtime: ranks 1..n, tied values sharing their mean rank
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):
        tied = values == v
        ranks[tied] = ranks[tied].mean()
    return ranks
    # END SOLUTION


def spearman(x, y) -> float | None:
    """Spearman's rank correlation of x and y; None (undefined) when either is constant or has fewer
    than two values: there is no ordering to agree with."""
    rx, ry = rank(x), rank(y)
    if len(rx) < 2 or rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def force_answers(generate_answer, params, key, prompts, tokens, mask, budget: int, think_end: int,
                  answer_start: int, pad: int, width: int, batch_size: int, temperature: float = 1.0):
    """Budget forcing on sampled completions: rows whose thinking runs past `budget` tokens are cut there
    and continued with `</think><answer>` by `generate_answer` (a sampler of a few answer tokens whose
    prompts are `width` wide). Returns (completion token lists, tokens spent per row).

    prompts [N, P] left-padded, tokens/mask [N, T] as the sampler wrote them (the full, uncut run)."""
    n = len(tokens)
    # Thinking length: the index of </think>, or the whole completion when it never closed its thinking
    # (a row that stopped within the budget that way is left as it was, never cut into its end and pads).
    ends = [int(np.argmax(row == think_end)) if (row[m] == think_end).any() else int(m.sum())
            for row, m in zip(tokens, mask)]
    forced = [i for i in range(n) if ends[i] > budget]
    out = [list(tokens[i][mask[i]]) for i in range(n)]          # natural rows: as sampled
    spent = [int(mask[i].sum()) for i in range(n)]
    if not forced:
        return out, spent
    rows = np.full((len(forced), width), pad, dtype=np.int32)
    heads = []
    for r, i in enumerate(forced):
        head = [int(t) for t in tokens[i][:budget]] + [think_end, answer_start]
        ids = [int(t) for t in prompts[i] if t != pad] + head
        rows[r, width - len(ids):] = ids
        heads.append(head)
    rows = np.concatenate([rows, np.repeat(rows[-1:], -len(forced) % batch_size, axis=0)])   # fixed shape
    for b in range(0, len(rows), batch_size):
        rollout = generate_answer(params, jax.random.fold_in(key, b), rows[b:b + batch_size], temperature)
        toks, m = np.asarray(rollout.tokens), np.asarray(rollout.mask)
        for r in range(b, min(b + batch_size, len(forced))):
            i = forced[r]
            answer = [int(t) for t in toks[r - b][m[r - b]]]
            out[i] = heads[r] + answer
            spent[i] = len(out[i])
    return out, spent


# ----------------------------------------------------------------------------- evaluating a trained run
BUDGETS = (0, 4, 8, 16, 24, 32, 48, 64)   # thinking budgets B of the sweep, in tokens
ANSWER_TOKENS = 16                         # room for the forced answer (`print n+n-13</answer>`)
CONFIDENCE_TOKENS = 4                      # and for `<confidence>10</confidence>` in a run that states one
BUDGET_SAMPLES = 4                         # samples per problem in the sweep (the first ones)
KEYS = ("accuracy", "length_mean", "reflection_rate", "effective_reflection_rate", "revisions", "check_accuracy",
        "checks", "pass_fraction")


def block(graded: list[metrics.Graded], k: int) -> dict:
    """The metrics of a list of graded completions, k consecutive ones per problem."""
    s = metrics.summarize(graded)
    out = {"problems": len(graded) // k, "count": len(graded), **{key: s[key] for key in KEYS}}
    if "ece" in s:                        # the run states its confidence (calibration.py)
        out.update({key: s[key] for key in metrics.CALIBRATION_KEYS})
        out["reliability"] = metrics.reliability_bins([metrics.stated_confidence(g) for g in graded],
                                                      [g.verdict.correct for g in graded])
    groups = [graded[i:i + k] for i in range(0, len(graded), k)]
    kk = 1
    while kk <= k:
        out[f"pass@{kk}"] = float(np.mean([pass_at_k(k, sum(g.verdict.correct for g in grp), kk)
                                           for grp in groups]))
        out[f"maj@{kk}"] = float(np.mean([maj_at_k([g.verdict.answer for g in grp],
                                                            [g.verdict.correct for g in grp], kk)
                                          for grp in groups]))
        kk *= 2
    return out


def model_report(graded, k: int) -> tuple[dict, dict]:
    """overall, and per domain overall and per difficulty; plus length vs difficulty per domain."""
    report = {"overall": block(graded, k), "domains": {}}
    lengths = {}
    for dom in sorted({metrics.domain_of(g.problem) for g in graded}):
        gs = [g for g in graded if metrics.domain_of(g.problem) == dom]
        by_difficulty = {}
        for d in sorted({g.problem["difficulty"] for g in gs}):
            by_difficulty[str(d)] = block([g for g in gs if g.problem["difficulty"] == d], k)
        report["domains"][dom] = {"overall": block(gs, k), "by_difficulty": by_difficulty}
        lengths[dom] = {"by_difficulty": {d: m["length_mean"] for d, m in by_difficulty.items()},
                        "spearman": spearman([g.problem["difficulty"] for g in gs], [g.length for g in gs])}
    return report, lengths


def budget_sweep(generate_answer, params, key, tok, rows, prompts, tokens, mask, budgets, width, batch_size,
                 temperature):
    """Accuracy and tokens spent when the thinking is cut at each budget B (overall and per domain)."""
    sweep = []
    for b in budgets:
        done, spent = force_answers(generate_answer, params, jax.random.fold_in(key, b), prompts,
                                             tokens, mask, b, tok.end_think_id, tok.answer_id, tok.pad_id,
                                             width, batch_size, temperature)
        texts = [tok.decode(t) for t in done]
        graded = metrics.grade(rows, texts, spent, [False] * len(rows))
        point = {"budget": b, "accuracy": float(np.mean([g.verdict.correct for g in graded])),
                 "tokens_mean": float(np.mean(spent)), "domains": {}}
        for dom in sorted({metrics.domain_of(g.problem) for g in graded}):
            gs = [g for g in graded if metrics.domain_of(g.problem) == dom]
            point["domains"][dom] = {"accuracy": float(np.mean([g.verdict.correct for g in gs])),
                                     "tokens_mean": float(np.mean([g.length for g in gs]))}
        sweep.append(point)
    return sweep


def evaluate_run(run_dir: str, k: int = 16, per: int = 16, seed: int = 0, step: int | None = None,
                 families=None, samples: int = 8, echo=print) -> dict:
    """Evaluate the base and the final (or `step`) model of a run; the dict written to eval.json."""
    t0 = time.time()
    run = load_run(run_dir, step=step, echo=echo)
    cfg, tok = run.cfg, run.tokenizer
    d = cfg.data
    base_params, _ = load_params(run_dir, cfg, run.graphdef, run.params, base=True, echo=echo)
    families = [f for f in (families or d.families) if f in d.families]
    if not families:
        raise RunFolderError(f"{run_dir} was trained on {', '.join(d.families)} only")
    problems = heldout_set(seed, families, d.difficulties, per, d.heldout_percent)
    budgets = [b for b in BUDGETS if b + 2 + ANSWER_TOKENS <= d.completion_len]   # may be none at tiny T
    width = d.prompt_len + max(budgets, default=0) + 2
    answer_len = ANSWER_TOKENS + (CONFIDENCE_TOKENS if tok.states_confidence else 0)
    generate_answer = sampling.make_generate(run.graphdef, cfg.model, answer_len, tok.pad_id, tok.eos_id)
    # The same randomness for both models; one named key per use.
    sample_key, force_key = jax.random.split(jax.random.fold_in(jax.random.key(seed), 3))
    batch = cfg.eval.batch_size
    ev = {"run": run_dir, "step": run.step, "k": k, "problems_per_difficulty": per,
          "temperature": cfg.eval.temperature, "models": {}, "budget_forcing": {}, "length_vs_difficulty": {}}
    completions = {}
    for name, params in (("base", base_params), ("final", run.params)):
        echo(f"sampling {k} completions of {len(problems)} held-out problems with the {name} model ...")
        prompts, tokens, mask, finished = sample_rows(run.generate, params, sample_key, tok, problems, k, batch,
                                                      d.prompt_len, cfg.eval.temperature)
        rows = [p for p in problems for _ in range(k)]
        texts = tok.decode_completions(tokens, mask)
        graded = metrics.grade(rows, texts, mask.sum(axis=1), ~finished)
        ev["models"][name], ev["length_vs_difficulty"][name] = model_report(graded, k)
        first = np.arange(len(rows)).reshape(-1, k)[:, :BUDGET_SAMPLES].ravel()
        echo(f"budget forcing ({name}): thinking cut at {', '.join(map(str, budgets))} tokens ...")
        ev["budget_forcing"][name] = budget_sweep(generate_answer, params, force_key, tok, [rows[i] for i in first],
                                                  prompts[first], tokens[first], mask[first], budgets, width,
                                                  batch, cfg.eval.temperature)
        completions[name] = graded
    ev["samples"] = pick_samples(problems, completions, k, samples)
    ev["wall_seconds"] = time.time() - t0
    return ev


def pick_samples(problems, completions, k: int, n: int) -> list[dict]:
    """The first completion of base and final for n problems: the hardest first, families in turn."""
    order = sorted(range(len(problems)), key=lambda i: (-problems[i]["difficulty"], i))
    chosen, seen = [], set()
    for i in order:
        cell = (problems[i]["family"], problems[i]["difficulty"])
        if cell not in seen and len(chosen) < n:
            seen.add(cell)
            chosen.append(i)
    return [{"task": problems[i], "prompt": FAMILIES[problems[i]["family"]].prompt(problems[i]),
             **{name: {"completion": gs[i * k].completion, "correct": gs[i * k].verdict.correct}
                for name, gs in completions.items()}} for i in chosen]


def format_eval(ev: dict) -> str:
    """The printed summary of an evaluation."""
    k = ev["k"]
    lines = [f"{ev['run']} (RL step {ev['step']}), {k} samples per problem, temperature {ev['temperature']}"]
    head = f"  {'':22s}{'pass@1':>8s}{f'pass@{k}':>9s}{f'maj@{k}':>8s}{'length':>8s}{'reflect':>9s}{'eff.refl':>9s}"
    for dom in ev["models"]["final"]["domains"]:
        n = ev["models"]["final"]["domains"][dom]["overall"]["problems"]
        lines += [f"held-out {dom} ({n} problems)", head]
        rows = [("", "overall")] + [(d, d) for d in ev["models"]["final"]["domains"][dom]["by_difficulty"]]
        for d, label in rows:
            for name in ("base", "final"):
                rep = ev["models"][name]["domains"][dom]
                m = rep["overall"] if not d else rep["by_difficulty"][d]
                tag = f"{name} {'difficulty ' + label if d else label}"
                lines.append(f"  {tag:22s}{m['pass@1']:8.2f}{m[f'pass@{k}']:9.2f}{m[f'maj@{k}']:8.2f}"
                             f"{m['length_mean']:8.1f}{m['reflection_rate']:9.2f}{metrics.fmt(m['effective_reflection_rate']):>9s}")
        for name in ("base", "final"):
            lv = ev["length_vs_difficulty"][name][dom]
            lines.append(f"  length by difficulty ({name}): "
                         + " / ".join(f"{v:.1f}" for v in lv["by_difficulty"].values())
                         + f" tokens, Spearman {metrics.fmt(lv['spearman'], '+.2f')}")
        for name in ("base", "final"):
            m = ev["models"][name]["domains"][dom]["overall"]
            if "ece" in m:
                lines.append(f"  calibration ({name}): mean confidence {metrics.fmt(m['confidence_mean'])}, "
                             f"ECE {metrics.fmt(m['ece'])}, Brier {metrics.fmt(m['brier'])}, AUROC "
                             f"{metrics.fmt(m['confidence_auroc'])}, "
                             f"RMS (HLE) {metrics.fmt(m['rms_calibration_error'])}")
    for name in ("base", "final"):
        points = ev["budget_forcing"][name]
        lines.append(f"budget forcing ({name}), accuracy at thinking budget B (tokens spent): "
                     + ", ".join(f"B={p['budget']} {p['accuracy']:.2f} ({p['tokens_mean']:.0f})" for p in points))
    lines.append(f"wall seconds: {ev['wall_seconds']:.0f}")
    return "\n".join(lines)
