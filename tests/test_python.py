"""Everyday Python in a loss (issue 12, "Python"): local functions and lambdas,
functools.partial, `:=`, ... Each case is checked against central finite
differences and, where autograd can run it, against autograd; what cannot be done
correctly is refused with a position and a message that says what to write."""

import textwrap

import numpy as np
import pytest

from codegen import CodegenError, generate
from codegen.verify import check_gradient
from conftest import assert_matches_autograd, load_generated, random_input

HEAD = "import functools\nfrom functools import partial\n\nimport numpy as np\n\n\n"

# (id, source after HEAD, wrt, inputs {name: (shape, domain)}, text the generated module must contain)
CASES = [
    (
        "local-def-closure",
        "def f(w, X):\n    scale = 2.0\n\n    def inner(v):\n        return np.sum(np.tanh(v * w)) * scale\n\n"
        "    return inner(X[0]) + inner(X[1])\n",
        ["w"], {"w": ((3,), "real"), "X": ((2, 3), "real")}, "inner_value",
    ),
    (
        # a closure reads the enclosing names as they are when it is called
        "local-def-late-binding",
        "def f(w):\n    a = 2.0 * w\n\n    def g(v):\n        return v * a\n\n    a = np.sin(w)\n    return np.sum(g(w))\n",
        ["w"], {"w": ((3,), "real")}, "g_value",
    ),
    (
        "local-def-default-evaluated-at-definition",
        "def f(w):\n    s = np.cos(w)\n\n    def g(v, t=s):\n        return v * t\n\n    s = 3.0 * w\n    return np.sum(g(w) + s)\n",
        ["w"], {"w": ((3,), "real")}, "g_value",
    ),
    (
        "local-def-in-a-loop-with-carried-value",
        "def f(w, X):\n    total = 0.0\n    for row in X:\n        def term(v):\n            return np.sum(v * row) + total\n"
        "        total = term(w) * 0.5\n    return total\n",
        ["w"], {"w": ((3,), "real"), "X": ((4, 3), "real")}, "for ",
    ),
    (
        "nested-local-defs",
        "def f(w):\n    def outer(v):\n        k = 3.0\n\n        def inner(u):\n            return u * k + v\n\n"
        "        return inner(v * v)\n\n    return np.sum(outer(w))\n",
        ["w"], {"w": ((2,), "real")}, "inner_value",
    ),
    (
        # a local function that calls one defined after it (Python looks names up at the call)
        "local-def-calls-a-later-one",
        "def f(w):\n    def g(v):\n        return h(v) * 2.0\n\n    def h(v):\n        return np.exp(v)\n\n    return np.sum(g(w))\n",
        ["w"], {"w": ((3,), "real")}, "np.exp(w)",
    ),
    (
        "lambda-assigned",
        "def f(w, b):\n    sq = lambda v: v * v\n    act = lambda v, c=1.0: np.log(c + np.exp(v))\n    return np.sum(act(sq(w) + b))\n",
        ["w", "b"], {"w": ((3,), "real"), "b": ((), "real")}, "np.log",
    ),
    (
        "lambda-called-at-once",
        "def f(w):\n    return np.sum((lambda v: np.sin(v) * w)(w * 2.0))\n",
        ["w"], {"w": ((3,), "real")}, "np.sin",
    ),
    (
        "lambda-closure-in-a-loop",
        "def f(w, X):\n    total = 0.0\n    for i in range(len(X)):\n        g = lambda v: np.sum(v * X[i])\n        total = total + g(w) ** 2\n    return total\n",
        ["w"], {"w": ((3,), "real"), "X": ((3, 3), "real")}, "for i in range",
    ),
    (
        "partial-of-a-module-helper",
        "def rbf(a, b, gamma=1.0):\n    return np.exp(-gamma * np.sum((a - b) ** 2))\n\n\n"
        "def f(w, X):\n    k = partial(rbf, gamma=0.5)\n    k2 = functools.partial(rbf, X[0])\n    return k(X[1], w) + k2(w, gamma=2.0)\n",
        ["w"], {"w": ((3,), "real"), "X": ((2, 3), "real")}, "rbf_value",
    ),
    (
        "partial-of-a-local-function-and-of-a-partial",
        "def f(w, X):\n    def lin(a, x, b):\n        return np.sum(a * x) + b\n\n    p = partial(lin, w)\n    q = partial(p, b=1.5)\n"
        "    return q(X[0]) * p(X[1], 2.0)\n",
        ["w"], {"w": ((3,), "real"), "X": ((2, 3), "real")}, "lin_value",
    ),
    (
        # partial evaluates its arguments when it is made
        "partial-arguments-evaluated-early",
        "def f(w):\n    def g(a, v):\n        return a * v\n\n    s = np.cos(w)\n    p = partial(g, s)\n    s = w * 4.0\n    return np.sum(p(w) + s)\n",
        ["w"], {"w": ((3,), "real")}, "g_value",
    ),
    (
        "assert-kept",
        "def f(w, X):\n    assert X.ndim == 2, f\"X must be a matrix, got {X.shape=}\"\n    r = X @ w\n"
        "    assert np.isfinite(np.sum(r)), 'not finite'\n    return np.sum(r ** 2)\n",
        ["w"], {"w": ((3,), "real"), "X": ((2, 3), "real")}, "assert np.ndim(X) == 2",
    ),
    (
        "raise-in-a-branch",
        "def f(w):\n    s = np.sum(w * w)\n    if s > 1e6:\n        raise ValueError(f'diverged: {s:.3f}')\n    return s * 2.0\n",
        ["w"], {"w": ((3,), "real")}, "raise ValueError(f",
    ),
    (
        # a branch that raises does not merge: `y` is defined after the `if`
        "raise-in-one-branch-of-if-else",
        "def f(w):\n    if np.sum(w) > 1e6:\n        raise RuntimeError('too big')\n    else:\n        y = np.sin(w)\n    return np.sum(y * w)\n",
        ["w"], {"w": ((3,), "real")}, "raise RuntimeError(",
    ),
    (
        "assert-raise-print-in-a-loop-and-a-helper",
        "def check(v, i):\n    assert np.isfinite(v), f'row {i}'\n    print('row', i, f'{v:.3f}')\n    return v\n\n\n"
        "def f(w, X):\n    total = 0.0\n    for i, row in enumerate(X):\n        r = check(np.sum(row * w), i)\n"
        "        if r > 1e6:\n            raise ValueError(i)\n        total = total + r * r\n    print(f'{total=}')\n    return total\n",
        ["w"], {"w": ((3,), "real"), "X": ((4, 3), "real")}, "print(f\"total={total!r}\")",
    ),
    (
        # a loop left by a return, and a raise where it ends without one
        "raise-after-a-loop-that-returns",
        "def f(w):\n    x = w\n    for i in range(20):\n        x = 0.5 * x + np.sin(w) * 0.1\n        if np.max(np.abs(x)) < 10.0:\n"
        "            return np.sum(x)\n    raise RuntimeError('no convergence')\n",
        ["w"], {"w": ((3,), "real")}, "raise RuntimeError(",
    ),
    (
        "append-in-a-loop-then-mean",
        "def f(w, X, y):\n    losses = []\n    for xi, yi in zip(X, y):\n        losses.append((np.dot(w, xi) - yi) ** 2)\n"
        "    return np.mean(losses)\n",
        ["w"], {"w": ((3,), "real"), "X": ((4, 3), "real"), "y": ((4,), "real")}, "_append(losses, ",
    ),
    (
        "append-then-stack-sum-index-and-iterate",
        "def f(w, X):\n    hs = []\n    h = w\n    for row in X:\n        h = np.tanh(h * row + 0.1)\n        hs.append(h)\n"
        "    total = 0.0\n    for v in hs:\n        total = total + np.sum(v * v)\n"
        "    return np.sum(np.stack(hs) ** 2) + sum(hs)[0] + hs[-1][1] * len(hs) + total\n",
        ["w"], {"w": ((3,), "real"), "X": ((4, 3), "real")}, "_append(hs, ",
    ),
    (
        # appended in a branch only, to a list started with items, read by two functions
        "append-in-a-branch-and-to-a-list-with-items",
        "def f(w):\n    ys = [w, 2.0 * w]\n    for i in range(5):\n        if i % 2 == 0:\n            ys.append(np.sin(w * i))\n"
        "    return np.sum(np.concatenate(ys)) + np.sum(np.stack(ys)[1:] ** 2)\n",
        ["w"], {"w": ((3,), "real")}, "_append(",
    ),
    (
        "list-appended-on-one-path-written-out-on-another",
        "def f(w):\n    ys = [w]\n    if np.sum(w) > -100.0:\n        ys.append(2.0 * w)\n    else:\n        ys = [w, 3.0 * w, w]\n"
        "    zs = []\n    if np.sum(w) > 100.0:\n        zs.append(w)\n    return np.sum(np.stack(ys) ** 2) + len(zs)\n",
        ["w"], {"w": ((3,), "real")}, "_append(",
    ),
    (
        "append-scalars-and-sum-builtin",
        "def f(w):\n    terms = []\n    for k in range(4):\n        terms.append(np.sum(w ** 2) * k)\n    return sum(terms) + np.max(terms)\n",
        ["w"], {"w": ((3,), "real")}, "_append(terms, ",
    ),
    (
        "list-comprehension",
        "def f(w, X):\n    preds = [np.tanh(np.dot(w, x)) for x in X]\n    return np.mean(np.array(preds) ** 2)\n",
        ["w"], {"w": ((3,), "real"), "X": ((4, 3), "real")}, "_append(",
    ),
    (
        "list-comprehension-with-filter-range-zip-enumerate",
        "def f(w, X):\n    a = np.sum([w * x for x in X if np.sum(x) > 0.0])\n    b = [w[i] ** 2 for i in range(len(w))]\n"
        "    c = [np.dot(w, x) * t for x, t in zip(X, w)]\n    d = [k * np.sum(x * w) for k, x in enumerate(X)]\n"
        "    return a + np.sum(b) + np.sum(c) + np.sum(d) + 1e-3 * len(X)\n",
        ["w"], {"w": ((3,), "real"), "X": ((3, 3), "real")}, "_append(",
    ),
    (
        # the comprehension's names are its own: `x` outside keeps its value
        "list-comprehension-names-are-its-own",
        "def f(w, X):\n    x = w * 2.0\n    ys = [np.sum(x * w) for x in X]\n    return np.sum(ys) + np.sum(x)\n",
        ["w"], {"w": ((3,), "real"), "X": ((3, 3), "real")}, "_append(",
    ),
    (
        "nested-list-comprehension",
        "def f(w, X):\n    return np.sum([np.sum(a * b * w) for a in X for b in X if np.sum(a) > np.sum(b)])\n",
        ["w"], {"w": ((3,), "real"), "X": ((3, 3), "real")}, "_append(",
    ),
    (
        "generator-in-sum",
        "def f(w, X):\n    return sum(np.dot(w, x) ** 2 for x in X) + sum(w[i] for i in range(2))\n",
        ["w"], {"w": ((3,), "real"), "X": ((4, 3), "real")}, "_append(",
    ),
    (
        "comprehension-in-a-loop-and-a-helper",
        "def feats(v, X):\n    return [np.sum(v * x) for x in X]\n\n\n"
        "def f(w, X):\n    total = 0.0\n    for k in range(2):\n        total = total + np.sum(np.array(feats(w * (k + 1), X)) ** 2)\n    return total\n",
        ["w"], {"w": ((3,), "real"), "X": ((2, 3), "real")}, "_append(",
    ),
    (
        # a list or tuple from each branch of `a if c else b` (the gradient was zero)
        "lists-and-tuples-from-a-conditional-expression",
        "def f(w):\n    ys = [w, 3.0 * w] if np.sum(w) > 0.0 else [2.0 * w, w]\n"
        "    a, b = (w * 2.0, np.sin(w)) if np.sum(w) < 0.0 else (w, w * w)\n"
        "    zs = [w * 2.0, w] if np.sum(w) > 100.0 else [np.cos(w)]\n"
        "    return np.sum(np.stack(ys)) + np.sum(a * b) + np.sum(np.mean(zs, axis=0))\n",
        ["w"], {"w": ((3,), "real")}, "np.stack(",
    ),
    (
        "lists-of-different-lengths-from-the-branches-of-an-if",
        "def f(w):\n    if np.sum(w) > 0.0:\n        ys = [w, 3.0 * w]\n    else:\n        ys = [2.0 * w, w, np.sin(w)]\n"
        "    return np.sum(np.stack(ys) ** 2)\n",
        ["w"], {"w": ((3,), "real")}, "_append(",
    ),
    (
        # a list of numbers carried through a loop stays a Python list (`+` joins)
        "constant-lists-carried-through-a-loop",
        "def f(w):\n    dims = [3]\n    for i in range(2):\n        dims = dims + [1]\n    shape = [3, 1]\n"
        "    for i in range(2):\n        shape = [3, 1]\n    return np.sum(np.reshape(w, shape) ** 2) * len(dims)\n",
        ["w"], {"w": ((3,), "real")}, "dims + [1]",
    ),
    (
        # a list of values rebuilt in each pass: held as a list grown by append
        "list-of-values-rebuilt-in-a-loop",
        "def f(w):\n    ys = [w, w]\n    for i in range(3):\n        ys = [ys[1], np.sin(ys[0]) * 2.0]\n    return np.sum(np.stack(ys))\n",
        ["w"], {"w": ((2,), "real")}, "_append(",
    ),
    (
        "walrus-in-a-condition",
        "def f(w):\n    if (n := np.sum(w * w)) > 0.5:\n        return n * 2.0\n    return n + np.sum(w)\n",
        ["w"], {"w": ((3,), "real")}, "n = np.sum(",
    ),
    (
        "walrus-in-an-expression",
        "def f(w):\n    y = (s := np.sin(w)) * s + (c := np.cos(w))\n    return np.sum(y * c)\n",
        ["w"], {"w": ((3,), "real")}, "s = np.sin(w)",
    ),
    (
        # a name bound by `:=` inside a loop is carried to the next pass
        "walrus-in-a-loop",
        "def f(w):\n    m = w\n    for i in range(3):\n        if np.sum(m := np.tanh(m) * 1.5) > 100.0:\n            break\n    return np.sum(m)\n",
        ["w"], {"w": ((3,), "real")}, "np.tanh",
    ),
]


