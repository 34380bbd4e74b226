"""codegen on the functions of autograd's tests/test_numpy.py, test_scalar_ops.py and
test_linalg.py (issue 15: "your own adaptation of autograd's test suite").

    python tests/peers/autograd_numpy.py [-v]

Each case is written here from the facts of one of autograd's tests: the function's
body kept, its inputs' shapes and values. It is wrapped to a scalar: a function `g`
that returns the sum of `f(...)` times fixed random weights. codegen generates g's
gradient. The gradient is then checked against central finite differences and
against autograd's gradient of the same source.

Tests of autograd's own machinery are left out: boxes, vspaces, `np.r_` on boxes,
`make_diagonal`, and dtypes other than float64.

How a case runs and what it can end as: tests/peers/harness.py. The script prints
each refused case with codegen's message, and the counts; it exits 1 on any WRONG or
CRASH.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

_rng = np.random.default_rng(5)


def _well(n):
    """A well-conditioned square matrix: m @ m + I, as autograd's test_inv makes it."""
    m = _rng.standard_normal((n, n))
    return m @ m + np.eye(n)


def _psd(n):
    """A symmetric positive definite matrix."""
    m = _rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


R = (10, 11)
CUBE = (3, 4, 5)
BLOCK = (5, 6, 4)

# (name, the function f, its inputs: a shape (random normal), a float, or a value)
CASES = [
    ("dot mat vec", "def f(x, y):\n    return np.dot(x, y)", {"x": (10, 11), "y": (11,)}),
    ("dot mat mat", "def f(x, y):\n    return np.dot(x, y)", {"x": (10, 11), "y": (11, 10)}),
    ("dot vec mat", "def f(x, y):\n    return np.dot(x, y)", {"x": (10,), "y": (10, 11)}),
    ("dot vec vec", "def f(x, y):\n    return np.dot(x, y)", {"x": (11,), "y": (11,)}),
    ("dot mat float", "def f(x, y):\n    return np.dot(x, y)", {"x": (10, 11), "y": ()}),
    ("dot float vec", "def f(x, y):\n    return np.dot(x, y)", {"x": (), "y": (10,)}),
    ("outer", "def f(x, y):\n    return np.outer(x, y)", {"x": (11,), "y": (11,)}),
    ("max", "def f(x):\n    return np.max(x)", {"x": R}),
    ("max axis", "def f(x):\n    return np.max(x, axis=1)", {"x": CUBE}),
    ("max axis keepdims", "def f(x):\n    return np.max(x, axis=1, keepdims=True)", {"x": CUBE}),
    ("min", "def f(x):\n    return np.min(x)", {"x": R}),
    ("min axis", "def f(x):\n    return np.min(x, axis=1)", {"x": CUBE}),
    ("min axis keepdims", "def f(x):\n    return np.min(x, axis=1, keepdims=True)", {"x": CUBE}),
    ("sum", "def f(x):\n    return np.sum(x)", {"x": R}),
    ("sum axis 0", "def f(x):\n    return np.sum(x, axis=0)", {"x": R}),
    ("sum keepdims", "def f(x):\n    return np.sum(x, axis=0, keepdims=True)", {"x": R}),
    ("sum axis tuple", "def f(x):\n    return np.sum(x, axis=(1, 2))", {"x": (10, 11, 7)}),
    ("flipud", "def f(x):\n    return np.flipud(x)", {"x": R}),
    ("fliplr", "def f(x):\n    return np.fliplr(x)", {"x": R}),
    ("rot90", "def f(x):\n    return np.rot90(x)", {"x": R}),
    ("cumsum axis 0", "def f(x):\n    return np.cumsum(x, axis=0)", {"x": R}),
    ("cumsum axis 1", "def f(x):\n    return np.cumsum(x, axis=1)", {"x": R}),
    ("cumsum 1d", "def f(x):\n    return np.cumsum(x)", {"x": (10,)}),
    ("cumsum no axis", "def f(x):\n    return np.cumsum(x)", {"x": R}),
    ("builtin sum of arrays", "def f(x, y):\n    return sum([x, y])", {"x": R, "y": R}),
    ("mean", "def f(x):\n    return np.mean(x)", {"x": R}),
    ("mean axis 0", "def f(x):\n    return np.mean(x, axis=0)", {"x": R}),
    ("mean keepdims", "def f(x):\n    return np.mean(x, axis=0, keepdims=True)", {"x": R}),
    ("index ints", "def f(x):\n    return x[3, 0, 1]", {"x": BLOCK}),
    ("index slice", "def f(x):\n    return x[::-1, 2:4, :]", {"x": BLOCK}),
    ("index lists", "def f(x):\n    return x[[0, 1, 2], :, :]", {"x": BLOCK}),
    ("index mixed", "def f(x):\n    return x[3, 2:, [1, 3]]", {"x": BLOCK}),
    ("vector slice", "def f(x):\n    return x[2:4]", {"x": (5,)}),
    ("index fan-out", "def f(x):\n    y = x[::-1, 2:4, :]\n    z = x[::-1, 3:5, :]\n    return y + z", {"x": BLOCK}),
    ("slices of slices", "def f(x):\n    y = x[2:6]\n    z = y[1:3]\n    return z", {"x": (7,)}),
    ("reshape method", "def f(x):\n    return x.reshape((5 * 4, 6))", {"x": BLOCK}),
    ("reshape call", "def f(x):\n    return np.reshape(x, (5 * 4, 6))", {"x": BLOCK}),
    ("reshape method, no tuple", "def f(x):\n    return x.reshape(5 * 4, 6)", {"x": BLOCK}),
    ("ravel method", "def f(x):\n    return x.ravel()", {"x": BLOCK}),
    ("ravel call", "def f(x):\n    return np.ravel(x)", {"x": BLOCK}),
    ("flatten method", "def f(x):\n    return x.flatten()", {"x": BLOCK}),
    ("append list and float", "def f(a, b):\n    return np.append(a, b)", {"a": np.array([1.0, 2.0, 3.0]), "b": 4.0}),
    ("append 2-D axis 0", "def f(a, b):\n    return np.append(a, b, axis=0)", {"a": (2, 3), "b": (1, 3)}),
    ("concatenate", "def f(x, a):\n    return np.concatenate((a, x))", {"x": (4, 6, 4), "a": ("data", (5, 6, 4))}),
    ("concatenate axis 0", "def f(x, b):\n    return np.concatenate((b, x, b))", {"x": BLOCK, "b": ("data", BLOCK)}),
    ("concatenate axis 1", "def f(x, b):\n    return np.concatenate((b, x, b), axis=1)", {"x": BLOCK, "b": ("data", BLOCK)}),
    ("concatenate axis by position", "def f(x, b):\n    return np.concatenate((b, x, b), 1)", {"x": BLOCK, "b": ("data", BLOCK)}),
    ("trace offset", "def f(x):\n    return np.trace(x, offset=3)", {"x": R}),
    ("trace negative offset", "def f(x):\n    return np.trace(x, offset=-4)", {"x": (11, 10)}),
    ("trace extra axes", "def f(x):\n    return np.trace(x, offset=2)", {"x": (5, 6, 4, 3)}),
    ("diag", "def f(x):\n    return np.diag(x)", {"x": (10, 10)}),
    ("transpose", "def f(x):\n    return x.T", {"x": (8, 8)}),
    ("roll", "def f(x):\n    return np.roll(x, 2, axis=1)", {"x": (4, 5)}),
    ("roll no axis", "def f(x):\n    return np.roll(x, 2)", {"x": (4, 5)}),
    ("triu", "def f(x):\n    return np.triu(x, k=2)", {"x": (5, 5)}),
    ("tril", "def f(x):\n    return np.tril(x, k=2)", {"x": (5, 5)}),
    ("clip", "def f(x):\n    return np.clip(x, a_min=0.1, a_max=1.1)", {"x": (5, 5)}),
    ("prod", "def f(x):\n    return np.prod(x)", {"x": ("positive", (2, 3))}),
    ("prod axis 0", "def f(x):\n    return np.prod(x, axis=0)", {"x": ("positive", (2, 3))}),
    ("prod keepdims", "def f(x):\n    return np.prod(x, axis=0, keepdims=True)", {"x": ("positive", (2, 3))}),
    ("prod 1d", "def f(x):\n    return np.prod(x)", {"x": ("positive", (7,))}),
    ("array from scalars", "def f(x):\n    return np.array([x, x * 1.0, x + 2.5])", {"x": 3.0}),
    ("2-D array from scalars", "def f(x):\n    return np.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]])", {"x": 3.0}),
    ("array fan-out", "def f(x):\n    A = np.array([x, x * 1.0, x + 2.5])\n    return A + A", {"x": 3.0}),
    ("2-D array fan-out", "def f(x):\n    A = np.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]])\n    return A + A", {"x": 3.0}),
    ("array of a scalar", "def f(x):\n    return np.array(x)", {"x": 3.0}),
    ("scalar attributes", "def f(x):\n    assert x.shape == ()\n    assert x.ndim == 0\n    assert x.size == 1\n    return x ** 2", {"x": ("array", 3.0)}),
    ("array from arrays", "def f(x):\n    return np.array([x, x])", {"x": (3, 2)}),
    ("array from arrays 2", "def f(x):\n    return np.array([[2 * x, x + 1], [x, x]])", {"x": (3, 2)}),
    ("len", "def f(x):\n    assert len(x) == 3\n    return x", {"x": (3, 2)}),
    ("var ddof", "def f(x):\n    return np.var(x, ddof=1)", {"x": (3, 4)}),
    ("var axis keepdims", "def f(x):\n    return np.var(x, axis=1, keepdims=True)", {"x": (3, 4)}),
    ("std ddof", "def f(x):\n    return np.std(x, ddof=1)", {"x": (3, 4)}),
    ("std axis", "def f(x):\n    return np.std(x, axis=0)", {"x": (3, 4)}),
    ("where", "def f(x, y, c):\n    return np.where(c, x, y)", {"x": (4, 5), "y": (4, 5), "c": ("data", np.arange(20).reshape(4, 5) % 3 == 0)}),
    ("squeeze", "def f(x):\n    return np.squeeze(x)", {"x": (5, 1, 4)}),
    ("squeeze method", "def f(x):\n    return x.squeeze()", {"x": (5, 1, 4)}),
    ("repeat axis 1", "def f(x):\n    return np.repeat(x, 2, axis=1)", {"x": (5, 3, 4)}),
    ("repeat once", "def f(x):\n    return np.repeat(x, 1, axis=1)", {"x": (5, 3, 4)}),
    ("repeat axis 0", "def f(x):\n    return np.repeat(x, 2, axis=0)", {"x": (5, 3)}),
    ("repeat 1d", "def f(x):\n    return np.repeat(x, 2, axis=0)", {"x": (5,)}),
    ("expand_dims", "def f(x):\n    return np.expand_dims(x, 2)", {"x": (5, 1, 4)}),
    ("tensordot of scalars times ones", "def f(x):\n    return np.tensordot(x * np.ones((2, 2)), x * np.ones((2, 2)), 2)", {"x": 1.0}),
    ("repeated index", "def f(x):\n    return np.sum(x[[0, 0]])", {"x": (3,)}),
    ("repeated index 2", "def f(x):\n    return np.sum(x[[0, 1, 0]])", {"x": (3,)}),
    ("dot of slices", "def f(x):\n    return np.dot(x[:2], x[2:])", {"x": (4,)}),
    ("diagonal last axes", "def f(x):\n    return np.diagonal(x, axis1=-1, axis2=-2)", {"x": (3, 4, 4)}),
    ("nan_to_num", "def f(x, y):\n    return np.sin(np.nan_to_num(x + y))", {"x": (4,), "y": ("data", np.array([0.0, np.nan, np.inf, -np.inf]))}),
    ("max of equal values", "def f(x):\n    return np.max(np.array([x, x]))", {"x": 1.0}),
    ("max of equal values 2-D", "def f(x):\n    return np.max(np.array([[x, x], [x, 0.5]]), axis=1)", {"x": 1.0}),
    ("min three-way tie", "def f(x):\n    return np.min(np.array([[x, x, x], [x, 0.5, 0.5], [0.5, 0.5, 0.5], [x, x, 0.5]]), axis=0)", {"x": -1.0}),
    ("maximum of equal values", "def f(x):\n    return np.maximum(x, x)", {"x": 1.0}),
    ("maximum equal values 2-D", "def f(x):\n    return np.maximum(np.array([x, x, 0.5]), np.array([[x, 0.5, x], [x, x, 0.5]]))", {"x": 2.0}),
    ("astype", "def f(x):\n    return np.sin(x.astype('float64'))", {"x": (3,)}),
    ("gradient 1d", "def f(x):\n    return np.gradient(x)", {"x": (10,)}),
    # test_scalar_ops.py: each function on a number
    ("scalar abs", "def f(x):\n    return 3.0 * np.abs(x)", {"x": 1.1}),
    ("scalar abs negative", "def f(x):\n    return 3.0 * np.abs(x)", {"x": -1.1}),
    ("scalar absolute", "def f(x):\n    return 3.0 * np.absolute(x)", {"x": 1.1}),
    ("scalar sin", "def f(x):\n    return 3.0 * np.sin(x)", {"x": 0.4}),
    ("scalar sign", "def f(x):\n    return 3.0 * np.sign(x)", {"x": 1.1}),
    ("scalar exp", "def f(x):\n    return 3.0 * np.exp(x)", {"x": -0.3}),
    ("scalar log", "def f(x):\n    return 3.0 * np.log(x)", {"x": 0.8}),
    ("scalar log2", "def f(x):\n    return 3.0 * np.log2(x)", {"x": 0.8}),
    ("scalar log10", "def f(x):\n    return 3.0 * np.log10(x)", {"x": 0.8}),
    ("scalar log1p", "def f(x):\n    return 3.0 * np.log1p(x)", {"x": 0.8}),
    ("scalar expm1", "def f(x):\n    return 3.0 * np.expm1(x)", {"x": 0.8}),
    ("scalar exp2", "def f(x):\n    return 3.0 * np.exp2(x)", {"x": 0.8}),
    ("scalar neg", "def f(x):\n    return 3.0 * -x", {"x": 0.4}),
    ("scalar cos", "def f(x):\n    return 3.0 * np.cos(x)", {"x": 0.4}),
    ("scalar tan", "def f(x):\n    return 3.0 * np.tan(x)", {"x": 0.4}),
    ("scalar cosh", "def f(x):\n    return 3.0 * np.cosh(x)", {"x": 0.4}),
    ("scalar sinh", "def f(x):\n    return 3.0 * np.sinh(x)", {"x": 0.4}),
    ("scalar tanh", "def f(x):\n    return 3.0 * np.tanh(x)", {"x": 0.4}),
    ("scalar arccos", "def f(x):\n    return 3.0 * np.arccos(x)", {"x": 0.1}),
    ("scalar arcsin", "def f(x):\n    return 3.0 * np.arcsin(x)", {"x": 0.1}),
    ("scalar arctan", "def f(x):\n    return 3.0 * np.arctan(x)", {"x": 0.2}),
    ("scalar arccosh", "def f(x):\n    return 3.0 * np.arccosh(x)", {"x": 2.3}),
    ("scalar arcsinh", "def f(x):\n    return 3.0 * np.arcsinh(x)", {"x": -0.7}),
    ("scalar arctanh", "def f(x):\n    return 3.0 * np.arctanh(x)", {"x": 0.2}),
    ("scalar sqrt", "def f(x):\n    return 3.0 * np.sqrt(x)", {"x": 4.2}),
    ("scalar reciprocal", "def f(x):\n    return np.reciprocal(x)", {"x": 0.6}),
    ("scalar negative", "def f(x):\n    return np.negative(x)", {"x": 0.6}),
    ("scalar rad2deg", "def f(x):\n    return 3.0 * np.rad2deg(x)", {"x": 4.2}),
    ("scalar deg2rad", "def f(x):\n    return 3.0 * np.deg2rad(x)", {"x": 4.2}),
    ("scalar radians", "def f(x):\n    return 3.0 * np.radians(x)", {"x": 4.2}),
    ("scalar degrees", "def f(x):\n    return 3.0 * np.degrees(x)", {"x": 4.2}),
    ("scalar sinc", "def f(x):\n    return 3.0 * np.sinc(x)", {"x": 4.2}),
    ("scalar power in x", "def f(x, y):\n    return np.power(x, y)", {"x": 1.7, "y": ('data', 2.3)}),
    ("scalar power in y", "def f(x, y):\n    return np.power(x, y)", {"x": ('data', 1.7), "y": 0.6}),
    ("scalar power of 0 in y", "def f(x, y):\n    return np.power(x, y)", {"x": ('data', 0.0), "y": 0.6}),
    ("scalar mod", "def f(x, y):\n    return np.mod(x, y)", {"x": 0.7, "y": 0.3}),
    ("scalar divide", "def f(x, y):\n    return np.divide(x, y)", {"x": 0.7, "y": 0.3}),
    ("scalar multiply", "def f(x, y):\n    return np.multiply(x, y)", {"x": 0.7, "y": 0.3}),
    ("scalar true_divide", "def f(x, y):\n    return np.true_divide(x, y)", {"x": 0.7, "y": 0.3}),
    # test_linalg.py: real matrices (complex ones are refused as a whole)
    ("inv", "def f(x):\n    return np.linalg.inv(x)", {"x": ("value", _well(8))}),
    ("inv 3-D", "def f(x):\n    return np.linalg.inv(x)", {"x": ("value", _rng.standard_normal((4, 4, 4)) + 5.0 * np.eye(4))}),
    ("pinv tall", "def f(x):\n    return np.linalg.pinv(x)", {"x": (5, 3)}),
    ("pinv wide", "def f(x):\n    return np.linalg.pinv(x)", {"x": (5, 7)}),
    ("pinv batched", "def f(x):\n    return np.linalg.pinv(x)", {"x": (2, 5, 4)}),
    ("solve in the matrix", "def f(a, b):\n    return np.linalg.solve(a, b)", {"a": ("value", _rng.standard_normal((8, 8)) + 10.0 * np.eye(8)), "b": ("data", _rng.standard_normal((8, 7)))}),
    ("solve in the matrix, vector b", "def f(a, b):\n    return np.linalg.solve(a, b)", {"a": ("value", _rng.standard_normal((8, 8)) + 10.0 * np.eye(8)), "b": ("data", _rng.standard_normal(8))}),
    ("solve in b", "def f(a, b):\n    return np.linalg.solve(a, b)", {"a": ("data", _rng.standard_normal((6, 6)) + np.eye(6)), "b": (6, 5)}),
    ("solve 3-D in both", "def f(a, b):\n    return np.linalg.solve(a, b)", {"a": ("value", _rng.standard_normal((5, 4, 4)) + 5.0 * np.eye(4)), "b": (5, 4, 6)}),
    ("det", "def f(x):\n    return np.linalg.det(x)", {"x": (6, 6)}),
    ("det 3-D", "def f(x):\n    return np.linalg.det(x)", {"x": (3, 3, 3)}),
    ("slogdet", "def f(x):\n    _sign, logdet = np.linalg.slogdet(x)\n    return logdet", {"x": (6, 6)}),
    ("slogdet of -x", "def f(x):\n    _sign, logdet = np.linalg.slogdet(-x)\n    return logdet", {"x": (6, 6)}),
    ("slogdet 3-D", "def f(x):\n    return np.sum(np.linalg.slogdet(x)[1])", {"x": ("value", np.stack([_psd(5) + 5.0 * np.eye(5) for _ in range(3)]))}),
    ("vector 2-norm", "def f(x):\n    return np.linalg.norm(x)", {"x": (6,)}),
    ("norm of a list", "def f(x):\n    return np.linalg.norm([x, x + 2])", {"x": 0.3}),
    ("Frobenius norm", "def f(x):\n    return np.linalg.norm(x)", {"x": (6, 5)}),
    ("Frobenius norm over axes", "def f(x):\n    return np.linalg.norm(x, axis=(0, 1))", {"x": (6, 5, 4)}),
    ("vector norm ord 1", "def f(x):\n    return np.linalg.norm(x, ord=1)", {"x": (6,)}),
    ("vector norm ord 3", "def f(x):\n    return np.linalg.norm(x, ord=3)", {"x": (6,)}),
    ("norm over an axis", "def f(x):\n    return np.linalg.norm(x, axis=1)", {"x": (3, 4)}),
    ("nuclear norm", "def f(x):\n    return np.linalg.norm(x, ord='nuc')", {"x": (6, 5)}),
    ("eigh", "def f(x):\n    w, v = np.linalg.eigh(x)\n    return w + np.sum(v ** 2)", {"x": ("value", _psd(6))}),
    ("eigvalsh (eigh's values)", "def f(x):\n    return np.linalg.eigvalsh(x)", {"x": ("value", _psd(6))}),
    ("eig of a real matrix", "def f(x):\n    w, v = np.linalg.eig(x)\n    return np.abs(w)", {"x": (8, 8)}),
    ("cholesky", "def f(x):\n    return np.linalg.cholesky(x)", {"x": ("value", _psd(6))}, "symmetric"),
    ("cholesky batched", "def f(x):\n    return np.linalg.cholesky(x)", {"x": ("value", np.stack([_psd(6) for _ in range(3)]))}, "symmetric"),
    ("cholesky reparameterization", "def f(x, z):\n    return np.linalg.norm(np.dot(np.linalg.cholesky(x), z))", {"x": ("value", _psd(6)), "z": ("data", _rng.standard_normal(6))}, "symmetric"),
    ("svd", "def f(x):\n    u, s, v = np.linalg.svd(x, full_matrices=False)\n    return s", {"x": (3, 5)}),
    ("svd values only", "def f(x):\n    return np.linalg.svd(x, full_matrices=False, compute_uv=False)", {"x": (5, 3)}),
    ("svdvals", "def f(x):\n    return np.linalg.svdvals(x)", {"x": (4, 5, 3)}),
]


def run(verbose: bool = False) -> dict:
    return harness.run(CASES, verbose=verbose)


if __name__ == "__main__":
    harness.main(CASES)
