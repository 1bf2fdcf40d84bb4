"""The benchmark workloads of issue 5, each with a hand-written reference gradient.

Every workload pairs

* a forward function written the way a user writes NumPy code (module-level
  ``def``, ``np.`` calls, operators, a plain ``for`` loop where the model has
  one).  This is the function sourcegrad differentiates, so it stays plain:
  no classes, no comprehensions, no tricks;
* a deterministic input maker (``np.random.default_rng(0)``, float64) that can
  also build a small instance of the same function for finite-difference tests;
* the argument positions to differentiate;
* a hand-written NumPy forward+backward, written as an expert would, that
  returns what ``sourcegrad.grad(fn, positions)`` returns: a tuple with one
  gradient per position.

The hand-written gradients compute only what the gradient needs (no loss
value), like ``grad`` itself is meant to, and they mirror the primitives of
the forward function (``np.sin`` stays ``np.sin`` even on scalars), so a ratio
to them measures the differentiation machinery and not a rewrite of the
algorithm.

Example::

    >>> from benchmarks.workloads import WORKLOADS
    >>> wl = WORKLOADS["tutorial"]
    >>> args = wl.make_inputs()
    >>> dw, db = wl.hand_grad(*args)
    >>> dw.shape, db.shape
    ((5, 3), (3,))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Workload", "WORKLOADS", "all_workloads", "cell_workload"]


@dataclass
class Workload:
    """One benchmark case.

    Attributes:
        name: short key used on the command line (``--only mlp``).
        title: the row label of the results table.
        fn: the plain-NumPy forward function that sourcegrad differentiates.
        make_inputs: ``make_inputs(small=False) -> tuple`` of arguments;
            ``small=True`` gives a tiny instance of the same function for
            coordinate-wise finite differences.
        positions: argument positions to differentiate (a tuple, so results
            are tuples), or ``None`` when only ``weights`` are asked for.
        hand_grad: hand-written reference; same arguments as ``fn``, returns
            what the sourcegrad callable returns.
        kind: ``"grad"`` or ``"value_and_grad"`` (which sourcegrad entry
            point the workload exercises).
        weights: Parameters to differentiate (the Cell case), else empty.
        in_geomean: whether the row counts in the geometric means (the six
            issue-5 workloads do; the Cell case is an extra).
    """

    name: str
    title: str
    fn: Callable[..., Any]
    make_inputs: Callable[..., tuple]
    positions: tuple[int, ...] | None
    hand_grad: Callable[..., Any]
    kind: str = "grad"
    weights: tuple = field(default_factory=tuple)
    in_geomean: bool = True

    def sourcegrad(self, sg):
        """Build the sourcegrad gradient callable for this workload (once)."""
        entry = sg.value_and_grad if self.kind == "value_and_grad" else sg.grad
        if self.weights:
            return entry(self.fn, self.positions, weights=list(self.weights))
        return entry(self.fn, self.positions)


def _sigmoid(z):
    # Overflow of exp(-z) for z < -709 gives inf and so the correct 0.0; it
    # only warns, and the benchmark inputs stay far from that range.
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------
# (a) The tutorial function: linear layer + BCE-with-logits (mean), 5x3.
# --------------------------------------------------------------------------

def tutorial_function(x, y, w, b):
    """MindSpore tutorial's ``function`` with the loss written in NumPy."""
    z = x @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    return loss


def tutorial_inputs(small=False):
    """x = ones(5), y = zeros(3), w ~ N(0,1) (5,3), b ~ N(0,1) (3,)."""
    rng = np.random.default_rng(0)
    x = np.ones(5)
    y = np.zeros(3)
    w = rng.standard_normal((5, 3))
    b = rng.standard_normal(3)
    return x, y, w, b


def tutorial_hand_grad(x, y, w, b):
    """d loss / d(w, b): d logaddexp(0, z)/dz is sigmoid(z)."""
    z = x @ w + b
    dz = (_sigmoid(z) - y) / z.size
    return np.outer(x, dz), dz


# --------------------------------------------------------------------------
# (b) Logistic regression, 1000 samples x 100 features, mean log-loss.
# --------------------------------------------------------------------------

def logistic_regression(X, y, w, b):
    """Mean logistic loss of a linear model; ``b`` has shape (1,)."""
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def logistic_inputs(small=False):
    """Labels drawn from a true linear model so the loss is not degenerate."""
    n, d = (20, 5) if small else (1000, 100)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < _sigmoid(X @ w_true)).astype(np.float64)
    w = 0.1 * rng.standard_normal(d)
    b = np.array([0.1])
    return X, y, w, b


