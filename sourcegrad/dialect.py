"""The Numba dialect: the same derivative, in the forms Numba's ``njit`` compiles.

A pass from tree to tree, run by ``codegen.module_text`` just before printing
(``sourcegrad.jit`` is its only user).  Each rewrite keeps the values exactly:

* ``a.sum(axis=k, keepdims=True)``, ``np.max(a, axis=k)`` and the other
  reductions over one axis that Numba lacks become ``_sg_jit.sum_keep(a, k)``,
  ``_sg_jit.max_drop(a, k)``, ... (``sourcegrad._jitlib``);
* ``np.multiply.outer(a, b)`` becomes ``_sg_jit.outer(a, b)``, ``a @ b``
  ``_sg_jit.matmul(a, b)`` and ``np.where(c, x, y)`` ``_sg_jit.where(c, x, y)``
  (compiled once per machine, not into each function);
* ``np.expand_dims(a, (j, k))`` becomes one ``expand_dims`` per axis;
* ``np.fmax(np.heaviside(a, h), 0.0)`` (Numba has no ``heaviside``) becomes
  ``np.where(a > 0, 1.0, np.where(a == 0, h, 0.0))``;
* ``for i in reversed(range(...))`` becomes a ``range`` with step -1;
* the one stack of saved values (``stack.append(h)`` ... ``h = stack.pop()``)
  becomes one list per saved name, so each list holds values of one type;
* ``np.tanh(a)`` and the other transcendental functions of ``_jitlib.SIMD_UFUNCS``
  become ``_sg_jit.tanh(a)``: NumPy's own SIMD kernel on a large float64 array;
* a function computed elementwise from float64 arrays of one shape becomes one
  loop over the elements (``fuse_elementwise``, when the shapes are known);
* calls of the runtime helpers that have a Numba version (``roles``: the
  name the derivative calls them by -> the helper in ``sourcegrad._jitlib``)
  call that version; ``_minmax_grad`` with a constant axis becomes
  ``_sg_jit.minmax_grad_keep``.

What it does not know stays as it is; Numba then refuses it, and
``sourcegrad.jit`` says which line and runs the NumPy derivative instead.
"""
from __future__ import annotations

import gast
import numpy as np

from sourcegrad.astutil import NodeTransformer, copy_tree, name_nodes, statements
from sourcegrad.reverse import note_stmt

LIB = "_sg_jit"  # the module name the dialect calls its helpers by

_REDUCTIONS = {("sum", True): "sum_keep", ("sum", False): "sum_drop",
               ("mean", True): "mean_keep", ("mean", False): "mean_drop",
               ("max", True): "max_keep", ("max", False): "max_drop",
               ("amax", True): "max_keep", ("amax", False): "max_drop",
               ("min", True): "min_keep", ("min", False): "min_drop",
               ("amin", True): "min_keep", ("amin", False): "min_drop"}
# reductions Numba has itself: left alone (its sum over an axis is slower than the
# helper's loops, so every reduction over one axis goes to the helpers)
_NATIVE = set()
# (as _jitlib.SIMD_UFUNCS, which imports Numba)
_SIMD_UFUNCS = ("sin", "cos", "tan", "tanh", "sinh", "cosh", "exp", "expm1", "log",
                "log1p", "arctan")


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _attr(value, attr):
    return gast.Attribute(value=value, attr=attr, ctx=gast.Load())


def _call(func, *args):
    return gast.Call(func=func, args=list(args), keywords=[])


def _const(v):
    return gast.Constant(value=v, kind=None)


def _int(node):
    """The int a constant (or a negated constant) stands for, else None."""
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _int(node.operand)
        return None if inner is None else -inner
    return None


def _is_np(node, *attrs):
    return isinstance(node, gast.Attribute) and node.attr in attrs and \
        isinstance(node.value, gast.Name) and node.value.id == "np"


