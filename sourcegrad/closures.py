"""Part of stage 3 -- nested functions, lambdas and ``functools.partial``.

Before normalization, the nested functions of the differentiated function are
taken out of its body: each ``def step(h, x_t): ...`` (or ``step = lambda h:
...``, or ``step = functools.partial(g, w)``) becomes a :class:`Nested`, and
the statement that defined it is replaced by assignments capturing what Python
evaluates when the definition runs (the defaults, the partial's arguments)::

    def step(h, w=w):             step_w = w
        return np.tanh(h * w)

The normalizer then inlines each call ``step(a)`` in place (``Normalizer.inline``):
the nested function's parameters and locals become fresh names, the names it
reads from the enclosing function are read where the call runs (Python's late
binding), so gradient flows to the enclosing values it closes over as to any
other operand. The same holds for

* a function of yours that is passed a nested function (``apply_twice(step,
  h)``, :func:`helper_def`) or that makes and returns one (``g = make(w)``,
  :func:`factory_def`): inlined too; one of another module has the names it
  reads from its module bound to what they denote there, and the derivative
  guarded on them;
* nested functions calling themselves or each other: lifted into functions of
  their own (:func:`lift`, :func:`recursion_groups`);
* ``d = scipy.stats.norm(m, s)``: a frozen distribution, kept like a partial
  whose methods are the distribution's with ``m`` and ``s``.

A nested function used as a value anywhere else is refused by name.
"""
from __future__ import annotations

import ast
import builtins
import functools
import inspect
import linecache
import sys
import sysconfig
import textwrap
import types
from dataclasses import dataclass, field

import gast
import numpy as np

from sourcegrad import astutil, refusals
from sourcegrad.annotations import setanno
from sourcegrad.fence import fence
from sourcegrad.jumps import lower_jumps
from sourcegrad.parse import MISSING, parse_function


@dataclass
class Nested:
    """A nested function (``fdef`` lowered: its only return is its last statement) or,
    with ``partial_of``, a ``functools.partial`` (``args``/``keywords``: captured names)."""
    name: str
    node: object
    fdef: object = None
    params: list = field(default_factory=list)
    defaults: dict = field(default_factory=dict)   # parameter -> captured name
    recursive: bool = False
    group: tuple = ()       # recursive: the nested functions of its cycle (lifted together)
    partial_of: object = None
    args: list = field(default_factory=list)
    keywords: dict = field(default_factory=dict)
    factory: bool = False   # a function returning a nested function (factory_def)
    frozen: bool = False    # a frozen SciPy distribution: partial_of is the distribution
    guards: list = field(default_factory=list)  # (namespace, name, mode, object) read under


# methods of a frozen distribution taking the point first, and taking nothing
POINT_METHODS = {"pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "pmf", "logpmf", "ppf",
                 "isf"}
OTHER_METHODS = {"mean", "var", "std", "median", "entropy", "rvs", "stats"}


def is_distribution(obj) -> bool:
    """A SciPy distribution (``scipy.stats.norm``), which ``norm(loc, scale)`` freezes."""
    return (getattr(type(obj), "__module__", "") or "").startswith("scipy.stats") and any(
        c.__name__ in ("rv_generic", "multi_rv_generic") for c in type(obj).__mro__)


