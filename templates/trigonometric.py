"""Circular and hyperbolic functions, their inverses, and angle conversions."""

import numpy as np


@rule(elementwise=True)
def sin(x):
    ans = np.sin(x)
    d_x = d_ans * np.cos(x)


@rule(elementwise=True)
def cos(x):
    ans = np.cos(x)
    d_x = -d_ans * np.sin(x)


@rule(elementwise=True)
def tan(x):
    ans = np.tan(x)
    d_x = d_ans * (1.0 + ans * ans)


@rule(elementwise=True, domain={"x": "unit"})
def arcsin(x):
    ans = np.arcsin(x)
    d_x = d_ans / np.sqrt(1.0 - x * x)


@rule(elementwise=True, domain={"x": "unit"})
def arccos(x):
    ans = np.arccos(x)
    d_x = -d_ans / np.sqrt(1.0 - x * x)


@rule(elementwise=True)
def arctan(x):
    ans = np.arctan(x)
    d_x = d_ans / (1.0 + x * x)


BROADCAST = [{"x": (), "y": ()}, {"x": (3,), "y": (3,)}, {"x": (2, 3), "y": ()}, {"x": (), "y": (2, 3)}, {"x": (2, 1), "y": (1, 3)}]


@rule(elementwise=True, domain={"y": "nonzero", "x": "nonzero"}, policy="0 at x == y == 0, where the angle is undefined",
      checks=[("np.arctan2(y, x)", BROADCAST), ("np.arctan2(y * z, x * z)", [{"x": (3,), "y": (3,), "z": [0.0, 1.0, 0.0]}])])
def arctan2(y, x):
    """The squared radius is x / r / r, not x / (x * x + y * y), which underflows."""
    ans = np.arctan2(y, x)
    radius = np.hypot(x, y)
    length = np.where(radius == 0, 1.0, radius)
    d_y = d_ans * (x / length) / length
    d_x = -d_ans * (y / length) / length


@rule(elementwise=True)
def sinh(x):
    ans = np.sinh(x)
    d_x = d_ans * np.cosh(x)


@rule(elementwise=True)
def cosh(x):
    ans = np.cosh(x)
    d_x = d_ans * np.sinh(x)


@rule(elementwise=True)
def tanh(x):
    ans = np.tanh(x)
    d_x = _tanh_slope(d_ans, ans)


def _tanh_slope(d, ans):
    """d * (1 - ans ** 2), the adjoint of x in ans = np.tanh(x), written so that NumPy
    reuses its temporaries (3 arrays, not 4). On PyTorch tensors it is torch's own
    one-pass kernel (runtime.py's _torch_numpy)."""
    return -(d * (ans * ans - 1.0))


@rule(elementwise=True, checks=[("_tanh_slope(d, a)", [{"d": (3,), "a": (3,)}, {"d": (), "a": ()}, {"d": (2, 3), "a": (3,)}])])
def tanh_slope(d, a):
    """`_tanh_slope(d, a)`, d * (1 - a ** 2), in a JVP read back (--mode hvp)."""
    ans = _tanh_slope(d, a)
    d_d = _tanh_slope(d_ans, a)
    d_a = -2.0 * d_ans * d * a


@rule(elementwise=True)
def arcsinh(x):
    ans = np.arcsinh(x)
    d_x = d_ans / np.sqrt(x * x + 1.0)


@rule(elementwise=True, domain={"x": "above1"})
def arccosh(x):
    ans = np.arccosh(x)
    d_x = d_ans / np.sqrt(x * x - 1.0)


@rule(elementwise=True, domain={"x": "unit"})
def arctanh(x):
    ans = np.arctanh(x)
    d_x = d_ans / (1.0 - x * x)


@rule(elementwise=True, domain={"x": "nonzero", "y": "nonzero"}, policy="subgradient 0 at x == y == 0",
      checks=[("np.hypot(x, y)", BROADCAST), ("np.hypot(x * z, y * z)", [{"x": (3,), "y": (3,), "z": [0.0, 1.0, 0.0]}])])
def hypot(x, y):
    ans = np.hypot(x, y)
    length = np.where(ans == 0, 1.0, ans)
    d_x = d_ans * x / length
    d_y = d_ans * y / length


@rule(elementwise=True, aliases=["numpy.radians"])
def deg2rad(x):
    ans = np.deg2rad(x)
    d_x = d_ans * (np.pi / 180.0)


@rule(elementwise=True, aliases=["numpy.degrees"])
def rad2deg(x):
    ans = np.rad2deg(x)
    d_x = d_ans * (180.0 / np.pi)


@rule(elementwise=True, domain={"x": "nonzero"})
def sinc(x):
    """sin(pi x) / (pi x); its derivative (cos(pi x) - sinc(x)) / x, with the limit
    0 at x == 0."""
    ans = np.sinc(x)
    d_x = d_ans * np.where(x == 0, 0.0, (np.cos(np.pi * x) - ans) / np.where(x == 0, 1.0, x))
