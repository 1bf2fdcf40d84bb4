"""The Numba dialect: the same derivative, in the forms Numba's ``njit`` compiles.

A pass from tree to tree, run by ``codegen.module_text`` just before printing
(``sourcegrad.jit`` is its only user).  Each rewrite keeps the values exactly:

* ``a.sum(axis=k, keepdims=True)``, ``np.max(a, axis=k)`` and the other
  reductions over one axis that Numba lacks become ``_sg_jit.sum_keep(a, k)``,
  ``_sg_jit.max_drop(a, k)``, ... (``sourcegrad._jitlib``);
* ``np.multiply.outer(a, b)`` becomes ``np.outer(a, b)`` reshaped to
  ``np.shape(a) + np.shape(b)``;
* ``np.expand_dims(a, (j, k))`` becomes one ``expand_dims`` per axis;
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
    def __init__(self, roles, simd=True):
        self.roles = roles
        self.simd = simd  # np.tanh(a) -> _sg_jit.tanh(a) (NumPy's kernel on large arrays)

    def lib(self, helper, *args):
        return _call(_attr(_name(LIB), helper), *args)

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        # np.multiply.outer(a, b)
        if isinstance(f, gast.Attribute) and f.attr == "outer" and _is_np(f.value, "multiply") \
                and len(node.args) == 2 and not node.keywords:
            a, b = node.args
            outer = _call(_attr(_name("np"), "outer"), a, b)
            shape = gast.BinOp(left=_call(_attr(_name("np"), "shape"), copy_tree(a)), op=gast.Add(),
                               right=_call(_attr(_name("np"), "shape"), copy_tree(b)))
            return _call(_attr(outer, "reshape"), shape)
        # np.expand_dims(a, (j, k)): one int axis at a time (ascending, as NumPy places them)
        if _is_np(f, "expand_dims") and len(node.args) == 2 and not node.keywords \
                and isinstance(node.args[1], gast.Tuple):
            axes = [_int(e) for e in node.args[1].elts]
            if axes and None not in axes and min(axes) >= 0:
                out = node.args[0]
                for k in sorted(axes):
                    out = _call(_attr(_name("np"), "expand_dims"), out, _const(k))
                return out
        lowered = self.reduction(node)
        if lowered is not None:
            return lowered
        # np.tanh(a) on a large array: NumPy's SIMD kernel (``_jitlib.SIMD_UFUNCS``)
        if self.simd and _is_np(f, *_SIMD_UFUNCS) and len(node.args) == 1 and not node.keywords:
            return self.lib(f.attr, node.args[0])
        if isinstance(f, gast.Name) and f.id in self.roles:
            return self.helper(node, self.roles[f.id])
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
        node.func = _attr(_name(LIB), role)
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
        d = _Lower(dict(roles or {}), simd=fdef.body is body).visit(d)
        out.append(_split_stacks(d))
    return out


def numba_dialect(roles=None, shapes=None):
    """The pass ``fdef -> fdef`` in the Numba dialect (the first definition of
    ``numba_functions``)."""
    return lambda fdef: numba_functions(fdef, roles, shapes)[0]


__all__ = ["numba_dialect", "numba_functions", "fuse_elementwise", "vector_kernels", "LIB"]
