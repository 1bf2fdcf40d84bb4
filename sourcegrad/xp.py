"""Which array library the inputs come from.

NumPy is the default and the only run-time requirement.  A Dask array (or
any array implementing NumPy's dispatch protocol ``__array_function__``)
runs through the same generated code: NumPy's functions hand it to its own
library, so the derivative stays lazy.  Helpers that would otherwise call
``np.asarray`` (which computes a Dask array into memory) use :func:`asarray`
here, which leaves such arrays alone.

Nothing here imports Dask: a Dask array is recognised by its type's module.
"""
from __future__ import annotations

import numpy as np

__all__ = ["is_dask", "is_foreign", "asarray", "known_shape", "library"]


def is_dask(x) -> bool:
    """Whether ``x`` is a ``dask.array.Array`` (without importing Dask)."""
    t = type(x)
    return t.__name__ == "Array" and t.__module__.startswith("dask.array")


def is_foreign(x) -> bool:
    """Whether ``x`` is an array of another library (Dask, CuPy, an Array API
    array): not a NumPy array or scalar, but an object that says it is an array
    through ``__array_function__`` or ``__array_namespace__``."""
    if isinstance(x, (np.ndarray, np.generic)):
        return False
    t = type(x)
    return hasattr(t, "__array_function__") or hasattr(t, "__array_namespace__")


def asarray(x, dtype=None):
    """``np.asarray(x, dtype)`` for NumPy values and Python numbers and lists; an
    array of another library stays in it (cast with its own ``astype``), so a
    Dask array is never computed here."""
    if type(x) is np.ndarray and (dtype is None or x.dtype == dtype):
        return x
    if is_foreign(x):
        if dtype is None or x.dtype == dtype:
            return x
        return x.astype(dtype)
    return np.asarray(x, dtype=dtype)


def known_shape(x) -> bool:
    """Whether every dimension of ``x``'s shape is known (a Dask array whose chunk
    sizes are unknown has ``nan`` in its shape)."""
    return all(isinstance(n, (int, np.integer)) for n in x.shape)


def library(args) -> str:
    """``"numpy"`` when no argument is an array of another library, else the
    name of that library's top-level module (``"dask"``, ``"cupy"``, ...)."""
    for a in args:
        if is_foreign(a):
            return type(a).__module__.partition(".")[0]
    return "numpy"
