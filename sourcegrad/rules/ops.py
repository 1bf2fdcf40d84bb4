"""Derivative rules for ``sourcegrad.ops`` (and ``Tensor``).

Each rule is a template (see ``sourcegrad/rules/registry.py``): its first
parameter is the op's result ``z``, the others mirror the op's parameters,
and its body assigns ``d[arg]`` for each differentiable argument, one line
each.  Anything longer than one line of math lives in a private helper
below, so the generated derivative stays readable (``dx =
_bce_logits_grad_input(dz, z_logits, y, w, pw, 'mean')``) and every helper
is testable on its own.

Helpers take the adjoint ``dz`` first, then the primal's arguments; any of
those may be ``None`` when the call site passed ``None`` (e.g. ``weight``).
Each returns an array with the shape (and float dtype) of the argument it
differentiates.
"""
from __future__ import annotations

import math

import numpy as np

from sourcegrad import ops
from sourcegrad.rules.numpy_core import _count, _sum_grad  # the same math as np.sum/mean
from sourcegrad.rules.registry import adjoint, d, elementwise, loss_seed
from sourcegrad.runtime import matmul_adjoint_a, matmul_adjoint_b, unbroadcast
from sourcegrad.tensor import Tensor
from sourcegrad.xp import asarray as _asarray, is_foreign


# --------------------------------------------------------------------------
# helpers: shapes and dtypes
# --------------------------------------------------------------------------
def _like(g, x):
    """``g`` broadcast to the shape of ``x``, as a writable array of x's float dtype."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":  # fast path: a float array
        out = np.empty(x.shape, x.dtype)
        out[...] = g
        return out
    if is_foreign(x):  # a Dask array: the result in its library, nothing computed
        dtype = x.dtype if x.dtype.kind == "f" else np.result_type(g, np.float32)
        return np.zeros_like(x, dtype=dtype) + g
    shape = np.shape(x)
    dtype = np.result_type(x)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.result_type(g, np.float32)
    out = np.empty(shape, dtype)
    out[...] = g
    return out


def _cast(g, x):
    """``g`` in the float dtype of ``x`` (a Python float ``x`` gets a float)."""
    if isinstance(x, np.ndarray) and isinstance(g, (np.ndarray, np.generic)) \
            and g.dtype == x.dtype and x.dtype.kind == "f":
        return g  # fast path: already in x's float dtype
    if isinstance(x, float):
        # (a Dask adjoint stays lazy: a 0-d Dask array, computed when the caller asks)
        return np.sum(g) if is_foreign(g) else float(np.sum(g))
    dtype = np.result_type(x)
    if np.issubdtype(dtype, np.floating) and np.result_type(g) != dtype:
        return _asarray(g).astype(dtype)
    return g


def _swap_last(a):
    """Transpose the last two axes (a 1-D array stays as it is)."""
    if isinstance(a, np.ndarray):
        return a.swapaxes(-1, -2) if a.ndim > 1 else a
    return np.swapaxes(a, -1, -2) if np.ndim(a) > 1 else a


def _loss_seed(dz, elem_shape, reduction):
    """The adjoint of each unreduced loss element, given the reduced loss's adjoint."""
    if reduction == "mean":
        return dz / max(math.prod(elem_shape), 1)
    return dz  # 'sum': every element gets dz; 'none': dz already has elem_shape


# --------------------------------------------------------------------------
# helpers: linear algebra and arithmetic
# --------------------------------------------------------------------------
def _matmul_grad_input(dz, input, other):
    """Adjoint of ``input`` in ``matmul(input, other)`` (1-D and batched cases too)."""
    return _cast(matmul_adjoint_a(dz, input, other), input)


def _matmul_grad_other(dz, input, other):
    """Adjoint of ``other`` in ``matmul(input, other)`` (1-D and batched cases too)."""
    return _cast(matmul_adjoint_b(dz, input, other), other)


