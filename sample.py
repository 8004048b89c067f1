"""Print reasoning traces of a trained model with the verifier's verdict: `python sample.py --run DIR`."""
import argparse
import sys

from minireason.checkpoint import CheckpointError
from minireason.runfiles import RunFolderError
from minireason.tokenizer import TokenizerError


def main(argv):
    parser = argparse.ArgumentParser(prog="sample.py")
    parser.add_argument("--run", required=True, help="run folder written by train.py")
    parser.add_argument("--n", type=int, default=6, help="held-out problems to sample")
    parser.add_argument("--base", action="store_true", help="sample the pretrained base model instead")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=0, help="sample among the k most likely tokens (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 1 or args.temperature <= 0 or args.top_k < 0:
        print("error: --n must be >= 1, --temperature > 0 and --top-k >= 0", file=sys.stderr)
        return 2
    try:
        import jax

        from minireason import corpus, traces, verifiers
        from minireason.inference import load_run
        from minireason.tasks import FAMILIES, heldout_set
        r = load_run(args.run, base=args.base, top_k=args.top_k, echo=lambda m: print(m, file=sys.stderr))
    except (RunFolderError, CheckpointError, TokenizerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    d = r.cfg.data
    problems = heldout_set(args.seed, d.families, d.difficulties, 64, d.heldout_percent)
    problems = [problems[i * len(problems) // args.n] for i in range(args.n)]
    prompts = r.tokenizer.encode_prompts([corpus.prompt_text(p) for p in problems], d.prompt_len)
    rollout = r.generate(r.params, jax.random.key(args.seed), prompts, args.temperature)
    import numpy as np
    texts = r.tokenizer.decode_completions(np.asarray(rollout.tokens), np.asarray(rollout.mask))
    for p, text in zip(problems, texts):
        v = verifiers.verify(p, text)
        t = traces.parse(text)
        print(f"{FAMILIES[p['family']].prompt(p)}   [{p['family']}, difficulty {p['difficulty']}, {t.style}]")
        print(f"  {text}")
        print(f"  -> {'correct' if v.correct else 'wrong'} ({v.answer!r}{', ' + v.reason if v.reason else ''})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
