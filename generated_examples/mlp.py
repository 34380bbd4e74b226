"""A one-hidden-layer classifier: a tanh hidden layer, a softmax output and the mean
cross-entropy against one-hot labels, with the log-sum-exp shifted by each row's
maximum so that exp cannot overflow."""

import numpy as np


def loss(W1, b1, W2, b2, X, Y):
    hidden = np.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    shift = np.max(logits, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(logits - shift), axis=1, keepdims=True)) + shift
    log_probs = logits - log_norm
    return -np.mean(np.sum(Y * log_probs, axis=1))


def example_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 5))
    Y = np.eye(3)[rng.integers(0, 3, size=32)]
    return {
        "W1": 0.5 * rng.normal(size=(5, 8)),
        "b1": 0.1 * rng.normal(size=8),
        "W2": 0.5 * rng.normal(size=(8, 3)),
        "b2": 0.1 * rng.normal(size=3),
        "X": X,
        "Y": Y,
    }
