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
from sourcegrad.testing import check_grads

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from array_cases import CASES  # noqa: E402


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_reference_is_right(name):
    fn, args, positions = CASES[name]
    check_grads(fn, *args, wrt=positions)


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


# the RNN's xs[t] indexes a 3-D array with one integer, which the standard leaves
# unspecified (array-api-strict refuses it): its PyTorch test below runs it
@pytest.mark.parametrize("name", ["tutorial", "mlp", "logreg"])
@pytest.mark.parametrize("kind", ["grad", "value_and_grad"])
def test_strict(name, kind, strict):
    fn, args, positions = CASES[name]
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
def torch():
    pytest.importorskip("array_api_compat", reason="array-api-compat is not installed: "
                        "pip install 'sourcegrad[array-api]'")
    return pytest.importorskip("torch", reason="PyTorch is not installed")


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch(name, torch):
    fn, args, positions = CASES[name]
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
