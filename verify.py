"""Verify completions: `python verify.py --completions FILE` prints one JSON verdict per input line.

Each input line is a JSON object with `task` (a task record as written in samples.jsonl) and
`completion` (the text after the prompt). A line that is not JSON gets a verdict naming its line number.
"""
import argparse
import json
import sys

from minireason.verifiers import verify


def verdict_line(line: str, number: int) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return {"line": number, "reward": 0.0, "correct": False, "answer": None, "reason": "line is not JSON"}
    if not isinstance(row, dict):
        return {"line": number, "reward": 0.0, "correct": False, "answer": None, "reason": "line is not a JSON object"}
    v = verify(row.get("task"), row.get("completion"))
    return {"line": number, "reward": v.reward, "correct": v.correct, "answer": v.answer, "reason": v.reason}


def main(argv):
    parser = argparse.ArgumentParser(prog="verify.py")
    parser.add_argument("--completions", required=True, help="JSON lines with task and completion ('-' for stdin)")
    args = parser.parse_args(argv)
    try:
        f = sys.stdin if args.completions == "-" else open(args.completions)
    except OSError as e:
        print(f"error: cannot read {args.completions}: {e.strerror}", file=sys.stderr)
        return 2
    with f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                print(json.dumps(verdict_line(line, number)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
