"""report.py: one self-contained HTML page; the model's output is escaped, never interpreted."""
import base64
import html
import json
import re

import pytest

from minireason import plots, report

HOSTILE = "<script>alert(1)</script>"


def metrics(acc, pass4, maj4, length, refl, eff):
    """M of the evaluation schema with ks 1, 2, 4 (the run's k is 4, not 16)."""
    return {"count": 6, "accuracy": acc, "pass@1": acc, "pass@2": (acc + pass4) / 2, "pass@4": pass4,
            "maj@1": acc, "maj@2": acc, "maj@4": maj4, "length_mean": length, "reflection_rate": refl,
            "effective_reflection_rate": eff, "pass_fraction": acc}


def model(m):
    return {"overall": m, "domains": {"arith": {"overall": m, "by_difficulty": {"1": m, "2": m}}}}


def make_eval():
    task = {"family": "countdown", "difficulty": 2, "numbers": [9, 3, 4], "target": 8}
    return {
        "run": "runs/x", "step": 7, "k": 4, "problems_per_difficulty": 3, "temperature": 1.0,
        "models": {"base": model(metrics(0.41, 0.66, 0.52, 12.3, 0.11, 0.22)),
                   "final": model(metrics(0.87, 0.97, 0.93, 27.9, 0.64, 0.58))},
        "budget_forcing": {"base": [{"budget": 0, "accuracy": 0.3, "tokens_mean": 6.0}],
                           "final": [{"budget": 0, "accuracy": 0.5, "tokens_mean": 6.5}]},
        "length_vs_difficulty": {name: {"arith": {"by_difficulty": {"1": 10.0, "2": 15.0}, "spearman": 0.4}}
                                 for name in ("base", "final")},
        "samples": [
            {"task": task, "prompt": "reach 8 with 9 3 4",
             "base": {"completion": "9+3=12 12+4=16</think><answer>9+3+4</answer>", "correct": False},
             "final": {"completion": "9+3=12 12+4=16 check 16=8 no wait 9+3=12 12-4=8 check 8=8 ok"
                                     "</think><answer>9+3-4</answer>", "correct": True}},
            {"task": {**task, "family": '"><img src=x onerror=alert(2)>'}, "prompt": "reach <b>8</b>",
             "base": {"completion": HOSTILE, "correct": False},
             "final": {"completion": "</think><answer><img src=x></answer>", "correct": False}},
        ],
        "wall_seconds": 3.0,
    }


def write(tmp_path, run_dir=None):
    path = tmp_path / "report.html"
    report.write_report(make_eval(), str(run_dir or tmp_path / "run<1>"), str(path))
    return path.read_text()


def test_trace_highlighting():
    assert report.trace_html("9+6=14 check 14=15 no wait 9+6=15 check 15=15 ok</think><answer>15</answer>") == (
        '<span>9+6=14</span> <span class="no">check 14=15 no</span> <span class="wait">wait</span> '
        '<span>9+6=15</span> <span class="ok">check 15=15 ok</span><span class="tag">&lt;/think&gt;</span>'
        '<span class="tag">&lt;answer&gt;</span><span class="answer">15</span><span class="tag">&lt;/answer&gt;</span>')
    # a check without a verdict is not a check; a broken answer block is shown as written
    assert report.trace_html("check 1=1") == "<span>check</span> <span>1=1</span>"
    assert report.trace_html("</think><answer>1") == '<span class="tag">&lt;/think&gt;</span>&lt;answer&gt;1'
    # a check the parser rejects is not highlighted as one (before traces.items it was, class "ok")
    assert report.trace_html("check banana ok") == "<span>check</span> <span>banana</span> <span>ok</span>"


# trace_html's output on these completions, captured from the version that split the thinking itself
# (before traces.items): colouring the typed items changed none of it (only an empty thinking lost the
# empty `<span></span>` it used to get)
HIGHLIGHTED = [
    ("3+5=8 8+8=16 check 16=6 no wait 3+5=8 8-8=0 check 0=6 no wait 3-5=-2 -2+8=6 check 6=6 ok"
     "</think><answer>3-5+8</answer>",
     '<span>3+5=8</span> <span>8+8=16</span> <span class="no">check 16=6 no</span> <span class="wait">wait</span> '
     '<span>3+5=8</span> <span>8-8=0</span> <span class="no">check 0=6 no</span> <span class="wait">wait</span> '
     '<span>3-5=-2</span> <span>-2+8=6</span> <span class="ok">check 6=6 ok</span><span class="tag">&lt;/think&gt;'
     '</span><span class="tag">&lt;answer&gt;</span><span class="answer">3-5+8</span><span class="tag">&lt;/answer&gt;'
     '</span>'),
    ("c=9-4=6 7+6=13 check 13=12 no wait c=9-4=5 check 12=12 ok</think><answer>x</answer>",
     '<span>c=9-4=6</span> <span>7+6=13</span> <span class="no">check 13=12 no</span> <span class="wait">wait</span> '
     '<span>c=9-4=5</span> <span class="ok">check 12=12 ok</span><span class="tag">&lt;/think&gt;</span>'
     '<span class="tag">&lt;answer&gt;</span><span class="answer">x</span><span class="tag">&lt;/answer&gt;</span>'),
    ("7+8=16 banana wait 1+1=3 ok</think><answer><b>1</b></answer>x",
     '<span>7+8=16</span> <span>banana</span> <span class="wait">wait</span> <span>1+1=3</span> <span>ok</span>'
     '<span class="tag">&lt;/think&gt;</span>&lt;answer&gt;&lt;b&gt;1&lt;/b&gt;&lt;/answer&gt;x'),
    ("1+1=2  wait </think></think><answer>2</answer>",
     '<span>1+1=2</span> <span></span> <span class="wait">wait</span> <span></span><span class="tag">&lt;/think&gt;'
     '</span>&lt;/think&gt;&lt;answer&gt;2&lt;/answer&gt;'),
    ("9+6=14 check 14=15 no wait<answer>15",
     '<span>9+6=14</span> <span class="no">check 14=15 no</span> <span>wait&lt;answer&gt;15</span>'),
    (HOSTILE, "<span>&lt;script&gt;alert(1)&lt;/script&gt;</span>"),
]


