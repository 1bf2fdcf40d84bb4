"""Stage 3 -- one operation per statement (A-normal form).

After ``normalize`` every statement of the function body is one of::

    name = atom | op(atom, ...) | f(atom, ...) | atom.attr | atom[index] | (atom, ...)
    name[index] = atom                    # a write into an array
    if name: ... else: ...
    for name in range(atom, ...): ...     # other iterables become an index loop
    while name: ...                       # the test recomputed at the end of the body
    f(atom, ...)                          # a call for its side effect
    return atom | (atom, ...)             # once, at the end

where an atom is a name or a constant.  Temporaries get readable names from
the operation that made them; ``+=`` and tuple unpacking are desugared;
``x if c else y`` becomes an ``if`` statement.  Names assigned only at the
top level, outside loops and branches, are renamed on each re-assignment
(``x``, ``x_1``, ...) so that most overwrites disappear; names assigned
inside control flow keep one name and are saved/restored by ``reverse``.
Every produced statement remembers the user's statement it came from in
its ``origin`` annotation (for comments in the generated code and error positions).
"""
from __future__ import annotations

import functools
import inspect
import itertools
import types

import gast
import numpy as np

from sourcegrad import astutil, closures, inplace, refusals, runtime
from sourcegrad.astutil import copy_tree
from sourcegrad.inplace import LIST_METHODS, chained as _chained, entry_key
from sourcegrad.jumps import lower_jumps
from sourcegrad.parse import MISSING
from sourcegrad.rules import foreign, registry
from sourcegrad.annotations import copyanno, getanno, setanno

_OPNAMES = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "div",
    gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow", gast.MatMult: "matmul",
    gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not", gast.Invert: "invert",
    gast.BitAnd: "and", gast.BitOr: "or", gast.BitXor: "xor",
    gast.LShift: "lshift", gast.RShift: "rshift",
}


# Expressions kept whole: allowed only where no gradient flows through them.
OPAQUE = (gast.JoinedStr, gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp,
          gast.Lambda, gast.Dict, gast.Set)
OPAQUE_NAMES = {gast.ListComp: "list comprehension", gast.GeneratorExp: "generator expression",
                gast.SetComp: "set comprehension", gast.DictComp: "dict comprehension",
                gast.Lambda: "lambda", gast.Dict: "dict display", gast.Set: "set display",
                gast.JoinedStr: "f-string"}


# np.r_ and np.c_: indexing them builds an array from the items (see index_concat)
_CONCATENATORS = (type(np.r_), type(np.c_))



def _blocks(node):
    """Every statement list in ``node`` (bodies of loops, branches, with-blocks)."""
    for n in astutil.walk(node):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(n, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                yield block


def _flat_reads(fdef, every=None):
    """``x.flat[i]`` read (not written) -> ``x.ravel()[i]``: the same elements.
    ``every``: ``astutil.node_list(fdef)``, if the caller has it."""
    for n in astutil.node_list(fdef) if every is None else every:
        if n.__class__ is gast.Subscript and isinstance(n.ctx, gast.Load) \
                and isinstance(n.value, gast.Attribute) and n.value.attr == "flat" \
                and isinstance(n.value.ctx, gast.Load):
            n.value = gast.copy_location(gast.Call(func=gast.Attribute(
                value=n.value.value, attr="ravel", ctx=gast.Load()), args=[], keywords=[]),
                n.value)


def runtime_name(attr):
    """A reference to a runtime helper; the pipeline binds the name (its ``runtime`` annotation)."""
    node = gast.Name(id=attr, ctx=gast.Load(), annotation=None, type_comment=None)
    setanno(node, "runtime", getattr(runtime, attr))
    return node




# The stages make these nodes by the hundred: built without gast's generic
# keyword-argument constructor, about three times faster.
_new = gast.AST.__new__


def name(id_, ctx=None):
    node = _new(gast.Name)
    fields = node.__dict__
    fields["id"] = id_
    fields["ctx"] = ctx or _new(gast.Load)
    fields["annotation"] = fields["type_comment"] = None
    return node


def const(value):
    node = _new(gast.Constant)
    node.__dict__.update(value=value, kind=None)
    return node


def assign(target, value, origin=None):
    if isinstance(target, str):
        target = name(target, _new(gast.Store))
    node = _new(gast.Assign)
    node.__dict__.update(targets=[target], value=value, type_comment=None)
    setanno(node, "origin", origin)
    return node


def is_atom(node) -> bool:
    return isinstance(node, (gast.Name, gast.Constant))


def _dict_update(call, dicts) -> bool:
    """Whether ``call`` is ``d.update(e, k=u)`` on a name that only holds dicts."""
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
        and call.func.attr == "update" and isinstance(call.func.value, gast.Name) \
        and call.func.value.id in dicts and len(call.args) <= 1 \
        and not any(k.arg is None for k in call.keywords)


# methods and functions that write into their first argument, rewritten as writes
# (Normalizer.ufunc_at_writes)
_WRITERS = frozenset({"at", "fill", "copyto", "putmask", "place", "put"})


def _stored(every) -> set:
    """The names bound among the nodes ``every`` (``assigned_names`` of a whole
    function, given ``astutil.node_list`` of it)."""
    return {n.id for n in every if n.__class__ is gast.Name and n.ctx.__class__ is gast.Store}


def assigned_names(stmts, lists=False, dicts=()) -> set:
    """Names bound by assignment or for-targets anywhere in ``stmts``; with
    ``lists``, also lists grown by ``lst.append(...)`` or shrunk by
    ``v = lst.pop()``, and dicts whose entry is written (``d["k"] = v``, or any key
    of a name in ``dicts``; normalization turns those into assignments), and arrays
    or lists written into a copy first (``copy_first``)."""
    out = set()
    for s in stmts:
        for n in astutil.node_list(s):
            if isinstance(n, gast.stmt) and (getanno(n, "rebind") or getanno(n, "before")):
                # names bound again after an update other names see (inplace)
                out |= assigned_names(getanno(n, "rebind", []) + getanno(n, "before", []),
                                      lists, dicts)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                out.add(n.id)
            elif lists and isinstance(n, gast.Expr) and isinstance(n.value, gast.Call) \
                    and isinstance(n.value.func, gast.Attribute) \
                    and n.value.func.attr in LIST_METHODS \
                    and isinstance(n.value.func.value, gast.Name):
                out.add(n.value.func.value.id)
            elif lists and isinstance(n, gast.Expr) and _dict_update(n.value, dicts):
                out.add(n.value.func.value.id)  # d.update(e) rebinds d
            elif lists and isinstance(n, gast.Assign) and isinstance(n.value, gast.Call) \
                    and isinstance(n.value.func, gast.Attribute) \
                    and n.value.func.attr == "pop" and not n.value.args \
                    and isinstance(n.value.func.value, gast.Name):
                out.add(n.value.func.value.id)
            elif lists and isinstance(n, (gast.Assign, gast.AugAssign)):
                t = n.targets[0] if isinstance(n, gast.Assign) else n.target
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) and (
                        entry_key(t.slice) or t.value.id in dicts
                        or getanno(n, "copy_first", False)):
                    # d["k"] = v, d[k] = v rebind d (set_entry); a[i] = v into a copy
                    # rebinds a
                    out.add(t.value.id)
                elif _chained(t):
                    out.add(t.value.value.id)  # b[i][j] = v rebinds b (b[i] = inner)
    return out



