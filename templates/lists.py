"""Lists a loss builds: `ys = []`, then `ys.append(v)` (in a loop, or as a list
comprehension `[f(x) for x in xs]`). Generated code holds such a list as one array
whose rows are its items, which NumPy reads as it reads the list (`np.mean(ys)`,
`np.stack(ys)`, `sum(ys)`, `ys[-1]`); each append makes a new array, so the list
before it stays as it was."""

import numpy as np


@rule(
    linear=True,
    lazy_adjoint=True,
    checks=[
        ("ys = []\nys.append(x)\nys.append(2.0 * x)\nnp.stack(ys)", [{"x": ()}, {"x": (3,)}, {"x": (2, 3)}]),
        ("ys = []\nys.append(x)\nys.append(x * x)\nnp.sum(ys)", [{"x": (3,)}]),
        ("ys = []\nys.append(x)\nys.append(np.sin(x))\nnp.mean(ys, axis=0)", [{"x": (2, 3)}]),
        ("ys = [x]\nys.append(x * 3.0)\nsum(ys)", [{"x": (3,)}]),
    ],
)
def append(xs, v):
    """`xs.append(v)` on a list the loss builds: xs with v as a new last row."""
    ans = _append(xs, v)
    d_xs = _append_rows(d_ans, v)
    d_v = _append_last(d_ans, v)


@rule(
    linear=True,
    lazy_adjoint=True,
    checks=[
        ("ys = []\nys.append(x)\nys.append(x * 2.0)\nnp.sum(np.concatenate(ys) ** 2) + np.stack(ys)[0]", [{"x": (3,)}]),
        ("ys = [x, 3.0 * x]\nys.append(x * x)\nnp.array(ys) * np.mean(ys, axis=0)", [{"x": (2,)}, {"x": ()}]),
    ],
)
def rows(xs):
    """A list built with append, passed whole to a function (`np.stack(ys)`): the
    list itself. Its adjoint, which rules for lists give as a list of rows, becomes
    one array, so the adjoints of the list's uses add up as arrays."""
    ans = _rows(xs)
    d_xs = _rows_adjoint(d_ans)


def _rows(xs):
    """The list (an array of rows) as it is."""
    return xs


def _rows_adjoint(d):
    """An adjoint given as a list of rows, as one array (any other as it is)."""
    return np.array(d) if isinstance(d, (list, tuple)) else d


def _append(xs, v):
    """xs (a list, or an array of rows) with v as a new last row: a new array."""
    row = np.asarray(v)[np.newaxis]
    if len(xs) == 0:
        return row
    if np.shape(xs)[1:] != row.shape[1:]:
        raise ValueError(
            f"an item of shape {row.shape[1:]} appended to a list of items of shape {np.shape(xs)[1:]}: "
            "generated code holds a list the loss builds as an array, so its items must have one shape"
        )
    return np.concatenate([xs, row])


def _append_rows(d, v):
    """The adjoint of xs in `xs.append(v)` from d, the list's adjoint after it, which
    may be smaller than the list (a scalar, or one row for every row)."""
    if np.ndim(d) <= np.ndim(v) or np.shape(d)[0] == 1:
        return d
    return d[:-1]


def _append_last(d, v):
    """The adjoint of v in `xs.append(v)`: the last row of d, shaped like v."""
    if np.ndim(d) > np.ndim(v):
        d = d[-1]
    return _unbroadcast(d, v)
