"""A small classifier on windows of speech embeddings, trained and run with numpy alone (so on the device).

A head reads ``window`` consecutive 96-d embeddings (edge.asr.embedding), standardises them, and
passes them through zero or one ReLU hidden layer to a softmax over its classes. Saved as one .npz
(no pickle): the arrays (weight matrices in float16, computed in float32), the class names, and the
threshold of every class it may report.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.errors import ModelError

FORMAT = "edge-emotion keyword head 1"


@dataclass(frozen=True)
class Head:
    """Weights and metadata of one trained head; ``thresholds`` names the classes it reports."""

    classes: tuple[str, ...]
    window: int
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    thresholds: dict[str, float]

    def logits(self, x: np.ndarray) -> np.ndarray:
        """(n, classes) logits of (n, window, 96) embedding windows."""
        h = (x.reshape(len(x), -1).astype(np.float32) - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return h

    def probs(self, x: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities of (n, window, 96) embedding windows."""
        return softmax(self.logits(x))

    def save(self, path: str | Path) -> None:
        """Write the head as an .npz that ``load_head`` reads."""
        arrays = {f"weight{i}": w.astype(np.float16) for i, (w, _) in enumerate(self.layers)}  # half the bytes
        arrays |= {f"bias{i}": b for i, (_, b) in enumerate(self.layers)}
        with Path(path).open("wb") as fh:
            np.savez(fh, format=np.array(FORMAT), classes=np.array(self.classes), window=np.array(self.window),
                     mean=self.mean, scale=self.scale, threshold_words=np.array(list(self.thresholds), dtype=str),
                     threshold_values=np.array(list(self.thresholds.values()), np.float64), **arrays)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def load_head(path: str | Path) -> Head:
    """Read a head saved by ``Head.save``; ModelError naming the file if it is not one."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            if str(data["format"]) != FORMAT:
                raise ModelError(f"{path}: not a keyword head ({str(data['format'])!r})")
            n = sum(1 for k in data.files if k.startswith("weight"))
            layers = tuple((data[f"weight{i}"].astype(np.float32), data[f"bias{i}"].astype(np.float32))
                           for i in range(n))
            head = Head(tuple(str(c) for c in data["classes"]), int(data["window"]), data["mean"].astype(np.float32),
                        data["scale"].astype(np.float32), layers,
                        {str(w): float(t) for w, t in zip(data["threshold_words"], data["threshold_values"])})
    except FileNotFoundError:
        raise ModelError(f"{path}: keyword model not found") from None
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{path}: not a readable keyword head ({exc})") from None
    if not layers or layers[-1][0].shape[1] != len(head.classes) or not set(head.thresholds) <= set(head.classes):
        raise ModelError(f"{path}: keyword head layers, classes and thresholds do not match")
    return head


def fit_head(x: np.ndarray, y: np.ndarray, classes: tuple[str, ...], thresholds: dict[str, float],
             hidden: int = 64, epochs: int = 30, lr: float = 2e-3, weight_decay: float = 1e-4,
             batch: int = 128, seed: int = 0) -> Head:
    """Train a head on (n, window, 96) windows ``x`` with class ids ``y`` by Adam on class-balanced
    cross-entropy (every class weighs the same in total); ``hidden`` 0 gives logistic regression."""
    rng = np.random.default_rng(seed)
    flat = x.reshape(len(x), -1).astype(np.float32)
    mean, scale = flat.mean(axis=0), flat.std(axis=0) + 1e-3
    z = (flat - mean) / scale
    sizes = [z.shape[1], hidden, len(classes)] if hidden else [z.shape[1], len(classes)]
    params = [p for a, b in zip(sizes, sizes[1:])
              for p in ((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32), np.zeros(b, np.float32))]
    counts = np.bincount(y, minlength=len(classes)).astype(np.float32)
    sample_weight = (len(y) / (len(classes) * np.maximum(counts, 1)))[y]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    step = 0
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(y)), max(1, len(y) // batch)):
            step += 1
            grads = _gradients(params, z[idx], y[idx], sample_weight[idx])
            for i, (p, g) in enumerate(zip(params, grads)):
                m, v = moments[i]
                m[:] = 0.9 * m + 0.1 * g
                v[:] = 0.999 * v + 0.001 * g * g
                update = (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
                p -= lr * (update + (weight_decay * p if p.ndim == 2 else 0.0))
    layers = tuple((params[i], params[i + 1]) for i in range(0, len(params), 2))
    return Head(tuple(classes), x.shape[1], mean, scale, layers, dict(thresholds))


def _gradients(params: list[np.ndarray], z: np.ndarray, y: np.ndarray, weight: np.ndarray) -> list[np.ndarray]:
    """Gradients of the weighted mean cross-entropy for the flat parameter list [w0, b0, w1, b1, ...]."""
    activations = [z]
    for i in range(0, len(params), 2):
        h = activations[-1] @ params[i] + params[i + 1]
        activations.append(np.maximum(h, 0.0) if i + 2 < len(params) else h)
    delta = softmax(activations[-1])
    delta[np.arange(len(y)), y] -= 1.0
    delta *= (weight / weight.sum())[:, None]
    grads: list[np.ndarray] = []
    for i in range(len(params) - 2, -1, -2):
        grads[:0] = [activations[i // 2].T @ delta, delta.sum(axis=0)]
        if i:
            delta = (delta @ params[i].T) * (activations[i // 2] > 0)
    return grads
