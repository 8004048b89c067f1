"""Print every results table of README.md and docs/results.md from the stored runs in docs/runs/.

    python bench/tables.py                 all tables, each between <!-- table:NAME --> and <!-- /table -->
    python bench/tables.py --check         exit 1 if a table in README.md or docs/results.md differs
    python bench/tables.py --write         rewrite those tables in the documents in place
    python bench/tables.py --runs DIR      read the runs from DIR instead of docs/runs

Each run the documents quote keeps its small summary.json (and eval.json) under docs/runs/<run>/, as
train.py and verify.py wrote them; nothing here is typed by hand. To refresh after new runs:
copy the new summary.json / eval.json files into docs/runs/<run>/, then run it with --write
(tests/test_tables.py fails until the documents agree). The `files` table (the README's map of the
code, with line counts and each module's first docstring line) is generated the same way.

Numbers: a rate whose denominator was empty is null in the JSON and `–` here; `a → b` is base → final
on the same held-out problems; `(n)` after an effective-reflection rate is the number of revisions
it rests on.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = os.path.join(ROOT, "docs", "runs")
DOCUMENTS = ("README.md", os.path.join("docs", "results.md"), os.path.join("docs", "course.md"),
             os.path.join("docs", "transfer.md"))
DEMO_SEEDS = ("demo-seed0", "demo-seed1", "demo-seed2")
CONTROL, TRANSFER = "demo-noreflect-seed0", "demo-transfer-seed0"
COURSE_SEEDS = ("course-seed0", "course-seed1", "course-seed2")
LOSS_RUNS = [f"losses/{loss}-seed{s}" for loss in ("grpo", "dr_grpo", "dapo") for s in (0, 1, 2)]
# what --store keeps of metrics.jsonl (the figures and tables need no more)
KEPT = ("stage", "step", "loss", "heldout_loss", "reward", "accuracy", "length_mean", "length_correct",
        "length_incorrect", "reflection_rate", "effective_reflection_rate", "kl", "entropy", "truncation_rate",
        "heldout_accuracy", "heldout_length_mean", "heldout_reflection_rate")
sys.path.insert(0, ROOT)
from minireason.metrics import fmt  # noqa: E402  (no JAX: the tables need only the JSON files)

MARK = re.compile(r"<!-- table:([a-z0-9-]+) -->\n(.*?)<!-- /table -->", re.S)


def arrow(b: dict, f: dict, key: str, spec: str = ".2f") -> str:
    return f"{fmt(b[key], spec)} → {fmt(f[key], spec)}"


def yes(ok: bool) -> str:
    return "yes" if ok else "no"


def effective(b: dict, f: dict) -> str:
    return (f"{fmt(b['effective_reflection_rate'])} ({b['revisions']}) → "
            f"{fmt(f['effective_reflection_rate'])} ({f['revisions']})")


def load(runs: str, name: str, file: str = "summary.json") -> dict | None:
    path = os.path.join(runs, name, file)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def demo_table(runs: str) -> str:
    """The demo on 3 seeds and the control (no reflective traces in pretraining), per domain."""
    rows = []
    for name in DEMO_SEEDS + (CONTROL,):
        s = load(runs, name)
        if s is None:
            continue
        for dom, rep in s["domains"].items():
            b, f = rep["base"], rep["final"]
            rows.append([name, dom, str(f["problems"]), arrow(b, f, "accuracy"), arrow(b, f, "length_mean", ".1f"),
                         arrow(b, f, "reflection_rate"), effective(b, f),
                         f"{s['wall_seconds']['total'] / 60:.1f}"])
    return table(["run", "domain", "problems", "accuracy", "length (tokens)", "reflection",
                  "effective reflection (revisions)", "minutes"], rows)


def bar_table(runs: str) -> str:
    """The demo's bar, checked per seed and domain from the same files."""
    rows = []
    control = load(runs, CONTROL)
    for name in DEMO_SEEDS:
        s = load(runs, name)
        if s is None:
            continue
        minutes = s["wall_seconds"]["total"] / 60
        for dom, rep in s["domains"].items():
            b, f = rep["base"], rep["final"]
            gain = (f["accuracy"] - b["accuracy"]) * 100
            ratio = f["length_mean"] / b["length_mean"]
            refl = (b["reflection_rate"] < 0.25 and f["reflection_rate"] > 0.40
                    and f["reflection_rate"] >= 2 * b["reflection_rate"])
            eff = f["effective_reflection_rate"]
            ctrl = control["domains"][dom]["final"]["reflection_rate"] if control else None
            rows.append([name, dom, f"{gain:+.1f} {yes(gain >= 20)}", f"×{ratio:.2f} {yes(ratio >= 1.5)}",
                         f"{b['reflection_rate']:.2f} → {f['reflection_rate']:.2f} {yes(refl)}",
                         f"{fmt(eff)} {yes(eff is not None and eff > 0)}",
                         "–" if ctrl is None else f"{ctrl:.2f} {yes(ctrl < 0.02)}",
                         f"{minutes:.1f} {yes(minutes <= 10)}"])
    return table(["run", "domain", "accuracy ≥ +20 points", "length ×1.5", "reflection < 0.25 → > 0.40, ×2",
                  "effective > 0", "control's reflection < 0.02", "minutes ≤ 10"], rows)


