"""The on-device sentencepiece tokenizer: id layout on a toy vocabulary, refusal of foreign models, and
id-for-id equality with the sentencepiece package's own encoding (begin/end added by the model) on every shared
validation sentence for the shipped vocabulary."""

import json
from pathlib import Path

import numpy as np
import pytest

from edge.errors import ModelError
from edge.manifest import MODELS_DIR
from edge.text.sentencepiece_tokenizer import BOS_ID, EOS_ID, PAD_ID, SentencePieceTokenizer, without_controls
from tests.conftest import SHARED_DATA
from training.text.spm_vocab import train_vocab

sentencepiece = pytest.importorskip("sentencepiece")

TOY_TEXT = [f"i feel {w} today and {v} about it" for w in ("great", "sad", "angry", "happy", "awful", "calm")
            for v in ("good", "bad", "worried", "sure", "mad")] * 4
TRICKY = ["", "   ", "\x00\x01\x7f", "x\u200by a\u00a0b c\u2028d \x0b\x0ce\x85f \ufffd\x00z", "中文字 and かな",
          "🥰🤣😀 lol🥰 :) <3 ¯\\_(ツ)_/¯", "Héllo İstanbul ﬁne naïve café\u0301", "a" * 300, "[NAME] is SO mad!!"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> SentencePieceTokenizer:
    path = train_vocab(TOY_TEXT, tmp_path_factory.mktemp("spm") / "toy.model", vocab_size=30)
    return SentencePieceTokenizer(path, seq_len=16)


def test_encode_layout_padding_and_truncation(toy: SentencePieceTokenizer) -> None:
    pieces = toy.token_ids("i feel great")
    assert 0 < len(pieces) <= 14 and min(pieces) > EOS_ID
    row = toy.encode("i feel great")
    assert row.dtype == np.int32 and row.shape == (16,)
    assert row[:len(pieces) + 2].tolist() == [BOS_ID, *pieces, EOS_ID] and np.all(row[len(pieces) + 2:] == PAD_ID)
    long = toy.encode("i feel great today and good about it " * 3)
    assert long[0] == BOS_ID and long[-1] == EOS_ID and PAD_ID not in long.tolist()
    assert long[1:-1].tolist() == toy.token_ids("i feel great today and good about it " * 3)[:14]
    assert toy.encode_batch([]).shape == (0, 16) and toy.encode_batch(["a", "b"]).shape == (2, 16)


def test_control_characters_are_not_words(toy: SentencePieceTokenizer) -> None:
    assert without_controls("a\tb\x00c\u200bd\ne") == "a bcd e"
    for text in ("", "   ", "\x00\x01\x7f", "\u200b\u2060"):
        assert toy.encode(text)[1] == EOS_ID, repr(text)
    assert toy.token_ids("i\x00 feel") == toy.token_ids("i feel")


def test_model_with_other_special_ids_is_refused(tmp_path: Path) -> None:
    default_ids = tmp_path / "default_ids"
    sentencepiece.SentencePieceTrainer.Train(sentence_iterator=iter(TOY_TEXT), model_prefix=str(default_ids),
                                             vocab_size=30, minloglevel=2)
    with pytest.raises(ModelError, match=r"special ids .* not \(0, 1, 2, 3\)"):
        SentencePieceTokenizer(f"{default_ids}.model", seq_len=16)
    (tmp_path / "junk.model").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="unreadable"):
        SentencePieceTokenizer(tmp_path / "junk.model", seq_len=16)


def _shipped_spm() -> Path:
    manifest = json.loads((MODELS_DIR / "text_emotion_int8.json").read_text())
    if manifest["features"]["tokenizer"] != "sentencepiece-unigram":
        pytest.skip("the shipped text model does not use a sentencepiece tokenizer")
    return MODELS_DIR / manifest["features"]["vocab_file"]


def _assert_same_ids(path: Path, texts: list[str]) -> None:
    """Our rows equal the package's own begin + pieces + end encoding (control characters dropped first)."""
    reference = sentencepiece.SentencePieceProcessor(model_file=str(path))
    expected = reference.encode([without_controls(t) for t in texts], add_bos=True, add_eos=True)
    ours = SentencePieceTokenizer(path, seq_len=max(map(len, expected)))
    mismatches = [i for i, ids in enumerate(expected) if ours.encode(texts[i])[:len(ids)].tolist() != ids]
    assert not mismatches, f"{len(mismatches)}/{len(texts)} differ; first {texts[mismatches[0]]!r}"


def test_shipped_vocabulary_same_ids_as_the_package_on_tricky_unicode() -> None:
    _assert_same_ids(_shipped_spm(), TRICKY)


def test_shipped_vocabulary_same_ids_as_the_package_on_all_validation_sentences() -> None:
    path = _shipped_spm()
    texts = []
    for corpus in ("dair_emotion", "goemotions", "meld_text"):
        file = SHARED_DATA / corpus / "validation.jsonl"
        if not file.exists():
            pytest.skip(f"shared corpus {corpus} not present")
        texts += [json.loads(line)["text"] for line in file.read_text(encoding="utf-8").splitlines() if line]
    assert len(texts) >= 3000
    _assert_same_ids(path, texts)
