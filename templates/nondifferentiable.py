"""Values no gradient flows through: comparisons, logical operators, rounding,
indices, shapes and constructors. Each rule's result is locally constant in its
arguments (`zero_gradient`), so a loss may use them on values that carry gradients:
the gradient is zero through them, as it is almost everywhere."""

import numpy as np

PAIRS = [{"x": (3,), "y": (3,)}, {"x": (2, 3), "y": ()}]
ONE = [{"x": (3,)}, {"x": (2, 3)}]


@rule(zero_gradient=True, aliases=["numpy.less"], checks=[("x * (x < y)", PAIRS)])
def less(x, y):
    ans = x < y


@rule(zero_gradient=True, aliases=["numpy.less_equal"], checks=[("x * (x <= y)", PAIRS)])
def less_equal(x, y):
    ans = x <= y


@rule(zero_gradient=True, aliases=["numpy.greater"], checks=[("x * (x > y)", PAIRS)])
def greater(x, y):
    ans = x > y


@rule(zero_gradient=True, aliases=["numpy.greater_equal"], checks=[("x * (x >= y)", PAIRS)])
def greater_equal(x, y):
    ans = x >= y


@rule(zero_gradient=True, aliases=["numpy.equal"], checks=[("x * (x == y)", PAIRS)])
def equal(x, y):
    ans = x == y


@rule(zero_gradient=True, aliases=["numpy.not_equal"], checks=[("x * (x != y)", PAIRS)])
def not_equal(x, y):
    ans = x != y


@rule(zero_gradient=True, aliases=["numpy.logical_and", "numpy.bitwise_and"], checks=[("x * ((x > 0) & (y > 0))", PAIRS)])
def logical_and(x, y):
    ans = x & y


@rule(zero_gradient=True, aliases=["numpy.logical_or", "numpy.bitwise_or"], checks=[("x * ((x > 0) | (y > 0))", PAIRS)])
def logical_or(x, y):
    ans = x | y


@rule(zero_gradient=True, aliases=["numpy.logical_xor", "numpy.bitwise_xor"], checks=[("x * ((x > 0) ^ (y > 0))", PAIRS)])
def logical_xor(x, y):
    ans = x ^ y


@rule(zero_gradient=True, aliases=["numpy.invert"], checks=[("x * (~(x > 0))", ONE)])
def invert(x):
    ans = ~x


@rule(zero_gradient=True, checks=[("x * (np.logical_not(x > 0))", ONE)])
def logical_not(x):
    ans = np.logical_not(x)


@rule(zero_gradient=True, checks=[("x * (not x > 0)", [{"x": ()}])])
def not_operator(x):
    """Python's `not`, on a number or a boolean (on an array of more than one value
    it raises, as in the user's function: elementwise, that is np.logical_not)."""
    ans = not x


@rule(zero_gradient=True, checks=[("x * (np.floor(x))", ONE)])
def floor(x):
    ans = np.floor(x)


@rule(zero_gradient=True, checks=[("x * (np.ceil(x))", ONE)])
def ceil(x):
    ans = np.ceil(x)


@rule(zero_gradient=True, aliases=["numpy.around"], method="round", checks=[("x * (np.round(x, 1))", ONE)])
def round(x, decimals=0):
    ans = np.round(x, decimals=decimals)


@rule(zero_gradient=True, checks=[("x * (np.rint(x))", ONE)])
def rint(x):
    ans = np.rint(x)


@rule(zero_gradient=True, aliases=["numpy.fix"], checks=[("x * (np.trunc(x))", ONE)])
def trunc(x):
    ans = np.trunc(x)


@rule(zero_gradient=True, checks=[("x * (np.isnan(x))", ONE)])
def isnan(x):
    ans = np.isnan(x)


@rule(zero_gradient=True, checks=[("x * (np.isfinite(x))", ONE)])
def isfinite(x):
    ans = np.isfinite(x)


@rule(zero_gradient=True, checks=[("x * (np.isinf(x))", ONE)])
def isinf(x):
    ans = np.isinf(x)


@rule(zero_gradient=True, method="argmax", checks=[("x[np.argmax(x, axis=1)]", [{"x": (3, 3)}]), ("x * x.argmax()", [{"x": (4,)}])])
def argmax(x, axis=None, *, keepdims=False):
    ans = np.argmax(x, axis=axis, keepdims=keepdims)


@rule(zero_gradient=True, method="argmin", checks=[("x[np.argmin(x, axis=0)]", [{"x": (3, 3)}]), ("x * x.argmin()", [{"x": (4,)}])])
def argmin(x, axis=None, *, keepdims=False):
    ans = np.argmin(x, axis=axis, keepdims=keepdims)


@rule(zero_gradient=True, attribute="shape", checks=[("x * np.shape(x)[0]", [{"x": (3,)}]), ("x * x.shape[1]", [{"x": (2, 3)}])])
def shape(x):
    ans = np.shape(x)


@rule(zero_gradient=True, attribute="size", checks=[("x / np.size(x)", [{"x": (2, 3)}]), ("x / x.size", [{"x": (3,)}])])
def size(x, axis=None):
    ans = np.size(x, axis=axis)


@rule(zero_gradient=True, attribute="ndim", checks=[("x * np.ndim(x)", [{"x": (2, 3)}]), ("x * x.ndim", [{"x": (3,)}])])
def ndim(x):
    ans = np.ndim(x)


@rule(zero_gradient=True, checks=[("x / len(x)", [{"x": (4,)}, {"x": (2, 3)}])])
def len(x):
    ans = len(x)


