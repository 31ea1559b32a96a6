"""Keyword spotting and transcription with pocketsphinx: accuracy, false accepts, speed and memory.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.keywords [--validation DIR] [--out benchmarks/results/keywords.json]

Keywords: two clip sets are decoded once each with permissive thresholds over the default keyword list.
Everything edge/asr/keywords.py ships is fitted on the *validation* set only: the official v0.02
validation-split speakers of the public Speech Commands copies that `python -m training.kws.data` gathers
(DIR, default its cache; the speakers on which the keyword network's threshold was chosen too). There the
ten words get per-keyword thresholds by coordinate ascent on balanced accuracy; the phrases, which no clip
says, get the threshold at which each fires on at most FALSE_ALARM_BUDGET of the clips (never below
PHRASE_FLOOR); the score mapping (logistic of the margin over the threshold) is fitted to whether the
reported top-1 keyword was right. The *test* set, shared/data/speech_commands (120 speakers of the official
test split), is only scored. Phrase recall is measured on espeak-ng carrier sentences.
Transcription: word error rate of full decoding on 30 espeak-ng sentences, with pocketsphinx's general en-us
LM and with the shipped conversational LM (training.asr.lm). Speed is CPU time of one process (one core;
OPENBLAS_NUM_THREADS=1 keeps numpy to it); memory is the peak RSS of a fresh process.
"""

import argparse
import csv
import importlib.util
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.optimize import minimize

from benchmarks.vad import synth
from benchmarks.wer import edits, normalise
from edge.asr.keywords import (DEFAULT_KEYWORDS, DEFAULT_THRESHOLD, SCORE_BIAS, SCORE_SLOPE, Detection,
                                select)
from edge.asr.sphinx import KeywordSpotter, Transcriber
from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.bench.agreement import data_root
from edge.bench.environment import environment
from training.paths import CACHE_DIR

