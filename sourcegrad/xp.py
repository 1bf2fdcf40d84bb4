"""Which array library the inputs come from.

NumPy is the default and the only run-time requirement.  A Dask array (or
any array implementing NumPy's dispatch protocol ``__array_function__``)
runs through the same generated code: NumPy's functions hand it to its own
library, so the derivative stays lazy.  Helpers that would otherwise call
``np.asarray`` (which computes a Dask array into memory) use :func:`asarray`
here, which leaves such arrays alone.

Nothing here imports Dask: a Dask array is recognised by its type's module.
"""
from __future__ import annotations

import math
import threading
from types import FunctionType as _FunctionType

import numpy as np

from sourcegrad.errors import SourcegradError

__all__ = ["is_dask", "is_foreign", "asarray", "known_shape", "library"]


def is_dask(x) -> bool:
    """Whether ``x`` is a ``dask.array.Array`` (without importing Dask)."""
    t = type(x)
    return t.__name__ == "Array" and t.__module__.startswith("dask.array")


def is_foreign(x) -> bool:
    """Whether ``x`` is an array of another library (Dask, CuPy, an Array API
    array): not a NumPy array or scalar, but an object that says it is an array
    through ``__array_function__`` or ``__array_namespace__``."""
    if isinstance(x, (np.ndarray, np.generic)):
        return False
    t = type(x)
    return hasattr(t, "__array_function__") or hasattr(t, "__array_namespace__") \
        or _is_torch(x)


def asarray(x, dtype=None):
    """``np.asarray(x, dtype)`` for NumPy values and Python numbers and lists; an
    array of another library stays in it (cast with its own ``astype``), so a
    Dask array is never computed here."""
    if type(x) is np.ndarray and (dtype is None or x.dtype == dtype):
        return x
    if is_foreign(x):
        if dtype is None or x.dtype == dtype:
            return x
        return x.astype(dtype)
    return np.asarray(x, dtype=dtype)


def is_real_float(x) -> bool:
    """Whether array ``x`` holds real floating-point numbers (any library's dtype)."""
    dtype = x.dtype
    if isinstance(dtype, np.dtype):
        return dtype.kind == "f"
    return namespace_of(x).isdtype(dtype, "real floating")


def known_shape(x) -> bool:
    """Whether every dimension of ``x``'s shape is known (a Dask array whose chunk
    sizes are unknown has ``nan`` in its shape)."""
    return all(isinstance(n, (int, np.integer)) for n in x.shape)


def library(args) -> str:
    """``"numpy"`` when no argument is an array of another library; the name of
    that library's top-level module (``"dask"``, ``"cupy"``, ...) for one NumPy's
    functions dispatch to; ``"namespace:<module>"`` for an Array API array
    (``"namespace:array_api_strict"``, ``"namespace:array_api_compat.torch"``)."""
    for a in args:
        if type(a) is np.matrix:  # (a subclass: no cost for a plain array)
            raise TypeError("an np.matrix argument: its * and ** are matrix products and "
                            "powers, which the derivative's rules do not follow; pass "
                            "np.asarray(m) (and write @ for the matrix product)")
        if is_namespace_array(a):
            return "namespace:" + namespace_of(a).__name__
        if is_dask(a):
            return "dask"
        if is_foreign(a):
            return type(a).__module__.partition(".")[0]
    return "numpy"


# -- Array API namespaces -------------------------------------------------------------

def is_namespace_array(x) -> bool:
    """Whether ``x`` is an array NumPy's functions cannot take (an Array API array
    such as array-api-strict's, a PyTorch tensor): the derivative then runs on its
    namespace (``numpy_names``) instead of relying on NumPy's dispatch."""
    t = type(x)
    if isinstance(x, (np.ndarray, np.generic)) or hasattr(t, "__array_function__"):
        return False
    return hasattr(t, "__array_namespace__") or _is_torch(x)


def _is_torch(x) -> bool:
    t = type(x)
    return t.__module__.startswith("torch") and hasattr(t, "__torch_function__")


