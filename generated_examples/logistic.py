"""The lecture's full logistic loss: an affine map, the sigmoid, and the
cross-entropy summed over all examples."""

import numpy as np


def loss(beta0, beta1, X, y):
    h = beta0 + beta1 * X
    p = 1 / (1 + np.exp(-h))
    L = np.sum(-y * np.log(p) - (1 - y) * np.log(1 - p))
    return L


def example_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=200)
    y = (rng.random(200) < 1 / (1 + np.exp(-(0.5 + 2.0 * X)))).astype(float)
    return {"beta0": 0.1, "beta1": -0.4, "X": X, "y": y}
