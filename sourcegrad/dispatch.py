"""Calls whose target is known only at run time (``self.layer(x)``, ``f(x)``).

The generated code calls ``call_fwd(callee, spec, *args)`` in the forward
sweep and ``call_bwd(saved, dout)`` in the backward sweep.  ``call_fwd``
finds the callee's derivative in the cache (transforming it on first use):
a user function or method, a Cell (its ``construct``), or a function with a
registered rule.  Everything else is called as is when no argument carries
gradient, and refused when one does.
"""
from __future__ import annotations

import inspect
import types

import numpy as np

from sourcegrad import memo, reverse, xp
from sourcegrad.api import grad
from sourcegrad.codegen import forwarder
from sourcegrad.errors import NoDerivativeError
from sourcegrad.pipeline import GeneratedCallable, Spec, derive, user_callable, vararg_names
from sourcegrad.rules import foreign, registry



def _plan(callee, spec, nargs, kwnames, library="numpy"):
    active_args, active_kw, weights, star = spec
    starred = tuple(range(star, nargs)) if star is not None else ()
    # f(a, *rest): every item of rest is an argument with gradient; its adjoints
    # come last in what call_bwd returns
    caller_order = [("pos", i) for i in active_args] + [("kw", k) for k in active_kw] + [
        ("pos", i) for i in starred]
    active_args = tuple(active_args) + starred
    target = user_callable(callee, nargs) if foreign.library_of(callee) is None else None
    method = _array_method(callee) if target is None else None
    if method is not None:
        # y.dot(x) for an array y: the rule of np.ndarray.dot, y passed as self
        fn, has_self = _primitive_wrapper(method, nargs + 1, kwnames), True
    elif target is None:
        if registry.lookup(callee) is None:
            if registry.is_nondifferentiable(callee) or not (active_args or active_kw):
                return None
            other = foreign.refusal(callee)  # SciPy, autograd, JAX: never their source
            if other is not None:
                raise NoDerivativeError(f"call to {other[0]}", detail=other[1], hint=other[2])
            name = getattr(callee, "__qualname__", repr(callee))
            raise NoDerivativeError(
                f"call to {name}",
                detail=f"{name} has no derivative rule and no Python source to differentiate",
                hint=f"register a rule with @sourcegrad.adjoint({name})")
        fn, has_self = _primitive_wrapper(callee, nargs, kwnames), False
    else:
        fn, has_self = target
    sig = inspect.signature(fn, follow_wrapped=False)
    shift = 1 if has_self else 0
    bound = sig.bind(*range(nargs + shift), **{k: k for k in kwnames})
    slot_of = {}
    params = list(sig.parameters)
    nvar = -1
    extra = ()
    for pname, v in bound.arguments.items():
        if sig.parameters[pname].kind == inspect.Parameter.VAR_KEYWORD:
            # forwarded through **kwargs: specialised to these keywords
            extra = tuple(v)
            i = params.index(pname)
            params[i:i + 1] = list(extra)
            for k in extra:
                if k in active_kw:
                    slot_of[k] = ("kw", k)
            continue
        if sig.parameters[pname].kind == inspect.Parameter.VAR_POSITIONAL:
            vals = v
            if weights or any(isinstance(item, int) and item - shift in active_args
                              for item in v):
                # gradient through *args (or weights read where *args is forwarded):
                # specialised to this many parameters
                nvar = len(v)
                names = vararg_names(fn, nvar)
                i = params.index(pname)
                params[i:i + 1] = names
        else:
            vals = (v,)
        for k, item in enumerate(vals):
            slot = names[k] if vals is v and nvar >= 0 else pname
            if isinstance(item, int) and item - shift in active_args:
                slot_of[slot] = ("pos", item - shift)
            elif isinstance(item, str) and item in active_kw:
                slot_of[slot] = ("kw", item)
    active = tuple(p for p in params if p in slot_of)
    d = derive(fn, Spec(active=active, mode="split", weights=weights, varargs=nvar,
                        kwargs=extra, library=library))
    index = {slot_of[p]: j for j, p in enumerate(active)}
    reorder = tuple(index.get(slot) for slot in caller_order)
    return d, has_self, reorder


