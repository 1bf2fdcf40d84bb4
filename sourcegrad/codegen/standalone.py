"""A standalone module: generated code linked with everything it reads.

``Linker`` resolves each name the generated text reads to the object it
denotes and writes that object out as source once (an import, a literal, a
function's own source read recursively, a ``class mod:`` namespace of the
attributes read, another derivative's generated text), or *binds* it (the
module's ``bind(...)`` supplies it); ``gradient_wrapper`` prints the module's
entry point for a gradient function.  ``sg.export`` is their user: it decides
only what of sourcegrad a module may carry.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import io
import keyword
import math
import os
import symtable
import sys
import sysconfig
import textwrap
import tokenize
import types

import numpy as np

# arrays with more elements than this are bound, not written out as literals
MAX_LITERAL = 10_000

_MISSING = object()
_FUTURE = "from __future__ import annotations\n"
# names the exported module defines itself
_RESERVED = {"gradient", "bind", "BOUND", "_check_bound", "_check_args", "annotations"}


def _strip_annotations(text: str) -> str:
    """``text`` without annotations (never evaluated in the exported module)."""
    tree = ast.parse(text)
    changed = False
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            node.returns, changed = None, True
        elif isinstance(node, ast.arg) and node.annotation is not None:
            node.annotation, changed = None, True
        elif isinstance(node, ast.AnnAssign):
            node.annotation, changed = ast.Constant(value=None), True
    return ast.unparse(tree) if changed else text


def _free_names(text: str) -> set:
    """Names ``text`` (a module body) reads but does not define at its top level."""
    table = symtable.symtable(_FUTURE + _strip_annotations(text), "<export>", "exec")
    top_defined = set()
    free = set()
    for s in table.get_symbols():
        if s.is_assigned() or s.is_imported():
            top_defined.add(s.get_name())
        elif s.is_referenced():
            free.add(s.get_name())

    def walk(t):
        for s in t.get_symbols():
            if s.is_referenced() and s.is_global():
                free.add(s.get_name())
        for child in t.get_children():
            walk(child)

    for child in table.get_children():
        walk(child)
    free.discard("annotations")
    return free - top_defined


def _top_defs(text: str) -> list:
    return [n.name for n in ast.parse(text).body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _attrs_of(text: str, name: str) -> set:
    """The attributes read as ``name.attr`` in ``text``."""
    return {n.attr for n in ast.walk(ast.parse(text))
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == name}


def _all_names(text: str) -> set:
    return {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)} | \
        {a.arg for a in ast.walk(ast.parse(text)) if isinstance(a, ast.arg)} | \
        set(_top_defs(text))


def _rename(text: str, mapping: dict) -> str:
    """Rename the names in ``mapping`` throughout ``text``, keeping its layout.

    Attribute names (after a ``.``) and keyword-argument names are left alone.
    """
    if not mapping:
        return text
    toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines(keepends=True)
    edits = []
    depth = 0
    significant = [t for t in toks if t.type not in (tokenize.NL, tokenize.NEWLINE,
                                                     tokenize.COMMENT, tokenize.INDENT,
                                                     tokenize.DEDENT)]
    for i, t in enumerate(significant):
        if t.type == tokenize.OP and t.string in "([{":
            depth += 1
        elif t.type == tokenize.OP and t.string in ")]}":
            depth -= 1
        if t.type != tokenize.NAME or t.string not in mapping:
            continue
        prev = significant[i - 1] if i else None
        nxt = significant[i + 1] if i + 1 < len(significant) else None
        if prev is not None and prev.type == tokenize.OP and prev.string == ".":
            continue
        if depth > 0 and nxt is not None and nxt.type == tokenize.OP and nxt.string == "=":
            continue
        edits.append((t.start, t.end, mapping[t.string]))
    for (row, col), (erow, ecol), new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[ecol:]
    return "".join(lines)


def _function_source(obj) -> str:
    """The dedented source of a function or class, without decorators."""
    try:
        text = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as exc:
        raise _NoSource(str(exc)) from None
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise _NoSource(f"its source does not parse on its own ({exc.msg})") from None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        raise _NoSource("its source is not a def or class statement (a lambda?)")
    if node.decorator_list:
        text = "".join(text.splitlines(keepends=True)[node.lineno - 1:])
    return text.rstrip() + "\n"


class _NoSource(Exception):
    pass


def _is_stdlib(modname: str) -> bool:
    top = modname.split(".")[0]
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return top in names
    if top in sys.builtin_module_names:
        return True
    mod = sys.modules.get(top)
    f = getattr(mod, "__file__", None)
    if not f:
        return False
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    f = os.path.realpath(f)
    return f.startswith(stdlib) and "site-packages" not in f


def _importable(obj):
    """(module name, qualname) if ``obj`` is reachable as ``module.qualname``."""
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(mod, str) or not isinstance(qual, str) or "<" in qual:
        return None
    try:
        target = importlib.import_module(mod)
        for part in qual.split("."):
            target = getattr(target, part)
    except Exception:
        return None
    return (mod, qual) if target is obj else None


_SCIPY_PUBLIC = ("scipy.special", "scipy.stats", "scipy.linalg", "scipy.signal",
                 "scipy.integrate", "scipy.optimize")


def _scipy_path(obj):
    """``(public module, name)`` of a SciPy function, ufunc or distribution object
    (``scipy.stats.norm``), or None."""
    if isinstance(obj, (types.ModuleType, type)) or "scipy" not in sys.modules:
        return None
    names = {getattr(obj, "__name__", None), getattr(obj, "name", None)}
    for modname in _SCIPY_PUBLIC:
        mod = sys.modules.get(modname)
        for name in names:
            if mod is not None and isinstance(name, str) and getattr(mod, name, None) is obj:
                return modname, name
    if not callable(obj) or not (getattr(type(obj), "__module__", "") or "").startswith("scipy"):
        return None
    for modname in _SCIPY_PUBLIC:  # scipy.stats.multivariate_normal: no name of its own
        for name, value in vars(sys.modules.get(modname, types)).items():
            if value is obj and not name.startswith("_"):
                return modname, name
    return None


def _import_line(obj, name):
    """``from module import attr as name`` for a standard-library function or a
    SciPy object (the derivative of SciPy code imports SciPy), else None."""
    found = _scipy_path(obj)
    if found is None:
        found = _importable(obj) if callable(obj) else None
        if not (found and _is_stdlib(found[0]) and "." not in found[1]):
            return None
    mod, attr = found
    return f"from {mod} import {attr}" if attr == name else f"from {mod} import {attr} as {name}"


def _numpy_path(obj):
    """``path`` such that ``numpy.<path> is obj``, for NumPy's public objects."""
    name = getattr(obj, "__name__", None)
    if isinstance(name, str) and getattr(np, name, None) is obj:
        return name
    found = _importable(obj)
    if found and found[0].split(".")[0] == "numpy":
        mod, qual = found
        sub = mod[len("numpy"):].lstrip(".")
        # prefer the public module (numpy.linalg) over a private one (numpy.linalg._linalg)
        parts = [p for p in sub.split(".") if p and not p.startswith("_")]
        for k in range(len(parts), -1, -1):
            cand = ".".join(parts[:k] + [qual])
            try:
                target = np
                for p in cand.split("."):
                    target = getattr(target, p)
            except AttributeError:
                continue
            if target is obj:
                return cand
    return None




