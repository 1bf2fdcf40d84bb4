"""``sg.jit``: a derivative compiled with Numba.

``jit(g)`` takes what ``grad``/``value_and_grad`` returned (or any function
``grad`` accepts) and returns a callable with the same arguments and results.
On a call it transforms as usual (the derivative specialised on the inputs'
shapes), prints that derivative once more in the Numba dialect
(:mod:`sourcegrad.dialect`, through ``codegen``), writes it to a file named
after its text and compiles it with ``numba.njit(cache=True)``: a second
process loads the machine code from Numba's disk cache instead of compiling
again.  The call then runs the compiled function: no Python per operation.

``sg.source(jit(g))`` shows the text that was compiled.  A derivative Numba
cannot compile runs as the NumPy derivative, with one ``JitWarning`` naming
the line Numba refused (``strict=True``: a :class:`SourcegradError` instead).

Numba is optional (``pip install sourcegrad[jit]``); without it ``jit`` raises
an ImportError saying so.  Compiled files live in ``$SOURCEGRAD_JIT_CACHE``
(default ``~/.cache/sourcegrad/jit``).
"""
from __future__ import annotations

import builtins
import hashlib
import inspect
import operator
import os
import re
import types
import warnings

import gast
import numpy as np

from sourcegrad import codegen, ops, runtime, xp
from sourcegrad.api import GradFunction, _distinct, fix_gradient
from sourcegrad.codegen import MISS as _FAST_MISS, fast_path
from sourcegrad.parse import parse_function
from sourcegrad.reverse import note_stmt
from sourcegrad.rules import numpy_core
from sourcegrad.rules import ops as ops_rules
from sourcegrad.dialect import LIB, Unsupported, dotted, flatten_weights, numba_functions
from sourcegrad.errors import SourcegradError

INSTALL_HINT = "pip install sourcegrad[jit]"

# How a derivative is compiled: floating-point errors as NumPy has them (x / 0.0 is
# inf, not ZeroDivisionError), and the fast-math freedoms that keep every value a
# value -- reassociation (vectorised sums), fused multiply-add, reciprocals, the sign
# of zero -- but not the ones assuming no inf or NaN, which a gradient may hold.
NJIT_OPTIONS = {"error_model": "numpy",
                "fastmath": {"reassoc", "contract", "arcp", "nsz"}}


class JitWarning(UserWarning):
    """A function ``sg.jit`` could not compile runs uncompiled (NumPy)."""


def _numba():
    try:
        import numba
    except ImportError as exc:
        raise ImportError(f"sourcegrad.jit needs Numba, which is not installed ({exc}); "
                          f"install it with: {INSTALL_HINT}") from None
    _teach(numba)
    return numba


_TAUGHT = []


def _teach(numba):
    """Numba's meaning of the helpers' ``xp.asarray`` (NumPy's np.asarray that leaves
    another library's array alone): in compiled code every array is NumPy's."""
    if _TAUGHT:
        return
    from numba.extending import overload

    @overload(xp.asarray)
    def _asarray(x, dtype=None):
        if dtype is None or isinstance(dtype, numba.types.NoneType):
            return lambda x, dtype=None: np.asarray(x)
        return lambda x, dtype=None: np.asarray(x, dtype)

    _TAUGHT.append(True)


def cache_dir() -> str:
    """Where compiled derivatives are written (and Numba keeps their machine code)."""
    env = os.environ.get("SOURCEGRAD_JIT_CACHE")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sourcegrad", "jit")


def jit(fn, strict: bool = False):
    """``fn`` compiled with Numba: a gradient from ``grad``/``value_and_grad``, or a
    plain function ``grad`` accepts.

    >>> import numpy as np, sourcegrad as sg
    >>> def f(x):
    ...     return np.sum(np.sin(x) * x)
    >>> g = sg.jit(sg.grad(f))          # doctest: +SKIP
    >>> g(np.linspace(0.0, 1.0, 5))     # doctest: +SKIP

    ``strict=True``: a function Numba cannot compile is an error rather than a
    warning and an uncompiled call.
    """
    _numba()
    if isinstance(fn, _Base):
        return fn
    if isinstance(fn, GradFunction):
        return JitGrad(fn, strict)
    if not callable(fn):
        raise TypeError(f"sg.jit expects a function or what sg.grad returned, got "
                        f"{type(fn).__name__}")
    return JitPlain(fn, strict)


# --------------------------------------------------------------------------
# the helpers the derivative calls, by the role their Numba versions play
# --------------------------------------------------------------------------

