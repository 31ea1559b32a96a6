"""Train the speech-emotion model on speaker-independent splits: one command, seeded, resumable, on the GPU
when JAX finds one, else the CPU. Many runs (folds, ablations, seeds) train at once as one vectorised
program, so a study that takes days on 2 CPU cores takes minutes on one GPU.

    python -m training.speech.pack                                   # features -> packs/speech_* (once)
    python -m training.speech.train --plan study --out runs/speech   # every experiment + the shipped model
    python -m training.speech.train --plan study --only base:f1 --set epochs=2   # a quick check

Splits: f1..f5 (speaker-independent 5-fold CV: RAVDESS folds of DATA.md, with EMOVO and EmoDB speakers
riding along), loco_emovo / loco_emodb (leave one corpus out), oaf_to_yaf / yaf_to_oaf (TESS
cross-speaker) and final (everything, no test: the shipped model). A recipe is fixed before a run (no
early stopping, no test data in any choice). Each run writes ``params.pkl`` and ``metrics.json`` under
``OUT/EXPERIMENT/SPLIT``; finished runs are skipped, and a phase resumes from its last checkpoint.
"""

import argparse
import hashlib
import json
import pickle
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from edge.labels import CANONICAL_LABELS
from training.metrics import summarise
from training.recipe import parse_overrides
from training.speech.batches import RunData, Store, clip_means, evaluation_windows, sample_batch
from training.speech.data import CORPORA, SPEAKER_FOLDS
from training.speech.pack import load_pack

SPLITS = (*SPEAKER_FOLDS, "loco_emovo", "loco_emodb", "oaf_to_yaf", "yaf_to_oaf", "final")
RECIPE = {"epochs": 100, "batch_size": 64, "lr": 3e-3, "label_smoothing": 0.1, "clean_prob": 0.4,
          "samples_per_epoch": 2400, "freq_masks": 2, "freq_mask_max": 6, "time_masks": 2, "time_mask_max": 20,
          "conv": [64, 96], "lstm_units": 64, "attention_units": 64, "normalisation": "speaker", "pitch": True,
          "speaker_prior": 2.0, "adapt_max": 20, "adapt_zero_prob": 0.25,
          "corpora": list(CORPORA), "corpus_weighting": "sqrt-speakers",
          "teachers": [], "distill_alpha": 0.7, "distill_temperature": 2.0, "seed": 1}
ADAPT_KS = (1, 3, 10)
ADAPT_SEEDS = 3
ENROL_NEUTRAL = 3
CHECKPOINT_EVERY = 10

# The recipe study (issue #15): what each corpus adds, adaptation on/off, three seeds (the teacher
# ensemble), leave-one-corpus-out, TESS cross-speaker; then students distilled from the ensemble.
FOLDS = tuple(SPEAKER_FOLDS)
TEACHERS = ["base", "base_s2", "base_s3"]
STUDY: tuple[tuple[tuple[str, dict, tuple[str, ...]], ...], ...] = (
    (
        ("base", {}, (*FOLDS, "loco_emovo", "loco_emodb", "oaf_to_yaf", "yaf_to_oaf", "final")),
        ("base_s2", {"seed": 2}, (*FOLDS, "final")),
        ("base_s3", {"seed": 3}, (*FOLDS, "final")),
        ("no_adapt", {"normalisation": "global", "adapt_zero_prob": 1.0}, FOLDS),
        ("ravdess_only", {"corpora": ["ravdess"]}, FOLDS),
        ("ravdess_tess", {"corpora": ["ravdess", "tess"]}, FOLDS),
        ("ravdess_tess_emovo", {"corpora": ["ravdess", "tess", "emovo"]}, FOLDS),
    ),
    (
        ("student", {"teachers": TEACHERS}, (*FOLDS, "final")),
    ),
)


