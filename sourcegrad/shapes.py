"""Part of stage 4 -- the shapes of values, when the inputs' shapes are known.

A derivative may be specialised on the shapes of the arrays it is called
with (``Spec.shapes``).  ``infer`` then propagates shapes through the
normalized function -- broadcasting for operators and ufuncs, NumPy itself
on zero-stride dummy arrays for other primitives.  The optimizer's
``optimize.specialize`` pass uses them to simplify the backward sweep; an
unknown shape (``TOP``: a value from user code, an attribute, a
data-dependent index) leaves the general code in place.
"""
from __future__ import annotations

import operator as _op
import warnings

import gast
import numpy as np

from sourcegrad.astutil import BINOPS, name_list, nodes, statement_list
from sourcegrad.parse import MISSING
from sourcegrad.rules import registry

TOP = "?"          # unknown


class Abstract:
    """What is known of a value: ``kind`` ("array", "float", "int") and shape/dtype."""

    __slots__ = ("kind", "shape", "dtype", "value", "_stand_in")

    def __init__(self, kind, shape=(), dtype=None, value=None):
        # value: the int itself when it is a known constant (an axis, a size)
        self.kind, self.shape, self.dtype, self.value = kind, tuple(shape), dtype, value
        self._stand_in = MISSING

    def __eq__(self, other):
        if other is self:
            return True
        return isinstance(other, Abstract) and (self.kind, self.shape, self.dtype,
                                                self.value) == (
            other.kind, other.shape, other.dtype, other.value)

    def __hash__(self):
        return hash((self.kind, self.shape, self.dtype, self.value))

    def __repr__(self):
        return f"{self.kind}{self.shape}:{self.dtype}"

    def stand_in(self):
        """A value with these properties to run NumPy on (zero-stride: no memory).

        An int of unknown value has no stand-in (``None``): it may be an axis
        or a size, and guessing would give wrong shapes."""
        if self.kind in ("int", "tuple"):
            return self.value
        if self.kind == "float":
            return 0.5
        if self._stand_in is MISSING:  # read-only, so one serves every use
            key = (self.shape, self.dtype)
            stand_in = _STAND_INS.get(key)
            if stand_in is None:
                if len(_STAND_INS) > 256:
                    _STAND_INS.clear()
                stand_in = _STAND_INS[key] = np.broadcast_to(
                    np.full((), 0.5, dtype=self.dtype or np.float64), self.shape)
            self._stand_in = stand_in
        return self._stand_in


_STAND_INS = {}  # (shape, dtype) -> a zero-stride, read-only array of 0.5


def abstract(value):
    """The Abstract of a concrete value, or TOP."""
    if type(value) is bool or isinstance(value, (int, np.integer)) and not isinstance(
            value, np.ndarray):
        return Abstract("int", value=int(value))
    if type(value) is float:
        return Abstract("float")
    if type(value) is tuple and all(type(v) is int for v in value):
        return Abstract("tuple", (len(value),), value=value)  # a shape
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fc":
        return Abstract("array", np.shape(value), value.dtype)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biu":
        return Abstract("array", value.shape, value.dtype)  # an index array, a mask
    return TOP


def join(a, b):
    if a is None:
        return b
    if b is None or a == b:
        return a
    if isinstance(a, Abstract) and isinstance(b, Abstract) and a.kind == b.kind == "int":
        return Abstract("int")  # an int whose value varies
    if isinstance(a, Abstract) and isinstance(b, Abstract) and a.shape == b.shape \
            and "int" not in (a.kind, b.kind) and "tuple" not in (a.kind, b.kind):
        # a float and a NumPy scalar, or two dtypes: the shape is still known
        da, db = (np.dtype(np.float64) if x.kind == "float" else x.dtype for x in (a, b))
        return Abstract("array", a.shape, da if da == db else None)
    return TOP


