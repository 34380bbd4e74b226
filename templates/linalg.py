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
    multilinear=True,
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
    multilinear=True,
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
    multilinear=True,
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


@rule(multilinear=True, checks=[("np.vdot(x, y)", [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (6,)}])])
def vdot(x, y):
    ans = np.vdot(x, y)
    d_x = d_ans * np.reshape(y, np.shape(x))
    d_y = d_ans * np.reshape(x, np.shape(y))


@rule(multilinear=True, checks=[("np.inner(x, y)", [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (4, 3)}, {"x": (), "y": (3,)}])])
def inner(x, y):
    ans = np.inner(x, y)
    d_x = _unbroadcast(d_ans * y, x) if np.ndim(x) == 0 or np.ndim(y) == 0 else _tensordot_dx(d_ans, x, y, ([np.ndim(x) - 1], [np.ndim(y) - 1]))
    d_y = _unbroadcast(d_ans * x, y) if np.ndim(x) == 0 or np.ndim(y) == 0 else _tensordot_dy(d_ans, x, y, ([np.ndim(x) - 1], [np.ndim(y) - 1]))


@rule(multilinear=True, checks=[("np.outer(x, y)", [{"x": (3,), "y": (2,)}, {"x": (2, 2), "y": (3,)}])])
def outer(x, y):
    ans = np.outer(x, y)
    d_x = np.reshape(d_ans @ np.ravel(y), np.shape(x))
    d_y = np.reshape(np.ravel(x) @ d_ans, np.shape(y))


@rule(
    multilinear=True,
    checks=[
        ("np.einsum('ij,jk->ik', x, y)", [{"x": (2, 3), "y": (3, 4)}]),
        ("np.einsum('ij,ij->i', x, y)", [{"x": (2, 3), "y": (2, 3)}]),
        ("np.einsum('i,j->ij', x, y)", [{"x": (2,), "y": (3,)}]),
        ("np.einsum('ijk->kj', x)", [{"x": (2, 3, 4)}]),
        ("np.einsum('bij,bjk,k->bi', x, y, z)", [{"x": (2, 2, 3), "y": (2, 3, 4), "z": (4,)}]),
        ("np.einsum('ij,jk', x, y)", [{"x": (2, 3), "y": (3, 2)}]),
        ("np.einsum('ba', x)", [{"x": (2, 3)}]),
        ("np.einsum('ii->i', x)", [{"x": (3, 3)}]),
        ("np.einsum('ii', x)", [{"x": (3, 3)}]),
        ("np.einsum('iji->j', x)", [{"x": (2, 3, 2)}]),
        ("np.einsum('ii,i->i', x, y)", [{"x": (3, 3), "y": (3,)}]),
        ("np.einsum('i,i', x, x)", [{"x": (3,)}]),
        ("np.einsum('...ij,...jk->...ik', x, y)", [{"x": (2, 2, 3), "y": (2, 3, 2)}, {"x": (2, 3), "y": (4, 3, 2)}, {"x": (1, 2, 3), "y": (4, 3, 2)}]),
        ("np.einsum('...i,...i', x, y)", [{"x": (2, 3), "y": (3,)}]),
        ("np.einsum('i...->...', x)", [{"x": (2, 3, 4)}]),
        ("np.einsum('ij,kj->ikj', x, y)", [{"x": (1, 3), "y": (2, 3)}]),
        ("np.einsum(x, [0], [])", [{"x": (3,)}]),
        ("np.einsum(x, [0, 1], y, [1, 2], [0, 2])", [{"x": (2, 3), "y": (3, 2)}]),
        ("np.einsum(x, [0], x, [0])", [{"x": (3,)}]),
        ("np.einsum(x, [0, 0])", [{"x": (3, 3)}]),
        ("np.einsum(x, [..., 0], y, [0])", [{"x": (2, 3), "y": (3,)}]),
        ("np.einsum('i,->i', x, y)", [{"x": (3,), "y": ()}]),
    ],
)
def einsum(*operands):
    """Either form: subscripts then operands (`'ij,jk->ik', x, y`, implicit output,
    '...', an index repeated within one operand), or operands each followed by its
    sublist (`x, [0, 1], y, [1, 2], [0, 2]`)."""
    ans = np.einsum(*operands)
    d_operands = _einsum_adjoints(d_ans, operands)


