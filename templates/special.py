"""SciPy's special functions that losses use. Generated code computes them with
NumPy (the `_` helpers here), so it needs SciPy only if the loss itself does."""

import numpy as np
from scipy import special


@rule(elementwise=True, compute="_expit(x)")
def expit(x):
    ans = special.expit(x)
    d_x = d_ans * ans * (1.0 - ans)


def _expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x)), without overflow for large |x|."""
    return np.exp(-np.logaddexp(0.0, -x))


@rule(
    reduction=True,
    compute="_logsumexp(a, axis, keepdims, b)",
    checks=[
        ("special.logsumexp(x)", [{"x": (3,)}, {"x": (2, 3)}]),
        ("special.logsumexp(x, axis=1)", [{"x": (2, 3)}]),
        ("special.logsumexp(x, axis=0, keepdims=True)", [{"x": (2, 3)}]),
        ("special.logsumexp(x, b=b)", [{"x": (3,), "b": (3,)}]),
        ("special.logsumexp(x, axis=1, b=b)", [{"x": (2, 3), "b": (2, 3)}, {"x": (2, 3), "b": (3,)}]),
        ("special.logsumexp(x, axis=0, b=b, keepdims=True)", [{"x": (2, 3), "b": (2, 3)}]),
    ],
    domain={"b": "positive"},
)
def logsumexp(a, axis=None, b=None, keepdims=False):
    """log(sum(b * exp(a))) over axis (b = 1 where not given; b > 0: the sign of a
    negative sum, `return_sign=True`, is not supported)."""
    ans = special.logsumexp(a, axis=axis, b=b, keepdims=keepdims)
    spread = _expand(d_ans, a, axis) if axis is not None and not keepdims else d_ans
    top = _expand(ans, a, axis) if axis is not None and not keepdims else ans
    d_a = _unbroadcast(spread * _weighted_exp(a, top, b), a)
    d_b = _unbroadcast(spread * np.exp(a - top), b)
    t_ans = np.sum(t_a * _weighted_exp(a, top, b), axis=axis, keepdims=keepdims) + np.sum(t_b * np.exp(a - top), axis=axis, keepdims=keepdims)


def _weighted_exp(a, top, b):
    """b * exp(a - top), or exp(a - top) where b is None."""
    return np.exp(a - top) if b is None else b * np.exp(a - top)


def _logsumexp(x, axis, keepdims, b=None):
    """log(sum(b * exp(x))) over `axis`, shifted by the maximum so exp cannot overflow."""
    shift = np.max(x, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    terms = np.exp(x - shift) if b is None else b * np.exp(x - shift)
    total = np.log(np.sum(terms, axis=axis, keepdims=True)) + shift
    return total if keepdims else np.sum(total, axis=axis)


@rule(compute="_softmax(x, axis)", checks=[("special.softmax(x)", [{"x": (3,)}]), ("special.softmax(x, axis=1)", [{"x": (2, 3)}])])
def softmax(x, axis=None):
    ans = special.softmax(x, axis=axis)
    d_x = ans * (d_ans - np.sum(d_ans * ans, axis=axis, keepdims=True))
    t_ans = ans * (t_x - np.sum(t_x * ans, axis=axis, keepdims=True))


def _softmax(x, axis):
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


@rule(compute="_log_softmax(x, axis)", checks=[("special.log_softmax(x)", [{"x": (3,)}]), ("special.log_softmax(x, axis=0)", [{"x": (2, 3)}])])
def log_softmax(x, axis=None):
    ans = special.log_softmax(x, axis=axis)
    d_x = d_ans - np.exp(ans) * np.sum(d_ans, axis=axis, keepdims=True)
    t_ans = t_x - np.sum(np.exp(ans) * t_x, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    return x - _logsumexp(x, axis, True)


# -- gamma and beta functions ------------------------------------------------------------


@rule(elementwise=True, domain={"x": "positive"}, aliases=["scipy.special.loggamma"])
def gammaln(x):
    """log|Γ(x)|; `loggamma` is the same for real x > 0."""
    ans = special.gammaln(x)
    d_x = d_ans * special.digamma(x)


@rule(elementwise=True, domain={"x": "positive"})
def gamma(x):
    ans = special.gamma(x)
    d_x = d_ans * ans * special.digamma(x)


@rule(elementwise=True, domain={"x": "positive"})
def rgamma(x):
    """1 / Γ(x)."""
    ans = special.rgamma(x)
    d_x = -d_ans * ans * special.digamma(x)


@rule(elementwise=True, domain={"x": "positive"}, aliases=["scipy.special.psi"])
def digamma(x):
    ans = special.digamma(x)
    d_x = d_ans * special.polygamma(1, x)


@rule(elementwise=True, zero_gradient=["n"], domain={"x": "positive"},
      checks=[("special.polygamma(1, x)", [{"x": ()}, {"x": (3,)}]), ("special.polygamma(2, x)", [{"x": (2, 3)}])])
def polygamma(n, x):
    """The n-th derivative of digamma; n is an integer (no gradient)."""
    ans = special.polygamma(n, x)
    d_x = d_ans * special.polygamma(n + 1, x)


@rule(zero_gradient=["d"], domain={"a": "above1"},
      checks=[("special.multigammaln(a, 2)", [{"a": ()}, {"a": (3,)}]), ("special.multigammaln(a, 3)", [{"a": ()}])])
def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension d (an integer):
    a sum of gammaln(a - j / 2), j < d; a > (d - 1) / 2."""
    ans = special.multigammaln(a, d)
    d_a = d_ans * np.sum(special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2.0), axis=-1)
    t_ans = t_a * np.sum(special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2.0), axis=-1)


