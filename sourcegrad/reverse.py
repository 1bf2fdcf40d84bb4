"""Stage 5 -- emit the forward sweep and the backward sweep.

``Reverser`` walks the normalized function once.  For every statement it
returns the forward-sweep statements (the primal, plus saving a value that a
later statement overwrites) and the backward-sweep *items* in reverse order:

* ``Acc(name, expr)`` -- add ``expr`` to the adjoint of ``name``;
* ``Kill(name)``      -- the adjoint of ``name`` is zero from here on (it was
  assigned, so earlier code sees a different value);
* ``Group(name, items)`` -- items that read the adjoint of ``name``: dropped
  when that adjoint is statically zero;
* ``BIf``/``BLoop``   -- reversed control flow; plain gast statements pass
  through (restoring saved values, calls into callee derivatives).

``resolve`` then turns items into statements, tracking which adjoints are
initialised so the first contribution is an assignment (``dz = ...``) and
later ones accumulate (``dz = dz + ...``); adjoints that are accumulated
across loop iterations or along only one branch are zero-initialised exactly
where needed.
"""
from __future__ import annotations

import copy
import inspect
import operator

import gast

from sourcegrad import astutil, refusals
from sourcegrad import closures, runtime
from sourcegrad.activity import INACTIVE_ATTRS
from sourcegrad.astutil import BINOPS, copy_tree, make, statement_list
from sourcegrad.normalize import assign, const, name
from sourcegrad.parse import MISSING
from sourcegrad.rules import foreign, registry
from sourcegrad.annotations import getanno, setanno

UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos}


class Acc:
    """``fresh``: ``expr`` is a tree nothing else holds (an inlined rule's), so its
    first resolution may take it as it is instead of a copy."""

    def __init__(self, name, expr, fresh=False):
        self.name, self.expr, self.fresh = name, expr, fresh

    def take(self):
        """``expr`` for one statement of the backward sweep: a loop's items are
        resolved more than once, so every use but a fresh tree's first is a copy."""
        if self.fresh:
            self.fresh = False
            return self.expr
        return copy_tree(self.expr)


class Kill:
    def __init__(self, name):
        self.name = name


class Group:
    def __init__(self, name, items):
        self.name, self.items = name, items


class Note:
    """Which line of the user's code the following backward statements differentiate."""

    def __init__(self, origin, parsed):
        where = parsed.where(origin)
        self.key = (where.get("lineno"), where.get("col"))
        text = (where.get("line") or "").strip()
        self.text = f"{text}   (line {where['lineno']})" if where.get("lineno") else text


class BIf:
    def __init__(self, test, body, orelse):
        self.test, self.body, self.orelse = test, body, orelse


class BLoop:
    def __init__(self, header, body):
        self.header, self.body = header, body  # header: a gast For with empty body


def load(n):
    return name(n) if isinstance(n, str) else n


def call(func, *args, keywords=()):
    return gast.Call(func=load(func), args=[load(a) for a in args], keywords=list(keywords))


def note_stmt(text):
    """A comment in the generated code (a marker codegen turns into ``# text``)."""
    node = make(gast.Expr, value=const(text))
    setanno(node, "note", True)
    return node


def is_note(stmt):
    return getanno(stmt, "note", False)



def pure(stmt):
    """Mark a statement as free of side effects (dead-code elimination may drop it)."""
    setanno(stmt, "pure", True)
    return stmt


def expr_stmt(e):
    return gast.Expr(value=e)


def template_env(stage, s, rule, primal, args, keywords, what):
    """The rule template's parameters bound to a call's argument nodes (a ``*args``
    parameter to a tuple of them, a default to its constant); a call that does not
    fit the template is refused through ``stage.refuse`` (reverse or tangents)."""
    try:
        bound = rule.bind(args, {k.arg: k.value for k in keywords})
    except TypeError as exc:
        stage.refuse(s, f"call to {getattr(primal, '__name__', primal)}",
                     detail=f"arguments do not match its {what} ({exc})")
    env = {}
    for pname, val in bound.items():
        if rule.signature.parameters[pname].kind == inspect.Parameter.VAR_POSITIONAL:
            env[pname] = gast.Tuple(elts=list(val), ctx=gast.Load())
        else:
            env[pname] = val if isinstance(val, gast.AST) else const(val)
    return env


class SequenceOps:
    """``+`` and ``*`` of lists and tuples told from NumPy's, for a stage that knows
    ``self.sequences`` (the names holding sequences), ``self.ctx`` and ``self.active``:
    the reverse and the tangent stage."""

    def sequence_op(self, value):
        """(primal, operands) of a binary operation: ``+`` and ``*`` of a list or tuple
        concatenate and repeat it (``[x] + rest``, ``lst * 2``), with rules of their own."""
        left, right = value.left, value.right
        seq = [isinstance(a, gast.Name) and a.id in self.sequences for a in (left, right)]
        if isinstance(value.op, gast.Add) and any(seq):
            if all(seq):
                return runtime.concat, [left, right]
            if not any(self.numeric(a) for a in (left, right)):
                # the other operand may be a list, or an array NumPy adds to this one
                return runtime.maybe_concat, [left, right]
        if isinstance(value.op, gast.Mult) and any(seq):
            count = right if seq[0] else left
            if not self.numeric(count) and not self.active(count):  # an int, in effect
                return runtime.repeat, [left, right] if seq[0] else [right, left]
        return BINOPS.get(type(value.op)), [left, right]

    def numeric(self, atom):
        """Whether ``atom`` certainly holds an array or a float (shape inference): then
        ``+`` is NumPy's (``[1.0, 2.0] + x`` adds elementwise)."""
        if isinstance(atom, gast.Constant):
            return isinstance(atom.value, (float, complex))
        known = self.ctx.shapes.get(atom.id) if isinstance(atom, gast.Name) else None
        return getattr(known, "kind", None) in ("array", "float")


