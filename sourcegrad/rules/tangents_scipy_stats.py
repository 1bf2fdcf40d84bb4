"""Forward-mode (tangent) rules for ``scipy.stats``, loaded with its adjoint rules
(:mod:`sourcegrad.rules.scipy_stats`).

The univariate distributions' methods (``norm.logpdf(x, loc, scale)``, ``t.cdf``,
``poisson.logpmf``, ...) act element by element on broadcast arguments: their
adjoint rules, read with ``d[z]`` and ``d[x]`` swapped, are their tangent rules
(``diagonal_tangent``; a shape parameter whose derivative has no closed form, such as
``t.cdf``'s ``df``, is refused in forward mode as in reverse mode).  The
multivariate ones (``multivariate_normal``, ``dirichlet``) reduce over a point's
components and are written out, on a batch of directions on a leading axis.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sp
import scipy.stats as stats

from sourcegrad.rules.registry import d, diagonal_tangent, tangent

_METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")

diagonal_tangent(*(getattr(dist, m) for dist in (stats.norm, stats.t, stats.gamma,
                                                  stats.beta, stats.chi2, stats.expon,
                                                  stats.laplace) for m in _METHODS))
diagonal_tangent(*(getattr(stats.poisson, m) for m in ("logpmf", "pmf", "cdf", "logcdf",
                                                        "sf", "logsf")))


# ------------------------------------------------- multivariate_normal --

@tangent(stats.multivariate_normal.logpdf, constant=("allow_singular",))
def multivariate_normal_logpdf(z, x, mean=None, cov=1, allow_singular=False):
    d[z] = tmvn(d[x], z, x, mean, cov, "x")
    d[z] = tmvn(d[mean], z, x, mean, cov, "mean")
    d[z] = tmvn(d[cov], z, x, mean, cov, "cov")


@tangent(stats.multivariate_normal.pdf, constant=("allow_singular",))
def multivariate_normal_pdf(z, x, mean=None, cov=1, allow_singular=False):
    d[z] = z * tmvn(d[x], z, x, mean, cov, "x")
    d[z] = z * tmvn(d[mean], z, x, mean, cov, "mean")
    d[z] = z * tmvn(d[cov], z, x, mean, cov, "cov")


def tmvn(t, z, x, mean, cov, wrt):
    """Tangent of ``multivariate_normal.logpdf(x, mean, cov)`` along ``wrt``'s tangent
    ``t`` (``(n,) + shape``), with ``r = x - mean``, ``S`` the covariance read and
    ``P = S^-1``: ``-t_x . P r``, ``t_mean . P r``, and
    ``(r^T P t_S P r - tr(P t_S)) / 2``.  A 2-D ``cov`` is read on its lower triangle
    (as SciPy reads it, and as the adjoint rule's gradient lives there); a scalar or
    1-D ``cov`` is a multiple of the identity or a diagonal."""
    x = np.asarray(x, dtype=float)
    dim = x.shape[-1] if x.ndim else 1
    mean = np.zeros(dim) if mean is None else np.asarray(mean, dtype=float)
    c = np.asarray(cov, dtype=float)
    full = c if c.ndim == 2 else (np.diag(c) if c.ndim == 1 else c * np.eye(dim))
    r = np.atleast_1d(x - mean)                      # (..., dim)
    prec = np.linalg.inv(full)
    pr = r @ prec                                    # P r, per point
    n = t.shape[0]
    if wrt in ("x", "mean"):
        shape = np.shape(x) if wrt == "x" else np.shape(mean)
        tt = np.reshape(t, (n,) + (1,) * (pr.ndim - len(shape)) + shape)
        out = np.sum(tt * pr, axis=-1) * (-1.0 if wrt == "x" else 1.0)
    else:
        ts = np.asarray(t, dtype=float)
        if c.ndim == 2:
            ts = np.tril(ts) + np.swapaxes(np.tril(ts, -1), -1, -2)
        elif c.ndim == 1:
            ts = ts[:, :, None] * np.eye(dim)
        else:
            ts = np.reshape(ts, (n, 1, 1)) * np.eye(dim)
        quad = np.einsum("...i,kij,...j->k...", pr, ts, pr)
        out = 0.5 * (quad - np.trace(prec @ ts, axis1=-2, axis2=-1).reshape(
            (n,) + (1,) * (quad.ndim - 1)))
    return np.reshape(out, (n,) + np.shape(z))


# ----------------------------------------------------------- dirichlet --
# x's first axis holds the components (as SciPy reads it: x.T's last)

@tangent(stats.dirichlet.logpdf)
def dirichlet_logpdf(z, x, alpha):
    d[z] = tdirichlet(d[x], z, x, alpha, "x")
    d[z] = tdirichlet(d[alpha], z, x, alpha, "alpha")


@tangent(stats.dirichlet.pdf)
def dirichlet_pdf(z, x, alpha):
    d[z] = z * tdirichlet(d[x], z, x, alpha, "x")
    d[z] = z * tdirichlet(d[alpha], z, x, alpha, "alpha")


def tdirichlet(t, z, x, alpha, wrt):
    """Tangent of ``dirichlet.logpdf(x, alpha)`` along ``wrt``'s tangent ``t``:
    ``sum_i (alpha_i - 1) t_x_i / x_i`` and
    ``sum_i t_alpha_i (log x_i - digamma(alpha_i) + digamma(sum alpha))``."""
    x = np.asarray(x, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    col = (-1,) + (1,) * (x.ndim - 1)                # alpha against x's first axis
    if wrt == "x":
        out = np.sum(t * (np.reshape(alpha - 1.0, col) / x), axis=1)
    else:
        per = np.log(x) + np.reshape(sp.digamma(np.sum(alpha)) - sp.digamma(alpha), col)
        out = np.tensordot(t, per, axes=([1], [0]))
    return np.reshape(out, (t.shape[0],) + np.shape(z))
