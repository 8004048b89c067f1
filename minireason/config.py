"""Configuration: frozen dataclasses, presets, and the `--section.field=value` override parser.

Every knob of a run lives here, with a comment saying what it does and, where a paper has a symbol
for it, that symbol (G, beta, epsilon). Presets are plain functions returning a `Config`.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A bad preset, key or value; its message is one line meant for the user."""


@dataclass(frozen=True)
class ModelConfig:
    """The transformer's shape (see model.py)."""
    d_model: int = 96           # D, residual width
    n_layers: int = 4
    n_heads: int = 2            # H; head width is D / H
    d_mlp: int = 256            # hidden width of the (SwiGLU) MLP
    rope_base: float = 10000.0  # rotary position base frequency


@dataclass(frozen=True)
class DataConfig:
    """Task families, the pretraining corpus's style mixture and noise, and the fixed sequence layout."""
    families: tuple[str, ...] = ("countdown", "sum")   # tasks/: countdown, sum, add, sub, trace, write, fill
    family_weights: tuple[float, ...] = (0.6, 0.4)      # share of each family in corpus, RL and eval
    difficulties: tuple[int, ...] = (1, 2, 3)          # difficulty levels used everywhere (tasks: each family's top)
    corpus_difficulties: tuple[int, ...] = ()          # the pretraining corpus's levels only (empty: difficulties);
                                                       # fewer: RL climbs past what pretraining wrote (frontier.py)
    # Share of each trace style in the pretraining corpus: (direct, step-by-step, reflective).
    style_weights: tuple[float, ...] = (0.38, 0.45, 0.17)
    # Transfer dials (see transfer.py), per family in data.families order; empty: as above for every family.
    corpus_weights: tuple[float, ...] = ()   # each family's share of the pretraining corpus (exposure)
    reflect_share: tuple[float, ...] = ()    # each family's share of reflective traces (direct:step kept as above)
    step_noise: float = 0.03       # chance that a written step (step-by-step style) is wrong
    first_pass_error: float = 0.3  # reflective traces: chance a step's first pass is wrong (then caught)
    direct_noise: float = 0.1      # chance that a direct answer in the corpus is wrong
    oneshot_guess: float = 1.0     # Countdown: chance a direct/step trace guesses its signs (never searched)
    heldout_percent: int = 10      # share of the problem space reserved for evaluation (by hash)
    confidence: str = "none"       # none | uniform: what the corpus states after each answer (calibration.py)
    corpus_size: int = 80000       # pretraining traces generated for the run
    vocab_size: int = 96           # SentencePiece vocabulary size
    prompt_len: int = 16           # P, fixed prompt width in tokens (left-padded)
    completion_len: int = 96       # T, fixed completion width in tokens (the thinking budget)


@dataclass(frozen=True)
class PretrainConfig:
    """Next-token pretraining (see pretrain.py)."""
    steps: int = 1000
    batch_size: int = 32           # rows of P+T packed tokens per step
    lr: float = 2e-3               # peak AdamW learning rate
    min_lr_ratio: float = 0.1      # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 50
    weight_decay: float = 0.01
    grad_clip: float = 1.0         # global-norm gradient clipping
    eval_every: int = 100          # held-out loss every N steps


