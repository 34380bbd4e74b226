"""Reductions over all elements or along axes.

The adjoint of a reduction is the result's adjoint spread back over the reduced
axes. It is left to broadcast: only the axes that `keepdims=False` dropped are put
back (as length 1, by `_expand`), so `np.sum(x)` passes its scalar adjoint on as a
scalar, and the sum of a number over axis 0 (which NumPy allows) passes on a
number, not an array of one."""

import numpy as np

SHAPES = [{"x": ()}, {"x": (3,)}, {"x": (2, 3)}]
MATRIX = [{"x": (2, 3)}]
BLOCK = [{"x": (2, 3, 4)}]


@rule(linear=True, reduction=True, method="sum", checks=[("np.sum(x)", SHAPES), ("np.sum(x, axis=0)", MATRIX), ("np.sum(x, axis=-1, keepdims=True)", MATRIX), ("np.sum(x, axis=(0, 2))", BLOCK), ("x.sum(axis=1)", MATRIX)])
def sum(x, axis=None, *, keepdims=False):
    ans = np.sum(x, axis=axis, keepdims=keepdims)
    d_x = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans


@rule(linear=True, checks=[("sum(x)", [{"x": (4,)}, {"x": (3, 2)}])])
def builtin_sum(x):
    """Python's `sum(x)`: over the first axis (all of a vector), one element at a
    time, as the source does; np.sum is faster."""
    ans = sum(x)
    d_x = np.broadcast_to(d_ans, np.shape(x))