@rule(elementwise=True, domain={"a": "positive", "b": "positive"})
def betaln(a, b):
    ans = special.betaln(a, b)
    d_a = d_ans * (special.digamma(a) - special.digamma(a + b))
    d_b = d_ans * (special.digamma(b) - special.digamma(a + b))


@rule(elementwise=True, domain={"a": "positive", "b": "positive"})
def beta(a, b):
    ans = special.beta(a, b)
    d_a = d_ans * ans * (special.digamma(a) - special.digamma(a + b))
    d_b = d_ans * ans * (special.digamma(b) - special.digamma(a + b))


@rule(elementwise=True, domain={"z": "positive", "m": "positive"})
def poch(z, m):
    """The rising factorial Γ(z + m) / Γ(z)."""
    ans = special.poch(z, m)
    d_z = d_ans * ans * (special.digamma(z + m) - special.digamma(z))
    d_m = d_ans * ans * special.digamma(z + m)


@rule(elementwise=True, domain={"x": "positive"}, checks=[("special.factorial(x)", [{"x": ()}, {"x": (3,)}])])
def factorial(x):
    """Γ(x + 1) (the default exact=False)."""
    ans = special.factorial(x)
    d_x = d_ans * ans * special.digamma(x + 1.0)


@rule(elementwise=True, checks=[("special.binom(n + 3.0, k)", [{"n": (), "k": ()}, {"n": (3,), "k": (3,)}])], domain={"n": "positive", "k": "positive"})
def binom(n, k):
    """The binomial coefficient Γ(n + 1) / (Γ(k + 1) Γ(n - k + 1)), for real n > k > -1."""
    ans = special.binom(n, k)
    d_n = d_ans * ans * (special.digamma(n + 1.0) - special.digamma(n - k + 1.0))
    d_k = d_ans * ans * (special.digamma(n - k + 1.0) - special.digamma(k + 1.0))


@rule(elementwise=True, domain={"a": "positive", "x": "positive"})
def gammainc(a, x):
    """The regularized lower incomplete gamma function; its derivative in `a` has no
    closed form (no rule: a gradient to `a` is refused)."""
    ans = special.gammainc(a, x)
    d_x = d_ans * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a))


