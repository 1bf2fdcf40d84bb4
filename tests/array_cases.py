"""Functions the Dask and Array API tests differentiate on other array libraries,
with NumPy inputs whose gradients are the reference (tests/test_dask.py,
tests/test_array_api.py)."""
import numpy as np

from sourcegrad import Parameter, nn, ops
from benchmarks.workloads import (logistic_inputs, logistic_regression, mlp_inputs,
                                  mlp_loss, rnn_inputs, rnn_loss)


def function(x, y, w, b):
    """The tutorial's function (samples/autodiff_tutorial.py)."""
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss


def tutorial_inputs():
    """A batch of 8 for the tutorial's one-layer model (its x is one sample)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5))
    y = (rng.random((8, 3)) > 0.5).astype(np.float64)
    return x, y, rng.standard_normal((5, 3)), rng.standard_normal(3)


# name: (function, NumPy inputs, positions differentiated)
CASES = {
    "tutorial": (function, tutorial_inputs(), (0, 2, 3)),
    "mlp": (mlp_loss, mlp_inputs(small=True), (0, 2, 3, 4, 5)),
    "rnn": (rnn_loss, rnn_inputs(small=True), (1, 2, 3, 4)),
    "logreg": (logistic_regression, logistic_inputs(small=True), (0, 2, 3)),
}


def rnn_loss_xp(xs, h0, Wx, Wh, b):
    """``benchmarks.workloads.rnn_loss`` as the Array API has it: ``xs[t, ...]``
    (indexing a 3-D array with one integer alone is NumPy's, not the standard's)."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t, ...] @ Wx + h @ Wh + b)
    return np.mean(h ** 2)


# the functions an Array API library runs as written
XP_CASES = dict(CASES, rnn=(rnn_loss_xp,) + CASES["rnn"][1:])


# -- the same models as Cells: gradients with respect to their Parameters ----------

class TutorialNet(nn.Cell):
    """The tutorial's one-layer model (``nn.Dense``) and its loss."""

    def __init__(self, w, b):
        super().__init__()
        self.dense = nn.Dense(w.shape[0], w.shape[1], weight_init=w.T.copy(),
                              bias_init=b.copy(), dtype=np.float64)

    def construct(self, x, y):
        z = self.dense(x)
        return ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))


class MLPNet(nn.Cell):
    """Two ``nn.Dense`` layers (tanh between) and softmax cross-entropy."""

    def __init__(self, W1, b1, W2, b2):
        super().__init__()
        self.hidden = nn.Dense(W1.shape[0], W1.shape[1], weight_init=W1.T.copy(),
                               bias_init=b1.copy(), activation="tanh", dtype=np.float64)
        self.out = nn.Dense(W2.shape[0], W2.shape[1], weight_init=W2.T.copy(),
                            bias_init=b2.copy(), dtype=np.float64)

    def construct(self, X, Y):
        log_probs = ops.log_softmax(self.out(self.hidden(X)), axis=1)
        return -ops.sum(Y * log_probs) / X.shape[0]


class RNNNet(nn.Cell):
    """A tanh RNN whose weights are Parameters; the loss is ``rnn_loss_xp``'s."""

    def __init__(self, Wx, Wh, b):
        super().__init__()
        self.Wx = Parameter(Wx.copy(), name="Wx")
        self.Wh = Parameter(Wh.copy(), name="Wh")
        self.b = Parameter(b.copy(), name="b")

    def construct(self, xs, h0):
        return rnn_loss_xp(xs, h0, self.Wx, self.Wh, self.b)


def cell_cases():
    """name: (Cell, its data inputs), fresh each call (NumPy float64 Parameters)."""
    x, y, w, b = tutorial_inputs()
    X, Y, W1, b1, W2, b2 = mlp_inputs(small=True)
    xs, h0, Wx, Wh, bh = rnn_inputs(small=True)
    return {"tutorial": (TutorialNet(w, b), (x, y)),
            "mlp": (MLPNet(W1, b1, W2, b2), (X, Y)),
            "rnn": (RNNNet(Wx, Wh, bh), (xs, h0))}
