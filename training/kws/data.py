"""Speech Commands training clips for the keyword spotter, gathered from public git copies.

``python -m training.kws.data --source GIT_DIR [--source ...]`` reads the wav blobs of bare git
mirrors of public copies of the Speech Commands set (v0.01 or v0.02, CC BY 4.0; every commit, so
clips a repository later deleted still count), keeps the 16 kHz mono 16-bit clips of speakers the
official split puts in training or validation, and writes ``<out>/<word>/<file>.wav`` plus
``<out>/index.csv`` (path,speaker,label,word,split). No clip of a test speaker is ever kept: our
test clips and the held-back half of the official test split both come from those speakers.
"""

import argparse
import csv
import hashlib
import io
import re
import subprocess
import wave
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from training.paths import CACHE_DIR, SHARED_DATA

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN_WORDS = ("bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin",
                 "nine", "one", "seven", "sheila", "six", "three", "tree", "two", "wow", "zero",
                 "backward", "follow", "forward", "learn", "visual")
NOISE = "_background_noise_"
UNKNOWN = "_unknown_"
CLIP_NAME = re.compile(r"([0-9a-f]{8})_nohash_\d+\.wav")
FLAT_CLIP_NAME = re.compile(r"([a-z]+)_([0-9a-f]{8}_nohash_\d+\.wav)")
TEST_LIST_NAME = "testing_list.txt"
SHARED_INDEX = SHARED_DATA / "speech_commands" / "index.csv"
FIELDS = ("path", "speaker", "label", "word", "split")


class TestSpeakerError(RuntimeError):
    """A clip of a test speaker was about to be kept."""


def official_split(file_name: str) -> str:
    """'training', 'validation' or 'testing': the official v0.01/v0.02 split of a clip by its speaker.

    The Speech Commands README / TensorFlow ``input_data.which_set`` rule with 10 % validation and
    10 % testing: the speaker id (the name up to ``_nohash_``) is SHA-1 hashed, so every clip of a
    speaker lands in the same split whatever the dataset version.
    """
    max_per_class = 2 ** 27 - 1
    speaker = re.sub(r"_nohash_.*$", "", file_name)
    digest = int(hashlib.sha1(speaker.encode()).hexdigest(), 16)
    percentage = (digest % (max_per_class + 1)) * (100.0 / max_per_class)
    if percentage < 10:
        return "validation"
    return "testing" if percentage < 20 else "training"


def label_of(word: str) -> str:
    """The class a clip of ``word`` trains: the keyword itself, _unknown_, or _background_noise_."""
    if word == NOISE:
        return NOISE
    return word if word in KEYWORDS else UNKNOWN


def _wanted(path: str) -> tuple[str, str] | None:
    """(word, file name) of a repository path that is a Speech Commands clip or noise file, else None.

    A clip is ``<word>/<speaker>_nohash_<n>.wav``, or ``<word>_<speaker>_nohash_<n>.wav`` in any folder.
    """
    parts = path.split("/")
    flat = FLAT_CLIP_NAME.fullmatch(parts[-1])
    if flat and (flat[1] in KEYWORDS or flat[1] in UNKNOWN_WORDS):
        return flat[1], flat[2]
    if len(parts) < 2:
        return None
    word, name = parts[-2], parts[-1]
    if word == NOISE and name.endswith(".wav"):
        return word, name
    if (word in KEYWORDS or word in UNKNOWN_WORDS) and CLIP_NAME.fullmatch(name):
        return word, name
    return None


def _is_test_list(path: str) -> bool:
    """Whether a repository path is an official testing_list.txt (its speakers are excluded too)."""
    return path.rsplit("/", 1)[-1] == TEST_LIST_NAME


def _entries(git_dir: Path) -> list[tuple[str, str]]:
    """(path, blob id) of every clip, noise file and testing list in any commit of a mirror, one per blob."""
    listing = subprocess.run(["git", f"--git-dir={git_dir}", "rev-list", "--objects", "--all", "HEAD",
                              "--missing=allow-any"],
                             check=True, capture_output=True, text=True).stdout.splitlines()
    found: dict[str, str] = {}
    for line in listing:
        sha, _, path = line.partition(" ")
        if path and (_wanted(path) or _is_test_list(path)):
            found.setdefault(sha, path)
    return sorted((path, sha) for sha, path in found.items())