class _Unit:
    """A piece of source to emit and the namespace its free names resolve in."""

    def __init__(self, text, lookup, defines, where):
        self.text = text
        self.lookup = lookup          # name -> object (or _MISSING)
        self.defines = defines        # top-level def name -> object (or None)
        self.where = where            # for messages


def _chain_lookup(*dicts):
    def lookup(name):
        for dct in dicts:
            if dct is not None and name in dct:
                v = dct[name]
                if isinstance(v, types.CellType):
                    try:
                        return v.cell_contents
                    except ValueError:
                        return _MISSING
                return v
        return getattr(builtins, name, _MISSING)
    return lookup


def _function_lookup(fn):
    closure = {}
    code = getattr(fn, "__code__", None)
    if code is not None and getattr(fn, "__closure__", None):
        closure = dict(zip(code.co_freevars, fn.__closure__))
    return _chain_lookup(closure, getattr(fn, "__globals__", {}))


def _class_lookup(cls):
    mod = sys.modules.get(cls.__module__)
    return _chain_lookup(getattr(mod, "__dict__", {}))




class Linker:
    """Links generated code and everything it reads into one standalone module.

    Each name the code reads is resolved to the object it denotes and written
    out as source once (an import, a literal, a function's own source read
    recursively, a ``class mod:`` namespace of the attributes read, another
    derivative's generated text), or *bound* (listed in ``bound``, supplied by
    ``bind(...)`` in the written module).  ``engine(obj)``: the name of the part
    of sourcegrad's engine ``obj`` belongs to when the module cannot carry it
    (a stub raising RuntimeError is written, listed in ``stubs``), else None;
    ``bind``: objects always bound (weights).  ``sg.export`` is its user.
    """

    def __init__(self, engine=None, bind=()):
        self.engine = engine or (lambda obj: None)
        self.names = {n: getattr(builtins, n) for n in dir(builtins)}  # name -> object
        self.by_id = {}          # id(obj) -> module-level name
        for n, obj in self.names.items():
            if not n.startswith("_") and (callable(obj) or isinstance(obj, type)):
                self.by_id.setdefault(id(obj), n)
        for n in _RESERVED:
            self.names[n] = _RESERVED
        self.names["np"] = np
        self.by_id[id(np)] = "np"
        self.keep = []           # keeps objects alive so ids stay unique
        self.imports = ["import numpy as np"]  # import lines
        self.body = []           # definitions, dependencies first
        self.aliases = []        # name = other_name
        self.namespaces = {}     # name -> (module, set of attrs)
        self.bound = {}          # name -> description
        self.pending = set()     # names reserved for an object not yet defined
        self.stubs = {}          # name -> why (needs sourcegrad at run time)
        self.gen = {}            # id(compiled callee function) -> Derivative
        self.gen_done = set()
        self.weight_ids = {id(w) for w in bind}

    def _collect(self, d):
        for c in getattr(d, "callees", ()) or ():
            for f in c.functions:
                self.gen.setdefault(id(f), c)
            self._collect(c)

    # -- names -------------------------------------------------------------------------
    def _fresh(self, base, avoid=()):
        n, i = base, 0
        while n in self.names or keyword.iskeyword(n) or n in avoid:
            i += 1
            n = f"{base}_{i}"
        return n

    def _claim(self, name, obj):
        self.names[name] = obj
        self.keep.append(obj)
        if not _is_literal_type(obj):
            self.by_id.setdefault(id(obj), name)

    # -- units -------------------------------------------------------------------------
    def _emit_unit(self, unit):
        """Resolve the names ``unit`` reads (emitting what they need); return its text."""
        renames = {}
        avoid = _all_names(unit.text)
        for name, obj in unit.defines.items():
            owner = self.names.get(name, _MISSING)
            if owner is _MISSING or (obj is not None and owner is obj):
                self._claim(name, obj if obj is not None else object())
            else:
                new = self._fresh(name, avoid)
                self._claim(new, obj if obj is not None else object())
                renames[name] = new
        wanted = []
        for name in sorted(_free_names(unit.text)):
            obj = unit.lookup(name)
            if obj is _MISSING:
                continue  # unresolved here too: the original would raise NameError
            if name not in self.names:  # reserve it, so code emitted meanwhile can't take it
                self.names[name] = obj
                self.pending.add(name)
            wanted.append((name, obj))
        for name, obj in wanted:
            try:
                got = self._want(name, obj, unit, avoid)
            except _NoSource as exc:
                raise ValueError(f"export: cannot write {name!r} ({_describe(obj)}), read by "
                                 f"{unit.where}: {exc}") from None
            if got != name:
                renames[name] = got
            if isinstance(obj, types.ModuleType) and got in self.namespaces:
                self._namespace_attrs(got, obj, _attrs_of(unit.text, name), unit)
        return _rename(unit.text, renames)

    def _want(self, name, obj, unit, avoid=()):
        """The module-level name under which ``obj`` is available, preferring ``name``."""
        owner = self.names.get(name, _MISSING)
        if owner is obj and name in self.pending:
            self.pending.discard(name)
            del self.names[name]
            owner = _MISSING
        elif owner is obj:
            return name
        key = id(obj)
        if key in self.by_id and self.names.get(self.by_id[key]) is obj:
            existing = self.by_id[key]
            if existing in self.bound:
                return existing  # one bound name per object (an alias could not be set)
            if owner is _MISSING and not isinstance(obj, types.ModuleType):
                self._claim(name, obj)
                self.aliases.append(f"{name} = {existing}")
                return name
            if owner is _MISSING:
                return self._define(name, obj, unit)
            return existing
        target = name if owner is _MISSING and not keyword.iskeyword(name) \
            else self._fresh(name, avoid)
        return self._define(target, obj, unit)

    def _define(self, name, obj, unit):
        """Make ``name`` mean ``obj`` in the exported module; return ``name``."""
        engine = self.engine(obj)
        if engine is not None:
            return self._stub(name, obj, engine)
        if isinstance(obj, types.ModuleType):
            self._claim(name, obj)
            modname = obj.__name__
            if modname.split(".")[0] in ("numpy", "scipy") or _is_stdlib(modname):
                if name == modname:
                    self.imports.append(f"import {modname}")
                elif "." in modname:
                    pkg, _, leaf = modname.rpartition(".")
                    self.imports.append(f"from {pkg} import {leaf}" if leaf == name
                                        else f"from {pkg} import {leaf} as {name}")
                else:
                    self.imports.append(f"import {modname} as {name}")
            else:
                self.namespaces[name] = (obj, {})
            return name
        lit = _literal(obj, self, unit) if not self._must_bind(obj) else None
        if lit is not None:
            self._claim(name, obj)
            self.body.append(f"{name} = {lit}\n")
            return name
        npath = _numpy_path(obj) if callable(obj) or isinstance(obj, type) else None
        if npath is not None:
            np_name = self._want("np", np, unit)
            self._claim(name, obj)
            self.body.append(f"{name} = {np_name}.{npath}\n")
            return name
        line = _import_line(obj, name)
        if line is not None:
            self._claim(name, obj)
            self.imports.append(line)
            return name
        if id(obj) in self.gen:
            return self._define_generated(name, obj)
        if isinstance(obj, types.FunctionType) and hasattr(obj, "__wrapped__"):
            return self._bind(name, obj, "a decorator's wrapper (it may compute other "
                                         "than the function it wraps)")
        if isinstance(obj, (types.FunctionType, type)) and not self._must_bind(obj):
            target = obj
            try:
                text = _function_source(target)
            except _NoSource as exc:
                return self._bind(name, obj, f"no Python source: {exc}")
            own = target.__name__
            if own != name:
                text = _rename(text, {own: name})
            self._claim(name, obj)
            if target is not obj:
                self.by_id.setdefault(id(target), name)
                self.keep.append(target)
            lookup = _class_lookup(target) if isinstance(target, type) \
                else _function_lookup(target)
            where = f"{getattr(target, '__module__', '?')}.{target.__qualname__}"
            # the name is claimed first, so a recursive reference resolves to it
            self.body.append(self._emit_unit(_Unit(text, lookup, {}, where)))
            return name
        return self._bind(name, obj, _describe(obj))

    def _stub(self, name, obj, engine):
        """``name``: a function that raises, for a part of sourcegrad's engine (or its
        parser libraries) the derivative reaches at run time."""
        self._claim(name, obj)
        what = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or name
        why = f"{engine}.{what}" if not isinstance(obj, types.ModuleType) else engine
        self.stubs[name] = why
        msg = (f"{name} ({why}) needs sourcegrad at run time: this path of the derivative "
               f"dispatches when it runs (a call through a variable or attribute, or grad "
               f"inside the differentiated code), so the standalone export cannot take it")
        self.body.append(f"def {name}(*args, **kwargs):\n    raise RuntimeError({msg!r})\n")
        return name

    def _must_bind(self, obj):
        return id(obj) in self.weight_ids

    def _bind(self, name, obj, why):
        self._claim(name, obj)
        self.bound[name] = why
        return name

    def _define_generated(self, name, fn):
        d = self.gen[id(fn)]
        if id(d) not in self.gen_done:
            self.gen_done.add(id(d))
            self._emit_derivative(d)
        got = self.by_id.get(id(fn))
        if got is None:  # not defined by the callee's text: fall back to its source
            return self._bind(name, fn, "a generated function without its text")
        if got != name and self.names.get(name, _MISSING) is _MISSING:
            self._claim(name, fn)
            self.aliases.append(f"{name} = {got}")
            return name
        return got

    def _emit_derivative(self, d):
        text = d.text or d.source
        byname = {f.__name__: f for f in d.functions}
        defines = {n: byname.get(n) for n in _top_defs(text)}
        name = getattr(d, "name", "") or (d.functions[0].__name__ if d.functions else "?")
        unit = _Unit(text, _chain_lookup(d.env, d.closure, d.globals), defines,
                     f"the derivative {name}")
        self.body.append(self._emit_unit(unit))

    def _namespace_attrs(self, ns_name, mod, attrs, unit):
        _, have = self.namespaces[ns_name]
        for attr in sorted(attrs - set(have)):
            try:
                obj = getattr(mod, attr)
            except AttributeError:
                continue
            have[attr] = None
            have[attr] = self._want(attr, obj, unit)

    # -- the module ----------------------------------------------------------------------

    # -- the module ----------------------------------------------------------------------
    def derivative(self, d) -> str:
        """Link the derivative ``d`` (and the derivatives it calls); the name of its
        main function in the module."""
        self._collect(d)
        for f in d.functions:
            self.gen.setdefault(id(f), d)
        self.gen_done.add(id(d))
        self._emit_derivative(d)
        return self.by_id[id(d.functions[0])]

    def entry(self, text, namespace, name) -> str:
        """Link ``text``, the module's entry point defining ``name`` (reserved until
        now), its free names resolved in ``namespace``."""
        unit = _Unit(text, _chain_lookup(namespace), {}, name)
        self.names.pop(name)
        unit.defines = {name: None}
        return self._emit_unit(unit)

    def module(self, docstring, entry_text, checked=False) -> str:
        """The module's text: ``docstring``, imports, ``BOUND`` and ``bind``, the
        definitions (dependencies first), ``_check_args`` when ``checked``, then
        ``entry_text`` (linked by ``entry``)."""
        out = [docstring, "from __future__ import annotations", ""]
        out += list(dict.fromkeys(self.imports))
        out += ["", f"BOUND = {tuple(self.bound)!r}", "", "", _BIND_TEXT]
        for c in self.body:
            if c is not None:
                out += ["", "", c.rstrip("\n")]
        tail = self._namespace_classes()
        if tail:
            out.append("")
            out += tail
        if checked:
            out += ["", "", _CHECK_ARGS_TEXT.rstrip("\n")]
        out += ["", "", entry_text.rstrip("\n"), ""]
        text = "\n".join(out)
        # tidy: at most two blank lines in a row
        while "\n\n\n\n" in text:
            text = text.replace("\n\n\n\n", "\n\n\n")
        compile(text, "<export>", "exec")
        return text

    def _namespace_classes(self):
        """The aliases, then a ``class mod:`` per module whose attributes the code reads."""
        tail = list(self.aliases)
        for ns_name, (mod, attrs) in self.namespaces.items():
            tail += ["", "", f"class {ns_name}:",
                     f'    """The parts of {mod.__name__} the code above uses."""']
            for attr, got in sorted(attrs.items()):
                tail.append(f"    {attr} = staticmethod({got})" if _is_function(
                    self.names.get(got)) else f"    {attr} = {got}")
        return tail


