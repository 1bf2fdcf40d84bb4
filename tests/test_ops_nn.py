"""Tests of ops, their derivative rules (without the engine), Tensor/Parameter and nn.

Rules are checked by running each template the way the engine inlines it
(parameters bound to the call's arguments, ``d[z]`` a random seed) and
comparing against central finite differences in float64.
"""
from __future__ import annotations

import ast
import copy
import inspect
import pickle
import re
import textwrap

import numpy as np
import pytest

import sourcegrad.rules.ops as R
from sourcegrad import dtypes, ops
from sourcegrad import nn
from sourcegrad.rules import registry
from sourcegrad.tensor import Parameter, ParameterTuple, Tensor
from sourcegrad.testing import numeric_grad


# --------------------------------------------------------------------------
# a tiny rule interpreter: evaluate a template's body outside the engine
# --------------------------------------------------------------------------
class _Adjoints:
    """``d[x]`` keyed by object identity, as the engine's names are per value."""

    def __init__(self):
        self.values = {}

    def __getitem__(self, key):
        return self.values[id(key)]

    def __setitem__(self, key, value):
        self.values[id(key)] = value


def apply_rule(primal, z, dz, *args, **kwargs):
    """Run ``primal``'s rule; return ``{param name: adjoint}`` for non-None params."""
    rule = registry.lookup(primal)
    assert rule is not None, f"no rule registered for {primal}"
    bound = rule.signature.bind(*args, **kwargs)
    bound.apply_defaults()
    src = textwrap.dedent(inspect.getsource(rule.template))
    body = ast.parse(src).body[0].body
    adj = _Adjoints()
    adj[z] = dz
    env = dict(rule.namespace)
    env.update(bound.arguments)
    env[rule.result] = z
    env["d"] = adj
    out = {}
    for stmt in body:
        target = stmt.targets[0]
        name = target.slice.id
        if bound.arguments[name] is None:
            continue  # the engine never asks for the adjoint of a None argument
        exec(compile(ast.Module([stmt], []), rule.where, "exec"), env)
        out[name] = adj[bound.arguments[name]]
    return out


def check_rule(primal, args, kwargs=None, wrt=None, seed=0, rtol=1e-5, atol=1e-7):
    """Assert the rule's adjoints equal finite differences of ``sum(dz * primal(...))``."""
    kwargs = kwargs or {}
    rng = np.random.default_rng(seed)
    z = primal(*args, **kwargs)
    dz = rng.standard_normal(np.shape(z))
    grads = apply_rule(primal, z, dz, *args, **kwargs)
    names = list(registry.lookup(primal).signature.parameters)
    positions = wrt if wrt is not None else [
        i for i, a in enumerate(args) if isinstance(a, np.ndarray)
        and np.issubdtype(a.dtype, np.floating)]
    assert positions, "nothing to check"
    for pos in positions:
        got = grads[names[pos]]
        want = numeric_grad(lambda *a: np.sum(dz * primal(*a, **kwargs)), args, pos)
        assert np.shape(got) == np.shape(want), (names[pos], np.shape(got), np.shape(want))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"{primal.__name__}: d[{names[pos]}]")
    return grads


