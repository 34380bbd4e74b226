"""Loops that run no pass, or leave on their first, with loops inside them: every
outer kind (for over an empty range or array, an int argument of 0, a while whose
test is false at once, `while True` or a `for` that breaks on the first pass, a loop
inside a branch not taken) around every inner kind. The generated functions must
run (a zero-trip loop once left a carried variable unbound), give the function's
value, and a gradient that agrees with central differences and with autograd."""

import itertools

import numpy as np
import pytest

from codegen import generate
from codegen.verify import check_gradient
from conftest import assert_matches_autograd, load_generated

IMPORT = "import numpy as np\n\n\n"

# The outer loop: (header lines, lines at the end of its body), indented by 4; the
# body sits at 8. `n` is an int argument (0 here). The two that break run their
# inner loop once, and leave before the end of the body.
ONE_PASS = {"while-true-break-first", "for-break-first"}
OUTER = {
    "for-range-0": (["for i in range(0):"], []),
    "for-range-n": (["for i in range(n):"], []),
    "for-range-k-k": (["for i in range(3, 3):"], []),
    "for-empty-slice": (["for e in x[:0]:"], []),
    "for-reversed-empty": (["for i in reversed(range(n)):"], []),
    "while-counter": (["j = 0", "while j < n:"], ["    j = j + 1"]),
    "while-on-a-value": (["while np.sum(y) > 1e6:"], []),
    "while-true-break-first": (["while True:"], ["    if np.sum(x) > -1e6:", "        break"]),
    "for-break-first": (["for i in range(4):"], ["    if i >= 0:", "        break"]),
    "branch-not-taken": (["if np.sum(x) < -1e6:"], []),
    "enumerate-empty": (["for i, e in enumerate(x[n:n]):"], []),
}

# The inner loop, at 8: lines that update the carried values y (an array) and s (a number).
INNER = {
    "for-range": ["for k in range(2):", "    y = np.sin(y) * w", "    s = s + np.sum(y)"],
    "for-array": ["for e in x:", "    y = y * np.cos(e)", "    s = s + e * w"],
    "while": ["m = 0", "while m < 2:", "    y = np.tanh(y + w)", "    m = m + 1"],
    "while-true": ["m = 0", "while True:", "    y = np.sqrt(y * y + 1.0)", "    m = m + 1", "    if m >= 2:", "        break"],
    "nested-twice": ["for k in range(2):", "    for q in range(2):", "        y = y * w + np.log(1.0 + y * y)"],
    "none": ["y = np.exp(-y) * w", "s = s * 2.0"],
}


def _source(outer: str, inner: str) -> str:
    header, tail = OUTER[outer]
    lines = ["def f(x, w: float, n: int = 0):", "    y = np.tanh(x) + w", "    s = w * 2.0", "    b = np.sqrt(x * 0.0)"]
    lines += ["    " + h for h in header]
    lines += ["        " + line for line in INNER[inner]]
    lines += ["    " + t for t in tail]
    lines += ["        s = s + np.sum(b)"]  # a value at a pole, read only where no pass gets to
    lines += ["    return np.sum(y * x) + s * w"]
    return IMPORT + "\n".join(lines) + "\n"


X = np.array([0.4, -0.3, 0.8])
PAIRS = list(itertools.product(OUTER, INNER))


@pytest.mark.parametrize("outer, inner", PAIRS, ids=[f"{o}-around-{i}" for o, i in PAIRS])
def test_loops_that_run_no_pass(outer, inner):
    source = _source(outer, inner)
    kwargs = {"x": X, "w": 0.7, "n": 0}
    wrt = ["x", "w"]
    text = generate(source, "f", wrt)
    module = load_generated(text)
    original = load_generated(source, "original").f
    context = f"\n{source}\n{text}"
    (value, grads), only = module.value_and_grad_f(**kwargs), module.grad_f(**kwargs)
    assert np.allclose(value, original(**kwargs), rtol=1e-12), context
    for a, b in zip(grads, only):
        assert np.array_equal(a, b), context
    assert all(np.all(np.isfinite(g)) for g in grads), context
    if outer not in ONE_PASS:  # nothing ran inside: d/dx of sum(y * x) with y = tanh(x) + w
        expected_x = (1.0 - np.tanh(X) ** 2) * X + np.tanh(X) + 0.7
        np.testing.assert_allclose(grads[0], expected_x, rtol=1e-12, err_msg=context)
    report = check_gradient(original, module.value_and_grad_f, kwargs, wrt, tolerance=1e-6)
    assert report.ok, str(report) + context
    assert_matches_autograd(source, module.grad_f, wrt, kwargs, atol=1e-12)


@pytest.mark.parametrize("outer", ["for-range-n", "while-counter"])
def test_the_same_loops_with_passes(outer):
    """The same programs with n = 2: the loops run, and the gradient is right too."""
    source = _source(outer, "for-range").replace("np.sqrt(x * 0.0)", "np.sqrt(x * x + 1.0)")
    kwargs = {"x": X, "w": 0.7, "n": 2}
    module = load_generated(generate(source, "f", ["x", "w"]))
    original = load_generated(source, "original").f
    report = check_gradient(original, module.value_and_grad_f, kwargs, ["x", "w"], tolerance=1e-6)
    assert report.ok, str(report)
    assert_matches_autograd(source, module.grad_f, ["x", "w"], kwargs, atol=1e-12)


DEAD = ["for-range-n", "for-empty-slice", "while-counter", "branch-not-taken", "for-reversed-empty"]


@pytest.mark.parametrize("outer", DEAD)
@pytest.mark.parametrize("n", [0, 2])
def test_a_carried_value_that_does_not_reach_the_result(outer, n):
    """Issue 12 item 6: a value carried through a loop with a loop inside, that the
    result never reads. Its array was released after the forward loop and again after
    the reverse loop, whose `u = tape.pop()` binds it only when a pass runs: with no
    pass, `del u` raised UnboundLocalError."""
    header, tail = OUTER[outer]
    lines = ["def f(x, w: float, n: int = 0):", "    u = x * 2.0"]
    lines += ["    " + h for h in header]
    lines += ["        for g in u:", "            pass", "        u = np.sin(u)"]
    lines += ["    " + t for t in tail]
    lines += ["    return np.sum(x * w)"]
    source = IMPORT + "\n".join(lines).replace("x[:0]", "x[:n]") + "\n"
    kwargs = {"x": X, "w": 0.7, "n": n}
    module = load_generated(generate(source, "f", ["x", "w"]))
    original = load_generated(source, "original").f
    (value, (d_x, d_w)), only = module.value_and_grad_f(**kwargs), module.grad_f(**kwargs)
    assert value == original(**kwargs)
    np.testing.assert_array_equal(d_x, np.full(3, 0.7))
    assert d_w == np.sum(X) and np.array_equal(only[0], d_x)
