"""Circular and hyperbolic functions, their inverses, and angle conversions."""

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
def tan(x):
    ans = np.tan(x)
    d_x = d_ans * (1.0 + ans * ans)


@rule(elementwise=True, domain={"x": "unit"})
def arcsin(x):
    ans = np.arcsin(x)
    d_x = d_ans / np.sqrt(1.0 - x * x)


@rule(elementwise=True, domain={"x": "unit"})
def arccos(x):
    ans = np.arccos(x)
    d_x = -d_ans / np.sqrt(1.0 - x * x)


@rule(elementwise=True)
def arctan(x):
    ans = np.arctan(x)
    d_x = d_ans / (1.0 + x * x)


@rule(elementwise=True, domain={"y": "nonzero", "x": "nonzero"})
def arctan2(y, x):
    ans = np.arctan2(y, x)
    d_y = d_ans * x / (x * x + y * y)
    d_x = -d_ans * y / (x * x + y * y)


@rule(elementwise=True)
def sinh(x):
    ans = np.sinh(x)
    d_x = d_ans * np.cosh(x)


@rule(elementwise=True)
def cosh(x):
    ans = np.cosh(x)
    d_x = d_ans * np.sinh(x)


@rule(elementwise=True)
def tanh(x):
    ans = np.tanh(x)
    d_x = -(d_ans * (ans * ans - 1.0))  # NumPy reuses the temporaries: 3 arrays, not 4


@rule(elementwise=True)
def arcsinh(x):
    ans = np.arcsinh(x)
    d_x = d_ans / np.sqrt(x * x + 1.0)


@rule(elementwise=True, domain={"x": "above1"})
def arccosh(x):
    ans = np.arccosh(x)
    d_x = d_ans / np.sqrt(x * x - 1.0)


@rule(elementwise=True, domain={"x": "unit"})
def arctanh(x):
    ans = np.arctanh(x)
    d_x = d_ans / (1.0 - x * x)


@rule(elementwise=True, domain={"x": "nonzero", "y": "nonzero"})
def hypot(x, y):
    ans = np.hypot(x, y)
    d_x = d_ans * x / ans
    d_y = d_ans * y / ans


@rule(elementwise=True, aliases=["numpy.radians"])
def deg2rad(x):
    ans = np.deg2rad(x)
    d_x = d_ans * (np.pi / 180.0)


@rule(elementwise=True, aliases=["numpy.degrees"])
def rad2deg(x):
    ans = np.rad2deg(x)
    d_x = d_ans * (180.0 / np.pi)


@rule(elementwise=True, domain={"x": "nonzero"})
def sinc(x):
    """sin(pi x) / (pi x); its derivative (cos(pi x) - sinc(x)) / x, with the limit
    0 at x == 0."""
    ans = np.sinc(x)
    d_x = d_ans * np.where(x == 0, 0.0, (np.cos(np.pi * x) - ans) / np.where(x == 0, 1.0, x))
