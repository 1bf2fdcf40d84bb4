"""Stage 3, first step -- the in-place fence.

sourcegrad gives every name its own value: ``a += v`` makes a new ``a``, a list's
``append`` a new list.  Python changes arrays, lists and dicts in place, so the two
differ exactly where a second name can see the change: ``b = a; a += 1`` (``b``
changes too), ``lst2 = lst; lst2.append(v)``, a view ``r = a[0]``, or a function you
call that updates its parameter in place (``def h(y): y -= c``) while the caller
reads its argument afterwards.  This module finds those programs, before
normalization, and refuses them with the user's line, or marks the write
(``copy_first``) where a copy keeps both readings right.  Everything else is left
to value semantics, which then agree with Python.

``check(normalizer, fdef)`` is the entry point; the normalizer supplies the
function's parameters, its locals, the names it rebinds and the shapes of its
inputs where known.
"""
from __future__ import annotations

import types
import weakref

import gast
import numpy as np

from sourcegrad import astutil, runtime
from sourcegrad.annotations import getanno, setanno
from sourcegrad.closures import writes_into, writes_into_def
from sourcegrad.parse import MISSING, parse_function
from sourcegrad.rules import registry

# list methods treated as functions returning a new list (see runtime)
LIST_METHODS = {"append": "list_append", "extend": "list_extend"}

OPSYMBOLS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
             gast.MatMult: "@", gast.Mod: "%", gast.FloorDiv: "//"}

_VIEW_ATTRS = {"T", "mT", "real", "imag", "flat"}
_VIEW_FUNCS = {"reshape", "ravel", "view", "transpose", "squeeze", "swapaxes", "moveaxis",
               "expand_dims", "asarray", "asanyarray", "atleast_1d", "atleast_2d",
               "atleast_3d", "broadcast_to", "diagonal", "flatten_view", "real", "imag",
               "split", "array_split", "hsplit", "vsplit", "stop_gradient"}


# calls of these never hand back an argument's array
_FRESH_BUILTINS = {"float", "int", "bool", "complex", "len", "abs", "round", "sum", "range",
                   "str", "repr", "print", "isinstance", "divmod", "pow"}
# calls of these make a new container of their argument's items (which may be views)
_CONTAINER_BUILTINS = {"list", "tuple", "dict", "sorted", "reversed", "zip", "enumerate"}
_FRESH_METHODS = {"copy", "astype", "sum", "mean", "prod", "std", "var", "dot", "max", "min",
                  "argmax", "argmin", "cumsum", "cumprod", "round", "clip", "conj", "item",
                  "tolist", "all", "any", "trace", "fill", "sort", "argsort", "nonzero",
                  "keys"}


# code object -> whether every return of that function makes new values (weak: a
# notebook's thousands of lambdas come and go)
_RETURNS_NEW: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _returned_by(fn):
    """``_returned_params`` of the function ``fn`` (a Cell: its ``construct``), as
    positions among the parameters it is called with; None when in doubt."""
    if isinstance(getattr(fn, "construct", None), types.MethodType):
        fn = fn.construct  # a Cell: calling it runs construct
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    got = _RETURNS_NEW.get(code, MISSING)
    if got is MISSING:
        try:
            tree = parse_function(fn).tree
        except Exception:  # noqa: BLE001 -- no readable source: nothing proven
            got = None
        else:
            got = _returned_params(tree)
            if got is not None:
                a = tree.args
                order = [p.id for p in a.posonlyargs + a.args]
                if isinstance(fn, types.MethodType):
                    order = order[1:]
                got = frozenset(order.index(p) if p in order else -1 for p in got)
        _RETURNS_NEW[code] = got
    return got


def _returns_new(fn) -> bool:
    """Whether each of ``fn``'s returns makes new values (never one of its arguments,
    an item of one, or one value twice).  False when in doubt."""
    return _returned_by(fn) == frozenset()


def _aliases(a, links):
    """Names that may share ``a``'s array: copies of copies too (b = a; c = b).
    ``links``: pairs of names that may share an array (views included)."""
    aliases, todo = {a}, [a]
    while todo:
        x = todo.pop()
        for t, u in links:
            for y in ((u,) if t == x else ()) + ((t,) if u == x else ()):
                if y not in aliases:
                    aliases.add(y)
                    todo.append(y)
    aliases.discard(a)
    return aliases


def _link(t, u, node):
    """How the name ``t`` that ``node`` binds relates to ``u``, with a position when
    known: ("item", i) -- ``t`` is item ``i`` of ``u`` (``t = u[0]``, ``t, v = u``;
    None: some item, ``for t in u``); ("holds", i) -- ``u`` is item ``i`` of ``t``
    (``t = [u]``; None: ``t.append(u)``); ("copy", None) -- anything else: ``t = u``,
    and, not to miss a case, calls and the like."""
    if isinstance(node, gast.For):
        return ("item", None) if isinstance(node.iter, gast.Name) and node.iter.id == u \
            else ("copy", None)
    value = node.value
    if isinstance(node, gast.Expr):
        return _growth_link(t, u, value)
    target = node.targets[0]
    if isinstance(target, (gast.Tuple, gast.List)):
        names = [e.id if isinstance(e, gast.Name) else None for e in target.elts]
        if u in names:
            return ("sibling", None)  # u is t only if the value held one list twice
        if isinstance(value, gast.Name) and value.id == u:
            return ("item", names.index(t) if t in names else None)
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and value.func.attr in ("pop", "get") and isinstance(value.func.value, gast.Name) \
            and value.func.value.id == u:
        return ("item", None)  # t = u.pop(): an item of u
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id in _CONTAINER_BUILTINS and any(
                isinstance(a, gast.Name) and a.id == u for a in value.args):
        return ("shares", None)  # list(u): a new list of the same items
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
            and value.value.id == u:
        if isinstance(value.slice, gast.Slice):
            return ("shares", None)  # a new list of the same items
        i = value.slice.value if isinstance(value.slice, gast.Constant) else None
        return ("item", i if type(i) is int else None)
    if isinstance(value, (gast.List, gast.Tuple)):
        at = [i for i, e in enumerate(value.elts) if isinstance(e, gast.Name) and e.id == u]
        if at:
            return ("holds", at[0] if len(at) == 1 else None)
        inside = [i for i, e in enumerate(value.elts) if isinstance(e, (gast.List, gast.Tuple))
                  and any(isinstance(n, gast.Name) and n.id == u for n in astutil.nodes(e))]
        if inside:  # t = ([u], v): u is inside item i of t
            return ("deep", inside[0] if len(inside) == 1 else None)
    return ("copy", None)


def _growth_link(t, u, call):
    """``_link`` of ``t.append(u)``, ``t.extend(u)`` (as t = t + [u], t + u) and
    ``t.update(u)`` (t's entries are u's, as extend; ``t.update({"k": u})``: t holds
    u)."""
    if call.func.attr == "update":
        return ("shares", None) if any(isinstance(a, gast.Name) and a.id == u
                                       for a in call.args) else ("holds", None)
    arg = call.args[0]
    if call.func.attr == "append":
        arg = gast.List(elts=[arg], ctx=gast.Load())
    if isinstance(arg, gast.Name):
        return ("shares", None) if arg.id == u else ("copy", None)
    store = gast.Name(id=t, ctx=gast.Store(), annotation=None, type_comment=None)
    kind, _ = _link(t, u, gast.Assign(targets=[store], value=arg))
    return (kind, None)  # at some position


def _list_aliases(a, links):
    """Names that ``a.append(...)`` changes too: the names that may be the list ``a``
    (copies) or hold it (``outer = [a]``, then also ``outer[0]``); not its items
    (``v = a[0]`` stays).  ``links``: (t, u, (kind, position)) as ``_link`` tells."""
    same = {a}
    holder = {}  # name -> {(position, deeper)}: it may hold a (deeper: a holder of a)
    while True:
        size = len(same) + sum(len(p) for p in holder.values())
        for t, u, (kind, pos) in links:
            if kind == "holds":
                t, u, kind = u, t, "item"  # u holds t
            _LIST_STEPS.get(kind, _no_step)(t, u, pos, same, holder)
        if len(same) + sum(len(p) for p in holder.values()) == size:
            return (same | set(holder)) - {a}


def _no_step(t, u, pos, same, holder):
    pass  # "sibling": u is t only if the value held one list twice


def _copy_step(t, u, pos, same, holder):
    for x, y in ((t, u), (u, t)):
        if x in same:
            same.add(y)
        if x in holder:
            holder.setdefault(y, set()).update(holder[x])


def _shares_step(t, u, pos, same, holder):  # t.extend(u): one list's items are the other's
    for x, y in ((t, u), (u, t)):
        for _, deeper in tuple(holder.get(x, ())):
            holder.setdefault(y, set()).add((None, deeper))


def _deep_step(t, u, pos, same, holder):  # u inside item pos of t: an item of a holder of it
    if u in same or u in holder:
        holder.setdefault(t, set()).add((pos, True))
    if any(deeper and (at is None or pos is None or at == pos)
           for at, deeper in holder.get(t, ())):
        same.add(u)
        holder.setdefault(u, set()).add((None, True))


def _item_step(t, u, pos, same, holder):  # t is item pos of u
    if t in same:
        holder.setdefault(u, set()).add((pos, False))
    if t in holder:
        holder.setdefault(u, set()).add((pos, True))
    for at, deeper in tuple(holder.get(u, ())):
        if at is None or pos is None or at == pos:
            if deeper:  # an item of a holder of a's holder holds a
                holder.setdefault(t, set()).add((None, True))
            else:  # an item of a holder of a may be a
                same.add(t)


_LIST_STEPS = {"copy": _copy_step, "shares": _shares_step, "deep": _deep_step,
               "item": _item_step}


def _all_returns_new(fdef) -> bool:
    return _returned_params(fdef) == frozenset()


