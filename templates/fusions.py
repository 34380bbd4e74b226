"""Fusions: well-known chains whose derivative is simpler than the chain rule applied
one step at a time. Where a loss computes one of these chains, codegen gives its
result this exact derivative instead (the steps in between still compute the value,
and are still differentiated step by step for any other use of them).

A fusion reads like a rule: its parameters are the chain's inputs, its lines name
values along the chain, `ans = ...` is the chain's result, and the `d_` lines are
the derivative, written with d_ans, ans, the parameters and the named values.
"""

import numpy as np


@fusion(elementwise=True, domain={"y": "unit"})
def sigmoid_cross_entropy(h, y):
    """d/dh = p - y (cross-entropy of p = sigmoid(h))"""
    p = 1 / (1 + np.exp(-h))
    ans = -y * np.log(p) - (1 - y) * np.log(1 - p)
    d_h = d_ans * (p - y)
    d_y = -d_ans * h


@fusion(elementwise=True, domain={"y": "unit"})
def sigmoid_cross_entropy_negated(h, y):
    """d/dh = p - y (cross-entropy of p = sigmoid(h), negated sum)"""
    p = 1 / (1 + np.exp(-h))
    ans = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    d_h = d_ans * (p - y)
    d_y = -d_ans * h


@fusion(elementwise=True)
def log_sigmoid(z):
    """d/dz = p - 1 (log of p = 1 / (1 + exp(z)))"""
    p = 1 / (1 + np.exp(z))
    ans = np.log(p)
    d_z = d_ans * (p - 1)


@fusion(elementwise=True)
def sigmoid(h):
    """d/dh = p (1 - p) (p = sigmoid(h))"""
    ans = 1 / (1 + np.exp(-h))
    d_h = d_ans * ans * (1 - ans)