def _dense_grad_weight(dz, input, weight):
    """Adjoint of ``weight`` (out, in) in ``input @ weight.T``."""
    return _swap_last(_matmul_grad_other(dz, input, _swap_last(weight)))


def _div_grad_input(dz, input, other, rounding_mode):
    """Adjoint of the dividend; rounded division is piecewise constant (zero gradient)."""
    if rounding_mode is not None:
        return _like(0, input)
    return _cast(unbroadcast(dz / other, input), input)


def _div_grad_other(dz, z, other, rounding_mode):
    """Adjoint of the divisor: ``-dz * z / other`` for true division."""
    if rounding_mode is not None:
        return _like(0, other)
    return _cast(unbroadcast(-dz * z / other, other), other)


def _pow_grad_input(dz, input, exponent):
    """Adjoint of the base: ``dz * e * x**(e-1)``, zero where ``e == 0`` (no 0 * inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        local = np.where(np.equal(exponent, 0), 0,
                         exponent * np.power(input, np.subtract(exponent, 1)))
    return _cast(unbroadcast(dz * local.astype(np.result_type(dz), copy=False), input), input)


def _pow_grad_exponent(dz, z, input, exponent):
    """Adjoint of the exponent: ``dz * z * log(x)``: zero where ``x == 0``, nan where
    ``x < 0`` (no real derivative), as ``np.power``'s rule."""
    local = z * np.log(np.where(np.equal(input, 0), 1, input))
    return _cast(unbroadcast(dz * local, exponent), exponent)


def _select_grad(dz, mine, theirs, sign):
    """Adjoint for maximum (sign=1) / minimum (sign=-1); ties share the gradient evenly."""
    win = np.greater(mine, theirs) if sign > 0 else np.less(mine, theirs)
    g = dz * win + 0.5 * dz * np.equal(mine, theirs)
    return _cast(unbroadcast(g, mine), mine)


def _softplus_grad(dz, input, beta, threshold):
    """Adjoint of softplus: ``sigmoid(beta * x)``, 1 in the linear region."""
    bx = np.multiply(input, beta)
    return dz * np.where(bx > threshold, 1, ops.sigmoid(bx)).astype(np.result_type(dz), copy=False)


def _concat_grad(dz, tensors, axis):
    """Adjoint of each of ``tensors`` in ``concat(tensors, axis)``: slices of ``dz``."""
    sizes = [np.shape(t)[axis] for t in tensors]
    pieces = np.split(dz, np.cumsum(sizes)[:-1], axis=axis)
    pieces = [_cast(p, t) for p, t in zip(pieces, tensors)]
    return list(pieces) if isinstance(tensors, list) else tuple(pieces)


def _tensor_grad(dz, data):
    """Adjoint of ``Tensor(data)``: ``dz`` back in the dtype of ``data``."""
    if isinstance(data, (np.ndarray, np.generic, float)):
        return _cast(dz, data)
    return dz


# --------------------------------------------------------------------------
# helpers: losses
# --------------------------------------------------------------------------
def _bce_sigmoid(input):
    """``ops.sigmoid(input)``; for a float64 array in four NumPy calls (exp(-x) is
    finite above x = -709, and 1 / (1 + exp(709)) is the sigmoid there to within
    the smallest normal float)."""
    if type(input) is np.ndarray and input.dtype == np.float64:
        return 1.0 / (1.0 + np.exp(-np.maximum(input, -709.0)))
    return ops.sigmoid(input)


elementwise(_bce_sigmoid)


@loss_seed
def _bce_logits_seed(dz, input, reduction):
    if reduction == "mean" and isinstance(input, np.ndarray):
        return dz / max(input.size, 1)  # fast path: _loss_seed's, the size of the shape
    return _loss_seed(dz, input.shape if isinstance(input, np.ndarray) else np.shape(input),
                      reduction)


