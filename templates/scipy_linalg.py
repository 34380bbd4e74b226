"""scipy.linalg's functions that losses use. Generated code calls SciPy for them
(the loss did)."""

import numpy as np
from scipy import linalg


@rule(
    zero_gradient=["lower"],
    requires="trans == 0 and not unit_diagonal",
    checks=[
        ("linalg.solve_triangular(np.tril(x) + 3.0 * np.eye(3), y, lower=True)", [{"x": (3, 3), "y": (3,)}, {"x": (3, 3), "y": (3, 2)}]),
        ("linalg.solve_triangular(np.triu(x) + 3.0 * np.eye(3), y)", [{"x": (3, 3), "y": (3,)}]),
    ],
)
def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False):
    """x with a x = b for a triangular a (the triangle `lower` says; the other is not read)."""
    ans = linalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)
    d_b = linalg.solve_triangular(a, d_ans, trans=1, lower=lower)
    d_a = _triangle(-(np.outer(linalg.solve_triangular(a, d_ans, trans=1, lower=lower), ans) if np.ndim(b) == 1 else linalg.solve_triangular(a, d_ans, trans=1, lower=lower) @ np.swapaxes(ans, -1, -2)), lower)
    t_ans = linalg.solve_triangular(a, t_b - _triangle(t_a, lower) @ ans, lower=lower)


def _triangle(m, lower):
    """The triangle of m that solve_triangular reads."""
    return np.tril(m) if lower else np.triu(m)


@rule(checks=[("linalg.expm(x)", [{"x": (3, 3)}, {"x": (2, 2)}, {"x": (2, 2, 2)}]), ("linalg.expm(0.5 * (x - np.swapaxes(x, -1, -2)))", [{"x": (3, 3)}])])
def expm(x):
    """The matrix exponential of a square matrix; its derivative is the Fréchet
    derivative (exact, from the exponential of a block matrix)."""
    ans = linalg.expm(x)
    d_x = np.exp(x) * np.sum(d_ans) if np.ndim(x) == 0 else _expm_slope(np.swapaxes(x, -1, -2), d_ans)
    t_ans = _expm_slope(x, t_x)


def _expm_slope(x, e):
    """The Fréchet derivative of expm at x along e (a number's is a 1 x 1 matrix, as
    expm gives; a stack of matrices: each)."""
    if np.ndim(x) == 0:
        return np.reshape(np.exp(x) * e, (1, 1))
    if np.ndim(x) == 2:
        return linalg.expm_frechet(x, np.broadcast_to(e, np.shape(x)), compute_expm=False)
    e = np.broadcast_to(e, np.shape(x))
    return np.stack([_expm_slope(a, b) for a, b in zip(x, e)])


@rule(linear=True, zero_gradient=["lower"], checks=[("_triangle(x * np.ones((3, 3)), True)", [{"x": (3, 3)}]), ("_triangle(x * np.ones((3, 3)), False)", [{"x": (3, 3)}])])
def triangle(m, lower):
    """`_triangle(m, lower)` in a JVP read back (--mode hvp): its own adjoint."""
    ans = _triangle(m, lower)
    d_m = _triangle(d_ans, lower)
