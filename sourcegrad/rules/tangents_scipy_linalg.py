"""Forward-mode (tangent) rules for ``scipy.linalg``, loaded with its adjoint rules
(:mod:`sourcegrad.rules.scipy_linalg`).

Tangents are batched (see :mod:`sourcegrad.rules.tangents_numpy`): ``t`` has a
leading axis of directions.  ``cholesky``, ``solve_triangular`` and ``cho_solve``
read one triangle of their matrix, and so do their tangents.  ``sqrtm``,
``solve_sylvester`` and ``expm`` have no batched SciPy routine for their tangents
(a Sylvester solve, a Fréchet derivative): those apply it to each direction in turn
(``per_direction``).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from sourcegrad.rules.registry import d, tangent
from sourcegrad.rules.tangents_numpy import lift, per_direction, tcholesky


@tangent(sl.cholesky, constant=("lower", "overwrite_a", "check_finite"))
def cholesky(z, a, lower=False, overwrite_a=False, check_finite=True):
    d[z] = tcholesky(d[a], z, not lower)


def _columns(t, b):
    """The batch of right-hand sides ``t`` (``(n,) + shape(b)``) as the columns of one
    matrix, and the function putting a solution of those back in the batch's shape."""
    n = t.shape[0]
    if np.ndim(b) == 1:
        return t.T, lambda x: x.T
    k = np.shape(b)[1]
    cols = np.transpose(t, (1, 0, 2)).reshape(t.shape[1], n * k)
    return cols, lambda x: np.transpose(x.reshape(x.shape[0], n, k), (1, 0, 2))


@tangent(sl.solve_triangular, constant=("trans", "lower", "unit_diagonal", "overwrite_b",
                                        "check_finite"))
def solve_triangular(z, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    d[z] = tsolve_triangular(lift(d[b], z), a, trans, lower, unit_diagonal)
    d[z] = tsolve_triangular(-ttriangular_product(d[a], z, trans, lower, unit_diagonal), a,
                             trans, lower, unit_diagonal)


def tsolve_triangular(t, a, trans, lower, unit_diagonal):
    """``solve_triangular(a, t_k)`` for every direction ``t_k`` of ``t``, in one call."""
    cols, back = _columns(t, t[0])
    return back(sl.solve_triangular(a, cols, trans=trans, lower=lower,
                                    unit_diagonal=unit_diagonal))


def ttriangular_product(t, x, trans, lower, unit_diagonal):
    """``op(T) @ x`` for each direction ``T`` of ``t`` restricted to the triangle
    ``solve_triangular`` reads (``op``: transposed for ``trans`` 1, 2, 'T', 'C')."""
    t = np.tril(t) if lower else np.triu(t)
    if unit_diagonal:
        t = t - t * np.eye(t.shape[-1])
    if trans not in (0, "N"):
        t = np.swapaxes(t, -1, -2)
    return t @ x


@tangent(sl.cho_solve, constant=("overwrite_b", "check_finite"))
def cho_solve(z, c_and_lower, b, overwrite_b=False, check_finite=True):
    d[z] = tcho_solve(lift(d[b], z), c_and_lower)
    d[z] = tcho_solve(-tcho_product(d[c_and_lower], c_and_lower, z), c_and_lower)


def tcho_solve(t, c_and_lower):
    """``cho_solve(c_and_lower, t_k)`` for every direction ``t_k`` of ``t``."""
    cols, back = _columns(t, t[0])
    return back(sl.cho_solve(c_and_lower, cols))


def tcho_product(tc, c_and_lower, x):
    """``dA @ x`` for each direction of the factor's tangent (``tc[0]``; the flag has
    none): ``A = c c^T`` (``lower``) or ``c^T c``, ``c`` read on that triangle."""
    c, lower = c_and_lower
    t = tc[0]
    if lower:
        c, t = np.tril(c), np.tril(t)
        da = t @ c.T + c @ np.swapaxes(t, -1, -2)
    else:
        c, t = np.triu(c), np.triu(t)
        da = np.swapaxes(t, -1, -2) @ c + c.T @ t
    return da @ x


@tangent(sl.sqrtm, constant=("disp", "blocksize"))
def sqrtm(z, A, disp=True, blocksize=64):
    d[z] = per_direction(sl.solve_sylvester, (z, z, None), 2, d[A])


@tangent(sl.solve_sylvester)
def solve_sylvester(z, a, b, q):
    d[z] = per_direction(sl.solve_sylvester, (a, b, None), 2, d[q])
    d[z] = per_direction(sl.solve_sylvester, (a, b, None), 2, -(d[a] @ z))
    d[z] = per_direction(sl.solve_sylvester, (a, b, None), 2, -(z @ d[b]))


@tangent(sl.expm)
def expm(z, A):
    d[z] = per_direction(sl.expm_frechet, (A, None), 1, d[A], compute_expm=False)
