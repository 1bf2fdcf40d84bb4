"""Part of stage 4 -- the shapes of values, when the inputs' shapes are known.

A derivative may be specialised on the shapes of the arrays it is called
with (``Spec.shapes``).  ``infer`` then propagates shapes through the
normalized function -- broadcasting for operators and ufuncs, NumPy itself
on zero-stride dummy arrays for other primitives -- and ``specialize``
uses them to simplify the backward sweep the way a person would:

* ``unbroadcast(e, x)`` becomes ``e`` when ``e`` already has ``x``'s shape;
* ``matmul_adjoint_a/b`` become ``dz @ b.T``, ``np.outer(a, dz)``, ... ;
* ``seed_like(out)`` becomes ``np.ones_like(out)`` for a known array.

An unknown shape (a value from user code, an attribute, a data-dependent
index) simply leaves the general code in place.
"""
from __future__ import annotations

import operator as _op
import warnings

import gast
import numpy as np

from sourcegrad import runtime
from sourcegrad.annotations import setanno
from sourcegrad.astutil import BINOPS, NodeTransformer, name_nodes, walk
from sourcegrad.activity import statements
from sourcegrad.normalize import assign, const, name
from sourcegrad.parse import MISSING
from sourcegrad.rules import numpy_core, registry

TOP = "?"          # unknown


class Abstract:
    """What is known of a value: ``kind`` ("array", "float", "int") and shape/dtype."""

    __slots__ = ("kind", "shape", "dtype", "value", "_stand_in")

    def __init__(self, kind, shape=(), dtype=None, value=None):
        # value: the int itself when it is a known constant (an axis, a size)
        self.kind, self.shape, self.dtype, self.value = kind, tuple(shape), dtype, value
        self._stand_in = MISSING

    def __eq__(self, other):
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
        self.known = dict(param_values)
        a = tree.args
        for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
            if p is not None and p.id not in self.known:
                self.known[p.id] = TOP  # an input not known (a list, a dict): never a
                #                          shape of a value it is rebound to later

    def run(self):
        memo = {}  # see value_of
        for _ in range(8):
            before = dict(self.known)
            for s in statements(self.tree.body):
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                    n = s.targets[0].id
                    self.known[n] = join(self.known.get(n), self.value_of(s, memo))
                elif isinstance(s, gast.For) and isinstance(s.target, gast.Name):
                    it = s.iter
                    ranged = isinstance(it, gast.Call) and isinstance(it.func, gast.Name) \
                        and it.func.id == "range"
                    self.known[s.target.id] = Abstract("int") if ranged else TOP
                elif isinstance(s, gast.Assign) and not isinstance(s.targets[0], gast.Subscript):
                    for t in walk(s.targets[0]):
                        if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store):
                            self.known[t.id] = TOP
            if self.known == before:
                break
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
            {n.id: None for n in name_nodes(s.value)})
        seen = tuple(self.known.get(n) for n in reads)
        if entry is not None and entry[1] == seen:
            return entry[2]
        out = self.expr(s.value)
        memo[id(s)] = (reads, seen, out)
        return out

    # -- expressions ---------------------------------------------------------------
    def stand_in(self, node):
        """A stand-in value for ``node`` to run NumPy on, or MISSING."""
        if isinstance(node, gast.Constant):
            return node.value
        if isinstance(node, gast.Name):
            a = self.known.get(node.id)
            if isinstance(a, Abstract):
                v = a.stand_in()
                return MISSING if v is None else v
            if node.id in self.ctx.locals:
                return MISSING
        if isinstance(node, (gast.Name, gast.Attribute)):
            obj = self.ctx.static(node)  # a module constant such as np.pi or np.float32
            if obj is not MISSING:
                return obj
            return MISSING
        if isinstance(node, gast.Tuple):
            items = [self.stand_in(e) for e in node.elts]
            return MISSING if any(i is MISSING for i in items) else tuple(items)
        return MISSING

    def expr(self, v):  # noqa: C901 (16; to split)
        if isinstance(v, (gast.Name, gast.Constant)):
            val = self.stand_in(v)
            return TOP if val is MISSING else abstract(val)
        if isinstance(v, gast.BinOp):
            return self.evaluate(BINOPS.get(type(v.op)), [v.left, v.right], [])
        if isinstance(v, gast.UnaryOp):
            if isinstance(v.op, (gast.USub, gast.UAdd)):
                return self.expr(v.operand)
            return TOP
        if isinstance(v, gast.Call):
            kind, obj = self.ctx.classify(v)
            if obj is len:
                got = self.evaluate(len, v.args, v.keywords)
                return got if got != TOP else Abstract("int")
            if kind in ("rule", "nondiff") and obj is not MISSING and obj is not None:
                return self.evaluate(obj, v.args, v.keywords)
            if kind == "method":
                return self.evaluate(obj, [v.func.value] + list(v.args), v.keywords)
            if kind == "user" and hasattr(self.ctx, "callee_result"):
                # what a function of ours returns, given what its arguments are
                return self.ctx.callee_result(obj, v, self.known)
            return TOP
        if isinstance(v, gast.Attribute):
            base = self.stand_in(v.value)
            if base is MISSING or not isinstance(base, np.ndarray) \
                    or v.attr not in ("T", "shape", "ndim", "size"):
                return TOP
            return abstract(getattr(base, v.attr))
        if isinstance(v, gast.Subscript):
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
        return TOP

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
        if fn is None or any(isinstance(a, gast.Starred) for a in args):
            return TOP
        vals = [self.stand_in(a) for a in args]
        guessed = False
        if fn in _ELEMENTWISE or isinstance(fn, np.ufunc):
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
        if any(v is MISSING for v in vals) or any(v is MISSING for v in kws.values()):
            return TOP
        if (fn in _ELEMENTWISE or isinstance(fn, np.ufunc)) and not kws \
                and all(isinstance(v, (np.ndarray, float, int)) for v in vals):
            # elementwise: the broadcast shape, and the dtype from 0-d stand-ins
            # (cheap, however large the arrays)
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
    if not isinstance(a, tuple) or not isinstance(b, tuple):
        return TOP
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return TOP