def _name(n, store=False):
    return gast.Name(id=n, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def _assign(target, value, where):
    return gast.copy_location(gast.Assign(targets=[_name(target, True)], value=value,
                                          type_comment=None), where)


def lambda_def(node, fname="lambda"):
    """``lambda a: e`` as ``def fname(a): return e``."""
    ret = gast.copy_location(gast.Return(value=node.body), node)
    fdef = gast.FunctionDef(name=fname, args=node.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    return gast.copy_location(fdef, node)


def bindings(body, every=None):
    """name -> how many statements bind it (assignments, loop targets, defs).

    ``every``: ``astutil.node_list`` of the function ``body`` belongs to, if the
    caller has it (its signature binds no name: parameters are not stores)."""
    count = {}
    for s in astutil.statements(body):
        if isinstance(s, gast.FunctionDef):
            count[s.name] = count.get(s.name, 0) + 1
    if every is None:
        every = [n for s in body for n in astutil.node_list(s)]
    for n in every:
        if n.__class__ is gast.Name and n.ctx.__class__ is gast.Store:
            count[n.id] = count.get(n.id, 0) + 1
    return count


class Extractor:
    def __init__(self, parsed, namer):
        self.parsed = parsed
        self.namer = namer
        self.nested = {}

    def refuse(self, node, what, hint=None, detail=None):
        refusals.use(self.parsed, node, what, hint=hint, detail=detail)

    def run(self, fdef, count=None):
        self.count = bindings(fdef.body) if count is None else dict(count)
        self.locals = set(self.count) | {a.id for a in fdef.args.args + fdef.args.posonlyargs
                                         + fdef.args.kwonlyargs}
        fdef.body = self.block(fdef.body)
        recursion_groups(self.nested)
        return self.nested

    def block(self, stmts):
        out = []
        for s in stmts:
            out += self.stmt(s)
        return out or [gast.copy_location(gast.Pass(), stmts[0])] if stmts else out

    def stmt(self, s):
        if isinstance(s, gast.FunctionDef):
            return self.define(s.name, s, s)
        if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                and isinstance(s.targets[0], gast.Name):
            v = s.value
            if isinstance(v, gast.Lambda):
                return self.define(s.targets[0].id, lambda_def(v, s.targets[0].id), v)
            if isinstance(v, gast.Call) and v.args \
                    and self.parsed.denotes(v.func, self.locals) is functools.partial:
                return self.partial(s.targets[0].id, v, s)
            if isinstance(v, gast.Call) \
                    and is_distribution(self.parsed.denotes(v.func, self.locals)):
                return self.partial(s.targets[0].id, v, s, frozen=True)
        for fld in ("body", "orelse"):
            if isinstance(getattr(s, fld, None), list) and not isinstance(s, gast.FunctionDef):
                setattr(s, fld, self.block(getattr(s, fld)))
        return [s]

    def check_once(self, fname, node):
        if self.count.get(fname, 0) != 1:
            self.refuse(node, f"nested function {fname!r} bound more than once",
                        hint="give each nested function its own name, bound once")

    def define(self, fname, fdef, node):
        self.check_once(fname, node)
        a = fdef.args
        if fdef.decorator_list:
            self.refuse(fdef, "decorated nested function",
                        hint="define the decorated function at module level")
        if a.vararg is not None or a.kwarg is not None or a.kwonlyargs:
            self.refuse(fdef, "nested function with *args, **kwargs or keyword-only "
                        "parameters", hint="name its parameters")
        lowered = astutil.copy_tree(fdef)
        lowered.decorator_list, lowered.args.defaults = [], []
        inner = [n for n in astutil.nodes(fdef) if n is not fdef
                 and isinstance(n, (gast.FunctionDef, gast.Lambda))]
        factory = bool(inner) and factory_shape(lowered, self.parsed, self.namer)
        recursive = any(isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
                        and n.func.id == fname for n in astutil.nodes(fdef))
        if inner and (not factory or recursive):
            self.refuse(inner[0], "function defined inside a nested function",
                        detail="supported only in a nested function that makes and returns "
                               "it (def make(w): def f(x): ...; return f)",
                        hint="define it in the differentiated function itself")
        params = [p.id for p in a.posonlyargs + a.args]
        captures, defaults = [], {}
        for p, d in zip(params[len(params) - len(a.defaults):], a.defaults):
            defaults[p] = self.namer.fresh(f"{fname}_{p}")
            captures.append(_assign(defaults[p], d, node))
        if not factory:  # (a factory returns only at its end)
            lower_jumps(lowered, self.namer)
        self.nested[fname] = Nested(fname, node, lowered, params, defaults, recursive,
                                    group=(fname,) if recursive else (), factory=factory)
        return captures

    def partial(self, fname, call, s, frozen=False):
        """``f = functools.partial(g, a, k=b)``, or with ``frozen`` ``d = norm(a, b)``
        (a frozen distribution, whose methods are the distribution's with a and b)."""
        self.check_once(fname, s)
        what = "a frozen distribution" if frozen else "functools.partial"
        if any(k.arg is None for k in call.keywords) \
                or any(isinstance(a, gast.Starred) for a in call.args):
            self.refuse(call, f"{what} with *args or **kwargs",
                        hint="pass the arguments by name")
        captures, args, keywords = [], [], {}
        for i, a in enumerate(call.args if frozen else call.args[1:]):
            args.append(self.namer.fresh(f"{fname}_arg"))
            captures.append(_assign(args[-1], a, s))
        for k in call.keywords:
            keywords[k.arg] = self.namer.fresh(f"{fname}_{k.arg}")
            captures.append(_assign(keywords[k.arg], k.value, s))
        self.nested[fname] = Nested(fname, call, partial_of=call.func if frozen else call.args[0],
                                    args=args, keywords=keywords, frozen=frozen)
        return captures


def _same_module_tree(parsed, fn, generator=False, node=None):
    """``fn``'s tree to inline into ``parsed``'s function, or None: a plain function
    (no closure, decorator, ``*args``/``**kwargs``; a generator only with
    ``generator``) whose source can be read.  One of the same file has its lines
    renumbered as ``parsed``'s; one of another module (only given the call ``node``)
    has every node placed at ``node`` (errors and comments point at the call) and
    every name it reads from its own module annotated with the object it denotes
    there (``runtime``), so it means in the caller what it meant in its module."""
    if not isinstance(fn, types.FunctionType) or fn.__closure__ \
            or hasattr(fn, "__wrapped__") \
            or fn.__code__.co_flags & ((0 if generator else inspect.CO_GENERATOR)
                                       | inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    same = fn.__globals__ is parsed.globals
    if not same and (node is None or not _user_module(fn)):
        return None
    try:
        other = parse_function(fn)
    except Exception:  # noqa: BLE001 -- no source: not inlined (refused as a value)
        return None
    tree = astutil.copy_tree(other.tree)
    if tree.decorator_list:
        return None
    if same and (other.filename != parsed.filename or other.colshift != parsed.colshift):
        return None
    guards = _rebind_globals(tree, fn, parsed, same)
    if guards is None:
        return None
    _relocate(tree, other.firstline - parsed.firstline if same else node)
    if fn.__globals__.get(fn.__name__) is fn:  # mod.helper redefined: derived afresh
        guards.append((fn.__globals__, fn.__name__, "is", fn))
    return tree, other, guards


def _relocate(tree, where):
    """Lines of a function of the same file renumbered (``where``: the shift), or
    every node of another module's placed at the call ``where``."""
    for n in astutil.nodes(tree):
        if isinstance(where, int):
            for attr in ("lineno", "end_lineno"):
                if getattr(n, attr, None) is not None:
                    setattr(n, attr, getattr(n, attr) + where)
        else:
            for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                if hasattr(n, attr):
                    setattr(n, attr, getattr(where, attr, None))


def _user_module(fn) -> bool:
    """Whether ``fn`` is the user's own code: not NumPy's, SciPy's, sourcegrad's, the
    standard library's or an installed package's (those are never inlined)."""
    top = (getattr(fn, "__module__", None) or "").split(".")[0]
    path = getattr(fn.__code__, "co_filename", "")
    stdlib = top in sys.stdlib_module_names if hasattr(sys, "stdlib_module_names") \
        else path.startswith(_STDLIB_DIR)  # Python 3.9: by where the file is
    return top not in _LIBRARY_MODULES and not stdlib \
        and "site-packages" not in path and "dist-packages" not in path


_STDLIB_DIR = sysconfig.get_paths()["stdlib"]
_LIBRARY_MODULES = {"numpy", "scipy", "sourcegrad", "autograd", "jax", "dask", "torch",
                    "numba"}


def _rebind_globals(tree, fn, parsed, same):
    """The names ``tree`` (``fn``'s) reads from its module, made to mean in the
    differentiated function what they mean there: annotated with the objects they
    denote (``runtime``) when ``fn`` is of another module, or when the
    differentiated function binds a local of the same name.  Returns the guards
    (namespace, name, mode, object) under which that holds, or None when a name
    is bound nowhere."""
    guards = []
    bound = {n.id for n in astutil.nodes(tree) if isinstance(n, gast.Name)
             and isinstance(n.ctx, (gast.Store, gast.Param))}
    bound |= {n.name for n in astutil.nodes(tree) if isinstance(n, gast.FunctionDef)}
    caller = {n.id for n in astutil.nodes(parsed.tree) if isinstance(n, gast.Name)
              and isinstance(n.ctx, (gast.Store, gast.Param))}
    for n in astutil.nodes(tree):
        if not isinstance(n, gast.Name) or not isinstance(n.ctx, gast.Load) or n.id in bound:
            continue
        if n.id in fn.__globals__:
            obj = fn.__globals__[n.id]
            fixed = not same or n.id in caller
            if fixed:
                setanno(n, "runtime", obj)
            live = callable(obj) or isinstance(obj, (types.ModuleType, type))
            guards.append((fn.__globals__, n.id, "is" if fixed or live else "type",
                           obj if fixed or live else type(obj)))
        elif hasattr(builtins, n.id):
            if n.id in caller or n.id in parsed.globals:
                setanno(n, "runtime", getattr(builtins, n.id))
        else:
            return None
    return guards


def helper_def(parsed, namer, fn, node, generator=False):
    """A module-level Python function ``fn`` called with a nested function or lambda
    as an argument (``apply_twice(step, h)``), as a :class:`Nested` to inline: its
    lines renumbered as ``parsed``'s (the same file), its defaults captured by
    the returned statements. None when it cannot be inlined (another module's
    function, a closure, a method, a generator, a decorated function)."""
    got = _same_module_tree(parsed, fn, generator, node)
    if got is None:
        return None
    tree, other, guards = got
    if not generator:
        fence(other)
    ext = Extractor(parsed, namer)
    ext.count = {tree.name: 1}
    captures = ext.define(tree.name, tree, node)
    ext.nested[tree.name].guards = guards
    return ext.nested[tree.name], captures


def _own_statements(body):
    """The statements of ``body`` and its blocks, not those of functions defined in it."""
    for s in body:
        yield s
        if isinstance(s, (gast.FunctionDef, gast.Lambda)):
            continue
        for fld in ("body", "orelse"):
            block = getattr(s, fld, None)
            if isinstance(block, list):
                yield from _own_statements(block)


def factory_shape(tree, parsed, namer) -> bool:
    """Whether the function ``tree`` makes and returns one function: its last statement
    returns a function its body defines (at its top level), a lambda or a
    ``functools.partial``, and it returns nowhere else.  A returned lambda or
    partial is bound to a fresh name first (``tree`` is changed in place)."""
    body = tree.body
    if not body or not isinstance(body[-1], gast.Return) or body[-1].value is None \
            or any(isinstance(s, gast.Return) for s in _own_statements(body[:-1])):
        return False
    ret = body[-1].value
    defs = [s.name for s in body if isinstance(s, gast.FunctionDef)]
    made = {s.targets[0].id for s in body if isinstance(s, gast.Assign)
            and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.Lambda)}
    if isinstance(ret, gast.Lambda) or isinstance(ret, gast.Call) \
            and parsed.denotes(ret.func, {a.id for a in tree.args.args}) is functools.partial:
        made_name = namer.fresh(f"{tree.name}_fn")
        body[-1] = _assign(made_name, ret, body[-1])
        body.append(gast.copy_location(gast.Return(value=_name(made_name)), ret))
        return True
    return isinstance(ret, gast.Name) and (defs.count(ret.id) == 1 or ret.id in made)


def factory_def(parsed, namer, fn, node):
    """A function of yours that makes and returns one function (``def make(w): def
    f(x): ...; return f``, or ``return lambda x: ...``, or ``return
    functools.partial(g, w)``), as a :class:`Nested` with ``factory`` set: the
    normalizer inlines its body where it is called and the returned function where
    that is called, so gradient reaches the values it closes over.  None when ``fn``
    is not one."""
    if not isinstance(fn, types.FunctionType) or not any(
            isinstance(c, types.CodeType) for c in fn.__code__.co_consts) \
            and "partial" not in fn.__code__.co_names:
        return None
    got = _same_module_tree(parsed, fn, node=node)
    if got is None:
        return None
    tree, other, guards = got
    if not factory_shape(tree, parsed, namer):
        return None
    fence(other)
    a = tree.args
    params = [p.id for p in a.posonlyargs + a.args]
    captures, defaults = [], {}
    for p, d in zip(params[len(params) - len(a.defaults):], a.defaults):
        defaults[p] = namer.fresh(f"{tree.name}_{p}")
        captures.append(_assign(defaults[p], d, node))
    tree.args.defaults = []
    return Nested(tree.name, node, tree, params, defaults, factory=True,
                  guards=guards), captures


def lift(parsed, nested, enclosing, others, positional=False):
    """A recursive nested function, with the nested functions it calls that call it
    back (``nested.group``), as functions of their own (lambda lifting): the
    enclosing locals any of them reads become keyword parameters of each, passed at
    every call, the recursive ones included. Returns ({name: function}, the names
    they read). ``others``: the other nested functions (a lifted function cannot call
    them).  ``positional``: the names read become positional parameters after the
    function's own instead (``sg.grad(inner)`` differentiates through them)."""
    group = [others[n] for n in nested.group]
    fdefs = {g.name: astutil.copy_tree(g.fdef) for g in group}
    for g in group:
        for n in astutil.nodes(fdefs[g.name]):  # a default left out: its captured value
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) \
                    and n.func.id in fdefs:
                callee = others[n.func.id]
                given = set(callee.params[:len(n.args)]) | {k.arg for k in n.keywords}
                n.keywords += [gast.keyword(arg=p, value=_name(c))
                               for p, c in callee.defaults.items() if p not in given]
    free = set()
    for g in group:
        fdef = fdefs[g.name]
        own = set(g.params) | {n.id for n in astutil.nodes(fdef) if isinstance(n, gast.Name)
                               and isinstance(n.ctx, gast.Store)}
        free |= {n.id for n in astutil.nodes(fdef) if isinstance(n, gast.Name)
                 and n.id in enclosing and n.id not in own and n.id not in fdefs}
    free = sorted(free)
    for g in group:
        fdef = fdefs[g.name]
        for n in astutil.nodes(fdef):
            if isinstance(n, gast.Name) and n.id in others and n.id not in fdefs:
                refusals.use(
                    parsed, n, f"recursive nested function {g.name!r} using the nested "
                    f"function {n.id!r}", hint="define both at module level")
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) \
                    and n.func.id in fdefs:
                n.keywords += [gast.keyword(arg=f, value=_name(f)) for f in free]
        params = [gast.Name(id=f, ctx=gast.Param(), annotation=None, type_comment=None)
                  for f in free]
        if positional:
            fdef.args.args = fdef.args.args + params
        else:
            fdef.args.kwonlyargs = params
            fdef.args.kw_defaults = [None] * len(free)
    text = "\n".join(ast.unparse(ast.fix_missing_locations(astutil.gast_to_ast(fdefs[n])))
                     for n in nested.group)
    where = parsed.where(nested.node)
    filename = (f"<sourcegrad: nested function {nested.name} from "
                f"{where.get('filename')}:{where.get('lineno')}>")
    src = "def _lift():\n" + textwrap.indent(text, "    ") + \
        f"\n    return {{{', '.join(f'{n!r}: {n}' for n in nested.group)}}}\n"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    scope = {}
    exec(compile(src, filename, "exec"), parsed.globals, scope)  # noqa: S102 -- our own text
    return scope["_lift"](), free


