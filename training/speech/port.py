"""Copy JAX-trained speech weights (``training.speech.net``) into the tf_keras twin the int8 converter needs."""

import numpy as np

from training.speech.model import build_model, keras


def to_keras(params: dict, state: dict, recipe: dict, n_labels: int, n_features: int,
             batch_size: int | None = 1, unroll: bool = False) -> keras.Model:
    """The tf_keras model of ``recipe`` holding ``params``/``state`` (batch 1: the conversion twin;
    ``unroll``: the LSTM as many small ops instead of the fused one)."""
    model = build_model(n_labels, n_features, batch_size=batch_size, conv=tuple(recipe["conv"]),
                        lstm_units=recipe["lstm_units"], attention_units=recipe["attention_units"], unroll=unroll)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    denses = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    (bilstm,) = [layer for layer in model.layers if isinstance(layer, keras.layers.Bidirectional)]
    for i, (conv, norm) in enumerate(zip(convs, norms)):
        conv.set_weights([np.asarray(params[f"conv{i}"])])
        norm.set_weights([np.asarray(params[f"bn{i}"]["gamma"]), np.asarray(params[f"bn{i}"]["beta"]),
                          np.asarray(state[f"bn{i}"]["mean"]), np.asarray(state[f"bn{i}"]["var"])])
    bilstm.set_weights([np.asarray(params[f"lstm_{d}"][k]) for d in ("fw", "bw") for k in ("kernel", "recurrent", "bias")])
    for dense, name in zip(denses, ("att1", "att2", "out")):
        dense.set_weights([np.asarray(params[name]["kernel"]), np.asarray(params[name]["bias"])])
    return model
