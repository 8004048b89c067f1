"""The calibration experiment (docs/calibration.md): does RL make a stated confidence honest?

    python bench/calibration.py --seeds 0 1 2                         # the main comparison, 3 seeds
    python bench/calibration.py --conditions rlcr-arith noreflect --seeds 0
    python bench/calibration.py --table                               # the stored runs' tables only
    python bench/calibration.py --table --out docs/runs/calibration --plot docs/calibration.png

Conditions, per seed (the `calibration` preset: countdown and sum, fill; `<confidence>K</confidence>`
after every answer, K uniform in the corpus):

    rlcr        the preset's run: pretraining, then RL on the verifier's reward plus the Brier rule
    rlvr        from the same base model (`train.py --base`): RL on the verifier's reward alone
    log         from the same base model: the verifier's reward plus the clipped log rule
    rlcr-arith  from the same base model: RLCR on the arithmetic families only; is code calibrated too?
    noreflect   its own base model, pretrained without reflective traces, then RLCR: does reflection
                help a model know when it is wrong?
    rlcr-long   from the same base model: RLCR for 400 steps instead of 100 (about 4 times the 15
                minutes a run is meant to take): is a confidence that tells right from wrong a matter
                of steps?
    rlcr-drgrpo from the same base model: RLCR with Dr. GRPO's advantages, r - mean, not divided by
                the group's std (RLCR's own runs set TRL's scale_rewards to false)

and, for each finished run, its base and final model with the thinking cut to nothing (budget forcing,
B = 0: `</think><answer>` right after the prompt, then the answer and the confidence), on the same
held-out problems: calibration/budget0.json. For the rlcr run, confidently wrong answers of the base
model on held-out problems, beside what the RLVR and RLCR models write for them: calibration/traces.json.

Stopping and going on: a run folder with a summary.json is done, one without is resumed; OUT/bench.json
fixes the preset and --set overrides, and another config into the same OUT is refused.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "bench")]      # minireason, and bench/runner.py

from runner import BenchError, check_choices, cli, ensure, pin_config  # noqa: E402  (bench/runner.py)

from minireason import metrics, plots, runfolder  # noqa: E402
from minireason.metrics import fmt  # noqa: E402

CONDITIONS = {        # name: (train.py overrides, start from the rlcr run's base model?)
    "rlcr": ([], False),
    "rlvr": (["rl.reward=exact"], True),
    "log": (["rl.reward=log"], True),
    "rlcr-arith": (["rl.families=countdown,sum"], True),
    "noreflect": (["data.style_weights=0.38,0.45,0"], False),
    "rlcr-long": (["rl.steps=400"], True),
    "rlcr-drgrpo": (["rl.loss=dr_grpo"], True),
}
MAIN = ("rlvr", "rlcr", "log")
DEFAULT_OUT = os.path.join(ROOT, "runs", "calibration")
SHOWN = ("accuracy", "confidence_mean", "ece", "brier", "confidence_auroc", "rms_calibration_error")
NAMES = {"accuracy": "acc", "confidence_mean": "conf", "ece": "ECE", "brier": "Brier", "confidence_auroc": "AUROC",
         "rms_calibration_error": "RMS", "confidence_stated": "stated"}
ANSWER_TOKENS = 24    # room for the forced answer and its confidence block


def run_all(out: str, seeds, conditions, preset: str, sets: list[str], echo=print) -> None:
    """Per seed: the rlcr run first (its base model is the others'), then each condition."""
    pin_config(out, preset, sets)
    for seed in seeds:
        common = ["--preset", preset, f"--seed={seed}", *[f"--{s}" for s in sets]]
        main = ensure(out, f"rlcr-seed{seed}", common, echo)
        for name in conditions:
            if name != "rlcr":
                overrides, shared = CONDITIONS[name]
                ensure(out, f"{name}-seed{seed}", [*common, *[f"--{o}" for o in overrides],
                                                   *(["--base", main] if shared else [])], echo)


# ----------------------------------------------------------------------------- evaluations of a finished run

def _heldout(run, folder: str, base: bool):
    """The run's held-out problems (its eval section: problems and samples per problem) and the model."""
    from minireason.load import load_params
    from minireason.tasks import heldout_set
    cfg = run.cfg
    d, e = cfg.data, cfg.eval
    problems = heldout_set(cfg.seed, d.families, d.difficulties, e.problems_per_difficulty, d.heldout_percent)
    params = load_params(folder, cfg, run.graphdef, run.params, base=True, echo=lambda *a: None)[0] \
        if base else run.params
    return problems, params


def no_thinking(folder: str, echo=print) -> dict:
    """folder/calibration/budget0.json: per model (base, final) and domain, the calibration measures
    of the held-out completions with the thinking cut at B = 0 (testtime.force_answers)."""
    path = os.path.join(folder, "calibration", "budget0.json")
    if os.path.exists(path):
        return runfolder.read_json(path)
    import jax

    from minireason import heldout, sampling, testtime
    from minireason.load import load_run
    run = load_run(folder, echo=lambda *a: None)
    cfg, tok = run.cfg, run.tokenizer
    d, e = cfg.data, cfg.eval
    generate_answer = sampling.make_generate(run.graphdef, cfg.model, ANSWER_TOKENS, tok.pad_id, tok.eos_id)
    sample_key, force_key = jax.random.split(jax.random.fold_in(jax.random.key(cfg.seed), 4))
    out = {}
    for name in ("base", "final"):
        echo(f"{folder}: {name} model, thinking cut at 0 tokens ...")
        problems, params = _heldout(run, folder, name == "base")
        rows = [p for p in problems for _ in range(e.samples_per_problem)]
        prompts, tokens, mask, _ = heldout.sample_rows(run.generate, params, sample_key, tok, problems,
                                                       e.samples_per_problem, e.batch_size, d.prompt_len,
                                                       e.temperature)
        done, spent = testtime.force_answers(generate_answer, params, force_key, prompts, tokens, mask, 0,
                                             tok.end_think_id, tok.answer_id, tok.pad_id, d.prompt_len + 2,
                                             e.batch_size, e.temperature)
        graded = metrics.grade(rows, [tok.decode(t) for t in done], spent, [False] * len(rows))
        out[name] = {dom: {k: m.get(k) for k in ("count", "problems") + SHOWN + ("confidence_stated",)}
                     for dom, m in metrics.report(graded).items()}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    runfolder.write_json(path, out)
    return out


def ceiling(folder: str, echo=print) -> dict:
    """folder/calibration/ceiling.json: per model (base, final) and domain, on the run's own held-out
    completions (the same samples as summary.json: its problems, samples per problem and evaluation
    key), the AUROC of the stated confidence beside calibration.feature_auroc, the AUROC a confidence
    stated from what the completion shows (family, difficulty, style, revisions, a failed check) would
    reach, and the AUROC of the model's own mean token log-prob of the completion up to </answer>."""
    path = os.path.join(folder, "calibration", "ceiling.json")
    if os.path.exists(path):
        return runfolder.read_json(path)
    import jax

    from minireason import calibration, heldout, rl
    from minireason.load import load_run
    from minireason.traces import ANSWER_END
    run = load_run(folder, echo=lambda *a: None)
    cfg, tok = run.cfg, run.tokenizer
    e = cfg.eval
    key = jax.random.fold_in(jax.random.key(cfg.seed), 2)          # run.heldout_report's key
    token_logp = jax.jit(rl.make_token_logp(run.graphdef, tok.pad_id, e.temperature))
    answer_end = tok.encode(ANSWER_END)[0]
    out = {}
    for name in ("base", "final"):
        echo(f"{folder}: what the {name} model's completions show about their chances ...")
        problems, params = _heldout(run, folder, name == "base")
        prompts, tokens, mask, finished = heldout.sample_rows(run.generate, params, key, tok, problems,
                                                              e.samples_per_problem, e.batch_size,
                                                              cfg.data.prompt_len, e.temperature)
        rows = [p for p in problems for _ in range(e.samples_per_problem)]
        graded = metrics.grade(rows, tok.decode_completions(tokens, mask), mask.sum(axis=1), ~finished)
        # the model's own mean token log-prob of what it wrote up to </answer> (not the confidence block)
        upto = np.cumsum(tokens == answer_end, axis=1) - (tokens == answer_end) == 0
        keep = (mask & upto).astype(np.float32)
        mean_logp = np.zeros(len(rows))
        for i in range(0, len(rows), e.batch_size):
            j = slice(i, i + e.batch_size)
            n = len(rows[j])
            pad = lambda a: np.concatenate([a, np.repeat(a[-1:], e.batch_size - n, axis=0)])  # noqa: E731
            lp = np.asarray(token_logp(params, pad(prompts[j]), pad(tokens[j]), pad(keep[j]))[0])[:n]
            mean_logp[j] = (lp * keep[j]).sum(1) / np.maximum(keep[j].sum(1), 1)
        out[name] = {}
        for dom in sorted({metrics.domain_of(g.problem) for g in graded}):
            at = [i for i, g in enumerate(graded) if metrics.domain_of(g.problem) == dom]
            gs = [graded[i] for i in at]
            out[name][dom] = {"stated_auroc": metrics.calibration(gs).get("confidence_auroc"),
                              "feature_auroc": calibration.feature_auroc(gs),
                              "logprob_auroc": metrics.auroc(mean_logp[at], [g.verdict.correct for g in gs]),
                              "count": len(gs)}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    runfolder.write_json(path, out)
    return out


def confident_wrong(out: str, seed: int, n: int = 4, echo=print) -> dict:
    """rlcr-seed{seed}/calibration/traces.json: held-out problems the base model answers wrongly with a
    stated confidence of 0.8 or more (one sample per problem, with the run's evaluation key), one per
    family, with the RLVR and the RLCR model's sample of each (`examples`); and the same for the
    problems the RLCR model answers wrongly with q >= 0.8 (`after`)."""
    folder = os.path.join(out, "runs", f"rlcr-seed{seed}")
    path = os.path.join(folder, "calibration", "traces.json")
    if os.path.exists(path):
        return runfolder.read_json(path)
    import jax

    from minireason import heldout
    from minireason.corpus import prompt_text
    from minireason.load import load_run
    models = {}
    for name, run_name in (("base", f"rlcr-seed{seed}"), ("rlvr", f"rlvr-seed{seed}"), ("rlcr", f"rlcr-seed{seed}")):
        run_dir = os.path.join(out, "runs", run_name)
        run = load_run(run_dir, echo=lambda *a: None)
        problems, params = _heldout(run, run_dir, name == "base")
        key = jax.random.fold_in(jax.random.key(run.cfg.seed), 2)     # the run's own evaluation key
        echo(f"confidently wrong answers: sampling the {name} model ...")
        models[name] = heldout.sample_and_grade(run.generate, params, key, run.tokenizer, problems,
                                                run.cfg.eval.batch_size, run.cfg.data.prompt_len,
                                                run.cfg.eval.temperature)
    def confidently_wrong(who: str) -> list[dict]:
        """One problem per family that `who` answers wrongly with q >= 0.8, with every model's answer."""
        picked, families = [], set()
        for i, g in enumerate(models[who]):
            if not g.verdict.correct and (g.trace.confidence or 0) >= 0.8 and g.problem["family"] not in families:
                families.add(g.problem["family"])
                picked.append({"prompt": prompt_text(g.problem), **{
                    name: {"completion": gs[i].completion, "correct": gs[i].verdict.correct,
                           "confidence": gs[i].trace.confidence} for name, gs in models.items()}})
            if len(picked) == n:
                break
        return picked

    result = {"seed": seed, "examples": confidently_wrong("base"), "after": confidently_wrong("rlcr")}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    runfolder.write_json(path, result)
    return result


# ----------------------------------------------------------------------------- reading and tables

def read_all(out: str) -> list[dict]:
    """Every finished run of OUT/runs: name, condition, seed, summary's calibration block, budget0 if made."""
    runs = []
    folder = os.path.join(out, "runs")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, name, "summary.json")
        if not os.path.exists(path) or "-seed" not in name:
            continue
        condition, seed = name.rsplit("-seed", 1)
        summary = runfolder.read_json(path)
        if condition not in CONDITIONS or "calibration" not in summary:
            continue
        extra = {}
        for kind in ("budget0", "ceiling"):
            p = os.path.join(folder, name, "calibration", f"{kind}.json")
            extra[kind] = runfolder.read_json(p) if os.path.exists(p) else None
        runs.append({"name": name, "condition": condition, "seed": int(seed),
                     "calibration": summary["calibration"], "wall": summary["wall_seconds"], **extra})
    return runs


