"""A branchy piecewise function: the Huber loss of each residual (quadratic near
zero, linear beyond delta), in a loop over the examples."""

import numpy as np


def huber(r, delta):
    if r > delta:
        return delta * (r - 0.5 * delta)
    elif r < -delta:
        return -delta * (r + 0.5 * delta)
    return 0.5 * r * r


def loss(w, X, y, delta=1.0):
    total = 0.0
    for row, target in zip(X, y):
        total = total + huber(row @ w - target, delta)
    return total / len(y)


def example_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    y = X @ np.array([1.0, -1.0, 2.0]) + rng.standard_t(2, size=12)
    return {"w": np.array([0.5, -0.5, 1.0]), "X": X, "y": y}