def rnd(*shape, seed=1, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


# --------------------------------------------------------------------------
# dtypes, Tensor, creation ops
# --------------------------------------------------------------------------
def test_dtypes_are_numpy_types():
    assert dtypes.float32 is np.float32 and dtypes.float64 is np.float64
    assert dtypes.float16 is np.float16 and dtypes.int32 is np.int32
    assert dtypes.int64 is np.int64 and dtypes.bool_ is np.bool_


def test_ones_zeros_like_reference_11():
    x = ops.ones(5, dtypes.float32)
    assert type(x) is np.ndarray and x.shape == (5,) and x.dtype == np.float32
    assert np.all(x == 1)
    assert ops.ones((2, 3)).dtype == np.float32 and ops.ones((2, 3)).shape == (2, 3)
    assert ops.zeros(3).dtype == np.float32 and not ops.zeros(3).any()
    assert ops.zeros((2,), dtypes.int32).dtype == np.int32
    assert ops.ones([2, 2], dtypes.float16).dtype == np.float16
    assert ops.ones(5, dtypes.float64).dtype == np.float64
    assert ops.ones((), dtypes.float32).shape == ()
    a = np.array([1, 2], np.int32)
    assert ops.ones_like(a).dtype == np.int32
    assert ops.ones_like(a, dtype=dtypes.float32).dtype == np.float32
    p = Parameter(np.zeros((5, 3), np.float32), name="w")
    assert type(ops.ones_like(p)) is np.ndarray and type(ops.zeros_like(p)) is np.ndarray
    with pytest.raises(TypeError, match="shape"):
        ops.ones("5")


def test_tensor_dtype_rules():
    assert Tensor([1.0, 2.0]).dtype == np.float32          # Python floats -> float32
    assert Tensor(np.ones(2)).dtype == np.float64           # NumPy float64 kept
    assert Tensor(np.ones(2), dtypes.float32).dtype == np.float32
    assert Tensor(3).dtype == np.int64
    src = np.ones(3)
    t = Tensor(src)
    t[0] = 5
    assert src[0] == 1                                     # data is copied
    assert isinstance(t, Tensor) and isinstance(Parameter(src), Tensor)
    assert not isinstance([1.0], Tensor)
    assert type(Tensor(Parameter(src))) is np.ndarray


# --------------------------------------------------------------------------
# Parameter
# --------------------------------------------------------------------------
def test_parameter_is_array_with_name():
    w = Parameter(Tensor(np.arange(6.0).reshape(2, 3), dtypes.float32), name="w")
    assert isinstance(w, np.ndarray) and w.name == "w" and w.requires_grad
    assert w.dtype == np.float32 and w.shape == (2, 3)
    assert "w" in repr(w)
    frozen = Parameter(np.zeros(2), name="f", requires_grad=False)
    assert frozen.requires_grad is False


def test_parameter_default_names_count_up():
    a, b = Parameter(np.zeros(1)), Parameter(np.zeros(1))
    na = int(re.fullmatch(r"Parameter#(\d+)", a.name).group(1))
    nb = int(re.fullmatch(r"Parameter#(\d+)", b.name).group(1))
    assert nb == na + 1


def test_parameter_results_are_plain_arrays():
    w = Parameter(np.arange(6.0).reshape(2, 3), name="w")
    results = [w + 1, w * w, np.exp(w), w @ w.T, np.matmul(np.ones(2), w), w[0], w[:, 1:],
               w.T, w.reshape(-1), w.sum(axis=0), w.astype(np.float32), w.copy(),
               np.where(w > 1, w, 0), w.ravel()]
    for r in results:
        assert type(r) is np.ndarray, type(r)
    assert type(w.sum()) is np.float64


def test_parameter_in_place_updates_keep_identity():
    w = Parameter(np.ones(3, np.float32), name="w")
    same = w
    w -= 0.5 * np.ones(3, np.float32)
    assert w is same and type(w) is Parameter and w.name == "w"
    np.testing.assert_array_equal(w, [0.5, 0.5, 0.5])
    w[...] = np.array([1.0, 2.0, 3.0])
    w[0] = 7
    assert w is same
    np.testing.assert_array_equal(same, [7.0, 2.0, 3.0])


def test_parameter_copy_and_pickle():
    w = Parameter(np.arange(3.0), name="w", requires_grad=False)
    for clone in (copy.copy(w), copy.deepcopy(w), pickle.loads(pickle.dumps(w))):
        assert type(clone) is Parameter and clone is not w
        assert clone.name == "w" and clone.requires_grad is False
        np.testing.assert_array_equal(clone, w)
    assert {w: 1}[w] == 1  # hashable by identity
    with pytest.raises(TypeError, match="Parameter"):
        ParameterTuple([w, np.zeros(2)])


# --------------------------------------------------------------------------
# BCE with logits (docs/behaviour.md section 10)
# --------------------------------------------------------------------------
def _bce_naive(x, y, w=None, pw=None):
    """The textbook formula, written independently (fine for moderate logits)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    s = 1 / (1 + np.exp(-x))
    pw = 1.0 if pw is None else pw
    w = 1.0 if w is None else w
    return -w * (pw * y * np.log(s) + (1 - y) * np.log(1 - s))


X = np.array([[0.3, -1.2, 2.0], [-0.4, 0.9, -2.5]], np.float32)
Y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]], np.float32)
W = np.array([1.0, 2.0, 0.5], np.float32)
PW = np.array([3.0, 1.0, 0.25], np.float32)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_formula(reduction):
    got = ops.binary_cross_entropy_with_logits(X, Y, W, PW, reduction)
    want = _bce_naive(X, Y, W, PW)
    want = {"mean": want.mean(), "sum": want.sum(), "none": want}[reduction]
    assert np.asarray(got).dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_bce_with_logits_options():
    np.testing.assert_allclose(ops.binary_cross_entropy_with_logits(X, Y),
                               _bce_naive(X, Y).mean(), rtol=1e-5)
    np.testing.assert_allclose(ops.binary_cross_entropy_with_logits(X, Y, None, PW),
                               _bce_naive(X, Y, pw=PW).mean(), rtol=1e-5)
    w21 = np.array([[2.0], [0.5]], np.float32)
    np.testing.assert_allclose(ops.binary_cross_entropy_with_logits(X, Y, w21),
                               _bce_naive(X, Y, w=w21).mean(), rtol=1e-5)
    np.testing.assert_allclose(nn.BCEWithLogitsLoss("sum")(X, Y), _bce_naive(X, Y).sum(),
                               rtol=1e-5)
    np.testing.assert_allclose(nn.BCEWithLogitsLoss("none", W, PW)(X, Y),
                               _bce_naive(X, Y, W, PW), rtol=1e-5)


def test_bce_with_logits_is_stable_for_large_logits():
    out = ops.binary_cross_entropy_with_logits(np.array([-100.0, 100.0], np.float32),
                                               np.array([1.0, 0.0], np.float32),
                                               reduction="none")
    np.testing.assert_allclose(out, [100.0, 100.0])
    assert out.dtype == np.float32


def test_bce_with_logits_refuses_bad_arguments():
    with pytest.raises(ValueError, match="reduction"):
        ops.binary_cross_entropy_with_logits(X, Y, reduction="bad")
    loss_fn = nn.BCEWithLogitsLoss(reduction="bad")      # accepted here, as in MindSpore
    with pytest.raises(ValueError, match="reduction"):
        loss_fn(X, Y)
    with pytest.raises(TypeError, match="target"):
        ops.binary_cross_entropy_with_logits(X, Y.astype(np.int32))
    with pytest.raises(ValueError, match="shape"):
        ops.binary_cross_entropy_with_logits(X, Y[0])
    with pytest.raises(ValueError, match="weight"):
        ops.binary_cross_entropy_with_logits(X, Y, np.ones(4, np.float32))
    with pytest.raises(TypeError, match="weight"):
        ops.binary_cross_entropy_with_logits(X, Y, [1.0, 2.0, 0.5])


def _tutorial():
    np.random.seed(0)
    x = ops.ones(5, dtypes.float32)
    y = ops.zeros(3, dtypes.float32)
    w = Parameter(Tensor(np.random.randn(5, 3), dtypes.float32), name="w")
    b = Parameter(Tensor(np.random.randn(3,), dtypes.float32), name="b")
    return x, y, w, b


def test_tutorial_forward_and_rule_numbers_match_reference_0():
    x, y, w, b = _tutorial()
    z = ops.matmul(x, w) + b
    assert type(z) is np.ndarray
    np.testing.assert_allclose(z, [6.46035, 3.87616, 1.59122], atol=1e-5)
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    np.testing.assert_allclose(loss, 4.04506, atol=1e-5)
    assert str(loss) == "4.045061"
    g = apply_rule(ops.binary_cross_entropy_with_logits, loss, np.float32(1.0), z, y,
                   ops.ones_like(z), ops.ones_like(z))
    np.testing.assert_allclose(g["input"], [0.33281, 0.32656, 0.27693], atol=1e-5)
    np.testing.assert_allclose(g["target"], [-2.15345, -1.29205, -0.53041], atol=1e-5)
    assert g["input"].dtype == np.float32
    gm = apply_rule(ops.matmul, z, g["input"], x, w)
    assert gm["other"].shape == (5, 3) and gm["other"].dtype == np.float32
    np.testing.assert_allclose(gm["other"][3], [0.33281, 0.32656, 0.27693], atol=1e-5)


# --------------------------------------------------------------------------
# derivative rules vs finite differences (float64, random seeds)
# --------------------------------------------------------------------------
POS = rnd(2, 3, seed=3, low=0.5, high=2.0)
PROB = rnd(2, 3, seed=4, low=0.1, high=0.9)

RULE_CASES = [
    ("matmul 2d", ops.matmul, (rnd(2, 4), rnd(4, 3, seed=2)), {}),
    ("matmul 1d@2d", ops.matmul, (rnd(4), rnd(4, 3, seed=2)), {}),
    ("matmul 2d@1d", ops.matmul, (rnd(3, 4), rnd(4, seed=2)), {}),
    ("matmul 1d@1d", ops.matmul, (rnd(4), rnd(4, seed=2)), {}),
    ("matmul batched", ops.matmul, (rnd(2, 3, 4), rnd(4, 5, seed=2)), {}),
    ("matmul 1d@batched", ops.matmul, (rnd(4), rnd(2, 4, 3, seed=2)), {}),
    ("dense", ops.dense, (rnd(5, 4), rnd(3, 4, seed=2), rnd(3, seed=5)), {}),
    ("dense 1d", ops.dense, (rnd(4), rnd(3, 4, seed=2), rnd(3, seed=5)), {}),
    ("dense 3d no bias", ops.dense, (rnd(2, 5, 4), rnd(3, 4, seed=2)), {}),
    ("add broadcast", ops.add, (rnd(2, 3), rnd(3, seed=2)), {}),
    ("sub broadcast", ops.sub, (rnd(2, 1), rnd(2, 3, seed=2)), {}),
    ("mul broadcast", ops.mul, (rnd(2, 3), rnd(1, 3, seed=2)), {}),
    ("div", ops.div, (rnd(2, 3), POS), {}),
    ("neg", ops.neg, (rnd(2, 3),), {}),
    ("pow", ops.pow, (POS, rnd(2, 3, seed=2)), {}),
    ("pow scalar exponent", ops.pow, (rnd(2, 3), 3.0), {}),
    ("square", ops.square, (rnd(2, 3),), {}),
    ("sqrt", ops.sqrt, (POS,), {}),
    ("abs", ops.abs, (rnd(2, 3),), {}),
    ("exp", ops.exp, (rnd(2, 3),), {}),
    ("log", ops.log, (POS,), {}),
    ("sin", ops.sin, (rnd(2, 3),), {}),
    ("cos", ops.cos, (rnd(2, 3),), {}),
    ("maximum", ops.maximum, (rnd(2, 3), rnd(3, seed=2)), {}),
    ("minimum", ops.minimum, (rnd(2, 3), rnd(2, 3, seed=2)), {}),
    ("sigmoid", ops.sigmoid, (rnd(2, 3),), {}),
    ("relu", ops.relu, (rnd(2, 3),), {}),
    ("tanh", ops.tanh, (rnd(2, 3),), {}),
    ("softplus", ops.softplus, (rnd(2, 3) * 15,), {}),
    ("softmax", ops.softmax, (rnd(2, 3),), {}),
    ("softmax axis0", ops.softmax, (rnd(2, 3),), {"axis": 0}),
    ("log_softmax", ops.log_softmax, (rnd(2, 3),), {}),
    ("sum all", ops.sum, (rnd(2, 3),), {}),
    ("sum dim", ops.sum, (rnd(2, 3, 4),), {"dim": (0, 2)}),
    ("sum keepdim", ops.sum, (rnd(2, 3),), {"dim": -1, "keepdim": True}),
    ("mean all", ops.mean, (rnd(2, 3),), {}),
    ("mean axis", ops.mean, (rnd(2, 3, 4),), {"axis": 1}),
    ("mean keep_dims", ops.mean, (rnd(2, 3),), {"axis": [0, 1], "keep_dims": True}),
    ("reshape", ops.reshape, (rnd(2, 3), (3, -1)), {}),
    ("transpose", ops.transpose, (rnd(2, 3, 4), (2, 0, 1)), {}),
    ("flatten", ops.flatten, (rnd(2, 3, 4),), {}),
    ("squeeze", ops.squeeze, (rnd(2, 1, 3),), {"axis": 1}),
    ("expand_dims", ops.expand_dims, (rnd(2, 3), 1), {}),
    ("bce logits all", ops.binary_cross_entropy_with_logits,
     (rnd(2, 3), PROB, rnd(3, seed=6, low=0.5), rnd(2, 1, seed=7, low=0.5)), {}),
    ("bce logits sum", ops.binary_cross_entropy_with_logits, (rnd(2, 3), PROB),
     {"reduction": "sum"}),
    ("bce logits none", ops.binary_cross_entropy_with_logits,
     (rnd(2, 3), PROB, None, rnd(3, seed=7, low=0.5)), {"reduction": "none"}),
    ("bce", ops.binary_cross_entropy, (PROB, rnd(2, 3, seed=9, low=0, high=1),
                                       rnd(3, seed=6, low=0.5)), {}),
    ("bce none", ops.binary_cross_entropy, (PROB, rnd(2, 3, seed=9, low=0, high=1)),
     {"reduction": "none"}),
    ("mse", ops.mse_loss, (rnd(2, 3), rnd(3, seed=2)), {}),
    ("mse none", ops.mse_loss, (rnd(2, 3), rnd(2, 3, seed=2)), {"reduction": "none"}),
    ("l1 sum", ops.l1_loss, (rnd(2, 3), rnd(2, 3, seed=2)), {"reduction": "sum"}),
]


@pytest.mark.parametrize("name,primal,args,kwargs", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_matches_finite_differences(name, primal, args, kwargs):
    check_rule(primal, args, kwargs)


LABELS = np.array([2, 0, 1, 2])


@pytest.mark.parametrize("kwargs", [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2},
    {"ignore_index": 0}, {"reduction": "none", "ignore_index": 1, "label_smoothing": 0.1},
])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_rule_class_indices(kwargs, weighted):
    weight = rnd(3, seed=8, low=0.5, high=2.0) if weighted else None
    args = (rnd(4, 3), LABELS, weight)
    check_rule(ops.cross_entropy, args, kwargs, wrt=[0, 2] if weighted else [0])


@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum", "label_smoothing": 0.3}])
def test_cross_entropy_rule_probabilities_and_spatial(kwargs):
    probs = ops.softmax(rnd(4, 3, seed=5))
    check_rule(ops.cross_entropy, (rnd(4, 3), probs, rnd(3, seed=8, low=0.5)), kwargs,
               wrt=[0, 1, 2])
    spatial = (rnd(2, 3, 4), np.array([[0, 1, 2, 1], [2, 2, 0, 1]]))
    check_rule(ops.cross_entropy, spatial, kwargs, wrt=[0])


def test_concat_rule_returns_one_adjoint_per_tensor():
    a, b = rnd(2, 3), rnd(2, 1, seed=2)
    z = ops.concat((a, b), axis=1)
    dz = rnd(2, 4, seed=3)
    pieces = apply_rule(ops.concat, z, dz, (a, b), axis=1)["tensors"]
    assert isinstance(pieces, tuple) and len(pieces) == 2
    np.testing.assert_array_equal(pieces[0], dz[:, :3])
    np.testing.assert_array_equal(pieces[1], dz[:, 3:])
    assert ops.cat is ops.concat


def test_rules_keep_float32_and_handle_python_scalars():
    x = rnd(2, 3).astype(np.float32)
    z = ops.mul(x, 2.0)
    g = apply_rule(ops.mul, z, np.ones_like(z), x, 2.0)
    assert g["input"].dtype == np.float32
    assert isinstance(g["other"], float) and g["other"] == pytest.approx(float(x.sum()), 1e-5)
    s = ops.sum(x)
    assert apply_rule(ops.sum, s, np.float32(1), x)["input"].dtype == np.float32
    m = ops.mean(x, axis=0)
    gm = apply_rule(ops.mean, m, np.ones(3, np.float32), x, axis=0)["input"]
    assert gm.dtype == np.float32 and np.allclose(gm, 0.5)


def test_maximum_ties_share_the_gradient():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0])
    g = apply_rule(ops.maximum, ops.maximum(a, b), np.ones(3), a, b)
    np.testing.assert_array_equal(g["input"], [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(g["other"], [0.5, 1.0, 0.0])


def test_tensor_rule_casts_back():
    data = rnd(3)
    z = Tensor(data, dtypes.float32)
    g = apply_rule(Tensor, z, np.ones(3, np.float32), data, dtypes.float32)["data"]
    assert g.dtype == np.float64 and g.shape == (3,)


def test_every_op_has_a_rule_or_is_nondifferentiable():
    # differentiated from their source, by design (one-line NumPy wrappers and
    # primitive classes, whose __call__ calls a functional op)
    from_source = {"dropout", "where", "clamp", "clip", "stack", "unsqueeze", "broadcast_to",
                   "tile", "logsumexp", "amax", "amin", "prod", "cumsum", "get_grad",
                   "GradOperation", *ops.PRIMITIVES}
    def covered(op):
        return registry.lookup(op) is not None or registry.is_nondifferentiable(op)

    missing = [name for name in ops.__all__
               if name not in from_source and not covered(getattr(ops, name))]
    assert not missing, f"ops without a rule: {missing}"
    for op in (ops.ones, ops.zeros, ops.ones_like, ops.zeros_like, ops.argmax,
               ops.stop_gradient):
        assert registry.is_nondifferentiable(op)
    assert registry.is_nondifferentiable(ops._dropout_mask)
    assert registry.lookup(ops.dropout) is None


def test_rule_templates_are_one_assignment_per_line():
    for name in dir(R):
        fn = getattr(R, name)
        rule = registry.lookup(getattr(ops, name.rstrip("_"), None))
        if rule is None or rule.template is not fn:
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0].body
        for stmt in body:
            assert isinstance(stmt, ast.Assign), f"{name}: {ast.dump(stmt)[:60]}"
            target = stmt.targets[0]
            assert isinstance(target, ast.Subscript) and target.value.id == "d"


# --------------------------------------------------------------------------
# other ops: forward values
# --------------------------------------------------------------------------
def test_stop_gradient_is_identity():
    a = np.array([1.0, 2.0])
    assert ops.stop_gradient(a) is a
    t = (a, a + 1)
    assert ops.stop_gradient(t) is t
    assert ops.stop_gradient(3.0) == 3.0


def test_matmul_shapes_reference_11():
    w = rnd(5, 3).astype(np.float32)
    assert ops.matmul(np.ones(5, np.float32), w).shape == (3,)
    assert ops.matmul(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 11.0
    assert ops.matmul(np.ones((4, 2, 5)), w).shape == (4, 2, 3)
    with pytest.raises(ValueError):
        ops.matmul(np.ones(2), w)


def test_reductions_use_mindspore_parameter_names():
    x = rnd(2, 3)
    np.testing.assert_allclose(ops.sum(x, dim=1, keepdim=True), x.sum(1, keepdims=True))
    np.testing.assert_allclose(ops.mean(x, axis=0, keep_dims=True), x.mean(0, keepdims=True))
    np.testing.assert_allclose(ops.sum(x, dim=[0, 1]), x.sum())
    assert list(inspect.signature(ops.sum).parameters) == ["input", "dim", "keepdim", "dtype"]
    assert list(inspect.signature(ops.mean).parameters) == ["input", "axis", "keep_dims"]
    assert str(inspect.signature(ops.binary_cross_entropy_with_logits)) == \
        "(input, target, weight=None, pos_weight=None, reduction='mean')"
    np.testing.assert_array_equal(ops.argmax(x, dim=1), x.argmax(1))


def test_softmax_family_and_shapes():
    x = rnd(2, 3) * 50
    s = ops.softmax(x)
    np.testing.assert_allclose(s.sum(-1), 1.0)
    np.testing.assert_allclose(ops.log_softmax(x), np.log(s), atol=1e-9)
    np.testing.assert_allclose(ops.sigmoid(np.array([-800.0, 0.0, 800.0])), [0.0, 0.5, 1.0])
    assert ops.sigmoid(np.ones(2, np.float32)).dtype == np.float32
    assert ops.transpose(rnd(2, 3, 4), (2, 0, 1)).shape == (4, 2, 3)
    assert ops.concat((np.ones((2, 1)), np.zeros((2, 2))), axis=1).shape == (2, 3)
    assert ops.reshape(rnd(2, 3), (3, 2)).shape == (3, 2)
    assert ops.flatten(rnd(2, 3, 4)).shape == (2, 12)
    assert ops.flatten(rnd(2, 3, 4), start_dim=0, end_dim=1).shape == (6, 4)


def test_dropout_scales_kept_values():
    x = np.ones((200, 50), np.float32)
    np.random.seed(0)
    y = ops.dropout(x, p=0.25)
    assert y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert ops.dropout(x, p=0.25, training=False) is x
    with pytest.raises(ValueError, match="p"):
        ops.dropout(x, p=1.5)


def _ce_naive(logits, target, weight=None, ignore_index=-100, reduction="mean", ls=0.0):
    """PyTorch's documented cross-entropy, in plain loops."""
    n, c = logits.shape
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    w = np.ones(c) if weight is None else weight
    losses, denom = [], 0.0
    for i in range(n):
        if target.dtype.kind == "f":
            t = target[i] * (1 - ls) + ls / c
            losses.append(-(w * t * logp[i]).sum())
            denom += 1
        elif target[i] == ignore_index:
            losses.append(0.0)
        else:
            k = target[i]
            nll = -w[k] * logp[i, k]
            smooth = -(w * logp[i]).sum() / c
            losses.append((1 - ls) * nll + ls * smooth)
            denom += w[k]
    losses = np.array(losses)
    return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / denom}[reduction]


