"""Text-emotion model: corpora with per-corpus label masks, MiniLM teacher, TinyBERT-distilled student."""
