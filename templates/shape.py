"""Rearranging elements: transposes, reshapes, joins, repeats and indexing. Each
adjoint moves the result's adjoint back to where its elements came from (summing
where one element went to several places)."""

import numpy as np

ARRAYS = [{"x": (2, 3)}, {"x": (2, 3, 4)}]


@rule(
    linear=True,
    attribute="T",
    method="transpose",
    zero_gradient=["axes"],
    checks=[("np.transpose(x)", ARRAYS), ("np.transpose(x, (1, 0, 2))", [{"x": (2, 3, 4)}]), ("x.T", [{"x": (2, 3)}]), ("x.transpose(2, 0, 1)", [{"x": (2, 3, 4)}])],
)
def transpose(x, axes=None):
    ans = np.transpose(x, axes=axes)
    d_x = np.transpose(d_ans, np.argsort(axes)) if axes is not None else np.transpose(d_ans)


@rule(
    linear=True,
    method="reshape",
    zero_gradient=["shape"],
    checks=[("np.reshape(x, (3, 2))", [{"x": (2, 3)}]), ("np.reshape(x, -1)", ARRAYS), ("x.reshape(4, -1)", [{"x": (2, 2, 2)}])],
)
def reshape(x, shape):
    ans = np.reshape(x, shape)
    d_x = np.reshape(d_ans, np.shape(x))


@rule(linear=True, method=["ravel", "flatten"], checks=[("np.ravel(x)", ARRAYS), ("x.flatten()", [{"x": (2, 3)}])])
def ravel(x):
    ans = np.ravel(x)
    d_x = np.reshape(d_ans, np.shape(x))


@rule(linear=True, method="squeeze", zero_gradient=["axis"], checks=[("np.squeeze(x)", [{"x": (2, 1, 3)}]), ("np.squeeze(x, axis=0)", [{"x": (1, 3)}])])
def squeeze(x, axis=None):
    ans = np.squeeze(x, axis=axis)
    d_x = np.reshape(d_ans, np.shape(x))


@rule(linear=True, zero_gradient=["axis"], checks=[("np.expand_dims(x, 0)", [{"x": (3,)}]), ("np.expand_dims(x, (0, 2))", [{"x": (2, 3)}])])
def expand_dims(x, axis):
    ans = np.expand_dims(x, axis)
    d_x = np.reshape(d_ans, np.shape(x))


@rule(linear=True, zero_gradient=["shape"], checks=[("np.broadcast_to(x, (2, 3))", [{"x": ()}, {"x": (3,)}, {"x": (2, 1)}])])
def broadcast_to(x, shape):
    ans = np.broadcast_to(x, shape)
    d_x = _unbroadcast(d_ans, x)


@rule(
    linear=True,
    zero_gradient=["axis"],
    sequences=["arrays"],
    checks=[
        ("np.concatenate([x, y])", [{"x": (2,), "y": (3,)}, {"x": (1, 3), "y": (2, 3)}]),
        ("np.concatenate((x, 2.0 * y, x), axis=1)", [{"x": (2, 1), "y": (2, 3)}]),
        ("np.concatenate([x, y], axis=None)", [{"x": (2, 2), "y": (3,)}]),
    ],
)
def concatenate(arrays, axis=0):
    ans = np.concatenate(arrays, axis=axis)
    d_arrays = _split_like(d_ans, arrays, axis, np.asarray)


def _split_like(d, arrays, axis, promote):
    """Pieces of d along `axis` as long as each array (after `promote`) is there,
    each reshaped to its array's shape: the adjoint of joining them."""
    if axis is None:
        d, axis, promote = np.ravel(d), 0, np.ravel
    sizes = [np.shape(promote(np.asarray(a)))[axis] for a in arrays]
    pieces = np.split(d, np.cumsum(sizes)[:-1], axis=axis)
    return _like_sequence([np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays)], arrays)


