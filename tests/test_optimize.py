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
