"""The few helpers generated code calls, reachable there as ``_sg.<name>``.

Everything here is small and fast: it runs inside every gradient call.
"""
from __future__ import annotations

import numpy as np

from sourcegrad.errors import SourcegradError
from sourcegrad.xp import asarray, is_foreign, is_namespace_array, namespace_of

np = np  # generated code may reach NumPy as ``_sg.np``


def unbroadcast(d, x):
    """Sum the adjoint ``d`` down to the shape of ``x`` (undo broadcasting).  ``None``
    (the adjoint of a list item nothing read) is a zero like ``x``."""
    if d is None:
        return zeros_like(x)
    if isinstance(x, np.ndarray):
        shape = x.shape
    elif isinstance(x, (list, tuple)):
        if not isinstance(d, (list, tuple)):
            shape = np.shape(x)  # NumPy made an array of the list: [a, b] + y
        elif len(d) != len(x):
            raise _unknown_concatenation(len(x), len(d))
        else:
            return d  # a sum of sequence adjoints: nothing broadcast
    else:
        shape = _shape(x)
    dshape = d.shape if isinstance(d, np.ndarray) else _shape(d)
    if dshape == shape or _same_unknown(dshape, shape):
        return d
    extra = len(dshape) - len(shape)
    if extra > 0:
        d = np.sum(d, axis=tuple(range(extra)))
        dshape = d.shape
    if extra >= 0:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and dshape[i] != 1)
        if axes:
            d = np.sum(d, axis=axes, keepdims=True)
    if _shape(d) != shape and not _same_unknown(_shape(d), shape):
        d = broadcast_like(d, x).copy()  # d was smaller than x (e.g. a scalar adjoint)
    return d


def _unknown_concatenation(n, m):
    return SourcegradError(
        "+ or * on lists or tuples of unknown type",
        detail=f"an operand of {n} items made a sequence of {m}: a concatenation or "
               f"repetition of values not known to be lists or tuples when the derivative "
               f"was made, whose adjoint cannot be split among the operands",
        hint="let the function show that one operand is a list: a display ([x] + rest), "
             "or one built there (both = []; both.extend(a); both.extend(b))")


def _same_unknown(a, b):
    """Whether two shapes of Dask arrays with unknown chunk sizes agree where known:
    ``nan`` (an unknown length) matches ``nan``; broadcasting only ever stretches a
    length of 1, which is known."""
    return len(a) == len(b) and all(m == n or (m != m and n != n) for m, n in zip(a, b))


def _shape(x):
    """``np.shape(x)``; an array of another library reports its own (no conversion)."""
    return tuple(x.shape) if is_foreign(x) else np.shape(x)


def broadcast_like(g, x):
    """``np.broadcast_to(g, x.shape)`` (a read-only view for NumPy: copy it to own it).
    With a Dask array on either side the result is a Dask array: nothing computed."""
    if is_foreign(x) and (not is_foreign(g) or any(n != n for n in x.shape)):
        # (unknown lengths: broadcast by adding, which Dask matches chunk by chunk)
        return np.zeros_like(x, dtype=np.result_type(g)) + g
    return np.broadcast_to(g, _shape(x))


def full_like(like, value, shape):
    """An array of ``shape`` filled with ``value``, in ``like``'s library."""
    if is_foreign(like):
        return np.broadcast_to(np.zeros_like(like, shape=()) + value, shape)
    return np.full(shape, value)


def zeros_like(x):
    """A zero adjoint for ``x`` (arrays, scalars, tuples and lists; ``None`` stays None)."""
    if isinstance(x, np.ndarray):
        return np.zeros_like(x, subok=False)
    if x is None:
        return None
    if is_foreign(x):  # a Dask array: Dask's zeros (subok is NumPy's alone)
        return np.zeros_like(x)
    if isinstance(x, (tuple, list)):
        return AdjointList(zeros_like(v) for v in x)
    if isinstance(x, dict):
        return AdjointDict()
    if isinstance(x, (bool, int, np.integer)):
        return 0.0
    return np.zeros_like(x, subok=False)


def fill_zeros(g, x):
    """Gradient ``g`` of input ``x`` with zeros where it is None: the items of a tuple,
    list or dict input the output does not read (what ``grad``'s caller gets; used by
    a gradient called inside differentiated code)."""
    if isinstance(x, (tuple, list, dict)):
        return mirror(g, x, fill_zeros, AdjointList, AdjointDict)
    if g is None:
        return zeros_like(x)
    return g


