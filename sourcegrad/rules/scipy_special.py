"""Derivative rules for ``scipy.special``.

Loaded by the registry the first time a lookup misses while SciPy is imported
(importing sourcegrad never imports SciPy).  Templates follow
:mod:`sourcegrad.rules.numpy_core`: the first parameter is the result, the
others mirror SciPy's parameters; integer orders (``polygamma``'s ``n``,
``jn``'s ``n``) carry no gradient.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sp

from sourcegrad.rules.numpy_core import _keep
from sourcegrad.rules.registry import adjoint, d
from sourcegrad.runtime import unbroadcast

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


# ------------------------------------------------------ gamma and friends --

@adjoint(sp.gamma)
def gamma(z, x):
    d[x] = d[z] * z * sp.digamma(x)


@adjoint(sp.gammaln)
def gammaln(z, x):
    d[x] = d[z] * sp.digamma(x)


@adjoint(sp.digamma, sp.psi)
def digamma(z, x):
    d[x] = d[z] * sp.polygamma(1, x)


@adjoint(sp.polygamma)
def polygamma(z, n, x):
    d[x] = unbroadcast(d[z] * sp.polygamma(n + 1, x), x)


@adjoint(sp.multigammaln)
def multigammaln(z, a, dim):  # SciPy calls it d, the name templates use for adjoints
    d[a] = d[z] * _multidigamma(a, dim)


def _multidigamma(a, dim):
    """d multigammaln(a, dim) / da = sum_j digamma(a - j/2), j = 0..dim-1."""
    a = np.asarray(a, dtype=float)
    return np.sum(sp.digamma(a[..., None] - 0.5 * np.arange(dim)), axis=-1)


@adjoint(sp.beta)
def beta(z, a, b):
    dab = sp.digamma(a + b)
    d[a] = unbroadcast(d[z] * z * (sp.digamma(a) - dab), a)
    d[b] = unbroadcast(d[z] * z * (sp.digamma(b) - dab), b)


@adjoint(sp.betaln)
def betaln(z, a, b):
    dab = sp.digamma(a + b)
    d[a] = unbroadcast(d[z] * (sp.digamma(a) - dab), a)
    d[b] = unbroadcast(d[z] * (sp.digamma(b) - dab), b)


# ------------------------------------------------------ error functions --

@adjoint(sp.erf)
def erf(z, x):
    d[x] = d[z] * (2.0 / _SQRT_PI) * np.exp(-x * x)


@adjoint(sp.erfc)
def erfc(z, x):
    d[x] = d[z] * (-2.0 / _SQRT_PI) * np.exp(-x * x)


@adjoint(sp.erfinv)
def erfinv(z, x):
    d[x] = d[z] * (_SQRT_PI / 2.0) * np.exp(z * z)


@adjoint(sp.erfcinv)
def erfcinv(z, x):
    d[x] = d[z] * (-_SQRT_PI / 2.0) * np.exp(z * z)


@adjoint(sp.ndtr)
def ndtr(z, x):
    d[x] = d[z] * np.exp(-0.5 * x * x) / _SQRT_2PI


@adjoint(sp.log_ndtr)
def log_ndtr(z, x):
    d[x] = d[z] * np.exp(-0.5 * x * x - z) / _SQRT_2PI


@adjoint(sp.ndtri)
def ndtri(z, x):
    d[x] = d[z] * _SQRT_2PI * np.exp(0.5 * z * z)


# ------------------------------------------------- logistic, logs, entropy --

@adjoint(sp.expit)
def expit(z, x):
    d[x] = d[z] * z * (1.0 - z)


@adjoint(sp.logit)
def logit(z, x):
    d[x] = d[z] / (x * (1.0 - x))


@adjoint(sp.xlogy)
def xlogy(z, x, y):
    d[x] = unbroadcast(d[z] * np.log(y), x)
    d[y] = unbroadcast(d[z] * x / y, y)


@adjoint(sp.xlog1py)
def xlog1py(z, x, y):
    d[x] = unbroadcast(d[z] * np.log1p(y), x)
    d[y] = unbroadcast(d[z] * x / (1.0 + y), y)


@adjoint(sp.rel_entr)
def rel_entr(z, x, y):
    d[x] = unbroadcast(d[z] * (np.log(x / y) + 1.0), x)
    d[y] = unbroadcast(-d[z] * x / y, y)


@adjoint(sp.entr)
def entr(z, x):
    d[x] = -d[z] * (np.log(x) + 1.0)


@adjoint(sp.logsumexp)
def logsumexp(z, a, axis=None, b=None, keepdims=False, return_sign=False):
    d[a] = _logsumexp_grad_a(d[z], z, a, axis, b, keepdims, return_sign)
    d[b] = _logsumexp_grad_b(d[z], z, a, axis, b, keepdims, return_sign)


def _logsumexp_weights(dz, z, a, axis, b, keepdims, return_sign):
    """``dz * sign * exp(a - lse)``, broadcast to ``a``'s shape (the adjoint of
    ``b * exp(a)``'s sum)."""
    a = np.asarray(a)
    if return_sign:
        dz, (z, sign) = (dz[0] if dz[0] is not None else 0.0), z
        dz = dz * sign
    if b is not None:
        a = np.broadcast_to(a, np.broadcast_shapes(a.shape, np.shape(b)))
    ndim = a.ndim
    return _keep(dz, ndim, axis, keepdims) * np.exp(a - _keep(z, ndim, axis, keepdims))


