"""Stage 6 -- simplify the generated function until nothing changes.

* constant folding and algebraic identities (``x ** (2 - 1)`` -> ``x``,
  ``d * 1`` -> ``d``);
* copy propagation for names bound once, outside control flow;
* dead-code elimination: statements whose results nobody reads (calls into
  user code and anything with a side effect are kept).

Each pass is a small function from tree to tree.
"""
from __future__ import annotations

import operator
from collections import Counter
from itertools import chain

import gast

from sourcegrad.astutil import (_NAME_FIELDS, NodeTransformer, _name_fields, make,
                                name_list, node_list, nodes, statement_list, statements)
from sourcegrad.annotations import copyanno, getanno, setanno

_AST = gast.AST

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow}


_COMPARE = {gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Lt: operator.lt,
            gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge}


def _num(node):
    return node.__class__ is _CONSTANT and node.value.__class__ in (int, float)


def _num_or_bool(node):
    return node.__class__ is _CONSTANT and node.value.__class__ in (int, float, bool)


def _negate_factor(node):
    """``-(c * a / b)`` as ``(-c) * a / b`` when ``c`` is a float literal: one
    operation fewer, and the same number (IEEE rounding is symmetric in sign);
    ``-(-(a * b))`` as ``a * b`` (arithmetic, so still a new array, never an
    alias).  None when neither applies."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
            and isinstance(node.operand, gast.BinOp):
        return node.operand
    if isinstance(node, gast.Constant) and type(node.value) is float:
        return gast.Constant(value=-node.value, kind=None)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        left = _negate_factor(node.left)
        if left is not None:
            return gast.BinOp(left=left, op=node.op, right=node.right)
    return None


class _Fold(NodeTransformer):
    """Fold constants; drop ``* 1``-style identities, but only in generated code:
    in the user's own statements ``y = x * 1.0`` makes a copy that a later
    ``y[0] = ...`` must not write through to ``x``."""

    identities = True
    changed = False  # set when a constant was folded

    def __init__(self, owned=None, elementwise=None):
        # names whose values the backward sweep made (adjoints): ``1.0 * d`` may
        # become ``d``; ``1.0 * x`` for an input x stays a product, or the
        # gradient returned would be the caller's own array
        self.owned = owned
        self.elementwise = elementwise  # calls that make a new array (ufuncs)

    def visit_Call(self, node):
        if self.elementwise is not None and self.elementwise(node):
            for a in node.args:
                setanno(a, "operand", True)
        return self.generic_visit(node)

    def keepable(self, e):
        if isinstance(e, gast.Name):
            return self.owned is None or e.id in self.owned
        return isinstance(e, (gast.BinOp, gast.UnaryOp)) or _num(e)

    def child(self, x):
        """``self.visit(x)``, names and constants (nothing to fold) answered at once."""
        cls = x.__class__
        if cls is _CONSTANT or cls is _NAME and x.annotation is None:
            return x
        return self.visit(x)

    def visit_Assign(self, node):
        if node.targets[0].__class__ is _NAME and len(node.targets) == 1:
            if _plain(node.value):
                return node  # (nothing to fold: no number, no negation)
            primal = getanno(node, "primal", False)
            if primal:
                self.identities = False
            value = self.child(node.value)
            if value is not node.value:
                node.value = value
            target = node.targets[0]
            if target.annotation is not None:
                self.visit(target)
            if primal:
                self.identities = True
            return node
        if getanno(node, "primal", False):
            self.identities = False
            self.generic_visit(node)
            self.identities = True
            return node
        return self.generic_visit(node)

    def visit_UnaryOp(self, node):
        setanno(node.operand, "operand", True)
        operand = self.child(node.operand)
        if operand is not node.operand:
            node.operand = operand
        if isinstance(node.op, gast.USub) and _num(node.operand):
            self.changed = True
            return gast.Constant(value=-node.operand.value, kind=None)
        if isinstance(node.op, gast.USub) and self.identities:
            signed = _negate_factor(node.operand)
            if signed is not None:
                self.changed = True
                return signed
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in _COMPARE and _num(node.left) \
                and _num(node.comparators[0]):
            self.changed = True
            return gast.Constant(value=_COMPARE[type(node.ops[0])](
                node.left.value, node.comparators[0].value), kind=None)
        return node

    def visit_BinOp(self, node):
        left, right = node.left, node.right
        setanno(left, "operand")
        setanno(right, "operand")
        new = self.child(left)
        if new is not left:
            node.left = new
        new = self.child(right)
        if new is not right:
            node.right = new
        left, right, op = node.left, node.right, type(node.op)
        lconst, rconst = left.__class__ is _CONSTANT, right.__class__ is _CONSTANT
        if lconst and rconst and _num_or_bool(left) and _num_or_bool(right) and op in _FOLD:
            try:
                folded = gast.Constant(value=_FOLD[op](left.value, right.value), kind=None)
                self.changed = True
                return folded
            except Exception:
                return node
        if not self.identities:
            return node
        if op is gast.Add and isinstance(right, gast.UnaryOp) and isinstance(right.op, gast.USub):
            # d + -e -> d - e (the same number: one operation fewer)
            node.op, node.right = gast.Sub(), right.operand
            self.changed = True
            return node
        if op is gast.Mult and (_reciprocal(left) or _reciprocal(right)):
            # (1.0 / b) * e -> e / b: one division instead of a division and a product
            # (the same number but for rounding)
            recip, other = (left, right) if _reciprocal(left) else (right, left)
            node.left, node.op, node.right = other, gast.Div(), recip.right
            self.changed = True
            return node
        if not (lconst or rconst):  # (no identity without a number)
            return node
        # an operand of arithmetic may be anything: the result is a new value
        inner = getanno(node, "operand", False)
        if _num(right) and (op in (gast.Add, gast.Sub) and right.value == 0
                            or op in (gast.Pow, gast.Mult, gast.Div) and right.value == 1):
            return left if inner or self.keepable(left) else node
        if _num(left) and (op is gast.Add and left.value == 0
                           or op is gast.Mult and left.value == 1):
            return right if inner or self.keepable(right) else node
        return node


def _reciprocal(node):
    """Whether ``node`` is ``1.0 / b`` (or ``1 / b``)."""
    return node.__class__ is _BINOP and node.op.__class__ is gast.Div \
        and _num(node.left) and node.left.value == 1


def _plain(node):
    """Whether expression ``node`` is made only of names, arithmetic, attributes,
    indexing, tuples and calls: no number and no unary operation, so nothing
    ``_Fold`` could fold or drop."""
    cls = node.__class__
    if cls is _NAME:
        return True
    if cls is _BINOP:
        return _plain(node.left) and _plain(node.right)
    if cls is _CALL:
        if not _plain(node.func):
            return False
        for a in node.args:
            if not _plain(a):
                return False
        for k in node.keywords:
            if not _plain(k.value):
                return False
        return True
    if cls is _ATTRIBUTE:
        return _plain(node.value)
    if cls is _SUBSCRIPT:
        return _plain(node.value) and _plain(node.slice)
    if cls is _TUPLE:
        for e in node.elts:
            if not _plain(e):
                return False
        return True
    return False


def _scan(node):
    """``(loads, stores)``: the names ``node`` (an expression or a simple statement)
    reads and binds, in one walk.

    An augmented assignment reads its target too (last in ``loads``).  (The order
    of the names is otherwise unspecified: the passes count and look up.)
    """
    loads, stores = [], []
    if node.__class__ is _ASSIGN and len(node.targets) == 1:
        # the common statement, one operation over names and numbers: by recursion
        # over the few classes it is made of (several times cheaper than the walk)
        if _simple(node.targets[0], loads, stores) and _simple(node.value, loads, stores):
            return loads, stores
        loads, stores = [], []
    elif node.__class__ in _EXPRESSIONS:  # (likewise)
        if _simple(node, loads, stores):
            return loads, stores
        loads, stores = [], []
    if node.__class__ is _NAME and node.annotation is None:  # (a target, mostly)
        ctx = node.ctx.__class__
        if ctx is _LOAD:
            loads.append(node.id)
        elif ctx is _STORE:
            stores.append(node.id)
        return loads, stores
    load, store = loads.append, stores.append
    for n in name_list(node):
        ctx = n.ctx.__class__
        if ctx is _LOAD:
            load(n.id)
        elif ctx is _STORE:
            store(n.id)
    if node.__class__ is gast.AugAssign and node.target.__class__ is gast.Name:
        loads.append(node.target.id)
    return loads, stores


def _simple(node, loads, stores):
    """Add the names expression ``node`` reads to ``loads`` and those it binds to
    ``stores``, if it is made only of names, numbers, arithmetic, attributes,
    indexing, tuples and calls without keywords; else False (``loads`` and
    ``stores`` then hold a part)."""
    cls = node.__class__
    if cls is _NAME:
        if node.annotation is not None:
            return False
        ctx = node.ctx.__class__
        if ctx is _LOAD:
            loads.append(node.id)
        elif ctx is _STORE:
            stores.append(node.id)
        return True
    if cls is _CONSTANT:
        return True
    if cls is _BINOP:
        return _simple(node.left, loads, stores) and _simple(node.right, loads, stores)
    if cls is _CALL:
        return not node.keywords and _simple(node.func, loads, stores) \
            and _all_simple(node.args, loads, stores)
    if cls is _ATTRIBUTE:
        return _simple(node.value, loads, stores)
    if cls is _UNARYOP:
        return _simple(node.operand, loads, stores)
    if cls is _SUBSCRIPT:
        return _simple(node.value, loads, stores) and _simple(node.slice, loads, stores)
    return cls is _TUPLE and _all_simple(node.elts, loads, stores)


def _all_simple(items, loads, stores):
    """``_simple`` of each of ``items``, until one is not."""
    for e in items:
        if not _simple(e, loads, stores):
            return False
    return True


def _loads(node):
    """Names read by ``node`` (an augmented assignment reads its target too)."""
    return _scan(node)[0]


def _stores(node):
    return _scan(node)[1]


_COMPOUND = (gast.If, gast.For, gast.While)
_BLOCKED = frozenset(_COMPOUND)  # statements holding blocks (a body and an orelse)
_LOAD, _STORE = gast.Load, gast.Store
_NAME, _ASSIGN, _AUGASSIGN, _FOR = gast.Name, gast.Assign, gast.AugAssign, gast.For
_CONSTANT = gast.Constant
_BINOP, _CALL, _ATTRIBUTE, _UNARYOP = gast.BinOp, gast.Call, gast.Attribute, gast.UnaryOp
_SUBSCRIPT, _TUPLE = gast.Subscript, gast.Tuple
_STOPS = frozenset({gast.If, gast.For, gast.While, _AUGASSIGN})  # (see _merge_copies)
_EXPRESSIONS = frozenset({_BINOP, _CALL, _ATTRIBUTE, _UNARYOP, _SUBSCRIPT, _TUPLE})
_SIMPLE_STATEMENTS = frozenset({_ASSIGN, _AUGASSIGN, gast.Expr, gast.Return, gast.Pass})


class _Names:
    """The names each statement reads and binds, worked out once per statement.

    Every pass asks for them many times (is ``a`` read between here and there?),
    and most statements never change.  A branch's or a loop's names are put
    together from its header and its statements', so only simple statements are
    remembered; a pass that changes a simple statement's names calls ``forget``.
    """

    def __init__(self):
        # statement -> (loads, stores); keyed by the statement itself (nodes hash by
        # identity), so an entry cannot outlive its statement and be found by another
        self._memo = {}

    def of(self, st):
        if st.__class__ in _BLOCKED:
            return self.scan(st)  # (put together each time)
        try:
            return self._memo[st]
        except KeyError:  # (not scanned yet, or forgotten)
            return self.scan(st)

    def scan(self, st):
        """``of(st)``, worked out afresh (the first look at a statement)."""
        if st.__class__ in _BLOCKED:
            if st.__class__ is _FOR:
                loads, stores = _scan(st.iter)
                stores = stores + _scan(st.target)[1]
            else:
                loads, stores = _scan(st.test)
            for inner in (st.body, st.orelse):
                for s in inner:
                    more_loads, more_stores = self.of(s)
                    loads = loads + more_loads
                    stores = stores + more_stores
            return loads, stores
        got = self._memo[st] = _scan(st)
        return got

    def loads(self, st):
        return self.of(st)[0]

    def known(self, st):
        """Whether ``st``'s names are remembered (``of`` answers without a walk)."""
        return st in self._memo

    def stores(self, st):
        return self.of(st)[1]

    def forget(self, st):
        """``st`` (and every statement nested in it) may read other names now."""
        for s in statement_list([st]):
            self._memo.pop(s, None)

    def counts(self, fdef):
        """How often each name is read in ``fdef`` (its signature included)."""
        scan = self.scan  # (the first look at the statements)
        return Counter(chain(_loads(fdef.args), *[scan(st)[0] for st in fdef.body]))