def recursion_groups(nested):
    """Mark the nested functions that call themselves, directly or through others:
    ``recursive`` set, ``group`` the functions of the cycle (lifted together)."""
    calls = {}
    for n, f in nested.items():
        if f.fdef is not None:
            calls[n] = {c.func.id for c in astutil.nodes(f.fdef) if isinstance(c, gast.Call)
                        and isinstance(c.func, gast.Name) and c.func.id in nested}
    reach = {}
    for n in calls:
        seen, todo = set(), list(calls[n])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += calls.get(m, ())
        reach[n] = seen
    for n in calls:
        if n in reach[n]:
            nested[n].recursive = True
            nested[n].group = tuple(sorted(m for m in reach[n] if n in reach.get(m, ())))


def _is_yield(st):
    return isinstance(st, gast.Expr) and isinstance(st.value, gast.Yield)


def generator_def(parsed, namer, fn, node):
    """A module-level generator function consumed by ``for v in gen(...)``, as a
    :class:`Nested` whose ``yield e`` statements the normalizer replaces by the
    loop's body (``v = e`` first). None when it cannot be inlined so."""
    if not isinstance(fn, types.FunctionType) or not fn.__code__.co_flags & inspect.CO_GENERATOR:
        return None
    try:
        other = parse_function(fn)
    except Exception:  # noqa: BLE001 -- no source: refused by the caller
        return None
    yields = [n for n in astutil.nodes(other.tree) if isinstance(n, (gast.Yield, gast.YieldFrom))]
    plain = {id(st.value) for st in astutil.statements(other.tree.body) if _is_yield(st)}
    for y in yields:
        if id(y) not in plain:
            refusals.syntax(other, y, "yield other than a `yield value` statement",
                            hint="yield each value as a statement of its own")
    marker = gast.Constant(value=None, kind=None)
    saved = {}
    for st in astutil.statements(other.tree.body):  # fence everything but the yields
        if _is_yield(st):
            saved[id(st)], st.value = st.value, marker
    try:
        fence(other)
    finally:
        for st in astutil.statements(other.tree.body):
            if id(st) in saved:
                st.value = saved[id(st)]
    return helper_def(parsed, namer, fn, node, generator=True)


