"""Products, contractions and matrix functions.

Rules here take full-shape adjoints; their helpers sum over broadcast batch axes
themselves."""

import numpy as np

MATRICES = [
    {"x": (3,), "y": (3,)},
    {"x": (2, 3), "y": (3,)},
    {"x": (3,), "y": (3, 4)},
    {"x": (2, 3), "y": (3, 4)},
]


@rule(
    aliases=["numpy.matmul"],
    checks=[
        ("x @ y", MATRICES + [{"x": (5, 2, 3), "y": (3, 4)}, {"x": (2, 3), "y": (5, 3, 4)}, {"x": (3,), "y": (5, 3, 2)}, {"x": (5, 2, 3), "y": (3,)}]),
        ("np.matmul(x, y)", [{"x": (2, 3), "y": (3, 2)}]),
    ],
)
def matmul(x, y):
    ans = x @ y
    d_x = _matmul_dx(d_ans, x, y)
    d_y = _matmul_dy(d_ans, x, y)


def _matmul_dx(d, x, y):
    """The adjoint of x in x @ y, with matmul's promotion of vectors; axes that x
    was broadcast along are summed."""
    if np.ndim(x) <= 2 and np.ndim(y) <= 2:  # no batch axes: the plain products
        if np.ndim(y) == 1:
            return d * y if np.ndim(x) == 1 else np.outer(d, y)
        return y @ d if np.ndim(x) == 1 else d @ np.swapaxes(y, -1, -2)
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return d * y
    if np.ndim(y) == 1:
        return _unbroadcast(np.expand_dims(d, -1) * y, x)
    if np.ndim(x) == 1:
        return _unbroadcast(np.expand_dims(d, -2) @ np.swapaxes(y, -1, -2), x[np.newaxis])[0]
    return _unbroadcast(d @ np.swapaxes(y, -1, -2), x)


def _matmul_dy(d, x, y):
    """The adjoint of y in x @ y (see _matmul_dx)."""
    if np.ndim(x) <= 2 and np.ndim(y) <= 2:  # no batch axes: the plain products
        if np.ndim(x) == 1:
            return d * x if np.ndim(y) == 1 else np.outer(x, d)
        return np.swapaxes(x, -1, -2) @ d
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return d * x
    if np.ndim(x) == 1:
        return _unbroadcast(np.expand_dims(x, -1) * np.expand_dims(d, -2), y)
    if np.ndim(y) == 1:
        return _unbroadcast(np.swapaxes(x, -1, -2) @ np.expand_dims(d, -1), y[:, np.newaxis])[:, 0]
    return _unbroadcast(np.swapaxes(x, -1, -2) @ d, y)


@rule(
    method="dot",
    checks=[
        ("np.dot(x, y)", MATRICES + [{"x": (), "y": (3,)}, {"x": (2, 3), "y": ()}, {"x": (2, 2, 3), "y": (4, 3, 2)}]),
        ("x.dot(y)", [{"x": (2, 3), "y": (3,)}]),
    ],
)
def dot(x, y):
    ans = np.dot(x, y)
    d_x = _dot_dx(d_ans, x, y)
    d_y = _dot_dy(d_ans, x, y)


def _dot_axes(x, y):
    return [np.ndim(x) - 1], [max(np.ndim(y) - 2, 0)]


def _dot_dx(d, x, y):
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return _unbroadcast(d * y, x)
    return _tensordot_dx(d, x, y, _dot_axes(x, y))


def _dot_dy(d, x, y):
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return _unbroadcast(d * x, y)
    return _tensordot_dy(d, x, y, _dot_axes(x, y))


@rule(
    zero_gradient=["axes"],
    checks=[
        ("np.tensordot(x, y)", [{"x": (2, 3, 4), "y": (3, 4, 2)}]),
        ("np.tensordot(x, y, axes=1)", [{"x": (2, 3), "y": (3, 4)}]),
        ("np.tensordot(x, y, axes=([0, 2], [2, 0]))", [{"x": (2, 3, 4), "y": (4, 5, 2)}]),
        ("np.tensordot(x, y, axes=0)", [{"x": (2,), "y": (3,)}]),
    ],
)
def tensordot(x, y, axes=2):
    ans = np.tensordot(x, y, axes=axes)
    d_x = _tensordot_dx(d_ans, x, y, axes)
    d_y = _tensordot_dy(d_ans, x, y, axes)


def _tensordot_axes(x, y, axes):
    """tensordot's `axes` as two lists of contracted axes, non-negative."""
    if np.ndim(axes) == 0:
        return list(range(np.ndim(x) - axes, np.ndim(x))), list(range(axes))
    ax, ay = axes
    return [a % np.ndim(x) for a in np.atleast_1d(ax)], [a % np.ndim(y) for a in np.atleast_1d(ay)]


