"""MindSpore's primitive classes (``ops.Sin()``, ``ops.MatMul()``, ``ops.ReduceSum()``).

Older MindSpore code creates an operator object in ``__init__``
(``self.matmul = ops.MatMul()``) and calls it in ``construct``.  Each class
here stores its attributes and calls the functional op in ``__call__``;
sourcegrad differentiates that ``__call__`` from its source, so the
gradient comes from the functional op's rule.

    >>> import numpy as np
    >>> from sourcegrad import ops
    >>> ops.ReduceSum(keep_dims=True)(np.ones((2, 3)), 1)
    array([[3.],
           [3.]])
"""
from __future__ import annotations

import numpy as np

from sourcegrad.ops import (abs, add, amax, amin, argmax, broadcast_to, cast, concat, cos,
                            depend, div, exp, expand_dims, flatten, log, log_softmax, matmul,
                            maximum, mean, minimum, mul, neg, ones_like, pow, prod, reciprocal,
                            relu, reshape, rsqrt, sigmoid, sin, softmax, softplus, sqrt, square,
                            squeeze, stack, sub, sum, tan, tanh, tile, transpose, where,
                            zeros_like)

__all__ = [
    "Primitive", "Sin", "Cos", "Tan", "Exp", "Log", "Abs", "Neg", "Square", "Sqrt", "Rsqrt",
    "Reciprocal", "Pow", "Add", "Sub", "Mul", "Div", "RealDiv", "Maximum", "Minimum",
    "MatMul", "BatchMatMul", "BiasAdd", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
    "ReduceProd", "Sigmoid", "ReLU", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "Reshape", "Transpose", "Concat", "Stack", "ExpandDims", "Squeeze", "Flatten", "Tile",
    "BroadcastTo", "Select", "OnesLike", "ZerosLike", "Cast", "Shape", "Argmax", "Depend",
]


class Primitive:
    """Base class: an operator object; calling it applies the op."""

    def __repr__(self):
        return f"{type(self).__name__}()"


def _all_axes(axis):
    """MindSpore's reductions take ``axis=()`` for "all axes"; NumPy wants None."""
    if axis == ():
        return None
    return tuple(axis) if isinstance(axis, list) else axis


def _last_two_swapped(x):
    """``x`` with its last two axes swapped (MatMul's ``transpose_a``/``transpose_b``)."""
    return np.swapaxes(x, -1, -2)


# -- elementwise ------------------------------------------------------------
class Sin(Primitive):
    def __call__(self, x):
        return sin(x)


class Cos(Primitive):
    def __call__(self, x):
        return cos(x)


class Tan(Primitive):
    def __call__(self, x):
        return tan(x)


class Exp(Primitive):
    def __call__(self, x):
        return exp(x)


class Log(Primitive):
    def __call__(self, x):
        return log(x)


class Abs(Primitive):
    def __call__(self, x):
        return abs(x)


class Neg(Primitive):
    def __call__(self, x):
        return neg(x)


class Square(Primitive):
    def __call__(self, x):
        return square(x)


class Sqrt(Primitive):
    def __call__(self, x):
        return sqrt(x)


class Rsqrt(Primitive):
    def __call__(self, x):
        return rsqrt(x)


class Reciprocal(Primitive):
    def __call__(self, x):
        return reciprocal(x)


class Pow(Primitive):
    def __call__(self, x, y):
        return pow(x, y)


class Add(Primitive):
    def __call__(self, x, y):
        return add(x, y)


class Sub(Primitive):
    def __call__(self, x, y):
        return sub(x, y)


class Mul(Primitive):
    def __call__(self, x, y):
        return mul(x, y)


class Div(Primitive):
    def __call__(self, x, y):
        return div(x, y)


RealDiv = Div


class Maximum(Primitive):
    def __call__(self, x, y):
        return maximum(x, y)


class Minimum(Primitive):
    def __call__(self, x, y):
        return minimum(x, y)


# -- linear algebra -----------------------------------------------------------
class MatMul(Primitive):
    """``MatMul(transpose_a=False, transpose_b=False)(x, y)``."""

    def __init__(self, transpose_a=False, transpose_b=False):
        self.transpose_a = bool(transpose_a)
        self.transpose_b = bool(transpose_b)

    def __call__(self, x, y):
        if self.transpose_a:
            x = _last_two_swapped(x)
        if self.transpose_b:
            y = _last_two_swapped(y)
        return matmul(x, y)


class BatchMatMul(MatMul):
    """``BatchMatMul(transpose_a=False, transpose_b=False)(x, y)`` on stacks of matrices."""