def _mean_sd(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f}±{np.std(values, ddof=1):.2f}"


def table(rows: list[tuple[str, list[dict]]], domains) -> str:
    """One line per (label, measures of each seed), per domain: mean ± sd over seeds of SHOWN."""
    head = f"  {'':22s}{'seeds':>6s}" + "".join(f"{NAMES[k]:>12s}" for k in SHOWN)
    lines = []
    for dom in domains:
        lines += [f"held-out {dom}", head]
        for label, sides in rows:
            cells = [s[dom] for s in sides if dom in s]
            if cells:
                lines.append(f"  {label:22s}{len(cells):6d}" + "".join(f"{_mean_sd([c[k] for c in cells]):>12s}"
                                                                      for k in SHOWN))
    return "\n".join(lines)


def tables(runs: list[dict]) -> str:
    """The main comparison (base, RLVR, RLCR, log), the extra conditions, and budget 0."""
    by = {}
    for r in runs:
        by.setdefault(r["condition"], []).append(r)
    domains = sorted({d for r in runs for d in r["calibration"]})
    side = lambda rs, which: [{d: rep[which] for d, rep in r["calibration"].items()} for r in rs]  # noqa: E731
    main = [("base", side(by.get("rlcr", []), "base"))]
    main += [(f"{c} (final)", side(by[c], "final")) for c in MAIN if c in by]
    lines = ["calibration on held-out problems (mean ± sd over seeds; q = the stated confidence, none stated "
             "counts as q = 1)", table(main, domains)]
    extra = []
    for c in ("rlcr-arith", "noreflect", "rlcr-long", "rlcr-drgrpo"):
        if c in by:
            extra += [(f"{c} base", side(by[c], "base")), (f"{c} final", side(by[c], "final"))]
    if extra:
        lines += ["", "other conditions (rlcr-arith: RLCR on arithmetic only, so its code row is transfer)",
                  table(extra, domains)]
    forced = [(f"{r_c} {which}, B=0", [r["budget0"][which] for r in by[r_c] if r["budget0"]])
              for r_c in ("rlvr", "rlcr") if r_c in by for which in ("base", "final")]
    forced = [(label, sides) for label, sides in forced if sides]
    if forced:
        lines += ["", "no thinking: the same held-out problems with the thinking cut at 0 tokens (budget forcing)",
                  table(forced, domains)]
    known = [r for c in ("rlvr", "rlcr") for r in by.get(c, []) if r["ceiling"]]
    if known:
        lines += ["", "what a confidence could know, AUROC for being right: of the stated confidence; of one "
                  "stated from what the completion shows (family, difficulty, style, revisions, a failed check; "
                  "cross-fitted); of the model's own mean token log-prob up to </answer>"]
        for dom in domains:
            for r in known:
                lines.append(f"  {dom} {r['name']:16s}" + "  ".join(
                    f"{name}: stated {fmt(c['stated_auroc'])}, features {fmt(c['feature_auroc'])}, "
                    f"log-prob {fmt(c.get('logprob_auroc'))}"
                    for name, c in ((n, r["ceiling"][n][dom]) for n in ("base", "final"))))
    lines += ["", bar_line(by, domains), wall_lines(runs)]
    return "\n".join(lines)