def _roles():
    return {id(ops.sigmoid): "sigmoid_where", id(numpy_core._sigmoid): "sigmoid_clip",
            id(runtime.unbroadcast): "unbroadcast",
            id(numpy_core._minmax_grad): "minmax_grad", id(numpy_core._tie): "tie",
            id(numpy_core._above): "above",
            id(runtime.index_adjoint): "index_adjoint",
            # what the derivative of a Cell calls
            id(runtime.seed_like): "seed_like", id(ops.matmul): "matmul",
            id(runtime.matmul_adjoint_a): "matmul_adjoint_a",
            id(runtime.matmul_adjoint_b): "matmul_adjoint_b",
            id(ops_rules._cast): "cast",
            id(ops.binary_cross_entropy_with_logits): "bce_with_logits",
            id(ops_rules._bce_logits_grad_input): "bce_logits_grad_input",
            id(numpy_core._sum_grad): "sum_grad", id(numpy_core._array_grad): "array_grad",
            id(ops_rules._bce_sigmoid): "bce_sigmoid",
            id(runtime.plain): "plain",
            # loops, branches and early returns
            id(runtime.zeros_like): "zeros_like", id(runtime.sequence): "sequence",
            id(runtime.sequence_adjoint): "sequence_adjoint",
            id(ops.ones_like): "ones_like", id(ops.zeros_like): "ops_zeros_like"}


class Compiled:
    """One function in the Numba dialect: its text, and the compiled function (or
    why it runs uncompiled)."""

    def __init__(self, text, call, fallback=None, reason=None):
        self.text = text
        self.call = call          # the Numba dispatcher, or the NumPy function
        self.dispatcher = call if reason is None else None  # (the Numba dispatcher)
        self.fallback = fallback  # the NumPy function (None: nothing to fall back to)
        self.reason = reason      # why it runs uncompiled (None: compiled)
        # Numba takes every argument by position, defaults of keyword-only parameters
        # included (a partial's bound keywords): bound here when the function has any
        defaults = fallback is not None and (getattr(fallback, "__defaults__", None)
                                             or getattr(fallback, "__kwdefaults__", None))
        self.signature = inspect.signature(fallback) if defaults else None

    def positional(self, args, kwargs):
        """``(args, kwargs)`` as the compiled function takes them: all by position,
        defaults filled in, when the function has defaults or is called by keyword."""
        if self.signature is None and not kwargs:
            return args, kwargs
        sig = self.signature or inspect.signature(self.fallback)
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.arguments[n] for n in sig.parameters), {}


def _free_names(fdef):
    bound = {a.id for a in fdef.args.args + fdef.args.kwonlyargs + fdef.args.posonlyargs}
    loads = []
    for n in gast.walk(fdef):
        if isinstance(n, gast.Name):
            if isinstance(n.ctx, (gast.Store, gast.Del, gast.Param)):
                bound.add(n.id)
            else:
                loads.append(n.id)
        elif isinstance(n, (gast.FunctionDef, gast.Lambda)) and n is not fdef:
            bound.add(getattr(n, "name", ""))
    return sorted(set(loads) - bound)


def _with_notes(text):
    """The function definitions in ``text``, with its comments kept as note statements
    (codegen prints them as comments again)."""
    lines = text.splitlines()
    module = gast.parse(text)
    for st in gast.walk(module):
        for field_ in ("body", "orelse"):
            block = getattr(st, field_, None)
            if not isinstance(block, list) or not block or not hasattr(block[0], "lineno"):
                continue
            out = []
            for s in block:
                k = s.lineno - 2
                comments = []
                while k >= 0 and lines[k].lstrip().startswith("#"):
                    comments.append(lines[k].strip()[1:].strip())
                    k -= 1
                for c in reversed(comments):
                    out.append(note_stmt(c))
                out.append(s)
            setattr(st, field_, out)
    return [d for d in module.body if isinstance(d, gast.FunctionDef)]


