"""The transfer sweep: does reasoning learned by RL on arithmetic carry over to code, and under which
conditions? Runs the grid of one or more dials x seeds with the `transfer` preset, one row per
(run, held-out family) in OUT/rows.jsonl, then prints the table and draws the plot.

    python bench/transfer.py --dial exposure --seeds 0 1 2            # one dial
    python bench/transfer.py --dial all --seeds 0 1 2                 # every dial
    python bench/transfer.py --dial diversity --values 1 3 --seeds 0  # chosen values
    python bench/transfer.py --table                                  # the stored rows only, no runs
    python bench/transfer.py --dial all --set rl.steps=200 --set model.d_model=256 --out runs/transfer-gpu

The target is `fill` (code: fill the holes of a program, Countdown's search spelled as code); the
sources are the arithmetic families countdown, sum and add. Each condition is two runs on
the same base model: the *reference* (RL on every family, the target included) and the *held-out* run
(`train.py --base REF`, RL on the sources only), so every held-out row carries its recovered shares
(minireason/transfer.py). Dials and their values (the first value of each is the preset's own):

    exposure    the target's share of the pretraining corpus              0.35 0.01 0.001
    reflect     the share of the target's traces that reflect               0.17 0.5 0.0
    notation    the target's markers / prompt (tasks/respelled.py)            shared own own-prompt
    diversity   RL on 1, 2 or 3 arithmetic source families                  3 2 1
    primitive   the sources with the target's search (countdown), only it,   with only without
                or without it (sum and add: column arithmetic, no search)
    edge        the target's problems by the base model's 16 samples:       solved edge beyond
                pass@1 >= 0.5, pass@16 > 0 but pass@1 < 0.5, pass@16 = 0 (the default condition's runs,
                16 fresh samples per problem and model: profile.json of its held-out run)

Stopping and going on: a run folder with a summary is done; one without is resumed (`--resume`), so a
sweep stopped by Ctrl-C or a killed process continues where it stopped when the same command is run
again. OUT/sweep.json fixes the sweep's preset and --set overrides: another config into the same OUT
is refused, and so is storing (--store) into a folder that holds another config's rows. Each row
records the hash of the code that made its run and its reference; the table marks (†) a line whose rows
come from more than one code version, and `--strict` keeps only the rows made by today's code.

The verdict reads the bar off the rows: a condition recovers >= 50% (or <= 15%) of both in-RL gains on
every seed, with at least 3 seeds, and no seed's in-RL gain under two standard errors; a condition
short of seeds or resting on a noisy gain says so and is not counted.

Wall time on 2 CPU cores (medians of the stored sweep, printed by --table): about 16 minutes for a
reference run (pretraining, RL, evaluation) and 5.5 for each held-out run, so about 21 minutes for a
condition with a base model of its own; conditions sharing a base model share its reference.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from minireason import config as config_lib  # noqa: E402
from minireason import plots, runfolder, transfer  # noqa: E402

TARGET = "fill"
SOURCES = ("countdown", "sum", "add")
DIALS = {
    "exposure": ("0.35", "0.01", "0.001"),
    "reflect": ("0.17", "0.5", "0.0"),
    "notation": ("shared", "own", "own-prompt"),
    "diversity": ("3", "2", "1"),
    "primitive": ("with", "only", "without"),
    "edge": transfer.EDGE_BINS,
}
DEFAULT_OUT = os.path.join(ROOT, "runs", "transfer")


class SweepError(Exception):
    """A bad dial, value or output folder; one line for the user."""


def code_version() -> str:
    """A hash of the code that makes the numbers (minireason/ and train.py): rows remember it."""
    h = hashlib.sha256()
    paths = [os.path.join(ROOT, "train.py")]
    for folder, _, files in sorted(os.walk(os.path.join(ROOT, "minireason"))):
        paths += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
    for p in sorted(paths):
        h.update(os.path.relpath(p, ROOT).encode())
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


def base_config(preset: str, sets: list[str]):
    """The sweep's config before any dial: the preset with the --set overrides."""
    cfg = config_lib.preset(preset)
    for item in sets:
        key, _, value = item.partition("=")
        cfg = config_lib.override(cfg, key, value)
    return config_lib.validate(cfg)


