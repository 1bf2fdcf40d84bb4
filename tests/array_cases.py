"""Functions the Dask and Array API tests differentiate on other array libraries,
with NumPy inputs whose gradients are the reference (tests/test_dask.py,
tests/test_array_api.py)."""
import numpy as np

from sourcegrad import ops
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
