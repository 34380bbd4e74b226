"""A regularised logistic loss written with two helper functions of the same file;
codegen inlines them (the generated module stays self-contained)."""

import numpy as np


def softplus(z):
    return np.logaddexp(0.0, z)


def penalty(w, strength=0.01):
    return strength * np.sum(w**2)


def loss(w, b, X, y):
    margins = y * (X @ w + b)
    return np.mean(softplus(-margins)) + penalty(w)


def example_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = np.sign(X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.normal(size=30))
    return {"w": 0.1 * rng.normal(size=4), "b": 0.2, "X": X, "y": y}
