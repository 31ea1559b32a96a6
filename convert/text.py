"""Convert the distilled text student to TFLite and ONNX, score every form on validation, gate, ship.

    python -m convert.text --run runs/text/student            # convert + evaluate + gate
    python -m convert.text --run runs/text_kd/spm-student     # sentencepiece student (tokenizer from the run)
    python -m convert.text --run runs/text/student --ship     # also install the int8 model into edge/models
    python -m convert.text --run runs/smoke/student --limit 200   # smoke: first 200 rows per corpus

TFLite float32, full-integer int8 and dynamic-range int8 are scored through the runtime class; the shipped
int8 model is the full-integer one if it stays within 1 point of float32 on every validation headline score,
else the dynamic-range one, which must pass the same gate or the command fails and nothing ships. ONNX
(float32 and dynamic int8, onnxruntime) is exported and gated the same way for desktop use.
"""

import argparse
import json
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convert.onnx_export import export_onnx, onnx_probs  # noqa: E402
from convert.tflite import GateFailed, accuracy_gate, convert_keras  # noqa: E402
from edge.labels import CANONICAL_LABELS  # noqa: E402
from edge.manifest import MODELS_DIR, load_manifest, sha256_of  # noqa: E402
from edge.text.model import TOKENIZERS, TextEmotionModel  # noqa: E402
from edge.text.sentencepiece_tokenizer import SentencePieceTokenizer  # noqa: E402
from edge.text.wordpiece import WordPieceTokenizer  # noqa: E402
from training.text.data import CORPUS_LICENCES, TextSet, load_splits  # noqa: E402
from training.text.evaluate import HEADLINE, headline, validation_scores  # noqa: E402
from training.text.model import EncoderConfig, build_model, keras, teacher_dir  # noqa: E402
from training.text.train import SPM_MODEL_FILE  # noqa: E402

MAX_DROP = 0.01
MAX_SIZE_MB = 8.0
MAX_LATENCY_MS = 1.5
MIN_INT8_AGREEMENT = 0.98
TFLITE_PRECISIONS = ("float32", "int8", "int8-dynamic")
TOKENIZER_FILES = {"bert-wordpiece-uncased": "text_vocab.txt", "sentencepiece-unigram": SPM_MODEL_FILE}


def export_model(run: Path) -> tuple[keras.Model, int]:
    """The trained run rebuilt for export (batch 1, softmax output) and its fixed sequence length."""
    metrics = json.loads((run / "metrics.json").read_text())
    seq_len = int(metrics["recipe"]["seq_len"])
    model = build_model(EncoderConfig(**metrics["config"]), len(CANONICAL_LABELS), seq_len=seq_len, batch_size=1)
    model.load_weights(run / "weights.h5")
    return model, seq_len


def run_tokenizer(run: Path) -> tuple[str, Path]:
    """(tokenizer kind, its file) of a run: the run's own sentencepiece model, else MiniLM's WordPiece vocabulary."""
    if (run / SPM_MODEL_FILE).exists():
        return "sentencepiece-unigram", run / SPM_MODEL_FILE
    return "bert-wordpiece-uncased", teacher_dir() / "vocab.txt"


def calibration_ids(train: TextSet, tok: WordPieceTokenizer | SentencePieceTokenizer, n: int = 300,
                    seed: int = 0) -> list[np.ndarray]:
    """Token ids of ``n`` random training sentences (all corpora), one (1, seq_len) row each."""
    picks = np.random.default_rng(seed).choice(len(train.texts), size=min(n, len(train.texts)), replace=False)
    return [row[None] for row in tok.encode_batch([train.texts[i] for i in picks])]


def write_manifest(model_file: Path, precision: str, seq_len: int, metrics: dict, kind: str, source: Path) -> Path:
    """Write the manifest (and the tokenizer file it names, copied from ``source``) next to ``model_file``."""
    vocab = model_file.parent / TOKENIZER_FILES[kind]
    if not vocab.exists():
        shutil.copyfile(source, vocab)
    manifest = {
        "name": model_file.stem, "modality": "text", "format_version": 1,
        "model_file": model_file.name, "sha256": sha256_of(model_file), "precision": precision,
        "labels": list(CANONICAL_LABELS),
        "input": {"shape": [1, seq_len], "dtype": "int32", "features": "token_ids"},
        "features": {"tokenizer": kind, "vocab_file": vocab.name, "vocab_sha256": sha256_of(vocab),
                     "seq_len": seq_len},
        "calibration": {"temperature": 1.0},
        "training_data": list(CORPUS_LICENCES.values()),
        "licence_note": "Trained on dair-ai emotion (research/educational only) and MELD (GPL-3.0): "
                        "research / non-commercial use only.",
        "metrics": metrics,
    }
    path = model_file.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def latency_ms(model: TextEmotionModel, texts: list[str], n: int = 200) -> float:
    """Median wall time of one sentence (tokenise + invoke), one thread."""
    times = []
    for text in texts[:n]:
        start = time.perf_counter()
        model.predict(text)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def gate(name: str, reference: dict, candidate: dict) -> None:
    """``accuracy_gate`` on each corpus's headline score; raises GateFailed on the first failure."""
    for corpus, ref in reference.items():
        accuracy_gate(f"{name} {corpus} {HEADLINE[corpus]}", ref["score"], candidate[corpus]["score"], MAX_DROP)


