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

import math

import numpy as np
from llvmlite import ir
from numba import njit, objmode, types
from numba.core.imputils import lower_constant
from numba.core.typing.templates import signature
from numba.extending import (intrinsic, lower_cast, models, overload, register_model,
                             typeof_impl)
from numba.np import numpy_support

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
    """The njit function reducing ``a`` over one axis by ``kind``, seen as 3-D:
    ``(result (before, after), axis)``.  (A closure over ``kind`` alone: Numba's disk
    cache keys it on that string; a closure over a dispatcher would miss every time.)"""

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

    return njit(cache=_CACHE)(reduce3)


_sum3, _mean3, _max3, _min3 = (_reducer(k) for k in ("sum", "mean", "max", "min"))


# (written out: each a module function of its own, cached on disk)
@njit(cache=_CACHE)
def sum_keep(a, axis):
    r, ax = _sum3(a, axis)
    return r.reshape(_kept(a, ax))


@njit(cache=_CACHE)
def sum_drop(a, axis):
    r, ax = _sum3(a, axis)
    return _dropped(r, a, ax)


@njit(cache=_CACHE)
def mean_keep(a, axis):
    r, ax = _mean3(a, axis)
    return r.reshape(_kept(a, ax))


@njit(cache=_CACHE)
def mean_drop(a, axis):
    r, ax = _mean3(a, axis)
    return _dropped(r, a, ax)


@njit(cache=_CACHE)
def max_keep(a, axis):
    r, ax = _max3(a, axis)
    return r.reshape(_kept(a, ax))


@njit(cache=_CACHE)
def max_drop(a, axis):
    r, ax = _max3(a, axis)
    return _dropped(r, a, ax)


@njit(cache=_CACHE)
def min_keep(a, axis):
    r, ax = _min3(a, axis)
    return r.reshape(_kept(a, ax))


@njit(cache=_CACHE)
def min_drop(a, axis):
    r, ax = _min3(a, axis)
    return _dropped(r, a, ax)


REDUCTIONS = {("sum", True): "sum_keep", ("sum", False): "sum_drop",
              ("mean", True): "mean_keep", ("mean", False): "mean_drop",
              ("max", True): "max_keep", ("max", False): "max_drop",
              ("amax", True): "max_keep", ("amax", False): "max_drop",
              ("min", True): "min_keep", ("min", False): "min_drop",
              ("amin", True): "min_keep", ("amin", False): "min_drop"}


@njit(cache=_CACHE)
def where(condition, x, y):
    """``np.where(condition, x, y)``, compiled once per machine for each signature
    rather than into every derivative (Numba's np.where takes a second or two to
    compile)."""
    return np.where(condition, x, y)


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


def _simd_kernel(ufunc):
    """``ufunc`` of a float64 array, NumPy's kernel from SIMD_MIN_SIZE elements: one
    function per ufunc, compiled once per machine (cache=True) and called by every
    derivative, not compiled into each (its object-mode block compiles slowly)."""
    def kernel(a):
        if a.size < SIMD_MIN_SIZE:
            return ufunc(a)
        flat = np.ascontiguousarray(a).reshape(a.size)
        with objmode(out="float64[::1]"):
            out = np.ascontiguousarray(ufunc(flat))
        return out.reshape(a.shape)
    return njit(cache=_CACHE)(kernel)


def _simd(name):
    ufunc = getattr(np, name)
    kernel = _simd_kernel(ufunc)

    def stub(a):
        pass

    stub.__name__ = stub.__qualname__ = name

    @overload(stub)
    def _impl(a):
        if isinstance(a, types.Array) and a.dtype == types.float64:
            return lambda a: kernel(a)
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


@njit(cache=_CACHE)
def _unbroadcast_same(d, x):
    out = d
    for i in range(x.ndim):
        if x.shape[i] == 1 and out.shape[i] != 1:
            out = sum_keep(out, i)
    if out.shape != x.shape:
        out = np.broadcast_to(out, x.shape).copy()
    return out