def _like_sequence(pieces, arrays):
    """The adjoints `pieces` of the items of `arrays` in arrays' own kind: a tuple
    for a tuple, a list for a list, and for an array (which NumPy's joining functions
    read as the sequence of its rows) one array of its shape."""
    if isinstance(arrays, tuple):
        return tuple(pieces)
    if isinstance(arrays, list):
        return pieces
    return np.reshape(np.stack(pieces), np.shape(arrays))


@rule(
    linear=True,
    zero_gradient=["axis"],
    sequences=["arrays"],
    checks=[("np.stack([x, y])", [{"x": (3,), "y": (3,)}, {"x": (), "y": ()}]), ("np.stack((x, y, x), axis=1)", [{"x": (2, 2), "y": (2, 2)}])],
)
def stack(arrays, axis=0):
    ans = np.stack(arrays, axis=axis)
    d_arrays = _like_sequence(list(np.moveaxis(d_ans, axis, 0)), arrays)


_SPLIT_CHECKS = [{"x": (6,)}, {"x": (4, 6)}]


@rule(
    linear=True,
    parts=True,
    zero_gradient=["indices_or_sections"],
    checks=[
        ("np.split(x, 2)[1] * np.sum(np.split(x, 2)[0] ** 2)", _SPLIT_CHECKS),
        ("np.split(x, [1, 3])[2] * 3.0", _SPLIT_CHECKS),
        ("np.split(x, 3, axis=-1)[0] * np.concatenate(np.split(x, 3, axis=-1), axis=-1)[:, :2]", [{"x": (2, 6)}]),
    ],
)
def split(ary, indices_or_sections, axis=0):
    """The list of parts of ary along axis (a number of equal parts, or where to cut).
    A part code never reads gets a zero adjoint."""
    ans = np.split(ary, indices_or_sections, axis=axis)
    d_ary = _join_parts(d_ans, ans, axis)


@rule(
    linear=True,
    parts=True,
    zero_gradient=["indices_or_sections"],
    checks=[("np.array_split(x, 4)[3] * np.array_split(x, 4)[0]", [{"x": (7,)}, {"x": (7, 2)}])],
)
def array_split(ary, indices_or_sections, axis=0):
    """np.split that allows parts of unequal sizes."""
    ans = np.array_split(ary, indices_or_sections, axis=axis)
    d_ary = _join_parts(d_ans, ans, axis)


@rule(linear=True, parts=True, zero_gradient=["indices_or_sections"], checks=[("np.vsplit(x, 2)[1] ** 2", [{"x": (4, 3)}])])
def vsplit(ary, indices_or_sections):
    """np.split along the first axis."""
    ans = np.vsplit(ary, indices_or_sections)
    d_ary = _join_parts(d_ans, ans, 0)


@rule(
    linear=True,
    parts=True,
    zero_gradient=["indices_or_sections"],
    checks=[("np.hsplit(x, 2)[1] ** 2", [{"x": (4,)}, {"x": (3, 4)}])],
)
def hsplit(ary, indices_or_sections):
    """np.split along the second axis (the first of a vector)."""
    ans = np.hsplit(ary, indices_or_sections)
    d_ary = _join_parts(d_ans, ans, 1 if np.ndim(ary) > 1 else 0)


@rule(linear=True, parts=True, zero_gradient=["indices_or_sections"], checks=[("np.dsplit(x, 2)[0] ** 2", [{"x": (2, 3, 4)}])])
def dsplit(ary, indices_or_sections):
    """np.split along the third axis."""
    ans = np.dsplit(ary, indices_or_sections)
    d_ary = _join_parts(d_ans, ans, 2)


def _join_parts(d, parts, axis):
    """The adjoint of cutting an array into `parts` along axis: the parts' adjoints
    (sparse, as a tree's: a dict of the parts read) joined back, zeros for the rest."""
    return np.concatenate(_tree_fill(d, parts), axis=axis)


