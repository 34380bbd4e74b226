"""Control flow: branches, loops, break/continue, early returns, tuple unpacking,
augmented assignment and calls to functions of the same file. Each case is checked
against finite differences and autograd, at inputs chosen so that the path the case
is about is taken (a test says which)."""

import numpy as np
import pytest

from codegen import generate
from codegen.verify import check_gradient
from conftest import assert_matches_autograd, load_generated

IMPORT = "import numpy as np\n\n\n"
RNG = np.random.default_rng(11)

LOOP_IN_ONE_BRANCH = (
    "def f(x, w: float):\n    m = x * 2.0\n    if x[0] > 0.5:\n        for i in range(2):\n"
    "            m = np.tanh(m + w)\n    else:\n        m = np.sin(m) * w\n    return np.sum(m ** 2)\n"
)

# (id, source, wrt, inputs)
CASES = [
    (
        "scalar-recurrence",
        "def f(x: float, a: float, n=200):\n    for i in range(n):\n        x = x * np.cos(x) + a * np.sin(x)\n    return x\n",
        ["x", "a"], {"x": 0.3, "a": 0.9},
    ),
    (
        "while-with-data-dependent-stop",
        "def f(x, tol=1e-3):\n    s = 0.0\n    while x > tol:\n        s = s + np.sin(x) * x\n        x = x * 0.5\n    return s\n",
        ["x"], {"x": 1.7},
    ),
    (
        "if-elif-else",
        "def f(x, a):\n    if x < -1.0:\n        y = -x * a\n    elif x < 1.0:\n        y = x ** 2 * a\n    else:\n        y = 2.0 * x - 1.0\n    return y * np.exp(a)\n",
        ["x", "a"], {"x": 0.4, "a": 1.3},
    ),
    (
        "early-returns",
        "def f(x, a):\n    if x < -1.0:\n        return -x * a\n    if x < 1.0:\n        return x ** 2 * a\n    return 2.0 * x - 1.0 + a\n",
        ["x", "a"], {"x": 2.4, "a": 1.3},
    ),
    (
        "continue-and-break",
        "def f(xs, w):\n    total = 0.0\n    for i, x in enumerate(xs):\n        if x < 0.0:\n            continue\n"
        "        total += w * x ** 2 + i * x\n        if total > 3.0:\n            break\n    return total\n",
        ["xs", "w"], {"xs": np.array([0.5, -0.2, 0.9, 0.3, 0.8, -0.6, 0.7, 0.4]), "w": 0.7},
    ),
    (
        "break-in-while",
        "def f(x, r):\n    k = 0.0\n    while True:\n        x = x * r + 0.1\n        k = k + x\n        if k > 5.0:\n            break\n    return k * x\n",
        ["x", "r"], {"x": 0.5, "r": 1.1},
    ),
    (
        "zip-and-tuple-swap",
        "def f(A, b):\n    x = b\n    for row, c in zip(A, b):\n        x = x + np.tanh(row * c)\n    a, b2 = x[0], x[1]\n    a, b2 = b2, a * 2.0\n    return a * b2 + np.sum(x)\n",
        ["A", "b"], {"A": RNG.normal(size=(3, 3)), "b": np.array([0.1, 0.2, 0.3])},
    ),
    (
        "nested-loops-over-arrays",
        "def f(W, x):\n    h = x\n    for layer in range(3):\n        for j in range(2):\n            h = np.tanh(W @ h) + 0.1 * h\n    return np.sum(h ** 2)\n",
        ["W", "x"], {"W": RNG.normal(size=(4, 4)) * 0.5, "x": np.array([0.5, -0.3, 0.2, 0.1])},
    ),
    (
        "range-start-stop-step-and-conditional-expression",
        "def f(x, n: int):\n    y = x * 1.0\n    for i in range(1, n, 2):\n        y = y + x ** i / i if i % 3 else y - x\n    return np.sum(y)\n",
        ["x"], {"x": np.array([0.3, 0.5]), "n": 9},
    ),
    (
        "loop-over-rows",
        "def f(w, X):\n    loss = 0.0\n    for row in X:\n        loss = loss + np.logaddexp(0.0, -row @ w)\n    return loss / len(X)\n",
        ["w"], {"w": RNG.normal(size=3), "X": RNG.normal(size=(5, 3))},
    ),
    (
        "augmented-assignment",
        "def f(x, y):\n    z = x * 2.0\n    z += y\n    z -= 0.5 * x\n    z *= y\n    z /= 1.0 + x ** 2\n    z **= 2\n    return np.sum(z)\n",
        ["x", "y"], {"x": RNG.normal(size=3), "y": RNG.normal(size=3)},
    ),
    (
        "branch-on-array-value-inside-loop",
        "def f(v):\n    acc = np.zeros(3)\n    for i in range(4):\n        if np.sum(acc) > 1.0:\n            acc = acc * 0.5 + v\n        else:\n            acc = acc + v ** 2\n    return np.sum(acc ** 2)\n",
        ["v"], {"v": np.array([0.5, 0.45, 0.3])},  # np.sum(acc) passes 1.0 between iterations
    ),
    (
        "helpers-with-defaults-keywords-and-tuples",
        "def normalize(v, eps=1e-8):\n    m = np.mean(v)\n    s = np.sqrt(np.var(v) + eps)\n    return (v - m) / s, m\n\n\n"
        "def stats(x):\n    return np.mean(x), np.var(x)\n\n\n"
        "def f(w, X):\n    z, mu = normalize(X @ w, eps=1e-6)\n    m, v = stats(z * mu)\n    return m + v + np.sum(np.tanh(z))\n",
        ["w"], {"w": np.array([0.3, -0.2, 0.5]), "X": RNG.normal(size=(6, 3))},
    ),
    (
        "helper-with-early-return-and-loop",
        "def clip_step(x, limit):\n    if x > limit:\n        return limit + 0.1 * (x - limit)\n    return x\n\n\n"
        "def f(x, a):\n    for i in range(5):\n        x = clip_step(x * a + 0.3, 1.0)\n    return x\n",
        ["x", "a"], {"x": 0.2, "a": 1.4},
    ),
    (
        # w is an array, though every line assigning it would compute a number from a
        # number: it starts as the parameter, so np.sin(w) must not become math.sin.
        "array-parameter-reassigned-in-a-loop-beside-a-float",
        "def f(b: float, w):\n    for i in range(3):\n        b = b / (1.0 + np.dot(w, w))\n"
        "        w = 0.2 * w + np.sin(w)\n    return b + np.sum(w)\n",
        ["b", "w"], {"b": 0.7, "w": np.array([0.3, -0.5, 0.8])},
    ),
    (
        # np.sin(v) after the loop must not stand in for np.sin(v) inside it: v is the
        # parameter on the first pass and a new value on the next.
        "loop-reassigns-a-parameter-read-after-it",
        "def f(w, v):\n    for i in range(2):\n        w = 0.25 * np.roll(w, 1) + 0.3 * np.cos(v)\n"
        "        for j in range(i):\n            v = 0.5 * np.roll(v, 1) + 0.7 * np.cos(w)\n"
        "    return np.sum(np.sin(v))\n",
        ["v"], {"w": np.array([-1.2, 0.13, -0.23, -0.52]), "v": np.array([0.29, 0.93, -0.01, -1.18])},
    ),
    (
        # `w: float` is a number: `a += ...` only rebinds `a`, and `w` keeps its value
        # (refused as aliasing before).
        "augmented-on-another-name-for-a-float-parameter",
        "def f(w: float, x):\n    a = w\n    a += np.sum(x * x)\n    a *= w\n    w -= 0.5\n"
        "    return a * w + np.sum(np.sin(x))\n",
        ["w", "x"], {"w": 0.7, "x": np.array([0.3, -0.5, 0.8])},
    ),
    # Names exchanged in a loop: the copies at the end of a pass happen all at once
    # (they were made one after another, and the second read the first's result).
    (
        "names-swapped-in-a-for-loop",
        "def f(x: float, y: float):\n    for i in range(3):\n        x, y = y, x\n"
        "        x = x * 0.5 + np.sin(y)\n    return x + 2.0 * y ** 2\n",
        ["x", "y"], {"x": 0.3, "y": -1.1},
    ),
    (
        "three-names-rotated-in-a-while-loop",
        "def f(a, b, c):\n    d = 1.0\n    k = 0\n    while k < 4:\n        a, b, c = c, a, b\n"
        "        d = d * np.sin(a + 0.5 * c)\n        k += 1\n    return np.sum(a + 2.0 * b * b + 3.0 * c * d)\n",
        ["a", "b", "c"], {"a": np.array([0.3, -0.4]), "b": np.array([1.2, 0.5]), "c": np.array([-0.7, 0.9])},
    ),
    (
        "swap-on-the-break-path",
        "def f(x: float, y: float):\n    for i in range(5):\n        x, y = y * 0.9, x\n"
        "        if i == 2:\n            break\n        y = y + np.sin(x)\n    return x * np.exp(y)\n",
        ["x", "y"], {"x": 0.3, "y": -1.1},
    ),
    # The adjoints of exp and of a division read the step's own result: a loop that
    # reassigns the name afterwards must not reuse its variable.
    (
        "exp-result-reassigned-by-a-later-loop",
        "def f(w):\n    t = np.exp(-w[2] * w[2])\n    k = 0\n    while k < 2:\n"
        "        t /= 1.5 + 0.1 * k\n        k += 1\n    return np.sin(t) + np.sum(w)\n",
        ["w"], {"w": np.array([0.3, -0.5, 0.8])},
    ),
    (
        "quotient-reassigned-by-a-later-loop",
        "def f(b: float, w: float, x):\n    b /= 1.0 + 0.1 * np.arctan(w) ** 2\n    for i in range(3):\n"
        "        k = 0\n        while True:\n            b *= 0.9 + 0.1 * np.sin(x[i])\n            k += 1\n"
        "            if k >= 2:\n                break\n    return b + w + x @ x\n",
        ["b", "w", "x"], {"b": -0.2, "w": 0.6, "x": np.array([0.3, -0.5, 0.8])},
    ),
    # A loop with a break, inside another loop: its pass count differs from one outer
    # pass to the next, and the reverse sweep must replay each (it replayed the last
    # count every time).
    (
        "loop-with-break-inside-a-loop",
        "def f(a, w: float, v):\n    t = -w\n    for e in a:\n        for i, g in enumerate(v):\n"
        "            t = t * (0.9 + 0.1 * np.sin(g)) + 0.01 * e\n            if g >= e:\n                break\n    return t ** 2\n",
        ["a", "w", "v"], {"a": np.array([1.0, -2.0]), "w": 0.5, "v": np.array([0.1, 2.0, 3.0])},
    ),
    # `return` inside a loop: a flag, a break, and the return after the loop.
    (
        "return-inside-a-loop-taken",
        "def f(x, a: float, tol=1e-3):\n    for i in range(50):\n        x = x - 0.3 * (np.tanh(x) - a)\n"
        "        if np.sum((np.tanh(x) - a) ** 2) < tol:\n            return np.sum(x * x) + i\n    return np.sum(x)\n",
        ["x", "a"], {"x": np.array([0.1, 0.2]), "a": 0.3},
    ),
    (
        "return-inside-a-loop-not-taken",
        "def f(x, a: float, tol=1e-3):\n    for i in range(5):\n        x = x - 0.3 * (np.tanh(x) - a)\n"
        "        if np.sum((np.tanh(x) - a) ** 2) < tol:\n            return np.sum(x * x) + i\n    return np.sum(x)\n",
        ["x", "a"], {"x": np.array([3.0, -2.0]), "a": 0.9},
    ),
    (
        "return-from-nested-loops-and-an-endless-while",
        "def f(v, w: float):\n    s = 0.0\n    for e in v:\n        for j in range(3):\n"
        "            s = s + np.sin(e * w) * j\n            if s > 2.0:\n                return s * w\n"
        "    k = 0\n    while True:\n        s = s * 0.5 + w\n        k += 1\n        if k > 3:\n            return s\n",
        ["v", "w"], {"v": np.array([1.1, 0.2, 0.3]), "w": 0.7},
    ),
    (
        # the loop sits in an `if`: that `if` may return too, so what follows it
        # moves into its other paths
        "return-inside-a-loop-inside-an-if",
        "def f(b, a: float):\n    if np.sum(b) < 5.0:\n        k = 0\n        while k < 3:\n"
        "            if b[k] < -0.5:\n                return np.sum(b) * a\n            a = np.tanh(a + b[k])\n"
        "            k += 1\n    return np.sum(np.sin(b)) + a\n",
        ["b", "a"], {"b": np.array([0.3, -0.9, 0.4]), "a": 0.2},
    ),
    (
        "return-inside-a-loop-of-a-helper",
        "def first_above(v, c):\n    for e in v:\n        if e > c:\n            return e * e - c\n    return c\n\n\n"
        "def f(v, c: float):\n    total = 0.0\n    for k in range(3):\n        total = total + first_above(v * (k + 1), c)\n    return total\n",
        ["v", "c"], {"v": np.array([0.3, 0.9, 1.4]), "c": 1.0},
    ),
    # Writing into arrays: each write makes the next version of the array.
    (
        "array-filled-in-a-loop",
        "def f(x, w: float):\n    out = np.zeros(len(x))\n    for i in range(len(x)):\n"
        "        out[i] = np.sin(x[i] * w) + (out[i - 1] if i > 0 else 0.0)\n    out[0] += w * 2.0\n"
        "    y = x * 1.0\n    y[1:] = out[:-1] * y[:-1]\n    y[y > 0.5] = 0.5\n    return np.sum(out ** 2) + np.sum(y * x)\n",
        ["x", "w"], {"x": np.array([0.3, -0.5, 0.8, 1.2]), "w": 0.7},
    ),
    (
        "writes-into-a-parameter-and-a-matrix",
        "def f(x, A):\n    x[0] = x[1] * x[2]\n    A[:, 1] = np.tanh(A[:, 0]) * x[:2]\n    A[1] += x[1:]\n"
        "    idx = np.array([2, 0])\n    x[idx] = A[0, 0] * x[idx]\n    return np.sum(A @ x[:2]) + np.sum(x ** 3)\n",
        ["x", "A"], {"x": np.array([0.3, -0.5, 0.8]), "A": np.array([[0.2, 0.4], [-0.3, 0.9]])},
    ),
    (
        "write-into-a-loop-carried-array-with-a-break",
        "def f(v, c: float):\n    h = v * 1.0\n    k = 0\n    while True:\n        h[k % len(h)] = np.cos(h[k % len(h)]) * c\n"
        "        k += 1\n        if np.sum(h) < 0.0 or k > 5:\n            break\n    return np.sum(h * v)\n",
        ["v", "c"], {"v": np.array([0.3, 0.9, 1.4]), "c": 1.1},
    ),
    (
        "reversed-ranges-and-arrays",
        "def f(x, w: float, n: int = 3):\n    s = 0.0\n    for i in reversed(range(len(x))):\n        s = s * 0.5 + x[i] * w\n"
        "    for i in reversed(range(1, n)):\n        s = s + np.sin(s * i)\n    for i in reversed(range(0, 7, 3)):\n"
        "        s = s + 0.1 * i * s\n    for e in reversed(x):\n        s = s * np.cos(e)\n"
        "    for i in reversed(range(n, 1, -1)):\n        s = s + x[i - 2] * i\n    return s\n",
        ["x", "w"], {"x": np.array([0.3, -0.5, 0.8]), "w": 0.7},
    ),
    (
        "python-max-min-sum",
        "def f(x, w: float):\n    s = max(w, 0.2) * min(w * w, 0.3) + np.sum(sum(x)) * w\n    for row in x:\n"
        "        s = max(s, np.sum(row)) + min(0.5, w * w)\n    return s + np.sum(sum(x * x))\n",
        ["x", "w"], {"x": np.array([[0.3, -0.5], [0.8, 1.2], [-0.4, 0.1]]), "w": 0.7},
    ),
    # A loop in one branch carries a name the other branch reads: it must not reuse
    # the name's variable (the generated code raised NameError: d_x).
    *(
        (f"loop-in-one-branch-other-branch-reads-its-name-{x0}", LOOP_IN_ONE_BRANCH, ["x", "w"],
         {"x": np.array([x0, -0.5, 0.8]), "w": 0.7})
        for x0 in (0.7, 0.2)  # the loop's branch taken, then the other
    ),
    (
        "array-written-in-a-loop-in-one-branch",
        "def f(x, w: float):\n    m = np.zeros((3, 2))\n    m[1] += x[:2]\n    if x[0] > 0.5:\n        for i in range(2):\n"
        "            m[:, 1] = np.tanh(m[:, 0] + w)\n    else:\n        m[:, 1] = np.tanh(m[:, 0] + w)\n    return np.sum(m ** 2)\n",
        ["x", "w"], {"x": np.array([0.7, -0.5, 0.8]), "w": 0.7},
    ),
    (
        # g's loop carries its parameter z, which is the caller's m: it must not
        # overwrite m's variable (the caller's m read g's last z: a wrong value)
        "helper-loop-carries-a-parameter-the-caller-reads-after",
        "def g(z):\n    for i in range(3):\n        z = np.tanh(z) + 0.5\n    return np.sum(z)\n\n\n"
        "def f(x, w: float):\n    m = x * w\n    s = g(m)\n    return s + np.sum(m ** 2)\n",
        ["x", "w"], {"x": np.array([0.7, -0.5, 0.8]), "w": 0.7},
    ),
    (
        # Python evaluates `v` once, before the loop; the body rebinding `v` does not
        # change what the loop iterates over (the generated code read the new v)
        "loop-over-an-array-the-body-rebinds",
        "def f(w, v):\n    for e in v:\n        v, w = w, 0.8 * v + 0.2 * np.sin(w)\n        w = w * np.cos(e)\n"
        "    return np.sum(w) + np.sum(v * v)\n",
        ["w", "v"], {"w": np.array([0.3, -0.5, 0.8]), "v": np.array([0.1, 0.7, -0.4])},
    ),
    # A carried name assigned after a conditional break: the pass that breaks leaves
    # it alone, so its adjoint passes through that pass (it was zeroed on every pass).
    (
        "carried-name-assigned-after-a-conditional-break",
        "def f(x: float, a):\n    for e in a:\n        if e < 5.0:\n            break\n        x = 0.2\n    return x * x + np.sum(a)\n",
        ["x", "a"], {"x": 1.3, "a": np.array([1.0, 2.0])},
    ),
    (
        "carried-name-assigned-in-the-branch-that-does-not-break",
        "def f(x: float, a):\n    for e in a:\n        if e > 1.5:\n            x = e * 2.0\n        else:\n            break\n"
        "    return x * x + np.sum(a)\n",
        ["x", "a"], {"x": 1.3, "a": np.array([1.0, 2.0, 3.0])},
    ),
    (
        # np.array copies, and a merge of two new arrays shares nothing: both accepted
        "writes-into-a-copy-and-into-a-merge-of-new-arrays",
        "def f(x):\n    u = np.array(x)\n    u[0] = 5.0\n    v = x * 2.0 if x[0] > 0 else x * 3.0\n    v[1] = u[2]\n"
        "    w = x.copy()\n    w[2] += np.copy(v)[0]\n    return np.sum(x * u) + np.sum(v * x) + np.sum(w * w)\n",
        ["x"], {"x": np.array([0.3, -1.2, 0.8, 1.7])},
    ),
    (
        # items of a nested list are active too (their gradient was lost: zero)
        "matrix-built-from-a-nested-list",
        "def f(w: float, v: float):\n    A = np.array([[w, 1.0], [2.0, w * v]])\n    return np.sum(A @ A)\n",
        ["w", "v"], {"w": 0.7, "v": 1.3},
    ),
    # `and`, `or`, `not`: Python's short-circuit evaluation, and the value that decided.
    (
        "and-or-not-in-while-and-if",
        "def f(x: float, a):\n    s = 0.0\n    k = 0\n    while not (s > 2.0 or k >= 5):\n"
        "        s = s + np.sin(x) ** 2 + 0.3\n        k += 1\n    flag = not np.sum(a) > 0.0\n"
        "    if flag and x > 0.0:\n        s = s * 2.0\n    return s * np.sum(a * a)\n",
        ["x", "a"], {"x": 0.7, "a": np.array([1.0, -2.0])},
    ),
    (
        "or-passes-the-gradient-of-the-value-that-decided",
        "def f(x: float, y: float):\n    return (x or y) * y + (x and y) * x\n",
        ["x", "y"], {"x": 0.7, "y": -1.3},
    ),
    (
        "chained-comparison",
        "def f(x: float, y):\n    if 0.0 < x <= 1.0 < np.sum(y):\n        s = x * np.sum(y)\n"
        "    else:\n        s = x - np.sum(y * y)\n    return s\n",
        ["x", "y"], {"x": 0.5, "y": np.array([1.0, 2.0])},
    ),
    (
        # `i < len(v) and v[i] > 0`: v[i] is not evaluated once i is out of range.
        "and-guards-an-index",
        "def f(v):\n    i = 0\n    s = 0.0\n    while i < len(v) and v[i] > -1.0:\n"
        "        s = s + np.exp(v[i])\n        i += 1\n    return s\n",
        ["v"], {"v": np.array([0.3, -0.5, 0.8])},
    ),
]


