"""The public API: ``grad``, ``value_and_grad``, ``source``.

Arguments are validated here, before any transformation, with messages that
say what was expected, what was received and how to fix it.  The returned
:class:`GradFunction` finds its derivative in the cache (checking guards),
calls it, and shapes the result as docs/api.md says.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
import types

import numpy as np

from sourcegrad import memo, refusals, runtime, xp
from sourcegrad.display import to_html
from sourcegrad.parse import unwrap
from sourcegrad.pins import Pin
from sourcegrad.codegen import MISS, fast_path, forwarder, strip_comments
from sourcegrad.pipeline import (GeneratedCallable, Spec, derive, dump, extra_keywords,
                                 user_callable, vararg_names)
from sourcegrad.rules import registry
from sourcegrad.shapes import Abstract
from sourcegrad.tensor import Parameter

FLOAT = Abstract("float")

__all__ = ["grad", "value_and_grad", "source", "GradFunction", "GradSignature", "fix_gradient"]

# A derivative is specialised on its inputs' shapes (simpler, faster code);
# past this many shape signatures a gradient function uses a general one.
MAX_SPECIALIZATIONS = 8




def _rule_wrapper(primal):
    """A Python function with readable source that calls ``primal`` (a function with a
    derivative rule, e.g. ``np.sin``): ``def sin(x): return np.sin(x)``, parameters
    from the rule's signature.  ``grad(np.sin)`` differentiates it like any function,
    the rule inlined.  None when ``primal`` has no rule."""
    try:
        rule = registry.lookup(primal)
    except Exception:
        return None
    if rule is None:
        return None
    kept = memo.cache(rule, "wrapper")  # one per rule: made anew when a rule replaces it
    if "wrapper" in kept:
        return kept["wrapper"]
    fname = getattr(primal, "__name__", None)
    if not (isinstance(fname, str) and fname.isidentifier()):
        fname = "function"
    scope = {}
    signature = _wrapper_signature(rule, scope)
    if signature is None:
        return None
    params, args = signature
    expr = _primal_expr(primal, fname, args, scope)
    wrapper = kept["wrapper"] = forwarder(fname, params, expr, args, scope,
                                          f"{fname} (rule wrapper)")
    return wrapper


def _wrapper_signature(rule, scope):
    """(parameter texts, argument texts) of a rule wrapper: the rule's parameters but
    ``out=`` and optional keyword-only ones; defaults that are not literals are bound
    in ``scope``.  None for a rule taking ``**kwargs``."""
    params, args = [], []
    star = False
    for p in rule.signature.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            return None
        if p.kind == p.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            args.append(f"*{p.name}")
            star = True
            continue
        if p.name == "out" and p.default is None or \
                p.kind == p.KEYWORD_ONLY and p.default is not p.empty:
            # out=: not for a function being differentiated; optional keyword-only
            # parameters (np.clip's min=/max=) may clash with what is passed
            continue
        if p.kind == p.KEYWORD_ONLY and not star:
            params.append("*")
            star = True
        params.append(p.name + _default_text(p, scope))
        pos = p.kind != p.KEYWORD_ONLY and p.default is p.empty
        args.append(p.name if pos else f"{p.name}={p.name}")
    return params, args


def _default_text(p, scope):
    """``=<default>`` for parameter ``p`` (a literal, or a name bound in ``scope``)."""
    if p.default is p.empty:
        return ""
    try:
        literal = ast.literal_eval(repr(p.default)) == p.default
    except Exception:
        literal = False
    if literal:
        return "=" + repr(p.default)
    scope[f"{p.name}_default"] = p.default
    return f"={p.name}_default"


def _primal_expr(primal, fname, args, scope):
    """How a rule wrapper names the primal: ``np.sin``, ``ops.sigmoid``, ``x.sum`` (a
    method: its first argument is taken from ``args``), or ``primal``."""
    objclass = getattr(primal, "__objclass__", None)
    if objclass is not None and args and not args[0].startswith("*") and "=" not in args[0]:
        return f"{args.pop(0)}.{fname}"
    places = [("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft)]
    ops = sys.modules.get("sourcegrad.ops")
    if ops is not None:
        places.append(("ops", ops))
    module = sys.modules.get(getattr(primal, "__module__", None) or "")
    if module is not None:
        places.append((module.__name__.rpartition(".")[2].lstrip("_") or "module", module))
    if fname not in ("np", "ops", "primal"):
        for alias, mod in places:
            if getattr(mod, fname, None) is primal:
                scope[alias.partition(".")[0]] = np if alias.startswith("np") else mod
                return f"{alias}.{fname}"
    scope["primal"] = primal
    return "primal"


def _target(fn):
    """(python function, bound self or None) that ``fn`` calls."""
    if isinstance(fn, GradFunction):
        return fn.generated(), fn.bound_self  # a Cell's gradient takes the Cell first
    wrapper = _rule_wrapper(fn)  # np.sin, ops.sigmoid: differentiated through their rule
    if wrapper is not None:
        return wrapper, None
    if isinstance(fn, types.FunctionType):
        return unwrap(fn), None
    if isinstance(fn, types.MethodType):
        return fn.__func__, fn.__self__
    target = user_callable(fn)
    if target is None:
        raise TypeError(f"grad expects a Python function, method or Cell, but got "
                        f"{type(fn).__name__} ({fn!r}); wrap it in a def, or register a "
                        f"derivative rule for it with @sourcegrad.adjoint")
    func, has_self = target
    return func, (fn if has_self else None)


def _check_bool(value, what):
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, but got {type(value).__name__} "
                        f"{value!r}")


def _positional_params(sig, bound_self):
    params = [p for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if bound_self is not None:
        params = params[1:]
    var = [p.name for p in sig.parameters.values() if p.kind == p.VAR_POSITIONAL]
    return [p.name for p in params], (var[0] if var else None)


def _check_positions(grad_position, func, sig, bound_self, weights):
    names, var = _positional_params(sig, bound_self)
    desc = _describe(func, names, var)
    if grad_position is None:
        if weights is None:
            raise ValueError("grad_position and weights cannot both be None: ask for input "
                             "gradients (grad_position=0) or pass weights=...")
        return None
    if isinstance(grad_position, list):
        raise TypeError(f"grad_position must be an int or a tuple of ints, but got a list "
                        f"{grad_position!r}; write tuple({grad_position!r})")
    items = (grad_position,) if isinstance(grad_position, int) else grad_position
    if not isinstance(grad_position, (int, tuple)) or isinstance(grad_position, bool):
        raise TypeError(f"grad_position must be an int or a tuple of ints, but got "
                        f"{type(grad_position).__name__} {grad_position!r}")
    if isinstance(grad_position, tuple) and not grad_position:
        raise ValueError("grad_position=() asks for no gradient; use grad_position=None "
                         "with weights=..., or name at least one position")
    for p in items:
        if not isinstance(p, int) or isinstance(p, bool):
            raise TypeError(f"grad_position must contain ints, but got "
                            f"{type(p).__name__} {p!r} in {grad_position!r}")
        if p < 0:
            raise ValueError(f"grad_position={p} is negative; positions count from 0 and "
                             f"{desc}")
        if p >= len(names) and not var:
            raise ValueError(f"grad_position={p} but {desc}")
    if len(set(items)) != len(items):
        dup = sorted({p for p in items if items.count(p) > 1})
        raise ValueError(f"grad_position={grad_position!r} repeats position "
                         f"{', '.join(map(str, dup))}; name each position once")
    return tuple(int(p) for p in items)


def _describe(func, names, var, called=None):
    """``f takes 2 positional arguments (a, b)`` (and ``*args``; ``called with 3``)."""
    arity = len(names)
    desc = f"{getattr(func, '__qualname__', func)} takes {arity} positional argument" \
           f"{'' if arity == 1 else 's'}" + (f" ({', '.join(names)})" if names else "")
    if var:
        desc += f" and *{var}"
    if called is not None:
        desc += f", and was called with {called}"
    return desc


def _check_weights(weights):
    if weights is None:
        return None, False
    if isinstance(weights, Parameter):
        return (weights,), True
    if isinstance(weights, (list, tuple)):
        for i, w in enumerate(weights):
            if not isinstance(w, Parameter):
                raise TypeError(
                    f"weights[{i}] is a {type(w).__name__}, not a Parameter; gradients are "
                    f"collected for Parameters only: wrap it as Parameter(array, name=...) "
                    f"or pass it as an input and use grad_position")
        return tuple(weights), False
    if isinstance(weights, np.ndarray):
        raise TypeError("weights must be a Parameter or a list/tuple of Parameters, but got a "
                        "plain array; wrap it as Parameter(array, name=...) or pass it as an "
                        "input and use grad_position")
    raise TypeError(f"weights must be a Parameter or a list/tuple of Parameters, but got "
                    f"{type(weights).__name__}")


def fix_gradient(g, x):
    """Give gradient ``g`` the type, shape and dtype of input ``x``; an integer or
    bool input's gradient is a float one (float64 arrays, Python floats), never
    one truncated to the input's dtype."""
    if isinstance(x, np.ndarray):
        return fix_array_gradient(g, x)
    if isinstance(x, (float, int)) and not isinstance(x, np.generic):
        if g is None:
            return 0.0
        if xp.is_foreign(g):
            return runtime.fix_foreign(g, x, fix_gradient)
        # a real input's adjoint is the real part (the complex convention of the rules)
        return float(np.real(g)) if np.iscomplexobj(g) else float(g)
    if isinstance(x, (tuple, list, dict)):
        # a container input: one gradient per item, zeros for items the output
        # does not depend on (the generated code leaves those None)
        return runtime.mirror(g, x, fix_gradient)
    if xp.is_foreign(x) or xp.is_foreign(g):
        return runtime.fix_foreign(g, x, fix_gradient)
    if isinstance(x, (np.integer, np.bool_)):
        return np.float64(0.0) if g is None else np.float64(np.real(g))
    if g is None and isinstance(x, (np.floating, np.complexfloating)):
        return np.zeros_like(x)
    if isinstance(x, np.floating) and np.iscomplexobj(g):
        return x.dtype.type(np.real(g))  # a real input's adjoint is the real part
    return g


