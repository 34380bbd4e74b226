"""`--mode hvp` (`hvp_<f>`, `hessian_<f>`): Hessian-vector products as reverse mode
over forward mode, against central differences of the reverse module's gradient
and against autograd's `hessian_vector_product` and `hessian`, on the losses the
issue names (logistic regression, the MLP, Rosenbrock, a loop) and more."""

import inspect
import textwrap

import numpy as np
import pytest

import codegen
from codegen import CodegenError
from conftest import EXAMPLES, ROOT, autograd_version, load_file, load_generated

autograd = pytest.importorskip("autograd")
from autograd.differential_operators import hessian, hessian_vector_product  # noqa: E402

RNG = np.random.default_rng(3)


def r(*shape):
    return RNG.standard_normal(shape)


LOGREG = """\
def f(w, b, X, y):
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.01 * np.sum(w ** 2)
"""
MLP = """\
def f(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True)) + m
    return -np.mean(np.sum(Y * (logits - lse), axis=1))
"""
ROSENBROCK = """\
def f(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
"""
LOOP = """\
def f(x, a, n=6):
    s = 0.0
    y = x
    for i in range(n):
        y = np.sin(y) * a + 0.1 * y
        if i % 2 == 0:
            s = s + np.sum(y ** 2)
        else:
            s = s - np.sum(np.cos(y))
    return s
"""
WHILE = """\
def f(x):
    k = 0
    total = 0.0
    while k < 4:
        x = x - 0.1 * x ** 3
        total = total + np.sum(np.exp(-x * x))
        k += 1
    return total
"""
Y = np.eye(3)[RNG.integers(0, 3, 8)]
CASES = [
    ("logistic regression", LOGREG, {"w": r(4), "b": 0.3, "X": r(10, 4), "y": (r(10) > 0).astype(float)}, ["w", "b"]),
    ("mlp", MLP, {"W1": r(5, 4) * 0.5, "b1": r(4) * 0.1, "W2": r(4, 3) * 0.5, "b2": r(3) * 0.1, "X": r(8, 5), "Y": Y},
     ["W1", "b1", "W2", "b2"]),
    ("rosenbrock", ROSENBROCK, {"x": r(6) * 0.5}, ["x"]),
    ("loop", LOOP, {"x": r(3), "a": 0.7}, ["x", "a"]),
    ("while", WHILE, {"x": r(3)}, ["x"]),
    ("softmax cross-entropy", "def f(z, t):\n    return np.sum(t) * special.logsumexp(z) - np.sum(t * z)\n",
     {"z": r(5), "t": np.abs(r(5))}, ["z"]),
    ("sigmoid", "def f(w, x):\n    return np.sum(special.expit(x * w) ** 2)\n", {"w": r(3), "x": r(3)}, ["w"]),
    ("power", "def f(x, p):\n    return np.sum(np.abs(x) ** p)\n", {"x": r(4) + 3.0, "p": 1.7}, ["x", "p"]),
    ("special functions", "def f(x, y):\n    return np.sum(special.gammaln(x) * special.digamma(y) + special.erf(x - y) + special.j0(x) * special.i1(y) + special.betaln(x, y))\n",
     {"x": np.abs(r(4)) + 0.5, "y": np.abs(r(4)) + 0.5}, ["x", "y"]),
    ("prod", "def f(x):\n    return np.prod(np.sin(x) + 1.5) + np.sum(np.prod(x, axis=0) ** 2)\n", {"x": r(3, 2)}, ["x"]),
    ("det", "def f(A, B):\n    return np.linalg.det(A @ B + A) ** 2 + np.sum(np.linalg.det(np.stack([A, B])))\n",
     {"A": r(3, 3), "B": r(3, 3)}, ["A", "B"]),
]


def _module(source, wrt):
    text = codegen.generate(source, "f", wrt, mode="reverse,hvp")
    return load_generated(text), text


