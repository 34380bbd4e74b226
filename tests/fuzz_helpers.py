"""A helper module for tests/test_fuzz_features.py's programs, which import it and
give it to codegen as an --include file: a function that has no derivative rule
inside (gammaln), applied to data."""

from scipy.special import gammaln


def lfact(z):
    return gammaln(z + 1.0)
