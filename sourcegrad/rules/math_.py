"""Derivative rules for Python's ``math`` module.

Python floats in, Python floats out: the adjoints use ``math`` too.  Templates
as in :mod:`sourcegrad.rules.numpy_core`.
"""
import math

import numpy as np

from sourcegrad.rules.registry import adjoint, d
from sourcegrad.runtime import hypot_adjoint


@adjoint(math.exp)
def math_exp(z, x):
    d[x] = d[z] * z


@adjoint(math.expm1)
def math_expm1(z, x):
    d[x] = d[z] * (z + 1.0)


@adjoint(math.log)
def math_log(z, x, base=math.e):
    d[x] = d[z] / (x * math.log(base))
    d[base] = -d[z] * z / (base * math.log(base))


@adjoint(math.log1p)
def math_log1p(z, x):
    d[x] = d[z] / (1.0 + x)


@adjoint(math.log2)
def math_log2(z, x):
    d[x] = d[z] / (x * math.log(2.0))


@adjoint(math.log10)
def math_log10(z, x):
    d[x] = d[z] / (x * math.log(10.0))


@adjoint(math.sqrt)
def math_sqrt(z, x):
    d[x] = d[z] / (2.0 * z)


@adjoint(math.sin)
def math_sin(z, x):
    d[x] = d[z] * math.cos(x)


@adjoint(math.cos)
def math_cos(z, x):
    d[x] = -d[z] * math.sin(x)


@adjoint(math.tan)
def math_tan(z, x):
    d[x] = d[z] * (1.0 + z * z)


@adjoint(math.sinh)
def math_sinh(z, x):
    d[x] = d[z] * math.cosh(x)


@adjoint(math.cosh)
def math_cosh(z, x):
    d[x] = d[z] * math.sinh(x)


@adjoint(math.tanh)
def math_tanh(z, x):
    d[x] = d[z] * (1.0 - z * z)


@adjoint(math.asin)
def math_asin(z, x):
    d[x] = d[z] / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def math_acos(z, x):
    d[x] = -d[z] / math.sqrt(1.0 - x * x)


@adjoint(math.atan)
def math_atan(z, x):
    d[x] = d[z] / (1.0 + x * x)


@adjoint(math.asinh)
def math_asinh(z, x):
    d[x] = d[z] / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def math_acosh(z, x):
    d[x] = d[z] / math.sqrt(x * x - 1.0)


@adjoint(math.atanh)
def math_atanh(z, x):
    d[x] = d[z] / (1.0 - x * x)


@adjoint(math.atan2)
def math_atan2(z, y, x):
    d[y] = d[z] * x / (x * x + y * y)
    d[x] = -d[z] * y / (x * x + y * y)


@adjoint(math.hypot)
def math_hypot(z, *coordinates):
    d[coordinates] = hypot_adjoint(d[z], z, coordinates)


@adjoint(math.pow)
def math_pow(z, x, y):
    d[x] = d[z] * y * x ** (y - (y != 0))   # as operator.pow
    d[y] = d[z] * z * math.log(x if x != 0 else 1.0)


@adjoint(math.fabs)
def math_fabs(z, x):
    d[x] = d[z] * np.sign(x)


@adjoint(math.erf)
def math_erf(z, x):
    d[x] = d[z] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.erfc)
def math_erfc(z, x):
    d[x] = -d[z] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.degrees)
def math_degrees(z, x):
    d[x] = d[z] * (180.0 / math.pi)


@adjoint(math.radians)
def math_radians(z, x):
    d[x] = d[z] * (math.pi / 180.0)
