"""Every SciPy derivative rule against central finite differences (float64).

The same table and harness as ``tests/test_rules_numpy.py`` (a rule's template
run directly on a call and a random cotangent), for the SciPy families, which
the registry loads on first need (see docs/pipeline.md, "Rules").  Skipped,
with the reason shown, where SciPy is not installed.
"""
from __future__ import annotations

import numpy as np
import pytest

scipy = pytest.importorskip("scipy", reason="SciPy is not installed: its rules are optional")

import scipy.linalg as sl  # noqa: E402
import scipy.signal as ssig  # noqa: E402
import scipy.special as ss  # noqa: E402
import scipy.stats as st  # noqa: E402

from sourcegrad.rules import registry  # noqa: E402
registry._load_families()  # the SciPy modules are imported above
import scipy.integrate as si  # noqa: E402
import sourcegrad.rules.scipy_integrate as rules_integrate  # noqa: E402
import sourcegrad.rules.scipy_stats as rules_stats  # noqa: E402
from sourcegrad.rules.registry import _RULES  # noqa: E402
from tests.test_rules_numpy import A, P, R, SPD, Case, check  # noqa: E402


def U(*shape, lo=0.1, hi=0.9):
    return lambda rng: rng.uniform(lo, hi, shape)


def S(*shape, lo=0.1, hi=0.9):
    """Points of the simplex (components on the first axis)."""
    def make(rng):
        x = rng.uniform(lo, hi, shape)
        return x / np.sum(x, axis=0)
    return make


def _special():
    out = [Case(f, A(P(3, 2))) for f in (
        ss.gamma, ss.gammaln, ss.digamma, ss.psi, ss.erf, ss.erfc, ss.expit, ss.ndtr,
        ss.log_ndtr, ss.entr, ss.j0, ss.j1, ss.y0, ss.y1, ss.i0, ss.i1, ss.i0e, ss.i1e)]
    out += [Case(f, A(R(3))) for f in (ss.erf, ss.expit, ss.ndtr, ss.log_ndtr, ss.j1, ss.i1,
                                        ss.i0e, ss.i1e)]
    out += [Case(f, A(U(4))) for f in (ss.logit, ss.ndtri, ss.erfcinv)]
    out += [Case(ss.erfinv, A(U(4, lo=-0.8, hi=0.8))),
            Case(ss.erfcinv, A(U(4, lo=0.2, hi=1.8)), id="wide")]
    out += [Case(f, A(P(3), P(2, 3))) for f in (ss.beta, ss.betaln, ss.xlogy, ss.xlog1py,
                                                ss.rel_entr)]
    out += [Case(f, A(n, P(4, lo=1.0, hi=3.0)), wrt=[1], id=f"n{n}")
            for f in (ss.polygamma, ss.jn, ss.yn, ss.iv, ss.ive) for n in (0, 2)]
    out += [Case(ss.jv, A(1.5, P(3)), wrt=[1]), Case(ss.yv, A(1.5, P(3)), wrt=[1]),
            Case(ss.iv, A(1, R(3)), wrt=[1], id="neg-x"),
            Case(ss.ive, A(1, R(3)), wrt=[1], id="neg-x"),
            Case(ss.multigammaln, A(P(3, lo=2.0, hi=4.0), 3)),
            Case(ss.multigammaln, A(lambda r: 3.5, 2), id="scalar")]
    lse = ss.logsumexp
    out += [Case(lse, A(R(3, 4))),
            Case(lse, A(R(3, 4)), dict(axis=1), id="axis"),
            Case(lse, A(R(3, 4)), dict(axis=0, keepdims=True), id="keepdims"),
            Case(lse, A(R(2, 3, 4)), dict(axis=(0, 2)), id="axes"),
            Case(lse, A(R(3, 4)), dict(b=np.array([0.5, 1.0, 2.0, 0.1])), id="b-const"),
            Case(lse, A(R(3, 4), None, P(3, 4)), id="b-pos"),
            Case(lse, A(R(3, 4), 1, P(3, 4)), wrt=[0, 2], id="b-axis"),
            Case(lse, A(R(3, 4)), dict(b=np.array([[1.0], [-0.5], [2.0]]), axis=1,
                                       return_sign=True), id="return_sign", none=(1,)),
            Case(lse, A(R(3, 4)), dict(axis=-1, b=P(4)(np.random.default_rng(1))),
                 id="b-bcast")]
    out += [Case(ss.softmax, A(R(3, 4))), Case(ss.softmax, A(R(3, 4)), dict(axis=1), id="axis"),
            Case(ss.log_softmax, A(R(3, 4))),
            Case(ss.log_softmax, A(R(3, 4)), dict(axis=0), id="axis")]
    return out


