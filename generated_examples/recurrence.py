"""A scalar recurrence: 1,000 steps of x <- x cos(x) + a sin(x). The parameters are
annotated as floats, so the generated code stays in Python floats (`math`)."""

import numpy as np


def loss(x: float, a: float, steps=1000):
    for i in range(steps):
        x = x * np.cos(x) + a * np.sin(x)
    return x


def example_inputs():
    return {"x": 0.3, "a": 0.9}
