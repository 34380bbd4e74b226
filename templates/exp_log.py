"""Exponential, logarithm and square root."""

import numpy as np


@rule(elementwise=True)
def exp(x):
    ans = np.exp(x)
    d_x = d_ans * ans


@rule(elementwise=True, domain={"x": "positive"})
def log(x):
    ans = np.log(x)
    d_x = d_ans / x


@rule(elementwise=True, domain={"x": "positive"})
def sqrt(x):
    ans = np.sqrt(x)
    d_x = d_ans * 0.5 / ans
