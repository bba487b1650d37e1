"""Loss modules (each calls its ``nn.functional`` form). ``reduction`` is "none", "mean" or "sum";
the call is ``loss_fn(input, target)`` with PyTorch's argument order (prediction first)."""

from __future__ import annotations

import numpy as np

from groundup.nn import functional as F
from groundup.nn.module import Module
from groundup.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else
                             (weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))))


class MSELoss(_Loss):
    """Mean squared error (x − y)²; input and target of the same shape."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x − y|; input and target of the same shape."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber: ½e² if |e| < δ else δ(|e| − ½δ), e = x − y."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1: ½e²/β if |e| < β else |e| − ½β."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities: −w[y log p + (1 − y) log(1 − p)] (logs clamped at
    −100); input and target of the same shape."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on logits (sigmoid fused in, stable for any z):
    −w[pw·y log σ(z) + (1 − y) log(1 − σ(z))]; ``pos_weight`` (per class, last axis) scales the
    positive term."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else
                             (pos_weight if isinstance(pos_weight, Tensor)
                              else Tensor(np.asarray(pos_weight))))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy from logits (log-softmax and NLL fused in one stable op).

    input (N, C) (or (C,), (N, C, d…)); target class indices (N) (int) or class probabilities
    (N, C) (float). loss_i = −Σ_c w_c t_ic log softmax(x_i)_c with label smoothing
    t ← (1 − ε)t + ε/C; targets equal to ``ignore_index`` are skipped; "mean" divides by Σ w_{y_i}.
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after LogSoftmax): −w_{y_i}·x[i, y_i]."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(Module):
    """KL divergence p·(log p − input) with input = log q (and target = log p if ``log_target``);
    use reduction="batchmean" for the mathematical KL per sample."""

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"KLDivLoss: reduction={reduction!r} is not valid; help: use "
                             "'batchmean', 'sum', 'mean' or 'none'")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class HingeLoss(_Loss):
    """The SVM hinge loss max(0, margin − y·f) for labels y ∈ {−1, +1} and scores f."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_loss(input, target, margin=self.margin, reduction=self.reduction)


class FocalLoss(_Loss):
    """Focal loss −α_t (1 − p̂_t)^γ log p̂_t from logits: binary (0/1 targets of the input's shape,
    p̂ = σ(z)) or multi-class (input (N, C), class-index targets, p̂ = softmax). γ = 0, α = 1 is the
    cross-entropy; larger γ down-weights easy examples."""

    def __init__(self, alpha=0.25, gamma: float = 2.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha, self.gamma = alpha, gamma

    def forward(self, input, target):
        return F.focal_loss(input, target, alpha=self.alpha, gamma=self.gamma,
                            reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"
