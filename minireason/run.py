"""The whole pipeline of `python train.py`: corpus -> tokenizer -> pretraining -> RL -> evaluation.

Each stage checkpoints into the run folder (see runfolder.py) and `resume=True` picks up where the
last checkpoint left off. Randomness is a pure function of (seed, step): the RL step's sampling key is
fold_in(key, step) and its prompts come from a generator seeded with (seed, step), so a resumed run
draws exactly what the uninterrupted run would have drawn.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import time

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from minireason import (alarms, calibration, checkpoint, corpus, frontier, heldout, metrics, plots, pretrain, rl,
                        runfolder, sampling, sharding, transfer)
from minireason import judge as judge_lib
from minireason import model as model_lib
from minireason.config import Config, from_dict, to_dict, validate
from minireason.metrics import fmt
from minireason.tasks import heldout_set
from minireason.tokenizer import Tokenizer

SUMMARY_KEYS = ("accuracy", "length_mean", "reflection_rate", "effective_reflection_rate")
COUNT_KEYS = ("problems", "count", "revisions")     # the denominators the rates above rest on
PROBE_KEYS = SUMMARY_KEYS + ("revisions", "step_accuracy", "check_accuracy", "style_share_direct", "style_share_step",
                             "style_share_reflect")
LEVEL_KEYS = ("accuracy", "length_mean", "reflection_rate")   # per difficulty, under the frontier curriculum
HELDOUT_TRACES = 512      # traces for the held-out pretraining loss


def open_run_folder(cfg: Config, out: str, resume: bool) -> Config:
    """Create or reopen the run folder; returns the config to use (the stored one on resume)."""
    cfg_path = os.path.join(out, "config.json")
    if os.path.exists(out) and not os.path.isdir(out):
        raise runfolder.RunFolderError(f"--out {out} is a file, not a folder")
    if resume:
        if not os.path.exists(cfg_path):
            raise runfolder.RunFolderError(f"nothing to resume: {out} holds no config.json")
        stored = validate(from_dict(runfolder.read_json(cfg_path)))
        return dataclasses.replace(stored, mesh=cfg.mesh)       # the devices are this command's, not the run's
    if os.path.exists(cfg_path):
        raise runfolder.RunFolderError(f"{out} already holds a run; pass --resume to continue it, "
                                       "or pick another --out")
    sharding.sync("run folder checked")      # several hosts: every one has checked before the first writes
    os.makedirs(out, exist_ok=True)
    runfolder.write_json(cfg_path, to_dict(cfg))
    return cfg


BASE_SECTIONS = ("seed", "model", "data", "pretrain")   # what makes two runs' base models the same


def adopt_base(cfg: Config, out: str, base: str) -> None:
    """Start the new run in `out` from the base model of the run folder `base` (`train.py --base`).

    Copies its tokenizer, pretraining checkpoints, pretraining rows of metrics.jsonl and (when the
    eval section matches too) its base evaluation, so the new run skips straight to RL: runs that
    differ only in RL (loss, KL, curriculum) then start from the very same model. RunFolderError
    when `base` holds no finished pretraining or was made with another seed/model/data/pretrain config.
    """
    base_cfg = validate(from_dict(runfolder.read_json(os.path.join(base, "config.json"))))
    mine, theirs = to_dict(cfg), to_dict(base_cfg)
    differ = [k for k in BASE_SECTIONS if mine[k] != theirs[k]]
    if differ:
        raise runfolder.RunFolderError(f"--base {base} was made with another {', '.join(differ)}: its base "
                                       "model is not this run's")
    ckpts = os.path.join(base, "pretrain")
    if not os.path.exists(checkpoint.checkpoint_path(ckpts, cfg.pretrain.steps)):
        raise runfolder.RunFolderError(f"--base {base} has no finished pretraining (no checkpoint at step "
                                       f"{cfg.pretrain.steps} in {ckpts})")
    if not runfolder.WRITER:                 # several hosts: every one checked, the first one copies
        return
    shutil.copy2(os.path.join(base, "tokenizer.model"), os.path.join(out, "tokenizer.model"))
    shutil.copytree(ckpts, os.path.join(out, "pretrain"), dirs_exist_ok=True)
    rows = [r for r in runfolder.Jsonl(os.path.join(base, "metrics.jsonl")).rows() if r["stage"] == "pretrain"]
    log = runfolder.Jsonl(os.path.join(out, "metrics.jsonl"))
    for row in rows:
        log.write(row)
    if mine["eval"] == theirs["eval"] and os.path.exists(os.path.join(base, "eval_base.json")):
        shutil.copy2(os.path.join(base, "eval_base.json"), os.path.join(out, "eval_base.json"))
    transfer.write_reference(out, base)      # a finished base run is the transfer measures' reference


def build_tokenizer(cfg: Config, out: str, examples) -> Tokenizer:
    """Load the run's tokenizer, or train it on the corpus and save it in the run folder."""
    path = os.path.join(out, "tokenizer.model")
    if not os.path.exists(path) and runfolder.WRITER:       # several hosts: the first trains, the rest read
        texts = [e.prompt + e.completion for e in examples[:20000]]
        symbols = calibration.TAGS if cfg.data.confidence != "none" else ()
        Tokenizer.train(texts, cfg.data.vocab_size, path, symbols=symbols)
    sharding.sync("tokenizer")
    return Tokenizer.load(path)


