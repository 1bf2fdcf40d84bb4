"""Forward-mode (tangent) rules for ``scipy.special``, loaded with its adjoint rules
(:mod:`sourcegrad.rules.scipy_special`) the first time a lookup misses while SciPy
is imported.

Functions of one argument acting element by element reuse their adjoint rule
(``diagonal_tangent``: ``d[x] = d[z] * f'(x)`` read with ``d[z]`` and ``d[x]``
swapped).  The others are written out: a batch of directions on a leading axis
(``lift`` broadcasts an argument's tangent to the result's shape behind it).
"""
from __future__ import annotations

import numpy as np
import scipy.special as sp

from sourcegrad.rules.registry import d, diagonal_tangent, tangent
from sourcegrad.rules.tangents_numpy import baxis, lift

diagonal_tangent(sp.gamma, sp.gammaln, sp.digamma, sp.psi, sp.erf, sp.erfc, sp.erfinv,
                 sp.erfcinv, sp.ndtr, sp.log_ndtr, sp.ndtri, sp.expit, sp.logit, sp.entr,
                 sp.j0, sp.j1, sp.y0, sp.y1, sp.i0, sp.i1, sp.i0e, sp.i1e)


# ------------------------------------------------ an integer order, then x --

@tangent(sp.polygamma, constant=("n",))
def polygamma(z, n, x):
    d[z] = lift(d[x], z) * sp.polygamma(n + 1, x)


@tangent(sp.jn, sp.jv, constant=("n",))
def jn(z, n, x):
    d[z] = lift(d[x], z) * (0.5 * (sp.jv(n - 1, x) - sp.jv(n + 1, x)))


@tangent(sp.yn, sp.yv, constant=("n",))
def yn(z, n, x):
    d[z] = lift(d[x], z) * (0.5 * (sp.yv(n - 1, x) - sp.yv(n + 1, x)))


@tangent(sp.iv, constant=("v",))
def iv(z, v, x):
    d[z] = lift(d[x], z) * (0.5 * (sp.iv(v - 1, x) + sp.iv(v + 1, x)))


@tangent(sp.ive, constant=("v",))
def ive(z, v, x):
    d[z] = lift(d[x], z) * (0.5 * (sp.ive(v - 1, x) + sp.ive(v + 1, x)) - np.sign(x) * z)


# ------------------------------------------------------- two arguments --

@tangent(sp.beta)
def beta(z, a, b):
    d[z] = lift(d[a], z) * (z * (sp.digamma(a) - sp.digamma(a + b)))
    d[z] = lift(d[b], z) * (z * (sp.digamma(b) - sp.digamma(a + b)))


@tangent(sp.betaln)
def betaln(z, a, b):
    d[z] = lift(d[a], z) * (sp.digamma(a) - sp.digamma(a + b))
    d[z] = lift(d[b], z) * (sp.digamma(b) - sp.digamma(a + b))


@tangent(sp.xlogy)
def xlogy(z, x, y):
    d[z] = lift(d[x], z) * np.log(y)
    d[z] = lift(d[y], z) * (x / y)


@tangent(sp.xlog1py)
def xlog1py(z, x, y):
    d[z] = lift(d[x], z) * np.log1p(y)
    d[z] = lift(d[y], z) * (x / (1.0 + y))


@tangent(sp.rel_entr)
def rel_entr(z, x, y):
    d[z] = lift(d[x], z) * (np.log(x / y) + 1.0)
    d[z] = lift(d[y], z) * (-x / y)


# ---------------------------------------------------- softmax and friends --

@tangent(sp.softmax, constant=("axis",))
def softmax(z, x, axis=None):
    d[z] = z * (d[x] - np.sum(d[x] * z, axis=baxis(axis, x), keepdims=True))


@tangent(sp.log_softmax, constant=("axis",))
def log_softmax(z, x, axis=None):
    d[z] = d[x] - np.sum(d[x] * np.exp(z), axis=baxis(axis, x), keepdims=True)


@tangent(sp.logsumexp, constant=("axis", "keepdims", "return_sign"))
def logsumexp(z, a, axis=None, b=None, keepdims=False, return_sign=False):
    d[z] = tlogsumexp(d[a], None, z, a, axis, b, keepdims, return_sign)
    d[z] = tlogsumexp(None, d[b], z, a, axis, b, keepdims, return_sign)


def tlogsumexp(ta, tb, z, a, axis, b, keepdims, return_sign):
    """Tangent of ``logsumexp(a, axis, b)`` along ``a``'s (``ta``) or ``b``'s (``tb``)
    tangent: ``sum(w t_a) `` with ``w = b exp(a - z)``, ``sum(exp(a - z) t_b)``."""
    if return_sign:
        raise NotImplementedError("forward mode of scipy.special.logsumexp("
                                  "return_sign=True)")
    a = np.asarray(a)
    shape = a.shape if b is None else np.broadcast_shapes(a.shape, np.shape(b))
    nd = len(shape)
    zk = z if keepdims or axis is None and nd == 0 else np.expand_dims(
        z, tuple(range(nd)) if axis is None else axis)
    e = np.exp(a - zk)
    if ta is not None:
        t, w = ta, e if b is None else e * b
    else:
        t, w = tb, e
    t = np.broadcast_to(t, t.shape[:1] + shape)
    return np.sum(t * w, axis=baxis(axis, np.empty(shape)), keepdims=keepdims)