def _einsum_spec(operands):
    """np.einsum's arguments as (arrays, their positions in `operands`, each one's
    labels, the output's labels), labels being ints (A-Z 0-25, a-z 26-51, as NumPy
    numbers them), with '...' written out."""
    if isinstance(operands[0], str):
        inputs, arrow, output = operands[0].replace(" ", "").partition("->")
        terms, positions = [_einsum_labels(t) for t in inputs.split(",")], list(range(1, len(operands)))
        output = _einsum_labels(output) if arrow else None
    else:
        positions = list(range(0, len(operands) - 1, 2))
        terms = [_einsum_labels(operands[k + 1]) for k in positions]
        output = _einsum_labels(operands[-1]) if len(operands) % 2 else None
    arrays = [operands[k] for k in positions]
    if output is None:  # implicit: '...' first, then the labels used once, in order
        used = [t for term in terms for t in term if t is not Ellipsis]
        output = ([Ellipsis] if any(Ellipsis in t for t in terms) else []) + sorted(
            t for t in set(used) if used.count(t) == 1
        )
    free = [t for t in range(52) if t not in {u for term in terms + [output] for u in term}]
    dims = [np.ndim(a) - (len(t) - 1) if Ellipsis in t else 0 for a, t in zip(arrays, terms)]
    broadcast = free[: max(dims, default=0)]
    expanded = [_einsum_expand(t, broadcast[len(broadcast) - n :]) for t, n in zip(terms, dims)]
    return arrays, positions, expanded, _einsum_expand(output, broadcast)


def _einsum_labels(term):
    """A term's labels as ints ('...' stays Ellipsis)."""
    if isinstance(term, str):
        term = term.replace("...", ".")
        return [Ellipsis if c == "." else (ord(c) - 65 if c < "a" else ord(c) - 71) for c in term]
    return [Ellipsis if t is Ellipsis else int(t) for t in term]


def _einsum_expand(term, labels):
    """The term with its '...' replaced by `labels`."""
    if Ellipsis not in term:
        return term
    k = term.index(Ellipsis)
    return term[:k] + labels + term[k + 1 :]


def _einsum_adjoints(d, operands):
    """The adjoint of each argument of np.einsum (None for subscripts and sublists):
    for an array, the einsum of d with the other arrays onto its own labels; a label
    found nowhere else is a sum, constant along it (an einsum with ones); a label the
    array has twice (a diagonal) takes the adjoint on that diagonal only; an axis of
    length 1 that einsum broadcast is summed back."""
    arrays, positions, terms, output = _einsum_spec(operands)
    out = [None] * len(operands)
    for i, (x, term) in enumerate(zip(arrays, terms)):
        size = dict(zip(term, np.shape(x)))
        unique = list(dict.fromkeys(term))
        args, present = [d, output], set(output)
        for j, (other, labels) in enumerate(zip(arrays, terms)):
            if j != i:
                args += [other, labels]
                present.update(labels)
        for label in unique:
            if label not in present:
                args += [np.ones(size[label]), [label]]
        g = np.einsum(*args, unique)
        spread = tuple(k for k, label in enumerate(unique) if size[label] == 1 and np.shape(g)[k] != 1)
        g = np.sum(g, axis=spread, keepdims=True) if spread else g
        if len(unique) == len(term):
            out[positions[i]] = g
        else:
            full = np.zeros(np.shape(x))
            np.einsum(full, term, unique)[...] = g  # a writeable view of the diagonal
            out[positions[i]] = full
    return out