@pytest.mark.parametrize("completion, page", HIGHLIGHTED)
def test_trace_html_as_before(completion, page):
    assert report.trace_html(completion) == page


def test_table_uses_largest_k(tmp_path):
    page = write(tmp_path)
    assert "<th>pass@4</th>" in page and "<th>maj@4</th>" in page and "pass@16" not in page
    for base, final in (("0.41", "0.87"), ("0.66", "0.97"), ("0.52", "0.93"), ("12.3", "27.9"), ("0.11", "0.64"),
                        ("0.22", "0.58")):
        assert re.search(rf">{re.escape(base)}</span><span class=\"arrow\">→</span>{re.escape(final)}<", page)
    assert "all domains" not in page                    # one domain: no total row


def test_escapes_model_output_and_loads_nothing(tmp_path):
    page = write(tmp_path)
    assert html.escape(HOSTILE) in page and "<script" not in page
    assert "<img src=x" not in page and "&lt;img src=x&gt;" in page
    assert "onerror=alert(2)&gt;" in page and '"><img' not in page
    assert "run&lt;1&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert not list(tmp_path.glob("*.tmp"))


def test_both_traces_side_by_side(tmp_path):
    page = write(tmp_path)
    assert '<span>12+4=16</span><span class="tag">&lt;/think&gt;</span>' in page                 # base
    assert '<span class="no">check 16=8 no</span> <span class="wait">wait</span>' in page         # final
    assert '<span class="ok">check 8=8 ok</span>' in page and '<span class="answer">9+3-4</span>' in page
    assert page.count('class="badge right"') == 1 and page.count('class="badge wrong"') == 3


def test_figures_inlined(tmp_path):
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    (run / "plots").mkdir(parents=True)
    (run / "plots" / "training.png").write_bytes(b"\x89PNG\r\n\x1a\nthe run's own figure")
    page = write(tmp_path, run)
    assert base64.b64encode(b"\x89PNG\r\n\x1a\nthe run's own figure").decode() in page
    assert page.count('src="data:image/png;base64,') == 2            # training curves + test-time figure
    # a run without plots/ gets its training curves drawn from metrics.jsonl
    old = tmp_path / "old"
    old.mkdir()
    (old / "metrics.jsonl").write_text(json.dumps({"stage": "pretrain", "step": 10, "loss": 2.0}) + "\n")
    assert write(tmp_path, old).count('src="data:image/png;base64,') == 2


def test_without_matplotlib_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "available", lambda: False)
    page = write(tmp_path)
    assert page.count(html.escape(plots.SKIPPED)) == 1 and "data:image" not in page


def test_a_run_that_states_its_confidence_gets_its_columns_its_diagram_and_its_block(tmp_path):
    pytest.importorskip("matplotlib")
    from minireason import metrics as metrics_lib
    ev = make_eval()
    for name, (ece, q) in (("base", (0.31, 0.5)), ("final", (0.04, 0.8))):
        for m in (ev["models"][name]["overall"], ev["models"][name]["domains"]["arith"]["overall"]):
            m.update({"confidence_mean": q, "ece": ece, "brier": 0.2, "confidence_auroc": 0.6,
                      "reliability": metrics_lib.reliability_bins([q, q], [1, 0])})
    ev["samples"][0]["final"]["completion"] += "<confidence>7</confidence>"
    path = tmp_path / "report.html"
    report.write_report(ev, str(tmp_path / "run"), str(path))
    page = path.read_text()
    assert "<th>ece</th>" in page and re.search(r">0.31</span><span class=\"arrow\">→</span>0.04<", page)
    assert page.count('src="data:image/png;base64,') == 2 and "Reliability: accuracy against stated" in page
    assert '<span class="tag">&lt;confidence&gt;7&lt;/confidence&gt;</span>' in page
    assert '<span class="tag">&lt;confidence&gt;&lt;b&gt;</span>' in report.trace_html(
        "</think><answer>1</answer><confidence><b>")                  # a cut block, escaped as written