class Normalizer:
    def __init__(self, parsed, namer):
        self.parsed = parsed
        self.namer = namer
        self.param_shapes = {}
        self.out = None
        self.origin = None
        self.rename = {}        # user name -> current SSA version
        self.loop_depth = 0
        self.branch_depth = 0
        self.locals = set()
        self.multi = set()      # names assigned inside control flow: never renamed
        self.nested = {}        # nested function name -> closures.Nested (inlined at calls)
        self.lifted = {}        # id(Nested) -> (lifted function, names it reads)
        self.inlining = []      # the nested functions being inlined, innermost last
        self.guards = []        # closures.Nested.guards of the functions inlined

    # -- entry --------------------------------------------------------------
    def run(self, fdef, every=None):
        """``every``: ``astutil.node_list(fdef)``, if the caller has it."""
        if every is None:
            every = astutil.node_list(fdef)  # (one walk for the two)
        self.bindings = closures.bindings(fdef.body, every)
        self.dict_names = inplace.dict_names(fdef, every)  # d[k] = v on these: set_entry, any key
        self.nested = closures.extract(self.parsed, self.namer, fdef, self.bindings)
        params = [a.id for a in fdef.args.args + fdef.args.posonlyargs + fdef.args.kwonlyargs]
        if fdef.args.vararg is not None:
            params.append(fdef.args.vararg.id)
        # (``every`` is still the tree's own when no nested function was taken out)
        self.rebound = _stored(every) if not self.nested else assigned_names(fdef.body)
        self.locals = set(params) | self.rebound
        self.params = params
        for s in fdef.body:
            if isinstance(s, (gast.If, gast.For, gast.While)):
                self.multi |= assigned_names([s])
        for p in params:
            self.namer.reserve(p)
        rewritten = self.ufunc_at_writes(fdef)
        _flat_reads(fdef, every if not self.nested and not rewritten else None)
        inplace.check(self, fdef)
        if any(getanno(n, "rebind") or getanno(n, "before")
               for n in astutil.statements(fdef.body)):
            # names bound again after updates, inside branches and loops too
            self.rebound = assigned_names(fdef.body)
            self.locals = set(params) | self.rebound
            for s in fdef.body:
                if isinstance(s, (gast.If, gast.For, gast.While)):
                    self.multi |= assigned_names([s])
            for s in astutil.statements(fdef.body):  # if a_in_place: b = a
                self.multi |= assigned_names([r for r in getanno(s, "rebind", ())
                                              if isinstance(r, gast.If)], lists=True,
                                             dicts=self.dict_names)
        body = fdef.body
        lower_jumps(fdef, self.namer)
        if fdef.body is not body:  # flags were added
            self.locals |= assigned_names(fdef.body)
        for s in fdef.body:
            if isinstance(s, (gast.If, gast.For, gast.While)):
                self.multi |= assigned_names([s], lists=True, dicts=self.dict_names) \
                    & self.locals
        body = self.block(fdef.body)
        if not body or not isinstance(body[-1], gast.Return):
            body.append(gast.Return(value=const(None)))
            setanno(body[-1], "origin", None)
        new = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body,
                               decorator_list=[], returns=None, type_comment=None,
                               type_params=[])
        if self.guards:
            setanno(new, "guards", self.guards)
        return gast.copy_location(new, fdef)

    def block(self, stmts):
        saved, saved_origin = self.out, self.origin
        self.out = []
        for i, s in enumerate(stmts):
            self.origin = s
            if isinstance(s, gast.Return):
                self.visit_return(s, last=(i == len(stmts) - 1))
                if i != len(stmts) - 1:
                    break  # unreachable code after return
            else:
                for first in getanno(s, "before", ()):
                    self.visit(first)  # is the array changed in place? (inplace)
                self.visit(s)
                for again in getanno(s, "rebind", ()):
                    self.visit(again)  # other names for an array s changed (inplace)
        out, self.out, self.origin = self.out, saved, saved_origin
        return out

    def emit(self, node):
        if getanno(node, "origin") is None:
            setanno(node, "origin", self.origin)
        self.out.append(node)
        return node

    def refuse(self, node, what, hint=None, detail=None):
        refusals.syntax(self.parsed, node, what, hint=hint, detail=detail)

    # -- statements ---------------------------------------------------------
    def visit(self, s):
        method = getattr(self, "visit_" + type(s).__name__, None)
        if method is None:
            self.refuse(s, f"{type(s).__name__} statement")
        method(s)

    def visit_Pass(self, s):
        pass

    def visit_Expr(self, s):
        if isinstance(s.value, gast.Constant):  # docstring
            return
        if not isinstance(s.value, gast.Call):
            self.expr(s.value)  # a bare expression: its parts run, the value is dropped
            return
        v = s.value
        if isinstance(v.func, gast.Attribute) and v.func.attr in LIST_METHODS \
                and isinstance(v.func.value, gast.Name) and v.func.value.id in self.locals \
                and len(v.args) == 1 and not v.keywords:
            # lst.append(v) -> lst = list_append(lst, v): lists are values here
            helper = runtime_name(LIST_METHODS[v.func.attr])
            self.assign_to(name(v.func.value.id, gast.Store()),
                           gast.Call(func=helper, args=[name(v.func.value.id), v.args[0]],
                                     keywords=[]))
            return
        if _dict_update(v, self.dict_names):
            # d.update(e, k=u) -> d = {**d, **e, "k": u}: dicts are values here
            d = v.func.value.id
            keys = [None] * (1 + len(v.args)) + [const(k.arg) for k in v.keywords]
            self.assign_to(name(d, gast.Store()), gast.Dict(
                keys=keys, values=[name(d)] + v.args + [k.value for k in v.keywords]))
            return
        call = self.call(v)
        if not is_atom(call):  # an inlined nested function's result
            self.emit(gast.Expr(value=call))

    def visit_Assert(self, s):
        test = self.atom(s.test, "assertion")
        msg = self.atom(s.msg, "message") if s.msg is not None else None
        self.emit(gast.Assert(test=test, msg=msg))

    def visit_Raise(self, s):
        exc = self.expr(s.exc) if s.exc is not None else None
        self.emit(gast.Raise(exc=exc, cause=None))

    def visit_AnnAssign(self, s):
        if s.value is None:
            return
        self.assign_to(s.target, s.value)

    def copy_first(self, s, target):
        """``a = a.copy()`` before a write into ``a[...]`` while another name may share
        ``a``'s array (see the inplace module): that name keeps its values."""
        if _chained(target):
            target = target.value  # b[i][j] = v writes b[i] = inner at the end
        if getanno(s, "copy_first", False) and isinstance(target, gast.Subscript) \
                and isinstance(target.value, gast.Name):
            base = target.value.id
            self.assign_to(name(base, gast.Store()), gast.Call(
                func=gast.Attribute(value=name(base), attr="copy", ctx=gast.Load()),
                args=[], keywords=[]))

    def visit_Assign(self, s):
        t = s.targets[0]
        if len(s.targets) == 1 and isinstance(t, gast.Name) and t.id not in self.nested \
                and self.bindings.get(t.id) == 1:
            made = self.factory_call(s.value)
            if made is not None:  # g = make(w): g is the function make returns
                self.nested[t.id] = made
                return
        if len(s.targets) == 1:
            self.copy_first(s, s.targets[0])
            self.assign_to(s.targets[0], s.value)
            return
        value = self.atom(s.value, "value")
        for t in s.targets:
            self.assign_to(t, value)

    def visit_AugAssign(self, s):
        target = s.target
        if isinstance(target, gast.Name):
            load = name(target.id)
        elif isinstance(target, gast.Subscript):
            self.copy_first(s, target)
            load = gast.Subscript(value=target.value, slice=target.slice, ctx=gast.Load())
        else:
            self.refuse(s, "augmented assignment to this target")
        self.assign_to(target, gast.BinOp(left=load, op=s.op, right=s.value))

    def assign_to(self, target, value):
        if isinstance(target, gast.Name) and isinstance(value, gast.Call) \
                and isinstance(value.func, gast.Attribute) and value.func.attr == "pop" \
                and not value.args and not value.keywords \
                and isinstance(value.func.value, gast.Name) and value.func.value.id in self.locals:
            # v = lst.pop()  ->  v = lst[-1]; lst = lst[:-1]   (lists are values here)
            lst = value.func.value.id
            self.assign_to(target, gast.Subscript(value=name(lst), slice=const(-1),
                                                  ctx=gast.Load()))
            self.assign_to(name(lst, gast.Store()), gast.Subscript(
                value=name(lst), slice=gast.Slice(lower=None, upper=const(-1), step=None),
                ctx=gast.Load()))
            return
        if isinstance(target, gast.Name):
            self.assign_name(target, value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.assign_items(target, value)
        elif isinstance(target, gast.Subscript):
            self.assign_subscript(target, value)
        else:
            self.refuse(target, f"assignment to {type(target).__name__}")

    def assign_name(self, target, value):
        first = target.id not in self.rename and target.id not in self.params
        if target.id in self.multi or first:
            new = target.id
        else:
            new = self.namer.fresh(target.id)
        rhs = self.expr(value, hint=target.id)
        if isinstance(rhs, gast.Name) and rhs.id == new:
            return  # x = x: nothing changes (an adjoint added to itself, then reset)
        if new in self.multi and not is_atom(rhs) and any(
                isinstance(n, gast.Name) and n.id == new for n in astutil.nodes(rhs)):
            # h = h * w inside a loop: the reverse sweep needs the old h
            # and the new h at once, so compute into a temporary first
            tmp = self.namer.fresh(self.hint_for(rhs, new))
            self.emit(assign(tmp, rhs))
            rhs = name(tmp)
        self.emit(assign(new, rhs))
        if target.id not in self.multi:
            self.rename[target.id] = new

    def assign_items(self, target, value):
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts) \
                and not any(isinstance(e, gast.Starred) for e in value.elts):
            names = [t.id for t in target.elts if isinstance(t, gast.Name)]
            if len(names) == len(target.elts) == len(set(names)) and not any(
                    isinstance(n, gast.Name) and n.id in names
                    for e in value.elts[1:] for n in astutil.nodes(e)):
                # no right-hand side reads a target: bind each as it is computed
                # (no temporary that would share the target's array)
                for t, e in zip(target.elts, value.elts):
                    self.assign_to(t, e)
                return
            atoms = [self.atom(e, self.hint_of(t)) for e, t in zip(value.elts, target.elts)]
            # all right-hand sides are evaluated before any target is bound
            atoms = [self.protect(a) for a in atoms]
            for t, a in zip(target.elts, atoms):
                self.assign_to(t, a)
            return
        whole = self.atom(value, "_".join(self.hint_of(t) for t in target.elts))
        whole = self.protect(whole)
        for i, t in enumerate(target.elts):
            item = gast.Subscript(value=whole, slice=const(i), ctx=gast.Load())
            self.assign_to(t, item)

    def assign_subscript(self, target, value):
        if isinstance(target.value, gast.Name) and (
                entry_key(target.slice) or target.value.id in self.dict_names
                and not isinstance(target.slice, (gast.Slice, gast.Tuple))):
            # d["k"] = v  ->  d = set_entry(d, "k", v): a dict is a value, as a list is
            self.assign_to(name(target.value.id, gast.Store()), gast.Call(
                func=runtime_name("set_entry"), args=[name(target.value.id), target.slice,
                                                      value], keywords=[]))
            return
        if _chained(target):
            self.assign_chained(target, value)
            return
            return
        base = self.expr(target.value)
        if not isinstance(base, gast.Name):
            self.refuse(target, "assignment into this subscript",
                        detail="only a write into an item, or an item of an item, of a name",
                        hint="build the inner value as a name of its own, change it, "
                             "then store it: inner = list(d['a']); inner[0] = v; "
                             "d['a'] = inner")
        index = self.index(target.slice)
        val = self.atom(value, base.id + "_item")
        if isinstance(val, gast.Name) and val.id == base.id:
            # y[::-1] = y: the value is the array written into (NumPy copies it first);
            # under its own name, its adjoint and the target's would be one variable
            copied = self.namer.fresh(base.id + "_item")
            self.emit(assign(copied, gast.Call(func=gast.Attribute(
                value=val, attr="copy", ctx=gast.Load()), args=[], keywords=[])))
            val = name(copied)
        node = assign(gast.Subscript(value=base, slice=index, ctx=gast.Store()), val)
        self.emit(node)

    def assign_chained(self, target, value):
        """``b[i][j] = v`` -> ``inner = shallow_copy(b[i]); inner[j] = v; b[i] = inner``:
        what Python computes while no other name holds ``b[i]`` (inplace checks that)."""
        val = self.atom(value, "value")
        inner = self.atom(gast.Subscript(value=target.value.value, slice=target.value.slice,
                                         ctx=gast.Load()), "inner")
        copy = self.namer.fresh("inner")
        self.locals.add(copy)
        self.assign_to(name(copy, gast.Store()), gast.Call(
            func=runtime_name("shallow_copy"), args=[inner], keywords=[]))
        self.assign_to(gast.Subscript(value=name(copy), slice=target.slice,
                                      ctx=gast.Store()), val)
        self.assign_to(gast.Subscript(value=name(target.value.value.id),
                                      slice=target.value.slice, ctx=gast.Store()), name(copy))

    def protect(self, atom):
        """Copy a name that a later target of the same statement may rebind."""
        if isinstance(atom, gast.Name) and atom.id in self.locals:
            tmp = self.namer.fresh(atom.id + "_old")
            self.emit(assign(tmp, atom))
            return name(tmp)
        return atom

    @staticmethod
    def hint_of(t):
        if isinstance(t, gast.Name):
            return t.id
        return "value"

    def visit_If(self, s):
        test = self.atom(s.test, "cond")
        self.branch_depth += 1
        body = self.block(s.body) or [gast.Pass()]
        orelse = self.block(s.orelse)
        self.branch_depth -= 1
        self.emit_if(test, body, orelse)

    def emit_if(self, test, body, orelse):
        """``if test: body else: orelse``, its test a name neither branch rebinds: the
        backward sweep takes the same branch by reading the test again, after undoing
        what came later (``if c: c = ...`` tests a copy of ``c``)."""
        if isinstance(test, gast.Name) and test.id in assigned_names(body + orelse):
            copy_ = self.namer.fresh(test.id)
            if test.id in self.multi:
                self.multi.add(copy_)
            self.emit(assign(copy_, test))
            test = name(copy_)
        return self.emit(gast.If(test=test, body=body, orelse=orelse))

    def visit_While(self, s):
        start = len(self.out)
        test = self.atom(s.test, "cond")
        test_stmts = self.out[start:]
        if not isinstance(test, gast.Name):
            t = self.namer.fresh("cond")
            self.emit(assign(t, test))
            test = name(t)
            test_stmts = self.out[start:]
        self.multi.add(test.id)
        for st in test_stmts:
            for n in astutil.nodes(st):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    self.multi.add(n.id)
        self.loop_depth += 1
        body = self.block(s.body)
        self.loop_depth -= 1
        # the test is recomputed at the end of each iteration
        body += [_clone(st) for st in test_stmts]
        self.emit(gast.While(test=test, body=body, orelse=[]))

    def visit_For(self, s):
        it = s.iter
        fn = None
        if isinstance(it, gast.Call) and isinstance(it.func, (gast.Name, gast.Attribute)):
            fn = self.static_value(it.func)
        target = s.target
        if isinstance(fn, types.FunctionType) and fn.__code__.co_flags & inspect.CO_GENERATOR:
            self.generator_loop(fn, s)
            return
        if fn is range and not it.keywords:
            args = [self.atom(a, "n") for a in it.args]
            loop_target = target if isinstance(target, gast.Name) else None
            var = target.id if loop_target is not None else self.namer.fresh("item")
            self.multi.add(var)
            self.loop_depth += 1
            pre = []
            if loop_target is None:
                saved = self.out
                self.out = pre
                self.assign_to(target, name(var))
                self.out = saved
            body = pre + self.block(s.body)
            self.loop_depth -= 1
            call = gast.Call(func=it.func, args=args, keywords=[])
            self.emit(gast.For(target=name(var, gast.Store()), iter=call, body=body,
                               orelse=[], type_comment=None))
            return
        # any other iterable: loop over an index so the reverse sweep can
        # send each item's adjoint back to its place in the sequence
        if fn is zip or fn is enumerate:  # for a, b in zip(gen(x), ys): gen's values
            it = self.consume_generators(it)
            if it.args and isinstance(it.args[0], gast.Call) \
                    and self.static_value(it.args[0].func) is zip:
                it.args[0] = self.consume_generators(it.args[0])
        it, start = self.enumerate_start(it, fn)
        inner = it.args[0] if fn is enumerate and len(it.args) == 1 else None
        if isinstance(inner, gast.Call) and not inner.keywords and inner.args \
                and self.static_value(inner.func) is zip and isinstance(target, gast.Tuple) \
                and len(target.elts) == 2 and isinstance(target.elts[1], gast.Tuple) \
                and len(target.elts[1].elts) == len(inner.args):
            # for i, (a, b) in enumerate(zip(xs, ys)): one index over both sequences
            seqs = [self.atom(a, "seq") for a in inner.args]
            index_target, targets = target.elts[0], list(target.elts[1].elts)
        elif fn is enumerate and len(it.args) == 1 and not it.keywords \
                and isinstance(target, gast.Tuple) and len(target.elts) == 2:
            seqs = [self.atom(_indexable(it.args[0]), "seq")]
            index_target, targets = target.elts[0], [target.elts[1]]
        elif fn is zip and not it.keywords and isinstance(target, gast.Tuple) \
                and len(target.elts) == len(it.args):
            seqs = [self.atom(_indexable(a), "seq") for a in it.args]
            index_target, targets = None, list(target.elts)
        else:
            if fn is reversed:  # an iterator: materialize it so it can be indexed
                it = gast.Call(func=name("list"), args=[it], keywords=[])
            seqs = [self.atom(_indexable(it), "seq")]
            index_target, targets = None, [target]
        seqs = [self.protect(a) if isinstance(a, gast.Name) else a for a in seqs]
        count = self.loop_count(seqs)
        if index_target is not None and isinstance(index_target, gast.Name) and start is None:
            index = index_target.id
        else:
            index = self.namer.fresh("i")
        self.multi.add(index)
        bound = targets + ([index_target] if start is not None else [])
        self.multi |= assigned_names([gast.Assign(targets=[t], value=const(0), type_comment=None)
                                      for t in bound])
        self.loop_depth += 1
        saved = self.out
        self.out = []
        if start is not None:  # the user's index counts from start
            self.assign_to(index_target, gast.BinOp(left=name(index), op=gast.Add(),
                                                    right=start))
        for t, sq in zip(targets, seqs):
            self.assign_to(t, gast.Subscript(value=sq, slice=name(index), ctx=gast.Load()))
        pre = self.out
        self.out = saved
        body = pre + self.block(s.body)
        self.loop_depth -= 1
        rng = gast.Call(func=name("range"), args=[count], keywords=[])
        self.emit(gast.For(target=name(index, gast.Store()), iter=rng, body=body,
                           orelse=[], type_comment=None))

    def loop_count(self, seqs):
        """The number of iterations of a loop over ``seqs`` together (zip's): the
        shortest one's length."""
        lens = []
        for sq in seqs:
            n = self.namer.fresh("n")
            self.emit(assign(n, gast.Call(func=name("len"), args=[sq], keywords=[])))
            lens.append(name(n))
        if len(lens) == 1:
            return lens[0]
        n = self.namer.fresh("n")
        self.emit(assign(n, gast.Call(func=name("min"), args=lens, keywords=[])))
        return name(n)

    def enumerate_start(self, it, fn):
        """(``enumerate(seq)``, its start as an atom) for ``enumerate(seq, start)``; else
        ``(it, None)``."""
        if fn is enumerate and len(it.args) + len(it.keywords) == 2 and it.args and (
                len(it.args) == 2 or it.keywords[0].arg == "start"):
            start = self.atom(it.args[1] if len(it.args) == 2 else it.keywords[0].value,
                              "start")
            return gast.Call(func=it.func, args=it.args[:1], keywords=[]), start
        return it, None

    def visit_With(self, s):
        """``with m as t: body`` -> ``t = m.__enter__(); body; m.__exit__(None, None,
        None)``: the manager is entered and left around the body in the forward sweep
        (np.errstate, warnings.catch_warnings, a timer); it carries no gradient."""
        for n in astutil.nodes(gast.Module(body=s.body, type_ignores=[])):
            if isinstance(n, (gast.Return, gast.Break, gast.Continue)) \