def _locscale(dist, shapes, xmaker):
    """Cases for a location-scale family: every method, positional and keyword."""
    out = []
    methods = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]
    for m in methods:
        f = getattr(dist, m)
        n = len(shapes)
        wrt_all = None if m in ("logpdf", "pdf") else [0, n + 1, n + 2]
        out.append(Case(f, A(xmaker, *shapes, R(3), P(3)), wrt=wrt_all
                        if wrt_all is None else [0] + wrt_all[1:], id="pos"))
        kw = {"loc": 0.3, "scale": 1.7}
        out.append(Case(f, A(xmaker, *shapes), kw, wrt=[0], id="kw"))
    return out


def _shifted(x):
    return lambda rng: 2.0 + x(rng)


def _stats():
    out = []
    out += _locscale(st.norm, [], R(3))
    out += _locscale(st.t, [P(3, lo=2.0, hi=6.0)], R(3))
    out += _locscale(st.laplace, [], R(3))
    # supports bounded below/between: x = loc + scale * u with u inside
    for dist, shapes, umaker in [(st.gamma, [P(3, lo=1.5, hi=3.0)], P(3)),
                                 (st.chi2, [P(3, lo=2.5, hi=5.0)], P(3)),
                                 (st.expon, [], P(3)),
                                 (st.beta, [P(3, lo=1.5, hi=3.0), P(3, lo=1.5, hi=3.0)], U(3))]:
        for m in ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]:
            f = getattr(dist, m)
            n = len(shapes)

            def make(rng, shapes=shapes, umaker=umaker):
                vals = [s(rng) for s in shapes]
                loc, scale, u = rng.uniform(-1, 1, 3), rng.uniform(0.5, 2, 3), umaker(rng)
                return [loc + scale * u] + vals + [loc, scale]

            wrt = None if m in ("logpdf", "pdf") else [0, n + 1, n + 2]
            out.append(Case(f, make, wrt=wrt, id="pos"))
    out.append(Case(st.t.logpdf, A(R(3)), dict(df=4.0, loc=0.5, scale=2.0), id="df-kw"))
    out.append(Case(st.gamma.logpdf, A(P(3)), dict(a=2.5), id="a-kw"))
    # poisson: k is a count, mu carries gradient
    k = lambda rng: np.array([0.0, 2.0, 5.0])  # noqa: E731
    for m in ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]:
        out.append(Case(getattr(st.poisson, m), A(k, P(3, lo=1.0, hi=4.0)), wrt=[1]))
        out.append(Case(getattr(st.poisson, m), A(k), dict(mu=2.5, loc=0), wrt=[],
                        id="kw") if False else None)
    out = [c for c in out if c is not None]
    # multivariate normal: one point and several; full, diagonal and scalar covariances
    mvn = st.multivariate_normal
    for m in (mvn.logpdf, mvn.pdf):
        out += [Case(m, A(R(3), R(3), SPD(3)), id="one"),
                Case(m, A(R(5, 3), R(3), SPD(3)), id="many"),
                Case(m, A(R(4, 2), R(2), P(2)), id="diag"),
                Case(m, A(R(4, 2), R(2), lambda rng: 1.5), wrt=[0, 1], id="iso"),
                Case(m, A(R(4, 2)), dict(mean=np.array([0.1, -0.2]), cov=np.eye(2) * 2.0),
                     id="kw")]
    out += [Case(st.multivariate_normal.logpdf, A(R(4, 2), R(2), lambda rng: 1.5), wrt=[2],
                 id="iso-cov")]
    for m in (st.dirichlet.logpdf, st.dirichlet.pdf):
        # x must stay on the simplex: its adjoint is checked along it, below
        out += [Case(m, A(S(4), P(4, lo=1.0, hi=3.0)), wrt=[1]),
                Case(m, A(S(3, 5), P(3, lo=1.0, hi=3.0)), wrt=[1], id="many")]
    return out


def TRI(n, lower, m=None):
    def make(rng):
        a = rng.standard_normal((n, n)) * 0.3 + 2.0 * np.eye(n)
        return np.tril(a) if lower else np.triu(a)
    return make


def _linalg():
    out = [Case(sl.cholesky, A(SPD(3))), Case(sl.cholesky, A(SPD(3)), dict(lower=True),
                                               id="lower")]
    for lower in (False, True):
        for trans in (0, 1, "T"):
            out.append(Case(sl.solve_triangular, A(TRI(3, lower), R(3, 2)),
                            dict(lower=lower, trans=trans), id=f"lower{lower}-trans{trans}"))
        out.append(Case(sl.solve_triangular, A(TRI(3, lower), R(3)), dict(lower=lower),
                        id=f"vector-lower{lower}"))
    out.append(Case(sl.solve_triangular, A(TRI(3, True), R(3, 2)),
                    dict(lower=True, unit_diagonal=True), id="unit"))
    for lower in (False, True):
        chol = (lambda lower: lambda rng: (sl.cholesky(SPD(3)(rng), lower=lower), lower))(lower)
        out.append(Case(sl.cho_solve, A(chol, R(3, 2)), wrt=[(0, 0), 1], id=f"lower{lower}"))
        out.append(Case(sl.cho_solve, A(chol, R(3)), wrt=[(0, 0), 1], id=f"vec-lower{lower}"))
    out += [Case(sl.sqrtm, A(SPD(3)), rtol=1e-4),
            Case(sl.solve_sylvester, A(SPD(3), SPD(2), R(3, 2))),
            Case(sl.expm, A(lambda rng: 0.5 * rng.standard_normal((3, 3))))]
    return out