def extract(parsed, namer, fdef, count=None):
    """Take the nested functions, lambdas bound to a name and partials out of
    ``fdef``'s body (in place): {name: Nested}.  ``count``: ``bindings(fdef.body)``
    when the caller has it already (a copy is kept)."""
    return Extractor(parsed, namer).run(fdef, count)


# --- discarded calls ---------------------------------------------------------------

# NumPy functions that write into their first argument
_WRITERS = ("copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis")
MUTATING = {"append", "extend", "pop", "insert", "remove", "sort", "reverse", "fill",
             "resize", "put", "itemset", "clear", "setdefault", "update", "popitem",
             "setfield", "__setitem__", "__iadd__"}


# how many parameters ``f(*args)`` is taken to fill when it is read for writes
_STARRED_SPAN = 16


def readable(obj) -> bool:
    """Whether ``obj`` is a Python function whose source sourcegrad can read (so
    ``writes_into`` proves what it writes into, not merely fails to)."""
    try:
        parse_function(obj)
    except Exception:  # noqa: BLE001 -- no readable source
        return False
    return True


def writes_into(obj, positions, keywords=(), depth=2) -> bool:
    """Whether calling ``obj`` provably writes into the arguments at ``positions`` (or
    passed by the ``keywords`` names): an assignment into them (``a[i] = ..``,
    ``a += ..``), a mutating method (``a.fill(..)``), ``out=a``, a NumPy writer
    (``np.copyto(a, ..)``), or the same in a Python function it passes them to.
    A call that cannot be read is not known to write (it runs in the forward sweep)."""
    if any(obj is getattr(np, w, None) for w in _WRITERS) or (
            type(obj).__name__ == "builtin_function_or_method"
            and getattr(obj, "__name__", "") == "at"):  # np.add.at(a, idx, v)
        return 0 in positions
    if depth == 0:
        return False
    try:
        parsed = parse_function(obj)
    except Exception:  # noqa: BLE001 -- no readable source: nothing proven
        return False
    a = parsed.tree.args
    params = [p.id for p in a.posonlyargs + a.args]
    if inspect.ismethod(obj):
        params = params[1:]
    if a.vararg is not None and any(i >= len(params) for i in positions):
        keywords = tuple(keywords) + (a.vararg.id,)
    return writes_into_def(parsed, parsed.tree, params, positions, keywords, depth)