class BiasAdd(Primitive):
    """``BiasAdd()(x, bias)``: ``bias`` added along axis 1 (the channels)."""

    def __call__(self, input_x, bias):
        return add(input_x, reshape(bias, (-1,) + (1,) * (np.ndim(input_x) - 2)))


# -- reductions -----------------------------------------------------------------
class ReduceSum(Primitive):
    """``ReduceSum(keep_dims=False)(x, axis=())``: ``axis=()`` sums everything."""

    def __init__(self, keep_dims=False):
        self.keep_dims = bool(keep_dims)

    def __call__(self, x, axis=()):
        return sum(x, _all_axes(axis), self.keep_dims)


class ReduceMean(ReduceSum):
    """``ReduceMean(keep_dims=False)(x, axis=())``."""

    def __call__(self, x, axis=()):
        return mean(x, _all_axes(axis), self.keep_dims)


class ReduceMax(ReduceSum):
    """``ReduceMax(keep_dims=False)(x, axis=())``."""

    def __call__(self, x, axis=()):
        return amax(x, _all_axes(axis), self.keep_dims)


class ReduceMin(ReduceSum):
    """``ReduceMin(keep_dims=False)(x, axis=())``."""

    def __call__(self, x, axis=()):
        return amin(x, _all_axes(axis), self.keep_dims)


class ReduceProd(ReduceSum):
    """``ReduceProd(keep_dims=False)(x, axis=())``."""

    def __call__(self, x, axis=()):
        return prod(x, _all_axes(axis), self.keep_dims)


# -- activations ------------------------------------------------------------------
class Sigmoid(Primitive):
    def __call__(self, x):
        return sigmoid(x)


class ReLU(Primitive):
    def __call__(self, x):
        return relu(x)


class Tanh(Primitive):
    def __call__(self, x):
        return tanh(x)


class Softplus(Primitive):
    def __call__(self, x):
        return softplus(x)


class Softmax(Primitive):
    """``Softmax(axis=-1)(x)``."""

    def __init__(self, axis=-1):
        self.axis = axis

    def __call__(self, x):
        return softmax(x, _all_axes(self.axis))


class LogSoftmax(Softmax):
    """``LogSoftmax(axis=-1)(x)``."""

    def __call__(self, x):
        return log_softmax(x, _all_axes(self.axis))


# -- shapes -----------------------------------------------------------------------
class Reshape(Primitive):
    def __call__(self, x, shape):
        return reshape(x, shape)


class Transpose(Primitive):
    def __call__(self, x, perm):
        return transpose(x, perm)


class Concat(Primitive):
    """``Concat(axis=0)(tensors)``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, x):
        return concat(x, self.axis)


class Stack(Concat):
    """``Stack(axis=0)(tensors)``."""

    def __call__(self, x):
        return stack(x, self.axis)


class ExpandDims(Primitive):
    def __call__(self, x, axis):
        return expand_dims(x, axis)


class Squeeze(Primitive):
    """``Squeeze(axis=())(x)``: ``axis=()`` removes every axis of size 1."""

    def __init__(self, axis=()):
        self.axis = axis

    def __call__(self, x):
        return squeeze(x, _all_axes(self.axis))


class Flatten(Primitive):
    def __call__(self, x):
        return flatten(x)


class Tile(Primitive):
    def __call__(self, x, multiples):
        return tile(x, multiples)


class BroadcastTo(Primitive):
    """``BroadcastTo(shape)(x)``."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def __call__(self, x):
        return broadcast_to(x, self.shape)


class Select(Primitive):
    """``Select()(cond, x, y)``: ``x`` where ``cond`` holds, else ``y``."""

    def __call__(self, cond, x, y):
        return where(cond, x, y)


class OnesLike(Primitive):
    def __call__(self, x):
        return ones_like(x)


class ZerosLike(Primitive):
    def __call__(self, x):
        return zeros_like(x)


class Cast(Primitive):
    def __call__(self, x, dtype):
        return cast(x, dtype)


class Shape(Primitive):
    def __call__(self, x):
        return np.shape(x)


class Argmax(Primitive):
    """``Argmax(axis=-1, output_type=int32)(x)``."""

    def __init__(self, axis=-1, output_type=np.int32):
        self.axis = axis
        self.output_type = output_type

    def __call__(self, x):
        return cast(argmax(x, self.axis), self.output_type)


class Depend(Primitive):
    def __call__(self, value, expr):
        return depend(value, expr)
