"""Late fusion in two worlds, side by side: emotional words (label-matched triplets) and neutral words spoken
with emotion (RAVDESS and TESS recordings with their own sentences), plus an everyday mix; gold text and the
on-device transcript; every rule on the same inputs.

    python -m benchmarks.fusion_eval --runs runs/fusion_folds --fit   # fit + write edge/models/fusion.json, evaluate
    python -m benchmarks.fusion_eval --runs runs/fusion_folds         # evaluate (weights cross-fitted per fold)
    python -m benchmarks.fusion_eval --runs runs/fusion_folds --quick # small pools, no files (a smoke test)

``--runs`` holds the speaker-independent speech models: ``f1``..``f5`` (RAVDESS folds) and ``oaf_to_yaf``,
``yaf_to_oaf`` (TESS directions), each with ``speech_emotion_int8.json`` (``python -m convert.speech --runs``).

Emotional words: THE PAIRING IS SYNTHETIC. Each triplet is a RAVDESS clip, a dair-ai validation sentence and a
FER2013 public_test face drawn independently, from different people, because they share a label (angry, fear,
happy, sad, surprise): the best case for a product of experts, so read fusion gains as an upper bound. Items
are dealt to five folds (speech by actor), triplets are drawn within a fold, and the learned rule scores fold k
with weights fitted on the other four. Degraded variants: babble at 10 dB, face blur, and dair-ai sentences
spoken by espeak-ng and transcribed on device (ASR confidence = text reliability for every rule).

Neutral words: every RAVDESS clip (actors 01-20, scored by the fold model that held its actor out) and TESS
clip (scored by the model trained on the other TESS speaker) with the sentence it says ("Kids are talking by
the door", "Say the word <word>"), as gold text and as the shipped pocketsphinx transcript of the clip itself
(a stratified subset, ``benchmarks.fusion_spoken``). Seven labels. The learned rule scores a RAVDESS fold with
weights fitted on the other folds, and TESS (never fitted on) with the weights of all 20 actors.

Mix: per label, 70 % neutral-word recordings and 30 % emotional words (the triplets' speech + text pairs),
RAVDESS only; labels without emotional text (disgust, neutral) take the neutral-word recall.

Targets (issue #21): neutral words, fused UA >= speech alone; emotional words, fused >= best single + 5 points
and a missing modality never below the best remaining; with transcripts, fused >= speech alone. Each target is
reported per rule with its 95 % bootstrap CI (items resampled per label; paired across conditions and rules).
"""

import argparse
import json
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from benchmarks.fusion_pools import BLUR_SIGMAS, FOLDS, NOISE_SEED, POOL_SEED, SNR_DB, Pool, face_pool, \
    shared_labels, speech_crosscheck, speech_pool, text_pools
from benchmarks.fusion_rules import MODALITIES, RULE_NAMES, RULES, FitSet, Table, fit_learned, learned_array, \
    learned_params, predictions, table
from benchmarks.fusion_spoken import asr_subset, clip_scores, clip_transcripts, read_spoken
from edge.errors import TextError
from edge.fusion import FUSION_PARAMS, ModalityResult, load_params
from edge.labels import CANONICAL_LABELS

OUT = Path("benchmarks/results/fusion")
RUNS = Path("runs/fusion_folds")
ASR_PER_LABEL = 30
SEEDS = 5
BOOT = 1000
TARGET_GAIN = 0.05
NEUTRAL_SHARE = 0.7          # the everyday mix: share of lexically neutral speech
FIT_PER_LABEL = 200          # emotional-words triplets per label in a fit set
SHIPPED = "learned"
QUICK = {"speech": 30, "text": 30, "face": 30, "asr": 5, "per_label": 100, "boot": 200, "clips": 6}

