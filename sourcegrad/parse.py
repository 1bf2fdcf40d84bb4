"""Stage 1 -- read a function's source and resolve its free names.

``parse_function(fn)`` returns a :class:`Parsed`: the function's gast tree
(a ``FunctionDef``; lambdas are turned into one), the file and line offsets
so errors can point at the user's own lines, and every free name resolved to
the object it denotes *now* (globals, closure cells, builtins).  Those
resolutions are what the transformation depends on, so they double as the
cache guards (see ``api``).
"""
from __future__ import annotations

import __future__
import ast
import builtins
import dis
import importlib
import inspect
import re
import linecache
import textwrap
import types
import weakref
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
    imports: dict = field(default_factory=dict)  # names the body's imports bind -> object

    def resolve(self, name: str) -> Any:
        """The object a free name denotes, or ``_MISSING``."""
        if name in self.closure:
            try:
                return self.closure[name].cell_contents
            except ValueError:  # empty cell
                return _MISSING
        if name in self.imports:
            return self.imports[name]
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
        cls = node.__class__
        if cls is gast.Name:
            helper = getanno(node, "runtime")  # (names only carry one)
            if helper is not None:
                return helper
            if env is not None and node.id in env:
                return env[node.id]
            return _MISSING if node.id in local else self.resolve(node.id)
        if cls is not gast.Attribute:
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
    """The plain function behind a bound method (``staticmethod``/``classmethod``
    objects too).  A decorator's wrapper is not looked through: its
    ``__wrapped__`` (``functools.wraps``) names the function it calls, not what
    it computes, so the wrapper is the function differentiated."""
    while True:
        if isinstance(fn, types.MethodType):
            fn = fn.__func__
        elif isinstance(fn, (staticmethod, classmethod)):
            fn = fn.__func__
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
    fn = unwrap(fn)
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
    lambdas = [n for n in astutil.nodes(tree) if isinstance(n, gast.Lambda)]
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


_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
# instructions whose presence depends on where a def sits (a closure's free names are
# loaded unlike a module's globals), not on what it computes
_PLACEMENT_OPS = {"PUSH_NULL", "COPY_FREE_VARS", "MAKE_CELL", "RESUME", "NOP", "CACHE",
                  "EXTENDED_ARG"}
_FREE_LOADS = {"LOAD_GLOBAL", "LOAD_DEREF", "LOAD_NAME", "LOAD_CLASSDEREF",
               "LOAD_FROM_DICT_OR_DEREF", "LOAD_FROM_DICT_OR_GLOBALS"}
_MANGLED = re.compile(r"^_[A-Za-z0-9]\w*?(__\w+)$")
_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


def _demangle(value):
    """``_Cls__name`` as ``__name``: a method's private names are mangled inside its
    class only."""
    if isinstance(value, str):
        m = _MANGLED.match(value)
        return m.group(1) if m else value
    return value


def _drop_closure_tuple(out):
    """Remove from ``out`` the closure tuple built for the inner function whose code
    was loaded last (``LOAD_FAST``s and ``BUILD_TUPLE`` before its ``LOAD_CONST``,
    Python 3.13; earlier versions' ``LOAD_CLOSURE``s are skipped as they come)."""
    for j in range(len(out) - 1, 0, -1):
        if out[j][0] == "LOAD_CONST" and isinstance(out[j][1], list):
            build = out[j - 1]
            if build[0] == "BUILD_TUPLE" and j - 1 - build[1] >= 1:
                del out[j - 1 - build[1]:j]
            return


def _code_shape(code):
    """What ``code`` computes, independent of where its ``def`` sits: its instructions,
    with free names loaded alike whether global or from a closure, methods alike
    whether looked up on an imported module or not, and jump targets (which those
    differences shift) left out."""
    out = [tuple(code.co_varnames)]
    cells = 0  # LOAD_CLOSUREs just seen: the closure tuple of an inner function
    skipped = False  # that tuple was left out
    for ins in dis.get_instructions(code):
        op = ins.opname
        if op == "LOAD_CLOSURE":
            cells += 1
            continue
        if op == "BUILD_TUPLE" and cells and ins.arg == cells:
            cells = 0  # (a free name of the function is global in a compile on its own)
            skipped = True
            continue
        cells = 0
        if op in _PLACEMENT_OPS:
            continue
        if op == "STORE_NAME" and ins.argval == "__firstlineno__":
            out.pop()  # Python 3.13 stores a class body's line: where the def sits
            continue
        if op in ("MAKE_FUNCTION", "SET_FUNCTION_ATTRIBUTE") and isinstance(ins.argval, int):
            if ins.argval & 0x08 and not skipped:  # a closure: (loads), BUILD_TUPLE, code
                _drop_closure_tuple(out)
            skipped = False
            flags = ins.argval & ~0x08
            if op == "SET_FUNCTION_ATTRIBUTE" and not flags:
                continue
            out.append((op, flags))
        elif op in _FREE_LOADS:
            out.append(("load free", _demangle(ins.argval)))
        elif op == "LOAD_METHOD":  # or LOAD_ATTR, when the module imports the name
            out.append(("LOAD_ATTR", _demangle(ins.argval)))
        elif ins.opcode in _JUMPS:
            out.append((op,))
        elif isinstance(ins.argval, types.CodeType):
            out.append((op, _code_shape(ins.argval)))
        elif isinstance(ins.argval, (float, complex, tuple, frozenset)):
            out.append((op, repr(ins.argval)))  # nan, -0.0: by their text
        elif isinstance(ins.argval, str) and "<locals>." in ins.argval:
            out.append((op, ins.argval.rpartition("<locals>.")[2]))  # an inner qualname
        else:
            out.append((op, _demangle(ins.argval)))
    return out


