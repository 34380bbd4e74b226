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


@rule(elementwise=True, domain={"scale": "positive"}, compute="special.ndtr(-(x - loc) / scale)",
      checks=[("stats.norm.sf(x, loc, scale)", LOC_SCALE), ("stats.norm.sf(x)", [{"x": (3,)}])])
def norm_sf(x, loc=0.0, scale=1.0):
    """The normal survival function 1 - cdf."""
    ans = stats.norm.sf(x, loc, scale)
    d_x = -d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2) / (2.5066282746310002 * scale)
    d_loc = d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2) / (2.5066282746310002 * scale)
    d_scale = d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2) * (x - loc) / (2.5066282746310002 * scale**2)


@rule(elementwise=True, domain={"scale": "positive"}, compute="special.log_ndtr(-(x - loc) / scale)",
      checks=[("stats.norm.logsf(x, loc, scale)", LOC_SCALE), ("stats.norm.logsf(20.0 - x * 10.0)", [{"x": (3,)}])])
def norm_logsf(x, loc=0.0, scale=1.0):
    """log(1 - cdf); its derivative -pdf / sf is exp(log pdf - ans): finite far in the right tail."""
    ans = stats.norm.logsf(x, loc, scale)
    d_x = -d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2 - 0.9189385332046728 - ans) / scale
    d_loc = d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2 - 0.9189385332046728 - ans) / scale
    d_scale = d_ans * np.exp(-0.5 * ((x - loc) / scale) ** 2 - 0.9189385332046728 - ans) * (x - loc) / scale**2


@rule(elementwise=True, domain={"df": "positive", "scale": "positive"},
      compute="np.exp(special.gammaln((df + 1.0) / 2.0) - special.gammaln(df / 2.0) - 0.5 * np.log(df * np.pi) - np.log(scale) - (df + 1.0) / 2.0 * np.log1p(((x - loc) / scale) ** 2 / df))",
      checks=[("stats.t.pdf(x, df, loc, scale)", [{"x": (), "df": (), "loc": (), "scale": ()}, {"x": (3,), "df": (3,), "loc": (3,), "scale": ()}]), ("stats.t.pdf(x, df)", [{"x": (3,), "df": ()}])])
def t_pdf(x, df, loc=0.0, scale=1.0):
    """Student's t density: exp(t.logpdf), its derivatives the log density's times it."""
    ans = stats.t.pdf(x, df, loc, scale)
    z = (x - loc) / scale
    slope = -(df + 1.0) * z / (df + z * z)
    d_x = d_ans * ans * slope / scale
    d_loc = -d_ans * ans * slope / scale
    d_scale = -d_ans * ans * (1.0 + slope * z) / scale
    d_df = d_ans * ans * (0.5 * special.digamma((df + 1.0) / 2.0) - 0.5 * special.digamma(df / 2.0) - 0.5 / df - 0.5 * np.log1p(z * z / df) + (df + 1.0) * z * z / (2.0 * df * (df + z * z)))


@rule(elementwise=True, domain={"df": "positive", "scale": "positive"}, compute="special.stdtr(df, (x - loc) / scale)",
      checks=[("stats.t.cdf(x, df, loc, scale)", [{"x": (), "df": [3.0], "loc": (), "scale": ()}, {"x": (3,), "df": [2.5, 4.0, 7.0], "loc": (3,), "scale": ()}]), ("stats.t.cdf(x, 3.0)", [{"x": (3,)}])])
def t_cdf(x, df, loc=0.0, scale=1.0):
    """Student's t distribution function. Its derivative in df has no closed form: a df
    that depends on wrt is refused."""
    ans = stats.t.cdf(x, df, loc, scale)
    d_x = d_ans * _t_density(x, df, loc, scale)
    d_loc = -d_ans * _t_density(x, df, loc, scale)
    d_scale = -d_ans * _t_density(x, df, loc, scale) * (x - loc) / scale


@rule(elementwise=True, domain={"df": "positive", "scale": "positive"}, compute="np.log(special.stdtr(df, (x - loc) / scale))",
      checks=[("stats.t.logcdf(x, df, loc, scale)", [{"x": (), "df": [3.0], "loc": (), "scale": ()}, {"x": (3,), "df": [2.5, 4.0, 7.0], "loc": (3,), "scale": ()}])])
