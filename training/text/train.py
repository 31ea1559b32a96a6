"""Fine-tune the MiniLM-L6 text teacher, or distil it into a small student (TinyBERT losses); seeded, resumable.

    python -m training.text.train --stage teacher --out runs/text
    python -m training.text.train --stage student --out runs/text        # reads runs/text/teacher/weights.h5
    python -m training.text.train --stage student --out runs/exp/l4 --teacher runs/text/teacher --set student=L4-H192
    python -m training.text.train --stage teacher --out runs/smoke --limit 300 --set epochs=1 max_steps=20
    python -m training.text.train --stage spm-student --out runs/text_kd    # needs training.text.teacher_cache

Train splits of dair-ai emotion, GoEmotions and MELD (validation texts removed); the loss of each example is
taken over the labels its corpus can emit (soft targets for GoEmotions' multi-label rows). The student adds
TinyBERT's embedding, hidden-state, attention-score and prediction-layer losses against the frozen teacher.
The sentencepiece student (``spm-student``) has its own unigram vocabulary (trained on the training text) and
learns from random init on the hard labels plus the cached soft targets of the shipped model (teacher_cache.py).
Each stage checkpoints every epoch, scores validation after each, and is skipped on rerun once finished.
"""

import argparse
import json
import os
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm import tqdm  # noqa: E402

from edge.labels import CANONICAL_LABELS  # noqa: E402
from training.recipe import parse_overrides  # noqa: E402
from edge.text.sentencepiece_tokenizer import SentencePieceTokenizer  # noqa: E402
from edge.text.wordpiece import WordPieceTokenizer  # noqa: E402
from training.text.data import CORPORA, TextSet, load_splits  # noqa: E402
from training.text.spm_vocab import train_vocab  # noqa: E402
from training.text.teacher_cache import teacher_log_probs  # noqa: E402
from training.text.evaluate import headline, validation_scores  # noqa: E402
from training.text.model import (STUDENTS, TEACHER, EncoderConfig, build_model, init_student_from_teacher,  # noqa: E402
                                 keras, load_minilm, tokenizer)

STAGES = ("teacher", "student", "spm-student")
SPM_MODEL_FILE = "text_spm.model"
COMMON = {"epochs": 2, "batch_size": 32, "seq_len": 64, "dropout": 0.1, "warmup": 0.06, "weight_decay": 0.01,
          "goemotions_per_epoch": 25000, "max_steps": 0}   # a fresh GoEmotions sample each epoch: ~60 min CPU plan
RECIPES = {
    "teacher": {**COMMON, "lr": 8e-5},
    "student": {**COMMON, "lr": 1e-4, "student": "L3-H384", "temperature": 1.0,
                "w_emb": 1.0, "w_hidden": 1.0, "w_attn": 1.0, "w_pred": 1.0, "w_hard": 0.0},
    "spm-student": {**COMMON, "epochs": 4, "batch_size": 64, "seq_len": 48, "lr": 5e-4, "goemotions_per_epoch": 0,
                    "student": "S4-H256", "vocab_size": 4000, "temperature": 2.0, "w_pred": 1.0, "w_hard": 1.0,
                    "teacher_cache": "runs/text_kd"},
}
N_LABELS = len(CANONICAL_LABELS)


def epoch_rows(data: TextSet, recipe: dict, rng: np.random.Generator) -> np.ndarray:
    """Rows of one epoch: all of dair-ai and MELD, and ``goemotions_per_epoch`` GoEmotions rows (0: all)."""
    go = np.flatnonzero(data.corpus == "goemotions")
    if recipe["goemotions_per_epoch"]:
        go = rng.choice(go, size=min(recipe["goemotions_per_epoch"], go.size), replace=False)
    return np.concatenate([np.flatnonzero(data.corpus != "goemotions"), go])


