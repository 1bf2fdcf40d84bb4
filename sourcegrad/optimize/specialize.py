"""Optimizer pass -- the backward sweep specialised on known shapes.

With the inputs' shapes known (``shapes.infer``), the backward sweep is
simplified the way a person would write it:

* ``unbroadcast(e, x)`` becomes ``e`` when ``e`` already has ``x``'s shape
  (or ``e.sum(axis=0)`` when it is broadcast along leading axes);
* ``matmul_adjoint_a/b`` become ``dz @ b.T``, ``np.outer(a, dz)``, ... ;
* ``seed_like(out)`` becomes ``np.ones_like(out)`` (or ``1.0``) for a known array;
* a loss's seed for a constant ``reduction`` becomes ``dz / n`` (or ``dz``);
* a reduction's adjoint spread over its input stays small while only
  elementwise operations read it (``Uniform``).

An unknown shape (a value from user code, an attribute, a data-dependent
index) simply leaves the general code in place.  Runs on the backward sweep
before the functions are assembled: what it stops reading, the forward sweep
need not save (``optimize.saves``).
"""
from __future__ import annotations

import gast
import numpy as np

from sourcegrad import runtime
from sourcegrad.annotations import setanno
from sourcegrad.astutil import PLAIN_NAME, NodeTransformer, name_nodes
from sourcegrad.normalize import assign, const, name
from sourcegrad.parse import MISSING
from sourcegrad.rules import numpy_core, registry
from sourcegrad.shapes import TOP, broadcast


