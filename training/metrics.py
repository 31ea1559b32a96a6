"""Classification metrics reported across the project: UA, WA, macro-F1, confusion matrix."""

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Confusion counts, rows = true class, columns = predicted class."""
    cm = np.zeros((n, n), dtype=int)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def summarise(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> dict:
    """UA (mean recall over classes present), WA (accuracy), macro- and support-weighted F1, confusion matrix."""
    cm = confusion(y_true, y_pred, len(labels))
    support = cm.sum(axis=1)
    present = support > 0
    recall = np.divide(np.diag(cm), support, out=np.zeros(len(labels)), where=present)
    predicted = cm.sum(axis=0)
    precision = np.divide(np.diag(cm), predicted, out=np.zeros(len(labels)), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(labels)),
                   where=(precision + recall) > 0)
    return {
        "ua": float(recall[present].mean()),
        "wa": float(np.trace(cm) / max(cm.sum(), 1)),
        "macro_f1": float(f1[present].mean()),
        "weighted_f1": float((f1 * support).sum() / max(support.sum(), 1)),
        "n": int(cm.sum()),
        "recall": {lab: float(r) for lab, r, p in zip(labels, recall, present) if p},
        "labels": list(labels),
        "confusion": cm.tolist(),
    }