def fix_array_gradient(g, x):
    """:func:`fix_gradient` for a NumPy array input ``x``."""
    kind = x.dtype.kind
    dtype = np.float64 if kind in "biu" else x.dtype
    if g is None:  # an item of a container input that the output does not read
        return np.zeros(x.shape, dtype=dtype) if kind in "biu" \
            else np.zeros_like(x, subok=False)
    if type(g) is np.ndarray and g.dtype == dtype and g.shape == x.shape \
            and g.flags.writeable:
        return g
    if xp.is_foreign(g):  # read against Dask data: a Dask gradient
        return runtime.fix_foreign(g, x, fix_gradient)
    g = np.asarray(g)
    if g.shape != x.shape:
        g = np.broadcast_to(g, x.shape)
    if kind in "biu":  # a real input's adjoint is the real part
        return np.real(g).astype(np.float64)
    if kind == "f" and g.dtype.kind == "c":
        g = np.real(g)  # a real input's adjoint is the real part (no ComplexWarning)
    # a copy: broadcast views are read-only, and callers may update in place
    return g.astype(dtype) if np.issubdtype(dtype, np.number) else np.array(g)


def _key_of(a):
    """The cache key of an argument that is not a NumPy array: its type, and for an
    array of another library (Dask) its shape and dtype too when the shape is known."""
    if xp.is_foreign(a):
        return (type(a), a.shape, a.dtype) if xp.known_shape(a) else type(a)
    return type(a)


