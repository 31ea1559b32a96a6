"""Benchmark results as tables, rendered once as Markdown (results.md) and once as the printed summary."""

import json
from pathlib import Path
from typing import Any

Table = tuple[str, list[str], list[list[str]]]  # title, header, rows


def scalar_metrics(metrics: dict, prefix: str = "") -> dict[str, Any]:
    """The manifest's metrics flattened to dotted keys, keeping only numbers and strings (lists stay in the JSON)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(scalar_metrics(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float, str)):
            flat[f"{prefix}{key}"] = value
    return flat


def fmt(value: Any, unit: str = "") -> str:
    """A number as shown in the reports: 4 significant digits, then its unit."""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{text}{unit}" if unit in ("", "x") else f"{text} {unit}"


def model_tables(results: dict) -> list[Table]:
    """Size and memory, latency per thread count, and the manifest metrics of each model."""
    models = results["models"]
    threads = [lat["threads"] for lat in models[0]["latency"]] if models else []
    return [
        ("Models", ["model", "modality", "precision", "size (KB)", "peak RSS (MB)", "labels"],
         [[m["name"], m["modality"], m["precision"], f"{m['size_kb']:.1f}", f"{m['peak_rss_mb']:.1f}",
           ", ".join(m["labels"])] for m in models]),
        ("Latency per invoke, ms (median / p90)", ["model", *(f"{t} thread(s)" for t in threads)],
         [[m["name"], *(f"{lat['median_ms']:.3f} / {lat['p90_ms']:.3f}" for lat in m["latency"])] for m in models]),
        ("Manifest metrics (as recorded at training time; each model's `evaluation` row names the data: "
         "cross-validation folds for speech, one validation split for the others)", ["model", "metric", "value"],
         [[m["name"], key, fmt(value)] for m in models for key, value in scalar_metrics(m["metrics"]).items()]
         + [[m["name"], "(none recorded in the manifest)", ""] for m in models if not scalar_metrics(m["metrics"])]),
    ]


def speech_tables(results: dict) -> list[Table]:
    """The end-to-end audio path and the int8/float32 agreement, when measured."""
    tables: list[Table] = []
    if "audio_path" in results:
        a = results["audio_path"]
        tables.append(("End-to-end audio path (30 ms blocks -> VAD -> int8 speech model)",
                       ["stream (s)", "threads", "utterances found", "expected", "wall (s)", "real-time factor"],
                       [[f"{a['audio_s']:.1f}", str(a["threads"]), str(a["utterances_found"]),
                         str(a["utterances_expected"]), f"{a['wall_s']:.3f}", f"{a['rtf']:.4f}"]]))
    for modality, agree in results.get("agreement", {}).items():
        if "skipped" not in agree:
            tables.append((f"{modality} int8 vs float32 agreement (not accuracy: see notes)",
                           ["clips", "corpora", "identical labels", "mean abs score diff", "max abs score diff"],
                           [[str(agree["clips"]), ", ".join(agree["corpora"]), f"{100 * agree['label_agreement']:.1f}%",
                             f"{agree['mean_abs_score_diff']:.4f}", f"{agree['max_abs_score_diff']:.4f}"]]))
    return tables


def face_tables(results: dict) -> list[Table]:
    """The face path (detect + classify per frame) next to the `fer` baseline classifier, when measured."""
    if "face_path" not in results:
        return []
    f = results["face_path"]
    rows = [[f"edge-emotion {f['precision']} + {f['detector']}", f"{f['frame'][0]}x{f['frame'][1]}",
             str(f["faces_in_frame"]), f"{f['median_ms']:.3f} / {f['p90_ms']:.3f}", f"{f['fps']:.0f}",
             f"{f['classify_median_ms']:.3f}", ""]]
    if "fer_baseline" in f:
        b = f["fer_baseline"]
        rows.append([b["model"], "", "", "", "", f"{b['classify_median_ms']:.3f}", f"{b['size_bytes'] / 1024:.1f}"])
    return [("Face path (1 thread)", ["pipeline", "frame", "faces", "ms per frame (median / p90)", "frames/s",
                                     "classifier ms per face", "classifier size (KB)"], rows)]


def tables(results: dict) -> list[Table]:
    """Every table of the report, targets first."""
    targets = ("Targets", ["result", "measure", "value", "target"],
               [["PASS" if t["passed"] else "MISS", t["name"], fmt(t["value"], t["unit"]),
                 "<= " + fmt(t["limit"], t["unit"])] for t in results["targets"]])
    env = ("Environment", ["key", "value"], [[k, str(v)] for k, v in results["environment"].items()])
    return [targets, *model_tables(results), *speech_tables(results), *face_tables(results), env]


def markdown(results: dict) -> str:
    """results.md: a heading, one Markdown table per table, then the notes."""
    parts = [f"# edge-emotion runtime benchmark ({results['mode']})"]
    for title, header, rows in tables(results):
        lines = [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        parts.append("\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]))
    parts.append("## Notes\n\n" + "\n".join(f"- {note}" for note in results["notes"]))
    return "\n\n".join(parts) + "\n"


def summary(results: dict) -> str:
    """The printed summary: every table with aligned columns, then the notes."""
    parts = [f"edge-emotion benchmark ({results['mode']})"]
    for title, header, rows in tables(results):
        widths = [max(map(len, column)) for column in zip(header, *rows)]
        lines = ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
        parts.append("\n".join([title, *lines]))
    parts.append("\n".join(["Notes", *(f"  - {note}" for note in results["notes"])]))
    return "\n\n".join(parts)


def write_reports(results: dict, out: Path) -> list[Path]:
    """Write results.json and results.md into ``out`` (which exists); return their paths."""
    paths = [out / "results.json", out / "results.md"]
    paths[0].write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(results), encoding="utf-8")
    return paths