@pytest.mark.parametrize("name, body, kwargs, wrt", CASES, ids=[c[0] for c in CASES])
def test_hvp_against_gradient_differences_and_autograd(name, body, kwargs, wrt):
    source = "import numpy as np\nfrom scipy import special\n\n\n" + body
    module, text = _module(source, wrt)
    vs = {w: r(*np.shape(kwargs[w])) if np.ndim(kwargs[w]) else float(r()) for w in wrt}
    names = list(inspect.signature(module.hvp_f).parameters)
    given = dict(zip([n for n in names if n.startswith("v_")], vs.values()))
    ours = module.hvp_f(**kwargs, **given)
    ours = (ours,) if len(wrt) == 1 else ours

    # central differences of the reverse module's gradient along v
    def grads(step):
        moved = dict(kwargs, **{w: kwargs[w] + step * vs[w] for w in wrt})
        g = module.grad_f(**moved)
        return (g,) if len(wrt) == 1 else g

    h = 1e-5
    for mine, plus, minus in zip(ours, grads(h), grads(-h)):
        numeric = (np.asarray(plus) - np.asarray(minus)) / (2 * h)
        np.testing.assert_allclose(mine, numeric, rtol=1e-5, atol=1e-7)

    # autograd, one wrt argument at a time (its H v for the others held fixed is
    # the sum of the blocks: compared through the full Hessian blocks instead)
    f = autograd_version(source.replace("from scipy import special", "from autograd.scipy import special")).f
    order = list(kwargs)
    for j, w in enumerate(wrt):
        total = np.zeros(np.shape(kwargs[w]))
        for k, u in enumerate(wrt):
            block = _autograd_block(f, kwargs, order, w, u)
            total = total + np.tensordot(block, vs[u], axes=np.ndim(kwargs[u]))
        np.testing.assert_allclose(ours[j], total, rtol=1e-9, atol=1e-10)


def _autograd_block(f, kwargs, order, w, u):
    """d²f / dw du by autograd (jacobian of its grad in w with respect to u)."""
    i, k = order.index(w), order.index(u)
    grad_w = autograd.grad(f, i)
    return autograd.jacobian(grad_w, k)(*kwargs.values())


def test_hessian_against_autograd():
    source = "import numpy as np\n\n\n" + ROSENBROCK
    module, _ = _module(source, ["x"])
    x = r(5) * 0.5
    ours = module.hessian_f(x)
    theirs = hessian(autograd_version(source).f)(x)
    assert ours.shape == (5, 5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_hessian_blocks_for_several_arguments():
    source = "import numpy as np\n\n\n" + LOGREG
    module, _ = _module(source, ["w", "b"])
    kwargs = CASES[0][2]
    H = module.hessian_f(**kwargs)
    f = autograd_version(source).f
    order = list(kwargs)
    assert H[0][0].shape == (4, 4) and H[0][1].shape == (4,) and H[1][0].shape == (4,) and np.ndim(H[1][1]) == 0
    for a, w in enumerate(["w", "b"]):
        for b, u in enumerate(["w", "b"]):
            np.testing.assert_allclose(H[a][b], _autograd_block(f, kwargs, order, w, u), rtol=1e-10, atol=1e-12)


def test_hvp_of_the_example_losses():
    # logistic regression, MLP and Rosenbrock from generated_examples/ and bench/
    for path, function, wrt in [
        (ROOT / "bench/losses/logreg.py", "loss", ["w", "b"]),
        (ROOT / "bench/losses/mlp.py", "loss", ["W1", "b1", "W2", "b2"]),
        (ROOT / "bench/losses/rosenbrock.py", "loss", ["x"]),
        (EXAMPLES / "recurrence.py", "loss", None),
    ]:
        source = path.read_text()
        text = codegen.generate(source, function, wrt, mode="reverse,hvp")
        assert f"def hvp_{function}(" in text and f"def hessian_{function}(" in text


def test_hvp_refused_where_a_tangent_has_no_second_derivative(tmp_path):
    # A user rule's tangent may call a helper of its own that has no rule: refused at
    # the loss's line, naming the helper (templates' such helpers: the next tests).
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "mine.py").write_text(textwrap.dedent('''\
        import numpy as np
        import mylib


        @rule(checks=[("mylib.smooth(x)", [{"x": (3,)}])])
        def smooth(x):
            ans = mylib.smooth(x)
            d_x = _reversed_sums(d_ans)
            t_ans = _sums(t_x)


        def _reversed_sums(d):
            return np.cumsum(d[::-1])[::-1]


        def _sums(t):
            return np.cumsum(t)
    '''))
    source = "import numpy as np\nimport mylib\n\n\ndef f(x):\n    y = x * 2.0\n    return np.sum(mylib.smooth(y) ** 2)\n"
    codegen.generate(source, "f", ["x"], rules_dirs=[str(rules_dir)], mode="reverse,forward")
    with pytest.raises(CodegenError) as error:
        codegen.generate(source, "f", ["x"], path="loss.py", rules_dirs=[str(rules_dir)], mode="hvp")
    assert str(error.value).startswith("loss.py:7:1: error: --mode hvp:"), str(error.value)
    assert "`_sums` has no derivative rule" in str(error.value)


