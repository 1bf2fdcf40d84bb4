"""Higher order: grad of grad, grad of a function calling grad, Hessian-vector products."""
import functools

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads

X = np.array([0.3, -0.8, 1.4])

V = np.array([0.5, 1.0, -2.0])


def cube(a):
    return a * a * a


def sin_s(a):
    return np.sin(a)


def exp_s(a):
    return np.exp(a * 2.0)


def prod2(a, b):
    return a * a * b + np.sin(a * b)


def poly_branch(a):
    if a > 0:
        return a ** 4
    return -a ** 3


@pytest.mark.parametrize("fn, d2", [
    (cube, lambda a: 6 * a),
    (sin_s, lambda a: -np.sin(a)),
    (exp_s, lambda a: 4 * np.exp(2 * a)),
])
@pytest.mark.parametrize("a", [0.7, -1.3])
def test_second_derivative_scalar(fn, d2, a):
    g2 = sg.grad(sg.grad(fn))
    np.testing.assert_allclose(g2(a), d2(a), rtol=1e-10)


@pytest.mark.parametrize("fn", [cube, sin_s, exp_s])
def test_second_derivative_matches_fd_of_first(fn):
    check_grads(sg.grad(fn), 0.9)


def test_third_derivative_of_cube():
    g3 = sg.grad(sg.grad(sg.grad(cube)))
    np.testing.assert_allclose(g3(1.7), 6.0)


@pytest.mark.parametrize("a", [0.8, -0.8])
def test_second_derivative_through_branch(a):
    want = 12 * a * a if a > 0 else -6 * a
    np.testing.assert_allclose(sg.grad(sg.grad(poly_branch))(a), want)


def scalar_loop(a):
    y = a
    for i in range(2):
        y = np.sin(y)
    return y


def dot_self(x):
    return np.dot(x, x)


def test_second_derivative_through_loop():
    check_grads(sg.grad(scalar_loop), 0.4)


def test_second_derivative_of_dot():
    np.testing.assert_allclose(sg.grad(sg.grad(dot_self))(X), 2.0 * np.ones(3))


def test_second_derivative_of_matmul():
    M = np.array([[0.3, 0.1], [-0.4, 0.9]])
    check_grads(sg.grad(lambda m: np.sum(np.matmul(m, m))), M)


def test_mixed_partials():
    a, b = 0.6, -1.1
    d_da = sg.grad(prod2, 0)
    d_db = sg.grad(prod2, 1)
    # d/db d/da = 2a + cos(ab) - ab sin(ab)
    want = 2 * a + np.cos(a * b) - a * b * np.sin(a * b)
    np.testing.assert_allclose(sg.grad(d_da, 1)(a, b), want)
    np.testing.assert_allclose(sg.grad(d_db, 0)(a, b), want)
    # d2/da2 = 2b - b^2 sin(ab)
    np.testing.assert_allclose(sg.grad(d_da, 0)(a, b), 2 * b - b * b * np.sin(a * b))


def test_mixed_partials_tuple_positions_fd():
    check_grads(sg.grad(prod2, 0), 0.6, -1.1)
    check_grads(sg.grad(prod2, 1), 0.6, -1.1)


# -- array functions: Hessian-vector products ----------------------------------------------------

def energy(x):
    return np.sum(np.sin(x) * x ** 2) + np.sum(x) ** 2


def quad(x):
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
    return 0.5 * np.dot(x, np.matmul(A, x))


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def with_loop(x):
    y = x
    for i in range(3):
        y = np.tanh(y) * x
    return np.sum(y)


def with_branch(x):
    if np.sum(x) > 0:
        return np.sum(x ** 3)
    return np.sum(np.exp(x))


def hvp_by_grad_of_dot(f):
    gf = sg.grad(f)

    def gdotv(x, v):
        return np.sum(gf(x) * v)

    return sg.grad(gdotv, 0)


def fd_hvp(f, x, v, eps=1e-5):
    gf = sg.grad(f)
    return (gf(x + eps * v) - gf(x - eps * v)) / (2 * eps)




