"""The judge experiment (docs/judge.md): how good is a learned judge, and what does RL against it learn?

    python bench/judge.py --seeds 0 1                         # every variant, 2 seeds (runs/judge)
    python bench/judge.py --variants reasoning direct --seeds 0
    python bench/judge.py --table                             # the stored runs' tables and plot only
    python bench/judge.py --table --out docs/runs/judge --plot docs/judge.png

For each seed: the preset's run (pretraining, its reasoning judge, RL against the judge), then from the
same base model (`train.py --base`) one run with the exact verifier's reward (`exact`) and one run per
other judge variant, each training its own judge on the base policy's candidates and running RL
against it, the verifier logged beside it:

    reasoning          the preset's judge: it recomputes, then gives the verdict; master-key negatives
    direct             the verdict alone, one token
    direct-nokeys      the verdict alone, no master-key negatives in its corpus
    reasoning-nokeys   it recomputes, no master-key negatives
    small              the reasoning judge at a quarter of the width (d_model 48, 2 layers)
    reasoning-answer   the reasoning judge reading only the candidate's answer, not its thinking
    direct-answer      the direct judge reading only the candidate's answer

Stopping and going on: a run folder with a summary.json is done, one without is resumed; OUT/bench.json
fixes the preset and --set overrides, and another config into the same OUT is refused. The table reads
each run's judge/judge_eval.json (the judge on held-out problems) and metrics.jsonl (judge_reward, the
proxy, beside reward, the gold, every step); the plot draws both against RL step and against sqrt(KL)
to the base model, with Gao et al.'s form R(d) = d (alpha - beta log d) fitted to the gold's rise.
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

from minireason import plots, runfolder  # noqa: E402
from minireason.metrics import fmt  # noqa: E402

VARIANTS = {
    "reasoning": [],
    "direct": ["judge.style=direct"],
    "direct-nokeys": ["judge.style=direct", "judge.master_keys=0"],
    "reasoning-nokeys": ["judge.master_keys=0"],
    "small": ["judge.d_model=48", "judge.n_layers=2", "judge.d_mlp=128"],
    "reasoning-answer": ["judge.reads=answer"],
    "direct-answer": ["judge.style=direct", "judge.reads=answer"],
}
DEFAULT_OUT = os.path.join(ROOT, "runs", "judge")
WINDOW = 10          # steps in the trailing means of the gap


def run_all(out: str, seeds, variants, preset: str, sets: list[str], echo=print) -> None:
    """Per seed: the preset's run (pretraining, the reasoning judge, RL against it), then from its base
    model the run with the exact reward and one run per other judge variant."""
    pin_config(out, preset, sets)
    for seed in seeds:
        common = ["--preset", preset, f"--seed={seed}", *[f"--{s}" for s in sets]]
        main = ensure(out, f"reasoning-seed{seed}", common, echo)
        ensure(out, f"exact-seed{seed}", [*common, "--rl.reward=exact", "--base", main], echo)
        for v in variants:
            if v != "reasoning":
                ensure(out, f"{v}-seed{seed}", [*common, *[f"--{o}" for o in VARIANTS[v]], "--base", main], echo)


def best_of_n(folder: str, k: int = 16, echo=print) -> dict:
    """folder/judge/bon.json: the run's base policy, k samples of each held-out judge problem, picked by
    its judge (best-of-n) or by majority vote (judge.best_of_n)."""
    path = os.path.join(folder, "judge", "bon.json")
    if os.path.exists(path):
        return runfolder.read_json(path)
    import jax

    from minireason import heldout, metrics
    from minireason import judge as judge_lib
    from minireason.load import load_run
    from minireason.tasks import heldout_set
    echo(f"best-of-n against majority vote: {os.path.basename(folder)}")
    run = load_run(folder, base=True, echo=echo)
    cfg, d = run.cfg, run.cfg.data
    problems = heldout_set(cfg.seed, d.families, d.difficulties, cfg.judge.eval_problems, d.heldout_percent)
    _, tokens, mask, finished = heldout.sample_rows(run.generate, run.params, jax.random.key(cfg.seed + 43),
                                                    run.tokenizer, problems, k, cfg.eval.batch_size, d.prompt_len,
                                                    cfg.rl.temperature)
    rows = [p for p in problems for _ in range(k)]
    texts = run.tokenizer.decode_completions(tokens, mask)
    graded = metrics.grade(rows, texts, mask.sum(axis=1), ~finished)
    out = judge_lib.best_of_n(graded, judge_lib.load(cfg, folder)(rows, texts), k)
    runfolder.write_json(path, out)
    return out


def exploits(folder: str, last: int = 20, echo=print) -> list[dict]:
    """folder/judge/exploits.json: the completions of the last `last` RL steps in samples.jsonl that the
    judge accepts and the verifier rejects, with what the judge wrote about them."""
    path = os.path.join(folder, "judge", "exploits.json")
    if os.path.exists(path):
        return runfolder.read_json(path)
    from minireason import judge as judge_lib
    from minireason.config import from_dict, validate
    from minireason.corpus import prompt_text
    cfg = validate(from_dict(runfolder.read_json(os.path.join(folder, "config.json"))))
    rows = [r for r in runfolder.Jsonl(os.path.join(folder, "samples.jsonl")).rows() if r["step"] > cfg.rl.steps - last]
    echo(f"what the policy learned to exploit: {os.path.basename(folder)} ({len(rows)} samples)")
    v = judge_lib.load(cfg, folder)([r["task"] for r in rows], [r["completion"] for r in rows])
    out = [{"step": r["step"], "prompt": prompt_text(r["task"]), "completion": r["completion"], "judge": w}
           for r, yes, w in zip(rows, v.yes, v.completions) if yes and not r["reward"]]
    runfolder.write_json(path, {"samples": len(rows), "accepted_wrong": out})
    return runfolder.read_json(path)


STORED = ("config.json", "summary.json", "judge/judge_eval.json", "judge/corpus.json", "judge/bon.json",
          "judge/exploits.json")
TRIMMED_KEYS = ("stage", "step", "reward", "judge_reward", "judge_gap", "judge_false_positive_rate",
                "judge_false_negative_rate", "kl", "length_mean", "reflection_rate", "heldout_accuracy",
                "heldout_arith_accuracy", "heldout_code_accuracy")


def store(out: str, dest: str) -> None:
    """Copy each finished run's small files into dest/runs/NAME (metrics.jsonl: RL rows, TRIMMED_KEYS)."""
    for r in read_all(out):
        src, to = os.path.join(out, "runs", r["name"]), os.path.join(dest, "runs", r["name"])
        os.makedirs(os.path.join(to, "judge"), exist_ok=True)
        for name in STORED:
            if os.path.exists(os.path.join(src, name)):
                shutil.copy2(os.path.join(src, name), os.path.join(to, name))
        with open(os.path.join(to, "metrics.jsonl"), "w") as f:
            for row in r["rows"]:
                f.write(json.dumps({k: row[k] for k in TRIMMED_KEYS if k in row}) + "\n")
    print(f"stored {len(read_all(out))} runs in {dest}")


