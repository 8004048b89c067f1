"""The transfer experiment: does reasoning learned by RL on some families carry over to one held out of RL?

A run whose `rl.families` leaves a family of `data.families` out is a transfer run: RL trains on the
*sources* S (the families it keeps) and the family left out is a *target* T, still pretrained on and
evaluated. For each target, base -> final on its held-out problems, the measures are

    recovered share   r = Δ_out / Δ_in     (accuracy, and the same for the reflection rate)
                      Δ_out: T's gain in this run, with T held out of RL; Δ_in: T's gain in the
                      *reference* run, the same seed and the same base model with T in RL. r = 1 means
                      transfer is as good as training on T; null when Δ_in <= 0 (nothing to recover).
    Transferability Index (Huan et al. 2025, "Does Math Reasoning Improve General LLM Capabilities?",
                      arXiv:2507.00432)   TI = 100 · ΔR_T / ΔR_S,   ΔR = (final − base) / base,
                      ΔR_S the mean over the source families. A relative gain blows up when the base
                      accuracy is low, so TI is reported for comparison with the literature, not as the
                      bar; null when a base accuracy is 0 or ΔR_S <= 0.

and beside them T's reflection rate, effective reflection rate and mean length, base -> final,
overall and per difficulty.

The reference: a transfer run started with `train.py --base REF` from a run REF whose RL trained on T
(same seed, model, data and pretraining: adopt_base checks) takes REF's summary as its reference
(stored in the run folder as reference.json), so the recovered share is in its summary.json.

The dials (config fields; `bench/transfer.py` sweeps them, anchors-2.md §3.5 says why each):
    exposure    data.corpus_weights: T's share of the pretraining corpus; data.reflect_share: the share
                of T's traces written in the reflective style (`exposure_fields`)
    notation    data.families holds `fill` (the shared `check … ok|no` / `wait` markers), `fill-own`
                (markers of its own) or `fill-own-prompt` (and its own prompt surface): tasks/respelled.py
    diversity   rl.families: 1, 2 or 3 source families
    primitive   rl.families with or without the source that shares T's reasoning (Countdown's search)
    edge        the target's problems binned by what the base model can do with them: solved, at the
                edge (pass@16 > 0 but pass@1 < 0.5) or beyond (pass@16 = 0), each bin measured apart
                (`target_profile`)
"""
from __future__ import annotations

import os

import numpy as np

from minireason import metrics, runfolder
from minireason.metrics import fmt

KEYS = ("accuracy", "reflection_rate", "effective_reflection_rate", "length_mean")
REFERENCE = "reference.json"


def gain(base, final):
    """final − base; None when either is None (a rate with an empty denominator)."""
    return None if base is None or final is None else final - base


def relative_gain(base, final):
    """(final − base) / base, Huan et al.'s ΔR; None when base is 0 or None."""
    return None if not base or final is None else (final - base) / base


def recovered_share(gain_out, gain_in):
    """Δ_out / Δ_in: the share of the in-RL gain the held-out target recovers; None when Δ_in <= 0."""
    if gain_out is None or gain_in is None or gain_in <= 0:
        return None
    return gain_out / gain_in


def gain_se(row: dict, key: str) -> float | None:
    """The standard error of a base -> final gain in a rate over n problems (one completion each),
    sqrt(b(1-b)/n + f(1-f)/n): a denominator Δ_in below about two of these is noise, and so is a
    recovered share resting on it. It treats base and final as independent samples; on the same
    problems they are positively correlated, so this errs large (calls more gains noise). The sweep's
    16-sample profile uses the paired error instead (paired_gain)."""
    b, f, n = row["base"][key], row["final"][key], row["final"]["problems"]
    if b is None or f is None or not n:
        return None
    return float(np.sqrt((b * (1 - b) + f * (1 - f)) / n))