def run_pretraining(cfg: Config, out: str, graphdef, params, tok, examples, log, echo):
    """Next-token pretraining with checkpoints in out/pretrain; returns (base params, wall seconds)."""
    p = cfg.pretrain
    row_len = cfg.data.prompt_len + cfg.data.completion_len
    packed, dropped = corpus.pack(examples, tok, row_len, cfg.data.prompt_len, cfg.data.completion_len)
    if dropped:
        echo(f"{dropped} of {len(examples)} traces exceed data.completion_len={cfg.data.completion_len} tokens "
             "and are left out of pretraining")
    heldout_rows, _ = corpus.pack(corpus.make_examples(cfg.data, cfg.seed, HELDOUT_TRACES, heldout=True), tok,
                                  row_len, cfg.data.prompt_len, cfg.data.completion_len)
    heldout_batch = tuple(jnp.asarray(a[: min(len(heldout_rows.tokens), 64)]) for a in heldout_rows)
    return pretrain.fit(p, os.path.join(out, "pretrain"), graphdef, params, packed, heldout_batch, log, cfg.seed, echo)


def make_curriculum(cfg: Config, tok, graphdef, generate, echo=print):
    """RL's curriculum and its sampler, () -> (generate, extra row fields): rl.Curriculum's
    edge-of-competence sampling with the run's one sampler, or (frontier.start > 0) the frontier
    curriculum of frontier.py, whose thinking budget grows through frontier.budgets."""
    d, f = cfg.data, cfg.frontier
    families = rl.rl_families(d, cfg.rl.families)[0]
    if not f.start:
        return rl.Curriculum(families, d.difficulties, cfg.rl.curriculum), lambda: (generate, {})
    front = frontier.Frontier(families, f.start, max(d.difficulties), f.threshold, f.easy_share,
                              patience=f.patience)

    def make(width):
        return generate if width == d.completion_len else \
            sampling.make_generate(graphdef, cfg.model, width, tok.pad_id, tok.eos_id)
    need = frontier.needs(d, families, cfg.seed, tok)
    sampler = frontier.Budgeted(front, f.budgets or (d.completion_len,), need, make)
    echo(frontier.describe(need, sampler.sizes))
    return front, sampler


