"""codegen on the combinations of autograd's tests/test_scipy.py (issue 15: "your own
adaptation of autograd's test suite").

    python tests/peers/autograd_scipy.py [-v]

The functions (scipy.stats, scipy.special, scipy.signal, scipy.linalg, odeint), which
arguments are differentiated, the input shapes, value ranges and keywords below are
the facts of autograd's test_scipy.py, written here as combinations
(tests/peers/combos.py); the values are this file's own random draws. autograd's
tests of its own wrappers (`symmetrize_matrix_arg`, the convolve generalisation
against scipy) are left out; a symmetric matrix argument is symmetrised in the body,
as autograd's test does. How a case runs: tests/peers/harness.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from combos import combo, transform  # noqa: E402

HEADER = "import numpy as np\nimport scipy.integrate\nimport scipy.linalg\nimport scipy.signal\nimport scipy.special\nimport scipy.stats"

_rng = np.random.default_rng(1)


def R(*shape):
    return _rng.standard_normal(shape) if shape else float(_rng.standard_normal())


def U(low, high, shape=()):
    return _rng.uniform(low, high, shape) if shape else float(_rng.uniform(low, high))


def P(*shape):
    """Positive values, as autograd's tests make them: R ** 2 + 1.1."""
    return R(*shape) ** 2 + 1.1


def unary(name, call, lims):
    values = [transform(lims, 0.4), transform(lims, _rng.random(2)), transform(lims, _rng.random((3, 2))),
              transform(lims, _rng.random((1, 2)))]
    return combo(name, call, [0], values)


def _psd(n):
    m = R(n, n)
    return m.T @ m + np.eye(n)


CASES = []
# scipy.stats
for _f in ("pdf", "cdf", "logpdf"):
    CASES += combo(f"chi2.{_f}", f"scipy.stats.chi2.{_f}", [0], [P(4)], [1, 2, 3])
CASES += combo("beta.cdf", "scipy.stats.beta.cdf", [0], [U(0, 1, 4)], [P(4)], [P(4)])
for _f in ("pdf", "logpdf"):
    CASES += combo(f"beta.{_f}", f"scipy.stats.beta.{_f}", [0, 1, 2], [U(0, 1, 4)], [P(4)], [P(4)])
CASES += combo("gamma.cdf", "scipy.stats.gamma.cdf", [0], [P(4)], [P(4)])
for _f in ("pdf", "logpdf"):
    CASES += combo(f"gamma.{_f}", f"scipy.stats.gamma.{_f}", [0, 1], [P(4)], [P(4)])
for _f in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf"):
    CASES += combo(f"norm.{_f}", f"scipy.stats.norm.{_f}", [0, 1, 2], [R(4)], [R(4)], [P(4)])
    CASES += combo(f"norm.{_f} broadcast", f"scipy.stats.norm.{_f}", [0, 1, 2], [R(4, 3)], [R(1, 3)], [P(4, 1)])
for _f in ("cdf", "logpmf", "pmf"):
    CASES += combo(f"poisson.{_f}", f"scipy.stats.poisson.{_f}", [1], [np.round(R(4) ** 2)], [P(4)])
    CASES += combo(f"poisson.{_f} broadcast", f"scipy.stats.poisson.{_f}", [1], [np.round(R(4, 3) ** 2)], [P(4, 1)])
for _f, _argnums in (("pdf", [0, 1, 2, 3]), ("cdf", [0, 2]), ("logpdf", [0, 1, 2, 3]), ("logcdf", [0, 2])):
    CASES += combo(f"t.{_f}", f"scipy.stats.t.{_f}", _argnums, [R(4)], [R(4) ** 2 + 2.1], [R(4)], [R(4) ** 2 + 2.1])
    CASES += combo(f"t.{_f} broadcast", f"scipy.stats.t.{_f}", _argnums, [R(4, 3)], [R(1, 3) ** 2 + 2.1], [R(4, 3)],
                   [R(4, 1) ** 2 + 2.1])
for _f in ("pdf", "logpdf"):
    for _label, _x in (("", R(4)), (" broadcast", R(5, 4))):
        CASES.append((
            f"multivariate_normal.{_f}{_label}",
            f"def f(x, y, z):\n    return scipy.stats.multivariate_normal.{_f}(x, y, 0.5 * (z + z.T))",
            {"x": ("value", _x), "y": ("value", R(4)), "z": ("value", _psd(4))},
        ))
CASES.append((
    "multivariate_normal.entropy",
    "def f(x, y):\n    return scipy.stats.multivariate_normal.entropy(x, 0.5 * (y + y.T))",
    {"x": ("value", 10 * R(4)), "y": ("value", _psd(4))},
))
_alpha = _rng.random(4) ** 2 + 1.2
_x = _rng.dirichlet(_alpha)
for _f in ("pdf", "logpdf"):
    CASES.append((f"dirichlet.{_f} in x", f"def f(x, a):\n    return scipy.stats.dirichlet.{_f}(x / sum(x), a)",
                  {"x": ("value", _x), "a": ("data", _alpha)}))
    CASES.append((f"dirichlet.{_f} in alpha", f"def f(x, a):\n    return scipy.stats.dirichlet.{_f}(x, a)",
                  {"x": ("data", _x), "a": ("value", _alpha)}))