class _Base:
    shows_source = True  # sg.source() shows what was compiled

    def __init__(self, strict):
        self.strict = strict
        self._compiled = {}  # key -> Compiled
        self._callees = {}  # id(generated function) -> its callee derivative
        self._callee_modules = {}  # id(callee derivative) -> its compiled module
        self._modules = {}  # file of a compiled module -> (its text, where)

    def _build(self, key, fname, text, scope, fallback, where, shapes=None, fdef=None,
               callees=()):
        """Compile function ``fname`` of the generated ``text`` (names resolved in
        ``scope``) in the Numba dialect; ``where(line)``: (file, line) of the user's
        code for a line of the dialect text; ``shapes``: the parameters' abstract
        values when the derivative is specialised on them; ``fdef``: the function's
        tree when it is not one of ``text``'s; ``callees``: the derivatives of the
        functions it calls (their texts are compiled in the dialect too)."""
        numba = _numba()
        got = self._compiled.get(key)
        if got is not None:
            return got
        if fdef is None:
            defs = _with_notes(text)
            fdef = next(d for d in defs if d.name == fname)
        self._callees = {id(f): c for c in _reachable(callees) for f in c.functions}
        try:
            bindings, role_names = self._bindings(numba, [fdef], scope)
        except Unsupported as exc:
            return self._fail(key, "", None, str(exc), fallback, where)
        defs = numba_functions(fdef, role_names, shapes)
        module = self._module(numba, fname, defs, bindings, where)
        dispatcher = getattr(module, fname)
        text = self._modules[os.path.abspath(module.__file__)][0]
        c = self._compiled[key] = Compiled(text, dispatcher, fallback)
        c.module_file = module.__file__
        c.where = where
        return c

    def _module(self, numba, stem, defs, bindings, where):
        """The module of the dialect functions ``defs``, each compiled (cached on disk)."""
        header = (f"# {stem}, compiled by sourcegrad.jit with Numba (the Numba dialect "
                  f"of the derivative; helpers {_helpers_stamp()})\nimport numpy as np\n"
                  f"from sourcegrad import _jitlib as {LIB}\n\n\n")
        module_text = codegen.module_text(defs, header=header)
        module = codegen.load_module(module_text, cache_dir(), stem)
        module.__dict__.update(bindings)
        for d in defs:  # (what a function calls in its own module is compiled along)
            setattr(module, d.name, numba.njit(cache=True, **NJIT_OPTIONS)(
                getattr(module, d.name)))
        self._modules[os.path.abspath(module.__file__)] = (module_text, where)
        return module

    def _bindings(self, numba, fdefs, scope):
        """``(bindings, role_names)`` of the free names of ``fdefs``: what each is bound
        to in the compiled module, and the helpers with a Numba version by the name
        the text calls them (see ``dialect``)."""
        roles = _roles()
        bindings, role_names = {}, {}
        names = sorted({n for fdef in fdefs for n in _free_names(fdef)} -
                       {fdef.name for fdef in fdefs})
        for n in names:
            obj = scope.get(n, getattr(builtins, n, _MISSING))
            if obj is _MISSING:
                continue
            if id(obj) in roles:  # (bound still: a call the dialect leaves as it is)
                role_names[n] = roles[id(obj)]
            if hasattr(builtins, n) and obj is getattr(builtins, n):
                continue
            if n == "np" and obj is not np:
                raise Unsupported("`np` does not name NumPy here")
            callee = self._callees.get(id(obj))
            if callee is not None:
                bindings[n] = self._callee(numba, callee, obj.__name__)
            else:
                bindings[n] = _for_numba(numba, obj)
        for fdef in fdefs:
            for node in gast.walk(fdef):  # module functions by their dotted name: ops.matmul
                if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
                    name = dotted(node.func)
                    if name is None:
                        continue
                    obj = scope.get(name.split(".")[0], _MISSING)
                    for attr in name.split(".")[1:]:
                        obj = getattr(obj, attr, _MISSING)
                    if obj is not _MISSING and id(obj) in roles:
                        role_names[name] = roles[id(obj)]
        return bindings, role_names

    def _callee(self, numba, c, fname):
        """The compiled function ``fname`` of the text of callee derivative ``c`` (its
        forward or backward half), in the Numba dialect as the caller is."""
        module = self._callee_modules.get(id(c))
        if module is None:
            fdefs = _with_notes(c.text)
            bindings, role_names = self._bindings(numba, fdefs, _scope_of(c))
            defs = [numba_functions(fdef, role_names)[0] for fdef in fdefs]
            where = _user_line(c.globals.get("__file__", "<unknown>"))
            module = self._callee_modules[id(c)] = self._module(
                numba, fdefs[0].name, defs, bindings, where)
            module.derivative = c  # (keeps the key's object alive)
        return getattr(module, fname)

    def _run(self, c, args, kwargs):
        """Call ``c``.  What stops Numba compiling it (or the compiled code raising
        where the NumPy derivative does not) turns it into its fallback."""
        if c.reason is None:
            pargs, pkwargs = c.positional(args, kwargs)
            compiled = len(c.dispatcher.overloads)
            try:
                res = c.call(*pargs, **pkwargs)
            except Exception as exc:  # noqa: BLE001 -- Numba raises more than NumbaError
                if len(c.dispatcher.overloads) > compiled or c.dispatcher.overloads and \
                        not _numba_failure(exc):
                    # it compiled, and the compiled code raised: as the NumPy one does?
                    res = c.fallback(*args, **kwargs)
                    self._refused(c, exc, args, ran=True)
                    return res
                self._refused(c, exc, args)
            else:
                if len(c.dispatcher.overloads) > compiled:  # compiled just now
                    c.call = _with_scalars(c.dispatcher)
                    if c.call is not c.dispatcher:
                        res = c.call.fix(res)
                return res
        return c.call(*args, **kwargs)

    def _refused(self, c, exc, args=(), ran=False):
        text = _plain(str(exc))
        at = None
        for m in re.finditer(r'File "([^"]+)", line (\d+)', text):
            known = self._modules.get(os.path.abspath(m.group(1)))
            if known is not None:  # the deepest line of a compiled text
                at, ctext, where = int(m.group(2)), known[0], known[1]
        if at is None:
            ctext, where = c.text, c.where
        if ran:
            reason = f"the compiled code raised {type(exc).__name__} ({_first_line(text)})"
        else:
            reason = _plain_reason(text, exc) or self._argument_reason(c, args) \
                or _first_line(text)
        self._fail(None, ctext, at, reason, c.fallback, where, c)

    @staticmethod
    def _argument_reason(c, args):
        """Which argument Numba has no type for, if one is why it refused."""
        numba = _numba()
        try:
            names = list(inspect.signature(c.fallback).parameters)
        except (TypeError, ValueError):
            names = []
        for k, a in enumerate(args):
            try:
                numba.typeof(a)
            except (ValueError, TypeError):
                name = names[k] if k < len(names) else f"#{k}"
                return f"argument `{name}` is a {type(a).__name__}, which Numba has no type for"
        return None

    def _origin(self):
        """(file, line, name) of the user's function, for a message with no line."""
        return None

    def _fail(self, key, text, at, reason, fallback, where, c=None):
        """Warn (or raise, when strict) in one line naming the user's construct and
        line: the statement of the user's code the refused line of the compiled text
        comes from, else the function itself."""
        user = None
        construct = ""
        if at is not None and text:
            tl = text.splitlines()
            user = where(tl, at)
            construct = _construct(tl, at)
        if user is None:
            origin = self._origin()
            if origin is not None:
                user = origin[:2]
                construct = construct or f"the derivative of {origin[2]}"
        construct = construct or "this derivative"
        place = f" ({user[0]}:{user[1]})" if user else ""
        reason = " ".join(str(reason).split())[:240]
        msg = f"Numba cannot compile {construct}{place}: {reason}"
        if self.strict or fallback is None:
            raise SourcegradError("sg.jit", detail=msg,
                                  filename=user[0] if user else None,
                                  lineno=user[1] if user else None,
                                  hint="call it without strict=True to run it uncompiled"
                                  if self.strict else None)
        warnings.warn(f"sourcegrad.jit: {msg}; running it uncompiled", JitWarning,
                      stacklevel=4)
        if c is None:
            c = Compiled(text, fallback, fallback, reason)
            self._compiled[key] = c
        else:
            c.call, c.reason = fallback, reason
        return c