:
                self.refuse(n, f"{type(n).__name__.lower()} inside a with block",
                            hint="set a variable and leave the with block normally")
        managers = []
        for item in s.items:
            manager = self.atom(item.context_expr, "manager")
            enter = gast.Call(func=gast.Attribute(value=manager, attr="__enter__",
                                                  ctx=gast.Load()), args=[], keywords=[])
            if item.optional_vars is not None:
                self.assign_to(item.optional_vars, enter)
            else:
                self.emit(gast.Expr(value=enter))
            managers.append(manager)
        for st in self.block(s.body):
            self.emit(st)
        for manager in reversed(managers):
            self.emit(gast.Expr(value=gast.Call(
                func=gast.Attribute(value=manager, attr="__exit__", ctx=gast.Load()),
                args=[const(None)] * 3, keywords=[])))

    def visit_Break(self, s):
        self.emit(gast.Break())  # only ever the last statement of a loop body (see jumps)

    def visit_Continue(self, s):
        self.refuse(s, "continue statement")  # lowered to a flag by jumps

    def visit_return(self, s, last):
        if self.loop_depth or self.branch_depth or not last:
            self.refuse(s, "return inside a loop or branch",
                        hint="assign the result to a variable and return it once, at the end")
        value = s.value
        if value is None:
            ret = const(None)
        elif isinstance(value, (gast.Tuple, gast.List)) and not any(
                isinstance(e, gast.Starred) for e in value.elts):
            elts = [self.atom(e, "out") for e in value.elts]
            ret = type(value)(elts=elts, ctx=gast.Load())
        else:
            ret = self.atom(value, "out")
        self.emit(gast.Return(value=ret))

    def ufunc_at_writes(self, fdef):
        """``np.add.at(a, i, v)`` -> ``a[...] = a + index_adjoint(a, i, v)`` (and
        ``np.subtract.at`` with ``-``): the scatter-add written as the write into ``a``
        it is, so the in-place checks and the adjoint see an ordinary subscript write;
        ``index_adjoint`` adds ``v`` at ``i`` into zeros shaped like ``a``, repeated
        positions accumulating as ``np.add.at`` does.  Returns whether the tree
        may have changed."""
        if not any(st.__class__ is gast.Expr and isinstance(st.value, gast.Call)
                   and isinstance(st.value.func, gast.Attribute)
                   and st.value.func.attr in _WRITERS
                   for st in astutil.statements(fdef.body)):
            return False  # (the common case: no statement to look at, no walk of the tree)
        ops = {"add": gast.Add, "subtract": gast.Sub}
        for block in _blocks(fdef):
            for k, st in enumerate(block):
                if not (isinstance(st, gast.Expr) and isinstance(st.value, gast.Call)):
                    continue
                call = st.value
                write = self.numpy_write(call)
                if write is not None:  # np.copyto(a, v) -> a[...] = v, ...
                    for n in astutil.walk(write):
                        gast.copy_location(n, st)
                    block[k] = write
                    continue
                if not (isinstance(call.func, gast.Attribute) and call.func.attr == "at"
                        and len(call.args) == 3 and not call.keywords
                        and isinstance(call.args[0], gast.Name)):
                    continue
                ufunc = self.static_value(call.func.value)
                if not isinstance(ufunc, np.ufunc) or ufunc.__name__ not in ops:
                    continue
                a, index, v = call.args
                scatter = gast.Call(func=runtime_name("index_adjoint"),
                                    args=[name(a.id), index, v], keywords=[])
                target = gast.Subscript(value=name(a.id), slice=const(Ellipsis),
                                        ctx=gast.Store())
                new = gast.Assign(targets=[target], value=gast.BinOp(
                    left=name(a.id), op=ops[ufunc.__name__](), right=scatter),
                    type_comment=None)
                for n in astutil.walk(new):
                    gast.copy_location(n, st)
                block[k] = new
        return True

    def numpy_write(self, call):
        """The subscript write a NumPy function or method that writes into its first
        argument makes, or None: ``np.copyto(a, v)`` -> ``a[...] = v``; ``a.fill(v)`` ->
        ``a[...] = v``; ``np.putmask(a, m, v)`` -> ``a[...] = np.where(m, np.resize(v,
        np.shape(a)), a)`` (``v`` repeated as putmask does); ``np.place(a, m, v)`` ->
        ``a[m] = np.resize(v, np.count_nonzero(m))``.  Then the in-place checks (inplace)
        and the adjoint see an ordinary write into ``a``."""
        func = call.func
        if call.keywords or not isinstance(func, gast.Attribute):
            return None

        def numpy(attr, *args):
            return gast.Call(func=gast.Attribute(value=runtime_name("np"), attr=attr,
                                                 ctx=gast.Load()),
                             args=list(args), keywords=[])

        def into(a, index, value):
            return gast.Assign(targets=[gast.Subscript(value=name(a.id), slice=index,
                                                       ctx=gast.Store())],
                               value=value, type_comment=None)

        if func.attr == "fill" and len(call.args) == 1 and isinstance(func.value, gast.Name) \
                and func.value.id in self.locals and func.value.id not in self.dict_names:
            return into(func.value, const(Ellipsis), call.args[0])
        fn = self.static_value(func)
        args = call.args
        if not (args and isinstance(args[0], gast.Name) and args[0].id in self.locals):
            return None
        a = args[0]
        if fn is np.copyto and len(args) == 2:
            return into(a, const(Ellipsis), args[1])
        if fn is np.putmask and len(args) == 3:
            return into(a, const(Ellipsis), numpy(
                "where", args[1], numpy("resize", args[2], numpy("shape", name(a.id))),
                name(a.id)))
        if fn is np.put and len(args) == 3:
            # a.flat[ind] = v, v repeated over ind: a[np.unravel_index(ind % a.size,
            # a.shape)] = np.resize(v, np.shape(ind))
            where = numpy("unravel_index", numpy("mod", args[1], numpy("size", name(a.id))),
                          numpy("shape", name(a.id)))
            return into(a, where, numpy("resize", args[2], numpy("shape", copy_tree(args[1]))))
        if fn is np.place and len(args) == 3:
            return into(a, args[1], numpy("resize", args[2],
                                          numpy("count_nonzero", copy_tree(args[1]))))
        return None

    # -- expressions ----------------------------------------------------------
    def atom(self, node, hint="t"):
        """Normalize ``node`` to a name or constant, emitting temporaries."""
        value = self.expr(node, hint)
        if is_atom(value) or self.is_static(value):
            return value
        tmp = self.namer.fresh(self.hint_for(value, hint))
        self.emit(assign(tmp, value))
        return name(tmp)

    def hint_for(self, value, hint):
        if isinstance(value, (gast.ListComp, gast.GeneratorExp)):
            return "items"
        if isinstance(value, gast.Call):
            f = value.func
            if isinstance(f, gast.Attribute):
                return f.attr
            if isinstance(f, gast.Name):
                return f.id + "_out"
        if isinstance(value, gast.BinOp):
            return _OPNAMES.get(type(value.op), "t")
        if isinstance(value, gast.UnaryOp):
            return _OPNAMES.get(type(value.op), "t")
        if isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name):
            return f"{value.value.id}_{value.attr}"
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            return f"{value.value.id}_item"
        if isinstance(value, gast.Compare):
            return "cond"
        return hint

    def is_static(self, node) -> bool:
        """An attribute chain rooted at a global module (``np.pi``, ``np.newaxis``)."""
        if isinstance(node, gast.Attribute):
            obj = self.static_value(node)
            # constants such as np.pi; arrays (Parameters) are read like any attribute
            return obj is not MISSING and not callable(obj) and not hasattr(obj, "shape")
        return False

    def static_value(self, node):
        """The object an expression denotes at transformation time, if it can be known
        (names the function does not bind, and attributes of modules and classes)."""
        return self.parsed.denotes(node, self.locals)

    def expr(self, node, hint="t"):
        """Normalize ``node`` to a single operation over atoms (not yet assigned)."""
        method = getattr(self, "expr_" + type(node).__name__, None)
        out = method(node, hint) if method is not None else None
        if out is not None:
            return out
        if isinstance(node, OPAQUE):
            # evaluated as written; activity refuses it if it carries gradient.  A nested
            # function it names was taken out of the body: written back as a lambda
            return _NestedAsValue(self).visit(node)
        self.refuse(node, f"{type(node).__name__} expression")

    def expr_Name(self, node, hint):
        if getanno(node, "runtime") is not None:
            return node  # a name of another module's inlined helper (closures)
        if node.id in self.nested:
            as_lambda = self.nested_as_lambda(self.nested[node.id], node)
            if as_lambda is not None:  # evaluated as written where no gradient flows
                return as_lambda
            if self.nested[node.id].frozen:
                self.refuse(node, f"frozen distribution {node.id!r} used as a value",
                            hint=f"call its methods where it is made ({node.id}.logpdf(x)), "
                                 "or pass the parameters and call the distribution's "
                                 "method with them (norm.logpdf(x, loc, scale))")
            self.refuse(node, f"nested function {node.id!r} used as a value",
                        hint="call it in place (or through map()); to pass it to a helper, "
                             "define it at module level and pass the values it reads as "
                             "arguments")
        return name(self.rename.get(node.id, node.id))

    def expr_NamedExpr(self, node, hint):
        """``(n := e)``: ``n = e`` where it is evaluated, then ``n``."""
        self.assign_to(name(node.target.id, gast.Store()), node.value)
        return self.expr_Name(name(node.target.id), hint)

    def expr_Constant(self, node, hint):
        return node

    def expr_BinOp(self, node, hint):
        left = self.atom(node.left, "lhs")
        right = self.atom(node.right, "rhs")
        return astutil.make(gast.BinOp, left=left, op=node.op, right=right)

    def expr_UnaryOp(self, node, hint):
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant) \
                and type(node.operand.value) in (int, float):
            return const(-node.operand.value)  # a negative literal such as axis=-1
        operand = self.atom(node.operand, "operand")
        return gast.UnaryOp(op=node.op, operand=operand)  # +x copies an array: keep it

    def expr_Compare(self, node, hint):
        if len(node.ops) == 1:
            left = self.atom(node.left, "lhs")
            right = self.atom(node.comparators[0], "rhs")
            return gast.Compare(left=left, ops=node.ops, comparators=[right])
        # a < b < c  ->  (a < b) and (b < c)
        parts = []
        left = node.left
        for op, comp in zip(node.ops, node.comparators):
            parts.append(gast.Compare(left=left, ops=[op], comparators=[comp]))
            left = comp
        return self.expr(gast.BoolOp(op=gast.And(), values=parts), hint)

    def expr_BoolOp(self, node, hint):
        result = self.namer.fresh("cond")
        self.multi.add(result)
        self.short_circuit(node.op, node.values, result)
        return name(result)

    def expr_IfExp(self, node, hint):
        test = self.atom(node.test, "cond")
        result = self.namer.fresh(hint)
        self.multi.add(result)
        saved = self.out
        self.out = []
        self.emit(assign(result, self.expr(node.body, hint)))
        body = self.out
        self.out = []
        self.emit(assign(result, self.expr(node.orelse, hint)))
        orelse = self.out
        self.out = saved
        self.emit(gast.If(test=test, body=body, orelse=orelse))
        return name(result)

    def expr_Call(self, node, hint):
        return self.call(node)

    def expr_Attribute(self, node, hint):
        if self.is_static(node):
            return node
        base = self.atom(node.value, "obj")
        return gast.Attribute(value=base, attr=node.attr, ctx=gast.Load())

    def expr_Subscript(self, node, hint):
        if isinstance(self.static_value(node.value), _CONCATENATORS):
            return self.index_concat(node)
        base = self.atom(node.value, "seq")
        return gast.Subscript(value=base, slice=self.index(node.slice), ctx=gast.Load())

    def expr_Tuple(self, node, hint):
        elts = []
        for e in node.elts:
            if isinstance(e, gast.Starred):
                self.refuse(e, "starred expression in a tuple or list")
            elts.append(self.atom(e, "item"))
        return type(node)(elts=elts, ctx=gast.Load())

    expr_List = expr_Tuple

    def expr_ListComp(self, node, hint):
        if self.reads_locals(node):
            # a generator expression is consumed whole by what it is passed to (sum,
            # max, np.stack, tuple): a list of the same items
            return name(self.list_comprehension(node))
        return None  # evaluated as written

    expr_GeneratorExp = expr_ListComp

    def expr_Dict(self, node, hint):
        if self.reads_locals(node) and all(
                isinstance(k, gast.Constant) and type(k.value) in (str, int) for k in node.keys):
            return self.make_dict([k.value for k in node.keys], node.values)
        if self.reads_locals(node) and all(
                k is None or isinstance(k, gast.Constant) and type(k.value) in (str, int)
                for k in node.keys):  # {**p, "w": v}
            return self.merge_dicts([(None, v) if k is None else (k.value, v)
                                     for k, v in zip(node.keys, node.values)])
        return None  # evaluated as written

    def expr_DictComp(self, node, hint):
        if self.reads_locals(node):
            # {k: e for k, v in d.items()}: a loop writing each entry into a new dict
            return name(self.list_comprehension(node))
        return None  # evaluated as written

    def short_circuit(self, op, values, result):
        """``result = a and b and c`` evaluated as Python does, only as far as needed::

            cond_1 = a; result = cond_1
            if cond_1:            # `or`: t = not cond_1; if t:
                cond_2 = b; result = cond_2
                if cond_2:
                    result = c

        Each ``if`` tests a name its body never rebinds, so the backward sweep
        takes the branches the forward sweep took (and restores what it saved
        inside them, no more)."""
        if len(values) == 1:
            self.emit(assign(result, self.expr(values[0], "cond")))
            return
        first = self.atom(values[0], "cond")
        self.emit(assign(result, first))
        test = first
        if isinstance(op, gast.Or):
            t = self.namer.fresh("cond")
            self.emit(assign(t, gast.UnaryOp(op=gast.Not(), operand=first)))
            test = name(t)
        saved, self.out = self.out, []
        self.short_circuit(op, values[1:], result)
        body, self.out = self.out, saved
        self.emit_if(test, body, [])

    def reads_locals(self, node):
        return any(isinstance(n, gast.Name) and n.id in self.locals for n in astutil.nodes(node))

    def list_comprehension(self, node):
        """[e for k in it if c] -> a loop appending to a fresh list; {k: e for ...} -> a
        loop writing into a fresh dict; returns its name."""
        node = copy_tree(node)
        items = self.namer.fresh("items")
        self.multi.add(items)
        self.locals.add(items)
        if isinstance(node, gast.DictComp):
            self.dict_names.add(items)
            self.emit(assign(items, gast.Call(func=runtime_name("make_dict"), args=[],
                                              keywords=[])))
            body = [gast.Assign(targets=[gast.Subscript(value=name(items), slice=node.key,
                                                        ctx=gast.Store())],
                                value=node.value, type_comment=None)]
        else:
            self.emit(assign(items, gast.List(elts=[], ctx=gast.Load())))
            body = [gast.Expr(value=gast.Call(
                func=gast.Attribute(value=name(items), attr="append", ctx=gast.Load()),
                args=[node.elt], keywords=[]))]
        for comp in reversed(node.generators):
            for cond in reversed(comp.ifs):
                body = [gast.If(test=cond, body=body, orelse=[])]
            body = [gast.For(target=comp.target, iter=comp.iter, body=body, orelse=[],
                             type_comment=None)]
        for st in astutil.statements(body):  # errors point at the comprehension
            gast.copy_location(st, node)
        # the comprehension's own variables are fresh names, as in Python 3
        targets = {n.id for c in node.generators for n in astutil.name_nodes(c.target)}
        fresh = {t: self.namer.fresh(t) for t in targets}
        for st in body:
            for n in astutil.nodes(st):
                if isinstance(n, gast.Name) and n.id in fresh:
                    n.id = fresh[n.id]
        self.locals |= set(fresh.values())
        self.multi |= set(fresh.values())
        for st in body:
            self.visit(st)
        return items

    def fold(self, node, callee):
        """``functools.reduce(f, seq[, init])`` -> a loop carrying the value, ``acc =
        f(acc, item)``; ``itertools.accumulate(seq[, f], initial=...)`` -> the same loop
        appending each value to a fresh list.  Returns the value's name, or None for
        another form."""
        args, kws = list(node.args), {k.arg: k.value for k in node.keywords}
        if callee is functools.reduce:
            if not 2 <= len(args) <= 3 or kws:
                return None
            f, seq, init = args[0], args[1], args[2] if len(args) == 3 else None
        else:
            if not 1 <= len(args) <= 2 or set(kws) - {"func", "initial"} or None in kws:
                return None
            seq, init = args[0], kws.get("initial")
            f = args[1] if len(args) == 2 else kws.get("func")
        seq = self.atom(seq, "seq")
        acc, item = self.namer.fresh("reduced"), self.namer.fresh("item")
        self.multi |= {acc, item}
        self.locals |= {acc, item}
        first = gast.Subscript(value=copy_tree(seq), slice=const(0), ctx=gast.Load())
        self.visit(gast.copy_location(assign(acc, first if init is None else init), node))
        step = gast.BinOp(left=name(acc), op=gast.Add(), right=name(item)) if f is None \
            else gast.Call(func=copy_tree(f), args=[name(acc), name(item)], keywords=[])
        body = [assign(acc, step)]
        out = None
        if callee is itertools.accumulate:
            out = self.namer.fresh("accumulated")
            self.multi.add(out)
            self.locals.add(out)
            self.emit(assign(out, gast.List(elts=[name(acc)], ctx=gast.Load())))
            body.append(gast.Expr(value=gast.Call(
                func=gast.Attribute(value=name(out), attr="append", ctx=gast.Load()),
                args=[name(acc)], keywords=[])))
        rest = copy_tree(seq) if init is not None else gast.Subscript(
            value=copy_tree(seq), slice=gast.Slice(lower=const(1), upper=None, step=None),
            ctx=gast.Load())
        loop = gast.For(target=name(item, gast.Store()), iter=rest, body=body, orelse=[],
                        type_comment=None)
        for st in astutil.statements([loop]):  # errors point at the call
            gast.copy_location(st, node)
        self.visit(loop)
        return name(out or acc)

    def index_concat(self, node):
        """np.r_[a, b, 1:3] -> index_concat(np.r_, a, b, slice(1, 3, None)): a call,
        so the items' adjoints come from its rule."""
        elts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        args = [node.value]
        for e in elts:
            if isinstance(e, gast.Slice):
                parts = [const(None) if p is None else self.atom(p, "bound")
                         for p in (e.lower, e.upper, e.step)]
                e = gast.Call(func=name("slice"), args=parts, keywords=[])
            args.append(self.atom(e, "item"))
        return gast.Call(func=runtime_name("index_concat"), args=args, keywords=[])

    def index(self, node):
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.atom(p, "bound")
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Constant) or self.is_static(node):
            return node
        return self.atom(node, "index")

    def merge_dicts(self, entries):
        """``{**p, "w": v}`` -> ``merge_dicts(p, make_dict("w", v))``: ``entries`` are
        (key, value) pairs in order, key None for a mapping unpacked with ``**``."""
        parts, run = [], []
        for k, v in entries + [(None, None)]:
            if k is not None:
                run.append((k, v))
                continue
            if run:
                made = self.make_dict([a for a, _ in run], [b for _, b in run])
                parts.append(name(self.namer.fresh("entries")))
                self.emit(assign(parts[-1].id, made))
                run = []
            if v is not None:
                parts.append(self.atom(v, "mapping"))
        return gast.Call(func=runtime_name("merge_dicts"), args=parts, keywords=[])

    def make_dict(self, keys, values):
        """``{"a": a, "b": b}`` or ``dict(a=a, b=b)`` -> ``make_dict("a", a, "b", b)``,
        whose rule gives each value the adjoint under its key."""
        args = []
        for k, v in zip(keys, values):
            args += [const(k), self.atom(v, k if isinstance(k, str) and k.isidentifier()
                                         else "item")]
        return gast.Call(func=runtime_name("make_dict"), args=args, keywords=[])

    def frozen_method(self, node):
        """``norm(m, s).logpdf(x)`` or ``d.logpdf(x)`` after ``d = norm(m, s)``: the
        distribution's own method with the frozen parameters, ``norm.logpdf(x, m, s)``
        (which has a rule); None when ``node`` is not such a call."""
        func = node.func
        if not isinstance(func, gast.Attribute) or not (
                func.attr in closures.POINT_METHODS and len(node.args) == 1
                or func.attr in closures.OTHER_METHODS and not node.args) \
                or any(isinstance(a, gast.Starred) for a in node.args):
            return None
        base = func.value
        if isinstance(base, gast.Name) and base.id in self.nested \
                and self.nested[base.id].frozen:
            frozen = self.nested[base.id]
            dist = frozen.partial_of
            args = [name(a) for a in frozen.args]
            keywords = [gast.keyword(arg=k, value=name(v)) for k, v in frozen.keywords.items()]
        elif isinstance(base, gast.Call) \
                and closures.is_distribution(self.static_value(base.func)):
            dist, args, keywords = base.func, base.args, base.keywords
        else:
            return None
        method = gast.Attribute(value=copy_tree(dist), attr=func.attr, ctx=gast.Load())
        return gast.copy_location(gast.Call(func=method, args=node.args + args,
                                            keywords=keywords + node.keywords), node)

    def factory_call(self, call):
        """A call of a function of this module that makes and returns a function
        (closures.factory_def): its body inlined here; the function it returns
        (a closures.Nested), or None when ``call`` is not such a call."""
        if not isinstance(call, gast.Call) or any(isinstance(a, gast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            return None
        if isinstance(call.func, gast.Name) and call.func.id in self.nested:
            nested = self.nested[call.func.id]
            return self.inline(nested, call) if nested.factory else None
        callee = self.static_value(call.func)
        if callee is MISSING:
            return None
        got = closures.factory_def(self.parsed, self.namer, callee, call)
        if got is None:
            return None
        factory, captures = got
        for st in captures:
            self.visit(st)
        return self.inline(factory, call)

    def call(self, node):
        """Normalize a call: inlined (a nested function, a lambda, a higher-order helper
        of this module), rewritten (map, list/tuple/dict of displays, partial, dict
        views and ``get``), or a call over atoms."""
        callee = self.static_value(node.func)
        if _is_generator_function(callee):
            self.refuse(node, f"call of the generator function {callee.__name__}() other "
                              "than as what a for loop or comprehension iterates over",
                        hint=f"loop over it (for v in {callee.__name__}(...)) or consume it "
                             f"whole: list({callee.__name__}(...)), sum(...), zip(...)")
        if id(callee) in _GENERATOR_CONSUMERS:
            node = self.consume_generators(node)
        for form in (self.call_inlined, self.call_container, self.call_dict_method):
            out = form(node, callee)
            if out is not None:
                return out
        return self.call_over_atoms(node, callee)

    def call_inlined(self, node, callee):
        func = node.func
        frozen = self.frozen_method(node)
        if frozen is not None:
            return self.call(frozen)
        if isinstance(func, gast.Call):
            lifted = self.grad_of_closure(node)
            if lifted is not None:  # sg.grad(inner)(x), inner reading the caller's values
                return self.call(lifted)
            made = self.factory_call(func)
            if made is not None:  # make(w)(x)
                fresh = self.namer.fresh(made.name)
                self.nested[fresh] = made
                return self.call(gast.copy_location(gast.Call(
                    func=name(fresh), args=node.args, keywords=node.keywords), node))
        if isinstance(func, gast.Name) and func.id in self.nested:
            nested = self.nested[func.id]
            if nested.partial_of is not None:
                return self.call(gast.copy_location(gast.Call(
                    func=copy_tree(nested.partial_of),
                    args=[name(a) for a in nested.args] + node.args,
                    keywords=[gast.keyword(arg=k, value=name(v))
                              for k, v in nested.keywords.items()] + node.keywords), node))
            if nested.factory:
                self.refuse(node, f"the function {func.id}() makes, used other than called "
                                  "or bound to a name bound once",
                            hint=f"g = {func.id}(...) then g(x), or {func.id}(...)(x)")
            return self.inline(nested, node)
        if isinstance(func, gast.Lambda):
            return self.inline(closures.Nested("lambda", func, closures.lambda_def(func),
                                               [p.id for p in func.args.args]), node)
        if isinstance(callee, types.FunctionType) \
                and any(self.function_value(a) for a in node.args + [k.value for k in
                                                                    node.keywords]):
            helper = closures.helper_def(self.parsed, self.namer, callee, node)
            if helper is not None:  # a higher-order helper of this module: inlined
                nested, captures = helper
                for st in captures:
                    self.visit(st)
                return self.inline(nested, node)
        return None

    def call_container(self, node, callee):
        func = node.func
        if callee is functools.reduce or callee is itertools.accumulate:
            folded = self.fold(node, callee)
            if folded is not None:
                return folded
        if any(callee is f for f in _ITERATOR_LISTS):
            # zip/enumerate/reversed other than as a for loop's iterable: the list of
            # items the iterator yields (its items' adjoints go back to their places)
            helper = _ITERATOR_LISTS[callee]
            return self.call_over_atoms(gast.copy_location(gast.Call(
                func=runtime_name(helper), args=node.args, keywords=node.keywords), node),
                getattr(runtime, helper))
        if callee is map and len(node.args) >= 2 and not node.keywords:
            return name(self.list_comprehension(self.map_as_comprehension(node)))
        if callee is list and len(node.args) == 1 and not node.keywords \
                and isinstance(node.args[0], gast.Call) and len(node.args[0].args) >= 2 \
                and self.static_value(node.args[0].func) is map:
            return self.expr(node.args[0])  # list(map(f, xs)): map makes a new list here
        if callee in (list, tuple) and len(node.args) == 1 and not node.keywords \
                and isinstance(node.args[0], (gast.List, gast.Tuple, gast.ListComp,
                                              gast.GeneratorExp)) \
                and self.reads_locals(node.args[0]) \
                and (callee is list or isinstance(node.args[0], (gast.List, gast.Tuple))):
            arg = node.args[0]
            if isinstance(arg, (gast.List, gast.Tuple)):  # tuple([a, b]) is (a, b)
                return self.expr(gast.copy_location(
                    (gast.Tuple if callee is tuple else gast.List)(elts=arg.elts,
                                                                   ctx=gast.Load()), arg))
            return name(self.list_comprehension(arg))
        if isinstance(callee, functools.partial):
            # a module-level partial: its function called with its arguments
            part = func
            pos = [gast.Subscript(value=gast.Attribute(value=part, attr="args", ctx=gast.Load()),
                                  slice=const(i), ctx=gast.Load())
                   for i in range(len(callee.args))]
            kws = [gast.keyword(arg=k, value=gast.Subscript(
                value=gast.Attribute(value=part, attr="keywords", ctx=gast.Load()),
                slice=const(k), ctx=gast.Load())) for k in callee.keywords]
            return self.call(gast.copy_location(gast.Call(
                func=gast.Attribute(value=part, attr="func", ctx=gast.Load()),
                args=pos + node.args, keywords=kws + node.keywords), node))
        if callee is dict and len(node.args) == 1 and self.reads_locals(node) \
                and isinstance(node.args[0], (gast.Name, gast.Attribute, gast.Subscript,
                                              gast.Dict, gast.Call, gast.List,
                                              gast.Tuple)) \
                and all(k.arg for k in node.keywords):
            # dict(p), dict(p, w=v): a new dict of p's entries (and the keywords'); p a
            # mapping or key-value pairs (dict(zip(keys, values)))
            return self.merge_dicts([(None, node.args[0])]
                                    + [(k.arg, k.value) for k in node.keywords])
        if self.static_value(func) is dict and not node.args and node.keywords \
                and all(k.arg for k in node.keywords) and self.reads_locals(node):
            return self.make_dict([k.arg for k in node.keywords],
                                  [k.value for k in node.keywords])
        return None

    def call_dict_method(self, node, callee):
        func = node.func
        if isinstance(func, gast.Attribute) and func.attr in _DICT_VIEWS and not node.args \
                and not node.keywords and not self.is_static_callee(func):
            # d.values() -> dict_values(d): a list of the values, whose rule sends each
            # item's adjoint to its key (a view cannot be indexed by the reverse sweep)
            return gast.Call(func=runtime_name(_DICT_VIEWS[func.attr]),
                             args=[self.atom(func.value, "obj")], keywords=[])
        if isinstance(func, gast.Attribute) and func.attr == "get" and 1 <= len(node.args) <= 2 \
                and not node.keywords and not self.is_static_callee(func) \
                and not any(isinstance(a, gast.Starred) for a in node.args):
            # d.get(k, default) -> dict_get(d, k, default): its rule sends the adjoint to
            # the entry (or the default)
            return gast.Call(func=runtime_name("dict_get"),
                             args=[self.atom(func.value, "obj")]
                             + [self.atom(a, "arg") for a in node.args], keywords=[])
        return None

    def call_over_atoms(self, node, callee):
        func = node.func
        if isinstance(func, gast.Attribute) and not self.is_static_callee(func):
            func = gast.Attribute(value=self.atom(func.value, "obj"), attr=func.attr,
                                  ctx=gast.Load())
        elif not isinstance(func, (gast.Name, gast.Attribute)):
            func = self.atom(func, "fn")
        args = []
        for a in node.args:
            if callee in (next, iter) and isinstance(a, gast.GeneratorExp):
                # consumed one item at a time: kept a generator (activity refuses one
                # that carries gradient)
                lazy = self.namer.fresh("items")
                self.emit(assign(lazy, a))
                args.append(name(lazy))
            elif isinstance(a, gast.Starred) and isinstance(a.value, (gast.List, gast.Tuple)) \
                    and not any(isinstance(e, gast.Starred) for e in a.value.elts):
                args += [self.atom(e, "arg") for e in a.value.elts]  # f(*[a, b]) is f(a, b)
            elif isinstance(a, gast.Starred):
                args.append(gast.Starred(value=self.atom(a.value, "args"), ctx=gast.Load()))
            else:
                args.append(self.atom(a, "arg"))
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, k.arg))
                    for k in node.keywords]
        return gast.Call(func=func, args=args, keywords=keywords)

    def consume_generators(self, node):
        """``list(gen(a))``, ``sum(gen(a))``, ``zip(gen(a), gen(b))``: a call of a
        generator function of this module passed to a function that consumes it whole
        is the list of its values (``[v for v in gen(a)]``, whose loop inlines it)."""
        args = []
        for a in node.args:
            if isinstance(a, gast.Call) and _is_generator_function(self.static_value(a.func)):
                v = self.namer.fresh("item")
                comp = gast.comprehension(target=name(v, gast.Store()), iter=a, ifs=[],
                                          is_async=0)
                a = gast.copy_location(gast.ListComp(elt=name(v), generators=[comp]), a)
            args.append(a)
        return gast.copy_location(gast.Call(func=node.func, args=args,
                                            keywords=node.keywords), node)

    def map_as_comprehension(self, node):
        """``map(f, a, b)`` -> ``[f(v, w) for v, w in zip(a, b)]`` (a list: map's
        iterator is consumed whole where it carries gradient)."""
        vs = [self.namer.fresh("item") for _ in node.args[1:]]
        if len(vs) == 1:
            target, it = name(vs[0], gast.Store()), node.args[1]
        else:
            target = gast.Tuple(elts=[name(v, gast.Store()) for v in vs], ctx=gast.Store())
            it = gast.Call(func=name("zip"), args=node.args[1:], keywords=[])
        elt = gast.Call(func=node.args[0], args=[name(v) for v in vs], keywords=[])
        comp = gast.comprehension(target=target, iter=it, ifs=[], is_async=0)
        return gast.copy_location(gast.ListComp(elt=elt, generators=[comp]), node)

    def nested_as_lambda(self, nested, node):
        """A nested function of one ``return`` used as a value (``sorted(xs, key=f)``)
        as the lambda it is; activity refuses it if it reads a differentiated value."""
        fdef = nested.fdef
        if nested.partial_of is not None or nested.recursive or len(fdef.body) != 1 \
                or not isinstance(fdef.body[0], gast.Return) or fdef.body[0].value is None:
            return None
        args = copy_tree(fdef.args)
        args.defaults = [name(nested.defaults[p]) for p in nested.params
                         if p in nested.defaults]
        lam = gast.Lambda(args=args, body=copy_tree(fdef.body[0].value))
        setanno(lam, "nested_name", nested.name)  # for activity's message: it was a def
        return gast.copy_location(lam, node)

    def function_value(self, node):
        """The nested function (or lambda) ``node`` denotes, if it is one."""
        if isinstance(node, gast.Name) and node.id in self.nested:
            return self.nested[node.id]
        if isinstance(node, gast.Lambda):
            return closures.Nested("lambda", node, closures.lambda_def(node),
                                   [p.id for p in node.args.args])
        return None

    def generator_loop(self, fn, s):
        """``for v in gen(a): body`` over a generator function of this module: the
        generator inlined, each ``yield e`` replaced by ``v = e`` and the body."""
        got = closures.generator_def(self.parsed, self.namer, fn, s.iter)
        if got is None:
            self.refuse(s.iter, f"loop over the generator {fn.__name__}() of another module",
                        hint="return a list instead of yielding values")
        if any(isinstance(n, gast.Break) for st in s.body for n in astutil.nodes(st)):
            self.refuse(s, "break in a loop over a generator",
                        hint="loop over a list the generator's values are collected in")
        nested, captures = got
        for st in captures:
            self.visit(st)
        self.multi |= assigned_names([s])
        self.inline(nested, s.iter, splice=(s.target, s.body))

    def grad_of_closure(self, node):
        """``sg.grad(inner, ...)(args)`` (or ``value_and_grad``), ``inner`` a nested
        function or lambda reading this function's values: ``inner`` lifted into a
        function of its own (closures.lift), the values it reads passed after the
        arguments, ``sg.grad(inner_lifted, ...)(args, x)`` (by keyword, ``x=x``, when
        the call names arguments), so the gradient of the outer call reaches them
        too.  None for any other call."""
        maker = node.func
        grad_fn = self.static_value(maker.func)
        if not (getattr(grad_fn, "__module__", None) == "sourcegrad.api"
                and getattr(grad_fn, "__name__", None) in ("grad", "value_and_grad")
                and maker.args and not any(isinstance(a, gast.Starred) for a in node.args)):
            return None
        if getanno(maker.args[0], "runtime") is not None:
            return None  # (already lifted)
        nested = self.function_value(maker.args[0])
        if nested is None or nested.partial_of is not None or nested.factory \
                or nested.fdef is None or nested.recursive:
            return None
        if nested.defaults:
            self.refuse(node, f"sg.grad of the nested function {nested.name!r} with "
                              f"default parameter values",
                        hint="pass every argument in the call, or define it at module level")
        fname = nested.name if nested.name.isidentifier() and nested.name != "lambda" \
            else "inner"
        lone = closures.Nested(fname, nested.node, copy_tree(nested.fdef), nested.params,
                               group=(fname,))
        lone.fdef.name = fname
        # the values it reads passed after the arguments (positionally: forward mode
        # over the outer gradient differentiates positional arguments only) when the
        # call passes exactly the nested function's own positionally
        positional = not node.keywords and len(node.args) == len(nested.params) \
            and not nested.fdef.args.kwonlyargs and nested.fdef.args.vararg is None
        fns, free = closures.lift(self.parsed, lone, self.locals, {lone.name: lone},
                                  positional=positional)
        self.guards += nested.guards
        func = gast.Name(id=lone.name, ctx=gast.Load(), annotation=None, type_comment=None)
        setanno(func, "runtime", fns[lone.name])
        made = gast.Call(func=maker.func, args=[func] + maker.args[1:], keywords=maker.keywords)
        passed = [name(f) for f in free]
        return gast.copy_location(gast.Call(
            func=gast.copy_location(made, maker), args=node.args + (
                passed if positional else []),
            keywords=node.keywords + ([] if positional else [
                gast.keyword(arg=f, value=v) for f, v in zip(free, passed)])), node)

    def call_lifted(self, nested, node):
        """A call of a recursive nested function: a call of its lifted version (see
        closures.lift), the enclosing values it reads passed by name."""
        if id(nested) not in self.lifted:
            fns, free = closures.lift(self.parsed, nested, self.locals, self.nested)
            for n, fn in fns.items():
                self.lifted[id(self.nested[n])] = fn, free
        fn, free = self.lifted[id(nested)]
        for a in node.args + [k.value for k in node.keywords]:
            if self.function_value(a) is not None or isinstance(a, gast.Starred):
                self.refuse(a, f"this argument in a call of the recursive nested function "
                               f"{nested.name!r}", hint="pass values one by one")
        bound = {p: self.atom(a, p) for p, a in zip(nested.params, node.args)}
        bound.update((k.arg, self.atom(k.value, k.arg)) for k in node.keywords)
        for p in nested.params:
            if p not in bound and p in nested.defaults:
                bound[p] = name(nested.defaults[p])
        func = gast.Name(id=nested.name, ctx=gast.Load(), annotation=None, type_comment=None)
        setanno(func, "runtime", fn)
        return gast.Call(func=func, args=[bound[p] for p in nested.params if p in bound],
                         keywords=[gast.keyword(arg=f, value=self.atom(name(f), f))
                                   for f in free], )

    def inline(self, nested, node, splice=None):
        """A call of a nested function, inlined: its parameters and locals become fresh
        names, the enclosing names it reads are read here (see closures)."""
        self.guards += nested.guards
        if nested.recursive and splice is None:
            return self.call_lifted(nested, node)
        if nested.name in self.inlining:
            self.refuse(node, f"mutually recursive nested functions ({nested.name!r})",
                        hint="define them at module level and pass the values they read "
                             "as arguments")
        params = nested.params
        bound, functions = self.bind_arguments(nested, node)
        body = [copy_tree(s) for s in nested.fdef.body]
        own = set(params) | assigned_names(body)
        if nested.factory:  # the functions it defines get fresh names too
            own |= {s.name for s in body if isinstance(s, gast.FunctionDef)}
        fresh = {n: self.namer.fresh(n) for n in sorted(own)}
        for s in body:
            for n in astutil.nodes(s):
                if isinstance(n, gast.Name) and n.id in fresh:
                    n.id = fresh[n.id]
                elif isinstance(n, gast.FunctionDef) and n.name in fresh:
                    n.name = fresh[n.name]
        self.locals |= set(fresh.values())
        self.multi |= set(fresh.values())
        self.rebound |= set(fresh.values())
        for p in params:
            if p in functions:
                self.nested[fresh[p]] = functions[p]
            else:
                self.assign_to(name(fresh[p], gast.Store()), bound[p])
        ret = body.pop().value if body and isinstance(body[-1], gast.Return) else None
        made = None
        if nested.factory:  # the functions its body defines, as nested functions here
            holder = gast.FunctionDef(
                name=nested.name, args=gast.arguments(
                    args=[], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                    kwarg=None, defaults=[]),
                body=body, decorator_list=[], returns=None, type_comment=None,
                type_params=[])
            made = closures.extract(self.parsed, self.namer, holder)
            body = holder.body
            self.nested.update(made)
        if splice is not None:  # a generator: each `yield e` -> `target = e; loop body`
            body, ret = _splice(body, *splice), None
        saved = self.origin
        self.inlining.append(nested.name)
        for s in body:
            self.origin = s
            self.visit(s)
        self.origin = saved
        if made is not None:
            self.inlining.pop()
            return made[ret.id]
        result = const(None) if ret is None else self.atom(ret, nested.name + "_out")
        self.inlining.pop()
        return result

    def bind_arguments(self, nested, node):
        """The arguments of a call of ``nested``, by parameter: atoms, and the
        functions passed in (inlined where they are called); defaults filled in."""
        params = nested.params
        if any(isinstance(a, gast.Starred) for a in node.args) \
                or any(k.arg is None for k in node.keywords):
            self.refuse(node, "*args or **kwargs in a call of a nested function",
                        hint="pass the arguments one by one")
        if len(node.args) > len(params):
            self.refuse(node, f"too many arguments in a call of {nested.name!r}")
        bound, functions = {}, {}
        for p, a in list(zip(params, node.args)) + [(k.arg, k.value) for k in node.keywords]:
            if p not in params or p in bound or p in functions:
                self.refuse(node, f"unexpected argument {p!r} in a call of {nested.name!r}")
            fn_value = self.function_value(a)
            if fn_value is not None:  # a function passed in: inlined where it is called
                functions[p] = fn_value
            else:
                bound[p] = self.atom(a, p)
        for p in params:
            if p not in bound and p not in functions:
                if p not in nested.defaults:
                    self.refuse(node, f"missing argument {p!r} in a call of {nested.name!r}")
                bound[p] = name(nested.defaults[p])
        return bound, functions

    def is_static_callee(self, func) -> bool:
        if self.static_value(func) is not MISSING:
            return True
        # a method of a module-level object with a rule, or of another library's
        # object (scipy.stats.norm.logpdf): resolved now, like a module's function
        obj = self.parsed.denotes(func, self.locals, objects=True)
        return obj is not MISSING and (registry.lookup(obj) is not None
                                       or foreign.library_of(obj) is not None)