class _Lower(NodeTransformer):
    def __init__(self, roles, simd=True, taken=None):
        self.roles = roles
        self.simd = simd  # np.tanh(a) -> _sg_jit.tanh(a) (NumPy's kernel on large arrays)
        self.taken = taken  # the names in use (new ones are made fresh against them)

    def lib(self, helper, *args):
        return _call(_attr(_name(LIB), helper), *args)

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        # np.multiply.outer(a, b): _jitlib's (np.outer compiles for seconds into each function)
        if isinstance(f, gast.Attribute) and f.attr == "outer" and _is_np(f.value, "multiply") \
                and len(node.args) == 2 and not node.keywords:
            return self.lib("outer", *node.args)
        # np.expand_dims(a, (j, k)): one int axis at a time (ascending, as NumPy places them)
        if _is_np(f, "expand_dims") and len(node.args) == 2 and not node.keywords \
                and isinstance(node.args[1], gast.Tuple):
            axes = [_int(e) for e in node.args[1].elts]
            if axes and None not in axes and min(axes) >= 0:
                out = node.args[0]
                for k in sorted(axes):
                    out = _call(_attr(_name("np"), "expand_dims"), out, _const(k))
                return out
        lowered = self.reduction(node) or _step(node)
        if lowered is not None:
            return lowered
        # np.where(c, x, y): _jitlib's, compiled once per machine (cache=True)
        if _is_np(f, "where") and len(node.args) == 3 and not node.keywords:
            return self.lib("where", *node.args)
        # np.tanh(a) on a large array: NumPy's SIMD kernel (``_jitlib.SIMD_UFUNCS``)
        if self.simd and _is_np(f, *_SIMD_UFUNCS) and len(node.args) == 1 and not node.keywords:
            return self.lib(f.attr, node.args[0])
        if isinstance(f, gast.Name) and f.id in self.roles:
            return self.helper(node, self.roles[f.id])
        if isinstance(f, gast.Attribute) and self.roles:
            name = dotted(f)
            if name in self.roles:
                return self.helper(node, self.roles[name])
        return node

    def reduction(self, node):
        """``np.sum(a, axis=k, keepdims=b)`` / ``a.max(axis=k)``: a helper call, or None."""
        f = node.func
        if not isinstance(f, gast.Attribute) or f.attr not in {k for k, _ in _REDUCTIONS}:
            return None
        if _is_np(f, f.attr):
            if not node.args:
                return None
            array, rest = node.args[0], node.args[1:]
        elif f.attr in ("sum", "mean", "max", "min"):  # a method
            array, rest = f.value, node.args
        else:
            return None
        kw = {k.arg: k.value for k in node.keywords}
        if None in kw or set(kw) - {"axis", "keepdims"} or len(rest) > 1:
            return None
        axis = kw.get("axis", rest[0] if rest else None)
        if axis is None or isinstance(axis, gast.Constant) and axis.value is None:
            return None  # over every element: Numba has it
        k = _int(axis)
        keep = kw.get("keepdims", _const(False))
        if k is None or not isinstance(keep, gast.Constant) or type(keep.value) is not bool:
            return None
        if (f.attr, keep.value) in _NATIVE:
            return None
        return self.lib(_REDUCTIONS[f.attr, keep.value], array, _const(k))

    def helper(self, node, role):
        if role == "minmax_grad":
            args = list(node.args) + [k.value for k in node.keywords]
            if node.keywords or len(args) not in (3, 4, 5):
                return node
            if len(args) == 3:
                return self.lib("minmax_grad_all", *args)
            dz, z, a, axis, keep = args if len(args) == 5 else args + [_const(False)]
            k = _int(axis)
            if isinstance(axis, gast.Constant) and axis.value is None:
                return self.lib("minmax_grad_all", dz, z, a)
            if k is None or not isinstance(keep, gast.Constant):
                return node
            if not keep.value:
                dz = self.lib("expand", dz, _const(k))
                z = self.lib("expand", z, _const(k))
            return self.lib("minmax_grad_keep", dz, z, a, _const(k))
        if role == "sum_grad":
            args = list(node.args) + [k.value for k in node.keywords]
            if len(args) >= 2 and all(isinstance(e, gast.Constant) and e.value in (None, False)
                                      for e in args[2:4]) and len(args) <= 4:
                return self.lib("sum_grad_all", args[0], args[1])
            if len(args) == 4 and not node.keywords and isinstance(args[3], gast.Constant) \
                    and args[3].value is False:  # over one axis, not kept (an int)
                return self.lib("sum_grad_axis", *args[:3])
            return node
        node.func = _attr(_name(LIB), role)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.MatMult):
            return self.lib("matmul", node.left, node.right)
        return node

    def visit_For(self, node):
        self.generic_visit(node)
        it = node.iter
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) \
                and it.func.id == "reversed" and len(it.args) == 1 and not it.keywords:
            inner = it.args[0]
            if isinstance(inner, gast.Call) and isinstance(inner.func, gast.Name) \
                    and inner.func.id == "range" and not inner.keywords \
                    and len(inner.args) in (1, 2):
                start, stop = (_const(0), inner.args[0]) if len(inner.args) == 1 \
                    else inner.args
                node.iter = _call(_name("range"), _minus_one(stop), _minus_one(start),
                                  _const(-1))
                return node
            # reversed(steps) / reversed(steps[:trips]): the iterations a loop ran
            # (a range, list or array Numba cannot reverse), replayed by index
            seq, count = inner, None
            if isinstance(inner, gast.Subscript) and isinstance(inner.slice, gast.Slice) \
                    and inner.slice.lower is None and inner.slice.step is None \
                    and inner.slice.upper is not None:
                seq, count = inner.value, inner.slice.upper
            if isinstance(seq, gast.Name) and self.taken is not None:
                k = _fresh_name("k", self.taken)
                count = count or _call(_name("len"), _name(seq.id))
                node.iter = _call(_name("range"), _minus_one(count), _const(-1), _const(-1))
                if {n.id for n in name_nodes(node.target)} & _loads(node):
                    node.body.insert(0, gast.Assign(targets=[node.target],
                                                    value=self.lib("item", _name(seq.id),
                                                                   _name(k)),
                                                    type_comment=None))
                node.target = _name(k, gast.Store())
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if isinstance(node.test, gast.NamedExpr):
            # ``elif (c := test):`` (Numba mistypes the walrus): ``c = test`` first
            named = node.test
            node.test = _name(named.target.id)
            return [gast.Assign(targets=[_name(named.target.id, gast.Store())],
                                value=named.value, type_comment=None), node]
        return node


def _step(node):
    """``np.fmax(np.heaviside(a, h), 0.0)`` (the step ``optimize.specialize`` writes for
    ``maximum``'s tie-splitting adjoint; Numba has no ``heaviside``) as the same
    numbers from ``np.where``, or None."""
    f = node.func
    if not (_is_np(f, "fmax") and len(node.args) == 2 and not node.keywords):
        return None
    inner, zero = node.args
    if not (isinstance(zero, gast.Constant) and zero.value == 0.0 and type(zero.value) is float
            and isinstance(inner, gast.Call) and _is_np(inner.func, "heaviside")
            and len(inner.args) == 2 and not inner.keywords):
        return None
    a, h = inner.args

    def compare(op, operand):
        return gast.Compare(left=operand, ops=[op], comparators=[_const(0)])
    np_where = _attr(_name("np"), "where")
    return _call(np_where, compare(gast.Gt(), a), _const(1.0),
                 _call(np_where, compare(gast.Eq(), copy_tree(a)), h, _const(0.0)))