class ShapeInference:
    def __init__(self, tree, ctx, param_values):
        self.tree = tree
        self.ctx = ctx
        self.elementwise = {}  # _elementwise_key -> _elementwise's answer
        self.known = dict(param_values)
        a = tree.args
        for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
            if p is not None and p.id not in self.known:
                self.known[p.id] = TOP  # an input not known (a list, a dict): never a
                #                          shape of a value it is rebound to later

    def run(self):
        memo = {}  # see value_of
        # a body without loops that binds each name once and reads it only after
        # that settles in one round: another would read the same values again
        once = not any(s.__class__ in (gast.For, gast.While)
                       for s in statement_list(self.tree.body))
        bound, early = set(self.known), set()  # (bound so far; read before bound)
        for _ in range(8):
            before = dict(self.known)
            for s in statement_list(self.tree.body):
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                    n = s.targets[0].id
                    self.known[n] = join(self.known.get(n), self.value_of(s, memo))
                    if once:
                        early.update(r for r in memo[id(s)][0] if r not in bound)
                        once = n not in bound
                        bound.add(n)
                elif isinstance(s, gast.For) and isinstance(s.target, gast.Name):
                    it = s.iter
                    ranged = isinstance(it, gast.Call) and isinstance(it.func, gast.Name) \
                        and it.func.id == "range"
                    self.known[s.target.id] = Abstract("int") if ranged else TOP
                elif isinstance(s, gast.Assign) and not isinstance(s.targets[0], gast.Subscript):
                    for t in nodes(s.targets[0]):
                        if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store):
                            self.known[t.id] = TOP
                            once = once and t.id not in bound
                            bound.add(t.id)
            if once and early.isdisjoint(bound) or self.known == before:
                break
            once = False
        else:
            for k, v in self.known.items():
                if before.get(k) != v:
                    self.known[k] = TOP
        return {k: v for k, v in self.known.items() if isinstance(v, Abstract)}

    def value_of(self, s, memo):
        """``self.expr(s.value)``, run again only when a name it reads has changed.

        ``expr`` depends on the tree only through ``self.known`` of the names in
        the expression, so the fixpoint's later rounds need not run NumPy again
        (a matmul on stand-ins costs milliseconds) for unchanged statements."""
        entry = memo.get(id(s))
        reads = entry[0] if entry is not None else tuple(
            {n.id: None for n in name_list(s.value)})
        seen = tuple(map(self.known.get, reads))
        if entry is not None and entry[1] == seen:
            return entry[2]
        out = self.expr(s.value)
        memo[id(s)] = (reads, seen, out)
        return out

    # -- expressions ---------------------------------------------------------------
    def stand_in(self, node):
        """A stand-in value for ``node`` to run NumPy on, or MISSING."""
        cls = node.__class__
        if cls is gast.Constant:
            return node.value
        if cls is gast.Name:
            a = self.known.get(node.id)
            if a.__class__ is Abstract:
                v = a.stand_in()
                return MISSING if v is None else v
            if node.id in self.ctx.locals:
                return MISSING
        if cls is gast.Name or cls is gast.Attribute:
            obj = self.ctx.static(node)  # a module constant such as np.pi or np.float32
            if obj is not MISSING:
                return obj
            return MISSING
        if cls is gast.Tuple:
            items = [self.stand_in(e) for e in node.elts]
            return MISSING if any(i is MISSING for i in items) else tuple(items)
        return MISSING

    def expr(self, v):
        """What is known of the value of expression ``v`` (an ``Abstract``, or TOP)."""
        cls = v.__class__
        if cls is gast.Name or cls is gast.Constant:
            val = self.stand_in(v)
            return TOP if val is MISSING else abstract(val)
        if cls is gast.BinOp:
            return self.evaluate(BINOPS.get(v.op.__class__), [v.left, v.right], [])
        if cls is gast.UnaryOp:
            if isinstance(v.op, (gast.USub, gast.UAdd)):
                return self.expr(v.operand)
            return TOP
        if cls is gast.Call:
            return self.call(v)
        if cls is gast.Attribute:
            pinned = getattr(self.ctx, "pinned", None)
            if pinned and id(v) in pinned:  # a known object's array (pins.py)
                return pinned[id(v)]
            base = self.stand_in(v.value)
            if base is MISSING or not isinstance(base, np.ndarray) \
                    or v.attr not in ("T", "shape", "ndim", "size"):
                return TOP
            return abstract(getattr(base, v.attr))
        if cls is gast.Subscript:
            return self.subscript(v)
        return TOP

    def call(self, v):
        """What is known of a call's result: the primal run on stand-ins."""
        kind, obj = self.ctx.classify(v)
        if obj is len:
            got = self.evaluate(len, v.args, v.keywords)
            return got if got != TOP else Abstract("int")
        if kind in ("rule", "nondiff") and obj is not MISSING and obj is not None:
            return self.evaluate(obj, v.args, v.keywords)
        if kind == "method":
            return self.evaluate(obj, [v.func.value] + list(v.args), v.keywords)
        if kind == "user" and registry.is_elementwise(getattr(obj, "func", None)):
            return self.evaluate(obj.func, v.args, v.keywords)  # a helper like _sigmoid
        if kind == "user" and hasattr(self.ctx, "callee_result"):
            # what a function of ours returns, given what its arguments are
            return self.ctx.callee_result(obj, v, self.known)
        return TOP

    def subscript(self, v):
        """What is known of ``base[index]``."""
        base = self.stand_in(v.value)
        idx = self.index(v.slice)
        if base is MISSING or idx is MISSING or not isinstance(base, (np.ndarray, tuple)):
            return TOP
        try:
            out = abstract(base[idx])
        except Exception:
            return TOP
        if isinstance(base, np.ndarray) and isinstance(out, Abstract) \
                and out.value is not None:
            return Abstract(out.kind)  # an int array's item: the stand-in's, not the run's
        return out

    def index(self, sl):
        if isinstance(sl, gast.Slice):
            parts = []
            for p in (sl.lower, sl.upper, sl.step):
                if p is None:
                    parts.append(None)
                elif isinstance(p, gast.Constant):
                    parts.append(p.value)
                else:
                    return MISSING  # a data-dependent bound: unknown length
            return slice(*parts)
        if isinstance(sl, gast.Tuple):
            items = [self.index(e) for e in sl.elts]
            return MISSING if any(i is MISSING for i in items) else tuple(items)
        if isinstance(sl, gast.Name):
            a = self.known.get(sl.id)
            if isinstance(a, Abstract) and a.kind == "int":
                return 0 if a.value is None else a.value  # any int drops one axis
        val = self.stand_in(sl)
        if isinstance(val, np.ndarray) and val.dtype.kind in "iu":
            return val  # an integer index array: the result's shape is its shape
        if val is MISSING or isinstance(val, np.ndarray):
            return MISSING  # masks: data-dependent shapes
        return val

    def evaluate(self, fn, args, keywords):
        if fn is None or _any_starred(args):
            return TOP
        vals = [self.stand_in(a) for a in args]
        guessed = False
        elementwise = fn in _ELEMENTWISE or isinstance(fn, np.ufunc)
        if elementwise:
            # arithmetic on an int of unknown value (a loop index): a scalar all the
            # same, though the result's value is unknown too
            for i, a in enumerate(args):
                if vals[i] is MISSING and isinstance(a, gast.Name) and isinstance(
                        self.known.get(a.id), Abstract) and self.known[a.id].kind == "int":
                    vals[i], guessed = 1, True
        if fn in _MATMUL and len(vals) == 2 and not keywords \
                and all(isinstance(v, np.ndarray) and v.ndim for v in vals):
            # the product's shape without multiplying the stand-ins (millions of flops)
            return _matmul_shape(*vals)
        kws = {k.arg: self.stand_in(k.value) for k in keywords}
        if _any_missing(vals) or kws and _any_missing(kws.values()):
            return TOP
        if (elementwise or registry.is_elementwise(fn)) and not kws \
                and _all_numeric(vals):
            # elementwise: the broadcast shape, and the dtype from 0-d stand-ins
            # (cheap, however large the arrays); the same operation on the same
            # stand-ins and numbers gives the same answer: worked out once
            key = _elementwise_key(fn, vals, guessed)
            if key is not None:
                got = self.elementwise.get(key)
                if got is not None:
                    return got
            got = _elementwise(fn, vals, guessed)
            if key is not None:
                self.elementwise[key] = got
            return got
        if fn in _DATA_SHAPED or getattr(fn, "__name__", None) in _DATA_SHAPED_NAMES \
                or fn is np.where and len(args) + len(keywords) == 1:
            return TOP  # the result's shape depends on the values, not the shapes
        try:
            out = fn(*vals, **kws)
        except Exception:
            return TOP
        out = abstract(out)
        if isinstance(out, Abstract) and out.value is not None and fn not in _SHAPE_ONLY \
                and self.reads_data(list(args) + [k.value for k in keywords]):
            # an int computed from the stand-ins' values (argmax, int(x), ...) is not
            # the run's: keep only what it is
            return Abstract("int") if out.kind == "int" else TOP
        return out

    def reads_data(self, nodes):
        """Whether any of ``nodes`` reads a float's or an array's value (the stand-ins
        make those up; ``x.shape`` and friends are real)."""
        for node in nodes:
            if isinstance(node, gast.Attribute) and node.attr in ("shape", "ndim", "size"):
                continue
            if isinstance(node, gast.Name):
                a = self.known.get(node.id)
                if not isinstance(a, Abstract) or a.kind in ("array", "float"):
                    return True
            elif self.reads_data(list(gast.iter_child_nodes(node))):
                return True
        return False


