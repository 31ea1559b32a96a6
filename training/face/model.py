"""MobileNet-style face-expression network: depthwise-separable blocks with a width multiplier and a
global depthwise convolution head (MobileFaceNet's GDConv: a learned weight per position instead of
global average pooling, which throws away where the mouth and the eyes are)."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tf_keras as keras  # noqa: E402

from edge.face.preprocess import FACE_SIZE  # noqa: E402

# (output channels at width 1.0, stride) of each depthwise-separable block after the stem
BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (64, 1), (128, 1), (128, 2), (128, 1), (256, 1), (256, 2),
                                       (256, 1), (512, 1))
BN_MOMENTUM = 0.9  # moving statistics that keep up with Adam's weight changes between epochs


def _separable(x, channels: int, stride: int, name: str):
    """Depthwise 3x3 + BN + ReLU6, then pointwise 1x1 + BN + ReLU6 (MobileNet v1 block)."""
    x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(x)
    x = keras.layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
    x = keras.layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_pw")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_pw_bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}_pw_relu")(x)


def build_model(n_labels: int, width: float = 1.0, dropout: float = 0.3,
                blocks: tuple[tuple[int, int], ...] = BLOCKS) -> keras.Model:
    """The face model: pixels 0-255 in ([48,48,1]), softmax over ``n_labels`` out.

    A 3x3 stem at full resolution, then ``blocks`` (channels scaled by ``width``) down to 6x6, a
    6x6 global depthwise convolution, dropout and a dense softmax.
    """
    inp = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="pixels")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inp)
    x = keras.layers.Conv2D(max(8, int(32 * width)), 3, padding="same", use_bias=False, name="stem")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = keras.layers.ReLU(6.0, name="stem_relu")(x)
    for i, (channels, stride) in enumerate(blocks):
        x = _separable(x, max(8, int(channels * width)), stride, f"b{i}")
    x = keras.layers.DepthwiseConv2D(int(x.shape[1]), padding="valid", use_bias=False, name="gdconv")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="gdconv_bn")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    out = keras.layers.Dense(n_labels, activation="softmax", name="scores")(x)
    return keras.Model(inp, out, name="face_emotion")