def dotted(node):
    """``"ops.matmul"`` for the expression ``ops.matmul``, else None."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    return ".".join([node.id] + parts[::-1])


def _minus_one(e):
    if isinstance(e, gast.Constant) and type(e.value) is int:
        return _const(e.value - 1)
    return gast.BinOp(left=e, op=gast.Sub(), right=_const(1))


def _split_stacks(fdef):
    """One list per saved name in place of a shared stack of saved values.

    A stack is a name bound once to ``[]`` and otherwise used only as
    ``S.append(n)`` and ``n = S.pop()``; every pop takes back the value its
    matching push saved, so a list per name gives each name its values back in
    the same order.
    """
    bound_empty, uses = {}, {}
    for st in statements(fdef.body):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name):
            v = st.value
            if isinstance(v, gast.List) and not v.elts:
                bound_empty.setdefault(st.targets[0].id, []).append(st)
                continue
            if _pop_of(v) is not None:
                uses.setdefault(_pop_of(v), []).append((st, st.targets[0].id))
                continue
        if isinstance(st, gast.Expr) and _append_of(st.value) is not None:
            stack, item = _append_of(st.value)
            if isinstance(item, gast.Name):
                uses.setdefault(stack, []).append((st, item.id))
    counted, taken = {}, set()  # how often each name occurs; every name
    for n in name_nodes(fdef):
        counted[n.id] = counted.get(n.id, 0) + 1
        taken.add(n.id)
    swap = {}
    for s, pushes_pops in uses.items():
        # bound once to [], and read nowhere but in its pushes and pops
        if len(bound_empty.get(s, ())) != 1 or counted.get(s, 0) != 1 + len(pushes_pops):
            continue
        per = {}
        for st, item in pushes_pops:
            if item not in per:
                new = f"{s}_{item}"
                while new in taken:
                    new += "_"
                taken.add(new)
                per[item] = new
            st.value.func.value.id = per[item]
        init = bound_empty[s][0]
        swap[id(init)] = [gast.Assign(targets=[_name(n, gast.Store())],
                                      value=gast.List(elts=[], ctx=gast.Load()),
                                      type_comment=None) for n in per.values()]
    if swap:
        _replace(fdef.body, swap)
    return fdef


# builtins that raise on None, as NumPy's functions do: a call of one cannot tell
# UNSET from None without failing on the NumPy side too
_NONE_RAISES = frozenset({"len", "range", "reversed", "enumerate", "zip", "float", "int"})


def _unset_names(fdef):
    """``name = None`` where ``name`` is a saved value (pushed on a stack of saved
    values) bound to other values too -- its value before its first assignment,
    saved and restored: ``result = None`` before an early ``return``, ``row = None``
    before a loop -- becomes ``name = _sg_jit.UNSET``, which Numba types as the
    name's other values (``_jitlib.UNSET``).  Only where no code could tell None
    apart: the name is never compared with None, and every call it is passed to
    directly is a push, a NumPy function, one of ``_jitlib``'s or a builtin that
    raises on None (``_NONE_RAISES``)."""
    nones, others, tested, pushed, passed = [], set(), set(), set(), set()
    for node in gast.walk(fdef):
        if isinstance(node, gast.Assign):
            for t in node.targets:
                for n in name_nodes(t):
                    if isinstance(t, gast.Name) and isinstance(node.value, gast.Constant) \
                            and node.value.value is None:
                        nones.append(node)
                    else:
                        others.add(n.id)
        elif isinstance(node, (gast.AugAssign, gast.For)):
            others |= {n.id for n in name_nodes(node.target)}
        elif isinstance(node, gast.NamedExpr):
            others.add(node.target.id)
        elif isinstance(node, gast.Compare) and any(
                isinstance(e, gast.Constant) and e.value is None
                for e in [node.left] + node.comparators):
            tested |= {n.id for e in [node.left] + node.comparators for n in name_nodes(e)}
        elif isinstance(node, gast.Call):
            args = [a.id for a in node.args + [k.value for k in node.keywords]
                    if isinstance(a, gast.Name)]
            if _append_of(node) is not None:
                pushed |= set(args)
                continue
            f = dotted(node.func) or ""
            if not (f.startswith("np.") or f.startswith(LIB + ".") or f in _NONE_RAISES):
                passed |= set(args)
    params = {a.id for a in fdef.args.args + fdef.args.kwonlyargs}
    for st in nones:
        t = st.targets[0].id
        if t in pushed and t in others and not ({t} & (tested | passed | params)):
            st.value = _attr(_name(LIB), "UNSET")
    return fdef


def _replace(body, swap):
    """Put each statement ``swap`` names (by id) in place of that statement, at any depth."""
    body[:] = [new for st in body for new in swap.get(id(st), [st])]
    for st in body:
        for field_ in ("body", "orelse", "finalbody"):
            inner = getattr(st, field_, None)
            if isinstance(inner, list):
                _replace(inner, swap)


def _pop_of(v):
    if isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute) and v.func.attr == "pop" \
            and isinstance(v.func.value, gast.Name) and not v.args and not v.keywords:
        return v.func.value.id
    return None


def _append_of(v):
    if isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute) \
            and v.func.attr == "append" and isinstance(v.func.value, gast.Name) \
            and len(v.args) == 1 and not v.keywords:
        return v.func.value.id, v.args[0]
    return None


# NumPy's elementwise functions of one float that a fused loop computes per element
_FUSED_UFUNCS = frozenset({
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
    "cbrt", "square", "abs", "absolute", "negative", "reciprocal"})
_FUSED_OPS = (gast.Add, gast.Sub, gast.Mult, gast.Div)


def _elementwise(e, kinds):
    """``"array"`` when ``e`` computes elementwise from the arrays of ``kinds`` (name ->
    ``"array"`` or ``"scalar"``), ``"scalar"`` when from scalars only, else None."""
    cls = e.__class__
    if cls is gast.Constant:
        return "scalar" if type(e.value) in (int, float) else None
    if cls is gast.Name:
        return kinds.get(e.id)
    if cls is gast.UnaryOp:
        return _elementwise(e.operand, kinds) if isinstance(e.op, gast.USub) else None
    if cls is gast.BinOp:
        if isinstance(e.op, gast.Pow):  # a constant power: no complex results to mimic
            if not (isinstance(e.right, gast.Constant) and type(e.right.value) in (int, float)):
                return None
        elif not isinstance(e.op, _FUSED_OPS):
            return None
        parts = (_elementwise(e.left, kinds), _elementwise(e.right, kinds))
    elif cls is gast.Call and _is_np(e.func, *_FUSED_UFUNCS) and len(e.args) == 1 \
            and not e.keywords:
        parts = (_elementwise(e.args[0], kinds),)
    else:
        return None
    if None in parts:
        return None
    return "array" if "array" in parts else "scalar"


def _fresh_name(base, taken):
    out = base
    while out in taken:
        out += "_"
    taken.add(out)
    return out


def fuse_elementwise(fdef, shapes):
    """A function whose every statement computes elementwise from float64 arrays of one
    shape (and floats) becomes one loop over the elements, each value a float, each
    returned array written once: no temporary arrays (``sin = np.sin(x); dx = ...``
    over a million elements makes no million-element ``sin``).  ``shapes``: the
    parameters' ``shapes.Abstract``.  Anything else is returned as it was."""
    kinds = _parameter_kinds(fdef, shapes)
    if kinds is None:
        return fdef
    params = [p.id for p in fdef.args.args if kinds.get(p.id) == "array"]
    body, ret = fdef.body[:-1], fdef.body[-1] if fdef.body else None
    if not isinstance(ret, gast.Return) or ret.value is None:
        return fdef
    assigned = _elementwise_body(body, kinds)
    if assigned is None:
        return fdef
    outs = ret.value.elts if isinstance(ret.value, gast.Tuple) else [ret.value]
    if not outs or not all(isinstance(o, gast.Name) and o.id in assigned
                           and kinds[o.id] == "array" for o in outs) \
            or len({o.id for o in outs}) != len(outs):
        return fdef
    _write_loop(fdef, params, body, ret, outs)
    return fdef


