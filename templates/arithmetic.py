"""The arithmetic operators and their NumPy names: + - * / ** // % and unary - +.

Binary operators broadcast, so each contribution is summed back to its operand's
shape; the generator skips that when the shapes are known to be equal."""

import numpy as np


@rule(elementwise=True, aliases=["numpy.add"])
def add(x, y):
    ans = x + y
    d_x = d_ans
    d_y = d_ans


@rule(elementwise=True, aliases=["numpy.subtract"])
def subtract(x, y):
    ans = x - y
    d_x = d_ans
    d_y = -d_ans


@rule(elementwise=True, aliases=["numpy.multiply"])
def multiply(x, y):
    ans = x * y
    d_x = d_ans * y
    d_y = d_ans * x


@rule(elementwise=True, domain={"y": "nonzero"}, aliases=["numpy.true_divide", "numpy.divide"])
def true_divide(x, y):
    ans = x / y
    d_x = d_ans / y
    d_y = -d_ans * ans / y


@rule(
    elementwise=True,
    domain={"x": "positive"},
    aliases=["numpy.power", "builtins.pow"],
    checks=[("x ** y", [{"x": (), "y": ()}, {"x": (3,), "y": (3,)}, {"x": (2, 3), "y": ()}, {"x": (), "y": (2, 3)}, {"x": (2, 1), "y": (1, 3)}]),
            ("x ** 2 + x ** 3.0", [{"x": (3,)}]), ("np.power(x, 0.5)", [{"x": (3,)}]),
            ("np.power(x * z, y)", [{"x": (4,), "y": [0.0, 3.0, 2.0, 1.0], "z": [0.0, 0.0, 0.0, 1.0]}], ["x"]),
            ("np.power(z, y * y + 0.5)", [{"y": (3,), "z": [0.0, 0.0, 2.0]}, {"y": (), "z": 0.0}])],
    policy="at x == 0: d/dx is 0 where y == 0 (x ** 0 is 1) and inf where 0 < y < 1, d/dy is 0",
)
def power(x, y):
    """x ** y. At a zero base the exponent's gradient takes log(x) as 0 (the limit
    for y > 0), and the base's is 0 where y == 0 and inf where 0 < y < 1 (as for
    np.sqrt), for Python numbers too: it never raises ZeroDivisionError or gives
    nan there. An exponent that is a number >= 1 gets the plain `y * x ** (y - 1)`."""
    ans = x**y
    d_x = d_ans * y * x ** (y - 1) if np.all(y >= 1) else d_ans * _power_slope(x, y)
    d_y = d_ans * ans * np.log(np.where(x == 0, 1.0, x))


def _power_slope(x, y):
    """y * x ** (y - 1), the derivative of x ** y in x, computed by NumPy (0.0 **
    -0.5 is inf, not ZeroDivisionError) and 0 where y == 0 (not 0 * inf at x == 0)."""
    return np.multiply(y, np.power(x, np.where(np.equal(y, 0), 1.0, np.subtract(y, 1.0))))


@rule(
    domain={"x": "positive"},
    checks=[("_power_slope(x, y)", [{"x": (3,), "y": (3,)}, {"x": (), "y": ()}, {"x": (2, 3), "y": (3,)}])],
)
def power_slope(x, y):
    """`_power_slope(x, y)`, y * x ** (y - 1), in a JVP read back (--mode hvp)."""
    ans = _power_slope(x, y)
    d_x = _unbroadcast(d_ans * y * _power_slope(x, np.subtract(y, 1.0)), x)
    d_y = _unbroadcast(d_ans * np.power(x, np.subtract(y, 1.0)) * (1.0 + y * np.log(np.where(x == 0, 1.0, x))), y)
    t_ans = t_x * y * _power_slope(x, np.subtract(y, 1.0)) + t_y * np.power(x, np.subtract(y, 1.0)) * (1.0 + y * np.log(np.where(x == 0, 1.0, x)))


@rule(elementwise=True, aliases=["numpy.negative"])
def negative(x):
    ans = -x
    d_x = -d_ans


@rule(elementwise=True, aliases=["numpy.positive"])
def positive(x):
    ans = +x
    d_x = d_ans


@rule(elementwise=True, zero_gradient=True, domain={"y": "nonzero"}, aliases=["numpy.floor_divide"],
      policy="piecewise constant: zero gradient, also at the jumps")
def floor_divide(x, y):
    ans = x // y


@rule(elementwise=True, domain={"y": "positive"}, aliases=["numpy.remainder", "numpy.mod"],
      policy="x % y == x - y * floor(x / y): at the jumps, the right-hand derivative")
