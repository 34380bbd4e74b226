"""Language features of the straight-line subset, one table row each, every row
checked against finite differences and, where autograd can run it, autograd."""

import numpy as np
import pytest

from codegen import generate
from codegen.verify import check_gradient
from conftest import autograd_version, load_generated

# (id, source, wrt, inputs as {name: (shape, domain)}, text the generated module must contain)
FEATURES = [
    (
        "reassigned-name",
        "def f(x):\n    x = x * 2.0\n    x = np.sin(x) + x\n    return np.sum(x)\n",
        ["x"], {"x": ((4,), "real")}, "x_3 = ",
    ),
    (
        "variable-used-many-times",
        "def f(x):\n    return np.sum(x * x * x + np.sin(x) * x)\n",
        ["x"], {"x": ((4,), "real")}, "d_x = ",
    ),
    (
        "module-constant",
        "SCALE = 2.5\nOFFSET = -SCALE / 4\n\n\ndef f(x):\n    return np.sum(np.exp(x / SCALE + OFFSET))\n",
        ["x"], {"x": ((3,), "real")}, "OFFSET = -SCALE / 4",
    ),
    (
        "default-parameter",
        "def f(x, k=3.0):\n    return np.sum(x**k)\n",
        ["x"], {"x": ((3,), "positive")}, "def grad_f(x, k=3.0):",
    ),
    (
        "keyword-only-parameter",
        "def f(x, *, w=0.5):\n    return np.sum(w * x**2)\n",
        ["x"], {"x": ((2, 2), "real")}, "def grad_f(x, *, w=0.5):",
    ),
    (
        "constant-subexpression",
        "def f(x):\n    return np.sum(np.cos(2 * np.pi * x) * np.log(2.0))\n",
        ["x"], {"x": ((3,), "real")}, "2 * np.pi",
    ),
    (
        "variable-exponent",
        "def f(x, y):\n    return np.sum(x**y)\n",
        ["x", "y"], {"x": ((3,), "positive"), "y": ((3,), "real")}, "np.log(",
    ),
    (
        "unary-operators",
        "def f(x):\n    y = -x\n    z = +y\n    return np.sum(-z * z)\n",
        ["x"], {"x": ((3,), "real")}, "",
    ),
    (
        "wrt-not-reaching-the-result",
        "def f(x, y):\n    unused = np.exp(y)\n    return np.sum(x**2)\n",
        ["x", "y"], {"x": ((3,), "real"), "y": ((2,), "real")}, "_zero_gradient(y)",
    ),
    (
        "annotated-float",
        "def f(a: float, x):\n    return np.sum(a * x + a**2)\n",
        ["a", "x"], {"a": ((), "real"), "x": ((5,), "real")}, "",
    ),
    (
        "returns-a-parameter",
        "def f(x):\n    return x\n",
        ["x"], {"x": ((), "real")}, "",
    ),
    (
        "array-result-is-gradient-of-its-sum",
        "def f(x):\n    return np.sin(x) * 3.0\n",
        ["x"], {"x": ((4,), "real")}, "",
    ),
    (
        "centering-with-keepdims",
        "def f(x):\n    z = x - np.mean(x, axis=0, keepdims=True)\n    return np.sum(z**2)\n",
        ["x"], {"x": ((4, 3), "real")}, "",
    ),
    (
        "broadcast-column-and-row",
        "def f(a, b):\n    return np.sum(np.tanh(a * b) / (1.0 + b**2))\n",
        ["a", "b"], {"a": ((3, 1), "real"), "b": ((1, 4), "real")}, "_unbroadcast(",
    ),
    (
        "scalar-parameter-broadcast-into-array",
        "def f(s, x):\n    return np.mean((x - s) ** 2) + np.sqrt(s**2 + 1.0)\n",
        ["s"], {"s": ((), "real"), "x": ((6,), "real")}, "",
    ),
    (
        "logsumexp-shifted-by-its-max-is-fused",
        "def f(x, y):\n    shift = np.max(x, axis=1, keepdims=True)\n"
        "    norm = np.log(np.sum(np.exp(x - shift), axis=1, keepdims=True)) + shift\n"
        "    return -np.sum(y * (x - norm))\n",
        ["x"], {"x": ((4, 3), "distinct"), "y": ((4, 3), "positive")}, "# fused: d/dx = softmax(x)",
    ),
    (
        "log-softmax-shifted-by-its-max-is-fused",
        "def f(x, y):\n    shifted = x - np.max(x, axis=-1, keepdims=True)\n"
        "    ll = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))\n"
        "    return -np.mean(np.sum(y * ll, axis=-1))\n",
        ["x"], {"x": ((4, 3), "distinct"), "y": ((4, 3), "positive")}, "# fused: d/dx = d_ans - softmax(x)",
    ),
    (
        # Shifted along another axis than it sums over, the result depends on the
        # shift: no fusion, and the max's own adjoint (`x == top`) is there.
        "logsumexp-shift-on-another-axis-is-not-fused",
        "def f(x):\n    shift = np.max(x, axis=0, keepdims=True)\n"
        "    return np.sum(np.log(np.sum(np.exp(x - shift), axis=1, keepdims=True)) + shift)\n",
        ["x"], {"x": ((4, 3), "distinct")}, " == ",
    ),
    (
        "logsumexp-shift-without-keepdims-is-not-fused",
        "def f(x):\n    shift = np.max(x)\n"
        "    return np.log(np.sum(np.exp(x - shift), axis=0, keepdims=True)) + shift\n",
        ["x"], {"x": ((4,), "distinct")}, " == ",
    ),
    (
        "annotated-assignment-docstring-pass",
        'def f(x):\n    """Doc."""\n    y: float = x * 2.0\n    pass\n    return np.sum(y)\n',
        ["x"], {"x": ((2,), "real")}, "",
    ),
]