@rule(linear=True, sequences=["tup"], checks=[("np.hstack([x, y])", [{"x": (2,), "y": (3,)}, {"x": (2, 1), "y": (2, 3)}, {"x": (), "y": (2,)}])])
def hstack(tup):
    ans = np.hstack(tup)
    d_tup = _split_like(d_ans, tup, 0 if np.ndim(ans) == 1 else 1, np.atleast_1d)


# np.row_stack: vstack's old name (removed in NumPy 2.4)
@rule(linear=True, sequences=["tup"], aliases=["numpy.row_stack"], checks=[("np.vstack([x, y])", [{"x": (3,), "y": (3,)}, {"x": (1, 3), "y": (2, 3)}])])
def vstack(tup):
    ans = np.vstack(tup)
    d_tup = _split_like(d_ans, tup, 0, np.atleast_2d)


@rule(linear=True, zero_gradient=["reps"], checks=[("np.tile(x, 2)", [{"x": (3,)}, {"x": (2, 2)}]), ("np.tile(x, (2, 1, 3))", [{"x": (2, 3)}]), ("np.tile(x, 3)", [{"x": ()}])])
def tile(x, reps):
    ans = np.tile(x, reps)
    d_x = _tile_adjoint(d_ans, x, reps)


def _tile_adjoint(d, x, reps):
    """Sum the tiles of d: view it as (reps0, n0, reps1, n1, ...) and sum the reps."""
    reps = tuple(np.atleast_1d(reps))
    shape = np.shape(x)
    n = max(len(reps), len(shape))
    reps = (1,) * (n - len(reps)) + reps
    padded = (1,) * (n - len(shape)) + shape
    split = [v for pair in zip(reps, padded) for v in pair]
    return np.reshape(np.sum(np.reshape(d, split), axis=tuple(range(0, 2 * n, 2))), shape)


@rule(
    linear=True,
    method="repeat",
    zero_gradient=["repeats", "axis"],
    checks=[
        ("np.repeat(x, 2)", [{"x": (3,)}, {"x": (2, 2)}]),
        ("np.repeat(x, 3, axis=1)", [{"x": (2, 2)}]),
        ("np.repeat(x, r, axis=0)", [{"x": (3, 2), "r": [1, 0, 2]}]),
        ("x.repeat(2, 0)", [{"x": (2, 3)}]),
    ],
)
def repeat(x, repeats, axis=None):
    ans = np.repeat(x, repeats, axis=axis)
    d_x = _repeat_adjoint(d_ans, x, repeats, axis)


def _repeat_adjoint(d, x, repeats, axis):
    """Sum the copies of each element of x back onto it."""
    if axis is None or np.ndim(x) == 0:  # a number repeats as a vector of one
        return np.reshape(_repeat_adjoint(d, np.ravel(x), repeats, 0), np.shape(x))
    n = np.shape(x)[axis]
    source = np.repeat(np.arange(n), repeats)  # which element of x each slice of d copies
    out = np.zeros((n,) + np.shape(np.moveaxis(d, axis, 0))[1:])
    np.add.at(out, source, np.moveaxis(d, axis, 0))
    return np.moveaxis(out, 0, axis)


@rule(linear=True, zero_gradient=["axis"], checks=[("np.flip(x)", ARRAYS), ("np.flip(x, 1)", [{"x": (2, 3)}])])
def flip(x, axis=None):
    ans = np.flip(x, axis=axis)
    d_x = np.flip(d_ans, axis)


@rule(linear=True, zero_gradient=["shift", "axis"], checks=[("np.roll(x, 1)", [{"x": (4,)}, {"x": (2, 3)}]), ("np.roll(x, (1, -1), axis=(0, 1))", [{"x": (2, 3)}])])
def roll(x, shift, axis=None):
    ans = np.roll(x, shift, axis=axis)
    d_x = np.roll(d_ans, np.negative(shift), axis)


@rule(linear=True, zero_gradient=["k"], checks=[("np.triu(x)", [{"x": (3, 3)}, {"x": (3,)}, {"x": (2, 3, 3)}]), ("np.triu(x, 1)", [{"x": (3, 4)}])])
def triu(x, k=0):
    """Of a vector v, NumPy's np.triu(v) is a matrix whose rows are copies of v
    (masked): their adjoints are summed back onto v."""
    ans = np.triu(x, k=k)
    d_x = _unbroadcast(np.triu(d_ans, k), x)