def condition(cfg, dial: str, value: str) -> tuple[str, list[str], tuple[str, ...]]:
    """(base tag, the data overrides that make its base model, the RL source families) of one dial value."""
    d = cfg.data
    if dial == "exposure":
        share = float(value)
        if not 0 < share < 1:
            raise SweepError(f"exposure: {value} is not a share in (0, 1)")
        over = transfer.exposure_fields(d, TARGET, share=share)
        own = d.family_weights[d.families.index(TARGET)] / sum(d.family_weights)
        tag = "default" if abs(share - own) < 1e-9 else f"exposure{value}"
        return tag, [] if tag == "default" else [f"{k}={v}" for k, v in over.items()], SOURCES
    if dial == "reflect":
        share = float(value)
        if not 0 <= share <= 1:
            raise SweepError(f"reflect: {value} is not a share in [0, 1]")
        over = transfer.exposure_fields(d, TARGET, reflect=share)
        own = d.style_weights[2] / sum(d.style_weights)
        tag = "default" if abs(share - own) < 1e-9 else f"reflect{value}"
        return tag, [] if tag == "default" else [f"{k}={v}" for k, v in over.items()], SOURCES
    if dial == "notation":
        if value not in DIALS["notation"]:
            raise SweepError(f"notation: choose from {', '.join(DIALS['notation'])}, not {value!r}")
        if value == "shared":
            return "default", [], SOURCES
        families = ",".join(f"{TARGET}-{value}" if f == TARGET else f for f in d.families)
        return f"notation-{value}", [f"data.families={families}"], SOURCES
    if dial == "diversity":
        if value not in ("1", "2", "3"):
            raise SweepError(f"diversity: choose 1, 2 or 3 source families, not {value!r}")
        return "default", [], SOURCES[:int(value)]
    if dial == "primitive":                    # Countdown is the source that shares fill's search
        picks = {"with": SOURCES, "only": ("countdown",), "without": ("sum", "add")}
        if value not in picks:
            raise SweepError(f"primitive: choose from {', '.join(picks)}, not {value!r}")
        return "default", [], picks[value]
    if dial == "edge":
        if value not in transfer.EDGE_BINS:
            raise SweepError(f"edge: choose from {', '.join(transfer.EDGE_BINS)}, not {value!r}")
        return "default", [], SOURCES
    raise SweepError(f"unknown dial {dial!r}; choose from {', '.join(DIALS)} or all")


def canonical(dial: str, value: str) -> str:
    """A dial value as the sweep spells it: a share as Python prints the float (`0.50` -> `0.5`), so that
    one condition never gets two run folders; other values as given."""
    if dial in ("exposure", "reflect"):
        try:
            return str(float(value))
        except ValueError:
            raise SweepError(f"{dial}: {value!r} is not a number") from None
    return value


def target_of(families: str | tuple) -> str:
    """The target's name in a run's families (`fill`, or its respelled `fill-own...`)."""
    names = families.split(",") if isinstance(families, str) else families
    return next(f for f in names if f.split("-")[0] == TARGET)


