"""The few helpers generated code calls, reachable there as ``_sg.<name>``.

Everything here is small and fast: it runs inside every gradient call.
"""
from __future__ import annotations

import numpy as np

np = np  # generated code may reach NumPy as ``_sg.np``


def unbroadcast(d, x):
    """Sum the adjoint ``d`` down to the shape of ``x`` (undo broadcasting)."""
    shape = np.shape(x)
    dshape = np.shape(d)
    if dshape == shape:
        return d
    extra = len(dshape) - len(shape)
    if extra > 0:
        d = np.sum(d, axis=tuple(range(extra)))
        dshape = d.shape
    if extra >= 0:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and dshape[i] != 1)
        if axes:
            d = np.sum(d, axis=axes, keepdims=True)
    if np.shape(d) != shape:  # d was smaller than x (e.g. a scalar adjoint)
        d = np.broadcast_to(d, shape).copy()
    return d


def zeros_like(x):
    """A zero adjoint for ``x`` (arrays, scalars, tuples and lists)."""
    if isinstance(x, (tuple, list)):
        return [zeros_like(v) for v in x]
    return np.zeros_like(x, dtype=np.result_type(x, np.float32)
                         if np.issubdtype(np.result_type(x), np.integer) else None)


def ones_like(x):
    """The default seed for an output ``x`` (ones of its shape)."""
    return np.ones_like(x)


class WeightGrads(dict):
    """Adjoints of Parameters, keyed by ``id``, filled during the backward sweep.

    Only the ids it was created with are kept; every other value read by the
    differentiated code (a float attribute, a Parameter not asked for) is
    dropped on arrival.
    """

    __slots__ = ()

    def __init__(self, weights=()):
        super().__init__((id(p), None) for p in weights)

    def add(self, value, grad):
        key = id(value)
        if key in self:
            old = self[key]
            self[key] = grad if old is None else old + grad


def add_weight_grad(acc, value, grad):
    """Accumulate ``grad`` for ``value`` if it is one of the requested weights."""
    if acc is not None:
        acc.add(value, grad)