def cells_table(runs: str) -> str:
    """Per family and difficulty (seed 0): distinct held-out problems and what RL changed."""
    s = load(runs, DEMO_SEEDS[0])
    if s is None:
        return table(["cell"], [])
    rows = []
    for dom, rep in s["domains"].items():
        for cell, row in rep["by_family_difficulty"].items():
            b, f = row["base"], row["final"]
            rows.append([cell, str(f["problems"]), arrow(b, f, "accuracy"), arrow(b, f, "length_mean", ".1f"),
                         arrow(b, f, "reflection_rate"), effective(b, f), arrow(b, f, "check_accuracy"),
                         arrow(b, f, "step_accuracy")])
    return table(["cell", "problems", "accuracy", "length", "reflection", "effective reflection (revisions)",
                  "check accuracy", "step accuracy"], rows)


def simpson_table(runs: str) -> str:
    """Does reflecting pay? Final accuracy of completions that reflect vs those that do not, within each
    family at its hardest difficulty (pooled over families the two groups differ in family mix too)."""
    rows = []
    for name in DEMO_SEEDS:
        s = load(runs, name)
        if s is None:
            continue
        for rep in s["domains"].values():
            for cell, row in rep["by_family_difficulty"].items():
                if not cell.endswith("/3"):
                    continue
                f = row["final"]
                rows.append([name, cell, f"{fmt(f['accuracy_reflect'])} ({f['count_reflect']})",
                             f"{fmt(f['accuracy_noreflect'])} ({f['count_noreflect']})"])
    return table(["run", "cell", "accuracy when reflecting (n)", "accuracy otherwise (n)"], rows)


def transfer_table(runs: str) -> str:
    """RL on arithmetic only (demo-transfer) against RL on both domains (demo), same seed, per family."""
    rows = []
    for name in (DEMO_SEEDS[0], TRANSFER):
        s = load(runs, name)
        if s is None:
            continue
        for rep in s["domains"].values():
            for fam, row in rep["by_family"].items():
                b, f = row["base"], row["final"]
                rows.append([name, fam, str(f["problems"]), arrow(b, f, "accuracy"), arrow(b, f, "reflection_rate"),
                             arrow(b, f, "length_mean", ".1f")])
    return table(["run", "family", "problems", "accuracy", "reflection", "length"], rows)


def testtime_table(runs: str) -> str:
    """verify.py --run on seed 0: k samples per held-out problem."""
    ev = load(runs, DEMO_SEEDS[0], "eval.json")
    if ev is None:
        return table(["domain"], [])
    k = ev["k"]
    rows = []
    for dom in ev["models"]["final"]["domains"]:
        b, f = (ev["models"][m]["domains"][dom]["overall"] for m in ("base", "final"))
        sb, sf = (ev["length_vs_difficulty"][m][dom]["spearman"] for m in ("base", "final"))
        rows.append([dom, str(f["problems"]), arrow(b, f, "pass@1"), arrow(b, f, f"pass@{k}"),
                     arrow(b, f, f"maj@{k}"), f"{fmt(sb, '+.2f')} → {fmt(sf, '+.2f')}"])
    return table(["domain", "problems", "pass@1", f"pass@{k}", f"maj@{k}", "Spearman(difficulty, length)"], rows)


def budget_table(runs: str) -> str:
    """Budget forcing on seed 0: accuracy when the thinking is cut after B tokens (tokens spent)."""
    ev = load(runs, DEMO_SEEDS[0], "eval.json")
    if ev is None:
        return table(["model"], [])
    budgets = [p["budget"] for p in ev["budget_forcing"]["final"]]
    rows = [[m] + [f"{p['accuracy']:.2f} ({p['tokens_mean']:.0f})" for p in ev["budget_forcing"][m]]
            for m in ("base", "final")]
    return table(["model"] + [f"B={b}" for b in budgets], rows)


