"""Loss cells with MindSpore's constructor signatures and defaults.

Each ``construct`` is one call to the matching ``ops`` loss, so the
derivative comes from that op's rule.  An invalid ``reduction`` is accepted
by the constructor and refused when the loss is called, as in MindSpore.

Usage::

    >>> from sourcegrad import nn
    >>> loss_fn = nn.BCEWithLogitsLoss()
    >>> loss = loss_fn(logits, labels)                    # doctest: +SKIP
"""
from __future__ import annotations

from sourcegrad import ops
from sourcegrad.nn.cell import Cell

__all__ = ["LossBase", "BCEWithLogitsLoss", "BCELoss", "MSELoss", "L1Loss",
           "CrossEntropyLoss"]


class LossBase(Cell):
    """Base of the loss cells: stores ``reduction`` ('mean', 'sum' or 'none')."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def extend_repr(self):
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(LossBase):
    """Binary cross-entropy on logits (see ``ops.binary_cross_entropy_with_logits``).

    Example: ``nn.BCEWithLogitsLoss(pos_weight=Tensor([2.0, 1.0]))(logits, labels)``.
    """

    def __init__(self, reduction="mean", weight=None, pos_weight=None):
        super().__init__(reduction)
        self.weight = weight
        self.pos_weight = pos_weight

    def construct(self, logits, labels):
        return ops.binary_cross_entropy_with_logits(logits, labels, self.weight,
                                                    self.pos_weight, self.reduction)


class BCELoss(LossBase):
    """Binary cross-entropy on probabilities (see ``ops.binary_cross_entropy``).

    Example: ``nn.BCELoss()(ops.sigmoid(z), labels)``.
    """

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.weight = weight

    def construct(self, logits, labels):
        return ops.binary_cross_entropy(logits, labels, self.weight, self.reduction)


class MSELoss(LossBase):
    """Mean squared error. Example: ``nn.MSELoss()(pred, target)``."""

    def construct(self, logits, labels):
        return ops.mse_loss(logits, labels, self.reduction)


class L1Loss(LossBase):
    """Mean absolute error. Example: ``nn.L1Loss(reduction='sum')(pred, target)``."""

    def construct(self, logits, labels):
        return ops.l1_loss(logits, labels, self.reduction)


class CrossEntropyLoss(LossBase):
    """Cross-entropy on logits with class-index or probability targets (see ``ops.cross_entropy``).

    Example: ``nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)``.
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def construct(self, logits, labels):
        return ops.cross_entropy(logits, labels, self.weight, self.ignore_index,
                                 self.reduction, self.label_smoothing)