@rule(
    linear=True,
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


@rule(linear=True, zero_gradient=["k"], checks=[("np.diag(x)", [{"x": (3,)}, {"x": (3, 3)}, {"x": (2, 4)}]), ("np.diag(x, 1)", [{"x": (3,)}, {"x": (3, 4)}]), ("np.diag(x, -1)", [{"x": (4, 3)}])])
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
    t_ans = -(ans @ t_x @ ans)


SINGULAR = [{"x": (3, 3), "z": [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]}, {"x": (2, 2, 2), "z": [[0.0, 0.0], [1.0, 1.0]]}]


@rule(
    domain={"x": "invertible"},
    checks=[("np.linalg.det(x)", [{"x": (3, 3)}, {"x": (2, 2, 2)}]), ("np.linalg.det(x * z)", SINGULAR)],
    policy="at a singular x, the cofactors (exact: det is a polynomial)",
)
def det(x):
    ans = np.linalg.det(x)
    d_x = np.expand_dims(d_ans, (-2, -1)) * _cofactors(x, ans)
    t_ans = np.sum(_cofactors(x, ans) * t_x, axis=(-2, -1))


def _cofactors(x, det):
    """The cofactor matrices of x, d det(x) / dx: det(x) * inv(x).T, or where some x
    is singular (no inverse), from the SVD x = u s vt: det(u) det(vt) u diag(the
    product of the other singular values) vt, transposed back."""
    if np.all(det != 0):  # (a zero pivot makes both det 0 and inv raise)
        return np.expand_dims(det, (-2, -1)) * np.swapaxes(np.linalg.inv(x), -1, -2)
    u, s, vt = np.linalg.svd(x)
    others = _prod_of_others(s, -1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    return np.expand_dims(sign, (-2, -1)) * (u * np.expand_dims(others, -2)) @ vt


def _cofactors_slope(x, g):
    """The derivative of `_cofactors(x, det)` applied to g: det's Hessian (symmetric,
    so it gives the tangent and the adjoint), exact at singular x too. With the SVD
    x = u s vt, det(x + e) = sign det(s + u.T e vt.T), whose second-order part is
    the sum over pairs i < j of q_ij (e_ii e_jj - e_ij e_ji), where q_ij is the
    product of the singular values other than s_i and s_j."""
    u, s, vt = np.linalg.svd(x)
    n = np.shape(s)[-1]
    sign = np.linalg.det(u) * np.linalg.det(vt)
    rotated = np.swapaxes(u, -1, -2) @ g @ np.swapaxes(vt, -1, -2)
    eye = np.eye(n, dtype=bool)
    rows = np.where(eye, 1.0, np.expand_dims(s, -2))  # row j: s with s_j taken as 1
    pairs = np.where(eye, 0.0, _prod_of_others(rows, -1))  # q_ij, 0 on the diagonal
    diagonal = np.diagonal(rotated, axis1=-2, axis2=-1)
    inner = -pairs * np.swapaxes(rotated, -1, -2) + eye * np.expand_dims(np.sum(pairs * np.expand_dims(diagonal, -2), axis=-1), -1)
    return np.expand_dims(sign, (-2, -1)) * (u @ inner @ vt)


@rule(
    zero_gradient=["det"],
    checks=[
        ("_cofactors(x, np.linalg.det(x))", [{"x": (1, 1)}, {"x": (3, 3)}, {"x": (2, 2, 2)}], ["x"]),
        # x @ z keeps z's rank n - 1 along every direction (tests/test_hvp.py checks ranks n - 2, n - 3)
        ("_cofactors(x @ z, np.linalg.det(x @ z))", [{"x": (3, 3), "z": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]}, {"x": (4, 4), "z": [[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]]}], ["x"]),
    ],
)
def cofactors(x, det):
    """`_cofactors(x, det)`, d det(x) / dx, in a JVP read back (--mode hvp): the
    second derivative of np.linalg.det."""
    ans = _cofactors(x, det)
    d_x = _cofactors_slope(x, d_ans)
    t_ans = _cofactors_slope(x, t_x)


@rule(
    domain={"x": "invertible"},
    aliases=["numpy.linalg.slogdet.logabsdet"],
    checks=[("np.linalg.slogdet(x)[1]", [{"x": (3, 3)}, {"x": (2, 2, 2)}]), ("np.linalg.slogdet(x).logabsdet", [{"x": (2, 2)}])],
    policy="at a singular x (where the log is -inf, as np.log at 0): inf, nan where a cofactor is 0",
)
def logabsdet(x):
    """The log of |det(x)|: `np.linalg.slogdet(x)[1]` or `.logabsdet`."""
    ans = np.linalg.slogdet(x)[1]
    d_x = np.expand_dims(d_ans, (-2, -1)) * _inverse_transposed(x, ans)
    t_ans = np.sum(_inverse_transposed(x, ans) * t_x, axis=(-2, -1))


def _inverse_transposed(x, logabsdet):
    """inv(x).T, the derivative of log|det(x)|; where some x is singular, its
    cofactors over det(x) (inf, or nan where a cofactor is 0), not LinAlgError."""
    if np.all(np.isfinite(logabsdet)):
        return np.swapaxes(np.linalg.inv(x), -1, -2)
    det = np.linalg.det(x)
    return _cofactors(x, det) / np.expand_dims(det, (-2, -1))


@rule(
    zero_gradient=["logabsdet"],
    domain={"x": "invertible"},
    checks=[("_inverse_transposed(x, np.linalg.slogdet(x)[1])", [{"x": (3, 3)}, {"x": (2, 2, 2)}], ["x"])],
)
def inverse_transposed(x, logabsdet):
    """`_inverse_transposed(x, l)`, inv(x).T, in a JVP read back (--mode hvp): the
    second derivative of log|det(x)|."""
    ans = _inverse_transposed(x, logabsdet)
    d_x = -(ans @ np.swapaxes(d_ans, -1, -2) @ ans)
    t_ans = -(ans @ np.swapaxes(t_x, -1, -2) @ ans)


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
    t_ans = np.linalg.solve(a, t_b) - np.linalg.solve(a, _solve_product(t_a, ans, b))


def _solve_product(t_a, ans, b):
    """`t_a @ ans` as np.linalg.solve pairs them: ans is a vector (or a stack of
    them) where b is one-dimensional."""
    if np.ndim(t_a) < 2:
        raise ValueError("_solve_product takes the tangent of a matrix")
    return np.squeeze(t_a @ np.expand_dims(ans, -1), -1) if np.ndim(b) == 1 else t_a @ ans


@rule(
    multilinear=True,
    zero_gradient=["b"],
    checks=[
        ("_solve_product(t, x, b)", [{"t": (3, 3), "x": (3,), "b": [1.0, 2.0, 3.0]}, {"t": (3, 3), "x": (3, 2), "b": [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]}], ["t", "x"]),
        ("_solve_product(t, x, b)", [{"t": (2, 3, 3), "x": (2, 3), "b": [1.0, 2.0, 3.0]}], ["t", "x"]),
    ],
)
def solve_product(t, x, b):
    """`_solve_product(t, x, b)` in a JVP read back (--mode hvp): the second
    derivative of np.linalg.solve with respect to its matrix."""
    ans = _solve_product(t, x, b)
    d_t = _unbroadcast(np.expand_dims(d_ans, -1) * np.expand_dims(x, -2) if np.ndim(b) == 1 else d_ans @ np.swapaxes(x, -1, -2), t)
    d_x = _unbroadcast(np.squeeze(np.swapaxes(t, -1, -2) @ np.expand_dims(d_ans, -1), -1) if np.ndim(b) == 1 else np.swapaxes(t, -1, -2) @ d_ans, x)


# -- decompositions and more products (issue 15) --------------------------------------------

SPD_OF = [{"x": (3, 3)}, {"x": (2, 3, 3)}]  # x @ x.T + 3 I: symmetric positive definite


@rule(
    checks=[("np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + 3.0 * np.eye(3))", SPD_OF), ("np.linalg.cholesky(x)", [{"x": (3, 3)}])],
    domain={"x": "spd"},
    policy="NumPy reads the lower triangle only: the upper one gets 0, each element below the diagonal stands for two",
)
def cholesky(x):
    """The lower Cholesky factor L of a symmetric positive definite x (L L^T = x)."""
    ans = np.linalg.cholesky(x)
    d_x = _cholesky_adjoint(d_ans, ans)
    t_ans = ans @ _lower_half(np.linalg.solve(ans, np.swapaxes(np.linalg.solve(ans, np.swapaxes(_lower_symmetric(t_x), -1, -2)), -1, -2)))


def _lower_half(m):
    """The lower triangle of m with its diagonal halved (Phi in Murray's notes)."""
    return np.tril(m) - 0.5 * m * np.eye(np.shape(m)[-1])


def _lower_symmetric(m):
    """The symmetric matrix whose lower triangle is m's (what cholesky and eigvalsh read)."""
    return np.tril(m) + np.swapaxes(np.tril(m, -1), -1, -2)


def _onto_lower(s):
    """A symmetric adjoint s of `_lower_symmetric(m)` as the adjoint of m: the lower
    triangle, each element below the diagonal counted for both places it fills."""
    return np.tril(s + np.swapaxes(s, -1, -2), -1) + s * np.eye(np.shape(s)[-1])


def _cholesky_adjoint(d, low):
    """x's adjoint from L's (d): S = L^-T Phi(L^T d) L^-1, symmetrized, onto the lower triangle."""
    inner = _lower_half(np.swapaxes(low, -1, -2) @ d)
    upper = np.swapaxes(low, -1, -2)
    s = np.linalg.solve(upper, np.swapaxes(np.linalg.solve(upper, np.swapaxes(inner, -1, -2)), -1, -2))
    return _onto_lower((s + np.swapaxes(s, -1, -2)) / 2.0)


@rule(
    checks=[("np.linalg.eigvalsh(x + np.swapaxes(x, -1, -2))", [{"x": (3, 3)}, {"x": (2, 3, 3)}]), ("np.linalg.eigvalsh(x)", [{"x": (3, 3)}])],
    policy="where eigenvalues are distinct (their derivative is not defined where two meet); NumPy reads the lower triangle only",
)
def eigvalsh(x):
    """The eigenvalues of a symmetric matrix, ascending."""
    ans = np.linalg.eigvalsh(x)
    d_x = _onto_lower(_eigvecs(x) @ (np.expand_dims(d_ans, -1) * np.swapaxes(_eigvecs(x), -1, -2)))
    t_ans = np.sum(_eigvecs(x) * (_lower_symmetric(t_x) @ _eigvecs(x)), axis=-2)


def _eigvecs(x):
    """The eigenvectors (columns) of the symmetric matrix x's lower triangle reads."""
    return np.linalg.eigh(x)[1]


_SYMMETRIC = [{"x": (3, 3)}, {"x": (2, 3, 3)}]


@rule(
    requires="UPLO == 'L'",
    aliases=["numpy.linalg.eigh.eigenvalues"],
    checks=[("np.linalg.eigh(x + np.swapaxes(x, -1, -2))[0]", _SYMMETRIC), ("np.linalg.eigh(x).eigenvalues", [{"x": (3, 3)}])],
    policy="where eigenvalues are distinct; NumPy reads the lower triangle only",
)
def eigh_values(x, UPLO="L"):
    """`w, v = np.linalg.eigh(x)`: w, the eigenvalues of a symmetric matrix (as eigvalsh)."""
    ans = np.linalg.eigh(x, UPLO=UPLO)[0]
    d_x = _onto_lower(_eigvecs(x) @ (np.expand_dims(d_ans, -1) * np.swapaxes(_eigvecs(x), -1, -2)))
    t_ans = np.sum(_eigvecs(x) * (_lower_symmetric(t_x) @ _eigvecs(x)), axis=-2)


@rule(
    requires="UPLO == 'L'",
    aliases=["numpy.linalg.eigh.eigenvectors"],
    checks=[("np.linalg.eigh(x + np.swapaxes(x, -1, -2))[1] ** 2", _SYMMETRIC), ("np.linalg.eigh(x).eigenvectors ** 2", [{"x": (3, 3)}])],
    policy="where eigenvalues are distinct; each vector as NumPy returns it (its sign is NumPy's choice: a loss should not depend on it); NumPy reads the lower triangle only",
)
def eigh_vectors(x, UPLO="L"):
    """`w, v = np.linalg.eigh(x)`: v, the eigenvectors (columns) of a symmetric matrix."""
    ans = np.linalg.eigh(x, UPLO=UPLO)[1]
    d_x = _onto_lower(_eigvecs_adjoint(d_ans, x))
    t_ans = _eigvecs(x) @ (_eigen_gaps(x) * (np.swapaxes(_eigvecs(x), -1, -2) @ _lower_symmetric(t_x) @ _eigvecs(x)))


def _eigen_gaps(x):
    """F with F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it (w: x's eigenvalues)."""
    w = np.linalg.eigvalsh(x)
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    n = np.shape(w)[-1]
    return np.where(np.eye(n, dtype=bool), 0.0, 1.0 / np.where(np.eye(n, dtype=bool), 1.0, gaps))


def _eigvecs_adjoint(d, x):
    """The symmetric adjoint of x from d, the adjoint of its eigenvectors V:
    V (F * (V^T d)) V^T, symmetrized."""
    v = _eigvecs(x)
    s = v @ (_eigen_gaps(x) * (np.swapaxes(v, -1, -2) @ d)) @ np.swapaxes(v, -1, -2)
    return (s + np.swapaxes(s, -1, -2)) / 2.0


_SVD = [{"x": (3, 3)}, {"x": (2, 3)}, {"x": (3, 2)}, {"x": (2, 3, 2)}]


@rule(
    requires="not compute_uv",
    zero_gradient=["full_matrices"],
    checks=[("np.linalg.svd(x, compute_uv=False)", _SVD), ("np.linalg.svd(x, False, False)", [{"x": (2, 3)}])],
    policy="where singular values are distinct and not 0",
)
def svd(x, full_matrices=True, compute_uv=True):
    """`np.linalg.svd(x, compute_uv=False)`: the singular values, descending."""
    ans = np.linalg.svd(x, full_matrices=full_matrices, compute_uv=compute_uv)
    d_x = _singular_vectors(x, 0) @ (np.expand_dims(d_ans, -1) * _singular_vectors(x, 1))
    t_ans = np.sum(_singular_vectors(x, 0) * (t_x @ np.swapaxes(_singular_vectors(x, 1), -1, -2)), axis=-2)


@rule(
    zero_gradient=["full_matrices"],
    aliases=["numpy.linalg.svd.S"],
    checks=[("np.linalg.svd(x)[1]", _SVD), ("np.linalg.svd(x, full_matrices=False).S", [{"x": (2, 3)}])],
    policy="where singular values are distinct and not 0",
)
def svd_values(x, full_matrices=True):
    """`u, s, vh = np.linalg.svd(x)`: s, the singular values, descending."""
    ans = np.linalg.svd(x, full_matrices=full_matrices)[1]
    d_x = _singular_vectors(x, 0) @ (np.expand_dims(d_ans, -1) * _singular_vectors(x, 1))
    t_ans = np.sum(_singular_vectors(x, 0) * (t_x @ np.swapaxes(_singular_vectors(x, 1), -1, -2)), axis=-2)


@rule(
    requires="not full_matrices",
    aliases=["numpy.linalg.svd.U"],
    checks=[("np.linalg.svd(x, full_matrices=False)[0] ** 2", _SVD)],
    policy="where singular values are distinct and not 0; each vector as NumPy returns it (its sign is NumPy's choice)",
)
def svd_u(x, full_matrices=True):
    """`u, s, vh = np.linalg.svd(x, full_matrices=False)`: u, the left singular vectors
    (the thin SVD: with full_matrices=True the extra columns have no derivative)."""
    ans = np.linalg.svd(x, full_matrices=full_matrices)[0]
    d_x = _svd_adjoint(x, d_ans, 0.0, 0.0)
    t_ans = _svd_tangent(x, t_x, 0)


@rule(
    requires="not full_matrices",
    aliases=["numpy.linalg.svd.Vh"],
    checks=[("np.linalg.svd(x, full_matrices=False)[2] ** 2", _SVD)],
    policy="where singular values are distinct and not 0; each vector as NumPy returns it (its sign is NumPy's choice)",
)
def svd_vh(x, full_matrices=True):
    """`u, s, vh = np.linalg.svd(x, full_matrices=False)`: vh, the right singular
    vectors as rows (the thin SVD)."""
    ans = np.linalg.svd(x, full_matrices=full_matrices)[2]
    d_x = _svd_adjoint(x, 0.0, 0.0, d_ans)
    t_ans = _svd_tangent(x, t_x, 2)


def _svd_parts(x):
    """The thin SVD u, s, v (v = vh transposed), and F with F[i, j] = 1 / (s[j]^2 -
    s[i]^2) off the diagonal, 0 on it."""
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    k = np.shape(s)[-1]
    gaps = np.expand_dims(s, -2) ** 2 - np.expand_dims(s, -1) ** 2
    eye = np.eye(k, dtype=bool)
    return u, s, np.swapaxes(vh, -1, -2), np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, gaps))


