"""Thinking that grows with the problem (docs/long.md): the `long` preset's runs, their bar, and the stretch.

    python bench/long.py --seeds 1 2                              # the long preset, 2 seeds
    python bench/long.py --conditions stretch --seeds 1           # pretraining on levels 1-3 only
    python bench/long.py --table                                  # the stored runs' table only
    python bench/long.py --table --out docs/runs/long --plot docs/long.png

Conditions, per seed (the `long` preset: Countdown at levels 1-5, RL's frontier opening one level at
a time from 1, the thinking budget growing with it; frontier.py):

    long      the preset's run
    stretch   the same, with the pretraining corpus written at levels 1-3 only (data.corpus_difficulties):
              does RL push the model to think longer than any trace it read, and where does it break?

The table is each run's summary.json `frontier` block (frontier.summary_block) read against the bar
of issue 17, and per level the held-out accuracy and length of the base and final models beside the
corpus's own longest completion at that level (the stretch's question: is the final model's thinking
longer than anything it was shown?).

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

from minireason import plots, runfolder  # noqa: E402
from minireason.metrics import fmt  # noqa: E402

CONDITIONS = {"long": [], "stretch": ["data.corpus_difficulties=1,2,3"]}
DEFAULT_OUT = os.path.join(ROOT, "runs", "long")
BAR = {"length_ratio": 4.0, "rho_length": 0.9, "levels_advanced": 3, "accuracy_passed": 0.5}
CORPUS_PROBE = 4000     # corpus traces per run read for the longest completion per level


def run_all(out: str, seeds, conditions, preset: str, sets: list[str], echo=print) -> None:
    pin_config(out, preset, sets)
    for seed in seeds:
        for name in conditions:
            ensure(out, f"{name}-seed{seed}", ["--preset", preset, f"--seed={seed}", *[f"--{s}" for s in sets],
                                               *[f"--{o}" for o in CONDITIONS[name]]], echo)


def corpus_lengths(folder: str) -> dict:
    """folder/corpus_lengths.json: per difficulty level, the mean and the longest completion (tokens with
    the run's tokenizer, and the EOS) of CORPUS_PROBE traces of its pretraining corpus (the same generator
    and seed), and the mean of its reflective traces; a level the corpus never writes is absent."""
    path = os.path.join(folder, "corpus_lengths.json")
    if os.path.exists(path):
        return runfolder.read_json(path)
    from minireason import config as config_lib
    from minireason import corpus
    from minireason.tokenizer import Tokenizer
    cfg = config_lib.from_dict(runfolder.read_json(os.path.join(folder, "config.json")))
    tok = Tokenizer.load(os.path.join(folder, "tokenizer.model"))
    by_level: dict = {}
    for e in corpus.make_examples(cfg.data, cfg.seed, CORPUS_PROBE):
        by_level.setdefault(str(e.problem["difficulty"]), []).append((len(tok.encode(e.completion)) + 1, e.style))
    out = {lv: {"mean": float(np.mean([n for n, _ in got])), "max": max(n for n, _ in got), "count": len(got),
                "reflect_mean": float(np.mean([n for n, s in got if s == "reflect"] or [np.nan]))}
           for lv, got in sorted(by_level.items(), key=lambda kv: int(kv[0]))}
    runfolder.write_json(path, out)
    return out


def read_all(out: str) -> list[dict]:
    """One record per finished run in OUT/runs: name, condition, seed, summary, corpus lengths."""
    runs = []
    folder = os.path.join(out, "runs")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, name, "summary.json")
        if not os.path.exists(path):
            continue
        condition, seed = name.rsplit("-seed", 1)
        lengths = os.path.join(folder, name, "corpus_lengths.json")
        runs.append({"name": name, "condition": condition, "seed": int(seed), "summary": runfolder.read_json(path),
                     "corpus": runfolder.read_json(lengths) if os.path.exists(lengths) else None})
    return runs


def bar_checks(block: dict) -> dict:
    """Each part of issue 17's bar for one run: True, False, or None where it cannot be read."""
    acc = [a for h in block["heldout"].values() for a in h["accuracy_passed"].values()]
    by = list(block["reflection_by_frontier"].values())
    return {
        "length >= 4x base": None if block["length_ratio"] is None else block["length_ratio"] >= BAR["length_ratio"],
        "rho(step, length) >= 0.9": None if block["rho_length"] is None else block["rho_length"] >= BAR["rho_length"],
        "frontier +3 levels": block["levels_advanced"] >= BAR["levels_advanced"],
        "held-out acc >= 0.5 at passed levels": (all(a is not None and a >= BAR["accuracy_passed"] for a in acc)
                                                 if acc else None),
        "reflection rises with the frontier": all(a < b for a, b in zip(by, by[1:])) if len(by) > 1 else None,
    }


