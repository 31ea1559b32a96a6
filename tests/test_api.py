"""The Python API (`from edge import EmotionRecognizer`) gives the CLI's answers on the bundled samples, streams
fused events from audio blocks as `listen --profile` does from a microphone, and runs the README's example."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, SAMPLE_WAV, run_cli
from edge import Emotion, EmotionRecognizer
from edge.errors import AudioError, ConfigError, ImageError, TextError

SAMPLE_FACE = REPO / "edge" / "samples" / "face_astronaut.jpg"
SENTENCE = "We won the final, I can't believe it!"


def rounded(emotion: Emotion) -> dict:
    """An Emotion's label and scores as the CLI's JSON prints them."""
    return {"label": emotion.label, "scores": {k: round(v, 4) for k, v in emotion.scores.items()}}


def cli_lines(*args: str) -> list[dict]:
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def recognizer() -> EmotionRecognizer:
    return EmotionRecognizer()


def test_a_recording_gives_the_cli_result_and_its_segments(recognizer: EmotionRecognizer) -> None:
    *segments, whole = cli_lines("analyze", "--json", "--segments", str(SAMPLE_WAV))  # the file line comes last
    result = recognizer.analyze_file(SAMPLE_WAV)
    assert result.modality == "speech" and rounded(result) == {"label": whole["label"], "scores": whole["scores"]}
    assert len(result.segments) == len(segments) == 2
    for seg, line in zip(result.segments, segments):
        assert rounded(seg) == {"label": line["label"], "scores": line["scores"]}
        assert (round(seg.start, 3), round(seg.end, 3)) == (line["start"], line["end"])


def test_a_speaker_session_adapts_across_calls_as_analyze_adapt_does(recognizer: EmotionRecognizer,
                                                                    speech_wav: Path) -> None:
    lines = cli_lines("analyze", "--json", "--adapt", str(SAMPLE_WAV), str(speech_wav), str(speech_wav))
    session = recognizer.speaker_session()
    results = [recognizer.analyze_file(path, speaker=session) for path in (SAMPLE_WAV, speech_wav, speech_wav)]
    assert [rounded(r) for r in results] == [{"label": line["label"], "scores": line["scores"]} for line in lines]
    assert results[1].scores != results[2].scores  # the same recording, heard after more of the voice


def test_transcription_gives_the_cli_transcript_and_its_text_emotion(recognizer: EmotionRecognizer,
                                                                     speech_wav: Path) -> None:
    pytest.importorskip("pocketsphinx", reason="the asr extra is not installed")
    (line,) = cli_lines("analyze", "--json", "--transcribe", str(speech_wav))
    result = recognizer.analyze_file(speech_wav, transcribe=True)
    assert result.transcript == line["transcript"] and result.transcript
    assert result.text is not None and rounded(result.text) == line["text"]


def test_samples_in_memory_equal_the_file_whatever_their_type_rate_or_channels(recognizer: EmotionRecognizer) -> None:
    from_file = recognizer.analyze_file(SAMPLE_WAV)
    pcm, rate = sf.read(SAMPLE_WAV, dtype="int16")
    assert recognizer.analyze_audio(pcm, rate).scores == from_file.scores  # int16 scaled as the decoder does
    stereo = np.stack([pcm, pcm], axis=1)
    assert recognizer.analyze_audio(stereo, rate).scores == from_file.scores
    floats, _ = sf.read(SAMPLE_WAV, dtype="float32")
    upsampled = np.repeat(floats, 3)  # 48 kHz: resampled to 16 kHz on the way in
    assert recognizer.analyze_audio(upsampled, 48000).label == from_file.label


def test_bad_audio_is_one_clear_error_and_the_recognizer_goes_on(recognizer: EmotionRecognizer) -> None:
    with pytest.raises(AudioError, match="too short"):
        recognizer.analyze_audio(np.zeros(100, np.float32))
    with pytest.raises(AudioError, match="no speech: the recording is silent"):
        recognizer.analyze_audio(np.zeros(16000, np.float32))
    with pytest.raises(AudioError, match="shaped"):
        recognizer.analyze_audio(np.zeros((2, 2, 16000), np.float32))
    with pytest.raises(AudioError, match="dtype"):
        recognizer.analyze_audio(np.array(["a"] * 16000))
    assert recognizer.analyze_file(SAMPLE_WAV).label == "neutral"


def test_text_gives_the_cli_result(recognizer: EmotionRecognizer) -> None:
    (line,) = cli_lines("analyze", "--json", "--text", SENTENCE)
    result = recognizer.analyze_text(SENTENCE)
    assert result.modality == "text" and rounded(result) == {"label": line["label"], "scores": line["scores"]}
    with pytest.raises(TextError, match="empty text"):
        recognizer.analyze_text("   ")


def test_an_image_gives_the_cli_faces(recognizer: EmotionRecognizer) -> None:
    pytest.importorskip("cv2", reason="the face extra (OpenCV) is not installed")
    (line,) = cli_lines("analyze", "--json", str(SAMPLE_FACE))
    result = recognizer.analyze_image(SAMPLE_FACE)
    assert result.modality == "face" and rounded(result) == {"label": line["label"], "scores": line["scores"]}
    assert [list(f.box) for f in result.faces] == [f["box"] for f in line["faces"]]
    assert [{"label": f.label, "scores": {k: round(v, 4) for k, v in f.scores.items()}} for f in result.faces] == \
        [{"label": f["label"], "scores": f["scores"]} for f in line["faces"]]
    from edge.face.image import load_grey_image

    assert recognizer.analyze_image(load_grey_image(SAMPLE_FACE)) == result
    assert recognizer.analyze_file(SAMPLE_FACE) == result
    no_face = recognizer.analyze_image(REPO / "tests" / "data" / "noface_cat.jpg")
    assert (no_face.label, no_face.scores, no_face.faces) == (None, {}, ())
    with pytest.raises(ImageError, match="2-D uint8 grey image"):
        recognizer.analyze_image(np.zeros((48, 48, 3), np.uint8))


def test_fusion_gives_the_cli_fuse_row(recognizer: EmotionRecognizer, tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="the face extra (OpenCV) is not installed")
    table = tmp_path / "rows.csv"
    table.write_text(f'audio,text,image\n{SAMPLE_WAV},"{SENTENCE}",{SAMPLE_FACE}\n')
    (row,) = cli_lines("fuse", "--json", "--manifest", str(table))
    speech, text = recognizer.analyze_file(SAMPLE_WAV), recognizer.analyze_text(SENTENCE)
    face = recognizer.analyze_image(SAMPLE_FACE, face_crop=True)  # fuse's image column is a face crop
    fused = recognizer.fuse(speech, text, face)
    assert fused.modality == "fused" and rounded(fused) == {"label": row["label"], "scores": row["scores"]}
    assert {name: rounded(m) for name, m in fused.modalities.items()} == row["modalities"]
    with pytest.raises(ConfigError, match="'speech' twice"):
        recognizer.fuse(speech, speech)


def test_a_profile_sets_the_models_and_unknown_ones_are_named() -> None:
    assert EmotionRecognizer("x86").profile.name == "x86"
    with pytest.raises(ConfigError, match="unknown profile 'no-such-device'"):
        EmotionRecognizer("no-such-device")


def stream_profile(tmp_path: Path) -> Path:
    """A profile whose microphone queue holds a whole test recording: the virtual microphone plays its file
    faster than real time, and with the default 200 blocks (6 s) `listen` would drop the rest while it loads."""
    profile = tmp_path / "dev.toml"
    profile.write_text('[runtime]\nthreads = 1\n[audio]\nqueue_blocks = 10000\n'
                       '[fusion]\nsmoothing = "ema"\nema_alpha = 0.5\n')
    return profile


def test_streaming_blocks_gives_the_events_listen_gives_from_a_microphone(tmp_path: Path,
                                                                          two_utterances_wav) -> None:
    from test_listen import virtual_microphone

    path, _ = two_utterances_wav
    audio, rate = sf.read(path, dtype="float32")
    profile = stream_profile(tmp_path)
    proc = run_cli("listen", "--profile", str(profile), "--json", "--duration", f"{audio.size / rate + 1:.1f}",
                   env=virtual_microphone(tmp_path, audio), timeout=120)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)  # the samples the virtual microphone plays
    assert proc.returncode == 0 and "dropped" not in proc.stderr, proc.stderr
    heard = [json.loads(line) for line in proc.stdout.splitlines()]
    events: list[Emotion] = []
    count = EmotionRecognizer(profile).stream(events.append, (pcm[i:i + 480] for i in range(0, pcm.size, 480)), rate)
    assert count == len(events) == len(heard) == 2
    for event, line in zip(events, heard):
        assert event.modality == "fused" and (event.start, event.end) == (line["t_start"], line["t_end"])
        assert {"label": event.label, "scores": event.scores} == {"label": line["label"], "scores": line["scores"]}
        assert {name: {"label": m.label, "scores": m.scores} for name, m in event.modalities.items()} == \
            line["modalities"]


def test_a_bad_block_or_a_failing_callback_does_not_stop_the_stream(tmp_path: Path, speech_wav: Path,
                                                                     capfd: pytest.CaptureFixture) -> None:
    audio, rate = sf.read(speech_wav, dtype="float32")
    gap = np.zeros(rate, np.float32)
    blocks = [gap, audio, gap, np.full(480, np.nan, np.float32), audio, gap]
    seen: list[Emotion] = []

    def fragile(event: Emotion) -> None:
        seen.append(event)
        raise RuntimeError("the application's bug")

    assert EmotionRecognizer(stream_profile(tmp_path)).stream(fragile, blocks, rate) == 2
    assert len(seen) == 2 and seen[0].end < seen[1].start
    err = capfd.readouterr().err
    assert "audio block 4: audio contains NaN or infinite samples; skipped" in err
    assert err.count("raised RuntimeError: the application's bug") == 1


def test_the_readme_example_runs_as_written_and_prints_what_the_readme_shows() -> None:
    pytest.importorskip("cv2", reason="the README example reads a face image: the face extra")
    proc = subprocess.run([sys.executable, "scripts/readme_example.py"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "lines as documented" in proc.stdout