def _helpers_stamp():
    """A digest of the helpers' source (``_jitlib``, ``dialect``) and Numba's version,
    in each compiled text: Numba's disk cache is keyed on the text's file, so machine
    code compiled against other helpers is not reused."""
    got = _helpers_stamp.__dict__.get("stamp")
    if got is None:
        h = hashlib.sha1(_numba().__version__.encode())
        here = os.path.dirname(os.path.abspath(__file__))
        for name in ("_jitlib.py", "dialect.py"):
            with open(os.path.join(here, name), "rb") as fh:
                h.update(fh.read())
        got = _helpers_stamp.stamp = h.hexdigest()[:12]
    return got


def _with_scalars(dispatcher):
    """``dispatcher``, or a function calling it that gives back what it returns as the
    NumPy derivative returns it (``.fix(result)`` does that alone): Numba returns
    every float as a Python float, where NumPy gives ``np.float32(...)``, and a dict
    or list made in compiled code as Numba's typed container, not Python's."""
    from numba.core import types as nt

    def fixer(t):
        if isinstance(t, nt.Float) and t.bitwidth < 64:
            return np.dtype(str(t)).type
        if isinstance(t, nt.DictType):
            key, value = fixer(t.key_type), fixer(t.value_type)
            key, value = key or (lambda v: v), value or (lambda v: v)
            return lambda d: {key(k): value(v) for k, v in d.items()}
        if isinstance(t, nt.ListType):
            item = fixer(t.item_type) or (lambda v: v)
            return lambda v: [item(e) for e in v]
        if isinstance(t, nt.BaseTuple):
            parts = [fixer(e) for e in t.types]
            if any(parts):
                return lambda v: tuple(f(x) if f else x for f, x in zip(parts, v))
        return None
    overloads = list(dispatcher.overloads.values())
    fix = fixer(overloads[-1].signature.return_type) if overloads else None
    if fix is None:
        return dispatcher

    def call(*args, **kwargs):
        return fix(dispatcher(*args, **kwargs))
    call.fix = fix
    call.overloads = dispatcher.overloads
    return call


