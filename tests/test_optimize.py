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