class Reverser(SequenceOps):
    """Emit forward and backward sweeps for one normalized function."""

    def __init__(self, fn_tree, parsed, namer, activity, ctx):
        self.tree = fn_tree
        self.parsed = parsed
        self.namer = namer
        self.act = activity
        self.ctx = ctx            # the pipeline: env names, callee derivatives, config
        self.adjoints = {}
        self.stack = None
        self.saved = self._saved_names()
        # arrays written by subscript, and names holding views of other arrays
        self.written = set()
        self.views = {}  # name -> whether it may hold a view here (program order)
        self.containers = set()  # names bound to displays and grown lists
        for s in statement_list(fn_tree.body):
            if s.__class__ is not gast.Assign:
                continue
            t, v = s.targets[0], s.value
            if t.__class__ is gast.Subscript and t.value.__class__ is gast.Name:
                self.written.add(t.value.id)
            elif t.__class__ is gast.Name and (
                    v.__class__ is gast.Tuple or v.__class__ is gast.List
                    or v.__class__ is gast.Call and v.func.__class__ is gast.Name
                    and getanno(v.func, "runtime", None) in (runtime.list_append,
                                                             runtime.list_extend)):
                self.containers.add(t.id)
        self.sequences = sequence_names(fn_tree, ctx)
        self.containers |= self.sequences
        self.pushed = set()
        self.pairs = 0  # push/pop pairs made (their "pair" numbers)
        self.copies = None  # name of the set of arrays the backward sweep owns
        self.restores = 0  # items of arrays restored in the backward sweep (their "pair"s)
        self.weight_reads = set()  # attribute reads that may be Parameters (weights)
        self.known_weights = set()  # those that are weights asked for at every call
        self.view_reads = {}  # array -> [(name, statement)] slices read from it
        self.shares = {}  # name -> the names whose memory it may share (program order)
        self.passed = {}      # array -> a split call it was passed to (program order)
        self.items_written = set()  # arrays written by subscript so far
        self.zero_filled = set()  # names whose adjoint is zero-filled by value
        self.loop_depth = 0
        self.notes = {}  # user statement (hashed by identity) -> its Note
        # names that may hold a value already (an earlier assignment in
        # program order): only such values need saving outside loops
        self.defined = {a.id for a in fn_tree.args.args + fn_tree.args.kwonlyargs
                        + fn_tree.args.posonlyargs}
        self.defined_at_entry = set(self.defined) | {
            n for n in activity.varied if n not in ctx.locals}

    # -- names ------------------------------------------------------------------
    def d(self, n: str) -> str:
        if n not in self.adjoints:
            self.adjoints[n] = self.namer.fresh("d" + n.lstrip("_"))
        return self.adjoints[n]

    def dname(self, n: str):
        return name(self.d(n))

    def stack_name(self):
        if self.stack is None:
            self.stack = self.namer.fresh("stack")
        return self.stack

    def _saved_names(self):
        """Names assigned more than once, or inside a loop: the overwritten values."""
        count = {}

        def walk(body, in_loop):
            for s in body:
                if s.__class__ is gast.Assign and s.targets[0].__class__ is gast.Name \
                        and s.targets[0].annotation is None:  # (without a walk)
                    if s.targets[0].ctx.__class__ is gast.Store:
                        t = s.targets[0].id
                        count[t] = count.get(t, 0) + (2 if in_loop else 1)
                elif isinstance(s, gast.Assign):
                    for t in astutil.nodes(s.targets[0]):
                        if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store):
                            count[t.id] = count.get(t.id, 0) + (2 if in_loop else 1)
                elif isinstance(s, gast.If):
                    walk(s.body, in_loop)
                    walk(s.orelse, in_loop)
                elif isinstance(s, (gast.For, gast.While)):
                    walk(s.body, True)

        walk(self.tree.body, False)
        walk = None  # (it refers to itself: the cycle would outlive this call)
        params = {a.id for a in self.tree.args.args + self.tree.args.kwonlyargs
                  + self.tree.args.posonlyargs}
        return {n for n, c in count.items() if c > 1 or (n in params and c > 0)}

    def active(self, atom) -> bool:
        return isinstance(atom, gast.Name) and atom.id in self.act.active

    def refuse(self, node, what, hint=None, detail=None, kind=refusals.use):
        """Refuse ``node`` (through ``kind``, one of ``refusals``' kinds)."""
        kind(self.parsed, node, what, hint=hint, detail=detail)

    # -- blocks -------------------------------------------------------------------
    def block(self, stmts):
        fwd, bwds = [], []
        for s in stmts:
            f, b = self.stmt(s)
            fwd += f
            origin = getanno(s, "origin")
            if b and origin is not None:
                b = [self.note(origin)] + b
            bwds.append(b)
        # the backward blocks in reverse order, joined once (prepending each is quadratic)
        return fwd, [st for b in reversed(bwds) for st in b]

    def note(self, origin):
        """The ``Note`` of the user's statement ``origin``: one for all the statements
        normalization made of it (the line is read once)."""
        got = self.notes.get(origin)
        if got is None:
            got = self.notes[origin] = Note(origin, self.parsed)
        return got

    def stmt(self, s):
        if s.__class__ is gast.Assign:
            t = s.targets[0]
            if t.__class__ is gast.Name:
                return self.assign_name(s, t.id, s.value)
            if t.__class__ is gast.Subscript:
                return self.assign_item(s, t)
            if t.__class__ is gast.Tuple:  # produced by reverse itself only
                return [s], []
        if isinstance(s, gast.If):
            before, shares_before = dict(self.views), dict(self.shares)
            fb, bb = self.block(s.body)
            after_body, self.views = self.views, before
            shares_body, self.shares = self.shares, shares_before
            fo, bo = self.block(s.orelse)
            for n, v in after_body.items():  # a view on either path: maybe a view
                self.views[n] = v or self.views.get(n, False)
            for n, v in shares_body.items():  # sharing on either path: may share
                self.shares[n] = v | self.shares.get(n, frozenset())
            fwd = gast.If(test=s.test, body=fb or [gast.Pass()], orelse=fo)
            return [fwd], ([BIf(s.test, bb, bo)] if bb or bo else [])
        if isinstance(s, gast.For):
            return self.for_loop(s)
        if isinstance(s, gast.While):
            return self.while_loop(s)
        if isinstance(s, gast.Expr):
            self.check_effect_call(s)
            return self.save_written(s)
        if isinstance(s, (gast.Assert, gast.Raise, gast.Pass, gast.Break)):
            return [s], []
        if isinstance(s, gast.Return):
            return [], []
        self.refuse(s, f"{type(s).__name__} statement", kind=refusals.syntax)

    def check_effect_call(self, s):
        v = s.value
        if not isinstance(v, gast.Call):
            return
        args = [a.value if isinstance(a, gast.Starred) else a for a in v.args]
        args += [k.value for k in v.keywords]
        if isinstance(v.func, gast.Attribute) and self.active(v.func.value):
            self.refuse(s, "method call for its side effect on a differentiated value",
                        detail=f".{v.func.attr}() may change the value in place, which "
                               f"sourcegrad cannot follow",
                        hint="write the result to a new variable (y = x + ...) instead")
        kind, obj = self.ctx.classify(v, self)
        varied = [a for a in args if isinstance(a, gast.Name) and a.id in self.act.varied]
        shift = 0
        if kind == "user":
            obj, shift = obj.func, int(obj.self_expr is not None)
        if kind in ("user", "unknown") and varied and not closures.writes_into(
                obj, [i + shift for i in range(len(v.args))],
                [k.arg for k in v.keywords if k.arg]):
            return  # a call for its output (print, logging, a plot): run, no adjoint
        if kind != "nondiff" and varied:
            what = _describe(v.func, obj if kind != "dynamic" else None)
            self.refuse(s, f"call to {what} whose result is discarded",
                        detail="a call made for its side effects (writing into an array, "
                               "mutating an object) cannot pass gradient back",
                        hint="return the result and use it: y = f(...)")

    def note_shares(self, target, value):
        """Record the names ``target`` may share memory with once bound to ``value``."""
        src = _shared_sources(value)
        if not src:
            self.shares.pop(target, None)
            return
        shared = set(src)
        for n in src:
            shared |= self.shares.get(n, frozenset())
        shared.discard(target)
        self.shares[target] = frozenset(shared)

    def sharing(self, base):
        """The names other than ``base`` that may share memory with it here: a write
        into ``base`` changes them too (``d = c.T`` or ``d = c`` before ``c[0] = v``)."""
        own = self.shares.get(base, frozenset()) | {base}
        return [m for m, ss in self.shares.items() if m != base and (m in own or ss & own)]

    def save_written(self, s):
        """The call ``s`` made for its effect, with a copy saved of each value it may
        write into and put back in the backward sweep: that sweep may read the value
        as a coefficient (``y = c * x; np.fill_diagonal(c, 0.0)``).  The saves pass
        drops a copy the backward sweep does not read."""
        written = self.written_by(s.value)
        fwd, bwd = self.save_shared(written + [m for n in written for m in self.sharing(n)])
        return fwd + [s], bwd

    def save_shared(self, names):
        """Forward statements saving a copy of each of ``names`` (values a write is
        about to change), and backward statements putting the copies back."""
        fwd, bwd = [], []
        for n in dict.fromkeys(names):
            if getattr(self.ctx.shapes.get(n), "kind", None) in ("int", "float", "bool"):
                continue
            old = self.namer.fresh(n + "_old")
            save = assign(old, call(self.ctx.env_name("snapshot", runtime.snapshot), name(n)))
            if self.loop_depth:
                self.saved.add(old)
            fsave, brestore = self.save_restore([old])
            restore = assign(n, name(old))
            setanno(restore, "restore", n)
            setanno(save, "pair", self.pairs)
            setanno(restore, "pair", self.pairs)
            self.pairs += 1
            self.restores += 1
            fwd += fsave + [save]
            bwd = [restore] + brestore + bwd
        return fwd, bwd

    def written_by(self, v):
        """The inactive names whose values the call ``v``, its result discarded, may
        write into: its object for a mutating method (``c.fill(0.0)``), an argument a
        function of yours or NumPy provably writes into (``np.copyto(c, ..)``), and every
        argument of a call that cannot be read (``rng.shuffle(c)``)."""
        if not isinstance(v, gast.Call):
            return []
        f = v.func
        out = []
        method = isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) \
            and f.value.id in self.ctx.locals and f.attr in closures.MUTATING
        if method:
            out.append(f.value.id)
        kind, obj = self.ctx.classify(v, self)
        args = [(i, a.id) for i, a in enumerate(v.args) if isinstance(a, gast.Name)]
        shift = 0
        if kind == "user":
            obj, shift = obj.func, int(obj.self_expr is not None)
        if kind in ("rule", "method") or method:
            pass  # a rule's function computes a value; a container's method keeps its arguments
        elif kind == "nondiff":
            out += [a for i, a in args if closures.writes_into(obj, [i])
                    or i == 0 and getattr(obj, "__name__", None) == "shuffle"]
        elif kind == "user" or obj is not None and closures.readable(obj):
            out += [a for i, a in args if closures.writes_into(obj, [i + shift])]
        else:  # nothing proven either way
            out += [a for _, a in args]
        return [n for n in dict.fromkeys(out) if n not in self.act.active]

    # -- saving overwritten values ---------------------------------------------------
    def push(self, n):
        self.pushed.add(n)
        return expr_stmt(call(gast.Attribute(value=name(self.stack_name()), attr="append",
                                             ctx=gast.Load()), n))

    def pop(self, n):
        node = assign(n, call(gast.Attribute(value=name(self.stack_name()), attr="pop",
                                             ctx=gast.Load())))
        setanno(node, "pop", n)
        return node

    def save_restore(self, names):
        """Forward statements saving, and backward statements restoring, ``names``."""
        fwd, bwd = [], []
        for n in names:
            first = n not in self.defined
            self.defined.add(n)
            if n in self.saved and (self.loop_depth or not first):
                f, b = self.push(n), self.pop(n)
                setanno(f, "push", n)
                setanno(f, "pair", self.pairs)
                setanno(b, "pair", self.pairs)
                self.pairs += 1
                fwd.append(f)
                bwd.insert(0, b)
        return fwd, bwd

    # -- assignments -----------------------------------------------------------------
    def assign_name(self, s, target, value):
        cls = value.__class__
        if cls is gast.Name and value.id == target:
            return [], []  # x = x changes nothing (normalize drops the user's)
        self.views[target] = _makes_view(value)
        fsave, brestore = self.save_restore([target])
        classified = None  # (kind, obj) of a call
        if cls is gast.Call:
            kind, obj = classified = self.ctx.classify(value, self)
            if kind in ("rule", "nondiff", "method") and obj is not print:
                setanno(s, "pure", True)
            if kind == "unknown" and foreign.is_transformation(obj):
                self.no_rule(s, value, obj)  # autograd.grad(f) inside: its result is traced
            if kind in ("user", "dynamic") and target in self.act.active:
                fwd, bwd = self.split_call(s, target, value, kind, obj)
                saved = self.saved_name_of(fwd)
                if self.loop_depth:  # a fresh tape each iteration: keep them all
                    self.saved.add(saved)
                fsave2, brestore2 = self.save_restore([saved])
                return fsave + fsave2 + fwd, bwd + [Kill(target)] + brestore2 + brestore
        if cls is gast.Subscript and value.value.__class__ is gast.Name \
                and value.value.id in self.written:
            self.view_reads.setdefault(value.value.id, []).append((target, s))
            # a view of an array written later would change under the backward
            # sweep's feet: read a copy
            s = copy.copy(s)
            s.value = call(self.ctx.env_name("save_item", runtime.save_item), value.value,
                           index_expr(value.slice))
            setanno(s, "pure", True)
        self.note_shares(target, s.value)
        if target not in self.act.active:
            return fsave + [s], brestore
        items = self.rule_items(s, target, value, classified)
        return fsave + [s], [Group(target, items), Kill(target)] + brestore

    def saved_name_of(self, fwd):
        t = fwd[0].targets[0]
        if isinstance(t, gast.Name):  # vjp_call: out = f(...); out_vjp = vjp_of(f, ...)
            return fwd[1].targets[0].id
        return t.elts[1].id

    def rule_items(self, s, target, value, classified=None):
        """The backward items of ``target = value`` (one operation); ``classified``:
        ``ctx.classify(value, self)`` of a call, if the caller has it."""
        dz = self.dname(target)
        cls = value.__class__
        if cls is gast.Name:
            return [Acc(value.id, dz)] if self.active(value) else []
        if cls is gast.Constant or cls is gast.Compare:
            return []  # (a comparison's value is piecewise constant)
        if cls is gast.BinOp:
            fn, args = self.sequence_op(value)
            return self.apply_rule(s, fn, target, args, [])
        if cls is gast.UnaryOp:
            fn = UNARYOPS.get(type(value.op))
            return self.apply_rule(s, fn, target, [value.operand], [])
        if cls is gast.Call:
            return self.call_items(s, target, value, dz, classified)
        if cls is gast.Attribute:
            return self.attribute_items(s, target, value, dz)
        if cls is gast.Subscript:
            if not self.active(value.value):
                return []
            helper = self.ctx.env_name("index_adjoint", runtime.index_adjoint)
            idx = index_expr(value.slice)
            return [Acc(value.value.id, call(helper, value.value, idx, dz))]
        if isinstance(value, (gast.Tuple, gast.List)):
            helper = self.ctx.env_name("item_adjoint", runtime.item_adjoint)
            return [Acc(e.id, call(helper, dz, const(i), e))
                    for i, e in enumerate(value.elts) if self.active(e)]
        if isinstance(value, gast.Dict) and not any(
                self.active(n) for n in astutil.nodes(value)):
            return []  # a display of constants (d = {"a": 0.5}), its entries written later
        self.refuse(s, f"{type(value).__name__} expression", kind=refusals.syntax)

    def call_items(self, s, target, value, dz, classified=None):
        """The backward items of ``target = f(...)``: a rule inlined, or none."""
        kind, obj = classified or self.ctx.classify(value, self)
        if kind == "rule":
            return self.apply_rule(s, obj, target, value.args, value.keywords)
        if kind == "method":
            return self.apply_rule(s, obj, target, [value.func.value] + value.args,
                                   value.keywords)
        if kind == "nondiff":
            return []
        if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields"):
            return self.namedtuple_items(s, obj, dz, value)
        self.no_rule(s, value, obj)

    def attribute_items(self, s, target, value, dz):
        """The backward items of ``target = base.attr``."""
        base = value.value
        if self.active(base):
            obj = getattr(runtime.np.ndarray, value.attr, MISSING)
            if obj is MISSING:  # p.w of a namedtuple (a pytree): its field's place
                return self.apply_rule(s, runtime.field, target,
                                       [base, const(value.attr)], [])
            rule = registry.lookup(obj) if obj is not MISSING else None
            if rule is None:
                self.refuse(s, f"attribute .{value.attr}", kind=refusals.no_derivative,
                            detail=f"no derivative rule for the array attribute "
                                   f".{value.attr}")
            return self.apply_rule(s, obj, target, [base], [])
        if value.attr in INACTIVE_ATTRS:
            return []
        # a value read from an object: it may be a Parameter asked for in weights.
        # Its adjoint is computed only when it is (see Resolver: weight reads)
        self.weight_reads.add(target)
        add = expr_stmt(call(self.ctx.env_name("add_weight_grad", runtime.add_weight_grad),
                             self.ctx.weights_name(), name(target), dz))
        if self.ctx.known_weight(value):
            # a known object's Parameter, asked for (pins): no test at run time
            self.known_weights.add(target)
            return [add]
        return [gast.If(test=self.wanted(target), body=[add], orelse=[])]

    def namedtuple_items(self, s, cls, dz, value):
        """``P(a, b=c)`` of a namedtuple class: each argument's adjoint is its field's item
        of ``dz`` (a namedtuple is a tuple: a pytree)."""
        try:
            bound = inspect.signature(cls).bind(*value.args, **{k.arg: k.value
                                                                for k in value.keywords})
        except TypeError as exc:
            self.refuse(s, f"call to {cls.__name__}", detail=str(exc))
        helper = self.ctx.env_name("item_adjoint", runtime.item_adjoint)
        items = []
        for pname, arg in bound.arguments.items():
            if isinstance(arg, gast.Starred) or pname not in cls._fields:
                self.refuse(s, f"*args in a call to {cls.__name__}",
                            hint="pass the fields one by one")
            if self.active(arg):
                items.append(Acc(arg.id, call(helper, dz, const(cls._fields.index(pname)),
                                              arg)))
        return items

    def wanted(self, n):
        """``wants(weight_grads, n)``: whether ``n`` is a weight whose gradient is asked for."""
        return call(self.ctx.env_name("wants", runtime.wants), self.ctx.weights_name(), n)

    def no_rule(self, s, value, obj):
        if obj is None and isinstance(value.func, gast.Attribute):
            self.refuse(s, f"method .{value.func.attr}() on a differentiated value",
                        detail=f".{value.func.attr}() changes its object in place, which "
                               f"gradients cannot follow",
                        hint="build a new value instead (y = ... ) and use that")
        if isinstance(obj, type):
            self.refuse(s, f"creating a {obj.__name__} object",
                        detail=f"constructing {obj.__qualname__}(...) inside the differentiated "
                               f"function with arguments that carry gradient is not supported",
                        hint="create the object outside the function and pass it in")
        other = foreign.refusal(obj) if obj is not None else None
        if other is not None:  # SciPy, autograd, JAX
            what, detail, hint = other
            self.refuse(s, f"call to {what}", kind=refusals.no_derivative, detail=detail, hint=hint)
        what = _describe(value.func, obj)
        self.refuse(s, f"call to {what}", kind=refusals.no_derivative,
                    detail=f"{what} has no derivative rule and no Python source to differentiate",
                    hint=f"register a rule:  @sourcegrad.adjoint({what})\n"
                         f"        def _(z, x): d[x] = ...   (see README, 'Your own rules')")

    def assign_item(self, s, target):
        base = target.value
        value = s.value
        if self.views.get(base.id) and (base.id in self.act.varied or self.active(value)):
            self.refuse(s, "assignment into a view of another array",
                        detail=f"{base.id} shares memory with the array it was taken from, "
                               f"and gradients cannot follow writes through views",
                        hint=f"take a copy first: {base.id} = <expression>.copy()")
        self.check_views_of(base.id, s)
        self.items_written.add(base.id)
        call_ = self.passed.get(base.id)
        if call_ is not None:
            self.refuse_write_after_call(s, base.id, call_)
        shared_save, shared_restore = self.save_shared(self.sharing(base.id))
        idx = index_expr(target.slice)
        old = self.namer.fresh(base.id + "_old")
        save = assign(old, call(self.ctx.env_name("save_item", runtime.save_item), base, idx))
        if self.loop_depth:
            self.saved.add(old)
        fsave, brestore = self.save_restore([old])
        # restored into the backward sweep's own copy: the array the forward
        # sweep wrote (perhaps returned, perhaps the caller's) keeps its values
        if self.copies is None:
            self.copies = self.namer.fresh("copies")
        restore = assign(base.id, call(self.ctx.env_name("restore_item", runtime.restore_item),
                                       base, copy_tree(idx), old, self.copies))
        # the saves pass drops the two when the backward sweep reads no value of
        # the array from before this write
        setanno(restore, "restore", base.id)
        setanno(save, "pair", self.pairs)
        setanno(restore, "pair", self.pairs)
        self.pairs += 1
        self.restores += 1
        if base.id not in self.act.varied:
            # no adjoint; but the backward sweep may read the array (as a
            # coefficient): it gets the values from before the write
            return shared_save + fsave + [save, s], [restore] + brestore + shared_restore
        items = []
        db = self.dname(base.id)
        if self.active(value):
            if self.basic_index(target.slice):
                unb = self.ctx.env_name("unbroadcast", runtime.unbroadcast)
                items.append(Acc(value.id, call(unb, gast.Subscript(
                    value=db, slice=copy_tree(target.slice), ctx=gast.Load()), value)))
            else:  # an index array may repeat positions: only the last write counts
                helper = self.ctx.env_name("write_adjoint", runtime.write_adjoint)
                items.append(Acc(value.id, call(helper, db, copy_tree(idx), value)))
        items.append(assign(self.d(base.id), call(self.ctx.env_name("zero_item",
                                                                    runtime.zero_item), db, idx)))
        return shared_save + fsave + [save, s], \
            [Group(base.id, items), restore] + brestore + shared_restore

    def check_views_of(self, base, s):
        """Refuse a write into ``base`` while a slice read from it earlier is used later:
        in NumPy that slice is a view and would see the write."""
        here = self.parsed.where(getanno(s, "origin") or s).get("lineno") or 0
        for view, read in self.view_reads.get(base, ()):
            if view not in self.act.varied:
                continue
            for st in astutil.nodes(self.tree):
                origin = getanno(st, "origin")
                line = self.parsed.where(origin).get("lineno") if origin is not None else None
                if line and line > here and isinstance(st, gast.stmt) and any(
                        isinstance(n, gast.Name) and n.id == view
                        and isinstance(n.ctx, gast.Load) for n in astutil.nodes(st)):
                    self.refuse(s, f"assignment into {base} while a view of it is in use",
                                detail=f"{view} was read from {base} by slicing (a view "
                                       f"sharing its memory) and is used after this write; "
                                       f"gradients cannot follow writes through views",
                                hint=f"take a copy when reading: {view} = {base}[...].copy()")

    def refuse_write_after_call(self, s, base, call_):
        origin = getanno(s, "origin")  # the user's statement: the user's name
        if isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Subscript) \
                and isinstance(origin.targets[0].value, gast.Name):
            base = origin.targets[0].value.id
        fn = call_.value.func
        what = gast.unparse(fn) if hasattr(gast, "unparse") else getattr(fn, "id", "a function")
        self.refuse(s, f"assignment into {base} after passing it to {what}(...)",
                    detail=f"{what} may keep {base} (or a view of it) for its own backward "
                           f"sweep, which would then see this write",
                    hint=f"pass a copy: {what}({base}.copy(), ...), or write into a copy")

    def basic_index(self, sl):
        """Whether an index is made of constants, slices and known integers."""
        for n in astutil.nodes(sl):
            if isinstance(n, gast.Name):
                known = self.ctx.shapes.get(n.id)
                if known is None or known.kind != "int":
                    return False
        return True

    # -- rules ------------------------------------------------------------------------
    def apply_rule(self, s, primal, target, args, keywords):
        rule = registry.lookup(primal)
        if rule is None:
            if registry.is_nondifferentiable(primal):
                return []
            self.no_rule(s, gast.Name(id=getattr(primal, "__name__", "op"), ctx=gast.Load(),
                                      annotation=None, type_comment=None), primal)
        starred = [i for i, a in enumerate(args) if isinstance(a, gast.Starred)]
        if starred:
            if not any(self.active(a.value if isinstance(a, gast.Starred) else a) for a in args):
                return []
            # x.reshape(*shape, -1): inactive items unpacked into the rule's own *args
            # bind as they are, however many there are
            var = [i for i, p in enumerate(rule.signature.parameters.values())
                   if p.kind == p.VAR_POSITIONAL]
            if not var or starred[0] < var[0] or any(self.active(args[i].value)
                                                     for i in starred):
                self.refuse(s, "*args in a call to a function with a derivative rule",
                            hint="pass the arguments one by one")
        env = template_env(self, s, rule, primal, args, keywords, "derivative rule")
        if rule.variants:  # reduction='mean', weight=None: the rule for those constants
            rule = rule.for_constants(env)
        return Instantiator(self, rule, target, env).run()

    # -- calls into user code ----------------------------------------------------------
    def split_call(self, s, target, value, kind, obj):
        for a in list(value.args) + [k.value for k in value.keywords]:
            a = a.value if isinstance(a, gast.Starred) else a
            if isinstance(a, gast.Name) and a.id in self.written:
                self.passed.setdefault(a.id, s)
                if self.loop_depth and a.id in self.items_written:
                    # written earlier in the loop body: the next iteration writes again
                    self.refuse_write_after_call(s, a.id, s)
        saved = self.namer.fresh(target + "_saved")
        args = list(value.args)
        keywords = list(value.keywords)
        active_args = [i for i, a in enumerate(args) if self.active(
            a.value if isinstance(a, gast.Starred) else a)]
        active_kw = [k.arg for k in keywords if self.active(k.value)]
        star = None  # f(a, *rest): rest's length is known only at run time
        if any(isinstance(args[i], gast.Starred) for i in active_args):
            star = [i for i in active_args if isinstance(args[i], gast.Starred)]
            if len(star) > 1 or star[0] != len(args) - 1:
                self.refuse(s, "*args carrying gradient in a call",
                            detail="only the last positional argument may be starred",
                            hint="pass the arguments one by one")
            star = star[0]
            active_args = [i for i in active_args if i != star]
            kind = "dynamic"
        wname = self.ctx.weights_name()
        order = [("pos", i) for i in active_args] + [("kw", k) for k in active_kw]
        callee = self.ctx.callee(obj, value, active_args, active_kw, self, s) \
            if kind == "user" else None
        if callee is None and kind == "user":
            kind = "dynamic"  # a recursive call: resolved at run time, once compiled
        if kind != "user" and self.ctx.spec.complete and active_args and not active_kw \
                and star is None and not self.ctx.spec.weights:
            return self.vjp_call(target, value, args, keywords, active_args)
        if kind == "user":
            fwd_name, bwd_name, order = callee
            self_arg = obj.self_expr
            fcall = gast.Call(func=name(fwd_name), args=([self_arg] if self_arg else []) + args,
                              keywords=keywords)
            bfunc = name(bwd_name)
        else:
            spec = const((tuple(active_args), tuple(active_kw), self.ctx.spec.weights, star))
            fcall = gast.Call(func=name(self.ctx.env_name("call_fwd", runtime_call_fwd())),
                              args=[value.func, spec] + args, keywords=keywords)
            bfunc = name(self.ctx.env_name("call_bwd", runtime_call_bwd()))
        fwd = [assign(gast.Tuple(elts=[name(target, gast.Store()), name(saved, gast.Store())],
                                 ctx=gast.Store()), fcall)]
        bargs = [name(saved), self.dname(target)] + ([name(wname)] if wname else [])
        bcall = gast.Call(func=bfunc, args=bargs, keywords=[])
        by_kw = {k.arg: k.value for k in keywords}
        ordered = [args[i] if where == "pos" else by_kw[i] for where, i in order]
        items = []
        if star is not None:
            # call_bwd returns the starred items' adjoints after the others
            parts = self.namer.fresh(self.d(target) + "_parts")
            items.append(assign(parts, bcall))
            for j, a in enumerate(ordered):
                items.append(Acc(a.id, gast.Subscript(value=name(parts), slice=const(j),
                                                      ctx=gast.Load())))
            tail = self.ctx.env_name("list_tail", runtime.list_tail)
            items.append(Acc(args[star].value.id, call(tail, parts, const(len(ordered)))))
            return fwd, [Group(target, items)]
        return fwd, [Group(target, self.adjoint_parts(bcall, ordered))]

    def adjoint_parts(self, bcall, ordered):
        """Backward items of a call whose gradient ``bcall`` returns a tuple with one
        adjoint per name in ``ordered``: ``dx_part, dy_part = ...``, then accumulate."""
        if not ordered:
            return [expr_stmt(bcall)]
        if len(ordered) == 1:
            part = self.namer.fresh(self.d(ordered[0].id) + "_part")
            return [assign(part, gast.Subscript(value=bcall, slice=const(0), ctx=gast.Load())),
                    Acc(ordered[0].id, name(part))]
        parts = [self.namer.fresh(self.d(a.id) + "_part") for a in ordered]
        return [assign(gast.Tuple(elts=[name(p, gast.Store()) for p in parts],
                                  ctx=gast.Store()), bcall)] + \
            [Acc(a.id, name(p)) for a, p in zip(ordered, parts)]

    def vjp_call(self, target, value, args, keywords, active_args):
        """A call resolved at run time, in a derivative that will be differentiated again
        (``grad(grad(f))``): call_fwd/call_bwd pass opaque saved state between the sweeps,
        which a second transformation cannot follow.  Here the forward sweep makes the
        plain call, and the backward sweep calls the callee's gradient function with the
        adjoint as seed (``vjp_of(callee, positions)(*args, dout)``), recomputing its
        forward sweep: both are calls the next transformation differentiates again."""
        vjp = self.namer.fresh(target + "_vjp")
        helper = self.ctx.env_name("vjp_of", runtime_vjp_of())
        fwd = [assign(target, gast.Call(func=value.func, args=args, keywords=keywords)),
               assign(vjp, call(helper, astutil.copy_tree(value.func),
                                const(tuple(active_args))))]
        bcall = gast.Call(func=name(vjp),
                          args=[astutil.copy_tree(a) for a in args] + [self.dname(target)],
                          keywords=[astutil.copy_tree(k) for k in keywords])
        return fwd, [Group(target, self.adjoint_parts(bcall, [args[i] for i in active_args]))]

    # -- loops ------------------------------------------------------------------------
    def loop_views(self, body):
        """Names the loop body may bind to a view are maybe views at its start."""
        for st in astutil.nodes(gast.Module(body=body, type_ignores=[])):
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                    and _makes_view(st.value):
                self.views[st.targets[0].id] = True

    def for_loop(self, s):
        self.loop_views(s.body)
        body_assigned = {n.id for n in astutil.name_nodes(gast.Module(body=s.body, type_ignores=[]))
                         if isinstance(n.ctx, gast.Store)}
        fwd_pre, bwd_post = [], []
        it = s.iter
        breaks = _breaks(s.body)
        fwd_post, bwd_pre = [], []
        if any(isinstance(a, gast.Name) and a.id in body_assigned for a in it.args) \
                or self.loop_depth or breaks:
            rng = self.namer.fresh("steps")
            fwd_pre.append(assign(rng, it))
            it = name(rng)
            if self.loop_depth:
                self.saved.add(rng)
                f, b = self.save_restore([rng])
                fwd_pre = f + fwd_pre
                bwd_post = b
        self.loop_depth += 1
        fb, bb = self.block(s.body)
        self.loop_depth -= 1
        steps = copy_tree(it)
        if breaks and bb:  # the loop may stop early: replay only the iterations that ran
            trips = self.namer.fresh("trips")
            fwd_pre.append(assign(trips, const(0)))
            fb = [_incr(trips)] + fb
            steps = gast.Subscript(value=steps, slice=gast.Slice(lower=None, upper=name(trips),
                                                                 step=None), ctx=gast.Load())
            if self.loop_depth and bb:
                self.saved.add(trips)
                fwd_post, bwd_pre = self.save_restore([trips])
        fwd_post = fwd_post if breaks and self.loop_depth and bb else []
        bwd_pre = bwd_pre if fwd_post else []
        fwd = gast.For(target=s.target, iter=it, body=fb or [gast.Pass()], orelse=[],
                       type_comment=None)
        header = setanno(gast.For(target=copy_tree(s.target), iter=call("reversed", steps),
                                  body=[], orelse=[], type_comment=None), "backward")
        bwd = [BLoop(header, bb)] if bb else []
        return fwd_pre + [fwd] + fwd_post, bwd_pre + bwd + bwd_post

    def while_loop(self, s):
        self.loop_views(s.body)
        trips = self.namer.fresh("trips")
        self.loop_depth += 1
        fb, bb = self.block(s.body)
        self.loop_depth -= 1
        if not bb:  # nothing to replay: the loop runs as written
            return [gast.While(test=s.test, body=fb or [gast.Pass()], orelse=[])], []
        fwd = [assign(trips, const(0)),
               gast.While(test=s.test, body=[_incr(trips)] + fb, orelse=[])]
        bwd = []
        if bb:
            header = setanno(gast.For(target=name("_", gast.Store()), iter=call("range", trips),
                                      body=[], orelse=[], type_comment=None), "backward")
            bwd = [BLoop(header, bb)]
            if self.loop_depth:
                self.saved.add(trips)
                f, b = self.save_restore([trips])
                fwd += f
                bwd = b + bwd
        return fwd, bwd


