"""Stage 5, forward mode -- emit the primal and its tangents together.

``Tangents`` walks the normalized function once, in program order.  Each
statement is kept as written and, when it binds a name that carries a
derivative (activity analysis: varied and reaching an output), followed by
the statement computing that name's tangent ``dname`` from the tangent rules
(:mod:`sourcegrad.rules.tangents_numpy`).  Control flow needs nothing of its
own: an ``if`` or a loop runs once, with the tangents computed inside it, so
``break``, ``while`` and data-dependent branches work as written.

Tangents carry a leading batch axis (``n`` directions at once; see the rules
module).  The generated function takes the primal's parameters, then one
tangent per differentiated parameter (by keyword), and returns
``(output, output tangent)``::

    def f_jvp(x, W, *, dx):
        matmul = W @ x
        dmatmul = tmatmul_b(W, dx, x)
        y = np.tanh(matmul)
        dy = dmatmul * (1.0 - y * y)
        return y, dy

Calls into user code (helpers, methods, Cells, gradients made by ``grad``)
call the callee's own forward-mode derivative, made by this same stage.
"""
from __future__ import annotations

import types

import gast
import numpy as np

from sourcegrad import astutil, refusals
from sourcegrad import reverse
from sourcegrad import runtime
from sourcegrad.activity import INACTIVE_ATTRS, statements
from sourcegrad.astutil import copy_tree
from sourcegrad.normalize import assign, const, name
from sourcegrad.parse import MISSING
from sourcegrad.reverse import UNARYOPS, _describe, call, index_expr, template_env
from sourcegrad.rules import registry
from sourcegrad.annotations import getanno, setanno
from sourcegrad.rules import tangents_numpy as tn
from sourcegrad.shapes import Abstract


# NumPy functions that take a sequence of arrays as such (not one array_like)
_SEQUENCE_TAKING = {getattr(np, n) for n in (
    "stack", "concatenate", "concat", "vstack", "hstack", "dstack", "column_stack",
    "row_stack", "block", "einsum", "broadcast_arrays", "meshgrid", "atleast_1d",
    "atleast_2d", "atleast_3d", "array", "asarray", "asanyarray", "ascontiguousarray",
    "unstack", "piecewise", "select") if hasattr(np, n)} | {np.linalg.multi_dot}


def _takes_arrays(primal):
    """Whether ``primal`` is a NumPy function whose arguments are arrays (a list
    passed is one array to it)."""
    if isinstance(primal, np.ufunc):
        return True
    module = getattr(primal, "__module__", None) or ""
    return (module == "numpy" or module.startswith("numpy.")) \
        and not any(primal is f for f in _SEQUENCE_TAKING)


