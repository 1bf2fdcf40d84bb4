"""Derivative rules for ``scipy.stats`` distributions.

Loaded by the registry the first time a lookup misses while ``scipy.stats`` is
imported.  The primals are methods of SciPy's distribution objects
(``scipy.stats.norm.logpdf`` is ``norm_gen.logpdf`` bound to the module-level
``norm``); a bound method is keyed by its object and function, so the rule
applies to ``stats.norm.logpdf(x, mu, sigma)`` however it is spelled
(``from scipy.stats import norm``; keywords ``loc=``, ``scale=``, ``df=``).
Frozen distributions (``norm(mu, sigma).logpdf(x)``) have no rules.

For the location-scale families, with ``u = (x - loc) / scale`` and ``F`` the
method's value as a function of ``u``: ``d[x] = d[z] F'(u) / scale``,
``d[loc] = -d[x]``, ``d[scale] = -d[x] u`` (plus ``-d[z] / scale`` for
``logpdf`` and ``-d[z] z / scale`` for ``pdf``).  ``cdf``-like methods have
``F'`` from the density; their gradient with respect to a shape parameter
(``t.cdf``'s ``df``, ``gamma.cdf``'s ``a``) has no closed form and raises
``NoDerivativeError`` when asked for.

The location-scale templates below were written out one per method (same
shape each), so that every rule reads, in generated code, as plain NumPy.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sp
import scipy.stats as stats

from sourcegrad.errors import NoDerivativeError
from sourcegrad.rules.registry import adjoint, d
from sourcegrad.runtime import unbroadcast


def _no_shape_grad(method, param):
    raise NoDerivativeError(
        f"gradient of scipy.stats.{method} with respect to {param}",
        detail=f"the derivative of {method} in its shape parameter {param} has no closed "
               f"form, and sourcegrad has no rule for it",
        hint=f"pass {param} as a constant (sg.stop_gradient({param})), or register a rule "
             f"for scipy.stats.{method} (README, 'A rule for a function sourcegrad can't read')")


# d logpdf / du and d logpdf / d shape, for the standard (loc 0, scale 1) density

def _norm_dlogpdf_du(u):
    return -u


def _t_dlogpdf_du(u, df):
    return -(df + 1.0) * u / (df + u * u)


def _t_dlogpdf_ddf(u, df):
    u2 = u * u
    return (0.5 * (sp.digamma(0.5 * (df + 1.0)) - sp.digamma(0.5 * df)) - 0.5 / df
            - 0.5 * np.log1p(u2 / df) + 0.5 * (df + 1.0) * u2 / (df * (df + u2)))


def _gamma_dlogpdf_du(u, a):
    return (a - 1.0) / u - 1.0


def _gamma_dlogpdf_da(u, a):
    return np.log(u) - sp.digamma(a)


def _beta_dlogpdf_du(u, a, b):
    return (a - 1.0) / u - (b - 1.0) / (1.0 - u)


def _beta_dlogpdf_da(u, a, b):
    return np.log(u) - sp.digamma(a) + sp.digamma(a + b)


def _beta_dlogpdf_db(u, a, b):
    return np.log1p(-u) - sp.digamma(b) + sp.digamma(a + b)


def _chi2_dlogpdf_du(u, df):
    return (0.5 * df - 1.0) / u - 0.5


def _chi2_dlogpdf_ddf(u, df):
    return 0.5 * np.log(0.5 * u) - 0.5 * sp.digamma(0.5 * df)


def _expon_dlogpdf_du(u):
    return -np.ones_like(u)


def _laplace_dlogpdf_du(u):
    return -np.sign(u)

# -------------------------------------------------------------- norm --

@adjoint(stats.norm.logpdf)
def norm_logpdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * _norm_dlogpdf_du(u) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] / scale, scale)


@adjoint(stats.norm.pdf)
def norm_pdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * z * _norm_dlogpdf_du(u) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] * z / scale, scale)


@adjoint(stats.norm.cdf)
def norm_cdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.norm.logpdf(u)) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.norm.logcdf)
def norm_logcdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.norm.logpdf(u) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.norm.sf)
def norm_sf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.norm.logpdf(u)) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.norm.logsf)
def norm_logsf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.norm.logpdf(u) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)



# ----------------------------------------------------------------- t --

@adjoint(stats.t.logpdf)
def t_logpdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * _t_dlogpdf_du(u, df) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = unbroadcast(d[z] * _t_dlogpdf_ddf(u, df), df)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] / scale, scale)


@adjoint(stats.t.pdf)
def t_pdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * z * _t_dlogpdf_du(u, df) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = unbroadcast(d[z] * z * _t_dlogpdf_ddf(u, df), df)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] * z / scale, scale)


@adjoint(stats.t.cdf)
def t_cdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.t.logpdf(u, df)) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("t.cdf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.t.logcdf)
def t_logcdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.t.logpdf(u, df) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("t.logcdf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.t.sf)
def t_sf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.t.logpdf(u, df)) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("t.sf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.t.logsf)
def t_logsf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.t.logpdf(u, df) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("t.logsf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)



# ------------------------------------------------------------- gamma --

@adjoint(stats.gamma.logpdf)
def gamma_logpdf(z, x, a, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * _gamma_dlogpdf_du(u, a) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = unbroadcast(d[z] * _gamma_dlogpdf_da(u, a), a)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] / scale, scale)


@adjoint(stats.gamma.pdf)
def gamma_pdf(z, x, a, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * z * _gamma_dlogpdf_du(u, a) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = unbroadcast(d[z] * z * _gamma_dlogpdf_da(u, a), a)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] * z / scale, scale)


@adjoint(stats.gamma.cdf)
def gamma_cdf(z, x, a, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.gamma.logpdf(u, a)) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("gamma.cdf", "a")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.gamma.logcdf)
def gamma_logcdf(z, x, a, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.gamma.logpdf(u, a) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("gamma.logcdf", "a")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.gamma.sf)
def gamma_sf(z, x, a, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.gamma.logpdf(u, a)) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("gamma.sf", "a")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.gamma.logsf)
def gamma_logsf(z, x, a, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.gamma.logpdf(u, a) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("gamma.logsf", "a")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)



# -------------------------------------------------------------- beta --

@adjoint(stats.beta.logpdf)
def beta_logpdf(z, x, a, b, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * _beta_dlogpdf_du(u, a, b) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = unbroadcast(d[z] * _beta_dlogpdf_da(u, a, b), a)
    d[b] = unbroadcast(d[z] * _beta_dlogpdf_db(u, a, b), b)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] / scale, scale)


@adjoint(stats.beta.pdf)
def beta_pdf(z, x, a, b, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * z * _beta_dlogpdf_du(u, a, b) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = unbroadcast(d[z] * z * _beta_dlogpdf_da(u, a, b), a)
    d[b] = unbroadcast(d[z] * z * _beta_dlogpdf_db(u, a, b), b)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] * z / scale, scale)


@adjoint(stats.beta.cdf)
def beta_cdf(z, x, a, b, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.beta.logpdf(u, a, b)) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("beta.cdf", "a")
    d[b] = _no_shape_grad("beta.cdf", "b")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.beta.logcdf)
def beta_logcdf(z, x, a, b, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.beta.logpdf(u, a, b) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("beta.logcdf", "a")
    d[b] = _no_shape_grad("beta.logcdf", "b")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.beta.sf)
def beta_sf(z, x, a, b, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.beta.logpdf(u, a, b)) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("beta.sf", "a")
    d[b] = _no_shape_grad("beta.sf", "b")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.beta.logsf)
def beta_logsf(z, x, a, b, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.beta.logpdf(u, a, b) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[a] = _no_shape_grad("beta.logsf", "a")
    d[b] = _no_shape_grad("beta.logsf", "b")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)



# -------------------------------------------------------------- chi2 --

@adjoint(stats.chi2.logpdf)
def chi2_logpdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * _chi2_dlogpdf_du(u, df) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = unbroadcast(d[z] * _chi2_dlogpdf_ddf(u, df), df)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] / scale, scale)


@adjoint(stats.chi2.pdf)
def chi2_pdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * z * _chi2_dlogpdf_du(u, df) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = unbroadcast(d[z] * z * _chi2_dlogpdf_ddf(u, df), df)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] * z / scale, scale)


@adjoint(stats.chi2.cdf)
def chi2_cdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.chi2.logpdf(u, df)) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("chi2.cdf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.chi2.logcdf)
def chi2_logcdf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.chi2.logpdf(u, df) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("chi2.logcdf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.chi2.sf)
def chi2_sf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.chi2.logpdf(u, df)) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("chi2.sf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.chi2.logsf)
def chi2_logsf(z, x, df, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.chi2.logpdf(u, df) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[df] = _no_shape_grad("chi2.logsf", "df")
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)



# ------------------------------------------------------------- expon --

@adjoint(stats.expon.logpdf)
def expon_logpdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * _expon_dlogpdf_du(u) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] / scale, scale)


@adjoint(stats.expon.pdf)
def expon_pdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * z * _expon_dlogpdf_du(u) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] * z / scale, scale)


@adjoint(stats.expon.cdf)
def expon_cdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.expon.logpdf(u)) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.expon.logcdf)
def expon_logcdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.expon.logpdf(u) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.expon.sf)
def expon_sf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.expon.logpdf(u)) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.expon.logsf)
def expon_logsf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.expon.logpdf(u) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)



# ----------------------------------------------------------- laplace --

@adjoint(stats.laplace.logpdf)
def laplace_logpdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * _laplace_dlogpdf_du(u) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] / scale, scale)


@adjoint(stats.laplace.pdf)
def laplace_pdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * z * _laplace_dlogpdf_du(u) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u - d[z] * z / scale, scale)


@adjoint(stats.laplace.cdf)
def laplace_cdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.laplace.logpdf(u)) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.laplace.logcdf)
def laplace_logcdf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = d[z] * np.exp(stats.laplace.logpdf(u) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.laplace.sf)
def laplace_sf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.laplace.logpdf(u)) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)


@adjoint(stats.laplace.logsf)
def laplace_logsf(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    gx = -d[z] * np.exp(stats.laplace.logpdf(u) - z) / scale
    d[x] = unbroadcast(gx, x)
    d[loc] = unbroadcast(-gx, loc)
    d[scale] = unbroadcast(-gx * u, scale)



# ------------------------------------------------------------- poisson --
# differentiable in mu only: k is a count

@adjoint(stats.poisson.logpmf)
def poisson_logpmf(z, k, mu, loc=0):
    d[mu] = unbroadcast(d[z] * ((k - loc) / mu - 1.0), mu)


@adjoint(stats.poisson.pmf)
def poisson_pmf(z, k, mu, loc=0):
    d[mu] = unbroadcast(d[z] * z * ((k - loc) / mu - 1.0), mu)


@adjoint(stats.poisson.cdf)
def poisson_cdf(z, k, mu, loc=0):
    d[mu] = unbroadcast(-d[z] * stats.poisson.pmf(np.floor(k), mu, loc), mu)


@adjoint(stats.poisson.logcdf)
def poisson_logcdf(z, k, mu, loc=0):
    d[mu] = unbroadcast(-d[z] * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - z), mu)


@adjoint(stats.poisson.sf)
def poisson_sf(z, k, mu, loc=0):
    d[mu] = unbroadcast(d[z] * stats.poisson.pmf(np.floor(k), mu, loc), mu)


@adjoint(stats.poisson.logsf)
def poisson_logsf(z, k, mu, loc=0):
    d[mu] = unbroadcast(d[z] * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - z), mu)


# ------------------------------------------------- multivariate_normal --

@adjoint(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf(z, x, mean=None, cov=1, allow_singular=False):
    d[x] = _mvn_grad(d[z], x, mean, cov, "x")
    d[mean] = _mvn_grad(d[z], x, mean, cov, "mean")
    d[cov] = _mvn_grad(d[z], x, mean, cov, "cov")


@adjoint(stats.multivariate_normal.pdf)
def multivariate_normal_pdf(z, x, mean=None, cov=1, allow_singular=False):
    d[x] = _mvn_grad(d[z] * z, x, mean, cov, "x")
    d[mean] = _mvn_grad(d[z] * z, x, mean, cov, "mean")
    d[cov] = _mvn_grad(d[z] * z, x, mean, cov, "cov")


def _mvn_grad(dz, x, mean, cov, wrt):
    """The adjoint of ``wrt`` in ``multivariate_normal.logpdf(x, mean, cov)`` (``dz``
    one per point of ``x``: x's last axis is the dimension).  SciPy reads the
    lower triangle of a 2-D ``cov`` (``eigh``), so its gradient lives there, as
    for ``np.linalg.eigh`` (see :mod:`sourcegrad.rules.numpy_core`); a scalar or
    1-D ``cov`` (a multiple of the identity, a diagonal) gets its adjoint in the
    same form."""
    x = np.asarray(x, dtype=float)
    dim = x.shape[-1] if x.ndim else 1
    mean = np.zeros(dim) if mean is None else np.asarray(mean, dtype=float)
    c = np.asarray(cov, dtype=float)
    full = c if c.ndim == 2 else (np.diag(c) if c.ndim == 1 else c * np.eye(dim))
    r = np.atleast_1d(x - mean)                      # (..., dim)
    prec = np.linalg.inv(full)
    sr = r @ prec                                    # S^-1 r, per point
    dz = np.asarray(dz, dtype=float)
    if wrt == "x":
        return unbroadcast(-dz[..., None] * sr, x)
    if wrt == "mean":
        return unbroadcast(dz[..., None] * sr, mean)
    sr2 = sr.reshape(-1, dim)
    outer = np.einsum("n,ni,nj->ij", np.broadcast_to(dz, sr.shape[:-1]).reshape(-1), sr2, sr2)
    g = 0.5 * (outer - np.sum(dz) * prec)
    if c.ndim == 2:
        return np.tril(g + g.T) - np.diag(np.diagonal(g))
    if c.ndim == 1:
        return np.diagonal(g).copy()
    return np.trace(g)


# ----------------------------------------------------------- dirichlet --
# x's first axis holds the components (as SciPy reads it: x.T's last)

@adjoint(stats.dirichlet.logpdf)
def dirichlet_logpdf(z, x, alpha):
    d[x] = _dirichlet_grad(d[z], x, alpha, "x")
    d[alpha] = _dirichlet_grad(d[z], x, alpha, "alpha")


@adjoint(stats.dirichlet.pdf)
def dirichlet_pdf(z, x, alpha):
    d[x] = _dirichlet_grad(d[z] * z, x, alpha, "x")
    d[alpha] = _dirichlet_grad(d[z] * z, x, alpha, "alpha")


def _dirichlet_grad(dz, x, alpha, wrt):
    x = np.asarray(x, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    dz = np.asarray(dz, dtype=float)
    if wrt == "x":
        return (dz[..., None] * ((alpha - 1.0) / x.T)).T if x.ndim > 1 else dz * (alpha - 1.0) / x
    logx = np.log(x.T)                               # (..., k)
    per = sp.digamma(np.sum(alpha)) - sp.digamma(alpha) + logx
    return np.sum(dz[..., None] * per, axis=tuple(range(per.ndim - 1)))
