"""What a loss returns: the loss alone, or `loss, aux...` as JAX's `has_aux` (the
first value is differentiated, the others come back beside it), and the refusals
of what cannot be differentiated. Each gradient is checked against central finite
differences and against autograd's gradient of the first returned value."""

import numpy as np
import pytest

from codegen import CodegenError, generate
from codegen.verify import check_gradient
from conftest import autograd_version, load_generated

IMPORT = "import numpy as np\n\n\n"
W = np.array([0.3, -0.2, 0.5, 0.9])
X = np.array([1.0, 2.0, -1.5, 0.5])

# (id, source, inputs, the auxiliary data expected beside the value)
AUX_CASES = [
    (
        "one-aux-that-depends-on-wrt",
        "def f(w):\n    l = np.sum(w ** 2)\n    return l, w.mean()\n",
        {"w": W}, lambda w: np.mean(w),
    ),
    (
        "two-aux-an-array-and-a-number",
        "def f(w, x):\n    l = np.sum(np.sin(w) * x)\n    acc = np.mean(w > 0)\n    return l, acc, w * 2.0\n",
        {"w": W, "x": X}, lambda w, x: (np.mean(w > 0), w * 2.0),
    ),
    (
        "parenthesised-with-a-string-and-a-list",
        "def f(w):\n    return (np.sum(np.exp(w)), 'ok', [w[0], 1.0])\n",
        {"w": W}, lambda w: ("ok", [w[0], 1.0]),
    ),
    (
        "returns-in-both-branches",
        "def f(w):\n    if np.sum(w) > 0:\n        return np.sum(w ** 2), 'pos'\n    else:\n        return np.sum(w ** 3), 'neg'\n",
        {"w": W}, lambda w: "pos",
    ),
    (
        "return-inside-a-loop-taken",
        "def f(w):\n    s = 0.0\n    for i in range(5):\n        s = s + np.sum(w * i)\n        if s > 3.0:\n"
        "            return s, i\n    return s * 2.0, -1\n",
        {"w": W}, lambda w: 2,
    ),
    (
        "return-inside-a-loop-not-taken",
        "def f(w):\n    s = 0.0\n    for i in range(5):\n        s = s + np.sum(w * i)\n        if s > 300.0:\n"
        "            return s, i\n    return s * 2.0, -1\n",
        {"w": W}, lambda w: -1,
    ),
    (
        "return-inside-a-while-with-aux-from-the-loop",
        "def f(w):\n    x = w * 1.0\n    k = 0\n    while True:\n        x = np.tanh(x) + 0.1 * w\n        k = k + 1\n"
        "        if k >= 3:\n            return np.sum(x ** 2), x\n",
        {"w": W}, None,
    ),
    (
        "a-helper-returns-the-tuple",
        "def stats(x):\n    return np.sum(x ** 2), np.mean(x)\n\n\ndef f(w):\n    return stats(w * 3.0)\n",
        {"w": W}, lambda w: np.mean(w * 3.0),
    ),
    (
        "a-dict-of-aux-in-two-branches",
        "def f(w, x):\n    p = 1.0 / (1.0 + np.exp(-x * w))\n    loss = -np.mean(np.log(p))\n    if loss > 100.0:\n"
        "        return loss, {'acc': np.mean(p > 0.5), 'n': 1}\n    return loss, {'acc': np.mean(p > 0.5), 'n': 2, 'p': (p, 3)}\n",
        {"w": W, "x": X}, None,
    ),
    (
        "a-tuple-in-a-name",
        "def f(w):\n    out = (np.sum(np.cos(w)), np.max(w))\n    return out\n",
        {"w": W}, lambda w: np.max(w),
    ),
]


def _first(source):
    namespace = load_generated(IMPORT + source, "original")
    return lambda **kw: namespace.f(**kw)[0]


