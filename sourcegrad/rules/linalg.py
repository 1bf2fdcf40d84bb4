"""Derivative rules for ``numpy.linalg``: inverses, determinants, solves, norms
and decompositions.

Templates as in :mod:`sourcegrad.rules.numpy_core` (whose conventions hold
here too: ``cholesky``/``eigh`` read one triangle of their input, and a primal
returning several outputs gets ``d[z]`` as a sequence, one adjoint per output,
``None`` for one that carries no gradient).  The matrix products of the NumPy
namespace (``dot``, ``tensordot``, ``einsum``, ...) are in ``numpy_core``.
"""
from __future__ import annotations

import numpy as np

from sourcegrad.rules.numpy_core import _axes, _keep, _like, _match  # shared helpers
from sourcegrad.rules.registry import adjoint, d
from sourcegrad.runtime import unbroadcast
from sourcegrad.xp import asarray as _asarray

# NumPy 2.0 changed ``linalg.solve``: ``b`` is a vector only when 1-D (NumPy
# 1.x: when ``b.ndim == a.ndim - 1``).
_NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _mT(x):
    """Matrix transpose of the last two axes."""
    return np.swapaxes(x, -1, -2)


def _part(dz, i, z):
    """Adjoint of output ``i`` of a multi-output primal (zeros when absent)."""
    g = None if dz is None else dz[i]
    return np.zeros_like(z[i]) if g is None else _asarray(g)


@adjoint(np.linalg.inv)
def linalg_inv(z, a):
    d[a] = -(_mT(z) @ d[z] @ _mT(z))


@adjoint(np.linalg.det)
def linalg_det(z, a):
    d[a] = np.expand_dims(d[z] * z, (-2, -1)) * _mT(np.linalg.inv(a))


@adjoint(np.linalg.slogdet)
def linalg_slogdet(z, a):
    d[a] = np.expand_dims(_part(d[z], 1, z), (-2, -1)) * _mT(np.linalg.inv(a))


@adjoint(np.linalg.solve)
def linalg_solve(z, a, b):
    d[a] = _solve_grad(d[z], z, a, b, 0)
    d[b] = _solve_grad(d[z], z, a, b, 1)


def _solve_grad(dz, z, a, b, which):
    """Adjoints of ``x = solve(a, b)``: ``db = solve(a.T, dx)``, ``da = -db x.T``."""
    # NumPy 2: only a 1-D b is a vector; NumPy 1.x: a b one dimension short of a
    vector = np.ndim(b) == 1 if _NUMPY_2 else np.ndim(b) == np.ndim(a) - 1
    dzm = _asarray(dz)[..., None] if vector else _asarray(dz)
    zm = _asarray(z)[..., None] if vector else _asarray(z)
    db = np.linalg.solve(_mT(a), dzm)
    if which == 1:
        return _like(unbroadcast(db[..., 0] if vector else db, b), b)
    return _like(unbroadcast(-(db @ _mT(zm)), a), a)


@adjoint(np.linalg.lstsq)
def linalg_lstsq(z, a, b, rcond=None):
    d[a] = _lstsq_grad(d[z], z, a, b, 0)
    d[b] = _lstsq_grad(d[z], z, a, b, 1)


def _lstsq_grad(dz, z, a, b, which):
    """Adjoints of ``x, residuals, rank, sv = lstsq(a, b)`` for ``a`` (0) or ``b`` (1),
    ``a`` of full column rank (as many rows as columns or more): with ``r = b - a x``
    and ``u = (a.T a)^-1 dx``, ``db = a u + 2 r dres`` and ``da = r u.T - a u x.T -
    2 r dres x.T`` (``x`` is optimal, so the residuals' adjoint does not pass through
    it); the singular values' adjoint adds ``U diag(dsv) V.T`` to ``da``."""
    A = _asarray(a)
    m, n = A.shape
    if z[2] < n:
        raise NotImplementedError("sourcegrad differentiates np.linalg.lstsq for a "
                                  "matrix of full column rank (derivative rule: "
                                  "numpy.linalg.lstsq)")
    vector = np.ndim(b) == 1
    B = _asarray(b)[:, None] if vector else _asarray(b)
    X = _asarray(z[0])[:, None] if vector else _asarray(z[0])
    dX = _part(dz, 0, z)
    dX = dX[:, None] if vector else dX
    u = np.linalg.solve(A.T @ A, dX)
    R = B - A @ X
    db = A @ u
    da = R @ u.T - db @ X.T
    dres = _part(dz, 1, z)
    if np.size(dres):  # residuals: one per column of b, when m > n
        rd = 2.0 * R * dres
        db = db + rd
        da = da - rd @ X.T
    dsv = _part(dz, 3, z)
    if np.any(dsv):  # the singular values: da = U diag(dsv) V.T
        U, _, Vt = np.linalg.svd(A, full_matrices=False)
        da = da + (U * dsv) @ Vt
    if which == 1:
        return _like(db[:, 0] if vector else db, b)
    return _like(da, a)


