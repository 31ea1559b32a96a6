"""Training and evaluation inputs for speaker-adaptive speech training, vectorised so many runs train at once.

Every clip of every corpus (each variant: clean and augmented) lives in one flat frame array with
c0's utterance mean removed, plus each utterance's feature moments. A run samples index arrays only:
clips balanced over corpus, speaker and label; a variant; crop positions; SpecAugment masks; and k
random *other* utterances of the same speaker whose moments give the speaker statistics the clip is
normalised with (k = 0: none heard yet). The normalisation is the runtime's own formula
(``edge.audio.features.speaker_mean_std``).
"""

from dataclasses import dataclass

import numpy as np

from edge.audio.features import FeatureContract, fixed_windows, gain_normalised, speaker_mean_std
from edge.labels import CANONICAL_LABELS
from training.speech.data import CORPORA, FeatureSet, corpus_labels

NEUTRAL = CANONICAL_LABELS.index("neutral")


@dataclass
class Store:
    """All clips x variants: flat gain-normalised frames, where each (clip, variant) starts and how long it is."""

    frames: np.ndarray      # (total frames, dims) float32
    offset: np.ndarray      # (clips, variants)
    length: np.ndarray      # (clips, variants)
    means: np.ndarray       # (clips, variants, dims) per-utterance means
    squares: np.ndarray     # (clips, variants, dims) per-utterance mean squares
    labels: np.ndarray
    speakers: np.ndarray
    corpora: np.ndarray
    paths: np.ndarray

    @classmethod
    def of(cls, data: FeatureSet, dims: int) -> "Store":
        """Keep ``dims`` columns of every variant and remove c0's utterance mean (the microphone gain)."""
        per = [[gain_normalised(v[:, :dims].astype(np.float32)) for v in clip] for clip in data.variants]
        length = np.array([[len(v) for v in clip] for clip in per])
        offset = np.concatenate([[0], np.cumsum(length.ravel())[:-1]]).reshape(length.shape)
        frames = np.concatenate([v for clip in per for v in clip])
        means = np.array([[v.mean(axis=0, dtype=np.float64) for v in clip] for clip in per])
        squares = np.array([[(v.astype(np.float64) ** 2).mean(axis=0) for v in clip] for clip in per])
        speakers = data.speakers.astype(str)
        return cls(frames, offset, length, means, squares, data.labels, speakers,
                   np.array([s.split(":")[0] for s in speakers]), data.paths)

    def clip_frames(self, clip: int, variant: int = 0) -> np.ndarray:
        """Gain-normalised frames of one clip variant."""
        start = self.offset[clip, variant]
        return self.frames[start:start + self.length[clip, variant]]


def run_contract(store: Store, train: np.ndarray, recipe: dict) -> FeatureContract:
    """The run's feature contract: statistics from its own training clips (clean variants) only."""
    clean = np.concatenate([store.clip_frames(i) for i in train])
    return FeatureContract(normalisation=recipe["normalisation"], pitch=recipe["pitch"],
                           global_mean=tuple(clean.mean(axis=0).round(5).tolist()),
                           global_std=tuple((clean.std(axis=0) + 1e-3).round(5).tolist()),
                           speaker_prior=float(recipe["speaker_prior"]) if recipe["normalisation"] == "speaker" else 0.0)


def corpus_weights(corpora: list[str], n_speakers: dict[str, int], weighting: str,
                   n_clips: dict[str, int]) -> dict[str, float]:
    """Sampling share of each corpus: 'sqrt-speakers' (more voices count more, TESS's two do not dominate) or 'clips'."""
    raw = {c: float(n_clips[c] if weighting == "clips" else np.sqrt(n_speakers[c])) for c in corpora}
    total = sum(raw.values())
    return {c: w / total for c, w in raw.items()}


