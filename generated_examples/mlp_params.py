"""The one-hidden-layer classifier of mlp.py, written the way JAX and PyTorch users
hold parameters: the weights in one dict, and the batch (data, no gradient) in
another. The gradient comes back as a dict with the same keys."""

import numpy as np


def loss(params, batch):
    X, Y = batch["X"], batch["Y"]
    hidden = np.tanh(X @ params["W1"] + params["b1"])
    logits = hidden @ params["W2"] + params["b2"]
    shift = np.max(logits, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(logits - shift), axis=1, keepdims=True)) + shift
    return -np.mean(np.sum(Y * (logits - log_norm), axis=1))


def example_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 5))
    Y = np.eye(3)[rng.integers(0, 3, size=32)]
    params = {
        "W1": 0.5 * rng.normal(size=(5, 8)),
        "b1": 0.1 * rng.normal(size=8),
        "W2": 0.5 * rng.normal(size=(8, 3)),
        "b2": 0.1 * rng.normal(size=3),
    }
    return {"params": params, "batch": {"X": X, "Y": Y}}
