"""sg.ravel: nested containers of arrays and scalars as one float64 vector and back,
and the gradient of a dict of parameters through scipy.optimize.minimize(jac=True)."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import numeric_grad

Pair = collections.namedtuple("Pair", "w b")


def _tree():
    rng = np.random.default_rng(0)
    return {"layers": [(rng.standard_normal((3, 2)), rng.standard_normal(2)),
                       Pair(rng.standard_normal((2, 1)).astype(np.float32), 0.5)],
            "scale": 2.0, "count": 3, "np": np.float32(1.25), "none": None,
            "ints": np.arange(3), 7: np.ones(())}


def _same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b) or sorted(map(str, a)) == sorted(map(str, b))
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_round_trip_keeps_structure_shapes_and_dtypes():
    tree = _tree()
    flat, unravel = sg.ravel(tree)
    assert flat.dtype == np.float64 and flat.ndim == 1
    assert flat.size == 6 + 2 + 2 + 1 + 1 + 1 + 1 + 3 + 1
    _same(unravel(flat), tree)


def test_order_is_the_same_for_a_dict_built_in_another_order():
    a = {"w": np.arange(2.0), "b": np.array([5.0])}
    b = {"b": np.array([5.0]), "w": np.arange(2.0)}
    np.testing.assert_array_equal(sg.ravel(a)[0], sg.ravel(b)[0])


def test_unravel_of_a_new_vector_and_wrong_length():
    flat, unravel = sg.ravel([np.zeros((2, 2)), 1.0])
    out = unravel(np.arange(5.0))
    np.testing.assert_array_equal(out[0], [[0.0, 1.0], [2.0, 3.0]])
    assert out[1] == 4.0 and isinstance(out[1], float)
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        unravel(np.zeros(4))


def test_empty_and_bad_leaves():
    flat, unravel = sg.ravel({})
    assert flat.shape == (0,) and unravel(flat) == {}
    with pytest.raises(TypeError, match="leaf of type str"):
        sg.ravel({"a": "text"})
    with pytest.raises(TypeError, match="complex"):
        sg.ravel(np.ones(2, complex))


def loss(params, x, y):
    h = np.tanh(x @ params["w1"] + params["b1"])
    pred = h @ params["w2"][0] + params["w2"][1]
    return np.mean((pred - y) ** 2) + 1e-3 * np.sum(params["w1"] ** 2)


def test_minimize_with_jac_through_ravel():
    scipy_optimize = pytest.importorskip("scipy.optimize", reason="SciPy is not installed")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 2))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1]
    params = {"w1": 0.5 * rng.standard_normal((2, 4)), "b1": np.zeros(4),
              "w2": (0.5 * rng.standard_normal(4), 0.0)}
    flat0, unravel = sg.ravel(params)
    vg = sg.value_and_grad(loss)

    def fun(v):
        value, g = vg(unravel(v), x, y)
        return value, sg.ravel(g)[0]

    value, g = fun(flat0)
    want = numeric_grad(lambda v: loss(unravel(v), x, y), [flat0], 0)
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7)
    res = scipy_optimize.minimize(fun, flat0, jac=True, method="L-BFGS-B")
    assert res.fun < 0.5 * value
    assert set(unravel(res.x)) == set(params)