@dataclass(frozen=True)
class RLConfig:
    """The RL loop (see rl.py and losses.py); symbols as in the GRPO paper."""
    steps: int = 120
    prompts_per_step: int = 16     # B, prompts per RL step
    group_size: int = 8            # G, completions per prompt
    loss: str = "dapo"             # grpo | dr_grpo | dapo | reinforce
    lr: float = 1e-4
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    clip_eps: float = 0.2          # epsilon (low side of the ratio clip)
    clip_eps_high: float = 0.28    # epsilon_high (DAPO clip-higher; other losses use clip_eps)
    beta: float = 0.0              # KL penalty weight to the frozen reference
    kl: str = "k3"                 # k3 | k2: the KL estimator in the loss (see losses.kl_k3 / kl_k2)
    updates_per_batch: int = 1     # mu: gradient steps on each batch of rollouts (stats: their mean)
    temperature: float = 1.0
    curriculum: bool = True        # sample difficulties near the model's edge of competence
    reward: str = "exact"          # exact: the verifier's; judge: the learned judge's verdict (judge.py),
                                   # the verifier's logged beside it as the gold; rlcr | log: the verifier's
                                   # plus a proper scoring rule of the stated confidence (calibration.py)
    families: tuple[str, ...] = ()  # families RL trains on (empty: all of data.families; eval covers all)
    samples_every: int = 10        # write samples.jsonl rows every N steps
    eval_every: int = 10           # held-out metrics (heldout_*) on eval_problems every N steps
    eval_problems: int = 128       # size of that fixed held-out subset (one sampler batch)
    checkpoint_every: int = 20


@dataclass(frozen=True)
class FrontierConfig:
    """The frontier curriculum (frontier.py): RL's difficulty opens one level at a time, up to the top of
    data.difficulties, and the thinking budget grows with it. Off at start = 0 (rl.curriculum's sampling)."""
    start: int = 0                 # the first frontier level (0: off)
    threshold: float = 0.6         # the frontier's moving pass rate that opens the next level
    easy_share: float = 0.25       # share of prompts drawn from the levels below the frontier
    patience: int = 5              # batches at a level before it can open the next
    budgets: tuple[int, ...] = ()  # completion widths the budget grows through, each compiled once
                                   # (empty: data.completion_len throughout)


@dataclass(frozen=True)
class JudgeConfig:
    """The learned judge that `rl.reward=judge` trains against (see judge.py): style, size, corpus."""
    style: str = "reasoning"       # reasoning: recompute, then the verdict; direct: the verdict alone
    reads: str = "all"             # all: the whole candidate; answer: only its answer block, not its thinking
    d_model: int = 96              # the judge's own transformer (model.py), as in `model`
    n_layers: int = 4
    n_heads: int = 2
    d_mlp: int = 256
    vocab_size: int = 96           # its own SentencePiece vocabulary, trained on its corpus
    corpus_size: int = 40000       # judge traces in all; writer candidates fill what the others leave
    policy_samples: int = 4096     # of them, candidates sampled from the base policy (training problems)
    master_keys: float = 0.1       # share of master-key negatives (judge.MASTER_KEYS on training problems)
    noise: float = 0.3             # writer candidates: chance of an injected error per step / direct answer
    candidate_len: int = 0         # C, the candidate's window in tokens (0: data.completion_len); cut rule in judge.py
    think_len: int = 48            # the judge's completion budget in tokens (its recomputation and verdict)
    steps: int = 1000              # its training (next-token loss on its completions, as pretraining)
    batch_size: int = 32
    lr: float = 2e-3
    eval_problems: int = 32        # held-out problems per family and difficulty for judge_eval.json
    batch: int = 128               # rows per judge call (a fixed shape: one compile)


@dataclass(frozen=True)
class EvalConfig:
    """Held-out evaluation of the base and final model."""
    problems_per_difficulty: int = 64  # held-out problems per family and difficulty
    samples_per_problem: int = 1       # completions sampled per held-out problem (more: less noisy rates)
    temperature: float = 1.0           # sampled accuracy, the same policy RL optimises
    batch_size: int = 128


@dataclass(frozen=True)
class AlarmConfig:
    """Thresholds of the alarms for RL's silent failures (see alarms.py)."""
    truncation_rate: float = 0.5        # share of completions cut off by the length limit
    zero_variance_groups: float = 0.95  # share of groups whose rewards are all equal (no learning signal)
    kl: float = 2.0                     # mean k3 KL to the base model
    entropy: float = 0.005              # mean token entropy below this: the policy has collapsed
    zero_reward_steps: int = 10         # this many steps in a row with reward 0


