"""A small trigram language model and pronunciation dictionary for on-device transcription.

    python -m training.asr.lm [--vocab 6000] [--min-count 2] [--out edge/models]

The wheel's general en-us LM (27 MB) and CMUdict (3.3 MB) dominate the transcriber's memory. This
builds a conversational English LM from the *training* splits of the text corpora in shared/data
(MELD dialogue lines, GoEmotions comments, dair-ai emotion sentences), with every dair-ai
validation sentence dropped, limited to the most frequent CMUdict words, as an ARPA backoff model
with absolute discounting (pocketsphinx's own ArpaBoLM has no vocabulary cap or pruning, and its
10 MB model costs 20 MB more RSS); and a dictionary holding only those words. The LM ships in
pocketsphinx's binary format with the dictionary and a manifest (sha256 of both, decoder weights).
"""

import argparse
import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Iterator

from edge.asr.sphinx import LM_MANIFEST
from edge.manifest import sha256_of
from training.paths import SHARED_DATA

ORDER = 3
DISCOUNT = 0.7  # absolute discount per seen n-gram (Ney et al.: about n1 / (n1 + 2 n2) on such counts)
SOURCES = (("meld_text", "train.jsonl"), ("goemotions", "train.jsonl"), ("dair_emotion", "train.jsonl"))
HELD_OUT = ("dair_emotion", "validation.jsonl")  # the ASR-impact benchmark speaks these: never in the LM
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*")
BOS, EOS, UNK = "<s>", "</s>", "<unk>"
# Decoder weights chosen on espeak-ng speech of 30 dair-ai *training* sentences (2 voices): language weight
# 9 and word insertion penalty 0.2 gave WER 68.6 % against 69.8 % for pocketsphinx's defaults (6.5, 0.65).
LANGUAGE_WEIGHT = 9.0
WORD_INSERTION_PENALTY = 0.2


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters with inner apostrophes); curly quotes count as apostrophes."""
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def corpus_lines(root: Path) -> Iterator[list[str]]:
    """Tokenised training sentences of every source, minus exact copies of a held-out sentence."""
    held = {" ".join(tokens(json.loads(line)["text"]))
            for line in (root / HELD_OUT[0] / HELD_OUT[1]).read_text(encoding="utf-8").splitlines() if line.strip()}
    for folder, name in SOURCES:
        for line in (root / folder / name).read_text(encoding="utf-8").splitlines():
            words = tokens(json.loads(line)["text"]) if line.strip() else []
            if words and " ".join(words) not in held:
                yield words


def cmudict(path: Path) -> dict[str, list[str]]:
    """Every pronunciation of every word in a CMUdict-format file (variants ``word(2)`` folded in)."""
    prons: dict[str, list[str]] = defaultdict(list)
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        word, _, phones = line.partition(" ")
        prons[word.split("(")[0]].append(phones.strip())
    return prons


def count_ngrams(sentences: Iterable[list[str]], vocab: set[str]) -> list[Counter]:
    """Counts of every 1..ORDER-gram (tuples) over sentences wrapped in <s> ... </s>, OOV words as <unk>."""
    counts = [Counter() for _ in range(ORDER)]
    for words in sentences:
        seq = [BOS] + [w if w in vocab else UNK for w in words] + [EOS]
        for n in range(1, ORDER + 1):
            for i in range(len(seq) - n + 1):
                gram = tuple(seq[i:i + n])
                if gram != (BOS,):
                    counts[n - 1][gram] += 1
    return counts


def backoff_model(counts: list[Counter], min_count: int) -> tuple[list[dict], list[dict]]:
    """Log10 probabilities and backoff weights of a Katz-style backoff model with absolute discounting.

    Higher orders keep n-grams seen at least ``min_count`` times; the mass they give up goes to the
    lower order, renormalised over the words the context did not keep, so every distribution sums to 1.
    """
    unigram_total = sum(counts[0].values())
    probs: list[dict] = [{g: c / unigram_total for g, c in counts[0].items()}]
    probs[0][(BOS,)] = 0.0  # <s> is only ever a context
    for n in range(2, ORDER + 1):
        context_total: Counter = Counter()
        for gram, c in counts[n - 1].items():
            context_total[gram[:-1]] += c
        probs.append({g: (c - DISCOUNT) / context_total[g[:-1]]
                      for g, c in counts[n - 1].items() if c >= min_count})
    backoffs: list[dict] = [{} for _ in range(ORDER - 1)]
    for n in range(2, ORDER + 1):
        kept_mass: Counter = Counter()
        lower_mass: Counter = Counter()
        for gram, p in probs[n - 1].items():
            kept_mass[gram[:-1]] += p
            lower_mass[gram[:-1]] += prob(probs, gram[1:], backoffs)
        for context in kept_mass:
            backoffs[n - 2][context] = (1 - kept_mass[context]) / max(1 - lower_mass[context], 1e-9)
    return probs, backoffs


def prob(probs: list[dict], gram: tuple, backoffs: list[dict]) -> float:
    """P(last word | the rest) under the backoff model (recursive)."""
    if gram in probs[len(gram) - 1]:
        return probs[len(gram) - 1][gram]
    if len(gram) == 1:
        return 0.0
    return backoffs[len(gram) - 2].get(gram[:-1], 1.0) * prob(probs, gram[1:], backoffs)


def arpa(probs: list[dict], backoffs: list[dict]) -> str:
    """The model in ARPA text format (log10 values; -99 for <s>)."""
    out = ["\\data\\"] + [f"ngram {n + 1}={len(p)}" for n, p in enumerate(probs)] + [""]
    for n, table in enumerate(probs):
        out.append(f"\\{n + 1}-grams:")
        for gram in sorted(table):
            logp = math.log10(table[gram]) if table[gram] > 0 else -99.0
            line = f"{logp:.4f}\t{' '.join(gram)}"
            if n < ORDER - 1 and gram in backoffs[n]:
                line += f"\t{math.log10(max(backoffs[n][gram], 1e-99)):.4f}"
            out.append(line)
        out.append("")
    return "\n".join(out + ["\\end\\", ""])


def build(root: Path, dictionary: Path, vocab_size: int, min_count: int) -> tuple[str, str, dict]:
    """ARPA text, dictionary text and a summary for the ``vocab_size`` most frequent pronounceable words."""
    prons = cmudict(dictionary)
    sentences = list(corpus_lines(root))
    freq = Counter(w for words in sentences for w in words if w in prons)
    vocab = {w for w, _ in freq.most_common(vocab_size)}
    probs, backoffs = backoff_model(count_ngrams(sentences, vocab), min_count)
    variants = [f"{w} {p}" if i == 0 else f"{w}({i + 1}) {p}" for w in sorted(vocab) for i, p in enumerate(prons[w])]
    covered = sum(c for w, c in freq.items() if w in vocab) / max(sum(len(s) for s in sentences), 1)
    summary = {"sentences": len(sentences), "vocabulary": len(vocab), "token_coverage": round(covered, 4),
               "ngrams": [len(p) for p in probs], "min_count": min_count, "discount": DISCOUNT,
               "sources": [f"{folder}/{name}" for folder, name in SOURCES],
               "excluded": f"exact copies of {HELD_OUT[0]}/{HELD_OUT[1]}"}
    return arpa(probs, backoffs), "\n".join(variants) + "\n", summary


def write_manifest(out: Path, summary: dict) -> Path:
    """The transcriber manifest next to the binary LM and dictionary in ``out``."""
    lm, dictionary = out / "asr_lm.lm.bin", out / "asr_lm.dict"
    manifest = {
        "name": "asr_lm", "modality": "asr_lm", "format_version": 1, "model_file": lm.name,
        "sha256": sha256_of(lm), "precision": "n-gram", "labels": [],
        "input": {"engine": "pocketsphinx 5 (en-us acoustic model from its wheel)", "sample_rate": 16000},
        "features": {"dictionary_file": dictionary.name, "dictionary_sha256": sha256_of(dictionary),
                     "language_weight": LANGUAGE_WEIGHT, "word_insertion_penalty": WORD_INSERTION_PENALTY},
        "training_data": [
            "MELD text train (GPL-3.0), GoEmotions train (Apache-2.0), dair-ai emotion train (research use); "
            "exact copies of dair-ai validation sentences removed",
            "pronunciations: CMUdict as shipped in the pocketsphinx wheel (BSD-2-Clause)"],
        "licence_note": "n-gram counts of research-use text (dair-ai): research / non-commercial use only.",
        "metrics": summary,
    }
    path = out / LM_MANIFEST.name
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def main() -> None:
    import pocketsphinx  # desktop side: the wheel's CMUdict is the pronunciation source, its LM reader the converter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--vocab", type=int, default=6000)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--out", type=Path, default=LM_MANIFEST.parent)
    args = parser.parse_args()
    text, dict_text, summary = build(args.data, Path(pocketsphinx.get_model_path("en-us/cmudict-en-us.dict")),
                                     args.vocab, args.min_count)
    args.out.mkdir(parents=True, exist_ok=True)
    arpa_path = args.out / "asr_lm.arpa"
    arpa_path.write_text(text, encoding="ascii")
    config = pocketsphinx.Config(loglevel="FATAL")
    pocketsphinx.NGramModel(config, pocketsphinx.LogMath(), str(arpa_path)).write(str(args.out / "asr_lm.lm.bin"))
    arpa_path.unlink()
    (args.out / "asr_lm.dict").write_text(dict_text, encoding="ascii")
    print(json.dumps(summary))
    print(f"wrote {write_manifest(args.out, summary)}")


if __name__ == "__main__":
    main()
