"""Stage 4 -- which names carry gradient.

A name is *varied* if its value depends on a differentiated input (or, when
``weights`` are asked for, on a value that may be a Parameter: attribute
reads, Parameter globals, calls into user code).  It is *useful* if it
reaches a seeded output.  *Active* = varied and useful; only active names
get adjoints.  Comparisons, integer-valued and shape values, and the results
of non-differentiable functions -- ``stop_gradient`` among them -- are never
varied: that is how ``stop_gradient`` cuts the flow, statically.

The analysis is flow-insensitive over names (iterated to a fixed point), which
is exact for the renamed straight-line code and conservative in loops.
"""
from __future__ import annotations


import gast

from sourcegrad import astutil, refusals
from sourcegrad.astutil import statement_list
from sourcegrad.astutil import statements  # noqa: F401  (the stages import it from here)
from sourcegrad.normalize import OPAQUE, OPAQUE_NAMES
from sourcegrad.annotations import getanno
from sourcegrad.tensor import Parameter

# attributes whose values never carry gradient
INACTIVE_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides",
                  "__class__"}
# operators whose results never carry gradient
_INACTIVE_BINOPS = (gast.FloorDiv, gast.BitAnd, gast.BitOr, gast.BitXor,
                    gast.LShift, gast.RShift)


def _is_parameter(obj) -> bool:
    if isinstance(obj, Parameter):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_is_parameter(o) for o in obj)
    return False


class Activity:
    """Result of the analysis: ``varied``, ``useful`` and ``active`` name sets."""

    def __init__(self, varied, useful):
        self.varied = varied
        self.useful = useful
        self.active = varied & useful

    def __contains__(self, name):
        return name in self.active




def analyse(tree, parsed, active_params, seeds, weights: bool, callee_of, local,
            weight_of=None) -> Activity:
    """Activity of every name in the normalized ``tree``.

    ``active_params``: parameter names differentiated.  ``seeds``: output names
    that are seeded.  ``callee_of(call)`` classifies a call (see reverse).
    ``local``: the names the function binds (its parameters among them).
    ``weight_of(x)``, with weights: whether ``x`` (an object a free name holds,
    or an ``Attribute`` node read from a known object, see ``pins``) is a
    weight whose gradient is asked for: True, False, or None (not known).
    """
    a = _Analysis(tree, parsed, active_params, weights, callee_of, local, weight_of)
    a.forward()
    a.refuse_opaque()
    useful = a.backward(set(n for n in seeds if n in a.varied))
    a.refuse_varied_callees(active_params, useful)
    return Activity(a.varied, useful)


