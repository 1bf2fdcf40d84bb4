"""SciPy's tangent rules (rules/tangents_scipy*.py) against central finite differences
in float64: each rule alone on the SciPy rule table (tests/test_rules_scipy.py, with the
harness of tests/test_rules_tangents.py), and through forward mode (``jvp``,
``jacfwd``, ``hessian``) in functions calling them."""
from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg

sp = pytest.importorskip("scipy.special")

import scipy.integrate as si  # noqa: E402
import scipy.linalg as sl  # noqa: E402
import scipy.signal as ssig  # noqa: E402
import scipy.stats as st  # noqa: E402

from sourcegrad.errors import NoDerivativeError  # noqa: E402
from test_forward import check_jvp, numeric_jacobian  # noqa: E402
from tests import test_rules_scipy as scipy_table  # noqa: E402
from tests import test_rules_tangents as harness  # noqa: E402

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


# ------------------------------------------------ every SciPy rule, on its table --

TABLE = [c for c in scipy_table.CASES if c.skip is None]
# rows whose call the tangent rule refuses, naming it (the README lists them)
REFUSED = {"logsumexp-return_sign"}


@pytest.mark.parametrize("case", TABLE, ids=[c.id for c in TABLE])
def test_scipy_tangent_rule_matches_finite_differences(case):
    assert harness._has_tangent(case.primal), f"{case.id}: no tangent rule"
    if case.id in REFUSED:
        with pytest.raises(NotImplementedError, match="forward mode of"):
            harness.check(case)
        return
    harness.check(case)


@pytest.mark.parametrize("method", [st.dirichlet.logpdf, st.dirichlet.pdf])
@pytest.mark.parametrize("shape", [(4,), (3, 5)])
def test_dirichlet_x_tangent_along_the_simplex(method, shape):
    """x must stay on the simplex: directions whose components sum to zero."""
    rng = np.random.default_rng(3)
    x = scipy_table.S(*shape)(rng)
    alpha = rng.uniform(1.0, 3.0, shape[0])
    t = rng.standard_normal((2,) + shape)
    t -= t.mean(axis=1, keepdims=True)
    z, got = harness.tangent_of(method, [x, alpha], {}, {"x": t})
    eps = 1e-6
    for r in range(2):
        want = (method(x + eps * t[r], alpha) - method(x - eps * t[r], alpha)) / (2 * eps)
        np.testing.assert_allclose(got[r], want, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------ through forward mode --

def stats_loss(x, loc, scale):
    return (st.norm.logpdf(x, loc, scale) + st.t.cdf(x, 4.0, loc, scale)
            + st.t.logpdf(x, df=3.0, loc=loc, scale=scale) + st.laplace.logsf(x, loc, 2.0)
            + st.gamma.logpdf(scale, 2.5) + st.poisson.logpmf(3.0, scale)
            + st.beta.cdf(0.4, 2.0, 3.0, loc=0.0, scale=scale + 1.0))


def mvn_loss(x, mean, cov):
    s = cov @ cov.T + np.eye(3)
    return (st.multivariate_normal.logpdf(x, mean, s)
            + st.multivariate_normal.pdf(x[0], mean, np.diag(s)) + sp.multigammaln(s[0, 0] + 2, 2))


def linalg_fn(a, b):
    s = a @ a.T + 3.0 * np.eye(3)
    c = sl.cholesky(s, lower=True)
    x = sl.solve_triangular(c, b, lower=True)
    y = sl.cho_solve((c, True), b)
    return (x + y + sl.sqrtm(s) @ b + sl.expm(0.3 * a) @ b
            + sl.solve_sylvester(s, np.eye(2) * 2.0 + a[:2, :2], b))


def signal_fn(u, k):
    return (ssig.convolve(u, k)[:6] + ssig.correlate(u, k, mode="same")
            + ssig.convolve(k, u, mode="valid").sum())


@pytest.mark.parametrize("fn, args", [
    (stats_loss, (np.array([0.3, -0.4, 1.2]), np.array([0.1, 0.2, -0.3]),
                  np.array([0.8, 1.3, 2.1]))),
    (mvn_loss, (np.array([[0.3, -0.4, 1.2], [0.5, 0.1, -0.2]]), np.array([0.1, 0.2, -0.3]),
                np.array([[0.8, 0.1, 0.0], [0.2, 1.1, 0.3], [-0.1, 0.2, 0.9]]))),
    (linalg_fn, (np.array([[0.8, 0.1, 0.0], [0.2, 1.1, 0.3], [-0.1, 0.2, 0.9]]),
                 np.array([[0.5, 1.0], [-0.3, 0.2], [0.7, -1.1]]))),
    (signal_fn, (np.array([0.5, 1.0, -0.3, 0.2, 0.7, -1.1]), np.array([0.3, -0.6, 0.9]))),
], ids=["stats", "mvn", "linalg", "signal"])
def test_scipy_families_through_forward_mode(fn, args):
    check_jvp(fn, args, np.random.default_rng(0), rtol=1e-5, atol=1e-6)
    for i in range(len(args)):
        np.testing.assert_allclose(sg.jacfwd(fn, grad_position=i)(*args),
                                   numeric_jacobian(fn, args, i), rtol=1e-5, atol=1e-6)


def decay(y, t, k, c):
    return -k * y + c * np.cos(t) * y[::-1]


def solve(y0, k, c):
    return si.odeint(decay, y0, np.linspace(0.0, 1.5, 4), args=(k, c), rtol=1e-10,
                     atol=1e-10)


def test_odeint_forward_sensitivities():
    args = (np.array([1.0, 0.5]), 0.6, np.array([0.3, -0.2]))
    check_jvp(solve, args, np.random.default_rng(0), rtol=1e-4, atol=1e-7)
    for i in (0, 2):
        np.testing.assert_allclose(sg.jacfwd(solve, grad_position=i)(*args),
                                   numeric_jacobian(solve, args, i, eps=1e-5),
                                   rtol=1e-4, atol=1e-7)


def test_hessian_through_scipy_stats():
    def nll(theta, x):
        return -np.sum(st.norm.logpdf(x, theta[0], np.exp(theta[1])))
    x = np.array([0.3, -0.4, 1.2, 0.9])
    theta = np.array([0.2, -0.1])
    want = numeric_jacobian(sg.grad(nll), (theta, x), 0)
    np.testing.assert_allclose(sg.hessian(nll)(theta, x), want, rtol=1e-5, atol=1e-5)


def test_forward_mode_refuses_what_reverse_mode_refuses():
    def cdf_df(df, x):
        return st.t.cdf(x, df)

    def times(t, y0):
        return si.odeint(decay, y0, t, args=(0.6, np.array([0.3, -0.2])))

    with pytest.raises(NoDerivativeError, match="t.cdf with respect to df"):
        sg.jvp(cdf_df, (3.0, np.array([0.2, 0.5])), (1.0, np.zeros(2)))
    with pytest.raises(NoDerivativeError, match="odeint with respect to the times"):
        sg.jacfwd(times)(np.linspace(0.0, 1.0, 3), np.array([1.0, 0.5]))