@rule(elementwise=True, domain={"a": "positive", "x": "positive"})
def gammaincc(a, x):
    """The regularized upper incomplete gamma function (no gradient to `a`)."""
    ans = special.gammaincc(a, x)
    d_x = -d_ans * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a))


# -- error functions and the normal distribution -----------------------------------------


@rule(elementwise=True)
def erf(x):
    ans = special.erf(x)
    d_x = d_ans * 1.1283791670955126 * np.exp(-x * x)


@rule(elementwise=True)
def erfc(x):
    ans = special.erfc(x)
    d_x = -d_ans * 1.1283791670955126 * np.exp(-x * x)


@rule(elementwise=True)
def erfcx(x):
    """exp(x**2) erfc(x)."""
    ans = special.erfcx(x)
    d_x = d_ans * (2.0 * x * ans - 1.1283791670955126)


@rule(elementwise=True, domain={"x": "unit"})
def erfinv(x):
    ans = special.erfinv(x)
    d_x = d_ans * 0.886226925452758 * np.exp(ans * ans)


@rule(elementwise=True, domain={"x": "probability"})
def erfcinv(x):
    ans = special.erfcinv(x)
    d_x = -d_ans * 0.886226925452758 * np.exp(ans * ans)


@rule(elementwise=True)
def ndtr(x):
    """The standard normal CDF."""
    ans = special.ndtr(x)
    d_x = d_ans * 0.3989422804014327 * np.exp(-0.5 * x * x)


@rule(elementwise=True, domain={"x": "probability"})
def ndtri(x):
    """The standard normal quantile (the inverse of ndtr)."""
    ans = special.ndtri(x)
    d_x = d_ans * 2.5066282746310002 * np.exp(0.5 * ans * ans)


@rule(elementwise=True, checks=[("special.log_ndtr(x)", [{"x": ()}, {"x": (3,)}]), ("special.log_ndtr(x * 10.0 - 20.0)", [{"x": (3,)}])])
def log_ndtr(x):
    """log(ndtr(x)), whose derivative pdf / cdf is computed as exp(log pdf - ans), so
    that it stays finite far in the left tail (about -x there)."""
    ans = special.log_ndtr(x)
    d_x = d_ans * np.exp(-0.5 * x * x - 0.9189385332046728 - ans)


@rule(elementwise=True)
def owens_t(h, a):
    """Owen's T function T(h, a)."""
    ans = special.owens_t(h, a)
    d_h = -d_ans * 0.19947114020071635 * np.exp(-0.5 * h * h) * special.erf(a * h / 1.4142135623730951)
    d_a = d_ans * np.exp(-0.5 * h * h * (1.0 + a * a)) / (6.283185307179586 * (1.0 + a * a))


# -- logs, entropies and the logistic function --------------------------------------------


@rule(elementwise=True, domain={"y": "positive"}, policy="d/dx is log(y) also where x is 0 (-inf at y == 0)")
def xlogy(x, y):
    """x * log(y), 0 where x is 0."""
    ans = special.xlogy(x, y)
    d_x = d_ans * np.log(y)
    d_y = d_ans * x / y


@rule(elementwise=True, domain={"y": "positive"})
def xlog1py(x, y):
    """x * log1p(y), 0 where x is 0."""
    ans = special.xlog1py(x, y)
    d_x = d_ans * np.log1p(y)
    d_y = d_ans * x / (1.0 + y)


@rule(elementwise=True, domain={"x": "probability"})
def logit(x):
    ans = special.logit(x)
    d_x = d_ans / (x * (1.0 - x))


@rule(elementwise=True, compute="-np.logaddexp(0.0, -x)")
def log_expit(x):
    """log(expit(x)), computed without overflow."""
    ans = special.log_expit(x)
    d_x = d_ans * np.exp(-np.logaddexp(0.0, x))


@rule(elementwise=True, compute="np.logaddexp(0.0, x)")
def softplus(x):
    """log(1 + exp(x)), computed without overflow."""
    ans = special.softplus(x)
    d_x = d_ans * np.exp(-np.logaddexp(0.0, -x))