def _bindings(fdef):
    """How often each name is bound: once per ``=``, twice per ``+=`` or loop."""
    out = {}
    get = out.get
    for st in statement_list(fdef.body):
        cls = st.__class__
        if cls is _ASSIGN:
            tgt, k = st.targets[0], 1
        elif cls is _AUGASSIGN or cls is _FOR:
            tgt, k = st.target, 2
        else:
            continue
        if tgt.__class__ is _NAME:
            n = tgt.id
            out[n] = get(n, 0) + k
        else:
            for n in _stores(tgt):
                out[n] = get(n, 0) + k
    return out


def _unbind(assigned, st, names):
    """Take the bindings ``_bindings`` counts for ``st`` (and the statements nested in
    it) out of ``assigned``: ``st`` is being dropped."""
    for s in statements([st]):
        cls = s.__class__
        if cls is _ASSIGN:
            tgt, k = s.targets[0], 1
        elif cls is _AUGASSIGN or cls is _FOR:
            tgt, k = s.target, 2
        else:
            continue
        for n in ([tgt.id] if tgt.__class__ is _NAME else _stores(tgt)):
            assigned[n] = assigned.get(n, 0) - k


def _pure(stmt) -> bool:
    if not isinstance(stmt, gast.Assign) or getanno(stmt, "pop", None):
        return False
    target = stmt.targets[0]
    if target.__class__ is not gast.Name and not all(
            isinstance(t, gast.Name) for t in nodes(target)
            if not isinstance(t, (gast.Tuple, gast.Store, gast.Load))):
        return False
    v = stmt.value
    if isinstance(v, gast.Call):
        return getanno(stmt, "pure", False)
    return True


