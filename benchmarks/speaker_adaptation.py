"""What speaker adaptation costs at run time: time per utterance and memory, against the issue's targets
(< 1 ms and < 1 MB per utterance), on the shipped speech model's feature contract.

    python -m benchmarks.speaker_adaptation            # prints the figures and PASS/MISS, writes the JSON

Timed: everything adaptation adds to ``SpeechEmotionModel.predict`` for one 3 s utterance - the shrunk
speaker mean/std, the normalisation with them instead of the fixed statistics, and learning the
utterance - as the median over repeats. Memory: the bytes a session keeps (independent of how long it
runs) and the peak extra allocation of one adapted utterance (tracemalloc).
"""

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np

from edge.audio.features import normalise, raw_features
from edge.speech import SpeechEmotionModel

OUT = Path("benchmarks/results/speech/speaker_adaptation.json")
TARGET_MS, TARGET_BYTES = 1.0, 1 << 20


def measure(repeats: int = 300) -> dict:
    """Median added milliseconds per utterance and the session's memory, for the shipped model."""
    model = SpeechEmotionModel.load()
    rng = np.random.default_rng(0)
    raw = raw_features((0.1 * rng.standard_normal(48_000)).astype(np.float32), model.contract)
    session = model.session()
    for _ in range(10):
        session.stats.observe(raw)
    plain, adapted = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        normalise(raw, model.contract)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        normalise(raw, model.contract, session.stats.mean_std(model.contract))
        session.stats.observe(raw)
        adapted.append(time.perf_counter() - start)
    tracemalloc.start()
    normalise(raw, model.contract, session.stats.mean_std(model.contract))
    session.stats.observe(raw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = session.stats.mean_sum.nbytes + session.stats.square_sum.nbytes + 8
    added_ms = 1000 * (np.median(adapted) - np.median(plain))
    return {"frames_per_utterance": int(raw.shape[0]), "added_ms_per_utterance": round(float(added_ms), 4),
            "session_bytes": kept, "peak_bytes_per_utterance": int(peak),
            "pass_time": bool(added_ms < TARGET_MS), "pass_memory": bool(max(kept, peak) < TARGET_BYTES)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    result = measure()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"adaptation adds {result['added_ms_per_utterance']:.3f} ms per 3 s utterance "
          f"({'PASS' if result['pass_time'] else 'MISS'} < {TARGET_MS} ms); a session keeps "
          f"{result['session_bytes']} bytes, one utterance peaks at {result['peak_bytes_per_utterance'] / 1024:.0f} KB "
          f"({'PASS' if result['pass_memory'] else 'MISS'} < 1 MB)")


if __name__ == "__main__":
    main()