def test_hvp_of_cumprod_and_of_average_in_its_weights():
    source = textwrap.dedent("""\
        import numpy as np


        def f(x, w):
            c = np.cumprod(x * w, axis=1)
            a = np.average(x, axis=0, weights=w[:, 0] ** 2 + 1.0)
            return np.sum(c ** 2) + np.sum(np.cumprod(x)) + np.sum(np.sin(a)) * np.average(x * x, weights=np.exp(w))
    """)
    module, text = _module(source, ["x", "w"])
    kwargs = {"x": r(3, 4) * 0.8, "w": r(3, 4)}
    from codegen.verify import check_hvp

    report = check_hvp(module.grad_f, module.hvp_f, kwargs, ["x", "w"])
    assert report.ok, f"{report}\n{text}"
    kwargs["x"][1, 2] = 0.0  # the recurrences never divide: exact at zeros
    report = check_hvp(module.grad_f, module.hvp_f, kwargs, ["x", "w"])
    assert report.ok, f"{report}\n{text}"


def _gradient_differences(module, kwargs, wrt, v, h=1e-5):
    def grads(step):
        moved = dict(kwargs, **{w: kwargs[w] + step * v[w] for w in wrt})
        g = module.grad_f(**moved)
        return (g,) if len(wrt) == 1 else g

    return [(np.asarray(p) - np.asarray(m)) / (2 * h) for p, m in zip(grads(h), grads(-h))]


@pytest.mark.parametrize("zeros", [[1], [0, 3], [0, 2, 3]], ids=["one zero", "two zeros", "three zeros"])
def test_hvp_of_prod_is_exact_where_x_has_zeros(zeros):
    # np.prod's gradient is a polynomial, exact at zeros; so is its Hessian here.
    source = "import numpy as np\n\n\ndef f(x, w):\n    return np.prod(x * w) + np.sum(np.prod(x, axis=1))\n"
    module, text = _module(source, ["x"])
    x = r(4, 5) + 2.0
    x[1, zeros] = 0.0
    w = r(4, 5)
    v = r(4, 5)
    ours = module.hvp_f(x, w, v)
    (numeric,) = _gradient_differences(module, {"x": x, "w": w}, ["x"], {"x": v})
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-6 * np.max(np.abs(numeric)))


@pytest.mark.parametrize("rank", [3, 2, 1, 0])
def test_hvp_of_det_is_exact_at_singular_matrices(rank):
    # det's gradient (the cofactors) is a polynomial in the matrix; its Hessian at a
    # singular matrix comes from the SVD, without an inverse.
    source = "import numpy as np\n\n\ndef f(A):\n    return np.linalg.det(A)\n"
    module, text = _module(source, ["A"])
    A = r(4, rank) @ r(rank, 4) if rank else np.zeros((4, 4))
    v = r(4, 4)
    ours = module.hvp_f(A, v)
    (numeric,) = _gradient_differences(module, {"A": A}, ["A"], {"A": v})
    scale = max(1.0, np.max(np.abs(numeric)))
    np.testing.assert_allclose(ours, numeric, rtol=0, atol=1e-7 * scale)
    if rank < 2:  # every 2 x 2 minor of A vanishes: so does the Hessian
        np.testing.assert_allclose(ours, 0.0, atol=1e-12)
    else:
        assert np.max(np.abs(numeric)) > 1e-3


def _paths(tree):
    """The paths (tuples of keys) to a parameter tree's leaves, in its order."""
    if isinstance(tree, dict):
        return [(k,) + q for k, v in tree.items() for q in _paths(v)]
    if isinstance(tree, (list, tuple)):
        return [(i,) + q for i, v in enumerate(tree) for q in _paths(v)]
    return [()]