def bar_line(by: dict, domains) -> str:
    """The issue's bar, seed by seed: RLCR ECE <= 0.05 and AUROC >= 0.75 per domain; accuracy within
    3 points of RLVR's (same seed)."""
    out = []
    for r in sorted(by.get("rlcr", []), key=lambda r: r["seed"]):
        parts = []
        twin = next((x for x in by.get("rlvr", []) if x["seed"] == r["seed"]), None)
        for dom in domains:
            f = r["calibration"][dom]["final"]
            gap = None if twin is None else f["accuracy"] - twin["calibration"][dom]["final"]["accuracy"]
            ok = (f["ece"] is not None and f["ece"] <= 0.05 and f["confidence_auroc"] is not None
                  and f["confidence_auroc"] >= 0.75 and gap is not None and gap >= -0.03)
            parts.append(f"{dom} ECE {fmt(f['ece'])} AUROC {fmt(f['confidence_auroc'])} "
                         f"{'meets' if ok else 'misses'}; accuracy - RLVR's {fmt(gap, '+.2f')}")
        out.append(f"  seed {r['seed']}: " + "; ".join(parts))
    return ("bar (RLCR: ECE <= 0.05 and AUROC >= 0.75 per domain, accuracy at most 0.03 below RLVR's on the "
            "same seed):\n" + "\n".join(out))