def gradient_wrapper(g, main, checked=None):
    """The text of an exported module's ``gradient(*args, **kwargs)``: calls the
    derivative ``main`` and returns what the gradient function described by ``g``
    (an ``api.GradSignature``) returns, gradients fixed to their inputs' types by
    ``_fix`` (``api.fix_gradient``).  ``checked``: the ``(shape, dtype)`` (or None)
    of each positional argument a specialised derivative checks."""
    lines = ["def gradient(*args, **kwargs):" if g.weights is None
             else "def gradient(*args, weights, **kwargs):"]
    lines.append('    """What the gradient function returned in sourcegrad '
                 '(see the module docstring)."""')
    lines.append("    _check_bound()")
    if g.sens:
        lines += ["    if not args:",
                  "        raise TypeError('sens_param=True: pass the output\\'s "
                  "sensitivity as the last positional argument')",
                  "    *args, sens = args",
                  "    kwargs['sens'] = sens"]
    if checked is not None:
        lines.append(f"    _check_args(args, {checked!r})")
    if g.weights is not None:
        lines += ["    weights = tuple(weights)",
                  f"    if len(weights) != {len(g.weights)}:",
                  f"        raise TypeError('weights: pass the {len(g.weights)} arrays "
                  f"the derivative was exported for, in this order: "
                  f"{', '.join(_pname(w) for w in g.weights)}')",
                  "    acc = WeightGrads(weights)",
                  "    kwargs['weight_grads'] = acc"]
    call = f"{main}(bound_self, *args, **kwargs)" if g.bound_self is not None \
        else f"{main}(*args, **kwargs)"
    lines.append(f"    res = {call}")
    if g.value:
        lines.append("    out, grads = res")
    elif g.has_aux:
        lines.append("    grads, aux = res")
    else:
        lines.append("    grads = res")
    names = g.params
    if g.positions is not None:
        lines.append(f"    names = {tuple(names)!r}")
        lines.append("    def arg(p):")
        lines.append("        return args[p] if p < len(args) else kwargs.get(names[p])")
        if g.single:
            p = g.positions[0]
            fix = f"_fix(grads, arg({p}))"
            lines.append(f"    grads = {'(%d, %s)' % (p, fix) if g.return_ids else fix}")
        else:
            fixed = f"tuple(_fix(gr, arg(p)) for gr, p in zip(grads, {g.positions!r}))"
            lines.append(f"    grads = {fixed}")
            if g.return_ids:
                lines.append(f"    grads = tuple(zip({g.positions!r}, grads))")
    if g.weights is not None:
        lines += ["    wg = tuple(_fix(acc.get(id(p)) if acc.get(id(p)) is not None",
                  "                    else np.zeros_like(p), p) for p in weights)",
                  "    wg = tuple(np.asarray(gr).view(np.ndarray) for gr in wg)"]
        if g.return_ids:
            lines.append(f"    wg = tuple(zip({tuple(_pname(w) for w in g.weights)!r}, wg))")
        wpart = "wg[0]" if g.single_weight else "wg"
        lines.append(f"    grads = {wpart}" if g.positions is None
                     else f"    grads = (grads, {wpart})")
    if g.value:
        lines.append("    return out, grads")
    elif g.has_aux:
        lines.append("    return grads, aux")
    else:
        lines.append("    return grads")
    return "\n".join(lines) + "\n"


