"""Stage 7 -- tree to text, text to function.

The only module that imports astor.  Generated functions are compiled inside
a small factory whose parameters are the objects the derivative needs but
the user's module does not hold under that name (NumPy, sourcegrad's runtime
helpers, derivatives of called functions) and the user function's own
closure variables; the factory's inner functions are then rebuilt over the
user's real closure cells, so closures stay live.  The text is registered
with ``linecache`` so tracebacks through generated code show its lines, for as
long as the code lives.
"""
from __future__ import annotations

import itertools
import re
import linecache
import types
import weakref

import astor

from sourcegrad import astutil

_counter = itertools.count()


_NOTE = "__sourcegrad_note__"
_NOTE_LINE = re.compile(r"^(\s*)(?:'''|\"\"\"|'|\")" + _NOTE + r"(\d+)(?:'''|\"\"\"|'|\")$",
                        re.M)


def to_source(node) -> str:
    """Python text of a gast tree (function definitions, statements).

    Statements marked as notes (``reverse.note_stmt``) become ``# comments``.
    """
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
    filename = _register(module_text, filename_hint)
    code = compile(module_text, filename, "exec")
    scope: dict = {}
    exec(code, globals_, scope)  # defines only the factory; nothing runs
    made = scope[factory](*[env.get(n, _EMPTY) if n not in closure_cells else _EMPTY
                            for n in free])
    out = []
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
        new = types.FunctionType(fn.__code__, globals_, fn.__name__, fn.__defaults__,
                                 tuple(cells))
        new.__kwdefaults__ = fn.__kwdefaults__
        new.__qualname__ = fn.__name__
        out.append(new)
    _forget_with(filename, [fn.__code__ for fn in out])
    return out, text


def define(name, text, scope, what):
    """The function ``name`` defined by ``text`` (source made at run time: a wrapper),
    run with ``scope`` as its globals; the text is registered like a derivative's."""
    filename = _register(text, what)
    exec(compile(text, filename, "exec"), scope)
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


class _Empty:
    def __repr__(self):
        return "<unbound>"


_EMPTY = _Empty()
