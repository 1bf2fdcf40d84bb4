"""Forward mode over the identity basis (``jacfwd``, ``jacrev``, ``hessian``): the
diagonal tangents of elementwise steps kept as their values (``tangents.Structure``)
and made dense where something else reads them.  Every Jacobian is checked against
central finite differences in float64, through all three transformations where
they apply."""
from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.rules.tangents_numpy import add_diagonal, bdiag

from test_forward import check_hessian, check_jacobians, numeric_jacobian

RNG = np.random.default_rng(3)
W = RNG.standard_normal((5, 5))
A = RNG.standard_normal((5, 5))
R = RNG.standard_normal((3, 5))


def only_diagonal(x):
    return np.sin(x) * x / 2.0 - x


def smooth(x):
    return np.tanh(W @ x + 0.1) * x


def dense_name_plus_diagonal(x):
    y = W @ x
    z = y + x          # the dense tangent of y is read again below: not written into
    return z * y - x * 3.0


def diagonal_then_cumsum(x):
    return np.cumsum(np.exp(x) * x)


def diagonal_reversed(x):
    return (x * x)[::-1] * x


def diagonal_times_sum(x):
    return np.sum(x * x) * x


def diagonal_outer(x):
    return np.outer(np.sin(x), x)


def diagonal_broadcast_rows(x):
    return R * (x * x)            # (3, n): the diagonal broadcast to rows


def diagonal_then_matmuls(x):
    return (x * x) @ W + A @ np.cos(x)


def scaled_into_matmuls(x):
    y = -x
    z = y * 3.0            # a diagonal of one value for all
    return W @ z + x @ A + z @ W


def branch_and_loop(x):
    if np.sum(x) > 0:
        y = x * 2.0
    else:
        y = x * 3.0
    for _ in range(3):
        y = y * np.cos(x)
    return y


def written_into(x):
    x[0] = x[1] * 2.0      # the basis of x no longer the identity after this
    return np.sin(x) * x


def scalar_out(x):
    return np.sum(np.sin(x) * x)


def divided(x):
    return 1.0 / (x * x + 1.0) - x / 3.0


FUNCTIONS = [only_diagonal, smooth, dense_name_plus_diagonal, diagonal_then_cumsum,
             diagonal_reversed, diagonal_times_sum, diagonal_outer,
             diagonal_broadcast_rows, diagonal_then_matmuls, scaled_into_matmuls, branch_and_loop,
             scalar_out,
             divided]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_jacobians_against_finite_differences(fn):
    x = RNG.standard_normal(5)
    want = check_jacobians(fn, (x,))
    # twice: the second call runs the plan made by the first
    np.testing.assert_allclose(sg.jacfwd(fn)(x), want, rtol=1e-5, atol=1e-6)
    j = sg.jacrev(fn)
    j(x)
    np.testing.assert_allclose(j(x), want, rtol=1e-5, atol=1e-6)


def test_parameter_written_into():
    """x[0] = ... rebinds x's tangent: its basis is not kept as the identity."""
    x = RNG.standard_normal(5)
    check_jacobians(written_into, (x.copy(),))
    check_jacobians(written_into, (x.copy(),))


def sum_of(fn):
    def loss(x):
        return np.sum(np.sin(fn(x)))
    return loss


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_hessians_against_finite_differences(fn):
    x = RNG.standard_normal(5)
    check_hessian(lambda x: np.sum(np.sin(fn(x))), (x,))


def logistic(w, X, s):
    return np.mean(np.logaddexp(0.0, -s * (X @ w))) + 0.5 * np.sum(w * w)


def test_logistic_hessian():
    w = RNG.standard_normal(4)
    X, s = RNG.standard_normal((7, 4)), np.sign(RNG.standard_normal(7))
    h = sg.hessian(logistic)
    got = check_hessian(logistic, (w, X, s))
    np.testing.assert_allclose(h(w, X, s), got)
    np.testing.assert_allclose(h(w * 2.0, X, s),  # another point, the same plan
                               numeric_jacobian(sg.grad(logistic), (w * 2.0, X, s), 0),
                               rtol=1e-5, atol=1e-5)


