"""A scalar recurrence: x <- x cos(x) + a sin(x), repeated."""

import numpy as np


def loss(x: float, a: float, steps=1000):
    for i in range(steps):
        x = x * np.cos(x) + a * np.sin(x)
    return x
