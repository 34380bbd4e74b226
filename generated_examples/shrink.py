"""A while loop whose number of iterations depends on the data: shrink x by r until
it is below 1, adding up r * log(x) on the way."""

import numpy as np


def loss(x: float, r: float):
    total = 0.0
    while x > 1.0:
        total = total + r * np.log(x)
        x = x * r
    return total + x**2


def example_inputs():
    return {"x": 37.0, "r": 0.6}