# (by identity: the ids of objects that live as long as the process)
_SEQUENCE_CALLS = frozenset(map(id, (list, tuple, sorted, runtime.list_append,
                                     runtime.list_extend)))


def sequence_names(tree, ctx):
    """Local names that hold a list or tuple wherever they are bound: displays,
    ``list(...)``, appended-to lists, concatenations and slices of such names, and
    copies of them (parameters and other values of unknown type are not)."""
    binds = _bindings(tree)
    # a name bound to an unknown value is none, whatever the others are; the rest
    # are looked at in program order (parameters last in ``binds``), so the values a
    # binding reads are mostly settled by then and few names are looked at twice
    seqs = {n for n, vals in binds.items() if None not in vals}
    readers = {}  # name -> the names bound to a value whose _sequence reads it
    for n in seqs:
        for v in binds[n]:
            for x in _sequence_reads(v):
                readers.setdefault(x, []).append(n)
    todo = [n for n in reversed(binds) if n in seqs]  # (pop() takes the first first)
    while todo:  # the largest set consistent with every binding
        n = todo.pop()
        if n not in seqs:
            continue
        for v in binds[n]:
            if v is None or not _sequence(v, seqs, ctx):
                seqs.discard(n)
                todo += readers.get(n, ())  # what was a sequence through it
                break
    return seqs