def run_rl(cfg: Config, out: str, graphdef, base_params, tok, generate, log, samples, probe, echo,
           reward=rl.exact_reward):
    """The RL stage with checkpoints in out/rl; returns (final params, wall seconds).

    probe(params) -> metrics of a fixed held-out subset, logged as heldout_* every rl.eval_every steps
    (the training-batch metrics follow the curriculum's mix of difficulties; these do not), with
    heldout_{domain}_* beside them when the run evaluates more than one domain.
    """
    r, d = cfg.rl, cfg.data
    optimizer = rl.make_optimizer(r)
    update, token_logp = rl.make_update(graphdef, optimizer, r, tok.pad_id)
    kl_to_base = rl.make_kl(graphdef, tok.pad_id, r.temperature)
    curriculum, sampler = make_curriculum(cfg, tok, graphdef, generate, echo)
    alarm = alarms.Alarms(cfg.alarms)
    state = {"params": base_params, "opt_state": optimizer.init(base_params)}
    folder = os.path.join(out, "rl")
    found = checkpoint.load_latest(folder, state, warn=echo)
    start, wall = 0, 0.0
    if found:
        state, meta, _ = found
        start, wall = meta["step"], meta["wall"]
        curriculum.load(meta["curriculum"])
        alarm.load(meta.get("alarms", {}))
    state = sharding.state(state)                 # onto the mesh (a checkpoint holds host arrays)
    log.truncate_after("rl", start)
    samples.truncate_after(None, start)
    params, opt_state = state["params"], state["opt_state"]
    key = jax.random.fold_in(jax.random.key(cfg.seed), 1)
    t0, last_kl = time.time() - wall, None
    bar = tqdm(range(start, r.steps), initial=start, total=r.steps, desc="rl", dynamic_ncols=True)
    domain_keys = PROBE_KEYS + (metrics.CALIBRATION_KEYS if d.confidence != "none" else ())
    snapshot, last_checkpoint = None, start    # the last completed step, saved if Ctrl-C stops the loop
    try:
        for step in bar:
            done = step + 1
            generate_now, extra = sampler()          # the run's sampler, or the frontier's budget
            params, opt_state, row, graded, batch, rewards = rl.rl_step(
                step, params, opt_state, base_params, key=key, seed=cfg.seed, data=d, cfg=r, tokenizer=tok,
                generate=generate_now, update=update, token_logp=token_logp, curriculum=curriculum,
                domain_keys=domain_keys, reward=reward)
            row.update(extra)
            alarms.check_finite(done, row, last_checkpoint)     # NaN/inf: stop before anything is saved
            if done % r.eval_every == 0 or done == r.steps:
                row.update({f"heldout_{k}": v for k, v in probe(params).items()})
                if "kl" not in row:             # beta = 0: the update skipped the reference; measure KL here
                    row["kl"] = float(kl_to_base(params, base_params, batch))
            row.setdefault("kl", None)          # null between measurements (beta = 0)
            last_kl = row["kl"] if row["kl"] is not None else last_kl
            row["alarms"], messages = alarm.check(row)
            for message in messages:
                bar.write(message)
            log.write(row)
            if done % r.samples_every == 0 or done == 1:
                for i in range(0, len(graded), r.group_size):
                    g = graded[i]
                    samples.write({"step": done, "task": g.problem, "completion": g.completion,
                                   "reward": g.verdict.reward, "trained_reward": float(rewards[i])})
            judged = {"judge": f"{row['judge_reward']:.2f}"} if "judge_reward" in row else {}   # rl.reward=judge
            bar.set_postfix(reward=f"{row['reward']:.2f}", **judged, len=f"{row['length_mean']:.0f}",
                            refl=f"{row['reflection_rate']:.2f}", kl="-" if last_kl is None else f"{last_kl:.3f}")
            meta = {"step": done, "curriculum": curriculum.state(), "alarms": alarm.state()}
            if done % r.checkpoint_every == 0 or done == r.steps:
                checkpoint.save_checkpoint(folder, done, {"params": params, "opt_state": opt_state},
                                           {**meta, "wall": time.time() - t0})
                last_checkpoint = done
            snapshot = (params, opt_state, meta)
    except KeyboardInterrupt:
        if snapshot:
            params, opt_state, meta = snapshot
            done = meta["step"]
            checkpoint.save_checkpoint(folder, done, {"params": params, "opt_state": opt_state},
                                       {**meta, "wall": time.time() - t0})
            echo(f"\ninterrupted: saved a checkpoint at RL step {done}")
        raise
    return params, time.time() - t0


