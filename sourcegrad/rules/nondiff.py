"""The callables whose results never carry gradient: one table, by family.

Activity analysis treats a call to any of them as a cut (as autograd's one
set of non-differentiable functions): its result is inactive whatever its
arguments, so the backward sweep emits nothing for it, and a call with
active arguments is not an error for want of a rule.  ``stop_gradient`` is
just a member.  Each row says why; the reason is for readers (and for
``sourcegrad.nondifferentiable``'s users, who add rows of their own the
same way)::

    import sourcegrad as sg
    sg.nondifferentiable(my_module.count_hits, why="integer-valued")

Names missing from the installed NumPy (``np.isposinf`` moved, ``ranf`` went
away in 2.0) are skipped.  The module is imported once, by the package's
``__init__``, after every module whose callables it lists.
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from sourcegrad import api, dispatch, ops, runtime, xp
from sourcegrad.rules.registry import nondifferentiable
from sourcegrad.tensor import Parameter


def _existing(owner, *names):
    return [getattr(owner, n) for n in names if hasattr(owner, n)]


# (family, why, callables), in the order the families were registered before
# the table existed (the reason of a callable listed twice is the last one's)
TABLE = [
    ("numpy", "integer, boolean or constant-valued", [
        *_existing(np, "shape", "size", "ndim", "result_type", "broadcast_shapes",
                   "argmax", "argmin", "argsort", "argwhere", "nonzero", "flatnonzero",
                   "searchsorted", "digitize", "bincount", "count_nonzero",
                   "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose",
                   "allclose", "array_equal", "array_equiv", "signbit",
                   "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                   "logical_and", "logical_or", "logical_not", "logical_xor", "all", "any",
                   "floor_divide", "zeros", "ones", "empty",
                   "eye", "identity", "zeros_like", "ones_like", "empty_like", "tri",
                   "indices", "diag_indices", "tril_indices",
                   "triu_indices"),
        *_existing(np.ndarray, "argmax", "argmin", "argsort", "nonzero", "all", "any"),
    ]),
    ("numpy.random", "random numbers", [
        *_existing(np.random, "seed", "rand", "randn", "randint", "random", "random_sample",
                   "ranf", "sample", "normal", "standard_normal", "uniform",
                   "shuffle", "binomial", "poisson", "exponential", "beta",
                   "gamma", "default_rng", "RandomState"),
        *_existing(np.random.Generator, "random", "normal", "standard_normal", "uniform",
                   "integers", "shuffle", "binomial",
                   "poisson", "exponential", "beta", "gamma"),
    ]),
    ("numpy.linalg", "integer-valued", [np.linalg.matrix_rank]),
    ("operator", "", [
        operator.floordiv, operator.not_, operator.invert, operator.and_,
        operator.or_, operator.xor, operator.lshift, operator.rshift,
        operator.lt, operator.le, operator.gt, operator.ge, operator.eq,
        operator.ne, operator.is_, operator.is_not, operator.contains,
    ]),
    ("runtime", "", [runtime.seed_like, runtime.seed_first, runtime.zeros_like]),
    ("runtime", "a dict's keys", [runtime.dict_keys]),
    ("runtime", "a Cell's own bprop is not differentiated again",
     [runtime.custom_bprop_grads]),
    ("math", "integer or boolean-valued", [
        math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
        math.isclose,
    ]),
    ("builtins", "", [
        builtins.len, builtins.range, builtins.print, builtins.isinstance,
        builtins.issubclass, builtins.int, builtins.bool, builtins.str, builtins.type,
        builtins.id, builtins.hasattr, builtins.callable,
        builtins.repr, builtins.hash, builtins.round, builtins.any,
        builtins.all,
    ]),
    ("sourcegrad.ops", "the result does not depend smoothly on the input", [
        ops.ones, ops.zeros, ops.full, ops.ones_like, ops.zeros_like, ops.argmax,
    ]),
    ("sourcegrad.ops", "stop_gradient cuts the gradient by design", [ops.stop_gradient]),
    ("sourcegrad.ops", "a random mask carries no gradient", [ops._dropout_mask]),
    ("sourcegrad.ops", "creating a Parameter starts a new weight", [Parameter]),
    ("sourcegrad.ops", "the result is piecewise constant in the input", [
        ops.sign, ops.floor, ops.ceil, ops.round, ops.argmin,
    ]),
    ("sourcegrad", "it builds a gradient function; calling that is differentiated", [
        api.grad, api.value_and_grad, dispatch.vjp_of,
    ]),
    ("sourcegrad", "it returns the text of a derivative", [api.source]),
    ("sourcegrad", "it tells which array library a value belongs to, or its shape", [
        xp.is_foreign, xp.is_dask, xp.is_namespace_array, xp.is_real_float,
        xp.known_shape, xp.library, xp.namespace_of, runtime._shape,
        runtime._same_unknown,
    ]),
]

for _family, _why, _callables in TABLE:
    nondifferentiable(*_callables, why=_why)