SECOND_ORDER_CASES = [energy, quad, logsumexp,
                      with_loop]


@pytest.mark.parametrize("f", SECOND_ORDER_CASES)
def test_hvp_as_grad_of_grad_with_ones_seed(f):
    # grad(grad(f)) seeds the inner gradient with ones: H @ ones
    got = sg.grad(sg.grad(f))(X)
    np.testing.assert_allclose(got, fd_hvp(f, X, np.ones(3)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f", SECOND_ORDER_CASES)
def test_hvp_as_grad_of_grad_with_sens(f):
    got = sg.grad(sg.grad(f), sens_param=True)(X, V)
    np.testing.assert_allclose(got, fd_hvp(f, X, V), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x", [X, -X - 1.0])
def test_hvp_grad_of_grad_through_branch(x):
    got = sg.grad(sg.grad(with_branch), sens_param=True)(x, V)
    np.testing.assert_allclose(got, fd_hvp(with_branch, x, V), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f", [energy, quad, logsumexp, with_loop])
def test_hvp_against_fd_of_gradient(f):
    got = hvp_by_grad_of_dot(f)(X, V)
    np.testing.assert_allclose(got, fd_hvp(f, X, V), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x", [X, -X - 1.0])
def test_hvp_through_branch(x):
    got = hvp_by_grad_of_dot(with_branch)(x, V)
    np.testing.assert_allclose(got, fd_hvp(with_branch, x, V), rtol=1e-5, atol=1e-6)


def test_hvp_of_quadratic_is_exact():
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
    np.testing.assert_allclose(hvp_by_grad_of_dot(quad)(X, V), A @ V)


# -- a function that calls grad inside ---------------------------------------------------

d_energy = sg.grad(energy)


def calls_grad_inside(x):
    g = d_energy(x)
    return np.sum(g * g)


def calls_grad_inside_with_weights(x, v):
    return np.sum(d_energy(x) * v) + np.sum(x * v)


def newton_step_loss(x):
    g = sg.grad(cube)(x)
    return x - g * 0.1


def test_grad_of_function_calling_grad():
    check_grads(calls_grad_inside, X)


def test_grad_of_function_calling_grad_two_args():
    check_grads(calls_grad_inside_with_weights, X, V)


def test_grad_made_inside_differentiated_function():
    check_grads(newton_step_loss, 0.7)


def test_generated_source_of_second_order_compiles():
    g2 = sg.grad(sg.grad(cube))
    src = sg.source(g2)
    compile(src, "<g2>", "exec")
    assert "def " in src


def test_value_and_grad_of_grad():
    v, g = sg.value_and_grad(sg.grad(cube))(1.5)
    np.testing.assert_allclose(v, 3 * 1.5 ** 2)
    np.testing.assert_allclose(g, 6 * 1.5)


# -- second order through rules whose helpers once used `with np.errstate` ----------------

def power_const_exponent(a):
    return np.power(a, 2.5)


def power_const_base(a):
    return np.power(1.7, a)


def power_zero_exponent(a):
    return np.power(a, 0.0)


def norm_of(x):
    return np.linalg.norm(x * 2.0)


def test_second_derivative_of_power():
    np.testing.assert_allclose(sg.grad(sg.grad(power_const_exponent))(1.3),
                               2.5 * 1.5 * 1.3 ** 0.5)
    np.testing.assert_allclose(sg.grad(sg.grad(power_const_base))(0.4),
                               np.log(1.7) ** 2 * 1.7 ** 0.4)


def test_second_derivative_of_power_zero_exponent_at_zero():
    assert sg.grad(power_zero_exponent)(0.0) == 0.0
    assert sg.grad(sg.grad(power_zero_exponent))(0.0) == 0.0


def test_gradient_of_norm_gradient():
    check_grads(lambda x: np.sum(np.sin(sg.grad(norm_of)(x))), X)


# -- second order through primals returning tuples, and through sequence inputs ---------

def logdet_sum(m):
    return np.sum(np.linalg.slogdet(m)[1])


def svd_parts(m):
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    return np.sum(np.sin(u)) + np.sum(np.sin(s)) + np.sum(np.cos(vt))


def sines_of_two(seq):
    return np.sum(np.sin(seq[0])) + np.sum(np.cos(seq[1]))


def grad_of_sequence_input(a, b, c):
    g = sg.grad(sines_of_two)([a, b, c])
    return np.sum(g[0] * g[1][0]) + np.sum(np.sin(g[1]))


_SPD = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.8]])


def test_gradient_of_slogdet_gradient():
    check_grads(lambda m: np.sum(np.sin(sg.grad(logdet_sum)(m))), np.stack([_SPD, 2 * _SPD]))


def test_gradient_of_svd_gradient():
    M = np.array([[0.3, -0.8, 1.4], [0.9, 0.2, -0.5], [1.1, 0.4, 0.6], [-0.7, 1.3, 0.2]])
    check_grads(lambda m: np.sum(sg.grad(svd_parts)(m) ** 2), M)


def test_gradient_through_grad_of_a_list_input():
    check_grads(grad_of_sequence_input, X, X[:2] + 0.5, np.array([[0.2, -0.3]]))


def first_squared(seq):
    return np.sum(seq[0] ** 2 * seq[2])


def uses_every_item_gradient(a, b, c):
    # b is not read by first_squared: its gradient is zeros inside differentiated
    # code too, as at top level (not None)
    ga, gb, gc = sg.grad(first_squared)((a, b, c))
    return np.sum(ga * c + gb * a + gc * gc)


def test_unread_items_of_an_inner_gradient_are_zeros():
    a, b, c = X[:2], X[:2] + 0.5, np.array([0.2, -0.3])
    check_grads(uses_every_item_gradient, a, b, c)
    zero = sg.grad(first_squared)([a, b, c])[1]
    assert isinstance(zero, np.ndarray) and not zero.any()
    check_grads(lambda x: np.sum(sg.grad(lambda v: v[0] ** 3)(x) * x), X)  # array x[0]


# --------------------------------------------------------------------------
# higher order through Cells and calls resolved at run time (MindSpore's
# "high-order derivation" tutorial: grad(grad(net)) on a Cell calling ops.Sin())
# --------------------------------------------------------------------------
from sourcegrad import nn, ops  # noqa: E402
from sourcegrad.testing import numeric_grad  # noqa: E402


class SinCell(nn.Cell):
    def construct(self, a):
        return ops.sin(a)


class SinPrimCell(nn.Cell):
    def __init__(self):
        super().__init__()
        self.sin = ops.Sin()

    def construct(self, a):
        return self.sin(a)


class SinCosPrimCell(nn.Cell):
    def __init__(self):
        super().__init__()
        self.sin = ops.Sin()
        self.cos = ops.Cos()

    def construct(self, a, b):
        return self.sin(a) - self.cos(b), self.cos(a) - self.sin(b)


class TwoDense(nn.Cell):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(3)
        self.l1 = nn.Dense(2, 5, activation="tanh")
        self.l2 = nn.Dense(5, 1)
        for p in self.trainable_params():
            p[...] = rng.normal(size=p.shape)

    def construct(self, a):
        return self.l2(self.l1(a))


def test_grad_of_grad_of_a_cell():
    # the Cell's gradient takes the Cell first: grad(grad(cell)) used to lose it
    np.testing.assert_allclose(sg.grad(sg.grad(SinCell()))(X), -np.sin(X))


def test_grad_of_grad_through_a_primitive_object():
    np.testing.assert_allclose(sg.grad(sg.grad(SinPrimCell()))(X), -np.sin(X))
    np.testing.assert_allclose(sg.grad(sg.grad(sg.grad(SinPrimCell())))(X), -np.cos(X))


def test_grad_of_grad_two_inputs_two_outputs():
    # the tutorial's numbers: d2/dx2 = -sin x - cos x, d2/dy2 = sin y + cos y
    x = np.array([3.1415926])
    gx, gy = sg.grad(sg.grad(SinCosPrimCell(), (0, 1)), (0, 1))(x, x)
    np.testing.assert_allclose(gx, -np.sin(x) - np.cos(x))
    np.testing.assert_allclose(gy, np.sin(x) + np.cos(x))


def test_second_order_through_sub_cells_matches_finite_differences():
    net = TwoDense()
    g1 = sg.grad(net)

    def penalty(a):
        return np.sum(g1(a) ** 2)

    a = np.array([[0.2, -0.4], [1.1, 0.3], [-0.7, 0.9]])
    np.testing.assert_allclose(sg.grad(penalty)(a), numeric_grad(penalty, (a,), 0),
                               rtol=1e-5, atol=1e-7)


def test_cell_gradient_called_inside_differentiated_code():
    g_cell = sg.grad(SinCell())
    np.testing.assert_allclose(sg.grad(lambda a: np.sum(g_cell(a)))(X), -np.sin(X))


def test_gradient_with_sens_param_called_inside_differentiated_code():
    g_sens = sg.grad(lambda a: np.sin(a), sens_param=True)
    s = np.array([2.0, -1.0, 0.5])
    np.testing.assert_allclose(sg.grad(lambda a: np.sum(g_sens(a, s)))(X), -s * np.sin(X))


def test_weight_gradient_of_a_loss_on_the_input_gradient():
    # PINN-style: the loss reads d(net)/dx; its gradient w.r.t. the weights goes
    # through the input gradient's derivative (a sub-cell called at run time)
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            rng = np.random.default_rng(1)
            self.l1 = nn.Dense(1, 4, activation="tanh", dtype=np.float64)
            self.l2 = nn.Dense(4, 1, dtype=np.float64)
            for p in self.trainable_params():
                p[...] = rng.normal(size=p.shape)

        def construct(self, a):
            return self.l2(self.l1(a))

    net = Net()
    du = sg.grad(net)

    def loss(a):
        return np.mean((du(a) - np.cos(a)) ** 2) + np.mean(net(a) ** 2)

    a = np.linspace(-1, 1, 5).reshape(5, 1)
    params = net.trainable_params()
    _, grads = sg.value_and_grad(loss, None, params)(a)
    for p, g in zip(params, grads):
        want = np.zeros(p.shape)
        flat, wflat = p.reshape(-1), want.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + 1e-6
            hi = loss(a)
            flat[i] = old - 1e-6
            lo = loss(a)
            flat[i] = old
            wflat[i] = (hi - lo) / 2e-6
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-8, err_msg=p.name)


def test_second_order_through_a_sequential_cell():
    rng = np.random.default_rng(0)
    net = nn.SequentialCell(nn.Dense(2, 4, dtype=np.float64), nn.Tanh(),
                            nn.Dense(4, 1, dtype=np.float64))
    for p in net.trainable_params():
        p[...] = rng.normal(size=p.shape)
    g1 = sg.grad(net)

    def h(a):
        return np.sum(g1(a) ** 3)

    a = rng.normal(size=(3, 2))
    np.testing.assert_allclose(sg.grad(h)(a), numeric_grad(h, (a,), 0), rtol=1e-5, atol=1e-8)


def test_second_order_through_a_dense_layer_with_activation():
    # Dense calls its activation through an attribute (self.activation(y)): a call
    # resolved at run time inside a callee, which grad of grad must differentiate again
    layer = nn.Dense(3, 2, weight_init=np.array([[-1.3, 0.8, 0.1], [1.1, -0.7, 0.2]]),
                     bias_init=np.array([-0.5, 0.7]), activation="tanh", dtype=np.float64)

    def f(x):
        return np.sum(layer(x))

    g1 = sg.grad(f)

    def h(x):
        return np.sum(g1(x))

    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(sg.grad(g1)(x), numeric_grad(h, (x,), 0), rtol=1e-5, atol=1e-8)


# writes into arrays, lists and dicts: the derivative saves and restores the items
# it overwrites (save_item/restore_item, set_entry), and those helpers have rules
def writes_in_a_loop(v):
    w = v * 1.0
    for i in range(1, 3):
        w[i] = w[i - 1] * v[i]
    return np.sum(w ** 2)


def writes_into_a_list(v):
    lst = [v[0], v[1]]
    lst[0] = lst[1] * v[2]
    return lst[0] * lst[1]


def writes_into_a_dict(v):
    d = {"a": v[0]}
    d["b"] = d["a"] * v[1]
    d["a"] = d["b"] ** 2
    return d["a"] + d["b"]


def writes_rows_and_updates(v):
    w = np.zeros((2, 3))
    w[0] = v
    w[1, :] += v ** 2
    return np.sum(w * w)


def array_written_into_itself(v):
    w = v * 1.0
    w[::-1] = w
    return np.sum(w * np.arange(3.0) * v)


WRITES = [writes_in_a_loop, writes_into_a_list, writes_into_a_dict,
          writes_rows_and_updates, array_written_into_itself]


@pytest.mark.parametrize("inner", WRITES, ids=[f.__name__ for f in WRITES])
def test_second_derivative_through_writes(inner):
    g = sg.grad(inner)

    def outer(v):
        return np.sum(g(v) ** 2)

    check_grads(outer, X)


@pytest.mark.parametrize("inner", WRITES, ids=[f.__name__ for f in WRITES])
def test_hessian_through_writes(inner):
    # forward over reverse: the tangents of save_item/restore_item/set_entry
    h = sg.hessian(inner)(X)
    g = sg.grad(inner)
    eps = 1e-6
    fd = np.stack([(g(X + eps * e) - g(X - eps * e)) / (2 * eps) for e in np.eye(3)], 1)
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-6)