@pytest.mark.parametrize("source, kwargs, aux", [c[1:] for c in AUX_CASES], ids=[c[0] for c in AUX_CASES])
def test_aux_is_returned_beside_the_value_and_the_gradient_is_the_first_values(source, kwargs, aux):
    wrt = [next(iter(kwargs))]
    module = load_generated(generate(IMPORT + source, "f", wrt))
    original = load_generated(IMPORT + source, "original").f
    expected = original(**kwargs)
    (value, got), grads = module.value_and_grad_f(**kwargs)
    assert np.allclose(value, expected[0], rtol=1e-12)
    want = expected[1] if len(expected) == 2 else expected[1:]
    _assert_same(got, want)
    if aux is not None:  # and the test's own idea of it
        _assert_same(got, aux(**kwargs))
    # grad_f gives the gradient only, the same one
    assert np.array_equal(module.grad_f(**kwargs), grads)
    assert np.shape(grads) == np.shape(kwargs[wrt[0]]) and np.any(grads != 0)
    report = check_gradient(original, module.value_and_grad_f, kwargs, wrt, tolerance=1e-7)
    assert report.ok, str(report)
    # autograd, of the first value
    import autograd

    theirs = autograd.grad(lambda *a: autograd_version(IMPORT + source).f(*a)[0])(*kwargs.values())
    np.testing.assert_allclose(grads, theirs, rtol=1e-10, atol=1e-12)


def _assert_same(a, b):
    if isinstance(b, dict):
        assert type(a) is dict and list(a) == list(b), (a, b)
        for key in b:
            _assert_same(a[key], b[key])
    elif isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(b, str):
        assert a == b
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_check_gradient_reads_aux_too():
    """`codegen verify`'s check compares the aux data too: a generated module whose
    aux is wrong fails it."""
    source = IMPORT + "def f(w):\n    return np.sum(w ** 2), np.mean(w)\n"
    module = load_generated(generate(source, "f"))
    original = load_generated(source, "original").f

    def wrong(**kw):
        (value, aux), grads = module.value_and_grad_f(**kw)
        return (value, aux + 1.0), grads

    assert check_gradient(original, module.value_and_grad_f, {"w": W}, ["w"]).ok
    assert not check_gradient(original, wrong, {"w": W}, ["w"]).ok


def test_aux_with_several_wrt_and_docstrings():
    source = IMPORT + "def f(a, b):\n    l = np.sum(a * b)\n    return l, a - b, 7\n"
    text = generate(source, "f", ["a", "b"])
    module = load_generated(text)
    (value, (diff, seven)), (da, db) = module.value_and_grad_f(W, X)
    assert seven == 7 and np.array_equal(diff, W - X) and np.allclose(value, np.sum(W * X))
    assert np.allclose(da, X) and np.allclose(db, W)
    da2, db2 = module.grad_f(W, X)
    assert np.array_equal(da, da2) and np.array_equal(db, db2)
    assert "((value, (aux1, aux2)), grads)" in text
    assert "first returned value" in text


def test_helper_returning_a_tuple_from_two_branches_keeps_its_gradient():
    """`m, v = stats(x)` with a `return` in each branch of `stats`: the items merge one
    by one (they used to merge into one tuple variable, and the gradient was zero)."""
    source = IMPORT + (
        "def stats(x):\n    if np.sum(x) > 0:\n        return np.sum(x), np.mean(x)\n"
        "    return np.sum(x * 2), np.mean(x)\n\n\ndef f(x):\n    a, b = stats(x)\n    return a * b\n"
    )
    module = load_generated(generate(source, "f"))
    original = load_generated(source, "original").f
    for x in (W, -W):
        value, grad = module.value_and_grad_f(x)
        assert np.any(grad != 0)
        report = check_gradient(original, module.value_and_grad_f, {"x": x}, ["x"], tolerance=1e-7)
        assert report.ok, str(report)