DIFFICULTY_KEYS = SUMMARY_KEYS + COUNT_KEYS + (
    "accuracy_reflect", "accuracy_noreflect", "count_reflect", "count_noreflect", "step_accuracy", "steps",
    "check_accuracy", "checks", "truncation_rate", "style_share_direct", "style_share_step",
    "style_share_reflect")


def _pick(report: dict, keys) -> dict:
    return {k: report[k] for k in keys}


def make_summary(base: dict, final: dict, wall: dict) -> dict:
    """summary.json: per domain, base vs final on the same held-out problems, overall and per difficulty."""
    domains = {}
    for dom in final:
        b, f = base[dom], final[dom]
        domains[dom] = {
            "base": _pick(b, SUMMARY_KEYS + COUNT_KEYS), "final": _pick(f, SUMMARY_KEYS + COUNT_KEYS),
            "by_difficulty": {d: {"base": _pick(b["by_difficulty"][d], DIFFICULTY_KEYS),
                                  "final": _pick(f["by_difficulty"][d], DIFFICULTY_KEYS)}
                              for d in f["by_difficulty"]},
            "by_family": {fam: {"base": _pick(b["by_family"][fam], DIFFICULTY_KEYS),
                                "final": _pick(f["by_family"][fam], DIFFICULTY_KEYS)}
                          for fam in f["by_family"]},
            "by_family_difficulty": {k: {"base": _pick(b["by_family_difficulty"][k], DIFFICULTY_KEYS),
                                         "final": _pick(f["by_family_difficulty"][k], DIFFICULTY_KEYS)}
                                     for k in f["by_family_difficulty"]},
        }
    return {"domains": domains, "wall_seconds": wall}


def style_line(name: str, report: dict) -> str:
    """One line per domain: accuracy and, per trace style, share / accuracy (RL amplifies the styles
    that are more accurate than the group, so this line predicts the run)."""
    parts = []
    for dom, rep in report.items():
        styles = ", ".join(f"{s} {rep[f'style_share_{s}']:.2f}/{fmt(rep[f'accuracy_{s}'])}"
                           for s in ("direct", "step", "reflect"))
        parts.append(f"{name} {dom}: accuracy {rep['accuracy']:.2f} on {rep['problems']} problems; "
                     f"by style (share/accuracy): {styles}")
    return "\n".join(parts)


