"""SciPy's special functions that losses use. Generated code computes them with
NumPy (the `_` helpers here), so it needs SciPy only if the loss itself does."""

import numpy as np
from scipy import special


@rule(elementwise=True, compute="_expit(x)")
def expit(x):
    ans = special.expit(x)
    d_x = d_ans * ans * (1.0 - ans)


def _expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x)), without overflow for large |x|."""
    return np.exp(-np.logaddexp(0.0, -x))


@rule(
    reduction=True,
    compute="_logsumexp(x, axis, keepdims)",
    checks=[
        ("special.logsumexp(x)", [{"x": (3,)}, {"x": (2, 3)}]),
        ("special.logsumexp(x, axis=1)", [{"x": (2, 3)}]),
        ("special.logsumexp(x, axis=0, keepdims=True)", [{"x": (2, 3)}]),
    ],
)
def logsumexp(x, axis=None, *, keepdims=False):
    ans = special.logsumexp(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    top = _expand(ans, x, axis) if axis is not None and not keepdims else ans
    d_x = spread * np.exp(x - top)
    t_ans = np.sum(t_x * np.exp(x - top), axis=axis, keepdims=keepdims)


def _logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) over `axis`, shifted by the maximum so exp cannot overflow."""
    shift = np.max(x, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    total = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return total if keepdims else np.sum(total, axis=axis)


@rule(compute="_softmax(x, axis)", checks=[("special.softmax(x)", [{"x": (3,)}]), ("special.softmax(x, axis=1)", [{"x": (2, 3)}])])
def softmax(x, axis=None):
    ans = special.softmax(x, axis=axis)
    d_x = ans * (d_ans - np.sum(d_ans * ans, axis=axis, keepdims=True))
    t_ans = ans * (t_x - np.sum(t_x * ans, axis=axis, keepdims=True))


def _softmax(x, axis):
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


@rule(compute="_log_softmax(x, axis)", checks=[("special.log_softmax(x)", [{"x": (3,)}]), ("special.log_softmax(x, axis=0)", [{"x": (2, 3)}])])
def log_softmax(x, axis=None):
    ans = special.log_softmax(x, axis=axis)
    d_x = d_ans - np.exp(ans) * np.sum(d_ans, axis=axis, keepdims=True)
    t_ans = t_x - np.sum(np.exp(ans) * t_x, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    return x - _logsumexp(x, axis, True)