def _module_names(code, globals_, out):
    """The global names ``code`` (and code nested in it) reads that hold modules."""
    for n in code.co_names:
        if isinstance(globals_.get(n), types.ModuleType):
            out.add(n)
    for k in code.co_consts:
        if isinstance(k, types.CodeType):
            _module_names(k, globals_, out)
    return out


def _compiled_from(text, code, filename, globals_, tree=None):
    """Whether ``text`` (the source read for ``code``'s function) compiles to ``code``:
    False when the file was edited after the function was defined.  None when the
    text cannot be compiled on its own (then nothing can be told).  ``tree``: the
    ``ast.parse`` of ``text``, if the caller has it (compiled without parsing again)."""
    # `np.sum(...)` compiles to other instructions when the module imports `np`: say
    # so, and a module-level function compiles to the very same bytes
    modules = sorted(_module_names(code, globals_, set()))
    if tree is not None:
        source = tree
        if modules:
            head = ast.Import(names=[ast.alias(name=m) for m in modules])
            source = ast.Module(body=[ast.fix_missing_locations(ast.copy_location(
                head, tree.body[0]))] + tree.body, type_ignores=[])
    elif modules:
        source = f"import {', '.join(modules)}\n{text}"
    else:
        source = text
    try:
        module = compile(source, filename, "exec", flags=code.co_flags & _FUTURE_FLAGS,
                         dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    found = []
    todo = [module]
    while todo:
        c = todo.pop()
        for k in c.co_consts:
            if isinstance(k, types.CodeType):
                if k.co_name == code.co_name:
                    found.append(k)
                todo.append(k)
    for k in found:  # the cheap test first: a module-level def compiles to the same bytes
        if k.co_code == code.co_code and k.co_varnames == code.co_varnames and \
                k.co_names == code.co_names and repr(k.co_consts) == repr(code.co_consts):
            return True
    if "__class__" in code.co_freevars:  # super(): compiled otherwise inside its class
        return any(k.co_varnames == code.co_varnames and
                   {_demangle(n) for n in k.co_names} == {_demangle(n) for n in code.co_names}
                   and [repr(c) for c in k.co_consts if not isinstance(c, types.CodeType)] ==
                   [repr(c) for c in code.co_consts if not isinstance(c, types.CodeType)]
                   for k in found)
    shape = _code_shape(code)
    return any(_code_shape(k) == shape for k in found)


_CURRENT = weakref.WeakKeyDictionary()  # code -> the text last found to compile to it


def _check_current(fn, code, text, filename, start, tree=None):
    """Refuse a function whose source file changed after it was defined: the text
    read is not the code that runs, and its derivative would not match it.
    ``tree``: ``ast.parse(text)``, if the caller has it."""
    if _CURRENT.get(code) == text:
        return
    ok = _compiled_from(text, code, filename, getattr(fn, "__globals__", {}), tree)
    if ok:
        _CURRENT[code] = text
    elif ok is False:
        raise SourcegradError(
            f"function {fn.__qualname__!r}",
            detail=f"its source in {filename} changed after it was defined (the text on "
                   f"disk is not the code that runs)",
            hint="reload the module (importlib.reload) or restart Python, so that the "
                 "function runs the text that is differentiated",
            filename=filename, lineno=start)


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
    parsed_text = dedented
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
                parsed_text = dedented[:cut]
                break
            except SyntaxError:
                continue
        if module is None:
            raise
    filename = code.co_filename
    _check_current(fn, code, parsed_text, filename, start,
                   tree if parsed_text is dedented else None)
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
                  is_lambda=is_lambda, imports=_hoist_imports(fdef, fn.__globals__))


def _hoist_imports(fdef, globals_):
    """The imports among the statements of ``fdef``'s body (not in a block), done now
    and taken out of it: ``{name: object}`` for the names they bind, which then
    denote those objects as a global would.  An import whose name the function also
    assigns, ``from m import *``, and one that fails stay (the fence refuses them)."""
    stored = {n.id for n in astutil.nodes(fdef) if isinstance(n, gast.Name)
              and isinstance(n.ctx, (gast.Store, gast.Del))}
    imports, body = {}, []
    for st in fdef.body:
        got = _import_of(st, globals_) if isinstance(st, (gast.Import, gast.ImportFrom)) \
            else None
        if got is None or stored & set(got):
            body.append(st)
        else:
            imports.update(got)
    if imports:
        fdef.body = body or [gast.Pass()]
    return imports


def _import_of(st, globals_):
    """``{name: object}`` bound by the import statement ``st``, or None."""
    out = {}
    try:
        if isinstance(st, gast.Import):
            for a in st.names:
                importlib.import_module(a.name)
                top = a.name.split(".")[0]
                out[a.asname or top] = importlib.import_module(a.name if a.asname else top)
            return out
        if any(a.name == "*" for a in st.names):
            return None
        package = globals_.get("__package__") if st.level else None
        module = importlib.import_module("." * st.level + (st.module or ""), package)
        for a in st.names:
            if hasattr(module, a.name):
                out[a.asname or a.name] = getattr(module, a.name)
            else:  # a submodule
                out[a.asname or a.name] = importlib.import_module(
                    f"{module.__name__}.{a.name}")
    except ImportError:
        return None
    return out


MISSING = _MISSING