@njit(cache=_CACHE)
def _unbroadcast_lead(d, x):
    out = sum_drop(d, 0)
    for i in range(x.ndim):
        if x.shape[i] == 1 and out.shape[i] != 1:
            out = sum_keep(out, i)
    return out


@overload(unbroadcast)
def _unbroadcast_impl(d, x):
    """Sum the adjoint ``d`` down to the shape of ``x`` (undo broadcasting); the loops
    are compiled once per machine (``_unbroadcast_same``), not into each caller."""
    if isinstance(x, (types.Float, types.Integer)):
        if isinstance(d, types.Array):
            return lambda d, x: np.sum(d)
        return lambda d, x: d
    if not isinstance(x, types.Array):
        return None
    if not isinstance(d, types.Array):
        return lambda d, x: np.full(x.shape, d)
    if d.ndim == x.ndim:
        return lambda d, x: _unbroadcast_same(d, x)
    if d.ndim == x.ndim + 1:
        return lambda d, x: _unbroadcast_lead(d, x)
    return None


@njit(cache=_CACHE)
def tie(x1, x2, z):
    """Weight of ``x1`` in ``maximum``/``minimum``: 1 where it wins, 0.5 on a tie."""
    return np.where(x1 == z, np.where(x1 == x2, 0.5, 1.0), 0.0)


@njit(cache=_CACHE)
def plain(p):
    """A Parameter's values as a plain array (runtime.plain): the compiled code is
    handed arrays already."""
    return p


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


# --------------------------------------------------------------------------
# exp, tanh, sin and cos of one float, in arithmetic a loop can vectorise
# --------------------------------------------------------------------------
# Numba computes np.sin(x_i) in a loop by calling the C library once per element,
# which keeps the loop scalar.  These compute the same functions with polynomials
# (the argument reductions and kernels of fdlibm, the C library most libms descend
# from), branch-free, so LLVM computes 8 elements at once: a fused loop
# (``dialect.fuse_elementwise``) calls them.  Each is within 1-2 units in the last
# place of the C library's value over its whole domain (inf, NaN, subnormal results
# included), except sin and cos of |x| >= TRIG_RANGE, which need a longer
# reduction: a fused loop checks ``far(x)`` and reruns with the C library then.
# They are compiled without fast-math (their rounding steps are exact only as
# written), whatever the loop that inlines them allows itself.