def _bindings(fdef):
    """name -> the values bound to it (None: not known, as a loop target), or None
    for the whole function when it yields or declares global/nonlocal names; and the
    names bound only by ``+=`` and the like (in place on an array)."""
    binds, augmented = {}, set()
    for n in astutil.nodes(fdef):
        if isinstance(n, (gast.Yield, gast.YieldFrom, gast.Global, gast.Nonlocal)):
            return None, set()
        if isinstance(n, gast.Assign):
            for t in n.targets:
                for x in astutil.nodes(t):
                    if isinstance(x, gast.Name):
                        binds.setdefault(x.id, []).append(n.value if t is x else None)
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            augmented.add(n.target.id)
        elif isinstance(n, (gast.AugAssign, gast.AnnAssign, gast.For, gast.With,
                            gast.NamedExpr, gast.ExceptHandler, gast.comprehension)):
            for x in astutil.nodes(getattr(n, "target", None) or getattr(n, "name", None)
                                  or gast.Pass()):
                if isinstance(x, gast.Name):
                    binds.setdefault(x.id, []).append(None)
    for a in augmented:
        if a in binds:
            binds[a].append(None)
    return binds, augmented - set(binds)


def _returned_params(fdef):
    """The parameters whose values (arrays) ``fdef``'s returns may hand back:
    ``frozenset()`` when every return makes new values (``return np.tanh(x @ w)``,
    ``return a + b``, a local bound only to such values), ``{"h"}`` for ``return h``
    where ``h`` is a parameter changed only in place (``h += v``); None when in doubt
    (any parameter, or one value twice)."""
    binds, augmented = _bindings(fdef)
    if binds is None:
        return None
    params = {a.id for a in fdef.args.args + fdef.args.posonlyargs + fdef.args.kwonlyargs}

    def new(e, seen=()):
        if e is None or isinstance(e, (gast.Constant, gast.BinOp, gast.UnaryOp,
                                       gast.Compare, gast.BoolOp)):
            return not isinstance(e, gast.BoolOp)  # `a or b` is a or b
        if isinstance(e, gast.Name):
            vals = binds.get(e.id)
            return e.id not in params and e.id not in seen and bool(vals) and all(
                v is not None and new(v, seen + (e.id,)) for v in vals)
        if isinstance(e, gast.Call) and isinstance(e.func, gast.Attribute) \
                and isinstance(e.func.value, gast.Name) and e.func.value.id not in binds \
                and e.func.value.id not in params:
            return e.func.attr not in _VIEW_FUNCS  # a module's function: np.tanh(...)
        return False

    handed = set()
    for n in astutil.nodes(fdef):
        if isinstance(n, gast.Return):
            v = n.value
            items = v.elts if isinstance(v, (gast.Tuple, gast.List)) else [v]
            names = [x.id for x in items if isinstance(x, gast.Name)]
            if len(names) != len(set(names)):
                return None  # return v, v: two items that are one array
            for x in items:
                if isinstance(x, gast.Name) and x.id in params \
                        and (x.id not in binds or x.id in augmented):
                    handed.add(x.id)  # the caller's own array back
                elif not new(x):
                    return None
    return frozenset(handed)


def dict_names(fdef, every=None) -> set:
    """Local names that only ever hold dicts: every binding a dict display, a dict
    comprehension or ``dict(...)``.  ``every``: ``astutil.node_list(fdef)``, if the
    caller has it."""
    binds = {}
    for n in (astutil.node_list(fdef) if every is None else every):
        if isinstance(n, gast.Assign):
            for t in n.targets:
                for x in astutil.name_nodes(t):
                    if isinstance(x.ctx, gast.Store):
                        binds.setdefault(x.id, []).append(n.value if t is x else None)
        elif isinstance(n, (gast.AugAssign, gast.For, gast.comprehension, gast.AnnAssign,
                            gast.NamedExpr, gast.With)):
            for x in astutil.nodes(n):
                if isinstance(x, gast.Name) and isinstance(x.ctx, gast.Store):
                    binds.setdefault(x.id, []).append(None)
    params = {a.id for a in fdef.args.args + fdef.args.posonlyargs + fdef.args.kwonlyargs}
    return {k for k, vs in binds.items() if k not in params and all(
        isinstance(v, (gast.Dict, gast.DictComp)) or isinstance(v, gast.Call)
        and isinstance(v.func, gast.Name) and v.func.id == "dict" for v in vs)}



def chained(target) -> bool:
    """``b[i][j]`` as an assignment target (b a name): a write into an item of an item."""
    return isinstance(target, gast.Subscript) and isinstance(target.value, gast.Subscript) \
        and isinstance(target.value.value, gast.Name)


def entry_key(index) -> bool:
    """Whether ``index`` is a dict key as written: a string constant (an array's
    index is never one)."""
    return isinstance(index, gast.Constant) and isinstance(index.value, str)



_DISPLAYS = (gast.Dict, gast.List, gast.Tuple)


class Update:
    """One change in place: ``node`` changes the array (list, dict) named ``a``."""
    __slots__ = ("node", "a", "what", "kind", "entry", "passed", "callers_dict", "callee")

    def __init__(self, node, a, what, kind, entry=False, passed=(), callee=None):
        self.node, self.a, self.what, self.kind = node, a, what, kind
        self.entry = entry      # d["k"] = v: replaces an entry of a dict
        self.callers_dict = entry  # a write into a dict: refused if it is the caller's
        self.passed = passed    # kind "call": the names the other arguments may hold
        self.callee = callee    # kind "call": the called function's name


_STATEMENT_OR_CALL = frozenset({gast.Expr, gast.Assign, gast.Call})


