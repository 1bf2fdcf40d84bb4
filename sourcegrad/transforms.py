"""Forward mode and Jacobians: ``jvp``, ``vjp``, ``jacfwd``, ``jacrev``, ``hessian``.

On an Array API namespace's arrays (PyTorch, array-api-strict) each runs the
derivative rebound to that namespace, as ``grad`` does (``forward``'s ``library``;
README, "Dask and other array libraries"): the bases, tangents and Jacobians here
are that namespace's arrays, and so is everything returned.

``jvp`` and ``jacfwd`` run the forward-mode derivative that the pipeline
writes for ``fn`` (stage ``tangents`` in place of ``reverse``): one generated
function that computes the primal and, beside each statement, its tangent.
Tangents carry a leading axis of directions, so ``jacfwd`` pushes a whole basis
through in one call (``n`` input elements, one call), not ``n`` calls.

``vjp`` is ``grad`` with the seed given (``sens_param``).  ``jacrev`` runs
forward mode over that gradient with respect to the seed: the gradient is
linear in its seed, so its tangent along a basis of seeds is the Jacobian's
rows, all output elements in one call (batched cotangents).  ``hessian`` is
``jacfwd`` of the gradient (forward over reverse).

>>> import numpy as np, sourcegrad as sg
>>> def f(x):
...     return np.sin(x) * 2.0
>>> out, tangent = sg.jvp(f, np.array([1.0, 2.0]), np.ones(2))
>>> np.allclose(tangent, 2.0 * np.cos([1.0, 2.0]))
True
>>> sg.jacfwd(f)(np.array([1.0, 2.0])).shape
(2, 2)
"""
from __future__ import annotations

import inspect
import math
import types

import numpy as np

from sourcegrad import memo, refusals, tangents, xp
from sourcegrad.api import grad, value_and_grad
from sourcegrad.codegen import define, strip_comments
from sourcegrad.errors import NoDerivativeError, SourcegradError
from sourcegrad.pipeline import Spec, derive, user_callable, vararg_names
from sourcegrad.rules import registry
from sourcegrad.rules.tangents_numpy import batch_size, eye, zero_tangent
from sourcegrad.shapes import Abstract



# -- the forward-mode derivative of a callable --------------------------------------

def _target(fn, args=None):
    """(function to transform, bound object or None) for anything ``grad`` accepts
    (``args``: the call's, when known: they settle what a Jacobian stands for)."""
    if isinstance(fn, Jacobian):
        return fn.transformable_function(args), None
    if not callable(fn):
        raise TypeError(f"expected a function, a Cell or a gradient, got {type(fn).__name__}")
    bprop = getattr(type(fn), "bprop", None)
    if isinstance(bprop, types.FunctionType) and hasattr(type(fn), "construct"):
        refusals.at_function(
            bprop, f"forward mode of {type(fn).__qualname__}, a Cell with its own bprop",
            detail="bprop gives its reverse mode only: there is no tangent to take from it",
            hint="use grad, vjp or jacrev through it, or leave bprop out so forward mode "
                 "reads construct", cls=NoDerivativeError)
    got = user_callable(fn, None if args is None else len(args))
    if got is None:
        refusals.no_derivative(
            None, None, f"forward mode of {getattr(fn, '__qualname__', fn)!r}",
            detail="it has no Python source sourcegrad can read",
            hint="pass a Python function, a Cell, or a function made by sourcegrad")
    func, has_self = got
    bound = None
    if has_self:
        bound = fn.__self__ if isinstance(fn, types.MethodType) else fn
    return func, bound




_MAX_SHAPES = 8  # shape-specialised forward derivatives per callable and configuration


def forward(fn, positions=(0,), kwnames=(), has_aux=False, args=None, kwargs=None,
            tangent_outputs=(), basis=False, library=None):
    """The generated forward-mode function of ``fn`` differentiated at argument
    ``positions`` (and keyword arguments ``kwnames``), with the bound object (or None).
    It takes ``fn``'s arguments, then one tangent per differentiated argument by
    keyword (``dx=...``), and returns ``(outputs, output tangents)``.

    Given the call's ``args``, the derivative is specialised on their shapes and
    dtypes (as ``grad``'s: broadcasting known, written out or left out), up to a few
    shapes per callable, then general.  Remembered per callable (a bound method: per
    function, the object passed on), so generated code calling into user functions
    pays a dictionary lookup and the derivative's guards.  ``kwargs``: keyword
    arguments whose shapes it is specialised on too; ``tangent_outputs`` and ``basis``
    (the tangent will be the identity basis): see ``Spec``."""
    if library is None:
        library = _library(args, kwargs)
    fn = xp.original(fn)  # a rule's helper rebound to a namespace: made from its own code
    owner, bound = fn, None
    if isinstance(fn, types.MethodType):
        owner, bound = fn.__func__, fn.__self__
    shapes = _shape_key(args)
    if kwargs:
        shapes += _shape_key(list(kwargs.values()), list(kwargs))
    key = (positions, kwnames, has_aux, shapes, tangent_outputs, basis, library)
    per = memo.cache(owner, "forward")  # lives as long as the callable
    hit = per.get(key)
    if hit is not None and hit[0].valid():
        return hit[0], (bound if bound is not None else owner if hit[1] else None)
    if shapes and sum(1 for k in per if k[:3] == key[:3]) >= _MAX_SHAPES:
        return forward(fn, positions, kwnames, has_aux,  # many shapes: general
                       tangent_outputs=tangent_outputs, basis=basis, library=library)
    func, bound_now = _target(fn, args)
    nvar = _varargs_count(func, bound_now is not None, args, positions)
    names = _param_names(func, positions, kwnames, bound_now is not None, nvar)
    named = ()
    if shapes:
        params = _positional_names(func, bound_now is not None, nvar)
        named = tuple((i if isinstance(i, str) else params[i], a)
                      for i, a in _abstracts(shapes)
                      if isinstance(i, str) or i < len(params))
    d = derive(func, Spec(active=names, mode="jvp", has_aux=has_aux, shapes=named,
                          tangent_outputs=tangent_outputs, basis=basis and bool(shapes),
                          varargs=nvar, library=library))
    # whether the callable itself is the bound object (a Cell): not kept as a value
    per[key] = (d, bound is None and bound_now is owner)
    return d, bound_now


