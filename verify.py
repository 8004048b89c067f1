"""Check completions, evaluate a trained run, or compare runs.

    python verify.py --completions FILE    one JSON verdict per input line ('-' reads stdin). Each line is a
                                           JSON object with `task` (a task record as in samples.jsonl) and
                                           `completion` (the text after the prompt); a line that is not
                                           JSON gets a verdict naming its line number.
    python verify.py --run DIR [--report]  held-out evaluation of the run's base and final model: pass@k,
                                           maj@k, length, reflection, budget forcing; writes DIR/eval.json,
                                           the test-time plots and, with --report, DIR/report.html.
    python verify.py --compare RUN RUN ... [--out PNG] [--markdown]
                                           runs side by side: held-out base -> final per domain (summary.json)
                                           and the training batch over the last 20 RL steps (metrics.jsonl),
                                           with a mean [min-max] row per variant (runs named NAME-seedN); the
                                           curves of all runs in one PNG (default: compare.png).
"""
import argparse
import json
import os
import sys

from minireason.verifiers import verify


def verdict_line(line: str, number: int) -> dict:
    """The JSON verdict of one input line (a reason, never an exception, for a bad line)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return {"line": number, "reward": 0.0, "correct": False, "answer": None, "pass_fraction": 0.0,
                "reason": "line is not JSON"}
    if not isinstance(row, dict):
        return {"line": number, "reward": 0.0, "correct": False, "answer": None, "pass_fraction": 0.0,
                "reason": "line is not a JSON object"}
    v = verify(row.get("task"), row.get("completion"))
    return {"line": number, "reward": v.reward, "correct": v.correct, "answer": v.answer,
            "pass_fraction": v.pass_fraction, "reason": v.reason}


def check_completions(path: str) -> int:
    """`--completions`: print a verdict per line of the file (or stdin); returns the exit status."""
    try:
        f = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as e:
        print(f"error: cannot read {path}: {e.strerror}", file=sys.stderr)
        return 2
    with f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                print(json.dumps({"line": number, "reward": 0.0, "correct": False, "answer": None,
                                  "pass_fraction": 0.0, "reason": "line is not UTF-8 text"}))
                continue
            if line.strip():
                print(json.dumps(verdict_line(line, number)))
    return 0


def evaluate_run_command(args) -> int:
    """`--run`: evaluate, write eval.json, plots and the report; returns the exit status."""
    from minireason import runfolder
    from minireason.checkpoint import CheckpointError
    from minireason.config import ConfigError
    from minireason.runfolder import RunFolderError
    from minireason.tasks import FAMILIES
    from minireason.testtime import evaluate_run, format_eval
    from minireason.tokenizer import TokenizerError

    families = None
    if args.task:
        families = [f for f in FAMILIES if args.task in (f, FAMILIES[f].domain)]
        if not families:
            domains = sorted({fam.domain for fam in FAMILIES.values()})
            print(f"error: unknown task {args.task!r}; choose a family ({', '.join(FAMILIES)}) "
                  f"or a domain ({', '.join(domains)})", file=sys.stderr)
            return 2
    try:
        ev = evaluate_run(args.run, k=args.k, per=args.problems, seed=args.seed, step=args.step,
                          families=families, echo=lambda m: print(m, file=sys.stderr))
    except (RunFolderError, CheckpointError, ConfigError, TokenizerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = args.out or os.path.join(args.run, "eval.json")
    runfolder.write_json(out, ev)
    print(format_eval(ev))
    print(f"wrote {out}")
    from minireason import plots
    if plots.available():
        path = os.path.join(args.run, "plots", "testtime.png")
        plots.testtime(ev, path)
        print(f"wrote {path}")
    else:
        print(plots.SKIPPED)
    if args.report:
        from minireason import report
        path = os.path.join(args.run, "report.html")
        report.write_report(ev, args.run, path)
        print(f"wrote {path}")
    return 0


def compare_command(args) -> int:
    """`--compare`: print the runs' table and write their curves to one PNG; returns the exit status."""
    from minireason import plots
    from minireason.compare import compare_plot, compare_table, load_runs
    from minireason.runfolder import RunFolderError

    try:
        runs = load_runs(args.compare)
    except RunFolderError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(compare_table(runs, markdown=args.markdown))
    if not plots.available():
        print(plots.SKIPPED)
        return 0
    out = args.out or "compare.png"
    try:
        compare_plot(runs, out)
    except OSError as e:
        print(f"error: cannot write {out}: {e.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


def main(argv):
    """Parse the command line and run one of the three jobs; returns the exit status."""
    parser = argparse.ArgumentParser(prog="verify.py", description=__doc__.split("\n\n")[0])
    job = parser.add_mutually_exclusive_group(required=True)
    job.add_argument("--completions", help="JSON lines with task and completion ('-' for stdin)")
    job.add_argument("--run", help="run folder written by train.py: evaluate its base and final model")
    job.add_argument("--compare", nargs="+", metavar="RUN", help="two run folders or more: a table and a figure")
    parser.add_argument("--k", type=int, default=16, help="samples per problem (pass@k, maj@k; a power of 2)")
    parser.add_argument("--problems", type=int, default=16, help="held-out problems per family and difficulty")
    parser.add_argument("--task", help="evaluate one family or domain only (default: the run's families)")
    parser.add_argument("--step", type=int, help="evaluate the RL checkpoint of this step (default: the last)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="where to write the evaluation (default: RUN/eval.json); "
                        "with --compare, the figure (default: compare.png)")
    parser.add_argument("--report", action="store_true", help="also write RUN/report.html")
    parser.add_argument("--markdown", action="store_true", help="with --compare: print the table as markdown")
    args = parser.parse_args(argv)
    if args.completions is not None:
        return check_completions(args.completions)
    if args.compare is not None:
        return compare_command(args)
    if args.k < 1 or args.k & (args.k - 1) or args.k > 256 or args.problems < 1 or args.seed < 0:
        print("error: --k must be a power of 2 up to 256, --problems >= 1 and --seed >= 0", file=sys.stderr)
        return 2
    out_dir = os.path.dirname(os.path.abspath(args.out or os.path.join(args.run, "eval.json")))
    if os.path.isdir(args.run) and not os.path.isdir(out_dir):
        print(f"error: cannot write {args.out}: folder {out_dir} does not exist", file=sys.stderr)
        return 2
    return evaluate_run_command(args)


if __name__ == "__main__":
    from minireason.course import run_script  # a course stub (docs/course.md) stops with one line
    sys.exit(run_script(main, sys.argv[1:]))
