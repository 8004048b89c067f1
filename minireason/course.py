"""Course mode: the reference source as an assignment a course can hand out and grade.

The body of each gradable function is a *solution region* (nbgrader's convention):

    def rms_norm(x, scale, eps):
        \"\"\"...\"\"\"
        # BEGIN SOLUTION transformer: divide x by the root of its mean square ...
        return x * jax.lax.rsqrt(...)
        # END SOLUTION

`python -m minireason.course student OUT` writes a student tree: a copy of the repository in which
every region is replaced by one line, `raise NotImplementedError("transformer: rms_norm: <hint> ...")`,
the hidden tests (tests/course/hidden/) are left out and `course.json`, the grading manifest, is added.
The student fills the stubs in and grades one assignment with `pytest -m transformer` (or all of them
with `python -m minireason.course grade`). The reference tree is the answer key: putting its bodies
back (`restore`) gives the reference files byte for byte.

    python -m minireason.course list                    the assignments, their functions and points
    python -m minireason.course student OUT [--only A,B] write a student tree (stubs for A,B only: the
                                                         other regions keep their reference bodies)
    python -m minireason.course grade [TREE] [--reference REF]  run each assignment's tests, score by points
    python -m minireason.course check OUT                the student tree's contract (see check_student)
    python -m minireason.course mutants [-a A] [--fast]  the mutation matrix (tests/course/hidden/mutants_*.py)

Assignments, in the order a course teaches them, are ASSIGNMENTS; the handout is docs/course.md.
"""
from __future__ import annotations

import argparse
import ast
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from typing import NamedTuple

from minireason import __version__

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = "course.json"                   # at the root of a student tree (and only there)
# left out of the student tree: the hidden tests and the mutants, the tests of these tools (they read the
# reference's regions and mutants), and the tests of reference.py (withheld there: see WITHHELD)
HIDDEN = ("tests/course/hidden", "tests/test_course.py", "tests/test_reference.py")
SKIP_DIRS = {".git", ".venv", "runs", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache"}
STUB_NOTE = "is not written yet (course mode: see docs/course.md)"


class Assignment(NamedTuple):
    name: str        # the pytest marker and the prefix of every stub's message
    title: str
    points: int


ASSIGNMENTS = (
    Assignment("transformer", "The transformer: RMSNorm, rotary positions, attention with a KV cache, masks", 20),
    Assignment("sampler", "The KV-cache sampler: temperature/top-k draws, the decode step, completion masks", 15),
    Assignment("losses", "Advantages and losses: token log-probs, group advantages, the clipped objective, "
                         "k3 KL, GRPO / Dr. GRPO / DAPO", 25),
    Assignment("verifier", "The verifier and the reflection metrics: steps, answers, reflection, revisions", 15),
    Assignment("rl", "The RL step and the demo: the curriculum, the update on a batch, reward that rises", 15),
    Assignment("testtime", "Test-time compute: pass@k, majority vote, rank correlation", 10),
)
NAMES = tuple(a.name for a in ASSIGNMENTS)

_BEGIN = re.compile(r"^(?P<indent>[ ]*)# BEGIN (?P<kind>SOLUTION|WITHHELD) (?P<assignment>[a-z_]+): (?P<hint>.+)$")
_END = re.compile(r"^[ ]*# END (?P<kind>SOLUTION|WITHHELD)$")
_STUB = re.compile(r'^(?P<indent>[ ]*)raise NotImplementedError\((?P<message>".*")\)$')


class CourseError(ValueError):
    """A malformed region, a bad tree or a bad argument; the message is one line."""


class Region(NamedTuple):
    path: str          # relative to the tree's root, e.g. minireason/model.py
    function: str      # qualified name of the function whose body it is, e.g. RMSNorm.__call__
    assignment: str
    hint: str          # what to write, one line
    start: int         # line index (0-based) of `# BEGIN SOLUTION`
    end: int           # line index of `# END SOLUTION`
    indent: str
    kind: str = "SOLUTION"   # or WITHHELD: not graded, but it would give a graded body away (reference.py)

    @property
    def message(self) -> str:
        """The stub's NotImplementedError message: the assignment's name first."""
        if self.kind == "WITHHELD":
            return f"{self.function} is withheld from the student tree: {self.hint}"
        return f"{self.assignment}: {self.function} {STUB_NOTE}: {self.hint}"


# ----------------------------------------------------------------------------- regions

def _enclosing_function(tree: ast.AST, line: int) -> str:
    """Qualified name (Class.method) of the innermost def whose body holds 1-based `line`."""
    best, stack = None, [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)) and child.lineno <= line <= child.end_lineno:
                name = prefix + child.name
                if isinstance(child, ast.FunctionDef):
                    best = name
                stack.append((child, name + "."))
    if best is None:
        raise CourseError(f"line {line}: a solution region must sit inside a function")
    return best