def _parameter_kinds(fdef, shapes):
    """{parameter: "array" | "scalar"} when the array parameters are float64 of one
    shape (None otherwise, or when the signature has *args or keywords)."""
    kinds, shape = {}, None
    for p in fdef.args.args:
        a = shapes.get(p.id)
        if a is None:
            continue
        if a.kind == "array" and getattr(a.dtype, "name", None) == "float64" and a.shape:
            if shape is not None and a.shape != shape:
                return None
            shape, kinds[p.id] = a.shape, "array"
        elif a.kind == "float":
            kinds[p.id] = "scalar"
    if shape is None or fdef.args.vararg or fdef.args.kwonlyargs or fdef.args.kwarg:
        return None
    return kinds


def _elementwise_body(body, kinds):
    """The names ``body`` assigns, when every statement computes elementwise (``kinds``
    grows with each name's kind); None otherwise."""
    assigned = set()
    for st in body:
        if isinstance(st, gast.Expr) and isinstance(st.value, gast.Constant):
            continue  # a note (a comment line)
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and st.targets[0].id not in kinds:
            if isinstance(st.value, gast.Name):
                return None  # b = a shares a's array (a += ... changes b): not a float's copy
            kind = _elementwise(st.value, kinds)
            t = st.targets[0].id
        elif isinstance(st, gast.AugAssign) and isinstance(st.target, gast.Name) \
                and isinstance(st.op, _FUSED_OPS) and st.target.id in assigned:
            t = st.target.id
            kind = _elementwise(st.value, kinds)
            kind = kind and ("array" if "array" in (kind, kinds[t]) else "scalar")
            if kind != kinds[t]:
                return None  # a scalar that becomes an array: not one type in the loop
        else:
            return None
        if kind is None:
            return None
        kinds[t] = kind
        assigned.add(t)
    return assigned


def _write_loop(fdef, params, body, ret, outs):
    """``fdef``'s body as one loop over the elements (see ``fuse_elementwise``)."""
    taken = {n.id for n in name_nodes(fdef)}
    i = _fresh_name("i", taken)
    flat = {p: _fresh_name(p + "_flat", taken) for p in params}
    item = {p: _fresh_name(p + "_i", taken) for p in params}
    out = {o.id: _fresh_name(o.id + "_out", taken) for o in outs}
    size = _fresh_name("size", taken)
    loop_body = [gast.Assign(targets=[_name(item[p], gast.Store())],
                             value=gast.Subscript(value=_name(flat[p]), slice=_name(i),
                                                  ctx=gast.Load()), type_comment=None)
                 for p in params]
    for st in body:
        for n in name_nodes(st):
            if n.id in item:
                n.id = item[n.id]
        loop_body.append(st)
    loop_body += [gast.Assign(targets=[gast.Subscript(value=_name(out[o.id]), slice=_name(i),
                                                      ctx=gast.Store())],
                              value=_name(o.id), type_comment=None) for o in outs]
    first = params[0]
    head = [gast.Assign(targets=[_name(flat[p], gast.Store())],
                        value=_call(_attr(_name(p), "ravel")), type_comment=None)
            for p in params]
    head.append(gast.Assign(targets=[_name(size, gast.Store())],
                            value=_attr(_name(first), "size"), type_comment=None))
    head += [gast.Assign(targets=[_name(out[o.id], gast.Store())],
                         value=_call(_attr(_name("np"), "empty"), _name(size)),
                         type_comment=None) for o in outs]
    loop = gast.For(target=_name(i, gast.Store()),
                    iter=_call(_name("range"), _name(size)), body=loop_body, orelse=[],
                    type_comment=None)
    shaped = [_call(_attr(_name(out[o.id]), "reshape"), _attr(_name(first), "shape"))
              for o in outs]
    ret.value = gast.Tuple(elts=shaped, ctx=gast.Load()) \
        if isinstance(ret.value, gast.Tuple) else shaped[0]
    fdef.body = head + [loop, ret]