def _bindings(tree):
    """Each name's bound values (None: unknown, a loop variable or a parameter)."""
    binds = {}
    for s in statement_list(tree.body):
        if s.__class__ is gast.Assign and s.targets[0].__class__ is gast.Name \
                and s.targets[0].ctx.__class__ is gast.Store \
                and s.targets[0].annotation is None:  # (the common case, without a walk)
            binds.setdefault(s.targets[0].id, []).append(s.value)
        elif isinstance(s, gast.Assign):
            for t in astutil.nodes(s.targets[0]):
                if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store):
                    binds.setdefault(t.id, []).append(s.value if t is s.targets[0] else None)
        elif isinstance(s, gast.For):
            for t in astutil.name_nodes(s.target):
                binds.setdefault(t.id, []).append(None)
    for p in astutil.name_nodes(tree.args):
        binds.setdefault(p.id, []).append(None)  # the caller's value: unknown
    return binds


def maybe_sequence_names(tree, ctx, sequences):
    """Local names that hold a list or tuple on some path (``sequences``: those that
    do on every path): bound anywhere to a display, a comprehension or such a name."""
    out = set(sequences)
    for n, vals in _bindings(tree).items():
        if any(v is not None and (v.__class__ in (gast.List, gast.Tuple, gast.ListComp)
                                  or v.__class__ is gast.Name and v.id in sequences)
               for v in vals):
            out.add(n)
    return out