IMPORT = "import numpy as np\n\n\n"


def _inputs(spec, seed=0):
    from conftest import random_input

    rng = np.random.default_rng(seed)
    return {name: random_input(rng, shape, domain) for name, (shape, domain) in spec.items()}


@pytest.mark.parametrize("name, body, wrt, spec, expect", FEATURES, ids=[f[0] for f in FEATURES])
def test_feature(name, body, wrt, spec, expect):
    source = IMPORT + body
    text = generate(source, "f", wrt)
    assert expect in text
    module = load_generated(text)
    original = load_generated(source, "original")
    kwargs = _inputs(spec)

    # An array result is differentiated as the sum of its elements.
    def total(**kw):
        return np.sum(original.f(**kw))

    def value_and_grad(**kw):
        value, grads = module.value_and_grad_f(**kw)
        return np.sum(value), grads

    report = check_gradient(total, value_and_grad, kwargs, wrt, directions=4)
    assert report.ok, str(report)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("name, body, wrt, spec, expect", FEATURES, ids=[f[0] for f in FEATURES])
def test_feature_matches_autograd(name, body, wrt, spec, expect):
    autograd = pytest.importorskip("autograd")
    source = IMPORT + body
    module = load_generated(generate(source, "f", wrt))
    kwargs = _inputs(spec, seed=1)
    ours = module.grad_f(**kwargs)
    ours = (ours,) if len(wrt) == 1 else ours
    f = autograd_version(source).f
    for name, mine in zip(wrt, ours):
        other = {k: v for k, v in kwargs.items() if k != name}
        try:
            theirs = autograd.grad(lambda v: np.sum(f(**{name: v}, **other)))(kwargs[name])
        except TypeError as error:  # autograd's own limits (it has no unary plus)
            pytest.skip(f"autograd cannot run this: {error}")
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-14)


def test_numpy_imported_other_ways():
    source = (
        "import numpy\nfrom numpy import exp, sum as total\n\n\n"
        "def f(x):\n    return total(exp(x) * numpy.sin(x))\n"
    )
    text = generate(source, "f")
    assert "np.exp(x)" in text and "np.sum(" in text and "import numpy as np" in text
    module = load_generated(text)
    kwargs = _inputs({"x": ((3,), "real")})
    report = check_gradient(load_generated(source, "o").f, module.value_and_grad_f, kwargs, ["x"])
    assert report.ok, str(report)


def test_gradient_kinds():
    """A float argument gets a float; an array gets an array of its shape, writable."""
    source = IMPORT + "def f(a, x):\n    return np.sum(x) * a\n"
    module = load_generated(generate(source, "f", "a,x"))
    d_a, d_x = module.grad_f(2.0, np.ones((2, 3)))
    assert isinstance(d_a, float) and d_a == 6.0
    assert isinstance(d_x, np.ndarray) and d_x.shape == (2, 3) and d_x.flags.writeable
    np.testing.assert_array_equal(d_x, np.full((2, 3), 2.0))


def test_user_names_cannot_hide_generated_names():
    source = IMPORT + "def f(x):\n    np_ = 1.0\n    _fill = x * 2.0\n    grad_f = np.exp(_fill)\n    return np.sum(grad_f + np_)\n"
    module = load_generated(generate(source, "f"))
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(module.grad_f(x), 2.0 * np.exp(2.0 * x), rtol=1e-14)


def test_parameter_named_like_numpy_is_an_error():
    from codegen import CodegenError

    with pytest.raises(CodegenError, match="parameter `np` would hide"):
        generate("import numpy\n\n\ndef f(np):\n    return numpy.exp(np)\n", "f")


def test_contributions_to_one_adjoint_all_appear():
    """x is used five times: its adjoint sums five contributions (on one line or more)."""
    text = generate(IMPORT + "def f(x):\n    return np.sum(x * x * x + np.sin(x) * x)\n", "f")
    import ast

    grad = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == "grad_f")
    terms = 0
    for node in ast.walk(grad):
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["d_x"]:
            sums = [n for n in ast.walk(node.value) if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub))]
            reads_d_x = any(isinstance(n, ast.Name) and n.id == "d_x" for n in ast.walk(node.value))
            terms += len(sums) + (0 if reads_d_x else 1)
    assert terms >= 5, ast.unparse(grad)
