"""`--mode jacobian` (`jacobian_<f>`): against autograd's `jacobian` to 1e-10 on
vector-valued functions, with the mode the lecture's rule picks (forward when the
result has more elements than the wrt arguments in all, reverse otherwise) seen to
run: each test counts the JVP and VJP calls."""

import textwrap

import numpy as np
import pytest

import codegen
from conftest import autograd_version, load_generated

autograd = pytest.importorskip("autograd")

RNG = np.random.default_rng(7)


def r(*shape):
    return RNG.standard_normal(shape)


# (name, source of f, kwargs, wrt, the mode the rule picks)
FUNCTIONS = [
    ("elementwise", "def f(x):\n    return np.sin(x) * np.exp(-x)\n", {"x": r(4)}, ["x"], "reverse"),
    ("matvec", "def f(A, x):\n    return np.tanh(A @ x)\n", {"A": r(5, 3), "x": r(3)}, ["x"], "forward"),
    ("matvec both", "def f(A, x):\n    return np.tanh(A @ x)\n", {"A": r(5, 3), "x": r(3)}, ["A", "x"], "reverse"),
    ("outer", "def f(x, y):\n    return np.outer(x, y) ** 2\n", {"x": r(3), "y": r(4)}, ["x", "y"], "forward"),
    ("softmax", "def f(z):\n    e = np.exp(z - np.max(z))\n    return e / np.sum(e)\n", {"z": r(6)}, ["z"], "reverse"),
    ("cumsum", "def f(x):\n    return np.cumsum(x * x)\n", {"x": r(5)}, ["x"], "reverse"),
    ("matrix result", "def f(x):\n    return np.reshape(x, (2, 3)) @ np.reshape(x, (3, 2))\n", {"x": r(6)}, ["x"], "reverse"),
    ("scalar in", "def f(t, c):\n    return np.cos(t * c) + t ** 2\n", {"t": 0.7, "c": r(5)}, ["t"], "forward"),
    ("scalar out", "def f(x):\n    return np.sum(x ** 3)\n", {"x": r(4)}, ["x"], "reverse"),
    ("keepdims", "def f(X):\n    return X - np.mean(X, axis=1, keepdims=True)\n", {"X": r(2, 3)}, ["X"], "reverse"),
    ("norms", "def f(X):\n    return np.sqrt(np.sum(X ** 2, axis=0))\n", {"X": r(3, 4)}, ["X"], "reverse"),
    ("branch", "def f(x, s):\n    if s > 0:\n        return x * s\n    return np.sin(x)\n", {"x": r(3), "s": -1.0}, ["x"], "reverse"),
    ("loop", "def f(x, n=4):\n    y = x\n    for i in range(n):\n        y = y * 0.5 + np.sin(y)\n    return y\n", {"x": r(3)}, ["x"], "reverse"),
    ("stack", "def f(a, b):\n    return np.stack([a * b, a + b, np.exp(a)])\n", {"a": r(2), "b": r(2)}, ["a", "b"], "forward"),
    ("concatenate", "def f(a, b):\n    return np.concatenate([a, b * a[0], np.cumsum(b)])\n", {"a": r(2), "b": r(3)}, ["a", "b"], "forward"),
    # (autograd cannot write into arrays: it gets the same function without writes)
    ("writes", "def f(x):\n    y = np.zeros(4)\n    y[0] = x[0] * x[1]\n    y[1:3] = np.sin(x)\n    y[3] = x[1]\n    return y\n", {"x": r(2)}, ["x"], "forward",
     "def f(x):\n    return np.concatenate([np.array([x[0] * x[1]]), np.sin(x), np.array([x[1]])])\n"),
    ("polynomial", "def f(c, t):\n    return c[0] + c[1] * t + c[2] * t ** 2\n", {"c": r(3), "t": np.linspace(0, 1, 7)}, ["c"], "forward"),
    ("rbf features", "def f(w, X):\n    d = X - w\n    return np.exp(-np.sum(d * d, axis=1))\n", {"w": r(2), "X": r(6, 2)}, ["w"], "forward"),
    ("while", "def f(x):\n    k = 0\n    while k < 3:\n        x = x - 0.1 * x ** 3\n        k += 1\n    return x\n", {"x": r(3)}, ["x"], "reverse"),
    ("logsumexp rows", "def f(X):\n    m = np.max(X, axis=1, keepdims=True)\n    return np.log(np.sum(np.exp(X - m), axis=1)) + m[:, 0]\n", {"X": r(3, 4)}, ["X"], "reverse"),
    # the two: an ODE trajectory (m = 1,000, n = 3) and a residual (m = 50, n = 500)
    ("ode trajectory", textwrap.dedent("""\
        def f(p, y0, dt=0.01, steps=500):
            ys = []
            y = y0
            for i in range(steps):
                v = np.array([y[1], -p[0] * y[0] - p[1] * y[1] + p[2] * np.sin(y[0])])
                y = y + dt * v
                ys.append(y)
            return np.stack(ys)
        """), {"p": np.array([2.0, 0.3, 0.5]), "y0": np.array([1.0, 0.0])}, ["p"], "forward"),
    ("least squares residual", "def f(w, A, b):\n    return np.tanh(A @ w) - b\n", {"w": r(500) * 0.05, "A": r(50, 500), "b": r(50)}, ["w"], "reverse"),
]