@adjoint(np.linalg.cond)
def linalg_cond(z, x, p=None):
    d[x] = _cond_grad(d[z], x, p)


def _cond_extremes(x, p):
    """``(U, s, Vt, i, j)``: the SVD of ``x`` and the indices of the singular values
    ``cond(x, p) = s[i] / s[j]`` divides (p None or 2: largest over smallest; -2: the
    other way round)."""
    if p not in (None, 2, -2):
        raise NotImplementedError("sourcegrad differentiates np.linalg.cond for p None, 2 "
                                  "or -2 (derivative rule: numpy.linalg.cond)")
    U, s, Vt = np.linalg.svd(_asarray(x), full_matrices=False)
    return (U, s, Vt, 0, -1) if p != -2 else (U, s, Vt, -1, 0)


def _cond_grad(dz, x, p):
    """Adjoint of ``cond = s_i / s_j``: ``(u_i v_i.T) / s_j - s_i / s_j**2 (u_j v_j.T)``."""
    U, s, Vt, i, j = _cond_extremes(x, p)
    si, sj = s[..., i, None, None], s[..., j, None, None]
    outer = lambda k: U[..., :, k, None] * Vt[..., None, k, :]  # noqa: E731
    g = _asarray(dz)[..., None, None] * (outer(i) / sj - si / sj ** 2 * outer(j))
    return _like(g, x)


@adjoint(np.linalg.norm)
def linalg_norm(z, x, ord=None, axis=None, keepdims=False):
    d[x] = _norm_grad(d[z], z, x, ord, axis, keepdims)


