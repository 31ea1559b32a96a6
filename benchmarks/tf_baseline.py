"""The shipped speech model under full TensorFlow vs the TFLite runtime: latency and peak RSS, desktop only.

    python -m benchmarks.tf_baseline [--run runs/speech/student/final] [--invokes 200]

Each engine runs in its own fresh process (so peak RSS is that engine's alone): TensorFlow loads the
Keras float model from the training run (batch 1, called through a compiled tf.function), the
runtime loads the shipped float32 and int8 TFLite files. Same random window, one thread each,
median and p90 per invoke after warm-up; ratios are TFLite / TensorFlow.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from edge.bench.environment import environment

RESULTS = Path("benchmarks/results/speech/tf_baseline.json")

_TF_CHILD = """
import json, os, sys, time
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np, tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
import pickle
from training.speech.port import to_keras
from edge.audio.features import FeatureContract
from edge.bench.memory import peak_rss_mb
run, invokes = sys.argv[1], int(sys.argv[2])
metrics = json.load(open(os.path.join(run, "metrics.json")))
weights = pickle.load(open(os.path.join(run, "params.pkl"), "rb"))
model = to_keras(weights["params"], weights["state"], metrics["recipe"], 7,
                 FeatureContract.from_dict(metrics["features"]).dims)
call = tf.function(lambda x: model(x, training=False))
x = tf.constant(np.random.default_rng(0).standard_normal(model.input_shape).astype(np.float32))
for _ in range(20):
    call(x)
times = []
for _ in range(invokes):
    t = time.perf_counter(); call(x).numpy(); times.append(time.perf_counter() - t)
print(json.dumps({"median_ms": 1000 * float(np.median(times)), "p90_ms": 1000 * float(np.percentile(times, 90)),
                  "peak_rss_mb": peak_rss_mb()}))
"""

_TFLITE_CHILD = """
import json, sys
import numpy as np
from edge.bench.latency import latency
from edge.bench.memory import peak_rss_mb
from edge.manifest import default_manifest, load_manifest
lat = latency(load_manifest(default_manifest("speech", sys.argv[1])), 1, int(sys.argv[2]), 20)
print(json.dumps({"median_ms": lat["median_ms"], "p90_ms": lat["p90_ms"], "peak_rss_mb": peak_rss_mb()}))
"""


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter and parse the JSON line it prints last."""
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child process failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/speech/student/final")
    parser.add_argument("--invokes", type=int, default=200)
    args = parser.parse_args()
    engines = {"tensorflow float32 (Keras)": child(_TF_CHILD, args.run, str(args.invokes)),
               "tflite float32": child(_TFLITE_CHILD, "float32", str(args.invokes)),
               "tflite int8": child(_TFLITE_CHILD, "int8", str(args.invokes))}
    tf_ref = engines["tensorflow float32 (Keras)"]
    for r in engines.values():
        r["latency_ratio_vs_tf"] = r["median_ms"] / tf_ref["median_ms"]
        r["rss_ratio_vs_tf"] = r["peak_rss_mb"] / tf_ref["peak_rss_mb"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"run": args.run, "engines": engines, "environment": environment()}, indent=1) + "\n")
    print("| engine | median ms | p90 ms | peak RSS MB | latency / TF | RSS / TF |")
    print("|---|---|---|---|---|---|")
    for name, r in engines.items():
        print(f"| {name} | {r['median_ms']:.3f} | {r['p90_ms']:.3f} | {r['peak_rss_mb']:.0f} | "
              f"{r['latency_ratio_vs_tf']:.3f} | {r['rss_ratio_vs_tf']:.3f} |")


if __name__ == "__main__":
    main()
