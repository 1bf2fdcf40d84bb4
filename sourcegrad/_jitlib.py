"""Numba versions of what generated code calls, for ``sourcegrad.jit``.

Imported only by :mod:`sourcegrad.jit`, and only when Numba is installed.  The
Numba dialect (:mod:`sourcegrad.dialect`) rewrites the NumPy forms Numba lacks
(``keepdims``, ``axis=`` on ``max``/``min``/``mean``) into calls of the
reductions here, and the runtime helpers the derivative calls (``sigmoid``,
``unbroadcast``, the adjoint of ``max``) are bound to the versions here.

Reductions take an ``int`` axis (negative allowed) on arrays of 1 to 3
dimensions; anything else fails to type, and ``sourcegrad.jit`` falls back to
the NumPy derivative for that function, saying so.
"""
from __future__ import annotations

import numpy as np
from numba import njit, objmode, types
from numba.extending import overload

_CACHE = True


def _shape3(a, axis):
    pass


@overload(_shape3)
def _shape3_impl(a, axis):
    """``(before, n, after)``: ``a`` seen as 3-D around ``axis``."""
    def impl(a, axis):
        shape = a.shape
        before = 1
        for i in range(axis):
            before *= shape[i]
        after = 1
        for i in range(axis + 1, a.ndim):
            after *= shape[i]
        return before, shape[axis], after
    return impl


def _kept(a, axis):
    pass


@overload(_kept)
def _kept_impl(a, axis):
    """``a.shape`` with ``axis`` set to 1 (keepdims)."""
    nd = a.ndim
    if nd == 1:
        return lambda a, axis: (1,)
    if nd == 2:
        return lambda a, axis: (1, a.shape[1]) if axis == 0 else (a.shape[0], 1)
    if nd == 3:
        def impl(a, axis):
            s = a.shape
            if axis == 0:
                return (1, s[1], s[2])
            if axis == 1:
                return (s[0], 1, s[2])
            return (s[0], s[1], 1)
        return impl
    return None


def _dropped(r, a, axis):
    pass


@overload(_dropped)
def _dropped_impl(r, a, axis):
    """The ``(before, after)`` result ``r`` in the shape of ``a`` without ``axis``."""
    nd = a.ndim
    if nd == 1:
        return lambda r, a, axis: r[0, 0]
    if nd == 2:
        return lambda r, a, axis: r.reshape(r.size)
    if nd == 3:
        def impl(r, a, axis):
            s = a.shape
            if axis == 0:
                return r.reshape((s[1], s[2]))
            if axis == 1:
                return r.reshape((s[0], s[2]))
            return r.reshape((s[0], s[1]))
        return impl
    return None


def _norm(axis, nd):
    pass


@overload(_norm)
def _norm_impl(axis, nd):
    return lambda axis, nd: axis + nd if axis < 0 else axis


def _reducer(kind):
    """``(keep, drop)`` njit functions reducing over one axis by ``kind``."""

    def reduce3(a, axis):
        axis = _norm(axis, a.ndim)
        before, n, after = _shape3(a, axis)
        b = np.ascontiguousarray(a).reshape((before, n, after))
        if n == 0:  # an empty sum is 0; an empty max has no answer (as NumPy)
            if kind != "sum":
                raise ValueError("zero-size array to reduction operation")
            return np.zeros((before, after), dtype=b.dtype), axis
        r = b[:, 0, :].copy()
        # scalar loops, the innermost along memory: no temporaries, one pass over ``a``
        for i in range(before):
            for j in range(1, n):
                for k in range(after):
                    v = b[i, j, k]
                    if kind == "sum" or kind == "mean":
                        r[i, k] += v
                    elif kind == "max":
                        if v > r[i, k] or np.isnan(v):
                            r[i, k] = v
                    elif v < r[i, k] or np.isnan(v):
                        r[i, k] = v
        if kind == "mean":
            return r / n, axis
        return r, axis

    reduce3 = njit(cache=_CACHE)(reduce3)

    @njit(cache=_CACHE)
    def keep(a, axis):
        r, ax = reduce3(a, axis)
        return r.reshape(_kept(a, ax))

    @njit(cache=_CACHE)
    def drop(a, axis):
        r, ax = reduce3(a, axis)
        return _dropped(r, a, ax)

    return keep, drop


sum_keep, sum_drop = _reducer("sum")
mean_keep, mean_drop = _reducer("mean")
max_keep, max_drop = _reducer("max")
min_keep, min_drop = _reducer("min")

REDUCTIONS = {("sum", True): "sum_keep", ("sum", False): "sum_drop",
              ("mean", True): "mean_keep", ("mean", False): "mean_drop",
              ("max", True): "max_keep", ("max", False): "max_drop",
              ("amax", True): "max_keep", ("amax", False): "max_drop",
              ("min", True): "min_keep", ("min", False): "min_drop",
              ("amin", True): "min_keep", ("amin", False): "min_drop"}


@njit(cache=_CACHE)
def expand(a, axis):
    """``a`` (reduced over ``axis``, keepdims=False) with that axis back, of length 1."""
    return np.expand_dims(a, axis)


