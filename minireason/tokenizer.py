"""Tokenizer: a small SentencePiece BPE model trained on the generated corpus.

Three choices make it fit arithmetic reasoning:
- `split_digits`: every digit is its own token, so the model adds numbers digit by digit instead of
  memorising multi-digit pieces.
- the tags `<think>`, `</think>`, `<answer>`, `</answer>` are user-defined symbols, one token each;
  `</answer>` doubles as end-of-sequence, so sampling stops exactly where the verifier stops reading.
  A run that states its confidence (calibration.py) trains its tokenizer with `<confidence>` and
  `</confidence>` as symbols too, and then `</confidence>` ends a completion instead.
- identity normalisation, no dummy prefix, no whitespace squeezing: `decode(encode(s)) == s` for every
  string made of characters seen in training, which keeps the verifier's view of a completion honest.

Every digit and every character of the tags is forced into the vocabulary (`required_chars`): a
small corpus may lack some digit, and '<' or '>' may only ever occur inside a tag, yet text that merely
looks like a tag ('1<2', '</ans') must still round trip rather than turn into `<unk>`. Each required
character is also added to the training text as a one-character sentence: sentencepiece 0.2.2 aborts
the whole process on a required character it never counted (outside the tags), and one-character
sentences hold no pairs, so they add no merges.

A space becomes '▁' attached to the next piece, as usual for SentencePiece. Characters never seen in
training map to `<unk>` (id 1) and decode as ' ⁇ '.
"""
from __future__ import annotations

import io
import os

import numpy as np
import sentencepiece as spm

from minireason.traces import CONFIDENCE_END

SPECIAL_TOKENS = ("<think>", "</think>", "<answer>", "</answer>")
_REQUIRED_CHARS = "".join(sorted(set("0123456789" + "".join(SPECIAL_TOKENS))))


class TokenizerError(ValueError):
    """A bad tokenizer file or an input it cannot encode; its message is one line meant for the user."""


class Tokenizer:
    """A trained SentencePiece model plus the ids the rest of minireason needs by name."""

    def __init__(self, sp: spm.SentencePieceProcessor, source: str):
        ids = {}
        for piece in SPECIAL_TOKENS:
            i = sp.piece_to_id(piece)
            # piece_to_id answers unk_id for an unknown piece, hence the round trip.
            if sp.id_to_piece(i) != piece:
                raise TokenizerError(f"tokenizer {source} has no special token {piece}; retrain it")
            ids[piece] = i
        if sp.pad_id() != 0:
            raise TokenizerError(f"tokenizer {source} has pad id {sp.pad_id()}, expected 0; retrain it")
        self._sp = sp
        self.pad_id = 0
        self.think_id = ids["<think>"]
        self.end_think_id = ids["</think>"]
        self.answer_id = ids["<answer>"]
        self.eos_id = ids["</answer>"]
        end = sp.piece_to_id(CONFIDENCE_END)
        self.states_confidence = sp.id_to_piece(end) == CONFIDENCE_END   # trained with the confidence tags
        if self.states_confidence:            # the completion ends after its confidence block
            self.eos_id = end
        # With hard_vocab_limit=False this can be smaller than the size asked for at training.
        self.vocab_size = sp.get_piece_size()

    @classmethod
    def train(cls, texts: list[str], vocab_size: int, path: str, symbols: tuple[str, ...] = ()) -> Tokenizer:
        """Train a BPE tokenizer on `texts`, write it atomically to `path`, and return it. `symbols` are
        more user-defined pieces, one token each (the judge's `<judge>`, `yes`, `no`: judge.py; the
        confidence tags: calibration.py)."""
        model = io.BytesIO()
        # BPE training reads every sentence in order (no sampling), so the model is a pure function
        # of the texts; the seed only guards sentencepiece's sampling paths, which stay unused here.
        spm.set_random_generator_seed(0)
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(list(texts) + list(_REQUIRED_CHARS)),
            model_writer=model,
            model_type="bpe",
            vocab_size=vocab_size,
            split_digits=True,
            required_chars=_REQUIRED_CHARS,
            user_defined_symbols=list(SPECIAL_TOKENS) + list(symbols),
            add_dummy_prefix=False,
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            pad_id=0,
            unk_id=1,
            bos_id=-1,
            eos_id=-1,
            character_coverage=1.0,
            byte_fallback=False,
            hard_vocab_limit=False,  # a tiny corpus may not hold vocab_size pieces; take what it has
            minloglevel=2,
        )
        _write_atomically(path, model.getvalue())
        return cls.load(path)

    @classmethod
    def load(cls, path: str) -> Tokenizer:
        """Load a tokenizer written by `train`."""
        if not os.path.isfile(path):
            raise TokenizerError(f"tokenizer file {path} does not exist")
        sp = spm.SentencePieceProcessor()
        try:
            sp.load(model_file=path)
        except (OSError, RuntimeError):
            raise TokenizerError(f"tokenizer file {path} is not a SentencePiece model") from None
        return cls(sp, path)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no BOS or EOS added)."""
        return self._sp.encode(text)

    def decode(self, ids) -> str:
        """Text of a list or 1-D array of ids; pad ids are dropped."""
        return self._sp.decode([int(i) for i in ids if int(i) != self.pad_id])

    def encode_prompts(self, prompts: list[str], length: int) -> np.ndarray:
        """Encode prompts as int32 [N, length], left-padded so every prompt ends in the last column."""
        out = np.full((len(prompts), length), self.pad_id, dtype=np.int32)  # [N, P]
        for row, prompt in enumerate(prompts):
            ids = self.encode(prompt)
            if len(ids) > length:
                raise TokenizerError(
                    f"prompt {prompt!r} is {len(ids)} tokens, longer than the prompt length {length}")
            if ids:  # out[row, -0:] would be the whole row
                out[row, length - len(ids):] = ids
        return out

    def decode_completions(self, tokens: np.ndarray, mask: np.ndarray) -> list[str]:
        """Decode each row of tokens [N, T], keeping only the positions where mask [N, T] is true."""
        tokens, mask = np.asarray(tokens), np.asarray(mask).astype(bool)
        if tokens.shape != mask.shape or tokens.ndim != 2:
            raise TokenizerError(
                f"tokens {tokens.shape} and mask {mask.shape} must share one [N, T] shape")
        return [self.decode(row[keep]) for row, keep in zip(tokens, mask)]


def _write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` so a reader sees either the old file or the whole new one."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