def _array_method(callee):
    """``np.ndarray.dot`` for ``y.dot`` (a method bound to an array) when it has a
    rule, else None."""
    owner = getattr(callee, "__self__", None)
    if isinstance(callee, types.BuiltinMethodType) and isinstance(owner, np.ndarray):
        method = getattr(type(owner), callee.__name__, None)
        if method is not None and registry.lookup(method) is not None:
            return method
    return None


def _primitive_wrapper(prim, nargs, kwnames):
    """A tiny Python function calling ``prim``, so its rule can be inlined."""
    params = [f"a{i}" for i in range(nargs)] + list(kwnames)
    call_args = [f"a{i}" for i in range(nargs)] + [f"{k}={k}" for k in kwnames]
    name = getattr(prim, "__name__", "primitive")
    return forwarder(name, params, "prim", call_args, {"prim": prim}, f"call of {name}")


def _callee_key(callee):
    """What the plan for ``callee`` depends on: its function, or its class for a Cell."""
    if isinstance(callee, types.MethodType):
        return callee.__func__
    if isinstance(callee, types.BuiltinMethodType) and isinstance(
            getattr(callee, "__self__", None), np.ndarray):
        return (type(callee.__self__), callee.__name__)   # y.dot: any array's .dot
    if isinstance(callee, (types.FunctionType, types.BuiltinFunctionType, type,
                           GeneratedCallable)):
        return callee
    target = user_callable(callee)
    if target is not None and target[1]:  # a Cell or callable object: its class's code
        return type(callee)
    return callee  # a ufunc or other primitive: itself


def _self_of(callee):
    if isinstance(callee, types.MethodType) or isinstance(
            callee, types.BuiltinMethodType) and isinstance(callee.__self__, np.ndarray):
        return callee.__self__
    return callee


def call_fwd(callee, spec, *args, **kwargs):
    """Forward sweep of a call resolved at run time: ``(out, saved)``."""
    library = "numpy"
    for a in args:
        if type(a) not in _PLAIN:  # maybe another library's array (xp.py)
            library = xp.library(args)
            break
    plans = memo.cache(_callee_key(callee), "plans")  # freed with the callee
    key = (spec, len(args), tuple(kwargs), library)
    plan = plans.get(key, _MISSING)
    if plan is _MISSING or (plan is not None and not plan[0].valid()):
        plan = plans[key] = _plan(callee, spec, len(args), tuple(kwargs), library)
    if plan is None:
        return callee(*args, **kwargs), None
    d, has_self, reorder = plan
    if has_self:
        out, saved = d.functions[0](_self_of(callee), *args, **kwargs)
    else:
        out, saved = d.functions[0](*args, **kwargs)
    return out, (d.functions[1], saved, reorder)


_MISSING = object()
_PLAIN = frozenset({np.ndarray, float, int, bool, np.float64, np.float32, type(None)})


def call_bwd(saved, dout, weight_grads=None):
    """Backward sweep of a call made by :func:`call_fwd`: adjoints of its active arguments."""
    if saved is None:
        return ()
    bwd, inner, reorder = saved
    if weight_grads is not None:
        grads = bwd(inner, dout, weight_grads)
    else:
        grads = bwd(inner, dout)
    return tuple(grads[j] if j is not None else None for j in reorder)


def vjp_of(callee, positions):
    """``callee``'s gradient with respect to the arguments at ``positions``, seeded by
    one extra last argument: ``vjp_of(f, (0,))(x, dout)`` is ``(dx,)``.  Used by
    derivatives that will be differentiated again (see ``Reverse.vjp_call``)."""
    kept = memo.cache(callee, "vjps")  # freed with the callee
    positions = tuple(positions)
    g = kept.get(positions)
    if g is None:
        g = kept[positions] = grad(callee, positions, sens_param=True)
    return g


reverse.RUNTIME_CALLS.update(call_fwd=call_fwd, call_bwd=call_bwd, vjp_of=vjp_of)