# logsumexp
CASES += combo("logsumexp 1", "scipy.special.logsumexp", [0], [np.array([1.1]), R(4), R(3, 4)], axis=[None, 0],
               keepdims=[True, False])
CASES += combo("logsumexp 2", "scipy.special.logsumexp", [0], [R(3, 4), R(4, 5, 6), R(1, 5)], axis=[None, 0, 1],
               keepdims=[True, False])
CASES += combo("logsumexp 3", "scipy.special.logsumexp", [0], [R(4)], b=[np.exp(R(4))], axis=[None, 0],
               keepdims=[True, False])
CASES += combo("logsumexp 4", "scipy.special.logsumexp", [0], [R(3, 4)], b=[np.exp(R(3, 4))], axis=[None, 0, 1],
               keepdims=[True, False])
CASES += combo("logsumexp 5", "scipy.special.logsumexp", [0], [R(2, 3, 4)], b=[np.exp(R(2, 3, 4))],
               axis=[None, 0, 1], keepdims=[True, False])
CASES += combo("logsumexp 6", "scipy.special.logsumexp", [0], [R(1, 5)], axis=[1], keepdims=[True])
# scipy.signal.convolve (autograd's own convolve takes axes= and dot_axes=, scipy's does not:
# those cases are left out)
CASES += combo("convolve", "scipy.signal.convolve", [0, 1], [R(4), R(5), R(6)], [R(2), R(3), R(4)],
               mode=["full", "valid", "same"])
CASES += combo("convolve 2-D", "scipy.signal.convolve", [0, 1], [R(4, 3), R(5, 4), R(6, 7)],
               [R(2, 2), R(3, 2), R(4, 2), R(4, 1)], mode=["full", "valid", "same"])
# scipy.special
CASES += combo("beta", "scipy.special.beta", [0, 1], [P(4)], [P(4)])
CASES += combo("betainc", "scipy.special.betainc", [2], [P(4)], [P(4)], [U(0, 1, 4)])
CASES += combo("betaln", "scipy.special.betaln", [0, 1], [P(4)], [P(4)])
CASES += combo("gammainc", "scipy.special.gammainc", [1], [1], [R(4) ** 2 + 1.3])
CASES += combo("gammaincc", "scipy.special.gammaincc", [1], [1], [R(4) ** 2 + 1.3])
CASES += combo("polygamma", "scipy.special.polygamma", [1], [0], [R(4) ** 2 + 1.3])
CASES += combo("jn", "scipy.special.jn", [1], [2], [R(4) ** 2 + 1.3])
CASES += combo("yn", "scipy.special.yn", [1], [2], [R(4) ** 2 + 1.3])
for _name in ("psi", "digamma", "gamma", "gammaln", "gammasgn", "rgamma"):
    CASES += unary(_name, f"scipy.special.{_name}", (0.3, 2.0))
CASES += combo("multigammaln", "scipy.special.multigammaln", [0], [U(4.0, 5.0), U(4.0, 5.0, (2, 3))], [1, 2, 3])
for _name in ("j0", "j1", "y0", "y1", "i0", "i1"):
    CASES += unary(_name, f"scipy.special.{_name}", (0.2, 20.0))
CASES += combo("iv", "scipy.special.iv", [1], [U(1.0, 50.0, 4)], [R(4) ** 2 + 1.3])
CASES += combo("ive", "scipy.special.ive", [1], [U(1.0, 50.0, 4)], [R(4) ** 2 + 1.3])
CASES += unary("erf", "scipy.special.erf", (-3.0, 3.0))
CASES += unary("erfc", "scipy.special.erfc", (-3.0, 3.0))
CASES += unary("erfinv", "scipy.special.erfinv", (-0.95, 0.95))
CASES += unary("erfcinv", "scipy.special.erfcinv", (0.05, 1.95))
CASES += unary("logit", "scipy.special.logit", (0.10, 0.90))
CASES += unary("expit", "scipy.special.expit", (-4.05, 4.95))
# odeint, in the initial state and the two extra arguments
CASES.append((
    "odeint",
    "def f(y0, a, b, t):\n"
    "    def rhs(y, t, arg1, arg2):\n"
    "        return -np.sqrt(t) - y + arg1 - np.mean((y + arg2) ** 2)\n"
    "    return scipy.integrate.odeint(rhs, y0, t, args=(a, b))",
    {"y0": (3,), "a": (3,), "b": (3,), "t": ("data", np.linspace(0.1, 0.2, 4))},
))
# scipy.linalg
CASES.append(("sqrtm of a symmetric matrix", "def f(x):\n    return scipy.linalg.sqrtm(0.5 * (x + x.T))",
              {"x": ("value", _psd(3))}))
CASES += combo("solve_sylvester", "scipy.linalg.solve_sylvester", [0, 1, 2], [R(3, 3)], [R(3, 3)], [R(3, 3)])
CASES += combo("solve_banded", "scipy.linalg.solve_banded", [1, 2], [(1, 1)], [R(3, 5)], [R(5)])


def run(verbose: bool = False) -> dict:
    return harness.run(CASES, verbose=verbose, header=HEADER)


if __name__ == "__main__":
    harness.main(CASES, header=HEADER)
