"""The CNN + BiLSTM + attention speech network in JAX: trains on the GPU when there is one, else the CPU.

The layer maths mirror ``training.speech.model.build_model`` (tf_keras) exactly, so
``training.speech.port.to_keras`` can copy trained weights across for the int8 TFLite converter:
Conv1D 'same' (no bias) -> BatchNorm (eps 1e-3) -> ReLU -> MaxPool /2, twice; SpatialDropout;
BiLSTM (gates i, f, c, o; sigmoid/tanh); additive attention pooling; dropout; dense logits.
"""

import jax
import jax.numpy as jnp
import numpy as np

BN_EPS = 1e-3
BN_MOMENTUM = 0.99
KERNELS = (5, 3)

Params = dict
State = dict


def _glorot(key: jax.Array, shape: tuple[int, ...], fan_in: int, fan_out: int) -> jax.Array:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def _orthogonal(key: jax.Array, rows: int, cols: int) -> jax.Array:
    q, r = jnp.linalg.qr(jax.random.normal(key, (max(rows, cols), min(rows, cols))))
    q = q * jnp.sign(jnp.diag(r))
    return (q if rows >= cols else q.T)[:rows, :cols]


def init(key: jax.Array, n_features: int, n_labels: int, conv: tuple[int, ...] = (64, 96),
         lstm_units: int = 64, attention_units: int = 64) -> tuple[Params, State]:
    """Fresh parameters (Keras's default initialisers) and BatchNorm running statistics."""
    keys = iter(jax.random.split(key, 16))
    params: Params = {}
    state: State = {}
    width_in = n_features
    for i, (width, k) in enumerate(zip(conv, KERNELS)):
        params[f"conv{i}"] = _glorot(next(keys), (k, width_in, width), k * width_in, k * width)
        params[f"bn{i}"] = {"gamma": jnp.ones(width), "beta": jnp.zeros(width)}
        state[f"bn{i}"] = {"mean": jnp.zeros(width), "var": jnp.ones(width)}
        width_in = width
    u = lstm_units
    for direction in ("fw", "bw"):
        bias = jnp.zeros(4 * u).at[u:2 * u].set(1.0)  # unit_forget_bias
        params[f"lstm_{direction}"] = {"kernel": _glorot(next(keys), (width_in, 4 * u), width_in, 4 * u),
                                       "recurrent": _orthogonal(next(keys), u, 4 * u), "bias": bias}
    params["att1"] = {"kernel": _glorot(next(keys), (2 * u, attention_units), 2 * u, attention_units),
                      "bias": jnp.zeros(attention_units)}
    params["att2"] = {"kernel": _glorot(next(keys), (attention_units, 1), attention_units, 1), "bias": jnp.zeros(1)}
    params["out"] = {"kernel": _glorot(next(keys), (2 * u, n_labels), 2 * u, n_labels), "bias": jnp.zeros(n_labels)}
    return params, state


def _lstm(p: dict, x: jax.Array) -> jax.Array:
    """One LSTM direction over (batch, time, features) -> (batch, time, units)."""
    u = p["recurrent"].shape[0]
    xz = jnp.einsum("btf,fg->tbg", x, p["kernel"]) + p["bias"]

    def step(carry, z_x):
        h, c = carry
        z = z_x + h @ p["recurrent"]
        i, f, g, o = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    zeros = jnp.zeros((x.shape[0], u), x.dtype)
    _, hs = jax.lax.scan(step, (zeros, zeros), xz)
    return jnp.transpose(hs, (1, 0, 2))


def apply(params: Params, state: State, x: jax.Array, train: bool = False,
          key: jax.Array | None = None, spatial_dropout: float = 0.1,
          dropout: float = 0.3) -> tuple[jax.Array, State]:
    """Logits for windows ``x`` (batch, frames, features) and the updated BatchNorm statistics."""
    new_state: State = {}
    keys = jax.random.split(key, 2) if train else (None, None)
    i = 0
    while f"conv{i}" in params:
        x = jax.lax.conv_general_dilated(x, params[f"conv{i}"], (1,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))
        bn, st = params[f"bn{i}"], state[f"bn{i}"]
        if train:
            mean, var = x.mean(axis=(0, 1)), x.var(axis=(0, 1))
            new_state[f"bn{i}"] = {"mean": BN_MOMENTUM * st["mean"] + (1 - BN_MOMENTUM) * mean,
                                   "var": BN_MOMENTUM * st["var"] + (1 - BN_MOMENTUM) * var}
        else:
            mean, var = st["mean"], st["var"]
            new_state[f"bn{i}"] = st
        x = (x - mean) / jnp.sqrt(var + BN_EPS) * bn["gamma"] + bn["beta"]
        x = jax.nn.relu(x)
        x = x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2]).max(axis=2)
        i += 1
    if train and spatial_dropout:
        keep = jax.random.bernoulli(keys[0], 1 - spatial_dropout, (x.shape[0], 1, x.shape[2]))
        x = x * keep / (1 - spatial_dropout)
    seq = jnp.concatenate([_lstm(params["lstm_fw"], x), _lstm(params["lstm_bw"], x[:, ::-1])[:, ::-1]], axis=-1)
    score = jnp.tanh(seq @ params["att1"]["kernel"] + params["att1"]["bias"]) @ params["att2"]["kernel"]
    weights = jax.nn.softmax(score[..., 0] + params["att2"]["bias"][0], axis=1)
    pooled = jnp.einsum("btu,bt->bu", seq, weights)
    if train and dropout:
        keep = jax.random.bernoulli(keys[1], 1 - dropout, pooled.shape)
        pooled = pooled * keep / (1 - dropout)
    return pooled @ params["out"]["kernel"] + params["out"]["bias"], new_state