_BIND_TEXT = '''def _check_bound():
    missing = [n for n in BOUND if n not in globals()]
    if missing:
        raise RuntimeError("call bind(" + ", ".join(n + "=..." for n in missing) + ") first: "
                           "these objects could not be written as source (see the docstring)")


def bind(**objects):
    """Supply the objects listed in BOUND (see the module docstring)."""
    unknown = sorted(set(objects) - set(BOUND))
    if unknown:
        raise TypeError("bind(): unexpected " + ", ".join(unknown) + "; this module binds "
                        + (", ".join(BOUND) or "nothing"))
    globals().update(objects)'''

_CHECK_ARGS_TEXT = '''def _check_args(args, signature):
    for i, (a, want) in enumerate(zip(args, signature)):
        if want is None:
            continue
        shape, dtype = want
        if np.shape(a) != shape or str(np.asarray(a).dtype) != dtype:
            raise ValueError(f"argument {i}: this derivative was exported for shape {shape} "
                             f"{dtype}, got {np.shape(a)} {np.asarray(a).dtype}; export it "
                             f"again with arguments of these shapes, or without arguments "
                             f"for the general derivative")
'''


# sourcegrad modules whose code a standalone derivative may carry: the helpers


def _is_function(obj):
    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, np.ufunc))


def _pname(w):
    return str(getattr(w, "name", None) or "?")


