"""The lecture's logistic loss over N scalar examples."""

import numpy as np


def loss(beta0, beta1, X, y):
    h = beta0 + beta1 * X
    p = 1 / (1 + np.exp(-h))
    L = np.sum(-y * np.log(p) - (1 - y) * np.log(1 - p))
    return L
