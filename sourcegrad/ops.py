"""MindSpore-named functional ops on NumPy arrays.

Each op is a plain NumPy function: sourcegrad does not differentiate its
source but uses the derivative rule registered for it in
``sourcegrad/rules/ops.py``.  (``dropout`` is the exception: it is written
from ops that have rules and is differentiated from source, so its gradient
reuses the very mask the forward pass drew.)  Names and parameters follow
MindSpore 2.x, so MindSpore code runs with only its imports changed.

Usage::

    >>> import numpy as np
    >>> from sourcegrad import ops
    >>> x = ops.ones(5, np.float32)
    >>> w = np.full((5, 3), 0.1, np.float32)
    >>> ops.binary_cross_entropy_with_logits(ops.matmul(x, w), ops.zeros(3))
    ...                                                    # doctest: +ELLIPSIS
    np.float32(0.974...)
"""
from __future__ import annotations

import builtins

import numpy as np

from sourcegrad._gradop import GradOperation, get_grad
from sourcegrad.api import grad, value_and_grad  # noqa: F401  (MindSpore's ops.grad is grad)

# Keep the builtins we shadow (sum, abs, pow) reachable inside this module.
_sum = builtins.sum
_REDUCTIONS = ("mean", "sum", "none")

__all__ = [
    "ones", "zeros", "ones_like", "zeros_like", "full", "stop_gradient",
    "matmul", "dense", "add", "sub", "mul", "div", "neg", "pow", "square",
    "sqrt", "abs", "exp", "log", "sin", "cos", "maximum", "minimum",
    "sigmoid", "relu", "tanh", "softplus", "softmax", "log_softmax", "sum",
    "mean", "reshape", "transpose", "concat", "cat", "flatten", "squeeze",
    "expand_dims", "argmax", "dropout",
    "binary_cross_entropy_with_logits", "binary_cross_entropy",
    "cross_entropy", "mse_loss", "l1_loss",
    # more elementwise math and activations (each with a rule)
    "tan", "atan", "sinh", "cosh", "log1p", "expm1", "rsqrt", "reciprocal",
    "leaky_relu", "silu", "elu", "relu6", "sign", "floor", "ceil", "round", "argmin",
    "depend", "cast", "mm", "bmm",
    # one-line wrappers of NumPy functions, differentiated from their source
    "where", "clamp", "clip", "stack", "unsqueeze", "broadcast_to", "tile",
    "logsumexp", "amax", "amin", "prod", "cumsum",
    # MindSpore's functional gradient helpers
    "get_grad", "GradOperation",
]


# --------------------------------------------------------------------------
# creation (no gradient)
# --------------------------------------------------------------------------
def _shape(shape, where: str) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        if isinstance(shape, (str, bytes)):
            raise TypeError
        return tuple(int(n) for n in shape)
    except TypeError:
        raise TypeError(f"{where}: shape must be an int or a tuple/list of ints, "
                        f"got {type(shape).__name__} {shape!r}") from None


def ones(shape, dtype=None) -> np.ndarray:
    """An array of ones; ``dtype`` defaults to float32 (as in MindSpore).

    Example: ``ops.ones(5, sg.float32)`` -> ``array([1., 1., 1., 1., 1.], dtype=float32)``
    """
    return np.ones(_shape(shape, "ops.ones"), np.float32 if dtype is None else dtype)


def zeros(shape, dtype=None) -> np.ndarray:
    """An array of zeros; ``dtype`` defaults to float32. Example: ``ops.zeros((2, 3))``."""
    return np.zeros(_shape(shape, "ops.zeros"), np.float32 if dtype is None else dtype)


def full(size, fill_value, *, dtype=None) -> np.ndarray:
    """An array of ``fill_value``. Example: ``ops.full((2, 2), 0.5)``."""
    if dtype is None and isinstance(fill_value, float):
        dtype = np.float32  # a Python float makes a float32 tensor in MindSpore
    return np.full(_shape(size, "ops.full"), fill_value, dtype)


def ones_like(input, *, dtype=None) -> np.ndarray:
    """Ones with the shape (and dtype, unless given) of ``input``. Example: ``ops.ones_like(z)``."""
    # subok=False: ones shaped like a Parameter are not a Parameter.
    return np.ones_like(input, dtype=dtype, subok=False)


