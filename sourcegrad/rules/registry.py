"""The rule registry: derivative rules as data, keyed by the primal object.

A rule is a small *template* function.  Its first parameter names the
primal's result; the others mirror the primal's own parameters (names and
defaults), so a call site binds to them exactly as it binds to the primal.
The body assigns ``d[x]`` -- the adjoint of argument ``x`` -- for each
argument, reading ``d[z]``, the adjoint of the result::

    @adjoint(np.tanh)
    def tanh(z, x):
        d[x] = d[z] * (1.0 - z * z)

The reverse pass inlines the body at the point of use: parameter names
become the call's argument expressions, ``d[...]`` becomes adjoint names,
other local names become fresh temporaries, and statements that assign the
adjoint of an inactive argument (and temporaries only they used) are
dropped.  Free names in the body (``np``, ``unbroadcast``) resolve in the
module that defines the template.

Functions whose results never carry gradient (``np.shape``, ``len``,
comparisons, ``stop_gradient``) are registered with :func:`nondifferentiable`;
sourcegrad's own are one table, by family, in :mod:`sourcegrad.rules.nondiff`.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import sys
import textwrap
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from sourcegrad import astutil
from sourcegrad.parse import getsourcelines

# The template pseudo-name for "the adjoint of".  Templates write d[x]; the
# name only has to exist so linters and readers are not surprised.
d: Any = None

_RULES: dict[Any, "Rule"] = {}
_UNSET = object()
_NONDIFF: dict[Any, str] = {}
_ELEMENTWISE: set = set()  # helpers declared with elementwise()
_LOSS_SEEDS: set = set()   # helpers declared with loss_seed()


@dataclass
class Rule:
    """One derivative rule: a template and the primal it differentiates."""

    primal: Any
    template: Callable
    result: str = ""
    signature: inspect.Signature = None  # of the primal's parameters
    _tree: Any = field(default=None, repr=False)
    _plain: Any = field(default=None, repr=False)  # every parameter positional-or-keyword
    # (constants, Rule): templates for calls passing those constants (``adjoint(when=)``)
    variants: list = field(default_factory=list, repr=False)

    def for_constants(self, env: dict) -> "Rule":
        """The variant of this rule for a call site whose arguments (``env``: parameter
        -> argument node, as ``reverse.template_env`` binds them) are the constants a
        variant was registered for, or this rule."""
        for when, variant in self.variants:
            for pname, want in when.items():
                got = env.get(pname)
                if not (isinstance(got, ast.AST) and type(got).__name__ == "Constant"
                        and type(got.value) is type(want) and got.value == want):
                    break
            else:
                return variant
        return self

    @property
    def body(self) -> list:
        """The template's statements as a gast tree, parsed on first use (about a
        tenth of a millisecond; a transformation uses a dozen templates or so)."""
        if self._tree is None:
            self._tree = _parse(self.template)
        return self._tree

    def bind(self, args, kwargs) -> dict:
        """``signature.bind(*args, **kwargs)`` with defaults applied, as a dict in
        parameter order (``TypeError`` when they do not fit).  Plain parameters
        are bound here, several times faster than ``inspect`` does it."""
        plain = self._plain
        if plain is None:
            plain = self._plain = all(p.kind is p.POSITIONAL_OR_KEYWORD
                                      for p in self.signature.parameters.values())
        params = self.signature.parameters
        if not plain or len(args) > len(params):
            bound = self.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return dict(bound.arguments)
        out = {}
        rest = iter(args)
        for pname, p in params.items():
            value = next(rest, _UNSET)
            if value is _UNSET:
                value = kwargs.get(pname, p.default)
                if value is p.empty:
                    raise TypeError(f"missing a required argument: {pname!r}")
            elif pname in kwargs:
                raise TypeError(f"multiple values for argument {pname!r}")
            out[pname] = value
        for k in kwargs:
            if k not in params:
                raise TypeError(f"got an unexpected keyword argument {k!r}")
        return out

    @property
    def namespace(self) -> dict:
        return self.template.__globals__

    @property
    def where(self) -> str:
        code = self.template.__code__
        return f"{code.co_filename}:{code.co_firstlineno}"


def _parse(template) -> list:
    """The statements of ``template``'s body, parsed afresh (a gast tree)."""
    lines, _, parsed = getsourcelines(template)
    if parsed is None:
        parsed = ast.parse(textwrap.dedent("".join(lines)))
    return astutil.ast_to_gast(parsed.body[0]).body


def _key(primal):
    try:
        hash(primal)
        return primal
    except TypeError:
        return ("id", id(primal))