class Tangents(reverse.SequenceOps):
    """Emit primal and tangent statements for one normalized function."""

    def __init__(self, fn_tree, parsed, namer, activity, ctx):
        self.tree = fn_tree
        self.parsed = parsed
        self.namer = namer
        self.act = activity
        self.ctx = ctx
        self.tangents = {}       # primal name -> tangent name
        self._batch = None       # the name holding the number of directions
        self.depth = 0           # inside a loop or branch
        # names bound exactly once: when the tangent of that one binding is zero,
        # the name carries none (nothing is computed for it, or from it)
        count = {}
        for st in statements(fn_tree.body):
            bound = st.targets[0] if isinstance(st, gast.Assign) else \
                st.target if isinstance(st, (gast.For, gast.AugAssign)) else None
            for n in astutil.nodes(bound) if bound is not None else ():
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    count[n.id] = count.get(n.id, 0) + 1
        params = {a.id for a in fn_tree.args.args + fn_tree.args.posonlyargs
                  + fn_tree.args.kwonlyargs}
        written = {st.targets[0].value.id for st in statements(fn_tree.body)
                   if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Subscript)
                   and isinstance(st.targets[0].value, gast.Name)}
        self.once = {n for n, c in count.items() if c == 1 and n not in params | written}
        self.sequences = reverse.sequence_names(fn_tree, ctx)
        self.maybe_sequences = reverse.maybe_sequence_names(fn_tree, ctx, self.sequences)
        self.rebound = set(count) | written  # names bound or written into in the body
        self.structure = Structure.of(self)

    # -- names -----------------------------------------------------------------------
    def d(self, n: str) -> str:
        if n not in self.tangents:
            self.tangents[n] = self.namer.fresh("d" + n.lstrip("_"))
        return self.tangents[n]

    def dname(self, n: str):
        if self.structure is not None and n in self.structure.diagonal:
            return self.structure.dense(n)
        return name(self.d(n))

    def batch(self):
        if self._batch is None:
            self._batch = self.namer.fresh("batch")
        return name(self._batch)

    def helper(self, fn):
        return name(self.ctx.env_name(fn.__name__, fn))

    def active(self, atom) -> bool:
        return isinstance(atom, gast.Name) and atom.id in self.act.active

    def refuse(self, node, what, hint=None, detail=None, kind=refusals.use):
        """Refuse ``node`` (through ``kind``, one of ``refusals``' kinds)."""
        kind(self.parsed, node, what, hint=hint, detail=detail)

    def zero(self, value_expr):
        return call(self.helper(tn.zero_tangent), value_expr, self.batch())

    # -- blocks ----------------------------------------------------------------------
    def block(self, stmts):
        out = []
        for s in stmts:
            out += self.stmt(s)
        return out

    def stmt(self, s):
        if isinstance(s, gast.Assign):
            t = s.targets[0]
            setanno(s, "primal")
            if isinstance(t, gast.Name):
                return self.assign_name(s, t.id, s.value)
            if isinstance(t, gast.Subscript):
                return self.assign_item(s, t)
            self.refuse(s, "assignment to " + type(t).__name__)
        if isinstance(s, (gast.If, gast.For, gast.While)):
            self.depth += 1
            try:
                return self.control(s)
            finally:
                self.depth -= 1
        if isinstance(s, gast.Expr):
            self.check_effect_call(s)
            return [s]
        if isinstance(s, (gast.Assert, gast.Raise, gast.Pass, gast.Break, gast.Continue)):
            return [s]
        if isinstance(s, gast.Return):
            return []
        self.refuse(s, f"{type(s).__name__} statement", kind=refusals.syntax)

    def control(self, s):
        if isinstance(s, gast.If):
            return [gast.If(test=s.test, body=self.block(s.body) or [gast.Pass()],
                            orelse=self.block(s.orelse))]
        if isinstance(s, gast.For):
            if any(isinstance(n, gast.Name) and n.id in self.act.active
                   for n in astutil.nodes(s.target)):
                self.refuse(s, "for loop over differentiated items",
                            hint="loop over an index: for i in range(len(xs)): x = xs[i]")
            return [gast.For(target=s.target, iter=s.iter, body=self.block(s.body) or
                             [gast.Pass()], orelse=self.block(s.orelse), type_comment=None)]
        if isinstance(s, gast.While):
            return [gast.While(test=s.test, body=self.block(s.body) or [gast.Pass()],
                               orelse=self.block(s.orelse))]

    def check_bprop(self, s, value):
        """A Cell's own bprop run inside a gradient (``custom_bprop_grads``) is not
        differentiated again, but its result is linear in its seed: forward mode over
        the gradient along seeds (``jacrev``) cannot drop that, so it is refused here
        (``jacrev`` then runs one reverse sweep per output element)."""
        kind, obj = self.ctx.classify(value, self)
        if kind == "nondiff" and obj is runtime.custom_bprop_grads \
                and any(isinstance(a, gast.Name) and a.id in self.act.varied
                        for a in value.args[3:4]):
            self.refuse(s, "forward mode through a Cell's own bprop along its seed",
                        kind=refusals.no_derivative,
                        detail="bprop is a reverse-mode rule; its tangent is not known")

    # a discarded call: the same checks as the adjoint stage (a write into a varied
    # argument carries the derivative out through it; refused)
    check_effect_call = reverse.Reverser.check_effect_call

    # -- assignments -----------------------------------------------------------------
    def assign_name(self, s, target, value):
        if target not in self.act.active:
            if isinstance(value, gast.Call):
                self.check_bprop(s, value)
                if self.ctx.spec.library.startswith("namespace:"):
                    return self.namespace_call(s, target, value)
            return [s]
        operands = {n.id for n in astutil.name_nodes(value) if isinstance(n.ctx, gast.Load)}
        if target in operands and not isinstance(value, gast.Name):
            self.refuse(s, "assignment reading the name it binds",
                        detail="forward mode expects each statement to bind a fresh name")
        if isinstance(value, gast.Call):
            kind, obj = self.ctx.classify(value, self)
            if kind == "user" and (registry.lookup_tangent(obj.func) is not None or
                                   registry.is_nondifferentiable(obj.func)):
                # a helper of ours with its own tangent rule
                pre, texpr = self.apply_rule(s, obj.func, target, value.args, value.keywords)
                return self.bind_tangent(s, target, pre, texpr)
            if kind == "dynamic" and isinstance(value.func, gast.Attribute) \
                    and value.func.attr == "get" and self.active(value.func.value):
                return [s, assign(self.d(target), call(
                    self.helper(tn.item_get), self.dname(value.func.value.id), name(target),
                    *value.args))]
            if kind in ("user", "dynamic"):
                if not self.reads_active(value) and not self.ctx.spec.weights:
                    # nothing it reads carries a tangent (a constant the name held
                    # before a loop made it vary): its tangent is zero
                    primal = self.namespace_call(s, target, value) \
                        if self.ctx.spec.library.startswith("namespace:") else [s]
                    return primal + self.bind_tangent(s, target, [], None)[1:]
                return self.user_call(s, target, value, kind, obj)
        pre, texpr = self.tangent_of(s, target, value)
        return self.bind_tangent(s, target, pre, texpr)

    def bind_tangent(self, s, target, pre, texpr):
        if texpr is None:
            if target in self.once and not self.depth:
                # its only binding carries no tangent: neither does the name
                self.act.active.discard(target)
                return [s] + pre
            texpr = self.zero(name(target))
        if self.structure is not None:
            return [s] + pre + self.structure.bind(target, texpr)
        return [s] + pre + [assign(self.d(target), texpr)]

    def tangent_of(self, s, target, value):
        """(statements, expression) of the tangent of ``target = value``; expression
        None when no operand carries a tangent."""
        if isinstance(value, gast.Name):
            return [], (self.dname(value.id) if self.active(value) else None)
        if isinstance(value, (gast.Constant, gast.Compare)):
            return [], None  # (a comparison's value is piecewise constant)
        if isinstance(value, gast.BinOp):
            fn, operands = self.sequence_op(value)  # (list + list concatenates)
            return self.apply_rule(s, fn, target, operands, [])
        if isinstance(value, gast.UnaryOp):
            fn = UNARYOPS.get(type(value.op))
            if fn is None:
                return [], None
            return self.apply_rule(s, fn, target, [value.operand], [])
        if isinstance(value, gast.Call):
            return self.call_tangent(s, target, value)
        if isinstance(value, gast.Attribute):
            return self.attribute_tangent(s, target, value)
        if isinstance(value, gast.Subscript):
            if not self.active(value.value):
                return [], None
            direct = self.array_index(value)
            if direct is not None:
                return [], direct
            return [], call(self.helper(tn.bindex), self.dname(value.value.id), name(target),
                            index_expr(value.slice))
        if isinstance(value, (gast.Tuple, gast.List)):
            elts = [self.dname(e.id) if self.active(e) else
                    call(self.helper(tn.zero_tangent_of), copy_tree(e), self.batch())
                    for e in value.elts]
            return [], type(value)(elts=elts, ctx=gast.Load())
        self.refuse(s, f"{type(value).__name__} expression", kind=refusals.syntax)

    def call_tangent(self, s, target, value):
        kind, obj = self.ctx.classify(value, self)
        if kind == "rule":
            pre, args, keywords = self.as_arrays(obj, value.args, value.keywords)
            stmts, texpr = self.apply_rule(s, obj, target, args, keywords)
            return pre + stmts, texpr
        if kind == "method":
            return self.apply_rule(s, obj, target, [value.func.value] + value.args,
                                   value.keywords)
        if kind == "nondiff":
            return [], None
        self.no_rule(s, value.func, obj)

    def as_arrays(self, primal, args, keywords):
        """(statements, arguments, keywords): a list or tuple passed to a NumPy function
        that takes an array (``np.sum([a, b])``) passed as the array it is, so that its
        tangent is an array's (the items' tangents stacked), not a list of them."""
        if not _takes_arrays(primal):
            return [], args, keywords
        pre = []

        def as_array(a):
            # (a name that holds a list on one path only: np.asarray at run time, a
            # no-op for an array)
            if not (isinstance(a, gast.Name) and a.id in self.maybe_sequences
                    and self.active(a)):
                return a
            arr = self.namer.fresh(a.id + "_array")
            pre.append(assign(arr, call(self.helper(np.asarray), name(a.id))))
            pre.append(assign(self.d(arr), call(self.helper(tn.tasarray), self.dname(a.id),
                                                name(a.id), name(arr))))
            self.act.active.add(arr)
            return name(arr)

        args = [as_array(a) for a in args]
        keywords = [gast.keyword(arg=k.arg, value=as_array(k.value)) for k in keywords]
        return pre, args, keywords

    def attribute_tangent(self, s, target, value):
        if not self.active(value.value) or value.attr in INACTIVE_ATTRS:
            return [], None
        obj = getattr(runtime.np.ndarray, value.attr, MISSING)
        if obj is MISSING:  # p.w of a namedtuple (a pytree): its field's tangent
            return self.apply_rule(s, runtime.field, target, [value.value, const(value.attr)],
                                   [])
        if registry.lookup_tangent(obj) is None:
            self.refuse(s, f"attribute .{value.attr}", kind=refusals.no_derivative,
                        detail=f"no tangent rule for the array attribute .{value.attr}")
        return self.apply_rule(s, obj, target, [value.value], [])

    def array_index(self, value):
        """``dx[:, i, 1:]`` for ``x[i, 1:]`` when ``x`` is known to be an array and the
        index is made of integers and slices (else None: ``bindex`` decides at run time)."""
        known = self.ctx.shapes.get(value.value.id)
        if not (isinstance(known, Abstract) and known.kind == "array"):
            return None
        idx = self.ctx.basic_subscript(index_expr(value.slice))
        if idx is None:
            return None
        parts = idx.elts if isinstance(idx, gast.Tuple) else [idx]
        if len(parts) > len(known.shape):
            return None
        whole = gast.Slice(lower=None, upper=None, step=None)
        return gast.Subscript(value=self.dname(value.value.id),
                              slice=gast.Tuple(elts=[whole] + list(parts), ctx=gast.Load()),
                              ctx=gast.Load())

    def no_rule(self, s, func, obj):
        what = _describe(func, obj)
        self.refuse(s, f"call to {what}", kind=refusals.no_derivative,
                    detail=f"{what} has no tangent rule (forward mode) and no Python source "
                           f"to differentiate",
                    hint=f"register one:  @sourcegrad.tangent({what})\n"
                         f"        def _(z, x): d[z] = ...   (see README, 'Forward mode')")

    def assign_item(self, s, target):
        base = target.value
        if not isinstance(base, gast.Name) or base.id not in self.act.active:
            return [s]
        value = s.value
        tv = self.dname(value.id) if self.active(value) else const(None)
        dbase = self.d(base.id)
        update = assign(dbase, call(self.helper(tn.set_item), name(dbase), name(base.id),
                                    index_expr(target.slice), tv, self.batch()))
        return [s, update]

    # -- rules -----------------------------------------------------------------------
    def apply_rule(self, s, primal, target, args, keywords):
        rule = registry.lookup_tangent(primal)
        swap = False
        if rule is None and registry.has_diagonal_tangent(primal):
            rule, swap = registry.lookup(primal), True
        if rule is None:
            if registry.is_nondifferentiable(primal):
                return [], None
            fn = _python_function(primal)
            if fn is not None:
                return self.python_call(s, target, fn, args, keywords)
            self.no_rule(s, gast.Name(id=getattr(primal, "__name__", "op"), ctx=gast.Load(),
                                      annotation=None, type_comment=None), primal)
        if not any(self.active(a.value if isinstance(a, gast.Starred) else a)
                   for a in list(args) + [k.value for k in keywords]):
            return [], None
        if any(isinstance(a, gast.Starred) for a in args):
            var = [p for p in rule.signature.parameters.values() if p.kind == p.VAR_POSITIONAL]
            if not var or any(self.active(a.value) for a in args if isinstance(a, gast.Starred)):
                self.refuse(s, "*args in a call to a function with a derivative rule",
                            hint="pass the arguments one by one")
        env = template_env(self, s, rule, primal, args, keywords, "tangent rule")
        return Instantiator(self, rule, target, env, swap, s).run()

    def python_call(self, s, target, fn, args, keywords):
        """A function without a rule but with Python source (``ops``, ``nn``): its own
        forward-mode derivative, called like a user function's."""
        value = gast.Call(func=name(self.ctx.env_name(fn.__name__, fn)), args=list(args),
                          keywords=list(keywords))
        stmts = self.user_call(None, target, value, "user", _Info(fn))
        # the primal statement stays as written: keep the call and its tangent
        return stmts[:1], stmts[-1].value

    # -- calls into user code ----------------------------------------------------------
    def namespace_call(self, s, target, value):
        """On an Array API namespace, a call of a user function (a Cell, a callee known
        only at run time) that carries no tangent still runs that function's code
        rebound to the namespace, whose arrays NumPy's functions cannot take:
        ``y = call_value(h, x)`` (its forward-mode function, no direction given).
        sourcegrad's own functions, rules and array methods stay as written."""
        kind, obj = self.ctx.classify(value, self)
        func = value.func
        if kind == "dynamic":
            routed = isinstance(func, gast.Name) or isinstance(func, gast.Attribute) \
                and getattr(runtime.np.ndarray, func.attr, MISSING) is MISSING
        else:  # (sourcegrad's functions are rebound by name, xp.rebind; not a Cell's
            # method reached through an attribute: nn's layers are routed too)
            routed = kind == "user" and registry.lookup_tangent(obj.func) is None \
                and not registry.is_nondifferentiable(obj.func) \
                and not (obj.self_expr is None and
                         (getattr(obj.func, "__module__", "") or "").startswith("sourcegrad."))
        if not routed:
            return [s]
        helper = self.ctx.env_name("call_value", RUNTIME_CALLS["call_value"])
        return [assign(target, gast.Call(func=name(helper), args=[copy_tree(func)] +
                                         list(value.args), keywords=list(value.keywords)))]

    def reads_active(self, value):
        """Whether the call ``value`` reads a name that carries a tangent (an argument,
        a keyword, the object of a method, the function itself)."""
        return any(isinstance(n, gast.Name) and n.id in self.act.active
                   for n in astutil.nodes(value))

    def user_call(self, s, target, value, kind, obj):
        args, keywords = list(value.args), list(value.keywords)
        if any(isinstance(a, gast.Starred) and self.active(a.value) for a in args) or \
                any(self.active(k.value) for k in keywords if k.arg is None):
            self.refuse(s or value, "*args or **kwargs carrying a derivative in a call",
                        hint="pass the arguments one by one")
        positions = tuple(i for i, a in enumerate(args) if self.active(a))
        kwnames = tuple(k.arg for k in keywords if self.active(k.value))
        out = self.namer.fresh(target + "_jvp")
        tangents = [self.dname(args[i].id) for i in positions] + \
            [self.dname(k.value.id) for k in keywords if k.arg in kwnames]
        helper = self.ctx.env_name("call_jvp", _runtime_call_jvp())
        fcall = gast.Call(func=name(helper),
                          args=[copy_tree(value.func), const(positions), const(kwnames),
                                gast.Tuple(elts=tangents, ctx=gast.Load())] + args,
                          keywords=keywords)
        stmts = [assign(out, fcall)]
        stmts.append(assign(target, gast.Subscript(value=name(out), slice=const(0),
                                                   ctx=gast.Load())))
        stmts.append(assign(self.d(target), gast.Subscript(value=name(out), slice=const(1),
                                                           ctx=gast.Load())))
        return stmts


