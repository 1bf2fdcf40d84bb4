"""Forward-mode (tangent) rules of the matrix decompositions and of the few NumPy
functions whose adjoint rule had no tangent beside it: ``svd``, ``qr``, ``eig``,
``eigvals``, ``pinv``, ``angle``, ``partition``.

Tangents are batched (see :mod:`sourcegrad.rules.tangents_numpy`): ``t`` has a
leading axis of directions before the primal's own axes, and the formulas below
are written with ``@`` and ``swapaxes(-1, -2)`` so that axis (and any stack of
matrices) broadcasts through.  A decomposition's tangent is a list, one item per
output, like its result.  Where the adjoint rule refuses a call (``qr`` of a wide
matrix, ``svd(full_matrices=True)`` of a non-square one), the tangent rule refuses
it too, naming it (``NotImplementedError: forward mode of ...``).
"""
from __future__ import annotations

import numpy as np

from sourcegrad.rules.registry import d, tangent


def _mT(x):
    return np.swapaxes(x, -1, -2)


def _off_diagonal_inverse(gap):
    """``1 / gap`` off the diagonal, 0 on it (``gap[..., i, j]``)."""
    n = gap.shape[-1]
    eye = np.eye(n, dtype=bool)
    with np.errstate(divide="ignore"):
        return np.where(eye, 0.0, 1.0 / np.where(eye | (gap == 0), 1.0, gap))


def _refuse_complex(what, a):
    if np.iscomplexobj(a):
        raise NotImplementedError(f"forward mode of {what} of a complex matrix")


def _hermitian_read(t):
    """The symmetric matrix a ``hermitian=True`` decomposition reads (its lower
    triangle): the tangent it sees."""
    return np.tril(t) + _mT(np.tril(t, -1))


# ------------------------------------------------------------------------ svd --

