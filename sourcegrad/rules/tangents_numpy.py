"""Forward-mode (tangent) rules: operators, NumPy, ``math`` and builtins, and the
runtime helpers that generated gradients call (so forward mode runs over a
gradient: Hessians, Hessian-vector products).

A tangent rule is a template (see :mod:`sourcegrad.rules.registry`): the first
parameter is the primal's result ``z``, the others mirror the primal's own; each
statement ``d[z] = ...`` is the contribution of the one argument whose tangent it
reads, and the contributions of the active arguments are summed.

Tangents are *batched*: ``d[x]`` has shape ``(n,) + np.shape(x)``, one row per
direction, so one generated call pushes ``n`` directions through at once (a
whole Jacobian when the directions are a basis; ``n == 1`` for ``jvp``).  The
helpers below move a primal's axis arguments past that leading axis
(``baxis``), broadcast a tangent to its result's shape (``lift``), and, for the
few functions without a batched formula, apply a linear function to each
direction in turn (``per_direction``).

Elementwise functions of one argument are declared with ``diagonal_tangent``: their
adjoint rule, read with ``d[z]`` and ``d[x]`` swapped, is their tangent rule.
"""
from __future__ import annotations

import builtins
import copy as _copy
import math
import operator

import numpy as np

from sourcegrad import runtime, xp
from sourcegrad.rules import numpy_core as _adj
from sourcegrad.rules import registry
from sourcegrad.rules import linalg as _linalg_rules
from sourcegrad.rules.linalg import _NUMPY_2
from sourcegrad.rules.numpy_core import _tie
from sourcegrad.rules.registry import d, diagonal_tangent, tangent


# ---------------------------------------------------------------- helpers --

class TangentList(list):
    """The tangent of a tuple/list adjoint (``AdjointList``): ``+`` adds item by item,
    as adjoints add (``None`` is zero)."""

    __slots__ = ()

    def __add__(self, other):
        return TangentList(b if a is None else a if b is None else a + b
                           for a, b in zip(self, other))

    __radd__ = __add__

    def __neg__(self):
        return TangentList(None if a is None else -a for a in self)


class TangentDict(dict):
    """The tangent of a dict adjoint (``AdjointDict``): ``+`` merges by key, adding."""

    __slots__ = ()

    def __add__(self, other):
        out = TangentDict(self)
        for k, b in other.items():
            a = out.get(k)
            out[k] = b if a is None else a if b is None else a + b
        return out

    __radd__ = __add__

    def __neg__(self):
        return TangentDict((k, None if a is None else -a) for k, a in self.items())


class Diagonal(np.ndarray):
    """A square batch of directions known to be diagonal: the identity basis
    ``jacfwd``/``jacrev`` start from, and elementwise products of it (``E * v`` is
    ``diag(v)``).  It is an ordinary dense array; ``values`` (its diagonal) lets a
    matrix product with it scale rows instead (``diag(v) @ W`` is ``v[:, None] * W``).
    Any other operation, a view or a slice gives a plain array."""

    def __array_finalize__(self, obj):
        self.values = None  # views and copies are not known to be diagonal

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [i.view(np.ndarray) if isinstance(i, Diagonal) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, Diagonal) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        if method != "__call__" or "out" in kwargs or not isinstance(result, np.ndarray):
            return result
        diag = [i for i in inputs if isinstance(i, Diagonal) and i.values is not None]
        keeps = ufunc in (np.multiply, np.negative, np.positive) and len(diag) == 1 and \
            result.shape == diag[0].shape
        return mark_diagonal(result) if keeps else result


def mark_diagonal(dense):
    """``dense`` (square, diagonal) marked as such."""
    out = dense.view(Diagonal)
    out.values = np.diagonal(dense)
    return out


def diagonal_values(t):
    """The diagonal of ``t`` when it is a batch known to be diagonal, else None."""
    return t.values if type(t) is Diagonal else None


def bdiag(v, n):
    """The batch of ``n`` directions ``diag(v)`` (``v``: ``n`` values, or one for all):
    the tangent of a vector whose ``k``-th direction moves only its ``k``-th element,
    as forward mode over the identity basis meets it (see ``tangents.Structure``),
    made dense where an operation needs all of it."""
    dt = np.result_type(v)
    out = np.zeros((n, n), dt if dt.kind in "fc" else np.float64)
    out.reshape(-1)[::n + 1] = v
    return mark_diagonal(out)


def add_diagonal(a, v, inplace=False):
    """``a + diag(v)`` for a batch ``a`` of ``n`` directions of an ``n``-vector, adding
    ``v`` on the diagonal only (``n`` additions, not ``n * n``).  ``inplace``: ``a`` is
    a temporary the caller made (an arithmetic result) and may be written into."""
    if a.ndim != 2:
        return a + bdiag(v, a.shape[0])
    n = max(a.shape)  # (1, n) or (n, 1): broadcast
    dt = np.result_type(a, v)
    if not (inplace and type(a) is np.ndarray and a.shape == (n, n) and a.dtype == dt
            and a.flags.writeable):
        a = np.array(np.broadcast_to(a, (n, n)), dtype=dt)
    if a.flags.c_contiguous or a.flags.f_contiguous:
        diagonal = a.ravel(order="K")[::n + 1]  # a view, in either order
        diagonal += v
    else:
        r = np.arange(n)
        a[r, r] += v
    return a


def lift(t, z):
    """Tangent ``t`` (``(n,) + shape(x)``) broadcast to ``(n,) + shape(z)``; the tangent
    of a container adjoint (``AdjointList``/``AdjointDict`` summed with ``+``) as a
    container that adds the same way."""
    if isinstance(t, (dict, list, tuple)):
        if isinstance(z, runtime.AdjointDict):
            return TangentDict(t)
        if isinstance(z, runtime.AdjointList):
            return TangentList(t)
        return list(t) if isinstance(t, (list, tuple)) else t  # list + list: concatenation
    zs = z.shape if isinstance(z, np.ndarray) else np.shape(z)
    ts = t.shape
    if ts[1:] == zs:
        return t
    k = len(zs) + 1 - len(ts)
    if k > 0:
        t = t.reshape(ts[:1] + (1,) * k + ts[1:])
    return np.broadcast_to(t, ts[:1] + zs)


def baxis(axis, x):
    """``axis`` of ``x`` as the axis of its batched tangent (past the leading axis)."""
    nd = x.ndim if isinstance(x, np.ndarray) else np.ndim(x)
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(int(a) % nd + 1 for a in axis)
    return int(axis) % nd + 1


def bperm(axes, x):
    """A transpose's ``axes`` for the batched tangent of ``x`` (``None``: reversed)."""
    nd = np.ndim(x)
    if axes is None:
        return (0,) + tuple(range(nd, 0, -1))
    return (0,) + tuple(int(i) % nd + 1 for i in axes)


def breshape(t, z, order="C"):
    """Tangent ``t`` reshaped to ``(n,) + shape(z)``."""
    shape = t.shape[:1] + np.shape(z)
    if order == "C":
        return t.reshape(shape)
    return np.stack([np.reshape(r, np.shape(z), order=order) for r in t]) \
        if len(t) else np.zeros(shape, t.dtype)


def bindex(t, z, index):
    """The tangent of ``x[index]`` from the tangent ``t`` of ``x``: an array's is
    ``t[:, index]``; a tuple's, list's or dict's is the item's own tangent."""
    if not isinstance(t, np.ndarray):
        return t[index]
    rest = index if isinstance(index, tuple) else (index,)
    out = t[(slice(None),) + rest]
    if out.shape[1:] != np.shape(z):  # advanced indices split by slices moved the axes
        out = np.stack([r[index] for r in t])
    return out


def set_item(t, y, index, tv, batch):
    """The tangent of ``y`` after ``y[index] = v``: ``t`` (``None``: zero) with the
    rows' ``index`` replaced by ``tv`` (``None``: zero).  A new array: tangents are
    shared freely and never written in place."""
    if isinstance(y, (list, tuple, dict)):
        out = (dict(t) if isinstance(y, dict) else list(t)) if t is not None \
            else zero_tangent_of(y, batch)
        out[index] = tv if tv is not None else zero_tangent_of(y[index], batch)
        return out
    if t is None:
        out = np.zeros((batch,) + np.shape(y), _float(y))
    else:
        out = np.array(t, dtype=np.result_type(t, _float(y)), copy=True)
    rest = index if isinstance(index, tuple) else (index,)
    view = out[(slice(None),) + rest]
    value = 0.0 if tv is None else tv
    if view.shape[1:] == np.shape(y[index]):
        out[(slice(None),) + rest] = lift(value, y[index]) if tv is not None else 0.0
    else:  # advanced indices split by slices
        for r, v in zip(out, np.broadcast_to(value, (batch,) + np.shape(y[index]))):
            r[index] = v
    return out


def _float(x):
    dt = np.result_type(x)
    return dt if dt.kind in "fc" else np.dtype(float)


