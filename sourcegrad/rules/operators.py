"""Derivative rules for Python's operators (``+ - * / ** @``, unary ``-``).

Keyed by the ``operator`` module's functions; the reverse pass maps each
``BinOp``/``UnaryOp`` node to them.  Binary operators broadcast, so each
adjoint is summed back to its operand's shape with ``unbroadcast``.
"""
import operator

import numpy as np

from sourcegrad.rules.registry import adjoint, d, nondifferentiable
from sourcegrad.runtime import matmul_adjoint_a, matmul_adjoint_b, unbroadcast


@adjoint(operator.add)
def add(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(d[z], y)


@adjoint(operator.sub)
def sub(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z], y)


@adjoint(operator.mul)
def mul(z, x, y):
    d[x] = unbroadcast(d[z] * y, x)
    d[y] = unbroadcast(d[z] * x, y)


@adjoint(operator.truediv)
def truediv(z, x, y):
    d[x] = unbroadcast(d[z] / y, x)
    d[y] = unbroadcast(-d[z] * z / y, y)


@adjoint(operator.pow)
def pow(z, x, y):
    d[x] = unbroadcast(d[z] * y * x ** (y - 1), x)
    d[y] = unbroadcast(d[z] * z * np.log(np.where(x > 0, x, 1.0)), y)


@adjoint(operator.matmul)
def matmul(z, x, y):
    d[x] = matmul_adjoint_a(d[z], x, y)
    d[y] = matmul_adjoint_b(d[z], x, y)


@adjoint(operator.neg)
def neg(z, x):
    d[x] = -d[z]


@adjoint(operator.pos)
def pos(z, x):
    d[x] = d[z]


@adjoint(operator.mod)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.floor_divide(x, y), y)


nondifferentiable(operator.floordiv, operator.not_, operator.invert, operator.and_,
                  operator.or_, operator.xor, operator.lshift, operator.rshift,
                  operator.lt, operator.le, operator.gt, operator.ge, operator.eq,
                  operator.ne, operator.is_, operator.is_not, operator.contains)
