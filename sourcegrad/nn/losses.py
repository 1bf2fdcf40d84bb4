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
           "CrossEntropyLoss", "SoftmaxCrossEntropyWithLogits"]


class LossBase(Cell):
    """Base of the loss cells: stores ``reduction`` ('mean', 'sum' or 'none')."""

    def __init__(self, reduction="mean"):
        super().__init__()
        if type(self).__module__ != __name__ and reduction not in ("mean", "sum", "none"):
            # a user's loss reduces with get_loss: check now, as MindSpore's LossBase does
            # (the built-in losses refuse a bad reduction when called)
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction

    def extend_repr(self):
        return f"reduction={self.reduction!r}"

    def get_loss(self, x, weights=1.0):
        """``x * weights`` reduced by ``self.reduction`` (for losses written as a
        subclass: ``return self.get_loss(ops.abs(target - predict))``)."""
        x = x * weights
        if self.reduction == "mean":
            x = ops.mean(x)
        elif self.reduction == "sum":
            x = ops.sum(x)
        return x


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


class SoftmaxCrossEntropyWithLogits(LossBase):
    """Cross-entropy of ``softmax(logits)`` per sample; ``sparse=True`` takes class
    indices, else one-hot (or probability) labels.  ``reduction`` defaults to
    ``'none'``, as in MindSpore.

    Example: ``nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction='mean')(logits, y)``.
    """

    def __init__(self, sparse=False, reduction="none"):
        super().__init__(reduction)
        self.sparse = sparse

    def construct(self, logits, labels):
        return ops.cross_entropy(logits, labels, None, -100, self.reduction, 0.0)

    def extend_repr(self):
        return f"sparse={self.sparse!r}, reduction={self.reduction!r}"
