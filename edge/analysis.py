"""Speech analysis of a recording, streamed in blocks: each utterance's result as soon as the VAD closes it,
then the whole-recording result, in memory that does not grow with the recording's length."""

from dataclasses import dataclass
from typing import Generator, Iterable, Iterator

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.audio.features import CONTRACT, frame_energy_db
from edge.audio.vad import FrameVad, Utterance, UtteranceSegmenter
from edge.errors import AudioError
from edge.result import Prediction, WeightedMean
from edge.speech import SpeakerSession, SpeechEmotionModel

SILENCE_DBFS = -60.0
# a recording up to this long is also kept whole, to be scored as one utterance when the VAD finds at most one;
# a longer one with a single utterance is scored by that utterance (4 MB of samples at most)
WHOLE_SIGNAL_S = 60.0


class PeakLevel:
    """The loudest analysis frame's level (dB) over a stream, on the MFCC frame grid: ``frame_energy_db``'s
    maximum over the whole signal, from a tail of less than one frame."""

    def __init__(self) -> None:
        self._hop = int(round(CONTRACT.winstep * CONTRACT.sample_rate))
        self._win = int(round(CONTRACT.winlen * CONTRACT.sample_rate))
        self._tail = np.zeros(0, dtype=np.float32)
        self._peak = -np.inf

    def push(self, block: np.ndarray) -> None:
        data = np.concatenate([self._tail, block])
        frames = (data.size - self._win) // self._hop + 1 if data.size >= self._win else 0
        if frames:
            self._peak = max(self._peak, float(frame_energy_db(data[:(frames - 1) * self._hop + self._win]).max()))
        self._tail = data[frames * self._hop:]

    @property
    def db(self) -> float:
        """The peak so far (a stream shorter than one frame: that frame zero-padded)."""
        return self._peak if np.isfinite(self._peak) else float(frame_energy_db(self._tail).max())


class WholeSignal:
    """The recording's blocks while it is at most ``WHOLE_SIGNAL_S`` long; forgotten beyond."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] | None = []
        self._samples = 0

    def push(self, block: np.ndarray) -> None:
        self._samples += block.size
        if self._blocks is not None:
            self._blocks.append(block)
            if self._samples > WHOLE_SIGNAL_S * SAMPLE_RATE:
                self._blocks = None

    @property
    def audio(self) -> np.ndarray | None:
        """Every sample, or None when the recording grew too long to keep."""
        return None if self._blocks is None else np.concatenate(self._blocks)

    @property
    def seconds(self) -> float:
        return self._samples / SAMPLE_RATE


def analyze_stream(model: SpeechEmotionModel, blocks: Iterable[np.ndarray], vad: FrameVad,
                   speaker: SpeakerSession | None = None) -> Generator[tuple[Utterance, Prediction], None, Prediction]:
    """Score a recording given as 16 kHz blocks: yields (utterance, prediction) in order, returns the whole
    recording's prediction. With at most one utterance the whole signal is scored as one utterance (the path
    the model was evaluated on; past ``WHOLE_SIGNAL_S``, that utterance); with several, the duration-weighted
    mean of the utterance scores. Digital silence raises AudioError. A ``speaker`` session adapts to the
    utterances in order, each scored with what was heard before it. The first utterance is held until a
    second one comes, so a lone one is scored after the whole signal, as the session expects."""
    vad.reset()  # each recording on its own noise floor, whatever was analysed before it
    segmenter, level, whole = UtteranceSegmenter(vad), PeakLevel(), WholeSignal()
    held: list[Utterance] = []  # the first utterance, until a second one shows that the file has several
    mean = WeightedMean(model.labels)  # of the utterances' scores, by duration

    def scored(utt: Utterance) -> tuple[Utterance, Prediction]:
        prediction = model.predict(utt.audio, speaker)
        mean.add(utt.end - utt.start, prediction)
        return utt, prediction

    def closed(found: Iterable[Utterance]) -> Iterable[tuple[Utterance, Prediction]]:
        for utt in found:
            if not mean.weight and not held:
                held.append(utt)
                continue
            if held:
                yield scored(held.pop())
            yield scored(utt)

    for block in blocks:
        level.push(block)
        whole.push(block)
        yield from closed(segmenter.push(block))
    yield from closed(segmenter.flush())
    if level.db < SILENCE_DBFS:
        raise AudioError(f"no speech: the recording is silent (every frame below {SILENCE_DBFS:.0f} dBFS)")
    if mean.weight:
        return mean.mean()
    audio = whole.audio
    if audio is None and not held:
        raise AudioError(f"no speech: the voice activity detector found no utterance in {whole.seconds:.1f} s")
    overall = None if audio is None else model.predict(audio, speaker, learn=not held)  # learns each utterance once
    if held:
        utt, prediction = scored(held[0])
        yield utt, prediction
        overall = prediction if overall is None else overall
    return overall


def with_overall(stream: Generator[tuple[Utterance, Prediction], None, Prediction]
                 ) -> Iterator[tuple[Utterance | None, Prediction]]:
    """``analyze_stream``'s utterances, then (None, the whole recording's prediction): one loop gets both."""
    overall = yield from stream
    yield None, overall


@dataclass(frozen=True)
class AudioAnalysis:
    """The whole-recording prediction and each detected utterance with its own prediction."""

    overall: Prediction
    segments: list[tuple[Utterance, Prediction]]


def analyze_audio(model: SpeechEmotionModel, audio: np.ndarray, vad: FrameVad,
                  speaker: SpeakerSession | None = None) -> AudioAnalysis:
    """``analyze_stream`` over a recording already in memory, collected."""
    *segments, (_, overall) = with_overall(analyze_stream(model, [audio], vad, speaker))
    return AudioAnalysis(overall, segments)