def namespace_of(x):
    """The Array API namespace of ``x`` (PyTorch's through ``array-api-compat``)."""
    if _is_torch(x):
        try:
            from array_api_compat import array_namespace
        except ImportError:
            raise ImportError("PyTorch tensors need array-api-compat: "
                              "pip install 'sourcegrad[array-api]'") from None
        return array_namespace(x)
    return x.__array_namespace__()


# NumPy's names for functions the Array API standard names otherwise
_ALIASES = {"concatenate": "concat", "power": "pow", "arcsin": "asin", "arccos": "acos",
            "arctan": "atan", "arctan2": "atan2", "arcsinh": "asinh", "arccosh": "acosh",
            "arctanh": "atanh", "absolute": "abs", "invert": "bitwise_invert",
            "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift",
            "conjugate": "conj", "amax": "max", "amin": "min", "true_divide": "divide"}
_KINDS = {np.floating: "real floating", np.complexfloating: "complex floating",
          np.integer: "integral", np.signedinteger: "signed integer",
          np.unsignedinteger: "unsigned integer", np.bool_: "bool",
          np.inexact: ("real floating", "complex floating"), np.number: "numeric"}


class NumpyNames:
    """NumPy's names over an Array API namespace: what the generated derivative, the
    rules' helpers and ``sourcegrad.ops`` call as ``np.<name>`` when the inputs are
    that namespace's arrays (see ``rebind``).  A function the standard has is the
    namespace's own; a few NumPy spellings are written with the standard's
    functions; anything else raises a ``TypeError`` naming the NumPy function."""

    # NumPy's types stay NumPy's: checks such as isinstance(x, np.ndarray) are False
    ndarray, generic, ufunc, dtype = np.ndarray, np.generic, np.ufunc, np.dtype
    floating, complexfloating, integer, inexact, number = (
        np.floating, np.complexfloating, np.integer, np.inexact, np.number)
    signedinteger, unsignedinteger, bool_ = np.signedinteger, np.unsignedinteger, np.bool_
    pi, e, inf, nan, newaxis = np.pi, np.e, np.inf, np.nan, None

    def __init__(self, ns):
        self._ns = ns
        self.__name__ = getattr(ns, "__name__", type(ns).__name__)

    def __repr__(self):
        return f"<NumPy's names over {self.__name__}>"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        own = getattr(type(self), "_" + name, None)
        if own is not None:
            f = own.__get__(self)
        else:
            f = getattr(self._ns, _ALIASES.get(name, name), None)
            if f is None:
                f = _missing(name, self.__name__)
            elif name in _ELEMENTWISE:
                f = _numbers_too(f, name)
        setattr(self, name, f)  # looked up once
        return f

    # NumPy spellings written with the standard's functions
    def _broadcast_shapes(self, *shapes):
        return np.broadcast_shapes(*shapes)  # shapes only: no array of the namespace

    def _shape(self, x):
        return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)

    def _ndim(self, x):
        return x.ndim if hasattr(x, "ndim") else np.ndim(x)

    def _size(self, x, axis=None):
        if not hasattr(x, "shape"):
            return np.size(x, axis)
        shape = tuple(x.shape)  # (a PyTorch tensor's .size is a method)
        return math.prod(shape) if axis is None else shape[axis]

    def _transpose(self, x, axes=None):
        return self._ns.permute_dims(x, tuple(range(x.ndim))[::-1] if axes is None else axes)

    def _swapaxes(self, x, a, b):
        axes = list(range(x.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self._ns.permute_dims(x, tuple(axes))

    def _result_type(self, *xs):
        dtypes = [x.dtype if hasattr(x, "dtype") and not isinstance(x, np.generic) else x
                  for x in xs]
        arrays = [d for d in dtypes if not isinstance(d, (int, float, complex, np.generic))]
        if not arrays:
            return np.result_type(*xs)
        return self._ns.result_type(*arrays)

    def _issubdtype(self, dtype, kind):
        if isinstance(dtype, np.dtype) or kind not in _KINDS:
            return np.issubdtype(dtype, kind)
        return self._ns.isdtype(dtype, _KINDS[kind])

    def _iscomplexobj(self, x):
        return self._ns.isdtype(x.dtype, "complex floating") if hasattr(x, "dtype") \
            else np.iscomplexobj(x)

    def _errstate(self, **kwargs):
        return np.errstate(**kwargs)

    def _asarray(self, x, dtype=None):
        return self._ns.asarray(x, dtype=self.dtype_of(dtype))

    def dtype_of(self, dtype):
        """The namespace's dtype for a NumPy spelling of one (``float``, ``np.float64``,
        ``"float64"``, a NumPy dtype); the namespace's own dtype and None as they are."""
        if isinstance(dtype, (type, str, np.dtype)):
            return getattr(self._ns, np.dtype(dtype).name)
        return dtype

    # the *_like makers, with NumPy's spellings of a dtype
    def _zeros_like(self, x, dtype=None, subok=None):
        return self._ns.zeros_like(x, dtype=self.dtype_of(dtype))

    def _ones_like(self, x, dtype=None, subok=None):
        return self._ns.ones_like(x, dtype=self.dtype_of(dtype))

    def _empty_like(self, x, dtype=None, subok=None):
        return self._ns.empty_like(x, dtype=self.dtype_of(dtype))

    def _full_like(self, x, fill_value, dtype=None, subok=None):
        return self._ns.full_like(x, fill_value, dtype=self.dtype_of(dtype))

    def _astype(self, x, dtype, copy=True):
        return self._ns.astype(x, self.dtype_of(dtype), copy=copy)

    def _float32(self, v):
        return self._ns.asarray(v, dtype=self._ns.float32)

    def _float64(self, v):
        return self._ns.asarray(v, dtype=self._ns.float64)

    def _full(self, shape, fill_value, dtype=None):
        if hasattr(fill_value, "shape"):  # an adjoint held as a 0-d array
            return self._ns.broadcast_to(self._ns.asarray(fill_value, dtype=dtype), shape)
        if dtype is None and isinstance(fill_value, float):  # NumPy's float64, not
            dtype = self._ns.float64                          # the library's default
        return self._ns.full(shape, fill_value, dtype=dtype)

    # arrays made from a shape alone are float64, as NumPy's (PyTorch's default is float32)
    def _ones(self, shape, dtype=None):
        return self._ns.ones(shape, dtype=self._ns.float64 if dtype is None
                             else self.dtype_of(dtype))

    def _zeros(self, shape, dtype=None):
        return self._ns.zeros(shape, dtype=self._ns.float64 if dtype is None
                              else self.dtype_of(dtype))

    def _empty(self, shape, dtype=None):
        return self._ns.empty(shape, dtype=self._ns.float64 if dtype is None
                              else self.dtype_of(dtype))

    def _expand_dims(self, x, axis):
        if isinstance(axis, int):
            return self._ns.expand_dims(x, axis=axis)
        n = x.ndim + len(axis)
        axes = {a % n for a in axis}
        it = iter(x.shape)
        return self._ns.reshape(x, tuple(1 if i in axes else next(it) for i in range(n)))

    def _reshape(self, x, shape, order="C", copy=None):
        if order != "C":
            raise numpy_only(f"reshape(..., order={order!r})", self.__name__)
        return self._ns.reshape(x, (shape,) if isinstance(shape, int) else tuple(shape))

    def _ravel(self, x, order="C"):
        return self._reshape(x, (-1,), order)

    def _squeeze(self, x, axis=None):
        if axis is None:
            axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
        return self._ns.squeeze(x, axis=axis)

    def _moveaxis(self, x, source, destination):
        def axes(a):
            return a if isinstance(a, int) else tuple(a)
        return self._ns.moveaxis(x, axes(source), axes(destination))

    def _roll(self, a, shift, axis=None):  # (the standard's axis is keyword-only)
        return self._ns.roll(a, shift if isinstance(shift, int) else tuple(shift),
                             axis=axis if axis is None or isinstance(axis, int)
                             else tuple(axis))

    def _tile(self, x, reps):
        return self._ns.tile(x, (reps,) if isinstance(reps, int) else tuple(reps))

    def _argsort(self, x, axis=-1, kind=None, order=None, stable=None):
        return self._ns.argsort(x, axis=axis, stable=True)

    def _sort(self, x, axis=-1, kind=None, order=None, stable=None):
        return self._ns.sort(x, axis=axis, stable=True)

    def _cumsum(self, x, axis=None, dtype=None):
        if not hasattr(x, "shape") or isinstance(x, np.ndarray):  # sizes, not data
            return np.cumsum(x, axis=axis, dtype=dtype)
        if not hasattr(self._ns, "cumulative_sum"):
            raise numpy_only("cumsum", self.__name__)
        if axis is None:
            x, axis = self._ns.reshape(x, (-1,)), 0
        return self._ns.cumulative_sum(x, axis=axis, dtype=dtype)

    def _xp_asarray(self, x, dtype=None):
        """``xp.asarray`` as the rules' helpers call it, for this namespace: a number
        or a NumPy value becomes this namespace's array, not NumPy's."""
        if dtype is not None and not isinstance(dtype, str) and not hasattr(dtype, "kind"):
            pass  # already the namespace's dtype
        elif dtype is not None:
            dtype = getattr(self._ns, np.dtype(dtype).name)
        if is_namespace_array(x):
            return x if dtype is None or x.dtype == dtype else self._ns.astype(x, dtype)
        if isinstance(x, np.ndarray):
            x = x.view(np.ndarray)
        return self._ns.asarray(x, dtype=dtype)

    def _where(self, condition, x, y):
        if not _is_array(condition):  # a number: the standard wants an array
            if not _is_array(x) and not _is_array(y):
                return x if condition else y
            condition = self._ns.asarray(bool(condition))
        if not _is_array(x) and not _is_array(y):  # two numbers: the standard takes one
            dtype = self._ns.float64 if isinstance(x, float) or isinstance(y, float) \
                else None
            x = self._ns.asarray(x, dtype=dtype)
        return self._ns.where(condition, x, y)

    def _flip(self, x, axis=None):
        return self._ns.flip(x, axis=axis)

    def _trace(self, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        """NumPy's ``trace`` over any two axes: the standard's ``linalg.trace`` (over the
        last two) after moving them there."""
        linalg = getattr(self._ns, "linalg", None)
        if linalg is None or not hasattr(linalg, "trace") or out is not None:
            raise numpy_only("trace", self.__name__)
        nd = a.ndim
        a = self._ns.moveaxis(a, (axis1 % nd, axis2 % nd), (-2, -1))
        return linalg.trace(a, offset=offset, dtype=self.dtype_of(dtype))

    def _outer(self, a, b):
        return self._ns.reshape(a, (-1, 1)) * self._ns.reshape(b, (1, -1))

    def _own(self, v):
        """A NumPy array the derivative reads (a Cell's Parameter, a global array, a
        NumPy argument) as this namespace's array: the same one for every read during
        one call (``owning``), so a Parameter keeps one identity for its gradient.
        Lists, tuples and dicts of arrays are converted item by item; anything else
        is itself."""
        if isinstance(v, np.ndarray):
            table = getattr(_CALL, "table", None)
            if table is None:
                return self._ns.asarray(v.view(np.ndarray))
            got = table.get(id(v))
            if got is None:
                got = table[id(v)] = (v, self._ns.asarray(v.view(np.ndarray)))
            return got[1]
        t = type(v)
        if t is list or t is tuple:
            return t(self._own(a) for a in v)
        if t is dict:
            return {k: self._own(a) for k, a in v.items()}
        return v

    def numpy_dtype(self, dtype):
        """The NumPy dtype of this namespace's ``dtype`` (``None`` when it has none):
        what shape specialisation reasons with."""
        for name in ("float64", "float32", "float16", "complex128", "complex64", "int64",
                     "int32", "int16", "int8", "uint8", "bool"):
            if getattr(self._ns, name, None) == dtype:
                return np.dtype(name)
        return None


class NumpyOnlyError(SourcegradError, TypeError):
    """A NumPy function the inputs' Array API namespace does not have."""


# NumPy's elementwise functions that rules call on numbers as well as on arrays
_ELEMENTWISE = frozenset({
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_not", "negative", "abs", "absolute", "sign", "sqrt", "exp",
    "log"})


def _is_array(x):
    return hasattr(x, "shape") and not isinstance(x, np.generic)


def _numbers_too(f, name):
    """``f`` of the namespace, except that a call on numbers alone (the standard wants
    at least one array) is NumPy's, its result a Python number."""
    def elementwise(*args, **kwargs):
        if any(_is_array(a) for a in args):
            return f(*args, **kwargs)
        return getattr(np, name)(*args, **kwargs).item()
    elementwise.__name__ = name
    return elementwise


def numpy_only(name, where, **position):
    """The error for NumPy's function ``name`` that namespace ``where`` lacks."""
    return NumpyOnlyError(
        f"np.{name}", detail=f"NumPy-only, the array namespace {where} has no "
        f"{_ALIASES.get(name, name)}, so sourcegrad cannot run it on these inputs",
        hint="call the gradient with NumPy arrays, or write the function with the Array "
             "API's functions", **position)


def _missing(name, where):
    def missing(*args, **kwargs):
        raise numpy_only(name, where)
    missing.__name__ = name
    missing.numpy_only = name
    return missing


def call_reporting(f, function, names, *args, **kwargs):
    """``f(*args, **kwargs)`` (a derivative of ``function`` run on the namespace of
    ``names``), a failure inside it raised as ``failure``'s one ``SourcegradError``."""
    try:
        return f(*args, **kwargs)
    except (TypeError, AttributeError, ValueError, RuntimeError, NotImplementedError,
            IndexError) as e:
        if isinstance(e, SourcegradError):
            raise
        err = failure(e, function, names.__name__)
        if err is None:
            raise
        raise err from e


def failure(exc, function, where):
    """The ``SourcegradError`` for ``exc``, raised while the derivative of ``function``
    ran on namespace ``where``'s arrays inside sourcegrad's code (a rule, a runtime
    helper, the generated derivative): it names the sourcegrad function or the
    generated line that failed.  ``None`` when the innermost frame that is not the
    array library's is the user's own code (the user's error, raised as it is)."""
    import linecache
    import os
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    tb, frames = exc.__traceback__, []
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    what = None
    for frame, lineno in reversed(frames):
        code = frame.f_code
        module = frame.f_globals.get("__name__", "")
        if code.co_filename.startswith("<sourcegrad"):
            text = linecache.getline(code.co_filename, lineno).strip()
            what = f"the derivative's line `{text}` in {code.co_name}"
            break
        if code.co_filename.startswith(here):
            what = f"sourcegrad's {module}.{code.co_name}"
            break
        top = module.partition(".")[0]
        if top not in ("numpy", "torch", "array_api_strict", "array_api_compat", "jax",
                       "cupy") and top != where.partition(".")[0]:
            return None
    if what is None:
        return None
    return NumpyOnlyError(
        f"the derivative of {function} on {where} arrays",
        detail=f"{what} failed ({type(exc).__name__}: {exc}); this part of the derivative "
               f"needs NumPy functionality that {where} does not have",
        hint="call the gradient with NumPy arrays, or write the function with the Array "
             "API's functions")


# -- NumPy arrays read by a derivative that runs on a namespace -----------------------

_CALL = threading.local()


class owning:
    """``with owning():`` one call of a namespace derivative: the NumPy arrays it reads
    (``NumpyNames.own``) are converted once each and keep one identity until the
    outermost ``with`` ends (a derivative called from another shares the table)."""

    def __enter__(self):
        self.outer = getattr(_CALL, "table", None) is not None
        if not self.outer:
            _CALL.table = {}
        return self

    def __exit__(self, *exc):
        if not self.outer:
            _CALL.table = None


# attributes of an array that are not arrays to convert, or are views of one already
_ARRAY_ATTRS = frozenset({"T", "mT", "shape", "ndim", "size", "dtype", "device", "real",
                          "imag"})


def own_reads(fn, own, opaque, callers=()):
    """Namespace mode: wrap the reads that may bring a NumPy array into ``fn`` (a gast
    FunctionDef of a derivative) in ``own(...)``, which converts it to the inputs'
    namespace: attribute loads (``self.weight``, a Cell's Parameter) and the names in
    ``opaque`` -> False/True: ``True`` for a global or closure variable holding a
    NumPy array, ``False`` for a name whose attributes are not data (a module, a
    class, an injected helper).  Method calls keep their method; their receiver is
    converted (``own(self.weight).sum()``).  The first argument of a call to one of
    ``callers`` (the run-time dispatch of a call: ``call_fwd(self.layer, ...)``) is the
    callee, not data, and stays as it is."""
    import gast

    def root(e):
        while isinstance(e, gast.Attribute):
            e = e.value
        return e

    def wrap(e):
        return gast.Call(func=gast.Name(id=own, ctx=gast.Load(), annotation=None,
                                        type_comment=None), args=[e], keywords=[])

    class Own(gast.NodeTransformer):
        def value(self, e):
            if isinstance(e, gast.Name):
                return wrap(e) if isinstance(e.ctx, gast.Load) and opaque.get(e.id) else e
            if not isinstance(e, gast.Attribute) or not isinstance(e.ctx, gast.Load):
                return self.visit(e)
            r = root(e)
            if not isinstance(r, gast.Name) or opaque.get(r.id) is False:
                return self.generic_visit(e)
            if e.attr in _ARRAY_ATTRS:
                e.value = self.value(e.value)
                return e
            return wrap(e)

        def visit_Attribute(self, node):
            return self.value(node)

        def visit_Name(self, node):
            return self.value(node)

        def visit_Call(self, node):
            f = node.func
            if isinstance(f, gast.Attribute):
                f.value = self.value(f.value) if not isinstance(f.value, gast.Name) \
                    or opaque.get(f.value.id) else f.value
            skip = isinstance(f, gast.Name) and f.id in callers
            node.args = [a if skip and i == 0 else self.visit(a)
                         for i, a in enumerate(node.args)]
            for k in node.keywords:
                k.value = self.visit(k.value)
            return node

    fn.body = [Own().visit(s) for s in fn.body]
    return fn


_NAMES = {}


def numpy_names(library: str) -> NumpyNames:
    """The ``NumpyNames`` of a namespace library (``library(args)``'s
    ``"namespace:<module>"``), one per library."""
    got = _NAMES.get(library)
    if got is None:
        import importlib
        got = _NAMES[library] = NumpyNames(importlib.import_module(library.partition(":")[2]))
    return got


class DispatchNames:
    """NumPy itself, for a library NumPy dispatches to (Dask, CuPy), except the
    functions that make an array from a shape alone (``np.full(shape, v)``, which
    no argument can dispatch): those are the library's own, so an adjoint spread to
    a Dask array's shape is a Dask array too, not a NumPy array of that size."""

    _MAKERS = ("full", "zeros", "ones", "empty")

    def __init__(self, module):
        self._module = module
        self.__name__ = f"numpy (arrays made by {module.__name__})"
        for name in self._MAKERS:
            setattr(self, name, getattr(module, name, getattr(np, name)))

    def __getattr__(self, name):
        return getattr(np, name)

    def __repr__(self):
        return f"<{self.__name__}>"


def dispatch_names(library: str) -> DispatchNames:
    """The ``DispatchNames`` of a library NumPy dispatches to (``library(args)``'s
    ``"dask"``, ``"cupy"``, ...), one per library."""
    got = _NAMES.get(library)
    if got is None:
        import importlib
        module = importlib.import_module("dask.array" if library == "dask" else library)
        got = _NAMES[library] = DispatchNames(module)
    return got


# -- code rebound to a namespace ------------------------------------------------------

_REBOUND = {}


def rebind(obj, names: NumpyNames):
    """``obj`` as the namespace-generic derivative calls it: NumPy itself becomes
    ``names``; a NumPy function its namespace's; a function of sourcegrad's (a
    runtime helper, a rule's helper, ``ops.matmul``) a copy whose globals see
    ``names`` as ``np``; sourcegrad's ``ops`` module a copy of such copies.
    Anything else is itself."""
    import types
    if obj is np:
        return names
    if isinstance(obj, types.ModuleType):
        if obj.__name__.startswith("sourcegrad.") and obj.__name__ != __name__:
            key = (obj.__name__, id(names))
            module = _REBOUND.get(key)
            if module is None:
                module = _REBOUND[key] = types.ModuleType(obj.__name__, obj.__doc__)
                module.__dict__.update(_module_globals(obj.__dict__, names))
            return module
        return obj
    if isinstance(obj, types.FunctionType):
        module = obj.__globals__.get("__name__", "")
        if module.startswith("sourcegrad.") and module != __name__ and "np" in obj.__globals__:
            return _module_globals(obj.__globals__, names).get(obj.__name__, obj) \
                if obj.__globals__.get(obj.__name__) is obj else _clone(obj, names)
        return obj
    if isinstance(obj, np.ufunc) or (callable(obj) and getattr(obj, "__module__", None)
                                     in ("numpy", "numpy.core.multiarray", "numpy._core")):
        name = getattr(obj, "__name__", None)
        if name and getattr(np, name, None) is obj:
            return getattr(names, name)
    if callable(obj) and getattr(obj, "__module__", None) in _SUBMODULES:
        # numpy.linalg's and numpy.fft's functions imported by name (from numpy.linalg
        # import svd): the namespace's extension's, or refused by name when it lacks it
        sub, name = _SUBMODULES[obj.__module__], getattr(obj, "__name__", None)
        if name and getattr(getattr(np, sub), name, None) is obj:
            f = getattr(getattr(names._ns, sub, None), name, None)
            return f if f is not None else _missing(f"{sub}.{name}", names.__name__)
    return obj


_SUBMODULES = {"numpy.linalg": "linalg", "numpy.fft": "fft"}


def _clone(fn, names):
    import types
    new = types.FunctionType(fn.__code__, _module_globals(fn.__globals__, names),
                             fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__dict__.update(fn.__dict__)
    new.__qualname__ = fn.__qualname__
    new.rebound_from = fn  # (see ``original``)
    return new


def original(fn):
    """The function ``rebind`` made ``fn`` from (``fn`` itself when it is not such a
    copy): what a derivative of ``fn`` is made from, its rules and names resolved as
    written, then rebound to the namespace again."""
    return getattr(fn, "rebound_from", fn) if isinstance(fn, _FunctionType) else fn


def _module_globals(g, names):
    """A copy of a sourcegrad module's globals with ``np`` bound to ``names`` and its
    functions (and the sourcegrad functions and modules it imported) rebound."""
    import types
    key = (id(g), id(names))
    got = _REBOUND.get(key)
    if got is not None:
        return got
    new = _REBOUND[key] = dict(g)
    for k, v in g.items():
        if v is np:
            new[k] = names
        elif v is asarray:
            new[k] = names.xp_asarray
        elif isinstance(v, types.FunctionType):
            module = v.__globals__.get("__name__", "")
            if module.startswith("sourcegrad.") and module != __name__ and "np" in v.__globals__:
                new[k] = _clone(v, names) if v.__globals__ is g else rebind(v, names)
        elif isinstance(v, types.ModuleType) and v.__name__.startswith("sourcegrad.") \
                and v.__name__ != __name__:
            new[k] = rebind(v, names)
    return new
