"""The two sweeps: seeded, resolved, then wrapped into function definitions.

The reverse stage leaves a forward sweep (the user's statements, saving what
the backward sweep needs) and backward items (adjoint accumulations in
reverse order).  ``Assembler.sweeps`` finishes the reverse stage:

1. seeds the outputs (ones, the ``sens`` argument or, in split mode, ``dout``);
2. resolves the backward items into statements (``reverse.Resolver``).

The optimizer's first passes then run on the two sweeps (``optimize.sweeps``),
and ``Assembler.functions`` (the assemble stage):

3. accumulates the adjoints of Parameters read as free names or passed as
   weights into the ``weight_grads`` accumulator;
4. builds one joint function ``f_grad`` (what ``grad`` calls: returns the
   gradients, the value or aux as asked) or, in split mode, ``f_fwd``
   returning ``(out, saved)`` and ``f_bwd(saved, dout)`` returning the
   adjoints of the active parameters (for calls from other derivatives).
"""
from __future__ import annotations

import sys

import gast
import numpy as np

from sourcegrad import astutil
from sourcegrad import runtime
from sourcegrad import shapes as shapes_mod
from sourcegrad.annotations import getanno, setanno
from sourcegrad.astutil import copy_tree, param_names, statement_list
from sourcegrad.normalize import assign, const, name
from sourcegrad.reverse import Acc, Note, Resolver, call, note_stmt, pure

_ARRAY_KINDS = ("array", "float")


def seeded_outputs(value, spec, parsed, tree=None):
    """The names of the outputs that are seeded (all of a tuple's, or the first
    with ``has_aux``); refuses ``has_aux`` on a single output."""
    if spec.has_aux and (isinstance(value, gast.Constant) or isinstance(value, gast.Name)
                         and tree is not None and _simple_value(tree, value.id, parsed)):
        raise ValueError("has_aux=True requires the function to return at least two outputs "
                         "(loss, aux...), but it returns one value")
    if isinstance(value, (gast.Tuple, gast.List)):
        elts = value.elts
        if spec.has_aux:
            if len(elts) < 2:
                raise ValueError("has_aux=True requires the function to return at least two "
                                 f"outputs (loss, aux...), but it returns {len(elts)}")
            elts = elts[:1]
        return {e.id for e in elts if isinstance(e, gast.Name)}
    if isinstance(value, gast.Name):
        return {value.id}
    return set()


