"""Part of stage 3 -- the attributes of known objects read as constants.

A Cell's ``construct`` reads its configuration and its Parameters through
``self``: ``self.reduction``, ``self.weight``, ``self.w``.  When the caller
calls a Cell it knows (``model(x)`` with ``model`` a global or closure
variable, or ``self.sub(x)`` inside such a Cell), the callee's derivative is
specialised on that object (``Spec.bound``, see ``pipeline.Context.callee``),
and here, after normalization, each read of one of its attributes becomes:

* for ``None``, a bool, an int, a float or a string: that constant, written
  into the statements that read it (``reduction='mean'``, ``weight=None``), so
  a rule can pick its variant for those constants (``rules.registry``) and
  the derivative has no test of them at run time;
* for a NumPy array (a Parameter): still a read at run time, with its shape
  and dtype known to ``shapes.infer`` (so the optimizer writes broadcasting
  and matrix adjoints out).

The same holds for reads through a global or closure variable holding such
an object (``model.w`` in a function).  Each pinned attribute is guarded:
the derivative is valid while the object's attribute is the same object (and
an array keeps its shape and dtype), so assigning ``loss_fn.reduction =
'sum'`` or ``net.w = Parameter(...)`` derives anew (docs/behaviour.md).

A function that may change those attributes while it runs is left alone:
one that assigns an attribute (or calls ``setattr``), calls something known
only at run time, or passes the object (or one on the way to the attribute)
to another function of its own.
"""
from __future__ import annotations

import types
import weakref

import gast
import numpy as np

from sourcegrad import astutil, runtime
from sourcegrad.annotations import getanno
from sourcegrad.normalize import assign, const, name
from sourcegrad.parse import MISSING
from sourcegrad.shapes import Abstract

# the values written into the code as constants
_CONSTANT_TYPES = (type(None), bool, int, float, str)


class Pin:
    """An object a derivative is specialised on (``Spec.bound``): equal only to a
    Pin of the same object while it lives; held weakly when it can be, so the
    cache of derivatives does not keep a Cell alive."""

    __slots__ = ("_ref", "_id", "label")

    def __init__(self, obj, label=""):
        self._id = id(obj)
        self.label = label  # how the caller named it (model, hidden): for names only
        try:
            self._ref = weakref.ref(obj)
        except TypeError:
            self._ref = lambda: obj

    def get(self):
        """The object, or None once it is gone."""
        return self._ref()

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        if not isinstance(other, Pin) or other._id != self._id:
            return False
        obj = self._ref()
        return obj is not None and obj is other._ref()

    def __repr__(self):
        return f"Pin({type(self._ref()).__name__} at {self._id:#x})"


def pinnable(obj) -> bool:
    """Whether ``obj`` is an object whose attributes may be pinned: one with its own
    attribute dict that is not a module, class, function or array."""
    return obj is not MISSING and obj is not None and not isinstance(
        obj, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
              types.MethodType, np.ndarray, np.generic, *_CONSTANT_TYPES)) \
        and isinstance(getattr(obj, "__dict__", None), dict)