def _library(args, kwargs=None):
    """The array library the forward-mode derivative is made for: ``"numpy"`` (also
    for the arrays NumPy dispatches to, Dask's: NumPy's code runs on them) or
    ``"namespace:<module>"`` for an Array API namespace's arrays (PyTorch,
    array-api-strict), whose derivative is rebound to that namespace (``xp.rebind``),
    as ``grad``'s is."""
    if not kwargs and all(type(a) is np.ndarray or type(a) is float for a in args or ()):
        return "numpy"  # (the common case, quickly)
    library = xp.library(_leaves(list(args or ()) + list((kwargs or {}).values())))
    return library if library.startswith("namespace:") else "numpy"


def _shape_key(args, names=None):
    """((position, shape, dtype), ...) for the float array and float arguments (with
    ``names``: the keyword of each in place of its position); an Array API
    namespace's array with its shape and the NumPy dtype of its dtype."""
    if not args:
        return ()
    out = []
    for i, a in zip(names or range(len(args)), args):
        if type(a) is np.ndarray:
            if a.dtype.kind == "f":
                out.append((i, a.shape, a.dtype))
        elif type(a) is float:
            out.append((i, (), None))
        elif xp.is_namespace_array(a):
            dtype = _names_of(a).numpy_dtype(a.dtype)
            if dtype is not None and dtype.kind == "f":
                out.append((i, tuple(int(n) for n in a.shape), dtype))
    return tuple(out)


def _names_of(a):
    """The ``xp.NumpyNames`` of namespace array ``a``."""
    return xp.numpy_names("namespace:" + xp.namespace_of(a).__name__)


def _run(d, *args, **kwargs):
    """Call forward-mode derivative ``d``.  On an Array API namespace (``d.spec.library``):
    the NumPy arrays among the arguments are that namespace's for the call (converted
    once each, as ``grad``'s), and a failure inside sourcegrad's code is one
    ``SourcegradError`` naming what failed (``xp.failure``)."""
    f = d.functions[0]
    library = d.spec.library if d.spec is not None else "numpy"
    if not library.startswith("namespace:"):
        return f(*args, **kwargs)
    names = xp.numpy_names(library)
    with xp.owning():
        own = names.own
        args = tuple(own(a) for a in args)
        kwargs = {k: own(v) for k, v in kwargs.items()}
        return xp.call_reporting(f, d.name, names, *args, **kwargs)


def _abstracts(shapes):
    return [(i, Abstract("array", shape, dtype) if dtype is not None else Abstract("float"))
            for i, shape, dtype in shapes]


def _own_params(func, has_self):
    """``func``'s own parameters (a decorator's wrapper's ``*args``, not the wrapped
    function's signature), less ``self``."""
    params = list(inspect.signature(func, follow_wrapped=False).parameters.values())
    return params[1:] if has_self else params


def _varargs_count(func, has_self, args, positions):
    """How many items ``func``'s ``*args`` parameter gets (the derivative takes them as
    parameters of their own, as ``grad``'s does), or -1 when it has none."""
    params = _own_params(func, has_self)
    if not any(p.kind == p.VAR_POSITIONAL for p in params):
        return -1
    named = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    wanted = len(args) if args is not None else max(positions or (-1,)) + 1
    return max(0, wanted - named)


def _positional_names(func, has_self, nvar=-1):
    params = _own_params(func, has_self)
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names + (vararg_names(func, nvar) if nvar >= 0 else [])


def _param_names(func, positions, kwnames, has_self, nvar=-1):
    params = _positional_names(func, has_self, nvar)
    out = []
    for p in positions:
        if p >= len(params):
            where = getattr(func, "__qualname__", "the function")
            raise ValueError(f"argument {p} of {where} cannot be differentiated in forward "
                             f"mode: it is not a named positional parameter")
        out.append(params[p])
    return tuple(out) + tuple(kwnames)


def call_jvp(func, positions, kwnames, tangents, *args, **kwargs):
    """Run the forward-mode derivative of ``func`` (a call inside generated forward-mode
    code): ``(func(*args, **kwargs), its tangent)``."""
    d, bound = forward(func, positions, kwnames, args=args)
    if bound is not None:
        args = (bound,) + args
    kwargs.update(zip(d.tangent_params, tangents))
    if d.spec.library == "numpy":  # (the common case, without _run's repacking)
        out, tout = d.functions[0](*args, **kwargs)
    else:
        out, tout = _run(d, *args, **kwargs)
    if tout is None and tangents:  # an output that carries no tangent (an int): zeros,
                                   # as callers expect
        tout = zero_tangent(out, batch_size(*tangents))
    return out, tout


def call_value(func, *args, **kwargs):
    """``func(*args, **kwargs)`` in forward-mode code on an Array API namespace, for a
    callee known only at run time that carries no tangent: a user function's (a
    Cell's) code rebound to the namespace (its forward-mode function, no direction
    given), a NumPy function the namespace's (``xp.rebind``), anything else called as
    it is."""
    if isinstance(func, (types.BuiltinFunctionType, np.ufunc)) or user_callable(func) is None:
        names = _names_in(list(args) + list(kwargs.values()))
        return (func if names is None else xp.rebind(func, names))(*args, **kwargs)
    if isinstance(getattr(type(func), "bprop", None), types.FunctionType) \
            and hasattr(type(func), "construct"):
        func = func.construct  # (its value: construct's, the bprop is reverse mode's)
    d, bound = forward(func, (), args=args, kwargs=kwargs)
    if bound is not None:
        args = (bound,) + args
    return _run(d, *args, **kwargs)[0]


def generated_jvp(fn, grad_position=0, has_aux=False):
    """The generated forward-mode function ``jvp`` runs for ``fn`` (see ``sg.source``)."""
    positions = (grad_position,) if isinstance(grad_position, int) else tuple(grad_position)
    return forward(fn, positions, has_aux=has_aux)[0].functions[0]


# -- batches of directions ----------------------------------------------------------

def _float_array(x, names=None):
    """``x`` as a float array (of namespace ``names``' when given)."""
    if names is not None:
        a = names.xp_asarray(x)
        if not names.isdtype(a.dtype, ("real floating", "complex floating")):
            a = names.xp_asarray(a, dtype=np.dtype(np.float64))
        return a
    a = np.asarray(x)
    if isinstance(a.dtype, np.dtype):
        if a.dtype.kind not in "fc":
            a = a.astype(float)
    elif not np.issubdtype(a.dtype, np.inexact):  # (rebound to a namespace: see basis_of)
        a = np.astype(a, np.zeros(()).dtype)
    return a