def _svd_adjoint(x, du, ds, dvh):
    """x's adjoint from the adjoints of the thin SVD's u, s and vh (each may be 0):
    U [(F * (U^T dU - dU^T U)) S + diag(dS) + S (F * (V^T dV - dV^T V))] V^T
    + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T)."""
    u, s, v, f = _svd_parts(x)
    t = lambda a: np.swapaxes(a, -1, -2)
    m, n = np.shape(x)[-2], np.shape(x)[-1]
    du = np.broadcast_to(du, np.shape(u))
    dv = t(np.broadcast_to(dvh, np.shape(t(v))))
    sm = np.expand_dims(s, -2)  # S as a row: a @ diag(s) is a * sm
    inner = (f * (t(u) @ du - t(du) @ u)) * sm + np.expand_dims(s, -1) * (f * (t(v) @ dv - t(dv) @ v))
    inner = inner + np.expand_dims(np.broadcast_to(ds, np.shape(s)), -1) * np.eye(np.shape(s)[-1])
    out = u @ inner @ t(v)
    out = out + (np.eye(m) - u @ t(u)) @ (du / sm) @ t(v)
    out = out + u @ (t(dv) / np.expand_dims(s, -1)) @ (np.eye(n) - v @ t(v))
    return out


def _svd_tangent(x, dx, which):
    """The tangent of the thin SVD's u (which=0) or vh (which=2) from x's tangent dx:
    with P = U^T dx V, dU = U (F * (P S + S P^T)) + (I - U U^T) dx V S^-1 and
    dV = V (F * (S P + P^T S)) + (I - V V^T) dx^T U S^-1."""
    u, s, v, f = _svd_parts(x)
    t = lambda a: np.swapaxes(a, -1, -2)
    p = t(u) @ dx @ v
    sm = np.expand_dims(s, -2)
    if which == 0:
        m = np.shape(x)[-2]
        return u @ (f * (p * sm + np.expand_dims(s, -1) * t(p))) + (np.eye(m) - u @ t(u)) @ dx @ v / sm
    n = np.shape(x)[-1]
    dv = v @ (f * (np.expand_dims(s, -1) * p + t(p) * sm)) + (np.eye(n) - v @ t(v)) @ t(dx) @ u / sm
    return t(dv)