class Assembler:
    """The end of the reverse stage (``sweeps``) and the assemble stage
    (``functions``) for one function and one ``Spec`` (see the module docstring)."""

    def __init__(self, tree, parsed, spec, ctx, rev, act, ret):
        self.tree, self.parsed, self.spec = tree, parsed, spec
        self.ctx, self.rev, self.act, self.ret = ctx, rev, act, ret
        self.namer = ctx.namer
        self.np_name = ctx.env_name("np", runtime.np)
        self.joint = spec.mode == "joint"
        self.sens = self.namer.fresh("sens") if self.joint and spec.sens else None
        self.dout = None if self.joint else self.namer.fresh("dout")
        self.params = set(param_names(tree))
        # names the function binds: a rebound parameter's zero is made on entry
        self.rebound = ctx.stored if ctx.stored is not None else {
            n.id for n in astutil.name_nodes(tree) if isinstance(n.ctx, gast.Store)}
        self.entry_zeros = []
        self.init = set()  # adjoints the backward sweep assigns

    def sweeps(self, fwd, bwd):
        """The forward sweep ``fwd`` (statements) and the backward sweep (the items
        ``bwd`` after the seeds, resolved into statements)."""
        items = self.seeds(fwd) + bwd
        for n in statement_list(fwd):  # the user's statements: the optimizer keeps their semantics
            if isinstance(n, gast.Assign):
                setanno(n, "primal", True)
        return fwd, self.backward(items)

    def functions(self, fwd, body_bwd):
        """The function definitions holding the two sweeps."""
        self.wname = self.ctx.weights_name()
        free = sorted(n for n in self.act.active if n not in self.ctx.locals)
        self.accumulate_weights(body_bwd, free)
        pre = self.placeholders(fwd, body_bwd)
        if self.joint:
            return [self.joint_function(pre, fwd, body_bwd)]
        return self.split_functions(pre, fwd, body_bwd)

    # -- 1. seeds ----------------------------------------------------------------------
    def seed_for(self, i, elt, of_tuple):
        """The seed of output ``elt`` (item ``i`` of a tuple output when ``of_tuple``)."""
        ctx = self.ctx
        if not self.joint or self.sens:
            src = name(self.dout or self.sens)
            if of_tuple:
                return call(ctx.env_name("item_adjoint", runtime.item_adjoint), src, const(i), elt)
            return src
        if of_tuple or not _simple_value(self.tree, elt.id, self.parsed):
            return call(ctx.env_name("seed_like", runtime.seed_like), elt)
        return call(gast.Attribute(value=name(self.np_name), attr="ones_like",
                                   ctx=gast.Load()), elt)

    def seeds(self, fwd):
        """Backward items seeding the outputs (a check of aux appended to ``fwd``)."""
        spec, act, value, ctx = self.spec, self.act, self.ret.value, self.ctx
        items = []
        origin = getanno(self.ret, "origin")
        if origin is not None:
            items.append(Note(origin, self.parsed))  # the seeds come from the return line
        if isinstance(value, (gast.Tuple, gast.List)):
            elts = value.elts[:1] if spec.has_aux else value.elts
            for i, e in enumerate(elts):
                if isinstance(e, gast.Name) and e.id in act.active:
                    # with has_aux the seed is the first output's alone (as JAX's vjp)
                    of_tuple = not spec.has_aux and (not self.joint or bool(self.sens))
                    items.append(Acc(e.id, self.seed_for(i, e, of_tuple)))
        elif isinstance(value, gast.Name) and value.id in act.active:
            if spec.has_aux:
                items.append(Acc(value.id, call(ctx.env_name("seed_first", runtime.seed_first),
                                                value, *([name(self.sens)] if self.sens
                                                         else []))))
            else:
                items.append(Acc(value.id, self.seed_for(0, value, False)))
        elif isinstance(value, gast.Name) and spec.has_aux:
            # no gradient flows from it, but it must still be (loss, aux...)
            fwd.append(gast.Expr(value=call(ctx.env_name("check_aux", runtime.check_aux),
                                            value)))
        return items

    # -- 2. the backward sweep ---------------------------------------------------------
    def backward(self, items):
        """The backward items as statements."""
        rev = self.rev
        body = Resolver(rev).run(items, self.init)
        if rev.copies is not None:
            made = assign(rev.copies, call("set"))
            setanno(made, "pure", True)  # unread once the saves pass drops every restore
            body.insert(0, made)
        return body

    # -- 3. Parameters -----------------------------------------------------------------
    def accumulate_weights(self, body, names):
        """Add the adjoints of ``names`` (Parameters read as free names) to the
        weight-gradient accumulator."""
        if not self.wname:
            return
        helper = self.ctx.env_name("add_weight_grad", runtime.add_weight_grad)
        for n in names:
            if n in self.init:
                body.append(gast.Expr(value=call(helper, self.wname, n, self.rev.d(n))))

    # -- 4. the functions --------------------------------------------------------------
    def grad_of(self, p):
        """The gradient returned for parameter ``p``."""
        if p in self.init:
            return name(self.rev.d(p))
        # what the input is; a callee's are known by its body (unless p is rebound,
        # when the shapes found are those of all the values p takes)
        known = dict(self.spec.shapes).get(p) or (
            self.ctx.shapes.get(p) if p not in self.rebound else None)
        if isinstance(known, shapes_mod.Abstract) and known.kind in _ARRAY_KINDS:
            zero = call(gast.Attribute(value=name(self.np_name), attr="zeros_like",
                                       ctx=gast.Load()), p)
        else:
            # maybe a tuple or list (np.zeros_like would stack its items): one per item
            zero = call(name(self.ctx.env_name("zeros_like", runtime.zeros_like)), p)
        if p not in self.rebound:
            return zero
        # p holds another value by the end (if v < 0: v = np.full(2, v)): the zero
        # is made on entry, shaped like the input
        dp = self.namer.fresh("d" + p)  # (not an adjoint's name: split mode saves it)
        self.entry_zeros.append(pure(assign(dp, zero)))
        return name(dp)

    def placeholders(self, fwd, body_bwd):
        """``stack = []`` and ``n = None`` for the names saved before their first
        assignment, or zero-filled on a path where they were never bound."""
        rev = self.rev
        pre = []
        if rev.stack is not None:
            pre.append(assign(rev.stack, gast.List(elts=[], ctx=gast.Load())))
        bwd_names = {n.id for st in body_bwd for n in astutil.name_nodes(st)} \
            if rev.zero_filled else set()
        already = {st.targets[0].id for st in fwd if isinstance(st, gast.Assign)
                   and isinstance(st.targets[0], gast.Name)
                   and isinstance(st.value, gast.Constant) and st.value.value is None}
        for n in sorted((rev.pushed | (rev.zero_filled & bwd_names)) - self.params - already):
            if not _bound_first(fwd, n):
                pre.append(assign(n, const(None)))
        return pre

    def joint_function(self, pre, fwd, body_bwd):
        """``f_grad``: both sweeps, returning the gradients (and value or aux)."""
        spec = self.spec
        if self.wname and spec.weight_args:
            self.accumulate_weights(body_bwd, spec.weight_args)
        grads = [self.grad_of(p) for p in spec.active[:spec.returned]]
        fwd[:0] = self.entry_zeros
        if spec.complete:
            self.fill_container_zeros(grads)
        gexpr = grads[0] if spec.single else gast.Tuple(elts=grads, ctx=gast.Load())
        result = self.result(gexpr, fwd, body_bwd)
        new_args = copy_tree(self.tree.args)
        for extra in (self.sens, self.wname):  # keyword-only: the wrapper passes them by name
            if extra:
                new_args.kwonlyargs.append(name(extra, gast.Param()))
                new_args.kw_defaults.append(None)
        fname = self.namer.fresh(qualified_name(self.parsed.fn) + "_grad")
        return _function(fname, new_args, pre + fwd + body_bwd + [gast.Return(value=result)])

    def fill_container_zeros(self, grads):
        """A gradient called inside differentiated code: zeros, not None, for the items
        of a container input that were not read."""
        held = _maybe_containers(self.tree)
        for i, p in enumerate(self.spec.active[:self.spec.returned]):
            known = self.ctx.shapes.get(p)
            if p in self.init and p in held and not (isinstance(known, shapes_mod.Abstract)
                                                     and known.kind in _ARRAY_KINDS):
                grads[i] = call(self.ctx.env_name("fill_zeros", runtime.fill_zeros),
                                grads[i], p)

    def result(self, gexpr, fwd, body_bwd):
        """What ``f_grad`` returns: the gradients, with the value or the aux."""
        spec = self.spec
        value = self.ret.value
        if spec.value or spec.has_aux:
            # the backward sweep may restore overwritten names: return what the
            # forward sweep computed
            restored = {n.id for st in body_bwd for n in astutil.name_nodes(st)
                        if isinstance(n.ctx, gast.Store)}
            value = copy_tree(value)
            for n in astutil.nodes(value):
                if isinstance(n, gast.Name) and n.id in restored:
                    snap = self.namer.fresh(n.id + "_value")
                    fwd.append(assign(snap, name(n.id)))
                    n.id = snap
        if spec.has_aux and not spec.value:
            if isinstance(value, (gast.Tuple, gast.List)):
                aux = gast.Tuple(elts=value.elts[1:], ctx=gast.Load())
            else:
                aux = gast.Subscript(value=value, slice=gast.Slice(lower=const(1), upper=None,
                                                                   step=None), ctx=gast.Load())
            return gast.Tuple(elts=[gexpr, aux], ctx=gast.Load())
        if spec.value:
            return gast.Tuple(elts=[value, gexpr], ctx=gast.Load())
        return gexpr

    def split_functions(self, pre, fwd, body_bwd):
        """``f_fwd(...) -> (out, saved)`` and ``f_bwd(saved, dout) -> adjoints``."""
        rev = self.rev
        saved_name = self.namer.fresh("saved")
        grads = gast.Tuple(elts=[self.grad_of(p) for p in self.spec.active], ctx=gast.Load())
        fwd[:0] = self.entry_zeros
        keep = self.saved_names(pre, fwd, body_bwd, grads)
        saved_tuple = gast.Tuple(elts=[name(n) for n in keep], ctx=gast.Load())
        fwd_name, bwd_name = self.ctx.own_names()
        out = gast.Tuple(elts=[self.ret.value, saved_tuple], ctx=gast.Load())
        fwd_fn = _function(fwd_name, copy_tree(self.tree.args),
                           pre + fwd + [gast.Return(value=out)])
        bargs = [name(saved_name, gast.Param()), name(self.dout, gast.Param())]
        if self.wname:
            bargs.append(name(self.wname, gast.Param()))
        unpack = []
        if keep:
            unpack = [assign(gast.Tuple(elts=[name(n, gast.Store()) for n in keep],
                                        ctx=gast.Store()), name(saved_name))]
        if rev.stack is not None and rev.stack in keep:
            # popped from a copy: the backward function leaves what it was given as it was
            # (it may run again; differentiated again, it changes no list its caller holds)
            unpack.append(note_stmt("the saved values, popped from a copy"))
            unpack.append(assign(rev.stack, gast.Subscript(
                value=name(rev.stack), slice=gast.Slice(lower=None, upper=None, step=None),
                ctx=gast.Load())))
        args = gast.arguments(args=bargs, posonlyargs=[], vararg=None, kwonlyargs=[],
                              kw_defaults=[], kwarg=None, defaults=[])
        bwd_fn = _function(bwd_name, args, unpack + body_bwd + [gast.Return(value=grads)])
        return [fwd_fn, bwd_fn]

    def saved_names(self, pre, fwd, body_bwd, grads):
        """What the forward function hands the backward one: the names the backward
        sweep reads that the forward sweep binds (placeholders added to ``pre``)."""
        rev = self.rev
        bwd_reads = {n.id for s in body_bwd + [grads] for n in astutil.name_nodes(s)
                     if isinstance(n.ctx, gast.Load)}
        fwd_defined = self.params | {n.id for s in fwd for n in astutil.name_nodes(s)
                                     if isinstance(n.ctx, gast.Store)}
        if rev.stack is not None:
            fwd_defined.add(rev.stack)
        keep = sorted((bwd_reads & fwd_defined) - set(rev.adjoints.values()))
        top_defined = self.params | {t.id for s in pre + fwd if isinstance(s, gast.Assign)
                                     for t in astutil.name_nodes(s.targets[0])}
        for n in keep:
            if n not in top_defined and n not in rev.pushed:
                pre.append(assign(n, const(None)))
        return keep