class Structure:
    """Forward mode over the identity basis of one vector parameter ``x`` (``jacfwd``,
    ``hessian``; ``Spec.basis``): ``dx`` is the ``n x n`` identity, and an elementwise
    function of ``x`` has a *diagonal* tangent, ``diag(v)``.  Such a tangent is kept as
    its ``n`` values ``v`` (``dy_diag = ...``) while it meets only elementwise
    products, quotients and sums, and made dense (``bdiag(v, n)``) where anything else
    reads it.  A sum with a dense tangent adds ``v`` on its diagonal
    (``add_diagonal``), a matrix product with it scales the matrix's rows; so the
    generated Jacobian does the ``n``-element work a hand-written one does, not
    ``n * n`` per elementwise step.

    Works on the tangent expressions the rules give (a post-pass over each one):
    ``diag(v)`` is recognised in ``dx`` and in ``bdiag(v, n)``; an expression it cannot
    simplify is kept as it was (dense, so always right)."""

    def __init__(self, tan, eye, n):
        self.tan, self.eye, self.n = tan, eye, n
        self.diagonal = {}  # primal name -> (name of its tangent's diagonal, its shape)
        self.values = {}    # that name -> its shape (None: not known)

    @classmethod
    def of(cls, tan):
        spec = tan.ctx.spec
        if not getattr(spec, "basis", False) or len(spec.active) != 1 \
                or spec.active[0] in tan.rebound:
            return None
        known = tan.ctx.shapes.get(spec.active[0])
        if not (isinstance(known, Abstract) and known.kind == "array"
                and len(known.shape) == 1 and isinstance(known.shape[0], int)):
            return None
        return cls(tan, tan.d(spec.active[0]), known.shape[0])

    # -- what an expression is ---------------------------------------------------------
    def helper(self, fn):
        return self.tan.helper(fn)

    def obj(self, call_):
        """The function a call in the generated code calls (``np.cos``, a helper)."""
        got = self.tan.ctx.static_env(call_.func)
        return None if got is MISSING else got

    def shape(self, node):
        """The shape of a primal expression when known, else None."""
        if isinstance(node, gast.Constant):
            return () if isinstance(node.value, (int, float)) and \
                not isinstance(node.value, bool) else None
        if isinstance(node, gast.Name):
            a = self.tan.ctx.shapes.get(node.id)
            if isinstance(a, Abstract) and a.kind in ("array", "float") \
                    and all(isinstance(k, int) for k in a.shape):
                return tuple(a.shape)
            return None
        parts = None
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            parts = [node.left, node.right]
        elif isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            parts = [node.operand]
        elif isinstance(node, gast.Call) and not node.keywords and node.args:
            fn = self.obj(node)
            if isinstance(fn, np.ufunc) or registry.is_elementwise(fn):
                parts = node.args
        if parts is None:
            return None
        shapes = [self.shape(p) for p in parts]
        if any(sh is None for sh in shapes):
            return None
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            return None

    def carries(self, node):
        tangents = set(self.tan.tangents.values())
        for n in astutil.nodes(node):
            if isinstance(n, gast.Name) and n.id in tangents:
                return True
            if isinstance(n, gast.Call) and self.obj(n) is tn.bdiag:
                return True
        return False

    def scales(self, node):
        """Whether multiplying a diagonal tangent by primal ``node`` keeps it diagonal
        (a scalar or an ``n``-vector)."""
        return self.shape(node) in ((), (1,), (self.n,))

    # -- the rewriting -----------------------------------------------------------------
    # each returns ("primal", node), ("dense", node) or ("diag", values, values' shape)

    def read(self, e):
        if isinstance(e, gast.Name):
            if e.id == self.eye:
                return ("diag", const(1.0), ())
            return ("dense", e) if self.carries(e) else ("primal", e)
        if isinstance(e, gast.Call) and self.obj(e) is tn.bdiag:
            v = e.args[0]
            known = self.values.get(v.id) if isinstance(v, gast.Name) else None
            return ("diag", v, known if known is not None else self.shape(v))
        if not self.carries(e):
            return ("primal", e)
        if isinstance(e, gast.BinOp):
            return self.binop(e)
        if isinstance(e, gast.UnaryOp) and isinstance(e.op, gast.USub):
            a = self.read(e.operand)
            if a[0] == "diag":
                return ("diag", self.neg(a[1]), a[2])
            return ("dense", gast.UnaryOp(op=gast.USub(), operand=self.dense_of(a)))
        if isinstance(e, gast.Call):
            return self.call(e)
        return ("dense", e)

    def binop(self, e):
        a, b = self.read(e.left), self.read(e.right)
        op = e.op
        if isinstance(op, gast.Mult):
            for t, p in ((a, b), (b, a)):
                if t[0] == "diag" and p[0] == "primal" and self.scales(p[1]):
                    return ("diag", self.mul(t[1], p[1]), self.bshape(t[2], p[1]))
        if isinstance(op, gast.Div) and a[0] == "diag" and b[0] == "primal" \
                and self.scales(b[1]):
            return ("diag", gast.BinOp(left=a[1], op=gast.Div(), right=b[1]),
                    self.bshape(a[2], b[1]))
        if isinstance(op, (gast.Add, gast.Sub)):
            sub = isinstance(op, gast.Sub)
            if a[0] == "diag" and b[0] == "diag":
                return ("diag", self.plus(a[1], op, b[1]), self.bshape(a[2], b[1]))
            if a[0] == "dense" and b[0] == "diag":
                return ("dense", call(self.helper(tn.add_diagonal), a[1],
                                      self.neg(b[1]) if sub else b[1]))
            if a[0] == "diag" and b[0] == "dense":
                dense = gast.UnaryOp(op=gast.USub(), operand=b[1]) if sub else b[1]
                return ("dense", call(self.helper(tn.add_diagonal), dense, a[1]))
        return ("dense", gast.BinOp(left=self.dense_of(a), op=op, right=self.dense_of(b)))

    def call(self, e):
        fn = self.obj(e)
        args = e.args
        if fn is tn.tmatmul_b and len(args) == 3 and not e.keywords:
            t = self.read(args[1])
            if t[0] == "diag" and len(self.shape(args[0]) or ()) == 2 \
                    and self.shape(args[2]) == (self.n,):
                # diag(v) @ x1.T: the rows of x1.T scaled
                return ("dense", self.rows(t, gast.Attribute(value=args[0], attr="T",
                                                             ctx=gast.Load())))
        if fn is tn.tmatmul_a and len(args) == 3 and not e.keywords:
            t = self.read(args[0])
            if t[0] == "diag" and self.shape(args[1]) == (self.n,) \
                    and len(self.shape(args[2]) or ()) == 2:
                return ("dense", self.rows(t, args[2]))  # diag(v) @ x2
        return ("dense", gast.Call(func=e.func, args=[self.dense_of(self.read(a))
                                                      for a in args], keywords=e.keywords))

    # -- building ----------------------------------------------------------------------
    def rows(self, t, matrix):
        """``diag(v) @ matrix``: its rows scaled by ``v``."""
        v, vshape = t[1], t[2]
        if isinstance(v, gast.Constant) and v.value == 1.0:
            setanno(matrix, "tangent", True)
            return matrix
        if vshape == (self.n,) and self.n != 1:
            v = gast.Subscript(value=v, slice=gast.Tuple(elts=[
                gast.Slice(lower=None, upper=None, step=None), const(None)], ctx=gast.Load()),
                ctx=gast.Load())
        elif vshape not in ((), (1,)):  # not known: a column either way
            v = call(gast.Attribute(value=name(self.tan.ctx.env_name("np", np)),
                                    attr="reshape", ctx=gast.Load()),
                     v, const((-1, 1)))
        out = gast.BinOp(left=v, op=gast.Mult(), right=matrix)
        setanno(out, "tangent", True)
        return out

    def bshape(self, vshape, p):
        """The shape of the values ``v * p`` (None: not known)."""
        shape = self.shape(p)
        if vshape is None or shape is None:
            return None
        try:
            return tuple(np.broadcast_shapes(vshape, shape))
        except ValueError:
            return None

    @staticmethod
    def mul(v, p):
        if isinstance(v, gast.Constant) and v.value == 1.0:
            return p
        return gast.BinOp(left=v, op=gast.Mult(), right=p)

    @staticmethod
    def neg(v):
        if isinstance(v, gast.Constant) and isinstance(v.value, float):
            return const(-v.value)
        return gast.UnaryOp(op=gast.USub(), operand=v)

    @staticmethod
    def plus(a, op, b):
        """``a + b`` / ``a - b``, written ``a - c`` for ``b`` = ``-c``."""
        if isinstance(b, gast.UnaryOp) and isinstance(b.op, gast.USub):
            op, b = (gast.Sub() if isinstance(op, gast.Add) else gast.Add()), b.operand
        elif isinstance(b, gast.Constant) and isinstance(b.value, float) and b.value < 0:
            op, b = (gast.Sub() if isinstance(op, gast.Add) else gast.Add()), const(-b.value)
        return gast.BinOp(left=a, op=type(op)(), right=b)

    def dense_of(self, r):
        if r[0] != "diag":
            return r[1]
        if isinstance(r[1], gast.Constant) and r[1].value == 1.0:
            return name(self.eye)
        out = call(self.helper(tn.bdiag), r[1], const(self.n))
        setanno(out, "tangent", True)
        return out

    def dense(self, n):
        """The dense tangent of primal ``n`` whose tangent is kept as its diagonal."""
        vname, vshape = self.diagonal[n]
        return self.dense_of(("diag", name(vname), vshape))

    def bind(self, target, texpr):
        """The statements binding ``target``'s tangent ``texpr``: its diagonal
        (``dtarget_diag = v``) when it is diagonal, else the (simplified) dense one."""
        r = self.read(texpr)
        tan = self.tan
        if r[0] == "diag" and target in tan.once and not tan.depth \
                and self.shape(name(target)) == (self.n,):
            vname = tan.namer.fresh(tan.d(target) + "_diag")
            self.diagonal[target] = (vname, r[2])
            self.values[vname] = r[2]
            return [assign(vname, r[1])]
        return [assign(tan.d(target), self.dense_of(r))]