def _sequence_reads(v):
    """The names ``_sequence(v, seqs, ctx)`` looks up in ``seqs``: its answer for ``v``
    changes only when one of these leaves ``seqs``."""
    cls = v.__class__
    if cls is gast.Name:
        return [v.id]
    if cls is gast.BinOp and isinstance(v.op, (gast.Add, gast.Mult)):
        return _sequence_reads(v.left) + _sequence_reads(v.right)
    if cls is gast.Subscript and isinstance(v.slice, gast.Slice):
        return _sequence_reads(v.value)
    return []


def _sequence(v, seqs, ctx):
    """Whether ``v`` is a list or tuple when the names ``seqs`` hold ones."""
    cls = v.__class__
    if cls is gast.List or cls is gast.Tuple:
        return True
    if cls is gast.Name:
        return v.id in seqs
    if cls is gast.BinOp and v.op.__class__ in _CONCATENATIONS:
        return _sequence(v.left, seqs, ctx) or _sequence(v.right, seqs, ctx)
    if cls is gast.Subscript and v.slice.__class__ is gast.Slice:
        return _sequence(v.value, seqs, ctx)
    if cls is gast.Call and v.func.__class__ is gast.Name:  # (the callables listed are
        obj = getanno(v.func, "runtime")                    # read by a name)
        if obj is None:
            obj = ctx.static_env(v.func)
        return id(obj) in _SEQUENCE_CALLS
    return False