class Sweep:
    """The runs of a sweep in OUT: each condition's reference and held-out run, resumable."""

    def __init__(self, out: str, preset: str, sets: list[str], echo=print, runner=None, profiler=None,
                 sampler=None, read_only: bool = False):
        self.out, self.preset, self.sets, self.echo = out, preset, list(sets), echo
        self.cfg = base_config(preset, sets)
        self.runner = runner or self._train
        self.profiler = profiler or (lambda ref, run, family: transfer.target_profile(ref, run, family,
                                                                                       echo=lambda *_: None))
        self.sampler = sampler or (lambda ref, run, family: transfer.target_samples(ref, run, family,
                                                                                     echo=lambda *_: None))
        self.code = code_version()
        self.rows_path = os.path.join(out, "rows.jsonl")
        if read_only:                          # --table: show what is stored, whatever config made it
            return
        os.makedirs(out, exist_ok=True)
        meta_path = os.path.join(out, "sweep.json")
        meta = {"preset": preset, "sets": self.sets}
        if os.path.exists(meta_path):
            stored = runfolder.read_json(meta_path)
            if stored != meta:
                raise SweepError(f"{out} holds a sweep of preset {stored['preset']} with --set "
                                 f"{' '.join(stored['sets']) or '(none)'}; pick another --out for this config")
        else:
            runfolder.write_json(meta_path, meta)

    def _train(self, args: list[str], folder: str) -> None:
        """One train.py run (its output in folder/train.log); SweepError when it fails."""
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "train.log"), "a") as log:
            rc = subprocess.call([sys.executable, os.path.join(ROOT, "train.py"), *args], stdout=log,
                                 stderr=subprocess.STDOUT, cwd=ROOT)
        if rc:
            raise SweepError(f"train.py {' '.join(args)} failed (exit {rc}); see {folder}/train.log")

    def ensure(self, name: str, args: list[str]) -> str:
        """The finished run folder OUT/runs/NAME: made, resumed, or found done."""
        folder = os.path.join(self.out, "runs", name)
        if os.path.exists(os.path.join(folder, "summary.json")):
            return folder
        resume = os.path.exists(os.path.join(folder, "config.json"))
        if resume and "--base" in args and not os.path.exists(os.path.join(folder, transfer.REFERENCE)):
            resume = False                     # killed while adopting its base model (written last)
        if not resume and os.path.exists(folder):
            shutil.rmtree(folder)              # killed before it really started: start again
        if not resume:
            os.makedirs(folder)
            with open(os.path.join(folder, "code.txt"), "w") as f:      # the code that makes this run
                f.write(self.code)
        self.echo(f"{'resuming' if resume else 'running'} {name}")
        if resume:
            self.runner(["--resume", "--out", folder], folder)
        else:
            self.runner(["--preset", self.preset, *[f"--{s}" for s in self.sets], *args, "--out", folder], folder)
        return folder

    def reference(self, tag: str, data_sets: list[str], seed: int) -> str:
        """The reference run of a base (RL on every family, the target included)."""
        return self.ensure(f"{tag}-seed{seed}-ref", [f"--seed={seed}", *[f"--{s}" for s in data_sets],
                                                     "--rl.families="])

    def heldout(self, tag: str, data_sets: list[str], sources, seed: int) -> str:
        ref = self.reference(tag, data_sets, seed)
        name = f"{tag}-seed{seed}-rl-{'+'.join(sources)}"
        return self.ensure(name, [f"--seed={seed}", *[f"--{s}" for s in data_sets],
                                  f"--rl.families={','.join(sources)}", "--base", ref])

    def cached(self, run: str, name: str, make) -> dict:
        """run/NAME, made by make() the first time."""
        path = os.path.join(run, name)
        if not os.path.exists(path):
            runfolder.write_json(path, make())
        return runfolder.read_json(path)

    def point(self, dial: str, value: str, seed: int) -> list[dict]:
        """Run (or find) one condition; its rows, one per held-out family. The target's row reads its
        measures from transfer.target_profile (16 samples per problem and model, the base model's
        problems binned for the edge dial); the other held-out families' rows read summary.json."""
        value = canonical(dial, value)
        tag, data_sets, sources = condition(self.cfg, dial, value)
        run, ref = self.heldout(tag, data_sets, sources, seed), self.reference(tag, data_sets, seed)
        config = runfolder.read_json(os.path.join(run, "config.json"))
        target = target_of(tuple(config["data"]["families"]))
        if not os.path.exists(os.path.join(run, "profile.json")):
            self.echo(f"profile of {os.path.basename(run)}: 16 samples per held-out {target} problem and model ...")
        profile = self.cached(run, "profile.json", lambda: self.profiler(ref, run, target))
        self.cached(run, "traces.json", lambda: self.sampler(ref, run, target))   # what the models write
        summary = runfolder.read_json(os.path.join(run, "summary.json"))
        block = summary.get("transfer")
        if not block:
            raise SweepError(f"{run}/summary.json has no transfer block")
        ref_summary = runfolder.read_json(os.path.join(ref, "summary.json"))
        wall = {"reference": ref_summary["wall_seconds"]["total"], "heldout": summary["wall_seconds"]["total"]}
        fams, _ = transfer.family_rows(summary)
        source_rels = [transfer.relative_gain(fams[s]["base"]["accuracy"], fams[s]["final"]["accuracy"])
                       for s in block["sources"]]
        rows = []
        for family, m in block["targets"].items():
            row = {"dial": dial, "value": value, "seed": seed, "family": family, "main": family == target,
                   "run": os.path.relpath(run, self.out),
                   "reference": block["reference"] and os.path.relpath(block["reference"], self.out),
                   "sources": block["sources"], "code": self.code_of(run),
                   "reference_code": block["reference"] and self.code_of(block["reference"]), "wall_seconds": wall,
                   "config": config}
            if row["main"]:
                c = profile["bins"][value if dial == "edge" else "all"]
                row["one_sample"] = {k: m[k] for k in ("recovered_accuracy", "recovered_reflection", "accuracy",
                                                       "reflection_rate", "ti")}   # summary.json's, for comparison
                accuracy = [c["base"]["accuracy"], c["heldout"]["accuracy"]]
                m = {**m, "accuracy": accuracy, "ti": transfer.transferability_index(
                        transfer.relative_gain(*accuracy), source_rels),       # the target's gain from the profile
                     "reflection_rate": [c["base"]["reflection_rate"], c["heldout"]["reflection_rate"]],
                     **{k: c[k] for k in ("problems", "recovered_accuracy", "recovered_reflection", "in_rl_gain")}}
                row["reference_accuracy"] = c["reference"]["accuracy"]
                if dial == "edge":              # one bin: the run-wide measures do not apply
                    m.update(ti=None, effective_reflection_rate=[None, None], length_mean=[None, None])
            elif dial == "edge":
                continue
            row.update({k: m.get(k) for k in ("accuracy", "reflection_rate", "effective_reflection_rate",
                                              "length_mean", "problems", "recovered_accuracy",
                                              "recovered_reflection", "ti", "in_rl_gain")})
            rows.append(row)
        return rows

    def code_of(self, run: str) -> str:
        """The code version that started a run (code.txt; a resumed run keeps it, and says so in its
        train.log); "unknown" for a run made outside the sweep."""
        path = os.path.join(run, "code.txt")
        if not os.path.exists(path):
            return "unknown"
        with open(path) as f:
            return f.read().strip()

    def rows(self) -> list[dict]:
        return list(runfolder.Jsonl(self.rows_path).rows()) if os.path.exists(self.rows_path) else []

    def record(self, rows: list[dict]) -> None:
        """Append rows, replacing earlier rows of the same dial, value, seed and family."""
        keys = {(r["dial"], r["value"], r["seed"], r["family"]) for r in rows}
        kept = [r for r in self.rows() if (r["dial"], r["value"], r["seed"], r["family"]) not in keys]
        tmp = self.rows_path + ".tmp"
        with open(tmp, "w") as f:
            for r in kept + rows:
                f.write(json.dumps(r) + "\n")
        os.replace(tmp, self.rows_path)


