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

from sourcegrad import astutil
from sourcegrad.astutil import statements  # noqa: F401  (the stages import it from here)
from sourcegrad.errors import UnsupportedSyntaxError
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




def analyse(tree, parsed, active_params, seeds, weights: bool, callee_of, local) -> Activity:
    """Activity of every name in the normalized ``tree``.

    ``active_params``: parameter names differentiated.  ``seeds``: output names
    that are seeded.  ``callee_of(call)`` classifies a call (see reverse).
    ``local``: the names the function binds (its parameters among them).
    """

    varied = set(active_params)
    if weights:
        for n in astutil.walk(tree):
            if isinstance(n, gast.Name) and n.id not in local:
                if _is_parameter(parsed.resolve(n.id)):
                    varied.add(n.id)

    def is_varied(atom):
        return isinstance(atom, gast.Name) and atom.id in varied

    def value_varied(v):
        if isinstance(v, (gast.Name, gast.Constant)):
            return is_varied(v)
        if isinstance(v, gast.BinOp):
            if isinstance(v.op, _INACTIVE_BINOPS):
                return False
            return is_varied(v.left) or is_varied(v.right)
        if isinstance(v, gast.UnaryOp):
            return isinstance(v.op, (gast.USub, gast.UAdd)) and is_varied(v.operand)
        if isinstance(v, gast.Compare):
            return False
        if isinstance(v, gast.Attribute):
            if v.attr in INACTIVE_ATTRS:
                return False
            if isinstance(v.value, gast.Name) and v.value.id in varied:
                return True
            return weights and isinstance(v.value, gast.Name)
        if isinstance(v, gast.Subscript):
            return is_varied(v.value)
        if isinstance(v, (gast.Tuple, gast.List)):
            return any(is_varied(e) for e in v.elts)
        if isinstance(v, gast.Call):
            kind, obj = callee_of(v)
            if kind == "nondiff":
                return False
            args = list(v.args) + [k.value for k in v.keywords]
            args = [a.value if isinstance(a, gast.Starred) else a for a in args]
            if isinstance(v.func, gast.Attribute) and isinstance(v.func.value, gast.Name):
                args.append(v.func.value)
            any_arg = any(is_varied(a) for a in args)
            if kind in ("user", "dynamic"):
                return any_arg or weights
            return any_arg
        return False

    changed = True
    while changed:
        changed = False
        for s in statements(tree.body):
            if isinstance(s, gast.Assign):
                t = s.targets[0]
                if isinstance(t, gast.Name):
                    if t.id not in varied and value_varied(s.value):
                        varied.add(t.id)
                        changed = True
                elif isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                    if t.value.id not in varied and is_varied(s.value):
                        varied.add(t.value.id)
                        changed = True

    for s in statements(tree.body):
        if isinstance(s, gast.Assign) and isinstance(s.value, OPAQUE):
            _refuse_if_varied(s, s.value, varied, parsed)
        elif isinstance(s, (gast.Assign, gast.Expr)):
            for n in astutil.walk(s.value):
                if isinstance(n, OPAQUE):
                    _refuse_if_varied(s, n, varied, parsed)

    useful = set(n for n in seeds if n in varied)

    def operands(v):
        if isinstance(v, gast.Name):
            return [v]
        if isinstance(v, gast.Call):
            out = [a.value if isinstance(a, gast.Starred) else a for a in v.args]
            out += [k.value for k in v.keywords]
            if isinstance(v.func, gast.Attribute):
                out.append(v.func.value)
            return out
        if isinstance(v, gast.Attribute):
            return [v.value]
        if isinstance(v, gast.Subscript):
            return [v.value]
        return list(astutil.name_nodes(v))

    # what each assignment reads, last first: usefulness flows backwards, so a
    # straight-line function settles in one sweep (loops may take more)
    flows = []  # (bound name, whether the whole name is bound, the values it reads)
    for s in statements(tree.body):
        if isinstance(s, gast.Assign):
            t = s.targets[0]
            if isinstance(t, gast.Name):
                flows.append((t.id, True, operands(s.value)))
            elif isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                flows.append((t.value.id, False, [s.value]))
    flows.reverse()
    changed = True
    while changed:
        changed = False
        for target, whole, srcs in flows:
            if target not in useful or whole and target not in varied:
                continue
            for a in srcs:
                if isinstance(a, gast.Name) and a.id in varied and a.id not in useful:
                    useful.add(a.id)
                    changed = True
    return Activity(varied, useful)


def _refuse_if_varied(stmt, node, varied, parsed):
    inner = {n.id for n in astutil.name_nodes(node) if isinstance(n.ctx, gast.Store)}
    if isinstance(node, gast.Lambda):
        inner |= {a.id for a in node.args.args}
    # x.shape, x.ndim, ... read no gradient even where x carries it
    metadata = {id(n.value) for n in astutil.walk(node) if isinstance(n, gast.Attribute)
                and n.attr in INACTIVE_ATTRS and isinstance(n.value, gast.Name)}
    carried = sorted(n.id for n in astutil.name_nodes(node)
                     if isinstance(n.ctx, gast.Load) and n.id in varied and n.id not in inner
                     and id(n) not in metadata)
    if carried:
        what = OPAQUE_NAMES[type(node)]
        origin = getanno(stmt, "origin") or node
        raise UnsupportedSyntaxError(
            f"{what} over a differentiated value",
            detail=f"{what}s are supported only where no gradient flows through them, "
                   f"but this one reads {', '.join(carried)}",
            hint=_OPAQUE_HINTS.get(type(node), "use a for loop (appending to a list) or an "
                                                "array operation"),
            **parsed.where(origin))


_OPAQUE_HINTS = {
    gast.Lambda: "bind the lambda to a name and call it in place (or through map()); to "
                 "pass a function to a helper, define it at module level and pass the "
                 "values it reads as arguments",
    gast.GeneratorExp: "pass it to a function that consumes it whole (sum, max, list, "
                       "np.stack) or use a for loop",
}


__all__ = ["analyse", "Activity", "INACTIVE_ATTRS"]