def chain(node):
    """``(root name, [attr, ...])`` of ``a.b.c``, or None for another expression."""
    attrs = []
    while isinstance(node, gast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    return node.id, attrs[::-1]


def follow(root, attrs, guards):
    """The object ``root.a.b`` denotes now, through instance attributes only (each
    step guarded in ``guards``: ``(vars(obj), attr, "is", value)``), or MISSING."""
    obj = root
    for attr in attrs:
        if not pinnable(obj):
            return MISSING
        own = obj.__dict__
        if attr not in own:
            return MISSING
        value = own[attr]
        guards.append((own, attr, "is", value))
        obj = value
    return obj


def _passed_objects(tree, ctx):
    """The ids of the objects the function might change: every root a known object
    is passed to a function of ours (as ``self`` or an argument), and every object
    on the way to it; None when anything may change any attribute."""
    out = set()
    for node in astutil.nodes(tree):
        if isinstance(node, gast.Attribute) and isinstance(node.ctx, (gast.Store, gast.Del)):
            return None
        if not isinstance(node, gast.Call):
            continue
        func = ctx.static(node.func)
        if func in (setattr, delattr, object.__setattr__, object.__delattr__):
            return None
        kind, obj = ctx.classify(node)
        if kind in ("rule", "nondiff", "method"):
            continue
        if kind == "unknown" and (not callable(obj) or getattr(obj, "__objclass__", None)
                                  is np.ndarray):
            continue  # an array's method, or calling None (in a branch pruned below)
        if kind != "user":
            return None
        for a in [node.func] + list(node.args) + [k.value for k in node.keywords]:
            a = a.value if isinstance(a, gast.Starred) else a
            c = chain(a)
            if c is None:
                continue
            root, attrs = c
            for i in range(len(attrs) + 1):
                obj = ctx.pinned_root(root, attrs[:i])
                if obj is not MISSING:
                    out.add(id(obj))
    return out


def pin_reads(tree, ctx):
    """Pin the reads of known objects' attributes in normalized ``tree`` (module
    docstring): constants written in, arrays' shapes recorded in ``ctx.pinned``
    (by the id of the ``Attribute`` node), guards added to ``ctx.guards``."""
    reads = []
    for s in _statements_by_depth(tree.body):
        if s.__class__ is gast.Assign and len(s.targets) == 1 \
                and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Attribute):
            reads.append(s)
    if not reads:
        return
    changed = None
    constants = {}
    subclassed = []  # the reads of Parameters (pinned ndarray subclasses)
    for s in reads:
        found = _pinnable_read(s, ctx)
        if found is None:
            continue
        root, attrs, own, value, is_constant = found
        if changed is None:
            changed = _passed_objects(tree, ctx)
            if changed is None:
                return
        guards = []
        objs = [ctx.pinned_root(root, attrs[:i], guards) for i in range(len(attrs))]
        if any(id(o) in changed for o in objs):
            continue
        guards.append((own, attrs[-1], "is", value))
        if is_constant:
            s.value = const(value)
            constants[s.targets[0].id] = value
        else:
            guards.append((own, attrs[-1], "shape", (value.shape, value.dtype)))
            ctx.pinned[id(s.value)] = Abstract("array", value.shape, value.dtype)
            ctx.pinned_values[id(s.value)] = value
            if type(value) is not np.ndarray and ctx.spec.library == "numpy":
                subclassed.append(s)
        ctx.add_guards(guards)
    if constants:
        _propagate(tree, constants)
    if subclassed:
        _compute_with_plain(tree, subclassed, ctx)


def _statements_by_depth(body):
    """The statements of ``body`` and of the blocks nested in it, in the order
    ``astutil.nodes`` meets them (breadth first: a block's statements after every
    statement one level up), without walking the expressions."""
    level = body
    while level:
        deeper = []
        for s in level:
            yield s
            if s.__class__ not in _SIMPLE:
                for field in ("body", "orelse"):  # (try and match are refused before)
                    deeper += getattr(s, field, None) or ()
        level = deeper


_SIMPLE = frozenset({gast.Assign, gast.AugAssign, gast.Expr, gast.Return, gast.Pass})


def _pinnable_read(s, ctx):
    """``(root, attrs, owner's __dict__, value, is a constant)`` for ``t = a.b.c`` that
    reads a known object's own constant or numeric array, else None."""
    c = chain(s.value)
    if c is None or not c[1]:
        return None
    root, attrs = c
    base = ctx.pinned_root(root, attrs[:-1])
    if base is MISSING or not pinnable(base):
        return None
    own = base.__dict__
    if attrs[-1] not in own:
        return None
    value = own[attrs[-1]]
    is_constant = type(value) in _CONSTANT_TYPES
    if not (is_constant or isinstance(value, np.ndarray) and value.dtype.kind in "biufc"):
        return None
    return root, attrs, own, value, is_constant


def _compute_with_plain(tree, reads, ctx):
    """After ``self_w = self.w`` of a Parameter (an ndarray subclass), ``self_w_array =
    plain(self_w)``, and the function computes with that: NumPy is faster on a
    plain array, and ``self_w`` stays the Parameter its gradient goes to."""
    stores = {}
    for n in astutil.name_nodes(tree):
        if not isinstance(n.ctx, gast.Load):
            stores[n.id] = stores.get(n.id, 0) + 1
    renamed, after = {}, {}
    helper = ctx.env_name("plain", runtime.plain)
    for s in reads:
        t = s.targets[0].id
        if stores.get(t) != 1:
            continue
        renamed[t] = ctx.namer.fresh(t + "_array")
        after[id(s)] = assign(renamed[t], gast.Call(func=name(helper), args=[name(t)],
                                                    keywords=[]), getanno(s, "origin"))
    if not renamed:
        return

    class Rename(astutil.NodeTransformer):
        def visit_Name(self, node):
            if isinstance(node.ctx, gast.Load) and node.id in renamed:
                return name(renamed[node.id])
            return node

    Rename().visit(tree)
    _insert_after(tree, after)


