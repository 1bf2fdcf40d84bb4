"""Objects: nn.Cell with Parameters and sub-cells, weights found anywhere in
the call tree, closures, module globals, lambdas, plain-class methods."""
import inspect
import types

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import nn, Parameter
from sourcegrad.testing import check_grads, numeric_grad

X = np.array([0.3, -0.8, 1.4])
M = np.array([[0.3, -0.8, 1.4], [0.5, 0.1, -0.6]])


def fd_weight_grad(fn, args, param, eps=1e-6):
    """Central differences of sum(fn(*args)) w.r.t. a Parameter, perturbed in place."""
    g = np.zeros(param.shape)
    flat = param.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        hi = float(np.sum(fn(*args)))
        flat[i] = old - eps
        lo = float(np.sum(fn(*args)))
        flat[i] = old
        gflat[i] = (hi - lo) / (2 * eps)
    return g


def check_weights(fn, args, params):
    got = sg.grad(fn, None, weights=tuple(params))(*args)
    assert isinstance(got, tuple) and len(got) == len(params)
    for p, g in zip(params, got):
        want = fd_weight_grad(fn, args, p)
        assert np.shape(g) == p.shape, p.name
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6, err_msg=p.name)
    return got


def P(shape, seed, name=None):
    rng = np.random.default_rng(seed)
    return Parameter(rng.normal(size=shape), name=name)


# -- nn.Cell ------------------------------------------------------------------------------

class Affine(nn.Cell):
    def __init__(self, n_in, n_out, seed):
        super().__init__()
        self.w = P((n_in, n_out), seed)
        self.b = P((n_out,), seed + 1)

    def construct(self, x):
        return np.matmul(x, self.w) + self.b


class TwoLayer(nn.Cell):
    def __init__(self):
        super().__init__()
        self.layer1 = Affine(3, 4, 10)
        self.layer2 = Affine(4, 2, 20)
        self.scale = P((2,), 30)

    def construct(self, x):
        h = np.tanh(self.layer1(x))
        return self.layer2(h) * self.scale


class SharedLayer(nn.Cell):
    """The same sub-cell applied twice."""

    def __init__(self):
        super().__init__()
        self.layer = Affine(3, 3, 40)

    def construct(self, x):
        return self.layer(np.sin(self.layer(x)))


