"""Optimizer pass -- a constant factor of an adjoint carried to where it is needed.

A mean's adjoint is ``1/n`` in every element, and a rule multiplies the adjoint
it is given into each contribution it makes: the backward sweep of
``np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))`` applies
``1/n`` three times (``c / (1 + e)``, ``c * y``, ``c * tie``), where a person
writes the sum of the terms and divides once.  This pass keeps such a factor
beside the value it scales instead of in it: it reads each statement of the
backward sweep as ``k * s``, ``k`` a number known now and ``s`` what is left to
compute, through the operations for which that is exact but for rounding
(products, quotients, negation, sums of terms with the same factor or its
negative, matrix products, sums over axes, reshapes), and multiplies ``k`` in
once: where the value is read in any other way, leaves the sweep, or is read
twice (the factor once on the value beats once per reader).  Above,
``dz = c * (tie - (e / (1.0 + e) * np.sign(z) + y))``.

It fires only where moving a factor cannot change a result beyond rounding:
every value involved is a float64 array or a Python number (not float32, whose
rounding would differ, nor an integer, whose arithmetic would, nor a value of
unknown type); a number stays a number (a name bound to one keeps its
statement, and a sum of a number and an array is left as written).  A value
that would become another's array under a new name (``d = 0.5 * y`` read as
``0.5`` times ``y`` itself) is not bound until its factor is applied, so no
adjoint ever shares an array the derivative did not make.  Straight-line
statements only carry factors; a branch or loop gets every factor it reads
applied first, and its blocks are read the same way, each on its own.
"""
from __future__ import annotations

import math
import warnings
from collections import Counter

import gast
import numpy as np

from sourcegrad import runtime
from sourcegrad.annotations import getanno, setanno
from sourcegrad.astutil import copy_tree, name_list
from sourcegrad.normalize import assign, const, name
from sourcegrad.parse import MISSING
from sourcegrad.rules import numpy_core, registry

_NAME, _CONST, _BINOP = gast.Name, gast.Constant, gast.BinOp

# calls linear in every array argument at once (the factors multiply)
_PRODUCTS = {np.outer, np.dot, np.matmul, np.multiply}
# calls linear in their first argument, the others read as they are; those that
# make a new array (the others may hand back a view or the argument itself)
_LINEAR_NEW = {np.sum}
_LINEAR_VIEW = {np.transpose, np.reshape, np.broadcast_to, np.expand_dims, np.squeeze,
                runtime.unbroadcast}
_SUM_GRAD = getattr(numpy_core, "_sum_grad", None)
if _SUM_GRAD is not None:
    _LINEAR_VIEW.add(_SUM_GRAD)
_METHODS_NEW = {"sum"}           # d.sum(axis=0): new; d.reshape(s), d.transpose(): views
_METHODS_VIEW = {"reshape", "transpose"}
_KEYWORDS = {"axis", "keepdims"}  # the keywords a sum may take here
_SMALL, _LARGE = 1e-150, 1e150  # a factor outside this range is applied at once
_SLOT = object()  # where a deferred statement would have been


class _Lin:
    """A value ``k * s``: ``k`` a float, ``s`` an expression (a float64 value)."""

    __slots__ = ("k", "s")

    def __init__(self, k, s):
        self.k, self.s = k, s


