"""Derivative rules for Python's operators (``+ - * / ** @``, unary ``-``).

Keyed by the ``operator`` module's functions -- the reverse pass maps each
``BinOp``/``UnaryOp`` node to them -- and by the NumPy ufuncs that are the
same operation (``np.add`` is ``+``), with NumPy's parameter names.  Binary
operators broadcast, so each adjoint is summed back to its operand's shape
with ``unbroadcast``.
"""
import builtins
import operator

import numpy as np

from sourcegrad.rules.registry import adjoint, d
from sourcegrad.runtime import matmul_adjoint_a, matmul_adjoint_b, unbroadcast


@adjoint(operator.add, np.add)
def add(z, x1, x2):
    d[x1] = unbroadcast(d[z], x1)
    d[x2] = unbroadcast(d[z], x2)


@adjoint(operator.sub, np.subtract)
def sub(z, x1, x2):
    d[x1] = unbroadcast(d[z], x1)
    d[x2] = unbroadcast(-d[z], x2)


@adjoint(operator.mul, np.multiply)
def mul(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x2, x1)
    d[x2] = unbroadcast(d[z] * x1, x2)


@adjoint(operator.truediv, np.divide)  # np.true_divide is np.divide
def truediv(z, x1, x2):
    d[x1] = unbroadcast(d[z] / x2, x1)
    d[x2] = unbroadcast(-d[z] * z / x2, x2)


@adjoint(operator.pow, builtins.pow)
def pow(z, x, y):
    # x ** 0 is constant: its derivative is 0, also at x = 0, where y * x ** (y - 1)
    # would be 0 * inf (nan, or ZeroDivisionError for Python floats)
    d[x] = unbroadcast(d[z] * y * x ** (y - (y != 0)), x)
    # log x: 0 * log 0 taken as 0 (z is 0 there); a negative base has no real
    # derivative in the exponent: nan, as in autograd, JAX and PyTorch
    d[y] = unbroadcast(d[z] * z * np.log(np.where(x == 0, 1.0, x)), y)


@adjoint(operator.matmul, np.matmul)
def matmul(z, x1, x2):
    d[x1] = matmul_adjoint_a(d[z], x1, x2)
    d[x2] = matmul_adjoint_b(d[z], x1, x2)


@adjoint(operator.neg, np.negative)
def neg(z, x):
    d[x] = -d[z]


@adjoint(operator.pos, np.positive)
def pos(z, x):
    d[x] = d[z]


@adjoint(operator.mod)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.floor_divide(x, y), y)