# emotional words: (group, name, inputs as "pool/variant"); pool "text_asr" = the sentences with a transcript
CONDITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("single", "speech", ("speech/clean",)),
    ("single", "text", ("text/gold",)),
    ("single", "face", ("face/clean",)),
    ("fusion", "fusion", ("speech/clean", "text/gold", "face/clean")),
    ("removed", "fusion without speech", ("text/gold", "face/clean")),
    ("removed", "fusion without text", ("speech/clean", "face/clean")),
    ("removed", "fusion without face", ("speech/clean", "text/gold")),
    ("degraded", "speech, babble 10 dB", ("speech/babble10",)),
    ("degraded", "fusion, speech babble 10 dB", ("speech/babble10", "text/gold", "face/clean")),
    ("degraded", "face, blur 2 px", ("face/blur2",)),
    ("degraded", "fusion, face blur 2 px", ("speech/clean", "text/gold", "face/blur2")),
    ("degraded", "face, blur 4 px", ("face/blur4",)),
    ("degraded", "fusion, face blur 4 px", ("speech/clean", "text/gold", "face/blur4")),
    ("degraded", "text gold, ASR sentence pool", ("text_asr/gold",)),
    ("degraded", "text, ASR transcript", ("text_asr/asr",)),
    ("degraded", "fusion, text ASR transcript", ("speech/clean", "text_asr/asr", "face/clean")),
    ("degraded", "fusion, text ASR, reliability 1", ("speech/clean", "text_asr/asr1", "face/clean")),
    ("degraded", "speech + text ASR transcript", ("speech/clean", "text_asr/asr")),
)
SINGLES = ("speech", "text", "face")
FIT_INPUTS = (("speech/clean", "text/gold", "face/clean"), ("speech/clean", "text/gold"),
              ("speech/clean", "face/clean"), ("text/gold", "face/clean"), ("speech/clean", "text_asr/asr"))


# ---------------------------------------------------------------- sampling and scoring (pure, unit-tested)