class _Const:
    """A value known now: a Python int or float."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


class _Unhandled(Exception):
    """The statement is left as it is (its factors applied first)."""


class Factors:
    """The pass over one function's backward sweep (see the module docstring).

    ``forward``: the names the forward sweep or the parameters bind (their
    statements are never rewritten here; what ``ctx.shapes`` knows of them
    holds for every binding)."""

    def __init__(self, ctx, forward):
        self.ctx = ctx
        self.known = ctx.shapes
        self.forward = forward
        self.kinds = {}  # (function, argument kinds) -> whether it gives float64

    # -- what a value is ---------------------------------------------------------
    def float64(self, n):
        """Whether name ``n`` of the forward sweep certainly holds a float64 value
        (an array of that dtype or a Python float)."""
        a = self.known.get(n)
        return a is not None and (a.kind == "float" or a.kind == "array"
                                  and a.dtype == np.float64)

    def call_kind(self, fn, kinds):
        """Whether elementwise ``fn`` gives float64 on float64 values and the numbers
        ``kinds`` (each "f", or the number itself)."""
        key = (fn, tuple(kinds))
        got = self.kinds.get(key)
        if got is None:
            args = [np.full((), 0.5) if k == "f" else k for k in kinds]
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    out = fn(*args)
                got = isinstance(out, (np.ndarray, np.float64)) and out.dtype == np.float64
            except Exception:
                got = False
            self.kinds[key] = got
        return got

    def linear_call(self, node):
        """``(kind, new)`` for a call ``value`` handles: kind "product" (linear in
        every argument), "first" (in the first, or the receiver of a method);
        ``new``: whether it makes a new array.  None for any other call."""
        if node.keywords and not all(k.arg in _KEYWORDS for k in node.keywords):
            return None
        func = node.func
        if isinstance(func, gast.Attribute) and func.attr == "outer" \
                and self.ctx.static_env(func.value) is np.multiply:
            return None if node.keywords else ("product", True)
        obj = self.ctx.static_env(func)
        if obj is MISSING and isinstance(func, gast.Attribute):
            if func.attr in _METHODS_NEW:
                return "method", True
            if func.attr in _METHODS_VIEW and not node.keywords:
                return "method", False
            return None
        try:
            if obj in _PRODUCTS and not node.keywords and len(node.args) == 2:
                return "product", True
            if obj in _LINEAR_NEW and node.args:
                return "first", True
            if obj in _LINEAR_VIEW and node.args and not node.keywords:
                return "first", False
        except TypeError:  # (an object that cannot be hashed: an array, say)
            pass
        return None


class _Block:
    """The factors of one block of statements, read in order."""

    def __init__(self, p, stmts, live_out, floats):
        self.p = p
        self.out = []
        self.consts = {}    # name -> its number (its statement stays)
        self.scale = {}     # name -> k: its true value is k times what it holds
        # name -> [k, s, statement, its place in out or None]: not bound yet; k * s
        self.deferred = {}
        self.refs = {}      # name -> the deferred names whose s reads it
        self.floats = set(floats)  # names bound here to float64 values
        self.binder = {}    # name -> the statement of this block that bound it last
        self.read = set()   # names read since that statement
        self.live_out = live_out  # names read after the block (None: all)
        self.names = [_names(st) for st in stmts]  # (loads, stores) of each statement
        self.reads = _reads_per_binding(self.names, live_out)  # (index, name) -> reads
        self.current = {}   # name -> index of the statement that bound it last
        self.stmts = stmts

    # -- the walk ------------------------------------------------------------------
    def run(self):
        for i, st in enumerate(self.stmts):
            loads, stores = self.names[i]
            if not self.statement(st):
                self.opaque(st, loads, stores)
            for n in stores:
                self.current[n] = i
        live = self.live_out
        for n in sorted(set(self.scale) | set(self.deferred)):
            if (live is None or n in live) and (n in self.scale or n in self.deferred):
                self.apply(n)
        return [st for st in self.out if st is not _SLOT]

    def bound(self, n, st):
        """``st`` (emitted) binds ``n``: nothing has read that binding yet."""
        self.binder[n] = st
        self.read.discard(n)

    def emit(self, st, loads=None):
        self.out.append(st)
        self.read.update(_loads(st) if loads is None else loads)

    def opaque(self, st, loads, stores):
        """A statement read as it is (``loads``, ``stores``: the names it reads and
        binds): the factors of those names applied first, and (a branch, a loop) its
        blocks read on their own."""
        mentioned = set(loads)
        mentioned.update(stores)
        if self.scale or self.deferred:
            for n in sorted(mentioned):
                if n in self.scale or n in self.deferred:
                    self.apply(n)
        if self.refs:
            for n in sorted(mentioned):
                self.unbind(n)  # (a call may write into an array it reads, too)
        if isinstance(st, (gast.If, gast.For, gast.While)):
            inner = self.floats - set(stores) if not isinstance(st, gast.If) else self.floats
            st.body = _Block(self.p, st.body, None, inner).run()
            st.orelse = _Block(self.p, st.orelse, None, inner).run()
        for n in stores:
            self.consts.pop(n, None)
            self.floats.discard(n)
            self.binder.pop(n, None)
        self.emit(st, loads)

    def unbind(self, n):
        """``n`` is about to be bound: the deferred values reading it are bound first."""
        for m in sorted(self.refs.get(n, ())):
            if m in self.deferred:
                self.apply(m)

    def statement(self, st):
        """Read ``st`` as ``t = k * s`` and emit what it becomes; False when it is not
        a statement this pass rewrites (nothing emitted then)."""
        if not (isinstance(st, gast.Assign) and len(st.targets) == 1
                and isinstance(st.targets[0], _NAME)) or st.targets[0].id in self.p.forward \
                or getanno(st, "pop", None) or getanno(st, "primal", False):
            return False
        t = st.targets[0].id
        try:
            self.linear, self.hidden, self.changed = [], [], False
            self.value(st.value, dry=True)
            # a factor read inside another operation, or read more than once, is
            # applied first
            first = [n for n in self.hidden if n in self.scale or n in self.deferred]
            first += [n for n in self.linear if (n in self.scale or n in self.deferred
                                                 and self.deferred[n][0] != 1)
                      and self.reads.get((self.current.get(n, -1), n), 0) > 1]
            for n in sorted(set(first)):
                self.apply(n)
            self.linear, self.hidden, self.changed = [], [], False
            got = self.value(st.value)
        except (_Unhandled, ArithmeticError):
            return False
        if isinstance(got, _Lin) and not (_SMALL <= abs(got.k) <= _LARGE):
            return False
        self.unbind(t)
        self.consts.pop(t, None)
        self.scale.pop(t, None)
        self.binder.pop(t, None)
        self.drop_deferred(t)
        if isinstance(got, _Const):
            self.floats.discard(t)
            self.consts[t] = got.v
            self.emit(st)
            return True
        self.floats.add(t)
        if not self.changed:  # (k is 1 and s is the value as written)
            self.emit(st)
            self.bound(t, st)
            return True
        if _makes_array(got.s, self.p):
            st.value = got.s
            self.emit(st)
            self.bound(t, st)
            if got.k != 1:
                self.scale[t] = got.k
            return True
        # another value itself (a name, a view of one): bound when its factor is
        # (its place kept: bound there, if its factor is still the one it has now)
        self.deferred[t] = [got.k, got.s, st, len(self.out)]
        self.out.append(_SLOT)
        for n in _loads(got.s):
            self.refs.setdefault(n, set()).add(t)
        return True

    def drop_deferred(self, n):
        """Forget the deferred value of ``n``: ``[k, s, statement, place]``, or None."""
        got = self.deferred.pop(n, None)
        if got is not None:
            for m in _loads(got[1]):
                self.refs.get(m, set()).discard(n)
        return got

    def apply(self, n):
        """Bind ``n`` to its true value: its factor multiplied in."""
        if n in self.deferred:
            k, s, st, slot = self.drop_deferred(n)
            st.value = _times(k, s)
            if slot is None:
                self.emit(st)
            else:
                self.out[slot] = st
                self.read.update(_loads(st))
            self.bound(n, st)
            return
        k = self.scale.pop(n)
        st = self.binder.get(n)
        here = st is None or n in self.read
        if not here:
            st.value = _times(k, st.value)  # (nothing read it since: scaled where made)
        else:
            st = assign(n, _times(k, name(n)))
            setanno(st, "pure", True)
            self.emit(st)
            self.bound(n, st)
        for m in self.refs.get(n, ()):  # deferred values reading n: k of theirs is in n now
            got = self.deferred.get(m)
            if got is not None:
                got[0] /= k
                if here:  # (in its place it would read n without the factor)
                    got[3] = None

    # -- values --------------------------------------------------------------------
    def value(self, e, dry=False):
        """``e`` as a ``_Const`` or ``_Lin``; raises ``_Unhandled``."""
        cls = e.__class__
        if cls is _CONST:
            if type(e.value) not in (int, float):
                raise _Unhandled
            return _Const(e.value)
        if cls is _NAME:
            return self.name_value(e, dry)
        if cls is _BINOP:
            return self.binop(e, dry)
        if cls is gast.UnaryOp and isinstance(e.op, gast.USub):
            inner = self.value(e.operand, dry)
            self.changed = True
            if isinstance(inner, _Const):
                return _Const(-inner.v)
            return _Lin(-inner.k, inner.s)
        if cls is gast.Call:
            got = self.call(e, dry)
            if got is not None:
                return got
        if cls is gast.Attribute and e.attr == "T":
            inner = self.value(e.value, dry)
            if isinstance(inner, _Lin):
                return _Lin(inner.k, gast.Attribute(value=inner.s, attr="T", ctx=gast.Load()))
            raise _Unhandled
        return self.hidden_value(e)

    def name_value(self, e, dry):
        n = e.id
        if n in self.consts:
            self.changed = True
            return _Const(self.consts[n])
        self.linear.append(n)
        if n in self.deferred:
            self.changed = True
            k, s = self.deferred[n][:2]
            return _Lin(k, s if dry else copy_tree(s))
        if n in self.scale:
            self.changed = True
            return _Lin(self.scale[n], e)
        if n in self.floats or n in self.p.forward and self.p.float64(n):
            return _Lin(1.0, e)
        raise _Unhandled

    def hidden_value(self, e):
        """Any other expression: read as it is (factor 1) when it is a float64 value;
        the names in it get their factors applied first."""
        if not self.is_float64(e):
            raise _Unhandled
        self.hidden += _loads(e)
        return _Lin(1.0, e)

    def is_float64(self, e):
        kind = self.kind(e)
        return kind == "f"

    def kind(self, e):
        """"f" for a float64 value, a number for a Python number (its value, or 0.5
        when only its type is known), None for anything else."""
        cls = e.__class__
        if cls is _CONST:
            return e.value if type(e.value) in (int, float) else None
        if cls is _NAME:
            n = e.id
            if n in self.consts:
                return self.consts[n]
            if n in self.floats or n in self.scale or n in self.deferred \
                    or n in self.p.forward and self.p.float64(n):
                return "f"
            return None
        if cls is _BINOP:
            a, b = self.kind(e.left), self.kind(e.right)
            if a is None or b is None or "f" not in (a, b) or not isinstance(
                    e.op, (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.MatMult)):
                return None
            if isinstance(e.op, gast.MatMult) and (a != "f" or b != "f"):
                return None
            return "f"
        if cls is gast.UnaryOp and isinstance(e.op, gast.USub):
            k = self.kind(e.operand)
            return "f" if k == "f" else None
        if cls is gast.Call and not e.keywords:
            fn = self.p.ctx.static_env(e.func)
            if fn is MISSING or not (isinstance(fn, np.ufunc) or registry.is_elementwise(fn)):
                return None
            kinds = [self.kind(a) for a in e.args]
            if any(k is None for k in kinds) or "f" not in kinds:
                return None
            return "f" if self.p.call_kind(fn, kinds) else None
        return None

    def binop(self, e, dry):
        op = e.op.__class__
        if op not in (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.MatMult):
            return self.hidden_value(e)
        a, b = self.value(e.left, dry), self.value(e.right, dry)
        ca, cb = isinstance(a, _Const), isinstance(b, _Const)
        if ca and cb:
            return _folded(op, a, b)
        if op is gast.Mult or op is gast.MatMult:
            return self.product(e, op, a, b, ca, cb)
        if op is gast.Div:
            return self.quotient(a, b, ca, cb)
        # a sum or a difference: of two terms with a factor each
        if ca or cb:  # a number plus an array: read as it is
            return self.hidden_value(e)
        sub = op is gast.Sub
        if a.k == 1 and b.k == 1:
            return _Lin(1.0, _bin(a.s, e.op, b.s))
        self.changed = True
        if b.k == a.k or b.k == -a.k:
            flip = b.k != a.k  # a.k * (sa +- (-sb))
            k, s = a.k, _bin(a.s, gast.Sub() if sub != flip else gast.Add(), b.s)
        else:  # factors of their own: each multiplied in
            return _Lin(1.0, _bin(_scaled(a), e.op, _scaled(b)))
        if k < 0 and isinstance(s.op, gast.Sub):  # -c * (a - b) as c * (b - a)
            k, s = -k, _bin(s.right, gast.Sub(), s.left)
        return _Lin(k, s)

    def product(self, e, op, a, b, ca, cb):
        """``a * b`` or ``a @ b`` of two terms (one may be a number)."""
        if ca or cb:
            if op is gast.MatMult:
                raise _Unhandled
            c, lin = (a, b) if ca else (b, a)
            self.changed = True
            return _Lin(c.v * lin.k, lin.s)
        if a.k != 1 or b.k != 1:
            self.changed = True
        return _Lin(a.k * b.k, _bin(a.s, e.op, b.s))

    def quotient(self, a, b, ca, cb):
        """``a / b`` of two terms (one may be a number)."""
        if cb:
            if b.v == 0:
                raise _Unhandled
            self.changed = True
            return _Lin(a.k / b.v, a.s)
        if ca:  # c / s: (c / k) * (1.0 / s)
            self.changed = True
            return _Lin(_ratio(a.v, b.k), _bin(const(1.0), gast.Div(), b.s))
        if a.k != 1 or b.k != 1:
            self.changed = True
        return _Lin(_ratio(a.k, b.k), _bin(a.s, gast.Div(), b.s))

    def call(self, e, dry):
        how = self.p.linear_call(e)
        if how is None:
            return None
        kind, _ = how
        if kind == "product":
            parts = [self.value(a, dry) for a in e.args]
            if any(isinstance(x, _Const) for x in parts):
                raise _Unhandled
            k = 1.0
            for x in parts:
                k *= x.k
            if k != 1 or any(x.k != 1 for x in parts):
                self.changed = True
            return _Lin(k, gast.Call(func=e.func, args=[x.s for x in parts],
                                     keywords=e.keywords))
        if kind == "method":
            recv = e.func.value
            inner = self.value(recv, dry)
            if not isinstance(inner, _Lin):
                raise _Unhandled
            self.others(e.args + [k.value for k in e.keywords])
            if inner.k != 1:
                self.changed = True
            return _Lin(inner.k, gast.Call(
                func=gast.Attribute(value=inner.s, attr=e.func.attr, ctx=gast.Load()),
                args=e.args, keywords=e.keywords))
        inner = self.value(e.args[0], dry)
        if not isinstance(inner, _Lin):
            raise _Unhandled
        self.others(e.args[1:] + [k.value for k in e.keywords])
        if inner.k != 1:
            self.changed = True
        return _Lin(inner.k, gast.Call(func=e.func, args=[inner.s] + e.args[1:],
                                       keywords=e.keywords))

    def others(self, args):
        """The arguments read as they are (axes, shapes): their names' factors applied
        first."""
        for a in args:
            self.hidden += _loads(a)


_ARITH = {gast.Add: lambda a, b: a + b, gast.Sub: lambda a, b: a - b,
          gast.Mult: lambda a, b: a * b, gast.Div: lambda a, b: a / b}


def _scaled(x):
    """The expression of ``_Lin`` ``x``'s value, its factor multiplied in."""
    return x.s if x.k == 1 else _times(x.k, x.s)


