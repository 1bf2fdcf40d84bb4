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
import os
import re
import types
import warnings

import gast
import numpy as np

from sourcegrad import codegen, ops, runtime, xp
from sourcegrad.api import GradFunction
from sourcegrad.codegen import MISS as _FAST_MISS, fast_path
from sourcegrad.parse import parse_function
from sourcegrad.reverse import note_stmt
from sourcegrad.rules import numpy_core
from sourcegrad.dialect import LIB, numba_dialect
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
            id(runtime.index_adjoint): "index_adjoint"}


class Compiled:
    """One function in the Numba dialect: its text, and the compiled function (or
    why it runs uncompiled)."""

    def __init__(self, text, call, fallback=None, reason=None):
        self.text = text
        self.call = call          # the Numba dispatcher, or the NumPy function
        self.fallback = fallback  # the NumPy function (None: nothing to fall back to)
        self.reason = reason      # why it runs uncompiled (None: compiled)


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

    def _build(self, key, fname, text, scope, fallback, where, shapes=None):
        """Compile function ``fname`` of the generated ``text`` (names resolved in
        ``scope``) in the Numba dialect; ``where(line)``: (file, line) of the user's
        code for a line of the dialect text; ``shapes``: the parameters' abstract
        values when the derivative is specialised on them."""
        numba = _numba()
        got = self._compiled.get(key)
        if got is not None:
            return got
        roles = _roles()
        defs = _with_notes(text)
        fdef = next(d for d in defs if d.name == fname)
        bindings, role_names = {}, {}
        for n in _free_names(fdef):
            obj = scope.get(n, getattr(builtins, n, _MISSING))
            if obj is _MISSING:
                continue
            if id(obj) in roles:
                role_names[n] = roles[id(obj)]
            if not hasattr(builtins, n) or obj is not getattr(builtins, n):
                bindings[n] = _for_numba(numba, obj)
        if bindings.get("np", np) is not np:
            return self._fail(key, "", None, "`np` does not name NumPy here", fallback, where)
        header = (f"# {fname}, compiled by sourcegrad.jit with Numba (the Numba dialect "
                  f"of the derivative)\nimport numpy as np\n"
                  f"from sourcegrad import _jitlib as {LIB}\n\n\n")
        module_text = codegen.module_text([fdef], dialect=numba_dialect(role_names, shapes),
                                          header=header)
        module = codegen.load_module(module_text, cache_dir(), fname)
        module.__dict__.update(bindings)
        dispatcher = numba.njit(cache=True, **NJIT_OPTIONS)(getattr(module, fname))
        c = self._compiled[key] = Compiled(module_text, dispatcher, fallback)
        c.module_file = module.__file__
        c.where = where
        return c

    def _run(self, c, args, kwargs):
        """Call ``c``; a compile error from Numba turns it into its fallback."""
        if c.reason is None:
            numba = _numba()
            try:
                return c.call(*args, **kwargs)
            except numba.core.errors.NumbaError as exc:
                self._refused(c, exc)
        return c.call(*args, **kwargs)

    def _refused(self, c, exc):
        text = _plain(str(exc))
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        at = None
        for m in re.finditer(r'File "([^"]+)", line (\d+)', text):
            if os.path.abspath(m.group(1)) == os.path.abspath(c.module_file):
                at = int(m.group(2))
        reason = next((ln for ln in lines if not ln.startswith(("Failed in", "During:",
                                                                 "File ", "-", "^"))),
                      lines[0] if lines else type(exc).__name__)
        self._fail(None, c.text, at, reason[:200], c.fallback, c.where, c)

    def _fail(self, key, text, at, reason, fallback, where, c=None):
        stmt = ""
        user = None
        if at is not None and text:
            tl = text.splitlines()
            stmt = tl[at - 1].strip() if 0 < at <= len(tl) else ""
            user = where(tl, at)
        place = f" (line {at} of the compiled text: `{stmt}`" if stmt else ""
        if user:
            place += f", from {user[0]}:{user[1]}"
        place += ")" if stmt else ""
        msg = f"Numba cannot compile this derivative{place}: {reason}"
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


_MISSING = object()

# Why a gradient with ``weights=`` or of a method (a Cell's) runs uncompiled: its
# derivative reads the Parameters through Python objects (``self.w``), calls the
# split derivatives of other methods with those objects, and adds each Parameter's
# gradient into a dict keyed by the Parameter itself -- none of which nopython Numba
# compiles.  Compiling it needs the methods inlined into one function, the objects'
# Parameters passed in as arrays and their gradients returned.
_NOT_COMPILED_WEIGHTS = ("weights and methods are not compiled: the derivative reads "
                         "Parameters through objects (self.w) and adds their gradients "
                         "into a dict keyed by Parameter, which Numba cannot compile")


class _Compiled:
    """What ``api._fast_path`` reads of a derivative: the function it calls, guards."""

    def __init__(self, fn, guards):
        self.functions = (fn,)
        self.guards = guards


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
        got = _numba_owner.type = type(numba.njit(lambda: np.empty(1))().base)
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

    def _for(self, d):
        g = self._g
        if self._last is not None and self._last[0] is d:
            return self._last[1]
        filename = getattr(getattr(g.func, "__code__", None), "co_filename", "<unknown>")
        fname = d.functions[0].__name__
        scope = dict(d.globals)
        scope.update({k: v.cell_contents for k, v in d.closure.items()
                      if _has_contents(v)})
        scope.update(d.env)
        if g.bound_self is not None or g.weights is not None:
            c = self._compiled.get(id(d))
            if c is None:
                c = self._fail(id(d), "", None, _NOT_COMPILED_WEIGHTS,
                               d.functions[0], _user_line(filename))
        else:
            c = self._build(id(d), fname, d.text, scope, d.functions[0],
                            _user_line(filename), dict(d.spec.shapes))
        c.derivative = d  # keeps the key's object alive
        self._last = (d, c)
        return c

    def __call__(self, *args, **kwargs):
        if len(args) == self._fast_arity and not kwargs:
            # the same input signature as the last call: checks and the compiled call
            got = self._fast(*args)
            if got is not _FAST_MISS:
                return got
        g = self._g
        d, args, kwargs = g._select(args, kwargs)
        c = self._for(d)
        if g.bound_self is not None:
            res = self._run(c, (g.bound_self,) + tuple(args), kwargs)
        else:
            res = self._run(c, args, kwargs)
        key = g._last_key
        if c.reason is None and g._plain and not kwargs and g.weights is None \
                and g.bound_self is None and key == self._seen:
            # the second call with these inputs (as grad does): a fast path to the
            # compiled function, from the same generator as grad's own
            self._fast = fast_path(_Compiled(c.call, d.guards), key[1], g.positions,
                                    g.single, value=g.value, finish=g._finish,
                                    owner=_numba_owner())
            self._fast_arity = len(args)
        self._seen = key
        return g._finish(res, args, kwargs)

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


def _has_contents(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


__all__ = ["jit", "JitWarning", "INSTALL_HINT", "cache_dir"]