class Specializer(NodeTransformer):
    def __init__(self, ctx, known, adjoint_of):
        self.ctx = ctx
        self.known = known
        self.shapes = {n: a.shape for n, a in known.items()}
        self.ints = {n: a.value for n, a in known.items()
                     if a.kind == "int" and a.value is not None}
        if not self.ints:  # visit_Name has nothing to do: names are not visited
            self._visitors = dict(type(self)._visitors)
            self._visitors[gast.Name] = PLAIN_NAME
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
                        id(getattr(numpy_core, "_count", None)): "count",
                        id(getattr(numpy_core, "_abs_grad", None)): "abs_grad",
                        id(getattr(numpy_core, "_above", None)): "above"}
        self.helpers.pop(id(None), None)

    def shape(self, node):
        cls = node.__class__
        if cls is gast.Constant:
            return () if isinstance(node.value, (int, float)) else TOP
        if cls is gast.Name:
            return self.shapes.get(node.id, TOP)
        if cls is gast.BinOp and node.op.__class__ is not gast.MatMult:
            return broadcast(self.shape(node.left), self.shape(node.right))
        if cls is gast.UnaryOp and node.op.__class__ is gast.USub:
            return self.shape(node.operand)
        if cls is gast.Compare:   # (y != 0): elementwise
            out = self.shape(node.left)
            for c in node.comparators:
                out = broadcast(out, self.shape(c))
            return out
        if isinstance(node, gast.Call):
            obj = self.ctx.static_env(node.func)
            if (registry.is_elementwise(obj) or obj is np.where and len(node.args) == 3) \
                    and node.args and not node.keywords:
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
        value = self.ints.get(node.id)
        if value is not None and isinstance(node.ctx, gast.Load):
            return const(value)
        return node

    def child(self, x):
        """``self.visit(x)``, a constant (and, when no int is known, a name) answered
        at once."""
        cls = x.__class__
        if cls is gast.Constant:
            return x
        if cls is gast.Name and x.annotation is None:
            return self.visit_Name(x) if self.ints else x
        return self.visit(x)

    def visit_BinOp(self, node):
        left, right = node.left, node.right
        new = self.child(left)
        if new is not left:
            node.left = new
        new = self.child(right)
        if new is not right:
            node.right = new
        return node

    def visit_Assign(self, node):
        targets = node.targets
        for i, t in enumerate(targets):
            new = self.child(t)
            if new is not t:
                targets[i] = new
        value = self.child(node.value)
        if value is not node.value:
            node.value = value
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
        if kind is None:
            return self.loss_seed(node) if registry.is_loss_seed(obj) else node
        if kind in ("seed_like", "ones_like", "zeros_like"):
            return self.seed(kind, node)
        return getattr(self, kind)(node)

    def unbroadcast(self, node):
        """``unbroadcast(e, x)``: ``e`` when shaped like ``x``, else summed to it."""
        e, x = node.args
        se, sx = self.shape(e), self.shape(x)
        if isinstance(se, tuple) and se == sx:
            return e
        if isinstance(se, tuple) and isinstance(sx, tuple) and se and _broadcasts(sx, se):
            return _sum_to(e, se, sx, self.functions())
        return node

    def abs_grad(self, node):
        """``_abs_grad(e, x)`` of a real ``x``: ``e * np.sign(x)``, the helper's
        own real branch (its complex one needs the check at run time)."""
        e, x = node.args
        a = self.known.get(x.id) if isinstance(x, gast.Name) else None
        if a is not None and (a.kind == "float" or a.dtype is not None
                              and a.dtype.kind in "fiub"):
            return gast.BinOp(left=e, op=gast.Mult(), right=self.np_call("sign", x))
        return node

    def above(self, node):
        """``_above(x1, x2)`` on NumPy arrays: ``np.where(x1 == x2, 0.5, x1 > x2)``
        written in (no call; NumPy mixes the comparison's booleans into the floats,
        which the Array API, the helper's other audience, does not)."""
        if self.ctx.spec.library != "numpy" or len(node.args) != 2 or node.keywords:
            return node
        x1, x2 = node.args
        if not any(isinstance(x, gast.Name) and x.id in self.known for x in (x1, x2)):
            return node
        step = self.step(x1, x2)
        if step is not None:
            return step
        return self.np_call("where", gast.Compare(left=x1, ops=[gast.Eq()], comparators=[x2]),
                            const(0.5), gast.Compare(left=x1, ops=[gast.Gt()],
                                                     comparators=[x2]))

    def step(self, x1, x2):
        """``_above(x, 0)`` (``_above(0, x)``) of a float64 array ``x``: NumPy's step
        function, ``np.fmax(np.heaviside(x, 0.5), 0.0)`` (``-x``), the same numbers
        (1 above, 0.5 at a tie, 0 below; ``fmax`` turns heaviside's NaN into the
        helper's 0) in two ufunc calls instead of two comparisons and a ``where``
        that mixes booleans into floats.  None for another dtype (the helper's
        result is float64 whatever its input) or a comparand other than zero."""
        zero = [isinstance(x, gast.Constant) and type(x.value) in (int, float)
                and x.value == 0 for x in (x1, x2)]
        if zero[0] == zero[1]:
            return None
        x = x2 if zero[0] else x1
        a = self.known.get(x.id) if isinstance(x, gast.Name) else None
        if a is None or a.kind != "array" or not a.shape or a.dtype != np.float64:
            return None
        arg = gast.UnaryOp(op=gast.USub(), operand=x) if zero[0] else x
        return self.np_call("fmax", self.np_call("heaviside", arg, const(0.5)), const(0.0))

    def matmul_a(self, node):
        return self.matmul("matmul_a", node)

    def matmul_b(self, node):
        return self.matmul("matmul_b", node)

    def matmul(self, kind, node):
        """``matmul_adjoint_a/b(dz, a, b)`` for known ranks: ``dz @ b.T``, ..."""
        dz, a, b = node.args
        sa, sb = self.shape(a), self.shape(b)
        if isinstance(sa, tuple) and isinstance(sb, tuple):
            return matmul_adjoint(kind, dz, a, b, len(sa), len(sb), self.ctx) or node
        return node

    def seed(self, kind, node):
        """``seed_like(x)``, ``np.ones_like(x)``, ``np.zeros_like(x)`` of a known ``x``:
        a scalar constant, or ``np.ones_like`` of an array."""
        if len(node.args) != 1 or node.keywords:
            return node
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
        return node

    def sum_grad(self, node):
        """A reduction's adjoint spread over its input (kept small by Uniform)."""
        if len(node.args) != 4:
            return node
        dz, a, axis, keep = node.args
        sa, axes = self.shape(a), _const_axes(axis)
        if not (isinstance(sa, tuple) and axes is not None and isinstance(keep, gast.Constant)):
            return node
        if not keep.value and axes != () and sa:
            try:
                axes = tuple(sorted(i % len(sa) for i in (axes or range(len(sa)))))
            except ZeroDivisionError:
                return node
            dz = self.np_call("expand_dims", dz, _tuple(axes))
        return self.np_call("broadcast_to", dz, _tuple(sa))

    def count(self, node):
        """How many elements a reduction reads, for known shapes: a constant."""
        if len(node.args) != 2:
            return node
        sa = self.shape(node.args[0])
        axes = _const_axes(node.args[1])
        if isinstance(sa, tuple) and axes is not None:
            try:
                picked = [sa[i] for i in axes] if axes else sa
            except IndexError:
                return node
            return const(int(np.prod(picked)))
        return node

    def loss_seed(self, node):
        """The adjoint of each element of a loss reduced by a constant ``reduction``,
        for a known input shape: ``dz / n`` ('mean'), ``dz`` ('sum', 'none')."""
        if len(node.args) != 3 or node.keywords:
            return node
        dz, x, reduction = node.args
        sx = self.shape(x)
        if not (isinstance(sx, tuple) and isinstance(reduction, gast.Constant)
                and reduction.value in ("mean", "sum", "none")):
            return node
        if reduction.value != "mean":
            return dz
        return gast.BinOp(left=dz, op=gast.Div(), right=const(max(int(np.prod(sx)), 1)))

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
            t = s.targets[0].id if s.__class__ is gast.Assign \
                and s.targets[0].__class__ is gast.Name else None
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
        cls = node.__class__
        if cls is gast.Name:
            return node, self.lean.get(node.id, sp.shapes.get(node.id, TOP))
        if cls is gast.Constant:
            return node, sp.shape(node)
        if cls is gast.BinOp and node.op.__class__ is not gast.MatMult:
            left, sl = self.slim(node.left, opaque)
            right, sr = self.slim(node.right, opaque)
            if left is not node.left or right is not node.right:
                node = gast.BinOp(left=left, op=node.op, right=right)
            return node, broadcast(sl, sr)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            operand, so = self.slim(node.operand, opaque)
            if operand is not node.operand:
                node = gast.UnaryOp(op=node.op, operand=operand)
            return node, so
        if isinstance(node, gast.Compare):
            parts = [self.slim(e, opaque) for e in [node.left] + node.comparators]
            shape = ()
            for _, sp_ in parts:
                shape = broadcast(shape, sp_)
            return gast.Compare(left=parts[0][0], ops=node.ops,
                                comparators=[e for e, _ in parts[1:]]), shape
        if isinstance(node, gast.Call) and not node.keywords:
            got = self.slim_call(node, opaque)
            if got is not None:
                return got
        opaque.update(n.id for n in name_nodes(node) if n.id in self.lean)
        return node, self.sp.shape(node)

    def slim_call(self, node, opaque):
        """``slim`` of a call (``broadcast_to``, ``expand_dims``, an elementwise
        function), or None for another."""
        obj = self.sp.ctx.static_env(node.func)
        if obj is np.broadcast_to and len(node.args) == 2:
            target = _const_shape(node.args[1])
            inner, si = self.slim(node.args[0], opaque)
            if target is not None and isinstance(si, tuple) and _broadcasts(si, target):
                return inner, si
        elif obj is np.expand_dims and len(node.args) == 2:
            inner, si = self.slim(node.args[0], opaque)
            if si == ():  # (a reduction's adjoint over some axes: still one number)
                return inner, si
        elif registry.is_elementwise(obj) or obj is np.where and len(node.args) == 3 \
                or isinstance(obj, np.ufunc) and len(node.args) == obj.nin:
            args, shape = [], ()
            for a in node.args:
                a, sa = self.slim(a, opaque)
                args.append(a)
                shape = broadcast(shape, sa)
            if any(a is not b for a, b in zip(args, node.args)):
                node = gast.Call(func=node.func, args=args, keywords=[])
            return node, shape
        return None


def _broadcasts(small, big):
    return small == big or len(small) <= len(big) and all(
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


__all__ = ["specialize"]