def _bce_logits_grad_input(dz, input, target, weight, pos_weight, reduction):
    """d/dx of ``w * (pw * t * softplus(-x) + (1 - t) * softplus(x))``, reduced."""
    s = ops.sigmoid(input)
    pos = target if pos_weight is None else pos_weight * target
    local = pos * (s - 1.0) + (1.0 - target) * s  # (float constants: see _bce_logits_elements)
    if weight is not None:
        local = local * weight
    return _cast(local * _bce_logits_seed(dz, input, reduction), input)


def _bce_logits_grad_target(dz, input, target, weight, pos_weight, reduction):
    """d/dt of the BCE-with-logits loss: ``w * (pw * softplus(-x) - softplus(x))``."""
    neg_log_p = np.logaddexp(0, -input)
    if pos_weight is not None:
        neg_log_p = pos_weight * neg_log_p
    local = neg_log_p - np.logaddexp(0, input)
    if weight is not None:
        local = local * weight
    return _cast(local * _bce_logits_seed(dz, input, reduction), target)


def _bce_logits_grad_weight(dz, input, target, weight, pos_weight, reduction):
    """d/dweight: the unweighted elementwise loss, summed down to weight's shape."""
    local = ops._bce_logits_elements(input, target, None, pos_weight)
    return _cast(unbroadcast(local * _bce_logits_seed(dz, input, reduction), weight), weight)


def _bce_logits_grad_pos_weight(dz, input, target, weight, pos_weight, reduction):
    """d/dpos_weight: ``w * t * softplus(-x)``, summed down to pos_weight's shape."""
    local = target * np.logaddexp(0, -input)
    if weight is not None:
        local = local * weight
    return _cast(unbroadcast(local * _bce_logits_seed(dz, input, reduction), pos_weight),
                 pos_weight)


def _bce_grad_logits(dz, logits, labels, weight, reduction):
    """d/dp of ``-w * (t log p + (1 - t) log(1 - p))``; p(1-p) floored at 1e-12 like PyTorch."""
    local = (logits - labels) / np.maximum(logits * (1 - logits), 1e-12)
    if weight is not None:
        local = local * weight
    return _cast(local * _loss_seed(dz, np.shape(logits), reduction), logits)


def _bce_grad_labels(dz, logits, labels, weight, reduction):
    """d/dt of binary cross-entropy: ``w * (log(1 - p) - log p)`` (logs clamped at -100)."""
    log_p, log_q = ops._bce_log_terms(logits)
    local = log_q - log_p
    if weight is not None:
        local = local * weight
    return _cast(unbroadcast(local * _loss_seed(dz, np.shape(logits), reduction), labels), labels)


def _bce_grad_weight(dz, logits, labels, weight, reduction):
    """d/dweight of binary cross-entropy: the unweighted loss, summed to weight's shape."""
    local = ops.binary_cross_entropy(logits, labels, None, "none")
    return _cast(unbroadcast(local * _loss_seed(dz, np.shape(logits), reduction), weight), weight)


def _ce_seed(dz, axis, reduction, denom):
    """The adjoint of each sample's loss, with an axis for the classes to broadcast over."""
    if reduction == "none":
        return np.expand_dims(dz, axis)
    return dz / denom


def _ce_grad_input(dz, input, target, weight, ignore_index, reduction, label_smoothing):
    """d/dlogits of cross-entropy: ``g * (sum(coef) * softmax - coef)`` per sample."""
    coef, denom, axis = ops._ce_coefficients(input, target, weight, ignore_index, reduction,
                                             label_smoothing)
    g = _ce_seed(dz, axis, reduction, denom)
    local = ops.softmax(input, axis) * np.sum(coef, axis=axis, keepdims=True) - coef
    return _cast(local * g, input)


def _ce_grad_target(dz, input, target, weight, ignore_index, reduction, label_smoothing):
    """d/dtarget for probability targets; class indices have no gradient (zeros)."""
    if not np.issubdtype(np.result_type(target), np.floating):
        return _like(0, target)
    _, denom, axis = ops._ce_coefficients(input, target, weight, ignore_index, reduction,
                                          label_smoothing)
    local = -(1 - label_smoothing) * ops.log_softmax(input, axis)
    if weight is not None:
        shape = [1] * np.ndim(input)
        shape[axis] = np.shape(input)[axis]
        local = local * np.reshape(weight, shape)
    return _cast(local * _ce_seed(dz, axis, reduction, denom), target)