def transferability_index(target_rel, source_rels) -> float | None:
    """TI = 100 · ΔR_target / mean(ΔR_source); None when any is None or the sources gained nothing on
    average (mean <= 0: a ratio of two losses would read as transfer)."""
    if target_rel is None or not source_rels or any(r is None for r in source_rels):
        return None
    source = float(np.mean(source_rels))
    return None if source <= 0 else 100.0 * target_rel / source


def family_rows(summary: dict) -> tuple[dict, dict]:
    """({family: {"base": .., "final": ..}}, {"family/difficulty": ...}) over every domain of a summary."""
    fams, cells = {}, {}
    for rep in summary["domains"].values():
        fams.update(rep["by_family"])
        cells.update(rep["by_family_difficulty"])
    return fams, cells


def measures(summary: dict, sources, targets, reference: dict | None = None) -> dict:
    """The transfer block of summary.json: per target family, base -> final of KEYS, TI, and (with the
    reference run's summary) the recovered shares, overall and per difficulty."""
    fams, cells = family_rows(summary)
    ref_fams, ref_cells = family_rows(reference) if reference else ({}, {})
    source_rels = [relative_gain(fams[s]["base"]["accuracy"], fams[s]["final"]["accuracy"]) for s in sources]

    def side(row: dict, ref: dict | None) -> dict:
        out = {k: [row["base"][k], row["final"][k]] for k in KEYS}
        out["problems"] = row["final"]["problems"]
        out["in_rl_gain"] = {}
        for k, name in (("accuracy", "recovered_accuracy"), ("reflection_rate", "recovered_reflection")):
            delta_in = None if ref is None else gain(ref["base"][k], ref["final"][k])
            out[name] = recovered_share(gain(*out[k]), delta_in)
            out["in_rl_gain"][k] = None if delta_in is None else [delta_in, gain_se(ref, k)]
        return out

    block = {"sources": list(sources), "targets": {}}
    for t in targets:
        entry = side(fams[t], ref_fams.get(t))
        entry["ti"] = transferability_index(relative_gain(*entry["accuracy"]), source_rels)
        entry["by_difficulty"] = {key.split("/")[1]: side(cell, ref_cells.get(key))
                                  for key, cell in cells.items() if key.split("/")[0] == t}
        block["targets"][t] = entry
    return block


def summary_block(cfg, summary: dict, out: str) -> dict | None:
    """The transfer block for a finished run (None when RL trained on every family), with the
    reference run of out/reference.json when its RL trained on the targets."""
    sources = cfg.rl.families or cfg.data.families
    targets = [f for f in cfg.data.families if f not in sources]
    if not targets:
        return None
    path = os.path.join(out, REFERENCE)
    ref = runfolder.read_json(path) if os.path.exists(path) else None
    usable = (ref is not None and all(t in (ref["rl_families"] or ref["families"]) for t in targets)
              and _eval_of(ref.get("eval")) == cfg.eval)          # the same held-out problems
    block = measures(summary, sources, targets, ref["summary"] if usable else None)
    block["reference"] = ref["run"] if usable else None
    return block


def _eval_of(stored) -> object:
    """A stored eval section as this version's EvalConfig: fields added since it was written take their
    defaults, as they do when the run itself is resumed (None when it cannot be read)."""
    from minireason.config import ConfigError, from_dict
    try:
        return from_dict({"eval": stored}).eval
    except (ConfigError, TypeError):
        return None


def write_reference(out: str, base: str) -> None:
    """Keep the summary of the `--base` run in out/reference.json (when it has finished), with the
    families its RL trained on and its eval section: the reference of summary_block. adopt_base writes
    it last, so its presence says the adoption finished."""
    path = os.path.join(base, "summary.json")
    if not os.path.exists(path):
        return
    cfg = runfolder.read_json(os.path.join(base, "config.json"))
    runfolder.write_json(os.path.join(out, REFERENCE), {
        "run": os.path.abspath(base), "rl_families": cfg["rl"]["families"], "families": cfg["data"]["families"],
        "eval": cfg["eval"], "summary": runfolder.read_json(path)})