def wall_lines(runs: list[dict]) -> str:
    """Median wall seconds per condition and stage."""
    by = {}
    for r in runs:
        by.setdefault(r["condition"], []).append(r["wall"])
    return "wall seconds (median over seeds): " + "; ".join(
        f"{c} " + ", ".join(f"{k} {np.median([w[k] for w in ws if k in w]):.0f}" for k in ws[0])
        for c, ws in sorted(by.items()))


def pooled(bins_list: list[list[dict]]) -> list[dict]:
    """Reliability bins of several runs pooled: counts summed, means weighted by count."""
    out = []
    for cells in zip(*bins_list):
        n = sum(c["count"] for c in cells)
        mean = lambda k: sum(c[k] * c["count"] for c in cells if c["count"]) / n if n else None  # noqa: E731
        out.append({**{k: cells[0][k] for k in ("low", "high")}, "count": n, "confidence": mean("confidence"),
                    "accuracy": mean("accuracy")})
    return out


def plot(runs: list[dict], path: str) -> None:
    """Reliability diagrams per domain, pooled over seeds: the base model, and RLVR, RLCR, log final."""
    if not plots.available():
        print(plots.SKIPPED)
        return
    by = {}
    for r in runs:
        by.setdefault(r["condition"], []).append(r)
    domains = sorted({d for r in runs for d in r["calibration"]})
    panels = {}
    for dom in domains:
        curves = {}
        for label, rs, which in [("base", by.get("rlcr", []), "base")] + [(c, by.get(c, []), "final") for c in MAIN]:
            rs = [r for r in rs if dom in r["calibration"] and r["calibration"][dom]["reliability"][which]]
            if rs:
                bins = pooled([r["calibration"][dom]["reliability"][which] for r in rs])
                q = [c["confidence"] for c in bins if c["count"]]
                acc = [c["accuracy"] for c in bins if c["count"]]
                n = [c["count"] for c in bins if c["count"]]
                ece = sum(k * abs(a - c) for k, a, c in zip(n, acc, q)) / sum(n) if n else None
                curves[f"{label} ({len(rs)} seed{'s' if len(rs) > 1 else ''})"] = {"bins": bins, "ece": ece}
        panels[f"held-out {dom}"] = curves
    plots.reliability(panels, path, title="Stated confidence against accuracy, pooled over seeds")
    print(f"plot: {path}")