def t_logcdf(x, df, loc=0.0, scale=1.0):
    """log of Student's t distribution function (a df that depends on wrt is refused)."""
    ans = stats.t.logcdf(x, df, loc, scale)
    d_x = d_ans * _t_density(x, df, loc, scale) / np.exp(ans)
    d_loc = -d_ans * _t_density(x, df, loc, scale) / np.exp(ans)
    d_scale = -d_ans * _t_density(x, df, loc, scale) * (x - loc) / (scale * np.exp(ans))


def _t_density(x, df, loc, scale):
    """Student's t density in x (with loc and scale)."""
    z = (x - loc) / scale
    return np.exp(special.gammaln((df + 1.0) / 2.0) - special.gammaln(df / 2.0) - 0.5 * np.log(df * np.pi) - (df + 1.0) / 2.0 * np.log1p(z * z / df)) / scale


@rule(elementwise=True, domain={"x": "positive", "df": "positive", "scale": "positive"},
      compute="(df / 2.0 - 1.0) * np.log((x - loc) / scale) - (x - loc) / (2.0 * scale) - df / 2.0 * 0.6931471805599453 - special.gammaln(df / 2.0) - np.log(scale)",
      checks=[("stats.chi2.logpdf(x, df)", [{"x": (), "df": ()}, {"x": (3,), "df": (3,)}]), ("stats.chi2.logpdf(x, df, -1.0, scale)", [{"x": (3,), "df": (), "scale": ()}])])
def chi2_logpdf(x, df, loc=0.0, scale=1.0):
    """The chi-squared log density (a gamma with shape df/2 and scale 2)."""
    ans = stats.chi2.logpdf(x, df, loc, scale)
    y = (x - loc) / scale
    slope = (df / 2.0 - 1.0) / y - 0.5
    d_x = d_ans * slope / scale
    d_loc = -d_ans * slope / scale
    d_scale = -d_ans * (slope * y + 1.0) / scale
    d_df = d_ans * 0.5 * (np.log(y) - 0.6931471805599453 - special.digamma(df / 2.0))


@rule(elementwise=True, domain={"x": "positive", "df": "positive", "scale": "positive"},
      compute="np.exp((df / 2.0 - 1.0) * np.log((x - loc) / scale) - (x - loc) / (2.0 * scale) - df / 2.0 * 0.6931471805599453 - special.gammaln(df / 2.0) - np.log(scale))",
      checks=[("stats.chi2.pdf(x, df)", [{"x": (), "df": ()}, {"x": (3,), "df": (3,)}]), ("stats.chi2.pdf(x, df, -1.0, scale)", [{"x": (3,), "df": (), "scale": ()}])])
def chi2_pdf(x, df, loc=0.0, scale=1.0):
    """The chi-squared density."""
    ans = stats.chi2.pdf(x, df, loc, scale)
    y = (x - loc) / scale
    slope = (df / 2.0 - 1.0) / y - 0.5
    d_x = d_ans * ans * slope / scale
    d_loc = -d_ans * ans * slope / scale
    d_scale = -d_ans * ans * (slope * y + 1.0) / scale
    d_df = d_ans * ans * 0.5 * (np.log(y) - 0.6931471805599453 - special.digamma(df / 2.0))


@rule(elementwise=True, domain={"x": "positive", "df": "positive", "scale": "positive"},
      compute="special.gammainc(df / 2.0, (x - loc) / (2.0 * scale))",
      checks=[("stats.chi2.cdf(x, df)", [{"x": (), "df": [3.0]}, {"x": (3,), "df": [1.0, 2.0, 5.0]}]), ("stats.chi2.cdf(x, 2.0, -1.0, scale)", [{"x": (3,), "scale": ()}])])
def chi2_cdf(x, df, loc=0.0, scale=1.0):
    """The chi-squared distribution function (a df that depends on wrt is refused)."""
    ans = stats.chi2.cdf(x, df, loc, scale)
    d_x = d_ans * _gamma_density((x - loc) / (2.0 * scale), df / 2.0) / (2.0 * scale)
    d_loc = -d_ans * _gamma_density((x - loc) / (2.0 * scale), df / 2.0) / (2.0 * scale)
    d_scale = -d_ans * _gamma_density((x - loc) / (2.0 * scale), df / 2.0) * (x - loc) / (2.0 * scale**2)


