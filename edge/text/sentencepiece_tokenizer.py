"""Sentencepiece unigram tokenizer for the text model: text -> fixed-length token ids, through the
``sentencepiece`` package, so the on-device ids are the ids the student was trained on.

Id layout fixed when the vocabulary is trained (training/text/spm_vocab.py): 0 padding, 1 unknown,
2 begin (the [CLS] role), 3 end (the [SEP] role); rows are ``2 pieces 3 0 ...``.
"""

import unicodedata
from pathlib import Path

import numpy as np
import sentencepiece

from edge.errors import ModelError

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


def without_controls(text: str) -> str:
    """``text`` with tabs and line breaks as spaces and other control/format/unassigned characters dropped
    (sentencepiece would turn them into unknown pieces, so a line of them would still look like words)."""
    return "".join(" " if ch in "\t\n\r" else ch for ch in text
                   if ch in "\t\n\r" or not unicodedata.category(ch).startswith("C"))


class SentencePieceTokenizer:
    """A trained sentencepiece model producing ``[begin] pieces [end] 0 ...`` int32 rows of a fixed length."""

    def __init__(self, model_path: str | Path, seq_len: int) -> None:
        self.processor = sentencepiece.SentencePieceProcessor()
        try:
            self.processor.Load(str(model_path))
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"{model_path}: sentencepiece model unreadable ({exc})") from None
        ids = (self.processor.pad_id(), self.processor.unk_id(), self.processor.bos_id(), self.processor.eos_id())
        if ids != (PAD_ID, UNK_ID, BOS_ID, EOS_ID):
            raise ModelError(f"{model_path}: special ids (pad, unk, bos, eos) are {ids}, not (0, 1, 2, 3)")
        if seq_len < 3:
            raise ValueError(f"seq_len must be at least 3, not {seq_len}")
        self.seq_len = seq_len
        self.pad_id, self.unk_id, self.cls_id, self.sep_id = PAD_ID, UNK_ID, BOS_ID, EOS_ID

    @property
    def vocab_size(self) -> int:
        """Number of ids, special ones included."""
        return self.processor.GetPieceSize()

    def token_ids(self, text: str) -> list[int]:
        """Piece ids of ``text`` (control characters dropped) without special ids or truncation."""
        return self.processor.EncodeAsIds(without_controls(text))

    def encode(self, text: str) -> np.ndarray:
        """One int32 row of ``seq_len`` ids: begin, the first seq_len-2 pieces, end, then padding (0)."""
        ids = [BOS_ID, *self.token_ids(text)[:self.seq_len - 2], EOS_ID]
        row = np.full(self.seq_len, PAD_ID, dtype=np.int32)
        row[:len(ids)] = ids
        return row

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        """``encode`` for many texts, shape (len(texts), seq_len)."""
        return np.stack([self.encode(t) for t in texts]) if texts else np.zeros((0, self.seq_len), np.int32)