# functions that consume an iterable argument whole: a generator function's call passed
# to one is the list of its values (Normalizer.consume_generators)
_ITERATOR_LISTS = {zip: "zipped", enumerate: "enumerated", reversed: "reversed_list"}

# (by identity: the ids of objects that live as long as the process)
_GENERATOR_CONSUMERS = frozenset(map(id, (
    list, tuple, sum, max, min, zip, enumerate, sorted, map,
    np.stack, np.concatenate, np.array, np.asarray, np.hstack, np.vstack)))


def _is_generator_function(obj) -> bool:
    return isinstance(obj, types.FunctionType) \
        and bool(obj.__code__.co_flags & inspect.CO_GENERATOR)


class _NestedAsValue(gast.NodeTransformer):
    """In an expression evaluated as written, each name of a nested function replaced
    by the lambda it is (or refused, as ``expr_Name`` refuses)."""

    def __init__(self, normalizer):
        self.normalizer = normalizer

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.normalizer.nested:
            return self.normalizer.expr_Name(node, "fn")
        return node


def _splice(stmts, target, loop_body):
    out = []
    for st in stmts:
        if isinstance(st, gast.Expr) and isinstance(st.value, gast.Yield):
            value = st.value.value if st.value.value is not None else const(None)
            out.append(gast.copy_location(gast.Assign(targets=[copy_tree(target)], value=value,
                                                      type_comment=None), st))
            out += [copy_tree(b) for b in loop_body]
            continue
        for fld in ("body", "orelse"):
            if isinstance(getattr(st, fld, None), list):
                setattr(st, fld, _splice(getattr(st, fld), target, loop_body))
        out.append(st)
    return out


