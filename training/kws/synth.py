"""Synthetic keyword and non-keyword clips from espeak-ng, to fill the classes the public copies lack.

    python -m training.kws.synth [--per-keyword 600] [--per-other 30] [--out ~/.cache/edge-emotion/kws_synth]

Each clip is one word spoken by a random espeak-ng accent, voice variant, speed and pitch, trimmed and
placed at a random offset in 1 s at 16 kHz. "Other" words are the Speech Commands fillers plus words
that sound like a keyword (the false accepts a driver's chatter would cause). Written as
``<out>/<word>/<n>.wav`` with ``<out>/index.csv`` (path,label,word,voice); reruns keep finished clips.
"""

import argparse
import csv
import subprocess
import tempfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf

from edge.asr.keyword_features import CLIP_SAMPLES
from edge.audio.decode import SAMPLE_RATE, load_audio
from training.kws.data import KEYWORDS, UNKNOWN, UNKNOWN_WORDS
from training.paths import CACHE_DIR

ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd")
VARIANTS = ("", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3", "+f4", "+f5", "+klatt",
            "+klatt2", "+klatt4", "+croak", "+whisper")
# Words near a keyword in sound, and everyday car/robot talk: hard negatives for the unknown class.
SOUND_ALIKES = ("yeah", "yet", "yell", "less", "know", "now", "note", "cup", "pup", "town", "brown",
                "gown", "lift", "loft", "light", "write", "ride", "white", "bright", "own", "an", "in",
                "of", "cough", "awful", "stock", "step", "top", "shop", "goal", "though", "grow", "low", "okay",
                "hello", "music", "radio", "phone", "call", "home", "work", "turn", "faster", "slower", "please",
                "thanks", "maybe", "never", "always", "really", "sorry", "great", "tired", "angry", "hungry",
                "coffee", "water", "window", "door", "car", "road", "traffic", "upright", "onion",
                "often", "gopher", "notice", "rightly", "stopper", "downtown", "office", "button", "uptown")
OTHER_WORDS = UNKNOWN_WORDS + SOUND_ALIKES


def speak(word: str, voice: str, speed: int, pitch: int, rng: np.random.Generator) -> np.ndarray | None:
    """One word as a 1 s 16 kHz clip at a random offset; None when espeak-ng produced too little audio."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "w.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), word],
                       check=True, capture_output=True)
        audio = load_audio(wav)
    loud = np.flatnonzero(np.abs(audio) > 0.02 * np.abs(audio).max(initial=1e-9))
    if loud.size == 0:
        return None
    speech = audio[loud[0]:loud[-1] + 1][:CLIP_SAMPLES]
    clip = np.zeros(CLIP_SAMPLES, np.float32)
    offset = int(rng.integers(0, CLIP_SAMPLES - speech.size + 1))
    clip[offset:offset + speech.size] = speech * rng.uniform(0.3, 0.9) / max(np.abs(speech).max(), 1e-6)
    return clip


def _job(args: tuple[str, int, Path, int]) -> dict | None:
    """Speak clip ``n`` of ``word`` (seeded by word and n) unless it exists; return its index row."""
    word, n, out, seed = args
    rng = np.random.default_rng([seed, n, sum(map(ord, word))])
    voice = str(rng.choice(ACCENTS)) + str(rng.choice(VARIANTS))
    path = out / word / f"{n}.wav"
    row = {"path": f"{word}/{n}.wav", "label": word if word in KEYWORDS else UNKNOWN, "word": word, "voice": voice}
    if path.exists():
        return row
    clip = speak(word, voice, int(rng.integers(110, 230)), int(rng.integers(15, 85)), rng)
    if clip is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, clip, SAMPLE_RATE, subtype="PCM_16")
    return row


def build(out: Path, per_keyword: int, per_other: int, seed: int, workers: int) -> list[dict]:
    """Speak every keyword ``per_keyword`` times and every other word ``per_other`` times; write the index."""
    jobs = [(w, n, out, seed) for w in KEYWORDS for n in range(per_keyword)]
    jobs += [(w, n, out, seed) for w in OTHER_WORDS for n in range(per_other)]
    with Pool(workers) as pool:
        rows = [r for r in pool.imap(_job, jobs, chunksize=16) if r is not None]
    with (out / "index.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=("path", "label", "word", "voice"))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-keyword", type=int, default=600)
    parser.add_argument("--per-other", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=CACHE_DIR / "kws_synth")
    args = parser.parse_args()
    rows = build(args.out, args.per_keyword, args.per_other, args.seed, args.workers)
    print(f"{len(rows)} clips in {args.out}: {sum(r['label'] != UNKNOWN for r in rows)} keyword, "
          f"{sum(r['label'] == UNKNOWN for r in rows)} other")


if __name__ == "__main__":
    main()