def zeros_like(input, *, dtype=None) -> np.ndarray:
    """Zeros with the shape (and dtype, unless given) of ``input``.

    Example: ``ops.zeros_like(z)``.
    """
    return np.zeros_like(input, dtype=dtype, subok=False)


def stop_gradient(value):
    """Identity at run time; sourcegrad emits no gradient through it.

    Works on arrays, numbers and tuples. Example: ``return loss, ops.stop_gradient(z)``.
    """
    return value


# --------------------------------------------------------------------------
# linear algebra and arithmetic
# --------------------------------------------------------------------------
def matmul(input, other) -> np.ndarray:
    """Matrix product with NumPy's 1-D/batched rules. Example: ``ops.matmul(x, w)``."""
    return np.matmul(input, other)


def dense(input, weight, bias=None) -> np.ndarray:
    """``input @ weight.T + bias`` with ``weight`` of shape (out, in).

    Example: ``ops.dense(x, w, b)``.
    """
    out = np.matmul(input, np.swapaxes(weight, -1, -2) if np.ndim(weight) > 1 else weight)
    if bias is not None:
        out = out + bias
    return out


def add(input, other) -> np.ndarray:
    """``input + other`` with broadcasting. Example: ``ops.add(x, 1.0)``."""
    return np.add(input, other)


def sub(input, other) -> np.ndarray:
    """``input - other`` with broadcasting. Example: ``ops.sub(x, y)``."""
    return np.subtract(input, other)


def mul(input, other) -> np.ndarray:
    """``input * other`` with broadcasting. Example: ``ops.mul(x, y)``."""
    return np.multiply(input, other)


def div(input, other, *, rounding_mode=None) -> np.ndarray:
    """``input / other``; ``rounding_mode`` ``'floor'`` or ``'trunc'`` rounds.

    Example: ``ops.div(x, 2.0)``.
    """
    if rounding_mode is None:
        return np.true_divide(input, other)
    if rounding_mode == "floor":
        return np.floor_divide(input, other)
    if rounding_mode == "trunc":
        return np.trunc(np.true_divide(input, other)).astype(np.result_type(input, other))
    raise ValueError(f"ops.div: rounding_mode must be None, 'floor' or 'trunc', "
                     f"got {rounding_mode!r}")


def neg(input) -> np.ndarray:
    """``-input``. Example: ``ops.neg(x)``."""
    return np.negative(input)


def pow(input, exponent) -> np.ndarray:
    """``input ** exponent`` with broadcasting. Example: ``ops.pow(x, 2)``."""
    return np.power(input, exponent)


def square(input) -> np.ndarray:
    """``input * input``. Example: ``ops.square(x)``."""
    return np.square(input)


def sqrt(x) -> np.ndarray:
    """Elementwise square root. Example: ``ops.sqrt(x)``."""
    return np.sqrt(x)


def abs(input) -> np.ndarray:
    """Elementwise absolute value. Example: ``ops.abs(x)``."""
    return np.abs(input)


def exp(input) -> np.ndarray:
    """Elementwise ``e ** input``. Example: ``ops.exp(x)``."""
    return np.exp(input)


def log(input) -> np.ndarray:
    """Elementwise natural logarithm. Example: ``ops.log(x)``."""
    return np.log(input)


def sin(input) -> np.ndarray:
    """Elementwise sine. Example: ``ops.sin(x)``."""
    return np.sin(input)


def cos(input) -> np.ndarray:
    """Elementwise cosine. Example: ``ops.cos(x)``."""
    return np.cos(input)


def maximum(input, other) -> np.ndarray:
    """Elementwise maximum (gradient split evenly on ties). Example: ``ops.maximum(x, 0.0)``."""
    return np.maximum(input, other)


def minimum(input, other) -> np.ndarray:
    """Elementwise minimum (gradient split evenly on ties). Example: ``ops.minimum(x, 1.0)``."""
    return np.minimum(input, other)