def _ce_grad_weight(dz, z, input, target, weight, ignore_index, reduction, label_smoothing):
    """d/dweight (one per class), including the weighted-mean divisor for class indices."""
    base, _, axis = ops._ce_coefficients(input, target, None, ignore_index, "sum",
                                         label_smoothing)
    _, denom, _ = ops._ce_coefficients(input, target, weight, ignore_index, reduction,
                                       label_smoothing)
    contrib = -base * ops.log_softmax(input, axis) * _ce_seed(dz, axis, reduction, denom)
    other_axes = tuple(a for a in range(np.ndim(input)) if a != axis)
    g = np.sum(contrib, axis=other_axes)
    if reduction == "mean" and not np.issubdtype(np.result_type(target), np.floating):
        # the divisor sum(w[target]) depends on the weights too
        t = _asarray(target)
        keep = t != ignore_index
        counts = np.bincount(t[keep].ravel(), minlength=np.shape(input)[axis])
        g = g - dz * z / denom * counts
    return _cast(g, weight)


def _mse_grad(dz, input, target, reduction, sign):
    """d/dinput (sign=1) or d/dtarget (sign=-1) of the squared error, reduced."""
    diff = np.subtract(input, target)
    g = (2 * sign) * diff * _loss_seed(dz, np.shape(diff), reduction)
    mine = input if sign > 0 else target
    return _cast(unbroadcast(g, mine), mine)


def _l1_grad(dz, input, target, reduction, sign):
    """d/dinput (sign=1) or d/dtarget (sign=-1) of the absolute error, reduced."""
    diff = np.subtract(input, target)
    g = sign * np.sign(diff) * _loss_seed(dz, np.shape(diff), reduction)
    mine = input if sign > 0 else target
    return _cast(unbroadcast(g, mine), mine)


# --------------------------------------------------------------------------
# the rules
# --------------------------------------------------------------------------
@adjoint(Tensor)
def tensor(z, data=None, dtype=None):
    d[data] = _tensor_grad(d[z], data)


@adjoint(ops.matmul)
def matmul(z, input, other):
    d[input] = matmul_adjoint_a(d[z], input, other)
    d[other] = matmul_adjoint_b(d[z], input, other)


@adjoint(ops.dense)
def dense(z, input, weight, bias=None):
    d[input] = _matmul_grad_input(d[z], input, _swap_last(weight))
    d[weight] = _dense_grad_weight(d[z], input, weight)
    d[bias] = _cast(unbroadcast(d[z], bias), bias)


@adjoint(ops.add)
def add(z, input, other):
    d[input] = _cast(unbroadcast(d[z], input), input)
    d[other] = _cast(unbroadcast(d[z], other), other)


@adjoint(ops.sub)
def sub(z, input, other):
    d[input] = _cast(unbroadcast(d[z], input), input)
    d[other] = _cast(unbroadcast(-d[z], other), other)


@adjoint(ops.mul)
def mul(z, input, other):
    d[input] = _cast(unbroadcast(d[z] * other, input), input)
    d[other] = _cast(unbroadcast(d[z] * input, other), other)


@adjoint(ops.div)
def div(z, input, other, *, rounding_mode=None):
    d[input] = _div_grad_input(d[z], input, other, rounding_mode)
    d[other] = _div_grad_other(d[z], z, other, rounding_mode)


@adjoint(ops.neg)
def neg(z, input):
    d[input] = -d[z]


@adjoint(ops.pow)
def pow_(z, input, exponent):
    d[input] = _pow_grad_input(d[z], input, exponent)
    d[exponent] = _pow_grad_exponent(d[z], z, input, exponent)


@adjoint(ops.square)
def square(z, input):
    d[input] = d[z] * 2 * input


