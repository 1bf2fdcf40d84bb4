"""Stage 1 -- read a function's source and resolve its free names.

``parse_function(fn)`` returns a :class:`Parsed`: the function's gast tree
(a ``FunctionDef``; lambdas are turned into one), the file and line offsets
so errors can point at the user's own lines, and every free name resolved to
the object it denotes *now* (globals, closure cells, builtins).  Those
resolutions are what the transformation depends on, so they double as the
cache guards (see ``api``).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from sourcegrad import astutil
from sourcegrad.annotations import getanno
from sourcegrad.errors import SourceNotFoundError, SourcegradError

_MISSING = object()


@dataclass
class Parsed:
    fn: Any                      # the Python function object
    tree: gast.FunctionDef       # its definition, line numbers relative to `firstline`
    filename: str
    firstline: int               # file line of the tree's line 1
    colshift: int                # columns removed by dedent
    globals: dict
    closure: dict                # free variable name -> cell
    is_lambda: bool = False
    names: dict = field(default_factory=dict)  # resolved free names -> object

    def resolve(self, name: str) -> Any:
        """The object a free name denotes, or ``_MISSING``."""
        if name in self.closure:
            try:
                return self.closure[name].cell_contents
            except ValueError:  # empty cell
                return _MISSING
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name, _MISSING)

    def denotes(self, node, local=(), env=None, objects=False) -> Any:
        """The object an expression -- a name or a chain of attribute reads --
        denotes at transformation time, or ``MISSING``: the one resolver every
        stage asks.

        A name the function binds (``local``) is unknown; a runtime helper the
        normalizer referred to is that helper; ``env`` maps the names sourcegrad
        injected into generated code.  Attributes are followed on modules and
        classes, and with ``objects=True`` on any other object but an array (a
        global Cell's method, say).
        """
        helper = getanno(node, "runtime")
        if helper is not None:
            return helper
        if isinstance(node, gast.Name):
            if env is not None and node.id in env:
                return env[node.id]
            return _MISSING if node.id in local else self.resolve(node.id)
        if not isinstance(node, gast.Attribute):
            return _MISSING
        base = self.denotes(node.value, local, env, objects)
        if base is _MISSING or not (isinstance(base, (types.ModuleType, type)) or objects
                                    and not isinstance(base, np.ndarray)):
            return _MISSING
        try:
            return getattr(base, node.attr, _MISSING)
        except Exception:  # a property that raises
            return _MISSING

    def where(self, node) -> dict:
        """Keyword arguments for a SourcegradError pointing at ``node``."""
        lineno = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        if lineno is None:
            return {"filename": self.filename}
        line = lineno + self.firstline - 1
        return {"filename": self.filename, "lineno": line,
                "col": None if col is None else col + self.colshift,
                "line": linecache.getline(self.filename, line).rstrip("\n")}


def unwrap(fn):
    """The plain function behind decorators, bound methods and partial-free wrappers."""
    while True:
        if isinstance(fn, types.MethodType):
            fn = fn.__func__
        elif hasattr(fn, "__wrapped__") and not isinstance(fn, type):
            fn = fn.__wrapped__
        else:
            return fn


def _code_last_line(code):
    """The last source line any instruction of ``code`` (or a nested code object) spans."""
    last = code.co_firstlineno
    for _, end, _, _ in code.co_positions():
        if end is not None and end > last:
            last = end
    for k in code.co_consts:
        if isinstance(k, types.CodeType):
            last = max(last, _code_last_line(k))
    return last


def _indent(line):
    expanded = line.expandtabs()
    return len(expanded) - len(expanded.lstrip())


def _fast_block(lines, lnum, code):
    """``(inspect.getblock(lines[lnum:]), tree)`` for a ``def`` without tokenizing, or ``None``.

    The block ends before the first line, after the last one the code object's
    instructions span, that is indented no deeper than the ``def`` (or its first
    decorator) and is not blank or a comment; trailing blank and comment lines
    are left out.  The candidate is accepted only when it parses, so a cut in
    the middle of a string or bracket (which cannot parse) falls back to the
    tokenizer.  Statement for statement it is the block ``inspect`` finds.
    ``tree`` is that parse (``ast.parse`` of the dedented block), kept so the
    block is not parsed twice.
    """
    if code is None or not hasattr(code, "co_positions") or lnum >= len(lines):
        return None
    head = lines[lnum].lstrip()
    if code.co_name == "<lambda>" or not head.startswith(("def ", "def\t", "async ", "@")):
        return None
    base = _indent(lines[lnum])
    last = _code_last_line(code) - 1  # 0-based index of the last line with code
    if last < lnum or last >= len(lines):
        return None
    if head.startswith("@"):  # the code may all sit on the decorator line
        for i in range(lnum, len(lines)):
            if lines[i].lstrip().startswith(("def ", "def\t", "async ")) and \
                    _indent(lines[i]) == base:
                last = max(last, i)
                break
    stop = len(lines)
    for i in range(last + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#") and _indent(lines[i]) <= base:
            stop = i
            break
    end = stop
    while end > last + 1 and (not lines[end - 1].strip()
                              or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    block = lines[lnum:end]
    try:
        tree = ast.parse(textwrap.dedent("".join(block)))
    except (SyntaxError, ValueError):
        return None
    return block, tree


def _starts_definition(line):
    """Whether ``line`` starts a ``def``, ``async def`` or decorator as the
    pattern ``inspect.findsource`` (3.9-3.12) looks for does (without
    compiling that pattern: about 0.5 ms)."""
    head = line.lstrip()
    if head.startswith("@"):
        return True
    if head.startswith("async") and head[5:6].isspace():
        head = head[5:].lstrip()
    return head.startswith("def") and head[3:4].isspace()


def _findsource(fn):
    """``inspect.findsource(fn)``, without ``inspect.getmodule`` for a plain function.

    The first ``getmodule`` call maps every loaded module to its file (about
    5 ms with NumPy loaded); ``findsource`` uses the module only for its
    globals, which a function carries.  When the line ``co_firstlineno``
    names starts the definition, every Python version's ``findsource``
    returns it; otherwise ``findsource`` itself decides.
    """
    if isinstance(fn, types.FunctionType):
        code = fn.__code__
        linecache.checkcache(code.co_filename)
        lines = linecache.getlines(code.co_filename, fn.__globals__)
        lnum = code.co_firstlineno - 1
        if 0 <= lnum < len(lines) and _starts_definition(lines[lnum]):
            return lines, lnum
    return inspect.findsource(fn)


def getsourcelines(fn):
    """``inspect.getsourcelines(fn)`` for a function, without the tokenizer when possible,
    and the ``ast.parse`` tree of the dedented lines when that was made on the
    way (else ``None``): ``(lines, lnum, tree)``.

    Finding where the block ends (``inspect.getblock``) tokenizes the source in
    pure Python and is most of the cost of reading a function; see
    :func:`_fast_block`.  Raises what ``inspect.getsourcelines`` raises.
    """
    fn = inspect.unwrap(fn)
    all_lines, lnum = _findsource(fn)
    found = _fast_block(all_lines, lnum, getattr(fn, "__code__", None))
    if found is None:
        return inspect.getblock(all_lines[lnum:]), lnum + 1, None
    return found[0], lnum + 1, found[1]


def get_source(fn):
    """``getsourcelines(fn)``, or raise SourceNotFoundError."""
    code = getattr(fn, "__code__", None)
    filename = code.co_filename if code else "<unknown>"
    # sources we generated ourselves are registered with linecache
    try:
        return getsourcelines(fn)
    except (OSError, TypeError):
        lines = linecache.getlines(filename)
        if not lines or code is None:
            raise SourceNotFoundError(
                f"function {getattr(fn, '__qualname__', fn)!r}",
                detail="its source code cannot be read",
                filename=filename, lineno=code.co_firstlineno if code else None,
                hint="sourcegrad differentiates Python source; define the function in a "
                     "file or notebook cell (not exec/eval), or register a rule for it with "
                     "@sourcegrad.adjoint(fn)") from None
        start = code.co_firstlineno
        return inspect.getblock(lines[start - 1:]), start, None


def _fingerprint(code):
    """What tells lambdas apart: the names and constants they use (bytecode can differ
    between a file and a recompiled snippet)."""
    consts = tuple(repr(k) for k in code.co_consts if not isinstance(k, types.CodeType))
    return code.co_names, code.co_varnames, consts


def _find_lambda(tree, code, first=None):
    """The Lambda node in ``tree`` that compiled to ``code`` (``tree`` parsed from
    source starting at line ``first``)."""
    lambdas = [n for n in astutil.walk(tree) if isinstance(n, gast.Lambda)]
    argnames = code.co_varnames[:code.co_argcount]
    matches = [n for n in lambdas
               if tuple(a.id for a in n.args.args) == tuple(argnames)]
    if len(matches) > 1 and first is not None:  # one statement, lambdas on several lines
        on_line = [n for n in matches if first + n.lineno - 1 == code.co_firstlineno]
        matches = on_line or matches
    if len(matches) > 1:  # several alike on one line: compare bytecode
        chosen = []
        for n in matches:
            try:
                src = gast.unparse(n) if hasattr(gast, "unparse") else None
            except Exception:
                src = None
            if src is None:
                continue
            try:
                c = compile(src, "<lambda>", "eval")
                inner = [k for k in c.co_consts if isinstance(k, types.CodeType)][0]
                if _fingerprint(inner) == _fingerprint(code):
                    chosen.append(n)
            except Exception:
                continue
        if len(chosen) == 1:
            matches = chosen
    return matches[0] if len(matches) == 1 else None


def parse_function(fn) -> Parsed:
    """Parse ``fn`` (a function, lambda or method) into a :class:`Parsed`."""
    fn = unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        raise SourceNotFoundError(f"{fn!r}", detail="is not a Python function")
    lines, start, tree = get_source(fn)
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    colshift = 0
    for a, b in zip(text.splitlines(), dedented.splitlines()):
        if b.strip():
            colshift = len(a) - len(b)
            break
    is_lambda = fn.__name__ == "<lambda>"
    try:
        module = astutil.parse(dedented) if tree is None else astutil.ast_to_gast(tree)
    except SyntaxError:
        if not is_lambda:
            raise
        # a lambda inside a larger expression spanning lines: parse the
        # statement it sits in by trimming trailing junk
        module = None
        for cut in range(len(dedented), 0, -1):
            try:
                module = astutil.parse(dedented[:cut])
                break
            except SyntaxError:
                continue
        if module is None:
            raise
    filename = code.co_filename
    if is_lambda:
        node = _find_lambda(module, code, start)
        if node is None:
            raise SourceNotFoundError(
                "lambda", detail="cannot tell which lambda on this line is meant",
                filename=filename, lineno=code.co_firstlineno,
                hint="give the function a name with def")
        fdef = gast.FunctionDef(
            name="lambda", args=node.args,
            body=[gast.Return(value=node.body)], decorator_list=[], returns=None,
            type_comment=None, type_params=[])
        gast.copy_location(fdef, node)
        fdef.body[0].lineno = node.lineno
        fdef.body[0].col_offset = node.col_offset
    else:
        fdef = module.body[0]
        if not isinstance(fdef, (gast.FunctionDef, gast.AsyncFunctionDef)):
            raise SourcegradError("function", detail="source does not start with def",
                                  filename=filename, lineno=start)
        fdef.decorator_list = []
    closure = {}
    if fn.__closure__:
        closure = dict(zip(code.co_freevars, fn.__closure__))
    return Parsed(fn=fn, tree=fdef, filename=filename, firstline=start,
                  colshift=colshift, globals=fn.__globals__, closure=closure,
                  is_lambda=is_lambda)


MISSING = _MISSING
