"""Derivative rules for ``scipy.signal.convolve`` and ``correlate`` (real arrays, any
number of dimensions, every ``mode``).

The adjoint of a ``full`` convolution ``z = in1 * in2`` is
``d in1 = correlate(dz, in2, 'valid')`` and ``d in2 = correlate(dz, in1, 'valid')``;
``valid`` and ``same`` outputs are centred windows of the full one, so their
``dz`` is first placed in a zero full-size array at SciPy's offset.
"""
from __future__ import annotations

import numpy as np
import scipy.signal as ss

from sourcegrad.rules.registry import adjoint, d


@adjoint(ss.convolve)
def convolve(z, in1, in2, mode="full", method="auto"):
    d[in1] = ss.correlate(_full(d[z], in1, in2), in2, mode="valid")
    d[in2] = ss.correlate(_full(d[z], in1, in2), in1, mode="valid")


@adjoint(ss.correlate)
def correlate(z, in1, in2, mode="full", method="auto"):
    d[in1] = ss.convolve(_full(d[z], in1, in2), in2, mode="valid")
    d[in2] = ss.correlate(in1, _full(d[z], in1, in2), mode="valid")


def _full(dz, in1, in2):
    """``dz`` of a centred window placed in a zero array of the full output's shape."""
    full = tuple(n1 + n2 - 1 for n1, n2 in zip(np.shape(in1), np.shape(in2)))
    dz = np.asarray(dz, dtype=float)
    if dz.shape == full:
        return dz
    out = np.zeros(full)
    out[tuple(slice((f - n) // 2, (f - n) // 2 + n) for f, n in zip(full, dz.shape))] = dz
    return out