def aggregate(rows: list[dict], key: str):
    """(mean, min, max, k) of a row field over seeds, k the seeds that have a value (a null share is left
    out, not counted as 0); None where no seed has one."""
    values = [r[key] for r in rows if r[key] is not None]
    if not values:
        return None
    return float(sum(values) / len(values)), min(values), max(values), len(values)


def spread(stat, spec=".2f", n: int | None = None) -> str:
    """`mean [min–max]`, with `(k of n)` when only k of the n seeds have a value."""
    if stat is None:
        return "–"
    mean, lo, hi, k = stat
    text = f"{mean:{spec}} [{lo:{spec}}–{hi:{spec}}]"
    return text if n is None or k == n else f"{text} ({k} of {n})"


def mixed(rows: list[dict]) -> bool:
    """The rows (or a row and its reference) come from more than one code version."""
    return len({r["code"] for r in rows} | {r.get("reference_code") or r["code"] for r in rows}) > 1


def pairs(rows: list[dict], key: str) -> str:
    """Base -> final over seeds (means)."""
    base = [r[key][0] for r in rows if r[key][0] is not None]
    final = [r[key][1] for r in rows if r[key][1] is not None]
    if not base or not final:
        return "–"
    return f"{sum(base) / len(base):.2f} → {sum(final) / len(final):.2f}"