# --------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------
def sigmoid(input) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))``, without overflow. Example: ``ops.sigmoid(z)``."""
    e = np.exp(-np.abs(input))  # in (0, 1]: never overflows
    d = 1.0 + e
    if isinstance(input, np.ndarray) and input.ndim and type(e) is np.ndarray:
        # fast path: e is a new array, so the numerators are chosen in place (1 where
        # input >= 0, else e) and divided once: the same values, fewer NumPy calls
        e[input >= 0.0] = 1.0
        return e / d
    return np.where(np.greater_equal(input, 0), 1 / d, e / d)


def relu(input) -> np.ndarray:
    """``max(x, 0)``. Example: ``ops.relu(x)``."""
    return np.maximum(input, 0)


def tanh(input) -> np.ndarray:
    """Hyperbolic tangent. Example: ``ops.tanh(x)``."""
    return np.tanh(input)


def softplus(input, beta=1, threshold=20) -> np.ndarray:
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Example: ``ops.softplus(x)``.
    """
    bx = np.multiply(input, beta)
    return np.where(bx > threshold, input, np.logaddexp(0, bx) / beta)


def softmax(input, axis=-1, *, dtype=None) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``axis``. Example: ``ops.softmax(logits)``."""
    x = np.asarray(input, dtype=dtype)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(logits, axis=-1) -> np.ndarray:
    """``x - logsumexp(x)`` along ``axis``. Example: ``ops.log_softmax(logits)``."""
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


# --------------------------------------------------------------------------
# reductions and shapes
# --------------------------------------------------------------------------
def _axes(axis):
    """MindSpore accepts lists of axes; NumPy wants a tuple."""
    return tuple(axis) if isinstance(axis, list) else axis


def sum(input, dim=None, keepdim=False, *, dtype=None) -> np.ndarray:
    """Sum over ``dim`` (all axes by default). Example: ``ops.sum(x, dim=1, keepdim=True)``."""
    return np.sum(input, axis=_axes(dim), keepdims=keepdim, dtype=dtype)


def mean(input, axis=None, keep_dims=False) -> np.ndarray:
    """Mean over ``axis`` (all axes by default). Example: ``ops.mean(x, axis=0)``."""
    return np.mean(input, axis=_axes(axis), keepdims=keep_dims)


def argmax(input, dim=None, keepdim=False) -> np.ndarray:
    """Index of the largest value along ``dim`` (flattened if None).

    Example: ``ops.argmax(logits, dim=1)``.
    """
    return np.argmax(input, axis=dim, keepdims=keepdim)


def reshape(input, shape) -> np.ndarray:
    """``input`` with a new shape (-1 infers one size). Example: ``ops.reshape(x, (2, -1))``."""
    return np.reshape(input, shape)


def transpose(input, input_perm) -> np.ndarray:
    """Permute the axes: axis ``i`` of the result is ``input_perm[i]``.

    Example: ``ops.transpose(x, (1, 0))``.
    """
    return np.transpose(input, input_perm)


def concat(tensors, axis=0) -> np.ndarray:
    """Join a tuple/list of arrays along ``axis``. Example: ``ops.concat((a, b), axis=1)``."""
    return np.concatenate(tensors, axis=axis)


cat = concat  # MindSpore has both names for the same op


def flatten(input, order="C", *, start_dim=1, end_dim=-1) -> np.ndarray:
    """Merge axes ``start_dim..end_dim`` into one.

    Example: ``ops.flatten(images)`` -> (N, C*H*W).
    """
    shape = np.shape(input)
    if len(shape) == 0:
        return np.reshape(input, (1,))
    start = start_dim % len(shape)
    end = end_dim % len(shape)
    if start > end:
        raise ValueError(f"ops.flatten: start_dim ({start_dim}) must not come after "
                         f"end_dim ({end_dim}) for an input of {len(shape)} dims")
    return np.reshape(input, shape[:start] + (-1,) + shape[end + 1:], order=order)


def squeeze(input, axis=None) -> np.ndarray:
    """Remove axes of size 1. Example: ``ops.squeeze(x, 1)``."""
    return np.squeeze(input, axis=_axes(axis))


def expand_dims(input_x, axis) -> np.ndarray:
    """Insert an axis of size 1 at ``axis``. Example: ``ops.expand_dims(x, 0)``."""
    return np.expand_dims(input_x, axis)


# --------------------------------------------------------------------------
# dropout (differentiated from source, see the module docstring)
# --------------------------------------------------------------------------
def _dropout_mask(input, p, seed):
    """A keep-mask shaped like ``input``, scaled by 1/(1-p).

    Draws from NumPy's global RNG (so ``np.random.seed`` makes it
    repeatable) unless ``seed`` is given.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"ops.dropout: p is the probability of zeroing an element "
                         f"and must lie in [0, 1], got {p!r}")
    dtype = np.result_type(input, np.float32)
    shape = np.shape(input)
    if p == 1:
        return np.zeros(shape, dtype)
    rng = np.random if seed is None else np.random.default_rng(seed)
    return (rng.random(shape) >= p).astype(dtype) / np.asarray(1 - p, dtype)