def regions(text: str, path: str) -> list[Region]:
    """The solution regions of one file, in order; CourseError for an unknown assignment, a nested or
    unterminated region, or one outside a function."""
    lines, out, open_at = text.split("\n"), [], None
    tree = None
    for i, line in enumerate(lines):
        if m := _BEGIN.match(line):
            if open_at is not None:
                raise CourseError(f"{path}:{i + 1}: region opened inside the region of line {open_at.start + 1}")
            if m["assignment"] not in NAMES:
                raise CourseError(f"{path}:{i + 1}: unknown assignment {m['assignment']!r} (one of {', '.join(NAMES)})")
            tree = tree or ast.parse(text)
            open_at = Region(path, _enclosing_function(tree, i + 1), m["assignment"], m["hint"].strip(), i, -1,
                             m["indent"], m["kind"])
        elif m := _END.match(line):
            if open_at is None or m["kind"] != open_at.kind:
                raise CourseError(f"{path}:{i + 1}: END {m['kind']} without a BEGIN {m['kind']}")
            out.append(open_at._replace(end=i))
            open_at = None
    if open_at is not None:
        raise CourseError(f"{path}:{open_at.start + 1}: region never closed with # END SOLUTION")
    return out


def stub(text: str, path: str, only: tuple[str, ...] = NAMES) -> str:
    """`text` with each region of an assignment in `only` replaced by its one-line stub."""
    lines = text.split("\n")
    for r in reversed(regions(text, path)):
        if r.assignment in only or r.kind == "WITHHELD":
            lines[r.start:r.end + 1] = [f"{r.indent}raise NotImplementedError({json.dumps(r.message)})"]
    return "\n".join(lines)


def restore(student: str, reference: str, path: str, only: tuple[str, ...] = NAMES) -> str:
    """Put the reference's bodies back in place of the stubs (of the assignments in `only`) of a student
    file; stubs are matched to regions by their message. The inverse of `stub`."""
    by_message = {r.message: r for r in regions(reference, path) if r.assignment in only or r.kind == "WITHHELD"}
    ref_lines, out = reference.split("\n"), []
    for line in student.split("\n"):
        m = _STUB.match(line)
        r = by_message.get(json.loads(m["message"])) if m else None
        out.extend(ref_lines[r.start:r.end + 1] if r else [line])
    return "\n".join(out)


def source_files(root: str = ROOT) -> list[str]:
    """The tree's files, relative to root: in a git checkout the files git tracks or would (not the
    ignored ones: what a clone sees once they are committed), else every file outside SKIP_DIRS."""
    if os.path.isdir(os.path.join(root, ".git")):
        try:
            out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                                 capture_output=True, check=True)
            return sorted(p for p in out.stdout.decode().split("\0") if p and os.path.isfile(os.path.join(root, p)))
        except (OSError, subprocess.CalledProcessError):
            pass
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not (d in SKIP_DIRS and (d != "runs" or folder == root))
                         and not d.endswith(".egg-info"))
        found += [os.path.relpath(os.path.join(folder, f), root) for f in files]
    return sorted(found)


def has_regions(path: str) -> bool:
    """Whether a file may hold solution regions: the package's modules (this one only shows the syntax)."""
    return path.startswith("minireason/") and path.endswith(".py") and path != "minireason/course.py"


def all_regions(root: str = ROOT, withheld: bool = False) -> list[Region]:
    """Every solution region of the package (the graded functions), in file order; with `withheld`, the
    WITHHELD regions too (reference.py's textbook versions, stubbed in the student tree, never graded)."""
    out = []
    for path in source_files(root):
        if has_regions(path):
            with open(os.path.join(root, path)) as f:
                out += [r for r in regions(f.read(), path) if withheld or r.kind == "SOLUTION"]
    return out


