"""Tokenizer: exact round trips, one token per digit and per tag, padding and masking by hand."""
import random

import numpy as np
import pytest

from minireason.tokenizer import SPECIAL_TOKENS, Tokenizer, TokenizerError


def corpus(n: int = 300) -> list[str]:
    """Traces shaped like the real corpus: countdown and addition, with and without reflection."""
    rng = random.Random(0)
    lines = []
    for i in range(n):
        a, b, c = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9)
        if i % 2 == 0:
            target = a + b - c
            lines.append(f"reach {target} with {a} {b} {c}<think>{a}+{b}-{c}={target} "
                         f"check {target}={target} ok</think><answer>{a}+{b}-{c}</answer>")
        else:
            x, y = rng.randint(10, 999), rng.randint(10, 999)
            wrong = "" if i % 3 else f" wait {x + y + 1} no "
            lines.append(f"{x}+{y}<think>{wrong}{x}+{y}={x + y} check {x + y}-{y}={x} ok</think>"
                         f"<answer>{x + y}</answer>")
    return lines


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tok") / "tok.model")
    Tokenizer.train(corpus(), vocab_size=96, path=path)
    return path


@pytest.fixture(scope="module")
def tok(tok_path):
    return Tokenizer.load(tok_path)


def test_round_trip_on_corpus_and_odd_strings(tok):
    odd = ["  7  +  8 ", "1234", "<think></think><answer></answer>", "=<>+-", "1<2", "</ans", "reach", ""]
    for s in corpus(50) + odd:
        assert tok.decode(tok.encode(s)) == s


def test_every_digit_is_its_own_token(tok):
    assert len(tok.encode("1234")) == 4
    assert len(tok.encode("9876543210")) == 10
    assert all(len(tok.encode(str(d))) == 1 for d in range(10))


def test_special_tokens_are_single_tokens_with_documented_ids(tok):
    assert [tok.encode(s) for s in SPECIAL_TOKENS] == [
        [tok.think_id], [tok.end_think_id], [tok.answer_id], [tok.eos_id]]
    assert tok.decode([tok.eos_id]) == "</answer>"
    assert tok.pad_id == 0
    assert len({tok.pad_id, tok.think_id, tok.end_think_id, tok.answer_id, tok.eos_id}) == 5
    assert max(tok.encode(" ".join(corpus(20)))) < tok.vocab_size <= 96


def test_a_completion_ends_with_eos(tok):
    ids = tok.encode("<think>1+2=3</think><answer>3</answer>")
    assert ids[-1] == tok.eos_id and ids.count(tok.eos_id) == 1


def test_encode_prompts_left_pads(tok):
    prompts = ["12+34", "7"]
    out = tok.encode_prompts(prompts, length=6)
    assert out.dtype == np.int32 and out.shape == (2, 6)
    assert out[0].tolist() == [0] + tok.encode("12+34")   # 5 tokens, one pad
    assert out[1].tolist() == [0] * 5 + tok.encode("7")
    assert [tok.decode(row) for row in out] == prompts


def test_encode_prompts_rejects_a_long_prompt(tok):
    with pytest.raises(TokenizerError, match="123456"):
        tok.encode_prompts(["1", "123456"], length=5)


def test_decode_completions_keeps_only_masked_tokens(tok):
    one, two, plus = tok.encode("1")[0], tok.encode("2")[0], tok.encode("+")[0]
    tokens = np.array([[one, plus, two, tok.eos_id],
                       [two, two, one, one]])
    mask = np.array([[1, 1, 1, 1],
                     [1, 0, 1, 0]])
    assert tok.decode_completions(tokens, mask) == ["1+2</answer>", "21"]
    assert tok.decode_completions(tokens, mask.astype(bool)) == ["1+2</answer>", "21"]


def test_decode_drops_pad_ids(tok):
    assert tok.decode(np.array([0, 0] + tok.encode("12"), dtype=np.int32)) == "12"


def test_load_rejects_garbage_and_missing_files(tmp_path):
    garbage = tmp_path / "garbage.model"
    garbage.write_bytes(b"this is not a sentencepiece model\x00\xff")
    with pytest.raises(TokenizerError, match="not a SentencePiece model"):
        Tokenizer.load(str(garbage))
    with pytest.raises(TokenizerError, match="does not exist"):
        Tokenizer.load(str(tmp_path / "missing.model"))


def test_saved_tokenizer_reloads_identically(tok, tok_path):
    again = Tokenizer.load(tok_path)
    for s in corpus(30):
        assert again.encode(s) == tok.encode(s)
    assert again.vocab_size == tok.vocab_size and again.eos_id == tok.eos_id


def test_training_is_deterministic_and_leaves_no_temp_file(tmp_path, tok, tok_path):
    path = tmp_path / "again.model"
    Tokenizer.train(corpus(), vocab_size=96, path=str(path))
    assert path.read_bytes() == open(tok_path, "rb").read()
    assert [p.name for p in tmp_path.iterdir()] == ["again.model"]
