"""The *shared notation* dial of the transfer experiment: a family spelled apart from the others.

Logic-RL and SynLogic (`../shared/research/anchors-2.md` §3.4) credit transfer between domains to a
shared format: the reflection words RL makes more frequent on the source are the words the target's
traces use. To test that here, a family can be *respelled*: the same problems, the same checker and
the same worked traces, but

    own          its reflective items use markers of their own: `test E=V pass|fail` for
                 `check E=V ok|no` and `redo` for `wait`
                 (`c=9-4=5 9+5=14 test 14=12 fail redo c=9+4=13 ...`)
    own-prompt   the same, and its prompts start with a word no other family's prompt has (`code`),
                 so they share less surface with the source families' prompts too

The parser reads both spellings as the same items (traces.CHECK_WORDS), so reflection, checks and
revisions are counted alike. A respelled family is registered as `<family>-own` and
`<family>-own-prompt` (e.g. `write-own`): pretrain with it in `data.families` in place of `write`. It
holds out the very problems the plain family holds out (`split_as`), so the held-out set is the same
whichever spelling a run uses.
"""
from __future__ import annotations

from minireason.traces import THINK_END

OWN_MARKERS = {"check": "test", "ok": "pass", "no": "fail", "wait": "redo"}
PROMPT_WORD = "code"
VARIANTS = {"own": False, "own-prompt": True}    # variant -> does the prompt get its own first word


def respell(completion: str) -> str:
    """A worked completion with the shared reflection markers replaced by the own ones (thinking only)."""
    thinking, sep, rest = completion.partition(THINK_END)
    words = [OWN_MARKERS.get(w, w) for w in thinking.split(" ")] if thinking else []
    return " ".join(words) + sep + rest


class Respelled:
    """`inner` with its reflective markers (and optionally its prompt) spelled apart; all else delegated."""

    def __init__(self, inner, variant: str):
        self.inner, self.variant = inner, variant
        self.name = f"{inner.name}-{variant}"
        self.split_as = getattr(inner, "split_as", inner.name)   # the held-out split and set of the plain family
        self.domain = inner.domain
        self.min_heldout_percent = inner.min_heldout_percent
        self.own_prompt = VARIANTS[variant]

    def sample(self, rng, difficulty: int) -> dict:
        return {**self.inner.sample(rng, difficulty), "family": self.name}

    def prompt(self, p: dict) -> str:
        text = self.inner.prompt(p)
        return f"{PROMPT_WORD} {text}" if self.own_prompt else text

    def strip_prompt(self, text: str) -> str | None:
        """The plain family's prompt inside one of this family's (None when the prefix is missing)."""
        if not self.own_prompt:
            return text
        return text[len(PROMPT_WORD) + 1:] if text.startswith(PROMPT_WORD + " ") else None

    def trace(self, p: dict, style: str, rng, noise) -> str:
        return respell(self.inner.trace(p, style, rng, noise))

    def split_key(self, p: dict) -> str:
        return self.inner.split_key(p)

    def correct_answer(self, p: dict) -> str:
        return self.inner.correct_answer(p)

    def check_answer(self, p: dict, answer: str):
        return self.inner.check_answer(p, answer)

    def revision_fixed(self, p: dict, revision) -> bool:
        return self.inner.revision_fixed(p, revision)

    def __getattr__(self, name):        # family-specific extras (e.g. write's `grade`) come from the inner family
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

