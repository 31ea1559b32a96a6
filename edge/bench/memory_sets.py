"""Peak RSS of fresh processes holding chosen sets of the shipped int8 models: what each part of an app costs.

    python -m edge.bench.memory_sets [--out benchmarks/results/runtime]

Writes memory.json and memory.md: the runtime alone, the runtime plus an OpenCV import, speech + text, the
keyword network, the face path (classifier + both detectors, with OpenCV) and every deployed model together.
"""

import argparse
import json
from pathlib import Path

from edge.bench.environment import environment
from edge.bench.models import shipped_manifests
from edge.bench.processes import OPENCV, process_peak_rss_mb
from edge.bench.run import default_out_dir

# name -> the modalities whose deployed (non-float32) models the process loads; OPENCV: import OpenCV alone
SETS: dict[str, tuple[str, ...]] = {
    "runtime only (numpy + TFLite interpreter, no model)": (),
    "runtime + OpenCV import, no model": (OPENCV,),
    "speech + text": ("speech", "text"),
    "keyword network": ("keywords",),
    "face path: classifier + both detectors (imports OpenCV)": ("face", "face_detector"),
    "every deployed model": ("face", "face_detector", "keywords", "speech", "text"),
}


def memory_sets() -> list[dict]:
    """Per set: its name, the models it loads and the peak RSS (MB) of a fresh process holding them."""
    deployed = {modality: [m for m in manifests if m.precision != "float32"]
                for modality, manifests in shipped_manifests().items()}
    rows = []
    for name, parts in SETS.items():
        models = [m for part in parts for m in deployed.get(part, [])]
        probes = ([OPENCV] if OPENCV in parts else []) + [m.path for m in models]
        rows.append({"set": name, "models": [m.name for m in models], "peak_rss_mb": process_peak_rss_mb(probes)})
    return rows


def markdown(results: dict) -> str:
    """memory.md: one table, then the environment line."""
    lines = ["# Peak RSS by model set (fresh process, one inference per model)", "",
             "| set | models | peak RSS (MB) |", "|---|---|---|"]
    lines += [f"| {r['set']} | {', '.join(r['models']) or '-'} | {r['peak_rss_mb']:.1f} |" for r in results["sets"]]
    env = results["environment"]
    return "\n".join(lines + ["", f"{env['platform']}, {env['interpreter']} {env['interpreter_version']}, "
                                  f"{env['timestamp']}"]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_out_dir())
    args = parser.parse_args()
    results = {"environment": environment(), "sets": memory_sets()}
    (args.out / "memory.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (args.out / "memory.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results), end="")


if __name__ == "__main__":
    main()