def store(out: str, dest: str) -> None:
    """Copy each finished run's config, summary, calibration files and a trimmed metrics.jsonl to DEST."""
    keep = ("stage", "step", "reward", "accuracy", "length_mean", "calibration_term", "kl") + metrics.CALIBRATION_KEYS
    for r in read_all(out):
        src, dst = os.path.join(out, "runs", r["name"]), os.path.join(dest, "runs", r["name"])
        os.makedirs(os.path.join(dst, "calibration"), exist_ok=True)
        for name in ("config.json", "summary.json"):
            shutil.copy2(os.path.join(src, name), os.path.join(dst, name))
        for name in ("budget0.json", "traces.json", "ceiling.json"):
            if os.path.exists(os.path.join(src, "calibration", name)):
                shutil.copy2(os.path.join(src, "calibration", name), os.path.join(dst, "calibration", name))
        rows = [{k: v for k, v in row.items() if k in keep or k.startswith("heldout_")}
                for row in runfolder.Jsonl(os.path.join(src, "metrics.jsonl")).rows() if row["stage"] == "rl"]
        with open(os.path.join(dst, "metrics.jsonl"), "w") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    shutil.copy2(os.path.join(out, "bench.json"), os.path.join(dest, "bench.json"))


def traces_text(out: str) -> str:
    """The confidently wrong examples of every seed's traces.json."""
    lines = []
    for r in read_all(out):
        path = os.path.join(out, "runs", r["name"], "calibration", "traces.json")
        if r["condition"] == "rlcr" and os.path.exists(path):
            stored = runfolder.read_json(path)
            for who, ex in [("base", e) for e in stored["examples"]] + [("rlcr", e) for e in stored.get("after", [])]:
                lines.append(f"seed {r['seed']}, wrong and sure ({who}): {ex['prompt'].removesuffix('<think>')}")
                for name in ("base", "rlvr", "rlcr"):
                    c = ex[name]
                    lines.append(f"  {name:5s} {'right' if c['correct'] else 'wrong'} q={fmt(c['confidence'], '.1f')}: "
                                 f"{c['completion']}")
    return "\n".join(lines)