# the functions a fused loop computes with ``_jitlib``'s vectorisable versions
_VECTOR_KERNELS = {"exp": "vexp", "tanh": "vtanh", "sin": "vsin", "cos": "vcos"}
_NEEDS_RANGE = ("vsin", "vcos")  # exact below _jitlib.TRIG_RANGE only


def vector_kernels(fdef, exact_name):
    """In the loop of a fused ``fdef`` (``fuse_elementwise``): ``np.exp(a)``,
    ``np.tanh(a)``, ``np.sin(a)``, ``np.cos(a)`` become ``_sg_jit.vexp(a)``, ... --
    polynomials LLVM computes over SIMD lanes, where the C library's functions keep
    the loop one element at a time.  An argument of sin or cos beyond
    ``_jitlib.TRIG_RANGE`` sets a flag, ``far``, and the function then returns what
    ``exact_name`` (the same loop with the C library's functions) computes.
    Returns whether ``fdef`` calls ``exact_name``."""
    loop = fdef.body[-2]
    taken = {n.id for n in name_nodes(fdef)}
    flag = None
    body = []
    updated = {st.target.id for st in loop.body if isinstance(st, gast.AugAssign)}
    checked = set()  # names checked already (each bound once in the loop)
    for st in loop.body:
        checks = []
        for node in gast.walk(st):
            if isinstance(node, gast.Call) and _is_np(node.func, *_VECTOR_KERNELS) \
                    and len(node.args) == 1 and not node.keywords:
                kernel = _VECTOR_KERNELS[node.func.attr]
                node.func = _attr(_name(LIB), kernel)
                arg = node.args[0]
                if isinstance(arg, gast.Name) and arg.id not in updated:
                    if arg.id in checked:
                        continue
                    checked.add(arg.id)
                if kernel in _NEEDS_RANGE:
                    flag = flag or _fresh_name("far", taken)
                    checks.append(gast.AugAssign(
                        target=_name(flag, gast.Store()), op=gast.BitOr(),
                        value=_call(_attr(_name(LIB), "far"), copy_tree(node.args[0]))))
        body += checks + [st]
    loop.body = body
    if flag is None:
        return False
    args = [_name(a.id) for a in fdef.args.args]
    fdef.body[-2:-2] = [gast.Assign(targets=[_name(flag, gast.Store())],
                                    value=_const(False), type_comment=None)]
    fdef.body[-1:-1] = [gast.If(test=_name(flag), body=[
        note_stmt(f"sin or cos of a value beyond {_TRIG_RANGE_TEXT}: "
                  f"the C library's, in {exact_name}"),
        gast.Return(value=_call(_name(exact_name), *args))], orelse=[])]
    return True


_TRIG_RANGE_TEXT = "2**19 pi/2"  # (_jitlib.TRIG_RANGE, which imports Numba)


def numba_functions(fdef, roles=None, shapes=None):
    """``fdef`` in the Numba dialect, as a list of definitions: the function, and when
    its fused loop computes sin or cos with ``_jitlib``'s polynomials, the same loop
    with the C library's functions, which it calls for arguments beyond their range
    (``roles``: see the module doc; ``shapes``: the parameters' ``shapes.Abstract``
    when known, for the fused loop of ``fuse_elementwise``)."""
    fdef.decorator_list = []
    _positional_keywords(fdef)
    body = fdef.body
    if shapes:
        fdef = fuse_elementwise(fdef, shapes)
    defs = [fdef]
    if fdef.body is not body:
        taken = {n.id for n in name_nodes(fdef)} | {fdef.name}
        exact = copy_tree(fdef)
        exact.name = _fresh_name(fdef.name + "_libm", taken)
        if vector_kernels(fdef, exact.name):
            defs.append(exact)
    # a fused loop computes on floats: NumPy's array kernels have nothing to do there
    out = []
    for d in defs:
        taken = {n.id for n in name_nodes(d)} | {x.name for x in defs}
        d = _Lower(dict(roles or {}), simd=fdef.body is body, taken=taken).visit(d)
        out.append(_unset_names(_split_stacks(d)))
    return out


def _positional_keywords(fdef):
    """Keyword-only parameters as positional ones after the others (Numba binds no
    keyword-only parameter; a call passes them by keyword still, or by position as
    ``sourcegrad.jit`` does), when the defaults allow that order."""
    a = fdef.args
    if not a.kwonlyargs or a.vararg:
        return
    defaults = [None] * (len(a.args) - len(a.defaults)) + list(a.defaults) + list(a.kw_defaults)
    first = next((k for k, d in enumerate(defaults) if d is not None), len(defaults))
    if any(d is None for d in defaults[first:]):
        return  # a parameter without default after one with: not positional
    a.args = a.args + a.kwonlyargs
    a.defaults = defaults[first:]
    a.kwonlyargs, a.kw_defaults = [], []


def numba_dialect(roles=None, shapes=None):
    """The pass ``fdef -> fdef`` in the Numba dialect (the first definition of
    ``numba_functions``)."""
    return lambda fdef: numba_functions(fdef, roles, shapes)[0]


__all__ = ["numba_dialect", "numba_functions", "fuse_elementwise", "vector_kernels",
           "flatten_weights", "Unsupported", "dotted", "LIB"]