class _Info:
    def __init__(self, fn):
        self.func = fn
        self.self_expr = None


def _python_function(obj):
    """``obj`` if it is a plain Python function sourcegrad can read (``ops``, ``nn``)."""
    if isinstance(obj, types.FunctionType) and (getattr(obj, "__module__", "") or "") \
            .startswith("sourcegrad.ops"):
        return obj
    return None


# ``call_jvp`` (run a callee's forward-mode derivative) lives above the pipeline
# (sourcegrad.transforms derives the callee on its first call) and registers itself
# here when the package is imported; this module only binds it into the code.
RUNTIME_CALLS: dict = {}


def _runtime_call_jvp():
    return RUNTIME_CALLS["call_jvp"]


class Instantiator(reverse.Instantiator):
    """Inline one tangent template at a call site (see ``rules.registry``); names
    resolve as in an adjoint template (``reverse.Instantiator.name_for``).

    ``swap``: the template is an elementwise function's *adjoint* rule, read with
    ``d[z]`` and ``d[x]`` swapped (each ``d[x] = E(d[z])`` gives the contribution
    ``E(d[x])`` of ``x``; ``run_swapped``).
    """

    def __init__(self, tan, rule, target, env, swap=False, stmt=None):
        super().__init__(tan, rule, target, env)  # tan stands where reverse's pass would
        self.tan, self.swap, self.stmt = tan, swap, stmt
        self.locals = {}
        self.lifted = False

    def run(self):
        if self.swap:
            return self.run_swapped()
        temps, parts = [], []
        covered = set(getattr(self.rule, "constant", ()))
        for st, t, of_d in self.statements():
            if of_d:
                params = self.reads(st, t)
                covered.update(params)
                # kept when one of the arguments it reads carries a tangent (a statement
                # reading several covers them together; the others read as None)
                if any(self._carries(p) for p in params):
                    self.param = params[0]
                    parts.append(self.expr(st.value))
            else:
                new = self.tan.namer.fresh(t.id)
                value = self.expr(st.value)
                self.locals[t.id] = new
                temps.append(assign(new, value))
        self.check_covered(covered)
        if not parts:
            return [], None
        return self._kept(temps, parts)

    def run_swapped(self):
        """An elementwise function's adjoint rule read as its tangent rule: each
        ``d[x] = E(d[z])`` of an argument carrying a tangent contributes ``E(d[x])``,
        and ``d[x] = unbroadcast(E(d[z]), x)`` (``x`` broadcast against the others)
        contributes ``E(lift(d[x], z))``.  A temporary reading ``d[z]`` is made once
        per such argument; the others once."""
        temps, parts, reading = [], [], []
        for st, t, of_d in self.statements():
            if not of_d:
                if self._reads_adjoint(st.value, reading):
                    reading.append(st)  # made below, for each argument
                    continue
                new = self.tan.namer.fresh(t.id)
                temps.append(assign(new, self.expr(st.value)))
                self.locals[t.id] = new
                continue
            if not self._carries(t.slice.id):
                continue
            self.param = t.slice.id
            value, self.lifted = st.value, False
            if self._is_unbroadcast(value):
                value, self.lifted = value.args[0], True
            outer = dict(self.locals)
            for tmp in reading:
                new = self.tan.namer.fresh(tmp.targets[0].id)
                temps.append(assign(new, self.expr(tmp.value)))
                self.locals[tmp.targets[0].id] = new
            parts.append(self.expr(value))
            self.locals = outer
        if not parts:
            return [], None
        return self._kept(temps, parts)

    def statements(self):
        """``(statement, target, whether it assigns a d[...])`` of the template's body
        (its docstring left out); a template is straight-line assignments to
        temporaries and to ``d[...]``."""
        for st in self.rule.body:
            if isinstance(st, gast.Expr) and isinstance(st.value, gast.Constant):
                continue
            if not isinstance(st, gast.Assign) or len(st.targets) != 1:
                raise TypeError(f"rule {self.rule.where}: only assignments are allowed")
            t = st.targets[0]
            of_d = isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) \
                and t.value.id == "d"
            if not of_d and not isinstance(t, gast.Name):
                raise TypeError(f"rule {self.rule.where}: unsupported assignment target")
            yield st, t, of_d

    def _kept(self, temps, parts):
        """The temporaries the summed contributions read, and the sum."""
        total = parts[0]
        for p in parts[1:]:
            total = gast.BinOp(left=total, op=gast.Add(), right=p)
        used = {n.id for n in astutil.name_nodes(total)}
        kept = []
        for st in reversed(temps):  # temporaries feed temporaries
            if st.targets[0].id in used:
                kept.insert(0, st)
                used |= {n.id for n in astutil.name_nodes(st.value)}
        return kept, total

    def _reads_adjoint(self, node, reading):
        """Whether template expression ``node`` reads ``d[z]`` (or a temporary that does)."""
        names = {st.targets[0].id for st in reading}
        return any((isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name)
                    and n.value.id == "d") or (isinstance(n, gast.Name) and n.id in names)
                   for n in astutil.nodes(node))

    def _is_unbroadcast(self, node):
        return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
            and len(node.args) == 2 and not node.keywords \
            and self.rule.namespace.get(node.func.id) is runtime.unbroadcast \
            and isinstance(node.args[1], gast.Name) and node.args[1].id == self.param

    def swapped_tangent(self):
        """``d[z]`` in a swapped adjoint rule: the tangent of the argument at hand,
        broadcast to the result's shape when the rule unbroadcasts it."""
        t = self.tangent_expr(self.param)
        if not self.lifted:
            return t
        xs = self.known_shape(self.env.get(self.param))
        if xs is not None and xs == self.known_shape(name(self.target)):
            return t
        return call(self.tan.helper(tn.lift), t, name(self.target))

    def reads(self, st, t):
        """The parameters whose tangents the template statement ``st`` (assigning
        ``t``) is the contribution of."""
        if t.slice.id != self.rule.result:
            raise TypeError(f"tangent rule {self.rule.where}: assign d[{self.rule.result}]")
        params = sorted({n.slice.id for n in astutil.nodes(st.value)
                         if isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name)
                         and n.value.id == "d"})
        if not params:
            raise TypeError(f"tangent rule {self.rule.where}: each statement reads the "
                            f"tangent of an argument")
        return params

    def check_covered(self, covered):
        """Refuse an argument that carries a tangent the rule has no statement for."""
        for pname, arg in self.env.items():
            items = arg.elts if isinstance(arg, gast.Tuple) else [arg]
            if pname not in covered and any(self.tan.active(e) for e in items):
                what = getattr(self.rule.primal, "__qualname__", str(self.rule.primal))
                self.tan.refuse(
                    self.stmt, f"tangent of {what} with respect to {pname}",
                    kind=refusals.no_derivative,
                    detail=f"its tangent rule ({self.rule.where}) covers "
                           f"{', '.join(sorted(covered)) or 'no argument'} only",
                    hint="keep that argument constant (compute it outside the "
                         "function), or register a fuller rule with @sourcegrad.tangent")

    def _carries(self, param):
        arg = self.env.get(param)
        if isinstance(arg, gast.Tuple):
            return any(self.tan.active(e) for e in arg.elts)
        return arg is not None and self.tan.active(arg)

    def tangent_expr(self, param):
        arg = self.env.get(param)
        if isinstance(arg, gast.Tuple):
            return gast.Tuple(elts=[self.tan.dname(e.id) if self.tan.active(e) else const(None)
                                    for e in arg.elts], ctx=gast.Load())
        if arg is None or not self.tan.active(arg):
            return const(None)
        return self.tan.dname(arg.id)

    def known_shape(self, node):
        """The shape of the call site's value ``node`` when shape inference knows it."""
        if isinstance(node, gast.Constant) and type(node.value) is float:
            return ()
        if isinstance(node, gast.Name):
            a = self.tan.ctx.shapes.get(node.id)
            if isinstance(a, Abstract) and a.kind in ("array", "float") \
                    and all(isinstance(n, int) for n in a.shape):
                return a.shape
        return None

    def site(self, node):
        """The call site's expression a template name stands for (``z``: the target)."""
        if isinstance(node, gast.Name):
            if node.id == self.rule.result:
                return name(self.target)
            return self.env.get(node.id)
        return None

    def static_call(self, node):
        """Batching helpers whose answer the known shapes settle: ``lift(d[x], z)`` of
        an ``x`` already shaped like ``z`` is ``d[x]``; ``baxis``/``bperm`` of constant
        axes are constants."""
        func = self.rule.namespace.get(node.func.id) if isinstance(node.func, gast.Name) \
            else None
        if func is tn.lift and len(node.args) == 2 and not self.swap:
            t, z = node.args
            if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) \
                    and t.value.id == "d" and isinstance(t.slice, gast.Name):
                x = self.env.get(t.slice.id)
                xs = self.known_shape(x) if x is not None else None
                zs = self.known_shape(self.site(z))
                if xs is not None and xs == zs:
                    return self.expr(t)
        if func is tn.tunbroadcast and len(node.args) == 2:
            t, x = node.args
            if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) \
                    and t.value.id == "d" and isinstance(t.slice, gast.Name):
                g = self.env.get(t.slice.id)
                gs = self.known_shape(g) if g is not None else None
                if gs is not None and gs == self.known_shape(self.site(x)):
                    return self.expr(t)
        if func in (tn.baxis, tn.bperm) and len(node.args) == 2:
            axis, a = (self.site(n) if isinstance(n, gast.Name) else n for n in node.args)
            shape = self.known_shape(a)
            if shape is not None and isinstance(axis, gast.Constant):
                try:
                    return const(func(axis.value, np.empty(shape)))
                except Exception:
                    return None
        return None

    def expr(self, node):
        cls = node.__class__
        if cls is gast.Name:
            return self.name_for(node)
        if cls is gast.Call:
            done = self.static_call(node)
            if done is not None:
                return done
        if cls is gast.Subscript and node.value.__class__ is gast.Name \
                and node.value.id == "d":
            if self.swap:
                if node.slice.id != self.rule.result:
                    raise TypeError(f"rule {self.rule.where}: reads d[{node.slice.id}]")
                return self.swapped_tangent()
            return self.tangent_expr(node.slice.id)
        return super().expr(node)