def split_clips(store: Store, split: str, corpora: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) clip indices for ``split``, training on ``corpora`` only; no speaker on both sides."""
    spk, corpus = store.speakers, store.corpora
    if split in SPEAKER_FOLDS:
        test = np.isin(spk, [f"{c}:{s}" for c, speakers in SPEAKER_FOLDS[split].items() for s in speakers])
    elif split.startswith("loco_"):
        test = corpus == split.removeprefix("loco_")
    elif split in ("oaf_to_yaf", "yaf_to_oaf"):
        test = spk == ("tess:YAF" if split == "oaf_to_yaf" else "tess:OAF")
    elif split == "final":
        test = np.zeros(spk.size, dtype=bool)
    else:
        raise ValueError(f"unknown split {split!r}; one of {SPLITS}")
    return np.flatnonzero(np.isin(corpus, corpora) & ~test), np.flatnonzero(test)


def _load(path: Path):
    with path.open("rb") as fh:
        return pickle.load(fh)


def _save(obj, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(obj, fh)
    tmp.replace(path)


class Phase:
    """Runs with one architecture, trained together: parameters stacked on a leading run axis (``jax.vmap``)."""

    def __init__(self, store: Store, runs: list[RunData], teachers: list[list[dict]]) -> None:
        import jax
        import jax.numpy as jnp
        import optax

        from training.speech import net

        self.jax, self.net, self.store, self.runs = jax, net, store, runs
        recipe = runs[0].recipe
        dims, window, n_labels = runs[0].contract.dims, runs[0].contract.window_frames, len(CANONICAL_LABELS)
        inits = [net.init(jax.random.PRNGKey(r.recipe["seed"] * 7919 + i), dims, n_labels, tuple(recipe["conv"]),
                          recipe["lstm_units"], recipe["attention_units"]) for i, r in enumerate(runs)]
        self.params = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[p for p, _ in inits])
        self.state = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[s for _, s in inits])
        steps = recipe["epochs"] * (recipe["samples_per_epoch"] // recipe["batch_size"])
        optimizer = optax.adam(optax.cosine_decay_schedule(recipe["lr"], steps, alpha=0.02))
        self.opt_state = jax.vmap(optimizer.init)(self.params)
        self.frames = jax.device_put(store.frames)
        self.teachers = (jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[
            jax.tree_util.tree_map(lambda *b: jnp.stack(b), *team) for team in teachers]) if teachers and teachers[0] else None)
        smoothing, alpha, temp = recipe["label_smoothing"], recipe["distill_alpha"], recipe["distill_temperature"]

        def inputs(frames, b):
            t = jnp.arange(window)
            idx = b["first"][:, None] + t[None] - b["pad"][:, None]
            valid = (t[None] >= b["pad"][:, None]) & (t[None] < (b["pad"] + b["valid"])[:, None])
            x = (frames[jnp.clip(idx, 0, frames.shape[0] - 1)] - b["mean"][:, None]) / b["std"][:, None]
            f, tt = jnp.arange(dims), jnp.arange(window)
            f_hit = ((f[None, None] >= b["f_start"][..., None]) & (f[None, None] < (b["f_start"] + b["f_width"])[..., None])).any(1)
            t_hit = ((tt[None, None] >= b["t_start"][..., None]) & (tt[None, None] < (b["t_start"] + b["t_width"])[..., None])).any(1)
            return x * (valid & ~t_hit)[..., None] * ~f_hit[:, None, :]

        def loss_fn(params, state, frames, b, key, team):
            x = inputs(frames, b)
            logits, new_state = net.apply(params, state, x, train=True, key=key)
            logits = logits + b["mask"]
            allowed = (b["mask"] == 0).astype(jnp.float32)
            target = jax.nn.one_hot(b["labels"], n_labels) * (1 - smoothing) + smoothing * allowed / allowed.sum(-1, keepdims=True)
            loss = -(target * jax.nn.log_softmax(logits) * allowed).sum(-1).mean()
            if team is not None:
                soft = jax.vmap(lambda p, s: jax.nn.softmax((net.apply(p, s, x)[0] + b["mask"]) / temp))(team["params"], team["state"]).mean(0)
                kd = -(soft * jax.nn.log_softmax(logits / temp) * allowed).sum(-1).mean() * temp ** 2
                loss = (1 - alpha) * loss + alpha * kd
            return loss, new_state

        def one(params, state, opt_state, frames, b, key, team):
            (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, frames, b, key, team)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), new_state, opt_state, loss

        team_axis = 0 if self.teachers is not None else None
        self.step = jax.jit(jax.vmap(one, in_axes=(0, 0, 0, None, 0, 0, team_axis)))
        self.forward = jax.jit(lambda p, s, x: jax.nn.softmax(net.apply(p, s, x)[0]))

    def checkpoint(self) -> dict:
        """Everything needed to resume, as numpy."""
        return self.jax.device_get({"params": self.params, "state": self.state, "opt_state": self.opt_state})

    def restore(self, ckpt: dict) -> None:
        """Continue from a ``checkpoint``."""
        self.params, self.state, self.opt_state = ckpt["params"], ckpt["state"], ckpt["opt_state"]

    def draw(self, epoch: int) -> dict[str, np.ndarray]:
        """Every run's batches of one epoch, drawn at once on the host: arrays (runs, steps, batch, ...)."""
        recipe = self.runs[0].recipe
        steps, size = recipe["samples_per_epoch"] // recipe["batch_size"], recipe["batch_size"]
        drawn = [sample_batch(self.store, r, steps * size, np.random.default_rng([r.recipe["seed"], i, epoch]))
                 for i, r in enumerate(self.runs)]
        return {k: np.stack([d[k] for d in drawn]).reshape(len(drawn), steps, size, *drawn[0][k].shape[1:])
                for k in drawn[0]}

    def epoch(self, epoch: int, stacked: dict[str, np.ndarray]) -> np.ndarray:
        """Train every run on its ``draw``n epoch; returns each run's mean loss."""
        steps = next(iter(stacked.values())).shape[1]
        key = self.jax.random.PRNGKey(epoch)
        losses = []
        for step in range(steps):
            key, sub = self.jax.random.split(key)
            self.params, self.state, self.opt_state, loss = self.step(
                self.params, self.state, self.opt_state, self.frames, {k: v[:, step] for k, v in stacked.items()},
                self.jax.random.split(sub, len(self.runs)), self.teachers)
            losses.append(loss)
        return np.mean(self.jax.device_get(losses), axis=0)

    def weights(self, i: int) -> dict:
        """Run ``i``'s parameters and BatchNorm statistics, as numpy."""
        pick = lambda tree: self.jax.tree_util.tree_map(lambda a: np.asarray(a[i]), tree)  # noqa: E731
        return {"params": pick(self.params), "state": pick(self.state)}

    def clip_probs(self, weights: dict, run: RunData, k: int, seed: int, enrol: int = 0, chunk: int = 1024) -> np.ndarray:
        """Test-clip scores (mean over windows) after the speaker was heard ``k`` times (or enrolled)."""
        windows, owner = evaluation_windows(self.store, run.test, run.contract, k, np.random.default_rng(seed), enrol)
        probs = []
        for start in range(0, len(windows), chunk):
            part = windows[start:start + chunk]
            padded = np.zeros((chunk, *part.shape[1:]), np.float32)
            padded[:len(part)] = part
            probs.append(np.asarray(self.forward(weights["params"], weights["state"], padded))[:len(part)])
        return clip_means(np.concatenate(probs), owner, run.test.size)

    def evaluate(self, i: int) -> dict:
        """Per test corpus: scores without adaptation, after k earlier utterances (several seeds), after enrolment."""
        run, weights = self.runs[i], self.weights(i)
        conditions = {"k0": [self.clip_probs(weights, run, 0, 0)]}
        if run.contract.normalisation == "speaker":
            for k in ADAPT_KS:
                conditions[f"k{k}"] = [self.clip_probs(weights, run, k, seed) for seed in range(ADAPT_SEEDS)]
            conditions["enrol3"] = [self.clip_probs(weights, run, 0, seed, ENROL_NEUTRAL) for seed in range(ADAPT_SEEDS)]
        labels, corpora = self.store.labels[run.test], self.store.corpora[run.test]
        out: dict = {}
        for corpus in sorted(set(corpora.tolist())):
            rows = corpora == corpus
            out[corpus] = {}
            for name, probs in conditions.items():
                scores = [summarise(labels[rows], p[rows].argmax(axis=1), CANONICAL_LABELS) for p in probs]
                out[corpus][name] = {**scores[0], "ua_seeds": [s["ua"] for s in scores],
                                     "ua": float(np.mean([s["ua"] for s in scores]))}
        return out