def _dce(fdef, keep_names, names, counts=None, assigned=None):
    """Drop pure statements whose results nobody reads, until none is left.

    A statement that can be dropped stays droppable when others are dropped
    (reads only go away), so the result does not depend on the order: read
    counts are kept up to date as statements go, and blocks are swept last
    statement first, so a chain of dead temporaries goes in one sweep rather
    than one sweep per link.  ``counts`` (``names.counts(fdef)``) and ``assigned``
    (``_bindings(fdef)``), when given, are kept up to date for the passes after.
    """
    if counts is None:
        counts = names.counts(fdef)

    # the targets of the assignments a sweep has kept: a sweep goes on to the
    # statements before them, so another is needed only when a drop reads one of
    # these (a loop's next iteration, a name bound twice); otherwise the first is final
    kept = set()
    again = False

    def drop(s):
        nonlocal again
        for n in names.loads(s):
            counts[n] -= 1
            if n in kept:
                again = True
        if assigned is not None:
            _unbind(assigned, s, names)

    changed = True
    while changed:
        kept.clear()
        again = False

        def sweep(body):
            out = []
            for s in reversed(body):
                if s.__class__ in _BLOCKED:
                    s.body = sweep(s.body) or [gast.Pass()]
                    s.orelse = sweep(s.orelse)
                    if isinstance(s, gast.If) and _only_pass(s.body) and _only_pass(s.orelse):
                        drop(s)
                        continue
                    if isinstance(s, gast.For) and _only_pass(s.body) and \
                            getanno(s, "backward", False):
                        drop(s)
                        continue
                elif s.__class__ is _ASSIGN:
                    # a pure statement binds only names (its targets read nothing)
                    own, targets = names.of(s)
                    if _unread(targets, own, counts, keep_names) and _pure(s):
                        drop(s)  # (the targets are stores: only the value reads)
                        continue
                    kept.update(targets)
                out.append(s)
            out.reverse()
            return out

        fdef.body = sweep(fdef.body)
        changed = again
    sweep = None  # (it refers to itself: the cycle would keep the tree from being freed)
    return fdef


