"""scipy.special's tangent rules (rules/tangents_scipy.py) through forward mode
(``jvp``, ``jacfwd``) against central finite differences in float64."""
from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg

sp = pytest.importorskip("scipy.special")

from test_forward import check_jvp, numeric_jacobian  # noqa: E402

POS = np.array([0.6, 1.3, 2.2])     # inside every function's domain below
UNIT = np.array([0.2, 0.45, 0.7])   # (0, 1): erfinv, ndtri, logit, ...


def unary(x, u):
    return (sp.gamma(x) + sp.gammaln(x) + sp.digamma(x) + sp.psi(x) + sp.erf(x)
            + sp.erfc(x) + sp.erfinv(u) + sp.erfcinv(u) + sp.ndtr(x) + sp.log_ndtr(x)
            + sp.ndtri(u) + sp.expit(x) + sp.logit(u) + sp.entr(x) + sp.j0(x)
            + sp.j1(x) + sp.y0(x) + sp.y1(x) + sp.i0(x) + sp.i1(x) + sp.i0e(x)
            + sp.i1e(x))


def orders(x):
    return (sp.polygamma(1, x) + sp.jn(2, x) + sp.jv(1.5, x) + sp.yn(1, x)
            + sp.yv(0.5, x) + sp.iv(1, x) + sp.ive(2, x))


def pairs(a, b):
    return (sp.beta(a, b) + sp.betaln(a, b) + sp.xlogy(a, b) + sp.xlog1py(a, b)
            + sp.rel_entr(a, b))


def normalisers(x, w):
    m = np.outer(x, w)
    return (np.sum(sp.softmax(m, axis=1) * m) + np.sum(sp.log_softmax(m) ** 2)
            + sp.logsumexp(x) + np.sum(sp.logsumexp(m, axis=0))
            + sp.logsumexp(x, b=w) + np.sum(sp.logsumexp(m, axis=1, keepdims=True)))


@pytest.mark.parametrize("fn, args", [
    (unary, (POS, UNIT)), (orders, (POS,)), (pairs, (POS, UNIT + 0.5)),
    (normalisers, (POS, UNIT + 0.1)),
], ids=["unary", "orders", "pairs", "normalisers"])
def test_scipy_special_tangents(fn, args):
    check_jvp(fn, args, np.random.default_rng(0))
    for i in range(len(args)):
        np.testing.assert_allclose(sg.jacfwd(fn, grad_position=i)(*args),
                                   numeric_jacobian(fn, args, i), rtol=1e-5, atol=1e-6)


def test_hessian_through_scipy_special():
    def loss(w, X, y):
        return -np.sum(y * sp.log_ndtr(X @ w) + (1 - y) * sp.log_ndtr(-(X @ w)))
    rng = np.random.default_rng(1)
    w, X = rng.standard_normal(3) * 0.3, rng.standard_normal((6, 3))
    y = (rng.random(6) < 0.5).astype(float)
    want = numeric_jacobian(sg.grad(loss), (w, X, y), 0)
    np.testing.assert_allclose(sg.hessian(loss)(w, X, y), want, rtol=1e-5, atol=1e-5)
