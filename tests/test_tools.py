"""sample.py and verify.py on a finished smoke run: what they print and write, and their bad-input errors."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tool(*args, stdin=None):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, input=stdin,
                          timeout=600)


@pytest.fixture(scope="module")
def evaluated(smoke_run, tmp_path_factory):
    """verify.py --run --report on a copy of the smoke run."""
    run_dir = str(tmp_path_factory.mktemp("eval") / "run")
    shutil.copytree(smoke_run[0], run_dir)
    proc = tool("verify.py", "--run", run_dir, "--k", "4", "--problems", "2", "--report")
    return run_dir, proc


def test_verify_run_writes_eval_json_and_report(evaluated):
    run_dir, proc = evaluated
    assert proc.returncode == 0, proc.stderr
    assert "pass@1" in proc.stdout and "budget forcing" in proc.stdout
    with open(os.path.join(run_dir, "eval.json")) as f:
        ev = json.load(f)
    assert set(ev["models"]) == {"base", "final"} and ev["k"] == 4
    for model in ev["models"].values():
        m = model["overall"]
        assert m["problems"] == 2 * 2 * 2 and m["count"] == 4 * m["problems"]     # families x difficulties x 2
        assert m["pass@1"] == pytest.approx(m["accuracy"]) and m["maj@1"] == pytest.approx(m["accuracy"])
        assert m["pass@1"] <= m["pass@2"] <= m["pass@4"]
        assert set(model["domains"]["arith"]["by_difficulty"]) == {"1", "2"}
    assert [p["budget"] for p in ev["budget_forcing"]["final"]][:3] == [0, 4, 8]
    assert ev["samples"] and {"base", "final", "task", "prompt"} <= set(ev["samples"][0])
    with open(os.path.join(run_dir, "report.html")) as f:
        html = f.read()
    assert "<html" in html and "http://" not in html and "https://" not in html


def test_sample_prints_traces_with_verdicts(smoke_run):
    proc = tool("sample.py", "--run", smoke_run[0], "--n", "2", "--base")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("difficulty") == 2 and "base model" in proc.stdout and "\033[" not in proc.stdout
    proc = tool("sample.py", "--run", smoke_run[0], "--prompt", "reach 6 with 3 5 8", "--top-k", "5")
    assert proc.returncode == 0 and proc.stdout.startswith("reach 6 with 3 5 8   [countdown, difficulty typed")


def test_verify_completions_reports_a_line_that_is_not_utf8(tmp_path):
    task = {"family": "sum", "difficulty": 1, "numbers": [3, 4]}
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"\xff\xfe\n" + json.dumps({"task": task, "completion": "</think><answer>7</answer>"}).encode())
    proc = tool("verify.py", "--completions", str(path))
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and [(v["line"], v["reason"], v["correct"]) for v in out] == [
        (1, "line is not UTF-8 text", False), (2, "", True)]


def test_verify_completions_gives_a_verdict_per_line():
    task = {"family": "sum", "difficulty": 1, "numbers": [3, 4]}
    lines = [json.dumps({"task": task, "completion": "3+4=7</think><answer>7</answer>"}),
             json.dumps({"task": task, "completion": "</think><answer>8</answer>"}),
             "{not json", "[1, 2]", json.dumps({"task": {"family": "nope"}, "completion": 3})]
    proc = tool("verify.py", "--completions", "-", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [v["correct"] for v in out] == [True, False, False, False, False]
    assert [v["reason"] for v in out] == ["", "wrong value", "line is not JSON", "line is not a JSON object",
                                         "unknown task family"]
    assert [v["line"] for v in out] == [1, 2, 3, 4, 5]


def no_checkpoint(tmp_path, smoke_run):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "tokenizer.model"):
        shutil.copy(os.path.join(smoke_run[0], name), bare / name)
    return str(bare)


@pytest.mark.parametrize("args, message", [
    (["verify.py", "--run", "/no/such/run"], "does not exist"),
    (["verify.py", "--run", "NOCKPT"], "has no rl checkpoint"),
    (["verify.py", "--run", "RUN", "--task", "poetry"], "unknown task 'poetry'"),
    (["verify.py", "--run", "RUN", "--task", "code"], "was trained on countdown, sum only"),
    (["verify.py", "--run", "RUN", "--k", "3"], "--k must be a power of 2"),
    (["verify.py", "--run", "RUN", "--seed", "-1"], "--seed >= 0"),
    (["verify.py", "--run", "RUN", "--out", "/no/such/dir/eval.json"], "does not exist"),
    (["sample.py", "--run", "RUN", "--seed", "-1"], "--seed >= 0"),
    (["verify.py", "--completions", "/no/such/file"], "cannot read"),
    (["sample.py", "--run", "/no/such/run"], "does not exist"),
    (["sample.py", "--run", "NOCKPT"], "has no rl checkpoint"),
    (["sample.py", "--run", "RUN", "--task", "poetry"], "unknown task 'poetry'"),
    (["sample.py", "--run", "RUN", "--step", "999"], "no rl checkpoint of step 999"),
    (["sample.py", "--run", "RUN", "--prompt", "9" * 200], "longer than the prompt length"),
])
def test_bad_input_is_a_one_line_error(tmp_path, smoke_run, args, message):
    args = [smoke_run[0] if a == "RUN" else no_checkpoint(tmp_path, smoke_run) if a == "NOCKPT" else a for a in args]
    proc = tool(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message in proc.stderr and proc.stderr.strip().count("\n") == 0, proc.stderr


def test_sample_colours_the_structure_on_a_terminal():
    """Wrong steps red, `ok` green, `no` yellow, `wait` magenta; the comparison after `check` is not a step."""
    code = ("from sample import render; "
            "print(render('c=9-4=6 7+6=13 check 13=12 no wait c=9-4=5 check 12=12 ok'"
            " '</think><answer>x</answer>', True))")
    proc = tool("-c", code)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    assert out.startswith("\033[31mc=9-4=6\033[0m 7+6=13 check 13=12 \033[33mno\033[0m \033[35;1mwait\033[0m c=9-4=5")
    assert "check 12=12 \033[32mok\033[0m" in out and out.endswith("\033[1m</think><answer>x</answer>\033[0m")
