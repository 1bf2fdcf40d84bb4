"""A known Cell's attributes read as constants, and its callees specialised on it.

``model(x)`` with ``model`` a global or closure variable calls a Cell the
transformation knows: its ``construct`` is derived for that object, its
``self.reduction``-like attributes written in as constants, its Parameters'
shapes known, the weights asked for known (see sourcegrad/pins.py and the
README, "Cells").  Every test changes what was pinned after the first calls
(the fast path is in place from the second) and checks the gradients against
central finite differences, so a stale specialisation would show.
"""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import Parameter, nn, ops
from sourcegrad.rules import registry
from sourcegrad.testing import numeric_grad


def _weight_fd(fn, args, p, eps=1e-6):
    """Central differences of ``fn(*args)`` with respect to Parameter ``p`` (in place)."""
    g = np.zeros(p.shape)
    flat = p.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        hi = float(np.sum(fn(*args)))
        flat[i] = old - eps
        lo = float(np.sum(fn(*args)))
        flat[i] = old
        g.reshape(-1)[i] = (hi - lo) / (2 * eps)
    return g


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


class Net(nn.Cell):
    def __init__(self, w, b):
        super().__init__()
        self.w = w
        self.b = b

    def construct(self, x):
        return ops.matmul(x, self.w) + self.b


def _setup(reduction="mean", shape=(4, 3)):
    rng = np.random.default_rng(1)
    w = Parameter(rng.standard_normal(shape), name="w")
    b = Parameter(rng.standard_normal(shape[1]), name="b")
    model = Net(w, b)
    loss_fn = nn.BCEWithLogitsLoss(reduction=reduction)
    x = rng.standard_normal((2, shape[0]))
    y = (rng.random((2, shape[1])) < 0.5).astype(np.float64) * 0.7 + 0.1
    return model, loss_fn, x, y


def _check_weights(g, fn, args, weights):
    loss, grads = g(*args)
    _close(loss, fn(*args))
    for p, got in zip(weights, grads):
        assert got.shape == p.shape
        _close(got, _weight_fd(fn, args, p))


def test_changed_reduction_derives_anew():
    model, loss_fn, x, y = _setup()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    weights = model.trainable_params()
    g = sg.value_and_grad(forward_fn, None, weights)
    for _ in range(3):  # the fast path from the second call
        _check_weights(g, forward_fn, (x, y), weights)
    assert "'mean'" in sg.source(g) and "self.reduction" not in sg.source(g, comments=False)
    loss_fn.reduction = "sum"
    for _ in range(2):
        _check_weights(g, forward_fn, (x, y), weights)
    assert "'sum'" in sg.source(g)


def test_pos_weight_set_later_takes_the_weighted_rule():
    model, loss_fn, x, y = _setup()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    weights = model.trainable_params()
    g = sg.value_and_grad(forward_fn, None, weights)
    _check_weights(g, forward_fn, (x, y), weights)
    _check_weights(g, forward_fn, (x, y), weights)
    loss_fn.pos_weight = np.array([2.0, 0.5, 1.5])
    _check_weights(g, forward_fn, (x, y), weights)
    assert "_bce_logits_grad_input" in sg.source(g)


def test_replaced_parameter_of_another_shape():
    model, loss_fn, x, y = _setup()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    g = sg.value_and_grad(forward_fn, None, model.trainable_params())
    g(x, y)
    g(x, y)
    rng = np.random.default_rng(2)
    model.w = Parameter(rng.standard_normal((4, 5)), name="w")
    model.b = Parameter(rng.standard_normal(5), name="b")
    y5 = np.full((2, 5), 0.25)
    weights = model.trainable_params()
    g = sg.value_and_grad(forward_fn, None, weights)
    for _ in range(2):
        _check_weights(g, forward_fn, (x, y5), weights)


def test_parameter_reshaped_in_place():
    rng = np.random.default_rng(3)

    class Scale(nn.Cell):
        def __init__(self):
            super().__init__()
            self.s = Parameter(rng.standard_normal((1, 3)), name="s")

        def construct(self, x):
            return x * self.s

    model = Scale()

    def f(x):
        return ops.sum(ops.tanh(model(x)))

    x = rng.standard_normal((3, 3))
    g = sg.value_and_grad(f, None, [model.s])
    _check_weights(g, f, (x,), [model.s])
    _check_weights(g, f, (x,), [model.s])
    model.s.shape = (3, 1)  # the same Parameter, another shape: the shape guard
    loss, (grad,) = g(x)
    _close(loss, f(x))
    assert grad.shape == (3, 1)
    _close(grad, _weight_fd(f, (x,), model.s))


def _scaled_sum(cell, x):
    return ops.sum(x * x) * cell.scale


def test_an_object_passed_to_a_function_is_not_pinned():
    # (the function could change its attributes; inside differentiated code an
    # assignment to an attribute is refused, but a function of ours is handed it)
    class Passing(nn.Cell):
        def __init__(self):
            super().__init__()
            self.scale = 2.0

        def construct(self, x):
            return _scaled_sum(self, x) + ops.sum(x) * self.scale

    model = Passing()

    def f(x):
        return model(x)

    g = sg.grad(f)
    x = np.array([0.5, -1.0, 2.0])
    for _ in range(2):
        _close(g(x), numeric_grad(f, (x,), 0))
    assert "self.scale" in sg.source(g)
    model.scale = 3.0
    _close(g(x), numeric_grad(f, (x,), 0))