def _at(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def _replaced(tree, path, leaf):
    if not path:
        return leaf
    if isinstance(tree, dict):
        return {**tree, path[0]: _replaced(tree[path[0]], path[1:], leaf)}
    return type(tree)(_replaced(v, path[1:], leaf) if i == path[0] else v for i, v in enumerate(tree))


def test_hessian_and_hvp_of_a_parameter_tree():
    # A tree as the wrt argument: v has its structure, and the Hessian is a tree of
    # trees of blocks, H[leaf i][leaf j] of shape leaf_i.shape + leaf_j.shape (JAX's).
    source = textwrap.dedent("""\
        import numpy as np


        def f(net, X, y):
            h = X
            for W, b in net["layers"]:
                h = np.tanh(h @ W + b)
            return np.mean((h[:, 0] - y) ** 2) + net["decay"] * np.sum(net["layers"][0][0] ** 2)
    """)
    net = {"layers": [(r(3, 2) * 0.5, r(2)), (r(2, 1), r(1))], "decay": 0.1}
    kwargs = {"net": net, "X": r(4, 3), "y": r(4)}
    module = load_generated(codegen.generate(source, "f", ["net"], mode="reverse,hvp"))
    f = autograd_version(source).f

    def grad_tree(tree):
        return autograd.grad(lambda t: f(t, kwargs["X"], kwargs["y"]))(tree)

    H = module.hessian_f(**kwargs)
    paths = _paths(net)
    assert _paths(H) == [p + q for p in paths for q in paths]
    for p in paths:
        for q in paths:
            theirs = autograd.jacobian(lambda leaf: _at(grad_tree(_replaced(net, q, leaf)), p))(_at(net, q))
            ours = _at(_at(H, p), q)
            assert np.shape(ours) == np.shape(_at(net, p)) + np.shape(_at(net, q))
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)
    v = {"layers": [(r(3, 2), r(2)), (r(2, 1), r(1))], "decay": 0.5}
    hv = module.hvp_f(**kwargs, v_net=v)
    for p in paths:
        expected = sum(np.tensordot(_at(_at(H, p), q), _at(v, q), axes=np.ndim(_at(v, q))) for q in paths)
        np.testing.assert_allclose(_at(hv, p), expected, rtol=1e-9, atol=1e-10)


def test_hvp_with_an_include_file_that_imports_what_its_helper_calls():
    # The JVP read back imports what the generated module imports: `gammaln`, which
    # the --include file's `lfact` calls (it was refused: "`gammaln` is not defined").
    helpers = ROOT / "tests" / "fuzz_helpers.py"
    source = "import numpy as np\nfrom fuzz_helpers import lfact\n\n\ndef f(a, y):\n    return np.sum(np.sin(a) ** 2 * lfact(y * y))\n"
    include = {str(helpers): helpers.read_text()}
    text = codegen.generate(source, "f", ["a"], mode="reverse,hvp", include=include)
    module = load_generated(text)
    a, y, v = r(3), np.abs(r(3)) + 1.0, r(3)
    from scipy.special import gammaln

    expected = 2.0 * np.cos(2.0 * a) * gammaln(y * y + 1.0) * v
    np.testing.assert_allclose(module.hvp_f(a, y, v), expected, rtol=1e-12)


def test_hvp_through_cholesky_triangular_solves_sort_and_median():
    # Their tangents call helpers with rules of their own (_lower_half,
    # _lower_symmetric, _triangle, _sorted_like, _median_weights).
    source = textwrap.dedent("""\
        import numpy as np
        from scipy import linalg


        def f(x, b, w):
            A = x @ x.T + np.eye(3)
            L = np.linalg.cholesky(A)
            alpha = linalg.solve_triangular(L, b, lower=True)
            return np.sum(np.log(np.diagonal(L))) + alpha @ alpha + np.sum(np.sort(np.ravel(x)) ** 3 * w) + np.median(x) ** 2
    """)
    module, text = _module(source, ["x"])
    from codegen.verify import check_hvp

    kwargs = {"x": r(3, 3), "b": r(3), "w": r(9)}
    report = check_hvp(module.grad_f, module.hvp_f, kwargs, ["x"])
    assert report.ok, f"{report}\n{text}"


