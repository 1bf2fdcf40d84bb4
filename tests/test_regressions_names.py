"""Names are resolved, never matched as strings (the pipeline-rebuild issue).

An attribute called ``name``, ``training`` or ``requires_grad`` was once taken
for a Parameter's or Cell's metadata by its spelling alone, so a Parameter
stored under one of those names got a zero gradient; and the seed of an output
depended on NumPy being imported as ``np``.
"""
import numpy as onp  # not "np" on purpose: the module is recognised by identity

import sourcegrad as sg
from sourcegrad import Parameter, nn
from sourcegrad.testing import check_grads, numeric_grad


class Oddly(nn.Cell):
    """Parameters under attribute names that metadata also uses elsewhere."""

    def __init__(self):
        super().__init__()
        self.training = Parameter(onp.array([1.0, -2.0, 3.0]), name="t")
        self.name = Parameter(onp.array([0.5, 0.25, -0.5]), name="n")

    def construct(self, x):
        return onp.sum(onp.sin(x * self.training) + self.name * x * x)


def test_parameters_named_like_metadata_get_their_gradient():
    model = Oddly()
    x = onp.array([0.3, -1.1, 0.7])
    got = sg.grad(model, grad_position=None, weights=model.trainable_params())(x)
    for p, g in zip(model.trainable_params(), got):
        def loss(value, p=p):
            saved = p.copy()
            p[...] = value
            try:
                return model(x)
            finally:
                p[...] = saved
        want = numeric_grad(loss, (onp.array(p),), 0)
        assert onp.allclose(g, want, rtol=1e-6, atol=1e-8), (p.name, g, want)


def f_alias(x):
    y = onp.tanh(x)
    return y


def test_numpy_under_another_name_is_seeded_like_np():
    check_grads(f_alias, onp.array([0.1, -0.4, 2.0]))
    g = sg.grad(f_alias)
    g(onp.array([0.1, -0.4, 2.0]))
    # an array for sure: seeded with ones_like, not the general seed_like helper
    assert "np.ones_like(y)" in sg.source(g) and "seed_like" not in sg.source(g)