@rule(elementwise=True, domain={"x": "positive"})
def entr(x):
    """-x log(x) (0 at 0, -inf below)."""
    ans = special.entr(x)
    d_x = -d_ans * (np.log(x) + 1.0)


@rule(elementwise=True, domain={"x": "positive", "y": "positive"})
def rel_entr(x, y):
    """x log(x / y)."""
    ans = special.rel_entr(x, y)
    d_x = d_ans * (np.log(x / y) + 1.0)
    d_y = -d_ans * x / y


@rule(elementwise=True, domain={"x": "positive", "y": "positive"})
def kl_div(x, y):
    """x log(x / y) - x + y."""
    ans = special.kl_div(x, y)
    d_x = d_ans * np.log(x / y)
    d_y = d_ans * (1.0 - x / y)


@rule(elementwise=True, checks=[("special.exprel(x)", [{"x": ()}, {"x": (3,)}]), ("special.exprel(x * 0.0)", [{"x": (2,)}])],
      policy="1/2 at x == 0 (its limit)")
def exprel(x):
    """(exp(x) - 1) / x, 1 at 0."""
    ans = special.exprel(x)
    d_x = d_ans * np.where(x == 0.0, 0.5, (np.exp(x) - ans) / np.where(x == 0.0, 1.0, x))


@rule(elementwise=True)
def exp2_scipy(x):
    """scipy.special.exp2: 2 ** x."""
    ans = special.exp2(x)
    d_x = d_ans * ans * 0.6931471805599453


@rule(elementwise=True)
def exp10(x):
    """10 ** x."""
    ans = special.exp10(x)
    d_x = d_ans * ans * 2.302585092994046


@rule(elementwise=True, domain={"x": "positive"})
def spence(x):
    """The dilogarithm as SciPy defines it: the integral from 1 to x of log(t) / (1 - t)."""
    ans = special.spence(x)
    d_x = d_ans * np.where(x == 1.0, -1.0, np.log(x) / np.where(x == 1.0, 0.5, 1.0 - x))


@rule(elementwise=True)
def wrightomega(x):
    """The Wright omega function, w + log(w) = x."""
    ans = special.wrightomega(x)
    d_x = d_ans * ans / (1.0 + ans)


@rule(elementwise=True, domain={"x": "positive"})
def expi(x):
    ans = special.expi(x)
    d_x = d_ans * np.exp(x) / x


@rule(elementwise=True, domain={"x": "positive"})
def exp1(x):
    ans = special.exp1(x)
    d_x = -d_ans * np.exp(-x) / x


@rule(elementwise=True, domain={"delta": "positive"}, policy="at |r| == delta, the quadratic side's slope (they agree)")
def huber(delta, r):
    """r**2 / 2 where |r| <= delta, else delta (|r| - delta / 2)."""
    ans = special.huber(delta, r)
    d_delta = d_ans * np.where(np.abs(r) <= delta, 0.0, np.abs(r) - delta)
    d_r = d_ans * np.clip(r, -delta, delta)


@rule(elementwise=True, domain={"delta": "positive"})
def pseudo_huber(delta, r):
    """delta**2 (sqrt(1 + (r / delta)**2) - 1)."""
    ans = special.pseudo_huber(delta, r)
    d_delta = d_ans * (2.0 * ans / delta - r * r / (delta * np.sqrt(1.0 + (r / delta) ** 2)))
    d_r = d_ans * r / np.sqrt(1.0 + (r / delta) ** 2)


# -- Bessel functions --------------------------------------------------------------------


@rule(elementwise=True)
def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    ans = special.i0(x)
    d_x = d_ans * special.i1(x)


@rule(elementwise=True, policy="1/2 at x == 0 (its limit)")
def i1(x):
    ans = special.i1(x)
    d_x = d_ans * np.where(x == 0.0, 0.5, special.i0(x) - ans / np.where(x == 0.0, 1.0, x))