@intrinsic
def _pow2(typingctx, k):
    """``2.0 ** k`` for an int64 ``k`` in [-1022, 1023], from its bits."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        bits = builder.shl(builder.add(args[0], ir.Constant(ir.IntType(64), 1023)),
                           ir.Constant(ir.IntType(64), 52))
        return builder.bitcast(bits, ir.DoubleType())
    return sig, codegen


_LN2_HI = 6.93147180369123816490e-01  # ln 2, its upper 32 bits (n * _LN2_HI is exact)
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_INV_LN2 = 1.44269504088896338700e+00
_EXP_OVER = 709.782712893384          # exp(x) is inf above
_EXP_UNDER = -745.1332191019412       # and 0 below


@njit(inline="always", cache=_CACHE)
def _expm1_reduced(r):
    """``exp(r) - 1`` for |r| <= ln(2)/2: its Taylor series to r**13 (the first term
    left out is below 2**-56 relative)."""
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    return r + (r * r) * p


@njit(inline="always", cache=_CACHE)
def vexp(x):
    """``exp(x)``: x = n ln2 + r, exp(x) = 2**n (1 + expm1(r)), 2**n in two factors
    so that results down to the subnormals round once."""
    fn = math.floor(x * _INV_LN2 + 0.5)
    fn = min(max(fn, -1080.0), 1030.0)  # (beyond: inf or 0, chosen below)
    r = (x - fn * _LN2_HI) - fn * _LN2_LO
    y = 1.0 + _expm1_reduced(r)
    n = int(fn)
    half = n >> 1
    out = y * _pow2(half) * _pow2(n - half)
    if x > _EXP_OVER:
        out = math.inf
    if x < _EXP_UNDER:
        out = 0.0
    if x != x:
        out = x
    return out


@njit(inline="always", cache=_CACHE)
def vtanh(x):
    """``tanh(x) = e / (e + 2)`` with ``e = expm1(2|x|)`` (no cancellation near 0),
    the sign of ``x``; 1 from |x| = 22.5 on."""
    u = min(2.0 * abs(x), 50.0)
    fn = math.floor(u * _INV_LN2 + 0.5)
    r = (u - fn * _LN2_HI) - fn * _LN2_LO
    scale = _pow2(int(fn))
    e = scale * _expm1_reduced(r) + (scale - 1.0)
    t = e / (e + 2.0)
    if u >= 45.0:
        t = 1.0
    t = math.copysign(t, x)
    if x != x:
        t = x
    return t


# pi/2 in three parts of 33 bits and a tail (fdlibm's __ieee754_rem_pio2): n * part is
# exact for |n| < 2**20, so x - n pi/2 keeps 118 bits for |x| < TRIG_RANGE
_PIO2_1 = 1.57079632673412561417e+00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_2T = 2.02226624879595063154e-21
_INV_PIO2 = 6.36619772367581382433e-01
TRIG_RANGE = 823549.6  # 2**19 pi/2: sin and cos of larger |x| (and of inf) are far
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, \
    -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, \
    1.58969099521155010221e-10
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, \
    2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, \
    -1.13596475577881948265e-11


@njit(inline="always", cache=_CACHE)
def _sin_kernel(x, y):
    """sin(x + y) for |x + y| <= pi/4, y the tail of x (fdlibm's __kernel_sin)."""
    z = x * x
    v = z * x
    r = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    return x - ((z * (0.5 * y - v * r) - y) - v * _S1)


@njit(inline="always", cache=_CACHE)
def _cos_kernel(x, y):
    """cos(x + y) for |x + y| <= pi/4 (fdlibm's __kernel_cos)."""
    z = x * x
    r = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + (z * r - x * y))


@njit(inline="always", cache=_CACHE)
def _reduce_pio2(x):
    """``(n mod 4, y0, y1)``: x = n pi/2 + y0 + y1, |y0 + y1| <= pi/4 (x clipped to
    TRIG_RANGE)."""
    a = min(max(x, -TRIG_RANGE), TRIG_RANGE)
    fn = math.floor(a * _INV_PIO2 + 0.5)
    t = a - fn * _PIO2_1
    w = fn * _PIO2_2
    r = t - w
    w = fn * _PIO2_2T - ((t - r) - w)
    y0 = r - w
    y1 = (r - y0) - w
    return int(fn) & 3, y0, y1


@njit(inline="always", cache=_CACHE)
def vsin(x):
    """``sin(x)`` for |x| < TRIG_RANGE (and NaN); beyond, see ``far``."""
    n, y0, y1 = _reduce_pio2(x)
    s = _sin_kernel(y0, y1)
    c = _cos_kernel(y0, y1)
    out = s if (n & 1) == 0 else c
    if n & 2:
        out = -out
    if x != x:
        out = x
    return out


@njit(inline="always", cache=_CACHE)
def vcos(x):
    """``cos(x)`` for |x| < TRIG_RANGE (and NaN); beyond, see ``far``."""
    n, y0, y1 = _reduce_pio2(x)
    s = _sin_kernel(y0, y1)
    c = _cos_kernel(y0, y1)
    out = c if (n & 1) == 0 else s
    if (n + 1) & 2:
        out = -out
    if x != x:
        out = x
    return out


@njit(inline="always", cache=_CACHE)
def far(x):
    """Whether ``vsin``/``vcos`` of ``x`` needs the C library (|x| >= TRIG_RANGE)."""
    return abs(x) >= TRIG_RANGE