# --------------------------------------------------------------------------
# Cells and weights: one function of arrays
# --------------------------------------------------------------------------
# A gradient with ``weights=`` (a Cell's) calls the split derivatives of the methods
# it reaches (``Net_construct_fwd(model, x)`` ... ``Net_construct_bwd(saved, dz,
# weight_grads)``), reads Parameters through objects (``self.w``) and adds their
# gradients into a dict keyed by Parameter -- none of which Numba compiles.
# ``flatten_weights`` makes it one function of arrays: each call of a function of
# the same text inlined; each attribute read through an object a parameter of the
# function (an array or float, read by the caller on every call) or a constant
# (None, a string, a bool or an int, which the caller checks is unchanged);
# ``wants(weight_grads, p)`` decided (``p`` is a requested weight or not); and each
# ``add_weight_grad(weight_grads, p, g)`` a value the function returns, which the
# caller adds to ``p``'s gradient.

class Unsupported(Exception):
    """A form ``flatten_weights`` cannot make one function of arrays (the message says
    which); ``sourcegrad.jit`` runs the derivative uncompiled then."""


_LEAF_CONSTANTS = (type(None), str, bool, int)


def flatten_weights(main, defs, objects, value_of, wanted, acc_name="weight_grads"):
    """``main`` (the derivative, a FunctionDef) as one function of arrays.

    ``defs``: name -> FunctionDef of the functions of the same text it may call;
    ``objects``: the free names bound to objects (a Cell); ``value_of(chain)``: the
    value now of ``root.a.b`` for ``chain = (root, "a", "b")``; ``wanted(value)``:
    whether ``value`` is a requested weight.  Returns ``(fdef, reads, constants,
    added, decided)``: ``reads`` the (parameter, chain) pairs appended to the
    signature, ``constants`` the (chain, value) pairs written into the text, ``added``
    the chain of each weight gradient the function returns, in order (it returns
    ``(result, (g1, g2, ...))``), ``decided`` the (chain, wanted) pairs ``wants`` and
    ``add_weight_grad`` were decided by."""
    fdef = copy_tree(main)
    fdef.decorator_list = []
    taken = {n.id for n in name_nodes(fdef)} | set(defs) | {fdef.name}
    for d in defs.values():
        taken |= {n.id for n in name_nodes(d)}
    caller = {n.id for n in name_nodes(fdef) if isinstance(n.ctx, (gast.Store, gast.Param))}
    for d in defs.values():
        clash = caller & (_loads(d) - _stores(d))
        if clash:  # a global of a method's derivative that the caller binds itself
            raise Unsupported(f"`{sorted(clash)[0]}` is a local of the caller and a global "
                              f"of {d.name}")
    fdef.body = _inline_calls(fdef.body, defs, taken, 0)
    fdef.body = _forward_tuples(fdef.body, fdef)
    flat = _Objects(objects, value_of, wanted, taken, acc_name)
    fdef.body = flat.block(fdef.body)
    kw = [a for a in fdef.args.kwonlyargs if a.id == acc_name]
    if kw:
        i = fdef.args.kwonlyargs.index(kw[0])
        del fdef.args.kwonlyargs[i]
        del fdef.args.kw_defaults[i]
    if any(isinstance(n, gast.Name) and n.id == acc_name for n in gast.walk(fdef)):
        raise Unsupported(f"`{acc_name}` used other than by wants/add_weight_grad")
    for n in gast.walk(fdef):
        if isinstance(n, gast.Name) and n.id in objects:
            raise Unsupported(f"the object `{n.id}` used as a value (not an attribute read)")
    ret = fdef.body[-1] if fdef.body else None
    if not isinstance(ret, gast.Return) or any(
            isinstance(n, gast.Return) for st in fdef.body[:-1] for n in gast.walk(st)):
        raise Unsupported("a return before the end of the derivative")
    added = gast.Tuple(elts=[_name(n) for n, _ in flat.added], ctx=gast.Load())
    ret.value = gast.Tuple(elts=[ret.value or _const(None), added], ctx=gast.Load())
    fdef.args.args += [_name(p, gast.Param()) for p, _ in flat.reads]
    _propagate_copies(fdef)
    return (fdef, flat.reads, flat.constants, [c for _, c in flat.added], flat.decided)


def _loads(tree):
    return {n.id for n in name_nodes(tree) if isinstance(n.ctx, gast.Load)}


def _stores(tree):
    return {n.id for n in name_nodes(tree) if not isinstance(n.ctx, gast.Load)}


def _propagate_copies(fdef):
    """``a = b`` (or ``a = None``) at the top level, ``a`` and ``b`` each bound once:
    one name for both (what inlining leaves: a parameter bound to its argument, a
    returned value to its target) -- ``b`` when it is a parameter, else ``a``."""
    stores = {}
    for n in name_nodes(fdef):
        if isinstance(n.ctx, (gast.Store, gast.Del, gast.Param)):
            stores[n.id] = stores.get(n.id, 0) + 1
    params = {p.id for p in fdef.args.args + fdef.args.kwonlyargs}
    rename, body = {}, []

    def final(n):
        seen = set()
        while isinstance(n, str) and n in rename and n not in seen:
            seen.add(n)
            n = rename[n]
        return n
    for st in fdef.body:
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and stores[st.targets[0].id] == 1:
            t, v = st.targets[0].id, st.value
            if isinstance(v, gast.Name) and stores.get(v.id, 0) == 1:
                v = final(v.id)
                if isinstance(v, str) and v not in params:
                    if t.endswith("_") and not v.endswith("_"):
                        rename[t] = v  # (the caller's name, not one inlining made)
                    else:
                        rename[v] = t  # (the statement binding v binds t)
                    continue
            if isinstance(v, gast.Constant) or isinstance(v, str) and v in params:
                rename[t] = v
                continue
        body.append(st)
    if rename:
        rename = {k: final(k) for k in rename}
        holder = _Rename(rename).visit(gast.Module(body=body, type_ignores=[]))
        fdef.body = holder.body