# (id, source, line, column, words the message must hold)
REFUSED = [
    ("list", "def f(w):\n    return [np.sum(w), w]\n", 5, 12, ["list", "return a tuple", "return loss, aux"]),
    ("none", "def f(w):\n    return None\n", 5, 5, ["`return None`", "return loss"]),
    ("bare", "def f(w):\n    x = np.sum(w)\n    return\n", 6, 5, ["without a value", "return loss"]),
    ("string", "def f(w):\n    return 's'\n", 5, 12, ["not a number", "return the loss"]),
    ("ellipsis", "def f(w):\n    return ...\n", 5, 12, ["not a number"]),
    ("falls-off-the-end", "def f(w):\n    x = np.sum(w)\n", 4, 1, ["every path", "add a `return`"]),
    ("dict", "def f(w):\n    return {'loss': np.sum(w)}\n", 5, 12, ["dict", "return loss, {"]),
    ("one-tuple", "def f(w):\n    return (np.sum(w),)\n", 5, 13, ["1-tuple", "return loss"]),
    (
        "lengths-differ",
        "def f(w):\n    if np.sum(w) > 0:\n        return np.sum(w), 1.0\n    return np.sum(w)\n",
        7, 5, ["1 value", "line 6 gives 2 values", "same number"],
    ),
    (
        "lengths-differ-in-a-loop",
        "def f(w):\n    for i in range(3):\n        if i > 1:\n            return np.sum(w), i\n    return np.sum(w)\n",
        8, 5, ["1 value", "line 7 gives 2 values"],
    ),
    (
        "lengths-differ-inside-one-loop",
        "def f(w):\n    for i in range(3):\n        if i > 1:\n            return np.sum(w), i\n"
        "        if i > 5:\n            return np.sum(w)\n    return np.sum(w), 0\n",
        9, 13, ["1 value", "line 7 gives 2 values"],
    ),
    ("dict-with-a-computed-key", "def f(w):\n    k = 'a'\n    return np.sum(w), {k: w}\n", 6, 24, ["literal keys"]),
    ("tuple-first", "def f(w):\n    return (np.sum(w), w), 1.0\n", 5, 12, ["first returned value", "loss"]),
    ("list-in-a-name", "def f(w):\n    r = [np.sum(w), w]\n    return r\n", 6, 12, ["list", "return a tuple"]),
    ("string-first", "def f(w):\n    return 'loss', np.sum(w)\n", 5, 12, ["not a number"]),
    (
        "tuple-carried-by-a-loop",
        "def f(w):\n    r = (np.sum(w), 0.0)\n    for i in range(2):\n        r = (r[0] * 2.0, i)\n    return r\n",
        8, 12, ["tuple made in a loop", "return loss, aux"],
    ),
]


@pytest.mark.parametrize("source, line, col, words", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_what_cannot_be_differentiated_is_refused_with_a_position(source, line, col, words):
    with pytest.raises(CodegenError) as info:
        generate(IMPORT + source, "f", path="loss.py")
    message = str(info.value)
    assert message.startswith(f"loss.py:{line}:{col}: error: "), message
    for word in words:
        assert word in message, message


def test_an_array_result_is_the_gradient_of_its_sum():
    """Documented: an array-valued result differentiates as its sum (the seed is 1.0)."""
    source = IMPORT + "def f(w):\n    return np.sin(w) * 2.0\n"
    module = load_generated(generate(source, "f"))
    value, grad = module.value_and_grad_f(W)
    assert np.allclose(value, np.sin(W) * 2.0) and np.allclose(grad, 2.0 * np.cos(W))


@pytest.mark.parametrize("result", ["np.sum(a[0] * a[1])", "np.sum(w) + np.sum(a[0] * a[1])"])
def test_a_tuple_carried_through_a_loop_is_refused_not_dropped(result):
    """A tuple that depends on wrt, copied whole into a loop's carried name: the
    reverse sweep had no adjoint for it, so its path was dropped (NameError, or with
    another path to w a wrong gradient: [1, 1] against autograd's [5.05, 7.75])."""
    source = (
        "import numpy as np\n\n\ndef f(w):\n    a = (w, 2.0 * w)\n    for i in range(3):\n"
        f"        a = (a[1], a[0] * 1.5)\n    return {result}\n"
    )
    with pytest.raises(CodegenError) as error:
        generate(source, "f")
    assert str(error.value).startswith("<string>:6:") and "separate names" in str(error.value)


def test_a_tuple_carried_through_a_loop_into_aux_only_still_generates():
    source = (
        "import numpy as np\n\n\ndef f(w):\n    a = (w, 2.0)\n    for i in range(3):\n"
        "        a = (a[1], a[0])\n    return np.sum(w * w), a[0]\n"
    )
    module = load_generated(generate(source, "f"))
    w = np.array([0.3, 0.5])
    np.testing.assert_allclose(module.grad_f(w), 2 * w, rtol=1e-12)
