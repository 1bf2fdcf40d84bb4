"""The decompositions' tangent rules (rules/tangents_linalg.py) beyond the shared
table's real-valued rows: complex eigenvectors (LAPACK's phase), complex ``angle``,
and the rules inside whole forward-mode programs (jvp, jacfwd, jacfwd over the
gradient), all against central finite differences in float64."""
from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.rules.tangents_linalg import tangle, teig

from test_forward import check_jvp, numeric_jacobian

RNG = np.random.default_rng(11)


def fd(fn, x, t, eps=1e-6):
    return (fn(x + eps * t) - fn(x - eps * t)) / (2 * eps)


def test_eig_complex_vectors_follow_lapack_phase():
    a = RNG.standard_normal((4, 4))
    w, v = np.linalg.eig(a)
    assert np.iscomplexobj(v)  # a rotation-like pair: complex eigenvectors
    t = RNG.standard_normal((2, 4, 4))
    dw, dv = teig(t, (w, v), a)
    for r in range(2):
        np.testing.assert_allclose(dw[r], fd(lambda m: np.linalg.eig(m)[0], a, t[r]),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(dv[r], fd(lambda m: np.linalg.eig(m)[1], a, t[r]),
                                   rtol=1e-5, atol=1e-6)


def test_angle_of_complex():
    z = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)
    t = RNG.standard_normal((2, 5)) + 1j * RNG.standard_normal((2, 5))
    for deg in (False, True):
        got = tangle(t, z, deg)
        for r in range(2):
            np.testing.assert_allclose(got[r], fd(lambda u: np.angle(u, deg=deg), z, t[r]),
                                       rtol=1e-5, atol=1e-6)
    assert not np.any(tangle(np.ones((1, 3)), np.array([1.0, -2.0, 3.0])))


def singular_values(a):
    return np.linalg.svd(a, compute_uv=False)


def svd_product(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(np.abs(u), axis=0) * s + np.sum(vh * vh, axis=1)


def qr_mix(a):
    q, r = np.linalg.qr(a)
    return np.sum(q * np.sign(np.diag(r)), axis=0) + np.diag(r) ** 2


def eig_values_real(a):
    w, v = np.linalg.eig(a @ a.T + 4.0 * np.eye(3))
    return np.sort(w)


def pinv_sum(a):
    return np.sum(np.linalg.pinv(a) ** 2)


@pytest.mark.parametrize("fn", [singular_values, svd_product, qr_mix, eig_values_real,
                                pinv_sum], ids=lambda f: f.__name__)
def test_decompositions_in_programs(fn):
    a = RNG.standard_normal((4, 3)) if fn is not eig_values_real else \
        RNG.standard_normal((3, 3))
    rng = np.random.default_rng(0)
    check_jvp(fn, (a,), rng)
    np.testing.assert_allclose(sg.jacfwd(fn)(a), numeric_jacobian(fn, (a,), 0),
                               rtol=1e-5, atol=1e-6)


def test_refused_by_name():
    """What the adjoint rule refuses (the full SVD of a non-square matrix, the QR of
    a wide one), the tangent rule refuses too, naming it (not a wrong tangent)."""
    a = RNG.standard_normal((3, 2))
    with pytest.raises(NotImplementedError, match="forward mode of np.linalg.svd"):
        sg.jvp(lambda a: np.linalg.svd(a)[1], (a,), (np.ones((3, 2)),))
    with pytest.raises(NotImplementedError, match="forward mode of np.linalg.qr"):
        sg.jvp(lambda a: np.linalg.qr(a)[1], (a.T,), (np.ones((2, 3)),))