def _names_in(values):
    """The ``xp.NumpyNames`` of the Array API namespace of ``values``' arrays (dicts,
    lists and tuples opened), or None for NumPy's (and the arrays NumPy dispatches
    to)."""
    library = _library(values)
    return xp.numpy_names(library) if library != "numpy" else None


def _like(x, items):
    """A container of ``x``'s type (a list, a tuple, a namedtuple) holding ``items``."""
    return type(x)(*items) if hasattr(type(x), "_fields") else type(x)(items)


def _batched(v, like, names=None):
    """The tangent ``v`` of input ``like`` (an array, a float, or a dict/list/tuple of
    them) as a batch of one direction (an array of namespace ``names`` when given)."""
    if isinstance(like, dict):
        if not isinstance(v, dict) or set(v) != set(like):
            raise ValueError("the tangent of a dict input must be a dict with the same keys")
        return {k: _batched(v[k], like[k], names) for k in like}
    if isinstance(like, (list, tuple)):
        if not isinstance(v, (list, tuple)) or len(v) != len(like):
            raise ValueError("the tangent of a tuple or list input must have one item "
                             "per item")
        return _like(like, [_batched(a, b, names) for a, b in zip(v, like)])
    if names is not None:
        v = names.xp_asarray(v, dtype=_float_array(like, names).dtype)
    else:
        v = np.asarray(v, dtype=_float_array(like).dtype)
    if tuple(v.shape) != tuple(np.shape(like)):
        raise ValueError(f"the tangent has shape {tuple(v.shape)} but its input has shape "
                         f"{tuple(np.shape(like))}; give one tangent per input, of its shape")
    if names is not None:
        return names.expand_dims(v, 0)
    return v[None] if isinstance(v, np.ndarray) else np.expand_dims(v, 0)  # (rebound: see
                                                                           # basis_of)