def test_constant_branches_are_pruned_and_rederived():
    rng = np.random.default_rng(4)

    class Layer(nn.Cell):
        def __init__(self, use_bias):
            super().__init__()
            self.w = Parameter(rng.standard_normal((3, 2)), name="w")
            self.b = Parameter(rng.standard_normal(2), name="b")
            self.use_bias = use_bias
            self.act = None

        def construct(self, x):
            y = ops.matmul(x, self.w)
            if self.use_bias:
                y = y + self.b
            if self.act is not None:
                y = self.act(y)  # never taken while act is None
            return y

    layer = Layer(False)

    def f(x):
        return ops.sum(ops.tanh(layer(x)))

    x = rng.standard_normal((4, 3))
    weights = layer.trainable_params()
    g = sg.value_and_grad(f, None, weights)
    for _ in range(2):
        _check_weights(g, f, (x,), weights)
    assert "if " not in sg.source(g, comments=False)
    layer.use_bias = True
    for _ in range(2):
        _check_weights(g, f, (x,), weights)
    layer.act = nn.ReLU()
    _check_weights(g, f, (x,), weights)


def test_replaced_sub_cell_derives_anew():
    rng = np.random.default_rng(5)

    class Model(nn.Cell):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Dense(3, 4, dtype=np.float64)
            self.out = nn.Dense(4, 1, dtype=np.float64)

        def construct(self, x):
            return self.out(ops.tanh(self.hidden(x)))

    model = Model()

    def f(x):
        return ops.sum(model(x))

    x = rng.standard_normal((2, 3))
    g = sg.value_and_grad(f, None, model.trainable_params())
    _check_weights(g, f, (x,), model.trainable_params())
    _check_weights(g, f, (x,), model.trainable_params())
    assert "call_fwd" not in sg.source(g)  # the sub-cells are known: no dispatch
    model.hidden = nn.Dense(3, 4, activation="sigmoid", dtype=np.float64)
    weights = model.trainable_params()
    g = sg.value_and_grad(f, None, weights)
    _check_weights(g, f, (x,), weights)


def test_weights_not_asked_for_get_no_adjoint():
    model, loss_fn, x, y = _setup()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    g_all = sg.value_and_grad(forward_fn, None, model.trainable_params())
    g_w = sg.value_and_grad(forward_fn, None, model.w)
    loss, dw = g_w(x, y)
    loss, dw = g_w(x, y)
    _close(dw, g_all(x, y)[1][0])
    _close(dw, _weight_fd(forward_fn, (x, y), model.w))
    text = sg.source(g_w, comments=False)
    assert "dself_w" in text and "self_b," not in text and "wants(" not in text


def test_a_weight_that_stops_requiring_grad_gets_zeros():
    model, loss_fn, x, y = _setup()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    weights = model.trainable_params()
    g = sg.value_and_grad(forward_fn, None, weights)
    g(x, y)
    g(x, y)
    model.b.requires_grad = False
    _, (dw, db) = g(x, y)
    assert np.all(db == 0)
    _close(dw, _weight_fd(forward_fn, (x, y), model.w))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unweighted_bce_rule_matches_finite_differences(reduction, dtype):
    rng = np.random.default_rng(6)
    z = rng.standard_normal((3, 4)).astype(dtype) * 3
    t = rng.random((3, 4)).astype(dtype)

    def f(z, t):
        return ops.binary_cross_entropy_with_logits(z, t, None, None, reduction)

    g = sg.grad(f, (0, 1))
    assert "_bce_logits_grad_input" not in sg.source(g)
    dz, dt = g(z, t)
    assert dz.dtype == dtype and dt.dtype == dtype
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-8)
    z64, t64 = z.astype(np.float64), t.astype(np.float64)
    np.testing.assert_allclose(dz, numeric_grad(f, (z64, t64), 0), **tol)
    np.testing.assert_allclose(dt, numeric_grad(f, (z64, t64), 1), **tol)


def test_rule_variant_is_chosen_by_constant_arguments():
    def scaled(x, scale=None):
        return x if scale is None else x * scale

    @sg.adjoint(scaled)
    def _scaled(z, x, scale=None):
        d[x] = d[z] * scale  # noqa: F821
        d[scale] = d[z] * x  # noqa: F821

    @registry.adjoint(scaled, when={"scale": None})
    def _scaled_plain(z, x, scale=None):
        d[x] = d[z]  # noqa: F821

    def f(x):
        return np.sum(scaled(x) * scaled(x, 3.0))

    g = sg.grad(f)
    x = np.array([0.5, -2.0])
    np.testing.assert_allclose(g(x), numeric_grad(f, (x,), 0), rtol=1e-6)
    with pytest.raises(TypeError, match="register the rule first"):
        @registry.adjoint(scaled, when={"other": None})
        def _bad(z, x, scale=None):
            d[x] = d[z]  # noqa: F821


def test_cells_made_and_dropped_do_not_pile_up():
    import gc
    import weakref

    def train_once():
        model, loss_fn, x, y = _setup()

        def forward_fn(x, y):
            return loss_fn(model(x), y)

        g = sg.value_and_grad(forward_fn, None, model.trainable_params())
        g(x, y)
        return weakref.ref(model)

    refs = [train_once() for _ in range(20)]
    gc.collect()
    assert not any(r() is not None for r in refs)
    # and a Cell made after those still gets a derivative of its own
    model, loss_fn, x, y = _setup()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    g = sg.value_and_grad(forward_fn, None, model.trainable_params())
    g(x, y)
    assert "wants(" not in sg.source(g)


def test_forward_mode_reads_a_known_cells_parameters():
    rng = np.random.default_rng(7)
    model, _, x, _ = _setup()

    def f(x):
        return ops.tanh(ops.matmul(x, model.w) + model.b)

    jac = sg.jacfwd(f)
    x1 = rng.standard_normal(4)
    got = jac(x1)
    want = np.stack([numeric_grad(lambda v: f(v)[i], (x1,), 0) for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