def length_batches(rows: np.ndarray, lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list:
    """Shuffled batches of similar length (sorted within random blocks of 50 batches), so padding stays short."""
    rows = rng.permutation(rows)
    block = 50 * batch_size
    batches = []
    for start in range(0, rows.size, block):
        chunk = rows[start:start + block]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, chunk.size, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def padded(ids: np.ndarray, lengths: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``ids[rows]`` cut to the batch's longest row rounded up to a multiple of 8."""
    width = min(ids.shape[1], int(-(-lengths[rows].max() // 8) * 8))
    return ids[rows, :width]


def masked_ce(logits: tf.Tensor, targets: tf.Tensor, label_mask: tf.Tensor) -> tf.Tensor:
    """Cross-entropy of soft ``targets`` under a softmax over the labels each example's corpus can emit."""
    logp = tf.nn.log_softmax(tf.where(label_mask > 0, logits, -1e9), axis=-1)
    return tf.reduce_mean(-tf.reduce_sum(targets * logp, axis=-1))


def token_mse(a: tf.Tensor, b: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
    """Mean squared error over the feature axis, averaged over non-padding tokens."""
    return tf.reduce_sum(tf.reduce_mean(tf.square(a - b), -1) * valid) / tf.reduce_sum(valid)


def attention_mse(a: tf.Tensor, b: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
    """Mean squared error of attention scores (B, heads, L, L) over pairs of non-padding tokens."""
    pairs = valid[:, None, :, None] * valid[:, None, None, :]
    return tf.reduce_sum(tf.square(a - b) * pairs) / (tf.reduce_sum(pairs) * tf.cast(tf.shape(a)[1], tf.float32))


class Distillation(tf.Module):
    """TinyBERT loss of a student against the frozen teacher; a learnt projection when the student is narrower."""

    TERMS = ("emb", "hidden", "attn", "pred", "hard")

    def __init__(self, teacher: keras.Model, student_config: EncoderConfig, recipe: dict) -> None:
        super().__init__(name="distillation")
        if student_config.heads != TEACHER.heads:
            raise SystemExit(f"attention distillation needs the teacher's {TEACHER.heads} heads")
        self.teacher, self.temperature = teacher, recipe["temperature"]
        self.term_weights = {k: recipe[f"w_{k}"] for k in self.TERMS}
        self.layer_map = [(m + 1) * TEACHER.layers // student_config.layers - 1 for m in range(student_config.layers)]
        self.project = keras.layers.Identity()
        if student_config.hidden != TEACHER.hidden:
            self.project = keras.layers.Dense(TEACHER.hidden, name="fit_dense")
            self.project.build((None, None, student_config.hidden))

    def __call__(self, ids: tf.Tensor, student: dict, targets: tf.Tensor, label_mask: tf.Tensor) -> dict:
        """Each weighted term and their sum under 'loss'."""
        t = self.teacher(ids, training=False)
        valid = tf.cast(tf.not_equal(ids, 0), tf.float32)
        soft = tf.nn.softmax(t["logits"] / self.temperature)
        pairs = list(enumerate(self.layer_map))
        terms = {
            "emb": token_mse(self.project(student["hidden"][0]), t["hidden"][0], valid),
            "hidden": tf.add_n([token_mse(self.project(student["hidden"][m + 1]), t["hidden"][k + 1], valid)
                                for m, k in pairs]) / len(pairs),
            "attn": tf.add_n([attention_mse(student["attention"][m], t["attention"][k], valid)
                              for m, k in pairs]) / len(pairs),
            "pred": tf.reduce_mean(-tf.reduce_sum(soft * tf.nn.log_softmax(student["logits"] / self.temperature), -1)),
            "hard": masked_ce(student["logits"], targets, label_mask),
        }
        return {"loss": tf.add_n([self.term_weights[k] * v for k, v in terms.items() if self.term_weights[k]]), **terms}


def soft_distillation(logits: tf.Tensor, teacher_logp: tf.Tensor, targets: tf.Tensor, label_mask: tf.Tensor,
                      recipe: dict) -> dict:
    """Hinton KD on cached teacher log-probabilities (scaled by T squared) plus the masked hard-label loss."""
    t = recipe["temperature"]
    soft = tf.nn.softmax(teacher_logp / t)
    terms = {"pred": t * t * tf.reduce_mean(-tf.reduce_sum(soft * tf.nn.log_softmax(logits / t), -1)),
             "hard": masked_ce(logits, targets, label_mask)}
    return {"loss": recipe["w_pred"] * terms["pred"] + recipe["w_hard"] * terms["hard"], **terms}


def make_optimizer(recipe: dict, total_steps: int) -> keras.optimizers.Optimizer:
    """AdamW, linear warm-up then cosine decay, no weight decay on LayerNorm and biases, clip-norm 1."""
    warmup = max(1, int(recipe["warmup"] * total_steps))
    schedule = keras.optimizers.schedules.CosineDecay(0.0, max(1, total_steps - warmup), alpha=0.0,
                                                      warmup_target=recipe["lr"], warmup_steps=warmup)
    opt = keras.optimizers.AdamW(schedule, weight_decay=recipe["weight_decay"], global_clipnorm=1.0)
    opt.exclude_from_weight_decay(var_names=["norm", "LayerNorm", "bias"])
    return opt


def predict_probs(model: keras.Model, ids: np.ndarray, lengths: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Softmax over all 7 labels for every row, batched by length."""
    forward = tf.function(lambda x: tf.nn.softmax(model(x, training=False)["logits"]), reduce_retracing=True)
    order = np.argsort(lengths, kind="stable")
    probs = np.empty((ids.shape[0], N_LABELS), dtype=np.float32)
    for i in range(0, order.size, batch_size):
        rows = order[i:i + batch_size]
        probs[rows] = forward(padded(ids, lengths, rows)).numpy()
    return probs


def stage_tokenizer(stage: str, recipe: dict, run: Path, train: TextSet,
                    seed: int) -> WordPieceTokenizer | SentencePieceTokenizer:
    """MiniLM's WordPiece, or for ``spm-student`` the run's own unigram vocabulary (trained once, on train text)."""
    if stage != "spm-student":
        return tokenizer(recipe["seq_len"])
    path = run / SPM_MODEL_FILE
    if not path.exists():
        train_vocab(train.texts, path, recipe["vocab_size"], seed)
    return SentencePieceTokenizer(path, recipe["seq_len"])


def build_stage(stage: str, recipe: dict, teacher_run: Path,
                vocab: int) -> tuple[keras.Model, EncoderConfig, "Distillation | None"]:
    """The model trained at ``stage`` (teacher from MiniLM, student from the fine-tuned teacher, sentencepiece
    student from scratch) and its TinyBERT distiller (None when there is none)."""
    if stage == "spm-student":
        config = replace(STUDENTS[recipe["student"]], vocab=vocab, max_positions=recipe["seq_len"])
        return build_model(config, N_LABELS, dropout=recipe["dropout"], distill=True), config, None
    if stage == "teacher":
        model = build_model(TEACHER, N_LABELS, dropout=recipe["dropout"], distill=True)
        load_minilm(model)
        return model, TEACHER, None
    weights = teacher_run / "weights.h5"
    if not weights.exists():
        raise SystemExit(f"{weights} not found: train the teacher first (--stage teacher)")
    teacher = build_model(TEACHER, N_LABELS, distill=True)
    teacher.load_weights(weights)
    teacher.trainable = False
    config = STUDENTS[recipe["student"]]
    model = build_model(config, N_LABELS, dropout=recipe["dropout"], distill=True)
    distill = Distillation(teacher, config, recipe)
    if config.hidden == TEACHER.hidden:
        init_student_from_teacher(model, teacher, distill.layer_map)
    return model, config, distill


def train_stage(stage: str, out: Path, seed: int, recipe: dict, limit: int | None, teacher_run: Path) -> dict:
    """Train one stage into ``out/stage`` with per-epoch checkpoints; write weights.h5, history.json, metrics.json."""
    run = out / stage
    run.mkdir(parents=True, exist_ok=True)
    if (run / "metrics.json").exists():
        return json.loads((run / "metrics.json").read_text())
    keras.utils.set_random_seed(seed)
    train, val = load_splits(limit=limit)
    tok = stage_tokenizer(stage, recipe, run, train, seed)
    ids, val_ids = tok.encode_batch(train.texts), tok.encode_batch(val.texts)
    lengths, val_lengths = (ids > 0).sum(1), (val_ids > 0).sum(1)
    teacher_logp = (teacher_log_probs(train, Path(recipe["teacher_cache"]), "train") if stage == "spm-student"
                    else np.zeros_like(train.targets))
    model, config, distill = build_stage(stage, recipe, teacher_run, tok.vocab_size)
    per_epoch = -(-epoch_rows(train, recipe, np.random.default_rng(0)).size // recipe["batch_size"])
    steps = min(per_epoch, recipe["max_steps"] or per_epoch)
    optimizer = make_optimizer(recipe, recipe["epochs"] * steps)
    trainable = model.trainable_variables + (distill.project.trainable_variables if distill else [])
    optimizer.build(trainable)

    @tf.function(reduce_retracing=True)
    def train_step(x: tf.Tensor, targets: tf.Tensor, label_mask: tf.Tensor, teacher: tf.Tensor) -> dict:
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            if stage == "spm-student":
                terms = soft_distillation(pred["logits"], teacher, targets, label_mask, recipe)
            elif distill is None:
                terms = {"loss": masked_ce(pred["logits"], targets, label_mask)}
            else:
                terms = distill(x, pred, targets, label_mask)
        optimizer.apply_gradients(zip(tape.gradient(terms["loss"], trainable), trainable))
        return terms

    epoch_var = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch_var,
                               **({"projection": distill.project} if distill else {}))
    manager = tf.train.CheckpointManager(ckpt, run / "ckpt", max_to_keep=1)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint)
    history_path = run / "history.json"
    done = int(epoch_var.numpy())
    history = [h for h in json.loads(history_path.read_text()) if h["epoch"] <= done] if history_path.exists() else []
    for epoch in range(done, recipe["epochs"]):
        rng = np.random.default_rng([seed, epoch])
        batches = length_batches(epoch_rows(train, recipe, rng), lengths, recipe["batch_size"], rng)[:steps]
        bar = tqdm(batches, desc=f"{stage} epoch {epoch + 1}/{recipe['epochs']}")
        for rows in bar:
            logs = train_step(padded(ids, lengths, rows), train.targets[rows], train.label_mask[rows],
                              teacher_logp[rows])
            bar.set_postfix({k: f"{float(v):.3f}" for k, v in logs.items()})
        scores = validation_scores(predict_probs(model, val_ids, val_lengths), val)
        print(f"{stage} epoch {epoch + 1}: {headline(scores)}", flush=True)
        history.append({"epoch": epoch + 1, **{c: s["score"] for c, s in scores.items()}})
        history_path.write_text(json.dumps(history, indent=1))
        epoch_var.assign(epoch + 1)
        manager.save()
    model.save_weights(run / "weights.h5")
    scores = validation_scores(predict_probs(model, val_ids, val_lengths), val)
    metrics = {"stage": stage, "seed": seed, "recipe": recipe, "config": asdict(config), "limit": limit,
               "train_rows": {c: int((train.corpus == c).sum()) for c in CORPORA},
               "history": history, "keras_float": scores}
    (run / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=STAGES, required=True)
    parser.add_argument("--out", type=Path, default=Path("runs/text"))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--teacher", type=Path, default=None, help="fine-tuned teacher run (default OUT/teacher)")
    parser.add_argument("--limit", type=int, default=None, help="first N rows per corpus and split (smoke runs)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a recipe entry")
    args = parser.parse_args()
    recipe = {**RECIPES[args.stage], **parse_overrides(args.set, RECIPES[args.stage])}
    metrics = train_stage(args.stage, args.out, args.seed, recipe, args.limit, args.teacher or args.out / "teacher")
    print(f"{args.stage}: {headline(metrics['keras_float'])}", flush=True)


if __name__ == "__main__":
    main()
