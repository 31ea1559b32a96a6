"""The numpy MFCC and resampler equal their SciPy references on real audio, and the runtime never imports SciPy."""

import subprocess
import sys
from math import gcd
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from python_speech_features import mfcc as reference_mfcc
from scipy.signal import resample_poly

from conftest import REPO, SAMPLE_WAV, SHARED_DATA
from edge.audio.decode import SAMPLE_RATE, audio_blocks, load_audio
from edge.audio.features import (CONTRACT, fixed_windows, mfcc_spec, normalise, pitch_track, raw_features,
                                 trim_silence)
from edge.audio.mfcc import mfcc
from edge.audio.resample import Resampler, resample
from edge.result import Prediction
from edge.speech import SpeechEmotionModel


def real_speech() -> list[np.ndarray]:
    """The bundled sample, and a few corpus clips of other speakers when ../shared is here."""
    clips = [load_audio(SAMPLE_WAV)]
    for pattern in ("ravdess/Actor_0[12]/03-01-0[15]-02-01-01-*.flac", "tess/YAF/YAF_back_*.flac"):
        clips += [load_audio(p) for p in sorted(SHARED_DATA.glob(pattern))[:2]]
    return clips


def reference_raw(audio: np.ndarray) -> np.ndarray:
    """The speech contract's raw frames with python_speech_features' MFCC, as the shipped model was trained."""
    trimmed = trim_silence(audio)
    feats = reference_mfcc(trimmed, 16000, winlen=0.025, winstep=0.010, numcep=40, nfilt=40, nfft=512,
                           preemph=0.97, ceplifter=22, appendEnergy=True, winfunc=np.hamming)
    return np.hstack([feats, pitch_track(trimmed, feats.shape[0])]).astype(np.float32)


@pytest.mark.parametrize("cut", [0, 1, 159, 399, 401])
def test_speech_mfcc_equals_python_speech_features_on_real_speech(cut: int) -> None:
    for audio in real_speech():
        x = audio[:audio.size - cut]  # lengths that pad the last frame differently
        expected = reference_mfcc(x, 16000, winlen=0.025, winstep=0.010, numcep=40, nfilt=40, nfft=512,
                                  preemph=0.97, ceplifter=22, appendEnergy=True, winfunc=np.hamming)
        got = mfcc(x, mfcc_spec(CONTRACT))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_the_shipped_speech_model_scores_as_with_python_speech_features() -> None:
    for precision in ("int8", "float32"):
        model = SpeechEmotionModel.load(precision=precision)
        for audio in real_speech():
            np.testing.assert_allclose(raw_features(audio, model.contract), reference_raw(audio), rtol=1e-5, atol=1e-5)
            windows = fixed_windows(normalise(reference_raw(audio), model.contract), model.contract)
            expected = Prediction.from_probs(model.window_probs(windows).mean(axis=0), model.labels)
            got = model.predict(audio)
            assert got.label == expected.label
            np.testing.assert_allclose([got.scores[k] for k in model.labels],
                                       [expected.scores[k] for k in model.labels], atol=1e-6)


@pytest.mark.parametrize("rate", [4000, 8000, 11025, 22050, 44100, 48000, 96000])
def test_resampling_equals_scipy_resample_poly(rate: int) -> None:
    speech = load_audio(SAMPLE_WAV).astype(np.float64)
    x = resample_poly(speech, rate // gcd(rate, SAMPLE_RATE), SAMPLE_RATE // gcd(rate, SAMPLE_RATE))
    g = gcd(rate, SAMPLE_RATE)
    expected = resample_poly(x, SAMPLE_RATE // g, rate // g)
    np.testing.assert_allclose(resample(x, rate, SAMPLE_RATE), expected, rtol=0, atol=1e-12)
    streamed, sizes = Resampler(rate, SAMPLE_RATE), np.random.default_rng(rate).integers(1, 3 * rate, 100)
    bounds = np.minimum(np.cumsum(np.r_[0, sizes]), x.size)
    parts = [streamed.push(x[a:b]) for a, b in zip(bounds[:-1], bounds[1:])] + [streamed.flush()]
    np.testing.assert_allclose(np.concatenate(parts), expected, rtol=0, atol=1e-12)


def test_file_blocks_join_to_the_whole_file(tmp_path: Path) -> None:
    speech = load_audio(SAMPLE_WAV)
    long = np.tile(speech, 4)
    path = tmp_path / "stereo44.flac"
    sf.write(path, np.repeat(resample_poly(long, 441, 160)[:, None], 2, axis=1), 44100)
    blocks = list(audio_blocks(path))
    assert len(blocks) > 20 and max(b.size for b in blocks) <= SAMPLE_RATE + 1
    whole = load_audio(path)
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    assert abs(whole.size - long.size) <= 1


def test_analysing_a_16k_file_never_imports_scipy_or_python_speech_features(speech_wav: Path) -> None:
    code = ("import sys, edge.cli; rc = edge.cli.main(['analyze', '--json', '--segments', sys.argv[1]]); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('scipy', 'python_speech_features')]; "
            "assert not bad, bad; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(speech_wav)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert '"modality": "speech"' in proc.stdout.splitlines()[0]