def _tensordot_dx(d, x, y, axes):
    ax, ay = _tensordot_axes(x, y, axes)
    free_x = [i for i in range(np.ndim(x)) if i not in ax]
    free_y = [i for i in range(np.ndim(y)) if i not in ay]
    dx = np.tensordot(d, y, axes=(list(range(len(free_x), np.ndim(d))), free_y))
    order = free_x + [ax[ay.index(a)] for a in sorted(ay)]
    return np.transpose(dx, np.argsort(order))


def _tensordot_dy(d, x, y, axes):
    ax, ay = _tensordot_axes(x, y, axes)
    free_x = [i for i in range(np.ndim(x)) if i not in ax]
    free_y = [i for i in range(np.ndim(y)) if i not in ay]
    dy = np.tensordot(x, d, axes=(free_x, list(range(len(free_x)))))
    order = [ay[ax.index(a)] for a in sorted(ax)] + free_y
    return np.transpose(dy, np.argsort(order))


@rule(checks=[("np.vdot(x, y)", [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (6,)}])])
def vdot(x, y):
    ans = np.vdot(x, y)
    d_x = d_ans * np.reshape(y, np.shape(x))
    d_y = d_ans * np.reshape(x, np.shape(y))


@rule(checks=[("np.inner(x, y)", [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (4, 3)}, {"x": (), "y": (3,)}])])
def inner(x, y):
    ans = np.inner(x, y)
    d_x = _unbroadcast(d_ans * y, x) if np.ndim(x) == 0 or np.ndim(y) == 0 else _tensordot_dx(d_ans, x, y, ([np.ndim(x) - 1], [np.ndim(y) - 1]))
    d_y = _unbroadcast(d_ans * x, y) if np.ndim(x) == 0 or np.ndim(y) == 0 else _tensordot_dy(d_ans, x, y, ([np.ndim(x) - 1], [np.ndim(y) - 1]))


@rule(checks=[("np.outer(x, y)", [{"x": (3,), "y": (2,)}, {"x": (2, 2), "y": (3,)}])])
def outer(x, y):
    ans = np.outer(x, y)
    d_x = np.reshape(d_ans @ np.ravel(y), np.shape(x))
    d_y = np.reshape(np.ravel(x) @ d_ans, np.shape(y))


@rule(
    zero_gradient=["subscripts"],
    checks=[
        ("np.einsum('ij,jk->ik', x, y)", [{"x": (2, 3), "y": (3, 4)}]),
        ("np.einsum('ij,ij->i', x, y)", [{"x": (2, 3), "y": (2, 3)}]),
        ("np.einsum('i,j->ij', x, y)", [{"x": (2,), "y": (3,)}]),
        ("np.einsum('ijk->kj', x)", [{"x": (2, 3, 4)}]),
        ("np.einsum('bij,bjk,k->bi', x, y, z)", [{"x": (2, 2, 3), "y": (2, 3, 4), "z": (4,)}]),
        ("np.einsum('ij,jk', x, y)", [{"x": (2, 3), "y": (3, 2)}]),
    ],
)
def einsum(subscripts, *operands):
    """Explicit subscripts (or implicit ones); no '...' and no index repeated within
    one operand (use np.trace or np.diagonal for those)."""
    ans = np.einsum(subscripts, *operands)
    d_operands = [_einsum_adjoint(d_ans, subscripts, operands, i) for i in range(len(operands))]


def _einsum_adjoint(d, subscripts, operands, i):
    """The adjoint of operand i: an einsum of d with the other operands."""
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise NotImplementedError("the adjoint of np.einsum with '...': write the indices out")
    inputs, arrow, output = spec.partition("->")
    inputs = inputs.split(",")
    if not arrow:
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    mine = inputs[i]
    if len(set(mine)) != len(mine):
        raise NotImplementedError(f"the adjoint of np.einsum with a repeated index in {mine!r}")
    terms, args = [output], [d]
    for j, (term, operand) in enumerate(zip(inputs, operands)):
        if j != i:
            terms.append(term)
            args.append(operand)
    present = set("".join(terms))
    for position, letter in enumerate(mine):
        if letter not in present:  # summed in this operand alone: the adjoint is constant along it
            terms.append(letter)
            args.append(np.ones(np.shape(operands[i])[position]))
    return np.einsum(",".join(terms) + "->" + mine, *args)


@rule(
    method="trace",
    zero_gradient=["offset", "axis1", "axis2"],
    checks=[("np.trace(x)", [{"x": (3, 3)}, {"x": (2, 4)}]), ("np.trace(x, 1)", [{"x": (3, 3)}]), ("np.trace(x, 0, 1, 2)", [{"x": (2, 3, 3)}]), ("x.trace()", [{"x": (2, 2)}])],
)
def trace(x, offset=0, axis1=0, axis2=1):
    ans = np.trace(x, offset=offset, axis1=axis1, axis2=axis2)
    d_x = _trace_adjoint(d_ans, x, offset, axis1, axis2)