# The code in the order the data flows, each with the test file that pins it down.
FILES = (
    ("minireason/tasks/__init__.py", "test_split.py, test_family_contract.py"),
    ("minireason/tasks/arith.py", "test_tasks.py"), ("minireason/tasks/code.py", "test_code_tasks.py"),
    ("minireason/tasks/write.py", "test_write_tasks.py"), ("minireason/tasks/respelled.py", "test_transfer.py"),
    ("minireason/lang.py", "test_lang.py"),
    ("minireason/traces.py", "test_traces.py"), ("minireason/corpus.py", "test_tokenizer.py"),
    ("minireason/tokenizer.py", "test_tokenizer.py"), ("minireason/model.py", "test_model.py"),
    ("minireason/reference.py", "test_reference.py"), ("minireason/pretrain.py", "test_smoke.py"),
    ("minireason/sampling.py", "test_sampling.py"),
    ("minireason/verifiers.py", "test_traces.py, test_verifier_fuzz.py"),
    ("minireason/metrics.py", "test_metrics.py"), ("minireason/losses.py", "test_losses.py"),
    ("minireason/rl.py", "test_rl.py"), ("minireason/frontier.py", "test_frontier.py"),
    ("minireason/heldout.py", "test_smoke.py"),
    ("minireason/run.py", "test_smoke.py"),
    ("minireason/config.py", "test_cli.py"), ("minireason/sharding.py", "test_sharding.py"),
    ("minireason/checkpoint.py", "test_checkpoint.py, test_resume.py"),
    ("minireason/runfolder.py", "test_checkpoint.py"), ("minireason/load.py", "test_tools.py"),
    ("minireason/alarms.py", "test_alarms.py"), ("minireason/testtime.py", "test_testtime.py"),
    ("minireason/plots.py", "test_plots.py"), ("minireason/report.py", "test_report.py"),
    ("minireason/compare.py", "test_compare.py"), ("minireason/transfer.py", "test_transfer.py"),
    ("minireason/judge.py", "test_judge.py"), ("minireason/calibration.py", "test_calibration.py"),
    ("minireason/course.py", "test_course.py, course/"),
    ("train.py", "test_cli.py"), ("sample.py", "test_tools.py"), ("verify.py", "test_tools.py"),
    ("bench/transfer.py", "test_transfer.py"), ("bench/judge.py", "test_judge.py"),
    ("bench/calibration.py", "test_calibration.py"), ("bench/long.py", "test_bench.py"),
)


def files_table(runs: str, root: str = ROOT) -> str:
    """File, lines, the first line of its docstring, its tests: the README's map of the code."""
    rows = []
    for path, tests in FILES:
        with open(os.path.join(root, path)) as f:
            text = f.read()
        doc = re.search(r'"""(.*?)(?:\n\n|""")', text, re.S)         # the docstring's first paragraph
        first = re.split(r"(?<=\.)\s", " ".join(doc.group(1).split()))[0].rstrip(".") if doc else ""
        rows.append([f"[{path}]({path})", str(text.count("\n")), first.replace("|", "\\|"), tests])
    return table(["file", "lines", "what it holds", "tests"], rows)


def trace_block(runs: str) -> str:
    """One held-out problem that the base model got wrong and the final model right (the first such
    sample of seed 0's eval.json, hardest first), both completions as written."""
    ev = load(runs, DEMO_SEEDS[0], "eval.json")
    if ev is None or not ev.get("samples"):
        return "```\n(no eval.json in docs/runs/demo-seed0)\n```\n"
    fixed = [x for x in ev["samples"] if x["final"]["correct"] and not x["base"]["correct"]]
    pick = (fixed or ev["samples"])[0]
    lines = [f"{pick['prompt']}    ({pick['task']['family']}, difficulty {pick['task']['difficulty']})"]
    for name in ("base", "final"):
        verdict = "right" if pick[name]["correct"] else "wrong"
        lines.append(f"{name + ':':7s}{pick[name]['completion']}    -> {verdict}")
    return "```\n" + "\n".join(lines) + "\n```\n"


def _rl_rewards(runs: str, name: str) -> list[float]:
    path = os.path.join(runs, name, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r["reward"] for r in map(json.loads, f) if r["stage"] == "rl"]


