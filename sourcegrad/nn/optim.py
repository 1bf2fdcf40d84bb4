"""Optimizers: ``SGD``, ``Momentum``, ``Adam`` (MindSpore's signatures and update math).

Call an optimizer with the tuple of gradients (in the order of its
parameters, e.g. from ``value_and_grad(..., weights=model.trainable_params())``);
it updates every Parameter **in place** and returns True.

Usage::

    >>> opt = nn.SGD(model.trainable_params(), learning_rate=0.1)   # doctest: +SKIP
    >>> loss, grads = grad_fn(x, y)                                  # doctest: +SKIP
    >>> opt(grads)                                                   # doctest: +SKIP
    True
"""
from __future__ import annotations

import math

import numpy as np

from sourcegrad.nn.cell import Cell
from sourcegrad.tensor import Parameter

__all__ = ["Optimizer", "SGD", "Momentum", "Adam"]


def _default_decay_filter(param) -> bool:
    # MindSpore's default: no weight decay on normalisation scales and shifts.
    return "beta" not in param.name and "gamma" not in param.name


class Optimizer(Cell):
    """Base class: holds the parameters, the learning rate and weight decay.

    ``params`` is an iterable of Parameters, or of dicts ``{'params': [...],
    'lr': ..., 'weight_decay': ...}`` (parameter groups).  ``learning_rate``
    is a number, a per-step sequence (its last value is kept after the end)
    or a callable ``step -> lr``.  Weight decay adds ``weight_decay * p`` to
    the gradient (L2), skipping parameters whose names contain 'beta' or
    'gamma', as MindSpore does.
    """

    def __init__(self, learning_rate, parameters, weight_decay=0.0, loss_scale=1.0):
        super().__init__(auto_prefix=False)
        params, lrs, decays = [], [], []
        for i, item in enumerate(self._as_list(parameters)):
            group = item if isinstance(item, dict) else {"params": [item]}
            for p in self._as_list(group["params"]):
                if not isinstance(p, Parameter):
                    raise TypeError(
                        f"{type(self).__name__}: item {i} of params is a {type(p).__name__}, "
                        f"not a Parameter; pass model.trainable_params()")
                params.append(p)
                lrs.append(group.get("lr", learning_rate))
                decays.append(float(group.get("weight_decay", weight_decay))
                              if _default_decay_filter(p) or "weight_decay" in group else 0.0)
        if not params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimize; pass "
                             f"model.trainable_params()")
        if loss_scale <= 0:
            raise ValueError(f"{type(self).__name__}: loss_scale must be > 0, got {loss_scale}")
        # A plain tuple (not registered as the cell's own Parameters).
        self.parameters = tuple(params)
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.loss_scale = loss_scale
        self._lrs = lrs
        self._decays = decays
        self.global_step = 0

    @staticmethod
    def _as_list(items):
        if isinstance(items, (Parameter, dict)):
            return [items]
        return list(items)

    @staticmethod
    def _lr_at(lr, step):
        if callable(lr):
            return float(lr(step))
        if isinstance(lr, (list, tuple, np.ndarray)) and np.ndim(lr) == 1:
            return float(lr[min(step, len(lr) - 1)])
        return float(lr)

    def get_lr(self):
        """The learning rate used by the next step (one per parameter if they differ)."""
        lrs = [self._lr_at(lr, self.global_step) for lr in self._lrs]
        return lrs[0] if len(set(lrs)) == 1 else tuple(lrs)

    def _prepare(self, gradients):
        gradients = tuple(gradients) if not isinstance(gradients, np.ndarray) else (gradients,)
        if len(gradients) != len(self.parameters):
            raise ValueError(
                f"{type(self).__name__} got {len(gradients)} gradients for "
                f"{len(self.parameters)} parameters; pass the gradient tuple of "
                f"weights=optimizer.parameters (same order)")
        out = []
        for p, g, wd in zip(self.parameters, gradients, self._decays):
            if g is None or np.shape(g) != p.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient for Parameter {p.name!r} has shape "
                    f"{np.shape(g) if g is not None else None}, expected {p.shape}")
            g = np.asarray(g)
            if self.loss_scale != 1.0:
                g = g / self.loss_scale
            if wd:
                g = g + wd * p
            out.append(g)
        return out

    def construct(self, gradients):
        grads = self._prepare(gradients)
        step = self.global_step
        for i, (p, g) in enumerate(zip(self.parameters, grads)):
            self._update(i, p, g, self._lr_at(self._lrs[i], step))
        self.global_step = step + 1
        return True

    def _update(self, i, param, grad, lr):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    ``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` on the first
    step); ``p -= lr * (g + momentum * buf if nesterov else buf)``.

    Example: ``nn.SGD(net.trainable_params(), learning_rate=0.01, momentum=0.9)``.
    """

    def __init__(self, params, learning_rate=0.1, momentum=0.0, dampening=0.0,
                 weight_decay=0.0, nesterov=False, loss_scale=1.0):
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        if momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.nesterov = bool(nesterov)
        self.accum = [None] * len(self.parameters)

    def _update(self, i, param, grad, lr):
        if self.momentum == 0:
            param -= lr * grad
            return
        buf = self.accum[i]
        if buf is None:
            buf = self.accum[i] = np.array(grad, dtype=param.dtype)
        else:
            buf *= self.momentum
            buf += (1 - self.dampening) * grad
        step = grad + self.momentum * buf if self.nesterov else buf
        param -= lr * step


class Momentum(Optimizer):
    """Momentum SGD (MindSpore's ApplyMomentum): ``a = momentum * a + g; p -= lr * a``.

    With ``use_nesterov``: ``p -= lr * (g + momentum * a)``.
    Example: ``nn.Momentum(net.trainable_params(), learning_rate=0.01, momentum=0.9)``.
    """

    def __init__(self, params, learning_rate, momentum, weight_decay=0.0, loss_scale=1.0,
                 use_nesterov=False):
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        if momentum < 0:
            raise ValueError(f"Momentum: momentum must be >= 0, got {momentum}")
        self.momentum = float(momentum)
        self.use_nesterov = bool(use_nesterov)
        self.moments = tuple(np.zeros_like(p, subok=False) for p in self.parameters)

    def _update(self, i, param, grad, lr):
        accum = self.moments[i]
        accum *= self.momentum
        accum += grad
        if self.use_nesterov:
            param -= lr * (grad + self.momentum * accum)
        else:
            param -= lr * accum


class Adam(Optimizer):
    """Adam with MindSpore's update (ApplyAdam).

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
    ``p -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)``.
    Example: ``nn.Adam(net.trainable_params(), learning_rate=1e-3)``.
    """

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                 use_locking=False, use_nesterov=False, weight_decay=0.0, loss_scale=1.0):
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: beta1 and beta2 must be in [0, 1), got {beta1}, {beta2}")
        if eps <= 0:
            raise ValueError(f"Adam: eps must be > 0, got {eps}")
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.eps = float(eps)
        self.use_nesterov = bool(use_nesterov)
        self.moment1 = tuple(np.zeros_like(p, subok=False) for p in self.parameters)
        self.moment2 = tuple(np.zeros_like(p, subok=False) for p in self.parameters)

    def _update(self, i, param, grad, lr):
        t = self.global_step + 1
        m, v = self.moment1[i], self.moment2[i]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * np.square(grad)
        lr_t = lr * math.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)
        if self.use_nesterov:
            num = m * self.beta1 + (1 - self.beta1) * grad
        else:
            num = m
        param -= lr_t * num / (np.sqrt(v) + self.eps)