def assemble(tree, spec, ctx, tan, body, ret, params, base):
    """The forward-mode function ``<base>_jvp``: primal parameters (``params``), then
    (keyword-only) one tangent per differentiated parameter; returns ``(output,
    output tangent)``."""
    value = ret.value
    pre = []
    # parameters not differentiated but rebound to differentiated values
    for p in params:
        if p in tan.act.active and p not in spec.active:
            pre.append(assign(tan.d(p), tan.zero(name(p))))
    tparams = [tan.d(p) for p in spec.active]

    def tangent_out(e):
        if isinstance(e, gast.Name) and e.id in tan.act.active:
            return tan.dname(e.id)
        return call(tan.helper(tn.zero_tangent_of), copy_tree(e), tan.batch())

    if isinstance(value, (gast.Tuple, gast.List)):
        elts = value.elts[:1] if spec.has_aux else value.elts
        wanted = spec.tangent_outputs or range(len(elts))
        touts = [tangent_out(e) if i in wanted else const(None) for i, e in enumerate(elts)]
        tout = touts[0] if spec.has_aux else gast.Tuple(elts=touts, ctx=gast.Load())
    else:
        if spec.has_aux:
            tout = tangent_out(gast.Subscript(value=copy_tree(value), slice=const(0),
                                              ctx=gast.Load()))
        else:
            tout = tangent_out(value)
    if tan._batch is not None:
        pre.insert(0, assign(tan._batch, call(tan.helper(tn.batch_size),
                                              *[name(t) for t in tparams])))
    args = copy_tree(tree.args)
    for t in tparams:
        args.kwonlyargs.append(name(t, gast.Param()))
        args.kw_defaults.append(None)
    fname = ctx.namer.fresh(base + "_jvp")
    result = gast.Tuple(elts=[copy_tree(value), tout], ctx=gast.Load())
    f = gast.FunctionDef(name=fname, args=args, body=pre + body + [gast.Return(value=result)],
                         decorator_list=[], returns=None, type_comment=None, type_params=[])
    return f, tparams