def _leaves(x):
    """The array leaves of ``x`` (dicts, lists and tuples opened), in order."""
    if isinstance(x, dict):
        return [leaf for k in x for leaf in _leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def _leaves_like(t, x):
    """The leaves of ``t`` (a tangent or gradient of ``x``) in ``x``'s order; ``None``
    where ``t`` lacks an item."""
    if isinstance(x, dict):
        return [leaf for k in x for leaf in _leaves_like(t.get(k) if t is not None else None,
                                                         x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for i, v in enumerate(x)
                for leaf in _leaves_like(t[i] if t is not None else None, v)]
    return [t]


def _rebuild(x, leaves):
    """``x``'s structure with its leaves replaced, in order, from the iterator."""
    if isinstance(x, dict):
        return {k: _rebuild(x[k], leaves) for k in x}
    if isinstance(x, (list, tuple)):
        return _like(x, [_rebuild(v, leaves) for v in x])
    return next(leaves)


def _unbatch(t, like, names=None):
    """Row 0 of a batched tangent (recursively), in the structure of ``like`` (an
    array of namespace ``names`` when given)."""
    if isinstance(like, dict):
        return {k: _unbatch(t.get(k) if t is not None else None, v, names)
                for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        items = [_unbatch(t[i] if t is not None else None, v, names)
                 for i, v in enumerate(like)]
        return _like(like, items) if isinstance(like, tuple) else items
    if names is not None:
        if t is None:
            return names.zeros_like(_float_array(like, names))
        r = t[0, ...]
        return float(r) if type(like) is float else r
    if t is None:
        return np.zeros_like(_float_array(like))
    r = t[0, ...]
    if type(like) is float:
        return float(r)
    return np.asarray(r, dtype=np.result_type(like, np.float32)
                      if np.asarray(like).dtype.kind in "fc" else r.dtype) \
        if isinstance(like, np.ndarray) else r


def _basis(args, positions, names=None):
    """One tangent per differentiated argument: together, the identity on all their
    elements (n = their total size), each leaf reshaped to ``(n,) + its shape``
    (arrays of namespace ``names`` when given).  Returns the tangents and, per
    argument, its leaves' (start, stop) rows."""
    leaves = [[_float_array(v, names) for v in _leaves(args[p])] for p in positions]
    flat = [a for group in leaves for a in group]
    n = sum(_size(a) for a in flat)
    if names is not None:
        dtype = names.result_type(*[a.dtype for a in flat]) if flat else \
            names.xp_asarray(0.0).dtype
    else:
        dtype = np.result_type(*[a.dtype for a in flat]) if flat else np.float64
    if len(flat) == 1 and flat[0].ndim == 1 and not isinstance(args[positions[0]],
                                                               (dict, list, tuple)):
        return [eye(n, dtype) if names is None else names.eye(n, dtype=dtype)], [[(0, n)]]
    xnp = names or np
    e = xnp.eye(n, dtype=dtype)
    out, rows, start = [], [], 0
    for p, group in zip(positions, leaves):
        ts, spans = [], []
        for a in group:
            size = _size(a)
            ts.append(xnp.reshape(e[:, start:start + size], (n,) + tuple(a.shape)))
            spans.append((start, start + size))
            start += size
        out.append(_rebuild(args[p], iter(ts)))
        rows.append(spans)
    return out, rows


def _size(a):
    """The number of elements of ``a`` (an array of any library's, a number)."""
    return math.prod(np.shape(a))


def _jacobian(t, out, in_shape, lo, hi, names=None):
    """``J`` with ``J.shape == out.shape + in_shape`` from the batched tangent ``t`` of
    the array ``out`` (rows lo:hi are the directions of this input)."""
    oshape = tuple(np.shape(out)) if names is None else names.shape(out)
    xnp = names or np
    if t is None:
        return xnp.zeros(oshape + in_shape)
    rows = np.asarray(t)[lo:hi] if names is None else t[lo:hi, ...]
    rows = xnp.reshape(rows, (hi - lo,) + oshape)
    j = xnp.moveaxis(rows, 0, -1) if oshape else rows
    return xnp.reshape(j, oshape + in_shape)


def _jacobian_of_inputs(t, out, xs, spans, single, names=None):
    """The Jacobian of ``out`` with respect to the inputs ``xs``: the output's structure
    outside (a tuple or dict output gives a tuple or dict), then a tuple over the
    inputs (unless ``single``), then each input's own structure (a dict input gives a
    dict of Jacobians)."""
    if isinstance(out, dict):
        return {k: _jacobian_of_inputs(t.get(k) if t is not None else None, v, xs, spans,
                                       single, names) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return type(out)(_jacobian_of_inputs(ti, o, xs, spans, single, names)
                         for ti, o in zip(t, out))
    jacs = tuple(_jacobian_of_input(t, out, x, sp, names) for x, sp in zip(xs, spans))
    return jacs[0] if single else jacs


def _jacobian_of_input(t, out, x, spans, names=None):
    """The Jacobian of the array ``out`` with respect to input ``x``."""
    leaves = _leaves(x)
    jacs = [_fix_dtype(_jacobian(t, out, tuple(np.shape(leaf)), lo, hi, names), leaf, names)
            for leaf, (lo, hi) in zip(leaves, spans)]
    if not isinstance(x, (dict, list, tuple)):
        return jacs[0]
    return _rebuild(x, iter(jacs))


def _positions(grad_position, nargs, what):
    if isinstance(grad_position, bool) or not isinstance(grad_position, (int, tuple)):
        raise TypeError(f"{what}: grad_position must be an int or a tuple of ints, got "
                        f"{grad_position!r}")
    ps = (grad_position,) if isinstance(grad_position, int) else grad_position
    if not ps or any(isinstance(p, bool) or not isinstance(p, int) for p in ps):
        raise TypeError(f"{what}: grad_position must be an int or a non-empty tuple of ints, "
                        f"got {grad_position!r}")
    out = []
    for p in ps:
        q = p + nargs if p < 0 else p
        if not 0 <= q < nargs:
            raise ValueError(f"{what}: grad_position {p} is out of range for {nargs} "
                             f"argument(s)")
        out.append(q)
    return tuple(out)


# -- the public transformations ------------------------------------------------------

def jvp(fn, inputs, v, has_aux=False):
    """Forward mode: ``(fn(*inputs), J v)`` -- the Jacobian-vector product along ``v``.

    ``inputs`` and ``v``: an array, or a tuple of them (one tangent per input).
    With ``has_aux=True`` returns ``(out, tangent, aux)``, ``out`` the first output
    and ``aux`` the tuple of the others (as ``grad``'s ``has_aux``).

    >>> import numpy as np, sourcegrad as sg
    >>> out, t = sg.jvp(lambda x: x * x, np.array([3.0]), np.array([1.0]))
    >>> t
    array([6.])
    """
    if not isinstance(has_aux, bool):
        raise TypeError(f"jvp: has_aux must be True or False, got {has_aux!r}")
    single = not isinstance(inputs, tuple)
    args = (inputs,) if single else inputs
    vs = (v,) if not isinstance(v, tuple) else v
    if len(vs) != len(args):
        raise ValueError(f"jvp: {len(args)} input(s) but {len(vs)} tangent(s); give one "
                         f"tangent per input")
    # (NumPy inputs with a namespace's tangents: the namespace's, nothing converted)
    library = _library(tuple(args) + tuple(vs))
    d, bound = forward(fn, tuple(range(len(args))), has_aux=has_aux, args=args,
                       library=library)
    names = xp.numpy_names(library) if library != "numpy" else None
    tangents = {name: _batched(t, a, names) for name, t, a in zip(d.tangent_params, vs, args)}
    call_args = ((bound,) if bound is not None else ()) + tuple(args)
    if names is None:
        out, tout = d.functions[0](*call_args, **tangents)
    else:
        out, tout = _run(d, *call_args, **tangents)
    if has_aux:
        first, aux = _split_aux(out)
        return first, _unbatch(tout, first, names), aux
    return out, _unbatch(tout, out, names)


def _value(fn, args):
    """``fn(*args)``; on an Array API namespace's arrays (which NumPy's functions cannot
    take), ``fn``'s code rebound to the namespace: its forward-mode function with no
    input differentiated."""
    if _library(args) == "numpy":
        return fn(*args)
    d, bound = forward(fn, (), args=args)
    out, _ = _run(d, *(((bound,) if bound is not None else ()) + tuple(args)))
    return out


def _split_aux(out):
    if not isinstance(out, (tuple, list)) or len(out) < 2:
        raise ValueError("has_aux=True requires the function to return at least two "
                         "outputs (out, aux...)")
    return out[0], tuple(out[1:])


def vjp(fn, *inputs, weights=None, has_aux=False):
    """Reverse mode: ``(fn(*inputs), vjp_fn)`` with ``vjp_fn(v)`` the tuple of the
    inputs' cotangents ``v^T J`` (with ``weights``: ``(inputs' tuple, weights')``).

    With ``has_aux=True`` returns ``(out, vjp_fn, aux)``.
    """
    if not isinstance(has_aux, bool):
        raise TypeError(f"vjp: has_aux must be True or False, got {has_aux!r}")
    if not inputs:
        raise TypeError("vjp: give the inputs after the function: vjp(fn, x, y)")
    res = _value(fn, inputs)
    positions = tuple(range(len(inputs)))
    g = grad(fn, grad_position=positions, weights=weights, has_aux=has_aux, sens_param=True)

    def vjp_fn(v):
        got = g(*inputs, v)
        if has_aux:
            got = got[0]
        if weights is not None:
            ins, ws = got
            return (tuple(ins) if isinstance(ins, tuple) else (ins,)), ws
        return tuple(got) if isinstance(got, tuple) else (got,)

    vjp_fn.grad = g  # the gradient it runs (sg.source(vjp_fn.grad) shows it)
    if has_aux:
        first, aux = _split_aux(res)
        return first, vjp_fn, aux
    return res, vjp_fn


def _plan_key(args):
    """The arguments' shapes and dtypes when all are float arrays or floats, else None."""
    key = []
    for a in args:
        if type(a) is np.ndarray and a.dtype.kind == "f":
            key.append((a.shape, a.dtype))
        elif type(a) is float:
            key.append(float)
        else:
            return None
    return tuple(key)


class _Plan:
    """One Jacobian's calls for one signature of inputs: the generated forward-mode
    function and the identity basis it is called with (one call: the whole Jacobian).
    ``seed``: for ``jacrev``, the gradient's seed (the basis runs over its elements)."""

    def __init__(self, jac, derivatives, d, x, seed, sens=None):
        self.jac, self.derivatives = jac, derivatives
        self.fn, self.bound = d.functions[0], d.tangent_params[-1]
        self.sens = sens  # the seed's keyword
        jac._last = d
        # sg.source shows the gradient this plan differentiates (its specialised text)
        jac._grad_text = derivatives[0].source if len(derivatives) > 1 else None
        self.seed, self.xshape, self.xdtype = seed, x.shape, x.dtype
        self.single = isinstance(jac.grad_position, int)
        if seed is None:
            self.n, self.basis = x.size, basis_of(x)
            self.basis.flags.writeable = False  # shared by the calls
        else:
            m = seed.size
            self.n = m
            self.basis = eye(m, seed.dtype) if seed.ndim == 1 else \
                np.eye(m, dtype=seed.dtype).reshape((m,) + seed.shape)

    def run(self, args):
        """The Jacobian, or None when the plan does not hold (derivatives out of date,
        an output of another shape or kind than planned)."""
        for d in self.derivatives:
            if not d.valid():
                return None
        if self.seed is not None:
            (out, _), (_, tout) = self.fn(*args, **{self.sens: self.seed,
                                                    self.bound: self.basis})
            if type(out) is not np.ndarray or out.shape != self.seed.shape \
                    or type(tout) is not np.ndarray:
                return None
            j = _fix_dtype(tout.reshape(out.shape + self.xshape), self.xdtype)
        else:
            out, tout = self.fn(*args, **{self.bound: self.basis})
            if type(out) is not np.ndarray or type(tout) is not np.ndarray \
                    or out.dtype != self.xdtype or tout.shape != (self.n,) + out.shape:
                return None
            j = np.asarray(tout.T if tout.ndim == 2 else np.moveaxis(tout, 0, -1))
            j = _fix_dtype(j if len(self.xshape) == 1 else j.reshape(out.shape + self.xshape),
                           self.xdtype)
        return j if self.single else (j,)


class Jacobian:
    """``jacfwd(fn)`` / ``jacrev(fn)`` / ``hessian(fn)``: a callable computing the
    Jacobian of ``fn`` at its arguments (``J.shape == out.shape + in.shape``)."""

    def __init__(self, fn, grad_position, has_aux, mode):
        if not isinstance(has_aux, bool):
            raise TypeError(f"{mode}: has_aux must be True or False, got {has_aux!r}")
        _positions(grad_position, 1 << 30, mode)  # type check now, range at call time
        self.fn, self.grad_position, self.has_aux, self.mode = fn, grad_position, has_aux, mode
        self.__name__ = f"{mode}_{getattr(fn, '__name__', 'fn')}"
        self.__doc__ = f"The {mode} Jacobian of {getattr(fn, '__qualname__', fn)!r}."
        self._last = None
        self._grads = {}  # grad_position -> the gradient it differentiates (jacrev, hessian)
        self._checked = {}  # number of arguments -> grad_position, checked
        self._plans = {}  # the float inputs' shapes and dtypes -> _Plan (or None: none)
        self._grad_text = None  # the text of the gradient the last plan differentiated

    def __call__(self, *args):
        key = _plan_key(args)
        plan = self._plans.get(key) if key is not None else None
        if plan is not None:
            got = plan.run(args)
            if got is not None:
                return got
            del self._plans[key]  # out of date, or the output changed: planned again next
        positions = self._checked.get(len(args))
        if positions is None:
            positions = self._checked[len(args)] = _positions(self.grad_position, len(args),
                                                              self.mode)
        self._check(args, positions)
        if key is not None and key not in self._plans and plan is None:
            try:
                plan = self._plans[key] = self._plan(args, positions)
            except SourcegradError:  # the unplanned way says why, or has another way
                plan = self._plans[key] = None
            if plan is not None:
                try:  # (callees are derived on their first call: errors come now)
                    got = plan.run(args)
                except SourcegradError:
                    got = self._plans[key] = None
                if got is not None:
                    return got
        return self._unplanned(args, positions)

    def _check(self, args, positions):
        """Refuse what this transformation cannot take (``hessian``: a non-scalar)."""

    def _unplanned(self, args, positions):
        self._grad_text = None
        if self.mode == "jacrev":
            return self._reverse(args, positions)
        return self._forward(self.fn, args, positions, self.has_aux)

    def _plan(self, args, positions):
        """How calls with ``args``' shapes run, derivatives resolved once (a ``_Plan``), for
        a plain function of float arrays differentiated at one of them; None for
        anything else."""
        p = positions[0]
        x = args[p]
        if len(positions) != 1 or self.has_aux or not isinstance(self.fn, types.FunctionType) \
                or type(x) is not np.ndarray:
            return None
        if self.mode == "jacfwd":
            d, _ = forward(self.fn, positions, args=args, basis=x.ndim == 1)
            return _Plan(self, (d,), d, x, None)
        shapes = tuple(Abstract("array", a.shape, a.dtype) if type(a) is np.ndarray
                       else Abstract("float") for a in args)
        if self.mode == "hessian":
            g = self._grads.get(positions)
            if g is None:
                g = self._grads[positions] = grad(self.fn, grad_position=p)
            self._grad = g
            gd = g.derivative((), shapes, complete=True)
            d, _ = forward(gd.functions[0], positions, args=args, basis=x.ndim == 1)
            return _Plan(self, (gd, d), d, x, None)
        out = self.fn(*args)
        if type(out) is not np.ndarray or out.dtype.kind != "f":
            return None
        # jacrev: forward mode over the gradient (its value returned too, to check the
        # output's shape), with respect to its seed
        g = self._grads.get(("value", p))
        if g is None:
            g = self._grads[("value", p)] = value_and_grad(self.fn, grad_position=p,
                                                           sens_param=True)
        self._grad = g
        gd = g.derivative((), shapes, complete=True)
        seed = np.ones_like(out)
        # the seed's parameter: keyword-only ("sens", or "sens_1" beside a user's "sens")
        sens = [p.name for p in inspect.signature(gd.functions[0]).parameters.values()
                if p.kind == p.KEYWORD_ONLY][-1]
        d, _ = forward(gd.functions[0], (), (sens,), args=args, kwargs={sens: seed},
                       tangent_outputs=(1,), basis=seed.ndim == 1)
        return _Plan(self, (gd, d), d, x, seed, sens)

    def _forward(self, fn, args, positions, has_aux):
        d, bound = forward(fn, positions, has_aux=has_aux, args=args)
        self._last = d
        call_args = ((bound,) if bound is not None else ()) + tuple(args)
        x = args[positions[0]]
        if len(positions) == 1 and type(x) is np.ndarray and x.ndim == 1 \
                and x.dtype.kind == "f" and not has_aux:
            # fast path: one vector input, the identity basis, an array out
            out, tout = d.functions[0](*call_args, **{d.tangent_params[0]: eye(x.size, x.dtype)})
            if type(out) is np.ndarray and type(tout) is np.ndarray and out.dtype == x.dtype \
                    and tout.shape == (x.size,) + out.shape:
                j = np.asarray(tout.T if tout.ndim == 2 else np.moveaxis(tout, 0, -1))
                return j if isinstance(self.grad_position, int) else (j,)
            return _jacobian_of_inputs(tout, out, [x], [[(0, x.size)]],
                                       isinstance(self.grad_position, int))
        names = _names_in(args)
        basis, spans = _basis(args, positions, names)
        tangents = dict(zip(d.tangent_params, basis))
        out, tout = _run(d, *call_args, **tangents)
        first, aux = _split_aux(out) if has_aux else (out, None)
        j = _jacobian_of_inputs(tout, first, [args[p] for p in positions], spans,
                                isinstance(self.grad_position, int), names)
        return (j, aux) if has_aux else j

    def _reverse(self, args, positions):
        """Rows of the Jacobian by reverse mode, all at once: forward mode over the
        gradient with respect to its seed (batched cotangents)."""
        names = _names_in(args)
        res = _value(self.fn, args)
        first, aux = _split_aux(res) if self.has_aux else (res, None)
        g = self._grads.get(positions)
        if g is None:  # kept: its generated code (and the forward mode of it) is reused
            g = self._grads[positions] = grad(
                self.fn, grad_position=positions if len(positions) > 1 else positions[0],
                has_aux=self.has_aux, sens_param=True)
        self._grad = g
        if isinstance(first, (tuple, list, dict)):
            raise NotImplementedError("jacrev of a function returning a tuple or dict: use "
                                      "jacfwd (see README, 'Forward mode')")
        seed = _float_array(first, names)
        # the gradient, as a function of its seed (its last argument)
        m = _size(seed)
        xnp = names or np
        if names is None and seed.ndim == 1:
            basis = eye(m, seed.dtype)
        else:
            basis = xnp.reshape(xnp.eye(m, dtype=seed.dtype), (m,) + tuple(seed.shape))
        try:
            d, bound = forward(g, (len(args),), args=tuple(args) + (seed,))
            self._last = d
            call_args = ((bound,) if bound is not None else ()) + tuple(args) + (seed,)
            _, tout = _run(d, *call_args, **{d.tangent_params[0]: basis})
        except SourcegradError:
            # forward mode cannot run over this gradient's code: one reverse sweep
            # per output element (a Python loop; see README, 'Forward mode')
            return self._reverse_rows(g, args, positions, first, aux, seed, names)
        if self.has_aux:
            tout = tout[0]
        rows = tout if len(positions) > 1 else (tout,)
        jacs = []
        oshape = tuple(np.shape(first)) if names is None else names.shape(first)
        for p, r in zip(positions, rows):
            leaves = [_fix_dtype(xnp.reshape(t if names else np.asarray(t),
                                             oshape + tuple(np.shape(x))), x, names)
                      if t is not None else xnp.zeros(oshape + tuple(np.shape(x)))
                      for t, x in zip(_leaves_like(r, args[p]), _leaves(args[p]))]
            jacs.append(_rebuild(args[p], iter(leaves)))
        j = jacs[0] if isinstance(self.grad_position, int) else tuple(jacs)
        return (j, aux) if self.has_aux else j

    def _reverse_rows(self, g, args, positions, first, aux, seed, names=None):
        xnp = names or np
        oshape = tuple(np.shape(first)) if names is None else names.shape(first)
        m = _size(seed)
        rows = []
        for i in range(m):
            e = xnp.zeros(m, dtype=seed.dtype)
            e[i] = 1
            got = g(*args, xnp.reshape(e, oshape))
            if self.has_aux:
                got = got[0]
            rows.append(got if len(positions) > 1 else (got,))
        jacs = []
        for k, p in enumerate(positions):
            leaves = []
            for j, x in enumerate(_leaves(args[p])):
                got = [_leaves_like(r[k], args[p])[j] for r in rows]
                stacked = xnp.stack(got if names else [np.asarray(a) for a in got])
                leaves.append(_fix_dtype(xnp.reshape(stacked, oshape + tuple(np.shape(x))),
                                         x, names))
            jacs.append(_rebuild(args[p], iter(leaves)))
        j = jacs[0] if isinstance(self.grad_position, int) else tuple(jacs)
        return (j, aux) if self.has_aux else j

    def transformable_function(self, args=None):
        """A Python function computing this Jacobian that sourcegrad can transform again
        (``jacfwd(jacfwd(f))``, ``grad`` of it, a call to it inside differentiated
        code): the forward-mode function of ``f`` (of its gradient, for ``hessian``)
        called on the identity basis, its tangents arranged as the Jacobian; for
        ``jacrev`` of a scalar ``f`` (when the call's ``args`` show a scalar), ``f``'s
        gradient (one reverse sweep instead of ``n`` directions)."""
        if not isinstance(self.grad_position, int) or self.has_aux:
            raise NotImplementedError(
                f"{self.mode} of a function inside another transformation: supported for "
                f"one grad_position and no aux output; see README, 'Forward mode'")
        # (unknown arguments: the forward-mode function, right for any output)
        scalar = self.mode == "jacrev" and args is not None and np.ndim(_value(self.fn, args)) == 0
        key = "_as_gradient" if scalar else "_as_forward"
        cached = getattr(self, key, None)
        if cached is not None:
            return cached
        made = self._as_gradient_function() if scalar else self._as_forward_function()
        setattr(self, key, made)
        return made

    def _as_gradient_function(self):
        gen = value_and_grad(self.fn, grad_position=self.grad_position).callable_generated()
        params = [p.name for p in inspect.signature(gen).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        base = getattr(self.fn, "__name__", "fn").replace("<lambda>", "lambda")
        fname = f"jacrev_{base}"
        text = (f"def {fname}({', '.join(params)}):\n"
                f"    out, grads = {gen.__name__}({', '.join(params)})\n"
                f"    require_scalar(out)\n"
                f"    return grads\n")
        return define(fname, text, {gen.__name__: gen, "require_scalar": require_scalar},
                      fname)

    def _as_forward_function(self):
        fn = self.fn
        if self.mode == "hessian":
            fn = grad(self.fn, grad_position=self.grad_position)
        d, bound = forward(fn, (self.grad_position,))
        gen = d.functions[0]
        func, has_self = _target(fn)
        params = _positional_names(func, bound is not None)
        x = params[self.grad_position]
        call_args = list(params)
        base = getattr(self.fn, "__name__", "fn").replace("<lambda>", "lambda")
        taken = set(params)

        def fresh(n):  # a name none of the parameters has
            while n in taken:
                n += "_"
            taken.add(n)
            return n

        fname, out, tout = fresh(f"{self.mode}_{base}"), fresh("out"), fresh("tout")
        env = {fresh(gen.__name__): gen, fresh("basis_of"): basis_of,
               fresh("jacobian_of"): jacobian_of, fresh("bound_self"): bound}
        g, basis, jac, bound_name = env
        if bound is not None:
            call_args = [bound_name] + params
        text = (f"def {fname}({', '.join(params)}):\n"
                f"    {out}, {tout} = {g}({', '.join(call_args)}, "
                f"{d.tangent_params[0]}={basis}({x}))\n"
                f"    return {jac}({tout}, {out}, {x})\n")
        return define(fname, text, env, fname)

    def generated_source(self, comments=True):
        """The generated code the last call ran (``sg.source(jacfwd(f))``): the
        forward-mode function (for ``jacrev`` and ``hessian``: forward mode over the
        gradient, whose own code follows)."""
        if self._last is None:
            raise RuntimeError(f"sg.source({self.mode}(...)): call it once first; its code "
                               f"depends on the call (which arguments, how many)")
        text = self._last.source
        grad = getattr(self, "_grad", None)
        if self._grad_text is not None:
            text = text + "\n\n" + self._grad_text
        elif grad is not None:
            text = text + "\n\n" + grad.source(comments)
        return text if comments else strip_comments(text)


# (called from generated code, these run rebound to an Array API namespace too: see
# xp.rebind; so they reshape with np.reshape, not the method)

def basis_of(x):
    """The identity basis of ``x``'s elements, one direction per element, each shaped
    like ``x`` (a constant: it carries no derivative)."""
    a = _float_array(x)
    n = _size(a)
    if isinstance(a, np.ndarray) and a.ndim == 1:
        return eye(n, a.dtype)
    return np.reshape(np.eye(n, dtype=a.dtype), (n,) + tuple(a.shape))


def jacobian_of(tout, out, x):
    """The Jacobian ``out.shape + x.shape`` from the tangents ``tout`` of ``out`` along
    ``basis_of(x)`` (``(x.size,) + out.shape``)."""
    t = np.asarray(tout)
    return np.reshape(np.moveaxis(t, 0, -1), tuple(np.shape(out)) + tuple(np.shape(x)))


def jacobian_of_adjoint(g, out, x):
    """The adjoint of ``jacobian_of``'s ``tout``: ``g`` arranged back."""
    n = _size(x)
    return np.moveaxis(np.reshape(g, tuple(np.shape(out)) + (n,)), -1, 0)


def jacobian_of_tangent(t, out, x):
    """The tangent of ``jacobian_of`` along the tangent ``t`` of ``tout`` (a batch of
    them on a leading axis)."""
    t = np.asarray(t)
    return np.reshape(np.moveaxis(t, 1, -1), tuple(t.shape[:1]) + tuple(np.shape(out)) +
                      tuple(np.shape(x)))


def require_scalar(out):
    """``jacrev(f)`` inside another transformation stands for ``f``'s gradient: ``f``
    must return a scalar."""
    if np.ndim(out) != 0:
        raise ValueError(f"jacrev(f) inside another transformation (jacfwd(jacrev(f))) "
                         f"needs a scalar f, but f returned shape {np.shape(out)}; use "
                         f"jacfwd(jacfwd(f))")


def _contract1(x, u, fn):
    return np.sum(u * fn(x))


def _contract2(x, y, u, fn):
    return np.sum(u * fn(x, y))


def jvp_adjoint(dz, fn, inputs, v, which):
    """The adjoint of ``jvp(fn, inputs, v)``'s arguments (``which``: 0 the inputs, 1 the
    tangents) from the adjoint ``dz`` of its result ``(out, t)``, ``t = J(x) v``:
    ``d inputs = J^T d_out + H_{d_t . fn}(x) v`` (forward over reverse),
    ``d v = J^T d_t``."""
    single = not isinstance(inputs, tuple)
    args = (inputs,) if single else tuple(inputs)
    vs = (v,) if single else tuple(v)
    d_out, d_t = (dz[0], dz[1]) if dz is not None else (None, None)
    names = _names_in(args)
    xnp = names or np
    total = [xnp.zeros_like(_float_array(a, names)) for a in args]

    def add(parts):
        for i, p in enumerate(parts):
            total[i] = total[i] + p

    if which == 1:
        if d_t is not None:
            add(vjp(fn, *args)[1](d_t))
    else:
        if d_out is not None:
            add(vjp(fn, *args)[1](d_out))
        if d_t is not None:
            if len(args) > 2:
                raise NotImplementedError("grad of jvp with more than two inputs")
            # (xp.original: this code may run rebound to a namespace; the contraction is
            # derived from its own code, then rebound)
            contract = xp.original(_contract1 if len(args) == 1 else _contract2)
            positions = tuple(range(len(args)))
            g = grad(contract, grad_position=positions if len(args) > 1 else 0)
            d, bound = forward(g, positions, library=_library(args))
            tangents = {name: _batched(t, a, names)
                        for name, t, a in zip(d.tangent_params, vs, args)}
            _, tout = _run(d, *args, d_t, fn, **tangents)
            tout = (tout,) if len(args) == 1 else tout
            add([_unbatch(t, a, names) for t, a in zip(tout, args)])
    out = [_fix_dtype(t, a, names) for t, a in zip(total, args)]
    return out[0] if single else tuple(out)


def jvp_tangent(t_inputs, t_v, fn, inputs, v, has_aux=False):
    """The tangent of ``jvp(fn, inputs, v)``'s result ``(out, J v)`` along tangents
    of its inputs and of ``v`` (a batch of them on a leading axis; ``None``: zero):
    ``(J t_inputs, H(t_inputs, v) + J t_v)``, by forward mode over ``fn``'s own
    forward-mode function (forward over forward)."""
    if has_aux:
        raise NotImplementedError("forward mode of jvp(..., has_aux=True)")
    single = not isinstance(inputs, tuple)
    args = (inputs,) if single else tuple(inputs)
    vs = (v,) if single else tuple(v)
    tins = (t_inputs,) if single else tuple(t_inputs or (None,) * len(args))
    tvs = (t_v,) if single else tuple(t_v or (None,) * len(args))
    batch = batch_size(*[t for t in tins + tvs if t is not None])
    positions = tuple(range(len(args)))
    names = _names_in(args)
    # fn's forward-mode function (NumPy's: its code is what forward mode reads again),
    # and the forward mode of that, for the inputs' library
    d, bound = forward(fn, positions, library="numpy")
    if bound is not None:
        raise NotImplementedError("forward mode of jvp of a method or a Cell")
    d2, _ = forward(d.functions[0], positions, d.tangent_params, library=_library(args))
    call = {name: _batched(t, a, names) for name, t, a in zip(d.tangent_params, vs, args)}
    outer = [t if t is not None else zero_tangent(a, batch) for t, a in zip(tins, args)]
    outer += [(names or np).expand_dims(t, 1) if t is not None
              else zero_tangent(_batched(w, a, names), batch)
              for t, w, a in zip(tvs, vs, args)]
    (out, _), (dout, dtout) = _run(d2, *args, **call, **dict(zip(d2.tangent_params, outer)))
    return [dout, _unbatch_outer(dtout)]


def _unbatch_outer(t):
    """``t[:, 0]`` of a tangent with an outer and an inner (single) direction axis,
    through tuples, lists and dicts."""
    if isinstance(t, dict):
        return {k: _unbatch_outer(u) for k, u in t.items()}
    if isinstance(t, (list, tuple)):
        return [_unbatch_outer(u) for u in t]
    return None if t is None else np.asarray(t)[:, 0, ...]


def _jvp_tangent_rule(z, fn, inputs, v, has_aux=False):
    d[z] = jvp_tangent(d[inputs], d[v], fn, inputs, v, has_aux)  # noqa: F821


def _jacobian_of_rule(z, tout, out, x):
    d[tout] = jacobian_of_adjoint(d[z], out, x)  # noqa: F821


def _jacobian_of_tangent_rule(z, tout, out, x):
    d[z] = jacobian_of_tangent(d[tout], out, x)  # noqa: F821


def _register_rules():
    registry.nondifferentiable(require_scalar, basis_of)
    registry.adjoint(jacobian_of)(_jacobian_of_rule)
    registry.tangent(jacobian_of, constant=("out", "x"))(_jacobian_of_tangent_rule)
    registry.adjoint(jvp)(_jvp_rule)
    registry.tangent(jvp, constant=("fn", "has_aux"))(_jvp_tangent_rule)
    tangents.RUNTIME_CALLS["call_jvp"] = call_jvp  # bound into generated forward code
    tangents.RUNTIME_CALLS["call_value"] = call_value


def _jvp_rule(z, fn, inputs, v, has_aux=False):
    d[inputs] = jvp_adjoint(d[z], fn, inputs, v, 0)  # noqa: F821
    d[v] = jvp_adjoint(d[z], fn, inputs, v, 1)  # noqa: F821


d = None  # the rule templates' d[...] (see rules/registry.py)

_register_rules()


def _fix_dtype(j, x, names=None):
    if names is not None:  # j: the namespace's; x: its array, a NumPy array or a number
        dt = _float_array(x, names).dtype
        if names.isdtype(dt, "real floating") and j.dtype != dt:
            return names.astype(j, dt)
        return j
    dt = np.asarray(x).dtype
    if dt.kind == "f" and np.asarray(j).dtype != dt:
        return np.asarray(j, dtype=dt)
    return j


class Hessian(Jacobian):
    """``hessian(fn)``: ``jacfwd`` of ``fn``'s gradient (forward over reverse)."""

    def __init__(self, fn, grad_position):
        super().__init__(fn, grad_position, False, "hessian")
        self._scalar = set()  # (positions, argument shapes) seen to give a scalar

    def _check(self, args, positions):
        key = (positions, _shape_key(args))
        if key not in self._scalar:  # once per shapes: the gradient would sum the outputs
            out = _value(self.fn, args)
            if isinstance(out, (tuple, list, dict)) or np.ndim(out) != 0:
                raise ValueError(f"hessian needs a function returning a scalar, but "
                                 f"{getattr(self.fn, '__qualname__', 'it')} returned "
                                 f"{type(out).__name__} of shape {np.shape(out)}; use "
                                 f"jacfwd(jacrev(f)) for a vector function")
            self._scalar.add(key)

    def _unplanned(self, args, positions):
        self._grad_text = None
        g = self._grads.get(positions)
        if g is None:
            g = self._grads[positions] = grad(
                self.fn, grad_position=positions if len(positions) > 1 else positions[0])
        self._grad = g
        # a tuple grad_position: H[i][j] = d g_i / d x_j (the gradient's tuple outside)
        return self._forward(g, args, positions, False)


def jacfwd(fn, grad_position=0, has_aux=False):
    """The Jacobian of ``fn`` by forward mode, one generated call for all input
    elements: ``jacfwd(fn)(*args).shape == out.shape + args[grad_position].shape``.
    A tuple ``grad_position`` gives a tuple of Jacobians; ``has_aux=True`` returns
    ``(J, aux)``."""
    return Jacobian(fn, grad_position, has_aux, "jacfwd")


def jacrev(fn, grad_position=0, has_aux=False):
    """The Jacobian of ``fn`` by reverse mode (batched cotangents: one generated call
    for all output elements).  Same shapes and structure as :func:`jacfwd`."""
    return Jacobian(fn, grad_position, has_aux, "jacrev")


def hessian(fn, grad_position=0):
    """The Hessian of a scalar function: ``jacfwd(jacrev(fn))`` (forward over reverse).
    ``hessian(fn)(*args).shape == x.shape + x.shape`` for ``x = args[grad_position]``."""
    return Hessian(fn, grad_position)


__all__ = ["jvp", "vjp", "jacfwd", "jacrev", "hessian"]