def copy_tree(src: str, dst: str) -> None:
    """Copy a tree without its SKIP_DIRS (`runs` only at its root: docs/runs holds stored results)."""
    def ignore(folder, names):
        return [n for n in names if n in SKIP_DIRS and (n != "runs" or os.path.samefile(folder, src))
                or n.endswith(".egg-info")]
    shutil.copytree(src, dst, ignore=ignore)


def is_hidden(path: str) -> bool:
    return any(path == h or path.startswith(h + "/") for h in HIDDEN)


# ----------------------------------------------------------------------------- the student tree

def manifest(found: list[Region], only: tuple[str, ...], root: str = ROOT) -> dict:
    """course.json: per assignment its points, grading command, functions and public test file
    (tests/course/test_<i>_<name>.py); the hidden test files; how a score is computed."""
    tests = [p for p in source_files(root) if p.startswith("tests/course/") and p.endswith(".py")
             and os.path.basename(p).startswith("test_")]
    return {
        "minireason": __version__,
        "assignments": [
            {"name": a.name, "title": a.title, "points": a.points, "command": f"python -m pytest -m {a.name}",
             "stubbed": a.name in only,
             "functions": [f"{r.path}:{r.function}" for r in found if r.assignment == a.name],
             "tests": [p for p in tests if not is_hidden(p) and os.path.basename(p) == f"test_{i}_{a.name}.py"]}
            for i, a in enumerate(ASSIGNMENTS, start=1)],
        "hidden": [p for p in source_files(root) if is_hidden(p)],
        "scoring": "an assignment's points times the share of its tests (`pytest -m NAME`) that pass",
    }