@pytest.mark.parametrize("kwargs", [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"ignore_index": 2},
    {"label_smoothing": 0.1}, {"weight": np.array([0.2, 1.0, 3.0])},
    {"weight": np.array([0.2, 1.0, 3.0]), "label_smoothing": 0.3, "ignore_index": 0},
])
def test_cross_entropy_forward(kwargs):
    logits = rnd(4, 3)
    kw = dict(kwargs)
    ls = kw.pop("label_smoothing", 0.0)
    want = _ce_naive(logits, LABELS, ls=ls, **kw)
    np.testing.assert_allclose(ops.cross_entropy(logits, LABELS, label_smoothing=ls, **kw), want)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=ls, **kw)
    np.testing.assert_allclose(loss_fn(logits, LABELS), want)
    probs = ops.softmax(rnd(4, 3, seed=7))
    np.testing.assert_allclose(ops.cross_entropy(logits, probs, label_smoothing=ls,
                                                 weight=kw.get("weight"),
                                                 reduction=kw.get("reduction", "mean")),
                               _ce_naive(logits, probs, kw.get("weight"),
                                         reduction=kw.get("reduction", "mean"), ls=ls))


def test_cross_entropy_keeps_float32_and_checks_targets():
    logits = rnd(4, 3).astype(np.float32)
    assert ops.cross_entropy(logits, LABELS).dtype == np.float32
    with pytest.raises(ValueError, match="class index"):
        ops.cross_entropy(logits, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="shape"):
        ops.cross_entropy(logits, np.array([0, 1]))