def _original(source):
    return load_generated(source, "original").f


@pytest.mark.parametrize("name, body, wrt, kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_finite_differences(name, body, wrt, kwargs):
    source = IMPORT + body
    module = load_generated(generate(source, "f", wrt))
    report = check_gradient(_original(source), module.value_and_grad_f, kwargs, wrt, directions=4)
    assert report.ok, str(report)
    grads = module.grad_f(**kwargs)
    _, both = module.value_and_grad_f(**kwargs)
    for a, b in zip(*(((grads,), (both,)) if len(wrt) == 1 else (grads, both))):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name, body, wrt, kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_autograd(name, body, wrt, kwargs):
    source = IMPORT + body
    assert_matches_autograd(source, load_generated(generate(source, "f", wrt)).grad_f, wrt, kwargs, atol=1e-14)


def _taken(source, kwargs, probe):
    """Run the original with a probe in place of a line, to see a path is taken."""
    return load_generated((IMPORT + source).replace(probe[0], probe[1]), "probe").f(**kwargs)


def test_the_break_and_continue_paths_are_taken():
    body = dict((c[0], c) for c in CASES)["continue-and-break"]
    hits = []
    source = (IMPORT + body[1]).replace("            continue", "            hits.append('continue')\n            continue")
    source = source.replace("            break", "            hits.append('break')\n            break")
    namespace = {"hits": hits}
    exec(source, namespace)
    namespace["f"](**body[3])
    assert "continue" in hits and hits[-1] == "break"


def test_scalar_code_uses_math():
    text = generate(IMPORT + CASES[0][1], "f", "x,a")
    assert "math.cos(x)" in text and "np.cos" not in text.split('"""', 2)[2].replace("np.cos(x)", "")
    assert text.count("import math\n") == 1


def test_and_or_read_as_written():
    """normalize spells `a and b` as a branch (b only when a is true); the generated
    code reads as the source where b is one line."""
    source = IMPORT + next(c[1] for c in CASES if c[0] == "and-guards-an-index")
    text = generate(source, "f", "v")
    assert " = i < len(v) and v[i] > -1.0\n" in text, text
    source = IMPORT + next(c[1] for c in CASES if c[0] == "or-passes-the-gradient-of-the-value-that-decided")
    assert "= x or y\n" in generate(source, "f", "x,y")


def test_writes_into_arrays_leave_the_callers_arrays_alone():
    """`x[0] = ...` on a parameter changes the caller's array in the user's function;
    generated code writes into a copy."""
    name, body, wrt, kwargs = next(c for c in CASES if c[0] == "writes-into-a-parameter-and-a-matrix")
    module = load_generated(generate(IMPORT + body, "f", wrt))
    passed = {k: v.copy() for k, v in kwargs.items()}
    module.value_and_grad_f(**passed)
    module.grad_f(**passed)
    for k in kwargs:
        assert np.array_equal(passed[k], kwargs[k])


def test_a_write_that_names_an_element_twice_has_no_gradient():
    """NumPy does not say which of two writes to one element it keeps."""
    source = IMPORT + "def f(x):\n    y = x * 1.0\n    y[np.array([0, 0])] = x[1:] * 2.0\n    return np.sum(y * y)\n"
    module = load_generated(generate(source, "f", "x"))
    with pytest.raises(ValueError, match="names an element twice"):
        module.grad_f(np.array([1.0, 2.0, 3.0]))


def test_tape_leaves_out_the_tests_of_branches_with_nothing_to_replay():
    """`a and b` is a branch on `a` with no adjoint inside; its test is not saved."""
    source = IMPORT + (
        "def f(x, w: float):\n    for k in range(3):\n        x = np.tanh(x * w)\n"
        "        if np.sum(x) < 0.5 and k > 0:\n            break\n    return np.sum(x)\n"
    )
    text = generate(source, "f", "x,w")
    assert "tape.append((t4, x, x_2))" in text, text


def test_tape_keeps_only_what_the_reverse_reads():
    text = generate(IMPORT + CASES[0][1], "f", "x,a")
    assert "tape.append((t1, t3, x))" in text  # not t2, t4 or x_2: no adjoint reads them
    assert "# kept for the reverse sweep: 3 values per iteration of the loop at line 5" in text


def test_functions_from_an_included_file(tmp_path, monkeypatch, capsys):
    from codegen import CodegenError
    from codegen.cli import main

    library = "import numpy as np\n\nSCALE = 2.0\n\n\ndef softplus(z):\n    return np.logaddexp(0.0, z * SCALE) / SCALE\n"
    source = (
        "import numpy as np\nfrom mylosses import softplus\nimport mylosses\n\n\n"
        "def loss(w, X):\n    return np.sum(softplus(X @ w)) + np.sum(mylosses.softplus(w))\n"
    )
    text = generate(source, "loss", include={"lib/mylosses.py": library})
    assert "SCALE = 2.0" in text and "# include: lib/mylosses.py" in text
    module = load_generated(text)
    kwargs = {"w": RNG.normal(size=3), "X": RNG.normal(size=(4, 3))}
    namespace = {"np": np}
    exec(library, namespace)
    original = load_generated(source.replace("from mylosses import softplus\nimport mylosses\n", ""), "o")
    original.softplus = namespace["softplus"]
    original.mylosses = type("M", (), {"softplus": staticmethod(namespace["softplus"])})
    report = check_gradient(original.loss, module.value_and_grad_loss, kwargs, ["w"])
    assert report.ok, str(report)

    broken = library.replace("    return", "    z[0] = 1.0\n    return")
    # softplus(w) would write into the caller's w
    with pytest.raises(CodegenError, match=r"^lib/mylosses.py:7:5: error: `z\[0\] = \.\.\.` would change the array that `w` in `loss` also names"):
        generate(source, "loss", include={"lib/mylosses.py": broken})

    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mylosses.py").write_text(library)
    (tmp_path / "loss.py").write_text(source)
    assert main(["generate", "loss.py::loss", "--include", "lib/mylosses.py", "-o", "loss_grad.py"]) == 0
    assert main(["check", "loss_grad.py"]) == 0
    (tmp_path / "lib" / "mylosses.py").write_text(library.replace("2.0", "3.0"))
    assert main(["check", "loss_grad.py"]) == 1
    capsys.readouterr()
