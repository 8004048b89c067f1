"""One self-contained HTML page of an evaluation: the before/after table, the figures, and what the base
and the final model wrote for the same problems, side by side.

`write_report(ev, run_dir, path)` takes the evaluation dict that `verify.py --run` writes as eval.json.
The page works offline and runs nothing: inline CSS, no script, no external file or font, the figures
inlined as base64 `data:` URIs, and a Content-Security-Policy that forbids everything else. The model's
output is untrusted, so every string from it (and from the task records) is HTML-escaped.
"""
from __future__ import annotations

import base64
import html
import os
import tempfile

from minireason import plots, runfolder
from minireason.metrics import fmt
from minireason.traces import ANSWER_END, ANSWER_START, THINK_END, Check, Wait, items, split_confidence

TABLE_KEYS = ("accuracy", "pass@{k}", "maj@{k}", "length_mean", "reflection_rate", "effective_reflection_rate")
MAX_SAMPLES = 24          # the page stays readable; the rest are in eval.json

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;max-width:1200px;
 margin:2rem auto;padding:0 1.2rem}
h1{font-size:1.55rem;margin:0 0 .2rem} h2{font-size:1.15rem;margin:2.2rem 0 .8rem;padding-bottom:.3rem;
 border-bottom:1px solid #d8dee4}
.meta,.note{color:#656d76;font-size:.9rem} code,pre,.prompt{font-family:ui-monospace,Menlo,Consolas,monospace}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.93rem}
th,td{padding:.4rem .9rem;border-bottom:1px solid #e6e9ed;text-align:right;white-space:nowrap}
th{background:#f6f8fa;font-weight:600} th:first-child,td:first-child{text-align:left}
.was{color:#8c959f} .arrow{color:#b6bec7;margin:0 .25rem}
figure{margin:1rem 0} img{max-width:100%;border:1px solid #e6e9ed;border-radius:6px}
figcaption{color:#656d76;font-size:.88rem;margin-top:.3rem}
.sample{border:1px solid #d8dee4;border-radius:8px;margin:0 0 1rem;overflow:hidden}
.prompt{background:#f6f8fa;padding:.45rem .8rem;border-bottom:1px solid #d8dee4;font-weight:600}
.prompt .meta{font-family:system-ui,sans-serif;font-weight:400;margin-left:.6rem}
.pair{display:grid;grid-template-columns:1fr 1fr} .side{padding:.5rem .8rem;min-width:0}
.side+.side{border-left:1px solid #d8dee4} .who{font-size:.85rem;color:#656d76;font-weight:600}
pre{white-space:pre-wrap;overflow-wrap:break-word;margin:.35rem 0 .1rem;font-size:13px;line-height:1.75}
pre span{white-space:nowrap} .ok,.no,.wait{border-radius:3px;padding:1px 3px}
.ok{background:#dafbe1;color:#116329} .no{background:#ffebe9;color:#a40e26} .wait{background:#fff1e5;color:#953800}
.wait{font-weight:600} .tag{color:#8c959f} .answer{font-weight:700;color:#0b1f3a}
.badge{display:inline-block;font-size:.75rem;padding:0 .5rem;border-radius:999px;margin-left:.4rem}
.badge.right{background:#1a7f37;color:#fff} .badge.wrong{background:#cf222e;color:#fff}
.scroll{overflow-x:auto} @media (max-width:760px){.pair{grid-template-columns:1fr} .side+.side{border-left:0;
 border-top:1px solid #d8dee4}}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def trace_html(completion: str) -> str:
    """A completion as HTML, its thinking cut by traces.items: `check E=V ok` green, `check E=V no` red,
    `wait` orange, the answer bold; each item in a span of its own, so a line breaks between items, never
    inside one (`7-5=2`).

    Text the notation does not know (traces.Unknown) is shown as it is, escaped; so is anything malformed after
    `</think>`, so a completion that breaks the format still reads as what the model wrote.
    """
    thinking, sep, rest = completion.partition(THINK_END)
    out = []
    for item in items(thinking):
        match item.parsed:
            case Check(verdict=verdict):
                out.append(f'<span class="{"ok" if verdict else "no"}">{_esc(item.text)}</span>')
            case Wait():
                out.append(f'<span class="wait">{_esc(item.text)}</span>')
            case _:
                out.append(f"<span>{_esc(item.text)}</span>")
    text = " ".join(out)
    if not sep:
        return text
    rest, stated = split_confidence(rest)
    inner = rest[len(ANSWER_START):-len(ANSWER_END)]
    if rest == ANSWER_START + inner + ANSWER_END:
        answer = f'<span class="tag">{_esc(ANSWER_START)}</span><span class="answer">{_esc(inner)}</span>' \
                 f'<span class="tag">{_esc(ANSWER_END)}</span>'
    else:
        answer = _esc(rest)
    if stated is not None:                   # a stated confidence (calibration.py), as written
        answer += f'<span class="tag">{_esc(stated)}</span>'
    return f'{text}<span class="tag">{_esc(THINK_END)}</span>{answer}'


def _number(m: dict, key: str) -> str:
    if not isinstance(m.get(key), (int, float)):
        return "–"
    return f"{m[key]:.1f}" if key.startswith("length") else f"{m[key]:.2f}"


def table_html(ev: dict) -> str:
    """Per domain (and all domains together when there are several): base → final for TABLE_KEYS, with
    pass@k and maj@k at the largest k evaluated."""
    base, final = ev["models"]["base"], ev["models"]["final"]
    k = max(plots.ks_of(final["overall"], "pass"), default=1)
    keys = [key.format(k=k) for key in TABLE_KEYS]
    if "ece" in final["overall"]:                 # the run states its confidence (calibration.py)
        keys += ["confidence_mean", "ece", "brier", "confidence_auroc"]
    rows = [(dom, base["domains"][dom]["overall"], m["overall"]) for dom, m in final["domains"].items()]
    if len(rows) > 1:
        rows.append(("all domains", base["overall"], final["overall"]))
    head = "".join(f"<th>{_esc(key)}</th>" for key in keys)
    body = "".join(
        f"<tr><td>{_esc(name)}</td>" + "".join(
            f'<td><span class="was">{_number(b, key)}</span><span class="arrow">→</span>{_number(f, key)}</td>'
            for key in keys) + "</tr>"
        for name, b, f in rows)
    return f'<div class="scroll"><table><tr><th>domain</th>{head}</tr>{body}</table></div>'


def _img(path: str, caption: str) -> str:
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<figure><img alt="{_esc(caption)}" src="data:image/png;base64,{data}">' \
           f"<figcaption>{_esc(caption)}</figcaption></figure>"


def figures_html(ev: dict, run_dir: str) -> str:
    """The run's training curves (drawn now from metrics.jsonl if the run has no plots/training.png), the
    frontier's curves of a frontier run, and the test-time figure of `ev`, inlined; one line instead when
    matplotlib is not installed."""
    if not plots.available():
        return f'<p class="note">{_esc(plots.SKIPPED)}</p>'
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        training = os.path.join(run_dir, "plots", "training.png")
        rows = [] if os.path.exists(training) else runfolder.Jsonl(os.path.join(run_dir, "metrics.jsonl")).rows()
        if rows:
            training = os.path.join(tmp, "training.png")
            plots.training_curves(rows, training)
        if os.path.exists(training):
            parts.append(_img(training, "Training curves: pretraining loss, then the RL metrics per step."))
        metrics_path = os.path.join(run_dir, "metrics.jsonl")
        climbed = rows or (runfolder.Jsonl(metrics_path).rows() if os.path.exists(metrics_path) else [])
        if any("frontier" in r for r in climbed):             # the frontier curriculum (frontier.py)
            path = os.path.join(run_dir, "plots", "frontier.png")
            if not os.path.exists(path):
                path = os.path.join(tmp, "frontier.png")
                plots.frontier_curves(climbed, path)
            parts.append(_img(path, "The frontier curriculum: length of correct and wrong completions with the "
                                    "thinking budget and the frontier; held-out accuracy and length per level; "
                                    "reflection as the frontier rises."))
        testtime = os.path.join(tmp, "testtime.png")
        plots.testtime(ev, testtime)
        parts.append(_img(testtime, "Test-time compute: (a) accuracy against tokens per problem; "
                                    "(b) mean completion length by difficulty."))
        final = ev["models"]["final"]["domains"]
        if all("reliability" in ev["models"][name]["domains"][dom]["overall"]     # the run states its confidence
               for name in ("base", "final") for dom in final):
            panels = {dom: {name: {"bins": ev["models"][name]["domains"][dom]["overall"]["reliability"],
                                   "ece": ev["models"][name]["domains"][dom]["overall"]["ece"]}
                            for name in ("base", "final")} for dom in final}
            path = os.path.join(tmp, "reliability.png")
            plots.reliability(panels, path)
            parts.append(_img(path, "Reliability: accuracy against stated confidence, base and final; the "
                                    "diagonal is perfect calibration."))
    return "".join(parts)


def sample_html(s: dict) -> str:
    """One problem: its prompt, then the base and the final completion side by side with verdicts."""
    task = s.get("task") or {}
    meta = ", ".join(f"{k} {_esc(task[k])}" for k in ("family", "difficulty") if k in task)
    sides = []
    for name in ("base", "final"):
        c = s[name]
        badge = '<span class="badge right">correct</span>' if c.get("correct") else \
            '<span class="badge wrong">wrong</span>'
        sides.append(f'<div class="side"><div class="who">{name}{badge}</div>'
                     f'<pre>{trace_html(str(c.get("completion", "")))}</pre></div>')
    return f'<div class="sample"><div class="prompt">{_esc(s.get("prompt", ""))}<span class="meta">{meta}</span>' \
           f'</div><div class="pair">{"".join(sides)}</div></div>'


def judge_html(run_dir: str) -> str:
    """The run's judge (rl.reward=judge), if it has one: its held-out scores, then candidates with the
    verifier's verdict beside the judge's (judge/judge_eval.json), and the late samples it accepted that
    the verifier rejects (judge/exploits.json, written by bench/judge.py --exploits)."""
    path = os.path.join(run_dir, "judge", "judge_eval.json")
    if not os.path.exists(path):
        return ""
    ev = runfolder.read_json(path)
    a = ev["all"]
    rows = [(e["problem"], e["candidate"], e["exact"], e["judge"], f"p(yes) {e['p_yes']:.2f}")
            for e in ev.get("examples", [])]
    ex_path = os.path.join(run_dir, "judge", "exploits.json")
    if os.path.exists(ex_path):
        rows += [(e["prompt"], e["completion"], False, e["judge"], f"RL step {e['step']}")
                 for e in runfolder.read_json(ex_path)["accepted_wrong"][:8]]

    def side(who, text, right):
        badge = f'<span class="badge {"right" if right else "wrong"}">{"correct" if right else "wrong"}</span>'
        return f'<div class="side"><div class="who">{who}{badge}</div><pre>{trace_html(text)}</pre></div>'

    cards = "".join(
        f'<div class="sample"><div class="prompt">{_esc(prompt.removesuffix("<think>"))}'
        f'<span class="meta">{_esc(note)}</span></div><div class="pair">{side("candidate (verifier)", cand, exact)}'
        f'{side("judge", judged, judged.endswith("<answer>yes</answer>") == exact)}</div></div>'
        for prompt, cand, exact, judged, note in rows)
    keys = ", ".join(f"{_esc(k)} {fmt(v)}" for k, v in ev["master_keys"].items())
    return (f"<h2>The judge ({_esc(ev['style'])})</h2><p class=\"note\">held-out candidates: accuracy "
            f"{fmt(a['accuracy'])}, AUROC {fmt(a['auroc'])}, false positives {fmt(a['false_positive_rate'])} of "
            f"{_esc(a['wrong'])} wrong · master keys judged yes: {keys}. The judge's side is marked correct "
            f"when its verdict agrees with the verifier's.</p>{cards}")


def write_report(ev: dict, run_dir: str, path: str) -> None:
    """Write the report of evaluation `ev` of the run in `run_dir` to `path` (a temporary file, then
    renamed: a crash never leaves half a page)."""
    samples = ev.get("samples", [])
    shown = f"{min(len(samples), MAX_SAMPLES)} of {len(samples)}" if len(samples) > MAX_SAMPLES else len(samples)
    wall = f" · evaluated in {ev['wall_seconds']:.0f} s" if isinstance(ev.get("wall_seconds"), (int, float)) else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>minireason · {_esc(run_dir)} · step {_esc(ev.get("step"))}</title><style>{CSS}</style></head><body>
<h1>minireason: <code>{_esc(run_dir)}</code>, step {_esc(ev.get("step"))}</h1>
<p class="meta">held-out problems, {_esc(ev.get("problems_per_difficulty"))} per family and difficulty ·
{_esc(ev.get("k"))} samples per problem at temperature {_esc(ev.get("temperature"))}{wall}</p>
<h2>Base model → final model</h2>
{table_html(ev)}
<p class="note">pass@k: some of k samples is right · maj@k: the most common answer of k samples is right ·
length in tokens · reflection: share of completions that check or revise · effective: share of
revisions that fix an error</p>
<h2>Figures</h2>
{figures_html(ev, run_dir)}
<h2>What the models write ({shown} problems)</h2>
<p class="note">Highlighted: <span class="ok">check E=V ok</span> a check that passed,
<span class="no">check E=V no</span> one that failed, <span class="wait">wait</span> a revision,
and the <span class="answer">answer</span> in bold.</p>
{"".join(sample_html(s) for s in samples[:MAX_SAMPLES])}
{judge_html(run_dir)}
</body></html>
"""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, path)
