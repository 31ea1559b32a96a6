"""BERT uncased WordPiece tokenizer in pure Python: text -> fixed-length token ids for the text model.

Reproduces the Hugging Face ``tokenizers`` pipeline of all-MiniLM-L6-v2 (BertNormalizer with lower-casing
and accent stripping, BertPreTokenizer, greedy longest-match WordPiece, [CLS] ... [SEP], zero padding),
so the on-device ids equal the ids the model was trained on without TensorFlow or ``transformers``.
"""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

from edge.errors import ModelError

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
MAX_WORD_CHARS = 100
_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
               (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 \
        or unicodedata.category(ch).startswith("P")


@lru_cache(maxsize=65536)
def _normalise_char(ch: str) -> str:
    """BertNormalizer on one character: drop controls, whitespace -> space, pad CJK, strip accents, lower-case."""
    if ch in "\t\n\r" or unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
        return " "
    if ch in ("\x00", "\ufffd") or unicodedata.category(ch).startswith("C"):
        return ""
    if _is_cjk(ord(ch)):
        return f" {ch} "
    stripped = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
    return "".join(c.lower() for c in stripped)


def basic_tokens(text: str) -> list[str]:
    """Normalised words and single punctuation marks, in order (the BERT pre-tokenizer's output)."""
    words: list[str] = []
    for word in "".join(_normalise_char(ch) for ch in text).split(" "):
        start = 0
        for i, ch in enumerate(word):
            if _is_punctuation(ch):
                words.extend(w for w in (word[start:i], ch) if w)
                start = i + 1
        if word[start:]:
            words.append(word[start:])
    return words


class WordPieceTokenizer:
    """Vocabulary-backed tokenizer producing ``[CLS] pieces [SEP] 0 ...`` int32 rows of a fixed length."""

    def __init__(self, vocab_path: str | Path, seq_len: int) -> None:
        try:
            tokens = Path(vocab_path).read_text(encoding="utf-8").split("\n")
        except OSError as exc:
            raise ModelError(f"{vocab_path}: tokenizer vocabulary unreadable ({exc})") from None
        self.vocab = {tok: i for i, tok in enumerate(t for t in tokens if t)}
        missing = [t for t in SPECIAL_TOKENS if t not in self.vocab]
        if missing:
            raise ModelError(f"{vocab_path}: vocabulary lacks the special tokens {missing}")
        if seq_len < 3:
            raise ValueError(f"seq_len must be at least 3, not {seq_len}")
        self.seq_len = seq_len
        self.pad_id, self.unk_id, self.cls_id, self.sep_id = (self.vocab[t] for t in SPECIAL_TOKENS[:4])
        self._pieces = lru_cache(maxsize=65536)(self._word_pieces)

    @property
    def vocab_size(self) -> int:
        """Number of ids, special ones included."""
        return len(self.vocab)

    def _word_pieces(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first WordPiece ids of one word; the whole word is [UNK] if any part fails."""
        if len(word) > MAX_WORD_CHARS:
            return (self.unk_id,)
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return (self.unk_id,)
            start = end
        return tuple(ids)

    def token_ids(self, text: str) -> list[int]:
        """WordPiece ids of ``text`` without special tokens or truncation; literal special tokens are kept whole."""
        ids: list[int] = []
        for part in _SPECIAL_SPLIT.split(text):
            if part in SPECIAL_TOKENS:
                ids.append(self.vocab[part])
            elif part:
                for word in basic_tokens(part):
                    ids.extend(self._pieces(word))
        return ids

    def encode(self, text: str) -> np.ndarray:
        """One int32 row of ``seq_len`` ids: [CLS], the first seq_len-2 pieces, [SEP], then [PAD] (0)."""
        ids = [self.cls_id, *self.token_ids(text)[:self.seq_len - 2], self.sep_id]
        row = np.full(self.seq_len, self.pad_id, dtype=np.int32)
        row[:len(ids)] = ids
        return row

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        """``encode`` for many texts, shape (len(texts), seq_len)."""
        return np.stack([self.encode(t) for t in texts]) if texts else np.zeros((0, self.seq_len), np.int32)
