"""Custom phrases enrolled on the device: detection on held-out recordings and false accepts per hour of other
speech, next to pocketsphinx on the same phrases without enrolment (today's path for a new phrase).

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.keyword_enroll [--out benchmarks/results/keywords/enroll.json]

A "user" is an espeak-ng voice. Each (phrase, user) enrols from 5 recordings at random speed and pitch
(edge.asr.enroll, as `edge-emotion keywords enroll` does). Held out: 6 new recordings of that user
(other speed and pitch; 3 alone, 3 inside a sentence) and 8 of other voices (the same phrase alone
and in a sentence, 4 voices). Detection: the phrase is reported anywhere in the recording. Other
speech: espeak-ng sentences in 4 voices plus real recorded speech from the shared emotion corpora
(RAVDESS, TESS, EmoDB clips; none say a phrase); a false accept is any report of the phrase.
"""

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edge.asr.embedding import SpeechEmbedding
from edge.asr.embedding_spotter import EmbeddingSpotter
from edge.asr.enroll import enroll
from edge.asr.keywords import DEFAULT_THRESHOLD
from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.bench.agreement import data_root
from edge.bench.environment import environment

PHRASES = ("hey robot", "open the boot", "good morning")
USERS = ("en-us+m3", "en-gb+f2", "en-gb-scotland+m1")
OTHER_VOICES = ("en-us", "en-us+f3", "en-029", "en-gb-x-rp+m5")
CARRIERS = ("okay {} now", "and then {} please", "well {}")
OTHER_TEXTS = ("the weather is mild this afternoon", "i feel really tired today", "what a beautiful morning it was",
               "tell me a funny story", "this traffic is making me furious", "the music is far too loud",
               "we are nearly home now", "did you remember to lock the door", "i would like a cup of tea",
               "the meeting has been moved to thursday", "turn left after the bridge", "she bought a new bicycle",
               "robots are building cars in the factory", "the boat is in the harbour", "good luck with the exam",
               "open a window if it is warm", "my brother lives in glasgow", "please put the shopping away")
REAL_CLIPS = {"ravdess": 100, "tess": 150, "emodb": 60}


class CachedEmbedding:
    """A SpeechEmbedding that remembers the embeddings of audio it has seen (many heads, one pass per clip)."""

    def __init__(self, embedding: SpeechEmbedding) -> None:
        self.embedding, self.cache = embedding, {}

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """Embeddings of ``audio``, computed once."""
        key = hash(audio.tobytes())
        if key not in self.cache:
            self.cache[key] = self.embedding.embed(audio)
        return self.cache[key]


def say(text: str, voice: str, folder: Path, speed: int = 160, pitch: int = 50) -> Path:
    """A wav of espeak-ng saying ``text``."""
    path = folder / f"{abs(hash((text, voice, speed, pitch)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text], check=True,
                   capture_output=True)
    return path


def real_speech() -> list[np.ndarray]:
    """Evenly spaced clips of the shared emotion corpora present (other speech, real voices)."""
    out = []
    for corpus, count in REAL_CLIPS.items():
        index = data_root() / corpus / "index.csv"
        if index.exists():
            with index.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
            picks = np.linspace(0, len(rows) - 1, count).astype(int)
            out += [load_audio(index.parent / rows[i]["path"]) for i in picks]
    return out