def _signal():
    out = []
    for f in (ssig.convolve, ssig.correlate):
        for mode in ("full", "valid", "same"):
            out += [Case(f, A(R(7), R(3)), dict(mode=mode), id=f"1d-{mode}"),
                    Case(f, A(R(5, 6), R(2, 3)), dict(mode=mode), id=f"2d-{mode}")]
        out += [Case(f, A(R(3), R(7)), dict(mode="same"), id="short-first-same"),
                Case(f, A(R(3), R(7)), dict(mode="valid"), id="short-first-valid"),
                Case(f, A(R(4), R(4)), id="positional")]
    return out


def _rhs(y, t, k, c):
    return -k * y + c * np.cos(t) * y[::-1]


def _rhs_tfirst(t, y, k):
    return -k * y * y


def _integrate():
    times = np.linspace(0.0, 1.5, 4)
    y0 = lambda rng: np.array([1.0, 0.5])  # noqa: E731
    tight = dict(rtol=1e-10, atol=1e-10)
    return [Case(si.odeint, A(lambda rng: _rhs, y0, times, (0.6, np.array([0.3, -0.2]))), tight,
                 wrt=[1, (3, 0), (3, 1)], rtol=1e-4, eps=1e-5),
            Case(si.odeint, A(lambda rng: _rhs_tfirst, y0, times, (0.8,)),
                 dict(tfirst=True, **tight), wrt=[1, (3, 0)], rtol=1e-4, eps=1e-5, id="tfirst")]


CASES = _special() + _stats() + _linalg() + _signal() + _integrate()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_matches_finite_differences(case, monkeypatch):
    # the harness runs every line of a template; the engine drops the lines of
    # arguments without gradient, so the refusal of a cdf's shape-parameter
    # gradient (tested through the engine below) is kept quiet here
    monkeypatch.setattr(rules_stats, "_no_shape_grad", lambda method, param: None)
    monkeypatch.setattr(rules_integrate, "_refused", lambda what, about, hint: None)
    check(case)


SCIPY_FAMILIES = ("sourcegrad.rules.scipy_special", "sourcegrad.rules.scipy_stats",
                  "sourcegrad.rules.scipy_linalg", "sourcegrad.rules.scipy_signal",
                  "sourcegrad.rules.scipy_integrate")


def test_every_scipy_rule_is_exercised():
    tested = {registry._key(c.primal) for c in CASES}
    missing = sorted({r.template.__name__ for k, r in _RULES.items()
                      if r.template.__module__ in SCIPY_FAMILIES and k not in tested})
    assert not missing, f"rules without a test case: {missing}"


@pytest.mark.parametrize("method", [st.dirichlet.logpdf, st.dirichlet.pdf])
@pytest.mark.parametrize("shape", [(4,), (3, 5)])
def test_dirichlet_x_adjoint_along_the_simplex(method, shape):
    """Moving eps from component j to component i keeps x on the simplex: the
    derivative along that direction is the adjoint's i-th minus its j-th entry."""
    rng = np.random.default_rng(3)
    x = S(*shape)(rng)
    alpha = rng.uniform(1.0, 3.0, shape[0])
    z = method(x, alpha)
    dz = rng.standard_normal(np.shape(z))
    from tests.test_rules_numpy import vjp
    g = vjp(method, [x, alpha], {}, dz)["x"]
    assert g.shape == x.shape
    eps = 1e-6
    for i, j in [(0, 1), (2, 0), (1, 2)]:
        e = np.zeros(shape)
        e[i], e[j] = 1.0, -1.0
        want = (np.sum(dz * method(x + eps * e, alpha))
                - np.sum(dz * method(x - eps * e, alpha))) / (2 * eps)
        np.testing.assert_allclose(np.sum(g * e), want, rtol=1e-5, atol=1e-7)


SCIPY_RULES = [r for r in _RULES.values() if r.template.__module__ in SCIPY_FAMILIES]


@pytest.mark.parametrize("rule", SCIPY_RULES, ids=lambda r: r.template.__name__)
def test_scipy_template_is_straight_line(rule):
    from tests.test_rules_numpy import test_template_is_straight_line as straight
    straight(rule)


def test_no_scipy_family_name_shadows_a_builtin():
    import builtins
    import sys
    clash = [(m, n) for m in SCIPY_FAMILIES for n in vars(sys.modules[m])
             if not n.startswith("__") and hasattr(builtins, n)]
    assert not clash