def _blobs(git_dir: Path, entries: list[tuple[str, str]]) -> Iterator[tuple[str, bytes | None]]:
    """Yield (path, bytes or None if the snapshot lacks it) for ``entries``, one cat-file process."""
    proc = subprocess.Popen(["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for path, sha in entries:
            proc.stdin.write(f"{sha}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if header[-1] == b"missing":
                yield path, None
                continue
            data = proc.stdout.read(int(header[2]) + 1)[:-1]
            yield path, data
    finally:
        proc.stdin.close()
        proc.wait()


def _is_16k_mono(raw: bytes) -> bool:
    """Whether ``raw`` is a 16 kHz, mono, 16-bit PCM wav: the only format the spotter's front end reads."""
    try:
        with wave.open(io.BytesIO(raw)) as wav:
            return (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
    except (wave.Error, EOFError):
        return False


def _speakers_in_lists(texts: list[bytes]) -> set[str]:
    """Speaker ids named in official testing_list.txt files."""
    return {m.group(1) for text in texts for m in CLIP_NAME.finditer(text.decode(errors="replace"))}


def shared_test_speakers(index: Path = SHARED_INDEX) -> set[str]:
    """Speakers of our test clips (the shared index), empty if that copy is absent."""
    if not index.exists():
        return set()
    with index.open(newline="") as f:
        return {row["speaker"] for row in csv.DictReader(f)}


def _check_no_test_speaker(rows: list[dict[str, str]], excluded: set[str]) -> None:
    """Raise TestSpeakerError if any clip to keep has a test speaker by the hash, a list or our index."""
    bad = [row["path"] for row in rows if row["label"] != NOISE
           and (official_split(Path(row["path"]).name) == "testing" or row["speaker"] in excluded)]
    if bad:
        raise TestSpeakerError(f"{len(bad)} test-speaker clips would be kept, e.g. {bad[:3]}")


def _plan(entries: dict[Path, list[tuple[str, str]]], excluded: set[str]) -> dict[Path, dict]:
    """Per source, {(word, file name): (blob id, index row)} of the clips to keep, first source first."""
    seen: set[tuple[str, str]] = set()
    plan = {}
    for src, found in entries.items():
        tally: Counter = Counter()
        plan[src] = {}
        for path, sha in found:
            key = _wanted(path)
            if key is None:
                continue
            word, name = key
            speaker = "" if word == NOISE else name.split("_nohash_")[0]
            split = "training" if word == NOISE else official_split(name)
            if key in seen:
                tally["duplicate"] += 1
            elif split == "testing" or speaker in excluded:
                tally["test speaker, dropped"] += 1
            else:
                seen.add(key)
                plan[src][key] = (sha, {"path": f"{word}/{name}", "speaker": speaker,
                                        "label": label_of(word), "word": word, "split": split})
        print(f"{src}: {len(plan[src])} to read, {dict(tally)}")
    return plan


def build(sources: list[Path], out: Path) -> list[dict[str, str]]:
    """Write the allowed clips of ``sources`` under ``out`` with index.csv; return the index rows.

    A clip is kept once per (word, file name). Every testing_list.txt found in a source adds its
    speakers to those of the hash rule and of the shared test index as excluded. The plan is checked
    for test speakers before a single byte is written.
    """
    entries = {src: _entries(src) for src in sources}
    lists = [raw for src, found in entries.items() for _, raw in
             _blobs(src, [e for e in found if _is_test_list(e[0])]) if raw]
    excluded = shared_test_speakers() | _speakers_in_lists(lists)
    plan = _plan(entries, excluded)
    _check_no_test_speaker([row for clips in plan.values() for _, row in clips.values()], excluded)
    rows = []
    for src, clips in plan.items():
        blobs = _blobs(src, [(row["path"], sha) for sha, row in clips.values()])
        for (key, (_, row)), (_, raw) in zip(clips.items(), blobs):
            if raw is None or not _is_16k_mono(raw):
                print(f"{src}: skipped {row['path']} (missing from the snapshot or not 16 kHz mono)")
                continue
            (out / key[0]).mkdir(parents=True, exist_ok=True)
            (out / row["path"]).write_bytes(raw)
            rows.append(row)
    rows.sort(key=lambda row: row["path"])
    with (out / "index.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def summary(rows: list[dict[str, str]]) -> str:
    """Clip counts per label and split, and the number of distinct speakers, as printable lines."""
    counts = Counter((row["label"], row["split"]) for row in rows)
    labels = [*KEYWORDS, UNKNOWN, NOISE]
    lines = [f"{'label':<20}{'training':>10}{'validation':>12}"]
    lines += [f"{label:<20}{counts[label, 'training']:>10}{counts[label, 'validation']:>12}" for label in labels]
    speakers = {row["speaker"] for row in rows if row["speaker"]}
    lines.append(f"{len(rows)} files, {len(speakers)} distinct speakers")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, action="append", required=True,
                        help="a bare git mirror of a public Speech Commands copy (repeatable)")
    parser.add_argument("--out", type=Path, default=CACHE_DIR / "speech_commands_train")
    args = parser.parse_args()
    try:
        rows = build(args.source, args.out.expanduser())
    except TestSpeakerError as err:
        parser.exit(2, f"refusing to write the index: {err}\n")
    print(summary(rows))


if __name__ == "__main__":
    main()
