"""Layers: ``Dense``, activations, ``Flatten``, ``Dropout`` and containers.

Every ``construct`` here is differentiated from its source by sourcegrad,
so it is written as plain Python over ``ops``: assignments, ``ops.*``
calls, attribute reads and ``if`` on attributes.

Usage::

    >>> from sourcegrad import nn
    >>> net = nn.SequentialCell(nn.Dense(4, 8), nn.ReLU(), nn.Dense(8, 1))
    >>> [p.name for p in net.trainable_params()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
"""
from __future__ import annotations

import math

import numpy as np

from sourcegrad import ops
from sourcegrad.nn.cell import Cell
from sourcegrad.nn.init import HeUniform, Uniform, initializer
from sourcegrad.tensor import Parameter

__all__ = ["Dense", "ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten",
           "Dropout", "SequentialCell", "CellList", "get_activation"]


class ReLU(Cell):
    """``max(x, 0)``. Example: ``nn.ReLU()(x)``."""

    def construct(self, x):
        return ops.relu(x)


class Sigmoid(Cell):
    """``1 / (1 + exp(-x))``. Example: ``nn.Sigmoid()(x)``."""

    def construct(self, x):
        return ops.sigmoid(x)


class Tanh(Cell):
    """Hyperbolic tangent. Example: ``nn.Tanh()(x)``."""

    def construct(self, x):
        return ops.tanh(x)


class Softmax(Cell):
    """Softmax along ``axis``. Example: ``nn.Softmax(axis=-1)(logits)``."""

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def construct(self, x):
        return ops.softmax(x, self.axis)

    def extend_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Cell):
    """Log-softmax along ``axis``. Example: ``nn.LogSoftmax()(logits)``."""

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def construct(self, x):
        return ops.log_softmax(x, self.axis)

    def extend_repr(self):
        return f"axis={self.axis}"


_ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax,
                "logsoftmax": LogSoftmax}


def get_activation(name):
    """The activation cell for ``name`` (``'relu'``, ``'sigmoid'``, ``'tanh'``, ``'softmax'``)."""
    if name is None or isinstance(name, Cell):
        return name
    key = str(name).lower().replace("_", "")
    if key not in _ACTIVATIONS:
        raise KeyError(f"unknown activation {name!r}; use one of {sorted(_ACTIVATIONS)} "
                       f"or pass a Cell such as nn.ReLU()")
    return _ACTIVATIONS[key]()


class Dense(Cell):
    """Fully connected layer: ``activation(x @ weight.T + bias)``, weight of shape (out, in).

    Defaults as in MindSpore 2.x: weight ``HeUniform(sqrt(5))``, bias
    ``Uniform(1 / sqrt(in_channels))``; ``activation`` is a name or a Cell.

    Example::

        >>> layer = Dense(3, 2, activation="relu")
        >>> layer(np.ones((4, 3), np.float32)).shape
        (4, 2)
    """

    def __init__(self, in_channels, out_channels, weight_init=None, bias_init=None,
                 has_bias=True, activation=None, dtype=np.float32):
        super().__init__()
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        if weight_init is None:
            weight_init = HeUniform(math.sqrt(5))
        self.weight = Parameter(initializer(weight_init, (self.out_channels, self.in_channels),
                                            dtype), name="weight")
        self.has_bias = bool(has_bias)
        self.bias = None
        if self.has_bias:
            if bias_init is None:
                bias_init = Uniform(1 / math.sqrt(self.in_channels))
            self.bias = Parameter(initializer(bias_init, (self.out_channels,), dtype),
                                  name="bias")
        self.activation = get_activation(activation)
        self.activation_flag = self.activation is not None

    def construct(self, x):
        if self.has_bias:
            y = ops.dense(x, self.weight, self.bias)
        else:
            y = ops.dense(x, self.weight)
        if self.activation_flag:
            y = self.activation(y)
        return y

    def extend_repr(self):
        text = (f"input_channels={self.in_channels}, output_channels={self.out_channels}, "
                f"has_bias={self.has_bias}")
        if self.activation_flag:
            text += f", activation={self.activation!r}"
        return text


class Flatten(Cell):
    """Merge axes ``start_dim..end_dim`` (all but the batch axis by default).

    Example: ``nn.Flatten()(images)``.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def construct(self, x):
        return ops.flatten(x, start_dim=self.start_dim, end_dim=self.end_dim)


class Dropout(Cell):
    """Zero elements with probability ``p`` while training; identity in eval mode.

    ``keep_prob`` (MindSpore's older spelling) means ``p = 1 - keep_prob``.
    Cells start in eval mode, as in MindSpore: call ``net.set_train()``.

    Example::

        >>> drop = Dropout(p=0.2).set_train()
    """

    def __init__(self, keep_prob=0.5, p=None, dtype=np.float32):
        super().__init__()
        if p is None:
            p = 1.0 - keep_prob
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p (the probability of zeroing) must be in [0, 1), "
                             f"got {p!r}; for keep_prob use 0 < keep_prob <= 1")
        self.p = float(p)
        self.keep_prob = 1.0 - self.p

    def construct(self, x):
        # One exit: the engine wants a single return at the end.
        y = x
        if self.training:
            y = ops.dropout(x, p=self.p)
        return y

    def extend_repr(self):
        return f"p={self.p}"


class SequentialCell(Cell):
    """Cells applied one after another; sub-cells are named ``'0'``, ``'1'``, ...

    Example: ``nn.SequentialCell([nn.Dense(4, 8), nn.ReLU()])`` or ``nn.SequentialCell(a, b)``.
    """

    def __init__(self, *args):
        super().__init__()
        self.cell_list = []
        cells = args
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            cells = args[0]
        elif len(args) == 1 and isinstance(args[0], dict):
            for name, cell in args[0].items():
                self._add(name, cell)
            return
        for cell in cells:
            self.append(cell)

    def _add(self, name, cell):
        if not isinstance(cell, Cell):
            raise TypeError(f"{type(self).__name__}: item {name!r} must be a Cell, got "
                            f"{type(cell).__name__}; wrap functions in a Cell subclass")
        self.insert_child_to_cell(str(name), cell)
        self.cell_list.append(cell)

    def append(self, cell):
        """Add ``cell`` at the end."""
        self._add(len(self.cell_list), cell)

    def __len__(self):
        return len(self.cell_list)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self.cell_list[index])
        return self.cell_list[index]

    def __iter__(self):
        return iter(self.cell_list)

    def construct(self, input_data):
        for cell in self.cell_list:
            input_data = cell(input_data)
        return input_data


class CellList(SequentialCell):
    """A list of cells, registered as ``'0'``, ``'1'``, ... (no ``construct``).

    Example: ``self.blocks = nn.CellList([nn.Dense(4, 4) for _ in range(3)])``.
    """

    def extend(self, cells):
        """Append each of ``cells``."""
        for cell in cells:
            self.append(cell)
        return self

    def construct(self, *inputs):
        raise NotImplementedError("CellList has no construct(); iterate over it in your "
                                  "own construct, or use nn.SequentialCell")
