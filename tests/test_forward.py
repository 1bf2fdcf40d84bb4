"""Forward mode and Jacobians: jvp, vjp, jacfwd, jacrev, hessian.

Values are checked against central finite differences in float64 (the helpers
below build the Jacobian column by column from ``numeric_grad``-style
differences); return structures against the call shapes recorded from
MindSpore (the README's "Forward mode" section lists them).
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import nn, ops
from sourcegrad.testing import check_grads


# ------------------------------------------------------------------- helpers --

def numeric_jacobian(fn, args, position, eps=1e-6):
    """Central differences: ``J.shape == out.shape + args[position].shape``."""
    args = list(args)
    x = np.array(args[position], dtype=np.float64)
    out0 = np.asarray(fn(*args), dtype=np.float64)
    jac = np.zeros(out0.shape + x.shape)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        args[position] = x.copy()
        hi = np.asarray(fn(*args), dtype=np.float64)
        flat[i] = old - eps
        args[position] = x.copy()
        lo = np.asarray(fn(*args), dtype=np.float64)
        flat[i] = old
        jac.reshape(out0.shape + (-1,))[..., i] = (hi - lo) / (2 * eps)
    return jac


def check_jvp(fn, args, rng, rtol=1e-5, atol=1e-6):
    """jvp along random directions for every argument at once, against finite
    differences along the same directions."""
    vs = tuple(rng.standard_normal(np.shape(a)) for a in args)
    out, tangent = sg.jvp(fn, tuple(args), vs)
    eps = 1e-6
    hi = fn(*[a + eps * v for a, v in zip(args, vs)])
    lo = fn(*[a - eps * v for a, v in zip(args, vs)])
    want = (np.asarray(hi) - np.asarray(lo)) / (2 * eps)
    np.testing.assert_allclose(out, fn(*args), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, want, rtol=rtol, atol=atol)
    return tangent


def check_jacobians(fn, args, position=0, rtol=1e-5, atol=1e-6):
    want = numeric_jacobian(fn, args, position)
    for make in (sg.jacfwd, sg.jacrev):
        got = make(fn, grad_position=position)(*args)
        assert got.shape == want.shape, (make.__name__, got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=make.__name__)
    return want


def check_hessian(fn, args, position=0, rtol=1e-5, atol=1e-5):
    """The Hessian against finite differences of the (finite-difference checked)
    gradient."""
    check_grads(fn, *args, wrt=position)
    grad = sg.grad(fn, grad_position=position)
    want = numeric_jacobian(grad, args, position)
    got = sg.hessian(fn, grad_position=position)(*args)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    np.testing.assert_allclose(got, np.swapaxes(got.reshape(want.shape), 0, -1)
                               if got.ndim == 2 else got, rtol=1e-8, atol=1e-8)
    return got


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------- MindSpore's recorded calls --

def f(x, y):
    return np.sin(x) * y


def g1(a):
    return np.sin(a) * 2


def g2(a):
    return np.sum(a * a)


def g3(a):
    return np.sum(a ** 3)


X = np.array([1.0, 2.0], np.float32)
Y = np.array([3.0, 4.0], np.float32)
ONES = np.ones(2, np.float32)
ZEROS = np.zeros(2, np.float32)
TOL = dict(rtol=1e-4, atol=1e-4)


def _is_f32_array(a, shape):
    return isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == shape


def test_reference_jvp_single():
    got = sg.jvp(g1, X, ONES)
    assert type(got) is tuple and len(got) == 2
    assert _is_f32_array(got[0], (2,)) and _is_f32_array(got[1], (2,))
    np.testing.assert_allclose(got[0], [1.6828999519348145, 1.818600058555603], **TOL)
    np.testing.assert_allclose(got[1], [1.0806000232696533, -0.8323000073432922], **TOL)


def test_reference_jvp_tuple():
    got = sg.jvp(f, (X, Y), (ONES, ZEROS))
    assert type(got) is tuple and len(got) == 2
    np.testing.assert_allclose(got[0], [2.524399995803833, 3.637200117111206], **TOL)
    np.testing.assert_allclose(got[1], [1.62090003490448, -1.6646000146865845], **TOL)
    assert _is_f32_array(got[1], (2,))


def test_reference_vjp():
    out, fn = sg.vjp(f, X, Y)
    np.testing.assert_allclose(out, [2.524399995803833, 3.637200117111206], **TOL)
    got = fn(ONES)
    assert type(got) is tuple and len(got) == 2
    np.testing.assert_allclose(got[0], [1.62090003490448, -1.6646000146865845], **TOL)
    np.testing.assert_allclose(got[1], [0.8414999842643738, 0.9093000292778015], **TOL)
    assert _is_f32_array(got[0], (2,)) and _is_f32_array(got[1], (2,))


def test_reference_vjp_single_returns_a_tuple():
    _, fn = sg.vjp(g1, X)
    got = fn(ONES)
    assert type(got) is tuple and len(got) == 1
    np.testing.assert_allclose(got[0], [1.0806000232696533, -0.8323000073432922], **TOL)


def test_reference_jacfwd_pos0():
    got = sg.jacfwd(f)(X, Y)
    assert _is_f32_array(got, (2, 2))
    np.testing.assert_allclose(got, [[1.62090003490448, 0.0], [0.0, -1.6646000146865845]],
                               **TOL)


@pytest.mark.parametrize("make", [sg.jacfwd, sg.jacrev])
def test_reference_jacobians_of_two_positions(make):
    got = make(f, grad_position=(0, 1))(X, Y)
    assert type(got) is tuple and len(got) == 2
    assert _is_f32_array(got[0], (2, 2)) and _is_f32_array(got[1], (2, 2))
    np.testing.assert_allclose(got[0], [[1.62090003490448, 0.0], [0.0, -1.6646000146865845]],
                               **TOL)
    np.testing.assert_allclose(got[1], [[0.8414999842643738, 0.0], [0.0, 0.9093000292778015]],
                               **TOL)


def test_reference_jacrev_of_scalar_output():
    got = sg.jacrev(g2)(X)
    assert _is_f32_array(got, (2,))
    np.testing.assert_allclose(got, [2.0, 4.0], **TOL)


def test_reference_hessian_via_jacfwd_of_jacrev():
    got = sg.jacfwd(sg.jacrev(g3))(X)
    assert _is_f32_array(got, (2, 2))
    np.testing.assert_allclose(got, [[6.0, 0.0], [0.0, 12.0]], **TOL)
    np.testing.assert_allclose(sg.hessian(g3)(X), got, **TOL)


# -------------------------------------------------------- against differences --

def smooth(x, W):
    h = np.tanh(W @ x + 0.1)
    return h * x + np.exp(-x * x) * np.sum(h)


def test_jvp_and_jacobians_of_a_smooth_map(rng):
    x, W = rng.standard_normal(4), rng.standard_normal((4, 4))
    check_jvp(smooth, (x, W), rng)
    check_jacobians(smooth, (x, W), 0)
    check_jacobians(smooth, (x, W), 1)


def branches(x, t):
    if np.sum(x) > t:
        y = x * x
    else:
        y = np.sin(x)
    s = 0.0
    for i in range(3):
        s = s + y[i] * i
    k = 0
    while s < 5.0 and k < 4:
        s = s * 1.5 + np.sum(x)
        k += 1
    return s + y


@pytest.mark.parametrize("t", [-10.0, 10.0])
def test_control_flow(rng, t):
    x = rng.uniform(0.5, 1.0, 4)
    check_jvp(lambda x: branches(x, t), (x,), rng)
    check_jacobians(branches, (x, t))


def helper(a, b):
    return a * b, a + b


def with_calls(x, y):
    p, q = helper(x, y)
    t = [p, q]
    u = t[0] + t[1] * 2.0
    return np.sum(u ** 2) + closure_scale * u


closure_scale = 0.5


def test_calls_tuples_and_lists(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    check_jvp(with_calls, (x, y), rng)
    check_jacobians(with_calls, (x, y), 0)
    check_jacobians(with_calls, (x, y), 1)


def writes(x):
    y = np.zeros((2, 3))
    y[0] = x * 2.0
    y[1, 1:] = x[:2] ** 2
    z = y[:, 1] + y[0, 2]
    return np.concatenate([z, y.ravel()])


def test_subscripts_read_and_written(rng):
    x = rng.standard_normal(3)
    check_jvp(writes, (x,), rng)
    check_jacobians(writes, (x,))


def with_dict(params, x):
    h = np.tanh(params["w"] @ x + params["b"])
    out = {"h": h, "s": np.sum(h * h)}
    return out["s"] + np.sum(out["h"]) * params["c"]


def _params(rng):
    return {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(3), "c": 0.7}


def test_dict_input_jacobians_and_hessian(rng):
    p, x = _params(rng), rng.standard_normal(2)
    check_hessian(with_dict, (p, x), 1)
    jf = sg.jacfwd(with_dict)(p, x)
    jr = sg.jacrev(with_dict)(p, x)
    assert set(jf) == set(p) and set(jr) == set(p)
    for k in ("w", "b"):
        def of_leaf(v, k=k):
            q = dict(p)
            q[k] = v
            return with_dict(q, x)
        want = numeric_jacobian(of_leaf, (p[k],), 0)
        np.testing.assert_allclose(jf[k], want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(jr[k], want, rtol=1e-5, atol=1e-6)
    h = sg.hessian(with_dict)(p, x)
    assert set(h) == set(p) and set(h["w"]) == set(p)
    assert h["w"]["w"].shape == (3, 2, 3, 2) and h["w"]["b"].shape == (3, 2, 3)
    np.testing.assert_allclose(h["w"]["b"], np.moveaxis(h["b"]["w"], 0, -1), atol=1e-10)


def test_jvp_with_dict_input_and_output(rng):
    p, x = _params(rng), rng.standard_normal(2)

    def both(params, x):
        return {"y": np.tanh(params["w"] @ x), "z": params["c"] * x}

    v = {k: rng.standard_normal(np.shape(p[k])) for k in p}
    v["c"] = 0.3
    out, t = sg.jvp(both, (p, x), (v, np.zeros(2)))
    assert set(t) == {"y", "z"}
    eps = 1e-6
    hi = both({k: p[k] + eps * v[k] for k in p}, x)
    lo = both({k: p[k] - eps * v[k] for k in p}, x)
    for k in ("y", "z"):
        np.testing.assert_allclose(t[k], (hi[k] - lo[k]) / (2 * eps), rtol=1e-5, atol=1e-7)


# --------------------------------------------------------- networks ---------

class MLP(nn.Cell):
    def __init__(self, rng):
        super().__init__()
        self.l1 = nn.Dense(4, 8)
        self.l2 = nn.Dense(8, 3)
        for layer in (self.l1, self.l2):
            layer.weight[...] = rng.standard_normal(layer.weight.shape) * 0.5
            layer.bias[...] = rng.standard_normal(layer.bias.shape) * 0.1
        self.act = nn.Tanh()

    def construct(self, x):
        return self.l2(self.act(self.l1(x)))


def test_mlp_jacobians_and_hessian_of_its_loss(rng):
    net = MLP(rng)
    x = rng.standard_normal(4).astype(np.float32)
    jf = sg.jacfwd(net)(x)
    jr = sg.jacrev(net)(x)
    want = numeric_jacobian(lambda v: net(v.astype(np.float32)).astype(np.float64),
                            (x.astype(np.float64),), 0, eps=1e-3)
    assert jf.shape == (3, 4) and jf.dtype == np.float32
    np.testing.assert_allclose(jf, want, rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(jr, jf, rtol=1e-5, atol=1e-6)

    target = np.array([0.1, -0.2, 0.3])

    def loss(v):
        return ops.mse_loss(net(v), target)

    x64 = rng.standard_normal(4)
    for layer in (net.l1, net.l2):  # float64 weights for the finite differences
        layer.weight = sg.Parameter(layer.weight.astype(np.float64), name=layer.weight.name)
        layer.bias = sg.Parameter(layer.bias.astype(np.float64), name=layer.bias.name)
    check_hessian(loss, (x64,))


def rnn(x, h0, W, U):
    """A recurrent net that stops as soon as its state is large: a data-dependent break."""
    h = h0
    total = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + U * x[t])
        total = total + np.sum(h)
        if np.max(np.abs(h)) > 0.9:
            break
    return total * h


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_rnn_with_data_dependent_break(rng, scale):
    x = rng.standard_normal(6) * scale
    h0 = rng.standard_normal(3) * 0.1
    W = rng.standard_normal((3, 3)) * 0.5
    U = rng.standard_normal(3)
    for pos in range(4):
        check_jacobians(rnn, (x, h0, W, U), pos)
    check_hessian(lambda W: np.sum(rnn(x, h0, W, U) ** 2), (W,))


def test_tutorial_network():
    rng = np.random.default_rng(3)
    w = sg.Parameter(rng.standard_normal((5, 3)), name="w")
    b = sg.Parameter(rng.standard_normal(3), name="b")

    class Network(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = w
            self.b = b

        def construct(self, x):
            z = ops.matmul(x, self.w) + self.b
            return z

    model = Network()
    loss_fn = nn.BCEWithLogitsLoss()
    y = np.array([0.0, 1.0, 0.0])

    def forward_fn(x, y):
        z = model(x)
        loss = loss_fn(z, y)
        return loss

    x = rng.standard_normal(5)
    np.testing.assert_allclose(sg.jacfwd(model)(x), w.T, rtol=1e-12)
    np.testing.assert_allclose(sg.jacrev(model)(x), w.T, rtol=1e-12)
    check_jacobians(forward_fn, (x, y))
    check_hessian(forward_fn, (x, y))

    def function(x, y, w, b):
        z = ops.matmul(x, w) + b
        return ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))

    check_jacobians(function, (x, y, np.asarray(w), np.asarray(b)), 2)
    check_hessian(function, (x, y, np.asarray(w), np.asarray(b)), 3)


# ------------------------------------------------------------ composition ----

def test_jacfwd_of_jacrev_is_the_hessian(rng):
    x, W = rng.standard_normal(3), rng.standard_normal((3, 3))

    def scalar(x):
        return np.sum(smooth(x, W) ** 2)

    h = sg.jacfwd(sg.jacrev(scalar))(x)
    np.testing.assert_allclose(h, check_hessian(scalar, (x,)), rtol=1e-10, atol=1e-10)


def jvp_sum(x, v):
    return sg.jvp(smooth_x, x, v)[1].sum()


def smooth_x(x):
    return np.tanh(x) * np.sin(x) + x ** 3


def test_grad_of_jvp(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    check_grads(jvp_sum, x, v, wrt=0)


def test_jvp_of_grad_is_a_hessian_vector_product(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(4)

    def scalar(x):
        return np.sum(smooth_x(x) ** 2)

    g, hv = sg.jvp(sg.grad(scalar), x, v)
    np.testing.assert_allclose(g, sg.grad(scalar)(x), rtol=1e-12)
    h = check_hessian(scalar, (x,))
    np.testing.assert_allclose(hv, h @ v, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------ API details ----

def aux_fn(x):
    return np.sin(x), np.cos(x), 3


def test_has_aux_structures(rng):
    x, v = rng.standard_normal(2), rng.standard_normal(2)
    out, t, aux = sg.jvp(aux_fn, x, v, has_aux=True)
    np.testing.assert_allclose(t, np.cos(x) * v)
    assert isinstance(aux, tuple) and len(aux) == 2 and aux[1] == 3
    out, fn, aux = sg.vjp(aux_fn, x, has_aux=True)
    (gx,) = fn(v)
    np.testing.assert_allclose(gx, np.cos(x) * v)
    for make in (sg.jacfwd, sg.jacrev):
        j, aux = make(aux_fn, has_aux=True)(x)
        np.testing.assert_allclose(j, np.diag(np.cos(x)), atol=1e-12)
        np.testing.assert_allclose(aux[0], np.cos(x))


def tuple_out(x, y):
    return x * y, np.sum(x) * 2.0


def test_tuple_output_gives_tuple_of_tangents_and_jacobians(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    out, t = sg.jvp(tuple_out, (x, y), (np.ones(3), np.zeros(3)))
    assert isinstance(t, tuple) and len(t) == 2
    np.testing.assert_allclose(t[0], y)
    np.testing.assert_allclose(t[1], 6.0)
    j = sg.jacfwd(tuple_out)(x, y)
    assert isinstance(j, tuple) and j[0].shape == (3, 3) and j[1].shape == (3,)
    j2 = sg.jacfwd(tuple_out, grad_position=(0, 1))(x, y)
    assert isinstance(j2[0], tuple) and len(j2[0]) == 2  # output outside, positions inside


def test_python_float_input_gets_a_python_float_tangent():
    out, t = sg.jvp(lambda_free, 2.0, 1.0)
    assert type(t) is float or np.ndim(t) == 0
    np.testing.assert_allclose(t, 3 * 4.0)


def lambda_free(x):
    return x ** 3


def test_source_shows_the_forward_mode_code(rng):
    x, W = rng.standard_normal(3), rng.standard_normal((3, 3))
    jf = sg.jacfwd(smooth)
    jf(x, W)
    text = sg.source(jf)
    assert "def smooth_jvp(x, W, *, dx)" in text
    assert "dh = " in text  # tangents named after the primal's names
    h = sg.hessian(g3)
    h(np.ones(2))
    assert "g3_grad_jvp" in sg.source(h)


def test_argument_errors():
    with pytest.raises(TypeError, match="grad_position"):
        sg.jacfwd(f, grad_position="0")
    with pytest.raises(ValueError, match="out of range"):
        sg.jacfwd(f, grad_position=5)(X, Y)
    with pytest.raises(ValueError, match="one tangent per input"):
        sg.jvp(f, (X, Y), (ONES,))
    with pytest.raises(ValueError, match="shape"):
        sg.jvp(g1, X, np.ones(3))


class WithBprop(nn.Cell):
    def construct(self, x):
        return np.round(x * 3.0)

    def bprop(self, x, out, dout):
        return (dout * 3.0,)


WITH_BPROP = WithBprop()


def uses_unknown(x):
    return WITH_BPROP(x) * x


def test_missing_tangent_rule_is_a_clear_error():
    """The one construct without a tangent: a Cell's own bprop (reverse mode only)."""
    with pytest.raises(sg.NoDerivativeError, match="WithBprop, a Cell with its own bprop") \
            as info:
        sg.jvp(uses_unknown, np.ones(2), np.ones(2))
    assert "test_forward.py" in str(info.value)
    # jacrev runs reverse sweeps through bprop (one per output element)
    np.testing.assert_allclose(sg.jacrev(uses_unknown)(np.array([0.1, 0.2])),
                               np.diag(3.0 * np.array([0.1, 0.2]) + np.round([0.3, 0.6])))