def _describe(obj):
    try:
        r = repr(obj)
    except Exception:
        r = "<unprintable>"
    if len(r) > 60:
        r = r[:57] + "..."
    return f"{type(obj).__module__}.{type(obj).__qualname__} {r}".replace("\n", " ")


def _is_literal_type(obj):
    return obj is None or isinstance(obj, (bool, int, float, complex, str, bytes))


def _literal(obj, ex, unit, depth=0):
    """Source text that evaluates to (a copy of) ``obj``, or None."""
    if depth > 20:
        return None
    if obj is None or obj is Ellipsis or isinstance(obj, (bool, str, bytes)):
        return "..." if obj is Ellipsis else repr(obj)
    for kinds, write in _LITERALS:  # (np.float64 is a float: the scalar writer takes it)
        text = write(obj, ex, unit, depth + 1) if isinstance(obj, kinds) else None
        if text is not None:
            return text
    return None


def _int_literal(obj, ex, unit, depth):
    return repr(obj) if type(obj) is int else None


def _float_literal(obj, ex, unit, depth):
    if type(obj) is not float:
        return None
    return repr(obj) if math.isfinite(obj) else f"float({str(obj)!r})"


def _complex_literal(obj, ex, unit, depth):
    return f"complex({str(obj)!r})" if type(obj) is complex else None


