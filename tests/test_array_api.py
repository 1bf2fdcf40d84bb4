"""Array API inputs: array-api-strict arrays and PyTorch CPU tensors get their own
array type back (README, "Dask and other array libraries").

array-api-strict allows only what the standard specifies, so a derivative that
runs on it uses its namespace's functions alone; the tests also forbid any
conversion to NumPy while a gradient runs.  Values are compared with the
gradients of the same NumPy inputs (checked against finite differences here).
"""
import numpy as np
import pytest

import os
import sys

import sourcegrad as sg
from sourcegrad.testing import check_grads, numeric_grad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from array_cases import CASES, XP_CASES, cell_cases  # noqa: E402


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_reference_is_right(name):
    fn, args, positions = CASES[name]
    check_grads(fn, *args, wrt=positions)
    xfn = XP_CASES[name][0]
    for a, b in zip(sg.grad(xfn, positions)(*args), sg.grad(fn, positions)(*args)):
        np.testing.assert_array_equal(a, b)


def _cell_reference(net, data):
    """The Cell's loss and Parameter gradients on NumPy data, the gradients checked
    against central differences of the loss in each Parameter."""
    params = net.trainable_params()
    loss, grads = sg.value_and_grad(net, None, params)(*data)
    for i, (p, g) in enumerate(zip(params, grads)):
        saved = p.copy()

        def of_p(v, p=p):
            p[...] = v
            return net(*data)

        want = numeric_grad(of_p, (saved.copy(),), 0)
        p[...] = saved
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6, err_msg=p.name)
    return loss, grads


@pytest.mark.parametrize("name", ["tutorial", "mlp", "rnn"])
def test_numpy_cell_reference_is_right(name):
    _cell_reference(*cell_cases()[name])


# -- array-api-strict ----------------------------------------------------------------

@pytest.fixture
def strict(monkeypatch):
    xps = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed: "
                              "pip install 'sourcegrad[array-api]'")
    Array = type(xps.asarray(1.0))

    def refuse(self, *args, **kwargs):
        raise AssertionError("an array-api-strict array was converted to NumPy")

    # no silent conversion to NumPy while the tests run
    monkeypatch.setattr(Array, "__array__", refuse)
    monkeypatch.setattr(Array, "__buffer__", refuse, raising=False)
    with pytest.raises(AssertionError, match="converted"):
        np.asarray(xps.asarray([1.0]))
    return xps


def _to_numpy(a):
    return np.from_dlpack(a)


# the RNN as the standard has it (xs[t, ...]: array-api-strict refuses NumPy's xs[t])
@pytest.mark.parametrize("name", sorted(XP_CASES))
@pytest.mark.parametrize("kind", ["grad", "value_and_grad"])
def test_strict(name, kind, strict):
    fn, args, positions = XP_CASES[name]
    ref = getattr(sg, kind)(fn, positions)(*args)
    g = getattr(sg, kind)(fn, positions)
    sargs = tuple(strict.asarray(a) for a in args)
    for _ in range(2):  # the first call, then a cached one
        got = g(*sargs)
        if kind == "value_and_grad":
            assert type(got[0]) is type(sargs[0])
            np.testing.assert_allclose(_to_numpy(got[0]), ref[0], rtol=1e-12)
            got, want = got[1], ref[1]
        else:
            want = ref
        assert len(got) == len(want)
        for a, r in zip(got, want):
            assert type(a) is type(sargs[0])
            assert a.dtype == strict.float64 and tuple(a.shape) == r.shape
            np.testing.assert_allclose(_to_numpy(a), r, rtol=1e-12, atol=1e-12)


def test_strict_numpy_only_function_named(strict):
    def f(x):
        return np.sum(np.sinc(x) ** 2)

    with pytest.raises(sg.SourcegradError, match=r"np\.sinc: NumPy-only.*array_api_strict "
                       r"has no sinc") as err:
        sg.grad(f)(strict.asarray([0.5, 1.5]))
    assert err.value.filename == __file__ and "np.sinc(x)" in err.value.line


