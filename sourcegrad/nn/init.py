"""Weight initializers (MindSpore's ``mindspore.common.initializer``).

They draw from NumPy's global RNG, so ``np.random.seed(0)`` makes a model's
initial weights repeatable.

Usage::

    >>> import numpy as np
    >>> from sourcegrad.nn.init import initializer, HeUniform
    >>> w = initializer(HeUniform(), (4, 3))          # float32 array, shape (4, 3)
    >>> b = initializer("zeros", 4)
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Initializer", "Normal", "Uniform", "HeUniform", "HeNormal",
           "XavierUniform", "XavierNormal", "TruncatedNormal", "Constant", "Zero",
           "One", "initializer"]


def _fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) as MindSpore/PyTorch compute them: (out, in, *kernel)."""
    if len(shape) < 2:
        raise ValueError(f"fan_in/fan_out need a shape of at least 2 dims, got {shape}; "
                         f"use Uniform/Normal/Zero for biases")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _gain(nonlinearity: str, param=None) -> float:
    if nonlinearity in ("linear", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}; use 'relu', "
                     f"'leaky_relu', 'tanh', 'sigmoid' or 'linear'")


class Initializer:
    """Base class: ``init(shape, dtype)`` returns a new array of values."""

    def init(self, shape: tuple, dtype=np.float32) -> np.ndarray:
        return np.asarray(self._sample(tuple(shape)), dtype=dtype)

    def __call__(self, arr: np.ndarray) -> None:
        """Fill ``arr`` in place (MindSpore's initializer call convention)."""
        arr[...] = self._sample(np.shape(arr))

    def _sample(self, shape: tuple):
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Normal(Initializer):
    """Normal(mean, sigma**2). Example: ``Normal(0.02)``."""

    def __init__(self, sigma: float = 0.01, mean: float = 0.0):
        self.sigma, self.mean = sigma, mean

    def _sample(self, shape):
        return np.random.normal(self.mean, self.sigma, shape)


class TruncatedNormal(Initializer):
    """Normal(mean, sigma**2) redrawn outside [a, b]. Example: ``TruncatedNormal(0.02)``."""

    def __init__(self, sigma: float = 0.01, mean: float = 0.0, a: float = -2.0,
                 b: float = 2.0):
        self.sigma, self.mean, self.a, self.b = sigma, mean, a, b

    def _sample(self, shape):
        out = np.random.normal(self.mean, self.sigma, shape)
        bad = (out < self.a) | (out > self.b)
        while np.any(bad):
            out[bad] = np.random.normal(self.mean, self.sigma, int(np.sum(bad)))
            bad = (out < self.a) | (out > self.b)
        return out


class Uniform(Initializer):
    """Uniform(-scale, scale). Example: ``Uniform(1 / math.sqrt(fan_in))``."""

    def __init__(self, scale: float = 0.07):
        self.scale = scale

    def _sample(self, shape):
        return np.random.uniform(-self.scale, self.scale, shape)


class HeUniform(Initializer):
    """Kaiming uniform: U(-b, b), b = gain * sqrt(3 / fan). Example: ``HeUniform(math.sqrt(5))``."""

    def __init__(self, negative_slope: float = 0, mode: str = "fan_in",
                 nonlinearity: str = "leaky_relu"):
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(f"HeUniform: mode must be 'fan_in' or 'fan_out', got {mode!r}")
        self.negative_slope, self.mode, self.nonlinearity = negative_slope, mode, nonlinearity

    def _sample(self, shape):
        fan_in, fan_out = _fans(shape)
        fan = fan_in if self.mode == "fan_in" else fan_out
        bound = _gain(self.nonlinearity, self.negative_slope) * math.sqrt(3.0 / fan)
        return np.random.uniform(-bound, bound, shape)


class HeNormal(HeUniform):
    """Kaiming normal: N(0, (gain / sqrt(fan))**2). Example: ``HeNormal(mode='fan_out')``."""

    def _sample(self, shape):
        fan_in, fan_out = _fans(shape)
        fan = fan_in if self.mode == "fan_in" else fan_out
        return np.random.normal(0.0, _gain(self.nonlinearity, self.negative_slope)
                                / math.sqrt(fan), shape)


class XavierUniform(Initializer):
    """Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).

    Example: ``XavierUniform()``.
    """

    def __init__(self, gain: float = 1):
        self.gain = gain

    def _sample(self, shape):
        fan_in, fan_out = _fans(shape)
        bound = self.gain * math.sqrt(6.0 / (fan_in + fan_out))
        return np.random.uniform(-bound, bound, shape)


class XavierNormal(XavierUniform):
    """Glorot normal: N(0, gain**2 * 2 / (fan_in + fan_out)). Example: ``XavierNormal()``."""

    def _sample(self, shape):
        fan_in, fan_out = _fans(shape)
        return np.random.normal(0.0, self.gain * math.sqrt(2.0 / (fan_in + fan_out)), shape)


class Constant(Initializer):
    """Every element equals ``value``. Example: ``Constant(0.1)``."""

    def __init__(self, value):
        self.value = value

    def _sample(self, shape):
        return np.full(shape, self.value)


class Zero(Constant):
    """All zeros. Example: ``Zero()``."""

    def __init__(self):
        super().__init__(0)


class One(Constant):
    """All ones. Example: ``One()``."""

    def __init__(self):
        super().__init__(1)


_BY_NAME = {
    "normal": Normal, "truncatednormal": TruncatedNormal, "uniform": Uniform,
    "heuniform": HeUniform, "henormal": HeNormal, "xavieruniform": XavierUniform,
    "xaviernormal": XavierNormal, "zeros": Zero, "zero": Zero, "ones": One, "one": One,
}


def initializer(init, shape, dtype=np.float32) -> np.ndarray:
    """A new array of ``shape`` filled by ``init``.

    ``init`` is an :class:`Initializer`, a name (``'normal'``, ``'zeros'``,
    ``'ones'``, ``'uniform'``, ``'he_uniform'``, ``'he_normal'``,
    ``'xavier_uniform'``, ``'xavier_normal'``, ``'truncated_normal'``), a
    number (constant) or an array of exactly ``shape``.

    Example: ``initializer('he_uniform', (16, 8))``.
    """
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if isinstance(init, str):
        key = init.lower().replace("_", "")
        if key not in _BY_NAME:
            raise ValueError(f"unknown initializer {init!r}; use one of "
                             f"'normal', 'uniform', 'zeros', 'ones', 'he_uniform', "
                             f"'he_normal', 'xavier_uniform', 'xavier_normal', "
                             f"'truncated_normal', or an Initializer instance")
        init = _BY_NAME[key]()
    if isinstance(init, Initializer):
        return init.init(shape, dtype)
    if isinstance(init, (int, float, np.number)):
        return np.full(shape, init, dtype)
    arr = np.array(init, dtype=dtype, subok=False)
    if arr.shape != shape:
        raise ValueError(f"initializer: the given array has shape {arr.shape}, "
                         f"expected {shape}")
    return arr