def writes_into_def(parsed, fdef, params, positions, keywords=(), depth=2) -> bool:
    """writes_into for the function definition ``fdef`` (its ``params`` as called;
    names in it resolve as in ``parsed``): a nested function, say.  A write after
    the parameter was bound afresh on every path to it (``y = f(y)`` before
    ``y += v``) is into the new value, not the caller's."""
    names = {params[i] for i in positions if i < len(params)} | set(keywords)
    if not names:
        return False
    rebound = {n.id for n in astutil.nodes(fdef)
               if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    for st, fresh in _statements_with_fresh(fdef.body, frozenset()):
        left = names - fresh
        if left and any(_writes(n, left, parsed, rebound, depth) for n in _own_nodes(st)):
            return True
    return False


def _statements_with_fresh(body, fresh):
    """(statement, names bound afresh on every path before it) for each statement of
    ``body`` and the blocks nested in it: by an earlier plain assignment in the same
    or an enclosing block, or as a loop's target."""
    for st in body:
        yield st, fresh
        inner = fresh | {t.id for t in astutil.name_nodes(st.target)} \
            if isinstance(st, gast.For) else fresh
        for fld in ("body", "orelse", "finalbody"):
            block = getattr(st, fld, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                yield from _statements_with_fresh(block, inner if fld == "body" else fresh)
        for h in getattr(st, "handlers", ()):
            yield from _statements_with_fresh(h.body, fresh)
        if isinstance(st, gast.Assign):
            fresh = fresh | {t.id for t in st.targets if isinstance(t, gast.Name)}


def _own_nodes(st):
    """The nodes of the statement ``st`` outside the blocks nested in it."""
    for fld, value in gast.iter_fields(st):
        if fld in ("body", "orelse", "finalbody", "handlers"):
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, gast.AST):
                yield from astutil.nodes(v)
    yield st


def _writes(n, names, parsed, rebound, depth) -> bool:
    """Whether the node ``n`` writes into one of ``names`` (see writes_into)."""
    if isinstance(n, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
        targets = n.targets if isinstance(n, gast.Assign) else [n.target]
        for t in targets:
            base = t
            while isinstance(base, (gast.Subscript, gast.Attribute)):
                base = base.value
            if isinstance(base, gast.Name) and base.id in names and (
                    base is not t or isinstance(n, gast.AugAssign)):
                return True  # a[i] = v, a.attr = v, a += v (in place on an array)
        return False
    if not isinstance(n, gast.Call):
        return False
    f = n.func
    if isinstance(f, gast.Attribute) and f.attr in MUTATING \
            and isinstance(f.value, gast.Name) and f.value.id in names:
        return True
    if any(k.arg == "out" and isinstance(k.value, gast.Name) and k.value.id in names
           for k in n.keywords):
        return True
    passed = [i for i, x in enumerate(n.args) if isinstance(x, gast.Name) and x.id in names]
    for i, x in enumerate(n.args):  # f(*rest): rest's items are the arguments from i on
        if isinstance(x, gast.Starred) and isinstance(x.value, gast.Name) \
                and x.value.id in names:
            passed += range(i, i + _STARRED_SPAN)
    kws = [k.arg for k in n.keywords if k.arg and isinstance(k.value, gast.Name)
           and k.value.id in names]
    if not (passed or kws):
        return False
    callee = parsed.denotes(f, rebound)
    return callee is not MISSING and callable(callee) \
        and writes_into(callee, passed, kws, depth - 1)