def _autograd_jacobian(f, kwargs, w, m):
    """autograd's `jacobian` (one VJP per result element), or for a long result its
    forward mode (`make_jvp`, one JVP per element of w): the ODE's 1,000 VJPs took 90 s."""
    if m <= 200:
        return autograd.jacobian(f, list(kwargs).index(w))(*kwargs.values())
    from autograd.differential_operators import make_jvp

    def of_w(v):
        return f(**dict(kwargs, **{w: v}))

    basis = np.eye(np.size(kwargs[w]))
    columns = [make_jvp(of_w)(kwargs[w])(np.reshape(e, np.shape(kwargs[w])))[1] for e in basis]
    return np.reshape(np.stack(columns, axis=-1), np.shape(f(**kwargs)) + np.shape(kwargs[w]))


def _counting(module, name):
    """Replace module.<name> by a wrapper that counts its calls."""
    original = getattr(module, name)
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("name, body, kwargs, wrt, mode, reference", [f + (None,) * (6 - len(f)) for f in FUNCTIONS], ids=[f[0] for f in FUNCTIONS])
def test_jacobian_matches_autograd(name, body, kwargs, wrt, mode, reference):
    source = "import numpy as np\n\n\n" + body
    text = codegen.generate(source, "f", wrt, mode="jacobian")
    module = load_generated(text)
    jvps, vjps = _counting(module, "jvp_f"), _counting(module, "vjp_f")
    ours = module.jacobian_f(**kwargs)
    ours = (ours,) if len(wrt) == 1 else ours
    names = list(kwargs)
    f = autograd_version("import numpy as np\n\n\n" + (reference or body)).f
    value = f(**kwargs)
    m, n = np.size(value), sum(np.size(kwargs[w]) for w in wrt)
    for w, mine in zip(wrt, ours):
        theirs = _autograd_jacobian(f, kwargs, w, m)
        assert np.shape(mine) == np.shape(value) + np.shape(kwargs[w])
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)
    # The rule: forward (n JVPs, after one for the value) if m > n, else m VJPs.
    assert ("forward" if n < m else "reverse") == mode
    if mode == "forward":
        assert (len(jvps), len(vjps)) == (1 + n, 0)
    else:
        assert (len(jvps), len(vjps)) == (1, m)