@rule(zero_gradient=True, checks=[("x + np.zeros(3)", [{"x": ()}]), ("x + np.zeros((2, 3))", [{"x": (3,)}]), ("x + np.zeros(x.shape)", [{"x": (2, 2)}])])
def zeros(shape):
    ans = np.zeros(shape)


@rule(zero_gradient=True, checks=[("x * np.ones(3)", [{"x": ()}]), ("x * np.ones((2, 3))", [{"x": (3,)}])])
def ones(shape):
    ans = np.ones(shape)


@rule(zero_gradient=True, checks=[("x + np.zeros_like(x)", [{"x": (3,)}])])
def zeros_like(x):
    ans = np.zeros_like(x)


@rule(zero_gradient=True, checks=[("x * np.ones_like(x)", [{"x": (2, 3)}])])
def ones_like(x):
    ans = np.ones_like(x)


@rule(
    zero_gradient=["shape"],
    checks=[("np.full(3, v)", [{"v": ()}]), ("x * np.full((2, 3), v)", [{"x": (3,), "v": ()}, {"x": (3,), "v": (3,)}])],
)
def full(shape, fill_value):
    ans = np.full(shape, fill_value)
    d_fill_value = _unbroadcast(d_ans, fill_value)
    t_ans = np.full(np.shape(ans), t_fill_value)


@rule(zero_gradient=["x"], checks=[("np.full_like(x, v)", [{"x": (2, 3), "v": ()}]), ("x * np.full_like(x, v)", [{"x": (3,), "v": ()}])])
def full_like(x, fill_value):
    ans = np.full_like(x, fill_value)
    d_fill_value = _unbroadcast(d_ans, fill_value)
    t_ans = np.full(np.shape(ans), t_fill_value)


@rule(zero_gradient=True, checks=[("x @ np.eye(3)", [{"x": (2, 3)}]), ("x * np.eye(2, 3, k=1)", [{"x": (3,)}])])
def eye(N, M=None, k=0):
    ans = np.eye(N, M=M, k=k)


@rule(zero_gradient=True, checks=[("x * np.arange(3)", [{"x": ()}]), ("x * np.arange(1, 7, 2)", [{"x": (3,)}])])
def arange(start, stop=None, step=None):
    ans = np.arange(start, stop, step)


@rule(
    linear=True,
    zero_gradient=["num", "endpoint"],
    checks=[
        ("np.linspace(a, b, 5)", [{"a": (), "b": ()}, {"a": (2,), "b": ()}]),
        ("np.linspace(a, b, 4, endpoint=False)", [{"a": (), "b": ()}]),
    ],
)
def linspace(start, stop, num=50, endpoint=True):
    """Points `start + t * (stop - start)` for t from 0 to 1 (along a new first axis)."""
    ans = np.linspace(start, stop, num=num, endpoint=endpoint)
    t = np.reshape(np.linspace(0.0, 1.0, num, endpoint), (-1,) + (1,) * (np.ndim(ans) - 1))
    d_start = _unbroadcast(np.sum(d_ans * (1.0 - t), axis=0), start)
    d_stop = _unbroadcast(np.sum(d_ans * t, axis=0), stop)


@rule(
    linear=True,
    aliases=["numpy.asarray"],
    sequences=["x"],
    checks=[("np.array([a, b, 2.0 * a])", [{"a": (), "b": ()}, {"a": (2,), "b": (2,)}]), ("np.asarray(x)", [{"x": (3,)}])],
)
def array(x):
    """A list or tuple of values becomes one array along a new first axis."""
    ans = np.array(x)
    d_x = list(d_ans) if isinstance(x, (list, tuple)) else d_ans


@rule(linear=True, checks=[("float(np.sum(x))", [{"x": (3,)}])])
def float(x):
    ans = float(x)
    d_x = d_ans


@rule(zero_gradient=True, checks=[("x * int(np.sum(x > 0))", [{"x": (3,)}])])
def int(x):
    ans = int(x)


@rule(zero_gradient=True, checks=[("x * np.heaviside(x, 0.5)", ONE)])
def heaviside(x, h0):
    ans = np.heaviside(x, h0)


@rule(zero_gradient=True, checks=[("x * np.signbit(x)", ONE)])
def signbit(x):
    ans = np.signbit(x)


@rule(zero_gradient=True, checks=[("x * np.argsort(x)", ONE)], method="argsort")
def argsort(x, axis=-1):
    ans = np.argsort(x, axis=axis)


@rule(zero_gradient=True, checks=[("x * np.count_nonzero(x > 0)", ONE)])
def count_nonzero(x, axis=None):
    ans = np.count_nonzero(x, axis=axis)


@rule(zero_gradient=True, checks=[("x * np.any(x > 0)", ONE)], method="any")
def any(x, axis=None):
    ans = np.any(x, axis=axis)


@rule(zero_gradient=True, checks=[("x * np.all(x > -5.0)", ONE)], method="all")
def all(x, axis=None):
    ans = np.all(x, axis=axis)


@rule(zero_gradient=True, checks=[("x * np.searchsorted(z, x)", [{"x": (3,), "z": [-1.0, 0.0, 1.0]}])])
def searchsorted(a, v, side="left"):
    ans = np.searchsorted(a, v, side=side)


@rule(zero_gradient=True, checks=[("x * np.digitize(x, z)", [{"x": (3,), "z": [-1.0, 0.0, 1.0]}])])
def digitize(x, bins, right=False):
    ans = np.digitize(x, bins, right=right)