def _norm_grad(dz, z, x, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm`` for vector norms (2, p, inf, -inf, 0) and
    matrix norms ('fro', 'nuc', 2, -2, 1, -1, inf, -inf); ties split evenly."""
    x = _asarray(x)
    if axis is None:
        axes = tuple(range(x.ndim))
        matrix = ord is not None and x.ndim == 2
    else:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = tuple(int(i) % x.ndim for i in axes)
        matrix = len(axes) == 2
    if matrix and ord in (None, "fro"):
        matrix, ord = False, 2
    if not matrix:
        zk, dzk = _keep(z, x.ndim, axes, keepdims), _keep(dz, x.ndim, axes, keepdims)
        ax = np.abs(x)
        # a zero norm divides by 1 instead (its gradient is 0): plain code, no
        # np.errstate block, so that grad(grad(f)) can differentiate it in turn
        safe = np.where(zk == 0, 1.0, zk)
        if ord is None or ord == 2:
            g = np.where(zk == 0, 0.0, x / safe)
        elif ord in (np.inf, -np.inf):
            extreme = np.max if ord > 0 else np.min
            ext = extreme(ax, axis=axes, keepdims=True)
            hit = ax == ext
            g = np.sign(x) * hit / np.sum(hit, axis=axes, keepdims=True)
        elif ord == 0:
            g = np.zeros_like(x)
        else:
            # an element at 0 gets 0 (as abs has at 0), also for ord < 1, where
            # |x| ** (ord - 1) is infinite there
            g = np.where((zk == 0) | (ax == 0), 0.0,
                         np.sign(x) * (np.where(ax == 0, 1.0, ax) / safe) ** (ord - 1))
        return _like(dzk * g, x)
    r, c = axes
    xm = np.moveaxis(x, (r, c), (-2, -1))
    dzm = _asarray(dz)
    if keepdims:
        dzm = np.squeeze(dzm, axis=(r, c))
    dzm = dzm[..., None, None]
    if ord in ("nuc", 2, -2):
        u, s, vt = np.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            g = u @ vt
        else:
            k = 0 if ord == 2 else s.shape[-1] - 1
            g = u[..., :, k:k + 1] @ vt[..., k:k + 1, :]
    elif ord in (1, -1, np.inf, -np.inf):
        line = -2 if ord in (1, -1) else -1   # columns (1) or rows (inf) are summed
        sums = np.sum(np.abs(xm), axis=line, keepdims=True)
        extreme = np.max if ord > 0 else np.min
        ext = extreme(sums, axis=-3 - line, keepdims=True)
        hit = sums == ext
        g = np.sign(xm) * hit / np.sum(hit, axis=-3 - line, keepdims=True)
    else:
        raise NotImplementedError(f"no derivative rule for np.linalg.norm(ord={ord!r}) of a matrix")
    return _like(np.moveaxis(dzm * g, (-2, -1), (r, c)), x)


def _phi(x):
    """Lower triangle with the diagonal halved (Murray 2016)."""
    return np.tril(x) * (1.0 - 0.5 * np.eye(x.shape[-1]))


@adjoint(np.linalg.cholesky)
def linalg_cholesky(z, a, upper=False):
    d[a] = _cholesky_grad(d[z], z, upper)


def _cholesky_grad(dz, z, upper=False):
    """Adjoint of ``cholesky`` (Murray 2016, arXiv:1602.07527).

    NumPy reads only the lower triangle (``upper=True``: the upper one); the
    gradient is that of exactly this function, so it lives on that triangle."""
    L, dL = (_mT(z), _mT(dz)) if upper else (_asarray(z), _asarray(dz))
    Linv = np.linalg.inv(L)
    S = _mT(Linv) @ _phi(_mT(L) @ dL) @ Linv
    g = _phi(S + _mT(S))
    return _mT(g) if upper else g


@adjoint(np.linalg.eigh)
def linalg_eigh(z, a, UPLO='L'):
    d[a] = _eigh_grad(d[z], z, UPLO)


def _eigh_grad(dz, z, UPLO='L'):
    """Adjoint of ``eigh`` (distinct eigenvalues).  As NumPy reads only the
    ``UPLO`` triangle, the gradient lives on that triangle."""
    w, v = z
    dw, dv = _part(dz, 0, z), _part(dz, 1, z)
    gap = w[..., None, :] - w[..., :, None]              # w_j - w_i
    n = w.shape[-1]
    F = np.where(np.eye(n, dtype=bool), 0.0, 1.0 / np.where(np.eye(n, dtype=bool), 1.0, gap))
    S = v @ (dw[..., :, None] * np.eye(n) + F * (_mT(v) @ dv)) @ _mT(v)
    g = _phi(S + _mT(S))
    return _mT(g) if UPLO.upper() == "U" else g


@adjoint(np.linalg.qr)
def linalg_qr(z, a, mode='reduced'):
    d[a] = _qr_grad(d[z], z, a, mode)


def _qr_grad(dz, z, a, mode='reduced'):
    """Adjoint of the reduced QR of a tall or square matrix (m >= n)."""
    m, n = np.shape(a)[-2:]
    if mode not in ("reduced", "complete") or m < n or (mode == "complete" and m != n):
        raise NotImplementedError(
            f"no derivative rule for np.linalg.qr(mode={mode!r}) of a {m}x{n} matrix; "
            "use mode='reduced' with rows >= columns")
    q, r = z
    dq, dr = _part(dz, 0, z), _part(dz, 1, z)
    M = r @ _mT(dr) - _mT(dq) @ q
    b = dq + q @ (np.tril(M) + _mT(np.tril(M, -1)))
    return _like(_mT(np.linalg.solve(r, _mT(b))), a)




# --------------------------------------------- more linear algebra (2) --

@adjoint(np.linalg.pinv)
def linalg_pinv(z, a, rcond=None, hermitian=False, *, rtol=None):
    d[a] = _pinv_grad(d[z], z, a, hermitian)


def _pinv_grad(dz, z, a, hermitian=False):
    """Adjoint of ``pinv`` (rank constant near ``a``; Golub & Pereyra 1973).
    ``hermitian=True`` reads only the lower triangle: the gradient is folded
    onto it, as for ``eigh``."""
    a, z, dz = _asarray(a), _asarray(z), _asarray(dz)
    if hermitian:   # the matrix NumPy decomposes
        a = np.tril(a) + _mT(np.tril(a, -1))
    m, n = a.shape[-2:]
    zt = _mT(z)
    g = (-zt @ dz @ zt
         + (np.eye(m) - a @ z) @ _mT(dz) @ z @ zt
         + zt @ z @ _mT(dz) @ (np.eye(n) - z @ a))
    return _like(_phi(g + _mT(g)) if hermitian else g, a)


@adjoint(np.linalg.svd)
def linalg_svd(z, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[a] = _svd_grad(d[z], z, a, full_matrices, compute_uv, hermitian)


def _svd_grad(dz, z, a, full_matrices=True, compute_uv=True, hermitian=False):
    """Adjoint of ``svd`` (distinct nonzero singular values; Townsend 2016), as
    autograd: ``compute_uv=False``, or ``full_matrices=False`` (or square).
    ``hermitian=True`` reads only the lower triangle: the gradient is folded
    onto it, as for ``eigh``."""
    if hermitian:
        sym = np.tril(a) + _mT(np.tril(a, -1))   # the matrix NumPy decomposes
        g = _svd_grad(dz, z, sym, full_matrices, compute_uv)
        return _like(_phi(g + _mT(g)), a)
    a = _asarray(a)
    m, n = a.shape[-2:]
    if not compute_uv:
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        return _like(np.conj(u) * _asarray(dz)[..., None, :] @ np.conj(vh), a)
    if full_matrices and m != n:
        raise NotImplementedError(
            "no derivative rule for np.linalg.svd(full_matrices=True) of a non-square "
            "matrix; use full_matrices=False")
    u, s, vh = z
    du, ds, dvh = _part(dz, 0, z), _part(dz, 1, z), _part(dz, 2, z)
    v, dv = np.conj(_mT(vh)), np.conj(_mT(dvh))
    k = min(m, n)
    eye = np.eye(k)
    F = 1.0 / (s[..., None, :] ** 2 - s[..., :, None] ** 2 + eye) - eye
    utgu, vtgv = _mT(u) @ du, _mT(v) @ dv
    t = (F * (utgu - np.conj(_mT(utgu)))) * s[..., None, :]
    t = t + eye * ds[..., :, None]
    t = t + s[..., :, None] * (F * (vtgv - np.conj(_mT(vtgv))))
    if np.iscomplexobj(u):
        t = t + 1j * np.imag(np.diagonal(utgu, axis1=-2, axis2=-1))[..., None, :] \
            * eye / s[..., None, :]
    g = np.conj(u) @ t @ _mT(v)
    if m < n:
        g = g + np.conj((u / s[..., None, :]) @ _mT(dv) @ (np.eye(n) - v @ np.conj(_mT(v))))
    elif m > n:
        g = g + _mT((v / s[..., None, :]) @ _mT(du) @ (np.eye(m) - u @ np.conj(_mT(u))))
    return _match(a, g)


@adjoint(np.linalg.eig)
def linalg_eig(z, a):
    d[a] = _eig_grad(d[z], z, a)


def _eig_grad(dz, z, a):
    """Adjoint of ``eig`` (distinct eigenvalues, unit-norm eigenvectors), as
    autograd; for a real ``a`` the real part."""
    w, v = z
    dw, dv = _part(dz, 0, z), _part(dz, 1, z)
    n = w.shape[-1]
    eye = np.eye(n)
    F = 1.0 / (w[..., None, :] - w[..., :, None] + eye) - eye
    vt = _mT(v)
    r1 = F * (vt @ dv)
    r2 = -F * ((vt @ np.conj(v)) @ (np.real(vt @ dv) * eye))
    g = np.linalg.solve(vt, (dw[..., None, :] * eye + r1 + r2) @ vt)
    return _match(a, g)


@adjoint(np.linalg.matrix_power)
def linalg_matrix_power(z, a, n):
    d[a] = _matrix_power_grad(d[z], a, n)


def _matrix_power_grad(dz, a, n):
    """Adjoint of ``a ** n`` (matrix): ``sum_k (a^T)^k dz (a^T)^(n-1-k)``; a negative
    ``n`` is a power of the inverse."""
    if n < 0:
        inv = np.linalg.inv(a)
        g = _matrix_power_grad(dz, inv, -n)
        return _like(-np.swapaxes(inv, -1, -2) @ g @ np.swapaxes(inv, -1, -2), a)
    at = np.swapaxes(_asarray(a), -1, -2)
    powers = [np.broadcast_to(np.eye(at.shape[-1]), at.shape)]
    for _ in range(n - 1):
        powers.append(powers[-1] @ at)
    g = np.zeros(np.broadcast_shapes(np.shape(dz), at.shape))
    for k in range(n):
        g = g + powers[k] @ dz @ powers[n - 1 - k]
    return _like(g, a)


@adjoint(np.linalg.multi_dot)
def linalg_multi_dot(z, arrays, *, out=None):
    d[arrays] = _multi_dot_grad(d[z], arrays)


def _multi_dot_grad(dz, arrays):
    """Adjoint of ``multi_dot`` (1-D first and last operands allowed): each matrix
    gets the product of the others' around ``dz``."""
    mats = [_asarray(m, dtype=float) for m in arrays]
    first_1d, last_1d = mats[0].ndim == 1, mats[-1].ndim == 1
    if first_1d:
        mats[0] = mats[0][None, :]
    if last_1d:
        mats[-1] = mats[-1][:, None]
    g = _asarray(dz)
    g = g.reshape(mats[0].shape[0], mats[-1].shape[1])
    grads = []
    for i in range(len(mats)):
        left = np.linalg.multi_dot(mats[:i]) if i > 1 else (mats[0] if i == 1 else None)
        right = np.linalg.multi_dot(mats[i + 1:]) if len(mats) - i > 2 else (
            mats[-1] if i == len(mats) - 2 else None)
        gi = g
        if left is not None:
            gi = left.T @ gi
        if right is not None:
            gi = gi @ right.T
        grads.append(_like(np.reshape(gi, np.shape(arrays[i])), arrays[i]))
    return grads


@adjoint(np.linalg.eigvalsh)
def linalg_eigvalsh(z, a, UPLO='L'):
    d[a] = _eigvalsh_grad(d[z], a, UPLO)


def _eigvalsh_grad(dz, a, UPLO='L'):
    """Adjoint of ``eigvalsh``: ``eigh``'s, with no adjoint for the eigenvectors."""
    return _eigh_grad((dz, None), np.linalg.eigh(a, UPLO), UPLO)


@adjoint(np.linalg.eigvals)
def linalg_eigvals(z, a):
    d[a] = _eigvals_grad(d[z], a)


def _eigvals_grad(dz, a):
    """Adjoint of ``eigvals``: ``eig``'s, with no adjoint for the eigenvectors."""
    return _eig_grad((dz, None), np.linalg.eig(a), a)


if hasattr(np.ndarray, "mT"):   # NumPy >= 2
    @adjoint(np.linalg.vector_norm)
    def linalg_vector_norm(z, x, *, axis=None, keepdims=False, ord=2):
        d[x] = _vector_norm_grad(d[z], z, x, axis, keepdims, ord)

    @adjoint(np.linalg.matrix_norm)
    def linalg_matrix_norm(z, x, *, keepdims=False, ord='fro'):
        d[x] = _norm_grad(d[z], z, x, ord, (-2, -1), keepdims)


def _vector_norm_grad(dz, z, x, axis=None, keepdims=False, ord=2):
    """Adjoint of ``linalg.vector_norm``: any number of axes, always a vector norm
    (``linalg.norm``'s for the reduced axes laid out as one)."""
    x = _asarray(x)
    axes = _axes(axis, x.ndim)
    rest = [i for i in range(x.ndim) if i not in axes]
    perm = rest + list(axes)
    lead = [x.shape[i] for i in rest]
    flat = np.transpose(x, perm).reshape(lead + [-1])
    zk = np.transpose(_keep(z, x.ndim, axis, keepdims), perm).reshape(lead + [1])
    dzk = np.transpose(_keep(dz, x.ndim, axis, keepdims), perm).reshape(lead + [1])
    g = _norm_grad(dzk, zk, flat, ord, -1, True)
    g = g.reshape(lead + [x.shape[i] for i in axes])
    return np.transpose(g, np.argsort(perm))
