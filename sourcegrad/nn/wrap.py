"""MindSpore's training wrappers: ``WithLossCell`` and ``TrainOneStepCell``.

``TrainOneStepCell(WithLossCell(net, loss_fn), optimizer)`` is MindSpore's
older one-call training step: calling it computes the loss and the gradient
of the network's trainable weights, and lets the optimizer update them.

Usage::

    >>> from sourcegrad import nn
    >>> net = nn.Dense(3, 1)
    >>> step = nn.TrainOneStepCell(nn.WithLossCell(net, nn.MSELoss()),
    ...                            nn.SGD(net.trainable_params(), 0.1))
    >>> loss = step(x, y)                                   # doctest: +SKIP
"""
from __future__ import annotations

from sourcegrad.api import value_and_grad
from sourcegrad.nn.cell import Cell

__all__ = ["WithLossCell", "TrainOneStepCell"]


class WithLossCell(Cell):
    """``loss_fn(backbone(data), label)``. Example: ``nn.WithLossCell(net, nn.MSELoss())``."""

    def __init__(self, backbone, loss_fn):
        super().__init__(auto_prefix=False)
        self._backbone = backbone
        self._loss_fn = loss_fn

    def construct(self, data, label):
        out = self._backbone(data)
        return self._loss_fn(out, label)

    @property
    def backbone_network(self):
        """The wrapped network."""
        return self._backbone


class TrainOneStepCell(Cell):
    """One training step: the loss of ``network(*inputs)``, its gradient with respect
    to ``optimizer.parameters`` (scaled by ``sens``), and the optimizer's update.

    Example: ``loss = nn.TrainOneStepCell(loss_net, opt)(x, y)``.
    """

    def __init__(self, network, optimizer, sens=1.0):
        super().__init__(auto_prefix=False)
        self.network = network
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.sens = sens
        self.grad_fn = value_and_grad(network, None, self.weights)

    def construct(self, *inputs):
        loss, grads = self.grad_fn(*inputs)
        if self.sens != 1.0:
            grads = tuple(g * self.sens for g in grads)
        self.optimizer(grads)
        return loss
