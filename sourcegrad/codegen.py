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

import hashlib
import importlib.util
import itertools
import linecache
import os
import re
import sys
import types

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
