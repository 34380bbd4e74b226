"""The Rosenbrock function of many variables, written with slices."""

import numpy as np


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def example_inputs():
    rng = np.random.default_rng(0)
    return {"x": rng.uniform(-1.5, 1.5, size=10)}
