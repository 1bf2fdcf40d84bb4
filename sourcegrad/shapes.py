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

import warnings

import gast
import numpy as np

from sourcegrad import runtime
from sourcegrad.activity import statements
from sourcegrad.normalize import const, name
from sourcegrad.parse import MISSING
from sourcegrad.rules import registry

TOP = "?"          # unknown
INT = ("int",)     # a Python integer (a loop index, a length): shape ()


def dummy(shape):
    """A zero-stride array of ``shape`` (no memory, whatever its size)."""
    return np.broadcast_to(np.zeros((), dtype=np.float64), shape)


def join(a, b):
    if a is None:
        return b
    if b is None or a == b:
        return a
    return TOP


class ShapeInference:
    def __init__(self, tree, ctx, param_shapes):
        self.tree = tree
        self.ctx = ctx
        self.shape = dict(param_shapes)

    def run(self):
        for _ in range(8):
            before = dict(self.shape)
            for s in statements(self.tree.body):
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                    n = s.targets[0].id
                    self.shape[n] = join(self.shape.get(n), self.expr(s.value))
                elif isinstance(s, gast.For) and isinstance(s.target, gast.Name):
                    it = s.iter
                    if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) \
                            and it.func.id == "range":
                        self.shape[s.target.id] = INT
                    else:
                        self.shape[s.target.id] = TOP
                elif isinstance(s, gast.Assign):
                    for t in gast.walk(s.targets[0]):
                        if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store):
                            if not isinstance(s.targets[0], gast.Subscript):
                                self.shape[t.id] = TOP
            if self.shape == before:
                break
        else:
            for k, v in self.shape.items():
                if before.get(k) != v:
                    self.shape[k] = TOP
        return {k: v for k, v in self.shape.items() if v not in (None, TOP)}

    # -- expressions ---------------------------------------------------------------
    def of(self, node):
        if isinstance(node, gast.Constant):
            v = node.value
            if isinstance(v, bool) or isinstance(v, int):
                return INT
            if isinstance(v, (float, complex)):
                return ()
            return TOP
        if isinstance(node, gast.Name):
            s = self.shape.get(node.id, TOP)
            return TOP if s is None else s
        return TOP

    def value(self, node):
        """A stand-in value for evaluating a primitive, or MISSING."""
        if isinstance(node, gast.Constant):
            return node.value
        s = self.of(node)
        if s is INT:
            return 0
        if isinstance(s, tuple):
            return dummy(s)
        if isinstance(node, gast.Name):  # a module constant such as np.pi
            obj = self.ctx.static(node)
            if obj is not MISSING and not callable(obj):
                return obj
        if isinstance(node, gast.Attribute):
            obj = self.ctx.static(node)
            if obj is not MISSING:
                return obj
        if isinstance(node, gast.Tuple):
            items = [self.value(e) for e in node.elts]
            return MISSING if any(i is MISSING for i in items) else tuple(items)
        return MISSING

    def expr(self, v):
        if isinstance(v, (gast.Name, gast.Constant)):
            return self.of(v)
        if isinstance(v, gast.BinOp):
            a, b = self.of(v.left), self.of(v.right)
            if isinstance(v.op, gast.MatMult):
                return self.evaluate(np.matmul, [v.left, v.right], [])
            return broadcast(a, b)
        if isinstance(v, gast.UnaryOp):
            if isinstance(v.op, (gast.USub, gast.UAdd)):
                return self.of(v.operand)
            return TOP
        if isinstance(v, gast.Call):
            kind, obj = self.ctx.classify(v)
            if obj is len or obj is int:
                return INT
            if kind in ("rule", "nondiff") and obj is not MISSING and obj is not None:
                if isinstance(obj, np.ufunc) and not v.keywords and len(v.args) == obj.nin:
                    shapes = [self.of(a) for a in v.args]
                    out = shapes[0]
                    for s in shapes[1:]:
                        out = broadcast(out, s)
                    return out
                return self.evaluate(obj, v.args, v.keywords)
            if kind == "method":
                return self.evaluate(obj, [v.func.value] + list(v.args), v.keywords)
            return TOP
        if isinstance(v, gast.Attribute):
            base = self.of(v.value)
            if isinstance(base, tuple) and base is not INT and v.attr == "T":
                return tuple(reversed(base))
            return TOP
        if isinstance(v, gast.Subscript):
            base = self.of(v.value)
            if not isinstance(base, tuple) or base is INT:
                return TOP
            idx = self.index(v.slice)
            if idx is MISSING:
                return TOP
            try:
                return np.shape(dummy(base)[idx])
            except Exception:
                return TOP
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
        if isinstance(sl, gast.Constant):
            return sl.value
        if self.of(sl) is INT:
            return 0
        obj = self.ctx.static(sl)
        if obj is None or obj is Ellipsis:
            return obj
        return MISSING

    def evaluate(self, fn, args, keywords):
        if any(isinstance(a, gast.Starred) for a in args):
            return TOP
        vals = [self.value(a) for a in args]
        kws = {k.arg: self.value(k.value) for k in keywords}
        if any(v is MISSING for v in vals) or any(v is MISSING for v in kws.values()):
            return TOP
        if fn is runtime.np.ones_like or fn is runtime.np.zeros_like:
            return np.shape(vals[0])
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = fn(*vals, **kws)
        except Exception:
            return TOP
        if isinstance(out, (np.ndarray, np.generic, float)):
            if isinstance(out, np.ndarray) and not np.issubdtype(out.dtype, np.inexact):
                return TOP  # integer/boolean arrays: not adjoint-carrying
            return np.shape(out)
        if isinstance(out, (int, np.integer)):
            return INT
        return TOP