@adjoint(ops.sqrt)
def sqrt(z, x):
    d[x] = d[z] / (2 * z)


@adjoint(ops.abs)
def abs_(z, input):
    d[input] = d[z] * np.sign(input)


@adjoint(ops.exp)
def exp(z, input):
    d[input] = d[z] * z


@adjoint(ops.log)
def log(z, input):
    d[input] = d[z] / input


@adjoint(ops.sin)
def sin(z, input):
    d[input] = d[z] * np.cos(input)


@adjoint(ops.cos)
def cos(z, input):
    d[input] = -d[z] * np.sin(input)


@adjoint(ops.maximum)
def maximum(z, input, other):
    d[input] = _select_grad(d[z], input, other, 1)
    d[other] = _select_grad(d[z], other, input, 1)


@adjoint(ops.minimum)
def minimum(z, input, other):
    d[input] = _select_grad(d[z], input, other, -1)
    d[other] = _select_grad(d[z], other, input, -1)


def _sigmoid_slope(x):
    """``sigmoid(x) * (1 - sigmoid(x))``, exact in both tails (``z * (1 - z)`` is 0
    once ``z`` rounds to 1)."""
    e = np.exp(-np.abs(x))
    return e / (1.0 + e) ** 2


elementwise(_sigmoid_slope)


@adjoint(ops.sigmoid)
def sigmoid(z, input):
    d[input] = d[z] * _sigmoid_slope(input)


@adjoint(ops.relu)
def relu(z, input):
    d[input] = d[z] * (input > 0)


@adjoint(ops.tanh)
def tanh(z, input):
    d[input] = d[z] * (1 - z * z)


@adjoint(ops.softplus)
def softplus(z, input, beta=1, threshold=20):
    d[input] = _softplus_grad(d[z], input, beta, threshold)


@adjoint(ops.softmax)
def softmax(z, input, axis=-1, *, dtype=None):
    d[input] = _cast(z * (d[z] - np.sum(d[z] * z, axis=axis, keepdims=True)), input)


@adjoint(ops.log_softmax)
def log_softmax(z, logits, axis=-1):
    d[logits] = d[z] - np.exp(z) * np.sum(d[z], axis=axis, keepdims=True)


@adjoint(ops.sum)
def sum_(z, input, dim=None, keepdim=False, *, dtype=None):
    d[input] = _sum_grad(d[z], input, dim, keepdim)


@adjoint(ops.mean)
def mean(z, input, axis=None, keep_dims=False):
    d[input] = _sum_grad(d[z], input, axis, keep_dims) / _count(input, axis)


@adjoint(ops.reshape)
def reshape(z, input, shape):
    d[input] = np.reshape(d[z], np.shape(input))


@adjoint(ops.flatten)
def flatten(z, input, order="C", *, start_dim=1, end_dim=-1):
    d[input] = np.reshape(d[z], np.shape(input), order=order)


@adjoint(ops.squeeze)
def squeeze(z, input, axis=None):
    d[input] = np.reshape(d[z], np.shape(input))


@adjoint(ops.expand_dims)
def expand_dims(z, input_x, axis):
    d[input_x] = np.reshape(d[z], np.shape(input_x))


@adjoint(ops.transpose)
def transpose(z, input, input_perm):
    d[input] = np.transpose(d[z], np.argsort(input_perm))


@adjoint(ops.concat)
def concat(z, tensors, axis=0):
    d[tensors] = _concat_grad(d[z], tensors, axis)


