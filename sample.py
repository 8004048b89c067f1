"""Read what a trained model writes: `python sample.py --run DIR`.

Prints reasoning traces for held-out problems (or a prompt you type) with their parsed structure:
steps (wrong ones in red), checks (`ok` green, `no` yellow), revisions (`wait` magenta), the final
answer, and the verifier's verdict. Colour on a terminal, plain text when piped.

    python sample.py --run runs/demo-seed0 --n 8 --task code     held-out code problems
    python sample.py --run runs/demo-seed0 --base                 the pretrained model, for comparison
    python sample.py --run runs/demo-seed0 --prompt "reach 6 with 3 5 8"
"""
import argparse
import sys

COLOURS = {"wrong": "31", "ok": "32", "no": "33", "wait": "35;1", "answer": "1", "dim": "2"}


def paint(text: str, kind: str, colour: bool) -> str:
    """`text` in the ANSI colour of `kind` when `colour`, else unchanged."""
    return f"\033[{COLOURS[kind]}m{text}\033[0m" if colour else text


def render(text: str, colour: bool) -> str:
    """The completion with the items of its thinking (traces.items) coloured and the answer bold."""
    from minireason import traces
    thinking, sep, rest = text.partition(traces.THINK_END)
    out = []
    for item in traces.items(thinking):
        match item.parsed:
            case traces.Wait():
                out.append(paint(item.text, "wait", colour))
            case traces.Check(verdict=verdict):
                word = "ok" if verdict else "no"
                out.append(item.text.removesuffix(word) + paint(word, word, colour))
            case traces.Step(correct=False):
                out.append(paint(item.text, "wrong", colour))
            case _:
                out.append(item.text)
    return " ".join(out) + paint(sep + rest, "answer", colour)


def main(argv):
    """Parse the command line, sample, print; returns the exit status."""
    parser = argparse.ArgumentParser(prog="sample.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="run folder written by train.py")
    parser.add_argument("--n", type=int, default=6, help="held-out problems to sample")
    parser.add_argument("--task", help="a family (countdown, sum, trace, write, ...) or a domain (arith, code)")
    parser.add_argument("--prompt", help="sample for this prompt instead, e.g. 'reach 6 with 3 5 8'")
    parser.add_argument("--step", type=int, help="checkpoint of this step (RL; with --base, pretraining; "
                                                 "default: the last)")
    parser.add_argument("--base", action="store_true", help="sample the pretrained base model instead")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=0, help="sample among the k most likely tokens (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 1 or args.temperature <= 0 or args.top_k < 0 or args.seed < 0:
        print("error: --n must be >= 1, --temperature > 0, --top-k >= 0 and --seed >= 0", file=sys.stderr)
        return 2
    import jax
    import numpy as np

    from minireason import corpus, traces, verifiers
    from minireason.checkpoint import CheckpointError
    from minireason.config import ConfigError
    from minireason.load import load_run
    from minireason.runfolder import RunFolderError
    from minireason.tasks import FAMILIES, heldout_set, problem_from_prompt
    from minireason.tokenizer import TokenizerError
    try:
        r = load_run(args.run, base=args.base, top_k=args.top_k, step=args.step,
                     echo=lambda m: print(m, file=sys.stderr))
        d = r.cfg.data
        if args.prompt is not None:
            problem = problem_from_prompt(args.prompt, d.families)
            problems, texts = [problem], [args.prompt.strip() + "<think>"]
        else:
            families = [f for f in d.families if args.task in (None, f, FAMILIES[f].domain)]
            if not families:
                domains = sorted({FAMILIES[f].domain for f in d.families})
                raise RunFolderError(f"unknown task {args.task!r} for this run; choose a family "
                                     f"({', '.join(d.families)}) or a domain ({', '.join(domains)})")
            pool = heldout_set(args.seed, families, d.difficulties, 64, d.heldout_percent)
            problems = [pool[i * len(pool) // args.n] for i in range(args.n)] if args.n < len(pool) else pool
            texts = [corpus.prompt_text(p) for p in problems]
        prompts = r.tokenizer.encode_prompts(texts, d.prompt_len)
    except (RunFolderError, CheckpointError, ConfigError, TokenizerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rollout = r.generate(r.params, jax.random.key(args.seed), prompts, args.temperature)
    completions = r.tokenizer.decode_completions(np.asarray(rollout.tokens), np.asarray(rollout.mask))
    colour = sys.stdout.isatty()
    model = "base model" if args.base else f"RL step {r.step}"
    for p, prompt, text, n_tokens in zip(problems, texts, completions, np.asarray(rollout.mask).sum(axis=1)):
        t = traces.parse(text)
        if p is None:
            where, verdict = "a prompt no task family of this run reads", "unverified"
        else:
            v = verifiers.verify(p, text, t)
            where = f"{p['family']}, difficulty {p['difficulty'] or 'typed'}"
            verdict = paint("correct", "ok", colour) if v.correct else paint(f"wrong ({v.reason})", "wrong", colour)
        print(f"{prompt.removesuffix('<think>')}   [{where}; {model}]")
        print(f"  {render(text, colour)}")
        wrong = sum(not s.correct for s in t.steps)
        print(paint(f"  {t.style}: {len(t.steps)} steps ({wrong} wrong), {len(t.checks)} checks, "
                    f"{len(t.revisions)} revisions, {n_tokens} tokens; answer {t.answer!r}"
                    + (f", stated confidence {t.confidence}" if t.states_confidence else "") + " -> ", "dim", colour)
              + verdict + "\n")
    return 0


if __name__ == "__main__":
    from minireason.course import run_script  # a course stub (docs/course.md) stops with one line
    sys.exit(run_script(main, sys.argv[1:]))