def pops(x):
    stack = [x, 2.0 * x, x * x]
    total = 0.0
    for i in range(3):
        v = stack.pop()
        total = total + v * (i + 1.0)
    return total


def test_pop_in_a_loop_takes_a_new_item_each_time():
    # v = lst.pop() in a loop once read the same item every iteration (reverse mode too)
    check_grads(pops, 1.5)
    out, t = sg.jvp(pops, 1.5, 1.0)
    eps = 1e-6
    np.testing.assert_allclose(t, (pops(1.5 + eps) - pops(1.5 - eps)) / (2 * eps), rtol=1e-6)


def test_closures_and_lambdas(rng):
    scale = rng.standard_normal(3)

    def inner(x):
        return np.sin(x) * scale

    def outer(x):
        return inner(x) ** 2 + scale

    x = rng.standard_normal(3)
    check_jvp(outer, (x,), rng)
    check_jacobians(outer, (x,))


def test_vjp_with_weights():
    rng = np.random.default_rng(5)
    net = MLP(rng)
    x = rng.standard_normal(4).astype(np.float32)
    out, fn = sg.vjp(net, x, weights=net.trainable_params())
    v = np.ones(3, np.float32)
    ins, ws = fn(v)
    assert isinstance(ins, tuple) and len(ins) == 1 and ins[0].shape == (4,)
    assert len(ws) == len(net.trainable_params())
    want_x = sg.grad(net, sens_param=True)(x, v)
    np.testing.assert_allclose(ins[0], want_x, rtol=1e-6)
    want_w = sg.grad(net, grad_position=None, weights=net.trainable_params(),
                     sens_param=True)(x, v)
    for got, want in zip(ws, want_w):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)),
                                    ((2, 3, 4), (4, 2))])