def broadcast(a, b):
    if a is INT:
        a = ()
    if b is INT:
        b = ()
    if not isinstance(a, tuple) or not isinstance(b, tuple):
        return TOP
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return TOP


def infer(tree, ctx, param_shapes):
    """Shapes of the names of normalized ``tree`` given the parameters' shapes."""
    return ShapeInference(tree, ctx, param_shapes).run()


# -- specialising the backward sweep ------------------------------------------------------

class Specializer(gast.NodeTransformer):
    def __init__(self, ctx, shapes, adjoint_of):
        self.ctx = ctx
        self.shapes = dict(shapes)
        for primal, adj in adjoint_of.items():
            if primal in shapes:
                self.shapes[adj] = shapes[primal]
        self.helpers = {id(runtime.unbroadcast): "unbroadcast",
                        id(runtime.matmul_adjoint_a): "matmul_a",
                        id(runtime.matmul_adjoint_b): "matmul_b",
                        id(runtime.seed_like): "seed_like"}

    def shape(self, node):
        if isinstance(node, gast.Constant):
            return () if isinstance(node.value, (int, float)) else TOP
        if isinstance(node, gast.Name):
            s = self.shapes.get(node.id, TOP)
            return () if s is INT else s
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            return broadcast(self.shape(node.left), self.shape(node.right))
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            return self.shape(node.operand)
        if isinstance(node, gast.Call):
            obj = self.ctx.static_env(node.func)
            if isinstance(obj, np.ufunc) and len(node.args) == obj.nin and not node.keywords:
                out = self.shape(node.args[0])
                for a in node.args[1:]:
                    out = broadcast(out, self.shape(a))
                return out
        return TOP

    def visit_Assign(self, node):
        self.generic_visit(node)
        t = node.targets[0]
        if isinstance(t, gast.Name) and t.id not in self.shapes:
            s = self.shape(node.value)
            if s != TOP:
                self.shapes[t.id] = s
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        obj = self.ctx.static_env(node.func)
        kind = self.helpers.get(id(obj)) if obj is not MISSING else None
        if kind == "unbroadcast":
            e, x = node.args
            se, sx = self.shape(e), self.shape(x)
            if isinstance(se, tuple) and se == sx:
                return e
        elif kind in ("matmul_a", "matmul_b"):
            dz, a, b = node.args
            sa, sb = self.shape(a), self.shape(b)
            if isinstance(sa, tuple) and isinstance(sb, tuple):
                return matmul_adjoint(kind, dz, a, b, len(sa), len(sb), self.ctx) or node
        elif kind == "seed_like":
            s = self.shape(node.args[0])
            if isinstance(s, tuple):
                return gast.Call(func=gast.Attribute(value=name(self.ctx.env_name("np", np)),
                                                     attr="ones_like", ctx=gast.Load()),
                                 args=node.args, keywords=[])
        return node


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
    if na == 1 and nb == 2:
        return mm(b, dz) if kind == "matmul_a" else npcall("outer", a, dz)
    if na == 2 and nb == 1:
        return npcall("outer", dz, b) if kind == "matmul_a" else mm(dz, a)
    if na == 1 and nb == 1:
        return gast.BinOp(left=dz, op=gast.Mult(), right=b if kind == "matmul_a" else a)
    return None


def specialize(stmts, ctx, shapes, adjoint_of):
    """Simplify backward-sweep statements using known shapes (see module docstring)."""
    if not shapes:
        return stmts
    sp = Specializer(ctx, shapes, adjoint_of)
    return [sp.visit(s) for s in stmts]


__all__ = ["infer", "specialize", "TOP", "INT", "const", "registry"]
