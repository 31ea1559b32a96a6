"""CNN + BiLSTM + attention speech-emotion network, built in tf_keras so it converts to fused int8 LSTMs."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tf_keras as keras  # noqa: E402

from edge.audio.features import CONTRACT  # noqa: E402

POOLINGS = ("attention", "mean")


def build_model(n_labels: int, n_features: int, batch_size: int | None = None, conv: tuple[int, ...] = (64, 96),
                lstm_units: int = 64, attention_units: int = 64, dropout: float = 0.3,
                pooling: str = "attention", unroll: bool = False) -> keras.Model:
    """The speech model; ``batch_size=1`` gives the fixed-batch twin the int8 converter needs.

    Two Conv1D blocks (each BN, ReLU, max-pool /2) compress 200 frames to 50; a BiLSTM reads them
    (``lstm_units=0`` drops it: the ablation without recurrence); additive attention weights the
    50 steps, and their weighted sum (mean x steps, which converts to plain MEAN and MUL ops)
    feeds a softmax classifier. ``pooling='mean'`` replaces attention by a plain average. ``unroll``
    builds the same weights as an unrolled LSTM (many small ops XNNPACK can run, instead of the fused op).
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    inp = keras.Input((CONTRACT.window_frames, n_features), batch_size=batch_size, name="features")
    x = inp
    for width, kernel in zip(conv, (5, 3)):
        x = keras.layers.Conv1D(width, kernel, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.SpatialDropout1D(0.1)(x)
    seq = keras.layers.Bidirectional(keras.layers.LSTM(lstm_units, return_sequences=True, unroll=unroll))(x) if lstm_units else x
    if pooling == "attention":
        steps = CONTRACT.window_frames // 2 ** len(conv)
        score = keras.layers.Dense(attention_units, activation="tanh")(seq)
        score = keras.layers.Dense(1)(score)
        score = keras.layers.Reshape((steps,))(score)
        weights = keras.layers.Softmax(name="attention")(score)
        weights = keras.layers.Reshape((steps, 1))(weights)
        pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Multiply()([seq, weights]))
        pooled = keras.layers.Rescaling(float(steps))(pooled)
    else:
        pooled = keras.layers.GlobalAveragePooling1D()(seq)
    pooled = keras.layers.Dropout(dropout)(pooled)
    out = keras.layers.Dense(n_labels, activation="softmax", name="scores")(pooled)
    return keras.Model(inp, out, name="speech_emotion")