def _foreign_abstract(a):
    """What the derivative may assume of an argument that is not a NumPy array or a
    float: an array of another library with a known shape is specialised on like a
    NumPy array (a Dask array with unknown chunk sizes is not)."""
    if xp.is_foreign(a) and xp.known_shape(a):
        dtype = getattr(a, "dtype", None)
        if xp.is_namespace_array(a):
            dtype = xp.numpy_names("namespace:" + xp.namespace_of(a).__name__) \
                .numpy_dtype(dtype)
        if isinstance(dtype, np.dtype) and dtype.kind in "biufc":
            return Abstract("array", tuple(int(n) for n in a.shape), dtype)
    return None


def _distinct(grads, taken=()):
    """``grads`` as a tuple in which no array is returned twice (``a + b`` gives
    ``a`` and ``b`` one adjoint): callers may update each gradient in place."""
    seen = set(taken)
    for i, g in enumerate(grads):
        if type(g) is np.ndarray:
            if id(g) in seen:
                grads[i] = g = g.copy()
            seen.add(id(g))
    return tuple(grads)


@dataclasses.dataclass(frozen=True)
class GradSignature:
    """What a ``GradFunction`` takes and returns, as ``grad``'s arguments set it.

    ``params``: the parameter names a caller passes (a bound method's ``self``
    left out, it is ``bound_self``); ``positions``: the differentiated ones
    (None: weights only), ``single`` when ``grad_position`` was one int;
    ``weights``: the Parameters whose gradients are returned too, one bare
    gradient when ``single_weight``; ``value``: ``value_and_grad``; ``has_aux``,
    ``return_ids``, ``sens``: the flags of the same names (``sens_param``).
    """
    fn: object
    func: object
    bound_self: object
    params: tuple
    positions: tuple
    single: bool
    weights: tuple
    single_weight: bool
    has_aux: bool
    return_ids: bool
    sens: bool
    value: bool


