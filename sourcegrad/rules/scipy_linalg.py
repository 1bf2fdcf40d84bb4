"""Derivative rules for ``scipy.linalg`` and ``scipy.signal``'s convolutions.

Loaded by the registry the first time a lookup misses while ``scipy.linalg``
(or ``scipy.signal``) is imported.  ``cholesky`` follows the convention of
:mod:`sourcegrad.rules.linalg`: it reads one triangle of its input (the
``lower`` one, else the upper), and its gradient lives on that triangle.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from sourcegrad.rules.linalg import _cholesky_grad
from sourcegrad.rules.registry import adjoint, d


@adjoint(sl.cholesky)
def cholesky(z, a, lower=False, overwrite_a=False, check_finite=True):
    d[a] = _cholesky_grad(d[z], z, not lower)


@adjoint(sl.solve_triangular)
def solve_triangular(z, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    db = sl.solve_triangular(a, d[z], trans=_transposed(trans), lower=lower,
                             unit_diagonal=unit_diagonal)
    d[b] = db
    d[a] = _triangular_grad_a(db, z, trans, lower, unit_diagonal)


def _transposed(trans):
    """``trans`` of the transposed system (0 <-> 1, 'N' <-> 'T')."""
    return {0: 1, 1: 0, "N": "T", "T": "N", 2: 0, "C": "N"}[trans]


def _outer(u, v):
    """``u @ v.T`` for right-hand sides that are vectors or matrices."""
    return np.outer(u, v) if np.ndim(u) == 1 else u @ v.T


def _triangular_grad_a(db, x, trans, lower, unit_diagonal):
    g = -_outer(db, x) if trans in (0, "N") else -_outer(x, db)
    g = np.tril(g) if lower else np.triu(g)
    if unit_diagonal:
        g[np.diag_indices_from(g)] = 0.0
    return g


@adjoint(sl.cho_solve)
def cho_solve(z, c_and_lower, b, overwrite_b=False, check_finite=True):
    db = sl.cho_solve(c_and_lower, d[z])
    d[b] = db
    d[c_and_lower] = _cho_solve_grad_c(db, z, c_and_lower)


def _cho_solve_grad_c(db, x, c_and_lower):
    """``[d c, None]``: A = c c^T (lower) or c^T c, x = A^-1 b, dA = -db x^T."""
    c, lower = c_and_lower
    da = -_outer(db, x)
    sym = da + da.T
    dc = sym @ c if lower else c @ sym
    return [np.tril(dc) if lower else np.triu(dc), None]


@adjoint(sl.sqrtm)
def sqrtm(z, A, disp=True, blocksize=64):
    d[A] = sl.solve_sylvester(z.T, z.T, d[z])


@adjoint(sl.solve_sylvester)
def solve_sylvester(z, a, b, q):
    dq = sl.solve_sylvester(a.T, b.T, d[z])
    d[q] = dq
    d[a] = -dq @ z.T
    d[b] = -z.T @ dq


@adjoint(sl.expm)
def expm(z, A):
    d[A] = sl.expm_frechet(A.T, d[z], compute_expm=False)
