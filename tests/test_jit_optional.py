"""sg.jit without Numba installed: a clear ImportError saying how to install it."""
import sys

import numpy as np
import pytest

import sourcegrad as sg


def _f(x):
    return np.sum(x * x)


def test_without_numba_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now fails
    with pytest.raises(ImportError, match=r"pip install sourcegrad\[jit\]"):
        sg.jit(sg.grad(_f))


def test_plain_grad_does_not_import_numba(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    assert np.allclose(sg.grad(_f)(np.arange(3.0)), 2 * np.arange(3.0))