def test_hessian_through_matmul_adjoints(rng, shapes):
    """Forward mode over the gradient of a matrix product, both operands varying: the
    tangents of matmul's adjoint helpers (batched, or one direction at a time)."""
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])

    def f(a, b):
        return np.sum(np.tanh(a @ b) ** 2)

    for pos in (0, 1):
        got = sg.hessian(f, grad_position=(0, 1))(a, b)
        grad = sg.grad(f, grad_position=pos)
        for other in (0, 1):
            want = numeric_jacobian(grad, (a, b), other)
            np.testing.assert_allclose(got[pos][other], want, rtol=1e-5, atol=1e-6)


OPS_UNARY = [ops.neg, ops.square, ops.sqrt, ops.abs, ops.exp, ops.log, ops.sin, ops.cos,
             ops.sigmoid, ops.relu, ops.tanh, ops.softplus, ops.tan, ops.atan, ops.sinh,
             ops.cosh, ops.log1p, ops.expm1, ops.rsqrt, ops.reciprocal, ops.leaky_relu,
             ops.silu, ops.elu, ops.relu6]


def apply_op(op, x):
    return op(x) * 1.5


@pytest.mark.parametrize("op", OPS_UNARY, ids=lambda o: o.__name__)
def test_ops_elementwise_tangents_on_arrays_and_floats(op):
    x = np.array([0.3, 0.7, 1.3])
    f = lambda v: apply_op(op, v)  # noqa: E731
    want = numeric_jacobian(f, (x,), 0)
    np.testing.assert_allclose(sg.jacfwd(apply_op, grad_position=1)(op, x), want,
                               rtol=1e-5, atol=1e-7)


