"""scipy.stats distributions' log densities, densities and distribution functions,
with respect to the data and to the parameters (loc, scale, shape). Generated code
computes them with NumPy and scipy.special (`compute=`), so it needs SciPy only
where the loss itself did. Discrete counts (k, n) get no gradient."""

import numpy as np
from scipy import special, stats

LOC_SCALE = [{"x": (), "loc": (), "scale": ()}, {"x": (3,), "loc": (3,), "scale": (3,)}, {"x": (2, 3), "loc": (), "scale": (3,)}]


@rule(elementwise=True, domain={"scale": "positive"}, compute="-0.5 * ((x - loc) / scale) ** 2 - np.log(scale) - 0.9189385332046728",
      checks=[("stats.norm.logpdf(x, loc, scale)", LOC_SCALE), ("stats.norm.logpdf(x)", [{"x": (3,)}])])
def norm_logpdf(x, loc=0.0, scale=1.0):
    ans = stats.norm.logpdf(x, loc, scale)
    d_x = -d_ans * (x - loc) / scale**2
    d_loc = d_ans * (x - loc) / scale**2
    d_scale = d_ans * (((x - loc) / scale) ** 2 - 1.0) / scale


@rule(elementwise=True, domain={"scale": "positive"}, compute="np.exp(-0.5 * ((x - loc) / scale) ** 2) / (2.5066282746310002 * scale)",
      checks=[("stats.norm.pdf(x, loc, scale)", LOC_SCALE), ("stats.norm.pdf(x)", [{"x": (3,)}])])
def norm_pdf(x, loc=0.0, scale=1.0):
    ans = stats.norm.pdf(x, loc, scale)
    d_x = -d_ans * ans * (x - loc) / scale**2
    d_loc = d_ans * ans * (x - loc) / scale**2
    d_scale = d_ans * ans * (((x - loc) / scale) ** 2 - 1.0) / scale


@rule(elementwise=True, domain={"scale": "positive"}, compute="special.ndtr((x - loc) / scale)",
      checks=[("stats.norm.cdf(x, loc, scale)", LOC_SCALE), ("stats.norm.cdf(x)", [{"x": (3,)}])])
def norm_cdf(x, loc=0.0, scale=1.0):
    ans = stats.norm.cdf(x, loc, scale)
    d_x = d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2) / (2.5066282746310002 * scale)
    d_loc = -d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2) / (2.5066282746310002 * scale)
    d_scale = -d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2) * (x - loc) / (2.5066282746310002 * scale**2)


@rule(elementwise=True, domain={"scale": "positive"}, compute="special.log_ndtr((x - loc) / scale)",
      checks=[("stats.norm.logcdf(x, loc, scale)", LOC_SCALE), ("stats.norm.logcdf(x * 10.0 - 20.0)", [{"x": (3,)}])])
def norm_logcdf(x, loc=0.0, scale=1.0):
    """Its derivative pdf / cdf is exp(log pdf - ans): finite far in the left tail."""
    ans = stats.norm.logcdf(x, loc, scale)
    d_x = d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2 - 0.9189385332046728 - ans) / scale
    d_loc = -d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2 - 0.9189385332046728 - ans) / scale
    d_scale = -d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2 - 0.9189385332046728 - ans) * (x - loc) / scale**2


@rule(elementwise=True, domain={"df": "positive", "scale": "positive"},
      compute="special.gammaln((df + 1.0) / 2.0) - special.gammaln(df / 2.0) - 0.5 * np.log(df * np.pi) - np.log(scale) - (df + 1.0) / 2.0 * np.log1p(((x - loc) / scale) ** 2 / df)",
      checks=[("stats.t.logpdf(x, df, loc, scale)", [{"x": (), "df": (), "loc": (), "scale": ()}, {"x": (3,), "df": (3,), "loc": (3,), "scale": ()}]), ("stats.t.logpdf(x, df)", [{"x": (3,), "df": ()}])])
def t_logpdf(x, df, loc=0.0, scale=1.0):
    """Student's t."""
    ans = stats.t.logpdf(x, df, loc, scale)
    z = (x - loc) / scale
    slope = -(df + 1.0) * z / (df + z * z)
    d_x = d_ans * slope / scale
    d_loc = -d_ans * slope / scale
    d_scale = -d_ans * (1.0 + slope * z) / scale
    d_df = d_ans * (0.5 * special.digamma((df + 1.0) / 2.0) - 0.5 * special.digamma(df / 2.0) - 0.5 / df - 0.5 * np.log1p(z * z / df) + (df + 1.0) * z * z / (2.0 * df * (df + z * z)))


@rule(elementwise=True, domain={"x": "positive", "a": "positive", "scale": "positive"},
      compute="(a - 1.0) * np.log((x - loc) / scale) - (x - loc) / scale - special.gammaln(a) - np.log(scale)",
      checks=[("stats.gamma.logpdf(x, a)", [{"x": (), "a": ()}, {"x": (3,), "a": (3,)}]), ("stats.gamma.logpdf(x, a, loc=-1.0, scale=scale)", [{"x": (3,), "a": (), "scale": (3,)}]),
              ("stats.gamma.logpdf(x, a, loc, scale)", [{"x": (3,), "a": (), "loc": [-1.0, -0.5, -2.0], "scale": ()}])])
