"""Rules on the inputs users pass and the rules once got wrong (issue 12): numbers
under axis reductions, vectors where a matrix was assumed, list literals, zero
spreads and zero bases. Each case is checked against central finite differences
(codegen.verify) and against autograd where autograd runs it. The registry test
(test_rules.py) tries every rule on such inputs too (rulecheck.VARIANTS); these
are the examples from the issue, as a user writes them."""

import numpy as np
import pytest

import codegen
from codegen.verify import check_gradient
from conftest import assert_matches_autograd, load_generated

HEADER = "import numpy as np\nfrom scipy.special import logsumexp\n\n\n"


def check(body: str, kwargs: dict, wrt=("a",), expected=None, autograd=True, fd=None):
    """Generate `f` from `body`, check value, gradient shape and kind, and the
    gradient against `expected` (at a kink) or else finite differences (`fd` for
    both), and against autograd."""
    source = HEADER + body
    module = load_generated(codegen.generate(source, "f", list(wrt)))
    grads = module.grad_f(**kwargs)
    for name, grad in zip(wrt, (grads,) if len(wrt) == 1 else grads):
        assert np.shape(grad) == np.shape(kwargs[name]), (name, np.shape(grad))
        if np.ndim(kwargs[name]) == 0:
            assert isinstance(grad, float), (name, type(grad))
        assert np.all(np.isfinite(grad)), (name, grad)
    if expected is not None:
        for mine, theirs in zip((grads,) if len(wrt) == 1 else grads, (expected,) if len(wrt) == 1 else expected):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    if fd or (fd is None and expected is None):
        report = check_gradient(load_generated(source).f, module.value_and_grad_f, kwargs, list(wrt))
        assert report.ok, str(report)
    if autograd:  # (after the checks above, so a skip here skips nothing else)
        assert_matches_autograd(source.replace("from scipy.special import logsumexp\n",
                                               "from autograd.scipy.special import logsumexp\n"),
                                module.grad_f, list(wrt), kwargs, atol=1e-12)
    return grads


# -- 5: a reduction over an axis of a number gives a number --------------------------

NUMBERS = [2.5, np.float64(-1.5)]


@pytest.mark.parametrize("a", NUMBERS, ids=["float", "float64"])
@pytest.mark.parametrize(
    "expression",
    [
        "np.sum(a, axis=0)",
        "np.min(a, axis=0)",
        "np.max(a, axis=-1)",
        "np.prod(a * a, axis=0)",
        "np.sum(np.cumprod(a, axis=0))",
        "np.sum(np.cumsum(a * a, axis=-1))",
        "logsumexp(a, axis=-1)",
        "np.nansum(a, axis=0) * a",
    ],
)
def test_reduction_over_an_axis_of_a_number(expression, a):
    check(f"def f(a):\n    return {expression}\n", {"a": a})


@pytest.mark.parametrize(
    "expression",
    ["a.sum(axis=0)", "(a * a).prod(axis=0)", "np.sum(a.cumsum(0) * a)", "np.sum(np.repeat(a, 3, axis=0))"],
)
def test_method_over_an_axis_of_a_float64(expression):
    """(A Python float has no methods; autograd's np.repeat of a number crashes.)"""
    check(f"def f(a):\n    return {expression}\n", {"a": np.float64(-1.5)}, autograd="repeat" not in expression)


def test_reduction_of_an_element_of_a_vector():
    check("def f(a):\n    return a[1].sum(axis=0) * a[0]\n", {"a": np.array([1.0, -2.0, 3.0])})
    check("def f(a):\n    b = a[1]\n    return np.sum(np.cumsum(b, axis=0) * b)\n", {"a": np.array([1.0, -2.0, 3.0])})


# -- 7: a vector where a matrix was assumed; list literals ----------------------------


@pytest.mark.parametrize("function", ["triu", "tril"])
@pytest.mark.parametrize("k", [0, 1, -1])
def test_triangle_of_a_vector(function, k):
    """(autograd's own gradient has the result's shape here, (4, 4), not a's.)"""
    a = np.array([0.3, -1.2, 2.0, 0.7])
    weights = np.arange(16.0).reshape(4, 4)
    check(f"def f(a, w):\n    return np.sum(np.{function}(a, {k}) * w)\n", {"a": a, "w": weights}, autograd=False)