# --------------------------------------------------------------------------
# what the derivative of a Cell calls (sourcegrad.ops and its rules)
# --------------------------------------------------------------------------

def seed_like(out):
    pass


@overload(seed_like)
def _seed_like_impl(out):
    """The seed of a scalar loss (1.0) or of an array (ones), as ``runtime.seed_like``."""
    if isinstance(out, (types.Float, types.Integer)):
        return lambda out: 1.0
    if isinstance(out, types.Array) and isinstance(out.dtype, types.Float):
        return lambda out: np.ones(out.shape, out.dtype)
    return None


@njit(cache=_CACHE)
def matmul(a, b):
    """``ops.matmul`` of 1-D and 2-D arrays."""
    return a @ b


def matmul_adjoint_a(dz, a, b):
    pass


def matmul_adjoint_b(dz, a, b):
    pass


@overload(matmul_adjoint_a)
def _matmul_adjoint_a_impl(dz, a, b):
    """Adjoint of ``a`` in ``a @ b`` (1-D and 2-D operands, as ``runtime``'s)."""
    if not (isinstance(a, types.Array) and isinstance(b, types.Array)):
        return None
    if a.ndim == 2 and b.ndim == 2:
        return lambda dz, a, b: matmul(dz, b.T)
    if a.ndim == 1 and b.ndim == 2:
        return lambda dz, a, b: matmul(b, dz)
    if a.ndim == 2 and b.ndim == 1:
        return lambda dz, a, b: outer(dz, b)
    if a.ndim == 1 and b.ndim == 1:
        return lambda dz, a, b: dz * b
    return None


@overload(matmul_adjoint_b)
def _matmul_adjoint_b_impl(dz, a, b):
    """Adjoint of ``b`` in ``a @ b`` (1-D and 2-D operands, as ``runtime``'s)."""
    if not (isinstance(a, types.Array) and isinstance(b, types.Array)):
        return None
    if a.ndim == 2 and b.ndim == 2:
        return lambda dz, a, b: matmul(a.T, dz)
    if a.ndim == 1 and b.ndim == 2:
        return lambda dz, a, b: outer(a, dz)
    if a.ndim == 2 and b.ndim == 1:
        return lambda dz, a, b: matmul(dz, a)
    if a.ndim == 1 and b.ndim == 1:
        return lambda dz, a, b: dz * a
    return None


def cast(g, x):
    pass


@overload(cast)
def _cast_impl(g, x):
    """``g`` in the float dtype of ``x`` (``rules.ops._cast``)."""
    if isinstance(x, types.Float):
        if isinstance(g, types.Array):
            return lambda g, x: float(np.sum(g))
        return lambda g, x: float(g)
    if isinstance(x, types.Array) and isinstance(x.dtype, types.Float) \
            and isinstance(g, types.Array):
        if g.dtype == x.dtype:
            return lambda g, x: g
        return lambda g, x: g.astype(x.dtype)
    return None


@njit(cache=_CACHE)
def _bce_elements(input, target, weight, pos_weight):
    """Unreduced BCE-with-logits loss (``ops._bce_logits_elements``)."""
    pos = target * np.logaddexp(0.0, -input)
    if pos_weight is not None:
        pos = pos * pos_weight
    loss = pos + (1.0 - target) * np.logaddexp(0.0, input)
    if weight is not None:
        loss = loss * weight
    return loss


@njit(cache=_CACHE)
def _bce_sum(input, target, weight, pos_weight):
    return np.sum(_bce_elements(input, target, weight, pos_weight))


def bce_with_logits(input, target, weight, pos_weight, reduction):
    pass


