"""MindSpore's ``ops.GradOperation`` and ``get_grad``, on top of ``sourcegrad.grad``.

``GradOperation(get_all, get_by_list, sens_param)(fn, weights)`` returns the
same kind of gradient function as ``grad``:

* neither flag: the gradient of the first input (bare);
* ``get_all``: a tuple with the gradient of every input;
* ``get_by_list``: a tuple with the gradient of each of ``weights``;
* both: ``(input_grads, weight_grads)``.

``get_grad(grads, id)`` picks one gradient out of what ``grad(...,
return_ids=True)`` returned: by position (an int) or by Parameter.
"""
from __future__ import annotations

import inspect

from sourcegrad.api import grad
from sourcegrad.tensor import Parameter

__all__ = ["GradOperation", "get_grad"]


def _arity(fn):
    """How many positional inputs ``fn`` (a function or a Cell) takes, or None for *args."""
    target = getattr(fn, "construct", fn)
    try:
        params = inspect.signature(target, follow_wrapped=False).parameters.values()
    except (TypeError, ValueError):
        return None
    n = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n


class GradOperation:
    """``ops.GradOperation(get_all=False, get_by_list=False, sens_param=False)``.

    >>> import numpy as np
    >>> from sourcegrad import ops
    >>> ops.GradOperation(get_all=True)(lambda x, y: np.sum(x * y))(np.ones(2), np.arange(2.))
    (array([0., 1.]), array([1., 1.]))
    """

    def __init__(self, get_all=False, get_by_list=False, sens_param=False):
        for flag, what in ((get_all, "get_all"), (get_by_list, "get_by_list"),
                           (sens_param, "sens_param")):
            if not isinstance(flag, bool):
                raise TypeError(f"GradOperation: {what} must be a bool, got "
                                f"{type(flag).__name__} {flag!r}")
        self.get_all = get_all
        self.get_by_list = get_by_list
        self.sens_param = sens_param

    def __call__(self, fn, weights=None):
        if self.get_by_list:
            if weights is None:
                params = getattr(fn, "trainable_params", None)
                if params is None:
                    raise TypeError("GradOperation(get_by_list=True) needs weights: "
                                    "call it as grad_op(fn, weights), e.g. "
                                    "grad_op(net, net.trainable_params())")
                weights = params()
            weights = tuple(weights) if isinstance(weights, (list, tuple)) else weights
        else:
            weights = None
        n = _arity(fn)
        if n == 0 and (self.get_all or weights is None):
            # no inputs: MindSpore gives () for them (and ((), weight_grads) with get_all)
            wg = grad(fn, None, weights, sens_param=self.sens_param) \
                if weights is not None else None
            return _NoInputs(wg, self.get_all and self.get_by_list)
        if self.get_all:
            if n is None:
                return _AllInputs(fn, weights, self.sens_param)
            position = tuple(range(n))
        else:
            position = 0 if weights is None else None
        return grad(fn, position, weights, sens_param=self.sens_param)

    def __repr__(self):
        return (f"GradOperation(get_all={self.get_all}, get_by_list={self.get_by_list}, "
                f"sens_param={self.sens_param})")


class _NoInputs:
    """The gradient function of a function without inputs: ``()`` for the inputs,
    paired with the weights' gradients when both were asked for."""

    def __init__(self, weight_grad, pair):
        self.weight_grad, self.pair = weight_grad, pair

    def __call__(self, *args):
        if not self.pair:
            return () if self.weight_grad is None else self.weight_grad(*args)
        return (), (() if self.weight_grad is None else self.weight_grad(*args))


class _AllInputs:
    """``get_all`` for a function taking ``*args``: the positions come from each call."""

    def __init__(self, fn, weights, sens):
        self.fn, self.weights, self.sens = fn, weights, sens
        self._grads = {}

    def __call__(self, *args):
        n = len(args) - (1 if self.sens else 0)
        g = self._grads.get(n)
        if g is None:
            g = self._grads[n] = grad(self.fn, tuple(range(n)), self.weights,
                                      sens_param=self.sens)
        return g(*args)


def get_grad(gradients, identifier):
    """The gradient for ``identifier`` (a position or a Parameter) in ``gradients``,
    the result of ``grad(..., return_ids=True)``.

    >>> import numpy as np, sourcegrad as sg
    >>> gs = sg.grad(lambda x, y: np.sum(x * y), (0, 1), return_ids=True)(np.ones(2), np.arange(2.))
    >>> sg.get_grad(gs, 1)
    array([1., 1.])
    """
    if isinstance(identifier, Parameter):
        key = identifier.name
    elif isinstance(identifier, int) and not isinstance(identifier, bool):
        key = identifier
    else:
        raise TypeError(f"get_grad: the identifier must be an input position (int) or a "
                        f"Parameter, got {type(identifier).__name__}")
    found = _find(gradients, key)
    if found is None:
        raise RuntimeError(f"get_grad: no gradient for "
                           f"{'position' if isinstance(key, int) else 'Parameter'} {key!r} "
                           f"in these gradients (were they computed with return_ids=True?)")
    return found[0]


def _find(node, key):
    if isinstance(node, tuple):
        if len(node) == 2 and type(node[0]) is type(key) and node[0] == key \
                and not isinstance(node[1], tuple):
            return (node[1],)
        for item in node:
            hit = _find(item, key)
            if hit is not None:
                return hit
    return None