def zero_tangent_of(x, batch):
    """The zero tangent of ``x`` (``None`` for values that carry none: ints, strings)."""
    if isinstance(x, (list, tuple)):
        return type(x)(zero_tangent_of(v, batch) for v in x) if type(x) in (list, tuple) \
            else [zero_tangent_of(v, batch) for v in x]
    if isinstance(x, dict):
        return {k: zero_tangent_of(v, batch) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fc":
            return np.zeros((batch,) + x.shape, x.dtype)
        return None
    if isinstance(x, (float, np.floating, complex)):
        return np.zeros((batch,), np.result_type(x))
    return None


def zero_tangent(x, batch):
    """The zero tangent of a value made without differentiated inputs (as an array of
    zeros even for an integer value: the name is differentiated elsewhere)."""
    t = zero_tangent_of(x, batch)
    if t is None and isinstance(x, (bool, int, np.integer, np.ndarray)):
        return np.zeros((batch,) + np.shape(x))
    return t


def batch_size(*tangents):
    """The number of directions ``n`` of the given tangents (their leading axis)."""
    for t in tangents:
        if isinstance(t, np.ndarray):
            return t.shape[0]
        if isinstance(t, (list, tuple)):
            n = batch_size(*t)
            if n is not None:
                return n
        if isinstance(t, dict):
            n = batch_size(*t.values())
            if n is not None:
                return n
    return None


def fill_tangents(items, tangents, batch):
    """Tangents of a tuple/list display: the items' own, zeros for the others."""
    return [t if t is not None else zero_tangent_of(v, batch) for v, t in zip(items, tangents)]


def per_direction(fn, args, k, t, **kwargs):
    """The tangent of a function *linear* in its argument ``k``: ``fn`` applied to each
    direction of ``t`` in turn (a Python loop: for functions without a batched form)."""
    rows = []
    for r in t:
        a = list(args)
        a[k] = r
        rows.append(fn(*a, **kwargs))
    return np.stack([np.asarray(r) for r in rows])


def tmatmul_a(t1, x1, x2):
    """Tangent of ``x1 @ x2`` from the tangent ``t1`` of ``x1``."""
    nd1, nd2 = np.ndim(x1), np.ndim(x2)
    if nd1 == 1:
        v = diagonal_values(t1)
        if v is not None and nd2 <= 2:
            return v[:, None] * x2  # diag(v) @ x2
        if nd2 <= 2:
            return np.matmul(t1, x2)
        t1 = t1.reshape(t1.shape[:1] + (1,) * (nd2 - 2) + (1,) + t1.shape[1:])
        return np.matmul(t1, x2)[..., 0, :]
    if nd2 > nd1:  # x2's extra batch axes go after the directions
        t1 = t1.reshape(t1.shape[:1] + (1,) * (nd2 - nd1) + t1.shape[1:])
    return np.matmul(t1, x2)


def tmatmul_b(x1, t2, x2):
    """Tangent of ``x1 @ x2`` from the tangent ``t2`` of ``x2``."""
    nd1, nd2 = np.ndim(x1), np.ndim(x2)
    if nd2 == 1:  # (n, k): contract each direction with x1's last axis
        if is_basis(t2) and nd1 == 2:
            return x1.T  # the identity basis: the directions' images are x1's columns
        v = diagonal_values(t2)
        if v is not None and nd1 == 2:
            return v[:, None] * x1.T  # diag(v) @ x1.T
        if nd1 == 2:
            return np.matmul(t2, x1.T)
        return np.moveaxis(np.matmul(x1, t2.T), -1, 0)
    if nd1 > nd2:
        t2 = t2.reshape(t2.shape[:1] + (1,) * (nd1 - nd2) + t2.shape[1:])
    return np.matmul(x1, t2)


_EYES: dict = {}


def eye(n, dtype=np.float64):
    """A read-only identity basis, cached (the tangent rules recognise it: ``jacfwd``
    and ``jacrev`` start from it) and marked diagonal."""
    key = (n, np.dtype(dtype))
    e = _EYES.get(key)
    if e is None:
        if len(_EYES) > 64:
            _EYES.clear()
        e = mark_diagonal(np.eye(n, dtype=dtype))
        e.flags.writeable = False
        _EYES[key] = e
    return e


def is_eye(t):
    """Whether ``t`` is the cached identity basis of its size."""
    return isinstance(t, np.ndarray) and t.ndim == 2 and _EYES.get((t.shape[0], t.dtype)) is t


def is_basis(t):
    """Whether ``t`` is the identity basis ``jacfwd`` passes (see ``eye``)."""
    return isinstance(t, np.ndarray) and t.ndim == 2 and not t.flags.writeable and is_eye(t)


def tdot(t, a, b, which):
    """Tangent of ``np.dot(a, b)`` from the tangent ``t`` of operand ``which``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        z = np.dot(a, b)
        return lift(t, z) * (b if which == 0 else a)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return tmatmul_a(t, a, b) if which == 0 else tmatmul_b(a, t, b)
    if which == 0:
        return per_direction(np.dot, (a, b), 0, t)
    return per_direction(np.dot, (a, b), 1, t)


def tunbroadcast(t, x):
    """Tangent of ``unbroadcast(g, x)`` (linear in ``g``) from the tangent ``t`` of ``g``:
    the same sums, on the axes after the leading one."""
    if isinstance(x, (list, tuple)):
        return t
    shape = np.shape(x)
    tshape = t.shape[1:]
    if tshape == shape:
        return t
    extra = len(tshape) - len(shape)
    if extra > 0:
        t = np.sum(t, axis=tuple(range(1, extra + 1)))
        tshape = t.shape[1:]
    if extra >= 0:
        axes = tuple(i + 1 for i, n in enumerate(shape) if n == 1 and tshape[i] != 1)
        if axes:
            t = np.sum(t, axis=axes, keepdims=True)
    if t.shape[1:] != shape:
        t = np.broadcast_to(t, t.shape[:1] + shape).copy()
    return t


def titem(t, i, like, batch):
    """Tangent of ``item_adjoint(dseq, i, like)``."""
    g = t[i] if t is not None else None
    if g is None:
        return zero_tangent(like, batch)
    return g


def tadd_adjoints(ta, tb, a, b):
    """Tangent of ``add_adjoints(a, b)``."""
    if a is None:
        return tb
    if b is None:
        return ta
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return TangentList(tadd_adjoints(x, y, u, v)
                           for x, y, u, v in zip(_items(ta, a), _items(tb, b), a, b))
    if ta is None:
        return tb
    if tb is None:
        return ta
    return ta + tb


def _items(t, x):
    return t if t is not None else [None] * len(x)


def tindex_adjoint(t, x, index, dz):
    """Tangent of ``index_adjoint(x, index, dz)`` (linear in ``dz``)."""
    if isinstance(x, (tuple, list)):
        out = TangentList([None] * len(x))
        if isinstance(index, slice):
            for j, g in zip(range(*index.indices(len(x))), t):
                out[j] = g
        else:
            out[index] = t
        return out
    if isinstance(x, dict):
        return TangentDict({index: t})
    out = np.zeros((t.shape[0],) + np.shape(x), dtype=np.result_type(x, t))
    for r, g in zip(out, t):
        np.add.at(r, index, g)
    return out


def tsum_items(t, items):
    """Tangent of ``sum(items)`` from the tangent of the sequence ``items``."""
    if isinstance(items, np.ndarray):
        return np.sum(t, axis=1)
    out = None
    for ti, v in zip(t, items):
        if ti is None:
            continue
        out = ti if out is None else out + ti
    return out


def tmake_dict(items, tangents, batch):
    """Tangent of ``make_dict(k0, v0, ...)``: the values' tangents under their keys."""
    return {items[i - 1]: tangents[i] if tangents[i] is not None
            else zero_tangent_of(items[i], batch) for i in range(1, len(items), 2)}


def tmerge_dicts(maps, tangents, batch):
    """Tangent of ``merge_dicts(p, q, ...)``: each entry's tangent from the mapping it
    came from (zeros for one that has none)."""
    out = {}
    for m, t in zip(maps, tangents):
        if isinstance(m, (list, tuple)):  # key-value pairs: a value's tangent is its entry's
            for (k, v), tp in zip(m, titems(t, m, batch)):
                tv = tp[1] if tp is not None else None
                out[k] = tv if tv is not None else zero_tangent_of(v, batch)
            continue
        for k, v in m.items():
            tv = t.get(k) if isinstance(t, dict) else None
            out[k] = tv if tv is not None else zero_tangent_of(v, batch)
    return out


def tchoice(z, args, tangents, batch):
    """Tangent of ``max(*args)``/``min(*args)``: the chosen argument's (for one array,
    which they iterate over, its first row equal to the result, as the adjoint)."""
    if len(args) == 1 and isinstance(args[0], np.ndarray):
        items, t = args[0], tangents[0]
        for i in range(len(items) if t is not None else 0):
            if np.array_equal(items[i], z, equal_nan=items.dtype.kind in "fc"):
                return t[:, i]
        return zero_tangent(z, batch)
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args, tangents = args[0], tangents[0]
    for v, t in zip(args, tangents):
        if v is z:
            return t if t is not None else zero_tangent(z, batch)
    return zero_tangent(z, batch)


def tminmax(t, z, a, axis=None, keepdims=False):
    """Tangent of ``max``/``min`` (ties share evenly, as their adjoint rule)."""
    nd = np.ndim(a)
    hit = np.asarray(a) == _adj._keep(z, nd, axis, keepdims)
    count = np.maximum(np.sum(hit, axis=axis, keepdims=True), 1)
    return np.sum(np.where(hit, t, 0.0) / count, axis=baxis(axis, a), keepdims=keepdims)


def tstack(tangents, arrays, batch, axis=0, fn=np.stack):
    """Tangent of ``np.stack``/``np.concatenate`` of ``arrays`` on ``axis``."""
    ts = [t if t is not None else zero_tangent(v, batch) for v, t in zip(arrays, tangents)]
    if axis is None:
        return np.concatenate([t.reshape(batch, -1) for t in ts], axis=1)
    nd = np.ndim(arrays[0]) + (1 if fn is np.stack else 0)
    return fn(ts, axis=int(axis) % nd + 1)


# ------------------------------------------------------------ elementwise --

diagonal_tangent(operator.neg, operator.pos, np.negative, np.positive,
            np.fix, np.round, np.around, builtins.abs, builtins.float)
for _f in vars(np).values():
    if isinstance(_f, np.ufunc) and _f.nin == 1 and _f.nout == 1:
        diagonal_tangent(_f)
for _n in ("exp", "expm1", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin",
           "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
           "gamma", "lgamma", "fabs", "degrees", "radians"):
    if hasattr(math, _n):
        diagonal_tangent(getattr(math, _n))


# -------------------------------------------------------------- operators --

@tangent(operator.add, np.add)
def add(z, x1, x2):
    d[z] = lift(d[x1], z)
    d[z] = lift(d[x2], z)


@tangent(operator.sub, np.subtract)
def sub(z, x1, x2):
    d[z] = lift(d[x1], z)
    d[z] = -lift(d[x2], z)


@tangent(operator.mul, np.multiply)
def mul(z, x1, x2):
    d[z] = lift(d[x1], z) * x2
    d[z] = x1 * lift(d[x2], z)


@tangent(operator.truediv, np.divide)
def truediv(z, x1, x2):
    d[z] = lift(d[x1], z) / x2
    d[z] = -lift(d[x2], z) * z / x2


@tangent(operator.pow, builtins.pow)
def pow(z, x, y):
    d[z] = lift(d[x], z) * y * x ** (y - (y != 0))
    d[z] = lift(d[y], z) * z * np.log(np.where(x == 0, 1.0, x))


@tangent(np.power, np.float_power)
def power(z, x1, x2):
    d[z] = lift(d[x1], z) * x2 * x1 ** (x2 - (x2 != 0))
    d[z] = lift(d[x2], z) * z * np.log(np.where(x1 == 0, 1.0, x1))


@tangent(operator.matmul, np.matmul)
def matmul(z, x1, x2):
    d[z] = tmatmul_a(d[x1], x1, x2)
    d[z] = tmatmul_b(x1, d[x2], x2)


@tangent(operator.mod, np.remainder)
def mod(z, x1, x2):
    d[z] = lift(d[x1], z)
    d[z] = -lift(d[x2], z) * np.floor_divide(x1, x2)


# ------------------------------------------------------- NumPy, elementwise --

@tangent(np.maximum, np.minimum, np.fmax, np.fmin)
def maximum(z, x1, x2):
    d[z] = lift(d[x1], z) * _tie(x1, x2, z)
    d[z] = lift(d[x2], z) * _tie(x2, x1, z)


@tangent(np.where, constant=("condition",))
def where(z, condition, x=None, y=None):
    d[z] = np.where(condition, lift(d[x], z), 0.0)
    d[z] = np.where(condition, 0.0, lift(d[y], z))


@tangent(np.arctan2)
def arctan2(z, x1, x2):
    d[z] = lift(d[x1], z) * x2 / (x1 * x1 + x2 * x2)
    d[z] = -lift(d[x2], z) * x1 / (x1 * x1 + x2 * x2)


@tangent(np.hypot)
def hypot(z, x1, x2):
    d[z] = lift(d[x1], z) * x1 / z
    d[z] = lift(d[x2], z) * x2 / z


@tangent(np.logaddexp)
def logaddexp(z, x1, x2):
    d[z] = lift(d[x1], z) * np.exp(x1 - z)
    d[z] = lift(d[x2], z) * np.exp(x2 - z)


@tangent(np.clip)
def clip(z, a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    d[z] = np.where(z == a, lift(d[a], z), 0.0)
    d[z] = np.where((z != a) & (z == a_min), lift(d[a_min], z), 0.0)
    d[z] = np.where((z != a) & (z == a_max), lift(d[a_max], z), 0.0)


@tangent(np.ndarray.clip)
def ndarray_clip(z, self, min=None, max=None, out=None):
    d[z] = np.where(z == self, lift(d[self], z), 0.0)
    d[z] = np.where((z != self) & (z == min), lift(d[min], z), 0.0)
    d[z] = np.where((z != self) & (z == max), lift(d[max], z), 0.0)


# ----------------------------------------------------------- reductions --

@tangent(np.sum)
def sum_(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[z] = np.sum(d[a], axis=baxis(axis, a), keepdims=keepdims)


@tangent(np.ndarray.sum)
def ndarray_sum(z, self, axis=None, dtype=None, out=None, keepdims=False):
    d[z] = np.sum(d[self], axis=baxis(axis, self), keepdims=keepdims)


@tangent(np.mean)
def mean(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[z] = np.mean(d[a], axis=baxis(axis, a), keepdims=keepdims)


@tangent(np.ndarray.mean)
def ndarray_mean(z, self, axis=None, dtype=None, out=None, keepdims=False):
    d[z] = np.mean(d[self], axis=baxis(axis, self), keepdims=keepdims)


@tangent(np.max, np.min, np.amax, np.amin)
def max_(z, a, axis=None, out=None, keepdims=False, initial=None):
    d[z] = tminmax(d[a], z, a, axis, keepdims)


@tangent(np.ndarray.max, np.ndarray.min)
def ndarray_max(z, self, axis=None, out=None, keepdims=False, initial=None):
    d[z] = tminmax(d[self], z, self, axis, keepdims)


@tangent(np.prod)
def prod(z, a, axis=None, dtype=None, out=None, keepdims=False, initial=None):
    d[z] = per_direction(_prod_linear, (d[a], a, axis, keepdims), 0, d[a])


def _prod_linear(t, a, axis, keepdims):
    """d prod(a) along ``t``: sum over the reduced elements of t times the product of
    the others (exact with zeros)."""
    a = np.asarray(a, dtype=float)
    axes = tuple(range(a.ndim)) if axis is None else \
        (tuple(axis) if isinstance(axis, (tuple, list)) else (axis,))
    moved = np.moveaxis(a, axes, tuple(range(-len(axes), 0)))
    tm = np.moveaxis(np.asarray(t), axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
    tflat = tm.reshape(flat.shape)
    k = flat.shape[-1]
    total = 0.0
    for i in range(k):
        others = np.delete(flat, i, axis=-1)
        total = total + tflat[..., i] * np.prod(others, axis=-1)
    if keepdims:
        total = np.expand_dims(total, axes)
    return total


@tangent(np.cumsum)
def cumsum(z, a, axis=None, dtype=None, out=None):
    d[z] = _tcumsum(d[a], a, axis)


@tangent(np.ndarray.cumsum)
def ndarray_cumsum(z, self, axis=None, dtype=None, out=None):
    d[z] = _tcumsum(d[self], self, axis)


def _tcumsum(t, a, axis):
    if axis is None:
        return np.cumsum(t.reshape(t.shape[0], -1), axis=1)
    return np.cumsum(t, axis=baxis(axis, a))


@tangent(np.var)
def var(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[z] = _tvar(d[a], a, axis, ddof, keepdims)


@tangent(np.ndarray.var)
def ndarray_var(z, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[z] = _tvar(d[self], self, axis, ddof, keepdims)


@tangent(np.std)
def std(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[z] = _tvar(d[a], a, axis, ddof, keepdims) / (2.0 * z)


@tangent(np.ndarray.std)
def ndarray_std(z, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[z] = _tvar(d[self], self, axis, ddof, keepdims) / (2.0 * z)


def _tvar(t, a, axis, ddof, keepdims):
    centred = a - np.mean(a, axis=axis, keepdims=True)
    n = np.size(a) if axis is None else np.prod([np.shape(a)[i] for i in
                                                  np.atleast_1d(axis)])
    return 2.0 * np.sum(centred * t, axis=baxis(axis, a), keepdims=keepdims) / (n - ddof)


# --------------------------------------------------------- linear algebra --

@tangent(np.dot)
def dot(z, a, b, out=None):
    d[z] = tdot(d[a], a, b, 0)
    d[z] = tdot(d[b], a, b, 1)


@tangent(np.ndarray.dot)
def ndarray_dot(z, self, other, out=None):
    d[z] = tdot(d[self], self, other, 0)
    d[z] = tdot(d[other], self, other, 1)


@tangent(np.outer)
def outer(z, a, b, out=None):
    d[z] = d[a].reshape(d[a].shape[0], -1, 1) * np.ravel(b)
    d[z] = np.ravel(a)[:, None] * d[b].reshape(d[b].shape[0], 1, -1)


@tangent(np.inner)
def inner(z, a, b):
    d[z] = per_direction(np.inner, (a, b), 0, d[a])
    d[z] = per_direction(np.inner, (a, b), 1, d[b])


@tangent(np.tensordot)
def tensordot(z, a, b, axes=2):
    d[z] = per_direction(np.tensordot, (a, b), 0, d[a], axes=axes)
    d[z] = per_direction(np.tensordot, (a, b), 1, d[b], axes=axes)


@tangent(np.trace)
def trace(z, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[z] = np.trace(d[a], offset, baxis(axis1, a), baxis(axis2, a))


@tangent(np.linalg.inv)
def linalg_inv(z, a):
    d[z] = -(z @ d[a] @ z)


@tangent(np.linalg.det)
def linalg_det(z, a):
    d[z] = z * np.trace(np.linalg.solve(a, d[a]), axis1=-2, axis2=-1)


@tangent(np.linalg.solve)
def linalg_solve(z, a, b):
    d[z] = -_tsolve_b(a, _tmatvec(d[a], z, a, b), b)
    d[z] = _tsolve_b(a, lift(d[b], z), b)


def _b_vectors(a, b):
    """Whether ``solve(a, b)`` reads ``b`` as (a stack of) vectors: 1-D, or on NumPy
    1.x, of ``a.ndim - 1`` dimensions."""
    return np.ndim(b) == 1 or not _NUMPY_2 and np.ndim(b) == np.ndim(a) - 1


def _tmatvec(ta, z, a, b):
    """``ta @ z`` for each direction; ``z`` a (stack of) vector(s) when ``b`` is."""
    if _b_vectors(a, b):
        return np.matmul(ta, z[..., None])[..., 0]
    return np.matmul(ta, z)


def _tsolve_b(a, tb, b):
    """``solve(a, .)`` of each direction ``tb`` of a right-hand side shaped like ``b``."""
    if _b_vectors(a, b):
        return np.linalg.solve(a, tb[..., None])[..., 0]
    return np.linalg.solve(a, tb)


# ---------------------------------------------------------------- shapes --

@tangent(np.reshape)
def reshape(z, a, shape=None, order='C', *, newshape=None, copy=None):
    d[z] = breshape(d[a], z, order)


@tangent(np.ndarray.reshape)
def ndarray_reshape(z, self, *shape, order='C', copy=None):
    d[z] = breshape(d[self], z, order)


@tangent(np.ravel, np.ndarray.ravel, np.ndarray.flatten)
def ravel(z, a, order='C'):
    d[z] = breshape(d[a], z, order)


@tangent(np.squeeze, np.expand_dims, np.ndarray.squeeze)
def squeeze(z, a, axis=None):
    d[z] = breshape(d[a], z)


@tangent(np.transpose)
def transpose(z, a, axes=None):
    d[z] = np.transpose(d[a], bperm(axes, a))


@tangent(np.ndarray.transpose)
def ndarray_transpose(z, self, *axes):
    d[z] = np.transpose(d[self], bperm(_method_axes(axes), self))


def _method_axes(axes):
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return axes[0]
    return axes if axes else None


@tangent(np.ndarray.T)
def ndarray_T(z, self):
    d[z] = np.transpose(d[self], bperm(None, self))


@tangent(np.swapaxes, np.ndarray.swapaxes)
def swapaxes(z, a, axis1, axis2):
    d[z] = np.swapaxes(d[a], baxis(axis1, a), baxis(axis2, a))


@tangent(np.broadcast_to)
def broadcast_to(z, array, shape, subok=False):
    d[z] = lift(d[array], z)


@tangent(np.concatenate)
def concatenate(z, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[z] = tstack(d[arrays], arrays, batch_size(*d[arrays]), axis, np.concatenate)


@tangent(np.stack)
def stack(z, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[z] = tstack(d[arrays], arrays, batch_size(*d[arrays]), axis, np.stack)


@tangent(np.diag)
def diag(z, v, k=0):
    d[z] = per_direction(np.diag, (v, k), 0, d[v])


@tangent(np.diagonal, np.ndarray.diagonal)
def diagonal(z, a, offset=0, axis1=0, axis2=1):
    d[z] = np.diagonal(d[a], offset, baxis(axis1, a), baxis(axis2, a))


@tangent(np.asarray, np.array, np.ascontiguousarray)
def asarray(z, a, dtype=None, *args, **kwargs):
    d[z] = tasarray(d[a], a, z)


@tangent(xp.asarray)  # np.asarray that leaves another library's array in it
def asarray_any_library(z, x, dtype=None):
    d[z] = tasarray(d[x], x, z)


def tasarray(t, a, z):
    """Tangent of ``np.array(a)``: ``a`` an array, or a (nested) list of values."""
    if isinstance(t, (list, tuple)):
        batch = batch_size(*t)
        t = np.stack([np.asarray(ti) if ti is not None else np.zeros((batch,) + np.shape(v))
                      for ti, v in zip(t, a)], axis=1) if batch is not None else None
    return t.reshape(t.shape[:1] + np.shape(z)).astype(_float(z), copy=False)


@tangent(np.ndarray.copy, np.copy)
def copy(z, a, order='K'):
    d[z] = d[a]


@tangent(np.ndarray.astype)
def astype(z, self, dtype, order='K', casting='unsafe', subok=True, copy=True):
    d[z] = tastype(d[self], self, z)


def tastype(t, x, z):
    """Tangent of ``x.astype(...)``: ``x``'s, in ``z``'s floating dtype; zero where floats
    were truncated to integers (a step function)."""
    if np.result_type(z).kind in "biu" and np.result_type(x).kind in "fc":
        return np.zeros(t.shape)
    return t.astype(np.result_type(z, np.float32) if np.result_type(z).kind in "fc"
                    else t.dtype)


# -------------------------------------------------------- builtins, math --

@tangent(math.fsum)
def fsum(z, seq):
    d[z] = lift(tsum_items(d[seq], seq), z)


@tangent(_copy.copy, _copy.deepcopy)
def copy_(z, x, memo=None):
    d[z] = d[x]


@tangent(builtins.sum)
def builtin_sum(z, iterable, start=0):
    d[z] = lift(tsum_items(d[iterable], iterable), z)
    d[z] = lift(d[start], z)


@tangent(builtins.max, builtins.min, constant=("key",))
def builtin_max(z, *args, key=None, default=None):
    d[z] = tchoice(z, args, d[args], batch_size(*d[args]))
    d[z] = tchoice_default(z, args, d[default])


def tchoice_default(z, args, t):
    """Tangent of ``max(seq, default=v)``: ``v``'s when ``seq`` is empty."""
    return t if len(args) == 1 and len(args[0]) == 0 else None


@tangent(math.log)
def math_log(z, x, base=math.e):
    d[z] = d[x] / (x * math.log(base))
    d[z] = -d[base] * z / (base * math.log(base))


@tangent(math.pow)
def math_pow(z, x, y):
    d[z] = d[x] * y * x ** (y - (y != 0))
    d[z] = d[y] * z * math.log(x if x != 0 else 1.0)


# -------------------------------- the runtime helpers generated gradients call --

@tangent(runtime.unbroadcast, constant=("x",))
def unbroadcast(z, d_, x):
    d[z] = tunbroadcast(d[d_], x)


@tangent(runtime.zeros_like)
def zeros_like(z, x):
    d[z] = zero_tangent(z, batch_size(d[x]))


@tangent(runtime.plain)
def plain(z, p):
    d[z] = d[p]


@tangent(runtime.fill_zeros, constant=("x",))
def fill_zeros(z, g, x):
    d[z] = d[g]


@tangent(runtime.seed_like, runtime.check_aux)
def seed_like(z, out):
    d[z] = zero_tangent(z, batch_size(d[out]))


@tangent(runtime.matmul_adjoint_a, constant=("a",))
def matmul_adjoint_a(z, dz, a, b):
    d[z] = tmatmul_adjoint_a(d[dz], dz, a, b, 0)
    d[z] = tmatmul_adjoint_a(d[b], dz, a, b, 2)


@tangent(runtime.matmul_adjoint_b, constant=("b",))
def matmul_adjoint_b(z, dz, a, b):
    d[z] = tmatmul_adjoint_b(d[dz], dz, a, b, 0)
    d[z] = tmatmul_adjoint_b(d[a], dz, a, b, 1)


def tmatmul_adjoint_a(t, dz, a, b, which):
    """Tangent of ``matmul_adjoint_a(dz, a, b)`` (``dz @ b.T``, bilinear in ``dz`` and
    ``b``) along the tangent ``t`` of ``dz`` (which=0) or ``b`` (which=2)."""
    na, nb = np.ndim(a), np.ndim(b)
    if which == 0 and na == 2 and nb == 2:
        return np.matmul(t, b.T)
    if which == 2 and na == 2 and nb == 2:
        return np.matmul(dz, np.swapaxes(t, -1, -2))
    if which == 0 and na == 1 and nb == 2:
        v = diagonal_values(t)
        return v[:, None] * b.T if v is not None else np.matmul(t, b.T)
    if which == 0 and na == 2 and nb == 1:
        return t[:, :, None] * b
    if which == 2 and na == 2 and nb == 1:  # outer(dz, b) along b's directions
        return np.asarray(dz)[None, :, None] * t[:, None, :]
    args = [dz, a, b]
    return per_direction(runtime.matmul_adjoint_a, args, which, t)


def tmatmul_adjoint_b(t, dz, a, b, which):
    """Tangent of ``matmul_adjoint_b(dz, a, b)`` (``a.T @ dz``, bilinear in ``dz`` and
    ``a``) along the tangent ``t`` of ``dz`` (which=0) or ``a`` (which=1)."""
    na, nb = np.ndim(a), np.ndim(b)
    if which == 0 and na == 2 and nb == 1:
        v = diagonal_values(t)
        return v[:, None] * a if v is not None else np.matmul(t, a)
    if which == 0 and na == 2 and nb == 2:
        return np.matmul(a.T, t)
    if which == 1 and na == 2 and nb == 2:
        return np.matmul(np.swapaxes(t, -1, -2), dz)
    if which == 1 and na == 2 and nb == 1:
        return np.matmul(dz, t)
    if which == 0 and na == 1 and nb == 2:
        return a[None, :, None] * t[:, None, :]
    args = [dz, a, b]
    return per_direction(runtime.matmul_adjoint_b, args, which, t)


@tangent(runtime.item_adjoint, constant=("i", "like"))
def item_adjoint(z, dseq, i, like):
    d[z] = titem(d[dseq], i, like, batch_size(d[dseq]))


@tangent(runtime.index_adjoint, constant=("x", "index"))
def index_adjoint(z, x, index, dz):
    d[z] = tindex_adjoint(d[dz], x, index, dz)


@tangent(runtime.add_adjoints)
def add_adjoints(z, a, b):
    d[z] = tadd_adjoints(d[a], d[b], a, b)


@tangent(runtime.field, constant=("x", "name"))
def field(z, x, name):
    d[z] = tfield(d[x], x, name)


def tfield(t, x, name):
    """Tangent of ``x.<name>`` (a namedtuple's field): the field's item of ``x``'s tangent."""
    return t[x._fields.index(name)] if isinstance(t, (list, tuple)) else getattr(t, name)


@tangent(runtime.sequence)
def sequence(z, x):
    d[z] = tsequence(d[x], x, z)


def tsequence(t, x, z):
    """Tangent of ``sequence(x)``: ``x``'s for a list, tuple or array; none for a
    dict's keys."""
    return t if isinstance(x, (list, tuple, np.ndarray)) else [None] * len(z)


@tangent(runtime.dict_get, constant=("key",))
def dict_get(z, mapping, key, default=None):
    d[z] = tdict_get(d[mapping], d[default], mapping, key)


def tdict_get(t, tdefault, mapping, key):
    """Tangent of ``dict_get(mapping, key, default)``: the entry's, or the default's."""
    if key in mapping:
        return t.get(key) if isinstance(t, dict) else None
    return tdefault


@tangent(runtime.dict_values)
def dict_values(z, mapping):
    d[z] = tdict_entries(d[mapping], mapping, False)


@tangent(runtime.dict_items)
def dict_items(z, mapping):
    d[z] = tdict_entries(d[mapping], mapping, True)


def tdict_entries(t, mapping, pairs):
    """Tangent of ``dict_values(mapping)`` (or ``dict_items``, ``pairs``): the values'
    tangents in the dict's order (with none for the keys)."""
    out = [t.get(k) if isinstance(t, dict) else None for k in mapping]
    return [(None, v) for v in out] if pairs else out


@tangent(runtime.set_entry, constant=("key",))
def set_entry(z, mapping, key, value):
    d[z] = tset_entry(d[mapping], mapping, key, d[value], value)


def tset_entry(t, mapping, key, tv, value=None):
    """Tangent of ``set_entry(mapping, key, value)``: the dict's tangent with the
    value's under ``key`` (zeros for an entry without one, where the batch is known)."""
    batch = batch_size(tv, t)
    out = dict(t) if isinstance(t, dict) else {k: None for k in mapping}
    out[key] = tv
    if batch is not None:
        merged = dict(mapping)
        merged[key] = value
        out = {k: g if g is not None else zero_tangent_of(merged[k], batch)
               for k, g in out.items()}
    return out


@tangent(runtime.make_dict)
def make_dict(z, *items):
    d[z] = tmake_dict(items, d[items], batch_size(*d[items]))


@tangent(runtime.shallow_copy)
def shallow_copy(z, x):
    d[z] = runtime.shallow_copy(d[x]) if d[x] is not None else None


@tangent(runtime.merge_dicts)
def merge_dicts(z, *maps):
    d[z] = tmerge_dicts(maps, d[maps], batch_size(*d[maps]))


@tangent(runtime.save_item, constant=("index",))
def save_item(z, y, index):
    d[z] = bindex(d[y], z, index)


@tangent(runtime.zipped)
def zipped(z, *seqs):
    d[z] = tzipped(d[seqs], seqs, batch_size(*d[seqs]))


@tangent(runtime.enumerated, constant=("start",))
def enumerated(z, seq, start=0):
    d[z] = tenumerated(d[seq], seq, batch_size(d[seq]))


@tangent(runtime.reversed_list)
def reversed_list(z, seq):
    d[z] = titems(d[seq], seq, batch_size(d[seq]))[::-1]


def titems(t, seq, batch):
    """The tangents of the items of ``seq`` (zeros for an inactive one)."""
    return [zero_tangent_of(v, batch) for v in seq] if t is None else tlist(t, seq)


def tenumerated(t, seq, batch):
    """Tangent of ``enumerated(seq, start)``: the pairs (zero for the count)."""
    return [(np.zeros(batch), ti) for ti in titems(t, seq, batch)]


def tzipped(tangents, seqs, batch):
    """Tangent of ``zipped(*seqs)``: the tuples of the items' tangents."""
    return [tuple(ts) for ts in zip(*(titems(t, s, batch) for t, s in zip(tangents, seqs)))]


@tangent(runtime.snapshot)
def snapshot(z, v):
    d[z] = d[v]


@tangent(runtime.restore_item, constant=("index", "copies"))
def restore_item(z, y, index, old, copies):
    d[z] = trestore_item(d[y], y, index, d[old], old)


def trestore_item(t, y, index, tv, old):
    """Tangent of ``restore_item(y, index, old, copies)`` (``y[index] = old`` again, or
    the key a dict write added taken out): linear in ``y`` and ``old`` together."""
    if old is runtime.ABSENT:
        out = dict(t) if isinstance(t, dict) else {k: None for k in y}
        out.pop(index, None)
        return out
    return set_item(t, y, index, tv, batch_size(t, tv))


@tangent(runtime.entry_rest, constant=("key",))
def entry_rest(z, dz, key):
    d[z] = tentry_rest(d[dz], key)


def tentry_rest(t, key):
    """Tangent of ``entry_rest(dz, key)`` (a dict adjoint without ``key``): ``t``
    without it, adding by key as the adjoint does."""
    out = TangentDict(t) if isinstance(t, dict) else TangentDict()
    out.pop(key, None)
    return out


def item_get(t, z, key, default=None):
    """Tangent of ``x.get(key, default)`` (a dict, or a dict adjoint) from ``x``'s."""
    g = t.get(key) if t is not None else None
    if g is None:  # the default, or an item without a tangent: zero
        return zero_tangent(z, batch_size(*t.values()) if t else 1)
    return g


@tangent(runtime.list_append)
def list_append(z, lst, item):
    d[z] = tlist_append(d[lst], lst, d[item], item, batch_size(d[lst], d[item]))


def tlist_append(tl, lst, ti, item, batch):
    out = list(tl) if tl is not None else [zero_tangent_of(v, batch) for v in lst]
    out.append(ti if ti is not None else zero_tangent_of(item, batch))
    return out


@tangent(runtime.list_extend)
def list_extend(z, lst, items):
    d[z] = tlist_extend(d[lst], lst, d[items], items, batch_size(d[lst], d[items]))


def tlist_extend(tl, lst, ti, items, batch):
    out = list(tl) if tl is not None else [zero_tangent_of(v, batch) for v in lst]
    out += list(ti) if ti is not None else [zero_tangent_of(v, batch) for v in items]
    return out


# ------------------- the NumPy rules' own helpers, as generated gradients call them --

@tangent(_adj._count, constant=("a", "axis"))
def count(z, a, axis=None):
    """An element count: an integer, no tangent."""


@tangent(_adj._sum_grad, constant=("a",))
def sum_grad(z, dz, a, axis=None, keepdims=False):
    d[z] = tsum_grad(d[dz], a, axis, keepdims)


def tsum_grad(t, a, axis, keepdims):
    """Tangent of ``_sum_grad(dz, a, ...)`` (linear in ``dz``): spread each direction."""
    shape = np.shape(a)
    if not keepdims and len(shape) and t.ndim - 1 < len(shape):
        t = np.expand_dims(t, baxis(axis, a))
    return np.broadcast_to(t, t.shape[:1] + shape)


@tangent(_adj._sigmoid)
def sigmoid(z, t):
    d[z] = d[t] * (z * (1.0 - z))


@tangent(_adj._like, constant=("x",))
def like(z, g, x):
    d[z] = d[g]


@tangent(runtime.make_dict_adjoint, constant=("items",))
def make_dict_adjoint(z, dz, items):
    d[z] = tmake_dict_adjoint(d[dz], items, batch_size(d[dz]))


def tmake_dict_adjoint(t, items, batch):
    """Tangent of ``make_dict_adjoint(dz, items)`` (linear in ``dz``)."""
    out = TangentList([None] * len(items))
    for i in range(1, len(items), 2):
        g = t.get(items[i - 1]) if isinstance(t, dict) else None
        out[i] = g if g is not None else zero_tangent_of(items[i], batch)
    return out


@tangent(runtime.list_head, constant=("n",))
def list_head(z, dseq, n):
    d[z] = TangentList(d[dseq][:n])


@tangent(runtime.list_tail, constant=("n",))
def list_tail(z, dseq, n):
    d[z] = TangentList(d[dseq][n:])


# ------------------------------------------- linear functions, one direction at a time --
#
# A function linear in an argument has that function as its tangent: ``f(t)`` for the
# argument's tangent ``t``.  Without a batched formula, it runs once per direction
# (``linear``); several arguments it is jointly linear in, together (``linear_joint``).

def linear(fn, t, k, *args, **kwargs):
    """``fn(*args)`` with argument ``k`` replaced by each direction of ``t``, stacked."""
    return per_direction(fn, args, k, t, **kwargs)


def linear_joint(fn, tangents, args, **kwargs):
    """``fn`` jointly linear in ``args`` (a sequence, e.g. the arrays ``hstack`` joins):
    applied to each direction of their tangents (zeros where an item has none).  A
    list-valued ``fn`` (``split``) gives a list of batched tangents."""
    batch = batch_size(*tangents)
    ts = [t if t is not None else np.zeros((batch,) + np.shape(a)) for t, a in
          zip(tangents, args)]
    rows = [fn([t[i] for t in ts], **kwargs) for i in range(batch)]
    if rows and isinstance(rows[0], (list, tuple)):
        return [np.stack([r[j] for r in rows]) for j in range(len(rows[0]))]
    return np.stack([np.asarray(r) for r in rows])


def linear_list(fn, t, *args, **kwargs):
    """A function linear in its first argument returning a list (``split``): a list of
    batched tangents."""
    rows = [fn(r, *args, **kwargs) for r in t]
    return [np.stack([r[j] for r in rows]) for j in range(len(rows[0]))]


@tangent(np.moveaxis)
def moveaxis(z, a, source, destination):
    d[z] = np.moveaxis(d[a], baxis(source, a), baxis(destination, a))


@tangent(np.flip, constant=("axis",))
def flip(z, m, axis=None):
    d[z] = np.flip(d[m], baxis(axis, m))


@tangent(np.fliplr)
def fliplr(z, m):
    d[z] = np.flip(d[m], 2)


@tangent(np.flipud)
def flipud(z, m):
    d[z] = np.flip(d[m], 1)


@tangent(np.roll)
def roll(z, a, shift, axis=None):
    d[z] = linear(np.roll, d[a], 0, a, shift, axis)


@tangent(np.triu)
def triu(z, m, k=0):
    d[z] = np.triu(d[m], k)


@tangent(np.tril)
def tril(z, m, k=0):
    d[z] = np.tril(d[m], k)


@tangent(np.rot90)
def rot90(z, m, k=1, axes=(0, 1)):
    d[z] = linear(np.rot90, d[m], 0, m, k, axes)


@tangent(np.rollaxis)
def rollaxis(z, a, axis, start=0):
    d[z] = linear(np.rollaxis, d[a], 0, a, axis, start)


@tangent(np.tile)
def tile(z, A, reps):
    d[z] = linear(np.tile, d[A], 0, A, reps)


@tangent(np.repeat, np.ndarray.repeat)
def repeat(z, a, repeats, axis=None):
    d[z] = linear(np.repeat, d[a], 0, a, repeats, axis)


@tangent(np.pad)
def pad(z, array, pad_width, mode='constant', stat_length=None, constant_values=0,
        end_values=0, reflect_type='even'):
    d[z] = linear(_pad_linear, d[array], 0, array, pad_width, mode, reflect_type)


def _pad_linear(t, pad_width, mode, reflect_type):
    """``np.pad``'s linear part: constants pad with zeros (their tangent)."""
    if mode == "constant":
        return np.pad(t, pad_width)
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        kw = {"reflect_type": reflect_type} if mode in ("reflect", "symmetric") else {}
        return np.pad(t, pad_width, mode=mode, **kw)
    raise NotImplementedError(f"forward mode of np.pad(mode={mode!r})")


@tangent(np.take, np.ndarray.take, constant=("indices",))
def take(z, a, indices, axis=None, out=None, mode='raise'):
    d[z] = linear(np.take, d[a], 0, a, indices, axis, None, mode)


@tangent(np.take_along_axis, constant=("indices",))
def take_along_axis(z, arr, indices, axis=-1):
    d[z] = linear(np.take_along_axis, d[arr], 0, arr, indices, axis)


@tangent(np.compress, constant=("condition",))
def compress(z, condition, a, axis=None, out=None):
    d[z] = linear(np.compress, d[a], 1, condition, a, axis)


@tangent(np.lib.stride_tricks.sliding_window_view,
         constant=("window_shape", "axis", "subok", "writeable"))
def sliding_window_view(z, x, window_shape, axis=None, subok=False, writeable=False):
    d[z] = tgather(d[x], _adj.windows_of(x, window_shape, axis))


@tangent(np.delete, constant=("obj", "axis"))
def delete(z, arr, obj, axis=None):
    d[z] = tgather(d[arr], np.delete(_adj.numbered(arr), obj, axis))


@tangent(np.insert, constant=("obj", "axis"))
def insert(z, arr, obj, values, axis=None):
    d[z] = tgather(d[arr], np.insert(_adj.numbered(arr), obj, -1, axis))
    d[z] = tgather(d[values], np.insert(np.full(np.shape(arr), -1), obj,
                                        _adj.numbered(values), axis))


def tgather(t, places):
    """The tangent of a result whose element at each position is the element of the
    argument ``places`` numbers there (its flat position; -1: from another argument,
    zero here)."""
    flat = np.reshape(t, (t.shape[0], -1))
    return np.where(places >= 0, flat[:, np.maximum(places, 0)], 0.0)


@tangent(np.meshgrid, constant=("copy", "sparse", "indexing"))
def meshgrid(z, *xi, copy=True, sparse=False, indexing='xy'):
    d[z] = tmeshgrid(d[xi], xi, z, indexing)


def tmeshgrid(tangents, xi, z, indexing):
    """Tangent of ``np.meshgrid(*xi)``: each input's tangent laid along its axis and
    broadcast like its output."""
    batch = batch_size(*tangents)
    out = []
    for k, (t, r) in enumerate(zip(tangents, z)):
        if t is None:
            out.append(np.zeros((batch,) + np.shape(r)))
            continue
        shape = [1] * np.ndim(r)
        shape[_adj.meshgrid_axis(k, len(xi), indexing)] = -1
        out.append(np.broadcast_to(np.reshape(t, (batch,) + tuple(shape)),
                                   (batch,) + np.shape(r)).copy())
    return type(z)(out) if isinstance(z, tuple) else out


@tangent(np.unique, constant=("return_index", "return_inverse", "return_counts", "axis"))
def unique(z, ar, return_index=False, return_inverse=False, return_counts=False,
           axis=None, **kwargs):
    d[z] = tunique(d[ar], ar, return_index or return_inverse or return_counts, axis)


def tunique(t, ar, more, axis):
    """Tangent of ``np.unique(ar)``'s values: each first equal element's."""
    return np.reshape(t, (t.shape[0], -1))[:, runtime.unique_firsts(ar, more, axis)]


@tangent(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_1d(z, *arys):
    d[z] = tatleast(d[arys], arys, z)


def tatleast(tangents, arys, z):
    """Tangent of ``np.atleast_Nd(*arys)``: each tangent reshaped like its result (one
    array: the array; several: a list)."""
    if len(arys) == 1:
        return breshape(tangents[0], z)
    batch = batch_size(*tangents)
    return [breshape(t, r) if t is not None else np.zeros((batch,) + np.shape(r))
            for t, r in zip(tangents, z)]


@tangent(np.asanyarray, np.asfortranarray)
def asanyarray(z, a, dtype=None, *args, **kwargs):
    d[z] = tasarray(d[a], a, z)


@tangent(np.float64, np.float32, np.float16, np.longdouble)
def float64(z, value=0):
    d[z] = tasarray(d[value], value, z)


@tangent(np.ndarray.trace)
def ndarray_trace(z, self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[z] = np.trace(d[self], offset, baxis(axis1, self), baxis(axis2, self))


@tangent(np.diagflat)
def diagflat(z, v, k=0):
    d[z] = linear(np.diagflat, d[v], 0, v, k)


@tangent(np.append)
def append(z, arr, values, axis=None):
    d[z] = linear_joint(_append_list, [d[arr], d[values]], [arr, values], axis=axis)


def _append_list(pair, axis=None):
    return np.append(pair[0], pair[1], axis)


@tangent(np.hstack, np.vstack)
def hstack(z, tup, dtype=None, casting='same_kind'):
    d[z] = linear_joint(_stacker(z, tup), d[tup], tup)


@tangent(np.column_stack, np.dstack)
def column_stack(z, tup):
    d[z] = linear_joint(_stacker(z, tup), d[tup], tup)


def _stacker(z, tup):
    """The stacking function that made ``z`` from ``tup`` (by the result's shape)."""
    for fn in (np.hstack, np.vstack, np.column_stack, np.dstack):
        try:
            if np.shape(fn(list(tup))) == np.shape(z) and np.array_equal(fn(list(tup)), z):
                return fn
        except ValueError:
            continue
    raise NotImplementedError("forward mode of this stacking call")


@tangent(np.split, np.array_split)
def split(z, ary, indices_or_sections, axis=0):
    d[z] = linear_list(_split_like(z), d[ary], indices_or_sections, axis)


def _split_like(z):
    return np.split if all(np.shape(p) == np.shape(z[0]) for p in z) else np.array_split


@tangent(np.hsplit, np.vsplit, np.dsplit)
def hsplit(z, ary, indices_or_sections):
    d[z] = linear_list(_nsplit(ary, z), d[ary], indices_or_sections)


def _nsplit(ary, z):
    """``np.hsplit``/``vsplit``/``dsplit``, whichever made the pieces ``z`` of ``ary``."""
    nd = np.ndim(ary)
    if len(z) > 1 and nd >= 2 and np.shape(z[0])[0] != np.shape(ary)[0]:
        return np.vsplit
    if nd >= 3 and np.shape(z[0])[2] != np.shape(ary)[2]:
        return np.dsplit
    return np.hsplit


@tangent(np.diff)
def diff(z, a, n=1, axis=-1, prepend=None, append=None):
    d[z] = linear_joint(_diff_joint, [d[a], d[prepend], d[append]],
                        [a, 0.0 if prepend is None else prepend,
                         0.0 if append is None else append],
                        n=n, axis=axis, has=(prepend is not None, append is not None))


def _diff_joint(parts, n=1, axis=-1, has=(False, False)):
    kw = {}
    if has[0]:
        kw["prepend"] = parts[1]
    if has[1]:
        kw["append"] = parts[2]
    return np.diff(parts[0], n, axis, **kw)


@tangent(np.kron)
def kron(z, a, b):
    d[z] = linear(np.kron, d[a], 0, a, b)
    d[z] = linear(np.kron, d[b], 1, a, b)


@tangent(np.cross)
def cross(z, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[z] = linear(np.cross, d[a], 0, a, b, axisa, axisb, axisc, axis)
    d[z] = linear(np.cross, d[b], 1, a, b, axisa, axisb, axisc, axis)


@tangent(np.vdot)
def vdot(z, a, b):
    d[z] = linear(np.vdot, d[a], 0, a, b)
    d[z] = linear(np.vdot, d[b], 1, a, b)


@tangent(np.multiply.outer)
def multiply_outer(z, A, B):
    d[z] = linear(np.multiply.outer, d[A], 0, A, B)
    d[z] = linear(np.multiply.outer, d[B], 1, A, B)


@tangent(np.einsum)
def einsum(z, *operands, out=None, optimize=False, dtype=None, order='K', casting='safe'):
    d[z] = teinsum(d[operands], operands)


def teinsum(tangents, operands):
    """Tangent of ``np.einsum(*operands)``, multilinear in its array operands: the
    sum over operands carrying a tangent of the call with that operand replaced."""
    total = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        part = per_direction(np.einsum, operands, k, t)
        total = part if total is None else total + part
    return total


@tangent(np.linalg.multi_dot)
def multi_dot(z, arrays, *, out=None):
    d[z] = tmulti_dot(d[arrays], arrays)


def tmulti_dot(tangents, arrays):
    total = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        part = per_direction(_multi_dot_list, (list(arrays), k), None, t) \
            if False else np.stack([np.linalg.multi_dot(list(arrays[:k]) + [r] +
                                                        list(arrays[k + 1:])) for r in t])
        total = part if total is None else total + part
    return total


def _multi_dot_list(arrays, k):
    return np.linalg.multi_dot(arrays)


@tangent(np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft)
def fft_fft(z, a, n=None, axis=-1, norm=None, out=None):
    d[z] = _tfft(z, d[a], a, n, axis, norm)


@tangent(np.fft.fft2, np.fft.fftn, np.fft.ifft2, np.fft.ifftn, np.fft.rfft2, np.fft.rfftn,
         np.fft.irfft2, np.fft.irfftn)
def fft_fftn(z, a, s=None, axes=None, norm=None, out=None):
    d[z] = _tfftn(z, d[a], a, s, axes, norm)


def _which_fft(z, a, kw, names):
    for name in names:
        fn = getattr(np.fft, name)
        try:
            got = fn(a, **kw)
        except (ValueError, TypeError):
            continue
        if np.shape(got) == np.shape(z) and np.allclose(got, z):
            return fn
    raise NotImplementedError("forward mode of this np.fft call")


def _tfft(z, t, a, n, axis, norm):
    fn = _which_fft(z, a, dict(n=n, axis=axis, norm=norm), ("fft", "ifft", "rfft", "irfft"))
    if fn in (np.fft.rfft, np.fft.irfft) and np.iscomplexobj(t) and fn is np.fft.rfft:
        raise NotImplementedError("forward mode of rfft of a complex tangent")
    return fn(t, n=n, axis=baxis(axis, a), norm=norm)


def _tfftn(z, t, a, s, axes, norm):
    fn = _which_fft(z, a, dict(s=s, axes=axes, norm=norm),
                    ("fft2", "fftn", "ifft2", "ifftn", "rfft2", "rfftn", "irfft2", "irfftn"))
    if axes is None:
        axes = tuple(range(np.ndim(a))) if s is None else tuple(range(-len(s), 0))
        if fn in (np.fft.fft2, np.fft.ifft2, np.fft.rfft2, np.fft.irfft2):
            axes = (-2, -1)
    return fn(t, s=s, axes=baxis(axes, a), norm=norm)


@tangent(np.fft.fftshift, np.fft.ifftshift)
def fftshift(z, x, axes=None):
    d[z] = linear(_shift_like(z, x, axes), d[x], 0, x, axes)


def _shift_like(z, x, axes):
    return np.fft.fftshift if np.array_equal(np.fft.fftshift(x, axes), z) \
        else np.fft.ifftshift


@tangent(np.real, np.real_if_close)
def real(z, val, *args):
    d[z] = np.real(d[val])


@tangent(np.imag)
def imag(z, val):
    d[z] = np.imag(d[val])


@tangent(np.ndarray.real)
def ndarray_real(z, self):
    d[z] = np.real(d[self])


@tangent(np.ndarray.imag)
def ndarray_imag(z, self):
    d[z] = np.imag(d[self])


@tangent(np.ndarray.conj, np.ndarray.conjugate)
def ndarray_conj(z, self):
    d[z] = np.conj(d[self])


if hasattr(np.ndarray, "mT"):   # NumPy >= 2
    @tangent(np.ndarray.mT, np.matrix_transpose, np.linalg.matrix_transpose)
    def matrix_transpose(z, x):
        d[z] = np.swapaxes(d[x], -1, -2)


@tangent(np.nan_to_num)
def nan_to_num(z, x, copy=True, nan=0.0, posinf=None, neginf=None):
    d[z] = np.where(np.isfinite(x), d[x], 0.0)


@tangent(np.full, constant=("shape",))
def full(z, shape, fill_value, dtype=None, order='C', *, device=None, like=None):
    d[z] = lift(d[fill_value], z)


@tangent(np.full_like, constant=("a",))
def full_like(z, a, fill_value, dtype=None, order='K', subok=True, shape=None, *,
              device=None):
    d[z] = lift(d[fill_value], z)


@tangent(np.linspace)
def linspace(z, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    d[z] = linear_joint(_linspace_pair, [d[start], d[stop]], [start, stop], num=num,
                        endpoint=endpoint, retstep=retstep, axis=axis)


def _linspace_pair(pair, num=50, endpoint=True, retstep=False, axis=0):
    return np.linspace(pair[0], pair[1], num, endpoint, retstep, axis=axis)


# ----------------------------------------------- more elementwise and reductions --

diagonal_tangent(np.sinc, np.ndarray.__abs__, np.ndarray.round)


@tangent(np.logaddexp2)
def logaddexp2(z, x1, x2):
    d[z] = lift(d[x1], z) * np.exp2(x1 - z)
    d[z] = lift(d[x2], z) * np.exp2(x2 - z)


@tangent(np.fmod)
def fmod(z, x1, x2):
    d[z] = lift(d[x1], z)
    d[z] = -lift(d[x2], z) * np.trunc(x1 / x2)


@tangent(np.heaviside)
def heaviside(z, x1, x2):
    d[z] = 0.0 * lift(d[x1], z)
    d[z] = lift(d[x2], z) * np.equal(x1, 0)


@tangent(np.copysign)
def copysign(z, x1, x2):
    d[z] = lift(d[x1], z) * np.sign(x1) * np.where(np.signbit(x2), -1.0, 1.0)
    d[z] = 0.0 * lift(d[x2], z)


@tangent(np.ndarray.prod)
def ndarray_prod(z, self, axis=None, dtype=None, out=None, keepdims=False, initial=None):
    d[z] = per_direction(_prod_linear, (d[self], self, axis, keepdims), 0, d[self])


@tangent(np.nansum)
def nansum(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[z] = np.sum(np.where(np.isnan(a), 0.0, d[a]), axis=baxis(axis, a), keepdims=keepdims)


@tangent(np.nanmean)
def nanmean(z, a, axis=None, dtype=None, out=None, keepdims=False):
    d[z] = np.sum(np.where(np.isnan(a), 0.0, d[a]), axis=baxis(axis, a),
                  keepdims=keepdims) / np.sum(~np.isnan(a), axis=axis, keepdims=keepdims)


@tangent(np.sort)
def sort(z, a, axis=-1, kind=None, order=None, stable=None):
    d[z] = tsort(d[a], a, axis)


def tsort(t, a, axis):
    """Tangent of ``np.sort``: each direction's entries moved as the values were."""
    if axis is None:
        order = np.argsort(np.ravel(a), kind="stable")
        return t.reshape(t.shape[0], -1)[:, order]
    order = np.argsort(a, axis=axis, kind="stable")
    return np.take_along_axis(t, order[None], axis=baxis(axis, a))


@tangent(np.nanmax, np.nanmin)
def nanmax(z, a, axis=None, out=None, keepdims=False, initial=None, where=None):
    d[z] = tminmax(d[a], z, a, axis, keepdims)


@tangent(np.average)
def average(z, a, axis=None, weights=None, returned=False, *, keepdims=False):
    d[z] = taverage(d[a], None, z, a, axis, weights, keepdims)
    d[z] = taverage(None, d[weights], z, a, axis, weights, keepdims)


def taverage(ta, tw, z, a, axis, weights, keepdims):
    """Tangent of ``np.average`` along ``a``'s (ta) or the weights' (tw) tangent."""
    if isinstance(z, tuple):
        raise NotImplementedError("forward mode of np.average(returned=True)")
    w = np.ones_like(np.asarray(a, dtype=float)) if weights is None else np.asarray(weights)
    if w.shape != np.shape(a):  # 1-D weights along axis
        shape = [1] * np.ndim(a)
        shape[axis] = -1
        w = w.reshape(shape)
        if tw is not None:
            tw = tw.reshape((tw.shape[0],) + tuple(shape))
    w = np.broadcast_to(w, np.shape(a))
    wsum = np.sum(w, axis=axis, keepdims=True)
    ax = baxis(axis, a)
    if ta is not None:
        return np.sum(ta * w, axis=ax, keepdims=keepdims) / (wsum if keepdims else
                                                             np.squeeze(wsum, axis))
    zk = np.sum(a * w, axis=axis, keepdims=True) / wsum
    out = np.sum(tw * (a - zk), axis=ax, keepdims=True) / wsum
    return out if keepdims else np.squeeze(out, ax if axis is not None else None) \
        if axis is not None else out.reshape(out.shape[0])


# --------------------------------------------------------------- linear algebra --

@tangent(np.linalg.slogdet)
def linalg_slogdet(z, a):
    d[z] = tslogdet(d[a], a, z)


def tslogdet(t, a, z):
    """Tangent of ``(sign, logabsdet)``: ``(0, trace(a^-1 t))`` for real ``a``."""
    logdet = np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)
    return [np.zeros_like(logdet), logdet]


@tangent(np.linalg.lstsq, constant=("rcond",))
def linalg_lstsq(z, a, b, rcond=None):
    d[z] = tlstsq(d[a], None, a, b, z)
    d[z] = tlstsq(None, d[b], a, b, z)


def tlstsq(ta, tb, a, b, z):
    """Tangent of ``(x, residuals, rank, sv) = lstsq(a, b)`` along ``a`` (``ta``) or
    ``b`` (``tb``), ``a`` of full column rank: ``tx = (a.T a)^-1 (ta.T r + a.T tb -
    a.T ta x)``, ``tres = 2 r . (tb - ta x)``, ``tsv = diag(U.T ta V)``."""
    A = np.asarray(a)
    if z[2] < A.shape[1]:
        raise NotImplementedError("forward mode of np.linalg.lstsq of a matrix without "
                                  "full column rank")
    vector = np.ndim(b) == 1
    X = z[0][:, None] if vector else z[0]
    R = (np.asarray(b)[:, None] if vector else np.asarray(b)) - A @ X
    if ta is not None:
        tax = ta @ X
        rhs = np.swapaxes(ta, -1, -2) @ R - A.T @ tax
        tres = -2.0 * np.sum(R * tax, axis=-2)
        U, _, Vt = np.linalg.svd(A, full_matrices=False)
        tsv = np.einsum("ji,njk,ik->ni", U, ta, Vt)
    else:
        tbm = tb[..., None] if vector else tb
        rhs = A.T @ tbm
        tres = 2.0 * np.sum(R * tbm, axis=-2)
        tsv = np.zeros((len(tb),) + np.shape(z[3]))
    tx = np.linalg.solve(A.T @ A, rhs)
    if np.size(z[1]) == 0:
        tres = np.zeros((len(tx),) + np.shape(z[1]))
    return TangentList([tx[..., 0] if vector else tx, tres, None, tsv])


@tangent(np.linalg.cholesky)
def linalg_cholesky(z, a, upper=False):
    d[z] = tcholesky(d[a], z, upper)


def tcholesky(t, L, upper=False):
    """Tangent of the Cholesky factor: ``L phi(L^-1 t L^-T)``, ``phi`` the lower
    triangle with its diagonal halved (only the lower triangle of ``a`` is read)."""
    if upper:
        L = np.swapaxes(L, -1, -2)
        t = np.swapaxes(t, -1, -2)
    t = np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)  # the symmetric matrix read
    inv = np.linalg.inv(L)
    m = inv @ t @ np.swapaxes(inv, -1, -2)
    phi = np.tril(m, -1) + 0.5 * (m * np.eye(m.shape[-1]))
    out = L @ phi
    return np.swapaxes(out, -1, -2) if upper else out


@tangent(np.linalg.eigh)
def linalg_eigh(z, a, UPLO='L'):
    d[z] = teigh(d[a], z, UPLO)


def teigh(t, wv, UPLO='L'):
    """Tangent of ``(w, v) = eigh(a)`` (distinct eigenvalues): ``dw = diag(v^T t v)``,
    ``dv = v (F * (v^T t v))`` with ``F_ij = 1 / (w_j - w_i)`` off the diagonal."""
    w, v = wv
    t = np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2) if UPLO == 'L' else \
        np.triu(t) + np.swapaxes(np.triu(t, 1), -1, -2)
    m = np.swapaxes(v, -1, -2) @ t @ v
    dw = np.diagonal(m, axis1=-2, axis2=-1)
    gap = w[..., None, :] - w[..., :, None]
    with np.errstate(divide="ignore"):
        f = np.where(np.eye(w.shape[-1], dtype=bool), 0.0, 1.0 / np.where(gap == 0, 1, gap))
    dv = v @ (f * m)
    return [dw, dv]


@tangent(np.linalg.eigvalsh)
def linalg_eigvalsh(z, a, UPLO='L'):
    d[z] = teigh(d[a], np.linalg.eigh(a, UPLO), UPLO)[0]


@tangent(np.linalg.cond, constant=("p",))
def linalg_cond(z, x, p=None):
    d[z] = tcond(d[x], x, p)


def tcond(t, x, p):
    """Tangent of ``cond = s_i / s_j``: ``(u_i.T t v_i) / s_j - s_i / s_j**2
    (u_j.T t v_j)`` for each direction."""
    U, s, Vt, i, j = _linalg_rules._cond_extremes(x, p)
    ds = lambda k: np.einsum("...a,n...ab,...b->n...", U[..., :, k], t, Vt[..., k, :])  # noqa: E731
    return ds(i) / s[..., j] - s[..., i] / s[..., j] ** 2 * ds(j)


@tangent(np.linalg.norm)
def linalg_norm(z, x, ord=None, axis=None, keepdims=False):
    d[z] = tnorm(d[x], z, x, ord, axis, keepdims)


def tnorm(t, z, x, ord, axis, keepdims):
    """Tangent of the 2-norm / Frobenius norm (``ord`` None, 2 on vectors, 'fro'):
    ``sum(x t) / z`` over the reduced axes; other orders are refused."""
    vector = axis is None and np.ndim(x) == 1 or isinstance(axis, int)
    if not (ord is None or ord == "fro" or (ord == 2 and vector)):
        raise NotImplementedError(f"forward mode of np.linalg.norm(ord={ord!r})")
    num = np.sum(x * t, axis=baxis(axis, x), keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(z == 0, 0.0, num / np.where(z == 0, 1.0, z))


@tangent(np.polyval)
def polyval(z, p, x):
    d[z] = linear(np.polyval, d[p], 0, p, x)
    d[z] = lift(d[x], z) * np.polyval(np.polyder(p), x)


@tangent(np.interp)
def interp(z, x, xp, fp, left=None, right=None, period=None):
    d[z] = tinterp(d[x], x, xp, fp, left, right, period, 0)
    d[z] = tinterp(d[xp], x, xp, fp, left, right, period, 1)
    d[z] = tinterp(d[fp], x, xp, fp, left, right, period, 2)
    d[z] = tinterp(d[left], x, xp, fp, left, right, period, 3)
    d[z] = tinterp(d[right], x, xp, fp, left, right, period, 4)


def tinterp(t, x, xp, fp, left, right, period, which):
    """Tangent of ``np.interp`` along ``x`` (0), ``xp`` (1), ``fp`` (2), ``left`` (3)
    or ``right`` (4): the adjoint rule's partial derivatives, batched."""
    i, below, above, slope, s = _adj._interp_parts(x, xp, fp, period)
    t = np.asarray(t)
    if which == 0:
        return t * slope
    if which == 3 or which == 4:
        return t.reshape(t.shape + (1,) * np.ndim(x)) * (below if which == 3 else above)
    nxt = np.minimum(i + 1, np.size(xp) - 1)
    ti, tn = t[:, i], t[:, nxt]
    if which == 1:
        return ti * slope * (s - 1.0) - tn * slope * s
    inside = ~(below | above)
    out = np.where(inside, ti * (1.0 - s) + tn * s, 0.0)
    if left is None:
        out = out + t[:, :1].reshape((-1,) + (1,) * np.ndim(x)) * below
    if right is None:
        out = out + t[:, -1:].reshape((-1,) + (1,) * np.ndim(x)) * above
    return out


@tangent(np.convolve)
def convolve(z, a, v, mode="full"):
    d[z] = linear(np.convolve, d[a], 0, a, v, mode)
    d[z] = linear(np.convolve, d[v], 1, a, v, mode)


@tangent(np.correlate)
def correlate(z, a, v, mode="valid"):
    d[z] = linear(np.correlate, d[a], 0, a, v, mode)
    d[z] = linear(np.correlate, d[v], 1, a, v, mode)


@tangent(*_adj.TRAPEZOIDS)   # linear in y, in the sample points x and in dx
def trapezoid(z, y, x=None, dx=1.0, axis=-1):
    d[z] = linear(_adj.TRAPEZOIDS[0], d[y], 0, y, x, dx, axis)
    d[z] = linear(_adj.TRAPEZOIDS[0], d[x], 1, y, x, dx, axis)
    d[z] = ttrapezoid_dx(d[dx], y, x, dx, axis)


def ttrapezoid_dx(t, y, x, dx, axis):
    """Tangent of ``trapezoid`` along ``dx``: none where sample points ``x`` are given."""
    if x is not None:
        return np.zeros((len(t),) + np.shape(_adj.TRAPEZOIDS[0](y, axis=axis)))
    return linear(_adj.TRAPEZOIDS[0], t, 2, y, x, dx, axis)


@tangent(np.ndarray.tolist)
def ndarray_tolist(z, self):
    d[z] = ttolist(d[self])


def ttolist(t):
    """Tangent of ``a.tolist()``: the same nested lists, each number's tangent its
    batch of directions."""
    t = np.asarray(t)
    if t.ndim == 1:  # a number
        return t
    return TangentList(ttolist(t[:, i]) for i in range(t.shape[1]))


@tangent(np.resize, constant=("new_shape",))
def resize(z, a, new_shape):
    d[z] = tresize(d[a], z)


def tresize(t, z):
    """Tangent of ``np.resize(a, shape)``: each direction resized alike."""
    return np.stack([np.resize(r, np.shape(z)) for r in t])


@tangent(np.block)
def block(z, arrays):
    d[z] = tblock(d[arrays], arrays)


def tblock(t, arrays):
    """Tangent of ``np.block`` (jointly linear in its leaves): each direction's
    leaves assembled alike, zeros for leaves without a tangent."""
    leaves = _adj._block_leaves(arrays)
    tleaves = _adj._block_leaves(t) if isinstance(t, list) else [t] * len(leaves)

    def rebuild(items, like):
        it = iter(items)

        def walk(node):
            return [walk(c) for c in node] if isinstance(node, list) else next(it)
        return walk(like)
    return linear_joint(lambda ls: np.block(rebuild(ls, arrays)), tleaves, leaves)


@tangent(np.vander, constant=("N", "increasing"))
def vander(z, x, N=None, increasing=False):
    d[z] = d[x][..., None] * _adj._vander_slope(x, N, increasing)


@tangent(np.cov, constant=("rowvar", "bias", "ddof", "fweights", "aweights", "dtype"))
def cov(z, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None,
        *, dtype=None):
    d[z] = tcov(d[m], None, m, y, rowvar, bias, ddof, fweights, aweights)
    d[z] = tcov(None, d[y], m, y, rowvar, bias, ddof, fweights, aweights)


def tcov(tm, ty, m, y, rowvar, bias, ddof, fweights, aweights):
    """Tangent of ``np.cov`` (no weights): ``(T Xc.T + Xc T.T) / (N - ddof)``, ``T``
    the centered tangent of the variables (``m``'s rows, then ``y``'s)."""
    Xc, div, rows = _adj._cov_variables(m, y, rowvar, bias, ddof, fweights, aweights)
    t, other = (tm, m) if tm is not None else (ty, y)
    t = np.asarray(t, dtype=float)
    t = t.reshape((len(t),) + np.atleast_2d(np.asarray(other)).shape) if t.ndim < 3 else t
    if not rowvar and np.ndim(other) == 2 and np.shape(other)[0] != 1:
        t = np.swapaxes(t, -1, -2)
    T = np.zeros((len(t),) + Xc.shape)
    if tm is not None:
        T[:, :rows] = t
    else:
        T[:, rows:] = t
    T = T - T.mean(axis=-1, keepdims=True)
    out = (T @ Xc.T + Xc @ np.swapaxes(T, -1, -2)) / div
    return out.reshape((len(t),) + np.shape(np.cov(m, y, rowvar, bias, ddof)))


@tangent(np.linalg.matrix_power, constant=("n",))
def matrix_power(z, a, n):
    d[z] = tmatrix_power(d[a], a, n)


def tmatrix_power(t, a, n):
    """Tangent of ``a**n``: ``sum_k a^k t a^(n-1-k)`` (``n < 0`` through the inverse)."""
    if n < 0:
        inv = np.linalg.inv(a)
        return tmatrix_power(-(inv @ t @ inv), inv, -n)
    total = np.zeros_like(t)
    for k in range(n):
        total = total + np.linalg.matrix_power(a, k) @ t @ np.linalg.matrix_power(a, n - 1 - k)
    return total


# ----------------------------------------------------------- builtins and math --

@tangent(math.atan2)
def math_atan2(z, y, x):
    d[z] = d[y] * x / (x * x + y * y)
    d[z] = -d[x] * y / (x * x + y * y)


@tangent(math.hypot)
def math_hypot(z, *coordinates):
    d[z] = thypot(d[coordinates], coordinates, z)


def thypot(tangents, coordinates, z):
    total = None
    for t, c in zip(tangents, coordinates):
        if t is None:
            continue
        part = t * c / z if z else 0.0 * t
        total = part if total is None else total + part
    return total


@tangent(builtins.divmod)
def divmod_(z, a, b):
    d[z] = tdivmod(d[a], d[b], a, b, z)


def tdivmod(ta, tb, a, b, z):
    """Tangent of ``(q, r) = divmod(a, b)``: ``q`` piecewise constant, ``r = a - b q``."""
    t = 0.0
    if ta is not None:
        t = t + ta
    if tb is not None:
        t = t - tb * z[0]
    return [0.0 * t, t]


@tangent(runtime.zero_item, constant=("index",))
def zero_item(z, dy, index):
    d[z] = tzero_item(d[dy], index)


def tzero_item(t, index):
    """Tangent of ``zero_item(dy, index)``: ``t`` with the item's tangent zero (a list's
    or a dict's adjoint: without one, as the adjoint has none)."""
    if isinstance(t, (list, tuple)):
        out = TangentList(t)
        out[index] = None
        return out
    if isinstance(t, dict):
        out = TangentDict(t)
        out.pop(index, None)
        return out
    out = np.array(t, copy=True)
    rest = index if isinstance(index, tuple) else (index,)
    out[(slice(None),) + rest] = 0
    return out


# ------------------------------------------------------------------ and the rest --

@tangent(np.cumprod)
def cumprod(z, a, axis=None, dtype=None, out=None):
    d[z] = tcumprod(d[a], z, a, axis)


@tangent(np.ndarray.cumprod)
def ndarray_cumprod(z, self, axis=None, dtype=None, out=None):
    d[z] = tcumprod(d[self], z, self, axis)


def tcumprod(t, z, a, axis):
    """Tangent of ``cumprod`` by its recurrence ``z_k = z_(k-1) a_k`` (exact at zeros):
    ``t_z,k = t_z,(k-1) a_k + z_(k-1) t_k``, a loop along the axis."""
    if axis is None:
        t, a, z, axis = t.reshape(t.shape[0], -1), np.ravel(a), np.ravel(z), 0
    ax = baxis(axis, a)
    tm, am, zm = np.moveaxis(t, ax, 1), np.moveaxis(np.asarray(a, float), axis, 0), \
        np.moveaxis(np.asarray(z), axis, 0)
    out = np.empty(tm.shape, np.result_type(tm, am))
    out[:, 0] = tm[:, 0]
    for k in range(1, am.shape[0]):
        out[:, k] = out[:, k - 1] * am[k] + zm[k - 1] * tm[:, k]
    return np.moveaxis(out, 1, ax)


@tangent(np.ndarray.item)
def ndarray_item(z, self, *args):
    d[z] = titem_method(d[self], self, args)


def titem_method(t, a, args):
    """Tangent of ``a.item(*args)``: that element of each direction."""
    flat = t.reshape(t.shape[0], -1)
    if not args:
        return flat[:, 0]
    if len(args) == 1 and np.ndim(args[0]) == 0:
        return flat[:, args[0]]
    index = tuple(args[0]) if len(args) == 1 else tuple(args)
    return t[(slice(None),) + index]


@tangent(np.ptp)
def ptp(z, a, axis=None, out=None, keepdims=False):
    d[z] = tminmax(d[a], np.max(a, axis=axis, keepdims=keepdims), a, axis, keepdims) - \
        tminmax(d[a], np.min(a, axis=axis, keepdims=keepdims), a, axis, keepdims)


@tangent(np.quantile, constant=("axis", "method", "keepdims", "weights"))
def quantile(z, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    d[z] = tquantile(d[a], None, a, q, axis, keepdims, method, weights, 1.0)
    d[z] = tquantile(None, d[q], a, q, axis, keepdims, method, weights, 1.0)


@tangent(np.percentile, constant=("axis", "method", "keepdims", "weights"))
def percentile(z, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    d[z] = tquantile(d[a], None, a, q, axis, keepdims, method, weights, 100.0)
    d[z] = tquantile(None, d[q], a, q, axis, keepdims, method, weights, 100.0)


def tquantile(ta, tq, a, q, axis, keepdims, method, weights, scale):
    """Tangent of ``np.quantile``/``np.percentile`` along ``a`` (``ta``: the same
    sorted entries of each direction, weighted alike) or ``q`` (``tq``)."""
    perm, lead, flat, order, lo, hi, frac, qs = _adj._quantile_parts(
        a, q, axis, method, weights, scale)
    nd, n = np.ndim(a), flat.shape[-1]
    reduced = _adj._axes(axis, nd)

    def shaped(v):  # (q..., lead...) as np.quantile shapes its result
        v = v.reshape(qs.shape + tuple(lead))
        if keepdims:
            v = np.expand_dims(v, tuple(qs.ndim + i for i in reduced))
        return v
    if ta is not None:
        rows = []
        for r in ta:
            rs = np.take_along_axis(np.transpose(np.asarray(r), perm).reshape(
                lead + [-1]), order, axis=-1)
            rows.append(shaped(np.stack([(1.0 - f) * rs[..., lo_] + f * rs[..., hi_]
                                         for lo_, hi_, f in zip(lo.ravel(), hi.ravel(),
                                                                frac.ravel())])))
        return np.stack(rows)
    s = np.take_along_axis(flat, order, axis=-1)
    slope = shaped(np.stack([(s[..., above] - s[..., below]) * (n - 1) / scale
                             for below, above in zip(lo.ravel(), hi.ravel())]))
    if isinstance(tq, (list, tuple)):  # q a list: one batch of directions per item
        nb = next(len(t) for t in tq if t is not None)
        tq = np.stack([np.zeros(nb) if t is None else np.asarray(t) for t in tq], axis=1)
    tq = np.asarray(tq)
    return tq.reshape(tq.shape + (1,) * (slope.ndim - qs.ndim)) * slope


@tangent(np.median)
def median(z, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[z] = tmedian(d[a], a, axis, keepdims)


def tmedian(t, a, axis, keepdims):
    """Tangent of ``np.median``: the mean of the middle sorted entries' tangents."""
    if isinstance(axis, (tuple, list)):  # several axes: moved last, as one
        nd = np.ndim(a)
        axes = tuple(int(i) % nd for i in axis)
        dest = tuple(range(nd - len(axes), nd))
        a2 = np.moveaxis(np.asarray(a), axes, dest)
        a2 = a2.reshape(a2.shape[:nd - len(axes)] + (-1,))
        t2 = np.moveaxis(t, tuple(i + 1 for i in axes), tuple(i + 1 for i in dest))
        t2 = t2.reshape(t2.shape[:1 + nd - len(axes)] + (-1,))
        out = tmedian(t2, a2, -1, False)
        return np.expand_dims(out, tuple(i + 1 for i in sorted(axes))) if keepdims else out
    if axis is None:
        ts = tsort(t, a, None)
        n = ts.shape[1]
        out = 0.5 * (ts[:, (n - 1) // 2] + ts[:, n // 2])
        return out.reshape((t.shape[0],) + (1,) * np.ndim(a)) if keepdims else out
    ts = tsort(t, a, axis)
    ax = baxis(axis, a)
    n = ts.shape[ax]
    out = 0.5 * (np.take(ts, (n - 1) // 2, axis=ax) + np.take(ts, n // 2, axis=ax))
    return np.expand_dims(out, ax) if keepdims else out


if hasattr(np.linalg, "vector_norm"):   # NumPy >= 2
    @tangent(np.linalg.vector_norm)
    def linalg_vector_norm(z, x, *, axis=None, keepdims=False, ord=2):
        d[z] = tnorm(d[x], z, x, None if ord == 2 else ord, axis, keepdims)

    @tangent(np.linalg.matrix_norm)
    def linalg_matrix_norm(z, x, *, keepdims=False, ord='fro'):
        d[z] = tnorm(d[x], z, x, ord, (-2, -1), keepdims)


@tangent(np.logspace)
def logspace(z, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[z] = z * np.log(base) * linear_joint(_linspace_pair, [d[start], d[stop]],
                                           [start, stop], num=num, endpoint=endpoint,
                                           axis=axis)
    d[z] = lift(d[base], z) * np.linspace(start, stop, num, endpoint, axis=axis) * z / base


@tangent(np.arange, constant=("stop", "dtype"))
def arange(z, start_or_stop, stop=None, step=None, dtype=None, *, device=None, like=None):
    d[z] = tarange(d[start_or_stop], None, z, stop)
    d[z] = tarange(None, d[step], z, stop)


def tarange(tstart, tstep, z, stop):
    """Tangent of ``np.arange(start, stop, step) = start + step * k``: the count of
    elements is piecewise constant; ``arange(stop)`` does not depend on ``stop``."""
    k = np.arange(np.size(z), dtype=float)
    if tstart is not None:
        return np.zeros((tstart.shape[0], np.size(z))) if stop is None else \
            tstart[:, None] * np.ones(np.size(z))
    return tstep[:, None] * k


@tangent(np.gradient)
def gradient(z, f, *varargs, axis=None, edge_order=1):
    d[z] = tgradient(d[f], f, varargs, axis, edge_order)


def tgradient(t, f, varargs, axis, edge_order):
    """``np.gradient`` is linear in ``f`` (spacings held constant): one direction at a
    time (a list of batched tangents when it returns one array per axis)."""
    rows = [np.gradient(r, *varargs, axis=axis, edge_order=edge_order) for r in t]
    if isinstance(rows[0], (list, tuple)):
        return [np.stack([r[j] for r in rows]) for j in range(len(rows[0]))]
    return np.stack(rows)


@tangent(builtins.sorted, constant=("key", "reverse"))
def sorted_(z, iterable, key=None, reverse=False):
    d[z] = tsorted(d[iterable], iterable, key, reverse)


def tsorted(t, items, key=None, reverse=False):
    """Tangent of ``sorted(items)``: the items' tangents in the sorted order."""
    items = list(items)
    order = sorted(range(len(items)), key=(lambda i: key(items[i])) if key else
                   (lambda i: items[i]), reverse=reverse)
    if isinstance(t, np.ndarray):  # an array's rows: their tangents are t[:, i]
        return [t[:, i] for i in order]
    return [t[i] for i in order]


@tangent(builtins.list, builtins.tuple)
def list_(z, iterable=()):
    d[z] = tlist(d[iterable], iterable)


def tlist(t, items):
    """Tangent of ``list(items)`` / ``tuple(items)``: the items' tangents (an array's
    rows: ``t[:, i]``; a dict's keys: none)."""
    if isinstance(items, np.ndarray):
        return [t[:, i] for i in range(len(items))]
    if isinstance(items, dict):
        return [None] * len(items)
    return list(t)


# ------------------- the runtime helpers generated gradients call (forward over reverse) --

@tangent(runtime.broadcast_like, constant=("x",))
def broadcast_like(z, g, x):
    d[z] = lift(d[g], z)


@tangent(runtime.indexed_adjoint, constant=("index", "like"))
def indexed_adjoint(z, dx, index, like):
    d[z] = tindexed(d[dx], dx, index, z, batch_size(d[dx]))


def tindexed(t, dx, index, z, batch):
    """Tangent of ``indexed_adjoint(dx, index, like)`` (``dx[index]``, zero when the
    item is absent)."""
    if isinstance(dx, np.ndarray):
        return bindex(t, z, index)
    g = None
    if t is not None:
        g = t.get(index) if isinstance(t, dict) else t[index]
    return g if g is not None else zero_tangent(z, batch or 1)


@tangent(runtime.concat)
def concat(z, a, b):
    d[z] = tconcat(d[a], d[b], a, b, batch_size(d[a], d[b]))


def tconcat(ta, tb, a, b, batch):
    """Tangent of ``a + b`` of two lists or tuples: the items' tangents, in order."""
    left = list(ta) if ta is not None else [zero_tangent_of(v, batch) for v in a]
    right = list(tb) if tb is not None else [zero_tangent_of(v, batch) for v in b]
    return left + right


@tangent(runtime.maybe_concat)
def maybe_concat(z, a, b):
    d[z] = tmaybe_concat(d[a], d[b], a, b, z, batch_size(d[a], d[b]))


def tmaybe_concat(ta, tb, a, b, z, batch):
    """Tangent of ``a + b``, two sequences concatenated or two arrays added."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return tconcat(ta, tb, a, b, batch)
    parts = [lift(t, z) for t in (ta, tb) if t is not None]
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


@tangent(runtime.repeat, constant=("n",))
def sequence_repeat(z, seq, n):
    d[z] = trepeat(d[seq], seq, n, z)


def trepeat(t, seq, n, z):
    """Tangent of ``seq * n``: the items' tangents repeated (``n`` an int), or scaled
    (NumPy multiplied by an array ``n``)."""
    if isinstance(seq, (list, tuple)) and isinstance(n, (int, np.integer)) \
            and not isinstance(n, bool):
        return list(t) * n
    return lift(t, z) * n


@tangent(runtime.index_concat, constant=("concat",))
def index_concat(z, concat, *items):
    d[z] = tindex_concat(d[items], concat, items)


def tindex_concat(titems, concat, items):
    """Tangent of ``np.r_[items]`` (linear in its float items): each direction placed
    as the items are, minus the same with those items zero (the integer ranges and
    other constants cancel exactly)."""
    batch = batch_size(*[t for t in titems if t is not None])
    base = [np.zeros_like(v, dtype=float) if isinstance(v, (float, np.floating)) or (
        isinstance(v, np.ndarray) and v.dtype.kind == "f") else v for v in items]
    zero = np.asarray(concat[tuple(base)], dtype=float)
    rows = [np.asarray(concat[tuple(t[r] if t is not None else b
                                    for t, b in zip(titems, base))], dtype=float) - zero
            for r in range(batch)]
    return np.stack(rows)


# ------------- forward mode over forward-mode code (jacfwd(jacfwd(f)), hessian's Jacobian) --
# The helpers above take a batch of directions on a leading axis and are linear in it;
# a tangent of that batch has two leading axes (outer directions, inner directions):
# the helper runs once on the two merged, and they are split again.

registry.nondifferentiable(baxis, bperm, batch_size, zero_tangent, zero_tangent_of,
                           is_basis, is_eye)


def merged(fn, tt, *args):
    """``fn`` (linear in its first argument, a batch) applied to each outer direction
    of ``tt`` (shape ``(m, n) + ...``), as one call on the ``m * n`` directions."""
    tt = np.asarray(tt)
    m, n = tt.shape[:2]
    out = np.asarray(fn(tt.reshape((m * n,) + tt.shape[2:]), *args))
    return out.reshape((m, n) + out.shape[1:])


@tangent(lift, constant=("z",))
def lift_(r, t, z):
    d[r] = merged(lift, d[t], z)


@tangent(bindex, constant=("z", "index"))
def bindex_(r, t, z, index):
    d[r] = merged(bindex, d[t], z, index)


@tangent(tunbroadcast, constant=("x",))
def tunbroadcast_(r, t, x):
    d[r] = merged(tunbroadcast, d[t], x)


@tangent(breshape, constant=("z", "order"))
def breshape_(r, t, z, order="C"):
    d[r] = merged(breshape, d[t], z, order)


@tangent(tmatmul_a, constant=("x1",))
def tmatmul_a_(r, t1, x1, x2):
    d[r] = merged(tmatmul_a, d[t1], x1, x2)
    d[r] = per_direction(tmatmul_a, (t1, x1, x2), 2, d[x2])


@tangent(tmatmul_b, constant=("x2",))
def tmatmul_b_(r, x1, t2, x2):
    d[r] = merged(_tmatmul_b_first, d[t2], x1, x2)
    d[r] = per_direction(tmatmul_b, (x1, t2, x2), 0, d[x1])


def _tmatmul_b_first(t2, x1, x2):
    return tmatmul_b(x1, t2, x2)


# and reverse mode over forward-mode code (grad or jacrev of a Jacobian)

@registry.adjoint(lift)
def lift_adjoint_rule(r, t, z):
    d[t] = lift_adjoint(d[r], t)


def lift_adjoint(g, t):
    """The adjoint of ``lift``'s batch ``t``: ``g`` summed back to its shape."""
    return tunbroadcast(g, np.empty(np.shape(t)[1:]))


@registry.adjoint(bindex)
def bindex_adjoint_rule(r, t, z, index):
    d[t] = tindex_adjoint(d[r], t[0], index, z)


@registry.adjoint(tunbroadcast)
def tunbroadcast_adjoint_rule(r, t, x):
    d[t] = lift(d[r], t[0])


@registry.adjoint(tmatmul_a)
def tmatmul_a_adjoint_rule(r, t1, x1, x2):
    d[t1] = merged_adjoint(tmatmul_a, d[r], t1, (x1, x2))
    d[x2] = per_direction_adjoint(tmatmul_a, d[r], (t1, x1, x2), 2)


@registry.adjoint(tmatmul_b)
def tmatmul_b_adjoint_rule(r, x1, t2, x2):
    d[t2] = merged_adjoint(_tmatmul_b_first, d[r], t2, (x1, x2))
    d[x1] = per_direction_adjoint(tmatmul_b, d[r], (x1, t2, x2), 0)


def merged_adjoint(fn, g, t, args):
    """The adjoint of ``fn(t, *args)`` (linear in ``t``) along ``g``: ``fn``'s matrix
    transposed, one column per element of ``t`` (a loop over them)."""
    t = np.asarray(t)
    g = np.asarray(g)
    out = np.zeros(t.size, dtype=np.result_type(t, g))
    e = np.zeros(t.size, dtype=out.dtype)
    for i in range(t.size):
        e[i] = 1.0
        out[i] = np.sum(g * np.asarray(fn(e.reshape(t.shape), *args)))
        e[i] = 0.0
    return out.reshape(t.shape)


def per_direction_adjoint(fn, g, args, k):
    """The adjoint of ``fn(*args)`` with respect to argument ``k`` (``fn`` linear in
    it): one call per element of that argument (a loop)."""
    return merged_adjoint(lambda a, *rest: fn(*[a if j == k else args[j]
                                                  for j in range(len(args))]),
                          g, args[k], ())