@rule(checks=[("np.linalg.svdvals(x)", [{"x": (3, 3)}, {"x": (2, 3)}, {"x": (3, 2)}, {"x": (2, 3, 2)}])],
      policy="where singular values are distinct and not 0")
def svdvals(x):
    """The singular values, descending (np.linalg.svdvals)."""
    ans = np.linalg.svdvals(x)
    d_x = _singular_vectors(x, 0) @ (np.expand_dims(d_ans, -1) * _singular_vectors(x, 1))
    t_ans = np.sum(_singular_vectors(x, 0) * (t_x @ np.swapaxes(_singular_vectors(x, 1), -1, -2)), axis=-2)


def _singular_vectors(x, which):
    """The thin SVD's u (which=0) or vt (which=1)."""
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    return u if which == 0 else vt


@rule(zero_gradient=["n"], requires="n >= 0",
      checks=[("np.linalg.matrix_power(x, 3)", [{"x": (3, 3)}, {"x": (2, 2, 2)}]), ("np.linalg.matrix_power(x, 1)", [{"x": (2, 2)}]), ("x * np.linalg.matrix_power(x, 0)", [{"x": (2, 2)}])])
def matrix_power(x, n):
    """x to a power n >= 0 (a negative power is the inverse's: write np.linalg.inv)."""
    ans = np.linalg.matrix_power(x, n)
    d_x = _power_sum(np.swapaxes(x, -1, -2), d_ans, n)
    t_ans = _power_sum(x, t_x, n)