class _Analysis:
    """The two fixed points of ``analyse``: forward (varied), then backward (useful)."""

    def __init__(self, tree, parsed, active_params, weights, callee_of, local,
                 weight_of=None):
        self.tree, self.parsed, self.weights, self.callee_of = tree, parsed, weights, callee_of
        self.weight_of = weight_of
        self.varied = set(active_params)
        if weights:  # Parameters read as free names (globals, closures)
            for n in astutil.nodes(tree):
                if isinstance(n, gast.Name) and n.id not in local:
                    obj = parsed.resolve(n.id)
                    known = weight_of(obj) if weight_of is not None else None
                    if known or known is None and _is_parameter(obj):
                        self.varied.add(n.id)

    def is_varied(self, atom):
        return atom.__class__ is gast.Name and atom.id in self.varied

    # -- forward: which values depend on a differentiated input -----------------------
    def value_varied(self, v):
        """Whether the value of expression ``v`` (one operation over atoms) is varied."""
        cls = v.__class__
        if cls is gast.Name or cls is gast.Constant:
            return self.is_varied(v)
        if cls is gast.BinOp:
            return not isinstance(v.op, _INACTIVE_BINOPS) and (
                self.is_varied(v.left) or self.is_varied(v.right))
        if cls is gast.UnaryOp:
            return isinstance(v.op, (gast.USub, gast.UAdd)) and self.is_varied(v.operand)
        if cls is gast.Attribute:
            return self.attribute_varied(v)
        if cls is gast.Subscript:
            return self.is_varied(v.value)
        if cls is gast.Tuple or cls is gast.List:
            return any(self.is_varied(e) for e in v.elts)
        if cls is gast.Call:
            return self.call_varied(v)
        return False  # comparisons among them

    def attribute_varied(self, v):
        if v.attr in INACTIVE_ATTRS:
            return False
        if isinstance(v.value, gast.Name) and v.value.id in self.varied:
            return True
        if self.weights and self.weight_of is not None:
            known = self.weight_of(v)  # a known object's attribute (pins)
            if known is not None:
                return known
        return self.weights and isinstance(v.value, gast.Name)  # maybe a Parameter

    def call_varied(self, v):
        kind, obj = self.callee_of(v)
        if kind == "nondiff":
            return False
        args = list(v.args) + [k.value for k in v.keywords]
        args = [a.value if isinstance(a, gast.Starred) else a for a in args]
        if isinstance(v.func, gast.Attribute) and isinstance(v.func.value, gast.Name):
            args.append(v.func.value)
        any_arg = any(self.is_varied(a) for a in args)
        if kind in ("user", "dynamic"):  # may read Parameters of its own
            return any_arg or self.weights
        return any_arg

    def forward(self):
        changed = True
        while changed:
            changed = False
            for s in statement_list(self.tree.body):
                if s.__class__ is not gast.Assign:
                    continue
                t = s.targets[0]
                if t.__class__ is gast.Name:
                    if t.id not in self.varied and self.value_varied(s.value):
                        self.varied.add(t.id)
                        changed = True
                elif isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                    if t.value.id not in self.varied and self.is_varied(s.value):
                        self.varied.add(t.value.id)
                        changed = True

    def refuse_opaque(self):
        """Constructs normalization leaves whole (see ``normalize.OPAQUE``) must not
        carry gradient."""
        for s in statement_list(self.tree.body):
            cls = s.__class__
            if cls is gast.Assign and isinstance(s.value, OPAQUE):
                _refuse_if_varied(s, s.value, self.varied, self.parsed)
            elif (cls is gast.Assign or cls is gast.Expr) and not _over_atoms(s.value):
                for n in astutil.node_list(s.value):
                    if isinstance(n, OPAQUE):
                        _refuse_if_varied(s, n, self.varied, self.parsed)

    def refuse_varied_callees(self, active_params, useful):
        """A call of a function value computed from a differentiated input (``g =
        make(w); y = g(x)``, ``make`` from another module or returning something other
        than one nested function) would lose the gradient through the values the
        function closes over: refused where its result reaches the output."""
        calls = [s for s in statement_list(self.tree.body) if s.__class__ is gast.Assign
                 and s.targets[0].__class__ is gast.Name and s.targets[0].id in useful
                 and s.value.__class__ is gast.Call and s.value.func.__class__ is gast.Name
                 and s.value.func.id in self.varied]
        if not calls or (self.parsed.filename or "").startswith("<sourcegrad"):
            return  # (a derivative differentiated again calls the vjp functions it saved)
        varied = self.varied
        if self.weights:  # only what depends on the differentiated inputs themselves
            inputs = _Analysis(self.tree, self.parsed, active_params, False, self.callee_of,
                               ())  # (no weights: weight_of is not asked)
            inputs.forward()
            varied = inputs.varied
        for s in calls:
            if s.value.func.id in varied and self.callee_of(s.value)[0] == "dynamic":
                refusals.use(
                    self.parsed, getanno(s, "origin") or s,
                    "call of a function made from a differentiated value",
                    detail=f"{s.value.func.id!r} is a function computed from a "
                           "differentiated value (a closure returned by a helper of "
                           "another module, or one of several functions); the gradient "
                           "through the values it closes over would be lost",
                    hint="define the function that makes the closure in the same module "
                         "as the differentiated function, returning one nested function "
                         "or lambda (inlined where it is called), or pass the values it "
                         "reads as arguments")

    # -- backward: which varied values reach a seeded output ----------------------------
    def backward(self, useful):
        # what each assignment reads, last first: usefulness flows backwards, so a
        # straight-line function settles in one sweep (loops may take more)
        flows = []  # (bound name, whether the whole name is bound, the values it reads)
        for s in statement_list(self.tree.body):
            if s.__class__ is gast.Assign:
                t = s.targets[0]
                if t.__class__ is gast.Name:
                    flows.append((t.id, True, _operands(s.value)))
                elif isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                    flows.append((t.value.id, False, [s.value]))
        flows.reverse()
        changed = True
        while changed:
            changed = False
            for target, whole, srcs in flows:
                if target not in useful or whole and target not in self.varied:
                    continue
                for a in srcs:
                    if a.__class__ is gast.Name and a.id in self.varied and a.id not in useful:
                        useful.add(a.id)
                        changed = True
        return useful