def draw_triplets(pool_labels: Mapping[str, np.ndarray], shared: Sequence[int], per_label: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(true label per triplet, per pool the item index per triplet): ``per_label`` triplets per shared label,
    each pool's item drawn independently, uniformly with replacement, among that pool's items of the label."""
    y, draws = [], {name: [] for name in pool_labels}
    for lab in shared:
        y.append(np.full(per_label, lab))
        for name, labels in pool_labels.items():
            items = np.flatnonzero(labels == lab)
            if items.size == 0:
                raise ValueError(f"pool {name!r} has no item labelled {CANONICAL_LABELS[lab]!r}")
            draws[name].append(rng.choice(items, size=per_label, replace=True))
    return np.concatenate(y), {name: np.concatenate(d) for name, d in draws.items()}


def draw_fold_triplets(pools: Mapping[str, Pool], shared: Sequence[int], per_label: int, rng: np.random.Generator,
                       folds: Sequence[int]) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Triplets drawn within each of ``folds`` (every pool's items of that fold only), about ``per_label`` per
    label in all: (labels, pool item indices, fold per triplet)."""
    each = -(-per_label // len(folds))
    ys, draws, fold_of = [], {name: [] for name in pools}, []
    for k in folds:
        members = {name: np.flatnonzero(p.folds == k) for name, p in pools.items()}
        y, d = draw_triplets({name: pools[name].labels[m] for name, m in members.items()}, shared, each, rng)
        ys.append(y)
        fold_of.append(np.full(y.size, k))
        for name, m in members.items():
            draws[name].append(m[d[name]])
    return np.concatenate(ys), {n: np.concatenate(d) for n, d in draws.items()}, np.concatenate(fold_of)


def recalls(y: np.ndarray, pred: np.ndarray, labels: Sequence[int]) -> np.ndarray:
    """Recall per label of ``labels`` (a prediction of -1, i.e. no answer, is wrong)."""
    return np.array([np.mean(pred[y == lab] == lab) for lab in labels])


def unweighted_accuracy(y: np.ndarray, pred: np.ndarray, labels: Sequence[int]) -> float:
    """Mean recall over ``labels``."""
    return float(recalls(y, pred, labels).mean())


def split_input(spec: str) -> tuple[str, str]:
    """'pool/variant' -> (pool, variant)."""
    pool, variant = spec.split("/")
    return pool, variant


def target_gains(ua: Mapping[str, float | np.ndarray]) -> dict[str, float | np.ndarray]:
    """Emotional-words targets (floats, or arrays of bootstrap replicates): 'fusion' = UA(fusion) - UA(best single);
    'without X' = UA(fusion without X) - UA(best remaining single). Pass: gain >= required."""
    gains = {"fusion": ua["fusion"] - np.maximum.reduce([ua[s] for s in SINGLES])}
    for gone in SINGLES:
        rest = [ua[s] for s in SINGLES if s != gone]
        gains[f"without {gone}"] = ua[f"fusion without {gone}"] - np.maximum.reduce(rest)
    return gains


def passes(gain: float, required: float) -> bool:
    """Whether ``gain`` meets ``required`` (UAs are ratios of counts: allow float rounding)."""
    return gain >= required - 1e-9


def bootstrap_recalls(correct: Mapping[str, np.ndarray], uses: Mapping[str, Sequence[str]], y: np.ndarray,
                      draws: Mapping[str, np.ndarray], pool_labels: Mapping[str, np.ndarray], labels: Sequence[int],
                      n_boot: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Recall replicates per condition, shape (n_boot, labels). Each replicate resamples every pool's items per
    label and the rows per label (multinomial counts); a row's weight is its count times the counts of the
    items it uses. Replicates are paired across conditions. With ``draws`` mapping each pool to ``arange`` and
    one pool per row this is the plain per-label bootstrap of a fixed item set."""
    by_label = [np.flatnonzero(y == lab) for lab in labels]
    out = {name: np.empty((n_boot, len(labels))) for name in correct}
    for b in range(n_boot):
        item_w = {}
        for name, labs in pool_labels.items():
            w = np.zeros(labs.size)
            for lab in labels:
                items = np.flatnonzero(labs == lab)
                if items.size:
                    w += np.bincount(rng.choice(items, size=items.size), minlength=labs.size)
            item_w[name] = w
        row_w = np.zeros(y.size)
        for rows in by_label:
            row_w += np.bincount(rng.choice(rows, size=rows.size), minlength=y.size)
        for name, ok in correct.items():
            w = row_w.copy()
            for pool in uses[name]:
                w *= item_w[pool][draws[pool]]
            out[name][b] = [np.sum(ok[r] * w[r]) / w[r].sum() if w[r].sum() > 0 else np.mean(ok[r])
                            for r in by_label]
    return out


def mixed(neutral: np.ndarray, emotional: np.ndarray, neutral_labels: Sequence[int],
          emotional_labels: Sequence[int], share: float = NEUTRAL_SHARE) -> np.ndarray:
    """Recalls (..., neutral labels) of the everyday mix: ``share`` neutral words, the rest emotional words where
    that label has emotional text, neutral words alone where it has none."""
    out = np.array(neutral, dtype=float, copy=True)
    for j, lab in enumerate(emotional_labels):
        i = list(neutral_labels).index(lab)
        out[..., i] = share * neutral[..., i] + (1 - share) * emotional[..., j]
    return out


def verdict(gain: float, boot: np.ndarray, required: float) -> dict:
    """A target's gain, CI, bootstrap pass share and PASS/MISS."""
    return {"gain": float(gain), "required": required, "ci95": [float(np.percentile(boot, q)) for q in (2.5, 97.5)],
            "bootstrap_pass_fraction": float(np.mean(boot >= required - 1e-9)),
            "verdict": "PASS" if passes(gain, required) else "MISS"}


# ---------------------------------------------------------------- fitting the learned rule

def fit_sets(tables: Mapping[str, Table], pools: Mapping[str, Pool], spoken: dict, shared: Sequence[int],
             train_folds: Sequence[int]) -> list[FitSet]:
    """Training items of ``train_folds`` only: emotional-words triplets (each subset of inputs) and RAVDESS
    neutral-word recordings (gold text and transcript), weighted NEUTRAL_SHARE : 1 - NEUTRAL_SHARE."""
    pool_names = sorted({split_input(s)[0] for inputs in FIT_INPUTS for s in inputs})
    y, draws, _ = draw_fold_triplets({n: pools[n] for n in pool_names}, shared, FIT_PER_LABEL,
                                     np.random.default_rng([POOL_SEED, 11, *train_folds]), train_folds)
    share_a = (1 - NEUTRAL_SHARE) / len(FIT_INPUTS)
    sets = [FitSet([tables[s].take(draws[split_input(s)[0]]) for s in inputs], y, share_a) for inputs in FIT_INPUTS]
    for text in ("gold", "asr"):
        rows = np.flatnonzero(np.isin(spoken["ravdess"]["folds"], train_folds) & spoken["ravdess"][f"has_{text}"])
        t = spoken["ravdess"]["tables"]
        sets.append(FitSet([t["speech"].take(rows), t[text].take(rows)], spoken["ravdess"]["y"][rows],
                           NEUTRAL_SHARE / 2))
    return sets


def cross_fitted(tables: Mapping[str, Table], pools: Mapping[str, Pool], spoken: dict,
                 shared: Sequence[int]) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Learned parameters per held-out fold (fitted on the other four) and on all folds (what ships)."""
    everything = list(range(len(FOLDS)))
    per_fold = {}
    for k in everything:
        per_fold[k] = fit_learned(fit_sets(tables, pools, spoken, shared, [f for f in everything if f != k]))
        print(f"  learned parameters fitted without {FOLDS[k]}", flush=True)
    return per_fold, fit_learned(fit_sets(tables, pools, spoken, shared, everything))


def per_item_weights(folds: np.ndarray, per_fold: Mapping[int, np.ndarray]) -> np.ndarray:
    """(items, modalities, labels + 1): each item's learned parameters from the fit that held its fold out."""
    return np.stack([per_fold[int(k)] for k in folds])


# ---------------------------------------------------------------- the neutral-words world

def spoken_world(runs: Path, quick: bool) -> dict:
    """Per corpus: true labels, folds, tables (speech, gold text, transcript) and which items have a transcript."""
    from edge.text.model import TextEmotionModel

    text_model = TextEmotionModel.load()
    temperature = text_model.manifest.temperature
    out: dict = {}
    for corpus in ("ravdess", "tess"):
        clips = read_spoken(corpus)
        heard_clips = asr_subset(clips)
        if quick:
            keep = {c.key for c in asr_subset(clips, {"ravdess": 1, "tess": QUICK["clips"]})}
            clips = [c for c in clips if c.key in keep]
            heard_clips = clips
        scores, speech_info = clip_scores(clips, runs)
        heard, asr_info = clip_transcripts(heard_clips)
        said = {s: ModalityResult(text_model.predict(s), temperature) for s in sorted({c.sentence for c in clips})}
        speech = [ModalityResult(scores[c.key], speech_info[c.split]["temperature"]) for c in clips]
        asr = []
        for c in clips:
            text, confidence = heard.get(c.key, ("", 0.0))
            try:
                asr.append(ModalityResult(text_model.predict(text), temperature, reliability=confidence)
                           if c.key in heard else None)
            except TextError:
                asr.append(None)
        out[corpus] = {
            "y": np.array([c.label for c in clips]),
            "folds": np.array([FOLDS.index(c.split) if c.split in FOLDS else -1 for c in clips]),
            "tables": {"speech": table("speech", speech), "gold": table("text", [said[c.sentence] for c in clips]),
                       "asr": table("text", asr)},
            "has_gold": np.ones(len(clips), dtype=bool),
            "has_asr": np.array([c.key in heard for c in clips]),
            "info": {"clips": len(clips), "transcribed": len(heard), "speech_models": speech_info,
                     "asr": asr_info, "empty_transcripts": int(sum(1 for c, a in zip(clips, asr)
                                                                   if c.key in heard and a is None)),
                     "text_labels_of_sentences": {s: r.prediction.label for s, r in said.items()}
                     if corpus == "ravdess" else
                     {lab: sum(r.prediction.label == lab for r in said.values()) for lab in CANONICAL_LABELS}},
        }
    return out


def spoken_conditions(world: dict, weights: np.ndarray) -> tuple[dict, np.ndarray, dict[str, np.ndarray]]:
    """Neutral-words predictions: {(condition, rule): pred}, true labels, and each condition's rows."""
    t, y = world["tables"], world["y"]
    rows = {"all": np.arange(y.size), "asr": np.flatnonzero(world["has_asr"])}
    preds = {}
    for name, inputs, subset in (("speech", ("speech",), "all"), ("text", ("gold",), "all"),
                                 ("fused", ("speech", "gold"), "all"), ("speech, ASR subset", ("speech",), "asr"),
                                 ("text transcript", ("asr",), "asr"), ("fused transcript", ("speech", "asr"), "asr")):
        r = rows[subset]
        for rule in (RULES if len(inputs) > 1 else ("sum",)):
            pred = np.full(y.size, -2)
            pred[r] = predictions(rule, [t[i].take(r) for i in inputs], weights[r])
            preds[(name, rule if len(inputs) > 1 else "single")] = pred
    return preds, y, rows


# ---------------------------------------------------------------- evaluation

def evaluate_emotional(pools: Mapping[str, Pool], tables: Mapping[str, Table], shared: Sequence[int],
                       per_label: int, seed: int, n_boot: int, per_fold: Mapping[int, np.ndarray]) -> dict:
    """Every emotional-words condition under every rule: UA per seed (SEEDS draws), and on the first draw the
    recalls and their bootstrap replicates. Keys: (condition, rule), rule 'single' for one input."""
    folds = list(range(len(FOLDS)))
    uas: dict = {}
    first: dict = {}
    for s in range(seed, seed + SEEDS):
        y, draws, fold_of = draw_fold_triplets(pools, shared, per_label, np.random.default_rng(s), folds)
        w = per_item_weights(fold_of, per_fold)
        for _, name, inputs in CONDITIONS:
            ts = [tables[i].take(draws[split_input(i)[0]]) for i in inputs]
            for rule in (RULES if len(inputs) > 1 else ("single",)):
                pred = predictions("sum" if rule == "single" else rule, ts, w)
                uas.setdefault((name, rule), []).append(unweighted_accuracy(y, pred, shared))
                if s == seed:
                    first[(name, rule)] = pred
        if s == seed:
            y0, draws0 = y, draws
        print(f"  triplet seed {s}: fusion UA ({SHIPPED}) {100 * uas[('fusion', SHIPPED)][-1]:.1f}", flush=True)
    inputs_of = {name: inputs for _, name, inputs in CONDITIONS}
    correct = {key: pred == y0 for key, pred in first.items()}
    uses = {key: [split_input(i)[0] for i in inputs_of[key[0]]] for key in first}
    boot = bootstrap_recalls(correct, uses, y0, draws0, {n: p.labels for n, p in pools.items()}, shared, n_boot,
                             np.random.default_rng([seed, 99]))
    return {"uas": uas, "recall": {key: recalls(y0, pred, shared) for key, pred in first.items()}, "boot": boot}


def evaluate_spoken(world: dict, weights: np.ndarray, n_boot: int, seed: int) -> dict:
    """Neutral-words recalls per (condition, rule) and their paired bootstrap replicates (clips resampled per
    label); a condition defined on the transcript subset only (-2 elsewhere) is scored on that subset."""
    preds, y, rows = spoken_conditions(world, weights)
    labels = [lab for lab in range(len(CANONICAL_LABELS)) if np.any(y == lab)]
    out = {"recall": {}, "boot": {}, "labels": labels}
    for subset, r in rows.items():
        keys = [k for k, p in preds.items() if np.any(p == -2) == (subset == "asr")]
        correct = {k: preds[k][r] == y[r] for k in keys}
        boot = bootstrap_recalls(correct, {k: ["clip"] for k in keys}, y[r], {"clip": np.arange(r.size)},
                                 {"clip": y[r]}, labels, n_boot, np.random.default_rng([seed, 98, len(r)]))
        for k in keys:
            out["recall"][k] = recalls(y[r], preds[k][r], labels)
            out["boot"][k] = boot[k]
    return out


def targets_for(rule: str, emotional: dict, spoken: dict, mix: dict) -> dict:
    """Every issue target for one rule: gain, 95 % CI, bootstrap pass share, PASS/MISS."""
    pick = (lambda name: "single" if name in SINGLES else rule)
    ua = {name: float(emotional["recall"][(name, pick(name))].mean()) for name in
          [*SINGLES, "fusion", *(f"fusion without {g}" for g in SINGLES)]}
    boot = {name: emotional["boot"][(name, pick(name))].mean(axis=1) for name in ua}
    gains, boot_gains = target_gains(ua), target_gains(boot)
    out = {}
    best = max(SINGLES, key=lambda x: ua[x])
    out[f"emotional words: fusion >= best single ({best}) + 5"] = verdict(gains["fusion"], boot_gains["fusion"],
                                                                          TARGET_GAIN)
    for gone in SINGLES:
        rest = max((x for x in SINGLES if x != gone), key=lambda x: ua[x])
        out[f"emotional words: without {gone} >= {rest} (best remaining)"] = \
            verdict(gains[f"without {gone}"], boot_gains[f"without {gone}"], 0.0)
    for corpus, res in spoken.items():
        for fused, alone, what in (("fused", "speech", "gold text"), ("fused transcript", "speech, ASR subset",
                                                                      "transcript")):
            gain = res["recall"][(fused, rule)].mean() - res["recall"][(alone, "single")].mean()
            gboot = res["boot"][(fused, rule)].mean(axis=1) - res["boot"][(alone, "single")].mean(axis=1)
            out[f"neutral words {corpus.upper()}, {what}: fused >= speech alone"] = verdict(gain, gboot, 0.0)
    for what in ("gold text", "transcript"):
        gain = mix[(what, rule)]["ua"] - mix[(what, "speech")]["ua"]
        gboot = mix[(what, rule)]["boot"] - mix[(what, "speech")]["boot"]
        out[f"mix {100 * NEUTRAL_SHARE:.0f} % neutral words RAVDESS, {what}: fused >= speech alone"] = \
            verdict(gain, gboot, 0.0)
    return out


def mix_rows(emotional: dict, ravdess: dict, shared: Sequence[int]) -> dict:
    """The everyday mix (RAVDESS): UA and UA replicates for speech alone and each rule, gold text and transcript."""
    out = {}
    labels = ravdess["labels"]
    for what, b_fused, b_speech, a_fused in (("gold text", "fused", "speech", "fusion without face"),
                                              ("transcript", "fused transcript", "speech, ASR subset",
                                               "speech + text ASR transcript")):
        for rule in ("speech", *RULES):
            b = (b_speech, "single") if rule == "speech" else (b_fused, rule)
            a = ("speech", "single") if rule == "speech" else (a_fused, rule)
            rec = mixed(ravdess["recall"][b], emotional["recall"][a], labels, shared)
            rep = mixed(ravdess["boot"][b], emotional["boot"][a], labels, shared)
            out[(what, rule)] = {"ua": float(rec.mean()), "boot": rep.mean(axis=1),
                                 "ci95": [float(np.percentile(rep.mean(axis=1), q)) for q in (2.5, 97.5)]}
    return out


def ship_weights(weights: np.ndarray, runs: Path, models: dict, path: Path = FUSION_PARAMS) -> None:
    """Write the learned rule's parameters (fitted on all training folds) into the runtime's fusion.json."""
    doc = {"name": "fusion",
           "rule": "edge.fusion.fuse: log-linear pooling; text abstains on neutral; learned weight per modality and "
                   "predicted label; learned power on each modality's reliability",
           "params": learned_params(weights).to_json(),
           "fitted_on": f"RAVDESS actors 01-20 (speech by the SI fold models in {runs}: "
                        + ", ".join(f"{k} {v['sha256'][:12]}" for k, v in models.items())
                        + "), dair-ai validation sentences, FER2013 public_test faces; "
                        f"objective: class-balanced NLL, {100 * NEUTRAL_SHARE:.0f} % neutral-word recordings "
                        f"(gold text and transcripts), {100 * (1 - NEUTRAL_SHARE):.0f} % label-matched triplets",
           "command": f"python -m benchmarks.fusion_eval --runs {runs} --fit"}
    path.write_text(json.dumps(doc, indent=1) + "\n")
    load_params.cache_clear()


def run(runs: Path, per_label: int, seed: int, quick: bool, n_boot: int, fit: bool) -> dict:
    """Build both worlds, fit the learned rule per fold (and on all folds), evaluate; the JSON-ready result."""
    start = time.time()
    shared = shared_labels(runs)
    sizes = QUICK if quick else {"speech": None, "text": None, "face": None, "asr": ASR_PER_LABEL}
    speech, speech_info, fold_of = speech_pool(shared, sizes["speech"], runs)
    text, text_asr, text_info = text_pools(shared, sizes["text"], sizes["asr"])
    face, face_info = face_pool(shared, sizes["face"])
    pools = {"speech": speech, "text": text, "text_asr": text_asr, "face": face}
    print("pools: " + ", ".join(f"{n} {p.labels.size}" for n, p in pools.items()), flush=True)
    tables = {spec: table(pools[split_input(spec)[0]].modality, pools[split_input(spec)[0]].variants[
        split_input(spec)[1]]) for _, _, inputs in CONDITIONS for spec in inputs}
    spoken = spoken_world(runs, quick)
    print("neutral words: " + ", ".join(f"{c} {w['info']['clips']} clips ({w['info']['transcribed']} transcribed)"
                                         for c, w in spoken.items()), flush=True)
    per_fold, everything = cross_fitted(tables, pools, spoken, shared)
    if fit:
        ship_weights(everything, runs, speech_info["fold_models"])
    shipped = learned_array(load_params())
    emotional = evaluate_emotional(pools, tables, shared, per_label, seed, n_boot, per_fold)
    spoken_res = {}
    for corpus, world in spoken.items():
        w = per_item_weights(world["folds"], per_fold) if corpus == "ravdess" else \
            np.broadcast_to(everything, (world["y"].size, *everything.shape))
        spoken_res[corpus] = evaluate_spoken(world, w, n_boot, seed)
    mix = mix_rows(emotional, spoken_res["ravdess"], shared)
    notes = [n for n in [None if quick else speech_crosscheck(speech, fold_of, shared, runs)] if n]
    return {
        "description": __doc__.strip().splitlines()[0],
        "settings": {"runs": str(runs), "seed": seed, "seeds": list(range(seed, seed + SEEDS)),
                     "per_label": per_label, "bootstrap": n_boot, "quick": quick, "neutral_share": NEUTRAL_SHARE,
                     "noise_seed": NOISE_SEED, "pool_seed": POOL_SEED, "snr_db": SNR_DB,
                     "blur_sigmas_px": list(BLUR_SIGMAS), "shipped_rule": SHIPPED},
        "shared_labels": [CANONICAL_LABELS[i] for i in shared],
        "pools": {n: int(p.labels.size) for n, p in pools.items()},
        "models": {"speech": speech_info, "text": text_info["model"], "face": face_info["model"]},
        "asr_sentences": text_info["asr"],
        "neutral_words": {c: w["info"] for c, w in spoken.items()},
        "rules": RULE_NAMES,
        "learned": {"all_folds": learned_params(everything).to_json(), "shipped_manifest_matches":
                    bool(np.allclose(shipped, np.round(everything, 4), atol=1e-4)),
                    "per_held_out_fold": {FOLDS[k]: learned_params(w).to_json() for k, w in per_fold.items()}},
        "emotional_words": {f"{name} | {rule}": {"ua": float(np.mean(emotional["recall"][(name, rule)])),
                                                 "ua_seed_std": float(np.std(emotional["uas"][(name, rule)])),
                                                 "ci95": ci(emotional["boot"][(name, rule)]),
                                                 "recall": named(emotional["recall"][(name, rule)], shared)}
                            for name, rule in emotional["recall"]},
        "neutral_words_results": {c: {f"{name} | {rule}": {"ua": float(r["recall"][(name, rule)].mean()),
                                                          "ci95": ci(r["boot"][(name, rule)]),
                                                          "recall": named(r["recall"][(name, rule)], r["labels"])}
                                      for name, rule in r["recall"]} for c, r in spoken_res.items()},
        "mix": {f"{what} | {rule}": {"ua": v["ua"], "ci95": v["ci95"]} for (what, rule), v in mix.items()},
        "targets": {rule: targets_for(rule, emotional, spoken_res, mix) for rule in RULES},
        "notes": notes,
        "seconds": round(time.time() - start, 1),
    }


def ci(replicates: np.ndarray) -> list[float]:
    """95 % percentile interval of the UA replicates (mean over labels of recall replicates)."""
    return [float(np.percentile(replicates.mean(axis=1), q)) for q in (2.5, 97.5)]


def named(values: np.ndarray, labels: Sequence[int]) -> dict[str, float]:
    """Per-label values keyed by label name."""
    return {CANONICAL_LABELS[lab]: float(v) for lab, v in zip(labels, values)}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _cell(entry: dict) -> str:
    return f"{_pct(entry['ua'])} [{_pct(entry['ci95'][0])}, {_pct(entry['ci95'][1])}]"


def markdown(res: dict) -> str:
    """The results as a Markdown report: both worlds side by side, the mix, every target per rule."""
    s = res["settings"]
    rules = list(res["rules"])
    head = "| condition | single | " + " | ".join(rules) + " |\n|---|---|" + "---|" * len(rules)

    def rows(entries: dict, names: Sequence[str]) -> list[str]:
        lines = []
        for name in names:
            single = entries.get(f"{name} | single")
            cells = [_cell(entries[f"{name} | {r}"]) if f"{name} | {r}" in entries else "-" for r in rules]
            lines.append(f"| {name} | {_cell(single) if single else '-'} | " + " | ".join(cells) + " |")
        return lines

    lines = ["# Late fusion: emotional words and neutral words spoken with emotion", "",
             f"Speech models: `{s['runs']}` (speaker-independent). UA % [95 % bootstrap CI]. Rules: "
             + "; ".join(f"`{k}` = {v}" for k, v in res["rules"].items()) + ".", "",
             "## Neutral words spoken with emotion (7 labels; the recordings' own sentences)", ""]
    for corpus, entries in res["neutral_words_results"].items():
        info = res["neutral_words"][corpus]
        lines += [f"**{corpus.upper()}**: {info['clips']} clips, {info['transcribed']} transcribed "
                  f"({info['empty_transcripts']} empty).", "", head]
        lines += rows(entries, ["speech", "text", "fused", "speech, ASR subset", "text transcript",
                                "fused transcript"]) + [""]
    lines += [f"## Emotional words: synthetic label-matched triplets ({', '.join(res['shared_labels'])})", "",
              f"**The pairing is synthetic** (different people and corpora, matched by label): an upper bound. "
              f"{s['per_label']} triplets per label, drawn within folds; ± std over {len(s['seeds'])} seeds in the "
              "JSON.", "", head]
    lines += rows(res["emotional_words"], [name for _, name, _ in CONDITIONS]) + [""]
    lines += [f"## Everyday mix ({100 * s['neutral_share']:.0f} % neutral words, RAVDESS)", "",
              "| text | speech alone | " + " | ".join(rules) + " |", "|---|---|" + "---|" * len(rules)]
    for what in ("gold text", "transcript"):
        lines.append(f"| {what} | {_cell(res['mix'][f'{what} | speech'])} | "
                     + " | ".join(_cell(res["mix"][f"{what} | {r}"]) for r in rules) + " |")
    lines += ["", "## Targets per rule (gain in points [95 % CI], verdict)", "",
              "| target | " + " | ".join(rules) + " |", "|---|" + "---|" * len(rules)]
    for target in res["targets"][rules[0]]:
        cells = []
        for r in rules:
            v = res["targets"][r][target]
            cells.append(f"{100 * v['gain']:+.1f} [{100 * v['ci95'][0]:+.1f}, {100 * v['ci95'][1]:+.1f}] "
                         f"**{v['verdict']}**")
        lines.append(f"| {target} | " + " | ".join(cells) + " |")
    lw = res["learned"]
    params = lw["all_folds"]
    lines += ["", "## Learned parameters (all folds; shipped in edge/models/fusion.json: "
              f"{'matches' if lw['shipped_manifest_matches'] else 'DIFFERS - rerun with --fit'})", "",
              "| modality | " + " | ".join(CANONICAL_LABELS) + " | reliability power |",
              "|---|" + "---|" * (len(CANONICAL_LABELS) + 1)]
    for m in MODALITIES:
        lines.append(f"| {m} | " + " | ".join(f"{params['label_weights'][m][lab]:.2f}" for lab in CANONICAL_LABELS)
                     + f" | {params['reliability_power'][m]:.2f} |")
    lines += ["", "Notes:", ""] + [f"- {n}" for n in res["notes"]] + [
        "", f"Command: `python -m benchmarks.fusion_eval --runs {s['runs']} --per-label {s['per_label']} "
        f"--seed {s['seed']}" + (" --quick" if s["quick"] else "") + f"` ({res['seconds']:.0f} s).", ""]
    return "\n".join(lines)


def summary(res: dict) -> str:
    """The targets per rule, for the console."""
    lines = []
    for rule, targets in res["targets"].items():
        lines.append(f"{rule}:")
        for name, v in targets.items():
            lines.append(f"  {v['verdict']}  {name}: {100 * v['gain']:+.1f} [{100 * v['ci95'][0]:+.1f}, "
                         f"{100 * v['ci95'][1]:+.1f}]")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=RUNS, help=f"speaker-independent speech runs (default {RUNS})")
    parser.add_argument("--fit", action="store_true", help=f"write the all-folds label weights to {FUSION_PARAMS}")
    parser.add_argument("--per-label", type=int, help="triplets per label (default 400; --quick 100)")
    parser.add_argument("--seed", type=int, default=0, help="triplet seed (the spread uses seed .. seed+4)")
    parser.add_argument("--out", type=Path, help=f"output folder (default {OUT}; --quick: none)")
    parser.add_argument("--quick", action="store_true", help="small pools, writes files only with --out")
    parser.add_argument("--bootstrap", type=int, help=f"bootstrap replicates (default {BOOT})")
    args = parser.parse_args()
    per_label = args.per_label or (QUICK["per_label"] if args.quick else 400)
    n_boot = args.bootstrap or (QUICK["boot"] if args.quick else BOOT)
    out = args.out if args.out is not None else (None if args.quick else OUT)
    res = run(args.runs, per_label, args.seed, args.quick, n_boot, args.fit and not args.quick)
    print(summary(res))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "fusion_eval.json").write_text(json.dumps(res, indent=1) + "\n")
        (out / "fusion_eval.md").write_text(markdown(res))
        print(f"wrote {out / 'fusion_eval.json'}, {out / 'fusion_eval.md'}")


if __name__ == "__main__":
    main()