def test_jacobian_with_aux_returns_it_beside():
    source = "import numpy as np\n\n\ndef f(x):\n    return np.sin(x), {'n': np.sum(x)}\n"
    module = load_generated(codegen.generate(source, "f", ["x"], mode="jacobian"))
    jac, aux = module.jacobian_f(np.array([0.1, 0.2]))
    np.testing.assert_allclose(jac, np.diag(np.cos([0.1, 0.2])), rtol=1e-15)
    assert aux == {"n": pytest.approx(0.3)}


TREES = textwrap.dedent("""\
    import numpy as np


    def scaled(p, x):
        return np.sin(x * p["a"]) + p["b"] * x[0]


    def layers(net, X):
        h = X
        for W, b in net["layers"]:
            h = np.tanh(h @ W + b)
        return np.ravel(h) * net["scale"]
""")


def _autograd_leaf_jacobians(f, kwargs, name):
    """autograd's Jacobian with respect to each leaf of the tree kwargs[name] (the
    others held), in the tree's structure."""

    def walk(node, rebuild):
        if isinstance(node, dict):
            return {k: walk(v, lambda leaf, k=k: rebuild({**node, k: leaf})) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(walk(v, lambda leaf, i=i: rebuild(type(node)(leaf if j == i else w for j, w in enumerate(node)))) for i, v in enumerate(node))
        return autograd.jacobian(lambda leaf: f(**dict(kwargs, **{name: rebuild(leaf)})))(node)

    return walk(kwargs[name], lambda tree: tree)


def _assert_trees_close(ours, theirs):
    assert type(ours) is type(theirs) or not isinstance(theirs, (dict, list, tuple)), (type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for k in theirs:
            _assert_trees_close(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_trees_close(a, b)
    else:
        assert np.shape(ours) == np.shape(theirs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("function, kwargs, mode", [
    ("scaled", {"p": {"a": 0.7, "b": -0.4}, "x": r(5)}, "forward"),
    ("scaled", {"p": {"a": 0.7, "b": -0.4}, "x": r(2)}, "reverse"),
    ("layers", {"net": {"layers": [(r(3, 4) * 0.5, r(4)), (r(4, 2) * 0.5, r(2))], "scale": 1.5}, "X": r(3, 3)}, "reverse"),
    ("layers", {"net": {"layers": [(r(1, 1), r(1))], "scale": 1.5}, "X": r(5, 1)}, "forward"),
], ids=["scalars forward", "scalars reverse", "layers reverse", "layers forward"])
def test_jacobian_of_a_parameter_tree(function, kwargs, mode):
    # A tree as the wrt argument: a tree of Jacobians, one per leaf, each of shape
    # result.shape + leaf.shape (JAX's convention); n counts every leaf's elements.
    name = next(iter(kwargs))
    module = load_generated(codegen.generate(TREES, function, [name], mode="jacobian"))
    jvps, vjps = _counting(module, f"jvp_{function}"), _counting(module, f"vjp_{function}")
    ours = getattr(module, f"jacobian_{function}")(**kwargs)
    f = getattr(autograd_version(TREES), function)
    _assert_trees_close(ours, _autograd_leaf_jacobians(f, kwargs, name))
    m = np.size(f(**kwargs))
    assert (len(jvps) > 1, len(vjps) == m) == ((True, False) if mode == "forward" else (False, True))


def test_positional_only_parameters():
    # jacobian_f and hessian_f pass the parameters on to jvp_f, vjp_f and hvp_f: those
    # before `/` by position (by keyword they raised TypeError; found in review).
    source = "import numpy as np\n\n\ndef f(x, /, y, *, k=2.0):\n    return np.sin(x) * y + k * x ** 4\n"
    module = load_generated(codegen.generate(source, "f", ["x"], mode="jacobian,hvp"))
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(module.jacobian_f(x, 2.0), np.diag(2.0 * np.cos(x) + 8.0 * x**3), rtol=1e-14)
    # the Hessian of the sum of the result
    np.testing.assert_allclose(module.hessian_f(x, 2.0), np.diag(-2.0 * np.sin(x) + 24.0 * x**2), rtol=1e-12)
