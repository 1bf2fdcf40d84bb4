"""Callables of other libraries: SciPy, autograd, JAX.

sourcegrad differentiates *your* Python source and calls rules for library
functions; it never reads another library's source (SciPy's Python code uses
``with``, ``**kwargs`` and C extensions; autograd's and JAX's are tracing
machinery).  A call of such a function with no rule is refused at the user's
line, naming the function, the idiom when it is one of autograd's or JAX's,
and the sourcegrad way (README, "Coming from autograd or JAX").
"""
from __future__ import annotations

import sys

import numpy as np

_LIBRARIES = {"scipy": "SciPy", "autograd": "autograd", "jax": "JAX", "jaxlib": "JAX"}

# autograd's and JAX's names for what sourcegrad spells differently
_IDIOMS = {
    "grad": "sg.grad(f)",
    "value_and_grad": "sg.value_and_grad(f)",
    "elementwise_grad": "sg.grad(lambda x: np.sum(f(x))) (the gradient of the sum)",
    "jacobian": "sg.jacrev(f) / sg.jacfwd(f)",
    "jacfwd": "sg.jacfwd(f)",
    "jacrev": "sg.jacrev(f)",
    "hessian": "sg.hessian(f)",
    "vjp": "sg.vjp(f, x)",
    "make_vjp": "sg.vjp(f, x)",
    "jvp": "sg.jvp(f, x, v)",
    "primitive": "@sourcegrad.adjoint(f) on a rule template",
    "defvjp": "@sourcegrad.adjoint(f) on a rule template",
    "custom_vjp": "@sourcegrad.adjoint(f) on a rule template",
    "custom_jvp": "@sourcegrad.adjoint(f) on a rule template",
    "flatten": "sg.ravel(tree)",
    "ravel_pytree": "sg.ravel(tree)",
    "stop_gradient": "sg.stop_gradient(x)",
}


def _module(obj) -> str:
    mod = getattr(obj, "__module__", None)
    if not isinstance(mod, str):
        mod = ""
    if isinstance(obj, np.ufunc):  # a ufunc has no __module__: SciPy's are in scipy.special
        special = sys.modules.get("scipy.special")
        if special is not None and getattr(special, obj.__name__, None) is obj:
            return "scipy.special"
    if mod.split(".")[0] not in _LIBRARIES:
        tmod = getattr(type(obj), "__module__", "") or ""
        if tmod.split(".")[0] in _LIBRARIES:  # jax.custom_vjp objects, frozen distributions
            return tmod
    return mod


def library_of(obj) -> str | None:
    """``"SciPy"``, ``"autograd"`` or ``"JAX"`` when ``obj`` belongs to one of them."""
    try:
        return _LIBRARIES.get(_module(obj).split(".")[0])
    except Exception:
        return None


def _name(obj) -> str:
    if getattr(obj, "_is_autograd_primitive", False) is True:
        return getattr(obj.fun, "__name__", "primitive")  # the user's own @primitive
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qual is None:
        qual = type(obj).__name__
    if "<locals>" in qual:  # made by a decorator (autograd names it after what it does)
        qual = getattr(obj, "__name__", qual)
    owner = getattr(obj, "__self__", None)
    if owner is not None and not isinstance(owner, type(sys)):
        # scipy.stats.norm.logpdf: a method of a distribution object
        inst = getattr(owner, "name", None)
        mod = _module(obj).split(".")[0]
        if isinstance(inst, str):
            return f"{mod}.stats.{inst}.{getattr(obj, '__name__', qual)}"
    mod = _module(obj)
    parts = mod.split(".")
    for k in range(1, len(parts) + 1):  # the shortest public module holding it
        prefix = ".".join(parts[:k])
        if any(p.startswith("_") for p in parts[:k]):
            break
        if getattr(sys.modules.get(prefix), qual.split(".")[0], None) is not None:
            return f"{prefix}.{qual}"
    public = ".".join(p for p in parts if not p.startswith("_"))
    return f"{public}.{qual}" if public else qual


# SciPy functions without a rule whose neighbour has one
_SCIPY_INSTEAD = {
    "solve_ivp": "scipy.integrate.odeint(f, y0, t, args=(...), tfirst=True) has a rule "
                 "(the adjoint method)",
    "cho_factor": "scipy.linalg.cholesky(a, lower=True) and scipy.linalg.cho_solve((c, "
                  "True), b) have rules",
}


def _idiom(obj) -> str:
    base = getattr(obj, "__name__", "")
    if not isinstance(base, str):
        return ""
    return base.split("_of_")[0] if "_of_" in base else base  # elementwise_grad_of_tanh...


def is_transformation(obj) -> bool:
    """Whether ``obj`` is one of autograd's or JAX's transformations (``grad``,
    ``elementwise_grad``, ``jacobian``, ...) or a function one of them made: its
    results come from that library's tracer, whatever its arguments."""
    return library_of(obj) in ("autograd", "JAX") and _idiom(obj) in _IDIOMS \
        and getattr(obj, "_is_autograd_primitive", False) is not True


def refusal(obj) -> tuple[str, str, str] | None:
    """``(what, detail, hint)`` for a call of ``obj`` with no rule, when ``obj``
    belongs to another library; else None."""
    lib = library_of(obj)
    if lib is None:
        return None
    what = _name(obj)
    rule_hint = (f"register a rule:  @sourcegrad.adjoint({what})\n"
                 f"        def _(z, x): d[x] = ...   "
                 f"(README, 'A rule for a function sourcegrad can't read')")
    if getattr(obj, "_is_autograd_primitive", False) is True or \
            type(obj).__name__ in ("custom_vjp", "custom_jvp"):
        idiom = "an autograd @primitive" if lib == "autograd" else f"a jax.{type(obj).__name__}"
        return (what, f"{what} is {idiom}: its gradient is given to {lib} (defvjp), which "
                      f"sourcegrad does not read",
                f"give sourcegrad the same backward function as a rule:\n"
                f"        @sourcegrad.adjoint({what})\n"
                f"        def _(z, x): d[x] = <your vjp applied to d[z]>\n"
                f"        (README, 'Coming from autograd or JAX')")
    base = _idiom(obj)
    if lib in ("autograd", "JAX") and base in _IDIOMS:
        return (what, f"{what} is {lib}'s {base}, which runs {lib}'s tracer: it cannot be "
                      f"differentiated by sourcegrad",
                f"the sourcegrad way is {_IDIOMS[base]} (README, 'Coming from autograd "
                f"or JAX')")
    dist = getattr(obj, "name", None)
    method = "logpdf" if hasattr(obj, "pdf") else "logpmf"
    if lib == "SciPy" and isinstance(dist, str) and hasattr(obj, method) \
            and not hasattr(obj, "__name__"):
        what = f"scipy.stats.{dist}"  # norm(mu, s): freezing a distribution
        return (f"{what}(...)", f"{what}(...) makes a frozen distribution, which has no "
                                f"derivative rules",
                f"call the distribution's method with the parameters instead: "
                f"{what}.{method}(x, ..., loc=..., scale=...) has a rule")
    if lib == "SciPy":
        instead = _SCIPY_INSTEAD.get(base)
        return (what, f"{what} is SciPy's code and has no derivative rule (sourcegrad does "
                      f"not differentiate SciPy's own source)",
                f"{instead}; or {rule_hint}" if instead else rule_hint)
    return (what, f"{what} belongs to {lib}, whose functions work on its own traced values: "
                  f"sourcegrad differentiates NumPy code and does not read {lib}'s source",
            f"call NumPy (import numpy as np) instead, or {rule_hint[0].lower()}"
            f"{rule_hint[1:]}")
