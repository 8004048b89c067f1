"""The transfer experiment: its measures against hand-computed values, what each dial changes in the
corpus and in RL, the respelled families, and the sweep's bookkeeping (resume, refusal to mix)."""
import dataclasses
import hashlib
import importlib.util
import json
import os
from collections import Counter

import numpy as np
import pytest

from minireason import corpus, runfolder, traces, transfer
from minireason.config import ConfigError, override, preset, validate
from minireason.tasks import FAMILIES, heldout_set, is_heldout, problem_from_prompt, split_key
from minireason.tasks.arith import Noise
from minireason.tasks.respelled import respell
from minireason.verifiers import verify

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIPS = Noise(step_noise=0, first_pass_error=1, direct_noise=0, oneshot_guess=0)


def load_sweep():
    spec = importlib.util.spec_from_file_location("sweep", os.path.join(ROOT, "bench", "transfer.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------- the measures

def test_relative_gain_recovered_share_and_ti_by_hand():
    assert transfer.relative_gain(0.2, 0.3) == pytest.approx(0.5)
    assert transfer.relative_gain(0.0, 0.3) is None            # a zero base has no relative gain
    assert transfer.relative_gain(None, 0.3) is None
    assert transfer.recovered_share(0.1, 0.4) == pytest.approx(0.25)
    assert transfer.recovered_share(-0.05, 0.25) == pytest.approx(-0.2)   # the held-out target got worse
    assert transfer.recovered_share(0.1, 0.0) is None           # nothing to recover: null, never 0
    assert transfer.recovered_share(0.1, -0.1) is None
    assert transfer.recovered_share(None, 0.4) is None
    # target 0.2 -> 0.3 (+50%), sources 0.4 -> 0.6 (+50%) and 0.5 -> 0.6 (+20%): TI = 100 * 0.5 / 0.35
    assert transfer.transferability_index(0.5, [0.5, 0.2]) == pytest.approx(142.857, abs=1e-3)
    assert transfer.transferability_index(0.5, [0.1, -0.1]) is None      # sources gained nothing on average
    assert transfer.transferability_index(-0.5, [-0.2, -0.1]) is None    # two losses are not transfer
    row = {"base": {"accuracy": 0.2}, "final": {"accuracy": 0.5, "problems": 10}}
    assert transfer.gain_se(row, "accuracy") == pytest.approx(((0.16 + 0.25) / 10) ** 0.5)
    assert transfer.transferability_index(0.5, [0.5, None]) is None
    assert transfer.transferability_index(None, [0.5]) is None


def cell(acc, refl, problems=10, eff=None, length=20.0):
    return {"accuracy": acc, "reflection_rate": refl, "effective_reflection_rate": eff, "length_mean": length,
            "problems": problems}


def summary_of(rows: dict) -> dict:
    """A summary.json with by_family / by_family_difficulty rows: {family: ((base acc, refl), (final ...))}."""
    domains = {}
    for fam, (b, f) in rows.items():
        dom = "code" if fam.startswith(("write", "fill")) else "arith"
        rep = domains.setdefault(dom, {"by_family": {}, "by_family_difficulty": {}})
        rep["by_family"][fam] = {"base": cell(*b), "final": cell(*f)}
        rep["by_family_difficulty"][f"{fam}/1"] = {"base": cell(*b, problems=5), "final": cell(*f, problems=5)}
    return {"domains": domains}


def test_measures_by_hand():
    run = summary_of({"countdown": ((0.4, 0.2), (0.6, 0.8)), "sum": ((0.5, 0.1), (0.6, 0.3)),
                      "write": ((0.2, 0.1), (0.3, 0.4))})
    ref = summary_of({"countdown": ((0.4, 0.2), (0.6, 0.9)), "sum": ((0.5, 0.1), (0.7, 0.3)),
                      "write": ((0.2, 0.1), (0.6, 0.7))})
    block = transfer.measures(run, ["countdown", "sum"], ["write"], ref)
    w = block["targets"]["write"]
    assert w["accuracy"] == [0.2, 0.3] and w["reflection_rate"] == [0.1, 0.4] and w["problems"] == 10
    assert w["recovered_accuracy"] == pytest.approx(0.1 / 0.4)          # +0.1 held out, +0.4 in RL
    assert w["recovered_reflection"] == pytest.approx(0.3 / 0.6)
    assert w["ti"] == pytest.approx(100 * 0.5 / 0.35)
    assert w["in_rl_gain"]["accuracy"] == pytest.approx([0.4, ((0.16 + 0.24) / 10) ** 0.5])
    assert w["by_difficulty"]["1"]["recovered_accuracy"] == pytest.approx(0.25)
    assert w["by_difficulty"]["1"]["problems"] == 5
    alone = transfer.measures(run, ["countdown", "sum"], ["write"])      # no reference run: null shares
    assert alone["targets"]["write"]["recovered_accuracy"] is None
    assert alone["targets"]["write"]["ti"] == pytest.approx(w["ti"])


def test_summary_block_needs_a_left_out_family_and_a_fitting_reference(tmp_path):
    cfg = preset("transfer")
    run = summary_of({"countdown": ((0.4, 0.2), (0.6, 0.8)), "sum": ((0.5, 0.1), (0.6, 0.3)),
                      "add": ((0.5, 0.1), (0.6, 0.3)), "fill": ((0.2, 0.1), (0.3, 0.4))})
    everything = override(cfg, "rl.families", "")
    assert transfer.summary_block(everything, run, str(tmp_path)) is None      # RL on every family
    block = transfer.summary_block(cfg, run, str(tmp_path))
    assert block["sources"] == ["countdown", "sum", "add"] and list(block["targets"]) == ["fill"]
    assert block["reference"] is None and block["targets"]["fill"]["recovered_accuracy"] is None
    ref = summary_of({"countdown": ((0.4, 0.2), (0.6, 0.9)), "sum": ((0.5, 0.1), (0.7, 0.3)),
                      "add": ((0.5, 0.1), (0.7, 0.3)), "fill": ((0.2, 0.1), (0.6, 0.7))})
    stored = {"run": "/x/ref", "rl_families": ["countdown", "sum"], "families": list(cfg.data.families),
              "eval": dataclasses.asdict(cfg.eval), "summary": ref}
    runfolder.write_json(str(tmp_path / transfer.REFERENCE), stored)
    assert transfer.summary_block(cfg, run, str(tmp_path))["reference"] is None   # its RL left write out too
    runfolder.write_json(str(tmp_path / transfer.REFERENCE), {**stored, "rl_families": []})   # [] = every family
    block = transfer.summary_block(cfg, run, str(tmp_path))
    assert block["reference"] == "/x/ref"
    assert block["targets"]["fill"]["recovered_accuracy"] == pytest.approx(0.25)
    assert "recovered share: accuracy 0.25, reflection 0.50" in transfer.format_block(block)
    other_eval = {**stored, "rl_families": [], "eval": {**stored["eval"], "problems_per_difficulty": 16}}
    runfolder.write_json(str(tmp_path / transfer.REFERENCE), other_eval)
    assert transfer.summary_block(cfg, run, str(tmp_path))["reference"] is None   # other held-out problems
    older = {k: v for k, v in stored["eval"].items() if k != "samples_per_problem"}   # written before the field
    runfolder.write_json(str(tmp_path / transfer.REFERENCE), {**stored, "rl_families": [], "eval": older})
    assert transfer.summary_block(cfg, run, str(tmp_path))["reference"] == "/x/ref"   # its default: the same


def test_write_reference_keeps_a_finished_base_run(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    runfolder.write_json(str(base / "config.json"), {"rl": {"families": []}, "data": {"families": ["write"]},
                                                     "eval": {"problems_per_difficulty": 4}})
    transfer.write_reference(str(tmp_path), str(base))
    assert not (tmp_path / transfer.REFERENCE).exists()         # no summary yet: no reference
    runfolder.write_json(str(base / "summary.json"), {"domains": {}})
    transfer.write_reference(str(tmp_path), str(base))
    stored = runfolder.read_json(str(tmp_path / transfer.REFERENCE))
    assert stored["rl_families"] == [] and stored["summary"] == {"domains": {}}


# ----------------------------------------------------------------------------- the dials in the corpus

def test_exposure_fields_by_hand():
    d = preset("transfer").data                   # countdown, sum, add, fill at 0.25, 0.2, 0.2, 0.35
    out = transfer.exposure_fields(d, "fill", share=0.01)
    weights = [float(x) for x in out["data.corpus_weights"].split(",")]
    assert weights == pytest.approx([0.99 * 0.25 / 0.65, 0.99 * 0.2 / 0.65, 0.99 * 0.2 / 0.65, 0.01], abs=1e-5)
    out = transfer.exposure_fields(d, "fill", reflect=0.5)
    assert [float(x) for x in out["data.reflect_share"].split(",")] == pytest.approx([0.17, 0.17, 0.17, 0.5])


def shares(examples, family):
    fam = [e for e in examples if e.problem["family"] == family]
    return len(fam) / len(examples), Counter(e.style for e in fam)


def test_exposure_dial_sets_the_targets_share_of_the_corpus_only():
    cfg = preset("transfer")
    for key, value in transfer.exposure_fields(cfg.data, "fill", share=0.05).items():
        cfg = override(cfg, key, value)
    validate(cfg)
    examples = corpus.make_examples(cfg.data, 0, 6000)
    share, _ = shares(examples, "fill")
    assert share == pytest.approx(0.05, abs=0.01)
    assert cfg.data.family_weights == preset("transfer").data.family_weights   # RL and eval mix unchanged


def test_reflect_dial_sets_the_targets_reflective_share_and_keeps_the_others():
    cfg = preset("transfer")
    for key, value in transfer.exposure_fields(cfg.data, "fill", reflect=0.6).items():
        cfg = override(cfg, key, value)
    p = corpus.style_probabilities(cfg.data)
    assert p[3] == pytest.approx([0.4 * 0.38 / 0.83, 0.4 * 0.45 / 0.83, 0.6])
    assert p[0] == pytest.approx([0.38, 0.45, 0.17])
    examples = corpus.make_examples(cfg.data, 0, 6000)
    _, styles = shares(examples, "fill")
    assert styles["reflect"] / sum(styles.values()) == pytest.approx(0.6, abs=0.04)
    _, styles = shares(examples, "sum")
    assert styles["reflect"] / sum(styles.values()) == pytest.approx(0.17, abs=0.04)


def test_empty_dials_leave_the_corpus_exactly_as_it_was():
    cfg = preset("transfer")
    plain = corpus.make_examples(cfg.data, 3, 300)
    explicit = override(override(cfg, "data.corpus_weights", "0.25,0.2,0.2,0.35"),
                        "data.reflect_share", "0.17,0.17,0.17,0.17")
    assert corpus.make_examples(explicit.data, 3, 300) == plain


@pytest.mark.parametrize("key, value", [("data.corpus_weights", "0.5,0.5"), ("data.corpus_weights", "0,0,0,0"),
                                        ("data.reflect_share", "0.1,0.1,0.1,1.5"), ("data.reflect_share", "0.1")])
def test_bad_dial_values_are_config_errors(key, value):
    with pytest.raises(ConfigError, match=key.split(".")[1]):
        validate(override(preset("transfer"), key, value))


# ----------------------------------------------------------------------------- the notation dial

def test_respelled_traces_use_their_own_markers_and_parse_alike():
    plain, own = FAMILIES["write"], FAMILIES["write-own"]
    rng = np.random.default_rng(0)
    for _ in range(30):
        p = plain.sample(rng, 3)
        a = plain.trace(p, "reflect", np.random.default_rng(1), SLIPS)
        b = own.trace({**p, "family": "write-own"}, "reflect", np.random.default_rng(1), SLIPS)
        words = b.split("</think>")[0].split(" ")
        assert not {"check", "ok", "no", "wait"} & set(words) and {"test", "redo"} <= set(words)
        assert b == respell(a) and b.split("</think>")[1] == a.split("</think>")[1]
        ta, tb = traces.parse(a), traces.parse(b)
        assert (ta.checks, ta.revisions, ta.answer, tb.error) == (tb.checks, tb.revisions, tb.answer, "")


def test_the_parser_reads_each_spelling_but_not_a_mix():
    assert traces.parse("3+4=7 test 7-4=3 pass</think><answer>7</answer>").checks[0].verdict is True
    assert traces.parse("3+4=8 test 8-4=3 fail redo 3+4=7</think><answer>7</answer>").revisions
    for mixed in ("3+4=7 test 7-4=3 ok", "3+4=7 check 7-4=3 pass"):
        assert traces.parse(mixed + "</think><answer>7</answer>").thinking_error == "malformed check"


def test_respelled_families_hold_out_the_same_problems_and_grade_alike():
    for variant in ("write-own", "write-own-prompt", "fill-own-prompt", "countdown-own"):
        inner = variant.split("-")[0]
        a, b = heldout_set(0, [inner], [1, 2], 6, 10), heldout_set(0, [variant], [1, 2], 6, 10)
        assert [{**p, "family": inner} for p in b] == a
        assert all(split_key(p) == split_key({**p, "family": inner}) for p in b)
        assert all(is_heldout(p, 10) for p in b)
        p = b[0]
        assert verify(p, "</think><answer>" + FAMILIES[variant].correct_answer(p) + "</answer>").correct
    p = heldout_set(0, ["write-own-prompt"], [2], 1, 10)[0]
    text = FAMILIES["write-own-prompt"].prompt(p)
    assert text.startswith("code write ")
    assert problem_from_prompt(text, ["write-own-prompt"])["examples"] == p["examples"]
    assert problem_from_prompt(text[5:], ["write-own-prompt"]) is None          # its prompts carry the word


def test_the_default_corpora_are_those_before_the_dials():
    """The demo, demo-arith, smoke and course corpora and their parses, hashed: the value 0.2.0 (before
    the transfer dials and the second spelling of the markers) gives, so the demo is unchanged."""
    h = hashlib.sha256()
    for name in ("demo", "demo-arith", "smoke", "course"):
        for e in corpus.make_examples(preset(name).data, 0, 3000):
            h.update((e.prompt + e.completion + e.style).encode())
            t = traces.parse(e.completion)
            h.update(repr((t.steps, t.checks, t.revisions, t.answer, t.error)).encode())
    assert h.hexdigest()[:16] == "907acfbb73961ae7"


def test_fill_holds_out_countdowns_problems_and_rejects_other_programs():
    fill = FAMILIES["fill"]
    a, b = heldout_set(0, ["countdown"], [1, 2], 48, 10), heldout_set(0, ["fill"], [1, 2], 48, 10)
    assert [(p["numbers"], p["target"]) for p in a] == [(p["numbers"], p["target"]) for p in b]
    assert all(is_heldout({**p, "family": "countdown"}, 10) for p in b)   # never a countdown training problem
    p = {"family": "fill", "difficulty": 2, "numbers": [3, 5, 8], "target": 6}
    assert fill.prompt(p) == "x=3;x=x?5;x=x?8;print x gives 6"
    assert fill.check_answer(p, "x=3;x=x-5;x=x+8;print x") == (True, "")
    for wrong, reason in (("x=3;x=x+5;x=x+8;print x", "wrong value"), ("x=3;x=x-5;x=x+8;print x;print x",
                          "program differs from the prompt's"), ("x=3;x=x-4;x=x+7;print x", "program differs "
                          "from the prompt's"), ("print 6", "unparsable answer"), ("x=6;print x", "program differs "
                          "from the prompt's"), ("x=3;x=x-5;x=x+8;print x" + " " * 64, "program differs from the "
                          "prompt's")):
        assert fill.check_answer(p, wrong) == (False, reason)


def test_the_plain_corpus_never_writes_the_own_markers():
    examples = corpus.make_examples(preset("transfer").data, 0, 2000)
    words = {w for e in examples for w in e.completion.split("</think>")[0].split(" ")}
    assert not {"test", "pass", "fail", "redo"} & words


# ----------------------------------------------------------------------------- the sweep

def fake_runner(calls, finish=True):
    """Stands in for train.py: writes config.json and (when `finish`) a summary with a transfer block."""
    def run(args, folder):
        calls.append(args)
        os.makedirs(folder, exist_ok=True)
        if "--resume" not in args:
            sets = [a[2:] for a in args if a.startswith("--") and "=" in a]
            cfg = preset(args[args.index("--preset") + 1])
            for s in sets:
                cfg = override(cfg, *s.split("=", 1))
            from minireason.config import to_dict
            runfolder.write_json(os.path.join(folder, "config.json"), to_dict(cfg))
            if "--base" in args:                      # as adopt_base does, last
                runfolder.write_json(os.path.join(folder, transfer.REFERENCE), {"run": args[args.index("--base") + 1]})
        if not finish:
            raise KeyboardInterrupt
        cfg = json.load(open(os.path.join(folder, "config.json")))
        fams = cfg["data"]["families"]
        rows = {f: ((0.2, 0.1), (0.3, 0.4)) for f in fams}
        summary = summary_of(rows)
        sources = cfg["rl"]["families"] or fams
        targets = [f for f in fams if f not in sources]
        if targets:
            summary["transfer"] = transfer.measures(summary, sources, targets, summary)
            summary["transfer"]["reference"] = os.path.join(os.path.dirname(folder), "ref")
        summary["wall_seconds"] = {"total": 60.0 if "--base" in args else 300.0}
        runfolder.write_json(os.path.join(folder, "summary.json"), summary)
    return run


def fake_profiler(ref, run, family):
    cell = {"problems": 4, "base": {"accuracy": 0.25, "reflection_rate": 0.1},
            "heldout": {"accuracy": 0.5, "reflection_rate": 0.4},
            "reference": {"accuracy": 0.75, "reflection_rate": 0.7},
            "recovered_accuracy": 0.5, "recovered_reflection": 0.5,
            "in_rl_gain": {"accuracy": [0.5, 0.1], "reflection_rate": [0.6, 0.1]}}
    return {"k": 16, "bins": {b: cell for b in ("all", *transfer.EDGE_BINS)}, "samples": []}


def fake_sampler(ref, run, family):
    task = {"family": family, "difficulty": 1, "numbers": [3, 5], "target": 8}
    return [{"task": task, **{m: {"completion": "</think><answer>x=3;x=x+5;print x</answer>", "correct": True}
                              for m in ("base", "heldout", "reference")}}]


def test_sweep_runs_reference_then_heldout_and_finds_them_done(tmp_path):
    sweep_mod = load_sweep()
    calls = []
    sweep = sweep_mod.Sweep(str(tmp_path), "transfer", [], echo=lambda *_: None, runner=fake_runner(calls),
                            profiler=fake_profiler, sampler=fake_sampler)
    rows = sweep.point("diversity", "2", 0)
    assert len(calls) == 2 and "--rl.families=" in calls[0] and "--base" in calls[1]
    assert "--rl.families=countdown,sum" in calls[1]
    assert {r["family"] for r in rows} == {"add", "fill"}
    assert [r["main"] for r in rows if r["family"] == "fill"] == [True]
    sweep.record(rows)
    sweep.record(sweep.point("diversity", "2", 0))             # found done: no new run, rows replaced
    assert len(calls) == 2 and len(sweep.rows()) == 2
    sweep.point("notation", "own", 0)
    assert any("--data.families=countdown,sum,add,fill-own" in c for c in calls[2:])
    assert sweep_mod.wall_line(sweep.rows()) == ("wall time on this machine, median: reference run (pretraining, "
                                                 "RL, evaluation) 5.0 min, held-out run (RL, evaluation) 1.0 min")
    dest = tmp_path / "stored"
    sweep_mod.store(sweep, str(dest))
    assert (dest / "rows.jsonl").exists()
    assert (dest / "traces" / "notation-own-seed0-rl-countdown+sum+add.json").exists()
    text = sweep_mod.traces_text(str(dest))
    assert "notation-own-seed0-rl-countdown+sum+add: x=3;x=x?5;print x gives 8" in text
    assert sweep_mod.traces_text(str(dest)) == sweep_mod.traces_text(str(tmp_path))   # stored = live
    later = sweep_mod.Sweep(str(tmp_path / "later"), "transfer", [], echo=lambda *_: None, runner=fake_runner(calls),
                            profiler=fake_profiler, sampler=fake_sampler)
    later.record(later.point("diversity", "1", 0))
    sweep_mod.store(later, str(dest))                           # a later sweep's rows join the stored ones
    stored_rows = list(runfolder.Jsonl(str(dest / "rows.jsonl")).rows())
    assert sorted({r["value"] for r in stored_rows}) == ["1", "2"] and len(stored_rows) == 2 + 3
    other = sweep_mod.Sweep(str(tmp_path / "other"), "transfer", ["rl.steps=5"], echo=lambda *_: None,
                            runner=fake_runner(calls), profiler=fake_profiler, sampler=fake_sampler)
    with pytest.raises(sweep_mod.SweepError, match="another config"):
        sweep_mod.store(other, str(dest))                        # never mixes two configs' rows


def test_a_stopped_run_is_resumed_and_another_config_is_refused(tmp_path):
    sweep_mod = load_sweep()
    calls = []
    sweep = sweep_mod.Sweep(str(tmp_path), "transfer", [], echo=lambda *_: None, runner=fake_runner(calls, False),
                            profiler=fake_profiler, sampler=fake_sampler)
    with pytest.raises(KeyboardInterrupt):
        sweep.point("exposure", "0.05", 1)
    sweep.runner = fake_runner(calls)
    sweep.point("exposure", "0.05", 1)
    assert calls[1] == ["--resume", "--out", str(tmp_path / "runs" / "exposure0.05-seed1-ref")]
    assert any("--data.corpus_weights=0.365385,0.292308,0.292308,0.05" in c for c in calls[0])
    with pytest.raises(sweep_mod.SweepError, match="another --out"):
        sweep_mod.Sweep(str(tmp_path), "transfer", ["rl.steps=5"], echo=lambda *_: None)
    assert sweep_mod.Sweep(str(tmp_path), "transfer", ["rl.steps=5"], read_only=True).rows() == sweep.rows()
    # a held-out run killed while adopting its base (config.json written, reference.json not yet) starts again
    held = tmp_path / "runs" / "default-seed1-rl-countdown+sum+add"
    sweep.point("diversity", "3", 1)
    (held / transfer.REFERENCE).unlink()
    (held / "summary.json").unlink()
    before = len(calls)
    sweep.point("diversity", "3", 1)
    assert "--resume" not in calls[before] and "--base" in calls[before]
    assert (held / "code.txt").read_text() == sweep.code


def test_sweep_rejects_bad_values_and_says_when_code_versions_mix(tmp_path):
    sweep_mod = load_sweep()
    cfg = preset("transfer")
    for dial, value in (("exposure", "1.5"), ("notation", "secret"), ("diversity", "4"), ("edge", "7")):
        with pytest.raises(sweep_mod.SweepError, match=dial):
            sweep_mod.condition(cfg, dial, value)
    assert sweep_mod.condition(cfg, "exposure", "0.35")[0] == "default"      # the preset's own share
    assert sweep_mod.condition(cfg, "primitive", "without") == ("default", [], ("sum", "add"))   # no search in RL
    assert sweep_mod.condition(cfg, "primitive", "only")[2] == ("countdown",)
    with pytest.raises(sweep_mod.SweepError, match="primitive"):
        sweep_mod.condition(cfg, "primitive", "some")
    rows = [{"dial": "diversity", "value": "2", "seed": s, "family": "fill", "main": True, "code": c, "reference": "r",
             "accuracy": [0.2, 0.3], "reflection_rate": [0.1, 0.4], "recovered_accuracy": r, "problems": 9,
             "recovered_reflection": 0.6, "ti": 100.0} for s, c, r in ((0, "a", 0.5), (1, "b", 0.7))]
    assert "2 code versions" in sweep_mod.versions_note(rows)
    assert sweep_mod.verdict(rows, seeds=2) == ["diversity=2: recovers >= 50% of both gains on all 2 seeds"]
    assert sweep_mod.verdict(rows) == ["diversity=2: recovers >= 50% of both gains on all 2 seeds: "
                                       "not the bar (2 of the bar's 3 seeds)"]           # short of seeds
    assert "| diversity | 2 † | 2 | 0.20 → 0.30 | 0.60 [0.50–0.70] |" in sweep_mod.table(rows)   # seeds' codes differ
    assert "† its rows come from more than one code version" in sweep_mod.table(rows)
    same = [{**r, "code": "a"} for r in rows]
    assert "| diversity | 2 | 2 |" in sweep_mod.table(same) and "†" not in sweep_mod.table(same)
    assert "†" in sweep_mod.table([{**same[0], "reference_code": "b"}, same[1]])     # a run and its reference
    rows[1]["in_rl_gain"] = {"accuracy": [0.05, 0.04]}                     # 0.05 < 2 x 0.04: noise
    assert sweep_mod.verdict(rows, seeds=2) == ["diversity=2: recovers >= 50% of both gains on all 2 seeds: not the "
                                                "bar (the in-RL accuracy gain is under 2 standard errors on seed 1)"]
    rows[1]["in_rl_gain"] = {"accuracy": [0.05, 0.02], "reflection_rate": [0.003, 0.002]}   # reflection's is noise
    assert sweep_mod.verdict(rows, seeds=2)[0].endswith("(the in-RL reflection gain is under 2 standard errors on "
                                                        "seed 1)")
    rows[1]["in_rl_gain"] = {"accuracy": [-0.05, 0.04]}                    # a loss: the share is undefined, not noise
    assert sweep_mod.verdict(rows, seeds=2) == ["diversity=2: recovers >= 50% of both gains on all 2 seeds"]
    rows[0]["recovered_accuracy"] = None
    assert sweep_mod.verdict(rows, seeds=2)[0] == ("diversity=2: accuracy undefined on some seed (no in-RL gain); "
                                                   "reflection >= 50% on all 2 seeds")
    low = [{**r, "recovered_accuracy": -0.2, "recovered_reflection": 0.1, "in_rl_gain": None} for r in rows]
    assert sweep_mod.verdict(low, seeds=2) == ["diversity=2: recovers <= 15% of both gains on all 2 seeds"]
    rows[0]["reference"] = None
    assert "no reference run" in sweep_mod.verdict(rows)[0]
    empty = [{**r, "problems": 0, "in_rl_gain": None} for r in rows]
    assert sweep_mod.verdict(empty) == ["diversity=2: no problems in this bin"]
    assert sweep_mod.spread(sweep_mod.aggregate(rows, "recovered_accuracy")) == "0.70 [0.70–0.70]"
    assert sweep_mod.spread(sweep_mod.aggregate(rows, "recovered_accuracy"), n=2) == "0.70 [0.70–0.70] (1 of 2)"
    assert sweep_mod.spread(sweep_mod.aggregate(rows, "recovered_reflection"), n=2) == "0.60 [0.60–0.60]"
    assert sweep_mod.canonical("reflect", "0.50") == "0.5" and sweep_mod.canonical("notation", "own") == "own"
    with pytest.raises(sweep_mod.SweepError, match="not a number"):
        sweep_mod.canonical("exposure", "half")


def test_the_table_strict_keeps_only_rows_of_todays_code(tmp_path, capsys):
    sweep_mod = load_sweep()
    today = sweep_mod.code_version()
    row = {"dial": "diversity", "value": "2", "family": "fill", "main": True, "reference": "r", "problems": 9,
           "accuracy": [0.2, 0.3], "reflection_rate": [0.1, 0.4], "recovered_accuracy": 0.5,
           "recovered_reflection": 0.6, "ti": 100.0}
    rows = [{**row, "seed": 0, "code": today, "reference_code": today},
            {**row, "seed": 1, "code": today, "reference_code": "old"},       # its reference is older code
            {**row, "seed": 2, "code": "old", "reference_code": "old"}]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert sweep_mod.main(["--table", "--strict", "--out", str(tmp_path), "--plot", str(tmp_path / "t.png")]) == 0
    assert "| diversity | 2 | 1 |" in capsys.readouterr().out
    assert sweep_mod.main(["--table", "--out", str(tmp_path), "--plot", str(tmp_path / "t.png")]) == 0
    assert "| diversity | 2 † | 3 |" in capsys.readouterr().out
    assert sweep_mod.main(["--table", "--strict", "--out", str(tmp_path / "none")]) == 0
    assert "no rows made by this code" in capsys.readouterr().out


def test_edge_bins_by_hand():
    assert [transfer.edge_bin(c, 16) for c in (0, 1, 7, 8, 16)] == ["beyond", "edge", "edge", "solved", "solved"]


def test_paired_gain_by_hand():
    mean, se = transfer.paired_gain(np.array([0.0, 0.5, 0.5]), np.array([0.5, 0.5, 1.0]))   # +0.5, 0, +0.5
    assert mean == pytest.approx(1 / 3) and se == pytest.approx(np.std([0.5, 0, 0.5], ddof=1) / 3 ** 0.5)
    assert transfer.paired_gain(np.array([]), np.array([])) is None
    assert transfer.paired_gain(np.array([0.0]), np.array([1.0])) == [1.0, None]


def test_target_profile_on_a_trained_run(smoke_run):
    run, _ = smoke_run
    prof = transfer.target_profile(run, run, "sum", k=4, per=3, echo=lambda *_: None)
    bins = {b: prof["bins"][b] for b in transfer.EDGE_BINS}
    assert list(prof["bins"]) == ["all", *transfer.EDGE_BINS] and sum(b["problems"] for b in bins.values()) == 6
    assert prof["bins"]["all"]["problems"] == 6
    assert prof["samples"] and all(s["base"]["completion"] is not None for s in prof["samples"])
    for b in bins.values():
        if b["problems"] == 0:
            assert b["base"]["accuracy"] is None and b["recovered_accuracy"] is None
        else:
            assert all(0 <= b[m][k] <= 1 for m in ("base", "heldout", "reference")
                       for k in ("accuracy", "reflection_rate"))
            expected = transfer.recovered_share(b["heldout"]["accuracy"] - b["base"]["accuracy"],
                                                b["reference"]["accuracy"] - b["base"]["accuracy"])
            assert b["recovered_accuracy"] == expected


def test_sweep_edge_rows_come_from_the_profile_of_the_default_condition(tmp_path):
    sweep_mod = load_sweep()
    calls, profiled = [], []

    def profiler(ref, run, family):
        profiled.append((os.path.basename(ref), os.path.basename(run), family))
        return fake_profiler(ref, run, family)

    sweep = sweep_mod.Sweep(str(tmp_path), "transfer", [], echo=lambda *_: None, runner=fake_runner(calls),
                            profiler=profiler, sampler=fake_sampler)
    rows = sweep.point("edge", "edge", 2)
    sweep.point("edge", "beyond", 2)                              # the profile is cached in profile.json
    main = sweep.point("diversity", "3", 2)                       # the same runs, all problems
    assert profiled == [("default-seed2-ref", "default-seed2-rl-countdown+sum+add", "fill")]
    assert [r["family"] for r in rows] == ["fill"] and rows[0]["ti"] is None
    assert rows[0]["accuracy"] == [0.25, 0.5] and rows[0]["reference_accuracy"] == 0.75
    assert rows[0]["recovered_accuracy"] == 0.5 and rows[0]["problems"] == 4
    assert main[0]["one_sample"]["accuracy"] == [0.2, 0.3] and main[0]["in_rl_gain"]["accuracy"] == [0.5, 0.1]
    # TI from the profile's accuracy (0.25 -> 0.5: ΔR 1.0) over the sources' (0.2 -> 0.3: ΔR 0.5): 100 · 1.0 / 0.5
    assert main[0]["ti"] == pytest.approx(200.0) and main[0]["one_sample"]["ti"] == pytest.approx(100.0)


def test_in_rl_the_target_is_held_out_and_a_respelled_target_keeps_its_spelling():
    from minireason import rl
    from minireason.corpus import prompt_text
    cfg = preset("transfer")
    families = rl.rl_families(cfg.data, cfg.rl.families)[0]
    problems = rl.prompt_batch(np.random.default_rng(0), cfg.data, rl.Curriculum(families, (1, 2), True), 100, 1,
                               cfg.rl.families)
    assert {p["family"] for p in problems} == {"countdown", "sum", "add"}          # the diversity dial's 3
    own = override(override(cfg, "data.families", "countdown,sum,add,fill-own-prompt"), "rl.families", "")
    families = rl.rl_families(own.data)[0]
    problems = rl.prompt_batch(np.random.default_rng(0), own.data, rl.Curriculum(families, (1, 2), True), 100, 1)
    target = [p for p in problems if p["family"] == "fill-own-prompt"]
    assert target and all(prompt_text(p).startswith("code x=") for p in target)


def test_target_samples_show_each_model_on_the_same_problems(smoke_run):
    run, _ = smoke_run
    shown = transfer.target_samples(run, run, "sum", per=1, echo=lambda *_: None)
    assert [s["task"]["difficulty"] for s in shown] == [1, 2]
    assert all(s["heldout"] == s["reference"] and isinstance(s["base"]["completion"], str) for s in shown)


def test_sweep_plot_draws_every_dial_with_seed_error_bars(tmp_path):
    pytest.importorskip("matplotlib")
    sweep_mod = load_sweep()
    rows = [{"dial": d, "value": v, "seed": s, "family": "fill", "main": True, "code": "a", "reference": "r",
             "accuracy": [0.2, 0.3 + 0.01 * s], "reflection_rate": [0.1, 0.4], "recovered_accuracy": 0.1 * s,
             "recovered_reflection": None if d == "edge" else 0.5, "ti": None if d == "edge" else 50.0}
            for d in ("exposure", "edge") for v in sweep_mod.DIALS[d] for s in (0, 1, 2)]
    path = tmp_path / "transfer.png"
    sweep_mod.plot(rows, str(path))
    assert path.stat().st_size > 10_000