@rule(linear=True, zero_gradient=["k"], checks=[("np.tril(x)", [{"x": (3, 3)}, {"x": (3,)}, {"x": (2, 3, 3)}]), ("np.tril(x, -1)", [{"x": (4, 3)}])])
def tril(x, k=0):
    """Of a vector v, NumPy's np.tril(v) is a matrix whose rows are copies of v
    (masked): their adjoints are summed back onto v."""
    ans = np.tril(x, k=k)
    d_x = _unbroadcast(np.tril(d_ans, k), x)


@rule(linear=True, method="swapaxes", zero_gradient=["axis1", "axis2"], checks=[("np.swapaxes(x, 0, 2)", [{"x": (2, 3, 4)}]), ("x.swapaxes(0, 1)", [{"x": (2, 3)}])])
def swapaxes(x, axis1, axis2):
    ans = np.swapaxes(x, axis1, axis2)
    d_x = np.swapaxes(d_ans, axis1, axis2)


@rule(linear=True, zero_gradient=["source", "destination"], checks=[("np.moveaxis(x, 0, -1)", [{"x": (2, 3, 4)}]), ("np.moveaxis(x, (0, 1), (2, 0))", [{"x": (2, 3, 4)}])])
def moveaxis(x, source, destination):
    ans = np.moveaxis(x, source, destination)
    d_x = np.moveaxis(d_ans, destination, source)


@rule(
    linear=True,
    zero_gradient=["index"],
    lazy_adjoint=True,
    checks=[
        ("x[1:]", [{"x": (4,)}, {"x": (3, 2)}]),
        ("x[:, 0]", [{"x": (3, 2)}]),
        ("x[::2]", [{"x": (5,)}]),
        ("x[..., None]", [{"x": (2, 3)}]),
        ("x[np.newaxis, 1]", [{"x": (3, 2)}]),
        ("x[-1]", [{"x": (3,)}]),
        ("x[i]", [{"x": (4,), "i": [0, 2, 2, 3]}, {"x": (3, 2), "i": [1, 1]}]),
        ("x[i, 1:]", [{"x": (3, 3), "i": [2, 0, 2]}]),
        ("x[m]", [{"x": (4,), "m": [True, False, True, True]}]),
        ("x[x > 0]", [{"x": (5,)}]),
    ],
)
def getitem(x, index):
    ans = x[index]
    d_x = _index_adjoint(d_ans, x, index)


@rule(elementwise=True, method="copy", checks=[("np.copy(x)", [{"x": ()}, {"x": (3,)}, {"x": (2, 3)}]), ("x.copy()", [{"x": (3,)}])])
def copy(x):
    """A new array with x's values: what to write into instead of x itself."""
    ans = np.copy(x)
    d_x = d_ans


@rule(
    linear=True,
    zero_gradient=["index"],
    checks=[
        ("y = x * 1.0\ny[1:] = v\ny", [{"x": (4,), "v": (3,)}, {"x": (4,), "v": ()}]),
        ("y = x * 1.0\ny[:, 0] = v\ny", [{"x": (3, 2), "v": (3,)}]),
        ("y = x * 1.0\ny[1] = v\ny", [{"x": (3, 2), "v": (2,)}, {"x": (3, 2), "v": (1,)}]),
        ("y = x * 1.0\ny[i] = v\ny", [{"x": (4,), "i": [3, 0], "v": (2,)}]),
        ("y = x * 1.0\ny[x > 0] = v\ny", [{"x": (5,), "v": ()}]),
    ],
)
def setitem(x, index, v):
    """`x[index] = v`, as a new array: generated code does not change x itself
    (codegen refuses the statement where another name shares x's memory)."""
    ans = _setitem(x, index, v)
    d_x = _setitem(d_ans, index, 0.0)
    d_v = _setitem_adjoint(d_ans, index, v)