def heard(spotter, audio: np.ndarray, phrase: str) -> bool:
    """Whether ``spotter`` reports ``phrase`` anywhere in ``audio``."""
    return any(w.word == phrase for w in spotter.recognize(audio))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/keywords/enroll.json"))
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    embedding = CachedEmbedding(SpeechEmbedding.load())
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        other = [load_audio(say(t, v, folder)) for t in OTHER_TEXTS for v in OTHER_VOICES] + real_speech()
        other_hours = sum(a.size for a in other) / SAMPLE_RATE / 3600
        from edge.asr.sphinx import KeywordSpotter

        sphinx = KeywordSpotter({p: DEFAULT_THRESHOLD for p in PHRASES})
        sphinx_heard = [{w.word for w in sphinx.recognize(a)} for a in other]
        for phrase in PHRASES:
            wrapped = [c.format(phrase) for c in CARRIERS]
            others = [load_audio(say(t, v, folder)) for v in OTHER_VOICES for t in (phrase, wrapped[0])]
            sphinx_fa = sum(phrase in words for words in sphinx_heard)
            for user in USERS:
                takes = [say(phrase, user, folder, int(rng.integers(130, 190)), int(rng.integers(35, 66)))
                         for _ in range(5)]
                start = time.process_time()
                head = enroll(phrase, takes, embedding.embedding)
                enrol_cpu = time.process_time() - start
                spotter = EmbeddingSpotter([head], embedding)
                same = [load_audio(say(t, user, folder, int(rng.integers(130, 190)), int(rng.integers(35, 66))))
                        for t in (phrase, phrase, phrase, *wrapped)]
                results.append({
                    "phrase": phrase, "user": user, "enrol_cpu_s": enrol_cpu,
                    "same_voice": float(np.mean([heard(spotter, a, phrase) for a in same])),
                    "other_voices": float(np.mean([heard(spotter, a, phrase) for a in others])),
                    "false_accepts": sum(heard(spotter, a, phrase) for a in other),
                    "sphinx_same_voice": float(np.mean([heard(sphinx, a, phrase) for a in same])),
                    "sphinx_other_voices": float(np.mean([heard(sphinx, a, phrase) for a in others])),
                    "sphinx_false_accepts": sphinx_fa})
                print(json.dumps(results[-1]), flush=True)
    summary = {"environment": environment(), "other_speech_hours": other_hours, "other_clips": len(other),
               "held_out": {"same_voice": 6, "other_voices": 2 * len(OTHER_VOICES)}, "runs": results,
               "mean": {k: float(np.mean([r[k] for r in results])) for k in results[0] if k not in ("phrase", "user")}}
    for key in ("false_accepts", "sphinx_false_accepts"):
        summary["mean"][key.replace("accepts", "accepts_per_hour")] = summary["mean"][key] / other_hours
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(summary) + "\n")
    print(markdown(summary))


def markdown(summary: dict) -> str:
    """The enrolment results as Markdown."""
    m = summary["mean"]
    lines = [f"{len(PHRASES)} phrases x {len(USERS)} espeak-ng 'users', 5 enrolment recordings each; "
             f"other speech: {summary['other_clips']} clips, {summary['other_speech_hours'] * 60:.1f} min "
             "(espeak-ng sentences + RAVDESS/TESS/EmoDB real speech).", "",
             "| engine | detection, same voice (held out) | detection, other voices "
             "| false accepts per hour of other speech |",
             "|---|---|---|---|",
             f"| enrolled head (edge-emotion keywords enroll) | {m['same_voice']:.0%} | {m['other_voices']:.0%} "
             f"| {m['false_accepts_per_hour']:.1f} |",
             f"| pocketsphinx, phrase without enrolment (default threshold) | {m['sphinx_same_voice']:.0%} "
             f"| {m['sphinx_other_voices']:.0%} | {m['sphinx_false_accepts_per_hour']:.1f} |", "",
             "| phrase | user | enrol CPU s | same voice | other voices | false accepts |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['phrase']} | {r['user']} | {r['enrol_cpu_s']:.1f} | {r['same_voice']:.0%} "
              f"| {r['other_voices']:.0%} "
              f"| {r['false_accepts']} |" for r in summary["runs"]]
    env = summary["environment"]
    lines += ["", f"Run: 1-minute load average {env['load_average_1min']} on {env['cpu_count']} cores, "
              f"OPENBLAS_NUM_THREADS {env['openblas_num_threads']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
