"""MindSpore's functional-autodiff tutorial, with sourcegrad: the same numbers.

The tutorial drew ``w`` and ``b`` without a seed; its printed numbers follow
from ``z = x @ w + b = z_target``.  Any ``w`` with ``b = z_target - w.sum(0)``
(``x`` is all ones) reproduces them, so ``w`` comes from a fixed seed here.
"""
import numpy as np
import pytest

import sourcegrad as mindspore
from sourcegrad import Parameter, Tensor, nn, ops

Z_TARGET = np.array([-1.40476596, -1.64932394, 2.24711204], np.float32)
ROW = np.array([6.56869709e-02, 5.37334494e-02, 3.01467031e-01])
ROW_WITH_LOGITS = np.array([1.06568694, 1.05373347, 1.30146706])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1234)
    x = ops.ones(5, mindspore.float32)
    y = ops.zeros(3, mindspore.float32)
    w = Parameter(Tensor(rng.standard_normal((5, 3)), mindspore.float32), name="w")
    b = Parameter(Tensor(Z_TARGET - w.sum(0), mindspore.float32), name="b")
    return x, y, w, b


def function(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss


def function_with_logits(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss, z


def function_stop_gradient(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss, ops.stop_gradient(z)


def check_rows(grads, row):
    dw, db = grads
    assert dw.shape == (5, 3) and db.shape == (3,)
    assert dw.dtype == np.float32 and db.dtype == np.float32
    np.testing.assert_allclose(dw, np.tile(row, (5, 1)), rtol=1e-5)
    np.testing.assert_allclose(db, row, rtol=1e-5)


def test_loss(data):
    loss = function(*data)
    assert f"{float(loss):.6f}" == "0.914285"


def test_grad(data):
    check_rows(mindspore.grad(function, (2, 3))(*data), ROW)


def test_tuple_output_sums_gradients(data):
    check_rows(mindspore.grad(function_with_logits, (2, 3))(*data), ROW_WITH_LOGITS)


def test_stop_gradient(data):
    check_rows(mindspore.grad(function_stop_gradient, (2, 3))(*data), ROW)


def test_has_aux(data):
    grads, (z,) = mindspore.grad(function_with_logits, (2, 3), has_aux=True)(*data)
    check_rows(grads, ROW)
    np.testing.assert_allclose(z, Z_TARGET, rtol=1e-6)


def test_cell_value_and_grad(data):
    x, y, w, b = data

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

    def forward_fn(x, y):
        z = model(x)
        loss = loss_fn(z, y)
        return loss

    grad_fn = mindspore.value_and_grad(forward_fn, None, weights=model.trainable_params())
    loss, grads = grad_fn(x, y)
    assert f"{float(loss):.6f}" == "0.914285"
    check_rows(grads, ROW)
    # the weights are untouched and the gradients are new arrays, not Parameters
    assert type(grads[0]) is np.ndarray and grads[0] is not w


def test_derivative_reads_like_hand_written_code(data):
    g = mindspore.grad(function, (2, 3))
    g(*data)
    text = mindspore.source(g)
    compile(text, "<derivative>", "exec")
    assert text.startswith("def function_grad(x, y, w, b):")
    for name in ("dz", "dw", "db"):
        assert f"    {name} = " in text
    assert "return dw, db" in text
    # nothing dead: every name the derivative assigns is read afterwards
    lines = [ln.strip() for ln in text.splitlines()[1:]
             if " = " in ln and not ln.strip().startswith("#")]
    for ln in lines:
        target = ln.split(" = ")[0]
        rest = text.split(ln, 1)[1]
        assert target in rest, f"{target!r} is assigned but never used:\n{text}"
    # each block of the backward sweep names the line it differentiates
    assert "    # z = ops.matmul(x, w) + b   (line " in text
    assert "#" not in mindspore.source(g, comments=False)
    # no machinery a person would not write for straight-line code
    for word in ("stack", "unbroadcast", "seed_like", "None"):
        assert word not in text, f"{word!r} in:\n{text}"
