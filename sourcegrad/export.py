"""Export a derivative as a standalone Python module that needs only NumPy.

``export(g, "dloss.py", *args)`` writes the derivative sourcegrad generated
for ``g`` (``sg.source(g)``), the derivatives of the functions it calls, and
every helper they call (sourcegrad's runtime helpers, the derivative-rule
helpers, ``sourcegrad.ops`` functions, your own helper functions), each as
plain source.  The written module imports NumPy (SciPy too where the derivative
calls it) and nothing but the Python standard library, so the gradient can be
shipped without sourcegrad::

    import sourcegrad as sg
    g = sg.grad(loss, (2, 3))
    sg.export(g, "dloss.py", x, y, w, b)   # the derivative specialised to these shapes
    sg.export(g, "dloss.py")               # the general derivative

    # elsewhere, without sourcegrad:
    from dloss import gradient
    dw, db = gradient(x, y, w, b)          # what g(x, y, w, b) returns

How each name the generated code reads is written out:

* a NumPy module, function, ufunc, type or dtype: ``import numpy as np`` and
  ``np.<name>``; a standard-library module or function: an ``import``;
* a Python function or class (not NumPy's, not the standard library's): its
  source, recursively with the names it reads in its own module (a
  decorator's wrapper, which ``functools.wraps`` marks, is *bound*: its source
  is not the wrapped function's, and may compute something else);
* another module used as ``mod.attr`` (``ops.matmul``): the attributes read
  become module-level definitions, gathered in a ``class mod:`` namespace;
* numbers, strings, ``None``, tuples/lists/dicts of them, NumPy scalars and
  dtypes, and arrays of at most ``MAX_LITERAL`` elements: literals (a
  ``Parameter`` becomes a plain array);
* the derivative of a called function: its generated source;
* anything else (a ``Cell`` instance such as ``model``, an object, a large
  array, a function without Python source, a Parameter asked for with
  ``weights=``): a *bound* name.  The module lists these in ``BOUND`` and its
  docstring; call ``bind(model=..., ...)`` before ``gradient``.  Better still,
  make such objects arguments of the function you differentiate.

Two different objects wanted under one name (say two helpers called
``_grad`` from different modules) are told apart by renaming the later one
(``_grad_1``) in the code that reads it; names of builtins are never shadowed.

A derivative exported with example arguments is specialised to their shapes
and dtypes; ``gradient`` checks them and refuses others (export without
arguments for the general derivative).
"""
from __future__ import annotations

import inspect
import os
import textwrap
import types
import warnings

import numpy as np

from sourcegrad.api import GradFunction, fix_gradient, fix_array_gradient
from sourcegrad.codegen.standalone import MAX_LITERAL, Linker, gradient_wrapper
from sourcegrad.runtime import WeightGrads

__all__ = ["export", "export_source", "MAX_LITERAL"]


def export(g, path_or_file, *args, **kwargs) -> str:
    """Write ``g``'s derivative as a standalone module that imports only NumPy.

    ``path_or_file``: a path or an open text file.  With ``args`` (and
    ``kwargs``), ``g(*args, **kwargs)`` runs first and the derivative that call
    used (specialised to the arguments' shapes) is exported; without them, the
    general derivative.  Returns the module's source.  See this module's
    docstring for how names are written out.
    """
    text = export_source(g, *args, **kwargs)
    if hasattr(path_or_file, "write"):
        path_or_file.write(text)
    else:
        with open(os.fspath(path_or_file), "w", encoding="utf-8") as fh:
            fh.write(text)
    return text



def export_source(g, *args, **kwargs) -> str:
    """The standalone module :func:`export` writes, as a ``str``."""
    if not isinstance(g, GradFunction):
        raise TypeError(f"export() expects what sourcegrad.grad/value_and_grad returned, "
                        f"got {type(g).__name__}")
    shaped = bool(args or kwargs)
    if shaped:
        g(*args, **kwargs)
        d = g.last_derivative()
    else:
        d = g.derivative()
    sig = g.signature()
    linker = Linker(engine=_engine_module, bind=sig.weights or ())
    main = linker.derivative(d)
    checked = _arg_signature(args) if shaped else None
    namespace = {"_fix": fix_gradient, "np": np, "WeightGrads": WeightGrads,
                 main: d.functions[0]}
    if sig.bound_self is not None:
        namespace["bound_self"] = sig.bound_self
    entry = linker.entry(gradient_wrapper(sig, main, checked), namespace, "gradient")
    text = linker.module(_docstring(sig, main, checked, linker), entry, checked is not None)
    if linker.stubs:
        warnings.warn(f"export: the derivative reaches sourcegrad at run time through "
                      f"{', '.join(sorted(set(linker.stubs.values())))}; in the exported "
                      f"module those paths raise RuntimeError (see its docstring)",
                      stacklevel=3)
    return text