def _power_sum(a, m, n):
    """The sum over k < n of a^k m a^(n-1-k)."""
    total = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(m)))
    for k in range(n):
        total = total + np.linalg.matrix_power(a, k) @ m @ np.linalg.matrix_power(a, n - 1 - k)
    return total


@rule(checks=[("np.linalg.pinv(x)", [{"x": (3, 3)}, {"x": (2, 3)}, {"x": (3, 2)}])], policy="where x has full rank (the rank stays the same nearby)")
def pinv(x):
    """The Moore-Penrose pseudo-inverse."""
    ans = np.linalg.pinv(x)
    d_x = _pinv_adjoint(d_ans, x, ans)
    t_ans = -ans @ t_x @ ans + ans @ np.swapaxes(ans, -1, -2) @ np.swapaxes(t_x, -1, -2) @ (np.eye(np.shape(x)[-2]) - x @ ans) + (np.eye(np.shape(x)[-1]) - ans @ x) @ np.swapaxes(t_x, -1, -2) @ np.swapaxes(ans, -1, -2) @ ans


def _pinv_adjoint(d, x, p):
    pt, dt = np.swapaxes(p, -1, -2), np.swapaxes(d, -1, -2)
    left = np.eye(np.shape(x)[-2]) - x @ p
    right = np.eye(np.shape(x)[-1]) - p @ x
    return -pt @ d @ pt + left @ dt @ p @ pt + pt @ p @ dt @ right