@adjoint(ops.binary_cross_entropy_with_logits)
def binary_cross_entropy_with_logits(z, input, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    d[input] = _bce_logits_grad_input(d[z], input, target, weight, pos_weight, reduction)
    d[target] = _bce_logits_grad_target(d[z], input, target, weight, pos_weight, reduction)
    d[weight] = _bce_logits_grad_weight(d[z], input, target, weight, pos_weight, reduction)
    d[pos_weight] = _bce_logits_grad_pos_weight(d[z], input, target, weight, pos_weight,
                                                reduction)


@adjoint(ops.binary_cross_entropy_with_logits, when={"weight": None, "pos_weight": None})
def binary_cross_entropy_with_logits_unweighted(z, input, target, weight=None,
                                                pos_weight=None, reduction="mean"):
    # (the rule above with weight = pos_weight = 1: t * (s - 1) + (1 - t) * s is s - t,
    # and softplus(-x) - softplus(x) is -x)
    d[input] = _cast((_bce_sigmoid(input) - target) * _bce_logits_seed(d[z], input, reduction),
                     input)
    d[target] = _cast(-input * _bce_logits_seed(d[z], input, reduction), target)


@adjoint(ops.binary_cross_entropy)
def binary_cross_entropy(z, logits, labels, weight=None, reduction="mean"):
    d[logits] = _bce_grad_logits(d[z], logits, labels, weight, reduction)
    d[labels] = _bce_grad_labels(d[z], logits, labels, weight, reduction)
    d[weight] = _bce_grad_weight(d[z], logits, labels, weight, reduction)


@adjoint(ops.cross_entropy)
def cross_entropy(z, input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    d[input] = _ce_grad_input(d[z], input, target, weight, ignore_index, reduction,
                              label_smoothing)
    d[target] = _ce_grad_target(d[z], input, target, weight, ignore_index, reduction,
                                label_smoothing)
    d[weight] = _ce_grad_weight(d[z], z, input, target, weight, ignore_index, reduction,
                                label_smoothing)


@adjoint(ops.mse_loss)
def mse_loss(z, input, target, reduction="mean"):
    d[input] = _mse_grad(d[z], input, target, reduction, 1)
    d[target] = _mse_grad(d[z], input, target, reduction, -1)


@adjoint(ops.l1_loss)
def l1_loss(z, input, target, reduction="mean"):
    d[input] = _l1_grad(d[z], input, target, reduction, 1)
    d[target] = _l1_grad(d[z], input, target, reduction, -1)


# --------------------------------------------------------------------------
# more elementwise math and activations
# --------------------------------------------------------------------------
@adjoint(ops.tan)
def tan(z, input):
    d[input] = d[z] * (1 + z * z)


@adjoint(ops.atan)
def atan(z, input):
    d[input] = d[z] / (1 + input * input)


@adjoint(ops.sinh)
def sinh(z, input):
    d[input] = d[z] * np.cosh(input)


@adjoint(ops.cosh)
def cosh(z, input):
    d[input] = d[z] * np.sinh(input)


@adjoint(ops.log1p)
def log1p(z, input):
    d[input] = d[z] / (1 + input)


@adjoint(ops.expm1)
def expm1(z, input):
    d[input] = d[z] * (z + 1)


@adjoint(ops.rsqrt)
def rsqrt(z, input):
    d[input] = -0.5 * d[z] * z / input


@adjoint(ops.reciprocal)
def reciprocal(z, input):
    d[input] = _cast(-d[z] * z * z, input)


@adjoint(ops.leaky_relu)
def leaky_relu(z, input, alpha=0.2):
    d[input] = d[z] * np.where(input > 0, 1, alpha).astype(np.result_type(d[z]), copy=False)


@adjoint(ops.silu)
def silu(z, input):
    d[input] = d[z] * (ops.sigmoid(input) + input * _sigmoid_slope(input))


@adjoint(ops.elu)
def elu(z, input_x, alpha=1.0):
    d[input_x] = d[z] * np.where(input_x > 0, 1, z + alpha).astype(np.result_type(d[z]),
                                                                  copy=False)


@adjoint(ops.relu6)
def relu6(z, x):
    d[x] = d[z] * ((x > 0) & (x < 6))


@adjoint(ops.depend)
def depend(z, value, expr):
    d[value] = d[z]


@adjoint(ops.cast)
def cast(z, input, dtype):
    d[input] = _cast(d[z], input)
