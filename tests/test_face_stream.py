"""The camera branch: frame sources, the face track (drops, faults, reopening) and listen --camera."""

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, run_cli

cv2 = pytest.importorskip("cv2")

from edge.errors import DeviceError  # noqa: E402
from edge.face.camera import ImageFilesSource, OpenCVSource, PiCameraSource, make_source  # noqa: E402
from edge.face.detect import make_detector  # noqa: E402
from edge.face.model import FaceEmotionModel  # noqa: E402
from edge.stream.faces import FaceTrack  # noqa: E402

FACE = REPO / "edge" / "samples" / "face_astronaut.jpg"
NO_FACE = REPO / "tests" / "data" / "noface_cat.jpg"


@pytest.fixture(scope="module")
def model() -> FaceEmotionModel:
    return FaceEmotionModel.load()


@pytest.fixture(scope="module")
def detector():
    return make_detector("blazeface")


class FlakyCamera:
    """A live camera that fails to open twice, delivers frames, vanishes once, comes back, delivers more."""

    live = True
    name = "flaky camera"

    def __init__(self, frame: np.ndarray, before: int = 3, after: int = 2) -> None:
        self.frame, self.plan = frame, [frame] * before + [None] + [frame] * after
        self.open_failures = 2
        self.is_open = False

    def open(self) -> None:
        if self.open_failures:
            self.open_failures -= 1
            raise DeviceError("cannot open flaky camera")
        self.is_open = True

    def read(self) -> np.ndarray | None:
        if not self.is_open:
            return None
        if not self.plan:
            time.sleep(0.01)
            return self.frame
        return self.plan.pop(0)

    def close(self) -> None:
        self.is_open = False


def test_image_files_are_analysed_in_order_and_summarised_for_fusion(model, detector) -> None:
    seen = []
    track = FaceTrack(ImageFilesSource([FACE, NO_FACE, FACE]), model, detector, fps=100,
                      on_frame=lambda t, r: seen.append(r), queue_frames=8).start()
    track.wait(30)
    assert track.frames == 3 and track.dropped == 0 and track.faults == 0
    assert [len(r.faces) for r in seen] == [1, 0, 1]
    summary = track.recent(60.0)
    score = seen[0].faces[0][0].score
    assert summary.reliability == pytest.approx(score * 2 / 3, rel=1e-6)  # 2 of 3 frames had a face
    assert summary.prediction.scores == pytest.approx(seen[0].faces[0][1].scores, abs=1e-6)


def test_a_camera_that_fails_and_vanishes_is_reported_reopened_and_resumes(model, detector, capsys) -> None:
    frame = cv2.imread(str(FACE), cv2.IMREAD_GRAYSCALE)
    track = FaceTrack(FlakyCamera(frame), model, detector, fps=200, retry_s=0.01, max_retry_s=0.02,
                      queue_frames=64).start()
    deadline = time.monotonic() + 30
    while track.frames < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    track.stop()
    assert track.frames >= 8 and track.faults == 1 and track.reopened == 2
    err = capsys.readouterr().err
    assert "cannot open flaky camera; retrying" in err
    assert "flaky camera stopped delivering frames (unplugged or failed); reopening" in err
    assert err.count("back after a fault") == 2


def test_slow_analysis_drops_the_oldest_frames_and_counts_them(model) -> None:
    gate = threading.Event()
    track = FaceTrack(ImageFilesSource([FACE] * 12), model, None, fps=1000, queue_frames=1,
                      on_frame=lambda t, r: gate.wait(0.05))
    track.start().wait(30)
    assert track.dropped > 0 and track.frames + track.dropped == 12


def test_a_video_file_plays_through_opencv_then_ends(tmp_path: Path, model, detector) -> None:
    video = tmp_path / "clip.avi"
    frame = cv2.imread(str(FACE))
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, frame.shape[1::-1])
    for _ in range(5):
        writer.write(frame)
    writer.release()
    source = make_source(video)
    assert isinstance(source, OpenCVSource) and not source.live
    track = FaceTrack(source, model, detector, fps=100, queue_frames=8).start()
    track.wait(30)
    assert track.frames == 5 and track.recent(60.0) is not None


def test_missing_cameras_are_clear_errors() -> None:
    with pytest.raises(DeviceError, match="cannot open video"):
        OpenCVSource(Path("/no/such/video.avi")).open()
    with pytest.raises(DeviceError, match="picamera2 is not available|cannot open picamera2"):
        PiCameraSource().open()


@pytest.fixture
def camera_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    shutil.copy(FACE, folder / "a.jpg")
    shutil.copy(NO_FACE, folder / "b.jpg")
    return folder


def test_listen_camera_prints_a_face_event_per_frame(tmp_path: Path, camera_folder: Path) -> None:
    from test_listen import virtual_microphone

    env = virtual_microphone(tmp_path, np.zeros(16000 * 2, np.float32))
    proc = run_cli("listen", "--json", "--camera", str(camera_folder), "--duration", "1.5", env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(e["input"], e["modality"], len(e["faces"])) for e in events] == [("camera", "face", 1),
                                                                              ("camera", "face", 0)]
    assert events[0]["t"] >= 0 and events[1]["label"] is None


def test_listen_profile_fuses_the_camera_face_into_utterance_events(tmp_path: Path, two_utterances_wav,
                                                                    camera_folder: Path) -> None:
    from test_listen import virtual_microphone

    path, _ = two_utterances_wav
    audio, _ = sf.read(path, dtype="float32")
    (camera_folder / "b.jpg").unlink()
    for k in range(40):  # a face in view for the whole recording
        shutil.copy(FACE, camera_folder / f"f{k:02d}.jpg")
    profile = tmp_path / "cam.toml"
    profile.write_text('[models]\nspeech = "int8"\nface = "int8"\n[camera]\nenabled = true\n'
                       f'source = "{camera_folder}"\nfps = 10\n')
    env = virtual_microphone(tmp_path, audio)
    proc = run_cli("listen", "--profile", str(profile), "--json", "--duration", f"{audio.size / 16000 + 1:.1f}",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    speech_events = [e for e in events if "speech" in e["modalities"]]
    assert len(speech_events) == 2
    assert all(set(e["modalities"]) == {"speech", "face"} for e in speech_events)
    assert all(abs(sum(e["scores"].values()) - 1) < 1e-3 for e in events)


def test_the_x86_profile_runs_end_to_end_from_a_virtual_microphone_and_a_camera_source(
        tmp_path: Path, two_utterances_wav, camera_folder: Path) -> None:
    from test_listen import virtual_microphone

    path, _ = two_utterances_wav
    audio, _ = sf.read(path, dtype="float32")
    (camera_folder / "b.jpg").unlink()
    for k in range(40):
        shutil.copy(FACE, camera_folder / f"f{k:02d}.jpg")
    env = virtual_microphone(tmp_path, audio)
    proc = run_cli("listen", "--profile", "x86", "--camera", str(camera_folder), "--json",
                   "--duration", f"{audio.size / 16000 + 1:.1f}", env=env, timeout=180)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    speech_events = [e for e in events if "speech" in e["modalities"]]
    assert len(speech_events) == 2
    for event in speech_events:
        assert {"speech", "face"} <= set(event["modalities"]) and event["t_start"] < event["t_end"]
        assert event["label"] in event["scores"] and abs(sum(event["scores"].values()) - 1) < 1e-3
