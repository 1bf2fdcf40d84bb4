"""Derivative rules for the NumPy namespace: ufuncs, reductions, products, shapes, indexing.

Each rule is a template (see :mod:`sourcegrad.rules.registry`): the first
parameter is the primal's result, the rest mirror NumPy's own parameters;
the body assigns ``d[arg]`` for each differentiable argument from ``d[z]``,
the adjoint of the result.  Anything longer than a line lives in a private
helper below its rule, written for arrays *and* Python scalars.

``numpy.linalg`` has its rules in :mod:`sourcegrad.rules.linalg`, ``numpy.fft`` in
:mod:`sourcegrad.rules.fft`; the helpers they share (``_like``, ``_match``, ...) are here.

Conventions
-----------
* Ties in ``max``/``min``/``amax``/``amin`` (and ``maximum``/``minimum``) are
  split evenly between the tied elements, as HIPS autograd does.
* ``cholesky`` and ``eigh`` read only one triangle of their input (as NumPy
  does); their rules give the gradient of exactly that function: the
  symmetric part is folded onto the triangle that is read.  For a symmetric
  input built from other values (``A = B @ B.T``) this is the same as the
  symmetrised gradient JAX and autograd return.
* Functions taking a sequence of arrays (``concatenate``, ``stack``, ...)
  assign a Python list of adjoints, one per element, each of its shape.  So
  do those taking ``*arrays`` (``einsum``, ``atleast_1d``): the entry for a
  non-array operand (an einsum subscript string) is ``None``.
* A primal returning a tuple or list (``split``, ``slogdet``, ``eigh``,
  ``qr``) receives ``d[z]`` as a sequence with one adjoint per output; an
  entry may be ``None`` for an output that carries no gradient.
"""
from __future__ import annotations

import math

import numpy as np

from sourcegrad import runtime
from sourcegrad.rules.registry import adjoint, d, elementwise
from sourcegrad.runtime import unbroadcast
from sourcegrad.xp import asarray as _asarray, is_foreign

_LOG2 = float(np.log(2.0))
_LOG10 = float(np.log(10.0))


# ---------------------------------------------------------------- helpers --

def _axes(axis, ndim):
    """``axis`` (None, int, tuple; negative allowed) as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(int(a) % ndim for a in axis))
    return (int(axis) % ndim,)


def _keep(v, ndim, axis, keepdims):
    """A reduction's result with the reduced axes restored as size 1."""
    v = _asarray(v)
    if keepdims or ndim == 0:
        return v
    axes = _axes(axis, ndim)
    if type(v) is not np.ndarray and is_foreign(v) and v.ndim + len(axes) == ndim:
        # by indexing: a Dask array of unknown length cannot be reshaped
        index = [slice(None)] * v.ndim
        for i in axes:
            index.insert(i, None)
        return v[tuple(index)]
    if v.ndim + len(axes) == ndim:  # fast path: np.expand_dims's reshape, without its checks
        shape = list(v.shape)
        for i in axes:  # sorted, so each insert lands where np.expand_dims puts it
            shape.insert(i, 1)
        return v.reshape(shape)
    return np.expand_dims(v, axes)


def _like(g, x):
    """``g`` in ``x``'s floating dtype where ``x`` is a float array."""
    dtype = getattr(x, "dtype", None)
    if isinstance(dtype, np.dtype):  # fast path: no np.issubdtype/np.result_type
        if dtype.kind not in "fc":
            return g
        if isinstance(g, np.ndarray) and g.dtype == dtype:
            return g
    if dtype is not None and np.issubdtype(dtype, np.inexact) and np.result_type(g) != dtype:
        return _asarray(g, dtype=dtype)
    return g


def _sum_grad(dz, a, axis=None, keepdims=False):
    """Adjoint of ``np.sum(a, axis, keepdims=keepdims)``: spread ``dz`` back."""
    shape = a.shape if isinstance(a, np.ndarray) else np.shape(a)
    kept = _keep(dz, len(shape), axis, keepdims)
    if (type(a) is not np.ndarray or type(kept) is not np.ndarray) \
            and (is_foreign(a) or is_foreign(kept)):
        # another library's array (Dask): spread lazily, in its library
        g = np.zeros_like(a, dtype=np.result_type(kept)) + kept
    elif kept.ndim == len(shape):  # fast path: fill a new array (np.broadcast_to's rules)
        g = np.empty(shape, kept.dtype)
        g[...] = kept
    else:
        g = np.broadcast_to(kept, shape).copy()
    return _like(g, a)


def _count(a, axis=None):
    """How many elements a reduction over ``axis`` combines."""
    shape = a.shape if isinstance(a, np.ndarray) else np.shape(a)
    if is_foreign(a) and not all(isinstance(n, (int, np.integer)) for n in shape):
        # a Dask array with unknown chunk sizes: the count is known once computed
        return np.sum(np.ones_like(a, dtype=np.intp), axis=axis)
    return math.prod([shape[i] for i in _axes(axis, len(shape))])


def _minmax_grad(dz, z, a, axis=None, keepdims=False):
    """Adjoint of ``max``/``min``: ``dz`` shared evenly among the extremal elements."""
    ndim = a.ndim if isinstance(a, np.ndarray) else np.ndim(a)
    hit = _asarray(a) == _keep(z, ndim, axis, keepdims)
    axes = _axes(axis, ndim)
    if isinstance(hit, np.ndarray):
        count = hit.sum(axis=axes, keepdims=True)
    elif is_foreign(hit):  # (the Array API sums numbers, not booleans)
        zero = np.zeros_like(a)
        count = np.sum(np.where(hit, zero + 1, zero), axis=axes, keepdims=True)
    else:
        count = np.sum(hit, axis=axes, keepdims=True)
    count = np.maximum(count, 1)  # 0: `initial` won
    share = _keep(dz, ndim, axis, keepdims) / count
    return _like(np.where(hit, share, 0.0), a)


def _tie(x1, x2, z):
    """Weight of ``x1`` in ``maximum``/``minimum``: 1 where it wins, 0.5 on a tie
    (0 where a NaN won: ``x1 == z`` is then false)."""
    return np.where(x1 == x2, 0.5, np.where(x1 == z, 1.0, 0.0))


elementwise(_tie)  # its result has the broadcast shape of its arguments


def _above(x1, x2):
    """Weight of ``x1`` in ``maximum(x1, x2)`` (of ``x2`` in ``minimum``): 1 where
    ``x1 > x2``, 0.5 on a tie, 0 where either is NaN (NaN won).  Unlike
    :func:`_tie` it needs no result, so the forward sweep need not keep it."""
    return np.where(x1 == x2, 0.5, np.where(x1 > x2, 1.0, 0.0))  # floats throughout:
    # the Array API mixes no booleans into arithmetic


elementwise(_above)


def _matmul_grad(dz, x1, x2, which):
    """Adjoint of operand ``which`` (0 or 1) of ``x1 @ x2`` (1-D operands, batches)."""
    a, b, dz = _asarray(x1), _asarray(x2), _asarray(dz)
    if b.ndim == 1:   # x1 @ vector: a trailing axis of 1 was dropped from dz
        b = b[:, None]
        dz = dz[..., None]
    if a.ndim == 1:   # vector @ x2: a row axis of 1 was dropped from dz
        a = a[None, :]
        dz = dz[..., None, :]
    if which == 0:
        return _like(np.reshape(unbroadcast(dz @ np.swapaxes(b, -1, -2), a), np.shape(x1)), x1)
    return _like(np.reshape(unbroadcast(np.swapaxes(a, -1, -2) @ dz, b), np.shape(x2)), x2)


def _tensordot_axes(a, b, axes):
    """``tensordot``'s ``axes`` as two lists of non-negative axes."""
    na, nb = np.ndim(a), np.ndim(b)
    if isinstance(axes, (int, np.integer)):
        return list(range(na - axes, na)), list(range(axes))
    xa, xb = axes
    xa = [xa] if isinstance(xa, (int, np.integer)) else list(xa)
    xb = [xb] if isinstance(xb, (int, np.integer)) else list(xb)
    return [int(i) % na for i in xa], [int(i) % nb for i in xb]


def _tensordot_grad(dz, a, b, axes, which):
    """Adjoint of operand ``which`` of ``np.tensordot(a, b, axes)``."""
    a, b, dz = _asarray(a), _asarray(b), _asarray(dz)
    xa, xb = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(a.ndim) if i not in xa]
    free_b = [i for i in range(b.ndim) if i not in xb]
    nfa = len(free_a)
    if which == 0:
        # contract dz's b-part with b's free axes; b's summed axes follow in b's order
        g = np.tensordot(dz, b, axes=(list(range(nfa, dz.ndim)), free_b))
        order = free_a + [xa[xb.index(j)] for j in sorted(xb)]
    else:
        # contract a's free axes with dz's a-part; a's summed axes lead in a's order
        g = np.tensordot(a, dz, axes=(free_a, list(range(nfa))))
        order = [xb[xa.index(i)] for i in sorted(xa)] + free_b
    return np.transpose(g, np.argsort(order))


def _dot_grad(dz, a, b, which):
    """Adjoint of operand ``which`` of ``np.dot(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:   # dot with a scalar is a product
        return unbroadcast(dz * b, a) if which == 0 else unbroadcast(dz * a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return _matmul_grad(dz, a, b, which)
    axes = ([np.ndim(a) - 1], [0 if np.ndim(b) == 1 else np.ndim(b) - 2])
    return _like(_tensordot_grad(dz, a, b, axes, which), (a, b)[which])


def _inner_grad(dz, a, b, which):
    """Adjoint of operand ``which`` of ``np.inner(a, b)`` (contracts both last axes)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dz * b, a) if which == 0 else unbroadcast(dz * a, b)
    axes = ([np.ndim(a) - 1], [np.ndim(b) - 1])
    return _like(_tensordot_grad(dz, a, b, axes, which), (a, b)[which])


def _transpose_back(dz, axes):
    """Adjoint of ``np.transpose(a, axes)``: the inverse permutation."""
    if axes is None:
        return np.transpose(dz)
    return np.transpose(dz, np.argsort([int(i) % np.ndim(dz) for i in axes]))


def _method_axes(axes):
    """``x.transpose(1, 0)``, ``x.transpose((1, 0))`` and ``x.transpose()`` alike."""
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return axes[0]
    return axes if axes else None


# ------------------------------------------------------ elementwise, unary --

@adjoint(np.exp)
def exp(z, x):
    d[x] = d[z] * z


@adjoint(np.exp2)
def exp2(z, x):
    d[x] = d[z] * z * _LOG2


@adjoint(np.expm1)
def expm1(z, x):
    d[x] = d[z] * (z + 1.0)


@adjoint(np.log)
def log(z, x):
    d[x] = d[z] / x


@adjoint(np.log2)
def log2(z, x):
    d[x] = d[z] / (x * _LOG2)


@adjoint(np.log10)
def log10(z, x):
    d[x] = d[z] / (x * _LOG10)