def _origin_of(fn):
    """(file, first line, name) of the user's function ``fn`` (None when unknown)."""
    fn = getattr(fn, "func", fn)  # (a functools.partial)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return code.co_filename, code.co_firstlineno, getattr(fn, "__qualname__", fn.__name__)


def _numba_failure(exc):
    """Whether ``exc`` is Numba refusing to compile (not the compiled code raising)."""
    numba = _numba()
    mod = type(exc).__module__ or ""
    return isinstance(exc, numba.core.errors.NumbaError) or mod.startswith("numba")


def _first_line(text):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    reason = next((ln for ln in lines if not ln.startswith(("Failed in", "During:",
                                                             "File ", "-", "^"))),
                  lines[0] if lines else "")
    return re.sub(r"\$[\w.]+", "a temporary", reason)[:200]


def _construct(lines, at):
    """The user's statement line ``at`` of a compiled text comes from (the comment
    above it, ``# stmt   (line N)``), else that line itself, in backquotes."""
    for k in range(at - 1, -1, -1):
        m = re.match(r"\s*#\s*(.*?)\s*\(line \d+\)\s*$", lines[k])
        if m:
            return f"`{m.group(1)}`"
    stmt = lines[at - 1].strip() if 0 < at <= len(lines) else ""
    return f"`{stmt}`" if stmt else ""


_CALLEE = (r"Function\((?:<(?:built-in )?function |<class '|CPUDispatcher\(<function )?"
           r"([\w.]+)")

# Numba's refusals, in the words of the code they refuse: (pattern, message)
_REASONS = [
    (r"Untyped global name '(\w+)'.*?<class '([\w.]+)'>",
     lambda m: f"`{m[1]}` (a {m[2].rsplit('.', 1)[-1]}) is not something Numba compiles"),
    (r"Untyped global name '(\w+)'", lambda m: f"`{m[1]}` is not something Numba compiles"),
    (r"Unknown attribute '(\w+)' of type Module\(<module '([\w.]+)'",
     lambda m: f"Numba has no `{m[2]}.{m[1]}`"),
    (r"Unknown attribute '(\w+)' of type Function\(<ufunc '(\w+)'>\)",
     lambda m: f"Numba has no `np.{m[2]}.{m[1]}`"),
    (r"Unknown attribute '(\w+)' of type ([\w.]+)",
     lambda m: f"Numba has no `{m[2]}.{m[1]}`"),
    (r"Use of unsupported NumPy function '([\w.]+)'",
     lambda m: f"Numba has no `{m[1].replace('numpy.', 'np.')}` (or not with these arguments)"),
    (r"No implementation of function .*?>>> \w+\([^\n]*sourcegrad\.unset",
     lambda m: "a name saved before its first assignment is bound on no path Numba can "
               "type it from (a path without `return`?)"),
    (r"'NoneType' object has no attribute 'args'",
     lambda m: "Numba failed with an internal error typing an in-place operator"),
    (r"No implementation of function " + _CALLEE + r".*?>>> \w+\(([^\n]*)\)",
     lambda m: f"Numba has no `{m[1].rsplit('.', 1)[-1]}` for arguments ({m[2]})"),
    (r"No implementation of function " + _CALLEE,
     lambda m: f"Numba has no `{m[1].rsplit('.', 1)[-1]}` for these arguments"),
    (r"Cannot unify (.+?) and (.+?) for '([\w]+)",
     lambda m: f"`{m[3]}` holds values of two types ({m[1]} and {m[2]})"),
    (r"Cannot unify (.+?) and (.+?) for",
     lambda m: f"a value is of two types ({m[1]} and {m[2]})"),
    (r"Cannot infer the type of variable '(\w+)', have imprecise type: list\(undefined\)",
     lambda m: f"the list `{m[1]}` gets no item Numba can type"),
    (r"Cannot infer the type of variable '(\w+)'",
     lambda m: f"Numba cannot infer the type of `{m[1]}`"),
    (r"Return type of recursive function does not converge",
     lambda m: "a recursive call (Numba cannot type its result)"),
    (r"use of yield in a closure", lambda m: "a generator inside the function"),
    (r"format spec in f-strings not supported",
     lambda m: "an f-string with a format spec"),
    (r"Cannot bind .*? to signature '\(([^)]*)\)'",
     lambda m: f"a call whose arguments Numba cannot bind to ({m[1]})"),
    (r"invalid type in signature: expected a type instance, got \{'(\w+)'",
     lambda m: f"a call passing `{m[1]}` by keyword to a function Numba compiles as it runs"),
    (r"Type of variable '\$[\w.]+' cannot be determined",
     lambda m: "Numba cannot type an intermediate value of this statement"),
    (r"non-precise type pyobject", lambda m: None),  # (an argument's type: see below)
]


