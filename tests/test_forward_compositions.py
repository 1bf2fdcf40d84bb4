"""Transformations of transformations: Jacobians of Jacobians in every order, jvp
inside forward mode (forward over forward), gradients of Jacobians and Hessians
(reverse over forward), Hessians of a dict input.  Each against central finite
differences (float64) of the inner transformation, itself checked against finite
differences of the function."""
from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads

from test_forward import check_jvp, numeric_jacobian

RNG = np.random.default_rng(5)
V = RNG.standard_normal(4)


def vector_fn(x):
    return np.sin(x) * x[::-1] + np.sum(x ** 3)


def scalar_fn(x):
    return np.sum(np.sin(x) * x) + np.sum(x ** 2) ** 2


def directional(x):
    return sg.jvp(vector_fn, x, V)[1]


def sum_of_jacobian(x):
    return np.sum(sg.jacfwd(vector_fn)(x) ** 2)


def sum_of_hessian(x):
    return np.sum(np.cos(sg.hessian(scalar_fn)(x)))


@pytest.fixture
def x():
    return RNG.standard_normal(4) * 0.5


@pytest.mark.parametrize("outer", [sg.jacfwd, sg.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize("inner", [sg.jacfwd, sg.jacrev], ids=["jacfwd", "jacrev"])
def test_second_derivatives_of_a_vector_function(outer, inner, x):
    first = numeric_jacobian(vector_fn, (x,), 0)
    np.testing.assert_allclose(inner(vector_fn)(x), first, rtol=1e-5, atol=1e-6)
    want = numeric_jacobian(sg.jacfwd(vector_fn), (x,), 0)
    got = outer(inner(vector_fn))(x)
    assert got.shape == (4, 4, 4)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("outer", [sg.jacfwd, sg.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobians_of_jacrev_of_a_scalar_function(outer, x):
    want = numeric_jacobian(sg.grad(scalar_fn), (x,), 0)
    np.testing.assert_allclose(outer(sg.jacrev(scalar_fn))(x), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sg.hessian(scalar_fn)(x), want, rtol=1e-5, atol=1e-5)


def test_third_derivative_jacfwd_of_hessian(x):
    want = numeric_jacobian(sg.hessian(scalar_fn), (x,), 0)
    np.testing.assert_allclose(sg.jacfwd(sg.hessian(scalar_fn))(x), want,
                               rtol=1e-5, atol=1e-4)


def test_jvp_of_jvp_and_jacobian_of_jvp(x):
    check_jvp(vector_fn, (x,), np.random.default_rng(1))
    check_jvp(directional, (x,), np.random.default_rng(2))
    np.testing.assert_allclose(sg.jacfwd(directional)(x),
                               numeric_jacobian(directional, (x,), 0), rtol=1e-5, atol=1e-5)


def test_grad_of_jvp_and_jvp_of_grad(x):
    check_grads(lambda x: np.sum(directional(x)), x)
    _, hv = sg.jvp(sg.grad(scalar_fn), x, V)
    eps = 1e-6
    g = sg.grad(scalar_fn)
    np.testing.assert_allclose(hv, (g(x + eps * V) - g(x - eps * V)) / (2 * eps),
                               rtol=1e-5, atol=1e-5)


def test_gradients_of_a_jacobian_and_a_hessian(x):
    check_grads(sum_of_jacobian, x)
    check_grads(sum_of_hessian, x)


def dict_loss(p, x):
    return np.sum(np.tanh(p["w"] @ x + p["b"]) ** 2) + p["c"] * np.sum(x ** 4)


def test_hessian_of_a_dict_input(x):
    p = {"w": RNG.standard_normal((3, 4)) * 0.5, "b": RNG.standard_normal(3), "c": 0.7}
    h = sg.hessian(dict_loss)(p, x)
    g = sg.grad(dict_loss)
    for k1 in ("w", "b"):
        for k2 in ("w", "b"):
            def grad_leaf(v, k1=k1, k2=k2):
                q = dict(p)
                q[k2] = v
                return g(q, x)[k1]
            want = numeric_jacobian(grad_leaf, (p[k2],), 0)
            np.testing.assert_allclose(h[k1][k2], want, rtol=1e-5, atol=1e-5,
                                       err_msg=f"H[{k1}][{k2}]")
    hx = sg.hessian(dict_loss, 1)(p, x)
    np.testing.assert_allclose(hx, numeric_jacobian(lambda x: sg.grad(dict_loss, 1)(p, x),
                                                    (x,), 0), rtol=1e-5, atol=1e-5)


def named_like_the_wrapper(out, tout):
    return np.sin(out) * tout * out


def test_parameters_named_like_the_wrappers_locals(x):
    """A Jacobian inside another transformation is a small function of the same
    parameters: its own names stay clear of them (and of a parameter called sens)."""
    s = RNG.standard_normal(4)
    want = numeric_jacobian(sg.jacfwd(named_like_the_wrapper), (x, s), 0)
    np.testing.assert_allclose(sg.jacfwd(sg.jacfwd(named_like_the_wrapper))(x, s), want,
                               rtol=1e-5, atol=1e-5)

    def with_sens(x, sens):
        return np.sin(x) * sens

    np.testing.assert_allclose(sg.jacrev(with_sens)(x, s), np.diag(np.cos(x) * s),
                               rtol=1e-12)
