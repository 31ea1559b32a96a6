"""DS-CNN keyword network (Zhang et al., "Hello Edge", 2017): one strided convolution, depthwise-separable
blocks, average pooling; about 24k parameters, so its int8 TFLite file is tens of KB."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

from edge.asr.keyword_features import CEPSTRA, FRAMES  # noqa: E402


def _bn_relu(x: keras.layers.Layer) -> keras.layers.Layer:
    """Batch normalisation then ReLU (both fold into the convolution when converted)."""
    return layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))


def build_model(classes: int, mean: np.ndarray, std: np.ndarray, width: int = 64, blocks: int = 4,
                dropout: float = 0.2) -> keras.Model:
    """DS-CNN over (49, 10) raw MFCCs; ``mean``/``std`` per cepstrum (training set) standardise inside the
    graph, so the runtime feeds features as computed."""
    inputs = keras.Input((FRAMES, CEPSTRA), name="mfcc")
    x = layers.Normalization(axis=-1, mean=mean, variance=np.square(std))(inputs)
    x = layers.Reshape((FRAMES, CEPSTRA, 1))(x)
    x = _bn_relu(layers.Conv2D(width, (10, 4), strides=(2, 2), padding="same", use_bias=False)(x))
    for _ in range(blocks):
        x = _bn_relu(layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x))
        x = _bn_relu(layers.Conv2D(width, 1, use_bias=False)(x))
    x = layers.Dropout(dropout)(layers.GlobalAveragePooling2D()(x))
    outputs = layers.Dense(classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="ds_cnn")