def _any_starred(args):
    for a in args:
        if a.__class__ is gast.Starred:
            return True
    return False


def _any_missing(vals):
    for v in vals:
        if v is MISSING:
            return True
    return False


def _all_numeric(vals):
    """Whether every stand-in is an array or a Python number."""
    for v in vals:
        if v.__class__ not in _NUMERIC and not isinstance(v, (np.ndarray, float, int)):
            return False
    return True


_NUMERIC = frozenset({np.ndarray, float, int})


def _elementwise(fn, vals, guessed):
    """What the elementwise ``fn`` gives on the stand-ins ``vals``."""
    try:
        shape = np.broadcast_shapes(*[np.shape(v) for v in vals])
        small = [v.reshape(-1)[:1].reshape(()) if isinstance(v, np.ndarray) else v
                 for v in vals]
        out = abstract(fn(*small))
    except Exception:
        return TOP
    if isinstance(out, Abstract) and (shape or out.kind == "array"):
        return Abstract("array", shape, out.dtype or np.dtype(np.float64))
    if guessed and isinstance(out, Abstract) and out.kind == "int":
        return Abstract("int")
    return out


def _elementwise_key(fn, vals, guessed):
    """A key for ``_elementwise(fn, vals, guessed)`` when ``vals`` are shared stand-ins
    (``Abstract.stand_in``: all of their elements 0.5 in their dtype) and Python
    numbers, else None (an array of real values: not remembered)."""
    parts = [fn, guessed]
    for v in vals:
        t = type(v)
        if t is float or t is int:
            parts.append((t, v))
        elif t is np.ndarray and v is _STAND_INS.get((v.shape, v.dtype)):
            parts.append((v.shape, v.dtype))
        else:
            return None
    key = tuple(parts)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _matmul_shape(a, b):
    """What ``a @ b`` gives for arrays of at least one dimension (or TOP on a mismatch)."""
    sa, sb = a.shape, b.shape
    a2 = sa if len(sa) > 1 else (1,) + sa
    b2 = sb if len(sb) > 1 else sb + (1,)
    if a2[-1] != b2[-2]:
        return TOP
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        return TOP
    shape = batch + (a2[-2],) * (len(sa) > 1) + (b2[-1],) * (len(sb) > 1)
    return Abstract("array", shape, np.result_type(a.dtype, b.dtype))


