"""Forward mode and the Jacobians on Array API inputs: ``jvp``, ``jacfwd``, ``jacrev``,
``hessian`` (and ``vjp``) on array-api-strict arrays and PyTorch CPU tensors run on
their own namespace (README, "Dask and other array libraries") and return that
library's arrays, equal to the NumPy results, which are checked against central
finite differences here.

array-api-strict allows only what the standard specifies, and the tests forbid
any conversion of its arrays or of PyTorch tensors to NumPy while a transformation
runs.
"""
import os
import sys

import numpy as np
import pytest
from numpy.linalg import inv

import sourcegrad as sg
from sourcegrad.testing import numeric_grad

# -- small functions: elementwise, matmul, reductions, indexing, control flow --------


def elementwise(x):
    return np.tanh(x) * x + np.exp(-x) / (1.0 + x * x)


def matmul(x, W):
    return np.sin(W @ x) + W @ (x * x)


def inner(x):
    """A vector's inner product with itself (the identity basis meets ``x @ x``)."""
    return (x @ x) * np.tanh(x)


def reductions(x):
    m = np.reshape(x, (2, 3))
    return np.sum(m * m, axis=0) * np.mean(x) + np.max(x)


def indexing(x):
    y = x[1:] * x[:-1]
    return y * x[0] + x[:5] ** 2 + x[3]


def linalg(x):
    """solve, inv and det (their tangents use np.trace over two axes: the standard's
    linalg.trace)."""
    a = np.reshape(x[:4], (2, 2)) + 2.0 * np.eye(2)
    return np.linalg.solve(a, x[4:]) + np.linalg.inv(a)[0, ...] * np.linalg.det(a)


def shifted(x):
    """Rules without a batched formula (one direction at a time): roll and tile."""
    return np.roll(x, 1) * np.tile(x[:3], 2)


def control_flow(x):
    h = x
    for i in range(3):
        if np.sum(h) > 0.0:
            h = np.sin(h) * x
        else:
            h = h * h - x
    return h


def scalar_loss(x, W):
    """A scalar function of two inputs (for hessian and a tuple grad_position)."""
    return np.sum(np.tanh(W @ x) ** 2) + np.sum(x[1:4] * x[0:3])


def _inputs():
    rng = np.random.default_rng(7)
    return {"x": rng.standard_normal(6) * 0.5, "W": rng.standard_normal((4, 6)) * 0.5}


# name: (function, its arguments' names, scalar output?)
FUNCTIONS = {
    "elementwise": (elementwise, ("x",)),
    "matmul": (matmul, ("x", "W")),
    "reductions": (reductions, ("x",)),
    "inner": (inner, ("x",)),
    "linalg": (linalg, ("x",)),
    "shifted": (shifted, ("x",)),
    "indexing": (indexing, ("x",)),
    "control_flow": (control_flow, ("x",)),
    "scalar": (scalar_loss, ("x", "W")),
}


def _args(name):
    values = _inputs()
    return tuple(values[a] for a in FUNCTIONS[name][1])


def _numeric_jacobian(fn, args, p):
    """The Jacobian of ``fn`` in argument ``p`` by central differences, one output
    element at a time."""
    out = np.asarray(fn(*args))
    rows = []
    for k in range(out.size):
        def component(*a, k=k):
            return np.reshape(fn(*a), -1)[k]
        rows.append(numeric_grad(component, args, p))
    return np.reshape(np.array(rows), out.shape + np.shape(args[p]))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_numpy_reference_is_right(name):
    """The NumPy Jacobians the namespace results are compared with."""
    fn = FUNCTIONS[name][0]
    args = _args(name)
    for p in range(len(args)):
        want = _numeric_jacobian(fn, args, p)
        for transform in (sg.jacfwd, sg.jacrev):
            np.testing.assert_allclose(transform(fn, p)(*args), want, rtol=1e-6, atol=1e-7)


# -- the libraries -------------------------------------------------------------------