def _logsumexp_grad_a(dz, z, a, axis, b, keepdims, return_sign):
    w = _logsumexp_weights(dz, z, a, axis, b, keepdims, return_sign)
    return unbroadcast(w if b is None else w * b, a)


def _logsumexp_grad_b(dz, z, a, axis, b, keepdims, return_sign):
    return unbroadcast(_logsumexp_weights(dz, z, a, axis, b, keepdims, return_sign), b)


@adjoint(sp.softmax)
def softmax(z, x, axis=None):
    d[x] = z * (d[z] - np.sum(d[z] * z, axis=axis, keepdims=True))


@adjoint(sp.log_softmax)
def log_softmax(z, x, axis=None):
    d[x] = d[z] - np.exp(z) * np.sum(d[z], axis=axis, keepdims=True)


# -------------------------------------------------------------- Bessel --

@adjoint(sp.j0)
def j0(z, x):
    d[x] = -d[z] * sp.j1(x)


@adjoint(sp.j1)
def j1(z, x):
    d[x] = d[z] * 0.5 * (sp.j0(x) - sp.jn(2, x))


@adjoint(sp.y0)
def y0(z, x):
    d[x] = -d[z] * sp.y1(x)


@adjoint(sp.y1)
def y1(z, x):
    d[x] = d[z] * 0.5 * (sp.y0(x) - sp.yn(2, x))


@adjoint(sp.i0)
def i0(z, x):
    d[x] = d[z] * sp.i1(x)


@adjoint(sp.i1)
def i1(z, x):
    d[x] = d[z] * 0.5 * (sp.i0(x) + sp.iv(2, x))


@adjoint(sp.i0e)
def i0e(z, x):
    d[x] = d[z] * (sp.i1e(x) - np.sign(x) * z)


@adjoint(sp.i1e)
def i1e(z, x):
    d[x] = d[z] * (0.5 * (sp.i0e(x) + sp.ive(2, x)) - np.sign(x) * z)


@adjoint(sp.jn, sp.jv)
def jn(z, n, x):
    d[x] = unbroadcast(d[z] * 0.5 * (sp.jv(n - 1, x) - sp.jv(n + 1, x)), x)


@adjoint(sp.yn, sp.yv)
def yn(z, n, x):
    d[x] = unbroadcast(d[z] * 0.5 * (sp.yv(n - 1, x) - sp.yv(n + 1, x)), x)


@adjoint(sp.iv)
def iv(z, v, x):
    d[x] = unbroadcast(d[z] * 0.5 * (sp.iv(v - 1, x) + sp.iv(v + 1, x)), x)


@adjoint(sp.ive)
def ive(z, v, x):
    d[x] = unbroadcast(d[z] * (0.5 * (sp.ive(v - 1, x) + sp.ive(v + 1, x)) - np.sign(x) * z), x)