def format_summary(summary: dict) -> str:
    """The before/after table printed at the end of train.py."""
    lines = []
    for dom, rep in summary["domains"].items():
        lines.append(f"held-out {dom} ({rep['final']['problems']} distinct problems): base -> final")
        lines.append(f"  {'':28s}{'base':>8s}{'final':>8s}")
        for k in SUMMARY_KEYS + ("revisions",):
            spec = "8d" if k == "revisions" else "8.3f"
            lines.append(f"  {k:28s}{fmt(rep['base'][k], spec):>8s}{fmt(rep['final'][k], spec):>8s}")
        for d, row in rep["by_difficulty"].items():
            b, f = row["base"], row["final"]
            lines.append(f"  difficulty {d} ({f['problems']} problems): accuracy {b['accuracy']:.2f} -> "
                         f"{f['accuracy']:.2f}, length {b['length_mean']:.0f} -> {f['length_mean']:.0f}, "
                         f"reflection {b['reflection_rate']:.2f} -> {f['reflection_rate']:.2f}")
        for cell, row in rep["by_family_difficulty"].items():
            b, f = row["base"], row["final"]
            lines.append(f"    {cell:12s} {f['problems']:3d} problems: accuracy {b['accuracy']:.2f} -> "
                         f"{f['accuracy']:.2f}, reflection {b['reflection_rate']:.2f} -> {f['reflection_rate']:.2f}, "
                         f"effective {fmt(b['effective_reflection_rate'])} -> {fmt(f['effective_reflection_rate'])}")
    w = summary["wall_seconds"]
    lines.append("wall seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in w.items()))
    return "\n".join(lines)


def heldout_report(cfg: Config, generate, tok, params) -> dict:
    """metrics.report of eval.samples_per_problem completions (one by default) of each held-out problem
    (eval.problems_per_difficulty per family and difficulty, fewer where a cell holds fewer), sampled
    with the run's fixed evaluation key: the same completions for the same parameters, so
    bench/regrade.py can rebuild a summary from checkpoints."""
    d, e = cfg.data, cfg.eval
    problems = heldout_set(cfg.seed, d.families, d.difficulties, e.problems_per_difficulty, d.heldout_percent)
    key = jax.random.fold_in(jax.random.key(cfg.seed), 2)
    graded = heldout.sample_and_grade(generate, params, key, tok, problems, e.batch_size, d.prompt_len,
                                      e.temperature, e.samples_per_problem)
    return metrics.report(graded)


def run(cfg: Config, out: str, resume: bool = False, echo=print, base: str | None = None) -> dict:
    """Run (or resume) the whole pipeline in `out`; returns the summary dict. With `base` (a run folder),
    start from that run's base model instead of pretraining (see adopt_base)."""
    t_total = time.time()
    cfg = validate(cfg)
    mesh = sharding.make_mesh(cfg.mesh)                   # every device, unless the config says otherwise
    if not resume:
        sharding.check_batches(cfg, mesh)                 # before the folder is made
    cfg = open_run_folder(cfg, out, resume)
    sharding.check_batches(cfg, mesh)                     # (on resume: the stored config's batches)
    sharding.sync("run folder")                           # several hosts: the first one has written it
    if not runfolder.WRITER:
        echo = _quiet                                     # several hosts: the first one reports
    if mesh.size > 1:
        echo(sharding.describe(mesh))
    # one process at a time in a run folder (the first of several hosts holds the lock for all)
    with runfolder.lock(out) if runfolder.WRITER else contextlib.nullcontext(), sharding.use(mesh):
        return _pipeline(cfg, out, resume, echo, base, t_total)


def _quiet(*args) -> None:
    """The echo of every process but the first of a multi-host run."""


def _pipeline(cfg: Config, out: str, resume: bool, echo, base: str | None, t_total: float) -> dict:
    """The stages of `run`, in the open and locked run folder."""
    if base is not None and not resume:
        adopt_base(cfg, out, base)
        sharding.sync("base")
    d = cfg.data
    metrics_path, samples_path = os.path.join(out, "metrics.jsonl"), os.path.join(out, "samples.jsonl")

    examples = corpus.make_examples(d, cfg.seed, d.corpus_size)
    tok = build_tokenizer(cfg, out, examples)
    graphdef, params = model_lib.init(cfg.model, tok.vocab_size, cfg.seed)
    echo(f"model: {model_lib.count_params(params):,} parameters; vocabulary {tok.vocab_size}; "
         f"corpus {len(examples):,} traces")

    log, samples = runfolder.Jsonl(metrics_path), runfolder.Jsonl(samples_path)

    wall = {}
    base_params, wall["pretrain"] = run_pretraining(cfg, out, graphdef, params, tok, examples, log, echo)

    generate = sampling.make_generate(graphdef, cfg.model, d.completion_len, tok.pad_id, tok.eos_id)
    eval_problems = heldout_set(cfg.seed, d.families, d.difficulties, cfg.eval.problems_per_difficulty,
                                d.heldout_percent)
    eval_key = jax.random.fold_in(jax.random.key(cfg.seed), 2)
    e = cfg.eval

    def held_out(params):
        return heldout_report(cfg, generate, tok, params)

    base_path = os.path.join(out, "eval_base.json")
    t0 = time.time()
    base_eval = runfolder.read_json(base_path) if os.path.exists(base_path) else None
    if base_eval is not None and not all("problems" in rep for rep in base_eval.values()):
        base_eval = None                 # written before today's metrics (no distinct counts): redo it
    if base_eval is None:
        echo("evaluating the base model on held-out problems ...")
        base_eval = held_out(base_params)
        runfolder.write_json(base_path, base_eval)
    echo(style_line("base model", base_eval))
    wall_eval = time.time() - t0

    # rl.eval_problems of them, spread evenly over the list (so over every family and difficulty)
    pick = np.unique(np.linspace(0, len(eval_problems) - 1, cfg.rl.eval_problems).round().astype(int))
    probe_problems = [eval_problems[i] for i in pick]

    def probe(params):
        width = -(-len(probe_problems) // sharding.devices()) * sharding.devices()   # one batch, whole per device
        graded = heldout.sample_and_grade(generate, params, eval_key, tok, probe_problems, width,
                                          d.prompt_len, e.temperature)
        overall = metrics.summarize(graded)
        keys = PROBE_KEYS + tuple(k for k in metrics.CALIBRATION_KEYS if k in overall)   # confidence stated
        levels = metrics.per_difficulty(graded, LEVEL_KEYS) if cfg.frontier.start else {}   # per level
        return {**{k: overall[k] for k in keys}, **metrics.per_domain(graded, keys), **levels}

    reward, judge_eval = rl.exact_reward, None
    if cfg.rl.reward == "judge":           # a learned judge stands in for the verifier (judge.py)
        t0 = time.time()
        reward, judge_eval = judge_lib.prepare(cfg, out, generate, base_params, tok, log, echo)
        wall["judge"] = time.time() - t0
    elif cfg.rl.reward in calibration.REWARDS:   # the verifier's reward plus a scoring rule of the confidence
        reward = calibration.make_reward(cfg.rl.reward)
    final_params, wall["rl"] = run_rl(cfg, out, graphdef, base_params, tok, generate, log, samples, probe, echo,
                                      reward)

    t0 = time.time()
    echo("evaluating the final model on held-out problems ...")
    final_eval = held_out(final_params)
    echo(style_line("final model", final_eval))
    wall["eval"] = wall_eval + time.time() - t0
    wall["total"] = time.time() - t_total

    summary = make_summary(base_eval, final_eval, wall)
    if judge_eval is not None:
        summary["judge"] = {k: v for k, v in judge_eval.items() if k != "examples"}
    calibrated = None
    if cfg.data.confidence != "none":         # the run states its confidence (calibration.py)
        calibrated = summary["calibration"] = calibration.summary_block(base_eval, final_eval)
    climbed = frontier.summary_block(log.rows(), summary)   # None without the frontier curriculum
    if climbed is not None:
        summary["frontier"] = climbed
    block = transfer.summary_block(cfg, summary, out)     # None unless rl.families leaves a family out
    if block is not None:
        summary["transfer"] = block
    runfolder.write_json(os.path.join(out, "summary.json"), summary)
    echo(format_summary(summary))
    if calibrated is not None:
        echo(calibration.format_block(calibrated))
    if block is not None:
        echo(transfer.format_block(block))
    if climbed is not None:
        echo(frontier.format_block(climbed))
    if not runfolder.WRITER:
        return summary                   # several hosts: the first one draws
    if plots.available():
        plots.training_curves(log.rows(), os.path.join(out, "plots", "training.png"))
        echo(f"training curves: {os.path.join(out, 'plots', 'training.png')}")
        if calibrated is not None:
            plots.reliability(calibration.diagrams(calibrated), os.path.join(out, "plots", "reliability.png"))
            echo(f"reliability diagrams: {os.path.join(out, 'plots', 'reliability.png')}")
        if climbed is not None:
            plots.frontier_curves(log.rows(), os.path.join(out, "plots", "frontier.png"))
            echo(f"the frontier's curves: {os.path.join(out, 'plots', 'frontier.png')}")
    else:
        echo(plots.SKIPPED)
    return summary
