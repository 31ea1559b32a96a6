"""Eye-aligned face crops land the eyes level at FER2013's framing; flip averaging is the mean over the mirror."""

import math

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from edge.face.model import FaceEmotionModel  # noqa: E402
from edge.face.preprocess import EYE_LEVEL, EYE_SPAN, aligned_crop, face_crop, square_crop  # noqa: E402


def dots(shape: tuple[int, int], points: list[tuple[float, float]]) -> np.ndarray:
    """A black image with a small white disc at each (x, y)."""
    image = np.zeros(shape, np.uint8)
    for x, y in points:
        cv2.circle(image, (round(x), round(y)), 3, 255, -1)
    return image


def centroids(image: np.ndarray) -> list[tuple[float, float]]:
    """(x, y) of each bright blob, left to right."""
    count, _, _, centres = cv2.connectedComponentsWithStats((image > 127).astype(np.uint8))
    return sorted((float(x), float(y)) for x, y in centres[1:count])


@pytest.mark.parametrize("angle", [-30.0, 0.0, 25.0])
def test_aligned_crop_levels_the_eyes_at_fer_framing(angle: float) -> None:
    span, (cx, cy) = 40.0, (150.0, 120.0)
    dx, dy = span / 2 * math.cos(math.radians(angle)), span / 2 * math.sin(math.radians(angle))
    right, left = (cx - dx, cy - dy), (cx + dx, cy + dy)
    crop = aligned_crop(dots((240, 320), [right, left]), right, left)
    side = round(span / EYE_SPAN)
    assert crop.shape == (side, side)
    (x0, y0), (x1, y1) = centroids(crop)
    assert abs(y0 - y1) < 1.0 and abs((y0 + y1) / 2 - EYE_LEVEL * side) < 1.0
    assert abs((x0 + x1) / 2 - side / 2) < 1.0 and abs((x1 - x0) - span) < 1.5


def test_face_crop_without_keypoints_or_alignment_is_the_square_box() -> None:
    image = np.random.default_rng(0).integers(0, 256, (100, 120), dtype=np.uint8)
    box = (30, 20, 40, 40)
    expected = square_crop(image, box, 0.1)
    np.testing.assert_array_equal(face_crop(image, box, (), 0.1), expected)
    np.testing.assert_array_equal(face_crop(image, box, ((40.0, 35.0), (60.0, 35.0)), 0.1, align=False), expected)


def test_flip_average_is_the_mean_of_the_crop_and_its_mirror() -> None:
    crop = np.random.default_rng(1).integers(0, 256, (60, 60), dtype=np.uint8)
    model = FaceEmotionModel.load()
    assert model.flip_average  # the shipped manifests ask for it
    flipped = model.probs(crop)
    model.flip_average = False
    np.testing.assert_allclose(flipped, (model.probs(crop) + model.probs(np.ascontiguousarray(crop[:, ::-1]))) / 2,
                               atol=1e-6)
    assert not np.allclose(flipped, model.probs(crop), atol=1e-3)