class InPlaceCheck:
    def __init__(self, normalizer):
        n = normalizer
        self.parsed, self.params, self.locals = n.parsed, n.params, n.locals
        self.rebound, self.param_shapes, self.nested = n.rebound, n.param_shapes, n.nested
        self.refuse = n.refuse
        self.namer = n.namer
        self.dict_locals = n.dict_names  # names that only hold dicts (see dict_names)
        self.here = None
        self.loop_index = {}  # id(for t in y) -> the index its write-backs use

    # -- entry ----------------------------------------------------------------
    def run(self, fdef):
        # (list_update looks at statements only, may_write at calls only)
        if not any(isinstance(n, gast.AugAssign)
                   or isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Subscript)
                   or n.__class__ in _STATEMENT_OR_CALL and (
                       self.list_update(n) or self.may_write(n))
                   for n in astutil.node_list(fdef)):
            return  # nothing is updated in place
        self.rank = self.ranks(fdef)
        self.binds = _values_bound(fdef)
        self.ints = _int_names(fdef) - set(self.params)
        self.write_views(fdef)
        self.index(fdef)
        self.dicts = dict_names(fdef)
        self.lists = _sequence_names(fdef, gast.List) - set(self.params)
        self.tuples = _sequence_names(fdef, gast.Tuple) - set(self.params)
        updates = []
        for n in astutil.nodes(fdef):
            self.here = self.top_index.get(id(n))  # where scalar_item looks
            updates += self.updates(n)
        if not updates:
            return
        copies = self.copies(fdef)
        self.all_updates = updates

        self.in_loops = {}  # id(node) -> the loops holding it, outermost first
        for lp in astutil.nodes(fdef):
            if isinstance(lp, (gast.For, gast.While)):
                for x in astutil.nodes(lp):
                    self.in_loops.setdefault(id(x), []).append(lp)
        self.loads = [n for n in astutil.nodes(fdef)
                      if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)]
        scalars = self.scalar_names(fdef)
        for u in updates:
            if u.kind == "chained":
                self.check_chained(fdef, u, copies)
            elif u.a not in scalars:  # a Python or NumPy scalar: `a += v` rebinds only
                self.check_update(fdef, u, copies)
        for loop in astutil.statements(fdef.body):
            if id(loop) in self.loop_index:  # for t in y -> for i_t, t in enumerate(y)
                loop.target = gast.Tuple(elts=[_name(self.loop_index[id(loop)], gast.Store()),
                                               loop.target], ctx=gast.Store())
                loop.iter = gast.copy_location(gast.Call(
                    func=_name("enumerate"), args=[loop.iter], keywords=[]), loop.iter)

    def index(self, fdef):
        """Where each statement sits among the top-level ones, and which parameters
        still hold their inputs while each runs."""
        self.unbound = {}  # top-level statements that run while a parameter holds its input
        for i, st in enumerate(fdef.body):
            for p in self.params:
                if p not in self.unbound.get(i - 1, set(self.params)):
                    continue
                self.unbound.setdefault(i, set()).add(p)
            self.unbound[i] = self.unbound.get(i, set()) - _assigned([st])
        self.top = {id(st): i for i, st in enumerate(fdef.body)}
        # every node -> the top-level statement holding it
        self.top_index = {id(x): i for i, st in enumerate(fdef.body) for x in astutil.nodes(st)}
        self.top_binds = {}  # name -> the top-level statements binding it (name = ...)
        for i, st in enumerate(fdef.body):
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name):
                self.top_binds.setdefault(st.targets[0].id, []).append(i)
        self.statement = {}  # id(node) -> the innermost statement holding it
        for st in astutil.statements(fdef.body):
            for x in astutil.nodes(st):
                self.statement[id(x)] = st
        self.where = {}  # id(statement) -> (its block, its position there, owner)
        self.place(fdef.body, None)

    def place(self, block, owner):
        for i, st in enumerate(block):
            self.where[id(st)] = (block, i, owner)
            for f in ("body", "orelse"):
                inner = getattr(st, f, None)
                if isinstance(st, (gast.If, gast.For, gast.While, gast.With)) and inner:
                    self.place(inner, st)

    # -- writes through a view, written into the array ------------------------------
    def write_views(self, fdef):
        """``y[1][0] = v`` -> ``y[1, 0] = v`` and ``y.T[0] = v`` -> ``y[..., 0] = v`` where
        ``y`` is an array of known rank and the indices pick views (integers, slices):
        what NumPy writes into ``y``.  Then the alias checks see a write into ``y``."""
        for st in astutil.statements(fdef.body):
            if isinstance(st, gast.Assign) and len(st.targets) == 1:
                flat = _flat_write(st.targets[0], st.value)
                if flat is not None:  # a.flat[i] = v
                    st.targets[0], st.value = flat
                st.targets[0] = self.through_view(st.targets[0])
            elif isinstance(st, gast.AugAssign):
                flat = _flat_write(st.target, None)
                if flat is not None:
                    st.target = flat[0]
                st.target = self.through_view(st.target)

    def through_view(self, target):
        """The write into ``y`` that ``target`` (a subscript of a view of ``y``) makes, or
        ``target`` itself."""
        if not isinstance(target, gast.Subscript):
            return target
        view = target.value
        parts = target.slice.elts if isinstance(target.slice, gast.Tuple) else [target.slice]

        def store(base, index):
            index = index[0] if len(index) == 1 else gast.Tuple(elts=index, ctx=gast.Load())
            return gast.copy_location(gast.Subscript(value=base, slice=index,
                                                     ctx=gast.Store()), target)

        if isinstance(view, gast.Subscript) and isinstance(view.value, gast.Name) \
                and self.rank.get(view.value.id, 0) >= 1:
            first = view.slice.elts if isinstance(view.slice, gast.Tuple) else [view.slice]
            # y[1][0]: y[1] is a view of y's row; y[1][:, k] too (a second index of one
            # part, or of views only, stays where it is after the first's integers)
            if len(first) < self.rank[view.value.id] and all(
                    _int_like(p) and (not isinstance(p, gast.Name) or p.id in self.ints)
                    for p in first) and (len(parts) == 1 or self.basic(target.slice)):
                return store(view.value, first + parts)
        if isinstance(view, gast.Attribute) and view.attr == "T" \
                and isinstance(view.value, gast.Name) and self.basic(target.slice) \
                and not any(isinstance(p, gast.Constant) and p.value in (None, Ellipsis)
                            for p in parts):
            # y.T[i, j] is y[..., j, i]
            rank = self.rank.get(view.value.id)
            lead = [gast.Slice(lower=None, upper=None, step=None)] * (rank - len(parts)) \
                if rank is not None and rank >= len(parts) else \
                [gast.Constant(value=Ellipsis, kind=None)]
            return store(view.value, lead + parts[::-1])
        return target

    # -- what changes in place ----------------------------------------------------
    def updates(self, n):
        """The Updates the node ``n`` makes (none for most nodes)."""
        if isinstance(n, gast.Assign) and chained(n.targets[0]) \
                and self.basic(n.targets[0].value.slice) \
                and not entry_key(n.targets[0].value.slice) and (
                    self.rank.get(n.targets[0].value.value.id, 0) >= 1
                    or not self.built_by_displays(n.targets[0].value.value.id)):
            # y[1:][0] = v into an array: y[1:] is a view, written into a copy and
            # stored back (y[1:] = inner): a write into y.  Into a list not built
            # here by displays (a parameter, lst = y): the same, its item stored back
            # into it; who else holds y's items is what y's alias checks see
            y = n.targets[0].value.value.id
            return [Update(n, y, f"assignment into {y}[...][...]", "item")]
        if isinstance(n, gast.Assign) and chained(n.targets[0]):
            b = n.targets[0].value.value.id  # b[i][j] = v changes the object b[i]
            return [Update(n, b, f"assignment into {b}[...][...]", "chained")]
        if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Subscript) \
                and isinstance(n.targets[0].value, gast.Name):
            a = n.targets[0].value.id  # y[i] = v writes into y's array too
            # d["k"] = v replaces an entry: a value read from another entry before
            # (y = d["a"]) is not changed by it, only another name for the dict is
            return [Update(n, a, f"assignment into {a}[...]", "item",
                           entry=self.entry(n.targets[0]))]
        if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Subscript) \
                and isinstance(n.target.value, gast.Name):
            a = n.target.value.id  # y[i] += v likewise; d["k"] += v changes the array
            # held at "k" in place (y = d["k"] sees it), and the caller's, if d is theirs
            update = Update(n, a, f"in-place {type(n.op).__name__.lower()}= into {a}[...]",
                            "item")
            update.callers_dict = self.entry(n.target)
            return [update]
        if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            a = n.target.id
            if a in self.tuples:
                return []  # t += (v,) makes a new tuple
            if a in self.lists and isinstance(n.op, gast.Add):
                # lst += [v] extends the list in place: its items stay as they were
                return [Update(n, a, f"{a} += [...] on a list another name shares", "list")]
            return [Update(n, a, f"in-place {type(n.op).__name__.lower()}= on a shared value",
                           "name")]
        if self.list_update(n):
            a, method = self.list_update(n)
            kind = "dict" if method == "update" else "list"
            return [Update(n, a, f"{a}.{method}(...) on a {kind} another name shares", "list")]
        if isinstance(n, gast.Call):
            return self.call_updates(n)
        return []

    def built_by_displays(self, b):
        """Whether every value bound to ``b`` is a display (``[a, w]``, ``{"k": v}``, a
        comprehension, ``dict()``): the items it holds are known (see check_chained);
        a name that only holds dicts counts, keyed by entries."""
        if b in self.dicts:
            return True
        vals = self.binds.get(b)
        return b not in self.params and bool(vals) and all(
            isinstance(v, (gast.List, gast.Tuple, gast.Dict, gast.ListComp, gast.DictComp))
            or isinstance(v, gast.Call) and isinstance(v.func, gast.Name)
            and v.func.id == "dict" and not v.args for v in vals)

    def entry(self, target):
        """Whether the subscript ``target`` is an entry of a dict: a string key, or any
        key but a slice or a tuple of a name that only ever holds dicts."""
        return entry_key(target.slice) or target.value.id in self.dicts \
            and not isinstance(target.slice, (gast.Slice, gast.Tuple))

    def callee(self, call):
        """(function, parameter names or None, names it reads from this scope) of the
        function ``call`` runs, if it is yours: a nested function or one sourcegrad reads."""
        f = call.func
        if isinstance(f, gast.Name) and f.id in self.nested:
            nested = self.nested[f.id]
            if nested.fdef is None:
                return None  # a partial: its arguments are checked where it is made
            reads = {x.id for x in astutil.name_nodes(nested.fdef)
                     if isinstance(x.ctx, gast.Load)} - set(nested.params)
            return nested.fdef, nested.params, reads
        if isinstance(f, gast.Name) and f.id in self.locals:
            return None
        fn = self.parsed.denotes(f, self.locals)
        if fn is MISSING or not callable(fn) or registry.lookup(fn) is not None \
                or registry.is_nondifferentiable(fn) \
                or getattr(fn, "__module__", None) == runtime.__name__:
            # a function with a rule: the rule says what it does; a derivative's own
            # helpers (differentiated again) write only into copies they own
            return None
        return fn, None, ()

    def may_write(self, n):
        return isinstance(n, gast.Call) and any(
            not isinstance(a, (gast.Constant, gast.Starred)) for a in n.args) \
            and self.callee(n) is not None

    def call_updates(self, call):
        """A call to a function that writes into its parameters' arrays
        (``def h(y): y -= c``): an Update of each name the argument may be."""
        found = self.callee(call)
        if found is None:
            return []
        fn, params, reads = found
        fname = getattr(fn, "name", None) or getattr(fn, "__name__", "function")
        out = []
        for i, arg in enumerate(call.args):
            if isinstance(arg, gast.Starred):
                return []  # positions unknown: what the callee writes into stays unproven
            written = writes_into_def(self.parsed, fn, params, [i]) if params is not None \
                else writes_into(fn, [i])
            if not written:
                continue
            others = [x for j, x in enumerate(call.args) if j != i] + [
                k.value for k in call.keywords]
            passed = set(reads).union(*(self.names_of(x) for x in others))
            out += [Update(call, a, f"call to {fname}, which updates its argument {a} in "
                                    f"place", "call", passed=passed, callee=fname)
                    for a in self.names_of(arg)]
        return out

    def list_update(self, s):
        """(list, method) for a statement that changes a local list in place as
        normalization rewrites it: ``lst.append(v)``, ``lst.extend(v)``, ``v = lst.pop()``."""
        call_ = s.value if isinstance(s, (gast.Expr, gast.Assign)) else None
        if not (isinstance(call_, gast.Call) and isinstance(call_.func, gast.Attribute)
                and isinstance(call_.func.value, gast.Name)
                and call_.func.value.id in self.locals):
            return None
        method = call_.func.attr
        if isinstance(s, gast.Expr) and method in LIST_METHODS and len(call_.args) == 1 \
                and not call_.keywords:
            return call_.func.value.id, method
        if isinstance(s, gast.Expr) and method == "update" and len(call_.args) <= 1 \
                and call_.func.value.id in self.dict_locals and not any(
                    k.arg is None for k in call_.keywords):
            return call_.func.value.id, method  # d.update(e, k=v): d = {**d, **e, "k": v}
        if isinstance(s, gast.Assign) and method == "pop" and not call_.args \
                and not call_.keywords and isinstance(s.targets[0], gast.Name):
            return call_.func.value.id, method
        return None

    # -- which names may share an array -------------------------------------------
    def names_of(self, v):
        """The names whose arrays (lists) the value ``v`` may be, view or hold."""
        if isinstance(v, gast.Name):
            return {v.id}
        # views share the array's memory: y = x[0], x.T, x.reshape(...), np.ravel(x)
        if isinstance(v, gast.Subscript):
            if isinstance(v.value, gast.Name) and self.scalar_item(v.value.id, v.slice):
                return set()  # an element of a vector: a new scalar, not a view
            return self.names_of(v.value)
        if isinstance(v, gast.Attribute):
            return self.names_of(v.value) if v.attr in _VIEW_ATTRS else set()
        if isinstance(v, gast.Call):
            return self.call_names(v)
        return self.held_names(v)

    def call_names(self, v):
        """names_of a call: a view of its argument, or an argument handed back."""
        f = v.func
        if isinstance(f, gast.Name) and f.id in _CONTAINER_BUILTINS and f.id not in self.locals:
            return self.union(v.args)  # list(m): a new list of m's items (rows: views)
        if isinstance(f, gast.Name) and f.id in _VIEW_FUNCS and v.args:
            return self.names_of(v.args[0])  # stop_gradient(x) is x itself
        if isinstance(f, gast.Attribute) and f.attr in _VIEW_FUNCS:
            base = f.value
            if isinstance(base, gast.Name) and base.id not in self.locals \
                    and base.id not in self.params and v.args:
                return self.names_of(v.args[0])  # np.reshape(x, ...)
            return self.names_of(base)  # x.reshape(...)
        if not self.may_return_argument(v):
            return set()
        args = v.args + [k.value for k in v.keywords]
        if isinstance(f, gast.Attribute) and not (
                isinstance(f.value, gast.Name) and f.value.id not in self.locals
                and f.value.id not in self.params):
            args = [f.value] + args  # d.items(), lst.copy_of_items(): what the object holds
        handed = self.returned_positions(v)
        if handed is not None and -1 not in handed and not v.keywords \
                and not any(isinstance(a, gast.Starred) for a in v.args):
            args = [a for i, a in enumerate(v.args) if i in handed]
        return self.union(args)

    def held_names(self, v):
        """names_of a value that holds or picks others: a display, ``a or b``, ..."""
        if isinstance(v, gast.IfExp):
            return self.names_of(v.body) | self.names_of(v.orelse)
        if isinstance(v, gast.BinOp) and isinstance(v.op, (gast.Add, gast.Mult)) and any(
                isinstance(o, (gast.List, gast.Tuple)) for o in (v.left, v.right)):
            # [v] + rest, [v] * 2: a new list holding the operands' items
            return self.names_of(v.left) | self.names_of(v.right)
        if isinstance(v, gast.BoolOp):
            return self.union(v.values)
        if isinstance(v, gast.Dict):  # {"w": v} holds v
            return self.union(v.values)
        if isinstance(v, (gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp)):
            # [r for r in m]: items of what it loops over, or what its items read
            targets = {n.id for g in v.generators for n in astutil.name_nodes(g.target)}
            elt = v.value if isinstance(v, gast.DictComp) else v.elt
            return self.union([g.iter for g in v.generators]) | (self.names_of(elt) - targets)
        if isinstance(v, (gast.Tuple, gast.List)):  # a container holds its items
            return self.union(v.elts)
        return set()

    def union(self, values):
        return set().union(*(self.names_of(x.value if isinstance(x, gast.Starred) else x)
                             for x in values))

    def may_return_argument(self, call):
        """Whether ``call`` may hand back (an item of) one of its arguments: your own
        functions and methods may (``def ident(x): return x``) unless every return
        makes new values; NumPy's functions and the array methods that compute
        something make new arrays."""
        f = call.func
        if isinstance(f, gast.Name):
            if f.id in _FRESH_BUILTINS:
                return False
            if f.id in self.locals:
                return True
            fn = self.parsed.resolve(f.id)
            # save_item(y, i) in a derivative differentiated again: a copy of the item
            return fn is not runtime.save_item and not _returns_new(fn)
        if isinstance(f, gast.Attribute):
            base = f.value
            if isinstance(base, gast.Name) and base.id not in self.locals \
                    and base.id not in self.params:
                return False  # a module's function: np.sin(x), math.exp(x)
            return f.attr not in _FRESH_METHODS
        return True

    def returned_positions(self, call):
        """The argument positions a call to one of your module-level functions may
        hand back (see ``_returned_params``); None when in doubt."""
        f = call.func
        if isinstance(f, gast.Name) and f.id not in self.locals:
            fn = self.parsed.resolve(f.id)
            if fn is runtime.restore_item:  # a derivative differentiated again
                return frozenset({0})  # the array (or its copy) with the item restored
            return _returned_by(fn)
        return None

    def bound_copies(self, target, value, node):
        """(name, name it may share an array with, node) for ``target = value``."""
        if isinstance(target, gast.Starred):
            target = target.value
        if isinstance(target, gast.Name):
            return [(target.id, u, node) for u in self.names_of(value)]
        if not isinstance(target, (gast.Tuple, gast.List)):
            return []
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(
                target.elts) and not any(isinstance(e, gast.Starred) for e in value.elts):
            # item by item; in a swap (a, b = b, a) a takes b's old array, which
            # the name b no longer holds
            rebound = {e.id for e in astutil.name_nodes(target)}
            return [c for t, v in zip(target.elts, value.elts)
                    for c in self.bound_copies(t, v, node) if c[1] not in rebound]
        # items of one value: each may be any array the value holds, and two items
        # may be one array (def pair(x): v = f(x); return v, v)
        names = [e.id for e in astutil.name_nodes(target)]
        held = self.names_of(value)
        return [(t, u, node) for t in names for u in held | set(names) if u != t]

    def copies(self, fdef):
        """Every (name, name it may share an array with, node binding it)."""
        copies = []
        dicts = self.dicts
        for n in astutil.nodes(fdef):
            if isinstance(n, gast.Assign):
                self.here = self.top.get(id(n))
                for t in n.targets:
                    copies += self.bound_copies(t, n.value, n)
                # a = b = v: both names hold the one value
                bound = [[x.id for x in astutil.name_nodes(t)] for t in n.targets]
                copies += [(t, u, n) for i, ts in enumerate(bound) for us in bound[i + 1:]
                           for t in ts for u in us if t != u]
            elif isinstance(n, gast.For):  # for v in (a, b): v is a, then b
                self.here = self.top.get(id(n))
                if isinstance(n.iter, gast.Name) and n.iter.id in dicts:
                    continue  # for k in d: the keys of a dict hold none of its values
                copies += self.bound_copies(
                    n.target, gast.Tuple(elts=[n.iter], ctx=gast.Load()), n)
            elif isinstance(n, gast.Expr) and self.list_update(n):
                # lst.append(v): the list holds v (lst[-1] is v)
                self.here = self.top.get(id(n))
                lst = self.list_update(n)[0]
                copies += [(lst, u, n) for u in self.union(
                    n.value.args + [k.value for k in n.value.keywords])]
        return copies

    # -- the check ------------------------------------------------------------------
    def check_update(self, fdef, u, copies):
        aug, a = u.node, u.a
        enclosing = self.in_loops.get(id(aug), [])
        listed = u.kind == "list"
        # a list bound afresh in the loop before it is changed (row = [] ...
        # row.append(v)): what later statements did with it was another list
        fresh = listed and enclosing and any(
            isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)
            and st.targets[0].id == a and st.lineno < aug.lineno
            for st in enclosing[-1].body)

        def before(node, pair=()):
            """Whether the copy ``node`` may run before the in-place update (and what
            it linked is not bound afresh on every path from it to the update)."""
            return (node.lineno < aug.lineno or not fresh and any(
                any(lp is x for x in self.in_loops.get(id(node), ())) for lp in enclosing)) \
                and not self.killed(node, aug, pair)

        if listed:
            aliases = _list_aliases(a, [(t, v, _link(t, v, n)) for t, v, n in copies
                                        if before(n, (t, v)) and not self.rebound_between(
                                            fdef, (t, v), n, aug)])
            self.refuse_callers_list(fdef, aug, a, aliases | {a}, u.what)
        else:
            # d["k"] = v replaces an entry: the values d holds (d = {"w": y}; y) and
            # read from it before (y = d["a"]) are not changed, only other names for d
            # (nor is what a loop over it or its items()/values()/get() handed out)
            aliases = _aliases(a, [(t, v) for t, v, n in copies if before(n, (t, v)) and not (
                u.entry and (isinstance(n, gast.For) or isinstance(n, gast.Assign) and (
                    isinstance(n.value, _DISPLAYS) or self.new_container(n.value)
                    or isinstance(n.value, gast.Subscript) or _entry_read(n.value))))])
        if u.kind == "call":
            self.check_call(u, aliases | {a})
        if u.kind == "item" and isinstance(aug, gast.AugAssign):
            self.check_item_update(u, {id(n): n for t, v, n in copies
                                       if t == a and before(n)}.values(), enclosing,
                                   [(t, v) for t, v, n in copies if a not in (t, v)])
        read = [n for n in self.loads if n.id in aliases and (
            n.lineno > aug.lineno
            or any(lp is x for x in self.in_loops.get(id(n), ()) for lp in enclosing))
            and not self.loop_bound(n, aug)]
        if read and u.kind != "call":
            # every name read afterwards that is known to be that array (list, dict),
            # or a view or display of it, is bound again after the update: Python's
            # reading of it (see plan)
            live = [(t, v, n) for t, v, n in copies if before(n, (t, v))]
            # a += v on a name not known to hold an array (or a list) may make a new
            # value: only a loop's item is written back then, if it is an array
            plan = self.plan(u, live, {n.id for n in read} | self.updated_later(u, aliases))
            if plan is not None:
                st = self.statement[id(aug)]
                if u.kind == "name" and not self.mutable(a):
                    # a += v changes a in place only when a holds an array or a list
                    # (a number becomes a new number): the names are bound again then
                    flag = self.namer.fresh(a + "_in_place")
                    test = _in_place_test(_name(a), aug.op)
                    first = gast.Assign(targets=[_name(flag, gast.Store())], value=test,
                                        type_comment=None)
                    plan = [gast.If(test=_name(flag), body=plan, orelse=[])]
                    for n in astutil.nodes(first):
                        if isinstance(n, (gast.stmt, gast.expr)):
                            gast.copy_location(n, aug)
                    gast.copy_location(plan[0], aug)
                    gast.copy_location(plan[0].test, aug)
                    setanno(st, "before", [first])
                setanno(st, "rebind", plan)
                read = []
        for n in read:
            self.refuse_shared_read(aug, u, n.id)
        if u.callers_dict:  # the names that may be the dict itself, not held by it
            same = _aliases(a, [(t, v) for t, v, n in copies if before(n) and not (
                isinstance(n, gast.Assign) and (isinstance(n.value, _DISPLAYS)
                                                or self.new_container(n.value)))])
            self.refuse_callers_dict(fdef, aug, a, same | {a})
        if (aliases or a in self.params) and u.kind == "item" and not u.entry:
            # no other name is read afterwards, but the backward sweep may read
            # one (an operand, a result it keeps), or it is the caller's array or
            # list: the write goes into a copy (the caller's input is left as it was)
            setanno(aug, "copy_first", True)

    # -- aliases bound again after an update ----------------------------------------
    def path(self, node):
        """The blocks around ``node``'s statement, innermost first: (block, position
        there, the compound statement owning the block or None)."""
        st = self.statement.get(id(node), node)
        out = []
        while id(st) in self.where:
            block, i, owner = self.where[id(st)]
            out.append((block, i, owner))
            if owner is None:
                break
            st = owner
        return out

    def between(self, link, node):
        """The statements that may run after the statement ``link`` and before the one
        holding ``node``, as (statements in the blocks on the way, loops around
        ``node`` that do not hold ``link``); None unless ``link`` runs on every path
        to ``node`` (not in a branch, not after it)."""
        if id(link) not in self.where:
            return None
        block, at, _ = self.where[id(link)]
        path = self.path(node)
        for k, (b, i, owner) in enumerate(path):
            if b is block:
                if at >= i:
                    return None
                plain = list(b[at + 1:i])
                loops = []
                for inner, j, owner_ in path[:k]:
                    plain += inner[:j]
                    if isinstance(owner_, (gast.For, gast.While)):
                        loops.append(owner_)
                return plain, loops
        return None

    def killed(self, link, node, pair):
        """Whether one of the names ``pair`` is bound to a new value (``y = y * 2``,
        ``y = y.copy()``) on every path from the statement ``link`` to ``node``."""
        if not pair or not isinstance(link, gast.Assign):
            return False
        if self.killed_in_block(link, node, pair):
            return True
        found = self.between(link, node)
        if found is None:
            return False
        plain, _ = found
        levels = {id(st) for st in plain}
        return any(isinstance(st, gast.Assign) and id(st) in levels and any(
            isinstance(t, gast.Name) and t.id in pair for t in st.targets)
            and not self.names_of(st.value) for st in plain)

    def loop_bound(self, load, node):
        """Whether ``load`` reads the target of a ``for`` loop around it that does not
        hold ``node``: each run of the loop binds it afresh from the sequence (which
        the update's own checks keep as Python sees it) before it is read."""
        return any(isinstance(lp, gast.For) and isinstance(lp.target, gast.Name)
                   and lp.target.id == load.id
                   and any(load is x for st in lp.body for x in astutil.nodes(st))
                   and not any(lp is x for x in self.in_loops.get(id(node), ()))
                   for lp in self.in_loops.get(id(load), ()))

    def killed_in_block(self, link, node, pair):
        """Whether a later statement of ``link``'s own block binds one of ``pair`` to a
        new value before control can leave the block or reach ``node`` (``x = z = e``
        then ``x = 0.5 * x`` in one branch, ``node`` in another)."""
        if id(link) not in self.where:
            return False
        block, at, _ = self.where[id(link)]
        for st in block[at + 1:]:
            if any(isinstance(x, (gast.Break, gast.Continue)) for x in astutil.nodes(st)) \
                    or id(node) in {id(x) for x in astutil.nodes(st)}:
                return False
            if isinstance(st, gast.Assign) and any(
                    isinstance(t, gast.Name) and t.id in pair for t in st.targets) \
                    and not self.names_of(st.value):
                return True
        return False

    def updated_later(self, u, aliases):
        """The names of ``aliases`` updated in place after ``u`` (a later ``b += 1``
        must start from the value ``u`` made)."""
        enclosing = self.in_loops.get(id(u.node), [])
        return {w.a for w in self.all_updates if w is not u and w.a in aliases and (
            w.node.lineno > u.node.lineno
            or any(lp is x for x in self.in_loops.get(id(w.node), ()) for lp in enclosing))}

    def bound_between(self, link, node, names):
        """Whether a statement that may run between ``link`` and ``node`` binds one of
        ``names`` (in-place updates of arrays and lists do not: they keep the object);
        None when ``link`` does not run on every path to ``node``."""
        found = self.between(link, node)
        if found is None:
            return None
        plain, loops = found
        mine = {id(x) for x in astutil.nodes(self.statement.get(id(node), node))}
        for st in plain + loops:
            for x in astutil.nodes(st):
                if isinstance(x, gast.Name) and isinstance(x.ctx, gast.Store) \
                        and x.id in names and id(x) not in mine \
                        and not self.in_place_target(x):
                    return True
        return False

    def in_place_target(self, x):
        """Whether the name ``x`` keeps its object here: ``a += v`` on an array or a list
        (in place), ``a = a``."""
        st = self.statement.get(id(x))
        if isinstance(st, gast.Assign) and isinstance(st.value, gast.Name) \
                and st.value.id == x.id:
            return True
        return isinstance(st, gast.AugAssign) and st.target is x and self.mutable(x.id)

    def mutable(self, a):
        """Whether ``a`` always holds an array of one axis or more, or a list: ``a += v``
        changes it in place."""
        return self.rank.get(a, 0) >= 1 or a in self.lists

    def basic(self, index):
        """Whether ``index`` picks a view: integers, slices, ``...`` and ``None``."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]

        def whole(p):
            return p is None or isinstance(p, gast.Constant) and (
                type(p.value) is int or p.value is None or p.value is Ellipsis) \
                or isinstance(p, gast.UnaryOp) and isinstance(p.op, gast.USub) \
                and whole(p.operand) or isinstance(p, gast.Name) and p.id in self.ints

        return all(whole(p.lower) and whole(p.upper) and whole(p.step)
                   if isinstance(p, gast.Slice) else whole(p) for p in parts)

    def must_link(self, t, v, node, at):
        """How ``t`` relates to ``v`` where the update ``at`` runs, when that is known
        for certain: (kind, t, v, expression, write-back) with kind "same" (``t = v``,
        ``t = v = e``), "view" (``t = v[1:]``, ``v.T``, ``stop_gradient(v)``: ``t`` is
        ``expression`` evaluated again after ``v`` changes; ``write-back``, when not None,
        makes ``v`` see a change of ``t``) or "holds" (``t = [v, w]``); None when
        not known (a branch binds it, something rebinds a name it reads before
        ``at``)."""
        if isinstance(node, gast.For):
            return self.item_link(t, v, node, at)
        if not isinstance(node, gast.Assign):
            return None
        targets = [x.id for x in node.targets if isinstance(x, gast.Name)]
        if t not in targets:
            return None
        value = node.value
        if v in targets:
            kind, expr, back = "same", _name(v), None
        elif isinstance(value, gast.Name) and value.id == v:
            kind, expr, back = "same", _name(v), None
        elif isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and value.value.id == v and self.basic(value.slice) and (
                    self.rank.get(v, 0) >= 1 and not self.scalar_item(v, value.slice)
                    or v not in self.rank):
            # a view of the array v (its items would be copies); when v's rank is not
            # known, t may be a number or a list's item: "guarded", bound again only
            # if both are arrays (is_view)
            kind = "view" if v in self.rank else "guarded"
            expr = value
            back = gast.Assign(targets=[gast.Subscript(value=_name(v, gast.Store()),
                                                       slice=value.slice, ctx=gast.Store())],
                               value=_name(t), type_comment=None)
            back.targets[0].value.ctx = gast.Load()
            setanno(back, "copy_first", True)
        elif isinstance(value, gast.Attribute) and value.attr == "T" \
                and isinstance(value.value, gast.Name) and value.value.id == v:
            kind, expr = "view", value
            back = gast.Assign(targets=[_name(v, gast.Store())], value=gast.Attribute(
                value=_name(t), attr="T", ctx=gast.Load()), type_comment=None)
        elif isinstance(value, gast.Call) and len(value.args) == 1 and not value.keywords \
                and isinstance(value.args[0], gast.Name) and value.args[0].id == v \
                and (getattr(value.func, "attr", None) or getattr(value.func, "id", None)) \
                == "stop_gradient":
            kind, expr, back = "view", value, None  # t is v, its gradient stopped
        elif isinstance(value, (gast.List, gast.Tuple, gast.Dict)) and all(
                isinstance(e, (gast.Name, gast.Constant)) for e in (
                    value.values if isinstance(value, gast.Dict) else value.elts)) \
                and (not isinstance(value, gast.Dict) or all(
                    isinstance(k, gast.Constant) for k in value.keys)):
            kind, expr, back = "holds", value, None
        else:
            return None
        reads = {x.id for x in astutil.name_nodes(expr)} | {t, v}
        if self.bound_between(node, at, reads) is not False:
            return None
        if kind == "holds":
            plain, loops = self.between(node, at)
            inside = {id(x) for st in plain + loops for x in astutil.nodes(st)}
            if any(w.a == t and id(w.node) in inside and w.node is not at
                   for w in self.all_updates):
                return None  # t changed since: the display no longer says what it holds
        return kind, t, v, expr, back

    def item_link(self, t, y, loop, at):
        """``for t in y`` around the update ``at`` of ``t``: ("item", t, y, None,
        write-back), the write-back ``y[i] = t`` with ``i`` the loop's index (after
        ``t += v``: ``if changes_in_place(y[i], "__iadd__"): y[i] = t``, an array item
        changes in place, a number does not); None unless ``t`` holds ``y``'s item when
        ``at`` runs and nothing else writes into ``y`` in the loop."""
        if not (isinstance(loop.target, gast.Name) and loop.target.id == t
                and isinstance(loop.iter, gast.Name) and loop.iter.id == y) \
                or loop.orelse or y in self.dicts or y in self.tuples \
                or self.parsed.resolve("enumerate") is not enumerate:
            return None
        path = self.path(at)
        owners = [owner for _, _, owner in path]
        if loop not in owners:
            return None
        inner = path[:owners.index(loop) + 1]  # the levels inside the loop's body
        plain = [st for block, j, _ in inner for st in block[:j]]
        loops = [owner for _, _, owner in inner[:-1] if isinstance(owner, (gast.For, gast.While))]
        mine = {id(x) for x in astutil.nodes(self.statement.get(id(at), at))}
        for st in plain + loops:
            for x in astutil.nodes(st):
                if isinstance(x, gast.Name) and isinstance(x.ctx, gast.Store) \
                        and x.id == t and id(x) not in mine and not self.in_place_target(x):
                    return None  # t is another value by then
        inside = {id(x) for x in astutil.nodes(loop)}
        if any(isinstance(x, gast.Name) and isinstance(x.ctx, gast.Store) and x.id == y
               for x in astutil.nodes(loop)) or any(
                w.a == y and id(w.node) in inside for w in self.all_updates):
            return None  # y bound or written into in the loop: y[i] may be another item
        index = self.loop_index.get(id(loop))
        if index is None:
            index = self.loop_index[id(loop)] = self.namer.fresh("i_" + t)

        def item():
            return gast.Subscript(value=_name(y), slice=_name(index), ctx=gast.Load())

        write = gast.Assign(targets=[gast.Subscript(value=_name(y), slice=_name(index),
                                                    ctx=gast.Store())],
                            value=_name(t), type_comment=None)
        setanno(write, "copy_first", True)
        st = self.statement.get(id(at), at)
        if not (isinstance(st, gast.AugAssign) and isinstance(st.target, gast.Name)):
            return "item", t, y, None, write  # t[0] = v: the item is changed in place
        # t += v: in place only when the item is an array (a list); a number is not
        back = gast.If(test=_in_place_test(item(), st.op), body=[write], orelse=[])
        return "item", t, y, None, back

    def plan(self, u, copies, needed):
        """Statements that bind every name of ``needed`` again after the update ``u``,
        as Python would see them (``b = a`` after ``a[0] = v`` when ``b = a`` was bound
        before on every path, ``s = a[1:]`` again, ``a[1:] = s`` after ``s[0] = v``); None
        unless each of them is known to be that object, a view or display of it."""
        links = [m for m in (self.must_link(t, v, n, u.node) for t, v, n in copies)
                 if m is not None]
        links += [m for m in (self.must_link(v, t, n, u.node) for t, v, n in copies)
                  if m is not None]
        if isinstance(u.node, gast.AugAssign) and isinstance(u.node.target, gast.Subscript):
            # a[k] += v changes the object a[k] in place when it is an array: a name
            # that may be that item of a list (t = a[k], guarded) would see it
            links = [m for m in links if m[0] != "guarded"]
        made = self.bind_again(u, links)
        if not needed <= set(made) | {u.a}:
            return None
        out = _in_order(made)
        if out is None:
            return None  # they read one another
        where = u.node
        for st in out:
            for n in astutil.nodes(st):
                if isinstance(n, (gast.stmt, gast.expr)):
                    gast.copy_location(n, where)
        return out

    @staticmethod
    def bind_again(u, links):
        """name -> the statement binding it again after ``u``, for every name the
        ``links`` reach from ``u.a``."""
        made = {}
        todo = [u.a]
        while todo:
            x = todo.pop(0)
            for kind, t, v, expr, back in links:
                if x == v and t not in made and t != u.a and expr is not None:
                    made[t] = _guarded(_assign(t, expr), kind, t, v)
                    todo.append(t)
                elif x == t and v not in made and v != u.a:
                    if kind == "same":
                        made[v] = _assign(v, _name(t))
                    elif back is not None:
                        made[v] = astutil.copy_tree(back)
                        for old_, new_ in zip(astutil.nodes(back), astutil.nodes(made[v])):
                            for key in ("copy_first", "runtime"):
                                if getanno(old_, key) is not None:
                                    setanno(new_, key, getanno(old_, key))
                        made[v] = _guarded(made[v], kind, t, v)
                    else:
                        continue
                    todo.append(v)
        return made

    def new_container(self, v) -> bool:
        """``dict(p)``, ``list(xs)``, ``tuple(xs)``: a new container of the same items."""
        return isinstance(v, gast.Call) and isinstance(v.func, gast.Name) \
            and v.func.id in _CONTAINER_BUILTINS and v.func.id not in self.locals

    def check_chained(self, fdef, u, copies):
        """Refuse ``b[i][j] = v`` unless nothing else may hold the object ``b[i]``.

        Python changes the object ``b[i]`` in place; sourcegrad writes into a copy of
        it and stores the copy in ``b[i]`` (``Normalizer.assign_chained``), which is
        the same unless another name holds that object and is read afterwards: a name
        it was built from (``b = {"a": lst}``), one read out of ``b`` (``t = b["a"]``),
        a copy or alias of ``b``, or the caller's (``b`` a parameter, or bound other
        than by a display)."""
        aug, b = u.node, u.a
        enclosing = self.in_loops.get(id(aug), [])

        def before(node):
            return node.lineno < aug.lineno or any(
                any(lp is x for x in self.in_loops.get(id(node), ())) for lp in enclosing)

        def refuse(detail):
            self.refuse(aug, u.what, detail=detail,
                        hint=f"build the inner value as a name of its own, change it, then "
                             f"store it: inner = list({b}[i]); inner[j] = v; {b}[i] = inner")

        if b in self.params:
            refuse(f"{b} is passed in: the caller's object would change")
        sharers = self.chained_sharers(fdef, b, aug, before, refuse) - {b}
        for x in list(sharers):
            sharers |= _aliases(x, [(t, v) for t, v, n in copies])
        sharers.discard(b)
        for p in self.params:
            if p in sharers:
                refuse(f"{b}[...] may be an object of {p}, which the caller passed in")
        for n in self.loads:
            if n.id in sharers and (n.lineno > aug.lineno or any(
                    lp is x for x in self.in_loops.get(id(n), ()) for lp in enclosing)):
                refuse(f"{b}[...] may be the object {n.id} holds, and {n.id} is read "
                       f"afterwards; sourcegrad would change a copy, not what {n.id} holds")

    def chained_sharers(self, fdef, b, aug, before, refuse):
        """The names that may hold an item of the container ``b`` when ``aug`` writes
        into it: those its items were built from and those read out of it before
        (see check_chained); ``refuse`` when ``b`` is bound other than by a display."""
        displays = (gast.List, gast.Tuple, gast.Dict, gast.ListComp, gast.DictComp)
        sharers = set()
        for n in astutil.nodes(fdef):
            if isinstance(n, gast.Assign):
                t, v = n.targets[0], n.value
                if isinstance(t, gast.Name) and t.id == b:
                    if not isinstance(v, displays) and not (
                            isinstance(v, gast.Call) and isinstance(v.func, gast.Name)
                            and v.func.id == "dict" and not v.args):
                        refuse(f"{b} is bound from something other than a display "
                               f"(it may hold objects other names hold)")
                    items = v.values if isinstance(v, gast.Dict) else \
                        v.elts if isinstance(v, (gast.List, gast.Tuple)) else \
                        [k.value for k in v.keywords] if isinstance(v, gast.Call) else []
                    for e in items:  # a display of its own is a new object
                        if not isinstance(e, displays):
                            sharers |= self.names_of(e)
                elif isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) \
                        and t.value.id == b:
                    if not isinstance(v, displays):
                        sharers |= self.names_of(v)  # b[k] = lst
                elif before(n) and n is not aug and self.may_hold_items(v, b):
                    sharers |= {x.id for x in astutil.name_nodes(t)
                                if isinstance(x.ctx, gast.Store)}  # t = b["a"], c = b
            elif isinstance(n, gast.For) and before(n) and self.may_hold_items(n.iter, b):
                sharers |= {x.id for x in astutil.name_nodes(n.target)}
            elif isinstance(n, gast.Expr) and self.list_update(n) \
                    and self.list_update(n)[0] == b:
                sharers |= self.union(n.value.args + [k.value for k in n.value.keywords])
                # b.append(lst), b.update(e)
        return sharers

    def may_hold_items(self, v, b) -> bool:
        """Whether the value ``v`` may be, or hold, ``b`` or the objects ``b`` holds: ``b``
        itself, ``b["a"]``, ``[b]``, a shallow copy (``dict(b)``, ``{**b}``, ``b.copy()``,
        ``list(b.values())``)."""
        if b in self.names_of(v):
            return True
        if not any(isinstance(x, gast.Name) and x.id == b for x in astutil.nodes(v)):
            return False
        if isinstance(v, (gast.Dict, gast.List, gast.Tuple, gast.ListComp, gast.DictComp,
                          gast.GeneratorExp)):
            return True
        if isinstance(v, gast.Call):
            f = v.func
            return isinstance(f, gast.Name) and f.id in ("dict", "list", "tuple", "sorted",
                                                          "reversed", "zip", "enumerate") \
                or isinstance(f, gast.Attribute) and f.attr in ("copy", "values", "items")
        return False

    def check_item_update(self, u, binders, enclosing, links):
        """``c[k] += v`` changes the array at ``c[k]`` in place: refused when ``c`` may
        hold that array twice (``c = [a, a]``, ``c.append(a)`` after ``c = [a]``) and
        ``c`` is read afterwards, where the other item would show the change.
        ``binders``: the statements that bound or grew ``c``."""
        held = []
        for n in binders:
            value = n.value.args[0] if isinstance(n, gast.Expr) else getattr(n, "value", None)
            if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):
                value = gast.List(elts=[value.left, value.right] * 2, ctx=gast.Load())
            items = value.values if isinstance(value, gast.Dict) else value.elts \
                if isinstance(value, (gast.List, gast.Tuple)) else [value]
            held += [v for e in items if e is not None for v in self.names_of(e)]
        # two items that are one array: one name twice ([a, a], [a] * 2), or two names
        # for one array (b = a; [a, b])
        twice = sorted({v for i, v in enumerate(held) for w in held[i + 1:]
                        if w == v or w in _aliases(v, links)})
        if not twice:
            return
        aug, a = u.node, u.a
        for n in self.loads:
            if n.id == a and (n.lineno > aug.lineno or any(
                    lp is x for x in self.in_loops.get(id(n), ()) for lp in enclosing)):
                self.refuse(aug, u.what,
                            detail=f"{a} may hold the array {twice[0]} more than once; the "
                                   f"update changes it in place, so every item that is "
                                   f"that array changes, which sourcegrad does not follow",
                            hint=f"write {a}[...] = {a}[...] + ... to make a new array")

    def check_call(self, u, names):
        """The caller's own name for an array a called function updates in place: read
        in the same statement (``y += h(y)``), afterwards, or passed twice."""
        call = u.node
        st = self.statement[id(call)]
        inside = {id(x) for x in astutil.nodes(call)}
        if names & u.passed:
            self.refuse(call, u.what, detail=f"{u.a} is also passed in another argument "
                                             f"(or read by the function), which then "
                                             f"changes with it",
                        hint=f"pass a copy: {u.a}.copy()")
        target = st.target if isinstance(st, gast.AugAssign) else None
        # y = h(y): later reads of y see the value the statement binds
        binds = {t.id for t in st.targets if isinstance(t, gast.Name)} \
            if isinstance(st, gast.Assign) else set()
        inst = {id(x) for x in astutil.nodes(st)}
        loops = self.in_loops.get(id(call), [])
        after = [n for n in self.loads if n.id in names and id(n) not in inside and (
            id(n) in inst or n.id not in binds and not self.bound_before(call, n) and (
                n.lineno >= st.lineno or any(lp is x for x in self.in_loops.get(id(n), ())
                                             for lp in loops)))]
        if isinstance(target, gast.Name) and target.id in names:
            after.append(target)
        for n in after:
            self.refuse_shared_read(call, u, n.id)

    def bound_before(self, node, load):
        """Whether a top-level ``name = ...`` after the one holding ``node`` binds the
        name ``load`` reads before it runs (and no loop carries it back)."""
        start, end = self.top_index[id(node)], self.top_index[id(load)]
        return not self.in_loops.get(id(node)) and any(
            start < i < end for i in self.top_binds.get(load.id, ()))

    def refuse_shared_read(self, aug, u, other):
        if u.kind == "list":  # sourcegrad's lists are values: the other name would not see it
            a = u.a
            self.refuse(aug, u.what,
                        detail=f"{other} may be the list {a} or hold it, and is "
                               f"read afterwards; sourcegrad treats lists as "
                               f"values, so {other} would not see the change",
                        hint=f"build a new list and use that name: {a} = {a} + [...]"
                             f", or read {a} itself afterwards")
        if u.kind == "call":
            fname = u.callee
            self.refuse(aug, u.what,
                        detail=(f"{other} is read afterwards" if other == u.a else
                                f"{other} may share its array with {u.a}, and is read "
                                f"afterwards") +
                        "; in Python the call changes it, but sourcegrad treats arrays and "
                        "lists as values, so the caller would not see the change",
                        hint=f"pass a copy ({fname}({u.a}.copy(), ...)), or make {fname} "
                             f"return the new value and bind it: {u.a} = {fname}(...)")
        a = u.a
        self.refuse(aug, u.what,
                    detail=f"{a} may share its array with {other} (another name "
                           f"for it, or a view), which is read afterwards; "
                           f"in-place updates of shared arrays are not supported",
                    hint=f"write {a} = {a} {OPSYMBOLS.get(type(aug.op), 'op')} "
                         f"... to make a new array" if u.kind == "name" else
                    f"write into a copy: {a} = {a}.copy() first")

    def rebound_between(self, fdef, names, node, aug):
        """Whether one of ``names`` is bound afresh by a top-level statement after the
        one holding ``node`` and up to the one holding ``aug`` (``stack = stack[:]``):
        what ``node`` linked it to is another object by then."""
        start, end = self.top_index[id(node)], self.top_index[id(aug)]
        return any(start < i <= end and fdef.body[i] is not aug
                   for n in names for i in self.top_binds.get(n, ()))

    def refuse_callers_dict(self, fdef, aug, a, names):
        """Refuse ``a["k"] = v`` when ``a`` may be a parameter's dict: the caller's, which
        would not see the change (dicts are values, as lists are)."""
        top = self.top_index[id(aug)]
        fresh = {st.targets[0].id for st in fdef.body[:top] if isinstance(st, gast.Assign)
                 and isinstance(st.targets[0], gast.Name)}  # rebound first, on every path
        for p in self.params:
            if p in names and p not in fresh:
                self.refuse(aug, f"assignment into an entry of {a}, a dict passed in",
                            detail=f"{a} may be the dict the caller passed as {p}; "
                                   f"sourcegrad treats dicts as values, so the caller would "
                                   f"not see the change",
                            hint=f"work on a copy ({a} = {p}.copy() first) and return what "
                                 f"the caller needs")

    def refuse_callers_list(self, fdef, aug, a, names, what):
        """Refuse ``a.append(...)`` when ``a`` may be (or be held by) a parameter's value:
        the caller's list, which would not see the change (a caller in differentiated
        code would read the list unchanged)."""
        top = self.top_index[id(aug)]
        fresh = {st.targets[0].id for st in fdef.body[:top] if isinstance(st, gast.Assign)
                 and isinstance(st.targets[0], gast.Name)}  # rebound first, on every path
        for p in self.params:
            if p in names and p not in fresh:
                self.refuse(aug, what if p != a else f"{a}.{self.list_update(aug)[1]}(...) "
                                                     f"on a list passed in",
                            detail=f"{a} may be the list the caller passed as {p}, or be "
                                   f"held by it; sourcegrad treats lists as values, so the "
                                   f"caller would not see the change",
                            hint=f"work on a copy ({p} = {p}[:] first) and return what the "
                                 f"caller needs")

    def scalar_names(self, fdef):
        """Names that only ever hold scalars (immutable): every binding is a number,
        arithmetic or a ufunc of scalars, ``stop_gradient``/``float`` of one, or a
        parameter called with a Python float."""
        binds = _values_bound(fdef)
        floats = {p for p in self.params if getattr(self.param_shapes.get(p), "kind", None)
                  == "float"}
        # a parameter holds the caller's value (perhaps an array) until rebound
        scalars = (set(binds) - set(self.params)) | floats
        readers = astutil.readers(binds)
        todo = list(scalars)
        while todo:  # the largest set consistent with every binding
            name_ = todo.pop()
            if name_ in scalars and name_ in binds and not all(
                    v is not None and self.scalar(v, scalars, binds, floats)
                    for v in binds[name_]):
                scalars.discard(name_)
                todo += readers.get(name_, ())  # what was a scalar through it
        return scalars

    def scalar(self, e, scalars, binds, floats):
        """Whether the expression ``e`` makes a scalar when ``scalars`` hold scalars."""
        if isinstance(e, gast.Constant):
            return type(e.value) in (int, float)
        if isinstance(e, gast.Name):
            return e.id in scalars and (e.id in binds or e.id in floats)
        if isinstance(e, gast.Subscript) and isinstance(e.value, gast.Name):
            return self.rank.get(e.value.id) == 1 and self.scalar_item(e.value.id, e.slice)
        parts = [e.operand] if isinstance(e, gast.UnaryOp) else [e.left, e.right] \
            if isinstance(e, gast.BinOp) else e.args if self.scalar_call(e) else None
        return parts is not None and all(self.scalar(a, scalars, binds, floats)
                                         for a in parts)

    def scalar_call(self, e):
        """Whether the call ``e`` makes a scalar from scalar arguments: a ufunc,
        ``stop_gradient``, ``float``, ``abs``."""
        if not (isinstance(e, gast.Call) and e.args and not e.keywords):
            return False
        f = e.func
        fname = f.attr if isinstance(f, gast.Attribute) else getattr(f, "id", None)
        obj = getattr(np, fname, None) if isinstance(f, gast.Attribute) and isinstance(
            f.value, gast.Name) and f.value.id not in self.locals else None
        return fname in ("stop_gradient", "float", "abs") or isinstance(obj, np.ufunc)

    def scalar_item(self, base, index):
        """Whether ``base[index]`` is one element of an array (a new scalar, not a
        view): an integer for each of its axes, its rank known (see ``ranks``)."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        known = self.param_shapes.get(base)
        rank = self.rank.get(base)
        if known is not None and getattr(known, "kind", None) == "array" and (
                base not in self.rebound or base in self.unbound.get(self.here, ())):
            rank = len(known.shape)  # the input itself, at this statement
        return rank == len(parts) and all(_int_like(p) for p in parts)

    def ranks(self, fdef):
        """name -> its number of axes, where every value bound to it has that many:
        parameters of known shape, then what arithmetic, ufuncs and indexing make of
        them (a loop's ``x = 0.5 * x + np.sin(x[:, :1])`` keeps x's rank)."""
        binds = _values_bound(fdef)
        rank = {}
        for p in self.params:
            known = self.param_shapes.get(p)
            kind = getattr(known, "kind", None)
            if kind in ("array", "float"):
                rank[p] = len(known.shape) if kind == "array" else 0
                if p not in binds:
                    continue
                if not self.consistent(p, rank[p], binds[p], rank):
                    del rank[p]
        readers = astutil.readers(binds)
        todo = list(reversed(binds))  # in the order bound, most often one pass
        while todo:
            n = todo.pop()
            vals = binds[n]
            if n in rank or n in self.params or any(v is None for v in vals):
                continue
            candidates = {_rank(v, rank) for v in vals} - {None}
            if len(candidates) == 1 and self.consistent(n, candidates.pop(), vals, rank):
                todo += readers.get(n, ())  # their ranks may be known now
        return rank

    @staticmethod
    def consistent(n, r, vals, rank):
        """Whether every value in ``vals`` has rank ``r`` when ``n`` has it; if so,
        ``rank[n] = r``."""
        before = rank.get(n)
        rank[n] = r
        if all(v is not None and _rank(v, rank) == r for v in vals):
            return True
        if before is None:
            del rank[n]
        else:
            rank[n] = before
        return False