def _setitem(x, index, v):
    """A copy of x with v written at index (a float array if x holds integers and v
    floats, which is where NumPy would truncate)."""
    out = np.array(x, dtype=np.result_type(x, v))
    out[index] = v
    return out


def _setitem_adjoint(d, index, v):
    """The adjoint of v in `x[index] = v`: d where v was written, summed back to v's
    shape. An integer index that names a place twice is refused: NumPy does not say
    which of the writes is kept."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [np.asarray(p) for p in parts if not (p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)))]
    if any(a.dtype != bool for a in arrays):
        places = np.arange(np.size(d)).reshape(np.shape(d))[index]
        if np.unique(places).size != places.size:
            raise ValueError("x[index] = v with an index that names an element twice: which write NumPy keeps is not defined")
    return _unbroadcast(np.asarray(d)[index], v)


def _index_add(d, c, x, index):
    """d plus the adjoint of x from c, the adjoint of x[index], added into d itself:
    codegen passes only a d that nothing else holds (a slice's adjoint accumulates
    in one buffer, not in a new array of zeros per slice). A d that is not yet an
    array of x's shape becomes one first."""
    if not _plain(d, c, x):  # another array library's arrays (Dask): no writes in place
        return d + _index_adjoint(c, x, index)
    if not (isinstance(d, np.ndarray) and d.shape == np.shape(x) and d.dtype == np.float64 and d.flags.writeable):
        d = np.array(np.broadcast_to(d, np.shape(x)), dtype=np.float64)
    parts = index if isinstance(index, tuple) else (index,)
    if all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts):
        d[index] += c
    else:
        np.add.at(d, index, c)
    return d


def _index_adjoint(d, x, index):
    """Zeros shaped like x, with d added where x[index] took its elements (with
    np.add.at for integer arrays, so an element taken twice gets both). For another
    array library's arrays (Dask's), zeros of that library (NumPy's dispatch)."""
    out = np.zeros(np.shape(x)) if _plain(d, x) else np.zeros_like(x, dtype=np.float64)
    parts = index if isinstance(index, tuple) else (index,)
    if all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts):
        out[index] = d  # a basic index takes each element at most once
    else:
        np.add.at(out, index, d)
    return out


# -- more ways to reshape, reorder and pick (issue 15) ------------------------------------


@rule(linear=True, checks=[("np.atleast_1d(x)", [{"x": ()}, {"x": (3,)}])])
def atleast_1d(x):
    ans = np.atleast_1d(x)
    d_x = np.reshape(d_ans, np.shape(x))


@rule(linear=True, checks=[("np.atleast_2d(x)", [{"x": ()}, {"x": (3,)}, {"x": (2, 3)}])])
def atleast_2d(x):
    ans = np.atleast_2d(x)
    d_x = np.reshape(d_ans, np.shape(x))


@rule(linear=True, checks=[("np.atleast_3d(x)", [{"x": ()}, {"x": (3,)}, {"x": (2, 3)}])])
def atleast_3d(x):
    ans = np.atleast_3d(x)
    d_x = np.reshape(d_ans, np.shape(x))


@rule(linear=True, checks=[("np.flipud(x)", [{"x": (3,)}, {"x": (2, 3)}])])
def flipud(x):
    ans = np.flipud(x)
    d_x = np.flipud(d_ans)


@rule(linear=True, checks=[("np.fliplr(x)", [{"x": (2, 3)}, {"x": (2, 3, 2)}])])
def fliplr(x):
    ans = np.fliplr(x)
    d_x = np.fliplr(d_ans)


@rule(linear=True, zero_gradient=["k", "axes"], checks=[("np.rot90(x)", [{"x": (2, 3)}]), ("np.rot90(x, 3)", [{"x": (2, 3)}]), ("np.rot90(x, 1, (1, 2))", [{"x": (2, 3, 4)}])])
def rot90(x, k=1, axes=(0, 1)):
    ans = np.rot90(x, k, axes)
    d_x = np.rot90(d_ans, -k, axes)