def reassociate(fdef, tangents, add_diagonal=None):
    """In the tangents' expressions, multiply the primal factors of a product
    together before the tangent: ``dh * a * b`` -> ``dh * (a * b)``.  A tangent
    carries ``n`` directions, a primal factor one: this saves passes over the large
    array (the same product; only rounding may differ).  ``add_diagonal``: the name
    ``tangents_numpy.add_diagonal`` has in the code, if it is used."""
    for st in astutil.statements(fdef.body):
        if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                and st.targets[0].id in tangents:
            st.value = _reassoc(st.value, tangents)
            if add_diagonal is not None:
                _in_place(st.value, add_diagonal)
    return fdef


def _in_place(e, add_diagonal):
    """``add_diagonal(a * b, v)`` -> ``add_diagonal(a * b, v, inplace=True)``: an
    arithmetic result is a new array nothing else holds (decided after the optimizer,
    which may turn an expression into a name)."""
    for n in astutil.nodes(e):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) \
                and n.func.id == add_diagonal and len(n.args) == 2 and not n.keywords \
                and isinstance(n.args[0], gast.BinOp):
            n.keywords = [gast.keyword(arg="inplace", value=const(True))]


def _mentions(node, tangents):
    return any(isinstance(n, gast.Name) and n.id in tangents or getanno(n, "tangent", False)
               for n in astutil.nodes(node))


