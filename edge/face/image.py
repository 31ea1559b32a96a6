"""Image files -> 2-D uint8 grey arrays (JPEG/PNG/BMP/TIFF/WebP, any channels), with one clear error per problem."""

from pathlib import Path

import numpy as np

from edge.errors import ImageError
from edge.face.opencv import cv2_module

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
MAX_IMAGE_BYTES = 256 << 20     # larger files are refused before reading
MAX_IMAGE_PIXELS = 100_000_000  # 10k x 10k; larger decodes would cost > 100 MB on the device


def is_image_path(path: str | Path) -> bool:
    """Whether a path's suffix names an image (how `analyze` tells images from audio)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def decode_grey(data: bytes, name: str) -> np.ndarray:
    """Decode encoded image bytes to grey; colour, alpha and CMYK are converted, 16-bit scaled to 8-bit."""
    cv2 = cv2_module()
    if not data:
        raise ImageError(f"{name}: empty file")
    grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if grey is None or grey.size == 0:
        raise ImageError(f"{name}: not a readable image (corrupt, truncated or an unsupported format)")
    if grey.size > MAX_IMAGE_PIXELS:
        raise ImageError(f"{name}: {grey.shape[1]}x{grey.shape[0]} pixels is more than the "
                         f"{MAX_IMAGE_PIXELS // 1_000_000} MP this runtime accepts")
    return grey


def load_grey_image(path: str | Path) -> np.ndarray:
    """Read one image file as a 2-D uint8 grey array; ImageError names what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not an image file")
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageError(f"{path}: {size >> 20} MB is larger than the {MAX_IMAGE_BYTES >> 20} MB image limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_grey(data, str(path))