def run_phase(store: Store, jobs: list[tuple[str, str, dict]], out: Path) -> None:
    """Train the unfinished (experiment, split, recipe) jobs together, checkpointing; write each run's results."""
    jobs = [j for j in jobs if not (out / j[0] / j[1] / "metrics.json").exists()]
    if not jobs:
        return
    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    runs = [RunData.of(store, *split_clips(store, split, recipe["corpora"]), recipe) for _, split, recipe in jobs]
    teachers = [[_load(out / t / split / "params.pkl") for t in recipe["teachers"]] for _, split, recipe in jobs]
    phase = Phase(store, runs, teachers)
    names = [f"{e}/{s}" for e, s, _ in jobs]
    ckpt_path = out / f"phase_{hashlib.sha256(json.dumps(names).encode()).hexdigest()[:12]}.ckpt"
    done = 0
    if ckpt_path.exists():
        ckpt = _load(ckpt_path)
        if ckpt["names"] == names:
            phase.restore(ckpt)
            done = ckpt["epoch"]
    epochs = jobs[0][2]["epochs"]
    with ThreadPoolExecutor(1) as drawer:  # the next epoch is drawn while this one trains
        upcoming = drawer.submit(phase.draw, done)
        for epoch in range(done, epochs):
            stacked = upcoming.result()
            if epoch + 1 < epochs:
                upcoming = drawer.submit(phase.draw, epoch + 1)
            loss = phase.epoch(epoch, stacked)
            if (epoch + 1) % CHECKPOINT_EVERY == 0 or epoch + 1 == epochs:
                _save({**phase.checkpoint(), "epoch": epoch + 1, "names": names}, ckpt_path)
                print(f"epoch {epoch + 1}/{epochs}: loss {np.round(loss, 3).tolist()} ({time.time() - started:.0f} s)",
                      flush=True)
    for i, (experiment, split, recipe) in enumerate(jobs):
        run_dir = out / experiment / split
        run_dir.mkdir(parents=True, exist_ok=True)
        _save(phase.weights(i), run_dir / "params.pkl")
        metrics: dict = {"experiment": experiment, "split": split, "recipe": recipe,
                         "features": runs[i].contract.to_dict(),
                         "train_speakers": sorted(set(store.speakers[runs[i].train].tolist())),
                         "device": phase.jax.default_backend(), "phase_seconds": round(time.time() - started, 1)}
        if runs[i].test.size:
            metrics["test_speakers"] = sorted(set(store.speakers[runs[i].test].tolist()))
            metrics["float"] = phase.evaluate(i)
            ua = {c: round(100 * v["k0"]["ua"], 1) for c, v in metrics["float"].items()}
            print(f"{experiment}/{split}: UA without adaptation {ua}", flush=True)
        (run_dir / "metrics.json").write_text(json.dumps(metrics))
    ckpt_path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", choices=["study"], default="study")
    parser.add_argument("--only", nargs="*", default=[], metavar="EXPERIMENT:SPLIT", help="run just these jobs")
    parser.add_argument("--phases", type=int, default=len(STUDY), help="run only the first N phases")
    parser.add_argument("--out", type=Path, default=Path("runs/speech"))
    parser.add_argument("--packs", type=Path, default=Path("packs"))
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a recipe entry")
    args = parser.parse_args()
    overrides = parse_overrides(args.set, RECIPE)
    store = Store.of(load_pack(args.packs), 40 + (2 if {**RECIPE, **overrides}["pitch"] else 0))
    import jax
    print(f"training on {jax.default_backend()}; {len(store.labels)} clips x {store.offset.shape[1]} variants", flush=True)
    for phase in STUDY[:args.phases]:
        jobs = [(name, split, {**RECIPE, **extra, **overrides}) for name, extra, splits in phase for split in splits]
        if args.only:
            jobs = [j for j in jobs if f"{j[0]}:{j[1]}" in args.only]
        run_phase(store, jobs, args.out)


if __name__ == "__main__":
    main()
