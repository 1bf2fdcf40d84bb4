"""Stage 7 -- tree to text, text to function.

The only module that imports astor.  Generated functions are compiled inside
a small factory whose parameters are the objects the derivative needs but
the user's module does not hold under that name (NumPy, sourcegrad's runtime
helpers, derivatives of called functions) and the user function's own
closure variables; the factory's inner functions are then rebuilt over the
user's real closure cells, so closures stay live.  The text is registered
with ``linecache`` so tracebacks through generated code show its lines.
"""
from __future__ import annotations

import itertools
import re
import linecache
import types

import astor
import gast

from sourcegrad import astutil

_counter = itertools.count()


_NOTE = "__sourcegrad_note__"
_NOTE_LINE = re.compile(r"^(\s*)(?:'''|\"\"\"|'|\")" + _NOTE + r"(\d+)(?:'''|\"\"\"|'|\")$",
                        re.M)


def to_source(node) -> str:
    """Python text of a gast tree (function definitions, statements).

    Statements marked as notes (``reverse.note_stmt``) become ``# comments``.
    """
    for n in astutil.statements([node]):
        if n.__class__ is gast.If:
            _chain(n)
    notes = []
    for n in astutil.statements([node]):
        if getattr(n, "sg_note", False):
            notes.append(n.value.value)
            n.value.value = f"{_NOTE}{len(notes) - 1}"
    tree = astutil.gast_to_ast(node, locations=False)  # only printed
    text = astor.to_source(tree, indent_with="    ", pretty_source=lambda parts: "".join(parts))
    if notes:
        def comment(m):
            return f"{m.group(1)}# {notes[int(m.group(2))]}"
        text = _NOTE_LINE.sub(comment, text)
    return text


def _chain(node):
    """Write ``if a: ... else: if b: ...`` as ``if a: ... elif b: ...``: an ``if/elif``
    chain of the user's stays one level deep (Python's parser refuses 100 nested
    blocks).  The comments heading the inner ``if`` open its body; a condition
    computed just before it (``cond_1 = k == 1``) is assigned in the test
    (``elif (cond_1 := k == 1):``), where it is evaluated at the same moment."""
    while True:
        orelse = node.orelse
        k = 0
        while k < len(orelse) and getattr(orelse[k], "sg_note", False):
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


def strip_comments(text: str) -> str:
    """``text`` without the comment lines sourcegrad added."""
    return "".join(line for line in text.splitlines(True) if not line.lstrip().startswith("#"))


def compile_functions(defs, names, *, env, globals_, closure_cells, filename_hint):
    """Compile function definitions and return ``(functions, text)``.

    ``defs``: gast FunctionDefs.  ``names``: which of them to return, in order.
    ``env``: name -> object injected as a closure variable.
    ``closure_cells``: the user's own closure cells by name (kept live).
    """
    text = "\n\n".join(to_source(d).rstrip() + "\n" for d in defs)
    free = sorted(set(env) | set(closure_cells))
    factory = "__sg_factory__"
    lines = [f"def {factory}({', '.join(free)}):"]
    for line in text.splitlines():
        lines.append("    " + line if line.strip() else "")
    lines.append(f"    return ({', '.join(names)},)")
    module_text = "\n".join(lines) + "\n"
    code = compile(module_text, _register(module_text, filename_hint), "exec")
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
    return out, text


def define(name, text, scope, what):
    """The function ``name`` defined by ``text`` (source made at run time: a wrapper),
    run with ``scope`` as its globals; the text is registered like a derivative's."""
    exec(compile(text, _register(text, what), "exec"), scope)
    return scope[name]


def _register(text, what):
    """A file name for generated ``text``, registered with ``linecache`` so tracebacks
    (and sourcegrad, when it reads the source again) find its lines."""
    filename = f"<sourcegrad: {what} #{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return filename


class _Empty:
    def __repr__(self):
        return "<unbound>"


_EMPTY = _Empty()