def _folded(op, a, b):
    """Two numbers combined by ``op`` (a finite int or float, or _Unhandled)."""
    if op is gast.MatMult:
        raise _Unhandled
    try:
        v = _ARITH[op](a.v, b.v)
    except (ArithmeticError, ValueError):
        raise _Unhandled
    if type(v) not in (int, float) or not math.isfinite(v):
        raise _Unhandled
    return _Const(v)


def _ratio(a, b):
    """``a / b`` for two factors, when that is a finite number."""
    if b == 0:
        raise _Unhandled
    r = a / b
    if not math.isfinite(r):
        raise _Unhandled
    return r


def _bin(left, op, right):
    return gast.BinOp(left=left, op=op, right=right)


def _times(k, s):
    """``k * s`` (``-s`` for -1; ``1.0 * s`` too: a new array, where ``s`` is another's)."""
    if k == -1:
        return gast.UnaryOp(op=gast.USub(), operand=s)
    return _bin(const(float(k)), gast.Mult(), s)


def _makes_array(s, p):
    """Whether evaluating ``s`` makes a new value (never hands back one it reads)."""
    if isinstance(s, (gast.BinOp, gast.UnaryOp)):
        return True
    if isinstance(s, gast.Call):
        how = p.linear_call(s)
        if how is not None:
            return how[1]
        # a ufunc (not a helper of the rules: one may hand back its argument)
        return not s.keywords and isinstance(p.ctx.static_env(s.func), np.ufunc)
    return False