@rule(elementwise=True, policy="0 at x == 0, where exp(-|x|) has a kink (the mean of the two sides)")
def i0e(x):
    """exp(-|x|) i0(x)."""
    ans = special.i0e(x)
    d_x = d_ans * (special.i1e(x) - np.sign(x) * ans)


@rule(elementwise=True, policy="1/2 at x == 0 (its limit)")
def i1e(x):
    """exp(-|x|) i1(x)."""
    ans = special.i1e(x)
    d_x = d_ans * np.where(x == 0.0, 0.5, special.i0e(x) - ans * (np.sign(x) + 1.0 / np.where(x == 0.0, 1.0, x)))


@rule(elementwise=True)
def j0(x):
    """The Bessel function of the first kind, order 0."""
    ans = special.j0(x)
    d_x = -d_ans * special.j1(x)


@rule(elementwise=True, policy="1/2 at x == 0 (its limit)")
def j1(x):
    ans = special.j1(x)
    d_x = d_ans * np.where(x == 0.0, 0.5, special.j0(x) - ans / np.where(x == 0.0, 1.0, x))


@rule(elementwise=True, domain={"x": "positive"})
def y0(x):
    """The Bessel function of the second kind, order 0."""
    ans = special.y0(x)
    d_x = -d_ans * special.y1(x)


@rule(elementwise=True, domain={"x": "positive"})
def y1(x):
    ans = special.y1(x)
    d_x = d_ans * (special.y0(x) - ans / x)


@rule(elementwise=True, domain={"x": "positive"})
def k0(x):
    """The modified Bessel function of the second kind, order 0."""
    ans = special.k0(x)
    d_x = -d_ans * special.k1(x)


@rule(elementwise=True, domain={"x": "positive"})
def k1(x):
    ans = special.k1(x)
    d_x = -d_ans * (special.k0(x) + ans / x)


@rule(elementwise=True, domain={"x": "positive"})
def k0e(x):
    """exp(x) k0(x)."""
    ans = special.k0e(x)
    d_x = d_ans * (ans - special.k1e(x))


@rule(elementwise=True, domain={"x": "positive"})
def k1e(x):
    """exp(x) k1(x)."""
    ans = special.k1e(x)
    d_x = d_ans * (ans - special.k0e(x) - ans / x)


@rule(elementwise=True, domain={"x": "positive"},
      checks=[("special.iv(1.5, x)", [{"x": ()}, {"x": (3,)}]), ("special.iv(v, x)", [{"v": [0.5, 2.0], "x": (2,)}])])
def iv(v, x):
    """The modified Bessel function of the first kind of real order v. Its derivative
    in v has no closed form: a v that depends on wrt is refused."""
    ans = special.iv(v, x)
    d_x = d_ans * (special.iv(v - 1.0, x) + special.iv(v + 1.0, x)) / 2.0


@rule(elementwise=True, aliases=["scipy.special.jn"], domain={"x": "positive"},
      checks=[("special.jv(1.5, x)", [{"x": ()}, {"x": (3,)}]), ("special.jv(v, x)", [{"v": [0.5, 2.0], "x": (2,)}])])
def jv(v, x):
    """The Bessel function of the first kind of real order v (jn: of integer order).
    A v that depends on wrt is refused."""
    ans = special.jv(v, x)
    d_x = d_ans * (special.jv(v - 1.0, x) - special.jv(v + 1.0, x)) / 2.0


@rule(elementwise=True, domain={"x": "positive"},
      checks=[("special.kv(1.5, x)", [{"x": ()}, {"x": (3,)}]), ("special.kv(v, x)", [{"v": [0.5, 2.0], "x": (2,)}])])
def kv(v, x):
    """The modified Bessel function of the second kind of real order v. A v that
    depends on wrt is refused."""
    ans = special.kv(v, x)
    d_x = -d_ans * (special.kv(v - 1.0, x) + special.kv(v + 1.0, x)) / 2.0