def _inputs(spec, seed=0):
    rng = np.random.default_rng(seed)
    return {name: random_input(rng, shape, domain) for name, (shape, domain) in spec.items()}


@pytest.mark.parametrize("name, body, wrt, spec, expect", CASES, ids=[c[0] for c in CASES])
def test_against_finite_differences(name, body, wrt, spec, expect):
    source = HEAD + body
    text = generate(source, "f", wrt)
    assert expect in text
    module = load_generated(text)
    original = load_generated(source, "original")
    report = check_gradient(original.f, module.value_and_grad_f, _inputs(spec), wrt, directions=4)
    assert report.ok, str(report)
    grads = module.grad_f(**_inputs(spec))
    _, expected = module.value_and_grad_f(**_inputs(spec))
    for mine, theirs in zip(*(((g,) if len(wrt) == 1 else g) for g in (grads, expected))):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("name, body, wrt, spec, expect", CASES, ids=[c[0] for c in CASES])
def test_against_autograd(name, body, wrt, spec, expect):
    source = HEAD + body
    module = load_generated(generate(source, "f", wrt))
    assert_matches_autograd(source, module.grad_f, wrt, _inputs(spec, seed=1), atol=1e-12)


# (id, source after HEAD, line, column, words the message must contain); HEAD is 6 lines
REFUSED = [
    ("local-recursion", "def f(w):\n    def g(v):\n        return g(v * 0.5)\n\n    return np.sum(g(w))\n", 9, 16,
     "recursion (g -> g) cannot be differentiated; write it as a loop"),
    ("function-as-a-value", "def f(w):\n    g = lambda v: v\n    return np.sum(w * g)\n", 9, 23,
     "`g` is a function: call it here"),
    ("lambda-as-an-argument", "def f(w):\n    return np.sum(np.maximum(w, lambda v: v))\n", 8, 33,
     "a `lambda` can be assigned to a name"),
    ("def-in-a-branch", "def f(w):\n    if np.sum(w) > 0:\n        def g(v):\n            return v\n"
     "    else:\n        def g(v):\n            return -v\n    return np.sum(g(w))\n", 8, 5,
     "`g` is defined (or rebound) inside a branch of this `if`"),
    ("partial-of-numpy", "def f(w):\n    s = partial(np.sum, axis=0)\n    return s(w)\n", 8, 17,
     "functools.partial of `np.sum`"),
    ("walrus-in-a-while-test", "def f(w):\n    while (n := np.sum(w)) < 10.0:\n        w = w * 2.0\n    return n\n", 8, 12,
     "`:=` in a `while` test"),
    ("walrus-in-a-branch-of-if-expression", "def f(w):\n    y = w if np.sum(w) > 0 else (z := w * 2.0)\n    return np.sum(y)\n",
     8, 34, "`:=` in a branch of `a if c else b`"),
    ("walrus-right-of-and", "def f(w):\n    y = np.sum(w) > 0 and (z := 2.0)\n    return np.sum(w * y)\n", 8, 28,
     "`:=` on the right of `and`"),
    ("bare-raise", "def f(w):\n    if np.sum(w) > 0:\n        raise\n    return np.sum(w)\n", 9, 9, "a bare `raise`"),
    ("raise-from", "def f(w):\n    raise ValueError('a') from None\n    return np.sum(w)\n", 8, 27, "`raise ... from ...` is not supported"),
    ("raise-unknown-class", "def f(w):\n    if np.sum(w) > 0:\n        raise Oops('a')\n    return np.sum(w)\n", 9, 15,
     "raise one of Python's exceptions"),
    ("other-expression-statement", "def f(w):\n    np.exp(w)\n    return np.sum(w)\n", 8, 5, "has no effect"),
    ("list-pop", "def f(w):\n    ys = [w]\n    ys.pop()\n    return np.sum(w)\n", 9, 5, "`.pop(...)` changes a list in place"),
    ("list-pop-as-a-value", "def f(w):\n    ys = []\n    ys.append(w)\n    z = ys.pop()\n    return np.sum(z)\n", 10, 9,
     "`.pop()` on a list built with `append` is not supported"),
    ("list-item-assignment", "def f(w):\n    ys = []\n    ys.append(w)\n    ys[0] = w * 2.0\n    return np.sum(ys)\n", 10, 5,
     "`ys[0] = ...` on a list built with `append` is not supported"),
    ("list-plus", "def f(w):\n    ys = []\n    ys.append(w)\n    return np.sum(ys + ys)\n", 10, 19,
     "`+` on a list built with `append` is not supported"),
    ("append-to-an-alias", "def f(w):\n    ys = []\n    zs = ys\n    zs.append(w)\n    return np.sum(ys)\n", 10, 5,
     "would change the list that `ys` also names"),
    ("append-in-a-helper", "def add(xs, v):\n    xs.append(v)\n    return 0.0\n\n\ndef f(w):\n    ys = []\n    z = add(ys, w)\n    return np.sum(ys)\n",
     8, 5, "would change the list that `ys` in `f` also names"),
    ("append-to-an-array", "def f(w):\n    w.append(1.0)\n    return np.sum(w)\n", 8, 5, "`w` is not a list this function builds"),
    ("generator-in-np-sum", "def f(w):\n    return np.sum(v * v for v in w)\n", 8, 19, "a generator expression is supported only"),
    ("walrus-in-a-comprehension", "def f(w):\n    return np.sum([(z := v) for v in w])\n", 8, 21, "`:=` in a comprehension"),
    ("set-comprehension", "def f(w):\n    return np.sum({v for v in w})\n", 8, 19, "set comprehensions are not supported"),
    ("return-a-built-list", "def f(w):\n    ys = []\n    ys.append(w)\n    return ys\n", 10, 12, "this value is a list"),
    ("list-or-array-from-a-conditional", "def f(w):\n    ys = [w, 2.0 * w] if np.sum(w) > 0 else w * 3.0\n    return np.sum(ys)\n",
     8, 10, "this value is a tuple or list of values on one path and something else"),
    ("tuple-or-array-from-an-if", "def f(w):\n    if np.sum(w) > 0:\n        t = (w, 2.0 * w)\n    else:\n        t = w\n"
     "    return np.sum(t[0])\n", 8, 5, "`t` is a tuple or list of values on one path and something else"),
    ("local-def-with-star-args", "def f(w):\n    def g(*v):\n        return v\n    return np.sum(g(w))\n", 8, 11,
     "`*args` is not supported"),
    ("local-def-decorated", "def f(w):\n    @functools.cache\n    def g(v):\n        return v\n    return np.sum(g(w))\n", 8, 5,
     "decorated functions are not supported"),
]