def mirror(g, x, item, as_list=list, as_dict=dict):
    """``g``, the gradient of a tuple, list or dict input ``x``, made item by item:
    ``item(g_i, x_i)``, where ``g`` or an item is None when nothing read it.  The
    result is a container like ``x`` (a tuple, namedtuple, ``as_list`` or
    ``as_dict``); a ``g`` of another form comes back as it is."""
    if isinstance(x, dict):
        if g is None:
            g = {}
        if isinstance(g, dict):
            return as_dict({k: item(g.get(k), v) for k, v in x.items()})
        return g
    if g is None:
        g = [None] * len(x)
    if isinstance(g, (tuple, list)) and len(g) == len(x):
        items = [item(gi, xi) for gi, xi in zip(g, x)]
        if hasattr(x, "_fields"):  # a namedtuple
            return type(x)(*items)
        return tuple(items) if isinstance(x, tuple) else as_list(items)
    return g


def fix_foreign(g, x, fix):
    """``api.fix_gradient`` (passed as ``fix``, for the items of a container) where the
    gradient or the input is another library's array (a Dask array): shape and
    dtype made right with that array's own methods and the functions NumPy
    dispatches to its library, nothing computed or converted to NumPy.  The
    gradient of a NumPy input read against Dask data is a Dask array."""
    like = x if is_foreign(x) else g
    if is_namespace_array(like):
        return _fix_namespace(g, x, like, fix)
    if g is None or not (is_foreign(g) or isinstance(g, np.ndarray)):
        if isinstance(x, (tuple, list, dict)):
            return mirror(g, x, fix)
        if g is None:
            return zeros_like(x)
        g = full_like(like, g, np.shape(x))
    if tuple(g.shape) != tuple(np.shape(x)):
        g = broadcast_like(g, x).copy()
    dtype = getattr(x, "dtype", None)
    if isinstance(x, float):
        dtype = np.dtype(float)
    if isinstance(dtype, np.dtype) and dtype.kind in "fc" and g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _fix_namespace(g, x, like, fix):
    """``fix_foreign`` for an Array API array (array-api-strict, a PyTorch tensor): the
    namespace's own functions only."""
    if isinstance(x, (tuple, list, dict)):
        return mirror(g, x, fix)
    ns = namespace_of(like)
    if g is None:
        return ns.zeros_like(x) if is_namespace_array(x) else np.zeros_like(x)
    if not is_namespace_array(g):
        g = ns.asarray(g)
    if tuple(g.shape) != tuple(np.shape(x) if not is_namespace_array(x) else x.shape):
        g = ns.broadcast_to(g, tuple(x.shape))
    if is_namespace_array(x) and g.dtype != x.dtype and ns.isdtype(x.dtype, "real floating"):
        g = ns.astype(g, x.dtype)
    return g


class WeightGrads(dict):
    """Adjoints of Parameters, keyed by ``id``, filled during the backward sweep.

    Only the ids it was created with are kept; every other value read by the
    differentiated code (a float attribute, a Parameter not asked for) is
    dropped on arrival.
    """

    __slots__ = ()

    def __init__(self, weights=()):
        super().__init__()
        for p in weights:
            if getattr(p, "requires_grad", True):
                self[id(p)] = None

    def add(self, value, grad):
        key = id(value)
        if key in self:
            old = self[key]
            self[key] = grad if old is None else old + grad


def plain(p):
    """The values of Parameter ``p`` as a plain ``ndarray`` (a view, no copy): NumPy's
    operations on an ndarray subclass cost up to a microsecond more each, so a
    derivative computes with this and keeps ``p`` itself for its gradient."""
    return p.view(np.ndarray)


def wants(acc, value):
    """Whether ``value`` is one of the weights whose gradient is being collected."""
    return acc is not None and id(value) in acc


def add_weight_grad(acc, value, grad):
    """Accumulate ``grad`` for ``value`` if it is one of the requested weights
    (``WeightGrads.add``, written out: this runs for every weight on every call)."""
    if acc is not None:
        key = id(value)
        if key in acc:
            old = acc[key]
            acc[key] = grad if old is None else old + grad