def _insert_after(node, after):
    for field in ("body", "orelse"):
        body = getattr(node, field, None)
        if not isinstance(body, list) or not body or not isinstance(body[0], gast.stmt):
            continue
        out = []
        for s in body:
            _insert_after(s, after)
            out.append(s)
            if id(s) in after:
                out.append(after[id(s)])
        body[:] = out


_COMPARE = {gast.Is: lambda a, b: a is b, gast.IsNot: lambda a, b: a is not b,
            gast.Eq: lambda a, b: a == b, gast.NotEq: lambda a, b: a != b}


def _fold(node):
    """The value of ``node`` when it is a test of constants (``None is not None``,
    ``'mean' == 'sum'``, ``not True``), else MISSING."""
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not):
        v = _fold(node.operand)
        return MISSING if v is MISSING else not v
    if isinstance(node, gast.Compare) and len(node.ops) == 1 \
            and type(node.ops[0]) in _COMPARE:
        a, b = _fold(node.left), _fold(node.comparators[0])
        if a is MISSING or b is MISSING:
            return MISSING
        return _COMPARE[type(node.ops[0])](a, b)
    return MISSING


def _propagate(tree, constants):
    """Write the pinned constants into the statements that read them, for the names
    bound once (``self_reduction = 'mean'`` then ``f(x, self_reduction)``), tests of
    them too (``self.act is not None``), and drop the assignments no longer read."""
    stores = {}
    for n in astutil.name_nodes(tree):
        if not isinstance(n.ctx, gast.Load):
            stores[n.id] = stores.get(n.id, 0) + 1
    once = {k: v for k, v in constants.items() if stores.get(k) == 1}

    class Subst(astutil.NodeTransformer):
        def visit_Return(self, node):
            return node  # what is returned stays a name (the seeded output)

        def visit_Name(self, node):
            if isinstance(node.ctx, gast.Load) and node.id in once:
                return const(once[node.id])
            return node

    done = set()
    while set(once) - done:
        done = set(once)
        Subst().visit(tree)
        for s in astutil.nodes(tree):  # tests of the constants now constants themselves
            if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                    and isinstance(s.targets[0], gast.Name) and stores.get(s.targets[0].id) == 1 \
                    and not isinstance(s.value, gast.Constant):
                v = _fold(s.value)
                if v is not MISSING and type(v) in _CONSTANT_TYPES:
                    s.value = const(v)
                    once[s.targets[0].id] = v
    if not once:
        return
    _prune(tree)
    still = {n.id for n in astutil.name_nodes(tree) if isinstance(n.ctx, gast.Load)}
    _drop_assignments(tree, set(once) - still)


def _prune(node):
    """``if <constant>:`` replaced by the branch it takes (``if self.has_bias:``):
    the other branch may call what the constants rule out (``self.activation`` None)."""
    for field in ("body", "orelse"):
        body = getattr(node, field, None)
        if not isinstance(body, list) or not body or not isinstance(body[0], gast.stmt):
            continue
        out = []
        for s in body:
            while isinstance(s, gast.If) and isinstance(s.test, gast.Constant):
                taken = s.body if s.test.value else s.orelse
                if len(taken) != 1:
                    out += taken[:-1]
                    s = taken[-1] if taken else None
                else:
                    s = taken[0]
                if s is None:
                    break
            if s is None:
                continue
            _prune(s)
            out.append(s)
        if not out and field == "body":
            out = [gast.Pass()]
        body[:] = out


def _drop_assignments(node, names):
    for field in ("body", "orelse"):
        body = getattr(node, field, None)
        if not isinstance(body, list):
            continue
        body[:] = [s for s in body if not (
            isinstance(s, gast.Assign) and len(s.targets) == 1
            and isinstance(s.targets[0], gast.Name) and s.targets[0].id in names)]
        for s in body:
            if isinstance(s, gast.stmt):
                _drop_assignments(s, names)


__all__ = ["Pin", "pin_reads", "pinnable", "chain", "follow"]