def format_block(block: dict) -> str:
    """The printed transfer table (train.py prints it after the base -> final table)."""
    lines = [f"transfer: RL on {', '.join(block['sources'])}; held out of RL: {', '.join(block['targets'])}"
             + ("" if block["reference"] else " (no reference run with the target in RL: recovered shares null)")]
    for t, e in block["targets"].items():
        parts = [f"{k} {fmt(e[k][0])} -> {fmt(e[k][1])}" for k in ("accuracy", "reflection_rate",
                                                                   "effective_reflection_rate")]
        parts.append(f"length {fmt(e['length_mean'][0], '.1f')} -> {fmt(e['length_mean'][1], '.1f')}")
        lines.append(f"  {t} ({e['problems']} problems): " + ", ".join(parts))
        lines.append(f"    recovered share: accuracy {fmt(e['recovered_accuracy'])}, reflection "
                     f"{fmt(e['recovered_reflection'])}; TI {fmt(e['ti'], '.0f')}")
        for d, c in e["by_difficulty"].items():
            lines.append(f"    difficulty {d}: accuracy {fmt(c['accuracy'][0])} -> {fmt(c['accuracy'][1])} "
                         f"(recovered {fmt(c['recovered_accuracy'])}), reflection {fmt(c['reflection_rate'][0])} "
                         f"-> {fmt(c['reflection_rate'][1])} (recovered {fmt(c['recovered_reflection'])})")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the dials

def exposure_fields(data, target: str, share: float | None = None, reflect: float | None = None) -> dict:
    """The data overrides that give `target` `share` of the pretraining corpus (the other families keep
    their family_weights ratio) and/or `reflect` as its share of reflective traces: for `--data.*=`."""
    out = {}
    i = data.families.index(target)
    if share is not None:
        others = [w for j, w in enumerate(data.family_weights) if j != i]
        weights = [share if j == i else (1 - share) * w / sum(others) for j, w in enumerate(data.family_weights)]
        out["data.corpus_weights"] = ",".join(f"{w:.6g}" for w in weights)
    if reflect is not None:
        shares = [reflect if j == i else data.style_weights[2] / sum(data.style_weights)
                  for j in range(len(data.families))]
        out["data.reflect_share"] = ",".join(f"{w:.6g}" for w in shares)
    return out


EDGE_BINS = ("solved", "edge", "beyond")


def edge_bin(correct: int, k: int) -> str:
    """A problem's place for the base model, from k samples with `correct` right: `beyond` when none is
    right (pass@k = 0), `edge` when some are but pass@1 < 0.5, `solved` otherwise."""
    return "beyond" if correct == 0 else "edge" if correct < k / 2 else "solved"


def _three_models(reference: str, heldout: str, echo):
    """The reference run (loaded) and the parameters of its base model, of the held-out run's final
    model and of the reference's final model (the two runs share the base: train.py --base)."""
    from minireason.load import load_params, load_run

    ref = load_run(reference, echo=echo)
    base_params, _ = load_params(reference, ref.cfg, ref.graphdef, ref.params, base=True, echo=echo)
    return ref, {"base": base_params, "heldout": load_run(heldout, echo=echo).params, "reference": ref.params}


def _graded(ref, params, key, problems, k: int) -> list:
    """k graded completions per problem, problem-major."""
    from minireason.heldout import sample_rows

    cfg, tok = ref.cfg, ref.tokenizer
    _, tokens, mask, finished = sample_rows(ref.generate, params, key, tok, problems, k, cfg.eval.batch_size,
                                            cfg.data.prompt_len, cfg.eval.temperature)
    rows = [p for p in problems for _ in range(k)]
    return metrics.grade(rows, tok.decode_completions(tokens, mask), mask.sum(axis=1), ~finished)