def course_table(runs: str) -> str:
    """The course preset over 3 seeds: what a correct implementation of every assignment produces."""
    rows = []
    for name in COURSE_SEEDS:
        s, ev = load(runs, name), load(runs, name, "eval.json")
        if s is None:
            rows.append([name, "(not run)"] + [""] * 7)
            continue
        rewards = _rl_rewards(runs, name)
        b, f = s["domains"]["arith"]["base"], s["domains"]["arith"]["final"]
        pretrain = [r for r in map(json.loads, open(os.path.join(runs, name, "metrics.jsonl")))
                    if r.get("heldout_loss") is not None]
        reward = (f"{sum(rewards[:10]) / 10:.2f} → {sum(rewards[-10:]) / 10:.2f}" if len(rewards) >= 20 else "–")
        pass_k = "–"
        if ev:
            pb, pf = (ev["models"][m]["domains"]["arith"]["overall"] for m in ("base", "final"))
            pass_k = f"{arrow(pb, pf, 'pass@1')}; {arrow(pb, pf, 'maj@' + str(ev['k']))}"
        rows.append([name, f"{pretrain[-1]['heldout_loss']:.3f}" if pretrain else "–", reward,
                     arrow(b, f, "accuracy"), arrow(b, f, "length_mean", ".1f"), arrow(b, f, "reflection_rate"),
                     effective(b, f), pass_k, f"{s['wall_seconds']['total'] / 60:.1f}"])
    return table(["run", "pretrain held-out loss", "reward (first → last 10 steps)", "accuracy", "length",
                  "reflection", "effective (revisions)", "pass@1; maj@16", "min"], rows)


def losses_table(runs: str) -> str:
    """grpo vs dr_grpo vs dapo on one base model per seed (bench/compare_losses.sh), via minireason.compare."""
    from minireason import compare
    present = [os.path.join(runs, n) for n in LOSS_RUNS if os.path.exists(os.path.join(runs, n, "summary.json"))]
    if len(present) < 2:
        return "(runs of bench/compare_losses.sh not stored yet)\n"
    return compare.compare_table(compare.load_runs(present), markdown=True) + "\n"


def mutants_table(runs: str) -> str:
    """The mutation matrix (`python -m minireason.course mutants --json docs/runs/mutants.json`): per graded
    function, how many of its plausible mistakes the assignment's public tests catch, and which they are."""
    rows_in = load(runs, "", "mutants.json")
    if rows_in is None:
        return "(no docs/runs/mutants.json yet)\n"
    rows, seen = [], {}
    for r in rows_in:
        if r["mutant"]:
            seen.setdefault((r["assignment"], r["function"]), []).append(r)
    n_caught = n_all = 0
    for (assignment, function), ms in seen.items():
        caught = sum(m["result"] == "caught" for m in ms)
        n_caught, n_all = n_caught + caught, n_all + len(ms)
        rows.append([assignment, f"`{function}`", f"{caught} / {len(ms)}", "; ".join(m["mutant"] for m in ms)])
    refs = [r for r in rows_in if not r["mutant"]]
    rows.append(["all", f"{len(seen)} functions", f"{n_caught} / {n_all}",
                 f"the reference passes {sum(r['result'] == 'passes' for r in refs)} of {len(refs)} assignments"])
    return table(["assignment", "function", "caught", "the mistakes"], rows)


def _sweep_module():
    """bench/transfer.py, whose table and verdict the transfer tables reuse (no JAX is imported)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("transfer_sweep", os.path.join(ROOT, "bench", "transfer.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _sweep_rows(runs: str) -> list[dict]:
    path = os.path.join(runs, "transfer", "rows.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def sweep_table(runs: str) -> str:
    """The transfer sweep (`python bench/transfer.py --table --out docs/runs/transfer`): the held-out
    target per dial value, means over seeds with [min–max]."""
    rows = _sweep_rows(runs)
    if not rows:
        return "(no docs/runs/transfer/rows.jsonl yet)\n"
    mod = _sweep_module()
    note = mod.versions_note(rows)
    return mod.table(rows) + "\n" + (f"\n{note}\n" if note else "")


def sweep_within_table(runs: str) -> str:
    """The same runs' other held-out families (arithmetic ones, when RL trains on fewer sources)."""
    rows = [r for r in _sweep_rows(runs) if not r["main"]]
    if not rows:
        return "(no such rows yet)\n"
    return _sweep_module().table(rows, main=False) + "\n"