# ----------------------------------------------------------------------------- reading the runs

def trailing(values, window: int = WINDOW) -> np.ndarray:
    v = np.asarray(values, float)
    return np.array([v[max(0, i - window + 1):i + 1].mean() for i in range(len(v))])


def gao_fit(d, gain):
    """Least squares of gain = d (alpha - beta log d) (Gao et al. 2022, RL form) over d > 0; returns
    (alpha, beta, d* = exp(alpha / beta - 1) where the fitted gold peaks, or None when beta <= 0)."""
    d, gain = np.asarray(d, float), np.asarray(gain, float)
    keep = d > 0
    if keep.sum() < 3:
        return None
    a = np.stack([d[keep], -d[keep] * np.log(d[keep])], axis=1)
    alpha, beta = np.linalg.lstsq(a, gain[keep], rcond=None)[0]
    return float(alpha), float(beta), (float(np.exp(alpha / beta - 1)) if beta > 0 else None)


def distances(rows: list[dict]) -> tuple[list[int], np.ndarray]:
    """The RL rows where KL to the base was measured, and d = sqrt(KL) there."""
    at = [i for i, x in enumerate(rows) if x.get("kl") is not None]
    return at, np.sqrt(np.maximum([rows[i]["kl"] for i in at], 0))


def read_run(folder: str) -> dict | None:
    summary_path = os.path.join(folder, "summary.json")
    if not os.path.exists(summary_path):
        return None
    summary = runfolder.read_json(summary_path)
    rows = [r for r in runfolder.Jsonl(os.path.join(folder, "metrics.jsonl")).rows() if r["stage"] == "rl"]
    name = os.path.basename(folder)
    variant, _, seed = name.rpartition("-seed")
    out = {"name": name, "variant": variant, "seed": int(seed), "summary": summary, "rows": rows,
           "gold": {dom: (rep["base"]["accuracy"], rep["final"]["accuracy"])
                    for dom, rep in summary["domains"].items()}}
    if "judge_reward" in (rows[0] if rows else {}):
        gap = trailing([r["judge_gap"] for r in rows])
        out["gap_max"], out["gap_final"] = float(gap.max()), float(gap[-1])
        out["proxy_final"] = float(trailing([r["judge_reward"] for r in rows])[-1])
        out["gold_final"] = float(trailing([r["reward"] for r in rows])[-1])
    at, d = distances(rows)
    gold = trailing([r["reward"] for r in rows]) if rows else np.zeros(0)
    out["d_final"] = float(d[-1]) if len(d) else None
    out["gao"] = gao_fit(d, gold[at] - gold[0]) if len(d) else None
    ev_path, bon_path = (os.path.join(folder, "judge", f) for f in ("judge_eval.json", "bon.json"))
    out["judge"] = runfolder.read_json(ev_path) if os.path.exists(ev_path) else None
    out["bon"] = runfolder.read_json(bon_path) if os.path.exists(bon_path) else None
    ex_path = os.path.join(folder, "judge", "exploits.json")
    out["exploits"] = runfolder.read_json(ex_path) if os.path.exists(ex_path) else None
    return out