def _unread(targets, own, counts, keep):
    """Whether no name of ``targets`` is read but by the statement binding them (``own``:
    its reads; ``counts``: every statement's), none of them in ``keep``."""
    for t in targets:
        if counts.get(t, 0) - own.count(t) > 0 or t in keep:
            return False
    return True


def _merge_copies(body, names, counts=None, assigned=None):
    """``a = b`` then ``a = a + e`` (``a`` not read between) -> ``a = b + e``.

    ``counts`` and ``assigned`` (see ``_dce``), when given, are kept up to date."""
    for s in body:
        if s.__class__ in _BLOCKED:
            for inner in (s.body, s.orelse):
                _merge_copies(inner, names, counts, assigned)
    kept = []  # (the statements merged are left out: no deletion from the middle)
    for i, s in enumerate(body):
        if s.__class__ is _ASSIGN and s.targets[0].__class__ is _NAME \
                and s.value.__class__ is _NAME and not getanno(s, "pop", None) \
                and not getanno(s, "primal", False):
            a, b = s.targets[0].id, s.value.id
            j, end = i + 1, len(body)
            while j < end and body[j].__class__ not in _STOPS:
                loads, stores = names.of(body[j])
                if a in loads or a in stores or b in stores:
                    break
                j += 1
            nxt = body[j] if j < len(body) else None
            if isinstance(nxt, gast.Assign) and isinstance(nxt.targets[0], gast.Name) \
                    and nxt.targets[0].id == a and isinstance(nxt.value, gast.BinOp) \
                    and isinstance(nxt.value.left, gast.Name) and nxt.value.left.id == a \
                    and a not in _loads(nxt.value.right) and a != b \
                    and not getanno(nxt, "primal", False):
                nxt.value.left = gast.Name(id=b, ctx=gast.Load(), annotation=None,
                                           type_comment=None)
                names.forget(nxt)
                if counts is not None:  # b: read as often; a: once fewer, bound once fewer
                    counts[a] -= 1
                    assigned[a] = assigned.get(a, 0) - 1
                continue
        kept.append(s)
    body[:] = kept
    return body


def _returned(fdef, names):
    """Names the final return reads: kept as names (``return dw, db`` reads well)."""
    last = fdef.body[-1] if fdef.body else None
    return set(names.loads(last)) if isinstance(last, gast.Return) else set()


def _only_pass(body):
    return all(isinstance(s, gast.Pass) or getanno(s, "note", False) for s in body)