def _names(node):
    """``(loads, stores)``: the names ``node`` reads and those it binds."""
    loads, stores = [], []
    for n in name_list(node):
        ctx = n.ctx.__class__
        if ctx is gast.Load:
            loads.append(n.id)
        elif ctx is gast.Store:
            stores.append(n.id)
    return loads, stores


def _loads(node):
    return [n.id for n in name_list(node) if n.ctx.__class__ is gast.Load]


def _reads_per_binding(names, live_out):
    """How often each binding is read (``names``: each statement's loads and stores):
    ``(index of the statement that bound the name, the name) -> reads`` (index -1:
    bound before the block); a name read after the block (``live_out``; None: every
    name) counts one more for its last binding."""
    reads, current = Counter(), {}
    for i, (loads, stores) in enumerate(names):
        for n in loads:
            reads[(current.get(n, -1), n)] += 1
        for n in stores:
            current[n] = i
    for n, i in current.items():
        if live_out is None or n in live_out:
            reads[(i, n)] += 1
    if live_out is not None:
        for n in live_out:
            if n not in current:
                reads[(-1, n)] += 1
    return reads


def factor(stmts, ctx, forward, live_out):
    """The backward-sweep statements ``stmts`` with constant factors carried (see the
    module docstring); ``forward``: the names bound before them (parameters and the
    forward sweep); ``live_out``: the names read after them."""
    if not ctx.shapes or ctx.spec.library != "numpy" or _narrow_inputs(ctx):
        return stmts
    return _Block(Factors(ctx, set(forward)), list(stmts), set(live_out), ()).run()


def _narrow_inputs(ctx):
    """Whether an input is an array of a float type narrower than float64 (float32,
    float16): then any value may be, whatever the shapes inferred (NumPy 1.x promotes
    by value, which inference does not follow), and nothing is carried."""
    return any(getattr(a, "kind", None) == "array" and a.dtype is not None
               and a.dtype.kind == "f" and a.dtype.itemsize < 8
               for _, a in ctx.spec.shapes)


__all__ = ["factor"]