def matmul_adjoint_a(dz, a, b):
    """Adjoint of ``a`` in ``a @ b`` for 1-D, 2-D and batched operands."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and isinstance(dz, np.ndarray):
        a_nd, b_nd = a.ndim, b.ndim  # fast path: no np.ndim/expand_dims/swapaxes dispatch
        if a_nd == 2 and b_nd == 2:
            return unbroadcast(np.matmul(dz, b.T), a)
        if a_nd == 1 and b_nd == 2:
            return unbroadcast(np.matmul(b, dz[..., None])[..., 0], a)
    else:
        a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 1 and b_nd == 1:
        return dz * b
    if b_nd == 1:
        return unbroadcast(_axis_after(dz) * b, a)
    if a_nd == 1:
        return unbroadcast(np.matmul(b, _axis_after(dz))[..., 0], a)
    return unbroadcast(np.matmul(dz, np.swapaxes(b, -1, -2)), a)


def matmul_adjoint_b(dz, a, b):
    """Adjoint of ``b`` in ``a @ b`` for 1-D, 2-D and batched operands."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and isinstance(dz, np.ndarray):
        a_nd, b_nd = a.ndim, b.ndim  # fast path: no np.ndim/expand_dims/swapaxes dispatch
        if a_nd == 2 and b_nd == 2:
            return unbroadcast(np.matmul(a.T, dz), b)
        if a_nd == 1 and b_nd == 2 and dz.ndim == 1:
            return unbroadcast(a[:, None] * dz[None, :], b)
    else:
        a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 1 and b_nd == 1:
        return dz * a
    if a_nd == 1:
        return unbroadcast(_axis_after(a) * _axis_before_last(dz), b)
    if b_nd == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), _axis_after(dz))[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), dz), b)


def _axis_after(v):
    """``np.expand_dims(v, -1)``, by indexing (a Dask array of unknown length cannot
    be reshaped, but it can be indexed)."""
    return v[..., None] if hasattr(v, "ndim") else np.expand_dims(v, -1)


def _axis_before_last(v):
    """``np.expand_dims(v, -2)``, by indexing (see ``_axis_after``)."""
    return v[..., None, :] if hasattr(v, "ndim") else np.expand_dims(v, -2)


class AdjointList(list):
    """The adjoint of a tuple or list: one adjoint per item, ``None`` for zero."""

    __slots__ = ()

    def __add__(self, other):
        if other is None:
            return self
        out = AdjointList(self)
        for i, g in enumerate(other):
            if g is None:
                continue
            out[i] = g if out[i] is None else out[i] + g
        return out

    __radd__ = __add__


class AdjointDict(dict):
    """The adjoint of a dict: one adjoint per key read (keys never read are absent)."""

    __slots__ = ()

    def __add__(self, other):
        if other is None:
            return self
        out = AdjointDict(self)
        for k, g in other.items():
            if g is None:
                continue
            out[k] = g if out.get(k) is None else out[k] + g
        return out

    __radd__ = __add__


def item_adjoint(dseq, i, like):
    """The adjoint of item ``i`` of a sequence whose adjoint is ``dseq``."""
    g = dseq[i]
    if g is None:
        return np.zeros_like(like, dtype=float) if not isinstance(like, (tuple, list)) \
            else AdjointList([None] * len(like))
    return g


def index_adjoint(x, index, dz):
    """The adjoint of ``x`` given the adjoint ``dz`` of ``x[index]``."""
    if isinstance(x, (tuple, list)):
        out = AdjointList([None] * len(x))
        if isinstance(index, slice):
            for j, g in zip(range(*index.indices(len(x))), dz):
                out[j] = g
        else:
            out[index] = dz
        return out
    if isinstance(x, dict):
        return AdjointDict({index: dz})
    if is_foreign(x) or is_foreign(dz):
        return _index_adjoint_foreign(x, index, dz)
    out = np.zeros(np.shape(x), dtype=np.result_type(x, dz))
    np.add.at(out, index, dz)
    return out


def _index_adjoint_foreign(x, index, dz):
    """``index_adjoint`` for another library's array (Dask): a write into zeros of
    ``x``'s shape, exact when no position repeats (ints, slices, masks).  Integer
    index arrays may repeat a position, which needs NumPy's ``np.add.at``."""
    if _fancy(index):
        raise TypeError(
            "the adjoint of indexing with an integer array (np.add.at) is NumPy-only: "
            f"not available for {type(x).__module__}.{type(x).__name__} inputs; index "
            "with slices or a boolean mask, or compute the array first")
    out = np.zeros_like(x, dtype=np.result_type(x.dtype, getattr(dz, "dtype", float)))
    out[index] = dz
    return out