@tangent(np.linalg.svd)
def linalg_svd(z, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[z] = tsvd(d[a], z, a, full_matrices, compute_uv, hermitian)


def tsvd(t, z, a, full_matrices=True, compute_uv=True, hermitian=False):
    """Tangent of ``svd`` (real ``a``, distinct nonzero singular values).  With
    ``dP = U^T t V``: ``ds = diag(dP)``,
    ``dU = U (F * (dP S + S dP^T)) + (I - U U^T) t V / s``,
    ``dV = V (F * (S dP + dP^T S)) + (I - V V^T) t^T U / s``,
    ``F_ij = 1 / (s_j^2 - s_i^2)`` off the diagonal."""
    _refuse_complex("np.linalg.svd", a)
    if hermitian:
        a = _hermitian_read(a)
        t = _hermitian_read(t)
    m, n = np.shape(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError("forward mode of np.linalg.svd(full_matrices=True) of a "
                                  "non-square matrix; use full_matrices=False")
    if compute_uv:
        u, s, vh = z
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    v = _mT(vh)
    dp = _mT(u) @ t @ v
    ds = np.diagonal(dp, axis1=-2, axis2=-1)
    if not compute_uv:
        return ds
    f = _off_diagonal_inverse(s[..., None, :] ** 2 - s[..., :, None] ** 2)
    ps, sp = dp * s[..., None, :], s[..., :, None] * dp       # dP S, S dP
    du = u @ (f * (ps + _mT(ps)))
    dv = v @ (f * (sp + _mT(sp)))
    if m > n:
        du = du + (t @ v - u @ (_mT(u) @ t @ v)) / s[..., None, :]
    elif m < n:
        dv = dv + (_mT(t) @ u - v @ (_mT(v) @ _mT(t) @ u)) / s[..., None, :]
    return [du, ds, _mT(dv)]


# ------------------------------------------------------------------------- qr --

@tangent(np.linalg.qr)
def linalg_qr(z, a, mode='reduced'):
    d[z] = tqr(d[a], z, a, mode)


def tqr(t, z, a, mode='reduced'):
    """Tangent of the QR of a tall or square real matrix: with ``X = Q^T t R^-1`` and
    ``W`` its strictly lower part, ``O = W - W^T``:
    ``dQ = Q O + (I - Q Q^T) t R^-1``, ``dR = (X - O) R``."""
    _refuse_complex("np.linalg.qr", a)
    m, n = np.shape(a)[-2:]
    if mode not in ("reduced", "complete", "r") or m < n or (mode == "complete" and m != n):
        raise NotImplementedError(
            f"forward mode of np.linalg.qr(mode={mode!r}) of a {m}x{n} matrix; use "
            f"mode='reduced' with rows >= columns")
    if mode == "r":
        q, r = np.linalg.qr(a)
    else:
        q, r = z
    rinv = np.linalg.inv(r)
    tr = t @ rinv                                 # t R^-1
    x = _mT(q) @ tr
    low = np.tril(x, -1)
    omega = low - _mT(low)
    dr = (x - omega) @ r
    if mode == "r":
        return dr
    dq = q @ omega + tr - q @ x
    return [dq, dr]


# ------------------------------------------------------------------------ eig --

@tangent(np.linalg.eig)
def linalg_eig(z, a):
    d[z] = teig(d[a], z, a)


def teig(t, z, a):
    """Tangent of ``(w, v) = eig(a)`` (distinct eigenvalues): with ``P = v^-1 t v``,
    ``dw = diag(P)``, ``dv = v C``, ``C = F * P`` off the diagonal
    (``F_ij = 1 / (w_j - w_i)``) and on it what keeps each column of unit norm and,
    for complex vectors, its largest element real (LAPACK's normalisation)."""
    w, v = z
    p = np.linalg.solve(v, t @ v) if np.ndim(v) == 2 else np.linalg.inv(v) @ t @ v
    dw = np.diagonal(p, axis1=-2, axis2=-1)
    c = _off_diagonal_inverse(w[..., None, :] - w[..., :, None]) * p
    # unit norm: Re(v_i^H dv_i) = 0 fixes the real part of c_ii
    gram = _mT(np.conj(v)) @ v
    c_ii = -np.real(np.diagonal(gram @ c, axis1=-2, axis2=-1))
    dv = v @ c + v * c_ii[..., None, :]
    if np.iscomplexobj(v):
        # the phase: the largest element of each column stays real
        k = np.argmax(np.abs(v), axis=-2)[..., None, :]            # (..., 1, n)
        vk = np.take_along_axis(v, k, axis=-2)
        dvk = np.take_along_axis(dv, np.broadcast_to(k, dv.shape[:-2] + k.shape[-2:]),
                                 axis=-2)
        theta = -np.imag(dvk) / np.real(vk)
        dv = dv + 1j * theta * v
    return [dw, dv]


@tangent(np.linalg.eigvals)
def linalg_eigvals(z, a):
    d[z] = teigvals(d[a], a)


def teigvals(t, a):
    """Tangent of ``eigvals(a)``: ``eig``'s, the eigenvalues only."""
    w, v = np.linalg.eig(a)
    return np.diagonal(np.linalg.inv(v) @ t @ v, axis1=-2, axis2=-1)


# ----------------------------------------------------------------------- pinv --

@tangent(np.linalg.pinv)
def linalg_pinv(z, a, rcond=None, hermitian=False, *, rtol=None):
    d[z] = tpinv(d[a], z, a, hermitian)


def tpinv(t, z, a, hermitian=False):
    """Tangent of ``pinv`` (rank constant near ``a``; Golub & Pereyra 1973):
    ``-A+ t A+ + A+ A+^T t^T (I - A A+) + (I - A+ A) t^T A+^T A+``."""
    _refuse_complex("np.linalg.pinv", a)
    if hermitian:
        a, t = _hermitian_read(a), _hermitian_read(t)
    m, n = np.shape(a)[-2:]
    zt, tt = _mT(z), _mT(t)
    return (-z @ t @ z + z @ zt @ tt @ (np.eye(m) - a @ z)
            + (np.eye(n) - z @ a) @ tt @ zt @ z)


# --------------------------------------------------------------- elementwise --

@tangent(np.angle)
def angle(out, z, deg=False):
    d[out] = tangle(d[z], z, deg)


def tangle(t, z, deg=False):
    """Tangent of ``angle(z)``: ``Im(t / z)`` (zero where ``z`` is 0, and for a real
    ``z``, whose angle is constant)."""
    zz = np.asarray(z)
    if not np.iscomplexobj(zz) and not np.iscomplexobj(t):
        return np.zeros(np.shape(t))
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(zz == 0, 0.0, np.imag(t / np.where(zz == 0, 1.0, zz)))
    return g * (180.0 / np.pi) if deg else g


@tangent(np.partition, constant=("kth",))
def partition(z, a, kth, axis=-1, kind='introselect', order=None):
    d[z] = tpartition(d[a], z, a, axis)


def tpartition(t, z, a, axis=-1):
    """Tangent of ``partition``: each element's tangent moved where the element went
    (matched by rank, as the adjoint rule does)."""
    if axis is None:
        flat = np.reshape(t, t.shape[:1] + (-1,))
        return tpartition(flat, z, np.ravel(a), -1)
    axis = axis % np.ndim(a)
    src = np.argsort(a, axis=axis, kind="stable")
    rank = np.argsort(np.argsort(z, axis=axis, kind="stable"), axis=axis, kind="stable")
    perm = np.take_along_axis(src, rank, axis=axis)   # z = take(a, perm)
    return np.take_along_axis(t, perm[None], axis=axis + 1)