def _gamma_density(y, a):
    """The standard gamma density of shape a at y."""
    return np.exp(special.xlogy(a - 1.0, y) - y - special.gammaln(a))


@rule(elementwise=True, domain={"x": "positive", "a": "positive", "scale": "positive"},
      compute="np.exp((a - 1.0) * np.log((x - loc) / scale) - (x - loc) / scale - special.gammaln(a) - np.log(scale))",
      checks=[("stats.gamma.pdf(x, a)", [{"x": (), "a": ()}, {"x": (3,), "a": (3,)}]), ("stats.gamma.pdf(x, a, -1.0, scale)", [{"x": (3,), "a": (), "scale": (3,)}])])
def gamma_pdf(x, a, loc=0.0, scale=1.0):
    """The gamma density."""
    ans = stats.gamma.pdf(x, a, loc, scale)
    y = (x - loc) / scale
    slope = (a - 1.0) / y - 1.0
    d_x = d_ans * ans * slope / scale
    d_loc = -d_ans * ans * slope / scale
    d_scale = -d_ans * ans * (slope * y + 1.0) / scale
    d_a = d_ans * ans * (np.log(y) - special.digamma(a))


@rule(elementwise=True, domain={"x": "positive", "a": "positive", "scale": "positive"},
      compute="special.gammainc(a, (x - loc) / scale)",
      checks=[("stats.gamma.cdf(x, a)", [{"x": (), "a": [2.0]}, {"x": (3,), "a": [0.7, 2.0, 4.5]}]), ("stats.gamma.cdf(x, 2.0, -1.0, scale)", [{"x": (3,), "scale": ()}])])
def gamma_cdf(x, a, loc=0.0, scale=1.0):
    """The gamma distribution function (an a that depends on wrt is refused)."""
    ans = stats.gamma.cdf(x, a, loc, scale)
    d_x = d_ans * _gamma_density((x - loc) / scale, a) / scale
    d_loc = -d_ans * _gamma_density((x - loc) / scale, a) / scale
    d_scale = -d_ans * _gamma_density((x - loc) / scale, a) * (x - loc) / scale**2


@rule(elementwise=True, domain={"x": "probability", "a": "positive", "b": "positive"},
      compute="np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - special.betaln(a, b))",
      checks=[("stats.beta.pdf(x, a, b)", [{"x": (), "a": (), "b": ()}, {"x": (3,), "a": (3,), "b": ()}])])
def beta_pdf(x, a, b):
    """The beta density."""
    ans = stats.beta.pdf(x, a, b)
    d_x = d_ans * ans * ((a - 1.0) / x - (b - 1.0) / (1.0 - x))
    d_a = d_ans * ans * (np.log(x) - special.digamma(a) + special.digamma(a + b))
    d_b = d_ans * ans * (np.log1p(-x) - special.digamma(b) + special.digamma(a + b))


@rule(elementwise=True, domain={"x": "probability", "a": "positive", "b": "positive"}, compute="special.betainc(a, b, x)",
      checks=[("stats.beta.cdf(x, a, b)", [{"x": (), "a": [2.0], "b": [3.0]}, {"x": (3,), "a": [0.7, 2.0, 4.5], "b": [1.5, 2.5, 0.9]}])])
def beta_cdf(x, a, b):
    """The beta distribution function (an a or b that depends on wrt is refused)."""
    ans = stats.beta.cdf(x, a, b)
    d_x = d_ans * np.exp(special.xlogy(a - 1.0, x) + special.xlog1py(b - 1.0, -x) - special.betaln(a, b))


@rule(elementwise=True, zero_gradient=["k"], domain={"mu": "positive"}, compute="np.exp(special.xlogy(k, mu) - mu - special.gammaln(k + 1.0))",
      checks=[("stats.poisson.pmf(k, mu)", [{"k": [0.0, 2.0, 5.0], "mu": (3,)}, {"k": [3.0], "mu": ()}])])