@rule(linear=True, checks=[("np.linalg.matrix_transpose(x)", [{"x": (2, 3)}, {"x": (2, 3, 4)}])])
def matrix_transpose(x):
    ans = np.linalg.matrix_transpose(x)
    d_x = np.swapaxes(d_ans, -1, -2)


@rule(multilinear=True, checks=[("np.linalg.vecdot(x, y)", [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (3,)}, {"x": (2, 3), "y": (2, 3)}])])
def vecdot(x, y):
    """The dot product along the last axis, broadcast over the others."""
    ans = np.linalg.vecdot(x, y)
    d_x = _unbroadcast(np.expand_dims(d_ans, -1) * y, x)
    d_y = _unbroadcast(np.expand_dims(d_ans, -1) * x, y)


@rule(
    multilinear=True,
    zero_gradient=["axisa", "axisb", "axisc", "axis"],
    checks=[
        ("np.cross(x, y)", [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (3,)}, {"x": (2, 3), "y": (2, 3)}]),
        ("np.cross(x, y)", [{"x": (2,), "y": (2,)}, {"x": (4, 2), "y": (3,)}, {"x": (2,), "y": (2, 3)}]),
        ("np.cross(x, y, axisa=0, axisb=1, axisc=0)", [{"x": (3, 2), "y": (2, 3)}]),
        ("np.cross(x, y, axis=0)", [{"x": (3, 4), "y": (3, 4)}, {"x": (2, 4), "y": (3, 1)}]),
    ],
)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors, or of 2-vectors (a 3-vector's last component
    taken as 0; two 2-vectors give the z component alone), along the axes given."""
    ans = np.cross(a, b, axisa, axisb, axisc, axis)
    d_a = _cross_adjoint(d_ans, a, b, (axisa, axisb, axisc, axis), 0)
    d_b = _cross_adjoint(d_ans, a, b, (axisa, axisb, axisc, axis), 1)


def _as_3_vectors(v, axis):
    """v with its vectors along the last axis, 2-vectors given a third component 0."""
    v = np.moveaxis(v, axis, -1)
    if np.shape(v)[-1] == 2:
        v = np.concatenate([v, np.zeros(np.shape(v)[:-1] + (1,))], axis=-1)
    return v


def _cross_adjoint(d, a, b, axes, which):
    """The adjoint of a (which=0) or b (which=1) in np.cross: with the vectors moved
    last and made 3-vectors, c = a x b has adjoints b x d (of a) and d x a (of b)."""
    axisa, axisb, axisc, axis = axes
    if axis is not None:
        axisa = axisb = axisc = axis
    a3, b3 = _as_3_vectors(a, axisa), _as_3_vectors(b, axisb)
    if np.shape(a)[axisa] == 2 and np.shape(b)[axisb] == 2:  # the result is the z component
        d3 = np.stack([np.zeros(np.shape(d)), np.zeros(np.shape(d)), d], axis=-1)
    else:
        d3 = np.moveaxis(d, axisc, -1)
    if which == 0:
        part = np.cross(b3, d3)[..., : np.shape(a)[axisa]]
        return np.moveaxis(_unbroadcast(part, np.moveaxis(a, axisa, -1)), -1, axisa)
    part = np.cross(d3, a3)[..., : np.shape(b)[axisb]]
    return np.moveaxis(_unbroadcast(part, np.moveaxis(b, axisb, -1)), -1, axisb)


@rule(multilinear=True, checks=[("np.kron(x, y)", [{"x": (2,), "y": (3,)}, {"x": (2, 2), "y": (3, 2)}, {"x": (), "y": (3,)}, {"x": (2,), "y": (3, 2)}, {"x": (2, 1, 2), "y": (3, 2)}])])
def kron(x, y):
    """The Kronecker product of two arrays of any dimensions (the one with fewer is
    read with ones in front of its shape, as NumPy does)."""
    ans = np.kron(x, y)
    d_x = _kron_adjoint(d_ans, x, y, 0)
    d_y = _kron_adjoint(d_ans, x, y, 1)


def _kron_adjoint(d, x, y, which):
    """The adjoint of x (which=0) or y (which=1) in np.kron(x, y). The result's axis k
    is x's axis k times y's axis k: d read as blocks of shape (x0, y0, x1, y1, ...) is
    contracted with the other operand over that operand's axes."""
    n = max(np.ndim(x), np.ndim(y))
    xs = (1,) * (n - np.ndim(x)) + np.shape(x)
    ys = (1,) * (n - np.ndim(y)) + np.shape(y)
    blocks = np.reshape(d, tuple(s for pair in zip(xs, ys) for s in pair))
    if which == 0:
        part = np.tensordot(blocks, np.reshape(y, ys), axes=(list(range(1, 2 * n, 2)), list(range(n))))
        return np.reshape(part, np.shape(x))
    part = np.tensordot(blocks, np.reshape(x, xs), axes=(list(range(0, 2 * n, 2)), list(range(n))))
    return np.reshape(part, np.shape(y))


