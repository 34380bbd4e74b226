"""Ridge regression: squared residuals plus an L2 penalty, with matrix products."""

import numpy as np


def loss(w, X, y, lam=0.1):
    residual = X @ w - y
    return residual @ residual + lam * (w @ w)


def example_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    y = X @ rng.normal(size=6) + 0.1 * rng.normal(size=40)
    return {"w": rng.normal(size=6), "X": X, "y": y}