def _trace_adjoint(d, x, offset, axis1, axis2):
    shape = np.shape(x)
    eye = np.eye(shape[axis1], shape[axis2], k=offset)
    spread = np.expand_dims(np.expand_dims(d, -1), -1) * eye
    return np.moveaxis(spread, (-2, -1), (axis1 % len(shape), axis2 % len(shape)))


@rule(zero_gradient=["k"], checks=[("np.diag(x)", [{"x": (3,)}, {"x": (3, 3)}, {"x": (2, 4)}]), ("np.diag(x, 1)", [{"x": (3,)}, {"x": (3, 4)}]), ("np.diag(x, -1)", [{"x": (4, 3)}])])
def diag(x, k=0):
    ans = np.diag(x, k=k)
    d_x = _diag_adjoint(d_ans, x, k)


def _diag_adjoint(d, x, k):
    """np.diag builds a matrix from a vector and takes the diagonal of a matrix."""
    if np.ndim(x) == 1:
        return np.diag(d, k)
    out = np.zeros(np.shape(x))
    n = np.arange(np.size(d))
    out[n + max(-k, 0), n + max(k, 0)] = d
    return out


@rule(domain={"x": "invertible"}, checks=[("np.linalg.inv(x)", [{"x": (3, 3)}, {"x": (2, 2, 2)}])])
def inv(x):
    ans = np.linalg.inv(x)
    d_x = -np.swapaxes(ans, -1, -2) @ d_ans @ np.swapaxes(ans, -1, -2)


SINGULAR = [{"x": (3, 3), "z": [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]}, {"x": (2, 2, 2), "z": [[0.0, 0.0], [1.0, 1.0]]}]


@rule(
    domain={"x": "invertible"},
    checks=[("np.linalg.det(x)", [{"x": (3, 3)}, {"x": (2, 2, 2)}]), ("np.linalg.det(x * z)", SINGULAR)],
    policy="at a singular x, the cofactors (exact: det is a polynomial)",
)
def det(x):
    ans = np.linalg.det(x)
    d_x = np.expand_dims(d_ans, (-2, -1)) * _cofactors(x, ans)


def _cofactors(x, det):
    """The cofactor matrices of x, d det(x) / dx: det(x) * inv(x).T, or where some x
    is singular (no inverse), from the SVD x = u s vt: det(u) det(vt) u diag(the
    product of the other singular values) vt, transposed back."""
    try:
        return np.expand_dims(det, (-2, -1)) * np.swapaxes(np.linalg.inv(x), -1, -2)
    except np.linalg.LinAlgError:
        u, s, vt = np.linalg.svd(x)
        others = _prod_of_others(s, -1)
        sign = np.linalg.det(u) * np.linalg.det(vt)
        return np.expand_dims(sign, (-2, -1)) * (u * np.expand_dims(others, -2)) @ vt


@rule(
    domain={"x": "invertible"},
    aliases=["numpy.linalg.slogdet.logabsdet"],
    checks=[("np.linalg.slogdet(x)[1]", [{"x": (3, 3)}, {"x": (2, 2, 2)}]), ("np.linalg.slogdet(x).logabsdet", [{"x": (2, 2)}])],
)
def logabsdet(x):
    """The log of |det(x)|: `np.linalg.slogdet(x)[1]` or `.logabsdet`."""
    ans = np.linalg.slogdet(x)[1]
    d_x = np.expand_dims(d_ans, (-2, -1)) * np.swapaxes(np.linalg.inv(x), -1, -2)


@rule(
    zero_gradient=True,
    aliases=["numpy.linalg.slogdet.sign"],
    checks=[("x * np.linalg.slogdet(x)[0]", [{"x": (2, 2)}])],
)
def sign_of_det(x):
    """The sign of det(x): `np.linalg.slogdet(x)[0]` or `.sign`."""
    ans = np.linalg.slogdet(x)[0]


@rule(
    domain={"a": "invertible"},
    checks=[("np.linalg.solve(a, b)", [{"a": (3, 3), "b": (3,)}, {"a": (3, 3), "b": (3, 2)}, {"a": (2, 3, 3), "b": (3, 2)}])],
)
def solve(a, b):
    ans = np.linalg.solve(a, b)
    lam = np.linalg.solve(np.swapaxes(a, -1, -2), d_ans)
    d_b = _unbroadcast(lam, b)
    d_a = _unbroadcast(-(np.expand_dims(lam, -1) * np.expand_dims(ans, -2) if np.ndim(b) == 1 else lam @ np.swapaxes(ans, -1, -2)), a)
