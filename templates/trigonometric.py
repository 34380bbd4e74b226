"""Circular and hyperbolic functions."""

import numpy as np


@rule(elementwise=True)
def sin(x):
    ans = np.sin(x)
    d_x = d_ans * np.cos(x)


@rule(elementwise=True)
def cos(x):
    ans = np.cos(x)
    d_x = -d_ans * np.sin(x)


@rule(elementwise=True)
def tanh(x):
    ans = np.tanh(x)
    d_x = d_ans * (1.0 - ans * ans)