def indexed_adjoint(dx, index, like):
    """``dx[index]``: the adjoint of item ``index`` of a value whose adjoint is ``dx``
    (what ``index_adjoint`` placed there, summed back to ``like``'s shape where it was
    broadcast over ``x[index]``), a zero like ``like`` where a tuple's, list's or
    dict's item adjoint is None or absent (zero)."""
    g = dx.get(index) if isinstance(dx, dict) else dx[index]
    if g is None:
        return zeros_like(like)
    if isinstance(g, np.ndarray) and g.shape != np.shape(like) \
            and not isinstance(like, (tuple, list, dict)):
        return unbroadcast(g, like)  # index_adjoint spread ``like`` over x[index]
    return g


class _Absent:
    """What ``save_item`` saves for a dict key that is not there yet."""

    __slots__ = ()

    def __repr__(self):
        return "ABSENT"


ABSENT = _Absent()


def save_item(y, index):
    """A copy of ``y[index]``, saved before the item is overwritten (``ABSENT`` for a
    key a dict does not hold yet)."""
    if isinstance(y, dict) and index not in y:
        return ABSENT
    v = y[index]
    return v.copy() if isinstance(v, np.ndarray) else v


def snapshot(v):
    """A copy of ``v`` (an array, list or dict) saved before a call may write into it;
    anything else as it is."""
    if isinstance(v, (np.ndarray, list, dict)):
        return v.copy()
    return v.copy() if is_foreign(v) and hasattr(v, "copy") else v


def restore_item(y, index, old, copies):
    """``y`` with ``y[index] = old`` restored, in a copy the backward sweep owns.

    The first restore of an array copies it (its id goes into ``copies``);
    later ones write in place.  The forward sweep's array is left as it was.
    """
    if id(y) not in copies:
        y = y.copy() if isinstance(y, (np.ndarray, dict)) else list(y)
        copies.add(id(y))
    if old is ABSENT:
        del y[index]  # a key the write added
    else:
        y[index] = old
    return y


def write_adjoint(dy, index, v):
    """The adjoint of ``v`` in ``y[index] = v``: ``dy[index]``, summed to ``v``'s shape.

    With index arrays (or lists) that repeat a position, NumPy keeps one write
    only, so the other writes to that position get no gradient.  Which one wins
    is found by making the same assignment of each write's number.
    """
    if isinstance(dy, dict):  # a dict's entry (d[k] = v, k not a constant)
        g = dy.get(index)
        return zeros_like(v) if g is None else g
    g = dy[index]
    if _fancy(index) and np.ndim(g):
        order = np.arange(np.size(g)).reshape(np.shape(g))
        ids = np.full(np.shape(dy), -1, dtype=np.intp)
        ids[index] = order
        won = ids[index] == order
        if not won.all():
            g = g * won
    return unbroadcast(g, v)


def _fancy(index):
    """Whether ``index`` holds an integer array or a list (advanced indexing)."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, list) or isinstance(i, np.ndarray) and i.ndim
               and i.dtype.kind in "iu" for i in items)


def zero_item(dy, index):
    """``dy`` with ``dy[index]`` zeroed (a copy: adjoints may be shared)."""
    if isinstance(dy, list):
        dy = AdjointList(dy)
        dy[index] = None
        return dy
    if isinstance(dy, dict):
        dy = AdjointDict(dy)
        dy.pop(index, None)
        return dy
    dy = dy.copy() if is_foreign(dy) else np.array(dy, copy=True)
    dy[index] = 0
    return dy


def seed_like(out):
    """Ones shaped like ``out``; a tuple/list/dict output gets one seed per item."""
    if type(out) is np.float64 or type(out) is float:  # fast path: a scalar float64 loss
        return np.array(1.0)
    if type(out) is np.ndarray and out.dtype.kind == "f" and out.ndim <= 1:
        return np.ones(out.shape, out.dtype)  # (<= 1-D: the same layout as ones_like)
    if isinstance(out, (tuple, list)):
        return AdjointList(seed_like(o) for o in out)
    if isinstance(out, dict):  # a dict output: each value seeded (docs/behaviour.md 4.10)
        return AdjointDict((k, seed_like(v)) for k, v in out.items())
    if out is None or isinstance(out, str):
        return None
    if isinstance(out, (bool, int, np.integer, np.bool_)):
        # only an output that depends on a differentiated input is seeded: an integer
        # one is that input's value (an int input returned, n * 2), differentiated as
        # the float it stands for (docs/behaviour.md 4.11); truncations (astype(int))
        # have zero derivatives of their own
        return 1.0
    if isinstance(out, np.ndarray) and not np.issubdtype(out.dtype, np.inexact):
        return np.ones(out.shape)
    return np.ones_like(out)


def check_aux(out):
    """``has_aux=True``: the function must return at least two outputs."""
    if not isinstance(out, (tuple, list)) or len(out) < 2:
        raise ValueError("has_aux=True requires the function to return at least two "
                         "outputs (loss, aux...)")


def seed_first(out, sens=None):
    """Seed for ``has_aux``: ones (or ``sens``) for the first output, nothing for the rest."""
    check_aux(out)
    return AdjointList([seed_like(out[0]) if sens is None else sens] + [None] * (len(out) - 1))


def add_adjoints(a, b):
    """``a + b`` for adjoints that may be tuples/lists (item by item) or ``None``."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return AdjointList(add_adjoints(x, y) for x, y in zip(a, b))
    return a + b