def _plain_reason(text, exc):
    """Numba's refusal ``text`` said plainly (None: not one of the known forms)."""
    for pattern, say in _REASONS:
        m = re.search(pattern, text, re.S)
        if m:
            return say(m)
    return None


_MISSING = object()

# Why a gradient of a method (``grad`` of ``net.construct``) runs uncompiled: its
# derivative takes the object itself as its first argument.
_NOT_COMPILED_METHOD = ("the gradient of a method is not compiled: its derivative takes "
                        "the object (self) as an argument, which Numba cannot compile")
# Why a gradient with ``weights=`` may run uncompiled: a form ``flatten_weights``
# cannot make one function of arrays.
_NOT_COMPILED_WEIGHTS = "this gradient with weights is not one function of arrays"


def _scope_of(d):
    """The names the text of derivative ``d`` runs with: globals, closure, injected."""
    scope = dict(d.globals)
    scope.update({k: v.cell_contents for k, v in d.closure.items() if _has_contents(v)})
    scope.update(d.env)
    return scope


def _callee_defs(d, scope):
    """``(defs, scope)``: the functions of the texts of ``d``'s callees (at any depth),
    by name, and ``scope`` with the names they use; a name that means two things in
    two of them is ``Unsupported``."""
    defs, scope, todo, seen = {}, dict(scope), list(d.callees), set()
    while todo:
        c = todo.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        todo += c.callees
        inner = _scope_of(c)
        for t in _with_notes(c.text):
            defs[t.name] = t
            for n in _free_names(t):
                if n in inner:
                    if n in scope and scope[n] is not inner[n] and n not in defs:
                        raise Unsupported(f"`{n}` names two things in two methods")
                    scope[n] = inner[n]
    by_object = {}  # a callee's function, by the name its caller calls it by
    for n, v in scope.items():
        if isinstance(v, types.FunctionType) and v.__name__ in defs and n not in defs:
            by_object[n] = defs[v.__name__]
    defs.update(by_object)
    return defs, scope


def _is_object(value):
    """Whether ``value`` is an object whose attributes a derivative reads (a Cell), not
    a value, module or function compiled code can take."""
    if value is None or isinstance(value, (np.ndarray, np.generic, int, float, complex,
                                           str, bytes, tuple, list, dict, types.ModuleType,
                                           types.FunctionType, types.BuiltinFunctionType,
                                           type, np.ufunc)):
        return False
    return not callable(value) or hasattr(value, "construct")


class _WeightsCall:
    """What a call of a flattened derivative needs besides the arguments: the values of
    the attributes it reads, the chains of the gradients it returns, and checks that
    what it took as constant has not changed."""

    def __init__(self, value_of, reads, constants, added, decided, ids):
        self.value_of, self.added = value_of, added

        def getter(chain):  # (object, attrgetter): the value at chain now
            return value_of(chain[:1]), operator.attrgetter(".".join(chain[1:]))
        self.reads = [getter(chain) for _, chain in reads]
        self.constants = [getter(chain) + (value,) for chain, value in constants]
        self.decided = [getter(chain) + (wanted,) for chain, wanted in decided]
        self.ids = ids

    def read(self):
        out = []
        for obj, get in self.reads:
            v = get(obj)
            out.append(v.view(np.ndarray) if type(v) is not np.ndarray
                       and isinstance(v, np.ndarray) else v)
        return out

    def stale(self):
        for obj, get, value in self.constants:
            now = get(obj)
            if type(now) is not type(value) or now != value:
                return True
        ids = self.ids
        for obj, get, wanted in self.decided:
            if (id(get(obj)) in ids) != wanted:
                return True
        return False


class _Compiled:
    """What ``api._fast_path`` reads of a derivative: the function it calls, guards."""

    def __init__(self, fn, guards):
        self.functions = (fn,)
        self.guards = guards


def _reachable(callees):
    """The callee derivatives ``callees`` and theirs, at any depth."""
    out, todo, seen = [], list(callees), set()
    while todo:
        c = todo.pop()
        if id(c) not in seen:
            seen.add(id(c))
            out.append(c)
            todo += c.callees
    return out


def _for_numba(numba, obj):
    """What a free name of the derivative is bound to in the compiled module."""
    if isinstance(obj, types.FunctionType):  # (a Numba dispatcher is not one)
        return numba.njit(obj)  # a plain helper: compiled along (or refused, by line)
    return obj


def _numba_owner():
    """The type of the ``base`` of an array a Numba function made and returned."""
    got = _numba_owner.__dict__.get("type")
    if got is None:
        numba = _numba()
        # a probe compiled once per machine (cached on disk, as a derivative is)
        module = codegen.load_module("import numpy as np\n\n\ndef owner_probe():\n"
                                     "    return np.empty(1)\n", cache_dir(), "owner_probe")
        probe = numba.njit(cache=True)(module.owner_probe)
        got = _numba_owner.type = type(probe().base)
    return got