def read_all(out: str) -> list[dict]:
    folder = os.path.join(out, "runs")
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    return [r for r in (read_run(os.path.join(folder, n)) for n in names) if r is not None]


def tables(runs: list[dict]) -> str:
    lines = ["Judges on held-out problems (judge/judge_eval.json): accuracy / AUROC / false-positive rate",
             f"| run | all | multi-step errors: accuracy (wrong candidates) | {' | '.join(['writer', 'policy'])} "
             "| master keys judged yes |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        ev = r["judge"]
        if ev is None:
            continue
        a, m = ev["all"], ev["multi_step_errors"]
        src = [ev["by_source"].get(s) for s in ("writer", "policy")]
        lines.append(f"| {r['name']} | {fmt(a['accuracy'])} / {fmt(a['auroc'])} / {fmt(a['false_positive_rate'])} | "
                     f"{fmt(m['accuracy'])} ({m['count']}) | "
                     + " | ".join("–" if s is None else f"{fmt(s['accuracy'])} / {fmt(s['false_positive_rate'])}"
                                  for s in src)
                     + f" | {fmt(ev['master_keys_any'])} |")
    keys = next((list(r["judge"]["master_keys"]) for r in runs if r["judge"]), [])
    if keys:
        lines += ["", "Master keys: share judged yes (every one is wrong)",
                  "| run | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        lines += [f"| {r['name']} | " + " | ".join(fmt(r["judge"]["master_keys"][k]) for k in keys) + " |"
                  for r in runs if r["judge"]]
    lines += ["", "RL: held-out gold accuracy base -> final per domain; the judge's reward (proxy) and the "
              f"verifier's (gold) on the training batch, {WINDOW}-step means",
              "| run | " + " | ".join(f"{d} gold" for d in (runs[0]["gold"] if runs else {})) +
              " | proxy at the end | gold at the end | largest gap proxy - gold | sqrt(KL) at the end | "
              "Gao fit of the gold's rise: alpha, beta |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        gold = " | ".join(f"{b:.2f} -> {f:.2f} ({f - b:+.2f})" for b, f in r["gold"].values())
        fit = "–" if not r["gao"] else f"{r['gao'][0]:.2f}, {r['gao'][1]:.2f}"
        tail = f"{fmt(r['d_final'])} | {fit} |"
        if "gap_max" in r:
            lines.append(f"| {r['name']} | {gold} | {r['proxy_final']:.2f} | {r['gold_final']:.2f} | "
                         f"{r['gap_max']:+.2f} | {tail}")
        else:
            gold_final = trailing([x["reward"] for x in r["rows"]])[-1]
            lines.append(f"| {r['name']} | {gold} | (exact reward) | {gold_final:.2f} | – | {tail}")
    bon = [r for r in runs if r.get("bon")]
    if bon:
        ks = list(bon[0]["bon"]["best_of_n"])
        lines += ["", "Best-of-n with the judge against majority vote (base policy, held-out problems): "
                  "accuracy (tokens sampled per problem)",
                  "| run | " + " | ".join(f"n={k}: best-of-n | maj" for k in ks) + " |",
                  "|---|" + "---|" * (2 * len(ks))]
        for r in bon:
            b = r["bon"]
            lines.append(f"| {r['name']} | " + " | ".join(
                f"{b['best_of_n'][k]['accuracy']:.2f} ({b['best_of_n'][k]['tokens']:.0f}) | "
                f"{b['majority'][k]['accuracy']:.2f} ({b['majority'][k]['tokens']:.0f})" for k in ks) + " |")
    for r in runs:
        ex = r.get("exploits")
        if ex:
            lines += ["", f"{r['name']}: {len(ex['accepted_wrong'])} of the last {ex['samples']} samples "
                      "accepted by the judge and wrong (prompt | completion || the judge)"]
            lines += [f"  {e['prompt'].removesuffix('<think>')} | {e['completion']} || {e['judge']}"
                      for e in ex["accepted_wrong"][:6]]
    return "\n".join(lines)


def plot(runs: list[dict], path: str) -> None:
    """Proxy (dashed) and gold (solid) reward on the training batch against RL step, and against
    d = sqrt(KL to the base model) where KL was measured, with R(d) = R(0) + d (alpha - beta log d) fitted."""
    if not plots.available():
        print(plots.SKIPPED)
        return
    fig = plots._figure(figsize=(12, 4.5))
    by_step, by_kl = fig.subplots(1, 2)
    variants = sorted({r["variant"] for r in runs})
    colours = {v: f"C{i}" for i, v in enumerate(variants)}
    for r in runs:
        rows, c = r["rows"], colours[r["variant"]]
        first = r["seed"] == min(x["seed"] for x in runs if x["variant"] == r["variant"])
        gold = trailing([x["reward"] for x in rows])
        proxy = trailing([x["judge_reward"] for x in rows]) if "judge_reward" in rows[0] else None
        steps = [x["step"] for x in rows]
        by_step.plot(steps, gold, color=c, label=r["variant"] if first else None)
        if proxy is not None:
            by_step.plot(steps, proxy, "--", color=c)
        at, d = distances(rows)
        for series, style in ((gold, "o"), (proxy, "x")):
            if series is None:
                continue
            by_kl.plot(d, series[at], style, color=c, ms=4)
            fit = gao_fit(d, series[at] - series[0])
            if fit:
                grid = np.linspace(max(d.min(), 1e-3) / 2, d.max(), 50)
                by_kl.plot(grid, series[0] + grid * (fit[0] - fit[1] * np.log(grid)), "-" if style == "o" else "--",
                           color=c, lw=1, label=(f"{r['variant']} gold: alpha {fit[0]:.2f}, beta {fit[1]:.2f}"
                                                 if style == "o" and first else None))
    by_step.set(title="Reward on the training batch: judge (dashed) and verifier (solid)", xlabel="RL step",
                ylabel=f"share rewarded ({WINDOW}-step mean)", ylim=(0, 1))
    by_kl.set(title="Against distance from the base: gold (o, solid fit), proxy (x, dashed)",
              xlabel="d = sqrt(KL to the base), k3 on the batch", ylabel=f"share rewarded ({WINDOW}-step mean)",
              ylim=(0, 1))
    for ax in (by_step, by_kl):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    plots._save(fig, path)
    print(f"plot: {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), help=", ".join(VARIANTS))
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--preset", default="judge")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--table", action="store_true", help="print the stored runs' tables and plot; run nothing")
    ap.add_argument("--plot", default=None, help="where to draw the plot (default OUT/judge.png)")
    ap.add_argument("--bon", action="store_true", help="also best-of-n against majority vote for each judge run")
    ap.add_argument("--exploits", action="store_true",
                    help="also the late samples each judge accepts and the verifier rejects, with its verdicts")
    ap.add_argument("--store", default=None, metavar="DIR", help="copy the finished runs' small files to DIR")
    args = ap.parse_args(argv)

    def body():
        check_choices(args.variants, VARIANTS, "variant")
        if not args.table:
            run_all(args.out, args.seeds, args.variants, args.preset, args.sets)
        for r in read_all(args.out):
            if r["judge"] is not None and args.bon:
                best_of_n(os.path.join(args.out, "runs", r["name"]))
            if r["judge"] is not None and args.exploits:
                exploits(os.path.join(args.out, "runs", r["name"]))
        if args.store:
            store(args.out, args.store)
        runs = read_all(args.out)
        if not runs:
            raise BenchError(f"{args.out} holds no finished run")
        print(tables(runs))
        plot(runs, args.plot or os.path.join(args.out, "judge.png"))

    return cli(body)


if __name__ == "__main__":
    sys.exit(main())