def list_append(lst, item):
    """``lst.append(item)`` as a value: a new list (sourcegrad treats lists as values)."""
    out = list(lst)
    out.append(item)
    return out


def list_extend(lst, items):
    """``lst.extend(items)`` as a value: a new list."""
    return list(lst) + list(items)


def concat(a, b):
    """``a + b`` of two lists or tuples: the primal the reverse pass gives a rule to
    when it knows they are (each operand gets its own slice of the adjoint)."""
    return a + b


def maybe_concat(a, b):
    """``a + b`` where ``a`` or ``b`` is a list or tuple and the other's type is known
    only at run time (see ``concat_head``)."""
    return a + b


def concat_head(dz, a, b):
    """The adjoint of ``a`` in ``a + b``: its items of ``dz`` when that concatenated
    two sequences, else ``dz`` summed to ``a``'s shape (NumPy added them)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return AdjointList(dz[:len(a)])
    return unbroadcast(dz, a)


def concat_tail(dz, a, b):
    """The adjoint of ``b`` in ``a + b`` (see ``concat_head``)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return AdjointList(dz[len(a):])
    return unbroadcast(dz, b)


def repeat(seq, n):
    """``seq * n`` of a list or tuple (see ``concat``)."""
    return seq * n


def repeat_adjoint(dz, seq, k):
    """The adjoint of ``seq`` in ``seq * k``: the sum of the ``k`` chunks of ``dz``,
    item by item (or, when ``k`` was an array NumPy multiplied by, ``dz * k``)."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        return unbroadcast(dz * k, seq)
    n = len(seq)
    out = AdjointList([None] * n)
    for start in range(0, len(dz), n or 1):
        out = out + dz[start:start + n]
    return out


def index_concat(concat, *items):
    """``np.r_[a, b, ...]`` (or ``np.c_``) as a call: ``concat`` indexed by ``items``."""
    return concat[items]


def list_head(dseq, n):
    """The adjoint of the first ``n`` items of a list whose adjoint is ``dseq``."""
    return AdjointList(dseq[:n])


def list_tail(dseq, n):
    """The adjoint of the items after the first ``n``."""
    return AdjointList(dseq[n:])


def sum_adjoint(dz, items):
    """Adjoint of the items of ``sum(items)``: each gets ``dz`` (summed to its shape).
    The items of an array are its rows: their adjoints make one array."""
    if isinstance(items, np.ndarray):
        g = np.zeros(items.shape, dtype=np.result_type(items, dz, 1.0)
                     if items.dtype.kind != "f" else items.dtype)
        if len(items):
            g[...] = unbroadcast(dz, items[0])
        return g
    return AdjointList(unbroadcast(dz, v) for v in items)


def hypot_adjoint(dz, z, coordinates):
    """Adjoints of ``math.hypot(*coordinates)``: ``dz * c / z`` each (0 at the origin)."""
    return AdjointList(dz * c / z if z else 0.0 * dz for c in coordinates)


def choice_adjoint(dz, z, args):
    """Adjoint of ``max(*args)``/``min(*args)``: the chosen argument gets ``dz``.

    ``max(seq)`` with one sequence argument sends ``dz`` to the chosen item; with
    one array (``max(x)`` iterates over its rows) to the first row equal to the
    result, the one Python's ``max`` and ``min`` return (with or without ``key=``).
    """
    if len(args) == 1 and isinstance(args[0], np.ndarray):
        items = args[0]
        g = np.zeros(items.shape, dtype=np.result_type(items, dz, 1.0)
                     if items.dtype.kind != "f" else items.dtype)
        for i in range(len(items)):
            if np.array_equal(items[i], z, equal_nan=items.dtype.kind in "fc"):
                g[i] = dz
                break
        return [g]
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        if not args[0]:  # empty: the result is max's default=
            return [AdjointList()]
        return [choice_adjoint(dz, z, args[0])]
    out = AdjointList(zeros_like(v) for v in args)
    for i, v in enumerate(args):
        if v is z:
            out[i] = dz
            break
    return out


def choice_default_adjoint(dz, args, default):
    """Adjoint of ``default=`` in ``max(seq, default=...)``: ``dz`` when ``seq`` is empty."""
    if len(args) == 1 and len(args[0]) == 0:
        return dz
    return zeros_like(default)


def divmod_adjoint(dz, a, b, which):
    """Adjoint of ``a`` (which=0) or ``b`` (1) in ``q, r = divmod(a, b)``.

    ``q`` is piecewise constant; ``r = a - b * q``.
    """
    dr = dz[1] if dz[1] is not None else 0.0
    if which == 0:
        return unbroadcast(dr * np.ones_like(asarray(a, dtype=float)), a)
    return unbroadcast(-dr * np.floor_divide(a, b), b)


def sorted_adjoint(dz, items, key=None, reverse=False):
    """Adjoint of the items of ``sorted(items)``: each sorted slot's adjoint goes home."""
    items = list(items)
    order = sorted(range(len(items)), key=(lambda i: key(items[i])) if key else
                   (lambda i: items[i]), reverse=reverse)
    out = AdjointList(zeros_like(v) for v in items)
    for slot, i in enumerate(order):
        if dz[slot] is not None:
            out[i] = dz[slot]
    return out


