"""Rules for Python's builtins that carry gradient: ``sum``, ``abs``, ``float``,
``max``/``min`` of several values, ``list``/``tuple`` of an iterable (the ``math``
module's are in ``math_``)."""
import builtins
import copy
import math

import numpy as np

from sourcegrad.rules.registry import adjoint, d
from sourcegrad.runtime import (choice_adjoint, choice_default_adjoint, divmod_adjoint,
                                list_adjoint, sorted_adjoint, sum_adjoint, unbroadcast)


@adjoint(builtins.sum)
def sum_(z, iterable, start=0):
    d[iterable] = sum_adjoint(d[z], iterable)
    d[start] = unbroadcast(d[z], start)


@adjoint(math.fsum)
def fsum(z, seq):
    d[seq] = sum_adjoint(d[z], seq)


@adjoint(copy.copy, copy.deepcopy)
def copy_(z, x, memo=None):
    d[x] = d[z]


@adjoint(builtins.abs)
def abs_(z, x):
    d[x] = d[z] * np.sign(x)


@adjoint(builtins.float)
def float_(z, x=0.0):
    d[x] = d[z]


@adjoint(builtins.max)
def max_(z, *args, key=None, default=None):
    d[args] = choice_adjoint(d[z], z, args)
    d[default] = choice_default_adjoint(d[z], args, default)


@adjoint(builtins.min)
def min_(z, *args, key=None, default=None):
    d[args] = choice_adjoint(d[z], z, args)
    d[default] = choice_default_adjoint(d[z], args, default)


@adjoint(builtins.divmod)
def divmod_(z, a, b):
    d[a] = divmod_adjoint(d[z], a, b, 0)
    d[b] = divmod_adjoint(d[z], a, b, 1)


@adjoint(builtins.list)
def list_(z, iterable=()):
    d[iterable] = list_adjoint(d[z], iterable)


@adjoint(builtins.tuple)
def tuple_(z, iterable=()):
    d[iterable] = list_adjoint(d[z], iterable)


@adjoint(builtins.sorted)
def sorted_(z, iterable, key=None, reverse=False):
    d[iterable] = sorted_adjoint(d[z], iterable, key, reverse)
