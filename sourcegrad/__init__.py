"""sourcegrad: reverse-mode automatic differentiation by source transformation.

``grad(fn)`` reads ``fn``'s Python source, writes its derivative as Python
source, compiles it once and returns a callable; at call time only NumPy
runs.  ``source(g)`` shows the derivative.

>>> import numpy as np, sourcegrad as sg
>>> def f(x):
...     return np.sum(np.tanh(x) ** 2)
>>> g = sg.grad(f)
>>> print(sg.source(g))  # doctest: +SKIP
"""
from sourcegrad.errors import (NoDerivativeError, SourceNotFoundError, SourcegradError,
                               UnsupportedSyntaxError)
from sourcegrad.rules.registry import adjoint, d, nondifferentiable, tangent
from sourcegrad.rules import operators as _operators  # noqa: F401  (registers rules)
from sourcegrad.rules import numpy_core as _numpy_rules  # noqa: F401
from sourcegrad.rules import linalg as _linalg_rules  # noqa: F401
from sourcegrad.rules import fft as _fft_rules  # noqa: F401
from sourcegrad.rules import runtime_ as _runtime_rules  # noqa: F401
from sourcegrad.rules import builtins_ as _builtin_rules  # noqa: F401
from sourcegrad.rules import math_ as _math_rules  # noqa: F401
from sourcegrad.dtypes import bool_, float16, float32, float64, int32, int64
from sourcegrad.tensor import Parameter, ParameterTuple, Tensor
from sourcegrad import ops, nn
from sourcegrad.rules import ops as _ops_rules  # noqa: F401
from sourcegrad.api import GradFunction, grad, source, value_and_grad
from sourcegrad import dispatch as _dispatch  # noqa: F401  (registers the run-time calls)
from sourcegrad.ops import GradOperation, get_grad, stop_gradient
from sourcegrad.rules import tangents_numpy as _tangent_rules  # noqa: F401
from sourcegrad.rules import tangents_ops as _tangent_ops_rules  # noqa: F401
from sourcegrad.rules import tangents_linalg as _tangent_linalg_rules  # noqa: F401
from sourcegrad.transforms import hessian, jacfwd, jacrev, jvp, vjp
from sourcegrad.jit import JitWarning, jit
from sourcegrad.pytree import ravel

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "source", "stop_gradient", "get_grad", "GradOperation",
    "adjoint", "d", "nondifferentiable", "tangent",
    "jvp", "vjp", "jacfwd", "jacrev", "hessian",
    "Tensor", "Parameter", "ParameterTuple", "ops", "nn",
    "float16", "float32", "float64", "int32", "int64", "bool_",
    "SourcegradError", "UnsupportedSyntaxError", "NoDerivativeError", "SourceNotFoundError",
    "GradFunction", "export", "jit", "JitWarning", "ravel",
    "jvp", "vjp", "jacfwd", "jacrev", "hessian",
]
from sourcegrad.export import export  # noqa: E402
from sourcegrad.rules import nondiff as _nondiff  # noqa: E402,F401  (the table; imports api)
