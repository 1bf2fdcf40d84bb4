"""Forward-mode (tangent) rules for ``sourcegrad.ops`` (and so for the ``nn``
layers and losses built on them).

Templates as in :mod:`sourcegrad.rules.tangents_numpy` (batched tangents, one
statement per argument).  Elementwise activations reuse their adjoint rules
(declared ``diagonal_tangent``).  A loss's tangent is its gradient contracted with
the direction: the adjoint helper of ``rules/ops.py`` run with a seed of ones
gives, for a loss whose result ``z`` indexes the leading axes of the input
(``'mean'``/``'sum'``: none; ``'none'``: all, or all but the class axis), the
derivative of each result element with respect to the input elements it reads
(``tloss``).
"""
from __future__ import annotations

import numpy as np

from sourcegrad import ops
from sourcegrad.rules.ops import (_bce_grad_labels, _bce_grad_logits, _bce_logits_grad_input,
                                  _bce_logits_grad_target, _ce_grad_input, _ce_grad_target,
                                  _l1_grad, _mse_grad, _swap_last)
from sourcegrad.rules.registry import d, diagonal_tangent, tangent
from sourcegrad.rules.tangents_numpy import (baxis, batch_size, bperm, breshape, lift,
                                             tasarray, tmatmul_a, tmatmul_b, tstack)
from sourcegrad.tensor import Tensor

diagonal_tangent(ops.neg, ops.square, ops.sqrt, ops.abs, ops.exp, ops.log, ops.sin, ops.cos,
            ops.sigmoid, ops.relu, ops.tanh, ops.softplus, ops.tan, ops.atan, ops.sinh,
            ops.cosh, ops.log1p, ops.expm1, ops.rsqrt, ops.leaky_relu, ops.silu, ops.elu,
            ops.relu6)


@tangent(ops.reciprocal)
def reciprocal(z, input):
    d[z] = -d[input] * (z * z)


@tangent(ops.cast, constant=("dtype",))
def cast(z, input, dtype):
    d[z] = tcast(d[input], z)


def tcast(t, z):
    """Tangent of ``ops.cast``: in the result's float dtype (none for an integer one)."""
    dt = np.result_type(z)
    return t.astype(dt, copy=False) if dt.kind in "fc" else np.zeros_like(t)


def tloss(g, t, z):
    """Tangent of a loss ``z`` of ``x`` along ``t`` from ``g``, the loss's gradient with
    respect to ``x`` under a seed of ones: ``sum(g * t)`` over ``x``'s axes that ``z``
    does not keep (``z``'s shape leads ``x``'s)."""
    zs = np.shape(z)
    xs = t.shape[1:]
    if xs[:len(zs)] != zs:
        raise NotImplementedError(f"forward mode of a loss of shape {zs} from an input of "
                                  f"shape {xs}: the result must index the input's leading "
                                  f"axes")
    axes = tuple(range(1 + len(zs), 1 + len(xs)))
    return np.sum(g * t, axis=axes) if axes else g * t


@tangent(Tensor, constant=("dtype",))
def tensor(z, data=None, dtype=None):
    d[z] = tasarray(d[data], data, z)


@tangent(ops.matmul)
def matmul(z, input, other):
    d[z] = tmatmul_a(d[input], input, other)
    d[z] = tmatmul_b(input, d[other], other)


@tangent(ops.dense)
def dense(z, input, weight, bias=None):
    d[z] = tmatmul_a(d[input], input, _swap_last(weight))
    d[z] = tmatmul_b(input, np.swapaxes(d[weight], -1, -2), _swap_last(weight))
    d[z] = lift(d[bias], z)


@tangent(ops.add)
def add(z, input, other):
    d[z] = lift(d[input], z)
    d[z] = lift(d[other], z)


@tangent(ops.sub)
def sub(z, input, other):
    d[z] = lift(d[input], z)
    d[z] = -lift(d[other], z)


@tangent(ops.mul)
def mul(z, input, other):
    d[z] = lift(d[input], z) * other
    d[z] = input * lift(d[other], z)


@tangent(ops.div, constant=("rounding_mode",))
def div(z, input, other, *, rounding_mode=None):
    d[z] = _tdiv(lift(d[input], z) / other, rounding_mode)
    d[z] = _tdiv(-lift(d[other], z) * (input / other) / other, rounding_mode)