@overload(bce_with_logits, prefer_literal=True)
def _bce_with_logits_impl(input, target, weight, pos_weight, reduction):
    """``ops.binary_cross_entropy_with_logits`` with a constant reduction."""
    how = getattr(reduction, "literal_value", None)
    # a float32 input's loss is a float32 (as NumPy's mean and sum of its elements)
    out = input.dtype if isinstance(input, types.Array) and \
        isinstance(input.dtype, types.Float) else types.float64
    if how == "mean":
        return lambda input, target, weight, pos_weight, reduction: \
            out(_bce_sum(input, target, weight, pos_weight) / input.size)
    if how == "sum":
        return lambda input, target, weight, pos_weight, reduction: \
            out(_bce_sum(input, target, weight, pos_weight))
    if how == "none":
        return lambda input, target, weight, pos_weight, reduction: \
            _bce_elements(input, target, weight, pos_weight)
    return None


def bce_logits_grad_input(dz, input, target, weight, pos_weight, reduction):
    pass


@njit(cache=_CACHE)
def _bce_grad(seed, input, target, weight, pos_weight):
    """The BCE-with-logits adjoint of ``input`` for the adjoint ``seed`` of each element."""
    s = sigmoid_where(input)
    if pos_weight is None:
        local = target * (s - 1.0) + (1.0 - target) * s
    else:
        local = pos_weight * target * (s - 1.0) + (1.0 - target) * s
    if weight is not None:
        local = local * weight
    return local * seed


@overload(bce_logits_grad_input, prefer_literal=True)
def _bce_logits_grad_input_impl(dz, input, target, weight, pos_weight, reduction):
    """d/dx of the BCE-with-logits loss (``rules.ops._bce_logits_grad_input``)."""
    how = getattr(reduction, "literal_value", None)
    if how not in ("mean", "sum", "none") or not isinstance(input, types.Array):
        return None
    if how == "mean":
        return lambda dz, input, target, weight, pos_weight, reduction: cast(
            _bce_grad(dz / max(input.size, 1), input, target, weight, pos_weight), input)
    return lambda dz, input, target, weight, pos_weight, reduction: cast(
        _bce_grad(dz, input, target, weight, pos_weight), input)


def ones_like(input, dtype=None):
    pass


def ops_zeros_like(input, dtype=None):
    pass


def _filled_like(fill):
    def impl_of(input, dtype=None):
        """``ops.ones_like``/``ops.zeros_like`` of an array, in its dtype."""
        if not isinstance(input, types.Array) or not (
                dtype is None or isinstance(dtype, (types.NoneType, types.Omitted))):
            return None
        return lambda input, dtype=None: np.full(input.shape, fill, input.dtype)
    return impl_of


overload(ones_like)(_filled_like(1))
overload(ops_zeros_like)(_filled_like(0))


def sum_grad_all(dz, a):
    pass


@overload(sum_grad_all)
def _sum_grad_all_impl(dz, a):
    """Adjoint of ``np.sum(a)`` (every element): ``dz`` spread over ``a``'s shape, in
    ``a``'s float dtype (``rules.numpy_core._sum_grad`` with no axis)."""
    if not isinstance(a, types.Array):
        return None
    dtype = a.dtype if isinstance(a.dtype, types.Float) else types.float64
    if isinstance(dz, types.Array) and dz.ndim == 0:
        return lambda dz, a: np.full(a.shape, dz[()], dtype)
    if isinstance(dz, (types.Float, types.Integer)):
        return lambda dz, a: np.full(a.shape, dz, dtype)
    return None


def sum_grad_axis(dz, a, axis):
    pass


@overload(sum_grad_axis)
def _sum_grad_axis_impl(dz, a, axis):
    """Adjoint of ``np.sum(a, axis=axis)`` for an int ``axis`` known only at run time
    (a ``functools.partial`` of ``np.sum``): ``dz`` spread over that axis of ``a``, in
    ``a``'s float dtype."""
    if not isinstance(a, types.Array) or not isinstance(axis, types.Integer):
        return None
    dtype = a.dtype if isinstance(a.dtype, types.Float) else types.float64
    if isinstance(dz, (types.Float, types.Integer)) and a.ndim == 1:
        return lambda dz, a, axis: np.full(a.shape, dz, dtype)
    if isinstance(dz, types.Array) and dz.ndim == a.ndim - 1:
        return lambda dz, a, axis: np.broadcast_to(
            np.expand_dims(dz, axis), a.shape).astype(dtype)
    return None