def ece_noise(n: int, draws: int = 200, seed: int = 0) -> tuple[float, float]:
    """(median, 90th percentile) of the ECE of a perfectly calibrated model on n completions: q uniform
    over the 11 levels, each completion right with probability q. The noise floor of a measured ECE."""
    rng = np.random.default_rng(seed)
    eces = []
    for _ in range(draws):
        q = rng.integers(11, size=n) / 10
        eces.append(metrics.ece(q, rng.random(n) < q))
    return float(np.median(eces)), float(np.percentile(eces, 90))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--conditions", nargs="+", default=list(MAIN), help=", ".join(CONDITIONS))
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--preset", default="calibration")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--table", action="store_true", help="print the stored runs' tables and plot; run nothing")
    ap.add_argument("--plot", default=None, help="where to draw the plot (default OUT/calibration.png)")
    ap.add_argument("--budget0", action="store_true", help="also each run's models with no thinking (B = 0)")
    ap.add_argument("--ceiling", action="store_true", help="also what a confidence stated from the completion's "
                    "visible features (family, difficulty, style, revisions) would reach (AUROC)")
    ap.add_argument("--traces", action="store_true", help="also the base model's confidently wrong answers, "
                    "with the RLVR and RLCR models' answers to the same problems")
    ap.add_argument("--noise", type=int, nargs="+", metavar="N", help="only print the ECE of a perfectly "
                    "calibrated model on N completions (median and 90th percentile of 200 draws)")
    ap.add_argument("--store", default=None, metavar="DIR", help="copy the finished runs' small files to DIR")
    args = ap.parse_args(argv)
    if args.noise:
        for n in args.noise:
            median, p90 = ece_noise(n)
            print(f"ECE of a calibrated model on {n} completions: median {median:.3f}, 90th percentile {p90:.3f}")
        return 0

    def body():
        check_choices(args.conditions, CONDITIONS, "condition")
        if not args.table:
            run_all(args.out, args.seeds, args.conditions, args.preset, args.sets)
        for r in read_all(args.out):
            if args.budget0 and r["condition"] in ("rlvr", "rlcr"):
                no_thinking(os.path.join(args.out, "runs", r["name"]))
            if args.ceiling and r["condition"] in ("rlvr", "rlcr"):
                ceiling(os.path.join(args.out, "runs", r["name"]))
            if args.traces and r["condition"] == "rlcr" and os.path.exists(
                    os.path.join(args.out, "runs", f"rlvr-seed{r['seed']}", "summary.json")):
                confident_wrong(args.out, r["seed"])
        if args.store:
            store(args.out, args.store)
        runs = read_all(args.out)
        if not runs:
            raise BenchError(f"{args.out} holds no finished run")
        print(tables(runs))
        text = traces_text(args.out)
        if text:
            print("\nconfidently wrong answers of the base model, and the RL models' answers to the same problems\n"
                  + text)
        plot(runs, args.plot or os.path.join(args.out, "calibration.png"))

    return cli(body)


if __name__ == "__main__":
    sys.exit(main())
