"""``sourcegrad.nn``: MindSpore-style cells, layers, losses and optimizers.

Usage::

    >>> from sourcegrad import nn
    >>> model = nn.SequentialCell(nn.Dense(4, 8, activation="relu"), nn.Dense(8, 1))
    >>> loss_fn = nn.BCEWithLogitsLoss()
    >>> opt = nn.Adam(model.trainable_params(), learning_rate=1e-3)
"""
from sourcegrad.nn import init
from sourcegrad.nn.cell import Cell
from sourcegrad.nn.layers import (CellList, Dense, Dropout, Flatten, LogSoftmax, ReLU,
                                  SequentialCell, Sigmoid, Softmax, Tanh, get_activation)
from sourcegrad.nn.losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss,
                                  LossBase, MSELoss, SoftmaxCrossEntropyWithLogits)
from sourcegrad.nn.optim import SGD, Adam, Momentum, Optimizer
from sourcegrad.nn.wrap import TrainOneStepCell, WithLossCell
from sourcegrad.tensor import Parameter, ParameterTuple

__all__ = [
    "init", "Cell", "Parameter", "ParameterTuple",
    "Dense", "ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten", "Dropout",
    "SequentialCell", "CellList", "get_activation",
    "LossBase", "BCEWithLogitsLoss", "BCELoss", "MSELoss", "L1Loss", "CrossEntropyLoss",
    "SoftmaxCrossEntropyWithLogits",
    "Optimizer", "SGD", "Momentum", "Adam", "WithLossCell", "TrainOneStepCell",
]
