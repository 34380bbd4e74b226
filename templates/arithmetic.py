"""The arithmetic operators: + - * / ** and unary minus and plus.

Binary operators broadcast, so each contribution is summed back to its operand's
shape; the generator skips that when the shapes are known to be equal."""

import numpy as np


@rule(elementwise=True)
def add(x, y):
    ans = x + y
    d_x = d_ans
    d_y = d_ans


@rule(elementwise=True)
def subtract(x, y):
    ans = x - y
    d_x = d_ans
    d_y = -d_ans


@rule(elementwise=True)
def multiply(x, y):
    ans = x * y
    d_x = d_ans * y
    d_y = d_ans * x


@rule(elementwise=True, domain={"y": "nonzero"})
def true_divide(x, y):
    ans = x / y
    d_x = d_ans / y
    d_y = -d_ans * ans / y


@rule(elementwise=True, domain={"x": "positive"})
def power(x, y):
    """x ** y. The exponent's gradient uses log(x), taken as 0 where x == 0 (the
    limit for y > 0), so a zero base does not turn the gradient into nan."""
    ans = x**y
    d_x = d_ans * y * x ** (y - 1)
    d_y = d_ans * ans * np.log(np.where(x == 0, 1.0, x))


@rule(elementwise=True)
def negative(x):
    ans = -x
    d_x = -d_ans


@rule(elementwise=True)
def positive(x):
    ans = +x
    d_x = d_ans