def _plain(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _user_line(filename):
    """``where`` for generated text whose comments end in ``(line N)``: the user's line."""
    def where(lines, at):
        for k in range(at - 1, -1, -1):
            m = re.search(r"\(line (\d+)\)\s*$", lines[k])
            if m and lines[k].lstrip().startswith("#"):
                return filename, int(m.group(1))
        return None
    return where


class JitGrad(_Base):
    """``sg.jit`` of what ``grad``/``value_and_grad`` returned."""

    def __init__(self, g, strict):
        super().__init__(strict)
        self._g = g
        self._last = None  # (derivative, Compiled) of the last call
        self._seen = None  # the last call's signature
        self._fast, self._fast_arity = None, -1
        self.__name__ = f"{g.__name__}_jit"
        self.__doc__ = f"{g.__doc__} Compiled with Numba (sg.jit)."

    def _origin(self):
        return _origin_of(self._g.func)

    def _for(self, d):
        g = self._g
        if self._last is not None and self._last[0] is d:
            return self._last[1]
        filename = getattr(getattr(g.func, "__code__", None), "co_filename", "<unknown>")
        fname = d.functions[0].__name__
        scope = _scope_of(d)
        if g.bound_self is not None:
            c = self._compiled.get(id(d))
            if c is None:
                c = self._fail(id(d), "", None, _NOT_COMPILED_METHOD,
                               d.functions[0], _user_line(filename))
        elif g.weights is not None:
            c = self._weights_kernel(d, fname, scope, _user_line(filename))
        else:
            c = self._build(id(d), fname, d.text, scope, d.functions[0],
                            _user_line(filename), dict(d.spec.shapes), callees=d.callees)
        c.derivative = d  # keeps the key's object alive
        self._last = (d, c)
        return c

    def _weights_kernel(self, d, fname, scope, where):
        """The derivative of a gradient with ``weights=`` as one function of arrays
        (``dialect.flatten_weights``), compiled; a form it cannot flatten runs
        uncompiled, saying why."""
        got = self._compiled.get(id(d))
        if got is not None and (got.reason is not None or not got.weights.stale()):
            return got
        ids = {id(p) for p in self._g.weights}
        try:
            defs, scope = _callee_defs(d, scope)
            main = next(t for t in _with_notes(d.text) if t.name == fname)
            objects = {n for n in _free_names(main) + [n for t in defs.values()
                                                       for n in _free_names(t)]
                       if n in scope and _is_object(scope[n])}
            roots = {n: scope[n] for n in objects}

            def value_of(chain):
                v = roots[chain[0]]
                for attr in chain[1:]:
                    v = getattr(v, attr)
                return v

            fdef, reads, constants, added, decided = flatten_weights(
                main, defs, objects, value_of, lambda v: id(v) in ids)
        except (Unsupported, AttributeError) as exc:
            return self._fail(id(d), "", None, f"{_NOT_COMPILED_WEIGHTS} ({exc})",
                              d.functions[0], where)
        self._compiled.pop(id(d), None)
        shapes = dict(d.spec.shapes) if d.spec is not None else None
        c = self._build(id(d), fname, d.text, scope, d.functions[0], where, shapes, fdef=fdef)
        c.weights = _WeightsCall(value_of, reads, constants, added, decided, ids)
        return c

    def __call__(self, *args, **kwargs):
        if len(args) == self._fast_arity and not kwargs:
            # the same input signature as the last call: checks and the compiled call
            got = self._fast(*args)
            if got is not _FAST_MISS:
                return got
        g = self._g
        keywords = bool(kwargs)
        d, args, kwargs = g._select(args, kwargs)
        c = self._for(d)
        if g.bound_self is not None:
            res = self._run(c, (g.bound_self,) + tuple(args), kwargs)
        elif getattr(c, "weights", None) is not None and c.reason is None:
            if c.weights.stale():  # an attribute the text took as a constant changed
                self._compiled.pop(id(d), None)
                self._last = None
                c = self._for(d)
            res = self._run_weights(c, args, kwargs)
        else:
            res = self._run(c, args, kwargs)
        key = g._last_key
        if c.reason is None and getattr(c, "weights", None) is not None \
                and key == self._seen and not keywords:
            self._fast = _weights_fast_path(g, d, c, key[1])
            self._fast_arity = len(args) if self._fast is not None else -1
        elif c.reason is None and g._plain and not kwargs and g.weights is None \
                and g.bound_self is None and key == self._seen:
            # the second call with these inputs (as grad does): a fast path to the
            # compiled function, from the same generator as grad's own
            self._fast = fast_path(_Compiled(c.call, d.guards), key[1], g.positions,
                                    g.single, value=g.value, finish=g._finish,
                                    owner=_numba_owner())
            self._fast_arity = len(args)
        self._seen = key
        return g._finish(res, args, kwargs)

    def _run_weights(self, c, args, kwargs):
        """Call the flattened derivative: the attributes it reads passed in, the weight
        gradients it returns added up as ``add_weight_grad`` does."""
        w = c.weights
        if c.reason is None:
            numba = _numba()
            compiled = len(c.dispatcher.overloads)
            try:
                res, grads = c.call(*args, *w.read())
            except numba.core.errors.NumbaError as exc:
                self._refused(c, exc, args)
            else:
                if len(c.dispatcher.overloads) > compiled:  # compiled just now
                    c.call = _with_scalars(c.dispatcher)
                    if c.call is not c.dispatcher:
                        res, grads = c.call.fix((res, grads))
                acc = kwargs["weight_grads"]
                for chain, grad in zip(w.added, grads):
                    runtime.add_weight_grad(acc, w.value_of(chain), grad)
                return res
        return c.call(*args, **kwargs)

    def source(self, comments: bool = True) -> str:
        """The text compiled for the last call (before any call: the derivative's)."""
        if self._last is None:
            return self._g.source(comments)
        text = self._last[1].text
        return text if comments else codegen.strip_comments(text)

    def __repr__(self):
        return f"<sourcegrad.jit of {self._g!r}>"


class JitPlain(_Base):
    """``sg.jit`` of a plain function: its own source in the Numba dialect."""

    def __init__(self, fn, strict):
        super().__init__(strict)
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "function")
        self._c = None

    def _origin(self):
        return _origin_of(self.fn)

    def _compile(self):
        if self._c is not None:
            return self._c
        parsed = parse_function(self.fn)
        tree = parsed.tree
        text = codegen.to_source(tree)
        scope = dict(parsed.globals)
        scope.update({k: v.cell_contents for k, v in parsed.closure.items()
                      if _has_contents(v)})
        def where(lines, at):
            return parsed.filename, self.fn.__code__.co_firstlineno
        self._c = self._build(None, tree.name, text, scope, self.fn, where)
        return self._c

    def __call__(self, *args, **kwargs):
        return self._run(self._compile(), args, kwargs)

    def source(self, comments: bool = True) -> str:
        return self._compile().text