def make_dict(*items):
    """``{k0: v0, k1: v1}`` written ``make_dict(k0, v0, k1, v1)``: a dict display or
    ``dict(k=v)`` whose values carry gradient (its rule splits the adjoint by key)."""
    return dict(zip(items[::2], items[1::2]))


def make_dict_adjoint(dz, items):
    """Adjoints of ``make_dict``'s arguments: the value under each key (zeros for a
    key the adjoint does not hold), None for the keys."""
    out = [None] * len(items)
    for i in range(1, len(items), 2):
        g = dz.get(items[i - 1]) if isinstance(dz, dict) else None
        if g is None:
            v = items[i]
            g = AdjointDict() if isinstance(v, dict) else zeros_like(v)
        out[i] = g
    return out


def shallow_copy(x):
    """A new list, dict or array with ``x``'s items: ``b[i][j] = v`` is written
    ``inner = shallow_copy(b[i]); inner[j] = v; b[i] = inner`` (containers are values)."""
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    return x.copy()


def merge_dicts(*maps):
    """``{**p, "w": v}`` written ``merge_dicts(p, make_dict("w", v))``, and ``dict(p)``
    (``p`` a mapping or a list of key-value pairs) written ``merge_dicts(p)``: a new
    dict with each mapping's entries, later ones replacing earlier ones (its rule
    sends each entry's adjoint to the mapping it came from)."""
    out = {}
    for m in maps:
        out.update(m)
    return out


def merge_dicts_adjoint(dz, maps):
    """Adjoints of ``merge_dicts``'s mappings: the entries of ``dz`` each one gave the
    result (an entry a later mapping replaced gets none)."""
    out, later = [], set()
    for m in reversed(maps):
        if isinstance(m, (list, tuple)):  # dict(pairs): a pair's value gets its entry's
            items = [None] * len(m)
            for i in reversed(range(len(m))):
                k = m[i][0]
                if k not in later and isinstance(dz, dict) and dz.get(k) is not None:
                    items[i] = AdjointList([None, dz[k]])
                later.add(k)
            out.append(AdjointList(items))
            continue
        if not isinstance(m, dict):
            if dz:
                raise SourcegradError(
                    f"dict(...) or ** in a dict display over a {type(m).__name__}",
                    detail="the gradient of the entries is known for dicts only",
                    hint="build the dict from a dict, or with a dict display")
            out.append(None)
            continue
        g = AdjointDict()
        if isinstance(dz, dict):
            for k in m:
                if k not in later and dz.get(k) is not None:
                    g[k] = dz[k]
        later |= set(m)
        out.append(g)
    return out[::-1]