def test_regression_losses_forward():
    a, b = rnd(2, 3), rnd(2, 3, seed=2)
    np.testing.assert_allclose(ops.mse_loss(a, b), ((a - b) ** 2).mean())
    np.testing.assert_allclose(nn.MSELoss("sum")(a, b), ((a - b) ** 2).sum())
    np.testing.assert_allclose(nn.L1Loss()(a, b), np.abs(a - b).mean())
    np.testing.assert_allclose(nn.L1Loss("none")(a, b), np.abs(a - b))
    p, t = PROB, rnd(2, 3, seed=9, low=0, high=1)
    want = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(nn.BCELoss()(p, t), want.mean())
    np.testing.assert_allclose(ops.binary_cross_entropy(p, t, W, "sum"), (want * W).sum(),
                               rtol=1e-6)
    assert np.isfinite(ops.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])))
    with pytest.raises(ValueError, match="reduction"):
        ops.mse_loss(a, b, reduction="avg")


# --------------------------------------------------------------------------
# Cell (docs/behaviour.md section 9)
# --------------------------------------------------------------------------
class Net2(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.ones((3, 2), np.float32))
        self.b = Parameter(np.zeros(2, np.float32), name="bias_named")
        self.frozen = Parameter(np.ones(1, np.float32), name="frozen", requires_grad=False)
        self.sub = nn.Dense(2, 1)

    def construct(self, x):
        return self.sub(ops.matmul(x, self.w) + self.b) * self.frozen