@rule(linear=True, reduction=True, method="mean", checks=[("np.mean(x)", SHAPES), ("np.mean(x, axis=0)", MATRIX), ("np.mean(x, axis=-1, keepdims=True)", MATRIX), ("np.mean(x, axis=(0, 2))", BLOCK), ("x.mean(axis=1)", MATRIX)])
def mean(x, axis=None, *, keepdims=False):
    ans = np.mean(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    d_x = spread * (np.size(ans) / np.size(x))


@rule(reduction=True, checks=[("np.nansum(x)", SHAPES), ("np.nansum(x, axis=0)", MATRIX), ("np.nansum(x, axis=-1, keepdims=True)", MATRIX), ("np.nansum(x, axis=(0, 2))", BLOCK), ("np.nansum(x * z)", [{"x": (3,), "z": [1.0, 0.0, 2.0]}])])
def nansum(x, axis=None, *, keepdims=False):
    ans = np.nansum(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    d_x = np.where(np.isnan(x), 0.0, spread)
    t_ans = np.nansum(np.where(np.isnan(x), 0.0, t_x), axis=axis, keepdims=keepdims)


@rule(reduction=True, method="prod", checks=[("np.prod(x)", SHAPES), ("np.prod(x, axis=0)", MATRIX), ("np.prod(x, axis=-1, keepdims=True)", MATRIX), ("np.prod(x, axis=(0, 2))", BLOCK), ("x.prod(axis=1)", MATRIX)], policy="exact where x has zeros: products of the other elements")
def prod(x, axis=None, *, keepdims=False):
    ans = np.prod(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    d_x = spread * _prod_of_others(x, axis)
    t_ans = np.sum(t_x * _prod_of_others(x, axis), axis=axis, keepdims=keepdims)


def _prod_of_others(x, axis):
    """For each element of x, the product of the other elements reduced with it
    (along `axis`, or all of x): prod's derivative, exact where x has zeros."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return np.ones_like(x)
    axes = tuple(range(x.ndim)) if axis is None else np.atleast_1d(axis).tolist()
    axes = [a % x.ndim for a in axes]
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, rest + axes)
    flat = np.reshape(moved, moved.shape[: len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,))
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.transpose(np.reshape(left * right, moved.shape), np.argsort(rest + axes))


def _prod_of_others_slope(x, g, axis):
    """The derivative of `_prod_of_others(x, axis)` applied to g (np.prod's second
    derivative; it is symmetric, so the same function gives the tangent and the
    adjoint): for each element, the sum over the other elements i of its group of
    g_i times the product of the elements other than both. Exact where x has zeros:
    with one zero the products that skip it, with two the product of the rest,
    with three or more nothing."""
    x = np.asarray(x, dtype=float)
    g = np.broadcast_to(g, x.shape)
    if x.ndim == 0:
        return np.zeros_like(x)
    axes = tuple(range(x.ndim)) if axis is None else np.atleast_1d(axis).tolist()
    axes = [a % x.ndim for a in axes]
    rest = [a for a in range(x.ndim) if a not in axes]

    def grouped(a):
        moved = np.transpose(a, rest + axes)
        return np.reshape(moved, moved.shape[: len(rest)] + (-1,)), moved.shape

    (flat, shape), (gf, _) = grouped(x), grouped(g)
    zero = flat == 0
    zeros = np.sum(zero, axis=-1, keepdims=True)
    safe = np.where(zero, 1.0, flat)
    others = _prod_of_others(safe, -1)  # with the zeros taken as ones
    total = np.prod(safe, axis=-1, keepdims=True)
    over = np.where(zero, 0.0, gf / safe)
    at_zeros = np.sum(np.where(zero, gf, 0.0), axis=-1, keepdims=True)
    none = others * (np.sum(over, axis=-1, keepdims=True) - over)
    one = np.where(zero, np.sum(np.where(zero, 0.0, gf * others), axis=-1, keepdims=True), at_zeros * others)
    two = np.where(zero, (at_zeros - gf) * total, 0.0)
    out = np.select([zeros == 0, zeros == 1, zeros == 2], [none, one, two], 0.0)
    return np.transpose(np.reshape(out, shape), np.argsort(rest + axes))


WITH_ZEROS = [{"x": (4,), "z": [1.0, 0.0, 2.0, 3.0]}, {"x": (4,), "z": [0.0, 1.0, 0.0, 2.0]}, {"x": (2, 3), "z": [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]}]


@rule(
    zero_gradient=["axis"],
    checks=[
        ("_prod_of_others(x, None)", [{"x": ()}, {"x": (4,)}, {"x": (2, 3)}]),
        ("_prod_of_others(x, 0)", [{"x": (2, 3)}]),
        ("_prod_of_others(x, (0, 2))", BLOCK),
        ("_prod_of_others(x * z, None)", WITH_ZEROS),
        ("_prod_of_others(x * z, 1)", [{"x": (2, 3), "z": [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]}]),
    ],
)
def prod_of_others(x, axis):
    """`_prod_of_others(x, axis)` in a JVP read back (--mode hvp): the second
    derivative of np.prod."""
    ans = _prod_of_others(x, axis)
    d_x = _prod_of_others_slope(x, d_ans, axis)
    t_ans = _prod_of_others_slope(x, t_x, axis)


@rule(reduction=True, aliases=["numpy.amax"], method="max", domain={"x": "distinct"}, checks=[("np.max(x)", SHAPES), ("np.max(x, axis=0)", MATRIX), ("np.max(x, axis=-1, keepdims=True)", MATRIX), ("np.max(x, axis=(0, 2))", BLOCK), ("x.max(axis=1)", MATRIX)],
      policy="ties split evenly among the maxima")
def max(x, axis=None, *, keepdims=False):
    ans = np.max(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    top = _expand(ans, x, axis) if axis is not None and not keepdims else ans
    chosen = x == top
    d_x = spread * chosen / np.sum(chosen, axis=axis, keepdims=True)
    t_ans = np.sum(t_x * chosen / np.sum(chosen, axis=axis, keepdims=True), axis=axis, keepdims=keepdims)


@rule(reduction=True, aliases=["numpy.amin"], method="min", domain={"x": "distinct"}, checks=[("np.min(x)", SHAPES), ("np.min(x, axis=0)", MATRIX), ("np.min(x, axis=-1, keepdims=True)", MATRIX), ("np.min(x, axis=(0, 2))", BLOCK), ("x.min(axis=1)", MATRIX)],
      policy="ties split evenly among the minima")
def min(x, axis=None, *, keepdims=False):
    ans = np.min(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    bottom = _expand(ans, x, axis) if axis is not None and not keepdims else ans
    chosen = x == bottom
    d_x = spread * chosen / np.sum(chosen, axis=axis, keepdims=True)
    t_ans = np.sum(t_x * chosen / np.sum(chosen, axis=axis, keepdims=True), axis=axis, keepdims=keepdims)


@rule(reduction=True, method="var", checks=[("np.var(x)", MATRIX), ("np.var(x, axis=0)", MATRIX), ("np.var(x, axis=-1, keepdims=True)", MATRIX), ("np.var(x, axis=(0, 2))", BLOCK), ("x.var(axis=1)", MATRIX), ("np.var(x, ddof=1)", [{"x": (5,)}])])
def var(x, axis=None, *, ddof=0, keepdims=False):
    ans = np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    centered = x - np.mean(x, axis=axis, keepdims=True)
    d_x = spread * 2.0 * centered / (np.size(x) / np.size(ans) - ddof)
    t_ans = np.sum(t_x * centered, axis=axis, keepdims=keepdims) * 2.0 / (np.size(x) / np.size(ans) - ddof)


SPREADS = [{"x": (2, 3), "z": [[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]]}]


@rule(reduction=True, method="std", checks=[("np.std(x)", MATRIX), ("np.std(x, axis=0)", MATRIX), ("np.std(x, axis=-1, keepdims=True)", MATRIX), ("np.std(x, axis=(0, 2))", BLOCK), ("x.std(axis=1)", MATRIX), ("np.std(x, ddof=1)", [{"x": (5,)}]),
                                              ("np.std(x[:, :1] * z, axis=1)", SPREADS), ("np.std(x[:1], axis=0)", MATRIX), ("np.std(0.0 * x)", MATRIX)],
      policy="0 where the spread is exactly 0 (a number, an axis of length 1, equal values)")
def std(x, axis=None, *, ddof=0, keepdims=False):
    ans = np.std(x, axis=axis, ddof=ddof, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    deviation = _expand(ans, x, axis) if axis is not None and not keepdims else ans
    centered = x - np.mean(x, axis=axis, keepdims=True)
    d_x = spread * centered / ((np.size(x) / np.size(ans) - ddof) * np.where(deviation == 0, 1.0, deviation))
    t_ans = np.sum(t_x * centered, axis=axis, keepdims=keepdims) / ((np.size(x) / np.size(ans) - ddof) * np.where(ans == 0, 1.0, ans))


@rule(
    reduction=True,
    domain={"x": "distinct"},
    policy="subgradients: 0 at x == 0 (ord 1 and p-norms); a max or min over ties (ord inf, -inf, and the matrix ords 1, -1, inf, -inf) shared equally by the tied; ord 2, -2 and 'nuc' where the singular values are distinct and not 0",
    checks=[
        ("np.linalg.norm(x)", [{"x": (3,)}, {"x": (2, 3)}, {"x": (2, 2, 2)}]),
        ("np.linalg.norm(x, axis=1)", [{"x": (2, 3)}]),
        ("np.linalg.norm(x, axis=0, keepdims=True)", [{"x": (2, 3)}]),
        ("np.linalg.norm(x, 'fro')", [{"x": (2, 3)}]),
        ("np.linalg.norm(x, 1)", [{"x": (4,)}, {"x": (3, 4)}]),
        ("np.linalg.norm(x, 3)", [{"x": (4,)}]),
        ("np.linalg.norm(x, 0.5, axis=1)", [{"x": (2, 3)}]),
        ("np.linalg.norm(x, np.inf)", [{"x": (4,)}, {"x": (3, 4)}]),
        ("np.linalg.norm(x, -np.inf)", [{"x": (4,)}, {"x": (3, 4)}]),
        ("np.linalg.norm(x, -1)", [{"x": (3, 4)}]),
        ("np.linalg.norm(x, 'nuc')", [{"x": (3, 4)}, {"x": (4, 3)}]),
        ("np.linalg.norm(x, 2)", [{"x": (3, 4)}]),
        ("np.linalg.norm(x, -2)", [{"x": (4, 3)}]),
        ("np.linalg.norm(x, 2, axis=(0, 2))", [{"x": (3, 2, 4)}]),
        ("np.linalg.norm(x, 1, axis=(2, 0), keepdims=True)", [{"x": (3, 2, 4)}]),
        ("np.linalg.norm(x, np.inf, axis=0)", [{"x": (3, 2)}]),
        ("np.linalg.norm(x * np.array([1.0, 0.0, 2.0]), 0)", [{"x": (3,)}]),
    ],
)
def norm(x, ord=None, axis=None, keepdims=False):
    """Every norm np.linalg.norm computes: vector norms (ord None or 2, 1, inf, -inf,
    0, any p) over one axis or a vector, matrix norms ('fro', 'nuc', 2, -2, 1, -1,
    inf, -inf) over two axes or a matrix, the 2-norm of everything for ord None."""
    ans = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    d_x = spread * _norm_slope(x, ord, axis, ans)
    t_ans = np.sum(t_x * _norm_slope(x, ord, axis, ans), axis=axis, keepdims=keepdims)


def _norm_slope(x, ord, axis, ans):
    """The derivative of each norm np.linalg.norm(x, ord, axis) in the elements of x
    it reads (an array of x's shape)."""
    x = np.asarray(x, dtype=float)
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(a % max(x.ndim, 1) for a in axes)
    matrix = len(axes) == 2 and (ord is not None or axis is not None)
    top = ans if (axis is None or np.ndim(ans) == x.ndim) else np.expand_dims(ans, axes)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return x / np.where(top == 0, 1.0, top)
    if not matrix:
        a = np.abs(x)
        if ord == np.inf or ord == -np.inf:
            pick = np.max(a, axis=axes, keepdims=True) if ord > 0 else np.min(a, axis=axes, keepdims=True)
            hit = a == pick
            return np.sign(x) * hit / np.sum(hit, axis=axes, keepdims=True)
        if ord == 0:
            return np.zeros(np.shape(x))
        if ord == 1:
            return np.sign(x)
        return np.sign(x) * (a / np.where(top == 0, 1.0, top)) ** (ord - 1.0)
    m = np.moveaxis(x, axes, (-2, -1))
    if ord in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(m, full_matrices=False)
        if ord == "nuc":
            slope = u @ vt
        else:
            k = 0 if ord == 2 else -1
            slope = u[..., :, k : k + 1 if k == 0 else None] @ vt[..., k : k + 1 if k == 0 else None, :]
    else:
        along = -2 if ord in (1, -1) else -1  # ord 1: the largest column sum; inf: row sum
        sums = np.sum(np.abs(m), axis=along, keepdims=True)
        pick = np.max(sums, axis=-1 if along == -2 else -2, keepdims=True) if ord > 0 else np.min(sums, axis=-1 if along == -2 else -2, keepdims=True)
        hit = sums == pick
        slope = np.sign(m) * hit / np.sum(hit, axis=-1 if along == -2 else -2, keepdims=True)
    return np.moveaxis(slope, (-2, -1), axes)


@rule(
    linear=True,
    method="cumsum",
    checks=[("np.cumsum(x)", [{"x": (4,)}, {"x": (2, 3)}]), ("np.cumsum(x, axis=1)", [{"x": (2, 3)}]), ("x.cumsum(0)", [{"x": (3, 2)}])],
)
def cumsum(x, axis=None):
    """With axis=None, over the flattened array."""
    ans = np.cumsum(x, axis=axis)
    d_x = np.reshape(np.flip(np.cumsum(np.flip(d_ans, axis), axis=axis), axis) if axis is not None else np.cumsum(d_ans[::-1])[::-1], np.shape(x))


@rule(
    method="cumprod",
    checks=[("np.cumprod(x)", [{"x": (4,)}, {"x": (2, 3)}]), ("np.cumprod(x, axis=1)", [{"x": (2, 3)}]), ("x.cumprod(0)", [{"x": (3, 2)}])],
    policy="exact where x has zeros",
)
def cumprod(x, axis=None):
    ans = np.cumprod(x, axis=axis)
    d_x = _cumprod_adjoint(d_ans, x, ans, axis)
    t_ans = _cumprod_tangent(t_x, x, ans, axis)


def _cumprod_adjoint(d, x, ans, axis):
    """The adjoint of x from that of cumprod(x): reverse cumulative sums of d * ans / x,
    or, where x has zeros, a backward recurrence that never divides."""
    if axis is None or np.ndim(x) == 0:  # a number's cumprod is a vector of one
        return np.reshape(_cumprod_adjoint(d, np.ravel(x), ans, 0), np.shape(x))
    if np.all(x != 0):
        return np.flip(np.cumsum(np.flip(d * ans, axis), axis=axis), axis) / x
    d, x, ans = (np.moveaxis(np.asarray(a, dtype=float), axis, 0) for a in (d, x, ans))
    out = np.empty_like(x)
    carry = np.zeros_like(x[0])  # sum over j >= k of d_j * prod_{k < i <= j} x_i
    for k in range(len(x) - 1, -1, -1):
        carry = d[k] + (x[k + 1] * carry if k + 1 < len(x) else 0.0)
        out[k] = carry * (ans[k - 1] if k > 0 else 1.0)
    return np.moveaxis(out, 0, axis)


def _cumprod_tangent(t, x, ans, axis):
    """The tangent of cumprod(x) from x's tangent t: the forward recurrence
    t_k = t_{k-1} * x_k + ans_{k-1} * t_x_k, which never divides (exact at zeros)."""
    if axis is None or np.ndim(x) == 0:
        return _cumprod_tangent(np.ravel(np.broadcast_to(t, np.shape(x))), np.ravel(x), ans, 0)
    t, x, ans = (np.moveaxis(np.asarray(a, dtype=float), axis, 0) for a in (np.broadcast_to(t, np.shape(x)), x, ans))
    out = np.empty_like(x)
    for k in range(len(x)):
        out[k] = t[k] if k == 0 else out[k - 1] * x[k] + ans[k - 1] * t[k]
    return np.moveaxis(out, 0, axis)


def _cumprod_tangent_adjoints(d, t, x, prods, axis, out):
    """The adjoints of t, x and prods from d, that of `out = _cumprod_tangent(t, x,
    prods, axis)`: its recurrence out_k = out_{k-1} x_k + prods_{k-1} t_k run
    backwards, carry_k = d_k + x_{k+1} carry_{k+1} (no division: exact at zeros)."""
    shape = np.shape(x)
    if axis is None or np.ndim(x) == 0:
        flat = np.ravel(np.broadcast_to(t, shape))
        d_t, d_x, d_prods = _cumprod_tangent_adjoints(d, flat, np.ravel(x), prods, 0, out)
        return _unbroadcast(np.reshape(d_t, shape), t), np.reshape(d_x, shape), d_prods
    d, full, x, prods, out = (
        np.moveaxis(np.asarray(np.broadcast_to(a, shape), dtype=float), axis, 0) for a in (d, t, x, prods, out)
    )
    carry = np.empty_like(x)
    for k in range(len(x) - 1, -1, -1):
        carry[k] = d[k] + x[k + 1] * carry[k + 1] if k + 1 < len(x) else d[k]
    d_t, d_x, d_prods = carry.copy(), np.zeros_like(x), np.zeros_like(x)
    d_t[1:] *= prods[:-1]
    d_x[1:] = carry[1:] * out[:-1]
    d_prods[:-1] = carry[1:] * full[1:]
    return _unbroadcast(np.moveaxis(d_t, 0, axis), t), np.moveaxis(d_x, 0, axis), np.moveaxis(d_prods, 0, axis)


def _past_first(t, x, axis):
    """t, broadcast to x's shape, with its first element along `axis` (of all of it,
    flattened, for None) set to 0: in `_cumprod_tangent`'s recurrence the first
    step takes t as it is, and the later ones weigh it by the previous products."""
    out = np.array(np.broadcast_to(t, np.shape(x)), dtype=float)
    if axis is None or out.ndim == 0:
        out.reshape(-1)[:1] = 0.0
    else:
        np.moveaxis(out, axis, 0)[:1] = 0.0
    return out


CUMULATIVE = [{"t": (4,), "x": (4,)}, {"t": (2, 3), "x": (2, 3)}, {"t": (), "x": (2, 3)}]


@rule(
    zero_gradient=["axis"],
    checks=[
        ("_cumprod_tangent(t, x, np.cumprod(x), None)", CUMULATIVE),
        ("_cumprod_tangent(t, x, np.cumprod(x, axis=1), 1)", [{"t": (2, 3), "x": (2, 3)}, {"t": (3,), "x": (2, 3)}]),
        ("_cumprod_tangent(t, x * z, np.cumprod(x * z, axis=0), 0)", [{"t": (4,), "x": (4,), "z": [1.0, 0.0, 2.0, 0.0]}]),
    ],
)
def cumprod_tangent(t, x, prods, axis):
    """`_cumprod_tangent(t, x, prods, axis)` in a JVP read back (--mode hvp): the
    second derivative of np.cumprod. It is linear in t and in prods; its tangent
    is three such recurrences."""
    ans = _cumprod_tangent(t, x, prods, axis)
    adjoints = _cumprod_tangent_adjoints(d_ans, t, x, prods, axis, ans)
    d_t = adjoints[0]
    d_x = adjoints[1]
    d_prods = adjoints[2]
    t_ans = _cumprod_tangent(t_t, x, prods, axis) + _cumprod_tangent(_past_first(t_x, x, axis), x, ans, axis) + _cumprod_tangent(_past_first(t, x, axis), x, t_prods, axis)


@rule(
    zero_gradient=["axis"],
    domain={"weights": "positive"},
    checks=[
        ("np.average(x)", [{"x": (3,)}]),
        ("np.average(x, axis=1)", MATRIX),
        ("np.average(x, weights=weights)", [{"x": (4,), "weights": (4,)}]),
        ("np.average(x, axis=0, weights=weights)", [{"x": (2, 3), "weights": (2,)}, {"x": (2, 3), "weights": (2, 3)}]),
        ("np.average(x, axis=1, weights=weights)", [{"x": (2, 3), "weights": (3,)}]),
    ],
)
def average(x, axis=None, weights=None):
    """Weights have x's shape, or are 1-D along `axis`."""
    ans = np.average(x, axis=axis, weights=weights)
    spread = _expand(d_ans, x, axis) if axis is not None else d_ans
    d_x = spread * (np.size(ans) / np.size(x) if weights is None else _average_share(x, axis, weights))
    d_weights = _average_weights_adjoint(spread, x, axis, weights, ans)
    t_ans = np.average(t_x, axis=axis, weights=weights) + _average_weights_tangent(t_weights, x, axis, weights, ans)


def _weights_like(x, axis, weights):
    """The weights broadcastable against x (1-D weights lie along `axis`)."""
    if np.ndim(weights) == 1 and np.ndim(x) > 1:
        shape = [1] * np.ndim(x)
        shape[axis] = np.size(weights)
        return np.reshape(weights, shape)
    return weights


def _average_share(x, axis, weights):
    """d average / d x: each element's weight over the total weight it is averaged with."""
    w = np.broadcast_to(_weights_like(x, axis, weights), np.shape(x))
    return w / np.sum(w, axis=axis, keepdims=True)


def _average_weights_adjoint(spread, x, axis, weights, ans):
    """d average / d weights: (x - average) / total weight, summed onto the weights."""
    w = _weights_like(x, axis, weights)
    total = np.sum(np.broadcast_to(w, np.shape(x)), axis=axis, keepdims=True)
    mean = _expand(ans, x, axis) if axis is not None else ans
    d = np.broadcast_to(spread * (x - mean) / total, np.shape(x))
    return np.reshape(_unbroadcast(d, w), np.shape(weights))


def _average_weights_tangent(t, x, axis, weights, ans):
    """The tangent of the average from its weights' tangent t: the weighted sum of
    (x - average) over the total weight."""
    w = np.broadcast_to(_weights_like(x, axis, weights), np.shape(x))
    mean = _expand(ans, x, axis) if axis is not None else ans
    spread = np.broadcast_to(_weights_like(x, axis, t), np.shape(x)) * (x - mean)
    return np.sum(spread, axis=axis) / np.sum(w, axis=axis)


def _average_weights_tangent_adjoints(d, t, x, axis, weights, mean, out):
    """The adjoints of t, x, weights and mean from d, that of `out =
    _average_weights_tangent(t, x, axis, weights, mean)`, which is the sum of
    t (x - mean) over the total weight."""
    w = _weights_like(x, axis, weights)
    total = np.sum(np.broadcast_to(w, np.shape(x)), axis=axis, keepdims=True)
    spread = (_expand(d, x, axis) if axis is not None else d) / total
    shared = np.broadcast_to(_weights_like(x, axis, t), np.shape(x))
    d_t = np.reshape(_unbroadcast(np.broadcast_to(spread * (x - (_expand(mean, x, axis) if axis is not None else mean)), np.shape(x)), _weights_like(x, axis, t)), np.shape(t))
    d_x = np.broadcast_to(spread * shared, np.shape(x))
    d_mean = -np.sum(np.broadcast_to(spread * shared, np.shape(x)), axis=axis)
    taken = (_expand(out, x, axis) if axis is not None else out) * spread
    d_weights = -np.reshape(_unbroadcast(np.broadcast_to(taken, np.shape(x)), w), np.shape(weights))
    return d_t, d_x, d_weights, d_mean


@rule(
    zero_gradient=["axis"],
    domain={"weights": "positive"},
    checks=[
        ("_average_weights_tangent(t, x, None, weights, np.average(x, weights=weights))", [{"t": (4,), "x": (4,), "weights": (4,)}, {"t": (2, 3), "x": (2, 3), "weights": (2, 3)}]),
        ("_average_weights_tangent(t, x, 0, weights, np.average(x, axis=0, weights=weights))", [{"t": (2,), "x": (2, 3), "weights": (2,)}, {"t": (2, 3), "x": (2, 3), "weights": (2, 3)}]),
        ("_average_weights_tangent(t, x, 1, weights, np.average(x, axis=1, weights=weights))", [{"t": (3,), "x": (2, 3), "weights": (3,)}]),
    ],
)
def average_weights_tangent(t, x, axis, weights, mean):
    """`_average_weights_tangent(t, x, axis, weights, mean)` in a JVP read back
    (--mode hvp): the second derivative of np.average in its weights."""
    ans = _average_weights_tangent(t, x, axis, weights, mean)
    adjoints = _average_weights_tangent_adjoints(d_ans, t, x, axis, weights, mean, ans)
    d_t = adjoints[0]
    d_x = adjoints[1]
    d_weights = adjoints[2]
    d_mean = adjoints[3]
    t_ans = (
        _average_weights_tangent(t_t, x, axis, weights, mean)
        + _average_weights_tangent(t, t_x, axis, weights, t_mean)
        - ans * _average_weights_tangent(t_weights, np.ones_like(x), axis, weights, np.zeros_like(mean))
    )


# -- reductions that skip NaNs, and order statistics (issue 15) ------------------------------

WITH_NAN = [{"x": (2, 3), "z": [[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]}]


@rule(reduction=True, checks=[("np.nanmean(x)", SHAPES), ("np.nanmean(x, axis=0)", MATRIX), ("np.nanmean(x, axis=1, keepdims=True)", MATRIX),
                              ("np.nanmean(np.where(z > 0.0, x, np.nan), axis=1)", WITH_NAN), ("np.nanvar(np.where(z > 0.0, x, np.nan))", WITH_NAN)])
def nanmean(x, axis=None, *, keepdims=False):
    ans = np.nanmean(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    d_x = np.where(np.isnan(x), 0.0, spread / np.sum(~np.isnan(x), axis=axis, keepdims=True))
    t_ans = np.sum(np.where(np.isnan(x), 0.0, t_x), axis=axis, keepdims=keepdims) / np.sum(~np.isnan(x), axis=axis, keepdims=keepdims)


# Not an alias of max's rule: the generated line must stay np.nanmax (np.max of NaNs is NaN).
@rule(reduction=True, domain={"x": "distinct"}, policy="ties split evenly among the maxima; NaNs get 0",
      checks=[("np.nanmax(x)", SHAPES), ("np.nanmax(x, axis=0)", MATRIX), ("np.nanmax(x, axis=1, keepdims=True)", MATRIX), ("np.nanmax(np.where(z > 0.0, x, np.nan), axis=1)", WITH_NAN)])
def nanmax(x, axis=None, *, keepdims=False):
    ans = np.nanmax(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    top = _expand(ans, x, axis) if axis is not None and not keepdims else ans
    chosen = x == top
    d_x = spread * chosen / np.sum(chosen, axis=axis, keepdims=True)
    t_ans = np.sum(t_x * chosen / np.sum(chosen, axis=axis, keepdims=True), axis=axis, keepdims=keepdims)


@rule(reduction=True, domain={"x": "distinct"}, policy="ties split evenly among the minima; NaNs get 0",
      checks=[("np.nanmin(x)", SHAPES), ("np.nanmin(x, axis=0)", MATRIX), ("np.nanmin(x, axis=1, keepdims=True)", MATRIX), ("np.nanmin(np.where(z > 0.0, x, np.nan), axis=0)", WITH_NAN)])
def nanmin(x, axis=None, *, keepdims=False):
    ans = np.nanmin(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    bottom = _expand(ans, x, axis) if axis is not None and not keepdims else ans
    chosen = x == bottom
    d_x = spread * chosen / np.sum(chosen, axis=axis, keepdims=True)
    t_ans = np.sum(t_x * chosen / np.sum(chosen, axis=axis, keepdims=True), axis=axis, keepdims=keepdims)


@rule(reduction=True, policy="exact where x has zeros; NaNs count as 1 and get 0",
      checks=[("np.nanprod(x)", SHAPES), ("np.nanprod(x, axis=0)", MATRIX), ("np.nanprod(x, axis=1, keepdims=True)", MATRIX)])
def nanprod(x, axis=None, *, keepdims=False):
    ans = np.nanprod(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    d_x = np.where(np.isnan(x), 0.0, spread * _prod_of_others(np.where(np.isnan(x), 1.0, x), axis))
    t_ans = np.sum(np.where(np.isnan(x), 0.0, t_x * _prod_of_others(np.where(np.isnan(x), 1.0, x), axis)), axis=axis, keepdims=keepdims)


@rule(reduction=True, checks=[("np.nanvar(x)", MATRIX), ("np.nanvar(x, axis=0)", MATRIX), ("np.nanvar(x, axis=1, ddof=1)", [{"x": (2, 3)}])])
def nanvar(x, axis=None, *, ddof=0, keepdims=False):
    ans = np.nanvar(x, axis=axis, ddof=ddof, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    centered = np.where(np.isnan(x), 0.0, x - np.nanmean(x, axis=axis, keepdims=True))
    count = np.sum(~np.isnan(x), axis=axis, keepdims=True)
    d_x = spread * 2.0 * centered / (count - ddof)
    t_ans = np.sum(np.where(np.isnan(x), 0.0, t_x) * centered, axis=axis, keepdims=keepdims) * 2.0 / (np.sum(~np.isnan(x), axis=axis, keepdims=keepdims) - ddof)


@rule(reduction=True, policy="0 where the spread is exactly 0",
      checks=[("np.nanstd(x)", MATRIX), ("np.nanstd(x, axis=0)", MATRIX), ("np.nanstd(x, axis=1, ddof=1)", [{"x": (2, 3)}])])
def nanstd(x, axis=None, *, ddof=0, keepdims=False):
    ans = np.nanstd(x, axis=axis, ddof=ddof, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    deviation = _expand(ans, x, axis) if axis is not None and not keepdims else ans
    centered = np.where(np.isnan(x), 0.0, x - np.nanmean(x, axis=axis, keepdims=True))
    count = np.sum(~np.isnan(x), axis=axis, keepdims=True)
    d_x = spread * centered / ((count - ddof) * np.where(deviation == 0, 1.0, deviation))
    t_ans = np.sum(np.where(np.isnan(x), 0.0, t_x) * centered, axis=axis, keepdims=keepdims) / ((np.sum(~np.isnan(x), axis=axis, keepdims=keepdims) - ddof) * np.where(ans == 0, 1.0, ans))


@rule(reduction=True, method="ptp", domain={"x": "distinct"}, policy="ties split evenly", checks=[("np.ptp(x)", MATRIX), ("np.ptp(x, axis=0)", MATRIX), ("np.ptp(x, axis=1, keepdims=True)", MATRIX)])
def ptp(x, axis=None, *, keepdims=False):
    """max - min."""
    ans = np.ptp(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    top = x == np.max(x, axis=axis, keepdims=True)
    bottom = x == np.min(x, axis=axis, keepdims=True)
    d_x = spread * (top / np.sum(top, axis=axis, keepdims=True) - bottom / np.sum(bottom, axis=axis, keepdims=True))
    t_ans = np.sum(t_x * (top / np.sum(top, axis=axis, keepdims=True) - bottom / np.sum(bottom, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)


@rule(reduction=True, domain={"x": "distinct"}, policy="where the middle elements tie, the weight is split as the ranks fall",
      checks=[("np.median(x)", [{"x": (3,)}, {"x": (4,)}, {"x": (2, 3)}]), ("np.median(x, axis=0)", [{"x": (3, 2)}, {"x": (4, 2)}]), ("np.median(x, axis=1, keepdims=True)", MATRIX)])
def median(x, axis=None, *, keepdims=False):
    """The middle element (the mean of the two middle ones for an even count)."""
    ans = np.median(x, axis=axis, keepdims=keepdims)
    spread = _expand(d_ans, x, axis) if axis is not None and not keepdims else d_ans
    d_x = spread * _median_weights(x, axis)
    t_ans = np.sum(t_x * _median_weights(x, axis), axis=axis, keepdims=keepdims)


def _median_weights(x, axis):
    """Each element's weight in the median along `axis` (all of x for None): 1 for
    the middle one, 1/2 for each of the two middle ones, else 0."""
    x = np.asarray(x, dtype=float)
    if axis is None:
        return np.reshape(_median_weights(np.ravel(x), 0), np.shape(x))
    ranks = np.argsort(np.argsort(x, axis=axis, kind="stable"), axis=axis, kind="stable")
    n = np.shape(x)[axis]
    return ((ranks == (n - 1) // 2) * 1.0 + (ranks == n // 2) * 1.0) / 2.0


# (not the method: `x.sort()` sorts x in place and gives None)
@rule(domain={"x": "distinct"}, policy="tied elements keep their order (a stable sort)",
      checks=[("np.sort(x)", [{"x": (4,)}, {"x": (2, 3)}]), ("np.sort(x, axis=0)", [{"x": (3, 2)}]), ("np.sort(x, axis=None)", [{"x": (2, 3)}])])
def sort(x, axis=-1):
    ans = np.sort(x, axis=axis)
    d_x = _unsort(d_ans, x, axis)
    t_ans = _sorted_like(t_x, x, axis)


def _sorted_like(t, x, axis):
    """t ordered as np.sort orders x (stable)."""
    if axis is None:
        return np.ravel(t)[np.argsort(np.ravel(x), kind="stable")]
    return np.take_along_axis(np.broadcast_to(t, np.shape(x)), np.argsort(x, axis=axis, kind="stable"), axis)


def _unsort(d, x, axis):
    """d, the adjoint of np.sort(x), put back where the sorted elements came from."""
    if axis is None:
        out = np.zeros(np.size(x))
        out[np.argsort(np.ravel(x), kind="stable")] = d
        return np.reshape(out, np.shape(x))
    out = np.zeros(np.shape(x))
    np.put_along_axis(out, np.argsort(x, axis=axis, kind="stable"), d, axis)
    return out


@rule(
    zero_gradient=["kth"],
    domain={"a": "distinct"},
    policy="tied elements: each gets the adjoint of one of the places its value holds",
    checks=[("np.partition(a, 2)", [{"a": (5,)}, {"a": (3, 6)}]), ("np.partition(a, (0, 3), axis=0)", [{"a": (5, 2)}]),
            ("np.partition(a, 4, axis=None)", [{"a": (2, 3)}])],
)
def partition(a, kth, axis=-1):
    """a with its kth element where sorting would put it, smaller ones before and
    larger ones after. NumPy does not say where each other element goes (argpartition
    may order them otherwise), so the adjoint finds where each element of the result
    came from by its value."""
    ans = np.partition(a, kth, axis=axis)
    d_a = _from_places(d_ans, a, ans, axis)
    t_ans = _to_places(t_a, a, ans, axis)


def _places(a, ans, axis):
    """Indices p along axis (of a, raveled where axis is None) with a[p] == ans: the
    i-th smallest of ans came from the i-th smallest of a."""
    if axis is None:
        a, ans, axis = np.ravel(a), np.ravel(ans), 0
    places = np.empty(np.shape(ans), dtype=np.intp)
    np.put_along_axis(places, np.argsort(ans, axis=axis, kind="stable"), np.argsort(a, axis=axis, kind="stable"), axis)
    return places, axis


def _from_places(d, a, ans, axis):
    """The adjoint of a from d, the adjoint of ans, a permutation of a along axis."""
    places, along = _places(a, ans, axis)
    out = np.zeros(np.shape(places))
    np.put_along_axis(out, places, np.broadcast_to(d, np.shape(places)), along)
    return np.reshape(out, np.shape(a))


def _to_places(t, a, ans, axis):
    """The tangent of ans from t, a's tangent."""
    places, along = _places(a, ans, axis)
    t = np.broadcast_to(t, np.shape(a))
    return np.take_along_axis(np.ravel(t) if axis is None else t, places, along)


@rule(zero_gradient=["dx", "axis"], checks=[("np.trapezoid(y)", [{"y": (4,)}, {"y": (2, 3)}]), ("np.trapezoid(y, dx=0.5, axis=0)", [{"y": (3, 2)}]),
                                           ("np.trapezoid(y, x)", [{"y": (4,), "x": (4,)}, {"y": (2, 3), "x": (3,)}])])
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of y by the trapezoid rule, over points x (or spacing dx)."""
    ans = np.trapezoid(y, x=x, dx=dx, axis=axis)
    d_y = _expand(d_ans, y, axis) * _trapezoid_weights(y, x, dx, axis)
    d_x = _trapezoid_x_adjoint(d_ans, y, x, axis)
    t_ans = np.sum(t_y * _trapezoid_weights(y, x, dx, axis), axis=axis) + _trapezoid_x_tangent(t_x, y, x, axis)


def _trapezoid_weights(y, x, dx, axis):
    """Each y's weight in the trapezoid sum, shaped to broadcast against y: half of
    each neighbouring step (dx, or the differences of the points x)."""
    n = np.shape(y)[axis]
    if x is None:
        steps = np.full(max(n - 1, 0), float(dx))
    else:
        steps = np.diff(np.moveaxis(np.asarray(x, dtype=float), axis if np.ndim(x) > 1 else -1, -1), axis=-1)
    w = np.zeros(np.shape(steps)[:-1] + (n,))
    w[..., :-1] += steps / 2.0
    w[..., 1:] += steps / 2.0
    if w.ndim > 1:
        return np.moveaxis(w, -1, axis)
    return np.reshape(w, (n,) + (1,) * (np.ndim(y) - 1 - axis % np.ndim(y)))


def _trapezoid_x_adjoint(d, y, x, axis):
    """The adjoint of the points x: each step (x[i+1] - x[i]) weighs (y[i] + y[i+1]) / 2."""
    y = np.moveaxis(np.asarray(y, dtype=float), axis, -1)
    mean = (y[..., 1:] + y[..., :-1]) / 2.0
    per_step = np.expand_dims(d, -1) * mean
    out = np.zeros(np.shape(y))
    out[..., 1:] += per_step
    out[..., :-1] -= per_step
    if np.ndim(x) == 1:
        return np.reshape(np.sum(out, axis=tuple(range(out.ndim - 1))), np.shape(x))
    return np.moveaxis(out, -1, axis)


def _trapezoid_x_tangent(t, y, x, axis):
    """The trapezoid sum's tangent from its points' tangent t."""
    y = np.moveaxis(np.asarray(y, dtype=float), axis, -1)
    t = np.broadcast_to(t, np.shape(x))
    t = t if np.ndim(x) == 1 else np.moveaxis(t, axis, -1)
    return np.sum(np.diff(t, axis=-1) * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)


@rule(zero_gradient=True, checks=[("x * _median_weights(x, 0)", [{"x": (3,)}, {"x": (4, 2)}])], domain={"x": "distinct"})
def median_weights(x, axis):
    """`_median_weights(x, axis)` in a JVP read back (--mode hvp): locally constant."""
    ans = _median_weights(x, axis)


@rule(linear=True, zero_gradient=["x", "axis"], domain={"x": "distinct"},
      checks=[("_sorted_like(t, x, -1)", [{"t": (4,), "x": (4,)}, {"t": (2, 3), "x": (2, 3)}], ["t"]), ("_sorted_like(t, x, None)", [{"t": (2, 3), "x": (2, 3)}], ["t"])])
def sorted_like(t, x, axis):
    """`_sorted_like(t, x, axis)` in a JVP read back (--mode hvp): t ordered as x sorts."""
    ans = _sorted_like(t, x, axis)
    d_t = _unbroadcast(_unsort(d_ans, x, axis), t)


@rule(linear=True, zero_gradient=["a", "partitioned", "axis"], domain={"a": "distinct"},
      checks=[("_to_places(t, a, np.partition(a, 1), -1)", [{"t": (4,), "a": (4,)}, {"t": (2, 3), "a": (2, 3)}], ["t"])])
def to_places(t, a, partitioned, axis):
    """`_to_places(t, a, partitioned, axis)` in a JVP read back (--mode hvp): t
    permuted as np.partition permuted a."""
    ans = _to_places(t, a, partitioned, axis)
    d_t = _unbroadcast(_from_places(d_ans, a, partitioned, axis), t)


@rule(
    zero_gradient=["ord", "axis"],
    requires="ord not in ('nuc', 2, -2)",
    domain={"x": "distinct", "norms": "positive"},
    checks=[
        ("_norm_slope(x, None, None, norms)", [{"x": (3,), "norms": ()}, {"x": (2, 3), "norms": ()}]),
        ("_norm_slope(x, None, 1, norms)", [{"x": (2, 3), "norms": (2,)}]),
        ("_norm_slope(x, 3, None, norms)", [{"x": (4,), "norms": ()}]),
        ("_norm_slope(x, 0.5, 0, norms)", [{"x": (2, 3), "norms": (3,)}]),
        ("x * _norm_slope(x, 1, None, norms)", [{"x": (4,), "norms": ()}]),
        ("x * _norm_slope(x, np.inf, None, norms)", [{"x": (3, 4), "norms": ()}]),
    ],
)
def norm_slope(x, ord, axis, norms):
    """`_norm_slope(x, ord, axis, norms)` in a JVP read back (--mode hvp): the second
    derivative of the norms. Each slope element depends on its own x and on its norm:
    x / norm (2-norms), sign(x) |x|^(p-1) / norm^(p-1) (p-norms); piecewise constant
    for ord 1, inf, -inf, 0 and the matrix norms 1, -1, inf, -inf. (ord 2 and -2 on a
    matrix and 'nuc' are refused here.)"""
    ans = _norm_slope(x, ord, axis, norms)
    d_x = d_ans * _norm_slope_parts(x, ord, axis, norms)[0]
    d_norms = _norm_reduced(d_ans * _norm_slope_parts(x, ord, axis, norms)[1], x, axis, norms)
    t_ans = t_x * _norm_slope_parts(x, ord, axis, norms)[0] + _norm_spread(t_norms, x, axis) * _norm_slope_parts(x, ord, axis, norms)[1]


def _norm_spread(v, x, axis):
    """A value per norm, put back along the axes reduced (to broadcast against x)."""
    if axis is None or np.ndim(v) == np.ndim(x):
        return v
    return np.expand_dims(v, axis)


def _norm_reduced(v, x, axis, norms):
    """v (x's shape) summed over the axes each norm reduced, to the norms' shape."""
    return np.reshape(_unbroadcast(v, _norm_spread(norms, x, axis)), np.shape(norms))


def _norm_slope_parts(x, ord, axis, norms):
    """(d slope / d x, d slope / d norm), elementwise, for _norm_slope's rule."""
    x = np.asarray(x, dtype=float)
    top = _norm_spread(norms, x, axis)
    safe = np.where(top == 0, 1.0, top)
    if ord is None or ord == "fro" or ord == 2:
        return 1.0 / safe, -x / safe**2
    if ord in (1, -1, 0, np.inf, -np.inf):
        return np.zeros(np.shape(x)), np.zeros(np.shape(x))
    slope = np.sign(x) * (np.abs(x) / safe) ** (ord - 1.0)
    return (ord - 1.0) * np.abs(x) ** (ord - 2.0) / safe ** (ord - 1.0), -(ord - 1.0) * slope / safe