def target_profile(reference: str, heldout: str, family: str, k: int = 16, per: int = 48, samples: int = 2,
                 echo=print) -> dict:
    """The target measured with k samples per problem and model, over all its held-out problems (`all`:
    the sweep's headline recovered shares, far less noisy than one sample each) and per edge bin.

    The edge dial: the target's held-out problems put in EDGE_BINS by k samples of the base model
    (the edge of competence: pass@k > 0 but a low pass@1; Zhang et al. 2025, "On the Interplay of
    Pre-Training, Mid-Training, and RL", arXiv:2512.07783), then, per bin, pass@1 and the reflection rate
    of the base model (k fresh samples, so the binning's luck does not leak into the measure), of the
    held-out run's final model and of the reference run's, and the recovered shares between them; with
    the first completion of each model on `samples` problems per bin."""
    import jax  # here, so that the measures and tables need no JAX

    from minireason.tasks import heldout_set

    ref, params = _three_models(reference, heldout, echo)
    d = ref.cfg.data
    problems = heldout_set(ref.cfg.seed, [family], d.difficulties, per, d.heldout_percent)
    key = jax.random.fold_in(jax.random.key(ref.cfg.seed), 4)

    def per_problem(model, i):
        """(right, reflected) counts of k samples per problem, and the first completion of each."""
        graded = _graded(ref, params[model], jax.random.fold_in(key, i), problems, k)
        right = np.array([g.verdict.correct for g in graded]).reshape(-1, k).sum(axis=1)
        reflected = np.array([g.trace.reflects for g in graded]).reshape(-1, k).sum(axis=1)
        return right, reflected, [(g.completion, g.verdict.correct) for g in graded[::k]]

    bins = np.array([edge_bin(int(c), k) for c in per_problem("base", 0)[0]])
    models = {"base": per_problem("base", 1), "heldout": per_problem("heldout", 2),
              "reference": per_problem("reference", 3)}
    result = {"k": k, "bins": {}, "samples": []}
    for name in ("all", *EDGE_BINS):
        pick = np.ones(len(problems), bool) if name == "all" else bins == name
        for i in np.flatnonzero(pick)[:samples if name != "all" else 0]:   # a few of the bin's problems
            result["samples"].append({"bin": name, "task": problems[i], **{
                m: {"completion": v[2][i][0], "correct": bool(v[2][i][1])} for m, v in models.items()}})
        cell = {"problems": int(pick.sum()), "in_rl_gain": {}}
        for model, (right, reflected, _) in models.items():
            cell[model] = {"accuracy": float(right[pick].mean() / k) if pick.any() else None,
                           "reflection_rate": float(reflected[pick].mean() / k) if pick.any() else None}
        for i, (key_, name_) in enumerate((("accuracy", "recovered_accuracy"),
                                           ("reflection_rate", "recovered_reflection"))):
            b, o, r = (cell[m][key_] for m in ("base", "heldout", "reference"))
            cell[name_] = recovered_share(gain(b, o), gain(b, r))
            cell["in_rl_gain"][key_] = paired_gain(models["base"][i][pick] / k, models["reference"][i][pick] / k)
        result["bins"][name] = cell
    return result


def paired_gain(before: np.ndarray, after: np.ndarray) -> list | None:
    """[mean, standard error] of the per-problem differences after − before (the same problems, so the
    problems' own spread cancels); None for no problems, a standard error of None for one."""
    if len(before) == 0:
        return None
    d = np.asarray(after, float) - np.asarray(before, float)
    return [float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else None]


def target_samples(reference: str, heldout: str, family: str, per: int = 2, echo=print) -> list[dict]:
    """What the models write on the target: one completion each of the base model, the held-out run's
    final model and the reference's, on the first `per` held-out problems of each difficulty."""
    import jax

    from minireason.tasks import heldout_set

    ref, params = _three_models(reference, heldout, echo)
    d = ref.cfg.data
    problems = heldout_set(ref.cfg.seed, [family], d.difficulties, per, d.heldout_percent)
    key = jax.random.fold_in(jax.random.key(ref.cfg.seed), 5)
    graded = {m: _graded(ref, p, key, problems, 1) for m, p in params.items()}
    return [{"task": problems[i], **{m: {"completion": g[i].completion, "correct": bool(g[i].verdict.correct)}
                                     for m, g in graded.items()}} for i in range(len(problems))]