def test_cell_parameter_names_reference_9():
    net = Net2()
    assert [p.name for p in net.trainable_params()] == ["w", "bias_named", "sub.weight",
                                                         "sub.bias"]
    assert type(net.trainable_params()) is list
    assert [p.name for p in net.get_parameters()] == ["w", "bias_named", "frozen",
                                                       "sub.weight", "sub.bias"]
    assert list(net.parameters_dict()) == ["w", "bias_named", "frozen", "sub.weight",
                                           "sub.bias"]
    assert net.trainable_params()[0] is net.w and net.w.requires_grad
    assert [p.name for p in net.untrainable_params()] == ["frozen"]
    assert list(net.cells()) == [net.sub]


def test_cell_call_is_construct():
    net = Net2()
    x = rnd(4, 3).astype(np.float32)
    want = (x @ net.w + net.b) @ net.sub.weight.T + net.sub.bias
    np.testing.assert_allclose(net(x), want, rtol=1e-6)
    np.testing.assert_array_equal(net(x), net.construct(x))


def test_shared_parameters_are_listed_once_and_named_params_keep_names():
    shared = Parameter(np.ones(2), name="shared")

    class Inner(nn.Cell):
        def __init__(self):
            super().__init__()
            self.p = shared
            self.q = Parameter(np.ones(2))

    class Outer(nn.Cell):
        def __init__(self):
            super().__init__()
            self.a = shared
            self.inner = Inner()
            self.again = shared

    names = [p.name for p in Outer().trainable_params()]
    assert names == ["shared", "inner.q"]


