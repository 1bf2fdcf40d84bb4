"""Stable forms at extreme inputs: no nan/inf where the math is finite (issue 7)."""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import ops

BIG = np.array([-800.0, -100.0, -1.0, 0.0, 1.0, 100.0, 800.0])


def softplus_loss(x):
    return np.sum(np.logaddexp(0.0, x))


def log1p_loss(x):
    return np.sum(np.log1p(x * x))


def bce_loss(x):
    return ops.binary_cross_entropy_with_logits(x, np.zeros_like(x))


def logsumexp_loss(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def tanh_loss(x):
    return np.sum(np.tanh(x))


def sigmoid_loss(x):
    return np.sum(ops.sigmoid(x))


@pytest.mark.parametrize("fn, want", [
    (softplus_loss, lambda x: 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))),
    (log1p_loss, lambda x: 2 * x / (1 + x * x)),
    (bce_loss, lambda x: (1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))) / x.size),
    (logsumexp_loss, lambda x: np.exp(x - x.max()) / np.sum(np.exp(x - x.max()))),
    (tanh_loss, lambda x: 1.0 - np.tanh(x) ** 2),
    (sigmoid_loss, lambda x: np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))) ** 2),
])
def test_finite_gradients_at_extreme_inputs(fn, want):
    with np.errstate(over="raise", invalid="raise"):
        value, g = sg.value_and_grad(fn)(BIG)
    assert np.isfinite(value)
    assert np.all(np.isfinite(g)), g
    np.testing.assert_allclose(g, want(BIG), rtol=1e-10, atol=1e-300)


def test_bce_with_large_logits_value():
    x = np.array([-100.0, 100.0], np.float32)
    y = np.array([1.0, 0.0], np.float32)
    loss = ops.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss, [100.0, 100.0])
    g = sg.grad(lambda x: ops.binary_cross_entropy_with_logits(x, y))(x)
    np.testing.assert_allclose(g, [-0.5, 0.5])


def pow_operator(x, y):
    return np.sum(x ** y)


def pow_numpy(x, y):
    return np.sum(np.power(x, y))


def pow_ops(x, y):
    return ops.sum(ops.pow(x, y))


@pytest.mark.parametrize("fn", [pow_operator, pow_numpy, pow_ops])
def test_exponent_gradient_where_the_base_is_zero_or_negative(fn):
    # d(x**y)/dy = x**y log x: 0 at x == 0 (x**y is 0 there, y > 0), and no real
    # derivative for a negative base (an integer exponent keeps x**y real): nan, not 0
    x = np.array([0.0, 2.0, -2.0])
    y = np.array([2.0, 2.0, 2.0])
    with np.errstate(invalid="ignore"):
        gx, gy = sg.grad(fn, (0, 1))(x, y)
    np.testing.assert_allclose(gx, 2 * x)
    np.testing.assert_allclose(gy[:2], [0.0, 4 * np.log(2.0)])
    assert np.isnan(gy[2])


# x ** k with k = 0 at x = 0 (API fuzz seed 922: a polynomial by a loop over k, on
# relu outputs): the derivative of x ** 0 is 0, not 0 * inf = nan

def polynomial_by_loop(x):
    y = 0.0
    for k in range(3):
        y = y + (k + 1.0) * x ** k
    return np.sum(y)


def power_zero_of_float(x, k):
    return x ** k + x ** 3


def test_power_with_exponent_zero_at_zero():
    from sourcegrad.testing import check_grads
    check_grads(polynomial_by_loop, np.array([0.0, -0.5, 0.7]))
    check_grads(power_zero_of_float, 0.0, 0, wrt=0)   # Python floats: no ZeroDivisionError
    check_grads(power_zero_of_float, 1.5, 0, wrt=0)


def _complex_path(x):
    return np.real(np.exp(1j * x) * x)


@pytest.mark.parametrize("x", [0.3, np.float64(0.3), np.float32(0.3),
                               np.array([0.3, -1.2]), np.array([0.3, -1.2], np.float32)],
                         ids=["float", "float64", "float32", "array", "float32-array"])
def test_a_real_input_through_complex_values_gets_its_own_real_gradient(x):
    # the adjoint is complex inside; the input's gradient is its real part, in the
    # input's own type, and no ComplexWarning is raised for dropping the rest
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = sg.grad(summed_complex_path)(x)
    assert type(g) is type(x) and np.shape(g) == np.shape(x)
    assert np.result_type(g) == np.result_type(x)
    want = np.cos(x) - x * np.sin(x)
    assert np.allclose(g, want, rtol=1e-5)


def summed_complex_path(x):
    return np.sum(_complex_path(x))