def sequence(x):
    """``x`` as a loop indexes it: a list, tuple or array as it is; a dict's keys, or the
    items of another iterable (a set, an iterator), in a list."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return x
    return list(x)


def sequence_adjoint(dz, x):
    """The adjoint of ``x`` in ``sequence(x)``: ``dz`` for a list, tuple or array; none
    for a dict (its keys carry no gradient)."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return dz
    if isinstance(x, dict):
        return AdjointDict()
    if dz is not None and any(g is not None for g in dz):
        raise SourcegradError(
            f"a loop over a {type(x).__name__} whose items carry gradient",
            detail="the items' adjoints cannot be sent back through the iterator",
            hint="loop over a list, a tuple, an array or a dict's .values()/.items()")
    return None


def list_adjoint(dz, iterable):
    """The adjoint of ``iterable`` in ``list(iterable)`` or ``tuple(iterable)``: the
    items' adjoints (an array's rows stacked back), none for a dict's keys."""
    if isinstance(iterable, np.ndarray):
        if dz is None:
            return np.zeros(iterable.shape)
        return np.stack([np.zeros(np.shape(v)) if g is None else g
                         for g, v in zip(dz, iterable)]) if len(iterable) else \
            np.zeros(iterable.shape)
    return sequence_adjoint(dz, iterable)


def unique_firsts(ar, more, axis):
    """The flat positions in ``ar`` of the first element equal to each of
    ``np.unique(ar)``'s values (its derivative's); ``more``: one of its ``return_*``
    flags was set."""
    if more or axis is not None:
        raise SourcegradError("np.unique with return_index/return_inverse/return_counts "
                              "or axis=, of a differentiated array",
                              hint="differentiate np.unique(x) alone, or index x with the "
                                   "indices np.unique(sg.stop_gradient(x), ...) returns")
    return np.unique(np.ravel(ar), return_index=True)[1]


def zipped(*seqs):
    """``zip(*seqs)`` as the list of tuples it yields (the derivative reads them again)."""
    return list(zip(*seqs))


def enumerated(seq, start=0):
    """``enumerate(seq, start)`` as the list of pairs it yields."""
    return list(enumerate(seq, start))


def reversed_list(seq):
    """``reversed(seq)`` as the list of items it yields."""
    return list(reversed(seq))


def _items_adjoint(dz, seq, place):
    """The adjoint of ``seq`` from ``dz``, the adjoints of a list made from its items:
    item ``i``'s adjoint is ``place(dz, i)`` (None: nothing read it)."""
    items = [None] * len(seq)
    for i, g in enumerate(dz or ()):
        if i < len(items):
            items[i] = place(g, i)
    return list_adjoint(AdjointList(items), seq)


def zipped_adjoint(dz, seqs):
    """The adjoints of ``seqs`` in ``zipped(*seqs)``: each sequence's items from their
    place in the tuples (none past the shortest)."""
    return tuple(_items_adjoint(dz, seq, lambda g, i, k=k: None if g is None else g[k])
                 for k, seq in enumerate(seqs))


def enumerated_adjoint(dz, seq):
    """The adjoint of ``seq`` in ``enumerated(seq, start)``: the pairs' second items."""
    return _items_adjoint(dz, seq, lambda g, i: None if g is None else g[1])


def reversed_adjoint(dz, seq):
    """The adjoint of ``seq`` in ``reversed_list(seq)``: ``dz`` in reverse."""
    back = None if dz is None else list(dz)[::-1]
    return _items_adjoint(back, seq, lambda g, i: g)


def dict_get(mapping, key, default=None):
    """``mapping.get(key, default)`` (another object's ``.get(key)`` as it is)."""
    if not isinstance(mapping, dict) and default is None:
        return mapping.get(key)
    return mapping.get(key, default)


def dict_get_adjoint(dz, mapping, key):
    """The adjoint of ``mapping`` in ``dict_get(mapping, key, default)``: ``dz`` under
    ``key`` when the dict holds it."""
    if not isinstance(mapping, dict):
        raise _not_a_dict(mapping, "get")
    return AdjointDict({key: dz}) if key in mapping and dz is not None else AdjointDict()