@rule(linear=True, zero_gradient=["axis", "start"], checks=[("np.rollaxis(x, 2)", [{"x": (2, 3, 4)}]), ("np.rollaxis(x, 0, 3)", [{"x": (2, 3, 4)}]), ("np.rollaxis(x, 1, 0)", [{"x": (2, 3)}]),
                                                   ("np.rollaxis(x, 0, -1)", [{"x": (2, 3, 4)}]), ("np.rollaxis(x, -1, -2)", [{"x": (2, 3, 4)}])])
def rollaxis(x, axis, start=0):
    ans = np.rollaxis(x, axis, start)
    d_x = np.transpose(d_ans, np.argsort(_rolled(np.ndim(x), axis, start)))


def _rolled(ndim, axis, start):
    """The order of x's axes in np.rollaxis(x, axis, start)."""
    order = list(range(ndim))
    axis, start = axis % ndim, start + ndim if start < 0 else start  # as NumPy reads them
    order.remove(axis)
    order.insert(start if start <= axis else start - 1, axis)
    return order


@rule(linear=True, zero_gradient=["offset", "axis1", "axis2"], method="diagonal",
      checks=[("np.diagonal(x)", [{"x": (3, 3)}, {"x": (2, 3)}]), ("np.diagonal(x, 1)", [{"x": (3, 4)}]), ("np.diagonal(x, 0, 1, 2)", [{"x": (2, 3, 3)}]), ("x.diagonal()", [{"x": (3, 3)}])])
def diagonal(x, offset=0, axis1=0, axis2=1):
    ans = np.diagonal(x, offset, axis1, axis2)
    d_x = _diagonal_adjoint(d_ans, x, offset, axis1, axis2)


def _diagonal_adjoint(d, x, offset, axis1, axis2):
    """Zeros shaped like x with d written on the diagonal np.diagonal read."""
    out = np.zeros(np.shape(x))
    moved = np.moveaxis(out, (axis1, axis2), (-2, -1))
    rows, cols = moved.shape[-2:]
    i = np.arange(max(0, -offset), min(rows, cols - offset))
    moved[..., i, i + offset] = d
    return out


@rule(linear=True, zero_gradient=["n", "axis"], checks=[("np.diff(x)", [{"x": (4,)}, {"x": (2, 3)}]), ("np.diff(x, 2)", [{"x": (5,)}]), ("np.diff(x, axis=0)", [{"x": (3, 2)}])])
def diff(x, n=1, axis=-1):
    ans = np.diff(x, n, axis)
    d_x = _diff_adjoint(d_ans, n, axis)


def _diff_adjoint(d, n, axis):
    """The adjoint of np.diff, n times: each difference gives -d to its first
    element and d to its second."""
    for _ in range(n):
        d = np.moveaxis(d, axis, -1)
        zero = np.zeros(d.shape[:-1] + (1,))
        d = np.moveaxis(np.concatenate([zero, d], axis=-1) - np.concatenate([d, zero], axis=-1), -1, axis)
    return d


@rule(linear=True, checks=[("np.ediff1d(x)", [{"x": (4,)}, {"x": (2, 3)}])])
def ediff1d(x):
    ans = np.ediff1d(x)
    d_x = np.reshape(_diff_adjoint(d_ans, 1, -1), np.shape(x))


@rule(linear=True, zero_gradient=["pad_width"], requires="mode == 'constant' and constant_values == 0",
      checks=[("np.pad(x, 1)", [{"x": (3,)}, {"x": (2, 3)}]), ("np.pad(x, ((1, 0), (0, 2)))", [{"x": (2, 3)}])])
def pad(x, pad_width, mode="constant", constant_values=0):
    """Padding with zeros (mode='constant', the default)."""
    ans = np.pad(x, pad_width, mode=mode, constant_values=constant_values)
    d_x = _unpad(d_ans, x, pad_width)