def remainder(x, y):
    ans = x % y
    d_x = d_ans
    d_y = -d_ans * np.floor_divide(x, y)


@rule(elementwise=True, domain={"x": "positive"})
def float_power(x, y):
    """x ** y in float64."""
    ans = np.float_power(x, y)
    d_x = d_ans * y * np.float_power(x, y - 1.0)
    d_y = d_ans * ans * np.log(x)


@rule(elementwise=True, domain={"x": "nonzero", "y": "nonzero"}, policy="at x == 0, 0 (the mean of the two sides, as abs)")
def copysign(x, y):
    """|x| with the sign of y: locally constant in y."""
    ans = np.copysign(x, y)
    d_x = d_ans * np.sign(x) * np.copysign(1.0, y)


@rule(elementwise=True, domain={"y": "nonzero"}, policy="at the jumps, the derivative of the piece on the side of x's sign")
def fmod(x, y):
    """x - y * trunc(x / y), with the sign of x (C's fmod)."""
    ans = np.fmod(x, y)
    d_x = d_ans
    d_y = -d_ans * np.trunc(x / y)


@rule(elementwise=True, zero_gradient=["n"], checks=[("np.ldexp(x, 3)", [{"x": ()}, {"x": (3,)}]), ("np.ldexp(x, n)", [{"x": (2,), "n": [1, -2]}])])
def ldexp(x, n):
    """x * 2 ** n, for integer n."""
    ans = np.ldexp(x, n)
    d_x = d_ans * np.ldexp(1.0, n)


@rule(elementwise=True, linear=True, aliases=["numpy.conj"], method=["conjugate", "conj"])
def conjugate(x):
    """The complex conjugate: x itself for a real x."""
    ans = np.conjugate(x)
    d_x = d_ans


@rule(elementwise=True, linear=True, checks=[("np.real(x)", [{"x": ()}, {"x": (3,)}])])
def real(x):
    """The real part: x itself for a real x."""
    ans = np.real(x)
    d_x = d_ans


@rule(linear=True, method="item", compute="a.item()", checks=[("x.item() * 2.0", [{"x": (1,)}, {"x": (1, 1)}])])
def to_item(a):
    """`a.item()`: the one element of a size-1 array as a Python number (with an
    index, `a.item(3)`, it is refused: write `np.ravel(a)[3]`)."""
    ans = np.ndarray.item(a)
    d_a = _fill(d_ans, a)


@rule(elementwise=True, linear=True, checks=[("np.float64(x) * 2.0", [{"x": ()}, {"x": (3,)}])])
def float64(x):
    """`np.float64(x)`: x as float64 (a number, or an array of float64)."""
    ans = np.float64(x)
    d_x = d_ans


@rule(
    zero_gradient=["dtype"],
    method="astype",
    compute="x.astype(dtype)",
    policy="a cast to an integer or boolean type is piecewise constant: zero gradient",
    checks=[("x.astype(float) * x", [{"x": (3,)}]), ("x.astype('float64') * 2.0", [{"x": (2, 3)}]), ("x.astype(int) * x", [{"x": (3,)}])],
)
def astype(x, dtype):
    """`x.astype(dtype)`: the derivative passes through a cast to a floating type
    (float, np.float64, np.float32, 'float64'), and is 0 through one to an integer or
    boolean type, whose values are constant between the jumps. Which one it is, is
    read from dtype where the code runs."""
    ans = np.ndarray.astype(x, dtype)
    d_x = _through_cast(d_ans, dtype)
    t_ans = _through_cast(t_x, dtype)


def _through_cast(d, dtype):
    """d where dtype is a floating type, else 0."""
    return d if np.issubdtype(np.dtype(dtype), np.floating) else 0.0 * d


@rule(elementwise=True, linear=True, zero_gradient=["tol"], checks=[("np.real_if_close(x)", [{"x": ()}, {"x": (3,)}])])
def real_if_close(a, tol=100):
    """The real part where the imaginary part is close to 0: a itself for a real a."""
    ans = np.real_if_close(a, tol=tol)
    d_a = d_ans


@rule(zero_gradient=True, checks=[("x * np.imag(x)", [{"x": (3,)}])])
def imag(val):
    """The imaginary part: 0 for a real val (codegen differentiates real code)."""
    ans = np.imag(val)


@rule(zero_gradient=True, checks=[("x * np.angle(x)", [{"x": (3,)}])], policy="0 at 0 (where a real x's angle jumps from pi to 0)")
def angle(z, deg=False):
    """The angle of a complex number: 0 or pi for a real z, locally constant."""
    ans = np.angle(z, deg=deg)