@pytest.mark.parametrize(
    "body, kwargs",
    [
        ("def f(a):\n    return np.sum([1.0, a])\n", {"a": 2.0}),
        ("def f(a):\n    return np.linalg.norm([a, a + 2.0])\n", {"a": 2.0}),
        ("def f(a):\n    return np.mean([a, a * a, 3.0])\n", {"a": 1.5}),
        ("def f(a):\n    return np.sum(np.exp([a, 0.5]))\n", {"a": 0.3}),
        ("def f(a):\n    return np.prod([a, a + 1.0])\n", {"a": 0.7}),
        ("def f(a):\n    return np.max([a, 2.0 * a])\n", {"a": 0.7}),
        ("def f(a):\n    return np.sum(np.sum([a, 2.0 * a], axis=0) ** 2)\n", {"a": np.array([0.5, -1.0])}),
        ("def f(a):\n    return np.std([[a, 1.0], [2.0, a * a]], axis=1)[1]\n", {"a": 0.9}),
        ("def f(a):\n    return np.sum(np.where([True, False], [a, a], 0.0))\n", {"a": 0.9}),
        ("def f(a):\n    return np.dot([a, 1.0], [2.0, a])\n", {"a": 0.9}),
    ],
)
def test_list_literal_reduced(body, kwargs):
    check(body, kwargs)


# -- 3: a zero spread -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body, kwargs, expected",
    [
        ("def f(a):\n    return np.std(a)\n", {"a": 2.0}, 0.0),
        ("def f(a):\n    return np.std(a)\n", {"a": np.float64(2.0)}, 0.0),
    ],
)
def test_std_where_the_spread_is_zero(body, kwargs, expected):
    check(body, kwargs, expected=expected)


@pytest.mark.parametrize(
    "body, kwargs, expected",
    [
        ("def f(a):\n    return np.sum(np.std(a, axis=0))\n", {"a": np.array([[1.0, 2.0, 3.0]])}, np.zeros((1, 3))),
        ("def f(a):\n    return np.std(a)\n", {"a": np.full(3, 0.5)}, np.zeros(3)),
        ("def f(a):\n    return np.std(a * a, ddof=1)\n", {"a": np.full(3, 0.5)}, np.zeros(3)),
        ("def f(a):\n    return np.sum(a.std(axis=1))\n", {"a": np.array([[1.0, 1.0], [1.0, 3.0]])},
         np.array([[0.0, 0.0], [-0.5, 0.5]])),
    ],
)
def test_std_of_an_array_where_the_spread_is_zero(body, kwargs, expected):
    """(autograd gives nan here: 0 only for a number.)"""
    check(body, kwargs, expected=expected, autograd=False)


# -- 3: a zero base -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, kwargs, wrt, expected",
    [
        ("def f(a, b):\n    return np.power(a, b)\n", {"a": 0.0, "b": 0.0}, ("a", "b"), (0.0, 0.0)),
        ("def f(a, b):\n    return a ** b\n", {"a": 0.0, "b": 0.0}, ("a", "b"), (0.0, 0.0)),
        ("def f(a, b):\n    return np.sum(np.power(a, b))\n", {"a": np.zeros(2), "b": np.zeros(2)}, ("a", "b"),
         (np.zeros(2), np.zeros(2))),
        ("def f(a, b):\n    return np.sum(a ** b)\n", {"a": np.zeros(3), "b": np.array([0.0, 1.0, 2.0])}, ("a", "b"),
         (np.array([0.0, 1.0, 0.0]), np.zeros(3))),
        ("def f(a):\n    return a ** 2\n", {"a": 0.0}, ("a",), 0.0),
        ("def f(a):\n    return a ** 0\n", {"a": 0.0}, ("a",), 0.0),
        ("def f(a):\n    return np.sum(a ** 0)\n", {"a": np.zeros(2)}, ("a",), np.zeros(2)),
    ],
)
def test_power_at_a_zero_base(body, kwargs, wrt, expected):
    check(body, kwargs, wrt, expected=expected)


@pytest.mark.filterwarnings("ignore:divide by zero")
@pytest.mark.parametrize("a", [0.0, np.float64(0.0), np.zeros(2)], ids=["float", "float64", "array"])
@pytest.mark.parametrize("exponent", ["0.5", "b"])
def test_root_at_zero_is_infinite(a, exponent):
    """As np.sqrt's derivative at 0: inf (not ZeroDivisionError for a Python float)."""
    module = load_generated(codegen.generate(HEADER + f"def f(a, b=0.5):\n    return np.sum(a ** {exponent})\n", "f"))
    grad = module.grad_f(a)
    assert np.shape(grad) == np.shape(a) and np.all(np.isposinf(grad))