def _copy_propagate(fdef, protected, names, touched=None, loads_total=None, assigned=None):
    """Replace ``a`` by ``b`` after ``a = b`` where nothing can tell them apart.

    ``a`` must be bound only there, read only later in the same block, and ``b``
    not rebound between the copy and the last read of ``a``.  ``loads_total``
    (``names.counts(fdef)``) and ``assigned`` (``_bindings(fdef)``), when given,
    are kept up to date for the passes after.
    """
    if assigned is None:
        assigned = _bindings(fdef)
    params = {a.id for a in fdef.args.args + fdef.args.kwonlyargs + fdef.args.posonlyargs}
    if fdef.body and isinstance(fdef.body[-1], gast.Return):
        # `db = dz; return dw, db` reads better than `return dw, dz`
        protected = set(protected) | set(names.loads(fdef.body[-1]))
    if loads_total is None:
        loads_total = names.counts(fdef)
    copied = []  # the names read by the copies dropped (each read once fewer, after)

    def block(body):
        changed = False
        kept = []  # (the copies propagated are left out: no deletion from the middle)
        for i, s in enumerate(body):
            if s.__class__ in _BLOCKED:
                for inner in (s.body, s.orelse):
                    changed |= block(inner)
            if s.__class__ is _ASSIGN and s.targets[0].__class__ is _NAME \
                    and (s.value.__class__ is _NAME or _num(s.value)) \
                    and not getanno(s, "pop", None) and not getanno(s, "primal", False):
                a = s.targets[0].id
                b = s.value.id if s.value.__class__ is _NAME else s.value
                if a not in protected and a not in params and assigned.get(a) == 1 \
                        and a != b and _propagate(body, i, a, b, loads_total, names, touched):
                    assigned[a] = 0
                    if isinstance(b, str):
                        copied.append(b)
                    changed = True
                    continue
            kept.append(s)
        body[:] = kept
        return changed

    # One pass is enough: a copy's reads all come after it in its block, so
    # propagating it changes only statements the pass has yet to reach.
    changed = block(fdef.body)
    block = None  # (it refers to itself: the cycle would keep the tree from being freed)
    for b in copied:  # (counted as read by its copy during the pass: a copy's own
        loads_total[b] -= 1  # name is never propagated into the reads before it)
    return changed


def _is_copy(st):
    """Whether ``st`` is ``a = b`` or ``a = <number>`` (what copy propagation looks for)."""
    return st.__class__ is _ASSIGN and st.targets[0].__class__ is _NAME \
        and (st.value.__class__ is _NAME or _num(st.value))


def _propagate(body, i, a, b, loads_total, names, touched=None):
    want = loads_total.get(a, 0)  # every read of a must come after the copy, here
    uses, seen, b_stored = [], 0, False
    for k in range(i + 1, len(body)):
        if seen == want:
            break
        s = body[k]
        reads = names.loads(s)
        n = reads.count(a) if a in reads else 0
        if isinstance(b, str) and b in names.stores(s):
            if n:  # (an augmented assignment's target is among the stores)
                return False
            b_stored = True
        if n:
            if b_stored:
                return False  # b is another value by then
            uses.append(s)
            seen += n
    if seen != want:
        return False  # read elsewhere (another block, or before the copy in a loop)
    for s in uses:
        names.forget(s)
        _substitute(s, a, b)
        if touched is not None and not isinstance(b, str):
            touched.append(s)
    if isinstance(b, str):
        loads_total[b] = loads_total.get(b, 0) + loads_total.pop(a, 0)
    else:
        loads_total.pop(a, None)
    return True


def _substitute(node, a, b):
    """Replace the names ``a`` that ``node`` reads by ``b``, in place.

    ``b``: a name, a Constant (copied at each use) or an expression (moved: ``a``
    must be read once).

    What a ``gast.NodeTransformer`` whose ``visit_Name`` makes the replacement
    does (it does not look inside names), without its per-node overhead: only
    the fields that may hold a name are looked at (``astutil.name_nodes``).
    """
    cls = node.__class__
    fields = _NAME_FIELDS.get(cls)
    if fields is None:
        fields = _name_fields(cls)
    state = node.__dict__
    for field_ in fields:
        old = state.get(field_)
        c = old.__class__
        if c is list:
            for k, v in enumerate(old):
                c = v.__class__
                if c is _NAME:
                    if v.id == a and v.ctx.__class__ is _LOAD:
                        old[k] = _replacement(v, b)
                elif c is not _CONSTANT and isinstance(v, _AST):
                    _substitute(v, a, b)
        elif c is _NAME:
            if old.id == a and old.ctx.__class__ is _LOAD:
                state[field_] = _replacement(old, b)
        elif c is not _CONSTANT and old is not None and isinstance(old, _AST):
            _substitute(old, a, b)
    return node


def _replacement(node, b):
    if b.__class__ is str:
        return make(_NAME, id=b, ctx=node.ctx, annotation=None, type_comment=None)
    if b.__class__ is _CONSTANT:
        return make(_CONSTANT, value=b.value, kind=None)
    return b  # an expression read once: moved, not copied


def _merge_ifs(body, names):
    """``if t: A`` followed by ``if t: B`` (same test, A binds none of its names) -> one if."""
    out = []
    for s in body:
        if s.__class__ in _BLOCKED:
            for inner in (s.body, s.orelse):
                inner[:] = _merge_ifs(inner, names)
        prev = out[-1] if out else None
        if isinstance(s, gast.If) and isinstance(prev, gast.If) and not s.orelse \
                and not prev.orelse and gast.dump(s.test) == gast.dump(prev.test) \
                and not set(_loads(s.test)) & {n for st in prev.body for n in names.stores(st)}:
            prev.body = prev.body + s.body
            continue
        out.append(s)
    return out


