"""Alarms for the silent failures of RL: training that runs, logs and checkpoints, but does not learn.

Each alarm is one named condition on an RL step's metrics row (thresholds in `AlarmConfig`):

    truncated         truncation_rate > alarms.truncation_rate: the length limit cuts answers off, so
                      they earn no reward however good the thinking was
    no_signal         zero_variance_groups > alarms.zero_variance_groups: groups whose G rewards are all
                      equal have zero advantage (A = r - mean = 0), so they teach nothing
    kl_exploding      kl > alarms.kl: the policy has run far from the base model
    entropy_collapse  entropy < alarms.entropy: the policy samples (almost) one completion per prompt,
                      so groups stop differing and exploration is over
    zero_reward       reward == 0 for alarms.zero_reward_steps steps in a row: nothing is ever right

The run prints each alarm once, the first time it fires, and records the alarms active at every step
in `metrics.jsonl` (`alarms`: a list of names). A NaN or inf in the loss or the gradient is not an
alarm but a stop (`Diverged`): nothing from that step is saved, and the last good checkpoint stays.
"""
from __future__ import annotations

import math

from minireason.config import AlarmConfig


class Diverged(RuntimeError):
    """The loss or a gradient went NaN or inf; the message is one line for the user."""


MESSAGES = {
    "truncated": "most completions hit the length limit (raise data.completion_len, or frontier.budgets, or "
                 "check the EOS token)",
    "no_signal": "almost every group has equal rewards: no learning signal (problems too easy or too hard?)",
    "kl_exploding": "KL to the base model is exploding (lower rl.lr, or raise rl.beta)",
    "entropy_collapse": "token entropy has collapsed: the policy has stopped exploring",
    "zero_reward": "reward has been 0 for many steps: the model never answers right (check the verifier)",
}


class Alarms:
    """Checks each RL step's row; remembers the zero-reward streak and which alarms were announced."""

    def __init__(self, cfg: AlarmConfig):
        self.cfg = cfg
        self.zero_reward_streak = 0
        self.announced: set[str] = set()

    def check(self, row: dict) -> tuple[list[str], list[str]]:
        """(names of the alarms active at this step, messages to print now: the first firing of each)."""
        c = self.cfg
        self.zero_reward_streak = self.zero_reward_streak + 1 if row["reward"] == 0 else 0
        kl = row.get("kl")
        active = [name for name, fires in (
            ("truncated", row["truncation_rate"] > c.truncation_rate),
            ("no_signal", row["zero_variance_groups"] > c.zero_variance_groups),
            ("kl_exploding", kl is not None and kl > c.kl),
            ("entropy_collapse", row["entropy"] < c.entropy),
            ("zero_reward", self.zero_reward_streak >= c.zero_reward_steps),
        ) if fires]
        new = [n for n in active if n not in self.announced]
        self.announced.update(new)
        return active, [f"alarm at RL step {row['step']}: {n}: {MESSAGES[n]}" for n in new]

    def state(self) -> dict:
        """What the checkpoint keeps, so that a resumed run raises the same alarms."""
        return {"zero_reward_streak": self.zero_reward_streak, "announced": sorted(self.announced)}

    def load(self, state: dict) -> None:
        self.zero_reward_streak = state.get("zero_reward_streak", 0)
        self.announced = set(state.get("announced", []))


def check_finite(step: int, stats: dict, last_checkpoint: int) -> None:
    """Raise Diverged if the loss or the gradient norm of this step is NaN or inf."""
    bad = [k for k in ("loss", "grad_norm") if not math.isfinite(stats[k])]
    if bad:
        raise Diverged(f"RL step {step}: {' and '.join(bad)} is NaN or inf; stopped without saving this step "
                       f"(the last good checkpoint is RL step {last_checkpoint})")
