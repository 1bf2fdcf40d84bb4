"""Forward-mode (tangent) rules for ``scipy.signal.convolve`` and ``correlate``,
loaded with their adjoint rules (:mod:`sourcegrad.rules.scipy_signal`).

Both are linear in each input, so an input's tangent is the same operation applied
to it: all directions at once, as one convolution with the other input given a
leading axis of length one.  That is done in ``full`` mode (the batch axis then
passes through unchanged) and the ``valid`` or ``same`` output cut from it: those
are centred windows of the full one, as the adjoint rules read them.
"""
from __future__ import annotations

import numpy as np
import scipy.signal as ss

from sourcegrad.rules.registry import d, tangent


@tangent(ss.convolve, constant=("mode", "method"))
def convolve(z, in1, in2, mode="full", method="auto"):
    d[z] = tconvolve(d[in1], in2, z)
    d[z] = tconvolve(d[in2], in1, z)


@tangent(ss.correlate, constant=("mode", "method"))
def correlate(z, in1, in2, mode="full", method="auto"):
    d[z] = tconvolve(d[in1], in2, z, flip_other=True)
    d[z] = tconvolve(d[in2], in1, z, flip_t=True)


def tconvolve(t, other, z, flip_other=False, flip_t=False):
    """The full convolution of each direction of ``t`` with ``other``, cut to ``z``'s
    centred window.  A correlation is a convolution with its second input reversed
    along every axis: ``flip_other`` (or ``flip_t``) reverses ``other`` (or ``t``'s
    directions)."""
    other = np.asarray(other, dtype=float)
    if flip_other:
        other = other[(slice(None, None, -1),) * other.ndim]
    if flip_t:
        t = t[(slice(None),) + (slice(None, None, -1),) * other.ndim]
    full = ss.convolve(t, other[None], mode="full")
    window = tuple(slice((f - n) // 2, (f - n) // 2 + n)
                   for f, n in zip(full.shape[1:], np.shape(z)))
    return full[(slice(None),) + window]