def dropout(input, p=0.5, training=True, seed=None):
    """Zero each element with probability ``p``, scale the rest by 1/(1-p).

    Identity when ``training`` is False. Example: ``ops.dropout(h, p=0.1)``.
    """
    # Plain, single-exit Python: sourcegrad differentiates this from source.
    out = input
    if training:
        mask = _dropout_mask(input, p, seed)
        out = input * mask
    return out


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------
def _check_reduction(reduction, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        if type(loss) is np.ndarray and loss.dtype.kind == "f" and loss.dtype.itemsize > 2 \
                and loss.size:
            # fast path: what np.mean does for a float32/64 array, without its overhead
            total = np.add.reduce(loss, axis=None)
            return total.dtype.type(total / np.intp(loss.size))
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def _check_float(value, what: str, op: str) -> None:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return  # fast path: a float array
    if isinstance(value, (list, tuple)):
        raise TypeError(f"{op}: {what} must be an array, got a {type(value).__name__}; "
                        f"wrap it: Tensor({what}) or np.asarray({what}, np.float32)")
    if not np.issubdtype(np.result_type(value), np.floating):
        raise TypeError(f"{op}: {what} must be a float array, got dtype "
                        f"{np.result_type(value)}; cast it, e.g. {what}.astype(np.float32)")


def _check_broadcast(value, shape, what: str, op: str) -> None:
    if isinstance(value, np.ndarray) and value.shape == shape:
        return  # fast path: the same shape
    try:
        np.broadcast_shapes(np.shape(value), shape)
    except ValueError:
        raise ValueError(f"{op}: {what} of shape {np.shape(value)} does not broadcast "
                         f"to the input's shape {shape}") from None


def _bce_logits_elements(input, target, weight, pos_weight):
    """Unreduced BCE-with-logits loss, via softplus so large |x| stay finite."""
    # -log(sigmoid(x)) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x)
    # (float constants: the same values as ints here, and NumPy converts them faster)
    pos = target * np.logaddexp(0.0, -input)
    if pos_weight is not None:
        pos = pos * pos_weight
    loss = pos + (1.0 - target) * np.logaddexp(0.0, input)
    if weight is not None:
        loss = loss * weight
    return loss


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    """Binary cross-entropy on logits, MindSpore's formula, computed stably.

    ``loss = -weight * (pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))``
    then averaged (``'mean'``), summed (``'sum'``) or kept (``'none'``).

    Example::

        >>> ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
        ...                                                     # doctest: +SKIP
    """
    if weight is None and pos_weight is None and type(input) is np.ndarray \
            and type(target) is np.ndarray and input.shape == target.shape \
            and input.dtype.kind == "f" and target.dtype.kind == "f" and reduction in _REDUCTIONS:
        # fast path: the checks below, written out for two float arrays of one shape
        return _reduce(_bce_logits_elements(input, target, None, None), reduction)
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    _check_float(input, "input", op)
    _check_float(target, "target", op)
    shape = input.shape if isinstance(input, np.ndarray) else np.shape(input)
    if shape != (target.shape if isinstance(target, np.ndarray) else np.shape(target)):
        raise ValueError(f"{op}: input and target must have the same shape, got "
                         f"{np.shape(input)} and {np.shape(target)}")
    if weight is not None:
        _check_float(weight, "weight", op)
        _check_broadcast(weight, shape, "weight", op)
    if pos_weight is not None:
        _check_float(pos_weight, "pos_weight", op)
        _check_broadcast(pos_weight, shape, "pos_weight", op)
    return _reduce(_bce_logits_elements(input, target, weight, pos_weight), reduction)


def _bce_log_terms(input):
    """log(p) and log(1-p), clamped at -100 like MindSpore/PyTorch so p=0 or 1 stays finite."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(input), -100), np.maximum(np.log1p(-input), -100)


def binary_cross_entropy(logits, labels, weight=None, reduction="mean"):
    """Binary cross-entropy on probabilities ``logits`` in [0, 1].

    ``loss = -weight * (labels * log(p) + (1 - labels) * log(1 - p))``, logs clamped
    at -100. Example: ``ops.binary_cross_entropy(ops.sigmoid(z), y)``.
    """
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    _check_float(logits, "logits", op)
    if weight is not None:
        _check_broadcast(weight, np.shape(logits), "weight", op)
    log_p, log_q = _bce_log_terms(logits)
    loss = -(labels * log_p + (1 - labels) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _ce_coefficients(input, target, weight, ignore_index, reduction, label_smoothing):
    """Split cross-entropy as ``sum(-coef * log_softmax(input)) / denom``.

    ``coef`` (shaped like ``input``) does not depend on ``input``, so the
    forward pass and the derivative rule share this function.  Returns
    ``(coef, denom, class_axis)``; ``denom`` is the 'mean' divisor (1 else).
    """
    x = np.asarray(input)
    axis = 1 if x.ndim >= 2 else 0
    n_classes = x.shape[axis]
    bshape = [1] * x.ndim  # a class-axis vector broadcast against input
    bshape[axis] = n_classes
    w = None if weight is None else np.reshape(weight, bshape)
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.floating):
        # probability targets: same shape as input
        if t.shape != x.shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's "
                             f"shape {x.shape}, got {t.shape}")
        coef = t * (1 - label_smoothing) + label_smoothing / n_classes
        if w is not None:
            coef = coef * w
        denom = x.size // n_classes if reduction == "mean" else 1
        return coef.astype(x.dtype, copy=False), denom, axis
    # class-index targets: shape of input without the class axis
    expect = x.shape[:axis] + x.shape[axis + 1:]
    if t.shape != expect:
        raise ValueError(f"cross_entropy: class-index target must have shape {expect} "
                         f"for input {x.shape}, got {t.shape}")
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    if np.any((safe < 0) | (safe >= n_classes)):
        raise ValueError(f"cross_entropy: target holds a class index outside "
                         f"[0, {n_classes}) (ignore_index={ignore_index})")
    onehot = np.moveaxis(np.eye(n_classes, dtype=x.dtype)[safe], -1, axis)
    keep_c = np.expand_dims(keep, axis).astype(x.dtype)
    coef = onehot * (1 - label_smoothing) + label_smoothing / n_classes
    coef = coef * keep_c
    if w is not None:
        coef = coef * w
        # PyTorch/MindSpore: the weighted mean divides by the weights of the targets.
        denom = np.sum(np.reshape(weight, -1)[safe] * keep) if reduction == "mean" else 1
    else:
        denom = np.sum(keep) if reduction == "mean" else 1
    return coef.astype(x.dtype, copy=False), denom, axis


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C, ...) and class indices or probabilities.

    Follows MindSpore/PyTorch: ``weight`` rescales classes, targets equal to
    ``ignore_index`` count for nothing, ``label_smoothing`` mixes in the
    uniform distribution. Example: ``ops.cross_entropy(logits, labels)``.
    """
    _check_reduction(reduction, "cross_entropy")
    coef, denom, axis = _ce_coefficients(input, target, weight, ignore_index, reduction,
                                         label_smoothing)
    loss = -np.sum(coef * log_softmax(input, axis), axis=axis)
    if reduction == "none":
        return loss
    return (np.sum(loss) / denom).astype(loss.dtype)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error ``(input - target) ** 2``, reduced. Example: ``ops.mse_loss(pred, y)``."""
    _check_reduction(reduction, "mse_loss")
    return _reduce(np.square(np.subtract(input, target)), reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error ``|input - target|``, reduced. Example: ``ops.l1_loss(pred, y)``."""
    _check_reduction(reduction, "l1_loss")
    return _reduce(np.abs(np.subtract(input, target)), reduction)


# --------------------------------------------------------------------------
# more elementwise math and activations (rules in sourcegrad/rules/ops.py)
# --------------------------------------------------------------------------
def tan(input) -> np.ndarray:
    """Elementwise tangent. Example: ``ops.tan(x)``."""
    return np.tan(input)


def atan(input) -> np.ndarray:
    """Elementwise arctangent. Example: ``ops.atan(x)``."""
    return np.arctan(input)


def sinh(input) -> np.ndarray:
    """Elementwise hyperbolic sine. Example: ``ops.sinh(x)``."""
    return np.sinh(input)


def cosh(input) -> np.ndarray:
    """Elementwise hyperbolic cosine. Example: ``ops.cosh(x)``."""
    return np.cosh(input)


def log1p(input) -> np.ndarray:
    """Elementwise ``log(1 + x)``. Example: ``ops.log1p(x)``."""
    return np.log1p(input)


def expm1(input) -> np.ndarray:
    """Elementwise ``exp(x) - 1``. Example: ``ops.expm1(x)``."""
    return np.expm1(input)


def rsqrt(input) -> np.ndarray:
    """Elementwise ``1 / sqrt(x)``. Example: ``ops.rsqrt(x)``."""
    return 1 / np.sqrt(input)


def reciprocal(input) -> np.ndarray:
    """Elementwise ``1 / x``. Example: ``ops.reciprocal(x)``."""
    return np.reciprocal(np.asarray(input, dtype=np.result_type(input, np.float32)))


def leaky_relu(input, alpha=0.2) -> np.ndarray:
    """``x`` where positive, ``alpha * x`` elsewhere. Example: ``ops.leaky_relu(x, 0.1)``."""
    return np.where(np.greater(input, 0), input, np.multiply(input, alpha))


def silu(input) -> np.ndarray:
    """``x * sigmoid(x)``. Example: ``ops.silu(x)``."""
    return np.multiply(input, sigmoid(input))


def elu(input_x, alpha=1.0) -> np.ndarray:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere. Example: ``ops.elu(x)``."""
    return np.where(np.greater(input_x, 0), input_x,
                    np.multiply(alpha, np.expm1(np.minimum(input_x, 0))))


def relu6(x) -> np.ndarray:
    """``min(max(x, 0), 6)``. Example: ``ops.relu6(x)``."""
    return np.minimum(np.maximum(x, 0), 6)


def sign(input) -> np.ndarray:
    """-1, 0 or 1 by the sign of each element (no gradient). Example: ``ops.sign(x)``."""
    return np.sign(input)


def floor(input) -> np.ndarray:
    """Round down (no gradient). Example: ``ops.floor(x)``."""
    return np.floor(input)


def ceil(input) -> np.ndarray:
    """Round up (no gradient). Example: ``ops.ceil(x)``."""
    return np.ceil(input)


def round(input) -> np.ndarray:
    """Round half to even (no gradient). Example: ``ops.round(x)``."""
    return np.round(input)


def argmin(input, axis=None, keepdims=False) -> np.ndarray:
    """Index of the smallest value along ``axis``. Example: ``ops.argmin(x, 1)``."""
    return np.argmin(input, axis=axis, keepdims=keepdims)


def depend(value, expr):
    """``value``, once ``expr`` has been computed (MindSpore orders side effects
    in graph mode with it; Python already runs ``expr`` first).

    Example: ``loss = ops.depend(loss, optimizer(grads))``.
    """
    return value


def cast(input, dtype) -> np.ndarray:
    """``input`` converted to ``dtype``. Example: ``ops.cast(x, sg.float32)``."""
    return np.asarray(input).astype(dtype)


mm = matmul   # MindSpore's 2-D matrix product
bmm = matmul  # batched matrix product


# --------------------------------------------------------------------------
# one-line wrappers of NumPy functions: sourcegrad differentiates them from
# their source, through NumPy's rules
# --------------------------------------------------------------------------
def where(condition, input, other) -> np.ndarray:
    """``input`` where ``condition`` holds, else ``other``. Example: ``ops.where(x > 0, x, 0.)``."""
    return np.where(condition, input, other)


def clamp(input, min=None, max=None) -> np.ndarray:
    """``input`` limited to ``[min, max]`` (either may be None). Example: ``ops.clamp(x, 0, 1)``."""
    return np.clip(input, min, max)


clip = clamp  # MindSpore has both names


def stack(tensors, axis=0) -> np.ndarray:
    """Stack arrays of one shape along a new ``axis``. Example: ``ops.stack((a, b))``."""
    return np.stack(tensors, axis=axis)


def unsqueeze(input, dim) -> np.ndarray:
    """Insert an axis of size 1 at ``dim``. Example: ``ops.unsqueeze(x, 0)``."""
    return np.expand_dims(input, dim)


def broadcast_to(input, shape) -> np.ndarray:
    """``input`` broadcast to ``shape``. Example: ``ops.broadcast_to(b, (4, 3))``."""
    return np.broadcast_to(input, shape)


def tile(input, dims) -> np.ndarray:
    """``input`` repeated ``dims[i]`` times along axis ``i``. Example: ``ops.tile(x, (2, 1))``."""
    return np.tile(input, dims)


def logsumexp(input, axis, keep_dims=False) -> np.ndarray:
    """``log(sum(exp(x)))`` along ``axis``, without overflow. Example: ``ops.logsumexp(x, 1)``."""
    m = stop_gradient(np.max(input, axis=_axes(axis), keepdims=True))
    out = np.log(np.sum(np.exp(input - m), axis=_axes(axis), keepdims=True)) + m
    if not keep_dims:
        out = np.squeeze(out, axis=_axes(axis))
    return out


def amax(input, axis=None, keepdims=False) -> np.ndarray:
    """The largest value along ``axis`` (all by default). Example: ``ops.amax(x, 1)``."""
    return np.amax(input, axis=_axes(axis), keepdims=keepdims)


def amin(input, axis=None, keepdims=False) -> np.ndarray:
    """The smallest value along ``axis`` (all by default). Example: ``ops.amin(x, 1)``."""
    return np.amin(input, axis=_axes(axis), keepdims=keepdims)


def prod(input, axis=None, keep_dims=False) -> np.ndarray:
    """Product over ``axis`` (all by default). Example: ``ops.prod(x, 1)``."""
    return np.prod(input, axis=_axes(axis), keepdims=keep_dims)


def cumsum(input, axis, dtype=None) -> np.ndarray:
    """Running sum along ``axis``. Example: ``ops.cumsum(x, 0)``."""
    return np.cumsum(input, axis=axis, dtype=dtype)


# -- MindSpore's primitive classes -------------------------------------------
# Older MindSpore code creates an operator object in ``__init__``
# (``self.matmul = ops.MatMul()``) and calls it in ``construct``.  Each class
# here stores its attributes and calls the functional op above in
# ``__call__``; sourcegrad differentiates that ``__call__`` from its source, so
# the gradient comes from the functional op's rule:
#
#     >>> ops.ReduceSum(keep_dims=True)(np.ones((2, 3)), 1)
#     array([[3.],
#            [3.]])

PRIMITIVES = [
    "Primitive", "Sin", "Cos", "Tan", "Exp", "Log", "Abs", "Neg", "Square", "Sqrt", "Rsqrt",
    "Reciprocal", "Pow", "Add", "Sub", "Mul", "Div", "RealDiv", "Maximum", "Minimum",
    "MatMul", "BatchMatMul", "BiasAdd", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
    "ReduceProd", "Sigmoid", "ReLU", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "Reshape", "Transpose", "Concat", "Stack", "ExpandDims", "Squeeze", "Flatten", "Tile",
    "BroadcastTo", "Select", "OnesLike", "ZerosLike", "Cast", "Shape", "Argmax", "Depend",
]
__all__ += PRIMITIVES


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