def _name(n, ctx=None):
    return gast.Name(id=n, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _assign(t, value):
    """``t = value`` (``value`` copied), a statement of the user's function."""
    return gast.Assign(targets=[_name(t, gast.Store())], value=astutil.copy_tree(value),
                       type_comment=None)


def _sequence_names(fdef, kind):
    """Local names that only ever hold lists (``kind`` gast.List) or tuples
    (gast.Tuple): displays, comprehensions, ``list(...)``, concatenations of them,
    other such names, ``a += [v]``."""
    binds = _values_bound(fdef)
    call = "list" if kind is gast.List else "tuple"
    names = set(binds)

    def seq(e):
        if isinstance(e, kind) or kind is gast.List and isinstance(e, gast.ListComp):
            return True
        if isinstance(e, gast.Name):
            return e.id in names
        if isinstance(e, gast.Call) and isinstance(e.func, gast.Name) and e.func.id == call:
            return True
        return isinstance(e, gast.BinOp) and isinstance(e.op, gast.Add) and (
            seq(e.left) or seq(e.right)) or isinstance(e, gast.BinOp) and isinstance(
            e.op, gast.Mult) and (seq(e.left) or seq(e.right))

    changed = True
    while changed:
        changed = False
        for n in list(names):
            if not all(v is not None and seq(v) for v in binds[n]):
                names.discard(n)
                changed = True
    return names


_IN_PLACE = {gast.Add: "__iadd__", gast.Sub: "__isub__", gast.Mult: "__imul__",
             gast.Div: "__itruediv__", gast.FloorDiv: "__ifloordiv__", gast.Mod: "__imod__",
             gast.Pow: "__ipow__", gast.MatMult: "__imatmul__", gast.BitOr: "__ior__",
             gast.BitAnd: "__iand__", gast.BitXor: "__ixor__", gast.LShift: "__ilshift__",
             gast.RShift: "__irshift__"}


def _in_place_test(value, op):
    """``changes_in_place(value, "__iadd__")`` for ``op`` ``+=``."""
    test = gast.Call(func=_name("changes_in_place"), args=[
        value, gast.Constant(value=_IN_PLACE[type(op)], kind=None)], keywords=[])
    setanno(test.func, "runtime", runtime.changes_in_place)
    return test


def _np(attr, *args):
    """``np.attr(*args)``, NumPy reached through the runtime (the user's module may
    call it something else)."""
    numpy_ = _name("np")
    setanno(numpy_, "runtime", runtime.np)
    return gast.Call(func=gast.Attribute(value=numpy_, attr=attr, ctx=gast.Load()),
                     args=list(args), keywords=[])


def _flat_write(target, value):
    """``a.flat[i] = v`` as the write into ``a`` it is: ``a[np.unravel_index(
    np.arange(np.size(a))[i], np.shape(a))] = np.resize(v, <that many>)`` (values
    repeated or cut as flat assignment does); (target, value), or None.  ``value``
    None for ``a.flat[i] += v`` (the target only)."""
    if not (isinstance(target, gast.Subscript) and isinstance(target.value, gast.Attribute)
            and target.value.attr == "flat" and isinstance(target.value.value, gast.Name)):
        return None
    a = target.value.value.id
    picked = gast.Subscript(value=_np("arange", _np("size", _name(a))),
                            slice=target.slice, ctx=gast.Load())
    index = _np("unravel_index", picked, _np("shape", _name(a)))
    new = gast.copy_location(gast.Subscript(value=_name(a), slice=index, ctx=gast.Store()),
                             target)
    if value is None:
        return new, None
    return new, _np("resize", value, _np("shape", astutil.copy_tree(picked)))


def _in_order(made):
    """The statements of ``made`` (name -> statement binding it), each after those
    binding the names it reads; None when they read one another."""
    made, out = dict(made), []
    while made:
        for x, st in list(made.items()):
            reads = {n.id for n in astutil.name_nodes(st) if isinstance(n.ctx, gast.Load)}
            if not (reads & set(made)) - {x}:
                out.append(st)
                del made[x]
                break
        else:
            return None
    return out


def _guarded(st, kind, t, v):
    """``st`` itself, or for a "guarded" link ``if is_view(t, v): st`` (``t = v[1]`` is a
    view only when both are arrays: a list's item or a vector's element is not)."""
    if kind != "guarded":
        return st
    test = gast.Call(func=_name("is_view"), args=[_name(t), _name(v)], keywords=[])
    setanno(test.func, "runtime", runtime.is_view)
    return gast.If(test=test, body=[st], orelse=[])


def _int_names(fdef):
    """Names that only ever hold Python ints: counters of ``range`` loops, int
    constants and their sums, differences and products."""
    binds = _values_bound(fdef)
    ints = set(binds)

    def whole(e):
        if isinstance(e, gast.Constant):
            return type(e.value) is int
        if isinstance(e, gast.Name):
            return e.id in ints
        if isinstance(e, gast.UnaryOp):
            return isinstance(e.op, gast.USub) and whole(e.operand)
        return isinstance(e, gast.BinOp) and isinstance(
            e.op, (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod)) \
            and whole(e.left) and whole(e.right)

    changed = True
    while changed:
        changed = False
        for n in list(ints):
            if not all(v is not None and whole(v) for v in binds[n]):
                ints.discard(n)
                changed = True
    return ints


def _int_like(p):
    """An index part taken for an integer: a name, an int, or a negative int."""
    return isinstance(p, gast.Name) or isinstance(p, gast.Constant) and type(p.value) is int \
        or isinstance(p, gast.UnaryOp) and isinstance(p.operand, gast.Constant)


# NumPy functions of known result rank: np.outer(a, b); of their argument's
# (np.zeros_like(x)); of their shape argument's length (np.zeros((2, 3)))
_ARRAY_MAKERS = {"outer": "outer", "zeros_like": "like", "ones_like": "like",
                 "empty_like": "like", "full_like": "like", "copy": "like",
                 "array": "like", "zeros": "shape", "ones": "shape", "empty": "shape",
                 "full": "shape"}


def _rank(e, rank):
    """The number of axes of the value of ``e``, or None when not known."""
    if isinstance(e, gast.Constant):
        return 0 if type(e.value) in (int, float) else None
    if isinstance(e, gast.Name):
        return rank.get(e.id)
    if isinstance(e, gast.UnaryOp):
        return _rank(e.operand, rank)
    if isinstance(e, gast.BinOp) and not isinstance(e.op, gast.MatMult):
        left, right = _rank(e.left, rank), _rank(e.right, rank)
        return None if left is None or right is None else max(left, right)
    if isinstance(e, gast.IfExp):
        body, orelse = _rank(e.body, rank), _rank(e.orelse, rank)
        return body if body == orelse else None
    if isinstance(e, gast.Call) and isinstance(e.func, gast.Attribute) \
            and isinstance(e.func.value, gast.Name) and e.func.value.id not in rank \
            and isinstance(getattr(np, e.func.attr, None), np.ufunc) and e.args \
            and not e.keywords:
        ranks = [_rank(a, rank) for a in e.args]
        return None if None in ranks else max(ranks)
    if isinstance(e, gast.Call) and isinstance(e.func, gast.Attribute) \
            and isinstance(e.func.value, gast.Name) and e.func.value.id not in rank \
            and e.args and not e.keywords:
        made = _ARRAY_MAKERS.get(e.func.attr)
        if made == "outer":
            return 2
        if made == "like":
            return _rank(e.args[0], rank)
        if made == "shape":
            shape = e.args[0]
            return len(shape.elts) if isinstance(shape, gast.Tuple) else 1 \
                if isinstance(shape, gast.Constant) and type(shape.value) is int else None
    if isinstance(e, gast.Attribute) and e.attr == "T":
        return _rank(e.value, rank)
    if isinstance(e, gast.Call) and isinstance(e.func, gast.Attribute) \
            and e.func.attr == "copy" and not e.args:
        return _rank(e.func.value, rank)
    if isinstance(e, gast.Subscript):
        base = _rank(e.value, rank)
        parts = e.slice.elts if isinstance(e.slice, gast.Tuple) else [e.slice]
        # an index known to be an integer (a name of rank 0); another name may be an
        # array of indices, whose rank adds to the result's
        ints = [isinstance(p, gast.Name) and rank.get(p.id) == 0
                or not isinstance(p, gast.Name) and _int_like(p) for p in parts]
        if base is None or len(parts) > base or not all(
                i or isinstance(p, gast.Slice) for i, p in zip(ints, parts)):
            return None
        return base - sum(ints)
    return None


def _entry_read(v):
    """Whether ``v`` hands out what a dict holds: ``d.items()``, ``d.values()``,
    ``d.get(k)``, ``d.pop(k)``."""
    return isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute) \
        and v.func.attr in ("items", "values", "get", "pop")