REPO = Path(__file__).resolve().parents[1]
PERMISSIVE = 1e-40  # decode threshold: far below any tuned one, so tuning sees every hypothesis
GRID = np.arange(-60.0, 30.01, 0.5)  # candidate thresholds, ln likelihood ratio
VALIDATION_DIR = CACHE_DIR / "speech_commands_train"  # training.kws.data's default --out
FALSE_ALARM_BUDGET = 0.0025  # a phrase may fire on 3 of the 1,373 validation clips, none of which says it
PHRASE_FLOOR = math.log(1e-20)  # a phrase no clip ever evokes keeps pocketsphinx's usual multi-word threshold
SCORE_BANDS = (0.0, 0.5, 0.7, 0.9, 1.0)
TARGETS = {"rss_mb": 60.0, "rtf": 0.3}
VOICES = ("en-us", "en-us+f2", "en-us+f3")
PAD = np.zeros(SAMPLE_RATE // 4, np.float32)  # a VAD utterance keeps ~0.25 s of silence around speech
PHRASE_CARRIERS = {
    "help me": "please help me now", "watch out": "watch out for that truck", "i'm scared": "i'm scared of the dark",
    "shut up": "oh just shut up", "leave me alone": "leave me alone tonight", "damn it": "damn it not again",
    "i'm sorry": "i'm sorry about that", "thank you": "thank you so much", "i love you": "i love you too",
    "oh my god": "oh my god look at that",
}
SENTENCES = [
    "turn left at the next junction", "i am so angry right now", "please stop the car",
    "thank you for the lovely music", "why does this always happen to me", "i miss my family when i drive at night",
    "that was a wonderful surprise", "play something calm please", "i feel really tired today",
    "the traffic is making me furious", "can you call my wife", "i am afraid we are going to be late",
    "what a beautiful morning", "i do not want to talk about it", "this road is very dangerous",
    "you did a great job", "i hate waiting in traffic", "tell me a funny story",
    "i am worried about my exam", "good night and sleep well", "the music is too loud",
    "how long until we get home", "i am so happy to see you", "open the window a little",
    "that noise scared me", "i lost my keys again", "let us go to the park",
    "why is nobody answering the phone", "i feel lonely this evening", "this is the best day ever",
]
PROBE = """
import sys
from edge.asr.keywords import DEFAULT_KEYWORDS
from edge.asr.sphinx import KeywordSpotter, Transcriber
from edge.audio.decode import load_audio
audio = load_audio(sys.argv[2])
engines = {"keywords": lambda: KeywordSpotter(DEFAULT_KEYWORDS), "general-lm": Transcriber, "shipped-lm": Transcriber.load}
engine = engines[sys.argv[1]]()
engine.recognize(audio)
from edge.bench.memory import peak_rss_mb
print(peak_rss_mb())
"""


def peak_rss_mb(kind: str, clip: Path) -> float:
    """Peak RSS (MB) of a fresh process that loads one engine (keywords, general-lm or shipped-lm) and decodes
    ``clip`` (edge.bench's measure)."""
    proc = subprocess.run([sys.executable, "-c", PROBE, kind, str(clip)], capture_output=True,
                          text=True, cwd=REPO, check=True)
    return float(proc.stdout.split()[-1])


def speech(text: str, voice: str, folder: Path) -> np.ndarray:
    """espeak-ng speech, trimmed, with the silence margin a VAD utterance keeps."""
    return np.concatenate([PAD, synth(text, voice, folder), PAD])


# ---------------------------------------------------------------- keyword spotting on Speech Commands

def corpus_rows(root: Path, split: str | None = None) -> list[dict]:
    """Speech Commands rows of ``root``/index.csv (only those of ``split`` when given); ``target`` is the
    default keyword the clip says, or None for other words."""
    with (root / "index.csv").open(newline="") as fh:
        rows = [row for row in csv.DictReader(fh) if split is None or row["split"] == split]
    for row in rows:
        word = row["word"] if row["label"] == "_unknown_" else row["label"]
        row["target"] = word if word in DEFAULT_KEYWORDS else None
        row["path"] = root / row["path"]
    return rows


def margins(detections: list[list[Detection]], keywords: list[str]) -> np.ndarray:
    """(clips, keywords) best ln likelihood ratio of each keyword in each clip; -inf where never hypothesised."""
    m = np.full((len(detections), len(keywords)), -np.inf)
    column = {k: j for j, k in enumerate(keywords)}
    for i, found in enumerate(detections):
        for d in found:
            m[i, column[d.word]] = max(m[i, column[d.word]], d.log_ratio)
    return m


def top1(m: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Index of the keyword with the largest margin over its threshold per clip; -1 where none reaches it."""
    over = m - thr
    best = over.argmax(axis=1)
    return np.where(over.max(axis=1) >= 0, best, -1)


def scores(pred: np.ndarray, target: np.ndarray) -> tuple[float, float, float]:
    """(top-1 accuracy on keyword clips, false-accept rate on other clips, their balanced mean)."""
    pos = target >= 0
    acc = float(np.mean(pred[pos] == target[pos]))
    fa = float(np.mean(pred[~pos] >= 0))
    return acc, fa, (acc + 1 - fa) / 2


def calibrate_phrases(m: np.ndarray, thr: np.ndarray, phrases: list[int]) -> None:
    """Set each phrase's threshold so it fires on at most FALSE_ALARM_BUDGET of the clips (none says it)."""
    allowed = int(FALSE_ALARM_BUDGET * len(m))
    for j in phrases:
        ranked = np.sort(m[:, j])[::-1]
        thr[j] = max(PHRASE_FLOOR, ranked[allowed] + 0.01)


def tune(m: np.ndarray, target: np.ndarray, thr: np.ndarray, tunable: list[int], passes: int = 4) -> np.ndarray:
    """Coordinate ascent on the balanced accuracy, one keyword's threshold at a time over GRID."""
    thr = thr.copy()
    for _ in range(passes):
        for j in tunable:
            trial = np.repeat(thr[None], GRID.size, axis=0)
            trial[:, j] = GRID
            objective = [scores(top1(m, t), target)[2] for t in trial]
            best = np.flatnonzero(np.isclose(objective, max(objective)))[-1]  # ties: the stricter threshold
            thr[j] = GRID[best]
    return thr


def fit(m: np.ndarray, target: np.ndarray, keywords: list[str]) -> np.ndarray:
    """Thresholds (ln ratio) for ``keywords``: phrases by false-alarm budget, the rest tuned on the clips."""
    heard = set(target[target >= 0])
    thr = np.full(len(keywords), -20.0)
    calibrate_phrases(m, thr, [j for j in range(len(keywords)) if j not in heard])
    return tune(m, target, thr, sorted(heard))


def per_keyword(m: np.ndarray, target: np.ndarray, thr: np.ndarray, keywords: list[str]) -> list[dict]:
    """Per keyword: clips, top-1 recall, times it won on another keyword's clip, false accepts on other words."""
    pred = top1(m, thr)
    rows = []
    for j, k in enumerate(keywords):
        mine = target == j
        rows.append({"keyword": k, "clips": int(mine.sum()),
                     "recall": float(np.mean(pred[mine] == j)) if mine.any() else None,
                     "confusions": int(np.sum((pred == j) & (target >= 0) & ~mine)),
                     "false_accepts": int(np.sum((pred == j) & (target < 0))),
                     "fires_on_clips": float(np.mean(m[:, j] >= thr[j])),
                     "threshold": float(f"{math.exp(thr[j]):.2g}"), "threshold_ln": float(thr[j])})
    return rows


def score_fit(m: np.ndarray, target: np.ndarray, thr: np.ndarray) -> tuple[float, float]:
    """Logistic fit (bias, slope) of P(reported top-1 keyword is right | its margin over the threshold)."""
    pred = top1(m, thr)
    reported = pred >= 0
    margin = (m - thr).max(axis=1)[reported]
    right = (pred == target)[reported]

    def loss(p: np.ndarray) -> float:
        z = p[0] + p[1] * margin
        return float(np.sum(np.logaddexp(0, z) - right * z))
    bias, slope = minimize(loss, np.array([0.0, 0.1])).x
    return float(f"{bias:.3g}"), float(f"{slope:.3g}")


def runtime_check(detections: list[list[Detection]], target: np.ndarray, keywords: list[str]) -> dict:
    """Top-1 and false accepts with the shipped defaults through the runtime's own `select` (what
    `edge-emotion keywords` prints), and the precision of the reported top-1 keyword by score band."""
    pred, top_scores = [], []
    for found in detections:
        best = max(select(found, DEFAULT_KEYWORDS), key=lambda w: w.score, default=None)
        pred.append(keywords.index(best.word) if best else -1)
        top_scores.append(best.score if best else 0.0)
    pred_a, top_a = np.array(pred), np.array(top_scores)
    acc, fa, _ = scores(pred_a, target)
    bands = {}
    for lo, hi in zip(SCORE_BANDS, SCORE_BANDS[1:]):
        band = (pred_a >= 0) & (top_a >= lo) & (top_a < hi + (hi == 1))
        bands[f"{lo:.2g}-{hi:.2g}"] = {"reports": int(band.sum()), "precision":
                                       float(np.mean(pred_a[band] == target[band])) if band.any() else None}
    return {"top1": acc, "false_accept": fa, "precision_by_score": bands}


def decode_corpus(rows: list[dict], keywords: list[str]) -> tuple[list[list[Detection]], float, float]:
    """Every clip's detections at PERMISSIVE thresholds, the CPU seconds spent decoding, and the audio seconds."""
    spotter = KeywordSpotter({k: PERMISSIVE for k in keywords})
    detections, cpu, audio_s = [], 0.0, 0.0
    for row in rows:
        audio = load_audio(row["path"])
        start = time.process_time()
        detections.append(spotter.detections(audio))
        cpu += time.process_time() - start
        audio_s += audio.size / SAMPLE_RATE
    return detections, cpu, audio_s


def clip_set(rows: list[dict], keywords: list[str]) -> dict:
    """One decoded clip set: detections, margins, target keyword indices, CPU and audio seconds, counts."""
    detections, cpu, audio_s = decode_corpus(rows, keywords)
    target = np.array([keywords.index(r["target"]) if r["target"] else -1 for r in rows])
    return {"detections": detections, "margins": margins(detections, keywords), "target": target, "cpu": cpu,
            "audio_s": audio_s, "counts": {"clips": len(rows), "keyword_clips": int((target >= 0).sum()),
                                           "other_clips": int((target < 0).sum()),
                                           "speakers": len({r["speaker"] for r in rows})}}


def keyword_benchmark(test_root: Path, validation_root: Path, folder: Path) -> dict:
    """Fit thresholds and score mapping on the validation clips, then report accuracy, false accepts, RTF and
    RSS on the test clips."""
    keywords = list(DEFAULT_KEYWORDS)
    val_rows, test_rows = corpus_rows(validation_root, "validation"), corpus_rows(test_root)
    shared_speakers = {r["speaker"] for r in val_rows} & {r["speaker"] for r in test_rows}
    if shared_speakers:
        raise ValueError(f"{len(shared_speakers)} validation speakers are test speakers, e.g. {min(shared_speakers)}")
    val, test = clip_set(val_rows, keywords), clip_set(test_rows, keywords)
    m, target = test["margins"], test["target"]
    thr = fit(val["margins"], val["target"], keywords)
    fitted = {"thresholds": {k: float(f"{math.exp(t):.2g}") for k, t in zip(keywords, thr)},
              "default_threshold": float(f"{math.exp(np.median(thr)):.2g}")}
    fitted["score_bias"], fitted["score_slope"] = score_fit(val["margins"], val["target"], thr)
    shipped = {"thresholds": DEFAULT_KEYWORDS, "default_threshold": DEFAULT_THRESHOLD,
               "score_bias": SCORE_BIAS, "score_slope": SCORE_SLOPE}
    curve = []
    for shift in (-10, -5, 0, 5, 10):
        acc, fa, _ = scores(top1(m, thr + shift), target)
        curve.append({"shift_ln": shift, "top1": acc, "false_accept": fa})
    val_acc, val_fa, _ = scores(top1(val["margins"], thr), val["target"])
    test_acc, test_fa, _ = scores(top1(m, thr), target)
    spotter = KeywordSpotter(fitted["thresholds"])
    phrase_recall = {}
    for phrase, sentence in PHRASE_CARRIERS.items():
        heard = [phrase in {w.word for w in spotter.recognize(speech(sentence, v, folder))} for v in VOICES]
        phrase_recall[phrase] = float(np.mean(heard))
    return {
        "validation": {**val["counts"], "source": f"{validation_root.name}/index.csv, split == validation "
                       "(official v0.02 validation speakers, python -m training.kws.data)",
                       "top1": val_acc, "false_accept": val_fa},
        "test": {**test["counts"], "source": "shared/data/speech_commands (120 official test-split speakers)",
                 "top1": test_acc, "false_accept": test_fa},
        "chosen_on": "validation: the ten words' thresholds, the phrase caps, the default threshold and the score "
                     "mapping; test: nothing (scored only)",
        "shipped": runtime_check(test["detections"], target, keywords),
        "shipped_equals_fitted": shipped == fitted,
        "to_ship": fitted,
        "operating_curve": curve,
        "per_keyword": per_keyword(m, target, thr, keywords),
        "phrase_recall_espeak": phrase_recall,
        "rtf_cpu": test["cpu"] / test["audio_s"], "audio_seconds": test["audio_s"],
        "rss_mb": peak_rss_mb("keywords", test_rows[0]["path"]),
    }


# ---------------------------------------------------------------- transcription

def transcription(name: str, transcriber: Transcriber, clips: list[tuple[str, str, np.ndarray]]) -> dict:
    """WER (overall and per voice) and CPU real-time factor of one transcriber on the synthetic sentences."""
    errors: dict[str, list[int]] = {v: [0, 0] for v in VOICES}
    cpu = audio_s = 0.0
    examples = []
    for text, voice, audio in clips:
        start = time.process_time()
        words = transcriber.recognize(audio)
        cpu += time.process_time() - start
        audio_s += audio.size / SAMPLE_RATE
        hyp = " ".join(w.word for w in words)
        errors[voice][0] += edits(normalise(text), normalise(hyp))
        errors[voice][1] += len(normalise(text))
        if len(examples) < 3:
            examples.append({"said": text, "heard": hyp})
    total = np.sum(list(errors.values()), axis=0)
    return {"lm": name, "wer": float(total[0] / total[1]), "wer_by_voice": {v: e / n for v, (e, n) in errors.items()},
            "rtf_cpu": cpu / audio_s, "examples": examples}


def transcription_benchmark(folder: Path) -> list[dict]:
    """Full decoding with the wheel's general en-us LM and with the shipped conversational LM (edge/models)."""
    clips = [(text, VOICES[i % len(VOICES)], speech(text, VOICES[i % len(VOICES)], folder))
             for i, text in enumerate(SENTENCES)]
    probe_clip = folder / "probe.wav"
    sf.write(probe_clip, clips[0][2], SAMPLE_RATE)
    return [{**transcription("en-us (pocketsphinx wheel, general 3-gram)", Transcriber(), clips),
             "rss_mb": peak_rss_mb("general-lm", probe_clip)},
            {**transcription("shipped conversational 3-gram (6k words)", Transcriber.load(), clips),
             "rss_mb": peak_rss_mb("shipped-lm", probe_clip)}]


# ---------------------------------------------------------------- report

def _rates(name: str, r: dict) -> str:
    return f"| {name} | {r['top1']:.1%} | {r['false_accept']:.1%} |"


def _set(name: str, r: dict) -> str:
    return f"{name}: {r['keyword_clips']} keyword clips + {r['other_clips']} other-word clips, {r['speakers']} speakers"


def keyword_markdown(kw: dict) -> list[str]:
    """The keyword-spotting results as Markdown lines."""
    out = [f"Keyword spotting, pocketsphinx 5.1.1 kws, {len(kw['per_keyword'])} keywords. "
           f"{_set('Validation', kw['validation'])} ({kw['validation']['source']}); "
           f"{_set('test', kw['test'])} ({kw['test']['source']}). Chosen on {kw['chosen_on']}.", "",
           "| thresholds fitted on validation, scored on | top-1 on keyword clips | false accepts on other words |",
           "|---|---|---|", _rates("validation (in-sample)", kw["validation"]), _rates("test", kw["test"]),
           _rates("test, shipped defaults through the runtime path", kw["shipped"]), "",
           "| all thresholds shifted (ln), test | top-1 | false accepts |", "|---|---|---|"]
    out += [_rates(f"{c['shift_ln']:+d}", c) for c in kw["operating_curve"]]
    out += ["", "| keyword (test) | clips | top-1 recall | wins on other keywords | false accepts | fires on clips "
            "| espeak recall | threshold |", "|---|---|---|---|---|---|---|---|"]
    for r in kw["per_keyword"]:
        recall = "-" if r["recall"] is None else f"{r['recall']:.0%}"
        espeak = kw["phrase_recall_espeak"].get(r["keyword"])
        espeak = "-" if espeak is None else f"{espeak:.0%}"
        out.append(f"| {r['keyword']} | {r['clips']} | {recall} | {r['confusions']} | {r['false_accepts']} "
                   f"| {r['fires_on_clips']:.1%} | {espeak} | {r['threshold']:.2g} |")
    bands = ", ".join(f"{b}: " + ("none" if v["precision"] is None else f"{v['precision']:.0%} of {v['reports']}")
                      for b, v in kw["shipped"]["precision_by_score"].items())
    ship = kw["to_ship"]
    return out + ["", f"Precision of the reported top-1 keyword by score (shipped, test): {bands}.", "",
                  f"Keyword spotting RTF {kw['rtf_cpu']:.3f} (CPU time, one core; target <= {TARGETS['rtf']}), "
                  f"peak RSS {kw['rss_mb']:.1f} MB (target <= {TARGETS['rss_mb']:.0f}).",
                  f"Fitted on validation: default threshold {ship['default_threshold']:.2g}, score bias "
                  f"{ship['score_bias']}, slope {ship['score_slope']}; edge/asr/keywords.py ships exactly these: "
                  f"{kw['shipped_equals_fitted']}."]


def markdown(results: dict) -> str:
    """The results as Markdown tables."""
    out = keyword_markdown(results["keywords"]) if "keywords" in results else []
    if "transcription" in results:
        out += ["", f"Full decoding of {len(SENTENCES)} espeak-ng sentences (voices {', '.join(VOICES)}):", "",
                "| language model | WER | WER by voice | RTF | peak RSS MB |", "|---|---|---|---|---|"]
        for r in results["transcription"]:
            by_voice = ", ".join(f"{v} {w:.0%}" for v, w in r["wer_by_voice"].items())
            out.append(f"| {r['lm']} | {r['wer']:.1%} | {by_voice} | {r['rtf_cpu']:.3f} | {r['rss_mb']:.0f} |")
    out += [f"\nSkipped {section}: {reason}" for section, reason in results["skipped"].items()]
    return "\n".join(out)


def missing(root: Path, validation: Path) -> dict[str, str]:
    """Why a section cannot run on this machine, by section; empty when everything can."""
    if importlib.util.find_spec("pocketsphinx") is None:
        reason = "pocketsphinx is not installed (pip install 'edge-emotion[asr]')"
    elif shutil.which("espeak-ng") is None:
        reason = "espeak-ng is not installed"
    elif not (root / "speech_commands" / "index.csv").is_file():
        return {"keywords": f"{root / 'speech_commands'} not present"}
    elif not (validation / "index.csv").is_file():
        return {"keywords": f"{validation} not present (python -m training.kws.data --source MIRROR ...)"}
    else:
        return {}
    return {"keywords": reason, "transcription": reason}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", type=Path, default=VALIDATION_DIR,
                        help="the training.kws.data output whose validation split the thresholds are fitted on")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/keywords.json"))
    args = parser.parse_args()
    root = data_root()
    skipped = missing(root, args.validation)
    results: dict = {"environment": environment(), "skipped": skipped}
    with tempfile.TemporaryDirectory() as tmp:
        if "keywords" not in skipped:
            results["keywords"] = keyword_benchmark(root / "speech_commands", args.validation, Path(tmp))
        if "transcription" not in skipped:
            results["transcription"] = transcription_benchmark(Path(tmp))
    results["cpu_seconds"] = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                                 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
