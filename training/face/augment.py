"""FER training augmentation: flips, small rotations/scales/shifts, brightness/contrast, occlusion."""

import cv2
import numpy as np


def augment_batch(images: np.ndarray, rng: np.random.Generator, rotate_deg: float = 12.0,
                  scale: float = 0.1, shift: float = 0.08, occlude_prob: float = 0.3) -> np.ndarray:
    """A randomly perturbed uint8 copy of ``images`` [N, H, W] (one fresh draw per image)."""
    n, h, w = images.shape
    out = np.empty_like(images)
    angles = rng.uniform(-rotate_deg, rotate_deg, n)
    scales = rng.uniform(1 - scale, 1 + scale, n)
    shifts = rng.uniform(-shift, shift, (n, 2)) * (w, h)
    flips = rng.random(n) < 0.5
    for i in range(n):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angles[i], scales[i])
        m[:, 2] += shifts[i]
        img = cv2.warpAffine(images[i], m, (w, h), borderMode=cv2.BORDER_REFLECT_101)
        out[i] = img[:, ::-1] if flips[i] else img
    gain = rng.uniform(0.75, 1.25, (n, 1, 1))
    bias = rng.uniform(-25, 25, (n, 1, 1))
    mean = out.mean(axis=(1, 2), keepdims=True)
    out = np.clip((out - mean) * gain + mean + bias, 0, 255).astype(np.uint8)
    for i in np.flatnonzero(rng.random(n) < occlude_prob):
        bh, bw = rng.integers(h // 6, h // 3 + 1, 2)
        y, x = rng.integers(0, h - bh + 1), rng.integers(0, w - bw + 1)
        out[i, y:y + bh, x:x + bw] = rng.integers(0, 256)
    return out
