"""The simplifier's rewrites are exact: the rewritten expression gives the same bits."""

import libcst as cst
import numpy as np
import pytest

from codegen.expressions import code
from codegen.optimize import simplify

CASES = [
    ("a + (-b) * c", "a - b * c"),
    ("a - (-b) / c", "a + b / c"),
    ("-(-b * c)", "b * c"),
    ("-(-(b) / c)", "b / c"),
    ("-(-a)", "a"),
    ("a - (-b)", "a + b"),
    ("a * 1", "a"),
    ("-1 * a", "-a"),
    ("a + 0", "a"),  # exact but for the sign of zero: -0.0 + 0 is +0.0
    ("2 * 3.0 * a", "6.0 * a"),
]


@pytest.mark.parametrize("before, after", CASES)
def test_rewrite_is_the_expected_one_and_exact(before, after):
    rewritten = code(simplify(cst.parse_expression(before)))
    assert rewritten.replace(" ", "") == after.replace(" ", "")
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, 1e-300, -1e300, np.inf, -np.inf, 3.0])
    env = {k: np.concatenate([rng.normal(size=50) * 10.0 ** rng.integers(-8, 8, size=50), np.roll(special, i)])
           for i, k in enumerate("abc")}
    with np.errstate(all="ignore"):
        want, got = eval(before, {}, env), eval(rewritten, {}, env)
    np.testing.assert_array_equal(got, want)  # NaN where NaN, else the same value
    if before != "a + 0":  # the same signed zeros too (a NaN's sign means nothing)
        numbers = ~np.isnan(want)
        assert np.array_equal(np.signbit(got)[numbers], np.signbit(want)[numbers])


FACTORED = [
    ("d * a * b + d * b - d * c * a", "d * (a * b + b - c * a)"),
    ("-d * a + d * b", "d * (-a + b)"),
    ("d * a - (d * b - d * c)", "d * (a - b + c)"),
    ("d * a + c * b", "d * a + c * b"),  # no common leading factor: left alone
    ("d * a + d", "d * a + d"),  # a bare term: left alone
]


@pytest.mark.parametrize("before, after", FACTORED)
def test_adjoint_sums_factor_their_common_adjoint(before, after):
    from codegen.optimize import factor

    rewritten = code(factor(cst.parse_expression(before)))
    assert rewritten.replace(" ", "") == after.replace(" ", "")
    rng = np.random.default_rng(1)
    env = {k: rng.uniform(1.0, 2.0, size=200) for k in "abcd"}
    # Regrouped rounding: a few ulps of the sum of the terms' magnitudes (the inputs
    # are positive, so that sum is the expression with every `-` made a `+`).
    magnitude = eval(before.replace("-", "+"), {}, env)
    error = np.abs(eval(rewritten, {}, env) - eval(before, {}, env))
    assert np.all(error <= 8 * np.finfo(float).eps * magnitude)


def _generated(source: str, wrt: str) -> tuple[str, dict]:
    import codegen

    text = codegen.generate(source, "f", wrt)
    namespace: dict = {}
    exec(text, namespace)
    return text, namespace


def test_the_unit_seed_multiplies_nothing_known_to_be_a_float():
    """The lecture's loss: `d_L * (p - y)` is `p - y` (p is a float: a true division),
    one pass over the arrays fewer, and the gradient is unchanged."""
    source = (
        "import numpy as np\n\n\ndef f(w, X, y):\n    h = w * X\n    p = 1 / (1 + np.exp(-h))\n"
        "    L = np.sum(-y * np.log(p) - (1 - y) * np.log(1 - p))\n    return L\n"
    )
    text, namespace = _generated(source, "w")
    body = text.split("def grad_f")[0]
    assert "d_L" not in body and "_unbroadcast(p - y, h, y)" in body
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=200), (rng.random(200) < 0.5).astype(float)
    p = 1 / (1 + np.exp(-0.3 * X))
    assert np.isclose(namespace["grad_f"](0.3, X, y), np.sum((p - y) * X), rtol=1e-12)


@pytest.mark.parametrize("body", ["np.sum(x * y)", "np.sum(-x * y)", "np.sum(x * -y)", "-np.sum(x * y)"])
def test_the_unit_seed_stays_on_data_of_unknown_kind(body):
    """`1.0 * y` with unsigned integer labels is a float array; `-y` would wrap around
    (255 for -1): the seed's product stays where a factor's kind is not known. (Where
    the loss itself negates y, its derivative is the wrapped -y, as NumPy computes.)"""
    text, namespace = _generated(f"import numpy as np\n\n\ndef f(x, y):\n    return {body}\n", "x")
    x, y = np.array([0.5, 2.0, -1.0]), np.array([1, 0, 3], dtype=np.uint8)
    want = {"np.sum(x * y)": y * 1.0, "np.sum(x * -y)": (-y) * 1.0}.get(body, -1.0 * y)
    got = namespace["grad_f"](x, y)
    assert got.dtype == np.float64 and "_unbroadcast_product(d_value" not in text
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "a, b, x, others",
    [
        (np.arange(6.0), np.linspace(-1, 1, 6), 0.5, ()),  # the dot product
        (np.arange(6.0).reshape(2, 3), np.ones((2, 3)), 0.5, ((2, 3),)),
        (np.arange(3.0), np.ones(3), 0.5, ((4, 3),)),  # broadcast by another operand: counted 4 times
        (np.arange(3.0), np.ones((2, 3)), np.zeros(3), ()),  # summed over axis 0 only
        (np.array([True, False, True]), np.array([True, True, False]), 0.0, ()),  # bools: a sum, not a logical dot
        (np.arange(3), np.arange(3), 0.0, ()),
        (2.0, np.arange(3.0), np.zeros(3), ()),
    ],
)
def test_a_sum_of_products_is_the_sum_of_the_product(a, b, x, others):
    text, namespace = _generated("import numpy as np\n\n\ndef f(w, X, Y):\n    return np.sum(w * X * Y)\n", "w")
    assert "_unbroadcast_product(" in text.split("def grad_f")[1].split("# Helpers")[0]
    product, unbroadcast = namespace["_unbroadcast_product"], namespace["_unbroadcast"]
    others = tuple(np.zeros(s) for s in others)
    want = unbroadcast(a * b, x, *others)
    got = product(a, b, x, *others)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-14)
