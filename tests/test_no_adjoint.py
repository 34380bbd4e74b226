"""Paths on which an adjoint gets no contribution at all: a branch that overwrote the
value, a loop that ran no iteration (or overwrote it), a `break`. The rule that made
the value must not run there: its local partial may be infinite (`np.sqrt`, `np.log`
and `1 / x` at 0), and `0 * inf` is nan where the function does not depend on the
value. Each case is at such a point, and is checked against central differences and
autograd (which never reaches the rule, as the value is unused)."""

import numpy as np
import pytest

from codegen import generate
from codegen.verify import check_gradient
from conftest import assert_matches_autograd, load_generated

IMPORT = "import numpy as np\n\n\n"
A = np.array([0.0, 0.5, 0.3])

# (id, source, inputs, the gradient with respect to the first parameter)
CASES = [
    (
        "issue-example-overwritten-on-the-branch-taken",
        "def f(a):\n    v = np.sqrt(a)\n    if np.sum(a) > -10:\n        v = 0.5 * a\n    return np.sum(v)\n",
        {"a": A}, np.full(3, 0.5),
    ),
    (
        "overwritten-in-the-else-taken",
        "def f(a):\n    v = np.log(a)\n    if np.sum(a) < -10:\n        w = v * 2.0\n    else:\n        v = a * 3.0\n        w = v\n    return np.sum(w)\n",
        {"a": A}, np.full(3, 3.0),
    ),
    (
        "one-over-zero-overwritten-by-an-elif",
        "def f(a):\n    v = 1.0 / a\n    if np.sum(a) > 5.0:\n        s = np.sum(v)\n    elif np.sum(a) > 0.0:\n        s = np.sum(a ** 2)\n"
        "    else:\n        s = np.sum(v) * 2.0\n    return s\n",
        {"a": A}, 2.0 * A,
    ),
    (
        "overwritten-in-every-pass-of-a-loop",
        "def f(a, n=2):\n    v = np.sqrt(a)\n    for i in range(n):\n        v = 0.5 * a + i\n    return np.sum(v)\n",
        {"a": A}, np.full(3, 0.5),
    ),
    (
        "overwritten-in-a-while-loop",
        "def f(a):\n    v = np.sqrt(a)\n    k = 0\n    while k < 3:\n        v = a * 2.0\n        k = k + 1\n    return np.sum(v)\n",
        {"a": A}, np.full(3, 2.0),
    ),
    (
        "overwritten-in-some-passes",
        "def f(a):\n    v = np.sqrt(a)\n    for i in range(4):\n        if i == 2:\n            v = a * 1.5\n        else:\n            v = v * 1.0\n    return np.sum(v)\n",
        {"a": A}, np.full(3, 1.5),
    ),
    (
        "read-only-in-a-loop-that-runs-no-pass",
        "def f(a, n=0):\n    b = np.sqrt(a)\n    s = np.sum(a)\n    for i in range(n):\n        s = s + np.sum(b)\n    return s\n",
        {"a": A}, np.ones(3),
    ),
    (
        "read-only-in-a-while-that-runs-no-pass",
        "def f(a):\n    b = np.log(a)\n    s = np.sum(a * 2.0)\n    k = 0\n    while k < 0:\n        s = s + np.sum(b)\n        k = k + 1\n    return s\n",
        {"a": A}, np.full(3, 2.0),
    ),
    (
        "read-only-after-a-break-on-the-first-pass",
        "def f(a):\n    b = np.sqrt(a)\n    s = np.sum(a)\n    for i in range(3):\n        if i == 0:\n            break\n        s = s + np.sum(b)\n    return s\n",
        {"a": A}, np.ones(3),
    ),
    (
        "read-only-in-a-loop-inside-a-branch-not-taken",
        "def f(a):\n    b = np.sqrt(a)\n    s = np.sum(a)\n    if np.sum(a) < 0:\n        for i in range(3):\n            s = s + np.sum(b)\n    return s\n",
        {"a": A}, np.ones(3),
    ),
    (
        "a-carried-value-at-a-pole-the-loop-overwrites",
        "def f(a):\n    x = np.sqrt(a * 0.0)\n    s = 0.0\n    for i in range(2):\n        if i > 0:\n            s = s + np.sum(np.sqrt(x))\n"
        "        x = a + 1.0\n    return s + np.sum(x)\n",
        {"a": A}, 0.5 / np.sqrt(A + 1.0) + 1.0,
    ),
    (
        "a-helper-that-returns-early",
        "def g(u):\n    r = np.sqrt(u)\n    if np.sum(u) > -1.0:\n        return np.sum(u * 4.0)\n    return np.sum(r)\n\n\ndef f(a):\n    return g(a)\n",
        {"a": A}, np.full(3, 4.0),
    ),
    (
        "scalars",
        "def f(x: float, y: float):\n    v = np.log(x)\n    if y > 0.0:\n        v = y * 3.0\n    return v + x\n",
        {"x": 0.0, "y": 2.0}, 1.0,
    ),
]


@pytest.mark.parametrize("source, kwargs, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_no_rule_runs_on_a_path_without_an_adjoint(source, kwargs, expected):
    wrt = [next(iter(kwargs))]
    text = generate(IMPORT + source, "f", wrt)
    module = load_generated(text)
    with np.errstate(divide="ignore", invalid="ignore"):
        value, grad = module.value_and_grad_f(**kwargs)
        assert np.array_equal(module.grad_f(**kwargs), grad)
    assert np.all(np.isfinite(grad)), grad
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    original = load_generated(IMPORT + source, "original").f
    with np.errstate(divide="ignore", invalid="ignore"):
        report = check_gradient(original, module.value_and_grad_f, kwargs, wrt, tolerance=1e-6)
        assert report.ok, str(report) + "\n" + text
        assert_matches_autograd(IMPORT + source, module.grad_f, wrt, kwargs, atol=1e-12)


def test_code_without_such_a_path_is_as_before():
    """No `None` where every path contributes: the branches assign the adjoint, and a
    parameter's adjoint starts at 0.0."""
    source = IMPORT + "def f(a, x):\n    if x > 0:\n        y = np.sin(a) * x\n    else:\n        y = np.cos(a)\n    return np.sum(y)\n"
    text = generate(source, "f", ["a"])
    assert "None" not in text.split("# Helpers")[0]