@pytest.fixture
def strict(monkeypatch):
    xps = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed: "
                              "pip install 'sourcegrad[array-api]'")
    Array = type(xps.asarray(1.0))

    def refuse(self, *args, **kwargs):
        raise AssertionError("an array-api-strict array was converted to NumPy")

    monkeypatch.setattr(Array, "__array__", refuse)
    monkeypatch.setattr(Array, "__buffer__", refuse, raising=False)
    return xps.asarray, Array, np.from_dlpack


@pytest.fixture
def torch(monkeypatch):
    pytest.importorskip("array_api_compat", reason="array-api-compat is not installed: "
                        "pip install 'sourcegrad[array-api]'")
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")

    def refuse(self, *args, **kwargs):
        raise AssertionError("a PyTorch tensor was converted to NumPy")

    monkeypatch.setattr(torch.Tensor, "__array__", refuse)
    return torch.asarray, torch.Tensor, lambda a: a.numpy()


def _library(kind, request):
    """(make an array, its type, read one back as NumPy) for the library ``kind``."""
    return request.getfixturevalue(kind)


def _same(got, want, Array, back):
    """``got`` (a namespace result: arrays, tuples of them) equals the NumPy ``want``
    to 1e-12, every array of the library's own type and float64."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w, Array, back)
        return
    assert isinstance(got, Array), type(got)
    assert tuple(got.shape) == np.shape(want)
    assert back(got).dtype == np.float64
    np.testing.assert_allclose(back(got), want, rtol=1e-12, atol=1e-12)


KINDS = ["strict", "torch"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_jvp(name, kind, request):
    make, Array, back = _library(kind, request)
    fn = FUNCTIONS[name][0]
    args = _args(name)
    v = tuple(np.linspace(-1.0, 1.0, a.size).reshape(a.shape) for a in args)
    ref_out, ref_t = sg.jvp(fn, args, v)
    for _ in range(2):  # the first call, then a cached one
        out, t = sg.jvp(fn, tuple(make(a) for a in args), tuple(make(a) for a in v))
        _same(out, ref_out, Array, back)
        _same(t, ref_t, Array, back)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transform", ["jacfwd", "jacrev"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_jacobians(name, transform, kind, request):
    make, Array, back = _library(kind, request)
    fn = FUNCTIONS[name][0]
    args = _args(name)
    positions = tuple(range(len(args)))
    for grad_position in (0, positions) if len(args) > 1 else (0,):
        ref = getattr(sg, transform)(fn, grad_position)(*args)
        jac = getattr(sg, transform)(fn, grad_position)
        for _ in range(2):
            _same(jac(*(make(a) for a in args)), ref, Array, back)


@pytest.mark.parametrize("kind", KINDS)
def test_hessian(kind, request):
    make, Array, back = _library(kind, request)
    args = _args("scalar")
    for grad_position in (0, 1, (0, 1)):
        ref = sg.hessian(scalar_loss, grad_position)(*args)
        h = sg.hessian(scalar_loss, grad_position)
        for _ in range(2):
            _same(h(*(make(a) for a in args)), ref, Array, back)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vjp(name, kind, request):
    make, Array, back = _library(kind, request)
    fn = FUNCTIONS[name][0]
    args = _args(name)
    out = fn(*args)
    u = np.linspace(0.5, -0.5, np.size(out)).reshape(np.shape(out))
    ref_out, ref_fn = sg.vjp(fn, *args)
    got_out, got_fn = sg.vjp(fn, *(make(a) for a in args))
    _same(got_out, ref_out, Array, back)
    _same(got_fn(make(u)), ref_fn(u), Array, back)


# -- compositions: a transformation of a transformation, on the namespace -----------

def _total(x):
    return np.sum(np.tanh(x) ** 2)


def _calls_jvp(x):
    return sg.jvp(elementwise, x, x)[1] * 2.0


def _sum_of_jvp(x):
    return np.sum(sg.jvp(elementwise, x, x)[1])


def _sum_of_hessian(x):
    return np.sum(sg.hessian(_total)(x))


def _with_aux(x):
    return elementwise(x), np.sum(x)


def _of_dict(p):
    return p["w"] * np.sin(p["w"])


def _of_matrix(m):
    return np.tanh(m) @ m.T


def _rows_of(m):
    """Rows and a column of a matrix, indexed as the standard has it (``m[0, ...]``)."""
    return np.sum(m[0, ...] * m[1, ...]) + m[:, 1] * np.sum(m[:, 1:], axis=1)


COMPOSITIONS = {
    "jacfwd(jacfwd)": lambda x: sg.jacfwd(sg.jacfwd(elementwise))(x),
    "jacfwd(jacrev)": lambda x: sg.jacfwd(sg.jacrev(elementwise))(x),
    "jacrev(jacfwd)": lambda x: sg.jacrev(sg.jacfwd(elementwise))(x),
    "jacrev(jacrev)": lambda x: sg.jacrev(sg.jacrev(elementwise))(x),
    "jacfwd(hessian)": lambda x: sg.jacfwd(sg.hessian(_total))(x),
    "jvp(grad)": lambda x: sg.jvp(sg.grad(_total), x, x)[1],
    "jvp(jvp)": lambda x: sg.jvp(_calls_jvp, x, x)[1],
    "grad(jvp)": lambda x: sg.grad(_sum_of_jvp)(x),
    "grad(hessian)": lambda x: sg.grad(_sum_of_hessian)(x),
    "jacfwd has_aux": lambda x: sg.jacfwd(_with_aux, has_aux=True)(x),
    "jacrev has_aux": lambda x: sg.jacrev(_with_aux, has_aux=True)(x),
    "jvp has_aux": lambda x: sg.jvp(_with_aux, x, x, has_aux=True),
    "jacfwd of a tuple": lambda x: sg.jacfwd(_with_aux)(x),
    "jacfwd of a dict": lambda x: sg.jacfwd(_of_dict)({"w": x})["w"],
}


def _flat(result):
    """The arrays of a (nested) tuple result, in order."""
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _flat(r)]
    return [result]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(COMPOSITIONS))
def test_compositions(name, kind, request):
    make, Array, back = _library(kind, request)
    x = _inputs()["x"]
    want = _flat(COMPOSITIONS[name](x))
    got = _flat(COMPOSITIONS[name](make(x)))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, float):  # (an aux output: the function's own float)
            assert float(g) == pytest.approx(w, rel=1e-12)
            continue
        _same(g, w, Array, back)


@pytest.mark.parametrize("kind", KINDS)
def test_matrix_input(kind, request):
    make, Array, back = _library(kind, request)
    m = np.reshape(_inputs()["x"], (2, 3))
    for fn in (_of_matrix, _rows_of):
        for transform in (sg.jacfwd, sg.jacrev):
            _same(transform(fn)(make(m)), transform(fn)(m), Array, back)


# -- what the namespace lacks: refused by name ----------------------------------------

def _sinc(x):
    return np.sinc(x) * 2.0


def _sum_sinc(x):
    return np.sum(np.sinc(x))


@pytest.mark.parametrize("transform", ["jvp", "jacfwd", "jacrev", "hessian"])
def test_numpy_only_function_named_at_the_users_line(transform, strict):
    """A NumPy function array-api-strict lacks is refused before anything runs, naming
    it and the user's line, in every transformation (as grad's is)."""
    make = strict[0]
    x = make(np.array([0.5, 1.5]))
    calls = {"jvp": lambda: sg.jvp(_sinc, x, x), "jacfwd": lambda: sg.jacfwd(_sinc)(x),
             "jacrev": lambda: sg.jacrev(_sinc)(x),
             "hessian": lambda: sg.hessian(_sum_sinc)(x)}
    with pytest.raises(sg.SourcegradError, match=r"np\.sinc: NumPy-only.*array_api_strict "
                       r"has no sinc") as err:
        calls[transform]()
    assert err.value.filename == __file__ and "np.sinc(x)" in err.value.line
    # (NumPy's own runs)
    sg.jvp(_sinc, np.array([0.5, 1.5]), np.ones(2))


# -- NumPy's rules and a Cell, forward mode on the namespace ----------------------------

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_array_api import RULE_CASES  # noqa: E402


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transform", ["jacfwd", "jacrev", "hessian"])
@pytest.mark.parametrize("fn", RULE_CASES, ids=lambda f: f.__name__.strip("_"))
def test_numpy_rules_on_namespace(fn, transform, kind, request):
    """The tangent rules (and forward mode over the adjoint rules, for hessian) written
    for NumPy run on the namespace: reductions with ties, maximum, powers, var, cumsum,
    reshapes and transposes, clip and where, arrays made from a shape."""
    make, Array, back = _library(kind, request)
    x = np.linspace(0.1, 0.9, 6)
    ref = getattr(sg, transform)(fn)(x)
    if transform == "hessian":
        np.testing.assert_allclose(ref, _numeric_jacobian(sg.grad(fn), (x,), 0), rtol=1e-5,
                                   atol=1e-6)
    _same(getattr(sg, transform)(fn)(make(x)), ref, Array, back)


@pytest.mark.parametrize("kind", KINDS)
def test_cell(kind, request):
    """A Cell's NumPy Parameters read against the namespace's data."""
    from sourcegrad import nn
    make, Array, back = _library(kind, request)
    net = nn.Dense(6, 3, activation="tanh", dtype=np.float64)
    x = _inputs()["x"][None, :]
    for transform in (sg.jacfwd, sg.jacrev):
        ref = transform(net)(x)
        np.testing.assert_allclose(ref, _numeric_jacobian(net, (x,), 0), rtol=1e-6,
                                   atol=1e-7)
        _same(transform(net)(make(x)), ref, Array, back)
    v = np.ones_like(x)
    out, t = sg.jvp(net, make(x), make(v))
    _same(t, sg.jvp(net, x, v)[1], Array, back)


class _WithBprop(sg.nn.Cell):
    def construct(self, x):
        return x * 3.0 + 1.0

    def bprop(self, x, out, dout):
        return (dout * 3.0,)


_WITH_BPROP = _WithBprop()


def _uses_bprop(x):
    return _WITH_BPROP(x) * x


@pytest.mark.parametrize("kind", KINDS)
def test_jacrev_rows_through_a_bprop(kind, request):
    """A Cell's own bprop has no tangent: jacrev falls back to one reverse sweep per
    output element, stacked as the namespace's arrays."""
    make, Array, back = _library(kind, request)
    x = np.array([0.1, 0.2, 0.45])
    ref = sg.jacrev(_uses_bprop)(x)
    np.testing.assert_allclose(ref, _numeric_jacobian(_uses_bprop, (x,), 0), rtol=1e-6,
                               atol=1e-7)
    _same(sg.jacrev(_uses_bprop)(make(x)), ref, Array, back)