def tables(runs: list[dict]) -> str:
    lines = []
    for r in runs:
        s, block = r["summary"], r["summary"].get("frontier")
        wall = s.get("wall_seconds", {})
        lines.append(f"\n{r['name']}  (wall: pretrain {wall.get('pretrain', 0) / 60:.1f} min, rl "
                     f"{wall.get('rl', 0) / 60:.1f} min, total {wall.get('total', 0) / 60:.1f} min)")
        if block is None:
            lines.append("  no frontier block (not a frontier run)")
            continue
        from minireason import frontier
        lines += ["  " + line for line in frontier.format_block(block).splitlines()]
        lines.append("  bar: " + "; ".join(f"{k} {'met' if v else ('-' if v is None else 'MISSED')}"
                                           for k, v in bar_checks(block).items()))
        for domain, cells in ((d, b.get("by_difficulty", {})) for d, b in s["domains"].items()):
            lines.append(f"  {domain} held-out per level: base -> final accuracy, length (the corpus's mean, "
                         "its reflective traces' mean, its longest)")
            for lv, cell in cells.items():
                c = (r["corpus"] or {}).get(lv)
                corpus = f"{c['mean']:.0f}, {c['reflect_mean']:.0f}, {c['max']}" if c else "never written"
                lines.append(f"    {lv}: accuracy {fmt(cell['base']['accuracy'])} -> {fmt(cell['final']['accuracy'])}, "
                             f"length {fmt(cell['base']['length_mean'], '.0f')} -> "
                             f"{fmt(cell['final']['length_mean'], '.0f')} (corpus {corpus})")
    return "\n".join(lines)


def plot(out: str, runs: list[dict], path: str) -> None:
    """The frontier's curves of the first run of each condition (lowest seed): path, and path's name with
    `-stretch` for the stretch's."""
    if not plots.available():
        print(plots.SKIPPED)
        return
    for condition in ("long", "stretch"):
        first = [r for r in runs if r["condition"] == condition]
        if first:
            rows = runfolder.Jsonl(os.path.join(out, "runs", first[0]["name"], "metrics.jsonl")).rows()
            target = path if condition == "long" else path.replace(".png", "-stretch.png")
            plots.frontier_curves(rows, target)
            print(f"plot ({first[0]['name']}): {target}")


def store(out: str, dest: str) -> None:
    """Copy each finished run's summary, config, corpus lengths and RL rows (metrics.jsonl, the RL stage:
    every figure of the table and the plot is read from these) to DEST/runs."""
    for r in read_all(out):
        src, dst = os.path.join(out, "runs", r["name"]), os.path.join(dest, "runs", r["name"])
        os.makedirs(dst, exist_ok=True)
        for name in ("summary.json", "config.json", "corpus_lengths.json"):
            if os.path.exists(os.path.join(src, name)):
                shutil.copy2(os.path.join(src, name), os.path.join(dst, name))
        rows = [row for row in runfolder.Jsonl(os.path.join(src, "metrics.jsonl")).rows() if row["stage"] == "rl"]
        with open(os.path.join(dst, "metrics.jsonl"), "w") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    shutil.copy2(os.path.join(out, "bench.json"), os.path.join(dest, "bench.json"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--conditions", nargs="+", default=["long"], help=", ".join(CONDITIONS))
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--preset", default="long")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--table", action="store_true", help="print the stored runs' table and plot; run nothing")
    ap.add_argument("--plot", default=None, help="where to draw the plot (default OUT/long.png)")
    ap.add_argument("--store", default=None, metavar="DIR", help="copy the finished runs' small files to DIR")
    args = ap.parse_args(argv)

    def body():
        check_choices(args.conditions, CONDITIONS, "condition")
        if not args.table:
            run_all(args.out, args.seeds, args.conditions, args.preset, args.sets)
            for r in read_all(args.out):
                corpus_lengths(os.path.join(args.out, "runs", r["name"]))
        if args.store:
            store(args.out, args.store)
        runs = read_all(args.out)
        if not runs:
            raise BenchError(f"{args.out} holds no finished run")
        print(tables(runs))
        plot(args.out, runs, args.plot or os.path.join(args.out, "long.png"))

    return cli(body)


if __name__ == "__main__":
    sys.exit(main())
