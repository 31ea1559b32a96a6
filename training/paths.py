"""Where desktop training reads corpora and keeps caches: one place for every modality."""

import os
from pathlib import Path

SHARED_DATA = Path(os.environ.get("EDGE_EMOTION_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CACHE_DIR = Path(os.environ.get("EDGE_EMOTION_CACHE", Path.home() / ".cache" / "edge-emotion"))
