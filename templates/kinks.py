"""Piecewise functions: where the derivative jumps, each rule picks one subgradient
and says which (`policy`); generated code repeats it beside the line that uses it.
Ties split evenly, as autograd and JAX do."""

import numpy as np


@rule(elementwise=True, domain={"x": "nonzero"}, aliases=["numpy.absolute", "builtins.abs"],
      policy="subgradient 0 at x == 0")
def abs(x):
    ans = np.abs(x)
    d_x = d_ans * np.sign(x)


@rule(elementwise=True, domain={"x": "nonzero"}, policy="subgradient 0 at x == 0")
def fabs(x):
    ans = np.fabs(x)
    d_x = d_ans * np.sign(x)


@rule(elementwise=True, zero_gradient=True, policy="zero gradient, also at the jump")
def sign(x):
    ans = np.sign(x)


PAIRS = [{"x": (), "y": ()}, {"x": (3,), "y": (3,)}, {"x": (2, 3), "y": ()}, {"x": (3,), "y": (2, 3)}, {"x": (2, 1), "y": (1, 3)}]


@rule(elementwise=True, policy="ties split evenly between x and y", aliases=["builtins.max"],
      checks=[("np.maximum(x, y)", PAIRS), ("max(x, y)", [{"x": (), "y": ()}])])
def maximum(x, y):
    """Also Python's `max(a, b)` of two numbers (generated code calls np.maximum)."""
    ans = np.maximum(x, y)
    d_x = d_ans * np.where(x == y, 0.5, x > y)
    d_y = d_ans * np.where(x == y, 0.5, y > x)


@rule(elementwise=True, policy="ties split evenly between x and y", aliases=["builtins.min"],
      checks=[("np.minimum(x, y)", PAIRS), ("min(x, y)", [{"x": (), "y": ()}])])
def minimum(x, y):
    """Also Python's `min(a, b)` of two numbers (generated code calls np.minimum)."""
    ans = np.minimum(x, y)
    d_x = d_ans * np.where(x == y, 0.5, x < y)
    d_y = d_ans * np.where(x == y, 0.5, y < x)


@rule(elementwise=True, policy="ties split evenly; a NaN argument gets no gradient")
def fmax(x, y):
    ans = np.fmax(x, y)
    d_x = d_ans * np.where(x == y, 0.5, (x > y) | np.isnan(y))
    d_y = d_ans * np.where(x == y, 0.5, (y > x) | np.isnan(x))


@rule(elementwise=True, policy="ties split evenly; a NaN argument gets no gradient")
def fmin(x, y):
    ans = np.fmin(x, y)
    d_x = d_ans * np.where(x == y, 0.5, (x < y) | np.isnan(y))
    d_y = d_ans * np.where(x == y, 0.5, (y < x) | np.isnan(x))


@rule(
    elementwise=True,
    method="clip",
    domain={"a_min": "negative", "a_max": "positive"},
    policy="x equal to a bound: the gradient splits evenly between x and the bound",
    checks=[
        ("np.clip(x, a_min, a_max)", [{"x": (3, 4), "a_min": (), "a_max": ()}, {"x": (5,), "a_min": (5,), "a_max": ()}]),
        ("np.clip(x, -0.5, None)", [{"x": (6,)}]),
        ("np.clip(x, None, 0.3)", [{"x": (2, 3)}]),
        ("x.clip(-0.4, 0.4)", [{"x": (6,)}]),
    ],
)
def clip(x, a_min, a_max):
    ans = np.clip(x, a_min, a_max)
    low = a_min if a_min is not None else -np.inf
    high = a_max if a_max is not None else np.inf
    d_x = d_ans * np.where((x == low) | (x == high), 0.5, (x > low) & (x < high))
    d_a_min = d_ans * np.where(x == a_min, 0.5, x < a_min)
    d_a_max = d_ans * np.where(x == a_max, 0.5, x > a_max)


@rule(
    elementwise=True,
    zero_gradient=["condition"],
    checks=[
        ("np.where(condition, x, y)", [
            {"condition": [True, False, True], "x": (3,), "y": (3,)},
            {"condition": [[True], [False]], "x": (2, 3), "y": ()},
            {"condition": [False, True, True], "x": (), "y": (2, 3)},
        ]),
        ("np.where(x > 0, x, 0.1 * x)", [{"x": (4,)}]),
    ],
)
def where(condition, x, y):
    ans = np.where(condition, x, y)
    d_x = np.where(condition, d_ans, 0.0)
    d_y = np.where(condition, 0.0, d_ans)


@rule(
    linear=True,
    zero_gradient=["condlist"],
    sequences=["condlist", "choicelist"],
    checks=[
        ("np.select([x > 0.5, x < -0.5], [x, y])", [{"x": (4,), "y": (4,)}, {"x": (2, 3), "y": ()}]),
        ("np.select([x > 0.5, x < -0.5], [x * x, y], default=y)", [{"x": (4,), "y": (4,)}]),
    ],
)
def select(condlist, choicelist, default=0):
    """Elementwise, the choice of the first condition that holds, else default:
    linear in the choices and default together."""
    ans = np.select(condlist, choicelist, default)
    d_choicelist = _selected_parts(d_ans, condlist, choicelist)
    d_default = _unbroadcast(np.where(_chosen(condlist) == len(condlist), d_ans, 0.0), default)


def _chosen(condlist):
    """Elementwise, the index of the first condition that holds (len(condlist) where none does)."""
    return np.select(condlist, list(range(len(condlist))), len(condlist))


def _selected_parts(d, condlist, choicelist):
    """Each choice's adjoint in np.select: d where that choice was taken, else 0."""
    chosen = _chosen(condlist)
    return [_unbroadcast(np.where(chosen == i, d, 0.0), c) for i, c in enumerate(choicelist)]