def poisson_pmf(k, mu):
    """The Poisson probability of counts k (no gradient to k)."""
    ans = stats.poisson.pmf(k, mu)
    d_mu = d_ans * ans * (k / mu - 1.0)


@rule(elementwise=True, zero_gradient=["k"], domain={"mu": "positive"}, compute="special.pdtr(k, mu)",
      checks=[("stats.poisson.cdf(k, mu)", [{"k": [0.0, 2.0, 5.5], "mu": (3,)}, {"k": [3.0], "mu": ()}])])
def poisson_cdf(k, mu):
    """The Poisson distribution function P(K <= k); its derivative in mu is minus the
    probability of floor(k)."""
    ans = stats.poisson.cdf(k, mu)
    d_mu = -d_ans * np.exp(special.xlogy(np.floor(k), mu) - mu - special.gammaln(np.floor(k) + 1.0))


# -- multivariate: the Dirichlet and the multivariate normal ----------------------------


@rule(domain={"x": "positive", "alpha": "positive"}, compute="stats.dirichlet.logpdf(x, alpha)",
      checks=[("stats.dirichlet.logpdf(x / np.sum(x, axis=0), alpha)", [{"x": (3,), "alpha": (3,)}, {"x": (3, 2), "alpha": (3,)}])])
def dirichlet_logpdf(x, alpha):
    """The Dirichlet log density of x (components along the first axis, as SciPy reads
    them; SciPy checks that they sum to 1)."""
    ans = stats.dirichlet.logpdf(x, alpha)
    d_x = d_ans * _dirichlet_slope_x(x, alpha)
    d_alpha = np.sum(np.reshape(d_ans * _dirichlet_slope_alpha(x, alpha), (np.shape(alpha)[0], -1)), axis=1)
    t_ans = np.sum(_dirichlet_slope_x(x, alpha) * t_x, axis=0) + np.sum(_dirichlet_slope_alpha(x, alpha) * _along_first(t_alpha, x), axis=0)


@rule(domain={"x": "positive", "alpha": "positive"}, compute="stats.dirichlet.pdf(x, alpha)",
      checks=[("stats.dirichlet.pdf(x / np.sum(x, axis=0), alpha)", [{"x": (3,), "alpha": (3,)}, {"x": (3, 2), "alpha": (3,)}])])
def dirichlet_pdf(x, alpha):
    """The Dirichlet density: exp(logpdf), its derivatives the log density's times it."""
    ans = stats.dirichlet.pdf(x, alpha)
    d_x = d_ans * ans * _dirichlet_slope_x(x, alpha)
    d_alpha = np.sum(np.reshape(d_ans * ans * _dirichlet_slope_alpha(x, alpha), (np.shape(alpha)[0], -1)), axis=1)
    t_ans = ans * np.sum(_dirichlet_slope_x(x, alpha) * t_x, axis=0) + ans * np.sum(_dirichlet_slope_alpha(x, alpha) * _along_first(t_alpha, x), axis=0)


def _along_first(v, x):
    """The vector v along x's first axis (shaped to broadcast against x)."""
    return np.reshape(v, (np.shape(v)[0],) + (1,) * (np.ndim(x) - 1))


def _dirichlet_slope_x(x, alpha):
    """The derivative of the Dirichlet log density in x: (alpha - 1) / x."""
    return (_along_first(alpha, x) - 1.0) / x


def _dirichlet_slope_alpha(x, alpha):
    """The derivative of the log density in alpha, per element of x: log x +
    digamma(sum alpha) - digamma(alpha)."""
    return np.log(x) + special.digamma(np.sum(alpha)) - special.digamma(_along_first(alpha, x))


@rule(domain={"cov": "spd"}, compute="stats.multivariate_normal.logpdf(x, mean, cov)",
      policy="SciPy reads cov's lower triangle (eigh), so the gradient in cov is that triangle's",
      checks=[("stats.multivariate_normal.logpdf(x, mean, cov)", [{"x": (3,), "mean": (3,), "cov": (3, 3)}, {"x": (4, 3), "mean": (3,), "cov": (3, 3)}])])