def _chain(e, divides=False):
    """The factors of a product/quotient, however nested: [(node, divides), ...]
    (``a / (b * c)`` gives ``a`` and the divisors ``b``, ``c``)."""
    if getanno(e, "tangent", False):
        return [(e, divides)]  # a tangent made of a primal product: one factor
    if isinstance(e, gast.BinOp) and isinstance(e.op, gast.Mult):
        return _chain(e.left, divides) + _chain(e.right, divides)
    if isinstance(e, gast.BinOp) and isinstance(e.op, gast.Div):
        return _chain(e.left, divides) + _chain(e.right, not divides)
    return [(e, divides)]


def _reassoc(e, tangents):
    for field_ in ("left", "right", "operand"):
        child = getattr(e, field_, None)
        if isinstance(child, gast.expr):
            setattr(e, field_, _reassoc(child, tangents))
    if isinstance(e, gast.Call):
        e.args = [_reassoc(a, tangents) for a in e.args]
    if not (isinstance(e, gast.BinOp) and isinstance(e.op, (gast.Mult, gast.Div))):
        return e
    factors = _chain(e)
    carrying = [i for i, (f, _) in enumerate(factors) if _mentions(f, tangents)]
    if len(carrying) != 1 or factors[carrying[0]][1] or len(factors) - 1 < 2:
        return e
    t = factors[carrying[0]][0]
    rest = [f for i, f in enumerate(factors) if i != carrying[0]]
    nums = [f for f, div in rest if not div]
    dens = [f for f, div in rest if div]
    prod = None
    for f in nums:
        prod = f if prod is None else gast.BinOp(left=prod, op=gast.Mult(), right=f)
    if prod is None:
        den = dens[0]
        for f in dens[1:]:
            den = gast.BinOp(left=den, op=gast.Mult(), right=f)
        return gast.BinOp(left=t, op=gast.Div(), right=den)
    for f in dens:
        prod = gast.BinOp(left=prod, op=gast.Div(), right=f)
    return gast.BinOp(left=t, op=gast.Mult(), right=prod)


__all__ = ["Tangents", "assemble", "reassociate"]
