"""TF-IDF + linear baseline for the text table: word 1-2-gram TF-IDF, softmax regression over each corpus's
labels (the same masked loss as the networks), L2, fitted with L-BFGS on the train splits.

    python -m training.text.tfidf --out benchmarks/results/text/tfidf.json [--l2 1e-6] [--per-corpus]

Also the reference the distilled models must clearly beat on the same validation split.
"""

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import optimize, sparse

from training.text.data import CORPORA, TextSet, load_splits
from training.text.evaluate import headline, validation_scores

TOKEN = re.compile(r"\w+|[^\w\s]")


def ngrams(text: str) -> list[str]:
    """Lower-cased word and punctuation unigrams and bigrams."""
    words = TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


class TfidfLinear:
    """Sublinear TF-IDF (terms seen in >= ``min_df`` training texts), l2-normalised rows, softmax regression."""

    def __init__(self, min_df: int = 2, l2: float = 1e-4) -> None:
        self.min_df, self.l2 = min_df, l2

    def _matrix(self, texts: list[str]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            for term, count in Counter(ngrams(text)).items():
                if term in self.vocab:
                    rows.append(r)
                    cols.append(self.vocab[term])
                    vals.append((1.0 + np.log(count)) * self.idf[self.vocab[term]])
        x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)), dtype=np.float64)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
        return sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ x

    def fit(self, data: TextSet, max_iter: int = 300) -> "TfidfLinear":
        """Vocabulary, idf and weights from ``data`` (its targets and label masks)."""
        df = Counter(term for text in data.texts for term in set(ngrams(text)))
        terms = sorted(t for t, c in df.items() if c >= self.min_df)
        self.vocab = {t: i for i, t in enumerate(terms)}
        n = len(data.texts)
        self.idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in terms])
        x = self._matrix(data.texts)
        y, mask = data.targets, data.label_mask
        k = y.shape[1]

        def loss_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = flat[:-k].reshape(-1, k), flat[-k:]
            logits = np.where(mask > 0, x @ w + b, -1e9)
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            loss = -(y * np.log(np.maximum(p, 1e-30))).sum() / n + 0.5 * self.l2 * (w * w).sum()
            d = (p - y) / n
            return loss, np.concatenate([(x.T @ d + self.l2 * w).ravel(), d.sum(axis=0)])

        start = np.zeros(x.shape[1] * k + k)
        fitted = optimize.minimize(loss_grad, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
        self.w, self.b = fitted.x[:-k].reshape(-1, k), fitted.x[-k:]
        return self

    def probs(self, texts: list[str]) -> np.ndarray:
        """Softmax over all 7 labels, shape (len(texts), 7)."""
        logits = self._matrix(texts) @ self.w + self.b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)


def fit_predict(train: TextSet, val: TextSet, l2: float, per_corpus: bool) -> np.ndarray:
    """Validation probabilities of one model over all corpora, or of one model per corpus on its own rows."""
    if not per_corpus:
        return TfidfLinear(l2=l2).fit(train).probs(val.texts)
    probs = np.zeros(val.targets.shape)
    for corpus in CORPORA:
        rows = val.corpus == corpus
        probs[rows] = TfidfLinear(l2=l2).fit(train.subset(train.corpus == corpus)).probs(val.subset(rows).texts)
    return probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/text/tfidf.json"))
    parser.add_argument("--l2", type=float, default=1e-6)
    parser.add_argument("--per-corpus", action="store_true", help="one model per corpus instead of one joint model")
    args = parser.parse_args()
    train, val = load_splits()
    scores = validation_scores(fit_predict(train, val, args.l2, args.per_corpus), val)
    print(f"tfidf l2={args.l2} per_corpus={args.per_corpus}: {headline(scores)}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": "tfidf-linear", "l2": args.l2, "per_corpus": args.per_corpus,
                                    "validation": scores}, indent=1) + "\n")


if __name__ == "__main__":
    main()