@rule(elementwise=True, aliases=["scipy.special.yn"], domain={"x": "positive"},
      checks=[("special.yv(1.5, x)", [{"x": ()}, {"x": (3,)}]), ("special.yv(v, x)", [{"v": [0.5, 2.0], "x": (2,)}])])
def yv(v, x):
    """The Bessel function of the second kind of real order v (yn: of integer order).
    A v that depends on wrt is refused."""
    ans = special.yv(v, x)
    d_x = d_ans * (special.yv(v - 1.0, x) - special.yv(v + 1.0, x)) / 2.0


@rule(elementwise=True, domain={"x": "positive"},
      checks=[("special.ive(1.5, x)", [{"x": ()}, {"x": (3,)}]), ("special.ive(v, x)", [{"v": [0.5, 2.0], "x": (2,)}])])
def ive(v, x):
    """iv(v, x) * exp(-|x|). A v that depends on wrt is refused."""
    ans = special.ive(v, x)
    d_x = d_ans * ((special.ive(v - 1.0, x) + special.ive(v + 1.0, x)) / 2.0 - np.sign(x) * ans)


@rule(elementwise=True, domain={"x": "positive"},
      checks=[("special.kve(1.5, x)", [{"x": ()}, {"x": (3,)}]), ("special.kve(v, x)", [{"v": [0.5, 2.0], "x": (2,)}])])
def kve(v, x):
    """kv(v, x) * exp(x). A v that depends on wrt is refused."""
    ans = special.kve(v, x)
    d_x = d_ans * (ans - (special.kve(v - 1.0, x) + special.kve(v + 1.0, x)) / 2.0)


@rule(zero_gradient=True, checks=[("x * special.gammasgn(x)", [{"x": (3,)}])], policy="0 at the poles, where the sign flips")
def gammasgn(x):
    """The sign of the gamma function: locally constant."""
    ans = special.gammasgn(x)


@rule(elementwise=True, domain={"x": "probability", "a": "positive", "b": "positive"},
      checks=[("special.betainc(a, b, x)", [{"a": [2.0, 0.7, 3.5], "b": [1.5, 2.5, 0.9], "x": (3,)}, {"a": [2.0], "b": [3.0], "x": ()}])])
def betainc(a, b, x):
    """The regularized incomplete beta function. Its derivatives in a and b have no
    closed form: an a or b that depends on wrt is refused."""
    ans = special.betainc(a, b, x)
    d_x = d_ans * np.exp(special.xlogy(a - 1.0, x) + special.xlog1py(b - 1.0, -x) - special.betaln(a, b))


# -- elliptic integrals ------------------------------------------------------------------


@rule(elementwise=True, domain={"m": "probability"})
def ellipk(m):
    """The complete elliptic integral of the first kind K(m), 0 <= m < 1."""
    ans = special.ellipk(m)
    d_m = d_ans * (special.ellipe(m) - (1.0 - m) * ans) / (2.0 * m * (1.0 - m))


@rule(elementwise=True, domain={"m": "probability"})
def ellipe(m):
    """The complete elliptic integral of the second kind E(m)."""
    ans = special.ellipe(m)
    d_m = d_ans * (ans - special.ellipk(m)) / (2.0 * m)


@rule(
    domain={"b": "positive"},
    checks=[("_weighted_exp(a, top, b)", [{"a": (3,), "top": (), "b": (3,)}, {"a": (2, 3), "top": (2, 1), "b": (3,)}]),
            ("_weighted_exp(a, top, None)", [{"a": (3,), "top": ()}])],
)
def weighted_exp(a, top, b):
    """`_weighted_exp(a, top, b)`, b * exp(a - top), in a JVP read back (--mode hvp):
    the second derivative of logsumexp."""
    ans = _weighted_exp(a, top, b)
    d_a = _unbroadcast(d_ans * ans, a)
    d_top = _unbroadcast(-d_ans * ans, top)
    d_b = _unbroadcast(d_ans * np.exp(a - top), b)
    t_ans = t_a * ans - t_top * ans + t_b * np.exp(a - top)