def logistic_hand_grad(X, y, w, b):
    """d loss / d(w, b)."""
    z = X @ w + b
    dz = (_sigmoid(z) - y) / z.shape[0]
    return X.T @ dz, np.array([dz.sum()])


# --------------------------------------------------------------------------
# (c) MLP 784-256-10, batch 64: tanh hidden layer, softmax cross-entropy.
# --------------------------------------------------------------------------

def mlp_loss(X, Y, W1, b1, W2, b2):
    """Mean softmax cross-entropy of a one-hidden-layer tanh MLP.

    ``Y`` is one-hot; the log-softmax subtracts the row maximum for stability.
    """
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(Y * log_probs) / X.shape[0]


def mlp_inputs(small=False):
    """Glorot-scaled weights, small biases, random one-hot labels."""
    n, d_in, d_hid, d_out = (4, 6, 5, 3) if small else (64, 784, 256, 10)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d_in))
    Y = np.eye(d_out)[rng.integers(0, d_out, size=n)]
    W1 = rng.standard_normal((d_in, d_hid)) * np.sqrt(2.0 / (d_in + d_hid))
    b1 = 0.01 * rng.standard_normal(d_hid)
    W2 = rng.standard_normal((d_hid, d_out)) * np.sqrt(2.0 / (d_hid + d_out))
    b2 = 0.01 * rng.standard_normal(d_out)
    return X, Y, W1, b1, W2, b2


def mlp_hand_grad(X, Y, W1, b1, W2, b2):
    """d loss / d(W1, b1, W2, b2) by the textbook backward pass."""
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    # (p - Y) / n holds because every row of Y sums to one (one-hot labels).
    dlogits = (p - Y) / n
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    da = dlogits @ W2.T
    da *= 1.0 - h * h
    dW1 = X.T @ da
    db1 = da.sum(axis=0)
    return dW1, db1, dW2, db2


# --------------------------------------------------------------------------
# (d) tanh RNN, 20 steps as a Python loop, batch 16, input 32, hidden 64.
# --------------------------------------------------------------------------