def _inline(fdef, pure_call, protected, names, touched=None, loads_total=None, assigned=None):
    """Put a value used once back into the expression that uses it.

    ``a = X @ W; h = np.tanh(a + b)`` becomes ``h = np.tanh(X @ W + b)``: the
    temporary is freed as soon as it is consumed (peak memory), and the code
    reads like the user's.  Only pure expressions move, only forward within one
    block (never into a loop), past statements that neither rebind what they
    read nor call anything that could change it, and never across a comment
    naming a user line.
    """
    assigned = _bindings(fdef) if assigned is None else assigned
    loads_total = names.counts(fdef) if loads_total is None else loads_total
    params = {a.id for a in fdef.args.args + fdef.args.kwonlyargs + fdef.args.posonlyargs}
    # a call, and an expression, is asked about more than once (inlining a pure value
    # into an expression leaves its answer as it was)
    pure = _Remembered(pure_call)
    pure_expr = _Remembered(lambda e: _pure_expr(e, pure))

    def quiet(st, reads):
        """``st`` can run before an expression reading ``reads`` without changing it."""
        if st.__class__ is not _ASSIGN or st.targets[0].__class__ is not _NAME \
                or getanno(st, "pop", None):
            return False
        return st.targets[0].id not in reads and pure_expr(st.value)

    def block(body):
        for s in body:
            if s.__class__ in _BLOCKED:
                for inner in (s.body, s.orelse):
                    block(inner)
        kept = []  # (the values inlined are left out: no deletion from the middle)
        for i, s in enumerate(body):
            t = s.targets[0].id if s.__class__ is _ASSIGN \
                and s.targets[0].__class__ is _NAME else None
            if t is None or t in params or t in protected or getanno(s, "pop", None) \
                    or assigned.get(t) != 1 or loads_total.get(t) != 1 \
                    or not pure_expr(s.value):
                kept.append(s)
                continue
            reads = set(names.loads(s))
            j = i + 1
            while j < len(body) and t not in names.loads(body[j]) and quiet(body[j], reads):
                j += 1
            use = body[j] if j < len(body) else None
            if not isinstance(use, gast.Assign) or t not in (
                    names.loads(use) if len(use.targets) == 1
                    and use.targets[0].__class__ is _NAME  # (then = its value's)
                    else _loads(use.value)) \
                    or not _calls_pure(use.value, pure, but=use.value):
                kept.append(s)
                continue
            names.forget(use)
            if isinstance(use.value, gast.Name):
                use.value = s.value
            else:
                _substitute(use.value, t, s.value)
            if touched is not None:
                touched.append(use)
        body[:] = kept

    block(fdef.body)
    block = None  # (it refers to itself: the cycle would keep the tree from being freed)
    return fdef


class _Remembered:
    """``fn(node)``, worked out once per node."""

    _MISSING = object()

    def __init__(self, fn):
        self.fn, self.memo = fn, {}  # node (hashed by identity) -> fn(node)

    def __call__(self, node):
        got = self.memo.get(node, self._MISSING)
        if got is self._MISSING:
            got = self.memo[node] = self.fn(node)
        return got


def _pure_expr(e, pure_call):
    """Whether evaluating ``e`` only computes a value (it can move)."""
    for n in node_list(e):
        cls = n.__class__
        if cls in _IMPURE or cls is _CALL and not pure_call(n):
            return False
    return True


_IMPURE = frozenset({gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp,
                     gast.GeneratorExp, gast.NamedExpr, gast.Await, gast.Yield,
                     gast.YieldFrom, gast.Starred})


def _calls_pure(e, pure_call, but=None):
    """Whether every call in ``e`` (but ``but``) only computes a value."""
    for n in node_list(e):
        if n.__class__ is _CALL and n is not but and not pure_call(n):
            return False
    return True


_FRESH_CALLS = {"zeros_like", "zeros", "full", "ones_like", "ones", "empty_like"}


def _fresh(value):
    """Whether ``value`` is certainly a new array (or an immutable scalar)."""
    if isinstance(value, gast.BinOp):
        return True
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        return True
    if isinstance(value, gast.Constant):
        return type(value.value) in (int, float)
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and isinstance(value.func.value, gast.Name) and value.func.value.id == "np" \
            and value.func.attr in _FRESH_CALLS:
        return True
    return False


def _in_place(fdef, arrays, scatter=None, names=None):
    """``d = d + e`` becomes ``d += e`` (``d = d - e``: ``d -= e``) where ``d`` owns its array.

    ``arrays``: {adjoint: primal} for adjoints known to hold a float array of
    their primal's full shape; ``scatter(e, primal)``: whether ``e`` is
    ``index_adjoint(primal, index, g)`` (the update becomes ``np.add.at``).
    (so ``e`` can only broadcast into ``d``, never widen it).  ``d`` owns its
    array when every binding of it outside the accumulations makes a new array,
    and nothing can hold a reference to it while it is updated: the only other
    reads are operands of arithmetic (which make new arrays) or come after the
    last update, in straight-line code.  Adding into the buffer saves one array
    per update (time and peak memory), as a person writes ``dW += ...``.
    """
    # only a name with an accumulation can have one made in place: the others'
    # bindings and reads need not be gathered
    arrays = {v: arrays[v] for v in _accumulated(fdef.body, arrays)}
    if not arrays:
        return fdef
    binders, top, reads = _binders_and_reads(fdef, arrays, names)
    swap = {}  # id(accumulation) -> its in-place form, for every name: one sweep at the end
    for v in sorted(arrays):
        accs = _owned_accumulations(v, binders.get(v, ()), top, reads.get(v, ()),
                                    names or _Names())
        for a in accs:
            swap[id(a)] = _in_place_form(a, v, arrays[v], scatter)
    if swap:
        _replace(fdef.body, swap)
    return fdef


