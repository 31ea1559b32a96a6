"""Train the student's sentencepiece unigram vocabulary on training sentences only (never validation text)."""

import io
from pathlib import Path

import sentencepiece

from edge.text.sentencepiece_tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID


def train_vocab(texts: list[str], path: Path, vocab_size: int, seed: int = 0) -> Path:
    """Write a unigram sentencepiece model of ``vocab_size`` pieces to ``path`` (case-folding NFKC normaliser)."""
    sentencepiece.set_random_generator_seed(seed)
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.Train(
        sentence_iterator=iter(texts), model_writer=model, model_type="unigram", vocab_size=vocab_size,
        normalization_rule_name="nmt_nfkc_cf", character_coverage=0.9995, byte_fallback=False,
        pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
        input_sentence_size=0, shuffle_input_sentence=False, num_threads=1, minloglevel=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.getvalue())
    return path