@njit(cache=_CACHE)
def minmax_grad_keep(dz, z, a, axis):
    """Adjoint of ``max``/``min`` over ``axis`` (``dz`` and ``z`` with keepdims):
    ``dz`` shared evenly among the extremal elements."""
    hit = a == z
    count = np.maximum(sum_keep(hit.astype(np.float64), axis), 1.0)
    share = np.broadcast_to(dz / count, a.shape)
    return np.where(hit, share, 0.0)


@njit(cache=_CACHE)
def minmax_grad_all(dz, z, a):
    """Adjoint of ``max``/``min`` over every element."""
    hit = a == z
    count = max(np.sum(hit), 1)
    return np.where(hit, dz / count, 0.0)


@njit(cache=_CACHE)
def sigmoid_where(x):
    """``1 / (1 + exp(-x))`` without overflow (as ``sourcegrad.ops.sigmoid``)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


# NumPy's transcendental functions run over SIMD lanes (AVX2/AVX-512 kernels);
# Numba's call the C library once per element, several times slower on a large
# array.  On a float64 array of at least SIMD_MIN_SIZE elements the compiled code
# calls NumPy's own ufunc (in object mode: one boxing of the array, microseconds);
# on a float, a small array or another dtype it computes as Numba does.
SIMD_UFUNCS = ("sin", "cos", "tan", "tanh", "sinh", "cosh", "exp", "expm1", "log",
               "log1p", "arctan")
SIMD_MIN_SIZE = 1024


def _simd(name):
    ufunc = getattr(np, name)

    def stub(a):
        pass

    stub.__name__ = stub.__qualname__ = name

    @overload(stub)
    def _impl(a):
        if isinstance(a, types.Array) and a.dtype == types.float64:
            out_type = types.Array(types.float64, a.ndim, "C")

            def impl(a):
                if a.size < SIMD_MIN_SIZE:
                    return ufunc(a)
                with objmode(out=out_type):
                    out = np.ascontiguousarray(ufunc(a))
                return out
            return impl
        return lambda a: ufunc(a)
    return stub


for _name_ in SIMD_UFUNCS:
    globals()[_name_] = _simd(_name_)
del _name_


def sigmoid_clip(t):
    pass


@overload(sigmoid_clip)
def _sigmoid_clip_impl(t):
    """The logistic function as the NumPy rules compute it: ``exp(-t)`` clipped where it
    would overflow (-709 for float64, -88 for float32)."""
    dtype = getattr(t, "dtype", t)
    if dtype == types.float32:
        return lambda t: 1.0 / (1.0 + np.exp(-np.maximum(t, np.float32(-88.0))))
    if dtype == types.float16:
        return None
    return lambda t: 1.0 / (1.0 + np.exp(-np.maximum(t, -709.0)))


def unbroadcast(d, x):
    pass


@overload(unbroadcast)
def _unbroadcast_impl(d, x):
    """Sum the adjoint ``d`` down to the shape of ``x`` (undo broadcasting)."""
    if isinstance(x, (types.Float, types.Integer)):
        if isinstance(d, types.Array):
            return lambda d, x: np.sum(d)
        return lambda d, x: d
    if not isinstance(x, types.Array):
        return None
    if not isinstance(d, types.Array):
        return lambda d, x: np.full(x.shape, d)
    if d.ndim == x.ndim:
        def same(d, x):
            out = d
            for i in range(x.ndim):
                if x.shape[i] == 1 and out.shape[i] != 1:
                    out = sum_keep(out, i)
            if out.shape != x.shape:
                out = np.broadcast_to(out, x.shape).copy()
            return out
        return same
    if d.ndim == x.ndim + 1:
        def lead(d, x):
            out = sum_drop(d, 0)
            for i in range(x.ndim):
                if x.shape[i] == 1 and out.shape[i] != 1:
                    out = sum_keep(out, i)
            return out
        return lead
    return None


@njit(cache=_CACHE)
def tie(x1, x2, z):
    """Weight of ``x1`` in ``maximum``/``minimum``: 1 where it wins, 0.5 on a tie."""
    return np.where(x1 == z, np.where(x1 == x2, 0.5, 1.0), 0.0)


@njit(cache=_CACHE)
def above(x1, x2):
    """Weight of ``x1`` in ``maximum(x1, x2)``: 1 where it is larger, 0.5 on a tie."""
    return np.where(x1 == x2, 0.5, np.where(x1 > x2, 1.0, 0.0))


def index_adjoint(x, index, dz):
    pass


def _basic_index(index):
    if isinstance(index, (types.Integer, types.SliceType)):
        return True
    return isinstance(index, types.BaseTuple) and all(
        isinstance(t, (types.Integer, types.SliceType)) for t in index.types)


@overload(index_adjoint)
def _index_adjoint_impl(x, index, dz):
    """The adjoint of the array ``x`` given the adjoint ``dz`` of ``x[index]`` (as
    ``np.add.at``: repeated integer indices add up)."""
    if not isinstance(x, types.Array) or not isinstance(x.dtype, types.Float):
        return None
    if _basic_index(index):
        def basic(x, index, dz):
            out = np.zeros(x.shape, dtype=x.dtype)
            out[index] += dz
            return out
        return basic
    if isinstance(index, types.Array) and index.ndim == 1 \
            and isinstance(index.dtype, types.Integer):
        def gather(x, index, dz):
            out = np.zeros(x.shape, dtype=x.dtype)
            for k in range(index.shape[0]):
                out[index[k]] += dz[k]
            return out
        return gather
    return None