def _accumulated(body, arrays):
    """The names of ``arrays`` that a statement of ``body`` (or of a block in it)
    binds to themselves plus or minus something: ``d = d + e`` (every statement
    ``_accumulation`` accepts, and perhaps a few more)."""
    out = set()
    for st in statement_list(body):
        if st.__class__ is _ASSIGN:
            t, v = st.targets[0], st.value
            if t.__class__ is _NAME and v.__class__ is _BINOP \
                    and v.left.__class__ is _NAME and v.left.id == t.id and t.id in arrays \
                    and isinstance(v.op, (gast.Add, gast.Sub)):
                out.add(t.id)
    return out


def _binders_and_reads(fdef, arrays, names=None):
    """One walk gathers what the checks of ``_in_place`` look at: every statement that
    binds a name in ``arrays``, and every read of one with its parent, grandparent
    and top-level statement.  The swaps made for one name neither bind nor read
    another (the moved right-hand sides keep their nodes), so this stays true while
    names are processed."""
    binders, top = {}, {}  # name -> [statements binding it]; id(statement) -> index
    reads = {}  # name -> [(parent, grandparent, index of the top-level statement)]
    table = _NAME_FIELDS

    def visit(n, parent, grand, i):
        cls = n.__class__
        if cls is _ASSIGN or cls is _AUGASSIGN or cls is _FOR:
            top[id(n)] = i
            target = n.targets[0] if cls is _ASSIGN else n.target
            for b in ((target.id,) if target.__class__ is _NAME and target.annotation is None
                      else _stores(target)):
                if b in arrays:
                    got = binders.setdefault(b, [])
                    if not got or got[-1] is not n:
                        got.append(n)
        names = table.get(cls)
        if names is None:
            names = _name_fields(cls)
        state = n.__dict__
        for f in names:
            v = state.get(f)
            if v is None:
                continue
            for x in (v if v.__class__ is list else (v,)):
                c = x.__class__
                if c is _NAME:
                    if x.id in arrays and x.ctx.__class__ is _LOAD:
                        reads.setdefault(x.id, []).append((x, n, parent, i))
                elif c is not _CONSTANT and isinstance(x, _AST):
                    _expr_reads(x, n, parent, i, arrays, reads, visit)

    keys = arrays.keys()
    for i, st in enumerate(fdef.body):
        # (the test is only a shortcut: a statement that touches none of ``arrays``
        # adds nothing; one whose names are not known yet is walked at once)
        if names is None or not names.known(st) or _touches(names, keys, st):
            visit(st, None, None, i)
    visit = None  # (it refers to itself: the cycle would keep the tree from being freed)
    return binders, top, reads


def _expr_reads(x, n, parent, i, arrays, reads, visit):
    """``visit(x, n, parent, i)`` of ``_binders_and_reads``, the common expressions
    taken apart directly (the reads of ``arrays`` in ``x``, a child of ``n``)."""
    c = x.__class__
    if c is _NAME:
        if x.id in arrays and x.ctx.__class__ is _LOAD:
            reads.setdefault(x.id, []).append((x, n, parent, i))
    elif c is _BINOP:
        _expr_reads(x.left, x, n, i, arrays, reads, visit)
        _expr_reads(x.right, x, n, i, arrays, reads, visit)
    elif c is _CALL and not x.keywords:
        _expr_reads(x.func, x, n, i, arrays, reads, visit)
        for a in x.args:
            _expr_reads(a, x, n, i, arrays, reads, visit)
    elif c is _ATTRIBUTE:
        _expr_reads(x.value, x, n, i, arrays, reads, visit)
    elif c is _UNARYOP:
        _expr_reads(x.operand, x, n, i, arrays, reads, visit)
    elif c is not _CONSTANT:
        visit(x, n, parent, i)


def _touches(names, keys, st):
    """Whether ``st`` reads or binds one of the names ``keys``."""
    loads, stores = names.of(st)
    return not (keys.isdisjoint(loads) and keys.isdisjoint(stores))


def _accumulation(st, v, names):
    """Whether ``st`` is ``v = v + e`` (or ``v - e``) of the backward sweep."""
    if st.__class__ is not _ASSIGN or len(st.targets) != 1:
        return False
    t, value = st.targets[0], st.value
    return t.__class__ is _NAME and t.id == v and value.__class__ is _BINOP \
        and value.op.__class__ in _ADD_OR_SUB \
        and value.left.__class__ is _NAME and value.left.id == v \
        and names.loads(st).count(v) == 1 and not getanno(st, "primal", False)


_ADD_OR_SUB = frozenset({gast.Add, gast.Sub})