def multivariate_normal_logpdf(x, mean, cov):
    """The multivariate normal log density of x (one point, or points along the last
    axis), with mean and covariance given."""
    ans = stats.multivariate_normal.logpdf(x, mean, cov)
    d_x = -np.expand_dims(d_ans, -1) * _mvn_solved(x, mean, cov)
    d_mean = _unbroadcast(np.expand_dims(d_ans, -1) * _mvn_solved(x, mean, cov), mean)
    d_cov = _mvn_cov_adjoint(d_ans, x, mean, cov)
    t_ans = -np.sum(_mvn_solved(x, mean, cov) * t_x, axis=-1) + np.sum(_mvn_solved(x, mean, cov) * t_mean, axis=-1) + _mvn_cov_tangent(x, mean, cov, t_cov)


@rule(domain={"cov": "spd"}, compute="stats.multivariate_normal.pdf(x, mean, cov)",
      policy="SciPy reads cov's lower triangle (eigh), so the gradient in cov is that triangle's",
      checks=[("stats.multivariate_normal.pdf(x, mean, cov)", [{"x": (3,), "mean": (3,), "cov": (3, 3)}, {"x": (4, 3), "mean": (3,), "cov": (3, 3)}])])
def multivariate_normal_pdf(x, mean, cov):
    """The multivariate normal density: exp(logpdf), its derivatives the log density's times it."""
    ans = stats.multivariate_normal.pdf(x, mean, cov)
    d_x = -np.expand_dims(d_ans * ans, -1) * _mvn_solved(x, mean, cov)
    d_mean = _unbroadcast(np.expand_dims(d_ans * ans, -1) * _mvn_solved(x, mean, cov), mean)
    d_cov = _mvn_cov_adjoint(d_ans * ans, x, mean, cov)
    t_ans = -ans * np.sum(_mvn_solved(x, mean, cov) * t_x, axis=-1) + ans * np.sum(_mvn_solved(x, mean, cov) * t_mean, axis=-1) + ans * _mvn_cov_tangent(x, mean, cov, t_cov)


@rule(zero_gradient=["mean"], domain={"cov": "spd"}, compute="stats.multivariate_normal.entropy(mean, cov)",
      policy="SciPy reads cov's lower triangle (eigh), so the gradient in cov is that triangle's",
      checks=[("stats.multivariate_normal.entropy(mean, cov)", [{"mean": (3,), "cov": (3, 3)}], ["cov"])])
def multivariate_normal_entropy(mean, cov):
    """The entropy 0.5 log det(2 pi e cov), which does not depend on the mean."""
    ans = stats.multivariate_normal.entropy(mean, cov)
    d_cov = _onto_lower(0.5 * d_ans * np.linalg.inv(_lower_symmetric(cov)))
    t_ans = 0.5 * np.sum(np.linalg.inv(_lower_symmetric(cov)) * _lower_symmetric(t_cov))


def _mvn_solved(x, mean, cov):
    """inv(cov) (x - mean), for each point (along the last axis)."""
    centered = np.asarray(x - mean, dtype=float)
    return np.swapaxes(np.linalg.solve(_lower_symmetric(cov), np.reshape(centered, (-1, np.shape(cov)[-1])).T), 0, 1).reshape(np.shape(centered))


def _mvn_cov_adjoint(d, x, mean, cov):
    """The adjoint of cov in the log density: for each point, d (r r^T - inv(cov)) / 2
    with r = inv(cov) (x - mean), summed, read through cov's lower triangle."""
    n = np.shape(cov)[-1]
    r = np.reshape(_mvn_solved(x, mean, cov), (-1, n))
    weights = np.reshape(np.broadcast_to(d, np.shape(r)[:1] if np.ndim(x) > 1 else ()), (-1,))
    g = 0.5 * (r.T * weights) @ r - 0.5 * np.sum(weights) * np.linalg.inv(_lower_symmetric(cov))
    return _onto_lower(g)


def _mvn_cov_tangent(x, mean, cov, t_cov):
    """The tangent of the log density from cov's tangent, per point."""
    r = _mvn_solved(x, mean, cov)
    t = _lower_symmetric(t_cov)
    return 0.5 * np.sum((r @ t) * r, axis=-1) - 0.5 * np.sum(np.linalg.inv(_lower_symmetric(cov)) * t)