class WithHelperMethod(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = P((3,), 50)
        self.v = P((3,), 51)

    def act(self, z):
        return z * np.tanh(z * self.v)

    def construct(self, x):
        return self.act(x * self.w)


class CellWithLoop(nn.Cell):
    def __init__(self):
        super().__init__()
        self.layers = [Affine(3, 3, 60), Affine(3, 3, 61)]
        self.w = P((3,), 62)

    def construct(self, x):
        h = x
        for layer in self.layers:
            h = np.tanh(layer(h))
        return h * self.w


class CellWithBranch(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = P((3,), 70)

    def construct(self, x):
        if np.sum(x * self.w) > 0:
            return np.exp(x * self.w)
        return x * self.w * self.w


def loss_of(model, x):
    return np.sum(model(x) ** 2)


MODEL = TwoLayer()


def loss_global_model(x):
    return np.sum(MODEL(x) ** 2)


def test_cell_input_gradient():
    check_grads(loss_global_model, M)


def test_cell_input_gradient_model_as_argument():
    check_grads(loss_of, TwoLayer(), M, wrt=1)


def test_trainable_params_found_in_subcells():
    params = MODEL.trainable_params()
    # MindSpore order: the cell's own Parameters, then each sub-cell's
    assert [p.name for p in params] == ["scale", "layer1.w", "layer1.b", "layer2.w", "layer2.b"]
    check_weights(loss_global_model, (M,), params)


def test_trainable_params_model_passed_as_argument():
    model = TwoLayer()
    check_weights(loss_of, (model, M), model.trainable_params())


def test_cell_called_directly_weights():
    model = TwoLayer()
    got = sg.grad(model, None, weights=model.trainable_params())(M)
    for p, g in zip(model.trainable_params(), got):
        np.testing.assert_allclose(g, fd_weight_grad(model, (M,), p), rtol=1e-5, atol=1e-6)


def test_shared_sub_cell_accumulates():
    model = SharedLayer()
    check_weights(loss_of, (model, M), model.trainable_params())
    check_grads(loss_of, model, M, wrt=1)


def test_cell_helper_method_reads_parameters():
    model = WithHelperMethod()
    check_weights(loss_of, (model, X), model.trainable_params())
    check_grads(loss_of, model, X, wrt=1)


def test_cell_loops_over_list_of_sub_cells():
    model = CellWithLoop()
    check_grads(loss_of, model, X, wrt=1)
    # sub-cells kept in a plain list are not registered: only w is trainable
    check_weights(loss_of, (model, X), [model.w] + [c.w for c in model.layers])


@pytest.mark.parametrize("x", [np.array([1.0, 1.0, 1.0]), np.array([-1.0, -1.0, -1.0])])
def test_cell_with_data_dependent_branch(x):
    model = CellWithBranch()
    w = model.w
    w[...] = np.abs(w)
    check_weights(loss_of, (model, x), [w])
    check_grads(loss_of, model, x, wrt=1)


def test_weights_and_inputs_together():
    model = TwoLayer()
    (gx,), gw = sg.grad(loss_of, (1,), weights=model.trainable_params())(model, M)
    np.testing.assert_allclose(gx, numeric_grad(loss_of, (model, M), 1), rtol=1e-5, atol=1e-6)
    for p, g in zip(model.trainable_params(), gw):
        np.testing.assert_allclose(g, fd_weight_grad(loss_of, (model, M), p), rtol=1e-5,
                                   atol=1e-6)


def test_frozen_parameter_gets_zeros():
    model = TwoLayer()
    model.scale.requires_grad = False
    params = (model.layer1.w, model.scale)
    got = sg.grad(loss_of, None, weights=params)(model, M)
    np.testing.assert_allclose(got[0], fd_weight_grad(loss_of, (model, M), model.layer1.w),
                               rtol=1e-5, atol=1e-6)
    assert np.all(got[1] == 0) and got[1].shape == (2,)


def test_builtin_layers_sequential():
    model = nn.SequentialCell(nn.Dense(3, 4, activation="tanh"), nn.Dense(4, 2))
    for p in model.trainable_params():
        p[...] = p.astype(np.float64)
    # Dense params are float32; check in float32-tolerant way via float64 inputs
    got = sg.grad(loss_of, None, weights=model.trainable_params())(model, M)
    for p, g in zip(model.trainable_params(), got):
        want = fd_weight_grad(loss_of, (model, M), p, eps=1e-3)
        np.testing.assert_allclose(g, want, rtol=2e-2, atol=2e-3)


# -- Parameters read in helper functions and globals --------------------------------------

GW = P((3,), 80, name="gw")
GV = P((3,), 81, name="gv")


def reads_global_param(v):
    return v * GW


def uses_param_in_helper(x):
    return np.sum(np.sin(reads_global_param(x)) * GV)


def two_deep(v):
    return reads_global_param(v) + GV * v


def uses_param_two_deep(x):
    return np.sum(two_deep(x) ** 2)


def test_weights_found_in_helper_functions():
    check_weights(uses_param_in_helper, (X,), [GW, GV])


def test_weights_found_two_calls_deep():
    check_weights(uses_param_two_deep, (X,), [GW, GV])


def test_single_weight_comes_back_bare():
    g = sg.grad(uses_param_in_helper, None, weights=GW)(X)
    assert isinstance(g, np.ndarray) and g.shape == (3,)
    np.testing.assert_allclose(g, fd_weight_grad(uses_param_in_helper, (X,), GW), rtol=1e-5)


class CellCallsHelper(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = P((3,), 90)

    def construct(self, x):
        return reads_global_param(x * self.w)


def test_weights_in_cell_and_in_global_helper():
    model = CellCallsHelper()
    check_weights(loss_of, (model, X), [model.w, GW])


FAKE_MODULE = types.ModuleType("fake_module")
FAKE_MODULE.p = P((3,), 85, name="module_p")
NAMESPACE = types.SimpleNamespace(p=P((3,), 86, name="namespace_p"))


def reads_param_via_module_attribute(x):
    return np.sum(x * FAKE_MODULE.p)


def reads_param_via_namespace_attribute(x):
    return np.sum(x * NAMESPACE.p)


def test_weights_read_through_module_attribute():
    check_weights(reads_param_via_module_attribute, (X,), [FAKE_MODULE.p])


def test_weights_read_through_object_attribute():
    check_weights(reads_param_via_namespace_attribute, (X,), [NAMESPACE.p])


# -- closures ----------------------------------------------------------------------------------

def make_closure_over_array(c):
    def f(x):
        return np.sum(np.sin(x * c) + c)
    return f


def make_closure_over_function(h):
    def f(x):
        return np.sum(h(x) * x)
    return f


def make_closure_over_param(p):
    def f(x):
        return np.sum(x * p * p)
    return f


def cube(v):
    return v * v * v


def test_closure_over_array():
    check_grads(make_closure_over_array(np.array([1.5, -0.5, 2.0])), X)


def test_closure_over_user_function():
    check_grads(make_closure_over_function(cube), X)


def test_closure_over_numpy_function():
    check_grads(make_closure_over_function(np.tanh), X)


def test_closure_over_parameter_for_weights():
    p = P((3,), 100, name="closure_p")
    f = make_closure_over_param(p)
    check_weights(f, (X,), [p])


def test_nested_def_in_test_function():
    k = np.array([2.0, -1.0, 0.5])

    def f(x):
        y = x * k
        return np.sum(y * y)

    check_grads(f, X)


def test_closure_cell_rebound_is_seen():
    k = np.array([2.0, -1.0, 0.5])

    def f(x):
        return np.sum(x * k)

    np.testing.assert_allclose(sg.grad(f)(X), k)
    k = np.array([7.0, 7.0, 7.0])
    np.testing.assert_allclose(sg.grad(f)(X), k)


# -- module globals --------------------------------------------------------------------------

SCALE = np.array([0.5, 2.0, -1.0])
FACTOR = 3.0


def uses_globals(x):
    return np.sum(np.exp(x * SCALE) * FACTOR)


def test_module_global_arrays_and_floats():
    check_grads(uses_globals, X)


def test_module_global_rebinding_is_seen():
    global SCALE
    old = SCALE
    try:
        g1 = sg.grad(uses_globals)(X)
        SCALE = np.array([1.0, 1.0, 1.0])
        g2 = sg.grad(uses_globals)(X)
        np.testing.assert_allclose(g2, np.exp(X) * FACTOR)
        assert not np.allclose(g1, g2)
    finally:
        SCALE = old


# -- lambdas -------------------------------------------------------------------------------

square = lambda v: v * v  # noqa: E731
affine = lambda v, a=2.0, b=1.0: v * a + b  # noqa: E731
combined = lambda x: np.sum(square(np.sin(x)))  # noqa: E731


def uses_lambdas(x):
    return np.sum(square(x) + affine(x, b=0.5) * affine(x))


def test_lambda_called_from_function():
    check_grads(uses_lambdas, X)


def test_grad_of_lambda_itself():
    check_grads(combined, X)


def test_lambda_defined_in_test_function():
    f = lambda x: np.sum(np.tanh(x) * x)  # noqa: E731
    check_grads(f, X)


def test_two_lambdas_on_one_line_told_apart():
    f, g = (lambda x: np.sum(x * x)), (lambda x: np.sum(np.sin(x)))  # noqa: E731
    np.testing.assert_allclose(sg.grad(g)(X), np.cos(X))
    np.testing.assert_allclose(sg.grad(f)(X), 2 * X)


def test_two_identical_lambdas_on_one_line_refused_with_location():
    _f, g = (lambda x: np.sum(x * x)), (lambda x: np.sum(x * x))  # noqa: E731
    line = inspect.currentframe().f_lineno - 1
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(g)(X)
    msg = str(info.value)
    assert "lambda" in msg and "test_objects.py" in msg and f"line {line}" in msg


# -- plain classes ---------------------------------------------------------------------------

class Model:
    def __init__(self, w, b):
        self.w = w
        self.b = b

    def predict(self, x):
        return np.tanh(x * self.w + self.b)

    def loss(self, x):
        return np.sum(self.predict(x) ** 2)


class Wrapper:
    def __init__(self, inner):
        self.inner = inner

    def loss(self, x):
        return self.inner.loss(x * 2.0) + np.sum(self.inner.w * x)


PLAIN = Model(np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.2, 0.3]))


def uses_plain_method(x):
    return PLAIN.loss(x)


def uses_nested_object(x):
    return Wrapper(PLAIN).loss(x) if False else WRAP.loss(x)


WRAP = Wrapper(PLAIN)


def attribute_chain(x):
    return np.sum(x * WRAP.inner.w)


def test_plain_method_reading_self_attributes():
    check_grads(uses_plain_method, X)


def test_bound_method_as_the_differentiated_function():
    check_grads(PLAIN.loss, X)


def test_object_holding_object():
    check_grads(WRAP.loss, X)


def test_attribute_chain_read():
    np.testing.assert_allclose(sg.grad(attribute_chain)(X), PLAIN.w)


def test_parameter_as_plain_object_attribute():
    w = P((3,), 110, name="plain_w")
    m = Model(w, np.zeros(3))
    check_weights(m.loss, (X,), [w])


# -- refused constructs ----------------------------------------------------------------------

class Mutates:
    def __init__(self):
        self.w = np.array([1.0, 2.0, 3.0])
        self.last = None

    def __call__(self, x):
        self.last = x * self.w
        return np.sum(self.last)


MUT = Mutates()


def mutates_attribute(x):
    return MUT(x)


def test_attribute_write_refused_with_location():
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(mutates_attribute)(X)
    msg = str(info.value)
    lines, start = inspect.getsourcelines(Mutates.__call__)
    assert "attribute" in msg.lower()
    assert "test_objects.py" in msg and f"line {start + 1}" in msg
    assert "self.last = x * self.w" in msg
