"""Helpers that rules and generated code call. A generated module gets a copy of each
helper it uses, so it imports nothing but NumPy.

An adjoint in generated code may be smaller than its value (a scalar standing for a
constant array, say) as long as it broadcasts to the value's shape; these helpers
take that into account."""

import numpy as np


def _unbroadcast(d, x):
    """Sum the adjoint `d` over the axes along which NumPy broadcast `x` (added
    leading axes, stretched length-1 axes), so that it broadcasts to x's shape."""
    if np.ndim(x) == 0:
        return np.sum(d)
    shape = np.shape(x)
    lead = np.ndim(d) - len(shape)
    if lead > 0:
        d = np.sum(d, axis=tuple(range(lead)))
    offset = len(shape) - np.ndim(d)
    stretched = tuple(
        i - offset
        for i, n in enumerate(shape)
        if n == 1 and i >= offset and np.shape(d)[i - offset] != 1
    )
    if stretched:
        d = np.sum(d, axis=stretched, keepdims=True)
    return d


def _fill(d, x):
    """The adjoint `d` (which broadcasts to x's shape) as a gradient of exactly x's
    shape: a scalar for a scalar `x`, else an array of its own."""
    if np.ndim(x) == 0:
        return d[()] if isinstance(d, np.ndarray) else d
    if np.shape(d) == np.shape(x):
        return d
    return np.full(np.shape(x), d)


def _zero_gradient(x):
    """The gradient with respect to `x` of a value that does not depend on it."""
    return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