def adjoint(*primals: Any, when: dict = None) -> Callable:
    """Register ``template`` as the derivative rule of each of ``primals``.

    ``when={"weight": None}``: a variant of the rule already registered, used
    where a call passes those parameters as these constants (written in the
    call, or a known object's attribute read as a constant): its template can
    leave out what those constants make vanish.  It takes the same parameters.

    Example (a user's own rule for a SciPy function)::

        from sourcegrad import adjoint
        import scipy.special

        @adjoint(scipy.special.expit)
        def expit(z, x):
            d[x] = d[z] * z * (1.0 - z)
    """

    def register(template: Callable) -> Callable:
        params = list(inspect.signature(template).parameters.values())
        if not params:
            raise TypeError(
                f"rule {template.__name__} must take the result as its first "
                f"parameter, then the primal's parameters")
        sig = inspect.Signature(params[1:])
        for primal in primals:
            rule = Rule(primal, template, params[0].name, sig)
            if when is None:
                _RULES[_key(primal)] = rule
                continue
            base = _RULES.get(_key(primal))
            if base is None or list(base.signature.parameters) != list(sig.parameters) \
                    or not set(when) <= set(sig.parameters):
                raise TypeError(f"rule variant {template.__name__}: register the rule "
                                f"first, and take its parameters")
            base.variants.append((dict(when), rule))
        return template

    return register


def nondifferentiable(*primals: Any, why: str = "") -> None:
    """Declare that the results of ``primals`` never carry gradient."""
    for primal in primals:
        _NONDIFF[_key(primal)] = why


def elementwise(helper: Callable) -> Callable:
    """Declare that ``helper`` (a function rules call) returns an array of the
    broadcast shape of its arguments, like a ufunc: shape inference and the
    optimizer may then treat a call of it as making a new array."""
    _ELEMENTWISE.add(_key(helper))
    return helper


def loss_seed(helper: Callable) -> Callable:
    """Declare that ``helper(dz, input, reduction)`` is the adjoint of each element of
    a loss over ``input`` reduced by ``reduction`` ('mean', 'sum', 'none'): with
    the shape known and the reduction a constant, the optimizer writes it as
    ``dz / n`` or ``dz``."""
    _LOSS_SEEDS.add(_key(helper))
    return helper


def is_loss_seed(obj: Any) -> bool:
    try:
        return _key(obj) in _LOSS_SEEDS
    except Exception:
        return False


def is_elementwise(obj: Any) -> bool:
    try:
        return _key(obj) in _ELEMENTWISE
    except Exception:
        return False


# Rule families for optional libraries, loaded on the first lookup that misses
# while the library is imported (so importing sourcegrad never imports SciPy:
# the SciPy families together cost about a second of start-up).  A
# family's module imports this one, never the other way round: the edge is
# data, followed only at run time.
_LAZY_FAMILIES = {
    "scipy.special": ("sourcegrad.rules.scipy_special", "sourcegrad.rules.tangents_scipy"),
    "scipy.stats": ("sourcegrad.rules.scipy_stats", "sourcegrad.rules.tangents_scipy_stats"),
    "scipy.linalg": ("sourcegrad.rules.scipy_linalg", "sourcegrad.rules.tangents_scipy_linalg"),
    "scipy.signal": ("sourcegrad.rules.scipy_signal", "sourcegrad.rules.tangents_scipy_signal"),
    "scipy.integrate": ("sourcegrad.rules.scipy_integrate",
                        "sourcegrad.rules.tangents_scipy_integrate"),
}
_lazy_pending = dict(_LAZY_FAMILIES)


def _load_families() -> bool:
    """Import the rule family of every optional library imported since the last
    call; True when one was loaded."""
    loaded = False
    for library, family in list(_lazy_pending.items()):
        if library in sys.modules:
            del _lazy_pending[library]
            for module in (family,) if isinstance(family, str) else family:
                try:
                    importlib.import_module(module)
                except Exception as exc:  # a SciPy too old for one of the rules: say so
                    warnings.warn(f"sourcegrad: the rules for {library} could not be "
                                  f"loaded ({type(exc).__name__}: {exc}); its functions "
                                  f"are refused as having no rule", RuntimeWarning,
                                  stacklevel=2)
                    break
                loaded = True
    return loaded


def lookup(primal: Any) -> Rule | None:
    """The rule registered for ``primal``, or ``None``.

    An autograd primitive (``autograd.numpy.sin``, ``autograd.scipy.special.gammaln``)
    has the rule of the function it wraps."""
    try:
        rule = _RULES.get(_key(primal))
        if rule is None and _lazy_pending and _load_families():
            rule = _RULES.get(_key(primal))
        if rule is None:
            rule = _autograd_twin(primal)
        return rule
    except Exception:  # objects whose __eq__ misbehaves
        return None