@dataclass(frozen=True)
class MeshConfig:
    """How a run spreads over devices (sharding.py). config.json records it, but it is not part of what
    the run is: the results do not depend on it, and `--resume` takes the mesh of its own command line."""
    data: int = 0                  # devices on the data axis (0: every device left, i.e. all of them / fsdp)
    fsdp: int = 1                  # devices each parameter is split over (1: parameters replicated)
    distributed: bool = False      # several hosts: jax.distributed.initialize() first (sharding.initialize)


@dataclass(frozen=True)
class Config:
    """A whole run: one section per stage, plus the preset name and the seed."""
    preset: str = "demo"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    rl: RLConfig = field(default_factory=RLConfig)
    frontier: FrontierConfig = field(default_factory=FrontierConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    alarms: AlarmConfig = field(default_factory=AlarmConfig)
    mesh: MeshConfig = field(default_factory=MeshConfig)


# ----------------------------------------------------------------------------- presets

BOTH_DOMAINS = dict(families=("countdown", "sum", "trace", "write"), family_weights=(0.35, 0.2, 0.2, 0.25),
                    prompt_len=32)      # arithmetic (countdown, sum) and code (trace, write); programs need P=32


def demo() -> Config:
    """The default: pretrain, RL and evaluate on arithmetic and code in minutes on 2 CPU cores."""
    return Config(preset="demo", data=DataConfig(**BOTH_DOMAINS))


def demo_arith() -> Config:
    """The demo on the arithmetic domain alone (countdown and sums): the effect at its strongest."""
    return Config(preset="demo-arith")


def smoke() -> Config:
    """The same pipeline in about a minute; used by the tests."""
    return Config(
        preset="smoke",
        model=ModelConfig(d_model=32, n_layers=1, n_heads=2, d_mlp=64),
        data=DataConfig(difficulties=(1, 2), corpus_size=1500, vocab_size=64, completion_len=80),
        pretrain=PretrainConfig(steps=12, batch_size=8, warmup_steps=2, eval_every=6),
        rl=RLConfig(steps=4, prompts_per_step=4, group_size=4, samples_every=2, checkpoint_every=2),
        eval=EvalConfig(problems_per_difficulty=4, batch_size=32),
    )


def course() -> Config:
    """Course mode's end-to-end check (docs/course.md): the demo's model on Countdown at difficulties 1-2,
    with shorter stages (a 20,000-trace corpus, 400 pretraining steps, 60 RL steps at lr 2e-4): about 4
    minutes on 2 busy CPU cores. With a correct implementation the reward rises and reflection takes over
    (tests/course/test_5_rl.py)."""
    return Config(
        preset="course",
        data=DataConfig(families=("countdown",), family_weights=(1.0,), difficulties=(1, 2), corpus_size=20000,
                        completion_len=64),
        pretrain=PretrainConfig(steps=400, eval_every=100),
        rl=RLConfig(steps=60, lr=2e-4, samples_every=10, eval_every=10, eval_problems=64, checkpoint_every=20),
        eval=EvalConfig(problems_per_difficulty=64),
    )


def demo_noreflect() -> Config:
    """The control: no reflective traces in pretraining, everything else as in `demo`."""
    base = demo()
    d, s, _ = base.data.style_weights
    return dataclasses.replace(base, preset="demo-noreflect",
                               data=dataclasses.replace(base.data, style_weights=(d, s, 0.0)))


def gpu() -> Config:
    """The arithmetic demo sized for one GPU or TPU: a 5M-parameter model, 4x the prompts, a longer
    thinking budget. The same pipeline as `demo`; on a 2-core CPU it would take hours."""
    return Config(
        preset="gpu",
        model=ModelConfig(d_model=256, n_layers=6, n_heads=4, d_mlp=768),
        data=DataConfig(corpus_size=160000, completion_len=128),
        pretrain=PretrainConfig(steps=2000, batch_size=128, lr=1e-3, warmup_steps=100, eval_every=250),
        rl=RLConfig(steps=200, prompts_per_step=64, group_size=16, samples_every=20, eval_every=20,
                    eval_problems=512, checkpoint_every=50),
        eval=EvalConfig(problems_per_difficulty=128, batch_size=512),
    )


def demo_transfer() -> Config:
    """Does reasoning learned on arithmetic carry over to code? The demo with RL on arithmetic only;
    pretraining and evaluation cover both domains."""
    base = demo()
    return dataclasses.replace(base, preset="demo-transfer",
                               rl=dataclasses.replace(base.rl, families=("countdown", "sum")))


def transfer() -> Config:
    """The transfer experiment's unit run (bench/transfer.py sweeps its dials; transfer.py measures):
    the demo's model and pretraining on three arithmetic families and one code family, `fill` (fill
    the holes of a program: Countdown's search in code), at difficulties 1-2, with RL on the arithmetic
    families only, so `fill` is the held-out target: 100 RL steps at the demo's lr 1e-4 (at 2e-4 the
    thinking degenerated into malformed checks within 60 steps while the answers stayed right); T = 120
    holds fill's longest search."""
    return Config(
        preset="transfer",
        data=DataConfig(families=("countdown", "sum", "add", "fill"), family_weights=(0.25, 0.2, 0.2, 0.35),
                        difficulties=(1, 2), prompt_len=28, completion_len=120),
        rl=RLConfig(steps=100, families=("countdown", "sum", "add"), samples_every=10, eval_every=10,
                    eval_problems=64, checkpoint_every=20),
        eval=EvalConfig(problems_per_difficulty=48),
    )


def judge() -> Config:
    """RL against a learned judge instead of the verifier (judge.py): the demo's model on countdown and
    sum (arithmetic) and fill (code) at difficulties 1-2; after pretraining, a reasoning judge of the
    policy's size is trained on 40,000 candidates (writer traces with errors, base-policy samples,
    master-key negatives), then 100 RL steps reward what it calls right, the verifier logged beside it."""
    return Config(
        preset="judge",
        data=DataConfig(families=("countdown", "sum", "fill"), family_weights=(0.35, 0.25, 0.4),
                        difficulties=(1, 2), prompt_len=28, completion_len=120),
        rl=RLConfig(steps=100, reward="judge", samples_every=10, eval_every=10, eval_problems=64,
                    checkpoint_every=20),
        eval=EvalConfig(problems_per_difficulty=48),
    )


def calibration() -> Config:
    """Does RL make a stated confidence honest? (calibration.py) The judge preset's tasks (countdown and
    sum, fill) with `<confidence>K</confidence>` after every answer, K uniform in the corpus, and RL on
    the verifier's reward plus the Brier rule (RLCR); 512 held-out completions per family and difficulty
    at most (128 problems, 4 samples each), so a calibration error of 0.05 stands above the noise."""
    base = judge()
    return dataclasses.replace(
        base, preset="calibration", data=dataclasses.replace(base.data, confidence="uniform"),
        rl=dataclasses.replace(base.rl, reward="rlcr"),
        eval=EvalConfig(problems_per_difficulty=128, samples_per_problem=4))


def long() -> Config:
    """Thinking that grows with the problem (frontier.py): Countdown at difficulties 1-5 (two numbers up
    to five; above 3 the search writes 2-4 attempts of d-1 steps, tasks/arith.py), RL's frontier
    opening one level at a time from 1 when its pass rate reaches 0.6 after at least 20 batches there,
    the thinking budget growing through 64, 128 and 320 tokens (`frontier.describe`, printed at the
    start of RL, says what each level needs with this tokenizer); the held-out probe per level every 10
    steps. 800 pretraining steps and 120 RL steps: the frontier reaches 5 near step 80 and the run ends
    40 steps later (a first run of 1000 and 150 took 37 minutes, its last 70 steps at the top level)."""
    return Config(
        preset="long",
        data=DataConfig(families=("countdown",), family_weights=(1.0,), difficulties=(1, 2, 3, 4, 5),
                        prompt_len=24, completion_len=320),
        pretrain=PretrainConfig(steps=800),
        rl=RLConfig(steps=120, samples_every=10, eval_every=10, eval_problems=160, checkpoint_every=20),
        frontier=FrontierConfig(start=1, patience=20, budgets=(64, 128, 320)),
        eval=EvalConfig(problems_per_difficulty=32),
    )


def long_stretch() -> Config:
    """The long preset's stretch: pretraining writes levels 1-3 only (three numbers at most), RL's
    frontier climbs to 5 as in `long`. Does the model think longer than any trace it ever read, and
    where does it break?"""
    base = long()
    return dataclasses.replace(base, preset="long-stretch",
                               data=dataclasses.replace(base.data, corpus_difficulties=(1, 2, 3)))


def long_gpu() -> Config:
    """The long preset sized for one GPU or TPU: the gpu preset's 5M-parameter model, Countdown at levels
    1-8 (up to eight numbers, 7-step attempts), the budget growing through 64 ... 640 tokens (six widths,
    each compiled once), 400 RL steps of 64 prompts x 16. Not measured: no accelerator was lent while it
    was built (bench/accelerator.sh runs it where one is)."""
    base = gpu()
    return Config(
        preset="long-gpu", model=base.model, pretrain=base.pretrain,
        data=DataConfig(families=("countdown",), family_weights=(1.0,), difficulties=tuple(range(1, 9)),
                        corpus_size=160000, prompt_len=32, completion_len=640),
        rl=dataclasses.replace(base.rl, steps=400, checkpoint_every=50),
        frontier=FrontierConfig(start=1, patience=30, budgets=(64, 128, 256, 384, 512, 640)),
        eval=dataclasses.replace(base.eval, problems_per_difficulty=64),
    )


PRESETS = {"demo": demo, "smoke": smoke, "course": course, "demo-noreflect": demo_noreflect, "demo-arith": demo_arith,
           "demo-transfer": demo_transfer, "transfer": transfer, "judge": judge,
           "calibration": calibration, "long": long, "long-stretch": long_stretch,
           "long-gpu": long_gpu,
           "gpu": gpu}


def preset(name: str) -> Config:
    """The Config of a named preset; ConfigError for an unknown name."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()


# ----------------------------------------------------------------------------- overrides

def _parse_value(text: str, typ, key: str):
    """Parse `text` as the field type `typ` (int, float, bool, str or tuple[...])."""
    origin = typing.get_origin(typ)
    if origin is tuple:
        item = typing.get_args(typ)[0]
        return tuple(_parse_value(t.strip(), item, key) for t in text.split(",") if t.strip())
    try:
        if typ is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if typ is int:
            return int(text)
        if typ is float:
            return float(text)
        if typ is str:
            return text
    except ValueError:
        pass
    raise ConfigError(f"{key}: expected {getattr(typ, '__name__', typ)}, got {text!r}")


def override(cfg: Config, key: str, text: str) -> Config:
    """Return `cfg` with `key` (e.g. "rl.lr" or "seed") set from the string `text`."""
    parts = key.split(".")
    if len(parts) > 2:
        raise ConfigError(f"unknown config key {key!r}")
    node = cfg
    hints = typing.get_type_hints(type(node))
    if parts[0] not in hints:
        raise ConfigError(f"unknown config key {key!r}; sections: {', '.join(hints)}")
    if len(parts) == 1:
        if dataclasses.is_dataclass(hints[parts[0]]):
            raise ConfigError(f"{key!r} is a section; set one of its fields, e.g. --{key}.<field>=...")
        return dataclasses.replace(cfg, **{parts[0]: _parse_value(text, hints[parts[0]], key)})
    section = getattr(cfg, parts[0])
    if not dataclasses.is_dataclass(section):
        raise ConfigError(f"unknown config key {key!r}")
    sub_hints = typing.get_type_hints(type(section))
    if parts[1] not in sub_hints:
        raise ConfigError(f"unknown config key {key!r}; fields of {parts[0]}: {', '.join(sub_hints)}")
    value = _parse_value(text, sub_hints[parts[1]], key)
    return dataclasses.replace(cfg, **{parts[0]: dataclasses.replace(section, **{parts[1]: value})})


def validate(cfg: Config) -> Config:
    """Check cross-field constraints; raise ConfigError with a one-line message."""
    from minireason.judge import JUDGED  # local imports: neither imports anything from here at load time
    from minireason.tasks import FAMILIES, PLAIN_FAMILIES

    d, r, m, p, e, j, fr = cfg.data, cfg.rl, cfg.model, cfg.pretrain, cfg.eval, cfg.judge, cfg.frontier
    for name in ("model", "data", "pretrain", "rl", "frontier", "judge", "eval", "alarms"):   # every number finite
        section = getattr(cfg, name)
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                raise ConfigError(f"{name}.{f.name}: {value} is not a finite number")
    sizes = {"model.d_model": m.d_model, "model.n_layers": m.n_layers, "model.n_heads": m.n_heads,
             "model.d_mlp": m.d_mlp, "data.corpus_size": d.corpus_size, "data.vocab_size": d.vocab_size,
             "pretrain.batch_size": p.batch_size, "pretrain.eval_every": p.eval_every,
             "rl.prompts_per_step": r.prompts_per_step, "rl.samples_every": r.samples_every,
             "rl.eval_every": r.eval_every, "rl.eval_problems": r.eval_problems,
             "rl.checkpoint_every": r.checkpoint_every, "eval.problems_per_difficulty": e.problems_per_difficulty,
             "eval.batch_size": e.batch_size, "eval.samples_per_problem": e.samples_per_problem,
             "alarms.zero_reward_steps": cfg.alarms.zero_reward_steps,
             "judge.d_model": j.d_model, "judge.n_layers": j.n_layers, "judge.n_heads": j.n_heads,
             "judge.d_mlp": j.d_mlp, "judge.corpus_size": j.corpus_size, "judge.think_len": j.think_len,
             "judge.steps": j.steps, "judge.batch_size": j.batch_size, "judge.eval_problems": j.eval_problems,
             "judge.batch": j.batch}
    for key, value in sizes.items():
        if value < 1:
            raise ConfigError(f"{key} must be at least 1, got {value}")
    checks = [
        (m.rope_base > 0 and p.lr > 0 and r.lr > 0 and p.grad_clip > 0 and r.grad_clip > 0,
         "model.rope_base, the learning rates and grad_clip must be positive"),
        (p.warmup_steps >= 0 and 0 <= p.min_lr_ratio <= 1 and p.weight_decay >= 0 and r.weight_decay >= 0,
         "pretrain.warmup_steps, weight_decay >= 0 and pretrain.min_lr_ratio in [0, 1]"),
        (0 <= r.clip_eps < 1 and r.clip_eps_high >= 0 and r.beta >= 0,
         "rl.clip_eps in [0, 1), rl.clip_eps_high >= 0, rl.beta >= 0"),
        (d.vocab_size >= 32, "data.vocab_size must be at least 32 (digits, tags and the notation's symbols)"),
        (len(d.families) == len(d.family_weights), "data.families and data.family_weights differ in length"),
        (len(d.families) > 0 and min(d.family_weights, default=0) >= 0 and sum(d.family_weights) > 0,
         "data.family_weights: non-negative weights, not all zero"),
        (cfg.eval.temperature > 0, "eval.temperature must be positive"),
        (all(f in FAMILIES for f in d.families), f"data.families: choose from {', '.join(PLAIN_FAMILIES)} (or "
         "<family>-own, <family>-own-prompt: the transfer experiment's respelled ones)"),
        (all(f in d.families for f in r.families) and len(set(r.families)) == len(r.families),
         "rl.families: distinct families that are also in data.families (RL needs a pretrained base)"),
        (not d.corpus_weights or (len(d.corpus_weights) == len(d.families) and min(d.corpus_weights) >= 0
                                  and sum(d.corpus_weights) > 0),
         "data.corpus_weights: empty, or one non-negative weight per family of data.families, not all zero"),
        (not d.reflect_share or (len(d.reflect_share) == len(d.families)
                                 and all(0 <= x <= 1 for x in d.reflect_share)),
         "data.reflect_share: empty, or one share in [0, 1] per family of data.families"),
        (len(d.style_weights) == 3 and min(d.style_weights) >= 0 and sum(d.style_weights) > 0,
         "data.style_weights: three non-negative weights (direct, step, reflective)"),
        (d.difficulties and min(d.difficulties) >= 1, "data.difficulties: levels from 1 up"),
        (set(d.corpus_difficulties) <= set(d.difficulties),
         "data.corpus_difficulties: empty, or some of data.difficulties"),
        *[(max(d.difficulties, default=1) <= FAMILIES[f].max_difficulty,
           f"data.difficulties: {f} has no level above {FAMILIES[f].max_difficulty}")
          for f in d.families if f in FAMILIES and FAMILIES[f].max_difficulty is not None],
        (0 < d.heldout_percent < 100, "data.heldout_percent must be in 1..99"),
        (all(0 <= x <= 1 for x in (d.step_noise, d.first_pass_error, d.direct_noise, d.oneshot_guess)),
         "data.step_noise, first_pass_error, direct_noise, oneshot_guess are probabilities in [0, 1]"),
        (m.d_model % m.n_heads == 0 and (m.d_model // m.n_heads) % 2 == 0,
         "model.d_model / model.n_heads must be an even integer (rotary pairs)"),
        (r.loss in ("grpo", "dr_grpo", "dapo", "reinforce"), "rl.loss: choose grpo, dr_grpo, dapo or reinforce"),
        (r.kl in ("k3", "k2"), "rl.kl: choose k3 or k2"),
        (r.loss != "reinforce" or r.updates_per_batch == 1,
         "rl.loss=reinforce needs rl.updates_per_batch=1: REINFORCE has no ratio, so extra inner steps "
         "would be off-policy score-function steps"),
        (r.group_size >= 2, "rl.group_size (G) must be at least 2"),
        (r.temperature > 0, "rl.temperature must be positive"),
        (r.updates_per_batch >= 1 and r.steps >= 1 and cfg.pretrain.steps >= 1, "step counts must be positive"),
        (d.prompt_len >= 4 and d.completion_len >= 8, "data.prompt_len / completion_len too small"),
        (r.reward in ("exact", "judge", "rlcr", "log"), "rl.reward: choose exact, judge, rlcr or log"),
        (d.confidence in ("none", "uniform"), "data.confidence: choose none or uniform"),
        (r.reward not in ("rlcr", "log") or d.confidence != "none",
         f"rl.reward={r.reward} rewards a stated confidence: set data.confidence=uniform"),
        (r.reward != "judge" or d.confidence == "none",
         "rl.reward=judge: the judge reads completions without a confidence block; set data.confidence=none"),
        (j.style in ("reasoning", "direct"), "judge.style: choose reasoning or direct"),
        (j.reads in ("all", "answer"), "judge.reads: choose all or answer"),
        (0 <= j.master_keys < 1 and 0 <= j.noise <= 1 and j.lr > 0 and j.candidate_len >= 0
         and 0 <= j.policy_samples <= j.corpus_size and j.vocab_size >= 32,
         "judge: master_keys in [0, 1), noise in [0, 1], lr > 0, candidate_len >= 0, "
         "policy_samples <= corpus_size, vocab_size >= 32"),
        (j.d_model % j.n_heads == 0 and (j.d_model // j.n_heads) % 2 == 0,
         "judge.d_model / judge.n_heads must be an even integer (rotary pairs)"),
        (fr.start == 0 or (d.difficulties == tuple(range(1, max(d.difficulties, default=0) + 1))
                           and 1 <= fr.start <= max(d.difficulties, default=0)),
         "frontier.start: 0 (off), or a level of data.difficulties, which must then be 1, 2, ..., top"),
        (0 < fr.threshold <= 1 and 0 <= fr.easy_share < 1 and fr.patience >= 1,
         "frontier: threshold in (0, 1], easy_share in [0, 1), patience at least 1"),
        (fr.start == 0 or r.curriculum, "frontier.start > 0 is a curriculum: keep rl.curriculum=true"),
        (all(8 <= b <= d.completion_len for b in fr.budgets),
         "frontier.budgets: completion widths from 8 up to data.completion_len"),
        (not fr.budgets or (fr.start > 0 and max(fr.budgets) == d.completion_len),
         "frontier.budgets: only with frontier.start > 0, and the largest is data.completion_len (the "
         "corpus's and the held-out evaluation's width)"),
        (cfg.mesh.data >= 0 and cfg.mesh.fsdp >= 1, "mesh.data must be at least 0 (0: all devices) and mesh.fsdp "
         "at least 1"),
        (r.reward != "judge" or all(f in JUDGED for f in d.families),
         f"rl.reward=judge: the judge can check {', '.join(JUDGED)}; data.families holds another family"),
        (j.think_len >= 4 and j.policy_samples / j.corpus_size + j.master_keys <= 1,
         "judge.think_len must be at least 4, and policy_samples / corpus_size + master_keys at most 1"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    return cfg


def to_dict(cfg: Config) -> dict:
    """The config as plain JSON-able dicts (what config.json holds)."""
    return dataclasses.asdict(cfg)


def _check_json(value, typ, key: str):
    """A value read from config.json, checked against the field type `typ` (tuples arrive as lists)."""
    if typing.get_origin(typ) is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config.json: {key}: expected a list, got {value!r:.40}")
        return tuple(_check_json(v, typing.get_args(typ)[0], key) for v in value)
    ok = {bool: lambda v: isinstance(v, bool),
          int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          str: lambda v: isinstance(v, str)}[typ](value)
    if not ok:
        raise ConfigError(f"config.json: {key}: expected {typ.__name__}, got {value!r:.40}")
    return float(value) if typ is float else value


def from_dict(raw) -> Config:
    """Rebuild a Config from `to_dict` output (e.g. a run's config.json); unknown keys and values of the
    wrong type are ConfigErrors with a one-line message."""
    if not isinstance(raw, dict):
        raise ConfigError("config.json must hold a JSON object")
    hints = typing.get_type_hints(Config)
    extra = set(raw) - set(hints)
    if extra:
        raise ConfigError(f"config.json does not match this version of minireason: unknown keys {sorted(extra)}")
    values = {}
    for name, value in raw.items():
        typ = hints[name]
        if not dataclasses.is_dataclass(typ):
            values[name] = _check_json(value, typ, name)
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"config.json: {name} must be an object of fields")
        fields = typing.get_type_hints(typ)
        unknown = set(value) - set(fields)
        if unknown:
            raise ConfigError(f"config.json does not match this version of minireason: unknown keys "
                              f"{sorted(f'{name}.{k}' for k in unknown)}")
        values[name] = typ(**{k: _check_json(v, fields[k], f"{name}.{k}") for k, v in value.items()})
    return Config(**values)