_ELEMENTWISE = {_op.add, _op.sub, _op.mul, _op.truediv, _op.pow, _op.neg, _op.pos, _op.mod}
_MATMUL = {_op.matmul, np.matmul}
# functions whose result's shape depends on the data: never run on stand-ins
_DATA_SHAPED = {np.unique, np.nonzero, np.flatnonzero, np.argwhere, np.compress, np.extract,
                np.bincount, np.histogram, np.histogram_bin_edges, np.histogramdd,
                np.trim_zeros, np.setdiff1d, np.intersect1d, np.union1d, np.setxor1d,
                np.repeat, np.delete, np.insert, np.ndarray.nonzero, np.ndarray.repeat,
                np.ndarray.compress, np.resize}
_DATA_SHAPED_NAMES = {"unique_values", "unique_counts", "unique_inverse", "unique_all"}
# functions whose int result comes from shapes alone
_SHAPE_ONLY = {len, np.shape, np.ndim, np.size}


def broadcast(a, b):
    if a.__class__ is not tuple or b.__class__ is not tuple:  # (shapes are plain tuples)
        return TOP
    if a == b or not b:  # the common cases, without NumPy's overhead
        return a
    if not a:
        return b
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return TOP


def infer(tree, ctx, param_values):
    """What is known (shape, dtype) of each name of normalized ``tree``."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # NumPy on made-up values may warn of them
        return ShapeInference(tree, ctx, param_values).run()


__all__ = ["infer", "broadcast", "Abstract", "abstract", "TOP"]
