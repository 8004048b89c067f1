"""Course mode's tools (minireason/course.py): regions, the student tree and its round trip, the
manifest, grading, and the fast part of the mutation matrix (the whole matrix and the full contract of
a student tree run in CI: `python -m minireason.course mutants` and `... check`)."""
import json
import os
import subprocess
import sys

import pytest

from minireason import course

ROOT = course.ROOT


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """A student tree with every assignment stubbed."""
    out = str(tmp_path_factory.mktemp("course") / "student")
    return out, course.write_student_tree(out)


# ----------------------------------------------------------------------------- regions

def test_at_least_twelve_graded_functions_over_every_assignment():
    found = course.all_regions()
    assert len(found) >= 12
    assert {r.assignment for r in found} == set(course.NAMES)
    assert len({(r.path, r.function) for r in found}) == len(found)          # one region per function
    assert all(r.hint and "\"" not in r.hint for r in found)


def test_stub_then_restore_gives_every_file_back():
    for path in {r.path for r in course.all_regions()}:
        text = open(os.path.join(ROOT, path)).read()
        stubbed = course.stub(text, path)
        assert stubbed != text and "# BEGIN SOLUTION" not in stubbed
        assert course.restore(stubbed, text, path) == text


@pytest.mark.parametrize("text, message", [
    ("def f():\n    # BEGIN SOLUTION nope: x\n    return 1\n    # END SOLUTION\n", "unknown assignment 'nope'"),
    ("def f():\n    # BEGIN SOLUTION losses: x\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "END SOLUTION without a BEGIN"),
    ("# BEGIN SOLUTION losses: x\nx = 1\n# END SOLUTION\n", "must sit inside a function"),
    ("def f():\n    # BEGIN SOLUTION losses: x\n    # BEGIN SOLUTION losses: y\n    return 1\n", "opened inside"),
])
def test_malformed_regions_are_one_line_errors(text, message):
    with pytest.raises(course.CourseError, match=message) as e:
        course.regions(text, "m.py")
    assert "\n" not in str(e.value)


def test_a_method_region_is_named_by_its_class():
    text = "class A:\n    def f(self):\n        '''doc'''\n        # BEGIN SOLUTION rl: do it\n        return 1\n" \
           "        # END SOLUTION\n"
    (r,) = course.regions(text, "m.py")
    assert (r.function, r.start, r.end, r.indent) == ("A.f", 3, 5, "        ")
    assert course.stub(text, "m.py").split("\n")[3] == \
        f'        raise NotImplementedError("rl: A.f {course.STUB_NOTE}: do it")'


# ----------------------------------------------------------------------------- the student tree

def test_the_student_tree_stubs_every_region_and_leaves_the_hidden_tests_out(student):
    out, info = student
    assert not os.path.exists(os.path.join(out, "tests", "course", "hidden"))
    assert not os.path.exists(os.path.join(out, "tests", "test_course.py"))
    reference = open(os.path.join(out, "minireason", "reference.py")).read()
    assert "is withheld from the student tree" in reference and "dynamic_update_slice" not in reference
    assert os.path.exists(os.path.join(out, "tests", "course", "snapshots"))
    for r in course.all_regions():
        text = open(os.path.join(out, r.path)).read()
        assert f"raise NotImplementedError({json.dumps(r.message)})" in text
        assert "# BEGIN SOLUTION" not in text
    manifest = json.load(open(os.path.join(out, course.MANIFEST)))
    assert manifest == info and [a["name"] for a in manifest["assignments"]] == list(course.NAMES)
    for i, a in enumerate(manifest["assignments"], start=1):
        assert a["tests"] == [f"tests/course/test_{i}_{a['name']}.py"] and a["functions"] and a["points"] > 0
        assert os.path.exists(os.path.join(out, a["tests"][0]))
    assert "tests/course/hidden/test_hidden.py" in manifest["hidden"]


def test_every_stub_raises_naming_its_assignment(student):
    """Import each stubbed function from the student tree and call it (with None for every argument):
    each raises NotImplementedError whose message starts with its assignment's name."""
    out, _ = student
    calls = [(r.path[:-3].replace("/", "."), r.function, r.assignment) for r in course.all_regions()]
    script = """
import inspect, importlib, json, sys
bad = []
for module, qual, assignment in json.loads(sys.argv[1]):
    obj = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    fn = obj.fget if isinstance(obj, property) else obj
    n = sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            for p in inspect.signature(fn).parameters.values())
    kw = {p.name: None for p in inspect.signature(fn).parameters.values() if p.kind == p.KEYWORD_ONLY
          and p.default is p.empty}
    try:
        fn(*[None] * n, **kw)
        bad.append(qual + ": did not raise")
    except NotImplementedError as e:
        if not str(e).startswith(assignment + ": " + qual):
            bad.append(qual + ": " + str(e))
print(json.dumps(bad))
"""
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(calls)], cwd=out, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": out}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().split("\n")[-1]) == []