def qualified_name(fn):
    """``fn``'s qualified name as one identifier (``Model.construct`` ->
    ``Model_construct``): the base of its derivatives' names."""
    q = getattr(fn, "__qualname__", fn.__name__)
    q = q.replace("__sg_factory__.", "").replace("<locals>.", "").replace("<lambda>", "lambda")
    return "_".join(p for p in q.split(".") if p)


def _function(fname, args, body):
    return gast.FunctionDef(name=fname, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])


def _maybe_containers(tree):
    """Names the function reads items of (subscripts, unpacking, ``for`` loops): the
    parameters among them may be tuples or lists."""
    out = set()
    for n in astutil.nodes(tree):
        if isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name):
            out.add(n.value.id)
        elif isinstance(n, gast.For) and isinstance(n.iter, gast.Name):
            out.add(n.iter.id)
        elif isinstance(n, gast.Assign) and isinstance(n.value, gast.Name) \
                and isinstance(n.targets[0], (gast.Tuple, gast.List)):
            out.add(n.value.id)
        elif isinstance(n, gast.Call):
            out.update(a.value.id for a in n.args
                       if isinstance(a, gast.Starred) and isinstance(a.value, gast.Name))
    return out


def _bound_first(stmts, n):
    """Whether the first top-level statement that mentions ``n`` binds it plainly."""
    for st in stmts:
        if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                and st.targets[0].id == n:
            return not any(isinstance(x, gast.Name) and x.id == n for x in astutil.nodes(st.value))
        if any(isinstance(x, gast.Name) and x.id == n for x in astutil.nodes(st)):
            return False
    return False


def _simple_value(tree, n, parsed):
    """Whether ``n`` is computed by an operation whose result is an array (not a
    tuple): arithmetic, or a function of NumPy's or ``sourcegrad.ops``'s top level
    (whatever name the module goes by in the user's code)."""
    for s in tree.body:
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                and s.targets[0].id == n:
            v = s.value
            if isinstance(v, (gast.BinOp, gast.UnaryOp)):
                return True
            if not (isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute)):
                return False
            module = parsed.denotes(v.func.value, param_names(tree))
            return module is np or module is sys.modules.get("sourcegrad.ops")
    return False
