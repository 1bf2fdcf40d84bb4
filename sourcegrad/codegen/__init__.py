"""Stage 8 -- tree to text, text to function.

The only module that imports astor.  Generated functions are compiled inside
a small factory whose parameters are the objects the derivative needs but
the user's module does not hold under that name (NumPy, sourcegrad's runtime
helpers, derivatives of called functions) and the user function's own
closure variables; the factory's inner functions are then rebuilt over the
user's real closure cells, so closures stay live.  The text is registered
with ``linecache`` so tracebacks through generated code show its lines, for as
long as the code lives.  ``codegen.standalone`` links generated code into a
module that runs without sourcegrad (``sg.export``).
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import importlib.util
import itertools
import linecache
import os
import re
import sys
import types
import weakref

import astor
import gast
import numpy as np

from sourcegrad import astutil, runtime
from sourcegrad.codegen import printer
from sourcegrad.parse import MISSING
from sourcegrad.annotations import getanno

_counter = itertools.count()


_NOTE = "__sourcegrad_note__"
_NOTE_LINE = re.compile(r"^(\s*)(?:'''|\"\"\"|'|\")" + _NOTE + r"(\d+)(?:'''|\"\"\"|'|\")$",
                        re.M)


def to_source(node) -> str:
    """Python text of a gast tree (function definitions, statements).

    Statements marked as notes (``reverse.note_stmt``) become ``# comments``.
    A function definition is printed by ``printer`` (the same text, faster)
    unless it holds a node that printer leaves to astor.
    """
    try:
        return printer.function_source(node)
    except printer.Unsupported:
        return astor_source(node)


def astor_source(node) -> str:
    """``to_source``'s text of ``node`` printed by astor (the reference ``printer``
    reproduces)."""
    notes = []
    marked = []
    for n in astutil.statements([node]):
        if getanno(n, "note", False):
            notes.append(n.value.value)
            marked.append(n.value)
            n.value.value = f"{_NOTE}{len(notes) - 1}"
    tree = astutil.gast_to_ast(node, locations=False)  # only printed
    for constant, note in zip(marked, notes):  # the tree is left as it was
        constant.value = note
    for n in ast.walk(tree):  # a negative constant printed as Python reads it: (-c) ** 2
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) \
                and isinstance(n.left, ast.Constant) and _negative(n.left.value):
            n.left = ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-n.left.value))
        elif isinstance(n, (ast.Attribute, ast.Subscript)) \
                and isinstance(n.value, ast.Constant) and _negative(n.value.value):
            n.value = ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-n.value.value))
    text = astor.to_source(tree, indent_with="    ", pretty_source=lambda parts: "".join(parts))
    if notes:
        def comment(m):
            return f"{m.group(1)}# {notes[int(m.group(2))]}"
        text = _NOTE_LINE.sub(comment, text)
    return text


def _negative(v) -> bool:
    return type(v) in (int, float) and v < 0 or type(v) is complex and (
        v.real < 0 or v.real == 0 and v.imag < 0)


def chain_elifs(defs):
    """``_chain`` every ``if`` of the function definitions ``defs`` (about to be
    compiled: the last stage that reads them)."""
    for n in astutil.statements(defs):
        if n.__class__ is gast.If:
            _chain(n)


def _chain(node):
    """Write ``if a: ... else: if b: ...`` as ``if a: ... elif b: ...``: an ``if/elif``
    chain of the user's stays one level deep (Python's parser refuses 100 nested
    blocks).  The comments heading the inner ``if`` open its body; a condition
    computed just before it (``cond_1 = k == 1``) is assigned in the test
    (``elif (cond_1 := k == 1):``), where it is evaluated at the same moment."""
    while True:
        orelse = node.orelse
        k = 0
        while k < len(orelse) and getanno(orelse[k], "note", False):
            k += 1
        rest = orelse[k:]
        inner = rest[-1] if rest else None
        if inner.__class__ is not gast.If or not inner.body:
            return
        if len(rest) == 2:
            first = rest[0]
            if not (first.__class__ is gast.Assign and len(first.targets) == 1
                    and first.targets[0].__class__ is gast.Name
                    and inner.test.__class__ is gast.Name
                    and inner.test.id == first.targets[0].id):
                return
            inner.test = gast.NamedExpr(target=first.targets[0], value=first.value)
        elif len(rest) != 1:
            return
        inner.body = orelse[:k] + inner.body
        node.orelse = [inner]
        node = inner


def module_text(defs, dialect=None, header: str = "") -> str:
    """Python text of a module holding the function definitions ``defs``.

    ``dialect``: a pass from tree to tree run on each definition just before it
    is printed -- how a back end (``sourcegrad.jit``'s Numba dialect) gets the
    same derivative in the forms its compiler accepts, through this one printer.
    """
    if dialect is not None:
        defs = [dialect(d) for d in defs]
    return header + "\n\n".join(to_source(d).rstrip() + "\n" for d in defs)


def load_module(text: str, directory: str, stem: str):
    """Import ``text`` as a module from a file in ``directory`` named after its content.

    The file is written once: an unchanged text keeps its file and time stamp, so a
    compiler's on-disk cache keyed on them (Numba's ``cache=True``) stays valid
    across processes.  The lines are also registered with ``linecache``.
    """
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    name = re.sub(r"\W+", "_", stem) + "_" + digest
    path = os.path.join(directory, name + ".py")
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)  # atomic: a concurrent process sees all of it or none
    spec = importlib.util.spec_from_file_location(f"_sourcegrad_jit_{name}", path)
    module = importlib.util.module_from_spec(spec)
    # in sys.modules, as an imported module is: compilers find its globals there by name
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    linecache.cache[path] = (len(text), None, text.splitlines(True), path)
    return module


def strip_comments(text: str) -> str:
    """``text`` without the comment lines sourcegrad added."""
    return "".join(line for line in text.splitlines(True) if not line.lstrip().startswith("#"))


def compile_functions(defs, names, *, env, globals_, closure_cells, filename_hint):
    """Compile function definitions and return ``(functions, text)``.

    ``defs``: gast FunctionDefs.  ``names``: which of them to return, in order.
    ``env``: name -> object injected as a closure variable.
    ``closure_cells``: the user's own closure cells by name (kept live).
    """
    chain_elifs(defs)
    text = "\n\n".join(to_source(d).rstrip() + "\n" for d in defs)
    free = sorted(set(env) | set(closure_cells))
    factory = "__sg_factory__"
    lines = [f"def {factory}({', '.join(free)}):"]
    for line in text.splitlines():
        lines.append("    " + line if line.strip() else "")
    lines.append(f"    return ({', '.join(names)},)")
    module_text = "\n".join(lines) + "\n"
    filename = _register(module_text, filename_hint)
    code = compile(module_text, filename, "exec")
    scope: dict = {}
    exec(code, globals_, scope)  # defines only the factory; nothing runs
    made = scope[factory](*[env.get(n, _EMPTY) if n not in closure_cells else _EMPTY
                            for n in free])
    out = []
    siblings = []  # cells of the factory holding a function made here: (cell, its name)
    for fn in made:
        cells = []
        for var in fn.__code__.co_freevars:
            if var in closure_cells:
                cells.append(closure_cells[var])
            elif var in env:
                cells.append(types.CellType(env[var]))
            else:  # a sibling function (recursion) or inner name
                idx = fn.__code__.co_freevars.index(var)
                cells.append(fn.__closure__[idx])
                if var in names:
                    siblings.append((fn.__closure__[idx], var))
        new = types.FunctionType(fn.__code__, globals_, fn.__name__, fn.__defaults__,
                                 tuple(cells))
        new.__kwdefaults__ = fn.__kwdefaults__
        new.__qualname__ = fn.__name__
        out.append(new)
    by_name = dict(zip(names, out))
    for cell, var in siblings:  # a call of a sibling reaches the function returned
        cell.cell_contents = by_name[var]
    _forget_with(filename, [fn.__code__ for fn in out])
    return out, text


def define(name, text, scope, what, register=True):
    """The function ``name`` defined by ``text`` (source made at run time: a wrapper),
    run with ``scope`` as its globals; the text is registered like a derivative's
    (``register=False``: not registered, for the many small fast paths)."""
    filename = _register(text, what) if register else f"<sourcegrad: {what}>"
    exec(compile(text, filename, "exec"), scope)
    if register:
        _forget_with(filename, [scope[name].__code__])
    return scope[name]


def _register(text, what):
    """A file name for generated ``text``, registered with ``linecache`` so tracebacks
    (and sourcegrad, when it reads the source again) find its lines."""
    try:
        number = _free.pop()
    except IndexError:
        number = next(_counter)
    filename = f"<sourcegrad: {what} #{number}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return filename


# Numbers of file names whose code is gone, for reuse: Python keeps every file
# name a function was compiled under (interned), so new numbers forever would
# grow memory by a hundred bytes a transformation.
_free: list = []


def _forget_with(filename, codes):
    """Remove ``filename``'s lines from ``linecache`` once every code object in
    ``codes`` is gone (no traceback can show them then, nor can sourcegrad read
    them again): a notebook transforms thousands of lambdas."""
    live = [len(codes)]

    def release():
        live[0] -= 1
        if live[0] == 0:
            linecache.cache.pop(filename, None)
            _free.append(int(filename[filename.rindex("#") + 1:-1]))

    for code in codes:
        weakref.finalize(code, release).atexit = False


# -- small functions made at run time -------------------------------------------------

def forwarder(name, params, callee, args, scope, what):
    """``def name(params): return callee(args)``, compiled with ``scope`` as its
    globals and registered like a derivative (its text shows in tracebacks).

    ``params`` and ``args`` are lists of parameter and argument texts
    (``"x"``, ``"axis=None"``, ``"*args"``, ``"*"``; ``"x"``, ``"axis=axis"``,
    ``"*args"``); ``callee`` is an expression naming what is called
    (``"np.sin"``, ``"x.sum"``, ``"prim"``).  The text is parsed and printed
    like generated code, so what runs is what ``to_source`` wrote.
    """
    text = f"def {name}({', '.join(params)}):\n    return {callee}({', '.join(args)})\n"
    tree = astutil.parse(text)
    return define(name, to_source(tree.body[0]), scope, what)


MISS = object()  # what a fast path returns when its inputs are not the ones it was made for


def fast_path(d, key, positions, single, *, value=False, weights=None,
              single_weight=False, bound_self=None, finish=None, owner=None):
    """A function for ``GradFunction.__call__``'s common case, written for one input
    signature: it checks each input's type (and shape and dtype) and the guards,
    calls the derivative, and hands back gradients that are already new arrays
    like their inputs (or weights) untouched.  ``MISS`` when the inputs differ:
    the general path then runs.  Generated code, so that the checks cost a few
    attribute reads each, not a loop.

    ``value``: also return the output (``value_and_grad``).  ``weights``: collect
    those Parameters' gradients too.  ``finish`` (``GradFunction._finish``, bound)
    shapes any result that is not plain new arrays like the inputs and weights,
    exactly as the general path does.  ``bound_self``: passed first (a Cell's
    gradient).  ``owner``: the type of the ``base`` of a new array the function
    returns when that is not None (``sg.jit``: Numba's memory owner)."""
    n = len(key)
    args = ", ".join(f"a{i}" for i in range(n))
    env = {"__name__": "sourcegrad.api", "_nd": np.ndarray, "_fn": d.functions[0],
           "MISS": MISS,
           "_B": builtins.__dict__, "_M": MISSING}
    checks = []
    for i, k in enumerate(key):
        if type(k) is tuple:  # an array's (shape, dtype)
            env[f"S{i}"], env[f"D{i}"] = k
            checks.append(f"type(a{i}) is _nd and a{i}.shape == S{i} and a{i}.dtype is D{i}")
        else:
            env[f"T{i}"] = k
            checks.append(f"type(a{i}) is T{i}")
    checks += _guard_checks(d.guards, env)
    positions = positions or ()
    grads = [f"g{j}" for j in range(len(positions))]
    arrays = [type(key[p]) is tuple for p in positions]
    env["_O"] = owner
    # (a dtype Numba makes is equal to, not the same object as, NumPy's)
    fresh, same = ("g{j}.base is None", "is") if owner is None else \
        ("type(g{j}.base) is _O", "==")
    like = [f"type(g{j}) is _nd and {fresh.format(j=j)} and g{j}.dtype {same} D{p} "
            f"and g{j}.shape == S{p}" for j, p in enumerate(positions)]
    lines = [f"def _fast({args}):"]
    _checked(lines, checks, d.guards)
    # a result that is not plain new arrays throughout goes to the general path's
    # _finish (which copies, converts and wraps as the first call did)
    env["_finish"] = finish
    call_args = (["_self"] if bound_self is not None else []) + [f"a{i}" for i in range(n)]
    env["_self"] = bound_self
    if weights is not None:
        env["_WG"], env["_W"] = runtime.WeightGrads, weights
        # WeightGrads(weights), written out while every weight requires a gradient
        # (a plain dict of the same keys serves the generated code)
        every = " and ".join(f"W{i}.requires_grad is True" for i in range(len(weights)))
        keys = ", ".join(f"I{i}: None" for i in range(len(weights)))
        lines.append(f"        acc = {{{keys}}} if {every or 'True'} else _WG(_W)")
        call_args.append("weight_grads=acc")
    lines.append(f"        r = _fn({', '.join(call_args)})")
    part = "gr"
    if value:
        lines.append("        out, gr = r")
    else:
        part = "r"
    if positions:
        lines.append(f"        g0 = {part}" if single else f"        {', '.join(grads)}, = {part}")
    wgrads = []
    for i, w in enumerate(weights or ()):
        env[f"W{i}"], env[f"I{i}"] = w, id(w)
        wgrads.append(f"w{i}")
        lines.append(f"        w{i} = acc.get(I{i})")
        like.append(f"type(w{i}) is _nd and w{i}.base is None and w{i}.dtype is W{i}.dtype "
                    f"and w{i}.shape == W{i}.shape")
    every = grads + wgrads
    distinct = [f"{a} is not {b}" for i, a in enumerate(every) for b in every[i + 1:]]
    if all(arrays):
        # the derivative's own tuple when it is the whole answer, else one made here
        igrads = "g0" if single else part if weights is None else _tuple_text(grads)
        wpart = "w0" if single_weight else _tuple_text(wgrads)
        result = igrads if weights is None else wpart if not positions \
            else f"({igrads}, {wpart})"
        if value:
            result = f"out, {result}"
        lines += [f"        if {' and '.join(like + distinct) or 'True'}:",
                  f"            return {result}"]
    kw = "{'weight_grads': acc}" if weights is not None else "{}"
    lines += [f"        return _finish(r, ({args}{',' if n == 1 else ''}), {kw})",
              "    return MISS"]
    return define("_fast", "\n".join(lines) + "\n", env, f"fast path, {n} inputs",
                  register=False)


def _tuple_text(items):
    """Python text of a tuple of the names ``items`` (``()``, ``(a,)``, ``(a, b)``)."""
    return f"({', '.join(items)},)" if items else "()"


def _guard_checks(guards, env):
    """The derivative's guards (``Derivative.valid``) as expressions for the fast
    path, which read a global or two instead of calling ``valid``.  Each holds only
    when ``valid`` would (a name now in builtins is checked there, so a global of
    that name made later fails it).  A closure cell's guard reads the cell, which
    raises ValueError once it is empty: the fast path then misses (``_checked``)."""
    out = []
    for i, (holder, key, mode, expected) in enumerate(guards):
        env[f"H{i}"], env[f"E{i}"] = holder, expected
        if key is None:
            value = f"H{i}.cell_contents"
        else:
            value = f"H{i}.get({key!r}, _M)" if key in holder else \
                f"(_B.get({key!r}, _M) if {key!r} not in H{i} else _M)"
        if mode == "shape":  # a pinned array (pins.py): (shape, dtype) of the object an
            # "is" guard before this one holds it to: read off that object
            env[f"H{i}"] = holder[key]
            env[f"E{i}"], env[f"F{i}"] = expected
            out.append(f"H{i}.shape == E{i} and H{i}.dtype == F{i}")
            continue
        out.append(f"{value} is E{i}" if mode == "is" else f"type({value}) is E{i}")
    return out


def _checked(lines, checks, guards):
    """The fast path's first lines: ``if <checks>:``, the checks inside a ``try`` when
    a guard reads a closure cell (an empty cell raises ValueError: no fast path)."""
    cond = " and ".join(checks) or "True"
    if not any(key is None for _, key, _, _ in guards):
        lines.append(f"    if {cond}:")
        return
    lines += ["    try:",
              f"        ok = {cond}",
              "    except ValueError:  # an empty closure cell",
              "        return MISS",
              "    if ok:"]



class _Empty:
    def __repr__(self):
        return "<unbound>"


_EMPTY = _Empty()