@pytest.mark.parametrize("name, body, line, column, words", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_position(name, body, line, column, words):
    with pytest.raises(CodegenError) as caught:
        generate(HEAD + body, "f", "w")
    assert words in caught.value.message
    assert (caught.value.line, caught.value.col) == (line, column), str(caught.value)


def _effects_source():
    return HEAD + (
        "def f(w):\n    assert w.shape == (3,), f'shape {w.shape}'\n    s = np.sum(w * w)\n    print('s is', f'{s:.6f}')\n"
        "    if s > 10.0:\n        raise ValueError(f'too big: {s:.2f}')\n    return s\n"
    )


def test_print_runs_once_in_each_generated_function(capsys):
    """Side effects run as often as in the user's function: once per call of
    value_and_grad_<f>, once per call of grad_<f>."""
    source = _effects_source()
    module = load_generated(generate(source, "f", "w"))
    original = load_generated(source, "original")
    w = np.array([0.5, -1.0, 0.25])
    original.f(w)
    expected = capsys.readouterr().out
    assert expected == "s is 1.312500\n"
    module.value_and_grad_f(w)
    assert capsys.readouterr().out == expected
    module.grad_f(w)
    assert capsys.readouterr().out == expected


def test_assert_and_raise_fail_as_the_users_function_does():
    source = _effects_source()
    module = load_generated(generate(source, "f", "w"))
    original = load_generated(source, "original")
    for bad, kind in ((np.ones(4), AssertionError), (np.full(3, 3.0), ValueError)):
        with pytest.raises(kind) as theirs:
            original.f(bad)
        for generated in (module.value_and_grad_f, module.grad_f):
            with pytest.raises(kind) as ours:
                generated(bad)
            assert str(ours.value) == str(theirs.value)


def test_assert_is_stripped_under_python_O_as_in_the_users_function(tmp_path):
    """Generated code keeps `assert` as a statement: `python -O` strips it from the
    user's function and from the generated one alike."""
    import subprocess
    import sys

    source = HEAD + "def f(w):\n    assert np.sum(w) > 100.0, 'small'\n    return np.sum(w * w)\n"
    (tmp_path / "user.py").write_text(source)
    (tmp_path / "user_grad.py").write_text(generate(source, "f", "w"))
    script = (
        "import numpy as np, user, user_grad\nw = np.ones(3)\n"
        "print(user.f(w), user_grad.value_and_grad_f(w)[0], user_grad.grad_f(w).tolist())\n"
    )
    optimized = subprocess.run([sys.executable, "-O", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert optimized.returncode == 0, optimized.stderr
    assert optimized.stdout.split() == ["3.0", "3.0", "[2.0,", "2.0,", "2.0]"]
    plain = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode == 1 and "AssertionError: small" in plain.stderr


# -- functions imported from --include files, by module path -----------------------

KERNELS = (
    "import numpy as np\n\nfrom .util import sq\n\n\n"
    "def rbf(a, b, gamma=1.0):\n    return np.exp(-gamma * np.sum(sq(a - b)))\n"
)
UTIL = "import numpy as np\n\n\ndef sq(v):\n    return v * v\n"
PACKAGE = "from .kernels import rbf\n\n\ndef double(v):\n    return 2.0 * v\n"
FILES = {"src/mypkg/kernels.py": KERNELS, "src/mypkg/util.py": UTIL, "src/mypkg/__init__.py": PACKAGE}

IMPORTED = [
    ("from-package-module", "src/mypkg/losses.py", "from mypkg.kernels import rbf\n", "rbf(w, X[0]) + rbf(w, X[1], gamma=0.5)"),
    ("import-as", "src/mypkg/losses.py", "import mypkg.kernels as K\n", "K.rbf(w, X[0])"),
    ("import-dotted", "src/mypkg/losses.py", "import mypkg.kernels\n", "mypkg.kernels.rbf(w, X[0])"),
    ("from-package-import-module", "src/mypkg/losses.py", "from mypkg import kernels\n", "kernels.rbf(w, X[1])"),
    ("relative-from-module", "src/mypkg/losses.py", "from .kernels import rbf\n", "rbf(w, X[0])"),
    ("relative-import-module", "src/mypkg/losses.py", "from . import kernels\n", "kernels.rbf(w, X[0])"),
    ("relative-two-up", "src/mypkg/sub/losses.py", "from ..util import sq\nfrom .. import kernels\n",
     "np.sum(sq(w)) + kernels.rbf(w, X[0])"),
    ("package-init", "src/mypkg/losses.py", "from mypkg import double\nfrom . import rbf\n", "np.sum(double(w)) * rbf(w, X[1])"),
]


@pytest.mark.parametrize("name, path, imports, expression", IMPORTED, ids=[i[0] for i in IMPORTED])
def test_functions_imported_by_module_path(name, path, imports, expression):
    source = f"import numpy as np\n{imports}\n\ndef f(w, X):\n    return {expression}\n"
    text = generate(source, "f", "w", path=path, include=FILES)
    module = load_generated(text)
    # the same loss with the helpers pasted in, to run it
    flat = "import numpy as np\n\n" + UTIL.split("\n\n\n", 1)[1] + "\n\n" + KERNELS.split("\n\n\n", 1)[1] + "\n\n" + (
        PACKAGE.split("\n\n\n", 1)[1]
        + "\n\nclass _Module:\n    rbf = staticmethod(rbf)\n\n\nkernels = K = _Module()\n"
        + "class mypkg:\n    kernels = _Module()\n\n\n"
        + f"def f(w, X):\n    return {expression}\n"
    )
    original = load_generated(flat, "original")
    spec = {"w": ((3,), "real"), "X": ((2, 3), "real")}
    report = check_gradient(original.f, module.value_and_grad_f, _inputs(spec), ["w"], directions=4)
    assert report.ok, str(report)


IMPORT_REFUSED = [
    ("relative-without-include", "src/mypkg/losses.py", "from .kernels import rbf\n", "rbf(w, X[0])", {}, 9, 12,
     "comes from a relative import (`.kernels`), which codegen resolves only through --include: pass the file, "
     "as in `--include src/mypkg/kernels.py`"),
    ("relative-module-without-include", "src/mypkg/losses.py", "from . import kernels\n", "kernels.rbf(w, X[0])",
     {"src/other/kernels.py": KERNELS}, 9, 12, "`--include src/mypkg/kernels.py`"),
    ("two-files-match", "src/mypkg/losses.py", "from kernels import rbf\n", "rbf(w, X[0])",
     {"a/kernels.py": KERNELS, "b/kernels.py": KERNELS}, 9, 12, "matches more than one --include file"),
    ("no-such-function", "src/mypkg/losses.py", "from mypkg.util import cube\n", "np.sum(cube(w))",
     FILES, 9, 19, "src/mypkg/util.py (--include) defines no function `cube`"),
]


@pytest.mark.parametrize("name, path, imports, expression, include, line, column, words", IMPORT_REFUSED,
                         ids=[i[0] for i in IMPORT_REFUSED])
def test_imports_refused_with_a_position(name, path, imports, expression, include, line, column, words):
    source = f"import numpy as np\n{imports}\n\ndef f(w, X):\n    return {expression}\n"
    source = "\n" * (line - 5 - imports.count("\n")) + source  # the return on `line`
    with pytest.raises(CodegenError) as caught:
        generate(source, "f", "w", path=path, include=include)
    assert words in caught.value.message, caught.value.message
    assert (caught.value.path, caught.value.line, caught.value.col) == (path, line, column), str(caught.value)


def test_relative_import_through_the_command_line(tmp_path, monkeypatch, capsys):
    from codegen.cli import main

    for path, text in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    loss = tmp_path / "src/mypkg/losses.py"
    loss.write_text("import numpy as np\n\nfrom .kernels import rbf\n\n\ndef f(w, X):\n    return rbf(w, X[0])\n")
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "src/mypkg/losses.py::f", "-o", "out.py"]) == 2
    assert "--include src/mypkg/kernels.py" in capsys.readouterr().err
    assert not (tmp_path / "out.py").exists()
    assert main(["generate", "src/mypkg/losses.py::f", "--include", "src/mypkg/kernels.py",
                 "--include", "src/mypkg/util.py", "-o", "out.py"]) == 0
    module = load_generated((tmp_path / "out.py").read_text())
    w, X = np.array([0.1, 0.2, 0.3]), np.ones((2, 3))
    assert np.allclose(module.grad_f(w, X), 2.0 * (X[0] - w) * np.exp(-np.sum((w - X[0]) ** 2)))


def test_math_constants_are_numbers():
    # `from math import pi` and `math.tau` were refused ("is not a number").
    source = textwrap.dedent("""\
        import math
        from math import pi, e

        import numpy as np


        def f(x):
            return np.sum(np.sin(x * pi)) * e + math.tau * np.sum(x) - math.inf * 0.0
    """)
    module = load_generated(generate(source, "f", "x"))
    x = np.array([0.1, -0.4])
    value, grad = module.value_and_grad_f(x)
    np.testing.assert_allclose(grad, np.cos(x * np.pi) * np.pi * np.e + 2 * np.pi, rtol=1e-14)