@adjoint(np.log1p)
def log1p(z, x):
    d[x] = d[z] / (1.0 + x)


@adjoint(np.sqrt)
def sqrt(z, x):
    d[x] = d[z] * 0.5 / z


@adjoint(np.cbrt)
def cbrt(z, x):
    d[x] = d[z] / (3.0 * z * z)


@adjoint(np.square)
def square(z, x):
    d[x] = d[z] * 2.0 * x


@adjoint(np.reciprocal)
def reciprocal(z, x):
    d[x] = -d[z] * z * z


@adjoint(np.absolute, np.fabs)   # np.abs is np.absolute
def absolute(z, x):
    d[x] = _abs_grad(d[z], x)


def _abs_grad(dz, x):
    """Adjoint of ``abs``: ``dz * sign(x)``; for complex ``x`` (as autograd)
    ``dz * conj(x) / |x|``, the real part of which is the derivative."""
    if np.iscomplexobj(x):
        ax = np.abs(x)
        return _asarray(dz) * np.where(ax == 0, 0.0, np.conj(x) / np.where(ax == 0, 1.0, ax))
    return dz * np.sign(x)


elementwise(_abs_grad)


@adjoint(np.sin)
def sin(z, x):
    d[x] = d[z] * np.cos(x)


@adjoint(np.cos)
def cos(z, x):
    d[x] = -d[z] * np.sin(x)


@adjoint(np.tan)
def tan(z, x):
    d[x] = d[z] * (1.0 + z * z)


@adjoint(np.arcsin)
def arcsin(z, x):
    d[x] = d[z] / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(z, x):
    d[x] = -d[z] / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(z, x):
    d[x] = d[z] / (1.0 + x * x)


@adjoint(np.sinh)
def sinh(z, x):
    d[x] = d[z] * np.cosh(x)


@adjoint(np.cosh)
def cosh(z, x):
    d[x] = d[z] * np.sinh(x)


@adjoint(np.tanh)
def tanh(z, x):
    d[x] = d[z] * (1.0 - z * z)


@adjoint(np.arcsinh)
def arcsinh(z, x):
    d[x] = d[z] / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def arccosh(z, x):
    d[x] = d[z] / np.sqrt(x * x - 1.0)


@adjoint(np.arctanh)
def arctanh(z, x):
    d[x] = d[z] / (1.0 - x * x)


# ----------------------------------------------------- elementwise, binary --

@adjoint(np.maximum)
def maximum(z, x1, x2):
    d[x1] = unbroadcast(d[z] * _above(x1, x2), x1)
    d[x2] = unbroadcast(d[z] * _above(x2, x1), x2)


@adjoint(np.minimum)
def minimum(z, x1, x2):
    d[x1] = unbroadcast(d[z] * _above(x2, x1), x1)
    d[x2] = unbroadcast(d[z] * _above(x1, x2), x2)


@adjoint(np.fmax, np.fmin)   # NaN loses here: who won is read off the result
def fmax(z, x1, x2):
    d[x1] = unbroadcast(d[z] * _tie(x1, x2, z), x1)
    d[x2] = unbroadcast(d[z] * _tie(x2, x1, z), x2)


@adjoint(np.where)
def where(z, condition, x=None, y=None):
    d[x] = unbroadcast(np.where(condition, d[z], 0.0), x)
    d[y] = unbroadcast(np.where(condition, 0.0, d[z]), y)


# -------------------------------------------------------------- reductions --