def _scalar_literal(obj, ex, unit, depth):
    path = _numpy_path(type(obj)) if type(obj).__module__ == "numpy" else None
    if path is None:
        return None
    inner = _literal(obj.item(), ex, unit, depth)
    return None if inner is None else f"{ex._want('np', np, unit)}.{path}({inner})"


def _dtype_literal(obj, ex, unit, depth):
    if obj.fields is not None:
        return None
    return f"{ex._want('np', np, unit)}.dtype({obj.str!r})"


def _array_literal(obj, ex, unit, depth):
    if obj.size > MAX_LITERAL or obj.dtype.kind not in "biufc" or ex._must_bind(obj):
        return None
    np_name = ex._want("np", np, unit)
    arr = np.asarray(obj)
    body = repr(arr.tolist()) if arr.dtype.kind != "f" else _float_list(arr)
    text = f"{np_name}.array({body}, dtype={np_name}.dtype({arr.dtype.str!r}))"
    return text + f".reshape({arr.shape!r})" if arr.size == 0 else text


def _items_literal(values, ex, unit, depth):
    """The literals of ``values`` joined by commas, or None if one has none."""
    parts = [_literal(v, ex, unit, depth) for v in values]
    return None if any(p is None for p in parts) else ", ".join(parts)


def _sequence_literal(obj, ex, unit, depth):
    if type(obj) not in (tuple, list, set, frozenset):
        return None
    inner = _items_literal(obj, ex, unit, depth)
    if inner is None:
        return None
    if type(obj) is tuple:
        return f"({inner}{',' if len(obj) == 1 else ''})"
    return f"[{inner}]" if type(obj) is list else f"{type(obj).__name__}([{inner}])"


def _dict_literal(obj, ex, unit, depth):
    if type(obj) is not dict:
        return None
    items = []
    for k, v in obj.items():
        ks, vs = _literal(k, ex, unit, depth), _literal(v, ex, unit, depth)
        if ks is None or vs is None:
            return None
        items.append(f"{ks}: {vs}")
    return "{" + ", ".join(items) + "}"


def _slice_literal(obj, ex, unit, depth):
    inner = _items_literal((obj.start, obj.stop, obj.step), ex, unit, depth)
    return None if inner is None else f"slice({inner})"


# (types, writer) in the order they are tried; a writer returns None to refuse
_LITERALS = ((int, _int_literal), (float, _float_literal), (complex, _complex_literal),
             (np.generic, _scalar_literal), (np.dtype, _dtype_literal),
             (np.ndarray, _array_literal), ((tuple, list, set, frozenset), _sequence_literal),
             (dict, _dict_literal), (slice, _slice_literal))


def _float_list(arr):
    def conv(x):
        if isinstance(x, list):
            return "[" + ", ".join(conv(v) for v in x) + "]"
        if isinstance(x, complex):
            return repr(x)
        if math.isfinite(x):
            return repr(x)
        return f"float({str(x)!r})"
    return conv(arr.tolist())