def _autograd_twin(primal: Any) -> Rule | None:
    """The rule of the NumPy/SciPy function an ``autograd.numpy``/``autograd.scipy``
    function wraps (a ``@primitive``'s ``fun``, or NumPy's function of that name)."""
    if getattr(primal, "_is_autograd_primitive", False) is True:
        return lookup(primal.fun)
    mod = getattr(primal, "__module__", None)
    if isinstance(mod, str) and mod.startswith("autograd.numpy"):
        twin = getattr(sys.modules["numpy"], getattr(primal, "__name__", ""), None)
        if twin is not None and twin is not primal:
            return lookup(twin)
    return None


def is_nondifferentiable(primal: Any) -> bool:
    try:
        if _key(primal) in _NONDIFF:
            return True
        if _lazy_pending and _load_families():
            return _key(primal) in _NONDIFF
        if getattr(primal, "_is_autograd_primitive", False) is True:
            return is_nondifferentiable(primal.fun)
        return False
    except Exception:
        return False



# -- forward mode ---------------------------------------------------------------------
#
# A tangent rule is a template too, keyed by the same primal object.  Its first
# parameter names the primal's result, the others mirror the primal's parameters;
# each statement ``d[z] = expr`` is the contribution of the one argument whose
# tangent ``d[x]`` it reads (statements reading an inactive argument's tangent are
# dropped, the kept ones summed).  Tangents carry a leading batch axis: ``d[x]`` has
# shape ``(n,) + shape(x)`` (n directions at once).  Elementwise functions of one
# argument need no tangent template: their adjoint rule, read with ``d[z]`` and
# ``d[x]`` swapped, is the tangent (the Jacobian is diagonal, so it is its own
# transpose); they are declared with :func:`diagonal_tangent`.  So are elementwise
# functions of several arguments that broadcast (``scipy.stats.norm.logpdf(x, loc,
# scale)``): each ``d[x] = unbroadcast(E(d[z]), x)`` of the adjoint rule, with ``E``
# linear in ``d[z]`` and elementwise, gives ``x``'s contribution ``E(lift(d[x], z))``.

_TANGENTS: dict[Any, "Rule"] = {}
_DIAGONAL: set = set()  # primals whose adjoint rule is their tangent rule


def tangent(*primals: Any, constant: tuple = ()) -> Callable:
    """Register ``template`` as the forward-mode (tangent) rule of each of ``primals``.

    ``constant``: parameters the result depends on only through their shape or
    piecewise-constantly (their tangent contributes nothing).  Any other argument
    that carries a tangent must have a statement, or forward mode refuses the call.

    Example::

        @tangent(np.sinh)
        def sinh(z, x):
            d[z] = d[x] * np.cosh(x)
    """

    def register(template: Callable) -> Callable:
        params = list(inspect.signature(template).parameters.values())
        if not params:
            raise TypeError(f"tangent rule {template.__name__} must take the result as its "
                            f"first parameter, then the primal's parameters")
        sig = inspect.Signature(params[1:])
        for primal in primals:
            rule = Rule(primal, template, params[0].name, sig)
            rule.constant = frozenset(constant)
            _TANGENTS[_key(primal)] = rule
        return template

    return register


def diagonal_tangent(*primals: Any) -> None:
    """Declare functions acting element by element: their tangent rule is their
    adjoint rule with ``d[z]`` and ``d[x]`` swapped (the Jacobian is diagonal, so it
    is its own transpose).  With several arguments, each adjoint statement must be
    ``d[x] = E(d[z])`` or ``d[x] = unbroadcast(E(d[z]), x)``, ``E`` multiplying
    ``d[z]`` element by element by values of the primal (temporaries may read
    ``d[z]``); an argument with no statement has a zero tangent, as in reverse mode."""
    for primal in primals:
        _DIAGONAL.add(_key(primal))


def lookup_tangent(primal: Any) -> Rule | None:
    """The tangent rule registered for ``primal``, or ``None``."""
    try:
        rule = _TANGENTS.get(_key(primal))
        if rule is None and _lazy_pending and _load_families():
            rule = _TANGENTS.get(_key(primal))
        return rule
    except Exception:
        return None


def has_diagonal_tangent(primal: Any) -> bool:
    """Whether ``primal``'s adjoint rule serves as its tangent rule (see above)."""
    try:
        if _key(primal) not in _DIAGONAL and _lazy_pending:
            _load_families()
        return _key(primal) in _DIAGONAL
    except Exception:
        return False
