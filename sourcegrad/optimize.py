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

import gast

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow}


def _num(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


class _Fold(gast.NodeTransformer):
    """Fold constants; drop ``* 1``-style identities, but only in generated code:
    in the user's own statements ``y = x * 1.0`` makes a copy that a later
    ``y[0] = ...`` must not write through to ``x``."""

    identities = True
    changed = False  # set when a constant was folded

    def visit_Assign(self, node):
        if getattr(node, "sg_primal", False):
            self.identities = False
            self.generic_visit(node)
            self.identities = True
            return node
        return self.generic_visit(node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and _num(node.operand):
            self.changed = True
            return gast.Constant(value=-node.operand.value, kind=None)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        if _num(left) and _num(right) and op in _FOLD:
            try:
                folded = gast.Constant(value=_FOLD[op](left.value, right.value), kind=None)
                self.changed = True
                return folded
            except Exception:
                return node
        if not self.identities:
            return node
        if op in (gast.Add, gast.Sub) and _num(right) and right.value == 0:
            return left
        if op is gast.Add and _num(left) and left.value == 0:
            return right
        if op is gast.Pow and _num(right) and right.value == 1:
            return left
        if op is gast.Mult and _num(right) and right.value == 1:
            return left
        if op is gast.Mult and _num(left) and left.value == 1:
            return right
        if op is gast.Div and _num(right) and right.value == 1:
            return left
        return node


def _loads(node):
    """Names read by ``node`` (an augmented assignment reads its target too)."""
    out = [n.id for n in gast.walk(node) if isinstance(n, gast.Name)
           and isinstance(n.ctx, gast.Load)]
    out += [n.target.id for n in gast.walk(node) if isinstance(n, gast.AugAssign)
            and isinstance(n.target, gast.Name)]
    return out


def _stores(node):
    return [n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Store)]


def _pure(stmt) -> bool:
    if not isinstance(stmt, gast.Assign) or getattr(stmt, "sg_pop", None):
        return False
    if not all(isinstance(t, gast.Name) for t in gast.walk(stmt.targets[0])
               if not isinstance(t, (gast.Tuple, gast.Store, gast.Load))):
        return False
    v = stmt.value
    if isinstance(v, gast.Call):
        return getattr(stmt, "sg_pure", False)
    return True


def _dce(fdef, keep_names):
    changed = True
    while changed:
        changed = False
        counts = {}
        for n in _loads(fdef):
            counts[n] = counts.get(n, 0) + 1

        def sweep(body):
            nonlocal changed
            out = []
            for s in body:
                if isinstance(s, (gast.If, gast.For, gast.While)):
                    s.body = sweep(s.body) or [gast.Pass()]
                    s.orelse = sweep(s.orelse)
                    if isinstance(s, gast.If) and _only_pass(s.body) and _only_pass(s.orelse):
                        changed = True
                        continue
                    if isinstance(s, gast.For) and _only_pass(s.body) and \
                            getattr(s, "sg_backward", False):
                        changed = True
                        continue
                elif _pure(s):
                    targets = _stores(s.targets[0])
                    own = _loads(s.value)
                    if all(counts.get(t, 0) - own.count(t) <= 0 and t not in keep_names
                           for t in targets):
                        changed = True
                        continue
                out.append(s)
            return out

        fdef.body = sweep(fdef.body)
    return fdef


def _only_pass(body):
    return all(isinstance(s, gast.Pass) or getattr(s, "sg_note", False) for s in body)


def _copy_propagate(fdef, protected):
    """Replace ``a`` by ``b`` after ``a = b`` where nothing can tell them apart.

    ``a`` must be bound only there, read only later in the same block, and ``b``
    not rebound between the copy and the last read of ``a``.
    """
    assigned = {}
    for s in gast.walk(fdef):
        if isinstance(s, (gast.Assign, gast.AugAssign, gast.For)):
            tgt = s.targets[0] if isinstance(s, gast.Assign) else s.target
            for n in _stores(tgt):
                assigned[n] = assigned.get(n, 0) + (1 if isinstance(s, gast.Assign) else 2)
    params = {a.id for a in fdef.args.args + fdef.args.kwonlyargs + fdef.args.posonlyargs}
    if fdef.body and isinstance(fdef.body[-1], gast.Return):
        # `db = dz; return dw, db` reads better than `return dw, dz`
        protected = set(protected) | set(_loads(fdef.body[-1]))
    loads_total = {}
    for n in _loads(fdef):
        loads_total[n] = loads_total.get(n, 0) + 1

    cache = {}  # id(statement) -> names it reads (kept up to date by _propagate)

    def block(body):
        changed = False
        i = 0
        while i < len(body):
            s = body[i]
            for field_ in ("body", "orelse"):
                if isinstance(s, (gast.If, gast.For, gast.While)):
                    changed |= block(getattr(s, field_))
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and (isinstance(s.value, gast.Name) or _num(s.value)) \
                    and not getattr(s, "sg_pop", None) and not getattr(s, "sg_primal", False):
                a = s.targets[0].id
                b = s.value.id if isinstance(s.value, gast.Name) else s.value
                if a not in protected and a not in params and assigned.get(a) == 1 \
                        and a != b and _propagate(body, i, a, b, loads_total, cache):
                    del body[i]
                    changed = True
                    continue
            i += 1
        return changed

    changed = False
    while block(fdef.body):
        changed = True
    return changed


def _propagate(body, i, a, b, loads_total, cache):
    rest = body[i + 1:]

    def loads(st):
        got = cache.get(id(st))
        if got is None:
            got = cache[id(st)] = _loads(st)
        return got

    uses = [j for j, s in enumerate(rest) if a in loads(s)]
    if sum(loads(s).count(a) for s in rest) != loads_total.get(a, 0):
        return False  # read elsewhere (another block, or before the copy in a loop)
    last = uses[-1] if uses else -1
    for s in rest[:last + 1] if isinstance(b, str) else ():
        if b in _stores(s) or any(isinstance(n, gast.AugAssign) for n in gast.walk(s)
                                  if b in _stores(getattr(n, "target", gast.Pass()))):
            return False

    class Sub(gast.NodeTransformer):
        def visit_Name(self, node):
            if isinstance(node.ctx, gast.Load) and node.id == a:
                if isinstance(b, gast.Constant):
                    return gast.Constant(value=b.value, kind=None)
                return gast.Name(id=b, ctx=node.ctx, annotation=None, type_comment=None)
            return node

    for j in range(last + 1):
        old = rest[j]
        rest[j] = Sub().visit(old)
        got = cache.pop(id(old), None)
        if got is not None:
            cache[id(rest[j])] = [x for x in got if x != a] + (
                [b] * got.count(a) if isinstance(b, str) else [])
    body[i + 1:] = rest
    if isinstance(b, str):
        loads_total[b] = loads_total.get(b, 0) + loads_total.pop(a, 0)
    return True


def _merge_ifs(body):
    """``if t: A`` followed by ``if t: B`` (same test, A binds none of its names) -> one if."""
    out = []
    for s in body:
        for field_ in ("body", "orelse"):
            if isinstance(s, (gast.If, gast.For, gast.While)):
                setattr(s, field_, _merge_ifs(getattr(s, field_)))
        prev = out[-1] if out else None
        if isinstance(s, gast.If) and isinstance(prev, gast.If) and not s.orelse \
                and not prev.orelse and gast.dump(s.test) == gast.dump(prev.test) \
                and not set(_loads(s.test)) & {n for st in prev.body for n in _stores(st)}:
            prev.body = prev.body + s.body
            continue
        out.append(s)
    return out


def optimize(fdef, spec=None, protected=()):
    """Simplify ``fdef`` in place and return it."""
    fold = _Fold()
    fold.visit(fdef)
    for _ in range(4):  # a folded constant may propagate further: `d = 1.0 / 3; e = -d`
        if not _copy_propagate(fdef, set(protected)):
            break
        fold.changed = False
        fold.visit(fdef)
        if not fold.changed:
            break
    _dce(fdef, set(protected))
    fdef.body = _merge_ifs(fdef.body)
    gast.fix_missing_locations(fdef)
    return fdef
