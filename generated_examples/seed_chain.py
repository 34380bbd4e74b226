"""The lecture's scalar chain: the logistic loss for one example, one simpleton step
per line (xi1..xi5). At X=3, y=1, W=3 its derivative is -0.00037018372."""

import numpy as np


def loss(W: float, X: float, y: float):
    xi1 = -W * X
    xi2 = np.exp(xi1)
    xi3 = 1 + xi2
    xi4 = 1 / xi3
    xi5 = np.log(xi4)
    L = -y * xi5
    return L


def example_inputs():
    return {"W": 3.0, "X": 3.0, "y": 1.0}