def gamma_logpdf(x, a, loc=0.0, scale=1.0):
    ans = stats.gamma.logpdf(x, a, loc, scale)
    y = (x - loc) / scale
    slope = (a - 1.0) / y - 1.0
    d_x = d_ans * slope / scale
    d_loc = -d_ans * slope / scale
    d_scale = -d_ans * (slope * y + 1.0) / scale
    d_a = d_ans * (np.log(y) - special.digamma(a))


@rule(elementwise=True, domain={"x": "probability", "a": "positive", "b": "positive"},
      compute="(a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - special.betaln(a, b)",
      checks=[("stats.beta.logpdf(x, a, b)", [{"x": (), "a": (), "b": ()}, {"x": (3,), "a": (3,), "b": ()}])])
def beta_logpdf(x, a, b):
    ans = stats.beta.logpdf(x, a, b)
    d_x = d_ans * ((a - 1.0) / x - (b - 1.0) / (1.0 - x))
    d_a = d_ans * (np.log(x) - special.digamma(a) + special.digamma(a + b))
    d_b = d_ans * (np.log1p(-x) - special.digamma(b) + special.digamma(a + b))


@rule(elementwise=True, zero_gradient=["k"], domain={"mu": "positive"}, compute="special.xlogy(k, mu) - mu - special.gammaln(k + 1.0)",
      checks=[("stats.poisson.logpmf(k, mu)", [{"k": [0.0, 2.0, 5.0], "mu": (3,)}, {"k": [3.0], "mu": ()}])])
def poisson_logpmf(k, mu):
    """The Poisson log-probability of counts k (no gradient to k)."""
    ans = stats.poisson.logpmf(k, mu)
    d_mu = d_ans * (k / mu - 1.0)


@rule(elementwise=True, zero_gradient=["k", "n"], domain={"p": "probability"},
      compute="special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0) + special.xlogy(k, p) + special.xlog1py(n - k, -p)",
      checks=[("stats.binom.logpmf(k, n, p)", [{"k": [0.0, 2.0, 5.0], "n": [5.0, 5.0, 5.0], "p": (3,)}, {"k": [1.0], "n": [4.0], "p": ()}])])
def binom_logpmf(k, n, p):
    """The binomial log-probability of k successes in n trials (no gradient to k, n)."""
    ans = stats.binom.logpmf(k, n, p)
    d_p = d_ans * (k / p - (n - k) / (1.0 - p))


@rule(elementwise=True, domain={"x": "positive", "scale": "positive"}, compute="-(x - loc) / scale - np.log(scale)",
      checks=[("stats.expon.logpdf(x)", [{"x": (3,)}]), ("stats.expon.logpdf(x, -1.0, scale)", [{"x": (3,), "scale": ()}]), ("stats.expon.logpdf(x, loc, scale)", [{"x": (3,), "loc": [-1.0, -2.0, 0.0], "scale": (3,)}])])
def expon_logpdf(x, loc=0.0, scale=1.0):
    ans = stats.expon.logpdf(x, loc, scale)
    d_x = -d_ans / scale
    d_loc = d_ans / scale
    d_scale = d_ans * ((x - loc) / scale - 1.0) / scale


@rule(elementwise=True, domain={"scale": "positive"}, compute="-np.abs(x - loc) / scale - np.log(2.0 * scale)",
      policy="at x == loc, 0 in x and loc (the mean of the two sides)", checks=[("stats.laplace.logpdf(x, loc, scale)", LOC_SCALE)])
def laplace_logpdf(x, loc=0.0, scale=1.0):
    ans = stats.laplace.logpdf(x, loc, scale)
    d_x = -d_ans * np.sign(x - loc) / scale
    d_loc = d_ans * np.sign(x - loc) / scale
    d_scale = d_ans * (np.abs(x - loc) / scale - 1.0) / scale


@rule(elementwise=True, domain={"scale": "positive"},
      compute="-(x - loc) / scale - 2.0 * np.logaddexp(0.0, -(x - loc) / scale) - np.log(scale)",
      checks=[("stats.logistic.logpdf(x, loc, scale)", LOC_SCALE)])
def logistic_logpdf(x, loc=0.0, scale=1.0):
    ans = stats.logistic.logpdf(x, loc, scale)
    d_x = -d_ans * np.tanh((x - loc) / (2.0 * scale)) / scale
    d_loc = d_ans * np.tanh((x - loc) / (2.0 * scale)) / scale
    d_scale = d_ans * (np.tanh((x - loc) / (2.0 * scale)) * (x - loc) / scale - 1.0) / scale


@rule(elementwise=True, domain={"scale": "positive"}, compute="-np.log(np.pi * scale * (1.0 + ((x - loc) / scale) ** 2))",
      checks=[("stats.cauchy.logpdf(x, loc, scale)", LOC_SCALE)])
def cauchy_logpdf(x, loc=0.0, scale=1.0):
    ans = stats.cauchy.logpdf(x, loc, scale)
    z = (x - loc) / scale
    d_x = -d_ans * 2.0 * z / ((1.0 + z * z) * scale)
    d_loc = d_ans * 2.0 * z / ((1.0 + z * z) * scale)
    d_scale = d_ans * (2.0 * z * z / (1.0 + z * z) - 1.0) / scale
