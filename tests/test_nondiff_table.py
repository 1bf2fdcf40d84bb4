"""The table of functions of no gradient (sourcegrad/rules/nondiff.py) holds only
functions whose values do not vary smoothly with a float argument.

A function wrongly listed there cuts the gradient silently (zip, enumerate,
reversed, np.meshgrid and np.unique were listed once, and every gradient through
them was 0).  Each listed callable is called on float inputs; where it returns
floats, they must not change under a small move of an input away from its kinks.
"""
import warnings

import numpy as np
import pytest

from sourcegrad.rules import nondiff

# the families whose values do depend on their inputs, by design: random numbers
# (their parameters' gradients are not taken, as in autograd), stop_gradient, Parameters
_BY_DESIGN = ("random numbers", "stop_gradient cuts the gradient by design",
              "a random mask carries no gradient", "creating a Parameter starts a new weight",
              "it builds a gradient function; calling that is differentiated")

X = np.array([0.37, -1.21, 2.53, 0.86])
XS = [(X,), (X.reshape(2, 2),), (X, X[::-1] * 0.7), (0.37,), (0.37, 1.21), (X, 2)]


def _floats(v):
    """The float values in ``v`` (an array, a number, or a tuple/list/iterator of them),
    flat."""
    if hasattr(v, "__next__"):
        v = list(v)
    if isinstance(v, (tuple, list)):
        parts = [_floats(e) for e in v]
        return np.concatenate(parts) if parts else np.zeros(0)
    a = np.asarray(v) if isinstance(v, (np.ndarray, np.generic, float)) else None
    if a is None or a.dtype.kind not in "fc" or a.dtype == object:
        return np.zeros(0)
    return a.ravel().astype(complex).view(float)


def _callables():
    for family, why, fns in nondiff.TABLE:
        if why in _BY_DESIGN:
            continue
        for fn in fns:
            if getattr(fn, "__name__", "").startswith("empty"):
                continue  # its values are whatever the memory held
            yield pytest.param(fn, id=f"{family}.{getattr(fn, '__name__', fn)}")


@pytest.mark.parametrize("fn", list(_callables()))
def test_listed_function_has_no_smooth_float_value(fn):
    for args in XS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                base = _floats(fn(*args))
            except Exception:  # noqa: BLE001 -- not callable this way: try the next
                continue
            if not base.size:
                continue
            for i, a in enumerate(args):
                if not isinstance(a, (np.ndarray, float)):
                    continue
                eps = 1e-7
                moved = list(args)
                moved[i] = a + eps * (np.arange(np.size(a)).reshape(np.shape(a)) + 1.0)
                try:
                    after = _floats(fn(*moved))
                except Exception:  # noqa: BLE001
                    continue
                same = after.shape != base.shape or np.allclose(
                    after, base, rtol=0.0, atol=1e-12) or np.allclose(
                    np.where(np.isfinite(base) & np.isfinite(after), after, 0.0),
                    np.where(np.isfinite(base) & np.isfinite(after), base, 0.0),
                    rtol=0.0, atol=1e-12)
                assert same, (
                    f"{fn} is listed as carrying no gradient, but its float value moves with "
                    f"argument {i}: {base[:4]} -> {after[:4]}")