def test_cell_requires_super_init_for_parameters():
    class BadCell(nn.Cell):
        def __init__(self):
            self.w = Parameter(np.ones(2))

    with pytest.raises(AttributeError, match=r"Cell.__init__\(\)"):
        BadCell()

    class PlainAttr(nn.Cell):
        def __init__(self):
            self.scale = 2.0      # plain values are fine, as in MindSpore (9.11)

    assert PlainAttr().scale == 2.0


def test_containers_name_their_children():
    np.random.seed(1)
    seq = nn.SequentialCell(nn.Dense(4, 3), nn.ReLU(), nn.Dense(3, 2))
    assert [p.name for p in seq.trainable_params()] == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]
    x = rnd(5, 4).astype(np.float32)
    h = np.maximum(x @ seq[0].weight.T + seq[0].bias, 0)
    np.testing.assert_allclose(seq(x), h @ seq[2].weight.T + seq[2].bias, rtol=1e-6)
    assert len(seq) == 3 and nn.SequentialCell([nn.ReLU()])[0].__class__ is nn.ReLU

    class Model(nn.Cell):
        def __init__(self):
            super().__init__()
            self.blocks = nn.CellList([nn.Dense(2, 2), nn.Dense(2, 2)])

    assert [p.name for p in Model().trainable_params()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]


def test_train_mode_switches_dropout():
    np.random.seed(0)
    net = nn.SequentialCell(nn.Dense(4, 4), nn.Dropout(p=0.5))
    assert net.training is False                  # MindSpore cells start in eval mode
    x = np.ones((50, 4), np.float32)
    np.testing.assert_array_equal(net(x), net[0](x))
    assert net.set_train() is net and net[1].training
    assert (net(x) == 0).mean() > 0.3
    net.set_train(False)
    assert not net[1].training
    assert nn.Dropout(keep_prob=0.8).p == pytest.approx(0.2)


def test_dense_forward_and_init():
    np.random.seed(0)
    layer = nn.Dense(10, 4)
    assert layer.weight.shape == (4, 10) and layer.bias.shape == (4,)
    assert layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(10)                       # HeUniform(sqrt(5)) on fan_in=10
    assert np.abs(layer.weight).max() <= bound and np.abs(layer.weight).max() > bound / 2
    assert np.abs(layer.bias).max() <= bound
    x = rnd(3, 10).astype(np.float32)
    np.testing.assert_allclose(layer(x), x @ layer.weight.T + layer.bias, rtol=1e-6)
    np.testing.assert_allclose(layer(x[0]), x[0] @ layer.weight.T + layer.bias, rtol=1e-6)
    act = nn.Dense(10, 4, weight_init="ones", bias_init="zeros", activation="tanh")
    np.testing.assert_allclose(act(x), np.tanh(x.sum(1, keepdims=True) * np.ones(4)),
                               rtol=1e-6)
    nobias = nn.Dense(10, 4, has_bias=False, weight_init=nn.init.Normal(0.1))
    assert nobias.bias is None and [p.name for p in nobias.trainable_params()] == ["weight"]
    np.testing.assert_allclose(nobias(x), x @ nobias.weight.T, rtol=1e-6)


def test_initializers():
    np.random.seed(0)
    assert nn.init.initializer("zeros", (2, 3)).dtype == np.float32
    assert np.all(nn.init.initializer("ones", 4) == 1)
    xu = nn.init.initializer("xavier_uniform", (20, 30))
    assert np.abs(xu).max() <= np.sqrt(6 / 50)
    assert abs(nn.init.initializer(nn.init.HeNormal(), (400, 100)).std() - np.sqrt(2 / 100)) < 0.01
    assert nn.init.initializer(0.5, (2,)).tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="unknown initializer"):
        nn.init.initializer("gaussian", (2, 2))


