"""A fixed-point solve, x = tanh(theta * x + b) / 2, stopped when a step is small:
the function returns from inside its loop. The loss is the distance of the solution
to a target; codegen differentiates through the iterations taken (the stopping test
passes no gradient). Written the way such solvers are: a `return` in the loop,
`and` in the stopping test, and the iterates kept in an array by index."""

import numpy as np


def loss(theta, b, target, tol=1e-8, max_iter=60):
    x = np.zeros_like(b)
    for k in range(max_iter):
        x_new = 0.5 * np.tanh(theta * x + b)
        step = np.max(np.abs(x_new - x))
        x = x_new
        if step < tol and k > 0:
            return np.sum((x - target) ** 2)
    return np.sum((x - target) ** 2) + 1.0


def example_inputs():
    rng = np.random.default_rng(3)
    return {"theta": 0.8, "b": rng.normal(size=5), "target": rng.normal(size=5) * 0.3}
