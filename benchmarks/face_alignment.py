"""Expression accuracy with and without eye alignment on FER2013 public_test faces pasted into frames and rotated.

    python -m benchmarks.face_alignment [--out benchmarks/results/face]

Each public_test face is resized to a random side of 80-128 px, pasted at a random place in a flat grey
320x240 frame, and the frame is rotated about the face's centre by a random angle in +-MAX_ANGLE degrees
(edges replicated). The default detector finds the face; the shipped int8 model classifies the crop cut
out both ways: ``square_crop`` of the box (no alignment) and ``aligned_crop`` from BlazeFace's eye
keypoints (eyes levelled, scale from their distance). Accuracy counts a missed face as wrong; it is also
given by |angle| bin and on the detected faces only. The FER framing constants of ``aligned_crop``
(EYE_SPAN, EYE_LEVEL) are measured here too, on unrotated train faces, so they never see public_test.
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from edge.bench.environment import environment
from edge.face.detect import DEFAULT_DETECTOR, FaceDetector, make_detector
from edge.face.model import FaceEmotionModel
from edge.face.preprocess import EYE_LEVEL, EYE_SPAN, face_crop
from training.face.data import load_split

FRAME = (320, 240)
SIDES = (80, 128)
MAX_ANGLE = 30.0
ANGLE_BINS = (0.0, 10.0, 20.0, 30.0)
FRAMING_FACES = 1500


def rotated_frame(face: np.ndarray, rng: np.random.Generator, angle: float) -> np.ndarray:
    """``face`` at a random side and place in a flat grey frame, the frame turned by ``angle`` about the face."""
    width, height = FRAME
    side = int(rng.integers(SIDES[0], SIDES[1] + 1))
    x, y = int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1))
    frame = np.full((height, width), int(rng.integers(60, 200)), np.uint8)
    frame[y:y + side, x:x + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    turn = cv2.getRotationMatrix2D((x + side / 2, y + side / 2), angle, 1.0)
    return cv2.warpAffine(frame, turn, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def framing(detector: FaceDetector, faces: np.ndarray) -> dict:
    """Median eye distance and eye height (fractions of the crop side) of unrotated faces, BlazeFace keypoints."""
    spans, levels, centres = [], [], []
    side, pad = 96, 48
    for face in faces:
        frame = np.full((side + 2 * pad,) * 2, 128, np.uint8)
        frame[pad:pad + side, pad:pad + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        boxes = detector.detect(frame)
        if boxes:
            (rx, ry), (lx, ly) = boxes[0].keypoints[:2]
            spans.append(np.hypot(lx - rx, ly - ry) / side)
            levels.append(((ry + ly) / 2 - pad) / side)
            centres.append(((rx + lx) / 2 - pad) / side)
    return {"faces": len(faces), "detected": len(spans), "eye_span": float(np.median(spans)),
            "eye_level": float(np.median(levels)), "eye_centre_x": float(np.median(centres)),
            "shipped": {"eye_span": EYE_SPAN, "eye_level": EYE_LEVEL}}


def run(seed: int = 0) -> dict:
    """Accuracy with and without alignment over every public_test face, plus the framing measurement."""
    cv2.setNumThreads(1)
    detector = make_detector(DEFAULT_DETECTOR, threads=1)
    model = FaceEmotionModel.load(precision="int8", threads=1)
    train, _ = load_split("train")
    faces, labels = load_split("public_test")
    rng = np.random.default_rng(seed)
    angles = rng.uniform(-MAX_ANGLE, MAX_ANGLE, len(faces))
    found = np.zeros(len(faces), bool)
    right = {"square": np.zeros(len(faces), bool), "aligned": np.zeros(len(faces), bool)}
    for i, (face, label, angle) in enumerate(zip(faces, labels, angles)):
        frame = rotated_frame(face, rng, angle)
        boxes = detector.detect(frame)
        if not boxes:
            continue
        found[i] = True
        box = boxes[0]
        for name, align in (("square", False), ("aligned", True)):
            crop = face_crop(frame, box.as_list(), box.keypoints, model.crop_margin, align=align)
            right[name][i] = model.probs(crop).argmax() == label
    upright = np.array([model.probs(face).argmax() for face in faces]) == labels
    bins = list(zip(ANGLE_BINS[:-1], ANGLE_BINS[1:]))
    by_bin = {f"{lo:g}-{hi:g}": np.abs(angles) >= lo if hi == ANGLE_BINS[-1] else
              (np.abs(angles) >= lo) & (np.abs(angles) < hi) for lo, hi in bins}
    crops = {name: {"accuracy": float(hit.mean()), "accuracy_detected": float(hit[found].mean()),
                    "accuracy_by_abs_angle": {b: float(hit[m].mean()) for b, m in by_bin.items()}}
             for name, hit in right.items()}
    picks = np.random.default_rng(seed).choice(len(train), FRAMING_FACES, replace=False)
    return {"settings": {"frame": FRAME, "face_sides": SIDES, "max_angle_deg": MAX_ANGLE, "seed": seed,
                         "detector": DEFAULT_DETECTOR, "model": "shipped int8", "flip_average": model.flip_average,
                         "faces": len(faces)},
            "environment": environment(), "detected": float(found.mean()),
            "upright_crop_accuracy": float(upright.mean()), "crops": crops,
            "framing": framing(detector, train[picks])}


def markdown(results: dict) -> str:
    """One table: accuracy per crop method, overall, per |angle| bin and on detected faces."""
    bins = list(next(iter(results["crops"].values()))["accuracy_by_abs_angle"])
    lines = [f"Faces detected: {100 * results['detected']:.1f} %; the same faces unrotated as 48x48 crops: "
             f"{100 * results['upright_crop_accuracy']:.1f} % accuracy.", "",
             "| crop | accuracy | " + " | ".join(f"|angle| {b} deg" for b in bins) + " | on detected faces |",
             "|---|---|" + "---|" * len(bins) + "---|"]
    for name, r in results["crops"].items():
        lines.append(f"| {name} | {100 * r['accuracy']:.1f} | "
                     + " | ".join(f"{100 * v:.1f}" for v in r["accuracy_by_abs_angle"].values())
                     + f" | {100 * r['accuracy_detected']:.1f} |")
    f = results["framing"]
    lines += ["", f"FER framing from {f['detected']} of {f['faces']} train faces: eye span {f['eye_span']:.3f}, "
              f"eye level {f['eye_level']:.3f} of the side (shipped {f['shipped']})."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/face"))
    args = parser.parse_args()
    results = run(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "alignment.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "alignment.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
