"""Fusion over a CSV of inputs: columns audio, text, image (any may be empty); one fused result per row.

Relative paths count from the CSV's folder. A modality that fails on a row is reported in that
row's ``modalities`` as ``{"error": ...}`` and the others are fused without it.
"""

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from edge.analysis import analyze_audio
from edge.audio.decode import load_audio
from edge.audio.vad import FrameVad
from edge.errors import ConfigError, EdgeEmotionError
from edge.face.image import load_grey_image
from edge.fusion import ModalityResult, fuse, gather
from edge.result import Prediction

COLUMNS = ("audio", "text", "image")
MODALITY_OF = {"audio": "speech", "text": "text", "image": "face"}


def read_table(path: str | Path) -> list[dict[str, str]]:
    """The CSV's rows (header required, needing at least one of COLUMNS); ConfigError names the problem."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: cannot read the CSV manifest ({exc})") from None
    if not set(header) & set(COLUMNS):
        raise ConfigError(f"{path}: the CSV header needs columns {', '.join(COLUMNS)} "
                          f"(got {', '.join(header) or 'none'})")
    return [{c: (row.get(c) or "").strip() for c in COLUMNS} for row in rows]


@dataclass
class RowFuser:
    """Scores each present cell with its modality's model, loaded on first use, and fuses the row."""

    loaders: dict[str, Callable[[], Any]]   # modality -> loader of its model class
    vad: FrameVad
    weights: dict[str, float] | None = None

    def __post_init__(self) -> None:
        self._models: dict[str, Any] = {}

    def _model(self, modality: str) -> Any:
        if modality not in self._models:
            self._models[modality] = self.loaders[modality]()
        return self._models[modality]

    def _result(self, column: str, value: str, base: Path) -> ModalityResult:
        """One cell scored by its modality's model, calibrated by that model's manifest; an image is a face crop."""
        model = self._model(MODALITY_OF[column])
        if column == "text":
            return ModalityResult(model.predict(value), model.manifest.temperature)
        path = Path(value) if Path(value).is_absolute() else base / value
        if column == "image":
            return ModalityResult(model.predict(load_grey_image(path)), model.manifest.temperature)
        return ModalityResult(analyze_audio(model, load_audio(path), self.vad).overall, model.manifest.temperature)

    def fuse_row(self, row: dict[str, str], base: Path) -> tuple[Prediction, dict[str, dict]]:
        """(fused prediction, per-modality JSON); EdgeEmotionError when no modality of the row answered."""
        results, shown = gather({MODALITY_OF[c]: (lambda c=c: self._result(c, row[c], base))
                                 for c in COLUMNS if row[c]})
        if not results:
            problems = "; ".join(f"{k}: {v['error']}" for k, v in shown.items()) or "every cell is empty"
            raise EdgeEmotionError(f"no modality answered ({problems})")
        return fuse(results, self.weights), shown


RowOutcome = tuple[Prediction, dict] | EdgeEmotionError


def fused_rows(fuser: RowFuser, csv_path: str | Path) -> Iterator[tuple[int, RowOutcome]]:
    """(row number from 1, its fused result or its error) for every row of the CSV."""
    base = Path(csv_path).parent
    for number, row in enumerate(read_table(csv_path), start=1):
        try:
            yield number, fuser.fuse_row(row, base)
        except EdgeEmotionError as exc:
            yield number, exc