def test_rule_failing_on_a_namespace_is_a_named_error(strict):
    """A rule whose NumPy-only functionality shows only when it runs: one
    SourcegradError naming the differentiated function and the rule's helper (or the
    derivative's line) that failed, the library's own error chained to it."""
    def f(x):
        return np.prod(x)

    def g(x):
        return np.linalg.norm(x)

    x = strict.asarray([0.5, 1.5, 2.0])
    with pytest.raises(sg.SourcegradError, match=r"derivative of .*f on array_api_strict "
                       r"arrays: sourcegrad's .*_prod_grad failed") as err:
        sg.grad(f)(x)
    assert err.value.__cause__ is not None
    with pytest.raises(sg.SourcegradError, match=r"derivative's line `norm = np\.linalg\."
                       r"norm\(x\)`"):
        sg.grad(g)(x)
    check_grads(f, np.array([0.5, 1.5, 2.0]))  # (NumPy's own: fine)


def test_numpy_path_unchanged_after_strict_calls(strict):
    """The NumPy derivative and its results are NumPy's, before and after."""
    fn, args, positions = CASES["mlp"]
    g = sg.grad(fn, positions)
    first = g(*args)
    text = sg.source(g)
    g(*(strict.asarray(a) for a in args))
    again = g(*args)
    assert sg.source(g) == text
    for a, b in zip(first, again):
        assert type(b) is np.ndarray
        np.testing.assert_array_equal(a, b)


# -- PyTorch through array-api-compat -----------------------------------------------

@pytest.fixture
def torch(monkeypatch):
    pytest.importorskip("array_api_compat", reason="array-api-compat is not installed: "
                        "pip install 'sourcegrad[array-api]'")
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")

    def refuse(self, *args, **kwargs):
        raise AssertionError("a PyTorch tensor was converted to NumPy")

    # no silent conversion to NumPy while the tests run (Tensor.numpy() still works)
    monkeypatch.setattr(torch.Tensor, "__array__", refuse)
    with pytest.raises(AssertionError, match="converted"):
        np.asarray(torch.asarray([1.0]))
    return torch


@pytest.mark.parametrize("name", sorted(CASES) + ["rnn_xp"])
def test_torch(name, torch):
    fn, args, positions = CASES[name] if name in CASES else XP_CASES["rnn"]
    ref = sg.grad(fn, positions)(*args)
    g = sg.grad(fn, positions)
    targs = tuple(torch.asarray(a) for a in args)
    for _ in range(2):
        got = g(*targs)
        for a, r in zip(got, ref):
            assert isinstance(a, torch.Tensor) and a.dtype == torch.float64
            np.testing.assert_allclose(a.numpy(), r, rtol=1e-12, atol=1e-12)


def test_strict_numpy_imported_by_name(strict):
    """``from numpy import tanh`` and a module under another name: the namespace's."""
    import numpy
    from numpy import tanh

    def f(x):
        return numpy.sum(tanh(x) ** 2) + np.sum(x)

    x = np.linspace(-1.0, 1.0, 5)
    ref = sg.grad(f)(x)
    got = sg.grad(f)(strict.asarray(x))
    assert type(got) is type(strict.asarray(x))
    np.testing.assert_allclose(_to_numpy(got), ref, rtol=1e-12)


# -- Cells and weights ----------------------------------------------------------------

def _library(kind, request):
    """(make an array, its type, read it back as NumPy) for array-api-strict or PyTorch."""
    if kind == "strict":
        xps = request.getfixturevalue("strict")
        return xps.asarray, type(xps.asarray(1.0)), _to_numpy
    torch = request.getfixturevalue("torch")
    return torch.asarray, torch.Tensor, lambda a: a.numpy()


@pytest.mark.parametrize("kind", ["strict", "torch"])
@pytest.mark.parametrize("name", ["tutorial", "mlp", "rnn"])
def test_cell_weights(name, kind, request):
    """A Cell's NumPy Parameters read against the namespace's data: the loss and the
    Parameters' gradients are the namespace's arrays, equal to NumPy's."""
    net, data = cell_cases()[name]
    ref_loss, ref = _cell_reference(net, data)
    make, Array, back = _library(kind, request)
    vg = sg.value_and_grad(net, None, net.trainable_params())
    for _ in range(2):
        loss, grads = vg(*(make(a) for a in data))
        assert isinstance(loss, Array)
        np.testing.assert_allclose(back(loss), ref_loss, rtol=1e-12)
        assert len(grads) == len(ref)
        for g, r in zip(grads, ref):
            assert isinstance(g, Array) and tuple(g.shape) == r.shape
            np.testing.assert_allclose(back(g), r, rtol=1e-12, atol=1e-12)
    # the NumPy gradient is unchanged afterwards
    again = vg(*data)[1]
    for g, r in zip(again, ref):
        assert type(g) is np.ndarray
        np.testing.assert_array_equal(g, r)


