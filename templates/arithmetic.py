"""The arithmetic operators and their NumPy names: + - * / ** // % and unary - +.

Binary operators broadcast, so each contribution is summed back to its operand's
shape; the generator skips that when the shapes are known to be equal."""

import numpy as np


@rule(elementwise=True, aliases=["numpy.add"])
def add(x, y):
    ans = x + y
    d_x = d_ans
    d_y = d_ans


@rule(elementwise=True, aliases=["numpy.subtract"])
def subtract(x, y):
    ans = x - y
    d_x = d_ans
    d_y = -d_ans


@rule(elementwise=True, aliases=["numpy.multiply"])
def multiply(x, y):
    ans = x * y
    d_x = d_ans * y
    d_y = d_ans * x


@rule(elementwise=True, domain={"y": "nonzero"}, aliases=["numpy.true_divide", "numpy.divide"])
def true_divide(x, y):
    ans = x / y
    d_x = d_ans / y
    d_y = -d_ans * ans / y


@rule(elementwise=True, domain={"x": "positive"}, aliases=["numpy.power", "builtins.pow"])
def power(x, y):
    """x ** y. The exponent's gradient uses log(x), taken as 0 where x == 0 (the
    limit for y > 0), so a zero base does not turn the gradient into nan."""
    ans = x**y
    d_x = d_ans * y * x ** (y - 1)
    d_y = d_ans * ans * np.log(np.where(x == 0, 1.0, x))


@rule(elementwise=True, aliases=["numpy.negative"])
def negative(x):
    ans = -x
    d_x = -d_ans


@rule(elementwise=True, aliases=["numpy.positive"])
def positive(x):
    ans = +x
    d_x = d_ans


@rule(elementwise=True, zero_gradient=True, domain={"y": "nonzero"}, aliases=["numpy.floor_divide"],
      policy="piecewise constant: zero gradient, also at the jumps")
def floor_divide(x, y):
    ans = x // y


@rule(elementwise=True, domain={"y": "positive"}, aliases=["numpy.remainder", "numpy.mod"],
      policy="x % y == x - y * floor(x / y): at the jumps, the right-hand derivative")
def remainder(x, y):
    ans = x % y
    d_x = d_ans
    d_y = -d_ans * np.floor_divide(x, y)