# -- 3: other adjoints that divided by a value that can be 0 ---------------------------


@pytest.mark.parametrize(
    "body, kwargs, expected",
    [
        ("def f(a, b):\n    return np.hypot(a, b)\n", {"a": 0.0, "b": 0.0}, (0.0, 0.0)),
        ("def f(a, b):\n    return np.sum(np.hypot(a, b))\n", {"a": np.array([0.0, 3.0]), "b": np.array([0.0, 4.0])},
         (np.array([0.0, 0.6]), np.array([0.0, 0.8]))),
        ("def f(a, b):\n    return np.arctan2(a, b)\n", {"a": 0.0, "b": 0.0}, (0.0, 0.0)),
        ("def f(a, b):\n    return np.arctan2(a, b)\n", {"a": 1e-200, "b": 1e-200}, (5e199, -5e199)),
        ("def f(a, b):\n    return np.linalg.norm(a) + 0.0 * b\n", {"a": np.zeros(3), "b": 1.0}, (np.zeros(3), 0.0)),
        ("def f(a, b):\n    return np.linalg.det(a) * b\n", {"a": np.array([[1.0, 2.0], [2.0, 4.0]]), "b": 1.0},
         (np.array([[4.0, -2.0], [-2.0, 1.0]]), 0.0)),
        ("def f(a, b):\n    return np.linalg.det(a) * b\n",
         {"a": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]), "b": 1.0},
         (np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]]), 0.0)),
    ],
)
def test_adjoints_at_a_zero_divisor(body, kwargs, expected):
    """(autograd gives nan or inf at these points, or raises for det.)"""
    check(body, kwargs, ("a", "b"), expected=expected, autograd=False, fd="det" in body)


def test_det_of_a_batch_with_a_singular_matrix():
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.5, 3.0]]])
    grads = check("def f(a):\n    return np.sum(np.linalg.det(a) * np.array([1.0, 2.0]))\n", {"a": a}, autograd=False)
    np.testing.assert_allclose(grads[0], [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


# -- 2: every form of np.einsum ---------------------------------------------------------

A, B = np.arange(1.0, 10.0).reshape(3, 3) / 7.0, np.arange(1.0, 4.0) / 3.0


@pytest.mark.parametrize(
    "expression",
    [
        "np.einsum(a, [0, 1], [])",
        "np.einsum(a, [0, 1], b, [1], [0]) @ b",
        "np.einsum(a, [0, 1], a, [1, 0])",
        "np.sum(np.einsum('ii->i', a) ** 2)",
        "np.einsum('ii', a) * np.einsum('ii', a)",
        "np.einsum('ij,jk', a, a)[0, 1]",
        "np.sum(np.einsum('...ij,...jk->...ik', np.stack([a, 2.0 * a]), a) ** 2)",
        "np.einsum('i,i', b, b)",
        "np.sum(np.einsum('ij->ji', a) * np.arange(9.0).reshape(3, 3))",
    ],
)
def test_einsum_forms(expression):
    """(autograd cannot run the sublist form or a repeated index; it does the rest.)"""
    check(f"def f(a, b):\n    return {expression}\n", {"a": A, "b": B}, ("a", "b"),
          autograd="[" not in expression.split(")")[0] and "ii" not in expression)


@pytest.mark.filterwarnings("ignore:divide by zero", "ignore:invalid value")
def test_logabsdet_of_a_singular_matrix_does_not_raise():
    """log|det| is -inf there; its gradient is infinite, as np.log's at 0."""
    module = load_generated(codegen.generate(HEADER + "def f(a):\n    return np.linalg.slogdet(a)[1]\n", "f"))
    grad = module.grad_f(np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert np.shape(grad) == (2, 2) and np.all(np.isinf(grad) | np.isnan(grad)) and np.any(np.isinf(grad))
    regular = np.array([[2.0, 1.0], [0.5, 3.0]])
    np.testing.assert_allclose(module.grad_f(regular), np.linalg.inv(regular).T, rtol=1e-14)
