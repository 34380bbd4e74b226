"""Exponentials, logarithms, powers and roots."""

import numpy as np


@rule(elementwise=True)
def exp(x):
    ans = np.exp(x)
    d_x = d_ans * ans


@rule(elementwise=True)
def exp2(x):
    ans = np.exp2(x)
    d_x = d_ans * ans * np.log(2.0)


@rule(elementwise=True)
def expm1(x):
    ans = np.expm1(x)
    d_x = d_ans * (ans + 1.0)


@rule(elementwise=True, domain={"x": "positive"})
def log(x):
    ans = np.log(x)
    d_x = d_ans / x


@rule(elementwise=True, domain={"x": "positive"})
def log2(x):
    ans = np.log2(x)
    d_x = d_ans / (x * np.log(2.0))


@rule(elementwise=True, domain={"x": "positive"})
def log10(x):
    ans = np.log10(x)
    d_x = d_ans / (x * np.log(10.0))


@rule(elementwise=True, domain={"x": "positive"})
def log1p(x):
    ans = np.log1p(x)
    d_x = d_ans / (1.0 + x)


@rule(elementwise=True, domain={"x": "positive"})
def sqrt(x):
    ans = np.sqrt(x)
    d_x = d_ans * 0.5 / ans


@rule(elementwise=True, domain={"x": "nonzero"})
def cbrt(x):
    ans = np.cbrt(x)
    d_x = d_ans / (3.0 * ans * ans)


@rule(elementwise=True)
def square(x):
    ans = np.square(x)
    d_x = d_ans * 2.0 * x


@rule(elementwise=True, domain={"x": "nonzero"})
def reciprocal(x):
    ans = np.reciprocal(x)
    d_x = -d_ans * ans * ans


@rule(elementwise=True)
def logaddexp(x, y):
    ans = np.logaddexp(x, y)
    d_x = d_ans * np.exp(x - ans)
    d_y = d_ans * np.exp(y - ans)


@rule(elementwise=True)
def logaddexp2(x, y):
    ans = np.logaddexp2(x, y)
    d_x = d_ans * np.exp2(x - ans)
    d_y = d_ans * np.exp2(y - ans)