_DICT_VIEWS = {"values": "dict_values", "items": "dict_items", "keys": "dict_keys"}


def _indexable(it):
    """The iterable of a loop, as the index loop reads it: ``sequence(it)`` (a dict's
    keys, an iterator's items in a list; a list, tuple or array as it is), unless it is
    a display or a list already."""
    if isinstance(it, (gast.List, gast.Tuple)) or isinstance(it, gast.Call) and (
            isinstance(it.func, gast.Name) and it.func.id == "list"
            or getanno(it.func, "runtime", None) in (runtime.dict_values, runtime.dict_items,
                                                       runtime.dict_keys)):
        return it
    return gast.Call(func=runtime_name("sequence"), args=[it], keywords=[])


def _clone(node):
    new = copy_tree(node)
    copyanno(node, new, "origin")
    return new


def normalize(parsed, namer, param_shapes=None, every=None):
    """Return ``parsed.tree`` in A-normal form (see module docstring).

    ``param_shapes``: {parameter: Abstract} where the inputs' shapes are known
    (it tells ``x[i]`` of a vector, a scalar, from a row of a matrix, a view);
    ``every``: ``astutil.node_list(parsed.tree)``, if the caller has it."""
    normalizer = Normalizer(parsed, namer)
    normalizer.param_shapes = dict(param_shapes or {})
    return normalizer.run(parsed.tree, every)