class GradFunction(GeneratedCallable):
    """The callable that ``grad``/``value_and_grad`` return.

    Evaluating it in a notebook shows the derivative's source; ``source(g)``
    returns it as text.
    """

    def __init__(self, fn, grad_position, weights, has_aux, return_ids, sens_param, value):
        if not callable(fn):
            raise TypeError(f"grad expects a callable, but got {type(fn).__name__}")
        for flag, what in ((has_aux, "has_aux"), (return_ids, "return_ids"),
                           (sens_param, "sens_param")):
            _check_bool(flag, what)
        self.fn = fn
        self.func, self.bound_self = _target(fn)
        self.weights, self.single_weight = _check_weights(weights)
        # the function given, not what a decorator's __wrapped__ names
        sig = inspect.signature(self.func, follow_wrapped=False)
        self.positions = _check_positions(grad_position, self.func, sig, self.bound_self,
                                          self.weights)
        self.single = isinstance(grad_position, int)
        named, self._var = _positional_params(sig, self.bound_self)
        self._arity = len(named)
        # with *args (positions past the named parameters index it, weights may be read
        # by a function it is forwarded to, or a decorator's wrapper(x, *rest) forwards
        # it to fn(x, *rest)): the derivative is specialised on how many positional
        # arguments each call passes
        self._var_positions = self._var is not None
        # a method whose function takes only *args (a decorator's wrapper): the bound
        # object is the first item of *args
        self._var_shift = int(self.bound_self is not None and self._var is not None and
                              not [p for p in sig.parameters.values() if p.kind in (
                                  p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
        self.has_aux = has_aux
        self.return_ids = return_ids
        self.sens = sens_param
        self.value = value
        names = list(sig.parameters)
        offset = 1 if self.bound_self is not None else 0
        self._param_names = names
        self._offset = offset
        self.position_names = () if self._var_positions else self._position_names(-1)
        self._weight_ids = {id(w) for w in self.weights} if self.weights else set()
        # the weights asked for, known to the transformation (Spec.wanted)
        self._wanted = tuple(Pin(w) for w in self.weights) if self.weights else ()
        self._derivs = {}
        # the fast path of __call__: positional inputs and/or weights to differentiate,
        # the value maybe; no sensitivity, aux output or ids (its value: how many
        # positional arguments it needs at least, plus one; 0: no fast path)
        plain = not (sens_param or has_aux or return_ids)
        self._plain = (max(self.positions or (-1,)) + 2) if plain else 0
        self._last_key = self._last = None  # the derivative the previous call used
        self._last_numpy = None  # its function, when that call's inputs were NumPy's
        self._fast = None  # the previous call's signature's fast path (codegen.fast_path)
        self._fast_arity = -1  # how many inputs it takes (-1: there is none)
        self.__name__ = f"{getattr(fn, '__name__', type(fn).__name__)}_grad"
        self.__doc__ = f"Gradient of {getattr(fn, '__qualname__', fn)!r} (sourcegrad)."

    # -- derivative -------------------------------------------------------------
    def _names(self, nvar=-1):
        """The parameter names of the derivative: with ``nvar >= 0``, ``*args`` becomes
        that many parameters (see ``pipeline.expand_varargs``)."""
        if nvar < 0:
            return self._param_names
        i = self._param_names.index(self._var)
        return self._param_names[:i] + vararg_names(self.func, nvar) + self._param_names[i + 1:]

    def _position_names(self, nvar):
        names = self._names(nvar)
        return tuple(names[self._offset + p] for p in (self.positions or ()))

    def _spec(self, weight_args=(), shapes=(), nvar=-1, complete=False, kwnames=(),
              library="numpy"):
        positions = self._position_names(nvar)
        active = positions + tuple(a for a in weight_args if a not in positions)
        return Spec(active=active, mode="joint", weights=self.weights is not None,
                    wanted=self._wanted,
                    value=self.value, has_aux=self.has_aux, sens=self.sens,
                    single=self.single, weight_args=weight_args,
                    returned=len(positions), shapes=shapes, varargs=nvar,
                    complete=complete, kwargs=kwnames, library=library)

    def derivative(self, weight_args=(), shapes=(), nvar=-1, complete=False, kwnames=(),
                   library="numpy"):
        """``kwnames``: the keywords a call passes into the function's ``**kwargs``
        parameter (the derivative is specialised on them).  ``library``: the inputs'
        array library (``xp.library``): another library's arrays get a derivative of
        their own."""
        if nvar < 0 and self._var_positions:  # before any call: the fewest arguments
            nvar = max(0, max(self.positions or (-1,)) + 1 - self._arity + self._var_shift)
        key = (weight_args, shapes, nvar, complete, kwnames, library)
        d = self._derivs.get(key)
        if d is None or not d.valid():
            if shapes and len(self._derivs) >= MAX_SPECIALIZATIONS:
                return self.derivative(weight_args, (), nvar,  # many shapes seen: general
                                       kwnames=kwnames, library=library)
            names = self._names(nvar)[self._offset:]
            if nvar < 0 and self._var is not None:  # shapes of *args items: not a parameter's
                names = names[:self._arity]
            named = tuple((n, s) for n, s in zip(names, shapes) if s is not None)
            d = self._derivs[key] = derive(self.func, self._spec(
                weight_args, named, nvar, complete, kwnames, library))
        return d

    def generated(self, nargs=None):
        """The generated Python function (for ``grad(grad(f))``); ``nargs``: how many
        positional arguments the call passes, which settles how many items a ``*args``
        parameter (a decorator's wrapper's) gets."""
        nvar = -1
        if self._var_positions and nargs is not None:
            nvar = max(0, nargs - int(self.sens) - self._arity) + self._var_shift
        elif self._var_positions:
            refusals.at_function(
                self.func, f"{self.__name__[:-5]} differentiated with respect to *args inside "
                f"differentiated code", detail="the number of positional arguments is known "
                "only at each call" + (" (it is a decorator's wrapper taking *args)"
                                       if hasattr(self.func, "__wrapped__") else ""),
                hint="give the function named parameters, or take the "
                "gradient with respect to a tuple argument")
        # called like the user's function: gradients as the caller gets them, zeros
        # (not None) for the items of a tuple or list input it does not read
        return self.derivative(nvar=nvar, complete=True).functions[0]

    def callable_generated(self, nargs=None):
        """``generated()`` called as the user calls this gradient: for a Cell's or a
        method's gradient a small wrapper passes the bound object first, and with
        ``sens_param`` the last positional argument is the seed (``generated()`` takes
        it by keyword).  So a gradient called inside differentiated code is
        differentiated like any user function."""
        gen = self.generated(nargs)
        if self.bound_self is None and not self.sens:
            return gen
        cached = getattr(self, "_bound_wrapper", None)
        if cached is not None and cached[0] is gen:
            return cached[1]
        sig = inspect.signature(gen).parameters.values()
        params = [p.name for p in sig if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        kwonly = [p.name for p in sig if p.kind == p.KEYWORD_ONLY]
        inner = (["bound_self"] if self.bound_self is not None else []) + \
            params[1 if self.bound_self is not None else 0:]
        params = inner[1:] if self.bound_self is not None else inner
        params = params + kwonly
        args = inner + [f"{k}={k}" for k in kwonly]
        name = f"{gen.__name__}_call"
        wrapper = forwarder(name, params, gen.__name__, args,
                            {gen.__name__: gen, "bound_self": self.bound_self}, name)
        self._bound_wrapper = (gen, wrapper)
        return wrapper

    def last_derivative(self):
        """The ``pipeline.Derivative`` the last call ran (specialised on its inputs'
        shapes), or the general one before any call."""
        return self._last or self.derivative()

    def last_generated(self):
        """The generated function the last call ran (specialised on its inputs'
        shapes), or the general one before any call."""
        return self.last_derivative().functions[0]

    def signature(self) -> GradSignature:
        """What this gradient function takes and returns (``GradSignature``): the
        public description tools that write the gradient out (``sg.export``) read."""
        return GradSignature(
            fn=self.fn, func=self.func, bound_self=self.bound_self,
            params=tuple(self._param_names[self._offset:]), positions=self.positions,
            single=self.single, weights=None if self.weights is None else tuple(self.weights),
            single_weight=self.single_weight, has_aux=self.has_aux,
            return_ids=self.return_ids, sens=self.sens, value=self.value)

    # -- calling ------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if len(args) == self._fast_arity and not kwargs:
            # the common case: positional inputs, gradients only, and the same input
            # shapes and dtypes as the previous call (see codegen.fast_path)
            got = self._fast(*args)
            if got is not MISS:
                return got
        d, args, kwargs = self._select(args, kwargs)
        f = d.functions[0]
        if d.spec is not None and d.spec.library.startswith("namespace:"):
            return self._call_namespace(d, f, args, kwargs)
        if self.bound_self is not None:
            res = f(self.bound_self, *args, **kwargs)
        else:
            res = f(*args, **kwargs)
        return self._finish(res, args, kwargs)

    def _call_namespace(self, d, f, args, kwargs):
        """A call on an Array API namespace's arrays (array-api-strict, PyTorch): the
        NumPy arrays among the arguments and the weights are that namespace's arrays
        for the call (converted once each, so a Parameter keeps one identity), and so
        is every gradient returned."""
        names = xp.numpy_names(d.spec.library)
        with xp.owning():
            own = names.own
            args = tuple(own(a) for a in args)
            acc = kwargs.get("weight_grads")
            if acc is not None:  # the derivative sees the weights as namespace arrays
                inner = runtime.WeightGrads(())
                for p in self.weights:
                    if id(p) in acc:
                        inner[id(own(p))] = None
                kwargs["weight_grads"] = inner
            bound = self.bound_self
            res = xp.call_reporting(f, d.name, names, *((bound,) if bound is not None
                                                         else ()), *args, **kwargs)
            if acc is not None:
                for p in self.weights:
                    if id(p) in acc:
                        g = inner[id(own(p))]
                        acc[id(p)] = names.zeros_like(own(p)) if g is None else g
                kwargs["weight_grads"] = acc
        return self._finish(res, args, kwargs)

    def _select(self, args, kwargs):
        """``(derivative, args, kwargs)`` for a call: the derivative specialised on the
        inputs (from the cache when it is still valid), and the arguments it takes
        (the seed and the weight-gradient accumulator among the keywords); ``kwargs``
        is the caller's own dict, added to in place."""
        fast = self._fast
        kwnames = extra_keywords(self.func, kwargs) if kwargs else ()
        if self.sens:
            if not args:
                raise TypeError("sens_param=True: pass the output's sensitivity as the last "
                                "positional argument")
            *args, sens = args
            self._check_sens_given(args, kwargs)
            kwargs["sens"] = sens
        nvar = -1
        if self._var_positions:
            nvar = max(0, len(args) - self._arity) + self._var_shift
            top = max(self.positions or (-1,))
            if top >= len(args):
                names = self._param_names[self._offset:self._offset + self._arity]
                raise ValueError(f"grad_position={top} but "
                                 f"{_describe(self.func, names, self._var, len(args))}")
        names = self._names(nvar)
        weight_args = ()
        if self.weights is not None:
            ids = self._weight_ids
            npos = len(args) if nvar >= 0 else self._arity
            # the parameters a weight is passed to, positionally or by keyword
            weight_args = tuple(
                n for i, n in enumerate(names[self._offset:])
                if id(args[i] if i < len(args) else kwargs.get(n)) in ids and
                (i < npos or i >= len(args))) + tuple(
                n for n in kwnames if id(kwargs[n]) in ids)
            acc = runtime.WeightGrads(self.weights)
            kwargs["weight_grads"] = acc
        key = (weight_args, tuple([(a.shape, a.dtype) if isinstance(a, np.ndarray)
                                   and type(a) is not np.matrix else _key_of(a)
                                   for a in args]), kwnames)
        if key == self._last_key and self._last.valid():
            d = self._last
            if fast is None and self._plain and len(args) >= self._plain - 1 \
                    and d.functions[0] is self._last_numpy \
                    and not weight_args and len(kwargs) == (self.weights is not None):
                # the second call with these inputs: worth a fast path (a signature
                # seen once, as in a notebook, never pays for one)
                self._fast = fast_path(d, key[1], self.positions, self.single,
                                        value=self.value, weights=self.weights,
                                        single_weight=self.single_weight,
                                        bound_self=self.bound_self, finish=self._finish)
                self._fast_arity = len(args)
        else:
            shapes = tuple(Abstract("array", a.shape, a.dtype) if isinstance(a, np.ndarray)
                           and a.dtype.kind in "biufc" else FLOAT if type(a) is float else
                           _foreign_abstract(a) for a in args)
            library = xp.library(args)
            d = self._last = self.derivative(weight_args, shapes, nvar, kwnames=kwnames,
                                             library=library)
            self._last_key = key
            # a fast path checks for NumPy arrays: none for a call on another library's
            self._last_numpy = d.functions[0] if library == "numpy" else None
            self._fast, self._fast_arity = None, -1
        return d, args, kwargs

    def _check_sens_given(self, args, kwargs):
        """With ``sens_param``, the last positional argument is the sensitivity: when
        that leaves a required input unpassed, the sensitivity is what is missing."""
        if len(args) >= self._arity:
            return
        params = list(inspect.signature(self.func, follow_wrapped=False)
                      .parameters.values())[self._offset:]
        required = [p.name for p in params if p.default is p.empty and p.kind in (
            p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
        missing = [n for n in required if names.index(n) >= len(args) and n not in kwargs]
        if missing:
            raise TypeError(
                f"sens_param=True: the output's sensitivity is missing: "
                f"{_describe(self.func, names, self._var, len(args) + 1)} positional "
                f"argument{'' if len(args) == 0 else 's'}, the last taken as the "
                f"sensitivity; pass the inputs, then the sensitivity (an array shaped like "
                f"the output)")

    def _finish(self, res, args, kwargs):
        if self.value:
            out, grads = res
        elif self.has_aux:
            grads, aux = res
        else:
            grads = res
        if self.positions is not None:
            grads = self._fix_inputs(grads, args, kwargs)
        if self.weights is not None:
            acc = kwargs["weight_grads"]
            wg = tuple(fix_gradient(acc.get(id(p)) if acc.get(id(p)) is not None else
                            np.zeros_like(p), p) for p in self.weights)
            flat = grads if isinstance(grads, tuple) else (grads,)
            if self.return_ids and self.positions is not None:
                flat = tuple(pair[1] for pair in (flat if not self.single else (grads,)))
            wg = _distinct(list(wg), {id(g) for g in flat})
            wg = tuple(g if xp.is_foreign(g) else np.asarray(g).view(np.ndarray) for g in wg)
            if self.return_ids:
                wg = tuple((p.name, g) for p, g in zip(self.weights, wg))
            wpart = wg[0] if self.single_weight else wg
            grads = wpart if self.positions is None else (grads, wpart)
        if self.value:
            return out, grads
        if self.has_aux:
            return grads, aux
        return grads

    def _fix_inputs(self, grads, args, kwargs):
        n = len(args)
        names = self._param_names
        offset = self._offset
        if self.single:
            p = self.positions[0]
            g = fix_gradient(grads, args[p] if p < n else kwargs.get(names[p + offset]))
            return (p, g) if self.return_ids else g
        out = []
        for g, p in zip(grads, self.positions):
            out.append(fix_gradient(g, args[p] if p < n else kwargs.get(names[p + offset])))
        out = _distinct(out)
        if self.return_ids:
            return tuple(zip(self.positions, out))
        return tuple(out)

    # -- reading ------------------------------------------------------------------
    def source(self, comments: bool = True, stage: str = None) -> str:
        """The derivative's source: the one the last call ran (specialised on its
        inputs' shapes), or the general one before any call.  ``comments=False``
        leaves out the comments naming the user's line each block differentiates.
        ``stage`` (one of ``pipeline.STAGES``: ``"parse"``, ``"normalize"``,
        ``"activity"``, ``"reverse"``, ``"assemble"``, ``"optimize"``, or a pass of
        the optimizer: ``"specialize"``, ``"factor"``, ``"saves"``, ``"simplify"``)
        shows this function's tree right after that stage instead."""
        d = self.last_derivative()
        text = d.source if stage is None else dump(self.func, d.spec, stage)
        return text if comments else strip_comments(text)

    def __repr__(self):
        kind = "value_and_grad" if self.value else "grad"
        return (f"<sourcegrad.{kind} of {getattr(self.fn, '__qualname__', self.fn)!r}, "
                f"grad_position={self.positions if not self.single else self.positions[0]}>")

    def _repr_pretty_(self, p, cycle):
        p.text(self.source())

    def _repr_html_(self):
        return to_html(self.source())


def grad(fn, grad_position=0, weights=None, has_aux=False, return_ids=False,
         sens_param=False) -> GradFunction:
    """The gradient of ``fn``, by source transformation.

    >>> import numpy as np, sourcegrad as sg
    >>> g = sg.grad(lambda x: np.sum(x * x))
    >>> g(np.array([1.0, 2.0]))
    array([2., 4.])

    ``grad_position``: int (one gradient), tuple of ints (a tuple), or None
    (then ``weights`` is required).  ``weights``: a Parameter or a list of
    them, found wherever ``fn`` reads them.  ``has_aux``: differentiate only
    the first output and return ``(grads, aux)``.  See docs/api.md for the rest.
    """
    return GradFunction(fn, grad_position, weights, has_aux, return_ids, sens_param, False)


def value_and_grad(fn, grad_position=0, weights=None, has_aux=False, return_ids=False,
                   sens_param=False) -> GradFunction:
    """Like :func:`grad`, returning ``(fn's outputs, gradients)``."""
    return GradFunction(fn, grad_position, weights, has_aux, return_ids, sens_param, True)


def generated_function(g):
    """The compiled derivative ``g``'s last call ran: calling it directly skips only
    ``g``'s argument handling (the benchmark's cached-call overhead is the difference)."""
    return g.last_generated()


def source(g, comments: bool = True, stage: str = None) -> str:
    """The generated Python source of ``g``'s derivative.

    Each block of the backward sweep is headed by a comment naming the line of
    your code it differentiates; ``comments=False`` leaves them out.
    ``stage="normalize"`` (or ``"parse"``, ``"activity"``, ``"reverse"``,
    ``"assemble"``, ``"optimize"``, or a pass of the optimizer: ``"specialize"``,
    ``"factor"``, ``"saves"``, ``"simplify"``) shows the function's tree right after
    that stage of the pipeline; the environment variable
    ``SOURCEGRAD_DUMP=normalize,reverse`` (or ``all``) prints those stages of every
    transformation to standard error.
    """
    if getattr(type(g), "shows_source", False):  # sg.jit of a gradient: what it compiled
        return g.source(comments)
    if not isinstance(g, GradFunction):
        shown = getattr(g, "generated_source", None)  # jacfwd/jacrev/hessian (transforms)
        if shown is not None:
            return shown(comments)
        raise TypeError(f"source() expects what grad/value_and_grad returned, got "
                        f"{type(g).__name__}")
    return g.source(comments, stage)