def test_cell_constructs_are_plain_python():
    """The engine reads construct bodies: no try, comprehension, nested def, attribute write."""
    banned = (ast.Try, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
              ast.FunctionDef, ast.Lambda, ast.With)
    cells = [nn.Dense, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LogSoftmax, nn.Flatten,
             nn.Dropout, nn.SequentialCell, nn.BCEWithLogitsLoss, nn.BCELoss, nn.MSELoss,
             nn.L1Loss, nn.CrossEntropyLoss, nn.SoftmaxCrossEntropyWithLogits]
    for cls in cells:
        fdef = ast.parse(textwrap.dedent(inspect.getsource(cls.construct))).body[0]
        for node in ast.walk(ast.Module(fdef.body, [])):
            assert not isinstance(node, banned), f"{cls.__name__}.construct: {node}"
            if isinstance(node, ast.Attribute):
                assert isinstance(node.ctx, ast.Load), f"{cls.__name__}: attribute write"
        assert fdef.args.kwarg is None


# --------------------------------------------------------------------------
# optimizers
# --------------------------------------------------------------------------
def _params():
    return [Parameter(np.array([1.0, -2.0], np.float32), name="a"),
            Parameter(np.array([[0.5]], np.float32), name="b")]


G1 = (np.array([0.1, -0.3], np.float32), np.array([[2.0]], np.float32))
G2 = (np.array([-0.2, 0.4], np.float32), np.array([[1.0]], np.float32))


def test_sgd_updates_in_place():
    ps = _params()
    before = [p.copy() for p in ps]
    ids = [id(p) for p in ps]
    opt = nn.SGD(ps, learning_rate=0.1)
    assert opt(G1) is True
    assert [id(p) for p in ps] == ids and all(type(p) is Parameter for p in ps)
    for p, p0, g in zip(ps, before, G1):
        np.testing.assert_allclose(p, p0 - 0.1 * g, rtol=1e-6)
        assert p.dtype == np.float32


def test_sgd_momentum_weight_decay_two_steps():
    ps = _params()
    p0 = ps[0].copy()
    opt = nn.SGD(ps, learning_rate=0.1, momentum=0.9, weight_decay=0.01)
    opt(G1)
    g1 = G1[0] + 0.01 * p0
    p1 = p0 - 0.1 * g1
    np.testing.assert_allclose(ps[0], p1, rtol=1e-6)
    opt(G2)
    g2 = G2[0] + 0.01 * p1
    np.testing.assert_allclose(ps[0], p1 - 0.1 * (0.9 * g1 + g2), rtol=1e-6)


def test_momentum_two_steps():
    ps = _params()
    p0 = ps[1].copy()
    opt = nn.Momentum(ps, learning_rate=0.5, momentum=0.9)
    opt(G1)
    opt(G2)
    a1 = G1[1]
    a2 = 0.9 * a1 + G2[1]
    np.testing.assert_allclose(ps[1], p0 - 0.5 * a1 - 0.5 * a2, rtol=1e-6)


def test_adam_two_steps():
    ps = _params()
    p = ps[0].copy().astype(np.float64)
    opt = nn.Adam(ps, learning_rate=0.01)
    m = v = 0.0
    for t, grads in enumerate((G1, G2), start=1):
        opt(grads)
        g = grads[0].astype(np.float64)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        lr_t = 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        p = p - lr_t * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(ps[0], p, rtol=1e-5)


def test_optimizer_validates_gradients():
    ps = _params()
    opt = nn.SGD(ps)
    with pytest.raises(ValueError, match="2 parameters"):
        opt(G1[:1])
    with pytest.raises(ValueError, match="'b'"):
        opt((G1[0], np.ones(3)))
    with pytest.raises(TypeError, match="Parameter"):
        nn.Adam([np.ones(2)])
    assert nn.SGD(Net2().trainable_params()).parameters[2].name == "sub.weight"


# --------------------------------------------------------------------------
# more ops, MindSpore's primitive classes, and Cells with their own bprop
# --------------------------------------------------------------------------
import sourcegrad as sg  # noqa: E402
from sourcegrad.testing import check_grads  # noqa: E402

_POS = np.array([[0.3, 1.2, 0.7], [2.1, 0.45, 1.6]])
_ANY = np.array([[0.3, -1.2, 0.7], [-2.1, 0.45, 1.6]])


@pytest.mark.parametrize("op, x", [
    (ops.tan, _ANY * 0.5), (ops.atan, _ANY), (ops.sinh, _ANY), (ops.cosh, _ANY),
    (ops.log1p, _POS), (ops.expm1, _ANY), (ops.rsqrt, _POS), (ops.reciprocal, _POS),
    (ops.leaky_relu, _ANY), (ops.silu, _ANY), (ops.elu, _ANY), (ops.relu6, _ANY * 4),
    (lambda v: ops.where(v > 0, v * v, -v), _ANY), (lambda v: ops.clamp(v, -1.0, 1.0), _ANY),
    (lambda v: ops.stack((v, v * v), 1), _ANY), (lambda v: ops.unsqueeze(v, 0), _ANY),
    (lambda v: ops.broadcast_to(v[0], (4, 3)), _ANY), (lambda v: ops.tile(v, (2, 1)), _ANY),
    (lambda v: ops.logsumexp(v, 1), _ANY), (lambda v: ops.amax(v, 1), _ANY),
    (lambda v: ops.prod(v, 0), _ANY), (lambda v: ops.cumsum(v, 1), _ANY),
    (lambda v: ops.depend(v * 2, v), _ANY), (lambda v: ops.cast(v, np.float64), _ANY),
])
def test_more_ops_match_finite_differences(op, x):
    check_grads(lambda v: np.sum(op(v) * np.arange(1, op(v).size + 1).reshape(op(v).shape)),
                x)


