"""Fusions: well-known chains whose derivative is simpler than the chain rule applied
one step at a time. Where a loss computes one of these chains, codegen gives its
result this exact derivative instead (the steps in between still compute the value,
and are still differentiated step by step for any other use of them).

A fusion reads like a rule: its parameters are the chain's inputs, its lines name
values along the chain, `ans = ...` is the chain's result, and the `d_` lines are
the derivative, written with d_ans, ans, the parameters and the named values; a
`t_ans` line, its tangent (forward mode), where it is not elementwise.
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


# Log-sum-exp and log-softmax, shifted by the maximum so that exp cannot overflow: the
# result does not depend on the shift, so its gradient through the max (which picks
# the maxima and splits ties) cancels exactly, and the chain's derivative is the
# softmax. The step-by-step derivative computes that zero at full size.
SHIFT_CHECKS = [{"x": (2, 3), "axis": 1}, {"x": (2, 3), "axis": 0}, {"x": (2, 3, 4), "axis": -1}]


@fusion(checks=[("np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift", SHIFT_CHECKS)])
def logsumexp_shifted(x, axis):
    """d/dx = softmax(x) = exp(x - ans) (log-sum-exp shifted by its maximum)"""
    shift = np.max(x, axis=axis, keepdims=True)
    ans = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    d_x = d_ans * np.exp(x - ans)
    t_ans = np.sum(t_x * np.exp(x - ans), axis=axis, keepdims=True)


@fusion(checks=[("np.log(np.sum(np.exp(x - shift))) + shift", [{"x": (3,)}, {"x": (2, 3)}])])
def logsumexp_shifted_all(x):
    """d/dx = softmax(x) = exp(x - ans) (log-sum-exp shifted by its maximum)"""
    shift = np.max(x)
    ans = np.log(np.sum(np.exp(x - shift))) + shift
    d_x = d_ans * np.exp(x - ans)
    t_ans = np.sum(t_x * np.exp(x - ans))


@fusion(checks=[("shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))", SHIFT_CHECKS)])
def log_softmax_shifted(x, axis):
    """d/dx = d_ans - softmax(x) * sum(d_ans) (log-softmax shifted by the maximum)"""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    ans = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    d_x = d_ans - np.exp(ans) * np.sum(d_ans, axis=axis, keepdims=True)
    t_ans = t_x - np.sum(np.exp(ans) * t_x, axis=axis, keepdims=True)


@fusion(checks=[("shifted - np.log(np.sum(np.exp(shifted)))", [{"x": (3,)}, {"x": (2, 3)}])])
def log_softmax_shifted_all(x):
    """d/dx = d_ans - softmax(x) * sum(d_ans) (log-softmax shifted by the maximum)"""
    shifted = x - np.max(x)
    ans = shifted - np.log(np.sum(np.exp(shifted)))
    d_x = d_ans - np.exp(ans) * np.sum(d_ans)
    t_ans = t_x - np.sum(np.exp(ans) * t_x)