def dict_get_default_adjoint(dz, mapping, key, default):
    """The adjoint of ``default`` in ``dict_get(mapping, key, default)``: ``dz`` when the
    key is absent, else zero."""
    return dz if key not in mapping else zeros_like(default)


def dict_values(mapping):
    """``d.values()`` as a list (a dict's values are values like a list's items)."""
    return list(mapping.values()) if isinstance(mapping, dict) else mapping.values()


def dict_items(mapping):
    """``d.items()`` as a list of (key, value) pairs."""
    return list(mapping.items()) if isinstance(mapping, dict) else mapping.items()


def dict_keys(mapping):
    """``d.keys()`` as a list."""
    return list(mapping.keys()) if isinstance(mapping, dict) else mapping.keys()


def _not_a_dict(d, method):
    return SourcegradError(
        f".{method}() of a {type(d).__name__}",
        detail=f"the gradient of .{method}() is known for dicts only",
        hint="convert the object to a dict first: dict(obj)")


def dict_values_adjoint(dz, d):
    """The adjoint of ``d`` in ``dict_values(d)``: each value's adjoint under its key."""
    if not isinstance(d, dict):
        raise _not_a_dict(d, "values")
    if dz is None:
        return AdjointDict()
    return AdjointDict((k, g) for k, g in zip(d, dz) if g is not None)


def dict_items_adjoint(dz, d):
    """The adjoint of ``d`` in ``dict_items(d)``: each pair's value adjoint under its key."""
    if not isinstance(d, dict):
        raise _not_a_dict(d, "items")
    out = AdjointDict()
    if dz is None:
        return out
    for k, g in zip(d, dz):
        if g is not None and g[1] is not None:
            out[k] = g[1]
    return out


def set_entry(mapping, key, value):
    """``mapping`` with ``mapping[key] = value``, in a new dict: ``d["k"] = v`` as
    normalization writes it (dicts are values, as lists are)."""
    out = dict(mapping)
    out[key] = value
    return out


def entry_rest(dz, key):
    """The adjoint of the dict in ``set_entry(mapping, key, value)``: ``dz`` without
    ``key`` (the old entry under ``key`` was replaced, so it gets no gradient)."""
    out = AdjointDict() if dz is None else AdjointDict(dz)
    out.pop(key, None)
    return out


def field(x, name):
    """``x.<name>``: a field of a namedtuple, as the reverse sweep names the read."""
    return getattr(x, name)


def field_adjoint(x, name, dz):
    """The adjoint of namedtuple ``x`` given the adjoint ``dz`` of its field ``x.<name>``:
    ``dz`` at the field's place, none elsewhere."""
    fields = getattr(x, "_fields", None)
    if not isinstance(x, tuple) or fields is None or name not in fields:
        raise SourcegradError(
            f"attribute .{name} of a {type(x).__name__} that carries gradient",
            detail="gradients flow through the fields of namedtuples, tuples, lists and "
                   "dicts (pytrees), and through arrays; not through other objects' "
                   "attributes",
            hint="pass the value itself, or a namedtuple holding it")
    out = AdjointList([None] * len(x))
    out[fields.index(name)] = dz
    return out


def cell_with_bprop(cell, *args):
    """A call of a Cell that defines ``bprop``: its forward is ``construct``; its rule
    (sourcegrad/rules/runtime_.py) calls the Cell's own ``bprop``."""
    return cell.construct(*args)


def custom_bprop_grads(cell, args, out, dout):
    """``cell.bprop(*args, out, dout)``, checked: one gradient per input, each in its
    input's shape (None for an input without one gives zeros)."""
    grads = cell.bprop(*args, out, dout)
    name = type(cell).__qualname__
    if not isinstance(grads, (tuple, list)) or len(grads) != len(args):
        got = f"a {type(grads).__name__}" + (f" of {len(grads)}" if isinstance(
            grads, (tuple, list)) else "")
        raise ValueError(f"{name}.bprop must return a tuple with one gradient per input of "
                         f"construct ({len(args)}), got {got} (write `return (dx,)` for "
                         f"one input)")
    out = []
    for g, a in zip(grads, args):
        if g is None:
            g = zeros_like(a)
        elif np.shape(g) != np.shape(a):
            raise ValueError(f"{name}.bprop returned a gradient of shape {np.shape(g)} for an "
                             f"input of shape {np.shape(a)}")
        out.append(g)
    return tuple(out)