def test_hvp_refuses_second_derivatives_it_lacks_with_the_line():
    source = "import numpy as np\n\n\ndef f(x):\n    y = x @ x.T\n    return np.sum(np.linalg.eigvalsh(y) ** 2)\n"
    with pytest.raises(CodegenError) as error:
        codegen.generate(source, "f", ["x"], path="loss.py", mode="hvp")
    assert str(error.value).startswith("loss.py:6:1: error: --mode hvp:") and "_eigvecs" in str(error.value)


def test_gradient_jvp_and_hvp_of_scipy_stats_log_densities():
    # In their parameters (loc, scale, shape); the module computes them with NumPy and
    # scipy.special, so it imports no scipy.stats.
    source = textwrap.dedent("""\
        import numpy as np
        from scipy import stats


        def f(mu, log_s, nu, y):
            s = np.exp(log_s)
            a = stats.norm.logpdf(y, mu, s) + stats.t.logpdf(y, nu, mu, s)
            return -np.sum(a) - np.sum(stats.gamma.logpdf(np.abs(y) + 0.1, nu, scale=s))
    """)
    text = codegen.generate(source, "f", ["mu", "log_s", "nu"], mode="reverse,forward,hvp")
    assert "scipy.stats" not in text and "\nimport scipy.special\n" in text
    module = load_generated(text)
    f = load_generated(source, "user").f
    from codegen.verify import check_gradient, check_hvp, check_jvp

    kwargs = {"mu": 0.3, "log_s": 0.2, "nu": 3.0, "y": r(5)}
    wrt = ["mu", "log_s", "nu"]
    assert check_gradient(f, module.value_and_grad_f, kwargs, wrt).ok
    assert check_jvp(f, module.jvp_f, kwargs, wrt, value_and_grad=module.value_and_grad_f).ok
    assert check_hvp(module.grad_f, module.hvp_f, kwargs, wrt).ok


def test_hvp_comments_name_the_loss_lines():
    source = "import numpy as np\n\n\n" + ROSENBROCK
    text = codegen.generate(source, "f", ["x"], mode="hvp")
    body = text.split("def hvp_f", 1)[1].split("def hessian_f", 1)[0]
    assert "# line 5: return np.sum(100.0" in body and "# adjoint of line 5:" in body


def test_hvp_through_writes_into_arrays():
    # The JVP read back holds `_setitem(x, np.s_[1:], v)`: its index is a constant
    # there too (it was refused: "`np.s_` is not a supported constant").
    source = textwrap.dedent("""\
        import numpy as np

        def f(x, w: float):
            out = np.zeros(len(x))
            for i in range(len(x)):
                out[i] = np.sin(x[i] * w) + (out[i - 1] if i > 0 else 0.0)
            y = x * 1.0
            y[1:] = out[:-1] * y[:-1]
            return np.sum(y ** 2) + w * np.sum(out)
    """)
    module, text = _module(source, ["x", "w"])
    kwargs = {"x": r(4), "w": 0.7}
    from codegen.verify import check_hvp

    report = check_hvp(module.grad_f, module.hvp_f, kwargs, ["x", "w"])
    assert report.ok, f"{report}\n{text}"


def test_hvp_of_a_gaussian_marginal_likelihood():
    # slogdet and solve with respect to the matrix: their tangents call
    # _inverse_transposed and _solve_product, which have rules of their own.
    source = textwrap.dedent("""\
        import numpy as np

        def f(A, b):
            S = A @ A.T + 3.0 * np.eye(3)
            sign, logdet = np.linalg.slogdet(S)
            alpha = np.linalg.solve(S, b)
            return 0.5 * b @ alpha + 0.5 * logdet
    """)
    module, text = _module(source, ["A"])
    kwargs = {"A": r(3, 3), "b": r(3)}
    v = r(3, 3)
    ours = module.hvp_f(**kwargs, v_A=v)
    f = autograd_version(source).f
    theirs = np.tensordot(_autograd_block(f, kwargs, list(kwargs), "A", "A"), v, axes=2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)