def test_more_ops_forward_values():
    x = np.array([-2.0, 0.5, 7.0])
    np.testing.assert_allclose(ops.leaky_relu(x), [-0.4, 0.5, 7.0])
    np.testing.assert_allclose(ops.relu6(x), [0.0, 0.5, 6.0])
    np.testing.assert_allclose(ops.elu(x), [np.expm1(-2.0), 0.5, 7.0])
    np.testing.assert_allclose(ops.logsumexp(np.array([[1000.0, 1000.0]]), 1),
                               [1000.0 + np.log(2.0)])
    assert ops.logsumexp(np.ones((2, 3)), 1, keep_dims=True).shape == (2, 1)


class _PrimNet(nn.Cell):
    def __init__(self):
        super().__init__()
        self.matmul = ops.MatMul(transpose_b=True)
        self.reduce_sum = ops.ReduceSum(keep_dims=True)
        self.exp = ops.Exp()
        self.softmax = ops.Softmax()

    def construct(self, x, w):
        h = self.exp(self.matmul(x, w) * 0.1)
        return self.reduce_sum(self.softmax(h) * h, 1)


def test_primitive_objects_match_functional_ops():
    x = np.ones((2, 3))
    assert ops.ReduceSum()(x).shape == ()           # axis=() means every axis
    assert ops.ReduceSum(keep_dims=True)(x, 1).shape == (2, 1)
    assert ops.ReduceMean()(x, (0, 1)) == 1.0
    np.testing.assert_allclose(ops.MatMul(transpose_a=True)(x, x), x.T @ x)
    np.testing.assert_allclose(ops.BiasAdd()(np.zeros((2, 3)), np.arange(3.0)),
                               np.tile(np.arange(3.0), (2, 1)))
    assert ops.Argmax(axis=1)(np.eye(3)).dtype == np.int32
    assert ops.Shape()(x) == (2, 3)


def test_gradient_through_primitive_objects_in_a_cell():
    net = _PrimNet()
    x = np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.7]])
    w = np.array([[0.1, 0.2, -0.3], [0.5, -0.4, 0.6]])
    check_grads(lambda a, b: net(a, b), x, w)


class _ScaledBackward(nn.Cell):
    """A Cell with MindSpore's custom backward: bprop(self, *inputs, out, dout)."""

    def construct(self, x, y):
        return x * y

    def bprop(self, x, y, out, dout):
        return dout * 10.0, None


def test_cell_bprop_is_used_instead_of_construct():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    gx, gy = sg.grad(_ScaledBackward(), (0, 1))(x, y)
    np.testing.assert_allclose(gx, [10.0, 10.0])
    np.testing.assert_allclose(gy, [0.0, 0.0])      # None: no gradient
    # and as a sub-cell called at run time
    class Outer(nn.Cell):
        def __init__(self):
            super().__init__()
            self.inner = _ScaledBackward()

        def construct(self, x):
            return np.sum(self.inner(x * x, x))
    np.testing.assert_allclose(sg.grad(Outer())(x), 20.0 * x)


def test_cell_bprop_must_return_a_tuple():
    class Bad(nn.Cell):
        def construct(self, x):
            return x

        def bprop(self, x, out, dout):
            return dout
    with pytest.raises(ValueError, match=r"return \(dx,\)"):
        sg.grad(Bad())(np.ones(2))


def test_softmax_cross_entropy_with_logits():
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    labels = np.array([0, 2], np.int32)
    onehot = np.eye(3)[labels]
    per_sample = -np.sum(onehot * (logits - np.log(np.sum(np.exp(logits), 1, keepdims=True))), 1)
    # MindSpore's default: dense labels, no reduction
    np.testing.assert_allclose(nn.SoftmaxCrossEntropyWithLogits()(logits, onehot), per_sample)
    sparse_mean = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    np.testing.assert_allclose(sparse_mean(logits, labels), per_sample.mean())
    check_grads(lambda z: sparse_mean(z, labels), logits)
    check_grads(lambda z, t: nn.SoftmaxCrossEntropyWithLogits(reduction="sum")(z, t),
                logits, onehot)


def test_loss_base_get_loss_for_a_user_loss():
    class MAE(nn.LossBase):
        def __init__(self, reduction="mean"):
            super().__init__(reduction)
            self.abs = ops.Abs()

        def construct(self, predict, target):
            return self.get_loss(self.abs(target - predict))

    p, t = np.array([[0.3], [-1.2]]), np.array([[1.0], [0.5]])
    assert MAE()(p, t) == pytest.approx(1.2)
    assert MAE("sum")(p, t) == pytest.approx(2.4)
    assert MAE("none")(p, t).shape == (2, 1)
    check_grads(lambda a: MAE()(a, t), p)
    with pytest.raises(ValueError, match="reduction"):
        MAE("avg")


def test_train_one_step_cell_matches_a_manual_sgd_step():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    net = nn.Dense(3, 1)
    w0, b0 = net.weight.copy(), net.bias.copy()
    loss_net = nn.WithLossCell(net, nn.MSELoss())
    assert loss_net.backbone_network is net
    assert [p.name for p in loss_net.trainable_params()] == ["weight", "bias"]
    loss = nn.TrainOneStepCell(loss_net, nn.SGD(net.trainable_params(), 0.1))(x, y)
    pred = x @ w0.T + b0
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    dpred = 2 * (pred - y) / pred.size
    np.testing.assert_allclose(net.weight, w0 - 0.1 * dpred.T @ x, rtol=1e-5)
    np.testing.assert_allclose(net.bias, b0 - 0.1 * dpred.sum(0), rtol=1e-5)


def test_set_grad_is_accepted_and_changes_nothing():
    net = nn.Dense(2, 1)
    assert net.set_grad() is net
    x = np.ones((1, 2), np.float32)
    np.testing.assert_allclose(sg.grad(net, None, net.trainable_params())(x)[0], x)