def smooth_of(x, W, b):
    return np.tanh(W @ x + b) * x


def test_diagonal_kept_and_shown():
    x = RNG.standard_normal(5)
    for make in (sg.jacfwd, sg.jacrev):
        j = make(smooth_of)
        np.testing.assert_allclose(j(x, W, 0.1), numeric_jacobian(smooth_of, (x, W, 0.1), 0),
                                   rtol=1e-5, atol=1e-6)
        text = sg.source(j).split("\n\n")[0]  # the forward-mode function
        assert "add_diagonal" in text and "bdiag" not in text, text


def test_float32_and_size_one():
    x = RNG.standard_normal(5).astype(np.float32)
    for make in (sg.jacfwd, sg.jacrev):
        assert make(lambda x: x * 2.0)(x).dtype == np.float32
        got = make(only_diagonal)(x)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, numeric_jacobian(only_diagonal, (x.astype(float),),
                                                         0), rtol=1e-3, atol=1e-3)
    one = np.array([0.3])
    check_jacobians(smooth_one, (one,))


def smooth_one(x):
    return np.tanh(x * 2.0) * x + x


def test_basis_left_unchanged():
    """The identity basis is shared between calls: nothing may write into it."""
    x = RNG.standard_normal(5)
    j = sg.jacfwd(lambda x: x + 0.0 * np.sum(x))
    first = j(x).copy()
    for _ in range(3):
        np.testing.assert_array_equal(j(x), first)
    np.testing.assert_allclose(first, np.eye(5))


def test_helpers():
    a, v = RNG.standard_normal((4, 4)), RNG.standard_normal(4)
    np.testing.assert_allclose(add_diagonal(a, v), a + np.diag(v))
    np.testing.assert_allclose(add_diagonal(a.T, v), a.T + np.diag(v))   # F order
    np.testing.assert_allclose(add_diagonal(a[:, ::-1], v), a[:, ::-1] + np.diag(v))
    np.testing.assert_allclose(add_diagonal(a[:1], v), a[:1] + np.diag(v))  # broadcast
    b = a.copy()
    add_diagonal(b, v)
    np.testing.assert_array_equal(b, a)  # not in place unless asked
    np.testing.assert_allclose(bdiag(v, 4), np.diag(v))
    np.testing.assert_allclose(bdiag(2.0, 3), 2.0 * np.eye(3))


def scaled_of(x, W, A):
    y = -x
    z = y * 3.0            # a diagonal of one value for all, into products with matrices
    u = np.tanh(x) * x     # a diagonal of n values
    return W @ z + x @ A + z @ W + A @ u + u @ W


def test_diagonal_into_matrix_products_of_arguments():
    """With the matrices as arguments their shapes are known: the products scale
    rows (a scalar diagonal, a vector one) instead of making the diagonal dense."""
    x = RNG.standard_normal(5)
    want = numeric_jacobian(scaled_of, (x, W, A), 0)
    for make in (sg.jacfwd, sg.jacrev):
        j = make(scaled_of)
        np.testing.assert_allclose(j(x, W, A), want, rtol=1e-5, atol=1e-6)
        assert "bdiag" not in sg.source(j).split("\n\n")[0]
    check_hessian(lambda x, W, A: np.sum(np.sin(scaled_of(x, W, A))), (x, W, A))


def matrix_param(w, X):
    return np.sum(np.tanh(X @ w) ** 2) + np.sum(w ** 3)


def test_matrix_parameter_planned():
    w, X = RNG.standard_normal((3, 2)), RNG.standard_normal((4, 3))
    h = sg.hessian(matrix_param)
    got = check_hessian(matrix_param, (w, X))
    np.testing.assert_allclose(h(w, X), got)   # the second call: planned
    for make in (sg.jacfwd, sg.jacrev):
        j = make(lambda w, X: np.tanh(X @ w) * 2.0)
        want = numeric_jacobian(lambda w, X: np.tanh(X @ w) * 2.0, (w, X), 0)
        np.testing.assert_allclose(j(w, X), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(j(w, X), want, rtol=1e-5, atol=1e-6)