def _weights_fast_path(g, d, c, signature):
    """The call of a flattened derivative with weights for arguments of ``signature``
    (as the last call's): checks, the compiled call, the weight gradients as
    ``GradFunction._finish`` gives them; None for the forms it does not cover
    (gradients of inputs as well, has_aux, return_ids, a sensitivity)."""
    if g.positions is not None or g.has_aux or g.return_ids or g.sens \
            or not all(type(s) is tuple and len(s) == 2 for s in signature):
        return None
    w, kernel, weights = c.weights, c.call, g.weights
    slot = {id(p): k for k, p in enumerate(weights)}
    slots = [slot[id(w.value_of(chain))] for chain in w.added]
    targets = [weights[k] for k in slots]
    added = [(w.value_of(chain[:1]), operator.attrgetter(".".join(chain[1:])))
             for chain in w.added]
    value, single = g.value, g.single_weight
    ndarray = np.ndarray
    # every weight gets exactly one returned gradient: they go out as they come
    plain = sorted(slots) == list(range(len(weights)))
    order = [slots.index(k) for k in range(len(weights))] if plain else []

    def fast(*args):
        for a, (shape, dtype) in zip(args, signature):
            if type(a) is not ndarray or a.shape != shape or a.dtype != dtype:
                return _FAST_MISS
        if g._last is not d or not d.valid() or w.stale():
            return _FAST_MISS
        for (obj, get), p in zip(added, targets):
            if get(obj) is not p:
                return _FAST_MISS
        res, grads = kernel(*args, *w.read())
        if plain:  # each weight's gradient returned once, by itself: fresh arrays
            wg = tuple(grads[k] for k in order)
            if all(type(x) is ndarray and x.dtype == p.dtype and x.shape == p.shape
                   for x, p in zip(wg, weights)) and len({id(x) for x in wg}) == len(wg):
                out = wg[0] if single else wg
                return (res[0], out) if value else out
        acc = [None] * len(weights)
        for k, grad in zip(slots, grads):
            acc[k] = grad if acc[k] is None else acc[k] + grad
        wg = _distinct([fix_gradient(a if a is not None else np.zeros_like(p), p)
                        for a, p in zip(acc, weights)])
        wg = tuple(np.asarray(x).view(ndarray) for x in wg)
        out = wg[0] if single else wg
        return (res[0], out) if value else out
    return fast


def _has_contents(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


__all__ = ["jit", "JitWarning", "INSTALL_HINT", "cache_dir"]