def sweep_verdict(runs: str) -> str:
    """The issue's bar read off the stored rows (bench/transfer.py `verdict`)."""
    rows = _sweep_rows(runs)
    if not rows:
        return "(no rows yet)\n"
    return "```\n" + "\n".join(_sweep_module().verdict(rows)) + "\n```\n"


def sweep_examples(runs: str) -> str:
    """The README's few rows of the sweep: the preset's condition, and the two dials that move transfer
    most (exposure, notation), means over seeds."""
    rows = [r for r in _sweep_rows(runs) if r["dial"] in ("exposure", "notation")]
    if not rows:
        return "(no docs/runs/transfer/rows.jsonl yet)\n"
    return _sweep_module().table(rows) + "\n"


SWEEP_TRACES = ["default-seed0-rl-countdown+sum+add", "exposure0.001-seed0-rl-countdown+sum+add",
                "notation-own-seed0-rl-countdown+sum+add"]


def sweep_traces(runs: str) -> str:
    """What the base model, the held-out run and its reference write on the first stored fill problem of
    the preset's condition, of exposure 0.001 and of fill's own markers (seed 0)."""
    text = _sweep_module().traces_text(os.path.join(runs, "transfer"), SWEEP_TRACES, per=1)
    return "```\n" + (text or "(no traces stored yet)") + "\n```\n"


TABLES = {"files": files_table, "trace": trace_block, "demo": demo_table, "bar": bar_table, "cells": cells_table,
          "simpson": simpson_table,
          "transfer": transfer_table, "testtime": testtime_table, "budget": budget_table, "course": course_table,
          "losses": losses_table, "mutants": mutants_table, "sweep": sweep_table, "sweep-within": sweep_within_table,
          "sweep-verdict": sweep_verdict, "sweep-examples": sweep_examples, "sweep-traces": sweep_traces}


def render(runs: str = RUNS) -> dict[str, str]:
    """Every table, by name."""
    return {name: make(runs) for name, make in TABLES.items()}


def stale(runs: str = RUNS, root: str = ROOT) -> list[str]:
    """(document, table) pairs whose text differs from what the runs give, and unknown table names."""
    tables, out = render(runs), []
    for doc in DOCUMENTS:
        with open(os.path.join(root, doc)) as f:
            text = f.read()
        for name, body in MARK.findall(text):
            if tables.get(name) != body:
                out.append(f"{doc}: table {name}")
    return out


def store(run: str, dest: str) -> None:
    """Copy what the documents read of a run folder into dest: config.json, summary.json, eval.json and
    metrics.jsonl with only the KEPT keys (the full log holds per-cell tables the documents never show)."""
    os.makedirs(dest, exist_ok=True)
    for name in ("config.json", "summary.json", "eval.json"):
        if os.path.exists(os.path.join(run, name)):
            with open(os.path.join(run, name)) as f, open(os.path.join(dest, name), "w") as g:
                g.write(f.read())
    with open(os.path.join(run, "metrics.jsonl")) as f, open(os.path.join(dest, "metrics.jsonl"), "w") as g:
        for row in map(json.loads, f):
            g.write(json.dumps({k: row[k] for k in KEPT if k in row}) + "\n")


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default=RUNS)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--store", nargs="+", metavar="RUN", help="copy these run folders' JSON files into --runs "
                        "(config, summary, eval and metrics.jsonl's plotted keys); --as NAME... to rename")
    parser.add_argument("--as", dest="names", nargs="+", default=None)
    args = parser.parse_args(argv)
    if args.store:
        for i, run in enumerate(args.store):
            name = args.names[i] if args.names else os.path.basename(os.path.normpath(run))
            store(run, os.path.join(args.runs, name))
            print(f"stored {run} as {os.path.join(args.runs, name)}")
        return 0
    if args.write:
        tables = render(args.runs)
        for doc in DOCUMENTS:
            path = os.path.join(ROOT, doc)
            with open(path) as f:
                text = f.read()
            new = MARK.sub(lambda m: f"<!-- table:{m.group(1)} -->\n{tables[m.group(1)]}<!-- /table -->", text)
            if new != text:
                with open(path + ".tmp", "w") as f:
                    f.write(new)
                os.replace(path + ".tmp", path)
                print(f"updated {doc}")
        return 0
    if args.check:
        bad = stale(args.runs)
        for line in bad:
            print(f"differs from bench/tables.py: {line}")
        return 1 if bad else 0
    for name, body in render(args.runs).items():
        print(f"<!-- table:{name} -->\n{body}<!-- /table -->\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
