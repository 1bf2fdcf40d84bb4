"""Check gradients against central finite differences.

Public: users check their own functions with it, and every rule test in
sourcegrad's suite is a call to :func:`check_grads`::

    >>> import numpy as np, sourcegrad as sg
    >>> from sourcegrad.testing import check_grads
    >>> check_grads(lambda x: np.sum(np.tanh(x) ** 2), np.linspace(-1, 1, 4))
"""
from __future__ import annotations

import copy
import importlib.util
import itertools
import sys

import numpy as np

from sourcegrad.api import grad

_modules = itertools.count()


def load_source(path: str, text: str):
    """Write ``text`` to ``path`` and import it as a new module (sourcegrad reads a
    function's source, so a function made as text for a test must live in a file)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    name = f"_sg_loaded_{next(_modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _as_float64(a):
    if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating):
        return a.astype(np.float64)
    return a


def _total(out) -> float:
    """The scalar the gradient is of: the sum of all float outputs (docs/api.md)."""
    if isinstance(out, (tuple, list)):
        return float(sum(_total(o) for o in out))
    if out is None or isinstance(out, (bool, int, np.integer)):
        return 0.0
    a = np.asarray(out)
    if not np.issubdtype(a.dtype, np.floating):
        return 0.0
    return float(np.sum(a, dtype=np.float64))


def _fresh(args):
    """A copy of the arguments for one evaluation: a function that updates an input
    in place (``x -= c`` on an array) must not change the next evaluation's inputs."""
    return [copy.deepcopy(a) if isinstance(a, (np.ndarray, list, dict, tuple)) else a
            for a in args]


def numeric_grad(fn, args, position: int, eps: float = 1e-6):
    """Central finite-difference gradient of ``sum(fn(*args))`` w.r.t. one argument.
    Each evaluation gets its own copy of the arguments."""
    args = list(args)
    x = args[position]
    if isinstance(x, float):
        args[position] = x + eps
        hi = _total(fn(*_fresh(args)))
        args[position] = x - eps
        lo = _total(fn(*_fresh(args)))
        return (hi - lo) / (2 * eps)
    x = np.array(x, dtype=np.float64, order="C")  # reshape(-1) below must be a view
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        args[position] = x
        hi = _total(fn(*_fresh(args)))
        flat[i] = old - eps
        lo = _total(fn(*_fresh(args)))
        flat[i] = old
        gflat[i] = (hi - lo) / (2 * eps)
    return g


def check_grads(fn, *args, wrt=None, eps: float = 1e-6, rtol: float = 1e-5,
                atol: float = 1e-6):
    """Assert that ``sourcegrad.grad(fn, wrt)`` matches finite differences.

    ``wrt`` is a position or tuple of positions (default: every float
    argument).  Float arrays are promoted to float64 first.  Raises
    ``AssertionError`` naming the argument and the largest error.
    """
    args = tuple(_as_float64(a) for a in args)
    if wrt is None:
        wrt = tuple(i for i, a in enumerate(args)
                    if isinstance(a, float) or (isinstance(a, np.ndarray)
                                                and np.issubdtype(a.dtype, np.floating)))
    positions = (wrt,) if isinstance(wrt, int) else tuple(wrt)
    got = grad(fn, positions)(*args)
    for pos, g in zip(positions, got):
        want = numeric_grad(fn, args, pos, eps)
        assert np.shape(g) == np.shape(want), (
            f"gradient for argument {pos} has shape {np.shape(g)}, expected {np.shape(want)}")
        if not np.allclose(g, want, rtol=rtol, atol=atol):
            err = np.max(np.abs(np.asarray(g) - want))
            raise AssertionError(
                f"gradient for argument {pos} differs from finite differences "
                f"(max abs error {err:.3g})\n  sourcegrad: {g!r}\n  numeric:    {want!r}")
    return got