@pytest.mark.parametrize("kind", ["strict", "torch"])
def test_global_parameter_and_numpy_arguments(kind, request):
    """A Parameter read as a global, and NumPy arrays passed next to the namespace's
    data: all are the namespace's arrays in the derivative, and so are their
    gradients."""
    from sourcegrad import Parameter
    make, Array, back = _library(kind, request)
    x, y, w, b = XP_CASES["tutorial"][1]
    fn = XP_CASES["tutorial"][0]
    scale = Parameter(np.full(3, 0.5), name="scale")

    def loss(x, y, w, b):
        return fn(x, y, w, b * scale)

    g = sg.grad(loss, (2, 3), scale)
    ref = g(x, y, w, b)
    (gw, gb), gs = g(make(x), make(y), w, b)
    for got, want in zip((gw, gb, gs), (ref[0][0], ref[0][1], ref[1])):
        assert isinstance(got, Array)
        np.testing.assert_allclose(back(got), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["strict", "torch"])
def test_specialised_on_namespace_shapes(kind, request):
    """The shapes of the namespace's arrays are known: the derivative is specialised
    as for NumPy (the broadcast bias's adjoint a sum, the matmul adjoints written
    out), with functions where NumPy's code would call array methods."""
    make, Array, back = _library(kind, request)
    fn, args, positions = XP_CASES["tutorial"]
    g = sg.grad(fn, positions)
    g(*(make(a) for a in args))
    text = sg.source(g)
    assert "unbroadcast" not in text and "matmul_adjoint" not in text
    assert "db = np.sum(dz, axis=0)" in text and "dw = x.T @ dz" in text
    g(*args)
    assert "db = dz.sum(axis=0)" in sg.source(g)  # NumPy's own stays a method


# -- NumPy's rules on the namespace's arrays -------------------------------------------

def _max(x):
    return np.max(x) + np.sum(np.max(np.reshape(x, (2, 3)), axis=1))


def _maximum(x):
    return np.sum(np.maximum(x, 0.5) * np.minimum(x, 0.4))


def _power(x):
    return np.sum(np.power(x, 3) + x ** 2.5)


def _var(x):
    return np.var(x) + np.std(x)


def _cumsum(x):
    return np.sum(np.cumsum(x) ** 2)


def _shapes(x):
    m = np.reshape(x, (2, 3))
    return np.sum(np.transpose(m) ** 2) + np.sum(np.tile(x, 2) * np.squeeze(
        np.reshape(x, (1, 6)))[0]) + np.sum(np.mean(m, axis=0) ** 2)


def _clip(x):
    return np.sum(np.clip(x, 0.2, 0.6) ** 2 + np.where(x > 0.5, x, x * x))


def _made(x):
    """np.ones(3) is float64 as NumPy's (PyTorch's own default is float32)."""
    return np.sum(np.reshape(x, (2, 3)) @ np.ones(3)) + np.sum(np.outer(x, x) * np.zeros(6))


RULE_CASES = [_max, _maximum, _power, _var, _cumsum, _shapes, _clip, _made]


@pytest.mark.parametrize("kind", ["strict", "torch"])
@pytest.mark.parametrize("fn", RULE_CASES, ids=lambda f: f.__name__.strip("_"))
def test_numpy_rules_on_namespace(fn, kind, request):
    """Rules written for NumPy run on the namespace (numbers where the standard wants
    an array, NumPy's spellings such as reshape(order='C') or squeeze without an
    axis): the namespace's array back, NumPy's values."""
    x = np.linspace(0.1, 0.9, 6)
    ref, = check_grads(fn, x)
    make, Array, back = _library(kind, request)
    got = sg.grad(fn)(make(x))
    assert isinstance(got, Array)
    np.testing.assert_allclose(back(got), ref, rtol=1e-12, atol=1e-12)


# forward mode and the Jacobians on these arrays: tests/test_array_api_forward.py
