"""The Rosenbrock function of N variables, with slices."""

import numpy as np


def loss(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
