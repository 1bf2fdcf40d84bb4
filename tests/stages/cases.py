"""Small functions every stage's golden test runs through the pipeline.

Each case is a function plus how it is differentiated (``grad`` keyword
arguments and example inputs).  The goldens under ``tests/golden/stages/``
hold each stage's output for each case; a change to one stage shows up as a
diff in that stage's goldens (and in the later stages' only where it flows
on).  Regenerate them with ``SOURCEGRAD_UPDATE_GOLDENS=1 python -m pytest
tests/test_stage_*.py`` and read the diff before committing it.
"""
import numpy as np

import sourcegrad as sg
from sourcegrad import nn, ops, Parameter


def straight(x, y):
    z = np.sin(x) * y + x / 2.0
    return np.sum(z * z)


def augmented(x):
    a, b = x * 2.0, np.exp(x)
    a += b
    a *= x
    return np.sum(a - b)


def branch(x, y):
    z = x * y
    if np.sum(z) > 0.0:
        z = np.tanh(z)
    elif np.sum(z) < -1.0:
        z = z ** 2
    else:
        z = -z
    return np.sum(z)


def short_circuit(x):
    x = x * x
    if x[0] > 0.0 and x[1] > 5.0:
        x = x * 3.0
    return np.sum(x)


def loop(x, n):
    h = x
    for i in range(n):
        h = np.tanh(h * x) + i
    return np.sum(h)


def while_break(x):
    s = 0.0
    k = 0
    while k < 10:
        s = s + np.sum(x ** k)
        if s > 50.0:
            break
        k += 1
    return s


def subscript_write(x):
    y = np.zeros(3)
    y[0] = x[1] * 2.0
    y[1:] = x[:2] ** 2
    return np.sum(y * x)


def _helper(a, b):
    return np.sum(a * b) + np.sum(np.exp(a))


def calls(x, y):
    return _helper(x, y) * 2.0 + _helper(y, x)


def stopped(x):
    y = sg.stop_gradient(x * 2.0)
    return np.sum(x * y)


def aux(x):
    loss = np.sum(x ** 2)
    return loss, np.max(x)


class Linear(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.full((3, 2), 0.5), name="w")
        self.b = Parameter(np.zeros(2), name="b")

    def construct(self, x):
        return ops.sigmoid(ops.matmul(x, self.w) + self.b)


_net = Linear()


def cell_loss(x):
    return np.sum(_net(x))


def stable_bce(z, y):
    # the adjoint's -(c / (1 + e) * e) becomes (-c) / (1 + e) * e, and the helpers
    # of abs and maximum are elementwise, so no unbroadcast or np.full is left
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


X3 = np.array([0.5, 1.2, 1.0])
CASES = {
    "straight": (straight, {}, (X3, 2.0)),
    "augmented": (augmented, {}, (X3,)),
    "branch": (branch, {"grad_position": (0, 1)}, (X3, 2.0)),
    "short_circuit": (short_circuit, {}, (X3,)),
    "loop": (loop, {}, (X3, 3)),
    "while_break": (while_break, {}, (X3,)),
    "subscript_write": (subscript_write, {}, (X3,)),
    "calls": (calls, {"grad_position": (0, 1)}, (X3, X3 + 1.0)),
    "stopped": (stopped, {}, (X3,)),
    "aux": (aux, {"has_aux": True}, (X3,)),
    "stable_bce": (stable_bce, {}, (np.array([[0.5, -1.5], [2.0, -0.3]]), np.eye(2))),
    "cell_weights": (cell_loss, {"grad_position": None, "weights": _net.trainable_params()},
                     (np.ones((4, 3)),)),
}