def array_grad(dz, x):
    pass


@overload(array_grad)
def _array_grad_impl(dz, x):
    """Adjoint of ``np.asarray(x)`` for an array ``x``: ``dz`` in its shape."""
    if isinstance(x, types.Array) and isinstance(dz, types.Array):
        if isinstance(x.dtype, types.Float) and x.dtype != dz.dtype:
            return lambda dz, x: np.reshape(np.ascontiguousarray(dz), x.shape).astype(x.dtype)
        return lambda dz, x: np.reshape(np.ascontiguousarray(dz), x.shape)
    return None


def bce_sigmoid(input):
    pass


@overload(bce_sigmoid)
def _bce_sigmoid_impl(input):
    """The sigmoid the BCE-with-logits adjoint computes: ``1 / (1 + exp(-max(x, -709)))``
    on float64 arrays, ``ops.sigmoid``'s otherwise."""
    if isinstance(input, types.Array) and input.dtype == types.float64:
        return lambda input: 1.0 / (1.0 + np.exp(-np.maximum(input, -709.0)))
    return lambda input: sigmoid_where(input)


# --------------------------------------------------------------------------
# products, compiled once per machine (cache=True) rather than into each derivative
# --------------------------------------------------------------------------
# Numba compiles np.outer and the matrix product into every function that uses them
# (seconds for np.outer); a derivative calls these instead, whose machine code
# comes from Numba's disk cache after the first use on this machine.

@njit(cache=_CACHE)
def _outer_fill(a, b, out):
    for i in range(a.shape[0]):
        ai = a[i]
        for j in range(b.shape[0]):
            out[i, j] = ai * b[j]
    return out


def outer(a, b):
    pass


@overload(outer)
def _outer_impl(a, b):
    """``np.multiply.outer(a, b)``: shape ``a.shape + b.shape``."""
    if not (isinstance(a, types.Array) and isinstance(b, types.Array)):
        if isinstance(a, types.Array) or isinstance(b, types.Array):
            return lambda a, b: a * b  # (a number times an array)
        return None
    dtype = numpy_support.from_dtype(np.result_type(numpy_support.as_dtype(a.dtype),
                                                    numpy_support.as_dtype(b.dtype)))
    if a.ndim == 1 and b.ndim == 1:
        return lambda a, b: _outer_fill(a, b, np.empty((a.shape[0], b.shape[0]), dtype))

    def impl(a, b):
        flat = _outer_fill(np.ascontiguousarray(a).reshape(a.size),
                           np.ascontiguousarray(b).reshape(b.size),
                           np.empty((a.size, b.size), dtype))
        return flat.reshape(a.shape + b.shape)
    return impl


# --------------------------------------------------------------------------
# the runtime helpers of loops, branches and early returns
# --------------------------------------------------------------------------

def zeros_like(x):
    pass


@overload(zeros_like)
def _zeros_like_impl(x):
    """A zero adjoint for ``x`` (``runtime.zeros_like``).  ``x`` may be None where the
    derivative restores a name's value from before its first assignment (a function
    with an early ``return``: ``result = None``); the NumPy derivative's adjoint is
    None there and is never read, so a value of the type the other paths give stands
    in for it: ``0.0``, or an empty array of the dtype and dimensions."""
    if isinstance(x, types.NoneType):
        return lambda x: None
    # (none for UNSET's own type: a value typed so is still being inferred, and an
    # adjoint typed from it would meet arrays in Numba's in-place operators, which
    # fail with an internal error rather than waiting for the type)
    inner = x.type if isinstance(x, types.Optional) else x
    if isinstance(inner, types.Array):
        dtype = inner.dtype
        empty = (0,) * inner.ndim
        if isinstance(x, types.Optional):
            def impl(x):
                if x is None:
                    return np.zeros(empty, dtype)
                return np.zeros(x.shape, dtype)
            return impl
        return lambda x: np.zeros(x.shape, dtype)
    if isinstance(inner, (types.Float, types.Integer, types.Boolean)):
        return lambda x: 0.0
    return None