@rule(
    multilinear=True,
    zero_gradient=["mode"],
    checks=[
        ("np.convolve(x, y)", [{"x": (4,), "y": (2,)}, {"x": (2,), "y": (3,)}]),
        ("np.convolve(x, y, mode='valid')", [{"x": (5,), "y": (2,)}, {"x": (2,), "y": (4,)}]),
        ("np.convolve(x, y, mode='same')", [{"x": (5,), "y": (2,)}, {"x": (4,), "y": (3,)}, {"x": (2,), "y": (5,)}]),
    ],
)
def convolve(a, v, mode="full"):
    """The discrete convolution of two vectors, in each of NumPy's modes (full, valid,
    same: the middle of the full result)."""
    ans = np.convolve(a, v, mode=mode)
    d_a = np.reshape(np.correlate(_into_full(d_ans, a, v, ans), np.ravel(v), "valid"), np.shape(a))
    d_v = np.reshape(np.correlate(_into_full(d_ans, a, v, ans), np.ravel(a), "valid"), np.shape(v))


def _into_full(d, a, v, ans):
    """d, the adjoint of a convolution's result `ans` (the full one, or its middle:
    mode 'valid' or 'same'), put where ans lies in the full convolution of a and v,
    zeros elsewhere. The middle starts at (full - kept) // 2 on each axis, as NumPy
    and scipy.signal cut it."""
    if np.ndim(ans) == 0:  # scipy.signal.convolve of two numbers
        return d
    full = tuple(n + m - 1 for n, m in zip(np.shape(a) or (1,), np.shape(v) or (1,)))  # np.convolve of a number
    kept = np.shape(ans)
    if kept == full:
        return np.broadcast_to(d, full)
    out = np.zeros(full)
    out[tuple(slice((f - k) // 2, (f - k) // 2 + k) for f, k in zip(full, kept))] = d
    return out


# Rules for the helpers above that tangents call (--mode hvp reads a JVP back).


@rule(linear=True, checks=[("_lower_symmetric(x * np.ones((3, 3)))", [{"x": (3, 3)}]), ("_lower_symmetric(x * np.ones((2, 2, 2)))", [{"x": (2, 2, 2)}])])
def lower_symmetric(m):
    """`_lower_symmetric(m)` in a JVP read back (--mode hvp)."""
    ans = _lower_symmetric(m)
    d_m = np.tril(d_ans) + np.tril(np.swapaxes(d_ans, -1, -2), -1)


@rule(linear=True, checks=[("_lower_half(x * np.ones((3, 3)))", [{"x": (3, 3)}]), ("_lower_half(x * np.ones((2, 2, 2)))", [{"x": (2, 2, 2)}])])
def lower_half(m):
    """`_lower_half(m)` in a JVP read back (--mode hvp): its own adjoint."""
    ans = _lower_half(m)
    d_m = _lower_half(d_ans)