def reciprocal_of_float(v):
    return ops.reciprocal(v) * 1.5


def test_a_python_float_through_an_op_that_casts_to_its_input():
    # the adjoint rule sums a Python float's adjoint; the tangent keeps each direction
    out, t = sg.jvp(reciprocal_of_float, 0.7, 2.0)
    np.testing.assert_allclose(t, -2.0 * 1.5 / 0.49, rtol=1e-6)
    j = sg.jacfwd(lambda_free_vec)(np.array([0.5, 2.0]))
    np.testing.assert_allclose(j, np.diag(-1.0 / np.array([0.25, 4.0])), rtol=1e-6)


def lambda_free_vec(v):
    return ops.reciprocal(v)


def test_ops_cast_and_losses(rng):
    x = rng.standard_normal(4)
    y = np.array([0.0, 1.0, 1.0, 0.0])

    def losses(x):
        c = ops.cast(x, np.float64)
        return (ops.mse_loss(c, y) + ops.binary_cross_entropy_with_logits(c, y)
                + ops.l1_loss(c * 2.0, y) + ops.binary_cross_entropy(ops.sigmoid(c), y))

    check_jacobians(losses, (x,))
    check_hessian(losses, (x,))


def test_jacrev_of_jacrev_and_grad_of_jacrev(rng):
    x = rng.standard_normal(3)
    h = sg.jacrev(sg.jacrev(g3))(x)
    np.testing.assert_allclose(h, np.diag(6.0 * x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sg.grad(sg.jacrev(g3))(x), 6.0 * x, rtol=1e-12)


def test_hessian_of_a_vector_function_is_refused():
    with pytest.raises(ValueError, match="scalar"):
        sg.hessian(g1)(X)
    # jacfwd(jacfwd(f)) is the way (tests/test_forward_compositions.py checks it)
    assert sg.jacfwd(sg.jacfwd(g1))(X).shape == np.shape(X) * 3


def test_forward_derivatives_are_freed_with_their_function():
    import gc
    import weakref
    from sourcegrad.testing import load_source
    import tempfile
    import os
    with tempfile.TemporaryDirectory() as tmp:
        mod = load_source(os.path.join(tmp, "fwd_mem.py"),
                          "import numpy as np\ndef f(x):\n    return np.sin(x) * x\n")
        f = mod.f
        x = np.array([0.5, 1.5])
        sg.jacfwd(f)(x)
        sg.jvp(f, x, np.ones(2))
        ref = weakref.ref(f)
        del f, mod.f
        gc.collect()
        assert ref() is None, "the forward-mode cache kept the function alive"
    cell = nn.Dense(3, 2)  # a Cell: the callable is also the object its code is bound to
    sg.jacfwd(cell)(np.ones(3, np.float32))
    ref = weakref.ref(cell)
    del cell
    gc.collect()
    assert ref() is None, "the forward-mode cache kept the Cell alive"


# -- a decorator's wrapper (def wrapper(*args, **kwargs)): forward mode read its *args
# with the wrapped function's signature and gave a zero tangent, silently, once

def _doubled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


@_doubled
def _wrapped_two(x, y):
    return np.sin(x) * y


def test_forward_mode_through_a_decorators_wrapper():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    check_jvp(_wrapped_two, (x, y), rng)
    check_jacobians(_wrapped_two, (x, y), position=1)
    h = sg.hessian(lambda v: np.sum(_wrapped_two(v, y)))(x)
    np.testing.assert_allclose(h, np.diag(-2.0 * np.sin(x) * y), atol=1e-12)


# -- lists and tuples in forward mode: concatenated (a constant one with another), or
# passed to a NumPy function as the array they are (np.sum([a, b])); both once gave
# wrong tangents (fuzzgen --forward)

def _constant_tuple_concatenated(x, y):
    items = (0.365,) + (y * y, np.tanh(x))
    t = 0.0
    for v in items:
        t = t + v
    return t * items[1]


def _lists_to_numpy(x, y):
    pair = (x, x * y)
    return np.sum(pair) + np.mean([x, y * 3.0]) * np.prod((x, y)) + np.sum(np.stack([x, y]))


@pytest.mark.parametrize("fn", [_constant_tuple_concatenated, _lists_to_numpy])
def test_forward_mode_of_lists(fn):
    rng = np.random.default_rng(6)
    for args in [(0.7, -0.4), (rng.standard_normal(3), rng.standard_normal(3))]:
        check_jvp(fn, args, rng)
        check_grads(fn, *args)


def _constant_then_varied(x):
    c = np.cos(np.arange(3.0) * 0.6).reshape((3,))  # a constant, by a method call
    for _ in range(2):
        c = 0.5 * c + np.sin(x)  # ... that the loop makes vary
    return np.sum(c * x)


def test_forward_mode_of_a_name_first_bound_to_a_constant_method_call():
    """The first binding's tangent is zero: it used to ask for the forward mode of
    ndarray.reshape at run time (refused)."""
    rng = np.random.default_rng(7)
    check_jvp(_constant_then_varied, (rng.standard_normal(3),), rng)


def _list_on_one_path(x, y):
    if np.sum(x) > -100.0:
        y = [y, y * 2.0]
    return np.sum(y) + np.mean(np.sin(y))


def test_forward_mode_of_a_name_that_is_a_list_on_one_path():
    """np.sum(y) where y is a list on one path only (fuzzgen --forward: the item
    tangents were summed as an array's)."""
    rng = np.random.default_rng(8)
    check_jvp(_list_on_one_path, (rng.standard_normal(2), rng.standard_normal(3)), rng)