def rnn_loss(xs, h0, Wx, Wh, b):
    """Run a tanh RNN over ``xs`` (steps, batch, input); mean of final h**2."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.mean(h ** 2)


def rnn_inputs(small=False):
    """Recurrent weights scaled below 1 so 20 steps neither explode nor vanish."""
    steps, batch, d_in, d_hid = (5, 2, 3, 4) if small else (20, 16, 32, 64)
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((steps, batch, d_in))
    h0 = 0.1 * rng.standard_normal((batch, d_hid))
    Wx = rng.standard_normal((d_in, d_hid)) / np.sqrt(d_in)
    Wh = 0.9 * rng.standard_normal((d_hid, d_hid)) / np.sqrt(d_hid)
    b = 0.1 * rng.standard_normal(d_hid)
    return xs, h0, Wx, Wh, b


def rnn_hand_grad(xs, h0, Wx, Wh, b):
    """d loss / d(Wx, Wh, b) by backpropagation through time.

    Weight gradients are accumulated step by step, as the loop is written;
    batching them into one matmul over all steps would be an algorithmic
    rewrite, not a transcription of this function's derivative.
    """
    hs = [h0]
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
        hs.append(h)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros_like(b)
    dh = (2.0 / h.size) * h
    for t in range(xs.shape[0] - 1, -1, -1):
        h = hs[t + 1]
        da = dh * (1.0 - h * h)
        dWx += xs[t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
        dh = da @ Wh.T
    return dWx, dWh, db


# --------------------------------------------------------------------------
# (e) Elementwise chain on 1e6 floats.
# --------------------------------------------------------------------------

def elementwise_chain(x):
    """A sum over a chain of elementwise transcendental functions."""
    return np.sum(np.sin(x) * np.exp(-x * x) + np.tanh(x) ** 2)


def elementwise_inputs(small=False):
    """Uniform on [-2, 2], where every term of the chain varies."""
    rng = np.random.default_rng(0)
    return (rng.uniform(-2.0, 2.0, size=7 if small else 1_000_000),)


def elementwise_hand_grad(x):
    """d/dx [sin x e^{-x^2} + tanh^2 x], factored to keep temporaries few."""
    e = np.exp(-x * x)
    t = np.tanh(x)
    return (e * (np.cos(x) - 2.0 * x * np.sin(x)) + 2.0 * t * (1.0 - t * t),)


# --------------------------------------------------------------------------
# (f) A 100-step recurrence on Python floats.
# --------------------------------------------------------------------------

def float_loop(x, a):
    """Iterate x <- a*x + 0.1*sin(x) a hundred times on scalars."""
    for i in range(100):
        x = a * x + 0.1 * np.sin(x)
    return x


def float_loop_inputs(small=False):
    """Python floats; |d x_next / d x| <= a + 0.1 = 1, so nothing explodes."""
    return 0.5, 0.9


def float_loop_hand_grad(x, a):
    """d x_100 / d(x, a): keep the 100 iterates, then run the chain rule back."""
    xs = []
    for i in range(100):
        xs.append(x)
        x = a * x + 0.1 * np.sin(x)
    dx = 1.0
    da = 0.0
    for xi in reversed(xs):
        da += dx * xi
        dx *= a + 0.1 * np.cos(xi)
    return float(dx), float(da)


# --------------------------------------------------------------------------
# (g) The tutorial's Cell + value_and_grad, only when sourcegrad.nn exists.
# --------------------------------------------------------------------------

def cell_workload():
    """The tutorial's ``Network`` cell, ``BCEWithLogitsLoss`` and ``value_and_grad``.

    The cell and forward function are built here rather than at module level
    so that importing this module never needs the engine.  Parameters are
    float64 (the tutorial's are float32) so the comparison with the reference
    can be tight.
    """
    import sourcegrad as sg
    from sourcegrad import Parameter, Tensor, nn, ops

    rng = np.random.default_rng(0)
    w = Parameter(Tensor(rng.standard_normal((5, 3)), sg.float64), name="w")
    b = Parameter(Tensor(rng.standard_normal(3), sg.float64), name="b")

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

    def cell_inputs(small=False):
        return np.ones(5), np.zeros(3)

    def cell_hand_value_and_grad(x, y):
        # Reads the same Parameter objects the cell holds, so an optimizer
        # step or an in-place perturbation is seen by both; viewed as plain
        # arrays so results are not Parameter instances.
        z = x @ np.asarray(w) + np.asarray(b)
        loss = np.mean(np.logaddexp(0.0, z) - y * z)
        dz = (_sigmoid(z) - y) / z.size
        return loss, (np.outer(x, dz), dz)

    return Workload(
        name="cell",
        title="tutorial Cell + value_and_grad",
        fn=forward_fn,
        make_inputs=cell_inputs,
        positions=None,
        hand_grad=cell_hand_value_and_grad,
        kind="value_and_grad",
        weights=tuple(model.trainable_params()),
        in_geomean=False,
    )


# --------------------------------------------------------------------------
# (h) Binary cross-entropy on logits, written out stably in NumPy, 5x3.
# --------------------------------------------------------------------------

def stable_bce(z, y):
    """Mean BCE on logits as users write it to avoid overflow (no logaddexp)."""
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def stable_bce_inputs(small=False):
    """z ~ N(0,1) (5,3) (no exact zeros: maximum's kink), y in {0, 1}."""
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 3))
    y = (rng.random((5, 3)) > 0.5).astype(np.float64)
    return z, y


def stable_bce_hand_grad(z, y):
    """Term by term, with the forward function's primitives (no sigmoid)."""
    e = np.exp(-np.abs(z))
    return (((z > 0) - y - np.sign(z) * e / (1.0 + e)) / z.size,)


WORKLOADS: dict[str, Workload] = {
    wl.name: wl
    for wl in (
        Workload("tutorial", "tutorial function (linear + BCE, 5x3)",
                 tutorial_function, tutorial_inputs, (2, 3),
                 tutorial_hand_grad),
        Workload("logreg", "logistic regression 1000x100",
                 logistic_regression, logistic_inputs, (2, 3),
                 logistic_hand_grad),
        Workload("mlp", "MLP 784-256-10, batch 64",
                 mlp_loss, mlp_inputs, (2, 3, 4, 5), mlp_hand_grad),
        Workload("rnn", "tanh RNN, 20 steps (Python loop)",
                 rnn_loss, rnn_inputs, (2, 3, 4), rnn_hand_grad),
        Workload("elementwise", "elementwise chain, 1e6 floats",
                 elementwise_chain, elementwise_inputs, (0,),
                 elementwise_hand_grad),
        Workload("float_loop", "Python-float loop, 100 steps",
                 float_loop, float_loop_inputs, (0, 1),
                 float_loop_hand_grad),
        Workload("bce", "stable BCE written out (5x3)",
                 stable_bce, stable_bce_inputs, (0,), stable_bce_hand_grad,
                 in_geomean=False),
    )
}
"""The six issue-5 workloads, by name, in table order."""


def all_workloads(include_cell: bool = True) -> list[Workload]:
    """The six workloads, plus the Cell case."""
    result = list(WORKLOADS.values())
    if include_cell:
        result.append(cell_workload())
    return result