def test_restoring_the_student_tree_gives_the_reference_byte_for_byte(student, tmp_path):
    import shutil
    out, _ = student
    copy = str(tmp_path / "copy")
    shutil.copytree(out, copy)
    changed = course.restore_tree(copy)
    assert changed == sorted({r.path for r in course.all_regions(withheld=True)})
    assert "minireason/reference.py" in changed                    # its textbook versions are withheld
    for path in course.source_files():
        if not course.is_hidden(path):
            assert open(os.path.join(copy, path), "rb").read() == open(os.path.join(ROOT, path), "rb").read(), path


def test_only_some_assignments_stubbed(tmp_path):
    out = str(tmp_path / "one")
    info = course.write_student_tree(out, ("testtime",))
    assert [a["stubbed"] for a in info["assignments"]] == [a == "testtime" for a in course.NAMES]
    assert "NotImplementedError" not in open(os.path.join(out, "minireason", "losses.py")).read()
    assert open(os.path.join(out, "minireason", "testtime.py")).read().count("NotImplementedError(") == \
        sum(r.assignment == "testtime" for r in course.all_regions())


def test_bad_student_tree_requests_are_one_line_errors(student, tmp_path):
    out, _ = student
    with pytest.raises(course.CourseError, match="exists and is not an empty folder"):
        course.write_student_tree(out)
    with pytest.raises(course.CourseError, match="unknown assignment 'nope'"):
        course.write_student_tree(str(tmp_path / "x"), ("nope",))
    with pytest.raises(course.CourseError, match="is a student tree already"):
        course.write_student_tree(str(tmp_path / "y"), root=out)


def test_in_the_student_tree_an_assignment_fails_only_on_its_own_stubs(student):
    """`pytest -m testtime` fails on testtime's stubs, and grading scores it 0 (the reference's full marks
    are checked by CI's mutation matrix, whose reference rows must pass);
    tests of other code that need a stub are skipped, naming it; the pipeline stops with one line naming
    the first missing function."""
    out, _ = student
    (row,) = course.grade(out, names=("testtime",), echo=lambda *a: None)["assignments"]
    assert row["passed"] == 0 and row["score"] == 0.0 and row["tests"] > 10
    named = [course.stub_error(line) for line in row["failed"]]
    assert all(n is not None and n[0] == "testtime" for n in named)
    assert {n[1] for n in named} == {"pass_at_k", "majority_vote", "rank"}
    (hidden,) = course.grade(out, reference=ROOT, names=("testtime",), echo=lambda *a: None)["assignments"]
    assert hidden["tests"] == row["tests"] + 1 and hidden["passed"] == 0     # test_hidden.py's testtime test
    code, outcomes, _ = course.run_pytest(out, ["tests/test_losses.py"])
    skipped = [o for o in outcomes if o.skipped]
    assert code == 0 and skipped and all(o.message.startswith("needs losses: ") for o in skipped)
    proc = subprocess.run([sys.executable, "train.py", "--preset", "smoke", "--out", os.path.join(out, "runs", "x")],
                          cwd=out, env={**os.environ, "PYTHONPATH": out}, capture_output=True, text=True, timeout=300)
    last = proc.stderr.strip().split("\n")[-1]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert last.startswith("error: transformer: rms_norm is not written yet")


# ----------------------------------------------------------------------------- the mutation matrix

def test_every_region_has_three_mutants_that_apply():
    assert course.check_mutants(course.load_mutants()) == []


def test_a_mutant_changes_only_its_region():
    m = course.Mutant("minireason/losses.py:masked_mean", "x", "(x * mask).sum()", "x.sum()")
    text = open(os.path.join(ROOT, "minireason/losses.py")).read()
    new = course.mutate(text, "minireason/losses.py", m)
    assert new.count("x.sum() / jnp.maximum(mask.sum(), 1.0)") == 1 and len(new) == len(text) - len("( * mask)")
    with pytest.raises(course.CourseError, match="occurs 0 times"):
        course.mutate(text, "minireason/losses.py", m._replace(old="nothing like this"))


def test_the_fast_part_of_the_mutation_matrix():
    """Two mutants run for real (the whole matrix: `python -m minireason.course mutants`, in CI)."""
    mutants = [m for m in course.load_mutants() if m.name in ("ties take the lowest rank", "the biased estimator "
                                                               "1 - (1 - c/n)^k")]
    assert len(mutants) == 2
    rows = course.mutation_matrix(mutants, echo=lambda *a: None)
    assert [r["result"] for r in rows if r["mutant"]] == ["caught", "caught"]
    assert all(r["result"] == "passes" for r in rows if not r["mutant"])


def test_the_handout_names_every_assignment_with_its_points():
    """docs/course.md's headings `### i. Title (`pytest -m NAME`, P points)` follow ASSIGNMENTS."""
    import re
    text = open(os.path.join(ROOT, "docs", "course.md")).read()
    found = re.findall(r"^### (\d)\. .*?\(`pytest -m (\w+)`, (\d+) points", text, re.M)
    assert found == [(str(i), a.name, str(a.points)) for i, a in enumerate(course.ASSIGNMENTS, start=1)]
    assert f"{' + '.join(str(a.points) for a in course.ASSIGNMENTS)} = 100" in text