def _appended_in_loop(x):
    items = []
    for i in range(3):
        items.append(x * i)
    return np.sum(items[2] * items[1])


def test_hessian_through_a_list_built_by_append():
    """Forward over reverse of a list's adjoint whose items carry no tangent yet (the
    number of directions was unknown there once: a TypeError)."""
    x = np.array([0.5, -0.3, 0.9])
    g = sg.grad(_appended_in_loop)
    want = np.array([(g(x + 1e-6 * e) - g(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(sg.hessian(_appended_in_loop)(x), want, atol=1e-5)


def _loop_over_an_array(x):
    out = []
    for v in x:
        out.append(v * v)
    return np.sum(np.array(out) * x) + np.sum(np.array(list(x)) ** 3)


def test_hessian_through_a_loop_over_an_array_and_list_of_it():
    """sequence_adjoint and list_adjoint (a loop over an array's rows, list(x)) in the
    gradient have tangent rules: forward over reverse once refused them."""
    x = np.array([0.5, 1.2, -0.3])
    g = sg.grad(_loop_over_an_array)
    want = np.array([(g(x + 1e-6 * e) - g(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(sg.hessian(_loop_over_an_array)(x), want, atol=1e-5)


def _doubling(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


@_doubling
def _decorated(x):
    return np.sum(np.sin(x) ** 2)


def test_gradient_of_a_decorators_wrapper_composes():
    """The gradient of a wrapper taking *args, differentiated again (jvp, jacfwd,
    grad of grad): its *args gets the call's number of arguments (it was refused)."""
    x = np.array([0.3, -0.5])
    want = np.diag(4.0 * np.cos(2 * x))
    g = sg.grad(_decorated)
    np.testing.assert_allclose(sg.jvp(g, (x,), (np.ones(2),))[1], want @ np.ones(2))
    np.testing.assert_allclose(sg.jacfwd(g)(x), want)
    np.testing.assert_allclose(sg.grad(lambda v: np.sum(sg.grad(_decorated)(v)))(x),
                               want @ np.ones(2))
