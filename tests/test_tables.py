"""Every results table in README.md and docs/results.md is printed by bench/tables.py from docs/runs/."""
import json
import os

from bench import tables


def test_the_reference_runs_are_stored():
    """The tables rest on these files; a missing one would print a table of headers only."""
    for name in tables.DEMO_SEEDS + (tables.CONTROL, tables.TRANSFER):
        for file in ("config.json", "summary.json"):
            assert os.path.exists(os.path.join(tables.RUNS, name, file)), (name, file)
    assert os.path.exists(os.path.join(tables.RUNS, tables.DEMO_SEEDS[0], "eval.json"))


def test_the_documents_tables_equal_the_generators_output():
    stale = tables.stale()
    if os.path.exists(os.path.join(tables.ROOT, "course.json")):     # a student tree: stubs change line counts
        stale = [s for s in stale if not s.endswith("table files")]
    assert stale == [], "run `python bench/tables.py --write` to update the documents"


def test_every_document_quotes_at_least_one_generated_table():
    for doc in tables.DOCUMENTS:
        with open(f"{tables.ROOT}/{doc}") as f:
            assert tables.MARK.search(f.read()), doc


def _side(acc, length, refl, eff, revisions):
    return {"accuracy": acc, "length_mean": length, "reflection_rate": refl, "effective_reflection_rate": eff,
            "problems": 48, "count": 48, "revisions": revisions}


def test_demo_and_bar_tables_by_hand(tmp_path):
    runs = tmp_path / "runs"
    for name, final in (("demo-seed0", _side(0.55, 30.0, 0.50, 0.25, 8)),
                        ("demo-noreflect-seed0", _side(0.4, 20, 0.01, None, 0))):
        (runs / name).mkdir(parents=True)
        s = {"domains": {"arith": {"base": _side(0.30, 12.0, 0.10, None, 0), "final": final}},
             "wall_seconds": {"total": 540.0}}
        (runs / name / "summary.json").write_text(json.dumps(s))
    demo = tables.demo_table(str(runs)).splitlines()
    assert demo[2] == "| demo-seed0 | arith | 48 | 0.30 → 0.55 | 12.0 → 30.0 | 0.10 → 0.50 | – (0) → 0.25 (8) | 9.0 |"
    assert demo[3].endswith("| 0.10 → 0.01 | – (0) → – (0) | 9.0 |")
    bar = tables.bar_table(str(runs)).splitlines()
    # +25.0 points, x2.50, 0.10 -> 0.50 (x5), 0.25 > 0, control 0.01 < 0.02, 9.0 <= 10 minutes
    assert bar[2] == "| demo-seed0 | arith | +25.0 yes | ×2.50 yes | 0.10 → 0.50 yes | 0.25 yes | 0.01 yes | 9.0 yes |"