def _harmless(parent, grand):
    """A read whose value cannot outlive the expression (a new array is made)."""
    if isinstance(parent, (gast.BinOp, gast.UnaryOp)):
        return True
    return isinstance(parent, gast.Attribute) and parent.attr == "sum" and isinstance(
        grand, gast.Call) and grand.func is parent


def _owned_accumulations(v, binders, top, reads, names):
    """The accumulations into ``v`` that may be made in place: none unless ``v`` owns
    its array (see ``_in_place``)."""
    accs = []
    for st in binders:
        if st.__class__ is _AUGASSIGN or st.__class__ is _FOR:
            return []
        if _accumulation(st, v, names):
            accs.append(st)
        elif st.targets[0].__class__ is not _NAME or not _fresh(st.value) \
                or getanno(st, "pop", None):
            return []
    if not accs:
        return []
    last = top[id(accs[-1])]  # (binders come in program order)
    acc_lefts = {id(a.value.left) for a in accs}
    for n, parent, grand, i in reads:
        if i <= last and id(n) not in acc_lefts and not _harmless(parent, grand):
            return []
    return accs


def _in_place_form(a, v, primal, scatter):
    """``v += e`` (``-=``, ``v[i] += g``, ``np.add.at(v, i, g)``) for the accumulation
    ``a``."""
    e = a.value.right
    subtract = isinstance(a.value.op, gast.Sub)  # d = d - e (folded from d + -e)
    how = scatter(e, primal) if scatter is not None and not subtract else False
    if isinstance(how, gast.AST):  # a basic index: d[i] += g
        new = gast.AugAssign(target=gast.Subscript(
            value=gast.Name(id=v, ctx=gast.Load(), annotation=None, type_comment=None),
            slice=how, ctx=gast.Store()), op=gast.Add(), value=e.args[2])
    elif how:
        # d += index_adjoint(x, i, g): add g at i, no zero array per update
        np_add = gast.Attribute(value=gast.Name(id="np", ctx=gast.Load(),
                                                annotation=None, type_comment=None),
                                attr="add", ctx=gast.Load())
        new = gast.Expr(value=gast.Call(
            func=gast.Attribute(value=np_add, attr="at", ctx=gast.Load()),
            args=[gast.Name(id=v, ctx=gast.Load(), annotation=None, type_comment=None),
                  e.args[1], e.args[2]], keywords=[]))
    else:
        new = make(_AUGASSIGN, target=a.targets[0],
                   op=make(gast.Sub if subtract else gast.Add), value=e)
    copyanno(a, new, "origin")
    return new


def _replace(body, swap):
    """Replace statements (by id) wherever they sit in ``body`` and its blocks."""
    body[:] = [swap.get(id(st), st) for st in body]
    for st in body:
        if st.__class__ in _SIMPLE_STATEMENTS:
            continue  # (no block inside)
        for field_ in ("body", "orelse", "finalbody"):
            inner = getattr(st, field_, None)
            if isinstance(inner, list):
                _replace(inner, swap)
        for handler in getattr(st, "handlers", ()):
            _replace(handler.body, swap)


def optimize(fdef, spec=None, protected=(), pure_call=None, arrays=None, owned=None,
             elementwise=None, scatter=None):
    """Simplify ``fdef`` in place and return it.

    ``pure_call(call)``: whether a call only computes a value (enables inlining);
    ``arrays``: adjoints known to be float arrays of full shape (enables ``+=``);
    ``owned``: names of values the backward sweep made (enables ``1.0 * d -> d``);
    ``elementwise(call)``: whether a call makes a new array from its arguments."""
    names = _Names()  # folding never changes which names a statement reads
    fold = _Fold(owned, elementwise)
    fold.visit(fdef)
    # how often each name is read and bound: counted once, then kept up to date
    # by the passes as they move and drop statements
    counts, assigned = names.counts(fdef), _bindings(fdef)
    for _ in range(4):  # a folded constant may propagate further: `d = 1.0 / 3; e = -d`
        touched = []  # the statements a constant went into: only they can fold further
        if not _copy_propagate(fdef, set(protected), names, touched, counts, assigned) \
                or not touched:
            break
        # The pass tried every copy it reached, a statement a constant went into
        # included (it comes after the copy); a copy it could not propagate stays so.
        # Only a copy the folding makes (`e = -d` -> `e = -0.333`) is worth another pass.
        tried = {st for st in touched if _is_copy(st)}
        fold.changed = False
        for st in touched:
            fold.visit(st)
        if not fold.changed or not any(_is_copy(st) and st not in tried for st in touched):
            break
    _dce(fdef, set(protected), names, counts, assigned)
    _merge_copies(fdef.body, names, counts, assigned)
    if pure_call is not None:
        touched = []
        _inline(fdef, pure_call, set(protected) | _returned(fdef, names), names, touched,
                counts, assigned)
        for st in touched:  # an operand now: `1.0 * a` inlined into `... * b` folds
            fold.visit(st)
    if arrays:
        _in_place(fdef, dict(arrays), scatter, names)
    fdef.body = _merge_ifs(fdef.body, names)
    return fdef