_CONCATENATIONS = frozenset({gast.Add, gast.Mult})


_VIEW_METHODS = {"reshape", "ravel", "transpose", "swapaxes", "view", "squeeze"}


_VIEW_FUNCTIONS = _VIEW_METHODS | {"asarray", "expand_dims", "moveaxis", "atleast_1d",
                                   "atleast_2d", "atleast_3d", "broadcast_to", "diagonal",
                                   "real", "imag", "flip", "fliplr", "flipud", "rot90"}


def _shared_sources(v):
    """The names whose memory the value of ``v`` may share: an alias, a view (a slice,
    ``.T``, ``reshape``), or a container holding them."""
    if isinstance(v, gast.Name):
        return {v.id}
    if isinstance(v, gast.Subscript) or isinstance(v, gast.Attribute) and v.attr in (
            "T", "mT", "real", "imag"):
        return _shared_sources(v.value)
    if isinstance(v, gast.Call):
        f = v.func
        if isinstance(f, gast.Attribute) and f.attr in _VIEW_FUNCTIONS:
            if isinstance(f.value, gast.Name) and f.attr in _VIEW_METHODS:
                return {f.value.id}  # (np.reshape(a, ..) has `np` here: its argument below)
            return set().union(*(_shared_sources(a) for a in v.args[:1]))
        return set()
    if isinstance(v, (gast.List, gast.Tuple, gast.Set)):
        return set().union(*(_shared_sources(e) for e in v.elts))
    if isinstance(v, gast.Dict):
        return set().union(*(_shared_sources(e) for e in v.values))
    if isinstance(v, gast.IfExp):
        return _shared_sources(v.body) | _shared_sources(v.orelse)
    return set()