@pytest.mark.parametrize("kind", KINDS)
def test_jvp_numpy_inputs_namespace_tangent(kind, request):
    """NumPy inputs with a tangent of the namespace: the namespace's results."""
    make, Array, back = _library(kind, request)
    x = _inputs()["x"]
    v = np.linspace(-1.0, 1.0, x.size)
    out, t = sg.jvp(elementwise, x, make(v))
    ref_out, ref_t = sg.jvp(elementwise, x, v)
    _same(out, ref_out, Array, back)
    _same(t, ref_t, Array, back)


def _inv_by_name(x):
    a = np.reshape(x[:4], (2, 2)) + 2.0 * np.eye(2)
    return inv(a)[0, ...] * x[4]


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_linalg_imported_by_name(kind, request):
    """``from numpy.linalg import inv``: the namespace's linalg extension's, in forward
    and reverse mode (never NumPy's on the namespace's arrays)."""
    make, Array, back = _library(kind, request)
    x = _inputs()["x"]
    for transform in (sg.jacfwd, sg.jacrev):
        _same(transform(_inv_by_name)(make(x)), transform(_inv_by_name)(x), Array, back)


def _applies(x, w, act):
    return x * act(w)


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_function_passed_as_an_argument(kind, request):
    """A NumPy function known only at run time, called on a value without a tangent:
    the namespace's, never NumPy's on the namespace's arrays."""
    make, Array, back = _library(kind, request)
    x = _inputs()["x"]
    ref = sg.jacfwd(_applies)(x, x, np.tanh)
    _same(sg.jacfwd(_applies)(make(x), make(x), np.tanh), ref, Array, back)