def infer(tree, ctx, param_values):
    """What is known (shape, dtype) of each name of normalized ``tree``."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # NumPy on made-up values may warn of them
        return ShapeInference(tree, ctx, param_values).run()


# -- specialising the backward sweep ------------------------------------------------------

class Specializer(NodeTransformer):
    def __init__(self, ctx, known, adjoint_of):
        self.ctx = ctx
        self.known = known
        self.shapes = {n: a.shape for n, a in known.items()}
        for primal, adj in adjoint_of.items():
            if primal in self.shapes:
                self.shapes[adj] = self.shapes[primal]
        self.helpers = {id(runtime.unbroadcast): "unbroadcast",
                        id(runtime.matmul_adjoint_a): "matmul_a",
                        id(runtime.matmul_adjoint_b): "matmul_b",
                        id(runtime.seed_like): "seed_like",
                        id(np.ones_like): "ones_like",
                        id(np.zeros_like): "zeros_like",
                        id(runtime.zeros_like): "zeros_like",
                        id(getattr(numpy_core, "_sum_grad", None)): "sum_grad",
                        id(getattr(numpy_core, "_count", None)): "count"}
        self.helpers.pop(id(None), None)

    def shape(self, node):
        if isinstance(node, gast.Constant):
            return () if isinstance(node.value, (int, float)) else TOP
        if isinstance(node, gast.Name):
            return self.shapes.get(node.id, TOP)
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            return broadcast(self.shape(node.left), self.shape(node.right))
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            return self.shape(node.operand)
        if isinstance(node, gast.Compare):   # (y != 0): elementwise
            out = self.shape(node.left)
            for c in node.comparators:
                out = broadcast(out, self.shape(c))
            return out
        if isinstance(node, gast.Call):
            obj = self.ctx.static_env(node.func)
            if registry.is_elementwise(obj) and node.args and not node.keywords:
                out = self.shape(node.args[0])
                for a in node.args[1:]:
                    out = broadcast(out, self.shape(a))
                return out
            if obj is np.expand_dims and len(node.args) == 2 and not node.keywords:
                inner, axes = self.shape(node.args[0]), _const_shape(node.args[1])
                if isinstance(inner, tuple) and axes is not None:
                    try:
                        return np.expand_dims(np.broadcast_to(0.0, inner), axes).shape
                    except ValueError:  # AxisError is a ValueError too
                        return TOP
            if isinstance(obj, np.ufunc) and len(node.args) == obj.nin and not node.keywords:
                out = self.shape(node.args[0])
                for a in node.args[1:]:
                    out = broadcast(out, self.shape(a))
                return out
        return TOP

    def visit_Name(self, node):
        # an int the shapes fix (a length, an axis size) is a constant here
        a = self.known.get(node.id)
        if isinstance(node.ctx, gast.Load) and a is not None and a.kind == "int" \
                and a.value is not None:
            return const(a.value)
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        t = node.targets[0]
        if isinstance(t, gast.Name) and t.id not in self.shapes:
            s = self.shape(node.value)
            if s != TOP:
                self.shapes[t.id] = s
        return node

    def visit_Call(self, node):  # noqa: C901 (18; to split)
        self.generic_visit(node)
        obj = self.ctx.static_env(node.func)
        kind = self.helpers.get(id(obj)) if obj is not MISSING else None
        if kind == "unbroadcast":
            e, x = node.args
            se, sx = self.shape(e), self.shape(x)
            if isinstance(se, tuple) and se == sx:
                return e
            if isinstance(se, tuple) and isinstance(sx, tuple) and se \
                    and _broadcasts(sx, se):
                return _sum_to(e, se, sx, self.functions())
        elif kind in ("matmul_a", "matmul_b"):
            dz, a, b = node.args
            sa, sb = self.shape(a), self.shape(b)
            if isinstance(sa, tuple) and isinstance(sb, tuple):
                return matmul_adjoint(kind, dz, a, b, len(sa), len(sb), self.ctx) or node
        elif kind in ("seed_like", "ones_like", "zeros_like") and len(node.args) == 1 \
                and not node.keywords:
            x = node.args[0]
            a = self.known.get(x.id) if isinstance(x, gast.Name) else None
            fill = 0.0 if kind == "zeros_like" else 1.0
            if a is not None and a.shape == () and a.dtype == np.float64 \
                    or a is not None and a.kind == "float":
                return const(fill)  # a float64 scalar: its seed is just 1.0
            if a is not None and a.shape == () and a.dtype is not None \
                    and a.dtype.kind == "f" and hasattr(np, a.dtype.name):
                # np.float32(1.0): the seed without computing the output itself
                return gast.Call(func=gast.Attribute(
                    value=name(self.ctx.env_name("np", np)), attr=a.dtype.name,
                    ctx=gast.Load()), args=[const(fill)], keywords=[])
            if kind == "zeros_like":
                return node
            if isinstance(self.shape(x), tuple):
                return gast.Call(func=gast.Attribute(value=name(self.ctx.env_name("np", np)),
                                                     attr="ones_like", ctx=gast.Load()),
                                 args=node.args, keywords=[])
        elif kind == "sum_grad" and len(node.args) == 4:
            # the output's adjoint spread over the input (kept small by Uniform)
            dz, a, axis, keep = node.args
            sa, axes = self.shape(a), _const_axes(axis)
            if isinstance(sa, tuple) and axes is not None and isinstance(keep, gast.Constant):
                if not keep.value and axes != () and sa:
                    try:
                        axes = tuple(sorted(i % len(sa) for i in (axes or range(len(sa)))))
                    except ZeroDivisionError:
                        return node
                    dz = self.np_call("expand_dims", dz, _tuple(axes))
                return self.np_call("broadcast_to", dz, _tuple(sa))
        elif kind == "count" and len(node.args) == 2:
            sa = self.shape(node.args[0])
            axes = _const_axes(node.args[1])
            if isinstance(sa, tuple) and axes is not None:
                try:
                    picked = [sa[i] for i in axes] if axes else sa
                except IndexError:
                    return node
                return const(int(np.prod(picked)))
        return node

    def functions(self):
        """On an Array API namespace (whose arrays have no ``sum``/``reshape``
        methods), the ``np`` name through which to call them as functions."""
        if self.ctx.spec.library.startswith("namespace:"):
            return name(self.ctx.env_name("np", np))
        return None

    def np_call(self, fn, *args):
        return gast.Call(func=gast.Attribute(value=name(self.ctx.env_name("np", np)), attr=fn,
                                             ctx=gast.Load()), args=list(args), keywords=[])


def _num(node):
    if isinstance(node, gast.BinOp):
        return _num(node.left) and _num(node.right)
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


def _sum_to(e, se, sx, np_=None):
    """``unbroadcast(e, x)`` written out: ``e.sum(axis=...)`` down to ``x``'s shape
    (``np.sum(e, axis=...)`` given ``np_``, the name of NumPy's functions)."""
    def method(obj, attr, args, **kw):
        func, args = (gast.Attribute(value=obj, attr=attr, ctx=gast.Load()), args) \
            if np_ is None else (gast.Attribute(value=np_, attr=attr, ctx=gast.Load()),
                                 [obj] + args)
        return gast.Call(func=func, args=args, keywords=[gast.keyword(arg=k, value=v)
                                                         for k, v in kw.items()])

    if sx == ():
        return method(e, "sum", [])
    extra = len(se) - len(sx)
    lead = tuple(range(extra))
    ones = tuple(extra + i for i, n in enumerate(sx) if n == 1 and se[extra + i] != 1)

    axes = lead + ones
    axis = const(axes[0]) if len(axes) == 1 else _tuple(axes)
    if not ones:
        return method(e, "sum", [], axis=axis)
    summed = method(e, "sum", [], axis=axis, keepdims=const(True))
    return summed if not lead else method(summed, "reshape", [_tuple(sx)])


def _const_axes(node):
    """An ``axis`` argument given as a literal: () for None, else a tuple of ints."""
    if _is_const(node, None):
        return ()
    single = _const_int(node)
    if single is not None:
        return (single,)
    return _const_shape(node)


def _is_const(node, value):
    return isinstance(node, gast.Constant) and node.value is value


def _tuple(shape):
    return gast.Tuple(elts=[const(int(n)) for n in shape], ctx=gast.Load())


def _T(e):
    return gast.Attribute(value=e, attr="T", ctx=gast.Load())


def matmul_adjoint(kind, dz, a, b, na, nb, ctx):
    """The adjoint of ``a @ b`` for 1-D/2-D operands, as a person writes it."""
    np_ = name(ctx.env_name("np", np))

    def mm(x, y):
        return gast.BinOp(left=x, op=gast.MatMult(), right=y)

    def npcall(fn, *args):
        return gast.Call(func=gast.Attribute(value=np_, attr=fn, ctx=gast.Load()),
                         args=list(args), keywords=[])

    if na == 2 and nb == 2:
        return mm(dz, _T(b)) if kind == "matmul_a" else mm(_T(a), dz)
    def outer(x, y):  # np.multiply.outer: np.outer without its Python-level overhead
        if ctx.spec.library.startswith("namespace:"):  # no ufunc methods there
            return npcall("outer", x, y)
        return gast.Call(func=gast.Attribute(value=gast.Attribute(
            value=np_, attr="multiply", ctx=gast.Load()), attr="outer", ctx=gast.Load()),
            args=[x, y], keywords=[])

    if na == 1 and nb == 2:
        return mm(b, dz) if kind == "matmul_a" else outer(a, dz)
    if na == 2 and nb == 1:
        return outer(dz, b) if kind == "matmul_a" else mm(dz, a)
    if na == 1 and nb == 1:
        return gast.BinOp(left=dz, op=gast.Mult(), right=b if kind == "matmul_a" else a)
    return None


class Uniform:
    """Keep broadcast adjoints small: ``d = np.broadcast_to(c, S)`` becomes ``d = c``.

    The adjoint of a sum or mean is its output's adjoint spread over the input's
    shape: every element the same (or the same along the reduced axes).  As long
    as such a value only meets elementwise operations, the small value gives the
    same result as the spread one (NumPy broadcasts it at the point of use), so
    ``dsub = 1/n`` replaces an array of n copies of ``1/n``, and the optimizer
    can fold the constants that follow.

    A name holding a small value is *lean*: its real shape broadcasts to its
    nominal one (the shape its primal has).  Before anything but an elementwise
    operation reads a lean name (a matmul, a reduction, a call, a loop, the
    return), it is spread out to its nominal shape with ``np.full``.
    Top-level statements only: a name assigned inside a loop or branch is never
    lean.
    """

    def __init__(self, sp, live_out):
        self.sp = sp
        self.live_out = live_out  # names read after these statements
        self.lean = {}       # name -> its real (smaller) shape
        self.ever = set()    # every name that was lean somewhere

    def run(self, stmts):
        out = []
        for s in stmts:
            t = s.targets[0].id if isinstance(s, gast.Assign) and isinstance(
                s.targets[0], gast.Name) else None
            if t is not None:
                opaque = set()
                value, real = self.slim(s.value, opaque)
                nominal = self.sp.shapes.get(t, TOP)
                if not opaque and isinstance(real, tuple) and isinstance(nominal, tuple) \
                        and _broadcasts(real, nominal):
                    s.value = value
                    if real != nominal:
                        self.lean[t] = real
                        self.ever.add(t)
                    else:
                        self.lean.pop(t, None)
                    out.append(s)
                    continue
            # anything else reading or binding a lean name (a call, a loop, a branch
            # that may or may not rebind it) gets it at full shape first
            out += self.spread(sorted({n.id for n in name_nodes(s) if n.id in self.lean}), out)
            out.append(s)
        return out + self.spread(sorted(set(self.lean) & self.live_out), out)

        return out + self.spread(sorted(set(self.lean) & self.live_out), out)

    def spread(self, names, done):
        """``n = np.full(S, n)`` for each lean name: its full (owned) array.  Just
        after ``n = v`` (the last of ``done``), that becomes ``n = np.full(S, v)``."""
        out = []
        for n in names:
            last = done[-1] if done else None
            full = lambda v: self.sp.np_call("full", _tuple(self.sp.shapes[n]), v)  # noqa: E731
            if isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name) \
                    and last.targets[0].id == n:
                last.value = full(last.value)
            else:
                st = assign(n, full(name(n)))
                setanno(st, "pure", True)
                out.append(st)
            del self.lean[n]
        return out

    def slim(self, node, opaque):
        """``node`` with spreads unwrapped where only elementwise operations consume
        them, and its real shape; lean names read elsewhere go into ``opaque``."""
        sp = self.sp
        if isinstance(node, gast.Name):
            return node, self.lean.get(node.id, sp.shapes.get(node.id, TOP))
        if isinstance(node, gast.Constant):
            return node, sp.shape(node)
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            left, sl = self.slim(node.left, opaque)
            right, sr = self.slim(node.right, opaque)
            return gast.BinOp(left=left, op=node.op, right=right), broadcast(sl, sr)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            operand, so = self.slim(node.operand, opaque)
            return gast.UnaryOp(op=node.op, operand=operand), so
        if isinstance(node, gast.Compare):
            parts = [self.slim(e, opaque) for e in [node.left] + node.comparators]
            shape = ()
            for _, sp_ in parts:
                shape = broadcast(shape, sp_)
            return gast.Compare(left=parts[0][0], ops=node.ops,
                                comparators=[e for e, _ in parts[1:]]), shape
        if isinstance(node, gast.Call) and not node.keywords:
            obj = sp.ctx.static_env(node.func)
            if obj is np.broadcast_to and len(node.args) == 2:
                target = _const_shape(node.args[1])
                inner, si = self.slim(node.args[0], opaque)
                if target is not None and isinstance(si, tuple) and _broadcasts(si, target):
                    return inner, si
            elif registry.is_elementwise(obj) or isinstance(obj, np.ufunc) \
                    and len(node.args) == obj.nin:
                args, shape = [], ()
                for a in node.args:
                    a, sa = self.slim(a, opaque)
                    args.append(a)
                    shape = broadcast(shape, sa)
                return gast.Call(func=node.func, args=args, keywords=[]), shape
        opaque.update(n.id for n in name_nodes(node) if n.id in self.lean)
        return node, sp.shape(node)


def _broadcasts(small, big):
    return len(small) <= len(big) and all(
        a in (1, b) for a, b in zip(small[::-1], big[::-1]))


def _const_shape(node):
    """A tuple of int literals (negative ones too), or None."""
    if isinstance(node, gast.Tuple):
        items = [_const_int(e) for e in node.elts]
        if all(i is not None for i in items):
            return tuple(items)
    return None


def _const_int(node):
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _const_int(node.operand)
        return None if inner is None else -inner
    return None


def specialize(stmts, ctx, shapes, adjoint_of, live_out, leaned=None):
    """Simplify backward-sweep statements using known shapes (see module docstring);
    ``live_out``: the names read after ``stmts``; names that were ever bound to a
    small stand-in for a broadcast value are added to ``leaned``."""
    if not shapes:
        return stmts
    sp = Specializer(ctx, shapes, adjoint_of)
    uniform = Uniform(sp, set(live_out))
    out = uniform.run([sp.visit(s) for s in stmts])
    if leaned is not None:
        leaned |= uniform.ever
    return out


__all__ = ["infer", "specialize", "Abstract", "abstract", "TOP"]