@adjoint(np.sum)
def sum_(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = _sum_grad(d[z], a, axis, keepdims)


@adjoint(np.ndarray.sum)
def ndarray_sum(z, self, axis=None, dtype=None, out=None, keepdims=False):
    d[self] = _sum_grad(d[z], self, axis, keepdims)


@adjoint(np.mean)
def mean(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = _sum_grad(d[z], a, axis, keepdims) / _count(a, axis)


@adjoint(np.ndarray.mean)
def ndarray_mean(z, self, axis=None, dtype=None, out=None, keepdims=False):
    d[self] = _sum_grad(d[z], self, axis, keepdims) / _count(self, axis)


# ---------------------------------------------------------- linear algebra --

@adjoint(np.dot)
def dot(z, a, b, out=None):
    d[a] = _dot_grad(d[z], a, b, 0)
    d[b] = _dot_grad(d[z], a, b, 1)


@adjoint(np.ndarray.dot)
def ndarray_dot(z, self, other, out=None):
    d[self] = _dot_grad(d[z], self, other, 0)
    d[other] = _dot_grad(d[z], self, other, 1)


# ------------------------------------------------------------------ shapes --

# ``shape=`` and ``copy=`` are NumPy >= 2.1 keywords, ``newshape=`` NumPy < 2.4's:
# the rule binds every spelling.
@adjoint(np.reshape)
def reshape(z, a, shape=None, order='C', *, newshape=None, copy=None):
    d[a] = np.reshape(d[z], np.shape(a), order=order)


@adjoint(np.ndarray.reshape)
def ndarray_reshape(z, self, *shape, order='C', copy=None):
    d[self] = np.reshape(d[z], np.shape(self), order=order)


@adjoint(np.transpose)
def transpose(z, a, axes=None):
    d[a] = _transpose_back(d[z], axes)


@adjoint(np.ndarray.transpose)
def ndarray_transpose(z, self, *axes):
    d[self] = _transpose_back(d[z], _method_axes(axes))


@adjoint(np.ndarray.T)
def ndarray_T(z, self):
    d[self] = np.transpose(d[z])


# ======================================================= the wider surface ==
# ------------------------------------------------ more elementwise, unary --

@adjoint(np.sign, np.floor, np.ceil, np.rint, np.trunc)
def sign(z, x):
    d[x] = np.zeros_like(d[z])   # piecewise constant: zero almost everywhere


@adjoint(np.fix)
def fix(z, x, out=None):
    d[x] = np.zeros_like(d[z])


@adjoint(np.round, np.around)
def round_(z, a, decimals=0, out=None):
    d[a] = np.zeros_like(d[z])


@adjoint(np.sinc)
def sinc(z, x):
    d[x] = d[z] * _sinc_slope(x)


def _sinc_slope(x):
    """d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0."""
    safe = np.where(np.equal(x, 0), 1.0, x)
    return np.where(np.equal(x, 0), 0.0, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


@adjoint(np.deg2rad, np.radians)
def deg2rad(z, x):
    d[x] = d[z] * (np.pi / 180.0)


@adjoint(np.rad2deg, np.degrees)
def rad2deg(z, x):
    d[x] = d[z] * (180.0 / np.pi)


# ----------------------------------------------- more elementwise, binary --

@adjoint(np.power, np.float_power)
def power(z, x1, x2):
    d[x1] = _power_grad(d[z], z, x1, x2, 0)
    d[x2] = _power_grad(d[z], z, x1, x2, 1)


def _power_grad(dz, z, x1, x2, which):
    """Adjoints of ``x1 ** x2``: ``x2 x1**(x2-1)`` (0 where x2 == 0) and ``z log x1``
    (0 where x1 == 0, as autograd does).  Plain code, no ``np.errstate`` block, so
    that ``grad(grad(f))`` can differentiate it in turn."""
    if which == 0:
        base = np.where(np.equal(x2, 0), 1.0, x1)  # x1**(x2-1) is not needed where x2 == 0
        g = dz * x2 * np.power(base, np.subtract(x2, 1.0))
        return _like(unbroadcast(g, x1), x1)
    g = dz * z * np.log(np.where(np.equal(x1, 0), 1.0, x1))
    return _like(unbroadcast(g, x2), x2)


@adjoint(np.arctan2)
def arctan2(z, x1, x2):
    r2 = x1 * x1 + x2 * x2
    d[x1] = unbroadcast(d[z] * x2 / r2, x1)
    d[x2] = unbroadcast(-d[z] * x1 / r2, x2)


@adjoint(np.hypot)
def hypot(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x1 / z, x1)
    d[x2] = unbroadcast(d[z] * x2 / z, x2)


def _sigmoid(t):
    """``1 / (1 + exp(-t))``: softplus's slope, to full relative precision in both tails.

    ``exp(-t)`` overflows only below t = -709, where the true value is under the
    smallest normal float; clipping there returns that bound (about 1.2e-308)
    instead of warning (likewise per dtype).  Five ufunc calls, no ``np.where``:
    this sits on every logistic loss's backward path."""
    dtype = getattr(t, "dtype", np.float64)
    # (another library's dtype: the exact form, which needs no per-dtype bound)
    lo = _EXP_FLOOR.get(dtype) if isinstance(dtype, np.dtype) else None
    if lo is None:  # float16's range is too narrow for the clip: the exact form
        e = np.exp(-np.abs(t))  # in (0, 1]
        return np.where(t >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return 1.0 / (1.0 + np.exp(-np.maximum(t, lo)))


# the most negative t whose exp(-t) is finite, per floating dtype (ints: float64)
_EXP_FLOOR = {np.float64: -709.0, np.dtype(np.float64): -709.0,
              np.dtype(np.float32): -88.0}
_EXP_FLOOR.update({np.dtype(t): -709.0 for t in "bBhHiIlLqQ?"})


elementwise(_sigmoid)  # its result has the broadcast shape of its argument


@adjoint(np.logaddexp)
def logaddexp(z, x1, x2):
    # in terms of the arguments only, so a loss value nobody reads need not be computed
    d[x1] = unbroadcast(d[z] * _sigmoid(x1 - x2), x1)
    d[x2] = unbroadcast(d[z] * _sigmoid(x2 - x1), x2)


@adjoint(np.logaddexp2)
def logaddexp2(z, x1, x2):
    d[x1] = unbroadcast(d[z] * np.exp2(x1 - z), x1)
    d[x2] = unbroadcast(d[z] * np.exp2(x2 - z), x2)


@adjoint(np.remainder)   # np.mod is np.remainder
def remainder(z, x1, x2):
    d[x1] = unbroadcast(d[z], x1)
    d[x2] = unbroadcast(-d[z] * np.floor_divide(x1, x2), x2)


@adjoint(np.fmod)
def fmod(z, x1, x2):
    d[x1] = unbroadcast(d[z], x1)
    d[x2] = unbroadcast(-d[z] * np.trunc(x1 / x2), x2)


@adjoint(np.clip)
def clip(z, a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    d[a] = _clip_grad(d[z], a, a_min, a_max, min, max, 0)
    d[a_min] = _clip_grad(d[z], a, a_min, a_max, min, max, 1)
    d[a_max] = _clip_grad(d[z], a, a_min, a_max, min, max, 2)
    d[min] = _clip_grad(d[z], a, a_min, a_max, min, max, 1)
    d[max] = _clip_grad(d[z], a, a_min, a_max, min, max, 2)


@adjoint(np.ndarray.clip)
def ndarray_clip(z, self, min=None, max=None, out=None):
    d[self] = _clip_grad(d[z], self, min, max, None, None, 0)
    d[min] = _clip_grad(d[z], self, min, max, None, None, 1)
    d[max] = _clip_grad(d[z], self, min, max, None, None, 2)


def _clip_grad(dz, a, a_min, a_max, min_, max_, which):
    """Adjoint of ``clip`` for ``a`` (0), the lower (1) or the upper bound (2).

    ``clip`` is ``minimum(maximum(a, lo), hi)``: ``a`` gets ``dz`` where it
    passes through (bounds included), a bound where it is the result."""
    lo = a_min if min_ is None else min_
    hi = a_max if max_ is None else max_
    low = np.less(a, lo) if lo is not None else np.zeros(np.shape(a), bool)
    mid = np.maximum(a, lo) if lo is not None else a
    high = np.greater(mid, hi) if hi is not None else np.zeros(np.shape(a), bool)
    low = low & ~high
    if which == 0:
        return _like(unbroadcast(np.where(low | high, 0.0, dz), a), a)
    if which == 1:
        return _like(unbroadcast(np.where(low, dz, 0.0), lo), lo)
    return _like(unbroadcast(np.where(high, dz, 0.0), hi), hi)


# ---------------------------------------------------------- more reductions --

@adjoint(np.prod)
def prod(z, a, axis=None, dtype=None, out=None, keepdims=False, initial=None):
    d[a] = _prod_grad(d[z], a, axis, keepdims)


@adjoint(np.ndarray.prod)
def ndarray_prod(z, self, axis=None, dtype=None, out=None, keepdims=False, initial=None):
    d[self] = _prod_grad(d[z], self, axis, keepdims)


def _prod_grad(dz, a, axis=None, keepdims=False):
    """Adjoint of ``prod``: each element gets the product of the *others*
    (exclusive cumulative products from both sides, so zeros are exact)."""
    x = _asarray(a)
    axes = _axes(axis, x.ndim)
    if x.ndim == 0:
        return _like(_asarray(dz) * 1.0, a)
    rest = x.ndim - len(axes)
    moved = np.moveaxis(x, axes, range(rest, x.ndim))
    flat = moved.reshape(moved.shape[:rest] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([flat[..., 1:], ones], axis=-1), -1), -1), -1)
    others = np.moveaxis((left * right).reshape(moved.shape), range(rest, x.ndim), axes)
    return _like(_keep(dz, x.ndim, axis, keepdims) * others, a)


@adjoint(np.max, np.min, np.amax, np.amin)
def max_(z, a, axis=None, out=None, keepdims=False, initial=None):
    d[a] = _minmax_grad(d[z], z, a, axis, keepdims)


@adjoint(np.ndarray.max, np.ndarray.min)
def ndarray_max(z, self, axis=None, out=None, keepdims=False, initial=None):
    d[self] = _minmax_grad(d[z], z, self, axis, keepdims)


@adjoint(np.var)
def var(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[a] = _var_grad(d[z], a, axis, ddof, keepdims)


@adjoint(np.ndarray.var)
def ndarray_var(z, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _var_grad(d[z], self, axis, ddof, keepdims)


@adjoint(np.std)
def std(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[a] = _std_grad(d[z], z, a, axis, ddof, keepdims)


@adjoint(np.ndarray.std)
def ndarray_std(z, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _std_grad(d[z], z, self, axis, ddof, keepdims)


def _std_grad(dz, z, a, axis=None, ddof=0, keepdims=False):
    """Adjoint of ``std = sqrt(var)``.  A zero ``std`` (all values equal, or one
    value per group) has zero gradient, as ``abs`` has at 0: every centred value
    is 0 there, and ``dz / (2 z)`` would make 0 * inf = nan of it."""
    return _var_grad(dz / (2.0 * np.where(z == 0, 1.0, z)), a, axis, ddof, keepdims)


def _var_grad(dz, a, axis=None, ddof=0, keepdims=False):
    """Adjoint of ``var``: ``2 (a - mean) / (N - ddof)``."""
    x = _asarray(a)
    centered = x - np.mean(x, axis=_axes(axis, x.ndim), keepdims=True)
    return _like(_keep(dz, x.ndim, axis, keepdims) * 2.0 * centered / (_count(x, axis) - ddof), a)


@adjoint(np.cumsum)
def cumsum(z, a, axis=None, dtype=None, out=None):
    d[a] = _cumsum_grad(d[z], a, axis)


@adjoint(np.ndarray.cumsum)
def ndarray_cumsum(z, self, axis=None, dtype=None, out=None):
    d[self] = _cumsum_grad(d[z], self, axis)


def _cumsum_grad(dz, a, axis=None):
    """Adjoint of ``cumsum``: a cumulative sum from the other end."""
    if axis is None:
        return _like(np.reshape(_cumsum_grad(np.ravel(dz), np.ravel(a), 0), np.shape(a)), a)
    return _like(np.flip(np.cumsum(np.flip(dz, axis), axis), axis), a)


@adjoint(np.cumprod)
def cumprod(z, a, axis=None, dtype=None, out=None):
    d[a] = _cumprod_grad(d[z], z, a, axis)


@adjoint(np.ndarray.cumprod)
def ndarray_cumprod(z, self, axis=None, dtype=None, out=None):
    d[self] = _cumprod_grad(d[z], z, self, axis)


def _cumprod_grad(dz, z, a, axis=None):
    """Adjoint of ``cumprod``: reverse cumsum of ``dz * z`` over ``a``; exact
    (quadratic along the axis) when ``a`` holds zeros."""
    x = _asarray(a)
    if axis is None:
        flat = _cumprod_grad(np.ravel(dz), np.ravel(z), np.ravel(x), 0)
        return _like(np.reshape(flat, x.shape), a)
    if np.all(x != 0):
        return _like(_cumsum_grad(dz * z, x, axis) / x, a)
    xm = np.moveaxis(x, axis, -1)
    dzm = np.moveaxis(_asarray(dz), axis, -1)
    g = np.zeros(np.broadcast_shapes(xm.shape, dzm.shape), np.result_type(xm, dzm, 1.0))
    for i in range(xm.shape[-1]):
        held = xm.copy()
        held[..., i] = 1.0   # product over k <= j, k != i
        g[..., i] = np.sum(dzm[..., i:] * np.cumprod(held, axis=-1)[..., i:], axis=-1)
    return _like(np.moveaxis(g, -1, axis), a)


@adjoint(np.nansum)
def nansum(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = np.where(np.isnan(a), 0.0, _sum_grad(d[z], a, axis, keepdims))


@adjoint(np.nanmean)
def nanmean(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = np.where(np.isnan(a), 0.0, _sum_grad(d[z], a, axis, keepdims)) / _nancount(a, axis)


def _nancount(a, axis=None):
    """How many non-NaN elements each ``nanmean`` combines (kept dims)."""
    return np.sum(~np.isnan(a), axis=_axes(axis, np.ndim(a)), keepdims=True)


@adjoint(np.sort)
def sort(z, a, axis=-1, kind=None, order=None, stable=None):
    d[a] = _sort_grad(d[z], a, axis)


def _sort_grad(dz, a, axis=-1):
    """Adjoint of ``sort``: send each adjoint back to where its element came from."""
    if axis is None:
        return np.reshape(_sort_grad(np.ravel(dz), np.ravel(a), -1), np.shape(a))
    idx = np.argsort(a, axis=axis, kind="stable")
    g = np.zeros_like(_asarray(dz))
    np.put_along_axis(g, idx, dz, axis=axis)
    return _like(g, a)


# ----------------------------------------------------- more linear algebra --

@adjoint(np.outer)
def outer(z, a, b, out=None):
    d[a] = np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] = np.reshape(np.ravel(a) @ d[z], np.shape(b))


@adjoint(np.inner)
def inner(z, a, b):
    d[a] = _inner_grad(d[z], a, b, 0)
    d[b] = _inner_grad(d[z], a, b, 1)


@adjoint(np.tensordot)
def tensordot(z, a, b, axes=2):
    d[a] = _like(_tensordot_grad(d[z], a, b, axes, 0), a)
    d[b] = _like(_tensordot_grad(d[z], a, b, axes, 1), b)


@adjoint(np.einsum)
def einsum(z, *operands, out=None, optimize=False, dtype=None, order='K', casting='safe'):
    d[operands] = _einsum_grads(d[z], operands)


def _einsum_parse(subscripts, arrays):
    """Explicit per-operand subscripts and output, with ``...`` spelled out."""
    subscripts = subscripts.replace(" ", "")
    ins, arrow, out = subscripts.partition("->")
    ins = ins.split(",")
    used = set(subscripts)
    pool = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    n_ell = max([np.ndim(x) - (len(s) - 3) for s, x in zip(ins, arrays) if "..." in s] or [0])
    ell = "".join(pool[:n_ell])
    ins = [s.replace("...", ell[n_ell - (np.ndim(x) - (len(s) - 3)):]) if "..." in s else s
           for s, x in zip(ins, arrays)]
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(ins)
        once = (c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        out = ell + "".join(sorted(once))
    return ins, out


def _einsum_grads(dz, operands):
    """Adjoints of ``np.einsum(subscripts, *arrays)``: one per operand (``None``
    for the subscripts string).  Each is another einsum of ``dz`` with the other
    operands; indices summed inside one operand only are broadcast back, and
    repeated indices (``'ii->'``) land on the diagonal.  An index of size 1 in
    one operand and n in another (einsum broadcasts it) is summed back to 1."""
    subscripts, arrays = operands[0], operands[1:]
    if not isinstance(subscripts, str):
        raise NotImplementedError(
            "sourcegrad differentiates np.einsum with a subscripts string only, "
            "not the interleaved (array, [axes], ...) form")
    ins, out = _einsum_parse(subscripts, arrays)
    grads = [None]
    for i, x in enumerate(arrays):
        others = [s for k, s in enumerate(ins) if k != i]
        other_arrays = [v for k, v in enumerate(arrays) if k != i]
        uniq = "".join(dict.fromkeys(ins[i]))
        seen = out + "".join(others)
        avail = "".join(c for c in uniq if c in seen)
        g = np.einsum(",".join([out] + others) + "->" + avail, dz, *other_arrays)
        sizes = dict(zip(ins[i], np.shape(x)))
        wide = tuple(k for k, c in enumerate(avail) if sizes[c] == 1 and np.shape(g)[k] != 1)
        if wide:  # broadcast by einsum from size 1: summed back
            g = np.sum(g, axis=wide, keepdims=True)
        g = np.broadcast_to(g, [sizes[c] for c in avail])  # size 1 in the others
        g = np.reshape(g, [sizes[c] if c in avail else 1 for c in uniq])
        g = np.broadcast_to(g, [sizes[c] for c in uniq])
        if not uniq:   # a scalar operand
            grads.append(_like(np.array(g), x))
            continue
        full = np.zeros(np.shape(x), dtype=g.dtype)
        np.einsum(ins[i] + "->" + uniq, full)[...] = g   # a writeable (diagonal) view
        grads.append(_like(full, x))
    return grads


@adjoint(np.trace)
def trace(z, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] = _trace_grad(d[z], a, offset, axis1, axis2)


@adjoint(np.ndarray.trace)
def ndarray_trace(z, self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[self] = _trace_grad(d[z], self, offset, axis1, axis2)


def _trace_grad(dz, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``trace``: ``dz`` times the (offset) identity on the two axes."""
    shape = np.shape(a)
    a1, a2 = axis1 % len(shape), axis2 % len(shape)
    eye = np.eye(shape[a1], shape[a2], k=offset, dtype=np.result_type(dz, 1.0))
    return _like(np.moveaxis(_asarray(dz)[..., None, None] * eye, (-2, -1), (a1, a2)), a)


@adjoint(np.diagonal)
def diagonal(z, a, offset=0, axis1=0, axis2=1):
    d[a] = _diagonal_grad(d[z], a, offset, axis1, axis2)


@adjoint(np.ndarray.diagonal)
def ndarray_diagonal(z, self, offset=0, axis1=0, axis2=1):
    d[self] = _diagonal_grad(d[z], self, offset, axis1, axis2)


def _diagonal_grad(dz, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``diagonal``: ``dz`` written onto the diagonal of zeros."""
    shape = np.shape(a)
    a1, a2 = axis1 % len(shape), axis2 % len(shape)
    dz = _asarray(dz)
    g = np.zeros(dz.shape[:-1] + (shape[a1], shape[a2]), dtype=np.result_type(dz, 1.0))
    i = np.arange(dz.shape[-1])
    g[..., i + max(-offset, 0), i + max(offset, 0)] = dz
    return _like(np.moveaxis(g, (-2, -1), (a1, a2)), a)


@adjoint(np.diag)
def diag(z, v, k=0):
    d[v] = _diag_grad(d[z], v, k)


def _diag_grad(dz, v, k=0):
    """Adjoint of ``diag``: builds a matrix from a vector, or reads a diagonal."""
    if np.ndim(v) == 1:
        return _like(np.diag(dz, k), v)
    return _diagonal_grad(dz, v, k, 0, 1)


# ------------------------------------------------------------- more shapes --

@adjoint(np.ravel)
def ravel(z, a, order='C'):
    d[a] = np.reshape(d[z], np.shape(a), order=order)


@adjoint(np.ndarray.ravel, np.ndarray.flatten)
def ndarray_ravel(z, self, order='C'):
    d[self] = np.reshape(d[z], np.shape(self), order=order)


@adjoint(np.swapaxes)
def swapaxes(z, a, axis1, axis2):
    d[a] = np.swapaxes(d[z], axis1, axis2)


@adjoint(np.ndarray.swapaxes)
def ndarray_swapaxes(z, self, axis1, axis2):
    d[self] = np.swapaxes(d[z], axis1, axis2)


@adjoint(np.moveaxis)
def moveaxis(z, a, source, destination):
    d[a] = np.moveaxis(d[z], destination, source)


@adjoint(np.expand_dims)
def expand_dims(z, a, axis):
    d[a] = np.reshape(d[z], np.shape(a))


@adjoint(np.squeeze)
def squeeze(z, a, axis=None):
    d[a] = np.reshape(d[z], np.shape(a))


@adjoint(np.ndarray.squeeze)
def ndarray_squeeze(z, self, axis=None):
    d[self] = np.reshape(d[z], np.shape(self))


@adjoint(np.broadcast_to)
def broadcast_to(z, array, shape, subok=False):
    d[array] = unbroadcast(d[z], array)


@adjoint(np.concatenate)
def concatenate(z, arrays, axis=0, out=None, dtype=None, casting='same_kind'):
    d[arrays] = _concatenate_grad(d[z], arrays, axis)


def _concatenate_grad(dz, arrays, axis=0):
    """Adjoint of ``concatenate``: ``dz`` split back into the pieces."""
    if axis is None:
        cuts = np.cumsum([np.size(x) for x in arrays])[:-1]
        parts = np.split(np.ravel(dz), cuts)
    else:
        cuts = np.cumsum([np.shape(x)[axis] for x in arrays])[:-1]
        parts = np.split(dz, cuts, axis=axis)
    return [_like(np.reshape(p, np.shape(x)), x) for p, x in zip(parts, arrays)]


@adjoint(np.block)
def block(z, arrays):
    d[arrays] = _block_grad(d[z], arrays)


def _block_depth(arrays):
    depth = 0
    while isinstance(arrays, list):
        depth += 1
        arrays = arrays[0] if arrays else None
    return depth


def _block_shape(item, level, depth, ndim):
    """The shape of what ``np.block`` assembles from ``item`` (a leaf, or the nested
    list at ``level``), promoted to ``ndim`` dimensions as np.block promotes them."""
    if not isinstance(item, list):
        shape = np.shape(item)
        return (1,) * (ndim - len(shape)) + shape
    parts = [_block_shape(c, level + 1, depth, ndim) for c in item]
    axis = ndim - (depth - level)
    out = list(parts[0])
    out[axis] = sum(p[axis] for p in parts)
    return tuple(out)


def _block_leaves(arrays):
    return [x for c in arrays for x in _block_leaves(c)] if isinstance(arrays, list) \
        else [arrays]


def _block_grad(dz, arrays):
    """Adjoint of ``np.block(arrays)``: ``dz`` split back along the axis each level
    of the nesting joined (the innermost lists along the last axis), each piece
    reshaped to its leaf's own shape."""
    depth = _block_depth(arrays)
    ndim = max([depth] + [np.ndim(x) for x in _block_leaves(arrays)])

    def split(g, item, level):
        if not isinstance(item, list):
            return _like(np.reshape(g, np.shape(item)), item)
        axis = ndim - (depth - level)
        sizes = [_block_shape(c, level + 1, depth, ndim)[axis] for c in item]
        parts = np.split(g, np.cumsum(sizes)[:-1], axis=axis)
        return [split(p, c, level + 1) for p, c in zip(parts, item)]
    return split(_asarray(dz), arrays, 0)


@adjoint(np.append)
def append(z, arr, values, axis=None):
    d[arr] = _append_grad(d[z], arr, values, axis, 0)
    d[values] = _append_grad(d[z], arr, values, axis, 1)


def _append_grad(dz, arr, values, axis, which):
    """Adjoint of ``np.append``: a concatenation (of both flattened when ``axis`` is None)."""
    return _concatenate_grad(dz, [arr, values], axis)[which]


@adjoint(np.stack)
def stack(z, arrays, axis=0, out=None, dtype=None, casting='same_kind'):
    d[arrays] = _stack_grad(d[z], arrays, axis)


def _stack_grad(dz, arrays, axis=0):
    """Adjoint of ``stack``: the slices of ``dz`` along the new axis."""
    parts = np.moveaxis(dz, axis, 0)
    return [_like(np.reshape(p, np.shape(x)), x) for p, x in zip(parts, arrays)]


@adjoint(np.hstack)
def hstack(z, tup, dtype=None, casting='same_kind'):
    d[tup] = _hstack_grad(d[z], tup)


def _hstack_grad(dz, tup):
    """Adjoint of ``hstack``: split along axis 0 for 1-D pieces, else axis 1."""
    pieces = [np.atleast_1d(x) for x in tup]
    axis = 0 if pieces[0].ndim == 1 else 1
    parts = np.split(dz, np.cumsum([p.shape[axis] for p in pieces])[:-1], axis=axis)
    return [_like(np.reshape(p, np.shape(x)), x) for p, x in zip(parts, tup)]


@adjoint(np.vstack)
def vstack(z, tup, dtype=None, casting='same_kind'):
    d[tup] = _vstack_grad(d[z], tup)


def _vstack_grad(dz, tup):
    """Adjoint of ``vstack``: split along axis 0 (1-D pieces were rows)."""
    pieces = [np.atleast_2d(x) for x in tup]
    parts = np.split(dz, np.cumsum([p.shape[0] for p in pieces])[:-1], axis=0)
    return [_like(np.reshape(p, np.shape(x)), x) for p, x in zip(parts, tup)]


@adjoint(np.split, np.array_split)
def split(z, ary, indices_or_sections, axis=0):
    d[ary] = _split_grad(d[z], z, axis)


def _split_grad(dz, z, axis=0):
    """Adjoint of ``split``: the pieces' adjoints joined (zeros for missing ones)."""
    parts = [np.zeros_like(p) if g is None else g for g, p in zip(dz, z)]
    return np.concatenate(parts, axis=axis)


@adjoint(np.tile)
def tile(z, A, reps):
    d[A] = _tile_grad(d[z], A, reps)


def _tile_grad(dz, A, reps):
    """Adjoint of ``tile``: sum the copies (view dz as (reps_i, shape_i) pairs)."""
    shape = np.shape(A)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(reps)
    n = max(len(shape), len(reps))
    s = (1,) * (n - len(shape)) + tuple(shape)
    r = (1,) * (n - len(reps)) + reps
    g = np.reshape(dz, [v for pair in zip(r, s) for v in pair])
    g = np.sum(g, axis=tuple(range(0, 2 * n, 2)))
    return _like(np.reshape(g, shape), A)


@adjoint(np.repeat)
def repeat(z, a, repeats, axis=None):
    d[a] = _repeat_grad(d[z], a, repeats, axis)


@adjoint(np.ndarray.repeat)
def ndarray_repeat(z, self, repeats, axis=None):
    d[self] = _repeat_grad(d[z], self, repeats, axis)


def _repeat_grad(dz, a, repeats, axis=None):
    """Adjoint of ``repeat``: add the copies of each element back together."""
    shape = np.shape(a)
    dz = _asarray(dz)
    if axis is None:
        n = int(np.prod(shape))
        g = np.zeros(n, dtype=np.result_type(dz, 1.0))
        np.add.at(g, np.repeat(np.arange(n), repeats), np.ravel(dz))
        return _like(np.reshape(g, shape), a)
    axis = axis % len(shape)
    g = np.zeros((shape[axis],) + shape[:axis] + shape[axis + 1:], dtype=np.result_type(dz, 1.0))
    np.add.at(g, np.repeat(np.arange(shape[axis]), repeats), np.moveaxis(dz, axis, 0))
    return _like(np.moveaxis(g, 0, axis), a)


@adjoint(np.flip)
def flip(z, m, axis=None):
    d[m] = np.flip(d[z], axis)


@adjoint(np.fliplr)
def fliplr(z, m):
    d[m] = np.fliplr(d[z])


@adjoint(np.flipud)
def flipud(z, m):
    d[m] = np.flipud(d[z])


@adjoint(np.roll)
def roll(z, a, shift, axis=None):
    d[a] = np.roll(d[z], np.negative(shift), axis)


@adjoint(np.pad)
def pad(z, array, pad_width, mode='constant', stat_length=None, constant_values=0,
        end_values=0, reflect_type='even'):
    d[array] = _pad_grad(d[z], array, pad_width, mode, reflect_type)


def _pad_grad(dz, array, pad_width, mode='constant', reflect_type='even'):
    """Adjoint of ``pad``: the interior for ``constant``; for the copying modes
    (edge, reflect, symmetric, wrap) each copy's adjoint goes to its source."""
    shape = np.shape(array)
    if mode == "constant":
        widths = np.broadcast_to(_asarray(pad_width, dtype=int), (len(shape), 2))
        inner = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(widths, shape))
        return _like(np.array(_asarray(dz)[inner]), array)
    if mode in ("edge", "reflect", "symmetric", "wrap") and reflect_type == "even":
        size = int(np.prod(shape))
        source = np.pad(np.arange(size).reshape(shape), pad_width, mode=mode)
        g = np.zeros(size, dtype=np.result_type(dz, 1.0))
        np.add.at(g, np.ravel(source), np.ravel(dz))
        return _like(np.reshape(g, shape), array)
    raise NotImplementedError(
        f"no derivative rule for np.pad(mode={mode!r}, reflect_type={reflect_type!r})")


@adjoint(np.triu)
def triu(z, m, k=0):
    d[m] = np.triu(d[z], k)


@adjoint(np.tril)
def tril(z, m, k=0):
    d[m] = np.tril(d[z], k)


@adjoint(np.take)
def take(z, a, indices, axis=None, out=None, mode='raise'):
    d[a] = _take_grad(d[z], a, indices, axis, mode)


@adjoint(np.ndarray.take)
def ndarray_take(z, self, indices, axis=None, out=None, mode='raise'):
    d[self] = _take_grad(d[z], self, indices, axis, mode)


def _take_grad(dz, a, indices, axis=None, mode='raise'):
    """Adjoint of ``take``: scatter-add ``dz`` to the taken positions."""
    shape = np.shape(a)
    dz = _asarray(dz)
    if axis is None:
        n = int(np.prod(shape))
        idx = np.take(np.arange(n), indices, mode=mode)   # wrap/clip/negatives resolved
        g = np.zeros(n, dtype=np.result_type(dz, 1.0))
        np.add.at(g, np.ravel(idx), np.ravel(dz))
        return _like(np.reshape(g, shape), a)
    axis = axis % len(shape)
    idx = np.take(np.arange(shape[axis]), indices, mode=mode)
    g = np.zeros((shape[axis],) + shape[:axis] + shape[axis + 1:], dtype=np.result_type(dz, 1.0))
    k = np.ndim(idx)
    np.add.at(g, idx, np.moveaxis(dz, list(range(axis, axis + k)), list(range(k))))
    return _like(np.moveaxis(g, 0, axis), a)


@adjoint(np.lib.stride_tricks.sliding_window_view)
def sliding_window_view(z, x, window_shape, axis=None, subok=False, writeable=False):
    d[x] = _windows_grad(d[z], x, window_shape, axis)


def _windows_grad(dz, x, window_shape, axis):
    """The adjoint of ``x`` in ``sliding_window_view(x, ...)``: each window's adjoint
    added back where its elements came from (overlapping windows add up)."""
    return _scatter_back(dz, windows_of(x, window_shape, axis), x)


def windows_of(x, window_shape, axis):
    """``sliding_window_view`` of the flat positions of ``x``'s elements."""
    return np.lib.stride_tricks.sliding_window_view(numbered(x), window_shape, axis)


def _scatter_back(dz, places, like):
    """An array shaped like ``like``: element ``k`` the sum of ``dz`` where the int array
    ``places`` (shaped like ``dz``) holds ``k`` (-1: from elsewhere)."""
    g = np.zeros(np.size(like), np.result_type(like, dz, 1.0))
    mine = places >= 0
    np.add.at(g, places[mine], np.broadcast_to(dz, places.shape)[mine])
    return _like(g.reshape(np.shape(like)), like)


def numbered(x):
    """The flat positions of ``x``'s elements, shaped like ``x``."""
    return np.arange(np.size(x)).reshape(np.shape(x))


@adjoint(np.delete)
def delete(z, arr, obj, axis=None):
    d[arr] = _scatter_back(d[z], np.delete(numbered(arr), obj, axis), arr)


@adjoint(np.insert)
def insert(z, arr, obj, values, axis=None):
    d[arr] = _scatter_back(d[z], np.insert(numbered(arr), obj, -1, axis), arr)
    d[values] = _scatter_back(d[z], np.insert(np.full(np.shape(arr), -1), obj,
                                              numbered(values), axis), values)


@adjoint(np.meshgrid)
def meshgrid(z, *xi, copy=True, sparse=False, indexing='xy'):
    d[xi] = _meshgrid_grad(d[z], xi, indexing)


def meshgrid_axis(k, n, indexing):
    """The axis of ``np.meshgrid``'s outputs (``n`` inputs) along which input ``k``
    runs: its own, but the first two swapped for ``indexing='xy'``."""
    if indexing == "xy" and n > 1 and k < 2:
        return 1 - k
    return k


def _meshgrid_grad(dz, xi, indexing):
    """Adjoints of ``np.meshgrid(*xi)``'s inputs: each output's adjoint summed over
    the axes its input does not run along (an input is read flattened)."""
    out = []
    for k, (g, x) in enumerate(zip(dz, xi)):
        if g is None:
            out.append(None)
            continue
        ax = meshgrid_axis(k, len(xi), indexing)
        others = tuple(a for a in range(np.ndim(g)) if a != ax)
        out.append(_like(np.reshape(np.sum(g, axis=others), np.shape(x)), x))
    return out


@adjoint(np.unique)
def unique(z, ar, return_index=False, return_inverse=False, return_counts=False,
           axis=None, **kwargs):
    d[ar] = _unique_grad(d[z], ar, return_index or return_inverse or return_counts, axis)


def _unique_grad(dz, ar, more, axis):
    """The adjoint of ``np.unique(ar)``'s values: each value's adjoint to the first
    element equal to it (a tie: where NumPy's ``return_index`` points)."""
    first = runtime.unique_firsts(ar, more, axis)
    g = np.zeros(np.size(ar), np.result_type(ar, 1.0))
    g[first] = dz
    return _like(np.reshape(g, np.shape(ar)), ar)


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_1d(z, *arys):
    d[arys] = _atleast_grad(d[z], arys)


def _atleast_grad(dz, arys):
    """Adjoints of ``atleast_Nd(*arys)`` (one array, or a list for several)."""
    dz = [dz] if len(arys) == 1 else dz
    return [_like(np.reshape(g, np.shape(x)), x) for g, x in zip(dz, arys)]


# ---------------------------------------------------------- identity-like --

@adjoint(np.float64, np.float32, np.float16, np.longdouble)
def float64(z, value=0):
    d[value] = _like(d[z], value)


@adjoint(np.asarray, np.asanyarray)
def asarray(z, a, dtype=None, order=None, *, device=None, copy=None, like=None):
    d[a] = _array_grad(d[z], a)


@adjoint(_asarray)  # np.asarray that leaves another library's array in it (xp.asarray)
def asarray_any_library(z, x, dtype=None):
    d[x] = _array_grad(d[z], x)


@adjoint(np.ascontiguousarray, np.asfortranarray)
def ascontiguousarray(z, a, dtype=None, *, like=None):
    d[a] = _array_grad(d[z], a)


@adjoint(np.array)
def array(z, object, dtype=None, *, copy=True, order='K', subok=False, ndmin=0, ndmax=0,
          like=None):
    d[object] = _array_grad(d[z], object)


def _array_grad(dz, x):
    """Adjoint of ``np.array(x)``: a list of adjoints for a (nested) sequence,
    else ``dz`` in ``x``'s shape and float dtype."""
    if isinstance(x, (list, tuple)):
        dz = np.reshape(dz, np.shape(x))
        return [_array_grad(dz[i], v) for i, v in enumerate(x)]
    return _like(np.reshape(dz, np.shape(x)), x)


@adjoint(np.copy)
def copy(z, a, order='K', subok=False):
    d[a] = d[z]


@adjoint(np.ndarray.copy)
def ndarray_copy(z, self, order='C'):
    d[self] = d[z]


@adjoint(np.ndarray.astype)
def ndarray_astype(z, self, dtype, order='K', casting='unsafe', subok=True, copy=True):
    d[self] = _astype_grad(d[z], self, z)


def _astype_grad(dz, x, z):
    """Adjoint of ``x.astype(...)``: ``dz``, unless floats were truncated to integers
    (a step function: zero)."""
    if np.result_type(z).kind in "biu" and np.result_type(x).kind in "fc":
        return np.zeros(np.shape(x), np.result_type(x))
    return _like(dz, x)


# ---------------------------------------------- filled and spaced arrays --
# Their shape arguments carry no gradient, but the values they fill in do:
# ``np.full(n, x)`` and ``np.linspace(a, b, n)`` depend on ``x``, ``a``, ``b``.

@adjoint(np.full)
def full(z, shape, fill_value, dtype=None, order='C', *, device=None, like=None):
    d[fill_value] = unbroadcast(d[z], fill_value)


@adjoint(np.full_like)
def full_like(z, a, fill_value, dtype=None, order='K', subok=True, shape=None, *,
              device=None):
    d[fill_value] = unbroadcast(d[z], fill_value)


@adjoint(np.linspace)
def linspace(z, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    d[start] = _linspace_grad(d[z], start, stop, num, endpoint, retstep, axis, 0)
    d[stop] = _linspace_grad(d[z], start, stop, num, endpoint, retstep, axis, 1)


def _linspace_grad(dz, start, stop, num, endpoint, retstep, axis, which):
    """Adjoint of ``start`` (``which`` 0) or ``stop`` (1) of ``np.linspace``:
    sample ``i`` is ``start + t_i * (stop - start)`` with ``t_i = i / div``."""
    dstep = None
    if retstep:
        dz, dstep = dz
    num = int(num)
    div = (num - 1) if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
    ndim = len(shape) + 1
    ax = int(axis) % ndim
    t = t.reshape([num if i == ax else 1 for i in range(ndim)])
    dz = np.zeros((1,) * ndim) if dz is None else _asarray(dz)
    g = np.sum(dz * (t if which else 1.0 - t), axis=ax)
    if dstep is not None and div > 0:
        g = g + (dstep / div if which else -dstep / div)
    x = stop if which else start
    return _like(unbroadcast(g, x), x)


@adjoint(np.logspace)
def logspace(z, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[start] = _linspace_grad(d[z] * z * np.log(base), start, stop, num, endpoint, False,
                              axis, 0)
    d[stop] = _linspace_grad(d[z] * z * np.log(base), start, stop, num, endpoint, False,
                             axis, 1)
    d[base] = unbroadcast(d[z] * z * np.log(z) / (np.log(base) * base), base)


# ------------------------------------------------------ complex numbers --
# Complex adjoints follow HIPS autograd: for ``z = u + iv`` and a real loss,
# ``d[z] = dL/du - 1j * dL/dv``; a real argument's adjoint is the real part.

def _match(x, g):
    """``g`` as the adjoint of ``x``: its real part (in x's dtype) for real ``x``."""
    if np.iscomplexobj(x):
        return _asarray(g) + 0j
    return _like(np.real(g), x)


@adjoint(np.real)
def real(z, val):
    d[val] = _match(val, d[z])


@adjoint(np.imag)
def imag(z, val):
    d[val] = _match(val, -1j * d[z])


@adjoint(np.conjugate)   # np.conj is np.conjugate
def conjugate(z, x):
    d[x] = _match(x, np.conj(d[z]))


@adjoint(np.angle)
def angle(out, z, deg=False):
    d[z] = _angle_grad(d[out], z, deg)


def _angle_grad(dz, z, deg=False):
    """Adjoint of ``angle``: ``dz * conj(1j z) / |z|^2`` (zero for real ``z``)."""
    zz = _asarray(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(zz == 0, 0.0, _asarray(dz) * np.conj(zz * 1j) / np.abs(zz) ** 2)
    return _match(z, g * (180.0 / np.pi) if deg else g)


@adjoint(np.real_if_close)
def real_if_close(z, a, tol=100):
    d[a] = _match(a, d[z])


# ------------------------------------------------------- more functions --

@adjoint(np.cross)
def cross(z, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[a] = _cross_grad(d[z], a, b, axisa, axisb, axisc, axis, 0)
    d[b] = _cross_grad(d[z], a, b, axisa, axisb, axisc, axis, 1)


def _cross_grad(dz, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    """Adjoint of ``cross`` (2- and 3-vectors, broadcasting): ``b x dz`` for
    ``a``, ``dz x a`` for ``b``, 2-vectors padded to 3 with zeros."""
    if axis is not None:
        axisa = axisb = axisc = axis
    A, B = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    na, nb = A.shape[-1], B.shape[-1]
    A3 = np.concatenate([A, np.zeros(A.shape[:-1] + (3 - na,))], axis=-1)
    B3 = np.concatenate([B, np.zeros(B.shape[:-1] + (3 - nb,))], axis=-1)
    dz = _asarray(dz)
    if na == 2 and nb == 2:   # the result was the z component only
        G = np.stack([np.zeros_like(dz), np.zeros_like(dz), dz], axis=-1)
    else:
        G = np.moveaxis(dz, axisc, -1)
    if which == 0:
        g = unbroadcast(np.cross(B3, G)[..., :na], A)
        return _like(np.moveaxis(g, -1, axisa), a)
    g = unbroadcast(np.cross(G, A3)[..., :nb], B)
    return _like(np.moveaxis(g, -1, axisb), b)


@adjoint(np.diff)
def diff(z, a, n=1, axis=-1, prepend=None, append=None):
    d[a] = _diff_grad(d[z], a, n, axis, prepend, append, 1)
    d[prepend] = _diff_grad(d[z], a, n, axis, prepend, append, 0)
    d[append] = _diff_grad(d[z], a, n, axis, prepend, append, 2)


def _diff_grad(dz, a, n=1, axis=-1, prepend=None, append=None, which=1):
    """Adjoint of ``diff`` on the joined ``(prepend, a, append)``: each
    difference's adjoint goes +1 to its right end and -1 to its left end; the
    joined adjoint is cut back into the pieces (scalars summed)."""
    g = _asarray(dz)
    for _ in range(n):
        pad = [(0, 0)] * g.ndim
        pad[axis] = (1, 1)
        g = -np.diff(np.pad(g, pad), axis=axis)
    nd_ = np.ndim(a)
    ax = axis % nd_
    sizes = [0 if p is None else (1 if np.ndim(p) == 0 else np.shape(p)[ax])
             for p in (prepend, a, append)]
    start = int(np.sum(sizes[:which]))
    part = np.take(g, np.arange(start, start + sizes[which]), axis=ax)
    x = (prepend, a, append)[which]
    if x is None:
        return None
    return _like(part if np.ndim(x) else np.sum(part), x)


@adjoint(np.hsplit)
def hsplit(z, ary, indices_or_sections):
    d[ary] = _split_grad(d[z], z, min(np.ndim(ary) - 1, 1))


@adjoint(np.vsplit)
def vsplit(z, ary, indices_or_sections):
    d[ary] = _split_grad(d[z], z, 0)


@adjoint(np.dsplit)
def dsplit(z, ary, indices_or_sections):
    d[ary] = _split_grad(d[z], z, 2)


@adjoint(np.kron)
def kron(z, a, b):
    d[a] = _kron_grad(d[z], a, b, 0)
    d[b] = _kron_grad(d[z], a, b, 1)


def _kron_grad(dz, a, b, which):
    """Adjoint of ``kron``: view ``dz`` as interleaved (a-axis, b-axis) pairs
    and contract with the other operand."""
    nd_ = max(np.ndim(a), np.ndim(b))
    A = np.reshape(a, (1,) * (nd_ - np.ndim(a)) + np.shape(a))
    B = np.reshape(b, (1,) * (nd_ - np.ndim(b)) + np.shape(b))
    G = np.reshape(dz, [v for pair in zip(A.shape, B.shape) for v in pair])
    ga, gb = "".join(chr(97 + i) for i in range(nd_)), "".join(chr(65 + i) for i in range(nd_))
    gz = "".join(p + q for p, q in zip(ga, gb))
    if which == 0:
        return _match(a, np.reshape(np.einsum(gz + "," + gb + "->" + ga, G, B), np.shape(a)))
    return _match(b, np.reshape(np.einsum(gz + "," + ga + "->" + gb, G, A), np.shape(b)))


@adjoint(np.nan_to_num)
def nan_to_num(z, x, copy=True, nan=0.0, posinf=None, neginf=None):
    d[x] = _like(np.where(np.isfinite(x), d[z], 0.0), x)


@adjoint(np.partition)
def partition(z, a, kth, axis=-1, kind='introselect', order=None):
    d[a] = _partition_grad(d[z], z, a, axis)


def _partition_grad(dz, z, a, axis=-1):
    """Adjoint of ``partition``: each adjoint back to where its element came
    from (matched by rank, so ties may be shared out differently)."""
    if axis is None:
        return np.reshape(_partition_grad(dz, z, np.ravel(a), -1), np.shape(a))
    src = np.argsort(a, axis=axis, kind="stable")
    rank = np.argsort(np.argsort(z, axis=axis, kind="stable"), axis=axis, kind="stable")
    perm = np.take_along_axis(src, rank, axis=axis)
    g = np.zeros(np.shape(a), dtype=np.result_type(dz, 1.0))
    np.put_along_axis(g, perm, dz, axis=axis)
    return _like(g, a)


@adjoint(np.rollaxis)
def rollaxis(z, a, axis, start=0):
    d[a] = _rollaxis_grad(d[z], a, axis, start)


def _rollaxis_grad(dz, a, axis, start=0):
    """Adjoint of ``rollaxis``: the axis moved back with ``moveaxis``."""
    n = np.ndim(a)
    axis = axis % n
    start = start + n if start < 0 else start
    dest = start - 1 if start > axis else start
    return np.moveaxis(dz, dest, axis)


@adjoint(np.rot90)
def rot90(z, m, k=1, axes=(0, 1)):
    d[m] = np.rot90(d[z], -k, axes)


@adjoint(np.gradient)
def gradient(z, f, *varargs, axis=None, edge_order=1):
    d[f] = _gradient_grad(d[z], f, varargs, axis, edge_order)


def _gradient_grad(dz, f, varargs, axis=None, edge_order=1):
    """Adjoint of ``np.gradient`` (spacings constant): along each axis the
    result is a matrix ``M`` applied to ``f``; build ``M`` from the identity
    and apply ``M.T`` to that axis's adjoint."""
    f = _asarray(f)
    if axis is None:
        axes = list(range(f.ndim))
    else:
        axes = [int(ax) % f.ndim for ax in np.atleast_1d(axis)]   # in the order given
    parts = list(dz) if len(axes) > 1 else [dz]
    spacing = list(varargs) * len(axes) if len(varargs) == 1 else list(varargs)
    g = np.zeros(f.shape, dtype=np.result_type(f, 1.0))
    for k, ax in enumerate(axes):
        if parts[k] is None:
            continue
        h = spacing[k:k + 1] if spacing else []
        M = np.gradient(np.eye(f.shape[ax]), *h, axis=0, edge_order=edge_order)
        gk = np.tensordot(M, np.moveaxis(_asarray(parts[k]), ax, 0), axes=(0, 0))
        g = g + np.moveaxis(gk, 0, ax)
    return _like(g, f)


@adjoint(np.arange)
def arange(z, start_or_stop, stop=None, step=None, dtype=None, *, device=None, like=None):
    d[start_or_stop] = _arange_grad(d[z], z, stop, False)
    d[step] = _arange_grad(d[z], z, stop, True)


def _arange_grad(dz, z, stop, of_step):
    """Adjoint of ``arange``'s start (or step): item ``i`` is ``start + i * step``, and
    the length stays put under a small change of either, so d/dstart is 1 per item and
    d/dstep is ``i``.  ``arange(stop)`` alone: its items do not depend on ``stop``."""
    if not of_step and stop is None:
        return 0.0
    if not of_step:
        return np.sum(dz)
    return np.sum(dz * np.arange(np.size(z)))


# ============================================= more of the API users reach for ==
# (found missing by the API fuzzer, tests/test_api_fuzz.py)

@adjoint(np.heaviside)
def heaviside(z, x1, x2):
    d[x1] = unbroadcast(np.zeros_like(d[z]), x1)   # a step: zero almost everywhere
    d[x2] = unbroadcast(d[z] * np.equal(x1, 0), x2)   # the value taken at x1 == 0


@adjoint(np.copysign)
def copysign(z, x1, x2):
    d[x1] = unbroadcast(d[z] * np.sign(x1) * np.where(np.signbit(x2), -1.0, 1.0), x1)
    d[x2] = unbroadcast(np.zeros_like(d[z]), x2)


@adjoint(np.vdot)
def vdot(z, a, b):
    d[a] = _match(a, np.reshape(np.conj(d[z] * np.ravel(b)), np.shape(a)))
    d[b] = _match(b, np.reshape(d[z] * np.conj(np.ravel(a)), np.shape(b)))


@adjoint(np.nanmax, np.nanmin)
def nanmax(z, a, axis=None, out=None, keepdims=False, initial=None, where=None):
    d[a] = _minmax_grad(d[z], z, a, axis, keepdims)   # a NaN never equals the result


@adjoint(np.ptp)
def ptp(z, a, axis=None, out=None, keepdims=False):
    d[a] = _ptp_grad(d[z], a, axis, keepdims)


def _ptp_grad(dz, a, axis=None, keepdims=False):
    """Adjoint of ``ptp = max - min``."""
    top = np.max(a, axis=axis, keepdims=True)
    bottom = np.min(a, axis=axis, keepdims=True)
    ndim = np.ndim(a)
    return (_minmax_grad(_keep(dz, ndim, axis, keepdims), top, a, axis, True)
            - _minmax_grad(_keep(dz, ndim, axis, keepdims), bottom, a, axis, True))


@adjoint(np.median)
def median(z, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[a] = _median_grad(d[z], a, axis, keepdims)


def _median_grad(dz, a, axis=None, keepdims=False):
    """Adjoint of ``median``, the 0.5 quantile: the middle element (or half to each
    of the two middle ones) of each group gets the group's adjoint."""
    return _quantile_grad(dz, a, 0.5, axis, keepdims, "linear", None, 1.0, 0)


@adjoint(np.quantile)
def quantile(z, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    d[a] = _quantile_grad(d[z], a, q, axis, keepdims, method, weights, 1.0, 0)
    d[q] = _quantile_grad(d[z], a, q, axis, keepdims, method, weights, 1.0, 1)


@adjoint(np.percentile)
def percentile(z, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    d[a] = _quantile_grad(d[z], a, q, axis, keepdims, method, weights, 100.0, 0)
    d[q] = _quantile_grad(d[z], a, q, axis, keepdims, method, weights, 100.0, 1)


def _quantile_parts(a, q, axis, method, weights, scale):
    """``(perm, lead, groups, their sort order, lo, hi, frac, qs)`` of
    ``quantile(a, q / scale, axis)`` by the ``linear`` method: the reduced axes moved
    last and flattened into groups, each q's value ``s[lo] + frac (s[hi] - s[lo])``
    of the sorted groups ``s``."""
    if method != "linear" or weights is not None:
        raise NotImplementedError("sourcegrad differentiates np.quantile/np.percentile by "
                                  "method='linear' without weights (derivative rule: "
                                  "numpy.quantile)")
    x = _asarray(a)
    axes = _axes(axis, x.ndim)
    rest = [i for i in range(x.ndim) if i not in axes]
    perm = rest + list(axes)
    lead = [x.shape[i] for i in rest]
    flat = np.transpose(x, perm).reshape(lead + [-1])
    n = flat.shape[-1]
    qs = _asarray(q, dtype=float) / scale
    v = qs * (n - 1)
    lo = np.floor(v).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    return perm, lead, flat, np.argsort(flat, axis=-1), lo, hi, v - lo, qs


def _quantile_grad(dz, a, q, axis, keepdims, method, weights, scale, which):
    """Adjoint of ``np.quantile`` (``scale`` 1) or ``np.percentile`` (100) for ``a``
    (0: each q's adjoint split ``1 - frac`` / ``frac`` between the two sorted entries it
    lies between) or ``q`` (1: ``(n - 1) (s[hi] - s[lo]) / scale``)."""
    perm, lead, flat, order, lo, hi, frac, qs = _quantile_parts(a, q, axis, method,
                                                                weights, scale)
    x, n = _asarray(a), flat.shape[-1]
    gq = _asarray(dz).reshape((-1,) + np.shape(dz)[qs.ndim:])  # one adjoint per q
    if which == 1:
        s = np.take_along_axis(flat, order, axis=-1)
        out = []
        for gk, below, above in zip(gq, lo.ravel(), hi.ravel()):
            gk = np.transpose(_keep(gk, x.ndim, axis, keepdims), perm).reshape(lead)
            out.append(np.sum(gk * (s[..., above] - s[..., below])) * (n - 1) / scale)
        return np.reshape(out, qs.shape) if qs.ndim else float(out[0])
    out = np.zeros(flat.shape, dtype=np.result_type(flat, gq, 1.0))
    for gk, below, above, f in zip(gq, lo.ravel(), hi.ravel(), frac.ravel()):
        gk = np.transpose(_keep(gk, x.ndim, axis, keepdims), perm).reshape(lead + [1])
        for idx, w in ((below, 1.0 - f), (above, f)):
            at = order[..., idx:idx + 1]
            np.put_along_axis(out, at, np.take_along_axis(out, at, -1) + w * gk, -1)
    out = out.reshape(lead + [x.shape[i] for i in _axes(axis, x.ndim)])
    return _like(np.transpose(out, np.argsort(perm)), a)


@adjoint(np.average)
def average(z, a, axis=None, weights=None, returned=False, *, keepdims=False):
    d[a] = _average_grad(d[z], z, a, axis, weights, returned, keepdims, 0)
    d[weights] = _average_grad(d[z], z, a, axis, weights, returned, keepdims, 1)


def _average_grad(dz, z, a, axis, weights, returned, keepdims, which):
    """Adjoint of ``average(a, axis, weights)`` (``sum(a w) / sum(w)``) for ``a``
    (``which`` 0) or the weights (1)."""
    if returned:
        raise NotImplementedError("sourcegrad differentiates np.average without "
                                  "returned=True (derivative rule: numpy.average)")
    x = _asarray(a)
    if weights is None:
        return _sum_grad(dz, a, axis, keepdims) / _count(a, axis)
    w = _asarray(weights)
    if w.shape != x.shape:   # 1-D weights along the one axis
        shape = [1] * x.ndim
        shape[int(axis) % x.ndim] = w.size
        w = w.reshape(shape)
    dzk = _keep(dz, x.ndim, axis, keepdims)
    total = np.sum(w * np.ones_like(x), axis=_axes(axis, x.ndim), keepdims=True)
    if which == 0:
        return _like(dzk * w / total, a)
    avg = _keep(z, x.ndim, axis, keepdims)
    g = unbroadcast(dzk * (x - avg) / total, w)
    return _like(np.reshape(g, np.shape(weights)), weights)


@adjoint(np.column_stack)
def column_stack(z, tup):
    d[tup] = _stacked_grad(d[z], tup, 1, np.atleast_2d, True)


@adjoint(np.dstack)
def dstack(z, tup):
    d[tup] = _stacked_grad(d[z], tup, 2, np.atleast_3d, False)


def _stacked_grad(dz, tup, axis, promote, columns):
    """Adjoint of ``column_stack``/``dstack``: ``dz`` split along ``axis`` back into
    the pieces (each promoted as the primal did: 1-D pieces are columns)."""
    widths = [np.shape(x)[0] and 1 if columns and np.ndim(x) < 2 else promote(x).shape[axis]
              for x in tup]
    parts = np.split(dz, np.cumsum(widths)[:-1], axis=axis)
    return [_like(np.reshape(p, np.shape(x)), x) for p, x in zip(parts, tup)]


@adjoint(np.diagflat)
def diagflat(z, v, k=0):
    d[v] = _like(np.reshape(np.diagonal(d[z], k), np.shape(v)), v)


@adjoint(np.take_along_axis)
def take_along_axis(z, arr, indices, axis=-1):
    d[arr] = _take_along_axis_grad(d[z], arr, indices, axis)


def _take_along_axis_grad(dz, arr, indices, axis=-1):
    """Adjoint of ``take_along_axis``: each picked element gets its adjoint (repeats
    add up)."""
    g = np.zeros(np.shape(arr), dtype=np.result_type(arr, dz, 1.0))
    if axis is None:
        np.add.at(g.reshape(-1), np.ravel(indices), np.ravel(dz))
        return _like(g, arr)
    axis = int(axis) % g.ndim
    index = list(np.ogrid[tuple(slice(n) for n in np.shape(indices))])
    index[axis] = _asarray(indices) % g.shape[axis]
    np.add.at(g, tuple(index), dz)
    return _like(g, arr)


@adjoint(np.compress)
def compress(z, condition, a, axis=None, out=None):
    d[a] = _compress_grad(d[z], condition, a, axis)


def _compress_grad(dz, condition, a, axis=None):
    """Adjoint of ``compress``: the selected slices get their adjoints back."""
    keep = np.nonzero(np.ravel(condition))[0]
    g = np.zeros(np.shape(a), dtype=np.result_type(a, dz, 1.0))
    if axis is None:
        g.reshape(-1)[keep] = np.ravel(dz)
    else:
        index = [slice(None)] * g.ndim
        index[int(axis) % g.ndim] = keep
        g[tuple(index)] = dz
    return _like(g, a)


@adjoint(np.polyval)
def polyval(z, p, x):
    d[p] = _polyval_grad(d[z], p, x, 0)
    d[x] = _polyval_grad(d[z], p, x, 1)


def _polyval_grad(dz, p, x, which):
    """Adjoint of ``polyval(p, x) = sum_k p[k] x ** (n - 1 - k)``."""
    c = _asarray(p)
    if which == 1:
        return unbroadcast(dz * np.polyval(np.polyder(c) if c.size > 1 else [0.0], x), x)
    powers = _asarray(x)[..., None] ** np.arange(c.size - 1, -1, -1)
    g = np.sum(_asarray(dz)[..., None] * powers, axis=tuple(range(powers.ndim - 1)))
    return _like(g, p) if isinstance(p, np.ndarray) else list(g)


@adjoint(np.interp)
def interp(z, x, xp, fp, left=None, right=None, period=None):
    d[x] = _interp_grad(d[z], x, xp, fp, left, right, period, 0)
    d[xp] = _interp_grad(d[z], x, xp, fp, left, right, period, 1)
    d[fp] = _interp_grad(d[z], x, xp, fp, left, right, period, 2)
    d[left] = _interp_grad(d[z], x, xp, fp, left, right, period, 3)
    d[right] = _interp_grad(d[z], x, xp, fp, left, right, period, 4)


def _interp_parts(x, xp, fp, period):
    """Where each ``x`` falls among the knots ``xp``: ``(segment i, below, above,
    slope, t)`` -- inside segment ``i`` the value is ``fp[i] + t (fp[i+1] - fp[i])``
    with ``t = (x - xp[i]) / h``; left of the knots it is ``left`` (or ``fp[0]``),
    right of them ``right`` (or ``fp[-1]``)."""
    if period is not None:
        raise NotImplementedError("sourcegrad differentiates np.interp without period= "
                                  "(derivative rule: numpy.interp)")
    xs, k, f = _asarray(x, dtype=float), _asarray(xp, dtype=float), _asarray(fp)
    below, above = xs < k[0], xs > k[-1]
    inside = ~(below | above)
    i = np.clip(np.searchsorted(k, xs, side="right") - 1, 0, max(k.size - 2, 0))
    if k.size < 2:  # one knot: the value is fp[0] (or left/right) everywhere
        return i, below, above, np.zeros(xs.shape), np.zeros(xs.shape)
    h = k[i + 1] - k[i]
    slope = np.where(inside, (f[i + 1] - f[i]) / h, 0.0)
    t = np.where(inside, (xs - k[i]) / h, 0.0)
    return i, below, above, slope, t


def _interp_grad(dz, x, xp, fp, left, right, period, which):
    """Adjoint of ``interp(x, xp, fp, left, right)`` for ``x`` (0), the knots ``xp``
    (1), the values ``fp`` (2), ``left`` (3) or ``right`` (4)."""
    i, below, above, slope, t = _interp_parts(x, xp, fp, period)
    g = np.broadcast_to(_asarray(dz), np.shape(x))
    if which == 0:
        return _like(g * slope, x) if np.ndim(x) else float(g * slope)
    if which == 3 or which == 4:
        return np.sum(g[below if which == 3 else above])
    n = np.size(xp)
    nxt = np.minimum(i + 1, n - 1)
    out = np.zeros((n,), dtype=np.result_type(g, _asarray(fp), 1.0))
    if which == 1:
        np.add.at(out, i, g * slope * (t - 1.0))
        np.add.at(out, nxt, -g * slope * t)
        return _like(out, xp)
    inside = ~(below | above)
    np.add.at(out, i, np.where(inside, g * (1.0 - t), 0.0))
    np.add.at(out, nxt, np.where(inside, g * t, 0.0))
    if left is None:
        out[0] += np.sum(g[below])
    if right is None:
        out[-1] += np.sum(g[above])
    return _like(out, fp)


@adjoint(np.convolve)
def convolve(z, a, v, mode="full"):
    d[a] = _convolve_grad(d[z], a, v, mode, 0)
    d[v] = _convolve_grad(d[z], a, v, mode, 1)


@adjoint(np.correlate)   # correlate(a, v) is convolve(a, v[::-1]) for real arrays
def correlate(z, a, v, mode="valid"):
    d[a] = _convolve_grad(d[z], a, _asarray(v)[::-1], mode, 0)
    d[v] = _convolve_grad(d[z], a, _asarray(v)[::-1], mode, 1)[::-1]


def _convolve_grad(dz, a, v, mode, which):
    """Adjoint of the 1-D ``convolve(a, v, mode)`` for ``a`` (0) or ``v`` (1): the
    output's adjoint placed in the full convolution (``same``/``valid`` are slices
    of it), correlated with the other operand."""
    x, y = _asarray(a), _asarray(v)
    if np.iscomplexobj(x) or np.iscomplexobj(y) or np.iscomplexobj(dz):
        raise NotImplementedError("sourcegrad differentiates np.convolve/np.correlate of "
                                  "real arrays (derivative rule: numpy.convolve)")
    m, n = x.size, y.size
    g = _asarray(dz)
    if mode != "full":
        start = (min(m, n) - 1) // 2 if mode == "same" else min(m, n) - 1
        full = np.zeros(m + n - 1, dtype=np.result_type(g, 1.0))
        full[start:start + g.size] = g
        g = full
    other = y if which == 0 else x
    out = np.correlate(g, other, "valid")
    return _like(out, a if which == 0 else v)


# NumPy 2 renamed trapz (kept, deprecated, until 2.4)
TRAPEZOIDS = tuple(getattr(np, n) for n in ("trapezoid", "trapz") if hasattr(np, n))


@adjoint(*TRAPEZOIDS)
def trapezoid(z, y, x=None, dx=1.0, axis=-1):
    d[y] = _trapezoid_grad(d[z], y, x, dx, axis, 0)
    d[x] = _trapezoid_grad(d[z], y, x, dx, axis, 1)
    d[dx] = _trapezoid_grad(d[z], y, x, dx, axis, 2)


def _trapezoid_grad(dz, y, x, dx, axis, which):
    """Adjoint of ``trapezoid(y, x, dx, axis) = sum((y[1:] + y[:-1]) / 2 * diff(x))``
    for ``y`` (0), the sample points ``x`` (1) or the spacing ``dx`` (2)."""
    ys = np.moveaxis(_asarray(y), axis, -1)
    g = _asarray(dz)[..., None]
    n = ys.shape[-1]
    if which == 2:  # dx is read only without sample points
        if x is not None:
            return np.zeros_like(_asarray(dx, dtype=float))
        return np.sum(_asarray(dz) * np.sum((ys[..., 1:] + ys[..., :-1]) / 2.0, axis=-1))
    if x is None:
        h = np.broadcast_to(_asarray(dx, dtype=float), (n - 1,))
    else:
        xs = np.moveaxis(_asarray(x), axis, -1) if np.ndim(x) > 1 else _asarray(x)
        h = np.diff(xs, axis=-1)
    if which == 0:
        w = np.zeros(np.broadcast_shapes(h.shape[:-1] + (n,), (1,) * (ys.ndim - 1) + (n,)))
        w[..., 1:] += h / 2.0
        w[..., :-1] += h / 2.0
        return _like(np.moveaxis(np.broadcast_to(g * w, ys.shape), -1, axis).copy(), y)
    mid = g * (ys[..., 1:] + ys[..., :-1]) / 2.0   # d z / d h, one per interval
    gx = np.zeros(mid.shape[:-1] + (n,), dtype=mid.dtype)
    gx[..., 1:] += mid
    gx[..., :-1] -= mid
    if np.ndim(x) > 1:
        return _like(np.moveaxis(gx, -1, axis), x)
    return _like(np.sum(gx.reshape(-1, n), axis=0), x)


@adjoint(np.cov)
def cov(z, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None,
        *, dtype=None):
    d[m] = _cov_grad(d[z], m, y, rowvar, bias, ddof, fweights, aweights, 0)
    d[y] = _cov_grad(d[z], m, y, rowvar, bias, ddof, fweights, aweights, 1)


def _cov_variables(m, y, rowvar, bias, ddof, fweights, aweights):
    """``(X, divisor, rows of m)``: the variables as rows (``y``'s stacked below
    ``m``'s), centered, and what ``np.cov`` divides ``X X.T`` by."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("sourcegrad differentiates np.cov without fweights/"
                                  "aweights (derivative rule: numpy.cov)")
    X = np.atleast_2d(_asarray(m, dtype=float))
    if not rowvar and X.shape[0] != 1:
        X = X.T
    rows = X.shape[0]
    if y is not None:
        Y = np.atleast_2d(_asarray(y, dtype=float))
        X = np.concatenate([X, Y if rowvar or Y.shape[0] == 1 else Y.T])
    if ddof is None:
        ddof = 0 if bias else 1
    return X - X.mean(axis=1, keepdims=True), X.shape[1] - ddof, rows


def _cov_grad(dz, m, y, rowvar, bias, ddof, fweights, aweights, which):
    """Adjoint of ``np.cov`` (no weights) for ``m`` (0) or ``y`` (1): ``C = Xc Xc.T /
    (N - ddof)`` gives ``dX = (G + G.T) Xc / (N - ddof)`` (its rows already sum to
    zero, so centering adds nothing)."""
    Xc, div, rows = _cov_variables(m, y, rowvar, bias, ddof, fweights, aweights)
    G = np.broadcast_to(_asarray(dz), (Xc.shape[0],) * 2)
    dX = (G + G.T) @ Xc / div
    part = dX[:rows] if which == 0 else dX[rows:]
    x = m if which == 0 else y
    if x is None:
        return None
    shape = np.shape(x)
    if not rowvar and len(shape) == 2 and shape[0] != 1:  # read as columns
        part = part.T
    return _like(np.reshape(part, shape), x)


@adjoint(np.ndarray.tolist)
def ndarray_tolist(z, self):
    d[self] = _tolist_grad(d[z], self)


def _tolist_grad(dz, a):
    """Adjoint of ``a.tolist()`` (nested lists of Python numbers): the list adjoint
    back as an array, items nothing read (None) zero."""
    shape = np.shape(a)

    def fill(g, shape):
        if g is None:
            return np.zeros(shape)
        if isinstance(g, (list, tuple)):
            return np.stack([fill(x, shape[1:]) for x in g]) if g else np.zeros(shape)
        return np.broadcast_to(_asarray(g), shape)
    return _like(np.array(fill(dz, shape), dtype=float), a)


@adjoint(np.resize)
def resize(z, a, new_shape):
    d[a] = _resize_grad(d[z], a)


def _resize_grad(dz, a):
    """Adjoint of ``np.resize(a, shape)``: ``a``'s elements repeated in order to fill
    the new shape, so each one's adjoint sums its copies."""
    n = np.size(a)
    g = np.ravel(_asarray(dz))
    out = np.zeros(n, dtype=np.result_type(g, 1.0))
    if n and g.size:
        np.add.at(out, np.arange(g.size) % n, g)
    return _like(out.reshape(np.shape(a)), a)


@adjoint(np.vander)
def vander(z, x, N=None, increasing=False):
    d[x] = np.sum(d[z] * _vander_slope(x, N, increasing), axis=-1)


def _vander_slope(x, N, increasing):
    """``d z[i, j] / d x[i]`` of ``z = vander(x, N)``: ``p x**(p - 1)``, ``p`` the
    column's power (0 where ``p`` is 0, even at ``x = 0``)."""
    xs = _asarray(x)
    n = xs.size if N is None else N
    p = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    return np.where(p > 0, p * xs[:, None] ** np.maximum(p - 1, 0), 0.0)


@adjoint(np.ndarray.round)
def ndarray_round(z, self, decimals=0, out=None):
    d[self] = np.zeros_like(d[z])


@adjoint(np.ndarray.conj, np.ndarray.conjugate)
def ndarray_conj(z, self):
    d[self] = _match(self, np.conj(d[z]))


@adjoint(np.ndarray.real)
def ndarray_real(z, self):
    d[self] = _match(self, d[z])


@adjoint(np.ndarray.imag)
def ndarray_imag(z, self):
    d[self] = _match(self, -1j * d[z])


@adjoint(np.ndarray.__abs__)
def ndarray_abs(z, self):
    d[self] = d[z] * np.sign(self)


@adjoint(np.ndarray.item)
def ndarray_item(z, self, *args):
    d[self] = _item_grad(d[z], self, args)


def _item_grad(dz, a, args):
    """Adjoint of ``a.item()``, ``a.item(i)``, ``a.item(i, j)``."""
    g = np.zeros(np.shape(a), dtype=np.result_type(a, dz, 1.0))
    if not args:
        g.reshape(-1)[0] = dz
    elif len(args) == 1 and np.ndim(args[0]) == 0:
        g.reshape(-1)[args[0]] = dz
    else:
        g[tuple(args[0]) if len(args) == 1 else args] = dz
    return _like(g, a)


@adjoint(np.multiply.outer)   # also what sourcegrad writes for np.outer of known vectors
def multiply_outer(z, A, B):
    d[A] = _like(np.tensordot(d[z], B, axes=np.ndim(B)), A)
    d[B] = _like(np.tensordot(A, d[z], axes=np.ndim(A)), B)

if hasattr(np.ndarray, "mT"):   # NumPy >= 2
    @adjoint(np.ndarray.mT)
    def ndarray_mT(z, self):
        d[self] = np.swapaxes(d[z], -1, -2)

    @adjoint(np.matrix_transpose, np.linalg.matrix_transpose)
    def matrix_transpose(z, x):
        d[x] = np.swapaxes(d[z], -1, -2)