def _values_bound(fdef):
    """name -> the values bound to it (None: a part of a value, or a loop target);
    ``a += v`` counts ``a + v``."""
    binds = {}
    for n in astutil.nodes(fdef):
        if isinstance(n, gast.Assign):
            for t in n.targets:
                v = n.value
                if isinstance(t, (gast.Tuple, gast.List)) and isinstance(
                        v, (gast.Tuple, gast.List)) and len(t.elts) == len(v.elts) \
                        and not any(isinstance(e, gast.Starred) for e in t.elts + v.elts):
                    pairs = zip(t.elts, v.elts)  # x, y = y, e: item by item
                else:
                    pairs = [(t, v)]
                for t_, v_ in pairs:
                    for x in astutil.name_nodes(t_):
                        if not isinstance(x.ctx, gast.Load):
                            binds.setdefault(x.id, []).append(
                                v_ if isinstance(t_, gast.Name) else None)
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            binds.setdefault(n.target.id, []).append(gast.BinOp(
                left=gast.Name(id=n.target.id, ctx=gast.Load(), annotation=None,
                               type_comment=None), op=n.op, right=n.value))
        elif isinstance(n, (gast.For, gast.comprehension)):
            # for i in range(n): i is an int; another loop's items are not known
            counted = isinstance(n.target, gast.Name) and isinstance(n.iter, gast.Call) \
                and isinstance(n.iter.func, gast.Name) and n.iter.func.id == "range"
            if isinstance(n.target, gast.Name) and isinstance(n.iter, gast.Name):
                # for t in y: t is an item of y (y[0] for its rank; a row of a matrix is
                # a view, an item of a vector a new scalar)
                binds.setdefault(n.target.id, []).append(gast.Subscript(
                    value=n.iter, slice=gast.Constant(value=0, kind=None), ctx=gast.Load()))
                continue
            for x in astutil.name_nodes(n.target):
                binds.setdefault(x.id, []).append(
                    gast.Constant(value=0, kind=None) if counted else None)
    return binds


def _assigned(stmts):
    return {n.id for s in stmts for n in astutil.nodes(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def check(normalizer, fdef):
    """Refuse (or mark ``copy_first``) the in-place updates of ``fdef`` that value
    semantics would get wrong; see the module docstring."""
    InPlaceCheck(normalizer).run(fdef)