def _call_of(st):
    """``(call, how)`` for ``t = F(...)``, ``t = F(...)[k]`` or ``F(...)``, else None."""
    if isinstance(st, gast.Expr) and isinstance(st.value, gast.Call):
        return st.value, None
    if isinstance(st, gast.Assign) and len(st.targets) == 1:
        v = st.value
        if isinstance(v, gast.Call):
            return v, ()
        if isinstance(v, gast.Subscript) and isinstance(v.value, gast.Call) \
                and _int(v.slice) is not None:
            return v.value, (_int(v.slice),)
    return None


def _inline_calls(body, defs, taken, depth):
    out = []
    for st in body:
        for field_ in ("body", "orelse"):
            inner = getattr(st, field_, None)
            if isinstance(inner, list) and inner and not isinstance(st, gast.FunctionDef):
                setattr(st, field_, _inline_calls(inner, defs, taken, depth))
        got = _call_of(st)
        f = got and got[0].func
        if not (isinstance(f, gast.Name) and f.id in defs):
            for n in gast.walk(st):
                if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) \
                        and n.func.id in defs:
                    raise Unsupported(f"a call of {n.func.id} inside an expression")
            out.append(st)
            continue
        if depth > 30:
            raise Unsupported(f"calls nested too deeply ({f.id})")
        call, how = got
        inlined, value = _inline_one(call, defs[f.id], taken)
        inlined = _inline_calls(inlined, defs, taken, depth + 1)
        out += inlined
        if how is None:  # F(...) as a statement: its value is not used
            if value is not None and any(isinstance(n, gast.Call) for n in gast.walk(value)):
                out.append(gast.Expr(value=value))
            continue
        if how:
            k = how[0]
            value = value.elts[k] if isinstance(value, gast.Tuple) and -len(value.elts) <= k \
                < len(value.elts) else gast.Subscript(value=value, slice=_const(k),
                                                      ctx=gast.Load())
        out += _assign(st.targets[0], value if value is not None else _const(None))
    return out


def _forward_tuples(body, fdef):
    """``a, b = saved`` where ``saved = (x, y)`` (a method's saved values, inlined)
    becomes ``a = x; b = y``, and ``saved`` goes when nothing else reads it: every name
    involved bound once in the function."""
    stores, loads = {}, {}
    for n in name_nodes(fdef):
        table = stores if isinstance(n.ctx, (gast.Store, gast.Del, gast.Param)) else loads
        table[n.id] = table.get(n.id, 0) + 1
    tuples = {}
    for st in body:
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and isinstance(st.value, gast.Tuple) \
                and stores.get(st.targets[0].id) == 1 \
                and all(isinstance(e, gast.Name) and stores.get(e.id, 0) <= 1
                        for e in st.value.elts):
            tuples[st.targets[0].id] = st
    out, used = [], {}
    for st in body:
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Tuple) and isinstance(st.value, gast.Name) \
                and st.value.id in tuples \
                and len(tuples[st.value.id].value.elts) == len(st.targets[0].elts):
            used[st.value.id] = used.get(st.value.id, 0) + 1
            out += _assign(st.targets[0], copy_tree(tuples[st.value.id].value))
            continue
        out.append(st)
    gone = {id(tuples[n]) for n, k in used.items() if k == loads.get(n, 0)}
    return [st for st in out if id(st) not in gone]


def _assign(target, value):
    """``target = value``, one assignment per element when both are tuples of one length
    and no target is read on the right."""
    if isinstance(target, gast.Tuple) and isinstance(value, gast.Tuple) \
            and len(target.elts) == len(value.elts):
        stores = {n.id for n in name_nodes(target)}
        if not stores & {n.id for n in name_nodes(value)}:
            out = []
            for t, v in zip(target.elts, value.elts):
                out += _assign(t, v)
            return out
    return [gast.Assign(targets=[target], value=value, type_comment=None)]


def _inline_one(call, callee, taken):
    """The statements of ``callee``'s body for ``call`` (names made fresh, parameters
    bound to the arguments) and the expression it returns (None: nothing)."""
    a = callee.args
    if a.vararg or a.kwarg or a.posonlyargs or any(d is not None for d in a.kw_defaults):
        raise Unsupported(f"the signature of {callee.name}")
    params = [p.id for p in a.args + a.kwonlyargs]
    bound = dict(zip([p.id for p in a.args], call.args))
    if len(call.args) > len(a.args):
        raise Unsupported(f"a call of {callee.name} with more arguments than it takes")
    for k in call.keywords:
        if k.arg not in params or k.arg in bound:
            raise Unsupported(f"a call of {callee.name} with keyword {k.arg}")
        bound[k.arg] = k.value
    defaults = dict(zip([p.id for p in a.args][len(a.args) - len(a.defaults):], a.defaults))
    body = copy_tree(callee.body)
    stored = {n.id for st in body for n in name_nodes(st)
              if isinstance(n.ctx, (gast.Store, gast.Del))}
    rename, head = {}, []
    for p in params:
        arg = bound.get(p, defaults.get(p))
        if arg is None:
            raise Unsupported(f"a call of {callee.name} without `{p}`")
        if p not in stored and isinstance(arg, gast.Name):
            rename[p] = arg.id
            continue
        if p not in stored and isinstance(arg, gast.Constant):
            rename[p] = arg
            continue
        rename[p] = _fresh_name(p, taken)
        head.append(gast.Assign(targets=[_name(rename[p], gast.Store())],
                                value=copy_tree(arg), type_comment=None))
    for n in stored:
        rename[n] = _fresh_name(n, taken)
    if body and isinstance(body[-1], gast.Return):
        value = body.pop().value
    else:
        value = None
    if any(isinstance(n, gast.Return) for st in body for n in gast.walk(st)):
        raise Unsupported(f"a return before the end of {callee.name}")
    holder = gast.Module(body=body + ([gast.Expr(value=value)] if value is not None else []),
                         type_ignores=[])
    holder = _Rename(rename).visit(holder)
    if value is not None:
        value = holder.body.pop().value
    return head + holder.body, value


