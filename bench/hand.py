"""Value and gradient of each benchmark loss, written by hand in NumPy: the
practical limit that generated code is measured against. Each is checked against
finite differences by tests/test_bench.py."""

import math

import numpy as np


def logistic(beta0, beta1, X, y):
    p = 1 / (1 + np.exp(-(beta0 + beta1 * X)))
    value = np.sum(-y * np.log(p) - (1 - y) * np.log(1 - p))
    r = p - y
    return value, (np.sum(r), np.dot(r, X))


def logreg(w, b, X, y):
    z = X @ w + b
    value = np.sum(np.logaddexp(0.0, z) - y * z)
    r = 1 / (1 + np.exp(-z)) - y
    return value, (X.T @ r, np.sum(r))


def mlp(W1, b1, W2, b2, X, Y):
    n = X.shape[0]
    hidden = np.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = np.sum(exp, axis=1, keepdims=True)
    value = -np.sum(Y * (shifted - np.log(total))) / n
    g_logits = (exp / total * np.sum(Y, axis=1, keepdims=True) - Y) / n
    g_hidden = g_logits @ W2.T
    g_pre = g_hidden * (1 - hidden * hidden)
    return value, (X.T @ g_pre, np.sum(g_pre, axis=0), hidden.T @ g_logits, np.sum(g_logits, axis=0))


def rosenbrock(x):
    a = x[1:] - x[:-1] ** 2
    b = 1.0 - x[:-1]
    value = np.sum(100.0 * a * a + b * b)
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * a - 2.0 * b
    g[1:] += 200.0 * a
    return value, g


def recurrence(x, a, steps=1000):
    xs = []
    for _ in range(steps):
        xs.append(x)
        x = x * math.cos(x) + a * math.sin(x)
    value, d_x, d_a = x, 1.0, 0.0
    for x in reversed(xs):
        c, s = math.cos(x), math.sin(x)
        d_a += d_x * s
        d_x = d_x * (c - x * s + a * c)
    return value, (d_x, d_a)