def table(rows: list[dict], main: bool = True) -> str:
    """Markdown: one line per dial value, means over seeds with [min–max]."""
    head = ("| dial | value | seeds | accuracy base → held out | recovered accuracy | reflection base → held out "
            "| recovered reflection | TI |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    groups: dict = {}
    for r in rows:
        if r["main"] == main:
            groups.setdefault((r["dial"], r["value"], r["family"]), []).append(r)
    order = {d: i for i, d in enumerate(DIALS)}
    for (dial, value, family), rs in sorted(groups.items(), key=lambda kv: (
            order.get(kv[0][0], 99), kv[0][2], DIALS.get(kv[0][0], ()).index(kv[0][1])
            if kv[0][1] in DIALS.get(kv[0][0], ()) else 99)):
        label = (value if main else f"{value} ({family})") + (" †" if mixed(rs) else "")
        n = len(rs)
        lines.append(f"| {dial} | {label} | {n} | {pairs(rs, 'accuracy')} | "
                     f"{spread(aggregate(rs, 'recovered_accuracy'), n=n)} | {pairs(rs, 'reflection_rate')} | "
                     f"{spread(aggregate(rs, 'recovered_reflection'), n=n)} | "
                     f"{spread(aggregate(rs, 'ti'), '.0f', n=n)} |")
    if any(mixed(rs) for rs in groups.values()):
        lines.append("\n† its rows come from more than one code version (a run and its reference, or the seeds)")
    return "\n".join(lines)


def wall_line(rows: list[dict]) -> str:
    """Median wall seconds of a reference run (pretraining, RL, evaluations) and of a held-out run."""
    import statistics
    walls = {k: sorted({(r["run"], r["wall_seconds"][k]) for r in rows if r.get("wall_seconds")})
             for k in ("reference", "heldout")}
    if not walls["heldout"]:
        return "wall time: not recorded in these rows"
    return ("wall time on this machine, median: reference run (pretraining, RL, evaluation) "
            f"{statistics.median(w for _, w in walls['reference']) / 60:.1f} min, held-out run (RL, evaluation) "
            f"{statistics.median(w for _, w in walls['heldout']) / 60:.1f} min")


def one_measure(shares: list, share: float, matched: float, n: int) -> str:
    if any(x is None for x in shares):
        return "undefined on some seed (no in-RL gain)"
    if min(shares) >= share:
        return f">= {share:.0%} on all {n} seeds"
    if max(shares) <= matched:
        return f"<= {matched:.0%} on all {n} seeds"
    return "in between"


def verdict(rows: list[dict], share: float = 0.5, matched: float = 0.15, seeds: int = 3) -> list[str]:
    """The issue's bar, read off the rows: conditions where the target recovers >= `share` of both its
    in-RL accuracy and reflection gains on every seed, and the dial values that recover <= `matched`.
    Either counts only with at least `seeds` seeds and no in-RL gain under two standard errors (a share
    of noise); short of that the line says `not the bar` and why."""
    groups: dict = {}
    for r in rows:
        if r["main"]:
            groups.setdefault((r["dial"], r["value"]), []).append(r)
    lines = []
    for (dial, value), rs in sorted(groups.items()):
        acc, refl = [r["recovered_accuracy"] for r in rs], [r["recovered_reflection"] for r in rs]
        if all(not r["problems"] for r in rs):
            tag = "no problems in this bin"
        elif any(r["reference"] is None for r in rs):
            tag = "no reference run on some seed"
        else:
            defined = all(x is not None for x in acc + refl)
            if defined and min(acc + refl) >= share:
                tag, met = f"recovers >= {share:.0%} of both gains on all {len(rs)} seeds", True
            elif defined and max(acc + refl) <= matched:
                tag, met = f"recovers <= {matched:.0%} of both gains on all {len(rs)} seeds", True
            else:                              # each measure on its own
                tag, met = "; ".join(f"{name} {one_measure(xs, share, matched, len(rs))}"
                                     for name, xs in (("accuracy", acc), ("reflection", refl))), False
            notes = [f"{len(rs)} of the bar's {seeds} seeds"] if len(rs) < seeds else []
            for name, key in (("accuracy", "accuracy"), ("reflection", "reflection_rate")):
                noisy = [str(r["seed"]) for r in rs if noise(r, key)]
                if noisy:
                    notes.append(f"the in-RL {name} gain is under 2 standard errors on seed {', '.join(noisy)}")
            if notes:
                tag += (": not the bar (" + "; ".join(notes) + ")") if met else "; " + "; ".join(notes)
        lines.append(f"{dial}={value}: {tag}")
    return lines


def noise(row: dict, key: str = "accuracy") -> bool:
    """The row's in-RL gain in KEY (the recovered share's denominator) is positive but under 2 standard
    errors (a gain <= 0 leaves the share undefined, which the verdict says already)."""
    g = (row.get("in_rl_gain") or {}).get(key)
    return g is not None and g[1] is not None and 0 < g[0] < 2 * g[1]


def versions_note(rows: list[dict]) -> str:
    codes = sorted({r["code"] for r in rows} | {r.get("reference_code") or r["code"] for r in rows})
    return "" if len(codes) <= 1 else f"note: these rows come from {len(codes)} code versions ({', '.join(codes)})"


def plot(rows: list[dict], path: str) -> None:
    """TI, recovered shares and the target's final reflection against each dial; error bars = seeds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = [r for r in rows if r["main"]]
    dials = [d for d in DIALS if any(r["dial"] == d for r in main)]
    fig, axes = plt.subplots(3, len(dials), figsize=(3.2 * len(dials), 8), squeeze=False)
    for j, dial in enumerate(dials):
        values = [v for v in DIALS[dial] if any(r["dial"] == dial and r["value"] == v for r in main)]
        values += sorted({r["value"] for r in main if r["dial"] == dial} - set(values))
        x = range(len(values))
        for i, (keys, ylabel) in enumerate([(("ti",), "TI"),
                                            (("recovered_accuracy", "recovered_reflection"), "recovered share"),
                                            (("reflection_final",), f"{TARGET} reflection (final)")]):
            ax = axes[i][j]
            for key in keys:
                stats = []
                for v in values:
                    rs = [r for r in main if r["dial"] == dial and r["value"] == v]
                    if key == "reflection_final":
                        rs = [{**r, key: r["reflection_rate"][1]} for r in rs]
                    stats.append(aggregate(rs, key))
                xs = [k for k, s in zip(x, stats) if s is not None]
                if not xs:                             # null on every value (TI of the edge bins)
                    continue
                ys = [s[0] for s in stats if s is not None]
                err = [[max(0.0, s[0] - s[1]) for s in stats if s is not None],      # max(0, .): rounding
                       [max(0.0, s[2] - s[0]) for s in stats if s is not None]]
                ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=key.replace("recovered_", ""))
            if i == 1:
                ax.axhline(0.5, color="grey", lw=0.7, ls="--")
                ax.axhline(0.15, color="grey", lw=0.7, ls=":")
                ax.legend(fontsize=7)
            ax.set_xticks(list(x), values)
            ax.set_title(dial if i == 0 else "", fontsize=10)
            if j == 0:
                ax.set_ylabel(ylabel)
    note = versions_note(rows)
    fig.suptitle(f"transfer to held-out {TARGET}: mean and min-max over seeds" + (f"\n{note}" if note else ""),
                 fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def stored(folder: str, kind: str) -> dict:
    """{run name: data} of each run's KIND.json (profile, traces): runs/NAME/KIND.json in a sweep folder,
    KIND/NAME.json in a stored one (--store)."""
    found = {}
    for root, _, files in os.walk(folder):
        for f in files:
            if f == f"{kind}.json" and os.path.basename(os.path.dirname(root)) == "runs":
                found[os.path.basename(root)] = runfolder.read_json(os.path.join(root, f))
            elif os.path.basename(root) == kind and f.endswith(".json"):
                found[f[:-len(".json")]] = runfolder.read_json(os.path.join(root, f))
    return dict(sorted(found.items()))


def traces_text(folder: str, runs: list[str] | None = None, per: int | None = None) -> str:
    """What the base model, the held-out run and the reference wrote on a few target problems, per
    condition (traces.json) and per edge bin (profile.json); with `runs`, only the first `per` problems
    of those held-out runs' traces.json, in that order."""
    from minireason.tasks import FAMILIES
    lines = []
    for kind in ("traces",) if runs else ("traces", "profile"):
        found = stored(folder, kind)
        for run, data in ([(r, found[r]) for r in runs if r in found] if runs else found.items()):
            for s in (data["samples"] if kind == "profile" else data)[:per]:
                where = f"{run}, {s['bin']}" if kind == "profile" else run
                lines.append(f"{where}: {FAMILIES[s['task']['family']].prompt(s['task'])}")
                for model in ("base", "heldout", "reference"):
                    m = s[model]
                    lines.append(f"  {model:9s} {'right' if m['correct'] else 'wrong'}  {m['completion']}")
    return "\n".join(lines)


def store(sweep: "Sweep", dest: str) -> None:
    """The sweep's record for the repository: rows.jsonl (merged into DEST's: a row of the same dial,
    value, seed and family is replaced, the others kept), sweep.json, and each run's profile.json and
    traces.json as profile/NAME.json and traces/NAME.json (no checkpoints)."""
    os.makedirs(dest, exist_ok=True)
    meta = os.path.join(dest, "sweep.json")
    if os.path.exists(meta) and runfolder.read_json(meta) != runfolder.read_json(os.path.join(sweep.out, "sweep.json")):
        raise SweepError(f"{dest} holds the rows of a sweep with another config ({dest}/sweep.json); "
                         "store into another folder")
    shutil.copy2(os.path.join(sweep.out, "sweep.json"), meta)
    rows, path = sweep.rows(), os.path.join(dest, "rows.jsonl")
    if os.path.exists(path) and os.path.abspath(path) != os.path.abspath(sweep.rows_path):
        keys = {(r["dial"], r["value"], r["seed"], r["family"]) for r in rows}   # a later sweep adds to it
        kept = [r for r in runfolder.Jsonl(path).rows() if (r["dial"], r["value"], r["seed"], r["family"]) not in keys]
        rows = kept + rows
    with open(path + ".tmp", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    os.replace(path + ".tmp", path)
    for kind in ("profile", "traces"):
        for run, data in stored(os.path.join(sweep.out, "runs"), kind).items():
            os.makedirs(os.path.join(dest, kind), exist_ok=True)
            runfolder.write_json(os.path.join(dest, kind, f"{run}.json"), data)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dial", default=None, help=f"{', '.join(DIALS)} or all")
    ap.add_argument("--values", nargs="+", default=None, help="dial values (default: the dial's three)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds (default: 0 1 2)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="the sweep folder (rows.jsonl, runs/, transfer.png)")
    ap.add_argument("--preset", default="transfer", help="the config preset of every run (default: transfer)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="a config override for every run, e.g. rl.steps=200 (repeatable)")
    ap.add_argument("--table", action="store_true", help="print the stored rows' table and plot; run nothing")
    ap.add_argument("--strict", action="store_true", help="leave out rows made by other code versions")
    ap.add_argument("--plot", default=None, help="where to draw the plot (default OUT/transfer.png)")
    ap.add_argument("--traces", action="store_true", help="print what each model wrote on the target")
    ap.add_argument("--store", default=None, metavar="DIR",
                    help="copy the rows, the sweep's config, profiles and traces to DIR (e.g. docs/runs/transfer)")
    args = ap.parse_args(argv)
    if not args.table and args.dial is None:
        ap.error("give --dial (or --table to show what is stored)")
    if args.dial not in (None, "all", *DIALS):
        ap.error(f"unknown dial {args.dial!r}; choose from {', '.join(DIALS)} or all")
    if args.values and args.dial == "all":
        ap.error("--values needs a single --dial")
    for s in args.sets:
        if "=" not in s:
            ap.error(f"--set {s}: expected KEY=VALUE")
    return args


def _stop(signum, frame):
    """SIGTERM (a `kill`) stops the sweep as Ctrl-C does: the running train.py is stopped with it, so no
    orphaned run goes on in a folder the next sweep would resume."""
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _stop)
    try:
        sweep = Sweep(args.out, args.preset, args.sets, read_only=args.table)
        if not args.table:
            dials = list(DIALS) if args.dial == "all" else [args.dial]
            plan = [(d, canonical(d, v), s) for s in args.seeds for d in dials for v in (args.values or DIALS[d])]
            for d, v, _ in plan:
                condition(sweep.cfg, d, v)              # every value checked before the first run
            for i, (d, v, s) in enumerate(plan, 1):
                sweep.echo(f"[{i}/{len(plan)}] {d}={v} seed {s}")
                sweep.record(sweep.point(d, v, s))
        if args.store:
            store(sweep, args.store)
            print(f"stored the rows, sweep.json, profiles and traces in {args.store}")
    except (SweepError, config_lib.ConfigError, runfolder.RunFolderError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to continue", file=sys.stderr)
        return 130
    rows = sweep.rows()
    if args.strict:
        rows = [r for r in rows if r["code"] == sweep.code and r.get("reference_code") in (None, sweep.code)]
    if not rows:
        print(f"no rows{' made by this code' if args.strict else ''} in {sweep.rows_path} "
              "(the repository's stored sweep: --out docs/runs/transfer)")
        return 0
    print(f"target {TARGET} (held out of RL), sources {', '.join(SOURCES)}; {len(rows)} rows in {sweep.rows_path}")
    note = versions_note(rows)
    if note:
        print(note)
    print(table(rows))
    print(wall_line(rows))
    if any(not r["main"] for r in rows):
        print("\nother families held out of the same runs (within arithmetic: sum, add):")
        print(table(rows, main=False))
    print("\n" + "\n".join(verdict(rows)))
    if args.traces:
        print("\n" + traces_text(args.out))
    if plots.available():
        path = args.plot or os.path.join(args.out, "transfer.png")
        plot(rows, path)
        print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
