"""Text-emotion model: corpora with per-corpus label masks, MiniLM teacher, TinyBERT-distilled student,
sentencepiece student distilled from cached soft targets, TF-IDF + linear baseline."""