def write_student_tree(out: str, only: tuple[str, ...] = NAMES, root: str = ROOT) -> dict:
    """Write the student tree to `out` (which must not exist or be empty); returns the manifest."""
    if os.path.exists(os.path.join(root, MANIFEST)):
        raise CourseError(f"{root} is a student tree already (it holds {MANIFEST}); run this in the reference")
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise CourseError(f"{out} exists and is not an empty folder")
    unknown = [a for a in only if a not in NAMES]
    if unknown:
        raise CourseError(f"unknown assignment {unknown[0]!r}; choose from {', '.join(NAMES)}")
    found = all_regions(root)
    for path in source_files(root):
        if is_hidden(path):
            continue
        src, dst = os.path.join(root, path), os.path.join(out, path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if has_regions(path):
            with open(src) as f:
                text = f.read()
            with open(dst, "w") as f:
                f.write(stub(text, path, only))
            shutil.copymode(src, dst)
        else:
            shutil.copy2(src, dst)
    info = manifest(found, only, root)
    with open(os.path.join(out, MANIFEST), "w") as f:
        json.dump(info, f, indent=2)
    return info


def restore_tree(tree: str, root: str = ROOT, only: tuple[str, ...] = NAMES) -> list[str]:
    """Put the reference bodies of the assignments in `only` back into the student tree `tree` (e.g. to
    hand out assignment 3 with 1 and 2 done, or to check the round trip); returns the files changed."""
    changed = []
    for path in sorted({r.path for r in all_regions(root, withheld=True)}):
        with open(os.path.join(root, path)) as f:
            reference = f.read()
        with open(os.path.join(tree, path)) as f:
            student = f.read()
        new = restore(student, reference, path, only)
        if new != student:
            with open(os.path.join(tree, path), "w") as f:
                f.write(new)
            changed.append(path)
    return changed


def skipped_for_stub(message: str) -> tuple[str, str] | None:
    """(assignment, function) of a skip that tests/conftest.py made for a test needing a stub."""
    m = re.match(r"needs (" + "|".join(NAMES) + r"): ([\w.]+) is not written yet", message)
    return (m[1], m[2]) if m else None


def run_script(main, argv: list[str]) -> int:
    """main(argv) of train.py, sample.py or verify.py; a course stub's NotImplementedError (a function left
    for the student) becomes one `error:` line and exit status 2, anything else propagates."""
    try:
        return main(argv)
    except NotImplementedError as e:
        if STUB_NOTE not in str(e):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2


def stub_error(text: str) -> tuple[str, str] | None:
    """(assignment, function) if `text` (an exception's message or a test's output) holds a stub's message."""
    m = re.search(r"\b(" + "|".join(NAMES) + r"): ([\w.]+) " + re.escape(STUB_NOTE), text)
    return (m[1], m[2]) if m else None


# ----------------------------------------------------------------------------- grading

class Outcome(NamedTuple):
    test: str        # pytest node id (file::name[param])
    passed: bool
    skipped: bool
    message: str     # the failure's or skip's first line ("" when passed)


def run_pytest(tree: str, args: list[str], timeout: int = 3600) -> tuple[int, list[Outcome], str]:
    """pytest in `tree` (its own minireason first on the path) -> (exit code, outcomes, output)."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = os.path.join(tmp, "junit.xml")
        env = {**os.environ, "PYTHONPATH": tree}
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
                               *args], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
        outcomes = []
        if os.path.exists(xml):
            for case in ET.parse(xml).getroot().iter("testcase"):
                name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
                bad = case.find("failure") if case.find("failure") is not None else case.find("error")
                skip = case.find("skipped")
                node = bad if bad is not None else skip
                text = "" if node is None else (node.get("message") or node.text or "")
                outcomes.append(Outcome(name, node is None, skip is not None and bad is None,
                                        text.strip().split("\n")[0][:300]))
    return proc.returncode, outcomes, proc.stdout + proc.stderr


def grade(tree: str, reference: str | None = None, echo=print, names: tuple[str, ...] = NAMES) -> dict:
    """Run `pytest -m NAME` for each assignment (of `names`) in `tree`; score = points x share of its tests
    passed. With `reference` (the reference tree), the submission's tests/ and setup.cfg are replaced by the
    reference's, hidden tests included, in a scratch copy: a submission cannot grade itself with edited
    tests or snapshots. A module that fails to import costs its own tests only, not the session."""
    if not os.path.isdir(os.path.join(tree, "tests")):
        raise CourseError(f"{tree} holds no tests/ folder: not a minireason tree")
    if reference and not os.path.isdir(os.path.join(reference, HIDDEN[0])):
        raise CourseError(f"{reference} holds no {HIDDEN[0]}: not the reference tree")
    with tempfile.TemporaryDirectory() as scratch:
        if reference:
            copy = os.path.join(scratch, "tree")
            copy_tree(tree, copy)
            shutil.rmtree(os.path.join(copy, "tests"))
            shutil.copytree(os.path.join(reference, "tests"), os.path.join(copy, "tests"),
                            ignore=shutil.ignore_patterns("__pycache__", "test_course.py", "test_reference.py"))
            shutil.copy2(os.path.join(reference, "setup.cfg"), os.path.join(copy, "setup.cfg"))
            tree = copy
        rows, total = [], 0.0
        for a in (a for a in ASSIGNMENTS if a.name in names):
            _, outcomes, _ = run_pytest(tree, ["-m", a.name, "--continue-on-collection-errors", "tests"])
            passed = sum(o.passed and not o.skipped for o in outcomes)
            score = a.points * passed / len(outcomes) if outcomes else None
            total += score or 0.0
            rows.append({"assignment": a.name, "tests": len(outcomes), "passed": passed, "points": a.points,
                         "score": score, "failed": [f"{o.test}: {o.message}" for o in outcomes if not o.passed]})
            echo(f"{a.name:12s} {passed:3d}/{len(outcomes):<3d} tests  "
                 f"{'–' if score is None else f'{score:5.1f}'} / {a.points} points")
    out_of = sum(a.points for a in ASSIGNMENTS if a.name in names)
    echo(f"{'total':12s} {total:5.1f} / {out_of} points")
    return {"assignments": rows, "total": total, "out_of": out_of}


# ----------------------------------------------------------------------------- the student tree's contract

def check_student(tree: str, root: str = ROOT, echo=print) -> list[str]:
    """What a student tree must satisfy; returns the problems found (empty: all good).

    1. every region of a stubbed assignment is a stub that raises with its assignment's name;
    2. `pytest -m A` fails, and only on A's stubs (every stubbed function of A named by a failure; a
       test of A that needs another assignment's stub is skipped, naming it);
    3. every test outside the assignments passes or is skipped naming a stub it needs;
    4. the pipeline (`train.py --preset smoke`) stops with one `error:` line naming a stub, no traceback;
    5. putting the reference bodies back (restore_tree on a copy) gives the reference files exactly.
    """
    problems = []
    info = json.load(open(os.path.join(tree, MANIFEST)))
    stubbed = [a["name"] for a in info["assignments"] if a["stubbed"]]
    found = [r for r in all_regions(root) if r.assignment in stubbed]
    for r in found:
        with open(os.path.join(tree, r.path)) as f:
            if f'raise NotImplementedError({json.dumps(r.message)})' not in f.read():
                problems.append(f"{r.path}:{r.function}: no stub")
    for name in stubbed:
        _, outcomes, out = run_pytest(tree, ["-m", name, "tests"])
        failed = [o for o in outcomes if not o.passed and not o.skipped]
        named = {n for n in map(stub_error, (o.message for o in failed)) if n}
        if not failed:
            problems.append(f"pytest -m {name}: nothing failed")
        for o in failed:
            if (stub_error(o.message) or ("",))[0] != name:
                problems.append(f"pytest -m {name}: {o.test} failed on something else: {o.message}")
        missing = {r.function for r in found if r.assignment == name} - {f for _, f in named}
        problems += [f"pytest -m {name}: no test fails on the stub of {f}" for f in sorted(missing)]
        echo(f"pytest -m {name}: {len(failed)} failed on its stubs, "
             f"{sum(o.skipped for o in outcomes)} skipped, {sum(o.passed and not o.skipped for o in outcomes)} passed")
    _, outcomes, _ = run_pytest(tree, ["-m", " and ".join(f"not {n}" for n in NAMES), "tests"])
    for o in outcomes:
        if not o.passed and not o.skipped:
            problems.append(f"untouched test failed: {o.test}: {o.message}")
        elif o.skipped and skipped_for_stub(o.message) is None and "matplotlib" not in o.message:
            problems.append(f"test skipped for no stub: {o.test}: {o.message}")
    echo(f"other tests: {sum(o.passed and not o.skipped for o in outcomes)} passed, "
         f"{sum(o.skipped for o in outcomes)} skipped on a stub, "
         f"{sum(not o.passed and not o.skipped for o in outcomes)} failed")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "train.py", "--preset", "smoke", "--out", os.path.join(tmp, "run")],
                              cwd=tree, env={**os.environ, "PYTHONPATH": tree}, capture_output=True, text=True,
                              timeout=600)
        last = proc.stderr.strip().split("\n")[-1]
        if proc.returncode == 0 or "Traceback" in proc.stderr or not last.startswith("error: ") or not stub_error(last):
            problems.append(f"train.py did not stop with one error line naming a stub: {last[:200]}")
        echo(f"train.py --preset smoke: exit {proc.returncode}, last line: {last[:160]}")
        copy = os.path.join(tmp, "restored")
        copy_tree(tree, copy)
        restore_tree(copy, root)
        for path in source_files(root):
            if is_hidden(path):
                continue
            with open(os.path.join(root, path), "rb") as f, open(os.path.join(copy, path), "rb") as g:
                if f.read() != g.read():
                    problems.append(f"round trip: {path} differs from the reference")
    echo("round trip: the restored tree equals the reference" if not any("round trip" in p for p in problems)
         else "round trip: differences")
    return problems


# ----------------------------------------------------------------------------- the mutation matrix

MUTANTS_GLOB = "tests/course/hidden/mutants_*.py"     # one file per assignment


class Mutant(NamedTuple):
    function: str    # "path:qualified name" of the region it changes, e.g. "minireason/losses.py:kl_k3"
    name: str        # the mistake, in a few words
    old: str         # text that occurs exactly once in that region
    new: str         # what the mistaken student wrote instead


def load_mutants(root: str = ROOT) -> list[Mutant]:
    """MUTANTS of every tests/course/hidden/mutants_*.py (the reference tree only: they quote the solutions)."""
    paths = sorted(glob.glob(os.path.join(root, MUTANTS_GLOB)))
    if not paths:
        raise CourseError(f"no {MUTANTS_GLOB}: the mutation matrix runs in the reference tree only")
    out = []
    for path in paths:                   # the project's own files, imported as modules that see `Mutant`
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        module = importlib.util.module_from_spec(spec)
        module.Mutant = Mutant
        spec.loader.exec_module(module)
        out += module.MUTANTS
    return out


def mutate(text: str, path: str, m: Mutant) -> str:
    """The file `text` with mutant `m` applied inside its region; CourseError if `m.old` does not occur
    exactly once there."""
    fn = m.function.split(":", 1)[1]
    found = [r for r in regions(text, path) if r.function == fn]
    if len(found) != 1:
        raise CourseError(f"mutant {m.name!r}: no single region for {m.function}")
    r = found[0]
    lines = text.split("\n")
    body = "\n".join(lines[r.start:r.end + 1])
    if body.count(m.old) != 1:
        raise CourseError(f"mutant {m.name!r}: {m.old!r} occurs {body.count(m.old)} times in {m.function}")
    lines[r.start:r.end + 1] = body.replace(m.old, m.new).split("\n")
    out = "\n".join(lines)
    ast.parse(out)
    return out


def check_mutants(mutants: list[Mutant], root: str = ROOT, least: int = 3) -> list[str]:
    """Problems with the mutant list: a region with fewer than `least` mutants, one that does not apply."""
    problems, texts = [], {}
    for m in mutants:
        path = m.function.split(":", 1)[0]
        if path not in texts:
            with open(os.path.join(root, path)) as f:
                texts[path] = f.read()
        try:
            mutate(texts[path], path, m)
        except (CourseError, SyntaxError) as e:
            problems.append(str(e).split("\n")[0])
    for r in all_regions(root):
        n = sum(m.function == f"{r.path}:{r.function}" for m in mutants)
        if n < least:
            problems.append(f"{r.path}:{r.function}: {n} mutants (need {least})")
    return problems


def public_tests(assignment: str) -> list[str]:
    """The pytest arguments of an assignment's public tests (what the student tree runs)."""
    return ["-x", "-m", assignment, "tests/course", *[f"--ignore={h}" for h in HIDDEN]]


def mutation_matrix(mutants: list[Mutant], root: str = ROOT, echo=print) -> list[dict]:
    """Each mutant swapped in alone (in a scratch copy of the tree) under its assignment's public tests.
    A row per mutant: caught (the tests failed), missed (they passed) or error (pytest could not run);
    plus a row per assignment for the reference itself, which must pass."""
    order = {a: i for i, a in enumerate(NAMES)}
    by_fn = {f"{r.path}:{r.function}": r for r in all_regions(root)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "tree")
        for path in source_files(root):
            os.makedirs(os.path.dirname(os.path.join(copy, path)), exist_ok=True)
            shutil.copy2(os.path.join(root, path), os.path.join(copy, path))
        for a in sorted({by_fn[m.function].assignment for m in mutants}, key=order.get):
            code, _, out = run_pytest(copy, public_tests(a)[1:])
            rows.append({"assignment": a, "function": "(reference)", "mutant": "", "result":
                         "passes" if code == 0 else "FAILS"})
            echo(f"{a:12s} {'(reference)':34s} {rows[-1]['result']}")
            for m in sorted((m for m in mutants if by_fn[m.function].assignment == a), key=lambda m: m.function):
                path = m.function.split(":", 1)[0]
                with open(os.path.join(root, path)) as f:
                    original = f.read()
                with open(os.path.join(copy, path), "w") as f:
                    f.write(mutate(original, path, m))
                try:
                    code, outcomes, out = run_pytest(copy, public_tests(a))
                finally:
                    with open(os.path.join(copy, path), "w") as f:
                        f.write(original)
                result = {0: "missed", 1: "caught"}.get(code, f"error (pytest exit {code})")
                first = next((o for o in outcomes if not o.passed and not o.skipped), None)
                rows.append({"assignment": a, "function": m.function.split(":", 1)[1], "mutant": m.name,
                             "result": result, "by": first.test if first else None})
                echo(f"{a:12s} {rows[-1]['function']:34s} {m.name:44s} {result}"
                     + (f"  ({first.test.split('::')[-1]})" if first else ""))
    return rows


# ----------------------------------------------------------------------------- command line

class _Parser(argparse.ArgumentParser):
    def error(self, message):           # argparse's usage errors become one line, as everywhere else
        raise CourseError(message)


def main(argv: list[str]) -> int:
    parser = _Parser(prog="python -m minireason.course", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="the assignments, their functions and points")
    p = sub.add_parser("student", help="write a student tree")
    p.add_argument("out")
    p.add_argument("--only", default=",".join(NAMES), help="comma-separated assignments to stub (default: all)")
    p = sub.add_parser("grade", help="run each assignment's tests and score them")
    p.add_argument("tree", nargs="?", default=".")
    p.add_argument("--reference", default=None, help="grade with this reference tree's tests (hidden ones included)")
    p.add_argument("--json", default=None, help="also write the scores to this file")
    p = sub.add_parser("check", help="check a student tree's contract (see check_student)")
    p.add_argument("tree")
    p = sub.add_parser("mutants", help="the mutation matrix")
    p.add_argument("-a", "--assignment", default=None)
    p.add_argument("--fast", action="store_true", help="only the first mutant of each assignment")
    p.add_argument("--json", default=None, help="also write the matrix to this file")
    try:
        args = parser.parse_args(argv)
        if args.command == "list":
            student = os.path.join(ROOT, MANIFEST)
            listed = ({a["name"]: a["functions"] for a in json.load(open(student))["assignments"]}
                      if os.path.exists(student) else None)
            found = all_regions() if listed is None else []
            for a in ASSIGNMENTS:
                fns = listed[a.name] if listed else [f"{r.path}:{r.function}" for r in found if r.assignment == a.name]
                print(f"{a.name} ({a.points} points, `pytest -m {a.name}`): {a.title}")
                print("".join(f"    {f}\n" for f in fns), end="")
            print(f"{sum(len(v) for v in listed.values()) if listed else len(found)} graded functions")
        elif args.command == "student":
            only = tuple(a for a in args.only.split(",") if a)
            info = write_student_tree(args.out, only)
            n = sum(len(a["functions"]) for a in info["assignments"] if a["stubbed"])
            print(f"wrote the student tree {args.out}: {n} stubs in {', '.join(only)}; left out: "
                  f"{', '.join(HIDDEN)} (hidden tests, mutants, the tools' tests); "
                  f"grading manifest {os.path.join(args.out, MANIFEST)}")
        elif args.command == "grade":
            scores = grade(args.tree, args.reference)
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(scores, f, indent=2)
        elif args.command == "check":
            if not os.path.exists(os.path.join(args.tree, MANIFEST)):
                raise CourseError(f"{args.tree} holds no {MANIFEST}: not a student tree")
            problems = check_student(args.tree)
            for p in problems:
                print(f"problem: {p}")
            print("student tree: all checks passed" if not problems else f"{len(problems)} problems")
            return 1 if problems else 0
        elif args.command == "mutants":
            mutants = load_mutants()
            problems = check_mutants(mutants)
            for p in problems:
                print(f"problem: {p}")
            if problems:
                return 1
            if args.assignment:
                if args.assignment not in NAMES:
                    raise CourseError(f"unknown assignment {args.assignment!r}; choose from {', '.join(NAMES)}")
                by_fn = {f"{r.path}:{r.function}": r.assignment for r in all_regions()}
                mutants = [m for m in mutants if by_fn[m.function] == args.assignment]
            if args.fast:
                firsts: dict = {}
                by_fn = {f"{r.path}:{r.function}": r.assignment for r in all_regions()}
                for m in mutants:
                    firsts.setdefault(by_fn[m.function], m)
                mutants = list(firsts.values())
            rows = mutation_matrix(mutants)
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(rows, f, indent=2)
            bad = [r for r in rows if r["result"] not in ("caught", "passes")]
            n = sum(r["mutant"] != "" for r in rows)
            print(f"{n - sum(r['mutant'] != '' for r in bad)} of {n} mutants caught; reference "
                  + ("passes" if all(r["result"] == "passes" for r in rows if not r["mutant"]) else "FAILS"))
            return 1 if bad or problems else 0
    except (CourseError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        print(f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