def _makes_view(v):
    """Whether an expression may return a view sharing memory with an array."""
    cls = v.__class__
    if cls is gast.Subscript:
        return True
    if cls is gast.Attribute and v.attr == "T":
        return True
    if cls is gast.Call and v.func.__class__ is gast.Attribute:
        return v.func.attr in _VIEW_METHODS
    return False


def _incr(n):
    return gast.AugAssign(target=name(n, gast.Store()), op=gast.Add(), value=const(1))


def _breaks(body):
    """Whether ``body`` (not counting nested loops) contains a ``break``."""
    for st in body:
        if isinstance(st, gast.Break):
            return True
        if isinstance(st, gast.If) and (_breaks(st.body) or _breaks(st.orelse)):
            return True
    return False


def index_expr(sl):
    """A subscript's index as an expression (slices become ``slice(...)`` calls)."""
    if isinstance(sl, gast.Slice):
        parts = [p if p is not None else const(None) for p in (sl.lower, sl.upper, sl.step)]
        return call("slice", *[copy_tree(p) for p in parts])
    if isinstance(sl, gast.Tuple):
        return gast.Tuple(elts=[index_expr(e) for e in sl.elts], ctx=gast.Load())
    return copy_tree(sl)


def _describe(func, obj):
    if obj is not None and obj is not MISSING and hasattr(obj, "__name__"):
        mod = getattr(obj, "__module__", None)
        return f"{mod}.{obj.__qualname__}" if mod and hasattr(obj, "__qualname__") \
            else obj.__name__
    try:
        return gast.unparse(func)
    except Exception:
        return "this function"


# The run-time entry points of calls resolved at run time (``call_fwd``,
# ``call_bwd``, ``vjp_of``).  They live in ``sourcegrad.dispatch``, which sits
# above the pipeline (it derives a callee on its first call) and registers them
# here when the package is imported; this module only binds them into the code.
RUNTIME_CALLS: dict = {}


def runtime_call_fwd():
    return RUNTIME_CALLS["call_fwd"]


def runtime_vjp_of():
    return RUNTIME_CALLS["vjp_of"]


def runtime_call_bwd():
    return RUNTIME_CALLS["call_bwd"]


def _target_names(stmt):
    return [n.id for n in astutil.name_nodes(stmt.targets[0])]


def _loaded(items, skip):
    out = set()
    for it in items:
        if it is skip:
            continue
        node = it.expr if isinstance(it, Acc) else it.value
        out |= {n.id for n in astutil.name_nodes(node)}
    return out


_AST = gast.AST
_new = gast.AST.__new__  # a node without its constructor (which, called bare, sets nothing)
_LEAVES = frozenset({str, int, float, type(None), bool})
_CONTEXTS = frozenset({gast.Load, gast.Store, gast.Del})


def _plan(node):
    """``(attribute, kind)`` for each attribute of a template node that holds nodes:
    kind ``list`` (a list, items that are nodes copied), ``"nodes"`` (a list of
    nodes only), ``None`` (a context: a new one) or ``"node"``."""
    plan = []
    for k, v in node.__dict__.items():
        c = v.__class__
        if c in _LEAVES:
            continue
        if c is list:
            plan.append((k, "nodes" if all(isinstance(x, _AST) for x in v) else list))
        elif isinstance(v, _AST):
            plan.append((k, None if c in _CONTEXTS else "node"))
    return tuple(plan)


def _copy_atom(node):
    """``copy_tree`` of a name or a constant whose attributes are all atoms (strings,
    numbers, None) but its context: the common argument at a call site."""
    state = node.__dict__
    for k, v in state.items():
        if v.__class__ not in _LEAVES and k != "ctx":
            return None
    new = _new(node.__class__)
    new.__dict__.update(state)
    ctx = state["ctx"] if "ctx" in state else None
    if ctx is not None:
        if ctx.__class__ not in _CONTEXTS or ctx.__dict__:
            return None
        new.__dict__["ctx"] = _new(ctx.__class__)
    return new


def _copy_expr(node):
    if node.__class__ is gast.Name or node.__class__ is gast.Constant:
        new = _copy_atom(node)
        if new is not None:
            return new
    return copy_tree(node)