def convert_run(run: Path, limit: int | None) -> dict:
    """Convert, score, gate; return per-form metrics (also written to metrics_tflite.json) and the chosen int8."""
    model, seq_len = export_model(run)
    kind, source = run_tokenizer(run)
    tok = TOKENIZERS[kind](source, seq_len)
    train, val = load_splits(limit=limit)
    calib = calibration_ids(train, tok)
    results: dict = {}
    float_top = None
    for precision in TFLITE_PRECISIONS:
        path = run / f"text_emotion_{precision}.tflite"
        path.write_bytes(convert_keras(model, precision, lambda: iter(calib)))
        runtime = TextEmotionModel(load_manifest(write_manifest(path, precision, seq_len, {}, kind, source)))
        probs = runtime.probs(val.texts)
        float_top = probs.argmax(axis=1) if float_top is None else float_top
        results[precision] = {"validation": validation_scores(probs, val), "size_mb": path.stat().st_size / 1e6,
                              "latency_ms": latency_ms(runtime, val.texts),
                              "argmax_agreement_with_float32": float((probs.argmax(axis=1) == float_top).mean())}
        r = results[precision]
        print(f"tflite {precision}: {headline(r['validation'])}  {r['size_mb']:.1f} MB  {r['latency_ms']:.2f} "
              f"ms/sentence  argmax agreement {100 * r['argmax_agreement_with_float32']:.1f}%", flush=True)
    reference = results["float32"]["validation"]
    try:
        gate("tflite int8 (full integer)", reference, results["int8"]["validation"])
        agreement = results["int8"]["argmax_agreement_with_float32"]
        if agreement < MIN_INT8_AGREEMENT:  # near-chance scores can pass the point gate while labels scatter
            raise GateFailed(f"top label agrees with float32 on {100 * agreement:.1f}% of sentences "
                             f"(need {100 * MIN_INT8_AGREEMENT:.0f}%)")
        chosen = "int8"
    except GateFailed as exc:
        print(f"full-integer int8 rejected ({exc}); falling back to dynamic-range int8", flush=True)
        gate("tflite int8-dynamic", reference, results["int8-dynamic"]["validation"])
        chosen = "int8-dynamic"
    ids = tok.encode_batch(val.texts)
    onnx_files = export_onnx(model, tf.TensorSpec((1, seq_len), tf.int32, name="input_ids"), run / "text_emotion")
    onnx = {p: validation_scores(onnx_probs(path, ids), val) for p, path in onnx_files.items()}
    for precision, scores in onnx.items():
        print(f"onnx {precision}: {headline(scores)}", flush=True)
    gate("onnx int8-dynamic", onnx["float32"], onnx["int8-dynamic"])
    summary = {"tflite": results, "onnx": onnx, "chosen_int8": chosen,
               "meets_targets": results[chosen]["size_mb"] < MAX_SIZE_MB
               and results[chosen]["latency_ms"] <= MAX_LATENCY_MS}
    (run / "metrics_tflite.json").write_text(json.dumps(summary, indent=1))
    print(f"int8 shipped form: {chosen}; size < {MAX_SIZE_MB} MB and <= {MAX_LATENCY_MS} ms: "
          f"{summary['meets_targets']}", flush=True)
    return summary


def ship(run: Path, summary: dict) -> None:
    """Copy the chosen int8 model (+ its tokenizer file, dropping the other kind's) into edge/models; its manifest
    carries its own validation metrics and the float32 twin's (the float model itself stays in the run folder)."""
    seq_len = json.loads((run / "metrics.json").read_text())["recipe"]["seq_len"]
    kind, source = run_tokenizer(run)
    for name in TOKENIZER_FILES.values():
        (MODELS_DIR / name).unlink(missing_ok=True)
    shutil.copyfile(run / TOKENIZER_FILES[kind], MODELS_DIR / TOKENIZER_FILES[kind])
    precision = summary["chosen_int8"]
    target = MODELS_DIR / "text_emotion_int8.tflite"
    shutil.copyfile(run / f"text_emotion_{precision}.tflite", target)

    def validation(form: str) -> dict:
        return {c: {k: s[k] for k in ("score", "headline", "wa", "macro_f1", "weighted_f1")}
                for c, s in summary["tflite"][form]["validation"].items()}

    write_manifest(target, precision, seq_len, {
        "evaluation": "validation splits; see README", "validation": validation(precision),
        "float32_validation": validation("float32"), "latency_ms_1_thread": summary["tflite"][precision]["latency_ms"]},
        kind, source)
    print(f"shipped {target} ({target.stat().st_size / 1e6:.1f} MB, {precision})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/text/student"))
    parser.add_argument("--limit", type=int, default=None, help="first N validation rows per corpus (smoke)")
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()
    summary = convert_run(args.run, args.limit)
    if args.ship:
        ship(args.run, summary)


if __name__ == "__main__":
    main()