def _tdiv(t, rounding_mode):
    """A rounded division is piecewise constant: no tangent."""
    return t if rounding_mode is None else np.zeros_like(t)


@tangent(ops.pow)
def pow_(z, input, exponent):
    d[z] = lift(d[input], z) * exponent * input ** (exponent - (exponent != 0))
    d[z] = lift(d[exponent], z) * z * np.log(np.where(input == 0, 1.0, input))


@tangent(ops.maximum, ops.minimum)
def maximum(z, input, other):
    d[z] = lift(d[input], z) * _share(input, other, z)
    d[z] = lift(d[other], z) * _share(other, input, z)


def _share(a, b, z):
    return np.where(a == z, np.where(a == b, 0.5, 1.0), 0.0)


@tangent(ops.softmax, constant=("dtype",))
def softmax(z, input, axis=-1, *, dtype=None):
    d[z] = z * (d[input] - np.sum(d[input] * z, axis=baxis(axis, z), keepdims=True))


@tangent(ops.log_softmax)
def log_softmax(z, logits, axis=-1):
    d[z] = d[logits] - np.sum(d[logits] * np.exp(z), axis=baxis(axis, z), keepdims=True)


@tangent(ops.sum, constant=("dtype",))
def sum_(z, input, dim=None, keepdim=False, *, dtype=None):
    d[z] = np.sum(d[input], axis=baxis(dim, input), keepdims=keepdim)


@tangent(ops.mean)
def mean(z, input, axis=None, keep_dims=False):
    d[z] = np.mean(d[input], axis=baxis(axis, input), keepdims=keep_dims)


@tangent(ops.reshape)
def reshape(z, input, shape):
    d[z] = breshape(d[input], z)


@tangent(ops.flatten)
def flatten(z, input, order="C", *, start_dim=1, end_dim=-1):
    d[z] = breshape(d[input], z, order)


@tangent(ops.squeeze)
def squeeze(z, input, axis=None):
    d[z] = breshape(d[input], z)


@tangent(ops.expand_dims)
def expand_dims(z, input_x, axis):
    d[z] = breshape(d[input_x], z)


@tangent(ops.transpose)
def transpose(z, input, input_perm):
    d[z] = np.transpose(d[input], bperm(input_perm, input))


@tangent(ops.concat)
def concat(z, tensors, axis=0):
    d[z] = tstack(d[tensors], tensors, batch_size(*d[tensors]), axis, np.concatenate)


@tangent(ops.depend, constant=("expr",))
def depend(z, value, expr):
    d[z] = d[value]


@tangent(ops.binary_cross_entropy_with_logits)
def binary_cross_entropy_with_logits(z, input, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    d[z] = tloss(_bce_logits_grad_input(np.ones_like(z), input, target, weight,
                                            pos_weight, reduction), d[input], z)
    d[z] = tloss(_bce_logits_grad_target(np.ones_like(z), input, target, weight,
                                             pos_weight, reduction), d[target], z)


@tangent(ops.binary_cross_entropy)
def binary_cross_entropy(z, logits, labels, weight=None, reduction="mean"):
    d[z] = tloss(_bce_grad_logits(np.ones_like(z), logits, labels, weight, reduction),
                 d[logits], z)
    d[z] = tloss(_bce_grad_labels(np.ones_like(z), logits, labels, weight, reduction),
                 d[labels], z)


@tangent(ops.cross_entropy)
def cross_entropy(z, input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    d[z] = tloss(_ce_grad_input(np.ones_like(z), input, target, weight, ignore_index,
                                    reduction, label_smoothing), d[input], z)
    d[z] = tloss(_ce_grad_target(np.ones_like(z), input, target, weight, ignore_index,
                                     reduction, label_smoothing), d[target], z)


@tangent(ops.mse_loss)
def mse_loss(z, input, target, reduction="mean"):
    d[z] = tloss(_mse_grad(np.ones_like(z), input, target, reduction, 1), d[input], z)
    d[z] = tloss(_mse_grad(np.ones_like(z), input, target, reduction, -1), d[target], z)


@tangent(ops.l1_loss)
def l1_loss(z, input, target, reduction="mean"):
    d[z] = tloss(_l1_grad(np.ones_like(z), input, target, reduction, 1), d[input], z)
    d[z] = tloss(_l1_grad(np.ones_like(z), input, target, reduction, -1), d[target], z)
