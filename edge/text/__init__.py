"""Text emotion: the model class, its on-device tokenizer, and sentence sources."""

from edge.text.model import TextEmotionModel
from edge.text.source import file_sentences

__all__ = ["TextEmotionModel", "file_sentences"]