def sequence(x):
    pass


@overload(sequence)
def _sequence_impl(x):
    """``x`` as a loop indexes it (``runtime.sequence``): an array, list or tuple as it is."""
    if isinstance(x, (types.Array, types.List, types.BaseTuple)):
        return lambda x: x
    return None


def sequence_adjoint(dz, x):
    pass


@overload(sequence_adjoint)
def _sequence_adjoint_impl(dz, x):
    """The adjoint of ``x`` in ``sequence(x)``: ``dz`` (``runtime.sequence_adjoint``)."""
    if isinstance(x, (types.Array, types.List, types.BaseTuple)):
        return lambda dz, x: dz
    return None


def item(seq, k):
    pass


@overload(item)
def _item_impl(seq, k):
    """``seq[k]``, a range's item included (Numba does not index a range)."""
    if isinstance(seq, types.RangeType):
        return lambda seq, k: seq.start + k * seq.step
    return lambda seq, k: seq[k]



# --------------------------------------------------------------------------
# UNSET: the value of a name before its first assignment, typed as its other values
# --------------------------------------------------------------------------
# A function with an early ``return`` binds ``result = None`` first, and a loop saves a
# name's value before each iteration assigns it (``row = None``, then
# ``stack_row.append(row)``), so the NumPy derivative holds None where the name has
# no value yet.  That None is restored in the backward sweep but never read as a
# value (at most ``zeros_like(row)``, whose adjoint is then never read).  In Numba a
# name is one type: None and an array make an Optional, which arithmetic refuses.
# ``dialect`` writes ``UNSET`` there instead; its type takes the type of the name's
# other values, and it is then a value of that type that shows it was never
# assigned: NaN for a float, an empty array (shape (0, ...)) for an array, zero bits
# for another type.

class Unset(types.Type):
    """The type of ``UNSET``: unifies with any type of value as that type."""

    def __init__(self):
        super().__init__(name="sourcegrad.unset")

    def unify(self, typingctx, other):
        if isinstance(other, (types.NoneType, types.Optional, Unset)):
            return None
        return other


unset = Unset()


class _UnsetValue:
    def __repr__(self):
        return "UNSET"

    def __reduce__(self):
        return (_unset_value, ())


UNSET = _UnsetValue()


def _unset_value():
    return UNSET


@typeof_impl.register(_UnsetValue)
def _typeof_unset(val, c):
    return unset


register_model(Unset)(models.OpaqueModel)


@lower_constant(Unset)
def _unset_constant(context, builder, ty, pyval):
    return context.get_dummy_value()


@lower_cast(Unset, types.Array)
def _unset_array(context, builder, fromty, toty, val):
    shape = (0,) * toty.ndim
    dtype = numpy_support.as_dtype(toty.dtype)
    made = types.Array(toty.dtype, toty.ndim, "C")
    arr = context.compile_internal(builder, lambda: np.empty(shape, dtype), signature(made), ())
    return context.cast(builder, arr, made, toty)


@lower_cast(Unset, types.Float)
def _unset_float(context, builder, fromty, toty, val):
    return context.get_constant(toty, float("nan"))


@lower_cast(Unset, types.Integer)
def _unset_int(context, builder, fromty, toty, val):
    return context.get_constant(toty, 0)


@lower_cast(Unset, types.Boolean)
def _unset_bool(context, builder, fromty, toty, val):
    return context.get_constant(toty, False)


@lower_cast(Unset, types.Any)
def _unset_other(context, builder, fromty, toty, val):
    """Any other type (a range, a tuple of arrays): its value of all zero bits (null
    references, which the reference counting skips)."""
    return context.get_constant_null(toty)