_ATOMS = (gast.Name, gast.Constant)


def _over_atoms(v):
    """Whether ``v`` is an atom or one arithmetic operation or call over atoms (then
    none of ``OPAQUE`` is in it): most of a normalized function's values."""
    cls = v.__class__
    if cls in _ATOMS:
        return True
    if cls is gast.BinOp:
        return v.left.__class__ in _ATOMS and v.right.__class__ in _ATOMS
    if cls is gast.UnaryOp:
        return v.operand.__class__ in _ATOMS
    if cls is gast.Call:
        f = v.func
        return (f.__class__ is gast.Name or f.__class__ is gast.Attribute
                and f.value.__class__ is gast.Name) \
            and all(a.__class__ in _ATOMS for a in v.args) \
            and all(k.value.__class__ in _ATOMS for k in v.keywords)
    return False


def _operands(v):
    """The atoms an operation reads (a call's arguments and its method's owner)."""
    cls = v.__class__
    if cls is gast.Name:
        return [v]
    if cls is gast.BinOp and v.left.__class__ in _ATOMS and v.right.__class__ in _ATOMS:
        return [v.left, v.right]  # (the names among them: what name_list lists)
    if cls is gast.Call:
        out = [a.value if a.__class__ is gast.Starred else a for a in v.args]
        out += [k.value for k in v.keywords]
        if v.func.__class__ is gast.Attribute:
            out.append(v.func.value)
        return out
    if cls is gast.Attribute or cls is gast.Subscript:
        return [v.value]
    return astutil.name_list(v)


def _refuse_if_varied(stmt, node, varied, parsed):
    if isinstance(node, gast.JoinedStr):
        return  # a string: nothing flows through it (as through str(x))
    inner = {n.id for n in astutil.name_nodes(node) if isinstance(n.ctx, gast.Store)}
    if isinstance(node, gast.Lambda):
        inner |= {a.id for a in node.args.args}
    # x.shape, x.ndim, ... read no gradient even where x carries it
    metadata = {id(n.value) for n in astutil.nodes(node) if isinstance(n, gast.Attribute)
                and n.attr in INACTIVE_ATTRS and isinstance(n.value, gast.Name)}
    carried = sorted(n.id for n in astutil.name_nodes(node)
                     if isinstance(n.ctx, gast.Load) and n.id in varied and n.id not in inner
                     and id(n) not in metadata)
    if carried:
        what = OPAQUE_NAMES[type(node)]
        origin = getanno(stmt, "origin") or node
        nested = getanno(node, "nested_name")
        construct = f"{what} over a differentiated value" if nested is None else \
            f"nested function {nested!r} used as a value"
        refusals.use(
            parsed, origin, construct,
            detail=f"{what}s are supported only where no gradient flows through them, "
                   f"but this one reads {', '.join(carried)}" if nested is None else
                   f"a nested function passed on (to sorted, map, sg.grad, ...) may not "
                   f"read a differentiated value, but this one reads {', '.join(carried)}",
            hint=_NESTED_HINT if nested is not None else _OPAQUE_HINTS.get(
                type(node), "use a for loop (appending to a list) or an array operation"))


_NESTED_HINT = ("call it in place; to pass it to a helper (or to sg.grad), define it at "
                "module level and pass the values it reads as arguments")


_OPAQUE_HINTS = {
    gast.Lambda: "bind the lambda to a name and call it in place (or through map()); to "
                 "pass a function to a helper, define it at module level and pass the "
                 "values it reads as arguments",
    gast.GeneratorExp: "pass it to a function that consumes it whole (sum, max, list, "
                       "np.stack) or use a for loop",
}


__all__ = ["analyse", "Activity", "INACTIVE_ATTRS"]