def _arg_signature(args):
    """``(shape, dtype)`` of each floating-point array argument, None for others."""
    return tuple((tuple(a.shape), str(a.dtype))
                 if isinstance(a, np.ndarray) and a.dtype.kind == "f" else None for a in args)


def _docstring(g, main, checked, linker):
    """The exported module's docstring: what it computes and how to call it."""
    fn = g.func
    qual = getattr(g.fn, "__qualname__", None) or getattr(fn, "__qualname__", "?")
    try:
        src = f"{inspect.getsourcefile(fn)}:{fn.__code__.co_firstlineno}"
    except (TypeError, AttributeError):
        src = "?"
    kind = "value_and_grad" if g.value else "grad"
    pos = "None" if g.positions is None else (
        str(g.positions[0]) if g.single else repr(g.positions))
    opts = [f"grad_position={pos}"]
    if g.weights is not None:
        opts.append(f"weights=[{', '.join(_pname(w) for w in g.weights)}]")
    for flag, nm in ((g.has_aux, "has_aux"), (g.return_ids, "return_ids"),
                     (g.sens, "sens_param")):
        if flag:
            opts.append(f"{nm}=True")
    params = ", ".join(g.params)
    if g.sens:
        params += ", sens"
    call = f"gradient({params}{', weights=[...]' if g.weights is not None else ''})"
    doc = [f"The derivative of {qual} ({src}), exported by sourcegrad.",
           ""]
    doc += textwrap.wrap(f"sourcegrad.{kind}({qual}, {', '.join(opts)}) written out as "
                         f"plain Python: this module needs only NumPy (and the standard "
                         f"library).", 78)
    doc += ["",
           f"    {call}",
           "",
           "returns what the sourcegrad gradient function returned for the same",
           f"arguments. {main}(...) is the raw derivative sourcegrad generated",
           "(what sourcegrad.source showed), with the helpers it calls defined above it."]
    if checked is not None:
        shapes = ", ".join(
            f"{n}: {s[0]} {s[1]}" for n, s in zip(g.params,
                                                  checked) if s)
        doc += [""] + textwrap.wrap(
            "Specialised to the example arguments' shapes"
            + (f" ({shapes})" if shapes else "")
            + "; gradient() refuses others (export without example arguments for the "
            "general derivative).", 78)
    if g.weights is not None:
        doc += ["",
                "weights: the arrays whose gradients to return, in the order above;",
                "they must be the very objects the code reads (through the bound names)."]
    if linker.stubs:
        doc += ["", "Needs sourcegrad at run time (these raise RuntimeError if reached):"]
        doc += [f"    {n}: {why}" for n, why in linker.stubs.items()]
    if linker.bound:
        doc += ["",
                "Bound names: objects that cannot be written as source. Supply them",
                "first, e.g. bind(" + ", ".join(f"{n}=..." for n in linker.bound) + "):"]
        doc += [f"    {n}: {why}" for n, why in linker.bound.items()]
    return '"""' + "\n".join(doc).replace('"""', "'''").replace("\\", "\\\\") + '\n"""'



# sourcegrad modules whose code a standalone derivative may carry: the helpers
# generated code calls and the ops/layers it reads; the rest is the engine
_PORTABLE = ("sourcegrad.runtime", "sourcegrad.ops", "sourcegrad.rules.numpy_core",
             "sourcegrad.rules.linalg", "sourcegrad.rules.fft", "sourcegrad.rules.math_",
             "sourcegrad.rules.ops", "sourcegrad.rules.operators", "sourcegrad.rules.builtins_",
             "sourcegrad.rules.runtime_", "sourcegrad.nn", "sourcegrad.tensor",
             "sourcegrad.dtypes", "sourcegrad.errors", "sourcegrad.rules.scipy_special",
             "sourcegrad.rules.scipy_stats", "sourcegrad.rules.scipy_linalg",
             "sourcegrad.rules.scipy_signal", "sourcegrad.xp")
_ENGINE_LIBS = ("gast", "astor")


def _engine_module(obj):
    """The engine module ``obj`` belongs to, or None if it can be exported."""
    if obj is fix_gradient or obj is fix_array_gradient:
        return None  # the gradient wrapper's fix-up: written out
    if isinstance(obj, types.ModuleType):
        mod = obj.__name__
        if mod == "sourcegrad":
            return None  # a namespace: its attributes are judged one by one
    elif isinstance(obj, (types.FunctionType, type, types.BuiltinFunctionType)):
        mod = getattr(obj, "__module__", None)
    else:
        mod = getattr(type(obj), "__module__", None)
        if not (isinstance(mod, str) and mod.startswith("sourcegrad.api")):
            return None  # other objects are literals or bound, wherever they come from
    if not isinstance(mod, str):
        return None
    top = mod.split(".")[0]
    if top in _ENGINE_LIBS:
        return mod
    if top == "sourcegrad" and not any(mod == p or mod.startswith(p + ".")
                                       for p in _PORTABLE):
        return mod
    return None



def _pname(w):
    return str(getattr(w, "name", None) or "?")