class Instantiator:
    """Inline one rule template at a call site (see ``rules.registry``)."""

    def __init__(self, rev, rule, target, env):
        self.rev, self.rule, self.target, self.env = rev, rule, target, env
        self.locals = {}
        # template node (hashed by identity) -> which of its attributes hold nodes
        # (``_plan``), made once for every node of the rule's template and kept with
        # the rule (the template lives as long).  Nodes made while instantiating
        # (forward mode wraps parts of the template) are not among them: planned each time
        plans = rule.__dict__.get("_sg_plans")
        if plans is None:
            plans = rule.__dict__["_sg_plans"] = {
                n: _plan(n) for st in rule.body for n in astutil.walk(st)}
        self.plans = plans

    def run(self):
        items = []
        temps = []  # (name, stmt) of template temporaries
        for st in self.rule.body:
            if st.__class__ is gast.Expr and st.value.__class__ is gast.Constant:
                continue  # docstring
            if st.__class__ is not gast.Assign or len(st.targets) != 1:
                raise TypeError(f"rule {self.rule.where}: only assignments are allowed")
            t = st.targets[0]
            if t.__class__ is gast.Subscript and t.value.__class__ is gast.Name \
                    and t.value.id == "d":
                param = t.slice.id
                arg = self.env.get(param)
                if arg.__class__ is gast.Tuple:  # a *args parameter: one adjoint per item
                    active = [(i, e) for i, e in enumerate(arg.elts) if self.rev.active(e)]
                    if not active:
                        continue
                    tmp = self.rev.namer.fresh("d" + param)
                    items.append(pure(assign(tmp, self.expr(st.value))))
                    items += [Acc(e.id, gast.Subscript(value=name(tmp), slice=const(i),
                                                       ctx=gast.Load())) for i, e in active]
                    continue
                if arg is None or not self.rev.active(arg):
                    continue
                items.append(Acc(arg.id, self.expr(st.value), fresh=True))
            elif t.__class__ is gast.Name:
                new = self.rev.namer.fresh(t.id)
                value = self.expr(st.value)
                self.locals[t.id] = new
                temps.append(new)
                items.append(pure(assign(new, value)))
            else:
                raise TypeError(f"rule {self.rule.where}: unsupported assignment target")
        # drop temporaries that no kept statement reads (temporaries feed temporaries)
        if not temps:  # (every item left is an adjoint's or read by one)
            return items
        while True:
            used = _loaded(items, None)
            kept = [it for it in items
                    if isinstance(it, Acc) or any(n in used for n in _target_names(it))]
            if len(kept) == len(items):
                return kept
            items = kept

    def expr(self, node):
        """A copy of the template expression ``node`` with the call site's names in."""
        cls = node.__class__
        if cls is gast.Name:
            return self.name_for(node)
        if cls is gast.Subscript and node.value.__class__ is gast.Name \
                and node.value.id == "d":
            if node.slice.id != self.rule.result:
                raise TypeError(f"rule {self.rule.where}: templates may only read "
                                f"d[{self.rule.result}]")
            return self.rev.dname(self.target)
        new = _new(cls)
        state = new.__dict__
        state.update(node.__dict__)  # then the attributes holding nodes, copied
        try:
            plan = self.plans[node]
        except KeyError:  # (a node made while instantiating)
            plan = _plan(node)
        expr = self.expr
        for k, kind in plan:
            v = state[k]
            if kind == "nodes":
                state[k] = list(map(expr, v))
            elif kind is list:
                state[k] = [expr(x) if isinstance(x, _AST) else x for x in v]
            elif kind is None:
                state[k] = _new(v.__class__)
            else:
                state[k] = expr(v)
        return new

    def name_for(self, node):
        """What the template's name ``node`` stands for at this call site."""
        n = node.id
        if n == self.rule.result:
            return name(self.target)
        if n in self.env:
            return _copy_expr(self.env[n])
        if n in self.locals:
            return name(self.locals[n])
        key = (self.rule.template, n)  # (the rule's free names: the same at every use)
        bound = self.rev.ctx.rule_names.get(key)
        if bound is None:
            obj = self.rule.namespace.get(n, MISSING)
            if obj is MISSING:
                import builtins
                if getattr(builtins, n, MISSING) is not MISSING:
                    return copy_tree(node)
                raise TypeError(f"rule {self.rule.where}: unknown name {n!r}")
            bound = self.rev.ctx.rule_names[key] = self.rev.ctx.env_name(n, obj)
        return name(bound)


# -- resolution of backward items into statements --------------------------------------

class Resolver:
    def __init__(self, rev):
        self.rev = rev

    def zeros(self, n):
        known = self.rev.ctx.shapes.get(n)
        if n in self.rev.defined_at_entry and getattr(known, "kind", None) in ("array", "float"):
            fn = gast.Attribute(value=name(self.rev.ctx.env_name("np", runtime.np)),
                                attr="zeros_like", ctx=gast.Load())
        else:  # may be a tuple or dict, or not bound on this path (then None: see assemble)
            fn = name(self.rev.ctx.env_name("zeros_like", runtime.zeros_like))
            if n not in self.rev.defined_at_entry:
                self.rev.zero_filled.add(n)
        return pure(assign(self.rev.d(n), call(fn, n)))

    def run(self, items, init):
        """The statements of ``items``; ``init``: the adjoints holding a value so far
        (updated)."""
        out = []
        last_note = None
        for it in items:
            cls = it.__class__  # (the item classes have no subclasses)
            if cls is Note:
                if it.key != last_note:  # one note per user line
                    out.append(note_stmt(it.text))
                    last_note = it.key
            elif cls is Acc and it.name in self.rev.weight_reads:
                out.append(self.weight_read(it, init))
            elif cls is Acc:
                out.append(self.acc(it, init))
            elif cls is Kill:
                init.discard(it.name)
            elif cls is Group:
                if it.name in init:
                    # a rule may contribute to the name whose adjoint it reads
                    # (x = x * 2 after renaming cannot happen, but a = b; with
                    # both sharing storage can): contributions go in order
                    out += self.run(it.items, init)
            elif cls is BIf:
                out += self.branch(it, init)
            elif cls is BLoop:
                out += self.loop(it, init)
            else:
                out.append(it)
        return out

    def weight_read(self, it, init):
        """An adjoint of a value read from an object: only worth computing when it is
        a Parameter asked for; every use is under the same test."""
        dn = self.rev.d(it.name)
        if it.name in init:
            helper = self.rev.ctx.env_name("add_adjoints", runtime.add_adjoints)
            value = call(helper, dn, it.take())
        else:
            value = it.take()
            init.add(it.name)
        if it.name in self.rev.known_weights:
            return pure(assign(dn, value))
        return gast.If(test=self.rev.wanted(it.name), body=[pure(assign(dn, value))],
                       orelse=[])

    def acc(self, it, init):
        """``dn = e`` at the first contribution, ``dn = dn + e`` after."""
        dn = self.rev.d(it.name)
        if it.name in init and it.name in self.rev.containers:
            helper = self.rev.ctx.env_name("add_adjoints", runtime.add_adjoints)
            return pure(assign(dn, call(helper, dn, it.take())))
        if it.name in init:
            return pure(assign(dn, make(gast.BinOp, left=name(dn), op=make(gast.Add),
                                              right=it.take())))
        init.add(it.name)
        return pure(assign(dn, it.take()))

    def branch(self, it, init):
        """A reversed ``if``: an adjoint set in one branch is zeroed in the other."""
        i1, i2 = set(init), set(init)
        b1 = self.run(it.body, i1)
        b2 = self.run(it.orelse, i2)
        union = i1 | i2
        b1 += [self.zeros(n) for n in sorted(union - i1)]
        b2 += [self.zeros(n) for n in sorted(union - i2)]
        init.clear()
        init |= union
        if b1 or b2:
            return [gast.If(test=copy_tree(it.test), body=b1 or [gast.Pass()], orelse=b2)]
        return []

    def loop(self, it, init):
        """A reversed loop: adjoints first set inside it are zeroed before it."""
        zero = set()
        while True:
            entry = set(init) | zero
            end = set(entry)
            body = self.run(it.body, end)
            new = end - entry
            if not new:
                break
            zero |= new
        body += [self.zeros(n) for n in sorted(entry - end)]
        out = [self.zeros(n) for n in sorted(zero)]
        init.clear()
        init |= entry
        if body:
            loop = copy_tree(it.header)
            loop.body = body
            out.append(loop)
        return out