class SpeakerPools:
    """The clips of each speaker within a set, as a padded matrix, for vectorised 'k other utterances' draws."""

    def __init__(self, store: Store, clips: np.ndarray) -> None:
        names, speaker_id = np.unique(store.speakers[clips], return_inverse=True)
        self.sizes = np.bincount(speaker_id)
        self.matrix = np.zeros((len(names), self.sizes.max()), dtype=int)
        self.position = np.zeros(len(store.labels), dtype=int)   # a clip's place in its speaker's row
        self.speaker = np.zeros(len(store.labels), dtype=int)
        fill = np.zeros(len(names), dtype=int)
        for clip, s in zip(clips, speaker_id):
            self.matrix[s, fill[s]] = clip
            self.position[clip], self.speaker[clip] = fill[s], s
            fill[s] += 1

    def others(self, clips: np.ndarray, k: np.ndarray, k_max: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(indices (n, k_max), mask): up to ``k`` other clips of each clip's speaker, drawn with replacement."""
        spk = self.speaker[clips]
        span = np.maximum(self.sizes[spk] - 1, 1)
        r = np.floor(rng.random((clips.size, k_max)) * span[:, None]).astype(int)
        r += r >= self.position[clips][:, None]
        idx = self.matrix[spk[:, None], np.minimum(r, self.sizes[spk][:, None] - 1)]
        mask = (np.arange(k_max)[None] < k[:, None]) & (self.sizes[spk] > 1)[:, None]
        return idx, mask


@dataclass
class RunData:
    """One run's view of the store: its training clips, how to sample them, its contract and test clips."""

    recipe: dict
    train: np.ndarray
    test: np.ndarray
    contract: FeatureContract
    probs: np.ndarray
    pools: SpeakerPools
    label_masks: np.ndarray   # (clips in store, labels) additive logit mask of each clip's corpus

    @classmethod
    def of(cls, store: Store, train: np.ndarray, test: np.ndarray, recipe: dict) -> "RunData":
        """Balanced sampling weights: corpus by share, then speaker, then label, then clip, uniformly."""
        corpora = sorted(set(store.corpora[train].tolist()))
        spk_of = {c: sorted(set(store.speakers[train][store.corpora[train] == c].tolist())) for c in corpora}
        shares = corpus_weights(corpora, {c: len(s) for c, s in spk_of.items()}, recipe["corpus_weighting"],
                                {c: int((store.corpora[train] == c).sum()) for c in corpora})
        probs = np.zeros(train.size)
        for c in corpora:
            for s in spk_of[c]:
                own = store.speakers[train] == s
                labels = np.unique(store.labels[train][own])
                for lab in labels:
                    group = own & (store.labels[train] == lab)
                    probs[group] = shares[c] / len(spk_of[c]) / len(labels) / group.sum()
        masks = {c: np.full(len(CANONICAL_LABELS), -1e9, dtype=np.float32) for c in CORPORA}
        for c, m in masks.items():
            m[list(corpus_labels(c))] = 0.0
        return cls(recipe, train, test, run_contract(store, train, recipe), probs / probs.sum(),
                   SpeakerPools(store, train), np.stack([masks[c] for c in store.corpora]))


def speaker_moments(store: Store, contract: FeatureContract, idx: np.ndarray, mask: np.ndarray,
                    variant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) per row from the masked other utterances' moments (same variant kind as the row's clip)."""
    if contract.normalisation != "speaker":
        n = len(idx)
        return (np.broadcast_to(np.asarray(contract.global_mean), (n, contract.dims)),
                np.broadcast_to(np.asarray(contract.global_std), (n, contract.dims)))
    w = mask[..., None].astype(np.float64)
    mean_sum = (store.means[idx, variant[:, None]] * w).sum(axis=1)
    square_sum = (store.squares[idx, variant[:, None]] * w).sum(axis=1)
    return speaker_mean_std(contract, mean_sum, square_sum, mask.sum(axis=1)[:, None].astype(np.float64))


def sample_batch(store: Store, run: RunData, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Index arrays for one batch (the frames are gathered and normalised on the accelerator)."""
    recipe, contract, size = run.recipe, run.contract, run.contract.window_frames
    clips = run.train[rng.choice(run.train.size, size=batch, p=run.probs)]
    n_variants = store.offset.shape[1]
    variant = np.where(rng.random(batch) < recipe["clean_prob"], 0, rng.integers(1, max(n_variants, 2), batch))
    variant = np.minimum(variant, n_variants - 1)
    if contract.normalisation == "speaker":
        k = np.where(rng.random(batch) < recipe["adapt_zero_prob"], 0, rng.integers(1, recipe["adapt_max"] + 1, batch))
    else:
        k = np.zeros(batch, dtype=int)
    idx, mask = run.pools.others(clips, k, max(recipe["adapt_max"], 1), rng)
    mean, std = speaker_moments(store, contract, idx, mask, variant)
    length = store.length[clips, variant]
    long = length >= size
    start = np.where(long, (rng.random(batch) * (length - size + 1)).astype(int), 0)
    pad = np.where(long, 0, (rng.random(batch) * (size - length + 1)).astype(int))

    def masks(count: int, widest: int, extent: int) -> tuple[np.ndarray, np.ndarray]:
        width = rng.integers(0, widest + 1, (batch, count))
        return (rng.random((batch, count)) * (extent - width + 1)).astype(int), width

    f_start, f_width = masks(recipe["freq_masks"], recipe["freq_mask_max"], contract.dims)
    t_start, t_width = masks(recipe["time_masks"], recipe["time_mask_max"], size)
    return {"first": (store.offset[clips, variant] + start).astype(np.int32), "valid": np.minimum(length, size).astype(np.int32),
            "pad": pad.astype(np.int32), "mean": mean.astype(np.float32), "std": std.astype(np.float32),
            "f_start": f_start.astype(np.int32), "f_width": f_width.astype(np.int32),
            "t_start": t_start.astype(np.int32), "t_width": t_width.astype(np.int32),
            "labels": store.labels[clips].astype(np.int32), "mask": run.label_masks[clips]}


