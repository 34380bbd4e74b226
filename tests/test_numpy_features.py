"""NumPy as losses use it: methods, attributes, indexing, SciPy's functions,
tuple results, and the places a derivative needs care (zeros in products)."""

import numpy as np
import pytest

from codegen import generate
from codegen.verify import check_gradient
from conftest import assert_matches_autograd, load_generated

IMPORT = "import numpy as np\n\n\n"
RNG = np.random.default_rng(7)

# (id, source body, wrt, inputs)
CASES = [
    (
        "methods-and-attributes",
        "def f(x):\n    return x.sum(axis=0).max() + x.T.mean() * x.shape[0] + x.reshape(-1).dot(x.ravel()) / len(x)\n",
        ["x"], {"x": RNG.standard_normal((3, 4))},
    ),
    (
        "repeated-integer-index",
        "def f(x, idx):\n    return np.sum(x[idx] ** 2) + np.sum(x[idx, 1:] * x[0, 1:])\n",
        ["x"], {"x": RNG.standard_normal((4, 3)), "idx": np.array([0, 2, 2, 3, 2])},
    ),
    (
        "boolean-mask-and-where",
        "def f(x):\n    return np.sum(x[x > 0] ** 3) + np.sum(np.where(x < 0, -x, 0.5 * x))\n",
        ["x"], {"x": RNG.standard_normal(7)},
    ),
    (
        "newaxis-and-ellipsis",
        "def f(x, y):\n    return np.sum((x[:, np.newaxis] - y[None, ...]) ** 2)\n",
        ["x", "y"], {"x": RNG.standard_normal(3), "y": RNG.standard_normal(4)},
    ),
    (
        "logabsdet-and-solve",
        "def f(A, b):\n    return np.linalg.slogdet(A)[1] + np.linalg.slogdet(A).logabsdet + b @ np.linalg.solve(A, b)\n",
        ["A", "b"], {"A": RNG.standard_normal((3, 3)) + 3 * np.eye(3), "b": RNG.standard_normal(3)},
    ),
    (
        "einsum-of-variables",
        "def f(x, y):\n    return np.einsum('ij,jk,ik->', x, y, x @ y)\n",
        ["x", "y"], {"x": RNG.standard_normal((2, 3)), "y": RNG.standard_normal((3, 2))},
    ),
    (
        "stack-and-concatenate-of-expressions",
        "def f(a, b):\n    m = np.stack([a, 2.0 * b, a * b])\n    return np.sum(np.concatenate([m, m ** 2], axis=1) * np.arange(6.0))\n",
        ["a", "b"], {"a": RNG.standard_normal(3), "b": RNG.standard_normal(3)},
    ),
    (
        "constructors-in-a-loss",
        "def f(w):\n    n = w.shape[0]\n    return np.sum((np.eye(n) + np.ones((n, n))) @ w * np.linspace(0.0, 1.0, n)) + np.sum(np.zeros_like(w))\n",
        ["w"], {"w": RNG.standard_normal(4)},
    ),
]


def _check(body, wrt, kwargs, header=IMPORT):
    source = header + body
    module = load_generated(generate(source, "f", wrt))
    report = check_gradient(load_generated(source, "original").f, module.value_and_grad_f, kwargs, wrt)
    assert report.ok, str(report)
    return source, module


@pytest.mark.parametrize("name, body, wrt, kwargs", CASES, ids=[c[0] for c in CASES])
def test_against_finite_differences_and_autograd(name, body, wrt, kwargs):
    source, module = _check(body, wrt, kwargs)
    assert_matches_autograd(source, module.grad_f, wrt, kwargs, atol=1e-12)


def test_prod_is_exact_at_zeros():
    module = load_generated(generate(IMPORT + "def f(x):\n    return np.prod(x)\n", "f"))
    np.testing.assert_array_equal(module.grad_f(np.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(module.grad_f(np.array([0.0, 0.0, 3.0])), [0.0, 0.0, 0.0])
    rows = load_generated(generate(IMPORT + "def f(x):\n    return np.sum(np.prod(x, axis=1) * np.array([1.0, 2.0]))\n", "f"))
    np.testing.assert_array_equal(rows.grad_f(np.array([[2.0, 0.0], [4.0, 5.0]])), [[0.0, 2.0], [10.0, 8.0]])


def test_cumprod_is_exact_at_zeros():
    x = np.array([1.5, 0.0, -2.0, 0.5])
    _check("def f(x):\n    return np.sum(np.cumprod(x) * np.array([1.0, -1.0, 2.0, 3.0]))\n", ["x"], {"x": x})


def test_scipy_functions_need_no_scipy_in_generated_code():
    header = "import numpy as np\nfrom scipy.special import expit, logsumexp\n\n\n"
    body = "def f(w, X):\n    z = X @ w\n    return np.sum(np.log(expit(z))) - logsumexp(z)\n"
    source, module = _check(body, ["w"], {"w": RNG.standard_normal(3), "X": RNG.standard_normal((5, 3))}, header)
    text = generate(source, "f")
    assert "scipy" not in text.split('"""', 2)[2] and "_expit(" in text and "_logsumexp(" in text


def test_subgradient_policy_is_stated_where_it_is_used():
    text = generate(IMPORT + "def f(x, y):\n    return np.sum(np.maximum(x, y) + np.abs(x))\n", "f", "x,y")
    assert "# ties split evenly between x and y" in text and "# subgradient 0 at x == 0" in text


def test_ties_split_evenly():
    module = load_generated(generate(IMPORT + "def f(x):\n    return np.max(x) + np.sum(np.maximum(x, 1.0))\n", "f"))
    np.testing.assert_array_equal(module.grad_f(np.array([3.0, 1.0, 3.0])), [1.5, 0.5, 1.5])