def _unpad(d, x, pad_width):
    """The part of d that np.pad copied x into (a number is not padded)."""
    if np.ndim(x) == 0:
        return d
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(x), 2))
    return d[tuple(slice(int(before), int(before) + n) for (before, _), n in zip(widths, np.shape(x)))]


@rule(linear=True, sequences=["tup"], checks=[("np.column_stack([x, y])", [{"x": (3,), "y": (3,)}, {"x": (3, 2), "y": (3,)}])])
def column_stack(tup):
    ans = np.column_stack(tup)
    d_tup = _split_like(d_ans, tup, 1, _as_column)


def _as_column(a):
    return np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a


@rule(linear=True, sequences=["tup"], checks=[("np.dstack([x, y])", [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (2, 3)}])])
def dstack(tup):
    ans = np.dstack(tup)
    d_tup = _split_like(d_ans, tup, 2, np.atleast_3d)


@rule(linear=True, zero_gradient=["indices", "axis"],
      checks=[("np.take(x, [2, 0, 2])", [{"x": (4,)}, {"x": (2, 3)}]), ("np.take(x, [1, 1], axis=1)", [{"x": (2, 3)}]), ("np.take(x, 1, axis=0)", [{"x": (2, 3)}])])
def take(x, indices, axis=None):
    ans = np.take(x, indices, axis=axis)
    d_x = _take_adjoint(d_ans, x, indices, axis)


def _take_adjoint(d, x, indices, axis):
    """Zeros shaped like x with d added where np.take took (an index taken twice gets both)."""
    out = np.zeros(np.size(x) if axis is None else np.shape(x))
    if axis is None:
        np.add.at(out, indices, d)
        return np.reshape(out, np.shape(x))
    np.add.at(np.moveaxis(out, axis, 0), indices, np.moveaxis(np.asarray(d), axis, 0) if np.ndim(indices) == 1 else d)
    return out


@rule(linear=True, zero_gradient=["indices", "axis"],
      checks=[("np.take_along_axis(x, i, 1)", [{"x": (2, 3), "i": [[2, 0, 2], [1, 1, 0]]}]), ("np.take_along_axis(x, i, 0)", [{"x": (2, 3), "i": [[1, 0, 1]]}])])
def take_along_axis(x, indices, axis):
    ans = np.take_along_axis(x, indices, axis)
    d_x = _take_along_axis_adjoint(d_ans, x, indices, axis)


def _take_along_axis_adjoint(d, x, indices, axis):
    out = np.zeros(np.shape(x))
    grid = list(np.ogrid[tuple(slice(n) for n in np.shape(indices))])
    grid[axis % np.ndim(x)] = indices
    np.add.at(out, tuple(grid), d)
    return out


@rule(zero_gradient=["copy", "nan", "posinf", "neginf"], checks=[("np.nan_to_num(np.log(x * z))", [{"x": (3,), "z": [1.0, -1.0, 2.0]}]), ("np.nan_to_num(x)", [{"x": ()}, {"x": (2, 3)}])],
      policy="0 where x is nan or infinite (replaced by constants)")
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    ans = np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    d_x = np.where(np.isfinite(x), d_ans, 0.0)
    t_ans = np.where(np.isfinite(x), t_x, 0.0)


@rule(linear=True, zero_gradient=["axis"],
      checks=[("np.append(x, y)", [{"x": (3,), "y": ()}, {"x": (2, 3), "y": (2,)}]), ("np.append(x, y, axis=0)", [{"x": (2, 3), "y": (1, 3)}]), ("np.append(x, y, axis=1)", [{"x": (2, 3), "y": (2, 2)}])])
def numpy_append(arr, values, axis=None):
    """np.append: both flattened and joined (axis=None), or joined along `axis`."""
    ans = np.append(arr, values, axis=axis)
    d_arr = _split_like(d_ans, [arr, values], axis, np.asarray)[0]
    d_values = _split_like(d_ans, [arr, values], axis, np.asarray)[1]