def other_utterances(store: Store, clips: np.ndarray, clip: int, k: int, rng: np.random.Generator,
                     label: int | None = None) -> np.ndarray:
    """``k`` distinct random other clips (within ``clips``) of ``clip``'s speaker, of ``label`` only if given."""
    pool = clips[(store.speakers[clips] == store.speakers[clip]) & (clips != clip)]
    if label is not None:
        pool = pool[store.labels[pool] == label]
    return rng.choice(pool, size=min(k, pool.size), replace=False) if k > 0 else pool[:0]


def normalised_clip(store: Store, contract: FeatureContract, clip: int, others: np.ndarray,
                    variant: int = 0) -> np.ndarray:
    """One clip variant normalised as the runtime would after hearing ``others`` of its speaker."""
    mask = np.ones((1, others.size), dtype=bool)
    mean, std = speaker_moments(store, contract, others[None], mask, np.array([variant]))
    return ((store.clip_frames(clip, variant) - mean[0]) / std[0]).astype(np.float32)


def evaluation_windows(store: Store, clips: np.ndarray, contract: FeatureContract, k: int,
                       rng: np.random.Generator, enrol_neutral: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All clean windows of ``clips``, normalised after ``k`` random earlier utterances of each speaker
    (or ``enrol_neutral`` neutral ones); returns (windows, position of the owning clip in ``clips``)."""
    windows, owner = [], []
    for row, clip in enumerate(clips):
        others = other_utterances(store, clips, clip, enrol_neutral or k, rng, NEUTRAL if enrol_neutral else None)
        w = fixed_windows(normalised_clip(store, contract, clip, others), contract)
        windows.append(w)
        owner.extend([row] * len(w))
    return np.concatenate(windows), np.array(owner)


def clip_means(window_probs: np.ndarray, owner: np.ndarray, clips: int) -> np.ndarray:
    """Clip scores: the mean of each clip's window probabilities (``owner`` from ``evaluation_windows``)."""
    out = np.zeros((clips, window_probs.shape[1]))
    np.add.at(out, owner, window_probs)
    return out / np.bincount(owner, minlength=clips)[:, None]