class _Rename(NodeTransformer):
    def __init__(self, rename):
        self.rename = rename

    def visit_Name(self, node):
        new = self.rename.get(node.id)
        if new is None:
            return node
        if isinstance(new, str):
            node.id = new
            return node
        if isinstance(node.ctx, gast.Load):
            return copy_tree(new)
        return node


class _Objects:
    """Attribute reads through objects, ``wants`` and ``add_weight_grad`` (see
    ``flatten_weights``), statement by statement."""

    def __init__(self, objects, value_of, wanted, taken, acc_name):
        self.value_of, self.wanted, self.taken, self.acc = value_of, wanted, taken, acc_name
        self.chains = {n: (n,) for n in objects}  # name -> the object's chain
        self.leaf = {}       # name -> chain of the value it holds (a weight, maybe)
        self.reads, self.constants, self.added, self.decided = [], [], [], []
        self._read_names = {}  # chain -> parameter

    def block(self, body, top=True):
        out = []
        for st in body:
            out += self.statement(st, top)
        return out

    def statement(self, st, top):
        if isinstance(st, gast.If):
            st.test = self.expr(st.test)
            if isinstance(st.test, gast.Constant):
                return self.block(st.body if st.test.value else st.orelse, top)
            st.body = self.block(st.body, False)
            st.orelse = self.block(st.orelse, False)
            return [st]
        if isinstance(st, (gast.For, gast.While)):
            if isinstance(st, gast.For):
                st.iter = self.expr(st.iter)
            else:
                st.test = self.expr(st.test)
            st.body = self.block(st.body, False)
            st.orelse = self.block(st.orelse, False)
            return [st]
        if isinstance(st, gast.Expr) and isinstance(st.value, gast.Call) \
                and isinstance(st.value.func, gast.Name) \
                and st.value.func.id == "add_weight_grad":
            args = st.value.args
            if len(args) != 3 or not (isinstance(args[0], gast.Name) and args[0].id == self.acc):
                raise Unsupported("add_weight_grad with other arguments")
            chain = self.weight_chain(args[1])
            if not self.owner_wanted(chain):
                return []
            if not top:
                raise Unsupported("a weight's gradient added inside a loop or branch")
            name = _fresh_name("d" + "_".join(chain), self.taken)
            self.added.append((name, chain))
            return [gast.Assign(targets=[_name(name, gast.Store())],
                                value=self.expr(args[2]), type_comment=None)]
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name):
            t = st.targets[0].id
            chain = self.chain(st.value)
            if chain is not None and t not in self.chains:
                value = self.value_of(chain)
                if not _is_leaf(value):
                    self.chains[t] = chain  # an object: its reads resolved where they are
                    return []
                self.leaf[t] = chain
            elif isinstance(st.value, gast.Name) and st.value.id in self.leaf:
                self.leaf[t] = self.leaf[st.value.id]
        for field_ in ("body", "orelse", "finalbody", "handlers"):
            if getattr(st, field_, None):
                raise Unsupported(f"a {type(st).__name__} statement")
        return [self.expr(st)]

    def chain(self, e):
        """``(root, "a", ...)`` when ``e`` reads attributes of an object, else None."""
        attrs = []
        while isinstance(e, gast.Attribute):
            attrs.append(e.attr)
            e = e.value
        if isinstance(e, gast.Name) and e.id in self.chains and attrs:
            return self.chains[e.id] + tuple(reversed(attrs))
        return None

    def owner_wanted(self, chain):
        """Whether the value at ``chain`` is a requested weight (noted in ``decided``)."""
        wanted = bool(self.wanted(self.value_of(chain)))
        if (chain, wanted) not in self.decided:
            self.decided.append((chain, wanted))
        return wanted

    def weight_chain(self, e):
        if isinstance(e, gast.Name) and e.id in self.leaf:
            return self.leaf[e.id]
        chain = self.chain(e)
        if chain is None:
            raise Unsupported("a weight that is not an attribute of an object")
        return chain

    def expr(self, node):
        return _ReadAttributes(self).visit(node)

    def read(self, chain):
        """The expression standing for the leaf value at ``chain``."""
        value = self.value_of(chain)
        if not _is_leaf(value):
            raise Unsupported(f"the object {'.'.join(chain)} used as a value")
        if type(value) in _LEAF_CONSTANTS:
            if (chain, value) not in self.constants:
                self.constants.append((chain, value))
            return _const(value)
        name = self._read_names.get(chain)
        if name is None:
            name = self._read_names[chain] = _fresh_name("_".join(chain), self.taken)
            self.reads.append((name, chain))
        return _name(name)


def _is_leaf(value):
    """Whether an attribute's value is passed to compiled code (an array, a number,
    None, a string), not an object whose attributes are read."""
    return isinstance(value, (np.ndarray, float, np.floating) + _LEAF_CONSTANTS)


class _ReadAttributes(NodeTransformer):
    def __init__(self, owner):
        self.owner = owner

    def visit_Attribute(self, node):
        chain = self.owner.chain(node)
        if chain is not None:
            return self.owner.read(chain)
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        f = node.func
        if isinstance(f, gast.Name) and f.id == "wants":
            if len(node.args) != 2 or not (isinstance(node.args[0], gast.Name)
                                           and node.args[0].id == self.owner.acc):
                raise Unsupported("wants with other arguments")
            chain = self.owner.weight_chain(node.args[1])
            return _const(self.owner.owner_wanted(chain))
        self.generic_visit(node)
        return node
